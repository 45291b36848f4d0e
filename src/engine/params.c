/*
 * From an account (conf.h) to the proto_params a protocol client connects
 * with (proto.h): the engine is the only module that knows both.
 */
#include <string.h>

#include "conf.h"
#include "engine-private.h"
#include "log.h"
#include "proto.h"

const struct proto_params *
engine_proto_params(const struct account *acct, struct proto_params *pp)
{
	const char	*v;

	memset(pp, 0, sizeof *pp);
	pp->name = acct->name;
	pp->host = acct->host;
	pp->port = acct->port;
	pp->user = acct->user;
	switch (acct->tls) {
	case TLS_IMPLICIT:
		pp->tls = PROTO_TLS_IMPLICIT;
		break;
	case TLS_STARTTLS:
		pp->tls = PROTO_TLS_STARTTLS;
		break;
	case TLS_NONE:
		pp->tls = PROTO_TLS_NONE;
		break;
	default:
		fatalx("%s: bad tls mode %d", __func__, (int)acct->tls);
	}
	pp->ca_file = acct->tls_ca_file;
	pp->cert_file = acct->tls_cert_file;
	pp->key_file = acct->tls_key_file;
	pp->fingerprint = acct->tls_fingerprint;
	pp->connect_timeout_ms = acct->connect_timeout * 1000;
	pp->io_timeout_ms = acct->timeout * 1000;
	v = conf_get(NULL, acct, "compress");
	pp->compress = v == NULL || (strcmp(v, "no") != 0 &&
	    strcmp(v, "off") != 0);
	pp->apop = acct->pop3_apop;
	pp->auth = acct->auth;
	pp->token = acct->oauth2_token_command != NULL ||
	    acct->oauth2_provider != NULL;
	pp->external = !account_has_secret(acct);
	return pp;
}
