/*
 * The GnuTLS client: credentials (system trust store plus tls_ca_file),
 * the handshake on a non-blocking socket, certificate checks (chain, host
 * name or IP address, or a SHA-256 pin instead; a key pinned in the
 * known-hosts file, or accepted once) and record I/O.
 */
#include <sys/socket.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "net-private.h"
#include "xmalloc.h"

/* TLS 1.2 and 1.3 only, with GnuTLS's default (system-adjusted) suites. */
#define TLS_PRIORITY	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define TLS_FP_LEN	32
#define TLS_NAMES_MAX	4	/* names shown for a certificate issued for another */

/* MSG_NOSIGNAL: a peer that went away must not kill us with SIGPIPE. */
static ssize_t
tls_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	struct conn	*c = ptr;

	return send(c->fd, data, len, MSG_NOSIGNAL);
}

/* Size of the ciphertext read-ahead buffer. */
#define TLS_RAW_MAX	(64 * 1024)

static ssize_t
tls_pull(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	struct conn	*c = ptr;
	ssize_t		 n;

	if (c->raw_pos == c->raw_len) {
		if (c->raw == NULL)
			c->raw = xmalloc(TLS_RAW_MAX);
		/* Errors and EOF go to GnuTLS as they are (errno intact). */
		if ((n = recv(c->fd, c->raw, TLS_RAW_MAX, 0)) <= 0)
			return n;
		conn_quickack(c, (size_t)n);
		c->raw_pos = 0;
		c->raw_len = (size_t)n;
	}
	if (len > c->raw_len - c->raw_pos)
		len = c->raw_len - c->raw_pos;
	memcpy(data, c->raw + c->raw_pos, len);
	c->raw_pos += len;
	return (ssize_t)len;
}

size_t
tls_raw_pending(const struct conn *c)
{
	return c->raw_len - c->raw_pos;
}

static int
tls_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
tls_parse_pin(const char *s, unsigned char out[32])
{
	int	n = 0, hi, lo;

	if (!has_prefix_ci(s, "sha256:"))
		return -1;
	for (s += 7; *s != '\0'; s += 2) {
		if (n > 0 && *s == ':')
			s++;
		if (n == TLS_FP_LEN || (hi = tls_hex(s[0])) == -1 ||
		    (lo = tls_hex(s[1])) == -1)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | lo);
	}
	return n == TLS_FP_LEN ? 0 : -1;
}

static void
tls_fmt_fingerprint(const unsigned char fp[TLS_FP_LEN], char out[8 + 3 * TLS_FP_LEN])
{
	size_t	i, o;

	memcpy(out, "sha256:", 7);
	for (i = 0, o = 7; i < TLS_FP_LEN; i++) {
		if (i > 0)
			out[o++] = ':';
		out[o++] = "0123456789ABCDEF"[fp[i] >> 4];
		out[o++] = "0123456789ABCDEF"[fp[i] & 15];
	}
	out[o] = '\0';
}

/* Text from a certificate (the server controls it): printable ASCII only. */
static void
tls_add_safe(struct buf *b, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len && i < 128; i++)
		buf_addc(b, s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?');
}

/* "issued for a.example, b.example": the names the certificate is valid for. */
static void
tls_add_names(struct buf *b, gnutls_x509_crt_t crt)
{
	char		name[256], ip[INET6_ADDRSTRLEN];
	size_t		size;
	unsigned	i, shown = 0;
	int		type;

	buf_adds(b, "issued for ");
	for (i = 0; ; i++) {
		size = sizeof name;
		type = gnutls_x509_crt_get_subject_alt_name(crt, i, name, &size,
		    NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_SAN_DNSNAME) {
			if (shown > 0)
				buf_adds(b, ", ");
			if (shown++ == TLS_NAMES_MAX) {
				buf_adds(b, "...");
				return;
			}
			tls_add_safe(b, name, size);
		} else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 ||
		    size == 16) && inet_ntop(size == 4 ? AF_INET : AF_INET6,
		    name, ip, sizeof ip) != NULL) {
			if (shown > 0)
				buf_adds(b, ", ");
			if (shown++ == TLS_NAMES_MAX) {
				buf_adds(b, "...");
				return;
			}
			buf_adds(b, ip);
		}
	}
	if (shown > 0)
		return;
	size = sizeof name;
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    name, &size) == 0)
		tls_add_safe(b, name, size);
	else
		buf_adds(b, "no name");
}

