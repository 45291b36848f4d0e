/*
 * Multi-line POP3 responses: dot-unstuffing and the end marker, resumable
 * at any byte. The state says where in a line the last input stopped; the
 * bytes of a line are found with memchr, and content leaves in runs as long
 * as the input allows (one call per dot-line and per input chunk).
 */
#include <string.h>

#include "pop3-private.h"

enum {
	ML_BOL,		/* at the start of a line */
	ML_DOT,		/* a line started with "."; the dot was dropped */
	ML_DOTCR,	/* ".\r" at the start of a line; the \r is held back */
	ML_LINE,	/* inside a line */
	ML_DONE,	/* the end marker was seen */
};

void
pop3_ml_init(struct pop3_ml *ml, size_t line_max, uint64_t max)
{
	memset(ml, 0, sizeof *ml);
	ml->state = ML_BOL;
	ml->line_max = line_max;
	ml->max = max;
}

/* Hand in[from..to) to out, counting it against the size limit. */
static enum pop3_ml_status
ml_emit(struct pop3_ml *ml, const char *in, size_t from, size_t to,
    pop3_ml_out out, void *arg)
{
	size_t	n = to - from;

	if (n == 0)
		return POP3_ML_MORE;
	if (ml->max != 0 && ml->total + n > ml->max) {
		ml->error = "response larger than allowed";
		ml->too_big = true;
		return POP3_ML_ERROR;
	}
	ml->total += n;
	if (out(arg, in + from, n) == -1)
		return POP3_ML_ABORT;
	return POP3_ML_MORE;
}

static enum pop3_ml_status
ml_line_bytes(struct pop3_ml *ml, size_t n)
{
	ml->line_len += n;
	if (ml->line_max != 0 && ml->line_len > ml->line_max) {
		ml->error = "line longer than allowed";
		return POP3_ML_ERROR;
	}
	return POP3_ML_MORE;
}

enum pop3_ml_status
pop3_ml_push(struct pop3_ml *ml, const char *in, size_t len, size_t *usedp,
    pop3_ml_out out, void *arg)
{
	enum pop3_ml_status	 r;
	const char		*nl;
	size_t			 i = 0, run = 0;

	*usedp = 0;
	if (ml->state == ML_DONE) {
		ml->error = "data after the end of the response";
		return POP3_ML_ERROR;
	}
	while (i < len) {
		switch (ml->state) {
		case ML_BOL:
			ml->line_len = 0;
			if (in[i] == '.') {
				/* Send what came before; the dot is not content. */
				if ((r = ml_emit(ml, in, run, i, out, arg)) !=
				    POP3_ML_MORE)
					return r;
				if ((r = ml_line_bytes(ml, 1)) != POP3_ML_MORE)
					return r;
				run = ++i;
				ml->state = ML_DOT;
			} else
				ml->state = ML_LINE;
			break;
		case ML_DOT:
			if (in[i] == '\r') {
				run = ++i;
				ml->state = ML_DOTCR;
			} else if (in[i] == '\n') {
				*usedp = i + 1;
				ml->state = ML_DONE;
				return POP3_ML_END;
			} else
				ml->state = ML_LINE;
			break;
		case ML_DOTCR:
			if (in[i] == '\n') {
				*usedp = i + 1;
				ml->state = ML_DONE;
				return POP3_ML_END;
			}
			/* ".\rx": the \r held back is content after all. */
			if ((r = ml_emit(ml, "\r", 0, 1, out, arg)) !=
			    POP3_ML_MORE)
				return r;
			if ((r = ml_line_bytes(ml, 1)) != POP3_ML_MORE)
				return r;
			ml->state = ML_LINE;
			break;
		case ML_LINE:
			if ((nl = memchr(in + i, '\n', len - i)) == NULL) {
				if ((r = ml_line_bytes(ml, len - i)) !=
				    POP3_ML_MORE)
					return r;
				i = len;
				break;
			}
			if ((r = ml_line_bytes(ml, (size_t)(nl - (in + i)))) !=
			    POP3_ML_MORE)
				return r;
			i = (size_t)(nl - in) + 1;
			ml->state = ML_BOL;
			break;
		}
	}
	if ((r = ml_emit(ml, in, run, len, out, arg)) != POP3_ML_MORE)
		return r;
	*usedp = len;
	return POP3_ML_MORE;
}
