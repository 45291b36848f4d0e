/*
 * TCP connections: name resolution (resolve.c) and a non-blocking connect to
 * each address in turn, both within the connect timeout; reads and writes
 * with timeouts through poll(), the write queue, and the protocol trace.
 * TLS lives in tls.c.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net-private.h"
#include "xmalloc.h"

uint64_t
conn_deadline(int timeout_ms)
{
	if (timeout_ms <= 0)
		return 0;
	return now_ms() + (uint64_t)timeout_ms;
}

/* Milliseconds left until deadline for poll(): -1 for none, 0 when past. */
static int
conn_remaining(uint64_t deadline)
{
	uint64_t	now;

	if (deadline == 0)
		return -1;
	now = now_ms();
	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

const char *
conn_fmt_timeout(char *out, size_t len, int ms)
{
	snprintf(out, len, "%g s", ms / 1000.0);
	return out;
}

int
conn_fail(struct conn *c, const struct error *err)
{
	if (!c->failed) {
		c->failed = 1;
		c->failure = *err;
	}
	return -1;
}

static void
conn_set_lowat(struct conn *c, int lowat)
{
	if (c->lowat == lowat)
		return;
	/* Only a hint: where it fails, reads wake as they always did. */
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat,
	    sizeof lowat) == 0)
		c->lowat = lowat;
}

void
conn_set_bulk(struct conn *c, bool on)
{
	c->bulk = on;
	if (c->fd != -1)
		conn_set_lowat(c, on ? CONN_BULK_BYTES : 1);
}

/* The abort fd is readable: the owner wants every wait to end now. */
static int
conn_aborted(struct conn *c, struct error *err)
{
	struct pollfd	pfd;

	if (c->abort_fd < 0)
		return 0;
	pfd.fd = c->abort_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	return error_set(err, ERR_TRANSIENT, "connection to %s: stopped",
	    c->hostport);
}

int
conn_poll(struct conn *c, short events, uint64_t deadline, struct error *err)
{
	struct pollfd	pfd[2];
	nfds_t		nfds = c->abort_fd >= 0 ? 2 : 1;
	int		r, rem;

	if (conn_aborted(c, err) == -1)
		return -1;
	pfd[1].fd = c->abort_fd;
	pfd[1].events = POLLIN;

	/*
	 * Bulk reads: poll says readable only once CONN_BULK_BYTES are
	 * queued (SO_RCVLOWAT); after CONN_BULK_WAIT_MS take whatever came.
	 * The server goes on sending meanwhile: this trades a millisecond
	 * of latency for a fraction of the wake-ups.
	 */
	if (c->bulk && events == POLLIN) {
		conn_set_lowat(c, CONN_BULK_BYTES);
		rem = conn_remaining(deadline);
		pfd[0].fd = c->fd;
		pfd[0].events = events;
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, nfds, rem >= 0 && rem < CONN_BULK_WAIT_MS ? rem :
		    CONN_BULK_WAIT_MS);
		if (r > 0 && pfd[1].revents != 0)
			return conn_aborted(c, err);
		if (r > 0)
			return 1;
		if (r == -1 && errno != EINTR)
			return error_set(err, ERR_LOCAL, "poll: %s",
			    strerror(errno));
		conn_set_lowat(c, 1);
	} else if (c->lowat > 1)
		conn_set_lowat(c, 1);
	for (;;) {
		pfd[0].fd = c->fd;
		pfd[0].events = events;
		pfd[0].revents = pfd[1].revents = 0;
		r = poll(pfd, nfds, conn_remaining(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return error_set(err, ERR_LOCAL, "poll: %s",
			    strerror(errno));
		if (r > 0 && pfd[1].revents != 0 && pfd[0].revents == 0)
			return conn_aborted(c, err);
		return r == 0 ? 0 : 1;
	}
}

/* Trace data line by line (a secret chunk is one redacted line). */
static void
conn_trace(struct conn *c, char dir, const char *p, size_t len, int secret)
{
	const char	*nl;
	size_t		 n;

	if (!log_tracing() || len == 0)
		return;
	if (secret) {
		log_trace(c->trace_name, dir, p, len, 1);
		return;
	}
	while (len > 0) {
		nl = memchr(p, '\n', len);
		n = nl != NULL ? (size_t)(nl - p) + 1 : len;
		log_trace(c->trace_name, dir, p, n, 0);
		p += n;
		len -= n;
	}
}

/* Remember whether host is an IP literal (no SNI, checked against IP SANs). */
static void
conn_set_host(struct conn *c, const char *host, int port)
{
	c->host = xstrdup(host);
	c->port = port;
	if (inet_pton(AF_INET6, host, c->ip) == 1) {
		c->ip_family = AF_INET6;
		xasprintf(&c->hostport, "[%s]:%d", host, port);
	} else {
		if (inet_pton(AF_INET, host, c->ip) == 1)
			c->ip_family = AF_INET;
		xasprintf(&c->hostport, "%s:%d", host, port);
	}
}

/* Connect one address within deadline: 0 ok, else an errno (ETIMEDOUT for ours). */
static int
conn_try(struct conn *c, const struct addrinfo *ai, uint64_t deadline)
{
	struct error	 e;
	socklen_t	 sl;
	int		 fd, soerr, r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS && errno != EINTR) {
			soerr = errno;
			close(fd);
			return soerr;
		}
		c->fd = fd;
		r = conn_poll(c, POLLOUT, deadline, &e);
		c->fd = -1;
		if (r <= 0) {
			close(fd);
			return r == 0 ? ETIMEDOUT : EIO;
		}
		soerr = 0;
		sl = sizeof soerr;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
			soerr = errno;
		if (soerr != 0) {
			close(fd);
			return soerr;
		}
	}
	c->fd = fd;
	return 0;
}

