/*
 * Unit tests of the IMAP response parser: every server response shape of
 * RFC 3501 / RFC 9051 (and the extensions petrel uses), server quirks,
 * malformed input, limits and literal streaming. Every case is parsed three
 * ways: fed whole, fed one byte at a time (expecting MORE until the last byte
 * of each response) and fed in pseudo-random chunks; all must give the same
 * responses, or the same error.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap-parser.h"
#include "test.h"
#include "xmalloc.h"

/*
 * Canonical text of a response, to compare trees in one string:
 *   "* #5 FETCH (UID 9 FLAGS (\Seen) BODY[] {3:abc})"
 *   "T=A1 OK [UIDNEXT|9|9] \"done\""
 * ATOM as is, STRING in double quotes with \" \\ and \xHH escapes, NIL as
 * NIL, LITERAL as {len:bytes}, streamed LITERAL as {~len}, LIST in parens,
 * SKIPPED as <skipped: why>.
 */
static void ser_args(struct buf *, const struct imap_arg *, size_t);

static void
ser_bytes(struct buf *b, const char *s, size_t len, bool quoted)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (quoted && (c == '"' || c == '\\'))
			buf_printf(b, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_addc(b, (char)c);
	}
}

static void
ser_arg(struct buf *b, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
		ser_bytes(b, a->str, a->len, false);
		break;
	case IMAP_ARG_STRING:
		buf_addc(b, '"');
		ser_bytes(b, a->str, a->len, true);
		buf_addc(b, '"');
		break;
	case IMAP_ARG_LITERAL:
		if (a->streamed) {
			buf_printf(b, "{~%zu}", a->len);
			break;
		}
		buf_printf(b, "{%zu:", a->len);
		ser_bytes(b, a->str, a->len, true);
		buf_addc(b, '}');
		break;
	case IMAP_ARG_NIL:
		buf_adds(b, "NIL");
		break;
	case IMAP_ARG_LIST:
		buf_addc(b, '(');
		ser_args(b, a->list, a->count);
		buf_addc(b, ')');
		break;
	case IMAP_ARG_SKIPPED:
		T_ASSERT(a->str != NULL && strlen(a->str) == a->len);
		T_ASSERT(!imap_arg_is_string(a) && imap_arg_cstr(a) == NULL);
		buf_printf(b, "<skipped: %s>", a->str);
		break;
	}
}

static void
ser_args(struct buf *b, const struct imap_arg *a, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(b, ' ');
		ser_arg(b, &a[i]);
	}
}

static const char *const status_names[] = {
	"", "OK", "NO", "BAD", "BYE", "PREAUTH",
};

static void
ser_resp(struct buf *b, const struct imap_resp *r)
{
	switch (r->kind) {
	case IMAP_RESP_UNTAGGED:
		buf_adds(b, "*");
		break;
	case IMAP_RESP_TAGGED:
		buf_printf(b, "T=%s", r->tag);
		break;
	case IMAP_RESP_CONTINUE:
		buf_adds(b, "+");
		break;
	}
	if (r->status != IMAP_STATUS_NONE)
		buf_printf(b, " %s", status_names[r->status]);
	if (r->code != NULL) {
		buf_printf(b, " [%s|", r->code);
		ser_bytes(b, r->code_raw, strlen(r->code_raw), false);
		buf_addc(b, '|');
		ser_args(b, r->code_args, r->ncode_args);
		buf_addc(b, ']');
	}
	if (r->status != IMAP_STATUS_NONE || r->kind == IMAP_RESP_CONTINUE) {
		buf_adds(b, " \"");
		ser_bytes(b, r->text, strlen(r->text), true);
		buf_addc(b, '"');
	}
	if (r->has_number)
		buf_printf(b, " #%u", r->number);
	if (r->name != NULL)
		buf_printf(b, " %s", r->name);
	if (r->nargs > 0) {
		buf_addc(b, ' ');
		ser_args(b, r->args, r->nargs);
	}
}

/* Invariants every response must satisfy. */
static void
check_resp(const struct imap_resp *r)
{
	T_ASSERT(r->code_raw != NULL);
	T_ASSERT(r->text != NULL);
	T_ASSERT((r->kind == IMAP_RESP_TAGGED) == (r->tag != NULL));
	T_ASSERT(r->code != NULL || r->ncode_args == 0);
	T_ASSERT(r->nargs == 0 || r->args != NULL);
	if (r->status != IMAP_STATUS_NONE)
		T_ASSERT(r->nargs == 0 && r->name == NULL);
}

/* A sink that records what it was given. */
struct rec_sink {
	struct buf	 log;		/* begin/end events */
	struct buf	 data;
	int		 fail_at;	/* 1 begin, 2 data, 3 end */
	uint64_t	 chunks;
};

static int
rec_begin(void *arg, const struct imap_resp *partial, const struct imap_arg *key,
    uint64_t size)
{
	struct rec_sink	*s = arg;

	buf_adds(&s->log, "begin<");
	ser_resp(&s->log, partial);
	buf_adds(&s->log, "> key=");
	if (key != NULL)
		ser_arg(&s->log, key);
	else
		buf_adds(&s->log, "-");
	buf_printf(&s->log, " size=%llu;", (unsigned long long)size);
	return s->fail_at == 1 ? -1 : 0;
}

static int
rec_data(void *arg, const char *data, size_t len)
{
	struct rec_sink	*s = arg;

	T_ASSERT(len > 0);
	buf_add(&s->data, data, len);
	s->chunks++;
	return s->fail_at == 2 ? -1 : 0;
}

static int
rec_end(void *arg)
{
	struct rec_sink	*s = arg;

	buf_printf(&s->log, "end(%zu);", s->data.len);
	return s->fail_at == 3 ? -1 : 0;
}

static const struct imap_literal_sink rec_sink_ops = { rec_begin, rec_data, rec_end };

struct opts {
	const struct imap_limits *lim;
	bool		 sink;
	bool		 set_min;
	uint64_t	 stream_min;
	int		 fail_at;
};

struct outcome {
	struct buf	 out;		/* responses, one per line, then "ERR: ..." */
	struct buf	 sink;		/* sink log and data */
	int		 last;		/* last result */
};

/*
 * Parse input fed in chunks of the given sizes (0: whole; 1: byte by byte;
 * otherwise a seed for pseudo-random sizes). With bytewise, also check that
 * every response comes out exactly when its last byte (a LF) is fed.
 */
static void
run(const char *in, size_t len, const struct opts *o, unsigned mode,
    struct outcome *res)
{
	struct imap_parser	*p;
	struct imap_resp	 r;
	struct rec_sink		 rs;
	size_t			 off = 0, n;
	uint32_t		 seed = mode * 2654435761u + 1;
	int			 rc = IMAP_PARSE_MORE;

	memset(res, 0, sizeof *res);
	buf_init(&res->out, 0);
	buf_init(&res->sink, 0);
	memset(&rs, 0, sizeof rs);
	buf_init(&rs.log, 0);
	buf_init(&rs.data, 0);
	rs.fail_at = o->fail_at;
	p = imap_parser_new(o->lim);
	if (o->sink)
		imap_parser_set_sink(p, &rec_sink_ops, &rs);
	if (o->set_min)
		imap_parser_set_stream_min(p, o->stream_min);
	while (off < len && rc != IMAP_PARSE_ERROR) {
		if (mode == 0)
			n = len;
		else if (mode == 1)
			n = 1;
		else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 23;
		}
		if (n > len - off)
			n = len - off;
		imap_parser_feed(p, in + off, n);
		off += n;
		while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
			check_resp(&r);
			ser_resp(&res->out, &r);
			buf_addc(&res->out, '\n');
			if (mode == 1)
				T_ASSERT(in[off - 1] == '\n');
		}
	}
	if (rc == IMAP_PARSE_ERROR) {
		buf_printf(&res->out, "ERR: %s", imap_parser_error(p));
		/* The error is sticky. */
		T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_ERROR);
	}
	res->last = rc;
	buf_add(&res->sink, rs.log.data, rs.log.len);
	buf_adds(&res->sink, "data=");
	buf_add(&res->sink, rs.data.data, rs.data.len);
	buf_free(&rs.log);
	buf_free(&rs.data);
	imap_parser_free(&p);
	T_ASSERT(p == NULL);
}

static void
outcome_free(struct outcome *o)
{
	buf_free(&o->out);
	buf_free(&o->sink);
}

