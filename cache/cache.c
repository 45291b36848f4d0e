/* Opening the cache, prepared statements, transactions, meta values. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache-private.h"
#include "log.h"
#include "xmalloc.h"

/* SQL of each prepared statement, indexed by enum cache_stmt. */
static const char *stmt_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[ST_META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2) "
	    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[ST_FOLDER_INSERT] = "INSERT INTO folders(name, remote, delim, "
	    "special_use, attributes, subscribed, noselect) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_FOLDER_UPDATE] = "UPDATE folders SET remote = ?2, delim = ?3, "
	    "special_use = ?4, attributes = ?5, subscribed = ?6, noselect = ?7 "
	    "WHERE id = ?1",
	[ST_FOLDER_GET] = "SELECT " FOLDER_COLUMNS ", -1, -1 FROM folders f "
	    "WHERE name = ?1",
	[ST_FOLDER_SET_SYNC] = "UPDATE folders SET uidvalidity = ?2, "
	    "uidnext = ?3, highestmodseq = ?4, synced_uid = ?5, complete = ?6, "
	    "last_sync = ?7, messages = ?8 WHERE id = ?1",
	[ST_MSG_PUT] = "INSERT INTO messages(id, folder_id, uid, flags, keywords, "
	    "modseq, internaldate, size, date, date_tz, from_addr, to_addr, "
	    "cc_addr, subject, message_id, in_reply_to, refs, bodystructure) "
	    "VALUES(" MSG_ID ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	    "?12, ?13, ?14, ?15, ?16, ?17) ON CONFLICT(id) DO UPDATE SET "
	    "flags = excluded.flags, keywords = excluded.keywords, "
	    "modseq = excluded.modseq, internaldate = excluded.internaldate, "
	    "size = excluded.size, date = excluded.date, "
	    "date_tz = excluded.date_tz, from_addr = excluded.from_addr, "
	    "to_addr = excluded.to_addr, cc_addr = excluded.cc_addr, "
	    "subject = excluded.subject, message_id = excluded.message_id, "
	    "in_reply_to = excluded.in_reply_to, refs = excluded.refs, "
	    "bodystructure = excluded.bodystructure",
	[ST_MSG_FLAGS] = "UPDATE messages SET flags = ?3, keywords = ?4, "
	    "modseq = ?5 WHERE id = " MSG_ID,
	[ST_MSG_DELETE] = "DELETE FROM messages WHERE id = " MSG_ID,
	[ST_MSG_DELETE_RANGE] = "DELETE FROM messages WHERE id BETWEEN "
	    MSG_ID " AND ((?1 << 32) | ?3)",
	[ST_MSG_BODYSTRUCTURE] = "UPDATE messages SET bodystructure = ?3 "
	    "WHERE id = " MSG_ID,
	[ST_MSG_GET] = "SELECT id, folder_id, uid, flags, keywords, modseq, "
	    "internaldate, size, date, date_tz, from_addr, to_addr, cc_addr, "
	    "subject, message_id, in_reply_to, refs, bodystructure, has_body, "
	    "hidden FROM messages WHERE id = " MSG_ID,
	/* Server UIDs only: placeholders sit at CACHE_LOCAL_UID_MIN and up. */
	/* By the date index (covering), a tenth of the table's pages. */
	[ST_MSG_COUNT] = "SELECT COUNT(*) FROM messages WHERE folder_id = ?1 "
	    "AND uid < 4278190080",
	[ST_MSG_MAXUID] = "SELECT MAX(id) & 4294967295 FROM messages WHERE id "
	    "BETWEEN (?1 << 32) AND ((?1 << 32) | 4278190079)",
	[ST_MSG_HAS_BODY] = "UPDATE messages SET has_body = 1 WHERE id = "
	    MSG_ID,
	[ST_PENDING_ANY] = "SELECT EXISTS (SELECT 1 FROM pending)",
	[ST_PENDING_FLAGS_OF] = "SELECT op, flags, keywords FROM pending "
	    "WHERE folder_id = ?1 AND uid = ?2 AND op IN (1, 2) ORDER BY id",
	[ST_PENDING_ADD] = "INSERT INTO pending(folder_id, uid, op, flags, "
	    "keywords, dest_id, dest_uid, message_id, created) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_PENDING_DELETE] = "DELETE FROM pending WHERE id = ?1",
	[ST_PENDING_ATTEMPT] = "UPDATE pending SET attempts = attempts + 1 "
	    "WHERE id = ?1",
	[ST_MSG_HIDE] = "UPDATE messages SET hidden = ?3 WHERE id = " MSG_ID,
};

