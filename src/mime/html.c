/*
 * The built-in HTML to text converter, for when no mailcap entry applies:
 * tags dropped (script, style and head with their content), entities
 * decoded, white space collapsed outside <pre>, block elements as line
 * breaks, lists as bullets, blockquotes as "> ", images as their alt text,
 * links numbered and listed as footnotes. One pass, linear in the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

#define HTML_LINKS_MAX	1000	/* footnotes kept */
#define HTML_LISTS_MAX	16	/* list nesting that indents */
#define HTML_QUOTES_MAX	16	/* blockquote nesting that prefixes */
#define HTML_LINK_HASH	4096	/* slots of the footnote index (> 2 * LINKS_MAX) */

struct html {
	struct buf	*out;
	struct buf	 line;		/* the current line, without prefix */
	size_t		 linew;		/* its width */
	struct buf	 word;		/* the word being built */
	bool		 space;		/* a blank before the next word */
	int		 nl;		/* line breaks at the end of out */
	bool		 started;	/* something was written */
	int		 width;
	int		 pre;		/* <pre> depth */
	int		 quote;		/* <blockquote> depth */
	int		 lists;		/* list depth */
	int		 ol[HTML_LISTS_MAX];	/* item counter, -1 for <ul> */
	char		*href;		/* the open link */
	char		*links[HTML_LINKS_MAX];
	int		 nlinks;
	int16_t		 link_slot[HTML_LINK_HASH];	/* index + 1, 0 free */
};

struct html_entity {
	const char	*name;
	uint32_t	 cp;
};

/* Sorted by name for bsearch. */
static const struct html_entity html_entities[] = {
	{ "AElig", 0xc6 }, { "Aacute", 0xc1 }, { "Acirc", 0xc2 },
	{ "Agrave", 0xc0 }, { "Aring", 0xc5 }, { "Atilde", 0xc3 },
	{ "Auml", 0xc4 }, { "Ccedil", 0xc7 }, { "Eacute", 0xc9 },
	{ "Ecirc", 0xca }, { "Egrave", 0xc8 }, { "Euml", 0xcb },
	{ "Iacute", 0xcd }, { "Icirc", 0xce }, { "Igrave", 0xcc },
	{ "Iuml", 0xcf }, { "Ntilde", 0xd1 }, { "Oacute", 0xd3 },
	{ "Ocirc", 0xd4 }, { "Ograve", 0xd2 }, { "Oslash", 0xd8 },
	{ "Otilde", 0xd5 }, { "Ouml", 0xd6 }, { "Uacute", 0xda },
	{ "Ucirc", 0xdb }, { "Ugrave", 0xd9 }, { "Uuml", 0xdc },
	{ "Yacute", 0xdd }, { "aacute", 0xe1 }, { "acirc", 0xe2 },
	{ "acute", 0xb4 }, { "aelig", 0xe6 }, { "agrave", 0xe0 },
	{ "amp", '&' }, { "apos", '\'' }, { "aring", 0xe5 },
	{ "atilde", 0xe3 }, { "auml", 0xe4 }, { "bdquo", 0x201e },
	{ "brvbar", 0xa6 }, { "bull", 0x2022 }, { "ccedil", 0xe7 },
	{ "cedil", 0xb8 }, { "cent", 0xa2 }, { "copy", 0xa9 },
	{ "curren", 0xa4 }, { "dagger", 0x2020 }, { "deg", 0xb0 },
	{ "divide", 0xf7 }, { "eacute", 0xe9 }, { "ecirc", 0xea },
	{ "egrave", 0xe8 }, { "emsp", 0x2003 }, { "ensp", 0x2002 },
	{ "euml", 0xeb }, { "euro", 0x20ac }, { "frac12", 0xbd },
	{ "frac14", 0xbc }, { "frac34", 0xbe }, { "gt", '>' },
	{ "hellip", 0x2026 }, { "iacute", 0xed }, { "icirc", 0xee },
	{ "iexcl", 0xa1 }, { "igrave", 0xec }, { "iquest", 0xbf },
	{ "iuml", 0xef }, { "laquo", 0xab }, { "ldquo", 0x201c },
	{ "lrm", 0x200e }, { "lsaquo", 0x2039 }, { "lsquo", 0x2018 },
	{ "lt", '<' }, { "macr", 0xaf }, { "mdash", 0x2014 },
	{ "micro", 0xb5 }, { "middot", 0xb7 }, { "nbsp", 0xa0 },
	{ "ndash", 0x2013 }, { "not", 0xac }, { "ntilde", 0xf1 },
	{ "oacute", 0xf3 }, { "ocirc", 0xf4 }, { "oelig", 0x153 },
	{ "ograve", 0xf2 }, { "ordf", 0xaa }, { "ordm", 0xba },
	{ "oslash", 0xf8 }, { "otilde", 0xf5 }, { "ouml", 0xf6 },
	{ "para", 0xb6 }, { "permil", 0x2030 }, { "plusmn", 0xb1 },
	{ "pound", 0xa3 }, { "quot", '"' }, { "raquo", 0xbb },
	{ "rdquo", 0x201d }, { "reg", 0xae }, { "rlm", 0x200f },
	{ "rsaquo", 0x203a }, { "rsquo", 0x2019 }, { "sbquo", 0x201a },
	{ "sect", 0xa7 }, { "shy", 0xad }, { "sup1", 0xb9 },
	{ "sup2", 0xb2 }, { "sup3", 0xb3 }, { "szlig", 0xdf },
	{ "thinsp", 0x2009 }, { "times", 0xd7 }, { "trade", 0x2122 },
	{ "uacute", 0xfa }, { "ucirc", 0xfb }, { "ugrave", 0xf9 },
	{ "uml", 0xa8 }, { "uuml", 0xfc }, { "yacute", 0xfd },
	{ "yen", 0xa5 }, { "yuml", 0xff }, { "zwj", 0x200d },
	{ "zwnj", 0x200c },
};