/* Parse whole, byte by byte and in random chunks; all three must agree. */
static void
check_opts_at(const char *file, int line, const char *in, size_t len,
    const struct opts *o, const char *expect, const char *expect_sink)
{
	struct outcome	whole, bytes, chunks;
	char		e1[512], e2[512];

	run(in, len, o, 0, &whole);
	run(in, len, o, 1, &bytes);
	run(in, len, o, 7, &chunks);
	if (strcmp(buf_cstr(&whole.out), expect) != 0)
		test_fail(file, line, "whole: got\n%s\nexpected\n%s",
		    buf_cstr(&whole.out), expect);
	if (strcmp(buf_cstr(&bytes.out), expect) != 0)
		test_fail(file, line, "byte by byte: got\n%s\nexpected\n%s",
		    buf_cstr(&bytes.out), expect);
	if (strcmp(buf_cstr(&chunks.out), expect) != 0)
		test_fail(file, line, "chunks: got\n%s\nexpected\n%s",
		    buf_cstr(&chunks.out), expect);
	if (expect_sink != NULL &&
	    (whole.sink.len != bytes.sink.len || memcmp(whole.sink.data,
	    bytes.sink.data, whole.sink.len) != 0 || chunks.sink.len !=
	    whole.sink.len || memcmp(whole.sink.data, chunks.sink.data,
	    whole.sink.len) != 0 || strcmp(buf_cstr(&whole.sink), expect_sink) != 0))
		test_fail(file, line, "sink: whole %s, bytes %s, expected %s",
		    test_escape(whole.sink.data, whole.sink.len, e1, sizeof e1),
		    test_escape(bytes.sink.data, bytes.sink.len, e2, sizeof e2),
		    expect_sink);
	if (strncmp(expect, "ERR", 3) != 0 && strstr(expect, "\nERR") == NULL)
		T_EQ_INT(whole.last, IMAP_PARSE_MORE);
	outcome_free(&whole);
	outcome_free(&bytes);
	outcome_free(&chunks);
}

static const struct opts default_opts;

#define CHECK(in, expect) \
	check_opts_at(__FILE__, __LINE__, in, sizeof(in) - 1, &default_opts, expect "\n", NULL)
#define CHECK_ERR(in, expect) \
	check_opts_at(__FILE__, __LINE__, in, sizeof(in) - 1, &default_opts, "ERR: " expect, NULL)
#define CHECK_OPTS(in, o, expect, sink) \
	check_opts_at(__FILE__, __LINE__, in, sizeof(in) - 1, o, expect, sink)

/* Greetings: OK with CAPABILITY code, PREAUTH, BYE. */
static void
test_greeting(void)
{
	CHECK("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
	    "LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n",
	    "* OK [CAPABILITY|IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
	    "LITERAL+ STARTTLS AUTH=PLAIN|IMAP4rev1 SASL-IR LOGIN-REFERRALS ID "
	    "ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] \"Dovecot ready.\"");
	CHECK("* OK IMAP4rev2 server ready\r\n", "* OK \"IMAP4rev2 server ready\"");
	CHECK("* PREAUTH [CAPABILITY IMAP4rev2] Logged in as Smith\r\n",
	    "* PREAUTH [CAPABILITY|IMAP4rev2|IMAP4rev2] \"Logged in as Smith\"");
	CHECK("* BYE Autologout; idle for too long\r\n",
	    "* BYE \"Autologout; idle for too long\"");
	CHECK("* BYE [UNAVAILABLE] Server restarting\r\n",
	    "* BYE [UNAVAILABLE||] \"Server restarting\"");
	/* Status words in any case. */
	CHECK("* ok hi\r\n* Bye x\r\n* preauth\r\n",
	    "* OK \"hi\"\n* BYE \"x\"\n* PREAUTH \"\"");
}

static void
test_capability(void)
{
	CHECK("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
	    "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED");
	CHECK("* CAPABILITY IMAP4rev2 IMAP4rev1 UTF8=ACCEPT APPENDLIMIT=35882577 "
	    "X-GM-EXT-1 COMPRESS=DEFLATE\r\n",
	    "* CAPABILITY IMAP4rev2 IMAP4rev1 UTF8=ACCEPT APPENDLIMIT=35882577 "
	    "X-GM-EXT-1 COMPRESS=DEFLATE");
	CHECK("* capability imap4rev1\r\n", "* capability imap4rev1");
}

/* LIST/LSUB: attributes, NIL and quoted delimiters, extended data, literals. */
static void
test_list(void)
{
	CHECK("* LIST (\\Noselect) \"/\" ~/Mail/foo\r\n",
	    "* LIST (\\Noselect) \"/\" ~/Mail/foo");
	CHECK("* LIST (\\Noselect) NIL \"\"\r\n", "* LIST (\\Noselect) NIL \"\"");
	CHECK("* LIST () \".\" INBOX\r\n", "* LIST () \".\" INBOX");
	CHECK("* LIST (\\HasNoChildren \\Sent) \".\" \"Sent Items\"\r\n",
	    "* LIST (\\HasNoChildren \\Sent) \".\" \"Sent Items\"");
	CHECK("* LIST (\\Marked \\NoInferiors) \"\\\\\" INBOX\r\n",
	    "* LIST (\\Marked \\NoInferiors) \"\\\\\" INBOX");
	CHECK("* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit/Peach\" "
	    "(\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n",
	    "* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit/Peach\" "
	    "(\"CHILDINFO\" (\"SUBSCRIBED\"))");
	CHECK("* LIST () \"/\" \"New\" (\"OLDNAME\" (\"Old\"))\r\n",
	    "* LIST () \"/\" \"New\" (\"OLDNAME\" (\"Old\"))");
	CHECK("* LIST (\\HasChildren \\Drafts) \"/\" \"Entw\xc3\xbcrfe\"\r\n",
	    "* LIST (\\HasChildren \\Drafts) \"/\" \"Entw\\xc3\\xbcrfe\"");
	CHECK("* LIST () \"/\" &AMQ-pfel\r\n", "* LIST () \"/\" &AMQ-pfel");
	/* A mailbox name sent as a literal (it contains CRLF). */
	CHECK("* LIST () \"/\" {8}\r\nfoo\r\nbar\r\n",
	    "* LIST () \"/\" {8:foo\\x0d\\x0abar}");
	/* A mailbox with ']' is a valid astring. */
	CHECK("* LIST () \"/\" foo]bar\r\n", "* LIST () \"/\" foo]bar");
	CHECK("* LSUB () \".\" #news.comp.mail.misc\r\n",
	    "* LSUB () \".\" #news.comp.mail.misc");
	CHECK("* LSUB (\\NoSelect) \"/\" Archive\r\n",
	    "* LSUB (\\NoSelect) \"/\" Archive");
	/* The mailbox "NIL" as an atom: a NIL arg whose text is still "NIL". */
	CHECK("* LIST () \"/\" NIL\r\n", "* LIST () \"/\" NIL");
}

static void
test_status_search(void)
{
	CHECK("* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
	    "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)");
	CHECK("* STATUS \"Sent Items\" (MESSAGES 2 UNSEEN 0 UIDVALIDITY 1 "
	    "HIGHESTMODSEQ 7 SIZE 4000 DELETED 0 APPENDLIMIT NIL)\r\n",
	    "* STATUS \"Sent Items\" (MESSAGES 2 UNSEEN 0 UIDVALIDITY 1 "
	    "HIGHESTMODSEQ 7 SIZE 4000 DELETED 0 APPENDLIMIT NIL)");
	CHECK("* STATUS {5}\r\nINBOX (MESSAGES 1)\r\n",
	    "* STATUS {5:INBOX} (MESSAGES 1)");
	CHECK("* SEARCH 2 3 6\r\n", "* SEARCH 2 3 6");
	CHECK("* SEARCH\r\n", "* SEARCH");
	CHECK("* SEARCH \r\n", "* SEARCH");
	CHECK("* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n",
	    "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)");
	CHECK("* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
	    "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3");
	CHECK("* ESEARCH (TAG \"A283\") UID ALL 1:3,5,8:12\r\n",
	    "* ESEARCH (TAG \"A283\") UID ALL 1:3,5,8:12");
	CHECK("* ESEARCH (TAG \"A284\")\r\n", "* ESEARCH (TAG \"A284\")");
	CHECK("* ESEARCH UID COUNT 0\r\n", "* ESEARCH UID COUNT 0");
	CHECK("* ESEARCH (TAG \"A1\") UID MODSEQ 917162500 ALL 1:*\r\n",
	    "* ESEARCH (TAG \"A1\") UID MODSEQ 917162500 ALL 1:*");
}

