/*
 * The engine: keeps an account's cache in step with its server.
 *
 * An engine session (engine_start) is one account's worker thread. It owns
 * the account's connection (kept open between commands where the protocol
 * allows), its own connection to the cache, and the password, obtained once
 * per session through the owner (SESSION_EV_PASSWORD). Commands go in
 * through a channel; events come out through another, with a file
 * descriptor the owner polls. Events are facts ("folder changed", "command
 * 7 done"), never shared data: the owner re-reads the cache.
 *
 * The TUI runs one session per account; the headless commands run the same
 * sessions, one command at a time, through engine_call().
 */
#ifndef PETREL_ENGINE_H
#define PETREL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "util.h"

struct account;
struct cache;

/* Called now and then during a sync; total is 0 when unknown. */
typedef void (*engine_progress_cb)(void *arg, const char *folder,
    uint64_t done, uint64_t total);

/* A one-line fact for the user (an action refused, dropped...). */
typedef void (*engine_notice_cb)(void *arg, const char *line);
/* A folder's cached messages changed (new, flags, expunged, bodies). */
typedef void (*engine_changed_cb)(void *arg, const char *folder);
/*
 * Called between steps of a long command (after each folder): 0 to go on,
 * 1 when it used the connection meanwhile (the folder selected may have
 * changed), -1 with err set to stop.
 */
typedef int (*engine_between_cb)(void *arg, struct error *err);
/* Would between run something now (a command waits, or a stop)? */
typedef bool (*engine_waiting_cb)(void *arg);

/* What a replay of local actions did. */
struct replay_stats {
	uint64_t	done;		/* acknowledged by the server */
	uint64_t	recovered;	/* of which found done after a lost answer */
	uint64_t	failed;		/* refused by the server, undone locally */
	uint64_t	dropped;	/* the message was gone: nothing to do */
	uint64_t	waiting;	/* kept for the next sync (UIDVALIDITY) */
};

struct sync_opts {
	bool		  bodies;	/* also download full messages */
	char		**folders;	/* folder names (UTF-8) to sync, or NULL: all */
	int		  nfolders;
	engine_progress_cb progress;
	void		 *progress_arg;
	engine_notice_cb notice;
	void		 *notice_arg;
	engine_changed_cb changed;
	engine_between_cb between;
	engine_waiting_cb waiting;	/* NULL: between is always worth it */
	void		 *hook_arg;	/* for changed, between and waiting */
};

struct sync_stats {
	int		folders_listed;
	int		folders_synced;		/* selected and brought up to date */
	int		folders_unchanged;	/* skipped: nothing changed */
	uint64_t	new_messages;
	uint64_t	flag_updates;
	uint64_t	expunged;
	uint64_t	bodies;
	size_t		bytes_in;
	size_t		bytes_out;
	struct replay_stats replay;	/* pending actions sent first */
	/* The outbox: sent now, waiting (offline, 4xx), held (refused),
	   sent but not filed in the record folder yet. */
	uint64_t	mail_sent, mail_waiting, mail_held, mail_unfiled;
};

/* ---- Sessions ------------------------------------------------------------ */

struct session;
struct oauth_provider;
struct oauth_tokens;

enum session_state {
	SESSION_OFFLINE,	/* not connected (yet, or after an error) */
	SESSION_CONNECTING,
	SESSION_ONLINE,
};

enum session_event_type {
	SESSION_EV_STATE,	/* state: the connection's state changed */
	SESSION_EV_PASSWORD,	/* the session needs the password: answer
				   with session_password() */
	SESSION_EV_PROGRESS,	/* folder, done, total */
	SESSION_EV_FOLDER,	/* folder: its cached messages changed */
	SESSION_EV_NOTICE,	/* text: one line for the user */
	SESSION_EV_NEWMAIL,	/* folder, count: new unseen mail came; text:
				   "FROM: SUBJECT" of the newest */
	SESSION_EV_TRUST,	/* cert: the server's certificate was refused;
				   cert->untrusted: the user may accept it
				   (session_trust), cert->changed: a pinned
				   key changed (never to be accepted here) */
	SESSION_EV_BODY_HEAD,	/* id: the head of the body that fetch is
				   bringing is in the cache (cache_head_get) */
	SESSION_EV_DONE,	/* id finished: rv, err, stats */
	SESSION_EV_ENDED,	/* the worker is gone: err says why (or none) */
};

