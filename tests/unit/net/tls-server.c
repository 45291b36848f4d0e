/* Certificates and the scripted loopback server for the net tests. */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls-server.h"

#define SRV_TIMEOUT_MS	10000	/* nothing in a test waits longer */

static void
check(int r, const char *what)
{
	if (r < 0) {
		fprintf(stderr, "test server: %s: %s\n", what,
		    gnutls_strerror(r));
		abort();
	}
}

void
tcert_make(struct tcert *t, const char *dir, const char *cn, int is_ca,
    struct tcert *issuer, const char *const *dns, const char *const *ips,
    time_t from, time_t to)
{
	static unsigned char	serial = 1;
	unsigned char		id[64], fp[32], ip[16], sn[2];
	size_t			idlen, fplen = sizeof fp, i;
	gnutls_datum_t		pem;
	FILE			*f;

	memset(t, 0, sizeof *t);
	check(gnutls_x509_privkey_init(&t->key), "privkey_init");
	check(gnutls_x509_privkey_generate(t->key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), "generate");
	check(gnutls_x509_crt_init(&t->crt), "crt_init");
	check(gnutls_x509_crt_set_version(t->crt, 3), "version");
	sn[0] = 0x01;
	sn[1] = serial++;
	check(gnutls_x509_crt_set_serial(t->crt, sn, sizeof sn), "serial");
	check(gnutls_x509_crt_set_dn_by_oid(t->crt, GNUTLS_OID_X520_COMMON_NAME,
	    0, cn, (unsigned)strlen(cn)), "dn");
	check(gnutls_x509_crt_set_activation_time(t->crt, from), "from");
	check(gnutls_x509_crt_set_expiration_time(t->crt, to), "to");
	check(gnutls_x509_crt_set_key(t->crt, t->key), "set_key");
	check(gnutls_x509_crt_set_basic_constraints(t->crt, is_ca, -1), "bc");
	check(gnutls_x509_crt_set_key_usage(t->crt, is_ca ?
	    GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN :
	    GNUTLS_KEY_DIGITAL_SIGNATURE), "key usage");
	if (!is_ca)
		check(gnutls_x509_crt_set_key_purpose_oid(t->crt,
		    GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose");
	for (i = 0; dns != NULL && dns[i] != NULL; i++)
		check(gnutls_x509_crt_set_subject_alt_name(t->crt,
		    GNUTLS_SAN_DNSNAME, dns[i], (unsigned)strlen(dns[i]),
		    GNUTLS_FSAN_APPEND), "san dns");
	for (i = 0; ips != NULL && ips[i] != NULL; i++) {
		int v6 = strchr(ips[i], ':') != NULL;

		if (inet_pton(v6 ? AF_INET6 : AF_INET, ips[i], ip) != 1)
			abort();
		check(gnutls_x509_crt_set_subject_alt_name(t->crt,
		    GNUTLS_SAN_IPADDRESS, ip, v6 ? 16 : 4, GNUTLS_FSAN_APPEND),
		    "san ip");
	}
	idlen = sizeof id;
	check(gnutls_x509_crt_get_key_id(t->crt, 0, id, &idlen), "key id");
	check(gnutls_x509_crt_set_subject_key_id(t->crt, id, idlen), "skid");
	if (issuer != NULL) {
		idlen = sizeof id;
		check(gnutls_x509_crt_get_subject_key_id(issuer->crt, id, &idlen,
		    NULL), "issuer skid");
		check(gnutls_x509_crt_set_authority_key_id(t->crt, id, idlen),
		    "akid");
	}
	check(gnutls_x509_crt_sign2(t->crt, issuer != NULL ? issuer->crt :
	    t->crt, issuer != NULL ? issuer->key : t->key, GNUTLS_DIG_SHA256, 0),
	    "sign");

	check(gnutls_x509_crt_get_fingerprint(t->crt, GNUTLS_DIG_SHA256, fp,
	    &fplen), "fingerprint");
	strcpy(t->fp, "sha256:");
	for (i = 0; i < fplen; i++)
		snprintf(t->fp + strlen(t->fp), sizeof t->fp - strlen(t->fp),
		    "%s%02X", i > 0 ? ":" : "", fp[i]);

	snprintf(t->path, sizeof t->path, "%s/%s.pem", dir, cn);
	check(gnutls_x509_crt_export2(t->crt, GNUTLS_X509_FMT_PEM, &pem),
	    "export");
	if ((f = fopen(t->path, "w")) == NULL ||
	    fwrite(pem.data, 1, pem.size, f) != pem.size || fclose(f) != 0)
		abort();
	gnutls_free(pem.data);
}

void
tcert_free(struct tcert *t)
{
	gnutls_x509_crt_deinit(t->crt);
	gnutls_x509_privkey_deinit(t->key);
}

/* Read one line (up to \n) from a plain socket, a byte at a time. */
static void
srv_read_line(int fd, char *out, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size && recv(fd, &c, 1, 0) == 1) {
		out[n++] = c;
		if (c == '\n')
			break;
	}
	out[n] = '\0';
}

static void
srv_send(int fd, const char *s)
{
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) != (ssize_t)strlen(s))
		fprintf(stderr, "test server: short send\n");
}

