/*
 * Unit tests of the POP3 module: the multi-line parser fed byte by byte
 * and split at every point, dot-unstuffing, limits, status lines, APOP,
 * and the client against scripted servers on 127.0.0.1 (threads in this
 * process) that check the exact commands it sends.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "pop3-private.h"
#include "proto.h"
#include "scripted.h"
#include "test.h"
#include "xmalloc.h"

/* ---- Multi-line parser -------------------------------------------------- */

struct collect {
	struct buf	out;
	int		calls;
	int		fail_at;	/* make the nth call fail (0: never) */
};

static int
collect_out(void *arg, const char *data, size_t len)
{
	struct collect	*c = arg;

	if (++c->calls == c->fail_at)
		return -1;
	buf_add(&c->out, data, len);
	return 0;
}

/*
 * Push wire in chunks of at most step bytes (0: all at once). Returns the
 * status of the last push; *usedp is the total consumed.
 */
static enum pop3_ml_status
ml_run(const char *wire, size_t len, size_t step, size_t line_max,
    uint64_t max, struct collect *c, size_t *usedp, int *pushesp)
{
	struct pop3_ml		ml;
	enum pop3_ml_status	r = POP3_ML_MORE;
	size_t			off = 0, n, used;

	pop3_ml_init(&ml, line_max, max);
	*usedp = 0;
	*pushesp = 0;
	while (off < len) {
		n = step == 0 || len - off < step ? len - off : step;
		r = pop3_ml_push(&ml, wire + off, n, &used, collect_out, c);
		(*pushesp)++;
		off += used;
		*usedp = off;
		if (r != POP3_ML_MORE)
			break;
		if (used != n)
			test_fail(__FILE__, __LINE__, "MORE used %zu of %zu",
			    used, n);
	}
	return r;
}

static void
test_ml_basic(void)
{
	const char	wire[] = "Subject: x\r\n\r\n..dot\r\nplain\r\n.\r\n";
	const char	want[] = "Subject: x\r\n\r\n.dot\r\nplain\r\n";
	struct collect	c;
	size_t		used;
	int		pushes;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	T_EQ_INT(ml_run(wire, strlen(wire), 0, 0, 0, &c, &used, &pushes),
	    POP3_ML_END);
	T_EQ_INT(used, strlen(wire));
	T_EQ_MEM(c.out.data, c.out.len, want, strlen(want));
	buf_free(&c.out);
}

/* Every byte on its own: MORE until the very last one, same output. */
static void
test_ml_byte_by_byte(void)
{
	const char	wire[] = "a\r\n..\r\n...three\r\n.x\r\n\r\n.\rz\r\nend"
	    "\r\n.\r\n";
	const char	want[] = "a\r\n.\r\n..three\r\nx\r\n\r\n\rz\r\nend\r\n";
	struct collect	c;
	size_t		used;
	int		pushes;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	T_EQ_INT(ml_run(wire, strlen(wire), 1, 0, 0, &c, &used, &pushes),
	    POP3_ML_END);
	T_EQ_INT(pushes, strlen(wire));
	T_EQ_INT(used, strlen(wire));
	T_EQ_MEM(c.out.data, c.out.len, want, strlen(want));
	buf_free(&c.out);
}

/* The input split in two at every point, the end marker included. */
static void
test_ml_every_split(void)
{
	const char		 wire[] = "x\r\n..y\r\n.\r\n";
	const char		 want[] = "x\r\n.y\r\n";
	struct pop3_ml		 ml;
	struct collect		 c;
	enum pop3_ml_status	 r;
	size_t			 len = strlen(wire), i, used, used2;

	for (i = 0; i <= len; i++) {
		memset(&c, 0, sizeof c);
		buf_init(&c.out, 0);
		pop3_ml_init(&ml, 0, 0);
		r = pop3_ml_push(&ml, wire, i, &used, collect_out, &c);
		if (i < len) {
			T_EQ_INT(r, POP3_ML_MORE);
			T_EQ_INT(used, i);
			r = pop3_ml_push(&ml, wire + i, len - i, &used2,
			    collect_out, &c);
			T_EQ_INT(used2, len - i);
		}
		T_EQ_INT(r, POP3_ML_END);
		T_EQ_MEM(c.out.data, c.out.len, want, strlen(want));
		buf_free(&c.out);
	}
}

