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
 * RFC 5322 date (obsolete forms tolerated) to UTC seconds and the zone offset
 * in minutes. Returns 0, or -1 when no date can be read.
 */
int	mime_parse_date(const char *value, size_t len, int64_t *t, int *tzoff_min);

/* ---- Terminal safety -------------------------------------------------- */

/*
 * Copy UTF-8 text so it is safe to write to a terminal: C0 controls other
 * than TAB and LF (and CR when keep_cr), DEL, C1 controls, and bidi
 * override/isolate characters are replaced by visible forms (^[ for ESC,
 * U+FFFD, ...); invalid UTF-8 becomes U+FFFD. Caller frees.
 */
char	*mime_sanitize_terminal(const char *s, size_t len, size_t *outlen);

#endif
