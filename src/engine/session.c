/*
 * Engine sessions: one worker thread per account, fed through a channel of
 * commands, reporting through a channel of events (see engine.h).
 *
 * The worker runs one command at a time. A long one (a sync) calls back
 * between folders (sync_opts.between), and there the worker runs what the
 * owner queued meanwhile: a body the pager waits for or a local action goes
 * before the rest of the sync; another sync waits its turn. A stop never
 * waits: engine_stop() makes the stop fd readable, which ends every network
 * wait of the session's connection at once (conn_params.abort_fd), and the
 * cache is left as the last commit made it, as after a crash.
 */
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "channel.h"
#include "conf.h"
#include "engine-private.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"

/* PROGRESS events at most this often (the last one of a folder always). */
#define SESSION_PROGRESS_MS	100
/* Nothing queued for this long: the worker is idle. */
#define SESSION_IDLE_MS		100

enum session_cmd_type {
	CMD_SYNC,
	CMD_FETCH_BODY,
	CMD_REPLAY,
	CMD_CHECK,
	CMD_WATCH,
	CMD_SEARCH,		/* folder, key (in folders[0]), uid: which */
	CMD_NETCHANGE,		/* uid: a NETWATCH_* event */
	CMD_SEND,		/* outbox_id: one message, 0 all due */
	CMD_STOP,
};

struct session_cmd {
	enum session_cmd_type	 type;
	uint64_t		 id;
	bool			 bodies;
	char			**folders;
	int			 nfolders;
	char			*folder;
	uint32_t		 uid;
	int			 flags;		/* FETCH_BODY: SESSION_FETCH_* */
	int64_t			 outbox_id;
};

static void
cmd_free(void *arg)
{
	struct session_cmd	*cmd = arg;
	int			 i;

	if (cmd == NULL)
		return;
	for (i = 0; i < cmd->nfolders; i++)
		free(cmd->folders[i]);
	free(cmd->folders);
	free(cmd->folder);
	free(cmd);
}

void
session_event_free(struct session_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->folder);
	free(ev->text);
	free(ev->cert);
	free(ev);
}

static void
event_free_cb(void *arg)
{
	session_event_free(arg);
}

static struct session_event *
event_new(enum session_event_type type)
{
	struct session_event	*ev;

	ev = xcalloc(1, sizeof *ev);
	ev->type = type;
	return ev;
}

static void
post(struct session *s, struct session_event *ev)
{
	channel_put(s->events, ev);
}

void
session_set_state(struct session *s, enum session_state state)
{
	struct session_event	*ev;

	if (s->state == state)
		return;
	s->state = state;
	ev = event_new(SESSION_EV_STATE);
	ev->state = state;
	post(s, ev);
}

/* ---- The password ------------------------------------------------------- */

/*
 * The built-in OAuth2: the worker gets (or refreshes) the access token
 * itself, since that is network, not a question for the owner.
 */
static int
session_oauth_token(struct session *s, const char **pwp, struct error *err)
{
	char	*tok;
	bool	 force;

	pthread_mutex_lock(&s->pw_lock);
	force = s->oauth_force;
	s->oauth_force = false;
	if (s->secrets[SESSION_SECRET_LOGIN].value != NULL && !force) {
		*pwp = s->secrets[SESSION_SECRET_LOGIN].value;
		pthread_mutex_unlock(&s->pw_lock);
		return 0;
	}
	pthread_mutex_unlock(&s->pw_lock);
	if (engine_oauth_token(s->acct, force, &tok, err) == -1)
		return -1;
	session_password(s, tok);
	freezero_str(tok);
	*pwp = s->secrets[SESSION_SECRET_LOGIN].value;
	return 0;
}

/*
 * Wait for the owner's answer to SESSION_EV_PASSWORD for secret which:
 * only the owner may run password_command, since it may need the
 * terminal, which the UI has to hand over.
 */
static int
session_wait_secret(struct session *s, enum session_secret_which which,
    const char **pwp, struct error *err)
{
	struct session_secret	*sec = &s->secrets[which];
	struct session_event	*ev;
	bool			 asked = false;

	pthread_mutex_lock(&s->pw_lock);
	if (sec->value == NULL && !sec->answered)
		error_clear(&sec->error);
	while (sec->value == NULL && !s->stopping) {
		if (sec->answered)
			break;
		if (!asked) {
			ev = event_new(SESSION_EV_PASSWORD);
			if (which == SESSION_SECRET_SMTP)
				ev->text = xstrdup("smtp");
			post(s, ev);
			asked = true;
		}
		pthread_cond_wait(&s->pw_cond, &s->pw_lock);
	}
	*pwp = sec->value;
	if (sec->value == NULL) {
		/* Refused: ask again at the next login, not in a loop now. */
		sec->answered = false;
		pthread_mutex_unlock(&s->pw_lock);
		if (s->stopping)
			return error_set(err, ERR_TRANSIENT, "session of %s "
			    "stopped", s->acct->name);
		if (sec->error.cls != ERR_NONE) {
			if (err != NULL)
				*err = sec->error;
			return -1;
		}
		return error_set(err, ERR_AUTH, "account %s: no %spassword",
		    s->acct->name, which == SESSION_SECRET_SMTP ? "SMTP " : "");
	}
	pthread_mutex_unlock(&s->pw_lock);
	return 0;
}