/* HTML5 reads &#128; to &#159; as windows-1252. */
static const uint16_t html_c1[32] = {
	0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f,
	0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
};

static bool
h_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static char
h_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * Decode the entity at p ('&'): the code point and its length, or 0 when
 * it is not one (the '&' is then text).
 */
static size_t
html_entity(const char *p, const char *end, uint32_t *cp)
{
	const char	*q = p + 1;
	char		 name[12];
	size_t		 n = 0, lo, hi;
	uint64_t	 v = 0;
	bool		 hex = false, any = false;

	if (q < end && *q == '#') {
		q++;
		if (q < end && (*q == 'x' || *q == 'X')) {
			hex = true;
			q++;
		}
		for (; q < end; q++) {
			int d;

			if (*q >= '0' && *q <= '9')
				d = *q - '0';
			else if (hex && *q >= 'a' && *q <= 'f')
				d = *q - 'a' + 10;
			else if (hex && *q >= 'A' && *q <= 'F')
				d = *q - 'A' + 10;
			else
				break;
			if (v < 0x110000)
				v = v * (hex ? 16 : 10) + (uint64_t)d;
			any = true;
		}
		if (!any)
			return 0;
		if (q < end && *q == ';')
			q++;
		if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			*cp = UTF8_REPLACEMENT;
		else if (v >= 0x80 && v <= 0x9f)
			*cp = html_c1[v - 0x80];
		else
			*cp = (uint32_t)v;
		return (size_t)(q - p);
	}
	while (q < end && n < sizeof name - 1 &&
	    ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
	    (*q >= '0' && *q <= '9')))
		name[n++] = *q++;
	name[n] = '\0';
	if (n == 0 || q >= end || *q != ';')
		return 0;
	lo = 0;
	hi = sizeof html_entities / sizeof html_entities[0];
	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;
		int	c = strcmp(name, html_entities[mid].name);

		if (c == 0) {
			*cp = html_entities[mid].cp;
			return (size_t)(q + 1 - p);
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* Write the current line with its prefix; trailing blanks dropped. */
static void
html_put_line(struct html *h)
{
	int	i;

	while (h->line.len > 0 && h->line.data[h->line.len - 1] == ' ')
		h->line.len--;
	for (i = 0; i < h->quote && i < HTML_QUOTES_MAX; i++)
		buf_addc(h->out, '>');
	if (h->quote > 0 && h->line.len > 0)
		buf_addc(h->out, ' ');
	buf_add(h->out, h->line.data != NULL ? h->line.data : "", h->line.len);
	buf_addc(h->out, '\n');
	h->nl = h->line.len > 0 ? 1 : h->nl + 1;
	h->started = true;
	buf_reset(&h->line);
	h->linew = 0;
}

static size_t
html_avail(const struct html *h)
{
	size_t	pw = h->quote > 0 ? (size_t)(h->quote < HTML_QUOTES_MAX ?
	    h->quote : HTML_QUOTES_MAX) + 1 : 0;

	if (h->width <= 0 || (size_t)h->width <= pw + 10)
		return 0;
	return (size_t)h->width - pw;
}

/* Move the word into the line, wrapping first when it does not fit. */
static void
html_word_end(struct html *h)
{
	size_t	ww, avail;

	if (h->word.len == 0)
		return;
	ww = utf8_width(h->word.data, h->word.len);
	avail = html_avail(h);
	if (h->line.len > 0 && h->space) {
		if (avail > 0 && h->linew + 1 + ww > avail)
			html_put_line(h);
		else {
			buf_addc(&h->line, ' ');
			h->linew++;
		}
	}
	buf_add(&h->line, h->word.data, h->word.len);
	h->linew += ww;
	buf_reset(&h->word);
	h->space = false;
}

/* End the line and make sure n line breaks (1: new line, 2: blank line). */
static void
html_break(struct html *h, int n)
{
	html_word_end(h);
	if (h->line.len > 0)
		html_put_line(h);
	if (!h->started)
		return;
	while (h->nl < n)
		html_put_line(h);
	h->space = false;
}

static void
html_char(struct html *h, uint32_t cp)
{
	if (h->pre > 0) {
		if (cp == '\n') {
			html_word_end(h);
			html_put_line(h);
			return;
		}
		if (cp == '\r')
			return;
		if (cp == ' ' || cp == '\t') {
			html_word_end(h);
			buf_addc(&h->line, (char)cp);
			h->linew++;
			return;
		}
		utf8_add(&h->word, cp);
		return;
	}
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f') {
		html_word_end(h);
		h->space = true;
		return;
	}
	if (cp == 0xa0) {
		/* A no-break space joins, and is shown as a space. */
		utf8_add(&h->word, ' ');
		return;
	}
	utf8_add(&h->word, cp);
}

