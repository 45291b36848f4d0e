/* Internals of the cache module, shared by its files only. */
#ifndef PETREL_CACHE_PRIVATE_H
#define PETREL_CACHE_PRIVATE_H

#include <sqlite3.h>

#include "cache.h"

/* Prepared statements, made on first use and kept until close. */
enum cache_stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_META_GET,
	ST_META_SET,
	ST_FOLDER_INSERT,
	ST_FOLDER_UPDATE,
	ST_FOLDER_GET,
	ST_FOLDER_SET_SYNC,
	ST_MSG_PUT,
	ST_MSG_FLAGS,
	ST_MSG_DELETE,
	ST_MSG_DELETE_RANGE,
	ST_MSG_BODYSTRUCTURE,
	ST_MSG_GET,
	ST_MSG_COUNT,
	ST_MSG_MAXUID,
	ST_MSG_HAS_BODY,
	ST_PENDING_ANY,
	ST_PENDING_FLAGS_OF,
	ST_PENDING_ADD,
	ST_PENDING_DELETE,
	ST_PENDING_ATTEMPT,
	ST_MSG_HIDE,
	ST_COUNT
};

/* Statements on the bodies file (bodies.c). */
enum cache_bodies_stmt {
	BST_BEGIN,
	BST_COMMIT,
	BST_PUT,
	BST_ZERO,
	BST_DELETE,
	BST_HEAD_CLEAR,
	BST_HEAD_PUT,
	BST_HEAD_DROP,
	BST_COUNT
};

struct cache {
	sqlite3		*db;
	char		*path;
	int		 flags;
	int		 in_tx;
	/* The open transaction began with rows in pending: merge them under
	 * the flags a sync writes (pending.c). */
	bool		 has_pending;
	bool		 temp_tables;	/* cache_tags_ensure() ran */
	sqlite3_stmt	*stmts[ST_COUNT];
	/* The bodies file (see bodies.c), opened on first use. */
	sqlite3		*bdb;
	char		*bpath;
	int		 b_in_tx;
	sqlite3_stmt	*bstmts[BST_COUNT];
	/* The text index in it (text.c). */
	bool		 text_table;	/* body_text exists */
	bool		 text_temp;	/* temp.text_hits made */
	int64_t		 text_writes;	/* this connection's changes to it */
	/* Copies of the strings handed out by the last cache_*_get(). */
	char		*kept[32];
	int		 nkept;
};

/* A message's rowid from ?1 (folder id) and ?2 (UID); see migrate.c. */
#define MSG_ID "((?1 << 32) | ?2)"

/* Folder columns in the order folder_from_row() reads them. */
#define FOLDER_COLUMNS "f.id, f.name, f.remote, f.delim, f.special_use, " \
	"f.attributes, f.subscribed, f.noselect, f.uidvalidity, f.uidnext, " \
	"f.highestmodseq, f.synced_uid, f.complete, f.last_sync, f.messages"

/* The statement for id, reset and with bindings cleared; NULL with err set. */
sqlite3_stmt	*cache_stmt(struct cache *, enum cache_stmt, struct error *err);
/* The same for any connection: prepared into *slot on first use. */
sqlite3_stmt	*cache_prepared(sqlite3 *, const char *path, sqlite3_stmt **slot,
		     const char *sql, struct error *err);
/* Create (0600, unless readonly) and open a database file of the cache. */
int		 cache_sqlite_open(const char *path, bool readonly, sqlite3 **,
		     struct error *err);
/* Fill err from the database's last error, prefixed with what was being done. */
int		 cache_db_error(struct cache *, struct error *err, const char *what);
/* The same for any connection of the cache, with its file's path. */
int		 cache_sqlite_error(sqlite3 *, const char *path, struct error *err,
		     const char *what);
/* The bodies file (bodies.c): open (1, or 0 when absent and !create). */
int		 cache_bodies_open(struct cache *, bool create, struct error *err);
void		 cache_bodies_close(struct cache *);
/* Make it writable inside the open cache transaction. */
int		 cache_bodies_write(struct cache *, struct error *err);
/* The text index (text.c): make its tables in a writable bodies file. */
int		 cache_text_setup(struct cache *, struct error *err);
/* A body was written: its text is to be made (again). */
int		 cache_text_todo(struct cache *, int64_t id, struct error *err);
/* Drop the text of message ids first..last from the index. */
int		 cache_text_forget(struct cache *, int64_t first, int64_t last,
		     struct error *err);
/*
 * Fill temp.text_hits(q, id) for each FTS query of a pattern's text terms,
 * unless it holds them as of the bodies file's current state.
 */
int		 cache_text_prepare(struct cache *, const char *const *queries, int n,
		     struct error *err);
/* Make the text hits of a pattern's ~b ~B ~h terms current (NULL: none). */
int		 cache_pattern_ready(struct cache *, const struct cache_pattern *,
		     struct error *err);
/* Commit its transaction, if one is open: before the main file's. */
int		 cache_bodies_commit(struct cache *, struct error *err);
void		 cache_bodies_rollback(struct cache *);
/* Delete the bodies of message ids first..last (before their rows). */
int		 cache_bodies_delete(struct cache *, int64_t first_id, int64_t last_id,
		     struct error *err);
/* Schema step 2 -> 3: copy the main file's bodies table over. */
int		 cache_bodies_migrate(struct cache *, struct error *err);
/*
 * Apply the pending flag changes of (folder_id, uid) on top of flags and
 * keywords from the server (pending.c); *kwp is NULL or malloc'd.
 */
int		 cache_pending_merge(struct cache *, int64_t folder_id, uint32_t uid,
		     uint32_t *flagsp, const char *keywords, char **kwp,
		     struct error *err);
/* Bring the schema up to date (migrate.c). */
int		 cache_migrate(struct cache *, struct error *err);
/* Step a statement that returns no rows (or ignore them) and reset it. */
int		 cache_step_done(struct cache *, sqlite3_stmt *, struct error *err,
		     const char *what);
int		 cache_sqlite_step_done(sqlite3 *, const char *path, sqlite3_stmt *,
		     struct error *err, const char *what);
/* Free the strings of the previous get; then copy one (NULL stays NULL). */
void		 cache_keep_reset(struct cache *);
const char	*cache_keep(struct cache *, const char *);
/* Message columns in the order cache_msg_from_row() reads them. */
#define MSG_COLUMNS "id, folder_id, uid, flags, keywords, modseq, " \
	"internaldate, size, date, date_tz, from_addr, to_addr, cc_addr, " \
	"subject, message_id, in_reply_to, refs, bodystructure, has_body, hidden, " \
	"thread_path, thread_gap"
/* A row of MSG_COLUMNS; the strings live until the statement moves on. */
void		 cache_msg_from_row(sqlite3_stmt *, struct cache_msg *);
/* Bind a string or NULL. */
int		 cache_bind_text(sqlite3_stmt *, int idx, const char *s);
/* Column as text or NULL. */
const char	*cache_col_text(sqlite3_stmt *, int col);

/* Patterns (pattern.c): a boolean expression over "messages m". */
const char	*cache_pattern_sql(const struct cache_pattern *);
/* Bind its parameters from index first; the next free index, or -1. */
int		 cache_pattern_bind(const struct cache_pattern *, sqlite3_stmt *,
		     int first);
/* The REGEXP operator (POSIX extended), for every connection. */
int		 cache_sql_functions(sqlite3 *);
/* The connection's TEMP table of tagged message ids. */
int		 cache_tags_ensure(struct cache *, struct error *err);

#endif
