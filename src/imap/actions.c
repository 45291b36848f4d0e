/*
 * Commands that change a mailbox: UID STORE, UID COPY, UID MOVE (RFC 6851),
 * UID EXPUNGE (UIDPLUS, RFC 4315), EXPUNGE and APPEND, with the COPYUID and
 * APPENDUID answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-private.h"
#include "xmalloc.h"

/* UIDs one COPYUID may name: more than any command we send. */
#define IMAP_COPYUID_MAX	100000

void
imap_copyuid_free(struct imap_copyuid *cu)
{
	free(cu->src);
	free(cu->dst);
	memset(cu, 0, sizeof *cu);
}

struct uidvec {
	uint32_t	*v;
	size_t		 n;
	bool		 overflow;
};

static int
uidvec_add(void *arg, uint32_t first, uint32_t last)
{
	struct uidvec	*u = arg;
	uint64_t	 k;

	for (k = first; k <= last; k++) {
		if (u->n == IMAP_COPYUID_MAX) {
			u->overflow = true;
			return 1;
		}
		u->v = xreallocarray(u->v, u->n + 1, sizeof *u->v);
		u->v[u->n++] = (uint32_t)k;
	}
	return 0;
}

/* [COPYUID uidvalidity src dst] into cu; a malformed one is ignored. */
static void
copyuid_parse(const struct imap_resp *r, struct imap_copyuid *cu)
{
	struct uidvec	 s = { NULL, 0, false }, d = { NULL, 0, false };
	uint64_t	 v;

	if (r->code == NULL || strcasecmp_ascii(r->code, "COPYUID") != 0 ||
	    r->ncode_args != 3 ||
	    imap_arg_number(&r->code_args[0], UINT32_MAX, &v) == -1 ||
	    r->code_args[1].type != IMAP_ARG_ATOM ||
	    r->code_args[2].type != IMAP_ARG_ATOM)
		return;
	if (imap_uidset_each(r->code_args[1].str, r->code_args[1].len,
	    uidvec_add, &s) != 0 ||
	    imap_uidset_each(r->code_args[2].str, r->code_args[2].len,
	    uidvec_add, &d) != 0 || s.n != d.n) {
		free(s.v);
		free(d.v);
		return;
	}
	/* Several answers (a MOVE in parts) add up. */
	cu->src = xreallocarray(cu->src, cu->n + s.n, sizeof *cu->src);
	cu->dst = xreallocarray(cu->dst, cu->n + s.n, sizeof *cu->dst);
	memcpy(cu->src + cu->n, s.v, s.n * sizeof *s.v);
	memcpy(cu->dst + cu->n, d.v, d.n * sizeof *d.v);
	cu->n += s.n;
	cu->uidvalidity = (uint32_t)v;
	cu->valid = true;
	free(s.v);
	free(d.v);
}

static int
copyuid_cb(void *arg, const struct imap_resp *r)
{
	if (r->status == IMAP_STATUS_OK && r->code != NULL)
		copyuid_parse(r, arg);
	return 0;
}

uint32_t
imap_copyuid_lookup(const struct imap_copyuid *cu, uint32_t src)
{
	size_t	i;

	for (i = 0; cu->valid && i < cu->n; i++)
		if (cu->src[i] == src)
			return cu->dst[i];
	return 0;
}

int
imap_uid_store(struct imap_client *c, const char *uidset, bool add,
    const char *flags, struct error *err)
{
	error_clear(err);
	return imap_command(c, NULL, NULL, err, "UID STORE %s %cFLAGS.SILENT "
	    "(%s)", uidset, add ? '+' : '-', flags);
}

int
imap_uid_copy(struct imap_client *c, const char *uidset, const char *dest,
    bool move, struct imap_copyuid *cu, struct error *err)
{
	struct buf	q = BUF_INIT(0);
	int		rv;

	memset(cu, 0, sizeof *cu);
	error_clear(err);
	if (imap_quote(&q, dest) == -1) {
		buf_free(&q);
		return error_set(err, ERR_PROTO, "folder name with a line break");
	}
	c->tagged_cb = copyuid_cb;
	c->tagged_arg = cu;
	rv = imap_command(c, copyuid_cb, cu, err, "UID %s %s %s",
	    move ? "MOVE" : "COPY", uidset, q.data);
	c->tagged_cb = NULL;
	c->tagged_arg = NULL;
	buf_free(&q);
	return rv;
}