/* Append text as a word of its own (bullets, alt text, link numbers). */
static void
html_add(struct html *h, const char *s)
{
	buf_adds(&h->word, s);
}

/* The value of attribute name in the tag text [p, end), decoded; or NULL. */
static char *
html_attr(const char *p, const char *end, const char *name)
{
	size_t		 nl = strlen(name), n;
	const char	*an, *v, *ve;
	struct buf	 b;
	uint32_t	 cp;

	/* Skip the tag name. */
	while (p < end && !h_blank(*p) && *p != '/')
		p++;
	while (p < end) {
		while (p < end && (h_blank(*p) || *p == '/'))
			p++;
		an = p;
		while (p < end && !h_blank(*p) && *p != '=' && *p != '/')
			p++;
		n = (size_t)(p - an);
		while (p < end && h_blank(*p))
			p++;
		v = ve = p;
		if (p < end && *p == '=') {
			p++;
			while (p < end && h_blank(*p))
				p++;
			if (p < end && (*p == '"' || *p == '\'')) {
				char q = *p++;

				v = p;
				while (p < end && *p != q)
					p++;
				ve = p;
				if (p < end)
					p++;
			} else {
				v = p;
				while (p < end && !h_blank(*p))
					p++;
				ve = p;
			}
		}
		if (n == nl && strncasecmp_ascii(an, name, nl) == 0) {
			buf_init(&b, 0);
			while (v < ve) {
				size_t el;

				if (*v == '&' && (el = html_entity(v, ve, &cp)) > 0) {
					utf8_add(&b, cp);
					v += el;
				} else if (*v == '\n' || *v == '\r' || *v == '\t')
					v++;
				else
					buf_addc(&b, *v++);
			}
			return mime_steal(&b, NULL);
		}
		if (n == 0 && p < end)
			p++;
	}
	return NULL;
}

