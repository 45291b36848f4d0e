/* Message rows: headers for the index, flags, expunges. */
#include <stdlib.h>
#include <string.h>

#include "cache-private.h"

int
cache_msg_put(struct cache *c, const struct cache_msg *m, struct error *err)
{
	sqlite3_stmt	*st;
	uint32_t	 flags = m->flags;
	char		*kw = NULL;
	int		 rv;

	/* A local flag change still pending wins over the server's flags. */
	if (c->has_pending && cache_pending_merge(c, m->folder_id, m->uid,
	    &flags, m->keywords, &kw, err) == -1)
		return -1;
	if ((st = cache_stmt(c, ST_MSG_PUT, err)) == NULL) {
		free(kw);
		return -1;
	}
	sqlite3_bind_int64(st, 1, m->folder_id);
	sqlite3_bind_int64(st, 2, m->uid);
	sqlite3_bind_int64(st, 3, flags);
	cache_bind_text(st, 4, c->has_pending ? kw : m->keywords);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)m->modseq);
	sqlite3_bind_int64(st, 6, m->internaldate);
	sqlite3_bind_int64(st, 7, m->size);
	sqlite3_bind_int64(st, 8, m->date);
	sqlite3_bind_int(st, 9, m->date_tz);
	cache_bind_text(st, 10, m->from);
	cache_bind_text(st, 11, m->to);
	cache_bind_text(st, 12, m->cc);
	cache_bind_text(st, 13, m->subject);
	cache_bind_text(st, 14, m->message_id);
	cache_bind_text(st, 15, m->in_reply_to);
	cache_bind_text(st, 16, m->references);
	cache_bind_text(st, 17, m->bodystructure);
	rv = cache_step_done(c, st, err, "saving a message");
	free(kw);
	return rv;
}

int
cache_msg_set_flags(struct cache *c, int64_t folder_id, uint32_t uid,
    uint32_t flags, const char *keywords, uint64_t modseq, struct error *err)
{
	sqlite3_stmt	*st;
	char		*kw = NULL;
	int		 rv;

	if (c->has_pending) {
		if (cache_pending_merge(c, folder_id, uid, &flags, keywords, &kw,
		    err) == -1)
			return -1;
		keywords = kw;
	}
	if ((st = cache_stmt(c, ST_MSG_FLAGS, err)) == NULL) {
		free(kw);
		return -1;
	}
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, flags);
	cache_bind_text(st, 4, keywords);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)modseq);
	rv = cache_step_done(c, st, err, "saving flags");
	free(kw);
	return rv;
}

int
cache_msg_delete(struct cache *c, int64_t folder_id, uint32_t uid,
    struct error *err)
{
	sqlite3_stmt	*st;

	int64_t		 id = (folder_id << 32) | uid;

