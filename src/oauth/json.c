/*
 * The little JSON an OAuth2 endpoint answers with (RFC 6749 5.1, 5.2; RFC
 * 8628 3.2): one object whose members we want are strings and numbers.
 * The reader is bounded: nesting deeper than JSON_DEPTH_MAX, more than
 * JSON_MEMBERS_MAX members or a string longer than JSON_STRING_MAX is an
 * error, and nested values are checked but not kept. Strings are decoded
 * (\uXXXX with surrogate pairs to UTF-8); a NUL or an unpaired surrogate
 * is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "oauth.h"
#include "secret.h"
#include "xmalloc.h"

#define JSON_DEPTH_MAX		16
#define JSON_STRING_MAX		(16 * 1024)

struct jp {
	const char	*p, *end;
	struct error	*err;
};

static int
jp_fail(struct jp *j, const char *what)
{
	return error_set(j->err, ERR_PROTO, "bad JSON from the authorization "
	    "server: %s", what);
}

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
jp_hex4(struct jp *j, unsigned *out)
{
	unsigned	v = 0;
	int		i, c;

	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)j->p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	j->p += 4;
	*out = v;
	return 0;
}

static void
utf8_put(struct buf *b, unsigned cp)
{
	if (cp < 0x80)
		buf_addc(b, (char)cp);
	else if (cp < 0x800) {
		buf_addc(b, (char)(0xc0 | cp >> 6));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xe0 | cp >> 12));
		buf_addc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	} else {
		buf_addc(b, (char)(0xf0 | cp >> 18));
		buf_addc(b, (char)(0x80 | (cp >> 12 & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp >> 6 & 0x3f)));
		buf_addc(b, (char)(0x80 | (cp & 0x3f)));
	}
}

/* A string at j->p (the opening quote); decoded into b when b != NULL. */
static int
jp_string(struct jp *j, struct buf *b)
{
	unsigned	cp, lo;
	size_t		n = 0;
	char		c;

	j->p++;
	for (;;) {
		if (j->p >= j->end)
			return jp_fail(j, "unterminated string");
		if (++n > JSON_STRING_MAX)
			return jp_fail(j, "string too long");
		c = *j->p++;
		if (c == '"')
			return 0;
		if ((unsigned char)c < 0x20)
			return jp_fail(j, "control character in a string");
		if (c != '\\') {
			if (b != NULL)
				buf_addc(b, c);
			continue;
		}
		if (j->p >= j->end)
			return jp_fail(j, "unterminated string");
		c = *j->p++;
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (jp_hex4(j, &cp) == -1)
				return jp_fail(j, "bad \\u escape");
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u')
					return jp_fail(j, "unpaired surrogate");
				j->p += 2;
				if (jp_hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff)
					return jp_fail(j, "unpaired surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000)
				return jp_fail(j, "unpaired surrogate");
			if (cp == 0)
				return jp_fail(j, "NUL in a string");
			if (b != NULL)
				utf8_put(b, cp);
			continue;
		default:
			return jp_fail(j, "bad escape");
		}
		if (b != NULL)
			buf_addc(b, c);
	}
}

static int
jp_number(struct jp *j, struct buf *b)
{
	const char	*s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') ||
	    *j->p == '.' || *j->p == 'e' || *j->p == 'E' || *j->p == '+' ||
	    *j->p == '-'))
		j->p++;
	if (j->p == s || j->p - s > 40)
		return jp_fail(j, "bad number");
	if (b != NULL)
		buf_add(b, s, (size_t)(j->p - s));
	return 0;
}

static int jp_value(struct jp *, struct buf *, int depth);

