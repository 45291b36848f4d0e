/*
 * Unit tests of the network layer against servers on loopback ephemeral
 * ports: TCP errors and timeouts, TLS verification (CA, name, expiry,
 * self-signed, pins), STARTTLS and its injection defence, EOF handling,
 * conn_wait, write buffering, SIGPIPE and trace redaction.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "net-private.h"
#include "test.h"
#include "tls-server.h"
#include "util.h"
#include "xmalloc.h"

static char		 tmpdir[] = "/tmp/petrel-net-test.XXXXXX";
static struct tcert	 ca, good, wrong, expired, selfsigned;

static struct conn_params
params(const char *host, int port, bool tls)
{
	struct conn_params	p;

	memset(&p, 0, sizeof p);
	p.host = host;
	p.port = port;
	p.tls = tls;
	p.ca_file = tls ? ca.path : NULL;
	p.account = "alice";
	p.connect_timeout_ms = 5000;
	p.io_timeout_ms = 5000;
	p.trace_name = "test";
	return p;
}

/* Read exactly one line, a byte at a time (leaves what follows unread). */
static int
read_line(struct conn *c, char *out, size_t size, struct error *err)
{
	size_t	n = 0;
	ssize_t	r;

	while (n + 1 < size) {
		if ((r = conn_read(c, out + n, 1, err)) <= 0) {
			out[n] = '\0';
			return (int)r;
		}
		if (out[n++] == '\n')
			break;
	}
	out[n] = '\0';
	return (int)n;
}

