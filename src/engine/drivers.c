/*
 * The protocol drivers of engine sessions (struct engine_driver): IMAP keeps
 * one connection for the session's life; POP3 logs in for each step.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "channel.h"
#include "conf.h"
#include "engine-private.h"
#include "imap.h"
#include "log.h"
#include "xmalloc.h"

#define POP3_FOLDER	"INBOX"

/* Changes buffered before a flush; a flood is written in batches. */
#define CHANGES_BATCH	1000

/* ---- IMAP: what the server says between the lines ---------------------- */

struct flag_change {
	uint32_t	 uid;
	uint32_t	 flags;
	char		*keywords;
	uint64_t	 modseq;
};

/*
 * Untagged EXISTS, EXPUNGE, VANISHED and FETCH FLAGS that arrived during
 * any command (imap_set_changes), for the folder selected then. They are
 * written in one short transaction after the command or every
 * CHANGES_BATCH changes, never while a response is awaited.
 */
struct session_changes {
	struct session		*s;
	char			*remote;	/* the folder they belong to */
	uint32_t		(*gone)[2];
	size_t			 ngone, gonesize;
	struct flag_change	*flags;
	size_t			 nflags, flagsize;
	uint32_t		 exists;	/* last EXISTS, 0 if none */
	bool			 unknown_expunge; /* EXPUNGE without a known UID */

	/* STATUS of other folders (NOTIFY), the latest per folder. */
	struct status_rec	*status;
	size_t			 nstatus, statussize;
};

/* STATUS records kept at most; beyond, the oldest make way. */
#define STATUS_MAX	4096

struct status_rec {
	char		*remote;
	uint32_t	 uidvalidity, uidnext, messages;
	uint64_t	 highestmodseq;
};

struct find_remote {
	const char	*remote;
	int64_t		 id;
	char		*name;
};

static int
find_remote_cb(void *arg, const struct cache_folder *f)
{
	struct find_remote	*fr = arg;

	if (f->remote != NULL && strcmp(f->remote, fr->remote) == 0) {
		fr->id = f->id;
		fr->name = xstrdup(f->name);
		return 1;
	}
	return 0;
}

static void
changes_clear(struct session_changes *ch)
{
	size_t	i;

	for (i = 0; i < ch->nflags; i++)
		free(ch->flags[i].keywords);
	ch->nflags = ch->ngone = 0;
	ch->exists = 0;
	ch->unknown_expunge = false;
}

/*
 * Write what was buffered. *needs_syncp (may be NULL) is set when the
 * folder got new messages or lost some the map could not name: then a
 * sync of the folder (*namep, UTF-8) finds out which.
 */
static int	changes_flush_news(struct session_changes *, char **, bool *,
		    bool, struct error *);

static int
changes_flush(struct session_changes *ch, char **namep, bool *needs_syncp,
    struct error *err)
{
	return changes_flush_news(ch, namep, needs_syncp, false, err);
}

/*
 * After a command: write the flags and expunges, but keep the news (an
 * EXISTS above the cache, an EXPUNGE the map could not name) for the
 * changes_flush before IDLE: the server says EXISTS once, and mail that
 * came during the command's last round trip would be missed.
 */
static int
changes_write(struct session_changes *ch, struct error *err)
{
	return changes_flush_news(ch, NULL, NULL, true, err);
}

static int
changes_flush_news(struct session_changes *ch, char **namep,
    bool *needs_syncp, bool keep_news, struct error *err)
{
	struct session		*s = ch->s;
	struct find_remote	 fr = { ch->remote, 0, NULL };
	struct error		 e;
	uint64_t		 n, changed = 0;
	size_t			 i;
	int			 rv = -1;

	if (namep != NULL)
		*namep = NULL;
	if (needs_syncp != NULL)
		*needs_syncp = false;
	if (ch->remote == NULL)
		return 0;
	error_clear(&e);
	if (cache_folder_foreach(s->cache, false, find_remote_cb, &fr, &e) ==
	    -1 && fr.name == NULL) {
		if (err != NULL)
			*err = e;
		changes_clear(ch);
		return -1;
	}
	if (fr.name == NULL) {
		/* Not cached yet: the next sync takes it whole. */
		changes_clear(ch);
		return 0;
	}
	if (ch->ngone + ch->nflags > 0) {
		if (cache_begin(s->cache, err) == -1)
			goto out;
		for (i = 0; i < ch->ngone; i++) {
			if (cache_msg_delete_range(s->cache, fr.id,
			    ch->gone[i][0], ch->gone[i][1], &n, err) == -1)
				goto fail;
			changed += n;
		}
		for (i = 0; i < ch->nflags; i++) {
			if (cache_msg_set_flags(s->cache, fr.id,
			    ch->flags[i].uid, ch->flags[i].flags,
			    ch->flags[i].keywords, ch->flags[i].modseq,
			    err) == -1)
				goto fail;
			changed++;
		}
		if (cache_commit(s->cache, err) == -1)
			goto fail;
	}
	if (needs_syncp != NULL)
		*needs_syncp = ch->unknown_expunge || (ch->exists > 0 &&
		    (int64_t)ch->exists > cache_msg_count(s->cache, fr.id));
	if (changed > 0)
		session_changed(s, fr.name);
	if (namep != NULL) {
		*namep = fr.name;
		fr.name = NULL;
	}
	rv = 0;
	goto out;
fail:
	cache_rollback(s->cache);
out:
	if (rv == 0 && keep_news) {
		uint32_t	exists = ch->exists;
		bool		unknown = ch->unknown_expunge;

		changes_clear(ch);
		ch->exists = exists;
		ch->unknown_expunge = unknown;
	} else
		changes_clear(ch);
	free(fr.name);
	return rv;
}

