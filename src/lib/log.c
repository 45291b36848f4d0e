/* Logging and protocol traces. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_progname = "petrel";
static enum log_level	 log_level = LOG_WARN;
static FILE		*log_file;
static int		 log_trace_on;
static log_cb		 log_callback;
static void		*log_callback_arg;
/* Engine threads log too: one line is written whole, never interleaved. */
static pthread_mutex_t	 log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_set_callback(log_cb cb, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_callback = cb;
	log_callback_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void
log_init(const char *progname)
{
	const char	*s;

	if (progname != NULL) {
		if ((s = strrchr(progname, '/')) != NULL)
			progname = s + 1;
		log_progname = progname;
	}
	if ((s = getenv("PETREL_TRACE")) != NULL && *s != '\0' && *s != '0')
		log_trace_on = 1;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

int
log_open(const char *path)
{
	FILE	*f;

	if ((f = fopen(path, "a")) == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	return 0;
}

void
log_set_trace(int on)
{
	log_trace_on = on;
}

int
log_tracing(void)
{
	return log_trace_on;
}

static void
log_vwrite(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	FILE		*f = log_file != NULL ? log_file : stderr;
	int		 saved = errno;
	char		 msg[4096];

	if (level < log_level && log_file == NULL)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	pthread_mutex_lock(&log_lock);
	if (log_callback != NULL && log_file == NULL) {
		if (level >= log_level) {
			if (with_errno) {
				size_t	n = strlen(msg);

				snprintf(msg + n, sizeof msg - n, ": %s",
				    strerror(saved));
			}
			log_callback(log_callback_arg, level, msg);
		}
		pthread_mutex_unlock(&log_lock);
		errno = saved;
		return;
	}
	if (log_file != NULL) {
		struct timespec	ts;
		struct tm	tm;
		char		when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(f, "%s.%03ld %s: ", when, ts.tv_nsec / 1000000,
		    names[level]);
	} else
		fprintf(f, "%s: ", log_progname);
	if (with_errno)
		fprintf(f, "%s: %s\n", msg, strerror(saved));
	else
		fprintf(f, "%s\n", msg);
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

#define LOG_FN(name, level, with_errno)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, with_errno, fmt, ap);			\
	va_end(ap);						\
}

LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_trace(const char *who, char dir, const void *data, size_t len, int secret)
{
	FILE			*f = log_file != NULL ? log_file : stderr;
	const unsigned char	*p = data;
	size_t			 i, shown;

	if (!log_trace_on)
		return;
	pthread_mutex_lock(&log_lock);
	if (secret) {
		fprintf(f, "%s %c <redacted>\n", who, dir);
		pthread_mutex_unlock(&log_lock);
		return;
	}
	/* Long literals are cut: a trace is for reading, not for archiving. */
	shown = len > 512 ? 512 : len;
	fprintf(f, "%s %c ", who, dir);
	for (i = 0; i < shown; i++) {
		if (p[i] == '\r' && i + 1 == len - 1 && p[i + 1] == '\n')
			break;
		if (p[i] == '\n' && i + 1 == len)
			break;
		if (p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
			fprintf(f, "\\x%02x", p[i]);
		else
			fputc(p[i], f);
	}
	if (shown < len)
		fprintf(f, "...(%zu bytes)", len);
	fputc('\n', f);
	pthread_mutex_unlock(&log_lock);
}
