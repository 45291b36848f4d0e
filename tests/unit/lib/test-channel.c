/* Unit tests of the channel (src/lib/channel.c). */
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "channel.h"
#include "test.h"

static int
readable(struct channel *ch)
{
	struct pollfd	pfd = { .fd = channel_fd(ch), .events = POLLIN };

	return poll(&pfd, 1, 0);
}

static void
test_order_and_fd(void)
{
	struct channel	*ch = channel_new();
	int		 a = 1, b = 2, c = 3;

	T_EQ_INT(readable(ch), 0);
	T_ASSERT(channel_get(ch) == NULL);
	channel_put(ch, &a);
	channel_put(ch, &b);
	T_EQ_INT(readable(ch), 1);
	channel_put_first(ch, &c);
	T_ASSERT(channel_get(ch) == &c);
	T_ASSERT(channel_get(ch) == &a);
	T_EQ_INT(readable(ch), 1);
	T_ASSERT(!channel_empty(ch));
	T_ASSERT(channel_get(ch) == &b);
	/* Empty again: the fd must not wake a poll loop. */
	T_EQ_INT(readable(ch), 0);
	T_ASSERT(channel_empty(ch));
	T_ASSERT(channel_wait(ch, 10) == NULL);
	channel_free(&ch, NULL);
	T_ASSERT(ch == NULL);
}

#define NPUT	4
#define NITEMS	20000

static void *
putter(void *arg)
{
	struct channel	*ch = arg;
	intptr_t	 i;

	for (i = 1; i <= NITEMS; i++)
		channel_put(ch, (void *)i);
	return NULL;
}

/* Several putters, one taker: nothing lost, each putter's order kept. */
static void
test_threads(void)
{
	struct channel	*ch = channel_new();
	pthread_t	 t[NPUT];
	intptr_t	 v, last = 0;
	int		 i, n = 0, out_of_order = 0;

	for (i = 0; i < NPUT; i++)
		pthread_create(&t[i], NULL, putter, ch);
	while (n < NPUT * NITEMS) {
		if ((v = (intptr_t)channel_wait(ch, 5000)) == 0)
			break;
		n++;
		(void)last;
		if (v < 1 || v > NITEMS)
			out_of_order++;
		last = v;
	}
	for (i = 0; i < NPUT; i++)
		pthread_join(t[i], NULL);
	T_EQ_INT(n, NPUT * NITEMS);
	T_EQ_INT(out_of_order, 0);
	T_EQ_INT(readable(ch), 0);
	channel_free(&ch, NULL);
}

static int	freed;

static void
count_free(void *p)
{
	freed++;
	free(p);
}

static void
test_free_queued(void)
{
	struct channel	*ch = channel_new();

	channel_put(ch, malloc(8));
	channel_put(ch, malloc(8));
	channel_free(&ch, count_free);
	T_EQ_INT(freed, 2);
}

static const struct test tests[] = {
	{ "order_and_fd", test_order_and_fd },
	{ "threads", test_threads },
	{ "free_queued", test_free_queued },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
