/*
 * POP3 sync: the server's maildrop into the local INBOX, each message
 * downloaded once, and deleted from the server only when it is safe.
 *
 * One session, in this order:
 *  1. STAT and UIDL name every message on the server. A server without
 *     UIDL (or one that leaves messages out of it) gets its messages named
 *     by "sha256:" and the hash of their header block (TOP n 0).
 *  2. Each name is matched against the cache's pop3_uidl rows. A name the
 *     server lists more than once (a buggy server) is matched by size too,
 *     and unmatched ones become rows of their own (dup 1, 2...): such
 *     messages are kept apart, never merged, and never deleted, since a
 *     DELE could hit the wrong one. LIST (the sizes) is asked only when
 *     something is new, unnamed, duplicated or about to be deleted.
 *  3. New messages are fetched, pipelined: RETR (or TOP n 0 with
 *     pop3_headers_only). The store thread (store.c, shared with IMAP)
 *     stores each one as soon as it arrived whole, while the next ones
 *     arrive: its index row, body and pop3_uidl row go in the same
 *     transaction; transactions are committed every COMMIT_MSGS messages or
 *     COMMIT_BYTES bytes, and whenever the download is slower than the
 *     disk. When the connection drops, the messages received whole are
 *     still committed, so nothing is downloaded twice.
 *  4. Policy deletion (pop3_delete): DELE only for messages whose bytes are
 *     committed, unique in the listing, with the size LIST gave when they
 *     were downloaded; "after:DAYS" counts from first_seen.
 *  5. QUIT. Only its +OK marks the deleted rows (server = deleted); an error
 *     before it means the server deleted nothing, and the next sync finds
 *     those messages again, known by name, and does not download them.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "conf.h"
#include "engine-private.h"
#include "log.h"
#include "pop3.h"
#include "xmalloc.h"

#define POP3_FOLDER		"INBOX"
/* Messages and bytes per transaction while downloading. */
#define COMMIT_MSGS		1000
#define COMMIT_BYTES		(64 * 1024 * 1024)
/* Bodies up to this size stay in memory; bigger ones go to a temporary file. */
#define BODY_MEM_MAX		(1024 * 1024)
/* Header bytes given to the index parser. */
#define HEADER_MAX		(256 * 1024)
#define UIDVALIDITY_POP3	1
#define META_NO_UIDL		"pop3.no_uidl"

/* A row of the cache's pop3_uidl table. */
struct known {
	int64_t		 id;
	char		*key;
	bool		 hashed;
	int		 dup;
	uint32_t	 uid;
	int64_t		 size;
	int64_t		 first_seen;
	bool		 stored;
	int		 server;
	bool		 expunged;	/* the user expunged it locally */
	bool		 matched;	/* listed in this session */
	int		 next;		/* next known row with the same key, -1 */
};

/* A message of this session's listing, by msgno - 1. */
struct listed {
	char		*key;		/* NULL until named */
	bool		 hashed;
	uint64_t	 size;		/* from LIST, 0 before */
	int		 known;		/* matched row, or -1: new */
	int		 next;		/* next listed message with the same key, -1 */
	int		 ent;		/* its key table entry */
	bool		 marked;	/* DELE accepted */
	/* Set by the writer when it stored this message. */
	int64_t		 new_id;	/* its new pop3_uidl row, 0 if none */
	uint32_t	 new_uid;
	int		 new_dup;
	bool		 new_stored;	/* its bytes are committed */
};

/* One key of the table: the heads of its known and listed chains. */
struct kent {
	const char	*key;
	bool		 hashed;
	int		 known, nknown;
	int		 listed, nlisted;
	int		 maxdup;	/* highest dup in use, -1 */
};

/* A message that arrived whole, on its way to the writer. */
struct p3msg {
	uint32_t	 msgno;
	bool		 headers_only;	/* TOP n 0: index only */
	int64_t		 row_id;	/* a known row whose body this is, or 0: new */
	uint32_t	 uid;		/* its local UID, with row_id */
	char		*data;		/* the message, in memory... */
	size_t		 len;
	FILE		*tmp;		/* ...or in a temporary file */
	char		*hdr;		/* with tmp: the header block */
	size_t		 hdr_len;
	uint64_t	 total;		/* bytes of the message */
	size_t		 queued;	/* memory it holds, for the queue bound */
};


struct pop3_sync {
	const struct account	*acct;
	struct cache		*cache;
	struct cache_pop3	*p3;
	struct pop3_client	*c;
	const struct sync_opts	*opts;
	struct sync_stats	*stats;
	struct error		*err;
	int64_t			 now;

	struct cache_folder	 cf;		/* INBOX markers (strings cleared) */
	int64_t			 folder_id;
	uint32_t		 next_uid;
	uint32_t		 only_uid;	/* fetch this body only (show) */

	struct known		*known;
	size_t			 nknown, known_size;
	struct listed		*listed;
	uint32_t		 count;		/* STAT */
	bool			 have_sizes;	/* LIST done */

	struct kent		*tab;		/* open addressing, size tab_mask + 1 */
	size_t			 tab_mask, tab_used;

	/* The store thread (only it touches the cache meanwhile). */
	struct store		*store;

