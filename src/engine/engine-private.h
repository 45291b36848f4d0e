/* Internals of the engine, shared by its files only. */
#ifndef PETREL_ENGINE_PRIVATE_H
#define PETREL_ENGINE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

struct cache_msg;

/* The index fields of one message, decoded from its header block. */
struct index_fields {
	char	*from;
	char	*to;
	char	*cc;
	char	*subject;
	char	*message_id;
	char	*in_reply_to;
	char	*references;
	bool	 has_date;
	int64_t	 date;
	int	 date_tz;
};

void	index_fields_init(struct index_fields *);
void	index_fields_free(struct index_fields *);
/* Parse a header block (replacing what f held). */
void	index_fields_parse(struct index_fields *, const char *hdr, size_t len);
/* Point m's text fields at f's; the date falls back to m->internaldate. */
void	index_fields_to_msg(const struct index_fields *, struct cache_msg *m);

/* Header fields the index needs, as fetched from IMAP. */
#define INDEX_HEADER_FIELDS \
	"FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO REFERENCES"

#endif
