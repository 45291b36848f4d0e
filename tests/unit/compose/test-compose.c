/*
 * Unit tests of message building: what compose_build() writes is read
 * back with the MIME engine (decoded headers, addresses, the body and
 * attachments as a reader sees them), and checked line by line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "mime.h"
#include "test.h"
#include "xmalloc.h"

/* The message holds the literal text. */
#define HAS(bp, lit)	(memmem((bp)->data, (bp)->len, lit, sizeof lit - 1) \
			    != NULL)

/* Every line ends in CRLF and is at most max bytes; no bare CR or LF. */
static int
lines_ok(const struct buf *b, size_t max)
{
	size_t	i, col = 0;

	for (i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			if (i + 1 == b->len || b->data[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
			continue;
		}
		if (b->data[i] == '\n' || ++col > max)
			return 0;
	}
	return 1;
}

/* The unfolded value of header name in the message, decoded. */
static char *
header(const struct buf *b, const char *name)
{
	struct mime_hdr_iter	 it;
	const char		*n, *v, *end;
	size_t			 nl, vl;

	end = memmem(b->data, b->len, "\r\n\r\n", 4);
	mime_hdr_iter_init(&it, b->data, (size_t)(end - b->data) + 2);
	while (mime_hdr_next(&it, &n, &nl, &v, &vl) == 1)
		if (nl == strlen(name) && strncasecmp(n, name, nl) == 0)
			return mime_decode_header(v, vl);
	return NULL;
}

static void
test_headers(void)
{
	struct buf		 b = BUF_INIT(0);
	struct error		 err;
	struct compose_msg	 m;
	char			*s, *subj;
	int			 i;

	memset(&m, 0, sizeof m);
	m.from = "Jürgen Groß <juergen@example.org>";
	m.to = "\"Doe, Jane\" <jane@example.org>, bob@example.org";
	m.bcc = "secret@example.org";
	/* Long, non-ASCII: words split between characters, lines <= 78. */
	subj = xmalloc(1000);
	subj[0] = '\0';
	for (i = 0; i < 30; i++)
		strcat(subj, "한국어 メール ");
	strcat(subj, "end");
	m.subject = subj;
	m.body = "hello\n";
	m.date = 1796638200;	/* 2026-12-07 10:10:00 UTC */
	m.tzoff_min = 60;
	m.message_id = "<fixed@example.org>";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(lines_ok(&b, 78));
	s = header(&b, "Subject");
	T_EQ_STR(s, subj);
	free(s);
	s = header(&b, "From");
	T_EQ_STR(s, "Jürgen Groß <juergen@example.org>");
	free(s);
	s = header(&b, "To");
	T_ASSERT(s != NULL && strstr(s, "jane@example.org") != NULL &&
	    strstr(s, "bob@example.org") != NULL);
	free(s);
	T_EQ_STR((s = header(&b, "Date")), "Mon, 07 Dec 2026 11:10:00 +0100");
	free(s);
	T_EQ_STR((s = header(&b, "Message-ID")), "<fixed@example.org>");
	free(s);
	/* Bcc never in what is sent; kept in the copy filed. */
	T_ASSERT(!HAS(&b, "secret@"));
	buf_reset(&b);
	T_EQ_INT(compose_build(&m, COMPOSE_FILE, &b, &err), 0);
	T_EQ_STR((s = header(&b, "Bcc")), "secret@example.org");
	free(s);
	free(subj);

	/* No header injection. */
	buf_reset(&b);
	m.subject = "hi\r\nBcc: victim@example.org";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), -1);
	T_ASSERT(strstr(err.msg, "line break") != NULL);
	m.subject = "ok";
	m.to = "a@example.org\nX-Evil: 1";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), -1);
	m.to = "a@example.org";
	m.in_reply_to = "<x>\r\nX-Evil: 1";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), -1);
	m.in_reply_to = NULL;
	/* Text that looks like an encoded word is encoded itself. */
	buf_reset(&b);
	m.subject = "=?UTF-8?B?ZXZpbA==?= literally";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_EQ_STR((s = header(&b, "Subject")), "=?UTF-8?B?ZXZpbA==?= literally");
	free(s);
	/* No From address. */
	m.from = "nobody";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), -1);
	buf_free(&b);
}

