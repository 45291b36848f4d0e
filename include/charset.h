/*
 * Charsets: conversion of MIME text to UTF-8 through iconv, with the aliases
 * real mail needs (ks_c_5601-1987 and euc-kr as CP949, gb2312/gbk as
 * GB18030, big5 as CP950, shift_jis as CP932, iso-2022-jp with its
 * extensions, us-ascii and iso-8859-1 holding UTF-8 or windows-1252 bytes),
 * and UTF-8 helpers: validation, repair, display width, safe truncation.
 *
 * Conversion never fails on bad input: an invalid or truncated sequence
 * becomes U+FFFD and conversion goes on, so nothing is dropped silently.
 * iconv descriptors are opened once per charset and thread and kept in a
 * small per-thread cache, so converting a header costs no iconv_open().
 */
#ifndef PETREL_CHARSET_H
#define PETREL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct buf;

/* Longest charset label we look at; longer labels are unknown. */
#define CHARSET_NAME_MAX	48

/*
 * The charset for 8-bit text that is not valid UTF-8 and has no usable
 * label: raw 8-bit header bytes, a text part without a charset parameter,
 * or a label nobody knows. The default is windows-1252. Returns 0, or -1
 * with err set (ERR_CONFIG) when the name cannot be converted from.
 * Call it at start-up, before other threads convert.
 */
int		 charset_set_fallback(const char *name, struct error *err);
const char	*charset_fallback(void);

/*
 * The iconv name petrel uses for a MIME charset label (case-insensitive,
 * surrounding blanks and quotes ignored, an RFC 2231 "*lang" suffix
 * dropped), written to out: "CP949" for "ks_c_5601-1987", "UTF-8" for
 * "utf8". Labels that read as "UTF-8 when valid, else a single-byte
 * charset" (us-ascii, iso-8859-1, unknown names) come back as "UTF-8?CP1252"
 * or "UTF-8?" plus the fallback. Returns out.
 */
const char	*charset_canon(const char *label, size_t len,
		    char out[CHARSET_NAME_MAX]);

/* True when the two labels name the same conversion (for joining words). */
bool		 charset_same(const char *a, size_t alen, const char *b,
		    size_t blen);

/* True when the label is known (alias table or iconv can open it). */
bool		 charset_known(const char *label, size_t len);

/*
 * Append the UTF-8 form of in (written in charset label; label NULL or
 * empty means undeclared) to out. Invalid sequences become U+FFFD. Returns 0,
 * or -1 when out reached its maximum (what fitted is kept).
 */
int		 charset_to_utf8(const char *label, size_t labellen,
		    const char *in, size_t len, struct buf *out);

/*
 * The same for raw 8-bit text with a hint (the charset of the body, for
 * undeclared 8-bit header bytes): valid UTF-8 stays as it is, else the hint
 * when it is a real charset, else the fallback. 7-bit text with ISO-2022-JP
 * escapes is read as ISO-2022-JP (here and for undeclared or us-ascii
 * text in charset_to_utf8).
 */
int		 charset_8bit_to_utf8(const char *hint, size_t hintlen,
		    const char *in, size_t len, struct buf *out);

/* ---- UTF-8 ----------------------------------------------------------- */

#define UTF8_REPLACEMENT	0xfffdU

/* True when s is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool	 utf8_valid(const char *s, size_t len);
/*
 * Decode one character at s (len > 0). Returns the bytes used (1..4); an
 * invalid or truncated sequence gives U+FFFD and uses 1 byte (or the bytes
 * of a truncated but well-started sequence, as one U+FFFD).
 */
size_t	 utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encode cp (a surrogate or > U+10FFFF becomes U+FFFD); returns 1..4. */
size_t	 utf8_encode(uint32_t cp, char out[4]);
int	 utf8_add(struct buf *, uint32_t cp);
/* Append s with every invalid sequence replaced by U+FFFD. */
int	 utf8_repair(const char *s, size_t len, struct buf *out);

/*
 * Display width in terminal columns: wcwidth() when the locale knows the
 * character, else a built-in table (Hangul, CJK, fullwidth forms and emoji
 * are 2 columns, combining marks 0). Control characters count as 0.
 */
int	 utf8_cpwidth(uint32_t cp);
size_t	 utf8_width(const char *s, size_t len);
/*
 * The number of bytes of s that fit in cols columns without cutting a
 * character in half (or a wide character across the limit).
 */
size_t	 utf8_truncate(const char *s, size_t len, size_t cols);

#endif
