/*
 * IMAP response parser (RFC 3501 / RFC 9051 server responses).
 *
 * Push/next, no I/O: the caller feeds bytes as they arrive and takes out
 * complete responses. All state lives in struct imap_parser, so a response
 * split anywhere, even one byte at a time, parses the same as one delivered
 * whole, and parsing resumes where it stopped (nothing is re-scanned).
 *
 * Nothing from the wire is trusted: every size is checked against a named
 * limit, and lists are nested with an explicit stack (no recursion). One item
 * over a limit that the parser can pass without storing it costs only that
 * item: a list nested deeper than depth_max, a literal over literal_mem_max
 * that no sink takes, a quoted string over literal_mem_max. The parser counts
 * its way to the item's end and the response comes out with an
 * IMAP_ARG_SKIPPED argument in its place (see enum imap_arg_type). Every
 * other violation is a parse error that names what was wrong (a literal over
 * literal_max, a line over line_max, too many arguments, a response over
 * resp_mem_max, bad syntax). After an error the connection must be dropped:
 * the stream position is unknown.
 *
 *	p = imap_parser_new(NULL);
 *	while ((n = read(fd, buf, sizeof buf)) > 0) {
 *		imap_parser_feed(p, buf, n);
 *		while ((r = imap_parser_next(p, &resp)) == IMAP_PARSE_OK)
 *			handle(&resp);
 *		if (r == IMAP_PARSE_ERROR)
 *			fail(imap_parser_error(p));
 *	}
 */
#ifndef PETREL_IMAP_PARSER_H
#define PETREL_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,		/* atom, number, or flag such as \Seen; also BODY[HEADER.FIELDS (A B)] */
	IMAP_ARG_STRING,	/* quoted string, unescaped */
	IMAP_ARG_LITERAL,	/* {n} or ~{n} literal */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,		/* ( ... ) */
	IMAP_ARG_SKIPPED,	/* an item over a limit, parsed but not stored */
};

/*
 * SKIPPED stands for one whole item: the element of an outermost list (for a
 * FETCH, the value of one attribute such as BODYSTRUCTURE) that holds what
 * was over the limit, or that top-level argument itself. For
 * "* 1 FETCH (UID 7 BODYSTRUCTURE ((((...)))) FLAGS (\Seen))" nested past
 * depth_max, args is [LIST [UID 7 BODYSTRUCTURE SKIPPED FLAGS LIST]]: the
 * rest of the response is intact. A SKIPPED argument occupies one slot where
 * the item was, so the items around it keep their positions.
 */

struct imap_arg {
	enum imap_arg_type	 type;
	/*
	 * ATOM, STRING, LITERAL: the bytes, always followed by a NUL that is
	 * not counted in len (a literal may itself contain NULs). A streamed
	 * literal (see struct imap_literal_sink) has str == NULL, len == its size.
	 * NIL has str "NIL", len 3, so a mailbox sent as the atom NIL can be
	 * recovered; imap_arg_cstr() still returns NULL for it. In quoted
	 * strings only \" and \\ are escapes; a backslash before any other
	 * byte is kept (both bytes). SKIPPED has str why the item was skipped
	 * (static text such as "lists nested deeper than 64"), len its length;
	 * it is not a string to the helpers below.
	 */
	const char		*str;
	size_t			 len;
	bool			 streamed;
	/* LIST: the elements. */
	const struct imap_arg	*list;
	size_t			 count;
};

enum imap_resp_kind {
	IMAP_RESP_UNTAGGED,	/* "* ..." */
	IMAP_RESP_TAGGED,	/* "A12 OK ..." */
	IMAP_RESP_CONTINUE,	/* "+ ..." */
};

enum imap_status {
	IMAP_STATUS_NONE,	/* not a status response (data such as FETCH) */
	IMAP_STATUS_OK,
	IMAP_STATUS_NO,
	IMAP_STATUS_BAD,
	IMAP_STATUS_BYE,
	IMAP_STATUS_PREAUTH,
};

/*
 * One complete response. Pointers stay valid until the next call of
 * imap_parser_next() or imap_parser_free().
 *
 *  "A7 OK [UIDNEXT 9] done"  kind TAGGED, tag "A7", status OK, code "UIDNEXT",
 *                            code_args [ATOM "9"], code_raw "9", text "done"
 *  "* 23 EXISTS"             kind UNTAGGED, has_number, number 23, name "EXISTS"
 *  "* 5 FETCH (UID 9 ...)"   has_number, number 5, name "FETCH", args [LIST]
 *  "* LIST (\X) "/" INBOX"   name "LIST", args [LIST, STRING, ATOM]
 *  "* CAPABILITY IMAP4rev1"  name "CAPABILITY", args [ATOM...]
 *  "* OK [ALERT] hi"         status OK, code "ALERT", text "hi"
 *  "+ idling" / "+ eGVz"     kind CONTINUE, text "idling" (base64 for SASL)
 *
 * name is as received (compare it case-insensitively); status words are
 * recognised in any case. For status responses args is empty and text holds
 * the rest of the line verbatim (it may be empty).
 */
