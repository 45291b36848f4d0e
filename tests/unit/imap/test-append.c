/*
 * Unit tests of APPEND (src/imap/actions.c) against a scripted server on
 * 127.0.0.1 (a thread in this process) that checks the exact command
 * lines and literal bytes the client sends: LITERAL+, LITERAL- and the
 * synchronising "+" round trip, a NO before the "+" (the message never
 * sent), APPENDUID, a message larger than the write queue, what is
 * refused before anything is sent, and the date-time format.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "imap-private.h"
#include "proto.h"
#include "scripted.h"
#include "test.h"
#include "xmalloc.h"

/* ---- The scripted server (tests/scripted.c) ------------------------------ */

/*
 * One connection: greet with caps, take LOGIN, then answer APPEND, NOOP
 * and LOGOUT. Every command line goes to s.got, every literal to lits.
 */
struct asrv {
	struct srv	 s;
	const char	*caps;
	/* The answer to APPEND, a format taking the tag (twice at most). */
	const char	*append_reply;
	bool		 refuse;	/* answer before the literal ("+") */
	const char	*untagged;	/* sent between literal and answer */
	struct buf	 lits;
	bool		 early;		/* bytes came before our "+" */
};

/* Exactly n bytes into lits, then the CRLF that ends the command. */
static bool
srv_literal(struct srv *s, struct asrv *a, size_t n)
{
	size_t	k;

	while (n > 0) {
		if (s->in.len == 0 && !srv_fill(s, 5000))
			return false;
		k = s->in.len < n ? s->in.len : n;
		buf_add(&a->lits, s->in.data, k);
		buf_consume(&s->in, k);
		n -= k;
	}
	while (s->in.len < 2)
		if (!srv_fill(s, 5000))
			return false;
	if (memcmp(s->in.data, "\r\n", 2) != 0)
		return false;
	buf_consume(&s->in, 2);
	return true;
}

/* The reply format with each "%s" made the tag. */
static void
srv_reply(struct srv *s, const char *fmt, const char *tag)
{
	struct buf	 b = BUF_INIT(0);
	const char	*p;

	for (p = fmt; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == 's') {
			buf_adds(&b, tag);
			p++;
		} else
			buf_addc(&b, *p);
	}
	srv_send(s, "%s", buf_cstr(&b));
	buf_free(&b);
}

static void
srv_script(struct srv *s)
{
	struct asrv	*a = s->arg;
	const char	*l, *sp, *brace;
	char		 tag[16];
	unsigned long	 n;
	char		*end;

	srv_send(s, "* OK [CAPABILITY %s] ready\r\n", a->caps);
	if ((l = srv_line(s)) == NULL || strcmp(l, "A1 LOGIN \"alice\" "
	    "\"pw\"") != 0)
		return;
	srv_send(s, "A1 OK [CAPABILITY %s] logged in\r\n", a->caps);
	while ((l = srv_line(s)) != NULL) {
		if ((sp = strchr(l, ' ')) == NULL ||
		    (size_t)(sp - l) >= sizeof tag)
			return;
		memcpy(tag, l, (size_t)(sp - l));
		tag[sp - l] = '\0';
		if (strcmp(sp + 1, "LOGOUT") == 0) {
			srv_send(s, "* BYE\r\n%s OK bye\r\n", tag);
			return;
		}
		if (strcmp(sp + 1, "NOOP") == 0) {
			srv_send(s, "%s OK noop\r\n", tag);
			continue;
		}
		if (strncmp(sp + 1, "APPEND ", 7) != 0 ||
		    (brace = strrchr(l, '{')) == NULL) {
			srv_send(s, "%s BAD what\r\n", tag);
			continue;
		}
		n = strtoul(brace + 1, &end, 10);
		if (*end != '+') {
			/* The client must wait for us before the literal. */
			if (srv_fill(s, 200))
				a->early = true;
			if (a->refuse) {
				srv_reply(s, a->append_reply, tag);
				continue;
			}
			srv_send(s, "+ go ahead\r\n");
		}
		if (!srv_literal(s, a, n))
			return;
		if (a->untagged != NULL)
			srv_send(s, "%s", a->untagged);
		srv_reply(s, a->append_reply, tag);
	}
}

