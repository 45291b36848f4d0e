/*
 * libFuzzer target for what an SMTP submission server sends: the reply
 * line parser, and the whole client (greeting, EHLO, AUTH, MAIL, RCPT,
 * DATA, QUIT) reading the input as the server's byte stream over a
 * loopback connection. Whatever the server says, the client must end with
 * a clean success or error: no crash, no hang past the stream's end, and
 * a 250 after DATA only when the input holds one.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "smtp.h"
#include "fuzz.h"

struct feed {
	int		 lfd;
	const uint8_t	*data;
	size_t		 size;
};

/* The server: send the input, then read (and drop) until the client ends. */
static void *
feed_main(void *arg)
{
	struct feed	*f = arg;
	char		 buf[4096];
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = accept(f->lfd, NULL, NULL)) == -1)
		return NULL;
	while (off < f->size) {
		if ((n = write(fd, f->data + off, f->size - off)) <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof buf) > 0)
		;
	close(fd);
	return NULL;
}

static int
listener(int *portp)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		abort();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		abort();
	*portp = ntohs(sin.sin_port);
	return fd;
}

static void
lines(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl, *text;
	int		 code;
	bool		 more;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (smtp_parse_reply_line(p, (size_t)(nl - p), &code, &more,
		    &text) == 0) {
			FUZZ_ASSERT(code >= 200 && code <= 559);
			FUZZ_ASSERT(text >= p && text <= nl);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 lfd = -1, port;
	static const char	 msg[] = "Subject: f\r\n\r\n.body\r\n";
	const char		*rcpts[] = { "bob@example.test",
				    "carol@example.test" };
	struct smtp_envelope	 env = { .from = "alice@example.test", .rcpts = rcpts,
	    .nrcpts = 2 };
	struct proto_params	 pp;
	struct smtp_client	*c;
	struct error		 err;
	struct feed		 f;
	pthread_t		 th;
	bool			 after = false;
	int			 rv;

	lines(data, size);
	if (lfd == -1)
		lfd = listener(&port);
	f.lfd = lfd;
	f.data = data;
	f.size = size;
	if (pthread_create(&th, NULL, feed_main, &f) != 0)
		abort();
	memset(&pp, 0, sizeof pp);
	pp.name = "fuzz";
	pp.host = "127.0.0.1";
	pp.port = port;
	pp.user = "alice";
	pp.tls = PROTO_TLS_NONE;
	pp.connect_timeout_ms = 5000;
	pp.io_timeout_ms = 5000;
	error_clear(&err);
	if ((c = smtp_connect(&pp, "client.test", "secret", &err)) != NULL) {
		rv = smtp_send(c, &env, msg, sizeof msg - 1, &after, &err);
		/* Taken only when the server said 250 somewhere. */
		FUZZ_ASSERT(rv == -1 || memmem(data, size, "250", 3) != NULL);
		FUZZ_ASSERT(rv == -1 || !after);
		smtp_quit(&c);
	} else
		FUZZ_ASSERT(err.msg[0] != '\0');
	pthread_join(th, NULL);
	return 0;
}
