/*
 * Finding an address's mail servers for `petrel setup`, in the order the
 * issue of account setup asks: RFC 6186 SRV records, then the provider's
 * autoconfig document (autoconfig.DOMAIN, then DOMAIN/.well-known), then
 * guesses (imap.DOMAIN, mail.DOMAIN, pop.DOMAIN); and trying a login on
 * one of them.
 *
 * For the tests, PETREL_SETUP_DNS replaces DNS (net_srv) and
 * PETREL_AUTOCONFIG_BASE the autoconfig host; with the first set, no
 * guess is made (a guess is a DNS lookup of a name the tests do not own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "engine-private.h"
#include "imap.h"
#include "log.h"
#include "net.h"
#include "oauth.h"
#include "pop3.h"
#include "xmalloc.h"

#define SETUP_TIMEOUT_MS	15000

static int
add(struct setup_candidate *out, int n, int max, enum account_proto proto,
    enum tls_mode tls, const char *host, int port, const char *user,
    const char *how)
{
	int	i;

	if (n >= max)
		return n;
	for (i = 0; i < n; i++)
		if (out[i].proto == proto && out[i].tls == tls &&
		    out[i].port == port && strcasecmp_ascii(out[i].host,
		    host) == 0)
			return n;	/* found twice: the first way counts */
	memset(&out[n], 0, sizeof out[n]);
	out[n].proto = proto;
	out[n].tls = tls;
	if ((size_t)snprintf(out[n].host, sizeof out[n].host, "%s", host) >=
	    sizeof out[n].host)
		return n;	/* longer than any DNS name: not a host */
	out[n].port = port;
	snprintf(out[n].user, sizeof out[n].user, "%s", user != NULL ? user :
	    "");
	snprintf(out[n].how, sizeof out[n].how, "%s", how);
	return n + 1;
}

static int
from_srv(const char *domain, struct setup_candidate *out, int n, int max,
    struct error *err)
{
	static const struct {
		const char		*svc;
		enum account_proto	 proto;
		enum tls_mode		 tls;
	} svcs[] = {
		{ "_imaps._tcp", PROTO_IMAP, TLS_IMPLICIT },
		{ "_imap._tcp", PROTO_IMAP, TLS_STARTTLS },
		{ "_pop3s._tcp", PROTO_POP3, TLS_IMPLICIT },
		{ "_pop3._tcp", PROTO_POP3, TLS_STARTTLS },
	};
	struct net_srv	srv[8];
	char		name[300], how[400];
	size_t		i;
	int		k, c;

	for (i = 0; i < sizeof svcs / sizeof svcs[0]; i++) {
		snprintf(name, sizeof name, "%s.%s", svcs[i].svc, domain);
		if ((c = net_srv(name, srv, 8, err)) == -1)
			return -1;
		for (k = 0; k < c; k++) {
			/* A trailing dot is DNS's, not part of the name. */
			size_t l = strlen(srv[k].target);

			if (l > 0 && srv[k].target[l - 1] == '.')
				srv[k].target[l - 1] = '\0';
			snprintf(how, sizeof how, "the SRV record %s", name);
			n = add(out, n, max, svcs[i].proto, svcs[i].tls,
			    srv[k].target, srv[k].port, NULL, how);
		}
	}
	return n;
}

static int
from_autoconfig(const char *address, const char *domain,
    struct setup_candidate *out, int n, int max, const char *ca_file)
{
	const char		*base = getenv("PETREL_AUTOCONFIG_BASE");
	struct autoconfig_server a[16];
	char			*urls[2], *body, how[400];
	struct buf		 q = BUF_INIT(0);
	struct error		 e;
	size_t			 len, i;
	int			 status, k, c;

	for (i = 0; address[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)address[i];

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			buf_addc(&q, (char)ch);
		else
			buf_printf(&q, "%%%02X", ch);
	}
	if (base != NULL && *base != '\0') {
		xasprintf(&urls[0], "%s/mail/config-v1.1.xml?emailaddress=%s",
		    base, buf_cstr(&q));
		xasprintf(&urls[1], "%s/.well-known/autoconfig/mail/"
		    "config-v1.1.xml", base);
	} else {
		xasprintf(&urls[0], "https://autoconfig.%s/mail/config-v1.1.xml"
		    "?emailaddress=%s", domain, buf_cstr(&q));
		xasprintf(&urls[1], "https://%s/.well-known/autoconfig/mail/"
		    "config-v1.1.xml", domain);
	}
	buf_free(&q);
	for (i = 0; i < 2; i++) {
		error_clear(&e);
		if (http_get(urls[i], ca_file, SETUP_TIMEOUT_MS, &status, &body,
		    &len, &e) == -1) {
			log_info("setup: %s: %s", urls[i], e.msg);
			continue;
		}
		if (status != 200) {
			log_info("setup: %s: HTTP %d", urls[i], status);
			freezero_str(body);
			continue;
		}
		c = autoconfig_parse(body, len, address, a, 16, &e);
		freezero_str(body);
		if (c == -1) {
			log_warnx("setup: %s: %s", urls[i], e.msg);
			continue;
		}
		snprintf(how, sizeof how, "the autoconfig document %s",
		    urls[i]);
		for (k = 0; k < c; k++)
			n = add(out, n, max, a[k].proto, a[k].tls, a[k].host,
			    a[k].port, a[k].user, how);
		if (c > 0)
			break;
	}
	free(urls[0]);
	free(urls[1]);
	return n;
}

