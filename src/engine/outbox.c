/*
 * The outbox (cache/outbox.c holds it): a message to send is committed
 * there first, then the session sends it over SMTP, marks it sent the
 * moment the server answered 250 to its DATA (so it is never sent again,
 * whatever happens next), files it in the record folder (IMAP APPEND) and
 * removes it. Offline, or on a 4xx, it stays queued and is tried again
 * with a backoff; a 5xx holds it with the server's words until the user
 * acts (`petrel outbox --retry`, or edits it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "compose.h"
#include "conf.h"
#include "engine-private.h"
#include "imap-utf7.h"
#include "log.h"
#include "mime.h"
#include "smtp.h"
#include "xmalloc.h"

/* Waits after the 1st, 2nd... failure: 1, 2, 4... minutes, at most an hour. */
#define OUTBOX_BACKOFF_S	60
#define OUTBOX_BACKOFF_MAX_S	3600
/* The largest message accepted into the outbox. */
#define OUTBOX_MESSAGE_MAX	(256 * 1024 * 1024)

/* ---- Queueing a message ---------------------------------------------------- */

/* The message with every line ending in CRLF; -1 for a NUL byte. */
static int
outbox_crlf(const char *msg, size_t len, struct buf *out, struct error *err)
{
	const char	*p = msg, *end = msg + len, *nl;
	size_t		 n;

	if (memchr(msg, '\0', len) != NULL)
		return error_set(err, ERR_USAGE, "the message contains a NUL "
		    "byte");
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		buf_add(out, p, n);
		buf_add(out, "\r\n", 2);
		p = nl < end ? nl + 1 : end;
	}
	return 0;
}

/* The length of the header block, up to and with its empty line. */
static size_t
outbox_header_len(const char *msg, size_t len)
{
	const char	*e;

	if (len >= 2 && memcmp(msg, "\r\n", 2) == 0)
		return 2;
	if ((e = memmem(msg, len, "\r\n\r\n", 4)) == NULL)
		return len;
	return (size_t)(e - msg) + 4;
}

struct outbox_headers {
	const char	*from, *to, *cc, *bcc, *subject, *msgid, *date;
	size_t		 from_len, to_len, cc_len, bcc_len, subject_len;
	size_t		 msgid_len;
};

static int
outbox_scan_headers(const char *hdr, size_t len, struct outbox_headers *h,
    struct error *err)
{
	struct mime_hdr_iter	 it;
	const char		*name, *value;
	size_t			 nlen, vlen, seen = 0;
	int			 r;

	memset(h, 0, sizeof *h);
	mime_hdr_iter_init(&it, hdr, len);
	while ((r = mime_hdr_next(&it, &name, &nlen, &value, &vlen)) == 1) {
		seen++;
#define HDR(n, f)							\
		if (nlen == strlen(n) && strncasecmp_ascii(name, n, nlen) == 0 && \
		    h->f == NULL) {					\
			h->f = value;					\
			h->f##_len = vlen;				\
		}
		HDR("From", from)
		HDR("To", to)
		HDR("Cc", cc)
		HDR("Bcc", bcc)
		HDR("Subject", subject)
		HDR("Message-ID", msgid)
#undef HDR
		if (nlen == 4 && strncasecmp_ascii(name, "Date", 4) == 0)
			h->date = value;
	}
	if (r == -1 || seen == 0)
		return error_set(err, ERR_USAGE, "the message does not start "
		    "with header fields (\"Name: value\" lines, then an "
		    "empty line)");
	return 0;
}

/* The addresses of an address header, one per line, into rc. */
static size_t
outbox_add_rcpts(struct buf *rc, const char *v, size_t len)
{
	struct mime_addr	*a;
	size_t			 n, i, added = 0;

	if (v == NULL)
		return 0;
	n = mime_parse_addresses(v, len, &a);
	for (i = 0; i < n; i++) {
		if (a[i].addr == NULL || *a[i].addr == '\0')
			continue;
		buf_adds(rc, a[i].addr);
		buf_addc(rc, '\n');
		added++;
	}
	mime_addrs_free(a, n);
	return added;
}

