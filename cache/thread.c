/*
 * Threads, kept in the cache: each message's thread_path is the list of
 * its ancestors' segments and its own, a segment being its (date, UID) in
 * fixed-width hex, so sorting a folder by thread_path gives the threads in
 * the order of their first message, each depth first with replies by
 * date, and the thread view pages by one index like the flat orders.
 *
 * The parent is found as JWZ's algorithm does, from In-Reply-To and then
 * References nearest first: the first of them that is in the folder. The
 * ones before it that are not (yet) here are remembered in thread_wants;
 * when one of them arrives, the message and its subtree move under it (one
 * UPDATE over a range of the index). A message whose direct parent is
 * missing is marked thread_gap, so the view shows a gap rather than a
 * wrong parent. Messages are threaded in short transactions, oldest first,
 * by cache_thread_update(): each session's worker calls it when idle after
 * a sync, so threads are ready before anyone asks, and the readers call it
 * before they show threads (the TUI's index, petrel list --threads), which
 * then only threads what arrived since.
 *
 * Subject threading (JWZ's last step) is not done: like mutt's
 * strict_threads, only the headers link messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache-private.h"
#include "xmalloc.h"

#define SEG_LEN		CACHE_THREAD_SEG	/* 12 hex of date, 8 of UID */
#define MAX_DEPTH	64			/* deeper replies stay at 64 */
#define MAX_REFS	16			/* nearest references looked at */
#define BATCH		2000			/* messages per transaction */
#define STR(x)		STR1(x)
#define STR1(x)		#x

static void
segment(char *out, int64_t date, uint32_t uid)
{
	snprintf(out, SEG_LEN + 1, "%012llx%08x",
	    (unsigned long long)(date < 0 ? 0 : date) & 0xffffffffffffULL, uid);
}

int
cache_thread_depth(const char *path)
{
	size_t	len = path != NULL ? strlen(path) : 0;

	return len >= SEG_LEN ? (int)(len / SEG_LEN) - 1 : 0;
}

uint32_t
cache_thread_parent_uid(const char *path)
{
	size_t		len = path != NULL ? strlen(path) : 0;
	char		hex[9];

	if (len < 2 * SEG_LEN)
		return 0;
	memcpy(hex, path + len - SEG_LEN - 8, 8);
	hex[8] = '\0';
	return (uint32_t)strtoul(hex, NULL, 16);
}

/* Message-IDs from In-Reply-To, then References from the last one back. */
static int
candidates(const char *irt, const char *refs, char **out, int max)
{
	const char	*p, *q, *ids[64];
	size_t		 lens[64];
	int		 n = 0, nr = 0, i, j;

	for (p = irt; p != NULL && (p = strchr(p, '<')) != NULL && n < 1; p = q) {
		if ((q = strchr(p, '>')) == NULL)
			break;
		q++;
		out[n++] = xstrndup(p, (size_t)(q - p));
	}
	for (p = refs; p != NULL && (p = strchr(p, '<')) != NULL && nr < 64;
	    p = q) {
		if ((q = strchr(p, '>')) == NULL)
			break;
		q++;
		ids[nr] = p;
		lens[nr++] = (size_t)(q - p);
	}
	for (i = nr - 1; i >= 0 && n < max; i--) {
		bool dup = false;

		for (j = 0; j < n; j++)
			if (strlen(out[j]) == lens[i] &&
			    memcmp(out[j], ids[i], lens[i]) == 0)
				dup = true;
		if (!dup)
			out[n++] = xstrndup(ids[i], lens[i]);
	}
	return n;
}

struct threader {
	struct cache	*c;
	int64_t		 folder_id;
	sqlite3_stmt	*find, *set, *want, *wanted, *unwant, *unwant_from,
			*any, *get, *move, *setgap;
};