/*
 * Resolve and connect. The connect timeout bounds the whole walk: each
 * address gets an equal share of what is left, so one address that drops
 * packets cannot use up the time of the next.
 */
static int
conn_connect(struct conn *c, struct error *err)
{
	struct addrinfo	 hints, *res, *ai;
	char		 port[16], addr[INET6_ADDRSTRLEN], t[32];
	uint64_t	 start, total, elapsed, slice;
	int		 r, n, i, e, last = 0, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (c->ip_family != 0 ? AI_NUMERICHOST : 0);
	snprintf(port, sizeof port, "%d", c->port);
	/* The connect timeout covers the lookup too. */
	start = now_ms();
	total = (uint64_t)c->connect_timeout_ms;
	r = net_resolve(c->host, port, &hints, start + total, &res, &e);
	if (r == NET_RESOLVE_TIMEOUT)
		return error_set(err, ERR_TRANSIENT, "cannot resolve %s: timed "
		    "out after %s", c->host, conn_fmt_timeout(t, sizeof t,
		    c->connect_timeout_ms));
	if (r == EAI_NONAME || r == EAI_NODATA || r == EAI_ADDRFAMILY)
		return error_set(err, ERR_TRANSIENT, "unknown host %s", c->host);
	if (r == EAI_SYSTEM)
		return error_set(err, ERR_TRANSIENT, "cannot resolve %s: %s",
		    c->host, strerror(e));
	if (r != 0)
		return error_set(err, ERR_TRANSIENT, "cannot resolve %s: %s",
		    c->host, gai_strerror(r));

	for (n = 0, ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	for (i = 0, ai = res; ai != NULL; ai = ai->ai_next, i++) {
		elapsed = now_ms() - start;
		if (elapsed >= total) {
			last = ETIMEDOUT;
			break;
		}
		slice = (total - elapsed) / (uint64_t)(n - i);
		if (slice == 0)
			slice = 1;
		last = conn_try(c, ai, now_ms() + slice);
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr,
		    NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(addr, sizeof addr, "?");
		if (last == 0) {
			log_debug("connected to %s (%s)", c->hostport, addr);
			break;
		}
		log_debug("connect to %s (%s): %s", c->hostport, addr,
		    last == ETIMEDOUT ? "timed out" : strerror(last));
	}
	freeaddrinfo(res);
	if (last == ETIMEDOUT)
		return error_set(err, ERR_TRANSIENT, "cannot connect to %s: "
		    "timed out after %s", c->hostport,
		    conn_fmt_timeout(t, sizeof t, c->connect_timeout_ms));
	if (last != 0)
		return error_set(err, ERR_TRANSIENT, "cannot connect to %s: %s",
		    c->hostport, strerror(last));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/*
	 * A session idles for hours: a peer that vanished (a suspend, a
	 * NAT that forgot us) is found by keepalive probes after 60 s of
	 * silence, 4 of them 15 s apart, not after the kernel's 2 hours.
	 */
	setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &(int){ 60 }, sizeof(int));
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &(int){ 15 },
	    sizeof(int));
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &(int){ 4 }, sizeof(int));
	return 0;
}