/* Bytes after the end marker belong to the next response. */
static void
test_ml_next_response(void)
{
	const char		 wire[] = "body\r\n.\r\n+OK next\r\n";
	struct pop3_ml		 ml;
	struct collect		 c;
	size_t			 used;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	pop3_ml_init(&ml, 0, 0);
	T_EQ_INT(pop3_ml_push(&ml, wire, strlen(wire), &used, collect_out, &c),
	    POP3_ML_END);
	T_EQ_STR(wire + used, "+OK next\r\n");
	T_EQ_MEM(c.out.data, c.out.len, "body\r\n", 6);
	/* Pushing more after the end is an error, not a new body. */
	T_EQ_INT(pop3_ml_push(&ml, "x", 1, &used, collect_out, &c),
	    POP3_ML_ERROR);
	buf_free(&c.out);
}

static void
test_ml_empty_and_lf(void)
{
	struct collect	c;
	size_t		used;
	int		pushes;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	T_EQ_INT(ml_run(".\r\n", 3, 1, 0, 0, &c, &used, &pushes), POP3_ML_END);
	T_EQ_INT(c.out.len, 0);
	/* Bare LF line ends, as some servers send. */
	T_EQ_INT(ml_run("a\n..b\n.\n", 8, 1, 0, 0, &c, &used, &pushes),
	    POP3_ML_END);
	T_EQ_MEM(c.out.data, c.out.len, "a\n.b\n", 5);
	T_EQ_INT(used, 8);
	/* "." followed by CR and something else is content, not the end. */
	buf_reset(&c.out);
	T_EQ_INT(ml_run(".\r.\r\n.\r\n", 8, 1, 0, 0, &c, &used, &pushes),
	    POP3_ML_END);
	T_EQ_MEM(c.out.data, c.out.len, "\r.\r\n", 4);
	buf_free(&c.out);
}

/* A line of line_max bytes passes; one more byte is an error at once. */
static void
test_ml_long_lines(void)
{
	struct collect		c;
	struct buf		w = BUF_INIT(0);
	size_t			used, i;
	int			pushes;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	for (i = 0; i < 100; i++)
		buf_addc(&w, 'x');
	buf_adds(&w, "\r\n.\r\n");
	/* 100 bytes + \r = 101 counted. */
	T_EQ_INT(ml_run(w.data, w.len, 7, 101, 0, &c, &used, &pushes),
	    POP3_ML_END);
	T_EQ_INT(ml_run(w.data, w.len, 7, 100, 0, &c, &used, &pushes),
	    POP3_ML_ERROR);
	/* The error comes without waiting for the line to end. */
	buf_reset(&w);
	for (i = 0; i < 10000; i++)
		buf_addc(&w, 'y');
	T_EQ_INT(ml_run(w.data, w.len, 13, 500, 0, &c, &used, &pushes),
	    POP3_ML_ERROR);
	T_ASSERT(used <= 520);
	/* A stuffed dot counts as a byte of its line. */
	T_EQ_INT(ml_run("..ab\r\n.\r\n", 9, 1, 4, 0, &c, &used, &pushes),
	    POP3_ML_ERROR);
	T_EQ_INT(ml_run("..ab\r\n.\r\n", 9, 1, 5, 0, &c, &used, &pushes),
	    POP3_ML_END);
	buf_free(&w);
	buf_free(&c.out);
}

