/*
 * The IMAP driver's message operations (struct engine_driver: select,
 * store_flags, copy, move, expunge, find_uid, find_message_id), which the
 * replay of local actions (replay.c) is written with. What only IMAP
 * knows stays here: the capabilities (MOVE, UIDPLUS), COPYUID, and
 * imap_broken() to tell a dropped connection (DRV_LOST) from a server
 * that said NO or BAD (DRV_REFUSED). The table is in drivers.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "engine-private.h"
#include "imap.h"
#include "msgflags.h"

/* A command that failed: was it the connection, or the server's answer? */
static int
failed(struct session *s)
{
	return imap_broken(s->imap) != NULL ? DRV_LOST : DRV_REFUSED;
}

int
imapdrv_select(struct session *s, const char *remote, bool rw,
    uint32_t *uidvalidityp, struct error *err)
{
	struct imap_select_opts	so;
	struct imap_mailbox	mb;

	memset(&so, 0, sizeof so);
	so.readonly = !rw;
	if (imap_select(s->imap, remote, &so, &mb, err) == -1)
		return -1;
	*uidvalidityp = mb.uidvalidity;
	return 0;
}

/* "\\Seen \\Flagged kw" of bits and keywords. */
static void
flag_names(struct buf *b, uint32_t flags, const char *keywords)
{
	static const struct {
		uint32_t	 bit;
		const char	*name;
	} names[] = {
		{ MSG_SEEN, "\\Seen" }, { MSG_ANSWERED, "\\Answered" },
		{ MSG_FLAGGED, "\\Flagged" }, { MSG_DELETED, "\\Deleted" },
		{ MSG_DRAFT, "\\Draft" }, { MSG_FORWARDED, "$Forwarded" },
	};
	size_t	i;

	buf_reset(b);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (flags & names[i].bit) {
			if (b->len > 0)
				buf_addc(b, ' ');
			buf_adds(b, names[i].name);
		}
	if (keywords != NULL && *keywords != '\0') {
		if (b->len > 0)
			buf_addc(b, ' ');
		buf_adds(b, keywords);
	}
	if (b->len == 0)
		buf_adds(b, "");
}

int
imapdrv_store_flags(struct session *s, const char *uidset, bool add,
    uint32_t flags, const char *keywords, struct error *err)
{
	struct buf	names = BUF_INIT(0);
	int		rv;

	flag_names(&names, flags, keywords);
	rv = imap_uid_store(s->imap, uidset, add, names.data, err);
	buf_free(&names);
	return rv == 0 ? 0 : failed(s);
}

/*
 * \Deleted on uidset, then UID EXPUNGE of just those where the server has
 * UIDPLUS. Without it a bare EXPUNGE would take every \Deleted message of
 * the folder, other clients' too: sent only when the user asked to
 * expunge, which is what it does.
 */
int
imapdrv_expunge(struct session *s, const char *uidset, bool asked,
    struct error *err)
{
	int	rv;

	rv = imap_uid_store(s->imap, uidset, true, "\\Deleted", err);
	if (rv == 0 && imap_has_cap(s->imap, "UIDPLUS"))
		rv = imap_uid_expunge(s->imap, uidset, err);
	else if (rv == 0 && asked)
		rv = imap_expunge(s->imap, err);
	return rv == 0 ? 0 : failed(s);
}

/* UID COPY (or UID MOVE: native), COPYUID into *cp. */
static int
copy_uids(struct session *s, const char *uidset, const char *dest,
    bool native, struct drv_copied *cp, struct error *err)
{
	struct imap_copyuid	cu;

	memset(cp, 0, sizeof *cp);
	memset(&cu, 0, sizeof cu);
	if (imap_uid_copy(s->imap, uidset, dest, native, &cu, err) == -1) {
		imap_copyuid_free(&cu);
		return failed(s);
	}
	if (!cu.valid) {
		imap_copyuid_free(&cu);
		return 0;
	}
	/* The arrays change hands: drv_copied_free() frees them. */
	cp->uidvalidity = cu.uidvalidity;
	cp->src = cu.src;
	cp->dst = cu.dst;
	cp->n = cu.n;
	return 0;
}

int
imapdrv_copy(struct session *s, const char *uidset, const char *dest,
    struct drv_copied *cp, struct error *err)
{
	return copy_uids(s, uidset, dest, false, cp, err);
}

/*
 * UID MOVE where the server has MOVE (RFC 6851); else UID COPY, then the
 * originals go the UIDPLUS way (imapdrv_expunge, not asked), never by a
 * bare EXPUNGE that would take other clients' \Deleted messages too.
 */
int
imapdrv_move(struct session *s, const char *uidset, const char *dest,
    struct drv_copied *cp, struct error *err)
{
	int	rv;

	if (imap_has_cap(s->imap, "MOVE"))
		return copy_uids(s, uidset, dest, true, cp, err);
	if ((rv = copy_uids(s, uidset, dest, false, cp, err)) != 0)
		return rv;
	error_clear(&cp->kept_why);
	rv = imapdrv_expunge(s, uidset, false, &cp->kept_why);
	if (rv == DRV_LOST) {
		*err = cp->kept_why;
		return DRV_LOST;
	}
	/* A refused STORE or UID EXPUNGE leaves the copy made: keep both. */
	cp->source_kept = rv == DRV_REFUSED;
	return 0;
}

struct found {
	uint32_t	uid;
	size_t		n;
};

static int
found_cb(void *arg, uint32_t first, uint32_t last)
{
	struct found	*f = arg;

	if (f->uid == 0)
		f->uid = first;
	f->n += (size_t)(last - first) + 1;
	return 0;
}

int
imapdrv_find_uid(struct session *s, uint32_t uid, struct error *err)
{
	struct found	f = { 0, 0 };
	char		crit[32];

	snprintf(crit, sizeof crit, "UID %u", uid);
	if (imap_uid_search(s->imap, crit, found_cb, &f, err) == -1)
		return -1;
	return f.n > 0;
}

int
imapdrv_find_message_id(struct session *s, const char *mid, uint32_t *uidp,
    struct error *err)
{
	struct found	 f = { 0, 0 };
	struct buf	 crit = BUF_INIT(0);
	int		 rv;

	*uidp = 0;
	buf_adds(&crit, "HEADER Message-ID ");
	if (imap_quote(&crit, mid) == -1) {
		/* Not sayable as a quoted string: cannot be asked. */
		buf_free(&crit);
		return 0;
	}
	rv = imap_uid_search(s->imap, crit.data, found_cb, &f, err);
	buf_free(&crit);
	if (rv == -1)
		return -1;
	*uidp = f.uid;
	return 0;
}
