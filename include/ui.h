/*
 * The terminal user interface: folder, index and pager views over the
 * cache of every configured account, each account's engine session running
 * behind it (see "The terminal UI" in doc/design.md).
 */
#ifndef PETREL_UI_H
#define PETREL_UI_H

#include <stdbool.h>

struct conf;
struct mime_render_opts;

struct ui_opts {
	const char	*account;	/* -a: the account shown first, NULL: first */
	const char	*folder;	/* -f: the folder shown first, NULL: INBOX */
	bool		 offline;	/* --offline: start no session */
	/* The [options] of rendering (alternative_order, wrap...). */
	const struct mime_render_opts *render;
};

/* Run until the user quits; returns an exit status (EXIT_OK...). */
int	ui_main(struct conf *, const struct ui_opts *);

#endif
