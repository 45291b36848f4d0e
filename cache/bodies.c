/*
 * Raw message bodies, fetched on demand and kept for offline reading.
 *
 * They live in a database file of their own next to the account's cache
 * (ACCOUNT.bodies.db beside ACCOUNT.db), for one reason: bytes written once.
 * The main cache is in WAL mode, which writes every page twice (into the
 * WAL, then into the database at the checkpoint) and reads it back in
 * between; for headers that is cheap, for a POP3 download of 160 MB it was
 * most of the disk work. The bodies file uses a rollback journal instead,
 * where pages appended to the file are not journalled at all, and 64 KB
 * pages, so a body costs few writes. Readers of a body block a commit of
 * the bodies file only for the moment they read.
 *
 * The two files are kept consistent by the order of the commits, not by
 * one transaction: cache_commit() commits the bodies file first, then the
 * main one. So a body is durable before any row that says it is there
 * (messages.has_body, pop3_uidl.stored), and a crash between the two
 * leaves at worst a body nobody points to yet, which the next write of
 * the same message replaces. Deleting messages deletes their bodies in
 * the same way. The bodies file is only written inside a transaction of
 * the main file, so its lock is always taken second and two processes
 * cannot wait for each other.
 *
 * The heads table holds the first bytes of a long body being fetched for
 * the pager (the engine asks for them before the rest), so the reader sees
 * the first screen before the whole body has come. One row at most: the
 * next head replaces it, and the body's own arrival drops it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-private.h"
#include "xmalloc.h"

static const char *bst_sql[BST_COUNT] = {
	[BST_BEGIN] = "BEGIN IMMEDIATE",
	[BST_COMMIT] = "COMMIT",
	[BST_PUT] = "INSERT OR REPLACE INTO bodies(message, raw) "
	    "VALUES(?1, ?2)",
	[BST_ZERO] = "INSERT OR REPLACE INTO bodies(message, raw) "
	    "VALUES(?1, zeroblob(?2))",
	[BST_DELETE] = "DELETE FROM bodies WHERE message BETWEEN ?1 AND ?2",
	[BST_HEAD_CLEAR] = "DELETE FROM heads",
	[BST_HEAD_PUT] = "INSERT INTO heads(message, raw) VALUES(?1, ?2)",
	[BST_HEAD_DROP] = "DELETE FROM heads WHERE message BETWEEN ?1 AND ?2",
};

static int
bodies_error(struct cache *c, struct error *err, const char *what)
{
	return cache_sqlite_error(c->bdb, c->bpath, err, what);
}

static int
bodies_exec(struct cache *c, const char *sql, struct error *err)
{
	if (sqlite3_exec(c->bdb, sql, NULL, NULL, NULL) != SQLITE_OK)
		return bodies_error(c, err, "opening the bodies file");
	return 0;
}

/*
 * Open the bodies file on first use. 1 when open, 0 when it does not exist
 * and create is false (nothing was ever stored), -1 on error.
 */
int
cache_bodies_open(struct cache *c, bool create, struct error *err)
{
	bool	readonly = (c->flags & CACHE_READONLY) != 0;

	if (c->bdb != NULL)
		return 1;
	if ((readonly || !create) && access(c->bpath, F_OK) == -1)
		return 0;
	if (cache_sqlite_open(c->bpath, readonly, &c->bdb, err) == -1)
		return -1;
	if (!(c->flags & CACHE_READONLY) &&
	    (bodies_exec(c, "PRAGMA page_size = 65536", err) == -1 ||
	    bodies_exec(c, "PRAGMA journal_mode = TRUNCATE", err) == -1 ||
	    /* Few commits, and a POP3 DELE relies on them: always FULL. */
	    bodies_exec(c, "PRAGMA synchronous = FULL", err) == -1 ||
	    bodies_exec(c, "CREATE TABLE IF NOT EXISTS bodies("
	    "  message INTEGER PRIMARY KEY,"	/* messages.id in the cache */
	    "  raw BLOB NOT NULL"
	    ")", err) == -1 ||
	    bodies_exec(c, "CREATE TABLE IF NOT EXISTS heads("
	    "  message INTEGER PRIMARY KEY,"
	    "  raw BLOB NOT NULL"
	    ")", err) == -1 || cache_text_setup(c, err) == -1)) {
		cache_bodies_close(c);
		return -1;
	}
	return 1;
}

