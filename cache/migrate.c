/*
 * Schema and migrations. The schema version is PRAGMA user_version; each
 * step below moves the database from version i to i+1 inside one
 * transaction, so a crash during a migration leaves the old version intact.
 * Never edit a step that has shipped: add a new one.
 */
#include <stdio.h>

#include "cache-private.h"

static const char *migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE meta("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT"
	") WITHOUT ROWID;"
	"CREATE TABLE folders("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"		/* UTF-8 display name */
	"  remote TEXT,"			/* server name; NULL = local only */
	"  delim TEXT,"
	"  special_use TEXT,"
	"  attributes TEXT,"
	"  subscribed INTEGER NOT NULL DEFAULT 0,"
	"  noselect INTEGER NOT NULL DEFAULT 0,"
	"  uidvalidity INTEGER NOT NULL DEFAULT 0,"
	"  uidnext INTEGER NOT NULL DEFAULT 0,"	/* as of the last complete sync */
	"  highestmodseq INTEGER NOT NULL DEFAULT 0,"
	"  synced_uid INTEGER NOT NULL DEFAULT 0," /* all UIDs <= this are cached */
	"  messages INTEGER NOT NULL DEFAULT 0,"	/* server count, last complete sync */
	"  complete INTEGER NOT NULL DEFAULT 0,"
	"  last_sync INTEGER NOT NULL DEFAULT 0"
	");"
	/*
	 * A message's id is (folder_id << 32) | uid: lookups by folder and
	 * UID are rowid lookups, a folder's messages in UID order are a rowid
	 * range, and no separate unique index has to be kept up to date on
	 * every insert.
	 */
	"CREATE TABLE messages("
	"  id INTEGER PRIMARY KEY,"
	"  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL,"
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  keywords TEXT,"
	"  modseq INTEGER NOT NULL DEFAULT 0,"
	"  internaldate INTEGER NOT NULL DEFAULT 0,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  date INTEGER NOT NULL DEFAULT 0,"
	"  date_tz INTEGER NOT NULL DEFAULT 0,"
	"  from_addr TEXT,"
	"  to_addr TEXT,"
	"  cc_addr TEXT,"
	"  subject TEXT,"
	"  message_id TEXT,"
	"  in_reply_to TEXT,"
	"  refs TEXT,"
	"  bodystructure TEXT"
	");"
	"CREATE INDEX messages_by_date ON messages(folder_id, date, uid);"
	"CREATE TABLE bodies("
	"  message INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
	"  raw BLOB NOT NULL"
	");"
	/* Local changes waiting for the server, written in the same
	 * transaction as the cache change they describe. */
	"CREATE TABLE pending("
	"  id INTEGER PRIMARY KEY,"
	"  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL,"
	"  op TEXT NOT NULL,"
	"  arg TEXT,"
	"  created INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT"
	");",
	/* 1 -> 2: POP3 accounts: the server messages already downloaded
	 * (see "POP3" in include/cache.h). The row outlives the message. */
	"CREATE TABLE pop3_uidl("
	"  id INTEGER PRIMARY KEY,"
	"  uidl TEXT NOT NULL,"			/* UIDL, or sha256:HEX of the header */
	"  hashed INTEGER NOT NULL DEFAULT 0,"	/* uidl is a header hash */
	"  dup INTEGER NOT NULL DEFAULT 0,"	/* n: the n+1th message with this key */
	"  uid INTEGER NOT NULL,"		/* local UID in INBOX at download */
	"  message INTEGER REFERENCES messages(id) ON DELETE SET NULL,"
	"  size INTEGER NOT NULL DEFAULT 0,"	/* octets, from LIST */
	"  first_seen INTEGER NOT NULL,"	/* unix time; pop3_delete = after:DAYS */
	"  stored INTEGER NOT NULL DEFAULT 0,"	/* bytes committed in bodies */
	"  server INTEGER NOT NULL DEFAULT 0,"	/* 0 on server, 1 deleted by us, 2 gone */
	"  server_time INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE(uidl, hashed, dup)"
	");"
	"CREATE INDEX pop3_uidl_message ON pop3_uidl(message);",
	/*
	 * 2 -> 3: bodies move to a file of their own (see cache/bodies.c),
	 * copied there by cache_bodies_migrate() before this step runs;
	 * messages.has_body says which are there.
	 */
	"ALTER TABLE messages ADD COLUMN has_body INTEGER NOT NULL DEFAULT 0;"
	"UPDATE messages SET has_body = 1 "
	"  WHERE id IN (SELECT message FROM bodies);"
	"DROP TABLE bodies;",
	/*
	 * 3 -> 4: local actions (cache/pending.c). The old pending table had
	 * no code writing it. A message moved or expunged locally is hidden
	 * until the server confirms, so a refusal can bring it back.
	 */
	"DROP TABLE pending;"
	"CREATE TABLE pending("
	"  id INTEGER PRIMARY KEY,"		/* replay order */
	"  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	"  uid INTEGER NOT NULL,"		/* 0: lost to a UIDVALIDITY change */
	"  op INTEGER NOT NULL,"		/* enum cache_op */
	"  flags INTEGER NOT NULL DEFAULT 0,"
	"  keywords TEXT,"
	"  dest_id INTEGER REFERENCES folders(id) ON DELETE CASCADE,"
	"  dest_uid INTEGER NOT NULL DEFAULT 0,"	/* placeholder in dest */
	"  message_id TEXT,"
	"  created INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"	/* sent, answer not recorded */
	"  last_error TEXT"
	");"
	"CREATE INDEX pending_by_message ON pending(folder_id, uid);"
	"ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;",
	/*
	 * 4 -> 5: threads (cache/thread.c). thread_path is the message's
	 * place in its thread, the segments of its ancestors and its own
	 * (date, UID), so the thread view pages by one index like the flat
	 * ones; NULL until threaded. thread_wants lists the Message-IDs a
	 * message would rather hang under, for when one of them arrives.
	 */
	"ALTER TABLE messages ADD COLUMN thread_path TEXT;"
	"ALTER TABLE messages ADD COLUMN thread_gap INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX messages_by_thread ON messages(folder_id, thread_path);"
	"CREATE INDEX messages_unthreaded ON messages(folder_id, date, uid) "
	"  WHERE thread_path IS NULL;"
	"CREATE INDEX messages_by_message_id ON messages(folder_id, message_id);"
	"CREATE TABLE thread_wants("
	"  folder_id INTEGER NOT NULL,"
	"  ref TEXT NOT NULL,"			/* a Message-ID not (yet) here */
	"  msg INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
	"  rank INTEGER NOT NULL,"		/* 0: the direct parent */
	"  PRIMARY KEY(folder_id, ref, msg)"
	") WITHOUT ROWID;"
	"CREATE INDEX thread_wants_by_msg ON thread_wants(msg);",
	/*
	 * 5 -> 6: the date index also carries hidden and flags, so the
	 * index's counts (messages, unread, rows before the first on screen)
	 * read the index alone, two to three times faster on 100,000.
	 */
	"CREATE INDEX IF NOT EXISTS messages_by_date_flags ON "
	"  messages(folder_id, date, uid, hidden, flags);"
	"DROP INDEX IF EXISTS messages_by_date;",
	/*
	 * 6 -> 7: what a server's SEARCH BODY/TEXT found for a ~b/~B term
	 * (by its text-index query), merged with the local index's hits, for
	 * the messages whose bodies are not cached.
	 */
	"CREATE TABLE server_hits("
	"  folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	"  q TEXT NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  PRIMARY KEY(folder_id, q, uid)"
	") WITHOUT ROWID;",
	/*
	 * 7 -> 8: the outbox (outbox.c). message is the copy to file (Bcc
	 * kept; the copy sent leaves it out); rcpts the envelope's, one per
	 * line. state: 0 queued, 1 sent (the server took it; filing it in
	 * the record folder may be left), 2 held (refused: the user acts),
	 * 3 a postponed draft (filed in the drafts folder, never sent).
	 */
	"CREATE TABLE outbox("
	"  id INTEGER PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  env_from TEXT NOT NULL,"
	"  rcpts TEXT NOT NULL,"
	"  subject TEXT,"
	"  to_text TEXT,"
	"  message_id TEXT,"
	"  message BLOB NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_try INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  sent_at INTEGER NOT NULL DEFAULT 0"
	");",
};

