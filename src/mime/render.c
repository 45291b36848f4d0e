/*
 * The renderer: a parsed message to the text petrel shows (the pager,
 * `petrel show`, `petrel render`), with the attachment list and the fields
 * of `render --json`. The part tree is walked with an explicit stack.
 * Everything written passes through the terminal sanitiser.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

#define RENDER_WIDTH		78
#define RENDER_ALTERNATIVE	"text/plain text/html"
#define SAVE_TRIES		1000	/* "-1" .. "-999" before giving up */
#define SAVE_NAME_MAX		200	/* bytes of a saved file name */

struct render {
	const struct mime_render_opts	*o;
	struct mime_msg			*m;
	struct mime_view		*v;
	struct buf			 body;
	const char			*hint;	/* charset for raw 8-bit headers */
	int				 width;
	bool				 full;	/* output_max reached */
};

/* Stack items: render a part, or the end of a forwarded message. */
struct render_item {
	int	part;
	bool	end_msg;
};

static const char *const render_default_hdrs[] = {
	"Date", "From", "To", "Cc", "Subject", NULL,
};

static bool
render_is_addr_field(const char *n, size_t nl)
{
	static const char *const f[] = { "from", "to", "cc", "bcc",
	    "reply-to", "sender", "resent-from", "resent-to", "resent-cc",
	    NULL };
	int	i;

	for (i = 0; f[i] != NULL; i++)
		if (strlen(f[i]) == nl && strncasecmp_ascii(n, f[i], nl) == 0)
			return true;
	return false;
}

/* Append sanitized UTF-8; notes when the output limit is reached. */
static void
render_put(struct render *r, const char *s, size_t len)
{
	if (r->full)
		return;
	if (mime_sanitize_into(s, len, &r->body) == -1)
		r->full = true;
}

static void
render_puts(struct render *r, const char *s)
{
	render_put(r, s, strlen(s));
}

/* Make the body end with a blank line (a separator between blocks). */
static void
render_sep(struct render *r)
{
	size_t	l = r->body.len;

	if (l == 0 || r->full)
		return;
	if (r->body.data[l - 1] != '\n')
		buf_addc(&r->body, '\n');
	l = r->body.len;
	if (l < 2 || r->body.data[l - 2] != '\n')
		buf_addc(&r->body, '\n');
}

/* A header value for display: addresses formatted, the rest decoded. */
static char *
render_hdr_value(const struct render *r, const char *n, size_t nl,
    const char *v, size_t vl)
{
	struct mime_addr	*a;
	struct buf		 b;
	size_t			 na, i;
	char			*f;

	if (render_is_addr_field(n, nl) &&
	    (na = mime_parse_addresses(v, vl, &a)) > 0) {
		buf_init(&b, 0);
		for (i = 0; i < na; i++) {
			if (i > 0)
				buf_adds(&b, a[i - 1].addr == NULL ? " " : ", ");
			if (a[i].name != NULL && a[i].addr != NULL &&
			    strpbrk(a[i].name, ",;:<>@\"") != NULL) {
				/* Quoted, so the name cannot pose as addresses. */
				buf_addc(&b, '"');
				for (f = a[i].name; *f != '\0'; f++) {
					if (*f == '"' || *f == '\\')
						buf_addc(&b, '\\');
					buf_addc(&b, *f);
				}
				buf_printf(&b, "\" <%s>", a[i].addr);
				continue;
			}
			f = mime_addr_format(&a[i]);
			buf_adds(&b, f);
			free(f);
		}
		mime_addrs_free(a, na);
		return mime_steal(&b, NULL);
	}
	return mime_decode_header_hint(v, vl, r->hint);
}

/* "Name: value" of the first field called name, if the message has one. */
static void
render_one_header(struct render *r, const char *hdr, size_t hdrlen,
    const char *name, struct buf *to)
{
	const char	*v;
	size_t		 vl;
	char		*d;

	if (mime_hdr_find(hdr, hdrlen, name, &v, &vl) == -1)
		return;
	d = render_hdr_value(r, name, strlen(name), v, vl);
	mime_sanitize_into(name, strlen(name), to);
	buf_adds(to, ": ");
	mime_sanitize_into(d, strlen(d), to);
	buf_addc(to, '\n');
	free(d);
}

