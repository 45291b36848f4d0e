/*
 * Network connections: TCP with timeouts (getaddrinfo, every address tried in
 * turn, IPv6 and IPv4) and GnuTLS on top (implicit TLS or STARTTLS).
 *
 * The calls block, but never longer than the timeouts given; the engine runs
 * them on its own thread so the UI never waits on them. Writes are buffered
 * and sent by conn_flush() or before the next read, so a caller can queue a
 * batch of pipelined commands and send them in one go.
 *
 * Certificates are always verified: the system trust store, plus tls_ca_file
 * when given, and the host name (or IP address) against the certificate.
 * When tls_fingerprint is set, a certificate whose SHA-256 fingerprint
 * matches it is accepted even when the chain does not verify (pinning a
 * self-signed server), and one that does not match is refused even when it
 * does verify. A refused certificate gives an ERR_TLS error that shows its
 * fingerprint and the config line that would trust it.
 *
 * Trust on first use (knownhosts.c): a certificate the trust store does not
 * vouch for may be accepted by the user, once (conn_params.trust_once, for
 * one session) or always, which pins the SHA-256 of its public key for
 * that host:port in the known-hosts file. A pinned key is accepted however
 * its chain looks; another key for a pinned host:port is refused loudly and
 * never offered for acceptance again.
 */
#ifndef PETREL_NET_H
#define PETREL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct conn;

/* "pin-sha256:" and the base64 of 32 bytes, NUL-terminated. */
#define TLS_PIN_LEN	(11 + 44 + 1)

/* What a refused certificate showed, for the user to decide on. */
struct tls_peer {
	bool	 untrusted;	/* the store did not vouch for it: may be accepted */
	bool	 changed;	/* a pinned host:port showed another key */
	char	 hostport[300];
	char	 subject[256];	/* printable ASCII only (the server wrote it) */
	char	 issuer[256];
	char	 not_before[32];	/* "2026-12-07 10:00 UTC" */
	char	 not_after[32];
	char	 fingerprint[8 + 3 * 32];	/* sha256:AB:... of the certificate */
	char	 pin[TLS_PIN_LEN];		/* of its public key */
	char	 reason[200];			/* why the store refused it */
};

struct conn_params {
	const char	*host;
	int		 port;
	bool		 tls;		/* TLS handshake right after connect */
	const char	*ca_file;	/* extra trust anchors, may be NULL */
	const char	*cert_file;	/* our certificate (PEM), may be NULL */
	const char	*key_file;	/* its key (PEM; NULL: in cert_file) */
	const char	*fingerprint;	/* "sha256:AB:CD:..." pin, may be NULL */
	const char	*known_hosts;	/* TOFU pins file, NULL = none */
	const char	*trust_once;	/* a pin-sha256 accepted this time, or NULL */
	struct tls_peer	*peer;		/* out: filled when the certificate is
					   refused (untrusted or changed) */
	const char	*account;	/* account name, for the error hint */
	int		 connect_timeout_ms;
	int		 io_timeout_ms;	/* per read or write */
	const char	*trace_name;	/* protocol trace label, e.g. "imap" */
	/*
	 * When > 0: a descriptor polled beside the socket in every wait; once
	 * it is readable every wait fails at once (ERR_TRANSIENT "stopped").
	 * The engine session's stop fd: stopping never waits for a timeout.
	 */
	int		 abort_fd;
};

/* Connect (and handshake when params->tls). NULL with err set on failure. */
struct conn	*conn_open(const struct conn_params *, struct error *err);
/* Start TLS on a plain connection (after the protocol's STARTTLS/STLS). */
int		 conn_starttls(struct conn *, struct error *err);
bool		 conn_is_tls(const struct conn *);
/*
 * The TLS channel binding for SASL (*typep "tls-exporter" over TLS 1.3,
 * else "tls-unique"), at most *lenp bytes into out: 0, or -1 when there
 * is none (plain text).
 */
int		 conn_channel_binding(struct conn *, const char **typep,
		     unsigned char *out, size_t *lenp);
/* "TLS1.3-AES-256-GCM" style description, or NULL when plain. */
const char	*conn_tls_info(const struct conn *);