static void
tls_add_date(struct buf *b, const char *what, time_t t)
{
	struct tm	tm;
	char		d[32];

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		return;
	strftime(d, sizeof d, "%Y-%m-%d", &tm);
	buf_printf(b, " %s %s", what, d);
}

/* Why status refused the certificate, in a few words. */
static void
tls_reasons(struct buf *b, unsigned status, const gnutls_datum_t *der)
{
	static const struct {
		unsigned	 flag;
		const char	*text;
	} reasons[] = {
		{ GNUTLS_CERT_SIGNER_NOT_FOUND, "signer not found" },
		{ GNUTLS_CERT_SIGNER_NOT_CA, "signer is not a CA" },
		{ GNUTLS_CERT_REVOKED, "revoked" },
		{ GNUTLS_CERT_SIGNATURE_FAILURE, "bad signature" },
		{ GNUTLS_CERT_INSECURE_ALGORITHM, "insecure algorithm" },
		{ GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE,
		    "signer constraints not met" },
		{ GNUTLS_CERT_PURPOSE_MISMATCH, "not meant for servers" },
		{ GNUTLS_CERT_MISMATCH, "mismatch" },
	};
	gnutls_x509_crt_t	crt = NULL;
	size_t			i, before;
	time_t			now = time(NULL), t;

	if (gnutls_x509_crt_init(&crt) == 0 &&
	    gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) != 0) {
		gnutls_x509_crt_deinit(crt);
		crt = NULL;
	}
	before = b->len;
	for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
		if (status & reasons[i].flag) {
			buf_printf(b, "%s%s", b->len > before ? ", " : "",
			    reasons[i].text);
			status &= ~reasons[i].flag;
		}
	}
	if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
		if (b->len > before)
			buf_adds(b, ", ");
		if (crt != NULL)
			tls_add_names(b, crt);
		else
			buf_adds(b, "issued for another name");
		status &= ~GNUTLS_CERT_UNEXPECTED_OWNER;
	}
	if (status & GNUTLS_CERT_EXPIRED) {
		buf_printf(b, "%sexpired", b->len > before ? ", " : "");
		if (crt != NULL &&
		    (t = gnutls_x509_crt_get_expiration_time(crt)) < now)
			tls_add_date(b, "on", t);
		status &= ~GNUTLS_CERT_EXPIRED;
	}
	if (status & GNUTLS_CERT_NOT_ACTIVATED) {
		buf_printf(b, "%snot yet valid", b->len > before ? ", " : "");
		if (crt != NULL &&
		    (t = gnutls_x509_crt_get_activation_time(crt)) > now)
			tls_add_date(b, "before", t);
		status &= ~GNUTLS_CERT_NOT_ACTIVATED;
	}
	status &= ~GNUTLS_CERT_INVALID;
	if (status != 0 || b->len == before)
		buf_printf(b, "%sinvalid (status 0x%x)",
		    b->len > before ? ", " : "", status);
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
}

/* Add the system trust store to the credentials, once. */
static void
tls_system_trust(struct conn *c)
{
	int	r;

	c->system_trust = 1;
	r = gnutls_certificate_set_x509_system_trust(c->cred);
	if (r < 0)
		log_debug("TLS: no system trust store: %s", gnutls_strerror(r));
}

/* Printable ASCII of a certificate's text (spaces kept), cut to outsz. */
static void
tls_copy_safe(char *out, size_t outsz, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len && i + 1 < outsz && s[i] != '\0'; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}

static void
tls_fmt_time(char *out, size_t outsz, time_t t)
{
	struct tm	tm;

	if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
		snprintf(out, outsz, "?");
	else
		strftime(out, outsz, "%Y-%m-%d %H:%M UTC", &tm);
}

