/*
 * Modified UTF-7 (RFC 3501 section 5.1.3), the encoding of IMAP mailbox
 * names when UTF8=ACCEPT is not enabled, to and from UTF-8.
 *
 * Printable US-ASCII stands for itself, except '&', written "&-"; every other
 * character is UTF-16 in modified base64 (',' instead of '/', no padding)
 * between '&' and '-'.
 */
#ifndef PETREL_IMAP_UTF7_H
#define PETREL_IMAP_UTF7_H

#include <stddef.h>

/*
 * Decode len bytes of modified UTF-7 into a NUL-terminated UTF-8 string the
 * caller frees. NULL when the input is not valid canonical modified UTF-7:
 * bytes outside printable US-ASCII, a bad base64 byte, a run without its '-',
 * left-over bits that are not zero, a lone or reversed surrogate, U+0000,
 * printable US-ASCII encoded in base64, or two runs in a row ("&AOQ-&AOQ-"),
 * which an encoder must write as one.
 */
char	*imap_utf7_decode(const char *s, size_t len);
/*
 * Encode a NUL-terminated UTF-8 string; the caller frees the result. NULL when
 * the input is not valid UTF-8 (overlong forms, surrogates, code points above
 * U+10FFFF, truncated sequences).
 */
char	*imap_utf7_encode(const char *utf8);

#endif
