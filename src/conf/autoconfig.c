/*
 * The provider's autoconfig document (Thunderbird's clientConfig v1.1,
 * served at autoconfig.DOMAIN or DOMAIN/.well-known/autoconfig/), read for
 * `petrel setup`: the incoming IMAP and POP3 servers it names.
 *
 * The document comes from the network, so it is treated as hostile: only
 * the few elements wanted are looked at, by a bounded scan (no general
 * XML, no entities beyond the five predefined, no DTD); a value that is
 * not a plain host name, port or user name is dropped; a server without
 * TLS ("plain") is never offered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "util.h"

#define AUTOCONFIG_MAX	(256 * 1024)

/* [p, e): the next "<tag" ... "</tag>" block; NULL when none. */
static const char *
block(const char *p, const char *e, const char *tag, const char **endp)
{
	char		 open[64], close[64];
	const char	*s, *c;
	size_t		 ol, cl;

	snprintf(open, sizeof open, "<%s", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	ol = strlen(open);
	cl = strlen(close);
	for (s = p; (s = memmem(s, (size_t)(e - s), open, ol)) != NULL;
	    s += ol) {
		if (s + ol < e && (s[ol] == '>' || s[ol] == ' ' ||
		    s[ol] == '\t' || s[ol] == '\n' || s[ol] == '\r'))
			break;
	}
	if (s == NULL || (c = memmem(s, (size_t)(e - s), close, cl)) == NULL)
		return NULL;
	*endp = c + cl;
	return s;
}

/* The text of the first <tag>text</tag> in [p, e), decoded, or false. */
static bool
element(const char *p, const char *e, const char *tag, char *out,
    size_t outsz)
{
	const char	*s, *end, *t;
	size_t		 o = 0;

	if ((s = block(p, e, tag, &end)) == NULL ||
	    (t = memchr(s, '>', (size_t)(end - s))) == NULL)
		return false;
	for (t++; t < end && *t != '<' && o + 1 < outsz; t++) {
		if (*t == '&') {
			static const struct { const char *n; char c; } ent[] = {
				{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
				{ "&quot;", '"' }, { "&apos;", '\'' } };
			size_t	i;

			for (i = 0; i < sizeof ent / sizeof ent[0]; i++)
				if ((size_t)(end - t) >= strlen(ent[i].n) &&
				    strncmp(t, ent[i].n, strlen(ent[i].n)) == 0)
					break;
			if (i == sizeof ent / sizeof ent[0])
				return false;
			out[o++] = ent[i].c;
			t += strlen(ent[i].n) - 1;
			continue;
		}
		out[o++] = *t;
	}
	out[o] = '\0';
	/* Surrounding white space is layout. */
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\n' ||
	    out[o - 1] == '\r' || out[o - 1] == '\t'))
		out[--o] = '\0';
	t = out + strspn(out, " \t\r\n");
	memmove(out, t, strlen(t) + 1);
	return true;
}

static bool
host_ok(const char *h)
{
	return *h != '\0' && strlen(h) < 254 && strspn(h,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:")
	    == strlen(h) && h[0] != '-' && h[0] != '.';
}

/* %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN% in a user name. */
static bool
expand_user(const char *tmpl, const char *address, char *out, size_t outsz)
{
	const char	*at = strrchr(address, '@');
	size_t		 o = 0, n;
	const char	*v;

	while (*tmpl != '\0') {
		if (strncmp(tmpl, "%EMAILADDRESS%", 14) == 0) {
			v = address;
			n = strlen(address);
			tmpl += 14;
		} else if (strncmp(tmpl, "%EMAILLOCALPART%", 16) == 0) {
			v = address;
			n = at != NULL ? (size_t)(at - address) : strlen(address);
			tmpl += 16;
		} else if (strncmp(tmpl, "%EMAILDOMAIN%", 13) == 0) {
			v = at != NULL ? at + 1 : "";
			n = strlen(v);
			tmpl += 13;
		} else {
			v = tmpl++;
			n = 1;
		}
		if (o + n + 1 > outsz)
			return false;
		memcpy(out + o, v, n);
		o += n;
	}
	out[o] = '\0';
	/* No spaces or controls: it goes into a URL and a LOGIN command. */
	for (n = 0; n < o; n++)
		if ((unsigned char)out[n] <= 0x20 || out[n] == 0x7f)
			return false;
	return o > 0;
}

int
autoconfig_parse(const char *xml, size_t len, const char *address,
    struct autoconfig_server *out, int max, struct error *err)
{
	const char	*p = xml, *e = xml + len, *s, *end, *gt, *type;
	char		 v[512], user[300];
	int		 n = 0, plain = 0, port;
	char		*pe;

	if (len > AUTOCONFIG_MAX)
		return error_set(err, ERR_PROTO, "the autoconfig document is "
		    "larger than %d bytes", AUTOCONFIG_MAX);
	if (memmem(xml, len, "<clientConfig", 13) == NULL)
		return error_set(err, ERR_PROTO, "not an autoconfig document "
		    "(no clientConfig)");
	while (n < max && (s = block(p, e, "incomingServer", &end)) != NULL) {
		struct autoconfig_server *a = &out[n];

		p = end;
		if ((gt = memchr(s, '>', (size_t)(end - s))) == NULL)
			continue;
		memset(a, 0, sizeof *a);
		type = memmem(s, (size_t)(gt - s), "type=", 5);
		if (type != NULL && (strncmp(type + 5, "\"imap\"", 6) == 0 ||
		    strncmp(type + 5, "'imap'", 6) == 0))
			a->proto = PROTO_IMAP;
		else if (type != NULL && (strncmp(type + 5, "\"pop3\"", 6) == 0 ||
		    strncmp(type + 5, "'pop3'", 6) == 0))
			a->proto = PROTO_POP3;
		else
			continue;	/* exchange, ews...: not ours */
		if (!element(gt, end, "hostname", a->host, sizeof a->host) ||
		    !host_ok(a->host))
			continue;
		if (!element(gt, end, "port", v, sizeof v) ||
		    (port = (int)strtol(v, &pe, 10)) < 1 || port > 65535 ||
		    *pe != '\0')
			continue;
		a->port = port;
		if (!element(gt, end, "socketType", v, sizeof v))
			continue;
		if (strcasecmp_ascii(v, "SSL") == 0)
			a->tls = TLS_IMPLICIT;
		else if (strcasecmp_ascii(v, "STARTTLS") == 0)
			a->tls = TLS_STARTTLS;
		else {
			plain++;	/* never a password in clear text */
			continue;
		}
		if (!element(gt, end, "username", v, sizeof v))
			snprintf(v, sizeof v, "%%EMAILADDRESS%%");
		if (!expand_user(v, address, user, sizeof user))
			continue;
		snprintf(a->user, sizeof a->user, "%s", user);
		a->oauth2 = memmem(gt, (size_t)(end - gt),
		    "<authentication>OAuth2</authentication>", 39) != NULL;
		n++;
	}
	if (n == 0 && plain > 0)
		return error_set(err, ERR_PROTO, "the autoconfig document names "
		    "only servers without TLS: refused");
	return n;
}