/* A change for the folder selected now: flush another folder's first. */
static struct session_changes *
changes_for(struct session *s)
{
	struct session_changes	*ch = s->chg;
	const char		*sel = imap_selected(s->imap);
	struct error		 e;

	if (sel == NULL)
		return NULL;
	if (ch->remote == NULL || strcmp(ch->remote, sel) != 0) {
		if (changes_flush(ch, NULL, NULL, &e) == -1)
			log_warnx("%s: %s", s->acct->name, e.msg);
		free(ch->remote);
		ch->remote = xstrdup(sel);
	}
	return ch;
}

static void
changes_maybe_flush(struct session_changes *ch)
{
	struct error	e;

	if (ch->ngone + ch->nflags >= CHANGES_BATCH &&
	    changes_flush(ch, NULL, NULL, &e) == -1)
		log_warnx("%s: %s", ch->s->acct->name, e.msg);
}

static void
on_exists(void *arg, uint32_t exists)
{
	struct session_changes	*ch;

	if ((ch = changes_for(arg)) != NULL)
		ch->exists = exists;
}

static void
on_gone(struct session_changes *ch, uint32_t first, uint32_t last)
{
	if (ch->ngone == ch->gonesize) {
		ch->gonesize = ch->gonesize ? ch->gonesize * 2 : 64;
		ch->gone = xreallocarray(ch->gone, ch->gonesize,
		    sizeof *ch->gone);
	}
	ch->gone[ch->ngone][0] = first;
	ch->gone[ch->ngone][1] = last;
	ch->ngone++;
	changes_maybe_flush(ch);
}

static void
on_expunged(void *arg, uint32_t uid)
{
	struct session_changes	*ch;

	if ((ch = changes_for(arg)) == NULL)
		return;
	if (uid == 0)
		ch->unknown_expunge = true;
	else
		on_gone(ch, uid, uid);
}

static void
on_vanished(void *arg, uint32_t first, uint32_t last)
{
	struct session_changes	*ch;

	if ((ch = changes_for(arg)) != NULL)
		on_gone(ch, first, last);
}

static void
on_fetch(void *arg, const struct imap_msg *m)
{
	struct session_changes	*ch;
	struct flag_change	*f;

	if (m->uid == 0 || (ch = changes_for(arg)) == NULL)
		return;
	if (ch->nflags == ch->flagsize) {
		ch->flagsize = ch->flagsize ? ch->flagsize * 2 : 64;
		ch->flags = xreallocarray(ch->flags, ch->flagsize,
		    sizeof *ch->flags);
	}
	f = &ch->flags[ch->nflags++];
	f->uid = m->uid;
	f->flags = m->flags;
	f->keywords = m->keywords != NULL ? xstrdup(m->keywords) : NULL;
	f->modseq = m->modseq;
	changes_maybe_flush(ch);
}

/*
 * Only noted here: a STATUS may come while the store thread owns the
 * cache. status_changed() compares them with the cache after the command.
 */
static void
on_status(void *arg, const struct imap_folder_info *f)
{
	struct session		*s = arg;
	struct session_changes	*ch = s->chg;
	struct status_rec	*r = NULL;
	size_t			 i;

	for (i = 0; i < ch->nstatus; i++)
		if (strcmp(ch->status[i].remote, f->name) == 0) {
			r = &ch->status[i];
			break;
		}
	if (r == NULL) {
		if (ch->nstatus == STATUS_MAX) {
			free(ch->status[0].remote);
			memmove(ch->status, ch->status + 1,
			    --ch->nstatus * sizeof *ch->status);
		}
		if (ch->nstatus == ch->statussize) {
			ch->statussize = ch->statussize ? ch->statussize * 2 :
			    16;
			ch->status = xreallocarray(ch->status, ch->statussize,
			    sizeof *ch->status);
		}
		r = &ch->status[ch->nstatus++];
		r->remote = xstrdup(f->name);
	}
	r->uidvalidity = f->uidvalidity;
	r->uidnext = f->uidnext;
	r->messages = f->messages;
	r->highestmodseq = f->highestmodseq;
}

