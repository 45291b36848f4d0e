/*
 * minfetch: the least work an IMAP client can do to download a folder's
 * index, as the yardstick of bench/sync-bench.py. Over IMAPS (GnuTLS, the
 * certificate verified) it sends LOGIN, SELECT, one
 *	UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE
 *	    BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID
 *	    In-Reply-To References)])
 * and LOGOUT, and throws the data away: it only splits lines and skips
 * literals, so nothing is parsed, decoded or stored.
 *
 * usage: minfetch [-c CAFILE] [-f FOLDER] [-q] HOST PORT USER
 * The password comes from $MINFETCH_PASSWORD. Prints one line: messages,
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

#define MF_BUFSIZE	(256 * 1024)
#define MF_MAX_LINE	(64 * 1024)	/* a non-literal line longer is an error */
#define MF_TIMEOUT	120		/* seconds */

#define MF_FETCH_ITEMS "(UID FLAGS INTERNALDATE RFC822.SIZE " \
	"BODY.PEEK[HEADER.FIELDS (From To Cc Subject Date Message-ID " \
	"In-Reply-To References)])"

struct mf_conn {
	int			 fd;
	gnutls_session_t	 tls;
	gnutls_certificate_credentials_t cred;
	char			*buf;
	size_t			 start;		/* unread data: buf[start..end) */
	size_t			 end;
	uint64_t		 bytes;		/* received in total */
	int			 tag;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("minfetch: ", stderr);
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
mf_connect_tcp(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { MF_TIMEOUT, 0 };
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
mf_tls(struct mf_conn *c, const char *host, const char *cafile)
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

static void
mf_send(struct mf_conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;
	ssize_t w;
	size_t off = 0;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line)
		die("command too long");
	while (off < (size_t)n) {
		w = gnutls_record_send(c->tls, line + off, (size_t)n - off);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w < 0)
			die("send: %s", gnutls_strerror((int)w));
		off += (size_t)w;
	}
}

/* Read more data into the buffer (compacting it first). */
static void
mf_fill(struct mf_conn *c)
{
	ssize_t r;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == MF_BUFSIZE)
		die("line longer than %d bytes", MF_MAX_LINE);
	do {
		r = gnutls_record_recv(c->tls, c->buf + c->end,
		    MF_BUFSIZE - c->end);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	if (r == 0)
		die("server closed the connection");
	if (r < 0)
		die("recv: %s", gnutls_strerror((int)r));
	c->end += (size_t)r;
	c->bytes += (uint64_t)r;
}

/*
 * Read until the tagged reply to tag (0: the greeting); count untagged
 * FETCH responses. Literals are skipped without looking at them. An
 * untagged BYE ends the program unless bye_ok (the reply to LOGOUT).
 */
static uint64_t
mf_wait(struct mf_conn *c, int tag, bool bye_ok)
{
	uint64_t fetches = 0, skip = 0;
	char tagstr[32];
	size_t taglen, len, avail;
	char *line, *eol;
	bool cont = false;

	taglen = (size_t)snprintf(tagstr, sizeof tagstr, "a%d ", tag);
	for (;;) {
		if (skip > 0) {
			if (c->start == c->end)
				mf_fill(c);
			avail = c->end - c->start;
			if (avail > skip)
				avail = (size_t)skip;
			c->start += avail;
			skip -= avail;
			continue;
		}
		eol = c->start < c->end ? memchr(c->buf + c->start, '\n',
		    c->end - c->start) : NULL;
		if (eol == NULL) {
			if (c->end - c->start > MF_MAX_LINE)
				die("line longer than %d bytes", MF_MAX_LINE);
			mf_fill(c);
			continue;
		}
		line = c->buf + c->start;
		len = (size_t)(eol - line);
		c->start += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!cont) {
			if (tag == 0 && len >= 4 && memcmp(line, "* OK", 4) == 0)
				return 0;
			if (tag == 0)
				die("bad greeting: %.*s", (int)len, line);
			if (len >= taglen && memcmp(line, tagstr, taglen) == 0) {
				if (len < taglen + 2 ||
				    memcmp(line + taglen, "OK", 2) != 0)
					die("%.*s", (int)len, line);
				return fetches;
			}
			if (len > 2 && line[0] == '*' && line[1] == ' ' &&
			    memmem(line, len, " FETCH (", 8) != NULL)
				fetches++;
			if (!bye_ok && len >= 5 && memcmp(line, "* BYE", 5) == 0)
				die("%.*s", (int)len, line);
		}
		/* A line ending in {N} goes on after N bytes of literal. */
		cont = false;
		if (len >= 3 && line[len - 1] == '}') {
			char *p = line + len - 2;
			uint64_t n = 0, mul = 1;

			while (p > line && *p >= '0' && *p <= '9') {
				if (mul > UINT64_C(1000000000000))
					die("literal too large");
				n += (uint64_t)(*p - '0') * mul;
				mul *= 10;
				p--;
			}
			if (*p == '{' && p < line + len - 2) {
				skip = n;
				cont = true;
			}
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: minfetch [-c CAFILE] [-f FOLDER] [-q] HOST "
	    "PORT USER\n(password in $MINFETCH_PASSWORD)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct mf_conn c;
	const char *cafile = NULL, *folder = "INBOX", *pass;
	double t0, t_tls, t_login, t_select, t_fetch, t_end;
	uint64_t n;
	int ch, quiet = 0, r;

	while ((ch = getopt(argc, argv, "c:f:q")) != -1) {
		switch (ch) {
		case 'c':
			cafile = optarg;
			break;
		case 'f':
			folder = optarg;
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
	if ((pass = getenv("MINFETCH_PASSWORD")) == NULL)
		die("MINFETCH_PASSWORD is not set");
	if (strpbrk(pass, "\"\\\r\n") != NULL ||
	    strpbrk(argv[2], "\"\\\r\n") != NULL ||
	    strpbrk(folder, "\"\\\r\n") != NULL)
		die("user, password and folder must not contain \" \\ or "
		    "line breaks");

	memset(&c, 0, sizeof c);
	if ((c.buf = malloc(MF_BUFSIZE)) == NULL)
		die("out of memory");
	gnutls_global_init();
	t0 = now();
	c.fd = mf_connect_tcp(argv[0], argv[1]);
	mf_tls(&c, argv[0], cafile);
	mf_wait(&c, 0, false);
	t_tls = now();
	mf_send(&c, "a1 LOGIN \"%s\" \"%s\"\r\n", argv[2], pass);
	mf_wait(&c, 1, false);
	t_login = now();
	mf_send(&c, "a2 SELECT \"%s\"\r\n", folder);
	mf_wait(&c, 2, false);
	t_select = now();
	mf_send(&c, "a3 UID FETCH 1:* " MF_FETCH_ITEMS "\r\n");
	n = mf_wait(&c, 3, false);
	t_fetch = now();
	mf_send(&c, "a4 LOGOUT\r\n");
	mf_wait(&c, 4, true);
	do {
		r = gnutls_bye(c.tls, GNUTLS_SHUT_WR);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	close(c.fd);
	t_end = now();
	if (!quiet)
		printf("minfetch: messages=%" PRIu64 " bytes=%" PRIu64
		    " total=%.3f connect+tls=%.3f login=%.3f select=%.3f "
		    "fetch=%.3f logout=%.3f\n", n, c.bytes, t_end - t0,
		    t_tls - t0, t_login - t_tls, t_select - t_login,
		    t_fetch - t_select, t_end - t_fetch);
	gnutls_deinit(c.tls);
	gnutls_certificate_free_credentials(c.cred);
	gnutls_global_deinit();
	free(c.buf);
	return 0;
}
