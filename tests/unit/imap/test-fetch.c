/*
 * Unit tests of FETCH decoding (src/imap/fetch.c): a FETCH item the parser
 * skipped (over a limit) is left out, the message keeps everything else,
 * and a warning names the message and the item.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-parser.h"
#include "imap-private.h"
#include "log.h"
#include "msgflags.h"
#include "test.h"
#include "util.h"

static struct buf	logged = BUF_INIT(0);

static void
capture(void *arg, enum log_level level, const char *line)
{
	(void)arg;
	if (level >= LOG_WARN) {
		buf_adds(&logged, line);
		buf_addc(&logged, '\n');
	}
}

/* Parse in (one FETCH and nothing else) and decode it into m; 0 or -1. */
static int
decode(struct imap_parser *p, const char *in, size_t len, struct imap_msg *m,
    struct buf *scratch, struct error *err)
{
	struct imap_resp	r;

	imap_parser_feed(p, in, len);
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_STR(r.name, "FETCH");
	return imap_fetch_decode(&r, m, scratch, err);
}

/* A 100-deep BODYSTRUCTURE before FLAGS and UID: stored without it. */
static void
test_deep_bodystructure(void)
{
	struct imap_parser	*p = imap_parser_new(NULL);
	struct buf		 in = BUF_INIT(0), scratch = BUF_INIT(0);
	struct imap_msg		 m;
	struct error		 err;
	size_t			 i;

	buf_reset(&logged);
	buf_adds(&in, "* 5 FETCH (BODYSTRUCTURE ");
	for (i = 0; i < 100; i++)
		buf_adds(&in, "(\"TEXT\" ");
	for (i = 0; i < 100; i++)
		buf_addc(&in, ')');
	buf_adds(&in, " FLAGS (\\Seen \\Flagged $Work) UID 42 RFC822.SIZE 1234)\r\n");
	T_EQ_INT(decode(p, in.data, in.len, &m, &scratch, &err), 0);
	T_EQ_INT(m.seq, 5);
	T_EQ_INT(m.uid, 42);
	T_ASSERT(m.has_flags);
	T_EQ_INT(m.flags, MSG_SEEN | MSG_FLAGGED);
	T_EQ_STR(m.keywords, "$Work");
	T_EQ_INT(m.size, 1234);
	T_ASSERT(m.bodystructure == NULL);
	T_ASSERT(strstr(buf_cstr(&logged), "UID 42") != NULL);
	T_ASSERT(strstr(buf_cstr(&logged), "BODYSTRUCTURE") != NULL);
	T_ASSERT(strstr(buf_cstr(&logged), "lists nested deeper than 64") != NULL);
	T_EQ_INT(imap_parser_pending(p), 0);

	/* The next response decodes normally, BODYSTRUCTURE and all. */
	buf_reset(&logged);
	buf_reset(&in);
	buf_adds(&in, "* 6 FETCH (UID 43 BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL "
	    "NIL NIL \"7BIT\" 3 1) FLAGS ())\r\n");
	T_EQ_INT(decode(p, in.data, in.len, &m, &scratch, &err), 0);
	T_EQ_INT(m.uid, 43);
	T_ASSERT(m.has_flags && m.flags == 0);
	T_EQ_STR(m.bodystructure, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1)");
	T_EQ_STR(buf_cstr(&logged), "");
	buf_free(&in);
	buf_free(&scratch);
	imap_parser_free(&p);
}

/* An oversized header literal and an oversized quoted ENVELOPE string. */
static void
test_oversized(void)
{
	struct imap_limits	 lim;
	struct imap_parser	*p;
	struct buf		 scratch = BUF_INIT(0);
	struct imap_msg		 m;
	struct error		 err;
	static const char	 in[] = "* 7 FETCH (UID 9 ENVELOPE (NIL "
	    "\"a subject longer than 16\" NIL) BODY[HEADER.FIELDS (SUBJECT)] "
	    "{20}\r\nSubject: very long\r\n FLAGS (\\Answered))\r\n";
	static const char	 next[] = "* 8 FETCH (UID 10 BODY[HEADER] {4}\r\nS: x)\r\n";

	imap_limits_default(&lim);
	lim.literal_mem_max = 16;
	p = imap_parser_new(&lim);
	buf_reset(&logged);
	T_EQ_INT(decode(p, in, sizeof in - 1, &m, &scratch, &err), 0);
	T_EQ_INT(m.uid, 9);
	T_EQ_INT(m.flags, MSG_ANSWERED);
	T_ASSERT(m.header == NULL && m.header_len == 0);
	T_ASSERT(strstr(buf_cstr(&logged), "FETCH item ENVELOPE skipped "
	    "(quoted string over 16 bytes)") != NULL);
	T_ASSERT(strstr(buf_cstr(&logged), "FETCH item BODY[HEADER.FIELDS (SUBJECT)] "
	    "skipped (literal over 16 bytes)") != NULL);
	/* Under the limit the header is kept. */
	buf_reset(&logged);
	T_EQ_INT(decode(p, next, sizeof next - 1, &m, &scratch, &err), 0);
	T_EQ_INT(m.uid, 10);
	T_EQ_MEM(m.header, m.header_len, "S: x", 4);
	T_EQ_STR(buf_cstr(&logged), "");
	buf_free(&scratch);
	imap_parser_free(&p);
}

static const struct test tests[] = {
	{ "deep_bodystructure", test_deep_bodystructure },
	{ "oversized", test_oversized },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	int	rv;

	log_set_callback(capture, NULL);
	rv = test_main(tests, argc, argv);
	buf_free(&logged);
	return rv;
}
