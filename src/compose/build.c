/*
 * The bytes of a message to send: see compose.h. Everything here is
 * written so that nothing the user (or a quoted message) typed can end a
 * header early or start a new one: values with CR or LF are refused, and
 * the body's line ends are all made CRLF before it is encoded.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "log.h"
#include "mime.h"
#include "xmalloc.h"

#define LINE_MAX_SOFT	78	/* RFC 5322 2.1.1: SHOULD */
#define LINE_MAX_HARD	998	/* MUST */
#define EW_BYTES	45	/* UTF-8 bytes per encoded word: 60 base64 */
#define ATTACH_MAX	(64 * 1024 * 1024)

static bool
is_ascii_text(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80 || ((unsigned char)s[i] < 0x20 &&
		    s[i] != '\t'))
			return false;
	return true;
}

/* Length of the UTF-8 sequence starting with c (1 for a stray byte). */
static size_t
utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return 3;
	if (c >= 0xc0)
		return 2;
	return 1;
}

static void
b64_add(struct buf *b, const void *data, size_t len)
{
	gnutls_datum_t	in = { (unsigned char *)(uintptr_t)data, (unsigned)len };
	gnutls_datum_t	out;

	if (len == 0)
		return;
	if (gnutls_base64_encode2(&in, &out) != 0)
		fatalx("%s: base64 failed", __func__);
	buf_add(b, out.data, out.size);
	gnutls_free(out.data);
}

/*
 * Text as RFC 2047 words, =?UTF-8?B?...?=, each of at most EW_BYTES bytes
 * cut between characters, folded onto continuation lines; col is the
 * column the first word starts at.
 */
static void
encoded_words(struct buf *b, const char *s, size_t len, size_t col)
{
	size_t	i = 0, n, k;

	while (i < len) {
		for (n = 0; i + n < len;) {
			k = utf8_len((unsigned char)s[i + n]);
			if (n + k > EW_BYTES || i + n + k > len)
				break;
			n += k;
		}
		if (n == 0)
			n = 1;		/* a broken sequence: a byte at a time */
		if (i > 0 || col + 12 + (n + 2) / 3 * 4 > LINE_MAX_SOFT) {
			if (i > 0 || col > 1) {
				buf_adds(b, "\r\n ");
				col = 1;
			}
		}
		buf_adds(b, "=?UTF-8?B?");
		b64_add(b, s + i, n);
		buf_adds(b, "?=");
		col += 12 + (n + 2) / 3 * 4;
		i += n;
	}
}

/* ASCII text folded at its spaces to keep lines at 78 where it can. */
static void
fold_ascii(struct buf *b, const char *s, size_t col)
{
	const char	*w;
	size_t		 wl;
	bool		 first = true;

	while (*s != '\0') {
		w = s;
		wl = strcspn(s, " ");
		if (!first && col + 1 + wl > LINE_MAX_SOFT) {
			buf_adds(b, "\r\n");
			col = 0;
		}
		if (!first) {
			buf_addc(b, ' ');
			col++;
		}
		buf_add(b, w, wl);
		col += wl;
		first = false;
		s += wl;
		while (*s == ' ')
			s++;
	}
}

/* A display name: as it is, quoted, or encoded. */
static void
display_name(struct buf *b, const char *name, size_t *colp)
{
	size_t	before = b->len, i;

	if (!is_ascii_text(name, strlen(name)) || strstr(name, "=?") != NULL) {
		encoded_words(b, name, strlen(name), *colp);
	} else if (strpbrk(name, "()<>[]:;@\\,.\"") == NULL) {
		buf_adds(b, name);
	} else {
		buf_addc(b, '"');
		for (i = 0; name[i] != '\0'; i++) {
			if (name[i] == '"' || name[i] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, name[i]);
		}
		buf_addc(b, '"');
	}
	*colp += b->len - before;
}