int
session_get_password(struct session *s, const char **pwp, struct error *err)
{
	if (engine_oauth_builtin(s->acct))
		return session_oauth_token(s, pwp, err);
	if (!account_has_secret(s->acct)) {
		/* A client certificate logs in: nothing to ask anyone. */
		*pwp = "";
		return 0;
	}
	return session_wait_secret(s, SESSION_SECRET_LOGIN, pwp, err);
}

int
session_get_smtp_password(struct session *s, const char **pwp,
    struct error *err)
{
	if (!account_smtp_own_secret(s->acct))
		return session_get_password(s, pwp, err);
	return session_wait_secret(s, SESSION_SECRET_SMTP, pwp, err);
}

static void
session_answer(struct session *s, enum session_secret_which which,
    const char *password, const struct error *e)
{
	struct session_secret	*sec = &s->secrets[which];

	pthread_mutex_lock(&s->pw_lock);
	freezero_str(sec->value);
	sec->value = password != NULL ? secret_strdup(password) : NULL;
	if (e != NULL)
		sec->error = *e;
	sec->answered = true;
	pthread_cond_broadcast(&s->pw_cond);
	pthread_mutex_unlock(&s->pw_lock);
}

void
session_password(struct session *s, const char *password)
{
	session_answer(s, SESSION_SECRET_LOGIN, password, NULL);
}

void
session_password_error(struct session *s, const struct error *e)
{
	session_answer(s, SESSION_SECRET_LOGIN, NULL, e);
}

void
session_smtp_password(struct session *s, const char *password)
{
	session_answer(s, SESSION_SECRET_SMTP, password, NULL);
}

void
session_smtp_password_error(struct session *s, const struct error *e)
{
	session_answer(s, SESSION_SECRET_SMTP, NULL, e);
}

void
session_cert_from_peer(struct session_cert *c, const struct tls_peer *p)
{
	memset(c, 0, sizeof *c);
	c->untrusted = p->untrusted;
	c->changed = p->changed;
#define COPY(f)	snprintf(c->f, sizeof c->f, "%s", p->f)
	COPY(hostport);
	COPY(subject);
	COPY(issuer);
	COPY(not_before);
	COPY(not_after);
	COPY(fingerprint);
	COPY(pin);
	COPY(reason);
#undef COPY
}

/* The refused certificate, for the owner to ask the user about. */
void
session_post_trust(struct session *s, const struct tls_peer *p)
{
	struct session_event	*ev = event_new(SESSION_EV_TRUST);

	ev->cert = xcalloc(1, sizeof *ev->cert);
	session_cert_from_peer(ev->cert, p);
	post(s, ev);
}

int
session_trust(struct session *s, const struct session_cert *peer,
    bool always, struct error *err)
{
	if (!peer->untrusted)
		return error_set(err, ERR_USAGE, "this certificate cannot be "
		    "accepted");
	if (always && knownhosts_add(s->known_hosts, peer->hostport, peer->pin,
	    peer->subject, err) == -1)
		return -1;
	pthread_mutex_lock(&s->pw_lock);
	snprintf(s->trust_once, sizeof s->trust_once, "%s", peer->pin);
	pthread_mutex_unlock(&s->pw_lock);
	log_info("%s: the certificate of %s accepted %s (%s)", s->acct->name,
	    peer->hostport, always ? "always" : "for this session",
	    peer->fingerprint);
	return 0;
}

void
session_forget_secret(struct session *s, enum session_secret_which which)
{
	pthread_mutex_lock(&s->pw_lock);
	freezero_str(s->secrets[which].value);
	s->secrets[which].value = NULL;
	s->secrets[which].answered = false;
	pthread_mutex_unlock(&s->pw_lock);
}

void
session_forget_password(struct session *s)
{
	session_forget_secret(s, SESSION_SECRET_LOGIN);
}

/*
 * After a refused login: true when the secret was an OAuth2 token, which
 * is then forgotten so that the next session_get_password() runs
 * oauth2_token_command again (the token may have expired meanwhile).
 */
bool
session_token_refused(struct session *s, const struct error *err)
{
	if (err->cls != ERR_AUTH || (s->acct->oauth2_token_command == NULL &&
	    !engine_oauth_builtin(s->acct)))
		return false;
	session_forget_password(s);
	/* A stored token the server refuses: refresh it, whatever its age. */
	pthread_mutex_lock(&s->pw_lock);
	s->oauth_force = engine_oauth_builtin(s->acct);
	pthread_mutex_unlock(&s->pw_lock);
	return true;
}

const struct proto_params *
session_params(struct session *s, struct proto_params *pp)
{
	engine_proto_params(s->acct, pp);
	pp->abort_fd = s->stop_fd;
	pp->known_hosts = s->known_hosts;
	pthread_mutex_lock(&s->pw_lock);
	memcpy(s->trust_copy, s->trust_once, sizeof s->trust_copy);
	pthread_mutex_unlock(&s->pw_lock);
	pp->trust_once = s->trust_copy[0] != '\0' ? s->trust_copy : NULL;
	pp->peer = &s->peer;
	return pp;
}