/* Read until want bytes came or the stream ended. */
static size_t
read_n(struct conn *c, char *out, size_t want, struct error *err)
{
	size_t	n = 0;
	ssize_t	r;

	while (n < want && (r = conn_read(c, out + n, want - n, err)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	return n;
}

static void
expect_refused_cert(struct conn *c, struct error *err, const char *want)
{
	T_ASSERT(c == NULL);
	T_EQ_INT(err->cls, ERR_TLS);
	T_EQ_STR(err->msg, want);
}

static void
test_tls_ok(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 line[256];
	size_t			 in, out;

	/* By IP address: checked against the IP SAN, and no SNI. */
	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("127.0.0.1", s.port, true);
	error_clear(&err);
	c = conn_open(&p, &err);
	T_EQ_STR(err.msg, "");
	if (c != NULL) {
		T_ASSERT(conn_is_tls(c));
		T_ASSERT(conn_tls_info(c) != NULL &&
		    (strncmp(conn_tls_info(c), "TLS1.3-", 7) == 0 ||
		    strncmp(conn_tls_info(c), "TLS1.2-", 7) == 0));
		T_EQ_INT(conn_printf(c, &err, "hello %d\r\n", 42), 0);
		T_EQ_INT(read_line(c, line, sizeof line, &err), 10);
		T_EQ_STR(line, "hello 42\r\n");
		conn_counters(c, &in, &out);
		T_EQ_INT(in, 10);
		T_EQ_INT(out, 10);
		conn_close(&c);
		T_ASSERT(c == NULL);
	}
	srv_stop(&s);
	T_EQ_INT(s.handshake_ok, 1);
	T_EQ_STR(s.sni, "");

	/* By name: SNI carries it. */
	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("localhost", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	conn_close(&c);
	srv_stop(&s);
	T_EQ_STR(s.sni, "localhost");

	/* An IPv6 literal against the ::1 SAN. */
	srv_start(&s, SRV_TLS_ECHO, &good, 1);
	p = params("::1", s.port, true);
	c = conn_open(&p, &err);
	if (c == NULL)
		test_fail(__FILE__, __LINE__, "::1: %s", err.msg);
	else {
		T_EQ_INT(conn_write(c, "v6\n", 3, 0, &err), 0);
		T_EQ_INT(read_line(c, line, sizeof line, &err), 3);
		T_EQ_STR(line, "v6\n");
	}
	conn_close(&c);
	srv_stop(&s);
	T_EQ_STR(s.sni, "");
}

static void
test_tls_self_signed(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 want[1024];

	srv_start(&s, SRV_TLS_ECHO, &selfsigned, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	snprintf(want, sizeof want, "TLS: certificate of 127.0.0.1 not trusted "
	    "(signer not found) - SHA-256 fingerprint %s; to trust this "
	    "certificate add \"tls_fingerprint = %s\" to [account alice]",
	    selfsigned.fp, selfsigned.fp);
	expect_refused_cert(c, &err, want);
	srv_stop(&s);
	T_EQ_INT(s.handshake_ok, 0);

	/* Without the CA, the CA-signed one is refused the same way. */
	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("127.0.0.1", s.port, true);
	p.ca_file = NULL;
	c = conn_open(&p, &err);
	snprintf(want, sizeof want, "TLS: certificate of 127.0.0.1 not trusted "
	    "(signer not found) - SHA-256 fingerprint %s; to trust this "
	    "certificate add \"tls_fingerprint = %s\" to [account alice]",
	    good.fp, good.fp);
	expect_refused_cert(c, &err, want);
	srv_stop(&s);
}

static void
test_tls_wrong_name(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 want[1024];

	srv_start(&s, SRV_TLS_ECHO, &wrong, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	snprintf(want, sizeof want, "TLS: certificate of 127.0.0.1 not trusted "
	    "(issued for wrong.example, 192.0.2.1) - SHA-256 fingerprint %s; "
	    "to trust this certificate add \"tls_fingerprint = %s\" to "
	    "[account alice]", wrong.fp, wrong.fp);
	expect_refused_cert(c, &err, want);
	srv_stop(&s);

	/* A name is not matched against the IP SANs or the other way round. */
	srv_start(&s, SRV_TLS_ECHO, &wrong, 0);
	p = params("localhost", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_ASSERT(strstr(err.msg, "certificate of localhost not trusted "
	    "(issued for wrong.example, 192.0.2.1)") != NULL);
	srv_stop(&s);
}

static void
test_tls_expired(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 want[256], day[32];
	time_t			 t = gnutls_x509_crt_get_expiration_time(expired.crt);
	struct tm		 tm;

	gmtime_r(&t, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	srv_start(&s, SRV_TLS_ECHO, &expired, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TLS);
	snprintf(want, sizeof want, "certificate of 127.0.0.1 not trusted "
	    "(expired on %s) - SHA-256 fingerprint %s;", day, expired.fp);
	T_ASSERT(strstr(err.msg, want) != NULL);
	srv_stop(&s);
}

static void
test_tls_pin(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 pin[128], line[64], want[1024], *o;
	const char		*i;

	/* A pinned self-signed certificate is accepted (any case, no colons). */
	for (i = selfsigned.fp, o = pin; *i != '\0'; i++) {
		if (*i != ':' || i - selfsigned.fp < 7)
			*o++ = (char)(*i >= 'A' && *i <= 'F' ? *i + 32 : *i);
	}
	*o = '\0';
	srv_start(&s, SRV_TLS_ECHO, &selfsigned, 0);
	p = params("127.0.0.1", s.port, true);
	p.ca_file = NULL;
	p.fingerprint = pin;
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(conn_write(c, "pinned\r\n", 8, 0, &err), 0);
		T_EQ_INT(read_line(c, line, sizeof line, &err), 8);
		T_EQ_STR(line, "pinned\r\n");
	}
	conn_close(&c);
	srv_stop(&s);

	/* A pin also wins over a name mismatch. */
	srv_start(&s, SRV_TLS_ECHO, &wrong, 0);
	p = params("127.0.0.1", s.port, true);
	p.fingerprint = wrong.fp;
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	conn_close(&c);
	srv_stop(&s);

	/* A wrong pin is refused even though the chain verifies. */
	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("127.0.0.1", s.port, true);
	p.fingerprint = selfsigned.fp;
	c = conn_open(&p, &err);
	snprintf(want, sizeof want, "TLS: certificate of 127.0.0.1 does not "
	    "match tls_fingerprint - its SHA-256 fingerprint is %s; if the "
	    "server's certificate was changed on purpose, set "
	    "\"tls_fingerprint = %s\" in [account alice]", good.fp, good.fp);
	expect_refused_cert(c, &err, want);
	srv_stop(&s);
	T_EQ_INT(s.handshake_ok, 0);

	/* A malformed pin never gets to connect. */
	p.fingerprint = "sha256:AB:CD";
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(strstr(err.msg, "bad tls_fingerprint") != NULL);
}

static void
test_bad_ca_file(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 path[600];
	FILE			*f;

	snprintf(path, sizeof path, "%s/empty.pem", tmpdir);
	f = fopen(path, "w");
	fputs("not a certificate\n", f);
	fclose(f);
	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("127.0.0.1", s.port, true);
	p.ca_file = path;
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(strstr(err.msg, "tls_ca_file ") != NULL);
	T_ASSERT(strstr(err.msg, "empty.pem: no certificate in it") != NULL);
	srv_stop(&s);
}

/* Plain connect, greeting, "a STARTTLS", "a OK": what IMAP does. */
static struct conn *
starttls_prologue(struct srv *s, struct error *err)
{
	struct conn_params	 p;
	struct conn		*c;
	char			 line[256];

	p = params("127.0.0.1", s->port, false);
	p.ca_file = ca.path;
	if ((c = conn_open(&p, err)) == NULL)
		return NULL;
	T_ASSERT(!conn_is_tls(c));
	T_ASSERT(conn_tls_info(c) == NULL);
	read_line(c, line, sizeof line, err);
	T_EQ_STR(line, "* OK ready\r\n");
	conn_printf(c, err, "a STARTTLS\r\n");
	read_line(c, line, sizeof line, err);
	T_EQ_STR(line, "a OK begin TLS\r\n");
	return c;
}

static void
test_starttls(void)
{
	struct conn	*c;
	struct error	 err;
	struct srv	 s;
	char		 line[256], want[1024];

	srv_start(&s, SRV_STARTTLS, &good, 0);
	c = starttls_prologue(&s, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(conn_starttls(c, &err), 0);
		T_ASSERT(conn_is_tls(c));
		T_ASSERT(conn_tls_info(c) != NULL);
		conn_printf(c, &err, "b NOOP\r\n");
		T_EQ_INT(read_line(c, line, sizeof line, &err), 8);
		T_EQ_STR(line, "b NOOP\r\n");
		/* A second STARTTLS is a caller bug. */
		T_EQ_INT(conn_starttls(c, &err), -1);
		conn_close(&c);
	}
	srv_stop(&s);
	T_EQ_STR(s.line, "a STARTTLS\r\n");
	T_EQ_INT(s.handshake_ok, 1);

	/* A refused certificate after STARTTLS: no plain-text fallback. */
	srv_start(&s, SRV_STARTTLS, &selfsigned, 0);
	c = starttls_prologue(&s, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(conn_starttls(c, &err), -1);
		T_EQ_INT(err.cls, ERR_TLS);
		snprintf(want, sizeof want, "TLS: certificate of 127.0.0.1 not "
		    "trusted (signer not found) - SHA-256 fingerprint %s; to "
		    "trust this certificate add \"tls_fingerprint = %s\" to "
		    "[account alice]", selfsigned.fp, selfsigned.fp);
		T_EQ_STR(err.msg, want);
		T_ASSERT(!conn_is_tls(c));
		error_clear(&err);
		T_EQ_INT(conn_write(c, "c LOGIN x y\r\n", 13, 1, &err), -1);
		T_EQ_STR(err.msg, want);
		T_EQ_INT(conn_read(c, line, sizeof line, &err), -1);
		T_EQ_INT(conn_flush(c, &err), -1);
		T_EQ_INT(conn_wait(c, -1, 0, &err), -1);
		conn_close(&c);
	}
	srv_stop(&s);
}

static void
test_starttls_injection(void)
{
	struct conn	*c;
	struct error	 err;
	struct srv	 s;
	char		 buf[64];

	srv_start(&s, SRV_STARTTLS_INJECT, &good, 0);
	c = starttls_prologue(&s, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		/* The injected line is in the socket buffer by now. */
		usleep(50000);
		T_EQ_INT(conn_starttls(c, &err), -1);
		T_EQ_INT(err.cls, ERR_TLS);
		T_ASSERT(strstr(err.msg, "sent data after its STARTTLS answer, "
		    "before the TLS handshake") != NULL);
		T_ASSERT(!conn_is_tls(c));
		/* And the injected bytes are never handed out. */
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		T_ASSERT(strstr(err.msg, "STARTTLS") != NULL);
		conn_close(&c);
	}
	srv_stop(&s);
	T_EQ_INT(s.handshake_ok, 0);
}

static void
test_refused(void)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	socklen_t		 sl;
	char			 want[128];
	int			 fd, fd6;

	/* Bound but not listening: the port stays ours and refuses. */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	T_EQ_INT(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	sl = sizeof sin;
	getsockname(fd, (struct sockaddr *)&sin, &sl);
	p = params("127.0.0.1", ntohs(sin.sin_port), true);
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TRANSIENT);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: "
	    "Connection refused", ntohs(sin.sin_port));
	T_EQ_STR(err.msg, want);
	close(fd);

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	fd6 = socket(AF_INET6, SOCK_STREAM, 0);
	T_EQ_INT(bind(fd6, (struct sockaddr *)&sin6, sizeof sin6), 0);
	sl = sizeof sin6;
	getsockname(fd6, (struct sockaddr *)&sin6, &sl);
	p = params("::1", ntohs(sin6.sin6_port), false);
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	snprintf(want, sizeof want, "cannot connect to [::1]:%d: "
	    "Connection refused", ntohs(sin6.sin6_port));
	T_EQ_STR(err.msg, want);
	close(fd6);
}

static void
test_unknown_host(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	char			 host[128], want[160];

	/*
	 * A 64-byte label cannot be put in a DNS query, so the resolver
	 * fails without sending anything: no traffic leaves the machine.
	 */
	memset(host, 'x', 64);
	snprintf(host + 64, sizeof host - 64, ".invalid");
	p = params(host, 993, true);
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TRANSIENT);
	snprintf(want, sizeof want, "unknown host %s", host);
	T_EQ_STR(err.msg, want);
}

/*
 * conn_open() with a 0.3 s connect timeout, which must fail as a transient
 * error; returns how long it took, in milliseconds.
 */
static uint64_t
open_fails_timed(struct conn_params *p, struct error *err)
{
	struct conn	*c;
	uint64_t	 t0 = now_ms();

	p->connect_timeout_ms = 300;
	c = conn_open(p, err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err->cls, ERR_TRANSIENT);
	conn_close(&c);
	return now_ms() - t0;
}

/*
 * A resolver that hangs (a dead DNS server) costs the connect timeout, not
 * the resolver's own minutes. The test seam net_getaddrinfo stands in for
 * getaddrinfo: this one answers for "slow.test" only after 1.5 s.
 */
#define SLOW_RESOLVER_MS	1500

static int
slow_getaddrinfo(const char *host, const char *port,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo	h = *hints;

	if (strcmp(host, "slow.test") == 0) {
		usleep(SLOW_RESOLVER_MS * 1000);
		h.ai_flags |= AI_NUMERICHOST;
		return getaddrinfo("127.0.0.1", port, &h, res);
	}
	return getaddrinfo(host, port, hints, res);
}

static void
test_resolve_timeout(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	uint64_t		 ms;

	net_getaddrinfo = slow_getaddrinfo;
	srv_start(&s, SRV_PLAIN_GREETING, NULL, 0);

	p = params("slow.test", s.port, false);
	ms = open_fails_timed(&p, &err);
	T_EQ_STR(err.msg, "cannot resolve slow.test: timed out after 0.3 s");
	T_ASSERT(ms >= 250 && ms < 1200);

	/* With time enough the same lookup connects. */
	p.connect_timeout_ms = 10000;
	c = conn_open(&p, &err);
	if (c == NULL)
		test_fail(__FILE__, __LINE__, "slow.test: %s", err.msg);
	conn_close(&c);
	srv_stop(&s);

	/* Let the abandoned lookup finish and free its own result. */
	usleep(SLOW_RESOLVER_MS * 1000);
	net_getaddrinfo = getaddrinfo;
}

static void
test_connect_timeout(void)
{
	struct sockaddr_in	 sin;
	struct conn_params	 p;
	struct error		 err;
	struct pollfd		 pfd;
	socklen_t		 sl;
	uint64_t		 ms;
	char			 want[128];
	int			 lfd, fill[16], nfill = 0, i;

	/*
	 * A listening socket whose accept queue is full drops new SYNs, so a
	 * connect to it hangs: a timeout on loopback.
	 */
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	bind(lfd, (struct sockaddr *)&sin, sizeof sin);
	sl = sizeof sin;
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	listen(lfd, 0);
	for (i = 0; i < 16; i++) {
		fill[nfill] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[nfill], (struct sockaddr *)&sin, sizeof sin);
		pfd.fd = fill[nfill++];
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 200) == 0)
			break;
	}
	T_ASSERT(i < 16);

	p = params("127.0.0.1", ntohs(sin.sin_port), true);
	ms = open_fails_timed(&p, &err);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: timed out "
	    "after 0.3 s", ntohs(sin.sin_port));
	T_EQ_STR(err.msg, want);
	T_ASSERT(ms >= 280 && ms < 3000);
	for (i = 0; i < nfill; i++)
		close(fill[i]);
	close(lfd);
}