	/* The message being received (download thread). */
	uint64_t		 received, total;
	uint32_t		 msgno;
	bool			 headers_only;
	uint32_t		 body_uid;	/* body_sink: the row it completes */
	int64_t			 body_row;
	struct buf		 body;
	FILE			*tmp;
	uint64_t		 tmp_len;
	char			*spill_hdr;
	size_t			 spill_hdr_len;
	gnutls_hash_hd_t	 hash;
	bool			 hashing;
	struct index_fields	 fields;
};

static void
progress(struct pop3_sync *s, uint64_t done)
{
	if (s->opts->progress != NULL)
		s->opts->progress(s->opts->progress_arg, POP3_FOLDER, done,
		    s->total);
}

/* ---- Key table ----------------------------------------------------------- */

static size_t
key_hash(const char *key, bool hashed)
{
	uint64_t	h = 1469598103934665603ULL ^ (uint64_t)hashed;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 29));
}

/* Rehash into a table of size entries (a power of two). */
static void
tab_resize(struct pop3_sync *s, size_t size)
{
	struct kent	*old = s->tab;
	size_t		 oldsize = old != NULL ? s->tab_mask + 1 : 0, i, j;

	s->tab = xcalloc(size, sizeof *s->tab);
	s->tab_mask = size - 1;
	for (i = 0; i < oldsize; i++) {
		if (old[i].key == NULL)
			continue;
		j = key_hash(old[i].key, old[i].hashed) & s->tab_mask;
		while (s->tab[j].key != NULL)
			j = (j + 1) & s->tab_mask;
		s->tab[j] = old[i];
	}
	free(old);
}

/*
 * Room for n more keys at most three quarters full, in one rehash, so
 * entries stay where they are while listed messages point at them. (The
 * table is touched all over: its size is page faults at every sync.)
 */
static void
tab_reserve(struct pop3_sync *s, size_t n)
{
	size_t	need = (s->tab_used + n + 1) / 3 * 4 + 4, size;

	if (s->tab != NULL && need <= s->tab_mask + 1)
		return;
	for (size = 1024; size < need; size *= 2)
		;
	tab_resize(s, size);
}

/* The entry of a key, made when missing. Keys must outlive the table. */
static struct kent *
tab_get(struct pop3_sync *s, const char *key, bool hashed)
{
	size_t	j;

	tab_reserve(s, 1);
	j = key_hash(key, hashed) & s->tab_mask;
	while (s->tab[j].key != NULL) {
		if (s->tab[j].hashed == hashed && strcmp(s->tab[j].key, key) == 0)
			return &s->tab[j];
		j = (j + 1) & s->tab_mask;
	}
	s->tab[j].key = key;
	s->tab[j].hashed = hashed;
	s->tab[j].known = s->tab[j].listed = -1;
	s->tab[j].maxdup = -1;
	s->tab_used++;
	return &s->tab[j];
}

/* ---- Known rows ---------------------------------------------------------- */

static int
known_cb(void *arg, const struct cache_pop3_row *r)
{
	struct pop3_sync	*s = arg;
	struct known		*k;

	if (s->nknown == s->known_size) {
		s->known_size = s->known_size ? s->known_size * 2 : 1024;
		s->known = xreallocarray(s->known, s->known_size,
		    sizeof *s->known);
	}
	k = &s->known[s->nknown];
	memset(k, 0, sizeof *k);
	k->id = r->id;
	k->key = xstrdup(r->uidl);
	k->hashed = r->hashed;
	k->dup = r->dup;
	k->uid = r->uid;
	k->size = r->size;
	k->first_seen = r->first_seen;
	k->stored = r->stored;
	k->server = (int)r->server;
	k->expunged = r->expunged;
	s->nknown++;
	return 0;
}

/* Chain the known rows by key, once the array stops moving. */
static void
known_index(struct pop3_sync *s)
{
	struct kent	*e;
	size_t		 i;
	int		*tail;

	for (i = 0; i < s->nknown; i++) {
		e = tab_get(s, s->known[i].key, s->known[i].hashed);
		s->known[i].next = -1;
		/* Keep each chain in dup order (rows come in insertion order). */
		for (tail = &e->known; *tail != -1; tail = &s->known[*tail].next)
			;
		*tail = (int)i;
		e->nknown++;
		if (s->known[i].dup > e->maxdup)
			e->maxdup = s->known[i].dup;
	}
}

/* ---- Naming the server's messages ---------------------------------------- */

static int
uidl_cb(void *arg, uint32_t msgno, const char *uidl)
{
	struct pop3_sync	*s = arg;
	struct listed		*l;

	if (msgno > s->count)
		return error_set(s->err, ERR_PROTO, "%s: UIDL lists message %u "
		    "of %u", s->acct->host, msgno, s->count);
	l = &s->listed[msgno - 1];
	if (l->key != NULL)
		return error_set(s->err, ERR_PROTO, "%s: UIDL lists message %u "
		    "twice", s->acct->host, msgno);
	l->key = xstrdup(uidl);
	return 0;
}

static int
list_cb(void *arg, uint32_t msgno, uint64_t size)
{
	struct pop3_sync	*s = arg;

	if (msgno > s->count)
		return error_set(s->err, ERR_PROTO, "%s: LIST lists message %u "
		    "of %u", s->acct->host, msgno, s->count);
	s->listed[msgno - 1].size = size;
	return 0;
}

static int
ensure_sizes(struct pop3_sync *s)
{
	if (s->have_sizes)
		return 0;
	if (pop3_list(s->c, list_cb, s, s->err) == -1)
		return -1;
	s->have_sizes = true;
	return 0;
}