/*
 * A certificate the trust store did not vouch for, as shown to the user
 * (the engine's copy of net's description; all printable ASCII).
 */
struct session_cert {
	bool	 untrusted;	/* may be accepted, once or always */
	bool	 changed;	/* a pinned host:port showed another key */
	char	 hostport[300];
	char	 subject[256];
	char	 issuer[256];
	char	 not_before[32];
	char	 not_after[32];
	char	 fingerprint[104];	/* sha256:AB:... of the certificate */
	char	 pin[64];		/* pin-sha256:... of its public key */
	char	 reason[200];		/* why it is not trusted */
};

struct session_event {
	enum session_event_type	 type;
	uint64_t		 id;		/* DONE, BODY_HEAD: the command's */
	enum session_state	 state;		/* STATE */
	char			*folder;	/* PROGRESS, FOLDER */
	char			*text;		/* NOTICE */
	uint64_t		 done, total;	/* PROGRESS */
	uint64_t		 count;		/* NEWMAIL */
	int			 rv;		/* DONE: 0 or -1 */
	struct error		 err;		/* DONE with -1, ENDED */
	struct sync_stats	 stats;		/* DONE of a sync or replay */
	struct session_cert	*cert;		/* TRUST */
};

/*
 * Start the account's session. cache_path NULL: the account's cache
 * ($XDG_CACHE_HOME/petrel/ACCOUNT.db), opened by the worker. No network
 * until a command needs it. NULL with err set when the thread cannot start.
 */
struct session	*engine_start(const struct account *, const char *cache_path,
		     int flags, struct error *err);
/*
 * flags: ENGINE_BACKGROUND runs the worker, and every thread it starts, at
 * a lower CPU priority (nice ENGINE_BACKGROUND_NICE): on a busy machine
 * (a cold sync keeps both cores of a small one busy with TLS, parsing and
 * SQLite) the UI's thread gets a core first, so a key is drawn at once.
 */
#define ENGINE_BACKGROUND	0x1
#define ENGINE_BACKGROUND_NICE	10
/*
 * Stop the worker at once (any network wait ends; what was committed
 * stays), join it and free everything, the password wiped. *sp gets NULL.
 */
void		 engine_stop(struct session **sp);

/* Commands: each returns its id, which its SESSION_EV_DONE carries. */
uint64_t	 session_sync(struct session *, bool bodies, char *const *folders,
		     int nfolders);
/*
 * flags: SESSION_FETCH_HEAD fetches a long body's head first (IMAP), and
 * tells of it with SESSION_EV_BODY_HEAD before the body's DONE.
 */
uint64_t	 session_fetch_body(struct session *, const char *folder,
		     uint32_t uid, int flags);
#define SESSION_FETCH_HEAD	0x1
uint64_t	 session_replay(struct session *);
/*
 * Send what waits in the outbox and is due (id 0), or message id now,
 * and file what was sent in the record folder. A sync does this first.
 */
uint64_t	 session_send(struct session *, int64_t id);
/*
 * Ask the server which messages of folder contain word (which: 'b' the
 * body, UID SEARCH BODY; 'B' the whole message, TEXT) and keep the answer
 * under key (cache_server_hits_put), so that a ~b/~B pattern also finds
 * messages whose bodies are not cached. POP3: nothing to ask (rv 0).
 */
uint64_t	 session_search(struct session *, const char *folder,
		     const char *key, char which, const char *word);
