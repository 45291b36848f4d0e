/*
 * IMAP sync: server folders, headers and flags into the cache.
 *
 * Per folder, in this order:
 *  - skip it when LIST-STATUS shows nothing changed since the last complete
 *    sync (same UIDVALIDITY, UIDNEXT, message count and HIGHESTMODSEQ);
 *  - SELECT, with QRESYNC when we have a HIGHESTMODSEQ: the server then
 *    sends only the flag changes and expunges since then;
 *  - without QRESYNC: flag changes of cached messages with UID FETCH
 *    (CHANGEDSINCE) or, without CONDSTORE, all their flags;
 *  - new messages: one UID FETCH of everything above synced_uid, committed
 *    in batches, each batch moving synced_uid forward so an interrupted
 *    sync resumes where it stopped;
 *  - expunges: when the cached count differs from EXISTS, one UID SEARCH
 *    (ESEARCH) says which UIDs remain.
 * The folder is marked complete, with the new UIDNEXT and HIGHESTMODSEQ,
 * only in the last transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "conf.h"
#include "engine-private.h"
#include "imap.h"
#include "imap-utf7.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* UIDs per UID FETCH when downloading bodies. */
#define BODY_BATCH		200
/*
 * A folder's new messages come in UID FETCHes of FETCH_CHUNK UIDs at first,
 * then as many as took FETCH_CHUNK_MS: between two, the session runs what
 * was queued meanwhile. Each boundary costs the server a pause (about 10 ms
 * on loopback), so they come about twice a second, not every few thousand
 * messages.
 */
#define FETCH_CHUNK		5000
#define FETCH_CHUNK_MAX		(1U << 24)
#define FETCH_CHUNK_MS		500
/* Bodies at least this big stream through a temporary file. */
#define BODY_STREAM_MIN		(256 * 1024)
/* A body longer than HEAD_FETCH_MIN has its first HEAD_FETCH bytes first. */
#define HEAD_FETCH		(192 * 1024)
#define HEAD_FETCH_MIN		(1024 * 1024)

struct folder_state {
	char			*name;		/* UTF-8 */
	char			*remote;	/* server name */
	bool			 noselect;
	bool			 subscribed;
	char			 delim;
	char			*special_use;
	char			*attributes;
	struct imap_folder_info	 info;		/* status fields only */
	int64_t			 id;
};

struct flag_update {
	uint32_t	 uid;
	uint32_t	 flags;
	char		*keywords;
	uint64_t	 modseq;
};

/* Updates buffered at most before they are written. */
#define UPDATE_BATCH	1000

struct imap_sync {
	const struct account	*acct;
	struct imap_client	*c;
	struct cache		*cache;
	const struct sync_opts	*opts;
	struct sync_stats	*stats;
	struct error		*err;

	struct folder_state	*folders;
	size_t			 nfolders;
	/* STATUS of the folders known from the last sync, asked before LIST. */
	struct imap_folder_info	*status;
	char			**status_names;
	size_t			 nstatus;

	/* The folder being synced, and the one selected on the server. */
	struct folder_state	*fs;
	struct folder_state	*selected;
	struct cache_folder	 cf;		/* its cached markers (copied) */
	uint32_t		 synced_uid;
	struct store		*store;		/* phase 2's writer */
	/* The store thread's own, while it runs (see imap_store_ops). */
	struct {
		uint32_t	 synced_uid;	/* the resume point committed */
		uint32_t	 last_uid;	/* the highest stored */
		bool		 unordered;	/* a UID came below last_uid */
		bool		 hold;		/* never move the resume point */
	}			 w;
	struct index_fields	 fields;	/* the message being decoded */
	uint64_t		 done, total;
	size_t			 in0, out0;	/* the client's counters at start */
	struct buf		 kw;

	/*
	 * Flag changes and expunges the server reports while a command
	 * runs, applied in short transactions (flush_updates) so no write
	 * transaction waits on the network.
	 */
	struct flag_update	*upd;
	size_t			 nupd, updsize;
	uint32_t		(*gone)[2];
	size_t			 ngone, gonesize;

	/* Body download. */
	FILE			*tmp;
	uint64_t		 tmp_size;
	uint32_t		*uids;
	size_t			 nuids, uidsize;
};

static void
progress(struct imap_sync *s)
{
	if (s->opts->progress != NULL)
		s->opts->progress(s->opts->progress_arg, s->fs->name, s->done,
		    s->total);
}

/* ---- Folder list -------------------------------------------------------- */

static int
list_cb(void *arg, const struct imap_folder_info *f)
{
	struct imap_sync	*s = arg;
	struct folder_state	*fs;
	char			*utf8;
	size_t			 i;

	s->folders = xreallocarray(s->folders, s->nfolders + 1,
	    sizeof *s->folders);
	fs = &s->folders[s->nfolders++];
	memset(fs, 0, sizeof *fs);
	/* Names arrive in modified UTF-7; show them in UTF-8. */
	utf8 = imap_utf7_decode(f->name, strlen(f->name));
	fs->name = utf8 != NULL ? utf8 : xstrdup(f->name);
	fs->remote = xstrdup(f->name);
	fs->noselect = f->noselect;
	fs->subscribed = f->subscribed;
	fs->delim = f->delim;
	fs->special_use = f->special_use != NULL ? xstrdup(f->special_use) :
	    NULL;
	fs->attributes = f->attributes != NULL ? xstrdup(f->attributes) : NULL;
	for (i = 0; i < s->nstatus; i++)
		if (strcmp(s->status_names[i], f->name) == 0)
			fs->info = s->status[i];
	return 0;
}

struct stale_ctx {
	struct imap_sync	*s;
	int64_t			*ids;
	size_t			 n;
};

static int
stale_cb(void *arg, const struct cache_folder *f)
{
	struct stale_ctx	*ctx = arg;
	size_t			 i;

	if (f->remote == NULL)
		return 0;	/* local folder: not the server's to remove */
	for (i = 0; i < ctx->s->nfolders; i++)
		if (ctx->s->folders[i].id == f->id)
			return 0;
	ctx->ids = xreallocarray(ctx->ids, ctx->n + 1, sizeof *ctx->ids);
	ctx->ids[ctx->n++] = f->id;
	return 0;
}