/* Header hashing (no UIDL): TOP n 0 of each message through SHA-256. */
static int
hash_begin(void *arg, uint32_t msgno)
{
	struct pop3_sync	*s = arg;

	if (gnutls_hash_init(&s->hash, GNUTLS_DIG_SHA256) < 0)
		return error_set(s->err, ERR_LOCAL, "SHA-256 is not available");
	s->hashing = true;
	s->msgno = msgno;
	return 0;
}

static int
hash_data(void *arg, const char *p, size_t len)
{
	struct pop3_sync	*s = arg;

	return gnutls_hash(s->hash, p, len) < 0 ? -1 : 0;
}

static int
hash_end(void *arg, uint32_t msgno, uint64_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	struct pop3_sync	*s = arg;
	unsigned char		 md[32];
	char			 key[8 + 64 + 1];
	size_t			 i;

	gnutls_hash_deinit(s->hash, md);
	s->hashing = false;
	memcpy(key, "sha256:", 7);
	for (i = 0; i < 32; i++) {
		key[7 + 2 * i] = hex[md[i] >> 4];
		key[7 + 2 * i + 1] = hex[md[i] & 15];
	}
	key[7 + 64] = '\0';
	free(s->listed[msgno - 1].key);
	s->listed[msgno - 1].key = xstrdup(key);
	s->listed[msgno - 1].hashed = true;
	return 0;
}

static int
hash_refused(void *arg, uint32_t msgno, const char *text)
{
	struct pop3_sync	*s = arg;

	return error_set(s->err, ERR_PROTO, "%s: TOP %u 0 refused (%s): "
	    "cannot tell this message from the others without UIDL",
	    s->acct->host, msgno, text);
}

static const struct pop3_sink hash_sink = {
	hash_begin, hash_data, hash_end, hash_refused,
};

/* STAT, UIDL, and header hashes for what UIDL did not name. */
static int
name_messages(struct pop3_sync *s)
{
	struct pop3_item	*items = NULL;
	uint64_t		 total;
	size_t			 n = 0, i;
	char			*meta;
	int			 r, rv = -1;

	if (pop3_stat(s->c, &s->count, &total, s->err) == -1)
		return -1;
	s->listed = xcalloc(s->count + 1, sizeof *s->listed);
	for (i = 0; i < s->count; i++) {
		s->listed[i].known = -1;
		s->listed[i].next = -1;
	}
	if (s->count == 0)
		return 0;
	if ((r = pop3_uidl(s->c, uidl_cb, s, s->err)) == -1)
		return -1;
	meta = cache_meta_get(s->cache, META_NO_UIDL);
	if (r == 0) {
		/* Say it once, not at every sync. */
		if (meta == NULL)
			log_warnx("%s: %s does not support UIDL: petrel tells "
			    "messages apart by a hash of their headers (TOP), "
			    "which is slower and less certain", s->acct->name,
			    s->acct->host);
		if (meta == NULL && cache_meta_set(s->cache, META_NO_UIDL,
		    "1", s->err) == -1) {
			free(meta);
			return -1;
		}
	} else if (meta != NULL && cache_meta_set(s->cache, META_NO_UIDL, NULL,
	    s->err) == -1) {
		free(meta);
		return -1;
	}
	free(meta);

	for (i = 0; i < s->count; i++)
		if (s->listed[i].key == NULL)
			n++;
	if (n == 0)
		return 0;
	if (r == 1)
		log_warnx("%s: %s gave no UIDL for %zu of %u messages: naming "
		    "them by a hash of their headers", s->acct->name,
		    s->acct->host, n, s->count);
	if (ensure_sizes(s) == -1)
		return -1;
	items = xcalloc(n, sizeof *items);
	for (i = 0, n = 0; i < s->count; i++)
		if (s->listed[i].key == NULL) {
			items[n].msgno = (uint32_t)i + 1;
			items[n].size = s->listed[i].size;
			n++;
		}
	if (pop3_fetch(s->c, items, n, 0, &hash_sink, s, s->err) == -1) {
		if (s->hashing) {
			unsigned char md[32];

			gnutls_hash_deinit(s->hash, md);
			s->hashing = false;
		}
		goto out;
	}
	rv = 0;
out:
	free(items);
	return rv;
}

/* ---- Matching ------------------------------------------------------------ */

/*
 * Match every listed message to a known row: one name listed once takes
 * its first row (the one of the same size when several); a name listed
 * several times matches rows by size, one each.
 */
static int
match(struct pop3_sync *s, size_t *newp)
{
	struct listed	*l;
	struct kent	*e;
	uint32_t	 i;
	int		*tail, k, best;
	bool		 dups = false;

	*newp = 0;
	/* Sized once for both sides: a rehash would touch it all again. */
	tab_reserve(s, s->nknown + s->count);
	known_index(s);
	for (i = 0; i < s->count; i++) {
		l = &s->listed[i];
		e = tab_get(s, l->key, l->hashed);
		l->ent = (int)(e - s->tab);
		for (tail = &e->listed; *tail != -1;
		    tail = &s->listed[*tail].next)
			;
		*tail = (int)i;
		e = &s->tab[l->ent];
		if (++e->nlisted > 1)
			dups = true;
	}
	if (dups && ensure_sizes(s) == -1)
		return -1;
	for (i = 0; i < s->count; i++) {
		l = &s->listed[i];
		e = &s->tab[l->ent];
		best = -1;
		for (k = e->known; k != -1; k = s->known[k].next) {
			if (s->known[k].matched)
				continue;
			if (e->nlisted == 1) {
				if (best == -1 || (s->have_sizes &&
				    (uint64_t)s->known[k].size == l->size))
					best = k;
			} else if ((uint64_t)s->known[k].size == l->size) {
				best = k;
				break;
			}
		}
		if (best != -1) {
			s->known[best].matched = true;
			l->known = best;
		} else
			(*newp)++;
	}
	if (dups)
		log_warnx("%s: %s lists the same UIDL for different messages; "
		    "petrel keeps them apart and will not delete them",
		    s->acct->name, s->acct->host);
	return 0;
}