int
cache_db_error(struct cache *c, struct error *err, const char *what)
{
	return cache_sqlite_error(c->db, c->path, err, what);
}

int
cache_sqlite_error(sqlite3 *db, const char *path, struct error *err,
    const char *what)
{
	int	saved = errno;
	int	code = sqlite3_errcode(db);
	int	sys = sqlite3_system_errno(db);

	/*
	 * SQLite keeps the OS error only for some failures; for a failed
	 * write the errno of that write is still current here.
	 */
	if (sys == 0 && code == SQLITE_IOERR)
		sys = saved;

	if (code == SQLITE_FULL)
		return error_set(err, ERR_LOCAL, "cache %s: %s: disk full",
		    path, what);
	/* A write refused for lack of room comes back as an I/O error. */
	if (code == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT ||
	    sys == EFBIG))
		return error_set(err, ERR_LOCAL, "cache %s: %s: disk full (%s)",
		    path, what, strerror(sys));
	return error_set(err, ERR_LOCAL, "cache %s: %s: %s", path, what,
	    sqlite3_errmsg(db));
}

sqlite3_stmt *
cache_prepared(sqlite3 *db, const char *path, sqlite3_stmt **slot,
    const char *sql, struct error *err)
{
	sqlite3_stmt	*st = *slot;

	if (st == NULL) {
		if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT,
		    &st, NULL) != SQLITE_OK) {
			cache_sqlite_error(db, path, err, "preparing a query");
			return NULL;
		}
		*slot = st;
		return st;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

sqlite3_stmt *
cache_stmt(struct cache *c, enum cache_stmt id, struct error *err)
{
	return cache_prepared(c->db, c->path, &c->stmts[id], stmt_sql[id], err);
}

int
cache_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

void
cache_keep_reset(struct cache *c)
{
	while (c->nkept > 0)
		free(c->kept[--c->nkept]);
}

const char *
cache_keep(struct cache *c, const char *s)
{
	if (s == NULL)
		return NULL;
	if (c->nkept == (int)(sizeof c->kept / sizeof c->kept[0]))
		fatalx("%s: too many kept strings", __func__);
	return c->kept[c->nkept++] = xstrdup(s);
}

const char *
cache_col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

static int
cache_exec(struct cache *c, const char *sql, struct error *err)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return cache_db_error(c, err, sql);
	return 0;
}

/* The bodies file beside the cache: ACCOUNT.db -> ACCOUNT.bodies.db. */
static char *
bodies_path(const char *path)
{
	size_t	 len = strlen(path);
	char	*p;

	if (len > 3 && strcmp(path + len - 3, ".db") == 0)
		xasprintf(&p, "%.*s.bodies.db", (int)(len - 3), path);
	else
		xasprintf(&p, "%s.bodies", path);
	return p;
}

/*
 * Before SQLite's first use: no memory statistics. Keeping them takes a
 * global mutex around every sqlite3_malloc() and sqlite3_free(), which
 * the sync's writer threads pay for on every row.
 */
static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*
 * Wait for a lock another connection holds: retry every millisecond for up
 * to CACHE_BUSY_MS. SQLite's own busy_timeout sleeps 1, 2, 5, 10 ... 100 ms
 * between tries, so a writer queued behind a sync (whose store thread takes
 * the lock again right after each short commit) kept missing the gaps and
 * waited 80 ms where the lock was never held for more than 10 ms at a time.
 */
