/*
 * The part tree. Parts are kept in one array and linked by index; they are
 * expanded in array order (breadth first), so there is no recursion and
 * the limits are simple: a multipart or message/rfc822 deeper than
 * depth_max stays a leaf, parts beyond parts_max are counted, not kept.
 * Each part points into the raw message (or into the decoded copy of an
 * encoded message/rfc822 body, owned by that part).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

/* Scan lines ending in CRLF, LF or a lone CR, in linear time. */
struct lscan {
	const char	*p, *end;
	const char	*ncr, *nlf;	/* next CR / LF at or after p (or end) */
};

static void
lscan_init(struct lscan *ls, const char *p, const char *end)
{
	ls->p = p;
	ls->end = end;
	ls->ncr = ls->nlf = NULL;
}

/* The next line [*s, *e); false at the end. */
static bool
lscan_next(struct lscan *ls, const char **s, const char **e)
{
	const char	*le;

	if (ls->p >= ls->end)
		return false;
	if (ls->nlf == NULL || ls->nlf < ls->p) {
		ls->nlf = memchr(ls->p, '\n', (size_t)(ls->end - ls->p));
		if (ls->nlf == NULL)
			ls->nlf = ls->end;
	}
	if (ls->ncr == NULL || ls->ncr < ls->p) {
		ls->ncr = memchr(ls->p, '\r', (size_t)(ls->end - ls->p));
		if (ls->ncr == NULL)
			ls->ncr = ls->end;
	}
	le = ls->ncr < ls->nlf ? ls->ncr : ls->nlf;
	*s = ls->p;
	*e = le;
	if (le >= ls->end)
		ls->p = ls->end;
	else if (*le == '\r' && le + 1 < ls->end && le[1] == '\n')
		ls->p = le + 2;
	else
		ls->p = le + 1;
	return true;
}

static bool
type_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    strchr("!#$&^_.+-", c) != NULL;
}

/* Make "type/subtype" valid or fall back (RFC 2045 5.2). */
static void
part_set_type(struct mime_part *p, const char *tok, bool digest)
{
	const char	*slash = strchr(tok, '/');
	size_t		 i;
	bool		 ok = slash != NULL && slash != tok && slash[1] != '\0';

	for (i = 0; ok && tok[i] != '\0'; i++)
		if (tok[i] != '/' && !type_char(tok[i]))
			ok = false;
	if (ok && strchr(slash + 1, '/') != NULL)
		ok = false;
	if (ok) {
		snprintf(p->type, sizeof p->type, "%s", tok);
		return;
	}
	if (strcmp(tok, "text") == 0)
		snprintf(p->type, sizeof p->type, "text/plain");
	else if (tok[0] != '\0' && slash == NULL && strspn(tok,
	    "abcdefghijklmnopqrstuvwxyz0123456789-.") == strlen(tok) &&
	    strcmp(tok, "multipart") != 0)
		snprintf(p->type, sizeof p->type, "application/octet-stream");
	else
		snprintf(p->type, sizeof p->type, digest ? "message/rfc822" :
		    "text/plain");
}

