/* Internals of the MIME engine, shared by the files of src/mime. */
#ifndef PETREL_MIME_PRIVATE_H
#define PETREL_MIME_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime.h"

#include "buf.h"

/*
 * buf_steal() that always gives a NUL-terminated string, also for a buffer
 * that never held anything.
 */
static inline char *
mime_steal(struct buf *b, size_t *lenp)
{
	buf_add(b, "", 0);
	return buf_steal(b, lenp);
}

/* ---- header.c: field values ------------------------------------------ */

/*
 * Decode an unstructured value into out (see mime_decode_header). Raw 8-bit
 * text that is not UTF-8 is read in the hint charset when one is given (the
 * charset of the message body), else in the fallback charset.
 */
int	mime_words_decode(const char *v, size_t len, const char *hint,
	    size_t hintlen, struct buf *out);
char	*mime_decode_header_hint(const char *v, size_t len, const char *hint);

/* Length of the RFC 2047 encoded word at p, or 0 when there is none. */
size_t	mime_ew_len(const char *p, const char *end);

/* A field of a header block, found by name (first match); 0 or -1. */
int	mime_hdr_find(const char *block, size_t len, const char *name,
	    const char **value, size_t *valuelen);

/* ---- param.c: Content-Type and Content-Disposition ------------------- */

#define MIME_PARAMS_MAX		64	/* parameters (and 2231 segments) kept */
#define MIME_TOKEN_MAX		64	/* type, subtype, disposition */

struct mime_param {
	char	*name;		/* lower case, without "*N*" */
	int	 section;	/* RFC 2231 section, -1 when not split */
	bool	 extended;	/* charset'lang'%xx form */
	char	*value;		/* unquoted bytes */
	size_t	 valuelen;
};

struct mime_params {
	char			 token[MIME_TOKEN_MAX];	/* "text/plain", "attachment" */
	struct mime_param	 p[MIME_PARAMS_MAX];
	int			 n;
};

/* Parse "token; a=b; c*0*=..." (token lower-cased; may be empty). */
void	mime_params_parse(const char *v, size_t len, struct mime_params *);
void	mime_params_free(struct mime_params *);
/* A plain parameter's raw value (charset, boundary, format), or NULL. */
const char *mime_params_raw(const struct mime_params *, const char *name);
/*
 * A text parameter (filename, name) decoded to UTF-8: RFC 2231 sections
 * joined and converted from their charset, else RFC 2047 words decoded,
 * else raw 8-bit read as UTF-8 or in hint. NULL when absent. Caller frees.
 */
char	*mime_params_text(const struct mime_params *, const char *name,
	    const char *hint);

/* ---- decode.c: transfer encodings ------------------------------------ */

enum mime_cte {
	MIME_CTE_7BIT,		/* also 8bit and anything unknown */
	MIME_CTE_BINARY,	/* bytes as they are, line breaks too */
	MIME_CTE_QP,
	MIME_CTE_BASE64,
};

enum mime_cte	mime_cte_parse(const char *v, size_t len);
/*
 * Decode into out; never fails on bad input (see the rules in decode.c).
 * The line breaks of 7bit, 8bit and quoted-printable text become LF, so a
 * part decodes (and saves) the same from a CRLF or an LF message.
 */
int		mime_cte_decode(enum mime_cte, const char *in, size_t len,
		    struct buf *out);
/* The decoded size, without decoding. */
size_t		mime_cte_size(enum mime_cte, const char *in, size_t len);

/* ---- part.c: the part tree ------------------------------------------ */

#define MIME_DEPTH_MAX		32
#define MIME_PARTS_MAX		1000
#define MIME_OUTPUT_MAX		(64 * 1024 * 1024)

enum mime_disp {
	MIME_DISP_NONE,
	MIME_DISP_INLINE,
	MIME_DISP_ATTACHMENT,
};

struct mime_part {
	int		 parent, first, last, next;	/* indexes, -1 for none */
	int		 depth;
	const char	*hdr;		/* the header block */
	size_t		 hdrlen;
	const char	*body;		/* the body, still transfer-encoded */
	size_t		 bodylen;
	char		 type[MIME_TOKEN_MAX];	/* "text/plain", valid, lower case */
	char		*charset;	/* the label as written, or NULL */
	char		*boundary;
	char		*start;		/* multipart/related root */
	char		*cid;		/* Content-ID as written */
	char		*filename;	/* decoded UTF-8 (not yet terminal-safe) */
	enum mime_cte	 cte;
	enum mime_disp	 disp;
	bool		 flowed, delsp;
	bool		 expanded;	/* children were found */
	bool		 too_deep;	/* not expanded: depth_max */
	char		*owned;		/* decoded body of an encoded message/rfc822 */
	size_t		 ownedlen;
};

struct mime_msg {
	const char		*raw;
	size_t			 len;
	struct mime_part	*parts;		/* [0] is the message */
	int			 n, cap;
	size_t			 omitted;	/* parts over parts_max */
	struct mime_limits	 lim;
};

struct mime_msg	*mime_msg_parse(const char *raw, size_t len,
		    const struct mime_limits *);
void		 mime_msg_free(struct mime_msg **);

/* ---- html.c ---------------------------------------------------------- */

/* Turn UTF-8 HTML into text wrapped at width columns; links as footnotes. */
int	mime_html_to_text(const char *html, size_t len, int width,
	    struct buf *out);

/* ---- flowed.c -------------------------------------------------------- */

/*
 * Where to cut the first line of p to fit avail columns (0: no limit):
 * returns its length, *next is where the next line starts.
 */
size_t	mime_wrap_cut(const char *p, size_t len, size_t avail, size_t *next);
/* Reflow format=flowed text (LF line ends) to width columns. */
int	mime_flowed(const char *text, size_t len, bool delsp, int width,
	    struct buf *out);

/* ---- mailcap.c ------------------------------------------------------- */

/*
 * Convert a part through the first copiousoutput mailcap entry for type.
 * Returns 0 with the command's output (UTF-8, repaired) in out, 1 when no
 * entry applies, -1 when the command failed (err says why).
 */
int	mime_mailcap_convert(const char *type, const char *data, size_t len,
	    const struct mime_render_opts *, struct buf *out, struct error *err);

/* ---- sanitize.c ------------------------------------------------------ */

/* Append the terminal-safe form of UTF-8 text to out. */
int	mime_sanitize_into(const char *s, size_t len, struct buf *out);

#endif
