/*
 * Account sections: URL parsing (imaps://user@host:port), the typed keys,
 * checks across keys, and the secret: a password (plain or from
 * password_command) or an OAuth2 access token (oauth2_token_command).
 */
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf-private.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"

extern char **environ;

/* Output of password_command we keep reading (the rest is drained). */
#define ACCOUNT_PWCMD_MAX	4096
/*
 * oauth2_token_command gets oauth2_token_timeout seconds (default 60) to
 * print a token; a password_command may wait for a passphrase typed on
 * the terminal, so it has no limit.
 */
#define ACCOUNT_TOKEN_TIMEOUT_S	60

const char *const account_known_keys[] = {
	"imap", "pop3", "password", "password_command", "tls_ca_file",
	"tls_fingerprint", "connect_timeout", "timeout", "pop3_delete",
	"apop", "auth", "pop3_headers_only", "pop3_delete_expunged",
	"compress", "imap_notify", "poll_interval", "new_mail_command",
	"oauth2_token_command", "oauth2_token_timeout", "oauth2_provider",
	"oauth2_client_id", "oauth2_client_secret", "oauth2_auth_url",
	"oauth2_token_url", "oauth2_device_url", "oauth2_scope",
	"oauth2_refresh_token_command", "oauth2_store_command", "tls_cert_file",
	"tls_key_file", "smtp", "smtp_password", "smtp_password_command",
	"smtp_auth", "from", "alternates", "record", "signature", "postponed",
	NULL
};

/* Keys that only mean something for a POP3 account. */
static const char *const account_pop3_keys[] = {
	"pop3_delete", "apop", "pop3_headers_only", "pop3_delete_expunged",
	NULL
};

static int
account_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) into a new string; NULL on a bad escape or control byte. */
static char *
account_pct_decode(const char *s, size_t len)
{
	char	*out = xmalloc(len + 1);
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 2 >= len)
				goto bad;
			if ((hi = account_hex(s[i + 1])) == -1 ||
			    (lo = account_hex(s[i + 2])) == -1)
				goto bad;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