int
compose_header(struct buf *b, const char *name, const char *value,
    bool addresses, struct error *err)
{
	struct mime_addr	*a = NULL;
	size_t			 n, i, col;

	if (value == NULL || *value == '\0')
		return 0;
	if (strpbrk(value, "\r\n") != NULL)
		return error_set(err, ERR_USAGE, "%s: a line break in a header "
		    "would start another header; refused", name);
	buf_printf(b, "%s: ", name);
	col = strlen(name) + 2;
	if (!addresses) {
		/* "=?" in plain text would be read as an encoded word. */
		if (is_ascii_text(value, strlen(value)) &&
		    strstr(value, "=?") == NULL)
			fold_ascii(b, value, col);
		else
			encoded_words(b, value, strlen(value), col);
		buf_adds(b, "\r\n");
		return 0;
	}
	n = mime_parse_addresses(value, strlen(value), &a);
	if (n == 0) {
		mime_addrs_free(a, n);
		b->len -= strlen(name) + 2;
		return error_set(err, ERR_USAGE, "%s: no address in \"%.100s\"",
		    name, value);
	}
	for (i = 0; i < n; i++) {
		if (a[i].addr == NULL)
			continue;
		if (strpbrk(a[i].addr, " \t\"<>,") != NULL) {
			mime_addrs_free(a, n);
			return error_set(err, ERR_USAGE, "%s: not an address: "
			    "\"%.100s\"", name, a[i].addr);
		}
		if (i > 0) {
			buf_addc(b, ',');
			col++;
			/* Another address on its own line when it would not fit. */
			if (col + strlen(a[i].addr) + (a[i].name != NULL ?
			    strlen(a[i].name) + 3 : 0) + 1 > LINE_MAX_SOFT) {
				buf_adds(b, "\r\n");
				col = 0;
			}
			buf_addc(b, ' ');
			col++;
		}
		if (a[i].name != NULL && *a[i].name != '\0') {
			display_name(b, a[i].name, &col);
			buf_printf(b, " <%s>", a[i].addr);
			col += strlen(a[i].addr) + 3;
		} else {
			buf_adds(b, a[i].addr);
			col += strlen(a[i].addr);
		}
	}
	mime_addrs_free(a, n);
	buf_adds(b, "\r\n");
	return 0;
}

char *
compose_message_id(const char *domain)
{
	unsigned char	 r[12];
	char		*id, hex[25];
	size_t		 i;

	if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof r) != 0)
		fatalx("%s: gnutls_rnd failed", __func__);
	for (i = 0; i < sizeof r; i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	xasprintf(&id, "<%lld.%s@%s>", (long long)time(NULL), hex,
	    domain != NULL && *domain != '\0' ? domain : "petrel.invalid");
	return id;
}

char *
compose_mime_type(const char *mime_types, const char *filename)
{
	const char	*dot = strrchr(filename, '.');
	char		 line[1024], *type, *ext, *save;
	FILE		*f;

	if (dot == NULL || dot[1] == '\0' || strchr(dot, '/') != NULL)
		return xstrdup("application/octet-stream");
	if ((f = fopen(mime_types != NULL ? mime_types : "/etc/mime.types",
	    "re")) == NULL)
		return xstrdup("application/octet-stream");
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] == '#')
			continue;
		if ((type = strtok_r(line, " \t\r\n", &save)) == NULL)
			continue;
		while ((ext = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strcasecmp_ascii(ext, dot + 1) == 0) {
				fclose(f);
				return xstrdup(type);
			}
		}
	}
	fclose(f);
	return xstrdup("application/octet-stream");
}

/* The body with every line end CRLF (bare CR and bare LF too). */
static void
crlf_lines(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\r') {
			if (s[1] == '\n')
				s++;
			buf_adds(out, "\r\n");
		} else if (*s == '\n')
			buf_adds(out, "\r\n");
		else
			buf_addc(out, *s);
	}
	if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		buf_adds(out, "\r\n");
}

