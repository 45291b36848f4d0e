/* Unit tests of modified UTF-7 mailbox names (RFC 3501 5.1.3). */
#include <stdlib.h>
#include <string.h>

#include "imap-utf7.h"
#include "test.h"

/* Decode must give utf8, and encoding that must give back the input. */
static void
roundtrip(const char *utf7, const char *utf8)
{
	char	*d, *e;

	d = imap_utf7_decode(utf7, strlen(utf7));
	T_EQ_STR(d, utf8);
	e = imap_utf7_encode(utf8);
	T_EQ_STR(e, utf7);
	free(d);
	free(e);
}

static void
bad_decode(const char *utf7, size_t len)
{
	char	*d = imap_utf7_decode(utf7, len);

	if (d != NULL) {
		char	e[256];

		test_fail(__FILE__, __LINE__, "decoded invalid \"%s\" to \"%s\"",
		    test_escape(utf7, len, e, sizeof e), d);
	}
	free(d);
}

static void
test_rfc_examples(void)
{
	/* RFC 3501 5.1.3: "~peter/mail/台北/日本語". */
	roundtrip("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	    "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	roundtrip("INBOX", "INBOX");
	roundtrip("", "");
	roundtrip("&-", "&");
	roundtrip("Tom &- Jerry", "Tom & Jerry");
	roundtrip("&-&-", "&&");
	roundtrip("Entw&APw-rfe", "Entw\xc3\xbc" "rfe");
	roundtrip("&AOQA9gD8-", "\xc3\xa4\xc3\xb6\xc3\xbc");
	roundtrip("&AOQ-&-", "\xc3\xa4&");
	roundtrip("Gel&APY-schte Elemente", "Gel\xc3\xb6schte Elemente");
	roundtrip("&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-",
	    "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd"
	    "\xd0\xbd\xd1\x8b\xd0\xb5");
	/* Control characters other than NUL are encoded. */
	roundtrip("a&AAk-b", "a\tb");
	roundtrip("&AH8-", "\x7f");
	/* Printable ASCII is never encoded. */
	roundtrip(" ~!\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}",
	    " ~!\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}");
}

static void
test_surrogates(void)
{
	/* U+1F600 (grinning face) is the pair D83D DE00. */
	roundtrip("&2D3eAA-", "\xf0\x9f\x98\x80");
	roundtrip("x&2D3eANg93gE-y", "x\xf0\x9f\x98\x80\xf0\x9f\x98\x81y");
	/* U+10FFFF and U+10000. */
	roundtrip("&2,,f,w-", "\xf4\x8f\xbf\xbf");
	roundtrip("&2ADcAA-", "\xf0\x90\x80\x80");
	/* A BMP character after a pair in the same run. */
	roundtrip("&2D3eAADk-", "\xf0\x9f\x98\x80\xc3\xa4");
	/* A lone high surrogate, a lone low one, reversed order. */
	bad_decode("&2D0-", 5);
	bad_decode("&2D0AZA-", 8);
	bad_decode("&3gA-", 5);
	bad_decode("&3gDYPQ-", 8);
	/* A high surrogate at the end of one run, its low in the next. */
	bad_decode("&2D0-&3gA-", 10);
}

static void
test_invalid(void)
{
	bad_decode("&", 1);
	bad_decode("abc&AOQ", 7);		/* no '-' */
	bad_decode("&AOQ_-", 6);		/* '_' is not modified base64 */
	bad_decode("&AOQ/-", 6);		/* '/' is ',' in modified base64 */
	bad_decode("&AOQ=-", 6);		/* no padding */
	bad_decode("&AOR-", 5);			/* left-over bits not zero */
	bad_decode("&AO-", 4);			/* 12 bits: not a whole unit */
	bad_decode("&AOQA-", 6);		/* 6 left-over bits */
	bad_decode("&AGE-", 5);			/* 'a' must not be encoded */
	bad_decode("&ACY-", 5);			/* '&' must be "&-" */
	bad_decode("&AAA-", 5);			/* U+0000 */
	bad_decode("&AOQ-&APY-", 10);		/* two runs in a row */
	bad_decode("a\xc3\xa4", 3);		/* raw 8-bit */
	bad_decode("a\tb", 3);			/* raw control */
	bad_decode("a\0b", 3);			/* NUL inside the length */
	bad_decode("\x7f", 1);
	/* Invalid UTF-8 cannot be encoded. */
	T_ASSERT(imap_utf7_encode("\xc3") == NULL);		/* truncated */
	T_ASSERT(imap_utf7_encode("\xc3(") == NULL);
	T_ASSERT(imap_utf7_encode("\xc0\xaf") == NULL);	/* overlong '/' */
	T_ASSERT(imap_utf7_encode("\xe0\x80\xaf") == NULL);	/* overlong */
	T_ASSERT(imap_utf7_encode("\xed\xa0\x80") == NULL);	/* surrogate D800 */
	T_ASSERT(imap_utf7_encode("\xf4\x90\x80\x80") == NULL);	/* above U+10FFFF */
	T_ASSERT(imap_utf7_encode("\xff") == NULL);
	T_ASSERT(imap_utf7_encode("\x80") == NULL);
	/* Length bounds the input: a '-' after it does not count. */
	bad_decode("&AOQ-", 4);
	{
		char	*d = imap_utf7_decode("&-&-", 2);

		T_EQ_STR(d, "&");
		free(d);
	}
}

/* Every BMP scalar and a sample of astral ones survive encode + decode. */
static void
test_all_code_points(void)
{
	unsigned	cp;
	char		in[16], *e, *d;
	int		bad = 0;

	for (cp = 1; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 97) {
		size_t	n = 0;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x80)
			in[n++] = (char)cp;
		else if (cp < 0x800) {
			in[n++] = (char)(0xc0 | cp >> 6);
			in[n++] = (char)(0x80 | (cp & 0x3f));
		} else if (cp < 0x10000) {
			in[n++] = (char)(0xe0 | cp >> 12);
			in[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			in[n++] = (char)(0x80 | (cp & 0x3f));
		} else {
			in[n++] = (char)(0xf0 | cp >> 18);
			in[n++] = (char)(0x80 | (cp >> 12 & 0x3f));
			in[n++] = (char)(0x80 | (cp >> 6 & 0x3f));
			in[n++] = (char)(0x80 | (cp & 0x3f));
		}
		in[n++] = 'x';
		in[n] = '\0';
		e = imap_utf7_encode(in);
		d = e != NULL ? imap_utf7_decode(e, strlen(e)) : NULL;
		if (d == NULL || strcmp(d, in) != 0)
			bad++;
		free(e);
		free(d);
	}
	T_EQ_INT(bad, 0);
}

static const struct test tests[] = {
	{ "rfc_examples", test_rfc_examples },
	{ "surrogates", test_surrogates },
	{ "invalid", test_invalid },
	{ "all_code_points", test_all_code_points },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
