/*
 * SASL PLAIN, LOGIN, CRAM-MD5 (RFC 2195), SCRAM-SHA-1/-256 (RFC 5802,
 * 7677), OAUTHBEARER (RFC 7628), XOAUTH2 (Google's and Microsoft's),
 * EXTERNAL (RFC 4422 appendix A: the TLS client certificate), and
 * base64, with GnuTLS for every hash, HMAC and PBKDF2.
 */
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "sasl.h"
#include "secret.h"
#include "xmalloc.h"

enum sasl_mech {
	SASL_PLAIN, SASL_LOGIN, SASL_CRAM_MD5, SASL_SCRAM_SHA_1,
	SASL_SCRAM_SHA_256, SASL_OAUTHBEARER, SASL_XOAUTH2, SASL_EXTERNAL,
	SASL_SCRAM_SHA_1_PLUS, SASL_SCRAM_SHA_256_PLUS,
};

/* PBKDF2 iterations a server may ask for at most (RFC 7677: >= 4096). */
#define SCRAM_MAX_ITER	(1 << 20)

struct sasl {
	enum sasl_mech	 mech;
	char		*user;
	char		*pass;		/* the password, or an OAuth2 token */
	int		 step;
	/* OAUTHBEARER: where we log in (RFC 7628 3.1 host, port) */
	char		*host;
	int		 port;
	char		*server_error;	/* an OAuth2 error JSON, for messages */
	/* SCRAM */
	char		*cnonce;
	char		*client_first_bare;
	unsigned char	 server_sig[32];
	size_t		 hlen;
	bool		 verified;	/* the server proved it knows the key */
	/* Channel binding (RFC 5802 6): the TLS data, its type ("-PLUS"),
	 * or just that we could ("y": the server offered no -PLUS). */
	char		*cb_type;
	unsigned char	 cb_data[64];
	size_t		 cb_len;
	bool		 cb_possible;
};

static const char *mech_names[] = {
	"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
	"OAUTHBEARER", "XOAUTH2", "EXTERNAL", "SCRAM-SHA-1-PLUS",
	"SCRAM-SHA-256-PLUS",
};
/* Strongest first, for sasl_choose_best. */
static const enum sasl_mech best_order[] = {
	SASL_SCRAM_SHA_256_PLUS, SASL_SCRAM_SHA_1_PLUS,
	SASL_SCRAM_SHA_256, SASL_SCRAM_SHA_1, SASL_PLAIN, SASL_CRAM_MD5,
	SASL_LOGIN,
};
/* For an OAuth2 access token: the standard one first. */
static const enum sasl_mech token_order[] = {
	SASL_OAUTHBEARER, SASL_XOAUTH2,
};

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

/* POP3's choice, PLAIN then LOGIN (its login code knows only those). */
const char *
sasl_choose(const char *const *offered, size_t n)
{
	size_t	i, j;

	for (j = 0; j <= SASL_LOGIN; j++)
		for (i = 0; i < n; i++)
			if (strcasecmp_ascii(offered[i], mech_names[j]) == 0)
				return mech_names[j];
	return NULL;
}

static const char *
choose_in(const enum sasl_mech *order, size_t norder,
    const char *const *offered, size_t n)
{
	size_t	i, j;

	for (j = 0; j < norder; j++)
		for (i = 0; i < n; i++)
			if (strcasecmp_ascii(offered[i],
			    mech_names[order[j]]) == 0)
				return mech_names[order[j]];
	return NULL;
}

const char *
sasl_choose_best(const char *const *offered, size_t n)
{
	return choose_in(best_order, sizeof best_order / sizeof best_order[0],
	    offered, n);
}

const char *
sasl_choose_token(const char *const *offered, size_t n)
{
	return choose_in(token_order, sizeof token_order /
	    sizeof token_order[0], offered, n);
}

bool
sasl_is_plus(const char *mech)
{
	size_t	n = strlen(mech);

	return n > 5 && strcasecmp_ascii(mech + n - 5, "-PLUS") == 0;
}