static void
test_mailbox_data(void)
{
	CHECK("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
	    "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
	CHECK("* FLAGS ()\r\n", "* FLAGS ()");
	CHECK("* FLAGS (\\Seen $Forwarded $Label1 Junk NonJunk)\r\n",
	    "* FLAGS (\\Seen $Forwarded $Label1 Junk NonJunk)");
	CHECK("* 23 EXISTS\r\n", "* #23 EXISTS");
	CHECK("* 0 EXISTS\r\n", "* #0 EXISTS");
	CHECK("* 4294967295 EXISTS\r\n", "* #4294967295 EXISTS");
	CHECK("* 5 RECENT\r\n", "* #5 RECENT");
	CHECK("* 44 EXPUNGE\r\n", "* #44 EXPUNGE");
	CHECK("* 44 expunge\r\n", "* #44 expunge");
	CHECK("* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n",
	    "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540");
	CHECK("* VANISHED 405,407,410,425\r\n", "* VANISHED 405,407,410,425");
	CHECK("* ENABLED CONDSTORE QRESYNC\r\n", "* ENABLED CONDSTORE QRESYNC");
	CHECK("* ENABLED\r\n", "* ENABLED");
	CHECK("* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n",
	    "* ID (\"name\" \"Dovecot\" \"version\" NIL)");
	CHECK("* ID NIL\r\n", "* ID NIL");
	CHECK("* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\") "
	    "(\"#public/\" \"/\") (\"#news.\" \".\"))\r\n",
	    "* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\") "
	    "(\"#public/\" \"/\") (\"#news.\" \".\"))");
	CHECK("* NAMESPACE ((\"\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL\r\n",
	    "* NAMESPACE ((\"\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL");
	CHECK("* NAMESPACE NIL NIL NIL\r\n", "* NAMESPACE NIL NIL NIL");
	CHECK("* QUOTA \"\" (STORAGE 10 512)\r\n", "* QUOTA \"\" (STORAGE 10 512)");
	CHECK("* QUOTAROOT INBOX \"\"\r\n", "* QUOTAROOT INBOX \"\"");
	CHECK("* METADATA \"INBOX\" (/private/comment \"My comment\")\r\n",
	    "* METADATA \"INBOX\" (/private/comment \"My comment\")");
	CHECK("* SORT 2 84 882\r\n", "* SORT 2 84 882");
	CHECK("* THREAD (2)(3 6 (4 23)(44 7 96))\r\n",
	    "* THREAD (2) (3 6 (4 23) (44 7 96))");
}

/* FETCH: every item, including ENVELOPE and BODYSTRUCTURE with literals. */
static void
test_fetch(void)
{
	/* RFC 3501 section 8 example. */
	CHECK("* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
	    "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	    "\"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" "
	    "\"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" "
	    "\"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	    "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	    "\"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" "
	    "(\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
	    "* #12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
	    "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
	    "\"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" "
	    "\"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" "
	    "\"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\") "
	    "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	    "\"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" "
	    "(\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))");
	/* An envelope subject as a literal, with 8-bit and quoted specials. */
	CHECK("* 2 FETCH (UID 5 ENVELOPE (NIL {13}\r\nRe: \"x\" \xc3\xa9t\xc3\xa9 "
	    "((\"A \\\"B\\\"\" NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
	    "* #2 FETCH (UID 5 ENVELOPE (NIL {13:Re: \\\"x\\\" \\xc3\\xa9t\\xc3\\xa9} "
	    "((\"A \\\"B\\\"\" NIL \"a\" \"b.c\")) NIL NIL NIL NIL NIL NIL NIL))");
	/* Nested multipart BODYSTRUCTURE; body parts follow each other without a space. */
	CHECK("* 3 FETCH (UID 7 BODYSTRUCTURE (((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") "
	    "NIL NIL \"QUOTED-PRINTABLE\" 120 4 NIL NIL NIL NIL)(\"TEXT\" \"HTML\" "
	    "(\"CHARSET\" \"utf-8\") NIL NIL \"BASE64\" 800 11 NIL NIL NIL NIL) "
	    "\"ALTERNATIVE\" (\"BOUNDARY\" \"b2\") NIL NIL NIL)(\"APPLICATION\" \"PDF\" "
	    "(\"NAME\" {12}\r\nr\xc3\xa9sum\xc3\xa9.pdf) NIL NIL \"BASE64\" 40000 NIL "
	    "(\"ATTACHMENT\" (\"FILENAME\" \"x.pdf\")) NIL NIL) \"MIXED\" "
	    "(\"BOUNDARY\" \"b1\") NIL NIL NIL))\r\n",
	    "* #3 FETCH (UID 7 BODYSTRUCTURE (((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") "
	    "NIL NIL \"QUOTED-PRINTABLE\" 120 4 NIL NIL NIL NIL) (\"TEXT\" \"HTML\" "
	    "(\"CHARSET\" \"utf-8\") NIL NIL \"BASE64\" 800 11 NIL NIL NIL NIL) "
	    "\"ALTERNATIVE\" (\"BOUNDARY\" \"b2\") NIL NIL NIL) (\"APPLICATION\" \"PDF\" "
	    "(\"NAME\" {12:r\\xc3\\xa9sum\\xc3\\xa9.pdf}) NIL NIL \"BASE64\" 40000 NIL "
	    "(\"ATTACHMENT\" (\"FILENAME\" \"x.pdf\")) NIL NIL) \"MIXED\" "
	    "(\"BOUNDARY\" \"b1\") NIL NIL NIL))");
	/* message/rfc822 part with its envelope and body inside. */
	CHECK("* 4 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 300 "
	    "(NIL \"Inner\" ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12 NIL NIL NIL NIL))\r\n",
	    "* #4 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 300 "
	    "(NIL \"Inner\" ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL NIL) "
	    "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12 NIL NIL NIL NIL))");
	/* Sections with spaces and parens are one atom each. */
	CHECK("* 1 FETCH (UID 456 BODY[HEADER.FIELDS (FROM TO CC SUBJECT)] {9}\r\n"
	    "From: a\r\n BODY[1.2.MIME] \"x\" BODY[]<0> {3}\r\nabc BINARY[1] ~{2}\r\n\0\xff "
	    "BODY[HEADER.FIELDS.NOT (X-SPAM)] NIL BINARY.SIZE[1] 123 BODY[TEXT]<10> \"\")\r\n",
	    "* #1 FETCH (UID 456 BODY[HEADER.FIELDS (FROM TO CC SUBJECT)] "
	    "{9:From: a\\x0d\\x0a} BODY[1.2.MIME] \"x\" BODY[]<0> {3:abc} BINARY[1] "
	    "{2:\\x00\\xff} BODY[HEADER.FIELDS.NOT (X-SPAM)] NIL BINARY.SIZE[1] 123 "
	    "BODY[TEXT]<10> \"\")");
	CHECK("* 7 FETCH (UID 9 RFC822 {5}\r\nHello RFC822.HEADER {0}\r\n "
	    "RFC822.TEXT NIL MODSEQ (12345) X-GM-LABELS (\"\\\\Inbox\" Work) "
	    "EMAILID (M6d99ac3275bb4e) THREADID NIL PREVIEW \"hi\")\r\n",
	    "* #7 FETCH (UID 9 RFC822 {5:Hello} RFC822.HEADER {0:} RFC822.TEXT NIL "
	    "MODSEQ (12345) X-GM-LABELS (\"\\\\Inbox\" Work) EMAILID (M6d99ac3275bb4e) "
	    "THREADID NIL PREVIEW \"hi\")");
	/* The benchmark shape. */
	CHECK("* 123 FETCH (UID 456 FLAGS (\\Seen $Label1) INTERNALDATE "
	    "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 MODSEQ (12345) "
	    "BODY[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO "
	    "REFERENCES)] {20}\r\nSubject: hi\r\nTo: x\r\n)\r\n",
	    "* #123 FETCH (UID 456 FLAGS (\\Seen $Label1) INTERNALDATE "
	    "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 MODSEQ (12345) "
	    "BODY[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO "
	    "REFERENCES)] {20:Subject: hi\\x0d\\x0aTo: x\\x0d\\x0a})");
	CHECK("* 1 FETCH (FLAGS ())\r\n", "* #1 FETCH (FLAGS ())");
	CHECK("* 1 FETCH ()\r\n", "* #1 FETCH ()");
}

