/*
 * Unit tests of the body half of src/mime: transfer decoding, flowed text,
 * the HTML converter, the part tree and its limits, the renderer, mailcap
 * and attachment saving.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "mime.h"
#include "util.h"
#include "xmalloc.h"
#include "../../../src/mime/mime-private.h"
#include "test.h"

static char *
cte(enum mime_cte e, const char *in)
{
	struct buf	b = BUF_INIT(0);
	char		*s;
	size_t		 n;

	mime_cte_decode(e, in, strlen(in), &b);
	/* The size without decoding must agree with the decoding. */
	T_EQ_INT(mime_cte_size(e, in, strlen(in)), b.len);
	s = mime_steal(&b, &n);
	return s;
}

#define T_CTE(e, in, want) do {						\
	char *_s = cte(e, in);						\
	T_EQ_STR(_s, want);						\
	free(_s);							\
} while (0)

static void
test_base64(void)
{
	T_CTE(MIME_CTE_BASE64, "aGVsbG8gd29ybGQ=", "hello world");
	T_CTE(MIME_CTE_BASE64, "aGVs\r\nbG8g\nd29y\r\nbGQ=\r\n", "hello world");
	/* Missing padding, junk characters skipped. */
	T_CTE(MIME_CTE_BASE64, "aGVsbG8gd29ybGQ", "hello world");
	T_CTE(MIME_CTE_BASE64, "aGV*sb!G8g\x01" "d29y bGQ=", "hello world");
	/* Concatenated encodings: padding in the middle restarts. */
	T_CTE(MIME_CTE_BASE64, "Zm8=YmFy", "fobar");
	T_CTE(MIME_CTE_BASE64, "Zg==Zg==", "ff");
	/* A lone trailing symbol holds no whole byte. */
	T_CTE(MIME_CTE_BASE64, "Zm9vY", "foo");
	T_CTE(MIME_CTE_BASE64, "", "");
	T_CTE(MIME_CTE_BASE64, "====", "");
	T_EQ_INT(mime_cte_parse(" Base64 ", 8), MIME_CTE_BASE64);
	T_EQ_INT(mime_cte_parse("QUOTED-PRINTABLE", 16), MIME_CTE_QP);
	T_EQ_INT(mime_cte_parse("8bit", 4), MIME_CTE_7BIT);
	T_EQ_INT(mime_cte_parse("x-unknown", 9), MIME_CTE_7BIT);
}

static void
test_qp(void)
{
	T_CTE(MIME_CTE_QP, "caf=C3=A9", "caf\xc3\xa9");
	T_CTE(MIME_CTE_QP, "caf=c3=a9", "caf\xc3\xa9");
	/* Soft breaks, also with blanks after the '='. */
	T_CTE(MIME_CTE_QP, "long=\r\nline", "longline");
	T_CTE(MIME_CTE_QP, "long=\nline", "longline");
	T_CTE(MIME_CTE_QP, "long= \t\r\nline", "longline");
	T_CTE(MIME_CTE_QP, "end=", "end");
	/* Malformed '=' sequences are kept literally. */
	T_CTE(MIME_CTE_QP, "a=ZZb", "a=ZZb");
	T_CTE(MIME_CTE_QP, "100% = 1=", "100% = 1");
	T_CTE(MIME_CTE_QP, "x=4", "x=4");
	T_CTE(MIME_CTE_QP, "=3D=3d", "==");
	/* Line breaks become LF; an encoded CR stays. */
	T_CTE(MIME_CTE_QP, "keep\r\nbreaks\n=0D=0A\r", "keep\nbreaks\n\r\n\r");
	T_CTE(MIME_CTE_7BIT, "a\r\nb\r\n\rc\r", "a\nb\n\rc\r");
	T_EQ_INT(mime_cte_parse("binary", 6), MIME_CTE_BINARY);
}

