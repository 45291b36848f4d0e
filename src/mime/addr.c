/*
 * Address lists (RFC 5322 with the obsolete forms of RFC 2822 section 4):
 * display names as atoms, quoted strings and encoded words, groups (kept as
 * a name entry followed by their members), comments (a name for a bare
 * address), routes, empty list elements and unterminated brackets.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

#define ADDR_MAX	10000	/* addresses kept from one field */

struct addr_state {
	struct buf	 phrase;	/* words with single spaces: a display name */
	struct buf	 bare;		/* the same words without spaces: an addr-spec */
	struct buf	 angle;		/* inside <...> */
	struct buf	 comment;	/* the first comment */
	bool		 in_angle;
	bool		 angle_seen;
	bool		 in_group;
	bool		 space;		/* a blank since the last word */
	struct mime_addr *v;
	size_t		 n, cap;
};

static bool
a_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
a_special(char c)
{
	switch (c) {
	case '(': case ')': case '<': case '>': case '[': case ']': case ':':
	case ';': case '@': case '\\': case ',': case '.': case '"':
	case ' ': case '\t': case '\r': case '\n':
		return true;
	}
	return false;
}

static void
addr_push(struct addr_state *st, char *name, char *addr)
{
	if (st->n >= ADDR_MAX) {
		free(name);
		free(addr);
		return;
	}
	if (st->n == st->cap) {
		st->cap = st->cap == 0 ? 4 : st->cap * 2;
		st->v = xreallocarray(st->v, st->cap, sizeof *st->v);
	}
	st->v[st->n].name = name;
	st->v[st->n].addr = addr;
	st->n++;
}

/* A decoded display name, NULL when empty. */
static char *
addr_name(const struct buf *b)
{
	char	*s;

	if (b->len == 0)
		return NULL;
	s = mime_decode_header(b->data, b->len);
	if (*s == '\0') {
		free(s);
		return NULL;
	}
	return s;
}

/* An address as valid UTF-8, NULL when empty. */
static char *
addr_spec(const struct buf *b)
{
	struct buf	out = BUF_INIT(0);

	if (b->len == 0)
		return NULL;
	charset_8bit_to_utf8(NULL, 0, b->data, b->len, &out);
	return mime_steal(&out, NULL);
}

/* End of one mailbox: decide what the words were. */
static void
addr_finish(struct addr_state *st)
{
	char	*name = NULL, *addr = NULL;

	if (st->angle_seen) {
		name = addr_name(&st->phrase);
		addr = addr_spec(&st->angle);
	} else if (st->bare.len > 0) {
		if (memchr(st->bare.data, '@', st->bare.len) != NULL)
			addr = addr_spec(&st->bare);
		else
			addr = addr_spec(&st->phrase);
		name = addr_name(&st->comment);
	}
	if (name != NULL || addr != NULL)
		addr_push(st, name, addr);
	buf_reset(&st->phrase);
	buf_reset(&st->bare);
	buf_reset(&st->angle);
	buf_reset(&st->comment);
	st->in_angle = st->angle_seen = st->space = false;
}

/* Add a word to the current mailbox (quoted: re-quote it in an address). */
static void
addr_word(struct addr_state *st, const char *w, size_t len, bool quoted)
{
	struct buf	*to = st->in_angle ? &st->angle : &st->bare;
	size_t		 i;

	if (quoted) {
		buf_addc(to, '"');
		for (i = 0; i < len; i++) {
			if (w[i] == '"' || w[i] == '\\')
				buf_addc(to, '\\');
			buf_addc(to, w[i]);
		}
		buf_addc(to, '"');
	} else
		buf_add(to, w, len);
	if (st->in_angle)
		return;
	if (st->space && st->phrase.len > 0)
		buf_addc(&st->phrase, ' ');
	buf_add(&st->phrase, w, len);
	st->space = false;
}

/* Read a comment (nested, escapes) from p; its text goes to b. */
static const char *
addr_comment(const char *p, const char *end, struct buf *b)
{
	int	depth = 0;

	for (; p < end; p++) {
		if (*p == '\\' && p + 1 < end) {
			buf_addc(b, *++p);
			continue;
		}
		if (*p == '(') {
			if (depth++ > 0)
				buf_addc(b, '(');
			continue;
		}
		if (*p == ')') {
			if (--depth == 0)
				return p + 1;
			buf_addc(b, ')');
			continue;
		}
		buf_addc(b, *p == '\r' || *p == '\n' ? ' ' : *p);
	}
	return end;
}