/* All kinds of response codes, tagged and untagged. */
static void
test_resp_codes(void)
{
	CHECK("* OK [ALERT] System shutdown in 10 minutes\r\n",
	    "* OK [ALERT||] \"System shutdown in 10 minutes\"");
	CHECK("A1 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n",
	    "T=A1 NO [BADCHARSET|(UTF-8 US-ASCII)|(UTF-8 US-ASCII)] \"charset\"");
	CHECK("A1 NO [BADCHARSET] x\r\n", "T=A1 NO [BADCHARSET||] \"x\"");
	CHECK("* BAD [PARSE] bad header\r\n", "* BAD [PARSE||] \"bad header\"");
	CHECK("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
	    "* OK [PERMANENTFLAGS|(\\Deleted \\Seen \\*)|(\\Deleted \\Seen \\*)] "
	    "\"Limited\"");
	CHECK("* OK [PERMANENTFLAGS ()] No permanent flags\r\n",
	    "* OK [PERMANENTFLAGS|()|()] \"No permanent flags\"");
	CHECK("A142 OK [READ-WRITE] SELECT completed\r\n",
	    "T=A142 OK [READ-WRITE||] \"SELECT completed\"");
	CHECK("A2 OK [READ-ONLY] EXAMINE completed\r\n",
	    "T=A2 OK [READ-ONLY||] \"EXAMINE completed\"");
	CHECK("A3 NO [TRYCREATE] No such mailbox\r\n",
	    "T=A3 NO [TRYCREATE||] \"No such mailbox\"");
	CHECK("* OK [UIDNEXT 4392] Predicted next UID\r\n",
	    "* OK [UIDNEXT|4392|4392] \"Predicted next UID\"");
	CHECK("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
	    "* OK [UIDVALIDITY|3857529045|3857529045] \"UIDs valid\"");
	CHECK("* OK [UNSEEN 12] Message 12 is first unseen\r\n",
	    "* OK [UNSEEN|12|12] \"Message 12 is first unseen\"");
	CHECK("A003 OK [APPENDUID 38505 3955] APPEND completed\r\n",
	    "T=A003 OK [APPENDUID|38505 3955|38505 3955] \"APPEND completed\"");
	CHECK("A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n",
	    "T=A004 OK [COPYUID|38505 304,319:320 3956:3958|38505 304,319:320 "
	    "3956:3958] \"Done\"");
	CHECK("A5 OK [COPYUID 1 2:3 4:5] Moved\r\n",
	    "T=A5 OK [COPYUID|1 2:3 4:5|1 2:3 4:5] \"Moved\"");
	CHECK("* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
	    "* OK [HIGHESTMODSEQ|715194045007|715194045007] \"Highest\"");
	CHECK("* OK [NOMODSEQ] Sorry\r\n", "* OK [NOMODSEQ||] \"Sorry\"");
	CHECK("A6 OK [MODIFIED 7,9] Conditional STORE failed\r\n",
	    "T=A6 OK [MODIFIED|7,9|7,9] \"Conditional STORE failed\"");
	CHECK("* OK [CLOSED] Previous mailbox closed\r\n",
	    "* OK [CLOSED||] \"Previous mailbox closed\"");
	CHECK("A7 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n",
	    "T=A7 NO [AUTHENTICATIONFAILED||] \"Authentication failed.\"");
	CHECK("A8 NO [NONEXISTENT] Unknown Mailbox: x\r\n",
	    "T=A8 NO [NONEXISTENT||] \"Unknown Mailbox: x\"");
	CHECK("A9 NO [OVERQUOTA] Quota exceeded\r\n", "T=A9 NO [OVERQUOTA||] \"Quota exceeded\"");
	CHECK("A10 NO [LIMIT] Too many\r\n", "T=A10 NO [LIMIT||] \"Too many\"");
	CHECK("A11 NO [SERVERBUG] Oops\r\n", "T=A11 NO [SERVERBUG||] \"Oops\"");
	CHECK("* OK [METADATA LONGENTRIES 2199] entries\r\n",
	    "* OK [METADATA|LONGENTRIES 2199|LONGENTRIES 2199] \"entries\"");
	CHECK("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN]\r\n",
	    "* OK [CAPABILITY|IMAP4rev1 AUTH=PLAIN|IMAP4rev1 AUTH=PLAIN] \"\"");
	CHECK("A12 OK [READ-WRITE]\r\n", "T=A12 OK [READ-WRITE||] \"\"");
	CHECK("A12 OK [READ-WRITE] \r\n", "T=A12 OK [READ-WRITE||] \"\"");
	/* Unknown codes with text that does not parse keep code_raw, no args. */
	CHECK("A13 NO [REFERRAL imap://u@h/] go there\r\n",
	    "T=A13 NO [REFERRAL|imap://u@h/|imap://u@h/] \"go there\"");
	CHECK("* NO [X-ODD (unbalanced] x\r\n", "* NO [X-ODD|(unbalanced|] \"x\"");
	CHECK("* NO [X-ODD a)b] x\r\n", "* NO [X-ODD|a)b|] \"x\"");
	CHECK("* NO [X-LIT {3}] x\r\n", "* NO [X-LIT|{3}|] \"x\"");
	/* A quoted ']' does not end the code. */
	CHECK("* OK [X-Q \"a]b\" c] text\r\n",
	    "* OK [X-Q|\"a]b\" c|\"a]b\" c] \"text\"");
	/* An odd quote: the first ']' ends it. */
	CHECK("* OK [X-Q \"a] text\r\n", "* OK [X-Q|\"a|] \"text\"");
	/* Not a code: kept verbatim as text. */
	CHECK("* OK [ALERT\r\n", "* OK \"[ALERT\"");
	CHECK("* OK [] x\r\n", "* OK \"[] x\"");
	CHECK("* OK [ x] y\r\n", "* OK \"[ x] y\"");
	/* Text after the code keeps everything, including brackets and quotes. */
	CHECK("A14 OK [ALERT] a (b \"c [d] {5}\r\n",
	    "T=A14 OK [ALERT||] \"a (b \\\"c [d] {5}\"");
	CHECK("* OK[ALERT]hi\r\n", "* OK [ALERT||] \"hi\"");
}

static void
test_tagged(void)
{
	CHECK("A001 OK LOGIN completed\r\n", "T=A001 OK \"LOGIN completed\"");
	CHECK("a002 no No such mailbox\r\n", "T=a002 NO \"No such mailbox\"");
	CHECK("A003 BAD Command unknown or arguments invalid\r\n",
	    "T=A003 BAD \"Command unknown or arguments invalid\"");
	CHECK("A1 OK\r\n", "T=A1 OK \"\"");
	CHECK("A1 OK \r\n", "T=A1 OK \"\"");
	CHECK("x.y-z]1 OK done \r\n", "T=x.y-z]1 OK \"done \"");
	CHECK("A1 OK text with\ttab and \xc3\xa9\r\n",
	    "T=A1 OK \"text with\\x09tab and \\xc3\\xa9\"");
}

static void
test_continuation(void)
{
	CHECK("+ idling\r\n", "+ \"idling\"");
	CHECK("+ eGVzdA==\r\n", "+ \"eGVzdA==\"");
	CHECK("+ \r\n", "+ \"\"");
	CHECK("+\r\n", "+ \"\"");
	CHECK("+\n", "+ \"\"");
	CHECK("+ Ready for literal data\r\n", "+ \"Ready for literal data\"");
	CHECK("+ [ALERT] go\r\n", "+ [ALERT||] \"go\"");
}

/* Server quirks that must parse. */
static void
test_quirks(void)
{
	CHECK("* OK\r\n", "* OK \"\"");
	CHECK("* OK \r\n", "* OK \"\"");
	CHECK("* OK hi\n* 1 EXISTS\n", "* OK \"hi\"\n* #1 EXISTS");
	CHECK("* SEARCH 1 2 \r\n", "* SEARCH 1 2");
	CHECK("* 1 FETCH (FLAGS(\\Seen)UID 4)\r\n", "* #1 FETCH (FLAGS (\\Seen) UID 4)");
	CHECK("* 1 FETCH(UID 4 )\r\n", "* #1 FETCH (UID 4)");
	CHECK("* 1 FETCH ( UID  4 )  \r\n", "* #1 FETCH (UID 4)");
	CHECK("* LIST ()\"/\" x\r\n", "* LIST () \"/\" x");
	CHECK("* 1 FETCH (BODY[] {5+}\r\nhello)\r\n", "* #1 FETCH (BODY[] {5:hello})");
	CHECK("* 1 FETCH (BINARY[] ~{3}\r\na\0b)\r\n", "* #1 FETCH (BINARY[] {3:a\\x00b})");
	/* Unknown escapes are kept; \" and \\ are unescaped. */
	CHECK("* LIST () \"/\" \"a\\\"b\\\\c\"\r\n", "* LIST () \"/\" \"a\\\"b\\\\c\"");
	CHECK("* LIST () \"/\" \"C:\\dir\"\r\n", "* LIST () \"/\" \"C:\\\\dir\"");
	/* 8-bit atoms (raw UTF-8 mailbox names). */
	CHECK("* LIST () \"/\" Entw\xc3\xbcrfe\r\n", "* LIST () \"/\" Entw\\xc3\\xbcrfe");
	/* '[' without ']' on the line is an ordinary atom byte. */
	CHECK("* LIST () \"/\" foo[bar\r\n", "* LIST () \"/\" foo[bar");
	CHECK("* LIST () \"/\" [[[\r\n", "* LIST () \"/\" [[[");
	/* Empty literal, literal with everything inside. */
	CHECK("* 1 FETCH (BODY[] {0}\r\n)\r\n", "* #1 FETCH (BODY[] {0:})");
	CHECK("* 1 FETCH (BODY[] {8}\r\n)\r\n* (\r\n)\r\n",
	    "* #1 FETCH (BODY[] {8:)\\x0d\\x0a* (\\x0d\\x0a})");
	/* A literal at the end of the top level; several in a row. */
	CHECK("* SEARCH CHARSET {3}\r\nabc\r\n", "* SEARCH CHARSET {3:abc}");
	CHECK("* X {1}\r\na {1}\r\nb ({1}\r\nc)\r\n", "* X {1:a} {1:b} ({1:c})");
	/* Several responses in one input. */
	CHECK("* 1 EXISTS\r\n* 2 EXISTS\r\nA1 OK done\r\n",
	    "* #1 EXISTS\n* #2 EXISTS\nT=A1 OK \"done\"");
}

