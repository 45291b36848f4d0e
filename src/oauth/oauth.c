/*
 * OAuth2 grants for mail: authorization code with PKCE through a loopback
 * redirect (RFC 7636, 8252), device authorization (RFC 8628), refresh
 * (RFC 6749 6). See oauth.h.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "oauth.h"
#include "oauth-private.h"
#include "secret.h"
#include "xmalloc.h"

/* A browser's request to the loopback redirect is small. */
#define REDIRECT_REQUEST_MAX	8192
#define DEVICE_INTERVAL_MIN	1

static const struct {
	const char	*name, *auth, *token, *device, *scope;
} profiles[] = {
	{ "google",
	  "https://accounts.google.com/o/oauth2/v2/auth",
	  "https://oauth2.googleapis.com/token",
	  "https://oauth2.googleapis.com/device/code",
	  "https://mail.google.com/" },
	{ "microsoft",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode",
	  "https://outlook.office.com/IMAP.AccessAsUser.All "
	  "https://outlook.office.com/POP.AccessAsUser.All "
	  "https://outlook.office.com/SMTP.Send offline_access" },
};

int
oauth_profile(const char *name, struct oauth_provider *p)
{
	size_t	i;

	for (i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
		if (strcmp(name, profiles[i].name) != 0)
			continue;
		p->name = profiles[i].name;
		p->auth_url = profiles[i].auth;
		p->token_url = profiles[i].token;
		p->device_url = profiles[i].device;
		p->scope = profiles[i].scope;
		return 0;
	}
	return -1;
}

void
oauth_tokens_free(struct oauth_tokens *t)
{
	freezero_str(t->access);
	freezero_str(t->refresh);
	t->access = t->refresh = NULL;
	t->expires = 0;
}

