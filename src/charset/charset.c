/*
 * Conversion to UTF-8. Labels are mapped through an alias table to the
 * conversion real mail needs; iconv does the legacy charsets with one cached
 * descriptor per charset and thread; UTF-8, windows-1252 and the
 * ISO-2022-JP family are done here (the first two for speed, the last one so
 * that the Microsoft and NEC extensions decode).
 */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "xmalloc.h"

enum cs_kind {
	CS_UTF8,		/* validate, repair */
	CS_SNIFF_1252,		/* us-ascii, iso-8859-1: UTF-8 if valid, else CP1252 */
	CS_SNIFF_FALLBACK,	/* undeclared or unknown: UTF-8 if valid, else fallback */
	CS_CP1252,		/* table below */
	CS_ISO2022JP,		/* iso-2022-jp family, through EUCJP-MS */
	CS_ICONV,		/* iconv by name */
};

struct cs_info {
	enum cs_kind	kind;
	bool		ascii;		/* ASCII bytes are ASCII characters */
	char		name[CHARSET_NAME_MAX];
};

struct cs_alias {
	const char	*label;		/* lower case, without '-' and '_' */
	enum cs_kind	 kind;
	const char	*name;		/* iconv name for CS_ICONV */
};

/* Most frequent first: the table is searched in order. */
static const struct cs_alias cs_aliases[] = {
	{ "utf8", CS_UTF8, "UTF-8" },
	{ "usascii", CS_SNIFF_1252, NULL },
	{ "iso88591", CS_SNIFF_1252, NULL },
	{ "ascii", CS_SNIFF_1252, NULL },
	{ "ansix3.41968", CS_SNIFF_1252, NULL },
	{ "iso646us", CS_SNIFF_1252, NULL },
	{ "us", CS_SNIFF_1252, NULL },
	{ "latin1", CS_SNIFF_1252, NULL },
	{ "l1", CS_SNIFF_1252, NULL },
	{ "cp819", CS_SNIFF_1252, NULL },
	{ "ibm819", CS_SNIFF_1252, NULL },
	{ "isoir100", CS_SNIFF_1252, NULL },
	{ "csisolatin1", CS_SNIFF_1252, NULL },
	{ "iso88591:1987", CS_SNIFF_1252, NULL },
	{ "windows1252", CS_CP1252, NULL },
	{ "cp1252", CS_CP1252, NULL },
	{ "xcp1252", CS_CP1252, NULL },
	{ "ksc56011987", CS_ICONV, "CP949" },
	{ "ksc5601", CS_ICONV, "CP949" },
	{ "ksc56011989", CS_ICONV, "CP949" },
	{ "korean", CS_ICONV, "CP949" },
	{ "euckr", CS_ICONV, "CP949" },
	{ "cseuckr", CS_ICONV, "CP949" },
	{ "cp949", CS_ICONV, "CP949" },
	{ "uhc", CS_ICONV, "CP949" },
	{ "xuhc", CS_ICONV, "CP949" },
	{ "windows949", CS_ICONV, "CP949" },
	{ "xwindows949", CS_ICONV, "CP949" },
	{ "ms949", CS_ICONV, "CP949" },
	{ "gb2312", CS_ICONV, "GB18030" },
	{ "gb231280", CS_ICONV, "GB18030" },
	{ "csgb2312", CS_ICONV, "GB18030" },
	{ "gbk", CS_ICONV, "GB18030" },
	{ "xgbk", CS_ICONV, "GB18030" },
	{ "cp936", CS_ICONV, "GB18030" },
	{ "ms936", CS_ICONV, "GB18030" },
	{ "windows936", CS_ICONV, "GB18030" },
	{ "euccn", CS_ICONV, "GB18030" },
	{ "xeuccn", CS_ICONV, "GB18030" },
	{ "chinese", CS_ICONV, "GB18030" },
	{ "isoir58", CS_ICONV, "GB18030" },
	{ "gb18030", CS_ICONV, "GB18030" },
	{ "big5", CS_ICONV, "CP950" },
	{ "cnbig5", CS_ICONV, "CP950" },
	{ "csbig5", CS_ICONV, "CP950" },
	{ "xxbig5", CS_ICONV, "CP950" },
	{ "xbig5", CS_ICONV, "CP950" },
	{ "big5eten", CS_ICONV, "CP950" },
	{ "big5tw", CS_ICONV, "CP950" },	/* Python's email writes it */
	{ "cp950", CS_ICONV, "CP950" },
	{ "windows950", CS_ICONV, "CP950" },
	{ "big5hkscs", CS_ICONV, "BIG5-HKSCS" },
	{ "shiftjis", CS_ICONV, "CP932" },
	{ "xsjis", CS_ICONV, "CP932" },
	{ "sjis", CS_ICONV, "CP932" },
	{ "mskanji", CS_ICONV, "CP932" },
	{ "csshiftjis", CS_ICONV, "CP932" },
	{ "windows31j", CS_ICONV, "CP932" },
	{ "cswindows31j", CS_ICONV, "CP932" },
	{ "cp932", CS_ICONV, "CP932" },
	{ "ms932", CS_ICONV, "CP932" },
	{ "xmscp932", CS_ICONV, "CP932" },
	{ "eucjp", CS_ICONV, "EUCJP-MS" },
	{ "xeucjp", CS_ICONV, "EUCJP-MS" },
	{ "cseucpkdfmtjapanese", CS_ICONV, "EUCJP-MS" },
	{ "eucjpms", CS_ICONV, "EUCJP-MS" },
	{ "iso2022jp", CS_ISO2022JP, NULL },
	{ "csiso2022jp", CS_ISO2022JP, NULL },
	{ "iso2022jp1", CS_ISO2022JP, NULL },
	{ "iso2022jp2", CS_ISO2022JP, NULL },
	{ "csiso2022jp2", CS_ISO2022JP, NULL },
	{ "iso2022jp3", CS_ISO2022JP, NULL },
	{ "iso2022jpms", CS_ISO2022JP, NULL },
	{ "cp50220", CS_ISO2022JP, NULL },
	{ "cp50221", CS_ISO2022JP, NULL },
	{ "cp50222", CS_ISO2022JP, NULL },
	{ "iso2022kr", CS_ICONV, "ISO-2022-KR" },
	{ "tis620", CS_ICONV, "CP874" },
	{ "windows874", CS_ICONV, "CP874" },
	{ "iso885911", CS_ICONV, "CP874" },
	{ "iso88598i", CS_ICONV, "ISO-8859-8" },
	{ "iso88596i", CS_ICONV, "ISO-8859-6" },
	{ "unicode11utf7", CS_ICONV, "UTF-7" },
	{ "xmacroman", CS_ICONV, "MACINTOSH" },
	{ "macintosh", CS_ICONV, "MACINTOSH" },
	{ "unknown8bit", CS_SNIFF_FALLBACK, NULL },
	{ "xunknown", CS_SNIFF_FALLBACK, NULL },
	{ "unknown", CS_SNIFF_FALLBACK, NULL },
	{ "default", CS_SNIFF_FALLBACK, NULL },
	{ "xuserdefined", CS_SNIFF_FALLBACK, NULL },
	{ "unicode11utf8", CS_UTF8, "UTF-8" },
	{ "xunicode20utf8", CS_UTF8, "UTF-8" },
};

