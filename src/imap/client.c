/*
 * IMAP connection: greeting, STARTTLS, authentication, the tagged command
 * loop and capabilities. Higher-level commands are in mailbox.c and fetch.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "imap-private.h"
#include "log.h"
#include "sasl.h"
#include "xmalloc.h"

static const char *state_names[] = {
	[IMAP_S_CONNECTED] = "connected",
	[IMAP_S_AUTH] = "authenticated",
	[IMAP_S_SELECTED] = "selected",
	[IMAP_S_LOGOUT] = "logout",
	[IMAP_S_BROKEN] = "broken",
};

/* Change state only here, so a trace shows every transition. */
void
imap_set_state(struct imap_client *c, enum imap_state state)
{
	if (c->state != state)
		log_debug("imap %s: %s -> %s", c->name,
		    state_names[c->state], state_names[state]);
	c->state = state;
}

int
imap_break(struct imap_client *c, const struct error *err)
{
	if (c->state != IMAP_S_BROKEN) {
		c->error = *err;
		imap_set_state(c, IMAP_S_BROKEN);
	}
	return -1;
}

static int
imap_check(struct imap_client *c, struct error *err)
{
	if (c->state == IMAP_S_BROKEN) {
		if (err != NULL)
			*err = c->error;
		return -1;
	}
	return 0;
}

const struct error *
imap_broken(const struct imap_client *c)
{
	return c->state == IMAP_S_BROKEN ? &c->error : NULL;
}

bool
imap_has_cap(const struct imap_client *c, const char *cap)
{
	size_t	i;

	for (i = 0; i < c->ncaps; i++)
		if (strcasecmp_ascii(c->caps[i], cap) == 0)
			return true;
	return false;
}

bool
imap_qresync(const struct imap_client *c)
{
	return c->qresync;
}

bool
imap_condstore(const struct imap_client *c)
{
	return c->condstore || c->qresync;
}

void
imap_counters(const struct imap_client *c, size_t *in, size_t *out)
{
	conn_counters(c->conn, in, out);
}

static void
imap_clear_caps(struct imap_client *c)
{
	size_t	i;

	for (i = 0; i < c->ncaps; i++)
		free(c->caps[i]);
	free(c->caps);
	c->caps = NULL;
	c->ncaps = 0;
}

void
imap_set_caps(struct imap_client *c, const struct imap_arg *args, size_t n)
{
	size_t	i;

	imap_clear_caps(c);
	c->caps_seen = true;
	c->caps = xcalloc(n + 1, sizeof *c->caps);
	for (i = 0; i < n; i++)
		if (args[i].type == IMAP_ARG_ATOM)
			c->caps[c->ncaps++] = xstrdup(args[i].str);
}

/* Read one complete response, feeding the parser from the connection. */
int
imap_read(struct imap_client *c, struct imap_resp *resp, struct error *err)
{
	struct error	e;
	ssize_t		n;
	int		r;

	if (imap_check(c, err) == -1)
		return -1;
	for (;;) {
		r = imap_parser_next(c->parser, resp);
		if (r == IMAP_PARSE_OK)
			return 0;
		if (r == IMAP_PARSE_ERROR) {
			error_set(&e, ERR_PROTO, "%s: bad response from the "
			    "server: %s", c->host,
			    imap_parser_error(c->parser));
			break;
		}
		error_clear(&e);
		n = conn_read(c->conn, c->rbuf, sizeof c->rbuf, &e);
		if (n > 0) {
			imap_parser_feed(c->parser, c->rbuf, (size_t)n);
			continue;
		}
		/* A TLS peer may close without close_notify: -1, not 0. */
		if (n == 0 || (c->bye != NULL && e.cls == ERR_TRANSIENT)) {
			if (c->bye != NULL)
				error_set(&e, ERR_TRANSIENT, "%s closed the "
				    "connection: %s", c->host, c->bye);
			else
				error_set(&e, ERR_TRANSIENT, "%s closed the "
				    "connection unexpectedly", c->host);
		}
		break;
	}
	if (err != NULL)
		*err = e;
	return imap_break(c, &e);
}

