/* Errors, strings, numbers, time and paths. */
#include <sys/stat.h>

#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "util.h"
#include "xmalloc.h"

void
error_clear(struct error *err)
{
	if (err == NULL)
		return;
	err->cls = ERR_NONE;
	err->msg[0] = '\0';
}

int
error_vset(struct error *err, enum err_class cls, const char *fmt, va_list ap)
{
	if (err == NULL)
		return -1;
	err->cls = cls;
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	return -1;
}

int
error_set(struct error *err, enum err_class cls, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	error_vset(err, cls, fmt, ap);
	va_end(ap);
	return -1;
}

int
error_append(struct error *err, const char *fmt, ...)
{
	va_list	ap;
	size_t	n;

	if (err == NULL)
		return -1;
	n = strnlen(err->msg, sizeof err->msg - 1);
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
	va_end(ap);
	return -1;
}

int
error_prefix(struct error *err, const char *fmt, ...)
{
	va_list	ap;
	char	pre[512];
	size_t	plen, mlen, cap = sizeof err->msg;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	plen = strlen(pre);
	if (plen + 2 >= cap)
		return -1;
	/* Shift the old message right and put "pre: " in front of it. */
	mlen = strnlen(err->msg, cap - 1);
	if (mlen > cap - 1 - plen - 2)
		mlen = cap - 1 - plen - 2;
	memmove(err->msg + plen + 2, err->msg, mlen);
	err->msg[plen + 2 + mlen] = '\0';
	memcpy(err->msg, pre, plen);
	err->msg[plen] = ':';
	err->msg[plen + 1] = ' ';
	return -1;
}

const char *
error_class_name(enum err_class cls)
{
	switch (cls) {
	case ERR_NONE:		return "none";
	case ERR_TRANSIENT:	return "network";
	case ERR_AUTH:		return "authentication";
	case ERR_TLS:		return "tls";
	case ERR_PROTO:		return "protocol";
	case ERR_CONFIG:	return "config";
	case ERR_LOCAL:		return "local";
	case ERR_USAGE:		return "usage";
	}
	return "unknown";
}

int
parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -1;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static inline int
lower_ascii(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int
strncasecmp_ascii(const char *a, const char *b, size_t n)
{
	size_t	i;
	int	d;

	/* Equal bytes are the common case (names as servers spell them). */
	for (i = 0; i < n; i++) {
		if (a[i] == b[i]) {
			if (a[i] == '\0')
				return 0;
			continue;
		}
		d = lower_ascii((unsigned char)a[i]) -
		    lower_ascii((unsigned char)b[i]);
		if (d != 0)
			return d;
	}
	return 0;
}

int
strcasecmp_ascii(const char *a, const char *b)
{
	return strncasecmp_ascii(a, b, SIZE_MAX);
}

bool
has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp_ascii(s, prefix, strlen(prefix)) == 0;
}

uint64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
days_from_civil(int y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	/* Howard Hinnant's algorithm: exact for every Gregorian date. */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
format_rfc3339(char out[32], int64_t t, int tzoff_min)
{
	struct tm	tm;
	time_t		local = (time_t)(t + (int64_t)tzoff_min * 60);
	int		off = tzoff_min < 0 ? -tzoff_min : tzoff_min;

	gmtime_r(&local, &tm);
	if (tzoff_min == 0)
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else {
		size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out + n, 32 - n, "%c%02d:%02d",
		    tzoff_min < 0 ? '-' : '+', off / 60, off % 60);
	}
}

int
mkdir_p(const char *path, int mode)
{
	char	*p, *s;
	int	 rv = 0;

	p = xstrdup(path);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) == -1 && errno != EEXIST) {
			rv = -1;
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rv;
}

static char *
path_xdg(const char *var, const char *fallback)
{
	const char	*v, *home;
	char		*p;

	if ((v = getenv(var)) != NULL && *v == '/')
		return xstrdup(v);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = "/";
	xasprintf(&p, "%s/%s", home, fallback);
	return p;
}

