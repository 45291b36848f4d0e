/*
 * SMTP submission client (RFC 6409, 5321): greeting, EHLO, STARTTLS (RFC
 * 3207), AUTH through the shared SASL module (RFC 4954), then one
 * transaction per message: MAIL and RCPT pipelined when the server offers
 * PIPELINING (RFC 2920), DATA sent only once every recipient was accepted,
 * so a refused recipient never leaves half a delivery. 8BITMIME, SMTPUTF8
 * and SIZE are used where offered, and a message over SIZE is refused
 * before it is sent.
 *
 * Every reply is validated (three digits, one code across the lines of a
 * multi-line reply, bounded length and count): a server that answers
 * otherwise breaks the connection with ERR_PROTO rather than being
 * guessed at.
 *
 * Error classes say what the caller does with the message: ERR_TRANSIENT
 * (a 4xx, the network) keep it and try later; ERR_AUTH log in again later;
 * ERR_PROTO with smtp_permanent() true, a 5xx: the server's words for the
 * user, who has to change something; ERR_USAGE: it cannot go to this
 * server as it is (too big for SIZE, 8-bit without 8BITMIME...).
 */
#ifndef PETREL_SMTP_H
#define PETREL_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "util.h"

struct smtp_client;

/*
 * Connect, read the greeting, EHLO (helo: our name, NULL: the host's
 * name), STARTTLS when pp->tls says so, and log in when pp->user is set
 * (password: the secret, a token with pp->token). NULL with err set.
 */
struct smtp_client *smtp_connect(const struct proto_params *pp,
		    const char *helo, const char *password, struct error *err);

/* The server's EHLO keywords (case-insensitive), e.g. "PIPELINING". */
bool		 smtp_has_ext(const struct smtp_client *, const char *ext);
/* SIZE's limit in bytes, 0 when none was given. */
uint64_t	 smtp_size_limit(const struct smtp_client *);
/* "AUTH PLAIN" and the like after a login, or NULL (no login). */
const char	*smtp_auth_used(const struct smtp_client *);

struct smtp_envelope {
	const char	*from;		/* reverse path: an address, "" for <> */
	const char *const *rcpts;	/* forward paths: addresses */
	size_t		 nrcpts;
	/*
	 * Asked once the recipients are accepted, just before DATA (may be
	 * NULL): false withdraws the message (RSET, withdrawn set), as when
	 * the user took it back to edit meanwhile.
	 */
	bool		(*go_ahead)(void *arg);
	void		*go_arg;
	bool		 withdrawn;
};

/*
 * One message: from MAIL FROM to the reply after its final dot. msg is
 * the message as it should arrive (line ends CRLF or LF; dot-stuffing is
 * done here). 0 once the server answered 250 after DATA: it has taken
 * responsibility for the message. -1 with err set, the connection left
 * usable (RSET) where it can be. *after_dotp (may be NULL) is set when the
 * whole message was sent but no reply came: it may or may not have been
 * taken (RFC 5321 4.1.1.4 leaves the client to send it again).
 */
int		 smtp_send(struct smtp_client *, struct smtp_envelope *,
		     const char *msg, size_t len, bool *after_dotp,
		     struct error *err);

/* The last error came from a 5xx reply (permanent). */
bool		 smtp_permanent(const struct smtp_client *);

/* NULL while usable, else what broke the connection. */
const struct error *smtp_broken(const struct smtp_client *);

/* QUIT (its answer awaited briefly) and close; *cp becomes NULL. */
void		 smtp_quit(struct smtp_client **cp);

/*
 * One reply line (without CRLF): its code, whether more lines follow
 * ("250-"), and where its text starts. -1 when it is not a reply line.
 * Public for the unit tests and the fuzzer.
 */
int		 smtp_parse_reply_line(const char *line, size_t len, int *codep,
		     bool *morep, const char **textp);

/* Bytes in and out, for statistics. */
void		 smtp_counters(const struct smtp_client *, size_t *in,
		     size_t *out);

#endif
