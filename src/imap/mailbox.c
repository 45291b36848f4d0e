/*
 * Mailbox commands: LIST (with SPECIAL-USE), STATUS (pipelined, asked
 * before LIST, not LIST-STATUS) and SELECT.
 */
#include <stdlib.h>
#include <string.h>

#include "imap-private.h"
#include "log.h"
#include "xmalloc.h"

/* Folder limits: a hostile server must not make us hold unbounded lists. */
#define IMAP_MAX_FOLDERS	100000
/* STATUS commands in flight at once (below IMAP_MAX_PENDING). */
#define IMAP_STATUS_WINDOW	32

struct list_entry {
	char		*name;
	char		 delim;
	char		*attributes;
	char		*special_use;
	bool		 noselect;
	bool		 subscribed;
};

struct list_ctx {
	struct imap_client	*c;
	struct list_entry	*v;
	size_t			 n, size;
	bool			 lsub;	/* collecting LSUB replies */
	struct error		*err;
};

static const char *special_uses[] = {
	"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent",
	"\\Trash", "\\Important",
};

static struct list_entry *
list_find(struct list_ctx *ctx, const char *name)
{
	size_t	i;

	/* INBOX is case-insensitive; everything else is exact. */
	for (i = 0; i < ctx->n; i++)
		if (strcmp(ctx->v[i].name, name) == 0 ||
		    (strcasecmp_ascii(name, "INBOX") == 0 &&
		    strcasecmp_ascii(ctx->v[i].name, "INBOX") == 0))
			return &ctx->v[i];
	return NULL;
}

static int
list_on_list(struct list_ctx *ctx, const struct imap_resp *r)
{
	const struct imap_arg	*attrs, *name;
	struct list_entry	*e;
	struct buf		 b = BUF_INIT(0);
	size_t			 i, j;

	/* (attrs) delim name [extended items] */
	if (r->nargs < 3 || r->args[0].type != IMAP_ARG_LIST ||
	    (r->args[1].type != IMAP_ARG_NIL && !imap_arg_is_string(&r->args[1])))
		return error_set(ctx->err, ERR_PROTO, "malformed LIST response");
	attrs = &r->args[0];
	name = &r->args[2];
	if (name->type == IMAP_ARG_NIL || !imap_arg_is_string(name) ||
	    name->len == 0 || memchr(name->str, '\0', name->len) != NULL)
		return error_set(ctx->err, ERR_PROTO, "bad mailbox name in LIST");
	if ((e = list_find(ctx, name->str)) == NULL) {
		if (ctx->lsub)
			return 0;	/* subscribed but not listed: ignore */
		if (ctx->n == IMAP_MAX_FOLDERS)
			return error_set(ctx->err, ERR_PROTO, "more than %d "
			    "folders", IMAP_MAX_FOLDERS);
		if (ctx->n == ctx->size) {
			ctx->size = ctx->size ? ctx->size * 2 : 16;
			ctx->v = xreallocarray(ctx->v, ctx->size, sizeof *ctx->v);
		}
		e = &ctx->v[ctx->n++];
		memset(e, 0, sizeof *e);
		e->name = xstrdup(strcasecmp_ascii(name->str, "INBOX") == 0 ?
		    "INBOX" : name->str);
	}
	if (ctx->lsub) {
		e->subscribed = true;
		return 0;
	}
	if (r->args[1].type != IMAP_ARG_NIL && r->args[1].len == 1)
		e->delim = r->args[1].str[0];
	for (i = 0; i < attrs->count; i++) {
		const struct imap_arg *a = &attrs->list[i];

		if (a->type != IMAP_ARG_ATOM)
			continue;
		if (strcasecmp_ascii(a->str, "\\Noselect") == 0 ||
		    strcasecmp_ascii(a->str, "\\NonExistent") == 0)
			e->noselect = true;
		if (strcasecmp_ascii(a->str, "\\Subscribed") == 0)
			e->subscribed = true;
		for (j = 0; j < sizeof special_uses / sizeof special_uses[0]; j++)
			if (strcasecmp_ascii(a->str, special_uses[j]) == 0 &&
			    e->special_use == NULL)
				e->special_use = xstrdup(special_uses[j]);
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_add(&b, a->str, a->len);
	}
	free(e->attributes);
	e->attributes = b.len > 0 ? buf_steal(&b, NULL) : NULL;
	buf_free(&b);
	return 0;
}

