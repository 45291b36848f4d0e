/*
 * The store thread: writes the new messages of a sync into the cache while
 * the engine thread goes on reading and decoding the next ones. On two cores
 * the work of a big sync is then split between the server, the engine
 * thread (TLS, parsing, decoding) and this one (SQLite), instead of the
 * engine thread doing the last two in turn.
 *
 * The queue is bounded, so a slow disk slows the download instead of
 * growing memory. Only this thread touches the cache between store_start()
 * and store_finish() (the engine thread hands its connection over).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "engine-private.h"
#include "log.h"
#include "xmalloc.h"

/* Items per batch: the unit the two threads pass each other. */
#define STORE_CHUNK	128
/* Bytes of strings per batch (an item's decoded headers are ~300). */
#define STORE_ARENA	(64 * 1024)
/* Batches queued for the writer at most. */
#define STORE_QUEUE	16

struct store_batch {
	struct store_batch	*next;		/* on the spare list */
	size_t			 n;		/* items in use */
	size_t			 used;		/* arena bytes in use */
	struct store_item	 items[STORE_CHUNK];
	char			 arena[STORE_ARENA];
};

struct store {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv_work;	/* a batch or done for the writer */
	pthread_cond_t		 cv_space;	/* room for the engine thread */
	struct store_batch	*ring[STORE_QUEUE];
	size_t			 head, count;
	struct store_batch	*spare;		/* batches handed back */
	bool			 done;		/* no more items */
	bool			 failed;	/* the writer stopped on an error */
	bool			 all_seen;	/* the fetch finished normally */
	struct error		 err;

	/* Engine-thread state: the batch being filled. */
	struct store_batch	*cur;

	/* Writer-only state. */
	struct cache		*cache;
	int64_t			 folder_id;
	struct cache_folder	 markers;	/* strings cleared */
	uint32_t		 synced_uid;
	uint32_t		 last_uid;
	bool			 unordered;
	bool			 hold;		/* store_hold_marker() */
	bool			 in_tx;
	uint64_t		 batch;
	struct sync_stats	*stats;
	void			(*progress)(void *, uint64_t);
	void			*progress_arg;
};

/* Free what a batch's items hold outside it; the batch is empty again. */
static void
batch_clear(struct store_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		free(b->items[i].heap);
	b->n = 0;
	b->used = 0;
}

static void
batch_free(struct store_batch *b)
{
	if (b == NULL)
		return;
	batch_clear(b);
	free(b);
}

/* Hand a batch back to the engine thread; with st->mu held. */
static void
batch_recycle(struct store *st, struct store_batch *b)
{
	batch_clear(b);
	b->next = st->spare;
	st->spare = b;
}

/* Commit the open batch with the resume point it makes true. */
static int
store_commit(struct store *st)
{
	struct cache_folder	cf = st->markers;

	if (!st->in_tx)
		return 0;
	if (!st->hold && !st->unordered && st->last_uid > st->synced_uid)
		st->synced_uid = st->last_uid;
	cf.synced_uid = st->synced_uid;
	cf.complete = false;
	if (cache_folder_set_sync(st->cache, st->folder_id, &cf,
	    &st->err) == -1 || cache_commit(st->cache, &st->err) == -1)
		return -1;
	st->in_tx = false;
	st->batch = 0;
	return 0;
}

static int
store_one(struct store *st, struct store_item *it)
{
	struct cache_msg	m;

	if (!st->in_tx) {
		if (cache_begin(st->cache, &st->err) == -1)
			return -1;
		st->in_tx = true;
	}
	if (it->flags_only) {
		if (cache_msg_set_flags(st->cache, st->folder_id, it->uid,
		    it->flags, it->keywords, it->modseq, &st->err) == -1)
			return -1;
		st->stats->flag_updates++;
		return 0;
	}
	if (it->uid < st->last_uid)
		st->unordered = true;
	if (it->uid > st->last_uid)
		st->last_uid = it->uid;
	memset(&m, 0, sizeof m);
	m.folder_id = st->folder_id;
	m.uid = it->uid;
	m.flags = it->flags;
	m.keywords = it->keywords;
	m.modseq = it->modseq;
	m.internaldate = it->internaldate;
	m.size = it->size;
	index_fields_to_msg(&it->fields, &m);
	if (cache_msg_put(st->cache, &m, &st->err) == -1)
		return -1;
	st->stats->new_messages++;
	if (++st->batch >= SYNC_BATCH) {
		if (store_commit(st) == -1)
			return -1;
		if (st->progress != NULL)
			st->progress(st->progress_arg, st->stats->new_messages);
	}
	return 0;
}

