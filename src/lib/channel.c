/*
 * Channels: a mutex-protected singly linked list and an eventfd. The eventfd
 * counts nothing: it is set (written) when the list goes from empty to
 * non-empty and cleared (read) when the taker empties it, both under the
 * mutex, so "fd readable" and "list not empty" always agree.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "channel.h"
#include "log.h"
#include "xmalloc.h"

struct channel_item {
	void			*item;
	struct channel_item	*next;
};

struct channel {
	pthread_mutex_t		 lock;
	struct channel_item	*head, *tail;
	int			 fd;
};

struct channel *
channel_new(void)
{
	struct channel	*ch;

	ch = xcalloc(1, sizeof *ch);
	pthread_mutex_init(&ch->lock, NULL);
	if ((ch->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	return ch;
}

void
channel_free(struct channel **chp, void (*free_item)(void *))
{
	struct channel		*ch = *chp;
	struct channel_item	*ci, *next;

	if (ch == NULL)
		return;
	for (ci = ch->head; ci != NULL; ci = next) {
		next = ci->next;
		if (free_item != NULL)
			free_item(ci->item);
		free(ci);
	}
	close(ch->fd);
	pthread_mutex_destroy(&ch->lock);
	free(ch);
	*chp = NULL;
}

int
channel_fd(const struct channel *ch)
{
	return ch->fd;
}

static void
channel_signal(struct channel *ch)
{
	uint64_t	one = 1;

	/* EAGAIN only when the counter is near 2^64: it is set anyway. */
	while (write(ch->fd, &one, sizeof one) == -1 && errno == EINTR)
		;
}

static void
channel_link(struct channel *ch, void *item, bool first)
{
	struct channel_item	*ci;

	ci = xcalloc(1, sizeof *ci);
	ci->item = item;
	pthread_mutex_lock(&ch->lock);
	if (ch->head == NULL) {
		ch->head = ch->tail = ci;
		channel_signal(ch);
	} else if (first) {
		ci->next = ch->head;
		ch->head = ci;
	} else {
		ch->tail->next = ci;
		ch->tail = ci;
	}
	pthread_mutex_unlock(&ch->lock);
}

void
channel_put(struct channel *ch, void *item)
{
	channel_link(ch, item, false);
}

void
channel_put_first(struct channel *ch, void *item)
{
	channel_link(ch, item, true);
}

void *
channel_get(struct channel *ch)
{
	struct channel_item	*ci;
	uint64_t		 v;
	void			*item = NULL;

	pthread_mutex_lock(&ch->lock);
	if ((ci = ch->head) != NULL) {
		if ((ch->head = ci->next) == NULL) {
			ch->tail = NULL;
			while (read(ch->fd, &v, sizeof v) == -1 &&
			    errno == EINTR)
				;
		}
		item = ci->item;
		free(ci);
	}
	pthread_mutex_unlock(&ch->lock);
	return item;
}

void *
channel_wait(struct channel *ch, int timeout_ms)
{
	struct pollfd	pfd;
	void		*item;

	for (;;) {
		if ((item = channel_get(ch)) != NULL)
			return item;
		pfd.fd = ch->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		switch (poll(&pfd, 1, timeout_ms)) {
		case 0:
			return NULL;
		case -1:
			if (errno != EINTR)
				fatal("poll");
			break;
		}
	}
}

bool
channel_empty(struct channel *ch)
{
	bool	empty;

	pthread_mutex_lock(&ch->lock);
	empty = ch->head == NULL;
	pthread_mutex_unlock(&ch->lock);
	return empty;
}