/* The script's settings; the test may change them before srv_connect. */
static void
asrv_start(struct asrv *a, const char *caps, const char *reply)
{
	memset(a, 0, sizeof *a);
	buf_init(&a->lits, 0);
	a->caps = caps;
	a->append_reply = reply;
	srv_start(&a->s, srv_script);
	a->s.arg = a;
}

/* Connect to the server; NULL (and a failure) if not. */
static struct imap_client *
srv_connect(struct asrv *a)
{
	struct proto_params	 pp;
	struct imap_client	*c;
	struct error		 err;

	memset(&pp, 0, sizeof pp);
	pp.name = "test";
	pp.host = "127.0.0.1";
	pp.port = a->s.port;
	pp.user = "alice";
	pp.tls = PROTO_TLS_NONE;
	pp.connect_timeout_ms = 5000;
	pp.io_timeout_ms = 5000;
	if ((c = imap_connect(&pp, "pw", &err)) == NULL)
		test_fail(__FILE__, __LINE__, "connect: %s", err.msg);
	return c;
}

/* Log out and wait for the server (got and lits stay for checks). */
static void
srv_finish(struct asrv *a, struct imap_client **cp)
{
	imap_logout(cp);
	srv_stop(&a->s);
}

static void
srv_free(struct asrv *a)
{
	buf_free(&a->s.got);
	buf_free(&a->lits);
}

static const char	 msg[] = "From: a@example.org\r\nSubject: hi\r\n\r\n"
    "body \"quoted\" {3}\r\n.\r\n";

/* ---- Tests --------------------------------------------------------------- */

/* LITERAL+: {n+} and the bytes at once; APPENDUID fills both numbers. */
static void
test_literal_plus(void)
{
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;
	uint32_t		 v = 1, u = 1;
	char			 want[256];

	asrv_start(&s, "IMAP4rev1 LITERAL+ UIDPLUS",
	    "%s OK [APPENDUID 38505 3955] APPEND completed\r\n");
	if ((c = srv_connect(&s)) != NULL) {
		T_EQ_INT(imap_append(c, "INBOX", "\\Seen $Work", 1796637600,
		    msg, sizeof msg - 1, &v, &u, &err), 0);
		T_EQ_INT(v, 38505);
		T_EQ_INT(u, 3955);
		T_ASSERT(imap_broken(c) == NULL);
	}
	srv_finish(&s, &c);
	snprintf(want, sizeof want, "A1 LOGIN \"alice\" \"pw\"\n"
	    "A2 APPEND \"INBOX\" (\\Seen $Work) \"07-Dec-2026 10:00:00 "
	    "+0000\" {%zu+}\nA3 LOGOUT\n", sizeof msg - 1);
	T_EQ_STR(buf_cstr(&s.s.got), want);
	T_EQ_MEM(s.lits.data, s.lits.len, msg, sizeof msg - 1);
	srv_free(&s);
}

/*
 * No LITERAL+: {n}, nothing more until the "+"; an EXISTS before the OK
 * goes the usual way. No flags, no date; a name that needs escapes.
 */
static void
test_sync(void)
{
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;
	uint32_t		 u = 0;
	char			 want[256];

	asrv_start(&s, "IMAP4rev1 UIDPLUS",
	    "%s OK [APPENDUID 7 9] APPEND completed\r\n");
	s.untagged = "* 4 EXISTS\r\n* 1 RECENT\r\n";
	if ((c = srv_connect(&s)) != NULL) {
		T_EQ_INT(imap_append(c, "Sent \"x\"\\y", NULL, 0, msg,
		    sizeof msg - 1, NULL, &u, &err), 0);
		T_EQ_INT(u, 9);
		T_ASSERT(imap_broken(c) == NULL);
		T_EQ_INT(imap_noop(c, &err), 0);
	}
	srv_finish(&s, &c);
	T_ASSERT(!s.early);
	snprintf(want, sizeof want, "A1 LOGIN \"alice\" \"pw\"\n"
	    "A2 APPEND \"Sent \\\"x\\\"\\\\y\" {%zu}\nA3 NOOP\nA4 LOGOUT\n",
	    sizeof msg - 1);
	T_EQ_STR(buf_cstr(&s.s.got), want);
	T_EQ_MEM(s.lits.data, s.lits.len, msg, sizeof msg - 1);
	srv_free(&s);
}

