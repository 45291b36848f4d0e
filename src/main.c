/*
 * petrel: a terminal mail client. main() sorts out the global options and
 * hands over to a headless command, or with none to the terminal UI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <locale.h>

#include "config.h"
#include "cli.h"
#include "log.h"
#include "conf.h"
#include "secret.h"

static void
usage(FILE *f)
{
	const struct cli_cmd	*cmd;

	fprintf(f, "usage: petrel [-c FILE] [-a ACCOUNT] [-f FOLDER] [--offline] "
	    "[-v] [--trace]\n       petrel [-c FILE] [-a ACCOUNT] [--offline] [-v] [--trace] "
	    "COMMAND [ARGS]\n");
	fprintf(f, "commands:\n");
	for (cmd = cli_cmds; cmd->name != NULL; cmd++)
		fprintf(f, "  petrel %s %s\n", cmd->name, cmd->usage);
}

/*
 * Global options may stand before or after the command name; take them out
 * of argv wherever they are (up to a "--") and keep the rest in order.
 */
static int
take_globals(struct cli_ctx *ctx, int *argcp, char **argv)
{
	int	i, n = 0, argc = *argcp, dashdash = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (dashdash) {
			argv[++n] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			argv[++n] = argv[i];
		} else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (++i == argc)
				return -1;
			ctx->config_path = argv[i];
		} else if (strcmp(a, "-a") == 0 || strcmp(a, "--account") == 0) {
			if (++i == argc)
				return -1;
			ctx->account_name = argv[i];
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--folder") == 0) {
			if (++i == argc)
				return -1;
			ctx->folder = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0)
			ctx->config_path = a + 9;
		else if (strncmp(a, "--account=", 10) == 0)
			ctx->account_name = a + 10;
		else if (strcmp(a, "--offline") == 0)
			ctx->offline = true;
		else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
			ctx->verbose++;
		else if (strcmp(a, "-vv") == 0)
			ctx->verbose += 2;
		else if (strcmp(a, "--trace") == 0)
			ctx->trace = true;
		else
			argv[++n] = argv[i];
	}
	argv[n + 1] = NULL;
	*argcp = n + 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli_ctx		 ctx;
	const struct cli_cmd	*cmd;
	int			 rv;

	/* Before any secret is read: no core dump can hold one. */
	secret_harden_process();
	setlocale(LC_ALL, "");
	log_init(argv[0]);
	memset(&ctx, 0, sizeof ctx);
	if (take_globals(&ctx, &argc, argv) == -1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ctx.verbose >= 1)
		log_set_level(LOG_INFO);
	if (ctx.verbose >= 2) {
		log_set_level(LOG_DEBUG);
		log_set_trace(1);
	}
	/* The protocol lines alone (logins redacted), to stderr or PETREL_LOG. */
	if (ctx.trace)
		log_set_trace(1);
	if (argc < 2) {
		rv = cli_tui(&ctx);
		if (ctx.conf != NULL)
			conf_free(&ctx.conf);
		return rv;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("petrel %s\n", PETREL_VERSION);
		return EXIT_OK;
	}
	if ((cmd = cli_find(argv[1])) == NULL) {
		fprintf(stderr, "petrel: unknown command: %s\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	rv = cmd->exec(&ctx, argc - 1, argv + 1);
	if (ctx.conf != NULL)
		conf_free(&ctx.conf);
	fflush(stdout);
	if (ferror(stdout)) {
		fprintf(stderr, "petrel: error writing output\n");
		if (rv == EXIT_OK)
			rv = EXIT_ERROR;
	}
	return rv;
}