/*
 * "pin-sha256:BASE64" of the certificate's SubjectPublicKeyInfo (as in
 * RFC 7469): it stays the same when the certificate is renewed for the
 * same key. -1 when the certificate cannot be read.
 */
static int
tls_spki_pin(const gnutls_datum_t *der, char pin[TLS_PIN_LEN])
{
	gnutls_x509_crt_t	 crt;
	gnutls_pubkey_t		 key = NULL;
	gnutls_datum_t		 spki = { NULL, 0 }, h, b64 = { NULL, 0 };
	unsigned char		 digest[32];
	int			 rv = -1;

	if (gnutls_x509_crt_init(&crt) != 0)
		return -1;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) != 0 ||
	    gnutls_pubkey_init(&key) != 0 ||
	    gnutls_pubkey_import_x509(key, crt, 0) != 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) != 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size,
	    digest) != 0)
		goto out;
	h.data = digest;
	h.size = sizeof digest;
	if (gnutls_base64_encode2(&h, &b64) != 0 || b64.size != 44)
		goto out;
	snprintf(pin, TLS_PIN_LEN, "pin-sha256:%.*s", (int)b64.size,
	    (const char *)b64.data);
	rv = 0;
out:
	gnutls_free(spki.data);
	gnutls_free(b64.data);
	if (key != NULL)
		gnutls_pubkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	return rv;
}

/* Subject, issuer and validity of the certificate, for the prompt. */
static void
tls_describe(struct tls_peer *p, const gnutls_datum_t *der)
{
	gnutls_x509_crt_t	crt;
	gnutls_datum_t		dn;

	if (gnutls_x509_crt_init(&crt) != 0)
		return;
	if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) == 0) {
		if (gnutls_x509_crt_get_dn2(crt, &dn) == 0) {
			tls_copy_safe(p->subject, sizeof p->subject,
			    (const char *)dn.data, dn.size);
			gnutls_free(dn.data);
		}
		if (gnutls_x509_crt_get_issuer_dn2(crt, &dn) == 0) {
			tls_copy_safe(p->issuer, sizeof p->issuer,
			    (const char *)dn.data, dn.size);
			gnutls_free(dn.data);
		}
		tls_fmt_time(p->not_before, sizeof p->not_before,
		    gnutls_x509_crt_get_activation_time(crt));
		tls_fmt_time(p->not_after, sizeof p->not_after,
		    gnutls_x509_crt_get_expiration_time(crt));
	}
	gnutls_x509_crt_deinit(crt);
}

/*
 * The known-hosts pin of this host:port: 1 it matches (accept), 0 there is
 * none, -1 refused (another key, or the file could not be read), with
 * c->verify_msg set.
 */
static int
tls_known_host(struct conn *c, const char *pin, const char *fphex)
{
	struct error	 err;
	char		 known[TLS_PIN_LEN];
	int		 line = 0, r;

	if (c->known_hosts == NULL)
		return 0;
	if ((r = knownhosts_find(c->known_hosts, c->hostport, known, &line,
	    &err)) == -1) {
		snprintf(c->verify_msg, sizeof c->verify_msg, "TLS: %.880s",
		    err.msg);
		return -1;
	}
	if (r == 0)
		return 0;
	if (strcmp(known, pin) == 0) {
		log_debug("certificate of %s accepted: its key is pinned in %s",
		    c->hostport, c->known_hosts);
		return 1;
	}
	if (c->peer != NULL) {
		c->peer->changed = true;
		snprintf(c->peer->fingerprint, sizeof c->peer->fingerprint,
		    "%s", fphex);
	}
	snprintf(c->verify_msg, sizeof c->verify_msg, "TLS: WARNING: THE KEY "
	    "OF %s HAS CHANGED since you trusted it: someone may be "
	    "intercepting the connection, so petrel refuses it. The server "
	    "now shows %s (certificate %s); %s line %d holds the key you "
	    "accepted. If the server's key was changed on purpose, delete "
	    "that line and connect again.", c->hostport, pin, fphex,
	    c->known_hosts, line);
	return -1;
}

