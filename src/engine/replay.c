/*
 * Replaying local actions to the server, exactly once, through the
 * driver's message operations (select, store_flags, copy, move, expunge,
 * find_uid, find_message_id): nothing here knows the protocol.
 *
 * Rows of `pending` go out in id order; neighbours with the same folder,
 * action and argument are coalesced into one command over a UID set. Each
 * group is marked attempted (committed) before it is sent, and retired in
 * its own transaction after the server's answer, so no transaction is open
 * while we wait on the network.
 *
 * A group marked attempted but never retired was sent and its answer lost
 * (a dropped connection, a crash, SIGKILL). Flag changes and expunges are
 * idempotent and are sent again. A copy or move is not: before sending it
 * again we ask the server what it did — is the source UID still there, does
 * the destination already hold the Message-ID? — and only send what did not
 * happen. See "Local actions" in doc/design.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "engine-private.h"
#include "log.h"
#include "xmalloc.h"

/* UIDs per command, so a command line stays short. */
#define REPLAY_GROUP_MAX	2000

struct rfolder {
	int64_t		 id;
	char		*name;
	char		*remote;	/* NULL: local only */
	uint32_t	 uidvalidity;
};

struct replay {
	struct session		*s;
	const struct engine_driver *drv;
	struct cache		*cache;
	struct replay_stats	*stats;
	engine_notice_cb	 notice;
	void			*notice_arg;
	struct rfolder		*folders;
	size_t			 nfolders;
	int64_t			 selected;	/* folder id, 0 none */
	bool			 selected_rw;
	struct buf		 set;
};