struct status_cmp {
	struct session_changes	*ch;
	char			**names;	/* UTF-8, to sync */
	size_t			  n;
};

/* A field the STATUS gave (non-zero) that differs from the cache's. */
#define STATUS_DIFFERS(a, b)	((a) != 0 && (a) != (b))

/*
 * Does a folder's STATUS say it changed since its last sync cached f?
 * Fields the STATUS left out (0) count as unchanged; HIGHESTMODSEQ only
 * when the cache has one to compare with.
 */
static bool
status_differs(const struct cache_folder *f, uint32_t uidvalidity,
    uint32_t uidnext, uint32_t messages, uint64_t highestmodseq)
{
	return STATUS_DIFFERS(uidvalidity, f->uidvalidity) ||
	    STATUS_DIFFERS(uidnext, f->uidnext) || messages != f->messages ||
	    (f->highestmodseq != 0 &&
	    STATUS_DIFFERS(highestmodseq, f->highestmodseq));
}

static int
status_cmp_cb(void *arg, const struct cache_folder *f)
{
	struct status_cmp	*sc = arg;
	struct session		*s = sc->ch->s;
	struct status_rec	*r;
	size_t			 i;
	int			 j;

	if (f->remote == NULL)
		return 0;
	for (j = 0; j < s->nonly && strcmp(s->only[j], f->name) != 0; j++)
		;
	if (s->nonly > 0 && j == s->nonly)
		return 0;	/* not watched */
	for (i = 0; i < sc->ch->nstatus; i++) {
		r = &sc->ch->status[i];
		if (strcmp(r->remote, f->remote) != 0)
			continue;
		if (status_differs(f, r->uidvalidity, r->uidnext, r->messages,
		    r->highestmodseq)) {
			sc->names = xreallocarray(sc->names, sc->n + 1,
			    sizeof *sc->names);
			sc->names[sc->n++] = xstrdup(f->name);
		}
		break;
	}
	return 0;
}

/*
 * The folders whose STATUS (NOTIFY's, or a STATUS command's) differs from
 * what their last sync cached: *namesp (UTF-8, caller frees) gets them.
 * The records are dropped: a folder is synced once per change.
 */
static size_t
status_changed(struct session *s, char ***namesp)
{
	struct session_changes	*ch = s->chg;
	struct status_cmp	 sc = { ch, NULL, 0 };
	struct error		 e;
	size_t			 i;

	*namesp = NULL;
	if (ch == NULL || ch->nstatus == 0)
		return 0;
	error_clear(&e);
	if (cache_folder_foreach(s->cache, false, status_cmp_cb, &sc,
	    &e) == -1)
		log_warnx("%s: %s", s->acct->name, e.msg);
	for (i = 0; i < ch->nstatus; i++)
		free(ch->status[i].remote);
	ch->nstatus = 0;
	*namesp = sc.names;
	return sc.n;
}

static const struct imap_changes session_imap_changes = {
	.exists = on_exists,
	.expunged = on_expunged,
	.vanished = on_vanished,
	.fetch = on_fetch,
	.status = on_status,
};

static void
changed_cb(void *arg, const char *folder)
{
	session_changed(arg, folder);
}

/* After each command: write what the server said meanwhile. */
static int
imapdrv_after(struct session *s, int rv, struct error *err)
{
	struct error	e;

	error_clear(&e);
	if (s->chg != NULL && changes_write(s->chg, &e) == -1 && rv == 0) {
		if (err != NULL)
			*err = e;
		return -1;
	}
	return rv;
}

/* The driver's flush_changes: what the replay's commands brought. */
static int
imapdrv_flush_changes(struct session *s, struct error *err)
{
	if (s->chg == NULL)
		return 0;
	return changes_write(s->chg, err);
}

/* ---- IMAP -------------------------------------------------------------- */

static int
imapdrv_connect(struct session *s, struct error *err)
{
	struct proto_params	 pp;
	const char		*pw;

	if (s->imap != NULL)
		imap_logout(&s->imap);
	if (session_get_password(s, &pw, err) == -1)
		return -1;
	if ((s->imap = imap_connect(session_params(s, &pp), pw, err)) == NULL &&
	    session_token_refused(s, err)) {
		/* A token may have expired since it was printed: once more. */
		if (session_get_password(s, &pw, err) == -1)
			return -1;
		s->imap = imap_connect(session_params(s, &pp), pw, err);
	}
	if (s->imap == NULL)
		return -1;
	if (s->chg == NULL) {
		s->chg = xcalloc(1, sizeof *s->chg);
		s->chg->s = s;
	}
	imap_set_changes(s->imap, &session_imap_changes, s);
	return 0;
}

