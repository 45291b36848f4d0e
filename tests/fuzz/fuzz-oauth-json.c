/*
 * libFuzzer target for what an OAuth2 authorization server sends: the
 * JSON reader (token, error and device answers) and the URL parser (a
 * hostile autoconfig or config value). Every member kept must be a
 * NUL-free string of the length it has; a URL accepted must be https,
 * or http to a loopback host.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth.h"
#include "../../src/oauth/oauth-private.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oauth_json	 j;
	struct oauth_url	 u;
	struct error		 err;
	char			*s;
	int			 i;

	if (oauth_json_parse((const char *)data, size, &j, &err) == 0) {
		FUZZ_ASSERT(j.n <= OAUTH_JSON_MEMBERS);
		for (i = 0; i < j.n; i++) {
			FUZZ_ASSERT(j.name[i] != NULL && j.value[i] != NULL);
			FUZZ_ASSERT(oauth_json_get(&j, j.name[i]) != NULL);
		}
		oauth_json_free(&j);
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (oauth_url_parse(s, &u, &err) == 0) {
		FUZZ_ASSERT(u.host != NULL && u.path != NULL && u.path[0] == '/');
		FUZZ_ASSERT(u.port >= 1 && u.port <= 65535);
		FUZZ_ASSERT(u.tls || oauth_is_loopback(u.host));
		FUZZ_ASSERT(strpbrk(u.path, " \r\n") == NULL);
		oauth_url_free(&u);
	}
	free(s);
	return 0;
}
