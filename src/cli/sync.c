/*
 * petrel sync [--bodies] [--watch] [FOLDER...]: bring the cache up to date;
 * with --watch, stay connected and keep it so, saying what changed.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"
#include "util.h"
#include "xmalloc.h"

struct progress {
	bool		 tty;
	uint64_t	 last_ms;
	bool		 shown;
};

static void
show_progress(void *arg, const char *folder, uint64_t done, uint64_t total)
{
	struct progress	*p = arg;
	uint64_t	 now = now_ms();

	if (!p->tty || (now - p->last_ms < 100 && done != total))
		return;
	p->last_ms = now;
	p->shown = true;
	/* Folder names come from the server: keep control bytes out. */
	fprintf(stderr, "\r\033[Ksyncing ");
	for (; *folder != '\0'; folder++)
		fputc((unsigned char)*folder < 0x20 || *folder == 0x7f ? '?' :
		    *folder, stderr);
	if (total > 0)
		fprintf(stderr, ": %llu/%llu", (unsigned long long)done,
		    (unsigned long long)total);
	else if (done > 0)
		fprintf(stderr, ": %llu", (unsigned long long)done);
	fflush(stderr);
}

static void
sync_notice(void *arg, const char *line)
{
	fprintf(stderr, "petrel: %s\n", line);
}

/* ---- --watch ---------------------------------------------------------- */

static volatile sig_atomic_t	watch_stop;

static void
watch_on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

struct watch {
	const struct account	*acct;
	struct cache		*cache;		/* read-only, for the counts */
	char			**folders;	/* only these, or all */
	int			 nfolders;
	bool			 json;
	char			**changed;	/* reported this turn */
	size_t			 nchanged;
};

static bool
watch_wanted(const struct watch *w, const char *folder)
{
	int	i;

	if (w->nfolders == 0)
		return true;
	for (i = 0; i < w->nfolders; i++)
		if (strcmp(w->folders[i], folder) == 0)
			return true;
	return false;
}

static void
watch_changed(struct watch *w, const char *folder)
{
	size_t	i;

	if (folder == NULL || !watch_wanted(w, folder))
		return;
	for (i = 0; i < w->nchanged; i++)
		if (strcmp(w->changed[i], folder) == 0)
			return;
	w->changed = xreallocarray(w->changed, w->nchanged + 1,
	    sizeof *w->changed);
	w->changed[w->nchanged++] = xstrdup(folder);
}

struct watch_count {
	const char	*name;
	int64_t		 total, unseen;
	bool		 found;
};

static int
watch_count_cb(void *arg, const struct cache_folder *f)
{
	struct watch_count	*wc = arg;

	if (strcmp(f->name, wc->name) != 0)
		return 0;
	wc->total = f->total;
	wc->unseen = f->unseen;
	wc->found = true;
	return 1;
}

/*
 * Write a finished line (ending in a newline) and free it. Words for a
 * terminal carry names and texts from the server: no control bytes.
 */