int
imap_vsend(struct imap_client *c, uint32_t *tagp, struct error *err,
    const char *fmt, va_list ap)
{
	struct buf	 b = BUF_INIT(0);
	struct error	 e;
	uint32_t	 tag;

	if (imap_check(c, err) == -1)
		return -1;
	if (c->npending == IMAP_MAX_PENDING)
		fatalx("%s: too many commands in flight", __func__);
	tag = ++c->next_tag;
	buf_printf(&b, "A%u ", tag);
	buf_vprintf(&b, fmt, ap);
	buf_adds(&b, "\r\n");
	if (conn_write(c->conn, b.data, b.len, 0, &e) == -1) {
		buf_free(&b);
		if (err != NULL)
			*err = e;
		return imap_break(c, &e);
	}
	buf_free(&b);
	memset(&c->pending[c->npending], 0, sizeof c->pending[0]);
	c->pending[c->npending++].tag = tag;
	if (tagp != NULL)
		*tagp = tag;
	return 0;
}

int
imap_send(struct imap_client *c, uint32_t *tagp, struct error *err,
    const char *fmt, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, fmt);
	rv = imap_vsend(c, tagp, err, fmt, ap);
	va_end(ap);
	return rv;
}

static struct imap_pending *
imap_find_pending(struct imap_client *c, const char *tag)
{
	uint64_t	n;
	size_t		i;

	if (tag[0] != 'A' || parse_u64(tag + 1, strlen(tag + 1), UINT32_MAX,
	    &n) == -1)
		return NULL;
	for (i = 0; i < c->npending; i++)
		if (c->pending[i].tag == n)
			return &c->pending[i];
	return NULL;
}

/* Responses every command may see, whatever its handler. */
static int
imap_common_untagged(struct imap_client *c, const struct imap_resp *r)
{
	if (r->status == IMAP_STATUS_BYE) {
		free(c->bye);
		c->bye = xstrdup(r->text);
		return 0;
	}
	if (r->code != NULL && strcasecmp_ascii(r->code, "CAPABILITY") == 0)
		imap_set_caps(c, r->code_args, r->ncode_args);
	if (r->name != NULL && !r->has_number &&
	    strcasecmp_ascii(r->name, "CAPABILITY") == 0)
		imap_set_caps(c, r->args, r->nargs);
	if (r->code != NULL && strcasecmp_ascii(r->code, "ALERT") == 0)
		log_warnx("%s: server alert: %s", c->host, r->text);
	return 0;
}

int
imap_wait(struct imap_client *c, uint32_t tag, imap_untagged_cb cb, void *arg,
    struct error *err)
{
	struct imap_resp	 r;
	struct imap_pending	*p;
	struct error		 e;
	size_t			 i;
	int			 rv;

	for (;;) {
		/* Done already (completed while waiting for another)? */
		for (i = 0; i < c->npending; i++)
			if (c->pending[i].tag == tag)
				break;
		if (i == c->npending)
			fatalx("%s: tag A%u was not sent", __func__, tag);
		p = &c->pending[i];
		if (p->done)
			break;
		if (imap_read(c, &r, err) == -1)
			return -1;
		switch (r.kind) {
		case IMAP_RESP_UNTAGGED:
			imap_common_untagged(c, &r);
			imap_track_untagged(c, &r, cb != NULL);
			if (cb != NULL && cb(arg, &r) != 0) {
				/* The handler refused the data: stop here. */
				e = err != NULL && err->cls != ERR_NONE ? *err :
				    (struct error){ ERR_PROTO, "unexpected data" };
				if (err != NULL)
					*err = e;
				return imap_break(c, &e);
			}
			break;
		case IMAP_RESP_CONTINUE:
			if (c->cont_cb != NULL) {
				if (c->cont_cb(c, c->cont_arg, r.text, &e) == -1) {
					if (err != NULL)
						*err = e;
					return imap_break(c, &e);
				}
				break;
			}
			error_set(&e, ERR_PROTO, "%s: unexpected continuation "
			    "request", c->host);
			if (err != NULL)
				*err = e;
			return imap_break(c, &e);
		case IMAP_RESP_TAGGED:
			if ((p = imap_find_pending(c, r.tag)) == NULL) {
				error_set(&e, ERR_PROTO, "%s: response for a "
				    "command never sent (tag %.20s)",
				    c->host, r.tag);
				if (err != NULL)
					*err = e;
				return imap_break(c, &e);
			}
			if (r.code != NULL &&
			    strcasecmp_ascii(r.code, "CAPABILITY") == 0)
				imap_set_caps(c, r.code_args, r.ncode_args);
			/* COPYUID and APPENDUID ride on the tagged OK. */
			if (c->tagged_cb != NULL && r.code != NULL)
				c->tagged_cb(c->tagged_arg, &r);
			p->done = true;
			p->status = r.status;
			p->text = xstrdup(r.text);
			p->code = r.code != NULL ? xstrdup(r.code) : NULL;
			break;
		}
	}
	/* p is done: take it off the table and report its status. */
	rv = 0;
	if (p->status != IMAP_STATUS_OK) {
		if (p->code != NULL)
			error_set(err, ERR_PROTO, "%s said %s: [%s] %s",
			    c->host, p->status == IMAP_STATUS_NO ? "NO" :
			    "BAD", p->code, p->text);
		else
			error_set(err, ERR_PROTO, "%s said %s: %s",
			    c->host, p->status == IMAP_STATUS_NO ? "NO" :
			    "BAD", p->text);
		rv = -1;
	}
	free(p->text);
	free(p->code);
	i = (size_t)(p - c->pending);
	memmove(&c->pending[i], &c->pending[i + 1],
	    (c->npending - i - 1) * sizeof c->pending[0]);
	c->npending--;
	return rv;
}

