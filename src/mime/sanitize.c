/*
 * Terminal safety. Everything petrel shows from a message passes through
 * here last: C0 controls (but TAB and LF) become caret notation ("^[" for
 * ESC, so no CSI or OSC sequence can start), DEL becomes "^?", C1 controls
 * and the bidi embedding, override and isolate characters become "<U+XXXX>",
 * and invalid UTF-8 becomes U+FFFD.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"

static bool
san_bidi(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int
mime_sanitize_into(const char *s, size_t len, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, start = 0, n;
	uint32_t		 cp;
	char			 tmp[16];
	bool			 invalid;

	while (i < len) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f) {
			i++;
			continue;
		}
		if (c == '\t' || c == '\n') {
			i++;
			continue;
		}
		if (c < 0x80) {
			/* C0 or DEL. */
			if (buf_add(out, s + start, i - start) == -1)
				return -1;
			tmp[0] = '^';
			tmp[1] = c == 0x7f ? '?' : (char)(c + 0x40);
			if (buf_add(out, tmp, 2) == -1)
				return -1;
			start = ++i;
			continue;
		}
		n = utf8_decode(s + i, len - i, &cp);
		invalid = cp == UTF8_REPLACEMENT && !(n == 3 &&
		    memcmp(s + i, "\xef\xbf\xbd", 3) == 0);
		if (!invalid && !(cp >= 0x80 && cp < 0xa0) && !san_bidi(cp)) {
			i += n;
			continue;
		}
		if (buf_add(out, s + start, i - start) == -1)
			return -1;
		if (invalid) {
			if (utf8_add(out, UTF8_REPLACEMENT) == -1)
				return -1;
		} else {
			snprintf(tmp, sizeof tmp, "<U+%04X>", (unsigned)cp);
			if (buf_adds(out, tmp) == -1)
				return -1;
		}
		i += n;
		start = i;
	}
	return buf_add(out, s + start, len - start);
}

char *
mime_sanitize_terminal(const char *s, size_t len, size_t *outlen)
{
	struct buf	out;

	buf_init(&out, 0);
	mime_sanitize_into(s, len, &out);
	return mime_steal(&out, outlen);
}
