/* petrel with no command: load the configuration and run the terminal UI. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "ui.h"

int
cli_tui(struct cli_ctx *ctx)
{
	struct ui_opts	o;
	int		rv;
	char		*path, *argv[] = { (char *)"setup", NULL };

	/*
	 * First start, no config yet: the setup dialogue on the terminal,
	 * then the UI over the account it wrote.
	 */
	path = ctx->config_path != NULL ? NULL : getenv("PETREL_CONFIG") !=
	    NULL ? NULL : path_config_file();
	if (path != NULL && access(path, F_OK) == -1 && !ctx->offline &&
	    isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "petrel: no configuration yet (%s); let us set "
		    "up an account.\n", path);
		if ((rv = cmd_setup(ctx, 1, argv)) != EXIT_OK) {
			free(path);
			return rv;
		}
	}
	free(path);
	if (cli_account(ctx) == NULL)
		return EXIT_USAGE;
	if ((rv = cli_render_conf(ctx->conf)) != 0)
		return rv;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "petrel: the terminal UI needs a terminal "
		    "(see petrel help for the headless commands)\n");
		return EXIT_USAGE;
	}
	o.account = ctx->account_name;
	o.folder = ctx->folder;
	o.offline = ctx->offline;
	o.render = cli_render_options();
	return ui_main(ctx->conf, &o);
}