static bool
session_stopping(struct session *s)
{
	bool	stopping;

	pthread_mutex_lock(&s->pw_lock);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->pw_lock);
	return stopping;
}

/* ---- Hooks from a running command ---------------------------------------- */

static void
hook_progress(void *arg, const char *folder, uint64_t done, uint64_t total)
{
	struct session		*s = arg;
	struct session_event	*ev;
	uint64_t		 now = now_ms();

	if (now - s->progress_ms < SESSION_PROGRESS_MS && done != total)
		return;
	s->progress_ms = now;
	ev = event_new(SESSION_EV_PROGRESS);
	ev->folder = xstrdup(folder);
	ev->done = done;
	ev->total = total;
	post(s, ev);
}

static void
hook_notice(void *arg, const char *line)
{
	struct session		*s = arg;
	struct session_event	*ev;

	ev = event_new(SESSION_EV_NOTICE);
	ev->text = xstrdup(line);
	post(s, ev);
}

static void
hook_changed(void *arg, const char *folder)
{
	struct session		*s = arg;
	struct session_event	*ev;

	ev = event_new(SESSION_EV_FOLDER);
	ev->folder = xstrdup(folder);
	post(s, ev);
	if (s->watch)
		newmail_note(s, folder);
}

void
session_post_body_head(struct session *s, uint64_t id)
{
	struct session_event	*ev;

	ev = event_new(SESSION_EV_BODY_HEAD);
	ev->id = id;
	post(s, ev);
}

void
session_post_newmail(struct session *s, const char *folder, size_t count,
    const char *from, const char *subject)
{
	struct session_event	*ev;

	ev = event_new(SESSION_EV_NEWMAIL);
	ev->folder = xstrdup(folder);
	ev->count = count;
	xasprintf(&ev->text, "%s: %s", from, subject);
	post(s, ev);
}

void
session_settle(struct session *s)
{
	if (s->nesting == 0)
		newmail_check(s);
}

void
session_changed(struct session *s, const char *folder)
{
	hook_changed(s, folder);
}

static void	run_cmd(struct session *, struct session_cmd *);
static void	session_netwatch_cb(void *, enum netwatch_event, int64_t);

/*
 * Between two folders of a sync: run the quick commands queued meanwhile,
 * keep the syncs for later (in their order), stop on a stop.
 */
static int
hook_between(void *arg, struct error *err)
{
	struct session		*s = arg;
	struct session_cmd	*cmd, **later = NULL;
	size_t			 nlater = 0, i;
	int			 used = 0;

	if (s->nesting > 0)
		return 0;
	while ((cmd = channel_get(s->cmds)) != NULL) {
		if (cmd->type == CMD_STOP) {
			channel_put_first(s->cmds, cmd);
			break;
		}
		if (cmd->type == CMD_SYNC || cmd->type == CMD_NETCHANGE) {
			later = xreallocarray(later, nlater + 1, sizeof *later);
			later[nlater++] = cmd;
			continue;
		}
		s->nesting++;
		run_cmd(s, cmd);
		s->nesting--;
		used = 1;
	}
	/* Put the syncs back in front, oldest first. */
	for (i = nlater; i > 0; i--)
		channel_put_first(s->cmds, later[i - 1]);
	free(later);
	if (session_stopping(s))
		return error_set(err, ERR_TRANSIENT, "session of %s stopped",
		    s->acct->name);
	return used;
}

static bool
hook_waiting(void *arg)
{
	struct session	*s = arg;

	return s->nesting == 0 && (!channel_empty(s->cmds) ||
	    session_stopping(s));
}

static void
hook_opts(struct session *s, struct sync_opts *opts)
{
	opts->progress = hook_progress;
	opts->progress_arg = s;
	opts->notice = hook_notice;
	opts->notice_arg = s;
	opts->changed = hook_changed;
	opts->between = hook_between;
	opts->waiting = hook_waiting;
	opts->hook_arg = s;
}

/* ---- The worker ------------------------------------------------------------ */

int
session_ensure_online(struct session *s, struct error *err)
{
	if (s->drv->online(s))
		return 0;
	session_set_state(s, SESSION_CONNECTING);
	if (s->drv->connect(s, err) == -1) {
		if (err->cls == ERR_AUTH)
			session_forget_password(s);
		if (err->cls == ERR_TLS && (s->peer.untrusted ||
		    s->peer.changed)) {
			session_post_trust(s, &s->peer);
		}
		session_set_state(s, SESSION_OFFLINE);
		return -1;
	}
	session_set_state(s, SESSION_ONLINE);
	s->online_since = now_ms();
	return 0;
}

/* Idle work (threads, text) gives way to any command queued and a stop. */
static int
text_yield(void *arg)
{
	struct session	*s = arg;

	return !channel_empty(s->cmds) || session_stopping(s);
}