/* A response that never ends is stopped by the size limit. */
static void
test_ml_size_limit(void)
{
	struct pop3_ml		ml;
	struct collect		c;
	enum pop3_ml_status	r = POP3_ML_MORE;
	char			chunk[1000];
	size_t			used, fed = 0;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	memset(chunk, 'z', sizeof chunk);
	chunk[sizeof chunk - 2] = '\r';
	chunk[sizeof chunk - 1] = '\n';
	pop3_ml_init(&ml, 0, 50000);
	while (r == POP3_ML_MORE && fed < 10000000) {
		r = pop3_ml_push(&ml, chunk, sizeof chunk, &used, collect_out,
		    &c);
		fed += sizeof chunk;
	}
	T_EQ_INT(r, POP3_ML_ERROR);
	T_ASSERT(ml.too_big);
	T_ASSERT(fed <= 51000);
	T_ASSERT(c.out.len <= 50000);
	buf_free(&c.out);
}

static void
test_ml_abort(void)
{
	struct collect	c;
	size_t		used;
	int		pushes;

	memset(&c, 0, sizeof c);
	buf_init(&c.out, 0);
	c.fail_at = 2;
	T_EQ_INT(ml_run("a\r\n..b\r\n.\r\n", 11, 0, 0, 0, &c, &used, &pushes),
	    POP3_ML_ABORT);
	buf_free(&c.out);
}

/* ---- Status lines ------------------------------------------------------- */

static void
test_status(void)
{
	struct pop3_status	st;

	T_EQ_INT(pop3_parse_status("+OK", &st), 0);
	T_EQ_INT(st.kind, POP3_OK);
	T_EQ_STR(st.text, "");
	T_EQ_INT(pop3_parse_status("+OK 2 320", &st), 0);
	T_EQ_STR(st.text, "2 320");
	T_ASSERT(st.code == NULL);
	T_EQ_INT(pop3_parse_status("-ERR [AUTH] Authentication failed.", &st),
	    0);
	T_EQ_INT(st.kind, POP3_ERR);
	T_EQ_MEM(st.code, st.code_len, "AUTH", 4);
	T_EQ_STR(st.text, "Authentication failed.");
	T_EQ_INT(pop3_code_class(&st, ERR_PROTO), ERR_AUTH);
	T_EQ_INT(pop3_parse_status("-ERR [SYS/TEMP] try later", &st), 0);
	T_EQ_INT(pop3_code_class(&st, ERR_AUTH), ERR_TRANSIENT);
	T_EQ_INT(pop3_parse_status("-ERR [IN-USE] locked", &st), 0);
	T_EQ_INT(pop3_code_class(&st, ERR_AUTH), ERR_TRANSIENT);
	T_EQ_INT(pop3_parse_status("-ERR [SYS/PERM] gone", &st), 0);
	T_EQ_INT(pop3_code_class(&st, ERR_AUTH), ERR_PROTO);
	T_EQ_INT(pop3_parse_status("-ERR no code", &st), 0);
	T_EQ_INT(pop3_code_class(&st, ERR_AUTH), ERR_AUTH);
	T_EQ_INT(pop3_parse_status("-ERR [] x", &st), 0);
	T_ASSERT(st.code == NULL);
	T_EQ_INT(pop3_parse_status("+ dXNlcg==", &st), 0);
	T_EQ_INT(st.kind, POP3_CONT);
	T_EQ_STR(st.text, "dXNlcg==");
	T_EQ_INT(pop3_parse_status("+", &st), 0);
	T_EQ_INT(st.kind, POP3_CONT);
	T_EQ_INT(pop3_parse_status("+OKAY", &st), -1);
	T_EQ_INT(pop3_parse_status("* OK imap", &st), -1);
	T_EQ_INT(pop3_parse_status("", &st), -1);
	T_EQ_INT(pop3_parse_status("-ERROR", &st), -1);
	T_EQ_INT(pop3_parse_status("+ok lower case", &st), 0);
	T_EQ_INT(st.kind, POP3_OK);
}

