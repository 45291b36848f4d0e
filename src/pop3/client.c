/*
 * POP3 connection: greeting, CAPA, STLS, authentication, and the commands
 * of the TRANSACTION state, pipelined when the server offers PIPELINING.
 *
 * Reading: one buffer (rbuf) holds what arrived and was not used yet.
 * Status lines are cut from it in place; the bodies of multi-line
 * responses are pushed through the multi-line parser (multiline.c), whose
 * output goes straight to the caller's sink, so no message is ever held
 * whole in memory here.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "pop3-private.h"
#include "proto.h"
#include "sasl.h"
#include "xmalloc.h"

#define POP3_RBUF_SIZE		(256 * 1024)
#define POP3_TEXT_MAX		512	/* server text kept for error messages */
#define POP3_CAPS_MAX		64	/* CAPA lines kept */
#define POP3_AUTH_LINE_MAX	255	/* RFC 5034 4: AUTH with initial response */
#define POP3_UIDL_MAX		512	/* longest UIDL accepted (RFC: 70) */

enum pop3_state {
	POP3_S_NEW,
	POP3_S_AUTHORIZATION,	/* greeting read */
	POP3_S_TRANSACTION,	/* logged in */
	POP3_S_UPDATE,		/* QUIT sent */
	POP3_S_BROKEN,
};

static const char *state_names[] = {
	[POP3_S_NEW] = "new",
	[POP3_S_AUTHORIZATION] = "authorization",
	[POP3_S_TRANSACTION] = "transaction",
	[POP3_S_UPDATE] = "update",
	[POP3_S_BROKEN] = "broken",
};

struct pop3_client {
	/* Copied from the proto_params at connect. */
	char			*name;		/* account, for messages */
	char			*host;
	char			*user;
	enum proto_tls		 tls;
	bool			 apop;		/* APOP allowed */
	char			*auth;		/* wanted method, or NULL */
	bool			 token;		/* the secret is an OAuth2 token */
	bool			 external;	/* a certificate, no secret */
	int			 port;
	struct conn		*conn;
	enum pop3_state		 state;
	struct error		 error;		/* what broke it */
	struct pop3_limits	 lim;

	char			*rbuf;
	size_t			 rstart, rend;

	char			*caps[POP3_CAPS_MAX];
	size_t			 ncaps;
	bool			 capa_ok;	/* the server answered CAPA */
	char			*timestamp;	/* APOP, from the greeting */
	const char		*auth_used;
	const char		*challenge;	/* the last "+ " line, in rbuf */
	uint64_t		 marked;	/* DELEs accepted this session */

	/* The last status line: kind, code and text (cleaned). */
	struct pop3_status	 st;
	char			 code[64];
	char			 text[POP3_TEXT_MAX];
};

void
pop3_limits_default(struct pop3_limits *lim)
{
	lim->resp_line_max = 8192;
	lim->content_line_max = 64 * 1024 * 1024;
	lim->msg_max = 1000000000;
	lim->window = 32;
	lim->sasl_rounds_max = 4;
}

/* Change state only here, so a debug log shows every transition. */
static void
pop3_set_state(struct pop3_client *c, enum pop3_state state)
{
	if (c->state != state)
		log_debug("pop3 %s: %s -> %s", c->name,
		    state_names[c->state], state_names[state]);
	c->state = state;
}

static int
pop3_break(struct pop3_client *c, const struct error *err)
{
	if (c->state != POP3_S_BROKEN) {
		c->error = *err;
		pop3_set_state(c, POP3_S_BROKEN);
	}
	return -1;
}

static int
pop3_check(struct pop3_client *c, struct error *err)
{
	if (c->state == POP3_S_BROKEN) {
		if (err != NULL)
			*err = c->error;
		return -1;
	}
	return 0;
}

/* Set err and break the client with it. */
static int
pop3_fail(struct pop3_client *c, struct error *err, enum err_class cls,
    const char *fmt, ...)
{
	struct error	e;
	va_list		ap;

	va_start(ap, fmt);
	error_vset(&e, cls, fmt, ap);
	va_end(ap);
	if (err != NULL)
		*err = e;
	return pop3_break(c, &e);
}

const struct error *
pop3_broken(const struct pop3_client *c)
{
	return c->state == POP3_S_BROKEN ? &c->error : NULL;
}

bool
pop3_has_cap(const struct pop3_client *c, const char *cap)
{
	size_t	i, n = strlen(cap);

	for (i = 0; i < c->ncaps; i++)
		if (strncasecmp_ascii(c->caps[i], cap, n) == 0 &&
		    (c->caps[i][n] == '\0' || c->caps[i][n] == ' '))
			return true;
	return false;
}

bool
pop3_pipelining(const struct pop3_client *c)
{
	return pop3_has_cap(c, "PIPELINING");
}

const char *
pop3_auth_used(const struct pop3_client *c)
{
	return c->auth_used;
}

void
pop3_counters(const struct pop3_client *c, size_t *in, size_t *out)
{
	*in = *out = 0;
	if (c->conn != NULL)
		conn_counters(c->conn, in, out);
}

static void
pop3_clear_caps(struct pop3_client *c)
{
	while (c->ncaps > 0)
		free(c->caps[--c->ncaps]);
	c->capa_ok = false;
}

/* ---- Status lines ------------------------------------------------------- */