/* windows-1252 0x80..0x9f; 0 marks the five undefined bytes. */
static const uint16_t cp1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

/* The fallback, as resolved by charset_set_fallback(). */
static struct cs_info cs_fallback = { CS_CP1252, true, "CP1252" };

/* ---- Per-thread iconv descriptors ------------------------------------ */

#define CS_SLOTS	16

struct cs_slot {
	char		name[CHARSET_NAME_MAX];
	iconv_t		cd;		/* (iconv_t)-1: iconv cannot open it */
};

struct cs_cache {
	struct cs_slot	slot[CS_SLOTS];
	unsigned	used;
	unsigned	next;		/* replaced next when full */
};

static __thread struct cs_cache *cs_tls;
static pthread_key_t	cs_key;
static pthread_once_t	cs_once = PTHREAD_ONCE_INIT;

/* Close a thread's descriptors when it exits. */
static void
cs_cache_free(void *arg)
{
	struct cs_cache	*c = arg;
	unsigned	 i;

	for (i = 0; i < c->used; i++)
		if (c->slot[i].cd != (iconv_t)-1)
			iconv_close(c->slot[i].cd);
	free(c);
}

static void
cs_key_init(void)
{
	pthread_key_create(&cs_key, cs_cache_free);
}

/* The descriptor converting name to UTF-8, or (iconv_t)-1. */
static iconv_t
cs_get(const char *name)
{
	struct cs_cache	*c;
	struct cs_slot	*s;
	unsigned	 i;

	if ((c = cs_tls) == NULL) {
		pthread_once(&cs_once, cs_key_init);
		c = cs_tls = xcalloc(1, sizeof *c);
		pthread_setspecific(cs_key, c);
	}
	for (i = 0; i < c->used; i++)
		if (strcmp(c->slot[i].name, name) == 0)
			return c->slot[i].cd;
	if (c->used < CS_SLOTS)
		s = &c->slot[c->used++];
	else {
		s = &c->slot[c->next];
		c->next = (c->next + 1) % CS_SLOTS;
		if (s->cd != (iconv_t)-1)
			iconv_close(s->cd);
	}
	snprintf(s->name, sizeof s->name, "%s", name);
	s->cd = iconv_open("UTF-8", name);
	return s->cd;
}