static void
test_clean_and_timestamp(void)
{
	char	out[16], *ts;

	pop3_clean_text(out, sizeof out, "a\033[2Jb\x7f" "c");
	T_EQ_STR(out, "a?[2Jb?c");
	pop3_clean_text(out, 4, "abcdef");
	T_EQ_STR(out, "abc");
	ts = pop3_greeting_timestamp("POP3 server ready "
	    "<1896.697170952@dbc.mtview.ca.us>");
	T_EQ_STR(ts, "<1896.697170952@dbc.mtview.ca.us>");
	free(ts);
	T_ASSERT(pop3_greeting_timestamp("Dovecot ready.") == NULL);
	T_ASSERT(pop3_greeting_timestamp("bad <a b>") == NULL);
	T_ASSERT(pop3_greeting_timestamp("unterminated <abc") == NULL);
}

/* RFC 1939 7, the APOP example. */
static void
test_apop_digest(void)
{
	char	d[33];

	T_EQ_INT(pop3_apop_digest("<1896.697170952@dbc.mtview.ca.us>",
	    "tanstaaf", d), 0);
	T_EQ_STR(d, "c4c9334bac560ecc979e58001b3e22fb");
}

/* ---- Scripted servers (tests/scripted.c) ---------------------------- */

static void
params_init(struct proto_params *a, int port, enum proto_tls tls)
{
	memset(a, 0, sizeof *a);
	a->name = "test";
	a->tls = tls;
	a->host = "127.0.0.1";
	a->port = port;
	a->user = "alice";
	a->connect_timeout_ms = 5000;
	a->io_timeout_ms = 5000;
}

/* Answer CAPA with these lines. */
static void
srv_capa(struct srv *s, const char *caps)
{
	const char	*l = srv_line(s);

	if (l == NULL || strcmp(l, "CAPA") != 0) {
		srv_send(s, "-ERR expected CAPA\r\n");
		return;
	}
	srv_send(s, "+OK\r\n%s.\r\n", caps);
}

/* Answer each command of a logged-in session until QUIT. */
static void
srv_session(struct srv *s, const char *caps)
{
	const char	*l;
	unsigned	 n;

	srv_capa(s, caps);
	while ((l = srv_line(s)) != NULL) {
		if (strcmp(l, "QUIT") == 0) {
			srv_send(s, "+OK bye\r\n");
			return;
		}
		if (strcmp(l, "STAT") == 0)
			srv_send(s, "+OK 3 300\r\n");
		else if (strcmp(l, "UIDL") == 0)
			srv_send(s, "+OK\r\n1 aaa\r\n2 bbb\r\n3 ccc\r\n.\r\n");
		else if (strcmp(l, "LIST") == 0)
			srv_send(s, "+OK\r\n1 100\r\n2 100\r\n3 100\r\n.\r\n");
		else if (sscanf(l, "RETR %u", &n) == 1) {
			/* Hold the answer until enough RETRs came in. */
			if (s->window_wait > 0) {
				while (srv_pending_lines(s) + 1 <
				    s->window_wait && srv_fill(s, 1000))
					;
				s->window_wait = 0;
			}
			if (srv_pending_lines(s) + 1 > s->maxpipe)
				s->maxpipe = srv_pending_lines(s) + 1;
			if (n == 2)
				srv_send(s, "-ERR [SYS/TEMP] cannot read\r\n");
			else
				srv_send(s, "+OK\r\nSubject: %u\r\n\r\n..%u\r\n"
				    ".\r\n", n, n);
		} else if (sscanf(l, "DELE %u", &n) == 1) {
			if (srv_pending_lines(s) + 1 > s->maxpipe)
				s->maxpipe = srv_pending_lines(s) + 1;
			srv_send(s, n == 3 ? "-ERR no\r\n" : "+OK\r\n");
		} else
			srv_send(s, "-ERR unknown\r\n");
	}
}