static int
list_untagged(void *arg, const struct imap_resp *r)
{
	struct list_ctx	*ctx = arg;

	if (r->name == NULL || r->has_number)
		return 0;
	if (strcasecmp_ascii(r->name, "LIST") == 0 ||
	    strcasecmp_ascii(r->name, "LSUB") == 0)
		return list_on_list(ctx, r);
	return 0;
}

/* Prefixes of the other users' and shared namespaces (RFC 2342). */
static int
namespace_untagged(void *arg, const struct imap_resp *r)
{
	struct imap_namespaces	*ns = arg;
	const struct imap_arg	*l, *e;
	size_t			 i, j;

	if (r->name == NULL || r->has_number ||
	    strcasecmp_ascii(r->name, "NAMESPACE") != 0)
		return 0;
	/* Personal first: those LIST "*" shows. Then other users', shared. */
	for (i = 1; i < r->nargs && i < 3; i++) {
		l = &r->args[i];
		if (l->type != IMAP_ARG_LIST)
			continue;	/* NIL */
		for (j = 0; j < l->count && ns->n < 16; j++) {
			e = &l->list[j];
			if (e->type != IMAP_ARG_LIST || e->count < 1 ||
			    !imap_arg_is_string(&e->list[0]) ||
			    e->list[0].len == 0 ||
			    memchr(e->list[0].str, '\0', e->list[0].len) != NULL)
				continue;
			ns->prefixes = xreallocarray(ns->prefixes, ns->n + 1,
			    sizeof *ns->prefixes);
			ns->prefixes[ns->n++] = xstrndup(e->list[0].str,
			    e->list[0].len);
		}
	}
	return 0;
}

/*
 * Servers need not show other users' and shared folders in LIST "" "*"
 * (RFC 2342 5; Dovecot with list = no): list each such namespace whose
 * prefix no folder listed so far starts with.
 */
static int
list_namespaces(struct list_ctx *ctx, bool extended, struct error *err)
{
	struct imap_client	*c = ctx->c;
	struct imap_namespaces	*ns = &c->namespaces;
	struct buf		 q = BUF_INIT(0);
	size_t			 i, j, plen;
	int			 rv = 0;

	if (!imap_has_cap(c, "NAMESPACE"))
		return 0;
	/* They do not change during a connection: asked once. */
	if (!ns->known) {
		if (imap_command(c, namespace_untagged, ns, err,
		    "NAMESPACE") == -1 && imap_broken(c) != NULL)
			return -1;
		ns->known = true;
	}
	for (i = 0; i < ns->n && rv == 0; i++) {
		plen = strlen(ns->prefixes[i]);
		for (j = 0; j < ctx->n; j++)
			if (strncmp(ctx->v[j].name, ns->prefixes[i], plen) == 0 &&
			    strlen(ctx->v[j].name) > plen)
				break;
		if (j < ctx->n)
			continue;
		buf_reset(&q);
		if (imap_quote(&q, ns->prefixes[i]) == -1)
			continue;
		/* The quoted prefix with a * before its closing quote. */
		if (q.len < 2 || q.data[q.len - 1] != '"')
			continue;
		q.len--;
		buf_adds(&q, "*\"");
		if (imap_command(c, list_untagged, ctx, err, "LIST \"\" %s%s",
		    buf_cstr(&q), extended ? " RETURN (SUBSCRIBED)" : "") == -1 &&
		    imap_broken(c) != NULL)
			rv = -1;
	}
	buf_free(&q);
	if (rv == 0)
		error_clear(err);
	return rv;
}

struct status_ctx {
	imap_status_cb		 cb;
	void			*arg;
	struct error		*err;
};

int
imap_status_parse(const struct imap_resp *r, struct imap_folder_info *f,
    struct error *err)
{
	const struct imap_arg	*items;
	uint64_t		 n;
	size_t			 i;

	if (r->name == NULL || r->has_number ||
	    strcasecmp_ascii(r->name, "STATUS") != 0)
		return 1;
	if (r->nargs < 2 || !imap_arg_is_string(&r->args[0]) ||
	    r->args[1].type != IMAP_ARG_LIST)
		return error_set(err, ERR_PROTO, "malformed STATUS response");
	memset(f, 0, sizeof *f);
	f->name = r->args[0].str;
	items = &r->args[1];
	for (i = 0; i + 1 < items->count; i += 2) {
		const struct imap_arg *k = &items->list[i];

		if (imap_arg_number(&items->list[i + 1], UINT64_MAX >> 1, &n) == -1)
			return error_set(err, ERR_PROTO, "bad number in "
			    "STATUS response");
		if (imap_arg_eq(k, "MESSAGES"))
			f->messages = (uint32_t)n;
		else if (imap_arg_eq(k, "UIDNEXT"))
			f->uidnext = (uint32_t)n;
		else if (imap_arg_eq(k, "UIDVALIDITY"))
			f->uidvalidity = (uint32_t)n;
		else if (imap_arg_eq(k, "HIGHESTMODSEQ"))
			f->highestmodseq = n;
		else if (imap_arg_eq(k, "UNSEEN")) {
			f->unseen = (uint32_t)n;
			f->has_unseen = true;
		}
	}
	f->has_status = true;
	return 0;
}

