/*
 * Replaying local actions to an IMAP server, exactly once.
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
#include "imap.h"
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
	struct imap_client	*c;
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

/* Select (read-write) or examine a folder; 0, -1 error, 1 UIDVALIDITY moved on. */
static int
select_folder(struct replay *r, struct rfolder *f, bool rw, struct error *err)
{
	struct imap_select_opts	so;
	struct imap_mailbox	mb;

	if (r->selected == f->id && (r->selected_rw || !rw))
		return 0;
	memset(&so, 0, sizeof so);
	so.readonly = !rw;
	r->selected = 0;
	if (imap_select(r->c, f->remote, &so, &mb, err) == -1)
		return -1;
	r->selected = f->id;
	r->selected_rw = rw;
	return mb.uidvalidity != f->uidvalidity ? 1 : 0;
}

/* "\\Seen \\Flagged kw" of bits and keywords. */
static void
flag_names(struct buf *b, uint32_t flags, const char *keywords)
{
	static const struct {
		uint32_t	 bit;
		const char	*name;
	} names[] = {
		{ MSG_SEEN, "\\Seen" }, { MSG_ANSWERED, "\\Answered" },
		{ MSG_FLAGGED, "\\Flagged" }, { MSG_DELETED, "\\Deleted" },
		{ MSG_DRAFT, "\\Draft" }, { MSG_FORWARDED, "$Forwarded" },
	};
	size_t	i;

	buf_reset(b);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (flags & names[i].bit) {
			if (b->len > 0)
				buf_addc(b, ' ');
			buf_adds(b, names[i].name);
		}
	if (keywords != NULL && *keywords != '\0') {
		if (b->len > 0)
			buf_addc(b, ' ');
		buf_adds(b, keywords);
	}
	if (b->len == 0)
		buf_adds(b, "");
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

struct found {
	uint32_t	uid;
	size_t		n;
};

static int
found_cb(void *arg, uint32_t first, uint32_t last)
{
	struct found	*f = arg;

	if (f->uid == 0)
		f->uid = first;
	f->n += (size_t)(last - first) + 1;
	return 0;
}

/* Is uid still in the selected folder? 1 yes, 0 no, -1 error. */
static int
uid_present(struct replay *r, uint32_t uid, struct error *err)
{
	struct found	f = { 0, 0 };
	char		crit[32];

	snprintf(crit, sizeof crit, "UID %u", uid);
	if (imap_uid_search(r->c, crit, found_cb, &f, err) == -1)
		return -1;
	return f.n > 0;
}

/* UID of the message with this Message-ID in dest (examined), 0 none. */
static int
find_in_dest(struct replay *r, struct rfolder *dest, const char *mid,
    uint32_t *uidp, struct error *err)
{
	struct found	 f = { 0, 0 };
	struct buf	 crit = BUF_INIT(0);
	int		 rv;

	*uidp = 0;
	if (select_folder(r, dest, false, err) == -1)
		return -1;
	buf_adds(&crit, "HEADER Message-ID ");
	if (imap_quote(&crit, mid) == -1) {
		buf_free(&crit);
		return 0;
	}
	rv = imap_uid_search(r->c, crit.data, found_cb, &f, err);
	buf_free(&crit);
	if (rv == -1)
		return -1;
	*uidp = f.uid;
	return 0;
}

/*
 * A copy or move sent before whose answer never came. *donep: it happened
 * (*realp its destination UID when known); else it must be sent again.
 */
static int
recover_one(struct replay *r, struct rfolder *src, struct rfolder *dest,
    struct cache_pending *p, bool *donep, uint32_t *realp, struct error *err)
{
	struct buf	 flags = BUF_INIT(0);
	char		 set[16];
	int		 present = 1, rv;

	*donep = false;
	*realp = 0;
	if (p->op == CACHE_OP_MOVE) {
		if (select_folder(r, src, true, err) != 0)
			return -1;
		if ((present = uid_present(r, p->uid, err)) == -1)
			return -1;
	}
	if (p->message_id != NULL && find_in_dest(r, dest, p->message_id,
	    realp, err) == -1)
		return -1;
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
	/* Copied but still in the source: finish the move by hand. */
	if (select_folder(r, src, true, err) != 0)
		return -1;
	snprintf(set, sizeof set, "%u", p->uid);
	flag_names(&flags, MSG_DELETED, NULL);
	rv = imap_uid_store(r->c, set, true, flags.data, err);
	if (rv == 0 && imap_has_cap(r->c, "UIDPLUS"))
		rv = imap_uid_expunge(r->c, set, err);
	buf_free(&flags);
	return rv;
}

/* ---- Sending one group --------------------------------------------------- */

static int
send_copy(struct replay *r, struct rfolder *src, struct rfolder *dest,
    struct cache_pending *v, size_t n, struct error *err)
{
	struct imap_copyuid	 cu;
	struct error		 e;
	struct buf		 flags = BUF_INIT(0);
	uint32_t		*real;
	size_t			 i;
	bool			 move = v[0].op == CACHE_OP_MOVE;
	bool			 native = move && imap_has_cap(r->c, "MOVE");
	int			 rv;

	make_set(r, v, n);
	error_clear(&e);
	if (imap_uid_copy(r->c, r->set.data, dest->remote, native, &cu,
	    &e) == -1) {
		imap_copyuid_free(&cu);
		if (imap_broken(r->c) != NULL) {
			*err = e;
			return -1;
		}
		return refused(r, v, n, &e, err);
	}
	if (move && !native) {
		/* COPY worked; the source goes the UIDPLUS way, never by a
		 * bare EXPUNGE that would take other clients' \Deleted too. */
		flag_names(&flags, MSG_DELETED, NULL);
		rv = imap_uid_store(r->c, r->set.data, true, flags.data, err);
		if (rv == 0 && imap_has_cap(r->c, "UIDPLUS"))
			rv = imap_uid_expunge(r->c, r->set.data, err);
		buf_free(&flags);
		if (rv == -1 && imap_broken(r->c) != NULL) {
			imap_copyuid_free(&cu);
			return -1;
		}
		/* A refused STORE leaves a copy made: keep both, say so. */
		if (rv == -1)
			notice(r, "moved messages stay in %s too: %s",
			    src->name, err->msg);
	}
	real = xcalloc(n, sizeof *real);
	for (i = 0; i < n; i++)
		real[i] = cu.uidvalidity == 0 || cu.uidvalidity ==
		    dest->uidvalidity ? imap_copyuid_lookup(&cu, v[i].uid) : 0;
	imap_copyuid_free(&cu);
	rv = cache_pending_done(r->cache, v, n, real, err);
	free(real);
	if (rv == 0)
		r->stats->done += n;
	return rv;
}

static int
send_group(struct replay *r, struct cache_pending *v, size_t n,
    struct error *err)
{
	struct rfolder	*src = find_folder(r, v[0].folder_id);
	struct rfolder	*dest = NULL;
	struct buf	 flags = BUF_INIT(0);
	struct error	 e;
	size_t		 i, k;
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

	/* Copies and moves whose answer was lost: ask before resending. */
	if (dest != NULL && v[0].attempts > 0) {
		bool		 done;
		uint32_t	 real;

		for (i = k = 0; i < n; i++) {
			if (recover_one(r, src, dest, &v[i], &done, &real,
			    err) == -1)
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
		if ((n = k) == 0)
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
	error_clear(&e);
	switch (v[0].op) {
	case CACHE_OP_ADD:
	case CACHE_OP_REMOVE:
		make_set(r, v, n);
		flag_names(&flags, v[0].flags, v[0].keywords);
		rv = imap_uid_store(r->c, r->set.data, v[0].op == CACHE_OP_ADD,
		    flags.data, &e);
		break;
	case CACHE_OP_EXPUNGE:
		make_set(r, v, n);
		flag_names(&flags, MSG_DELETED, NULL);
		rv = imap_uid_store(r->c, r->set.data, true, flags.data, &e);
		/* The user asked to expunge: without UIDPLUS a bare EXPUNGE
		 * is the only way, and it is what they asked for. */
		if (rv == 0)
			rv = imap_has_cap(r->c, "UIDPLUS") ?
			    imap_uid_expunge(r->c, r->set.data, &e) :
			    imap_expunge(r->c, &e);
		break;
	default:
		buf_free(&flags);
		return send_copy(r, src, dest, v, n, err);
	}
	buf_free(&flags);
	if (rv == -1) {
		if (imap_broken(r->c) != NULL) {
			*err = e;
			return -1;
		}
		return refused(r, v, n, &e, err);
	}
	if (cache_pending_done(r->cache, v, n, NULL, err) == -1)
		return -1;
	r->stats->done += n;
	return 0;
}

int
imap_replay(struct imap_client *c, struct cache *cache,
    engine_notice_cb cb, void *cb_arg, struct replay_stats *stats,
    struct error *err)
{
	struct replay		 r;
	struct cache_pending	*v = NULL;
	struct cache_msg	 m;
	size_t			 n = 0, i, j, k;
	int			 rv = -1, found;

	memset(&r, 0, sizeof r);
	r.c = c;
	r.cache = cache;
	r.stats = stats;
	r.notice = cb;
	r.notice_arg = cb_arg;
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