bool
sasl_takes_token(const char *mech)
{
	return strcasecmp_ascii(mech, "OAUTHBEARER") == 0 ||
	    strcasecmp_ascii(mech, "XOAUTH2") == 0;
}

void
sasl_set_host(struct sasl *s, const char *host, int port)
{
	free(s->host);
	s->host = host != NULL ? xstrdup(host) : NULL;
	s->port = port;
}

const char *
sasl_server_error(const struct sasl *s)
{
	return s->server_error;
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
	s->pass = secret_strdup(pass);
	return s;
}

const char *
sasl_name(const struct sasl *s)
{
	return mech_names[s->mech];
}

static bool
is_scram(const struct sasl *s)
{
	return s->mech == SASL_SCRAM_SHA_1 || s->mech == SASL_SCRAM_SHA_256 ||
	    s->mech == SASL_SCRAM_SHA_1_PLUS || s->mech == SASL_SCRAM_SHA_256_PLUS;
}

static bool
is_plus(const struct sasl *s)
{
	return s->mech == SASL_SCRAM_SHA_1_PLUS ||
	    s->mech == SASL_SCRAM_SHA_256_PLUS;
}

static bool
is_sha1(const struct sasl *s)
{
	return s->mech == SASL_SCRAM_SHA_1 || s->mech == SASL_SCRAM_SHA_1_PLUS;
}

void
sasl_set_channel_binding(struct sasl *s, const char *type, const void *data,
    size_t len)
{
	s->cb_possible = true;
	if (type == NULL || len > sizeof s->cb_data)
		return;
	free(s->cb_type);
	s->cb_type = xstrdup(type);
	memcpy(s->cb_data, data, len);
	s->cb_len = len;
}

/* The GS2 header: p=TYPE with -PLUS, y when we could bind, else n. */
static void
scram_gs2(const struct sasl *s, struct buf *b)
{
	if (is_plus(s))
		buf_printf(b, "p=%s,,", s->cb_type != NULL ? s->cb_type : "");
	else
		buf_adds(b, s->cb_possible ? "y,," : "n,,");
}

/* "=" and "," in a SCRAM user name (RFC 5802 5.1). */
static void
scram_name(struct buf *b, const char *name)
{
	for (; *name != '\0'; name++) {
		if (*name == '=')
			buf_adds(b, "=3D");
		else if (*name == ',')
			buf_adds(b, "=2C");
		else
			buf_addc(b, *name);
	}
}

void
sasl_set_nonce(struct sasl *s, const char *nonce)
{
	free(s->cnonce);
	s->cnonce = xstrdup(nonce);
}

static char *
scram_first(struct sasl *s)
{
	struct buf	 b = BUF_INIT(0);
	unsigned char	 rnd[18];
	char		*out;

	if (s->cnonce == NULL) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) < 0)
			fatalx("%s: gnutls_rnd failed", __func__);
		s->cnonce = b64_encode(rnd, sizeof rnd);
	}
	buf_adds(&b, "n=");
	scram_name(&b, s->user);
	buf_adds(&b, ",r=");
	buf_adds(&b, s->cnonce);
	s->client_first_bare = xstrdup(buf_cstr(&b));
	buf_reset(&b);
	/* gs2 header (no authzid) */
	scram_gs2(s, &b);
	buf_adds(&b, s->client_first_bare);
	out = b64_encode(b.data, b.len);
	buf_free(&b);
	s->step = 1;
	return out;
}

/* The value of attribute a ("r", "s", "i"...) in a SCRAM message, or NULL. */
static char *
scram_attr(const char *msg, char a)
{
	const char	*p = msg, *e;

	while (*p != '\0') {
		e = strchr(p, ',');
		if (p[0] == a && p[1] == '=')
			return xstrndup(p + 2, (size_t)((e != NULL ? e :
			    p + strlen(p)) - (p + 2)));
		if (e == NULL)
			break;
		p = e + 1;
	}
	return NULL;
}

static int
scram_hmac(struct sasl *s, const void *key, size_t klen, const void *text,
    size_t tlen, unsigned char *out)
{
	return gnutls_hmac_fast(is_sha1(s) ? GNUTLS_MAC_SHA1 :
	    GNUTLS_MAC_SHA256, key, klen, text, tlen, out) < 0 ? -1 : 0;
}