/* Garbage: each is one clear error, with the same message however split. */
static void
test_malformed(void)
{
	CHECK_ERR("(foo\r\n", "bad byte 0x28 in tag");
	CHECK_ERR("A\"1 OK x\r\n", "bad byte 0x22 in tag");
	CHECK_ERR("A+1 OK x\r\n", "bad byte 0x2b in tag");
	CHECK_ERR("A1 FOO bar\r\n", "tagged response is not OK, NO or BAD");
	CHECK_ERR("A1 BYE bar\r\n", "tagged response is not OK, NO or BAD");
	CHECK_ERR("A1 OKAY\r\n", "tagged response is not OK, NO or BAD");
	CHECK_ERR("A1\r\n", "tagged response without status");
	CHECK_ERR(" A1 OK\r\n", "empty tag");
	CHECK_ERR("\r\n", "empty response line");
	CHECK_ERR("*\r\n", "missing space after '*'");
	CHECK_ERR("*OK\r\n", "missing space after '*'");
	CHECK_ERR("* \r\n", "missing response name");
	CHECK_ERR("* (x)\r\n", "bad response name (byte 0x28)");
	CHECK_ERR("* 1FETCH\r\n", "missing space after message number");
	CHECK_ERR("* 4294967296 EXISTS\r\n", "bad number in untagged response");
	CHECK_ERR("* 99999999999999999999999 EXISTS\r\n", "bad number in untagged response");
	CHECK_ERR("* FOO\"x\"\r\n", "bad byte 0x22 after response name");
	CHECK_ERR("* 1 FETCH (UID 1))\r\n", "unbalanced ')'");
	CHECK_ERR("* SEARCH )\r\n", "unbalanced ')'");
	CHECK_ERR("* 1 FETCH (UID 1\r\n", "unterminated list (missing ')')");
	CHECK_ERR("* 1 FETCH (UID (1 (2)\r\n", "unterminated list (missing ')')");
	CHECK_ERR("* SEARCH a\0b\r\n", "NUL byte in atom");
	CHECK_ERR("* SEARCH \0\r\n", "NUL byte outside literal");
	CHECK_ERR("* SEARCH a\x01\r\n", "control byte 0x01 in atom");
	CHECK_ERR("* SEARCH \x1b[31m\r\n", "unexpected byte 0x1b");
	CHECK_ERR("* 1 FETCH (BODY[\x01] x)\r\n", "control byte 0x01 in atom");
	CHECK_ERR("* 1 FETCH (FLAGS (\\Seen) ])\r\n", "unexpected ']'");
	CHECK_ERR("* 1 FETCH (BODY[] {99999999999999999999999}\r\n", "literal size overflows");
	CHECK_ERR("* 1 FETCH (BODY[] {4294967296}\r\n",
	    "literal too big (4294967296 bytes, over 2147483648)");
	CHECK_ERR("* 1 FETCH (BODY[] {18446744073709551615}\r\n",
	    "literal too big (18446744073709551615 bytes, over 2147483648)");
	CHECK_ERR("* 1 FETCH (BODY[] {18446744073709551616}\r\n", "literal size overflows");
	CHECK_ERR("* 1 FETCH (BODY[] {12a}\r\n", "bad literal size");
	CHECK_ERR("* 1 FETCH (BODY[] {}\r\n", "bad literal size");
	CHECK_ERR("* 1 FETCH (BODY[] {-1}\r\n", "bad literal size");
	CHECK_ERR("* 1 FETCH (BODY[] { 1}\r\n", "bad literal size");
	CHECK_ERR("* 1 FETCH (BODY[] {12\r\n", "bad literal size");
	CHECK_ERR("* 1 FETCH (BODY[] {5} x\r\n", "literal size not followed by end of line");
	CHECK_ERR("* 1 FETCH (BODY[] {5}}\r\n", "literal size not followed by end of line");
	CHECK_ERR("* LIST () \"/\" \"foo\r\n", "unterminated quoted string");
	CHECK_ERR("* LIST () \"/\" \"foo\\\"\r\n", "unterminated quoted string");
	CHECK_ERR("* LIST () \"/\" \"foo\\\r\n", "unterminated quoted string");
	CHECK_ERR("* LIST () \"/\" \"f\0o\"\r\n", "NUL byte in quoted string");
	CHECK_ERR("* LIST () \"/\" \"f\\\"\0o\"\r\n", "NUL byte in quoted string");
	CHECK_ERR("* SEARCH \"a\"b\r\n", "missing space between arguments");
	CHECK_ERR("* SEARCH a\"b\"\r\n", "missing space between arguments");
	CHECK_ERR("* SEARCH a{3}\r\n", "missing space between arguments");
	CHECK_ERR("* 1 FETCH (BODY[] {3}\r\nabcUID 1)\r\n", "missing space between arguments");
	CHECK_ERR("* OK foo\rbar\r\n", "CR not followed by LF");
	CHECK_ERR("* SEARCH 1\r2\r\n", "CR not followed by LF");
	CHECK_ERR("* OK foo\0bar\r\n", "NUL byte in response text");
	CHECK_ERR("A1 OK(x)\r\n", "bad byte 0x28 after status");
	/* Responses before the garbage still come out. */
	CHECK_OPTS("* 1 EXISTS\r\n* )\r\n", &default_opts,
	    "* #1 EXISTS\nERR: bad response name (byte 0x29)", NULL);
}

/* Byte-by-byte through every shape of split: CRLF, {n}, literal, escape. */
static void
test_splits(void)
{
	static const char in[] = "* 1 FETCH (X \"a\\\"b\" BODY[HEADER.FIELDS (A B)] "
	    "{11}\r\nab\r\n{3}\r\n\"\\ Y ~{1}\r\n) Z)\r\n";
	struct imap_parser	*p;
	struct imap_resp	 r;
	struct buf		 b = BUF_INIT(0);
	size_t			 i, j, len = sizeof in - 1;

	/* Every two-piece split. */
	for (i = 0; i <= len; i++) {
		p = imap_parser_new(NULL);
		imap_parser_feed(p, in, i);
		T_EQ_INT(imap_parser_next(p, &r), i == len ? IMAP_PARSE_OK : IMAP_PARSE_MORE);
		if (i < len) {
			imap_parser_feed(p, in + i, len - i);
			T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
		}
		buf_reset(&b);
		ser_resp(&b, &r);
		T_EQ_STR(buf_cstr(&b), "* #1 FETCH (X \"a\\\"b\" BODY[HEADER.FIELDS (A B)] "
		    "{11:ab\\x0d\\x0a{3}\\x0d\\x0a\\\"\\\\} Y {1:)} Z)");
		T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_MORE);
		T_EQ_INT(imap_parser_pending(p), 0);
		imap_parser_free(&p);
	}
	/* Every three-piece split of a shorter one. */
	for (i = 0; i <= 20; i++) {
		for (j = i; j <= 20; j++) {
			static const char s[] = "* X (\"\\\\\" {2}\r\n\r\n)\r\n";

			size_t	cut[4] = { 0, i, j, 20 }, k;
			int	rc, nok = 0;

			p = imap_parser_new(NULL);
			buf_reset(&b);
			for (k = 0; k < 3; k++) {
				imap_parser_feed(p, s + cut[k], cut[k + 1] - cut[k]);
				while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
					T_EQ_INT(cut[k + 1], 20);
					ser_resp(&b, &r);
					nok++;
				}
				T_EQ_INT(rc, IMAP_PARSE_MORE);
			}
			T_EQ_INT(nok, 1);
			T_EQ_STR(buf_cstr(&b), "* X (\"\\\\\" {2:\\x0d\\x0a})");
			imap_parser_free(&p);
		}
	}
	buf_free(&b);
}

static void
test_limits(void)
{
	struct imap_limits	 lim;
	struct opts		 o = { .lim = &lim };

	/* Depth: 3 stored, 4 skipped (the element of the outer list holding it). */
	imap_limits_default(&lim);
	lim.depth_max = 3;
	CHECK_OPTS("* X (((a)))\r\n", &o, "* X (((a)))\n", NULL);
	CHECK_OPTS("* X ((((a))))\r\n", &o,
	    "* X (<skipped: lists nested deeper than 3>)\n", NULL);
	CHECK_OPTS("* OK [X ((((a))))] t\r\n", &o,
	    "* OK [X|((((a))))|(<skipped: lists nested deeper than 3>)] \"t\"\n", NULL);
	/* Line: 20 bytes including CRLF is fine, 21 is not, with or without LF. */
	imap_limits_default(&lim);
	lim.line_max = 20;
	CHECK_OPTS("* SEARCH 1 2 3 4 5\r\n", &o, "* SEARCH 1 2 3 4 5\n", NULL);
	CHECK_OPTS("* SEARCH 1 2 3 4 56\r\n", &o, "ERR: line too long (over 20 bytes)", NULL);
	CHECK_OPTS("* SEARCH 1 2 3 4 5 6 7 8 9", &o, "ERR: line too long (over 20 bytes)", NULL);
	/* Literal bytes do not count, the text around them does. */
	CHECK_OPTS("* X {30}\r\n012345678901234567890123456789 Y\r\n", &o,
	    "* X {30:012345678901234567890123456789} Y\n", NULL);
	CHECK_OPTS("* X {1}\r\n0 {1}\r\n1 {1}\r\n2 abcdef\r\n", &o,
	    "ERR: line too long (over 20 bytes)", NULL);
	/* Arguments: lists count too. */
	imap_limits_default(&lim);
	lim.args_max = 4;
	CHECK_OPTS("* X a (b) c\r\n", &o, "* X a (b) c\n", NULL);
	CHECK_OPTS("* X a (b c) d\r\n", &o, "ERR: too many arguments (over 4)", NULL);
	/* Literal sizes. */
	imap_limits_default(&lim);
	lim.literal_max = 10;
	lim.literal_mem_max = 5;
	CHECK_OPTS("* X {5}\r\nabcde\r\n", &o, "* X {5:abcde}\n", NULL);
	CHECK_OPTS("* X {6}\r\nabcdef\r\n", &o,
	    "* X <skipped: literal over 5 bytes>\n", NULL);
	CHECK_OPTS("* X {11}\r\n", &o, "ERR: literal too big (11 bytes, over 10)", NULL);
	o.sink = true;
	CHECK_OPTS("* X {6}\r\nabcdef\r\n", &o, "* X {~6}\n",
	    "begin<* X> key=- size=6;end(6);data=abcdef");
	CHECK_OPTS("* X {11}\r\n", &o, "ERR: literal too big (11 bytes, over 10)",
	    "data=");
	/* Memory for one response. */
	o.sink = false;
	imap_limits_default(&lim);
	lim.resp_mem_max = 200;
	CHECK_OPTS("* X a b c\r\n", &o, "* X a b c\n", NULL);
	CHECK_OPTS("* X {300}\r\n", &o, "ERR: response too big (over 200 bytes)", NULL);
	CHECK_OPTS("* X a b c d e f g h i j k l m n o p q r s t u v w x y z\r\n", &o,
	    "ERR: response too big (over 200 bytes)", NULL);
}