/* ---- Labels ---------------------------------------------------------- */

/*
 * Resolve a label: trim blanks and quotes, drop a "*lang" suffix, look the
 * squashed lower-case form up in the alias table, else ask iconv.
 */
static void
cs_resolve(const char *label, size_t len, struct cs_info *ci)
{
	char		 key[CHARSET_NAME_MAX], upper[CHARSET_NAME_MAX];
	const char	*p, *end;
	size_t		 i, k = 0, u = 0;

	ci->kind = CS_SNIFF_FALLBACK;
	ci->ascii = true;
	ci->name[0] = '\0';
	if (label == NULL)
		return;
	p = label;
	end = label + len;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\''))
		p++;
	for (i = 0; p + i < end; i++)
		if (p[i] == '*') {
			end = p + i;
			break;
		}
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '"' || end[-1] == '\''))
		end--;
	if (p >= end || (size_t)(end - p) >= CHARSET_NAME_MAX)
		return;
	for (; p < end; p++) {
		char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
			return;
		upper[u++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		if (c != '-' && c != '_')
			key[k++] = c;
	}
	key[k] = upper[u] = '\0';
	for (i = 0; i < sizeof cs_aliases / sizeof cs_aliases[0]; i++) {
		if (strcmp(cs_aliases[i].label, key) != 0)
			continue;
		ci->kind = cs_aliases[i].kind;
		if (cs_aliases[i].name != NULL)
			snprintf(ci->name, sizeof ci->name, "%s", cs_aliases[i].name);
		else if (ci->kind == CS_CP1252)
			snprintf(ci->name, sizeof ci->name, "CP1252");
		else if (ci->kind == CS_ISO2022JP)
			snprintf(ci->name, sizeof ci->name, "ISO-2022-JP");
		ci->ascii = strcmp(ci->name, "UTF-7") != 0 &&
		    strcmp(ci->name, "ISO-2022-KR") != 0;
		return;
	}
	/* Not in the table: iconv may know it (koi8-r, iso-8859-5, ...). */
	if (cs_get(upper) == (iconv_t)-1)
		return;
	ci->kind = CS_ICONV;
	snprintf(ci->name, sizeof ci->name, "%s", upper);
	/* Only the well-known ASCII supersets get the ASCII fast path. */
	ci->ascii = has_prefix_ci(upper, "ISO-8859") ||
	    has_prefix_ci(upper, "ISO8859") || has_prefix_ci(upper, "CP12") ||
	    has_prefix_ci(upper, "WINDOWS-12") || has_prefix_ci(upper, "KOI8");
}

const char *
charset_canon(const char *label, size_t len, char out[CHARSET_NAME_MAX])
{
	struct cs_info	ci;

	cs_resolve(label, len, &ci);
	switch (ci.kind) {
	case CS_SNIFF_1252:
		snprintf(out, CHARSET_NAME_MAX, "UTF-8?CP1252");
		break;
	case CS_SNIFF_FALLBACK:
		snprintf(out, CHARSET_NAME_MAX, "UTF-8?%.40s", cs_fallback.name);
		break;
	default:
		snprintf(out, CHARSET_NAME_MAX, "%s", ci.name);
		break;
	}
	return out;
}

