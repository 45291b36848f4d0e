/*
 * libFuzzer target for the IMAP response parser.
 *
 * The first input byte picks the configuration (limits, a literal sink,
 * the streaming threshold, a failing sink); the rest is the server's byte
 * stream. It is parsed whole, then split at three positions derived from
 * the data, then (when short) one byte at a time. Every run must give the
 * same responses, the same sink data and the same error, every response
 * must satisfy the API's invariants, and the parser must never hold more
 * than line_max plus one chunk of input. Any difference aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-parser.h"
#include "fuzz.h"

struct sink_state {
	struct buf	 log;
	uint64_t	 size, got;
	bool		 open;
	uint64_t	 fail_after;	/* fail past this many bytes of a literal (0: never) */
};

static void	ser_args(struct buf *, const struct imap_arg *, size_t, unsigned);

/* Check an argument and write it; depth is bounded by the parser's depth_max. */
static void
ser_arg(struct buf *b, const struct imap_arg *a, unsigned depth)
{
	FUZZ_ASSERT(depth <= 64);
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_STRING:
		FUZZ_ASSERT(a->str != NULL && a->str[a->len] == '\0');
		FUZZ_ASSERT(!a->streamed);
		if (a->type == IMAP_ARG_ATOM)
			FUZZ_ASSERT(a->len > 0 && memchr(a->str, '\0', a->len) == NULL);
		buf_printf(b, "%c%zu:", a->type == IMAP_ARG_ATOM ? 'A' : 'S', a->len);
		buf_add(b, a->str, a->len);
		break;
	case IMAP_ARG_LITERAL:
		if (a->streamed) {
			FUZZ_ASSERT(a->str == NULL);
			buf_printf(b, "L~%zu", a->len);
			break;
		}
		FUZZ_ASSERT(a->str != NULL && a->str[a->len] == '\0');
		buf_printf(b, "L%zu:", a->len);
		buf_add(b, a->str, a->len);
		break;
	case IMAP_ARG_NIL:
		buf_adds(b, "NIL");
		break;
	case IMAP_ARG_LIST:
		FUZZ_ASSERT(a->count == 0 || a->list != NULL);
		buf_addc(b, '(');
		ser_args(b, a->list, a->count, depth + 1);
		buf_addc(b, ')');
		break;
	case IMAP_ARG_SKIPPED:
		/* One whole item, never below an outermost list's elements. */
		FUZZ_ASSERT(depth <= 1);
		FUZZ_ASSERT(a->str != NULL && strlen(a->str) == a->len);
		FUZZ_ASSERT(!a->streamed);
		buf_printf(b, "K%zu:", a->len);
		buf_add(b, a->str, a->len);
		break;
	default:
		FUZZ_ASSERT(!"bad arg type");
	}
	/* The helpers must agree with the type. */
	FUZZ_ASSERT(imap_arg_is_string(a) == (imap_arg_cstr(a) != NULL));
}

static void
ser_args(struct buf *b, const struct imap_arg *a, size_t n, unsigned depth)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		buf_addc(b, ' ');
		ser_arg(b, &a[i], depth);
	}
}

static void
ser_resp(struct buf *b, const struct imap_resp *r)
{
	FUZZ_ASSERT(r->code_raw != NULL && r->text != NULL);
	FUZZ_ASSERT((r->kind == IMAP_RESP_TAGGED) == (r->tag != NULL));
	FUZZ_ASSERT(r->nargs == 0 || r->args != NULL);
	FUZZ_ASSERT(r->code != NULL || (r->ncode_args == 0 && *r->code_raw == '\0'));
	if (r->status != IMAP_STATUS_NONE)
		FUZZ_ASSERT(r->nargs == 0 && r->name == NULL);
	if (r->kind == IMAP_RESP_TAGGED)
		FUZZ_ASSERT(r->status == IMAP_STATUS_OK || r->status == IMAP_STATUS_NO ||
		    r->status == IMAP_STATUS_BAD);
	buf_printf(b, "%d %s %d [%s|%s|", (int)r->kind, r->tag ? r->tag : "-",
	    (int)r->status, r->code ? r->code : "-", r->code_raw);
	ser_args(b, r->code_args, r->ncode_args, 0);
	buf_printf(b, "] %s|%d %u %s", r->text, r->has_number, r->number,
	    r->name ? r->name : "-");
	ser_args(b, r->args, r->nargs, 0);
	buf_addc(b, '\n');
}

static int
sk_begin(void *arg, const struct imap_resp *partial, const struct imap_arg *key,
    uint64_t size)
{
	struct sink_state	*s = arg;

	FUZZ_ASSERT(!s->open);
	s->open = true;
	s->size = size;
	s->got = 0;
	buf_adds(&s->log, "begin ");
	ser_resp(&s->log, partial);
	if (key != NULL) {
		FUZZ_ASSERT(key->type == IMAP_ARG_ATOM);
		buf_adds(&s->log, "key ");
		ser_arg(&s->log, key, 0);
	}
	buf_printf(&s->log, " size %llu\n", (unsigned long long)size);
	return 0;
}

static int
sk_data(void *arg, const char *data, size_t len)
{
	struct sink_state	*s = arg;

	FUZZ_ASSERT(s->open && len > 0 && s->got + len <= s->size);
	/* Fail at the same literal byte however the input was split. */
	if (s->fail_after != 0 && s->got + len > s->fail_after) {
		buf_add(&s->log, data, (size_t)(s->fail_after - s->got));
		buf_adds(&s->log, "\nfail\n");
		return -1;
	}
	s->got += len;
	buf_add(&s->log, data, len);
	return 0;
}

