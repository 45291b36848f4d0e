/*
 * Filling the text index of cached bodies (cache/text.c) for ~b ~B ~h.
 *
 * A body's text is what the pager would show (the renderer with the
 * built-in HTML converter: never an external program here) and every
 * header field, decoded. The worker indexes after each command that stored
 * bodies, in short transactions of a few messages, and yields to any
 * command queued meanwhile; what is left is found again next time
 * (cache_text_unindexed), so a stop or a crash loses nothing but time.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "engine-private.h"
#include "mime.h"
#include "xmalloc.h"

/* Messages per transaction: a few ms of rendering, then the lock is free. */
#define TEXT_BATCH	16
/* The text kept of one message: enough for any real letter. */
#define TEXT_MAX	(1024 * 1024)
/*
 * The bytes of a message read for it: its text parts come first in nearly
 * every message, and a 50 MB attachment must not cost 50 MB of memory.
 */
#define TEXT_RAW_MAX	(4 * 1024 * 1024)

/* Render and store message id's text; its body is cached. */
static int
index_one(struct cache *cache, int64_t id, struct error *err)
{
	struct mime_render_opts	 ro;
	struct mime_view	*view = NULL;
	struct error		 rerr;
	char			*raw;
	size_t			 len;
	int			 rv;

	rv = cache_body_get_head(cache, id >> 32, (uint32_t)(id & 0xffffffff),
	    TEXT_RAW_MAX, &raw, &len, NULL, err);
	if (rv == -1)
		return -1;
	memset(&ro, 0, sizeof ro);
	ro.width = 1000;	/* reflow nothing: words, not lines, count */
	ro.headers_all = true;
	ro.mailcap = "";
	ro.limits.output_max = TEXT_MAX;
	error_clear(&rerr);
	/*
	 * A body that renders to nothing (empty, or gone meanwhile) is still
	 * stored, as empty text, so it is not tried again forever.
	 */
	if (rv == 1 && len > 0 && mime_render(raw, len, &ro, &view, &rerr) == 0)
		rv = cache_text_put(cache, id, view->headers, view->body, err);
	else
		rv = cache_text_put(cache, id, "", "", err);
	mime_view_free(&view);
	free(raw);
	return rv;
}

int
engine_index_text(struct cache *cache, int (*yield)(void *), void *arg,
    uint64_t *countp, struct error *err)
{
	int64_t	ids[TEXT_BATCH], after = 0;
	int	n, i;

	if (countp != NULL)
		*countp = 0;
	for (;;) {
		if (yield != NULL && yield(arg))
			return 0;
		if ((n = cache_text_unindexed(cache, after, ids, TEXT_BATCH,
		    err)) <= 0)
			return n;
		if (cache_begin(cache, err) == -1)
			return -1;
		for (i = 0; i < n; i++) {
			if (index_one(cache, ids[i], err) == -1) {
				cache_rollback(cache);
				return -1;
			}
		}
		if (cache_commit(cache, err) == -1)
			return -1;
		after = ids[n - 1];
		if (countp != NULL)
			*countp += (uint64_t)n;
	}
}