int
pop3_parse_status(const char *line, struct pop3_status *st)
{
	const char	*p, *e;

	memset(st, 0, sizeof *st);
	if (strncasecmp_ascii(line, "+OK", 3) == 0 &&
	    (line[3] == '\0' || line[3] == ' ')) {
		st->kind = POP3_OK;
		p = line + 3;
	} else if (strncasecmp_ascii(line, "-ERR", 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' ')) {
		st->kind = POP3_ERR;
		p = line + 4;
	} else if (line[0] == '+' && (line[1] == '\0' || line[1] == ' ')) {
		/* A SASL challenge: the rest is base64, not text. */
		st->kind = POP3_CONT;
		st->text = line[1] == ' ' ? line + 2 : line + 1;
		return 0;
	} else
		return -1;
	if (*p == ' ')
		p++;
	/* RFC 2449 8: "[" code "]" first, codes are atoms and "/". */
	if (*p == '[' && (e = strchr(p, ']')) != NULL && e > p + 1) {
		st->code = p + 1;
		st->code_len = (size_t)(e - p - 1);
		p = e + 1;
		if (*p == ' ')
			p++;
	}
	st->text = p;
	return 0;
}

static bool
code_is(const struct pop3_status *st, const char *code)
{
	return st->code != NULL && strlen(code) == st->code_len &&
	    strncasecmp_ascii(st->code, code, st->code_len) == 0;
}

enum err_class
pop3_code_class(const struct pop3_status *st, enum err_class dflt)
{
	/* RFC 2449 8.1, RFC 3206. */
	if (code_is(st, "AUTH"))
		return ERR_AUTH;
	if (code_is(st, "SYS/TEMP") || code_is(st, "IN-USE") ||
	    code_is(st, "LOGIN-DELAY"))
		return ERR_TRANSIENT;
	if (code_is(st, "SYS/PERM"))
		return ERR_PROTO;
	return dflt;
}

