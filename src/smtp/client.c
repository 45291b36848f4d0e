/*
 * SMTP submission client (see include/smtp.h).
 *
 * Reading: one buffer holds what arrived and was not used yet; a reply is
 * read line by line, each line validated, its text kept (cleaned of
 * control bytes, bounded) for the error message the user will see.
 * Writing: conn buffers what is queued, so a pipelined MAIL and its RCPTs
 * go out in one flush, and the message is sent in pieces, never copied
 * whole.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "proto.h"
#include "sasl.h"
#include "smtp.h"
#include "xmalloc.h"

#define SMTP_RBUF_SIZE		(64 * 1024)
#define SMTP_LINE_MAX		4096	/* RFC 5321 4.5.3.1.5 says 512 */
#define SMTP_REPLY_LINES_MAX	200	/* lines of one reply */
#define SMTP_TEXT_MAX		900	/* server text kept for messages */
#define SMTP_EXTS_MAX		64
#define SMTP_AUTH_LINE_MAX	500	/* AUTH with initial response */
#define SMTP_SASL_ROUNDS_MAX	4
#define SMTP_CHUNK		(64 * 1024)	/* flushed this often in DATA */
/* RFC 5321 4.5.3.2: the wait for the reply to the final dot. */
#define SMTP_DATA_TIMEOUT_MS	(10 * 60 * 1000)

struct smtp_client {
	char		*host;
	char		*user;
	int		 port;
	enum proto_tls	 tls;
	char		*auth;		/* wanted mechanism list, or NULL */
	bool		 token, external;
	int		 io_timeout_ms;
	struct conn	*conn;
	bool		 broken;
	struct error	 error;		/* what broke it */
	bool		 permanent;	/* the last failure was a 5xx */

	char		*rbuf;
	size_t		 rstart, rend;

	char		*exts[SMTP_EXTS_MAX];
	size_t		 nexts;
	uint64_t	 size_limit;
	char		 auth_used[48];	/* "AUTH PLAIN", or "" */

	/* The last reply: code and text (lines joined by " / "). */
	int		 code;
	char		 text[SMTP_TEXT_MAX];
	char		*challenge;	/* the last 334's text, whole */
};

static int
smtp_break(struct smtp_client *c, const struct error *err)
{
	if (!c->broken) {
		c->broken = true;
		c->error = *err;
	}
	return -1;
}

