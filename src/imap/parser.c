/*
 * IMAP response parser (see include/imap-parser.h for the contract).
 *
 * How it works. Outside literals an IMAP response is text up to LF, so the
 * parser works in two steps: it looks for the next LF (memchr, resuming where
 * the last search stopped, so no byte is searched twice), and once a complete
 * segment is there it tokenizes that segment in one pass. A segment ends
 * either the response or a literal header "{n}"; the literal bytes are then
 * copied into the response arena or handed to the sink as they arrive, and
 * the next segment continues the same response. The state that spans
 * segments (open lists, the argument stack, the literal in progress) lives in
 * struct imap_parser, so input split anywhere parses the same.
 *
 * Lists use an explicit stack: the elements of every open list sit on one
 * argument vector after the open list's own LIST argument, a frame remembers
 * where each open list's elements start, and ')' moves the elements of the
 * innermost list into the arena as one array. Each element is copied once
 * per closing list, so parsing is linear, and the sink's view of the
 * response so far costs nothing to build.
 *
 * Tolerance choices (servers differ; none of these loses information):
 *  - bare LF line ends, a trailing space before the line end, runs of spaces
 *    between arguments, a missing space before '(' or after ')';
 *  - in quoted strings only \" and \\ are escapes; a backslash before any
 *    other byte is kept as it is (both bytes), and 8-bit bytes are accepted
 *    (RFC 6855); NUL is rejected;
 *  - 8-bit bytes in atoms (some servers send raw UTF-8 mailbox names);
 *  - "{n+}" literals from servers, literal8 "~{n}";
 *  - a status text that starts with '[' but is not a well-formed response
 *    code is kept verbatim as text (code NULL);
 *  - an atom with '[' takes everything up to the next ']' (a FETCH section
 *    such as BODY[HEADER.FIELDS (FROM TO)]); without a ']' on the line the
 *    '[' is an ordinary atom character.
 * Rejected with an error: NUL or control bytes outside literals and quoted
 * text, a CR not before LF, an argument starting with ']', an unbalanced ')',
 * an unterminated list or quoted string, a bad tag character, a tagged
 * response that is not OK/NO/BAD, a bad literal size, and every limit but
 * the three below.
 *
 * Skipping. One bad item must not cost the whole response (and with it the
 * connection, and a folder that fails at the same message on every sync), so
 * the limits the parser can pass without losing its place make it skip the
 * item instead: a '(' past depth_max, a literal over literal_mem_max that no
 * sink takes, a quoted string over literal_mem_max. The item skipped is the
 * element of the outermost list that holds the offender (a FETCH attribute's
 * value), or the offender itself at that level or above: skip_item() drops
 * what was stored of it and puts one SKIPPED argument in its slot. Until the
 * item ends, skip_nest counts the lists open inside it and nothing is stored:
 * atoms and strings are scanned and checked as usual, literals are read and
 * dropped. Depth is only counted there, so memory stays bounded by depth_max
 * frames and line_max bytes (which also bounds the count); syntax is checked
 * exactly as when storing, so skipping never makes the parser laxer.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-parser.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define ARENA_BLOCK_MIN		(16 * 1024)
#define ARENA_KEEP_MAX		(1024 * 1024)	/* keep at most this between responses */
#define INBUF_MIN		(16 * 1024)

/*
 * Character classes. Atom characters: anything above SP except DEL and the
 * specials ( ) { " and '['; ']' '%' '*' '\' are atom characters so flags,
 * sections and list patterns come out as one atom. Tag characters: ASTRING-CHAR
 * without '+' (RFC 9051), 7-bit only.
 */
static const unsigned char atom_tab[256] = {
	[0x21] = 1,
	[0x23 ... 0x27] = 1,
	[0x2a ... 0x5a] = 1,
	[0x5c ... 0x7a] = 1,
	[0x7c ... 0x7e] = 1,
	[0x80 ... 0xff] = 1,
};

static const unsigned char tag_tab[256] = {
	[0x21] = 1,
	[0x23 ... 0x24] = 1,
	[0x26 ... 0x27] = 1,
	[0x2c ... 0x5b] = 1,
	[0x5d ... 0x7a] = 1,
	[0x7c ... 0x7e] = 1,
};

struct arena_block {
	struct arena_block	*next;
	size_t			 size;
	size_t			 used;
	char			 data[];
};

enum parser_state {
	PS_LINE,	/* waiting for the next complete segment */
	PS_LITERAL,	/* reading literal bytes */
	PS_ERROR,	/* sticky: the stream position is unknown */
};

/* What came before the next token, to check separators. */
enum prev_token {
	PV_NONE,	/* start, space or '(' */
	PV_TOKEN,	/* atom, string or literal: needs a separator */
	PV_CLOSE,	/* ')': a missing space after it is tolerated */
};