static char *
flowed(const char *in, bool delsp, int width)
{
	struct buf	b = BUF_INIT(0);

	mime_flowed(in, strlen(in), delsp, width, &b);
	return mime_steal(&b, NULL);
}

#define T_FLOWED(in, delsp, w, want) do {				\
	char *_s = flowed(in, delsp, w);				\
	T_EQ_STR(_s, want);						\
	free(_s);							\
} while (0)

static void
test_flowed(void)
{
	T_FLOWED("one \ntwo \nthree\n", false, 0, "one two three\n");
	T_FLOWED("one \ntwo\n", true, 0, "onetwo\n");
	/* Quote depth: a change ends the paragraph. */
	T_FLOWED("> a \n> b\n>> c \n>> d\n", false, 0, "> a b\n>> c d\n");
	T_FLOWED("> a \nb\n", false, 0, "> a \nb\n");
	/* Space-stuffing is removed; the signature separator is fixed. */
	T_FLOWED(" From here \non\n", false, 0, "From here on\n");
	T_FLOWED("text\n-- \nsig \nline\n", false, 0, "text\n-- \nsig line\n");
	/* Wrapped again to the width, never inside a word. */
	T_FLOWED("aaa bbb \nccc ddd eee\n", false, 12, "aaa bbb ccc\nddd eee\n");
	T_FLOWED("averyveryverylongword short\n", false, 12,
	    "averyveryverylongword\nshort\n");
	/* Wide characters count two columns. */
	T_FLOWED("가나다 라마 \n바사\n", false, 12, "가나다 라마\n바사\n");
	T_FLOWED("", false, 0, "");
	T_FLOWED("no newline at end ", false, 0, "no newline at end \n");
}

static char *
html(const char *in, int width)
{
	struct buf	b = BUF_INIT(0);

	mime_html_to_text(in, strlen(in), width, &b);
	return mime_steal(&b, NULL);
}

#define T_HTML(in, w, want) do {					\
	char *_s = html(in, w);						\
	T_EQ_STR(_s, want);						\
	free(_s);							\
} while (0)

static void
test_html(void)
{
	T_HTML("<p>Hello <b>world</b></p><p>Second</p>", 0,
	    "Hello world\n\nSecond\n");
	T_HTML("<html><head><title>T</title><style>p{}</style></head>"
	    "<body>Text<script>alert(1)</script> here</body></html>", 0,
	    "Text here\n");
	/* A <head> that is never closed does not hide the body. */
	T_HTML("<head><title>x</title><body>Visible", 0, "Visible\n");
	T_HTML("a&amp;b &lt;tag&gt; &quot;q&quot; &eacute;&#233;&#xE9; "
	    "&nbsp;x &bogus; &amp", 0,
	    "a&b <tag> \"q\" ééé  x &bogus; &amp\n");
	/* Numeric references: windows-1252 for 128-159, U+FFFD for bad ones. */
	T_HTML("&#150;&#0;&#xD800;&#1114112;", 0,
	    "\xe2\x80\x93\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n");
	T_HTML("line<br>break<br/>again", 0, "line\nbreak\nagain\n");
	T_HTML("<ul><li>one<li>two</ul><ol><li>a</li><li>b</li></ol>", 0,
	    "* one\n* two\n\n1. a\n2. b\n");
	T_HTML("<blockquote>quoted <p>para</blockquote>after", 0,
	    "> quoted\n>\n> para\n\nafter\n");
	T_HTML("<pre>  keep   spaces\n\tand lines</pre>x", 0,
	    "  keep   spaces\n\tand lines\n\nx\n");
	T_HTML("  lots   of\n\n white   space  ", 0, "lots of white space\n");
	T_HTML("<!-- comment <p> -->text<!DOCTYPE html>", 0, "text\n");
	T_HTML("<img src=x alt=\"A picture\"> and <img src=y>", 0,
	    "[A picture] and\n");
	/* Links as footnotes, one number per target. */
	T_HTML("<a href=\"http://a.example/\">A</a> <a href='http://b.example/?x=1&amp;y=2'>B</a> "
	    "<a href=http://a.example/>again</a> <a href=\"#top\">top</a> "
	    "<a href=\"javascript:x()\">js</a>", 0,
	    "A[1] B[2] again[1] top js\n\n[1] http://a.example/\n"
	    "[2] http://b.example/?x=1&y=2\n");
	/* Wrapping at the width. */
	T_HTML("<p>aaa bbb ccc ddd eee fff ggg</p>", 12,
	    "aaa bbb ccc\nddd eee fff\nggg\n");
	/* Text that only looks like tags. */
	T_HTML("a < b and c<3 and <p", 0, "a < b and c<3 and <p\n");
	T_HTML("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
	    0, "a b\nc\n");
	T_HTML("", 0, "");
}

