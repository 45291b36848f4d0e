/*
 * Memory for secrets: one arena of pages locked in RAM (mlock: never
 * written to swap) and left out of core dumps (MADV_DONTDUMP), carved into
 * 64-byte chunks; what is freed is wiped first. Few secrets live at once
 * (a password or token per account, its SASL copy, a command's output),
 * so a bitmap scan is all the allocator needs. When the arena is full a
 * secret falls back to the heap (a plain string there, wiped up to its
 * NUL when freed, as freezero_str() does).
 *
 * The process itself is kept from dumping core (secret_harden_process):
 * RLIMIT_CORE 0 and PR_SET_DUMPABLE 0, which also stops other processes
 * of the same user from attaching a debugger or reading /proc/PID/mem.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret.h"
#include "xmalloc.h"

#define SECRET_ARENA	(128 * 1024)
#define SECRET_CHUNK	64
#define SECRET_NCHUNKS	(SECRET_ARENA / SECRET_CHUNK)

/* In front of each allocation: how many chunks it holds. */
struct secret_hdr {
	size_t	chunks;
	size_t	len;		/* bytes asked for */
};

static pthread_mutex_t	 secret_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char	*arena;
static unsigned char	 used[SECRET_NCHUNKS];	/* 1: chunk taken */
static int		 arena_failed;

static int
secret_arena(void)
{
	void	*p;

	if (arena != NULL)
		return 0;
	if (arena_failed)
		return -1;
	p = mmap(NULL, SECRET_ARENA, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		arena_failed = 1;
		return -1;
	}
	/* Best effort: RLIMIT_MEMLOCK may be small; the rest still holds. */
	if (mlock(p, SECRET_ARENA) == -1)
		log_debug("secrets: mlock failed; they may reach swap");
#ifdef MADV_DONTDUMP
	madvise(p, SECRET_ARENA, MADV_DONTDUMP);
#endif
	arena = p;
	return 0;
}

bool
secret_owns(const void *p)
{
	const unsigned char	*u = p;

	return arena != NULL && u >= arena && u < arena + SECRET_ARENA;
}

void *
secret_alloc(size_t len)
{
	size_t			 need, run, i, j;
	struct secret_hdr	*h;
	void			*p;

	if (len > SECRET_ARENA / 4)
		fatalx("%s: %zu bytes is no secret", __func__, len);
	need = (len + sizeof *h + SECRET_CHUNK - 1) / SECRET_CHUNK;
	pthread_mutex_lock(&secret_lock);
	if (secret_arena() == 0) {
		for (i = 0, run = 0; i < SECRET_NCHUNKS; i++) {
			run = used[i] ? 0 : run + 1;
			if (run < need)
				continue;
			i = i + 1 - need;
			for (j = 0; j < need; j++)
				used[i + j] = 1;
			h = (struct secret_hdr *)(arena + i * SECRET_CHUNK);
			h->chunks = need;
			h->len = len;
			pthread_mutex_unlock(&secret_lock);
			p = h + 1;
			memset(p, 0, len);
			return p;
		}
	}
	pthread_mutex_unlock(&secret_lock);
	/* The arena is full (or none): the heap. */
	return xcalloc(1, len);
}

char *
secret_strndup(const char *s, size_t n)
{
	char	*p = secret_alloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
secret_strdup(const char *s)
{
	return secret_strndup(s, strlen(s));
}

void
secret_free(void *p)
{
	struct secret_hdr	*h;
	size_t			 i, first;

	if (p == NULL)
		return;
	if (!secret_owns(p)) {
		explicit_bzero(p, strlen(p));
		free(p);
		return;
	}
	h = (struct secret_hdr *)p - 1;
	explicit_bzero(p, h->len);
	first = (size_t)((unsigned char *)h - arena) / SECRET_CHUNK;
	pthread_mutex_lock(&secret_lock);
	for (i = 0; i < h->chunks; i++)
		used[first + i] = 0;
	explicit_bzero(h, sizeof *h);
	pthread_mutex_unlock(&secret_lock);
}

void
secret_harden_process(void)
{
	struct rlimit	rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		log_debug("secrets: cannot turn core dumps off");
#if !defined(__SANITIZE_ADDRESS__)
	/*
	 * Not under ASan: LeakSanitizer ptrace()s the process at exit, which
	 * a non-dumpable process forbids without CAP_SYS_PTRACE.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_debug("secrets: PR_SET_DUMPABLE failed");
#endif
}
