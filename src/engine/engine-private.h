/* Internals of the engine, shared by its files only. */
#ifndef PETREL_ENGINE_PRIVATE_H
#define PETREL_ENGINE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "net.h"
#include "proto.h"

struct cache_msg;

/* The index fields of one message, decoded from its header block. */
struct index_fields {
	char	*from;
	char	*to;
	char	*cc;
	char	*subject;
	char	*message_id;
	char	*in_reply_to;
	char	*references;
	bool	 has_date;
	int64_t	 date;
	int	 date_tz;
};

void	index_fields_init(struct index_fields *);
void	index_fields_free(struct index_fields *);
/* Parse a header block (replacing what f held). */
void	index_fields_parse(struct index_fields *, const char *hdr, size_t len);
/* Bytes of f's strings with their NULs, for index_fields_copy(). */
size_t	index_fields_size(const struct index_fields *);
/*
 * Copy src's strings into room (index_fields_size(src) bytes) and point
 * dst at them; dst does not own them (no index_fields_free).
 */
void	index_fields_copy(struct index_fields *dst,
	    const struct index_fields *src, char *room);
/* Point m's text fields at f's; the date falls back to m->internaldate. */
void	index_fields_to_msg(const struct index_fields *, struct cache_msg *m);

/* ---- The store thread (store.c) -------------------------------------- */

/* New messages committed per transaction (each commit moves synced_uid). */
#define SYNC_BATCH		2000
/* A cold sync fetches this many of the newest messages first (a screen). */
#define SYNC_HEAD		200

struct cache;
struct cache_folder;
struct sync_stats;

/*
 * One item for the store thread: an IMAP message's index row, or whatever
 * the protocol hangs on ext (POP3: a whole message). Its strings live in
 * the room store_item_new() gave with it (the batch's arena), not on the
 * heap.
 */
struct store_item {
	uint32_t		 uid;
	uint32_t		 flags;
	char			*keywords;
	uint64_t		 modseq;
	int64_t			 internaldate;
	int64_t			 size;
	bool			 flags_only;	/* a flag change of a cached message */
	struct index_fields	 fields;	/* pointing into the room */
	char			*heap;		/* the room, when too big for a batch */
	void			*ext;		/* the protocol's own, released by
						   store_ops.release */
	size_t			 weight;	/* memory it holds outside the batch */
};

/*
 * What the store thread does with items, called on that thread with the
 * transaction open. put stores one item; commit adds what must be saved
 * with each commit (the resume markers; last: the final one); finishing
 * is called once before the final commit (all_seen: the download ended
 * normally); committed after each commit but the final one (progress);
 * release frees an item's ext, stored or not.
 */
struct store_ops {
	int	(*put)(void *arg, struct store_item *, struct error *);
	int	(*commit)(void *arg, bool last, struct error *);
	void	(*finishing)(void *arg, bool all_seen);
	void	(*committed)(void *arg, uint64_t stored);
	void	(*release)(void *arg, struct store_item *);
};

/* When to commit: every commit_items items (0: SYNC_BATCH) or commit_bytes
 * of their weight (0: no bound), and whenever the queue runs dry. bulk:
 * foreign keys off meanwhile (rows known to be consistent). */
struct store_limits {
	uint64_t	commit_items;
	uint64_t	commit_bytes;
	bool		bulk;
};
struct store;

/*
 * Start the store thread; the caller must not use the cache until
 * store_finish().
 */
struct store *store_start(struct cache *, const struct store_ops *, void *arg,
	    const struct store_limits *);
/*
 * The next item (zeroed) with room for bytes of its strings in *roomp; the
 * engine thread fills both, then store_push() queues it. Items travel in
 * batches that the writer hands back for reuse: no malloc or free per
 * message, and none across threads.
 */
struct store_item *store_item_new(struct store *, size_t bytes, char **roomp);
/* Queue the item from store_item_new(); -1 once the writer has failed. */
int	store_push(struct store *, struct store_item *, struct error *err);
/*
 * Commit what is queued and stop. all_seen: the download ended normally
 * (for store_ops.finishing). -1 with the writer's error.
 */
int	store_finish(struct store **, bool all_seen, struct error *err);

/* Header fields the index needs, as fetched from IMAP. */
#define INDEX_HEADER_FIELDS \
	"FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES"

