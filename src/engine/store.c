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

/* Items in flight; a few hundred bytes each. */
#define STORE_QUEUE	2048
/* Items taken off the queue per lock. */
#define STORE_CHUNK	128

struct store {
	pthread_t		 th;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv_work;	/* items or done for the writer */
	pthread_cond_t		 cv_space;	/* room for the engine thread */
	struct store_item	*ring[STORE_QUEUE];
	size_t			 head, count;
	bool			 done;		/* no more items */
	bool			 failed;	/* the writer stopped on an error */
	bool			 all_seen;	/* the fetch finished normally */
	struct error		 err;

	/* Writer-only state. */
	struct cache		*cache;
	int64_t			 folder_id;
	struct cache_folder	 markers;	/* strings cleared */
	uint32_t		 synced_uid;
	uint32_t		 last_uid;
	bool			 unordered;
	bool			 in_tx;
	uint64_t		 batch;
	struct sync_stats	*stats;
	void			(*progress)(void *, uint64_t);
	void			*progress_arg;
};

void
store_item_free(struct store_item *it)
{
	if (it == NULL)
		return;
	free(it->keywords);
	index_fields_free(&it->fields);
	free(it);
}

/* Commit the open batch with the resume point it makes true. */
static int
store_commit(struct store *st)
{
	struct cache_folder	cf = st->markers;

	if (!st->in_tx)
		return 0;
	if (!st->unordered && st->last_uid > st->synced_uid)
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
	struct store_item	*chunk[STORE_CHUNK];
	size_t			 n, i;
	bool			 done, ok = true;

	for (;;) {
		pthread_mutex_lock(&st->mu);
		/* Wake for a chunk at a time, not for every message. */
		while (st->count < STORE_CHUNK && !st->done)
			pthread_cond_wait(&st->cv_work, &st->mu);
		for (n = 0; n < STORE_CHUNK && st->count > 0; n++) {
			chunk[n] = st->ring[st->head];
			st->head = (st->head + 1) % STORE_QUEUE;
			st->count--;
		}
		done = st->done && st->count == 0;
		if (st->count < STORE_QUEUE / 2)
			pthread_cond_signal(&st->cv_space);
		pthread_mutex_unlock(&st->mu);

		for (i = 0; i < n; i++) {
			if (ok && store_one(st, chunk[i]) == -1)
				ok = false;
			store_item_free(chunk[i]);
		}
		if (!ok) {
			pthread_mutex_lock(&st->mu);
			st->failed = true;
			pthread_cond_signal(&st->cv_space);
			/* Drain what is queued: the engine thread stops soon. */
			while (st->count > 0) {
				store_item_free(st->ring[st->head]);
				st->head = (st->head + 1) % STORE_QUEUE;
				st->count--;
			}
			done = st->done;
			pthread_mutex_unlock(&st->mu);
			if (done)
				break;
			continue;
		}
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

int
store_push(struct store *st, struct store_item *it, struct error *err)
{
	pthread_mutex_lock(&st->mu);
	/* Full: wait until the writer has made room for half a queue. */
	if (st->count == STORE_QUEUE)
		while (st->count >= STORE_QUEUE / 2 && !st->failed)
			pthread_cond_wait(&st->cv_space, &st->mu);
	if (st->failed) {
		pthread_mutex_unlock(&st->mu);
		store_item_free(it);
		/* The writer's error is reported by store_finish(). */
		return error_set(err, ERR_LOCAL, "storing messages failed");
	}
	st->ring[(st->head + st->count) % STORE_QUEUE] = it;
	if (++st->count == STORE_CHUNK)
		pthread_cond_signal(&st->cv_work);
	pthread_mutex_unlock(&st->mu);
	return 0;
}

int
store_finish(struct store **stp, bool all_seen, uint32_t *synced_uidp,
    struct error *err)
{
	struct store	*st = *stp;
	int		 rv = 0;

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
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->cv_work);
	pthread_cond_destroy(&st->cv_space);
	free(st);
	*stp = NULL;
	return rv;
}