/* Linear time on hostile HTML: many '<' and no '>'. */
static void
test_html_linear(void)
{
	size_t		 n = 2 * 1024 * 1024, i;
	char		*s = xmalloc(n + 1);
	struct buf	 b = BUF_INIT(0);
	uint64_t	 t0;

	for (i = 0; i < n; i++)
		s[i] = "<a"[i % 2];
	s[n] = '\0';
	t0 = now_ms();
	mime_html_to_text(s, n, 78, &b);
	T_ASSERT(now_ms() - t0 < 2000);
	T_ASSERT(b.len > 0);
	buf_free(&b);
	/* One huge word. */
	memset(s, 'x', n);
	t0 = now_ms();
	mime_html_to_text(s, n, 78, &b);
	T_ASSERT(now_ms() - t0 < 2000);
	T_EQ_INT(b.len, n + 1);
	buf_free(&b);
	free(s);
}

/* Render with options; returns the view (caller frees). */
static struct mime_view *
render(const char *msg, const struct mime_render_opts *o)
{
	struct mime_view	*v = NULL;
	struct error		 err;
	struct mime_render_opts	 none;

	if (o == NULL) {
		memset(&none, 0, sizeof none);
		none.mailcap = "";
		o = &none;
	}
	T_EQ_INT(mime_render(msg, strlen(msg), o, &v, &err), 0);
	return v;
}

static bool
has(const struct mime_view *v, const char *frag)
{
	bool ok = v != NULL && strstr(v->body, frag) != NULL;

	if (!ok)
		fprintf(stderr, "body lacks \"%s\":\n%s\n", frag,
		    v != NULL ? v->body : "(null)");
	return ok;
}

static void
test_render_basic(void)
{
	struct mime_view	*v;
	struct error		 err;

	v = render("Subject: hi\r\nFrom: A <a@x>\r\nTo: b@x, c@x\r\n"
	    "Cc: \"D\" <d@x>\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
	    "\r\nHello\r\nworld\r\n", NULL);
	T_EQ_STR(v->subject, "hi");
	T_EQ_STR(v->from, "A <a@x>");
	T_EQ_INT(v->nto, 2);
	T_EQ_STR(v->to[1], "c@x");
	T_EQ_INT(v->ncc, 1);
	T_EQ_STR(v->cc[0], "D <d@x>");
	T_ASSERT(v->has_date);
	T_EQ_STR(v->body, "Hello\nworld\n");
	T_EQ_STR(v->headers, "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
	    "From: A <a@x>\nTo: b@x, c@x\nCc: D <d@x>\nSubject: hi\n");
	mime_view_free(&v);
	T_ASSERT(v == NULL);

	/* Empty input is the one error. */
	T_EQ_INT(mime_render("", 0, NULL, &v, &err), -1);
	T_ASSERT(v == NULL);

	/* No header at all: everything is body. */
	v = render("just text\nno headers\n", NULL);
	T_EQ_STR(v->body, "just text\nno headers\n");
	T_EQ_STR(v->subject, "");
	mime_view_free(&v);

	/* CR-only line ends, NUL bytes. */
	v = render("Subject: cr\r\rline1\rline2\r", NULL);
	T_EQ_STR(v->subject, "cr");
	T_EQ_STR(v->body, "line1\nline2\n");
	mime_view_free(&v);
	{
		static const char nul[] = "Subject: n\n\na\0b\n";
		struct mime_render_opts o;

		memset(&o, 0, sizeof o);
		o.mailcap = "";
		T_EQ_INT(mime_render(nul, sizeof nul - 1, &o, &v, &err), 0);
		T_EQ_STR(v->body, "a^@b\n");
		mime_view_free(&v);
	}
}