static bool
imapdrv_online(struct session *s)
{
	return s->imap != NULL && imap_broken(s->imap) == NULL;
}

/* The account's quota (GETQUOTAROOT INBOX) into the cache's meta table. */
static int
imapdrv_quota(struct session *s, struct error *err)
{
	struct imap_quota	 q;
	char			 v[128], *old;
	int			 r, n = 0;

	if ((r = imap_quota(s->imap, "INBOX", &q, err)) != 0)
		return r == 1 ? 0 : -1;
	v[0] = '\0';
	if (q.storage)
		n = snprintf(v, sizeof v, "storage=%llu/%llu",
		    (unsigned long long)q.storage_used,
		    (unsigned long long)q.storage_limit);
	if (q.messages)
		snprintf(v + n, sizeof v - (size_t)n, "%smessages=%llu/%llu",
		    n > 0 ? " " : "", (unsigned long long)q.messages_used,
		    (unsigned long long)q.messages_limit);
	old = cache_meta_get(s->cache, ENGINE_META_QUOTA);
	if (old == NULL || strcmp(old, v) != 0)
		r = cache_meta_set(s->cache, ENGINE_META_QUOTA, v, err);
	free(old);
	return r;
}

struct rights_list {
	struct session	 *s;
	char		**remote;
	int64_t		 *ids;
	bool		 *got;
	size_t		  n;
};

static int
rights_folder_cb(void *arg, const struct cache_folder *f)
{
	struct rights_list	*rl = arg;

	if (f->remote == NULL || f->noselect)
		return 0;
	rl->remote = xreallocarray(rl->remote, rl->n + 1, sizeof *rl->remote);
	rl->ids = xreallocarray(rl->ids, rl->n + 1, sizeof *rl->ids);
	rl->remote[rl->n] = xstrdup(f->remote);
	rl->ids[rl->n] = f->id;
	rl->n++;
	return 0;
}

static int
rights_cb(void *arg, const char *name, const char *rights)
{
	struct rights_list	*rl = arg;
	struct error		 e;
	size_t			 i;

	for (i = 0; i < rl->n; i++) {
		if (strcmp(rl->remote[i], name) != 0 &&
		    !(strcasecmp_ascii(name, "INBOX") == 0 &&
		    strcasecmp_ascii(rl->remote[i], "INBOX") == 0))
			continue;
		rl->got[i] = true;
		error_clear(&e);
		if (cache_folder_set_rights(rl->s->cache, rl->ids[i], rights,
		    &e) == -1)
			log_warnx("%s: %s", rl->s->acct->name, e.msg);
		break;
	}
	return 0;
}

/*
 * What the user may do in each folder (MYRIGHTS, RFC 4314), so that the
 * actions the server would refuse are refused at once, locally, with the
 * reason (cache_folder_set_rights). Without ACL nothing is known.
 */
static int
imapdrv_rights(struct session *s, struct error *err)
{
	struct rights_list	 rl;
	struct error		 e;
	size_t			 i;
	int			 rv;

	if (!imap_has_cap(s->imap, "ACL"))
		return 0;
	memset(&rl, 0, sizeof rl);
	rl.s = s;
	error_clear(&e);
	if (cache_folder_foreach(s->cache, false, rights_folder_cb, &rl,
	    &e) == -1)
		log_warnx("%s: %s", s->acct->name, e.msg);
	rl.got = xcalloc(rl.n + 1, sizeof *rl.got);
	rv = imap_myrights(s->imap, (const char *const *)rl.remote, rl.n,
	    rights_cb, &rl, err);
	for (i = 0; i < rl.n; i++) {
		/* No answer (a NO): not known, so not refused here. */
		if (rv == 0 && !rl.got[i])
			(void)cache_folder_set_rights(s->cache, rl.ids[i], NULL,
			    NULL);
		free(rl.remote[i]);
	}
	free(rl.remote);
	free(rl.ids);
	free(rl.got);
	return rv == -1 ? -1 : 0;
}

static int
imapdrv_sync(struct session *s, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	int	rv;

	rv = imapdrv_after(s, imap_sync(s->imap, s->acct, s->cache, opts,
	    session_replay_fn, s, stats, err), err);
	/* Every folder synced: the quota too (a full mailbox refuses mail). */
	if (rv == 0 && opts->nfolders == 0 && (imapdrv_quota(s, err) == -1 ||
	    imapdrv_rights(s, err) == -1))
		rv = imapdrv_after(s, -1, err);
	return rv;
}

static int
imapdrv_list(struct session *s, char ***namesp, size_t *np,
    struct sync_stats *stats, struct error *err)
{
	return imapdrv_after(s, imap_list_folders(s->imap, s->acct, s->cache,
	    namesp, np, stats, err), err);
}