static void
test_handshake_timeout(void)
{
	struct conn_params	 p;
	struct error		 err;
	struct srv		 s;
	uint64_t		 ms;
	char			 want[128];

	/* TCP connects (the kernel accepts), but nobody speaks TLS. */
	srv_start(&s, SRV_NO_ACCEPT, NULL, 0);
	p = params("127.0.0.1", s.port, true);
	ms = open_fails_timed(&p, &err);
	snprintf(want, sizeof want, "TLS handshake with 127.0.0.1:%d timed out "
	    "after 0.3 s", s.port);
	T_EQ_STR(err.msg, want);
	T_ASSERT(ms >= 280 && ms < 3000);
	srv_stop(&s);
}

static void
test_tls_to_plain_port(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 want[256];

	srv_start(&s, SRV_PLAIN_GREETING, NULL, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c == NULL);
	T_EQ_INT(err.cls, ERR_TLS);
	snprintf(want, sizeof want, "TLS handshake with 127.0.0.1:%d failed: "
	    "the server did not answer in TLS", s.port);
	T_ASSERT(strncmp(err.msg, want, strlen(want)) == 0);
	srv_stop(&s);
}

static void
test_eof(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 buf[64];
	uint64_t		 t0;

	/* TLS closed without close_notify mid-stream: an error, at once. */
	srv_start(&s, SRV_TLS_CLOSE_ABRUPT, &good, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(read_n(c, buf, 7, &err), 7);
		T_EQ_STR(buf, "partial");
		t0 = now_ms();
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		T_ASSERT(now_ms() - t0 < 2000);
		T_EQ_INT(err.cls, ERR_TRANSIENT);
		snprintf(buf, sizeof buf, "connection to 127.0.0.1:%d closed",
		    s.port);
		T_ASSERT(strncmp(err.msg, buf, strlen(buf)) == 0);
		/* It stays failed. */
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		conn_close(&c);
	}
	srv_stop(&s);

	/* TLS with close_notify: a clean end of stream. */
	srv_start(&s, SRV_TLS_CLOSE_CLEAN, &good, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(read_n(c, buf, 5, &err), 5);
		T_EQ_STR(buf, "bye\r\n");
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), 0);
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), 0);
		conn_close(&c);
	}
	srv_stop(&s);

	/* Plain: data, then 0. */
	srv_start(&s, SRV_PLAIN_CLOSE, NULL, 0);
	p = params("127.0.0.1", s.port, false);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(read_n(c, buf, 6, &err), 6);
		T_EQ_STR(buf, "data\r\n");
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), 0);
		conn_close(&c);
	}
	srv_stop(&s);

	/* A TLS server reset mid-session. */
	srv_start(&s, SRV_TLS_RESET, &good, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		T_EQ_INT(err.cls, ERR_TRANSIENT);
		T_ASSERT(strstr(err.msg, "127.0.0.1") != NULL);
		conn_close(&c);
	}
	srv_stop(&s);
}

