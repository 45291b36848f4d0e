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

struct sync_opts {
	bool		  bodies;	/* also download full messages */
	char		**folders;	/* folder names (UTF-8) to sync, or NULL: all */
	int		  nfolders;
	engine_progress_cb progress;
	void		 *progress_arg;
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
};

/*
 * Bring the cache up to date with the server (the whole protocol depends on
 * the account: IMAP folders, or POP3's UIDL download). On failure the cache
 * keeps everything committed so far, and the next sync resumes from there.
 */
int	engine_sync(const struct account *, struct cache *, const struct sync_opts *,
	    struct sync_stats *stats, struct error *err);

/* Download one message body into the cache (for `show` of an uncached body). */
int	engine_fetch_body(const struct account *, struct cache *, const char *folder,
	    uint32_t uid, struct error *err);

/* ---- Internal to the engine (per protocol) ---------------------------- */
int	imap_sync(const struct account *, const char *password, struct cache *,
	    const struct sync_opts *, struct sync_stats *, struct error *);
int	imap_fetch_one_body(const struct account *, const char *password,
	    struct cache *, const char *folder, uint32_t uid, struct error *);
int	pop3_sync(const struct account *, const char *password, struct cache *,
	    const struct sync_opts *, struct sync_stats *, struct error *);
int	pop3_fetch_one_body(const struct account *, const char *password,
	    struct cache *, uint32_t uid, struct error *);

#endif
