/*
 * triage-bench: the in-process cost of petrel's local actions (issue 9),
 * for bench/triage-bench.py. It links the cache and engine libraries, so
 * process start-up and configuration loading are not what is measured.
 *
 *   triage-bench act [-e] [-r RUNS] ACCOUNT FOLDER UIDS FLAG
 *	cache_act_flags(ADD FLAG) on the account's cache, as `petrel flag add
 *	--offline` records it (queued for the server). Without -e: one call
 *	over all of UIDS, RUNS times (default 1). With -e: one call per UID,
 *	cycling through UIDS, RUNS calls (default: one per UID). Prints the
 *	time of each call's median, p90, max.
 *
 *   triage-bench replay [-a ACCOUNT]
 *	engine_replay() of everything pending: connect, log in, send, retire,
 *	log out; what `petrel flag` (online) and the start of `petrel sync`
 *	run. The configuration comes from $PETREL_CONFIG or
 *	$XDG_CONFIG_HOME/petrel/config. Prints the counts and the time.
 *
 *   triage-bench writer [-s] [-i MS] [-o FILE] ACCOUNT FOLDER UID
 *	A second connection to the cache: every MS milliseconds (default 10)
 *	one cache_act_flags on FOLDER's UID (\Flagged on, then off, ...),
 *	each timed from its start to its commit, until standard input reaches
 *	end of file. A write refused as busy (after the cache's own busy
 *	timeout) is retried and its wait keeps counting. Prints "ready" once
 *	the cache is open, and a summary at the end; -o FILE gets one line
 *	per write: seconds since the start, milliseconds the write took.
 *	With -s the writes bypass the cache library: a plain SQLite
 *	connection to the same file whose busy handler polls every 0.1 ms
 *	does BEGIN IMMEDIATE, an UPDATE of the message's flags, COMMIT; its
 *	waits are how long the lock was really held, without the sleeps of
 *	SQLite's own busy timeout (1, 2, 5, 10, 15, 20, 25... ms).
 *
 * All times are CLOCK_MONOTONIC.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cache.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "util.h"

#define TB_UIDS_MAX	1000000

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("triage-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: triage-bench act [-e] [-r RUNS] ACCOUNT FOLDER UIDS FLAG\n"
	    "       triage-bench replay [-a ACCOUNT]\n"
	    "       triage-bench writer [-s] [-i MS] [-o FILE] ACCOUNT FOLDER "
	    "UID\n");
	exit(2);
}

static long
number(const char *s, long max)
{
	uint64_t v;

	if (parse_u64(s, strlen(s), (uint64_t)max, &v) == -1)
		die("not a number up to %ld: %s", max, s);
	return (long)v;
}

/* "7", "3,9:12" into an array, in the order given. */
static uint32_t *
parse_uids(const char *s, size_t *np)
{
	uint32_t	*v = NULL;
	size_t		 n = 0;
	uint64_t	 a, b, k;
	const char	*p = s, *e, *colon;

	for (;;) {
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		colon = memchr(p, ':', (size_t)(e - p));
		if (parse_u64(p, (size_t)((colon != NULL ? colon : e) - p),
		    UINT32_MAX, &a) == -1 || a == 0)
			die("bad UID set: %s", s);
		b = a;
		if (colon != NULL && (parse_u64(colon + 1,
		    (size_t)(e - colon - 1), UINT32_MAX, &b) == -1 || b < a))
			die("bad UID set: %s", s);
		if (n + (b - a + 1) > TB_UIDS_MAX)
			die("too many UIDs");
		if ((v = realloc(v, (n + (size_t)(b - a + 1)) *
		    sizeof *v)) == NULL)
			die("out of memory");
		for (k = a; k <= b; k++)
			v[n++] = (uint32_t)k;
		if (*e == '\0')
			break;
		p = e + 1;
	}
	*np = n;
	return v;
}

static uint32_t
flag_bit(const char *name)
{
	static const struct {
		const char	*name;
		uint32_t	 bit;
	} sys[] = {
		{ "seen", MSG_SEEN }, { "flagged", MSG_FLAGGED },
		{ "answered", MSG_ANSWERED }, { "deleted", MSG_DELETED },
		{ "draft", MSG_DRAFT },
	};
	size_t	i;

	if (*name == '\\')
		name++;
	for (i = 0; i < sizeof sys / sizeof sys[0]; i++)
		if (strcasecmp_ascii(name, sys[i].name) == 0)
			return sys[i].bit;
	die("unknown flag %s (seen flagged answered deleted draft)", name);
}

