/*
 * Unit tests of the cache's POP3 table (cache/pop3.c): rows added, read
 * back in order, marked stored and deleted; duplicate UIDLs kept apart by
 * dup; a row outlives its message; commits are durable while it is open.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-private.h"
#include "test.h"

static char	tmpdir[] = "/tmp/petrel-test-cache-pop3-XXXXXX";

struct got {
	struct cache_pop3_row	r[16];
	char			keys[16][80];
	int			n;
};

static int
got_cb(void *arg, const struct cache_pop3_row *r)
{
	struct got	*g = arg;

	if (g->n == 16)
		return 1;
	g->r[g->n] = *r;
	snprintf(g->keys[g->n], sizeof g->keys[0], "%s", r->uidl);
	g->r[g->n].uidl = g->keys[g->n];
	g->n++;
	return 0;
}

static int
pragma_int(struct cache *c, const char *sql)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_rows(void)
{
	struct cache		*c;
	struct cache_pop3	*p;
	struct cache_folder	 f;
	struct cache_msg	 m;
	struct cache_pop3_row	 r;
	struct error		 err;
	struct got		 g;
	char			 path[512];
	int64_t			 fid = 0, id1 = 0, id2 = 0, id3 = 0;

	snprintf(path, sizeof path, "%s/t.db", tmpdir);
	T_EQ_INT(cache_open_path(path, 0, &c, &err), 0);
	/* NORMAL until the POP3 table is open, FULL while it is. */
	T_EQ_INT(pragma_int(c, "PRAGMA synchronous"), 1);
	T_EQ_INT(cache_pop3_open(c, &p, &err), 0);
	T_EQ_INT(pragma_int(c, "PRAGMA synchronous"), 2);

	memset(&f, 0, sizeof f);
	f.name = "INBOX";
	T_EQ_INT(cache_folder_put(c, &f, &fid, &err), 0);
	memset(&m, 0, sizeof m);
	m.folder_id = fid;
	m.uid = 1;
	m.subject = "one";
	T_EQ_INT(cache_msg_put(c, &m, &err), 0);
	m.uid = 2;
	T_EQ_INT(cache_msg_put(c, &m, &err), 0);

	memset(&r, 0, sizeof r);
	r.uidl = "000000016b026240";
	r.uid = 1;
	r.size = 1234;
	r.first_seen = 1700000000;
	r.stored = true;
	T_EQ_INT(cache_pop3_add(p, &r, fid, &id1, &err), 0);
	/* The same UIDL again (a buggy server): a second row, dup 1. */
	r.uid = 2;
	r.dup = 1;
	r.size = 99;
	r.stored = false;
	T_EQ_INT(cache_pop3_add(p, &r, fid, &id2, &err), 0);
	/* ... but never the same (uidl, hashed, dup) twice. */
	T_EQ_INT(cache_pop3_add(p, &r, fid, NULL, &err), -1);
	/* A header hash may look like anything; hashed keeps it apart. */
	r.uidl = "000000016b026240";
	r.hashed = true;
	r.dup = 0;
	r.uid = 3;	/* no such message: the link stays NULL */
	T_EQ_INT(cache_pop3_add(p, &r, fid, &id3, &err), 0);

	T_EQ_INT(cache_pop3_set_stored(p, id2, &err), 0);
	T_EQ_INT(cache_pop3_set_server(p, id1, CACHE_POP3_DELETED, 1700000100,
	    &err), 0);

	memset(&g, 0, sizeof g);
	T_EQ_INT(cache_pop3_foreach(p, got_cb, &g, &err), 0);
	T_EQ_INT(g.n, 3);
	T_EQ_INT(g.r[0].id, id1);
	T_EQ_STR(g.r[0].uidl, "000000016b026240");
	T_EQ_INT(g.r[0].server, CACHE_POP3_DELETED);
	T_EQ_INT(g.r[0].server_time, 1700000100);
	T_EQ_INT(g.r[0].size, 1234);
	T_EQ_INT(g.r[0].first_seen, 1700000000);
	T_ASSERT(g.r[0].stored);
	T_EQ_INT(g.r[1].dup, 1);
	T_EQ_INT(g.r[1].uid, 2);
	T_ASSERT(g.r[1].stored);
	T_EQ_INT(g.r[1].server, CACHE_POP3_ON_SERVER);
	T_ASSERT(g.r[2].hashed);

	/* Rows are linked to their message, and outlive it. */
	T_EQ_INT(pragma_int(c, "SELECT COUNT(*) FROM pop3_uidl WHERE "
	    "message IS NOT NULL"), 2);
	T_EQ_INT(cache_msg_delete(c, fid, 1, &err), 0);
	T_EQ_INT(pragma_int(c, "SELECT COUNT(*) FROM pop3_uidl"), 3);
	T_EQ_INT(pragma_int(c, "SELECT COUNT(*) FROM pop3_uidl WHERE "
	    "message IS NOT NULL"), 1);

	/* A stopping callback stops. */
	g.n = 16;
	T_EQ_INT(cache_pop3_foreach(p, got_cb, &g, &err), -1);

	cache_pop3_close(&p);
	T_ASSERT(p == NULL);
	T_EQ_INT(pragma_int(c, "PRAGMA synchronous"), 1);
	cache_close(&c);

	/* Read-only caches cannot take POP3 rows. */
	T_EQ_INT(cache_open_path(path, CACHE_READONLY, &c, &err), 0);
	T_EQ_INT(cache_pop3_open(c, &p, &err), -1);
	cache_close(&c);
}

static const struct test tests[] = {
	{ "rows", test_rows },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	char	cmd[600];
	int	rv;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rv = test_main(tests, argc, argv);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 1;
	return rv;
}
