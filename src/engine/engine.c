/* Helpers shared by the engine's files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "conf.h"
#include "engine-private.h"
#include "xmalloc.h"

void
engine_uidset(struct buf *b, const uint32_t *uids, size_t n)
{
	size_t	i, j;

	buf_reset(b);
	for (i = 0; i < n; i = j) {
		/* <=: a repeated UID extends the run instead of a new item. */
		for (j = i + 1; j < n && uids[j] <= uids[j - 1] + 1; j++)
			;
		if (b->len > 0)
			buf_addc(b, ',');
		if (uids[j - 1] != uids[i])
			buf_printf(b, "%u:%u", uids[i], uids[j - 1]);
		else
			buf_printf(b, "%u", uids[i]);
	}
}

int
engine_quota(struct cache *cache, struct engine_quota *q)
{
	unsigned long long	 u, l;
	char			*v, *p;
	int			 pct;

	memset(q, 0, sizeof *q);
	if ((v = cache_meta_get(cache, ENGINE_META_QUOTA)) == NULL)
		return 0;
	if ((p = strstr(v, "storage=")) != NULL &&
	    sscanf(p, "storage=%llu/%llu", &u, &l) == 2) {
		q->storage = true;
		q->storage_used = u;
		q->storage_limit = l;
	}
	if ((p = strstr(v, "messages=")) != NULL &&
	    sscanf(p, "messages=%llu/%llu", &u, &l) == 2) {
		q->messages = true;
		q->messages_used = u;
		q->messages_limit = l;
	}
	free(v);
	if (q->storage && q->storage_limit > 0) {
		pct = (int)(q->storage_used * 100 / q->storage_limit);
		q->percent = pct > q->percent ? pct : q->percent;
	}
	if (q->messages && q->messages_limit > 0) {
		pct = (int)(q->messages_used * 100 / q->messages_limit);
		q->percent = pct > q->percent ? pct : q->percent;
	}
	return q->storage || q->messages ? 1 : 0;
}