/* Rows listed again or no longer listed: record it (one transaction). */
static int
update_server_state(struct pop3_sync *s)
{
	struct known	*k;
	size_t		 i;
	int		 want;
	bool		 began = false;

	for (i = 0; i < s->nknown; i++) {
		k = &s->known[i];
		want = k->matched ? CACHE_POP3_ON_SERVER :
		    k->server == CACHE_POP3_ON_SERVER ? CACHE_POP3_GONE :
		    k->server;
		if (want == k->server)
			continue;
		if (!began && cache_begin(s->cache, s->err) == -1)
			return -1;
		began = true;
		if (cache_pop3_set_server(s->p3, k->id, want, s->now,
		    s->err) == -1) {
			cache_rollback(s->cache);
			return -1;
		}
		k->server = want;
	}
	return began ? cache_commit(s->cache, s->err) : 0;
}

/* ---- Storing (on the store thread) --------------------------------------- */

static int
save_markers(struct pop3_sync *s, bool complete)
{
	s->cf.uidvalidity = UIDVALIDITY_POP3;
	s->cf.uidnext = s->next_uid;
	s->cf.synced_uid = s->next_uid - 1;
	s->cf.complete = complete;
	if (complete)
		s->cf.last_sync = s->now;
	return cache_folder_set_sync(s->cache, s->folder_id, &s->cf, s->err);
}

/* Where the header block ends (after its empty line), or len. */
static size_t
header_len(const char *p, size_t len)
{
	const char	*nl;
	size_t		 i = 0;

	while (i < len && (nl = memchr(p + i, '\n', len - i)) != NULL) {
		i = (size_t)(nl - p) + 1;
		if (i < len && p[i] == '\n')
			return i + 1;
		if (i + 1 < len && p[i] == '\r' && p[i + 1] == '\n')
			return i + 2;
	}
	return len;
}

static void
p3msg_free(struct p3msg *m)
{
	free(m->data);
	free(m->hdr);
	if (m->tmp != NULL)
		fclose(m->tmp);
	free(m);
}

/* A new message: index row, body (unless headers only), pop3_uidl row. */
static int
store_new(struct pop3_sync *s, struct p3msg *m, struct error *err)
{
	struct listed		*l = &s->listed[m->msgno - 1];
	struct kent		*e = &s->tab[l->ent];
	struct cache_pop3_row	 r;
	struct cache_msg	 cm;
	uint32_t		 uid = s->next_uid;
	const char		*hdr = m->tmp != NULL ? m->hdr : m->data;
	size_t			 hlen = m->tmp != NULL ? m->hdr_len :
			    header_len(m->data, m->len);

	memset(&cm, 0, sizeof cm);
	cm.folder_id = s->folder_id;
	cm.uid = uid;
	cm.internaldate = s->now;	/* POP3 has none: when it arrived here */
	cm.size = (int64_t)(m->headers_only ? l->size : m->total);
	index_fields_parse(&s->fields, hdr, hlen < HEADER_MAX ? hlen :
	    HEADER_MAX);
	index_fields_to_msg(&s->fields, &cm);
	if (cache_msg_put(s->cache, &cm, err) == -1)
		return -1;
	if (!m->headers_only) {
		if (m->tmp != NULL) {
			if (cache_body_put_file(s->cache, s->folder_id, uid,
			    m->tmp, m->total, err) == -1)
				return -1;
		} else if (cache_body_put(s->cache, s->folder_id, uid, m->data,
		    m->len, err) == -1)
			return -1;
	}
	memset(&r, 0, sizeof r);
	r.uidl = l->key;
	r.hashed = l->hashed;
	r.dup = e->maxdup + 1;
	r.uid = uid;
	r.size = (int64_t)l->size;
	r.first_seen = s->now;
	r.stored = !m->headers_only;
	r.server = CACHE_POP3_ON_SERVER;
	r.server_time = s->now;
	if (cache_pop3_add(s->p3, &r, s->folder_id, &l->new_id, err) == -1)
		return -1;
	e->maxdup++;
	l->new_uid = uid;
	l->new_dup = r.dup;
	l->new_stored = r.stored;
	s->next_uid++;
	return 0;
}

/* The body of a message indexed earlier with pop3_headers_only. */
static int
store_body(struct pop3_sync *s, struct p3msg *m, struct error *err)
{
	if (m->tmp != NULL) {
		if (cache_body_put_file(s->cache, s->folder_id, m->uid, m->tmp,
		    m->total, err) == -1)
			return -1;
	} else if (cache_body_put(s->cache, s->folder_id, m->uid, m->data,
	    m->len, err) == -1)
		return -1;
	if (cache_pop3_set_stored(s->p3, m->row_id, err) == -1)
		return -1;
	s->listed[m->msgno - 1].new_stored = true;
	return 0;
}