/* Read the fields of the part that starts at start. */
static void
part_headers(struct mime_part *p, const char *start, size_t len, bool digest)
{
	struct mime_hdr_iter	 it;
	struct mime_params	 ct, cd;
	const char		*n, *v, *ctv = NULL, *cdv = NULL;
	size_t			 nl, vl, ctl = 0, cdl = 0, fields = 0;
	const char		*cs, *fmt, *ds;

	mime_hdr_iter_init(&it, start, len);
	p->cte = MIME_CTE_7BIT;
	while (mime_hdr_next(&it, &n, &nl, &v, &vl)) {
		fields++;
		if (nl == 12 && strncasecmp_ascii(n, "content-type", 12) == 0) {
			if (ctv == NULL) {
				ctv = v;
				ctl = vl;
			}
		} else if (nl == 25 && strncasecmp_ascii(n,
		    "content-transfer-encoding", 25) == 0)
			p->cte = mime_cte_parse(v, vl);
		else if (nl == 19 && strncasecmp_ascii(n,
		    "content-disposition", 19) == 0) {
			if (cdv == NULL) {
				cdv = v;
				cdl = vl;
			}
		} else if (nl == 10 && strncasecmp_ascii(n, "content-id", 10) == 0 &&
		    p->cid == NULL)
			p->cid = xmemdup0(v, vl);
	}
	if (fields == 0 && len > 0 && *start != '\n' && *start != '\r') {
		/* No header at all: everything is body (nothing is lost). */
		p->hdr = start;
		p->hdrlen = 0;
		p->body = start;
		p->bodylen = len;
	} else {
		p->hdr = start;
		p->hdrlen = (size_t)(it.p - start);
		p->body = it.p;
		p->bodylen = len - p->hdrlen;
	}
	mime_params_parse(ctv != NULL ? ctv : "", ctl, &ct);
	part_set_type(p, ct.token, digest);
	if ((cs = mime_params_raw(&ct, "charset")) != NULL && *cs != '\0')
		p->charset = xstrdup(cs);
	if ((v = mime_params_raw(&ct, "boundary")) != NULL && *v != '\0')
		p->boundary = xstrdup(v);
	if ((v = mime_params_raw(&ct, "start")) != NULL && *v != '\0')
		p->start = xstrdup(v);
	if ((fmt = mime_params_raw(&ct, "format")) != NULL &&
	    strcasecmp_ascii(fmt, "flowed") == 0)
		p->flowed = true;
	if ((ds = mime_params_raw(&ct, "delsp")) != NULL &&
	    strcasecmp_ascii(ds, "yes") == 0)
		p->delsp = true;
	p->disp = MIME_DISP_NONE;
	mime_params_parse(cdv != NULL ? cdv : "", cdl, &cd);
	if (strcmp(cd.token, "attachment") == 0)
		p->disp = MIME_DISP_ATTACHMENT;
	else if (strcmp(cd.token, "inline") == 0)
		p->disp = MIME_DISP_INLINE;
	p->filename = mime_params_text(&cd, "filename", p->charset);
	if (p->filename == NULL)
		p->filename = mime_params_text(&ct, "name", p->charset);
	if (p->filename != NULL && *p->filename == '\0') {
		free(p->filename);
		p->filename = NULL;
	}
	mime_params_free(&ct);
	mime_params_free(&cd);
}

/* Add a part below parent (-1 for the message); -1 when over the limit. */
static int
part_add(struct mime_msg *m, int parent, const char *start, size_t len,
    bool digest)
{
	struct mime_part	*p, *pp;
	int			 i;

	if (m->n >= m->lim.parts_max) {
		m->omitted++;
		return -1;
	}
	if (m->n == m->cap) {
		m->cap = m->cap == 0 ? 8 : m->cap * 2;
		m->parts = xreallocarray(m->parts, (size_t)m->cap,
		    sizeof *m->parts);
	}
	i = m->n++;
	p = &m->parts[i];
	memset(p, 0, sizeof *p);
	p->parent = parent;
	p->first = p->last = p->next = -1;
	p->depth = parent >= 0 ? m->parts[parent].depth + 1 : 0;
	part_headers(p, start, len, digest);
	if (parent >= 0) {
		pp = &m->parts[parent];
		if (pp->last >= 0)
			m->parts[pp->last].next = i;
		else
			pp->first = i;
		pp->last = i;
	}
	return i;
}