/* A NO [TRYCREATE] instead of the "+": -1, nothing sent, still usable. */
static void
test_refused(void)
{
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;
	uint32_t		 v = 1, u = 1;
	char			 want[256];

	asrv_start(&s, "IMAP4rev1 UIDPLUS",
	    "%s NO [TRYCREATE] Mailbox doesn't exist: Nope\r\n");
	s.refuse = true;
	if ((c = srv_connect(&s)) != NULL) {
		T_EQ_INT(imap_append(c, "Nope", "\\Seen", 0, msg,
		    sizeof msg - 1, &v, &u, &err), -1);
		T_EQ_INT(err.cls, ERR_PROTO);
		T_ASSERT(strstr(err.msg, "[TRYCREATE]") != NULL);
		T_ASSERT(strstr(err.msg, "Nope") != NULL);
		T_EQ_INT(v, 0);
		T_EQ_INT(u, 0);
		T_ASSERT(imap_broken(c) == NULL);
		T_EQ_INT(imap_noop(c, &err), 0);
	}
	srv_finish(&s, &c);
	T_ASSERT(!s.early);
	snprintf(want, sizeof want, "A1 LOGIN \"alice\" \"pw\"\n"
	    "A2 APPEND \"Nope\" (\\Seen) {%zu}\nA3 NOOP\nA4 LOGOUT\n",
	    sizeof msg - 1);
	T_EQ_STR(buf_cstr(&s.s.got), want);
	T_EQ_INT(s.lits.len, 0);
	srv_free(&s);
}