char *
path_cache_dir(struct error *err)
{
	char	*base, *dir;

	base = path_xdg("XDG_CACHE_HOME", ".cache");
	xasprintf(&dir, "%s/petrel", base);
	free(base);
	if (mkdir_p(dir, 0700) == -1) {
		error_set(err, ERR_LOCAL, "cannot create %s: %s", dir,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

char *
path_config_file(void)
{
	char	*base, *p;

	base = path_xdg("XDG_CONFIG_HOME", ".config");
	xasprintf(&p, "%s/petrel/config", base);
	free(base);
	return p;
}

char *
path_data_file(const char *rel)
{
	char	*base, *p;

	base = path_xdg("XDG_DATA_HOME", ".local/share");
	xasprintf(&p, "%s/petrel/%s", base, rel);
	free(base);
	return p;
}

int
mkdir_parents(const char *path, struct error *err)
{
	char	*dir = xstrdup(path), *slash;
	int	 rv = 0;

	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir_p(dir, 0700) == -1)
			rv = error_set(err, ERR_LOCAL, "cannot create %s: %s",
			    dir, strerror(errno));
	}
	free(dir);
	return rv;
}

int
write_file_private(const char *path, const void *data, size_t len,
    struct error *err)
{
	char	*tmp;
	int	 fd, rv = -1;

	if (mkdir_parents(path, err) == -1)
		return -1;
	xasprintf(&tmp, "%s.tmp%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1) {
		error_set(err, ERR_LOCAL, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	errno = 0;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) == -1) {
		error_set(err, ERR_LOCAL, "%s: %s", tmp,
		    strerror(errno != 0 ? errno : EIO));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) == -1) {
		error_set(err, ERR_LOCAL, "%s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rv = 0;
out:
	free(tmp);
	return rv;
}

void
json_add_string(struct buf *b, const char *s, size_t len)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	buf_addc(b, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':  buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char	u[7] = { '\\', 'u', '0', '0',
				    hex[c >> 4], hex[c & 15], 0 };
				buf_adds(b, u);
			} else
				buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

char **
argv_split(const char *line, int *argcp, struct error *err)
{
	struct buf	  w = BUF_INIT(0);
	char		**v = NULL;
	const char	 *p = line;
	int		  n = 0;
	bool		  inword = false;
	char		  quote = 0;

	for (;; p++) {
		if (*p == '\0' || (quote == 0 && (*p == ' ' || *p == '\t' ||
		    *p == '\n'))) {
			if (*p == '\0' && quote != 0) {
				error_set(err, ERR_CONFIG, "unclosed %c in "
				    "\"%s\"", quote, line);
				goto fail;
			}
			if (inword) {
				v = xreallocarray(v, (size_t)n + 2, sizeof *v);
				v[n++] = xstrndup(w.data != NULL ? w.data : "",
				    w.len);
				v[n] = NULL;
				buf_reset(&w);
				inword = false;
			}
			if (*p == '\0')
				break;
			continue;
		}
		inword = true;
		if (quote == '\'') {
			if (*p == '\'')
				quote = 0;
			else
				buf_addc(&w, *p);
		} else if (*p == '\\' && p[1] != '\0' && (quote == 0 ||
		    strchr("\"\\$`", p[1]) != NULL)) {
			buf_addc(&w, *++p);
		} else if (quote == '"' && *p == '"')
			quote = 0;
		else if (quote == 0 && (*p == '\'' || *p == '"'))
			quote = *p;
		else
			buf_addc(&w, *p);
	}
	buf_free(&w);
	if (n == 0) {
		error_set(err, ERR_CONFIG, "empty command");
		return NULL;
	}
	if (argcp != NULL)
		*argcp = n;
	return v;
fail:
	buf_free(&w);
	argv_free(v);
	return NULL;
}

void
argv_free(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
read_all(int fd, size_t max, char **datap, size_t *lenp)
{
	struct buf	 b;
	struct stat	 st;
	ssize_t		 n;
	char		*w;
	size_t		 chunk = 1 << 20;

	*datap = NULL;
	*lenp = 0;
	buf_init(&b, max);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max) {
			errno = EFBIG;
			return -1;
		}
		/* The exact size, plus one byte to see the end. */
		chunk = (size_t)st.st_size + 1;
	}
	for (;;) {
		if ((w = buf_reserve(&b, chunk)) == NULL) {
			if (b.len >= max) {
				buf_free(&b);
				errno = EFBIG;
				return -1;
			}
			chunk = max - b.len;
			continue;
		}
		if ((n = read(fd, w, chunk)) == -1) {
			if (errno == EINTR)
				continue;
			n = errno;
			buf_free(&b);
			errno = (int)n;
			return -1;
		}
		if (n == 0)
			break;
		buf_commit(&b, (size_t)n);
		if (chunk < (1 << 20))
			chunk = 1 << 20;
	}
	buf_add(&b, "", 0);	/* a NUL even when nothing was read */
	*datap = buf_steal(&b, lenp);
	return 0;
}