static void
test_render_headers_all(void)
{
	struct mime_view	*v;
	struct mime_render_opts	 o;

	memset(&o, 0, sizeof o);
	o.mailcap = "";
	o.headers_all = true;
	v = render("Received: by x\r\nX-Evil: \x1b]52;c;AAAA\x07\r\n"
	    "Subject: =?utf-8?q?s=C3=BC?=\r\n\r\nb\r\n", &o);
	T_EQ_STR(v->headers, "Received: by x\nX-Evil: ^[]52;c;AAAA^G\n"
	    "Subject: sü\n");
	mime_view_free(&v);
}

/* The configured list: in its order, missing ones left out, made safe. */
static void
test_render_headers_list(void)
{
	struct mime_view	*v;
	struct mime_render_opts	 o;

	memset(&o, 0, sizeof o);
	o.mailcap = "";
	o.headers = " Subject, X-Mailer From  Organization";
	v = render("From: =?utf-8?q?J=C3=BCrgen?= <j@x.org>\r\n"
	    "To: b@x.org\r\nX-Mailer: \x1b[31mevil\r\n"
	    "Subject: hi\r\n\r\nb\r\n", &o);
	T_EQ_STR(v->headers, "Subject: hi\nX-Mailer: ^[[31mevil\n"
	    "From: Jürgen <j@x.org>\n");
	mime_view_free(&v);
	/* h (all) still shows every field. */
	o.headers_all = true;
	v = render("To: b@x.org\r\nSubject: hi\r\n\r\nb\r\n", &o);
	T_EQ_STR(v->headers, "To: b@x.org\nSubject: hi\n");
	mime_view_free(&v);
}

static void
test_render_alternative(void)
{
	static const char msg[] =
	    "Content-Type: multipart/alternative; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nplain version\n"
	    "--b\nContent-Type: text/html\n\n<p>html <b>version</b></p>\n"
	    "--b--\n";
	static const char blank[] =
	    "Content-Type: multipart/alternative; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\n  \n\n"
	    "--b\nContent-Type: text/html\n\n<p>only html</p>\n--b--\n";
	struct mime_view	*v;
	struct mime_render_opts	 o;

	v = render(msg, NULL);
	T_EQ_STR(v->body, "plain version\n");
	T_EQ_INT(v->natt, 0);
	mime_view_free(&v);
	memset(&o, 0, sizeof o);
	o.mailcap = "";
	o.alternative = "text/html text/plain";
	v = render(msg, &o);
	T_EQ_STR(v->body, "html version\n");
	mime_view_free(&v);
	/* A blank text/plain alternative is passed over. */
	v = render(blank, NULL);
	T_EQ_STR(v->body, "only html\n");
	mime_view_free(&v);
}