static int
p3_store_put(void *arg, struct store_item *it, struct error *err)
{
	struct pop3_sync	*s = arg;
	struct p3msg		*m = it->ext;

	return m->row_id != 0 ? store_body(s, m, err) : store_new(s, m, err);
}

/* With each commit, the UID counter (UIDs are never reused). */
static int
p3_store_commit(void *arg, bool last, struct error *err)
{
	struct pop3_sync	*s = arg;
	struct cache_folder	 cf = s->cf;

	(void)last;
	cf.uidvalidity = UIDVALIDITY_POP3;
	cf.uidnext = s->next_uid;
	cf.synced_uid = s->next_uid - 1;
	cf.complete = false;
	return cache_folder_set_sync(s->cache, s->folder_id, &cf, err);
}

static void
p3_store_release(void *arg, struct store_item *it)
{
	(void)arg;
	p3msg_free(it->ext);
	it->ext = NULL;
}

static const struct store_ops pop3_store_ops = {
	.put = p3_store_put,
	.commit = p3_store_commit,
	.release = p3_store_release,
};

/* Hand a message that arrived whole to the store thread. */
static int
store_queue(struct pop3_sync *s, struct p3msg *m)
{
	struct store_item	*it;
	char			*room;

	it = store_item_new(s->store, 0, &room);
	it->ext = m;
	/* The queue's memory bound counts what a message holds. */
	it->weight = m->queued;
	if (store_push(s->store, it, s->err) == -1)
		return -1;
	/* Progress from this thread only: what arrived whole. */
	if (s->received % 100 == 0 || s->received == s->total)
		progress(s, s->received);
	return 0;
}

/* ---- Receiving ----------------------------------------------------------- */

static int
msg_begin(void *arg, uint32_t msgno)
{
	struct pop3_sync	*s = arg;

	uint64_t		 size = s->listed[msgno - 1].size;

	s->msgno = msgno;
	buf_reset(&s->body);
	/* One allocation of the size LIST gave, rather than doublings. */
	if (size > 0 && !s->headers_only)
		buf_reserve(&s->body, size < BODY_MEM_MAX ? (size_t)size :
		    BODY_MEM_MAX);
	s->tmp = NULL;
	s->tmp_len = 0;
	return 0;
}

/* Move the in-memory part to a temporary file of its own, keeping the header. */
static int
msg_spill(struct pop3_sync *s)
{
	if ((s->tmp = tmpfile()) == NULL)
		return error_set(s->err, ERR_LOCAL, "cannot make a temporary "
		    "file for a large message: %s", strerror(errno));
	if (fwrite(s->body.data, 1, s->body.len, s->tmp) != s->body.len)
		return error_set(s->err, ERR_LOCAL, "writing a temporary file: "
		    "%s", strerror(errno));
	s->tmp_len = s->body.len;
	s->spill_hdr_len = header_len(s->body.data, s->body.len);
	if (s->spill_hdr_len > HEADER_MAX)
		s->spill_hdr_len = HEADER_MAX;
	s->spill_hdr = xmemdup0(s->body.data, s->spill_hdr_len);
	buf_reset(&s->body);
	return 0;
}

static int
msg_data(void *arg, const char *p, size_t len)
{
	struct pop3_sync	*s = arg;

	if (s->tmp == NULL && s->body.len + len > BODY_MEM_MAX &&
	    msg_spill(s) == -1)
		return -1;
	if (s->tmp != NULL) {
		if (fwrite(p, 1, len, s->tmp) != len)
			return error_set(s->err, ERR_LOCAL, "writing a "
			    "temporary file: %s", strerror(errno));
		s->tmp_len += len;
		return 0;
	}
	if (buf_add(&s->body, p, len) == -1)
		return error_set(s->err, ERR_LOCAL, "message buffer full");
	return 0;
}

/* A message arrived whole: hand it to the writer. */
static int
msg_end(void *arg, uint32_t msgno, uint64_t len)
{
	struct pop3_sync	*s = arg;
	struct p3msg		*m;

	m = xcalloc(1, sizeof *m);
	m->msgno = msgno;
	m->headers_only = s->headers_only;
	m->total = len;
	m->uid = s->body_uid;
	m->row_id = s->body_row;
	if (s->tmp != NULL) {
		if (fflush(s->tmp) != 0) {
			fclose(s->tmp);
			s->tmp = NULL;
			free(s->spill_hdr);
			s->spill_hdr = NULL;
			free(m);
			return error_set(s->err, ERR_LOCAL, "writing a "
			    "temporary file: %s", strerror(errno));
		}
		m->tmp = s->tmp;
		m->hdr = s->spill_hdr;
		m->hdr_len = s->spill_hdr_len;
		m->queued = m->hdr_len + 4096;
		s->tmp = NULL;
		s->spill_hdr = NULL;
	} else {
		m->data = buf_steal(&s->body, &m->len);
		m->queued = m->len + 256;
	}
	s->received++;
	return store_queue(s, m);
}

static int
msg_refused(void *arg, uint32_t msgno, const char *text)
{
	struct pop3_sync	*s = arg;

	/* It stays on the server, unknown: the next sync tries again. */
	log_warnx("%s: %s would not send message %u: %s", s->acct->name,
	    s->acct->host, msgno, text);
	return 0;
}