struct conn *
conn_open(const struct conn_params *p, struct error *err)
{
	struct conn	*c;

	if (p->host == NULL || *p->host == '\0' || p->port <= 0 ||
	    p->port > 65535) {
		error_set(err, ERR_CONFIG, "bad host or port to connect to");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->fd = -1;
	conn_set_host(c, p->host, p->port);
	c->trace_name = xstrdup(p->trace_name != NULL ? p->trace_name : "net");
	c->ca_file = p->ca_file != NULL ? xstrdup(p->ca_file) : NULL;
	c->cert_file = p->cert_file != NULL ? xstrdup(p->cert_file) : NULL;
	c->key_file = p->key_file != NULL ? xstrdup(p->key_file) :
	    c->cert_file != NULL ? xstrdup(c->cert_file) : NULL;
	c->account = p->account != NULL ? xstrdup(p->account) : NULL;
	c->known_hosts = p->known_hosts != NULL ? xstrdup(p->known_hosts) :
	    NULL;
	c->trust_once = p->trust_once != NULL ? xstrdup(p->trust_once) : NULL;
	c->peer = p->peer;
	if (c->peer != NULL)
		memset(c->peer, 0, sizeof *c->peer);
	c->connect_timeout_ms = p->connect_timeout_ms > 0 ?
	    p->connect_timeout_ms : CONN_CONNECT_DEFAULT_MS;
	c->io_timeout_ms = p->io_timeout_ms;
	c->abort_fd = p->abort_fd > 0 ? p->abort_fd : -1;
	buf_init(&c->in, CONN_IN_MAX);
	buf_init(&c->out, CONN_OUT_MAX);
	if (p->fingerprint != NULL) {
		if (tls_parse_pin(p->fingerprint, c->pin) == -1) {
			error_set(err, ERR_CONFIG, "bad tls_fingerprint \"%.80s\""
			    " (expected sha256:AB:CD:... with 32 bytes)",
			    p->fingerprint);
			conn_close(&c);
			return NULL;
		}
		c->has_pin = 1;
	}

	if (conn_connect(c, err) == -1 || (p->tls &&
	    tls_start(c, conn_deadline(c->connect_timeout_ms), err) == -1)) {
		conn_close(&c);
		return NULL;
	}
	return c;
}

/*
 * Upgrade after the protocol's STARTTLS/STLS exchange. Bytes that arrived
 * before the handshake were sent in plain text by someone; reading them
 * later as if they had come over TLS is the STARTTLS injection attack, so
 * they make the upgrade fail.
 */
int
conn_starttls(struct conn *c, struct error *err)
{
	struct error	e;
	int		avail = 0;

	if (c->failed) {
		*err = c->failure;
		return -1;
	}
	if (c->session != NULL)
		return error_set(err, ERR_PROTO, "TLS already started with %s",
		    c->hostport);
	if (conn_flush(c, err) == -1)
		return -1;
	if (c->in.len > 0 || c->eof ||
	    (ioctl(c->fd, FIONREAD, &avail) == 0 && avail > 0)) {
		error_set(&e, ERR_TLS, "TLS: %s sent data after its STARTTLS "
		    "answer, before the TLS handshake (an injection attempt "
		    "or a broken server); giving up", c->hostport);
		if (err != NULL)
			*err = e;
		return conn_fail(c, &e);
	}
	if (tls_start(c, conn_deadline(c->connect_timeout_ms), err) == -1) {
		conn_fail(c, err);
		return -1;
	}
	return 0;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->session != NULL;
}

const char *
conn_tls_info(const struct conn *c)
{
	return c->tls_info;
}

/*
 * Acknowledge what was read at once rather than up to 40 ms later: a
 * server that writes one reply in two segments without TCP_NODELAY
 * (Postfix's smtpd, OpenSSL's session tickets before the first reply)
 * holds the second until it sees our ACK, and a client that has nothing
 * to send delays it (bench/send-bench.py: 55 ms of each message). Linux
 * turns quick ACKs off again by itself, so it is asked for after each
 * short read; a bulk download, whose reads are large, is left alone.
 */
void
conn_quickack(struct conn *c, size_t n)
{
#ifdef TCP_QUICKACK
	int	one = 1;

	if (n < CONN_QUICKACK_MAX)
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
		    sizeof one);
#else
	(void)c;
	(void)n;
#endif
}

