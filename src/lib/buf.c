/* Bounded growable buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = b->size = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int
buf_room(struct buf *b, size_t n)
{
	size_t	 max = b->max != 0 ? b->max : SIZE_MAX - 1;
	size_t	 need, size;

	if (n > max || b->len > max - n)
		return -1;
	need = b->len + n + 1;
	if (need <= b->size)
		return 0;
	size = b->size != 0 ? b->size : 64;
	while (size < need)
		size = size > SIZE_MAX / 2 ? need : size * 2;
	b->data = xrealloc(b->data, size);
	b->size = size;
	return 0;
}

int
buf_add_slow(struct buf *b, const void *p, size_t n)
{
	if (buf_room(b, n) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_addc_slow(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int
buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	rv;

	va_start(ap, fmt);
	rv = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rv;
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	ap2;
	int	n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_room(b, (size_t)n) == -1)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

char *
buf_reserve(struct buf *b, size_t n)
{
	if (buf_room(b, n) == -1)
		return NULL;
	return b->data + b->len;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *
buf_steal(struct buf *b, size_t *lenp)
{
	char	*p;

	if (b->data == NULL) {
		buf_room(b, 0);
		b->data[0] = '\0';
	}
	p = b->data;
	if (lenp != NULL)
		*lenp = b->len;
	b->data = NULL;
	b->len = b->size = 0;
	return p;
}