static void
watch_emit(struct watch *w, struct buf *b)
{
	char	*p;

	if (!w->json)
		for (p = b->data; p < b->data + b->len - 1; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	fwrite(b->data, 1, b->len, stdout);
	fflush(stdout);
	buf_free(b);
}

/* New mail: {"event":"new_mail",...,"count":N,"text":"FROM: SUBJECT"}. */
static void
watch_newmail(struct watch *w, const struct session_event *ev)
{
	struct buf	b = BUF_INIT(0);

	if (w->json) {
		buf_adds(&b, "{\"event\":\"new_mail\",\"account\":");
		json_add_string(&b, w->acct->name, strlen(w->acct->name));
		buf_adds(&b, ",\"folder\":");
		json_add_string(&b, ev->folder, strlen(ev->folder));
		buf_printf(&b, ",\"count\":%llu,\"text\":",
		    (unsigned long long)ev->count);
		json_add_string(&b, ev->text, strlen(ev->text));
		buf_adds(&b, "}\n");
	} else {
		buf_printf(&b, "%s/%s: %llu new: %s\n", w->acct->name,
		    ev->folder, (unsigned long long)ev->count, ev->text);
	}
	watch_emit(w, &b);
}

/* A line to stdout: JSON when it is not a terminal, else words. */
static void
watch_say(struct watch *w, const char *event, const char *folder,
    const struct watch_count *wc, const char *text)
{
	struct buf	b = BUF_INIT(0);

	if (w->json) {
		buf_adds(&b, "{\"event\":");
		json_add_string(&b, event, strlen(event));
		buf_adds(&b, ",\"account\":");
		json_add_string(&b, w->acct->name, strlen(w->acct->name));
		if (folder != NULL) {
			buf_adds(&b, ",\"folder\":");
			json_add_string(&b, folder, strlen(folder));
		}
		if (wc != NULL && wc->found)
			buf_printf(&b, ",\"total\":%lld,\"unseen\":%lld",
			    (long long)wc->total, (long long)wc->unseen);
		if (text != NULL) {
			buf_adds(&b, ",\"text\":");
			json_add_string(&b, text, strlen(text));
		}
		buf_adds(&b, "}\n");
	} else {
		buf_printf(&b, "%s", w->acct->name);
		if (folder != NULL)
			buf_printf(&b, "/%s", folder);
		buf_printf(&b, ": %s", event);
		if (wc != NULL && wc->found)
			buf_printf(&b, ", %lld messages, %lld unseen",
			    (long long)wc->total, (long long)wc->unseen);
		if (text != NULL)
			buf_printf(&b, ": %s", text);
		buf_adds(&b, "\n");
	}
	watch_emit(w, &b);
}

static void
watch_flush(struct watch *w)
{
	struct watch_count	 wc;
	struct error		 err;
	size_t			 i;

	for (i = 0; i < w->nchanged; i++) {
		memset(&wc, 0, sizeof wc);
		wc.name = w->changed[i];
		error_clear(&err);
		if (cache_folder_foreach(w->cache, true, watch_count_cb, &wc,
		    &err) == -1)
			fprintf(stderr, "petrel: %s\n", err.msg);
		watch_say(w, "changed", w->changed[i], &wc, NULL);
		free(w->changed[i]);
	}
	w->nchanged = 0;
}

static int
watch_all_cb(void *arg, const struct cache_folder *f)
{
	if (!f->noselect)
		watch_changed(arg, f->name);
	return 0;
}

/* After the first sync: every folder watched, with its counts, once. */
static void
watch_all(struct watch *w)
{
	struct error	err;

	error_clear(&err);
	if (cache_folder_foreach(w->cache, false, watch_all_cb, w, &err) == -1)
		fprintf(stderr, "petrel: %s\n", err.msg);
}

static int
watch_interval(const struct conf *conf)
{
	const char	*v = conf_get(conf, NULL, "check_interval");
	int		 n = v != NULL ? atoi(v) : 60;

	return n < 5 ? 5 : n;
}

/*
 * Stay connected: the session IDLEs between commands (new mail, flags and
 * expunges in INBOX at once) and every check_interval syncs the folders
 * asked for (or all). Ends on SIGINT or SIGTERM, with the session's own
 * LOGOUT.
 */
static int
sync_watch(struct cli_ctx *ctx, const struct account *acct,
    const struct sync_opts *opts)
{
	struct watch		 w;
	struct watch_opts	 wo;
	struct session		*s;
	struct session_event	*ev;
	struct sigaction	 sa, old_int, old_term;
	struct error		 err;
	struct pollfd		 pfd;
	uint64_t		 sync_id, next;
	int			 interval = watch_interval(ctx->conf), rv = 0;
	int			 timeout;
	bool			 syncing, first = true;

	memset(&w, 0, sizeof w);
	w.acct = acct;
	w.folders = opts->folders;
	w.nfolders = opts->nfolders;
	w.json = !isatty(STDOUT_FILENO);
	error_clear(&err);
	if (cache_open(acct->name, CACHE_READONLY, &w.cache, &err) == -1 &&
	    cache_open(acct->name, 0, &w.cache, &err) == -1)
		return cli_fail(&err);
	if ((s = engine_start(acct, NULL, 0, &err)) == NULL) {
		cache_close(&w.cache);
		return cli_fail(&err);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = watch_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);	/* no SA_RESTART: poll ends */
	sigaction(SIGTERM, &sa, &old_term);
	watch_stop = 0;
	engine_watch_opts(ctx->conf, acct, &wo);
	wo.folders = opts->folders;
	wo.nfolders = opts->nfolders;
	session_watch_opts(s, &wo);
	session_watch(s, true);
	/* IDLE in the first folder asked for (NOTIFY tells of the rest). */
	if (opts->nfolders > 0)
		session_watch_folder(s, opts->folders[0]);
	sync_id = session_sync(s, opts->bodies, opts->folders, opts->nfolders);
	syncing = true;
	next = now_ms() + (uint64_t)interval * 1000;
	while (!watch_stop) {
		uint64_t now = now_ms();

		timeout = syncing ? -1 : now >= next ? 0 : (int)(next - now);
		pfd.fd = session_event_fd(s);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) == -1 && errno != EINTR) {
			error_set(&err, ERR_LOCAL, "poll: %s", strerror(errno));
			rv = cli_fail(&err);
			break;
		}
		while ((ev = session_event(s)) != NULL) {
			switch (ev->type) {
			case SESSION_EV_PASSWORD:
				engine_answer_password(s, ev);
				break;
			case SESSION_EV_TRUST:
				/* Headless: never asked; the error says how
				 * to trust it. */
			case SESSION_EV_BODY_HEAD:	/* never asked here */
				break;
			case SESSION_EV_FOLDER:
				watch_changed(&w, ev->folder);
				break;
			case SESSION_EV_STATE:
				watch_say(&w, ev->state == SESSION_ONLINE ?
				    "online" : ev->state == SESSION_CONNECTING ?
				    "connecting" : "offline", NULL, NULL, NULL);
				break;
			case SESSION_EV_NOTICE:
				watch_say(&w, "notice", NULL, NULL, ev->text);
				break;
			case SESSION_EV_NEWMAIL:
				watch_flush(&w);
				watch_newmail(&w, ev);
				break;
			case SESSION_EV_DONE:
				if (ev->id != sync_id)
					break;
				syncing = false;
				if (first) {
					first = false;
					watch_all(&w);
				}
				/* A failed sync is tried again next time. */
				if (ev->rv == -1)
					watch_say(&w, "error", NULL, NULL,
					    ev->err.msg);
				break;
			case SESSION_EV_ENDED:
				watch_say(&w, "error", NULL, NULL,
				    ev->err.cls != ERR_NONE ? ev->err.msg :
				    "the session ended");
				rv = ev->err.cls != ERR_NONE ?
				    cli_fail(&ev->err) : EXIT_ERROR;
				watch_stop = 1;
				break;
			case SESSION_EV_PROGRESS:
				break;
			}
			session_event_free(ev);
		}
		watch_flush(&w);
		if (!syncing && !watch_stop && now_ms() >= next) {
			sync_id = session_sync(s, opts->bodies, opts->folders,
			    opts->nfolders);
			syncing = true;
			next = now_ms() + (uint64_t)interval * 1000;
		}
	}
	engine_stop(&s);
	while (w.nchanged > 0)
		free(w.changed[--w.nchanged]);
	free(w.changed);
	cache_close(&w.cache);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rv;
}