static int
smtp_fail(struct smtp_client *c, struct error *err, enum err_class cls,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
smtp_fail(struct smtp_client *c, struct error *err, enum err_class cls,
    const char *fmt, ...)
{
	struct error	e;
	va_list		ap;

	va_start(ap, fmt);
	error_vset(&e, cls, fmt, ap);
	va_end(ap);
	if (err != NULL)
		*err = e;
	return smtp_break(c, &e);
}

const struct error *
smtp_broken(const struct smtp_client *c)
{
	return c->broken ? &c->error : NULL;
}

bool
smtp_permanent(const struct smtp_client *c)
{
	return c->permanent;
}

bool
smtp_has_ext(const struct smtp_client *c, const char *ext)
{
	size_t	i, n = strlen(ext);

	for (i = 0; i < c->nexts; i++)
		if (strncasecmp_ascii(c->exts[i], ext, n) == 0 &&
		    (c->exts[i][n] == '\0' || c->exts[i][n] == ' ' ||
		    c->exts[i][n] == '='))
			return true;
	return false;
}

uint64_t
smtp_size_limit(const struct smtp_client *c)
{
	return c->size_limit;
}

const char *
smtp_auth_used(const struct smtp_client *c)
{
	return c->auth_used[0] != '\0' ? c->auth_used : NULL;
}

void
smtp_counters(const struct smtp_client *c, size_t *in, size_t *out)
{
	*in = *out = 0;
	if (c->conn != NULL)
		conn_counters(c->conn, in, out);
}

/* ---- Replies ------------------------------------------------------------ */

int
smtp_parse_reply_line(const char *line, size_t len, int *codep, bool *morep,
    const char **textp)
{
	/* RFC 5321 4.2: 2-5, 0-5, 0-9, then SP, "-" or the end. */
	if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '5' || line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	*codep = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	*morep = len > 3 && line[3] == '-';
	*textp = len > 4 ? line + 4 : line + len;
	return 0;
}

/* Append text to c->text, control bytes made '?', bounded. */
static void
smtp_keep_text(struct smtp_client *c, const char *s, size_t len)
{
	size_t	o = strlen(c->text), i;

	if (o > 0 && o + 3 < sizeof c->text) {
		memcpy(c->text + o, " / ", 3);
		o += 3;
	}
	for (i = 0; i < len && o + 1 < sizeof c->text; i++) {
		unsigned char ch = (unsigned char)s[i];

		c->text[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	c->text[o] = '\0';
}

static int
smtp_fill(struct smtp_client *c, struct error *err)
{
	struct error	e;
	ssize_t		n;

	if (c->rstart == c->rend)
		c->rstart = c->rend = 0;
	else if (c->rend == SMTP_RBUF_SIZE) {
		memmove(c->rbuf, c->rbuf + c->rstart, c->rend - c->rstart);
		c->rend -= c->rstart;
		c->rstart = 0;
	}
	error_clear(&e);
	n = conn_read(c->conn, c->rbuf + c->rend, SMTP_RBUF_SIZE - c->rend, &e);
	if (n > 0) {
		c->rend += (size_t)n;
		return 0;
	}
	if (n == 0)
		error_set(&e, ERR_TRANSIENT, "%s closed the connection "
		    "unexpectedly", c->host);
	if (err != NULL)
		*err = e;
	return smtp_break(c, &e);
}

/* The next line without its line end, in rbuf until the next read. */
static int
smtp_read_line(struct smtp_client *c, char **linep, size_t *lenp,
    struct error *err)
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
			*lenp = len;
			return 0;
		}
		scan = c->rend - c->rstart;
		if (scan > SMTP_LINE_MAX)
			return smtp_fail(c, err, ERR_PROTO, "%s: reply line "
			    "longer than %d bytes", c->host, SMTP_LINE_MAX);
		if (smtp_fill(c, err) == -1)
			return -1;
	}
}

/*
 * Read one reply (all its lines): its code, or -1 (broken). ext, when
 * set, collects the lines after the first (EHLO's keywords).
 */
static int
smtp_read_reply(struct smtp_client *c, bool ext, struct error *err)
{
	const char	*text;
	char		*line = NULL;
	size_t		 len = 0, nlines = 0;
	bool		 more;
	int		 code, first = 0;

	c->text[0] = '\0';
	free(c->challenge);
	c->challenge = NULL;
	do {
		if (smtp_read_line(c, &line, &len, err) == -1)
			return -1;
		if (smtp_parse_reply_line(line, len, &code, &more,
		    &text) == -1) {
			c->text[0] = '\0';
			smtp_keep_text(c, line, len > 60 ? 60 : len);
			return smtp_fail(c, err, ERR_PROTO, "%s: not an SMTP "
			    "reply: \"%.60s\"", c->host, c->text);
		}
		if (nlines == 0)
			first = code;
		else if (code != first)
			return smtp_fail(c, err, ERR_PROTO, "%s: a reply that "
			    "changes its code from %d to %d", c->host, first,
			    code);
		if (++nlines > SMTP_REPLY_LINES_MAX)
			return smtp_fail(c, err, ERR_PROTO, "%s: a reply of "
			    "more than %d lines", c->host,
			    SMTP_REPLY_LINES_MAX);
		if (first == 334 && nlines == 1)
			c->challenge = xmemdup0(text,
			    len - (size_t)(text - line));
		if (ext && nlines > 1 && c->nexts < SMTP_EXTS_MAX &&
		    *text != '\0')
			c->exts[c->nexts++] = xmemdup0(text,
			    len - (size_t)(text - line));
		else if (!ext || nlines == 1)
			smtp_keep_text(c, text, len - (size_t)(text - line));
	} while (more);
	c->code = first;
	return first;
}

/* The last reply as "CODE text", for messages. */
static const char *
smtp_said(struct smtp_client *c, char *out, size_t outsz)
{
	snprintf(out, outsz, "%d %s", c->code, c->text[0] != '\0' ? c->text :
	    "(no reason given)");
	return out;
}

/*
 * A refusal: 4xx is ERR_TRANSIENT, 5xx the permanent class cls, with the
 * server's words. The connection stays usable.
 */
