/*
 * Index views: a folder's messages sorted and limited, read a page at a
 * time by key. The index view keeps the keys of the rows it shows and asks
 * for the rows after the last one or before the first; a page costs the
 * same in a folder of 100 messages or of 100,000 (the date and arrival
 * orders walk an index; the others let SQLite keep the best n of a scan).
 */
#include <stdlib.h>
#include <string.h>

#include "cache-private.h"
#include "xmalloc.h"

struct sort_def {
	const char	*name;
	const char	*expr;		/* over the messages table "m" */
	bool		 text;
	bool		 tiebreak;	/* then by UID */
};

static const struct sort_def sorts[] = {
	[CACHE_SORT_DATE] =	{ "date", "m.date", false, true },
	/* The rowid is (folder << 32) | uid: a range of the table itself. */
	[CACHE_SORT_ARRIVAL] =	{ "arrival", "m.id", false, false },
	[CACHE_SORT_FROM] =	{ "from",
	    "ifnull(m.from_addr, '') COLLATE NOCASE", true, true },
	[CACHE_SORT_SUBJECT] =	{ "subject",
	    "ifnull(m.subject, '') COLLATE NOCASE", true, true },
	[CACHE_SORT_SIZE] =	{ "size", "m.size", false, true },
	/* Unique: a path ends in the message's own UID. */
	[CACHE_SORT_THREADS] =	{ "threads", "m.thread_path", true, false },
};
#define NSORTS ((int)(sizeof sorts / sizeof sorts[0]))

const char *
cache_sort_name(enum cache_sort s)
{
	if ((int)s < 0 || (int)s >= NSORTS)
		return "date";
	return sorts[s].name;
}

int
cache_sort_parse(const char *name, enum cache_sort *sp)
{
	int	i;

	for (i = 0; i < NSORTS; i++) {
		if (strcmp(name, sorts[i].name) == 0) {
			*sp = (enum cache_sort)i;
			return 0;
		}
	}
	return -1;
}

void
cache_key_set(struct cache_key *k, enum cache_sort s, const struct cache_msg *m)
{
	free(k->text);
	k->text = NULL;
	k->num = 0;
	k->uid = m->uid;
	switch (s) {
	case CACHE_SORT_DATE:
		k->num = m->date;
		break;
	case CACHE_SORT_ARRIVAL:
		k->num = m->id;
		break;
	case CACHE_SORT_SIZE:
		k->num = m->size;
		break;
	case CACHE_SORT_FROM:
		k->text = xstrdup(m->from != NULL ? m->from : "");
		break;
	case CACHE_SORT_SUBJECT:
		k->text = xstrdup(m->subject != NULL ? m->subject : "");
		break;
	case CACHE_SORT_THREADS:
		k->text = xstrdup(m->thread_path != NULL ? m->thread_path : "");
		break;
	}
}

void
cache_key_clear(struct cache_key *k)
{
	free(k->text);
	memset(k, 0, sizeof *k);
}

/* A sparse limit: the folder's rows by id (the table itself), no index. */
static bool
view_scans(const struct cache_view *v)
{
	return v->sparse && v->limit != NULL;
}

/*
 * The WHERE clause shared by pages and counts: "?1" is the folder, the
 * pattern's parameters follow from ?2 on (bound by cache_pattern_bind),
 * the key's come last. cmp is "<", ">" ... or NULL for no key.
 */