/* Objects and arrays below the top: checked, not kept. */
static int
jp_container(struct jp *j, int depth)
{
	char	close = *j->p == '{' ? '}' : ']';
	bool	obj = close == '}';

	if (depth >= JSON_DEPTH_MAX)
		return jp_fail(j, "nested too deep");
	j->p++;
	jp_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		jp_ws(j);
		if (obj) {
			if (j->p >= j->end || *j->p != '"')
				return jp_fail(j, "member name expected");
			if (jp_string(j, NULL) == -1)
				return -1;
			jp_ws(j);
			if (j->p >= j->end || *j->p++ != ':')
				return jp_fail(j, "':' expected");
		}
		if (jp_value(j, NULL, depth + 1) == -1)
			return -1;
		jp_ws(j);
		if (j->p >= j->end)
			return jp_fail(j, "unterminated");
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != close)
			return jp_fail(j, "',' expected");
		return 0;
	}
}

static int
jp_literal(struct jp *j, const char *word, struct buf *b)
{
	size_t	n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jp_fail(j, "unexpected character");
	j->p += n;
	if (b != NULL)
		buf_adds(b, word);
	return 0;
}

/* A value; a string or number goes into b (when given) as text. */
static int
jp_value(struct jp *j, struct buf *b, int depth)
{
	jp_ws(j);
	if (j->p >= j->end)
		return jp_fail(j, "value expected");
	switch (*j->p) {
	case '"':
		return jp_string(j, b);
	case '{':
	case '[':
		return jp_container(j, depth);
	case 't':
		return jp_literal(j, "true", b);
	case 'f':
		return jp_literal(j, "false", b);
	case 'n':
		return jp_literal(j, "null", NULL);
	default:
		return jp_number(j, b);
	}
}

int
oauth_json_parse(const char *text, size_t len, struct oauth_json *out,
    struct error *err)
{
	struct jp	 j = { text, text + len, err };
	struct buf	 name = BUF_INIT(JSON_STRING_MAX), val = BUF_INIT(0);

	memset(out, 0, sizeof *out);
	jp_ws(&j);
	if (j.p >= j.end || *j.p != '{')
		return jp_fail(&j, "not an object");
	j.p++;
	jp_ws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		goto done;
	}
	for (;;) {
		jp_ws(&j);
		if (j.p >= j.end || *j.p != '"') {
			jp_fail(&j, "member name expected");
			goto fail;
		}
		buf_reset(&name);
		buf_reset(&val);
		if (jp_string(&j, &name) == -1)
			goto fail;
		jp_ws(&j);
		if (j.p >= j.end || *j.p++ != ':') {
			jp_fail(&j, "':' expected");
			goto fail;
		}
		if (jp_value(&j, &val, 1) == -1)
			goto fail;
		if (val.len > 0 || (j.p > text && j.p[-1] == '"')) {
			if (out->n == OAUTH_JSON_MEMBERS) {
				jp_fail(&j, "too many members");
				goto fail;
			}
			out->name[out->n] = xstrdup(buf_cstr(&name));
			/* Values may be tokens: kept as secrets. */
			out->value[out->n] = secret_strndup(val.data != NULL ?
			    val.data : "", val.len);
			out->n++;
		}
		jp_ws(&j);
		if (j.p >= j.end) {
			jp_fail(&j, "unterminated object");
			goto fail;
		}
		if (*j.p == ',') {
			j.p++;
			continue;
		}
		if (*j.p++ != '}') {
			jp_fail(&j, "',' expected");
			goto fail;
		}
		break;
	}
done:
	jp_ws(&j);
	if (j.p != j.end) {
		jp_fail(&j, "data after the object");
		goto fail;
	}
	buf_free(&name);
	if (val.data != NULL)
		explicit_bzero(val.data, val.len);
	buf_free(&val);
	return 0;
fail:
	buf_free(&name);
	if (val.data != NULL)
		explicit_bzero(val.data, val.len);
	buf_free(&val);
	oauth_json_free(out);
	return -1;
}

const char *
oauth_json_get(const struct oauth_json *o, const char *name)
{
	int	i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->name[i], name) == 0)
			return o->value[i];
	return NULL;
}

void
oauth_json_free(struct oauth_json *o)
{
	int	i;

	for (i = 0; i < o->n; i++) {
		free(o->name[i]);
		freezero_str(o->value[i]);
	}
	o->n = 0;
}