static int
smtp_refused(struct smtp_client *c, struct error *err, enum err_class cls,
    const char *what)
{
	char	said[SMTP_TEXT_MAX + 16];

	c->permanent = c->code >= 500;
	return error_set(err, c->code >= 500 ? cls : ERR_TRANSIENT,
	    "%s refused %s: %s", c->host, what, smtp_said(c, said,
	    sizeof said));
}

static int
smtp_cmd(struct smtp_client *c, int secret, struct error *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Queue a command line (not flushed: conn_read flushes). */
static int
smtp_cmd(struct smtp_client *c, int secret, struct error *err,
    const char *fmt, ...)
{
	char	*s;
	va_list	 ap;
	int	 n, r;

	if (c->broken) {
		if (err != NULL)
			*err = c->error;
		return -1;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("%s: out of memory", __func__);
	r = conn_write(c->conn, s, (size_t)n, secret, err);
	if (secret)
		freezero_str(s);
	else
		free(s);
	return r == -1 ? smtp_break(c, err) : 0;
}

/* ---- EHLO, STARTTLS, AUTH ------------------------------------------------ */

static void
smtp_clear_exts(struct smtp_client *c)
{
	while (c->nexts > 0)
		free(c->exts[--c->nexts]);
	c->size_limit = 0;
}

static int
smtp_ehlo(struct smtp_client *c, const char *helo, struct error *err)
{
	uint64_t	v;
	size_t		i;
	int		r;

	smtp_clear_exts(c);
	if (smtp_cmd(c, 0, err, "EHLO %s\r\n", helo) == -1 ||
	    (r = smtp_read_reply(c, true, err)) == -1)
		return -1;
	if (r != 250) {
		/* Submission needs ESMTP (AUTH, STARTTLS): no HELO fallback. */
		smtp_refused(c, err, ERR_PROTO, "EHLO");
		return smtp_break(c, err);
	}
	for (i = 0; i < c->nexts; i++) {
		const char *e = c->exts[i];

		if (strncasecmp_ascii(e, "SIZE", 4) == 0 &&
		    (e[4] == ' ' || e[4] == '=') &&
		    parse_u64(e + 5, strlen(e + 5), UINT64_MAX / 2, &v) == 0)
			c->size_limit = v;
	}
	return 0;
}

/* A name for EHLO: the host's name when it looks like one. */
static void
smtp_helo_name(char *out, size_t outsz)
{
	char	name[256];
	size_t	i;

	if (gethostname(name, sizeof name) == 0) {
		name[sizeof name - 1] = '\0';
		for (i = 0; name[i] != '\0'; i++) {
			char ch = name[i];

			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
			    ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    ch == '-' || ch == '.'))
				break;
		}
		if (i > 0 && name[i] == '\0' && name[0] != '-' &&
		    name[0] != '.') {
			snprintf(out, outsz, "%s", name);
			return;
		}
	}
	snprintf(out, outsz, "localhost");
}

static int
smtp_starttls(struct smtp_client *c, const char *helo, struct error *err)
{
	int	r;

	if (!smtp_has_ext(c, "STARTTLS"))
		return smtp_fail(c, err, ERR_TLS, "%s does not offer STARTTLS; "
		    "refusing to send without TLS (use smtps://, or "
		    "smtp+insecure:// to allow plain text)", c->host);
	if (smtp_cmd(c, 0, err, "STARTTLS\r\n") == -1 ||
	    (r = smtp_read_reply(c, false, err)) == -1)
		return -1;
	if (r != 220) {
		smtp_refused(c, err, ERR_TLS, "STARTTLS");
		err->cls = ERR_TLS;
		return smtp_break(c, err);
	}
	/* Bytes read ahead came before the handshake: maybe injected. */
	if (c->rstart != c->rend)
		return smtp_fail(c, err, ERR_TLS, "%s sent data after its "
		    "STARTTLS answer, before the TLS handshake; refusing the "
		    "connection", c->host);
	if (conn_starttls(c->conn, err) == -1)
		return smtp_break(c, err);
	/* RFC 3207 4.2: forget what was said in plain text; ask again. */
	return smtp_ehlo(c, helo, err);
}

