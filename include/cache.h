/*
 * The local cache: one SQLite database per account, at
 * $XDG_CACHE_HOME/petrel/ACCOUNT.db (mode 0600, WAL). It holds the folders,
 * message headers and flags, and the user's local actions waiting to be
 * replayed to the server (cache/pending.c, "Local actions" below); the
 * bodies fetched on demand are in ACCOUNT.bodies.db beside it (see
 * cache/bodies.c), committed before the main file in cache_commit().
 *
 * Readers (the CLI, later the UI) and the engine's writer each open their
 * own struct cache. Writers batch their changes between cache_begin() and
 * cache_commit(); a folder's sync markers (uidnext, highestmodseq,
 * complete) are only advanced in the transaction that makes them true, so an
 * interrupted sync leaves a folder that the next sync resumes.
 *
 * Strings in the structs below are UTF-8. In callbacks they point into
 * SQLite's memory and stay valid only during the callback.
 */
#ifndef PETREL_CACHE_H
#define PETREL_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "msgflags.h"
#include "util.h"

struct cache;


/* Flags for cache_open(). */
#define CACHE_DURABLE	0x01	/* synchronous=FULL: a commit survives power loss */
#define CACHE_READONLY	0x02

/* Open (creating and migrating as needed) the cache of the named account. */
int	cache_open(const char *account, int flags, struct cache **cp, struct error *err);
/* The same with an explicit file path (tests, tools). */
int	cache_open_path(const char *path, int flags, struct cache **cp, struct error *err);
void	cache_close(struct cache **cp);
const char *cache_path(const struct cache *);

/*
 * Bulk inserting (on) or back to normal (off), outside a transaction: with
 * bulk on, foreign keys are not checked, which saves a lookup per insert
 * when only new messages of a known folder are written (nothing is deleted,
 * so no cascade is missed).
 */
void	cache_bulk(struct cache *, bool on);

int	cache_begin(struct cache *, struct error *err);
int	cache_commit(struct cache *, struct error *err);
/* Undo the open transaction, if any. */
void	cache_rollback(struct cache *);

/*
 * A read transaction: the reads until cache_read_end() see one snapshot, so
 * a count and the rows read after it agree while a session commits. It
 * takes no lock until its first read and never blocks a writer (WAL).
 */
int	cache_read_begin(struct cache *, struct error *err);
void	cache_read_end(struct cache *);
/*
 * While set, a long read calls fn every few thousand steps; a non-zero
 * answer ends that read with an error ("interrupted"), as when the UI has a
 * key to handle first. fn NULL: never.
 */
void	cache_set_give_way(struct cache *, int (*fn)(void *), void *arg);

/* Small account-level values (capabilities seen, ...). NULL when unset. */
char	*cache_meta_get(struct cache *, const char *key);
int	 cache_meta_set(struct cache *, const char *key, const char *value, struct error *err);

/* ---- Folders ------------------------------------------------------------ */

struct cache_folder {
	int64_t		 id;
	const char	*name;		/* UTF-8, e.g. "INBOX", "Archive/2024" */
	const char	*remote;	/* the server's name (modified UTF-7), NULL if local-only */
	char		 delim;		/* hierarchy delimiter or 0 */
	const char	*special_use;	/* "\\Sent", "\\Trash"... or NULL */
	const char	*attributes;	/* other LIST attributes, space-separated, or NULL */
	bool		 subscribed;
	bool		 noselect;
	uint32_t	 uidvalidity;	/* 0 until first selected */
	uint32_t	 uidnext;	/* as of the last complete sync */
	uint64_t	 highestmodseq;	/* as of the last complete sync, 0 if none */
	uint32_t	 synced_uid;	/* every message with UID <= this is cached */
	uint32_t	 messages;	/* server's message count at the last complete sync */
	bool		 complete;	/* the last sync of this folder finished */
	int64_t		 last_sync;	/* unix time of the last complete sync, 0 = never */
	int64_t		 total;		/* with counts (foreach): messages cached, else -1 */
	int64_t		 unseen;	/* with counts: of which without \Seen, else -1 */
};

