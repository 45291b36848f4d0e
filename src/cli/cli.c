/* Shared pieces of the headless commands: the table, errors, accounts. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf.h"

const struct cli_cmd cli_cmds[] = {
	{ "sync", "[--bodies] [--watch] [FOLDER...]", cmd_sync },
	{ "folders", "[--json]", cmd_folders },
	{ "list", "[--json] [--limit PATTERN] [--sort KEY] [--threads] [FOLDER]", cmd_list },
	{ "show", "[--raw] [--headers all|default] [--save N DIR] FOLDER UID", cmd_show },
	{ "render", "[--json] [--headers all|default] [--save N DIR] FILE|-", cmd_render },
	{ "flag", "add|remove [--json] FOLDER UIDS NAME...", cmd_flag },
	{ "move", "[--json] FOLDER UIDS DEST", cmd_move },
	{ "copy", "[--json] FOLDER UIDS DEST", cmd_copy },
	{ "expunge", "[--json] FOLDER", cmd_expunge },
	{ "pending", "[--json]", cmd_pending },
	{ "send", "[-a ACCOUNT] [-t] [--json] [RECIPIENT...] < MESSAGE", cmd_send },
	{ "outbox", "[--json] [--retry ID | --cancel ID]", cmd_outbox },
	{ "auth", "[--device] [--no-browser] [--timeout SECONDS]", cmd_auth },
	{ "setup", "[--address ADDR] [--password-command CMD] [--name NAME] "
	    "[--ca-file FILE] [--list] [--yes]", cmd_setup },
	{ NULL, NULL, NULL },
};

const struct cli_cmd *
cli_find(const char *name)
{
	const struct cli_cmd	*cmd;

	for (cmd = cli_cmds; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

int
cli_usage(const struct cli_cmd *cmd)
{
	fprintf(stderr, "usage: petrel %s %s\n", cmd->name, cmd->usage);
	return EXIT_USAGE;
}

int
cli_fail(const struct error *err)
{
	fprintf(stderr, "petrel: %s\n", err->msg[0] != '\0' ? err->msg :
	    "unknown error");
	switch (err->cls) {
	case ERR_TRANSIENT:	return EXIT_NETWORK;
	case ERR_AUTH:		return EXIT_AUTH;
	case ERR_TLS:		return EXIT_TLS;
	case ERR_PROTO:		return EXIT_PROTO;
	case ERR_CONFIG:
	case ERR_USAGE:		return EXIT_USAGE;
	default:		return EXIT_ERROR;
	}
}

struct account *
cli_account(struct cli_ctx *ctx)
{
	struct error	 err;
	struct account	*a;

	error_clear(&err);
	if (ctx->conf == NULL &&
	    conf_load(ctx->config_path, &ctx->conf, &err) == -1) {
		cli_fail(&err);
		return NULL;
	}
	if ((a = conf_account(ctx->conf, ctx->account_name, &err)) == NULL) {
		cli_fail(&err);
		return NULL;
	}
	return a;
}
