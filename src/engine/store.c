/*
 * The store thread: writes what a sync downloads into the cache while the
 * engine thread goes on reading and decoding the next messages. On two
 * cores the work of a big sync is then split between the server, the
 * engine thread (TLS, parsing, decoding) and this one (SQLite), instead of
 * the engine thread doing the last two in turn. IMAP (index rows) and POP3
 * (whole messages) share it; what an item means is the protocol's
 * (struct store_ops), the thread, the queue and the transactions are here.
 *
 * The queue is bounded in batches and in bytes, so a slow disk slows the
 * download instead of growing memory. Transactions are short: committed
 * every so many items or bytes, and whenever the queue runs dry, so none is
 * open while the engine thread waits on the network. Only this thread
 * touches the cache between store_start() and store_finish() (the engine
 * thread hands its connection over).
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
/* Bytes of items' own memory (store_item.weight) queued at most. */
#define STORE_QUEUE_BYTES	(32 * 1024 * 1024)
/* A batch goes to the writer once its items hold this much. */
#define STORE_BATCH_BYTES	(256 * 1024)

struct store_batch {
	struct store_batch	*next;		/* on the spare list */
	size_t			 n;		/* items in use */
	size_t			 used;		/* arena bytes in use */
	size_t			 weight;	/* its items' weights */
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
	size_t			 queued;	/* weight of the ring's batches */
	struct store_batch	*spare;		/* batches handed back */
	bool			 done;		/* no more items */
	bool			 failed;	/* the writer stopped on an error */
	bool			 all_seen;	/* the fetch finished normally */
	struct error		 err;

	/* Engine-thread state: the batch being filled. */
	struct store_batch	*cur;

	/* Writer-only state. */
	struct cache		*cache;
	const struct store_ops	*ops;
	void			*arg;
	struct store_limits	 lim;
	bool			 in_tx;
	uint64_t		 tx_items, tx_bytes;
	uint64_t		 stored;
};

/* Free what a batch's items hold outside it; the batch is empty again. */
static void
batch_clear(struct store *st, struct store_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++) {
		if (b->items[i].ext != NULL && st->ops->release != NULL)
			st->ops->release(st->arg, &b->items[i]);
		free(b->items[i].heap);
	}
	b->n = 0;
	b->used = 0;
	b->weight = 0;
}

static void
batch_free(struct store *st, struct store_batch *b)
{
	if (b == NULL)
		return;
	batch_clear(st, b);
	free(b);
}

/* Hand a batch back to the engine thread; with st->mu held. */
static void
batch_recycle(struct store *st, struct store_batch *b)
{
	batch_clear(st, b);
	b->next = st->spare;
	st->spare = b;
}

/* Commit the open transaction, with what the protocol saves beside it. */
static int
store_commit(struct store *st, bool last)
{
	if (!st->in_tx)
		return 0;
	if ((st->ops->commit != NULL &&
	    st->ops->commit(st->arg, last, &st->err) == -1) ||
	    cache_commit(st->cache, &st->err) == -1)
		return -1;
	st->in_tx = false;
	st->tx_items = st->tx_bytes = 0;
	return 0;
}

static int
store_one(struct store *st, struct store_item *it)
{
	if (!st->in_tx) {
		if (cache_begin(st->cache, &st->err) == -1)
			return -1;
		st->in_tx = true;
	}
	if (st->ops->put(st->arg, it, &st->err) == -1)
		return -1;
	st->stored++;
	st->tx_bytes += it->weight;
	if (++st->tx_items >= st->lim.commit_items ||
	    (st->lim.commit_bytes > 0 && st->tx_bytes >= st->lim.commit_bytes)) {
		if (store_commit(st, false) == -1)
			return -1;
		if (st->ops->committed != NULL)
			st->ops->committed(st->arg, st->stored);
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
			if (store_commit(st, false) == -1) {
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
		st->queued -= b->weight;
		batch_recycle(st, b);
		if (!ok) {
			/* The engine thread stops at its next push. */
			st->failed = true;
			while (st->count > 0) {
				st->queued -= st->ring[st->head]->weight;
				batch_recycle(st, st->ring[st->head]);
				st->head = (st->head + 1) % STORE_QUEUE;
				st->count--;
			}
		}
		if (!ok || (st->count <= STORE_QUEUE / 2 &&
		    st->queued <= STORE_QUEUE_BYTES / 2))
			pthread_cond_signal(&st->cv_space);
		pthread_mutex_unlock(&st->mu);
		if (!ok)
			break;
		if (done)
			break;
	}
	/* Everything that arrived whole is kept, even after a failed fetch. */
	if (ok) {
		if (st->ops->finishing != NULL)
			st->ops->finishing(st->arg, st->all_seen);
		if (store_commit(st, true) == -1) {
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

struct store *
store_start(struct cache *cache, const struct store_ops *ops, void *arg,
    const struct store_limits *lim)
{
	struct store	*st;

	st = xcalloc(1, sizeof *st);
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv_work, NULL);
	pthread_cond_init(&st->cv_space, NULL);
	st->cache = cache;
	st->ops = ops;
	st->arg = arg;
	st->lim = *lim;
	if (st->lim.commit_items == 0)
		st->lim.commit_items = SYNC_BATCH;
	cache_bulk(cache, lim->bulk);
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
	if (st->count == STORE_QUEUE || st->queued > STORE_QUEUE_BYTES)
		while ((st->count > STORE_QUEUE / 2 ||
		    st->queued > STORE_QUEUE_BYTES / 2) && !st->failed)
			pthread_cond_wait(&st->cv_space, &st->mu);
	if (st->failed) {
		batch_recycle(st, b);
		pthread_mutex_unlock(&st->mu);
		/* The writer's error is reported by store_finish(). */
		return error_set(err, ERR_LOCAL, "storing messages failed");
	}
	st->ring[(st->head + st->count) % STORE_QUEUE] = b;
	st->count++;
	st->queued += b->weight;
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
		b->n = b->used = b->weight = 0;
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
	b->weight += it->weight;
	/* A failed writer is noticed a batch later: no lock per message. */
	if (++b->n == STORE_CHUNK || b->weight >= STORE_BATCH_BYTES)
		return store_send(st, err);
	return 0;
}

int
store_finish(struct store **stp, bool all_seen, struct error *err)
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
	if (st->lim.bulk)
		cache_bulk(st->cache, false);
	if (st->failed) {
		if (err != NULL)
			*err = st->err;
		rv = -1;
	}
	batch_free(st, st->cur);
	while (st->spare != NULL) {
		struct store_batch *b = st->spare;

		st->spare = b->next;
		batch_free(st, b);
	}
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv_work);
	pthread_cond_destroy(&st->cv_space);
	free(st);
	*stp = NULL;
	return rv;
}