int
cmd_sync(struct cli_ctx *ctx, int argc, char **argv)
{
	struct account		*acct;
	struct cache		*cache;
	struct sync_opts	 opts;
	struct sync_stats	 stats;
	struct progress		 prog;
	struct error		 err;
	uint64_t		 start = now_ms();
	int			 i, rv;
	bool			 watch = false;

	memset(&opts, 0, sizeof opts);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bodies") == 0)
			opts.bodies = true;
		else if (strcmp(argv[i], "--watch") == 0)
			watch = true;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-')
			return cli_usage(cli_find("sync"));
		else
			break;
	}
	opts.folders = argv + i;
	opts.nfolders = argc - i;
	if (ctx->offline) {
		fprintf(stderr, "petrel: sync needs the network; --offline "
		    "forbids it\n");
		return EXIT_USAGE;
	}
	if ((acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	/* charset_fallback decodes the index fields sync stores, too. */
	if ((rv = cli_render_conf(ctx->conf)) != 0)
		return rv;
	if (watch)
		return sync_watch(ctx, acct, &opts);
	error_clear(&err);
	if (cache_open(acct->name, acct->proto == PROTO_POP3 ? CACHE_DURABLE :
	    0, &cache, &err) == -1)
		return cli_fail(&err);

	memset(&prog, 0, sizeof prog);
	prog.tty = isatty(STDERR_FILENO);
	opts.progress = show_progress;
	opts.progress_arg = &prog;
	opts.notice = sync_notice;
	memset(&stats, 0, sizeof stats);
	rv = engine_sync(acct, cache, &opts, &stats, &err);
	if (stats.replay.done + stats.replay.failed + stats.replay.dropped > 0)
		printf("replayed %llu action(s): %llu done (%llu found already "
		    "done), %llu refused, %llu dropped\n",
		    (unsigned long long)(stats.replay.done +
		    stats.replay.failed + stats.replay.dropped),
		    (unsigned long long)stats.replay.done,
		    (unsigned long long)stats.replay.recovered,
		    (unsigned long long)stats.replay.failed,
		    (unsigned long long)stats.replay.dropped);
	if (prog.shown)
		fprintf(stderr, "\r\033[K");
	cache_close(&cache);
	if (rv == -1)
		return cli_fail(&err);
	if (prog.tty || ctx->verbose > 0)
		fprintf(stderr, "%s: %d folder(s), %d synced, %d unchanged; "
		    "%llu new, %llu flag change(s), %llu expunged, %llu "
		    "bodies; %zu bytes in, %zu out; %.2f s\n", acct->name,
		    stats.folders_listed,
		    stats.folders_synced, stats.folders_unchanged,
		    (unsigned long long)stats.new_messages,
		    (unsigned long long)stats.flag_updates,
		    (unsigned long long)stats.expunged,
		    (unsigned long long)stats.bodies, stats.bytes_in,
		    stats.bytes_out, (double)(now_ms() - start) / 1000.0);
	return EXIT_OK;
}