static int
known_cb(void *arg, const struct cache_folder *f)
{
	struct imap_sync	*s = arg;

	if (f->remote == NULL || f->noselect || !f->complete)
		return 0;
	s->status_names = xreallocarray(s->status_names, s->nstatus + 1,
	    sizeof *s->status_names);
	s->status_names[s->nstatus++] = xstrdup(f->remote);
	return 0;
}

static int
status_cb(void *arg, const struct imap_folder_info *f)
{
	struct imap_sync	*s = arg;
	size_t			 i;

	for (i = 0; i < s->nstatus; i++)
		if (strcmp(s->status_names[i], f->name) == 0) {
			s->status[i] = *f;
			s->status[i].name = NULL;
		}
	return 0;
}

/*
 * STATUS of every folder the last sync completed, before LIST (see
 * imap_status() for why): what it shows unchanged is not selected at all.
 */
static int
sync_known_status(struct imap_sync *s)
{
	if (cache_folder_foreach(s->cache, false, known_cb, s, s->err) == -1)
		return -1;
	if (s->nstatus == 0)
		return 0;
	s->status = xcalloc(s->nstatus, sizeof *s->status);
	return imap_status(s->c, (const char *const *)s->status_names,
	    s->nstatus, status_cb, s, s->err);
}

static int
sync_folder_list(struct imap_sync *s)
{
	struct stale_ctx	ctx;
	struct cache_folder	cf;
	size_t			i;
	int			rv = -1;

	/* The answer first, then one short transaction to store it. */
	if (imap_list(s->c, list_cb, s, s->err) == -1)
		return -1;
	if (cache_begin(s->cache, s->err) == -1)
		return -1;
	for (i = 0; i < s->nfolders; i++) {
		struct folder_state *fs = &s->folders[i];

		memset(&cf, 0, sizeof cf);
		cf.name = fs->name;
		cf.remote = fs->remote;
		cf.delim = fs->delim;
		cf.special_use = fs->special_use;
		cf.attributes = fs->attributes;
		cf.subscribed = fs->subscribed;
		cf.noselect = fs->noselect;
		if (cache_folder_put(s->cache, &cf, &fs->id, s->err) == -1)
			goto out;
	}
	/* Folders gone from the server go from the cache too. */
	memset(&ctx, 0, sizeof ctx);
	ctx.s = s;
	if (cache_folder_foreach(s->cache, false, stale_cb, &ctx, s->err) == -1)
		goto out;
	for (i = 0; i < ctx.n; i++)
		if (cache_folder_delete(s->cache, ctx.ids[i], s->err) == -1) {
			free(ctx.ids);
			goto out;
		}
	free(ctx.ids);
	if (cache_commit(s->cache, s->err) == -1)
		return -1;
	s->stats->folders_listed = (int)s->nfolders;
	return 0;
out:
	cache_rollback(s->cache);
	return rv;
}

/* ---- One folder ---------------------------------------------------------- */

static int
save_markers(struct imap_sync *s, const struct cache_folder *cf)
{
	return cache_folder_set_sync(s->cache, s->fs->id, cf, s->err);
}

static void
clear_updates(struct imap_sync *s)
{
	size_t	i;

	for (i = 0; i < s->nupd; i++)
		free(s->upd[i].keywords);
	s->nupd = 0;
	s->ngone = 0;
}

/*
 * Write the buffered flag changes and expunges in one short transaction.
 * Called between reads, never while one is waited for.
 */
static int
flush_updates(struct imap_sync *s)
{
	uint64_t	n;
	size_t		i;

	if (s->nupd == 0 && s->ngone == 0)
		return 0;
	if (cache_begin(s->cache, s->err) == -1)
		return -1;
	for (i = 0; i < s->nupd; i++) {
		if (cache_msg_set_flags(s->cache, s->fs->id, s->upd[i].uid,
		    s->upd[i].flags, s->upd[i].keywords, s->upd[i].modseq,
		    s->err) == -1)
			goto fail;
		s->stats->flag_updates++;
	}
	for (i = 0; i < s->ngone; i++) {
		if (cache_msg_delete_range(s->cache, s->fs->id, s->gone[i][0],
		    s->gone[i][1], &n, s->err) == -1)
			goto fail;
		s->stats->expunged += n;
	}
	if (cache_commit(s->cache, s->err) == -1)
		goto fail;
	clear_updates(s);
	return 0;
fail:
	cache_rollback(s->cache);
	clear_updates(s);
	return -1;
}

/* A flag change of a cached message (phase 1 and QRESYNC). */
static int
flags_cb(void *arg, const struct imap_msg *m)
{
	struct imap_sync	*s = arg;

	struct flag_update	*u;

	if (m->uid == 0 || !m->has_flags || m->uid > s->synced_uid)
		return 0;
	if (s->nupd == s->updsize) {
		s->updsize = s->updsize ? s->updsize * 2 : 64;
		s->upd = xreallocarray(s->upd, s->updsize, sizeof *s->upd);
	}
	u = &s->upd[s->nupd++];
	u->uid = m->uid;
	u->flags = m->flags;
	u->keywords = m->keywords != NULL ? xstrdup(m->keywords) : NULL;
	u->modseq = m->modseq;
	return s->nupd >= UPDATE_BATCH ? flush_updates(s) : 0;
}

static int
vanished_cb(void *arg, uint32_t first, uint32_t last)
{
	struct imap_sync	*s = arg;

	if (s->ngone == s->gonesize) {
		s->gonesize = s->gonesize ? s->gonesize * 2 : 64;
		s->gone = xreallocarray(s->gone, s->gonesize, sizeof *s->gone);
	}
	s->gone[s->ngone][0] = first;
	s->gone[s->ngone][1] = last;
	s->ngone++;
	return s->ngone >= UPDATE_BATCH ? flush_updates(s) : 0;
}

/* ---- Phase 2's store thread (store.c) ------------------------------------ */

