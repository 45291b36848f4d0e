/* Modified UTF-7 mailbox names (RFC 3501 5.1.3) to and from UTF-8. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-utf7.h"
#include "xmalloc.h"

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static void
utf8_put(struct buf *b, uint32_t cp)
{
	char	o[4];
	size_t	n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | cp >> 18);
		o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, o, n);
}

/* Decode one base64 run [s, e) (between '&' and '-') into b; -1 if invalid. */
static int
decode_run(struct buf *b, const char *s, const char *e)
{
	uint32_t	bits = 0, hi = 0, u;
	unsigned	nbits = 0;
	int		v;

	for (; s < e; s++) {
		if ((v = b64_value((unsigned char)*s)) == -1)
			return -1;
		bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		u = bits >> nbits & 0xffff;
		if (hi != 0) {
			if (u < 0xdc00 || u > 0xdfff)
				return -1;	/* high surrogate without low */
			utf8_put(b, 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00));
			hi = 0;
		} else if (u >= 0xd800 && u <= 0xdbff)
			hi = u;
		else if (u >= 0xdc00 && u <= 0xdfff)
			return -1;	/* low surrogate first */
		else if (u == 0 || (u >= 0x20 && u <= 0x7e))
			return -1;	/* NUL, or ASCII that must not be encoded */
		else
			utf8_put(b, u);
	}
	/* Padding: fewer than 6 bits left, all zero; no dangling surrogate. */
	if (hi != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
		return -1;
	return 0;
}

char *
imap_utf7_decode(const char *s, size_t len)
{
	struct buf	 b = BUF_INIT(0);
	const char	*e = s + len, *dash;
	bool		 after_run = false;

	while (s < e) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c > 0x7e)
			goto bad;
		if (c != '&') {
			buf_addc(&b, (char)c);
			s++;
			after_run = false;
			continue;
		}
		if ((dash = memchr(s + 1, '-', (size_t)(e - s - 1))) == NULL)
			goto bad;
		if (dash == s + 1) {
			buf_addc(&b, '&');
			after_run = false;
		} else {
			if (after_run || decode_run(&b, s + 1, dash) == -1)
				goto bad;
			after_run = true;
		}
		s = dash + 1;
	}
	return b.data != NULL ? buf_steal(&b, NULL) : xstrdup("");
bad:
	buf_free(&b);
	return NULL;
}

/* Next code point of valid UTF-8 at *sp; -1 if invalid. */
static int32_t
utf8_get(const unsigned char **sp)
{
	const unsigned char	*s = *sp;
	uint32_t		 cp, min;
	int			 n, i;

	if (s[0] < 0x80) {
		*sp = s + 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		n = 1;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		n = 2;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		n = 3;
		min = 0x10000;
	} else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*sp = s + n + 1;
	return (int32_t)cp;
}

static void
b64_unit(struct buf *b, uint32_t *bits, unsigned *nbits, uint32_t u)
{
	*bits = (*bits << 16 | u) & 0xffffff;
	*nbits += 16;
	while (*nbits >= 6) {
		*nbits -= 6;
		buf_addc(b, b64_chars[*bits >> *nbits & 0x3f]);
	}
}

char *
imap_utf7_encode(const char *utf8)
{
	struct buf		 b = BUF_INIT(0);
	const unsigned char	*s = (const unsigned char *)utf8;
	uint32_t		 bits = 0;
	unsigned		 nbits = 0;
	bool			 in_run = false;
	int32_t			 cp;

	while (*s != '\0') {
		if ((cp = utf8_get(&s)) == -1) {
			buf_free(&b);
			return NULL;
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_run) {
				if (nbits > 0)
					buf_addc(&b, b64_chars[bits << (6 - nbits) & 0x3f]);
				buf_addc(&b, '-');
				in_run = false;
				bits = nbits = 0;
			}
			buf_addc(&b, (char)cp);
			if (cp == '&')
				buf_addc(&b, '-');
			continue;
		}
		if (!in_run) {
			buf_addc(&b, '&');
			in_run = true;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			b64_unit(&b, &bits, &nbits, 0xd800 + ((uint32_t)cp >> 10));
			b64_unit(&b, &bits, &nbits, 0xdc00 + ((uint32_t)cp & 0x3ff));
		} else
			b64_unit(&b, &bits, &nbits, (uint32_t)cp);
	}
	if (in_run) {
		if (nbits > 0)
			buf_addc(&b, b64_chars[bits << (6 - nbits) & 0x3f]);
		buf_addc(&b, '-');
	}
	return b.data != NULL ? buf_steal(&b, NULL) : xstrdup("");
}
