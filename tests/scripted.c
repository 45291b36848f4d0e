/* Scripted servers for the protocol clients' unit tests (scripted.h). */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scripted.h"
#include "xmalloc.h"

void
srv_send(struct srv *s, const char *fmt, ...)
{
	char	*p;
	va_list	 ap;
	size_t	 off = 0, n;
	ssize_t	 w;

	va_start(ap, fmt);
	xvasprintf(&p, fmt, ap);
	va_end(ap);
	n = strlen(p);
	while (off < n) {
		w = send(s->fd, p + off, n - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	free(p);
}

int
srv_fill(struct srv *s, int ms)
{
	struct pollfd	pfd = { s->fd, POLLIN, 0 };
	char		b[4096];
	ssize_t		n;

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	if ((n = recv(s->fd, b, sizeof b, 0)) <= 0) {
		s->closed = true;
		return 0;
	}
	buf_add(&s->in, b, (size_t)n);
	return 1;
}

const char *
srv_line(struct srv *s)
{
	static char	 line[1024];
	char		*nl;
	size_t		 n;

	for (;;) {
		if (s->in.len > 0 &&
		    (nl = memchr(s->in.data, '\n', s->in.len)) != NULL) {
			n = (size_t)(nl - s->in.data);
			if (n >= sizeof line)
				n = sizeof line - 1;
			memcpy(line, s->in.data, n);
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			buf_consume(&s->in, (size_t)(nl - s->in.data) + 1);
			buf_adds(&s->got, line);
			buf_addc(&s->got, '\n');
			return line;
		}
		if (!srv_fill(s, 5000))
			return NULL;
	}
}

int
srv_pending_lines(struct srv *s)
{
	int	n = 0;
	size_t	i;

	for (i = 0; i < s->in.len; i++)
		if (s->in.data[i] == '\n')
			n++;
	return n;
}

static void *
srv_main(void *arg)
{
	struct srv		*s = arg;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;

	s->fd = accept(s->lfd, (struct sockaddr *)&sin, &len);
	if (s->fd == -1)
		return NULL;
	s->script(s);
	close(s->fd);
	return NULL;
}

void
srv_start(struct srv *s, void (*script)(struct srv *))
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;

	memset(s, 0, sizeof *s);
	buf_init(&s->in, 0);
	buf_init(&s->got, 0);
	s->script = script;
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(s->lfd, 1) == -1 ||
	    getsockname(s->lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("test server");
		exit(1);
	}
	s->port = ntohs(sin.sin_port);
	pthread_create(&s->thread, NULL, srv_main, s);
}

void
srv_stop(struct srv *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
	buf_free(&s->in);
}