int
imap_uid_expunge(struct imap_client *c, const char *uidset, struct error *err)
{
	error_clear(err);
	if (!imap_has_cap(c, "UIDPLUS"))
		return error_set(err, ERR_PROTO, "the server has no UID EXPUNGE "
		    "(UIDPLUS)");
	return imap_command(c, NULL, NULL, err, "UID EXPUNGE %s", uidset);
}

int
imap_expunge(struct imap_client *c, struct error *err)
{
	error_clear(err);
	return imap_command(c, NULL, NULL, err, "EXPUNGE");
}

/* ---- APPEND --------------------------------------------------------------- */

/* Non-synchronising literals LITERAL- (and IMAP4rev2) allow (RFC 7888). */
#define IMAP_LITERAL_MINUS_MAX	4096

struct append_ctx {
	char		 tag[16];	/* of our APPEND, once sent */
	const void	*msg;
	size_t		 len;
	bool		 sent;		/* the literal went out */
	uint32_t	 uidvalidity, uid;
};

/* [APPENDUID uidvalidity uid] on our tagged OK; a malformed one is ignored. */
static int
appenduid_cb(void *arg, const struct imap_resp *r)
{
	struct append_ctx	*ctx = arg;
	uint64_t		 v, u;

	/*
	 * One message gives one UID, never a set (that is MULTIAPPEND's).
	 * A zero is no UID at all (RFC 4315: nz-number).
	 */
	if (r->status != IMAP_STATUS_OK || strcmp(r->tag, ctx->tag) != 0 ||
	    strcasecmp_ascii(r->code, "APPENDUID") != 0 ||
	    r->ncode_args != 2 ||
	    imap_arg_number(&r->code_args[0], UINT32_MAX, &v) == -1 ||
	    imap_arg_number(&r->code_args[1], UINT32_MAX, &u) == -1 ||
	    v == 0 || u == 0)
		return 0;
	ctx->uidvalidity = (uint32_t)v;
	ctx->uid = (uint32_t)u;
	return 0;
}

/* The server's "+": send the literal, once; the command's CRLF ends it. */
static int
append_cont(struct imap_client *c, void *arg, const char *text,
    struct error *err)
{
	struct append_ctx	*ctx = arg;

	(void)text;
	if (ctx->sent)
		return error_set(err, ERR_PROTO, "%s: a second continuation "
		    "request during APPEND", c->host);
	ctx->sent = true;
	if (conn_write(c->conn, ctx->msg, ctx->len, 0, err) == -1 ||
	    conn_write(c->conn, "\r\n", 2, 0, err) == -1)
		return -1;
	return 0;
}

/* The server's APPENDLIMIT (RFC 7889), 0 when it names none. */
static uint64_t
append_limit(struct imap_client *c)
{
	const char	*v;
	uint64_t	 n;
	size_t		 i;

	for (i = 0; i < c->ncaps; i++) {
		if (strncasecmp_ascii(c->caps[i], "APPENDLIMIT=", 12) != 0)
			continue;
		v = c->caps[i] + 12;
		if (parse_u64(v, strlen(v), UINT64_MAX, &n) == 0)
			return n;
	}
	return 0;
}

/* Flags go inside "(...)" as they are: they must not end the list early. */
static bool
append_flags_ok(const char *flags)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)flags; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f || strchr("(){\"", *p) != NULL)
			return false;
	return true;
}