int
engine_outbox_add(const struct account *acct, struct cache *cache,
    const char *msg, size_t len, char *const *rcpts, int nrcpts,
    int flags, int64_t *idp, struct error *err)
{
	struct outbox_headers	 h;
	struct cache_outbox	 o;
	struct buf		 m = BUF_INIT(0), head = BUF_INIT(0);
	struct buf		 rc = BUF_INIT(0);
	struct mime_addr	*fa = NULL;
	const char		*from, *dom;
	char			*msgid = NULL, *subject = NULL, *to = NULL;
	size_t			 hlen, nfa = 0, nrc = 0;
	int			 i, rv = -1;

	if (len > OUTBOX_MESSAGE_MAX)
		return error_set(err, ERR_USAGE, "the message is larger than "
		    "%d MB", OUTBOX_MESSAGE_MAX >> 20);
	if (outbox_crlf(msg, len, &m, err) == -1)
		goto out;
	hlen = outbox_header_len(m.data, m.len);
	if (outbox_scan_headers(m.data, hlen, &h, err) == -1)
		goto out;

	/* A From the message lacks comes from the account. */
	from = NULL;
	if (h.from == NULL) {
		from = acct->from != NULL ? acct->from :
		    acct->user != NULL && strchr(acct->user, '@') != NULL ?
		    acct->user : NULL;
		if (from == NULL) {
			error_set(err, ERR_CONFIG, "the message has no From, "
			    "and account %s sets no from = address",
			    acct->name);
			goto out;
		}
		if (compose_header(&head, "From", from, true, err) == -1)
			goto out;
		nfa = mime_parse_addresses(from, strlen(from), &fa);
	} else
		nfa = mime_parse_addresses(h.from, h.from_len, &fa);
	if (nfa == 0 || fa[0].addr == NULL) {
		error_set(err, ERR_USAGE, "the From of the message has no "
		    "address");
		goto out;
	}
	if (h.date == NULL) {
		char		 date[64];
		time_t		 now = time(NULL);
		struct tm	 tm;

		localtime_r(&now, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
		buf_printf(&head, "Date: %s\r\n", date);
	}
	if (h.msgid == NULL) {
		dom = strrchr(fa[0].addr, '@');
		msgid = compose_message_id(dom != NULL ? dom + 1 : "localhost");
		buf_printf(&head, "Message-ID: %s\r\n", msgid);
	} else
		msgid = xmemdup0(h.msgid, h.msgid_len);

	if (flags & OUTBOX_FROM_HEADERS) {
		nrc += outbox_add_rcpts(&rc, h.to, h.to_len);
		nrc += outbox_add_rcpts(&rc, h.cc, h.cc_len);
		nrc += outbox_add_rcpts(&rc, h.bcc, h.bcc_len);
	}
	for (i = 0; i < nrcpts; i++) {
		if (strpbrk(rcpts[i], "\r\n") != NULL)
			continue;
		nrc += outbox_add_rcpts(&rc, rcpts[i], strlen(rcpts[i]));
	}
	if (nrc == 0 && !(flags & OUTBOX_DRAFT)) {
		error_set(err, ERR_USAGE, "no recipients (give them as "
		    "arguments, or -t to take To, Cc and Bcc)");
		goto out;
	}
	buf_addc(&rc, '\0');

	subject = h.subject != NULL ? mime_decode_header(h.subject,
	    h.subject_len) : NULL;
	to = h.to != NULL ? mime_decode_header(h.to, h.to_len) : NULL;
	if (head.len > 0) {
		/* The new fields go first (h points into m until here). */
		buf_add(&head, m.data, m.len);
		buf_free(&m);
		m = head;
		head = (struct buf)BUF_INIT(0);
	}

	memset(&o, 0, sizeof o);
	o.env_from = fa[0].addr;
	o.rcpts = rc.data;
	o.subject = subject;
	o.to = to;
	o.message_id = msgid;
	o.message = m.data;
	o.len = m.len;
	o.state = flags & OUTBOX_DRAFT ? CACHE_OUTBOX_DRAFT :
	    CACHE_OUTBOX_QUEUED;
	rv = cache_outbox_add(cache, &o, idp, err);
out:
	mime_addrs_free(fa, nfa);
	free(msgid);
	free(subject);
	free(to);
	buf_free(&m);
	buf_free(&head);
	buf_free(&rc);
	return rv;
}

/* ---- Sending ---------------------------------------------------------------- */

/* The copy to send: the filed one without its Bcc field (RFC 5322 3.6.3). */
static void
outbox_strip_bcc(const char *msg, size_t len, struct buf *out)
{
	size_t	 hlen = outbox_header_len(msg, len), n;
	const char *p = msg, *end = msg + hlen, *nl;
	bool	 skipping = false;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end - 1;
		n = (size_t)(nl - p) + 1;
		if (*p == ' ' || *p == '\t') {
			/* A continuation belongs to the field before. */
			if (!skipping)
				buf_add(out, p, n);
		} else {
			skipping = n >= 4 && strncasecmp_ascii(p, "Bcc:", 4) ==
			    0;
			if (!skipping)
				buf_add(out, p, n);
		}
		p += n;
	}
	buf_add(out, msg + hlen, len - hlen);
}