static void
test_read_timeout(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 buf[64], want[128];
	uint64_t		 t0, ms;
	int			 tls;

	for (tls = 0; tls <= 1; tls++) {
		srv_start(&s, tls ? SRV_TLS_SILENT : SRV_PLAIN_SILENT,
		    tls ? &good : NULL, 0);
		p = params("127.0.0.1", s.port, tls);
		p.io_timeout_ms = 200;
		c = conn_open(&p, &err);
		T_ASSERT(c != NULL);
		if (c == NULL) {
			srv_stop(&s);
			continue;
		}
		t0 = now_ms();
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		ms = now_ms() - t0;
		T_EQ_INT(err.cls, ERR_TRANSIENT);
		snprintf(want, sizeof want, "timed out after 0.2 s waiting for "
		    "127.0.0.1:%d", s.port);
		T_EQ_STR(err.msg, want);
		T_ASSERT(ms >= 180 && ms < 3000);
		/* A read timeout leaves the connection usable. */
		conn_set_timeout(c, 100);
		T_EQ_INT(conn_write(c, "x\r\n", 3, 0, &err), 0);
		T_EQ_INT(conn_flush(c, &err), 0);
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		T_ASSERT(strstr(err.msg, "after 0.1 s") != NULL);
		conn_close(&c);
		srv_stop(&s);
	}
}