/* server-first -> client-final, with the server signature kept. */
static char *
scram_final(struct sasl *s, const char *sf, struct error *err)
{
	gnutls_datum_t	 key, salt_d;
	unsigned char	 salted[32], ckey[32], stored[32], csig[32], skey[32];
	unsigned char	 proof[32];
	char		*r = NULL, *salt_b64 = NULL, *iter_s = NULL, *salt = NULL;
	char		*out = NULL, *p64;
	size_t		 salt_len, i;
	unsigned long	 iter;
	struct buf	 wo = BUF_INIT(0), am = BUF_INIT(0);

	s->hlen = is_sha1(s) ? 20 : 32;
	if (strncmp(sf, "m=", 2) == 0) {
		error_set(err, ERR_AUTH, "SCRAM: the server wants an extension "
		    "petrel does not know");
		goto out;
	}
	r = scram_attr(sf, 'r');
	salt_b64 = scram_attr(sf, 's');
	iter_s = scram_attr(sf, 'i');
	if (r == NULL || salt_b64 == NULL || iter_s == NULL) {
		error_set(err, ERR_PROTO, "SCRAM: malformed server-first "
		    "message");
		goto out;
	}
	/* Our nonce, then the server's: else a replay, or a stranger. */
	if (strncmp(r, s->cnonce, strlen(s->cnonce)) != 0 ||
	    strlen(r) == strlen(s->cnonce)) {
		error_set(err, ERR_AUTH, "SCRAM: the server's nonce does not "
		    "extend ours");
		goto out;
	}
	iter = strtoul(iter_s, &p64, 10);
	if (*p64 != '\0' || iter < 1 || iter > SCRAM_MAX_ITER) {
		error_set(err, ERR_PROTO, "SCRAM: iteration count %s refused",
		    iter_s);
		goto out;
	}
	if (b64_decode(salt_b64, strlen(salt_b64), &salt, &salt_len) == -1 ||
	    salt_len == 0) {
		error_set(err, ERR_PROTO, "SCRAM: bad salt");
		goto out;
	}
	key.data = (unsigned char *)s->pass;
	key.size = (unsigned)strlen(s->pass);
	salt_d.data = (unsigned char *)salt;
	salt_d.size = (unsigned)salt_len;
	if (gnutls_pbkdf2(is_sha1(s) ? GNUTLS_MAC_SHA1 :
	    GNUTLS_MAC_SHA256, &key, &salt_d, (unsigned)iter, salted,
	    s->hlen) < 0) {
		error_set(err, ERR_LOCAL, "SCRAM: PBKDF2 failed");
		goto out;
	}
	/* c=: base64 of the gs2 header and the channel binding data. */
	{
		struct buf	cbind = BUF_INIT(0);
		char		*c64;

		scram_gs2(s, &cbind);
		if (is_plus(s))
			buf_add(&cbind, s->cb_data, s->cb_len);
		c64 = b64_encode(cbind.data, cbind.len);
		buf_adds(&wo, "c=");
		buf_adds(&wo, c64);
		buf_adds(&wo, ",r=");
		free(c64);
		buf_free(&cbind);
	}
	buf_adds(&wo, r);
	buf_adds(&am, s->client_first_bare);
	buf_addc(&am, ',');
	buf_adds(&am, sf);
	buf_addc(&am, ',');
	buf_add(&am, wo.data, wo.len);
	if (scram_hmac(s, salted, s->hlen, "Client Key", 10, ckey) == -1 ||
	    gnutls_hash_fast(is_sha1(s) ? GNUTLS_DIG_SHA1 :
	    GNUTLS_DIG_SHA256, ckey, s->hlen, stored) < 0 ||
	    scram_hmac(s, stored, s->hlen, am.data, am.len, csig) == -1 ||
	    scram_hmac(s, salted, s->hlen, "Server Key", 10, skey) == -1 ||
	    scram_hmac(s, skey, s->hlen, am.data, am.len, s->server_sig) ==
	    -1) {
		error_set(err, ERR_LOCAL, "SCRAM: HMAC failed");
		goto out;
	}
	for (i = 0; i < s->hlen; i++)
		proof[i] = ckey[i] ^ csig[i];
	p64 = b64_encode(proof, s->hlen);
	buf_adds(&wo, ",p=");
	buf_adds(&wo, p64);
	free(p64);
	out = b64_encode(wo.data, wo.len);
	s->step = 2;
out:
	explicit_bzero(salted, sizeof salted);
	explicit_bzero(ckey, sizeof ckey);
	explicit_bzero(stored, sizeof stored);
	explicit_bzero(csig, sizeof csig);
	explicit_bzero(skey, sizeof skey);
	explicit_bzero(proof, sizeof proof);
	free(r);
	free(salt_b64);
	free(iter_s);
	free(salt);
	buf_free(&wo);
	buf_free(&am);
	return out;
}