/* Write the header lines of a message (all of them, or the usual ones). */
static void
render_headers(struct render *r, const char *hdr, size_t hdrlen,
    struct buf *to)
{
	struct mime_hdr_iter	 it;
	const char		*n, *v;
	size_t			 nl, vl;
	char			*d;
	int			 i;

	if (r->o->headers_all) {
		mime_hdr_iter_init(&it, hdr, hdrlen);
		while (mime_hdr_next(&it, &n, &nl, &v, &vl)) {
			d = render_hdr_value(r, n, nl, v, vl);
			mime_sanitize_into(n, nl, to);
			buf_adds(to, ": ");
			mime_sanitize_into(d, strlen(d), to);
			buf_addc(to, '\n');
			free(d);
		}
		return;
	}
	if (r->o->headers != NULL) {
		const char	*p = r->o->headers, *e;
		char		 name[128];

		for (;;) {
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			if (*p == '\0')
				break;
			for (e = p; *e != '\0' && *e != ' ' && *e != '\t' &&
			    *e != ','; e++)
				;
			if ((size_t)(e - p) < sizeof name) {
				memcpy(name, p, (size_t)(e - p));
				name[e - p] = '\0';
				render_one_header(r, hdr, hdrlen, name, to);
			}
			p = e;
		}
		return;
	}
	for (i = 0; render_default_hdrs[i] != NULL; i++)
		render_one_header(r, hdr, hdrlen, render_default_hdrs[i], to);
}

/* The transfer-decoded, UTF-8, LF-only text of a part. */
static void
render_part_text(const struct mime_part *p, struct buf *out)
{
	struct buf	dec, utf;
	size_t		i, start = 0;
	const char	*s;

	buf_init(&dec, 0);
	mime_cte_decode(p->cte, p->body, p->bodylen, &dec);
	buf_init(&utf, 0);
	charset_to_utf8(p->charset, p->charset != NULL ? strlen(p->charset) : 0,
	    dec.data != NULL ? dec.data : "", dec.len, &utf);
	buf_free(&dec);
	/* CRLF and lone CR become LF. */
	s = utf.data != NULL ? utf.data : "";
	buf_reserve(out, utf.len);
	for (i = 0; i < utf.len; i++) {
		if (s[i] != '\r')
			continue;
		buf_add(out, s + start, i - start);
		buf_addc(out, '\n');
		if (i + 1 < utf.len && s[i + 1] == '\n')
			i++;
		start = i + 1;
	}
	buf_add(out, s + start, utf.len - start);
	buf_free(&utf);
}

static bool
render_blank(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n')
			return false;
	return true;
}

/* A text part on the screen: flowed, HTML through mailcap or built in. */
static void
render_text(struct render *r, const struct mime_part *p)
{
	struct buf	text, conv;
	struct error	err;
	int		rv;

	buf_init(&text, 0);
	render_part_text(p, &text);
	buf_init(&conv, 0);
	if (strcmp(p->type, "text/html") == 0) {
		r->v->html_parts++;
		error_clear(&err);
		rv = mime_mailcap_convert("text/html", text.data != NULL ?
		    text.data : "", text.len, r->o, &conv, &err);
		if (rv == 0)
			r->v->html_converted++;
		else {
			if (rv == -1) {
				if (r->v->convert_error == NULL)
					r->v->convert_error = xstrdup(err.msg);
				render_sep(r);
				render_puts(r, "[-- mailcap: ");
				render_puts(r, err.msg);
				render_puts(r, "; built-in conversion --]\n");
			}
			buf_reset(&conv);
			mime_html_to_text(text.data != NULL ? text.data : "",
			    text.len, r->width, &conv);
		}
	} else if (strcmp(p->type, "text/plain") == 0 && p->flowed)
		mime_flowed(text.data != NULL ? text.data : "", text.len,
		    p->delsp, r->width, &conv);
	else {
		buf_free(&conv);
		conv = text;
		buf_init(&text, 0);
	}
	buf_free(&text);
	render_sep(r);
	render_put(r, conv.data != NULL ? conv.data : "", conv.len);
	buf_free(&conv);
}

/* "12 bytes", "3.4 KB", "20.0 MB". */
static void
render_size(char *out, size_t outsz, size_t n)
{
	if (n < 1024)
		snprintf(out, outsz, "%zu bytes", n);
	else if (n < 1024 * 1024)
		snprintf(out, outsz, "%.1f KB", (double)n / 1024);
	else
		snprintf(out, outsz, "%.1f MB", (double)n / (1024 * 1024));
}