/* Step that first needs the bodies copied to their own file. */
#define MIGRATE_BODIES	2

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

static int
user_version(struct cache *c, int *vp, struct error *err)
{
	sqlite3_stmt	*st;

	if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return cache_db_error(c, err, "reading the schema version");
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return cache_db_error(c, err, "reading the schema version");
	}
	*vp = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
cache_migrate(struct cache *c, struct error *err)
{
	char	 sql[64];
	int	 v = 0;

	if (user_version(c, &v, err) == -1)
		return -1;
	if (v > NMIGRATIONS)
		return error_set(err, ERR_LOCAL, "cache %s has schema version "
		    "%d, newer than this petrel knows (%d)", c->path, v,
		    NMIGRATIONS);
	for (; v < NMIGRATIONS; v++) {
		if (c->flags & CACHE_READONLY)
			return error_set(err, ERR_LOCAL, "cache %s needs an "
			    "upgrade: run a command that writes it first",
			    c->path);
		if (v == MIGRATE_BODIES && cache_bodies_migrate(c, err) == -1)
			return -1;
		if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
		    SQLITE_OK)
			return cache_db_error(c, err, "upgrading the cache");
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(c->db, migrations[v], NULL, NULL, NULL) !=
		    SQLITE_OK ||
		    sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			cache_db_error(c, err, "upgrading the cache");
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			cache_db_error(c, err, "upgrading the cache");
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}
