/*
 * Drafts: what the editor gets for a new message, a reply (to the
 * sender, to all, to the list) or a forward, and reading it back. The
 * file is mutt's edit_headers shape: From, To, Cc, Bcc and Subject lines,
 * an empty line, the body. In-Reply-To and References stay in the draft,
 * out of the user's way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "compose.h"
#include "mime.h"
#include "xmalloc.h"

/* The header of the original, decoded, or NULL. */
static char *
orig_header(const char *msg, size_t len, const char *want, bool raw)
{
	struct mime_hdr_iter	 it;
	const char		*name, *value;
	size_t			 nlen, vlen;

	mime_hdr_iter_init(&it, msg, len);
	while (mime_hdr_next(&it, &name, &nlen, &value, &vlen) == 1)
		if (nlen == strlen(want) && strncasecmp_ascii(name, want,
		    nlen) == 0)
			return raw ? xmemdup0(value, vlen) :
			    mime_decode_header(value, vlen);
	return NULL;
}

/* "Re: " (or prefix) once: not stacked on an existing one. */
static char *
prefixed_subject(const char *subject, const char *prefix)
{
	const char	*s = subject != NULL ? subject : "";
	char		*out;

	while (*s == ' ')
		s++;
	if (has_prefix_ci(s, prefix))
		return xstrdup(s);
	xasprintf(&out, "%s %s", prefix, s);
	return out;
}

/*
 * The addresses of the list v, leaving out own ones and those already in seen; ", "-separated into out.
 */
static void
add_addresses(struct buf *out, struct buf *seen, const char *v,
    bool (*own)(void *, const char *), void *arg)
{
	struct mime_addr	*a;
	size_t			 n, i;
	char			*f, key[512];

	if (v == NULL)
		return;
	n = mime_parse_addresses(v, strlen(v), &a);
	for (i = 0; i < n; i++) {
		if (a[i].addr == NULL || (own != NULL && own(arg, a[i].addr)))
			continue;
		snprintf(key, sizeof key, "\n%s\n", a[i].addr);
		if (seen->len > 0 && strcasestr(seen->data, key) != NULL)
			continue;
		buf_adds(seen, key);
		f = mime_addr_format(&a[i]);
		if (out->len > 0)
			buf_adds(out, ", ");
		buf_adds(out, f);
		free(f);
	}
	mime_addrs_free(a, n);
}

/* Each line of text prefixed with "> " (">" before another ">"). */
static void
quote_text(struct buf *b, const char *text)
{
	const char	*p = text, *nl;

	while (*p != '\0') {
		nl = p + strcspn(p, "\n");
		buf_adds(b, *p == '>' || p == nl ? ">" : "> ");
		buf_add(b, p, (size_t)(nl - p));
		buf_adds(b, "\n");
		p = *nl == '\n' ? nl + 1 : nl;
	}
}

/*
 * The text of a resumed message without the renderer's attachment lines
 * (and what it showed of an attached message): the attachments go again as
 * attachments (the UI saves them), not as text.
 */
static void
resume_text(struct buf *out, const char *text)
{
	static const char	 att[] = "[-- Attachment #";
	static const char	 end[] = "[-- End of forwarded message --]";
	const char		*p = text, *nl, *close;
	size_t			 n;
	int			 depth = 0;

	for (; *p != '\0'; p = nl) {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		n = (size_t)(nl - p);
		if (strncmp(p, att, sizeof att - 1) == 0) {
			/* "(message/rfc822, 2K) --]": its text follows. */
			close = memmem(p, n, "(message/", 9);
			if (close != NULL)
				depth++;
			continue;
		}
		if (depth > 0) {
			if (strncmp(p, end, sizeof end - 1) == 0)
				depth--;
			continue;
		}
		buf_add(out, p, n);
	}
}

