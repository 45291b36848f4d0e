/* Unit tests of the SQLite cache. */
#include <sys/stat.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache-private.h"
#include "test.h"
#include "util.h"

static char	tmpdir[] = "/tmp/petrel-test-cache-XXXXXX";

static struct cache *
open_fresh(const char *name, int flags)
{
	struct cache	*c;
	struct error	 err;
	char		 path[512];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	snprintf(path, sizeof path, "%s/%.*s.bodies.db", tmpdir,
	    (int)strlen(name) - 3, name);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if (cache_open_path(path, flags, &c, &err) == -1) {
		test_fail(__FILE__, __LINE__, "open: %s", err.msg);
		exit(1);
	}
	return c;
}

static int64_t
add_folder(struct cache *c, const char *name)
{
	struct cache_folder	f;
	struct error		err;
	int64_t			id = -1;

	memset(&f, 0, sizeof f);
	f.name = name;
	f.remote = name;
	f.delim = '/';
	T_EQ_INT(cache_folder_put(c, &f, &id, &err), 0);
	return id;
}

static void
put_msg(struct cache *c, int64_t fid, uint32_t uid, int64_t date,
    uint32_t flags, const char *subject)
{
	struct cache_msg	m;
	struct error		err;

	memset(&m, 0, sizeof m);
	m.folder_id = fid;
	m.uid = uid;
	m.date = date;
	m.flags = flags;
	m.subject = subject;
	m.from = "Alice <alice@example.org>";
	m.size = 100 + uid;
	T_EQ_INT(cache_msg_put(c, &m, &err), 0);
}

static void
test_open_mode(void)
{
	struct cache	*c = open_fresh("mode.db", 0);
	struct stat	 st;
	char		 path[512];

	snprintf(path, sizeof path, "%s/mode.db", tmpdir);
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	cache_close(&c);
	T_ASSERT(c == NULL);
}

static void
test_folders(void)
{
	struct cache		*c = open_fresh("folders.db", 0);
	struct cache_folder	 f;
	struct error		 err;
	int64_t			 inbox, arch, again;

	arch = add_folder(c, "Archive");
	inbox = add_folder(c, "INBOX");
	T_ASSERT(inbox != arch);
	/* Putting the same name again updates, keeps the id. */
	again = add_folder(c, "INBOX");
	T_EQ_INT(again, inbox);

	T_EQ_INT(cache_folder_get(c, "INBOX", &f, &err), 1);
	T_EQ_STR(f.name, "INBOX");
	T_EQ_INT(f.delim, '/');
	T_EQ_INT(f.complete, 0);
	T_EQ_INT(cache_folder_get(c, "Nope", &f, &err), 0);

	memset(&f, 0, sizeof f);
	f.uidvalidity = 42;
	f.uidnext = 100;
	f.highestmodseq = 1ULL << 40;
	f.synced_uid = 99;
	f.complete = 1;
	T_EQ_INT(cache_folder_set_sync(c, inbox, &f, &err), 0);
	T_EQ_INT(cache_folder_get(c, "INBOX", &f, &err), 1);
	T_EQ_INT(f.uidvalidity, 42);
	T_EQ_INT(f.highestmodseq, 1ULL << 40);
	T_EQ_INT(f.synced_uid, 99);
	T_ASSERT(f.complete);

	/* Updating the folder's LIST data leaves the sync markers alone. */
	add_folder(c, "INBOX");
	T_EQ_INT(cache_folder_get(c, "INBOX", &f, &err), 1);
	T_EQ_INT(f.uidnext, 100);
	cache_close(&c);
}

struct collect {
	uint32_t	uids[16];
	int		n;
	int		unseen;
};

static int
collect_msg(void *arg, const struct cache_msg *m)
{
	struct collect *col = arg;

	col->uids[col->n++] = m->uid;
	return 0;
}

static int
collect_folder(void *arg, const struct cache_folder *f)
{
	struct collect *col = arg;

	if (strcmp(f->name, "INBOX") == 0) {
		col->n = (int)f->total;
		col->unseen = (int)f->unseen;
	}
	return 0;
}

