/*
 * Just enough HTTP/1.1 for OAuth2 endpoints: one POST of a form per
 * connection ("Connection: close"), over TLS for https:// (certificates
 * verified like every other connection) or in plain text for http:// to
 * a loopback address only. The response is bounded (HTTP_RESPONSE_MAX);
 * Content-Length, chunked and close-delimited bodies are understood.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "net.h"
#include "oauth.h"
#include "oauth-private.h"
#include "secret.h"
#include "xmalloc.h"

#define HTTP_RESPONSE_MAX	(256 * 1024)

bool
oauth_is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

int
oauth_url_parse(const char *url, struct oauth_url *u, struct error *err)
{
	const char	*p, *h, *e, *slash;
	size_t		 hl;
	char		*end;
	long		 port;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "https://", 8) == 0) {
		u->tls = true;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else
		return error_set(err, ERR_CONFIG, "OAuth2 URL %.200s: not "
		    "https://", url);
	slash = p + strcspn(p, "/?#");
	if (*p == '[') {
		if ((e = memchr(p, ']', (size_t)(slash - p))) == NULL)
			return error_set(err, ERR_CONFIG, "OAuth2 URL %.200s: "
			    "bad host", url);
		h = p + 1;
		hl = (size_t)(e - h);
		e++;
	} else {
		h = p;
		e = memchr(p, ':', (size_t)(slash - p));
		if (e == NULL)
			e = slash;
		hl = (size_t)(e - h);
	}
	if (hl == 0 || hl > 253 || memchr(h, '@', hl) != NULL)
		return error_set(err, ERR_CONFIG, "OAuth2 URL %.200s: bad host",
		    url);
	u->host = xstrndup(h, hl);
	u->port = u->tls ? 443 : 80;
	if (e < slash && *e == ':') {
		port = strtol(e + 1, &end, 10);
		if (end != slash || port < 1 || port > 65535) {
			oauth_url_free(u);
			return error_set(err, ERR_CONFIG, "OAuth2 URL %.200s: "
			    "bad port", url);
		}
		u->port = (int)port;
	}
	if (*slash == '/')
		u->path = xstrdup(slash);
	else
		xasprintf(&u->path, "/%s", slash);	/* "" or "?query" */
	if (strpbrk(u->path, " \r\n#") != NULL) {
		oauth_url_free(u);
		return error_set(err, ERR_CONFIG, "OAuth2 URL %.200s: bad path",
		    url);
	}
	/* A token must not cross the network in clear. */
	if (!u->tls && !oauth_is_loopback(u->host)) {
		oauth_url_free(u);
		return error_set(err, ERR_CONFIG, "OAuth2 URL %.200s: http:// "
		    "is allowed only to a loopback address; use https://", url);
	}
	return 0;
}

void
oauth_url_free(struct oauth_url *u)
{
	free(u->host);
	free(u->path);
	u->host = u->path = NULL;
}

/* The body of a chunked response, in place; -1 when malformed. */
static int
http_dechunk(struct buf *body)
{
	struct buf	 out = BUF_INIT(0);
	const char	*p = body->data, *end = body->data + body->len;
	char		*e;
	unsigned long	 n;

	for (;;) {
		n = strtoul(p, &e, 16);
		if (e == p || (e = strstr(e, "\r\n")) == NULL || e + 2 > end)
			goto bad;
		p = e + 2;
		if (n == 0)
			break;
		if (n > (unsigned long)(end - p))
			goto bad;
		buf_add(&out, p, n);
		p += n;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			goto bad;
		p += 2;
	}
	explicit_bzero(body->data, body->len);
	buf_free(body);
	*body = out;
	return 0;
bad:
	if (out.data != NULL)
		explicit_bzero(out.data, out.len);
	buf_free(&out);
	return -1;
}

/* One request: a POST of form, or a GET when form is NULL. */
static int
http_request(const char *url, const char *form, const char *ca_file,
    int timeout_ms, int *statusp, char **bodyp, size_t *lenp,
    struct error *err)
{
	struct oauth_url	 u;
	struct conn_params	 p;
	struct conn		*c;
	struct buf		 in = BUF_INIT(0), body = BUF_INIT(0);
	char			 chunk[4096], *req = NULL, *hend, *cl, *te, *sp;
	ssize_t			 n;
	long			 status, clen = -1;
	int			 rv = -1;

