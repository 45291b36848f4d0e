/* Internals shared by the TCP side (conn.c) and the TLS side (tls.c). */
#ifndef PETREL_NET_PRIVATE_H
#define PETREL_NET_PRIVATE_H

#include <gnutls/gnutls.h>
#include <zlib.h>

#include <stdint.h>

#include "buf.h"
#include "net.h"

#define CONN_OUT_MAX		(64 * 1024)	/* queued writes before a flush */
#define CONN_IN_MAX		(16 * 1024)	/* read-ahead by conn_wait */
#define CONN_CONNECT_DEFAULT_MS	30000
#define CONN_CLOSE_FLUSH_MS	1000		/* best-effort flush in conn_close */

struct conn {
	int		 fd;
	char		*host;
	int		 port;
	char		*hostport;	/* "host:port" or "[v6]:port", for messages */
	int		 ip_family;	/* AF_INET/AF_INET6 for an IP literal, else 0 */
	unsigned char	 ip[16];	/* the literal's bytes */
	char		*trace_name;
	char		*ca_file;
	char		*cert_file, *key_file;	/* a client certificate */
	char		*account;
	unsigned char	 pin[32];	/* tls_fingerprint, when has_pin */
	int		 has_pin;
	char		*known_hosts;	/* conn_params.known_hosts */
	char		*trust_once;	/* conn_params.trust_once */
	struct tls_peer	*peer;		/* conn_params.peer */
	int		 bulk;		/* conn_set_bulk() */
	int		 lowat;		/* SO_RCVLOWAT now set, 0 = default 1 */
	int		 connect_timeout_ms;
	int		 io_timeout_ms;	/* <= 0: wait forever */
	int		 abort_fd;	/* conn_params.abort_fd, or -1 */

	gnutls_session_t		 session;	/* NULL while plain */
	gnutls_certificate_credentials_t cred;
	int		 system_trust;	/* the system store is in cred */
	char		*tls_info;
	char		 verify_msg[900];	/* why the certificate was refused */

	struct buf	 in;		/* plaintext read ahead by conn_wait */
	/*
	 * TLS ciphertext read from the socket but not yet taken by GnuTLS:
	 * one recv() fills it with several records, where GnuTLS alone would
	 * make one or two recv() calls per 16 KB record.
	 */
	unsigned char	*raw;
	size_t		 raw_pos, raw_len;
	struct buf	 out;		/* queued, not yet sent */

	int		 eof;		/* end of stream seen by conn_wait */
	int		 failed;	/* a write or TLS error: the stream is unusable */
	struct error	 failure;

	size_t		 nin, nout;	/* bytes on the wire (compressed) */

	/* COMPRESS=DEFLATE (conn_compress): both ways, for good. */
	bool		 compress;
	z_stream	 zin, zout;
	unsigned char	*zbuf;		/* wire bytes not yet inflated */
	size_t		 zbuf_len;	/* zin points into zbuf */
	bool		 zin_more;	/* inflate may have more output */
	size_t		 zin_bytes, zout_bytes;	/* uncompressed counts */
};

/*
 * getaddrinfo() bounded by deadline (0: none), on a helper thread unless the
 * host is a literal (AI_NUMERICHOST). Returns getaddrinfo()'s code, with
 * *errnop its errno for EAI_SYSTEM, or NET_RESOLVE_TIMEOUT.
 */
struct addrinfo;
#define NET_RESOLVE_TIMEOUT	(1 << 20)
int		net_resolve(const char *host, const char *port,
		    const struct addrinfo *hints, uint64_t deadline,
		    struct addrinfo **resp, int *errnop);
/* The resolver net_resolve() calls: getaddrinfo, replaced only by tests. */
extern int	(*net_getaddrinfo)(const char *, const char *,
		    const struct addrinfo *, struct addrinfo **);

/* Deadline helpers: 0 means none. */
uint64_t	conn_deadline(int timeout_ms);
/*
 * Wait for events on the socket until deadline. 1 when ready, 0 on
 * timeout, -1 with err set.
 */
int		conn_poll(struct conn *, short events, uint64_t deadline,
		    struct error *err);
/* "30 s" or "0.3 s" for a timeout in milliseconds. */
const char	*conn_fmt_timeout(char *out, size_t len, int ms);
/* Mark the connection unusable with this error (copied). */
int		conn_fail(struct conn *, const struct error *err);

/* TLS handshake on c->fd within deadline; fills err with the reason. */
int		tls_start(struct conn *, uint64_t deadline, struct error *err);
/* Receive plaintext: >0, 0 at close_notify, -1 with err set. */
ssize_t		tls_recv(struct conn *, void *buf, size_t len, uint64_t deadline,
		    struct error *err);
/* Send all of buf; 0 or -1 with err set. */
int		tls_send(struct conn *, const void *buf, size_t len,
		    struct error *err);
/* Bytes decrypted and buffered inside GnuTLS. */
size_t		tls_pending(struct conn *);
/* Ciphertext bytes read ahead from the socket that GnuTLS has not taken. */
size_t		tls_raw_pending(const struct conn *);
/*
 * Read without waiting: >0 bytes, 0 when no application data is there yet
 * (handshake messages such as TLS 1.3 session tickets are consumed), -2 at
 * close_notify, -1 with err set.
 */
ssize_t		tls_try_recv(struct conn *, void *buf, size_t len,
		    struct error *err);
/* Send close_notify without waiting, free the session and credentials. */
void		tls_free(struct conn *);
/* Parse "sha256:AB:CD..." (colons optional, any case) into 32 bytes. */
int		tls_parse_pin(const char *s, unsigned char out[32]);

/* After a read of n bytes under this: acknowledge at once (conn.c). */
#define CONN_QUICKACK_MAX	4096
void	conn_quickack(struct conn *, size_t n);

#endif
