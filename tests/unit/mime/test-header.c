/*
 * Unit tests of the header half of src/mime: the field walker, RFC 2047
 * decoding, addresses, dates, parameters and terminal sanitising.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime.h"
#include "../../../src/mime/mime-private.h"
#include "test.h"

static char *
dec(const char *s)
{
	return mime_decode_header(s, strlen(s));
}

#define T_DEC(in, want) do {						\
	char *_d = dec(in);						\
	T_EQ_STR(_d, want);						\
	free(_d);							\
} while (0)

static void
test_hdr_iter(void)
{
	static const char blk[] =
	    "From foo@bar Mon Jan  1 10:00:00 2024\n"	/* mbox line: skipped */
	    "Subject: hello\r\n"
	    "  world\r\n"
	    "X-Empty:\r\n"
	    "junk line without colon\r\n"
	    "Obs-Space  : value\r\n"
	    "To:\ta@b\r\n"
	    "\tc@d\r\n"
	    "\r\n"
	    "Body: not a header\r\n";
	struct mime_hdr_iter	 it;
	const char		*n, *v;
	size_t			 nl, vl;

	mime_hdr_iter_init(&it, blk, sizeof blk - 1);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(n, nl, "Subject", 7);
	T_EQ_MEM(v, vl, "hello\r\n  world", 14);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(n, nl, "X-Empty", 7);
	T_EQ_INT(vl, 0);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(n, nl, "Obs-Space", 9);
	T_EQ_MEM(v, vl, "value", 5);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(n, nl, "To", 2);
	T_EQ_MEM(v, vl, "a@b\r\n\tc@d", 9);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 0);
	/* At the end, p is the start of the body. */
	T_EQ_STR(it.p, "Body: not a header\r\n");
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 0);
}

/* CR-only line ends, no body, and a block cut in the middle of a line. */
static void
test_hdr_iter_odd(void)
{
	static const char cr[] = "A: 1\rB: 2\r continued\r\rbody";
	static const char nobody[] = "A: 1\nB: 2";
	struct mime_hdr_iter	 it;
	const char		*n, *v;
	size_t			 nl, vl, i;

	mime_hdr_iter_init(&it, cr, sizeof cr - 1);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(v, vl, "1", 1);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(v, vl, "2\r continued", 12);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 0);
	T_EQ_STR(it.p, "body");

	mime_hdr_iter_init(&it, nobody, sizeof nobody - 1);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 1);
	T_EQ_MEM(v, vl, "2", 1);
	T_EQ_INT(mime_hdr_next(&it, &n, &nl, &v, &vl), 0);

	/* Every prefix of a block walks without reading past its end. */
	for (i = 0; i <= sizeof cr - 1; i++) {
		char *copy = malloc(i + 1);

		memcpy(copy, cr, i);
		mime_hdr_iter_init(&it, copy, i);
		while (mime_hdr_next(&it, &n, &nl, &v, &vl))
			T_ASSERT(v + vl <= copy + i);
		free(copy);
	}
}