/*
 * Certificate check, called by GnuTLS during the handshake so a refused
 * certificate ends it before any data flows. The message for the user is
 * left in c->verify_msg.
 */
static int
tls_verify(gnutls_session_t s)
{
	struct conn		*c = gnutls_session_get_ptr(s);
	const gnutls_datum_t	*certs;
	gnutls_typed_vdata_st	 data[2];
	struct buf		 b = BUF_INIT(sizeof c->verify_msg - 1);
	unsigned char		 fp[TLS_FP_LEN];
	char			 fphex[8 + 3 * TLS_FP_LEN], pin[TLS_PIN_LEN];
	size_t			 fplen = sizeof fp;
	unsigned		 n = 0, status = 0;
	int			 r;
	size_t			 reasons_at;
	struct tls_peer		*p = c->peer;

	certs = gnutls_certificate_get_peers(s, &n);
	if (certs == NULL || n == 0) {
		snprintf(c->verify_msg, sizeof c->verify_msg,
		    "TLS: %s sent no certificate", c->hostport);
		return -1;
	}
	if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &certs[0], fp, &fplen) != 0 ||
	    fplen != TLS_FP_LEN) {
		snprintf(c->verify_msg, sizeof c->verify_msg,
		    "TLS: cannot hash the certificate of %s", c->hostport);
		return -1;
	}
	tls_fmt_fingerprint(fp, fphex);

	if (c->has_pin) {
		if (memcmp(fp, c->pin, TLS_FP_LEN) == 0) {
			log_debug("certificate of %s accepted by its pinned "
			    "fingerprint", c->hostport);
			return 0;
		}
		snprintf(c->verify_msg, sizeof c->verify_msg, "TLS: certificate "
		    "of %s does not match tls_fingerprint - its SHA-256 "
		    "fingerprint is %s; if the server's certificate was changed "
		    "on purpose, set \"tls_fingerprint = %s\" in [account %s]",
		    c->host, fphex, fphex,
		    c->account != NULL ? c->account : "NAME");
		return -1;
	}
	if (tls_spki_pin(&certs[0], pin) == -1) {
		snprintf(c->verify_msg, sizeof c->verify_msg,
		    "TLS: cannot read the certificate of %s", c->hostport);
		return -1;
	}
	if (p != NULL)
		snprintf(p->hostport, sizeof p->hostport, "%s", c->hostport);
	/* Pinned by the user: that key and no other, whoever signed it. */
	if ((r = tls_known_host(c, pin, fphex)) != 0)
		return r == 1 ? 0 : -1;

	memset(data, 0, sizeof data);
	if (c->ip_family != 0) {
		data[0].type = GNUTLS_DT_IP_ADDRESS;
		data[0].data = c->ip;
		data[0].size = c->ip_family == AF_INET ? 4 : 16;
	} else {
		data[0].type = GNUTLS_DT_DNS_HOSTNAME;
		data[0].data = (unsigned char *)c->host;
	}
	data[1].type = GNUTLS_DT_KEY_PURPOSE_OID;
	data[1].data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER;
	r = gnutls_certificate_verify_peers(s, data, 2, &status);
	/*
	 * Only tls_ca_file was loaded: a certificate it does not vouch for
	 * gets its second chance with the system store.
	 */
	if (r >= 0 && status != 0 && !c->system_trust) {
		tls_system_trust(c);
		r = gnutls_certificate_verify_peers(s, data, 2, &status);
	}
	if (r < 0) {
		snprintf(c->verify_msg, sizeof c->verify_msg, "TLS: cannot "
		    "verify the certificate of %s: %s", c->hostport,
		    gnutls_strerror(r));
		return -1;
	}
	if (status == 0)
		return 0;
	/* Accepted once by the user, for this session. */
	if (c->trust_once != NULL && strcmp(c->trust_once, pin) == 0) {
		log_debug("certificate of %s accepted for this session",
		    c->hostport);
		return 0;
	}

	buf_printf(&b, "TLS: certificate of %s not trusted (", c->host);
	reasons_at = b.len;
	tls_reasons(&b, status, &certs[0]);
	if (p != NULL) {
		p->untrusted = true;
		snprintf(p->reason, sizeof p->reason, "%s", buf_cstr(&b) +
		    reasons_at);
		snprintf(p->fingerprint, sizeof p->fingerprint, "%s", fphex);
		snprintf(p->pin, sizeof p->pin, "%s", pin);
		tls_describe(p, &certs[0]);
	}
	buf_printf(&b, ") - SHA-256 fingerprint %s; to trust this certificate "
	    "add \"tls_fingerprint = %s\" to [account %s]", fphex, fphex,
	    c->account != NULL ? c->account : "NAME");
	snprintf(c->verify_msg, sizeof c->verify_msg, "%s", buf_cstr(&b));
	buf_free(&b);
	return -1;
}