/* recv on the plain socket, waiting until deadline. */
static ssize_t
conn_recv_plain(struct conn *c, void *buf, size_t len, uint64_t deadline,
    struct error *err)
{
	ssize_t	 n;
	char	 t[32];
	int	 r;

	for (;;) {
		n = recv(c->fd, buf, len, 0);
		if (n > 0)
			conn_quickack(c, (size_t)n);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return error_set(err, ERR_TRANSIENT, "connection to %s "
			    "lost: %s", c->hostport, strerror(errno));
		if ((r = conn_poll(c, POLLIN, deadline, err)) == -1)
			return -1;
		if (r == 0)
			return error_set(err, ERR_TRANSIENT, "timed out after "
			    "%s waiting for %s", conn_fmt_timeout(t, sizeof t,
			    c->io_timeout_ms), c->hostport);
	}
}

/* Wire bytes (decrypted, maybe compressed): what conn_wait read ahead first. */
static ssize_t
conn_read_wire(struct conn *c, void *buf, size_t len, struct error *err)
{
	ssize_t	n;

	if (c->in.len > 0) {
		n = (ssize_t)(len < c->in.len ? len : c->in.len);
		memcpy(buf, c->in.data, (size_t)n);
		buf_consume(&c->in, (size_t)n);
		return n;
	}
	if (c->eof)
		return 0;
	if (c->session != NULL)
		n = tls_recv(c, buf, len, conn_deadline(c->io_timeout_ms), err);
	else
		n = conn_recv_plain(c, buf, len,
		    conn_deadline(c->io_timeout_ms), err);
	if (n > 0)
		c->nin += (size_t)n;
	return n;
}

/* Inflate into buf what is there, reading wire bytes when none is. */
static ssize_t
conn_inflate_read(struct conn *c, void *buf, size_t len, struct error *err)
{
	struct error	 e;
	ssize_t		 n;
	size_t		 got;
	int		 zr;

	for (;;) {
		if (c->zin.avail_in > 0 || c->zin_more) {
			c->zin.next_out = buf;
			c->zin.avail_out = (uInt)(len > UINT32_MAX ? UINT32_MAX :
			    len);
			zr = inflate(&c->zin, Z_SYNC_FLUSH);
			if (zr != Z_OK && zr != Z_BUF_ERROR) {
				error_set(&e, ERR_PROTO, "%s: bad compressed "
				    "data: %s", c->hostport, c->zin.msg != NULL ?
				    c->zin.msg : "inflate failed");
				if (err != NULL)
					*err = e;
				return conn_fail(c, &e);
			}
			got = len - c->zin.avail_out;
			/* A full buffer may leave output behind. */
			c->zin_more = c->zin.avail_out == 0;
			if (got > 0) {
				c->zin_bytes += got;
				conn_trace(c, '<', buf, got, 0);
				return (ssize_t)got;
			}
		}
		n = conn_read_wire(c, c->zbuf, CONN_IN_MAX, err);
		if (n <= 0)
			return n;
		c->zin.next_in = c->zbuf;
		c->zin.avail_in = (uInt)n;
	}
}

ssize_t
conn_read(struct conn *c, void *buf, size_t len, struct error *err)
{
	ssize_t	n;

	if (c->failed) {
		if (err != NULL)
			*err = c->failure;
		return -1;
	}
	if (conn_flush(c, err) == -1)
		return -1;
	if (len == 0)
		return 0;
	if (c->compress)
		return conn_inflate_read(c, buf, len, err);
	n = conn_read_wire(c, buf, len, err);
	if (n > 0)
		conn_trace(c, '<', buf, (size_t)n, 0);
	return n;
}

