/*
 * The built-in OAuth2 of an account with oauth2_provider: its provider
 * (the profile, overridden by the account's oauth2_*_url keys), and its
 * tokens, kept in a private file, $XDG_DATA_HOME/petrel/oauth2/ACCOUNT
 * (0600 in 0700 directories, never in the cache):
 *
 *	refresh_token=...
 *	access_token=...
 *	expires=UNIX-TIME
 *
 * written whole through a temporary file and rename(2). An access token
 * is used until a minute before it expires, then refreshed on the worker
 * thread (network) and the file updated. With oauth2_store_command and
 * oauth2_refresh_token_command the refresh token lives in the user's own
 * store instead (a keyring, pass) and the file keeps only the access
 * token.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "engine-private.h"
#include "log.h"
#include "oauth.h"
#include "secret.h"
#include "xmalloc.h"

/* Refresh this long before the access token expires. */
#define OAUTH_EARLY_S	60
#define OAUTH_FILE_MAX	(16 * 1024)

bool
engine_oauth_builtin(const struct account *a)
{
	return a->oauth2_provider != NULL;
}

int
engine_oauth_provider(const struct account *a, struct oauth_provider *p,
    struct error *err)
{
	const char	*v;

	memset(p, 0, sizeof *p);
	if (a->oauth2_provider == NULL)
		return error_set(err, ERR_CONFIG, "account %s has no "
		    "oauth2_provider", a->name);
	if (strcmp(a->oauth2_provider, "custom") == 0)
		p->name = "custom";
	else if (oauth_profile(a->oauth2_provider, p) == -1)
		return error_set(err, ERR_CONFIG, "account %s: unknown "
		    "oauth2_provider %s", a->name, a->oauth2_provider);
	if ((v = conf_get(NULL, a, "oauth2_auth_url")) != NULL)
		p->auth_url = v;
	if ((v = conf_get(NULL, a, "oauth2_token_url")) != NULL)
		p->token_url = v;
	if ((v = conf_get(NULL, a, "oauth2_device_url")) != NULL)
		p->device_url = v;
	if ((v = conf_get(NULL, a, "oauth2_scope")) != NULL)
		p->scope = v;
	p->client_id = conf_get(NULL, a, "oauth2_client_id");
	p->client_secret = conf_get(NULL, a, "oauth2_client_secret");
	p->ca_file = a->tls_ca_file;
	p->timeout_ms = a->connect_timeout * 1000;
	return 0;
}

char *
engine_oauth_path(const struct account *a)
{
	char	*rel, *p;

	xasprintf(&rel, "oauth2/%s", a->name);
	p = path_data_file(rel);
	free(rel);
	return p;
}

/* 1 read (t filled), 0 no file yet, -1 error. */
static int
store_read(const char *path, struct oauth_tokens *t, struct error *err)
{
	char	*buf, *line, *next;
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	memset(t, 0, sizeof *t);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		return error_set(err, ERR_LOCAL, "%s: %s", path,
		    strerror(errno));
	}
	buf = secret_alloc(OAUTH_FILE_MAX + 1);
	while (len < OAUTH_FILE_MAX && (n = read(fd, buf + len,
	    OAUTH_FILE_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "refresh_token=", 14) == 0 && line[14] != '\0')
			t->refresh = secret_strdup(line + 14);
		else if (strncmp(line, "access_token=", 13) == 0 &&
		    line[13] != '\0')
			t->access = secret_strdup(line + 13);
		else if (strncmp(line, "expires=", 8) == 0)
			t->expires = strtoll(line + 8, NULL, 10);
	}
	secret_free(buf);
	return 1;
}

static int
store_write(const char *path, const struct oauth_tokens *t, struct error *err)
{
	struct buf	 b = BUF_INIT(0);
	int		 rv;

	buf_adds(&b, "# petrel's OAuth2 tokens for this account (petrel auth); "
	    "secret.\n");
	if (t->refresh != NULL)
		buf_printf(&b, "refresh_token=%s\n", t->refresh);
	if (t->access != NULL)
		buf_printf(&b, "access_token=%s\nexpires=%lld\n", t->access,
		    (long long)t->expires);
	rv = write_file_private(path, b.data, b.len, err);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rv;
}

static bool
own_store(const struct account *a)
{
	return conf_get(NULL, a, "oauth2_store_command") != NULL;
}

/* Keep t: the refresh token in the user's store when there is one. */
static int
tokens_save(const struct account *a, const char *path,
    const struct oauth_tokens *t, bool new_refresh, struct error *err)
{
	struct oauth_tokens	file = *t;

	if (own_store(a)) {
		if (new_refresh && t->refresh != NULL &&
		    account_store_secret(a, "oauth2_store_command", t->refresh,
		    err) == -1)
			return -1;
		file.refresh = NULL;
	}
	return store_write(path, &file, err);
}

int
engine_oauth_save(const struct account *a, const struct oauth_tokens *t,
    struct error *err)
{
	char	*path = engine_oauth_path(a);
	int	 rv = tokens_save(a, path, t, true, err);

	free(path);
	return rv;
}

int
engine_oauth_token(const struct account *a, bool force, char **tokenp,
    struct error *err)
{
	struct oauth_provider	 p;
	struct oauth_tokens	 t, nt;
	char			*path;
	int			 r;
	bool			 rotated;

	*tokenp = NULL;
	if (engine_oauth_provider(a, &p, err) == -1)
		return -1;
	path = engine_oauth_path(a);
	if ((r = store_read(path, &t, err)) == -1) {
		free(path);
		return -1;
	}
	if (!force && t.access != NULL &&
	    (t.expires == 0 || t.expires > (int64_t)time(NULL) + OAUTH_EARLY_S)) {
		*tokenp = t.access;
		t.access = NULL;
		oauth_tokens_free(&t);
		free(path);
		return 0;
	}
	if (t.refresh == NULL && own_store(a) && account_secret_command(a,
	    "oauth2_refresh_token_command", &t.refresh, err) == -1) {
		oauth_tokens_free(&t);
		free(path);
		return error_prefix(err, "the refresh token");
	}
	if (t.refresh == NULL) {
		oauth_tokens_free(&t);
		free(path);
		return error_set(err, ERR_AUTH, "account %s is not authorized "
		    "with %s yet: run \"petrel auth -a %s\"", a->name,
		    a->oauth2_provider, a->name);
	}
	if (oauth_refresh(&p, t.refresh, &nt, err) == -1) {
		oauth_tokens_free(&t);
		free(path);
		return error_prefix(err, "account %s", a->name);
	}
	/* A provider may rotate the refresh token; else the old one stays. */
	rotated = nt.refresh != NULL;
	if (nt.refresh == NULL) {
		nt.refresh = t.refresh;
		t.refresh = NULL;
	}
	if (tokens_save(a, path, &nt, rotated, err) == -1)
		log_warnx("%s: %s (the new token is used, not kept)", a->name,
		    err->msg);
	log_info("%s: OAuth2 access token refreshed", a->name);
	*tokenp = secret_strdup(nt.access);
	oauth_tokens_free(&nt);
	oauth_tokens_free(&t);
	free(path);
	return 0;
}