/* Wait for the direction GnuTLS is blocked on. */
static int
tls_wait(struct conn *c, uint64_t deadline, struct error *err)
{
	int	out = gnutls_record_get_direction(c->session);

	/*
	 * GnuTLS also says AGAIN after a record with nothing for us (a TLS 1.3
	 * session ticket): what is read ahead must be offered before polling.
	 */
	if (!out && tls_raw_pending(c) > 0)
		return 1;
	return conn_poll(c, out ? POLLOUT : POLLIN, deadline, err);
}

static int
tls_handshake_error(struct conn *c, int r, struct error *err)
{
	switch (r) {
	case GNUTLS_E_CERTIFICATE_ERROR:
	case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		if (c->verify_msg[0] != '\0')
			return error_set(err, ERR_TLS, "%s", c->verify_msg);
		break;
	case GNUTLS_E_PREMATURE_TERMINATION:
	case GNUTLS_E_PULL_ERROR:
	case GNUTLS_E_PUSH_ERROR:
		return error_set(err, ERR_TLS, "TLS handshake with %s failed: "
		    "the server closed the connection", c->hostport);
	case GNUTLS_E_UNEXPECTED_PACKET_LENGTH:
	case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
	case GNUTLS_E_UNEXPECTED_PACKET:
		return error_set(err, ERR_TLS, "TLS handshake with %s failed: "
		    "the server did not answer in TLS (a plain-text port? "
		    "use the STARTTLS scheme for it)", c->hostport);
	case GNUTLS_E_FATAL_ALERT_RECEIVED:
		return error_set(err, ERR_TLS, "TLS handshake with %s failed: "
		    "the server sent the alert \"%s\"", c->hostport,
		    gnutls_alert_get_name(gnutls_alert_get(c->session)));
	}
	return error_set(err, ERR_TLS, "TLS handshake with %s failed: %s",
	    c->hostport, gnutls_strerror(r));
}

static int
tls_credentials(struct conn *c, struct error *err)
{
	int	r;

	if (c->cred != NULL)
		return 0;
	if ((r = gnutls_certificate_allocate_credentials(&c->cred)) != 0)
		return error_set(err, ERR_LOCAL, "TLS: %s", gnutls_strerror(r));
	/*
	 * Parsing the system store costs more CPU than the rest of a short
	 * session (some 150 certificates). With a tls_ca_file or a pin it is
	 * loaded only when the certificate needs it (tls_verify).
	 */
	if (c->ca_file == NULL && !c->has_pin)
		tls_system_trust(c);
	/* Ours, for a server that asks (SASL EXTERNAL logs in with it). */
	if (c->cert_file != NULL && (r = gnutls_certificate_set_x509_key_file(
	    c->cred, c->cert_file, c->key_file, GNUTLS_X509_FMT_PEM)) < 0)
		return error_set(err, ERR_CONFIG, "tls_cert_file %s: %s",
		    c->cert_file, gnutls_strerror(r));
	if (c->ca_file != NULL) {
		r = gnutls_certificate_set_x509_trust_file(c->cred, c->ca_file,
		    GNUTLS_X509_FMT_PEM);
		if (r <= 0)
			return error_set(err, ERR_CONFIG, "tls_ca_file %s: %s",
			    c->ca_file, r == 0 ? "no certificate in it" :
			    gnutls_strerror(r));
	}
	return 0;
}