static char *
view_where(const struct cache_view *v, const char *cmp)
{
	const struct sort_def	*sd = &sorts[v->sort];
	char			*sql, *out;

	sql = sqlite3_mprintf("%sm.folder_id = ?1 AND m.hidden = 0%s%s%s%s",
	    view_scans(v) ? "m.id BETWEEN (?1 << 32) AND ((?1 << 32) | "
	    "4294967295) AND " : "",
	    v->limit != NULL ? " AND (" : "",
	    v->limit != NULL ? cache_pattern_sql(v->limit) : "",
	    v->limit != NULL ? ")" : "",
	    v->sort != CACHE_SORT_THREADS ? "" : v->collapse_all ?
	    " AND m.thread_path IS NOT NULL AND (length(m.thread_path) = 20 "
	    "OR substr(m.thread_path, 1, 20) IN (SELECT root FROM "
	    "temp.collapsed))" :
	    " AND m.thread_path IS NOT NULL AND (length(m.thread_path) = 20 "
	    "OR substr(m.thread_path, 1, 20) NOT IN (SELECT root FROM "
	    "temp.collapsed))");
	if (cmp != NULL) {
		char *more;

		if (sd->tiebreak)
			more = sqlite3_mprintf("%s AND (%s, m.uid) %s (?, ?)",
			    sql, sd->expr, cmp);
		else
			more = sqlite3_mprintf("%s AND %s %s ?", sql, sd->expr,
			    cmp);
		sqlite3_free(sql);
		sql = more;
	}
	out = xstrdup(sql);
	sqlite3_free(sql);
	return out;
}

