/* petrel with no command: load the configuration and run the terminal UI. */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "ui.h"

int
cli_tui(struct cli_ctx *ctx)
{
	struct ui_opts	o;
	int		rv;

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
