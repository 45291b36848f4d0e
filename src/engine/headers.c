/*
 * Turning a message's header block into the cache's index fields: decoded
 * From/To/Cc/Subject, the Date, and the threading ids. Shared by the IMAP
 * and POP3 syncs.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "engine-private.h"
#include "mime.h"
#include "xmalloc.h"

void
index_fields_init(struct index_fields *f)
{
	memset(f, 0, sizeof *f);
}

void
index_fields_free(struct index_fields *f)
{
	free(f->from);
	free(f->to);
	free(f->cc);
	free(f->subject);
	free(f->message_id);
	free(f->in_reply_to);
	free(f->references);
	index_fields_init(f);
}

/* Addresses as "Name <addr>, ..." for display. */
static char *
format_addresses(const char *v, size_t len)
{
	struct mime_addr	*addrs = NULL;
	struct buf		 b = BUF_INIT(64 * 1024);
	size_t			 n, i;
	char			*s;

	n = mime_parse_addresses(v, len, &addrs);
	for (i = 0; i < n; i++) {
		if (addrs[i].addr == NULL && addrs[i].name == NULL)
			continue;
		if ((s = mime_addr_format(&addrs[i])) == NULL)
			continue;
		if (b.len > 0)
			buf_adds(&b, ", ");
		buf_adds(&b, s);
		free(s);
	}
	mime_addrs_free(addrs, n);
	if (b.len == 0) {
		buf_free(&b);
		/* Unparseable: show it decoded rather than nothing. */
		return len > 0 ? mime_decode_header(v, len) : NULL;
	}
	return buf_steal(&b, NULL);
}

/* Longest id field kept (References of a long thread stay far below). */
#define ID_FIELD_MAX	(64 * 1024)

/* An id field (Message-ID, References): unfolded, trimmed, ASCII only. */
static char *
format_ids(const char *v, size_t len)
{
	char	*s, *o;
	size_t	 i;
	bool	 space = false;

	if (len > ID_FIELD_MAX)
		len = ID_FIELD_MAX;
	o = s = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			space = o != s;
			continue;
		}
		if (c < 0x21 || c > 0x7e)
			continue;
		if (space)
			*o++ = ' ';
		space = false;
		*o++ = (char)c;
	}
	if (o == s) {
		free(s);
		return NULL;
	}
	*o = '\0';
	return s;
}

static bool
name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp_ascii(name, want, len) == 0;
}

void
index_fields_parse(struct index_fields *f, const char *hdr, size_t len)
{
	struct mime_hdr_iter	 it;
	const char		*name, *value;
	size_t			 nlen, vlen;
	char			**slot;

	index_fields_free(f);
	if (hdr == NULL)
		return;
	mime_hdr_iter_init(&it, hdr, len);
	while (mime_hdr_next(&it, &name, &nlen, &value, &vlen) == 1) {
		/* The first of a repeated field counts, as in most clients. */
		if (name_is(name, nlen, "From")) {
			if (f->from == NULL)
				f->from = format_addresses(value, vlen);
		} else if (name_is(name, nlen, "To")) {
			if (f->to == NULL)
				f->to = format_addresses(value, vlen);
		} else if (name_is(name, nlen, "Cc")) {
			if (f->cc == NULL)
				f->cc = format_addresses(value, vlen);
		} else if (name_is(name, nlen, "Subject")) {
			if (f->subject == NULL)
				f->subject = mime_decode_header(value, vlen);
		} else if (name_is(name, nlen, "Date")) {
			if (!f->has_date && mime_parse_date(value, vlen,
			    &f->date, &f->date_tz) == 0)
				f->has_date = true;
		} else {
			slot = name_is(name, nlen, "Message-ID") ? &f->message_id :
			    name_is(name, nlen, "In-Reply-To") ? &f->in_reply_to :
			    name_is(name, nlen, "References") ? &f->references :
			    NULL;
			if (slot != NULL && *slot == NULL)
				*slot = format_ids(value, vlen);
		}
	}
}

void
index_fields_to_msg(const struct index_fields *f, struct cache_msg *m)
{
	m->from = f->from;
	m->to = f->to;
	m->cc = f->cc;
	m->subject = f->subject;
	m->message_id = f->message_id;
	m->in_reply_to = f->in_reply_to;
	m->references = f->references;
	if (f->has_date) {
		m->date = f->date;
		m->date_tz = f->date_tz;
	} else {
		m->date = m->internaldate;
		m->date_tz = 0;
	}
}
