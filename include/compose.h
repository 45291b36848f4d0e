/*
 * Building a message to send (src/compose): RFC 5322 headers with RFC 2047
 * encoded words where the text is not ASCII (split on character
 * boundaries, lines of at most 78 characters), a UTF-8 body in 7bit, 8bit
 * or quoted-printable (format=flowed on request), attachments in base64
 * with RFC 2231 file names and types from the system's mime.types, a
 * Message-ID and a Date. No value may carry a CR or LF into a header;
 * Bcc is written only into the copy that is filed, never into the one
 * sent.
 */
#ifndef PETREL_COMPOSE_H
#define PETREL_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct buf;

struct compose_part {
	const char	*path;		/* the file to attach */
	const char	*name;		/* its name in the message (NULL: path's) */
	const char	*type;		/* NULL: from mime.types, else
					   application/octet-stream */
	/*
	 * Or the bytes themselves (path NULL): a message to forward, with
	 * type "message/rfc822", goes in whole, not base64 (RFC 2046 5.2.1).
	 */
	const char	*data;
	size_t		 len;
};

struct compose_msg {
	const char	*from;		/* address lists, UTF-8 display names */
	const char	*to;
	const char	*cc;
	const char	*bcc;
	const char	*subject;	/* UTF-8 */
	const char	*in_reply_to;	/* "<id>" or NULL */
	const char	*references;	/* "<id> <id>" or NULL */
	const char	*body;		/* UTF-8 text */
	bool		 flowed;	/* format=flowed (RFC 3676) */
	bool		 eightbit;	/* the server takes 8BITMIME */
	const struct compose_part *parts;
	size_t		 nparts;
	const char	*message_id;	/* NULL: made here from from's domain */
	int64_t		 date;		/* UTC seconds (0: now) */
	int		 tzoff_min;
};

/* Which copy: the one sent has no Bcc, the one filed keeps it. */
enum compose_copy { COMPOSE_SEND, COMPOSE_FILE };

/*
 * The whole message into out, CRLF line ends. -1 with err set for a
 * header value with a line break, an unreadable attachment, or a From
 * without an address.
 */
int	compose_build(const struct compose_msg *, enum compose_copy,
	    struct buf *out, struct error *err);

/*
 * "Name: value" folded at 78 with RFC 2047 words for what is not ASCII
 * (unstructured text); for address fields only display names are encoded.
 * -1 for a value with CR or LF.
 */
int	compose_header(struct buf *, const char *name, const char *value,
	    bool addresses, struct error *err);

/* "<random@domain>": a new Message-ID. Caller frees. */
char	*compose_message_id(const char *domain);

/* The type of a file name from mime.types (path NULL: /etc/mime.types). */
char	*compose_mime_type(const char *mime_types, const char *filename);

/* ---- Drafts (draft.c) ------------------------------------------------ */

enum compose_kind {
	COMPOSE_NEW,		/* m */
	COMPOSE_REPLY,		/* r: to Reply-To or From */
	COMPOSE_GROUP,		/* g: and To and Cc, less the user's own */
	COMPOSE_LIST,		/* L: to the List-Post address */
	COMPOSE_FORWARD,	/* f: the message inline */
	COMPOSE_FORWARD_ATTACH,	/* f with mime_forward: the message goes as
				   an attachment (the caller's part) */
	COMPOSE_RESUME,		/* R: a postponed draft, or any message
				   edited as new: its fields and text */
};

/* What the user edits; UTF-8 strings, "" when empty. */
struct compose_draft {
	char	*from, *to, *cc, *bcc, *subject;
	char	*in_reply_to, *references;	/* NULL for a new message */
	char	*body;
};

/*
 * A draft of kind: from the user's From; for an answer or forward, orig
 * is the raw message (its body quoted under an attribution line from the
 * MIME renderer, "Re:"/"Fwd:" not stacked, In-Reply-To and References
 * set); own says whether an address is the user's (a group reply leaves
 * them out); signature (may be NULL) goes after a "-- " line. A resumed
 * message keeps its own fields, references and text (no signature added).
 */
int	compose_draft_init(struct compose_draft *, enum compose_kind,
	    const char *from, const char *orig, size_t len,
	    bool (*own)(void *, const char *), void *arg,
	    const char *signature, struct error *err);
/* The file for the editor: header lines, an empty line, the body. */
char	*compose_draft_text(const struct compose_draft *);
/* Read the edited file back into d: -1 for a header line that is not one. */
int	compose_draft_parse(struct compose_draft *, const char *text,
	    size_t len, struct error *err);
void	compose_draft_free(struct compose_draft *);

#endif