int
compose_draft_init(struct compose_draft *d, enum compose_kind kind,
    const char *from, const char *orig, size_t len,
    bool (*own)(void *, const char *), void *arg, const char *signature,
    struct error *err)
{
	struct mime_render_opts	 ro;
	struct mime_view	*v = NULL;
	struct buf		 to = BUF_INIT(0), cc = BUF_INIT(0);
	struct buf		 seen = BUF_INIT(0), body = BUF_INIT(0);
	char			*o_from = NULL, *o_to = NULL, *o_cc = NULL;
	char			*o_reply = NULL, *o_subject = NULL, *o_id = NULL;
	char			*o_refs = NULL, *o_date = NULL, *o_list = NULL;
	char			*o_bcc = NULL;
	char			*who;
	int			 rv = -1;

	memset(d, 0, sizeof *d);
	d->from = xstrdup(from != NULL ? from : "");
	if (kind != COMPOSE_NEW) {
		if (orig == NULL) {
			error_set(err, ERR_USAGE, "no message to answer");
			goto fail;
		}
		o_from = orig_header(orig, len, "From", false);
		o_to = orig_header(orig, len, "To", false);
		o_cc = orig_header(orig, len, "Cc", false);
		o_reply = orig_header(orig, len, "Reply-To", false);
		o_subject = orig_header(orig, len, "Subject", false);
		o_id = orig_header(orig, len, "Message-ID", true);
		o_refs = orig_header(orig, len, "References", true);
		o_date = orig_header(orig, len, "Date", false);
		o_list = orig_header(orig, len, "List-Post", true);
		memset(&ro, 0, sizeof ro);
		ro.mailcap = "";
		if (mime_render(orig, len, &ro, &v, err) == -1)
			goto fail;
	}
	switch (kind) {
	case COMPOSE_NEW:
		break;
	case COMPOSE_LIST:
		/* List-Post: <mailto:list@host> (RFC 2369). */
		if (o_list != NULL) {
			char *m = strcasestr(o_list, "mailto:"), *e;

			if (m != NULL) {
				m += 7;
				e = m + strcspn(m, ">?, ");
				buf_add(&to, m, (size_t)(e - m));
			}
		}
		if (to.len == 0) {
			error_set(err, ERR_USAGE, "the message has no "
			    "List-Post address to reply to");
			goto fail;
		}
		break;
	case COMPOSE_REPLY:
	case COMPOSE_GROUP:
		add_addresses(&to, &seen, o_reply != NULL ? o_reply : o_from,
		    NULL, NULL);
		if (kind == COMPOSE_GROUP) {
			add_addresses(&cc, &seen, o_to, own, arg);
			add_addresses(&cc, &seen, o_cc, own, arg);
		}
		break;
	case COMPOSE_FORWARD:
	case COMPOSE_FORWARD_ATTACH:
		break;
	case COMPOSE_RESUME:
		free(d->from);
		d->from = xstrdup(o_from != NULL ? o_from : from != NULL ?
		    from : "");
		add_addresses(&to, &seen, o_to, NULL, NULL);
		add_addresses(&cc, &seen, o_cc, NULL, NULL);
		if ((o_bcc = orig_header(orig, len, "Bcc", false)) != NULL)
			d->bcc = o_bcc;
		d->subject = xstrdup(o_subject != NULL ? o_subject : "");
		if ((d->in_reply_to = orig_header(orig, len, "In-Reply-To",
		    true)) != NULL && o_refs != NULL)
			d->references = xstrdup(o_refs);
		resume_text(&body, v->body != NULL ? v->body : "");
		/* Its own signature is in its text already. */
		signature = NULL;
		break;
	}
	if (kind == COMPOSE_FORWARD_ATTACH)
		d->subject = prefixed_subject(o_subject, "Fwd:");
	else if (kind == COMPOSE_FORWARD) {
		d->subject = prefixed_subject(o_subject, "Fwd:");
		buf_printf(&body, "\n-------- Forwarded message --------\n"
		    "From: %s\nDate: %s\nSubject: %s\nTo: %s\n\n",
		    o_from != NULL ? o_from : "", o_date != NULL ? o_date : "",
		    o_subject != NULL ? o_subject : "", o_to != NULL ? o_to : "");
		buf_adds(&body, v->body != NULL ? v->body : "");
	} else if (kind != COMPOSE_NEW && kind != COMPOSE_RESUME) {
		d->subject = prefixed_subject(o_subject, "Re:");
		if (o_id != NULL) {
			d->in_reply_to = xstrdup(o_id);
			if (o_refs != NULL)
				xasprintf(&d->references, "%s %s", o_refs, o_id);
			else
				d->references = xstrdup(o_id);
		}
		who = v->from != NULL && *v->from != '\0' ? v->from : "someone";
		buf_printf(&body, "On %s, %s wrote:\n", o_date != NULL ?
		    o_date : "an unknown date", who);
		quote_text(&body, v->body != NULL ? v->body : "");
	} else if (kind == COMPOSE_NEW)
		d->subject = xstrdup("");
	if (signature != NULL && *signature != '\0') {
		buf_adds(&body, "\n-- \n");
		buf_adds(&body, signature);
		if (body.data[body.len - 1] != '\n')
			buf_adds(&body, "\n");
	}
	d->to = xstrdup(to.len > 0 ? to.data : "");
	d->cc = xstrdup(cc.len > 0 ? cc.data : "");
	if (d->bcc == NULL)
		d->bcc = xstrdup("");
	d->body = xstrdup(body.len > 0 ? body.data : "");
	rv = 0;
fail:
	mime_view_free(&v);
	free(o_from);
	free(o_to);
	free(o_cc);
	free(o_reply);
	free(o_subject);
	free(o_id);
	free(o_refs);
	free(o_date);
	free(o_list);
	buf_free(&to);
	buf_free(&cc);
	buf_free(&seen);
	buf_free(&body);
	if (rv == -1)
		compose_draft_free(d);
	return rv;
}

