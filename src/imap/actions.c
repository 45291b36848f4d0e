/*
 * Commands that change a mailbox: UID STORE, UID COPY, UID MOVE (RFC 6851),
 * UID EXPUNGE (UIDPLUS, RFC 4315) and EXPUNGE, with the COPYUID answers.
 */
#include <stdlib.h>
#include <string.h>

#include "imap-private.h"
#include "xmalloc.h"

/* UIDs one COPYUID may name: more than any command we send. */
#define IMAP_COPYUID_MAX	100000

void
imap_copyuid_free(struct imap_copyuid *cu)
{
	free(cu->src);
	free(cu->dst);
	memset(cu, 0, sizeof *cu);
}

struct uidvec {
	uint32_t	*v;
	size_t		 n;
	bool		 overflow;
};

static int
uidvec_add(void *arg, uint32_t first, uint32_t last)
{
	struct uidvec	*u = arg;
	uint64_t	 k;

	for (k = first; k <= last; k++) {
		if (u->n == IMAP_COPYUID_MAX) {
			u->overflow = true;
			return 1;
		}
		u->v = xreallocarray(u->v, u->n + 1, sizeof *u->v);
		u->v[u->n++] = (uint32_t)k;
	}
	return 0;
}

/* [COPYUID uidvalidity src dst] into cu; a malformed one is ignored. */
static void
copyuid_parse(const struct imap_resp *r, struct imap_copyuid *cu)
{
	struct uidvec	 s = { NULL, 0, false }, d = { NULL, 0, false };
	uint64_t	 v;

	if (r->code == NULL || strcasecmp_ascii(r->code, "COPYUID") != 0 ||
	    r->ncode_args != 3 ||
	    imap_arg_number(&r->code_args[0], UINT32_MAX, &v) == -1 ||
	    r->code_args[1].type != IMAP_ARG_ATOM ||
	    r->code_args[2].type != IMAP_ARG_ATOM)
		return;
	if (imap_uidset_each(r->code_args[1].str, r->code_args[1].len,
	    uidvec_add, &s) != 0 ||
	    imap_uidset_each(r->code_args[2].str, r->code_args[2].len,
	    uidvec_add, &d) != 0 || s.n != d.n) {
		free(s.v);
		free(d.v);
		return;
	}
	/* Several answers (a MOVE in parts) add up. */
	cu->src = xreallocarray(cu->src, cu->n + s.n, sizeof *cu->src);
	cu->dst = xreallocarray(cu->dst, cu->n + s.n, sizeof *cu->dst);
	memcpy(cu->src + cu->n, s.v, s.n * sizeof *s.v);
	memcpy(cu->dst + cu->n, d.v, d.n * sizeof *d.v);
	cu->n += s.n;
	cu->uidvalidity = (uint32_t)v;
	cu->valid = true;
	free(s.v);
	free(d.v);
}

static int
copyuid_cb(void *arg, const struct imap_resp *r)
{
	if (r->status == IMAP_STATUS_OK && r->code != NULL)
		copyuid_parse(r, arg);
	return 0;
}

uint32_t
imap_copyuid_lookup(const struct imap_copyuid *cu, uint32_t src)
{
	size_t	i;

	for (i = 0; cu->valid && i < cu->n; i++)
		if (cu->src[i] == src)
			return cu->dst[i];
	return 0;
}

int
imap_uid_store(struct imap_client *c, const char *uidset, bool add,
    const char *flags, struct error *err)
{
	error_clear(err);
	return imap_command(c, NULL, NULL, err, "UID STORE %s %cFLAGS.SILENT "
	    "(%s)", uidset, add ? '+' : '-', flags);
}

int
imap_uid_copy(struct imap_client *c, const char *uidset, const char *dest,
    bool move, struct imap_copyuid *cu, struct error *err)
{
	struct buf	q = BUF_INIT(0);
	int		rv;

	memset(cu, 0, sizeof *cu);
	error_clear(err);
	if (imap_quote(&q, dest) == -1) {
		buf_free(&q);
		return error_set(err, ERR_PROTO, "folder name with a line break");
	}
	c->tagged_cb = copyuid_cb;
	c->tagged_arg = cu;
	rv = imap_command(c, copyuid_cb, cu, err, "UID %s %s %s",
	    move ? "MOVE" : "COPY", uidset, q.data);
	c->tagged_cb = NULL;
	c->tagged_arg = NULL;
	buf_free(&q);
	return rv;
}

int
imap_uid_expunge(struct imap_client *c, const char *uidset, struct error *err)
{
	error_clear(err);
	if (!imap_has_cap(c, "UIDPLUS"))
		return error_set(err, ERR_PROTO, "the server has no UID EXPUNGE "
		    "(UIDPLUS)");
	return imap_command(c, NULL, NULL, err, "UID EXPUNGE %s", uidset);
}

int
imap_expunge(struct imap_client *c, struct error *err)
{
	error_clear(err);
	return imap_command(c, NULL, NULL, err, "EXPUNGE");
}