/*
 * Fill pp from the account for imap_connect()/pop3_connect() (params.c);
 * returns pp. The strings stay the account's.
 */
/*
 * A compact UID set ("1:5,9") of uids[0..n), ascending; a UID given twice
 * is named once.
 */
struct buf;
void	engine_uidset(struct buf *, const uint32_t *uids, size_t n);

struct proto_params;
const struct proto_params *engine_proto_params(const struct account *,
	    struct proto_params *pp);

/* ---- Sessions and drivers (session.c, drivers.c) ------------------------ */

struct channel;
struct imap_client;

/*
 * What a message operation of a driver (store_flags, copy, move, expunge)
 * returns when it did not work: the replay tells a server that said no
 * (undo the local change, report the server's words) from a connection
 * that went away (stop, keep the actions pending for the next time).
 */
#define DRV_LOST	(-1)	/* connection or cache failed: err says why */
#define DRV_REFUSED	1	/* the server refused: err has its words */

/*
 * What a copy or move made (IMAP: COPYUID, RFC 4315): src[i] is dst[i]
 * in a destination of this UIDVALIDITY (0: the server did not say).
 * source_kept: a move that copied but could not remove the originals;
 * kept_why says why, and both stay.
 */
struct drv_copied {
	uint32_t	 uidvalidity;
	uint32_t	*src, *dst;
	size_t		 n;
	bool		 source_kept;
	struct error	 kept_why;
};
void		drv_copied_free(struct drv_copied *);
/* The destination UID of src, 0 when the server did not name it. */
uint32_t	drv_copied_lookup(const struct drv_copied *, uint32_t src);

/* How a sync runs the pending queue before it starts (replay.c). */
typedef int (*engine_replay_fn)(void *arg, const struct sync_opts *,
	    struct replay_stats *, struct error *);

/*
 * A protocol behind one interface (isync's driver shape). The session calls
 * these on its worker thread and nowhere else decides by protocol; an
 * operation the protocol has no concept of is NULL. connect opens what the
 * protocol keeps open (IMAP: one connection for the whole session; POP3
 * keeps none, since a POP3 session locks the maildrop and sees no new mail
 * until it ends, so each POP3 step logs in and QUITs).
 *
 * The message operations (select to find_message_id) are what the replay
 * of local actions (replay.c) is written with; they work in the folder the
 * last select opened. UID sets are compact ("1:5,9", engine_uidset()).
 */
