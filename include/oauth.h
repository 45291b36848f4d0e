/*
 * OAuth2 for mail (src/oauth): the authorization code grant with PKCE
 * (RFC 6749, 7636) through a loopback redirect (RFC 8252), the device
 * authorization grant (RFC 8628), and refreshing an access token; the
 * profiles of Google and Microsoft. The calls block (with timeouts): the
 * engine's worker and `petrel auth` make them, never the UI thread.
 *
 * Every token returned is a secret (secret.h): free with
 * oauth_tokens_free().
 */
#ifndef PETREL_OAUTH_H
#define PETREL_OAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct oauth_provider {
	const char	*name;		/* "google", "microsoft", "custom" */
	const char	*auth_url;	/* authorization endpoint */
	const char	*token_url;
	const char	*device_url;	/* NULL: no device flow */
	const char	*scope;
	const char	*client_id;
	const char	*client_secret;	/* NULL for a public client */
	const char	*ca_file;	/* extra trust anchors, may be NULL */
	int		 timeout_ms;
};

/*
 * The endpoints and scope of a known provider ("google", "microsoft"):
 * fills those fields of p and returns 0, or -1 for an unknown name.
 */
int	oauth_profile(const char *name, struct oauth_provider *p);

struct oauth_tokens {
	char	*access;	/* the access token */
	char	*refresh;	/* may be NULL (not every answer has one) */
	int64_t	 expires;	/* time(): when access expires; 0 unknown */
};
void	oauth_tokens_free(struct oauth_tokens *);

/* Authorization code with PKCE: listen on 127.0.0.1, give the URL. */
struct oauth_code;
struct oauth_code *oauth_code_start(const struct oauth_provider *,
	    const char *login_hint, struct error *err);
/* The URL the user opens in a browser. */
const char *oauth_code_url(const struct oauth_code *);
/*
 * Wait (at most timeout_ms) for the browser's redirect to the loopback
 * listener, check its state, and exchange the code for tokens.
 */
int	oauth_code_finish(struct oauth_code *, int timeout_ms,
	    struct oauth_tokens *, struct error *err);
void	oauth_code_free(struct oauth_code **);

/* Device authorization: what to show the user, and the polling handle. */
struct oauth_device {
	char	*device_code;
	char	*user_code;
	char	*verification_uri;
	char	*verification_uri_complete;	/* may be NULL */
	int	 interval;			/* seconds between polls */
	int	 expires_in;
};
int	oauth_device_start(const struct oauth_provider *, struct oauth_device *,
	    struct error *err);
/* Poll until the user approved (0), refused or it expired (-1). */
int	oauth_device_wait(const struct oauth_provider *,
	    const struct oauth_device *, struct oauth_tokens *,
	    struct error *err);
void	oauth_device_free(struct oauth_device *);

/* A new access token for a refresh token. */
int	oauth_refresh(const struct oauth_provider *, const char *refresh,
	    struct oauth_tokens *, struct error *err);

/*
 * The module's HTTP client, for other documents too (petrel setup's
 * autoconfig): GET url (https, or http to loopback only), the body
 * (at most 256 KB; free with freezero_str) and the status.
 */
int	http_get(const char *url, const char *ca_file, int timeout_ms,
	    int *statusp, char **bodyp, size_t *lenp, struct error *err);

/* JSON objects as the endpoints send them (json.c), for the fuzzer too. */
#define OAUTH_JSON_MEMBERS	32
struct oauth_json {
	int	 n;
	char	*name[OAUTH_JSON_MEMBERS];
	char	*value[OAUTH_JSON_MEMBERS];	/* strings, numbers, true/false */
};
int		 oauth_json_parse(const char *text, size_t len,
		     struct oauth_json *, struct error *err);
const char	*oauth_json_get(const struct oauth_json *, const char *name);
void		 oauth_json_free(struct oauth_json *);

#endif
