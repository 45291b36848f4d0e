/* Helpers shared by the engine's files. */
#include <stdlib.h>

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