static int
account_valid_hostname(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

int
account_parse_url(struct account *a, enum account_proto proto,
    const char *url, struct error *err)
{
	static const struct {
		const char	*scheme;
		enum account_proto proto;
		enum tls_mode	 tls;
		int		 port;
	} schemes[] = {
		{ "imaps", PROTO_IMAP, TLS_IMPLICIT, 993 },
		{ "imap", PROTO_IMAP, TLS_STARTTLS, 143 },
		{ "imap+insecure", PROTO_IMAP, TLS_NONE, 143 },
		{ "pop3s", PROTO_POP3, TLS_IMPLICIT, 995 },
		{ "pop3", PROTO_POP3, TLS_STARTTLS, 110 },
		{ "pop3+insecure", PROTO_POP3, TLS_NONE, 110 },
		{ "smtps", PROTO_SMTP, TLS_IMPLICIT, 465 },
		{ "smtp", PROTO_SMTP, TLS_STARTTLS, 587 },
		{ "smtp+insecure", PROTO_SMTP, TLS_NONE, 587 },
	};
	const char	*p, *at, *hs, *he, *ps, *end, *name;
	char		 tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr	 in6;
	uint64_t	 port;
	size_t		 i, n;
	int		 found = -1;

	name = proto == PROTO_IMAP ? "imap" : proto == PROTO_POP3 ? "pop3" :
	    "smtp";
	if ((p = strstr(url, "://")) == NULL)
		return error_set(err, ERR_CONFIG, "%s URL \"%s\" is not of the "
		    "form %s://USER@HOST[:PORT]", name, url,
		    proto == PROTO_IMAP ? "imaps" : "pop3s");
	n = (size_t)(p - url);
	for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (strlen(schemes[i].scheme) == n &&
		    strncasecmp_ascii(url, schemes[i].scheme, n) == 0)
			found = (int)i;
	}
	if (found == -1 || schemes[found].proto != proto)
		return error_set(err, ERR_CONFIG, "unknown %s URL scheme "
		    "\"%.*s\" (use %s)", name, (int)(n > 32 ? 32 : n), url,
		    proto == PROTO_IMAP ? "imaps, imap or imap+insecure" :
		    proto == PROTO_POP3 ? "pop3s, pop3 or pop3+insecure" :
		    "smtps, smtp or smtp+insecure");
	a->proto = proto;
	a->tls = schemes[found].tls;
	a->port = schemes[found].port;

	p += 3;
	end = p + strlen(p);
	if (end > p && end[-1] == '/')
		end--;
	if ((ps = memchr(p, '/', (size_t)(end - p))) != NULL ||
	    (ps = memchr(p, '?', (size_t)(end - p))) != NULL ||
	    (ps = memchr(p, '#', (size_t)(end - p))) != NULL)
		return error_set(err, ERR_CONFIG, "%s URL \"%s\": unexpected "
		    "\"%s\" after the host", name, url, ps);

	/* The user is everything before the last '@'. */
	at = NULL;
	for (hs = p; hs < end; hs++) {
		if (*hs == '@')
			at = hs;
	}
	if (at == NULL || at == p)
		return error_set(err, ERR_CONFIG, "%s URL \"%s\" has no user "
		    "(write %s://USER@HOST; %%40 stands for an @ in the user)",
		    name, url, schemes[found].scheme);
	if (memchr(p, ':', (size_t)(at - p)) != NULL)
		return error_set(err, ERR_CONFIG, "%s URL: do not put the "
		    "password in the URL, use password or password_command",
		    name);
	if ((a->user = account_pct_decode(p, (size_t)(at - p))) == NULL)
		return error_set(err, ERR_CONFIG, "%s URL \"%s\": bad %% escape "
		    "or control character in the user", name, url);

	hs = at + 1;
	if (*hs == '[') {
		if ((he = memchr(hs, ']', (size_t)(end - hs))) == NULL)
			return error_set(err, ERR_CONFIG, "%s URL \"%s\": "
			    "missing ']' after the IPv6 address", name, url);
		n = (size_t)(he - hs - 1);
		if (n == 0 || n >= sizeof tmp)
			goto badv6;
		memcpy(tmp, hs + 1, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET6, tmp, &in6) != 1)
			goto badv6;
		a->host = xstrdup(tmp);
		ps = he + 1;
	} else {
		he = memchr(hs, ':', (size_t)(end - hs));
		if (he == NULL)
			he = end;
		if (!account_valid_hostname(hs, (size_t)(he - hs)))
			return error_set(err, ERR_CONFIG, "%s URL \"%s\": bad "
			    "host name \"%.*s\"", name, url,
			    (int)(he - hs > 64 ? 64 : he - hs), hs);
		a->host = xmemdup0(hs, (size_t)(he - hs));
		ps = he;
	}
	if (ps < end) {
		if (*ps != ':' || parse_u64(ps + 1, (size_t)(end - ps - 1),
		    65535, &port) == -1 || port == 0)
			return error_set(err, ERR_CONFIG, "%s URL \"%s\": bad "
			    "port (1 to 65535)", name, url);
		a->port = (int)port;
	}
	return 0;
badv6:
	return error_set(err, ERR_CONFIG, "%s URL \"%s\": bad IPv6 address",
	    name, url);
}