/*
 * One item over a limit the parser can pass (depth, in-memory size) is
 * skipped: the element of the outermost list holding it becomes SKIPPED, the
 * rest of the response and the responses after it are intact.
 */
static void
test_skip(void)
{
	struct imap_limits	 lim;
	struct opts		 o = { .lim = &lim };
	struct imap_parser	*p;
	struct imap_resp	 r;
	struct buf		 in = BUF_INIT(0), want = BUF_INIT(0);
	const struct imap_arg	*l;
	size_t			 i;

	/*
	 * A BODYSTRUCTURE-like list 100 deep (default depth_max 64) with
	 * strings, a literal and NIL inside, then FLAGS and UID; then more.
	 */
	buf_adds(&in, "* 5 FETCH (BODYSTRUCTURE ");
	for (i = 0; i < 100; i++)
		buf_adds(&in, i % 3 == 0 ? "(\"TEXT\" " : "(");
	buf_adds(&in, "\"PL\\\"AIN\" {3}\r\n((( a NIL x");
	for (i = 0; i < 100; i++)
		buf_adds(&in, i % 2 == 0 ? ")" : " 7) ");
	buf_adds(&in, " FLAGS (\\Seen $X) UID 42)\r\n* 6 FETCH (UID 43 FLAGS ())\r\n"
	    "A1 OK done\r\n");
	check_opts_at(__FILE__, __LINE__, in.data, in.len, &default_opts,
	    "* #5 FETCH (BODYSTRUCTURE <skipped: lists nested deeper than 64> "
	    "FLAGS (\\Seen $X) UID 42)\n* #6 FETCH (UID 43 FLAGS ())\n"
	    "T=A1 OK \"done\"\n", NULL);
	/* The same through the API. */
	p = imap_parser_new(NULL);
	imap_parser_feed(p, in.data, in.len);
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_STR(r.name, "FETCH");
	T_EQ_INT(r.nargs, 1);
	l = &r.args[0];
	T_EQ_INT(l->type, IMAP_ARG_LIST);
	T_EQ_INT(l->count, 6);
	T_ASSERT(imap_arg_eq(&l->list[0], "BODYSTRUCTURE"));
	T_EQ_INT(l->list[1].type, IMAP_ARG_SKIPPED);
	T_EQ_STR(l->list[1].str, "lists nested deeper than 64");
	T_ASSERT(imap_arg_cstr(&l->list[1]) == NULL);
	T_ASSERT(imap_arg_eq(&l->list[2], "FLAGS"));
	T_EQ_INT(l->list[3].type, IMAP_ARG_LIST);
	T_EQ_INT(l->list[3].count, 2);
	T_EQ_STR(l->list[3].list[0].str, "\\Seen");
	T_EQ_STR(l->list[3].list[1].str, "$X");
	T_ASSERT(imap_arg_eq(&l->list[4], "UID"));
	T_EQ_STR(l->list[5].str, "42");
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_INT(r.number, 6);
	T_EQ_INT(r.args[0].count, 4);
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_INT(r.status, IMAP_STATUS_OK);
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_MORE);
	imap_parser_free(&p);

	/* What was stored of the item before the limit is dropped with it. */
	imap_limits_default(&lim);
	lim.depth_max = 3;
	CHECK_OPTS("* 1 FETCH (A (b (c (d) e) f) G (h))\r\n", &o,
	    "* #1 FETCH (A <skipped: lists nested deeper than 3> G (h))\n", NULL);
	/* Two in one response; quoted parens and escapes do not count. */
	CHECK_OPTS("* 1 FETCH (A ((((\")\\\"(\" x)))) B (1 (2 (3 (4)))) C 3)\r\n", &o,
	    "* #1 FETCH (A <skipped: lists nested deeper than 3> "
	    "B <skipped: lists nested deeper than 3> C 3)\n", NULL);
	/* At the outermost levels the list itself is the item. */
	lim.depth_max = 1;
	CHECK_OPTS("* 1 FETCH (A (b) C)\r\n", &o,
	    "* #1 FETCH (A <skipped: lists nested deeper than 1> C)\n", NULL);
	CHECK_OPTS("* X ((\"a\\\")b\" c))\r\n", &o,
	    "* X (<skipped: lists nested deeper than 1>)\n", NULL);
	lim.depth_max = 0;
	CHECK_OPTS("* X (a) b ()\r\n", &o, "* X <skipped: lists nested deeper than 0> b "
	    "<skipped: lists nested deeper than 0>\n", NULL);

	/* Oversized quoted strings and literals in an ENVELOPE-like item. */
	imap_limits_default(&lim);
	lim.literal_mem_max = 8;
	CHECK_OPTS("* 2 FETCH (UID 5 ENVELOPE (NIL \"0123456789\" ((\"A\" NIL \"a\" "
	    "\"b.c\")) NIL) FLAGS (\\Seen))\r\n* 3 FETCH (UID 6 ENVELOPE (NIL "
	    "\"01234567\" NIL))\r\nA1 OK done\r\n", &o,
	    "* #2 FETCH (UID 5 ENVELOPE <skipped: quoted string over 8 bytes> "
	    "FLAGS (\\Seen))\n* #3 FETCH (UID 6 ENVELOPE (NIL \"01234567\" NIL))\n"
	    "T=A1 OK \"done\"\n", NULL);
	/* The limit is on the bytes between the quotes, escapes included. */
	CHECK_OPTS("* X \"0123\\\\56\" \"0123\\\"567\"\r\n", &o,
	    "* X \"0123\\\\56\" <skipped: quoted string over 8 bytes>\n", NULL);
	CHECK_OPTS("* 3 FETCH (ENVELOPE (NIL ((NIL NIL {10}\r\n0123456789 \"b\")) NIL) "
	    "UID 6 BODY[HEADER] {9}\r\n012345678 FLAGS ())\r\n* 4 FETCH (UID 7)\r\n", &o,
	    "* #3 FETCH (ENVELOPE <skipped: literal over 8 bytes> UID 6 "
	    "BODY[HEADER] <skipped: literal over 8 bytes> FLAGS ())\n"
	    "* #4 FETCH (UID 7)\n", NULL);
	CHECK_OPTS("* X {9}\r\n012345678 {8}\r\n01234567\r\n", &o,
	    "* X <skipped: literal over 8 bytes> {8:01234567}\n", NULL);
	/* Response codes skip too. */
	CHECK_OPTS("* OK [X \"0123456789\" y] t\r\n", &o,
	    "* OK [X|\"0123456789\" y|<skipped: quoted string over 8 bytes> y] \"t\"\n",
	    NULL);

	/*
	 * With a sink: a literal inside a skipped item is read and dropped,
	 * never streamed; one after it streams as usual.
	 */
	imap_limits_default(&lim);
	lim.depth_max = 2;
	o.sink = true;
	o.set_min = true;
	o.stream_min = 1;
	CHECK_OPTS("* 1 FETCH (UID 1 X ((({3}\r\nabc))) BODY[] {2}\r\nhi)\r\n", &o,
	    "* #1 FETCH (UID 1 X <skipped: lists nested deeper than 2> BODY[] {~2})\n",
	    "begin<* #1 FETCH (UID 1 X <skipped: lists nested deeper than 2> BODY[])> "
	    "key=BODY[] size=2;end(2);data=hi");
	o.sink = false;
	o.set_min = false;

	/*
	 * Where the parser cannot keep its place, or the item is not the
	 * problem, it is still an error; syntax inside a skipped item is
	 * checked as when storing.
	 */
	imap_limits_default(&lim);
	lim.depth_max = 3;
	lim.literal_max = 100;
	CHECK_OPTS("* LIST ((((((\r\n", &o,
	    "ERR: lists nested too deeply (over 3) and not closed", NULL);
	CHECK_OPTS("* X (((((a)))))))\r\n", &o, "ERR: unbalanced ')'", NULL);
	CHECK_OPTS("* X ((((a\"b\"))))\r\n", &o, "ERR: missing space between arguments", NULL);
	CHECK_OPTS("* X ((((\"a\0b\"))))\r\n", &o, "ERR: NUL byte in quoted string", NULL);
	CHECK_OPTS("* X ((((a\x01))))\r\n", &o, "ERR: control byte 0x01 in atom", NULL);
	CHECK_OPTS("* X (((({101}\r\n", &o, "ERR: literal too big (101 bytes, over 100)",
	    NULL);
	lim.literal_mem_max = 8;
	CHECK_OPTS("* X (\"0123456789\"\r\n", &o, "ERR: unterminated list (missing ')')",
	    NULL);
	CHECK_OPTS("* X \"0123456789\r\n", &o, "ERR: unterminated quoted string", NULL);
	CHECK_OPTS("* X {9}\r\n012345678Y\r\n", &o, "ERR: missing space between arguments",
	    NULL);

	/*
	 * A list a million deep costs no memory per level: only depth_max
	 * levels are stored, the rest is counted.
	 */
	buf_reset(&in);
	buf_adds(&in, "* X ");
	for (i = 0; i < 1000000; i++)
		buf_addc(&in, '(');
	for (i = 0; i < 1000000; i++)
		buf_addc(&in, ')');
	buf_adds(&in, " Y\r\n");
	check_opts_at(__FILE__, __LINE__, in.data, in.len, &default_opts,
	    "* X (<skipped: lists nested deeper than 64>) Y\n", NULL);
	buf_free(&in);
	buf_free(&want);
}