/* The mechanisms of "AUTH A B C" (or the old "AUTH=A B"), in out. */
static size_t
smtp_auth_offered(struct smtp_client *c, char *line, size_t linesz,
    const char **out, size_t max)
{
	size_t	i, n = 0;
	char	*p;

	line[0] = '\0';
	for (i = 0; i < c->nexts; i++)
		if (strncasecmp_ascii(c->exts[i], "AUTH", 4) == 0 &&
		    (c->exts[i][4] == ' ' || c->exts[i][4] == '=')) {
			snprintf(line, linesz, "%s", c->exts[i] + 5);
			break;
		}
	for (p = line; *p != '\0' && n < max;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		/* -PLUS only where there is TLS to bind to. */
		if (conn_is_tls(c->conn) || !sasl_is_plus(p))
			out[n++] = p;
		p += strcspn(p, " ");
	}
	return n;
}

/* RFC 4954: AUTH mech [initial-response], 334 challenges, 235. */
static int
smtp_sasl(struct smtp_client *c, const char *mech, const char *password,
    struct error *err)
{
	struct sasl	*s;
	char		*ir, *resp, said[SMTP_TEXT_MAX + 16];
	unsigned	 rounds = 0;
	bool		 ir_pending = false;
	struct error	 why;
	int		 r;

	if (!conn_is_tls(c->conn) && c->tls != PROTO_TLS_NONE)
		fatalx("%s: refusing to send a password without TLS", __func__);
	error_clear(&why);
	if ((s = sasl_new(mech, c->user != NULL ? c->user : "", password,
	    err)) == NULL)
		return smtp_break(c, err);
	sasl_set_host(s, c->host, c->port);
	if (conn_is_tls(c->conn)) {
		unsigned char	 cb[64];
		size_t		 cblen = sizeof cb;
		const char	*cbtype;

		if (conn_channel_binding(c->conn, &cbtype, cb, &cblen) == 0)
			sasl_set_channel_binding(s, cbtype, cb, cblen);
	}
	ir = sasl_initial(s);
	if (ir != NULL && strlen(ir) + strlen(sasl_name(s)) + 8 <=
	    SMTP_AUTH_LINE_MAX)
		r = smtp_cmd(c, 1, err, "AUTH %s %s\r\n", sasl_name(s),
		    *ir != '\0' ? ir : "=");
	else {
		ir_pending = ir != NULL;
		r = smtp_cmd(c, 0, err, "AUTH %s\r\n", sasl_name(s));
	}
	for (;;) {
		if (r == -1 || (r = smtp_read_reply(c, false, err)) == -1) {
			r = -1;
			break;
		}
		if (r == 235) {
			if (!sasl_complete(s, err)) {
				r = smtp_fail(c, err, ERR_AUTH, "%s: %s",
				    c->host, err->msg);
				break;
			}
			snprintf(c->auth_used, sizeof c->auth_used, "AUTH %s",
			    sasl_name(s));
			r = 0;
			break;
		}
		if (r != 334) {
			c->permanent = r >= 500;
			/* 454: a temporary failure, try again later. */
			error_set(err, r >= 500 ? ERR_AUTH : ERR_TRANSIENT,
			    "%s: login as %s failed (AUTH %s): %s", c->host,
			    c->user != NULL ? c->user : "", sasl_name(s),
			    smtp_said(c, said, sizeof said));
			if (why.cls != ERR_NONE && err != NULL)
				*err = why;
			else if (sasl_server_error(s) != NULL && err != NULL)
				error_append(err, " (%s)", sasl_server_error(s));
			r = -1;
			break;
		}
		if (++rounds > SMTP_SASL_ROUNDS_MAX) {
			r = smtp_cmd(c, 0, err, "*\r\n");
			continue;
		}
		if (ir_pending) {
			ir_pending = false;
			r = smtp_cmd(c, 1, err, "%s\r\n", ir);
			continue;
		}
		if ((resp = sasl_step(s, c->challenge != NULL ? c->challenge :
		    "", &why)) == NULL) {
			/* We cannot answer: cancel; the server says 501. */
			r = smtp_cmd(c, 0, err, "*\r\n");
			continue;
		}
		r = smtp_cmd(c, 1, err, "%s\r\n", resp);
		freezero_str(resp);
	}
	freezero_str(ir);
	sasl_free(&s);
	return r;
}