static void
test_render_structure(void)
{
	struct mime_view	*v;

	/* Missing close delimiter, empty part, part without headers. */
	v = render("Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "preamble\n--b\n\nno headers here\n--b\n--b\n"
	    "Content-Type: text/plain\n\nlast, unterminated\n", NULL);
	T_ASSERT(has(v, "no headers here\n"));
	T_ASSERT(has(v, "last, unterminated\n"));
	T_ASSERT(strstr(v->body, "preamble") == NULL);
	mime_view_free(&v);
	/* No boundary parameter, or no delimiter: shown as text. */
	v = render("Content-Type: multipart/mixed\n\nbody text\n", NULL);
	T_EQ_STR(v->body, "body text\n");
	mime_view_free(&v);
	v = render("Content-Type: multipart/mixed; boundary=zz\n\nbody\n", NULL);
	T_EQ_STR(v->body, "body\n");
	mime_view_free(&v);
	/* A boundary that is a prefix of the inner one. */
	v = render("Content-Type: multipart/mixed; boundary=ab\n\n--ab\n"
	    "Content-Type: multipart/alternative; boundary=abc\n\n--abc\n"
	    "Content-Type: text/plain\n\ninner\n--abc--\n--ab\n"
	    "Content-Type: text/plain\n\nouter\n--ab--\n", NULL);
	T_EQ_STR(v->body, "inner\n\nouter\n");
	mime_view_free(&v);
	/* Attachments: numbered, named, sized; a text attachment too. */
	v = render("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n"
	    "--b\nContent-Type: text/plain; name=notes.txt\n"
	    "Content-Disposition: attachment\n\nnotes\n"
	    "--b\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename*=utf-8''%E2%80%AEgnp.exe\n"
	    "\naGVsbG8=\n--b--\n", NULL);
	T_EQ_INT(v->natt, 2);
	T_EQ_STR(v->att[0].filename, "notes.txt");
	T_EQ_STR(v->att[0].type, "text/plain");
	T_EQ_INT(v->att[0].size, 5);
	/* The bidi override in a file name is shown, not obeyed. */
	T_EQ_STR(v->att[1].filename, "<U+202E>gnp.exe");
	T_EQ_INT(v->att[1].size, 5);
	T_ASSERT(has(v, "[-- Attachment #2: <U+202E>gnp.exe (image/png, 5 bytes) --]"));
	mime_view_free(&v);
	/* multipart/related: the root is shown, the image listed. */
	v = render("Content-Type: multipart/related; boundary=b; start=\"<r@x>\"\n\n"
	    "--b\nContent-Type: image/gif\nContent-ID: <i@x>\n\nGIF\n"
	    "--b\nContent-Type: text/html\nContent-ID: <r@x>\n\n<p>root</p>\n"
	    "--b--\n", NULL);
	T_EQ_STR(v->body, "root\n\n[-- Attachment #1: (image/gif, 3 bytes) --]\n");
	mime_view_free(&v);
	/* Digest: parts default to message/rfc822. */
	v = render("Content-Type: multipart/digest; boundary=b\n\n--b\n\n"
	    "Subject: first\n\none\n--b--\n", NULL);
	T_ASSERT(has(v, "Subject: first\n\none\n"));
	T_EQ_STR(v->att[0].type, "message/rfc822");
	mime_view_free(&v);
	/* A base64 message/rfc822 (not allowed, seen anyway). */
	v = render("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
	    "U3ViamVjdDogaW5uZXIKCmlubmVyIGJvZHkK\n", NULL);
	T_ASSERT(has(v, "Subject: inner\n\ninner body\n"));
	mime_view_free(&v);
}