static int
dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n), sorted, nearest rank. */
static double
quantile(const double *v, size_t n, double q)
{
	size_t	i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1];
}

static struct cache *
open_cache(const char *account, int64_t *fidp, const char *folder,
    double *open_ms)
{
	struct cache		*c;
	struct cache_folder	 f;
	struct error		 err;
	double			 t0 = now();

	error_clear(&err);
	if (cache_open(account, 0, &c, &err) == -1)
		die("%s", err.msg);
	if (folder != NULL) {
		if (cache_folder_get(c, folder, &f, &err) != 1)
			die("no folder %s in the cache of %s", folder, account);
		*fidp = f.id;
	}
	*open_ms = (now() - t0) * 1e3;
	return c;
}

static int
cmd_act(int argc, char **argv)
{
	struct cache	*c;
	struct error	 err;
	uint32_t	*uids, bit;
	size_t		 n, i;
	double		*t, open_ms, t0, total = 0;
	long		 runs = -1;
	int64_t		 fid;
	bool		 each = false;
	int		 ch;

	while ((ch = getopt(argc, argv, "er:")) != -1) {
		switch (ch) {
		case 'e':
			each = true;
			break;
		case 'r':
			runs = number(optarg, 10000000);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 4)
		usage();
	uids = parse_uids(argv[2], &n);
	bit = flag_bit(argv[3]);
	if (runs < 0)
		runs = each ? (long)n : 1;
	if (runs == 0)
		die("no runs");
	if ((t = calloc((size_t)runs, sizeof *t)) == NULL)
		die("out of memory");
	c = open_cache(argv[0], &fid, argv[1], &open_ms);
	for (i = 0; i < (size_t)runs; i++) {
		error_clear(&err);
		t0 = now();
		if (cache_act_flags(c, fid, each ? &uids[i % n] : uids,
		    each ? 1 : n, CACHE_OP_ADD, bit, NULL, true, &err) == -1)
			die("%s", err.msg);
		t[i] = (now() - t0) * 1e3;
		total += t[i];
	}
	cache_close(&c);
	qsort(t, (size_t)runs, sizeof *t, dbl_cmp);
	printf("act: calls=%ld uids_per_call=%zu open_ms=%.3f median_ms=%.3f "
	    "p90_ms=%.3f max_ms=%.3f min_ms=%.3f total_s=%.3f\n", runs,
	    each ? (size_t)1 : n, open_ms, quantile(t, (size_t)runs, 0.5),
	    quantile(t, (size_t)runs, 0.9), t[runs - 1], t[0], total / 1e3);
	free(t);
	free(uids);
	return 0;
}

static void
notice_cb(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "triage-bench: %s\n", line);
}