int
imap_append(struct imap_client *c, const char *mailbox, const char *flags,
    int64_t internaldate, const void *msg, size_t len,
    uint32_t *uidvalidityp, uint32_t *uidp, struct error *err)
{
	struct append_ctx	 ctx;
	struct buf		 cmd = BUF_INIT(0);
	struct error		 e;
	char			 date[IMAP_DATE_LEN];
	uint64_t		 limit;
	uint32_t		 tag;
	bool			 nonsync;
	int			 rv;

	if (uidvalidityp != NULL)
		*uidvalidityp = 0;
	if (uidp != NULL)
		*uidp = 0;
	error_clear(err);
	if (imap_broken(c) != NULL) {
		if (err != NULL)
			*err = *imap_broken(c);
		return -1;
	}
	if ((c->state != IMAP_S_AUTH && c->state != IMAP_S_SELECTED) ||
	    c->idle_tag != 0)
		return error_set(err, ERR_USAGE, "APPEND: not %s",
		    c->idle_tag != 0 ? "during IDLE" : "before login");

	/* What we refuse goes unsent: the connection stays as it was. */
	if (len == 0)
		return error_set(err, ERR_USAGE, "APPEND: an empty message");
	if (memchr(msg, '\0', len) != NULL)
		return error_set(err, ERR_USAGE, "APPEND: the message contains "
		    "a NUL byte, which an IMAP literal cannot carry");
	if (flags != NULL && !append_flags_ok(flags))
		return error_set(err, ERR_USAGE, "APPEND: flags with a control "
		    "character, a parenthesis, a brace or a quote");
	if (internaldate != 0 && imap_format_internaldate(date,
	    internaldate) == -1)
		return error_set(err, ERR_USAGE, "APPEND: date %lld out of "
		    "range", (long long)internaldate);
	if ((limit = append_limit(c)) != 0 && len > limit)
		return error_set(err, ERR_PROTO, "%s takes messages of at most "
		    "%llu bytes (APPENDLIMIT), not %zu", c->host,
		    (unsigned long long)limit, len);

	buf_adds(&cmd, "APPEND ");
	if (imap_quote(&cmd, mailbox) == -1) {
		buf_free(&cmd);
		return error_set(err, ERR_USAGE, "APPEND: folder name with a "
		    "line break");
	}
	if (flags != NULL && *flags != '\0')
		buf_printf(&cmd, " (%s)", flags);
	if (internaldate != 0)
		buf_printf(&cmd, " \"%s\"", date);
	/*
	 * LITERAL+ sends the message at once, saving a round trip; LITERAL-
	 * (part of IMAP4rev2) only up to 4096 bytes. Else we wait for the
	 * server's "+", which lets it refuse ([TRYCREATE], [TOOBIG]...)
	 * before the bytes are sent at all.
	 */
	nonsync = imap_has_cap(c, "LITERAL+") ||
	    ((imap_has_cap(c, "LITERAL-") || imap_has_cap(c, "IMAP4rev2")) &&
	    len <= IMAP_LITERAL_MINUS_MAX);
	buf_printf(&cmd, " {%zu%s}", len, nonsync ? "+" : "");

	memset(&ctx, 0, sizeof ctx);
	ctx.msg = msg;
	ctx.len = len;
	rv = imap_send(c, &tag, err, "%s", cmd.data);
	buf_free(&cmd);
	if (rv == -1)
		return -1;
	snprintf(ctx.tag, sizeof ctx.tag, "A%u", tag);
	if (nonsync) {
		/*
		 * Straight from the caller's bytes into the write queue, which
		 * sends them in CONN_OUT_MAX pieces: no copy of the message.
		 * The trace shows it line by line, each cut at 512 bytes, as
		 * it shows the literals a FETCH brings.
		 */
		ctx.sent = true;
		if (conn_write(c->conn, msg, len, 0, &e) == -1 ||
		    conn_write(c->conn, "\r\n", 2, 0, &e) == -1) {
			if (err != NULL)
				*err = e;
			return imap_break(c, &e);
		}
	} else {
		c->cont_cb = append_cont;
		c->cont_arg = &ctx;
	}
	c->tagged_cb = appenduid_cb;
	c->tagged_arg = &ctx;
	rv = imap_wait(c, tag, NULL, NULL, err);
	c->tagged_cb = NULL;
	c->tagged_arg = NULL;
	c->cont_cb = NULL;
	c->cont_arg = NULL;
	/*
	 * A NO or BAD before the "+" (the literal unsent) is an answer like
	 * any other: the connection stays usable.
	 */
	if (rv == -1)
		return error_prefix(err, "cannot append to %s", mailbox);
	/* An OK to a literal we never sent: the server is out of step. */
	if (!ctx.sent) {
		error_set(&e, ERR_PROTO, "%s accepted APPEND before its "
		    "message was sent", c->host);
		if (err != NULL)
			*err = e;
		return imap_break(c, &e);
	}
	if (uidvalidityp != NULL)
		*uidvalidityp = ctx.uidvalidity;
	if (uidp != NULL)
		*uidp = ctx.uid;
	return 0;
}
