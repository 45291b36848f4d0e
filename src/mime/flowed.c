/*
 * RFC 3676 format=flowed: lines ending in a space continue in the next line
 * of the same quote depth; they are joined into paragraphs (the space
 * dropped with delsp=yes) and wrapped again to the display width, with the
 * quote depth as a "> " prefix. The signature separator "-- " stays fixed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"

/*
 * The length of the first line of p when wrapped at avail columns: up to
 * the last space that fits, or past a word longer than the line. *next is
 * where the following line starts.
 */
size_t
mime_wrap_cut(const char *p, size_t len, size_t avail, size_t *next)
{
	size_t		i = 0, lw = 0, brk = 0, n;
	bool		have_brk = false;
	uint32_t	cp;

	if (avail == 0) {
		*next = len;
		return len;
	}
	while (i < len) {
		if (p[i] == ' ') {
			if (lw > avail)
				break;
			brk = i;
			have_brk = true;
			lw++;
			i++;
			continue;
		}
		if ((unsigned char)p[i] < 0x80) {
			lw++;
			i++;
		} else {
			n = utf8_decode(p + i, len - i, &cp);
			lw += (size_t)utf8_cpwidth(cp);
			i += n;
		}
		if (lw > avail && have_brk)
			break;
	}
	if (i >= len && lw <= avail) {
		*next = len;
		return len;
	}
	if (have_brk && brk > 0) {
		*next = brk + 1;
		return brk;
	}
	/* One word wider than the line: it gets a line of its own. */
	while (i < len && p[i] != ' ')
		i++;
	*next = i < len ? i + 1 : len;
	return i;
}

/* Write one paragraph, wrapped at width columns after its prefix. */
static int
flowed_emit(const char *p, size_t len, int depth, int width, struct buf *out)
{
	size_t		 pw = depth > 0 ? (size_t)depth + 1 : 0, avail;
	size_t		 cut, next;
	int		 k;

	avail = width > 0 && (size_t)width > pw + 10 ? (size_t)width - pw : 0;
	do {
		cut = mime_wrap_cut(p, len, avail, &next);
		for (k = 0; k < depth; k++)
			buf_addc(out, '>');
		if (depth > 0 && cut > 0)
			buf_addc(out, ' ');
		buf_add(out, p, cut);
		if (buf_addc(out, '\n') == -1)
			return -1;
		p += next;
		len -= next;
	} while (len > 0);
	return 0;
}

int
mime_flowed(const char *text, size_t len, bool delsp, int width,
    struct buf *out)
{
	const char	*p = text, *end = text + len, *le, *s;
	struct buf	 para;
	int		 depth, pdepth = -1;
	size_t		 n;
	bool		 flowed, open = false;

	buf_init(&para, 0);
	while (p < end) {
		le = memchr(p, '\n', (size_t)(end - p));
		if (le == NULL)
			le = end;
		s = p;
		for (depth = 0; s < le && *s == '>'; s++)
			depth++;
		if (s < le && *s == ' ')
			s++;			/* space-stuffing */
		n = (size_t)(le - s);
		flowed = n > 0 && s[n - 1] == ' ' &&
		    !(n == 3 && memcmp(s, "-- ", 3) == 0);
		/* A change of depth ends the paragraph (RFC 3676 4.5). */
		if (open && depth != pdepth) {
			flowed_emit(para.data, para.len, pdepth, width, out);
			buf_reset(&para);
			open = false;
		}
		if (flowed && delsp)
			n--;
		buf_add(&para, s, n);
		open = true;
		pdepth = depth;
		if (!flowed) {
			if (flowed_emit(para.data != NULL ? para.data : "",
			    para.len, depth, width, out) == -1) {
				buf_free(&para);
				return -1;
			}
			buf_reset(&para);
			open = false;
		}
		p = le < end ? le + 1 : end;
	}
	if (open)
		flowed_emit(para.data != NULL ? para.data : "", para.len, pdepth,
		    width, out);
	buf_free(&para);
	return 0;
}
