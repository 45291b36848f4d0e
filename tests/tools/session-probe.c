/*
 * session-probe: drive one engine session (engine.h) the way the TUI will,
 * and print every event as a JSON line, for tests/integration/test_session.py.
 *
 * usage: session-probe CONFIG ACCOUNT STEP...
 *   sync [FOLDER]      a sync command, waited for
 *   body FOLDER UID    fetch one body, waited for
 *   body-head FOLDER UID the same, a long body's head first (the pager's
 *                      way: a "head" event comes before "done")
 *   replay | check     the pending queue / a NOOP, waited for
 *   pause              print {"paused":true}, wait for a line on stdin
 *   stop-after-progress  start a sync, stop the session at its first
 *                      progress event; prints {"stopped_ms":N}
 *   body-during-sync FOLDER UID
 *                      sync FOLDER; once it says FOLDER changed (its newest
 *                      messages are in), fetch that body; prints
 *                      {"body_rv":N,"body_ms":N,"body_first":true|false}
 *                      (the body done before the sync)
 * The password is answered with account_password() each time the session
 * asks; {"password_requests":N} is printed at the end.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "engine.h"
#include "util.h"
#include "xmalloc.h"

static int	 password_requests;

static void
json_str(const char *s)
{
	putchar('"');
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *
ev_name(enum session_event_type t)
{
	switch (t) {
	case SESSION_EV_STATE:		return "state";
	case SESSION_EV_PASSWORD:	return "password";
	case SESSION_EV_PROGRESS:	return "progress";
	case SESSION_EV_FOLDER:		return "folder";
	case SESSION_EV_NOTICE:		return "notice";
	case SESSION_EV_NEWMAIL:	return "newmail";
	case SESSION_EV_TRUST:		return "trust";
	case SESSION_EV_BODY_HEAD:	return "head";
	case SESSION_EV_DONE:		return "done";
	case SESSION_EV_ENDED:		return "ended";
	}
	return "?";
}

static void
print_event(const struct session_event *ev)
{
	printf("{\"event\":\"%s\"", ev_name(ev->type));
	switch (ev->type) {
	case SESSION_EV_STATE:
		printf(",\"state\":%d", (int)ev->state);
		break;
	case SESSION_EV_PROGRESS:
	case SESSION_EV_FOLDER:
		printf(",\"folder\":");
		json_str(ev->folder);
		break;
	case SESSION_EV_NOTICE:
		printf(",\"text\":");
		json_str(ev->text);
		break;
	case SESSION_EV_BODY_HEAD:
		printf(",\"id\":%llu", (unsigned long long)ev->id);
		break;
	case SESSION_EV_DONE:
		printf(",\"id\":%llu,\"rv\":%d,\"error\":",
		    (unsigned long long)ev->id, ev->rv);
		json_str(ev->rv == 0 ? "" : ev->err.msg);
		printf(",\"new\":%llu", (unsigned long long)ev->stats.new_messages);
		break;
	case SESSION_EV_ENDED:
		printf(",\"error\":");
		json_str(ev->err.msg);
		break;
	default:
		break;
	}
	printf("}\n");
	fflush(stdout);
}

/* A password request answered with account_password(), as engine_call. */
static void
answer_password(struct session *s, const struct account *a)
{
	struct error	 err;
	char		*pw = NULL;

	password_requests++;
	error_clear(&err);
	if (account_password(a, &pw, &err) == -1)
		session_password_error(s, &err);
	else
		session_password(s, pw);
	freezero_str(pw);
}

/*
 * The next event, printed; password requests are answered here and not
 * returned. NULL after two minutes without one.
 */
static struct session_event *
next_event(struct session *s, const struct account *a)
{
	struct session_event	*ev;
	struct pollfd		 pfd;

	for (;;) {
		while ((ev = session_event(s)) != NULL) {
			print_event(ev);
			if (ev->type != SESSION_EV_PASSWORD)
				return ev;
			answer_password(s, a);
			session_event_free(ev);
		}
		pfd.fd = session_event_fd(s);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 120000) <= 0) {
			printf("{\"event\":\"timeout\"}\n");
			return NULL;
		}
	}
}

/* Wait for the DONE of id (or stop the session at the first progress). */
static int
wait_done(struct session *s, const struct account *a, uint64_t id,
    bool stop_at_progress, uint64_t *stopped_ms)
{
	struct session_event	*ev;
	int			 rv;

	while ((ev = next_event(s, a)) != NULL) {
		if (ev->type == SESSION_EV_PROGRESS && stop_at_progress) {
			uint64_t	 t0 = now_ms();
			struct session	*sp = s;

			session_event_free(ev);
			engine_stop(&sp);
			*stopped_ms = now_ms() - t0;
			return 0;
		}
		if (ev->type == SESSION_EV_DONE && ev->id == id) {
			rv = ev->rv;
			session_event_free(ev);
			return rv;
		}
		if (ev->type == SESSION_EV_ENDED) {
			session_event_free(ev);
			return -1;
		}
		session_event_free(ev);
	}
	return -1;
}