static int
imapdrv_sync_folder(struct session *s, const char *folder,
    const struct sync_opts *opts, struct sync_stats *stats, struct error *err)
{
	return imapdrv_after(s, imap_sync_one(s->imap, s->acct, s->cache,
	    folder, opts, stats, err), err);
}

struct head_told {
	struct session	*s;
	uint64_t	 id;
};

static void
head_told_cb(void *arg)
{
	struct head_told	*ht = arg;

	session_post_body_head(ht->s, ht->id);
}

static int
imapdrv_fetch_body(struct session *s, const char *folder, uint32_t uid,
    uint64_t head_id, struct error *err)
{
	struct head_told	 ht = { s, head_id };
	struct body_head_hook	 hook = { head_told_cb, &ht };

	return imapdrv_after(s, imap_fetch_one_body(s->imap, s->acct,
	    s->cache, folder, uid, head_id != 0 ? &hook : NULL, err), err);
}

static int
imapdrv_append(struct session *s, const char *folder, const char *flags,
    const char *msg, size_t len, struct error *err)
{
	return imapdrv_after(s, imap_append(s->imap, folder, flags, 0, msg,
	    len, NULL, NULL, err), err);
}

/*
 * NOOP in the folder last used (INBOX when none): what it brings goes into
 * the cache; new messages, or an EXPUNGE the map could not name, are
 * fetched by a sync of that folder.
 */
static int
imapdrv_check(struct session *s, struct error *err)
{
	struct imap_mailbox	 mb;
	struct sync_opts	 opts;
	struct sync_stats	 stats;
	char			*name = NULL;
	bool			 needs_sync;
	int			 rv;

	if (imap_selected(s->imap) == NULL &&
	    imap_select(s->imap, "INBOX", NULL, &mb, err) == -1)
		return -1;
	if (!imap_seqmap_loaded(s->imap) &&
	    imap_seqmap_load(s->imap, err) == -1)
		return -1;
	if (imap_noop(s->imap, err) == -1)
		return -1;
	if (changes_flush(s->chg, &name, &needs_sync, err) == -1)
		return -1;
	rv = 0;
	if (needs_sync && name != NULL) {
		memset(&opts, 0, sizeof opts);
		memset(&stats, 0, sizeof stats);
		opts.folders = &name;
		opts.nfolders = 1;
		opts.changed = changed_cb;
		opts.hook_arg = s;
		rv = imapdrv_after(s, imap_sync(s->imap, s->acct, s->cache,
		    &opts, session_replay_fn, s, &stats, err), err);
		/* The sync selected the folder afresh: learn its map. */
		if (rv == 0 && imap_selected(s->imap) != NULL)
			rv = imap_seqmap_load(s->imap, err);
	}
	free(name);
	return rv;
}

/* IDLE is re-issued before servers end it (RFC 2177: 29 minutes at most). */
#define IDLE_RENEW_MS	(25 * 60 * 1000)

/* Sync these folders (UTF-8) now, in one command. */
static int
sync_folders(struct session *s, char **names, size_t n, struct error *err)
{
	struct sync_opts	opts;
	struct sync_stats	stats;
	char			**drop;

	memset(&opts, 0, sizeof opts);
	memset(&stats, 0, sizeof stats);
	opts.folders = names;
	opts.nfolders = (int)n;
	opts.changed = changed_cb;
	opts.hook_arg = s;
	if (imapdrv_after(s, imap_sync(s->imap, s->acct, s->cache, &opts,
	    session_replay_fn, s, &stats, err), err) == -1)
		return -1;
	/*
	 * What the sync's own STATUS commands said is current now (or the
	 * folder failed, and trying it again at once would loop).
	 */
	n = status_changed(s, &drop);
	free_names(drop, n);
	session_settle(s);
	return 0;
}

struct status_one {
	struct imap_folder_info	info;
	bool			got;
};

static int
status_one_cb(void *arg, const struct imap_folder_info *f)
{
	struct status_one	*so = arg;

	so->info = *f;
	so->info.name = NULL;
	so->got = true;
	return 0;
}

/*
 * The folder to wait in: the one the owner watches (session_watch_folder),
 * else INBOX. When it is not selected, a STATUS (cheap) says whether it
 * changed since its last sync: then it is synced, which selects it with
 * QRESYNC; else it is selected plainly. A big folder's SELECT is the
 * costly step (Dovecot: 0.5 s for 100,000 messages after a change), so it
 * is never done twice. *remotep (caller frees) gets its server name.
 */
