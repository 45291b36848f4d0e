/* Internals of the POP3 module, shared by its files and its unit tests. */
#ifndef PETREL_POP3_PRIVATE_H
#define PETREL_POP3_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pop3.h"
#include "util.h"

/* ---- Multi-line responses (multiline.c) ---------------------------------- */

/*
 * The body of a multi-line response (RFC 1939 3): lines ending in CRLF, a
 * leading "." doubled by the server ("byte-stuffed"), and a line holding a
 * single "." at the end. The parser is pushed whatever bytes arrived and
 * resumes where it stopped, so the end marker or a stuffed dot may be split
 * across reads at any byte. It never copies: content leaves through the out
 * callback in runs of the input. A lone LF also ends a line (some servers
 * send one), so ".\n" ends the response as ".\r\n" does.
 */
enum pop3_ml_status {
	POP3_ML_MORE,		/* all input used, the response goes on */
	POP3_ML_END,		/* end marker found; *usedp bytes were this response's */
	POP3_ML_ERROR,		/* a limit was passed: see pop3_ml.error */
	POP3_ML_ABORT,		/* the out callback returned -1 */
};

struct pop3_ml {
	int		 state;
	size_t		 line_len;	/* bytes of the current line so far */
	size_t		 line_max;	/* 0: no limit */
	uint64_t	 total;		/* content bytes handed out */
	uint64_t	 max;		/* 0: no limit */
	const char	*error;		/* static text for POP3_ML_ERROR */
	bool		 too_big;	/* the error is max, not line_max */
};

typedef int (*pop3_ml_out)(void *arg, const char *data, size_t len);

void	pop3_ml_init(struct pop3_ml *, size_t line_max, uint64_t max);
/*
 * Consume in[0..len). Content, dot-unstuffed and with its line ends, goes
 * to out; *usedp is how many input bytes were consumed (all of them unless
 * the result is END, ERROR or ABORT).
 */
enum pop3_ml_status pop3_ml_push(struct pop3_ml *, const char *in, size_t len,
	    size_t *usedp, pop3_ml_out out, void *arg);

/* ---- Status lines (client.c) --------------------------------------------- */

enum pop3_status_kind { POP3_OK, POP3_ERR, POP3_CONT };

/* A status line split up; pointers into the caller's (NUL-terminated) line. */
struct pop3_status {
	enum pop3_status_kind kind;
	const char	*code;		/* RFC 2449 response code without brackets, or NULL */
	size_t		 code_len;
	const char	*text;		/* the rest, without the code */
};

/*
 * Split "+OK text", "-ERR [CODE] text" or "+ challenge" (line without its
 * CRLF, NUL-terminated). -1 when it is none of these.
 */
int		 pop3_parse_status(const char *line, struct pop3_status *st);
/* The error class an -ERR response means, given the class without a code. */
enum err_class	 pop3_code_class(const struct pop3_status *st, enum err_class dflt);
/* Copy server text for an error message: control bytes become '?', at most max bytes. */
void		 pop3_clean_text(char *out, size_t outsz, const char *in);
/* The APOP timestamp ("<...>") of a greeting text, malloc'd, or NULL. */
char		*pop3_greeting_timestamp(const char *text);

#endif