/*
 * format=flowed (RFC 3676): long lines broken at spaces with the space
 * left at the end of the line (a soft break), lines that start with a
 * space, ">" or "From " space-stuffed. Quoted lines are not rewrapped.
 */
static void
flow(struct buf *out, const struct buf *in)
{
	const char	*p = in->data, *end = in->data + in->len, *e, *cut, *q;
	size_t		 n;

	while (p < end) {
		e = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (e == NULL)
			e = end;
		/* Trailing spaces would read as soft breaks: drop them. */
		while (e > p && e[-1] == ' ')
			e--;
		while ((size_t)(e - p) > 72 && *p != '>') {
			cut = NULL;
			for (q = p + 72; q > p; q--)
				if (*q == ' ') {
					cut = q;
					break;
				}
			if (cut == NULL)
				break;		/* one long word: left long */
			if (*p == ' ' || (e - p >= 5 && memcmp(p, "From ", 5) == 0))
				buf_addc(out, ' ');
			buf_add(out, p, (size_t)(cut + 1 - p));
			buf_adds(out, "\r\n");
			p = cut + 1;
		}
		n = (size_t)(e - p);
		if (n > 0 && (*p == ' ' || (n >= 5 && memcmp(p, "From ", 5) ==
		    0)))
			buf_addc(out, ' ');
		buf_add(out, p, n);
		buf_adds(out, "\r\n");
		p = memmem(p, (size_t)(end - p), "\r\n", 2);
		p = p == NULL ? end : p + 2;
	}
}

/* Quoted-printable (RFC 2045 6.7) of CRLF text, lines of at most 76. */
static void
qp(struct buf *out, const struct buf *in)
{
	const unsigned char	*p = (const unsigned char *)in->data;
	size_t			 i, col = 0;
	bool			 eol;

	for (i = 0; i < in->len; i++) {
		if (p[i] == '\r' && i + 1 < in->len && p[i + 1] == '\n') {
			buf_adds(out, "\r\n");
			col = 0;
			i++;
			continue;
		}
		eol = i + 1 == in->len || (p[i + 1] == '\r' && i + 2 < in->len &&
		    p[i + 2] == '\n');
		if (col >= 73) {
			buf_adds(out, "=\r\n");
			col = 0;
		}
		/* "From " and a lone "." at a line start are safe as they are
		 * in QP; a space before the line end is not. */
		if ((p[i] >= 33 && p[i] <= 126 && p[i] != '=') ||
		    ((p[i] == ' ' || p[i] == '\t') && !eol)) {
			buf_addc(out, (char)p[i]);
			col++;
		} else {
			buf_printf(out, "=%02X", p[i]);
			col += 3;
		}
	}
}

static bool
has_8bit(const struct buf *b)
{
	size_t	i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] >= 0x80)
			return true;
	return false;
}