static int
smtp_login(struct smtp_client *c, const char *password, struct error *err)
{
	const char	*offered[16], *mech = NULL, *want;
	char		 line[512], wanted[256], *w, *save = NULL;
	size_t		 n, i;

	if ((c->user != NULL && strpbrk(c->user, "\r\n") != NULL) ||
	    (password != NULL && strpbrk(password, "\r\n") != NULL))
		return smtp_fail(c, err, ERR_CONFIG, "smtp: the user name or "
		    "password contains a line break");
	if (password == NULL)
		password = "";
	n = smtp_auth_offered(c, line, sizeof line, offered,
	    sizeof offered / sizeof offered[0]);
	if (n == 0)
		return smtp_fail(c, err, ERR_AUTH, "%s offers no AUTH%s; "
		    "cannot log in as %s", c->host, conn_is_tls(c->conn) ? "" :
		    " without TLS", c->user != NULL ? c->user : "(certificate)");
	if (c->external)
		mech = "EXTERNAL";
	else if (c->token)
		mech = sasl_choose_token(offered, n);
	else if (c->auth != NULL) {
		/* The first of the wanted list the server offers. */
		snprintf(wanted, sizeof wanted, "%s", c->auth);
		for (w = strtok_r(wanted, ", ", &save); w != NULL &&
		    mech == NULL; w = strtok_r(NULL, ", ", &save))
			for (i = 0; i < n; i++)
				if (strcasecmp_ascii(w, offered[i]) == 0)
					mech = offered[i];
	} else
		mech = sasl_choose_best(offered, n);
	if (mech == NULL) {
		want = c->token ? "OAUTHBEARER or XOAUTH2" : c->auth != NULL ?
		    c->auth : "a mechanism petrel knows";
		return smtp_fail(c, err, ERR_AUTH, "%s offers no AUTH "
		    "mechanism petrel may use for this login (wanted: %s)",
		    c->host, want);
	}
	for (i = 0; i < n; i++)
		if (strcasecmp_ascii(mech, offered[i]) == 0)
			break;
	if (i == n && strcmp(mech, "EXTERNAL") == 0)
		return smtp_fail(c, err, ERR_AUTH, "%s does not offer AUTH "
		    "EXTERNAL for the client certificate", c->host);
	return smtp_sasl(c, mech, password, err);
}

struct smtp_client *
smtp_connect(const struct proto_params *pp, const char *helo,
    const char *password, struct error *err)
{
	struct smtp_client	*c;
	struct conn_params	 p;
	char			 name[256], said[SMTP_TEXT_MAX + 16];
	int			 r;

	proto_conn_params(pp, "smtp", &p);

	c = xcalloc(1, sizeof *c);
	c->host = xstrdup(pp->host != NULL ? pp->host : "");
	c->user = pp->user != NULL && *pp->user != '\0' ? xstrdup(pp->user) :
	    NULL;
	c->port = pp->port;
	c->tls = pp->tls;
	c->auth = pp->auth != NULL ? xstrdup(pp->auth) : NULL;
	c->token = pp->token;
	c->external = pp->external;
	c->io_timeout_ms = pp->io_timeout_ms;
	c->rbuf = xmalloc(SMTP_RBUF_SIZE);
	if (helo == NULL) {
		smtp_helo_name(name, sizeof name);
		helo = name;
	}
	if ((c->conn = conn_open(&p, err)) == NULL)
		goto fail;
	if ((r = smtp_read_reply(c, false, err)) == -1)
		goto fail;
	if (r != 220) {
		error_set(err, r >= 500 ? ERR_PROTO : ERR_TRANSIENT, "%s "
		    "refused the connection: %s", c->host, smtp_said(c, said,
		    sizeof said));
		goto fail;
	}
	if (smtp_ehlo(c, helo, err) == -1)
		goto fail;
	if (c->tls == PROTO_TLS_STARTTLS && smtp_starttls(c, helo, err) == -1)
		goto fail;
	if ((c->user != NULL || c->external) && smtp_login(c, password,
	    err) == -1)
		goto fail;
	return c;
fail:
	smtp_quit(&c);
	return NULL;
}

/* ---- A message ----------------------------------------------------------- */