struct engine_driver {
	const char	*name;
	/* Log in, when the protocol keeps a connection; 0 when it is open. */
	int		(*connect)(struct session *, struct error *);
	/*
	 * List the server's folders into the cache (new ones added, gone
	 * ones removed); *namesp (caller frees, free_names()) gets those that
	 * hold messages, UTF-8, in the server's order. POP3: INBOX, whose row
	 * its sync_folder makes.
	 */
	int		(*list)(struct session *, char ***namesp, size_t *np,
			    struct sync_stats *, struct error *);
	/*
	 * Bring one listed folder (UTF-8 name) up to date: flags, new
	 * messages, expunges (and bodies with opts->bodies); opts->changed
	 * hears of it when something changed.
	 */
	int		(*sync_folder)(struct session *, const char *folder,
			    const struct sync_opts *, struct sync_stats *,
			    struct error *);
	/*
	 * The same steps as session_sync_run() (replay, list, sync_folder
	 * for each folder) in one pass of the driver's own, where it can skip
	 * more: IMAP asks STATUS before LIST and does not select a folder
	 * that did not change, and asks QUOTA and MYRIGHTS after a sync of
	 * every folder. NULL: session_sync_run() does it step by step (POP3).
	 */
	int		(*sync)(struct session *, const struct sync_opts *,
			    struct sync_stats *, struct error *);
	/*
	 * Download one body into the cache. head_id not 0: a long body's
	 * head first, told of by SESSION_EV_BODY_HEAD with that id (where
	 * the protocol can fetch part of a message).
	 */
	int		(*fetch_body)(struct session *, const char *folder,
			    uint32_t uid, uint64_t head_id, struct error *);
	/*
	 * Open a folder (its server name) for the message operations:
	 * read-write, or read-only (!rw) to look only. *uidvalidityp gets its
	 * UIDVALIDITY. 0, or -1 with nothing open. NULL when the protocol has
	 * no server folders (POP3: flags, keywords and local folders live in
	 * the cache only, so nothing is replayed).
	 */
	int		(*select)(struct session *, const char *remote, bool rw,
			    uint32_t *uidvalidityp, struct error *);
	/*
	 * Add (or remove) flags (MSG_* bits) and keywords (space-separated,
	 * may be NULL) on uidset, silently. 0, DRV_REFUSED or DRV_LOST.
	 */
	int		(*store_flags)(struct session *, const char *uidset,
			    bool add, uint32_t flags, const char *keywords,
			    struct error *);
	/*
	 * Copy uidset to dest (a server name); *cp gets what the server
	 * said of the new UIDs (drv_copied_free() it either way). 0,
	 * DRV_REFUSED or DRV_LOST.
	 */
	int		(*copy)(struct session *, const char *uidset,
			    const char *dest, struct drv_copied *cp,
			    struct error *);
	/*
	 * Move uidset to dest, as copy. A move never removes other messages
	 * than these (IMAP: UID MOVE, else UID COPY, \Deleted, UID EXPUNGE;
	 * never a bare EXPUNGE). When the copy was made but the originals
	 * could not go, 0 with cp->source_kept.
	 */
	int		(*move)(struct session *, const char *uidset,
			    const char *dest, struct drv_copied *cp,
			    struct error *);
	/*
	 * Remove uidset for good. asked: the user expunged, so where the
	 * server cannot name UIDs (IMAP without UIDPLUS) everything marked
	 * deleted may go; otherwise the messages stay, only marked deleted.
	 * 0, DRV_REFUSED or DRV_LOST.
	 */
	int		(*expunge)(struct session *, const char *uidset, bool asked,
			    struct error *);
	/* Is uid still in the open folder? 1 yes, 0 no, -1 error. */
	int		(*find_uid)(struct session *, uint32_t uid,
			    struct error *);
	/*
	 * *uidp gets a message of the open folder with this Message-ID, 0
	 * when there is none (or it cannot be asked for). 0, or -1.
	 */
	int		(*find_message_id)(struct session *, const char *mid,
			    uint32_t *uidp, struct error *);
	/*
	 * Write into the cache what the server reported by itself during
	 * the operations (IMAP: untagged EXPUNGE, FETCH...); NULL when
	 * nothing is kept. -1 when the cache failed.
	 */
	int		(*flush_changes)(struct session *, struct error *);
	/* UID SEARCH BODY/TEXT word in folder, into server_hits; NULL: none. */
	int		(*search)(struct session *, const char *folder,
			    const char *key, char which, const char *word,
			    struct error *);
	/* Ask what changed (NOOP) and take it into the cache. */
	int		(*check)(struct session *, struct error *);
	/*
	 * Wait on the open connection for changes the server reports by
	 * itself (IMAP IDLE), taking them into the cache as they come, until
	 * wake_fd is readable: 0, or 1 when the server cannot (no IDLE), or
	 * -1. NULL when the protocol has no such wait (POP3).
	 */
	int		(*wait_changes)(struct session *, int wake_fd,
			    struct error *);
	/*
	 * APPEND msg to folder (the server's name) with flags ("\\Seen");
	 * NULL when the protocol has no server folders (POP3).
	 */
	int		(*append)(struct session *, const char *folder,
			    const char *flags, const char *msg, size_t len,
			    struct error *);
	/* True while the connection (if any) is usable. */
	bool		(*online)(struct session *);
	/* LOGOUT/QUIT and close, when open. */
	void		(*logout)(struct session *);
	/*
	 * Is the connection still there? Answer within timeout_ms (a NOOP);
	 * -1 when it is not (then it is closed). NULL: nothing kept open.
	 */
	int		(*probe)(struct session *, int timeout_ms, struct error *);
	/* Close without a word to the server (it may be long gone). */
	void		(*drop)(struct session *);
};

/*
 * Send the pending queue (cache/pending.c) through the driver's message
 * operations, exactly once (replay.c); 0 at once when the driver has none
 * (no select). flush: let the driver write what the server said meanwhile
 * (not when a sync of the driver's runs the replay itself).
 */