/*
 * Skip to after the closing tag of an element whose content is not shown
 * (script, style, head). A <head> also ends where <body> starts, so a
 * missing </head> does not hide the whole message.
 */
static const char *
html_skip_raw(const char *p, const char *end, const char *name)
{
	size_t		 nl = strlen(name);
	bool		 head = strcmp(name, "head") == 0;
	const char	*lt, *gt;

	while (p < end) {
		if ((lt = memchr(p, '<', (size_t)(end - p))) == NULL)
			return end;
		if (head && (size_t)(end - lt) > 5 &&
		    strncasecmp_ascii(lt + 1, "body", 4) == 0)
			return lt;
		if ((size_t)(end - lt) > nl + 1 && lt[1] == '/' &&
		    strncasecmp_ascii(lt + 2, name, nl) == 0) {
			gt = memchr(lt, '>', (size_t)(end - lt));
			return gt != NULL ? gt + 1 : end;
		}
		p = lt + 1;
	}
	return end;
}

enum html_kind {
	HK_OTHER,	/* inline or unknown: no effect */
	HK_PARA,	/* a block with a blank line around it */
	HK_LINE,	/* a block on lines of its own */
	HK_SKIP,	/* content not shown: script, style, head, title */
	HK_A, HK_BLOCKQUOTE, HK_BR, HK_CELL, HK_HR, HK_IMG, HK_LI, HK_LIST,
	HK_PRE,
};

struct html_kind_name {
	const char	*name;
	enum html_kind	 kind;
};

/* Sorted by name for bsearch. */
static const struct html_kind_name html_kinds[] = {
	{ "a", HK_A }, { "address", HK_PARA }, { "article", HK_LINE },
	{ "aside", HK_LINE }, { "blockquote", HK_BLOCKQUOTE }, { "br", HK_BR },
	{ "caption", HK_LINE }, { "center", HK_PARA }, { "dd", HK_LINE },
	{ "details", HK_LINE }, { "div", HK_LINE }, { "dl", HK_PARA },
	{ "dt", HK_LINE }, { "fieldset", HK_PARA }, { "figcaption", HK_LINE },
	{ "figure", HK_PARA }, { "footer", HK_LINE }, { "form", HK_LINE },
	{ "h1", HK_PARA }, { "h2", HK_PARA }, { "h3", HK_PARA },
	{ "h4", HK_PARA }, { "h5", HK_PARA }, { "h6", HK_PARA },
	{ "head", HK_SKIP }, { "header", HK_LINE }, { "hgroup", HK_LINE },
	{ "hr", HK_HR }, { "img", HK_IMG }, { "legend", HK_LINE },
	{ "li", HK_LI }, { "main", HK_LINE }, { "nav", HK_LINE },
	{ "ol", HK_LIST }, { "option", HK_LINE }, { "p", HK_PARA },
	{ "pre", HK_PRE }, { "script", HK_SKIP }, { "section", HK_LINE },
	{ "style", HK_SKIP }, { "summary", HK_LINE }, { "table", HK_PARA },
	{ "tbody", HK_LINE }, { "td", HK_CELL }, { "template", HK_SKIP },
	{ "tfoot", HK_LINE }, { "th", HK_CELL }, { "thead", HK_LINE },
	{ "title", HK_SKIP }, { "tr", HK_LINE }, { "ul", HK_LIST },
};

