/*
 * The outbox: messages to send, committed before anything is sent (see
 * "Outbox" in include/cache.h). Every change is one durable commit
 * (synchronous = FULL for it), since a row here may be the only copy of
 * what the user wrote, and "sent" must be on disk before anything else
 * happens to the message.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache-private.h"
#include "xmalloc.h"

#define OUTBOX_COLUMNS "id, created, env_from, rcpts, subject, to_text, " \
	"state, attempts, next_try, last_error, sent_at, message_id, " \
	"length(message)"

/*
 * Step st (and finalize it) as a commit that survives power loss:
 * synchronous = FULL for it, the connection's own level after.
 */
static int
outbox_step_durably(struct cache *c, sqlite3_stmt *st)
{
	int	rc;

	sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (!(c->flags & CACHE_DURABLE))
		sqlite3_exec(c->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
		    NULL);
	return rc;
}

/* One statement, durably. */
static int
outbox_exec(struct cache *c, const char *sql, int64_t id, const char *text,
    int64_t n, struct error *err, const char *what)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (c->flags & CACHE_READONLY)
		return error_set(err, ERR_LOCAL, "cache %s is open read-only",
		    c->path);
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, what);
	sqlite3_bind_int64(st, 1, id);
	if (text != NULL)
		sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, n);
	rc = outbox_step_durably(c, st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, what);
	if (sqlite3_changes(c->db) == 0)
		return error_set(err, ERR_USAGE, "no message %lld in the "
		    "outbox", (long long)id);
	return 0;
}