	if (cache_bodies_delete(c, id, id, err) == -1 ||
	    (st = cache_stmt(c, ST_MSG_DELETE, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	return cache_step_done(c, st, err, "deleting a message");
}

void
cache_msg_from_row(sqlite3_stmt *st, struct cache_msg *m)
{
	memset(m, 0, sizeof *m);
	m->id = sqlite3_column_int64(st, 0);
	m->folder_id = sqlite3_column_int64(st, 1);
	m->uid = (uint32_t)sqlite3_column_int64(st, 2);
	m->flags = (uint32_t)sqlite3_column_int64(st, 3);
	m->keywords = cache_col_text(st, 4);
	m->modseq = (uint64_t)sqlite3_column_int64(st, 5);
	m->internaldate = sqlite3_column_int64(st, 6);
	m->size = sqlite3_column_int64(st, 7);
	m->date = sqlite3_column_int64(st, 8);
	m->date_tz = sqlite3_column_int(st, 9);
	m->from = cache_col_text(st, 10);
	m->to = cache_col_text(st, 11);
	m->cc = cache_col_text(st, 12);
	m->subject = cache_col_text(st, 13);
	m->message_id = cache_col_text(st, 14);
	m->in_reply_to = cache_col_text(st, 15);
	m->references = cache_col_text(st, 16);
	m->bodystructure = cache_col_text(st, 17);
	m->has_body = sqlite3_column_int(st, 18) != 0;
	m->hidden = sqlite3_column_int(st, 19) != 0;
	m->thread_path = cache_col_text(st, 20);
	m->thread_gap = sqlite3_column_int(st, 21) != 0;
}

int
cache_msg_get(struct cache *c, int64_t folder_id, uint32_t uid,
    struct cache_msg *m, struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = cache_stmt(c, ST_MSG_GET, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cache_msg_from_row(st, m);
		cache_keep_reset(c);
		m->keywords = cache_keep(c, m->keywords);
		m->from = cache_keep(c, m->from);
		m->to = cache_keep(c, m->to);
		m->cc = cache_keep(c, m->cc);
		m->subject = cache_keep(c, m->subject);
		m->message_id = cache_keep(c, m->message_id);
		m->in_reply_to = cache_keep(c, m->in_reply_to);
		m->references = cache_keep(c, m->references);
		m->bodystructure = cache_keep(c, m->bodystructure);
		m->thread_path = cache_keep(c, m->thread_path);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "reading a message");
	return 0;
}

int
cache_msg_foreach(struct cache *c, int64_t folder_id, enum cache_order order,
    int64_t offset, int64_t limit, cache_msg_cb cb, void *arg,
    struct error *err)
{
	static const char *orders[] = {
		[CACHE_ORDER_DATE_DESC] = "date DESC, uid DESC",
		[CACHE_ORDER_DATE_ASC] = "date ASC, uid ASC",
		[CACHE_ORDER_UID_ASC] = "uid ASC",
		[CACHE_ORDER_UID_DESC] = "uid DESC",
	};
	struct cache_msg	 m;
	sqlite3_stmt		*st;
	char			*sql;
	int			 rc, stop = 0;

	sql = sqlite3_mprintf("SELECT " MSG_COLUMNS " FROM messages "
	    "WHERE folder_id = ?1 AND hidden = 0 ORDER BY %s LIMIT ?2 "
	    "OFFSET ?3", orders[order]);
	rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return cache_db_error(c, err, "listing messages");
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		cache_msg_from_row(st, &m);
		stop = cb(arg, &m);
	}
	if (!stop && rc != SQLITE_DONE) {
		cache_db_error(c, err, "listing messages");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int
uid_foreach(struct cache *c, const char *sql, int64_t folder_id,
    cache_uid_cb cb, void *arg, struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc, stop = 0;

	/* Own statement: the callback may write to the cache meanwhile. */
	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "listing UIDs");
	sqlite3_bind_int64(st, 1, folder_id);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = cb(arg, (uint32_t)sqlite3_column_int64(st, 0));
	if (!stop && rc != SQLITE_DONE) {
		cache_db_error(c, err, "listing UIDs");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int
cache_uid_foreach(struct cache *c, int64_t folder_id, cache_uid_cb cb,
    void *arg, struct error *err)
{
	/* Server UIDs only: placeholders are not the server's to expunge. */
	return uid_foreach(c, "SELECT uid FROM messages WHERE id BETWEEN "
	    "(?1 << 32) AND ((?1 << 32) | 4278190079) ORDER BY id", folder_id,
	    cb, arg, err);
}

int
cache_uid_foreach_nobody(struct cache *c, int64_t folder_id, cache_uid_cb cb,
    void *arg, struct error *err)
{
	return uid_foreach(c, "SELECT uid FROM messages m WHERE id BETWEEN "
	    "(?1 << 32) AND ((?1 << 32) | 4278190079) "
	    "AND has_body = 0 "
	    "ORDER BY id", folder_id, cb, arg, err);
}

int
cache_msg_delete_range(struct cache *c, int64_t folder_id, uint32_t first,
    uint32_t last, uint64_t *countp, struct error *err)
{
	sqlite3_stmt	*st;

	if (cache_bodies_delete(c, (folder_id << 32) | first,
	    (folder_id << 32) | last, err) == -1 ||
	    (st = cache_stmt(c, ST_MSG_DELETE_RANGE, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, first);
	sqlite3_bind_int64(st, 3, last);
	if (cache_step_done(c, st, err, "deleting messages") == -1)
		return -1;
	if (countp != NULL)
		*countp = (uint64_t)sqlite3_changes(c->db);
	return 0;
}

int
cache_msg_set_bodystructure(struct cache *c, int64_t folder_id, uint32_t uid,
    const char *bodystructure, struct error *err)
{
	sqlite3_stmt	*st;

	if ((st = cache_stmt(c, ST_MSG_BODYSTRUCTURE, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	cache_bind_text(st, 3, bodystructure);
	return cache_step_done(c, st, err, "saving a body structure");
}

static int64_t
cache_folder_scalar(struct cache *c, enum cache_stmt id, int64_t folder_id)
{
	sqlite3_stmt	*st;
	int64_t		 v = 0;

	if ((st = cache_stmt(c, id, NULL)) == NULL)
		return 0;
	sqlite3_bind_int64(st, 1, folder_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int64_t
cache_msg_count(struct cache *c, int64_t folder_id)
{
	return cache_folder_scalar(c, ST_MSG_COUNT, folder_id);
}

uint32_t
cache_msg_max_uid(struct cache *c, int64_t folder_id)
{
	return (uint32_t)cache_folder_scalar(c, ST_MSG_MAXUID, folder_id);
}