/* List a part as attachment N and write its marker line. */
static void
render_attachment(struct render *r, int idx, const char *note)
{
	const struct mime_part	*p = &r->m->parts[idx];
	struct mime_attachment	*a;
	struct mime_view	*v = r->v;
	char			 size[32], *line;

	if ((v->natt & (v->natt - 1)) == 0)	/* 0, 1, 2, 4...: double */
		v->att = xreallocarray(v->att, v->natt == 0 ? 1 : v->natt * 2,
		    sizeof *v->att);
	a = &v->att[v->natt++];
	a->number = (int)v->natt;
	a->part = idx;
	a->type = xstrdup(p->type);
	a->size = mime_cte_size(p->cte, p->body, p->bodylen);
	a->filename = p->filename != NULL ?
	    mime_sanitize_terminal(p->filename, strlen(p->filename), NULL) :
	    xstrdup("");
	render_size(size, sizeof size, a->size);
	render_sep(r);
	xasprintf(&line, "[-- Attachment #%d: %s%s(%s, %s%s) --]\n", a->number,
	    a->filename, *a->filename != '\0' ? " " : "", a->type, size,
	    note != NULL ? note : "");
	/* The name is already safe; the rest is ours. */
	if (!r->full && buf_adds(&r->body, line) == -1)
		r->full = true;
	free(line);
}

/* A part's display type: does a text type (or pattern) match it? */
static bool
render_type_match(const char *pat, size_t pl, const char *type)
{
	if (strlen(type) == pl && strncmp(pat, type, pl) == 0)
		return true;
	if (pl >= 2 && pat[pl - 1] == '*' && pat[pl - 2] == '/')
		return strncmp(pat, type, pl - 1) == 0;
	return false;
}

static bool
render_displayable(const struct mime_part *p)
{
	return strncmp(p->type, "text/", 5) == 0 ||
	    strncmp(p->type, "multipart/", 10) == 0 ||
	    strcmp(p->type, "message/rfc822") == 0;
}

/* The alternative to show: by preference, not blank, else the last shown. */
static int
render_pick_alternative(struct render *r, int idx)
{
	const char		*pref = r->o->alternative != NULL ?
	    r->o->alternative : RENDER_ALTERNATIVE, *s, *e;
	const struct mime_part	*p;
	struct buf		 t;
	int			 c, pick = -1;
	bool			 blank;

	for (s = pref; *s != '\0'; s = e) {
		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		for (e = s; *e != '\0' && *e != ' ' && *e != ',' && *e != '\t';
		    e++)
			;
		if (e == s)
			break;
		for (c = r->m->parts[idx].first; c >= 0; c = p->next) {
			p = &r->m->parts[c];
			if (!render_type_match(s, (size_t)(e - s), p->type))
				continue;
			if (strncmp(p->type, "text/", 5) == 0) {
				buf_init(&t, 0);
				render_part_text(p, &t);
				blank = render_blank(buf_cstr(&t), t.len);
				buf_free(&t);
				if (blank)
					continue;
			}
			return c;
		}
	}
	for (c = r->m->parts[idx].first; c >= 0; c = r->m->parts[c].next)
		if (render_displayable(&r->m->parts[c]))
			pick = c;
	return pick >= 0 ? pick : r->m->parts[idx].last;
}

/* The root of a multipart/related: the start parameter's part, or the first. */
static int
render_related_root(struct render *r, int idx)
{
	const char	*st = r->m->parts[idx].start;
	int		 c;

	if (st != NULL)
		for (c = r->m->parts[idx].first; c >= 0; c = r->m->parts[c].next) {
			const char *cid = r->m->parts[c].cid;

			if (cid == NULL)
				continue;
			while (*cid == ' ')
				cid++;
			if (strncmp(cid, st, strlen(st)) == 0)
				return c;
		}
	return r->m->parts[idx].first;
}

