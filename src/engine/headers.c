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

/* The text fields, in the order they are packed. */
#define NSTRINGS	7
#define STRINGS(f) { &(f)->from, &(f)->to, &(f)->cc, &(f)->subject, \
	&(f)->message_id, &(f)->in_reply_to, &(f)->references }

void
index_fields_free(struct index_fields *f)
{
	char	**v[NSTRINGS] = STRINGS(f);
	size_t	  i;

	for (i = 0; i < NSTRINGS; i++)
		free(*v[i]);
	index_fields_init(f);
}

size_t
index_fields_size(const struct index_fields *f)
{
	char *const	*v[NSTRINGS] = STRINGS(f);
	size_t		 total = 0, i;

	for (i = 0; i < NSTRINGS; i++)
		if (*v[i] != NULL)
			total += strlen(*v[i]) + 1;
	return total;
}

void
index_fields_copy(struct index_fields *dst, const struct index_fields *src,
    char *room)
{
	char **const	 d[NSTRINGS] = STRINGS(dst);
	char *const	*v[NSTRINGS] = STRINGS(src);
	size_t		 len, i;

	for (i = 0; i < NSTRINGS; i++) {
		if (*v[i] == NULL) {
			*d[i] = NULL;
			continue;
		}
		len = strlen(*v[i]) + 1;
		memcpy(room, *v[i], len);
		*d[i] = room;
		room += len;
	}
	dst->has_date = src->has_date;
	dst->date = src->date;
	dst->date_tz = src->date_tz;
}

/* Addresses as "Name <addr>, ..." for display. */
static char *
format_addresses(const char *v, size_t len)
{
	char	*s;

	if ((s = mime_format_addresses(v, len)) != NULL)
		return s;
	/* Unparseable: show it decoded rather than nothing. */
	return len > 0 ? mime_decode_header(v, len) : NULL;
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

/* The index fields, by header name. */
enum field { F_OTHER, F_FROM, F_TO, F_CC, F_SUBJECT, F_DATE, F_MESSAGE_ID,
    F_IN_REPLY_TO, F_REFERENCES };

static enum field
field_of(const char *name, size_t len)
{
	static const struct {
		const char	*name;
		size_t		 len;
		enum field	 f;
	} fields[] = {
		{ "From", 4, F_FROM }, { "To", 2, F_TO }, { "Cc", 2, F_CC },
		{ "Subject", 7, F_SUBJECT }, { "Date", 4, F_DATE },
		{ "Message-ID", 10, F_MESSAGE_ID },
		{ "In-Reply-To", 11, F_IN_REPLY_TO },
		{ "References", 10, F_REFERENCES },
	};
	size_t	i;
	char	c = (char)(name[0] | 0x20);

	/* Length and first letter rule out nearly every other field. */
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (fields[i].len == len && (fields[i].name[0] | 0x20) == c &&
		    strncasecmp_ascii(name, fields[i].name, len) == 0)
			return fields[i].f;
	return F_OTHER;
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
		slot = NULL;
		switch (nlen > 0 ? field_of(name, nlen) : F_OTHER) {
		case F_FROM:
			if (f->from == NULL)
				f->from = format_addresses(value, vlen);
			break;
		case F_TO:
			if (f->to == NULL)
				f->to = format_addresses(value, vlen);
			break;
		case F_CC:
			if (f->cc == NULL)
				f->cc = format_addresses(value, vlen);
			break;
		case F_SUBJECT:
			if (f->subject == NULL)
				f->subject = mime_decode_header(value, vlen);
			break;
		case F_DATE:
			if (!f->has_date && mime_parse_date(value, vlen,
			    &f->date, &f->date_tz) == 0)
				f->has_date = true;
			break;
		case F_MESSAGE_ID:
			slot = &f->message_id;
			break;
		case F_IN_REPLY_TO:
			slot = &f->in_reply_to;
			break;
		case F_REFERENCES:
			slot = &f->references;
			break;
		case F_OTHER:
			break;
		}
		if (slot != NULL && *slot == NULL)
			*slot = format_ids(value, vlen);
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