/* Why an item was skipped; the texts (with the limits) are made once. */
enum skip_why {
	SKIP_DEPTH,
	SKIP_STRING,
	SKIP_LITERAL,
	SKIP_NWHY,
};

enum seg_result {
	SEG_ERROR = -1,
	SEG_END,	/* the segment ended the response */
	SEG_LITERAL,	/* the segment ended with a literal header */
};

struct imap_parser {
	struct imap_limits	 lim;
	uint64_t		 stream_min;
	struct imap_literal_sink sink;
	bool			 have_sink;
	void			*sink_arg;

	/* Input: bytes [in_off, in_len) are not consumed; LF search resumes at scan. */
	char			*in;
	size_t			 in_off;
	size_t			 in_len;
	size_t			 in_size;
	size_t			 scan;

	enum parser_state	 state;
	bool			 have_resp;	/* last call returned a response */
	bool			 in_resp;	/* the first segment was parsed */
	size_t			 line_len;	/* bytes outside literals so far */
	enum prev_token		 prev;

	/* Literal in progress. */
	uint64_t		 lit_size;
	uint64_t		 lit_left;
	bool			 lit_stream;
	bool			 lit_discard;	/* read and dropped (skipped item) */
	char			*lit_buf;

	/* Skipping an item: lists open inside it; the skip began at depth_max. */
	size_t			 skip_nest;
	bool			 skip_deep;
	char			 why[SKIP_NWHY][64];

	/* Arguments of all open lists; frames[d] is where level d starts. */
	struct imap_arg		*stk;
	size_t			 nstk;
	size_t			 stk_size;
	size_t			*frames;
	size_t			 frames_size;
	unsigned		 depth;
	size_t			 nargs;		/* arguments in this response */

	/* Arena for one response. */
	struct arena_block	*blocks;	/* the current block first */
	struct arena_block	*base;		/* kept from one response to the next */
	size_t			 arena_used;

	struct imap_resp	 resp;
	char			 err[256];
};

static const struct imap_arg nil_arg = { .type = IMAP_ARG_NIL, .str = "NIL", .len = 3 };

void
imap_limits_default(struct imap_limits *l)
{
	l->line_max = 8 * 1024 * 1024;
	l->literal_mem_max = 1024 * 1024;
	l->literal_max = (uint64_t)2 * 1024 * 1024 * 1024;
	l->depth_max = 64;
	l->args_max = 2000000;
	l->resp_mem_max = 64 * 1024 * 1024;
}