static void
test_messages(void)
{
	struct cache		*c = open_fresh("msgs.db", 0);
	struct cache_msg	 m;
	struct collect		 col;
	struct error		 err;
	int64_t			 fid;

	fid = add_folder(c, "INBOX");
	T_EQ_INT(cache_begin(c, &err), 0);
	put_msg(c, fid, 1, 1000, MSG_SEEN, "old");
	put_msg(c, fid, 2, 3000, 0, "newest");
	put_msg(c, fid, 3, 2000, MSG_FLAGGED, "middle");
	T_EQ_INT(cache_commit(c, &err), 0);

	memset(&col, 0, sizeof col);
	T_EQ_INT(cache_msg_foreach(c, fid, CACHE_ORDER_DATE_DESC, 0, -1,
	    collect_msg, &col, &err), 0);
	T_EQ_INT(col.n, 3);
	T_EQ_INT(col.uids[0], 2);
	T_EQ_INT(col.uids[1], 3);
	T_EQ_INT(col.uids[2], 1);

	/* Paging. */
	memset(&col, 0, sizeof col);
	cache_msg_foreach(c, fid, CACHE_ORDER_UID_ASC, 1, 1, collect_msg, &col,
	    &err);
	T_EQ_INT(col.n, 1);
	T_EQ_INT(col.uids[0], 2);

	T_EQ_INT(cache_msg_count(c, fid), 3);
	T_EQ_INT(cache_msg_max_uid(c, fid), 3);

	memset(&col, 0, sizeof col);
	cache_folder_foreach(c, true, collect_folder, &col, &err);
	T_EQ_INT(col.n, 3);
	T_EQ_INT(col.unseen, 2);

	T_EQ_INT(cache_msg_set_flags(c, fid, 2, MSG_SEEN | MSG_ANSWERED,
	    "$Label1", 77, &err), 0);
	T_EQ_INT(cache_msg_get(c, fid, 2, &m, &err), 1);
	T_EQ_INT(m.flags, MSG_SEEN | MSG_ANSWERED);
	T_EQ_STR(m.keywords, "$Label1");
	T_EQ_INT(m.modseq, 77);
	T_EQ_STR(m.subject, "newest");
	T_EQ_INT(m.has_body, 0);

	/* A second put of the same UID replaces it (upsert). */
	put_msg(c, fid, 2, 3000, 0, "replaced");
	T_EQ_INT(cache_msg_count(c, fid), 3);
	T_EQ_INT(cache_msg_get(c, fid, 2, &m, &err), 1);
	T_EQ_STR(m.subject, "replaced");

	T_EQ_INT(cache_msg_delete(c, fid, 3, &err), 0);
	T_EQ_INT(cache_msg_get(c, fid, 3, &m, &err), 0);
	T_EQ_INT(cache_msg_count(c, fid), 2);

	/* Rollback loses the transaction's writes. */
	T_EQ_INT(cache_begin(c, &err), 0);
	put_msg(c, fid, 50, 1, 0, "gone");
	cache_rollback(c);
	T_EQ_INT(cache_msg_get(c, fid, 50, &m, &err), 0);

	/* UIDVALIDITY change drops everything. */
	T_EQ_INT(cache_folder_reset(c, fid, 7, &err), 0);
	T_EQ_INT(cache_msg_count(c, fid), 0);
	cache_close(&c);
}