void
cache_bodies_close(struct cache *c)
{
	int	i;

	for (i = 0; i < BST_COUNT; i++) {
		sqlite3_finalize(c->bstmts[i]);
		c->bstmts[i] = NULL;
	}
	if (c->bdb != NULL)
		sqlite3_close(c->bdb);
	c->bdb = NULL;
	c->b_in_tx = 0;
}

static sqlite3_stmt *
bodies_stmt(struct cache *c, int id, struct error *err)
{
	return cache_prepared(c->bdb, c->bpath, &c->bstmts[id], bst_sql[id],
	    err);
}

static int
bodies_step_done(struct cache *c, sqlite3_stmt *st, struct error *err,
    const char *what)
{
	return cache_sqlite_step_done(c->bdb, c->bpath, st, err, what);
}

/* Make the bodies file writable inside the open cache transaction. */
int
cache_bodies_write(struct cache *c, struct error *err)
{
	sqlite3_stmt	*st;

	if (cache_bodies_open(c, true, err) == -1)
		return -1;
	if (c->b_in_tx)
		return 0;
	if ((st = bodies_stmt(c, BST_BEGIN, err)) == NULL ||
	    bodies_step_done(c, st, err, "starting a transaction") == -1)
		return -1;
	c->b_in_tx = 1;
	return 0;
}

int
cache_bodies_commit(struct cache *c, struct error *err)
{
	sqlite3_stmt	*st;

	if (!c->b_in_tx)
		return 0;
	if ((st = bodies_stmt(c, BST_COMMIT, err)) == NULL ||
	    bodies_step_done(c, st, err, "committing message bodies") == -1) {
		cache_bodies_rollback(c);
		return -1;
	}
	c->b_in_tx = 0;
	return 0;
}

void
cache_bodies_rollback(struct cache *c)
{
	if (c->bdb != NULL && sqlite3_get_autocommit(c->bdb) == 0)
		sqlite3_exec(c->bdb, "ROLLBACK", NULL, NULL, NULL);
	c->b_in_tx = 0;
}

static int
head_drop(struct cache *c, int64_t first_id, int64_t last_id,
    struct error *err)
{
	sqlite3_stmt	*st;