/* Is [s, e) a delimiter line for b? 1: delimiter, 2: close, 0: no. */
static int
part_delim(const char *s, const char *e, const char *b, size_t bl)
{
	int	kind = 1;

	if ((size_t)(e - s) < bl + 2 || s[0] != '-' || s[1] != '-' ||
	    memcmp(s + 2, b, bl) != 0)
		return 0;
	s += 2 + bl;
	if (e - s >= 2 && s[0] == '-' && s[1] == '-') {
		kind = 2;
		s += 2;
	}
	/* Only transport padding may follow. */
	for (; s < e; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return kind;
}

/* Where a part before the delimiter line at ls ends (its CRLF is the delimiter's). */
static const char *
part_end_before(const char *from, const char *ls)
{
	if (ls > from && ls[-1] == '\n')
		ls--;
	if (ls > from && ls[-1] == '\r')
		ls--;
	return ls;
}

/* Split a multipart body into children; false when no delimiter is found. */
static bool
part_split(struct mime_msg *m, int idx)
{
	struct lscan	 ls;
	const char	*s, *e, *cur = NULL, *b, *end;
	size_t		 bl;
	bool		 digest;
	int		 kind;

	b = m->parts[idx].boundary;
	bl = strlen(b);
	digest = strcmp(m->parts[idx].type, "multipart/digest") == 0;
	end = m->parts[idx].body + m->parts[idx].bodylen;
	lscan_init(&ls, m->parts[idx].body, end);
	while (lscan_next(&ls, &s, &e)) {
		if (e - s < 2 || s[0] != '-' || s[1] != '-')
			continue;
		if ((kind = part_delim(s, e, b, bl)) == 0)
			continue;
		if (cur != NULL) {
			const char *pe = part_end_before(cur, s);

			part_add(m, idx, cur, (size_t)(pe - cur), digest);
		} else if (kind == 2) {
			/* A close delimiter before any part: no parts. */
			return false;
		}
		if (kind == 2)
			return true;
		cur = ls.p;
	}
	if (cur == NULL)
		return false;
	/* No close delimiter: the last part runs to the end (mutt does too). */
	part_add(m, idx, cur, (size_t)(end - cur), digest);
	return true;
}

static void
part_expand(struct mime_msg *m, int idx)
{
	struct mime_part	*p = &m->parts[idx];
	struct buf		 dec;
	bool			 ok;

	if (strncmp(p->type, "multipart/", 10) == 0) {
		if (p->boundary == NULL || strlen(p->boundary) > 200)
			return;		/* shown as text */
		if (p->depth >= m->lim.depth_max) {
			p->too_deep = true;
			return;
		}
		ok = part_split(m, idx);
		m->parts[idx].expanded = ok;
		return;
	}
	if (strcmp(p->type, "message/rfc822") == 0 ||
	    strcmp(p->type, "message/global") == 0) {
		if (p->depth >= m->lim.depth_max) {
			p->too_deep = true;
			return;
		}
		if (p->bodylen == 0)
			return;
		if (p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP) {
			/* Not allowed by RFC 2046, written anyway. */
			buf_init(&dec, 0);
			mime_cte_decode(p->cte, p->body, p->bodylen, &dec);
			p->owned = mime_steal(&dec, &p->ownedlen);
			part_add(m, idx, p->owned, p->ownedlen, false);
		} else
			part_add(m, idx, p->body, p->bodylen, false);
		m->parts[idx].expanded = m->parts[idx].first >= 0;
	}
}

struct mime_msg *
mime_msg_parse(const char *raw, size_t len, const struct mime_limits *lim)
{
	struct mime_msg	*m;
	int		 i;

	m = xcalloc(1, sizeof *m);
	m->raw = raw;
	m->len = len;
	m->lim.depth_max = lim != NULL && lim->depth_max > 0 ?
	    lim->depth_max : MIME_DEPTH_MAX;
	m->lim.parts_max = lim != NULL && lim->parts_max > 0 ?
	    lim->parts_max : MIME_PARTS_MAX;
	m->lim.output_max = lim != NULL && lim->output_max > 0 ?
	    lim->output_max : MIME_OUTPUT_MAX;
	part_add(m, -1, raw, len, false);
	for (i = 0; i < m->n; i++)
		part_expand(m, i);
	return m;
}

void
mime_msg_free(struct mime_msg **mp)
{
	struct mime_msg	*m = *mp;
	int		 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->parts[i].charset);
		free(m->parts[i].boundary);
		free(m->parts[i].filename);
		free(m->parts[i].cid);
		free(m->parts[i].start);
		free(m->parts[i].owned);
	}
	free(m->parts);
	free(m);
	*mp = NULL;
}