/*
 * Read what is available, at most len bytes, waiting at most io_timeout_ms
 * for the first byte. Returns the count, 0 at end of stream, or -1 with err
 * set (ERR_TRANSIENT for timeouts and resets, ERR_TLS for TLS failures).
 * Flushes pending writes first.
 */
ssize_t		 conn_read(struct conn *, void *buf, size_t len, struct error *err);
/*
 * Queue bytes for sending. Returns -1 with err set only when an earlier
 * flush failed. secret=1 keeps the bytes out of the protocol trace.
 */
int		 conn_write(struct conn *, const void *buf, size_t len, int secret,
		     struct error *err);
int		 conn_printf(struct conn *, struct error *err, const char *fmt, ...)
		     __attribute__((format(printf, 3, 4)));
/* Send all queued bytes; -1 with err set. */
int		 conn_flush(struct conn *, struct error *err);
/*
 * Wait until the connection has input (1), wake_fd is readable (2), or
 * timeout_ms passes (0). -1 on error. For IDLE, where the engine also waits
 * for commands from the UI.
 */
int		 conn_wait(struct conn *, int wake_fd, int timeout_ms, struct error *err);
/*
 * From now on both directions are compressed with DEFLATE (RFC 4978,
 * raw deflate; each flush ends with a sync flush). Call right after the
 * server's OK to COMPRESS, with nothing read ahead. The counters of
 * conn_counters() stay the bytes on the wire; conn_counters_plain() gives
 * the uncompressed ones.
 */
int		 conn_compress(struct conn *, struct error *err);
bool		 conn_compressed(const struct conn *);
void		 conn_counters_plain(const struct conn *, size_t *in,
		     size_t *out);
/* Change the per-operation timeout. */
void		 conn_set_timeout(struct conn *, int io_timeout_ms);
/*
 * Bulk mode, for a long download: a read waits until CONN_BULK_BYTES have
 * arrived or CONN_BULK_WAIT_MS have passed since the first byte could have
 * been read, instead of waking for every few kilobytes the server sends.
 * Costs at most that delay per wait; meant for pipelined transfers only.
 */
#define CONN_BULK_BYTES		(64 * 1024)
#define CONN_BULK_WAIT_MS	1
void		 conn_set_bulk(struct conn *, bool on);
/* Close (sending a TLS close_notify when possible) and free; *cp becomes NULL. */
void		 conn_close(struct conn **cp);

/* Bytes read and written since open, for statistics. */
void		 conn_counters(const struct conn *, size_t *in, size_t *out);

/* An SRV record (RFC 2782). */
struct net_srv {
	int	 priority, weight, port;
	char	 target[256];
};
/*
 * The SRV records of name, by priority (PETREL_SETUP_DNS: a test file
 * instead of DNS): how many (0 for none or no DNS), or -1 with err set.
 */
int	 net_srv(const char *name, struct net_srv *out, int max,
	    struct error *err);

/* $XDG_DATA_HOME/petrel/known_hosts (~/.local/share/...); caller frees. */
char	*knownhosts_path(void);
/*
 * The pin kept for hostport: 1 (pin and *linep set), 0 none, -1 error. An
 * absent file has no pins.
 */
int	 knownhosts_find(const char *path, const char *hostport,
	    char pin[TLS_PIN_LEN], int *linep, struct error *err);
/* Pin hostport's key for good (replacing an older pin); 0600, atomic. */
int	 knownhosts_add(const char *path, const char *hostport, const char *pin,
	    const char *comment, struct error *err);

/*
 * The machine's addresses and clock (netwatch.c): one thread for the
 * process tells every registered callback of an address added or removed
 * (rtnetlink) and of a jump of the wall clock (a suspend, the clock set).
 */
enum netwatch_event {
	NETWATCH_ADDRESS,	/* an address was added or removed */
	NETWATCH_CLOCK,		/* the wall clock jumped (suspend, set) */
};
/* Called on netwatch's thread, ms: the jump; must not block. */
typedef void (*netwatch_cb)(void *arg, enum netwatch_event, int64_t ms);
void	netwatch_register(netwatch_cb, void *arg);
void	netwatch_unregister(netwatch_cb, void *arg);


#endif
