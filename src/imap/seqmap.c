/*
 * The selected mailbox's sequence number -> UID map, and the changes the
 * server reports in untagged responses during any command (imap.h,
 * "What changes in the selected mailbox").
 *
 * The map is an array of UIDs in sequence order, 0 where not yet known: a
 * fresh SELECT knows only the count (EXISTS), imap_seqmap_load() fills it
 * with one UID SEARCH, and after that EXISTS appends unknown slots that the
 * FETCH of the new messages fills. Known UIDs are ascending (RFC 3501 2.3.1.2),
 * so VANISHED finds its UIDs by binary search.
 */
#include <stdlib.h>
#include <string.h>

#include "imap-private.h"
#include "log.h"
#include "xmalloc.h"

void
imap_seqmap_reset(struct imap_client *c, const char *selected)
{
	free(c->selected);
	c->selected = selected != NULL ? xstrdup(selected) : NULL;
	free(c->seqmap);
	c->seqmap = NULL;
	c->nseq = c->seqsize = 0;
	c->seqmap_loaded = false;
}

bool
imap_seqmap_loaded(const struct imap_client *c)
{
	return imap_selected(c) != NULL && c->seqmap_loaded;
}

void
imap_set_changes(struct imap_client *c, const struct imap_changes *ch,
    void *arg)
{
	c->changes = ch;
	c->changes_arg = arg;
}

const char *
imap_selected(const struct imap_client *c)
{
	return c->state == IMAP_S_SELECTED ? c->selected : NULL;
}

uint32_t
imap_seq_uid(const struct imap_client *c, uint32_t seq)
{
	return seq >= 1 && seq <= c->nseq ? c->seqmap[seq - 1] : 0;
}

/* The map holds n messages; new slots are unknown (0). */
static void
seqmap_resize(struct imap_client *c, size_t n)
{
	if (n > c->seqsize) {
		c->seqsize = n < 1024 ? 1024 : n + n / 2;
		c->seqmap = xreallocarray(c->seqmap, c->seqsize,
		    sizeof *c->seqmap);
	}
	if (n > c->nseq)
		memset(c->seqmap + c->nseq, 0, (n - c->nseq) *
		    sizeof *c->seqmap);
	c->nseq = n;
}

static void
seqmap_remove(struct imap_client *c, size_t i)
{
	memmove(c->seqmap + i, c->seqmap + i + 1, (c->nseq - i - 1) *
	    sizeof *c->seqmap);
	c->nseq--;
}