char *
conf_fingerprint_normalise(const char *s)
{
	struct buf	b = BUF_INIT(128);
	int		hi, lo, nbytes = 0;

	if (!has_prefix_ci(s, "sha256:"))
		return NULL;
	s += 7;
	buf_adds(&b, "sha256:");
	while (*s != '\0') {
		if (nbytes > 0 && *s == ':')
			s++;
		if ((hi = account_hex(s[0])) == -1 ||
		    (lo = account_hex(s[1])) == -1 || nbytes == 32) {
			buf_free(&b);
			return NULL;
		}
		buf_printf(&b, "%s%c%c", nbytes > 0 ? ":" : "",
		    "0123456789ABCDEF"[hi], "0123456789ABCDEF"[lo]);
		s += 2;
		nbytes++;
	}
	if (nbytes != 32) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

static int
account_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	int	i;

	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp_ascii(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	}
	for (i = 0; no[i] != NULL; i++) {
		if (strcasecmp_ascii(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* "~/x" becomes $HOME/x, a relative path is taken from the config file's directory. */
static char *
account_path(const char *v, const char *conf_path)
{
	const char	*home, *slash;
	char		*p;

	if (v[0] == '~' && v[1] == '/' && (home = getenv("HOME")) != NULL &&
	    *home != '\0') {
		xasprintf(&p, "%s%s", home, v + 1);
		return p;
	}
	if (v[0] == '/' || (slash = strrchr(conf_path, '/')) == NULL)
		return xstrdup(v);
	xasprintf(&p, "%.*s/%s", (int)(slash - conf_path), conf_path, v);
	return p;
}

static int
account_is(const char *key, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(key, *list) == 0)
			return 1;
	}
	return 0;
}

/*
 * auth: for POP3 one of plain, login, user, apop; for IMAP a list, the
 * first one the server offers is used: scram-sha-256, scram-sha-1,
 * cram-md5, plain, login (SASL), or user (the LOGIN command).
 */
static int
account_check_auth(const struct account *a, const char *path, int line,
    struct error *err)
{
	static const char *const pop3[] = { "scram-sha-256", "scram-sha-1",
	    "cram-md5", "plain", "login", "user", "apop", "oauthbearer",
	    "xoauth2", "external", "scram-sha-256-plus", "scram-sha-1-plus",
	    NULL };
	static const char *const imap[] = { "scram-sha-256", "scram-sha-1",
	    "cram-md5", "plain", "login", "user", "oauthbearer", "xoauth2",
	    "external", "scram-sha-256-plus", "scram-sha-1-plus", NULL };
	static const char *const token[] = { "oauthbearer", "xoauth2", NULL };
	char	*list, *p, *w;
	int	 rv = 0;
	bool	 has_token = a->oauth2_token_command != NULL ||
	    a->oauth2_provider != NULL;

	if (a->proto == PROTO_POP3) {
		if (!account_is(a->auth, pop3))
			return error_set(err, ERR_CONFIG, "%s:%d: auth must be "
			    "one of scram-sha-256, scram-sha-1, cram-md5, plain, "
			    "login, user, apop, oauthbearer, xoauth2 or external "
			    "for a pop3 account", path, line);
	}
	list = xstrdup(a->auth);
	for (p = list; (w = strsep(&p, ", ")) != NULL;) {
		if (*w == '\0')
			continue;
		if (a->proto == PROTO_IMAP && !account_is(w, imap)) {
			rv = error_set(err, ERR_CONFIG, "%s:%d: auth: unknown "
			    "mechanism \"%s\" (scram-sha-256, scram-sha-1, "
			    "cram-md5, plain, login, user, oauthbearer, "
			    "xoauth2 or external)", path, line, w);
			break;
		}
		/* EXTERNAL: the certificate is the credential. */
		if (strcmp(w, "external") == 0) {
			if (a->tls_cert_file == NULL) {
				rv = error_set(err, ERR_CONFIG, "%s:%d: auth = "
				    "external needs tls_cert_file (the client "
				    "certificate)", path, line);
				break;
			}
			continue;
		}
		/* A token is not a password, nor the other way round. */
		if (account_is(w, token) != has_token) {
			rv = error_set(err, ERR_CONFIG, "%s:%d: auth = %s %s",
			    path, line, w, has_token ? "cannot carry the "
			    "token of oauth2_token_command (oauthbearer or "
			    "xoauth2 can)" : "needs oauth2_token_command or "
			    "oauth2_provider");
			break;
		}
	}
	free(list);
	return rv;
}

int
account_finish(struct account *a, const int *lines, const char *path,
    struct error *err)
{
	const char	*k, *v;
	uint64_t	 u;
	int		 i, url_line = -1, apop_set = 0, pop3_key = -1;
	int		 auth_line = 0, provider_line = 0;

	a->connect_timeout = 30;
	a->timeout = 120;
	a->oauth2_token_timeout = ACCOUNT_TOKEN_TIMEOUT_S;
	a->pop3_delete = POP3_DELETE_NEVER;
	a->pop3_delete_expunged = true;

	for (i = 0; i < a->nkeys; i++) {
		k = a->keys[i];
		v = a->values[i];
		if (account_is(k, account_known_keys) && *v == '\0')
			return error_set(err, ERR_CONFIG, "%s:%d: empty value "
			    "for %s", path, lines[i], k);
		if (strcmp(k, "imap") == 0 || strcmp(k, "pop3") == 0) {
			if (url_line != -1)
				return error_set(err, ERR_CONFIG, "%s:%d: "
				    "account %s has both imap and pop3 (one "
				    "account per server)", path, lines[i],
				    a->name);
			url_line = lines[i];
			if (account_parse_url(a, k[0] == 'i' ? PROTO_IMAP :
			    PROTO_POP3, v, err) == -1)
				return error_prefix(err, "%s:%d", path,
				    lines[i]);
		} else if (strcmp(k, "smtp") == 0) {
			struct account	t;

			memset(&t, 0, sizeof t);
			if (account_parse_url(&t, PROTO_SMTP, v, err) == -1) {
				free(t.user);
				free(t.host);
				return error_prefix(err, "%s:%d", path,
				    lines[i]);
			}
			free(a->smtp_host);
			free(a->smtp_user);
			a->smtp_host = t.host;
			a->smtp_user = t.user;
			a->smtp_port = t.port;
			a->smtp_tls = t.tls;
		} else if (strcmp(k, "from") == 0) {
			if (strpbrk(v, "\r\n") != NULL || strchr(v, '@') == NULL)
				return error_set(err, ERR_CONFIG, "%s:%d: from "
				    "must be an address, as in from = Name "
				    "<user@example.org>", path, lines[i]);
			free(a->from);
			a->from = xstrdup(v);
		} else if (strcmp(k, "record") == 0) {
			free(a->record);
			a->record = xstrdup(v);
		} else if (strcmp(k, "signature") == 0) {
			free(a->signature);
			a->signature = account_path(v, path);
		} else if (strcmp(k, "password") == 0) {
			a->password = secret_strdup(v);
		} else if (strcmp(k, "password_command") == 0) {
			a->password_command = xstrdup(v);
		} else if (strcmp(k, "oauth2_token_command") == 0) {
			a->oauth2_token_command = xstrdup(v);
		} else if (strcmp(k, "oauth2_provider") == 0) {
			if (strcmp(v, "google") != 0 &&
			    strcmp(v, "microsoft") != 0 &&
			    strcmp(v, "custom") != 0)
				return error_set(err, ERR_CONFIG, "%s:%d: "
				    "oauth2_provider must be google, microsoft "
				    "or custom", path, lines[i]);
			a->oauth2_provider = xstrdup(v);
			provider_line = lines[i];
		} else if (strcmp(k, "tls_ca_file") == 0) {
			a->tls_ca_file = account_path(v, path);
			if (access(a->tls_ca_file, R_OK) == -1)
				return error_set(err, ERR_CONFIG, "%s:%d: "
				    "tls_ca_file %s: %s", path, lines[i],
				    a->tls_ca_file, strerror(errno));
		} else if (strcmp(k, "tls_cert_file") == 0 ||
		    strcmp(k, "tls_key_file") == 0) {
			char **f = k[4] == 'c' ? &a->tls_cert_file :
			    &a->tls_key_file;

			free(*f);
			*f = account_path(v, path);
			if (access(*f, R_OK) == -1)
				return error_set(err, ERR_CONFIG, "%s:%d: %s %s: "
				    "%s", path, lines[i], k, *f,
				    strerror(errno));
		} else if (strcmp(k, "tls_fingerprint") == 0) {
			if ((a->tls_fingerprint =
			    conf_fingerprint_normalise(v)) == NULL)
				return error_set(err, ERR_CONFIG, "%s:%d: bad "
				    "tls_fingerprint (expected sha256: and 32 "
				    "hex bytes, as in sha256:AB:CD:...)", path,
				    lines[i]);
		} else if (strcmp(k, "connect_timeout") == 0 ||
		    strcmp(k, "timeout") == 0 ||
		    strcmp(k, "oauth2_token_timeout") == 0) {
			if (parse_u64(v, strlen(v), CONF_TIMEOUT_MAX, &u) == -1
			    || u == 0)
				return error_set(err, ERR_CONFIG, "%s:%d: %s "
				    "must be a number of seconds from 1 to %d",
				    path, lines[i], k, CONF_TIMEOUT_MAX);
			if (k[0] == 'c')
				a->connect_timeout = (int)u;
			else if (k[0] == 'o')
				a->oauth2_token_timeout = (int)u;
			else
				a->timeout = (int)u;
		} else if (strcmp(k, "pop3_delete") == 0) {
			if (strcasecmp_ascii(v, "never") == 0)
				a->pop3_delete = POP3_DELETE_NEVER;
			else if (strcasecmp_ascii(v, "immediately") == 0)
				a->pop3_delete = POP3_DELETE_IMMEDIATELY;
			else if (has_prefix_ci(v, "after:") &&
			    parse_u64(v + 6, strlen(v + 6), CONF_DAYS_MAX,
			    &u) == 0 && u > 0) {
				a->pop3_delete = POP3_DELETE_AFTER;
				a->pop3_delete_days = (int)u;
			} else
				return error_set(err, ERR_CONFIG, "%s:%d: "
				    "pop3_delete must be never, after:DAYS "
				    "(1 to %d) or immediately", path, lines[i],
				    CONF_DAYS_MAX);
		} else if (strcmp(k, "apop") == 0 ||
		    strcmp(k, "pop3_headers_only") == 0 ||
		    strcmp(k, "pop3_delete_expunged") == 0) {
			bool	b;

			if (account_bool(v, &b) == -1)
				return error_set(err, ERR_CONFIG, "%s:%d: %s "
				    "must be yes or no", path, lines[i], k);
			if (k[0] == 'a') {
				a->pop3_apop = b;
				apop_set = 1;
			} else if (strcmp(k, "pop3_headers_only") == 0)
				a->pop3_headers_only = b;
			else
				a->pop3_delete_expunged = b;
		} else if (strcmp(k, "auth") == 0) {
			char	*m = xstrdup(v), *c;

			for (c = m; *c != '\0'; c++) {
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			}
			free(a->auth);
			a->auth = m;	/* checked below, by protocol */
			auth_line = lines[i];
		}
		if (account_is(k, account_pop3_keys) && pop3_key == -1)
			pop3_key = i;
	}

	if (url_line == -1)
		return error_set(err, ERR_CONFIG, "%s:%d: account %s needs "
		    "imap = imaps://USER@HOST or pop3 = pop3s://USER@HOST",
		    path, a->line, a->name);
	if (a->proto == PROTO_IMAP && pop3_key != -1)
		return error_set(err, ERR_CONFIG, "%s:%d: %s only applies to "
		    "pop3 accounts", path, lines[pop3_key],
		    a->keys[pop3_key]);
	if (a->password != NULL && a->password_command != NULL)
		return error_set(err, ERR_CONFIG, "%s:%d: account %s sets both "
		    "password and password_command; keep one", path, a->line,
		    a->name);
	if (a->oauth2_token_command != NULL && (a->password != NULL ||
	    a->password_command != NULL))
		return error_set(err, ERR_CONFIG, "%s:%d: account %s sets "
		    "oauth2_token_command and a password; keep one", path,
		    a->line, a->name);
	if (a->oauth2_provider != NULL && (a->password != NULL ||
	    a->password_command != NULL || a->oauth2_token_command != NULL))
		return error_set(err, ERR_CONFIG, "%s:%d: account %s sets "
		    "oauth2_provider and a password or oauth2_token_command; "
		    "keep one", path, provider_line, a->name);
	if ((conf_get(NULL, a, "oauth2_refresh_token_command") == NULL) !=
	    (conf_get(NULL, a, "oauth2_store_command") == NULL) ||
	    (a->oauth2_provider == NULL &&
	    conf_get(NULL, a, "oauth2_store_command") != NULL))
		return error_set(err, ERR_CONFIG, "%s:%d: account %s: "
		    "oauth2_store_command and oauth2_refresh_token_command go "
		    "together, with oauth2_provider", path, a->line, a->name);
	if (a->oauth2_provider != NULL &&
	    conf_get(NULL, a, "oauth2_client_id") == NULL)
		return error_set(err, ERR_CONFIG, "%s:%d: oauth2_provider needs "
		    "oauth2_client_id (the id of an app registered with the "
		    "provider)", path, provider_line);
	if (a->oauth2_provider != NULL &&
	    strcmp(a->oauth2_provider, "custom") == 0 &&
	    (conf_get(NULL, a, "oauth2_token_url") == NULL ||
	    (conf_get(NULL, a, "oauth2_auth_url") == NULL &&
	    conf_get(NULL, a, "oauth2_device_url") == NULL)))
		return error_set(err, ERR_CONFIG, "%s:%d: oauth2_provider = "
		    "custom needs oauth2_token_url and oauth2_auth_url (or "
		    "oauth2_device_url)", path, provider_line);
	if (a->auth != NULL && account_check_auth(a, path, auth_line,
	    err) == -1)
		return -1;
	if (a->auth != NULL && strcmp(a->auth, "apop") == 0) {
		if (apop_set && !a->pop3_apop)
			return error_set(err, ERR_CONFIG, "%s:%d: auth = apop "
			    "contradicts apop = no", path, a->line);
		a->pop3_apop = true;
	}
	return 0;
}

/*
 * Read the command's whole output (bounded), keeping the first line;
 * timeout_ms > 0 ends the wait with a timeout (the caller kills it).
 */
static int
account_read_first_line(int fd, char **linep, int timeout_ms, bool *timedout,
    struct error *err, const char *name, const char *key)
{
	char		*buf = secret_alloc(ACCOUNT_PWCMD_MAX + 1), drain[512];
	size_t		 len = 0, n;
	ssize_t		 r;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	int64_t		 deadline = (int64_t)now_ms() + timeout_ms, left;

	*timedout = false;
	for (;;) {
		if (timeout_ms > 0) {
			if ((left = deadline - (int64_t)now_ms()) <= 0 ||
			    poll(&pfd, 1, (int)left) == 0) {
				*timedout = true;
				freezero_str(buf);
				return error_set(err, ERR_AUTH, "account %s: %s "
				    "printed nothing in %d s", name, key,
				    timeout_ms / 1000);
			}
		}
		if (len < ACCOUNT_PWCMD_MAX)
			r = read(fd, buf + len, ACCOUNT_PWCMD_MAX - len);
		else
			r = read(fd, drain, sizeof drain);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			freezero_str(buf);
			return error_set(err, ERR_LOCAL, "account %s: reading "
			    "%s output: %s", name, key, strerror(errno));
		}
		if (r == 0)
			break;
		if (len < ACCOUNT_PWCMD_MAX)
			len += (size_t)r;
	}
	buf[len] = '\0';
	n = strcspn(buf, "\n");
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	explicit_bzero(buf + n, len - n);
	*linep = buf;
	return 0;
}

/*
 * An OAuth2 bearer token is a b64token (RFC 6750 2.1): anything else
 * (a space, a ^A) could add fields to the SASL message it goes into.
 */
static bool
account_token_ok(const char *t)
{
	size_t	i = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-._~+/");

	if (i == 0)
		return false;
	i += strspn(t + i, "=");
	return t[i] == '\0';
}

/*
 * What the command wrote on stderr, for the error message: its last line
 * that is not blank, at most 200 bytes, control bytes replaced. The command
 * writes there behind the TUI's back otherwise, so it is never inherited.
 */
static void
account_stderr_tail(int fd, char *out, size_t outsz)
{
	char		 buf[1024];
	const char	*p, *e, *start;
	ssize_t		 r;
	off_t		 size;
	size_t		 i, n;

	out[0] = '\0';
	if ((size = lseek(fd, 0, SEEK_END)) <= 0)
		return;
	if (lseek(fd, size > (off_t)sizeof buf ? size - (off_t)sizeof buf : 0,
	    SEEK_SET) == -1)
		return;
	if ((r = read(fd, buf, sizeof buf)) <= 0)
		return;
	e = buf + r;
	while (e > buf && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' '))
		e--;
	for (start = p = buf; p < e; p++)
		if (*p == '\n')
			start = p + 1;
	n = (size_t)(e - start);
	if (n > 200)
		n = 200;
	if (n > outsz - 1)
		n = outsz - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)start[i];

		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* err gets ": stderr said" appended when the command said anything. */