static int64_t
outbox_backoff(int attempts)
{
	int64_t	s = OUTBOX_BACKOFF_S;

	while (attempts-- > 0 && s < OUTBOX_BACKOFF_MAX_S)
		s *= 2;
	return s < OUTBOX_BACKOFF_MAX_S ? s : OUTBOX_BACKOFF_MAX_S;
}

static void
outbox_params(struct session *s, struct proto_params *pp)
{
	const struct account	*a = s->acct;
	const char		*auth = conf_get(NULL, a, "smtp_auth");

	session_params(s, pp);
	pp->host = a->smtp_host;
	pp->port = a->smtp_port;
	pp->user = a->smtp_user;
	pp->tls = a->smtp_tls == TLS_IMPLICIT ? PROTO_TLS_IMPLICIT :
	    a->smtp_tls == TLS_STARTTLS ? PROTO_TLS_STARTTLS : PROTO_TLS_NONE;
	pp->auth = auth;
	pp->compress = false;
	/* smtp_password: a password, whatever the account logs in with. */
	if (account_smtp_own_secret(a)) {
		pp->token = false;
		pp->external = false;
	}
}

static struct smtp_client *
outbox_connect(struct session *s, struct error *err)
{
	struct proto_params	 pp;
	struct smtp_client	*c;
	const char		*pw;

	if (session_get_smtp_password(s, &pw, err) == -1)
		return NULL;
	outbox_params(s, &pp);
	c = smtp_connect(&pp, NULL, pw, err);
	if (c == NULL && err->cls == ERR_AUTH) {
		if (account_smtp_own_secret(s->acct))
			session_forget_secret(s, SESSION_SECRET_SMTP);
		else if (session_token_refused(s, err)) {
			/* A token may have expired: once more, refreshed. */
			if (session_get_smtp_password(s, &pw, err) == -1)
				return NULL;
			outbox_params(s, &pp);
			c = smtp_connect(&pp, NULL, pw, err);
		} else
			session_forget_password(s);
	}
	/* What the compose screen may use next time (8bit bodies). */
	if (c != NULL)
		cache_meta_set(s->cache, ENGINE_META_8BITMIME,
		    smtp_has_ext(c, "8BITMIME") ? "1" : "0", NULL);
	if (c == NULL && err->cls == ERR_TLS && (s->peer.untrusted ||
	    s->peer.changed))
		session_post_trust(s, &s->peer);
	return c;
}