static int
status_untagged(void *arg, const struct imap_resp *r)
{
	struct status_ctx	*ctx = arg;
	struct imap_folder_info	 f;
	int			 rv;

	if ((rv = imap_status_parse(r, &f, ctx->err)) != 0)
		return rv == 1 ? 0 : -1;
	return ctx->cb(ctx->arg, &f) != 0 ? -1 : 0;
}

/*
 * "VERB name SUFFIX" for each name, IMAP_STATUS_WINDOW in flight at once,
 * untagged answers to cb. A NO (a folder gone) only leaves that name out.
 */
static int
pipeline_names(struct imap_client *c, const char *verb, const char *suffix,
    const char *const *names, size_t n, imap_untagged_cb cb, void *arg,
    struct error *err)
{
	struct buf	 q = BUF_INIT(0);
	uint32_t	 tags[IMAP_STATUS_WINDOW];
	size_t		 i = 0, sent = 0, waited = 0;
	int		 rv = 0;

	error_clear(err);
	while (i < n || waited < sent) {
		if (i < n && sent - waited < IMAP_STATUS_WINDOW) {
			buf_reset(&q);
			if (imap_quote(&q, names[i++]) == -1)
				continue;
			if (imap_send(c, &tags[sent % IMAP_STATUS_WINDOW], err,
			    "%s %s%s%s", verb, q.data, *suffix != '\0' ? " " :
			    "", suffix) == -1) {
				rv = -1;
				break;
			}
			sent++;
			continue;
		}
		if (imap_wait(c, tags[waited % IMAP_STATUS_WINDOW], cb, arg,
		    err) == -1 && imap_broken(c) != NULL) {
			rv = -1;
			break;
		}
		waited++;
	}
	buf_free(&q);
	if (rv == 0)
		error_clear(err);
	return rv;
}

int
imap_status(struct imap_client *c, const char *const *names, size_t n,
    imap_status_cb cb, void *arg, struct error *err)
{
	struct status_ctx	 ctx = { cb, arg, err };

	return pipeline_names(c, "STATUS", imap_condstore(c) ?
	    "(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ)" :
	    "(MESSAGES UIDNEXT UIDVALIDITY)", names, n, status_untagged, &ctx,
	    err);
}

int
imap_list(struct imap_client *c, imap_folder_cb cb, void *arg,
    struct error *err)
{
	struct list_ctx		ctx;
	struct imap_folder_info	f;
	size_t			i;
	int			rv = 0;
	bool			extended;

	memset(&ctx, 0, sizeof ctx);
	ctx.c = c;
	ctx.err = err;
	error_clear(err);
	extended = imap_has_cap(c, "LIST-EXTENDED");
	if (extended) {
		/* One round trip for names, uses and subscriptions. */
		rv = imap_command(c, list_untagged, &ctx, err,
		    "LIST \"\" \"*\" RETURN (SUBSCRIBED%s)",
		    imap_has_cap(c, "SPECIAL-USE") ? " SPECIAL-USE" : "");
	} else {
		rv = imap_command(c, list_untagged, &ctx, err, "LIST \"\" \"*\"");
		if (rv == 0) {
			ctx.lsub = true;
			rv = imap_command(c, list_untagged, &ctx, err,
			    "LSUB \"\" \"*\"");
		}
	}
	if (rv == 0)
		rv = list_namespaces(&ctx, extended, err);
	for (i = 0; i < ctx.n; i++) {
		struct list_entry *e = &ctx.v[i];

		if (rv == 0) {
			memset(&f, 0, sizeof f);
			f.name = e->name;
			f.delim = e->delim;
			f.attributes = e->attributes;
			f.special_use = e->special_use;
			f.noselect = e->noselect;
			f.subscribed = e->subscribed;
			if (cb(arg, &f) != 0)
				rv = -1;
		}
		free(e->name);
		free(e->attributes);
		free(e->special_use);
	}
	free(ctx.v);
	return rv;
}

