/*
 * Headless commands (petrel sync, folders, list, show, render). Each command
 * is one entry of a const table; main() strips the global options (which may
 * come before or after the command name) and calls the entry's exec.
 */
#ifndef PETREL_CLI_H
#define PETREL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct mime_render_opts;

struct conf;
struct account;

struct cli_ctx {
	const char	*config_path;	/* -c FILE, else NULL */
	const char	*account_name;	/* -a NAME, else NULL (first account) */
	const char	*folder;	/* -f FOLDER: the TUI's first folder */
	bool		 offline;	/* --offline: never touch the network */
	int		 verbose;	/* -v count */
	bool		 trace;		/* --trace: protocol lines */
	struct conf	*conf;		/* loaded by cli_account() on demand */
};

struct cli_cmd {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	/* argv[0] is the command name; returns the process exit status. */
	int		(*exec)(struct cli_ctx *, int argc, char **argv);
};

extern const struct cli_cmd cli_cmds[];

/* Exit statuses, by error class (documented in petrel(1)). */
#define EXIT_OK		0
#define EXIT_ERROR	1	/* local: disk, cache, anything else */
#define EXIT_USAGE	2	/* bad arguments or configuration */
#define EXIT_NETWORK	3	/* cannot connect, timeout, connection lost */
#define EXIT_AUTH	4	/* server refused the credentials */
#define EXIT_TLS	5	/* TLS handshake or certificate refused */
#define EXIT_PROTO	6	/* the server said something we cannot accept */

/* Load the config (once) and find the account; NULL after printing the error. */
struct account	*cli_account(struct cli_ctx *);
/* Print "petrel: msg" for err on stderr and return the matching exit status. */
int		 cli_fail(const struct error *err);
/* Print a usage line for cmd and return EXIT_USAGE. */
int		 cli_usage(const struct cli_cmd *cmd);
const struct cli_cmd *cli_find(const char *name);

/* Rendering shared by `petrel render` and `petrel show` (src/cli/render.c). */
struct cli_render_opts {
	bool		 json;		/* --json */
	bool		 headers_all;	/* --headers all */
	int		 save_n;	/* --save N (1-based attachment number), 0 = none */
	const char	*save_dir;	/* --save N DIR */
};
/* Render a raw message to stdout exactly as `petrel render` does; returns an exit status (EXIT_*). */
int	cli_render_message(const char *raw, size_t len, const struct cli_render_opts *);

/* Apply the [options] that shape rendering (NULL: defaults); 0 or an exit status. */
int	cli_render_conf(const struct conf *);
/* The rendering options cli_render_conf() read. */
const struct mime_render_opts *cli_render_options(void);

/* The commands. */
int	cmd_sync(struct cli_ctx *, int, char **);
int	cmd_folders(struct cli_ctx *, int, char **);
int	cmd_list(struct cli_ctx *, int, char **);
int	cmd_show(struct cli_ctx *, int, char **);
int	cmd_render(struct cli_ctx *, int, char **);
int	cmd_flag(struct cli_ctx *, int, char **);
int	cmd_move(struct cli_ctx *, int, char **);
int	cmd_copy(struct cli_ctx *, int, char **);
int	cmd_expunge(struct cli_ctx *, int, char **);
int	cmd_pending(struct cli_ctx *, int, char **);
int	cmd_auth(struct cli_ctx *, int, char **);
int	cmd_send(struct cli_ctx *, int, char **);
int	cmd_outbox(struct cli_ctx *, int, char **);
int	cmd_setup(struct cli_ctx *, int, char **);
/* petrel with no command: the terminal UI. */
int	cli_tui(struct cli_ctx *);

#endif