static const struct {
	size_t		 off;
	const char	*sql;
} threader_stmts[] = {
	{ offsetof(struct threader, find),
	    "SELECT thread_path FROM messages WHERE folder_id = ?1 AND "
	    "message_id = ?2 AND thread_path IS NOT NULL AND id != ?3 "
	    "LIMIT 1" },
	{ offsetof(struct threader, set),
	    "UPDATE messages SET thread_path = ?2, thread_gap = ?3 "
	    "WHERE id = ?1" },
	{ offsetof(struct threader, want),
	    "INSERT OR REPLACE INTO thread_wants(folder_id, ref, msg, "
	    "rank) VALUES (?1, ?2, ?3, ?4)" },
	{ offsetof(struct threader, wanted),
	    "SELECT w.msg, w.rank, m.thread_path FROM thread_wants w "
	    "JOIN messages m ON m.id = w.msg WHERE w.folder_id = ?1 AND "
	    "w.ref = ?2 AND m.thread_path IS NOT NULL" },
	{ offsetof(struct threader, unwant),
	    "DELETE FROM thread_wants WHERE folder_id = ?1 AND ref = ?2" },
	{ offsetof(struct threader, unwant_from),
	    "DELETE FROM thread_wants WHERE msg = ?1 AND rank >= ?2" },
	{ offsetof(struct threader, any),
	    "SELECT 1 FROM messages WHERE folder_id = ?1 AND "
	    "thread_path IS NULL LIMIT 1" },
	{ offsetof(struct threader, get),
	    "SELECT id, date, uid, message_id, in_reply_to, refs FROM "
	    "messages WHERE folder_id = ?1 AND thread_path IS NULL "
	    "ORDER BY date, uid LIMIT " STR(BATCH) },
	/* The subtree at ?2 (a range of the index) moves under ?3. */
	{ offsetof(struct threader, move),
	    "UPDATE messages SET thread_path = ?3 || "
	    "substr(thread_path, length(?2) + 1) WHERE folder_id = ?1 "
	    "AND thread_path >= ?2 AND thread_path < ?2 || 'g'" },
	{ offsetof(struct threader, setgap),
	    "UPDATE messages SET thread_gap = ?2 WHERE id = ?1" },
};
#define NSTMTS (sizeof threader_stmts / sizeof threader_stmts[0])

static sqlite3_stmt **
threader_stmt(struct threader *t, size_t i)
{
	return (sqlite3_stmt **)((char *)t + threader_stmts[i].off);
}

static void
threader_free(struct threader *t)
{
	size_t	i;

	for (i = 0; i < NSTMTS; i++)
		sqlite3_finalize(*threader_stmt(t, i));
}

static int
threader_init(struct threader *t, struct cache *c, int64_t folder_id,
    struct error *err)
{
	size_t	i;

	memset(t, 0, sizeof *t);
	t->c = c;
	t->folder_id = folder_id;
	for (i = 0; i < NSTMTS; i++) {
		if (sqlite3_prepare_v2(c->db, threader_stmts[i].sql, -1,
		    threader_stmt(t, i), NULL) != SQLITE_OK) {
			cache_db_error(c, err, "preparing the threads");
			threader_free(t);
			return -1;
		}
	}
	return 0;
}

static int
step(struct threader *t, sqlite3_stmt *st, struct error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return cache_db_error(t->c, err, "threading");
	return 0;
}

/*
 * Messages that wanted this one (by its Message-ID) as an ancestor nearer
 * than the one they hang under now: move them and their replies here.
 */
static int
adopt(struct threader *t, const char *mid, const char *path,
    struct error *err)
{
	struct child {
		int64_t	 id;
		int	 rank;
		char	*path;
	}		*kids = NULL;
	size_t		 n = 0, size = 0, i;
	int		 rc = 0;