/* 500 levels of nesting and 10,000 parts: bounded, fast, still rendered. */
static void
test_render_limits(void)
{
	struct buf		 b = BUF_INIT(0);
	struct mime_view	*v;
	uint64_t		 t0;
	int			 i;

	for (i = 0; i < 500; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n"
		    "--b%d\n", i, i);
	buf_printf(&b, "Content-Type: text/plain\n\ndeep\n");
	for (i = 499; i >= 0; i--)
		buf_printf(&b, "--b%d--\n", i);
	t0 = now_ms();
	v = render(b.data, NULL);
	T_ASSERT(now_ms() - t0 < 1000);
	T_ASSERT(has(v, "not opened: nesting limit"));
	T_EQ_INT(v->natt, 1);
	mime_view_free(&v);

	buf_reset(&b);
	buf_adds(&b, "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 10000; i++)
		buf_printf(&b, "--b\nContent-Type: application/x-%d\n\n%d\n", i, i);
	buf_adds(&b, "--b--\n");
	t0 = now_ms();
	v = render(b.data, NULL);
	T_ASSERT(now_ms() - t0 < 1000);
	T_EQ_INT(v->natt, 999);
	T_ASSERT(has(v, "[-- 9001 more parts not shown (limit 1000) --]"));
	mime_view_free(&v);

	/* A 100 KB header line. */
	buf_reset(&b);
	buf_adds(&b, "Subject: ");
	for (i = 0; i < 100 * 1024; i++)
		buf_addc(&b, "ab =?"[i % 5]);
	buf_adds(&b, "\n\nbody\n");
	t0 = now_ms();
	v = render(b.data, NULL);
	T_ASSERT(now_ms() - t0 < 1000);
	T_ASSERT(strlen(v->subject) > 90 * 1024);
	mime_view_free(&v);

	/* The output limit. */
	{
		struct mime_render_opts	o;

		memset(&o, 0, sizeof o);
		o.mailcap = "";
		o.limits.output_max = 1000;
		buf_reset(&b);
		buf_adds(&b, "Subject: big\n\n");
		for (i = 0; i < 5000; i++)
			buf_adds(&b, "line\n");
		v = render(b.data, &o);
		T_ASSERT(v->bodylen < 1200);
		T_ASSERT(has(v, "[-- output truncated at 1000 bytes --]"));
		mime_view_free(&v);
	}
	buf_free(&b);
}

static void
test_safe_filename(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} t[] = {
		{ "report.pdf", "report.pdf" },
		{ "../../etc/passwd", "passwd" },
		{ "/abs/path/x.txt", "x.txt" },
		{ "C:\\Users\\evil\\x.doc", "x.doc" },
		{ ".bashrc", "bashrc" },
		{ "...", "attachment-3" },
		{ "..", "attachment-3" },
		{ "", "attachment-3" },
		{ "a\x1b[31m\x07" "b", "a_[31m_b" },
		{ "\xe2\x80\xae" "gnp.exe", "_gnp.exe" },
		{ "x\xc2\x9b" "y", "x_y" },
		{ "bad\xff" "utf8", "bad_utf8" },
		{ "한국어 파일.txt", "한국어 파일.txt" },
		{ " .hidden ", "hidden" },
	};
	size_t	i;
	char	*s, *long_name;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		s = mime_safe_filename(t[i].in, 3);
		T_EQ_STR(s, t[i].out);
		free(s);
	}
	long_name = xmalloc(1001);
	memset(long_name, 'x', 1000);
	memcpy(long_name + 996, ".pdf", 5);
	s = mime_safe_filename(long_name, 1);
	T_EQ_INT(strlen(s), 200);
	T_ASSERT(strcmp(s + 196, ".pdf") == 0);
	free(s);
	/* Cut at a character boundary. */
	for (i = 0; i < 999; i += 3)
		memcpy(long_name + i, "\xea\xb0\x80", 3);
	long_name[999] = '\0';
	s = mime_safe_filename(long_name, 1);
	T_ASSERT(strlen(s) <= 200 && utf8_valid(s, strlen(s)));
	free(s);
	free(long_name);
}

static char *
mkdtemp_test(void)
{
	char	*d = xstrdup("/tmp/petrel-test-XXXXXX");

	T_ASSERT(mkdtemp(d) != NULL);
	return d;
}

