/*
 * Small shared helpers: the error type every layer reports through, string
 * and number helpers, time, and paths.
 */
#ifndef PETREL_UTIL_H
#define PETREL_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * The class tells a caller what to do about an error: retry soon
 * (TRANSIENT: network, timeout), ask the user (AUTH, TLS, CONFIG), give up on
 * this server reply (PROTO) or stop (LOCAL: disk, cache, memory).
 */
enum err_class {
	ERR_NONE = 0,
	ERR_TRANSIENT,
	ERR_AUTH,
	ERR_TLS,
	ERR_PROTO,
	ERR_CONFIG,
	ERR_LOCAL,
	ERR_USAGE,
};

struct error {
	enum err_class	cls;
	char		msg[1024];
};

void	error_clear(struct error *);
/* Set an error; a NULL err is allowed and ignored. Returns -1 for "return error_set(...)". */
int	error_set(struct error *, enum err_class, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
int	error_vset(struct error *, enum err_class, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
/* Put "what: " in front of an existing message. */
int	error_prefix(struct error *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Add to the end of an existing message (cut at its size). */
int	error_append(struct error *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
const char *error_class_name(enum err_class);

/* Parse an unsigned decimal of at most max; 0 or -1 (no wrap, no sign, no junk). */
int	parse_u64(const char *, size_t len, uint64_t max, uint64_t *out);
int	strcasecmp_ascii(const char *, const char *);
int	strncasecmp_ascii(const char *, const char *, size_t);
bool	has_prefix_ci(const char *s, const char *prefix);

/* Monotonic milliseconds, for timeouts and measurements. */
uint64_t	now_ms(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12). */
int64_t	days_from_civil(int year, int month, int day);

/* Format t (UTC seconds) with a zone offset in minutes as RFC 3339. */
void	format_rfc3339(char out[32], int64_t t, int tzoff_min);

/* $XDG_CACHE_HOME/petrel (or ~/.cache/petrel), created 0700; caller frees. */
char	*path_cache_dir(struct error *);
/* $XDG_CONFIG_HOME/petrel/config (or ~/.config/petrel/config); caller frees. */
char	*path_config_file(void);
/* $XDG_DATA_HOME/petrel/REL (or ~/.local/share/petrel/REL); caller frees. */
char	*path_data_file(const char *rel);
/*
 * Replace path with data, mode 0600, its missing directories made 0700:
 * through a temporary file, fsync and rename, so a crash leaves the old
 * file or the new one. -1 with err set.
 */
int	write_file_private(const char *path, const void *data, size_t len,
	    struct error *err);
/* The missing directories above the file path, 0700; -1 with err set. */
int	mkdir_parents(const char *path, struct error *err);
/* mkdir -p with mode for each created component. */
int	mkdir_p(const char *path, int mode);

/*
 * Read fd to its end, at most max bytes, into *datap (malloc'd, followed
 * by a NUL not counted in *lenp): 0, or -1 with errno set (EFBIG when
 * there is more than max).
 */
int	read_all(int fd, size_t max, char **datap, size_t *lenp);

/* Append s to the buffer as a JSON string literal (with quotes). */
struct buf;
void	json_add_string(struct buf *, const char *s, size_t len);

/*
 * Split a command line into words the way sh would without expanding
 * anything: blanks separate, 'single' and "double" quotes group, a
 * backslash escapes the next character (inside double quotes only before
 * " \\ $ `). NULL-terminated array, caller frees each word and it; NULL
 * with err set on an unclosed quote or an empty line.
 */
char	**argv_split(const char *line, int *argcp, struct error *err);
void	  argv_free(char **);

#endif