/* NOOP: see what changed on the server in the folder last used. */
uint64_t	 session_check(struct session *);
/*
 * Watch: while it has nothing to do and is connected, the session waits
 * for the server to report changes (IMAP IDLE in INBOX) and takes them
 * into the cache at once. Off by default, so that a headless command's
 * session ends without a detour; looked at when a command has run, so set
 * it before the first.
 */
void		 session_watch(struct session *, bool on);
/*
 * What a watched session does (engine_watch_opts() reads it from the
 * configuration): call before the first command.
 */
struct watch_opts {
	int		 poll_interval;	/* s between NOOPs without IDLE, 0 none */
	bool		 notify;	/* NOTIFY for the other folders' news */
	const char	*new_mail_command; /* or NULL */
	char *const	*folders;	/* UTF-8: only these are kept current */
	int		 nfolders;	/* 0: every folder */
};
struct conf;
void		 engine_watch_opts(const struct conf *, const struct account *,
		     struct watch_opts *);
void		 session_watch_opts(struct session *, const struct watch_opts *);
/*
 * The folder (UTF-8) to IDLE in, the one on the owner's screen; INBOX
 * until set, and when it is not a server folder.
 */
uint64_t	 session_watch_folder(struct session *, const char *folder);
/*
 * The answer to SESSION_EV_PASSWORD; NULL refuses (the login fails). An
 * event whose text is "smtp" asks for the SMTP server's own secret
 * (account_smtp_password()): answer with session_smtp_password().
 */
void		 session_password(struct session *, const char *password);
/* Or: no password, for this reason (the login fails with err). */
void		 session_password_error(struct session *, const struct error *);
void		 session_smtp_password(struct session *, const char *password);
void		 session_smtp_password_error(struct session *,
		     const struct error *);
/*
 * Answer a SESSION_EV_PASSWORD on this thread from the configuration
 * (account_password() or account_smtp_password(), which may prompt on
 * the terminal): what engine_call() does.
 */
void		 engine_answer_password(struct session *,
		     const struct session_event *);

/*
 * The user accepted the certificate of SESSION_EV_TRUST (its cert->pin):
 * for this session, and with always in the known-hosts file too, for
 * every session after. The next login uses it. -1 with err set when the
 * file cannot be written.
 */
int		 session_trust(struct session *, const struct session_cert *,
		     bool always, struct error *err);

/* Readable while events wait; session_event() takes one (or NULL). */
int		 session_event_fd(struct session *);
struct session_event *session_event(struct session *);
void		 session_event_free(struct session_event *);

/*
 * For the headless commands: wait for the command id to finish, answering
 * a password request with the account's password (account_password(), on
 * this thread, so a prompt on the terminal works) and passing every other
 * event to cb (may be NULL). Returns the command's rv with err set.
 */
typedef void (*engine_event_cb)(void *arg, const struct session_event *);
int		 engine_call(struct session *, uint64_t id, engine_event_cb cb,
		     void *arg, struct sync_stats *stats, struct error *err);

/*
 * One-shot forms for the headless commands and benchmarks: a session
 * started, one command, the session stopped. The cache given is the
 * caller's connection and only says which file (its path) the session uses.
 */
/*
 * Bring the cache up to date with the server (the whole protocol depends on
 * the account: IMAP folders, or POP3's UIDL download). On failure the cache
 * keeps everything committed so far, and the next sync resumes from there.
 */
int	engine_sync(const struct account *, struct cache *, const struct sync_opts *,
	    struct sync_stats *stats, struct error *err);

/*
 * Send the account's pending local actions (cache/pending.c) and nothing
 * else. POP3 accounts keep flags locally: nothing to send until the next
 * sync DELEs what was expunged.
 */
int	engine_replay(const struct account *, struct cache *, engine_notice_cb,
	    void *arg, struct replay_stats *, struct error *err);