static void
script_user_pass(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\nUIDL\r\nTOP\r\n");
	if ((l = srv_line(s)) == NULL || strcmp(l, "USER alice") != 0)
		return;
	srv_send(s, "+OK\r\n");
	if ((l = srv_line(s)) == NULL || strcmp(l, "PASS s3cret") != 0)
		return;
	srv_send(s, "+OK logged in\r\n");
	srv_session(s, "USER\r\nUIDL\r\nTOP\r\n");
}

static void
test_client_user_pass(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;
	uint32_t		 n = 0;
	uint64_t		 size = 0;

	srv_start(&s, script_user_pass);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "s3cret", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_STR(pop3_auth_used(c), "USER");
		T_ASSERT(!pop3_pipelining(c));
		T_ASSERT(pop3_has_cap(c, "uidl"));
		T_EQ_INT(pop3_stat(c, &n, &size, &err), 0);
		T_EQ_INT(n, 3);
		T_EQ_INT(size, 300);
		T_EQ_INT(pop3_quit(&c, &err), 0);
	} else
		printf("  %s\n", err.msg);
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\nUSER alice\nPASS s3cret\nCAPA\nSTAT\nQUIT\n");
	buf_free(&s.got);
}

static void
script_sasl_plain(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "SASL PLAIN LOGIN\r\nUSER\r\nPIPELINING\r\n");
	/* base64("\0alice\0s3cret") */
	if ((l = srv_line(s)) == NULL ||
	    strcmp(l, "AUTH PLAIN AGFsaWNlAHMzY3JldA==") != 0) {
		srv_send(s, "-ERR unexpected\r\n");
		return;
	}
	srv_send(s, "+OK logged in\r\n");
	srv_session(s, "SASL PLAIN LOGIN\r\nUSER\r\nPIPELINING\r\nUIDL\r\n");
}

/* Collects what pop3_fetch hands out. */
struct fetched {
	struct buf	log;
};

static int
f_begin(void *arg, uint32_t msgno)
{
	struct fetched	*f = arg;

	buf_printf(&f->log, "[%u:", msgno);
	return 0;
}

static int
f_data(void *arg, const char *p, size_t len)
{
	struct fetched	*f = arg;

	buf_add(&f->log, p, len);
	return 0;
}

static int
f_end(void *arg, uint32_t msgno, uint64_t len)
{
	struct fetched	*f = arg;

	buf_printf(&f->log, ":%llu]", (unsigned long long)len);
	return 0;
}

static int
f_refused(void *arg, uint32_t msgno, const char *text)
{
	struct fetched	*f = arg;

	buf_printf(&f->log, "[%u refused %s]", msgno, text);
	return 0;
}

static const struct pop3_sink fsink = { f_begin, f_data, f_end, f_refused };

static int
uidl_collect(void *arg, uint32_t msgno, const char *uidl)
{
	buf_printf(arg, "%u=%s ", msgno, uidl);
	return 0;
}

static int
dele_collect(void *arg, uint32_t msgno, bool ok, const char *text)
{
	buf_printf(arg, "%u:%s ", msgno, ok ? "ok" : "no");
	return 0;
}

