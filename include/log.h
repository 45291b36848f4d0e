/*
 * Logging. Messages go to a log file when one is set (log_open), else to a
 * callback when one is set (the TUI's status line: never the terminal behind
 * ncurses), else to stderr, at warning level and above. Any thread may log. Protocol traces are a separate switch
 * (PETREL_TRACE=1 or -v -v) and pass through log_trace(), which never prints
 * a line the caller marked secret.
 */
#ifndef PETREL_LOG_H
#define PETREL_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void	log_init(const char *progname);
/* Lines at the log level and above go to cb (called under the log lock). */
typedef void (*log_cb)(void *arg, enum log_level, const char *line);
void	log_set_callback(log_cb, void *arg);
void	log_set_level(enum log_level);
int	log_open(const char *path);
void	log_set_trace(int on);
int	log_tracing(void);

void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
/*
 * Protocol trace of one direction ('<' from server, '>' to server). Control
 * bytes are escaped; a line from a client that knows it carries a secret is
 * passed with secret=1 and is replaced by "<redacted>".
 */
void	log_trace(const char *who, char dir, const void *data, size_t len,
	    int secret);

#endif
