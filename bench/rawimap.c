/*
 * rawimap: a raw IMAP client that sends a fixed list of commands, for
 * bench/triage-bench.py to compare petrel's replay of local actions with.
 * Over IMAPS (GnuTLS, the certificate verified) it reads the greeting,
 * then sends the commands of SCRIPT, one per line without the tag (rawimap
 * tags them r1, r2, ...). Lines in one paragraph (no empty line between
 * them) are pipelined: sent in one write, then their answers awaited; an
 * empty line starts the next paragraph. The line "@AUTH" stands for
 * AUTHENTICATE PLAIN with an initial response (SASL-IR). Responses are only
 * split into lines (literals skipped): untagged ones are counted, a tagged
 * NO or BAD ends the program with status 1, and an untagged BYE is allowed
 * only in answer to LOGOUT.
 *
 * usage: rawimap [-c CAFILE] [-q] HOST PORT USER SCRIPT
 * The password comes from $RAWIMAP_PASSWORD. Prints one line: commands,
 * untagged responses, bytes and times (connect+tls, auth, the rest).
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

#define RI_BUFSIZE	(256 * 1024)
#define RI_MAX_LINE	(64 * 1024)	/* a non-literal line longer is an error */
#define RI_TIMEOUT	120		/* seconds */
#define RI_CMDS_MAX	10000
#define RI_SEND_MAX	(1024 * 1024)	/* one paragraph, tagged */