/* A new message's row (or a flag update), on the store thread. */
static int
imap_store_put(void *arg, struct store_item *it, struct error *err)
{
	struct imap_sync	*s = arg;
	struct cache_msg	 m;

	if (it->flags_only) {
		if (cache_msg_set_flags(s->cache, s->fs->id, it->uid,
		    it->flags, it->keywords, it->modseq, err) == -1)
			return -1;
		s->stats->flag_updates++;
		return 0;
	}
	if (it->uid < s->w.last_uid)
		s->w.unordered = true;
	if (it->uid > s->w.last_uid)
		s->w.last_uid = it->uid;
	memset(&m, 0, sizeof m);
	m.folder_id = s->fs->id;
	m.uid = it->uid;
	m.flags = it->flags;
	m.keywords = it->keywords;
	m.modseq = it->modseq;
	m.internaldate = it->internaldate;
	m.size = it->size;
	index_fields_to_msg(&it->fields, &m);
	if (cache_msg_put(s->cache, &m, err) == -1)
		return -1;
	s->stats->new_messages++;
	return 0;
}

/*
 * With each commit, the resume point it makes true: everything up to the
 * highest UID stored, as long as they came in order (a fetch may return
 * them in any order, and only its normal end proves none is missing).
 */
static int
imap_store_commit(void *arg, bool last, struct error *err)
{
	struct imap_sync	*s = arg;
	struct cache_folder	 cf = s->cf;

	(void)last;
	if (!s->w.hold && !s->w.unordered && s->w.last_uid > s->w.synced_uid)
		s->w.synced_uid = s->w.last_uid;
	cf.synced_uid = s->w.synced_uid;
	cf.complete = false;
	return cache_folder_set_sync(s->cache, s->fs->id, &cf, err);
}

static void
imap_store_finishing(void *arg, bool all_seen)
{
	struct imap_sync	*s = arg;

	/* The fetch ended normally: every UID up to the last was seen. */
	if (all_seen && s->w.last_uid > s->w.synced_uid)
		s->w.unordered = false;
}

/* Progress from the store thread. */
static void
imap_store_committed(void *arg, uint64_t stored)
{
	struct imap_sync	*s = arg;

	(void)stored;
	s->done = s->stats->new_messages;
	progress(s);
	/* A batch is committed: a reader can show it now, not at the end. */
	if (s->opts->changed != NULL)
		s->opts->changed(s->opts->hook_arg, s->fs->name);
}

static const struct store_ops imap_store_ops = {
	.put = imap_store_put,
	.commit = imap_store_commit,
	.finishing = imap_store_finishing,
	.committed = imap_store_committed,
};

static int	new_cb(void *, const struct imap_msg *);

static int
uid_range_cb(void *arg, uint32_t first, uint32_t last)
{
	uint32_t	*r = arg;	/* [0] lowest, [1] highest */

	if (r[0] == 0 || first < r[0])
		r[0] = first;
	if (last > r[1])
		r[1] = last;
	return 0;
}

/* Start the store thread for phase 2's new messages (see fetch_stored). */
static void
store_open(struct imap_sync *s, bool hold)
{
	struct store_limits	lim = { SYNC_BATCH, 0, true };

	s->w.synced_uid = s->w.last_uid = s->synced_uid;
	s->w.unordered = false;
	s->w.hold = hold;
	s->store = store_start(s->cache, &imap_store_ops, s, &lim);
}

/*
 * Stop it: s->synced_uid gets the resume point it committed (unless
 * held). frv: how the fetches went; the writer's own error wins.
 */
static int
store_close(struct imap_sync *s, int frv)
{
	struct error	serr;

	error_clear(&serr);
	if (store_finish(&s->store, frv == 0, &serr) == -1) {
		*s->err = serr;
		frv = -1;
	}
	if (!s->w.hold)
		s->synced_uid = s->w.synced_uid;
	return frv;
}

/*
 * One UID FETCH of new messages written by a store thread. hold: the
 * resume point stays put (the newest, fetched ahead of a hole); otherwise
 * s->synced_uid gets what the store committed.
 */
static int
fetch_stored(struct imap_sync *s, const char *set, const char *items,
    bool hold)
{
	store_open(s, hold);
	return store_close(s, imap_uid_fetch(s->c, set, items, NULL, new_cb,
	    s, s->err));
}

/*
 * A folder never synced before: fetch the newest screenful first (their
 * UIDs by sequence number, UID SEARCH n:*), so the index shows the mail a
 * person wants while the rest streams in. The resume point stays where it
 * is until the main fetch has brought everything below them; range[] gets
 * their lowest and highest UID (0 0 when there are none).
 */
static int
fetch_head(struct imap_sync *s, const struct imap_mailbox *mb,
    const char *items, uint32_t *range)
{
	struct folder_state	*fs = s->fs;
	char			 set[64];

	range[0] = range[1] = 0;
	snprintf(set, sizeof set, "%u:*", mb->exists - SYNC_HEAD + 1);
	if (imap_uid_search(s->c, set, uid_range_cb, range, s->err) == -1)
		return -1;
	if (range[0] <= s->synced_uid + 1) {
		range[0] = range[1] = 0;
		return 0;
	}
	snprintf(set, sizeof set, "%u:%u", range[0], range[1]);
	if (fetch_stored(s, set, items, true) == -1)
		return -1;
	log_info("%s: %s: the newest %d first", s->acct->name, fs->name,
	    SYNC_HEAD);
	if (s->opts->changed != NULL)
		s->opts->changed(s->opts->hook_arg, fs->name);
	return 0;
}

/*
 * A new message (phase 2): decoded here, stored by the store thread.
 * "n:*" also returns the last message when there is nothing new: that one
 * is only a flag update.
 */
