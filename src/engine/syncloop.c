/*
 * A sync step by step through the driver (struct engine_driver): replay
 * the pending queue, list the folders, sync each. A driver that can do it
 * in one cheaper pass has a sync of its own (IMAP), and then that runs.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "engine-private.h"
#include "util.h"
#include "xmalloc.h"

void
free_names(char **names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The listed name of folder (INBOX in any case, RFC 3501 5.1), or NULL. */
static const char *
listed(char **names, size_t n, const char *folder)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], folder) == 0 ||
		    (strcasecmp_ascii(names[i], "INBOX") == 0 &&
		    strcasecmp_ascii(folder, "INBOX") == 0))
			return names[i];
	return NULL;
}

/* Sync these folders, the between hook between two. */
static int
sync_each(struct session *s, const char *const *folders, size_t n,
    const struct sync_opts *opts, struct sync_stats *stats,
    struct error *err)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i > 0 && opts->between != NULL &&
		    opts->between(opts->hook_arg, err) == -1)
			return -1;
		if (s->drv->sync_folder(s, folders[i], opts, stats, err) == -1)
			return -1;
	}
	return 0;
}

static int
sync_steps(struct session *s, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	const char	**want = NULL;
	char		**names = NULL;
	size_t		  n = 0, i;
	int		  rv = -1;

	if (session_replay_pending(s, opts, &stats->replay, true, err) == -1 ||
	    s->drv->list(s, &names, &n, stats, err) == -1)
		goto out;
	if (opts->nfolders > 0) {
		/* Check every name first: fail before doing half the work. */
		want = xcalloc((size_t)opts->nfolders, sizeof *want);
		for (i = 0; i < (size_t)opts->nfolders; i++)
			if ((want[i] = listed(names, n, opts->folders[i])) ==
			    NULL) {
				error_set(err, ERR_USAGE, "no folder named "
				    "\"%s\" on %s", opts->folders[i],
				    s->acct->host);
				goto out;
			}
		rv = sync_each(s, want, (size_t)opts->nfolders, opts, stats,
		    err);
	} else
		rv = sync_each(s, (const char *const *)names, n, opts, stats,
		    err);
	/* Actions held back by a UIDVALIDITY change were retargeted. */
	if (rv == 0 && stats->replay.waiting > 0) {
		stats->replay.waiting = 0;
		rv = session_replay_pending(s, opts, &stats->replay, true, err);
	}
out:
	free(want);
	free_names(names, n);
	return rv;
}

int
session_sync_run(struct session *s, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	if (s->drv->sync != NULL)
		return s->drv->sync(s, opts, stats, err);
	return sync_steps(s, opts, stats, err);
}