/* Close with a TCP reset, as a crashed or killed server does. */
static void
srv_reset(int fd)
{
	struct linger	l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

static void
srv_drain_plain(int fd)
{
	char	buf[4096];

	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
}

static gnutls_session_t
srv_tls(struct srv *s, int fd, gnutls_certificate_credentials_t *credp)
{
	gnutls_session_t	sess;
	size_t			len = sizeof s->sni - 1;
	unsigned		type;
	int			r;

	check(gnutls_certificate_allocate_credentials(credp), "cred");
	check(gnutls_certificate_set_x509_key(*credp, &s->cert->crt, 1,
	    s->cert->key), "set_x509_key");
	check(gnutls_init(&sess, GNUTLS_SERVER), "init");
	check(gnutls_set_default_priority(sess), "priority");
	check(gnutls_credentials_set(sess, GNUTLS_CRD_CERTIFICATE, *credp),
	    "credentials");
	/*
	 * Session tickets: with TLS 1.3 they come after the handshake, so
	 * the client sees a readable socket with no data for it.
	 */
	check(gnutls_session_ticket_key_generate(&s->ticket_key), "ticket key");
	check(gnutls_session_ticket_enable_server(sess, &s->ticket_key),
	    "tickets");
	gnutls_transport_set_int(sess, fd);
	gnutls_handshake_set_timeout(sess, SRV_TIMEOUT_MS);
	do {
		r = gnutls_handshake(sess);
	} while (r < 0 && !gnutls_error_is_fatal(r) && r != GNUTLS_E_AGAIN);
	if (r < 0) {
		gnutls_deinit(sess);
		return NULL;
	}
	s->handshake_ok = 1;
	{
		gnutls_datum_t	cb;

		/* What the client's SCRAM-PLUS must bind to. */
		if (gnutls_session_channel_binding(sess,
		    gnutls_protocol_get_version(sess) == GNUTLS_TLS1_3 ?
		    GNUTLS_CB_TLS_EXPORTER : GNUTLS_CB_TLS_UNIQUE, &cb) == 0) {
			if (cb.size <= sizeof s->cb) {
				memcpy(s->cb, cb.data, cb.size);
				s->cb_len = cb.size;
			}
			gnutls_free(cb.data);
		}
	}
	if (gnutls_server_name_get(sess, s->sni, &len, &type, 0) == 0)
		s->sni[len] = '\0';
	return sess;
}

/* Read records until the client closes (or an error). */
static void
srv_tls_drain(gnutls_session_t sess, int echo)
{
	char	buf[4096];
	ssize_t	n;

	for (;;) {
		n = gnutls_record_recv(sess, buf, sizeof buf);
		if (n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			break;
		if (echo && gnutls_record_send(sess, buf, (size_t)n) != n)
			break;
	}
}

static void
srv_tls_read_line(gnutls_session_t sess, char *out, size_t size)
{
	size_t	n = 0;
	char	c;

	while (n + 1 < size && gnutls_record_recv(sess, &c, 1) == 1) {
		out[n++] = c;
		if (c == '\n')
			break;
	}
	out[n] = '\0';
}

static void
srv_count(struct srv *s, int fd, gnutls_session_t sess)
{
	char	buf[16384], reply[64];
	ssize_t	n;

	while (s->got < s->expect) {
		n = sess != NULL ? gnutls_record_recv(sess, buf, sizeof buf) :
		    recv(fd, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		s->got += (size_t)n;
	}
	snprintf(reply, sizeof reply, "got %zu\r\n", s->got);
	if (sess != NULL)
		gnutls_record_send(sess, reply, strlen(reply));
	else
		srv_send(fd, reply);
}

static void *
srv_thread(void *arg)
{
	struct srv				*s = arg;
	gnutls_certificate_credentials_t	 cred = NULL;
	gnutls_session_t			 sess = NULL;
	struct pollfd				 pfd = { s->lfd, POLLIN, 0 };
	struct timeval				 tv = { SRV_TIMEOUT_MS / 1000, 0 };
	char					 line[256];
	int					 fd;

	if (poll(&pfd, 1, SRV_TIMEOUT_MS) != 1 ||
	    (fd = accept(s->lfd, NULL, NULL)) == -1)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

	switch (s->mode) {
	case SRV_NO_ACCEPT:
		break;
	case SRV_PLAIN_GREETING:
		srv_send(fd, "* OK plain\r\n");
		srv_drain_plain(fd);
		break;
	case SRV_PLAIN_CLOSE:
		srv_send(fd, "data\r\n");
		break;
	case SRV_PLAIN_SILENT:
		srv_drain_plain(fd);
		break;
	case SRV_PLAIN_RESET:
		/* After the client's first bytes, so its connect has finished. */
		recv(fd, line, 1, 0);
		srv_reset(fd);
		fd = -1;
		break;
	case SRV_PLAIN_COUNT:
		srv_count(s, fd, NULL);
		srv_drain_plain(fd);
		break;
	case SRV_PLAIN_WAIT:
		srv_read_line(fd, line, sizeof line);
		if (strcmp(line, "go\r\n") == 0)
			srv_send(fd, "line1\r\nline2\r\n");
		srv_drain_plain(fd);
		break;
	case SRV_STARTTLS:
	case SRV_STARTTLS_INJECT:
		srv_send(fd, "* OK ready\r\n");
		srv_read_line(fd, s->line, sizeof s->line);
		/* One send: the injected line arrives with the answer. */
		srv_send(fd, s->mode == SRV_STARTTLS ? "a OK begin TLS\r\n" :
		    "a OK begin TLS\r\n* injected\r\n");
		if ((sess = srv_tls(s, fd, &cred)) != NULL)
			srv_tls_drain(sess, 1);
		break;
	default:
		if ((sess = srv_tls(s, fd, &cred)) == NULL)
			break;
		switch (s->mode) {
		case SRV_TLS_ECHO:
			srv_tls_drain(sess, 1);
			break;
		case SRV_TLS_CLOSE_ABRUPT:
			gnutls_record_send(sess, "partial", 7);
			break;
		case SRV_TLS_CLOSE_CLEAN:
			gnutls_record_send(sess, "bye\r\n", 5);
			gnutls_bye(sess, GNUTLS_SHUT_WR);
			break;
		case SRV_TLS_SILENT:
			srv_tls_drain(sess, 0);
			break;
		case SRV_TLS_RESET:
			srv_reset(fd);
			fd = -1;
			break;
		case SRV_TLS_COUNT:
			srv_count(s, fd, sess);
			srv_tls_drain(sess, 0);
			break;
		case SRV_TLS_WAIT:
			srv_tls_read_line(sess, line, sizeof line);
			if (strcmp(line, "go\r\n") == 0)
				gnutls_record_send(sess, "line1\r\nline2\r\n", 14);
			srv_tls_drain(sess, 0);
			break;
		default:
			break;
		}
		break;
	}
	if (sess != NULL)
		gnutls_deinit(sess);
	if (s->ticket_key.data != NULL)
		gnutls_free(s->ticket_key.data);
	if (cred != NULL)
		gnutls_certificate_free_credentials(cred);
	if (fd != -1)
		close(fd);
	return NULL;
}

void
srv_start(struct srv *s, enum srv_mode mode, struct tcert *cert, int v6)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		sl;
	size_t			expect = s->expect;

	memset(s, 0, sizeof *s);
	s->mode = mode;
	s->cert = cert;
	s->expect = expect;
	memset(&ss, 0, sizeof ss);
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sl = sizeof *sin6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *sin;
	}
	if ((s->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(s->lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(s->lfd, 8) == -1 ||
	    getsockname(s->lfd, (struct sockaddr *)&ss, &sl) == -1) {
		perror("test server: listen");
		abort();
	}
	s->port = ntohs(v6 ? sin6->sin6_port : sin->sin_port);
	if (mode == SRV_NO_ACCEPT)
		return;
	if (pthread_create(&s->thread, NULL, srv_thread, s) != 0)
		abort();
	s->started = 1;
}

void
srv_stop(struct srv *s)
{
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = 0;
	close(s->lfd);
}