	sqlite3_bind_int64(t->wanted, 1, t->folder_id);
	sqlite3_bind_text(t->wanted, 2, mid, -1, SQLITE_STATIC);
	while (sqlite3_step(t->wanted) == SQLITE_ROW) {
		if (n == size) {
			size = size ? size * 2 : 8;
			kids = xreallocarray(kids, size, sizeof *kids);
		}
		kids[n].id = sqlite3_column_int64(t->wanted, 0);
		kids[n].rank = sqlite3_column_int(t->wanted, 1);
		kids[n].path = xstrdup(cache_col_text(t->wanted, 2));
		n++;
	}
	sqlite3_reset(t->wanted);
	sqlite3_clear_bindings(t->wanted);
	for (i = 0; i < n && rc == 0; i++) {
		const char	*old = kids[i].path;
		size_t		 olen = strlen(old), plen = strlen(path);
		char		*np;

		/* Never under itself: a reference loop. */
		if (strncmp(path, old, olen) == 0 || olen < SEG_LEN)
			continue;
		if (plen >= MAX_DEPTH * SEG_LEN)
			plen = (MAX_DEPTH - 1) * SEG_LEN;
		np = xmalloc(plen + SEG_LEN + 1);
		memcpy(np, path, plen);
		memcpy(np + plen, old + olen - SEG_LEN, SEG_LEN);
		np[plen + SEG_LEN] = '\0';
		sqlite3_bind_int64(t->move, 1, t->folder_id);
		sqlite3_bind_text(t->move, 2, old, -1, SQLITE_STATIC);
		sqlite3_bind_text(t->move, 3, np, -1, SQLITE_STATIC);
		rc = step(t, t->move, err);
		sqlite3_clear_bindings(t->move);
		free(np);
		if (rc == 0) {
			sqlite3_bind_int64(t->setgap, 1, kids[i].id);
			sqlite3_bind_int(t->setgap, 2, kids[i].rank > 0);
			rc = step(t, t->setgap, err);
		}
		if (rc == 0) {
			/* Only nearer ancestors are still worth waiting for. */
			sqlite3_bind_int64(t->unwant_from, 1, kids[i].id);
			sqlite3_bind_int(t->unwant_from, 2, kids[i].rank);
			rc = step(t, t->unwant_from, err);
		}
	}
	for (i = 0; i < n; i++)
		free(kids[i].path);
	free(kids);
	if (rc == 0) {
		sqlite3_bind_int64(t->unwant, 1, t->folder_id);
		sqlite3_bind_text(t->unwant, 2, mid, -1, SQLITE_STATIC);
		rc = step(t, t->unwant, err);
		sqlite3_clear_bindings(t->unwant);
	}
	return rc;
}