static const struct pop3_sink msg_sink = {
	msg_begin, msg_data, msg_end, msg_refused,
};

/* For the bodies of known messages: which row the next RETR completes. */
static int
body_begin(void *arg, uint32_t msgno)
{
	struct pop3_sync	*s = arg;
	struct known		*k = &s->known[s->listed[msgno - 1].known];

	s->body_uid = k->uid;
	s->body_row = k->id;
	return msg_begin(arg, msgno);
}

static const struct pop3_sink body_sink = {
	body_begin, msg_data, msg_end, msg_refused,
};

/*
 * Fetch items through the writer. Whatever arrived whole is committed even
 * when the connection fails halfway, so it is not downloaded again; the
 * first error (the writer's when it failed) is reported.
 */
static int
fetch_stored(struct pop3_sync *s, const struct pop3_item *items, size_t n,
    int top_lines, const struct pop3_sink *sink)
{
	struct store_limits	lim = { COMMIT_MSGS, COMMIT_BYTES, false };
	struct error		werr;
	int			rv;

	s->store = store_start(s->cache, &pop3_store_ops, s, &lim);
	/* The sink's own errors land in s->err too (pop3_fetch clears it). */
	rv = pop3_fetch(s->c, items, n, top_lines, sink, s, s->err);
	/* A message cut short: drop its temporary file. */
	if (s->tmp != NULL) {
		fclose(s->tmp);
		s->tmp = NULL;
	}
	free(s->spill_hdr);
	s->spill_hdr = NULL;
	error_clear(&werr);
	if (store_finish(&s->store, rv == 0, &werr) == -1) {
		/* The writer's error is the cause of any "storing failed". */
		*s->err = werr;
		return -1;
	}
	return rv;
}

/* After the store: the new rows join the known ones (for deletion). */
static void
known_add_new(struct pop3_sync *s)
{
	struct cache_pop3_row	r;
	struct listed		*l;
	struct kent		*e;
	uint32_t		i;
	int			*tail, k;

	for (i = 0; i < s->count; i++) {
		l = &s->listed[i];
		if (l->known != -1 || l->new_id == 0)
			continue;
		memset(&r, 0, sizeof r);
		r.id = l->new_id;
		r.uidl = l->key;
		r.hashed = l->hashed;
		r.dup = l->new_dup;
		r.uid = l->new_uid;
		r.size = (int64_t)l->size;
		r.first_seen = s->now;
		r.stored = l->new_stored;
		r.server = CACHE_POP3_ON_SERVER;
		known_cb(s, &r);
		k = (int)s->nknown - 1;
		s->known[k].next = -1;
		s->known[k].matched = true;
		e = &s->tab[l->ent];
		for (tail = &e->known; *tail != -1;
		    tail = &s->known[*tail].next)
			;
		*tail = k;
		e->nknown++;
		l->known = k;
	}
}

static int
download_new(struct pop3_sync *s, size_t nnew)
{
	struct pop3_item	*items;
	uint32_t		 i;
	size_t			 n = 0;
	int			 rv;

	if (nnew == 0)
		return 0;
	if (ensure_sizes(s) == -1)
		return -1;
	items = xcalloc(nnew, sizeof *items);
	for (i = 0; i < s->count; i++)
		if (s->listed[i].known == -1) {
			items[n].msgno = i + 1;
			items[n].size = s->listed[i].size;
			n++;
		}
	s->headers_only = s->acct->pop3_headers_only;
	s->body_uid = 0;
	s->body_row = 0;
	s->received = 0;
	s->total = n;
	progress(s, 0);
	rv = fetch_stored(s, items, n, s->headers_only ? 0 : -1, &msg_sink);
	free(items);
	known_add_new(s);
	for (i = 0; i < s->count; i++)
		if (s->listed[i].known != -1 && s->listed[i].new_id != 0) {
			s->stats->new_messages++;
			if (s->listed[i].new_stored)
				s->stats->bodies++;
		}
	progress(s, s->stats->new_messages);
	return rv;
}

/* Bodies of known messages indexed with pop3_headers_only. */
static int
download_bodies(struct pop3_sync *s)
{
	struct pop3_item	*items = NULL;
	struct cache_msg	 m;
	struct known		*k;
	uint32_t		 i;
	size_t			 n = 0;
	int			 found, rv;

	for (i = 0; i < s->count; i++) {
		if (s->listed[i].known == -1)
			continue;
		k = &s->known[s->listed[i].known];
		if (k->stored || (s->only_uid != 0 && k->uid != s->only_uid))
			continue;
		/* Gone from the local store: nothing to complete. */
		if ((found = cache_msg_get(s->cache, s->folder_id, k->uid, &m,
		    s->err)) == -1) {
			free(items);
			return -1;
		}
		if (!found)
			continue;
		items = xreallocarray(items, n + 1, sizeof *items);
		items[n].msgno = i + 1;
		n++;
	}
	if (n == 0)
		return 0;
	if (ensure_sizes(s) == -1) {
		free(items);
		return -1;
	}
	for (i = 0; i < n; i++) {
		items[i].size = s->listed[items[i].msgno - 1].size;
		s->listed[items[i].msgno - 1].new_stored = false;
	}
	s->headers_only = false;
	s->received = 0;
	s->total = n;
	progress(s, 0);
	rv = fetch_stored(s, items, n, -1, &body_sink);
	for (i = 0; i < n; i++)
		if (s->listed[items[i].msgno - 1].new_stored) {
			s->known[s->listed[items[i].msgno - 1].known].stored =
			    true;
			s->stats->bodies++;
		}
	free(items);
	return rv;
}