int	session_replay_pending(struct session *, const struct sync_opts *,
	    struct replay_stats *, bool flush, struct error *);
/*
 * A sync (opts->folders, or all) through the driver: its own sync when it
 * has one, else the pending queue, list, then sync_folder for each folder,
 * the between hook between them, and the queue again when a UIDVALIDITY
 * change held actions back (syncloop.c).
 */
int	session_sync_run(struct session *, const struct sync_opts *,
	    struct sync_stats *, struct error *);
/* Free n names and the array. */
void	free_names(char **names, size_t n);
/* The same, as an engine_replay_fn for a driver's sync (arg: session). */
int	session_replay_fn(void *, const struct sync_opts *,
	    struct replay_stats *, struct error *);

/* New mail (newmail.c). */
struct newmail_mark;
void	newmail_init(struct session *);
void	newmail_note(struct session *, const char *folder);
void	newmail_check(struct session *);
void	newmail_free(struct session *);
void	session_post_body_head(struct session *, uint64_t id);
void	session_post_newmail(struct session *, const char *folder,
	    size_t count, const char *from, const char *subject);
/* Between commands, after the driver synced by itself (drivers.c). */
void	session_settle(struct session *);

extern const struct engine_driver engine_imap_driver;
extern const struct engine_driver engine_pop3_driver;

/* The IMAP driver's message operations (imapdrv.c), for its table. */
int	imapdrv_select(struct session *, const char *remote, bool rw,
	    uint32_t *uidvalidityp, struct error *);
int	imapdrv_store_flags(struct session *, const char *uidset, bool add,
	    uint32_t flags, const char *keywords, struct error *);
int	imapdrv_copy(struct session *, const char *uidset, const char *dest,
	    struct drv_copied *, struct error *);
int	imapdrv_move(struct session *, const char *uidset, const char *dest,
	    struct drv_copied *, struct error *);
int	imapdrv_expunge(struct session *, const char *uidset, bool asked,
	    struct error *);
int	imapdrv_find_uid(struct session *, uint32_t uid, struct error *);
int	imapdrv_find_message_id(struct session *, const char *mid,
	    uint32_t *uidp, struct error *);

enum session_secret_which {
	SESSION_SECRET_LOGIN,	/* the account's (IMAP, POP3, and SMTP too) */
	SESSION_SECRET_SMTP,	/* smtp_password[_command] */
	SESSION_SECRETS
};

struct session {
	const struct account	*acct;
	const struct engine_driver *drv;
	char			*cache_path;
	struct cache		*cache;		/* the worker's own connection */
	struct channel		*cmds, *events;
	int			 stop_fd;	/* eventfd: every wait ends */
	pthread_t		 thread;
	enum session_state	 state;

	/*
	 * The secrets, each asked once (SESSION_EV_PASSWORD, its text NULL
	 * for the login's, "smtp" for the SMTP server's own), under pw_lock.
	 */
	pthread_mutex_t		 pw_lock;
	pthread_cond_t		 pw_cond;
	struct session_secret {
		char		*value;
		bool		 answered;
		struct error	 error;		/* why there is none */
	}			 secrets[SESSION_SECRETS];
	bool			 oauth_force;	/* refresh the token (pw_lock) */
	/* Trust on first use: the pins file, a key the user accepted for
	 * this session (under pw_lock), what the last refusal showed. */
	char			*known_hosts;
	char			 trust_once[64];	/* a pin-sha256 */
	char			 trust_copy[64];	/* the worker's */
	struct tls_peer		 peer;			/* worker's */
	bool			 stopping;	/* under pw_lock */
	bool			 busy;		/* running a command; pw_lock */

	uint64_t		 next_id;	/* under pw_lock */
	uint64_t		 progress_ms;	/* last PROGRESS event */
	int			 nesting;	/* commands run from between() */
	bool			 text_dirty;	/* bodies stored, maybe unindexed */
	bool			 thread_dirty;	/* headers stored, maybe unthreaded */
	bool			 no_wait;	/* wait_changes failed: not again
						   before the next command */
	_Atomic bool		 watch;		/* session_watch() */
	uint64_t		 reconnect_at;	/* watched, connection lost: when
						   to try again (0: not) */
	int			 backoff_ms;	/* the last delay before that */
	uint64_t		 online_since;	/* now_ms() of the last login */
	char			*watch_folder;	/* UTF-8: where to IDLE (INBOX) */
	bool			 notify;	/* ask for NOTIFY (until refused) */
	bool			 background;	/* ENGINE_BACKGROUND: niced */
	int			 poll_interval_ms; /* NOOP without IDLE; 0: none */
	char			**only;		/* watch_opts.folders, or NULL */
	bool			 netwatched;	/* registered with netwatch */
	_Atomic int		 net_pending;	/* NETWATCH_* + 1 queued, or 0 */
	int			 nonly;