bool
charset_same(const char *a, size_t alen, const char *b, size_t blen)
{
	char	ca[CHARSET_NAME_MAX], cb[CHARSET_NAME_MAX];

	if (alen == blen && strncasecmp_ascii(a, b, alen) == 0)
		return true;
	/* Two unknown labels may be two different charsets. */
	if (strcmp(charset_canon(a, alen, ca), charset_canon(b, blen, cb)) != 0)
		return false;
	return strncmp(ca, "UTF-8?", 6) != 0;
}

bool
charset_known(const char *label, size_t len)
{
	struct cs_info	ci;

	cs_resolve(label, len, &ci);
	return ci.kind != CS_SNIFF_FALLBACK;
}

int
charset_set_fallback(const char *name, struct error *err)
{
	struct cs_info	ci;

	cs_resolve(name, strlen(name), &ci);
	switch (ci.kind) {
	case CS_SNIFF_FALLBACK:
		return error_set(err, ERR_CONFIG, "unknown charset: %s", name);
	case CS_SNIFF_1252:
		ci.kind = CS_CP1252;
		snprintf(ci.name, sizeof ci.name, "CP1252");
		break;
	default:
		break;
	}
	cs_fallback = ci;
	return 0;
}

const char *
charset_fallback(void)
{
	return cs_fallback.name;
}

/* ---- Conversions ----------------------------------------------------- */

/* Room for up to want bytes in out (less near its maximum); NULL when full. */
static char *
cs_reserve(struct buf *out, size_t want, size_t *got)
{
	char	*p;
	size_t	 left;

	if ((p = buf_reserve(out, want)) != NULL) {
		*got = want;
		return p;
	}
	if (out->max == 0 || out->len + 1 >= out->max)
		return NULL;
	left = out->max - out->len;
	if (left < 8 || (p = buf_reserve(out, left)) == NULL)
		return NULL;
	*got = left;
	return p;
}

static int
cs_cp1252(const char *in, size_t len, struct buf *out)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i, start = 0;
	uint32_t		 cp;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x80)
			continue;
		if (buf_add(out, in + start, i - start) == -1)
			return -1;
		if (p[i] >= 0xa0)
			cp = p[i];
		else if ((cp = cp1252_high[p[i] - 0x80]) == 0)
			cp = UTF8_REPLACEMENT;
		if (utf8_add(out, cp) == -1)
			return -1;
		start = i + 1;
	}
	return buf_add(out, in + start, len - start);
}

/* Run iconv over all of in; every invalid sequence becomes U+FFFD. */
static int
cs_iconv(iconv_t cd, const char *in, size_t len, struct buf *out)
{
	char	*ip = (char *)(uintptr_t)in, *op, *o0;
	size_t	 il = len, ol, room, r;

	iconv(cd, NULL, NULL, NULL, NULL);
	while (il > 0) {
		room = il + il / 2 + 64;
		if (room > (4U << 20))
			room = 4U << 20;
		if ((o0 = op = cs_reserve(out, room, &ol)) == NULL)
			return -1;
		r = iconv(cd, &ip, &il, &op, &ol);
		buf_commit(out, (size_t)(op - o0));
		if (r != (size_t)-1)
			break;
		if (errno == E2BIG) {
			if (op == o0 && ol >= 64)
				return -1;	/* out is full */
			continue;
		}
		if (utf8_add(out, UTF8_REPLACEMENT) == -1)
			return -1;
		if (errno == EINVAL)
			break;		/* truncated sequence at the end */
		ip++;
		il--;
	}
	/* Flush what a stateful decoder still holds (BIG5-HKSCS pairs). */
	if ((o0 = op = cs_reserve(out, 64, &ol)) == NULL)
		return -1;
	iconv(cd, NULL, NULL, &op, &ol);
	buf_commit(out, (size_t)(op - o0));
	return 0;
}

/* The fallback conversion of text that is not valid UTF-8. */
static int
cs_fallback_convert(const char *in, size_t len, struct buf *out)
{
	iconv_t	cd;

	switch (cs_fallback.kind) {
	case CS_CP1252:
		return cs_cp1252(in, len, out);
	case CS_ICONV:
		if ((cd = cs_get(cs_fallback.name)) != (iconv_t)-1)
			return cs_iconv(cd, in, len, out);
		return cs_cp1252(in, len, out);
	case CS_ISO2022JP:
	case CS_UTF8:
	default:
		return utf8_repair(in, len, out);
	}
}