	if ((st = bodies_stmt(c, BST_HEAD_DROP, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, first_id);
	sqlite3_bind_int64(st, 2, last_id);
	return bodies_step_done(c, st, err, "deleting a message's head");
}

int
cache_bodies_delete(struct cache *c, int64_t first_id, int64_t last_id,
    struct error *err)
{
	sqlite3_stmt	*st;
	int		 rv;

	/*
	 * No file: nothing to delete. Outside a transaction the delete
	 * commits at once, still before the caller's delete of the rows.
	 */
	if ((rv = cache_bodies_open(c, false, err)) <= 0)
		return rv;
	if ((c->in_tx && cache_bodies_write(c, err) == -1) ||
	    (st = bodies_stmt(c, BST_DELETE, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, first_id);
	sqlite3_bind_int64(st, 2, last_id);
	if (bodies_step_done(c, st, err, "deleting message bodies") == -1 ||
	    head_drop(c, first_id, last_id, err) == -1)
		return -1;
	return cache_text_forget(c, first_id, last_id, err);
}

/*
 * Schema step 2 -> 3 moves the bodies table of the main file here. The
 * copy is committed before the step that drops the old table runs, so a
 * crash in between leaves both copies, and the next open copies again.
 */
int
cache_bodies_migrate(struct cache *c, struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc, any = 0;

	/* A new cache (or one without bodies) has nothing to move. */
	if (sqlite3_prepare_v2(c->db, "SELECT EXISTS(SELECT 1 FROM bodies)",
	    -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "moving message bodies");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		any = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return cache_db_error(c, err, "moving message bodies");
	if (!any)
		return 0;
	if (cache_bodies_open(c, true, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, "ATTACH DATABASE ?1 AS petrel_bodies",
	    -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "moving message bodies");
	sqlite3_bind_text(st, 1, c->bpath, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "moving message bodies");
	/* Written: only the bodies file, so the commit is atomic. */
	if (sqlite3_exec(c->db, "BEGIN;"
	    "INSERT OR REPLACE INTO petrel_bodies.bodies(message, raw) "
	    "  SELECT message, raw FROM main.bodies;"
	    "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		cache_db_error(c, err, "moving message bodies");
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_exec(c->db, "DETACH DATABASE petrel_bodies", NULL,
		    NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(c->db, "DETACH DATABASE petrel_bodies", NULL, NULL,
	    NULL) != SQLITE_OK)
		return cache_db_error(c, err, "moving message bodies");
	return 0;
}

int
cache_body_get(struct cache *c, int64_t folder_id, uint32_t uid, char **datap,
    size_t *lenp, struct error *err)
{
	/* Blob I/O reads straight into the buffer: one copy, not two. */
	return cache_body_get_head(c, folder_id, uid, SIZE_MAX, datap, lenp,
	    NULL, err);
}

/* At most max bytes of the blob of table's row id: 1, 0 when none, -1. */
static int
blob_read(struct cache *c, const char *table, int64_t id, size_t max,
    char **datap, size_t *lenp, size_t *totalp, struct error *err)
{
	sqlite3_blob	*blob;
	size_t		 len;
	char		*data;
	int		 rc;

	*datap = NULL;
	*lenp = 0;
	if ((rc = cache_bodies_open(c, false, err)) <= 0)
		return rc;
	/*
	 * Incremental I/O: only the pages of the head are read. No such row
	 * (or, for heads, a file older than that table): nothing.
	 */
	if (sqlite3_blob_open(c->bdb, "main", table, "raw", id, 0, &blob) !=
	    SQLITE_OK)
		return 0;
	len = (size_t)sqlite3_blob_bytes(blob);
	if (totalp != NULL)
		*totalp = len;
	if (len > max)
		len = max;
	data = xmalloc(len + 1);
	if (sqlite3_blob_read(blob, data, (int)len, 0) != SQLITE_OK) {
		sqlite3_blob_close(blob);
		free(data);
		return bodies_error(c, err, "reading a message body");
	}
	sqlite3_blob_close(blob);
	data[len] = '\0';
	*datap = data;
	*lenp = len;
	return 1;
}

int
cache_body_get_head(struct cache *c, int64_t folder_id, uint32_t uid,
    size_t max, char **datap, size_t *lenp, size_t *totalp,
    struct error *err)
{
	return blob_read(c, "bodies", ((int64_t)folder_id << 32) | uid, max,
	    datap, lenp, totalp, err);
}

/*
 * Mark the message as having its body (which also says whether it exists)
 * and open the bodies file for writing. Outside a transaction the caller
 * gets one of its own (*ownp), so the order of the commits still holds.
 */
static int
body_put_begin(struct cache *c, int64_t folder_id, uint32_t uid, bool *ownp,
    struct error *err)
{
	sqlite3_stmt	*st;

	*ownp = false;
	if (!c->in_tx) {
		if (cache_begin(c, err) == -1)
			return -1;
		*ownp = true;
	}
	if ((st = cache_stmt(c, ST_MSG_HAS_BODY, err)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	if (cache_step_done(c, st, err, "saving a message body") == -1)
		goto fail;
	if (sqlite3_changes(c->db) == 0) {
		error_set(err, ERR_LOCAL, "cache: no message with UID %u", uid);
		goto fail;
	}
	/* The whole body is here: its head is not wanted any more. */
	if (cache_bodies_write(c, err) == -1 || head_drop(c,
	    ((int64_t)folder_id << 32) | uid, ((int64_t)folder_id << 32) | uid,
	    err) == -1)
		goto fail;
	return 0;
fail:
	if (*ownp)
		cache_rollback(c);
	return -1;
}

static int
body_put_end(struct cache *c, bool own, int rv, struct error *err)
{
	if (!own)
		return rv;
	if (rv == -1) {
		cache_rollback(c);
		return -1;
	}
	return cache_commit(c, err);
}

int
cache_body_put(struct cache *c, int64_t folder_id, uint32_t uid,
    const void *data, size_t len, struct error *err)
{
	sqlite3_stmt	*st;
	bool		 own;
	int		 rv = -1;

	if (body_put_begin(c, folder_id, uid, &own, err) == -1)
		return -1;
	if ((st = bodies_stmt(c, BST_PUT, err)) != NULL) {
		/* New bytes: the text made from the old ones goes. */
		if (cache_text_todo(c, ((int64_t)folder_id << 32) | uid,
		    err) == -1)
			return body_put_end(c, own, -1, err);
		sqlite3_bind_int64(st, 1, ((int64_t)folder_id << 32) | uid);
		sqlite3_bind_blob64(st, 2, data, len, SQLITE_STATIC);
		rv = bodies_step_done(c, st, err, "saving a message body");
	}
	return body_put_end(c, own, rv, err);
}

static int
body_copy_file(struct cache *c, int64_t id, FILE *f, uint64_t len,
    struct error *err)
{
	sqlite3_stmt	*st;
	sqlite3_blob	*blob;
	uint64_t	 off = 0;
	char		 chunk[65536];
	size_t		 n;

	if ((st = bodies_stmt(c, BST_ZERO, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)len);
	if (bodies_step_done(c, st, err, "saving a message body") == -1)
		return -1;
	if (sqlite3_blob_open(c->bdb, "main", "bodies", "raw", id, 1, &blob) !=
	    SQLITE_OK)
		return bodies_error(c, err, "saving a message body");
	rewind(f);
	while (off < len) {
		n = fread(chunk, 1, sizeof chunk, f);
		if (n == 0)
			break;
		if (n > len - off)
			n = (size_t)(len - off);
		if (sqlite3_blob_write(blob, chunk, (int)n, (int)off) !=
		    SQLITE_OK) {
			bodies_error(c, err, "saving a message body");
			sqlite3_blob_close(blob);
			return -1;
		}
		off += n;
	}
	sqlite3_blob_close(blob);
	if (off != len)
		return error_set(err, ERR_LOCAL, "cache: message body ended "
		    "after %llu of %llu bytes", (unsigned long long)off,
		    (unsigned long long)len);
	return 0;
}

int
cache_body_put_file(struct cache *c, int64_t folder_id, uint32_t uid, FILE *f,
    uint64_t len, struct error *err)
{
	bool	own;
	int	rv;

	if (len > 1000000000)
		return error_set(err, ERR_LOCAL, "cache: message of %llu bytes "
		    "is too big to store", (unsigned long long)len);
	if (body_put_begin(c, folder_id, uid, &own, err) == -1)
		return -1;
	if (cache_text_todo(c, ((int64_t)folder_id << 32) | uid, err) == -1)
		return body_put_end(c, own, -1, err);
	rv = body_copy_file(c, ((int64_t)folder_id << 32) | uid, f, len, err);
	return body_put_end(c, own, rv, err);
}

int
cache_head_put(struct cache *c, int64_t folder_id, uint32_t uid,
    const void *data, size_t len, struct error *err)
{
	sqlite3_stmt	*st;
	bool		 own = false;
	int		 rv = -1;

	/* In a transaction of the main file, as every write of this one. */
	if (!c->in_tx) {
		if (cache_begin(c, err) == -1)
			return -1;
		own = true;
	}
	if (cache_bodies_write(c, err) == 0 &&
	    (st = bodies_stmt(c, BST_HEAD_CLEAR, err)) != NULL &&
	    bodies_step_done(c, st, err, "saving a message's head") == 0 &&
	    (st = bodies_stmt(c, BST_HEAD_PUT, err)) != NULL) {
		sqlite3_bind_int64(st, 1, ((int64_t)folder_id << 32) | uid);
		sqlite3_bind_blob64(st, 2, data, len, SQLITE_STATIC);
		rv = bodies_step_done(c, st, err, "saving a message's head");
	}
	return body_put_end(c, own, rv, err);
}

int
cache_head_get(struct cache *c, int64_t folder_id, uint32_t uid,
    char **datap, size_t *lenp, struct error *err)
{
	return blob_read(c, "heads", ((int64_t)folder_id << 32) | uid,
	    SIZE_MAX, datap, lenp, NULL, err);
}