static enum html_kind
html_kind(const char *name)
{
	size_t	lo = 0, hi = sizeof html_kinds / sizeof html_kinds[0];

	while (lo < hi) {
		size_t	mid = (lo + hi) / 2;
		int	c = strcmp(name, html_kinds[mid].name);

		if (c == 0)
			return html_kinds[mid].kind;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return HK_OTHER;
}

/* A link worth a footnote, numbered once per target. */
static void
html_link_end(struct html *h)
{
	char		*u = h->href, *s, num[24];
	const char	*t;
	uint32_t	 hash, slot;
	int		 i;

	h->href = NULL;
	if (u == NULL)
		return;
	for (s = u; h_blank(*s); s++)
		;
	if (*s == '\0' || *s == '#' || has_prefix_ci(s, "javascript:")) {
		free(u);
		return;
	}
	/* Find the target in the index (FNV-1a, linear probing). */
	for (hash = 2166136261U, t = s; *t != '\0'; t++)
		hash = (hash ^ (unsigned char)*t) * 16777619U;
	for (slot = hash % HTML_LINK_HASH; h->link_slot[slot] != 0;
	    slot = (slot + 1) % HTML_LINK_HASH)
		if (strcmp(h->links[h->link_slot[slot] - 1], s) == 0)
			break;
	if (h->link_slot[slot] != 0)
		i = h->link_slot[slot] - 1;
	else {
		if (h->nlinks == HTML_LINKS_MAX) {
			free(u);
			return;
		}
		i = h->nlinks;
		h->links[h->nlinks++] = xstrdup(s);
		h->link_slot[slot] = (int16_t)(i + 1);
	}
	free(u);
	snprintf(num, sizeof num, "[%d]", i + 1);
	html_add(h, num);
}

/*
 * Handle one tag of the given kind; [t, te) is the text between '<' (and
 * a '/' for a closing tag) and '>', for the attributes.
 */
static void
html_tag(struct html *h, enum html_kind kind, bool close, const char *t,
    const char *te)
{
	char	*a, *s, bullet[32];
	int	 i, d;

	switch (kind) {
	case HK_BR:
		html_word_end(h);
		html_put_line(h);
		break;
	case HK_PRE:
		h->pre += close ? (h->pre > 0 ? -1 : 0) : 1;
		html_break(h, 2);
		break;
	case HK_BLOCKQUOTE:
		/* The quote's last line keeps its prefix, the gap does not. */
		html_break(h, close ? 1 : 2);
		h->quote += close ? (h->quote > 0 ? -1 : 0) : 1;
		html_break(h, 2);
		break;
	case HK_LIST:
		html_break(h, h->lists > 0 ? 1 : 2);
		if (!close) {
			if (h->lists < HTML_LISTS_MAX)
				h->ol[h->lists] = t[0] == 'o' || t[0] == 'O' ? 0 : -1;
			h->lists++;
		} else if (h->lists > 0)
			h->lists--;
		break;
	case HK_LI:
		if (close)
			break;
		d = h->lists > 0 ? h->lists - 1 : 0;
		html_break(h, 1);
		for (i = 0; i < d && i < HTML_LISTS_MAX; i++)
			buf_adds(&h->line, "  ");
		h->linew += (size_t)(2 * (d < HTML_LISTS_MAX ? d : HTML_LISTS_MAX));
		if (h->lists > 0 && h->lists <= HTML_LISTS_MAX &&
		    h->ol[h->lists - 1] >= 0)
			snprintf(bullet, sizeof bullet, "%d.",
			    ++h->ol[h->lists - 1]);
		else
			snprintf(bullet, sizeof bullet, "*");
		html_add(h, bullet);
		html_word_end(h);
		h->space = true;
		break;
	case HK_HR:
		html_break(h, 1);
		html_add(h, "----------");
		html_break(h, 1);
		break;
	case HK_CELL:
		html_word_end(h);
		h->space = true;
		break;
	case HK_IMG:
		if ((a = html_attr(t, te, "alt")) == NULL)
			break;
		for (s = a; h_blank(*s); s++)
			;
		if (*s != '\0') {
			html_word_end(h);
			html_add(h, "[");
			for (; *s != '\0'; s++)
				if (h_blank(*s))
					html_char(h, ' ');
				else
					buf_addc(&h->word, *s);
			html_add(h, "]");
		}
		free(a);
		break;
	case HK_A:
		if (close)
			html_link_end(h);
		else {
			free(h->href);
			h->href = html_attr(t, te, "href");
		}
		break;
	case HK_PARA:
		html_break(h, 2);
		break;
	case HK_LINE:
		html_break(h, 1);
		break;
	case HK_SKIP:
	case HK_OTHER:
		break;
	}
}

int
mime_html_to_text(const char *html, size_t len, int width, struct buf *out)
{
	struct html	 h;
	const char	*p = html, *end = html + len, *gt, *t;
	const char	*no_gt = NULL;	/* no '>' at or after here */
	uint32_t	 cp;
	size_t		 n;
	int		 i;
	char		 name[16];
	enum html_kind	 kind;
	bool		 close;

	memset(&h, 0, sizeof h);
	h.out = out;
	h.width = width;
	buf_init(&h.line, 0);
	buf_init(&h.word, 0);
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '<' && p + 1 < end && (no_gt == NULL || p < no_gt) &&
		    ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' &&
		    p[1] <= 'Z') || p[1] == '/' || p[1] == '!' || p[1] == '?')) {
			if (p + 4 <= end && memcmp(p, "<!--", 4) == 0) {
				t = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
				p = t != NULL ? t + 3 : end;
				continue;
			}
			if (p + 9 <= end && memcmp(p, "<![CDATA[", 9) == 0) {
				t = memmem(p + 9, (size_t)(end - p - 9), "]]>", 3);
				for (p += 9; p < (t != NULL ? t : end); ) {
					n = utf8_decode(p, (size_t)(end - p), &cp);
					html_char(&h, cp);
					p += n;
				}
				p = t != NULL ? t + 3 : end;
				continue;
			}
			if ((gt = memchr(p, '>', (size_t)(end - p))) == NULL) {
				no_gt = p;
				goto text;
			}
			t = p + 1;
			p = gt + 1;
			if (*t == '!' || *t == '?')
				continue;	/* <!DOCTYPE>, <?xml?> */
			close = *t == '/';
			if (close)
				t++;
			for (n = 0; t + n < gt && n < sizeof name - 1 &&
			    !h_blank(t[n]) && t[n] != '/'; n++)
				name[n] = h_lower(t[n]);
			name[n] = '\0';
			kind = html_kind(name);
			html_tag(&h, kind, close, t, gt);
			/* Elements whose content is not text (<script/> has none). */
			if (kind == HK_SKIP && !close && gt[-1] != '/')
				p = html_skip_raw(p, end, name);
			continue;
		}