static int
account_command_error(struct error *err, int efd)
{
	char	tail[256];
	size_t	n;

	account_stderr_tail(efd, tail, sizeof tail);
	if (tail[0] != '\0' && err != NULL) {
		n = strlen(err->msg);
		snprintf(err->msg + n, sizeof err->msg - n, ": %s", tail);
	}
	return -1;
}

/*
 * Start command through /bin/sh -c, its stderr into an anonymous file
 * (*efdp, for the message), and a pipe to its stdout (we read) or from
 * its stdin (we_write): our end in *pfdp.
 */
static int
account_spawn(const struct account *a, const char *key, const char *command,
    bool we_write, int *pfdp, int *efdp, pid_t *pidp, struct error *err)
{
	posix_spawn_file_actions_t	 fa;
	char				*argv[4];
	int				 fds[2], efd, e;

	if ((efd = memfd_create("petrel-cmd-stderr", MFD_CLOEXEC)) == -1)
		return error_set(err, ERR_LOCAL, "memfd_create: %s",
		    strerror(errno));
	if (pipe2(fds, O_CLOEXEC) == -1) {
		close(efd);
		return error_set(err, ERR_LOCAL, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	if (we_write) {
		posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
		posix_spawn_file_actions_adddup2(&fa, efd, STDOUT_FILENO);
	} else
		posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, efd, STDERR_FILENO);
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)(uintptr_t)command;
	argv[3] = NULL;
	e = posix_spawn(pidp, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(we_write ? fds[0] : fds[1]);
	if (e != 0) {
		close(we_write ? fds[1] : fds[0]);
		close(efd);
		return error_set(err, ERR_CONFIG, "account %s: cannot run %s: "
		    "%s", a->name, key, strerror(e));
	}
	*pfdp = we_write ? fds[1] : fds[0];
	*efdp = efd;
	return 0;
}

/*
 * Run password_command (or oauth2_token_command: key) through /bin/sh -c
 * with petrel's stdin (so a passphrase prompt on the terminal, e.g.
 * pinentry-tty, works), stdout to a pipe and stderr to an anonymous file:
 * what it says there goes into the error message, never onto the terminal
 * under the TUI.
 */
static int
account_run_command(const struct account *a, const char *key,
    const char *command, int timeout_ms, char **pwp, struct error *err)
{
	bool				 timedout;
	char				*line = NULL;
	pid_t				 pid;
	int				 pfd, efd, status, rv;

	if (account_spawn(a, key, command, false, &pfd, &efd, &pid, err) == -1)
		return -1;
	rv = account_read_first_line(pfd, &line, timeout_ms, &timedout, err,
	    a->name, key);
	close(pfd);
	if (timedout)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			freezero_str(line);
			close(efd);
			return error_set(err, ERR_LOCAL, "waitpid: %s",
			    strerror(errno));
		}
	}
	if (rv == -1) {
		close(efd);
		return -1;
	}
	rv = -1;
	if (WIFSIGNALED(status))
		error_set(err, ERR_AUTH, "account %s: %s killed by signal %d",
		    a->name, key, WTERMSIG(status));
	else if (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126)
		error_set(err, ERR_CONFIG, "account %s: %s could not be run "
		    "(exit status %d: command not found or not executable)",
		    a->name, key, WEXITSTATUS(status));
	else if (WEXITSTATUS(status) != 0)
		error_set(err, ERR_AUTH, "account %s: %s failed (exit status "
		    "%d)", a->name, key, WEXITSTATUS(status));
	else if (line[0] == '\0')
		error_set(err, ERR_AUTH, "account %s: %s printed no %s",
		    a->name, key, timeout_ms > 0 ? "token" : "password");
	else if (strcmp(key, "oauth2_token_command") == 0 &&
	    !account_token_ok(line))
		/* Never quoted: it may be a secret printed wrongly. */
		error_set(err, ERR_AUTH, "account %s: %s printed something "
		    "that is not an OAuth2 access token (RFC 6750 b64token)",
		    a->name, key);
	else
		rv = 0;
	if (rv == -1) {
		freezero_str(line);
		account_command_error(err, efd);
	} else
		*pwp = line;
	close(efd);
	return rv;
}