/*
 * Index the text of cached bodies not yet in the text index (textindex.c),
 * a few per transaction; stops early (returning 0) when yield (may be NULL)
 * says so. *countp (may be NULL) gets how many were indexed. A session does
 * this by itself when idle; `petrel list` before a ~b search.
 */
int	engine_index_text(struct cache *, int (*yield)(void *), void *arg,
	    uint64_t *countp, struct error *err);

/*
 * The account's quota as its last full sync saw it (IMAP QUOTA, RFC 9208):
 * 1 with *q filled, 0 when unknown (no QUOTA, never synced, POP3).
 * Storage is in KiB. percent: the fullest resource, 0-100+.
 */
#define ENGINE_META_QUOTA	"imap_quota"
struct engine_quota {
	bool		 storage;
	uint64_t	 storage_used, storage_limit;	/* KiB */
	bool		 messages;
	uint64_t	 messages_used, messages_limit;
	int		 percent;
};
int	engine_quota(struct cache *, struct engine_quota *q);

/*
 * Put a whole message (petrel send) into the account's outbox: line ends
 * made CRLF; From (the account's from), Date and Message-ID added when
 * missing; the envelope recipients are rcpts, and with
 * OUTBOX_FROM_HEADERS also To, Cc and Bcc. OUTBOX_DRAFT postpones it
 * instead: it needs no recipients, is never sent, and the session files
 * it in the drafts folder (postponed =, else the server's \Drafts, else
 * "Drafts"). *idp gets its outbox id. Nothing is sent here.
 */
/* Cache meta key: "1" when the SMTP server last offered 8BITMIME. */
#define ENGINE_META_8BITMIME	"smtp_8bitmime"
#define OUTBOX_FROM_HEADERS	0x01
#define OUTBOX_DRAFT		0x02
int	engine_outbox_add(const struct account *, struct cache *,
	    const char *msg, size_t len, char *const *rcpts, int nrcpts,
	    int flags, int64_t *idp, struct error *err);

/* Download one message body into the cache (for `show` of an uncached body). */
int	engine_fetch_body(const struct account *, struct cache *, const char *folder,
	    uint32_t uid, struct error *err);

/*
 * The built-in OAuth2 of an account with oauth2_provider (oauth2.c): its
 * provider; the private file its tokens are kept in; keeping the tokens
 * `petrel auth` obtained; and an access token for a login, refreshed
 * (network) when it is near its end or force says the server refused it.
 */
bool	engine_oauth_builtin(const struct account *);
int	engine_oauth_provider(const struct account *, struct oauth_provider *,
	    struct error *err);
char	*engine_oauth_path(const struct account *);
int	engine_oauth_save(const struct account *, const struct oauth_tokens *,
	    struct error *err);
int	engine_oauth_token(const struct account *, bool force, char **tokenp,
	    struct error *err);

/* petrel setup (setup.c): where an address's mail may be, and a login. */
struct setup_candidate {
	enum account_proto proto;
	enum tls_mode	 tls;		/* implicit TLS or STARTTLS, never none */
	char		 host[256];
	int		 port;
	char		 user[300];	/* "" : the address, then its local part */
	char		 how[400];	/* how it was found, for the user */
};
/*
 * SRV records (RFC 6186), then autoconfig, then guesses: how many
 * candidates (in that order, each once), or -1 with err set.
 */
int	engine_setup_discover(const char *address, const char *ca_file,
	    struct setup_candidate *out, int max, struct error *err);
/*
 * Connect to c, log in as user, log out: 0, or -1 with err set; a refused
 * certificate is described in cert (cert->untrusted: it may be accepted).
 */
int	engine_setup_try(const struct setup_candidate *c, const char *user,
	    const char *password, const char *ca_file,
	    struct session_cert *cert, struct error *err);
/* Pin cert's key for its host:port in the known-hosts file. */
int	engine_trust_always(const struct session_cert *, struct error *err);

#endif