/* application/x-www-form-urlencoded (and URL query) escaping. */
static void
form_add(struct buf *b, const char *name, const char *value)
{
	const char	*p;

	if (value == NULL)
		return;
	if (b->len > 0)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	for (p = value; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* base64url without padding (RFC 7636 appendix A). */
static char *
b64url(const unsigned char *data, size_t len)
{
	gnutls_datum_t	 in = { (unsigned char *)(uintptr_t)data, (unsigned)len };
	gnutls_datum_t	 out;
	char		*s;
	size_t		 i;

	if (gnutls_base64_encode2(&in, &out) != 0)
		fatalx("%s: base64 failed", __func__);
	s = secret_strndup((const char *)out.data, out.size);
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
		else if (s[i] == '=') {
			s[i] = '\0';
			break;
		}
	}
	return s;
}

static char *
random_b64url(size_t n)
{
	unsigned char	r[64];
	char		*s;

	if (n > sizeof r || gnutls_rnd(GNUTLS_RND_KEY, r, n) != 0)
		fatalx("%s: gnutls_rnd failed", __func__);
	s = b64url(r, n);
	explicit_bzero(r, sizeof r);
	return s;
}

/* The server's words, made printable and short, for a message. */
static void
safe_words(char *out, size_t outsz, const char *s)
{
	size_t	i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < outsz && i < 200; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[i] = '\0';
}

/* An error answer (RFC 6749 5.2): "error", "error_description". */
static int
grant_error(const struct oauth_json *j, int status, const char *what,
    struct error *err)
{
	char	e[210], d[210];

	safe_words(e, sizeof e, oauth_json_get(j, "error"));
	safe_words(d, sizeof d, oauth_json_get(j, "error_description"));
	if (e[0] == '\0')
		return error_set(err, ERR_AUTH, "%s: the authorization server "
		    "answered HTTP %d without an OAuth2 error", what, status);
	return error_set(err, ERR_AUTH, "%s: the authorization server "
	    "refused: %s%s%s", what, e, d[0] != '\0' ? ": " : "", d);
}

/* POST a form to an endpoint; its JSON, or -1 (also for a grant error). */
static int
endpoint_post(const struct oauth_provider *p, const char *url,
    const struct buf *form, const char *what, struct oauth_json *j,
    int *statusp, struct error *err)
{
	char	*body;
	size_t	 len;
	int	 status, rv;

	if (url == NULL)
		return error_set(err, ERR_CONFIG, "%s: no endpoint URL", what);
	if (oauth_http_post(url, form->data, p->ca_file, p->timeout_ms > 0 ?
	    p->timeout_ms : 30000, &status, &body, &len, err) == -1)
		return error_prefix(err, "%s", what);
	rv = oauth_json_parse(body, len, j, err);
	freezero_str(body);
	if (rv == -1)
		return error_prefix(err, "%s (HTTP %d)", what, status);
	*statusp = status;
	return 0;
}

/* A successful token answer (RFC 6749 5.1) into t. */
static int
grant_tokens(const struct oauth_json *j, struct oauth_tokens *t,
    const char *what, struct error *err)
{
	const char	*a = oauth_json_get(j, "access_token");
	const char	*type = oauth_json_get(j, "token_type");
	const char	*r = oauth_json_get(j, "refresh_token");
	const char	*e = oauth_json_get(j, "expires_in");
	long		 secs;

	memset(t, 0, sizeof *t);
	if (a == NULL || *a == '\0')
		return error_set(err, ERR_PROTO, "%s: the answer has no "
		    "access_token", what);
	if (type != NULL && strcasecmp_ascii(type, "Bearer") != 0)
		return error_set(err, ERR_PROTO, "%s: token_type %.40s, not "
		    "Bearer", what, type);
	if (strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/=") != strlen(a))
		return error_set(err, ERR_PROTO, "%s: the access token is not "
		    "a b64token (RFC 6750)", what);
	t->access = secret_strdup(a);
	if (r != NULL && *r != '\0')
		t->refresh = secret_strdup(r);
	if (e != NULL && (secs = strtol(e, NULL, 10)) > 0)
		t->expires = (int64_t)time(NULL) + secs;
	return 0;
}

static void
client_fields(struct buf *f, const struct oauth_provider *p)
{
	form_add(f, "client_id", p->client_id);
	form_add(f, "client_secret", p->client_secret);
}

/* One token request: 0 with t, 1 for "authorization_pending"/"slow_down"
 * (device polling; *slowp for the second), -1 with err set. */
static int
token_request(const struct oauth_provider *p, struct buf *form,
    const char *what, struct oauth_tokens *t, bool *slowp, struct error *err)
{
	struct oauth_json	 j;
	const char		*e;
	int			 status, rv;

	if (endpoint_post(p, p->token_url, form, what, &j, &status, err) == -1)
		return -1;
	if (status == 200)
		rv = grant_tokens(&j, t, what, err);
	else if (slowp != NULL && (e = oauth_json_get(&j, "error")) != NULL &&
	    (strcmp(e, "authorization_pending") == 0 ||
	    strcmp(e, "slow_down") == 0)) {
		*slowp = strcmp(e, "slow_down") == 0;
		rv = 1;
	} else
		rv = grant_error(&j, status, what, err);
	oauth_json_free(&j);
	return rv;
}

int
oauth_refresh(const struct oauth_provider *p, const char *refresh,
    struct oauth_tokens *t, struct error *err)
{
	struct buf	f = BUF_INIT(0);
	int		rv;

	form_add(&f, "grant_type", "refresh_token");
	form_add(&f, "refresh_token", refresh);
	client_fields(&f, p);
	rv = token_request(p, &f, "refreshing the OAuth2 token", t, NULL, err);
	explicit_bzero(f.data, f.len);
	buf_free(&f);
	return rv;
}

/* ---- Authorization code with PKCE ------------------------------------ */

struct oauth_code {
	const struct oauth_provider *p;
	int		 fd;		/* the loopback listener */
	char		*redirect;	/* http://127.0.0.1:PORT/ */
	char		*verifier;	/* PKCE, a secret */
	char		*state;
	char		*url;
};

struct oauth_code *
oauth_code_start(const struct oauth_provider *p, const char *login_hint,
    struct error *err)
{
	struct oauth_code	*c;
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof sin;
	unsigned char		 h[32];
	char			*challenge;
	struct buf		 q = BUF_INIT(0);

	if (p->auth_url == NULL || p->client_id == NULL) {
		error_set(err, ERR_CONFIG, "OAuth2: no authorization URL or "
		    "client id");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->p = p;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(c->fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(c->fd, 4) == -1 ||
	    getsockname(c->fd, (struct sockaddr *)&sin, &sl) == -1) {
		error_set(err, ERR_LOCAL, "OAuth2: loopback listener: %s",
		    strerror(errno));
		oauth_code_free(&c);
		return NULL;
	}
	xasprintf(&c->redirect, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	c->verifier = random_b64url(32);
	c->state = random_b64url(16);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, c->verifier,
	    strlen(c->verifier), h) != 0)
		fatalx("%s: SHA-256 failed", __func__);
	challenge = b64url(h, sizeof h);
	form_add(&q, "response_type", "code");
	form_add(&q, "client_id", p->client_id);
	form_add(&q, "redirect_uri", c->redirect);
	form_add(&q, "scope", p->scope);
	form_add(&q, "state", c->state);
	form_add(&q, "code_challenge", challenge);
	form_add(&q, "code_challenge_method", "S256");
	form_add(&q, "login_hint", login_hint);
	/* Google hands out a refresh token only when asked for offline use. */
	if (p->name != NULL && strcmp(p->name, "google") == 0) {
		form_add(&q, "access_type", "offline");
		form_add(&q, "prompt", "consent");
	}
	xasprintf(&c->url, "%s%c%s", p->auth_url, strchr(p->auth_url, '?') !=
	    NULL ? '&' : '?', buf_cstr(&q));
	buf_free(&q);
	freezero_str(challenge);
	return c;
}

const char *
oauth_code_url(const struct oauth_code *c)
{
	return c->url;
}

/* The value of name in a query string (percent-decoded), or NULL. */
static char *
query_get(const char *q, const char *name)
{
	size_t		 nl = strlen(name);
	const char	*p = q, *e;
	struct buf	 b = BUF_INIT(REDIRECT_REQUEST_MAX);
	char		*out;
	int		 hi, lo;

	while (p != NULL && *p != '\0') {
		e = p + strcspn(p, "&");
		if ((size_t)(e - p) > nl && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			for (p += nl + 1; p < e; p++) {
				if (*p == '+')
					buf_addc(&b, ' ');
				else if (*p == '%' && e - p >= 3 &&
				    sscanf(p + 1, "%1x%1x", &hi, &lo) == 2) {
					buf_addc(&b, (char)(hi << 4 | lo));
					p += 2;
				} else
					buf_addc(&b, *p);
			}
			out = secret_strdup(buf_cstr(&b));
			explicit_bzero(b.data, b.len);
			buf_free(&b);
			return out;
		}
		p = *e == '&' ? e + 1 : NULL;
	}
	buf_free(&b);
	return NULL;
}

static void
redirect_reply(int fd, const char *text)
{
	char	*r;
	ssize_t	 n;

	xasprintf(&r, "HTTP/1.1 200 OK\r\nContent-Type: text/html; "
	    "charset=utf-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n"
	    "%s", strlen(text), text);
	n = send(fd, r, strlen(r), MSG_NOSIGNAL);
	(void)n;
	free(r);
}

/*
 * One request to the listener: 1 with *codep (the code), 0 when it was
 * not the redirect (a favicon), -1 with err set (refused, wrong state).
 */
static int
code_take(struct oauth_code *c, int fd, int64_t deadline, char **codep,
    struct error *err)
{
	char		 req[REDIRECT_REQUEST_MAX + 1], *q, *sp, *v;
	size_t		 len = 0;
	ssize_t		 n;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	int		 left, rv = 0;

	while (len < REDIRECT_REQUEST_MAX) {
		left = (int)(deadline - (int64_t)now_ms());
		if (left <= 0 || poll(&pfd, 1, left) != 1)
			return 0;
		if ((n = recv(fd, req + len, REDIRECT_REQUEST_MAX - len, 0)) <= 0)
			return 0;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[len] = '\0';
	if (strncmp(req, "GET /", 5) != 0 || (sp = strchr(req + 4, ' ')) ==
	    NULL) {
		redirect_reply(fd, "Not for petrel.");
		return 0;
	}
	*sp = '\0';
	if ((q = strchr(req + 4, '?')) == NULL) {
		redirect_reply(fd, "Not for petrel.");
		return 0;
	}
	q++;
	v = query_get(q, "state");
	if (v == NULL || strcmp(v, c->state) != 0) {
		/* Not the answer to our request: a forgery, or stale. */
		freezero_str(v);
		redirect_reply(fd, "petrel: this answer does not match the "
		    "request (state); ignored.");
		explicit_bzero(req, sizeof req);
		return 0;
	}
	freezero_str(v);
	if ((v = query_get(q, "error")) != NULL) {
		char	e[210];

		safe_words(e, sizeof e, v);
		freezero_str(v);
		redirect_reply(fd, "petrel: the authorization was refused. You "
		    "may close this window.");
		rv = error_set(err, ERR_AUTH, "the authorization was refused: "
		    "%s", e);
	} else if ((*codep = query_get(q, "code")) != NULL) {
		redirect_reply(fd, "petrel is authorized. You may close this "
		    "window.");
		rv = 1;
	} else
		redirect_reply(fd, "Not for petrel.");
	explicit_bzero(req, sizeof req);
	return rv;
}

int
oauth_code_finish(struct oauth_code *c, int timeout_ms,
    struct oauth_tokens *t, struct error *err)
{
	int64_t		 deadline = (int64_t)now_ms() + timeout_ms;
	struct pollfd	 pfd = { .fd = c->fd, .events = POLLIN };
	char		*code = NULL;
	struct buf	 f = BUF_INIT(0);
	int		 fd, r, left;

	for (;;) {
		left = (int)(deadline - (int64_t)now_ms());
		if (left <= 0 || (r = poll(&pfd, 1, left)) == 0)
			return error_set(err, ERR_AUTH, "no answer from the "
			    "browser within %d s", timeout_ms / 1000);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return error_set(err, ERR_LOCAL, "poll: %s",
			    strerror(errno));
		}
		if ((fd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		r = code_take(c, fd, deadline, &code, err);
		close(fd);
		if (r == -1)
			return -1;
		if (r == 1)
			break;
	}
	form_add(&f, "grant_type", "authorization_code");
	form_add(&f, "code", code);
	form_add(&f, "redirect_uri", c->redirect);
	form_add(&f, "code_verifier", c->verifier);
	client_fields(&f, c->p);
	freezero_str(code);
	r = token_request(c->p, &f, "exchanging the authorization code", t,
	    NULL, err);
	explicit_bzero(f.data, f.len);
	buf_free(&f);
	return r;
}

void
oauth_code_free(struct oauth_code **cp)
{
	struct oauth_code	*c = *cp;

	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->redirect);
	freezero_str(c->verifier);
	freezero_str(c->state);
	free(c->url);
	free(c);
	*cp = NULL;
}

/* ---- Device authorization -------------------------------------------------- */

int
oauth_device_start(const struct oauth_provider *p, struct oauth_device *d,
    struct error *err)
{
	struct buf		 f = BUF_INIT(0);
	struct oauth_json	 j;
	const char		*v;
	int			 status, rv = -1;

	memset(d, 0, sizeof *d);
	if (p->device_url == NULL)
		return error_set(err, ERR_CONFIG, "OAuth2: %s has no device "
		    "authorization endpoint", p->name != NULL ? p->name :
		    "the provider");
	form_add(&f, "client_id", p->client_id);
	form_add(&f, "scope", p->scope);
	if (endpoint_post(p, p->device_url, &f, "device authorization", &j,
	    &status, err) == -1) {
		buf_free(&f);
		return -1;
	}
	buf_free(&f);
	if (status != 200) {
		rv = grant_error(&j, status, "device authorization", err);
		goto out;
	}
	if ((v = oauth_json_get(&j, "device_code")) == NULL || *v == '\0' ||
	    oauth_json_get(&j, "user_code") == NULL) {
		error_set(err, ERR_PROTO, "device authorization: no device_code "
		    "or user_code in the answer");
		goto out;
	}
	d->device_code = secret_strdup(v);
	d->user_code = xstrdup(oauth_json_get(&j, "user_code"));
	/* Google says verification_url. */
	if ((v = oauth_json_get(&j, "verification_uri")) != NULL ||
	    (v = oauth_json_get(&j, "verification_url")) != NULL)
		d->verification_uri = xstrdup(v);
	if ((v = oauth_json_get(&j, "verification_uri_complete")) != NULL)
		d->verification_uri_complete = xstrdup(v);
	d->interval = (v = oauth_json_get(&j, "interval")) != NULL ?
	    atoi(v) : 5;
	if (d->interval < DEVICE_INTERVAL_MIN || d->interval > 60)
		d->interval = 5;
	d->expires_in = (v = oauth_json_get(&j, "expires_in")) != NULL ?
	    atoi(v) : 600;
	if (d->expires_in <= 0 || d->expires_in > 3600)
		d->expires_in = 600;
	if (d->verification_uri == NULL) {
		error_set(err, ERR_PROTO, "device authorization: no "
		    "verification_uri in the answer");
		oauth_device_free(d);
		goto out;
	}
	rv = 0;
out:
	oauth_json_free(&j);
	return rv;
}

int
oauth_device_wait(const struct oauth_provider *p, const struct oauth_device *d,
    struct oauth_tokens *t, struct error *err)
{
	int64_t	deadline = (int64_t)now_ms() + (int64_t)d->expires_in * 1000;
	int	interval = d->interval, r;
	bool	slow = false;

	for (;;) {
		struct buf	f = BUF_INIT(0);

		form_add(&f, "grant_type",
		    "urn:ietf:params:oauth:grant-type:device_code");
		form_add(&f, "device_code", d->device_code);
		client_fields(&f, p);
		r = token_request(p, &f, "device authorization", t, &slow, err);
		explicit_bzero(f.data, f.len);
		buf_free(&f);
		if (r != 1)
			return r;
		if (slow)
			interval += 5;		/* RFC 8628 3.5 */
		if ((int64_t)now_ms() + interval * 1000 > deadline)
			return error_set(err, ERR_AUTH, "device authorization: "
			    "the code expired before it was approved");
		sleep((unsigned)interval);
	}
}

void
oauth_device_free(struct oauth_device *d)
{
	freezero_str(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->verification_uri_complete);
	memset(d, 0, sizeof *d);
}