int
imap_command(struct imap_client *c, imap_untagged_cb cb, void *arg,
    struct error *err, const char *fmt, ...)
{
	va_list		ap;
	uint32_t	tag;
	int		rv;

	va_start(ap, fmt);
	rv = imap_vsend(c, &tag, err, fmt, ap);
	va_end(ap);
	if (rv == -1)
		return -1;
	return imap_wait(c, tag, cb, arg, err);
}

int
imap_noop(struct imap_client *c, struct error *err)
{
	return imap_command(c, NULL, NULL, err, "NOOP");
}

int
imap_quote(struct buf *b, const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			return -1;
	buf_addc(b, '"');
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *p);
	}
	buf_addc(b, '"');
	return 0;
}

/* ---- Greeting, STARTTLS, login ------------------------------------------ */

static int
imap_greeting(struct imap_client *c, bool *preauth, struct error *err)
{
	struct imap_resp	r;

	if (imap_read(c, &r, err) == -1) {
		if (err->cls == ERR_PROTO)
			error_set(err, ERR_PROTO, "%s:%d does not greet like an "
			    "IMAP server", c->host, c->port);
		return error_prefix(err, "reading the greeting");
	}
	if (r.kind != IMAP_RESP_UNTAGGED || (r.status != IMAP_STATUS_OK &&
	    r.status != IMAP_STATUS_PREAUTH && r.status != IMAP_STATUS_BYE)) {
		error_set(err, ERR_PROTO, "%s:%d does not greet like an IMAP "
		    "server", c->host, c->port);
		return imap_break(c, err);
	}
	if (r.status == IMAP_STATUS_BYE) {
		error_set(err, ERR_TRANSIENT, "%s refused the connection: %s",
		    c->host, r.text);
		return imap_break(c, err);
	}
	if (r.code != NULL && strcasecmp_ascii(r.code, "CAPABILITY") == 0)
		imap_set_caps(c, r.code_args, r.ncode_args);
	*preauth = r.status == IMAP_STATUS_PREAUTH;
	return 0;
}

static int
imap_capability(struct imap_client *c, struct error *err)
{
	return imap_command(c, NULL, NULL, err, "CAPABILITY");
}

static int
imap_starttls(struct imap_client *c, struct error *err)
{
	if (!imap_has_cap(c, "STARTTLS")) {
		error_set(err, ERR_TLS, "%s does not offer STARTTLS; refusing "
		    "to log in without TLS (use imaps://, or imap+insecure:// "
		    "to allow plain text)", c->host);
		return imap_break(c, err);
	}
	if (imap_command(c, NULL, NULL, err, "STARTTLS") == -1) {
		if (imap_broken(c) == NULL)
			err->cls = ERR_TLS;
		return error_prefix(err, "STARTTLS");
	}
	/*
	 * Anything the server sent after its OK arrived before the handshake
	 * and could have been injected by a man in the middle: refuse it.
	 */
	if (imap_parser_pending(c->parser) != 0) {
		error_set(err, ERR_TLS, "%s sent data after STARTTLS before "
		    "the TLS handshake; refusing the connection", c->host);
		return imap_break(c, err);
	}
	if (conn_starttls(c->conn, err) == -1)
		return imap_break(c, err);
	/* Forget what was said in plain text and ask again. */
	imap_clear_caps(c);
	return imap_capability(c, err);
}