int
tls_start(struct conn *c, uint64_t deadline, struct error *err)
{
	const char	*errpos;
	char		 t[32];
	int		 r;

	c->verify_msg[0] = '\0';
	if (tls_credentials(c, err) == -1)
		return -1;
	if ((r = gnutls_init(&c->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK)) != 0)
		return error_set(err, ERR_LOCAL, "TLS: %s", gnutls_strerror(r));
	gnutls_session_set_ptr(c->session, c);
	if ((r = gnutls_priority_set_direct(c->session, TLS_PRIORITY,
	    &errpos)) != 0 ||
	    (r = gnutls_credentials_set(c->session, GNUTLS_CRD_CERTIFICATE,
	    c->cred)) != 0) {
		error_set(err, ERR_LOCAL, "TLS: %s", gnutls_strerror(r));
		goto fail;
	}
	/* SNI carries names only (RFC 6066), never an address. */
	if (c->ip_family == 0 && (r = gnutls_server_name_set(c->session,
	    GNUTLS_NAME_DNS, c->host, strlen(c->host))) != 0) {
		error_set(err, ERR_LOCAL, "TLS: %s", gnutls_strerror(r));
		goto fail;
	}
	gnutls_session_set_verify_function(c->session, tls_verify);
	gnutls_transport_set_ptr(c->session, c);
	gnutls_transport_set_push_function(c->session, tls_push);
	gnutls_transport_set_pull_function(c->session, tls_pull);
	gnutls_handshake_set_timeout(c->session, 0);

	for (;;) {
		r = gnutls_handshake(c->session);
		if (r == 0)
			break;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			if ((r = tls_wait(c, deadline, err)) == -1)
				goto fail;
			if (r == 0) {
				error_set(err, ERR_TRANSIENT, "TLS handshake with "
				    "%s timed out after %s", c->hostport,
				    conn_fmt_timeout(t, sizeof t,
				    c->connect_timeout_ms));
				goto fail;
			}
			continue;
		}
		if (!gnutls_error_is_fatal(r))
			continue;
		tls_handshake_error(c, r, err);
		goto fail;
	}
	xasprintf(&c->tls_info, "%s-%s",
	    gnutls_protocol_get_name(gnutls_protocol_get_version(c->session)),
	    gnutls_cipher_get_name(gnutls_cipher_get(c->session)));
	log_debug("TLS with %s: %s", c->hostport, c->tls_info);
	return 0;

fail:
	/* Never keep a session that did not finish: no plaintext fallback either. */
	gnutls_deinit(c->session);
	c->session = NULL;
	return -1;
}

/* A fatal error on an established session: the stream is lost. */
static ssize_t
tls_record_error(struct conn *c, int r, struct error *err)
{
	struct error	e;

	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		error_set(&e, ERR_TRANSIENT, "connection to %s closed by the "
		    "server", c->hostport);
	else if (r == GNUTLS_E_PULL_ERROR || r == GNUTLS_E_PUSH_ERROR)
		error_set(&e, ERR_TRANSIENT, "connection to %s lost: %s",
		    c->hostport, errno != 0 ? strerror(errno) :
		    gnutls_strerror(r));
	else if (r == GNUTLS_E_FATAL_ALERT_RECEIVED)
		error_set(&e, ERR_TLS, "TLS: %s sent the alert \"%s\"",
		    c->hostport, gnutls_alert_get_name(gnutls_alert_get(
		    c->session)));
	else
		error_set(&e, ERR_TLS, "TLS error with %s: %s", c->hostport,
		    gnutls_strerror(r));
	if (err != NULL)
		*err = e;
	conn_fail(c, &e);
	return -1;
}

/* A TLS 1.2 server asking to renegotiate: decline, carry on. */
static void
tls_decline_rehandshake(struct conn *c)
{
	gnutls_alert_send(c->session, GNUTLS_AL_WARNING,
	    GNUTLS_A_NO_RENEGOTIATION);
}

ssize_t
tls_recv(struct conn *c, void *buf, size_t len, uint64_t deadline,
    struct error *err)
{
	ssize_t	r;
	char	t[32];
	int	w;