static void
test_wait(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 buf[64];
	uint64_t		 t0, ms;
	int			 pfd[2], tls;

	T_EQ_INT(pipe(pfd), 0);
	for (tls = 0; tls <= 1; tls++) {
		srv_start(&s, tls ? SRV_TLS_WAIT : SRV_PLAIN_WAIT,
		    tls ? &good : NULL, 0);
		p = params("127.0.0.1", s.port, tls);
		c = conn_open(&p, &err);
		T_ASSERT(c != NULL);
		if (c == NULL) {
			srv_stop(&s);
			continue;
		}
		/* Nothing to read (TLS 1.3 tickets do not count): timeout. */
		t0 = now_ms();
		T_EQ_INT(conn_wait(c, pfd[0], 200, &err), 0);
		ms = now_ms() - t0;
		T_ASSERT(ms >= 180 && ms < 3000);
		T_EQ_INT(conn_wait(c, -1, 0, &err), 0);

		/* The wake fd. */
		T_EQ_INT(write(pfd[1], "w", 1), 1);
		T_EQ_INT(conn_wait(c, pfd[0], 5000, &err), 2);
		T_EQ_INT(read(pfd[0], buf, 1), 1);

		/* conn_wait flushes the queue, then sees the answer. */
		T_EQ_INT(conn_write(c, "go\r\n", 4, 0, &err), 0);
		T_EQ_INT(conn_wait(c, pfd[0], 5000, &err), 1);
		/* Read one byte; the rest is buffered (GnuTLS or ours). */
		T_EQ_INT(conn_read(c, buf, 1, &err), 1);
		t0 = now_ms();
		T_EQ_INT(conn_wait(c, pfd[0], 2000, &err), 1);
		T_ASSERT(now_ms() - t0 < 500);
		T_EQ_INT(read_n(c, buf + 1, 13, &err), 13);
		T_EQ_STR(buf, "line1\r\nline2\r\n");
		conn_close(&c);
		srv_stop(&s);
	}

	/* Data buffered inside GnuTLS, which poll() cannot see. */
	srv_start(&s, SRV_TLS_WAIT, &good, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(conn_write(c, "go\r\n", 4, 0, &err), 0);
		T_EQ_INT(conn_read(c, buf, 1, &err), 1);
		t0 = now_ms();
		T_EQ_INT(conn_wait(c, -1, 2000, &err), 1);
		T_ASSERT(now_ms() - t0 < 500);
		T_EQ_INT(read_n(c, buf + 1, 13, &err), 13);
		T_EQ_STR(buf, "line1\r\nline2\r\n");
		conn_close(&c);
	}
	srv_stop(&s);
	close(pfd[0]);
	close(pfd[1]);
}

