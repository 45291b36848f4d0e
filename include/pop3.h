/*
 * POP3 client: RFC 1939 with the RFC 2449 CAPA extensions (PIPELINING,
 * RESP-CODES, TOP, UIDL, USER, SASL), RFC 2595 STLS, RFC 5034 AUTH (PLAIN
 * and LOGIN through sasl.h) and RFC 3206 response codes.
 *
 * Like the IMAP client it is synchronous: each call sends its commands
 * (many at once when the server offers PIPELINING, with at most
 * limits.window of them in flight) and reads until they are answered,
 * never waiting longer than the io timeout of its proto_params. It knows
 * nothing about the cache or the configuration: message bytes go to a sink
 * the caller provides.
 *
 * Any protocol error, timeout or lost connection leaves the client broken:
 * every later call fails at once with the first error. A -ERR to a single
 * command (a refused RETR, DELE or UIDL) does not break it.
 *
 * Deletion: DELE only marks a message; the server removes the marked
 * messages when it answers +OK to QUIT (pop3_quit). Closing any other way
 * (pop3_close, a lost connection) deletes nothing.
 */
#ifndef PETREL_POP3_H
#define PETREL_POP3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "util.h"

struct pop3_client;

/* Every bound on what the server may send, as named fields. */
struct pop3_limits {
	size_t		 resp_line_max;	/* a status line, or a line of CAPA/LIST/UIDL */
	size_t		 content_line_max; /* one line of RETR/TOP content */
	uint64_t	 msg_max;	/* bytes of one RETR/TOP response, whatever LIST said */
	unsigned	 window;	/* commands in flight with PIPELINING */
	unsigned	 sasl_rounds_max; /* challenges answered before giving up */
};

void		 pop3_limits_default(struct pop3_limits *);

/*
 * Connect, read the greeting, CAPA, STLS when pp->tls is PROTO_TLS_STARTTLS
 * (pop3://), authenticate, CAPA again. Authentication: pp->auth when set
 * (plain, login, user, apop), else the best the server offers: SASL PLAIN,
 * SASL LOGIN, USER/PASS, then APOP (only with pp->apop; on a connection
 * without TLS APOP comes first, so the password is not sent in clear).
 * A password is never sent on a connection without TLS unless pp->tls is
 * PROTO_TLS_NONE (pop3+insecure://). The client keeps copies of what it
 * needs of pp. lim may be NULL (defaults).
 * NULL with err set: ERR_TRANSIENT (network, [SYS/TEMP], [IN-USE]),
 * ERR_TLS, ERR_AUTH (credentials refused: the server's text is in the
 * message), ERR_CONFIG, ERR_PROTO (the server misbehaved).
 */
struct pop3_client *pop3_connect(const struct proto_params *pp,
		    const char *password, const struct pop3_limits *lim,
		    struct error *err);
/* QUIT: 0 only when the server answered +OK (marked messages are gone). Always frees; *cp becomes NULL. */
int		 pop3_quit(struct pop3_client **cp, struct error *err);
/* Leave without deleting anything (RSET + QUIT when healthy, else just close); *cp becomes NULL. */
void		 pop3_close(struct pop3_client **cp);

/* A CAPA capability (the first word of a CAPA line), case-insensitive. */
bool		 pop3_has_cap(const struct pop3_client *, const char *cap);
bool		 pop3_pipelining(const struct pop3_client *);
/* How we logged in: "AUTH PLAIN", "AUTH LOGIN", "USER", "APOP". */
const char	*pop3_auth_used(const struct pop3_client *);
/* The error that broke the client, or NULL while it is healthy. */
const struct error *pop3_broken(const struct pop3_client *);
void		 pop3_counters(const struct pop3_client *, size_t *in, size_t *out);

/* STAT: message count and total size of the maildrop. */
int		 pop3_stat(struct pop3_client *, uint32_t *countp, uint64_t *sizep,
		     struct error *err);
/* NOOP and RSET (unmark every message marked by DELE). */
int		 pop3_noop(struct pop3_client *, struct error *err);
int		 pop3_rset(struct pop3_client *, struct error *err);

/* One line of LIST or UIDL. uidl is 1..512 characters 0x21-0x7e (RFC 1939 says 70). */
typedef int (*pop3_list_cb)(void *arg, uint32_t msgno, uint64_t size);
typedef int (*pop3_uidl_cb)(void *arg, uint32_t msgno, const char *uidl);
/* LIST: every message with its size. A non-zero cb return stops with -1. */
int		 pop3_list(struct pop3_client *, pop3_list_cb, void *arg,
		     struct error *err);
/*
 * UIDL: 1 when listed, 0 when the server refuses UIDL (-ERR: the caller
 * falls back to something else), -1 on error.
 */
int		 pop3_uidl(struct pop3_client *, pop3_uidl_cb, void *arg,
		     struct error *err);

/*
 * Where RETR and TOP put a message: begin, the content in runs
 * (dot-unstuffed, line ends as received), end. refused is called instead
 * when the server answers -ERR for that message (text without control
 * bytes). Any callback returning -1 stops the transfer: the client breaks
 * (the rest of the response is unread) and the call returns -1 with the
 * error the callback put in *err (ERR_LOCAL when it set none).
 */
struct pop3_sink {
	int	(*begin)(void *arg, uint32_t msgno);
	int	(*data)(void *arg, const char *p, size_t len);
	int	(*end)(void *arg, uint32_t msgno, uint64_t len);
	int	(*refused)(void *arg, uint32_t msgno, const char *text);
};

/* A message to fetch; size from LIST bounds the response (0: unknown). */
struct pop3_item {
	uint32_t	 msgno;
	uint64_t	 size;
};

/*
 * RETR (top_lines < 0) or TOP msgno top_lines of each item, pipelined. A
 * response larger than twice the listed size plus 1 MB, or than msg_max,
 * is an error.
 */
int		 pop3_fetch(struct pop3_client *, const struct pop3_item *items,
		     size_t n, int top_lines, const struct pop3_sink *sink,
		     void *arg, struct error *err);

/* DELE each message, pipelined; cb says which the server accepted. */
typedef int (*pop3_dele_cb)(void *arg, uint32_t msgno, bool ok, const char *text);
int		 pop3_dele(struct pop3_client *, const uint32_t *msgnos, size_t n,
		     pop3_dele_cb cb, void *arg, struct error *err);

/* The APOP digest: lower-case hex MD5 of timestamp + password; -1 if MD5 is unavailable. */
int		 pop3_apop_digest(const char *timestamp, const char *password,
		     char out[33]);

#endif
