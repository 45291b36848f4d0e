/*
 * Bounded growable byte buffer. Every buffer has a maximum size chosen by its
 * owner (a line limit, a literal limit...) so bytes from the network can never
 * make it grow without bound. The data is always followed by a NUL byte that
 * is not counted in len, so text can be used as a C string.
 */
#ifndef PETREL_BUF_H
#define PETREL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;	/* bytes in use */
	size_t	 size;	/* bytes allocated */
	size_t	 max;	/* never grow len beyond this; 0 means SIZE_MAX */
};

#define BUF_INIT(m) { NULL, 0, 0, (m) }

void	 buf_init(struct buf *, size_t max);
void	 buf_free(struct buf *);
/* Empty the buffer but keep its memory. */
void	 buf_reset(struct buf *);
/* Return 0, or -1 (nothing appended) when max would be exceeded. */
int	 buf_add_slow(struct buf *, const void *, size_t);
int	 buf_addc_slow(struct buf *, char);
int	 buf_adds(struct buf *, const char *);
int	 buf_printf(struct buf *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list)
	     __attribute__((format(printf, 2, 0)));
/* Make room for n more bytes and return where they go (commit with buf_grow_done). */
char	*buf_reserve(struct buf *, size_t n);
void	 buf_commit(struct buf *, size_t n);
/* Drop n bytes from the front. */
void	 buf_consume(struct buf *, size_t n);
/* Hand the data over to the caller (NUL-terminated) and reset the buffer. */
char	*buf_steal(struct buf *, size_t *lenp);
/* Bytes: the common case (room left, under max) inline. */
static inline int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n < b->size && b->len + n < b->size &&
	    (b->max == 0 || b->len + n <= b->max)) {
		if (n > 0)
			__builtin_memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_add_slow(b, p, n);
}

/* One byte: the common case (room left, under max) inline, for parsers. */
static inline int
buf_addc(struct buf *b, char c)
{
	if (b->len + 2 <= b->size && (b->max == 0 || b->len < b->max)) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	return buf_addc_slow(b, c);
}

static inline const char *
buf_cstr(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

#endif