static void
test_client_sasl_pipelined(void)
{
	struct pop3_client	*c;
	struct pop3_limits	 lim;
	struct pop3_item	 items[3] = { { 1, 100 }, { 2, 100 }, { 3, 100 } };
	uint32_t		 dele[3] = { 1, 2, 3 };
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;
	struct fetched		 f;
	struct buf		 u = BUF_INIT(0);

	srv_start(&s, script_sasl_plain);
	s.window_wait = 3;
	params_init(&a, s.port, PROTO_TLS_NONE);
	pop3_limits_default(&lim);
	lim.window = 2;
	c = pop3_connect(&a, "s3cret", &lim, &err);
	T_ASSERT(c != NULL);
	if (c == NULL) {
		printf("  %s\n", err.msg);
		srv_stop(&s);
		return;
	}
	T_EQ_STR(pop3_auth_used(c), "AUTH PLAIN");
	T_ASSERT(pop3_pipelining(c));
	T_EQ_INT(pop3_uidl(c, uidl_collect, &u, &err), 1);
	T_EQ_STR(u.data, "1=aaa 2=bbb 3=ccc ");
	buf_init(&f.log, 0);
	T_EQ_INT(pop3_fetch(c, items, 3, -1, &fsink, &f, &err), 0);
	T_EQ_STR(f.log.data, "[1:Subject: 1\r\n\r\n.1\r\n:18]"
	    "[2 refused cannot read][3:Subject: 3\r\n\r\n.3\r\n:18]");
	buf_reset(&u);
	T_EQ_INT(pop3_dele(c, dele, 3, dele_collect, &u, &err), 0);
	T_EQ_STR(u.data, "1:ok 2:ok 3:no ");
	T_EQ_INT(pop3_quit(&c, &err), 0);
	srv_stop(&s);
	/* The window was used, and never exceeded. */
	T_EQ_INT(s.maxpipe, 2);
	T_ASSERT(strstr(s.got.data, "RETR 1\nRETR 2\nRETR 3\n") != NULL);
	buf_free(&s.got);
	buf_free(&f.log);
	buf_free(&u);
}

static void
script_sasl_login(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "SASL LOGIN\r\n");
	if ((l = srv_line(s)) == NULL || strcmp(l, "AUTH LOGIN") != 0)
		return;
	srv_send(s, "+ VXNlcm5hbWU6\r\n");
	if ((l = srv_line(s)) == NULL || strcmp(l, "YWxpY2U=") != 0)
		return;
	srv_send(s, "+ UGFzc3dvcmQ6\r\n");
	if ((l = srv_line(s)) == NULL || strcmp(l, "czNjcmV0") != 0)
		return;
	srv_send(s, "-ERR [AUTH] Authentication failed.\r\n");
	srv_line(s);
}

/* LOGIN's challenges answered in turn; the refusal is ERR_AUTH with the text. */
static void
test_client_sasl_login_refused(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;

	srv_start(&s, script_sasl_login);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "s3cret", NULL, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_AUTH);
	T_ASSERT(strstr(err.msg, "Authentication failed.") != NULL);
	T_ASSERT(strstr(err.msg, "AUTH LOGIN") != NULL);
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\nAUTH LOGIN\nYWxpY2U=\nczNjcmV0\nQUIT\n");
	buf_free(&s.got);
}

static void
script_apop(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"
	    "\r\n");
	srv_send(s, "-ERR no CAPA here\r\n");	/* answers CAPA early: fine */
	srv_line(s);
	if ((l = srv_line(s)) == NULL ||
	    strcmp(l, "APOP alice c4c9334bac560ecc979e58001b3e22fb") != 0)
		return;
	srv_send(s, "+OK maildrop has 0 messages\r\n");
	if ((l = srv_line(s)) != NULL && strcmp(l, "QUIT") == 0)
		srv_send(s, "+OK\r\n");
}

static void
test_client_apop(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;

	srv_start(&s, script_apop);
	params_init(&a, s.port, PROTO_TLS_NONE);
	a.apop = true;
	c = pop3_connect(&a, "tanstaaf", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_STR(pop3_auth_used(c), "APOP");
		T_EQ_INT(pop3_quit(&c, &err), 0);
	} else
		printf("  %s\n", err.msg);
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\nAPOP alice "
	    "c4c9334bac560ecc979e58001b3e22fb\nQUIT\n");
	buf_free(&s.got);
}

