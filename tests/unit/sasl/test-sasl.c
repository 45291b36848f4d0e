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
	T_ASSERT(sasl_supported("CRAM-MD5"));
	T_ASSERT(!sasl_supported("GSSAPI"));
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

/* base64 of a C string, for challenges. */
static char *
b64(const char *s)
{
	return b64_encode(s, strlen(s));
}

static char *
unb64(const char *s)
{
	char	*out;
	size_t	 len;

	T_EQ_INT(b64_decode(s, strlen(s), &out, &len), 0);
	return out;
}

/* RFC 7677 section 3: user "user", password "pencil". */
static void
test_scram_sha256(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r, *c, *raw;

	error_clear(&err);
	s = sasl_new("SCRAM-SHA-256", "user", "pencil", &err);
	T_ASSERT(s != NULL);
	sasl_set_nonce(s, "rOprNGfwEbeRWgbNEkqO");
	r = sasl_initial(s);
	raw = unb64(r);
	T_EQ_STR(raw, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
	free(raw);
	freezero_str(r);
	c = b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	r = sasl_step(s, c, &err);
	free(c);
	T_ASSERT(r != NULL);
	raw = unb64(r);
	T_EQ_STR(raw, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
	    "hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	free(raw);
	freezero_str(r);
	T_ASSERT(!sasl_complete(s, &err));	/* not verified yet */
	c = b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	r = sasl_step(s, c, &err);
	free(c);
	T_ASSERT(r != NULL && *r == '\0');
	freezero_str(r);
	T_ASSERT(sasl_complete(s, &err));
	sasl_free(&s);

	/* A server that does not know the password: refused. */
	s = sasl_new("SCRAM-SHA-256", "user", "pencil", &err);
	sasl_set_nonce(s, "rOprNGfwEbeRWgbNEkqO");
	freezero_str(sasl_initial(s));
	c = b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	freezero_str(sasl_step(s, c, &err));
	free(c);
	c = b64("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	error_clear(&err);
	T_ASSERT(sasl_step(s, c, &err) == NULL);
	free(c);
	T_EQ_INT(err.cls, ERR_AUTH);
	T_ASSERT(!sasl_complete(s, &err));
	sasl_free(&s);

	/* A nonce that is not ours extended; an absurd iteration count. */
	s = sasl_new("SCRAM-SHA-256", "user", "pencil", &err);
	sasl_set_nonce(s, "abc");
	freezero_str(sasl_initial(s));
	c = b64("r=xyzdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	T_ASSERT(sasl_step(s, c, &err) == NULL);
	free(c);
	sasl_free(&s);
	s = sasl_new("SCRAM-SHA-256", "user", "pencil", &err);
	sasl_set_nonce(s, "abc");
	freezero_str(sasl_initial(s));
	c = b64("r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999999999");
	T_ASSERT(sasl_step(s, c, &err) == NULL);
	free(c);
	sasl_free(&s);
}

/* RFC 5802 section 5: SCRAM-SHA-1, user "user", password "pencil". */
static void
test_scram_sha1(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r, *c, *raw;

	error_clear(&err);
	s = sasl_new("SCRAM-SHA-1", "user", "pencil", &err);
	sasl_set_nonce(s, "fyko+d2lbbFgONRv9qkxdawL");
	freezero_str(sasl_initial(s));
	c = b64("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "s=QSXCR+Q6sek8bf92,i=4096");
	r = sasl_step(s, c, &err);
	free(c);
	raw = unb64(r);
	T_EQ_STR(raw, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
	    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
	free(raw);
	freezero_str(r);
	c = b64("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
	r = sasl_step(s, c, &err);
	free(c);
	T_ASSERT(r != NULL);
	freezero_str(r);
	T_ASSERT(sasl_complete(s, &err));
	sasl_free(&s);
}

/* RFC 2195: tim / tanstaaftanstaaf. */
static void
test_cram_md5(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r, *c, *raw;

	error_clear(&err);
	s = sasl_new("CRAM-MD5", "tim", "tanstaaftanstaaf", &err);
	T_ASSERT(sasl_initial(s) == NULL);
	c = b64("<1896.697170952@postoffice.reston.mci.net>");
	r = sasl_step(s, c, &err);
	free(c);
	raw = unb64(r);
	T_EQ_STR(raw, "tim b913a602c7eda7a495b4e6e7334d3890");
	free(raw);
	freezero_str(r);
	sasl_free(&s);
}

static void
test_choose_best(void)
{
	const char	*all[] = { "LOGIN", "PLAIN", "CRAM-MD5", "SCRAM-SHA-1",
	    "scram-sha-256" };
	const char	*old[] = { "LOGIN", "CRAM-MD5", "PLAIN" };

	T_EQ_STR(sasl_choose_best(all, 5), "SCRAM-SHA-256");
	T_EQ_STR(sasl_choose_best(all, 4), "SCRAM-SHA-1");
	T_EQ_STR(sasl_choose_best(old, 3), "PLAIN");
	T_EQ_STR(sasl_choose_best(old, 2), "CRAM-MD5");
	T_ASSERT(sasl_choose_best(all, 0) == NULL);
}

/* RFC 7628 section 4.1 (IMAP, port 143) and 4.3 (a refused token). */
static void
test_oauthbearer(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r;
	const char	*offer[] = { "PLAIN", "XOAUTH2", "OAUTHBEARER" };

	T_EQ_STR(sasl_choose_token(offer, 3), "OAUTHBEARER");
	T_EQ_STR(sasl_choose_token(offer, 2), "XOAUTH2");
	T_ASSERT(sasl_choose_token(offer, 1) == NULL);
	/* A password never goes to a token mechanism by default. */
	T_EQ_STR(sasl_choose_best(offer, 3), "PLAIN");
	T_ASSERT(sasl_takes_token("oauthbearer"));
	T_ASSERT(!sasl_takes_token("PLAIN"));

	s = sasl_new("oauthbearer", "user@example.com",
	    "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==", &err);
	T_ASSERT(s != NULL);
	sasl_set_host(s, "server.example.com", 143);
	r = sasl_initial(s);
	T_EQ_STR(r, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1w"
	    "bGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNr"
	    "QmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	freezero_str(r);
	T_ASSERT(sasl_server_error(s) == NULL);
	/* The error JSON is kept; the answer is a lone ^A ("AQ=="). */
	r = sasl_step(s, "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFt"
	    "cGxlX3Njb3BlIiwib3BlbmlkLWNvbmZpZ3VyYXRpb24iOiJodHRwczovL2V4YW1w"
	    "bGUuY29tLy53ZWxsLWtub3duL29wZW5pZC1jb25maWd1cmF0aW9uIn0=", &err);
	T_EQ_STR(r, "AQ==");
	freezero_str(r);
	T_ASSERT(strstr(sasl_server_error(s), "\"invalid_token\"") != NULL);
	/* A second challenge is refused. */
	T_ASSERT(sasl_step(s, "e30=", &err) == NULL);
	/* Bad base64 in the error. */
	sasl_free(&s);
	s = sasl_new("OAUTHBEARER", "u", "t", &err);
	freezero_str(r = sasl_initial(s));
	T_ASSERT(sasl_step(s, "!!!", &err) == NULL);
	T_EQ_INT(err.cls, ERR_PROTO);
	sasl_free(&s);
}

/* Google's XOAUTH2 example (developers.google.com/gmail/imap/xoauth2-protocol). */
static void
test_xoauth2(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r;

	s = sasl_new("xoauth2", "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", &err);
	T_ASSERT(s != NULL);
	r = sasl_initial(s);
	T_EQ_STR(r, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5"
	    "LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
	freezero_str(r);
	/* The error challenge gets an empty answer. */
	r = sasl_step(s, "eyJzdGF0dXMiOiI0MDEifQ==", &err);
	T_EQ_STR(r, "");
	freezero_str(r);
	T_EQ_STR(sasl_server_error(s), "{\"status\":\"401\"}");
	sasl_free(&s);
}

/* RFC 4422 appendix A: an empty authzid, sent as "=" on the IR line. */
static void
test_external(void)
{
	struct error	 err;
	struct sasl	*s;
	char		*r;
	const char	*offer[] = { "EXTERNAL", "PLAIN" };

	T_ASSERT(sasl_supported("external"));
	/* Never chosen for a password by itself. */
	T_EQ_STR(sasl_choose_best(offer, 2), "PLAIN");
	s = sasl_new("external", "alice", "", &err);
	T_ASSERT(s != NULL);
	r = sasl_initial(s);
	T_EQ_STR(r, "");
	freezero_str(r);
	T_ASSERT(sasl_step(s, "Zm9v", &err) == NULL);
	T_ASSERT(sasl_complete(s, &err));
	sasl_free(&s);
	/* Without SASL-IR: the empty challenge gets the empty answer. */
	s = sasl_new("EXTERNAL", "alice", "", &err);
	r = sasl_step(s, "", &err);
	T_EQ_STR(r, "");
	freezero_str(r);
	sasl_free(&s);
}

static const struct test tests[] = {
	{ "external", test_external },
	{ "oauthbearer", test_oauthbearer },
	{ "xoauth2", test_xoauth2 },
	{ "scram_sha256", test_scram_sha256 },
	{ "scram_sha1", test_scram_sha1 },
	{ "cram_md5", test_cram_md5 },
	{ "choose_best", test_choose_best },
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