/* Big literals go to the sink with the response so far and the item name. */
static void
test_sink(void)
{
	struct opts	o = { .sink = true, .set_min = true, .stream_min = 4 };

	CHECK_OPTS("* 5 FETCH (UID 9 FLAGS (\\Seen) BODY[] {10}\r\n0123456789 "
	    "BODY[1] {3}\r\nabc)\r\nA1 OK done\r\n", &o,
	    "* #5 FETCH (UID 9 FLAGS (\\Seen) BODY[] {~10} BODY[1] {3:abc})\n"
	    "T=A1 OK \"done\"\n",
	    "begin<* #5 FETCH (UID 9 FLAGS (\\Seen) BODY[])> key=BODY[] size=10;"
	    "end(10);data=0123456789");
	/* Nested: the open lists show up as lists of what they hold so far. */
	CHECK_OPTS("* 1 FETCH (X (a (b c {4}\r\nwxyz d) e) f)\r\n", &o,
	    "* #1 FETCH (X (a (b c {~4} d) e) f)\n",
	    "begin<* #1 FETCH (X (a (b c)))> key=c size=4;end(4);data=wxyz");
	/* No key when the literal follows no atom. */
	CHECK_OPTS("* 1 FETCH ({4}\r\nwxyz)\r\n", &o, "* #1 FETCH ({~4})\n",
	    "begin<* #1 FETCH ()> key=- size=4;end(4);data=wxyz");
	CHECK_OPTS("* X \"q\" {4}\r\nwxyz\r\n", &o, "* X \"q\" {~4}\n",
	    "begin<* X \"q\"> key=- size=4;end(4);data=wxyz");
	/* Two streamed literals in one response. */
	CHECK_OPTS("* 2 FETCH (BODY[1] {4}\r\naaaa BODY[2] {5}\r\nbbbbb)\r\n", &o,
	    "* #2 FETCH (BODY[1] {~4} BODY[2] {~5})\n",
	    "begin<* #2 FETCH (BODY[1])> key=BODY[1] size=4;end(4);"
	    "begin<* #2 FETCH (BODY[1] {~4} BODY[2])> key=BODY[2] size=5;end(9);"
	    "data=aaaabbbbb");
	/* stream_min 0 streams even {0}. */
	o.stream_min = 0;
	CHECK_OPTS("* 1 FETCH (BODY[] {0}\r\n)\r\n", &o, "* #1 FETCH (BODY[] {~0})\n",
	    "begin<* #1 FETCH (BODY[])> key=BODY[] size=0;end(0);data=");
	/* A failing sink fails the parse. */
	o.stream_min = 1;
	o.fail_at = 1;
	CHECK_OPTS("* 1 FETCH (BODY[] {3}\r\nabc)\r\n", &o, "ERR: literal sink failed", NULL);
	o.fail_at = 2;
	CHECK_OPTS("* 1 FETCH (BODY[] {3}\r\nabc)\r\n", &o, "ERR: literal sink failed", NULL);
	o.fail_at = 3;
	CHECK_OPTS("* 1 FETCH (BODY[] {3}\r\nabc)\r\n", &o, "ERR: literal sink failed", NULL);
}

struct count_sink {
	uint64_t	bytes;
	uint64_t	sum;
	int		ends;
};

static int
cs_begin(void *arg, const struct imap_resp *r, const struct imap_arg *key, uint64_t size)
{
	T_ASSERT(key != NULL && imap_arg_eq(key, "BODY[]"));
	return 0;
}

static int
cs_data(void *arg, const char *d, size_t len)
{
	struct count_sink	*c = arg;
	size_t			 i;

	for (i = 0; i < len; i++)
		c->sum = c->sum * 31 + (unsigned char)d[i];
	c->bytes += len;
	return 0;
}

static int
cs_end(void *arg)
{
	((struct count_sink *)arg)->ends++;
	return 0;
}

/*
 * A 64 MB literal streamed in 64 KB reads: data arrives straight from the
 * input (never more than one read pending) and the result is a streamed arg.
 */
static void
test_big_literal(void)
{
	static const struct imap_literal_sink ops = { cs_begin, cs_data, cs_end };
	struct imap_parser	*p = imap_parser_new(NULL);
	struct imap_resp	 r;
	struct count_sink	 cs = { 0, 0, 0 };
	uint64_t		 size = 64ull << 20, sent = 0, sum = 0;
	char			 chunk[65536], hdr[64];
	size_t			 i, n;
	int			 rc, nresp = 0;

	imap_parser_set_sink(p, &ops, &cs);
	n = (size_t)snprintf(hdr, sizeof hdr, "* 1 FETCH (UID 7 BODY[] {%llu}\r\n",
	    (unsigned long long)size);
	imap_parser_feed(p, hdr, n);
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_MORE);
	for (i = 0; i < sizeof chunk; i++)
		chunk[i] = (char)(i * 7 + 3);
	while (sent < size) {
		n = size - sent < sizeof chunk ? (size_t)(size - sent) : sizeof chunk;
		for (i = 0; i < n; i++)
			sum = sum * 31 + (unsigned char)chunk[i];
		imap_parser_feed(p, chunk, n);
		sent += n;
		T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_MORE);
		T_EQ_INT(imap_parser_pending(p), 0);
	}
	imap_parser_feed(p, ")\r\n", 3);
	while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
		nresp++;
		T_EQ_INT(r.nargs, 1);
		T_EQ_INT(r.args[0].type, IMAP_ARG_LIST);
		T_EQ_INT(r.args[0].count, 4);
		T_ASSERT(r.args[0].list[3].streamed);
		T_ASSERT(r.args[0].list[3].str == NULL);
		T_EQ_INT(r.args[0].list[3].len, size);
		T_ASSERT(imap_arg_cstr(&r.args[0].list[3]) == NULL);
		T_ASSERT(!imap_arg_is_string(&r.args[0].list[3]));
	}
	T_EQ_INT(rc, IMAP_PARSE_MORE);
	T_EQ_INT(nresp, 1);
	T_EQ_INT(cs.bytes, size);
	T_EQ_INT(cs.ends, 1);
	T_ASSERT(cs.sum == sum);
	imap_parser_free(&p);
}

struct lin_sink {
	int	begins;
	size_t	last_count;
};

static int
lin_begin(void *arg, const struct imap_resp *r, const struct imap_arg *key, uint64_t size)
{
	struct lin_sink	*ls = arg;

	/* [LIST [X LIST Y LIST [...literals so far]]] */
	if (r->nargs != 1 || r->args[0].count != 4 || r->args[0].list[1].count != 100000)
		return -1;
	ls->last_count = r->args[0].list[3].count;
	if (ls->last_count != (size_t)ls->begins || key != NULL)
		return -1;
	ls->begins++;
	return 0;
}

/*
 * 100,000 list elements and 20,000 literals in one response, fed one byte
 * at a time: only finishes in reasonable time if nothing is re-scanned.
 */