text:
		if (c > 0x20 && c < 0x7f && c != '<' && c != '&' && h.pre == 0) {
			/* A run of plain characters goes to the word at once. */
			t = p;
			while (t < end && (unsigned char)*t > 0x20 &&
			    (unsigned char)*t < 0x7f && *t != '<' && *t != '&')
				t++;
			buf_add(&h.word, p, (size_t)(t - p));
			p = t;
			continue;
		}
		if (c == '&' && (n = html_entity(p, end, &cp)) > 0) {
			html_char(&h, cp);
			p += n;
			continue;
		}
		if (c < 0x80) {
			html_char(&h, c);
			p++;
			continue;
		}
		n = utf8_decode(p, (size_t)(end - p), &cp);
		html_char(&h, cp);
		p += n;
	}
	if (h.href != NULL)
		html_link_end(&h);
	html_break(&h, 1);
	/* No blank lines at the end. */
	while (out->len > 1 && out->data[out->len - 1] == '\n' &&
	    out->data[out->len - 2] == '\n' && h.nl > 1) {
		out->data[--out->len] = '\0';
		h.nl--;
	}
	if (h.nlinks > 0) {
		if (h.started && h.nl < 2)
			buf_addc(out, '\n');
		for (i = 0; i < h.nlinks; i++) {
			buf_printf(out, "[%d] %s\n", i + 1, h.links[i]);
			free(h.links[i]);
		}
	}
	buf_free(&h.line);
	buf_free(&h.word);
	return 0;
}