	for (;;) {
		errno = 0;
		r = gnutls_record_recv(c->session, buf, len);
		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN) {
			if ((w = tls_wait(c, deadline, err)) == -1)
				return -1;
			if (w == 0)
				return error_set(err, ERR_TRANSIENT, "timed out "
				    "after %s waiting for %s", conn_fmt_timeout(
				    t, sizeof t, c->io_timeout_ms), c->hostport);
			continue;
		}
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_REHANDSHAKE) {
			tls_decline_rehandshake(c);
			continue;
		}
		if (!gnutls_error_is_fatal((int)r))
			continue;
		return tls_record_error(c, (int)r, err);
	}
}

ssize_t
tls_try_recv(struct conn *c, void *buf, size_t len, struct error *err)
{
	ssize_t	r;

	for (;;) {
		errno = 0;
		r = gnutls_record_recv(c->session, buf, len);
		if (r > 0)
			return r;
		if (r == 0)
			return -2;
		if (r == GNUTLS_E_AGAIN)
			return 0;
		if (r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_REHANDSHAKE) {
			tls_decline_rehandshake(c);
			return 0;
		}
		if (!gnutls_error_is_fatal((int)r))
			continue;
		return tls_record_error(c, (int)r, err);
	}
}

int
tls_send(struct conn *c, const void *buf, size_t len, struct error *err)
{
	const char	*p = buf;
	ssize_t		 r;
	char		 t[32];
	int		 w;

	while (len > 0) {
		errno = 0;
		r = gnutls_record_send(c->session, p, len);
		if (r > 0) {
			p += r;
			len -= (size_t)r;
			continue;
		}
		if (r == GNUTLS_E_AGAIN) {
			/* Called again with the same arguments, as GnuTLS wants. */
			w = tls_wait(c, conn_deadline(c->io_timeout_ms), err);
			if (w == -1)
				return -1;
			if (w == 0)
				return error_set(err, ERR_TRANSIENT, "timed out "
				    "after %s sending to %s", conn_fmt_timeout(
				    t, sizeof t, c->io_timeout_ms), c->hostport);
			continue;
		}
		if (r == GNUTLS_E_INTERRUPTED || (r < 0 &&
		    !gnutls_error_is_fatal((int)r)))
			continue;
		return (int)tls_record_error(c, (int)r, err);
	}
	return 0;
}

size_t
tls_pending(struct conn *c)
{
	return c->session != NULL ? gnutls_record_check_pending(c->session) : 0;
}

void
tls_free(struct conn *c)
{
	if (c->session != NULL) {
		/* One try at close_notify; a closing connection never waits. */
		if (!c->failed)
			gnutls_bye(c->session, GNUTLS_SHUT_WR);
		gnutls_deinit(c->session);
		c->session = NULL;
	}
	free(c->raw);
	c->raw = NULL;
	c->raw_pos = c->raw_len = 0;
	if (c->cred != NULL) {
		gnutls_certificate_free_credentials(c->cred);
		c->cred = NULL;
		c->system_trust = 0;
	}
}

/*
 * Channel binding for SCRAM-*-PLUS: tls-exporter (RFC 9266) over TLS 1.3,
 * where tls-unique is undefined, else tls-unique (RFC 5929).
 */
int
conn_channel_binding(struct conn *c, const char **typep, unsigned char *out,
    size_t *lenp)
{
	gnutls_datum_t		 cb;
	gnutls_channel_binding_t t;

	if (c->session == NULL)
		return -1;
	if (gnutls_protocol_get_version(c->session) == GNUTLS_TLS1_3) {
		t = GNUTLS_CB_TLS_EXPORTER;
		*typep = "tls-exporter";
	} else {
		t = GNUTLS_CB_TLS_UNIQUE;
		*typep = "tls-unique";
	}
	if (gnutls_session_channel_binding(c->session, t, &cb) != 0)
		return -1;
	if (cb.size > *lenp) {
		gnutls_free(cb.data);
		return -1;
	}
	memcpy(out, cb.data, cb.size);
	*lenp = cb.size;
	gnutls_free(cb.data);
	return 0;
}
