/*
 * SASL client mechanisms (RFC 4422) shared by IMAP AUTHENTICATE and POP3
 * AUTH: PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), SCRAM-SHA-1 and
 * SCRAM-SHA-256 (RFC 5802, 7677; the server's signature is verified),
 * OAUTHBEARER (RFC 7628) and XOAUTH2 with an OAuth2 access token in place
 * of the password. The protocol code moves the base64 strings; this
 * module builds them. Every string returned holds a secret:
 * free it with freezero_str().
 */
#ifndef PETREL_SASL_H
#define PETREL_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct sasl;

/*
 * PLAIN or LOGIN, if offered (case-insensitive names), PLAIN first, or
 * NULL: POP3's choice.
 */
const char	*sasl_choose(const char *const *offered, size_t n);
/*
 * The strongest offered: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (callers
 * leave those out without TLS), SCRAM-SHA-256, SCRAM-SHA-1, PLAIN,
 * CRAM-MD5, LOGIN.
 */
const char	*sasl_choose_best(const char *const *offered, size_t n);
/* For an OAuth2 access token: OAUTHBEARER, XOAUTH2, or NULL. */
const char	*sasl_choose_token(const char *const *offered, size_t n);
/* A -PLUS mechanism (channel binding: only over TLS). */
bool		 sasl_is_plus(const char *mech);
/* OAUTHBEARER or XOAUTH2: the secret is a token, not a password. */
bool		 sasl_takes_token(const char *mech);
bool		 sasl_supported(const char *mech);
/* NULL with err set for an unknown mechanism. */
struct sasl	*sasl_new(const char *mech, const char *user, const char *pass,
		     struct error *err);
/* The canonical upper-case name of the mechanism. */
const char	*sasl_name(const struct sasl *);
/*
 * The initial response in base64 for mechanisms that have one (PLAIN), or
 * NULL when the mechanism waits for a first challenge (LOGIN).
 */
char		*sasl_initial(struct sasl *);
/* The base64 answer to a base64 challenge, or NULL with err set. */
char		*sasl_step(struct sasl *, const char *challenge, struct error *err);
/*
 * After the server's OK: false with err set when the mechanism has not
 * finished as it must (SCRAM without a verified server signature).
 */
bool		 sasl_complete(const struct sasl *, struct error *err);
/*
 * SCRAM channel binding (RFC 5802 6, RFC 9266): over TLS, the binding's
 * type and data, given before the first message. -PLUS sends them; plain
 * SCRAM then says "y" (we could bind, the server offered no -PLUS), so a
 * server whose -PLUS was stripped in transit notices.
 */
void		 sasl_set_channel_binding(struct sasl *, const char *type,
		     const void *data, size_t len);
/* OAUTHBEARER names the server it logs in to (RFC 7628 3.1). */
void		 sasl_set_host(struct sasl *, const char *host, int port);
/*
 * The error an OAuth2 mechanism's server sent (its JSON, made printable)
 * before it said NO, or NULL.
 */
const char	*sasl_server_error(const struct sasl *);
/* SCRAM's client nonce, instead of a random one (RFC test vectors). */
void		 sasl_set_nonce(struct sasl *, const char *nonce);
void		 sasl_free(struct sasl **);

/* Base64 through GnuTLS; caller frees. decode returns -1 on bad input. */
char		*b64_encode(const void *data, size_t len);
int		 b64_decode(const char *s, size_t len, char **outp, size_t *lenp);

#endif
