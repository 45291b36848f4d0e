/*
 * Transfer encodings. Decoding never fails: base64 skips line breaks and
 * junk, tolerates missing padding and restarts after padding in the middle
 * (concatenated encoders); quoted-printable keeps a malformed '=' sequence as
 * it is and joins soft line breaks (also "=" followed by blanks).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mime-private.h"

/* The value of each base64 symbol plus one; 0 for bytes outside the alphabet. */
static const unsigned char b64_tab[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13,
	['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19,
	['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25,
	['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31,
	['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42, ['q'] = 43,
	['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55,
	['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61,
	['9'] = 62, ['+'] = 63, ['/'] = 64,
};

enum mime_cte
mime_cte_parse(const char *v, size_t len)
{
	while (len > 0 && (*v == ' ' || *v == '\t' || *v == '"')) {
		v++;
		len--;
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t' ||
	    v[len - 1] == '"' || v[len - 1] == ';'))
		len--;
	if (len == 6 && strncasecmp_ascii(v, "base64", 6) == 0)
		return MIME_CTE_BASE64;
	if (len == 16 && strncasecmp_ascii(v, "quoted-printable", 16) == 0)
		return MIME_CTE_QP;
	if (len == 6 && strncasecmp_ascii(v, "binary", 6) == 0)
		return MIME_CTE_BINARY;
	return MIME_CTE_7BIT;
}

/*
 * Base64 over in, calling out each group; counts only when out is NULL.
 * A group cut short by padding or by the end gives its whole bytes (2 or 3
 * symbols: 1 or 2 bytes); a lone symbol carries no whole byte.
 */
static size_t
b64_run(const char *in, size_t len, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in;
	unsigned char		 q[4], o[3];
	size_t			 i, total = 0;
	int			 n = 0;
	char			*w = NULL, *w0 = NULL;
	size_t			 room = 0;

	if (out != NULL) {
		room = len / 4 * 3 + 3;
		if ((w0 = w = buf_reserve(out, room)) == NULL)
			return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char v = (unsigned char)(b64_tab[p[i]] - 1);

		if (v == 0xff) {
			if (p[i] == '=' && n > 0) {
				/* Padding: flush what the group holds. */
				if (n >= 2) {
					o[0] = (unsigned char)(q[0] << 2 | q[1] >> 4);
					o[1] = (unsigned char)(q[1] << 4 | (n > 2 ? q[2] >> 2 : 0));
					if (w != NULL) {
						memcpy(w, o, (size_t)n - 1);
						w += n - 1;
					}
					total += (size_t)n - 1;
				}
				n = 0;
			}
			continue;
		}
		q[n++] = v;
		if (n == 4) {
			if (w != NULL) {
				w[0] = (char)(q[0] << 2 | q[1] >> 4);
				w[1] = (char)(q[1] << 4 | q[2] >> 2);
				w[2] = (char)(q[2] << 6 | q[3]);
				w += 3;
			}
			total += 3;
			n = 0;
		}
	}
	if (n >= 2) {
		o[0] = (unsigned char)(q[0] << 2 | q[1] >> 4);
		o[1] = (unsigned char)(q[1] << 4 | (n > 2 ? q[2] >> 2 : 0));
		if (w != NULL) {
			memcpy(w, o, (size_t)n - 1);
			w += n - 1;
		}
		total += (size_t)n - 1;
	}
	if (out != NULL)
		buf_commit(out, (size_t)(w - w0));
	return total;
}

static int
hexv(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Copy n bytes of text to w (when not NULL) with CRLF as LF; returns the
 * bytes written. Every span given here ends before a '=' or at the end of
 * the part, so a CRLF is never split between two spans.
 */
static size_t
text_copy(char *w, const char *p, size_t n)
{
	const char	*cr, *end = p + n;
	size_t		 total = 0, k;

	while (p < end) {
		cr = memchr(p, '\r', (size_t)(end - p));
		if (cr == NULL || cr + 1 >= end || cr[1] != '\n') {
			k = (size_t)((cr != NULL ? cr + 1 : end) - p);
		} else
			k = (size_t)(cr - p);
		if (w != NULL) {
			memcpy(w, p, k);
			w += k;
		}
		total += k;
		p += k;
		if (cr != NULL && p == cr && cr + 1 < end && cr[1] == '\n')
			p++;	/* drop the CR of a CRLF */
	}
	return total;
}

/* Quoted-printable; counts only when out is NULL. */
static size_t
qp_run(const char *in, size_t len, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i = 0, j, k, start = 0, total = 0;
	int			 hi, lo;
	char			*w = NULL, *w0 = NULL;

	if (out != NULL && (w0 = w = buf_reserve(out, len)) == NULL)
		return 0;
	while (i < len) {
		const unsigned char *eq = memchr(p + i, '=', len - i);

		if (eq == NULL)
			break;
		j = (size_t)(eq - p);
		k = text_copy(w, in + start, j - start);
		if (w != NULL)
			w += k;
		total += k;
		i = j + 1;
		if (i + 1 < len &&
		    (hi = hexv(p[i])) >= 0 && (lo = hexv(p[i + 1])) >= 0) {
			if (w != NULL)
				*w++ = (char)(hi << 4 | lo);
			total++;
			i += 2;
			start = i;
			continue;
		}
		/* A soft break: '=' then optional blanks then the line end. */
		j = i;
		while (j < len && (p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j < len && (p[j] == '\n' || p[j] == '\r')) {
			if (p[j] == '\r' && j + 1 < len && p[j + 1] == '\n')
				j++;
			i = start = j + 1;
			continue;
		}
		if (j == len) {
			i = start = len;	/* "=" at the very end */
			continue;
		}
		/* Malformed: keep the '=' literally. */
		if (w != NULL)
			*w++ = '=';
		total++;
		start = i;
	}
	k = text_copy(w, in + start, len - start);
	total += k;
	if (w != NULL)
		buf_commit(out, (size_t)(w + k - w0));
	return total;
}

int
mime_cte_decode(enum mime_cte cte, const char *in, size_t len,
    struct buf *out)
{
	switch (cte) {
	case MIME_CTE_BASE64:
		if (buf_reserve(out, len / 4 * 3 + 3) == NULL)
			return -1;
		b64_run(in, len, out);
		return 0;
	case MIME_CTE_QP:
		if (buf_reserve(out, len) == NULL)
			return -1;
		qp_run(in, len, out);
		return 0;
	case MIME_CTE_7BIT:
		if (buf_reserve(out, len) == NULL)
			return -1;
		buf_commit(out, text_copy(out->data + out->len, in, len));
		return 0;
	case MIME_CTE_BINARY:
		break;
	}
	return buf_add(out, in, len);
}

/* The size b64_run would decode to, counted without decoding. */
static size_t
b64_count(const char *in, size_t len)
{
	const unsigned char	*p = (const unsigned char *)in;
	const unsigned char	*eq = memchr(in, '=', len);
	size_t			 i, total = 0, valid = 0, head;
	unsigned		 n;

	/*
	 * Up to the first '=' (usually the end) only the valid characters
	 * count: a loop without branches, which the compiler vectorises.
	 */
	head = eq != NULL ? (size_t)(eq - p) : len;
	for (i = 0; i < head; i++)
		valid += b64_tab[p[i]] != 0;
	total = valid / 4 * 3;
	n = (unsigned)(valid % 4);
	for (i = head; i < len; i++) {
		if (b64_tab[p[i]] != 0) {
			if (++n == 4) {
				total += 3;
				n = 0;
			}
		} else if (p[i] == '=' && n > 0) {
			total += n >= 2 ? n - 1 : 0;
			n = 0;
		}
	}
	return total + (n >= 2 ? n - 1 : 0);
}

size_t
mime_cte_size(enum mime_cte cte, const char *in, size_t len)
{
	switch (cte) {
	case MIME_CTE_BASE64:
		return b64_count(in, len);
	case MIME_CTE_QP:
		return qp_run(in, len, NULL);
	case MIME_CTE_7BIT:
		return text_copy(NULL, in, len);
	case MIME_CTE_BINARY:
		break;
	}
	return len;
}