static int
new_cb(void *arg, const struct imap_msg *m)
{
	struct imap_sync	*s = arg;
	struct store_item	*it;
	size_t			 klen, flen = 0;
	char			*room;
	bool			 flags_only;

	if (m->uid == 0) {
		error_set(s->err, ERR_PROTO, "%s: FETCH response without UID",
		    s->acct->host);
		return -1;
	}
	if (m->uid <= s->synced_uid && !m->has_flags)
		return 0;
	flags_only = m->uid <= s->synced_uid;
	if (!flags_only) {
		/* Decoded here, copied into the store's batch below. */
		index_fields_parse(&s->fields, m->header, m->header_len);
		flen = index_fields_size(&s->fields);
	}
	klen = m->keywords != NULL ? strlen(m->keywords) + 1 : 0;
	it = store_item_new(s->store, klen + flen, &room);
	it->uid = m->uid;
	it->flags = m->flags;
	it->modseq = m->modseq;
	it->flags_only = flags_only;
	if (klen > 0) {
		memcpy(room, m->keywords, klen);
		it->keywords = room;
	}
	if (!flags_only) {
		it->internaldate = m->has_internaldate ? m->internaldate : 0;
		it->size = m->size >= 0 ? m->size : 0;
		index_fields_copy(&it->fields, &s->fields, room + klen);
	}
	return store_push(s->store, it, s->err);
}

/* UID SEARCH ranges, for the expunge check. */
struct ranges {
	uint32_t	(*v)[2];
	size_t		 n, size;
};

static int
range_cb(void *arg, uint32_t first, uint32_t last)
{
	struct ranges	*r = arg;

	if (r->n > 0 && r->v[r->n - 1][1] + 1 == first) {
		r->v[r->n - 1][1] = last;
		return 0;
	}
	if (r->n == r->size) {
		r->size = r->size ? r->size * 2 : 64;
		r->v = xreallocarray(r->v, r->size, sizeof *r->v);
	}
	r->v[r->n][0] = first;
	r->v[r->n][1] = last;
	r->n++;
	return 0;
}

