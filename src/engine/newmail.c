/*
 * New mail: what a watched session's syncs bring in, told to the owner
 * (SESSION_EV_NEWMAIL) and to new_mail_command.
 *
 * "New" is unseen mail above the highest UID the folder had when the
 * session began watching it, so the first look at a folder after a night
 * away reports the night's mail, and a folder cached for the first time
 * reports nothing (it is all old to the user). Folders changed are noted
 * as they are reported (newmail_note, any time) and looked at only between
 * commands (newmail_check), when nothing else uses the cache.
 *
 * new_mail_command is split into words (argv_split: quotes, no shell) and
 * run with ACCOUNT FOLDER COUNT appended, then FROM and SUBJECT of each new
 * message (at most NEWMAIL_ARGS of them), and the same as one JSON object
 * on its stdin, every message included (at most NEWMAIL_MAX). The text is
 * the decoded header with control characters taken out and cut at
 * NEWMAIL_TEXT bytes, so a hostile header can neither reach a terminal
 * nor make an argument of its own. The command runs on a thread of its
 * own; one that takes longer than NEWMAIL_TIMEOUT_MS is killed.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "conf.h"
#include "engine-private.h"
#include "log.h"
#include "msgflags.h"
#include "xmalloc.h"

extern char **environ;

/* Messages looked at per folder and check, and given in the JSON. */
#define NEWMAIL_MAX		100
/* Messages given as arguments. */
#define NEWMAIL_ARGS		10
/* Bytes of a sender or subject at most. */
#define NEWMAIL_TEXT		200
#define NEWMAIL_TIMEOUT_MS	30000

struct newmail_mark {
	int64_t		 folder_id;
	uint32_t	 uid;		/* the highest UID told about */
};

struct newmail_msg {
	uint32_t	 uid;
	char		*from;
	char		*subject;
	int64_t		 date;
};