static void
notice(struct replay *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
notice(struct replay *r, const char *fmt, ...)
{
	char	line[1200];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_info("%s", line);
	if (r->notice != NULL)
		r->notice(r->notice_arg, line);
}

static int
folder_cb(void *arg, const struct cache_folder *f)
{
	struct replay	*r = arg;
	struct rfolder	*rf;

	r->folders = xreallocarray(r->folders, r->nfolders + 1,
	    sizeof *r->folders);
	rf = &r->folders[r->nfolders++];
	rf->id = f->id;
	rf->name = xstrdup(f->name);
	rf->remote = f->remote != NULL ? xstrdup(f->remote) : NULL;
	rf->uidvalidity = f->uidvalidity;
	return 0;
}

static struct rfolder *
find_folder(struct replay *r, int64_t id)
{
	size_t	i;

	for (i = 0; i < r->nfolders; i++)
		if (r->folders[i].id == id)
			return &r->folders[i];
	return NULL;
}

/*
 * Open a folder read-write (or to look only): 0, -1 error, 1 when its
 * UIDVALIDITY moved on.
 */
static int
select_folder(struct replay *r, struct rfolder *f, bool rw, struct error *err)
{
	uint32_t	uidvalidity;

	if (r->selected == f->id && (r->selected_rw || !rw))
		return 0;
	r->selected = 0;
	if (r->drv->select(r->s, f->remote, rw, &uidvalidity, err) == -1)
		return -1;
	r->selected = f->id;
	r->selected_rw = rw;
	return uidvalidity != f->uidvalidity ? 1 : 0;
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The UIDs of rows as a compact set ("3,9:12") in r->set. */
static void
make_set(struct replay *r, const struct cache_pending *v, size_t n)
{
	uint32_t	*u = xreallocarray(NULL, n, sizeof *u);
	size_t		 i;

	for (i = 0; i < n; i++)
		u[i] = v[i].uid;
	qsort(u, n, sizeof *u, uid_cmp);
	engine_uidset(&r->set, u, n);
	free(u);
}

static bool
same_group(const struct cache_pending *a, const struct cache_pending *b)
{
	if (a->folder_id != b->folder_id || a->op != b->op ||
	    a->flags != b->flags || a->dest_id != b->dest_id ||
	    (a->attempts > 0) != (b->attempts > 0))
		return false;
	if ((a->keywords == NULL) != (b->keywords == NULL))
		return false;
	return a->keywords == NULL || strcmp(a->keywords, b->keywords) == 0;
}

/* A refusal: undo locally and say so with the server's words. */
static int
refused(struct replay *r, struct cache_pending *v, size_t n,
    const struct error *why, struct error *err)
{
	struct rfolder	*f = find_folder(r, v[0].folder_id);

	notice(r, "%s of %zu message(s) in %s refused, undone locally: %s",
	    cache_op_name(v[0].op), n, f != NULL ? f->name : "?", why->msg);
	r->stats->failed += n;
	return cache_pending_fail(r->cache, v, n, true, err);
}

/* ---- Exactly-once checks ----------------------------------------------- */

/* Open src read-write; -1 too when its UIDVALIDITY moved on. */
static int
select_same(struct replay *r, struct rfolder *src, struct error *err)
{
	int	sel;

	if ((sel = select_folder(r, src, true, err)) == 1)
		return error_set(err, ERR_PROTO, "%s changed on the server "
		    "(UIDVALIDITY)", src->name);
	return sel;
}

/*
 * A copy or move sent before whose answer never came. *donep: it happened
 * (*realp its destination UID when known); else it must be sent again.
 */
static int
recover_one(struct replay *r, struct rfolder *src, struct rfolder *dest,
    struct cache_pending *p, bool *donep, uint32_t *realp, struct error *err)
{
	char	set[16];
	int	present = 1;

	*donep = false;
	*realp = 0;
	if (p->op == CACHE_OP_MOVE) {
		if (select_same(r, src, err) == -1)
			return -1;
		if ((present = r->drv->find_uid(r->s, p->uid, err)) == -1)
			return -1;
	}
	if (p->message_id != NULL) {
		if (select_folder(r, dest, false, err) == -1 ||
		    r->drv->find_message_id(r->s, p->message_id, realp,
		    err) == -1)
			return -1;
	}
	if (p->op == CACHE_OP_MOVE && !present) {
		/* The source is gone: the move happened. */
		*donep = true;
		return 0;
	}
	if (*realp == 0)
		return 0;	/* not in the destination: send it again */
	*donep = true;
	if (p->op == CACHE_OP_COPY)
		return 0;
	/* Copied but still in the source: finish the move by hand, never
	 * taking other messages with it (asked: false). */
	if (select_same(r, src, err) == -1)
		return -1;
	snprintf(set, sizeof set, "%u", p->uid);
	return r->drv->expunge(r->s, set, false, err) == 0 ? 0 : -1;
}

/* ---- Sending one group --------------------------------------------------- */

/*
 * After an operation: 0 done, -1 stop (the connection is gone, the rows
 * stay attempted), else a refusal undone locally (0 when the undo worked).
 */
static int
answered(struct replay *r, int rv, struct cache_pending *v, size_t n,
    struct error *e, struct error *err)
{
	if (rv == 0)
		return 0;
	if (rv == DRV_REFUSED)
		return refused(r, v, n, e, err) == -1 ? -1 : 1;
	*err = *e;
	return -1;
}

static int
send_copy(struct replay *r, struct rfolder *src, struct rfolder *dest,
    struct cache_pending *v, size_t n, struct error *err)
{
	struct drv_copied	 cp;
	struct error		 e;
	uint32_t		*real;
	size_t			 i;
	int			 rv;

	make_set(r, v, n);
	memset(&cp, 0, sizeof cp);
	error_clear(&e);
	if (v[0].op == CACHE_OP_MOVE && r->drv->move != NULL)
		rv = r->drv->move(r->s, r->set.data, dest->remote, &cp, &e);
	else if (r->drv->copy != NULL)
		rv = r->drv->copy(r->s, r->set.data, dest->remote, &cp, &e);
	else {
		error_set(&e, ERR_USAGE, "the server cannot copy");
		rv = DRV_REFUSED;
	}
	if ((rv = answered(r, rv, v, n, &e, err)) != 0) {
		drv_copied_free(&cp);
		return rv == -1 ? -1 : 0;
	}
	/* A refused removal leaves a copy made: keep both, say so. */
	if (cp.source_kept)
		notice(r, "moved messages stay in %s too: %s", src->name,
		    cp.kept_why.msg);
	real = xcalloc(n, sizeof *real);
	for (i = 0; i < n; i++)
		real[i] = cp.uidvalidity == 0 || cp.uidvalidity ==
		    dest->uidvalidity ? drv_copied_lookup(&cp, v[i].uid) : 0;
	drv_copied_free(&cp);
	rv = cache_pending_done(r->cache, v, n, real, err);
	free(real);
	if (rv == 0)
		r->stats->done += n;
	return rv;
}

/* Copies and moves whose answer was lost: ask before resending. */
static int
recover_group(struct replay *r, struct rfolder *src, struct rfolder *dest,
    struct cache_pending *v, size_t *np, struct error *err)
{
	bool		 done;
	uint32_t	 real;
	size_t		 i, k, n = *np;

	for (i = k = 0; i < n; i++) {
		if (recover_one(r, src, dest, &v[i], &done, &real, err) == -1)
			return -1;
		if (done) {
			if (cache_pending_done(r->cache, &v[i], 1, &real,
			    err) == -1)
				return -1;
			r->stats->done++;
			r->stats->recovered++;
		} else if (k++ != i) {
			struct cache_pending t = v[k - 1];

			v[k - 1] = v[i];
			v[i] = t;
		}
	}
	*np = k;
	return 0;
}

static int
send_group(struct replay *r, struct cache_pending *v, size_t n,
    struct error *err)
{
	struct rfolder	*src = find_folder(r, v[0].folder_id);
	struct rfolder	*dest = NULL;
	struct error	 e;
	int		 rv, sel;

	if (src == NULL || src->remote == NULL)
		return cache_pending_fail(r->cache, v, n, false, err);
	if (v[0].op == CACHE_OP_COPY || v[0].op == CACHE_OP_MOVE) {
		dest = find_folder(r, v[0].dest_id);
		if (dest == NULL || dest->remote == NULL) {
			error_set(&e, ERR_USAGE, "no folder to copy to");
			return refused(r, v, n, &e, err);
		}
	}
	if (cache_pending_attempt(r->cache, v, n, err) == -1)
		return -1;
	if (dest != NULL && v[0].attempts > 0) {
		if (recover_group(r, src, dest, v, &n, err) == -1)
			return -1;
		if (n == 0)
			return 0;
	}

	if ((sel = select_folder(r, src, true, err)) == -1)
		return -1;
	if (sel == 1) {
		/* The next sync resets the folder and retargets these. */
		notice(r, "%s changed on the server (UIDVALIDITY); its actions "
		    "wait for the next sync", src->name);
		r->stats->waiting += n;
		return 0;
	}
	if (dest != NULL)
		return send_copy(r, src, dest, v, n, err);
	make_set(r, v, n);
	error_clear(&e);
	if (v[0].op == CACHE_OP_EXPUNGE)
		/* The user asked to expunge: a bare EXPUNGE will do. */
		rv = r->drv->expunge(r->s, r->set.data, true, &e);
	else
		rv = r->drv->store_flags(r->s, r->set.data,
		    v[0].op == CACHE_OP_ADD, v[0].flags, v[0].keywords, &e);
	if ((rv = answered(r, rv, v, n, &e, err)) != 0)
		return rv == -1 ? -1 : 0;
	if (cache_pending_done(r->cache, v, n, NULL, err) == -1)
		return -1;
	r->stats->done += n;
	return 0;
}

void
drv_copied_free(struct drv_copied *cp)
{
	free(cp->src);
	free(cp->dst);
	memset(cp, 0, sizeof *cp);
}

uint32_t
drv_copied_lookup(const struct drv_copied *cp, uint32_t src)
{
	size_t	i;

	for (i = 0; i < cp->n; i++)
		if (cp->src[i] == src)
			return cp->dst[i];
	return 0;
}

static int
replay_run(struct session *s, const struct sync_opts *opts,
    struct replay_stats *stats, struct error *err)
{
	struct cache		*cache = s->cache;
	struct replay		 r;
	struct cache_pending	*v = NULL;
	struct cache_msg	 m;
	size_t			 n = 0, i, j, k;
	int			 rv = -1, found;

	memset(&r, 0, sizeof r);
	r.s = s;
	r.drv = s->drv;
	r.cache = cache;
	r.stats = stats;
	r.notice = opts->notice;
	r.notice_arg = opts->notice_arg;
	buf_init(&r.set, 0);
	if (cache_pending_load(cache, 0, &v, &n, err) == -1)
		return -1;
	if (n == 0) {
		buf_free(&r.set);
		return 0;
	}
	if (cache_folder_foreach(cache, false, folder_cb, &r, err) == -1)
		goto out;
	for (i = 0; i < n; i = j) {
		struct cache_pending *p = &v[i];

		for (j = i + 1; j < n && j - i < REPLAY_GROUP_MAX &&
		    same_group(p, &v[j]); j++)
			;
		/*
		 * Rows the server cannot act on go first: lost to a
		 * UIDVALIDITY change, still a placeholder, or (never sent)
		 * a message another client expunged meanwhile.
		 */
		for (k = i; k < j; k++) {
			bool drop = v[k].uid == 0 ||
			    v[k].uid >= CACHE_LOCAL_UID_MIN;

			if (!drop && v[k].attempts == 0 && v[k].op !=
			    CACHE_OP_ADD && v[k].op != CACHE_OP_REMOVE) {
				if ((found = cache_msg_get(cache, v[k].folder_id,
				    v[k].uid, &m, err)) == -1)
					goto out;
				drop = found == 0;
			}
			if (!drop)
				continue;
			if (v[k].uid >= CACHE_LOCAL_UID_MIN)
				notice(&r, "%s of a message not yet on the "
				    "server dropped", cache_op_name(v[k].op));
			if (cache_pending_fail(cache, &v[k], 1, false, err) == -1)
				goto out;
			stats->dropped++;
			v[k].id = 0;
		}
		for (k = i; k < j; k++) {
			size_t e;

			if (v[k].id == 0)
				continue;
			for (e = k + 1; e < j && v[e].id != 0; e++)
				;
			if (send_group(&r, &v[k], e - k, err) == -1) {
				/* Lost connection: they stay, attempted. */
				cache_pending_note(cache, &v[k], e - k,
				    err->msg, NULL);
				goto out;
			}
			k = e - 1;
		}
	}
	rv = 0;
out:
	for (i = 0; i < r.nfolders; i++) {
		free(r.folders[i].name);
		free(r.folders[i].remote);
	}
	free(r.folders);
	buf_free(&r.set);
	cache_pending_free(v, n);
	return rv;
}

int
session_replay_pending(struct session *s, const struct sync_opts *opts,
    struct replay_stats *stats, bool flush, struct error *err)
{
	struct error	e;
	int		rv;

	if (s->drv->select == NULL)
		return 0;	/* no server folders: nothing to send */
	rv = replay_run(s, opts, stats, err);
	/* What the server said meanwhile; its failure counts only alone. */
	error_clear(&e);
	if (flush && s->drv->flush_changes != NULL &&
	    s->drv->flush_changes(s, &e) == -1 && rv == 0) {
		*err = e;
		rv = -1;
	}
	return rv;
}

int
session_replay_fn(void *arg, const struct sync_opts *opts,
    struct replay_stats *stats, struct error *err)
{
	return session_replay_pending(arg, opts, stats, false, err);
}