static void
test_rfc2047(void)
{
	T_DEC("plain subject", "plain subject");
	T_DEC("  padded  ", "padded");
	T_DEC("=?utf-8?q?caf=C3=A9_au_lait?=", "café au lait");
	T_DEC("=?UTF-8?B?R3LDvMOfZQ==?=", "Grüße");
	T_DEC("=?utf-8?b?R3LDvMOfZQ==?=", "Grüße");	/* any case */
	/* Whitespace between adjacent words is dropped, folding too. */
	T_DEC("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");
	T_DEC("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab");
	/* ... but not between a word and text. */
	T_DEC("=?utf-8?q?a?= b =?utf-8?q?c?=", "a b c");
	T_DEC("Re: =?utf-8?q?x?=", "Re: x");
	/* A multibyte character split across two words of one charset. */
	T_DEC("=?euc-kr?B?vsiz?= =?euc-kr?B?58fPvLy/5A==?=", "안녕하세요");
	T_DEC("=?UTF-8?B?5pel5g==?= =?UTF-8?B?nKzoqp4=?=", "日本語");
	T_DEC("=?utf-8?q?=E6=97?= =?utf-8?q?=A5?=", "日");
	/* Different charsets are converted each on its own. */
	T_DEC("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "éé");
	/* ISO-2022-JP in a B word. */
	T_DEC("=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "テスト");
	/* Language suffix (RFC 2231 section 5). */
	T_DEC("=?utf-8*en?q?hi?=", "hi");
	/* Invalid words are shown raw. */
	T_DEC("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	T_DEC("=?utf-8?b?not*base64?=", "=?utf-8?b?not*base64?=");
	T_DEC("=??q?abc?=", "=??q?abc?=");
	T_DEC("=?utf-8?q?a?= =?utf-8?b?!!?=", "a =?utf-8?b?!!?=");
	T_DEC("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");
	T_DEC("a =? b", "a =? b");
	/* Words glued to text are decoded (what users expect). */
	T_DEC("foo=?utf-8?q?bar?=baz", "foobarbaz");
	/* Malformed Q escapes stay literal. */
	T_DEC("=?utf-8?q?100=_=ZZ?=", "100= =ZZ");
	/* Missing base64 padding is fine. */
	T_DEC("=?utf-8?b?R3LDvMOfZQ?=", "Grüße");
	/* Invalid bytes in the charset: U+FFFD. */
	T_DEC("=?utf-8?q?a=FFb?=", "a\xef\xbf\xbd" "b");
	/* Unknown charset: the fallback. */
	T_DEC("=?x-unknown-cs?q?caf=E9?=", "café");
	/* Raw 8-bit (RFC 6532 UTF-8, else the fallback). */
	T_DEC("Gr\xc3\xbc\xc3\x9f" "e", "Grüße");
	T_DEC("caf\xe9", "café");
	/* Raw ISO-2022-JP in a header (old Japanese mailers). */
	T_DEC("Re: \x1b$B%F%9%H\x1b(B", "Re: テスト");
	T_DEC("\x1b[31m", "\x1b[31m");
	/* Folding: line breaks go, a tab becomes a space. */
	T_DEC("a\r\n\tb", "a b");
	T_DEC("a\r\n b", "a b");
}

static void
test_rfc2047_hint(void)
{
	char	*d;

	/* Undeclared 8-bit header text in the body's charset. */
	d = mime_decode_header_hint("\xc7\xd1\xb1\xb9", 4, "euc-kr");
	T_EQ_STR(d, "한국");
	free(d);
	d = mime_decode_header_hint("\xc3\xa9", 2, "euc-kr");
	T_EQ_STR(d, "é");
	free(d);
}

static void
test_long_header(void)
{
	size_t	 n = 100 * 1024, i;
	char	*s = malloc(n + 1), *d;

	for (i = 0; i < n; i++)
		s[i] = i % 7 == 0 ? ' ' : "=?x"[i % 3];
	s[n] = '\0';
	d = mime_decode_header(s, n);
	T_ASSERT(d != NULL && strlen(d) <= n);
	free(d);
	free(s);
}

struct want_addr {
	const char	*name;
	const char	*addr;
};

static void
check_addrs(const char *in, const struct want_addr *w, size_t nw)
{
	struct mime_addr	*a;
	size_t			 n, i;

	n = mime_parse_addresses(in, strlen(in), &a);
	T_EQ_INT(n, nw);
	for (i = 0; i < n && i < nw; i++) {
		T_EQ_STR(a[i].name, w[i].name);
		T_EQ_STR(a[i].addr, w[i].addr);
	}
	mime_addrs_free(a, n);
}

#define T_ADDRS(in, ...) do {						\
	static const struct want_addr _w[] = { __VA_ARGS__ };		\
	check_addrs(in, _w, sizeof _w / sizeof _w[0]);			\
} while (0)

static void
test_addresses(void)
{
	struct mime_addr	*a;
	char			*f;

	T_ADDRS("John Doe <john@example.com>", { "John Doe", "john@example.com" });
	T_ADDRS("john@example.com", { NULL, "john@example.com" });
	T_ADDRS("<john@example.com>", { NULL, "john@example.com" });
	T_ADDRS("\"Doe, John\" <j@x.org>, b@y.org",
	    { "Doe, John", "j@x.org" }, { NULL, "b@y.org" });
	T_ADDRS("j@x.org (John Doe)", { "John Doe", "j@x.org" });
	T_ADDRS("John (the man) Doe <j@x.org>", { "John Doe", "j@x.org" });
	T_ADDRS("\"Quote \\\"me\\\"\" <q@x>", { "Quote \"me\"", "q@x" });
	/* Encoded words, also inside quotes, and with specials inside. */
	T_ADDRS("=?utf-8?q?J=C3=B6rg?= <j@x>", { "Jörg", "j@x" });
	T_ADDRS("\"=?utf-8?q?J=C3=B6rg?= M\" <j@x>", { "Jörg M", "j@x" });
	T_ADDRS("=?utf-8?q?Doe,_John?= <j@x>", { "Doe, John", "j@x" });
	T_ADDRS("=?euc-kr?B?vsiz?= =?euc-kr?B?58fPvLy/5A==?= <k@x>",
	    { "안녕하세요", "k@x" });
	/* RFC 6532 raw UTF-8. */
	T_ADDRS("Jörg <jörg@例え.jp>", { "Jörg", "jörg@例え.jp" });
	/* Groups are flattened with a name entry. */
	T_ADDRS("Friends: a@x, \"B\" <b@x>;, c@x",
	    { "Friends", NULL }, { NULL, "a@x" }, { "B", "b@x" }, { NULL, "c@x" });
	T_ADDRS("undisclosed-recipients:;", { "undisclosed-recipients", NULL });
	/* Obsolete: routes, empty elements, dots in phrases, spaces. */
	T_ADDRS("<@relay.a,@relay.b:j@x>", { NULL, "j@x" });
	T_ADDRS("a@x,,, b@y", { NULL, "a@x" }, { NULL, "b@y" });
	T_ADDRS("John Q. Public <jqp@x>", { "John Q. Public", "jqp@x" });
	T_ADDRS("john . doe @ example . com", { NULL, "john.doe@example.com" });
	T_ADDRS("\"john doe\"@x", { NULL, "\"john doe\"@x" });
	T_ADDRS("a@[127.0.0.1]", { NULL, "a@[127.0.0.1]" });
	/* Broken: unterminated brackets and quotes. */
	T_ADDRS("Name <a@x", { "Name", "a@x" });
	T_ADDRS("\"Unterminated <a@x>", { NULL, "\"Unterminated <a@x>\"" });
	T_ADDRS("Folded\r\n Name <f@x>", { "Folded Name", "f@x" });
	T_EQ_INT(mime_parse_addresses("", 0, &a), 0);
	mime_addrs_free(a, 0);
	T_EQ_INT(mime_parse_addresses(" , ;", 4, &a), 0);
	mime_addrs_free(a, 0);

	T_EQ_INT(mime_parse_addresses("A B <a@b>", 9, &a), 1);
	f = mime_addr_format(&a[0]);
	T_EQ_STR(f, "A B <a@b>");
	free(f);
	mime_addrs_free(a, 1);
	T_EQ_INT(mime_parse_addresses("a@b", 3, &a), 1);
	f = mime_addr_format(&a[0]);
	T_EQ_STR(f, "a@b");
	free(f);
	mime_addrs_free(a, 1);
}

static void
test_many_addresses(void)
{
	struct buf		 b = BUF_INIT(0);
	struct mime_addr	*a;
	size_t			 n, i;

	for (i = 0; i < 20000; i++)
		buf_printf(&b, "u%zu@x, ", i);
	n = mime_parse_addresses(b.data, b.len, &a);
	T_EQ_INT(n, 10000);
	mime_addrs_free(a, n);
	buf_free(&b);
}

static void
check_date(const char *s, const char *want)
{
	int64_t	t;
	int	tz;
	char	out[32];

	if (want == NULL) {
		T_EQ_INT(mime_parse_date(s, strlen(s), &t, &tz), -1);
		return;
	}
	T_EQ_INT(mime_parse_date(s, strlen(s), &t, &tz), 0);
	format_rfc3339(out, t, tz);
	T_EQ_STR(out, want);
}

static void
test_dates(void)
{
	check_date("Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01T10:52:37+02:00");
	check_date("1 Jul 2003 10:52:37 -0430", "2003-07-01T10:52:37-04:30");
	check_date("Tue, 01 Jul 2003 10:52 GMT", "2003-07-01T10:52:00Z");
	check_date("Tue, 1 Jul 03 10:52:37 EST", "2003-07-01T10:52:37-05:00");
	check_date("Tue, 1 Jul 99 10:52:37 +0000", "1999-07-01T10:52:37Z");
	check_date("Tue, 1 Jul 103 10:52:37 +0000", "2003-07-01T10:52:37Z");
	check_date("Tue,  1 Jul 2003 10:52:37 +0200 (CEST)",
	    "2003-07-01T10:52:37+02:00");
	check_date("Thu, 29 Feb 2024 23:59:60 +0000", "2024-02-29T23:59:59Z");
	check_date("Jul 1 10:52:37 2003", "2003-07-01T10:52:37Z");
	check_date("2003-07-01T10:52:37-05:00", "2003-07-01T10:52:37-05:00");
	check_date("Mon, 1 Jan 1900 00:00:00 +0000", "1900-01-01T00:00:00Z");
	check_date("Tue, 1 Jul 2003", "2003-07-01T00:00:00Z");
	check_date("", NULL);
	check_date("yesterday", NULL);
	check_date("31 Feb 2003 10:00:00 +0000", NULL);
	check_date("1 Jul 2003 25:00:00 +0000", NULL);
	check_date("99999999999 Jul 2003", NULL);
}

static void
test_params(void)
{
	struct mime_params	 mp;
	char			*t;
	const char		*v;

	v = "Text/Plain ; charset=\"UTF-8\"; format=flowed;DelSp=Yes";
	mime_params_parse(v, strlen(v), &mp);
	T_EQ_STR(mp.token, "text/plain");
	T_EQ_STR(mime_params_raw(&mp, "charset"), "UTF-8");
	T_EQ_STR(mime_params_raw(&mp, "format"), "flowed");
	T_EQ_STR(mime_params_raw(&mp, "delsp"), "Yes");
	T_ASSERT(mime_params_raw(&mp, "name") == NULL);
	T_ASSERT(mime_params_text(&mp, "name", NULL) == NULL);
	mime_params_free(&mp);

	/* RFC 2231 continuations with charset, in any order. */
	v = "attachment; filename*1*=%20%EC%9E%90%EB%A3%8C.pdf;\r\n"
	    " filename*0*=UTF-8'ko'%ED%95%9C%EA%B5%AD%EC%96%B4";
	mime_params_parse(v, strlen(v), &mp);
	T_EQ_STR(mp.token, "attachment");
	t = mime_params_text(&mp, "filename", NULL);
	T_EQ_STR(t, "한국어 자료.pdf");
	free(t);
	mime_params_free(&mp);

	/* Plain continuations, and an extended one in euc-kr. */
	v = "application/pdf; name*0=\"long file \"; name*1=\"name.pdf\"";
	mime_params_parse(v, strlen(v), &mp);
	t = mime_params_text(&mp, "name", NULL);
	T_EQ_STR(t, "long file name.pdf");
	free(t);
	mime_params_free(&mp);
	v = "attachment; filename*=euc-kr''%C7%D1%B1%B9.txt";
	mime_params_parse(v, strlen(v), &mp);
	t = mime_params_text(&mp, "filename", NULL);
	T_EQ_STR(t, "한국.txt");
	free(t);
	mime_params_free(&mp);

	/* RFC 2047 in a quoted file name, and raw 8-bit. */
	v = "attachment; filename=\"=?UTF-8?B?R3LDvMOfZQ==?=.txt\"";
	mime_params_parse(v, strlen(v), &mp);
	t = mime_params_text(&mp, "filename", NULL);
	T_EQ_STR(t, "Grüße.txt");
	free(t);
	mime_params_free(&mp);
	v = "attachment; filename=\"\xc7\xd1.txt\"";
	mime_params_parse(v, strlen(v), &mp);
	t = mime_params_text(&mp, "filename", "euc-kr");
	T_EQ_STR(t, "한.txt");
	free(t);
	mime_params_free(&mp);

	/* Broken: unquoted blanks, quoted ';', junk, missing values. */
	v = "attachment; filename=my file.pdf ; size=12; =x; novalue;"
	    " quoted=\"a;b\"junk; (comment)";
	mime_params_parse(v, strlen(v), &mp);
	t = mime_params_text(&mp, "filename", NULL);
	T_EQ_STR(t, "my file.pdf");
	free(t);
	T_EQ_STR(mime_params_raw(&mp, "quoted"), "a;b");
	T_EQ_STR(mime_params_raw(&mp, "size"), "12");
	mime_params_free(&mp);

	/* A malformed %-escape is kept. */
	v = "attachment; filename*=utf-8''100%25%zz";
	mime_params_parse(v, strlen(v), &mp);
	t = mime_params_text(&mp, "filename", NULL);
	T_EQ_STR(t, "100%%zz");
	free(t);
	mime_params_free(&mp);
}

static void
test_sanitize(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} t[] = {
		{ "plain\ttext\n", "plain\ttext\n" },
		{ "\x1b[31mred\x1b[0m", "^[[31mred^[[0m" },
		{ "\x1b]52;c;ZXZpbA==\x07", "^[]52;c;ZXZpbA==^G" },
		{ "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
		  "^[]8;;http://evil^[\\link^[]8;;^[\\" },
		{ "a\rb\x7f" "c\x01", "a^Mb^?c^A" },
		{ "c1:\xc2\x9b" "31m \xc2\x85", "c1:<U+009B>31m <U+0085>" },
		{ "bidi:\xe2\x80\xae" "gnp.exe", "bidi:<U+202E>gnp.exe" },
		{ "iso:\xe2\x81\xa6x\xe2\x81\xa9", "iso:<U+2066>x<U+2069>" },
		{ "bad:\xff\xc3", "bad:\xef\xbf\xbd\xef\xbf\xbd" },
		{ "ok:\xef\xbf\xbd \xc3\xa9 \xe2\x80\x8f", "ok:\xef\xbf\xbd \xc3\xa9 \xe2\x80\x8f" },
	};
	size_t	i, n;
	char	*s;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		s = mime_sanitize_terminal(t[i].in, strlen(t[i].in), &n);
		T_EQ_STR(s, t[i].out);
		T_EQ_INT(n, strlen(t[i].out));
		free(s);
	}
	s = mime_sanitize_terminal("a\0b", 3, &n);
	T_EQ_MEM(s, n, "a^@b", 4);
	free(s);
}