struct imap_resp {
	enum imap_resp_kind	 kind;
	const char		*tag;		/* TAGGED only */
	enum imap_status	 status;
	const char		*code;		/* resp-text-code atom, or NULL */
	const struct imap_arg	*code_args;	/* parsed code arguments (may be empty) */
	size_t			 ncode_args;
	const char		*code_raw;	/* code arguments as raw text ("" if none) */
	const char		*text;		/* resp-text after the code ("" if none) */
	bool			 has_number;
	uint32_t		 number;
	const char		*name;		/* untagged data keyword, or NULL */
	const struct imap_arg	*args;
	size_t			 nargs;
};

struct imap_limits {
	size_t		line_max;	/* bytes of one line outside literals */
	size_t		literal_mem_max; /* larger literals need a sink (else the item
					  * is skipped), larger quoted strings are
					  * skipped (their bytes between the quotes) */
	uint64_t	literal_max;	/* no literal at all may be larger (error) */
	unsigned	depth_max;	/* list nesting; deeper lists are skipped */
	size_t		args_max;	/* atoms/strings/lists in one response */
	size_t		resp_mem_max;	/* bytes held for one response */
};

/* Defaults: 8 MB lines, 1 MB in-memory literals, 2 GB literals, depth 64,
 * 2,000,000 args, 64 MB per response. */
void	imap_limits_default(struct imap_limits *);

/*
 * Literals larger than literal_mem_max are streamed instead of stored:
 * begin() is called when the literal starts with the response parsed so far
 * (resp->args holds the arguments completed before it; for a FETCH this
 * includes the item name such as "BODY[]" as the last complete atom of the
 * innermost list, given as `key`), data() for each chunk in order, end() when
 * the last byte was delivered. In partial, every list still open is a LIST of
 * its elements so far, as the last element of its parent: for
 * "* 5 FETCH (UID 9 BODY[] {N}" partial->args is [LIST [UID 9 BODY[]]] and
 * key is that BODY[] (NULL when the literal follows no atom); partial is
 * valid during begin() only. A non-zero return from any of them makes
 * imap_parser_next() fail with the error "literal sink failed". A literal
 * inside an item being skipped (a list nested too deeply) is read and
 * dropped, never given to the sink.
 */
struct imap_literal_sink {
	int	(*begin)(void *arg, const struct imap_resp *partial,
		    const struct imap_arg *key, uint64_t size);
	int	(*data)(void *arg, const char *data, size_t len);
	int	(*end)(void *arg);
};

enum imap_parse_result {
	IMAP_PARSE_ERROR = -1,
	IMAP_PARSE_MORE = 0,	/* feed more bytes */
	IMAP_PARSE_OK = 1,	/* *resp holds a complete response */
};

struct imap_parser;

/* limits may be NULL for the defaults; the struct is copied. */
struct imap_parser	*imap_parser_new(const struct imap_limits *limits);
void			 imap_parser_free(struct imap_parser **);
void			 imap_parser_set_sink(struct imap_parser *,
			     const struct imap_literal_sink *sink, void *arg);
/* Literals of at least min bytes go to the sink (default literal_mem_max + 1). */
void			 imap_parser_set_stream_min(struct imap_parser *, uint64_t min);
/*
 * Append input. Call imap_parser_next() until it returns MORE before feeding
 * again; the parser keeps at most one partial line plus what was fed.
 */
void			 imap_parser_feed(struct imap_parser *, const void *data, size_t len);
int			 imap_parser_next(struct imap_parser *, struct imap_resp *resp);
/* Why the last call failed: one line, e.g. "line too long (over 8388608 bytes)". */
const char		*imap_parser_error(const struct imap_parser *);
/* Bytes fed but not yet consumed. */
size_t			 imap_parser_pending(const struct imap_parser *);

/* Helpers for handlers. */
bool	imap_arg_is_string(const struct imap_arg *);	/* ATOM, STRING or buffered LITERAL */
/* ATOM/STRING/LITERAL equal to s, ignoring ASCII case. */
bool	imap_arg_eq(const struct imap_arg *, const char *s);
/* Number (ATOM of digits) into *out; -1 if not a number or larger than max. */
int	imap_arg_number(const struct imap_arg *, uint64_t max, uint64_t *out);
/* NUL-terminated text of a string arg or NULL (for NIL, lists, streamed). */
const char *imap_arg_cstr(const struct imap_arg *);

#endif
