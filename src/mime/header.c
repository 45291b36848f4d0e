/*
 * Header fields: walking a header block, and decoding unstructured values
 * (unfolding, RFC 2047 encoded words, raw 8-bit text) to UTF-8.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

/* Length of the line break at p (CRLF, LF or a lone CR), 0 if none. */
static size_t
hdr_eol(const char *p, const char *end)
{
	if (p >= end)
		return 0;
	if (*p == '\n')
		return 1;
	if (*p == '\r')
		return p + 1 < end && p[1] == '\n' ? 2 : 1;
	return 0;
}

/*
 * The end of the line that starts at p (at its line break or at end). A
 * byte loop, not memchr for each of CR and LF: with CR-only line ends a
 * search for LF would run to the end of the block for every line.
 */
static const char *
hdr_line_end(const char *p, const char *end)
{
	const char	*lf, *cr;

	/* Two vectorised scans beat a byte loop on long header blocks. */
	if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
		lf = end;
	if ((cr = memchr(p, '\r', (size_t)(lf - p))) != NULL)
		return cr;
	return lf;
}

void
mime_hdr_iter_init(struct mime_hdr_iter *it, const char *block, size_t len)
{
	it->p = block;
	it->end = block + len;
}

/*
 * One field per call. Lines that cannot start a field (no colon, a bad field
 * name, a stray continuation at the top, an mbox "From " line) are skipped.
 * At the end, it->p is left at the first byte of the body.
 */
int
mime_hdr_next(struct mime_hdr_iter *it, const char **name, size_t *namelen,
    const char **value, size_t *valuelen)
{
	const char	*p, *le, *colon, *n, *ne, *v, *ve;
	size_t		 eol;

	for (;;) {
		p = it->p;
		if (p >= it->end) {
			it->p = it->end;
			return 0;
		}
		if ((eol = hdr_eol(p, it->end)) != 0) {
			/* The empty line: the header ends, the body follows. */
			it->p = it->end = p + eol;
			return 0;
		}
		le = hdr_line_end(p, it->end);
		it->p = le + hdr_eol(le, it->end);
		if (*p == ' ' || *p == '\t')
			continue;
		if ((colon = memchr(p, ':', (size_t)(le - p))) == NULL)
			continue;
		n = p;
		ne = colon;
		while (ne > n && (ne[-1] == ' ' || ne[-1] == '\t'))
			ne--;
		if (ne == n)
			continue;
		for (v = n; v < ne; v++)
			if ((unsigned char)*v <= 32 || (unsigned char)*v >= 127)
				break;
		if (v < ne)
			continue;
		v = colon + 1;
		while (v < le && (*v == ' ' || *v == '\t'))
			v++;
		ve = le;
		/* Continuation lines start with a blank. */
		while (it->p < it->end && (*it->p == ' ' || *it->p == '\t')) {
			le = hdr_line_end(it->p, it->end);
			ve = le;
			it->p = le + hdr_eol(le, it->end);
		}
		if (v > ve)
			v = ve;
		*name = n;
		*namelen = (size_t)(ne - n);
		*value = v;
		*valuelen = (size_t)(ve - v);
		return 1;
	}
}

int
mime_hdr_find(const char *block, size_t len, const char *want,
    const char **value, size_t *valuelen)
{
	struct mime_hdr_iter	 it;
	const char		*n;
	size_t			 nl, wl = strlen(want);

	mime_hdr_iter_init(&it, block, len);
	while (mime_hdr_next(&it, &n, &nl, value, valuelen))
		if (nl == wl && strncasecmp_ascii(n, want, wl) == 0)
			return 0;
	return -1;
}

/* ---- RFC 2047 -------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* An encoded word found in a value. */
struct ew {
	const char	*start, *end;		/* the whole =?...?= */
	const char	*cs;			/* charset label */
	size_t		 cslen;
	char		 enc;			/* 'B' or 'Q' */
	const char	*text;
	size_t		 textlen;
};

/*
 * Is there a well-formed encoded word at p? The text may not hold blanks
 * or '?'; the charset must be non-empty. Decoders that also accept words
 * glued to other text are what users expect, so p need not follow a blank.
 */
static bool
ew_scan(const char *p, const char *end, struct ew *w)
{
	const char	*q, *cs, *t;

	if (end - p < 8 || p[0] != '=' || p[1] != '?')
		return false;
	cs = p + 2;
	for (q = cs; q < end && *q != '?'; q++)
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n' ||
		    q - cs > 64)
			return false;
	if (q == cs || end - q < 4 || q[2] != '?')
		return false;
	w->cs = cs;
	w->cslen = (size_t)(q - cs);
	if (q[1] == 'b' || q[1] == 'B')
		w->enc = 'B';
	else if (q[1] == 'q' || q[1] == 'Q')
		w->enc = 'Q';
	else
		return false;
	t = q + 3;
	for (q = t; q + 1 < end; q++) {
		if (q[0] == '?' && q[1] == '=')
			break;
		if (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n' ||
		    *q == '?')
			return false;
	}
	if (q + 1 >= end)
		return false;
	w->text = t;
	w->textlen = (size_t)(q - t);
	w->start = p;
	w->end = q + 2;
	return true;
}

size_t
mime_ew_len(const char *p, const char *end)
{
	struct ew	w;

	return ew_scan(p, end, &w) ? (size_t)(w.end - w.start) : 0;
}