/* ---- Deleting ------------------------------------------------------------ */

static bool
policy_wants(struct pop3_sync *s, const struct known *k)
{
	/*
	 * What the user expunged (or moved to a local folder, whose copy
	 * keeps the body: k->stored is checked by the caller) goes from the
	 * server too, unless pop3_delete_expunged = no. Either way the row
	 * stays, so it is never downloaded again.
	 */
	if (k->expunged && s->acct->pop3_delete_expunged)
		return true;
	switch (s->acct->pop3_delete) {
	case POP3_DELETE_IMMEDIATELY:
		return true;
	case POP3_DELETE_AFTER:
		return s->now - k->first_seen >=
		    (int64_t)s->acct->pop3_delete_days * 86400;
	case POP3_DELETE_NEVER:
		break;
	}
	return false;
}

static int
dele_cb(void *arg, uint32_t msgno, bool ok, const char *text)
{
	struct pop3_sync	*s = arg;

	if (ok)
		s->listed[msgno - 1].marked = true;
	else
		log_warnx("%s: %s would not delete message %u: %s",
		    s->acct->name, s->acct->host, msgno, text);
	return 0;
}

/* DELE what the policy wants gone and is safe to delete; *np: how many. */
static int
delete_by_policy(struct pop3_sync *s, size_t *np)
{
	struct listed	*l;
	struct known	*k;
	uint32_t	*msgnos = NULL, i;
	size_t		 n = 0;
	int		 rv;

	*np = 0;
	if (s->acct->pop3_delete == POP3_DELETE_NEVER &&
	    !s->acct->pop3_delete_expunged)
		return 0;
	for (i = 0; i < s->count; i++) {
		l = &s->listed[i];
		if (l->known == -1)
			continue;
		k = &s->known[l->known];
		if (k->stored && s->tab[l->ent].nlisted == 1 &&
		    policy_wants(s, k))
			n++;
	}
	if (n == 0)
		return 0;
	/* The sizes guard against a server that reuses a UIDL. */
	if (ensure_sizes(s) == -1)
		return -1;
	msgnos = xcalloc(n, sizeof *msgnos);
	for (i = 0, n = 0; i < s->count; i++) {
		l = &s->listed[i];
		if (l->known == -1)
			continue;
		k = &s->known[l->known];
		if (!k->stored || s->tab[l->ent].nlisted != 1 ||
		    !policy_wants(s, k))
			continue;
		if (k->size != 0 && (uint64_t)k->size != l->size) {
			log_warnx("%s: message %u on %s has the UIDL of a "
			    "message petrel has, but not its size: not "
			    "deleting it", s->acct->name, i + 1, s->acct->host);
			continue;
		}
		msgnos[n++] = i + 1;
	}
	rv = pop3_dele(s->c, msgnos, n, dele_cb, s, s->err);
	free(msgnos);
	for (i = 0; i < s->count; i++)
		if (s->listed[i].marked)
			(*np)++;
	return rv;
}

/* After QUIT's +OK: the marked messages are gone from the server. */
static int
record_deleted(struct pop3_sync *s)
{
	uint32_t	i;

	if (cache_begin(s->cache, s->err) == -1)
		return -1;
	for (i = 0; i < s->count; i++) {
		if (!s->listed[i].marked || s->listed[i].known == -1)
			continue;
		if (cache_pop3_set_server(s->p3, s->known[s->listed[i].known].id,
		    CACHE_POP3_DELETED, s->now, s->err) == -1) {
			cache_rollback(s->cache);
			return -1;
		}
	}
	return cache_commit(s->cache, s->err);
}

/* ---- Entry points -------------------------------------------------------- */

static int
open_folder(struct pop3_sync *s)
{
	struct cache_folder	f;
	uint32_t		max;
	int			found;

	memset(&f, 0, sizeof f);
	f.name = POP3_FOLDER;
	f.remote = NULL;	/* local: POP3 has no folders */
	f.subscribed = true;
	if (cache_begin(s->cache, s->err) == -1)
		return -1;
	if ((found = cache_folder_get(s->cache, POP3_FOLDER, &f, s->err)) == -1)
		goto fail;
	if (!found) {
		memset(&f, 0, sizeof f);
		f.name = POP3_FOLDER;
		f.subscribed = true;
		if (cache_folder_put(s->cache, &f, &s->folder_id, s->err) == -1)
			goto fail;
		if (cache_folder_get(s->cache, POP3_FOLDER, &f, s->err) != 1)
			goto fail;
	}
	if (cache_commit(s->cache, s->err) == -1)
		return -1;
	s->folder_id = f.id;
	s->cf = f;
	s->cf.name = s->cf.remote = s->cf.special_use = s->cf.attributes = NULL;
	/* UIDs are never reused, even after local deletes. */
	max = cache_msg_max_uid(s->cache, s->folder_id);
	s->next_uid = s->cf.uidnext > max ? s->cf.uidnext : max + 1;
	if (s->next_uid == 0)
		s->next_uid = 1;
	return 0;
fail:
	cache_rollback(s->cache);
	return -1;
}

