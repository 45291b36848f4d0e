/*
 * Text on the terminal: display widths of UTF-8 (wide CJK characters take
 * two columns, combining marks none), clipping and padding to a column.
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "buf.h"
#include "ui-private.h"

/* One character of s: its length in bytes and its width in columns. */
static size_t
char_at(const char *s, size_t len, int *widthp)
{
	mbstate_t	st;
	wchar_t		wc;
	size_t		n;
	int		w;

	/* ASCII, most of any text: one column (a control shows as '?'). */
	if ((unsigned char)*s < 0x80) {
		*widthp = 1;
		return 1;
	}
	memset(&st, 0, sizeof st);
	n = mbrtowc(&wc, s, len, &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*widthp = 1;		/* shown as one '?' */
		return 1;
	}
	if ((w = wcwidth(wc)) < 0)
		w = 1;
	*widthp = w;
	return n;
}

int
text_width(const char *s, size_t len)
{
	size_t	i = 0;
	int	cols = 0, w;

	while (i < len) {
		i += char_at(s + i, len - i, &w);
		cols += w;
	}
	return cols;
}

size_t
text_fit(const char *s, size_t len, int width, int *colsp)
{
	size_t	i = 0, n;
	int	cols = 0, w;

	while (i < len) {
		n = char_at(s + i, len - i, &w);
		if (cols + w > width)
			break;
		cols += w;
		i += n;
	}
	if (colsp != NULL)
		*colsp = cols;
	return i;
}

void
text_pad(struct buf *b, const char *s, int min, int max, bool left)
{
	size_t	len = s != NULL ? strlen(s) : 0, fit;
	int	cols, i;

	if (max < 0)
		max = 1 << 30;
	fit = text_fit(s != NULL ? s : "", len, max, &cols);
	if (!left)
		for (i = cols; i < min; i++)
			buf_add(b, " ", 1);
	/* Control characters never reach the terminal. */
	for (size_t j = 0; j < fit; j++) {
		unsigned char c = (unsigned char)s[j];

		buf_add(b, c < 0x20 || c == 0x7f ? "?" : s + j, 1);
	}
	if (left)
		for (i = cols; i < min; i++)
			buf_add(b, " ", 1);
}
