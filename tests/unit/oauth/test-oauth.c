/* Unit tests of the OAuth2 module: its JSON reader and URL policy. */
#include <stdlib.h>
#include <string.h>

#include "oauth.h"
#include "../../../src/oauth/oauth-private.h"
#include "test.h"

static int
parse(const char *s, struct oauth_json *j, struct error *err)
{
	return oauth_json_parse(s, strlen(s), j, err);
}

static void
test_json(void)
{
	struct oauth_json	j;
	struct error		err;

	T_EQ_INT(parse(" {\"access_token\":\"ya29.x\",\"expires_in\":3599,"
	    "\"ok\":true,\"n\":null,\"nested\":{\"a\":[1,2,{\"b\":\"c\"}]},"
	    "\"e\":\"\"} ", &j, &err), 0);
	T_EQ_STR(oauth_json_get(&j, "access_token"), "ya29.x");
	T_EQ_STR(oauth_json_get(&j, "expires_in"), "3599");
	T_EQ_STR(oauth_json_get(&j, "ok"), "true");
	T_EQ_STR(oauth_json_get(&j, "e"), "");
	T_ASSERT(oauth_json_get(&j, "n") == NULL);	/* null: absent */
	T_ASSERT(oauth_json_get(&j, "nested") == NULL);	/* not kept */
	T_ASSERT(oauth_json_get(&j, "b") == NULL);	/* not at the top */
	oauth_json_free(&j);

	/* Escapes, a surrogate pair to UTF-8. */
	T_EQ_INT(parse("{\"d\":\"a\\\"b\\\\c\\/\\n\\u00e9\\ud83d\\ude00\"}", &j,
	    &err), 0);
	T_EQ_STR(oauth_json_get(&j, "d"), "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");
	oauth_json_free(&j);

	/* Refused: each with a message. */
	T_EQ_INT(parse("", &j, &err), -1);
	T_EQ_INT(parse("[1]", &j, &err), -1);
	T_EQ_INT(parse("{\"a\":1", &j, &err), -1);
	T_EQ_INT(parse("{\"a\":1}x", &j, &err), -1);
	T_EQ_INT(parse("{\"a\":\"\\u0000\"}", &j, &err), -1);
	T_ASSERT(strstr(err.msg, "NUL") != NULL);
	T_EQ_INT(parse("{\"a\":\"\\ud800x\"}", &j, &err), -1);
	T_EQ_INT(parse("{\"a\":\"raw\nline\"}", &j, &err), -1);
	T_EQ_INT(parse("{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", &j,
	    &err), -1);
	T_ASSERT(strstr(err.msg, "deep") != NULL);
	T_EQ_INT(parse("{\"a\":tru}", &j, &err), -1);
	T_EQ_INT(err.cls, ERR_PROTO);
}

static void
test_json_bounds(void)
{
	struct oauth_json	 j;
	struct error		 err;
	char			*s;
	size_t			 n = 20 * 1024, i;

	/* A string over the limit. */
	s = malloc(n + 16);
	strcpy(s, "{\"a\":\"");
	for (i = 6; i < n; i++)
		s[i] = 'x';
	strcpy(s + n, "\"}");
	T_EQ_INT(parse(s, &j, &err), -1);
	T_ASSERT(strstr(err.msg, "too long") != NULL);
	free(s);
	/* Too many members. */
	s = malloc(64 * 16);
	strcpy(s, "{");
	for (i = 0; i < 40; i++)
		sprintf(s + strlen(s), "%s\"k%zu\":1", i > 0 ? "," : "", i);
	strcat(s, "}");
	T_EQ_INT(parse(s, &j, &err), -1);
	T_ASSERT(strstr(err.msg, "too many") != NULL);
	free(s);
}

static void
test_url(void)
{
	struct oauth_url	u;
	struct error		err;

	T_EQ_INT(oauth_url_parse("https://oauth2.googleapis.com/token", &u,
	    &err), 0);
	T_ASSERT(u.tls);
	T_EQ_STR(u.host, "oauth2.googleapis.com");
	T_EQ_INT(u.port, 443);
	T_EQ_STR(u.path, "/token");
	oauth_url_free(&u);
	T_EQ_INT(oauth_url_parse("https://[::1]:8443?x=1", &u, &err), 0);
	T_EQ_STR(u.host, "::1");
	T_EQ_INT(u.port, 8443);
	T_EQ_STR(u.path, "/?x=1");
	oauth_url_free(&u);
	T_EQ_INT(oauth_url_parse("http://127.0.0.1:9/t", &u, &err), 0);
	T_ASSERT(!u.tls);
	oauth_url_free(&u);
	/* Clear text only to loopback; no user info; a sane port. */
	T_EQ_INT(oauth_url_parse("http://mail.example.org/t", &u, &err), -1);
	T_ASSERT(strstr(err.msg, "loopback") != NULL);
	T_EQ_INT(oauth_url_parse("http://10.0.0.1/t", &u, &err), -1);
	T_EQ_INT(oauth_url_parse("https://user@evil/t", &u, &err), -1);
	T_EQ_INT(oauth_url_parse("https://h:0/t", &u, &err), -1);
	T_EQ_INT(oauth_url_parse("https://h:99999/t", &u, &err), -1);
	T_EQ_INT(oauth_url_parse("ftp://h/t", &u, &err), -1);
	T_EQ_INT(oauth_url_parse("https://h/a b", &u, &err), -1);
	T_ASSERT(oauth_is_loopback("127.1.2.3"));
	T_ASSERT(oauth_is_loopback("::1"));
	T_ASSERT(!oauth_is_loopback("128.0.0.1"));
}

static void
test_profiles(void)
{
	struct oauth_provider	p;

	memset(&p, 0, sizeof p);
	T_EQ_INT(oauth_profile("google", &p), 0);
	T_EQ_STR(p.scope, "https://mail.google.com/");
	T_ASSERT(strncmp(p.token_url, "https://", 8) == 0);
	T_EQ_INT(oauth_profile("microsoft", &p), 0);
	T_ASSERT(strstr(p.scope, "IMAP.AccessAsUser.All") != NULL);
	T_ASSERT(strstr(p.scope, "offline_access") != NULL);
	T_EQ_INT(oauth_profile("yahoo", &p), -1);
}

static const struct test tests[] = {
	{ "json", test_json },
	{ "json_bounds", test_json_bounds },
	{ "url", test_url },
	{ "profiles", test_profiles },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