void
pop3_clean_text(char *out, size_t outsz, const char *in)
{
	size_t	i = 0;

	if (outsz == 0)
		return;
	for (; *in != '\0' && i + 1 < outsz; in++) {
		unsigned char ch = (unsigned char)*in;

		out[i++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[i] = '\0';
}

char *
pop3_greeting_timestamp(const char *text)
{
	const char	*s, *e, *p;

	if ((s = strchr(text, '<')) == NULL || (e = strchr(s, '>')) == NULL)
		return NULL;
	if (e - s < 3 || e - s > 255)
		return NULL;
	for (p = s + 1; p < e; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '<')
			return NULL;
	return xmemdup0(s, (size_t)(e - s + 1));
}

int
pop3_apop_digest(const char *timestamp, const char *password, char out[33])
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 md[16];
	char			*s;
	size_t			 i;
	int			 rv;

	xasprintf(&s, "%s%s", timestamp, password);
	rv = gnutls_hash_fast(GNUTLS_DIG_MD5, s, strlen(s), md);
	freezero_str(s);
	if (rv < 0)
		return -1;
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	explicit_bzero(md, sizeof md);
	return 0;
}

/* ---- Reading and writing ------------------------------------------------ */

/* Read more bytes into rbuf; -1 (broken) on error or end of stream. */
static int
pop3_fill(struct pop3_client *c, struct error *err)
{
	struct error	e;
	ssize_t		n;

	if (c->rstart == c->rend)
		c->rstart = c->rend = 0;
	else if (c->rend == POP3_RBUF_SIZE) {
		memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
		c->rend -= c->rstart;
		c->rstart = 0;
	}
	error_clear(&e);
	n = conn_read(c->conn, c->rbuf + c->rend, POP3_RBUF_SIZE - c->rend, &e);
	if (n > 0) {
		c->rend += (size_t)n;
		return 0;
	}
	if (n == 0)
		error_set(&e, ERR_TRANSIENT, "%s closed the connection "
		    "unexpectedly", c->host);
	if (err != NULL)
		*err = e;
	return pop3_break(c, &e);
}

/*
 * The next line, without its line end, NUL-terminated in rbuf; valid until
 * the next read.
 */
static int
pop3_read_line(struct pop3_client *c, char **linep, struct error *err)
{
	char	*line, *nl;
	size_t	 scan = 0, len;

	for (;;) {
		line = c->rbuf + c->rstart;
		nl = memchr(line + scan, '\n', c->rend - c->rstart - scan);
		if (nl != NULL) {
			len = (size_t)(nl - line);
			c->rstart += len + 1;
			if (len > 0 && line[len - 1] == '\r')
				len--;
			line[len] = '\0';
			*linep = line;
			return 0;
		}
		scan = c->rend - c->rstart;
		if (scan > c->lim.resp_line_max)
			return pop3_fail(c, err, ERR_PROTO, "%s: response line "
			    "longer than %zu bytes", c->host,
			    c->lim.resp_line_max);
		if (pop3_fill(c, err) == -1)
			return -1;
	}
}

/*
 * Read a status line into c->st (code and text copied): 0 for +OK, 1 for
 * -ERR, 2 for a "+ " continuation, -1 broken.
 */
static int
pop3_read_status(struct pop3_client *c, struct error *err)
{
	struct pop3_status	 st;
	char			*line = NULL;
	size_t			 n;

	if (pop3_read_line(c, &line, err) == -1)
		return -1;
	if (pop3_parse_status(line, &st) == -1) {
		pop3_clean_text(c->text, 80, line);
		return pop3_fail(c, err, ERR_PROTO, "%s: not a POP3 response: "
		    "\"%s\"", c->host, c->text);
	}
	c->st = st;
	c->code[0] = '\0';
	if (st.code != NULL) {
		n = st.code_len < sizeof c->code ? st.code_len :
		    sizeof c->code - 1;
		memcpy(c->code, st.code, n);
		c->code[n] = '\0';
		pop3_clean_text(c->code, sizeof c->code, c->code);
		c->st.code = c->code;
		c->st.code_len = strlen(c->code);
	}
	/* A challenge is base64 and may be long: keep it whole, in rbuf. */
	if (st.kind == POP3_CONT) {
		c->challenge = st.text;
		c->st.text = NULL;
		c->text[0] = '\0';
		return 2;
	}
	pop3_clean_text(c->text, sizeof c->text, st.text);
	c->st.text = c->text;
	return st.kind == POP3_OK ? 0 : 1;
}

/* The last -ERR as "[CODE] text" for an error message. */
static const char *
pop3_last_err(struct pop3_client *c, char *out, size_t outsz)
{
	if (c->code[0] != '\0')
		snprintf(out, outsz, "[%s] %s", c->code, c->text);
	else
		snprintf(out, outsz, "%s", c->text[0] != '\0' ? c->text :
		    "(no reason given)");
	return out;
}

/* Queue a command line; secret keeps it out of the trace. */
static int
pop3_send(struct pop3_client *c, int secret, struct error *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
pop3_send(struct pop3_client *c, int secret, struct error *err,
    const char *fmt, ...)
{
	struct error	 e;
	va_list		 ap;
	char		*line;
	int		 rv;

	if (pop3_check(c, err) == -1)
		return -1;
	va_start(ap, fmt);
	xvasprintf(&line, fmt, ap);
	va_end(ap);
	error_clear(&e);
	rv = conn_write(c->conn, line, strlen(line), secret, &e);
	if (secret)
		freezero_str(line);
	else
		free(line);
	if (rv == -1) {
		if (err != NULL)
			*err = e;
		return pop3_break(c, &e);
	}
	return 0;
}

/* Send a one-line command and read its status: 0 +OK, 1 -ERR, -1 broken. */
static int
pop3_simple(struct pop3_client *c, struct error *err, const char *cmd)
{
	int	r;

	if (pop3_send(c, 0, err, "%s\r\n", cmd) == -1)
		return -1;
	if ((r = pop3_read_status(c, err)) == 2)
		return pop3_fail(c, err, ERR_PROTO, "%s: unexpected \"+\" "
		    "continuation to %s", c->host, cmd);
	return r;
}

/* A simple command that must succeed; -ERR is an error of class dflt. */
static int
pop3_expect_ok(struct pop3_client *c, struct error *err, const char *cmd,
    enum err_class dflt)
{
	char	text[POP3_TEXT_MAX + 80];
	int	r;

	if ((r = pop3_simple(c, err, cmd)) != 1)
		return r;
	return error_set(err, pop3_code_class(&c->st, dflt), "%s: %s refused: "
	    "%s", c->host, cmd, pop3_last_err(c, text, sizeof text));
}

/* ---- Multi-line bodies -------------------------------------------------- */

/*
 * Push the body of a multi-line response through the parser to out.
 * ERR_PROTO for the parser's limits; an aborting out keeps its own error.
 */
static int
pop3_read_body(struct pop3_client *c, size_t line_max, uint64_t max,
    pop3_ml_out out, void *arg, const char *what, struct error *err)
{
	struct pop3_ml		ml;
	enum pop3_ml_status	r;
	size_t			used;

	pop3_ml_init(&ml, line_max, max);
	for (;;) {
		if (c->rstart < c->rend) {
			r = pop3_ml_push(&ml, c->rbuf + c->rstart,
			    c->rend - c->rstart, &used, out, arg);
			c->rstart += used;
			if (r == POP3_ML_END)
				return 0;
			if (r == POP3_ML_ERROR && ml.too_big)
				return pop3_fail(c, err, ERR_PROTO, "%s: %s: %s "
				    "(more than %llu bytes)", c->host,
				    what, ml.error,
				    (unsigned long long)ml.max);
			if (r == POP3_ML_ERROR)
				return pop3_fail(c, err, ERR_PROTO, "%s: %s: %s",
				    c->host, what, ml.error);
			if (r == POP3_ML_ABORT) {
				struct error e;

				if (err != NULL && err->cls != ERR_NONE)
					e = *err;
				else
					error_set(&e, ERR_LOCAL, "%s: %s: "
					    "stopped", c->host, what);
				if (err != NULL)
					*err = e;
				return pop3_break(c, &e);
			}
		}
		if (pop3_fill(c, err) == -1)
			return -1;
	}
}

/* Splits the runs of a listing into lines for a per-line handler. */
struct pop3_lines {
	struct pop3_client	*c;
	struct buf		 line;
	int			(*cb)(struct pop3_lines *, char *line);
	void			*arg;
	pop3_list_cb		 list_cb;
	pop3_uidl_cb		 uidl_cb;
	struct error		*err;
	bool			 bad;
};

static int
pop3_lines_out(void *arg, const char *data, size_t len)
{
	struct pop3_lines	*l = arg;
	const char		*nl;
	size_t			 n;

	while (len > 0) {
		nl = memchr(data, '\n', len);
		n = nl != NULL ? (size_t)(nl - data) : len;
		if (buf_add(&l->line, data, n) == -1) {
			l->bad = true;
			return -1;
		}
		if (nl == NULL)
			break;
		if (l->line.len > 0 && l->line.data[l->line.len - 1] == '\r')
			l->line.len--;
		buf_addc(&l->line, '\0');
		if (l->cb(l, l->line.data) == -1)
			return -1;
		buf_reset(&l->line);
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}

/* Read a listing body line by line. */
static int
pop3_read_lines(struct pop3_client *c, struct pop3_lines *l, const char *what,
    struct error *err)
{
	int	rv;

	l->c = c;
	l->err = err;
	buf_init(&l->line, c->lim.resp_line_max + 1);
	if (err != NULL)
		error_clear(err);
	rv = pop3_read_body(c, c->lim.resp_line_max, 0, pop3_lines_out, l,
	    what, err);
	if (rv == -1 && l->bad)
		error_set(err, ERR_PROTO, "%s: %s: line longer than %zu bytes",
		    c->host, what, c->lim.resp_line_max);
	buf_free(&l->line);
	return rv;
}

/* ---- CAPA, STLS, authentication ---------------------------------------- */

static int
capa_line(struct pop3_lines *l, char *line)
{
	struct pop3_client	*c = l->c;

	if (*line == '\0' || c->ncaps == POP3_CAPS_MAX)
		return 0;
	c->caps[c->ncaps++] = xstrdup(line);
	return 0;
}

static int
pop3_capa(struct pop3_client *c, struct error *err)
{
	struct pop3_lines	l;
	int			r;

	pop3_clear_caps(c);
	if ((r = pop3_simple(c, err, "CAPA")) == -1)
		return -1;
	if (r == 1)
		return 0;	/* an RFC 1939 server without extensions */
	memset(&l, 0, sizeof l);
	l.cb = capa_line;
	if (pop3_read_lines(c, &l, "CAPA", err) == -1)
		return -1;
	c->capa_ok = true;
	return 0;
}

static int
pop3_stls(struct pop3_client *c, struct error *err)
{
	char	text[POP3_TEXT_MAX + 80];
	int	r;

	/* Without CAPA we cannot know; asking costs nothing. */
	if (c->capa_ok && !pop3_has_cap(c, "STLS"))
		return pop3_fail(c, err, ERR_TLS, "%s does not offer STLS; "
		    "refusing to log in without TLS (use pop3s://, or "
		    "pop3+insecure:// to allow plain text)", c->host);
	if ((r = pop3_simple(c, err, "STLS")) == -1)
		return -1;
	if (r == 1)
		return pop3_fail(c, err, ERR_TLS, "%s refused STLS: %s; "
		    "refusing to log in without TLS", c->host,
		    pop3_last_err(c, text, sizeof text));
	/*
	 * Bytes after the +OK arrived before the handshake and could have
	 * been injected by a man in the middle: refuse them.
	 */
	if (c->rstart != c->rend)
		return pop3_fail(c, err, ERR_TLS, "%s sent data after its STLS "
		    "answer, before the TLS handshake; refusing the "
		    "connection", c->host);
	if (conn_starttls(c->conn, err) == -1)
		return pop3_break(c, err);
	/* Forget what was said in plain text and ask again. */
	return pop3_capa(c, err);
}

/* The credentials may go out now: TLS is up, or the account allows plain text. */
static void
pop3_assert_secure(struct pop3_client *c)
{
	if (!conn_is_tls(c->conn) && c->tls != PROTO_TLS_NONE)
		fatalx("%s: refusing to send a password without TLS", __func__);
}

static int
pop3_login_failed(struct pop3_client *c, const char *how, struct error *err)
{
	char	text[POP3_TEXT_MAX + 80];

	return error_set(err, pop3_code_class(&c->st, ERR_AUTH), "%s: login "
	    "as %s failed (%s): %s", c->host, c->user, how,
	    pop3_last_err(c, text, sizeof text));
}

static int
pop3_user_pass(struct pop3_client *c, const char *password, struct error *err)
{
	int	r;

	pop3_assert_secure(c);
	if (pop3_send(c, 0, err, "USER %s\r\n", c->user) == -1 ||
	    (r = pop3_read_status(c, err)) == -1)
		return -1;
	if (r != 0)
		return r == 2 ? pop3_fail(c, err, ERR_PROTO, "%s: unexpected "
		    "continuation to USER", c->host) :
		    pop3_login_failed(c, "USER", err);
	if (pop3_send(c, 1, err, "PASS %s\r\n", password) == -1 ||
	    (r = pop3_read_status(c, err)) == -1)
		return -1;
	if (r != 0)
		return r == 2 ? pop3_fail(c, err, ERR_PROTO, "%s: unexpected "
		    "continuation to PASS", c->host) :
		    pop3_login_failed(c, "USER/PASS", err);
	c->auth_used = "USER";
	return 0;
}

static int
pop3_apop(struct pop3_client *c, const char *password, struct error *err)
{
	char	digest[33];
	int	r;

	if (c->timestamp == NULL)
		return error_set(err, ERR_AUTH, "%s does not offer APOP (no "
		    "timestamp in its greeting)", c->host);
	pop3_assert_secure(c);
	if (pop3_apop_digest(c->timestamp, password, digest) == -1)
		return error_set(err, ERR_CONFIG, "APOP needs MD5, which this "
		    "GnuTLS refuses (FIPS mode?)");
	/* The digest is replayable for this timestamp: keep it secret too. */
	r = pop3_send(c, 1, err, "APOP %s %s\r\n", c->user, digest);
	explicit_bzero(digest, sizeof digest);
	if (r == -1 || (r = pop3_read_status(c, err)) == -1)
		return -1;
	if (r != 0)
		return r == 2 ? pop3_fail(c, err, ERR_PROTO, "%s: unexpected "
		    "continuation to APOP", c->host) :
		    pop3_login_failed(c, "APOP", err);
	c->auth_used = "APOP";
	return 0;
}

/* RFC 5034: AUTH mech [initial-response], then "+ challenge" rounds. */
static int
pop3_sasl(struct pop3_client *c, const char *mech, const char *password,
    struct error *err)
{
	struct sasl	*s;
	char		*ir, *resp, how[32];
	unsigned	 rounds = 0;
	int		 r;
	bool		 ir_pending = false;
	struct error	 why;

	error_clear(&why);
	if ((s = sasl_new(mech, c->user, password, err)) == NULL)
		return -1;
	sasl_set_host(s, c->host, c->port);
	if (conn_is_tls(c->conn)) {
		unsigned char	 cb[64];
		size_t		 cblen = sizeof cb;
		const char	*cbtype;

		if (conn_channel_binding(c->conn, &cbtype, cb, &cblen) == 0)
			sasl_set_channel_binding(s, cbtype, cb, cblen);
	}
	snprintf(how, sizeof how, "AUTH %s", sasl_name(s));
	pop3_assert_secure(c);
	ir = sasl_initial(s);
	if (ir != NULL && strlen("AUTH  \r\n") + strlen(sasl_name(s)) +
	    strlen(ir) <= POP3_AUTH_LINE_MAX) {
		r = pop3_send(c, 1, err, "AUTH %s %s\r\n", sasl_name(s),
		    *ir != '\0' ? ir : "=");
	} else {
		/* Too long for one line: send it after the empty challenge. */
		ir_pending = ir != NULL;
		r = pop3_send(c, 0, err, "AUTH %s\r\n", sasl_name(s));
	}
	for (;;) {
		if (r == -1 || (r = pop3_read_status(c, err)) == -1)
			break;
		if (r == 0) {
			static const char *const used[] = { "AUTH PLAIN",
			    "AUTH LOGIN", "AUTH CRAM-MD5", "AUTH SCRAM-SHA-1",
			    "AUTH SCRAM-SHA-256", "AUTH OAUTHBEARER",
			    "AUTH XOAUTH2", "AUTH EXTERNAL",
			    "AUTH SCRAM-SHA-1-PLUS", "AUTH SCRAM-SHA-256-PLUS" };
			size_t	i;

			/* SCRAM: the server must have proved itself. */
			if (!sasl_complete(s, err)) {
				r = pop3_fail(c, err, ERR_AUTH, "%s: %s",
				    c->host, err->msg);
				break;
			}
			c->auth_used = used[0];
			for (i = 0; i < sizeof used / sizeof used[0]; i++)
				if (strcmp(used[i] + 5, sasl_name(s)) == 0)
					c->auth_used = used[i];
			break;
		}
		if (r == 1) {
			r = pop3_login_failed(c, how, err);
			/* We cancelled: our reason, not the server's -ERR. */
			if (why.cls != ERR_NONE && err != NULL)
				*err = why;
			else if (sasl_server_error(s) != NULL && err != NULL)
				error_append(err, " (%s)", sasl_server_error(s));
			break;
		}
		/* A challenge. */
		if (++rounds > c->lim.sasl_rounds_max) {
			/* Cancel rather than loop with the server. */
			r = pop3_send(c, 0, err, "*\r\n");
			continue;
		}
		if (ir_pending) {
			ir_pending = false;
			r = pop3_send(c, 1, err, "%s\r\n", ir);
			continue;
		}
		if ((resp = sasl_step(s, c->challenge, &why)) == NULL) {
			/* We cannot answer: cancel, the server says -ERR. */
			r = pop3_send(c, 0, err, "*\r\n");
			continue;
		}
		r = pop3_send(c, 1, err, "%s\r\n", resp);
		freezero_str(resp);
	}
	freezero_str(ir);
	sasl_free(&s);
	return r == 0 ? 0 : -1;
}

static int
pop3_authenticate(struct pop3_client *c, const char *password,
    struct error *err)
{
	const char	*want = c->auth;
	const char	*offered[8], *mech;
	char		*sasl_line, *p;
	size_t		 i, n;
	int		 rv;

	if (c->user == NULL || *c->user == '\0')
		return error_set(err, ERR_CONFIG, "account %s: no user name in "
		    "the pop3 URL", c->name);
	if (strpbrk(c->user, "\r\n") != NULL ||
	    (password != NULL && strpbrk(password, "\r\n") != NULL))
		return error_set(err, ERR_CONFIG, "account %s: the user name or "
		    "password contains a line break", c->name);
	if (password == NULL)
		password = "";

	if (want == NULL && c->external)
		want = "EXTERNAL";
	if (want == NULL && c->token) {
		/* An OAuth2 token goes only where a token mechanism is. */
		for (i = 0; i < c->ncaps; i++) {
			if (strncasecmp_ascii(c->caps[i], "SASL ", 5) != 0)
				continue;
			if (strcasestr(c->caps[i], " OAUTHBEARER") != NULL)
				want = "OAUTHBEARER";
			else if (strcasestr(c->caps[i], " XOAUTH2") != NULL)
				want = "XOAUTH2";
		}
		if (want == NULL)
			return error_set(err, ERR_AUTH, "%s offers no OAuth2 "
			    "login (SASL OAUTHBEARER or XOAUTH2) for the token "
			    "of oauth2_token_command", c->host);
	}
	if (want != NULL) {
		if (strcmp(want, "plain") == 0)
			return pop3_sasl(c, "PLAIN", password, err);
		if (strcmp(want, "login") == 0)
			return pop3_sasl(c, "LOGIN", password, err);
		if (sasl_supported(want))
			return pop3_sasl(c, want, password, err);
		if (strcmp(want, "apop") == 0)
			return pop3_apop(c, password, err);
		return pop3_user_pass(c, password, err);
	}
	/* Without TLS, APOP keeps the password off the wire. */
	if (!conn_is_tls(c->conn) && c->apop && c->timestamp != NULL)
		return pop3_apop(c, password, err);

	/* "SASL PLAIN LOGIN ...": split the words in place. */
	for (i = 0; i < c->ncaps; i++) {
		if (strncasecmp_ascii(c->caps[i], "SASL ", 5) != 0)
			continue;
		sasl_line = xstrdup(c->caps[i] + 5);
		n = 0;
		for (p = sasl_line; *p != '\0' &&
		    n < sizeof offered / sizeof offered[0];) {
			while (*p == ' ')
				*p++ = '\0';
			if (*p == '\0')
				break;
			/* -PLUS only where there is TLS to bind to. */
			if (conn_is_tls(c->conn) || !sasl_is_plus(p))
				offered[n++] = p;
			p += strcspn(p, " ");
		}
		mech = sasl_choose_best(offered, n);
		rv = mech != NULL ? pop3_sasl(c, mech, password, err) : 1;
		free(sasl_line);
		if (rv != 1)
			return rv;
		break;
	}
	if (!c->capa_ok || pop3_has_cap(c, "USER"))
		return pop3_user_pass(c, password, err);
	if (c->apop && c->timestamp != NULL)
		return pop3_apop(c, password, err);
	if (!conn_is_tls(c->conn) && pop3_has_cap(c, "STLS"))
		return error_set(err, ERR_AUTH, "%s allows no login without "
		    "TLS: use pop3:// (STLS) or pop3s:// instead of "
		    "pop3+insecure://", c->host);
	return error_set(err, ERR_AUTH, "%s offers no login method petrel "
	    "can use (SASL PLAIN or LOGIN, USER%s)", c->host,
	    c->timestamp != NULL ? ", or APOP with apop = yes" : "");
}

struct pop3_client *
pop3_connect(const struct proto_params *pp, const char *password,
    const struct pop3_limits *lim, struct error *err)
{
	struct pop3_client	*c;
	struct conn_params	 p;
	char			 text[POP3_TEXT_MAX + 80];
	int			 r;

	proto_conn_params(pp, "pop3", &p);

	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(pp->name != NULL ? pp->name : "");
	c->host = xstrdup(pp->host != NULL ? pp->host : "");
	c->user = pp->user != NULL ? xstrdup(pp->user) : NULL;
	c->tls = pp->tls;
	c->apop = pp->apop;
	c->auth = pp->auth != NULL ? xstrdup(pp->auth) : NULL;
	c->token = pp->token;
	c->external = pp->external;
	c->port = pp->port;
	if (lim != NULL)
		c->lim = *lim;
	else
		pop3_limits_default(&c->lim);
	if (c->lim.resp_line_max > POP3_RBUF_SIZE / 2)
		c->lim.resp_line_max = POP3_RBUF_SIZE / 2;
	if (c->lim.window == 0)
		c->lim.window = 1;
	c->rbuf = xmalloc(POP3_RBUF_SIZE);
	if ((c->conn = conn_open(&p, err)) == NULL)
		goto fail;
	pop3_set_state(c, POP3_S_AUTHORIZATION);

	if ((r = pop3_read_status(c, err)) == -1)
		goto fail;
	if (r != 0) {
		error_set(err, r == 1 ? pop3_code_class(&c->st, ERR_TRANSIENT) :
		    ERR_PROTO, "%s refused the connection: %s", c->host,
		    pop3_last_err(c, text, sizeof text));
		goto fail;
	}
	c->timestamp = pop3_greeting_timestamp(c->text);
	if (pop3_capa(c, err) == -1)
		goto fail;
	if (c->tls == PROTO_TLS_STARTTLS && pop3_stls(c, err) == -1)
		goto fail;
	if (pop3_authenticate(c, password, err) == -1)
		goto fail;
	pop3_set_state(c, POP3_S_TRANSACTION);
	/* Capabilities may change with login (RFC 2449 5). */
	if (c->capa_ok && pop3_capa(c, err) == -1)
		goto fail;
	return c;
fail:
	pop3_close(&c);
	return NULL;
}

/* ---- Leaving ------------------------------------------------------------ */

static void
pop3_free(struct pop3_client *c)
{
	conn_close(&c->conn);
	pop3_clear_caps(c);
	free(c->timestamp);
	free(c->rbuf);
	free(c->name);
	free(c->host);
	free(c->user);
	free(c->auth);
	free(c);
}

int
pop3_quit(struct pop3_client **cp, struct error *err)
{
	struct pop3_client	*c = *cp;
	char			 text[POP3_TEXT_MAX + 80];
	int			 r, rv = -1;

	if (c == NULL)
		return error_set(err, ERR_LOCAL, "no POP3 connection");
	*cp = NULL;
	if (pop3_check(c, err) == -1)
		goto out;
	pop3_set_state(c, POP3_S_UPDATE);
	if ((r = pop3_simple(c, err, "QUIT")) == -1) {
		if (err != NULL && c->marked > 0) {
			struct error e = *err;

			error_set(err, e.cls, "QUIT: %s; the messages marked for "
			    "deletion may still be on the server", e.msg);
		} else
			error_prefix(err, "QUIT");
		goto out;
	}
	if (r != 0) {
		error_set(err, pop3_code_class(&c->st, ERR_PROTO), "%s answered "
		    "-ERR to QUIT: %s (some messages marked for deletion may "
		    "still be on the server)", c->host,
		    pop3_last_err(c, text, sizeof text));
		goto out;
	}
	rv = 0;
out:
	pop3_free(c);
	return rv;
}

void
pop3_close(struct pop3_client **cp)
{
	struct pop3_client	*c = *cp;
	struct error		 err;

	if (c == NULL)
		return;
	*cp = NULL;
	if (c->conn != NULL && (c->state == POP3_S_TRANSACTION ||
	    c->state == POP3_S_AUTHORIZATION)) {
		/* Best effort, with a short timeout: we are leaving anyway. */
		conn_set_timeout(c->conn, 5000);
		if (c->marked == 0 || pop3_simple(c, &err, "RSET") == 0)
			pop3_simple(c, &err, "QUIT");
	}
	pop3_free(c);
}

/* ---- TRANSACTION commands ----------------------------------------------- */

static int
pop3_transaction(struct pop3_client *c, struct error *err)
{
	if (pop3_check(c, err) == -1)
		return -1;
	if (c->state != POP3_S_TRANSACTION)
		return error_set(err, ERR_LOCAL, "POP3 %s: not logged in",
		    c->name);
	return 0;
}

int
pop3_stat(struct pop3_client *c, uint32_t *countp, uint64_t *sizep,
    struct error *err)
{
	uint64_t	 n, size;
	const char	*p, *sp;
	int		 r;

	if (pop3_transaction(c, err) == -1)
		return -1;
	if ((r = pop3_expect_ok(c, err, "STAT", ERR_PROTO)) != 0)
		return -1;
	/* "+OK nn mm" */
	p = c->text;
	if ((sp = strchr(p, ' ')) == NULL ||
	    parse_u64(p, (size_t)(sp - p), UINT32_MAX, &n) == -1 ||
	    parse_u64(sp + 1, strcspn(sp + 1, " "), UINT64_MAX, &size) == -1)
		return pop3_fail(c, err, ERR_PROTO, "%s: bad STAT answer: "
		    "\"%s\"", c->host, c->text);
	*countp = (uint32_t)n;
	*sizep = size;
	return 0;
}

int
pop3_noop(struct pop3_client *c, struct error *err)
{
	if (pop3_transaction(c, err) == -1)
		return -1;
	return pop3_expect_ok(c, err, "NOOP", ERR_PROTO) == 0 ? 0 : -1;
}

int
pop3_rset(struct pop3_client *c, struct error *err)
{
	if (pop3_transaction(c, err) == -1)
		return -1;
	if (pop3_expect_ok(c, err, "RSET", ERR_PROTO) != 0)
		return -1;
	c->marked = 0;
	return 0;
}

/* "msgno rest": the number and where the rest starts; -1 if malformed. */
static int
split_msgno(const char *line, uint32_t *msgnop, const char **restp)
{
	const char	*sp;
	uint64_t	 n;

	if ((sp = strchr(line, ' ')) == NULL ||
	    parse_u64(line, (size_t)(sp - line), UINT32_MAX, &n) == -1 ||
	    n == 0)
		return -1;
	while (*sp == ' ')
		sp++;
	*msgnop = (uint32_t)n;
	*restp = sp;
	return 0;
}

static int
list_line(struct pop3_lines *l, char *line)
{
	const char	*rest;
	uint32_t	 msgno;
	uint64_t	 size;
	char		 text[80];

	if (split_msgno(line, &msgno, &rest) == -1 ||
	    parse_u64(rest, strcspn(rest, " "), UINT64_MAX, &size) == -1) {
		pop3_clean_text(text, sizeof text, line);
		return error_set(l->err, ERR_PROTO, "%s: bad LIST line: \"%s\"",
		    l->c->host, text);
	}
	return l->list_cb(l->arg, msgno, size) == 0 ? 0 : -1;
}

int
pop3_list(struct pop3_client *c, pop3_list_cb cb, void *arg,
    struct error *err)
{
	struct pop3_lines	l;

	if (pop3_transaction(c, err) == -1)
		return -1;
	if (pop3_expect_ok(c, err, "LIST", ERR_PROTO) != 0)
		return -1;
	memset(&l, 0, sizeof l);
	l.cb = list_line;
	l.list_cb = cb;
	l.arg = arg;
	return pop3_read_lines(c, &l, "LIST", err);
}

static int
uidl_line(struct pop3_lines *l, char *line)
{
	const char	*rest, *p;
	uint32_t	 msgno;
	char		 text[80];
	size_t		 n;

	if (split_msgno(line, &msgno, &rest) == -1)
		goto bad;
	/*
	 * RFC 1939 7: 1 to 70 characters in the range 0x21 to 0x7E. Longer
	 * ones are taken (servers exceed the limit) up to POP3_UIDL_MAX.
	 */
	n = strcspn(rest, " ");
	if (n == 0 || n > POP3_UIDL_MAX || rest[n] != '\0')
		goto bad;
	for (p = rest; *p != '\0'; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			goto bad;
	return l->uidl_cb(l->arg, msgno, rest) == 0 ? 0 : -1;
bad:
	pop3_clean_text(text, sizeof text, line);
	return error_set(l->err, ERR_PROTO, "%s: bad UIDL line: \"%s\"",
	    l->c->host, text);
}

int
pop3_uidl(struct pop3_client *c, pop3_uidl_cb cb, void *arg,
    struct error *err)
{
	struct pop3_lines	l;
	int			r;

	if (pop3_transaction(c, err) == -1)
		return -1;
	if ((r = pop3_simple(c, err, "UIDL")) == -1)
		return -1;
	if (r == 1)
		return 0;
	memset(&l, 0, sizeof l);
	l.cb = uidl_line;
	l.uidl_cb = cb;
	l.arg = arg;
	return pop3_read_lines(c, &l, "UIDL", err) == -1 ? -1 : 1;
}

/* Counts the content bytes of one RETR/TOP on their way to the sink. */
struct pop3_fetch_ctx {
	const struct pop3_sink	*sink;
	void			*arg;
	uint64_t		 len;
};

static int
fetch_out(void *arg, const char *data, size_t len)
{
	struct pop3_fetch_ctx	*f = arg;

	f->len += len;
	return f->sink->data(f->arg, data, len);
}

static int
pop3_fetch_run(struct pop3_client *c, const struct pop3_item *items, size_t n,
    int top_lines, const struct pop3_sink *sink, void *arg, struct error *err);

int
pop3_fetch(struct pop3_client *c, const struct pop3_item *items, size_t n,
    int top_lines, const struct pop3_sink *sink, void *arg, struct error *err)
{
	int	rv;

	/* RETRs are pipelined: wake per 64 KB, not per TLS record. */
	if (c->conn != NULL)
		conn_set_bulk(c->conn, true);
	rv = pop3_fetch_run(c, items, n, top_lines, sink, arg, err);
	if (c->conn != NULL)
		conn_set_bulk(c->conn, false);
	return rv;
}

static int
pop3_fetch_run(struct pop3_client *c, const struct pop3_item *items, size_t n,
    int top_lines, const struct pop3_sink *sink, void *arg, struct error *err)
{
	struct pop3_fetch_ctx	 f;
	size_t			 sent = 0, got = 0, window;
	uint64_t		 max;
	char			 what[64];
	int			 r;
	bool			 refill = false;

	if (pop3_transaction(c, err) == -1)
		return -1;
	if (err != NULL)
		error_clear(err);
	window = pop3_pipelining(c) ? c->lim.window : 1;
	while (got < n) {
		/*
		 * Top the window up when half of it was answered: the writes
		 * go out together with the next read, one TLS record and one
		 * send for many commands.
		 */
		while (sent < n && sent - got < window &&
		    (sent == got || sent - got <= window / 2 || refill)) {
			refill = true;
			if (top_lines < 0)
				r = pop3_send(c, 0, err, "RETR %u\r\n",
				    items[sent].msgno);
			else
				r = pop3_send(c, 0, err, "TOP %u %d\r\n",
				    items[sent].msgno, top_lines);
			if (r == -1)
				return -1;
			sent++;
		}
		refill = false;
		snprintf(what, sizeof what, "%s of message %u",
		    top_lines < 0 ? "RETR" : "TOP", items[got].msgno);
		if ((r = pop3_read_status(c, err)) == -1)
			return error_prefix(err, "%s", what);
		if (r == 2)
			return pop3_fail(c, err, ERR_PROTO, "%s: unexpected "
			    "continuation to %s", c->host, what);
		if (r == 1) {
			if (sink->refused != NULL && sink->refused(arg,
			    items[got].msgno, c->text) == -1)
				goto aborted;
			got++;
			continue;
		}
		max = c->lim.msg_max;
		if (items[got].size > 0 && items[got].size <
		    (max - (1 << 20)) / 2)
			max = items[got].size * 2 + (1 << 20);
		if (sink->begin(arg, items[got].msgno) == -1)
			goto aborted;
		memset(&f, 0, sizeof f);
		f.sink = sink;
		f.arg = arg;
		if (pop3_read_body(c, c->lim.content_line_max, max, fetch_out,
		    &f, what, err) == -1) {
			/* The parser's errors name the command already. */
			if (err != NULL && err->cls != ERR_PROTO &&
			    err->cls != ERR_LOCAL)
				error_prefix(err, "%s", what);
			return -1;
		}
		if (sink->end(arg, items[got].msgno, f.len) == -1)
			goto aborted;
		got++;
	}
	return 0;
aborted:
	{
		struct error e;

		if (err != NULL && err->cls != ERR_NONE)
			e = *err;
		else
			error_set(&e, ERR_LOCAL, "%s: stopped", what);
		if (err != NULL)
			*err = e;
		return pop3_break(c, &e);
	}
}

int
pop3_dele(struct pop3_client *c, const uint32_t *msgnos, size_t n,
    pop3_dele_cb cb, void *arg, struct error *err)
{
	size_t	sent = 0, got = 0, window;
	int	r;
	bool	refill = false;

	if (pop3_transaction(c, err) == -1)
		return -1;
	window = pop3_pipelining(c) ? c->lim.window : 1;
	while (got < n) {
		while (sent < n && sent - got < window &&
		    (sent == got || sent - got <= window / 2 || refill)) {
			refill = true;
			if (pop3_send(c, 0, err, "DELE %u\r\n",
			    msgnos[sent]) == -1)
				return -1;
			sent++;
		}
		refill = false;
		if ((r = pop3_read_status(c, err)) == -1)
			return -1;
		if (r == 2)
			return pop3_fail(c, err, ERR_PROTO, "%s: unexpected "
			    "continuation to DELE", c->host);
		if (r == 0)
			c->marked++;
		if (cb != NULL && cb(arg, msgnos[got], r == 0, c->text) == -1) {
			struct error e;

			error_set(&e, ERR_LOCAL, "DELE: stopped");
			if (err != NULL)
				*err = e;
			return pop3_break(c, &e);
		}
		got++;
	}
	return 0;
}
