/*
 * The POP3 table: which server messages an account already has (see
 * "POP3" in include/cache.h). The statements belong to a struct cache_pop3
 * the POP3 sync opens for its run, so the shared statement table of the
 * cache does not grow with protocol details.
 */
#include <stdlib.h>
#include <string.h>

#include "cache-private.h"
#include "xmalloc.h"

/* The rowid of message (folder ?5, UID ?4): see messages in migrate.c. */
#define MSG_ID5	"((?5 << 32) | ?4)"

enum {
	P3_ALL,
	P3_ADD,
	P3_STORED,
	P3_SERVER,
	P3_COUNT
};

static const char *p3_sql[P3_COUNT] = {
	[P3_ALL] = "SELECT id, uidl, hashed, dup, uid, size, first_seen, "
	    "stored, server, server_time, message IS NULL FROM pop3_uidl "
	    "ORDER BY id",
	[P3_ADD] = "INSERT INTO pop3_uidl(uidl, hashed, dup, uid, message, "
	    "size, first_seen, stored, server, server_time) VALUES(?1, ?2, "
	    "?3, ?4, (SELECT id FROM messages WHERE id = " MSG_ID5 "), ?6, ?7, "
	    "?8, ?9, ?10)",
	[P3_STORED] = "UPDATE pop3_uidl SET stored = 1 WHERE id = ?1",
	[P3_SERVER] = "UPDATE pop3_uidl SET server = ?2, server_time = ?3 "
	    "WHERE id = ?1",
};

struct cache_pop3 {
	struct cache	*c;
	sqlite3_stmt	*st[P3_COUNT];
};

int
cache_pop3_open(struct cache *c, struct cache_pop3 **pp, struct error *err)
{
	struct cache_pop3	*p;
	int			 i;

	*pp = NULL;
	if (c->flags & CACHE_READONLY)
		return error_set(err, ERR_LOCAL, "cache %s is open read-only",
		    c->path);
	/* A DELE follows the commit: the commit must survive power loss. */
	if (sqlite3_exec(c->db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK)
		return cache_db_error(c, err, "making commits durable");
	p = xcalloc(1, sizeof *p);
	p->c = c;
	for (i = 0; i < P3_COUNT; i++)
		if (sqlite3_prepare_v3(c->db, p3_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &p->st[i], NULL) != SQLITE_OK) {
			cache_db_error(c, err, "preparing a query");
			cache_pop3_close(&p);
			return -1;
		}
	*pp = p;
	return 0;
}

void
cache_pop3_close(struct cache_pop3 **pp)
{
	struct cache_pop3	*p = *pp;
	int			 i;

	if (p == NULL)
		return;
	for (i = 0; i < P3_COUNT; i++)
		sqlite3_finalize(p->st[i]);
	if (!(p->c->flags & CACHE_DURABLE))
		sqlite3_exec(p->c->db, "PRAGMA synchronous = NORMAL", NULL,
		    NULL, NULL);
	free(p);
	*pp = NULL;
}

static sqlite3_stmt *
p3_stmt(struct cache_pop3 *p, int id)
{
	sqlite3_reset(p->st[id]);
	sqlite3_clear_bindings(p->st[id]);
	return p->st[id];
}

int
cache_pop3_foreach(struct cache_pop3 *p, cache_pop3_cb cb, void *arg,
    struct error *err)
{
	struct cache_pop3_row	 r;
	sqlite3_stmt		*st = p3_stmt(p, P3_ALL);
	int			 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof r);
		r.id = sqlite3_column_int64(st, 0);
		r.uidl = cache_col_text(st, 1);
		r.hashed = sqlite3_column_int(st, 2) != 0;
		r.dup = sqlite3_column_int(st, 3);
		r.uid = (uint32_t)sqlite3_column_int64(st, 4);
		r.size = sqlite3_column_int64(st, 5);
		r.first_seen = sqlite3_column_int64(st, 6);
		r.stored = sqlite3_column_int(st, 7) != 0;
		r.server = (enum cache_pop3_server)sqlite3_column_int(st, 8);
		r.server_time = sqlite3_column_int64(st, 9);
		r.expunged = sqlite3_column_int(st, 10) != 0;
		if (r.uidl == NULL)
			continue;
		if (cb(arg, &r) != 0) {
			sqlite3_reset(st);
			return -1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return cache_db_error(p->c, err, "reading the POP3 UIDLs");
	return 0;
}

int
cache_pop3_add(struct cache_pop3 *p, const struct cache_pop3_row *r,
    int64_t folder_id, int64_t *idp, struct error *err)
{
	sqlite3_stmt	*st = p3_stmt(p, P3_ADD);

	cache_bind_text(st, 1, r->uidl);
	sqlite3_bind_int(st, 2, r->hashed);
	sqlite3_bind_int(st, 3, r->dup);
	sqlite3_bind_int64(st, 4, r->uid);
	sqlite3_bind_int64(st, 5, folder_id);
	sqlite3_bind_int64(st, 6, r->size);
	sqlite3_bind_int64(st, 7, r->first_seen);
	sqlite3_bind_int(st, 8, r->stored);
	sqlite3_bind_int(st, 9, (int)r->server);
	sqlite3_bind_int64(st, 10, r->server_time);
	if (cache_step_done(p->c, st, err, "saving a POP3 UIDL") == -1)
		return -1;
	if (idp != NULL)
		*idp = sqlite3_last_insert_rowid(p->c->db);
	return 0;
}

int
cache_pop3_set_stored(struct cache_pop3 *p, int64_t id, struct error *err)
{
	sqlite3_stmt	*st = p3_stmt(p, P3_STORED);

	sqlite3_bind_int64(st, 1, id);
	return cache_step_done(p->c, st, err, "saving a POP3 UIDL");
}

int
cache_pop3_set_server(struct cache_pop3 *p, int64_t id,
    enum cache_pop3_server server, int64_t when, struct error *err)
{
	sqlite3_stmt	*st = p3_stmt(p, P3_SERVER);

	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, (int)server);
	sqlite3_bind_int64(st, 3, when);
	return cache_step_done(p->c, st, err, "saving a POP3 UIDL");
}
