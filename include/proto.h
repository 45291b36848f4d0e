/*
 * What a protocol client (imap.h, pop3.h) needs to know to connect and log
 * in: where, as whom, how the connection is secured, and how long to wait.
 * The engine fills it from the account (conf.h), so the protocol modules
 * need nothing of the configuration.
 *
 * It lives in a header of its own, not in net.h beside struct conn_params:
 * net only moves bytes, while these are protocol policy (STARTTLS, the user
 * name, POP3's login methods) that net must not know about, and the
 * protocol clients share it. It is header only (row "proto" of the module
 * table in doc/design.md): imap, pop3, smtp and the engine may include it.
 *
 * The clients copy what they keep, so the strings need to stay valid only
 * during the connect call.
 */
#ifndef PETREL_PROTO_H
#define PETREL_PROTO_H

#include <stdbool.h>
#include <string.h>

#include "net.h"

/* How the connection is secured. */
enum proto_tls {
	PROTO_TLS_IMPLICIT,	/* TLS from the first byte (imaps://, pop3s://) */
	PROTO_TLS_STARTTLS,	/* upgrade with STARTTLS/STLS before login, or fail */
	PROTO_TLS_NONE,		/* plain text, the password included */
};

struct proto_params {
	const char	*name;		/* account name, for messages */
	const char	*host;		/* name, IPv4 or IPv6 literal */
	int		 port;
	const char	*user;		/* NULL or "" is an ERR_CONFIG at login */
	enum proto_tls	 tls;
	const char	*ca_file;	/* extra trust anchors, may be NULL */
	const char	*cert_file;	/* a client certificate (tls_cert_file) */
	const char	*key_file;
	const char	*fingerprint;	/* "sha256:AB:CD:..." pin, may be NULL */
	/* Trust on first use (net.h): the pins file, a key accepted once,
	 * and where a refused certificate is described. */
	const char	*known_hosts;
	const char	*trust_once;
	struct tls_peer	*peer;
	int		 connect_timeout_ms;
	int		 io_timeout_ms;	/* silence allowed on a read or write */
	int		 abort_fd;	/* > 0: ends every wait once readable
					   (conn_params.abort_fd) */

	/* IMAP only: COMPRESS=DEFLATE (RFC 4978) when the server offers it. */
	bool		 compress;

	/*
	 * How to log in: POP3 "plain", "login", "user", "apop"; IMAP a
	 * list ("scram-sha-256,plain", "user" = the LOGIN command), the
	 * first the server offers. NULL: the best the server offers.
	 */
	const char	*auth;
	/*
	 * The secret is an OAuth2 access token: only OAUTHBEARER or XOAUTH2
	 * may carry it (auth, if set, must name one of them).
	 */
	bool		 token;
	/* No secret, a client certificate: SASL EXTERNAL (auth, if set,
	 * says external). */
	bool		 external;

	/* POP3 only (the IMAP client ignores it). */
	bool		 apop;		/* APOP (MD5) may be used */
};

/* The connection's part of pp, for conn_open(); trace labels its lines. */
static inline void
proto_conn_params(const struct proto_params *pp, const char *trace,
    struct conn_params *p)
{
	memset(p, 0, sizeof *p);
	p->host = pp->host;
	p->port = pp->port;
	p->tls = pp->tls == PROTO_TLS_IMPLICIT;
	p->ca_file = pp->ca_file;
	p->cert_file = pp->cert_file;
	p->key_file = pp->key_file;
	p->fingerprint = pp->fingerprint;
	p->known_hosts = pp->known_hosts;
	p->trust_once = pp->trust_once;
	p->peer = pp->peer;
	p->account = pp->name;
	p->connect_timeout_ms = pp->connect_timeout_ms;
	p->io_timeout_ms = pp->io_timeout_ms;
	p->abort_fd = pp->abort_fd;
	p->trace_name = trace;
}

#endif
