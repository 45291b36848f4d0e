/* FETCH: decoding responses, flags, dates; UID FETCH and UID SEARCH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msgflags.h"
#include "imap-private.h"
#include "log.h"
#include "xmalloc.h"

static const struct {
	const char	*name;
	size_t		 len;
	uint32_t	 bit;
} system_flags[] = {
	{ "\\Seen", 5, MSG_SEEN },
	{ "\\Answered", 9, MSG_ANSWERED },
	{ "\\Flagged", 8, MSG_FLAGGED },
	{ "\\Deleted", 8, MSG_DELETED },
	{ "\\Draft", 6, MSG_DRAFT },
	{ "$Forwarded", 10, MSG_FORWARDED },
};

/* An atom equal to a literal, ignoring case: the length is checked first. */
#define KEY_IS(a, lit) ((a)->len == sizeof(lit) - 1 && \
	strncasecmp_ascii((a)->str, (lit), sizeof(lit) - 1) == 0)

uint32_t
imap_parse_flags(const struct imap_arg *list, struct buf *keywords)
{
	uint32_t	flags = 0;
	size_t		i, j;

	if (list->type != IMAP_ARG_LIST)
		return 0;
	for (i = 0; i < list->count; i++) {
		const struct imap_arg *a = &list->list[i];

		if (a->type != IMAP_ARG_ATOM)
			continue;
		for (j = 0; j < sizeof system_flags / sizeof system_flags[0]; j++)
			if (a->len == system_flags[j].len &&
			    strncasecmp_ascii(a->str, system_flags[j].name,
			    a->len) == 0)
				break;
		if (j < sizeof system_flags / sizeof system_flags[0]) {
			flags |= system_flags[j].bit;
			continue;
		}
		/* \Recent is per session and not worth keeping. */
		if (strcasecmp_ascii(a->str, "\\Recent") == 0)
			continue;
		if (keywords != NULL) {
			if (keywords->len > 0)
				buf_addc(keywords, ' ');
			buf_add(keywords, a->str, a->len);
		}
	}
	return flags;
}

