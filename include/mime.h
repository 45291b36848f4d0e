/*
 * MIME engine: header decoding (RFC 5322, 2047, 2231, 6532), address and
 * date parsing, and the one message renderer used by `petrel render`,
 * `petrel show` and the pager. Everything here works on bytes in memory and
 * is bounded: nesting depth, part count and line lengths all have limits, and
 * any input gives a result (possibly with U+FFFD) rather than a crash.
 *
 * All returned text is UTF-8. Text meant for the terminal must still go
 * through mime_sanitize_terminal() (the renderer does it for its body).
 */
#ifndef PETREL_MIME_H
#define PETREL_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---- Header fields ---------------------------------------------------- */

/*
 * Walk the fields of a header block (up to the first empty line or the end).
 * Yields each field's name and raw value (still folded, without the final
 * line break). Returns 1 for a field, 0 at the end.
 */
struct mime_hdr_iter {
	const char	*p;
	const char	*end;
};
void	mime_hdr_iter_init(struct mime_hdr_iter *, const char *block, size_t len);
int	mime_hdr_next(struct mime_hdr_iter *, const char **name, size_t *namelen,
	    const char **value, size_t *valuelen);

/*
 * Decode an unstructured field value for display: unfold, decode RFC 2047
 * encoded words (adjacent words joined, whitespace between them dropped),
 * take raw 8-bit as UTF-8 when valid else as the fallback charset. The result
 * is valid UTF-8 and is still NOT terminal-safe. Caller frees.
 */
char	*mime_decode_header(const char *value, size_t len);

struct mime_addr {
	char	*name;		/* decoded display name, or NULL */
	char	*addr;		/* local@domain, or NULL for a group's name entry */
};
/* Parse an address list (groups flattened); returns the count (0 if none). */
size_t	mime_parse_addresses(const char *value, size_t len, struct mime_addr **out);
void	mime_addrs_free(struct mime_addr *, size_t n);
/* "Name <addr>", or "addr" when there is no name. Caller frees. */
char	*mime_addr_format(const struct mime_addr *);
/*
 * An address list for display: mime_addr_format() of each address, joined
 * with ", " (the same text as parsing and formatting one by one, faster for
 * the plain ASCII lists most mail carries). NULL when there is no address.
 */
char	*mime_format_addresses(const char *value, size_t len);

/*
 * RFC 5322 date (obsolete forms tolerated) to UTC seconds and the zone offset
 * in minutes. Returns 0, or -1 when no date can be read.
 */
int	mime_parse_date(const char *value, size_t len, int64_t *t, int *tzoff_min);

/* ---- Terminal safety -------------------------------------------------- */

/*
 * Copy UTF-8 text so it is safe to write to a terminal: C0 controls other
 * than TAB and LF (CR too) become caret notation ("^[" for ESC, "^M", "^@"),
 * DEL becomes "^?", C1 controls and the bidi embedding, override and
 * isolate characters become "<U+XXXX>", invalid UTF-8 becomes U+FFFD.
 * Caller frees; *outlen (if not NULL) gets the length.
 */
char	*mime_sanitize_terminal(const char *s, size_t len, size_t *outlen);

/* ---- Rendering -------------------------------------------------------- */

/*
 * Limits of one parse. Deeper nesting is shown as an attachment, parts
 * beyond parts_max are counted and named in a note, output stops (with a
 * note) at output_max.
 */
struct mime_limits {
	int	depth_max;		/* multipart and message/rfc822 nesting: 32 */
	int	parts_max;		/* parts in one message: 1000 */
	size_t	output_max;		/* rendered text: 64 MB */
};

struct mime_render_opts {
	int		 width;		/* columns for reflowed text; 0 means 78 */
	bool		 headers_all;	/* every header field, else the usual ones */
	/*
	 * The usual ones, in order, blank or comma separated; NULL means
	 * "Date From To Cc Subject".
	 */
	const char	*headers;
	/*
	 * multipart/alternative: types in order of preference, blank
	 * separated; NULL means "text/plain text/html". An alternative that is
	 * blank (only white space) is passed over.
	 */
	const char	*alternative;
	/*
	 * Mailcap files (colon separated) searched for text/html: NULL means
	 * $PETREL_MAILCAP, else $MAILCAPS, else ~/.mailcap:/etc/mailcap;
	 * "" means none (the built-in converter only).
	 */
	const char	*mailcap;
	int		 mailcap_timeout_ms;	/* 0 means 10000 */
	size_t		 mailcap_output_max;	/* 0 means 16 MB */
	/*
	 * When set and it turns true, a running mailcap command is killed
	 * (within 50 ms) and the built-in converter is used: a render in a
	 * thread whose result is no longer wanted ends soon.
	 */
	const _Atomic bool *cancel;
	struct mime_limits limits;		/* 0 fields mean the defaults */
};

struct mime_attachment {
	int	 number;	/* 1-based, as in "--save N" */
	char	*filename;	/* decoded, terminal-safe; "" when it has none */
	char	*type;		/* "application/pdf" */
	size_t	 size;		/* decoded size in bytes */
	int	 part;		/* private: index of the part */
};

struct mime_msg;

/*
 * A rendered message. All strings are UTF-8 and terminal-safe (already
 * passed through mime_sanitize_terminal).
 */
struct mime_view {
	char			*subject;	/* "" when none */
	char			*from;		/* "Name <addr>" of the first From, "" */
	char			**to;		/* "Name <addr>" each (group names left out) */
	size_t			 nto;
	char			**cc;
	size_t			 ncc;
	bool			 has_date;
	int64_t			 date;		/* UTC seconds */
	int			 tzoff_min;
	char			*headers;	/* the header lines shown, each ending in \n */
	char			*body;		/* the rendered body */
	size_t			 bodylen;
	struct mime_attachment	*att;		/* in the order they are shown */
	size_t			 natt;
	int			 html_parts;	/* text/html parts shown */
	int			 html_converted; /* of them, by a mailcap command */
	char			*convert_error;	/* the first mailcap failure, or NULL */
	struct mime_msg		*msg;		/* private: the parse, for saving */
};

/*
 * Parse and render raw (which must stay valid while the view is used, for
 * mime_view_save). Any input gives a view; -1 only for an empty message.
 */
int	mime_render(const char *raw, size_t len, const struct mime_render_opts *,
	    struct mime_view **viewp, struct error *err);
void	mime_view_free(struct mime_view **viewp);
/* Does a render with these options look in any mailcap file at all? */
bool	mime_mailcap_enabled(const struct mime_render_opts *);

/*
 * Save attachment n (1-based) under dir, with a sanitised file name (no
 * '/', "..", control characters or leading dots) and never over an existing
 * file: a taken name gets "-1", "-2"... before its extension. Returns 0 and
 * the path written (caller frees), or -1 with err set.
 */
int	mime_view_save(const struct mime_view *, int n, const char *dir,
	    char **pathp, struct error *err);
/* The file name mime_view_save would start from for a decoded name. */
char	*mime_safe_filename(const char *name, int n);

#endif