/* Index the bodies stored since the last pass (textindex.c). */
static void
index_text(struct session *s)
{
	struct error	err;
	uint64_t	n;

	if (!s->text_dirty)
		return;
	error_clear(&err);
	if (engine_index_text(s->cache, text_yield, s, &n, &err) == -1) {
		/* Only search is poorer for it; say so and go on. */
		log_warnx("%s: indexing message text: %s", s->acct->name,
		    err.msg);
		s->text_dirty = false;
		return;
	}
	if (!text_yield(s))
		s->text_dirty = false;
}

struct folder_ids {
	int64_t	*ids;
	size_t	 n, size;
};

static int
collect_folder(void *arg, const struct cache_folder *f)
{
	struct folder_ids	*fi = arg;

	if (fi->n == fi->size) {
		fi->size = fi->size ? fi->size * 2 : 16;
		fi->ids = xreallocarray(fi->ids, fi->size, sizeof *fi->ids);
	}
	fi->ids[fi->n++] = f->id;
	return 0;
}

/*
 * Thread what the last syncs stored, in every folder, so that a thread
 * view is ready before anyone asks for it (cache/thread.c).
 */
static void
thread_folders(struct session *s)
{
	struct folder_ids	fi = { NULL, 0, 0 };
	struct error		err;
	size_t			i;

	if (!s->thread_dirty)
		return;
	error_clear(&err);
	if (cache_folder_foreach(s->cache, false, collect_folder, &fi,
	    &err) == -1)
		goto fail;
	for (i = 0; i < fi.n && !text_yield(s); i++)
		if (cache_thread_update(s->cache, fi.ids[i], text_yield, s,
		    &err) == -1)
			goto fail;
	if (!text_yield(s))
		s->thread_dirty = false;
	free(fi.ids);
	return;
fail:
	/* The readers thread before they show threads; go on. */
	log_warnx("%s: threading: %s", s->acct->name, err.msg);
	s->thread_dirty = false;
	free(fi.ids);
}

/* Idle, watched and connected: wait for the server's news (IDLE). */
static bool
want_changes(struct session *s)
{
	return s->watch && !s->no_wait && s->drv->wait_changes != NULL &&
	    s->drv->online(s) && !session_stopping(s);
}

/* Reconnect delays: 1 s doubling to 5 min, each with +-25% jitter. */
#define RECONNECT_MIN_MS	1000
#define RECONNECT_MAX_MS	(5 * 60 * 1000)
/*
 * A connection that lived this long was a good one: the next loss starts
 * the delays again from 1 s. One that dies sooner (a server that drops
 * every IDLE) keeps doubling them, though each login worked.
 */
#define RECONNECT_STABLE_MS	(60 * 1000)

/*
 * A watched session lost its connection: try again later by itself, unless
 * the server refused the password or the certificate (that needs the user;
 * the next command tries again).
 */
static void
schedule_reconnect(struct session *s, const struct error *err)
{
	int	d;

	if (!s->watch)
		return;
	if (err->cls == ERR_AUTH || err->cls == ERR_TLS) {
		hook_notice(s, "not reconnecting by itself: the server refused "
		    "the login");
		return;
	}
	if (s->online_since != 0 &&
	    now_ms() - s->online_since >= RECONNECT_STABLE_MS)
		s->backoff_ms = 0;
	s->online_since = 0;
	s->backoff_ms = s->backoff_ms == 0 ? RECONNECT_MIN_MS :
	    s->backoff_ms >= RECONNECT_MAX_MS / 2 ? RECONNECT_MAX_MS :
	    s->backoff_ms * 2;
	d = s->backoff_ms - s->backoff_ms / 4 +
	    (int)arc4random_uniform((uint32_t)s->backoff_ms / 2 + 1);
	s->reconnect_at = now_ms() + (uint64_t)d;
	log_info("%s: reconnecting in %d ms", s->acct->name, d);
}

/*
 * Connect again and sync every folder (what changed meanwhile, through
 * QRESYNC/CONDSTORE where the server has them), then IDLE as before.
 */
static void
reconnect(struct session *s)
{
	struct sync_opts	opts;
	struct sync_stats	stats;
	struct error		err;

	s->reconnect_at = 0;
	memset(&opts, 0, sizeof opts);
	memset(&stats, 0, sizeof stats);
	hook_opts(s, &opts);
	error_clear(&err);
	if (session_ensure_online(s, &err) == 0 &&
	    session_sync_run(s, &opts, &stats, &err) == 0) {
		s->no_wait = false;
		s->thread_dirty = true;
		return;
	}
	log_warnx("%s: reconnecting: %s", s->acct->name, err.msg);
	if (!s->drv->online(s)) {
		s->drv->logout(s);
		session_set_state(s, SESSION_OFFLINE);
	}
	schedule_reconnect(s, &err);
}

static void
wait_changes(struct session *s)
{
	struct error	err;
	int		rv;

	error_clear(&err);
	rv = s->drv->wait_changes(s, channel_fd(s->cmds), &err);
	if (rv == 0)
		return;
	/* No IDLE (the owner's periodic check does it), or it failed. */
	s->no_wait = true;
	if (rv == -1) {
		log_warnx("%s: waiting for changes: %s", s->acct->name,
		    err.msg);
		if (!s->drv->online(s)) {
			s->drv->logout(s);
			session_set_state(s, SESSION_OFFLINE);
			schedule_reconnect(s, &err);
		}
	}
}