/* Does this part's body show here (rather than as an attachment)? */
static bool
render_inline(const struct render *r, int idx)
{
	const struct mime_part	*p = &r->m->parts[idx];
	int			 par = p->parent;

	if (strcmp(p->type, "message/delivery-status") == 0 ||
	    strcmp(p->type, "message/disposition-notification") == 0 ||
	    strcmp(p->type, "message/feedback-report") == 0)
		return true;	/* reports are text in all but name */
	if (strncmp(p->type, "text/", 5) != 0)
		return false;
	/* The body of a message is always shown, whatever it says. */
	if (par < 0 || strncmp(r->m->parts[par].type, "message/", 8) == 0)
		return true;
	return p->disp != MIME_DISP_ATTACHMENT;
}

static void
render_walk(struct render *r)
{
	struct render_item	*st;
	int			 sp = 0, cap, idx, c, n, i, pick, *kids;
	struct mime_part	*p;

	cap = 2 * r->m->n + 4;
	st = xcalloc((size_t)cap, sizeof *st);
	kids = xcalloc((size_t)r->m->n + 1, sizeof *kids);
	st[sp++].part = 0;
	while (sp > 0 && !r->full) {
		struct render_item it = st[--sp];

		if (it.end_msg) {
			render_sep(r);
			render_puts(r, "[-- End of forwarded message --]\n");
			continue;
		}
		idx = it.part;
		p = &r->m->parts[idx];
		if (p->too_deep) {
			render_attachment(r, idx, ", not opened: nesting limit");
			continue;
		}
		if (strncmp(p->type, "multipart/", 10) == 0 && p->expanded) {
			n = 0;
			if (strcmp(p->type, "multipart/alternative") == 0) {
				if ((pick = render_pick_alternative(r, idx)) >= 0)
					kids[n++] = pick;
			} else if (strcmp(p->type, "multipart/related") == 0) {
				pick = render_related_root(r, idx);
				kids[n++] = pick;
				for (c = p->first; c >= 0; c = r->m->parts[c].next)
					if (c != pick)
						kids[n++] = c;
			} else
				for (c = p->first; c >= 0; c = r->m->parts[c].next)
					kids[n++] = c;
			for (i = n - 1; i >= 0 && sp < cap; i--) {
				st[sp].part = kids[i];
				st[sp++].end_msg = false;
			}
			continue;
		}
		if (strncmp(p->type, "multipart/", 10) == 0) {
			/* No boundary or no delimiter: show the body as text. */
			struct mime_part	tp = *p;

			snprintf(tp.type, sizeof tp.type, "text/plain");
			tp.flowed = false;
			render_text(r, &tp);
			continue;
		}
		if (strncmp(p->type, "message/", 8) == 0 && p->expanded) {
			struct buf	h;
			const struct mime_part *in = &r->m->parts[p->first];

			render_attachment(r, idx, NULL);
			buf_init(&h, 0);
			render_headers(r, in->hdr, in->hdrlen, &h);
			if (h.len > 0) {
				if (buf_add(&r->body, h.data, h.len) == -1)
					r->full = true;
			}
			buf_free(&h);
			if (sp + 2 <= cap) {
				st[sp].part = idx;
				st[sp++].end_msg = true;
				st[sp].part = p->first;
				st[sp++].end_msg = false;
			}
			continue;
		}
		if (render_inline(r, idx))
			render_text(r, p);
		else
			render_attachment(r, idx, NULL);
	}
	free(st);
	free(kids);
}

/* The charset to read raw 8-bit header bytes in: the first declared one. */
static const char *
render_hint(const struct mime_msg *m)
{
	int	i;

	for (i = 0; i < m->n; i++)
		if (m->parts[i].charset != NULL &&
		    strncmp(m->parts[i].type, "text/", 5) == 0)
			return m->parts[i].charset;
	return NULL;
}

static char **
render_addr_list(const char *hdr, size_t hdrlen, const char *field,
    size_t *np)
{
	struct mime_hdr_iter	 it;
	struct mime_addr	*a;
	const char		*n, *v;
	size_t			 nl, vl, na, i, fl = strlen(field), cap = 0;
	char			**out = NULL, *f;

	*np = 0;
	mime_hdr_iter_init(&it, hdr, hdrlen);
	while (mime_hdr_next(&it, &n, &nl, &v, &vl)) {
		if (nl != fl || strncasecmp_ascii(n, field, fl) != 0)
			continue;
		na = mime_parse_addresses(v, vl, &a);
		for (i = 0; i < na; i++) {
			if (a[i].addr == NULL)
				continue;	/* a group's name */
			f = mime_addr_format(&a[i]);
			if (*np == cap) {
				cap = cap == 0 ? 4 : cap * 2;
				out = xreallocarray(out, cap, sizeof *out);
			}
			out[(*np)++] = mime_sanitize_terminal(f, strlen(f), NULL);
			free(f);
		}
		mime_addrs_free(a, na);
	}
	return out;
}