static int
thread_one(struct threader *t, int64_t id, int64_t date, uint32_t uid,
    const char *mid, const char *irt, const char *refs, struct error *err)
{
	char	*cand[MAX_REFS], seg[SEG_LEN + 1], *path = NULL;
	int	 n, i, found = -1, rc = 0;

	n = candidates(irt, refs, cand, MAX_REFS);
	segment(seg, date, uid);
	for (i = 0; i < n && found == -1; i++) {
		if (mid != NULL && strcmp(cand[i], mid) == 0)
			continue;
		sqlite3_bind_int64(t->find, 1, t->folder_id);
		sqlite3_bind_text(t->find, 2, cand[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(t->find, 3, id);
		if (sqlite3_step(t->find) == SQLITE_ROW) {
			const char	*pp = cache_col_text(t->find, 0);
			size_t		 plen = pp != NULL ? strlen(pp) : 0;

			if (plen >= MAX_DEPTH * SEG_LEN)
				plen = (MAX_DEPTH - 1) * SEG_LEN;
			path = xmalloc(plen + SEG_LEN + 1);
			memcpy(path, pp, plen);
			memcpy(path + plen, seg, SEG_LEN + 1);
			found = i;
		}
		sqlite3_reset(t->find);
		sqlite3_clear_bindings(t->find);
	}
	if (path == NULL)
		path = xstrdup(seg);
	/* The nearer ones that are missing: wait for them. */
	for (i = 0; i < (found == -1 ? n : found) && rc == 0; i++) {
		if (mid != NULL && strcmp(cand[i], mid) == 0)
			continue;
		sqlite3_bind_int64(t->want, 1, t->folder_id);
		sqlite3_bind_text(t->want, 2, cand[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(t->want, 3, id);
		sqlite3_bind_int(t->want, 4, i);
		rc = step(t, t->want, err);
	}
	if (rc == 0) {
		sqlite3_bind_int64(t->set, 1, id);
		sqlite3_bind_text(t->set, 2, path, -1, SQLITE_STATIC);
		/* A gap: it refers to a parent that is not here. */
		sqlite3_bind_int(t->set, 3, n > 0 && found != 0);
		rc = step(t, t->set, err);
		sqlite3_clear_bindings(t->set);
	}
	if (rc == 0 && mid != NULL)
		rc = adopt(t, mid, path, err);
	for (i = 0; i < n; i++)
		free(cand[i]);
	free(path);
	return rc;
}

int
cache_thread_update(struct cache *c, int64_t folder_id,
    int (*yield)(void *), void *arg, struct error *err)
{
	struct threader	 t;
	struct row {
		int64_t		 id, date;
		uint32_t	 uid;
		char		*mid, *irt, *refs;
	}		*rows;
	int		 n, i, rc = 0;
	int64_t		 total = 0;

	if (threader_init(&t, c, folder_id, err) == -1)
		return -1;
	rows = xcalloc(BATCH, sizeof *rows);
	for (;;) {
		/*
		 * Nothing new (the usual case, on every re-read of a thread
		 * view): no write transaction at all.
		 */
		sqlite3_bind_int64(t.any, 1, folder_id);
		i = sqlite3_step(t.any);
		sqlite3_reset(t.any);
		if (i != SQLITE_ROW) {
			if (i != SQLITE_DONE)
				rc = cache_db_error(c, err, "threading");
			break;
		}
		if (cache_begin(c, err) == -1) {
			rc = -1;
			break;
		}
		n = 0;
		sqlite3_bind_int64(t.get, 1, folder_id);
		while (n < BATCH && sqlite3_step(t.get) == SQLITE_ROW) {
			rows[n].id = sqlite3_column_int64(t.get, 0);
			rows[n].date = sqlite3_column_int64(t.get, 1);
			rows[n].uid = (uint32_t)sqlite3_column_int64(t.get, 2);
			rows[n].mid = cache_col_text(t.get, 3) != NULL ?
			    xstrdup(cache_col_text(t.get, 3)) : NULL;
			rows[n].irt = cache_col_text(t.get, 4) != NULL ?
			    xstrdup(cache_col_text(t.get, 4)) : NULL;
			rows[n].refs = cache_col_text(t.get, 5) != NULL ?
			    xstrdup(cache_col_text(t.get, 5)) : NULL;
			n++;
		}
		sqlite3_reset(t.get);
		for (i = 0; i < n && rc == 0; i++)
			rc = thread_one(&t, rows[i].id, rows[i].date,
			    rows[i].uid, rows[i].mid, rows[i].irt, rows[i].refs,
			    err);
		for (i = 0; i < n; i++) {
			free(rows[i].mid);
			free(rows[i].irt);
			free(rows[i].refs);
		}
		if (rc == -1) {
			cache_rollback(c);
			break;
		}
		if (cache_commit(c, err) == -1) {
			rc = -1;
			break;
		}
		total += n;
		if (n < BATCH || (yield != NULL && yield(arg)))
			break;
	}
	free(rows);
	threader_free(&t);
	return rc == -1 ? -1 : (int)(total > INT32_MAX ? INT32_MAX : total);
}

/* Messages under path (its replies, at any depth), hidden rows left out. */
int64_t
cache_thread_count_under(struct cache *c, int64_t folder_id, const char *path,
    struct error *err)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM messages WHERE "
	    "folder_id = ?1 AND hidden = 0 AND thread_path > ?2 AND "
	    "thread_path < ?2 || 'g'", -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "counting a thread");
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		cache_db_error(c, err, "counting a thread");
	sqlite3_finalize(st);
	return n;
}

/* Is there a later reply to the same parent (for the tree's corner)? */
bool
cache_thread_has_next_sibling(struct cache *c, int64_t folder_id,
    const char *path)
{
	sqlite3_stmt	*st;
	size_t		 len = path != NULL ? strlen(path) : 0;
	char		*parent;
	bool		 yes = false;

	if (len < 2 * SEG_LEN)
		return false;
	parent = xstrndup(path, len - SEG_LEN);
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM messages WHERE "
	    "folder_id = ?1 AND hidden = 0 AND thread_path > ?2 AND "
	    "thread_path < ?3 || 'g' AND length(thread_path) = ?4 LIMIT 1",
	    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, folder_id);
		sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, parent, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (int64_t)len);
		yes = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	free(parent);
	return yes;
}