static int
bind_view(sqlite3_stmt *st, const struct cache_view *v,
    const struct cache_key *k)
{
	const struct sort_def	*sd = &sorts[v->sort];
	int			 i = 2;

	sqlite3_bind_int64(st, 1, v->folder_id);
	if (v->limit != NULL && (i = cache_pattern_bind(v->limit, st, 2)) == -1)
		return -1;
	if (k != NULL) {
		if (sd->text)
			sqlite3_bind_text(st, i++, k->text != NULL ? k->text :
			    "", -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(st, i++, k->num);
		if (sd->tiebreak)
			sqlite3_bind_int64(st, i++, k->uid);
	}
	return i;
}

int
cache_view_page(struct cache *c, const struct cache_view *v,
    const struct cache_key *k, int dir, bool inclusive, int n,
    cache_msg_cb cb, void *arg, struct error *err)
{
	const struct sort_def	*sd;
	sqlite3_stmt		*st;
	struct cache_msg	 m;
	const char		*cmp = NULL, *ord;
	char			*where, *sql;
	bool			 asc;
	int			 rc, idx, got = 0, stop = 0;

	if ((int)v->sort < 0 || (int)v->sort >= NSORTS)
		return error_set(err, ERR_LOCAL, "bad sort order");
	if (cache_tags_ensure(c, err) == -1 ||
	    cache_pattern_ready(c, v->limit, err) == -1)
		return -1;
	sd = &sorts[v->sort];
	/* Ascending in SQL when going forward through an unreversed view. */
	asc = (dir > 0) != v->reverse;
	if (k != NULL) {
		if (asc)
			cmp = inclusive ? ">=" : ">";
		else
			cmp = inclusive ? "<=" : "<";
	}
	ord = asc ? "ASC" : "DESC";
	where = view_where(v, cmp);
	if (sd->tiebreak)
		sql = sqlite3_mprintf("SELECT " MSG_COLUMNS " FROM messages m%s "
		    "WHERE %s ORDER BY %s %s, m.uid %s LIMIT %d",
		    view_scans(v) ? " NOT INDEXED" : "", where, sd->expr, ord,
		    ord, n);
	else
		sql = sqlite3_mprintf("SELECT " MSG_COLUMNS " FROM messages m%s "
		    "WHERE %s ORDER BY %s %s LIMIT %d",
		    view_scans(v) ? " NOT INDEXED" : "", where, sd->expr, ord, n);
	free(where);
	rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return cache_db_error(c, err, "reading the index");
	if ((idx = bind_view(st, v, k)) == -1) {
		sqlite3_finalize(st);
		return error_set(err, ERR_LOCAL, "binding a pattern");
	}
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		cache_msg_from_row(st, &m);
		got++;
		stop = cb(arg, &m);
	}
	if (!stop && rc != SQLITE_DONE) {
		cache_db_error(c, err, "reading the index");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return got;
}

int64_t
cache_view_count(struct cache *c, const struct cache_view *v,
    const struct cache_key *before, struct error *err)
{
	sqlite3_stmt	*st;
	char		*where, *sql;
	int64_t		 n = -1;
	int		 rc;

	if ((int)v->sort < 0 || (int)v->sort >= NSORTS)
		return error_set(err, ERR_LOCAL, "bad sort order");
	if (cache_tags_ensure(c, err) == -1 ||
	    cache_pattern_ready(c, v->limit, err) == -1)
		return -1;
	where = view_where(v, before == NULL ? NULL : v->reverse ? ">" : "<");
	sql = sqlite3_mprintf("SELECT count(*) FROM messages m%s WHERE %s",
	    view_scans(v) ? " NOT INDEXED" : "", where);
	free(where);
	rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return cache_db_error(c, err, "counting the index");
	if (bind_view(st, v, before) == -1) {
		sqlite3_finalize(st);
		return error_set(err, ERR_LOCAL, "binding a pattern");
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		cache_db_error(c, err, "counting the index");
	sqlite3_finalize(st);
	return n;
}

/* ---- Tags ------------------------------------------------------------------ */

/*
 * Tagged messages live in a TEMP table of the connection (temp.tagged), so
 * the ~T pattern can use them and tagging never writes the cache file.
 */
int
cache_tag_set(struct cache *c, int64_t folder_id, const uint32_t *uids,
    size_t n, bool on, struct error *err)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc = SQLITE_DONE;

	if (cache_tags_ensure(c, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, on ?
	    "INSERT OR IGNORE INTO temp.tagged(id) VALUES (?1)" :
	    "DELETE FROM temp.tagged WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "tagging");
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, (folder_id << 32) | uids[i]);
		if ((rc = sqlite3_step(st)) != SQLITE_DONE)
			break;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "tagging");
	return 0;
}

void
cache_tag_clear(struct cache *c)
{
	if (cache_tags_ensure(c, NULL) == 0)
		sqlite3_exec(c->db, "DELETE FROM temp.tagged", NULL, NULL, NULL);
}

int64_t
cache_tag_count(struct cache *c, int64_t folder_id)
{
	sqlite3_stmt	*st;
	int64_t		 n = 0;

	if (cache_tags_ensure(c, NULL) == -1 ||
	    sqlite3_prepare_v2(c->db, "SELECT count(*) FROM temp.tagged "
	    "WHERE id >> 32 = ?1", -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, folder_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

bool
cache_tag_has(struct cache *c, int64_t folder_id, uint32_t uid)
{
	sqlite3_stmt	*st;
	bool		 has = false;

	if (cache_tags_ensure(c, NULL) == -1 ||
	    sqlite3_prepare_v2(c->db, "SELECT 1 FROM temp.tagged WHERE id = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, (folder_id << 32) | uid);
	has = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return has;
}

/* ---- Collapsed threads ------------------------------------------------------ */

int
cache_thread_collapse(struct cache *c, const char *path, bool on,
    struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (path == NULL || strlen(path) < CACHE_THREAD_SEG)
		return 0;
	if (cache_tags_ensure(c, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, on ?
	    "INSERT OR IGNORE INTO temp.collapsed(root) VALUES (substr(?1, 1, 20))" :
	    "DELETE FROM temp.collapsed WHERE root = substr(?1, 1, 20)", -1, &st,
	    NULL) != SQLITE_OK)
		return cache_db_error(c, err, "collapsing a thread");
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "collapsing a thread");
	return 0;
}

bool
cache_thread_collapsed(struct cache *c, const char *path)
{
	sqlite3_stmt	*st;
	bool		 yes = false;
	struct error	 err;

	error_clear(&err);
	if (path == NULL || cache_tags_ensure(c, &err) == -1)
		return false;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM temp.collapsed WHERE "
	    "root = substr(?1, 1, 20)", -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

void
cache_thread_collapse_clear(struct cache *c)
{
	sqlite3_exec(c->db, "DELETE FROM temp.collapsed", NULL, NULL, NULL);
}