static int
cmd_replay(int argc, char **argv)
{
	struct conf		*conf = NULL;
	struct account		*acct;
	struct cache		*c;
	struct replay_stats	 st;
	struct error		 err;
	const char		*name = NULL;
	double			 t0, t_open, t_end;
	int64_t			 pending;
	int			 ch;

	while ((ch = getopt(argc, argv, "a:")) != -1) {
		switch (ch) {
		case 'a':
			name = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	error_clear(&err);
	if (conf_load(NULL, &conf, &err) == -1 ||
	    (acct = conf_account(conf, name, &err)) == NULL)
		die("%s", err.msg);
	t0 = now();
	if (cache_open(acct->name, 0, &c, &err) == -1)
		die("%s", err.msg);
	pending = cache_pending_count(c);
	t_open = now();
	memset(&st, 0, sizeof st);
	if (engine_replay(acct, c, notice_cb, NULL, &st, &err) == -1)
		die("replay: %s", err.msg);
	t_end = now();
	printf("replay: pending=%lld done=%llu failed=%llu dropped=%llu "
	    "waiting=%llu left=%lld open_ms=%.3f replay_s=%.4f\n",
	    (long long)pending, (unsigned long long)st.done,
	    (unsigned long long)st.failed, (unsigned long long)st.dropped,
	    (unsigned long long)st.waiting, (long long)cache_pending_count(c),
	    (t_open - t0) * 1e3, t_end - t_open);
	cache_close(&c);
	conf_free(&conf);
	return 0;
}

/* -s: poll for the lock every 0.1 ms, for up to about a minute. */
static int
poll_busy(void *arg, int count)
{
	(void)arg;
	usleep(100);
	return count < 600000;
}

static void
raw_exec(sqlite3 *db, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die("%s: %s", sqlite3_sql(st), sqlite3_errmsg(db));
	sqlite3_reset(st);
}

/* One small write transaction on a plain connection: toggle \Flagged. */
static void
raw_write(sqlite3 *db, sqlite3_stmt **st)
{
	raw_exec(db, st[0]);
	raw_exec(db, st[1]);
	if (sqlite3_changes(db) != 1)
		die("no such message to update");
	raw_exec(db, st[2]);
}

static sqlite3 *
raw_open(const char *path, int64_t id, sqlite3_stmt **st)
{
	static const char *sql[3] = {
		"BEGIN IMMEDIATE",
		"UPDATE messages SET flags = (flags | 4) - (flags & 4) "
		    "WHERE id = ?1",
		"COMMIT",
	};
	sqlite3	*db;
	int	 i;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		die("%s: %s", path, sqlite3_errmsg(db));
	sqlite3_busy_handler(db, poll_busy, NULL);
	for (i = 0; i < 3; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL) !=
		    SQLITE_OK)
			die("%s: %s", sql[i], sqlite3_errmsg(db));
	sqlite3_bind_int64(st[1], 1, id);
	return db;
}

/* A write refused because another connection held the lock too long. */
static bool
busy_error(const struct error *err)
{
	return strstr(err->msg, "locked") != NULL ||
	    strstr(err->msg, "busy") != NULL;
}

/* Toggle \Flagged through the cache, retrying while busy; the retries. */
static long
act_retry(struct cache *c, int64_t fid, uint32_t uid, bool add)
{
	struct error	err;
	long		retries = 0;

	for (;;) {
		error_clear(&err);
		if (cache_act_flags(c, fid, &uid, 1, add ? CACHE_OP_ADD :
		    CACHE_OP_REMOVE, MSG_FLAGGED, NULL, true, &err) == 0)
			return retries;
		if (!busy_error(&err))
			die("%s", err.msg);
		retries++;
	}
}

static int
cmd_writer(int argc, char **argv)
{
	struct cache	*c;
	struct pollfd	 pfd;
	sqlite3		*db = NULL;
	sqlite3_stmt	*st[3];
	FILE		*out = NULL;
	double		*t = NULL, *at = NULL, open_ms, start, t0;
	size_t		 n = 0, cap = 0;
	long		 interval = 10, retries = 0;
	uint32_t	 uid;
	int64_t		 fid;
	int		 ch, r;
	bool		 add = true, raw = false;

	while ((ch = getopt(argc, argv, "i:o:s")) != -1) {
		switch (ch) {
		case 's':
			raw = true;
			break;
		case 'i':
			interval = number(optarg, 60000);
			break;
		case 'o':
			if ((out = fopen(optarg, "w")) == NULL)
				die("%s: %s", optarg, strerror(errno));
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		usage();
	uid = (uint32_t)number(argv[2], UINT32_MAX);
	c = open_cache(argv[0], &fid, argv[1], &open_ms);
	if (raw) {
		db = raw_open(cache_path(c), fid << 32 | uid, st);
		cache_close(&c);
	}
	printf("ready open_ms=%.3f\n", open_ms);
	fflush(stdout);
	start = now();
	pfd.fd = STDIN_FILENO;
	pfd.events = POLLIN;
	for (;;) {
		/* The pause between writes; input or EOF on stdin stops. */
		r = poll(&pfd, 1, (int)interval);
		if (r == -1 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r > 0)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((t = realloc(t, cap * sizeof *t)) == NULL ||
			    (at = realloc(at, cap * sizeof *at)) == NULL)
				die("out of memory");
		}
		t0 = now();
		if (raw)
			raw_write(db, st);
		else
			retries += act_retry(c, fid, uid, add);
		at[n] = t0 - start;
		t[n] = (now() - t0) * 1e3;
		if (out != NULL)
			fprintf(out, "%.4f %.3f\n", at[n], t[n]);
		n++;
		add = !add;
	}
	if (raw) {
		for (r = 0; r < 3; r++)
			sqlite3_finalize(st[r]);
		sqlite3_close(db);
	} else
		cache_close(&c);
	if (out != NULL && fclose(out) == EOF)
		die("writing the samples: %s", strerror(errno));
	qsort(t, n, sizeof *t, dbl_cmp);
	printf("writer: writes=%zu busy_retries=%ld median_ms=%.3f "
	    "p99_ms=%.3f max_ms=%.3f seconds=%.1f\n", n, retries,
	    quantile(t, n, 0.5), quantile(t, n, 0.99), n ? t[n - 1] : 0.0,
	    now() - start);
	free(t);
	free(at);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init("triage-bench");
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "act") == 0)
		return cmd_act(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "writer") == 0)
		return cmd_writer(argc - 1, argv + 1);
	usage();
}