/* The answer to a continuation during AUTHENTICATE. */
struct imap_auth_ctx {
	struct sasl	*sasl;
	int		 rounds;
	struct error	 why;		/* what made us cancel, if we did */
};

static int
imap_auth_cont(struct imap_client *c, void *arg, const char *text,
    struct error *err)
{
	struct imap_auth_ctx	*ctx = arg;
	char			*resp, *line;
	int			 rv;

	if (++ctx->rounds > 4) {
		/* Cancel the exchange rather than loop with the server. */
		return conn_write(c->conn, "*\r\n", 3, 0, err);
	}
	if ((resp = sasl_step(ctx->sasl, text, &ctx->why)) == NULL)
		return conn_write(c->conn, "*\r\n", 3, 0, err);
	xasprintf(&line, "%s\r\n", resp);
	rv = conn_write(c->conn, line, strlen(line), 1, err);
	freezero_str(line);
	freezero_str(resp);
	return rv;
}

/*
 * The mechanism: the first of auth (proto_params) the server offers, or
 * the strongest SASL one it offers (sasl_choose_best), else the LOGIN
 * command ("user").
 */
/* Channel binding is possible: TLS, and GnuTLS gives its data. */
static bool
imap_can_bind(struct imap_client *c)
{
	unsigned char	 cb[64];
	size_t		 len = sizeof cb;
	const char	*type;

	return conn_is_tls(c->conn) && conn_channel_binding(c->conn, &type, cb,
	    &len) == 0;
}

static const char *
imap_auth_choose(struct imap_client *c, struct error *err)
{
	const char	*offered[32], *m;
	char		 cap[64], *list, *p, *w;
	size_t		 i, n = 0;
	bool		 bind = imap_can_bind(c);

	for (i = 0; i < c->ncaps && n < 32; i++)
		if (strncasecmp_ascii(c->caps[i], "AUTH=", 5) == 0 &&
		    sasl_supported(c->caps[i] + 5) &&
		    (bind || !sasl_is_plus(c->caps[i] + 5)))
			offered[n++] = c->caps[i] + 5;
	if (c->auth == NULL && c->external) {
		for (i = 0; i < n; i++)
			if (strcasecmp_ascii(offered[i], "EXTERNAL") == 0)
				return offered[i];
		error_set(err, ERR_AUTH, "%s does not offer AUTH=EXTERNAL, and "
		    "the account has only a client certificate to log in with",
		    c->host);
		return NULL;
	}
	if (c->auth == NULL && c->token) {
		/* An OAuth2 token goes only where a token mechanism is. */
		if ((m = sasl_choose_token(offered, n)) == NULL)
			error_set(err, ERR_AUTH, "%s offers no OAuth2 login "
			    "(AUTH=OAUTHBEARER or AUTH=XOAUTH2) for the token of "
			    "oauth2_token_command", c->host);
		return m;
	}
	if (c->auth == NULL)
		return (m = sasl_choose_best(offered, n)) != NULL ? m : "user";
	list = xstrdup(c->auth);
	for (p = list; (w = strsep(&p, ", ")) != NULL;) {
		if (*w == '\0')
			continue;
		if (strcmp(w, "user") == 0) {
			free(list);
			return "user";
		}
		snprintf(cap, sizeof cap, "AUTH=%s", w);
		if (imap_has_cap(c, cap)) {
			for (i = 0; i < n; i++)
				if (strcasecmp_ascii(offered[i], w) == 0)
					break;
			free(list);
			return i < n ? offered[i] : NULL;
		}
	}
	free(list);
	error_set(err, ERR_AUTH, "%s offers none of auth = %s", c->host,
	    c->auth);
	return NULL;
}