/* server-final: "v=" the signature we computed, or "e=" an error. */
static char *
scram_verify(struct sasl *s, const char *sf, struct error *err)
{
	char		*v, *e, *sig = NULL;
	size_t		 len = 0;
	unsigned char	 diff = 0;
	size_t		 i;

	if ((e = scram_attr(sf, 'e')) != NULL) {
		error_set(err, ERR_AUTH, "SCRAM: the server says %.100s", e);
		free(e);
		return NULL;
	}
	if ((v = scram_attr(sf, 'v')) == NULL ||
	    b64_decode(v, strlen(v), &sig, &len) == -1 || len != s->hlen) {
		free(v);
		free(sig);
		error_set(err, ERR_AUTH, "SCRAM: malformed server signature");
		return NULL;
	}
	for (i = 0; i < len; i++)
		diff |= (unsigned char)sig[i] ^ s->server_sig[i];
	free(v);
	free(sig);
	if (diff != 0) {
		error_set(err, ERR_AUTH, "SCRAM: the server's signature is "
		    "wrong: it does not know the password, so it is not "
		    "trusted with the session");
		return NULL;
	}
	s->verified = true;
	s->step = 3;
	return xstrdup("");
}

bool
sasl_complete(const struct sasl *s, struct error *err)
{
	if (is_scram(s) && !s->verified) {
		error_set(err, ERR_AUTH, "SCRAM: the server accepted the login "
		    "without proving it knows the password; not trusted");
		return false;
	}
	return true;
}

/*
 * OAUTHBEARER (RFC 7628 3.1): gs2 header with the user as authzid, then
 * ^A-separated host, port and "auth=Bearer TOKEN". XOAUTH2: "user=U^A
 * auth=Bearer TOKEN^A^A". A token is a b64token (RFC 6750): no spaces
 * or control characters can smuggle in another field.
 */
static char *
oauth_initial(struct sasl *s)
{
	struct buf	 b = BUF_INIT(0);
	char		*out;

	if (s->mech == SASL_OAUTHBEARER) {
		buf_adds(&b, "n,a=");
		scram_name(&b, s->user);	/* the same saslname escaping */
		buf_adds(&b, ",\001");
		if (s->host != NULL)
			buf_printf(&b, "host=%s\001port=%d\001", s->host,
			    s->port);
	} else {
		buf_adds(&b, "user=");
		buf_adds(&b, s->user);
		buf_addc(&b, '\001');
	}
	buf_adds(&b, "auth=Bearer ");
	buf_adds(&b, s->pass);
	buf_adds(&b, "\001\001");
	out = b64_encode(b.data, b.len);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	s->step = 1;
	return out;
}

/*
 * A challenge after the initial response is the server's error (a JSON
 * object, RFC 7628 3.2.2): keep it for the message and answer what ends
 * the exchange (^A for OAUTHBEARER, an empty response for XOAUTH2); the
 * server then says NO.
 */
