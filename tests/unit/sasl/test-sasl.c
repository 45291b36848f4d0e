/* Unit tests of the SASL mechanisms and base64. */
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "test.h"
#include "xmalloc.h"

static void
test_b64(void)
{
	char	*s;
	size_t	 len;

	s = b64_encode("\0alice\0secret", 13);
	T_EQ_STR(s, "AGFsaWNlAHNlY3JldA==");
	free(s);
	T_EQ_INT(b64_decode("AGFsaWNlAHNlY3JldA==", 20, &s, &len), 0);
	T_EQ_MEM(s, len, "\0alice\0secret", 13);
	free(s);
	T_EQ_INT(b64_decode("!!!!", 4, &s, &len), -1);
	T_EQ_INT(b64_decode("", 0, &s, &len), 0);
	T_EQ_INT(len, 0);
	free(s);
}

static void
test_choose(void)
{
	const char	*offer1[] = { "CRAM-MD5", "login", "PLAIN" };
	const char	*offer2[] = { "LOGIN", "XOAUTH2" };
	const char	*offer3[] = { "GSSAPI" };

	T_EQ_STR(sasl_choose(offer1, 3), "PLAIN");
	T_EQ_STR(sasl_choose(offer2, 2), "LOGIN");
	T_ASSERT(sasl_choose(offer3, 1) == NULL);
	T_ASSERT(sasl_supported("plain"));
	T_ASSERT(!sasl_supported("CRAM-MD5"));
}

static void
test_plain(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r;

	s = sasl_new("plain", "alice", "secret", &err);
	T_ASSERT(s != NULL);
	T_EQ_STR(sasl_name(s), "PLAIN");
	r = sasl_initial(s);
	T_EQ_STR(r, "AGFsaWNlAHNlY3JldA==");
	freezero_str(r);
	/* A second challenge is refused. */
	T_ASSERT(sasl_step(s, "", &err) == NULL);
	sasl_free(&s);
	T_ASSERT(s == NULL);

	/* Without SASL-IR the server sends an empty challenge first. */
	s = sasl_new("PLAIN", "alice", "secret", &err);
	r = sasl_step(s, "", &err);
	T_EQ_STR(r, "AGFsaWNlAHNlY3JldA==");
	freezero_str(r);
	sasl_free(&s);

	T_ASSERT(sasl_new("GSSAPI", "a", "b", &err) == NULL);
	T_EQ_INT(err.cls, ERR_CONFIG);
}

static void
test_login(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r;

	s = sasl_new("LOGIN", "alice", "secret", &err);
	T_ASSERT(sasl_initial(s) == NULL);
	r = sasl_step(s, "VXNlcm5hbWU6", &err);	/* "Username:" */
	T_EQ_STR(r, "YWxpY2U=");
	freezero_str(r);
	r = sasl_step(s, "UGFzc3dvcmQ6", &err);	/* "Password:" */
	T_EQ_STR(r, "c2VjcmV0");
	freezero_str(r);
	T_ASSERT(sasl_step(s, "UGFzc3dvcmQ6", &err) == NULL);
	sasl_free(&s);

	s = sasl_new("LOGIN", "alice", "secret", &err);
	T_ASSERT(sasl_step(s, "%%%", &err) == NULL);
	T_EQ_INT(err.cls, ERR_PROTO);
	sasl_free(&s);
}

static const struct test tests[] = {
	{ "b64", test_b64 },
	{ "choose", test_choose },
	{ "plain", test_plain },
	{ "login", test_login },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