static int
imap_authenticate(struct imap_client *c, const char *password,
    struct error *err)
{
	struct imap_auth_ctx	 ctx;
	struct buf		 b = BUF_INIT(0);
	char			*line, *ir;
	uint32_t		 tag;
	int			 rv;
	const char		*how, *mech;
	char			*what = NULL, *server_said = NULL;

	if (c->user == NULL || *c->user == '\0')
		return error_set(err, ERR_CONFIG, "account %s: no user name in "
		    "the imap URL", c->name);
	/* The TLS policy was enforced before we got here; make sure. */
	if (!conn_is_tls(c->conn) && c->tls != PROTO_TLS_NONE)
		fatalx("%s: refusing to send a password without TLS", __func__);

	memset(&ctx, 0, sizeof ctx);
	tag = ++c->next_tag;
	if ((mech = imap_auth_choose(c, err)) == NULL)
		return -1;
	if (strcmp(mech, "user") != 0) {
		xasprintf(&what, "AUTHENTICATE %s", mech);
		how = what;
		if ((ctx.sasl = sasl_new(mech, c->user, password,
		    err)) == NULL) {
			free(what);
			return -1;
		}
		sasl_set_host(ctx.sasl, c->host, c->port);
		if (conn_is_tls(c->conn)) {
			unsigned char	 cb[64];
			size_t		 cblen = sizeof cb;
			const char	*cbtype;

			if (conn_channel_binding(c->conn, &cbtype, cb,
			    &cblen) == 0)
				sasl_set_channel_binding(ctx.sasl, cbtype, cb,
				    cblen);
		}
		ir = imap_has_cap(c, "SASL-IR") ? sasl_initial(ctx.sasl) :
		    NULL;
		if (ir != NULL) {
			/* One round trip saved: the first message rides along. */
			xasprintf(&line, "A%u AUTHENTICATE %s %s\r\n", tag,
			    sasl_name(ctx.sasl), *ir != '\0' ? ir : "=");
			freezero_str(ir);
		} else
			xasprintf(&line, "A%u AUTHENTICATE %s\r\n", tag,
			    sasl_name(ctx.sasl));
	} else {
		if (imap_has_cap(c, "LOGINDISABLED"))
			return error_set(err, ERR_AUTH, "%s does not allow "
			    "login on this connection (LOGINDISABLED)",
			    c->host);
		how = "LOGIN";
		if (imap_quote(&b, c->user) == -1 ||
		    buf_addc(&b, ' ') == -1 || imap_quote(&b, password) == -1) {
			explicit_bzero(b.data, b.len);
			buf_free(&b);
			return error_set(err, ERR_CONFIG, "user name or password "
			    "contains a line break");
		}
		xasprintf(&line, "A%u LOGIN %s\r\n", tag, b.data);
		explicit_bzero(b.data, b.len);
		buf_free(&b);
	}
	rv = conn_write(c->conn, line, strlen(line), 1, err);
	freezero_str(line);
	if (rv == -1) {
		sasl_free(&ctx.sasl);
		return imap_break(c, err);
	}
	memset(&c->pending[c->npending], 0, sizeof c->pending[0]);
	c->pending[c->npending++].tag = tag;
	c->cont_cb = ctx.sasl != NULL ? imap_auth_cont : NULL;
	c->cont_arg = &ctx;
	rv = imap_wait(c, tag, NULL, NULL, err);
	c->cont_cb = NULL;
	c->cont_arg = NULL;
	if (rv == 0 && ctx.sasl != NULL && (ctx.why.cls != ERR_NONE ||
	    !sasl_complete(ctx.sasl, &ctx.why))) {
		/* Logged in by a server that proved nothing: leave. */
		error_set(err, ERR_AUTH, "%s: %s", c->host, ctx.why.msg);
		sasl_free(&ctx.sasl);
		free(what);
		return imap_break(c, err);
	}
	if (ctx.sasl != NULL && sasl_server_error(ctx.sasl) != NULL)
		server_said = xstrdup(sasl_server_error(ctx.sasl));
	sasl_free(&ctx.sasl);
	if (rv == -1) {
		struct error	e = *err;

		/* A NO is about the credentials, not the protocol. */
		if (imap_broken(c) == NULL)
			e.cls = ERR_AUTH;
		if (ctx.why.cls != ERR_NONE)
			e = ctx.why;
		error_set(err, e.cls, "%s: login as %s failed (%s): %s",
		    c->host, c->user, how, e.msg);
		if (server_said != NULL)
			error_append(err, " (%s)", server_said);
		free(server_said);
		free(what);
		return -1;
	}
	free(what);
	return 0;
}