/*
 * Working buffers, kept per thread between calls: a sync parses hundreds of
 * thousands of address fields, and allocating five buffers for each was
 * most of the cost. They only grow to the longest field seen, and are freed
 * when the thread exits.
 */
#define ADDR_NBUFS	5
static __thread struct buf	*addr_bufs;
static pthread_key_t		 addr_key;
static pthread_once_t		 addr_once = PTHREAD_ONCE_INIT;

static void
addr_bufs_free(void *arg)
{
	struct buf	*b = arg;
	int		 i;

	for (i = 0; i < ADDR_NBUFS; i++)
		buf_free(&b[i]);
	free(b);
}

static void
addr_key_init(void)
{
	pthread_key_create(&addr_key, addr_bufs_free);
}

static struct buf *
addr_thread_bufs(void)
{
	if (addr_bufs == NULL) {
		pthread_once(&addr_once, addr_key_init);
		addr_bufs = xcalloc(ADDR_NBUFS, sizeof *addr_bufs);
		pthread_setspecific(addr_key, addr_bufs);
	}
	return addr_bufs;
}

size_t
mime_parse_addresses(const char *value, size_t len, struct mime_addr **out)
{
	struct addr_state	 st;
	struct buf		 tmp;
	const char		*p = value, *end = value + len, *s;
	size_t			 ew;

	memset(&st, 0, sizeof st);
	addr_thread_bufs();
	st.phrase = addr_bufs[0];
	st.bare = addr_bufs[1];
	st.angle = addr_bufs[2];
	st.comment = addr_bufs[3];
	tmp = addr_bufs[4];
	buf_reset(&st.phrase);
	buf_reset(&st.bare);
	buf_reset(&st.angle);
	buf_reset(&st.comment);
	buf_reset(&tmp);
	while (p < end && st.n < ADDR_MAX) {
		char c = *p;

		if (a_blank(c)) {
			st.space = true;
			p++;
			continue;
		}
		switch (c) {
		case '(':
			buf_reset(&tmp);
			p = addr_comment(p, end, &tmp);
			if (st.comment.len == 0)
				buf_add(&st.comment, tmp.data, tmp.len);
			st.space = true;
			continue;
		case '"':
			buf_reset(&tmp);
			for (p++; p < end && *p != '"'; p++) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '\r' || *p == '\n')
					continue;
				buf_addc(&tmp, *p);
			}
			if (p < end)
				p++;
			addr_word(&st, tmp.data != NULL ? tmp.data : "", tmp.len,
			    true);
			continue;
		case ',':
			p++;
			if (!st.in_angle)
				addr_finish(&st);
			continue;
		case ';':
			p++;
			if (st.in_angle)
				continue;
			addr_finish(&st);
			st.in_group = false;
			continue;
		case ':':
			p++;
			if (st.in_angle) {
				buf_reset(&st.angle);	/* obs-route */
				continue;
			}
			if (!st.in_group && st.phrase.len > 0) {
				addr_push(&st, addr_name(&st.phrase), NULL);
				buf_reset(&st.phrase);
				buf_reset(&st.bare);
				buf_reset(&st.comment);
				st.in_group = true;
				st.space = false;
				continue;
			}
			addr_word(&st, ":", 1, false);
			continue;
		case '<':
			p++;
			st.in_angle = st.angle_seen = true;
			buf_reset(&st.angle);
			continue;
		case '>':
			p++;
			st.in_angle = false;
			st.space = true;
			continue;
		case '@':
		case '.':
			p++;
			if (st.in_angle)
				buf_addc(&st.angle, c);
			else {
				buf_addc(&st.bare, c);
				buf_addc(&st.phrase, c);
				st.space = false;
			}
			continue;
		case '[':
			s = p;
			while (p < end && *p != ']')
				p++;
			if (p < end)
				p++;
			addr_word(&st, s, (size_t)(p - s), false);
			continue;
		case '\\':
			p++;
			if (p < end)
				addr_word(&st, p++, 1, false);
			continue;
		default:
			break;
		}
		/* An atom; an encoded word may hold specials. */
		s = p;
		if (*p == '=' && (ew = mime_ew_len(p, end)) != 0)
			p += ew;
		while (p < end && !a_special(*p)) {
			/* Only "=?" can start an encoded word. */
			if (*p == '=' && (ew = mime_ew_len(p, end)) != 0)
				p += ew;
			else
				p++;
		}
		if (p == s)
			p++;
		addr_word(&st, s, (size_t)(p - s), false);
	}
	addr_finish(&st);
	/* Hand the (possibly grown) buffers back for the next call. */
	addr_bufs[0] = st.phrase;
	addr_bufs[1] = st.bare;
	addr_bufs[2] = st.angle;
	addr_bufs[3] = st.comment;
	addr_bufs[4] = tmp;
	*out = st.v;
	return st.n;
}

