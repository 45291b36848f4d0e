/*
 * Allocation wrappers. None of them returns NULL: running out of memory or
 * an overflowing size ends the program with a message, so call sites check
 * for the errors that matter (network, parsing, disk) instead.
 */
#ifndef PETREL_XMALLOC_H
#define PETREL_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Copy exactly len bytes and add a NUL (the input need not be terminated). */
char	*xmemdup0(const void *, size_t);
int	 xasprintf(char **, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	     __attribute__((format(printf, 2, 0)));
/* Overwrite a secret before freeing it; NULL is fine. */
void	 freezero_str(char *);

#endif