static int
select_watched(struct session *s, char **remotep, struct error *err)
{
	struct imap_mailbox	 mb;
	struct cache_folder	 f;
	struct status_one	 so;
	const char		*sel = imap_selected(s->imap);
	const char		*names[1];
	char			*name, *remote;
	int			 found;
	bool			 fallback = false;

	*remotep = NULL;
	name = xstrdup(s->watch_folder != NULL ? s->watch_folder : "INBOX");
	found = cache_folder_get(s->cache, name, &f, err);
	if (found == -1) {
		free(name);
		return -1;
	}
	remote = xstrdup(found == 1 && f.remote != NULL ? f.remote : "INBOX");
	if (found != 1 || f.remote == NULL) {
		free(name);
		name = xstrdup("INBOX");
		found = cache_folder_get(s->cache, name, &f, err);
		if (found == -1)
			goto fail;
	}
	if (sel != NULL && strcmp(sel, remote) == 0)
		goto selected;
	memset(&so, 0, sizeof so);
	names[0] = remote;
	if (found == 1 && f.last_sync != 0 &&
	    imap_status(s->imap, names, 1, status_one_cb, &so, err) == -1)
		goto fail;
	if (so.got && status_differs(&f, so.info.uidvalidity,
	    so.info.uidnext, so.info.messages, so.info.highestmodseq)) {
		if (sync_folders(s, &name, 1, err) == -1)
			goto fail;
		sel = imap_selected(s->imap);
		if (sel != NULL && strcmp(sel, remote) == 0)
			goto selected;
		/* A folder that failed: INBOX instead, this time. */
		free(remote);
		remote = xstrdup("INBOX");
		fallback = true;
	}
	if (imap_select(s->imap, remote, NULL, &mb, err) == -1)
		goto fail;
	/*
	 * Mail that came between STATUS and SELECT is in EXISTS already, so
	 * IDLE would never report it: sync it now.
	 */
	if (!fallback && found == 1 && f.last_sync != 0 &&
	    status_differs(&f, mb.uidvalidity, mb.uidnext, mb.exists,
	    mb.highestmodseq)) {
		if (sync_folders(s, &name, 1, err) == -1)
			goto fail;
	}
selected:
	if (!imap_seqmap_loaded(s->imap) &&
	    imap_seqmap_load(s->imap, err) == -1)
		goto fail;
	free(name);
	*remotep = remote;
	return 0;
fail:
	free(name);
	free(remote);
	return -1;
}

/*
 * After news came in: sync the watched folder when it got new messages
 * (or lost ones the map could not name), and every other folder whose
 * STATUS changed. 1 when something was synced.
 */
static int
sync_news(struct session *s, char *name, bool needs_sync, struct error *err)
{
	char	**names;
	size_t	  n, i;
	int	  rv;

	n = status_changed(s, &names);
	if (needs_sync && name != NULL) {
		for (i = 0; i < n && strcmp(names[i], name) != 0; i++)
			;
		if (i == n) {
			names = xreallocarray(names, n + 1, sizeof *names);
			names[n++] = xstrdup(name);
		}
	}
	if (n == 0) {
		free(names);
		return 0;
	}
	rv = sync_folders(s, names, n, err);
	free_names(names, n);
	return rv == -1 ? -1 : 1;
}

/*
 * Without IDLE: NOOP every poll_interval in the watched folder until
 * wake_fd is readable.
 */
static int
poll_changes(struct session *s, int wake_fd, struct error *err)
{
	struct pollfd	 pfd;
	char		*remote, *name;
	bool		 needs_sync;
	int		 r;

	for (;;) {
		if (select_watched(s, &remote, err) == -1)
			return imapdrv_after(s, -1, err);
		free(remote);
		pfd.fd = wake_fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, s->poll_interval_ms);
		if (r == -1 && errno != EINTR)
			return error_set(err, ERR_LOCAL, "poll: %s",
			    strerror(errno));
		if (r > 0)
			return 0;
		if (imap_noop(s->imap, err) == -1)
			return imapdrv_after(s, -1, err);
		if (changes_flush(s->chg, &name, &needs_sync, err) == -1)
			return -1;
		r = sync_news(s, name, needs_sync, err);
		free(name);
		if (r == -1)
			return -1;
	}
}

/*
 * IDLE in the watched folder until wake_fd is readable. What comes goes
 * into the cache as it comes (the change hooks, flushed after every batch
 * of responses); new messages end the IDLE for a sync of the folder, and
 * so does NOTIFY's STATUS of another folder that changed; then IDLE again.
 */