/*
 * ISO-2022-JP as used in mail: ASCII and JIS-Roman, JIS X 0208 (1978 and
 * 1983), JIS X 0212, half-width katakana by ESC ( I, SO/SI or 8-bit bytes
 * (CP50221/CP50222), and the NEC and IBM rows of JIS X 0208 that Microsoft
 * writes. Each is rewritten to its EUC-JP form and EUCJP-MS decodes the
 * lot. Returns 1 when an escape for another charset (ISO-2022-JP-2's GB2312,
 * KS C 5601, ISO-8859 G2, JIS X 0213) is seen: the caller uses glibc's
 * decoder for those.
 */
static int
cs_2022jp_to_euc(const char *in, size_t len, struct buf *euc)
{
	enum { S_ASCII, S_0208, S_0212, S_KANA }	 g0 = S_ASCII;
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i = 0;
	bool			 so = false;
	unsigned char		 c;

	while (i < len) {
		c = p[i];
		if (c == 0x1b && i + 2 < len) {
			unsigned char a = p[i + 1], b = p[i + 2];

			if (a == '(' && (b == 'B' || b == 'J' || b == 'H')) {
				g0 = S_ASCII;
				i += 3;
				continue;
			}
			if (a == '(' && b == 'I') {
				g0 = S_KANA;
				i += 3;
				continue;
			}
			if (a == '$' && (b == '@' || b == 'B')) {
				g0 = S_0208;
				i += 3;
				continue;
			}
			if (a == '$' && b == 'A')
				return 1;
			if (a == '$' && b == '(' && i + 3 < len) {
				if (p[i + 3] == 'D') {
					g0 = S_0212;
					i += 4;
					continue;
				}
				if (p[i + 3] == 'B' || p[i + 3] == '@') {
					g0 = S_0208;
					i += 4;
					continue;
				}
				return 1;
			}
			if (a == '&' && b == '@') {
				i += 3;		/* JIS X 0208-1990 announcer */
				continue;
			}
			if (a == '.' || a == 'N' || a == '-')
				return 1;
			/* Any other ESC is kept; the renderer makes it visible. */
		}
		if (c == 0x0e) {
			so = true;
			i++;
			continue;
		}
		if (c == 0x0f) {
			so = false;
			i++;
			continue;
		}
		if (c >= 0xa1 && c <= 0xdf) {
			/* 8-bit half-width katakana (CP50222 habit). */
			buf_addc(euc, (char)0x8e);
			if (buf_addc(euc, (char)c) == -1)
				return -1;
			i++;
			continue;
		}
		if (c >= 0x80) {
			if (buf_addc(euc, (char)0xff) == -1)	/* invalid: U+FFFD */
				return -1;
			i++;
			continue;
		}
		if ((so || g0 == S_KANA) && c >= 0x21 && c <= 0x5f) {
			buf_addc(euc, (char)0x8e);
			if (buf_addc(euc, (char)(c | 0x80)) == -1)
				return -1;
			i++;
			continue;
		}
		if ((g0 == S_0208 || g0 == S_0212) && c >= 0x21 && c <= 0x7e) {
			if (i + 1 >= len || p[i + 1] < 0x21 || p[i + 1] > 0x7e) {
				/* Half a character: one U+FFFD. */
				if (buf_addc(euc, (char)0xff) == -1)
					return -1;
				i++;
				continue;
			}
			if (g0 == S_0212)
				buf_addc(euc, (char)0x8f);
			buf_addc(euc, (char)(c | 0x80));
			if (buf_addc(euc, (char)(p[i + 1] | 0x80)) == -1)
				return -1;
			i += 2;
			continue;
		}
		if (buf_addc(euc, (char)c) == -1)
			return -1;
		i++;
	}
	return 0;
}