/*
 * Insert or update a folder by name (the sync markers are left alone on
 * update: use cache_folder_set_sync). *idp gets its id.
 */
int	cache_folder_put(struct cache *, const struct cache_folder *, int64_t *idp,
	    struct error *err);
/* 1 found (*f filled; strings valid until the next cache call), 0 not found, -1 error. */
int	cache_folder_get(struct cache *, const char *name, struct cache_folder *f,
	    struct error *err);
typedef int (*cache_folder_cb)(void *arg, const struct cache_folder *);
/*
 * All folders, INBOX first, then by name. With counts, total and unseen are
 * filled (one pass over the messages: for display, not for hot paths). A
 * non-zero cb return stops.
 */
int	cache_folder_foreach(struct cache *, bool counts, cache_folder_cb, void *arg,
	    struct error *err);
/* Remove a folder and everything in it. */
int	cache_folder_delete(struct cache *, int64_t id, struct error *err);
/* Set the sync markers (uidvalidity, uidnext, highestmodseq, synced_uid,
 * messages, complete, last_sync) from f. */
int	cache_folder_set_sync(struct cache *, int64_t id, const struct cache_folder *f,
	    struct error *err);
/* UIDVALIDITY changed: drop every message and reset the markers. */
int	cache_folder_reset(struct cache *, int64_t id, uint32_t uidvalidity, struct error *err);

/* ---- Messages ----------------------------------------------------------- */

struct cache_msg {
	int64_t		 id;
	int64_t		 folder_id;
	uint32_t	 uid;
	uint32_t	 flags;		/* MSG_* */
	const char	*keywords;	/* other flags, space-separated, or NULL */
	uint64_t	 modseq;
	int64_t		 internaldate;	/* unix time */
	int64_t		 size;
	int64_t		 date;		/* Date: in UTC seconds (internaldate when missing) */
	int		 date_tz;	/* its zone offset in minutes */
	const char	*from;		/* decoded "Name <addr>" */
	const char	*to;		/* decoded, ", "-separated */
	const char	*cc;
	const char	*subject;	/* decoded */
	const char	*message_id;
	const char	*in_reply_to;
	const char	*references;
	const char	*bodystructure;	/* IMAP BODYSTRUCTURE text, or NULL */
	bool		 has_body;	/* filled by reads */
	bool		 hidden;	/* filled by reads: moved or expunged locally,
					 * still on the server until replayed */
	const char	*thread_path;	/* filled by reads; see cache_thread_* */
	bool		 thread_gap;	/* its parent is not in the folder */
};

/*
 * UIDs from here up are local placeholders: a message copied or moved
 * into a folder shows there at once under such a UID, until the server's
 * COPYUID (or the next sync) gives it its real one. Servers hand out UIDs
 * from 1 upwards; none comes near 2^32 - 2^24.
 */
#define CACHE_LOCAL_UID_MIN	0xff000000u

/* Insert or replace the message (folder_id, uid). */
int	cache_msg_put(struct cache *, const struct cache_msg *, struct error *err);
int	cache_msg_set_flags(struct cache *, int64_t folder_id, uint32_t uid, uint32_t flags,
	    const char *keywords, uint64_t modseq, struct error *err);
int	cache_msg_delete(struct cache *, int64_t folder_id, uint32_t uid, struct error *err);
/* 1 found, 0 not found, -1 error; strings valid until the next cache call. */
int	cache_msg_get(struct cache *, int64_t folder_id, uint32_t uid, struct cache_msg *m,
	    struct error *err);

enum cache_order {
	CACHE_ORDER_DATE_DESC,	/* newest first (Date:, then UID) */
	CACHE_ORDER_DATE_ASC,
	CACHE_ORDER_UID_ASC,
	CACHE_ORDER_UID_DESC,
};
typedef int (*cache_msg_cb)(void *arg, const struct cache_msg *);
/* Messages of a folder in order, a page at a time (limit < 0: all). */
int	cache_msg_foreach(struct cache *, int64_t folder_id, enum cache_order,
	    int64_t offset, int64_t limit, cache_msg_cb, void *arg, struct error *err);