static int
imapdrv_wait_changes(struct session *s, int wake_fd, struct error *err)
{
	char		*name, *remote;
	bool		 needs_sync;
	int		 r, rv;

	if (!imap_has_cap(s->imap, "IDLE"))
		return s->poll_interval_ms > 0 ?
		    poll_changes(s, wake_fd, err) : 1;
	for (;;) {
		if (select_watched(s, &remote, err) == -1)
			return imapdrv_after(s, -1, err);
		free(remote);
		if (s->notify && imap_notify(s->imap, err) == -1) {
			/* Refused: counts come from the periodic sync. */
			log_warnx("%s: %s", s->acct->name, err->msg);
			s->notify = false;
			if (imap_broken(s->imap) != NULL)
				return imapdrv_after(s, -1, err);
		}
		/*
		 * News that came during the commands before, or while
		 * selecting (an EXISTS during the map's UID SEARCH).
		 */
		if (changes_flush(s->chg, &name, &needs_sync, err) == -1)
			return -1;
		rv = sync_news(s, name, needs_sync, err);
		free(name);
		if (rv == -1)
			return -1;
		if (rv == 1)
			continue;
		if (imap_idle_begin(s->imap, err) == -1)
			return imapdrv_after(s, -1, err);
		needs_sync = false;
		name = NULL;
		while ((r = imap_idle_wait(s->imap, wake_fd, IDLE_RENEW_MS,
		    err)) == 1) {
			free(name);
			name = NULL;
			if (changes_flush(s->chg, &name, &needs_sync,
			    err) == -1) {
				r = -1;
				break;
			}
			if (needs_sync || s->chg->nstatus > 0)
				break;
		}
		if (r == -1) {
			free(name);
			return imapdrv_after(s, -1, err);
		}
		if (imap_idle_end(s->imap, err) == -1) {
			free(name);
			return imapdrv_after(s, -1, err);
		}
		rv = sync_news(s, name, needs_sync, err);
		free(name);
		if (rv == -1)
			return -1;
		/* Woken: a command waits. Else IDLE again (new, or renewed). */
		if (r == 2 || !channel_empty(s->cmds))
			return 0;
	}
}

static void
imapdrv_logout(struct session *s)
{
	struct error	e;

	if (s->chg != NULL) {
		if (changes_flush(s->chg, NULL, NULL, &e) == -1)
			log_warnx("%s: %s", s->acct->name, e.msg);
		free(s->chg->remote);
		free(s->chg->gone);
		free(s->chg->flags);
		while (s->chg->nstatus > 0)
			free(s->chg->status[--s->chg->nstatus].remote);
		free(s->chg->status);
		free(s->chg);
		s->chg = NULL;
	}
	imap_logout(&s->imap);
}

struct uid_list {
	uint32_t	*v;
	size_t		 n, size;
};

/* A range of the answer; at most a folder's worth (no 4-billion loop). */
static int
uid_list_cb(void *arg, uint32_t first, uint32_t last)
{
	struct uid_list	*u = arg;
	uint64_t	 uid;

	for (uid = first; uid <= last; uid++) {
		if (u->n >= 10 * 1000 * 1000)
			return -1;
		if (u->n == u->size) {
			u->size = u->size ? u->size * 2 : 256;
			u->v = xreallocarray(u->v, u->size, sizeof *u->v);
		}
		u->v[u->n++] = (uint32_t)uid;
	}
	return 0;
}

/*
 * UID SEARCH CHARSET UTF-8 BODY|TEXT word: a quoted string when it is
 * plain ASCII, else a literal (LITERAL+, so no round trip; without it the
 * server is not asked). The folder selected stays the watched one when
 * that is where the search is.
 */