static int
range_cmp(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

struct gone_ctx {
	struct ranges	*r;
	size_t		 i;
	struct ranges	 gone;
};

static int
gone_cb(void *arg, uint32_t uid)
{
	struct gone_ctx	*g = arg;

	/* Both lists ascend: walk them together. */
	while (g->i < g->r->n && g->r->v[g->i][1] < uid)
		g->i++;
	if (g->i < g->r->n && g->r->v[g->i][0] <= uid)
		return 0;
	return range_cb(&g->gone, uid, uid);
}

static int
expunge_check(struct imap_sync *s, uint32_t exists)
{
	struct ranges	 r;
	struct gone_ctx	 g;
	size_t		 i;
	int		 rv = -1;
	uint64_t	 n;

	if ((uint64_t)cache_msg_count(s->cache, s->fs->id) == exists)
		return 0;
	memset(&r, 0, sizeof r);
	memset(&g, 0, sizeof g);
	if (imap_uid_search(s->c, "ALL", range_cb, &r, s->err) == -1)
		goto out;
	qsort(r.v, r.n, sizeof *r.v, range_cmp);
	g.r = &r;
	if (cache_uid_foreach(s->cache, s->fs->id, gone_cb, &g, s->err) == -1)
		goto out;
	if (g.gone.n > 0 && cache_begin(s->cache, s->err) == -1)
		goto out;
	for (i = 0; i < g.gone.n; i++) {
		if (cache_msg_delete_range(s->cache, s->fs->id, g.gone.v[i][0],
		    g.gone.v[i][1], &n, s->err) == -1) {
			cache_rollback(s->cache);
			goto out;
		}
		s->stats->expunged += n;
	}
	if (g.gone.n > 0 && cache_commit(s->cache, s->err) == -1)
		goto out;
	rv = 0;
out:
	free(r.v);
	free(g.gone.v);
	return rv;
}

/*
 * Between two chunks of a folder's fetch: let the session run what waits
 * in its queue (a body for the pager, a local action), so nothing waits for
 * a whole cold sync. What it ran may have selected another folder: select
 * this one again (its UIDVALIDITY must not have moved meanwhile), and take
 * EXISTS afresh into *existsp (when given). A sync run meanwhile may have
 * moved the resume point on.
 */
static int
chunk_between(struct imap_sync *s, uint32_t *existsp)
{
	struct imap_mailbox	now;
	struct cache_folder	cf;
	int			r;

	if (s->opts->between == NULL)
		return 0;
	if ((r = s->opts->between(s->opts->hook_arg, s->err)) <= 0)
		return r;
	s->selected = NULL;
	if (imap_select(s->c, s->fs->remote, NULL, &now, s->err) == -1)
		return -1;
	s->selected = s->fs;
	if (now.uidvalidity != s->cf.uidvalidity)
		return error_set(s->err, ERR_TRANSIENT, "%s changed on the "
		    "server (UIDVALIDITY) during its sync", s->fs->name);
	if (existsp != NULL)
		*existsp = now.exists;
	if (cache_folder_get(s->cache, s->fs->name, &cf, s->err) == 1 &&
	    cf.uidvalidity == now.uidvalidity && cf.synced_uid > s->synced_uid)
		s->synced_uid = cf.synced_uid;
	return 0;
}

/*
 * Phase 2's fetch of the messages above synced_uid, up to last (0: all),
 * in chunks of UIDs (FETCH_CHUNK). Between two, when the session has a
 * command waiting, the store commits and stops and the command runs; else
 * the next chunk streams into the same store. Sparse UIDs or a fast link
 * make the chunks wider.
 */
static int
fetch_chunks(struct imap_sync *s, struct imap_mailbox *mb, const char *items,
    uint32_t last)
{
	char		set[64];
	uint32_t	lo = s->synced_uid + 1, hi, end, width = FETCH_CHUNK;
	uint64_t	t0, ms, w;
	bool		final;
	int		rv;

	if (last != 0 && lo > last)
		return 0;
	/* Where the server's UIDs end, as SELECT said. */
	end = last != 0 ? last : mb->uidnext > 0 ? mb->uidnext - 1 : 0;
	store_open(s, false);
	for (;;) {
		hi = lo + width - 1 < lo ? UINT32_MAX : lo + width - 1;
		t0 = now_ms();
		if ((final = end == 0 || hi >= end)) {
			/* The last chunk: "n:*" also brings what came since. */
			if (last != 0)
				snprintf(set, sizeof set, "%u:%u", lo, last);
			else
				snprintf(set, sizeof set, "%u:*", lo);
		} else
			snprintf(set, sizeof set, "%u:%u", lo, hi);
		rv = imap_uid_fetch(s->c, set, items, NULL, new_cb, s, s->err);
		if (rv == -1 || final)
			return store_close(s, rv);
		/* UIDs per FETCH_CHUNK_MS at the pace of this one. */
		if ((ms = now_ms() - t0) == 0)
			ms = 1;
		w = (uint64_t)width * FETCH_CHUNK_MS / ms;
		width = w < FETCH_CHUNK ? FETCH_CHUNK : w > FETCH_CHUNK_MAX ?
		    FETCH_CHUNK_MAX : (uint32_t)w;
		lo = hi + 1;
		if (s->opts->between == NULL || (s->opts->waiting != NULL &&
		    !s->opts->waiting(s->opts->hook_arg)))
			continue;
		if (store_close(s, 0) == -1 || chunk_between(s,
		    &mb->exists) == -1)
			return -1;
		if (s->synced_uid >= lo)
			lo = s->synced_uid + 1;
		if (last != 0 && lo > last)
			return 0;
		store_open(s, false);
	}
}

static bool
folder_unchanged(struct imap_sync *s)
{
	const struct imap_folder_info	*st = &s->fs->info;
	const struct cache_folder	*cf = &s->cf;

	if (!st->has_status || !cf->complete || cf->uidvalidity == 0)
		return false;
	/* Without CONDSTORE we cannot see flag changes: always look. */
	if (!imap_condstore(s->c) || st->highestmodseq == 0)
		return false;
	return st->uidvalidity == cf->uidvalidity &&
	    st->uidnext == cf->uidnext &&
	    st->highestmodseq == cf->highestmodseq &&
	    st->messages == cf->messages;
}

static int
sync_bodies(struct imap_sync *s);

static int
sync_folder(struct imap_sync *s, struct folder_state *fs)
{
	struct imap_select_opts	 so;
	struct imap_mailbox	 mb;
	struct cache_folder	 cf;
	char			 set[64], items[256];
	int			 found;
	bool			 reset = false;
	uint64_t		 lost;

	s->fs = fs;
	s->done = s->total = 0;
	if ((found = cache_folder_get(s->cache, fs->name, &cf, s->err)) == -1)
		return -1;
	if (!found)
		return error_set(s->err, ERR_LOCAL, "folder %s vanished from "
		    "the cache", fs->name);
	s->cf = cf;
	s->cf.name = s->cf.remote = s->cf.special_use = s->cf.attributes = NULL;
	if (folder_unchanged(s)) {
		s->stats->folders_unchanged++;
		log_info("%s: %s unchanged", s->acct->name, fs->name);
		return s->opts->bodies ? sync_bodies(s) : 0;
	}

	memset(&so, 0, sizeof so);
	so.readonly = false;
	if (s->cf.uidvalidity != 0 && s->cf.highestmodseq != 0) {
		so.qresync_uidvalidity = s->cf.uidvalidity;
		so.qresync_modseq = s->cf.highestmodseq;
	}
	so.on_fetch = flags_cb;
	so.on_vanished = vanished_cb;
	so.arg = s;
	s->synced_uid = s->cf.synced_uid;
	s->selected = NULL;
	if (imap_select(s->c, fs->remote, &so, &mb, s->err) == -1 ||
	    flush_updates(s) == -1)
		goto fail;
	s->selected = fs;
	if (mb.uidvalidity == 0) {
		error_set(s->err, ERR_PROTO, "%s: no UIDVALIDITY for %s",
		    s->acct->host, fs->name);
		goto fail;
	}
	if (mb.uidvalidity != s->cf.uidvalidity) {
		/* Every cached UID is meaningless now: start over. */
		if (s->cf.uidvalidity != 0)
			log_warnx("%s: UIDVALIDITY of %s changed, re-reading it",
			    s->acct->name, fs->name);
		if (cache_begin(s->cache, s->err) == -1)
			goto fail;
		if (cache_folder_reset(s->cache, fs->id, mb.uidvalidity,
		    s->err) == -1 || cache_commit(s->cache, s->err) == -1) {
			cache_rollback(s->cache);
			goto fail;
		}
		reset = true;
		memset(&s->cf, 0, sizeof s->cf);
		s->cf.uidvalidity = mb.uidvalidity;
		s->synced_uid = 0;
	}

	/* Phase 1: flags of what we have, unless QRESYNC already did it. */
	if (s->synced_uid > 0 && !(imap_qresync(s->c) && so.qresync_modseq)) {
		snprintf(set, sizeof set, "1:%u", s->synced_uid);
		if (imap_condstore(s->c) && s->cf.highestmodseq != 0 &&
		    mb.highestmodseq != 0) {
			char mod[64];

			if (mb.highestmodseq != s->cf.highestmodseq) {
				snprintf(mod, sizeof mod, "CHANGEDSINCE %llu",
				    (unsigned long long)s->cf.highestmodseq);
				if (imap_uid_fetch(s->c, set, "UID FLAGS", mod,
				    flags_cb, s, s->err) == -1)
					goto fail;
			}
		} else if (imap_uid_fetch(s->c, set, imap_condstore(s->c) ?
		    "UID FLAGS MODSEQ" : "UID FLAGS", NULL, flags_cb, s,
		    s->err) == -1)
			goto fail;
		if (flush_updates(s) == -1)
			goto fail;
	}

	/*
	 * Phase 2: new messages. What phases 0 and 1 changed is committed
	 * already (flag changes are safe to keep: the markers do not move),
	 * and the store thread takes the cache over until the fetch ends.
	 */
	if (mb.exists > 0 && (mb.uidnext == 0 || mb.uidnext > s->synced_uid + 1)) {
		int64_t		have = cache_msg_count(s->cache, fs->id);
		uint32_t	head[2] = { 0, 0 };

		s->total = mb.exists > have ? (uint64_t)(mb.exists - have) : 0;
		s->done = 0;
		progress(s);
		snprintf(items, sizeof items, "UID FLAGS INTERNALDATE "
		    "RFC822.SIZE%s BODY.PEEK[HEADER.FIELDS (%s)]",
		    imap_condstore(s->c) ? " MODSEQ" : "", INDEX_HEADER_FIELDS);
		if (s->synced_uid == 0 && have == 0 &&
		    mb.exists > 4 * SYNC_HEAD && fetch_head(s, &mb, items,
		    head) == -1)
			return -1;
		if (fetch_chunks(s, &mb, items, head[0] != 0 ? head[0] - 1 :
		    0) == -1)
			return -1;
		/* Everything below the newest is in: so is all up to them. */
		if (head[0] != 0 && s->synced_uid < head[1])
			s->synced_uid = head[1];
	}

	if (expunge_check(s, mb.exists) == -1)
		goto fail;
	if (cache_begin(s->cache, s->err) == -1)
		goto fail;
	if (reset) {
		if (cache_pending_retarget(s->cache, fs->id, &lost,
		    s->err) == -1)
			goto fail;
		if (lost > 0 && s->opts->notice != NULL) {
			char line[512];

			snprintf(line, sizeof line, "%llu pending action(s) in "
			    "%s dropped: the folder changed on the server "
			    "(UIDVALIDITY) and their messages cannot be found "
			    "by Message-ID", (unsigned long long)lost, fs->name);
			s->opts->notice(s->opts->notice_arg, line);
		}
	}

	s->cf.uidvalidity = mb.uidvalidity;
	s->cf.uidnext = mb.uidnext != 0 ? mb.uidnext : s->synced_uid + 1;
	s->cf.highestmodseq = mb.highestmodseq;
	s->cf.synced_uid = s->synced_uid;
	s->cf.messages = mb.exists;
	s->cf.complete = true;
	s->cf.last_sync = (int64_t)time(NULL);
	if (save_markers(s, &s->cf) == -1 || cache_commit(s->cache, s->err) == -1)
		return -1;
	s->stats->folders_synced++;
	/* Complete: the last word is "all of it" (a reader may skip the rest). */
	s->done = s->total;
	progress(s);
	return s->opts->bodies ? sync_bodies(s) : 0;
fail:
	/* Keep what the finished batches committed; drop the open one. */
	cache_rollback(s->cache);
	clear_updates(s);
	return -1;
}

/* ---- Bodies -------------------------------------------------------------- */

static int
sink_begin(void *arg, const struct imap_resp *partial,
    const struct imap_arg *key, uint64_t size)
{
	struct imap_sync	*s = arg;

	if (s->tmp == NULL && (s->tmp = tmpfile()) == NULL)
		return -1;
	rewind(s->tmp);
	s->tmp_size = 0;
	return 0;
}

static int
sink_data(void *arg, const char *data, size_t len)
{
	struct imap_sync	*s = arg;

	if (fwrite(data, 1, len, s->tmp) != len)
		return -1;
	s->tmp_size += len;
	return 0;
}

static int
sink_end(void *arg)
{
	struct imap_sync	*s = arg;

	return fflush(s->tmp) == 0 ? 0 : -1;
}

static const struct imap_literal_sink body_sink = {
	sink_begin, sink_data, sink_end,
};

/* Store the body (and structure) of one FETCH response. */
static int
store_body(struct imap_sync *s, int64_t folder_id, const struct imap_msg *m)
{
	if (m->uid == 0 || m->body_head)	/* a head is not the body */
		return 0;
	if (m->body_streamed) {
		if (cache_body_put_file(s->cache, folder_id, m->uid, s->tmp,
		    s->tmp_size, s->err) == -1)
			return -1;
	} else if (m->body != NULL) {
		if (cache_body_put(s->cache, folder_id, m->uid, m->body,
		    m->body_len, s->err) == -1)
			return -1;
	} else
		return 0;
	if (m->bodystructure != NULL && cache_msg_set_bodystructure(s->cache,
	    folder_id, m->uid, m->bodystructure, s->err) == -1)
		return -1;
	s->stats->bodies++;
	return 0;
}

/* Each body in its own short transaction, between reads. */
static int
body_cb(void *arg, const struct imap_msg *m)
{
	struct imap_sync	*s = arg;

	if (cache_begin(s->cache, s->err) == -1)
		return -1;
	if (store_body(s, s->fs->id, m) == -1 ||
	    cache_commit(s->cache, s->err) == -1) {
		cache_rollback(s->cache);
		return -1;
	}
	s->done++;
	return 0;
}

static int
nobody_cb(void *arg, uint32_t uid)
{
	struct imap_sync	*s = arg;

	if (s->nuids == s->uidsize) {
		s->uidsize = s->uidsize ? s->uidsize * 2 : 256;
		s->uids = xreallocarray(s->uids, s->uidsize, sizeof *s->uids);
	}
	s->uids[s->nuids++] = uid;
	return 0;
}

static int
sync_bodies(struct imap_sync *s)
{
	struct buf	set = BUF_INIT(0);
	size_t		i, n;
	int		rv = -1;

	s->nuids = 0;
	if (cache_uid_foreach_nobody(s->cache, s->fs->id, nobody_cb, s,
	    s->err) == -1)
		return -1;
	if (s->nuids == 0)
		return 0;
	/* The folder is selected unless it was skipped as unchanged. */
	if (s->selected != s->fs) {
		struct imap_mailbox mb;

		s->selected = NULL;
		if (imap_select(s->c, s->fs->remote, NULL, &mb, s->err) == -1)
			return -1;
		s->selected = s->fs;
	}
	s->done = 0;
	s->total = s->nuids;
	imap_set_literal_sink(s->c, &body_sink, s, BODY_STREAM_MIN);
	for (i = 0; i < s->nuids; i += n) {
		n = s->nuids - i < BODY_BATCH ? s->nuids - i : BODY_BATCH;
		engine_uidset(&set, s->uids + i, n);
		/* Nothing reads BODYSTRUCTURE yet: fetch only the bytes. */
		if (imap_uid_fetch(s->c, set.data, "UID BODY.PEEK[]",
		    NULL, body_cb, s, s->err) == -1)
			goto out;
		progress(s);
		if (i + n < s->nuids) {
			if (chunk_between(s, NULL) == -1)
				goto out;
			imap_set_literal_sink(s->c, &body_sink, s,
			    BODY_STREAM_MIN);
		}
	}
	rv = 0;
out:
	imap_set_literal_sink(s->c, NULL, NULL, 0);
	buf_free(&set);
	return rv;
}

/* ---- Entry points ------------------------------------------------------ */

static uint64_t
change_count(const struct sync_stats *st)
{
	return st->new_messages + st->flag_updates + st->expunged + st->bodies;
}

/*
 * After each folder: say that it changed (if it did), and let the session
 * run what waits in its queue (a body for the pager, a local action) or stop
 * us. What the hook ran may have selected another folder.
 */
static int
between(struct imap_sync *s, struct folder_state *fs, uint64_t before)
{
	int	r;

	if (change_count(s->stats) != before && s->opts->changed != NULL)
		s->opts->changed(s->opts->hook_arg, fs->name);
	if (s->opts->between == NULL)
		return 0;
	if ((r = s->opts->between(s->opts->hook_arg, s->err)) == -1)
		return -1;
	if (r == 1)
		s->selected = NULL;
	return 0;
}

static struct folder_state *
find_folder(struct imap_sync *s, const char *name)
{
	size_t	i;

	for (i = 0; i < s->nfolders; i++)
		if (strcmp(s->folders[i].name, name) == 0 ||
		    strcmp(s->folders[i].remote, name) == 0)
			return &s->folders[i];
	/* INBOX is case-insensitive (RFC 3501 5.1). */
	if (strcasecmp_ascii(name, "INBOX") == 0)
		for (i = 0; i < s->nfolders; i++)
			if (strcmp(s->folders[i].remote, "INBOX") == 0)
				return &s->folders[i];
	return NULL;
}

static void
imap_sync_free(struct imap_sync *s)
{
	size_t	i;

	for (i = 0; i < s->nfolders; i++) {
		free(s->folders[i].name);
		free(s->folders[i].remote);
		free(s->folders[i].special_use);
		free(s->folders[i].attributes);
	}
	clear_updates(s);
	free(s->upd);
	free(s->gone);
	free(s->folders);
	for (i = 0; i < s->nstatus; i++)
		free(s->status_names[i]);
	free(s->status_names);
	free(s->status);
	buf_free(&s->kw);
	index_fields_free(&s->fields);
	free(s->uids);
	if (s->tmp != NULL)
		fclose(s->tmp);
}

/* A sync's state for imap_sync and the driver's list and sync_folder. */
static void
imap_sync_init(struct imap_sync *s, struct imap_client *c,
    const struct account *acct, struct cache *cache,
    const struct sync_opts *opts, struct sync_stats *stats, struct error *err)
{
	memset(s, 0, sizeof *s);
	s->acct = acct;
	s->cache = cache;
	s->opts = opts;
	s->stats = stats;
	s->err = err;
	s->c = c;
	imap_counters(c, &s->in0, &s->out0);
}

/* The bytes the sync moved into its stats, and its state freed. */
static void
imap_sync_end(struct imap_sync *s)
{
	size_t	in, out;

	imap_counters(s->c, &in, &out);
	s->stats->bytes_in += in - s->in0;
	s->stats->bytes_out += out - s->out0;
	imap_sync_free(s);
}

int
imap_sync(struct imap_client *c, const struct account *acct,
    struct cache *cache, const struct sync_opts *opts, engine_replay_fn replay,
    void *replay_arg, struct sync_stats *stats, struct error *err)
{
	struct imap_sync	 s;
	struct folder_state	*fs;
	uint64_t		 changes;
	int			 i, rv = -1;
	size_t			 j;

	imap_sync_init(&s, c, acct, cache, opts, stats, err);
	changes = change_count(stats);
	/* What the user did locally goes first, so the sync sees it done. */
	if (replay != NULL && replay(replay_arg, opts, &stats->replay,
	    err) == -1)
		goto out;
	if (sync_known_status(&s) == -1 || sync_folder_list(&s) == -1)
		goto out;
	if (opts->nfolders > 0) {
		/* Check every name first: fail before doing half the work. */
		for (i = 0; i < opts->nfolders; i++) {
			if ((fs = find_folder(&s, opts->folders[i])) == NULL) {
				error_set(err, ERR_USAGE, "no folder named \"%s\" "
				    "on %s", opts->folders[i], acct->host);
				goto out;
			}
			if (fs->noselect) {
				error_set(err, ERR_USAGE, "folder \"%s\" cannot "
				    "hold messages", opts->folders[i]);
				goto out;
			}
		}
		for (i = 0; i < opts->nfolders; i++) {
			fs = find_folder(&s, opts->folders[i]);
			if (sync_folder(&s, fs) == -1 ||
			    between(&s, fs, changes) == -1)
				goto out;
			changes = change_count(stats);
		}
	} else {
		for (j = 0; j < s.nfolders; j++) {
			if (s.folders[j].noselect)
				continue;
			if (sync_folder(&s, &s.folders[j]) == -1 ||
			    between(&s, &s.folders[j], changes) == -1)
				goto out;
			changes = change_count(stats);
		}
	}
	/* Actions held back by a UIDVALIDITY change were retargeted above. */
	if (replay != NULL && stats->replay.waiting > 0) {
		stats->replay.waiting = 0;
		if (replay(replay_arg, opts, &stats->replay, err) == -1)
			goto out;
	}
	rv = 0;
out:
	imap_sync_end(&s);
	return rv;
}


int
imap_list_folders(struct imap_client *c, const struct account *acct,
    struct cache *cache, char ***namesp, size_t *np, struct sync_stats *stats,
    struct error *err)
{
	static const struct sync_opts	 none;
	struct imap_sync		 s;
	size_t				 i;
	int				 rv;

	*namesp = NULL;
	*np = 0;
	imap_sync_init(&s, c, acct, cache, &none, stats, err);
	if ((rv = sync_folder_list(&s)) == 0) {
		*namesp = xcalloc(s.nfolders + 1, sizeof **namesp);
		for (i = 0; i < s.nfolders; i++)
			if (!s.folders[i].noselect)
				(*namesp)[(*np)++] = xstrdup(s.folders[i].name);
	}
	imap_sync_end(&s);
	return rv;
}

/*
 * Without the STATUS imap_sync asks before LIST, a folder is always
 * selected: nothing here knows it is unchanged.
 */
int
imap_sync_one(struct imap_client *c, const struct account *acct,
    struct cache *cache, const char *folder, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	struct imap_sync	 s;
	struct folder_state	*fs;
	struct cache_folder	 cf;
	uint64_t		 changes = change_count(stats);
	int			 found, rv;

	if ((found = cache_folder_get(cache, folder, &cf, err)) != 1)
		return found == 0 ? error_set(err, ERR_USAGE, "no folder "
		    "named \"%s\" on %s", folder, acct->host) : -1;
	if (cf.remote == NULL || cf.noselect)
		return error_set(err, ERR_USAGE, "folder \"%s\" cannot hold "
		    "messages on %s", folder, acct->host);
	imap_sync_init(&s, c, acct, cache, opts, stats, err);
	s.folders = fs = xcalloc(1, sizeof *fs);
	s.nfolders = 1;
	fs->name = xstrdup(cf.name);
	fs->remote = xstrdup(cf.remote);
	fs->id = cf.id;
	rv = sync_folder(&s, fs);
	if (rv == 0 && change_count(stats) != changes && opts->changed != NULL)
		opts->changed(opts->hook_arg, fs->name);
	imap_sync_end(&s);
	return rv;
}

struct one_body {
	struct imap_sync	*s;
	int64_t			 folder_id;
	uint32_t		 uid;
	bool			 got;
};

static int
one_body_cb(void *arg, const struct imap_msg *m)
{
	struct one_body	*ob = arg;

	if (m->uid != ob->uid || (!m->body_streamed && m->body == NULL))
		return 0;
	if (cache_begin(ob->s->cache, ob->s->err) == -1)
		return -1;
	if (store_body(ob->s, ob->folder_id, m) == -1 ||
	    cache_commit(ob->s->cache, ob->s->err) == -1) {
		cache_rollback(ob->s->cache);
		return -1;
	}
	ob->got = true;
	return 0;
}

static int
one_head_cb(void *arg, const struct imap_msg *m)
{
	struct one_body	*oh = arg;

	if (m->uid != oh->uid || !m->body_head || m->body == NULL)
		return 0;
	if (cache_head_put(oh->s->cache, oh->folder_id, oh->uid, m->body,
	    m->body_len, oh->s->err) == -1)
		return -1;
	oh->got = true;
	return 0;
}

/*
 * The head of a long body first (BODY.PEEK[]<0.HEAD_FETCH>): the pager
 * shows its first screen from it while the rest comes. A server that does
 * not answer with a head costs nothing but the round trip.
 */
static int
fetch_body_head(struct imap_sync *s, const struct cache_folder *cf, uint32_t uid,
    const struct body_head_hook *hook)
{
	struct one_body	 oh;
	struct cache_msg m;
	char		 set[16], items[64];
	int		 found;

	if ((found = cache_msg_get(s->cache, cf->id, uid, &m, s->err)) != 1)
		return found;
	if (m.size <= HEAD_FETCH_MIN)
		return 0;
	memset(&oh, 0, sizeof oh);
	oh.s = s;
	oh.folder_id = cf->id;
	oh.uid = uid;
	snprintf(set, sizeof set, "%u", uid);
	snprintf(items, sizeof items, "UID BODY.PEEK[]<0.%d>", HEAD_FETCH);
	if (imap_uid_fetch(s->c, set, items, NULL, one_head_cb, &oh,
	    s->err) == -1)
		return -1;
	if (oh.got)
		hook->done(hook->arg);
	return 0;
}

int
imap_fetch_one_body(struct imap_client *c, const struct account *acct,
    struct cache *cache, const char *folder, uint32_t uid,
    const struct body_head_hook *head, struct error *err)
{
	struct imap_sync	 s;
	struct imap_select_opts	 so;
	struct imap_mailbox	 mb;
	struct cache_folder	 cf;
	struct sync_stats	 stats;
	struct one_body		 ob;
	char			 set[16], *remote = NULL;
	int			 rv = -1, found;

	memset(&s, 0, sizeof s);
	memset(&stats, 0, sizeof stats);
	s.acct = acct;
	s.cache = cache;
	s.stats = &stats;
	s.err = err;
	if ((found = cache_folder_get(cache, folder, &cf, err)) != 1)
		return found == 0 ? error_set(err, ERR_USAGE, "no folder %s in "
		    "the cache", folder) : -1;
	if (cf.remote == NULL)
		return error_set(err, ERR_LOCAL, "folder %s is local only",
		    folder);
	remote = xstrdup(cf.remote);
	s.c = c;
	memset(&so, 0, sizeof so);
	so.readonly = true;	/* reading must not change the mailbox */
	if (imap_select(s.c, remote, &so, &mb, err) == -1)
		goto out;
	if (mb.uidvalidity != cf.uidvalidity) {
		error_set(err, ERR_PROTO, "folder %s changed on the server "
		    "(UIDVALIDITY); run petrel sync", folder);
		goto out;
	}
	if (head != NULL && fetch_body_head(&s, &cf, uid, head) == -1)
		goto out;
	memset(&ob, 0, sizeof ob);
	ob.s = &s;
	ob.folder_id = cf.id;
	ob.uid = uid;
	imap_set_literal_sink(s.c, &body_sink, &s, BODY_STREAM_MIN);
	snprintf(set, sizeof set, "%u", uid);
	if (imap_uid_fetch(s.c, set, "UID BODY.PEEK[]", NULL, one_body_cb,
	    &ob, err) == -1)
		goto out;
	if (!ob.got) {
		error_set(err, ERR_PROTO, "message %u is no longer in %s on the "
		    "server", uid, folder);
		goto out;
	}
	rv = 0;
out:
	imap_set_literal_sink(c, NULL, NULL, 0);
	imap_sync_free(&s);
	free(remote);
	return rv;
}