struct select_ctx {
	struct imap_client		*c;
	struct imap_mailbox		*mb;
	const struct imap_select_opts	*opts;
	struct buf			 scratch;
	struct error			*err;
	bool				 nomodseq;
};

static int
vanished_range(void *arg, uint32_t first, uint32_t last)
{
	struct select_ctx	*ctx = arg;

	if (ctx->opts == NULL || ctx->opts->on_vanished == NULL)
		return 0;
	return ctx->opts->on_vanished(ctx->opts->arg, first, last);
}

static int
select_vanished(struct select_ctx *ctx, const struct imap_resp *r)
{
	const struct imap_arg	*set;

	/* VANISHED (EARLIER) 1:3,7 */
	if (r->nargs == 2 && r->args[0].type == IMAP_ARG_LIST)
		set = &r->args[1];
	else if (r->nargs == 1)
		set = &r->args[0];
	else
		return error_set(ctx->err, ERR_PROTO, "malformed VANISHED");
	if (set->type != IMAP_ARG_ATOM)
		return error_set(ctx->err, ERR_PROTO, "malformed VANISHED set");
	switch (imap_uidset_each(set->str, set->len, vanished_range, ctx)) {
	case -1:
		return error_set(ctx->err, ERR_PROTO, "bad VANISHED set");
	case -2:
		return -1;	/* the handler set the error */
	}
	return 0;
}

static int
select_untagged(void *arg, const struct imap_resp *r)
{
	struct select_ctx	*ctx = arg;
	struct imap_mailbox	*mb = ctx->mb;
	struct imap_msg		 m;
	uint64_t		 n;

	if (r->status == IMAP_STATUS_OK && r->code != NULL) {
		const struct imap_arg *a = r->ncode_args > 0 ? &r->code_args[0] :
		    NULL;

		if (strcasecmp_ascii(r->code, "UIDVALIDITY") == 0) {
			if (a == NULL || imap_arg_number(a, UINT32_MAX, &n) == -1)
				return error_set(ctx->err, ERR_PROTO,
				    "bad UIDVALIDITY");
			mb->uidvalidity = (uint32_t)n;
		} else if (strcasecmp_ascii(r->code, "UIDNEXT") == 0) {
			if (a == NULL || imap_arg_number(a, UINT32_MAX, &n) == -1)
				return error_set(ctx->err, ERR_PROTO,
				    "bad UIDNEXT");
			mb->uidnext = (uint32_t)n;
		} else if (strcasecmp_ascii(r->code, "HIGHESTMODSEQ") == 0) {
			if (a == NULL ||
			    imap_arg_number(a, UINT64_MAX >> 1, &n) == -1)
				return error_set(ctx->err, ERR_PROTO,
				    "bad HIGHESTMODSEQ");
			mb->highestmodseq = n;
		} else if (strcasecmp_ascii(r->code, "NOMODSEQ") == 0)
			ctx->nomodseq = true;
		return 0;
	}
	if (r->name == NULL)
		return 0;
	if (r->has_number && strcasecmp_ascii(r->name, "EXISTS") == 0)
		mb->exists = r->number;
	else if (r->has_number && strcasecmp_ascii(r->name, "FETCH") == 0) {
		if (imap_fetch_decode(r, &m, &ctx->scratch, ctx->err) == -1)
			return -1;
		if (ctx->opts != NULL && ctx->opts->on_fetch != NULL &&
		    ctx->opts->on_fetch(ctx->opts->arg, &m) != 0)
			return -1;
	} else if (!r->has_number && strcasecmp_ascii(r->name, "VANISHED") == 0)
		return select_vanished(ctx, r);
	return 0;
}

int
imap_select(struct imap_client *c, const char *name,
    const struct imap_select_opts *opts, struct imap_mailbox *mb,
    struct error *err)
{
	struct select_ctx	 ctx;
	struct buf		 q = BUF_INIT(0);
	const char		*verb;
	int			 rv;