/* Without apop = yes, the same server gets USER/PASS, never APOP. */
static void
script_no_apop(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK ready <1.2@host>\r\n");
	srv_line(s);
	srv_send(s, "-ERR\r\n");
	while ((l = srv_line(s)) != NULL) {
		if (strcmp(l, "QUIT") == 0) {
			srv_send(s, "+OK\r\n");
			break;
		}
		srv_send(s, "+OK\r\n");
	}
}

static void
test_client_apop_not_allowed(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;

	srv_start(&s, script_no_apop);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "pw", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL)
		T_EQ_STR(pop3_auth_used(c), "USER");
	pop3_quit(&c, &err);
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\nUSER alice\nPASS pw\nQUIT\n");
	buf_free(&s.got);
}

static void
script_no_stls(struct srv *s)
{
	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\nSASL PLAIN\r\n");
	srv_line(s);	/* whatever comes (should be nothing but EOF) */
}

/* pop3:// without STLS offered: refuse, and send no credentials. */
static void
test_client_stls_required(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;

	srv_start(&s, script_no_stls);
	params_init(&a, s.port, PROTO_TLS_STARTTLS);
	c = pop3_connect(&a, "s3cret", NULL, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TLS);
	T_ASSERT(strstr(err.msg, "STLS") != NULL);
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\n");
	buf_free(&s.got);
}

static void
script_stls_inject(struct srv *s)
{
	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "STLS\r\nUSER\r\n");
	srv_line(s);
	/* The +OK and an injected line in one packet, before any TLS. */
	srv_send(s, "+OK begin TLS\r\n+OK injected\r\n");
	srv_line(s);
}

static void
test_client_stls_injection(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;

	srv_start(&s, script_stls_inject);
	params_init(&a, s.port, PROTO_TLS_STARTTLS);
	c = pop3_connect(&a, "s3cret", NULL, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TLS);
	T_ASSERT(strstr(err.msg, "before the TLS handshake") != NULL);
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\nSTLS\n");
	buf_free(&s.got);
}

static void
script_in_use(struct srv *s)
{
	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\nRESP-CODES\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "-ERR [IN-USE] Mailbox is locked by another session\r\n");
	srv_line(s);
}

static void
test_client_in_use(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;

	srv_start(&s, script_in_use);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "pw", NULL, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TRANSIENT);
	T_ASSERT(strstr(err.msg, "[IN-USE] Mailbox is locked") != NULL);
	srv_stop(&s);
	buf_free(&s.got);
}

static void
script_bad_lines(struct srv *s)
{
	char	big[20000];

	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_capa(s, "USER\r\n");
	srv_line(s);	/* STAT */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	srv_send(s, "+OK %s", big);	/* no line end, longer than allowed */
	srv_line(s);
}

static void
test_client_long_status_line(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;
	uint32_t		 n;
	uint64_t		 size;

	srv_start(&s, script_bad_lines);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "pw", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(pop3_stat(c, &n, &size, &err), -1);
		T_EQ_INT(err.cls, ERR_PROTO);
		T_ASSERT(strstr(err.msg, "longer than") != NULL);
		T_ASSERT(pop3_broken(c) != NULL);
		pop3_close(&c);
	}
	srv_stop(&s);
	buf_free(&s.got);
}

static void
script_endless(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_capa(s, "USER\r\n");
	l = srv_line(s);
	if (l != NULL && strcmp(l, "RETR 1") == 0)
		srv_send(s, "+OK\r\nSubject: never ends\r\n\r\nbody\r\n");
	/* ... and then nothing: the client's timeout ends it. */
	srv_line(s);
}