static bool
has_8bit(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

/* An address fit for MAIL FROM:<...> / RCPT TO:<...>. */
static bool
path_ok(const char *a)
{
	const char	*p;

	for (p = a; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == '<' || *p == '>' ||
		    *p == 0x7f)
			return false;
	return strlen(a) <= 256;
}

/* RSET after a refusal, so the connection can carry the next message. */
static void
smtp_rset(struct smtp_client *c)
{
	struct error	e;

	error_clear(&e);
	if (smtp_cmd(c, 0, &e, "RSET\r\n") == 0 &&
	    smtp_read_reply(c, false, &e) != 250 && !c->broken) {
		error_set(&e, ERR_PROTO, "%s did not accept RSET", c->host);
		smtp_break(c, &e);
	}
}

/* The message, dot-stuffed, line ends made CRLF, then the final dot. */
static int
smtp_data(struct smtp_client *c, const char *msg, size_t len,
    struct error *err)
{
	const char	*p = msg, *end = msg + len, *nl;
	size_t		 queued = 0, n;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if ((*p == '.' && conn_write(c->conn, ".", 1, 0, err) == -1) ||
		    conn_write(c->conn, p, n, 0, err) == -1 ||
		    conn_write(c->conn, "\r\n", 2, 0, err) == -1)
			return smtp_break(c, err);
		queued += n + 3;
		if (queued >= SMTP_CHUNK) {
			if (conn_flush(c->conn, err) == -1)
				return smtp_break(c, err);
			queued = 0;
		}
		p = nl < end ? nl + 1 : end;
	}
	if (conn_write(c->conn, ".\r\n", 3, 0, err) == -1 ||
	    conn_flush(c->conn, err) == -1)
		return smtp_break(c, err);
	return 0;
}