static int
imap_enabled_cb(void *arg, const struct imap_resp *r)
{
	struct imap_client	*c = arg;
	size_t			 i;

	if (r->name == NULL || strcasecmp_ascii(r->name, "ENABLED") != 0)
		return 0;
	for (i = 0; i < r->nargs; i++) {
		if (imap_arg_eq(&r->args[i], "QRESYNC"))
			c->qresync = true;
		if (imap_arg_eq(&r->args[i], "CONDSTORE"))
			c->condstore = true;
	}
	return 0;
}

static int	imap_compress(struct imap_client *, struct error *);

/* After login: pipeline CAPABILITY (if needed), ENABLE and ID; COMPRESS. */
static int
imap_post_login(struct imap_client *c, bool have_caps, struct error *err)
{
	uint32_t	tcap = 0, tenable = 0, tid = 0;

	if (!have_caps && imap_send(c, &tcap, err, "CAPABILITY") == -1)
		return -1;
	if (tcap != 0 && imap_wait(c, tcap, NULL, NULL, err) == -1)
		return -1;
	if (imap_has_cap(c, "ENABLE")) {
		if (imap_has_cap(c, "QRESYNC")) {
			if (imap_send(c, &tenable, err, "ENABLE QRESYNC") == -1)
				return -1;
		} else if (imap_has_cap(c, "CONDSTORE")) {
			if (imap_send(c, &tenable, err, "ENABLE CONDSTORE") == -1)
				return -1;
		}
	}
	if (imap_has_cap(c, "ID") && imap_send(c, &tid, err,
	    "ID (\"name\" \"petrel\" \"version\" \"%s\")", PETREL_VERSION) == -1)
		return -1;
	if (tenable != 0 && imap_wait(c, tenable, imap_enabled_cb, c, err) == -1)
		return -1;
	/* A server without ENABLE still does CONDSTORE on demand. */
	if (!c->condstore && !c->qresync && imap_has_cap(c, "CONDSTORE"))
		c->condstore = true;
	/* ID is informational: a NO to it is not an error. */
	if (tid != 0 && imap_wait(c, tid, NULL, NULL, NULL) == -1 &&
	    imap_broken(c) != NULL)
		return imap_check(c, err);
	return imap_compress(c, err);
}

/*
 * COMPRESS DEFLATE (RFC 4978) for the rest of the connection, when asked
 * for and offered; nothing else may be in flight. A NO leaves it plain.
 */
static int
imap_compress(struct imap_client *c, struct error *err)
{
	struct error	e;

	if (!c->want_compress || !imap_has_cap(c, "COMPRESS=DEFLATE") ||
	    conn_compressed(c->conn))
		return 0;
	error_clear(&e);
	if (imap_command(c, NULL, NULL, &e, "COMPRESS DEFLATE") == -1) {
		if (imap_broken(c) != NULL) {
			if (err != NULL)
				*err = e;
			return -1;
		}
		log_warnx("%s: COMPRESS refused: %s", c->host, e.msg);
		return 0;
	}
	/* The OK was the last plain byte: the parser must hold no more. */
	if (imap_parser_pending(c->parser) > 0) {
		error_set(&e, ERR_PROTO, "%s sent data after the OK to "
		    "COMPRESS", c->host);
		if (err != NULL)
			*err = e;
		return imap_break(c, &e);
	}
	if (conn_compress(c->conn, &e) == -1) {
		if (err != NULL)
			*err = e;
		return imap_break(c, &e);
	}
	return 0;
}

struct imap_client *
imap_connect(const struct proto_params *pp, const char *password,
    struct error *err)
{
	struct imap_client	*c;
	struct conn_params	 p;
	struct imap_limits	 lim;
	bool			 preauth = false;