static void
test_bulk(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 chunk[1000], line[64];
	size_t			 in, out;
	int			 tls, i;

	memset(chunk, 'z', sizeof chunk);
	for (tls = 0; tls <= 1; tls++) {
		s.expect = 1000000;
		srv_start(&s, tls ? SRV_TLS_COUNT : SRV_PLAIN_COUNT,
		    tls ? &good : NULL, 0);
		p = params("127.0.0.1", s.port, tls);
		c = conn_open(&p, &err);
		T_ASSERT(c != NULL);
		if (c == NULL) {
			srv_stop(&s);
			continue;
		}
		for (i = 0; i < 1000; i++)
			T_EQ_INT(conn_write(c, chunk, sizeof chunk, 0, &err), 0);
		T_EQ_INT(conn_flush(c, &err), 0);
		T_EQ_INT(read_line(c, line, sizeof line, &err), 13);
		T_EQ_STR(line, "got 1000000\r\n");
		conn_counters(c, &in, &out);
		T_EQ_INT(out, 1000000);
		T_EQ_INT(in, 13);
		conn_close(&c);
		srv_stop(&s);
		T_EQ_INT(s.got, 1000000);
	}
}

/*
 * Bulk mode (conn_set_bulk): a big echo arrives whole, a short answer still
 * comes at once, and the 64 KB low-water mark it leaves on the socket never
 * keeps conn_wait (IDLE) from seeing a single byte.
 */
static void
test_bulk_read(void)
{
	static char		 big[65536 + 1];
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 chunk[65536], line[64];
	uint64_t		 t0;
	int			 round;

	memset(chunk, 'q', sizeof chunk);
	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c == NULL) {
		srv_stop(&s);
		return;
	}
	conn_set_bulk(c, true);
	for (round = 0; round < 4; round++) {
		T_EQ_INT(conn_write(c, chunk, sizeof chunk, 0, &err), 0);
		T_EQ_INT(conn_flush(c, &err), 0);
		T_EQ_INT(read_n(c, big, sizeof chunk, &err), sizeof chunk);
		T_ASSERT(memcmp(big, chunk, sizeof chunk) == 0);
	}

	/* A short answer in bulk mode: no waiting for 64 KB that never come. */
	t0 = now_ms();
	T_EQ_INT(conn_write(c, "ping\r\n", 6, 0, &err), 0);
	T_EQ_INT(read_line(c, line, sizeof line, &err), 6);
	T_EQ_STR(line, "ping\r\n");
	T_ASSERT(now_ms() - t0 < 500);

	/* Bulk mode raises the mark at once; an idle wait sees one byte. */
	conn_set_bulk(c, false);
	conn_set_bulk(c, true);
	T_EQ_INT(conn_write(c, "x", 1, 0, &err), 0);
	t0 = now_ms();
	T_EQ_INT(conn_wait(c, -1, 3000, &err), 1);
	T_ASSERT(now_ms() - t0 < 500);
	T_EQ_INT(conn_read(c, line, 1, &err), 1);

	/* And off again. */
	conn_set_bulk(c, false);
	T_EQ_INT(conn_write(c, "pong\r\n", 6, 0, &err), 0);
	T_EQ_INT(read_line(c, line, sizeof line, &err), 6);
	T_EQ_STR(line, "pong\r\n");
	conn_close(&c);
	srv_stop(&s);
}

static void
test_peer_gone(void)
{
	static const enum srv_mode modes[] = { SRV_PLAIN_RESET, SRV_PLAIN_CLOSE,
	    SRV_TLS_RESET, SRV_TLS_CLOSE_CLEAN, SRV_TLS_CLOSE_ABRUPT };
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 chunk[4096], buf[16];
	size_t			 m;
	int			 tls, i, rv;

	/*
	 * Writing to a peer that is gone must fail cleanly. After a FIN and
	 * then a reset the socket reports EPIPE, which raises SIGPIPE unless
	 * every send passes MSG_NOSIGNAL (SIGPIPE is fatal in this test).
	 */
	memset(chunk, 'y', sizeof chunk);
	for (m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		tls = modes[m] >= SRV_TLS_ECHO;
		srv_start(&s, modes[m], tls ? &good : NULL, 0);
		p = params("127.0.0.1", s.port, tls);
		c = conn_open(&p, &err);
		if (c == NULL) {
			test_fail(__FILE__, __LINE__, "mode %d: %s", modes[m],
			    err.msg);
			srv_stop(&s);
			continue;
		}
		usleep(50000);
		rv = 0;
		for (i = 0; i < 64 && rv == 0; i++) {
			rv = conn_write(c, chunk, sizeof chunk, 0, &err);
			if (rv == 0)
				rv = conn_flush(c, &err);
			usleep(5000);
		}
		srv_stop(&s);
		T_EQ_INT(rv, -1);
		T_EQ_INT(err.cls, ERR_TRANSIENT);
		snprintf(buf, sizeof buf, ":%d", s.port);
		T_ASSERT(strstr(err.msg, "connection to 127.0.0.1:") != NULL);
		T_ASSERT(strstr(err.msg, buf) != NULL);
		/* Later calls report the same failure. */
		T_EQ_INT(conn_write(c, "a", 1, 0, &err), -1);
		T_EQ_INT(conn_read(c, buf, sizeof buf, &err), -1);
		conn_close(&c);
	}
}

