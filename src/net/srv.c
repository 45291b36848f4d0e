/*
 * DNS SRV records (RFC 2782), for finding a domain's mail servers (RFC
 * 6186) in `petrel setup`. res_query() through libresolv; the answer is
 * parsed with ns_initparse()/ns_parserr(), which check every length.
 *
 * PETREL_SETUP_DNS names a file that replaces DNS for the tests (which
 * must touch nothing but loopback): lines "NAME SRV PRIO WEIGHT PORT
 * TARGET", every other name unknown.
 */
#include <sys/types.h>

#include <arpa/nameser.h>
#include <netinet/in.h>

#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "util.h"
#include "xmalloc.h"

#define SRV_ANSWER_MAX	4096

static int
srv_cmp(const void *a, const void *b)
{
	const struct net_srv	*x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	/* Heavier first: a fixed order is enough for trying each in turn. */
	return y->weight - x->weight;
}

static int
srv_from_file(const char *path, const char *name, struct net_srv *out,
    int max, struct error *err)
{
	FILE	*f;
	char	 line[512], n[256], type[16], target[256];
	int	 prio, weight, port, count = 0;

	if ((f = fopen(path, "r")) == NULL)
		return error_set(err, ERR_LOCAL, "PETREL_SETUP_DNS %s: cannot "
		    "open", path);
	while (fgets(line, sizeof line, f) != NULL && count < max) {
		if (sscanf(line, "%255s %15s %d %d %d %255s", n, type, &prio,
		    &weight, &port, target) != 6 ||
		    strcasecmp_ascii(type, "SRV") != 0 ||
		    strcasecmp_ascii(n, name) != 0)
			continue;
		out[count].priority = prio;
		out[count].weight = weight;
		out[count].port = port;
		snprintf(out[count].target, sizeof out[count].target, "%s",
		    target);
		count++;
	}
	fclose(f);
	return count;
}

int
net_srv(const char *name, struct net_srv *out, int max, struct error *err)
{
	unsigned char	 ans[SRV_ANSWER_MAX];
	const char	*hook = getenv("PETREL_SETUP_DNS");
	ns_msg		 msg;
	ns_rr		 rr;
	int		 len, i, count = 0;
	const unsigned char *rd;

	if (hook != NULL && *hook != '\0')
		count = srv_from_file(hook, name, out, max, err);
	else {
		if ((len = res_query(name, ns_c_in, ns_t_srv, ans,
		    sizeof ans)) < 0)
			return 0;	/* no such name, no records, no DNS */
		if (ns_initparse(ans, len, &msg) < 0)
			return error_set(err, ERR_PROTO, "DNS: a malformed "
			    "answer for %s", name);
		for (i = 0; i < ns_msg_count(msg, ns_s_an) && count < max;
		    i++) {
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
				return error_set(err, ERR_PROTO, "DNS: a "
				    "malformed record for %s", name);
			if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7)
				continue;
			rd = ns_rr_rdata(rr);
			out[count].priority = ns_get16(rd);
			out[count].weight = ns_get16(rd + 2);
			out[count].port = ns_get16(rd + 4);
			if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6,
			    out[count].target, sizeof out[count].target) < 0)
				continue;
			count++;
		}
	}
	if (count < 0)
		return -1;
	/* "." as the target: the service is decidedly not offered. */
	for (i = 0; i < count; i++)
		if (strcmp(out[i].target, ".") == 0 || out[i].target[0] == '\0' ||
		    out[i].port <= 0 || out[i].port > 65535) {
			memmove(&out[i], &out[i + 1], (size_t)(count - i - 1) *
			    sizeof out[0]);
			count--;
			i--;
		}
	qsort(out, (size_t)count, sizeof out[0], srv_cmp);
	return count;
}