/* UIDs of a folder in ascending order (for expunge detection). */
typedef int (*cache_uid_cb)(void *arg, uint32_t uid);
int	cache_uid_foreach(struct cache *, int64_t folder_id, cache_uid_cb, void *arg,
	    struct error *err);
/* Delete the messages with first <= UID <= last; *countp gets how many. */
int	cache_msg_delete_range(struct cache *, int64_t folder_id, uint32_t first,
	    uint32_t last, uint64_t *countp, struct error *err);
int	cache_msg_set_bodystructure(struct cache *, int64_t folder_id, uint32_t uid,
	    const char *bodystructure, struct error *err);
/* UIDs of a folder's messages whose body is not cached, ascending. */
int	cache_uid_foreach_nobody(struct cache *, int64_t folder_id, cache_uid_cb,
	    void *arg, struct error *err);
/* Count of messages cached in a folder with server UIDs (hidden included,
 * placeholders not): what the server's EXISTS should match. */
int64_t	cache_msg_count(struct cache *, int64_t folder_id);
/* Highest server UID cached in a folder, 0 if none. */
uint32_t cache_msg_max_uid(struct cache *, int64_t folder_id);

/* ---- Bodies ------------------------------------------------------------- */

/* 1 with *datap (malloc'd, NUL-terminated) and *lenp, 0 when not cached, -1 error. */
int	cache_body_get(struct cache *, int64_t folder_id, uint32_t uid, char **datap,
	    size_t *lenp, struct error *err);
/*
 * The same for at most max bytes of its beginning (read without the rest);
 * *totalp, when not NULL, gets the whole body's length.
 */
int	cache_body_get_head(struct cache *, int64_t folder_id, uint32_t uid,
	    size_t max, char **datap, size_t *lenp, size_t *totalp,
	    struct error *err);
/*
 * The first bytes of a long body on its way (the pager shows them before
 * the rest has come): one at a time, replaced by the next and dropped when
 * the body is stored. get: 1, 0 when there is none, -1.
 */
int	cache_head_put(struct cache *, int64_t folder_id, uint32_t uid,
	    const void *data, size_t len, struct error *err);
int	cache_head_get(struct cache *, int64_t folder_id, uint32_t uid,
	    char **datap, size_t *lenp, struct error *err);
int	cache_body_put(struct cache *, int64_t folder_id, uint32_t uid, const void *data,
	    size_t len, struct error *err);
/* The same from a file, copied in chunks so memory does not grow with size. */
int	cache_body_put_file(struct cache *, int64_t folder_id, uint32_t uid, FILE *f,
	    uint64_t len, struct error *err);

/*
 * The text index of cached bodies (text.c), searched by ~b ~B ~h. The
 * engine fills it: up to n message ids (ascending, above after) whose body
 * is cached but not indexed; then, inside a transaction (cache_begin), the
 * decoded header lines and body text of each.
 */
int	cache_text_unindexed(struct cache *, int64_t after, int64_t *ids, int n,
	    struct error *err);
int	cache_text_put(struct cache *, int64_t id, const char *headers,
	    const char *body, struct error *err);

/* ---- Local actions (cache/pending.c) ----------------------------------- */

/*
 * A triage action changes the cache and, for a server that must hear of it,
 * appends one row per message to `pending`, in one transaction: the cache
 * shows the new state the moment the call returns, and the action is
 * durable. The engine's replayer sends the rows in id order (coalescing
 * neighbours into UID sets) and retires them with cache_pending_done() or
 * cache_pending_fail().
 *
 * Exactly once: before a row is sent, cache_pending_attempt() commits
 * attempts + 1. A row with attempts > 0 was sent and its answer may never
 * have come, so the replayer asks the server what happened before sending a
 * copy or move again; flag changes and expunges are idempotent and are sent
 * again as they are.
 *
 * While a flag change is pending, a sync's flags for that message are merged
 * under it (cache_msg_put and cache_msg_set_flags apply the pending rows), so
 * a sync never undoes a local change.
 */
enum cache_op {
	CACHE_OP_ADD = 1,	/* +flags */
	CACHE_OP_REMOVE,	/* -flags */
	CACHE_OP_COPY,		/* to dest_id, placeholder dest_uid */
	CACHE_OP_MOVE,
	CACHE_OP_EXPUNGE,	/* remove a message the user saw as \Deleted */
};