/* Take out what a terminal or a parser could trip on; cut on a character. */
static char *
clean_text(const char *s)
{
	struct buf		 b = BUF_INIT(0);
	const unsigned char	*p = (const unsigned char *)(s != NULL ? s : "");
	size_t			 n;

	for (; *p != '\0'; p += n) {
		n = 1;
		if (*p >= 0xc0) {
			while ((p[n] & 0xc0) == 0x80 && n < 4)
				n++;
		} else if (*p >= 0x80) {
			continue;	/* a stray continuation byte */
		}
		/* C0, DEL, and C1 (U+0080-U+009F, 0xc2 0x80-0x9f). */
		if (*p < 0x20 || *p == 0x7f ||
		    (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) {
			if (b.len > 0 && b.data[b.len - 1] != ' ')
				buf_addc(&b, ' ');
			continue;
		}
		if (b.len + n > NEWMAIL_TEXT)
			break;
		buf_add(&b, p, n);
	}
	if (b.len == 0) {
		buf_free(&b);
		return xstrdup("");
	}
	return buf_steal(&b, NULL);
}

void
newmail_note(struct session *s, const char *folder)
{
	size_t	i;

	for (i = 0; i < s->nm_nnoted; i++)
		if (strcmp(s->nm_noted[i], folder) == 0)
			return;
	s->nm_noted = xreallocarray(s->nm_noted, s->nm_nnoted + 1,
	    sizeof *s->nm_noted);
	s->nm_noted[s->nm_nnoted++] = xstrdup(folder);
}

static struct newmail_mark *
find_mark(struct session *s, int64_t id)
{
	size_t	i;

	for (i = 0; i < s->nm_nmarks; i++)
		if (s->nm_marks[i].folder_id == id)
			return &s->nm_marks[i];
	return NULL;
}

static struct newmail_mark *
add_mark(struct session *s, int64_t id, uint32_t uid)
{
	struct newmail_mark	*m;

	s->nm_marks = xreallocarray(s->nm_marks, s->nm_nmarks + 1,
	    sizeof *s->nm_marks);
	m = &s->nm_marks[s->nm_nmarks++];
	m->folder_id = id;
	m->uid = uid;
	return m;
}

static int
init_cb(void *arg, const struct cache_folder *f)
{
	struct session	*s = arg;

	if (f->last_sync != 0)
		add_mark(s, f->id, cache_msg_max_uid(s->cache, f->id));
	return 0;
}

void
newmail_init(struct session *s)
{
	struct error	err;

	if (s->nm_ready)
		return;
	s->nm_ready = true;
	error_clear(&err);
	if (cache_folder_foreach(s->cache, false, init_cb, s, &err) == -1)
		log_warnx("%s: %s", s->acct->name, err.msg);
}

struct collect {
	uint32_t		 above;
	uint32_t		 max;
	struct newmail_msg	*msgs;
	size_t			 n;
};

static int
collect_cb(void *arg, const struct cache_msg *m)
{
	struct collect		*c = arg;
	struct newmail_msg	*nm;

	if (m->uid >= CACHE_LOCAL_UID_MIN)
		return 0;
	if (m->uid <= c->above || c->n == NEWMAIL_MAX)
		return 1;
	if (m->uid > c->max)
		c->max = m->uid;
	if ((m->flags & (MSG_SEEN | MSG_DELETED)) != 0 || m->hidden)
		return 0;
	nm = &c->msgs[c->n++];
	nm->uid = m->uid;
	nm->from = clean_text(m->from);
	nm->subject = clean_text(m->subject);
	nm->date = m->date;
	return 0;
}

struct newmail_job {
	char		**argv;
	char		 *json;
	size_t		  jsonlen;
	char		 *label;
};

static void
job_free(struct newmail_job *j)
{
	argv_free(j->argv);
	free(j->json);
	free(j->label);
	free(j);
}

/* Run one command to its end (or its timeout); on a thread of its own. */
static void *
job_main(void *arg)
{
	struct newmail_job		*j = arg;
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 at;
	sigset_t			 none, pipe_set;
	struct timespec			 zero = { 0, 0 };
	pid_t				 pid;
	int				 pfd[2], e, status, waited = 0;
	size_t				 off = 0;
	ssize_t				 w;

	if (pipe2(pfd, O_CLOEXEC) == -1) {
		log_warn("new_mail_command: pipe");
		job_free(j);
		return NULL;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETPGROUP);
	e = posix_spawnp(&pid, j->argv[0], &fa, &at, j->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[0]);
	if (e != 0) {
		log_warnx("new_mail_command %s: %s", j->argv[0], strerror(e));
		close(pfd[1]);
		job_free(j);
		return NULL;
	}
	/*
	 * A command that does not read its stdin must not kill us: SIGPIPE
	 * is blocked on this thread, and one it raised is taken back.
	 */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	while (off < j->jsonlen) {
		w = write(pfd[1], j->json + off, j->jsonlen - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < j->jsonlen)
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
	close(pfd[1]);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r == -1 && errno != EINTR))
			break;
		if (waited >= NEWMAIL_TIMEOUT_MS) {
			log_warnx("new_mail_command for %s: killed after %d s",
			    j->label, NEWMAIL_TIMEOUT_MS / 1000);
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(50 * 1000);
		waited += 50;
	}
	job_free(j);
	return NULL;
}