int
conn_compress(struct conn *c, struct error *err)
{
	if (c->compress)
		return 0;
	if (c->in.len > 0 || (c->session != NULL && tls_pending(c) > 0))
		return error_set(err, ERR_PROTO, "%s sent data before "
		    "compression began", c->hostport);
	memset(&c->zin, 0, sizeof c->zin);
	memset(&c->zout, 0, sizeof c->zout);
	/* Raw deflate (-15), as RFC 4978 says. */
	if (inflateInit2(&c->zin, -15) != Z_OK)
		return error_set(err, ERR_LOCAL, "inflateInit2 failed");
	if (deflateInit2(&c->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&c->zin);
		return error_set(err, ERR_LOCAL, "deflateInit2 failed");
	}
	c->zbuf = xmalloc(CONN_IN_MAX);
	c->compress = true;
	return 0;
}

bool
conn_compressed(const struct conn *c)
{
	return c->compress;
}

void
conn_counters_plain(const struct conn *c, size_t *in, size_t *out)
{
	if (in != NULL)
		*in = c->compress ? c->zin_bytes : c->nin;
	if (out != NULL)
		*out = c->compress ? c->zout_bytes : c->nout;
}

int
conn_write(struct conn *c, const void *buf, size_t len, int secret,
    struct error *err)
{
	const char	*p = buf;
	size_t		 n;

	if (c->failed) {
		if (err != NULL)
			*err = c->failure;
		return -1;
	}
	conn_trace(c, '>', p, len, secret);
	while (len > 0) {
		if (c->out.len == CONN_OUT_MAX && conn_flush(c, err) == -1)
			return -1;
		n = CONN_OUT_MAX - c->out.len;
		if (n > len)
			n = len;
		buf_add(&c->out, p, n);
		p += n;
		len -= n;
	}
	return 0;
}

int
conn_printf(struct conn *c, struct error *err, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n, rv;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	rv = conn_write(c, s, (size_t)n, 0, err);
	free(s);
	return rv;
}

/* send() everything on the plain socket; each wait is bounded by the io timeout. */
static int
conn_send_plain(struct conn *c, const char *p, size_t len, struct error *err)
{
	ssize_t	n;
	char	t[32];
	int	r;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
			return error_set(err, ERR_TRANSIENT, "connection to %s "
			    "lost: %s", c->hostport, strerror(errno));
		r = conn_poll(c, POLLOUT, conn_deadline(c->io_timeout_ms), err);
		if (r == -1)
			return -1;
		if (r == 0)
			return error_set(err, ERR_TRANSIENT, "timed out after "
			    "%s sending to %s", conn_fmt_timeout(t, sizeof t,
			    c->io_timeout_ms), c->hostport);
	}
	return 0;
}

static int
conn_send_wire(struct conn *c, const void *p, size_t len, struct error *err)
{
	int	rv;

	if (c->session != NULL)
		rv = tls_send(c, p, len, err);
	else
		rv = conn_send_plain(c, p, len, err);
	if (rv == 0)
		c->nout += len;
	return rv;
}

/* Deflate the queue (ending in a sync flush, so the server can act). */
static int
conn_send_deflated(struct conn *c, struct error *err)
{
	unsigned char	out[16384];
	size_t		n;
	int		zr;

	c->zout.next_in = (unsigned char *)c->out.data;
	c->zout.avail_in = (uInt)c->out.len;
	c->zout_bytes += c->out.len;
	do {
		c->zout.next_out = out;
		c->zout.avail_out = sizeof out;
		zr = deflate(&c->zout, Z_SYNC_FLUSH);
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return error_set(err, ERR_LOCAL, "deflate failed");
		n = sizeof out - c->zout.avail_out;
		if (n > 0 && conn_send_wire(c, out, n, err) == -1)
			return -1;
	} while (c->zout.avail_out == 0);
	explicit_bzero(out, sizeof out);
	return 0;
}

int
conn_flush(struct conn *c, struct error *err)
{
	struct error	e;
	int		rv;

	if (c->failed) {
		if (err != NULL)
			*err = c->failure;
		return -1;
	}
	if (c->out.len == 0)
		return 0;
	error_clear(&e);
	if (c->compress)
		rv = conn_send_deflated(c, &e);
	else
		rv = conn_send_wire(c, c->out.data, c->out.len, &e);
	if (rv == -1) {
		/* Part of a command may have gone out: the stream is lost. */
		if (err != NULL)
			*err = e;
		return conn_fail(c, &e);
	}
	/* The queue may have held a password. */
	explicit_bzero(c->out.data, c->out.len);
	buf_reset(&c->out);
	return 0;
}

