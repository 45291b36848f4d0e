/*
 * Configuration: an INI-style file with one [account NAME] section per
 * account (see petrel.conf(5)). conf_load() parses and validates the whole
 * file and reports the first error as "FILE:LINE: what is wrong".
 */
#ifndef PETREL_CONF_H
#define PETREL_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* PROTO_SMTP only names the scheme of an smtp = URL, never an account's. */
enum account_proto { PROTO_IMAP, PROTO_POP3, PROTO_SMTP };

enum tls_mode {
	TLS_IMPLICIT,		/* imaps://, pop3s:// */
	TLS_STARTTLS,		/* imap://, pop3:// : STARTTLS/STLS required */
	TLS_NONE,		/* imap+insecure://, pop3+insecure:// */
};

enum pop3_delete {
	POP3_DELETE_NEVER,
	POP3_DELETE_AFTER,	/* after pop3_delete_days */
	POP3_DELETE_IMMEDIATELY,
};

struct account {
	char		*name;
	enum account_proto proto;
	enum tls_mode	 tls;
	char		*host;		/* as written: name, IPv4 or IPv6 literal */
	int		 port;		/* from the URL, else 993/143/995/110 */
	char		*user;		/* percent-decoded user part of the URL */
	char		*password;	/* "password =": plain text in the file */
	char		*password_command;
	char		*oauth2_token_command;	/* prints an OAuth2 access token */
	int		 oauth2_token_timeout;	/* seconds it may take, default 60 */
	char		*oauth2_provider;	/* google, microsoft, custom: petrel
						   auth and the engine refresh */
	char		*tls_ca_file;
	char		*tls_cert_file;	/* a client certificate (SASL EXTERNAL) */
	char		*tls_key_file;
	char		*tls_fingerprint; /* "sha256:AB:CD:..." normalised to upper case */
	int		 connect_timeout;	/* seconds, default 30 */
	int		 timeout;		/* seconds of silence on a command, default 120 */
	char		*auth;			/* auth = (IMAP) a list of scram-sha-256 ... user,
						   (POP3) one of them or apop; NULL = best */

	/* POP3 */
	enum pop3_delete pop3_delete;
	int		 pop3_delete_days;
	bool		 pop3_apop;		/* apop = yes: allow APOP (MD5) */
	bool		 pop3_delete_expunged;	/* DELE what the user expunged (yes) */
	bool		 pop3_headers_only;	/* pop3_headers_only = yes: TOP first, RETR on demand */

	/* Sending: smtp = URL (NULL smtp_host: the account cannot send). */
	char		*smtp_host;
	int		 smtp_port;	/* from the URL, else 465 (smtps), 587 */
	enum tls_mode	 smtp_tls;
	char		*smtp_user;
	char		*from;		/* "Name <addr>", else the account's user */
	char		*record;	/* folder for sent mail; NULL: the server's
					   \Sent folder or "Sent"; "off": none */
	char		*signature;	/* a file appended to new mail */

	/* Every key of the section as written, for options added later. */
	char		**keys;
	char		**values;
	int		 nkeys;
	int		 line;			/* line of the [account] header */
};

struct conf {
	char		*path;
	struct account	**accounts;
	int		 naccounts;
	/* Options outside any account section (the [options] section). */
	char		**keys;
	char		**values;
	int		 nkeys;
};

/*
 * Load path, or when path is NULL: $PETREL_CONFIG, then
 * $XDG_CONFIG_HOME/petrel/config. Returns 0, or -1 with err set (ERR_CONFIG).
 */
int		 conf_load(const char *path, struct conf **confp, struct error *err);
void		 conf_free(struct conf **confp);
/* The named account, or the first one when name is NULL; NULL with err set. */
struct account	*conf_account(struct conf *, const char *name, struct error *err);
/* A key of the account section (or of [options] when a is NULL), or NULL. */
const char	*conf_get(const struct conf *, const struct account *a, const char *key);

/*
 * The secret: "password" when set, else the first line of the output of
 * password_command (run through /bin/sh), else the OAuth2 access token
 * oauth2_token_command prints (within 60 s), else -1 with err set. The
 * caller frees the result with freezero_str().
 */
int		 account_password(const struct account *, char **pwp, struct error *err);
/*
 * The SMTP server's secret: smtp_password or smtp_password_command when
 * set, else the account's own (account_password()).
 */
int		 account_smtp_password(const struct account *, char **pwp,
		     struct error *err);
/* The SMTP login takes a secret of its own (smtp_password[_command]). */
bool		 account_smtp_own_secret(const struct account *);
/*
 * Is addr (an address, any case) one of the user's own: from's, the
 * account user's when it is an address, or one of alternates?
 */
bool		 account_is_own_address(const struct account *, const char *addr);
/* False when the login needs no secret (auth = external, a certificate). */
bool		 account_has_secret(const struct account *);
/*
 * Secrets kept by the user's own store (oauth2_refresh_token_command,
 * oauth2_store_command): the first line the command of key prints, or
 * the secret written to its standard input. -1 with err set.
 */
int		 account_secret_command(const struct account *, const char *key,
		     char **outp, struct error *err);
int		 account_store_secret(const struct account *, const char *key,
		     const char *secret, struct error *err);

/* An incoming server an autoconfig document names (autoconfig.c). */
struct autoconfig_server {
	enum account_proto proto;
	enum tls_mode	 tls;		/* never TLS_NONE */
	char		 host[256];
	int		 port;
	char		 user[300];	/* %EMAILADDRESS% and the like expanded */
	bool		 oauth2;	/* it names OAuth2 authentication */
};
/*
 * The IMAP and POP3 servers of a clientConfig document, at most max, in
 * its order: how many, or -1 with err set (too large, not one, or naming
 * only servers without TLS). Values that are not plain are dropped.
 */
int	autoconfig_parse(const char *xml, size_t len, const char *address,
	    struct autoconfig_server *out, int max, struct error *err);

#endif