static void
test_linear(void)
{
	struct imap_parser	*p = imap_parser_new(NULL);
	struct imap_resp	 r;
	struct buf		 in = BUF_INIT(0);
	size_t			 i;
	int			 rc = IMAP_PARSE_MORE, nresp = 0;

	buf_adds(&in, "* 1 FETCH (X (");
	for (i = 0; i < 100000; i++)
		buf_printf(&in, "%s%zu", i ? " " : "", i);
	buf_adds(&in, ") Y (");
	for (i = 0; i < 20000; i++)
		buf_adds(&in, "{3}\r\nabc ");
	buf_adds(&in, "\"q\\\"\"))\r\n");
	for (i = 0; i < in.len; i++) {
		imap_parser_feed(p, in.data + i, 1);
		while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
			nresp++;
			T_ASSERT(i == in.len - 1);
			T_EQ_INT(r.args[0].count, 4);
			T_EQ_INT(r.args[0].list[1].count, 100000);
			T_ASSERT(imap_arg_eq(&r.args[0].list[1].list[99999], "99999"));
			T_EQ_INT(r.args[0].list[3].count, 20001);
			T_EQ_MEM(r.args[0].list[3].list[19999].str, 3, "abc", 3);
			T_EQ_STR(r.args[0].list[3].list[20000].str, "q\"");
		}
		if (rc == IMAP_PARSE_ERROR)
			break;
	}
	T_EQ_INT(rc, IMAP_PARSE_MORE);
	T_EQ_INT(nresp, 1);
	imap_parser_free(&p);
	/* The same with every literal streamed: the sink's view is not rebuilt. */
	{
		static const struct imap_literal_sink ops = { lin_begin, NULL, NULL };
		struct lin_sink	ls = { 0, 0 };

		p = imap_parser_new(NULL);
		imap_parser_set_sink(p, &ops, &ls);
		imap_parser_set_stream_min(p, 1);
		nresp = 0;
		for (i = 0; i < in.len; i += 7) {
			imap_parser_feed(p, in.data + i, in.len - i < 7 ? in.len - i : 7);
			while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
				nresp++;
				T_EQ_INT(r.args[0].list[3].count, 20001);
				T_ASSERT(r.args[0].list[3].list[19999].streamed);
			}
			if (rc == IMAP_PARSE_ERROR)
				break;
		}
		T_EQ_INT(rc, IMAP_PARSE_MORE);
		T_EQ_INT(nresp, 1);
		T_EQ_INT(ls.begins, 20000);
		T_EQ_INT(ls.last_count, 19999);
		imap_parser_free(&p);
	}
	/* One long line without LF, fed byte by byte, is bounded by line_max. */
	{
		struct imap_limits	lim;

		imap_limits_default(&lim);
		lim.line_max = 1000000;
		p = imap_parser_new(&lim);
		for (i = 0; i < 2000000; i++) {
			imap_parser_feed(p, "a", 1);
			if ((rc = imap_parser_next(p, &r)) != IMAP_PARSE_MORE)
				break;
		}
		T_EQ_INT(rc, IMAP_PARSE_ERROR);
		T_EQ_INT(i, 1000000);
		T_EQ_STR(imap_parser_error(p), "line too long (over 1000000 bytes)");
		T_ASSERT(imap_parser_pending(p) <= 1000001);
	}
	imap_parser_free(&p);
	buf_free(&in);
}

/* The documented examples and the helper functions. */
static void
test_api(void)
{
	struct imap_parser	*p = imap_parser_new(NULL);
	struct imap_resp	 r;
	uint64_t		 n;
	static const char	 in[] = "A7 OK [UIDNEXT 9] done\r\n"
	    "* 23 EXISTS\r\n* LIST (\\X) \"/\" INBOX\r\n+ eGVz\r\n"
	    "* 1 FETCH (UID 18446744073709551615 X 007 Y {2}\r\nhi Z nil)\r\n";

	T_EQ_STR(imap_parser_error(p), "no error");
	imap_parser_feed(p, in, sizeof in - 1);
	T_EQ_INT(imap_parser_pending(p), sizeof in - 1);
	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_INT(r.kind, IMAP_RESP_TAGGED);
	T_EQ_STR(r.tag, "A7");
	T_EQ_INT(r.status, IMAP_STATUS_OK);
	T_EQ_STR(r.code, "UIDNEXT");
	T_EQ_INT(r.ncode_args, 1);
	T_EQ_INT(r.code_args[0].type, IMAP_ARG_ATOM);
	T_EQ_STR(r.code_args[0].str, "9");
	T_EQ_STR(r.code_raw, "9");
	T_EQ_STR(r.text, "done");
	T_ASSERT(r.name == NULL && r.nargs == 0 && !r.has_number);
	T_EQ_INT(imap_parser_pending(p), sizeof in - 1 - 24);

	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_INT(r.kind, IMAP_RESP_UNTAGGED);
	T_ASSERT(r.has_number && r.number == 23);
	T_EQ_STR(r.name, "EXISTS");
	T_ASSERT(r.tag == NULL && r.code == NULL);
	T_EQ_STR(r.text, "");
	T_EQ_STR(r.code_raw, "");

	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_STR(r.name, "LIST");
	T_EQ_INT(r.nargs, 3);
	T_EQ_INT(r.args[0].type, IMAP_ARG_LIST);
	T_EQ_INT(r.args[1].type, IMAP_ARG_STRING);
	T_EQ_INT(r.args[2].type, IMAP_ARG_ATOM);
	T_ASSERT(imap_arg_eq(&r.args[2], "inbox"));
	T_ASSERT(!imap_arg_eq(&r.args[2], "inbo"));
	T_ASSERT(!imap_arg_eq(&r.args[0], "INBOX"));
	T_ASSERT(imap_arg_cstr(&r.args[0]) == NULL);
	T_EQ_STR(imap_arg_cstr(&r.args[1]), "/");

	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_INT(r.kind, IMAP_RESP_CONTINUE);
	T_EQ_STR(r.text, "eGVz");

	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_OK);
	T_EQ_INT(r.args[0].count, 8);
	T_EQ_INT(imap_arg_number(&r.args[0].list[1], UINT64_MAX, &n), 0);
	T_ASSERT(n == UINT64_MAX);
	T_EQ_INT(imap_arg_number(&r.args[0].list[1], UINT32_MAX, &n), -1);
	T_EQ_INT(imap_arg_number(&r.args[0].list[3], 10, &n), 0);
	T_EQ_INT(n, 7);
	T_EQ_INT(imap_arg_number(&r.args[0].list[0], 10, &n), -1);
	T_EQ_INT(r.args[0].list[5].type, IMAP_ARG_LITERAL);
	T_ASSERT(imap_arg_is_string(&r.args[0].list[5]));
	T_ASSERT(imap_arg_eq(&r.args[0].list[5], "HI"));
	T_EQ_INT(imap_arg_number(&r.args[0].list[5], 10, &n), -1);
	T_EQ_INT(r.args[0].list[7].type, IMAP_ARG_NIL);
	T_ASSERT(imap_arg_cstr(&r.args[0].list[7]) == NULL);
	T_ASSERT(!imap_arg_is_string(&r.args[0].list[7]));

	T_EQ_INT(imap_parser_next(p, &r), IMAP_PARSE_MORE);
	T_EQ_INT(imap_parser_pending(p), 0);
	imap_parser_free(&p);
	imap_parser_free(&p);	/* NULL is fine */
}

/*
 * Memory is reused between responses: a stream of large-ish responses does
 * not keep what one response needed beyond the kept arena block.
 */
static void
test_many(void)
{
	struct imap_parser	*p = imap_parser_new(NULL);
	struct imap_resp	 r;
	struct buf		 in = BUF_INIT(0);
	size_t			 i, off;
	int			 n = 0, rc;

	for (i = 0; i < 2000; i++) {
		buf_printf(&in, "* %zu FETCH (UID %zu BODY[] {%zu}\r\n", i + 1, i + 100,
		    i * 37 % 3000);
		buf_reserve(&in, i * 37 % 3000);
		memset(in.data + in.len, 'x', i * 37 % 3000);
		buf_commit(&in, i * 37 % 3000);
		buf_adds(&in, ")\r\n");
	}
	for (off = 0; off < in.len; off += 4093) {
		imap_parser_feed(p, in.data + off, in.len - off < 4093 ? in.len - off : 4093);
		while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
			T_EQ_INT(r.number, n + 1);
			T_EQ_INT(r.args[0].list[3].len, (size_t)n * 37 % 3000);
			n++;
		}
		T_EQ_INT(rc, IMAP_PARSE_MORE);
	}
	T_EQ_INT(n, 2000);
	imap_parser_free(&p);
	buf_free(&in);
}

static const struct test tests[] = {
	{ "greeting", test_greeting },
	{ "capability", test_capability },
	{ "list", test_list },
	{ "status_search", test_status_search },
	{ "mailbox_data", test_mailbox_data },
	{ "fetch", test_fetch },
	{ "resp_codes", test_resp_codes },
	{ "tagged", test_tagged },
	{ "continuation", test_continuation },
	{ "quirks", test_quirks },
	{ "malformed", test_malformed },
	{ "splits", test_splits },
	{ "limits", test_limits },
	{ "skip", test_skip },
	{ "sink", test_sink },
	{ "big_literal", test_big_literal },
	{ "linear", test_linear },
	{ "api", test_api },
	{ "many", test_many },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
