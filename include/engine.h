/*
 * The engine: keeps an account's cache in step with its server. The calls
 * here are synchronous and run on the caller's thread: the headless commands
 * call them directly, and the TUI (its own issue) will call them from one
 * worker thread per account, talking to the UI through a command queue and
 * "folder changed" events (see doc/design.md).
 */
#ifndef PETREL_ENGINE_H
#define PETREL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct account;
struct cache;

/* Called now and then during a sync; total is 0 when unknown. */
typedef void (*engine_progress_cb)(void *arg, const char *folder,
    uint64_t done, uint64_t total);

/* A one-line fact for the user (an action refused, dropped...). */
typedef void (*engine_notice_cb)(void *arg, const char *line);

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
};

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

/* Download one message body into the cache (for `show` of an uncached body). */
int	engine_fetch_body(const struct account *, struct cache *, const char *folder,
	    uint32_t uid, struct error *err);

/* ---- Internal to the engine (per protocol) ---------------------------- */
int	imap_sync(const struct account *, const char *password, struct cache *,
	    const struct sync_opts *, struct sync_stats *, struct error *);
int	imap_fetch_one_body(const struct account *, const char *password,
	    struct cache *, const char *folder, uint32_t uid, struct error *);
struct imap_client;
int	imap_replay(struct imap_client *, struct cache *, engine_notice_cb,
	    void *arg, struct replay_stats *, struct error *);
int	imap_replay_account(const struct account *, const char *password,
	    struct cache *, engine_notice_cb, void *arg, struct replay_stats *,
	    struct error *);
int	pop3_sync(const struct account *, const char *password, struct cache *,
	    const struct sync_opts *, struct sync_stats *, struct error *);
int	pop3_fetch_one_body(const struct account *, const char *password,
	    struct cache *, uint32_t uid, struct error *);

#endif