	/* New mail (newmail.c). */
	char			*new_mail_command;
	bool			 nm_ready;	/* marks taken */
	struct newmail_mark	*nm_marks;
	size_t			 nm_nmarks;
	char			**nm_noted;	/* folders changed since the check */
	size_t			 nm_nnoted;

	/* Driver state. */
	struct imap_client	*imap;
	struct session_changes	*chg;	/* what untagged responses said */
};

/* The password for a login (asking the owner once); -1 when refused/stopped. */
int	session_get_password(struct session *, const char **pwp,
	    struct error *err);
/* Forget the password (the server refused it): the next login asks again. */
void	session_forget_password(struct session *);
/* The SMTP server's secret: its own when configured, else the login's. */
int	session_get_smtp_password(struct session *, const char **pwp,
	    struct error *err);
void	session_forget_secret(struct session *, enum session_secret_which);
/* Connected through the driver, or -1 with err set (a refusal posted). */
int	session_ensure_online(struct session *, struct error *err);
/* A refused certificate, for the owner to ask the user about. */
void	session_post_trust(struct session *, const struct tls_peer *);
/*
 * The outbox (outbox.c): send what is due (only: that one message, due
 * or not), file what was sent; counts into st. -1 with err set to the
 * first failure (each message keeps its own in the outbox).
 */
int	session_send_outbox(struct session *, int64_t only,
	    struct sync_stats *st, struct error *err);
/* net's description of a refused certificate, as the engine shows it. */
void	session_cert_from_peer(struct session_cert *, const struct tls_peer *);
/* A refused OAuth2 token: forgotten, true (get a fresh one and retry once). */
bool	session_token_refused(struct session *, const struct error *err);
/* Connection parameters with the session's stop fd. */
const struct proto_params *session_params(struct session *,
	    struct proto_params *);
void	session_set_state(struct session *, enum session_state);
/* Post SESSION_EV_FOLDER for a folder (UTF-8 name). */
void	session_changed(struct session *, const char *folder);
struct session_changes;

/* ---- Per protocol (imapsync.c, pop3sync.c, replay.c) -------------------- */
/*
 * replay (with replay_arg) runs the pending queue first, and again after
 * a UIDVALIDITY change retargeted actions; NULL: it is not run.
 */
int	imap_sync(struct imap_client *, const struct account *, struct cache *,
	    const struct sync_opts *, engine_replay_fn replay, void *replay_arg,
	    struct sync_stats *, struct error *);
/* LIST into the cache (the driver's list): see engine_driver.list. */
int	imap_list_folders(struct imap_client *, const struct account *,
	    struct cache *, char ***namesp, size_t *np, struct sync_stats *,
	    struct error *);
/* One folder of the cache (UTF-8 name), as imap_sync syncs each. */
int	imap_sync_one(struct imap_client *, const struct account *,
	    struct cache *, const char *folder, const struct sync_opts *,
	    struct sync_stats *, struct error *);
/*
 * Told when the head of a long body is in the cache (cache_head_get),
 * before the rest is asked for.
 */
struct body_head_hook {
	void	(*done)(void *arg);
	void	 *arg;
};
/* head NULL: the body only, in one piece. */
int	imap_fetch_one_body(struct imap_client *, const struct account *,
	    struct cache *, const char *folder, uint32_t uid,
	    const struct body_head_hook *head, struct error *);
int	pop3_sync(const struct proto_params *, const char *password,
	    const struct account *, struct cache *, const struct sync_opts *,
	    struct sync_stats *, struct error *);
int	pop3_fetch_one_body(const struct proto_params *, const char *password,
	    const struct account *, struct cache *, uint32_t uid,
	    struct error *);

#endif