int
smtp_send(struct smtp_client *c, struct smtp_envelope *env,
    const char *msg, size_t len, bool *after_dotp, struct error *err)
{
	char		 what[320], params[96];
	bool		 eightbit, utf8 = false, pipelining;
	size_t		 i, accepted = 0;
	int		 r, refused = -1;

	c->permanent = false;
	if (after_dotp != NULL)
		*after_dotp = false;
	if (c->broken) {
		if (err != NULL)
			*err = c->error;
		return -1;
	}
	if (env->nrcpts == 0)
		return error_set(err, ERR_USAGE, "no recipients");
	if (!path_ok(env->from))
		return error_set(err, ERR_USAGE, "bad sender address \"%.80s\"",
		    env->from);
	utf8 = has_8bit(env->from, strlen(env->from));
	for (i = 0; i < env->nrcpts; i++) {
		if (!path_ok(env->rcpts[i]) || *env->rcpts[i] == '\0')
			return error_set(err, ERR_USAGE, "bad recipient "
			    "address \"%.80s\"", env->rcpts[i]);
		utf8 |= has_8bit(env->rcpts[i], strlen(env->rcpts[i]));
	}
	if (utf8 && !smtp_has_ext(c, "SMTPUTF8"))
		return error_set(err, ERR_USAGE, "%s does not offer SMTPUTF8, "
		    "which an address that is not ASCII needs", c->host);
	eightbit = has_8bit(msg, len);
	if (eightbit && !smtp_has_ext(c, "8BITMIME"))
		return error_set(err, ERR_USAGE, "%s does not offer 8BITMIME, "
		    "and the message has 8-bit text", c->host);
	/* With SMTPUTF8, headers may be UTF-8 too (RFC 6531 3.1). */
	if (eightbit && smtp_has_ext(c, "SMTPUTF8"))
		utf8 = true;
	if (c->size_limit > 0 && len > c->size_limit) {
		c->permanent = true;
		return error_set(err, ERR_USAGE, "the message (%zu bytes) is "
		    "larger than %s takes (SIZE %llu)", len, c->host,
		    (unsigned long long)c->size_limit);
	}
	params[0] = '\0';
	if (smtp_has_ext(c, "SIZE"))
		snprintf(params, sizeof params, " SIZE=%zu", len);
	if (eightbit || utf8)
		snprintf(params + strlen(params), sizeof params - strlen(params),
		    "%s%s", eightbit ? " BODY=8BITMIME" : "",
		    utf8 ? " SMTPUTF8" : "");

	/* RFC 2920: the whole envelope in one go; DATA waits for it. */
	pipelining = smtp_has_ext(c, "PIPELINING");
	if (smtp_cmd(c, 0, err, "MAIL FROM:<%s>%s\r\n", env->from,
	    params) == -1)
		return -1;
	if (!pipelining && (r = smtp_read_reply(c, false, err)) != 250)
		goto mail_refused;
	for (i = 0; i < env->nrcpts; i++) {
		if (smtp_cmd(c, 0, err, "RCPT TO:<%s>\r\n",
		    env->rcpts[i]) == -1)
			return -1;
		if (!pipelining) {
			if ((r = smtp_read_reply(c, false, err)) == -1)
				return -1;
			if (r != 250 && r != 251)
				goto rcpt_refused;
			accepted++;
		}
	}
	if (pipelining) {
		if ((r = smtp_read_reply(c, false, err)) != 250)
			goto mail_refused;
		for (i = 0; i < env->nrcpts; i++) {
			if ((r = smtp_read_reply(c, false, err)) == -1)
				return -1;
			if (r != 250 && r != 251) {
				/* The first refusal is the one to tell. */
				if (refused == -1) {
					refused = (int)i;
					snprintf(what, sizeof what,
					    "recipient <%s>", env->rcpts[i]);
					smtp_refused(c, err, ERR_PROTO, what);
				}
			} else
				accepted++;
		}
		if (refused != -1) {
			smtp_rset(c);
			return -1;
		}
	}
	if (accepted != env->nrcpts)
		fatalx("%s: %zu of %zu recipients", __func__, accepted,
		    env->nrcpts);

	if (env->go_ahead != NULL && !env->go_ahead(env->go_arg)) {
		env->withdrawn = true;
		smtp_rset(c);
		return error_set(err, ERR_USAGE, "the message was taken back "
		    "before it was sent");
	}
	if (smtp_cmd(c, 0, err, "DATA\r\n") == -1 ||
	    (r = smtp_read_reply(c, false, err)) == -1)
		return -1;
	if (r != 354) {
		smtp_refused(c, err, ERR_PROTO, "DATA");
		smtp_rset(c);
		return -1;
	}
	if (smtp_data(c, msg, len, err) == -1)
		return -1;
	/* Sent whole: from here a lost reply leaves it unknown. */
	conn_set_timeout(c->conn, SMTP_DATA_TIMEOUT_MS > c->io_timeout_ms ?
	    SMTP_DATA_TIMEOUT_MS : c->io_timeout_ms);
	r = smtp_read_reply(c, false, err);
	conn_set_timeout(c->conn, c->io_timeout_ms);
	if (r == -1) {
		if (after_dotp != NULL)
			*after_dotp = true;
		return -1;
	}
	if (r != 250) {
		/* Refused after DATA: the transaction is over by itself. */
		return smtp_refused(c, err, ERR_PROTO, "the message");
	}
	log_info("smtp %s: accepted: %s", c->host, c->text);
	return 0;

mail_refused:
	if (r == -1)
		return -1;
	snprintf(what, sizeof what, "sender <%s>", env->from);
	smtp_refused(c, err, ERR_PROTO, what);
	if (pipelining) {
		/* Their RCPT replies are still to come (503s): read them. */
		for (i = 0; i < env->nrcpts && !c->broken; i++)
			if (smtp_read_reply(c, false, NULL) == -1)
				return -1;
	}
	smtp_rset(c);
	return -1;
rcpt_refused:
	snprintf(what, sizeof what, "recipient <%s>", env->rcpts[i]);
	smtp_refused(c, err, ERR_PROTO, what);
	smtp_rset(c);
	return -1;
}

void
smtp_quit(struct smtp_client **cp)
{
	struct smtp_client	*c = *cp;
	struct error		 e;

	if (c == NULL)
		return;
	*cp = NULL;
	error_clear(&e);
	if (c->conn != NULL && !c->broken) {
		conn_set_timeout(c->conn, 2000);
		if (smtp_cmd(c, 0, &e, "QUIT\r\n") == 0)
			(void)smtp_read_reply(c, false, &e);
	}
	conn_close(&c->conn);
	smtp_clear_exts(c);
	free(c->challenge);
	free(c->rbuf);
	free(c->host);
	free(c->user);
	free(c->auth);
	free(c);
}