/* Index of the first known UID >= uid among the known prefix. */
static size_t
seqmap_find(const struct imap_client *c, uint32_t uid)
{
	size_t	lo = 0, hi = c->nseq, mid;

	/* Unknown slots (0) can only trail: shrink hi past them. */
	while (hi > 0 && c->seqmap[hi - 1] == 0)
		hi--;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->seqmap[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool
reporting(const struct imap_client *c)
{
	return c->changes != NULL && !c->selecting &&
	    c->state == IMAP_S_SELECTED;
}

static int
vanished_range(void *arg, uint32_t first, uint32_t last)
{
	struct imap_client	*c = arg;
	size_t			 i, j;

	i = seqmap_find(c, first);
	for (j = i; j < c->nseq && c->seqmap[j] != 0 &&
	    c->seqmap[j] <= last; j++)
		;
	if (j > i) {
		memmove(c->seqmap + i, c->seqmap + j, (c->nseq - j) *
		    sizeof *c->seqmap);
		c->nseq -= j - i;
	}
	if (reporting(c) && c->changes->vanished != NULL)
		c->changes->vanished(c->changes_arg, first, last);
	return 0;
}

/* The UID item of a FETCH response, 0 when it has none. */
static uint32_t
fetch_uid(const struct imap_resp *r)
{
	const struct imap_arg	*list, *k, *v;
	uint64_t		 n;
	size_t			 i;

	if (r->nargs < 1 || r->args[0].type != IMAP_ARG_LIST)
		return 0;
	list = &r->args[0];
	for (i = 0; i + 1 < list->count; i += 2) {
		k = &list->list[i];
		v = &list->list[i + 1];
		if (k->type == IMAP_ARG_ATOM && strcasecmp_ascii(k->str,
		    "UID") == 0 && v->type == IMAP_ARG_ATOM &&
		    parse_u64(v->str, v->len, UINT32_MAX, &n) == 0)
			return (uint32_t)n;
	}
	return 0;
}

void
imap_track_untagged(struct imap_client *c, const struct imap_resp *r,
    bool asked)
{
	const struct imap_arg	*set;
	struct imap_msg		 m;
	struct imap_folder_info	 f;
	struct error		 e;
	uint32_t		 uid;

	if (r->name == NULL)
		return;
	if (!r->has_number && c->changes != NULL &&
	    c->changes->status != NULL &&
	    strcasecmp_ascii(r->name, "STATUS") == 0) {
		if (imap_status_parse(r, &f, &e) == 0)
			c->changes->status(c->changes_arg, &f);
		else
			log_warnx("imap %s: %s", c->host, e.msg);
		return;
	}
	if (c->selected == NULL)
		return;
	if (r->has_number && strcasecmp_ascii(r->name, "EXISTS") == 0) {
		if (r->number < c->nseq) {
			/* Fewer without EXPUNGE: the map is wrong; relearn. */
			log_warnx("imap %s: EXISTS %u below %zu without EXPUNGE",
			    c->host, r->number, c->nseq);
			memset(c->seqmap, 0, c->nseq * sizeof *c->seqmap);
			c->nseq = r->number;
		} else
			seqmap_resize(c, r->number);
		if (reporting(c) && c->changes->exists != NULL)
			c->changes->exists(c->changes_arg, r->number);
	} else if (r->has_number && strcasecmp_ascii(r->name, "EXPUNGE") == 0) {
		if (r->number < 1 || r->number > c->nseq)
			return;
		uid = c->seqmap[r->number - 1];
		seqmap_remove(c, r->number - 1);
		if (reporting(c) && c->changes->expunged != NULL)
			c->changes->expunged(c->changes_arg, uid);
	} else if (!r->has_number && strcasecmp_ascii(r->name, "VANISHED") ==
	    0) {
		/* VANISHED (EARLIER) answers a command; only the bare form
		 * reports expunges as they happen (RFC 7162 3.2.10). */
		if (r->nargs != 1 || r->args[0].type != IMAP_ARG_ATOM)
			return;
		set = &r->args[0];
		if (imap_uidset_each(set->str, set->len, vanished_range, c) != 0)
			log_warnx("imap %s: bad VANISHED set ignored", c->host);
	} else if (r->has_number && strcasecmp_ascii(r->name, "FETCH") == 0) {
		if (r->number < 1)
			return;
		if (asked) {
			/* The command decodes it: only learn the UID here,
			 * without a second decoding of every message. */
			if ((uid = fetch_uid(r)) == 0)
				return;
			if (r->number > c->nseq)
				seqmap_resize(c, r->number);
			c->seqmap[r->number - 1] = uid;
			return;
		}
		if (imap_fetch_decode(r, &m, &c->chg_scratch, &e) == -1)
			return;
		if (r->number > c->nseq)
			seqmap_resize(c, r->number);
		if (m.uid != 0)
			c->seqmap[r->number - 1] = m.uid;
		else
			m.uid = c->seqmap[r->number - 1];
		if (!asked && m.has_flags && reporting(c) &&
		    c->changes->fetch != NULL)
			c->changes->fetch(c->changes_arg, &m);
	}
}

struct load_ctx {
	struct imap_client	*c;
	size_t			 i;
};

static int
load_range(void *arg, uint32_t first, uint32_t last)
{
	struct load_ctx	*l = arg;
	uint64_t	 u;

	for (u = first; u <= last; u++) {
		if (l->i >= l->c->nseq)
			seqmap_resize(l->c, l->i + 1);
		l->c->seqmap[l->i++] = (uint32_t)u;
	}
	return 0;
}

int
imap_seqmap_load(struct imap_client *c, struct error *err)
{
	struct load_ctx	l = { c, 0 };

	if (imap_selected(c) == NULL)
		return error_set(err, ERR_PROTO, "no folder selected");
	if (imap_uid_search(c, "ALL", load_range, &l, err) == -1)
		return -1;
	c->seqmap_loaded = true;
	/* Messages that arrived after the search stay unknown (0). */
	return 0;
}