/* A probe of the connection after an address change gets this long. */
#define NETCHANGE_PROBE_MS	5000

/*
 * The machine's network or clock changed (netwatch.c). After a clock jump
 * (a suspend, most likely) the connection is given up and made again at
 * once: the server has probably dropped it, and a TCP connection to a
 * vanished peer only says so after minutes. After an address change it
 * is asked a NOOP first. An offline session waiting for its backoff tries
 * now.
 */
static void
net_changed(struct session *s, enum netwatch_event what)
{
	struct error	err;

	s->net_pending = 0;
	if (!s->watch || s->drv->drop == NULL)
		return;
	error_clear(&err);
	if (s->drv->online(s)) {
		if (what == NETWATCH_ADDRESS && s->drv->probe(s,
		    NETCHANGE_PROBE_MS, &err) == 0)
			return;
		log_info("%s: %s: connecting again", s->acct->name,
		    what == NETWATCH_CLOCK ? "the clock jumped" : err.msg);
		s->drv->drop(s);
		session_set_state(s, SESSION_OFFLINE);
	} else if (s->reconnect_at == 0)
		return;		/* not watching a connection (a refusal) */
	s->backoff_ms = 0;
	reconnect(s);
}

static void
run_cmd(struct session *s, struct session_cmd *cmd)
{
	struct session_event	*ev;
	struct sync_opts	 opts;
	int			 rv = -1;

	ev = event_new(SESSION_EV_DONE);
	ev->id = cmd->id;
	error_clear(&ev->err);
	memset(&opts, 0, sizeof opts);
	hook_opts(s, &opts);
	switch (cmd->type) {
	case CMD_SYNC:
		opts.bodies = cmd->bodies;
		opts.folders = cmd->folders;
		opts.nfolders = cmd->nfolders;
		/* Mail waiting goes first; its failures are its own. */
		if (cache_outbox_count(s->cache, -1) > 0) {
			struct error e;

			error_clear(&e);
			if (session_send_outbox(s, 0, &ev->stats, &e) == -1)
				hook_notice(s, e.msg);
		}
		if (session_ensure_online(s, &ev->err) == 0)
			rv = session_sync_run(s, &opts, &ev->stats, &ev->err);
		/* Threaded and indexed once the queue is empty. */
		s->text_dirty = s->thread_dirty = true;
		break;
	case CMD_FETCH_BODY:
		if (session_ensure_online(s, &ev->err) == 0)
			rv = s->drv->fetch_body(s, cmd->folder, cmd->uid,
			    (cmd->flags & SESSION_FETCH_HEAD) ? cmd->id : 0,
			    &ev->err);
		if (rv == 0) {
			hook_changed(s, cmd->folder);
			s->text_dirty = true;
		}
		break;
	case CMD_REPLAY:
		if (cache_pending_count(s->cache) == 0)
			rv = 0;
		else if (session_ensure_online(s, &ev->err) == 0)
			rv = session_replay_pending(s, &opts,
			    &ev->stats.replay, true, &ev->err);
		break;
	case CMD_SEND:
		rv = session_send_outbox(s, cmd->outbox_id, &ev->stats,
		    &ev->err);
		break;
	case CMD_CHECK:
		if (session_ensure_online(s, &ev->err) == 0)
			rv = s->drv->check(s, &ev->err);
		break;
	case CMD_SEARCH:
		if (s->drv->search == NULL)
			rv = 0;
		else if (session_ensure_online(s, &ev->err) == 0)
			rv = s->drv->search(s, cmd->folder, cmd->folders[0],
			    (char)cmd->uid, cmd->folders[1], &ev->err);
		if (rv == 0)
			hook_changed(s, cmd->folder);
		break;
	case CMD_NETCHANGE:
		net_changed(s, (enum netwatch_event)cmd->uid);
		rv = 0;
		break;
	case CMD_WATCH:
		/* Taken at the next wait (which this command ended). */
		free(s->watch_folder);
		s->watch_folder = cmd->folder;
		cmd->folder = NULL;
		rv = 0;
		break;
	case CMD_STOP:
		fatalx("%s: stop is not a command to run", __func__);
	}
	ev->rv = rv;
	if (rv == -1) {
		if (ev->err.cls == ERR_AUTH)
			session_forget_password(s);
		/* A broken connection is dropped; the next command logs in. */
		if (!s->drv->online(s)) {
			s->drv->logout(s);
			session_set_state(s, SESSION_OFFLINE);
		}
	}
	/* Nobody waits for the worker's own commands. */
	if (cmd->type == CMD_NETCHANGE)
		session_event_free(ev);
	else
		post(s, ev);
	cmd_free(cmd);
}