static void *
store_main(void *arg)
{
	struct store		*st = arg;
	struct store_batch	*b;
	size_t			 i;
	bool			 done, ok = true;

	for (;;) {
		pthread_mutex_lock(&st->mu);
		/*
		 * Nothing queued: commit before waiting, so the transaction
		 * never stays open while the engine waits on the network.
		 */
		if (st->count == 0 && !st->done && st->in_tx) {
			pthread_mutex_unlock(&st->mu);
			if (store_commit(st) == -1) {
				ok = false;
				pthread_mutex_lock(&st->mu);
				st->failed = true;
				pthread_cond_signal(&st->cv_space);
				pthread_mutex_unlock(&st->mu);
				break;
			}
			pthread_mutex_lock(&st->mu);
		}
		while (st->count == 0 && !st->done)
			pthread_cond_wait(&st->cv_work, &st->mu);
		b = NULL;
		if (st->count > 0) {
			b = st->ring[st->head];
			st->head = (st->head + 1) % STORE_QUEUE;
			st->count--;
		}
		done = st->done && st->count == 0;
		pthread_mutex_unlock(&st->mu);
		if (b == NULL)
			break;

		for (i = 0; ok && i < b->n; i++)
			if (store_one(st, &b->items[i]) == -1)
				ok = false;
		pthread_mutex_lock(&st->mu);
		batch_recycle(st, b);
		if (!ok) {
			/* The engine thread stops at its next push. */
			st->failed = true;
			while (st->count > 0) {
				batch_recycle(st, st->ring[st->head]);
				st->head = (st->head + 1) % STORE_QUEUE;
				st->count--;
			}
		}
		if (!ok || st->count <= STORE_QUEUE / 2)
			pthread_cond_signal(&st->cv_space);
		pthread_mutex_unlock(&st->mu);
		if (!ok)
			break;
		if (done)
			break;
	}
	if (ok) {
		/* Everything that arrived whole is kept, even after a failed fetch. */
		if (st->all_seen && st->last_uid > st->synced_uid)
			st->unordered = false;
		if (store_commit(st) == -1) {
			pthread_mutex_lock(&st->mu);
			st->failed = true;
			pthread_mutex_unlock(&st->mu);
		}
	}
	if (st->in_tx) {
		cache_rollback(st->cache);
		st->in_tx = false;
	}
	return NULL;
}

void
store_hold_marker(struct store *st)
{
	pthread_mutex_lock(&st->mu);
	st->hold = true;
	pthread_mutex_unlock(&st->mu);
}

struct store *
store_start(struct cache *cache, int64_t folder_id,
    const struct cache_folder *markers, uint32_t synced_uid,
    struct sync_stats *stats, void (*progress)(void *, uint64_t),
    void *progress_arg)
{
	struct store	*st;

	st = xcalloc(1, sizeof *st);
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv_work, NULL);
	pthread_cond_init(&st->cv_space, NULL);
	st->cache = cache;
	st->folder_id = folder_id;
	st->markers = *markers;
	st->markers.name = st->markers.remote = NULL;
	st->markers.special_use = st->markers.attributes = NULL;
	st->synced_uid = st->last_uid = synced_uid;
	st->stats = stats;
	st->progress = progress;
	st->progress_arg = progress_arg;
	cache_bulk(cache, true);
	if (pthread_create(&st->th, NULL, store_main, st) != 0)
		fatalx("%s: cannot start the store thread", __func__);
	return st;
}

/* Queue the engine's batch, if it holds anything; -1 once the writer failed. */
static int
store_send(struct store *st, struct error *err)
{
	struct store_batch	*b = st->cur;

	if (b == NULL || b->n == 0)
		return 0;
	st->cur = NULL;
	pthread_mutex_lock(&st->mu);
	/* Full: wait for half a queue of room, not one batch at a time. */
	if (st->count == STORE_QUEUE)
		while (st->count > STORE_QUEUE / 2 && !st->failed)
			pthread_cond_wait(&st->cv_space, &st->mu);
	if (st->failed) {
		batch_recycle(st, b);
		pthread_mutex_unlock(&st->mu);
		/* The writer's error is reported by store_finish(). */
		return error_set(err, ERR_LOCAL, "storing messages failed");
	}
	st->ring[(st->head + st->count) % STORE_QUEUE] = b;
	st->count++;
	pthread_cond_signal(&st->cv_work);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

struct store_item *
store_item_new(struct store *st, size_t bytes, char **roomp)
{
	struct store_batch	*b;
	struct store_item	*it;

	/* Arena too full for this one: send the batch and take another. */
	if (st->cur != NULL && bytes > STORE_ARENA - st->cur->used &&
	    bytes <= STORE_ARENA)
		(void)store_send(st, NULL);	/* a failure shows at the push */
	if ((b = st->cur) == NULL) {
		pthread_mutex_lock(&st->mu);
		if ((b = st->spare) != NULL)
			st->spare = b->next;
		pthread_mutex_unlock(&st->mu);
		if (b == NULL)
			b = xmalloc(sizeof *b);
		b->next = NULL;
		b->n = b->used = 0;
		st->cur = b;
	}
	it = &b->items[b->n];
	memset(it, 0, sizeof *it);
	if (bytes > STORE_ARENA - b->used)
		*roomp = it->heap = xmalloc(bytes);
	else {
		*roomp = b->arena + b->used;
		b->used += bytes;
	}
	return it;
}

int
store_push(struct store *st, struct store_item *it, struct error *err)
{
	struct store_batch	*b = st->cur;

	if (b == NULL || it != &b->items[b->n])
		fatalx("%s: not the item of store_item_new()", __func__);
	/* A failed writer is noticed a batch later: no lock per message. */
	if (++b->n == STORE_CHUNK)
		return store_send(st, err);
	return 0;
}

int
store_finish(struct store **stp, bool all_seen, uint32_t *synced_uidp,
    struct error *err)
{
	struct store	*st = *stp;
	int		 rv = 0;

	/* The last, partly filled batch; a failure shows in st->failed. */
	(void)store_send(st, NULL);
	pthread_mutex_lock(&st->mu);
	st->done = true;
	st->all_seen = all_seen;
	pthread_cond_signal(&st->cv_work);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->th, NULL);
	cache_bulk(st->cache, false);
	if (st->failed) {
		if (err != NULL)
			*err = st->err;
		rv = -1;
	}
	*synced_uidp = st->synced_uid;
	batch_free(st->cur);
	while (st->spare != NULL) {
		struct store_batch *b = st->spare;

		st->spare = b->next;
		batch_free(b);
	}
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv_work);
	pthread_cond_destroy(&st->cv_space);
	free(st);
	*stp = NULL;
	return rv;
}
