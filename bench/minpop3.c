/*
 * minpop3: the least work a POP3 client can do to download a maildrop, as
 * the yardstick of bench/pop3-bench.py. Over POP3S (GnuTLS, the certificate
 * verified) it sends USER, PASS, STAT, then RETR 1..n pipelined with at
 * most WINDOW commands in flight (RFC 2449 PIPELINING), and QUIT. It only
 * splits lines to find each message's end; nothing is unstuffed, parsed or
 * stored.
 *
 * usage: minpop3 [-c CAFILE] [-w WINDOW] [-q] HOST PORT USER
 * The password comes from $MINPOP3_PASSWORD. Prints one line: messages,
 * bytes and the time of each step.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#define MP_BUFSIZE	(256 * 1024)
#define MP_MAX_LINE	(64 * 1024)
#define MP_TIMEOUT	120		/* seconds */

struct mp_conn {
	int			 fd;
	gnutls_session_t	 tls;
	gnutls_certificate_credentials_t cred;
	char			*buf;
	size_t			 start;		/* unread data: buf[start..end) */
	size_t			 end;
	uint64_t		 bytes;		/* received in total */
	char			 out[64 * 1024];	/* queued commands */
	size_t			 outlen;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("minpop3: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
mp_connect_tcp(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { MP_TIMEOUT, 0 };
	int fd = -1, e, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0)
		die("%s: %s", host, gai_strerror(e));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		die("connect %s:%s: %s", host, port, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static void
mp_tls(struct mp_conn *c, const char *host, const char *cafile)
{
	int r;

	if (gnutls_certificate_allocate_credentials(&c->cred) < 0)
		die("gnutls credentials");
	gnutls_certificate_set_x509_system_trust(c->cred);
	if (cafile != NULL &&
	    gnutls_certificate_set_x509_trust_file(c->cred, cafile,
	    GNUTLS_X509_FMT_PEM) < 0)
		die("%s: cannot load certificates", cafile);
	gnutls_init(&c->tls, GNUTLS_CLIENT);
	gnutls_set_default_priority(c->tls);
	gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->cred);
	gnutls_session_set_verify_cert(c->tls, host, 0);
	gnutls_transport_set_int(c->tls, c->fd);
	do {
		r = gnutls_handshake(c->tls);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0)
		die("TLS handshake: %s", gnutls_strerror(r));
}

/* Queue a command; mp_flush sends the queue. */
static void
mp_queue(struct mp_conn *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->out + c->outlen, sizeof c->out - c->outlen, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof c->out - c->outlen)
		die("command queue full");
	c->outlen += (size_t)n;
}

static void
mp_flush(struct mp_conn *c)
{
	ssize_t w;
	size_t off = 0;

	while (off < c->outlen) {
		w = gnutls_record_send(c->tls, c->out + off, c->outlen - off);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w < 0)
			die("send: %s", gnutls_strerror((int)w));
		off += (size_t)w;
	}
	c->outlen = 0;
}

/* Read more data into the buffer (compacting it first). */
static void
mp_fill(struct mp_conn *c)
{
	ssize_t r;

	mp_flush(c);
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == MP_BUFSIZE)
		die("line longer than %d bytes", MP_MAX_LINE);
	do {
		r = gnutls_record_recv(c->tls, c->buf + c->end,
		    MP_BUFSIZE - c->end);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	if (r == 0)
		die("server closed the connection");
	if (r < 0)
		die("recv: %s", gnutls_strerror((int)r));
	c->end += (size_t)r;
	c->bytes += (uint64_t)r;
}

/* The next line (without CRLF, NUL-terminated in the buffer). */
static char *
mp_line(struct mp_conn *c, size_t *lenp)
{
	char *line, *eol;
	size_t len;

	while ((eol = c->start < c->end ? memchr(c->buf + c->start, '\n',
	    c->end - c->start) : NULL) == NULL) {
		if (c->end - c->start > MP_MAX_LINE)
			die("line longer than %d bytes", MP_MAX_LINE);
		mp_fill(c);
	}
	line = c->buf + c->start;
	len = (size_t)(eol - line);
	c->start += len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	*lenp = len;
	return line;
}

/* A status line that must be +OK. */
static char *
mp_ok(struct mp_conn *c, const char *what)
{
	size_t len;
	char *line = mp_line(c, &len);

	if (strncmp(line, "+OK", 3) != 0)
		die("%s: %s", what, line);
	return line;
}

/* Skip the lines of a multi-line body up to its "." line. */
static void
mp_skip_body(struct mp_conn *c)
{
	size_t len;
	char *line;

	for (;;) {
		line = mp_line(c, &len);
		if (len == 1 && line[0] == '.')
			return;
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: minpop3 [-c CAFILE] [-w WINDOW] [-q] HOST "
	    "PORT USER\n(password in $MINPOP3_PASSWORD)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct mp_conn c;
	const char *cafile = NULL, *pass;
	double t0, t_tls, t_login, t_retr, t_end;
	unsigned long n = 0, sent = 0, got = 0, window = 32;
	char *line, *end;
	int ch, quiet = 0, r;

	while ((ch = getopt(argc, argv, "c:w:q")) != -1) {
		switch (ch) {
		case 'c':
			cafile = optarg;
			break;
		case 'w':
			window = strtoul(optarg, &end, 10);
			if (*end != '\0' || window == 0 || window > 1000)
				usage();
			break;
		case 'q':
			quiet = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		usage();
	if ((pass = getenv("MINPOP3_PASSWORD")) == NULL)
		die("MINPOP3_PASSWORD is not set");
	if (strpbrk(pass, "\r\n") != NULL || strpbrk(argv[2], "\r\n") != NULL)
		die("user and password must not contain line breaks");

	memset(&c, 0, sizeof c);
	if ((c.buf = malloc(MP_BUFSIZE)) == NULL)
		die("out of memory");
	gnutls_global_init();
	t0 = now();
	c.fd = mp_connect_tcp(argv[0], argv[1]);
	mp_tls(&c, argv[0], cafile);
	mp_ok(&c, "greeting");
	t_tls = now();
	mp_queue(&c, "USER %s\r\n", argv[2]);
	mp_ok(&c, "USER");
	mp_queue(&c, "PASS %s\r\n", pass);
	mp_ok(&c, "PASS");
	mp_queue(&c, "STAT\r\n");
	line = mp_ok(&c, "STAT");
	n = strtoul(line + 3, NULL, 10);
	t_login = now();
	while (got < n) {
		while (sent < n && sent - got < window)
			mp_queue(&c, "RETR %lu\r\n", ++sent);
		mp_ok(&c, "RETR");
		mp_skip_body(&c);
		got++;
	}
	t_retr = now();
	mp_queue(&c, "QUIT\r\n");
	mp_ok(&c, "QUIT");
	do {
		r = gnutls_bye(c.tls, GNUTLS_SHUT_WR);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	close(c.fd);
	t_end = now();
	if (!quiet)
		printf("minpop3: messages=%lu bytes=%" PRIu64 " total=%.3f "
		    "connect+tls=%.3f login+stat=%.3f retr=%.3f quit=%.3f\n",
		    n, c.bytes, t_end - t0, t_tls - t0, t_login - t_tls,
		    t_retr - t_login, t_end - t_retr);
	gnutls_deinit(c.tls);
	gnutls_certificate_free_credentials(c.cred);
	gnutls_global_deinit();
	free(c.buf);
	return 0;
}