	proto_conn_params(pp, "imap", &p);

	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(pp->name != NULL ? pp->name : "");
	c->host = xstrdup(pp->host != NULL ? pp->host : "");
	c->port = pp->port;
	c->token = pp->token;
	c->external = pp->external;
	c->user = pp->user != NULL ? xstrdup(pp->user) : NULL;
	c->tls = pp->tls;
	c->io_timeout_ms = pp->io_timeout_ms;
	c->want_compress = pp->compress;
	c->auth = pp->auth != NULL && *pp->auth != '\0' ? xstrdup(pp->auth) :
	    NULL;
	imap_limits_default(&lim);
	c->parser = imap_parser_new(&lim);
	if ((c->conn = conn_open(&p, err)) == NULL)
		goto fail;
	imap_set_state(c, IMAP_S_CONNECTED);
	if (imap_greeting(c, &preauth, err) == -1)
		goto fail;
	if (preauth) {
		/*
		 * PREAUTH leaves no chance to start TLS: accept it only when
		 * the connection is already what the account asked for.
		 */
		if (c->tls == PROTO_TLS_STARTTLS) {
			error_set(err, ERR_TLS, "%s sent PREAUTH on a connection "
			    "that must be upgraded with STARTTLS; refusing",
			    c->host);
			goto fail;
		}
		imap_set_state(c, IMAP_S_AUTH);
		if (imap_post_login(c, false, err) == -1)
			goto fail;
		return c;
	}
	if (c->ncaps == 0 && imap_capability(c, err) == -1)
		goto fail;
	if (c->tls == PROTO_TLS_STARTTLS && imap_starttls(c, err) == -1)
		goto fail;
	c->caps_seen = false;
	if (imap_authenticate(c, password, err) == -1)
		goto fail;
	imap_set_state(c, IMAP_S_AUTH);
	/* Capabilities change with login: the OK usually carries them. */
	if (imap_post_login(c, c->caps_seen, err) == -1)
		goto fail;
	return c;
fail:
	imap_logout(&c);
	return NULL;
}

void
imap_logout(struct imap_client **cp)
{
	struct imap_client	*c = *cp;
	struct error		 err;
	size_t			 i;

	if (c == NULL)
		return;
	if (c->conn != NULL && c->state != IMAP_S_BROKEN) {
		/* Best effort, with a short timeout: we are leaving anyway. */
		conn_set_timeout(c->conn, 5000);
		imap_command(c, NULL, NULL, &err, "LOGOUT");
		imap_set_state(c, IMAP_S_LOGOUT);
	}
	conn_close(&c->conn);
	imap_parser_free(&c->parser);
	imap_clear_caps(c);
	for (i = 0; i < c->npending; i++) {
		free(c->pending[i].text);
		free(c->pending[i].code);
	}
	free(c->bye);
	imap_seqmap_reset(c, NULL);
	buf_free(&c->chg_scratch);
	free(c->name);
	free(c->host);
	free(c->user);
	free(c->auth);
	for (i = 0; i < c->namespaces.n; i++)
		free(c->namespaces.prefixes[i]);
	free(c->namespaces.prefixes);
	free(c);
	*cp = NULL;
}

void
imap_set_literal_sink(struct imap_client *c,
    const struct imap_literal_sink *sink, void *arg, uint64_t min)
{
	imap_parser_set_sink(c->parser, sink, arg);
	imap_parser_set_stream_min(c->parser, min);
}

/* ---- IDLE (RFC 2177) ----------------------------------------------------- */

/* Take a pending command off the table (its tagged response came). */
static void
imap_drop_pending(struct imap_client *c, uint32_t tag)
{
	size_t	i;

	for (i = 0; i < c->npending; i++) {
		if (c->pending[i].tag != tag)
			continue;
		free(c->pending[i].text);
		free(c->pending[i].code);
		memmove(&c->pending[i], &c->pending[i + 1],
		    (c->npending - i - 1) * sizeof c->pending[0]);
		c->npending--;
		return;
	}
}

/*
 * One response read while idling: untagged ones go the usual way (the map
 * and the change hooks); a tagged one ends the IDLE (the server refused or
 * ended it): -1 with err.
 */