	*bodyp = NULL;
	*lenp = 0;
	if (oauth_url_parse(url, &u, err) == -1)
		return -1;
	memset(&p, 0, sizeof p);
	p.host = u.host;
	p.port = u.port;
	p.tls = u.tls;
	p.ca_file = ca_file;
	p.connect_timeout_ms = timeout_ms;
	p.io_timeout_ms = timeout_ms;
	p.trace_name = "http";
	if ((c = conn_open(&p, err)) == NULL) {
		oauth_url_free(&u);
		return -1;
	}
	if (form != NULL)
		xasprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
		    "petrel\r\nAccept: application/json\r\nContent-Type: "
		    "application/x-www-form-urlencoded\r\nContent-Length: "
		    "%zu\r\nConnection: close\r\n\r\n", u.path, u.host,
		    strlen(form));
	else
		xasprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
		    "petrel\r\nConnection: close\r\n\r\n", u.path, u.host);
	/* The form holds a secret (a code, a refresh token): not traced. */
	if (conn_write(c, req, strlen(req), 0, err) == -1 ||
	    (form != NULL && conn_write(c, form, strlen(form), 1, err) == -1) ||
	    conn_flush(c, err) == -1)
		goto out;
	for (;;) {
		if ((n = conn_read(c, chunk, sizeof chunk, err)) == -1)
			goto out;
		if (n == 0)
			break;
		if (in.len + (size_t)n > HTTP_RESPONSE_MAX) {
			error_set(err, ERR_PROTO, "%s: response larger than %d "
			    "bytes", u.host, HTTP_RESPONSE_MAX);
			goto out;
		}
		buf_add(&in, chunk, (size_t)n);
		/* Enough once the announced body is in (no need to wait). */
		if (clen >= 0 && (hend = memmem(in.data, in.len, "\r\n\r\n",
		    4)) != NULL && in.len - (size_t)(hend + 4 - in.data) >=
		    (size_t)clen)
			break;
		if (clen < 0 && (hend = memmem(in.data, in.len, "\r\n\r\n",
		    4)) != NULL) {
			*hend = '\0';
			if ((cl = strcasestr(in.data, "\r\nContent-Length:")) !=
			    NULL)
				clen = strtol(cl + 17, NULL, 10);
			*hend = '\r';
			if (clen >= 0 && in.len - (size_t)(hend + 4 - in.data) >=
			    (size_t)clen)
				break;
		}
	}
	buf_addc(&in, '\0');
	in.len--;
	if (strncmp(in.data, "HTTP/1.", 7) != 0 || (sp = strchr(in.data, ' ')) ==
	    NULL || (status = strtol(sp + 1, NULL, 10)) < 100 || status > 599 ||
	    (hend = strstr(in.data, "\r\n\r\n")) == NULL) {
		error_set(err, ERR_PROTO, "%s: not an HTTP response", u.host);
		goto out;
	}
	*hend = '\0';
	cl = strcasestr(in.data, "\r\nContent-Length:");
	te = strcasestr(in.data, "\r\nTransfer-Encoding:");
	buf_add(&body, hend + 4, in.len - (size_t)(hend + 4 - in.data));
	if (te != NULL && strcasestr(te, "chunked") != NULL) {
		if (http_dechunk(&body) == -1) {
			error_set(err, ERR_PROTO, "%s: bad chunked body", u.host);
			goto out;
		}
	} else if (cl != NULL) {
		clen = strtol(cl + 17, NULL, 10);
		if (clen < 0 || (size_t)clen > body.len) {
			error_set(err, ERR_PROTO, "%s: the response was cut short",
			    u.host);
			goto out;
		}
		body.len = (size_t)clen;
	}
	*statusp = (int)status;
	*bodyp = secret_strndup(body.data != NULL ? body.data : "", body.len);
	*lenp = body.len;
	rv = 0;
out:
	conn_close(&c);
	oauth_url_free(&u);
	free(req);
	if (in.data != NULL)
		explicit_bzero(in.data, in.len);
	if (body.data != NULL)
		explicit_bzero(body.data, body.len);
	buf_free(&in);
	buf_free(&body);
	return rv;
}

int
oauth_http_post(const char *url, const char *form, const char *ca_file,
    int timeout_ms, int *statusp, char **bodyp, size_t *lenp,
    struct error *err)
{
	return http_request(url, form, ca_file, timeout_ms, statusp, bodyp,
	    lenp, err);
}

int
http_get(const char *url, const char *ca_file, int timeout_ms, int *statusp,
    char **bodyp, size_t *lenp, struct error *err)
{
	return http_request(url, NULL, ca_file, timeout_ms, statusp, bodyp,
	    lenp, err);
}
