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
 */
#ifndef PETREL_NET_H
#define PETREL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct conn;

struct conn_params {
	const char	*host;
	int		 port;
	bool		 tls;		/* TLS handshake right after connect */
	const char	*ca_file;	/* extra trust anchors, may be NULL */
	const char	*fingerprint;	/* "sha256:AB:CD:..." pin, may be NULL */
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
