/*
 * The text index of cached bodies, for the ~b, ~B and ~h patterns.
 *
 * An FTS5 table (body_text: headers, body; rowid = messages.id) in the
 * bodies file, beside the raw bytes it was made from: it is deleted with
 * them (bodies.c), and a body written again drops its stale text. The
 * engine renders each body (decoded headers, the text the pager would
 * show) and stores it with cache_text_put(); cache_text_unindexed() is its
 * to-do list, so bodies stored before the index existed are caught up too.
 *
 * The index lives in another database file than the messages a pattern
 * selects, and attaching the bodies file to the main connection would make
 * every write transaction there lock both files. So a text term of a
 * pattern is evaluated on its own: cache_text_prepare() runs its FTS query
 * on the bodies file and puts the matching ids into the connection's TEMP
 * table text_hits, keyed by the query; the pattern's SQL reads them there.
 * They are refreshed when the bodies file has changed since (PRAGMA
 * data_version, or this connection's own writes).
 */
#include <stdlib.h>
#include <string.h>

#include "cache-private.h"
#include "xmalloc.h"

/*
 * Make the index's tables in a writable bodies file that lacks them (from
 * cache_bodies_open): text_todo starts out naming every body stored before.
 */
int
cache_text_setup(struct cache *c, struct error *err)
{
	sqlite3_stmt	*st;
	bool		 have;

	if (sqlite3_prepare_v2(c->bdb, "SELECT 1 FROM sqlite_master WHERE "
	    "name = 'text_todo'", -1, &st, NULL) != SQLITE_OK)
		return cache_sqlite_error(c->bdb, c->bpath, err,
		    "making the text index");
	have = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!have && sqlite3_exec(c->bdb, "BEGIN IMMEDIATE;"
	    "CREATE VIRTUAL TABLE IF NOT EXISTS body_text USING fts5(headers, "
	    "body, tokenize = 'unicode61 remove_diacritics 2');"
	    "CREATE TABLE text_todo(message INTEGER PRIMARY KEY);"
	    "INSERT INTO text_todo SELECT message FROM bodies;"
	    "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		cache_sqlite_error(c->bdb, c->bpath, err,
		    "making the text index");
		sqlite3_exec(c->bdb, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	c->text_table = true;
	return 0;
}

/* Does the (read-only) bodies file have the index yet? */
static bool
text_table_exists(struct cache *c)
{
	sqlite3_stmt	*st;
	bool		 yes = false;

	if (c->text_table)
		return true;
	if (sqlite3_prepare_v2(c->bdb, "SELECT 1 FROM sqlite_master WHERE "
	    "name = 'body_text'", -1, &st, NULL) != SQLITE_OK)
		return false;
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return c->text_table = yes;
}

int
cache_text_unindexed(struct cache *c, int64_t after, int64_t *ids, int n,
    struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc, got = 0;

	if ((rc = cache_bodies_open(c, false, err)) <= 0)
		return rc;
	if (!text_table_exists(c))
		return 0;
	if (sqlite3_prepare_v2(c->bdb, "SELECT message FROM text_todo "
	    "WHERE message > ?1 ORDER BY message LIMIT ?2", -1, &st,
	    NULL) != SQLITE_OK)
		return cache_sqlite_error(c->bdb, c->bpath, err,
		    "reading the text index");
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, n);
	while (got < n && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[got++] = sqlite3_column_int64(st, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		cache_sqlite_error(c->bdb, c->bpath, err,
		    "reading the text index");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return got;
}

int
cache_text_put(struct cache *c, int64_t id, const char *headers,
    const char *body, struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (!c->in_tx)
		return error_set(err, ERR_LOCAL, "%s: outside a transaction",
		    __func__);
	if (cache_bodies_write(c, err) == -1)
		return -1;
	if (!text_table_exists(c))
		return error_set(err, ERR_LOCAL, "cache: no text index");
	/* Replaced, not added to: FTS5 keeps no unique rowid by itself. */
	if (cache_text_forget(c, id, id, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->bdb, "INSERT INTO "
	    "body_text(rowid, headers, body) VALUES (?1, ?2, ?3)", -1, &st,
	    NULL) != SQLITE_OK)
		return cache_sqlite_error(c->bdb, c->bpath, err,
		    "saving a message's text");
	sqlite3_bind_int64(st, 1, id);
	cache_bind_text(st, 2, headers);
	cache_bind_text(st, 3, body);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cache_sqlite_error(c->bdb, c->bpath, err,
		    "saving a message's text");
	return 0;
}

/* A statement on the bodies file with ?1 and ?2 (?2 may be unused). */
static int
text_exec(struct cache *c, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(c->bdb, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
cache_text_forget(struct cache *c, int64_t first, int64_t last,
    struct error *err)
{
	if (!text_table_exists(c))
		return 0;
	if (text_exec(c, "DELETE FROM body_text WHERE rowid BETWEEN ?1 AND ?2",
	    first, last) == -1 ||
	    text_exec(c, "DELETE FROM text_todo WHERE message BETWEEN ?1 AND ?2",
	    first, last) == -1)
		return cache_sqlite_error(c->bdb, c->bpath, err,
		    "deleting a message's text");
	c->text_writes++;
	return 0;
}

int
cache_text_todo(struct cache *c, int64_t id, struct error *err)
{
	if (!text_table_exists(c))
		return 0;
	if (cache_text_forget(c, id, id, err) == -1)
		return -1;
	if (text_exec(c, "INSERT OR IGNORE INTO text_todo(message) "
	    "VALUES (?1)", id, id) == -1)
		return cache_sqlite_error(c->bdb, c->bpath, err,
		    "saving a message body");
	return 0;
}

/* What the bodies file holds now, as far as this connection can tell. */
static int64_t
text_version(struct cache *c)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;

	if (sqlite3_prepare_v2(c->bdb, "PRAGMA data_version", -1, &st,
	    NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v << 24) + c->text_writes;
}

static int
temp_tables(struct cache *c, struct error *err)
{
	if (c->text_temp)
		return 0;
	if (sqlite3_exec(c->db, "CREATE TEMP TABLE IF NOT EXISTS "
	    "text_hits(q TEXT, id INTEGER, PRIMARY KEY (q, id)) WITHOUT ROWID;"
	    "CREATE TEMP TABLE IF NOT EXISTS "
	    "text_queries(q TEXT PRIMARY KEY, version INTEGER)",
	    NULL, NULL, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "making the text hit table");
	c->text_temp = true;
	return 0;
}

/* The version text_hits holds for q, or -1. */
static int64_t
hits_version(struct cache *c, const char *q)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT version FROM temp.text_queries "
	    "WHERE q = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int
exec_q(struct cache *c, const char *sql, const char *q, int64_t v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Run FTS query q on the bodies file into text_hits. */
static int
fill_hits(struct cache *c, const char *q, int64_t version, struct error *err)
{
	sqlite3_stmt	*fts = NULL, *ins = NULL;
	int		 rc = SQLITE_DONE;

	if (exec_q(c, "DELETE FROM temp.text_hits WHERE q = ?1", q, 0) == -1 ||
	    exec_q(c, "DELETE FROM temp.text_queries WHERE q = ?1", q, 0) == -1)
		return cache_db_error(c, err, "searching bodies");
	if (c->bdb != NULL && text_table_exists(c)) {
		if (sqlite3_prepare_v2(c->bdb, "SELECT rowid FROM body_text "
		    "WHERE body_text MATCH ?1", -1, &fts, NULL) != SQLITE_OK)
			return cache_sqlite_error(c->bdb, c->bpath, err,
			    "searching bodies");
		if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO "
		    "temp.text_hits(q, id) VALUES (?1, ?2)", -1, &ins,
		    NULL) != SQLITE_OK) {
			sqlite3_finalize(fts);
			return cache_db_error(c, err, "searching bodies");
		}
		sqlite3_bind_text(fts, 1, q, -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 1, q, -1, SQLITE_STATIC);
		while ((rc = sqlite3_step(fts)) == SQLITE_ROW) {
			sqlite3_bind_int64(ins, 2, sqlite3_column_int64(fts, 0));
			if (sqlite3_step(ins) != SQLITE_DONE)
				break;
			sqlite3_reset(ins);
		}
		sqlite3_finalize(ins);
		if (rc != SQLITE_DONE) {
			cache_sqlite_error(c->bdb, c->bpath, err,
			    "searching bodies");
			sqlite3_finalize(fts);
			return -1;
		}
		sqlite3_finalize(fts);
	}
	if (exec_q(c, "INSERT INTO temp.text_queries(q, version) "
	    "VALUES (?1, ?2)", q, version) == -1)
		return cache_db_error(c, err, "searching bodies");
	return 0;
}

int
cache_text_prepare(struct cache *c, const char *const *queries, int n,
    struct error *err)
{
	int64_t	version = -2;
	int	i, rv;

	if (n == 0)
		return 0;
	if (temp_tables(c, err) == -1)
		return -1;
	if ((rv = cache_bodies_open(c, false, err)) == -1)
		return -1;
	if (rv == 1)
		version = text_version(c);
	for (i = 0; i < n; i++)
		if (hits_version(c, queries[i]) != version &&
		    fill_hits(c, queries[i], version, err) == -1)
			return -1;
	return 0;
}
