/* petrel sync [--bodies] [FOLDER...]: bring the cache up to date. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"
#include "util.h"

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

	memset(&opts, 0, sizeof opts);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bodies") == 0)
			opts.bodies = true;
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
		    "bodies; %.2f s\n", acct->name, stats.folders_listed,
		    stats.folders_synced, stats.folders_unchanged,
		    (unsigned long long)stats.new_messages,
		    (unsigned long long)stats.flag_updates,
		    (unsigned long long)stats.expunged,
		    (unsigned long long)stats.bodies,
		    (double)(now_ms() - start) / 1000.0);
	return EXIT_OK;
}