static void
pop3_sync_free(struct pop3_sync *s)
{
	size_t	i;

	pop3_close(&s->c);
	cache_pop3_close(&s->p3);
	for (i = 0; i < s->nknown; i++)
		free(s->known[i].key);
	free(s->known);
	if (s->listed != NULL)
		for (i = 0; i < s->count; i++)
			free(s->listed[i].key);
	free(s->listed);
	free(s->tab);
	buf_free(&s->body);
	free(s->spill_hdr);
	index_fields_free(&s->fields);
	if (s->tmp != NULL)
		fclose(s->tmp);
}

/*
 * The body of one message indexed with pop3_headers_only, for `show`: the
 * sync's own steps (UIDL, matching, RETR into the store), limited to that
 * message, with nothing new downloaded and nothing deleted.
 */
int
pop3_fetch_one_body(const struct proto_params *pp, const char *password,
    const struct account *acct, struct cache *cache, uint32_t uid,
    struct error *err)
{
	struct pop3_sync	s;
	struct sync_opts	opts;
	struct sync_stats	stats;
	size_t			nnew = 0;
	int			rv = -1;

	memset(&s, 0, sizeof s);
	memset(&opts, 0, sizeof opts);
	memset(&stats, 0, sizeof stats);
	s.acct = acct;
	s.cache = cache;
	s.opts = &opts;
	s.stats = &stats;
	s.err = err;
	s.now = (int64_t)time(NULL);
	s.only_uid = uid;
	buf_init(&s.body, BODY_MEM_MAX);
	index_fields_init(&s.fields);
	if (cache_pop3_open(cache, &s.p3, err) == -1 || open_folder(&s) == -1 ||
	    cache_pop3_foreach(s.p3, known_cb, &s, err) == -1)
		goto out;
	if ((s.c = pop3_connect(pp, password, NULL, err)) == NULL)
		goto out;
	if (name_messages(&s) == -1 || match(&s, &nnew) == -1 ||
	    download_bodies(&s) == -1)
		goto out;
	if (stats.bodies == 0) {
		error_set(err, ERR_PROTO, "message %u is no longer on %s", uid,
		    acct->host);
		goto out;
	}
	if (pop3_quit(&s.c, err) == -1) {
		/* The body is stored; a failed QUIT changes nothing here. */
		log_warnx("%s: %s", acct->name, err->msg);
		error_clear(err);
	}
	rv = 0;
out:
	pop3_sync_free(&s);
	return rv;
}

int
pop3_sync(const struct proto_params *pp, const char *password,
    const struct account *acct, struct cache *cache,
    const struct sync_opts *opts, struct sync_stats *stats, struct error *err)
{
	struct pop3_sync	s;
	size_t			nnew = 0, ndel = 0;
	int			rv = -1;

	memset(&s, 0, sizeof s);
	s.acct = acct;
	s.cache = cache;
	s.opts = opts;
	s.stats = stats;
	s.err = err;
	s.now = (int64_t)time(NULL);
	buf_init(&s.body, BODY_MEM_MAX);
	index_fields_init(&s.fields);

	if (opts->nfolders > 0 && (opts->nfolders > 1 ||
	    strcasecmp_ascii(opts->folders[0], POP3_FOLDER) != 0)) {
		error_set(err, ERR_USAGE, "a POP3 account has only INBOX on "
		    "the server");
		goto out;
	}
	if (cache_pop3_open(cache, &s.p3, err) == -1 || open_folder(&s) == -1)
		goto out;
	if (cache_pop3_foreach(s.p3, known_cb, &s, err) == -1)
		goto out;
	stats->folders_listed = 1;

	if ((s.c = pop3_connect(pp, password, NULL, err)) == NULL)
		goto out;
	if (name_messages(&s) == -1 || match(&s, &nnew) == -1 ||
	    update_server_state(&s) == -1)
		goto out;
	if (download_new(&s, nnew) == -1) {
		/* Say what was kept: the messages received whole. */
		if (err->cls != ERR_LOCAL && stats->new_messages > 0) {
			struct error e = *err;

			error_set(err, e.cls, "%s (%llu new message(s) stored; "
			    "the next sync goes on from there)", e.msg,
			    (unsigned long long)stats->new_messages);
		}
		goto out;
	}
	if ((!acct->pop3_headers_only || opts->bodies) &&
	    download_bodies(&s) == -1)
		goto out;
	if (delete_by_policy(&s, &ndel) == -1)
		goto out;
	pop3_counters(s.c, &stats->bytes_in, &stats->bytes_out);
	if (pop3_quit(&s.c, err) == -1) {
		/* Nothing marked: the session's work stands. */
		if (ndel == 0) {
			log_warnx("%s: %s", acct->name, err->msg);
			error_clear(err);
		} else
			goto out;
	} else if (ndel > 0) {
		if (record_deleted(&s) == -1)
			goto out;
		log_info("%s: deleted %zu message(s) from %s", acct->name, ndel,
		    acct->host);
	}
	if (cache_begin(cache, err) == -1)
		goto out;
	if (save_markers(&s, true) == -1) {
		cache_rollback(cache);
		goto out;
	}
	if (cache_commit(cache, err) == -1)
		goto out;
	stats->folders_synced = 1;
	rv = 0;
out:
	if (s.c != NULL)
		pop3_counters(s.c, &stats->bytes_in, &stats->bytes_out);
	pop3_sync_free(&s);
	return rv;
}