struct cache_pending {
	int64_t		 id;
	int64_t		 folder_id;
	uint32_t	 uid;		/* 0: lost with a UIDVALIDITY change */
	enum cache_op	 op;
	uint32_t	 flags;		/* ADD/REMOVE: MSG_* bits */
	char		*keywords;	/* ADD/REMOVE: other flags, space-separated */
	int64_t		 dest_id;	/* COPY/MOVE */
	uint32_t	 dest_uid;	/* its placeholder UID in dest */
	char		*message_id;	/* for the exactly-once checks */
	int64_t		 created;
	int		 attempts;	/* times sent with no answer recorded */
	char		*last_error;
};

const char *cache_op_name(enum cache_op);

/*
 * Set (CACHE_OP_ADD) or clear (CACHE_OP_REMOVE) flags and keywords on the
 * messages uids[0..n) of a folder. queue: also record them for the server
 * (false for POP3, whose flags live only here). A UID that is not in the
 * cache (or already moved away) is ERR_USAGE and nothing is changed.
 */
int	cache_act_flags(struct cache *, int64_t folder_id, const uint32_t *uids,
	    size_t n, enum cache_op, uint32_t flags, const char *keywords,
	    bool queue, struct error *err);
/*
 * Copy or move messages to dest: each shows in dest at once under a
 * placeholder UID (queue) or a new local UID (!queue); a moved one is
 * hidden in its source until the server confirms.
 */
int	cache_act_copy(struct cache *, int64_t folder_id, const uint32_t *uids,
	    size_t n, int64_t dest_id, bool move, bool queue, struct error *err);
/*
 * Expunge what the cache shows as \Deleted in a folder, now: exactly those
 * messages are hidden (queue) or deleted (!queue). *uidsp (malloc'd, may be
 * NULL) and *np get their UIDs.
 */
int	cache_act_expunge(struct cache *, int64_t folder_id, bool queue,
	    uint32_t **uidsp, size_t *np, struct error *err);

/*
 * What the server lets the user do in a folder (IMAP ACL, RFC 4314: its
 * MYRIGHTS letters, e.g. "lrswipkxtecda"); NULL: unknown, everything is
 * tried. The actions above refuse locally, with ERR_USAGE, what the
 * rights do not allow: \Seen needs s, \Deleted t, other flags w, a copy
 * or move into a folder i, a move out of one t and e, an expunge e.
 */
int	cache_folder_set_rights(struct cache *, int64_t folder_id,
	    const char *rights, struct error *err);
char	*cache_folder_rights(struct cache *, int64_t folder_id);
/* Does the folder allow every right in need (true when unknown)? */
bool	cache_folder_may(struct cache *, int64_t folder_id, const char *need);

/* Rows waiting, in replay order (all when max is 0); free with cache_pending_free. */
int	cache_pending_load(struct cache *, size_t max, struct cache_pending **rowsp,
	    size_t *np, struct error *err);
void	cache_pending_free(struct cache_pending *, size_t n);
int64_t	cache_pending_count(struct cache *);
/* Commit attempts + 1 of the rows, before sending them. */
int	cache_pending_attempt(struct cache *, const struct cache_pending *, size_t n,
	    struct error *err);
/*
 * The server did it: retire the rows. For a copy or move, real_uids[i] is
 * the destination UID of rows[i] (COPYUID, or found by the exactly-once
 * check), 0 when unknown: the placeholder then goes and the next sync of the
 * destination brings the message.
 */
int	cache_pending_done(struct cache *, const struct cache_pending *, size_t n,
	    const uint32_t *real_uids, struct error *err);
/*
 * The server refused (undo: true, the cache change is undone) or the message
 * is gone (undo false): retire the rows.
 */
int	cache_pending_fail(struct cache *, const struct cache_pending *, size_t n,
	    bool undo, struct error *err);
/* Keep the rows but note why they could not be sent (shown by `petrel pending`). */
int	cache_pending_note(struct cache *, const struct cache_pending *, size_t n,
	    const char *why, struct error *err);