static void
test_trace(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	char			 path[600], line[64], text[4096];
	FILE			*f;
	size_t			 n;

	snprintf(path, sizeof path, "%s/trace.log", tmpdir);
	T_EQ_INT(log_open(path), 0);
	log_set_trace(1);
	srv_start(&s, SRV_PLAIN_GREETING, NULL, 0);
	p = params("127.0.0.1", s.port, false);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		read_n(c, line, 12, &err);
		conn_write(c, "a LOGIN alice s3cret\r\n", 22, 1, &err);
		conn_printf(c, &err, "b NOOP\r\nc LOGOUT\r\n");
		T_EQ_INT(conn_flush(c, &err), 0);
		conn_close(&c);
	}
	srv_stop(&s);
	log_set_trace(0);

	f = fopen(path, "r");
	T_ASSERT(f != NULL);
	if (f == NULL)
		return;
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	T_ASSERT(strstr(text, "test > <redacted>\n") != NULL);
	T_ASSERT(strstr(text, "test > b NOOP\n") != NULL);
	T_ASSERT(strstr(text, "test > c LOGOUT\n") != NULL);
	T_ASSERT(strstr(text, "s3cret") == NULL);
	T_ASSERT(strstr(text, "alice") == NULL);
}

/*
 * One connection to a fresh server with cert (the test server takes one
 * client): 0 it was accepted, -1 refused (err, peer set). hp gets its
 * host:port; pin_for, when set, is pinned for that host:port first.
 */
static int
tofu_try(struct tcert *cert, const char *kh, const char *trust_once,
    const char *pin_for, bool with_ca, struct tls_peer *peer, char *hp,
    size_t hpsz, struct error *err)
{
	struct conn_params	 p;
	struct conn		*c;
	struct srv		 s;

	srv_start(&s, SRV_TLS_ECHO, cert, 0);
	snprintf(hp, hpsz, "127.0.0.1:%d", s.port);
	if (pin_for != NULL)
		T_EQ_INT(knownhosts_add(kh, hp, pin_for, "CN=\x1b[31m", err), 0);
	p = params("127.0.0.1", s.port, true);
	if (!with_ca)
		p.ca_file = NULL;
	p.known_hosts = kh;
	p.trust_once = trust_once;
	p.peer = peer;
	c = conn_open(&p, err);
	conn_close(&c);
	srv_stop(&s);
	return c == NULL && err->cls != ERR_NONE ? -1 : 0;
}

/*
 * Trust on first use: a refused certificate is described (untrusted, its
 * pin); accepted once by that pin; pinned in a known-hosts file it is
 * accepted, and another key for that host:port is refused as changed.
 */