/* The fields of --json: subject, first From, To, Cc, date. */
static void
render_fields(struct render *r)
{
	const struct mime_part	*top = &r->m->parts[0];
	struct mime_view	*v = r->v;
	const char		*val;
	size_t			 vl, n;
	char			*d, **from;

	if (mime_hdr_find(top->hdr, top->hdrlen, "Subject", &val, &vl) == 0) {
		d = mime_decode_header_hint(val, vl, r->hint);
		v->subject = mime_sanitize_terminal(d, strlen(d), NULL);
		free(d);
	} else
		v->subject = xstrdup("");
	from = render_addr_list(top->hdr, top->hdrlen, "From", &n);
	v->from = n > 0 ? xstrdup(from[0]) : xstrdup("");
	while (n > 0)
		free(from[--n]);
	free(from);
	v->to = render_addr_list(top->hdr, top->hdrlen, "To", &v->nto);
	v->cc = render_addr_list(top->hdr, top->hdrlen, "Cc", &v->ncc);
	if (mime_hdr_find(top->hdr, top->hdrlen, "Date", &val, &vl) == 0 &&
	    mime_parse_date(val, vl, &v->date, &v->tzoff_min) == 0)
		v->has_date = true;
}

int
mime_render(const char *raw, size_t len, const struct mime_render_opts *o,
    struct mime_view **viewp, struct error *err)
{
	static const struct mime_render_opts	 defaults;
	struct render				 r;
	struct mime_view			*v;
	struct buf				 h;
	size_t					 max;

	*viewp = NULL;
	if (len == 0)
		return error_set(err, ERR_USAGE, "empty message");
	memset(&r, 0, sizeof r);
	r.o = o != NULL ? o : &defaults;
	r.width = r.o->width > 0 ? r.o->width : RENDER_WIDTH;
	r.m = mime_msg_parse(raw, len, &r.o->limits);
	r.v = v = xcalloc(1, sizeof *v);
	v->msg = r.m;
	r.hint = render_hint(r.m);
	max = r.m->lim.output_max;
	buf_init(&r.body, max);

	buf_init(&h, 0);
	render_headers(&r, r.m->parts[0].hdr, r.m->parts[0].hdrlen, &h);
	v->headers = mime_steal(&h, NULL);
	render_fields(&r);
	render_walk(&r);
	if (r.m->omitted > 0 || r.full) {
		r.body.max = 0;		/* room for the notes */
		render_sep(&r);
		if (r.full)
			buf_printf(&r.body, "[-- output truncated at %zu bytes "
			    "--]\n", max);
		if (r.m->omitted > 0)
			buf_printf(&r.body, "[-- %zu more parts not shown "
			    "(limit %d) --]\n", r.m->omitted, r.m->lim.parts_max);
	}
	/* One line break at the end, not a run of blank lines. */
	while (r.body.len > 1 && r.body.data[r.body.len - 1] == '\n' &&
	    r.body.data[r.body.len - 2] == '\n')
		r.body.data[--r.body.len] = '\0';
	if (r.body.len > 0 && r.body.data[r.body.len - 1] != '\n') {
		r.body.max = 0;
		buf_addc(&r.body, '\n');
	}
	v->body = mime_steal(&r.body, &v->bodylen);
	*viewp = v;
	return 0;
}

void
mime_view_free(struct mime_view **vp)
{
	struct mime_view	*v = *vp;
	size_t			 i;

	if (v == NULL)
		return;
	free(v->subject);
	free(v->from);
	for (i = 0; i < v->nto; i++)
		free(v->to[i]);
	free(v->to);
	for (i = 0; i < v->ncc; i++)
		free(v->cc[i]);
	free(v->cc);
	free(v->headers);
	free(v->body);
	for (i = 0; i < v->natt; i++) {
		free(v->att[i].filename);
		free(v->att[i].type);
	}
	free(v->att);
	free(v->convert_error);
	mime_msg_free(&v->msg);
	free(v);
	*vp = NULL;
}

/* ---- Saving ---------------------------------------------------------- */

