/* Unit tests of src/charset: aliases, conversions, U+FFFD, widths. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "test.h"

/* Convert and return a static copy (tests only). */
static const char *
conv(const char *cs, const char *in, size_t len)
{
	static char	out[4096];
	struct buf	b = BUF_INIT(0);

	T_EQ_INT(charset_to_utf8(cs, cs != NULL ? strlen(cs) : 0, in, len, &b), 0);
	snprintf(out, sizeof out, "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

#define CONV(cs, lit) conv(cs, lit, sizeof(lit) - 1)

static void
test_utf8_valid(void)
{
	T_ASSERT(utf8_valid("", 0));
	T_ASSERT(utf8_valid("plain ascii text, long enough", 29));
	T_ASSERT(utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	T_ASSERT(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	T_ASSERT(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	T_ASSERT(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	T_ASSERT(!utf8_valid("\xe2\x82", 2));		/* truncated */
	T_ASSERT(!utf8_valid("abc\x80", 4));
}

static void
test_utf8_repair(void)
{
	T_EQ_STR(CONV("utf-8", "a\xffz"), "a\xef\xbf\xbdz");
	/* A truncated sequence is one U+FFFD, the next character survives. */
	T_EQ_STR(CONV("utf-8", "\xe2\x82x"), "\xef\xbf\xbdx");
	T_EQ_STR(CONV("UTF8", "\xc3\xa9"), "\xc3\xa9");
	T_EQ_STR(CONV("utf-8", "\xed\xa0\x80"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

static void
test_sniff(void)
{
	/* us-ascii / iso-8859-1 with UTF-8 in them: UTF-8. */
	T_EQ_STR(CONV("us-ascii", "caf\xc3\xa9"), "caf\xc3\xa9");
	T_EQ_STR(CONV("iso-8859-1", "caf\xc3\xa9"), "caf\xc3\xa9");
	/* ... else windows-1252 (curly quotes, en dash, euro). */
	T_EQ_STR(CONV("us-ascii", "\x93q\x94 \x96 \x80"),
	    "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x80\x93 \xe2\x82\xac");
	T_EQ_STR(CONV("ISO-8859-1", "caf\xe9"), "caf\xc3\xa9");
	T_EQ_STR(CONV("latin1", "\xa0\xff"), "\xc2\xa0\xc3\xbf");
	/* windows-1252 undefined bytes become U+FFFD, not C1 controls. */
	T_EQ_STR(CONV("windows-1252", "a\x81z"), "a\xef\xbf\xbdz");
}

static void
test_cjk(void)
{
	/* ks_c_5601-1987 and euc-kr are read as CP949 (its extensions too). */
	T_EQ_STR(CONV("ks_c_5601-1987",
	    "\xbe\xc8\xb3\xe7\x20\x8c\x63\xb9\xe6\xb0\xa2\xc7\xcf"),
	    "안녕 똠방각하");
	T_EQ_STR(CONV("euc-kr", "\x8c\x63\xb9\xe6"), "똠방");
	T_EQ_STR(CONV("EUC-KR", "\xc7\xd1\xb1\xb9"), "한국");
	/* gb2312 read as GB18030: a GBK-only character decodes. */
	T_EQ_STR(CONV("gb2312", "\xd6\xd0\xce\xc4\xe9\x46"), "中文镕");
	T_EQ_STR(CONV("GBK", "\xa2\xe3"), "€");
	T_EQ_STR(CONV("big5", "\xa4\xa4\xa4\xe5"), "中文");
	T_EQ_STR(CONV("big5", "\xa3\xe1"), "€");
	T_EQ_STR(CONV("Big5-HKSCS", "\xa4\xa4"), "中");
	/* Shift_JIS as CP932: 0x5C is a backslash, not a yen sign. */
	T_EQ_STR(CONV("shift_jis", "\x43\x3a\x5c\x95\x5c\xb1"), "C:\\表ｱ");
	T_EQ_STR(CONV("x-sjis", "\x95\x5c"), "表");
	T_EQ_STR(CONV("Shift-JIS", "\x87\x40"), "①");
	T_EQ_STR(CONV("euc-jp", "\xc6\xfc\xcb\xdc"), "日本");
}

static void
test_iso2022jp(void)
{
	T_EQ_STR(CONV("iso-2022-jp", "\x1b\x24\x42\x46\x7c\x4b\x5c\x38\x6c"
	    "\x25\x46\x25\x2d\x25\x39\x25\x48\x1b\x28\x42"), "日本語テキスト");
	/* Extensions: half-width katakana by ESC ( I and by SO/SI. */
	T_EQ_STR(CONV("ISO-2022-JP", "\x1b(I12\x1b(B!"), "ｱｲ!");
	T_EQ_STR(CONV("iso-2022-jp", "a\x0e\x31\x0f" "b"), "aｱb");
	/* NEC row 13 (circled digits) as Microsoft writes them. */
	T_EQ_STR(CONV("iso-2022-jp", "\x1b$B-!-\"\x1b(B"), "①②");
	/* JIS X 0212 */
	T_EQ_STR(CONV("iso-2022-jp", "\x1b$(D\x22\x2f\x1b(B"), "˘");
	/* ISO-2022-JP-2 escapes for other sets go to glibc's decoder. */
	T_EQ_STR(CONV("iso-2022-jp-2", "\x1b$A\x56\x50\x1b(B"), "中");
	/* A truncated double-byte character is U+FFFD. */
	T_EQ_STR(CONV("iso-2022-jp", "\x1b$B\x46"), "\xef\xbf\xbd");
	/* Undeclared or us-ascii text with ISO-2022-JP escapes. */
	T_EQ_STR(CONV(NULL, "\x1b$B%F%9%H\x1b(B ok"), "テスト ok");
	T_EQ_STR(CONV("us-ascii", "\x1b$B%F%9%H\x1b(B"), "テスト");
	T_EQ_STR(CONV(NULL, "a\x1b[31mb"), "a\x1b[31mb");
	/* A stray ESC that is not a designation is kept (shown later). */
	T_EQ_STR(CONV("iso-2022-jp", "a\x1b[31mb"), "a\x1b[31mb");
}

static void
test_invalid(void)
{
	/* An invalid trail byte: U+FFFD, and conversion goes on. */
	T_EQ_STR(CONV("euc-kr", "\xc7\xd1\xff\xb1\xb9"), "한\xef\xbf\xbd국");
	/* Truncated at the end. */
	T_EQ_STR(CONV("gb2312", "\xd6\xd0\xce"), "中\xef\xbf\xbd");
	T_EQ_STR(CONV("shift_jis", "\x95"), "\xef\xbf\xbd");
}

static void
test_unknown_fallback(void)
{
	struct error	err;
	char		cn[CHARSET_NAME_MAX];

	T_ASSERT(!charset_known("x-no-such-charset", 17));
	T_ASSERT(charset_known("koi8-r", 6));
	T_ASSERT(charset_known("ks_c_5601-1987", 14));
	/* Unknown: UTF-8 when valid, else the fallback (windows-1252). */
	T_EQ_STR(CONV("x-no-such-charset", "\xc3\xa9"), "\xc3\xa9");
	T_EQ_STR(CONV("x-no-such-charset", "\xe9"), "\xc3\xa9");
	T_EQ_STR(CONV(NULL, "\x93hi\x94"), "\xe2\x80\x9chi\xe2\x80\x9d");
	/* Names that are not names are unknown too (no iconv options). */
	T_EQ_STR(CONV("UTF-8//TRANSLIT", "\xe9"), "\xc3\xa9");
	/* A configured fallback. */
	T_EQ_INT(charset_set_fallback("koi8-r", &err), 0);
	T_EQ_STR(charset_fallback(), "KOI8-R");
	T_EQ_STR(CONV("unknown-8bit", "\xf0\xd2\xc9\xd7\xc5\xd4"), "Привет");
	T_EQ_STR(charset_canon("x-bogus", 7, cn), "UTF-8?KOI8-R");
	T_EQ_INT(charset_set_fallback("no-such-thing", &err), -1);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_EQ_INT(charset_set_fallback("windows-1252", &err), 0);
	T_EQ_STR(CONV("x-bogus", "\xe9"), "\xc3\xa9");
}

static void
test_canon(void)
{
	char	cn[CHARSET_NAME_MAX];

	T_EQ_STR(charset_canon("KS_C_5601-1987", 14, cn), "CP949");
	T_EQ_STR(charset_canon(" \"gb2312\" ", 10, cn), "GB18030");
	T_EQ_STR(charset_canon("utf-8*en", 8, cn), "UTF-8");
	T_EQ_STR(charset_canon("us-ascii", 8, cn), "UTF-8?CP1252");
	T_EQ_STR(charset_canon("iso-8859-2", 10, cn), "ISO-8859-2");
	T_ASSERT(charset_same("euc-kr", 6, "KS_C_5601-1987", 14));
	T_ASSERT(!charset_same("euc-kr", 6, "utf-8", 5));
	T_EQ_STR(CONV("iso-8859-2", "\xb1"), "ą");
}

static void *
conv_thread(void *arg)
{
	int		i, *bad = arg;
	struct buf	b = BUF_INIT(0);

	for (i = 0; i < 2000; i++) {
		buf_reset(&b);
		charset_to_utf8("euc-kr", 6, "\xc7\xd1\xb1\xb9", 4, &b);
		charset_to_utf8("shift_jis", 9, "\x95\x5c", 2, &b);
		if (strcmp(buf_cstr(&b), "한국表") != 0)
			(*bad)++;
	}
	buf_free(&b);
	return NULL;
}

/* Each thread has its own descriptors: concurrent use is safe. */
static void
test_threads(void)
{
	pthread_t	t[4];
	int		bad[4] = { 0, 0, 0, 0 }, i;

	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, conv_thread, &bad[i]);
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		T_EQ_INT(bad[i], 0);
	}
}

/* The output buffer's maximum is respected: what fits is kept. */
static void
test_bounded(void)
{
	struct buf	b = BUF_INIT(8);

	T_EQ_INT(charset_to_utf8("euc-kr", 6, "\xc7\xd1\xb1\xb9\xc7\xd1\xb1\xb9",
	    8, &b), -1);
	T_ASSERT(b.len <= 8);
	buf_free(&b);
}

static void
test_width(void)
{
	T_EQ_INT(utf8_width("abc", 3), 3);
	T_EQ_INT(utf8_width("한국", strlen("한국")), 4);
	T_EQ_INT(utf8_width("日本", strlen("日本")), 4);
	T_EQ_INT(utf8_width("\xf0\x9f\x98\x80", 4), 2);	/* emoji */
	T_EQ_INT(utf8_width("e\xcc\x81", 3), 1);		/* combining */
	T_EQ_INT(utf8_cpwidth(0x1b), 0);
	/* Truncation never cuts a character, nor a wide one across the edge. */
	T_EQ_INT(utf8_truncate("한국어", strlen("한국어"), 3), 3);
	T_EQ_INT(utf8_truncate("한국어", strlen("한국어"), 4), 6);
	T_EQ_INT(utf8_truncate("ab한", strlen("ab한"), 3), 2);
	T_EQ_INT(utf8_truncate("abc", 3, 10), 3);
	T_EQ_INT(utf8_truncate("e\xcc\x81x", 4, 1), 3);
	T_EQ_INT(utf8_truncate("\xe2\x82", 2, 5), 2);
}

static void
test_encode(void)
{
	char		o[4];
	uint32_t	cp;

	T_EQ_INT(utf8_encode(0x20ac, o), 3);
	T_EQ_MEM(o, 3, "\xe2\x82\xac", 3);
	T_EQ_INT(utf8_encode(0xd800, o), 3);
	T_EQ_MEM(o, 3, "\xef\xbf\xbd", 3);
	T_EQ_INT(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	T_EQ_INT(cp, 0x1f600);
	T_EQ_INT(utf8_decode("\xf0\x9f\x98", 3, &cp), 3);
	T_EQ_INT(cp, UTF8_REPLACEMENT);
}

static const struct test tests[] = {
	{ "utf8_valid", test_utf8_valid },
	{ "utf8_repair", test_utf8_repair },
	{ "sniff", test_sniff },
	{ "cjk", test_cjk },
	{ "iso2022jp", test_iso2022jp },
	{ "invalid", test_invalid },
	{ "unknown_fallback", test_unknown_fallback },
	{ "canon", test_canon },
	{ "threads", test_threads },
	{ "bounded", test_bounded },
	{ "width", test_width },
	{ "encode", test_encode },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