/*
 * The server name of the folder a sent message (record) or a draft
 * (postponed) is filed in, or NULL: the key says off, a POP3 account, or
 * no server folder to file in. Unset: the folder with the special use
 * (RFC 6154), else the usual name.
 */
struct special_find {
	const char	*use;
	char		*remote;
};

static int
special_cb(void *arg, const struct cache_folder *f)
{
	struct special_find	*sf = arg;

	if (f->special_use != NULL && f->remote != NULL &&
	    strcasecmp_ascii(f->special_use, sf->use) == 0) {
		sf->remote = xstrdup(f->remote);
		return 1;
	}
	return 0;
}

static char *
outbox_folder(struct session *s, bool draft)
{
	struct cache_folder	 f;
	struct special_find	 sf;
	const char		*name = draft ? conf_get(NULL, s->acct,
				    "postponed") : s->acct->record;

	if (s->drv->append == NULL || (name != NULL &&
	    strcasecmp_ascii(name, "off") == 0))
		return NULL;
	if (name == NULL) {
		sf.use = draft ? "\\Drafts" : "\\Sent";
		sf.remote = NULL;
		if (cache_folder_foreach(s->cache, false, special_cb, &sf,
		    NULL) == -1 || sf.remote == NULL)
			name = draft ? "Drafts" : "Sent";
		else
			return sf.remote;
	}
	if (cache_folder_get(s->cache, name, &f, NULL) == 1 &&
	    f.remote != NULL)
		return xstrdup(f.remote);
	return imap_utf7_encode(name);
}

/* File a sent message (or a draft) in its folder and let it go. */
static int
outbox_file(struct session *s, const struct cache_outbox *o,
    struct error *err)
{
	bool	 draft = o->state == CACHE_OUTBOX_DRAFT;
	char	*folder;
	int	 rv = 0;

	if ((folder = outbox_folder(s, draft)) != NULL) {
		if (session_ensure_online(s, err) == -1 || s->drv->append(s,
		    folder, draft ? "\\Draft \\Seen" : "\\Seen", o->message,
		    o->len, err) == -1) {
			error_prefix(err, "filing the %s in %s", draft ?
			    "draft" : "sent message", folder);
			cache_outbox_note(s->cache, o->id, err->msg, NULL);
			free(folder);
			return -1;
		}
		log_info("%s: message %lld filed in %s", s->acct->name,
		    (long long)o->id, folder);
		free(folder);
	} else if (draft) {
		/* Nowhere to file it: it stays here, listed as a draft. */
		return 0;
	}
	if (cache_outbox_remove(s->cache, o->id, err) == -1)
		rv = -1;
	return rv;
}

struct go_ahead {
	struct session	*s;
	int64_t		 id;
};

/*
 * Just before DATA: is the row still queued? The user may have taken it
 * back (M, e holds it) while the envelope went out; a read, no write.
 */
static bool
outbox_go_ahead(void *arg)
{
	struct go_ahead	*g = arg;

	return cache_outbox_state(g->s->cache, g->id) == CACHE_OUTBOX_QUEUED;
}