static int
cs_2022jp(const char *in, size_t len, struct buf *out)
{
	struct buf	 euc;
	iconv_t		 cd;
	int		 rv;
	const char	*other;

	buf_init(&euc, out->max);
	rv = cs_2022jp_to_euc(in, len, &euc);
	if (rv == 0 && (cd = cs_get("EUCJP-MS")) != (iconv_t)-1) {
		rv = cs_iconv(cd, euc.data != NULL ? euc.data : "", euc.len, out);
		buf_free(&euc);
		return rv;
	}
	buf_free(&euc);
	if (rv == -1)
		return -1;
	other = memmem(in, len, "\x1b$(", 3) != NULL &&
	    (memmem(in, len, "\x1b$(O", 4) != NULL ||
	    memmem(in, len, "\x1b$(P", 4) != NULL ||
	    memmem(in, len, "\x1b$(Q", 4) != NULL) ? "ISO-2022-JP-3" :
	    "ISO-2022-JP-2";
	if ((cd = cs_get(other)) == (iconv_t)-1)
		return utf8_repair(in, len, out);
	return cs_iconv(cd, in, len, out);
}

/* True when in has only bytes that mean themselves in an ASCII superset. */
static bool
cs_is_ascii(const char *in, size_t len)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 i = 0;
	uint64_t		 w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		if ((w & 0x8080808080808080ULL) != 0)
			return false;
	}
	for (; i < len; i++)
		if (p[i] >= 0x80)
			return false;
	return true;
}

/*
 * Undeclared (or us-ascii) 7-bit text with ISO-2022-JP designations: old
 * Japanese mail, often without a charset, and raw in header fields.
 */
static bool
cs_looks_2022jp(const char *in, size_t len)
{
	const char	*e;

	if (len < 3)
		return false;
	for (e = memchr(in, 0x1b, len); e != NULL && (size_t)(e - in) + 2 < len;
	    e = memchr(e + 1, 0x1b, len - (size_t)(e + 1 - in))) {
		if ((e[1] == '$' && (e[2] == 'B' || e[2] == '@')) ||
		    (e[1] == '(' && e[2] == 'I'))
			return true;
	}
	return false;
}

static int
cs_convert(const struct cs_info *ci, const char *in, size_t len,
    struct buf *out)
{
	iconv_t	cd;

	if (len == 0)
		return 0;
	if (ci->ascii && cs_is_ascii(in, len)) {
		/* ESC, SO and SI switch an ISO-2022 decoder: not plain ASCII. */
		if (memchr(in, 0x1b, len) == NULL &&
		    (ci->kind != CS_ISO2022JP || memchr(in, 0x0e, len) == NULL))
			return buf_add(out, in, len);
		if ((ci->kind == CS_SNIFF_1252 || ci->kind == CS_SNIFF_FALLBACK) &&
		    cs_looks_2022jp(in, len))
			return cs_2022jp(in, len, out);
		if (ci->kind != CS_ISO2022JP)
			return buf_add(out, in, len);
	}
	switch (ci->kind) {
	case CS_UTF8:
		return utf8_repair(in, len, out);
	case CS_SNIFF_1252:
		if (utf8_valid(in, len))
			return buf_add(out, in, len);
		return cs_cp1252(in, len, out);
	case CS_SNIFF_FALLBACK:
		if (utf8_valid(in, len))
			return buf_add(out, in, len);
		return cs_fallback_convert(in, len, out);
	case CS_CP1252:
		return cs_cp1252(in, len, out);
	case CS_ISO2022JP:
		return cs_2022jp(in, len, out);
	case CS_ICONV:
		if ((cd = cs_get(ci->name)) == (iconv_t)-1)
			return cs_fallback_convert(in, len, out);
		return cs_iconv(cd, in, len, out);
	}
	return utf8_repair(in, len, out);
}

int
charset_to_utf8(const char *label, size_t labellen, const char *in,
    size_t len, struct buf *out)
{
	struct cs_info	ci;

	cs_resolve(label, labellen, &ci);
	return cs_convert(&ci, in, len, out);
}

int
charset_8bit_to_utf8(const char *hint, size_t hintlen, const char *in,
    size_t len, struct buf *out)
{
	struct cs_info	ci;

	if (len == 0)
		return 0;
	if (cs_is_ascii(in, len) && cs_looks_2022jp(in, len))
		return cs_2022jp(in, len, out);
	if (utf8_valid(in, len))
		return buf_add(out, in, len);
	cs_resolve(hint, hintlen, &ci);
	switch (ci.kind) {
	case CS_ICONV:
	case CS_CP1252:
	case CS_ISO2022JP:
		return cs_convert(&ci, in, len, out);
	default:
		return cs_fallback_convert(in, len, out);
	}
}