/* A tagged OK before the "+": the server is out of step, the client broken. */
static void
test_ok_unsent(void)
{
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;

	asrv_start(&s, "IMAP4rev1", "%s OK appended what?\r\n");
	s.refuse = true;
	if ((c = srv_connect(&s)) != NULL) {
		T_EQ_INT(imap_append(c, "INBOX", NULL, 0, msg, sizeof msg - 1,
		    NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_PROTO);
		T_ASSERT(imap_broken(c) != NULL);
	}
	srv_finish(&s, &c);
	T_EQ_INT(s.lits.len, 0);
	srv_free(&s);
}

/* LITERAL-: {4096+} at most, a byte more waits for the "+"; no APPENDUID. */
static void
test_literal_minus(void)
{
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;
	uint32_t		 v = 1, u = 1;
	char			*m;

	m = xmalloc(4097);
	memset(m, 'x', 4097);
	memcpy(m + 4095 - 2, "\r\n", 2);
	asrv_start(&s, "IMAP4rev1 LITERAL-", "%s OK APPEND completed\r\n");
	if ((c = srv_connect(&s)) != NULL) {
		T_EQ_INT(imap_append(c, "INBOX", NULL, 0, m, 4096, &v, &u,
		    &err), 0);
		T_EQ_INT(v, 0);
		T_EQ_INT(u, 0);
		T_EQ_INT(imap_append(c, "INBOX", NULL, 0, m, 4097, &v, &u,
		    &err), 0);
	}
	srv_finish(&s, &c);
	T_ASSERT(!s.early);
	T_EQ_STR(buf_cstr(&s.s.got), "A1 LOGIN \"alice\" \"pw\"\n"
	    "A2 APPEND \"INBOX\" {4096+}\nA3 APPEND \"INBOX\" {4097}\n"
	    "A4 LOGOUT\n");
	T_EQ_INT(s.lits.len, 4096 + 4097);
	T_ASSERT(s.lits.len == 4096 + 4097 &&
	    memcmp(s.lits.data, m, 4096) == 0 &&
	    memcmp(s.lits.data + 4096, m, 4097) == 0);
	free(m);
	srv_free(&s);
}

/* Bigger than the write queue (64 KiB), both ways: every byte arrives. */
static void
test_big(void)
{
	static const char	*caps[] = { "IMAP4rev1 LITERAL+", "IMAP4rev1" };
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;
	size_t			 len = 3 * 1024 * 1024 + 17, i, k;
	char			*m;

	m = xmalloc(len);
	/* Lines of 78 bytes with CRLF, each byte telling where it is. */
	for (i = 0; i < len; i++)
		m[i] = (char)('!' + (i * 7 + i / 78) % 90);
	for (i = 76; i + 1 < len; i += 78)
		memcpy(m + i, "\r\n", 2);
	for (k = 0; k < 2; k++) {
		asrv_start(&s, caps[k], "%s OK [APPENDUID 1 2] done\r\n");
		if ((c = srv_connect(&s)) != NULL)
			T_EQ_INT(imap_append(c, "INBOX", NULL, 0, m, len, NULL,
			    NULL, &err), 0);
		srv_finish(&s, &c);
		T_EQ_INT(s.lits.len, len);
		T_ASSERT(s.lits.len == len && memcmp(s.lits.data, m, len) == 0);
		srv_free(&s);
	}
	free(m);
}

/* What is refused goes unsent, and the client stays usable. */
static void
test_usage(void)
{
	static const char	 nul[] = "Subject: a\r\n\r\n\0\r\n";
	struct imap_client	*c;
	struct error		 err;
	struct asrv		 s;
	char			 big[101];

	asrv_start(&s, "IMAP4rev1 LITERAL+ APPENDLIMIT=100", "%s OK\r\n");
	if ((c = srv_connect(&s)) != NULL) {
		T_EQ_INT(imap_append(c, "INBOX", NULL, 0, msg, 0, NULL, NULL,
		    &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		T_EQ_INT(imap_append(c, "INBOX", NULL, 0, nul, sizeof nul - 1,
		    NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		T_ASSERT(strstr(err.msg, "NUL") != NULL);
		T_EQ_INT(imap_append(c, "INBOX", "\\Seen) UID", 0, msg,
		    sizeof msg - 1, NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		T_EQ_INT(imap_append(c, "INBOX", "\\Seen\r\nA9 LOGOUT", 0, msg,
		    sizeof msg - 1, NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		T_EQ_INT(imap_append(c, "IN\r\nBOX", NULL, 0, msg,
		    sizeof msg - 1, NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		T_EQ_INT(imap_append(c, "INBOX", NULL, 253402300800LL, msg,
		    sizeof msg - 1, NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		T_EQ_INT(imap_append(c, "INBOX", NULL, -2208988801LL, msg,
		    sizeof msg - 1, NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_USAGE);
		/* One byte over the server's APPENDLIMIT. */
		memset(big, 'x', sizeof big);
		T_EQ_INT(imap_append(c, "INBOX", NULL, 0, big, sizeof big,
		    NULL, NULL, &err), -1);
		T_EQ_INT(err.cls, ERR_PROTO);
		T_ASSERT(strstr(err.msg, "APPENDLIMIT") != NULL);
		T_ASSERT(imap_broken(c) == NULL);
		T_EQ_INT(imap_noop(c, &err), 0);
	}
	srv_finish(&s, &c);
	T_EQ_STR(buf_cstr(&s.s.got), "A1 LOGIN \"alice\" \"pw\"\nA2 NOOP\n"
	    "A3 LOGOUT\n");
	srv_free(&s);
}

/* date-time: two-digit day, English month, UTC; parsed back the same. */
static void
test_date(void)
{
	static const struct {
		int64_t		 t;
		const char	*s;
	} dates[] = {
		{ 1796637600, "07-Dec-2026 10:00:00 +0000" },
		{ 1709251199, "29-Feb-2024 23:59:59 +0000" },
		{ 1000000000, "09-Sep-2001 01:46:40 +0000" },
		{ 0, "01-Jan-1970 00:00:00 +0000" },
		{ -2208988800LL, "01-Jan-1900 00:00:00 +0000" },
		{ 253402300799LL, "31-Dec-9999 23:59:59 +0000" },
	};
	char	out[IMAP_DATE_LEN];
	int64_t	back;
	size_t	i;

	for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		T_EQ_INT(imap_format_internaldate(out, dates[i].t), 0);
		T_EQ_STR(out, dates[i].s);
		T_EQ_INT(imap_parse_internaldate(out, &back), 0);
		T_EQ_INT(back, dates[i].t);
	}
	T_EQ_INT(imap_format_internaldate(out, 253402300800LL), -1);
	T_EQ_INT(imap_format_internaldate(out, -2208988801LL), -1);
}

static const struct test tests[] = {
	{ "literal_plus", test_literal_plus },
	{ "sync", test_sync },
	{ "refused", test_refused },
	{ "ok_unsent", test_ok_unsent },
	{ "literal_minus", test_literal_minus },
	{ "big", test_big },
	{ "usage", test_usage },
	{ "date", test_date },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