static void
test_client_endless_response(void)
{
	struct pop3_client	*c;
	struct pop3_item	 item = { 1, 100 };
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;
	struct fetched		 f;

	srv_start(&s, script_endless);
	params_init(&a, s.port, PROTO_TLS_NONE);
	a.io_timeout_ms = 1000;
	c = pop3_connect(&a, "pw", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		buf_init(&f.log, 0);
		T_EQ_INT(pop3_fetch(c, &item, 1, -1, &fsink, &f, &err), -1);
		T_EQ_INT(err.cls, ERR_TRANSIENT);
		T_ASSERT(strstr(err.msg, "timed out") != NULL);
		/* begin was called, end never was. */
		T_EQ_STR(f.log.data, "[1:Subject: never ends\r\n\r\nbody\r\n");
		pop3_close(&c);
		buf_free(&f.log);
	}
	srv_stop(&s);
	buf_free(&s.got);
}

static void
script_quit_err(struct srv *s)
{
	const char	*l;

	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_capa(s, "USER\r\n");
	if ((l = srv_line(s)) != NULL && strcmp(l, "DELE 1") == 0)
		srv_send(s, "+OK marked\r\n");
	if ((l = srv_line(s)) != NULL && strcmp(l, "QUIT") == 0)
		srv_send(s, "-ERR [SYS/PERM] some deleted messages not removed"
		    "\r\n");
}

static void
test_client_quit_err(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;
	uint32_t		 one = 1;

	srv_start(&s, script_quit_err);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "pw", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(pop3_dele(c, &one, 1, NULL, NULL, &err), 0);
		T_EQ_INT(pop3_quit(&c, &err), -1);
		T_ASSERT(c == NULL);
		T_ASSERT(strstr(err.msg, "-ERR to QUIT") != NULL);
		T_ASSERT(strstr(err.msg, "not removed") != NULL);
	}
	srv_stop(&s);
	buf_free(&s.got);
}

/* pop3_close after a DELE unmarks it (RSET) before QUIT. */
static void
script_rset(struct srv *s)
{
	srv_send(s, "+OK ready\r\n");
	srv_capa(s, "USER\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_capa(s, "USER\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
	srv_line(s);
	srv_send(s, "+OK\r\n");
}

static void
test_client_close_rset(void)
{
	struct pop3_client	*c;
	struct proto_params	 a;
	struct error		 err;
	struct srv		 s;
	uint32_t		 one = 1;

	srv_start(&s, script_rset);
	params_init(&a, s.port, PROTO_TLS_NONE);
	c = pop3_connect(&a, "pw", NULL, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(pop3_dele(c, &one, 1, NULL, NULL, &err), 0);
		pop3_close(&c);
	}
	srv_stop(&s);
	T_EQ_STR(s.got.data, "CAPA\nUSER alice\nPASS pw\nCAPA\nDELE 1\nRSET\n"
	    "QUIT\n");
	buf_free(&s.got);
}

static const struct test tests[] = {
	{ "ml_basic", test_ml_basic },
	{ "ml_byte_by_byte", test_ml_byte_by_byte },
	{ "ml_every_split", test_ml_every_split },
	{ "ml_next_response", test_ml_next_response },
	{ "ml_empty_and_lf", test_ml_empty_and_lf },
	{ "ml_long_lines", test_ml_long_lines },
	{ "ml_size_limit", test_ml_size_limit },
	{ "ml_abort", test_ml_abort },
	{ "status", test_status },
	{ "clean_and_timestamp", test_clean_and_timestamp },
	{ "apop_digest", test_apop_digest },
	{ "client_user_pass", test_client_user_pass },
	{ "client_sasl_pipelined", test_client_sasl_pipelined },
	{ "client_sasl_login_refused", test_client_sasl_login_refused },
	{ "client_apop", test_client_apop },
	{ "client_apop_not_allowed", test_client_apop_not_allowed },
	{ "client_stls_required", test_client_stls_required },
	{ "client_stls_injection", test_client_stls_injection },
	{ "client_in_use", test_client_in_use },
	{ "client_long_status_line", test_client_long_status_line },
	{ "client_endless_response", test_client_endless_response },
	{ "client_quit_err", test_client_quit_err },
	{ "client_close_rset", test_client_close_rset },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
