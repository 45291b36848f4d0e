/*
 * Name resolution with a deadline. getaddrinfo() has no timeout of its own
 * (a dead resolver holds it for attempts x servers x 5 s), so it runs on a
 * detached thread while the caller waits at most until its deadline. A
 * lookup that outlives its caller finishes alone and frees its own result:
 * the two share one reference-counted record.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net-private.h"
#include "util.h"
#include "xmalloc.h"

int (*net_getaddrinfo)(const char *, const char *, const struct addrinfo *,
    struct addrinfo **) = getaddrinfo;

struct lookup {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 refs;		/* the caller and the thread */
	int			 done;
	char			*host;
	char			*port;
	struct addrinfo		 hints;
	struct addrinfo		*res;
	int			 rc;		/* getaddrinfo()'s */
	int			 saved_errno;	/* for EAI_SYSTEM */
};

static void
lookup_unref(struct lookup *l)
{
	int	refs;

	pthread_mutex_lock(&l->mu);
	refs = --l->refs;
	pthread_mutex_unlock(&l->mu);
	if (refs > 0)
		return;
	if (l->res != NULL)
		freeaddrinfo(l->res);
	free(l->host);
	free(l->port);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
	free(l);
}

static void *
lookup_main(void *arg)
{
	struct lookup	*l = arg;
	struct addrinfo	*res = NULL;
	int		 rc, saved;

	errno = 0;
	rc = net_getaddrinfo(l->host, l->port, &l->hints, &res);
	saved = errno;
	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->saved_errno = saved;
	l->res = rc == 0 ? res : NULL;
	l->done = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	lookup_unref(l);
	return NULL;
}

/* Resolve on this thread, without a deadline. */
static int
resolve_here(const char *host, const char *port, const struct addrinfo *hints,
    struct addrinfo **resp, int *errnop)
{
	int	rc;

	errno = 0;
	rc = net_getaddrinfo(host, port, hints, resp);
	*errnop = errno;
	return rc;
}

int
net_resolve(const char *host, const char *port, const struct addrinfo *hints,
    uint64_t deadline, struct addrinfo **resp, int *errnop)
{
	struct lookup	*l;
	pthread_attr_t	 attr;
	pthread_condattr_t cattr;
	pthread_t	 th;
	struct timespec	 ts;
	int		 rc, timed_out = 0;

	*resp = NULL;
	*errnop = 0;
	/* An address literal needs no resolver, and no thread. */
	if (hints->ai_flags & AI_NUMERICHOST)
		return resolve_here(host, port, hints, resp, errnop);

	l = xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	/* Deadlines are on the monotonic clock, as everywhere in net/. */
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &cattr);
	pthread_condattr_destroy(&cattr);
	l->refs = 2;
	l->host = xstrdup(host);
	l->port = xstrdup(port);
	l->hints = *hints;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, lookup_main, l) != 0) {
		/* No thread to spare: resolve here, without a deadline. */
		pthread_attr_destroy(&attr);
		l->refs = 1;
		lookup_unref(l);
		return resolve_here(host, port, hints, resp, errnop);
	}
	pthread_attr_destroy(&attr);

	/* deadline is now_ms() time: CLOCK_MONOTONIC, like the cv's. */
	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000L;
	pthread_mutex_lock(&l->mu);
	while (!l->done && !timed_out) {
		if (deadline == 0)
			pthread_cond_wait(&l->cv, &l->mu);
		else if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) ==
		    ETIMEDOUT)
			timed_out = !l->done;
	}
	if (l->done) {
		rc = l->rc;
		*errnop = l->saved_errno;
		*resp = l->res;
		l->res = NULL;		/* the caller's now */
	} else
		rc = NET_RESOLVE_TIMEOUT;
	pthread_mutex_unlock(&l->mu);
	lookup_unref(l);
	return rc;
}
