/* Inside src/oauth: URLs and the HTTP client. */
#ifndef PETREL_OAUTH_PRIVATE_H
#define PETREL_OAUTH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct oauth_url {
	bool	 tls;
	char	*host;
	int	 port;
	char	*path;		/* "/..." with the query */
};

bool	oauth_is_loopback(const char *host);
/* https://, or http:// to a loopback address only. */
int	oauth_url_parse(const char *url, struct oauth_url *, struct error *err);
void	oauth_url_free(struct oauth_url *);
/* POST form; the body (a secret string) and the HTTP status. */
int	oauth_http_post(const char *url, const char *form, const char *ca_file,
	    int timeout_ms, int *statusp, char **bodyp, size_t *lenp,
	    struct error *err);

#endif