/*
 * UIDVALIDITY of a folder changed: its rows lose their UIDs (uid 0) inside the
 * transaction that resets the folder, and after the new messages are stored
 * cache_pending_retarget() gives each the UID of the message with its
 * Message-ID where exactly one has it, re-applying its local change. *lostp
 * gets how many could not be retargeted (dropped).
 */
int	cache_pending_retarget(struct cache *, int64_t folder_id, uint64_t *lostp,
	    struct error *err);

/* ---- POP3 (cache/pop3.c) ------------------------------------------------- */

/*
 * What a POP3 account knows of its server: one row per message it ever
 * downloaded (or, with pop3_headers_only, indexed), kept after the message
 * leaves the server or the local INBOX, so a message is never downloaded
 * twice. The key is the server's UIDL, or, from a server without UIDL,
 * "sha256:HEX" of the message's header block (hashed = true).
 *
 * A buggy server may list one UIDL for several messages: each gets its own
 * row, numbered by dup (0, 1, ...), so they are kept apart and never merged.
 *
 * first_seen is when petrel first saw the message: pop3_delete = after:DAYS
 * counts from it. stored says the message's bytes are committed (its body
 * was written in the transaction that set it, and the bodies file commits
 * first): only stored messages are ever deleted from the server.
 */
enum cache_pop3_server {
	CACHE_POP3_ON_SERVER = 0,	/* listed by the last sync */
	CACHE_POP3_DELETED = 1,		/* petrel deleted it (QUIT answered +OK) */
	CACHE_POP3_GONE = 2,		/* no longer listed, removed by someone else */
};

struct cache_pop3_row {
	int64_t		 id;
	const char	*uidl;		/* UIDL, or "sha256:HEX" when hashed */
	bool		 hashed;
	int		 dup;		/* 0, or n for the n+1th message with this key */
	uint32_t	 uid;		/* the UID it was given in the local INBOX */
	int64_t		 size;		/* octets, as LIST said (0 when unknown) */
	int64_t		 first_seen;	/* unix time */
	bool		 stored;	/* its bytes are committed locally */
	enum cache_pop3_server server;
	int64_t		 server_time;	/* unix time of the last server change */
	bool		 expunged;	/* its local message is gone (expunged,
					   or moved to a local folder) */
};

/*
 * The POP3 table of an open cache, with its prepared statements. Opening
 * makes every commit durable (synchronous = FULL) until it is closed: POP3
 * deletes messages from the server once they are committed here. Close it
 * before the cache.
 */
struct cache_pop3;
int	cache_pop3_open(struct cache *, struct cache_pop3 **pp, struct error *err);
void	cache_pop3_close(struct cache_pop3 **pp);
typedef int (*cache_pop3_cb)(void *arg, const struct cache_pop3_row *);
/* Every row, in the order they were added. A non-zero cb return stops with -1. */
int	cache_pop3_foreach(struct cache_pop3 *, cache_pop3_cb, void *arg,
	    struct error *err);
/*
 * Add a row (its id is ignored; *idp gets the new one). The message
 * (folder_id, row->uid), when it exists, is linked to the row so the row
 * follows it; deleting the message keeps the row.
 */
int	cache_pop3_add(struct cache_pop3 *, const struct cache_pop3_row *,
	    int64_t folder_id, int64_t *idp, struct error *err);
int	cache_pop3_set_stored(struct cache_pop3 *, int64_t id, struct error *err);
int	cache_pop3_set_server(struct cache_pop3 *, int64_t id,
	    enum cache_pop3_server, int64_t when, struct error *err);


/* ---- Index views (view.c) ------------------------------------------------- */

/*
 * A folder's messages as the index shows them: sorted, maybe limited by a
 * pattern, read a page at a time from a key (keyset paging: the cost of a
 * page does not grow with the folder, and no OFFSET is ever used).
 */