int
account_secret_command(const struct account *a, const char *key, char **outp,
    struct error *err)
{
	const char	*cmd = conf_get(NULL, a, key);

	*outp = NULL;
	if (cmd == NULL)
		return error_set(err, ERR_CONFIG, "account %s has no %s",
		    a->name, key);
	return account_run_command(a, key, cmd, a->oauth2_token_timeout * 1000,
	    outp, err);
}

/*
 * Give a secret to the command of key on its standard input (one line),
 * its stderr kept for the message; killed after oauth2_token_timeout.
 */
int
account_store_secret(const struct account *a, const char *key,
    const char *secret, struct error *err)
{
	const char			*cmd = conf_get(NULL, a, key);
	pid_t				 pid;
	int				 pfd, efd, status, waited = 0;
	size_t				 len = strlen(secret);
	sigset_t			 set, old;

	if (cmd == NULL)
		return error_set(err, ERR_CONFIG, "account %s has no %s",
		    a->name, key);
	if (account_spawn(a, key, cmd, true, &pfd, &efd, &pid, err) == -1)
		return -1;
	/* A command that exits early must not kill us with SIGPIPE. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (write(pfd, secret, len) != (ssize_t)len || write(pfd, "\n", 1) != 1)
		log_debug("%s: %s did not read the secret", a->name, key);
	close(pfd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (++waited > a->oauth2_token_timeout * 10) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(efd);
			return error_set(err, ERR_LOCAL, "account %s: %s did not "
			    "finish in %d s", a->name, key,
			    a->oauth2_token_timeout);
		}
		usleep(100 * 1000);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		error_set(err, ERR_LOCAL, "account %s: %s failed (%s %d)",
		    a->name, key, WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		account_command_error(err, efd);
		close(efd);
		return -1;
	}
	close(efd);
	return 0;
}

bool
account_smtp_own_secret(const struct account *a)
{
	return conf_get(NULL, a, "smtp_password") != NULL ||
	    conf_get(NULL, a, "smtp_password_command") != NULL;
}

int
account_smtp_password(const struct account *a, char **pwp, struct error *err)
{
	const char	*v;

	*pwp = NULL;
	if ((v = conf_get(NULL, a, "smtp_password")) != NULL) {
		*pwp = secret_strdup(v);
		return 0;
	}
	if ((v = conf_get(NULL, a, "smtp_password_command")) != NULL)
		return account_run_command(a, "smtp_password_command", v, 0,
		    pwp, err);
	return account_password(a, pwp, err);
}

/* The address inside "Name <addr>" (or the whole of a bare one). */
static void
account_addr_part(const char *s, size_t len, const char **ap, size_t *lenp)
{
	const char	*lt = memchr(s, '<', len), *gt;

	if (lt != NULL && (gt = memchr(lt, '>', len - (size_t)(lt - s))) !=
	    NULL) {
		*ap = lt + 1;
		*lenp = (size_t)(gt - lt - 1);
		return;
	}
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*ap = s;
	*lenp = len;
}

static bool
account_addr_eq(const char *s, size_t len, const char *addr)
{
	const char	*a;
	size_t		 n;

	account_addr_part(s, len, &a, &n);
	return n > 0 && n == strlen(addr) && strncasecmp_ascii(a, addr, n) == 0;
}

bool
account_is_own_address(const struct account *a, const char *addr)
{
	const char	*alt, *p, *e;

	if (a->from != NULL && account_addr_eq(a->from, strlen(a->from), addr))
		return true;
	if (a->user != NULL && strchr(a->user, '@') != NULL &&
	    account_addr_eq(a->user, strlen(a->user), addr))
		return true;
	if ((alt = conf_get(NULL, a, "alternates")) == NULL)
		return false;
	/* Addresses separated by spaces or commas. */
	for (p = alt; *p != '\0'; p = e) {
		p += strspn(p, " ,\t");
		e = p + strcspn(p, " ,\t");
		if (e > p && account_addr_eq(p, (size_t)(e - p), addr))
			return true;
	}
	return false;
}

bool
account_has_secret(const struct account *a)
{
	if (a->password != NULL || a->password_command != NULL ||
	    a->oauth2_token_command != NULL || a->oauth2_provider != NULL)
		return true;
	/* A certificate and nothing else: SASL EXTERNAL. */
	return a->tls_cert_file == NULL;
}

int
account_password(const struct account *a, char **pwp, struct error *err)
{
	*pwp = NULL;
	if (!account_has_secret(a)) {
		*pwp = secret_strdup("");
		return 0;
	}
	if (a->password != NULL) {
		*pwp = secret_strdup(a->password);
		return 0;
	}
	if (a->password_command != NULL)
		return account_run_command(a, "password_command",
		    a->password_command, 0, pwp, err);
	if (a->oauth2_token_command != NULL)
		return account_run_command(a, "oauth2_token_command",
		    a->oauth2_token_command, a->oauth2_token_timeout * 1000,
		    pwp, err);
	return error_set(err, ERR_CONFIG, "account %s has no password: set "
	    "password_command (or password) in its section, or "
	    "oauth2_token_command", a->name);
}
