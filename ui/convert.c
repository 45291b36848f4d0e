/*
 * The pager's converters, in the background. The pager shows a message
 * rendered with the built-in HTML converter at once; a job renders it again
 * with the mailcap commands (w3m for text/html) in a thread, and the UI
 * swaps that view in when the job's pipe becomes readable. The thread holds
 * a reference to the message's bytes (never written once read from the
 * cache) and copies of the options' strings, so nothing it reads can go
 * away under it. A job that is no longer wanted is cancelled: its
 * converter is killed within 50 ms and the thread frees the job itself, so
 * the UI never joins a thread or waits for one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ui-private.h"
#include "xmalloc.h"

struct convert_job {
	pthread_mutex_t		 lock;
	int			 pipe[2];	/* [0] readable when done */
	struct msgbuf		*msg;
	struct mime_render_opts	 o;
	char			*headers, *alternative, *mailcap;
	_Atomic bool		 cancel;
	bool			 done;		/* the thread has finished */
	bool			 abandoned;	/* the UI let go: thread frees */
	struct mime_view	*view;
	struct error		 err;
	int			 rv;
};

/* Jobs whose thread still runs, so that the UI can let them end at exit. */
static pthread_mutex_t	live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	live_cond = PTHREAD_COND_INITIALIZER;
static int		live;

struct msgbuf *
msgbuf_new(char *data, size_t len)
{
	struct msgbuf	*m = xcalloc(1, sizeof *m);

	m->refs = 1;
	m->data = data;
	m->len = len;
	return m;
}

struct msgbuf *
msgbuf_ref(struct msgbuf *m)
{
	m->refs++;
	return m;
}

void
msgbuf_unref(struct msgbuf **mp)
{
	struct msgbuf	*m = *mp;

	*mp = NULL;
	if (m == NULL || --m->refs > 0)
		return;
	free(m->data);
	free(m);
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void
job_free(struct convert_job *j)
{
	mime_view_free(&j->view);
	msgbuf_unref(&j->msg);
	free(j->headers);
	free(j->alternative);
	free(j->mailcap);
	close(j->pipe[0]);
	close(j->pipe[1]);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static void *
job_main(void *arg)
{
	struct convert_job	*j = arg;
	struct mime_view	*view = NULL;
	struct error		 err;
	int			 rv;
	bool			 abandoned;

	error_clear(&err);
	rv = mime_render(j->msg->data, j->msg->len, &j->o, &view, &err);
	pthread_mutex_lock(&j->lock);
	j->done = true;
	j->view = view;
	j->rv = rv;
	j->err = err;
	abandoned = j->abandoned;
	if (!abandoned)
		(void)write(j->pipe[1], "", 1);
	pthread_mutex_unlock(&j->lock);
	if (abandoned)
		job_free(j);
	pthread_mutex_lock(&live_lock);
	live--;
	pthread_cond_broadcast(&live_cond);
	pthread_mutex_unlock(&live_lock);
	return NULL;
}

struct convert_job *
convert_start(struct msgbuf *msg, const struct mime_render_opts *o,
    struct error *err)
{
	struct convert_job	*j = xcalloc(1, sizeof *j);
	pthread_attr_t		 at;
	pthread_t		 t;
	int			 rv;

	if (pipe2(j->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		error_set(err, ERR_LOCAL, "pipe: %s", strerror(errno));
		free(j);
		return NULL;
	}
	pthread_mutex_init(&j->lock, NULL);
	j->msg = msgbuf_ref(msg);
	j->o = *o;
	j->o.headers = j->headers = dup_or_null(o->headers);
	j->o.alternative = j->alternative = dup_or_null(o->alternative);
	j->o.mailcap = j->mailcap = dup_or_null(o->mailcap);
	j->o.cancel = &j->cancel;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&live_lock);
	live++;
	pthread_mutex_unlock(&live_lock);
	rv = pthread_create(&t, &at, job_main, j);
	pthread_attr_destroy(&at);
	if (rv != 0) {
		pthread_mutex_lock(&live_lock);
		live--;
		pthread_mutex_unlock(&live_lock);
		error_set(err, ERR_LOCAL, "pthread_create: %s", strerror(rv));
		job_free(j);
		return NULL;
	}
	return j;
}

int
convert_fd(const struct convert_job *j)
{
	return j != NULL ? j->pipe[0] : -1;
}

int
convert_finish(struct convert_job **jp, struct mime_view **viewp,
    struct msgbuf **msgp, struct error *err)
{
	struct convert_job	*j = *jp;
	bool			 done;
	int			 rv;

	pthread_mutex_lock(&j->lock);
	done = j->done;
	pthread_mutex_unlock(&j->lock);
	if (!done)
		return 0;
	*jp = NULL;
	if ((rv = j->rv) == -1)
		*err = j->err;
	else {
		*viewp = j->view;
		*msgp = msgbuf_ref(j->msg);
		j->view = NULL;
	}
	job_free(j);
	return rv == -1 ? -1 : 1;
}

void
convert_cancel(struct convert_job **jp)
{
	struct convert_job	*j = *jp;
	bool			 done;

	if (j == NULL)
		return;
	*jp = NULL;
	j->cancel = true;
	pthread_mutex_lock(&j->lock);
	done = j->done;
	j->abandoned = true;
	pthread_mutex_unlock(&j->lock);
	if (done)
		job_free(j);
}

void
convert_wait_all(int timeout_ms)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&live_lock);
	while (live > 0)
		if (pthread_cond_timedwait(&live_cond, &live_lock, &ts) != 0)
			break;
	pthread_mutex_unlock(&live_lock);
}
