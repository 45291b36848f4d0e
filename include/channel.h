/*
 * A channel: a thread-safe FIFO of pointers with an eventfd that is readable
 * while the channel holds anything, so a thread can poll() it beside its
 * sockets. Any number of threads may put; one thread takes. The channel
 * never looks inside an item: the putter allocates it, the taker frees it.
 */
#ifndef PETREL_CHANNEL_H
#define PETREL_CHANNEL_H

#include <stdbool.h>

struct channel;

struct channel	*channel_new(void);
/* Free the channel; items still queued are passed to free_item (may be NULL). */
void		 channel_free(struct channel **, void (*free_item)(void *));
/* Readable (POLLIN) while the channel is not empty. */
int		 channel_fd(const struct channel *);
void		 channel_put(struct channel *, void *item);
/* Put item in front of everything queued (a stop overtakes work). */
void		 channel_put_first(struct channel *, void *item);
/* The oldest item, or NULL when empty; never blocks. */
void		*channel_get(struct channel *);
/* Wait up to timeout_ms (-1: forever) for an item; NULL on timeout. */
void		*channel_wait(struct channel *, int timeout_ms);
bool		 channel_empty(struct channel *);

#endif