static bool
long_lines(const struct buf *b)
{
	const char	*p = b->data, *end = b->data + b->len, *e;

	while (p < end) {
		if ((e = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			e = end;
		if (e - p > LINE_MAX_HARD)
			return true;
		p = e + 2;
	}
	return false;
}

/* The text part's headers and body. */
static void
text_part(const struct compose_msg *m, struct buf *out)
{
	struct buf	 lines = BUF_INIT(0), flowed = BUF_INIT(0), *body;
	const char	*cte;

	crlf_lines(&lines, m->body != NULL ? m->body : "");
	body = &lines;
	if (m->flowed) {
		flow(&flowed, &lines);
		body = &flowed;
	}
	/* 7bit when it is ASCII, 8bit where the server takes it, else QP;
	 * QP too for a line too long for SMTP. */
	if (long_lines(body))
		cte = "quoted-printable";
	else if (!has_8bit(body))
		cte = "7bit";
	else
		cte = m->eightbit ? "8bit" : "quoted-printable";
	buf_printf(out, "Content-Type: text/plain; charset=utf-8%s\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", m->flowed ?
	    "; format=flowed" : "", cte);
	if (strcmp(cte, "quoted-printable") == 0)
		qp(out, body);
	else
		buf_add(out, body->data, body->len);
	buf_free(&lines);
	buf_free(&flowed);
}

/* RFC 2231: name*=UTF-8''percent-encoded, or a plain quoted name. */
static void
param_name(struct buf *b, const char *param, const char *name)
{
	size_t	i;

	if (is_ascii_text(name, strlen(name)) && strpbrk(name, "\"\\") == NULL) {
		buf_printf(b, "; %s=\"%s\"", param, name);
		return;
	}
	buf_printf(b, "; %s*=UTF-8''", param);
	for (i = 0; name[i] != '\0'; i++) {
		unsigned char c = (unsigned char)name[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* A message forwarded whole: its bytes, line ends CRLF, unencoded. */
static void
attach_message(const struct compose_part *p, const char *boundary,
    struct buf *out)
{
	const char	*q = p->data, *end = p->data + p->len, *nl;
	bool		 eight = false;
	size_t		 i, n;

	for (i = 0; i < p->len && !eight; i++)
		eight = (unsigned char)p->data[i] >= 0x80;
	buf_printf(out, "\r\n--%s\r\nContent-Type: message/rfc822\r\n"
	    "Content-Disposition: inline\r\n", boundary);
	if (eight)
		buf_adds(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_adds(out, "\r\n");
	while (q < end) {
		if ((nl = memchr(q, '\n', (size_t)(end - q))) == NULL)
			nl = end;
		n = (size_t)(nl - q);
		if (n > 0 && q[n - 1] == '\r')
			n--;
		buf_add(out, q, n);
		buf_adds(out, "\r\n");
		q = nl < end ? nl + 1 : end;
	}
}

static int
attach(const struct compose_part *p, const char *boundary, struct buf *out,
    struct error *err)
{
	struct buf	 data = BUF_INIT(ATTACH_MAX), enc = BUF_INIT(0);
	char		 chunk[65536], *type = NULL;
	const char	*name = p->name != NULL ? p->name : p->path == NULL ?
			    "" : strrchr(p->path, '/') != NULL ?
			    strrchr(p->path, '/') + 1 : p->path;
	ssize_t		 n;
	size_t		 i;
	int		 fd;

	if (p->path == NULL) {
		attach_message(p, boundary, out);
		return 0;
	}
	if (strpbrk(name, "\r\n") != NULL)
		return error_set(err, ERR_USAGE, "attachment name with a line "
		    "break");
	if ((fd = open(p->path, O_RDONLY | O_CLOEXEC)) == -1)
		return error_set(err, ERR_LOCAL, "attachment %s: %s", p->path,
		    strerror(errno));
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		if (buf_add(&data, chunk, (size_t)n) == -1) {
			close(fd);
			buf_free(&data);
			return error_set(err, ERR_USAGE, "attachment %s: larger "
			    "than %d MB", p->path, ATTACH_MAX >> 20);
		}
	close(fd);
	if (n == -1) {
		buf_free(&data);
		return error_set(err, ERR_LOCAL, "attachment %s: %s", p->path,
		    strerror(errno));
	}
	if (p->type == NULL)
		type = compose_mime_type(NULL, name);
	buf_printf(out, "\r\n--%s\r\nContent-Type: %s", boundary,
	    p->type != NULL ? p->type : type);
	param_name(out, "name", name);
	buf_adds(out, "\r\nContent-Disposition: attachment");
	param_name(out, "filename", name);
	buf_adds(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n");
	b64_add(&enc, data.data, data.len);
	for (i = 0; i < enc.len; i += 76) {
		buf_add(out, enc.data + i, enc.len - i < 76 ? enc.len - i : 76);
		buf_adds(out, "\r\n");
	}
	free(type);
	buf_free(&data);
	buf_free(&enc);
	return 0;
}

static void
rfc5322_date(struct buf *b, int64_t t, int tzoff)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t		 local = (time_t)(t + tzoff * 60);
	struct tm	 tm;
	int		 off = tzoff < 0 ? -tzoff : tzoff;

	gmtime_r(&local, &tm);
	buf_printf(b, "Date: %s, %02d %s %d %02d:%02d:%02d %c%02d%02d\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, tzoff < 0 ? '-' : '+', off / 60,
	    off % 60);
}

int
compose_build(const struct compose_msg *m, enum compose_copy copy,
    struct buf *out, struct error *err)
{
	struct mime_addr	*from = NULL;
	char			*msgid = NULL, *boundary = NULL;
	const char		*at;
	size_t			 nfrom, i;
	int			 rv = -1;

	nfrom = m->from != NULL ? mime_parse_addresses(m->from,
	    strlen(m->from), &from) : 0;
	if (nfrom == 0 || from[0].addr == NULL ||
	    strchr(from[0].addr, '@') == NULL) {
		mime_addrs_free(from, nfrom);
		return error_set(err, ERR_USAGE, "no From address");
	}
	if ((m->in_reply_to != NULL && strpbrk(m->in_reply_to, "\r\n")) ||
	    (m->references != NULL && strpbrk(m->references, "\r\n")) ||
	    (m->message_id != NULL && strpbrk(m->message_id, "\r\n"))) {
		error_set(err, ERR_USAGE, "a line break in a message id");
		goto out;
	}
	at = strrchr(from[0].addr, '@');
	msgid = m->message_id != NULL ? xstrdup(m->message_id) :
	    compose_message_id(at != NULL ? at + 1 : NULL);
	rfc5322_date(out, m->date != 0 ? m->date : (int64_t)time(NULL),
	    m->tzoff_min);
	if (compose_header(out, "From", m->from, true, err) == -1 ||
	    compose_header(out, "To", m->to, true, err) == -1 ||
	    compose_header(out, "Cc", m->cc, true, err) == -1 ||
	    (copy == COMPOSE_FILE && compose_header(out, "Bcc", m->bcc, true,
	    err) == -1) ||
	    compose_header(out, "Subject", m->subject, false, err) == -1)
		goto out;
	/* Bcc is checked even when it is not written. */
	if (copy == COMPOSE_SEND && m->bcc != NULL && strpbrk(m->bcc, "\r\n")) {
		error_set(err, ERR_USAGE, "Bcc: a line break; refused");
		goto out;
	}
	buf_printf(out, "Message-ID: %s\r\n", msgid);
	if (m->in_reply_to != NULL && *m->in_reply_to != '\0')
		buf_printf(out, "In-Reply-To: %s\r\n", m->in_reply_to);
	if (m->references != NULL && *m->references != '\0')
		compose_header(out, "References", m->references, false, err);
	buf_adds(out, "MIME-Version: 1.0\r\nUser-Agent: petrel\r\n");
	if (m->nparts == 0) {
		text_part(m, out);
		rv = 0;
		goto out;
	}
	{
		unsigned char	r[12];
		char		hex[25];

		if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof r) != 0)
			fatalx("%s: gnutls_rnd failed", __func__);
		for (i = 0; i < sizeof r; i++)
			snprintf(hex + 2 * i, 3, "%02x", r[i]);
		/* "=_" cannot occur in base64 or in quoted-printable text. */
		xasprintf(&boundary, "=_petrel_%s", hex);
	}
	buf_printf(out, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
	    "This is a message in MIME format.\r\n\r\n--%s\r\n", boundary,
	    boundary);
	text_part(m, out);
	for (i = 0; i < m->nparts; i++)
		if (attach(&m->parts[i], boundary, out, err) == -1)
			goto out;
	buf_printf(out, "\r\n--%s--\r\n", boundary);
	rv = 0;
out:
	mime_addrs_free(from, nfrom);
	free(msgid);
	free(boundary);
	return rv;
}