char *
mime_safe_filename(const char *name, int n)
{
	struct buf	 b = BUF_INIT(0);
	const char	*s, *base = name != NULL ? name : "";
	size_t		 i, len, cut, nl;
	uint32_t	 cp;
	char		*out, *dot;

	/* The last path component, for '/' and '\' alike. */
	for (s = base; *s != '\0'; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	len = strlen(base);
	for (i = 0; i < len; ) {
		nl = utf8_decode(base + i, len - i, &cp);
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069) ||
		    (cp == UTF8_REPLACEMENT && !(nl == 3 &&
		    memcmp(base + i, "\xef\xbf\xbd", 3) == 0)))
			buf_addc(&b, '_');
		else
			buf_add(&b, base + i, nl);
		i += nl;
	}
	/* No leading dots or blanks (hidden files, "..", " ."), no trailing blanks. */
	s = buf_cstr(&b);
	while (*s == '.' || *s == ' ')
		s++;
	out = xstrdup(s);
	buf_free(&b);
	len = strlen(out);
	while (len > 0 && out[len - 1] == ' ')
		out[--len] = '\0';
	if (len == 0) {
		free(out);
		xasprintf(&out, "attachment-%d", n);
		return out;
	}
	if (len > SAVE_NAME_MAX) {
		/* Keep a short extension; cut the rest at a character boundary. */
		dot = strrchr(out, '.');
		if (dot != NULL && strlen(dot) <= 16) {
			char *ext = xstrdup(dot);

			cut = SAVE_NAME_MAX - strlen(ext);
			while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
				cut--;
			memcpy(out + cut, ext, strlen(ext) + 1);
			free(ext);
		} else {
			cut = SAVE_NAME_MAX;
			while (cut > 0 && ((unsigned char)out[cut] & 0xc0) == 0x80)
				cut--;
			out[cut] = '\0';
		}
	}
	return out;
}

/* Write all of data to fd. */
static int
save_write(int fd, const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int
mime_view_save(const struct mime_view *v, int n, const char *dir,
    char **pathp, struct error *err)
{
	const struct mime_part	*p;
	struct buf		 data;
	char			*name, *try, *dot;
	int			 dfd, fd = -1, k;

	*pathp = NULL;
	if (n < 1 || (size_t)n > v->natt)
		return error_set(err, ERR_USAGE, "no attachment %d (the message "
		    "has %zu)", n, v->natt);
	p = &v->msg->parts[v->att[n - 1].part];
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return error_set(err, ERR_LOCAL, "%s: %s", dir, strerror(errno));
	if (p->filename != NULL)
		name = mime_safe_filename(p->filename, n);
	else
		xasprintf(&name, "attachment-%d%s", n,
		    strcmp(p->type, "message/rfc822") == 0 ? ".eml" :
		    strcmp(p->type, "text/plain") == 0 ? ".txt" :
		    strcmp(p->type, "text/html") == 0 ? ".html" : "");
	try = xstrdup(name);
	for (k = 1; k < SAVE_TRIES; k++) {
		fd = openat(dfd, try, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
		/* Taken: "name-1.ext", "name-2.ext"... never overwrite. */
		free(try);
		dot = strrchr(name, '.');
		if (dot != NULL && dot != name)
			xasprintf(&try, "%.*s-%d%s", (int)(dot - name), name, k,
			    dot);
		else
			xasprintf(&try, "%s-%d", name, k);
	}
	free(name);
	if (fd == -1) {
		error_set(err, ERR_LOCAL, "%s/%s: %s", dir, try,
		    k == SAVE_TRIES ? "too many files with this name" :
		    strerror(errno));
		free(try);
		close(dfd);
		return -1;
	}
	buf_init(&data, 0);
	mime_cte_decode(p->cte, p->body, p->bodylen, &data);
	if (save_write(fd, data.data != NULL ? data.data : "", data.len) == -1 ||
	    close(fd) == -1) {
		error_set(err, ERR_LOCAL, "%s/%s: %s", dir, try, strerror(errno));
		unlinkat(dfd, try, 0);
		buf_free(&data);
		free(try);
		close(dfd);
		return -1;
	}
	buf_free(&data);
	close(dfd);
	xasprintf(pathp, "%s%s%s", dir, dir[0] != '\0' &&
	    dir[strlen(dir) - 1] == '/' ? "" : "/", try);
	free(try);
	return 0;
}