int
cache_outbox_add(struct cache *c, const struct cache_outbox *o,
    int64_t *idp, struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (c->flags & CACHE_READONLY)
		return error_set(err, ERR_LOCAL, "cache %s is open read-only",
		    c->path);
	if (sqlite3_prepare_v2(c->db, "INSERT INTO outbox(created, env_from, "
	    "rcpts, subject, to_text, message_id, message, state) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st, NULL) !=
	    SQLITE_OK)
		return cache_db_error(c, err, "adding to the outbox");
	sqlite3_bind_int64(st, 1, o->created != 0 ? o->created :
	    (int64_t)time(NULL));
	sqlite3_bind_text(st, 2, o->env_from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->rcpts, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, o->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(st, 7, o->message, o->len, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, (int)o->state);
	rc = outbox_step_durably(c, st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "adding to the outbox");
	if (idp != NULL)
		*idp = sqlite3_last_insert_rowid(c->db);
	return 0;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}

static void
outbox_from_row(sqlite3_stmt *st, struct cache_outbox *o)
{
	memset(o, 0, sizeof *o);
	o->id = sqlite3_column_int64(st, 0);
	o->created = sqlite3_column_int64(st, 1);
	o->env_from = col_dup(st, 2);
	o->rcpts = col_dup(st, 3);
	o->subject = col_dup(st, 4);
	o->to = col_dup(st, 5);
	o->state = (enum cache_outbox_state)sqlite3_column_int(st, 6);
	o->attempts = sqlite3_column_int(st, 7);
	o->next_try = sqlite3_column_int64(st, 8);
	o->last_error = col_dup(st, 9);
	o->sent_at = sqlite3_column_int64(st, 10);
	o->message_id = col_dup(st, 11);
	o->len = (size_t)sqlite3_column_int64(st, 12);
}

int
cache_outbox_list(struct cache *c, struct cache_outbox **rowsp, size_t *np,
    struct error *err)
{
	sqlite3_stmt		*st;
	struct cache_outbox	*v = NULL;
	size_t			 n = 0, cap = 0;
	int			 rc;

	*rowsp = NULL;
	*np = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT " OUTBOX_COLUMNS " FROM outbox "
	    "ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "reading the outbox");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		outbox_from_row(st, &v[n++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cache_outbox_free(v, n);
		return cache_db_error(c, err, "reading the outbox");
	}
	*rowsp = v;
	*np = n;
	return 0;
}

int
cache_outbox_get(struct cache *c, int64_t id, struct cache_outbox *o,
    struct error *err)
{
	sqlite3_stmt	*st;
	const void	*blob;
	int		 rc;

	memset(o, 0, sizeof *o);
	if (sqlite3_prepare_v2(c->db, "SELECT " OUTBOX_COLUMNS ", message "
	    "FROM outbox WHERE id = ?1", -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "reading the outbox");
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return cache_db_error(c, err, "reading the outbox");
		return error_set(err, ERR_USAGE, "no message %lld in the "
		    "outbox", (long long)id);
	}
	outbox_from_row(st, o);
	blob = sqlite3_column_blob(st, 13);
	o->len = (size_t)sqlite3_column_bytes(st, 13);
	o->message = xmalloc(o->len + 1);
	if (o->len > 0)
		memcpy(o->message, blob, o->len);
	o->message[o->len] = '\0';
	sqlite3_finalize(st);
	return 0;
}

int
cache_outbox_state(struct cache *c, int64_t id)
{
	sqlite3_stmt	*st;
	int		 state = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT state FROM outbox WHERE id = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		state = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return state;
}

int64_t
cache_outbox_count(struct cache *c, int state)
{
	sqlite3_stmt	*st;
	int64_t		 n = 0;

	if (sqlite3_prepare_v2(c->db, state < 0 ? "SELECT COUNT(*) FROM "
	    "outbox" : "SELECT COUNT(*) FROM outbox WHERE state = ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	if (state >= 0)
		sqlite3_bind_int(st, 1, state);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int
cache_outbox_sent(struct cache *c, int64_t id, int64_t when,
    struct error *err)
{
	return outbox_exec(c, "UPDATE outbox SET state = 1, sent_at = ?3, "
	    "last_error = ?2 WHERE id = ?1", id, NULL, when, err,
	    "marking a message sent");
}

int
cache_outbox_defer(struct cache *c, int64_t id, int64_t next_try,
    const char *why, struct error *err)
{
	return outbox_exec(c, "UPDATE outbox SET attempts = attempts + 1, "
	    "next_try = ?3, last_error = ?2 WHERE id = ?1", id, why, next_try,
	    err, "keeping a message for later");
}

int
cache_outbox_hold(struct cache *c, int64_t id, const char *why,
    struct error *err)
{
	return outbox_exec(c, "UPDATE outbox SET attempts = attempts + 1, "
	    "state = CASE state WHEN 1 THEN 1 ELSE 2 END, last_error = ?2 "
	    "WHERE id = ?1", id, why, 0, err, "holding a message");
}

int
cache_outbox_note(struct cache *c, int64_t id, const char *why,
    struct error *err)
{
	return outbox_exec(c, "UPDATE outbox SET last_error = ?2 WHERE "
	    "id = ?1", id, why, 0, err, "noting an outbox error");
}

int
cache_outbox_retry(struct cache *c, int64_t id, struct error *err)
{
	return outbox_exec(c, "UPDATE outbox SET state = CASE state WHEN 2 "
	    "THEN 0 ELSE state END, next_try = 0 WHERE id = ?1", id, NULL, 0,
	    err, "retrying a message");
}

int
cache_outbox_remove(struct cache *c, int64_t id, struct error *err)
{
	return outbox_exec(c, "DELETE FROM outbox WHERE id = ?1", id, NULL, 0,
	    err, "removing a message from the outbox");
}

void
cache_outbox_clear(struct cache_outbox *o)
{
	free(o->env_from);
	free(o->rcpts);
	free(o->subject);
	free(o->to);
	free(o->last_error);
	free(o->message_id);
	free(o->message);
	memset(o, 0, sizeof *o);
}

void
cache_outbox_free(struct cache_outbox *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		cache_outbox_clear(&v[i]);
	free(v);
}