int
engine_setup_discover(const char *address, const char *ca_file,
    struct setup_candidate *out, int max, struct error *err)
{
	static const struct {
		const char		*prefix;
		enum account_proto	 proto;
		enum tls_mode		 tls;
		int			 port;
	} guesses[] = {
		{ "imap", PROTO_IMAP, TLS_IMPLICIT, 993 },
		{ "imap", PROTO_IMAP, TLS_STARTTLS, 143 },
		{ "mail", PROTO_IMAP, TLS_IMPLICIT, 993 },
		{ "mail", PROTO_IMAP, TLS_STARTTLS, 143 },
		{ "pop", PROTO_POP3, TLS_IMPLICIT, 995 },
		{ "pop3", PROTO_POP3, TLS_IMPLICIT, 995 },
		{ "pop", PROTO_POP3, TLS_STARTTLS, 110 },
	};
	const char	*at = strrchr(address, '@'), *domain;
	char		 host[300];
	size_t		 i;
	int		 n = 0;

	if (at == NULL || at == address || at[1] == '\0' ||
	    strpbrk(address, " \t\r\n/\\") != NULL)
		return error_set(err, ERR_USAGE, "%s is not a mail address",
		    address);
	domain = at + 1;
	if (strspn(domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-") != strlen(domain))
		return error_set(err, ERR_USAGE, "%s: the domain is not a host "
		    "name", address);
	if ((n = from_srv(domain, out, n, max, err)) == -1)
		return -1;
	n = from_autoconfig(address, domain, out, n, max, ca_file);
	if (getenv("PETREL_SETUP_DNS") == NULL) {
		for (i = 0; i < sizeof guesses / sizeof guesses[0]; i++) {
			snprintf(host, sizeof host, "%s.%s", guesses[i].prefix,
			    domain);
			n = add(out, n, max, guesses[i].proto, guesses[i].tls,
			    host, guesses[i].port, NULL, "a guess");
		}
	}
	return n;
}

int
engine_trust_always(const struct session_cert *cert, struct error *err)
{
	char	*kh = knownhosts_path();
	int	 rv;

	rv = knownhosts_add(kh, cert->hostport, cert->pin, cert->subject, err);
	free(kh);
	return rv;
}

int
engine_setup_try(const struct setup_candidate *c, const char *user,
    const char *password, const char *ca_file, struct session_cert *cert,
    struct error *err)
{
	struct proto_params	 pp;
	struct tls_peer		 peer;
	struct imap_client	*ic;
	struct pop3_client	*pc;
	char			*kh = knownhosts_path();

	memset(&pp, 0, sizeof pp);
	pp.name = "setup";
	pp.host = c->host;
	pp.port = c->port;
	pp.user = user;
	pp.tls = c->tls == TLS_IMPLICIT ? PROTO_TLS_IMPLICIT :
	    PROTO_TLS_STARTTLS;
	pp.ca_file = ca_file;
	pp.known_hosts = kh;
	pp.peer = &peer;
	memset(cert, 0, sizeof *cert);
	pp.connect_timeout_ms = SETUP_TIMEOUT_MS;
	pp.io_timeout_ms = SETUP_TIMEOUT_MS;
	if (c->proto == PROTO_IMAP) {
		if ((ic = imap_connect(&pp, password, err)) == NULL) {
			if (err->cls == ERR_TLS)
				session_cert_from_peer(cert, &peer);
			free(kh);
			return -1;
		}
		imap_logout(&ic);
	} else {
		if ((pc = pop3_connect(&pp, password, NULL, err)) == NULL) {
			if (err->cls == ERR_TLS)
				session_cert_from_peer(cert, &peer);
			free(kh);
			return -1;
		}
		pop3_close(&pc);
	}
	free(kh);
	return 0;
}