static void
test_tofu(void)
{
	struct error	 err;
	struct tls_peer	 peer;
	char		 dir[] = "/tmp/petrel-kh.XXXXXX", path[256];
	char		 hp[64], pin[TLS_PIN_LEN], pin2[TLS_PIN_LEN];
	int		 line;

	T_ASSERT(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/sub/known_hosts", dir);
	/* The file is not there yet: no pins. */
	error_clear(&err);
	T_EQ_INT(tofu_try(&selfsigned, path, NULL, NULL, false, &peer, hp,
	    sizeof hp, &err), -1);
	T_EQ_INT(err.cls, ERR_TLS);
	T_ASSERT(peer.untrusted && !peer.changed);
	T_EQ_STR(peer.hostport, hp);
	T_EQ_STR(peer.fingerprint, selfsigned.fp);
	T_ASSERT(strncmp(peer.pin, "pin-sha256:", 11) == 0 &&
	    strlen(peer.pin) == 55);
	T_ASSERT(strstr(peer.subject, "CN=") != NULL);
	T_ASSERT(strstr(peer.reason, "signer not found") != NULL);
	T_ASSERT(peer.not_after[0] != '\0');
	snprintf(pin, sizeof pin, "%s", peer.pin);

	/* Accepted once by its pin; another key's pin does not do. */
	error_clear(&err);
	T_EQ_INT(tofu_try(&selfsigned, path, pin, NULL, false, &peer, hp,
	    sizeof hp, &err), 0);
	T_EQ_INT(tofu_try(&selfsigned, path, "pin-sha256:AAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAA=", NULL, false, &peer, hp, sizeof hp,
	    &err), -1);

	/* Pinned for good: accepted without a CA. */
	error_clear(&err);
	T_EQ_INT(tofu_try(&selfsigned, path, NULL, pin, false, &peer, hp,
	    sizeof hp, &err), 0);
	/* Other lines stay, a second add replaces. */
	T_EQ_INT(knownhosts_add(path, "[::1]:993", "pin-sha256:v6", "other",
	    &err), 0);
	T_EQ_INT(knownhosts_add(path, hp, "pin-sha256:old", "x", &err), 0);
	T_EQ_INT(knownhosts_add(path, hp, pin, NULL, &err), 0);
	T_EQ_INT(knownhosts_find(path, hp, pin2, &line, &err), 1);
	T_EQ_STR(pin2, pin);
	T_EQ_INT(knownhosts_find(path, "[::1]:993", pin2, &line, &err), 1);
	T_EQ_STR(pin2, "pin-sha256:v6");
	T_EQ_INT(knownhosts_find(path, "127.0.0.1:1", pin2, &line, &err), 0);

	/* Another key where one is pinned: changed, though the chain
	 * verifies, and never offered for acceptance. */
	T_EQ_INT(tofu_try(&good, path, NULL, pin, true, &peer, hp, sizeof hp,
	    &err), -1);
	T_ASSERT(peer.changed && !peer.untrusted);
	T_ASSERT(strstr(err.msg, "HAS CHANGED") != NULL);
	T_ASSERT(strstr(err.msg, path) != NULL);
	unlink(path);
	snprintf(path, sizeof path, "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

/*
 * SCRAM-PLUS binds to what both ends compute: tls-exporter (RFC 9266)
 * over TLS 1.3, which this server speaks; none over plain text.
 */
static void
test_channel_binding(void)
{
	struct conn_params	 p;
	struct conn		*c;
	struct error		 err;
	struct srv		 s;
	unsigned char		 cb[64];
	size_t			 len = sizeof cb;
	const char		*type = NULL;
	char			 line[64];

	srv_start(&s, SRV_TLS_ECHO, &good, 0);
	p = params("127.0.0.1", s.port, true);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	if (c != NULL) {
		T_EQ_INT(conn_channel_binding(c, &type, cb, &len), 0);
		T_EQ_STR(type, "tls-exporter");
		T_EQ_INT(len, 32);
		/* An exchange first: the server has its binding by then. */
		T_EQ_INT(conn_write(c, "x\r\n", 3, 0, &err), 0);
		T_EQ_INT(read_line(c, line, sizeof line, &err), 3);
	}
	conn_close(&c);
	srv_stop(&s);
	T_EQ_INT(s.cb_len, 32);
	T_EQ_MEM(cb, len, s.cb, s.cb_len);

	srv_start(&s, SRV_PLAIN_GREETING, NULL, 0);
	p = params("127.0.0.1", s.port, false);
	c = conn_open(&p, &err);
	T_ASSERT(c != NULL);
	len = sizeof cb;
	T_EQ_INT(conn_channel_binding(c, &type, cb, &len), -1);
	conn_close(&c);
	srv_stop(&s);
}

static const struct test tests[] = {
	{ "channel_binding", test_channel_binding },
	{ "tofu", test_tofu },
	{ "tls_ok", test_tls_ok },
	{ "tls_self_signed", test_tls_self_signed },
	{ "tls_wrong_name", test_tls_wrong_name },
	{ "tls_expired", test_tls_expired },
	{ "tls_pin", test_tls_pin },
	{ "bad_ca_file", test_bad_ca_file },
	{ "starttls", test_starttls },
	{ "starttls_injection", test_starttls_injection },
	{ "refused", test_refused },
	{ "unknown_host", test_unknown_host },
	{ "connect_timeout", test_connect_timeout },
	{ "resolve_timeout", test_resolve_timeout },
	{ "handshake_timeout", test_handshake_timeout },
	{ "tls_to_plain_port", test_tls_to_plain_port },
	{ "eof", test_eof },
	{ "read_timeout", test_read_timeout },
	{ "wait", test_wait },
	{ "bulk", test_bulk },
	{ "bulk-read", test_bulk_read },
	{ "peer_gone", test_peer_gone },
	{ "trace", test_trace },
	{ NULL, NULL }
};

int
main(int argc, char **argv)
{
	static const char *const names[] = { "localhost", NULL };
	static const char *const ips[] = { "127.0.0.1", "::1", NULL };
	static const char *const wrong_names[] = { "wrong.example", NULL };
	static const char *const wrong_ips[] = { "192.0.2.1", NULL };
	time_t	now = time(NULL), day = 86400;
	char	cmd[600];
	int	rv;

	/* SIGPIPE stays fatal here, so a missing MSG_NOSIGNAL kills the test. */
	signal(SIGPIPE, SIG_DFL);
	log_init(argv[0]);
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	tcert_make(&ca, tmpdir, "Petrel Test CA", 1, NULL, NULL, NULL,
	    now - day, now + 30 * day);
	tcert_make(&good, tmpdir, "localhost", 0, &ca, names, ips,
	    now - day, now + 30 * day);
	tcert_make(&wrong, tmpdir, "wrong.example", 0, &ca, wrong_names,
	    wrong_ips, now - day, now + 30 * day);
	tcert_make(&expired, tmpdir, "expired", 0, &ca, names, ips,
	    now - 30 * day, now - 2 * day);
	tcert_make(&selfsigned, tmpdir, "selfsigned", 0, NULL, names, ips,
	    now - day, now + 30 * day);

	rv = test_main(tests, argc, argv);

	tcert_free(&ca);
	tcert_free(&good);
	tcert_free(&wrong);
	tcert_free(&expired);
	tcert_free(&selfsigned);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rv = 1;
	return rv;
}