/* One queued message over c: 0 sent, -1 not (held or deferred, err set). */
static int
outbox_send_one(struct session *s, struct smtp_client *c,
    const struct cache_outbox *o, struct sync_stats *st, struct error *err)
{
	struct smtp_envelope	 env;
	struct go_ahead		 ga;
	struct buf		 sendcopy = BUF_INIT(0);
	const char		*rcpts[256];
	char			*list, *p, *nl;
	bool			 after_dot = false;
	size_t			 n = 0;
	int			 rv;

	list = xstrdup(o->rcpts);
	for (p = list; *p != '\0' && n < sizeof rcpts / sizeof rcpts[0];
	    p = nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		else
			*nl++ = '\0';
		if (*p != '\0')
			rcpts[n++] = p;
	}
	memset(&env, 0, sizeof env);
	env.from = o->env_from;
	env.rcpts = rcpts;
	env.nrcpts = n;
	ga.s = s;
	ga.id = o->id;
	env.go_ahead = outbox_go_ahead;
	env.go_arg = &ga;
	outbox_strip_bcc(o->message, o->len, &sendcopy);
	rv = smtp_send(c, &env, sendcopy.data, sendcopy.len, &after_dot, err);
	buf_free(&sendcopy);
	free(list);
	if (env.withdrawn) {
		/* Its row is the user's now: nothing to note on it. */
		log_info("%s: message %lld taken back before DATA",
		    s->acct->name, (long long)o->id);
		return -1;
	}
	if (rv == 0) {
		struct error	e;

		/* Before anything else: never again. */
		error_clear(&e);
		if (cache_outbox_sent(s->cache, o->id, (int64_t)time(NULL),
		    &e) == -1)
			log_warn("%s: message %lld was sent, but the outbox "
			    "could not note it: %s", s->acct->name,
			    (long long)o->id, e.msg);
		st->mail_sent++;
		return 0;
	}
	if (after_dot)
		error_append(err, " (after the whole message was sent: the "
		    "server may have taken it; it will be sent again)");
	if (err->cls == ERR_TRANSIENT || err->cls == ERR_AUTH ||
	    err->cls == ERR_TLS) {
		cache_outbox_defer(s->cache, o->id, (int64_t)time(NULL) +
		    outbox_backoff(o->attempts), err->msg, NULL);
		st->mail_waiting++;
	} else {
		cache_outbox_hold(s->cache, o->id, err->msg, NULL);
		st->mail_held++;
	}
	return -1;
}

int
session_send_outbox(struct session *s, int64_t only, struct sync_stats *st,
    struct error *err)
{
	struct cache_outbox	*rows = NULL, o;
	struct smtp_client	*c = NULL;
	struct error		 e, first;
	size_t			 n, i;
	int64_t			 now = (int64_t)time(NULL);
	int			 rv = 0;

	error_clear(&first);
	if (cache_outbox_list(s->cache, &rows, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (only != 0 && rows[i].id != only)
			continue;
		if (rows[i].state == CACHE_OUTBOX_HELD) {
			st->mail_held++;
			continue;
		}
		if (rows[i].state == CACHE_OUTBOX_QUEUED && only == 0 &&
		    rows[i].next_try > now) {
			st->mail_waiting++;
			continue;
		}
		error_clear(&e);
		if (cache_outbox_get(s->cache, rows[i].id, &o, &e) == -1)
			goto failed;
		if (o.state == CACHE_OUTBOX_QUEUED) {
			if (s->acct->smtp_host == NULL) {
				error_set(&e, ERR_CONFIG, "account %s has no "
				    "smtp = server to send through",
				    s->acct->name);
				cache_outbox_hold(s->cache, o.id, e.msg, NULL);
				st->mail_held++;
				cache_outbox_clear(&o);
				goto failed;
			}
			if (c == NULL && (c = outbox_connect(s, &e)) == NULL) {
				cache_outbox_defer(s->cache, o.id, now +
				    outbox_backoff(o.attempts), e.msg, NULL);
				st->mail_waiting++;
				cache_outbox_clear(&o);
				goto failed;
			}
			if (outbox_send_one(s, c, &o, st, &e) == -1) {
				if (smtp_broken(c) != NULL)
					smtp_quit(&c);
				cache_outbox_clear(&o);
				goto failed;
			}
			o.state = CACHE_OUTBOX_SENT;
		}
		if (outbox_file(s, &o, &e) == -1)
			st->mail_unfiled++;
		cache_outbox_clear(&o);
		if (e.cls != ERR_NONE)
			goto failed;
		continue;
failed:
		log_info("%s: outbox %lld: %s", s->acct->name,
		    (long long)rows[i].id, e.msg);
		if (first.cls == ERR_NONE)
			first = e;
		rv = -1;
	}
	smtp_quit(&c);
	cache_outbox_free(rows, n);
	if (rv == -1 && err != NULL)
		*err = first;
	return rv;
}