/* Append the bytes of a word; -1 when its base64 is not base64. */
static int
ew_bytes(const struct ew *w, struct buf *raw)
{
	size_t		i;
	uint32_t	acc = 0;
	int		bits = 0, v;

	if (w->enc == 'Q') {
		for (i = 0; i < w->textlen; i++) {
			char c = w->text[i];
			int hi, lo;

			if (c == '_')
				c = ' ';
			else if (c == '=' && i + 2 < w->textlen &&
			    (hi = hexval((unsigned char)w->text[i + 1])) >= 0 &&
			    (lo = hexval((unsigned char)w->text[i + 2])) >= 0) {
				c = (char)(hi << 4 | lo);
				i += 2;
			}
			buf_addc(raw, c);
		}
		return 0;
	}
	for (i = 0; i < w->textlen; i++) {
		if (w->text[i] == '=')
			break;
		if ((v = b64val((unsigned char)w->text[i])) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf_addc(raw, (char)(acc >> bits & 0xff));
		}
	}
	/* Only padding may follow the first '='. */
	for (; i < w->textlen; i++)
		if (w->text[i] != '=')
			return -1;
	return 0;
}

/* Append text that is not an encoded word: unfold, tabs to spaces, 8-bit. */
static int
words_plain(const char *p, size_t len, const char *hint, size_t hintlen,
    struct buf *out)
{
	size_t	i, start = 0;
	bool	eight = false;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x80 || c == 0x1b)
			eight = true;	/* 8-bit, or maybe raw ISO-2022-JP */
		else if (c == '\r' || c == '\n' || c == '\t') {
			if (eight)
				charset_8bit_to_utf8(hint, hintlen, p + start,
				    i - start, out);
			else
				buf_add(out, p + start, i - start);
			eight = false;
			if (c == '\t')
				buf_addc(out, ' ');
			start = i + 1;
		}
	}
	if (eight)
		return charset_8bit_to_utf8(hint, hintlen, p + start, len - start,
		    out);
	return buf_add(out, p + start, len - start);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
mime_words_decode(const char *v, size_t len, const char *hint,
    size_t hintlen, struct buf *out)
{
	const char	*p = v, *end = v + len, *q, *lit;
	struct buf	 raw = BUF_INIT(0);
	struct ew	 w, prev;
	bool		 have_prev = false;

	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	lit = p;
	while (p < end) {
		q = memchr(p, '=', (size_t)(end - p));
		if (q == NULL)
			break;
		if (!ew_scan(q, end, &w)) {
			p = q + 1;
			continue;
		}
		/* Only blanks since the previous word: join, drop them. */
		if (have_prev) {
			const char *s;

			for (s = prev.end; s < q && is_blank(*s); s++)
				;
			if (s == q) {
				size_t mark = raw.len;

				if (!charset_same(prev.cs, prev.cslen, w.cs,
				    w.cslen)) {
					charset_to_utf8(prev.cs, prev.cslen,
					    raw.data, raw.len, out);
					buf_reset(&raw);
					mark = 0;
				}
				if (ew_bytes(&w, &raw) == -1) {
					/* Invalid: flush and show it raw. */
					raw.len = mark;
					charset_to_utf8(prev.cs, prev.cslen,
					    raw.data, raw.len, out);
					buf_reset(&raw);
					have_prev = false;
					lit = prev.end;
					p = w.end;
					continue;
				}
				prev = w;
				p = lit = w.end;
				continue;
			}
			charset_to_utf8(prev.cs, prev.cslen, raw.data, raw.len,
			    out);
			buf_reset(&raw);
			have_prev = false;
		}
		if (ew_bytes(&w, &raw) == -1) {
			buf_reset(&raw);
			p = w.end;
			continue;
		}
		words_plain(lit, (size_t)(q - lit), hint, hintlen, out);
		prev = w;
		have_prev = true;
		p = lit = w.end;
	}
	if (have_prev)
		charset_to_utf8(prev.cs, prev.cslen, raw.data, raw.len, out);
	words_plain(lit, (size_t)(end - lit), hint, hintlen, out);
	buf_free(&raw);
	return 0;
}

/* Fast path: nothing to decode, unfold or convert. */
static bool
hdr_plain(const char *v, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c >= 0x80 || c == '\r' || c == '\n' || c == '\t' ||
		    c == 0x1b || c == '\0')
			return false;
		if (c == '=' && i + 1 < len && v[i + 1] == '?')
			return false;
	}
	return true;
}

/*
 * A NUL (raw, or from an encoded word) would cut the C string there and
 * lose the rest of the value: it becomes U+FFFD, as other bad bytes do.
 */
static char *
hdr_finish(struct buf *out)
{
	struct buf	clean;
	size_t		i;

	if (out->len > 0 && memchr(out->data, '\0', out->len) != NULL) {
		buf_init(&clean, 0);
		for (i = 0; i < out->len; i++) {
			if (out->data[i] == '\0')
				buf_add(&clean, "\xef\xbf\xbd", 3);
			else
				buf_addc(&clean, out->data[i]);
		}
		buf_free(out);
		*out = clean;
	}
	return mime_steal(out, NULL);
}

char *
mime_decode_header_hint(const char *v, size_t len, const char *hint)
{
	struct buf	out;

	if (hdr_plain(v, len)) {
		while (len > 0 && *v == ' ') {
			v++;
			len--;
		}
		while (len > 0 && v[len - 1] == ' ')
			len--;
		return xmemdup0(v, len);
	}
	buf_init(&out, 0);
	mime_words_decode(v, len, hint, hint != NULL ? strlen(hint) : 0, &out);
	return hdr_finish(&out);
}

char *
mime_decode_header(const char *value, size_t len)
{
	return mime_decode_header_hint(value, len, NULL);
}