#define CACHE_BUSY_MS	10000

static int
cache_busy(void *arg, int count)
{
	struct timespec	ts = { 0, 1000000 };

	(void)arg;
	if (count >= CACHE_BUSY_MS)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

int
cache_sqlite_open(const char *path, bool readonly, sqlite3 **dbp,
    struct error *err)
{
	static pthread_once_t	 once = PTHREAD_ONCE_INIT;
	int			 fd, oflags = SQLITE_OPEN_READONLY;

	pthread_once(&once, sqlite_setup);
	*dbp = NULL;
	/*
	 * Create the file ourselves so it is 0600 from the first byte; SQLite
	 * gives its -wal, -shm and -journal files the same mode. Only when it
	 * is new (O_EXCL): closing a descriptor of a file drops every POSIX
	 * lock this process holds on it, those of its open SQLite connections
	 * too (the TUI's, while a session opens its own), and a connection
	 * that lost its lock lets another process delete the WAL under it and
	 * then never sees that process's commits again.
	 */
	if (!readonly) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		    0600)) != -1)
			close(fd);
		else if (errno != EEXIST)
			return error_set(err, ERR_LOCAL, "cannot open cache %s: %s",
			    path, strerror(errno));
		oflags = SQLITE_OPEN_READWRITE;
	}
	if (sqlite3_open_v2(path, dbp, oflags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (*dbp == NULL)
			error_set(err, ERR_LOCAL, "cannot open cache %s", path);
		else
			cache_sqlite_error(*dbp, path, err, "opening");
		sqlite3_close(*dbp);
		*dbp = NULL;
		return -1;
	}
	sqlite3_busy_handler(*dbp, cache_busy, NULL);
	cache_sql_functions(*dbp);
	sqlite3_extended_result_codes(*dbp, 0);
	return 0;
}

int
cache_open_path(const char *path, int flags, struct cache **cp,
    struct error *err)
{
	struct cache	*c;

	*cp = NULL;
	c = xcalloc(1, sizeof *c);
	c->path = xstrdup(path);
	c->bpath = bodies_path(path);
	c->flags = flags;
	if (cache_sqlite_open(path, flags & CACHE_READONLY, &c->db, err) == -1) {
		cache_close(&c);
		return -1;
	}
	/*
	 * 16 KB pages (only takes effect while the file is new): a sync of
	 * 100,000 headers writes a quarter of the pages.
	 */
	if (!(flags & CACHE_READONLY) &&
	    (cache_exec(c, "PRAGMA page_size = 16384", err) == -1 ||
	    cache_exec(c, "PRAGMA journal_mode = WAL", err) == -1))
		goto fail;
	if (cache_exec(c, (flags & CACHE_DURABLE) ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
	    err) == -1 ||
	    cache_exec(c, "PRAGMA foreign_keys = ON", err) == -1 ||
	    cache_exec(c, "PRAGMA temp_store = MEMORY", err) == -1 ||
	    cache_migrate(c, err) == -1)
		goto fail;
	*cp = c;
	return 0;
fail:
	cache_close(&c);
	return -1;
}

int
cache_open(const char *account, int flags, struct cache **cp,
    struct error *err)
{
	char	*dir, *path;
	int	 rv;

	if (strchr(account, '/') != NULL || account[0] == '.' ||
	    account[0] == '\0')
		return error_set(err, ERR_CONFIG, "account name \"%s\" cannot "
		    "name a cache file", account);
	if ((dir = path_cache_dir(err)) == NULL)
		return -1;
	xasprintf(&path, "%s/%s.db", dir, account);
	free(dir);
	if ((flags & CACHE_READONLY) && access(path, F_OK) == -1) {
		error_set(err, ERR_LOCAL, "no cache for account %s yet (%s): "
		    "run petrel sync first", account, path);
		free(path);
		return -1;
	}
	rv = cache_open_path(path, flags, cp, err);
	free(path);
	return rv;
}