static void
run_command(struct session *s, const char *folder, const struct collect *c)
{
	struct newmail_job	*j;
	struct buf		 js = BUF_INIT(0);
	struct error		 err;
	pthread_attr_t		 attr;
	pthread_t		 t;
	char			 num[32], **base;
	size_t			 i, n, k;
	int			 argc;

	error_clear(&err);
	if ((base = argv_split(s->new_mail_command, &argc, &err)) == NULL) {
		log_warnx("%s: new_mail_command: %s", s->acct->name, err.msg);
		return;
	}
	n = c->n < NEWMAIL_ARGS ? c->n : NEWMAIL_ARGS;
	j = xcalloc(1, sizeof *j);
	j->argv = xcalloc((size_t)argc + 4 + 2 * n, sizeof *j->argv);
	for (k = 0; k < (size_t)argc; k++)
		j->argv[k] = base[k];
	free(base);
	snprintf(num, sizeof num, "%zu", c->n);
	j->argv[k++] = xstrdup(s->acct->name);
	j->argv[k++] = xstrdup(folder);
	j->argv[k++] = xstrdup(num);
	for (i = 0; i < n; i++) {
		j->argv[k++] = xstrdup(c->msgs[i].from);
		j->argv[k++] = xstrdup(c->msgs[i].subject);
	}
	j->argv[k] = NULL;

	buf_adds(&js, "{\"account\":");
	json_add_string(&js, s->acct->name, strlen(s->acct->name));
	buf_adds(&js, ",\"folder\":");
	json_add_string(&js, folder, strlen(folder));
	buf_printf(&js, ",\"count\":%zu,\"messages\":[", c->n);
	for (i = 0; i < c->n; i++) {
		buf_printf(&js, "%s{\"uid\":%u,\"from\":", i > 0 ? "," : "",
		    c->msgs[i].uid);
		json_add_string(&js, c->msgs[i].from, strlen(c->msgs[i].from));
		buf_adds(&js, ",\"subject\":");
		json_add_string(&js, c->msgs[i].subject,
		    strlen(c->msgs[i].subject));
		buf_printf(&js, ",\"date\":%lld}",
		    (long long)c->msgs[i].date);
	}
	buf_adds(&js, "]}\n");
	j->json = buf_steal(&js, &j->jsonlen);
	xasprintf(&j->label, "%s/%s", s->acct->name, folder);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, job_main, j) != 0) {
		log_warnx("%s: new_mail_command: cannot start a thread",
		    s->acct->name);
		job_free(j);
	}
	pthread_attr_destroy(&attr);
}

/* One folder noted: tell about its new mail, and move its mark. */
static void
check_folder(struct session *s, const char *folder)
{
	struct cache_folder	 f;
	struct newmail_mark	*mark;
	struct collect		 c;
	struct error		 err;
	size_t			 i;

	error_clear(&err);
	if (cache_folder_get(s->cache, folder, &f, &err) != 1)
		return;
	if ((mark = find_mark(s, f.id)) == NULL) {
		/* Cached for the first time: all of it is old news. */
		add_mark(s, f.id, cache_msg_max_uid(s->cache, f.id));
		return;
	}
	memset(&c, 0, sizeof c);
	c.above = c.max = mark->uid;
	c.msgs = xcalloc(NEWMAIL_MAX, sizeof *c.msgs);
	if (cache_msg_foreach(s->cache, f.id, CACHE_ORDER_UID_DESC, 0, -1,
	    collect_cb, &c, &err) == -1)
		log_warnx("%s: %s", s->acct->name, err.msg);
	mark->uid = c.max;
	if (c.n > 0) {
		session_post_newmail(s, folder, c.n, c.msgs[0].from,
		    c.msgs[0].subject);
		if (s->new_mail_command != NULL)
			run_command(s, folder, &c);
	}
	for (i = 0; i < c.n; i++) {
		free(c.msgs[i].from);
		free(c.msgs[i].subject);
	}
	free(c.msgs);
}

void
newmail_check(struct session *s)
{
	size_t	i;

	if (s->nm_nnoted == 0)
		return;
	if (!s->watch || !s->nm_ready) {
		for (i = 0; i < s->nm_nnoted; i++)
			free(s->nm_noted[i]);
		s->nm_nnoted = 0;
		return;
	}
	for (i = 0; i < s->nm_nnoted; i++) {
		check_folder(s, s->nm_noted[i]);
		free(s->nm_noted[i]);
	}
	s->nm_nnoted = 0;
}

void
newmail_free(struct session *s)
{
	size_t	i;

	for (i = 0; i < s->nm_nnoted; i++)
		free(s->nm_noted[i]);
	free(s->nm_noted);
	free(s->nm_marks);
	free(s->new_mail_command);
}