int
conn_wait(struct conn *c, int wake_fd, int timeout_ms, struct error *err)
{
	struct pollfd	 pfd[3];
	uint64_t	 deadline;
	char		*p;
	ssize_t		 n;
	int		 r, nfds;

	if (c->failed) {
		if (err != NULL)
			*err = c->failure;
		return -1;
	}
	if (conn_flush(c, err) == -1)
		return -1;
	if (c->in.len > 0 || c->eof ||
	    (c->session != NULL && tls_pending(c) > 0) ||
	    (c->compress && (c->zin.avail_in > 0 || c->zin_more)))
		return 1;
	/* Any byte must wake an idle wait (IDLE), whatever bulk mode set. */
	if (c->lowat > 1)
		conn_set_lowat(c, 1);
	deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		pfd[0].fd = c->fd;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		pfd[1].fd = wake_fd;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		nfds = wake_fd >= 0 ? 2 : 1;
		if (c->abort_fd >= 0) {
			/* Slot 2 even without a wake fd: a -1 fd is skipped. */
			pfd[2].fd = c->abort_fd;
			pfd[2].events = POLLIN;
			pfd[2].revents = 0;
			nfds = 3;
		}
		/* Ciphertext already read ahead counts as a readable socket. */
		if (c->session != NULL && tls_raw_pending(c) > 0) {
			r = 1;
			pfd[0].revents = POLLIN;
		} else
			r = poll(pfd, (nfds_t)nfds, conn_remaining(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return error_set(err, ERR_LOCAL, "poll: %s",
			    strerror(errno));
		if (r == 0)
			return 0;
		if (nfds == 3 && pfd[2].revents != 0)
			return conn_aborted(c, err);
		if (pfd[0].revents != 0) {
			if (c->session == NULL)
				return 1;
			/*
			 * A readable TLS socket may carry only handshake
			 * messages (TLS 1.3 session tickets): read ahead so
			 * that 1 means there is data to read.
			 */
			p = buf_reserve(&c->in, CONN_IN_MAX);
			n = tls_try_recv(c, p, CONN_IN_MAX, err);
			if (n > 0) {
				buf_commit(&c->in, (size_t)n);
				c->nin += (size_t)n;
				/* Compressed, it is traced when inflated. */
				if (!c->compress)
					conn_trace(c, '<', p, (size_t)n, 0);
				return 1;
			}
			if (n == -2) {
				c->eof = 1;
				return 1;
			}
			if (n == -1)
				return -1;
			if (tls_pending(c) > 0)
				return 1;
		}
		if (nfds >= 2 && wake_fd >= 0 && pfd[1].revents != 0)
			return 2;
	}
}

void
conn_set_timeout(struct conn *c, int io_timeout_ms)
{
	c->io_timeout_ms = io_timeout_ms;
}

void
conn_close(struct conn **cp)
{
	struct conn	*c = *cp;

	if (c == NULL)
		return;
	if (c->fd != -1 && !c->failed && c->out.len > 0) {
		/* Best effort: a LOGOUT still queued goes out. */
		int saved = c->io_timeout_ms;

		if (saved <= 0 || saved > CONN_CLOSE_FLUSH_MS)
			c->io_timeout_ms = CONN_CLOSE_FLUSH_MS;
		conn_flush(c, NULL);
		c->io_timeout_ms = saved;
	}
	if (c->compress) {
		inflateEnd(&c->zin);
		deflateEnd(&c->zout);
		free(c->zbuf);
	}
	if (c->session != NULL || c->cred != NULL)
		tls_free(c);
	if (c->fd != -1)
		close(c->fd);
	if (c->out.data != NULL)
		explicit_bzero(c->out.data, c->out.size);
	buf_free(&c->out);
	buf_free(&c->in);
	free(c->host);
	free(c->hostport);
	free(c->trace_name);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->account);
	free(c->known_hosts);
	free(c->trust_once);
	free(c->tls_info);
	free(c);
	*cp = NULL;
}

void
conn_counters(const struct conn *c, size_t *in, size_t *out)
{
	if (in != NULL)
		*in = c->nin;
	if (out != NULL)
		*out = c->nout;
}