static void
test_body(void)
{
	struct buf		 b = BUF_INIT(0);
	struct error		 err;
	struct compose_msg	 m;
	struct mime_render_opts	 o;
	struct mime_view	*v = NULL;
	char			*body, *big;

	memset(&m, 0, sizeof m);
	m.from = "a@example.org";
	m.to = "b@example.org";
	m.subject = "body";
	/* Bare LF and CR become CRLF; ASCII is 7bit. */
	m.body = "one\ntwo\rthree\r\n";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(lines_ok(&b, 998));
	T_ASSERT(HAS(&b, "Content-Transfer-Encoding: 7bit"));
	T_ASSERT(HAS(&b, "\r\n\r\none\r\ntwo\r\nthree\r\n"));

	/* UTF-8: quoted-printable without 8BITMIME, 8bit with it. */
	buf_reset(&b);
	m.body = "Grüße, 世界 = ok \nline  \n";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(HAS(&b, "quoted-printable"));
	T_ASSERT(lines_ok(&b, 76));
	memset(&o, 0, sizeof o);
	o.mailcap = "";
	T_EQ_INT(mime_render(b.data, b.len, &o, &v, &err), 0);
	T_ASSERT(strstr(v->body, "Grüße, 世界 = ok \nline  \n") != NULL);
	mime_view_free(&v);
	buf_reset(&b);
	m.eightbit = true;
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(HAS(&b, "Content-Transfer-Encoding: 8bit"));
	m.eightbit = false;

	/* A line over 998: quoted-printable even when ASCII. */
	big = xmalloc(3000);
	memset(big, 'x', 2999);
	big[2999] = '\0';
	buf_reset(&b);
	m.body = big;
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(HAS(&b, "quoted-printable"));
	T_ASSERT(lines_ok(&b, 998));
	free(big);

	/* format=flowed: soft breaks, space-stuffing. */
	buf_reset(&b);
	m.flowed = true;
	m.body = "From here a long paragraph that goes on and on well past the "
	    "seventy-two column limit of flowed text so it must wrap\n>quoted\n";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(HAS(&b, "format=flowed"));
	body = memmem(b.data, b.len, "\r\n\r\n", 4);
	T_ASSERT(body != NULL && strncmp(body + 4, " From here", 10) == 0);
	T_ASSERT(HAS(&b, " \r\n"));	/* soft break */
	T_ASSERT(HAS(&b, "\r\n>quoted\r\n"));
	T_ASSERT(lines_ok(&b, 78));
	buf_free(&b);
}

static void
test_attachments(void)
{
	struct buf		 b = BUF_INIT(0);
	struct error		 err;
	struct compose_msg	 m;
	struct compose_part	 p[2];
	struct mime_render_opts	 o;
	struct mime_view	*v = NULL;
	char			 dir[] = "/tmp/petrel-compose.XXXXXX", path[256];
	char			 path2[256], *t;
	FILE			*f;
	int			 i;

	T_ASSERT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/report.pdf", dir);
	f = fopen(path, "w");
	for (i = 0; i < 1000; i++)
		fputc(i & 0xff, f);
	fclose(f);
	snprintf(path2, sizeof path2, "%s/x", dir);
	f = fopen(path2, "w");
	fputs("plain", f);
	fclose(f);
	memset(&m, 0, sizeof m);
	memset(p, 0, sizeof p);
	m.from = "a@example.org";
	m.to = "b@example.org";
	m.subject = "files";
	m.body = "see attached\n";
	p[0].path = path;
	p[1].path = path2;
	p[1].name = "résumé 2026.txt";
	m.parts = p;
	m.nparts = 2;
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), 0);
	T_ASSERT(lines_ok(&b, 78));
	T_ASSERT(HAS(&b, "multipart/mixed"));
	/* Typed from the system's mime.types (Debian's media-types). */
	t = compose_mime_type(NULL, "report.pdf");
	T_EQ_STR(t, "application/pdf");
	free(t);
	T_ASSERT(HAS(&b, "Content-Type: application/pdf"));
	/* RFC 2231 for the non-ASCII name. */
	T_ASSERT(HAS(&b, "filename*=UTF-8''r%C3%A9sum%C3%A9%202026"
	    ".txt"));
	T_ASSERT(HAS(&b, "Content-Transfer-Encoding: base64"));
	/* A reader finds both, with their names and sizes. */
	memset(&o, 0, sizeof o);
	o.mailcap = "";
	T_EQ_INT(mime_render(b.data, b.len, &o, &v, &err), 0);
	T_EQ_INT(v->natt, 2);
	if (v->natt == 2) {
		T_EQ_STR(v->att[0].filename, "report.pdf");
		T_EQ_INT(v->att[0].size, 1000);
		T_EQ_STR(v->att[1].filename, "résumé 2026.txt");
		T_EQ_INT(v->att[1].size, 5);
	}
	T_ASSERT(strstr(v->body, "see attached") != NULL);
	mime_view_free(&v);
	t = compose_mime_type(NULL, "noext");
	T_EQ_STR(t, "application/octet-stream");
	free(t);
	/* An unreadable file: an error, not a message without it. */
	buf_reset(&b);
	p[0].path = "/nonexistent/file";
	T_EQ_INT(compose_build(&m, COMPOSE_SEND, &b, &err), -1);
	T_ASSERT(strstr(err.msg, "/nonexistent/file") != NULL);
	unlink(path);
	unlink(path2);
	rmdir(dir);
	buf_free(&b);
}

static void
test_message_id(void)
{
	char	*a = compose_message_id("example.org");
	char	*b = compose_message_id(NULL);

	T_ASSERT(a[0] == '<' && strstr(a, "@example.org>") != NULL);
	T_ASSERT(strstr(b, "@petrel.invalid>") != NULL);
	T_ASSERT(strcmp(a, b) != 0);
	free(a);
	free(b);
}

static const struct test tests[] = {
	{ "headers", test_headers },
	{ "body", test_body },
	{ "attachments", test_attachments },
	{ "message_id", test_message_id },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