static void *
session_main(void *arg)
{
	struct session		*s = arg;
	struct session_cmd	*cmd;
	struct session_event	*ev;
	struct error		 err;
	int			 timeout;

	error_clear(&err);
	/*
	 * Linux keeps a nice value per thread, and the threads this one
	 * starts (the store's, the resolver's) inherit it.
	 */
	if (s->background && setpriority(PRIO_PROCESS,
	    (id_t)syscall(SYS_gettid), ENGINE_BACKGROUND_NICE) == -1)
		log_debug("session: cannot lower the priority: %s",
		    strerror(errno));
	if (cache_open_path(s->cache_path, s->acct->proto == PROTO_POP3 ?
	    CACHE_DURABLE : 0, &s->cache, &err) == -1) {
		/* Nothing can work without the cache: end with the reason. */
		ev = event_new(SESSION_EV_ENDED);
		ev->err = err;
		post(s, ev);
		return NULL;
	}
	for (;;) {
		/*
		 * Idle for 100 ms with messages to thread or bodies to index:
		 * do it (giving way to the next command). Not at once, so a headless
		 * command's stop does not wait behind a batch.
		 */
		timeout = s->text_dirty || s->thread_dirty || want_changes(s) ?
		    SESSION_IDLE_MS : -1;
		if (s->reconnect_at != 0) {
			uint64_t now = now_ms();
			int left = now >= s->reconnect_at ? 0 :
			    (int)(s->reconnect_at - now);

			if (timeout == -1 || left < timeout)
				timeout = left;
		}
		if ((cmd = channel_wait(s->cmds, timeout)) == NULL) {
			if (s->reconnect_at != 0 && now_ms() >= s->reconnect_at)
				reconnect(s);
			else if (s->text_dirty || s->thread_dirty) {
				thread_folders(s);
				index_text(s);
			} else if (want_changes(s)) {
				wait_changes(s);
				session_settle(s);
			}
			continue;
		}
		pthread_mutex_lock(&s->pw_lock);
		s->busy = cmd->type != CMD_STOP && !s->stopping;
		pthread_mutex_unlock(&s->pw_lock);
		if (!s->busy) {
			cmd_free(cmd);
			break;
		}
		if (s->watch)
			newmail_init(s);
		run_cmd(s, cmd);
		session_settle(s);
		s->no_wait = false;	/* maybe a new connection */
		if (s->drv->online(s))
			s->reconnect_at = 0;
		pthread_mutex_lock(&s->pw_lock);
		s->busy = false;
		pthread_mutex_unlock(&s->pw_lock);
	}
	s->drv->logout(s);
	session_set_state(s, SESSION_OFFLINE);
	cache_close(&s->cache);
	ev = event_new(SESSION_EV_ENDED);
	error_clear(&ev->err);
	post(s, ev);
	return NULL;
}

/* ---- The owner's side ---------------------------------------------------- */

struct session *
engine_start(const struct account *acct, const char *cache_path, int flags,
    struct error *err)
{
	struct session	*s;
	char		*dir;
	int		 e;