/* Read exactly n digits at *p into *v; -1 if they are not there. */
static int
digits(const char **p, int n, int *v)
{
	int	i;

	*v = 0;
	for (i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

int
imap_parse_internaldate(const char *s, int64_t *t)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	const char	*p = s;
	char		 mon[3], sign;
	int		 day, year, hh, mm, ss, zh, zm, i;

	/* "17-Jul-1996 02:44:25 -0700"; the day may be " 7" or "7". */
	if (*p == ' ')
		p++;
	if (digits(&p, 1, &day) == -1)
		return -1;
	if (*p >= '0' && *p <= '9')
		day = day * 10 + (*p++ - '0');
	if (*p++ != '-')
		return -1;
	for (i = 0; i < 3; i++) {
		if (*p == '\0')
			return -1;
		mon[i] = (char)(*p++ | 0x20);
	}
	for (i = 0; i < 12; i++)
		if (memcmp(months + i * 3, mon, 3) == 0)
			break;
	if (i == 12 || *p++ != '-' || digits(&p, 4, &year) == -1 ||
	    *p++ != ' ' || digits(&p, 2, &hh) == -1 || *p++ != ':' ||
	    digits(&p, 2, &mm) == -1 || *p++ != ':' ||
	    digits(&p, 2, &ss) == -1 || *p++ != ' ')
		return -1;
	sign = *p++;
	if ((sign != '+' && sign != '-') || digits(&p, 2, &zh) == -1 ||
	    digits(&p, 2, &zm) == -1 || *p != '\0')
		return -1;
	if (day < 1 || day > 31 || year < 1900 || hh > 23 || mm > 59 ||
	    ss > 60 || zm > 59)
		return -1;
	*t = days_from_civil(year, i + 1, day) * 86400 + hh * 3600 + mm * 60 +
	    ss - (sign == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	return 0;
}

int
imap_format_internaldate(char out[IMAP_DATE_LEN], int64_t t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	/*
	 * date-year is 4DIGIT, and our parser takes 1900 on: nothing else
	 * can be said (or read back). Month names by hand, not strftime's
	 * %b, which follows the locale.
	 */
	if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
	    tm.tm_year < 0 || tm.tm_year > 9999 - 1900)
		return -1;
	/* Unsigned and bounded, so the compiler sees the fields fit. */
	snprintf(out, IMAP_DATE_LEN, "%02u-%.3s-%04u %02u:%02u:%02u +0000",
	    (unsigned)tm.tm_mday % 100u, months + tm.tm_mon % 12 * 3,
	    (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)tm.tm_hour % 100u,
	    (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u);
	return 0;
}

void
imap_arg_write(struct buf *b, const struct imap_arg *a)
{
	size_t	i;

	switch (a->type) {
	case IMAP_ARG_NIL:
	case IMAP_ARG_SKIPPED:	/* what was there was not kept */
		buf_adds(b, "NIL");
		break;
	case IMAP_ARG_ATOM:
		buf_add(b, a->str, a->len);
		break;
	case IMAP_ARG_STRING:
	case IMAP_ARG_LITERAL:
		if (a->str == NULL) {
			buf_adds(b, "NIL");
			break;
		}
		if (memchr(a->str, '\r', a->len) != NULL ||
		    memchr(a->str, '\n', a->len) != NULL ||
		    memchr(a->str, '\0', a->len) != NULL) {
			buf_printf(b, "{%zu}\r\n", a->len);
			buf_add(b, a->str, a->len);
			break;
		}
		buf_addc(b, '"');
		for (i = 0; i < a->len; i++) {
			if (a->str[i] == '"' || a->str[i] == '\\')
				buf_addc(b, '\\');
			buf_addc(b, a->str[i]);
		}
		buf_addc(b, '"');
		break;
	case IMAP_ARG_LIST:
		buf_addc(b, '(');
		for (i = 0; i < a->count; i++) {
			if (i > 0)
				buf_addc(b, ' ');
			imap_arg_write(b, &a->list[i]);
		}
		buf_addc(b, ')');
		break;
	}
}

/*
 * Say which FETCH items the parser skipped (over a limit): the message is
 * stored without them. The item name comes from the server: only printable
 * ASCII of it is shown.
 */
static void
warn_skipped(const struct imap_arg *list, const struct imap_msg *m)
{
	const struct imap_arg	*k, *v;
	char			 name[64];
	size_t			 i, j;

	for (i = 0; i + 1 < list->count; i += 2) {
		k = &list->list[i];
		v = &list->list[i + 1];
		if (v->type != IMAP_ARG_SKIPPED)
			continue;
		for (j = 0; j < k->len && j < sizeof name - 1; j++)
			name[j] = k->str[j] >= 0x20 && k->str[j] < 0x7f ?
			    k->str[j] : '?';
		name[j] = '\0';
		log_warnx("imap: message UID %u (number %u): FETCH item %s%s "
		    "skipped (%s); the message is kept without it", m->uid,
		    m->seq, name, j < k->len ? "..." : "", v->str);
	}
}

/* A malformed FETCH: free the keyword buffer, say what was wrong. */
static int
decode_fail(struct buf *kw, struct error *err, const char *what)
{
	buf_free(kw);
	return error_set(err, ERR_PROTO, "%s", what);
}

int
imap_fetch_decode(const struct imap_resp *r, struct imap_msg *m,
    struct buf *scratch, struct error *err)
{
	const struct imap_arg	*list, *k, *v;
	struct buf		 kw = BUF_INIT(0);
	size_t			 i, kwoff = 0, bsoff = 0, nskipped = 0;
	bool			 has_kw = false, has_bs = false;
	uint64_t		 n;

	memset(m, 0, sizeof *m);
	m->seq = r->number;
	m->size = -1;
	buf_reset(scratch);
	if (r->nargs < 1 || r->args[0].type != IMAP_ARG_LIST)
		return decode_fail(&kw, err, "FETCH response without a list");
	list = &r->args[0];
	if (list->count % 2 != 0)
		return decode_fail(&kw, err, "FETCH list with an odd number "
		    "of items");
	for (i = 0; i + 1 < list->count; i += 2) {
		k = &list->list[i];
		v = &list->list[i + 1];
		if (k->type != IMAP_ARG_ATOM)
			return decode_fail(&kw, err, "FETCH item name is not "
			    "an atom");
		/* Over a parser limit: the message goes on without it. */
		if (v->type == IMAP_ARG_SKIPPED) {
			nskipped++;
			continue;
		}
		if (KEY_IS(k, "UID")) {
			if (imap_arg_number(v, UINT32_MAX, &n) == -1 || n == 0)
				return decode_fail(&kw, err, "bad UID in FETCH");
			m->uid = (uint32_t)n;
		} else if (KEY_IS(k, "FLAGS")) {
			if (v->type != IMAP_ARG_LIST)
				return decode_fail(&kw, err, "FLAGS is not "
				    "a list");
			buf_reset(&kw);
			m->flags = imap_parse_flags(v, &kw);
			m->has_flags = true;
			if (kw.len > 0) {
				kwoff = scratch->len;
				buf_add(scratch, kw.data, kw.len + 1);
				has_kw = true;
			}
		} else if (KEY_IS(k, "MODSEQ")) {
			if (v->type != IMAP_ARG_LIST || v->count != 1 ||
			    imap_arg_number(&v->list[0], UINT64_MAX >> 1, &n) == -1)
				return decode_fail(&kw, err, "bad MODSEQ");
			m->modseq = n;
		} else if (KEY_IS(k, "INTERNALDATE")) {
			if (imap_arg_cstr(v) == NULL ||
			    imap_parse_internaldate(imap_arg_cstr(v),
			    &m->internaldate) == -1)
				log_debug("imap: bad INTERNALDATE ignored");
			else
				m->has_internaldate = true;
		} else if (KEY_IS(k, "RFC822.SIZE")) {
			if (imap_arg_number(v, INT64_MAX, &n) == -1)
				return decode_fail(&kw, err, "bad RFC822.SIZE");
			m->size = (int64_t)n;
		} else if (has_prefix_ci(k->str, "BODY[HEADER") ||
		    has_prefix_ci(k->str, "RFC822.HEADER")) {
			if (v->type == IMAP_ARG_NIL)
				continue;
			if (!imap_arg_is_string(v))
				return decode_fail(&kw, err, "bad header "
				    "section in FETCH");
			m->header = v->str;
			m->header_len = v->len;
		} else if (KEY_IS(k, "BODY[]") ||
		    KEY_IS(k, "BODY[]<0>") ||
		    KEY_IS(k, "RFC822") ||
		    KEY_IS(k, "BINARY[]")) {
			if (v->type == IMAP_ARG_NIL)
				continue;
			/* A partial fetch from the start (RFC 3501 6.4.5). */
			m->body_head = KEY_IS(k, "BODY[]<0>");
			if (v->type == IMAP_ARG_LITERAL && v->streamed)
				m->body_streamed = true;
			else if (imap_arg_is_string(v)) {
				m->body = v->str;
				m->body_len = v->len;
			} else
				return decode_fail(&kw, err, "bad BODY[] in "
				    "FETCH");
		} else if (KEY_IS(k, "BODYSTRUCTURE")) {
			bsoff = scratch->len;
			imap_arg_write(scratch, v);
			buf_addc(scratch, '\0');
			has_bs = true;
		}
		/* Anything else (X-GM-*, ENVELOPE...) is not ours to judge. */
	}
	buf_free(&kw);
	if (nskipped > 0)
		warn_skipped(list, m);
	/* The scratch buffer no longer moves: hand out pointers into it. */
	if (has_kw)
		m->keywords = scratch->data + kwoff;
	if (has_bs)
		m->bodystructure = scratch->data + bsoff;
	return 0;
}

struct fetch_ctx {
	struct imap_client	*c;
	imap_msg_cb		 cb;
	void			*arg;
	struct buf		 scratch;
	struct error		*err;
};

static int
fetch_untagged(void *arg, const struct imap_resp *r)
{
	struct fetch_ctx	*ctx = arg;
	struct imap_msg		 m;

	if (r->name == NULL || !r->has_number ||
	    strcasecmp_ascii(r->name, "FETCH") != 0)
		return 0;
	if (imap_fetch_decode(r, &m, &ctx->scratch, ctx->err) == -1) {
		error_prefix(ctx->err, "%s", ctx->c->host);
		return -1;
	}
	if (ctx->cb == NULL)
		return 0;
	return ctx->cb(ctx->arg, &m) != 0 ? -1 : 0;
}

int
imap_uid_fetch(struct imap_client *c, const char *uidset, const char *items,
    const char *modifiers, imap_msg_cb cb, void *arg, struct error *err)
{
	struct fetch_ctx	ctx;
	int			rv;

	memset(&ctx, 0, sizeof ctx);
	ctx.c = c;
	ctx.cb = cb;
	ctx.arg = arg;
	ctx.err = err;
	buf_init(&ctx.scratch, 0);
	if (err != NULL)
		error_clear(err);
	/* A FETCH streams: wake per 64 KB, not per TLS record. */
	if (c->conn != NULL)
		conn_set_bulk(c->conn, true);
	if (modifiers != NULL && *modifiers != '\0')
		rv = imap_command(c, fetch_untagged, &ctx, err,
		    "UID FETCH %s (%s) (%s)", uidset, items, modifiers);
	else
		rv = imap_command(c, fetch_untagged, &ctx, err,
		    "UID FETCH %s (%s)", uidset, items);
	if (c->conn != NULL)
		conn_set_bulk(c->conn, false);
	buf_free(&ctx.scratch);
	return rv;
}

int
imap_uidset_each(const char *s, size_t len, imap_uid_cb cb, void *arg)
{
	size_t		i = 0, j;
	uint64_t	a, b;

	while (i < len) {
		for (j = i; j < len && s[j] != ',' && s[j] != ':'; j++)
			;
		if (parse_u64(s + i, j - i, UINT32_MAX, &a) == -1)
			return -1;
		b = a;
		if (j < len && s[j] == ':') {
			i = j + 1;
			for (j = i; j < len && s[j] != ','; j++)
				;
			if (parse_u64(s + i, j - i, UINT32_MAX, &b) == -1)
				return -1;
			if (b < a) {
				uint64_t t = a;

				a = b;
				b = t;
			}
		}
		if (a == 0)
			return -1;
		if (cb(arg, (uint32_t)a, (uint32_t)b) != 0)
			return -2;
		i = j + 1;
	}
	return 0;
}

struct search_ctx {
	imap_uid_cb	 cb;
	void		*arg;
	struct error	*err;
};

static int
search_untagged(void *arg, const struct imap_resp *r)
{
	struct search_ctx	*ctx = arg;
	uint64_t		 n;
	size_t			 i;

	if (r->name == NULL || r->has_number)
		return 0;
	if (strcasecmp_ascii(r->name, "SEARCH") == 0) {
		for (i = 0; i < r->nargs; i++) {
			/* "(MODSEQ n)" may end the list with CONDSTORE. */
			if (r->args[i].type == IMAP_ARG_LIST)
				continue;
			if (imap_arg_number(&r->args[i], UINT32_MAX, &n) == -1 ||
			    n == 0)
				return error_set(ctx->err, ERR_PROTO,
				    "bad number in SEARCH response");
			if (ctx->cb(ctx->arg, (uint32_t)n, (uint32_t)n) != 0)
				return -1;
		}
		return 0;
	}
	if (strcasecmp_ascii(r->name, "ESEARCH") == 0) {
		/* (TAG "A5") UID ALL 1:3,5 */
		for (i = 0; i < r->nargs; i++) {
			if (!imap_arg_eq(&r->args[i], "ALL") || i + 1 >= r->nargs)
				continue;
			if (r->args[i + 1].type != IMAP_ARG_ATOM)
				return error_set(ctx->err, ERR_PROTO,
				    "bad set in ESEARCH response");
			switch (imap_uidset_each(r->args[i + 1].str,
			    r->args[i + 1].len, ctx->cb, ctx->arg)) {
			case -1:
				return error_set(ctx->err, ERR_PROTO,
				    "bad set in ESEARCH response");
			case -2:
				return -1;	/* cb set the error */
			}
			i++;
		}
	}
	return 0;
}

int
imap_uid_search(struct imap_client *c, const char *criteria, imap_uid_cb cb,
    void *arg, struct error *err)
{
	struct search_ctx	ctx = { cb, arg, err };

	if (err != NULL)
		error_clear(err);
	if (imap_has_cap(c, "ESEARCH"))
		return imap_command(c, search_untagged, &ctx, err,
		    "UID SEARCH RETURN (ALL) %s", criteria);
	return imap_command(c, search_untagged, &ctx, err, "UID SEARCH %s",
	    criteria);
}
