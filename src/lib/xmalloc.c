/* Allocation wrappers: the only place that calls malloc and friends. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret.h"
#include "xmalloc.h"

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatalx("out of memory allocating %zu bytes", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		fatalx("out of memory allocating %zu * %zu bytes", n, size);
	return p;
}

void *
xrealloc(void *ptr, size_t size)
{
	return xreallocarray(ptr, 1, size);
}

void *
xreallocarray(void *ptr, size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("allocation overflow: %zu * %zu", n, size);
	if ((p = realloc(ptr, n * size)) == NULL)
		fatalx("out of memory reallocating %zu * %zu bytes", n, size);
	return p;
}

char *
xstrdup(const char *s)
{
	return xmemdup0(s, strlen(s));
}

char *
xstrndup(const char *s, size_t max)
{
	return xmemdup0(s, strnlen(s, max));
}

char *
xmemdup0(const void *p, size_t len)
{
	char	*s;

	if (len == SIZE_MAX)
		fatalx("allocation overflow");
	s = xmalloc(len + 1);
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	n;

	if ((n = vasprintf(ret, fmt, ap)) == -1 || *ret == NULL)
		fatalx("out of memory formatting a string");
	return n;
}

void
freezero_str(char *s)
{
	if (s == NULL)
		return;
	if (secret_owns(s)) {
		secret_free(s);
		return;
	}
	explicit_bzero(s, strlen(s));
	free(s);
}