struct ri_conn {
	int			 fd;
	gnutls_session_t	 tls;
	gnutls_certificate_credentials_t cred;
	char			*buf;
	size_t			 start;		/* unread data: buf[start..end) */
	size_t			 end;
	uint64_t		 bytes;		/* received in total */
	uint64_t		 untagged;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("rawimap: ", stderr);
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
ri_connect_tcp(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { RI_TIMEOUT, 0 };
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
ri_tls(struct ri_conn *c, const char *host, const char *cafile)
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
ri_send(struct ri_conn *c, const char *data, size_t len)
{
	ssize_t	w;
	size_t	off = 0;

	while (off < len) {
		w = gnutls_record_send(c->tls, data + off, len - off);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w < 0)
			die("send: %s", gnutls_strerror((int)w));
		off += (size_t)w;
	}
}

/* Read more data into the buffer (compacting it first). */
static void
ri_fill(struct ri_conn *c)
{
	ssize_t r;

	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	if (c->end == RI_BUFSIZE)
		die("line longer than %d bytes", RI_MAX_LINE);
	do {
		r = gnutls_record_recv(c->tls, c->buf + c->end,
		    RI_BUFSIZE - c->end);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	if (r == 0)
		die("server closed the connection");
	if (r < 0)
		die("recv: %s", gnutls_strerror((int)r));
	c->end += (size_t)r;
	c->bytes += (uint64_t)r;
}

/*
 * Read until the tagged reply to tag (0: the greeting), counting untagged
 * responses; literals are skipped without looking at them.
 */
static void
ri_wait(struct ri_conn *c, int tag, bool bye_ok)
{
	uint64_t skip = 0;
	char tagstr[32];
	size_t taglen, len, avail;
	char *line, *eol;
	bool cont = false;

	taglen = (size_t)snprintf(tagstr, sizeof tagstr, "r%d ", tag);
	for (;;) {
		if (skip > 0) {
			if (c->start == c->end)
				ri_fill(c);
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
			if (c->end - c->start > RI_MAX_LINE)
				die("line longer than %d bytes", RI_MAX_LINE);
			ri_fill(c);
			continue;
		}
		line = c->buf + c->start;
		len = (size_t)(eol - line);
		c->start += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (!cont) {
			if (tag == 0 && len >= 4 && memcmp(line, "* OK", 4) == 0)
				return;
			if (tag == 0)
				die("bad greeting: %.*s", (int)len, line);
			if (len >= taglen && memcmp(line, tagstr, taglen) == 0) {
				if (len < taglen + 2 ||
				    memcmp(line + taglen, "OK", 2) != 0)
					die("%.*s", (int)len, line);
				return;
			}
			if (len > 0 && line[0] == '*')
				c->untagged++;
			if (len > 0 && line[0] == '+')
				die("continuation request: %.*s", (int)len,
				    line);
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
base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (i < len) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

struct ri_cmd {
	char	*text;		/* without tag and CRLF */
	int	 para;		/* paragraph number */
};

static struct ri_cmd *
read_script(const char *path, size_t *np)
{
	struct ri_cmd	*v = NULL;
	FILE		*f;
	char		*line = NULL;
	size_t		 cap = 0, n = 0, len;
	ssize_t		 r;
	int		 para = 0;
	bool		 gap = false;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	while ((r = getline(&line, &cap, f)) != -1) {
		len = (size_t)r;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0) {
			gap = true;
			continue;
		}
		if (n == RI_CMDS_MAX)
			die("%s: more than %d commands", path, RI_CMDS_MAX);
		if (gap && n > 0)
			para++;
		gap = false;
		if ((v = realloc(v, (n + 1) * sizeof *v)) == NULL ||
		    (v[n].text = strdup(line)) == NULL)
			die("out of memory");
		v[n++].para = para;
	}
	free(line);
	fclose(f);
	if (n == 0)
		die("%s: no commands", path);
	*np = n;
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: rawimap [-c CAFILE] [-q] HOST PORT USER "
	    "SCRIPT\n(password in $RAWIMAP_PASSWORD)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct ri_conn	 c;
	struct ri_cmd	*cmds;
	const char	*cafile = NULL, *pass;
	char		*out, *auth, *b64;
	size_t		 n, i, j, k, olen, alen;
	double		 t0, t_tls, t_auth = 0, t_end;
	int		 ch, quiet = 0, r;

	while ((ch = getopt(argc, argv, "c:q")) != -1) {
		switch (ch) {
		case 'c':
			cafile = optarg;
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
	if (argc != 4)
		usage();
	if ((pass = getenv("RAWIMAP_PASSWORD")) == NULL)
		die("RAWIMAP_PASSWORD is not set");
	cmds = read_script(argv[3], &n);

	/* AUTHENTICATE PLAIN's initial response: \0user\0password. */
	alen = strlen(argv[2]) + strlen(pass) + 2;
	if ((auth = malloc(alen)) == NULL ||
	    (b64 = malloc((alen + 2) / 3 * 4 + 1)) == NULL ||
	    (out = malloc(RI_SEND_MAX)) == NULL)
		die("out of memory");
	auth[0] = '\0';
	memcpy(auth + 1, argv[2], strlen(argv[2]));
	auth[strlen(argv[2]) + 1] = '\0';
	memcpy(auth + strlen(argv[2]) + 2, pass, strlen(pass));
	base64((unsigned char *)auth, alen, b64);

	memset(&c, 0, sizeof c);
	if ((c.buf = malloc(RI_BUFSIZE)) == NULL)
		die("out of memory");
	gnutls_global_init();
	t0 = now();
	c.fd = ri_connect_tcp(argv[0], argv[1]);
	ri_tls(&c, argv[0], cafile);
	ri_wait(&c, 0, false);
	t_tls = now();
	for (i = 0; i < n; i = j) {
		/* One paragraph: send it whole, then read its answers. */
		olen = 0;
		for (j = i; j < n && cmds[j].para == cmds[i].para; j++) {
			const char *text = cmds[j].text;

			if (strcmp(text, "@AUTH") == 0)
				r = snprintf(out + olen, RI_SEND_MAX - olen,
				    "r%zu AUTHENTICATE PLAIN %s\r\n", j + 1, b64);
			else
				r = snprintf(out + olen, RI_SEND_MAX - olen,
				    "r%zu %s\r\n", j + 1, text);
			if (r < 0 || (size_t)r >= RI_SEND_MAX - olen)
				die("paragraph too long");
			olen += (size_t)r;
		}
		ri_send(&c, out, olen);
		for (k = i; k < j; k++) {
			ri_wait(&c, (int)k + 1,
			    strncasecmp(cmds[k].text, "LOGOUT", 6) == 0);
			if (strcmp(cmds[k].text, "@AUTH") == 0)
				t_auth = now();
		}
	}
	do {
		r = gnutls_bye(c.tls, GNUTLS_SHUT_WR);
	} while (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED);
	close(c.fd);
	t_end = now();
	if (t_auth == 0)
		t_auth = t_tls;
	if (!quiet)
		printf("rawimap: commands=%zu untagged=%" PRIu64 " bytes=%"
		    PRIu64 " total=%.4f connect+tls=%.4f auth=%.4f rest=%.4f\n",
		    n, c.untagged, c.bytes, t_end - t0, t_tls - t0,
		    t_auth - t_tls, t_end - t_auth);
	gnutls_deinit(c.tls);
	gnutls_certificate_free_credentials(c.cred);
	gnutls_global_deinit();
	for (i = 0; i < n; i++)
		free(cmds[i].text);
	free(cmds);
	free(c.buf);
	free(out);
	free(b64);
	free(auth);
	return 0;
}