static int
imapdrv_search(struct session *s, const char *folder, const char *key,
    char which, const char *word, struct error *err)
{
	struct imap_mailbox	 mb;
	struct cache_folder	 f;
	struct uid_list		 u = { NULL, 0, 0 };
	struct buf		 crit = BUF_INIT(0);
	const char		*sel, *p;
	bool			 ascii = true;
	int			 found, rv = -1;

	if (which != 'b' && which != 'B')
		return 0;	/* ~h: headers are all cached */
	if ((found = cache_folder_get(s->cache, folder, &f, err)) != 1)
		return found == 0 ? 0 : -1;
	if (f.remote == NULL)
		return 0;
	for (p = word; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80 || *p == '"' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			ascii = false;
	buf_printf(&crit, "CHARSET UTF-8 %s ", which == 'b' ? "BODY" : "TEXT");
	if (ascii)
		buf_printf(&crit, "\"%s\"", word);
	else if (imap_has_cap(s->imap, "LITERAL+") &&
	    strpbrk(word, "\r\n") == NULL)
		buf_printf(&crit, "{%zu+}\r\n%s", strlen(word), word);
	else {
		buf_free(&crit);
		return 0;
	}
	sel = imap_selected(s->imap);
	if ((sel == NULL || strcmp(sel, f.remote) != 0) &&
	    imap_select(s->imap, f.remote, NULL, &mb, err) == -1)
		goto out;
	if (imap_uid_search(s->imap, buf_cstr(&crit), uid_list_cb, &u,
	    err) == -1)
		goto out;
	rv = cache_server_hits_put(s->cache, f.id, key, u.v, u.n, err);
out:
	buf_free(&crit);
	free(u.v);
	return imapdrv_after(s, rv, err);
}

static int
imapdrv_probe(struct session *s, int timeout_ms, struct error *err)
{
	if (s->imap == NULL)
		return error_set(err, ERR_TRANSIENT, "not connected");
	return imapdrv_after(s, imap_probe(s->imap, timeout_ms, err), err);
}

static void
imapdrv_drop(struct session *s)
{
	if (s->imap != NULL)
		imap_abandon(s->imap, "connection given up");
	imapdrv_logout(s);
}

const struct engine_driver engine_imap_driver = {
	.name = "imap",
	.connect = imapdrv_connect,
	.list = imapdrv_list,
	.sync_folder = imapdrv_sync_folder,
	.sync = imapdrv_sync,
	.fetch_body = imapdrv_fetch_body,
	.select = imapdrv_select,
	.store_flags = imapdrv_store_flags,
	.copy = imapdrv_copy,
	.move = imapdrv_move,
	.expunge = imapdrv_expunge,
	.find_uid = imapdrv_find_uid,
	.find_message_id = imapdrv_find_message_id,
	.flush_changes = imapdrv_flush_changes,
	.append = imapdrv_append,
	.check = imapdrv_check,
	.wait_changes = imapdrv_wait_changes,
	.online = imapdrv_online,
	.probe = imapdrv_probe,
	.search = imapdrv_search,
	.drop = imapdrv_drop,
	.logout = imapdrv_logout,
};

/* ---- POP3 ---------------------------------------------------------------- */

/*
 * Nothing stays open: a POP3 session locks the maildrop against the user's
 * other clients and shows no mail that arrives during it. "Connecting" is
 * getting the password; each step then logs in and QUITs.
 */
static int
pop3drv_connect(struct session *s, struct error *err)
{
	const char	*pw;

	return session_get_password(s, &pw, err);
}

static bool
pop3drv_online(struct session *s)
{
	(void)s;
	return false;
}

static int
pop3_sync_inbox(struct session *s, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	struct proto_params	 pp;
	const char		*pw;
	int			 rv;

	if (session_get_password(s, &pw, err) == -1)
		return -1;
	rv = pop3_sync(session_params(s, &pp), pw, s->acct, s->cache, opts,
	    stats, err);
	if (rv == -1 && session_token_refused(s, err)) {
		if (session_get_password(s, &pw, err) == -1)
			return -1;
		rv = pop3_sync(session_params(s, &pp), pw, s->acct, s->cache,
		    opts, stats, err);
	}
	if (stats->new_messages + stats->expunged + stats->bodies > 0 &&
	    opts->changed != NULL)
		opts->changed(opts->hook_arg, POP3_FOLDER);
	return rv;
}

/* POP3 has one folder; no command asks for it (pop3_sync makes its row). */
static int
pop3drv_list(struct session *s, char ***namesp, size_t *np,
    struct sync_stats *stats, struct error *err)
{
	(void)s;
	(void)err;
	*namesp = xcalloc(1, sizeof **namesp);
	(*namesp)[0] = xstrdup(POP3_FOLDER);
	*np = 1;
	stats->folders_listed = 1;
	return 0;
}

static int
pop3drv_sync_folder(struct session *s, const char *folder,
    const struct sync_opts *all, struct sync_stats *stats, struct error *err)
{
	struct sync_opts	 opts = *all;
	char			*name = (char *)folder;

	/* pop3_sync checks the name (only INBOX) itself. */
	opts.folders = &name;
	opts.nfolders = 1;
	return pop3_sync_inbox(s, &opts, stats, err);
}

static int
pop3drv_fetch_body(struct session *s, const char *folder, uint32_t uid,
    uint64_t head_id, struct error *err)
{
	struct proto_params	 pp;
	const char		*pw;

	/* POP3 has one folder; its bodies are missing only with
	 * pop3_headers_only. */
	if (strcasecmp_ascii(folder, POP3_FOLDER) != 0)
		return error_set(err, ERR_LOCAL, "message %u of %s is not in "
		    "the local store", uid, folder);
	if (session_get_password(s, &pw, err) == -1)
		return -1;
	return pop3_fetch_one_body(session_params(s, &pp), pw, s->acct,
	    s->cache, uid, err);
}

static int
pop3drv_check(struct session *s, struct error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void
pop3drv_logout(struct session *s)
{
	(void)s;
}

const struct engine_driver engine_pop3_driver = {
	.name = "pop3",
	.connect = pop3drv_connect,
	.list = pop3drv_list,
	.sync_folder = pop3drv_sync_folder,
	.fetch_body = pop3drv_fetch_body,
	.check = pop3drv_check,
	.online = pop3drv_online,
	.logout = pop3drv_logout,
};
