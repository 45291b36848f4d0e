/*
 * Scripted servers for the unit tests of protocol clients: a thread runs
 * a script function on one accepted connection on 127.0.0.1. It reads
 * lines with srv_line, answers with srv_send, and keeps every line it
 * received in got, so a test can check exactly what the client sent.
 */
#ifndef PETREL_SCRIPTED_H
#define PETREL_SCRIPTED_H

#include <pthread.h>
#include <stdbool.h>

#include "buf.h"

struct srv {
	int		 lfd, fd, port;
	pthread_t	 thread;
	void		(*script)(struct srv *);
	struct buf	 in;		/* unread bytes */
	struct buf	 got;		/* every line received, "\n"-separated */
	int		 maxpipe;	/* for the script: most commands seen
					   unanswered */
	int		 window_wait;	/* for the script: lines to wait for */
	void		*arg;		/* for the script */
	bool		 closed;
};

void		 srv_send(struct srv *, const char *fmt, ...)
		     __attribute__((format(printf, 2, 3)));
/* Read what is there (waiting up to ms); 0 at EOF or timeout. */
int		 srv_fill(struct srv *, int ms);
/* The next line without CRLF (static storage), or NULL at EOF/timeout. */
const char	*srv_line(struct srv *);
/* Lines waiting in the input buffer (commands sent but not answered). */
int		 srv_pending_lines(struct srv *);
void		 srv_start(struct srv *, void (*script)(struct srv *));
void		 srv_stop(struct srv *);

#endif