void
mime_addrs_free(struct mime_addr *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].addr);
	}
	free(v);
}

char *
mime_addr_format(const struct mime_addr *a)
{
	char	*s;

	if (a->name != NULL && a->addr != NULL)
		xasprintf(&s, "%s <%s>", a->name, a->addr);
	else if (a->addr != NULL)
		s = xstrdup(a->addr);
	else if (a->name != NULL)
		xasprintf(&s, "%s:", a->name);
	else
		s = xstrdup("");
	return s;
}

/* Characters of an unquoted display-name word or an addr-spec (atext). */
static bool
fast_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '^': case '_':
	case '`': case '{': case '|': case '}': case '~':
		return true;
	}
	return false;
}

static bool
fast_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * The common case without the general parser: a list of "Name Words
 * <local@domain>" or "local@domain" in plain ASCII, with no quotes, comments,
 * encoded words, groups or dots in names. Anything else returns -1 (and the
 * caller parses in full), so the result is always what the parser would give.
 */
static int
fast_format(const char *p, const char *end, struct buf *out)
{
	const char	*w, *a, *ae;
	bool		 any = false;

	for (;;) {
		size_t	mark = out->len, nwords = 0;

		while (p < end && fast_blank(*p))
			p++;
		if (p == end || *p == ',')
			return -1;	/* an empty item: leave it to the parser */
		if (any && buf_add(out, ", ", 2) == -1)
			return -1;
		mark = out->len;
		/* Words up to "<" or the end of a bare addr-spec. */
		for (;;) {
			w = p;
			while (p < end && (fast_atext(*p) || *p == '.' ||
			    *p == '@'))
				p++;
			if (p == w)
				break;
			if (nwords++ > 0 && buf_addc(out, ' ') == -1)
				return -1;
			if (buf_add(out, w, (size_t)(p - w)) == -1)
				return -1;
			while (p < end && fast_blank(*p))
				p++;
		}
		if (p < end && *p == '<') {
			/* The words were a name: no dots or "@" allowed there. */
			if (out->len > mark &&
			    (memchr(out->data + mark, '.', out->len - mark) ||
			    memchr(out->data + mark, '@', out->len - mark)))
				return -1;
			a = ++p;
			while (p < end && (fast_atext(*p) || *p == '.' ||
			    *p == '@'))
				p++;
			ae = p;
			if (p == end || *p != '>' || a == ae ||
			    memchr(a, '@', (size_t)(ae - a)) == NULL)
				return -1;
			p++;
			if (nwords > 0 && buf_add(out, " <", 2) == -1)
				return -1;
			if (buf_add(out, a, (size_t)(ae - a)) == -1 ||
			    (nwords > 0 && buf_addc(out, '>') == -1))
				return -1;
		} else if (nwords != 1 || out->len == mark ||
		    memchr(out->data + mark, '@', out->len - mark) == NULL)
			return -1;	/* not a plain addr-spec */
		any = true;
		while (p < end && fast_blank(*p))
			p++;
		if (p == end)
			return 0;
		if (*p != ',')
			return -1;
		p++;
	}
}

char *
mime_format_addresses(const char *value, size_t len)
{
	struct mime_addr	*addrs = NULL;
	struct buf		 b = BUF_INIT(64 * 1024);
	size_t			 n, i;

	if (fast_format(value, value + len, &b) == 0)
		return mime_steal(&b, NULL);
	buf_reset(&b);
	n = mime_parse_addresses(value, len, &addrs);
	for (i = 0; i < n; i++) {
		const struct mime_addr *a = &addrs[i];

		if (a->addr == NULL && a->name == NULL)
			continue;
		if (b.len > 0)
			buf_add(&b, ", ", 2);
		if (a->name != NULL && a->addr != NULL) {
			buf_adds(&b, a->name);
			buf_add(&b, " <", 2);
			buf_adds(&b, a->addr);
			buf_addc(&b, '>');
		} else if (a->addr != NULL)
			buf_adds(&b, a->addr);
		else {
			buf_adds(&b, a->name);
			buf_addc(&b, ':');
		}
	}
	mime_addrs_free(addrs, n);
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return mime_steal(&b, NULL);
}