/* The slow way: parse, format each address, join. */
static char *
format_slow(const char *v, size_t len)
{
	struct mime_addr	*a = NULL;
	struct buf		 b = BUF_INIT(0);
	size_t			 n, i;
	char			*s;

	n = mime_parse_addresses(v, len, &a);
	for (i = 0; i < n; i++) {
		if (a[i].addr == NULL && a[i].name == NULL)
			continue;
		s = mime_addr_format(&a[i]);
		if (b.len > 0)
			buf_adds(&b, ", ");
		buf_adds(&b, s);
		free(s);
	}
	mime_addrs_free(a, n);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

/*
 * mime_format_addresses() has a fast path for plain lists: whatever the
 * input, it must say exactly what the general parser says. Random lists
 * built from tricky pieces (quotes, dots, comments, groups, encoded words,
 * folding, empty items) are compared one by one.
 */
static void
test_format_addresses_same(void)
{
	static const char *pieces[] = {
		"John Smith", "john@example.org", "<john@example.org>", " ",
		"  ", "\r\n ", "\t", ",", ", ", "\"Smith, John\"", "J. Smith",
		"(comment)", "=?UTF-8?B?w4Z0aGVscmVk?=", "Bob", "b.o.b@x.y",
		"<bob@x.y>", "Undisclosed:;", "list: a@b.c, d@e.f;", "@", ".",
		"<", ">", "<>", "a@b", "O'Neil", "x@[1.2.3.4]", "\\", "\"\"",
		"Ünicode", "=", "a=b@c.d", "<a@b.c", "name <a@b.c> trailing",
		"<a b@c.d>", "< a@b.c >", "Mr.", "@x.org", "a@",
	};
	const size_t	 np = sizeof pieces / sizeof pieces[0];
	uint64_t	 x = 0x9e3779b97f4a7c15ULL;
	char		 in[512], *fast, *slow, e1[512], e2[512];
	int		 i, j, k, bad = 0, fastpath = 0;

	/* The plain shapes, which must take the fast path. */
	{
		const char *plain = "John  Smith <john@example.org>,\r\n "
		    "bob@x.org, <c@d.e>";

		fast = mime_format_addresses(plain, strlen(plain));
	}
	T_EQ_STR(fast, "John Smith <john@example.org>, bob@x.org, c@d.e");
	free(fast);
	T_ASSERT(mime_format_addresses("", 0) == NULL);

	for (i = 0; i < 200000 && bad < 5; i++) {
		size_t len = 0;

		k = 1 + (int)(x % 6);
		for (j = 0; j < k; j++) {
			const char *pc;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			pc = pieces[x % np];
			if (len + strlen(pc) + 1 >= sizeof in)
				break;
			memcpy(in + len, pc, strlen(pc));
			len += strlen(pc);
		}
		in[len] = '\0';
		fast = mime_format_addresses(in, len);
		slow = format_slow(in, len);
		if ((fast == NULL) != (slow == NULL) ||
		    (fast != NULL && strcmp(fast, slow) != 0)) {
			test_fail(__FILE__, __LINE__, "\"%s\": fast \"%s\", "
			    "parser \"%s\"", test_escape(in, len, e1, sizeof e1),
			    fast ? fast : "(null)",
			    slow ? test_escape(slow, strlen(slow), e2,
			    sizeof e2) : "(null)");
			bad++;
		}
		if (fast != NULL && strchr(in, '"') == NULL)
			fastpath++;
		free(fast);
		free(slow);
	}
	T_ASSERT(fastpath > 1000);
}

static const struct test tests[] = {
	{ "format_addresses_same", test_format_addresses_same },
	{ "hdr_iter", test_hdr_iter },
	{ "hdr_iter_odd", test_hdr_iter_odd },
	{ "rfc2047", test_rfc2047 },
	{ "rfc2047_hint", test_rfc2047_hint },
	{ "long_header", test_long_header },
	{ "addresses", test_addresses },
	{ "many_addresses", test_many_addresses },
	{ "dates", test_dates },
	{ "params", test_params },
	{ "sanitize", test_sanitize },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