enum cache_sort {
	CACHE_SORT_DATE,	/* Date:, then UID */
	CACHE_SORT_ARRIVAL,	/* UID: the order the server got them */
	CACHE_SORT_FROM,
	CACHE_SORT_SUBJECT,
	CACHE_SORT_SIZE,
	CACHE_SORT_THREADS,	/* thread_path: threads by their first message */
};
const char	*cache_sort_name(enum cache_sort);
/* "date", "arrival", "from", "subject", "size" (mutt's names): 0, or -1. */
int		 cache_sort_parse(const char *, enum cache_sort *);

/* Where a row sits in a sort order. */
struct cache_key {
	int64_t		 num;
	char		*text;		/* text sorts: owned copy */
	uint32_t	 uid;
};
void	cache_key_set(struct cache_key *, enum cache_sort, const struct cache_msg *);
void	cache_key_clear(struct cache_key *);

struct cache_pattern;

struct cache_view {
	int64_t			 folder_id;
	enum cache_sort		 sort;
	bool			 reverse;	/* not with CACHE_SORT_THREADS */
	const struct cache_pattern *limit;	/* NULL: every message */
	/*
	 * Threads: the replies of the threads in the connection's collapse
	 * list are left out, or with collapse_all the replies of every
	 * thread but those in the list.
	 */
	bool			 collapse_all;
	/*
	 * The limit matches few messages: read the folder's rows in
	 * storage order and sort what matches, rather than walk the sort
	 * order's index looking up every row (four times slower then).
	 */
	bool			 sparse;
};

/*
 * Up to n rows in display order after key (dir > 0) or before it (dir < 0,
 * nearest first), key itself included when inclusive; key NULL starts
 * from the first (dir > 0) or the last (dir < 0) row. Hidden rows are
 * never shown. Returns the number of rows passed to cb, or -1.
 */
int	cache_view_page(struct cache *, const struct cache_view *,
	    const struct cache_key *key, int dir, bool inclusive, int n,
	    cache_msg_cb cb, void *arg, struct error *err);
/* Rows of the view, or rows before key in display order; -1 on error. */
int64_t	cache_view_count(struct cache *, const struct cache_view *,
	    const struct cache_key *before, struct error *err);


/* Tags: the UI's marks for bulk actions, kept by the connection only. */
int	cache_tag_set(struct cache *, int64_t folder_id, const uint32_t *uids,
	    size_t n, bool on, struct error *err);
void	cache_tag_clear(struct cache *);
int64_t	cache_tag_count(struct cache *, int64_t folder_id);
bool	cache_tag_has(struct cache *, int64_t folder_id, uint32_t uid);


/* ---- Threads (thread.c) ---------------------------------------------------- */

/* A thread_path is segments of this many characters, the root's first. */
#define CACHE_THREAD_SEG	20

/*
 * Thread the messages of a folder that are not yet (in short write
 * transactions, oldest first): returns how many, or -1. When yield is set
 * and returns non-zero between two transactions, it stops there (the rest
 * is threaded by the next call).
 */
int	cache_thread_update(struct cache *, int64_t folder_id,
	    int (*yield)(void *), void *arg, struct error *err);
/* 0 for a thread's first message, 1 for a reply to it ... */
int	cache_thread_depth(const char *thread_path);
/* The UID of the parent in the path (0 for none). */
uint32_t cache_thread_parent_uid(const char *thread_path);
int64_t	cache_thread_count_under(struct cache *, int64_t folder_id,
	    const char *thread_path, struct error *err);
bool	cache_thread_has_next_sibling(struct cache *, int64_t folder_id,
	    const char *thread_path);
/* The connection's collapse list: thread roots (their first segment). */
int	cache_thread_collapse(struct cache *, const char *thread_path, bool on,
	    struct error *err);
bool	cache_thread_collapsed(struct cache *, const char *thread_path);
void	cache_thread_collapse_clear(struct cache *);


/* ---- Patterns (pattern.c) -------------------------------------------------- */

/*
 * mutt's search patterns (see PATTERNS in petrel(1)), compiled to SQL.
 * now is the reference time of relative dates (0: the current time).
 * ERR_USAGE naming the problem and its position on bad input.
 */
int	cache_pattern_compile(const char *text, int64_t now,
	    struct cache_pattern **pp, struct error *err);