	s = xcalloc(1, sizeof *s);
	s->acct = acct;
	s->drv = acct->proto == PROTO_POP3 ? &engine_pop3_driver :
	    &engine_imap_driver;
	s->known_hosts = knownhosts_path();
	if (cache_path != NULL)
		s->cache_path = xstrdup(cache_path);
	else {
		if ((dir = path_cache_dir(err)) == NULL) {
			free(s);
			return NULL;
		}
		xasprintf(&s->cache_path, "%s/%s.db", dir, acct->name);
		free(dir);
	}
	s->cmds = channel_new();
	s->events = channel_new();
	if ((s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("eventfd");
	pthread_mutex_init(&s->pw_lock, NULL);
	pthread_cond_init(&s->pw_cond, NULL);
	s->state = SESSION_OFFLINE;
	s->notify = true;
	s->poll_interval_ms = 60 * 1000;
	s->background = (flags & ENGINE_BACKGROUND) != 0;
	if ((e = pthread_create(&s->thread, NULL, session_main, s)) != 0) {
		error_set(err, ERR_LOCAL, "cannot start the session of %s: %s",
		    acct->name, strerror(e));
		channel_free(&s->cmds, NULL);
		channel_free(&s->events, NULL);
		close(s->stop_fd);
		free(s->cache_path);
		free(s);
		return NULL;
	}
	return s;
}

void
engine_stop(struct session **sp)
{
	struct session		*s = *sp;
	struct session_cmd	*cmd;
	uint64_t		 one = 1;
	int			 i;

	if (s == NULL)
		return;
	if (s->netwatched) {
		netwatch_unregister(session_netwatch_cb, s);
		s->netwatched = false;
	}
	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_STOP;
	channel_put_first(s->cmds, cmd);
	/*
	 * In the middle of a command every wait ends now; an idle worker
	 * logs out politely (LOGOUT waits 5 s at most).
	 */
	pthread_mutex_lock(&s->pw_lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->pw_cond);
	if (s->busy && write(s->stop_fd, &one, sizeof one) == -1)
		log_warn("%s: eventfd", __func__);
	pthread_mutex_unlock(&s->pw_lock);
	pthread_join(s->thread, NULL);
	channel_free(&s->cmds, cmd_free);
	channel_free(&s->events, event_free_cb);
	close(s->stop_fd);
	for (i = 0; i < SESSION_SECRETS; i++)
		freezero_str(s->secrets[i].value);
	newmail_free(s);
	free(s->watch_folder);
	while (s->nonly > 0)
		free(s->only[--s->nonly]);
	free(s->only);
	pthread_mutex_destroy(&s->pw_lock);
	pthread_cond_destroy(&s->pw_cond);
	free(s->cache_path);
	free(s->known_hosts);
	free(s);
	*sp = NULL;
}

static uint64_t
submit(struct session *s, struct session_cmd *cmd)
{
	uint64_t	id;

	pthread_mutex_lock(&s->pw_lock);
	id = cmd->id = ++s->next_id;
	pthread_mutex_unlock(&s->pw_lock);
	/* The worker may run and free it at once: never touch it after. */
	channel_put(s->cmds, cmd);
	return id;
}

uint64_t
session_sync(struct session *s, bool bodies, char *const *folders, int n)
{
	struct session_cmd	*cmd;
	int			 i;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_SYNC;
	cmd->bodies = bodies;
	if (n > 0) {
		cmd->folders = xcalloc((size_t)n, sizeof *cmd->folders);
		for (i = 0; i < n; i++)
			cmd->folders[i] = xstrdup(folders[i]);
		cmd->nfolders = n;
	}
	return submit(s, cmd);
}

uint64_t
session_fetch_body(struct session *s, const char *folder, uint32_t uid,
    int flags)
{
	struct session_cmd	*cmd;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_FETCH_BODY;
	cmd->folder = xstrdup(folder);
	cmd->uid = uid;
	cmd->flags = flags;
	return submit(s, cmd);
}

uint64_t
session_replay(struct session *s)
{
	struct session_cmd	*cmd;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_REPLAY;
	return submit(s, cmd);
}

uint64_t
session_search(struct session *s, const char *folder, const char *key,
    char which, const char *word)
{
	struct session_cmd	*cmd;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_SEARCH;
	cmd->folder = xstrdup(folder);
	cmd->folders = xcalloc(2, sizeof *cmd->folders);
	cmd->folders[0] = xstrdup(key);
	cmd->folders[1] = xstrdup(word);
	cmd->nfolders = 2;
	cmd->uid = (uint32_t)(unsigned char)which;
	return submit(s, cmd);
}

uint64_t
session_send(struct session *s, int64_t id)
{
	struct session_cmd	*cmd;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_SEND;
	cmd->outbox_id = id;
	return submit(s, cmd);
}

uint64_t
session_check(struct session *s)
{
	struct session_cmd	*cmd;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_CHECK;
	return submit(s, cmd);
}

int
session_event_fd(struct session *s)
{
	return channel_fd(s->events);
}

struct session_event *
session_event(struct session *s)
{
	return channel_get(s->events);
}

void
engine_answer_password(struct session *s, const struct session_event *ev)
{
	struct error	 err;
	char		*pw = NULL;

	error_clear(&err);
	if (ev->text != NULL && strcmp(ev->text, "smtp") == 0) {
		if (account_smtp_password(s->acct, &pw, &err) == -1)
			session_smtp_password_error(s, &err);
		else
			session_smtp_password(s, pw);
	} else if (account_password(s->acct, &pw, &err) == -1)
		session_password_error(s, &err);
	else
		session_password(s, pw);
	freezero_str(pw);
}

int
engine_call(struct session *s, uint64_t id, engine_event_cb cb, void *arg,
    struct sync_stats *stats, struct error *err)
{
	struct session_event	*ev;
	int			 rv;

	for (;;) {
		if ((ev = channel_wait(s->events, -1)) == NULL)
			continue;
		switch (ev->type) {
		case SESSION_EV_PASSWORD:
			engine_answer_password(s, ev);
			break;
		case SESSION_EV_DONE:
			if (ev->id != id)
				break;
			rv = ev->rv;
			if (stats != NULL)
				*stats = ev->stats;
			if (rv == -1 && err != NULL)
				*err = ev->err;
			session_event_free(ev);
			return rv;
		case SESSION_EV_ENDED:
			if (err != NULL)
				*err = ev->err.cls != ERR_NONE ? ev->err :
				    (struct error){ ERR_LOCAL, "the session "
				    "ended" };
			session_event_free(ev);
			return -1;
		default:
			if (cb != NULL)
				cb(arg, ev);
			break;
		}
		session_event_free(ev);
	}
}

/* ---- One-shot calls ------------------------------------------------------- */

struct oneshot {
	const struct sync_opts	*opts;
	engine_notice_cb	 notice;
	void			*notice_arg;
};

static void
oneshot_event(void *arg, const struct session_event *ev)
{
	struct oneshot	*o = arg;

	switch (ev->type) {
	case SESSION_EV_PROGRESS:
		if (o->opts != NULL && o->opts->progress != NULL)
			o->opts->progress(o->opts->progress_arg, ev->folder,
			    ev->done, ev->total);
		break;
	case SESSION_EV_NOTICE:
		if (o->notice != NULL)
			o->notice(o->notice_arg, ev->text);
		break;
	case SESSION_EV_FOLDER:
		if (o->opts != NULL && o->opts->changed != NULL)
			o->opts->changed(o->opts->hook_arg, ev->folder);
		break;
	default:
		break;
	}
}

int
engine_sync(const struct account *acct, struct cache *cache,
    const struct sync_opts *opts, struct sync_stats *stats, struct error *err)
{
	struct session	*s;
	struct oneshot	 o = { opts, opts->notice, opts->notice_arg };
	int		 rv;

	if ((s = engine_start(acct, cache_path(cache), 0, err)) == NULL)
		return -1;
	rv = engine_call(s, session_sync(s, opts->bodies, opts->folders,
	    opts->nfolders), oneshot_event, &o, stats, err);
	engine_stop(&s);
	return rv;
}

int
engine_replay(const struct account *acct, struct cache *cache,
    engine_notice_cb cb, void *arg, struct replay_stats *rs, struct error *err)
{
	struct session		*s;
	struct sync_stats	 st;
	struct oneshot		 o = { NULL, cb, arg };
	int			 rv;

	if (cache_pending_count(cache) == 0)
		return 0;
	if ((s = engine_start(acct, cache_path(cache), 0, err)) == NULL)
		return -1;
	memset(&st, 0, sizeof st);
	rv = engine_call(s, session_replay(s), oneshot_event, &o, &st, err);
	if (rs != NULL) {
		rs->done += st.replay.done;
		rs->recovered += st.replay.recovered;
		rs->failed += st.replay.failed;
		rs->dropped += st.replay.dropped;
		rs->waiting += st.replay.waiting;
	}
	engine_stop(&s);
	return rv;
}

int
engine_fetch_body(const struct account *acct, struct cache *cache,
    const char *folder, uint32_t uid, struct error *err)
{
	struct session	*s;
	int		 rv;

	if ((s = engine_start(acct, cache_path(cache), 0, err)) == NULL)
		return -1;
	rv = engine_call(s, session_fetch_body(s, folder, uid, 0), NULL, NULL,
	    NULL, err);
	engine_stop(&s);
	return rv;
}

/* On netwatch's thread: queue one CMD_NETCHANGE (a clock jump wins). */
static void
session_netwatch_cb(void *arg, enum netwatch_event what, int64_t ms)
{
	struct session		*s = arg;
	struct session_cmd	*cmd;
	int			 was;

	(void)ms;
	was = s->net_pending;
	if (was != 0 && (was == NETWATCH_CLOCK + 1 || what != NETWATCH_CLOCK))
		return;
	s->net_pending = (int)what + 1;
	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_NETCHANGE;
	cmd->uid = (uint32_t)what;
	/* Before the rest: a dead connection would only make them wait. */
	channel_put_first(s->cmds, cmd);
}

void
session_watch(struct session *s, bool on)
{
	/* Looked at after each command (an idle worker does not wake). */
	s->watch = on;
	if (on && !s->netwatched && s->drv->drop != NULL) {
		netwatch_register(session_netwatch_cb, s);
		s->netwatched = true;
	} else if (!on && s->netwatched) {
		netwatch_unregister(session_netwatch_cb, s);
		s->netwatched = false;
	}
}

/* The account's setting, else the one of [options]. */
static const char *
watch_opt(const struct conf *conf, const struct account *acct,
    const char *key)
{
	const char	*v = conf_get(conf, acct, key);

	return v != NULL ? v : conf_get(conf, NULL, key);
}

void
engine_watch_opts(const struct conf *conf, const struct account *acct,
    struct watch_opts *wo)
{
	const char	*v;

	memset(wo, 0, sizeof *wo);
	wo->poll_interval = (v = watch_opt(conf, acct, "poll_interval")) !=
	    NULL ? atoi(v) : 60;
	if (wo->poll_interval < 0)
		wo->poll_interval = 0;
	v = watch_opt(conf, acct, "imap_notify");
	wo->notify = v == NULL || (strcmp(v, "no") != 0 &&
	    strcmp(v, "off") != 0);
	v = watch_opt(conf, acct, "new_mail_command");
	wo->new_mail_command = v != NULL && *v != '\0' ? v : NULL;
}

void
session_watch_opts(struct session *s, const struct watch_opts *wo)
{
	int	i;

	s->poll_interval_ms = wo->poll_interval * 1000;
	for (i = 0; i < s->nonly; i++)
		free(s->only[i]);
	free(s->only);
	s->only = NULL;
	s->nonly = wo->nfolders;
	if (wo->nfolders > 0) {
		s->only = xcalloc((size_t)wo->nfolders, sizeof *s->only);
		for (i = 0; i < wo->nfolders; i++)
			s->only[i] = xstrdup(wo->folders[i]);
	}
	s->notify = wo->notify;
	free(s->new_mail_command);
	s->new_mail_command = wo->new_mail_command != NULL ?
	    xstrdup(wo->new_mail_command) : NULL;
}

uint64_t
session_watch_folder(struct session *s, const char *folder)
{
	struct session_cmd	*cmd;

	cmd = xcalloc(1, sizeof *cmd);
	cmd->type = CMD_WATCH;
	cmd->folder = xstrdup(folder);
	return submit(s, cmd);
}