static void
rm_rf(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		xasprintf(&p, "%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*f = fopen(path, "rb");
	char	*s = xmalloc(1 << 16);

	*lenp = 0;
	if (f == NULL)
		return s;
	*lenp = fread(s, 1, (1 << 16) - 1, f);
	s[*lenp] = '\0';
	fclose(f);
	return s;
}

static void
test_save(void)
{
	static const char msg[] =
	    "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nbody\n"
	    "--b\nContent-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n"
	    "Content-Disposition: attachment; filename=\"../../x.bin\"\n\n"
	    "AAEC/w==\n"
	    "--b\nContent-Type: message/rfc822\n\nSubject: fwd\n\nfw\n--b--\n";
	struct mime_view	*v;
	struct error		 err;
	char			*dir, *path, *want, *data, *victim;
	size_t			 len;
	struct stat		 st;

	dir = mkdtemp_test();
	v = render(msg, NULL);
	T_EQ_INT(v->natt, 2);
	T_EQ_STR(v->att[0].filename, "../../x.bin");
	T_EQ_INT(mime_view_save(v, 1, dir, &path, &err), 0);
	xasprintf(&want, "%s/x.bin", dir);
	T_EQ_STR(path, want);
	data = slurp(path, &len);
	T_EQ_MEM(data, len, "\x00\x01\x02\xff", 4);
	T_ASSERT(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
	free(data);
	free(path);
	free(want);
	/* Never over an existing file, and not through a symlink either. */
	T_EQ_INT(mime_view_save(v, 1, dir, &path, &err), 0);
	xasprintf(&want, "%s/x-1.bin", dir);
	T_EQ_STR(path, want);
	free(path);
	free(want);
	xasprintf(&victim, "%s/victim", dir);
	xasprintf(&want, "%s/x-2.bin", dir);
	T_EQ_INT(symlink(victim, want), 0);
	T_EQ_INT(mime_view_save(v, 1, dir, &path, &err), 0);
	free(want);
	xasprintf(&want, "%s/x-3.bin", dir);
	T_EQ_STR(path, want);
	T_ASSERT(stat(victim, &st) == -1);
	free(path);
	free(want);
	free(victim);
	/* An unnamed forwarded message. */
	T_EQ_INT(mime_view_save(v, 2, dir, &path, &err), 0);
	xasprintf(&want, "%s/attachment-2.eml", dir);
	T_EQ_STR(path, want);
	data = slurp(path, &len);
	T_EQ_STR(data, "Subject: fwd\n\nfw");
	free(data);
	free(path);
	free(want);
	/* Errors: no such attachment, no such directory. */
	T_EQ_INT(mime_view_save(v, 3, dir, &path, &err), -1);
	T_ASSERT(strstr(err.msg, "no attachment 3") != NULL);
	T_EQ_INT(mime_view_save(v, 1, "/nonexistent/dir", &path, &err), -1);
	mime_view_free(&v);
	rm_rf(dir);
	free(dir);
}

/* Write a mailcap file in dir; returns its path. */
static char *
mailcap_file(const char *dir, const char *text)
{
	char	*p;
	FILE	*f;

	xasprintf(&p, "%s/mailcap", dir);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	return p;
}

static const char html_msg[] =
    "Subject: h\nContent-Type: text/html; charset=euc-kr; name=\"';touch INJECTED;'\"\n\n"
    "<html><body><p>\xc7\xd1\xb1\xb9 <b>bold</b></p>"
    "<a href=\"http://x.example/\">link</a></body></html>\n";

static void
test_mailcap(void)
{
	struct mime_view	*v;
	struct mime_render_opts	 o;
	char			*dir, *mc, *inj, *cwd;
	struct stat		 st;
	uint64_t		 t0;

	dir = mkdtemp_test();
	cwd = getcwd(NULL, 0);
	T_ASSERT(chdir(dir) == 0);
	memset(&o, 0, sizeof o);

	/* Entries without copiousoutput, or needing a terminal, or failing test=, are skipped. */
	mc = mailcap_file(dir,
	    "# comment\n"
	    "text/html; firefox %s\n"
	    "text/html; less %s; copiousoutput; needsterminal\n"
	    "text/html; echo WRONG; copiousoutput; test=false\n"
	    "text/*; sed -e 's/<[^>]*>//g' -e 's/^/MAILCAP:/' %s; \\\n"
	    "  copiousoutput; test=true\n");
	o.mailcap = mc;
	v = render(html_msg, &o);
	/* The part goes converted to UTF-8 (%{charset} says utf-8). */
	T_ASSERT(has(v, "MAILCAP:한국 bold"));
	T_ASSERT(strstr(v->body, "WRONG") == NULL);
	mime_view_free(&v);
	free(mc);

	/* Standard input when there is no %s; %t and %{charset} quoted. */
	mc = mailcap_file(dir,
	    "text/html; echo %t %{charset} %{name}\\; cat; copiousoutput\n");
	o.mailcap = mc;
	v = render(html_msg, &o);
	T_ASSERT(has(v, "text/html utf-8 \n<html><body><p>한국"));
	mime_view_free(&v);
	free(mc);
	/* Nothing from the message reached a shell. */
	xasprintf(&inj, "%s/INJECTED", dir);
	T_ASSERT(stat(inj, &st) == -1);
	free(inj);

	/* A command that hangs is killed; the built-in converter takes over. */
	mc = mailcap_file(dir, "text/html; sleep 20; copiousoutput\n");
	o.mailcap = mc;
	o.mailcap_timeout_ms = 300;
	t0 = now_ms();
	v = render(html_msg, &o);
	T_ASSERT(now_ms() - t0 < 5000);
	T_ASSERT(has(v, "[-- mailcap: mailcap command timed out after 300 ms; "
	    "built-in conversion --]"));
	T_ASSERT(has(v, "한국 bold\n\nlink[1]\n"));
	mime_view_free(&v);
	free(mc);

	/* Output is bounded. */
	mc = mailcap_file(dir, "text/html; yes; copiousoutput\n");
	o.mailcap = mc;
	o.mailcap_timeout_ms = 5000;
	o.mailcap_output_max = 4096;
	v = render(html_msg, &o);
	T_ASSERT(v->bodylen < 5000);
	T_ASSERT(has(v, "y\ny\n"));
	T_ASSERT(has(v, "[-- output truncated --]"));
	mime_view_free(&v);
	free(mc);

	/* No mailcap entry at all: the built-in converter. */
	o.mailcap = "";
	v = render(html_msg, &o);
	T_EQ_STR(v->body, "한국 bold\n\nlink[1]\n\n[1] http://x.example/\n");
	mime_view_free(&v);

	/* The environment variable when no path is given. */
	mc = mailcap_file(dir, "text/html; echo FROM-ENV; copiousoutput\n");
	setenv("PETREL_MAILCAP", mc, 1);
	o.mailcap = NULL;
	v = render(html_msg, &o);
	T_ASSERT(has(v, "FROM-ENV"));
	mime_view_free(&v);
	unsetenv("PETREL_MAILCAP");
	setenv("MAILCAPS", mc, 1);
	v = render(html_msg, &o);
	T_ASSERT(has(v, "FROM-ENV"));
	mime_view_free(&v);
	unsetenv("MAILCAPS");
	free(mc);

	/* The real thing: w3m, as commonly configured. */
	mc = mailcap_file(dir, "text/html; w3m -I %{charset} -T text/html -dump "
	    "-cols 72; copiousoutput\n");
	o.mailcap = mc;
	v = render(html_msg, &o);
	T_ASSERT(has(v, "한국 bold"));
	T_ASSERT(strstr(v->body, "<b>") == NULL);
	mime_view_free(&v);
	free(mc);

	T_ASSERT(chdir(cwd) == 0);
	free(cwd);
	rm_rf(dir);
	free(dir);
}

static const struct test tests[] = {
	{ "base64", test_base64 },
	{ "qp", test_qp },
	{ "flowed", test_flowed },
	{ "html", test_html },
	{ "html_linear", test_html_linear },
	{ "render_basic", test_render_basic },
	{ "render_headers_all", test_render_headers_all },
	{ "render_headers_list", test_render_headers_list },
	{ "render_alternative", test_render_alternative },
	{ "render_structure", test_render_structure },
	{ "render_limits", test_render_limits },
	{ "safe_filename", test_safe_filename },
	{ "save", test_save },
	{ "mailcap", test_mailcap },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