static char *
oauth_step(struct sasl *s, const char *challenge, struct error *err)
{
	char	*raw;
	size_t	 len, i;

	if (s->step == 0 && *challenge == '\0')
		return oauth_initial(s);
	if (s->step != 1 || s->server_error != NULL) {
		error_set(err, ERR_AUTH, "unexpected %s challenge",
		    mech_names[s->mech]);
		return NULL;
	}
	if (b64_decode(challenge, strlen(challenge), &raw, &len) == -1) {
		error_set(err, ERR_PROTO, "bad base64 in SASL challenge");
		return NULL;
	}
	/* Shown in a message: printable, short. */
	if (len > 300)
		len = 300;
	raw[len] = '\0';
	for (i = 0; i < len; i++)
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
			raw[i] = ' ';
	s->server_error = raw;
	return s->mech == SASL_OAUTHBEARER ? b64_encode("\001", 1) :
	    xstrdup("");
}

char *
sasl_initial(struct sasl *s)
{
	size_t	 ul, pl;
	char	*raw, *b64;

	if (is_scram(s)) {
		if (is_plus(s) && s->cb_type == NULL)
			return NULL;	/* cannot: no TLS data */
		return scram_first(s);
	}
	if (s->mech == SASL_OAUTHBEARER || s->mech == SASL_XOAUTH2)
		return oauth_initial(s);
	if (s->mech == SASL_EXTERNAL) {
		/* RFC 4422 A: an empty authzid, the TLS certificate's. */
		s->step = 1;
		return xstrdup("");
	}
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
	char	*raw, *resp;
	size_t	 len;

	switch (s->mech) {
	case SASL_EXTERNAL:
		if (s->step == 0 && *challenge == '\0')
			return sasl_initial(s);
		error_set(err, ERR_AUTH, "unexpected SASL EXTERNAL challenge");
		return NULL;
	case SASL_OAUTHBEARER:
	case SASL_XOAUTH2:
		return oauth_step(s, challenge, err);
	case SASL_SCRAM_SHA_1:
	case SASL_SCRAM_SHA_256:
	case SASL_SCRAM_SHA_1_PLUS:
	case SASL_SCRAM_SHA_256_PLUS:
		if (is_plus(s) && s->cb_type == NULL) {
			error_set(err, ERR_AUTH, "%s needs TLS channel binding "
			    "data", mech_names[s->mech]);
			return NULL;
		}
		if (s->step == 0 && *challenge == '\0')
			return scram_first(s);
		if (b64_decode(challenge, strlen(challenge), &raw, &len) == -1) {
			error_set(err, ERR_PROTO, "bad base64 in SASL challenge");
			return NULL;
		}
		if (s->step == 1)
			resp = scram_final(s, raw, err);
		else if (s->step == 2)
			resp = scram_verify(s, raw, err);
		else {
			error_set(err, ERR_AUTH, "unexpected SCRAM challenge");
			resp = NULL;
		}
		freezero_str(raw);
		return resp;
	case SASL_CRAM_MD5: {
		unsigned char	mac[16];
		char		hex[33];
		struct buf	b = BUF_INIT(0);
		size_t		i;

		if (s->step != 0 || b64_decode(challenge, strlen(challenge),
		    &raw, &len) == -1) {
			error_set(err, ERR_PROTO, "bad CRAM-MD5 challenge");
			return NULL;
		}
		if (gnutls_hmac_fast(GNUTLS_MAC_MD5, s->pass, strlen(s->pass),
		    raw, len, mac) < 0) {
			free(raw);
			error_set(err, ERR_LOCAL, "HMAC-MD5 failed");
			return NULL;
		}
		free(raw);
		for (i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
		buf_adds(&b, s->user);
		buf_addc(&b, ' ');
		buf_adds(&b, hex);
		resp = b64_encode(b.data, b.len);
		explicit_bzero(mac, sizeof mac);
		buf_free(&b);
		s->step = 1;
		return resp;
	}
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
	free(s->cnonce);
	free(s->client_first_bare);
	free(s->host);
	free(s->server_error);
	free(s->cb_type);
	explicit_bzero(s->cb_data, sizeof s->cb_data);
	explicit_bzero(s->server_sig, sizeof s->server_sig);
	free(s);
	*sp = NULL;
}