char *
compose_draft_text(const struct compose_draft *d)
{
	char	*s;

	xasprintf(&s, "From: %s\nTo: %s\nCc: %s\nBcc: %s\nSubject: %s\n\n%s",
	    d->from, d->to, d->cc, d->bcc, d->subject, d->body);
	return s;
}

int
compose_draft_parse(struct compose_draft *d, const char *text, size_t len,
    struct error *err)
{
	const char	*p = text, *end = text + len, *nl, *colon;
	char		**field, *v;
	size_t		 n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0) {
			p = nl < end ? nl + 1 : end;
			break;
		}
		if ((colon = memchr(p, ':', n)) == NULL)
			return error_set(err, ERR_USAGE, "line \"%.*s\" of the "
			    "headers is not \"Name: value\" (an empty line "
			    "ends the headers)", (int)(n > 60 ? 60 : n), p);
		field = NULL;
#define IS(s) ((size_t)(colon - p) == strlen(s) && \
	    strncasecmp_ascii(p, s, strlen(s)) == 0)
		if (IS("From"))
			field = &d->from;
		else if (IS("To"))
			field = &d->to;
		else if (IS("Cc"))
			field = &d->cc;
		else if (IS("Bcc"))
			field = &d->bcc;
		else if (IS("Subject"))
			field = &d->subject;
#undef IS
		if (field == NULL)
			return error_set(err, ERR_USAGE, "unknown header "
			    "\"%.*s\" (From, To, Cc, Bcc and Subject may be "
			    "edited)", (int)(colon - p > 40 ? 40 : colon - p), p);
		v = xmemdup0(colon + 1, n - (size_t)(colon + 1 - p));
		free(*field);
		*field = xstrdup(v + strspn(v, " \t"));
		free(v);
		p = nl < end ? nl + 1 : end;
	}
	free(d->body);
	d->body = xmemdup0(p, (size_t)(end - p));
	return 0;
}

void
compose_draft_free(struct compose_draft *d)
{
	free(d->from);
	free(d->to);
	free(d->cc);
	free(d->bcc);
	free(d->subject);
	free(d->in_reply_to);
	free(d->references);
	free(d->body);
	memset(d, 0, sizeof *d);
}