static void
test_bodies(void)
{
	struct cache		*c = open_fresh("bodies.db", 0);
	struct cache_msg	 m;
	struct error		 err;
	int64_t			 fid;
	char			*data;
	size_t			 len, i;
	FILE			*f;

	fid = add_folder(c, "INBOX");
	put_msg(c, fid, 5, 1, 0, "with body");
	T_EQ_INT(cache_body_get(c, fid, 5, &data, &len, &err), 0);
	T_EQ_INT(cache_body_put(c, fid, 5, "Subject: x\r\n\r\nhi\0there", 22,
	    &err), 0);
	T_EQ_INT(cache_body_get(c, fid, 5, &data, &len, &err), 1);
	T_EQ_MEM(data, len, "Subject: x\r\n\r\nhi\0there", 22);
	free(data);
	T_EQ_INT(cache_msg_get(c, fid, 5, &m, &err), 1);
	T_ASSERT(m.has_body);

	/* Updating the message row keeps its body. */
	put_msg(c, fid, 5, 2, MSG_SEEN, "with body");
	T_EQ_INT(cache_body_get(c, fid, 5, &data, &len, &err), 1);
	free(data);

	/* A body needs its message. */
	T_EQ_INT(cache_body_put(c, fid, 6, "x", 1, &err), -1);

	/* From a file, in chunks: 300,000 bytes. */
	put_msg(c, fid, 7, 1, 0, "big");
	f = tmpfile();
	for (i = 0; i < 300000; i++)
		fputc('a' + (int)(i % 26), f);
	T_EQ_INT(cache_body_put_file(c, fid, 7, f, 300000, &err), 0);
	T_EQ_INT(cache_body_get(c, fid, 7, &data, &len, &err), 1);
	T_EQ_INT(len, 300000);
	T_EQ_INT(data[299999], 'a' + (int)(299999 % 26));
	free(data);
	/* A file shorter than it claims is an error. */
	T_EQ_INT(cache_body_put_file(c, fid, 7, f, 400000, &err), -1);
	fclose(f);

	/* Deleting the message deletes the body. */
	T_EQ_INT(cache_msg_delete(c, fid, 5, &err), 0);
	T_EQ_INT(cache_body_get(c, fid, 5, &data, &len, &err), 0);
	cache_close(&c);
}

static int
count_uid(void *arg, uint32_t uid)
{
	(void)uid;
	(*(int *)arg)++;
	return 0;
}