void
cache_close(struct cache **cp)
{
	struct cache	*c = *cp;
	int		 i;

	if (c == NULL)
		return;
	if (c->in_tx)
		cache_rollback(c);
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmts[i]);
	cache_keep_reset(c);
	cache_bodies_close(c);
	if (c->db != NULL)
		sqlite3_close(c->db);
	free(c->bpath);
	free(c->path);
	free(c);
	*cp = NULL;
}

const char *
cache_path(const struct cache *c)
{
	return c->path;
}

int
cache_sqlite_step_done(sqlite3 *db, const char *path, sqlite3_stmt *st,
    struct error *err, const char *what)
{
	int	rc = sqlite3_step(st);

	/* Describe the error before the reset, which clears the OS errno. */
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		cache_sqlite_error(db, path, err, what);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
cache_step_done(struct cache *c, sqlite3_stmt *st, struct error *err,
    const char *what)
{
	return cache_sqlite_step_done(c->db, c->path, st, err, what);
}

void
cache_bulk(struct cache *c, bool on)
{
	sqlite3_exec(c->db, on ? "PRAGMA foreign_keys = OFF" :
	    "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
}

int
cache_begin(struct cache *c, struct error *err)
{
	sqlite3_stmt	*st;

	if ((st = cache_stmt(c, ST_BEGIN, err)) == NULL ||
	    cache_step_done(c, st, err, "starting a transaction") == -1)
		return -1;
	c->in_tx = 1;
	/* BEGIN IMMEDIATE holds the write lock: nobody adds rows meanwhile. */
	c->has_pending = false;
	if ((st = cache_stmt(c, ST_PENDING_ANY, err)) == NULL) {
		cache_rollback(c);
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		c->has_pending = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return 0;
}

int
cache_commit(struct cache *c, struct error *err)
{
	sqlite3_stmt	*st;

	/* Bodies first: nothing may point at a body before it is durable. */
	if (cache_bodies_commit(c, err) == -1) {
		cache_rollback(c);
		return -1;
	}
	if ((st = cache_stmt(c, ST_COMMIT, err)) == NULL ||
	    cache_step_done(c, st, err, "committing") == -1) {
		cache_rollback(c);
		return -1;
	}
	c->in_tx = 0;
	return 0;
}

void
cache_rollback(struct cache *c)
{
	cache_bodies_rollback(c);
	if (sqlite3_get_autocommit(c->db) == 0)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	c->in_tx = 0;
}

int
cache_read_begin(struct cache *c, struct error *err)
{
	if (c->in_tx)
		return error_set(err, ERR_LOCAL, "a transaction is open");
	if (sqlite3_exec(c->db, "BEGIN DEFERRED", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return cache_db_error(c, err, "starting a read");
	return 0;
}

void
cache_read_end(struct cache *c)
{
	/* Nothing was written: ending it cannot lose anything. */
	if (!c->in_tx && sqlite3_get_autocommit(c->db) == 0)
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
}

/* Steps of SQLite's virtual machine between two calls: about 50 us. */
#define GIVE_WAY_STEPS	2000

void
cache_set_give_way(struct cache *c, int (*fn)(void *), void *arg)
{
	sqlite3_progress_handler(c->db, fn != NULL ? GIVE_WAY_STEPS : 0, fn,
	    arg);
}

char *
cache_meta_get(struct cache *c, const char *key)
{
	sqlite3_stmt	*st;
	char		*v = NULL;

	if ((st = cache_stmt(c, ST_META_GET, NULL)) == NULL)
		return NULL;
	cache_bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW && cache_col_text(st, 0) != NULL)
		v = xstrdup(cache_col_text(st, 0));
	sqlite3_reset(st);
	return v;
}

int
cache_meta_set(struct cache *c, const char *key, const char *value,
    struct error *err)
{
	sqlite3_stmt	*st;

	if ((st = cache_stmt(c, ST_META_SET, err)) == NULL)
		return -1;
	cache_bind_text(st, 1, key);
	cache_bind_text(st, 2, value);
	return cache_step_done(c, st, err, "saving a setting");
}