/*
 * A sync of folder, and a body fetch queued behind it as soon as the folder
 * has its newest messages: the fetch must not wait for the whole sync.
 */
static int
body_during_sync(struct session *s, const struct account *a,
    char *folder, uint32_t uid)
{
	struct session_event	*ev;
	uint64_t		 sync_id, body_id = 0, t0 = 0, body_ms = 0;
	int			 body_rv = -1, sync_rv = -1, left = 2;
	bool			 body_first = false;

	sync_id = session_sync(s, false, &folder, 1);
	while (left > 0) {
		if ((ev = next_event(s, a)) == NULL)
			return -1;
		if (ev->type == SESSION_EV_FOLDER && body_id == 0 &&
		    strcmp(ev->folder, folder) == 0) {
			t0 = now_ms();
			body_id = session_fetch_body(s, folder, uid, 0);
		} else if (ev->type == SESSION_EV_DONE && ev->id == body_id) {
			body_rv = ev->rv;
			body_ms = now_ms() - t0;
			body_first = left == 2;
			left--;
		} else if (ev->type == SESSION_EV_DONE && ev->id == sync_id) {
			sync_rv = ev->rv;
			left--;
			if (body_id == 0)
				left--;
		} else if (ev->type == SESSION_EV_ENDED) {
			session_event_free(ev);
			return -1;
		}
		session_event_free(ev);
	}
	printf("{\"body_rv\":%d,\"body_ms\":%llu,\"body_first\":%s}\n",
	    body_rv, (unsigned long long)body_ms, body_first ? "true" :
	    "false");
	return sync_rv == 0 && body_rv == 0 ? 0 : -1;
}

static bool
is_step(const char *w)
{
	static const char *steps[] = { "sync", "body", "body-head", "replay", "check",
	    "pause", "stop-after-progress", "body-during-sync" };
	size_t	i;

	for (i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (strcmp(w, steps[i]) == 0)
			return true;
	return false;
}

int
main(int argc, char **argv)
{
	struct conf	*conf = NULL;
	struct account	*a;
	struct session	*s;
	struct error	 err;
	uint64_t	 stopped = 0;
	int		 i, rv = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: session-probe CONFIG ACCOUNT STEP...\n");
		return 2;
	}
	error_clear(&err);
	if (conf_load(argv[1], &conf, &err) == -1 ||
	    (a = conf_account(conf, argv[2], &err)) == NULL ||
	    (s = engine_start(a, NULL, 0, &err)) == NULL) {
		fprintf(stderr, "session-probe: %s\n", err.msg);
		return 1;
	}
	for (i = 3; i < argc && s != NULL; i++) {
		if (strcmp(argv[i], "sync") == 0) {
			if (i + 1 < argc && !is_step(argv[i + 1])) {
				rv |= wait_done(s, a, session_sync(s, false,
				    &argv[i + 1], 1), false, NULL);
				i++;
			} else
				rv |= wait_done(s, a, session_sync(s, false,
				    NULL, 0), false, NULL);
		} else if ((strcmp(argv[i], "body") == 0 ||
		    strcmp(argv[i], "body-head") == 0) && i + 2 < argc) {
			rv |= wait_done(s, a, session_fetch_body(s, argv[i + 1],
			    (uint32_t)strtoul(argv[i + 2], NULL, 10),
			    strcmp(argv[i], "body-head") == 0 ?
			    SESSION_FETCH_HEAD : 0), false, NULL);
			i += 2;
		} else if (strcmp(argv[i], "body-during-sync") == 0 &&
		    i + 2 < argc) {
			rv |= body_during_sync(s, a, argv[i + 1],
			    (uint32_t)strtoul(argv[i + 2], NULL, 10));
			i += 2;
		} else if (strcmp(argv[i], "replay") == 0)
			rv |= wait_done(s, a, session_replay(s), false, NULL);
		else if (strcmp(argv[i], "pause") == 0) {
			char	line[16];

			/* The test changes the server, then sends a line. */
			printf("{\"paused\":true}\n");
			fflush(stdout);
			if (fgets(line, sizeof line, stdin) == NULL)
				break;
		} else if (strcmp(argv[i], "check") == 0)
			rv |= wait_done(s, a, session_check(s), false, NULL);
		else if (strcmp(argv[i], "stop-after-progress") == 0) {
			wait_done(s, a, session_sync(s, false, NULL, 0), true,
			    &stopped);
			s = NULL;
			printf("{\"stopped_ms\":%llu}\n",
			    (unsigned long long)stopped);
		} else {
			fprintf(stderr, "session-probe: bad step %s\n", argv[i]);
			rv = 2;
			break;
		}
	}
	engine_stop(&s);
	printf("{\"password_requests\":%d}\n", password_requests);
	conf_free(&conf);
	return rv != 0;
}