	memset(mb, 0, sizeof *mb);
	memset(&ctx, 0, sizeof ctx);
	ctx.c = c;
	ctx.mb = mb;
	ctx.opts = opts;
	ctx.err = err;
	buf_init(&ctx.scratch, 0);
	error_clear(err);
	if (imap_quote(&q, name) == -1)
		return error_set(err, ERR_PROTO, "folder name with a line break");
	verb = opts != NULL && opts->readonly ? "EXAMINE" : "SELECT";
	imap_seqmap_reset(c, name);
	c->selecting = true;
	if (imap_qresync(c) && opts != NULL && opts->qresync_uidvalidity != 0 &&
	    opts->qresync_modseq != 0)
		rv = imap_command(c, select_untagged, &ctx, err,
		    "%s %s (QRESYNC (%u %llu))", verb, q.data,
		    opts->qresync_uidvalidity,
		    (unsigned long long)opts->qresync_modseq);
	else if (imap_condstore(c))
		rv = imap_command(c, select_untagged, &ctx, err,
		    "%s %s (CONDSTORE)", verb, q.data);
	else
		rv = imap_command(c, select_untagged, &ctx, err, "%s %s", verb,
		    q.data);
	buf_free(&q);
	buf_free(&ctx.scratch);
	c->selecting = false;
	if (rv == -1) {
		imap_seqmap_reset(c, NULL);
		/* A failed SELECT leaves no mailbox selected. */
		if (imap_broken(c) == NULL)
			imap_set_state(c, IMAP_S_AUTH);
		return error_prefix(err, "cannot open folder %s", name);
	}
	if (ctx.nomodseq)
		mb->highestmodseq = 0;
	mb->readonly = opts != NULL && opts->readonly;
	imap_set_state(c, IMAP_S_SELECTED);
	return 0;
}

static int
quota_untagged(void *arg, const struct imap_resp *r)
{
	struct imap_quota	*q = arg;
	const struct imap_arg	*l;
	uint64_t		 used, limit;
	size_t			 i;

	if (r->name == NULL || r->has_number ||
	    strcasecmp_ascii(r->name, "QUOTA") != 0 || r->nargs < 2 ||
	    r->args[1].type != IMAP_ARG_LIST)
		return 0;
	l = &r->args[1];
	for (i = 0; i + 2 < l->count; i += 3) {
		if (imap_arg_number(&l->list[i + 1], UINT64_MAX >> 1,
		    &used) == -1 || imap_arg_number(&l->list[i + 2],
		    UINT64_MAX >> 1, &limit) == -1)
			return 0;	/* not understood: ignored */
		if (imap_arg_eq(&l->list[i], "STORAGE") && !q->storage) {
			q->storage = true;
			q->storage_used = used;
			q->storage_limit = limit;
		} else if (imap_arg_eq(&l->list[i], "MESSAGE") &&
		    !q->messages) {
			q->messages = true;
			q->messages_used = used;
			q->messages_limit = limit;
		}
	}
	return 0;
}

int
imap_quota(struct imap_client *c, const char *mailbox, struct imap_quota *q,
    struct error *err)
{
	struct buf	qb = BUF_INIT(0);
	int		rv;

	memset(q, 0, sizeof *q);
	if (!imap_has_cap(c, "QUOTA"))
		return 1;
	if (imap_quote(&qb, mailbox) == -1) {
		buf_free(&qb);
		return 1;
	}
	rv = imap_command(c, quota_untagged, q, err, "GETQUOTAROOT %s",
	    qb.data);
	buf_free(&qb);
	if (rv == -1)
		return imap_broken(c) != NULL ? -1 : 1;
	return 0;
}

struct rights_ctx {
	imap_rights_cb	 cb;
	void		*arg;
};

static int
rights_untagged(void *arg, const struct imap_resp *r)
{
	struct rights_ctx	*ctx = arg;
	char			*name, *rights;
	int			 rv;

	if (r->name == NULL || r->has_number ||
	    strcasecmp_ascii(r->name, "MYRIGHTS") != 0 || r->nargs < 2 ||
	    !imap_arg_is_string(&r->args[0]) ||
	    !imap_arg_is_string(&r->args[1]))
		return 0;
	name = xstrndup(r->args[0].str, r->args[0].len);
	rights = xstrndup(r->args[1].str, r->args[1].len);
	rv = ctx->cb(ctx->arg, name, rights) != 0 ? -1 : 0;
	free(name);
	free(rights);
	return rv;
}

int
imap_myrights(struct imap_client *c, const char *const *names, size_t n,
    imap_rights_cb cb, void *arg, struct error *err)
{
	struct rights_ctx	 ctx = { cb, arg };

	if (!imap_has_cap(c, "ACL"))
		return 1;
	return pipeline_names(c, "MYRIGHTS", "", names, n, rights_untagged,
	    &ctx, err);
}