static int
perr(struct imap_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record why parsing failed; returns -1. */
static int
perr(struct imap_parser *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof p->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* Memory held for the response: the arena plus the argument vector. */
static bool
mem_ok(struct imap_parser *p, size_t more_arena, size_t more_args)
{
	size_t	max = p->lim.resp_mem_max;
	size_t	stk = (p->nstk + more_args) * sizeof(struct imap_arg);

	if (more_arena > max || p->arena_used > max - more_arena)
		return false;
	return stk <= max - p->arena_used - more_arena;
}

/* Bump-allocate n bytes for the current response; NULL (error set) over the limit. */
static void *
arena_alloc(struct imap_parser *p, size_t n, size_t align)
{
	struct arena_block	*b = p->blocks, *nb;
	uintptr_t		 cur;
	size_t			 pad, size;

	if (!mem_ok(p, n, 0)) {
		perr(p, "response too big (over %zu bytes)", p->lim.resp_mem_max);
		return NULL;
	}
	if (b != NULL) {
		cur = (uintptr_t)(b->data + b->used);
		pad = (size_t)(-cur & (align - 1));
		if (b->size - b->used >= n && b->size - b->used - n >= pad) {
			b->used += pad + n;
			p->arena_used += n;
			return (char *)cur + pad;
		}
	}
	size = b == NULL ? ARENA_BLOCK_MIN : b->size >= ARENA_KEEP_MAX / 2 ?
	    ARENA_KEEP_MAX : b->size * 2;
	if (size < n + align)
		size = n + align;
	nb = xmalloc(sizeof *nb + size);
	nb->size = size;
	cur = (uintptr_t)nb->data;
	pad = (size_t)(-cur & (align - 1));
	nb->used = pad + n;
	/* A block for one big literal does not become the current one. */
	if (b != NULL && b->size - b->used > size - nb->used) {
		nb->next = b->next;
		b->next = nb;
	} else {
		nb->next = b;
		p->blocks = nb;
	}
	if (p->base == NULL)
		p->base = nb;
	p->arena_used += n;
	return nb->data + pad;
}

/*
 * Free every block but the base one, which grows (up to ARENA_KEEP_MAX) to
 * what the last response needed, so a steady stream of responses allocates
 * nothing.
 */
static void
arena_reset(struct imap_parser *p)
{
	struct arena_block	*b, *next, *base = p->base;
	size_t			 want = 0;

	for (b = p->blocks; b != NULL; b = next) {
		next = b->next;
		want += b->used;
		if (b != base)
			free(b);
	}
	if (base != NULL && base->size > ARENA_KEEP_MAX) {
		free(base);
		base = NULL;
	} else if (base != NULL && want > base->size && want <= ARENA_KEEP_MAX) {
		free(base);
		base = xmalloc(sizeof *base + want);
		base->size = want;
	}
	if (base != NULL) {
		base->next = NULL;
		base->used = 0;
	}
	p->blocks = p->base = base;
	p->arena_used = 0;
}

static char *
arena_strdup(struct imap_parser *p, const char *s, size_t len)
{
	char	*d;

	if ((d = arena_alloc(p, len + 1, 1)) == NULL)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* Store an argument in the open list; inside a skipped item, drop it. */
static int
push_arg(struct imap_parser *p, const struct imap_arg *a)
{
	if (p->skip_nest != 0)
		return 0;
	if (p->nargs >= p->lim.args_max)
		return perr(p, "too many arguments (over %zu)", p->lim.args_max);
	if (!mem_ok(p, 0, 1))
		return perr(p, "response too big (over %zu bytes)", p->lim.resp_mem_max);
	if (p->nstk == p->stk_size) {
		p->stk_size = p->stk_size == 0 ? 64 : p->stk_size * 2;
		p->stk = xreallocarray(p->stk, p->stk_size, sizeof *p->stk);
	}
	p->stk[p->nstk++] = *a;
	p->nargs++;
	return 0;
}

static int
push_str(struct imap_parser *p, enum imap_arg_type type, const char *s, size_t len)
{
	struct imap_arg	a = { .type = type };

	if (p->skip_nest != 0)
		return 0;
	if ((a.str = arena_strdup(p, s, len)) == NULL)
		return -1;
	a.len = len;
	return push_arg(p, &a);
}

/* Copy n arguments from the vector at start into one arena array. */
static const struct imap_arg *
args_to_arena(struct imap_parser *p, size_t start, size_t n)
{
	struct imap_arg	*v;

	if (n == 0)
		return NULL;
	/* The arguments move: do not count them twice against resp_mem_max. */
	p->nstk -= n;
	v = arena_alloc(p, n * sizeof *v, _Alignof(struct imap_arg));
	p->nstk += n;
	if (v == NULL)
		return NULL;
	memcpy(v, p->stk + start, n * sizeof *v);
	return v;
}

/*
 * The item at the current position is over a limit the parser can pass:
 * from depth 2 down, the list open at depth 2 (an element of an outermost
 * list) becomes SKIPPED, its elements are dropped and the lists still open in
 * it are counted in skip_nest; at depth 0 or 1 the offender itself is the
 * item, and its SKIPPED takes the slot it would have had. Inside an item
 * already being skipped there is nothing more to do.
 */
static int
skip_item(struct imap_parser *p, enum skip_why why)
{
	struct imap_arg	a = { .type = IMAP_ARG_SKIPPED };

	if (p->skip_nest != 0)
		return 0;
	a.str = p->why[why];
	a.len = strlen(a.str);
	p->skip_deep = why == SKIP_DEPTH;
	if (p->depth <= 1)
		return push_arg(p, &a);
	p->nstk = p->frames[2];
	p->stk[p->nstk - 1] = a;
	p->skip_nest = p->depth - 1;
	p->depth = 1;
	return 0;
}

/*
 * '(' pushes the LIST argument at once (its slot, and it counts against
 * args_max), and the list's elements follow it on the vector; ')' moves them
 * into the arena and fills in the LIST. Past depth_max, and inside a skipped
 * item, a list is only counted.
 */
static int
list_open(struct imap_parser *p)
{
	static const struct imap_arg list = { .type = IMAP_ARG_LIST };

	if (p->skip_nest == 0 && p->depth >= p->lim.depth_max &&
	    skip_item(p, SKIP_DEPTH) == -1)
		return -1;
	if (p->skip_nest != 0 || p->depth >= p->lim.depth_max) {
		/* Counted only; skip_item() has made the item SKIPPED. */
		p->skip_nest++;
		return 0;
	}
	if (push_arg(p, &list) == -1)
		return -1;
	if (p->depth + 1 >= p->frames_size) {
		p->frames_size = p->frames_size == 0 ? 16 : p->frames_size * 2;
		p->frames = xreallocarray(p->frames, p->frames_size, sizeof *p->frames);
	}
	p->frames[++p->depth] = p->nstk;
	return 0;
}

static int
list_close(struct imap_parser *p)
{
	size_t			 start = p->frames[p->depth], n = p->nstk - start;
	const struct imap_arg	*v = NULL;

	if (n != 0 && (v = args_to_arena(p, start, n)) == NULL)
		return -1;
	p->nstk = start;
	p->depth--;
	p->stk[start - 1].list = v;
	p->stk[start - 1].count = n;
	return 0;
}

/* Unescape a quoted string body [s, e) whose escapes are known to be complete. */
static int
push_quoted_escaped(struct imap_parser *p, const char *s, const char *e)
{
	struct imap_arg	 a = { .type = IMAP_ARG_STRING };
	char		*d, *o;

	if ((d = arena_alloc(p, (size_t)(e - s) + 1, 1)) == NULL)
		return -1;
	for (o = d; s < e; s++) {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*o++ = *s;
	}
	*o = '\0';
	a.str = d;
	a.len = (size_t)(o - d);
	return push_arg(p, &a);
}

/*
 * A quoted string [q, end) that was checked: skipped when it is over the
 * in-memory limit (or inside a skipped item), else stored.
 */
static bool
quoted_skip(struct imap_parser *p, const char *q, const char *end, int *rv)
{
	*rv = 0;
	if (p->skip_nest != 0)
		return true;
	if ((size_t)(end - q) <= p->lim.literal_mem_max)
		return false;
	*rv = skip_item(p, SKIP_STRING);
	return true;
}

/* Parse a quoted string starting at the '"' at *sp. */
static int
parse_quoted(struct imap_parser *p, const char **sp, const char *e)
{
	const char	*q = *sp + 1, *dq, *t;
	int		 rv;

	if ((dq = memchr(q, '"', (size_t)(e - q))) == NULL)
		return perr(p, "unterminated quoted string");
	if (memchr(q, '\\', (size_t)(dq - q)) == NULL) {
		if (memchr(q, '\0', (size_t)(dq - q)) != NULL)
			return perr(p, "NUL byte in quoted string");
		*sp = dq + 1;
		if (quoted_skip(p, q, dq, &rv))
			return rv;
		return push_str(p, IMAP_ARG_STRING, q, (size_t)(dq - q));
	}
	for (t = q; t < e; t++) {
		if (*t == '"')
			break;
		if (*t == '\0')
			return perr(p, "NUL byte in quoted string");
		if (*t == '\\') {
			if (t + 1 >= e)
				break;
			if (*++t == '\0')
				return perr(p, "NUL byte in quoted string");
		}
	}
	if (t >= e)
		return perr(p, "unterminated quoted string");
	*sp = t + 1;
	if (quoted_skip(p, q, t, &rv))
		return rv;
	return push_quoted_escaped(p, q, t);
}

/*
 * Parse "{n}", "{n+}" or "~{n}" at *sp, which must end the segment; set up
 * the literal. Nothing is allocated for a size that fails a limit: over
 * literal_max is an error, over literal_mem_max without a sink skips the
 * item, and the bytes are read and dropped.
 */
static int
parse_literal_header(struct imap_parser *p, const char *s, const char *e)
{
	const char	*d, *digits;
	uint64_t	 size = 0;

	d = digits = s + (*s == '~' ? 2 : 1);
	while (d < e && *d >= '0' && *d <= '9') {
		unsigned dig = (unsigned)(*d - '0');

		if (size > (UINT64_MAX - dig) / 10)
			return perr(p, "literal size overflows");
		size = size * 10 + dig;
		d++;
	}
	if (d < e && *d == '+')
		d++;
	if (d == digits || d >= e || *d != '}')
		return perr(p, "bad literal size");
	if (d + 1 != e)
		return perr(p, "literal size not followed by end of line");
	if (size > p->lim.literal_max)
		return perr(p, "literal too big (%llu bytes, over %llu)",
		    (unsigned long long)size, (unsigned long long)p->lim.literal_max);
	p->lit_size = p->lit_left = size;
	p->lit_buf = NULL;
	p->lit_stream = false;
	p->lit_discard = p->skip_nest != 0;
	if (p->lit_discard)
		return 0;
	if (p->have_sink && size >= p->stream_min) {
		p->lit_stream = true;
		return 0;
	}
	if (size > p->lim.literal_mem_max) {
		p->lit_discard = true;
		return skip_item(p, SKIP_LITERAL);
	}
	if ((p->lit_buf = arena_alloc(p, (size_t)size + 1, 1)) == NULL)
		return -1;
	return 0;
}

/* Name a byte that cannot start or continue an argument. */
static int
bad_byte(struct imap_parser *p, unsigned char c)
{
	if (c == '\0')
		return perr(p, "NUL byte outside literal");
	if (c == '\r')
		return perr(p, "CR not followed by LF");
	if (c == ']')
		return perr(p, "unexpected ']'");
	return perr(p, "unexpected byte 0x%02x", c);
}

/* Scan an atom at *sp (with sections); *rbr caches the next ']' (or e if none). */
static int
parse_atom(struct imap_parser *p, const char **sp, const char *e, const char **rbr)
{
	const char	*a = *sp, *s = *sp, *t;

	for (;;) {
		while (s < e && atom_tab[(unsigned char)*s])
			s++;
		if (s >= e || *s != '[')
			break;
		if (*rbr == NULL || *rbr < s) {
			t = memchr(s, ']', (size_t)(e - s));
			*rbr = t != NULL ? t : e;
		}
		if (*rbr >= e) {
			s++;		/* no section: '[' is an ordinary byte */
			continue;
		}
		for (t = s + 1; t < *rbr; t++) {
			unsigned char c = (unsigned char)*t;

			if (c < 0x20 || c == 0x7f)
				return c == '\0' ? perr(p, "NUL byte in atom") :
				    perr(p, "control byte 0x%02x in atom", c);
		}
		s = *rbr + 1;
	}
	if (s < e && ((unsigned char)*s < 0x20 || *s == 0x7f) && *s != '\r')
		return *s == '\0' ? perr(p, "NUL byte in atom") :
		    perr(p, "control byte 0x%02x in atom", (unsigned char)*s);
	*sp = s;
	if (s - a == 3 && (a[0] | 0x20) == 'n' && (a[1] | 0x20) == 'i' &&
	    (a[2] | 0x20) == 'l')
		return push_arg(p, &nil_arg);
	return push_str(p, IMAP_ARG_ATOM, a, (size_t)(s - a));
}

/*
 * Parse arguments in [s, e), continuing the open lists. Returns SEG_END at
 * the end of the segment with all lists closed, SEG_LITERAL when the segment
 * ends with a literal header (in_code: an error), SEG_ERROR otherwise.
 */
static int
parse_args(struct imap_parser *p, const char *s, const char *e, bool in_code)
{
	const char	*rbr = NULL;
	unsigned char	 c;

	while (s < e) {
		c = (unsigned char)*s;
		if (c == ' ') {
			s++;
			p->prev = PV_NONE;
			continue;
		}
		if (c == '(') {
			if (list_open(p) == -1)
				return SEG_ERROR;
			s++;
			p->prev = PV_NONE;
			continue;
		}
		if (c == ')') {
			if (p->skip_nest != 0)
				p->skip_nest--;
			else if (p->depth == 0)
				return perr(p, "unbalanced ')'");
			else if (list_close(p) == -1)
				return SEG_ERROR;
			s++;
			p->prev = PV_CLOSE;
			continue;
		}
		if (c == ']' || c < 0x20 || c == 0x7f)
			return bad_byte(p, c);
		if (p->prev == PV_TOKEN)
			return perr(p, "missing space between arguments");
		p->prev = PV_TOKEN;
		if (c == '"') {
			if (parse_quoted(p, &s, e) == -1)
				return SEG_ERROR;
		} else if (c == '{' || (c == '~' && s + 1 < e && s[1] == '{')) {
			if (in_code)
				return perr(p, "literal in response code");
			if (parse_literal_header(p, s, e) == -1)
				return SEG_ERROR;
			return SEG_LITERAL;
		} else if (parse_atom(p, &s, e, &rbr) == -1)
			return SEG_ERROR;
	}
	/* A line cannot end inside a list: that is not one bad item. */
	if (p->skip_nest != 0 && p->skip_deep)
		return perr(p, "lists nested too deeply (over %u) and not closed",
		    p->lim.depth_max);
	if (p->depth != 0 || p->skip_nest != 0)
		return perr(p, "unterminated list (missing ')')");
	return SEG_END;
}

static bool
word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp_ascii(s, w, len) == 0;
}

static enum imap_status
status_word(const char *s, size_t len)
{
	if (word_is(s, len, "OK"))
		return IMAP_STATUS_OK;
	if (word_is(s, len, "NO"))
		return IMAP_STATUS_NO;
	if (word_is(s, len, "BAD"))
		return IMAP_STATUS_BAD;
	if (word_is(s, len, "BYE"))
		return IMAP_STATUS_BYE;
	if (word_is(s, len, "PREAUTH"))
		return IMAP_STATUS_PREAUTH;
	return IMAP_STATUS_NONE;
}

/* Parse the code arguments raw text; on any failure they stay empty. */
static void
parse_code_args(struct imap_parser *p, const char *s, const char *e)
{
	struct imap_resp	*r = &p->resp;
	size_t			 nargs = p->nargs;

	p->nstk = 0;
	p->depth = 0;
	p->skip_nest = 0;
	p->prev = PV_NONE;
	if (parse_args(p, s, e, true) == SEG_END &&
	    (r->code_args = args_to_arena(p, 0, p->nstk)) != NULL)
		r->ncode_args = p->nstk;
	else {
		r->code_args = NULL;
		r->ncode_args = 0;
		p->nargs = nargs;
		p->err[0] = '\0';
	}
	p->nstk = 0;
	p->depth = 0;
	p->skip_nest = 0;
	p->prev = PV_NONE;
}

/* resp-text: optional "[code args]" then free text, verbatim. */
static int
parse_text(struct imap_parser *p, const char *s, const char *e)
{
	struct imap_resp	*r = &p->resp;
	const char		*a, *t, *u = NULL, *raw = NULL;
	bool			 inq = false;

	if (memchr(s, '\0', (size_t)(e - s)) != NULL)
		return perr(p, "NUL byte in response text");
	if (memchr(s, '\r', (size_t)(e - s)) != NULL)
		return perr(p, "CR not followed by LF");
	r->code_raw = "";
	if (s < e && *s == '[') {
		a = t = s + 1;
		while (t < e && atom_tab[(unsigned char)*t] && *t != ']')
			t++;
		if (t > a && t < e && *t == ']')
			u = raw = t;
		else if (t > a && t < e && *t == ' ') {
			raw = t + 1;
			for (u = raw; u < e; u++) {
				if (inq) {
					if (*u == '\\' && u + 1 < e)
						u++;
					else if (*u == '"')
						inq = false;
				} else if (*u == '"')
					inq = true;
				else if (*u == ']')
					break;
			}
			if (u >= e)	/* an odd quote: take the first ']' */
				u = memchr(raw, ']', (size_t)(e - raw));
		}
		if (u != NULL) {
			if ((r->code = arena_strdup(p, a, (size_t)(t - a))) == NULL ||
			    (r->code_raw = arena_strdup(p, raw, (size_t)(u - raw))) == NULL)
				return -1;
			parse_code_args(p, raw, u);
			s = u + 1;
			if (s < e && *s == ' ')
				s++;
		}
	}
	if ((r->text = arena_strdup(p, s, (size_t)(e - s))) == NULL)
		return -1;
	return SEG_END;
}

/* The first segment: tag, '*' or '+', then status text or data arguments. */
static int
parse_head(struct imap_parser *p, const char *s, const char *e)
{
	struct imap_resp	*r = &p->resp;
	const char		*a;
	uint64_t		 n;

	r->code_raw = "";
	r->text = "";
	if (s == e)
		return perr(p, "empty response line");
	if (*s == '+') {
		r->kind = IMAP_RESP_CONTINUE;
		s++;
		if (s < e && *s == ' ')
			s++;
		return parse_text(p, s, e);
	}
	if (*s == '*') {
		r->kind = IMAP_RESP_UNTAGGED;
		if (++s >= e || *s != ' ')
			return perr(p, "missing space after '*'");
		s++;
		if (s < e && *s >= '0' && *s <= '9') {
			for (a = s; s < e && *s >= '0' && *s <= '9'; s++)
				;
			if (parse_u64(a, (size_t)(s - a), UINT32_MAX, &n) == -1)
				return perr(p, "bad number in untagged response");
			r->has_number = true;
			r->number = (uint32_t)n;
			if (s >= e || *s != ' ')
				return perr(p, "missing space after message number");
			s++;
		}
		for (a = s; s < e && atom_tab[(unsigned char)*s] && *s != ']'; s++)
			;
		if (s == a)
			return s < e ? perr(p, "bad response name (byte 0x%02x)",
			    (unsigned char)*s) : perr(p, "missing response name");
		if (!r->has_number &&
		    (r->status = status_word(a, (size_t)(s - a))) != IMAP_STATUS_NONE) {
			if (s < e && *s == ' ')
				s++;
			return parse_text(p, s, e);
		}
		if (s < e && *s != ' ' && *s != '(')
			return perr(p, "bad byte 0x%02x after response name",
			    (unsigned char)*s);
		if ((r->name = arena_strdup(p, a, (size_t)(s - a))) == NULL)
			return SEG_ERROR;
		p->prev = PV_NONE;
		return parse_args(p, s, e, false);
	}
	r->kind = IMAP_RESP_TAGGED;
	for (a = s; s < e && tag_tab[(unsigned char)*s]; s++)
		;
	if (s < e && *s != ' ')
		return perr(p, "bad byte 0x%02x in tag", (unsigned char)*s);
	if (s == a)
		return perr(p, "empty tag");
	if (s >= e)
		return perr(p, "tagged response without status");
	if ((r->tag = arena_strdup(p, a, (size_t)(s - a))) == NULL)
		return SEG_ERROR;
	for (a = ++s; s < e && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'); s++)
		;
	r->status = status_word(a, (size_t)(s - a));
	if (r->status != IMAP_STATUS_OK && r->status != IMAP_STATUS_NO &&
	    r->status != IMAP_STATUS_BAD)
		return perr(p, "tagged response is not OK, NO or BAD");
	if (s < e && *s == ' ')
		s++;
	else if (s < e && *s != '[')
		return perr(p, "bad byte 0x%02x after status", (unsigned char)*s);
	return parse_text(p, s, e);
}

/* Forget the last response; memory is kept for the next one. */
static void
resp_reset(struct imap_parser *p)
{
	arena_reset(p);
	p->nstk = 0;
	p->depth = 0;
	p->skip_nest = 0;
	p->nargs = 0;
	p->line_len = 0;
	p->in_resp = false;
	p->prev = PV_NONE;
	memset(&p->resp, 0, sizeof p->resp);
}

/*
 * The response so far for the sink: each open list's LIST argument is made
 * to point at its elements so far on the vector (valid during begin() only).
 * Returns the innermost level's last element if it is an atom (the FETCH
 * item name), else NULL.
 */
static const struct imap_arg *
build_partial(struct imap_parser *p, struct imap_resp *out)
{
	struct imap_arg	*a;
	size_t		 start, end;
	unsigned	 d;

	for (d = 1; d <= p->depth; d++) {
		start = p->frames[d];
		end = d < p->depth ? p->frames[d + 1] : p->nstk;
		a = &p->stk[start - 1];
		a->list = end > start ? &p->stk[start] : NULL;
		a->count = end - start;
	}
	*out = p->resp;
	out->nargs = p->depth > 0 ? p->frames[1] : p->nstk;
	out->args = out->nargs > 0 ? p->stk : NULL;
	start = p->depth > 0 ? p->frames[p->depth] : 0;
	if (p->nstk > start && p->stk[p->nstk - 1].type == IMAP_ARG_ATOM)
		return &p->stk[p->nstk - 1];
	return NULL;
}

static int
fail(struct imap_parser *p)
{
	p->state = PS_ERROR;
	if (p->err[0] == '\0')
		perr(p, "parse error");
	return IMAP_PARSE_ERROR;
}

/* Move literal bytes from the input; 1 when the literal is complete. */
static int
literal_step(struct imap_parser *p)
{
	struct imap_arg	a = { .type = IMAP_ARG_LITERAL };
	size_t		n = p->in_len - p->in_off;

	if (n > p->lit_left)
		n = (size_t)p->lit_left;
	if (n != 0) {
		/* A dropped literal's SKIPPED is in place already. */
		if (p->lit_stream) {
			if (p->sink.data != NULL &&
			    p->sink.data(p->sink_arg, p->in + p->in_off, n) != 0)
				return perr(p, "literal sink failed");
		} else if (!p->lit_discard)
			memcpy(p->lit_buf + (p->lit_size - p->lit_left), p->in + p->in_off, n);
		p->in_off += n;
		p->scan = p->in_off;
		p->lit_left -= n;
	}
	if (p->lit_left != 0)
		return 0;
	if (p->lit_discard) {
		p->prev = PV_TOKEN;
		p->state = PS_LINE;
		return 1;
	}
	if (p->lit_stream) {
		if (p->sink.end != NULL && p->sink.end(p->sink_arg) != 0)
			return perr(p, "literal sink failed");
		a.streamed = true;
		a.len = (size_t)p->lit_size;
	} else {
		p->lit_buf[p->lit_size] = '\0';
		a.str = p->lit_buf;
		a.len = (size_t)p->lit_size;
	}
	p->prev = PV_TOKEN;
	p->state = PS_LINE;
	if (push_arg(p, &a) == -1)
		return -1;
	return 1;
}

static int
literal_begin(struct imap_parser *p)
{
	struct imap_resp	 partial;
	const struct imap_arg	*key;

	p->state = PS_LITERAL;
	if (!p->lit_stream)
		return 0;
	key = build_partial(p, &partial);
	if (p->sink.begin != NULL &&
	    p->sink.begin(p->sink_arg, &partial, key, p->lit_size) != 0)
		return perr(p, "literal sink failed");
	return 0;
}

int
imap_parser_next(struct imap_parser *p, struct imap_resp *resp)
{
	const char	*s, *e, *lf;
	int		 r;

	if (p->state == PS_ERROR)
		return IMAP_PARSE_ERROR;
	if (p->have_resp) {
		resp_reset(p);
		p->have_resp = false;
	}
	p->err[0] = '\0';
	for (;;) {
		if (p->state == PS_LITERAL) {
			if ((r = literal_step(p)) == -1)
				return fail(p);
			if (r == 0)
				return IMAP_PARSE_MORE;
			continue;
		}
		lf = p->scan < p->in_len ?
		    memchr(p->in + p->scan, '\n', p->in_len - p->scan) : NULL;
		if (lf == NULL) {
			p->scan = p->in_len;
			if (p->in_len - p->in_off > p->lim.line_max - p->line_len) {
				perr(p, "line too long (over %zu bytes)", p->lim.line_max);
				return fail(p);
			}
			return IMAP_PARSE_MORE;
		}
		s = p->in + p->in_off;
		e = lf;
		p->line_len += (size_t)(lf - s) + 1;
		if (p->line_len > p->lim.line_max) {
			perr(p, "line too long (over %zu bytes)", p->lim.line_max);
			return fail(p);
		}
		if (e > s && e[-1] == '\r')
			e--;
		p->in_off = p->scan = (size_t)(lf + 1 - p->in);
		if (!p->in_resp) {
			p->in_resp = true;
			r = parse_head(p, s, e);
		} else
			r = parse_args(p, s, e, false);
		if (r == SEG_ERROR)
			return fail(p);
		if (r == SEG_LITERAL) {
			if (literal_begin(p) == -1)
				return fail(p);
			continue;
		}
		if (p->resp.status == IMAP_STATUS_NONE &&
		    p->resp.kind == IMAP_RESP_UNTAGGED) {
			p->resp.nargs = p->nstk;
			if (p->nstk != 0 &&
			    (p->resp.args = args_to_arena(p, 0, p->nstk)) == NULL)
				return fail(p);
		}
		*resp = p->resp;
		p->have_resp = true;
		return IMAP_PARSE_OK;
	}
}

struct imap_parser *
imap_parser_new(const struct imap_limits *limits)
{
	struct imap_parser	*p;

	p = xcalloc(1, sizeof *p);
	if (limits != NULL)
		p->lim = *limits;
	else
		imap_limits_default(&p->lim);
	p->stream_min = (uint64_t)p->lim.literal_mem_max + 1;
	snprintf(p->why[SKIP_DEPTH], sizeof p->why[0], "lists nested deeper than %u",
	    p->lim.depth_max);
	snprintf(p->why[SKIP_STRING], sizeof p->why[0], "quoted string over %zu bytes",
	    p->lim.literal_mem_max);
	snprintf(p->why[SKIP_LITERAL], sizeof p->why[0], "literal over %zu bytes",
	    p->lim.literal_mem_max);
	p->state = PS_LINE;
	p->resp.code_raw = "";
	p->resp.text = "";
	return p;
}

void
imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser	*p = *pp;
	struct arena_block	*b, *next;

	if (p == NULL)
		return;
	for (b = p->blocks; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(p->in);
	free(p->stk);
	free(p->frames);
	free(p);
	*pp = NULL;
}

void
imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink,
    void *arg)
{
	p->have_sink = sink != NULL;
	if (sink != NULL)
		p->sink = *sink;
	p->sink_arg = arg;
}

void
imap_parser_set_stream_min(struct imap_parser *p, uint64_t min)
{
	p->stream_min = min;
}

/*
 * Append input. The unconsumed bytes are at most one partial segment when the
 * caller drained the parser; they move to the front when the buffer is full.
 * A partial segment is moved at most once (the consumed offset only passes it
 * as a whole) and the buffer doubles up to line_max plus the chunk, so a long
 * line fed byte by byte is still copied a linear number of times.
 */
void
imap_parser_feed(struct imap_parser *p, const void *data, size_t len)
{
	size_t	 live = p->in_len - p->in_off, need, size, cap;
	char	*n;

	if (len == 0)
		return;
	if (live == 0)
		p->in_off = p->in_len = p->scan = 0;
	if (len > p->in_size - p->in_len) {
		if (len > SIZE_MAX - live)
			fatalx("%s: %zu bytes is too much input", __func__, len);
		need = live + len;
		if (need <= p->in_size)
			memmove(p->in, p->in + p->in_off, live);
		else {
			cap = p->lim.line_max > SIZE_MAX - len ? SIZE_MAX :
			    p->lim.line_max + len;
			size = p->in_size < INBUF_MIN ? INBUF_MIN : p->in_size;
			size = size > cap / 2 ? cap : size * 2;
			if (size < need)
				size = need;
			n = xmalloc(size);
			if (live != 0)
				memcpy(n, p->in + p->in_off, live);
			free(p->in);
			p->in = n;
			p->in_size = size;
		}
		p->scan -= p->in_off;
		p->in_len = live;
		p->in_off = 0;
	}
	memcpy(p->in + p->in_len, data, len);
	p->in_len += len;
}

const char *
imap_parser_error(const struct imap_parser *p)
{
	return p->err[0] != '\0' ? p->err : "no error";
}

size_t
imap_parser_pending(const struct imap_parser *p)
{
	return p->in_len - p->in_off;
}

bool
imap_arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING ||
	    (a->type == IMAP_ARG_LITERAL && !a->streamed);
}

bool
imap_arg_eq(const struct imap_arg *a, const char *s)
{
	return imap_arg_is_string(a) && word_is(a->str, a->len, s);
}

int
imap_arg_number(const struct imap_arg *a, uint64_t max, uint64_t *out)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	return parse_u64(a->str, a->len, max, out);
}

const char *
imap_arg_cstr(const struct imap_arg *a)
{
	return imap_arg_is_string(a) ? a->str : NULL;
}
