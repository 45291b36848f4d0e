/* Raw message bodies, fetched on demand and kept for offline reading. */
#include <stdlib.h>
#include <string.h>

#include "cache-private.h"
#include "xmalloc.h"

static int
msg_rowid(struct cache *c, int64_t folder_id, uint32_t uid, int64_t *idp,
    struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = cache_stmt(c, ST_MSG_ID, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*idp = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return error_set(err, ERR_LOCAL, "cache: no message with UID %u",
		    uid);
	return cache_db_error(c, err, "finding a message");
}

int
cache_body_get(struct cache *c, int64_t folder_id, uint32_t uid, char **datap,
    size_t *lenp, struct error *err)
{
	sqlite3_stmt	*st;
	int		 rc;
	size_t		 len;

	*datap = NULL;
	*lenp = 0;
	if ((st = cache_stmt(c, ST_BODY_GET, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		len = (size_t)sqlite3_column_bytes(st, 0);
		*datap = xmemdup0(sqlite3_column_blob(st, 0), len);
		*lenp = len;
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(c, err, "reading a message body");
	return 0;
}

int
cache_body_put(struct cache *c, int64_t folder_id, uint32_t uid,
    const void *data, size_t len, struct error *err)
{
	sqlite3_stmt	*st;
	int64_t		 id;

	if (msg_rowid(c, folder_id, uid, &id, err) == -1 ||
	    (st = cache_stmt(c, ST_BODY_PUT, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_blob64(st, 2, data, len, SQLITE_STATIC);
	return cache_step_done(c, st, err, "saving a message body");
}

int
cache_body_put_file(struct cache *c, int64_t folder_id, uint32_t uid, FILE *f,
    uint64_t len, struct error *err)
{
	sqlite3_stmt	*st;
	sqlite3_blob	*blob;
	int64_t		 id;
	uint64_t	 off = 0;
	char		 chunk[65536];
	size_t		 n;

	if (len > 1000000000)
		return error_set(err, ERR_LOCAL, "cache: message of %llu bytes "
		    "is too big to store", (unsigned long long)len);
	if (msg_rowid(c, folder_id, uid, &id, err) == -1 ||
	    (st = cache_stmt(c, ST_BODY_ZERO, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)len);
	if (cache_step_done(c, st, err, "saving a message body") == -1)
		return -1;
	if (sqlite3_blob_open(c->db, "main", "bodies", "raw", id, 1, &blob) !=
	    SQLITE_OK)
		return cache_db_error(c, err, "saving a message body");
	rewind(f);
	while (off < len) {
		n = fread(chunk, 1, sizeof chunk, f);
		if (n == 0)
			break;
		if (n > len - off)
			n = (size_t)(len - off);
		if (sqlite3_blob_write(blob, chunk, (int)n, (int)off) != SQLITE_OK) {
			cache_db_error(c, err, "saving a message body");
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