static int
sk_end(void *arg)
{
	struct sink_state	*s = arg;

	FUZZ_ASSERT(s->open && s->got == s->size);
	s->open = false;
	buf_adds(&s->log, "\nend\n");
	return 0;
}

static const struct imap_literal_sink sink_ops = { sk_begin, sk_data, sk_end };

struct config {
	struct imap_limits	lim;
	bool			sink;
	bool			set_min;
	uint64_t		stream_min;
	uint64_t		fail_after;
};

static void
config_from(uint8_t c, struct config *cf)
{
	memset(cf, 0, sizeof *cf);
	imap_limits_default(&cf->lim);
	switch (c & 3) {
	case 1:
		cf->lim.line_max = 300;
		cf->lim.depth_max = 5;
		cf->lim.args_max = 60;
		cf->lim.literal_mem_max = 40;
		cf->lim.literal_max = 2000;
		cf->lim.resp_mem_max = 6000;
		break;
	case 2:
		cf->lim.line_max = 40;
		cf->lim.depth_max = 2;
		cf->lim.args_max = 8;
		cf->lim.literal_mem_max = 4;
		cf->lim.literal_max = 100;
		cf->lim.resp_mem_max = 600;
		break;
	case 3:
		cf->lim.depth_max = 0;
		cf->lim.literal_mem_max = 0;
		break;
	}
	cf->sink = (c & 4) != 0;
	if (c & 8) {
		cf->set_min = true;
		cf->stream_min = (c >> 4) & 7;
	}
	if (c & 0x80)
		cf->fail_after = 1 + ((c >> 4) & 7) * 7;
}

/*
 * Parse data fed at the given cut points (cuts[0..ncuts), increasing) and
 * write everything observable into out.
 */
static void
parse(const struct config *cf, const uint8_t *data, size_t size,
    const size_t *cuts, size_t ncuts, struct buf *out)
{
	struct imap_parser	*p = imap_parser_new(&cf->lim);
	struct imap_resp	 r;
	struct sink_state	 ss;
	size_t			 k, from = 0, to, maxchunk = 0;
	int			 rc = IMAP_PARSE_MORE;

	memset(&ss, 0, sizeof ss);
	buf_init(&ss.log, 0);
	ss.fail_after = cf->fail_after;
	if (cf->sink)
		imap_parser_set_sink(p, &sink_ops, &ss);
	if (cf->set_min)
		imap_parser_set_stream_min(p, cf->stream_min);
	for (k = 0; k <= ncuts && rc != IMAP_PARSE_ERROR; k++) {
		to = k < ncuts ? cuts[k] : size;
		if (to < from)
			continue;
		imap_parser_feed(p, data + from, to - from);
		if (to - from > maxchunk)
			maxchunk = to - from;
		from = to;
		while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
			/* The sink log goes first: it describes this response. */
			buf_add(out, ss.log.data, ss.log.len);
			buf_reset(&ss.log);
			ser_resp(out, &r);
		}
		/* Drained: what is held is at most one partial line. */
		if (rc == IMAP_PARSE_MORE)
			FUZZ_ASSERT(imap_parser_pending(p) <= cf->lim.line_max);
	}
	buf_add(out, ss.log.data, ss.log.len);
	if (rc == IMAP_PARSE_ERROR) {
		const char *e = imap_parser_error(p);

		FUZZ_ASSERT(*e != '\0' && strchr(e, '\n') == NULL);
		buf_printf(out, "ERROR %s\n", e);
		FUZZ_ASSERT(imap_parser_next(p, &r) == IMAP_PARSE_ERROR);
		FUZZ_ASSERT(strcmp(e, imap_parser_error(p)) == 0);
	} else
		buf_printf(out, "MORE %zu\n", imap_parser_pending(p));
	buf_free(&ss.log);
	imap_parser_free(&p);
	FUZZ_ASSERT(p == NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cf;
	struct buf	 whole = BUF_INIT(0), split = BUF_INIT(0);
	size_t		 cuts[3], *bytes, i;
	uint32_t	 h = 2166136261u;

	if (size == 0)
		return 0;
	config_from(data[0], &cf);
	data++;
	size--;

	parse(&cf, data, size, NULL, 0, &whole);

	/* Three cut points from a hash of the data. */
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if (size > 0) {
		cuts[0] = h % (size + 1);
		cuts[1] = cuts[0] + (h >> 8) % (size - cuts[0] + 1);
		cuts[2] = cuts[1] + (h >> 16) % (size - cuts[1] + 1);
		parse(&cf, data, size, cuts, 3, &split);
		if (split.len != whole.len || memcmp(split.data, whole.data, whole.len) != 0) {
			fprintf(stderr, "split at %zu %zu %zu changed the result:\n"
			    "--- whole\n%s\n--- split\n%s\n", cuts[0], cuts[1], cuts[2],
			    buf_cstr(&whole), buf_cstr(&split));
			abort();
		}
	}
	/* Byte by byte for short inputs. */
	if (size > 0 && size <= 2048) {
		bytes = malloc(size * sizeof *bytes);
		FUZZ_ASSERT(bytes != NULL);
		for (i = 0; i < size; i++)
			bytes[i] = i + 1;
		buf_reset(&split);
		parse(&cf, data, size, bytes, size, &split);
		free(bytes);
		if (split.len != whole.len || memcmp(split.data, whole.data, whole.len) != 0) {
			fprintf(stderr, "byte by byte changed the result:\n"
			    "--- whole\n%s\n--- bytes\n%s\n", buf_cstr(&whole),
			    buf_cstr(&split));
			abort();
		}
	}
	buf_free(&whole);
	buf_free(&split);
	return 0;
}