static int
imap_idle_response(struct imap_client *c, const struct imap_resp *r,
    struct error *err)
{
	switch (r->kind) {
	case IMAP_RESP_UNTAGGED:
		imap_common_untagged(c, r);
		imap_track_untagged(c, r, false);
		return 0;
	case IMAP_RESP_CONTINUE:
		c->idling = true;
		return 0;
	case IMAP_RESP_TAGGED:
		break;
	}
	error_set(err, ERR_PROTO, "%s ended IDLE: %s %s", c->host,
	    r->status == IMAP_STATUS_OK ? "OK" : r->status == IMAP_STATUS_NO ?
	    "NO" : "BAD", r->text);
	imap_drop_pending(c, c->idle_tag);
	c->idle_tag = 0;
	c->idling = false;
	return -1;
}

int
imap_idle_begin(struct imap_client *c, struct error *err)
{
	struct imap_resp	r;

	if (imap_send(c, &c->idle_tag, err, "IDLE") == -1)
		return -1;
	c->idling = false;
	while (!c->idling) {
		if (imap_read(c, &r, err) == -1)
			return -1;
		if (imap_idle_response(c, &r, err) == -1)
			return -1;
	}
	return 0;
}

int
imap_idle_wait(struct imap_client *c, int wake_fd, int timeout_ms,
    struct error *err)
{
	struct imap_resp	 r;
	struct error		 e;
	bool			 took = false;
	ssize_t			 n;
	int			 rv;

	if (imap_check(c, err) == -1)
		return -1;
	for (;;) {
		/* First what the parser holds already: it may be complete. */
		rv = imap_parser_next(c->parser, &r);
		if (rv == IMAP_PARSE_OK) {
			if (imap_idle_response(c, &r, err) == -1)
				return -1;
			took = true;
			continue;
		}
		if (rv == IMAP_PARSE_ERROR) {
			error_set(&e, ERR_PROTO, "%s: bad response from the "
			    "server: %s", c->host,
			    imap_parser_error(c->parser));
			break;
		}
		if (took)
			return 1;
		error_clear(&e);
		rv = conn_wait(c->conn, wake_fd, timeout_ms, &e);
		if (rv == -1)
			break;
		if (rv == 0 || rv == 2)
			return rv;
		n = conn_read(c->conn, c->rbuf, sizeof c->rbuf, &e);
		if (n > 0) {
			imap_parser_feed(c->parser, c->rbuf, (size_t)n);
			continue;
		}
		if (n == 0 || e.cls == ERR_NONE || c->bye != NULL)
			error_set(&e, ERR_TRANSIENT, "%s closed the connection "
			    "during IDLE%s%s", c->host, c->bye != NULL ? ": " :
			    "", c->bye != NULL ? c->bye : "");
		break;
	}
	if (err != NULL)
		*err = e;
	return imap_break(c, &e);
}

int
imap_idle_end(struct imap_client *c, struct error *err)
{
	struct error	e;
	uint32_t	tag = c->idle_tag;

	c->idling = false;
	c->idle_tag = 0;
	if (conn_write(c->conn, "DONE\r\n", 6, 0, &e) == -1) {
		if (err != NULL)
			*err = e;
		return imap_break(c, &e);
	}
	return imap_wait(c, tag, NULL, NULL, err);
}

int
imap_notify(struct imap_client *c, struct error *err)
{
	if (c->notify)
		return 0;
	if (!imap_has_cap(c, "NOTIFY"))
		return 1;
	/*
	 * FlagChange for the other folders too: their STATUS then carries
	 * HIGHESTMODSEQ, so a flag set on the phone shows in the counts.
	 */
	if (imap_command(c, NULL, NULL, err, "NOTIFY SET "
	    "(selected (MessageNew MessageExpunge FlagChange)) "
	    "(personal (MessageNew MessageExpunge FlagChange))") == -1)
		return -1;
	c->notify = true;
	return 0;
}

bool
imap_notify_active(const struct imap_client *c)
{
	return c->notify;
}

int
imap_probe(struct imap_client *c, int timeout_ms, struct error *err)
{
	int	rv;

	if (imap_check(c, err) == -1)
		return -1;
	conn_set_timeout(c->conn, timeout_ms);
	rv = imap_noop(c, err);
	if (imap_broken(c) == NULL)
		conn_set_timeout(c->conn, c->io_timeout_ms);
	return rv;
}

void
imap_abandon(struct imap_client *c, const char *why)
{
	struct error	e;

	error_set(&e, ERR_TRANSIENT, "%s: %s", c->host, why);
	imap_break(c, &e);
}
