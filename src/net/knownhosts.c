/*
 * The known-hosts file of trust on first use: one line per host:port the
 * user accepted for good, with the SHA-256 of the server's public key
 * (its SubjectPublicKeyInfo, so a renewed certificate for the same key
 * stays trusted), like ssh's known_hosts:
 *
 *	127.0.0.1:993 pin-sha256:BASE64 # 2026-12-07 CN=mail.example.org
 *
 * The file is private (0600 in a 0700 directory); it is rewritten whole
 * through a temporary file and rename(2), so a crash leaves the old or
 * the new file, never half of one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "net.h"
#include "xmalloc.h"

/* A file bigger than this is not a known-hosts file petrel wrote. */
#define KNOWNHOSTS_MAX	(1024 * 1024)

char *
knownhosts_path(void)
{
	return path_data_file("known_hosts");
}

/* The whole file into b; 0 when it does not exist yet. */
static int
knownhosts_read(const char *path, struct buf *b, struct error *err)
{
	char		 chunk[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, ERR_LOCAL, "known hosts %s: %s", path,
		    strerror(errno));
	}
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		if (b->len + (size_t)n > KNOWNHOSTS_MAX) {
			close(fd);
			return error_set(err, ERR_LOCAL, "known hosts %s: "
			    "larger than %d bytes", path, KNOWNHOSTS_MAX);
		}
		buf_add(b, chunk, (size_t)n);
	}
	close(fd);
	if (n == -1)
		return error_set(err, ERR_LOCAL, "known hosts %s: %s", path,
		    strerror(errno));
	return 0;
}

/*
 * The pin of the line [p, e) when it is for hostport: its length, else 0.
 * Blank lines and # comments are skipped.
 */
static size_t
knownhosts_match(const char *p, const char *e, const char *hostport,
    const char **pinp)
{
	size_t	hl = strlen(hostport), n;

	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	if (p == e || *p == '#')
		return 0;
	if ((size_t)(e - p) <= hl || memcmp(p, hostport, hl) != 0 ||
	    (p[hl] != ' ' && p[hl] != '\t'))
		return 0;
	p += hl;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	for (n = 0; p + n < e && p[n] != ' ' && p[n] != '\t' && p[n] != '\r';
	    n++)
		;
	*pinp = p;
	return n;
}

int
knownhosts_find(const char *path, const char *hostport, char pin[TLS_PIN_LEN],
    int *linep, struct error *err)
{
	struct buf	 b = BUF_INIT(0);
	const char	*p, *e, *end, *v;
	size_t		 n;
	int		 line = 0, rv = 0;

	if (knownhosts_read(path, &b, err) == -1) {
		buf_free(&b);
		return -1;
	}
	p = b.data;
	end = b.data + b.len;
	while (b.len > 0 && p < end) {
		line++;
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if ((n = knownhosts_match(p, e, hostport, &v)) > 0) {
			if (n >= TLS_PIN_LEN) {
				rv = error_set(err, ERR_LOCAL, "known hosts "
				    "%s:%d: not a pin", path, line);
				break;
			}
			memcpy(pin, v, n);
			pin[n] = '\0';
			if (linep != NULL)
				*linep = line;
			rv = 1;
			break;
		}
		p = e + 1;
	}
	buf_free(&b);
	return rv;
}

int
knownhosts_add(const char *path, const char *hostport, const char *pin,
    const char *comment, struct error *err)
{
	struct buf	 old = BUF_INIT(0), out = BUF_INIT(0);
	const char	*p, *e, *end, *v;
	char		 day[16];
	struct tm	 tm;
	time_t		 now = time(NULL);
	size_t		 i;
	int		 rv;

	if (knownhosts_read(path, &old, err) == -1) {
		buf_free(&old);
		return -1;
	}
	/* Keep every other line as it was; this host:port's goes. */
	p = old.data;
	end = old.data + old.len;
	while (old.len > 0 && p < end) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		if (knownhosts_match(p, e, hostport, &v) == 0) {
			buf_add(&out, p, (size_t)(e - p));
			buf_addc(&out, '\n');
		}
		p = e + 1;
	}
	if (out.len == 0)
		buf_adds(&out, "# Servers whose certificates petrel was told to "
		    "trust (trust on first use).\n# host:port, then the "
		    "SHA-256 of the server's public key; delete a line to\n"
		    "# be asked again.\n");
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	buf_printf(&out, "%s %s # %s ", hostport, pin, day);
	/* The comment is the server's text: one printable line. */
	for (i = 0; comment != NULL && comment[i] != '\0' && i < 200; i++)
		buf_addc(&out, (unsigned char)comment[i] < 0x20 ||
		    comment[i] == 0x7f ? '?' : comment[i]);
	buf_addc(&out, '\n');

	rv = write_file_private(path, out.data, out.len, err);
	buf_free(&old);
	buf_free(&out);
	return rv;
}
