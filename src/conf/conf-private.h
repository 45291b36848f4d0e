/* Internals shared by the conf parser (conf.c) and account checks (account.c). */
#ifndef PETREL_CONF_PRIVATE_H
#define PETREL_CONF_PRIVATE_H

#include "conf.h"

/* Limits: a config file is small; anything beyond these is a mistake. */
#define CONF_LINE_MAX		4096	/* bytes per line, without the newline */
#define CONF_KEY_MAX		64	/* bytes per key */
#define CONF_KEYS_MAX		256	/* keys per section */
#define CONF_ACCOUNTS_MAX	256	/* [account] sections per file */
#define CONF_NAME_MAX		64	/* bytes per account name */
#define CONF_TIMEOUT_MAX	86400	/* seconds */
#define CONF_DAYS_MAX		36500	/* pop3_delete = after:DAYS */

/*
 * Fill the typed fields of a from its key list and check the section as a
 * whole; lines[i] is the line of keys[i]. 0, or -1 with err set.
 */
int	account_finish(struct account *a, const int *lines, const char *path,
	    struct error *err);
/* Parse an account URL into a; 0, or -1 with err set (no FILE:LINE prefix). */
int	account_parse_url(struct account *a, enum account_proto proto,
	    const char *url, struct error *err);
/* Normalise "sha256:ab:cd..." (colons optional) to "sha256:AB:CD:..."; NULL if invalid. */
char	*conf_fingerprint_normalise(const char *s);
/* The known account keys, NULL-terminated. */
extern const char *const account_known_keys[];

#endif