static int
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	int		 v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Bodies live in their own file, committed before the rows that say so. */
static void
test_bodies_file(void)
{
	struct cache	*c = open_fresh("bf.db", 0);
	struct error	 err;
	struct stat	 sb;
	char		 bpath[512], *data;
	size_t		 len;
	int64_t		 fid, other;
	int		 n;

	snprintf(bpath, sizeof bpath, "%s/bf.bodies.db", tmpdir);
	fid = add_folder(c, "INBOX");
	other = add_folder(c, "Other");
	put_msg(c, fid, 1, 1, 0, "one");
	put_msg(c, fid, 2, 2, 0, "two");
	put_msg(c, other, 1, 1, 0, "elsewhere");
	/* Nothing stored yet: no file, and reading finds nothing. */
	T_ASSERT(access(bpath, F_OK) == -1);
	T_EQ_INT(cache_body_get(c, fid, 1, &data, &len, &err), 0);

	/* A rolled-back transaction stores nothing in either file. */
	T_EQ_INT(cache_begin(c, &err), 0);
	T_EQ_INT(cache_body_put(c, fid, 1, "rolled back", 11, &err), 0);
	cache_rollback(c);
	T_EQ_INT(cache_body_get(c, fid, 1, &data, &len, &err), 0);
	n = 0;
	T_EQ_INT(cache_uid_foreach_nobody(c, fid, count_uid, &n, &err), 0);
	T_EQ_INT(n, 2);

	T_EQ_INT(cache_begin(c, &err), 0);
	T_EQ_INT(cache_body_put(c, fid, 1, "body one", 8, &err), 0);
	T_EQ_INT(cache_body_put(c, other, 1, "body other", 10, &err), 0);
	T_EQ_INT(cache_commit(c, &err), 0);
	T_EQ_INT(stat(bpath, &sb), 0);
	T_EQ_INT(sb.st_mode & 0777, 0600);
	T_EQ_INT(scalar(c->bdb, "PRAGMA page_size"), 65536);
	T_EQ_INT(scalar(c->db, "SELECT COUNT(*) FROM sqlite_schema "
	    "WHERE name = 'bodies'"), 0);
	n = 0;
	T_EQ_INT(cache_uid_foreach_nobody(c, fid, count_uid, &n, &err), 0);
	T_EQ_INT(n, 1);

	/*
	 * A crash between the two commits leaves a body whose row does not
	 * say so: it counts as missing, and the next store replaces it.
	 */
	T_EQ_INT(sqlite3_exec(c->bdb, "INSERT INTO bodies VALUES("
	    "(1 << 32) | 2, 'orphan')", NULL, NULL, NULL), SQLITE_OK);
	n = 0;
	T_EQ_INT(cache_uid_foreach_nobody(c, fid, count_uid, &n, &err), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(cache_body_put(c, fid, 2, "body two", 8, &err), 0);
	T_EQ_INT(cache_body_get(c, fid, 2, &data, &len, &err), 1);
	T_EQ_MEM(data, len, "body two", 8);
	free(data);

	/* Resetting a folder (UIDVALIDITY) drops its bodies, not others'. */
	T_EQ_INT(cache_begin(c, &err), 0);
	T_EQ_INT(cache_folder_reset(c, fid, 99, &err), 0);
	T_EQ_INT(cache_commit(c, &err), 0);
	T_EQ_INT(scalar(c->bdb, "SELECT COUNT(*) FROM bodies"), 1);
	put_msg(c, fid, 1, 1, 0, "new one");
	T_EQ_INT(cache_body_get(c, fid, 1, &data, &len, &err), 0);
	T_EQ_INT(cache_body_get(c, other, 1, &data, &len, &err), 1);
	free(data);
	/* Deleting a folder, outside a transaction, too. */
	T_EQ_INT(cache_folder_delete(c, other, &err), 0);
	T_EQ_INT(scalar(c->bdb, "SELECT COUNT(*) FROM bodies"), 0);
	cache_close(&c);
}

/* A cache of schema 2 keeps its bodies when they move to their own file. */
static void
test_migrate_bodies(void)
{
	struct cache		*c = open_fresh("mig.db", 0);
	struct cache_msg	 m;
	struct error		 err;
	char			 path[512], bpath[512], *data;
	size_t			 len;
	int64_t			 fid;

	snprintf(path, sizeof path, "%s/mig.db", tmpdir);
	snprintf(bpath, sizeof bpath, "%s/mig.bodies.db", tmpdir);
	fid = add_folder(c, "INBOX");
	put_msg(c, fid, 1, 1, 0, "had a body");
	put_msg(c, fid, 2, 2, 0, "had none");
	/* Turn it back into schema 2: bodies in the main file. */
	T_EQ_INT(sqlite3_exec(c->db, "DROP INDEX messages_by_date_flags; CREATE INDEX messages_by_date "
	    "ON messages(folder_id, date, uid); ALTER TABLE messages DROP COLUMN "
	    "has_body; ALTER TABLE messages DROP COLUMN hidden; "
	    "DROP INDEX messages_by_thread; DROP INDEX messages_unthreaded; "
	    "DROP INDEX messages_by_message_id; DROP TABLE thread_wants; "
	    "DROP TABLE server_hits; DROP TABLE outbox; "
	    "ALTER TABLE messages DROP COLUMN thread_path; "
	    "ALTER TABLE messages DROP COLUMN thread_gap; CREATE TABLE bodies(message INTEGER PRIMARY KEY "
	    "REFERENCES messages(id) ON DELETE CASCADE, raw BLOB NOT NULL);"
	    "INSERT INTO bodies VALUES((1 << 32) | 1, 'old body');"
	    "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	cache_close(&c);
	unlink(bpath);

	T_EQ_INT(cache_open_path(path, 0, &c, &err), 0);
	T_EQ_INT(scalar(c->db, "PRAGMA user_version"), 8);
	T_EQ_INT(cache_body_get(c, fid, 1, &data, &len, &err), 1);
	T_EQ_MEM(data, len, "old body", 8);
	free(data);
	T_EQ_INT(cache_msg_get(c, fid, 1, &m, &err), 1);
	T_ASSERT(m.has_body);
	T_EQ_INT(cache_msg_get(c, fid, 2, &m, &err), 1);
	T_ASSERT(!m.has_body);
	T_EQ_INT(scalar(c->db, "SELECT COUNT(*) FROM sqlite_schema "
	    "WHERE name = 'bodies'"), 0);
	cache_close(&c);
}

static void
test_disk_full(void)
{
	struct cache	*c = open_fresh("full.db", 0);
	struct error	 err;
	int64_t		 fid;
	char		 path[512], big[4096];
	uint32_t	 uid;
	int		 rv = 0;

	fid = add_folder(c, "INBOX");
	put_msg(c, fid, 1, 1, 0, "kept");
	/* Simulate a full disk: forbid the file to grow. */
	snprintf(path, sizeof path, "%s/full.db", tmpdir);
	cache_close(&c);
	T_EQ_INT(cache_open_path(path, 0, &c, &err), 0);
	T_EQ_INT(sqlite3_exec(c->db, "PRAGMA max_page_count = 20", NULL, NULL,
	    NULL), SQLITE_OK);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	T_EQ_INT(cache_begin(c, &err), 0);
	for (uid = 2; uid < 200 && rv == 0; uid++)
		rv = cache_body_put(c, fid, 1, big, sizeof big, &err) |
		    cache_meta_set(c, big + uid, big, &err);
	T_EQ_INT(rv, -1);
	T_ASSERT(strstr(err.msg, "disk full") != NULL);
	cache_rollback(c);
	cache_close(&c);
	/* The bodies file full: the error names it, the index is intact. */
	T_EQ_INT(cache_open_path(path, 0, &c, &err), 0);
	T_EQ_INT(cache_body_put(c, fid, 1, "first", 5, &err), 0);
	T_EQ_INT(sqlite3_exec(c->bdb, "PRAGMA max_page_count = 4", NULL, NULL,
	    NULL), SQLITE_OK);
	T_EQ_INT(cache_begin(c, &err), 0);
	for (uid = 2, rv = 0; uid < 200 && rv == 0; uid++) {
		put_msg(c, fid, uid, 1, 0, "x");
		rv = cache_body_put(c, fid, uid, big, sizeof big, &err);
	}
	T_EQ_INT(rv, -1);
	T_ASSERT(strstr(err.msg, "disk full") != NULL);
	T_ASSERT(strstr(err.msg, "full.bodies.db") != NULL);
	cache_rollback(c);
	cache_close(&c);
	/* Nothing lost: what was committed is still there. */
	T_EQ_INT(cache_open_path(path, 0, &c, &err), 0);
	T_EQ_INT(cache_msg_count(c, fid), 1);
	cache_close(&c);
}

/* Local actions: applied at once, merged under a sync, undone, settled. */
static void
test_pending(void)
{
	struct cache		*c = open_fresh("pending.db", 0);
	struct cache_pending	*v;
	struct cache_msg	 m;
	struct error		 err;
	uint32_t		 uids[] = { 1, 2 }, bad[] = { 1, 9 }, real[2];
	uint32_t		*gone;
	size_t			 n;
	int64_t			 fid, aid;

	fid = add_folder(c, "INBOX");
	aid = add_folder(c, "Archive");
	put_msg(c, fid, 1, 1, 0, "one");
	put_msg(c, fid, 2, 2, 0, "two");
	put_msg(c, fid, 3, 3, MSG_DELETED, "three");

	/* A missing UID changes nothing. */
	T_EQ_INT(cache_act_flags(c, fid, bad, 2, CACHE_OP_ADD, MSG_SEEN, NULL,
	    true, &err), -1);
	T_EQ_INT(err.cls, ERR_USAGE);
	T_EQ_INT(cache_pending_count(c), 0);

	T_EQ_INT(cache_act_flags(c, fid, uids, 2, CACHE_OP_ADD, MSG_FLAGGED,
	    "todo", true, &err), 0);
	T_EQ_INT(cache_msg_get(c, fid, 1, &m, &err), 1);
	T_EQ_INT(m.flags, MSG_FLAGGED);
	T_EQ_STR(m.keywords, "todo");
	T_EQ_INT(cache_pending_count(c), 2);

	/* A sync writing the server's flags keeps the pending ones. */
	T_EQ_INT(cache_begin(c, &err), 0);
	T_EQ_INT(cache_msg_set_flags(c, fid, 1, MSG_SEEN, "other", 7, &err), 0);
	T_EQ_INT(cache_commit(c, &err), 0);
	T_EQ_INT(cache_msg_get(c, fid, 1, &m, &err), 1);
	T_EQ_INT(m.flags, MSG_SEEN | MSG_FLAGGED);
	T_EQ_STR(m.keywords, "other todo");

	/* Refused: undone. */
	T_EQ_INT(cache_pending_load(c, 0, &v, &n, &err), 0);
	T_EQ_INT(n, 2);
	T_EQ_INT(cache_pending_fail(c, v, 1, true, &err), 0);
	T_EQ_INT(cache_pending_done(c, v + 1, 1, NULL, &err), 0);
	cache_pending_free(v, n);
	T_EQ_INT(cache_msg_get(c, fid, 1, &m, &err), 1);
	T_EQ_INT(m.flags, MSG_SEEN);
	T_EQ_STR(m.keywords, "other");
	T_EQ_INT(cache_msg_get(c, fid, 2, &m, &err), 1);
	T_EQ_INT(m.flags, MSG_FLAGGED);

	/* A move shows in Archive under a placeholder, hidden in INBOX. */
	T_EQ_INT(cache_act_copy(c, fid, uids, 2, aid, true, true, &err), 0);
	T_EQ_INT(cache_msg_get(c, fid, 1, &m, &err), 1);
	T_ASSERT(m.hidden);
	T_EQ_INT(cache_msg_get(c, aid, CACHE_LOCAL_UID_MIN, &m, &err), 1);
	T_EQ_STR(m.subject, "one");
	T_EQ_INT(cache_msg_count(c, aid), 0);	/* not the server's yet */
	/* Hidden messages cannot be acted on again. */
	T_EQ_INT(cache_act_flags(c, fid, uids, 1, CACHE_OP_ADD, MSG_SEEN, NULL,
	    true, &err), -1);
	T_EQ_INT(cache_pending_load(c, 0, &v, &n, &err), 0);
	T_EQ_INT(n, 2);
	/* COPYUID named the first; the second waits for a sync. */
	real[0] = 40;
	real[1] = 0;
	T_EQ_INT(cache_pending_done(c, v, 2, real, &err), 0);
	cache_pending_free(v, n);
	T_EQ_INT(cache_msg_get(c, aid, 40, &m, &err), 1);
	T_EQ_STR(m.subject, "one");
	T_EQ_INT(cache_msg_get(c, aid, CACHE_LOCAL_UID_MIN, &m, &err), 0);
	T_EQ_INT(cache_msg_get(c, aid, CACHE_LOCAL_UID_MIN + 1, &m, &err), 0);
	T_EQ_INT(cache_msg_get(c, fid, 1, &m, &err), 0);

	/* Expunge takes exactly what shows as \Deleted. */
	T_EQ_INT(cache_act_expunge(c, fid, true, &gone, &n, &err), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(gone[0], 3);
	free(gone);
	T_EQ_INT(cache_msg_get(c, fid, 3, &m, &err), 1);
	T_ASSERT(m.hidden);
	T_EQ_INT(cache_pending_load(c, 0, &v, &n, &err), 0);
	T_EQ_INT(n, 1);
	T_EQ_INT(v[0].op, CACHE_OP_EXPUNGE);
	T_EQ_INT(cache_pending_fail(c, v, 1, true, &err), 0);
	cache_pending_free(v, n);
	T_EQ_INT(cache_msg_get(c, fid, 3, &m, &err), 1);
	T_ASSERT(!m.hidden);
	cache_close(&c);
}

static void
test_reopen_readonly(void)
{
	struct cache	*c = open_fresh("ro.db", 0);
	struct error	 err;
	char		 path[512], *v;
	int64_t		 fid;

	fid = add_folder(c, "INBOX");
	put_msg(c, fid, 1, 1, 0, "x");
	T_EQ_INT(cache_meta_set(c, "k", "v1", &err), 0);
	cache_close(&c);
	snprintf(path, sizeof path, "%s/ro.db", tmpdir);
	T_EQ_INT(cache_open_path(path, CACHE_READONLY, &c, &err), 0);
	T_EQ_INT(cache_msg_count(c, fid), 1);
	v = cache_meta_get(c, "k");
	T_EQ_STR(v, "v1");
	free(v);
	T_ASSERT(cache_meta_get(c, "missing") == NULL);
	cache_close(&c);
}

static int
give_way_after(void *arg)
{
	int	*calls = arg;

	return ++*calls >= 3;
}

/*
 * A read transaction sees one snapshot while another connection commits;
 * a give-way callback that answers non-zero ends a long read with an
 * error, and the connection reads normally again once it is unset.
 */
static void
test_read_snapshot(void)
{
	struct cache		*c = open_fresh("snap.db", 0), *r;
	struct cache_view	 v;
	struct error		 err;
	char			 path[512];
	int64_t			 fid;
	uint32_t		 uid;
	int			 calls = 0;

	fid = add_folder(c, "INBOX");
	T_EQ_INT(cache_begin(c, &err), 0);
	for (uid = 1; uid <= 5000; uid++)
		put_msg(c, fid, uid, uid, 0, "x");
	T_EQ_INT(cache_commit(c, &err), 0);
	snprintf(path, sizeof path, "%s/snap.db", tmpdir);
	T_EQ_INT(cache_open_path(path, CACHE_READONLY, &r, &err), 0);
	memset(&v, 0, sizeof v);
	v.folder_id = fid;
	v.sort = CACHE_SORT_DATE;

	T_EQ_INT(cache_read_begin(r, &err), 0);
	T_EQ_INT(cache_view_count(r, &v, NULL, &err), 5000);
	put_msg(c, fid, 5001, 5001, 0, "late");		/* commits at once */
	T_EQ_INT(cache_msg_count(r, fid), 5000);	/* not in the snapshot */
	cache_read_end(r);
	T_EQ_INT(cache_msg_count(r, fid), 5001);

	cache_set_give_way(r, give_way_after, &calls);
	T_EQ_INT(cache_view_count(r, &v, NULL, &err), -1);
	T_EQ_INT(calls, 3);
	cache_set_give_way(r, NULL, NULL);
	error_clear(&err);
	T_EQ_INT(cache_view_count(r, &v, NULL, &err), 5001);
	cache_close(&r);
	cache_close(&c);
}

/*
 * Heads: the first bytes of a body on its way, one at a time, dropped when
 * the body comes or the message goes; a body's head read says its length.
 */
static void
test_heads(void)
{
	struct cache	*c = open_fresh("heads.db", 0);
	const char	*head = "From: a\r\n\r\nhe";
	const char	*whole = "From: b\r\n\r\nwhole";
	struct error	 err;
	int64_t		 fid;
	char		*data;
	size_t		 len, total;

	fid = add_folder(c, "INBOX");
	put_msg(c, fid, 1, 1, 0, "one");
	put_msg(c, fid, 2, 1, 0, "two");
	T_EQ_INT(cache_head_get(c, fid, 1, &data, &len, &err), 0);
	T_EQ_INT(cache_head_put(c, fid, 1, head, strlen(head), &err), 0);
	T_EQ_INT(cache_head_get(c, fid, 1, &data, &len, &err), 1);
	T_EQ_MEM(data, len, head, strlen(head));
	free(data);
	/* Not a body: nothing else sees it. */
	T_EQ_INT(cache_body_get(c, fid, 1, &data, &len, &err), 0);

	/* The next head replaces it. */
	T_EQ_INT(cache_head_put(c, fid, 2, "From: b\r\n", 9, &err), 0);
	T_EQ_INT(cache_head_get(c, fid, 1, &data, &len, &err), 0);
	T_EQ_INT(cache_head_get(c, fid, 2, &data, &len, &err), 1);
	free(data);

	/* The body's arrival drops its head. */
	T_EQ_INT(cache_body_put(c, fid, 2, whole, strlen(whole), &err), 0);
	T_EQ_INT(cache_head_get(c, fid, 2, &data, &len, &err), 0);
	T_EQ_INT(cache_body_get_head(c, fid, 2, 4, &data, &len, &total, &err),
	    1);
	T_EQ_MEM(data, len, "From", 4);
	T_EQ_INT(total, strlen(whole));
	free(data);

	/* So does the message's deletion. */
	T_EQ_INT(cache_head_put(c, fid, 1, "From: a", 7, &err), 0);
	T_EQ_INT(cache_msg_delete(c, fid, 1, &err), 0);
	T_EQ_INT(cache_head_get(c, fid, 1, &data, &len, &err), 0);
	cache_close(&c);
}

static const struct test tests[] = {
	{ "open_mode", test_open_mode },
	{ "folders", test_folders },
	{ "messages", test_messages },
	{ "bodies", test_bodies },
	{ "bodies_file", test_bodies_file },
	{ "migrate_bodies", test_migrate_bodies },
	{ "disk_full", test_disk_full },
	{ "reopen_readonly", test_reopen_readonly },
	{ "pending", test_pending },
	{ "read_snapshot", test_read_snapshot },
	{ "heads", test_heads },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	int	rv;
	char	cmd[600];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rv = test_main(tests, argc, argv);
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rv;
}
