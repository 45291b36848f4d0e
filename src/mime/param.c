/*
 * Content-Type and Content-Disposition values: the leading token and the
 * parameters, with RFC 2231 sections and charsets and the RFC 2047 words
 * that real mailers put in quoted file names.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

static bool
p_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char
p_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Skip a (comment), nesting counted without recursion. */
static const char *
p_comment(const char *p, const char *end)
{
	int	depth = 0;

	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p + 1;
	}
	return end;
}

/* Read one parameter value (quoted or not) into b; returns where it ends. */
static const char *
p_value(const char *p, const char *end, struct buf *b)
{
	const char	*s;

	if (p < end && *p == '"') {
		for (p++; p < end && *p != '"'; p++) {
			if (*p == '\r' || *p == '\n')
				continue;
			if (*p == '\\' && p + 1 < end)
				p++;
			buf_addc(b, *p);
		}
		if (p < end)
			p++;
		/* Junk after the closing quote is dropped up to the ';'. */
		while (p < end && *p != ';')
			p++;
		return p;
	}
	/* Unquoted: up to ';', blanks inside kept (broken mailers). */
	s = p;
	while (p < end && *p != ';')
		p++;
	while (s < p && p_blank(*s))
		s++;
	for (; s < p; s++)
		if (*s != '\r' && *s != '\n')
			buf_addc(b, *s);
	while (b->len > 0 && p_blank(b->data[b->len - 1]))
		b->data[--b->len] = '\0';
	return p;
}

void
mime_params_parse(const char *v, size_t len, struct mime_params *mp)
{
	const char	*p = v, *end = v + len, *ns, *ne, *star;
	struct buf	 val;
	size_t		 t = 0;

	memset(mp, 0, sizeof *mp);
	/* The token: blanks and comments dropped, lower case. */
	while (p < end && *p != ';') {
		if (*p == '(') {
			p = p_comment(p, end);
			continue;
		}
		if (!p_blank(*p) && *p != '"' && t + 1 < sizeof mp->token)
			mp->token[t++] = p_lower(*p);
		p++;
	}
	mp->token[t] = '\0';
	while (p < end) {
		p++;	/* the ';' */
		while (p < end && (p_blank(*p) || *p == ';'))
			p++;
		ns = p;
		while (p < end && *p != '=' && *p != ';')
			p++;
		if (p >= end || *p == ';')
			continue;
		ne = p++;
		while (ne > ns && p_blank(ne[-1]))
			ne--;
		while (p < end && p_blank(*p))
			p++;
		buf_init(&val, 0);
		p = p_value(p, end, &val);
		if (ne == ns || mp->n >= MIME_PARAMS_MAX) {
			buf_free(&val);
			continue;
		}
		struct mime_param *mpp = &mp->p[mp->n++];

		mpp->section = -1;
		mpp->extended = false;
		if (ne[-1] == '*') {
			mpp->extended = true;
			ne--;
		}
		if ((star = memchr(ns, '*', (size_t)(ne - ns))) != NULL) {
			uint64_t sec;

			if (parse_u64(star + 1, (size_t)(ne - star - 1), 999,
			    &sec) == 0)
				mpp->section = (int)sec;
			ne = star;
		}
		mpp->name = xmemdup0(ns, (size_t)(ne - ns));
		for (char *c = mpp->name; *c != '\0'; c++)
			*c = p_lower(*c);
		mpp->value = mime_steal(&val, &mpp->valuelen);
	}
}

void
mime_params_free(struct mime_params *mp)
{
	int	i;

	for (i = 0; i < mp->n; i++) {
		free(mp->p[i].name);
		free(mp->p[i].value);
	}
	mp->n = 0;
}

const char *
mime_params_raw(const struct mime_params *mp, const char *name)
{
	int	i;

	for (i = 0; i < mp->n; i++)
		if (mp->p[i].section == -1 && !mp->p[i].extended &&
		    strcmp(mp->p[i].name, name) == 0)
			return mp->p[i].value;
	/* Only an extended form given: its value without charset'lang'. */
	for (i = 0; i < mp->n; i++)
		if (mp->p[i].section <= 0 && strcmp(mp->p[i].name, name) == 0) {
			const char *q = mp->p[i].value;

			if (mp->p[i].extended && (q = strchr(q, '\'')) != NULL &&
			    (q = strchr(q + 1, '\'')) != NULL)
				return q + 1;
			return mp->p[i].value;
		}
	return NULL;
}

static int
p_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append s with %XX decoded; a malformed '%' stays as it is. */
static void
p_pct(const char *s, size_t len, struct buf *b)
{
	size_t	i;
	int	hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = p_hex((unsigned char)s[i + 1])) >= 0 &&
		    (lo = p_hex((unsigned char)s[i + 2])) >= 0) {
			buf_addc(b, (char)(hi << 4 | lo));
			i += 2;
		} else
			buf_addc(b, s[i]);
	}
}

char *
mime_params_text(const struct mime_params *mp, const char *name,
    const char *hint)
{
	const struct mime_param	*seg[MIME_PARAMS_MAX];
	struct buf		 raw, out;
	const char		*cs = NULL, *v, *q1, *q2;
	size_t			 cslen = 0, hintlen;
	int			 i, j, n = 0;

	hintlen = hint != NULL ? strlen(hint) : 0;
	for (i = 0; i < mp->n; i++)
		if ((mp->p[i].section >= 0 || mp->p[i].extended) &&
		    strcmp(mp->p[i].name, name) == 0)
			seg[n++] = &mp->p[i];
	buf_init(&out, 0);
	if (n > 0) {
		/* Sort the sections (insertion sort: at most 64). */
		for (i = 1; i < n; i++)
			for (j = i; j > 0 && (seg[j - 1]->section < 0 ? 0 :
			    seg[j - 1]->section) > (seg[j]->section < 0 ? 0 :
			    seg[j]->section); j--) {
				const struct mime_param *t = seg[j];

				seg[j] = seg[j - 1];
				seg[j - 1] = t;
			}
		buf_init(&raw, 0);
		for (i = 0; i < n; i++) {
			if (i > 0 && seg[i]->section == seg[i - 1]->section)
				continue;	/* a duplicate section */
			v = seg[i]->value;
			if (!seg[i]->extended) {
				buf_add(&raw, v, seg[i]->valuelen);
				continue;
			}
			if (i == 0 && (q1 = memchr(v, '\'', seg[i]->valuelen)) &&
			    (q2 = memchr(q1 + 1, '\'', seg[i]->valuelen -
			    (size_t)(q1 + 1 - v))) != NULL) {
				cs = v;
				cslen = (size_t)(q1 - v);
				v = q2 + 1;
			}
			p_pct(v, seg[i]->valuelen - (size_t)(v - seg[i]->value),
			    &raw);
		}
		if (cslen > 0)
			charset_to_utf8(cs, cslen, raw.data, raw.len, &out);
		else
			charset_8bit_to_utf8(hint, hintlen, raw.data, raw.len,
			    &out);
		buf_free(&raw);
		return mime_steal(&out, NULL);
	}
	for (i = 0; i < mp->n; i++)
		if (mp->p[i].section == -1 && strcmp(mp->p[i].name, name) == 0) {
			mime_words_decode(mp->p[i].value, mp->p[i].valuelen,
			    hint, hintlen, &out);
			return mime_steal(&out, NULL);
		}
	buf_free(&out);
	return NULL;
}
