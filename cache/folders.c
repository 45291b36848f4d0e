/* Folder rows and their sync markers. */
#include <string.h>

#include "cache-private.h"

static void
folder_from_row(sqlite3_stmt *st, struct cache_folder *f)
{
	const char	*delim;

	memset(f, 0, sizeof *f);
	f->id = sqlite3_column_int64(st, 0);
	f->name = cache_col_text(st, 1);
	f->remote = cache_col_text(st, 2);
	delim = cache_col_text(st, 3);
	f->delim = delim != NULL ? delim[0] : '\0';
	f->special_use = cache_col_text(st, 4);
	f->attributes = cache_col_text(st, 5);
	f->subscribed = sqlite3_column_int(st, 6) != 0;
	f->noselect = sqlite3_column_int(st, 7) != 0;
	f->uidvalidity = (uint32_t)sqlite3_column_int64(st, 8);
	f->uidnext = (uint32_t)sqlite3_column_int64(st, 9);
	f->highestmodseq = (uint64_t)sqlite3_column_int64(st, 10);
	f->synced_uid = (uint32_t)sqlite3_column_int64(st, 11);
	f->complete = sqlite3_column_int(st, 12) != 0;
	f->last_sync = sqlite3_column_int64(st, 13);
	f->messages = (uint32_t)sqlite3_column_int64(st, 14);
	f->total = sqlite3_column_int64(st, 15);
	f->unseen = sqlite3_column_int64(st, 16);
}

int
cache_folder_get(struct cache *c, const char *name, struct cache_folder *f,
    struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = cache_stmt(c, ST_FOLDER_GET, err)) == NULL)
		return -1;
	cache_bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* Copy the strings and let go of the row at once, so no read
		 * transaction stays open between calls. */
		folder_from_row(st, f);
		cache_keep_reset(c);
		f->name = cache_keep(c, f->name);
		f->remote = cache_keep(c, f->remote);
		f->special_use = cache_keep(c, f->special_use);
		f->attributes = cache_keep(c, f->attributes);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "reading a folder");
	return 0;
}

static void
folder_bind(sqlite3_stmt *st, const struct cache_folder *f, char delim[2])
{
	delim[0] = f->delim;
	delim[1] = '\0';
	cache_bind_text(st, 2, f->remote);
	cache_bind_text(st, 3, f->delim != '\0' ? delim : NULL);
	cache_bind_text(st, 4, f->special_use);
	cache_bind_text(st, 5, f->attributes);
	sqlite3_bind_int(st, 6, f->subscribed);
	sqlite3_bind_int(st, 7, f->noselect);
}

int
cache_folder_put(struct cache *c, const struct cache_folder *f, int64_t *idp,
    struct error *err)
{
	struct cache_folder	 old;
	sqlite3_stmt		*st;
	char			 delim[2];
	int64_t			 id;
	int			 found;

	if ((found = cache_folder_get(c, f->name, &old, err)) == -1)
		return -1;
	if (found) {
		id = old.id;
		if ((st = cache_stmt(c, ST_FOLDER_UPDATE, err)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, id);
	} else {
		if ((st = cache_stmt(c, ST_FOLDER_INSERT, err)) == NULL)
			return -1;
		cache_bind_text(st, 1, f->name);
	}
	folder_bind(st, f, delim);
	if (cache_step_done(c, st, err, "saving a folder") == -1)
		return -1;
	if (!found)
		id = sqlite3_last_insert_rowid(c->db);
	if (idp != NULL)
		*idp = id;
	return 0;
}

int
cache_folder_foreach(struct cache *c, bool counts, cache_folder_cb cb,
    void *arg, struct error *err)
{
	struct cache_folder	 f;
	sqlite3_stmt		*st;
	int			 rc, stop = 0;

	/* Counts in one pass over messages rather than two subqueries per folder. */
	if (sqlite3_prepare_v2(c->db, counts ?
	    "SELECT " FOLDER_COLUMNS ", "
	    "COALESCE(n.total, 0), COALESCE(n.unseen, 0) FROM folders f "
	    "LEFT JOIN (SELECT folder_id, COUNT(*) AS total, "
	    "SUM((flags & 1) = 0) AS unseen FROM messages WHERE hidden = 0 "
	    "GROUP BY folder_id) n "
	    "ON n.folder_id = f.id ORDER BY f.name <> 'INBOX', f.name" :
	    "SELECT " FOLDER_COLUMNS ", -1, -1 FROM folders f "
	    "ORDER BY f.name <> 'INBOX', f.name",
	    -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "listing folders");
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		folder_from_row(st, &f);
		stop = cb(arg, &f);
	}
	if (!stop && rc != SQLITE_DONE) {
		cache_db_error(c, err, "listing folders");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int
cache_folder_delete(struct cache *c, int64_t id, struct error *err)
{
	sqlite3_stmt	*st;

	if (cache_bodies_delete(c, id << 32, (id << 32) | 0xffffffff,
	    err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM folders WHERE id = ?1", -1,
	    &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "deleting a folder");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		cache_db_error(c, err, "deleting a folder");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

int
cache_folder_set_sync(struct cache *c, int64_t id, const struct cache_folder *f,
    struct error *err)
{
	sqlite3_stmt	*st;

	if ((st = cache_stmt(c, ST_FOLDER_SET_SYNC, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, f->uidvalidity);
	sqlite3_bind_int64(st, 3, f->uidnext);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)f->highestmodseq);
	sqlite3_bind_int64(st, 5, f->synced_uid);
	sqlite3_bind_int(st, 6, f->complete);
	sqlite3_bind_int64(st, 7, f->last_sync);
	sqlite3_bind_int64(st, 8, f->messages);
	return cache_step_done(c, st, err, "saving the sync state");
}

int
cache_folder_reset(struct cache *c, int64_t id, uint32_t uidvalidity,
    struct error *err)
{
	struct cache_folder	 f;
	sqlite3_stmt		*st;

	if (cache_bodies_delete(c, id << 32, (id << 32) | 0xffffffff,
	    err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM messages WHERE folder_id = ?1",
	    -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "resetting a folder");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		cache_db_error(c, err, "resetting a folder");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	/* Pending actions lose their UIDs, keeping Message-IDs to be
	 * retargeted by (cache_pending_retarget). */
	if (sqlite3_prepare_v2(c->db, "UPDATE pending SET uid = 0 WHERE "
	    "folder_id = ?1", -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "resetting a folder");
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		cache_db_error(c, err, "resetting a folder");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	memset(&f, 0, sizeof f);
	f.uidvalidity = uidvalidity;
	return cache_folder_set_sync(c, id, &f, err);
}
