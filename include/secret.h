/*
 * Secrets (passwords, OAuth2 tokens) in memory locked out of swap and core
 * dumps, wiped when freed (secret.c). freezero_str() frees them too, so a
 * secret may be handed to code that frees with it.
 */
#ifndef PETREL_SECRET_H
#define PETREL_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* Zeroed; never NULL. At most a few KB each. */
void	*secret_alloc(size_t);
char	*secret_strdup(const char *);
char	*secret_strndup(const char *, size_t);
/* Wipe and free; NULL is fine. A heap pointer is wiped as a string. */
void	 secret_free(void *);
/* True for memory of secret_alloc() (not for its heap fallback). */
bool	 secret_owns(const void *);
/* No core dumps, no ptrace by others (at start-up, before any secret). */
void	 secret_harden_process(void);

#endif
