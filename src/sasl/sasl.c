/* SASL PLAIN and LOGIN, and base64 through GnuTLS. */
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sasl.h"
#include "xmalloc.h"

enum sasl_mech { SASL_PLAIN, SASL_LOGIN };

struct sasl {
	enum sasl_mech	 mech;
	char		*user;
	char		*pass;
	int		 step;
};

static const char *mech_names[] = { "PLAIN", "LOGIN" };

char *
b64_encode(const void *data, size_t len)
{
	gnutls_datum_t	in = { (unsigned char *)(uintptr_t)data, (unsigned)len };
	gnutls_datum_t	out;
	char		*s;

	if (len == 0)
		return xstrdup("");
	if (gnutls_base64_encode2(&in, &out) < 0)
		fatalx("%s: base64 encoding failed", __func__);
	s = xmemdup0(out.data, out.size);
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	return s;
}

int
b64_decode(const char *s, size_t len, char **outp, size_t *lenp)
{
	gnutls_datum_t	in = { (unsigned char *)(uintptr_t)s, (unsigned)len };
	gnutls_datum_t	out;

	*outp = NULL;
	*lenp = 0;
	if (len == 0) {
		*outp = xstrdup("");
		return 0;
	}
	if (gnutls_base64_decode2(&in, &out) < 0)
		return -1;
	*outp = xmemdup0(out.data, out.size);
	*lenp = out.size;
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	return 0;
}

bool
sasl_supported(const char *mech)
{
	size_t	i;

	for (i = 0; i < sizeof mech_names / sizeof mech_names[0]; i++)
		if (strcasecmp_ascii(mech, mech_names[i]) == 0)
			return true;
	return false;
}

const char *
sasl_choose(const char *const *offered, size_t n)
{
	size_t	i, j;

	for (j = 0; j < sizeof mech_names / sizeof mech_names[0]; j++)
		for (i = 0; i < n; i++)
			if (strcasecmp_ascii(offered[i], mech_names[j]) == 0)
				return mech_names[j];
	return NULL;
}

struct sasl *
sasl_new(const char *mech, const char *user, const char *pass,
    struct error *err)
{
	struct sasl	*s;
	size_t		 i;

	for (i = 0; i < sizeof mech_names / sizeof mech_names[0]; i++)
		if (strcasecmp_ascii(mech, mech_names[i]) == 0)
			break;
	if (i == sizeof mech_names / sizeof mech_names[0]) {
		error_set(err, ERR_CONFIG, "SASL mechanism %s is not supported",
		    mech);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->mech = (enum sasl_mech)i;
	s->user = xstrdup(user);
	s->pass = xstrdup(pass);
	return s;
}

const char *
sasl_name(const struct sasl *s)
{
	return mech_names[s->mech];
}

char *
sasl_initial(struct sasl *s)
{
	size_t	 ul, pl;
	char	*raw, *b64;

	if (s->mech != SASL_PLAIN)
		return NULL;
	/* authzid (empty) NUL authcid NUL password */
	ul = strlen(s->user);
	pl = strlen(s->pass);
	raw = xmalloc(ul + pl + 2);
	raw[0] = '\0';
	memcpy(raw + 1, s->user, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, s->pass, pl);
	b64 = b64_encode(raw, ul + pl + 2);
	explicit_bzero(raw, ul + pl + 2);
	free(raw);
	s->step = 1;
	return b64;
}

char *
sasl_step(struct sasl *s, const char *challenge, struct error *err)
{
	char	*raw;
	size_t	 len;

	switch (s->mech) {
	case SASL_PLAIN:
		/* An empty challenge asks for the initial response. */
		if (s->step == 0 && *challenge == '\0')
			return sasl_initial(s);
		error_set(err, ERR_AUTH, "unexpected SASL PLAIN challenge");
		return NULL;
	case SASL_LOGIN:
		/*
		 * The challenges are "Username:" and "Password:", but servers
		 * vary the words; the order is what counts.
		 */
		if (b64_decode(challenge, strlen(challenge), &raw, &len) == -1) {
			error_set(err, ERR_PROTO, "bad base64 in SASL challenge");
			return NULL;
		}
		free(raw);
		if (s->step == 0) {
			s->step = 1;
			return b64_encode(s->user, strlen(s->user));
		}
		if (s->step == 1) {
			s->step = 2;
			return b64_encode(s->pass, strlen(s->pass));
		}
		error_set(err, ERR_AUTH, "unexpected third SASL LOGIN challenge");
		return NULL;
	}
	return NULL;
}

void
sasl_free(struct sasl **sp)
{
	struct sasl	*s = *sp;

	if (s == NULL)
		return;
	freezero_str(s->user);
	freezero_str(s->pass);
	free(s);
	*sp = NULL;
}
