/*
 * Test helpers for the net tests: certificates made at run time with the
 * GnuTLS X.509 API, and a small server on a loopback ephemeral port that
 * runs one scripted exchange in a thread (plain, TLS, or STARTTLS).
 */
#ifndef PETREL_TEST_TLS_SERVER_H
#define PETREL_TEST_TLS_SERVER_H

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <pthread.h>
#include <stddef.h>
#include <time.h>

struct tcert {
	gnutls_x509_crt_t	 crt;
	gnutls_x509_privkey_t	 key;
	char			 fp[8 + 3 * 32];	/* "sha256:AB:..." */
	char			 path[512];		/* the certificate as PEM */
};

/*
 * Make a certificate: a CA when is_ca, signed by issuer (NULL: by itself),
 * with the DNS and IP names (NULL-terminated lists, may be NULL), valid
 * from..to. The PEM is written under dir.
 */
void	tcert_make(struct tcert *, const char *dir, const char *cn, int is_ca,
	    struct tcert *issuer, const char *const *dns, const char *const *ips,
	    time_t from, time_t to);
void	tcert_free(struct tcert *);

enum srv_mode {
	SRV_NO_ACCEPT,		/* listen, never accept */
	SRV_PLAIN_GREETING,	/* send "* OK plain\r\n", wait for EOF */
	SRV_PLAIN_CLOSE,	/* send "data\r\n", close */
	SRV_PLAIN_SILENT,	/* read until EOF, send nothing */
	SRV_PLAIN_RESET,	/* read a byte, then close with a reset */
	SRV_PLAIN_COUNT,	/* read expect bytes, answer "got N\r\n" */
	SRV_PLAIN_WAIT,		/* read "go\r\n", send two lines, wait for EOF */
	SRV_TLS_ECHO,		/* TLS, echo every record until EOF */
	SRV_TLS_CLOSE_ABRUPT,	/* TLS, send "partial", close without close_notify */
	SRV_TLS_CLOSE_CLEAN,	/* TLS, send "bye\r\n", close_notify, close */
	SRV_TLS_SILENT,		/* TLS, read until EOF, send nothing */
	SRV_TLS_RESET,		/* TLS, then close at once with a reset */
	SRV_TLS_COUNT,		/* TLS, read expect bytes, answer "got N\r\n" */
	SRV_TLS_WAIT,		/* TLS, read "go\r\n", send two lines in one record */
	SRV_STARTTLS,		/* greeting, STARTTLS, TLS echo */
	SRV_STARTTLS_INJECT,	/* same, but inject a line after the OK */
};

struct srv {
	enum srv_mode	 mode;
	struct tcert	*cert;
	int		 lfd;
	int		 port;
	pthread_t	 thread;
	int		 started;
	size_t		 expect;		/* for the COUNT modes */
	gnutls_datum_t	 ticket_key;

	/* What the server saw. */
	char		 sni[256];
	int		 handshake_ok;
	char		 line[256];		/* the STARTTLS command line */
	size_t		 got;
	unsigned char	 cb[64];		/* its channel binding */
	size_t		 cb_len;
};

/* Listen on 127.0.0.1 (or ::1 when v6) and start the thread. */
void	srv_start(struct srv *, enum srv_mode, struct tcert *, int v6);
/* Wait for the thread and close the listening socket. */
void	srv_stop(struct srv *);

#endif