void	cache_pattern_free(struct cache_pattern **pp);
/* Does it search the text index (~b ~B ~h)? */
bool	cache_pattern_has_text(const struct cache_pattern *);
/*
 * The pattern's ~b ~B ~h terms: the i-th one's key (its text-index query),
 * *whichp its letter and *wordp its word; NULL past the last.
 */
int	cache_pattern_ntexts(const struct cache_pattern *);
const char *cache_pattern_text(const struct cache_pattern *, int i,
	    char *whichp, const char **wordp);
/*
 * What a server's SEARCH found for the term keyed key in a folder: the
 * pattern then matches those messages too (their bodies need not be
 * cached). Replaces what was stored for that key before.
 */
int	cache_server_hits_put(struct cache *, int64_t folder_id, const char *key,
	    const uint32_t *uids, size_t n, struct error *err);
/* UIDs of the visible messages of a folder that match, ascending. */
int	cache_pattern_select(struct cache *, int64_t folder_id,
	    const struct cache_pattern *, cache_uid_cb cb, void *arg,
	    struct error *err);

/* ---- Outbox (cache/outbox.c) ------------------------------------------ */

/*
 * Mail to send. A message is committed here (durably) before anything is
 * sent; the engine sends it, marks it sent the moment the server has
 * taken it (so it is never sent twice), files it in the record folder,
 * and removes it. A refusal the user has to act on holds it.
 */
enum cache_outbox_state {
	CACHE_OUTBOX_QUEUED = 0,	/* to send, at next_try or later */
	CACHE_OUTBOX_SENT = 1,		/* taken by the server; filing left */
	CACHE_OUTBOX_HELD = 2,		/* refused: last_error says why */
	CACHE_OUTBOX_DRAFT = 3,		/* postponed: never sent, only filed
					   in the drafts folder */
};

struct cache_outbox {
	int64_t		 id;
	int64_t		 created;
	char		*env_from;	/* envelope sender address */
	char		*rcpts;		/* envelope recipients, one per line */
	char		*subject;	/* UTF-8, for lists */
	char		*to;		/* the To header as written, for lists */
	char		*message_id;
	char		*message;	/* cache_outbox_get only; NUL-ended */
	size_t		 len;		/* the message's size */
	enum cache_outbox_state state;
	int		 attempts;
	int64_t		 next_try;	/* UTC seconds */
	char		*last_error;
	int64_t		 sent_at;	/* UTC seconds, or 0 */
};

/* Add (a durable commit) in its state; *idp gets its id. */
int	cache_outbox_add(struct cache *, const struct cache_outbox *,
	    int64_t *idp, struct error *err);
/* All rows, oldest first, without their messages. */
int	cache_outbox_list(struct cache *, struct cache_outbox **rowsp,
	    size_t *np, struct error *err);
/* One row with its message; ERR_USAGE when there is no such id. */
int	cache_outbox_get(struct cache *, int64_t id, struct cache_outbox *,
	    struct error *err);
/* Rows in state (-1: all). */
int64_t	cache_outbox_count(struct cache *, int state);
/* The server took it (when: UTC seconds). */
int	cache_outbox_sent(struct cache *, int64_t id, int64_t when,
	    struct error *err);
/* Not now (4xx, offline): one more attempt, the next at next_try. */
int	cache_outbox_defer(struct cache *, int64_t id, int64_t next_try,
	    const char *why, struct error *err);
/* Refused: held for the user (a sent row stays sent, noting why). */
/* A row's state now (CACHE_OUTBOX_*), -1 when it is gone or unreadable. */
int	cache_outbox_state(struct cache *, int64_t id);
int	cache_outbox_hold(struct cache *, int64_t id, const char *why,
	    struct error *err);
/* Note why without changing its state (filing a sent one failed). */
int	cache_outbox_note(struct cache *, int64_t id, const char *why,
	    struct error *err);
/* Held or waiting: queue it to go now. */
int	cache_outbox_retry(struct cache *, int64_t id, struct error *err);
int	cache_outbox_remove(struct cache *, int64_t id, struct error *err);
void	cache_outbox_clear(struct cache_outbox *);
void	cache_outbox_free(struct cache_outbox *, size_t n);

#endif
