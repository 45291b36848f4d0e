/*
 * Local actions: each changes the cache and records itself in `pending` in
 * one transaction, so the new state shows at once and survives a crash
 * (see "Local actions" in include/cache.h and doc/design.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache-private.h"
#include "msgflags.h"
#include "xmalloc.h"

static const char *op_names[] = {
	[CACHE_OP_ADD] = "add",
	[CACHE_OP_REMOVE] = "remove",
	[CACHE_OP_COPY] = "copy",
	[CACHE_OP_MOVE] = "move",
	[CACHE_OP_EXPUNGE] = "expunge",
};

const char *
cache_op_name(enum cache_op op)
{
	if (op < CACHE_OP_ADD || op > CACHE_OP_EXPUNGE)
		return "?";
	return op_names[op];
}

/* ---- Keyword lists ("a b c", compared without case as IMAP does) ------- */

static bool
kw_has(const char *list, const char *w, size_t wlen)
{
	const char	*p = list, *e;

	while (p != NULL && *p != '\0') {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if ((size_t)(e - p) == wlen && wlen > 0 &&
		    strncasecmp_ascii(p, w, wlen) == 0)
			return true;
		p = e;
	}
	return false;
}

/* list with the words of change added (add) or taken out; malloc'd or NULL. */
static char *
kw_apply(const char *list, const char *change, bool add)
{
	struct buf	 b = BUF_INIT(0);
	const char	*p, *e;

	for (p = list; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if (e == p)
			continue;
		if (!add && kw_has(change, p, (size_t)(e - p)))
			continue;
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_add(&b, p, (size_t)(e - p));
	}
	for (p = add ? change : NULL; p != NULL && *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		for (e = p; *e != '\0' && *e != ' '; e++)
			;
		if (e == p || (b.len > 0 && kw_has(b.data, p, (size_t)(e - p))))
			continue;
		if (b.len > 0)
			buf_addc(&b, ' ');
		buf_add(&b, p, (size_t)(e - p));
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b, NULL);
}

int
cache_pending_merge(struct cache *c, int64_t folder_id, uint32_t uid,
    uint32_t *flagsp, const char *keywords, char **kwp, struct error *err)
{
	sqlite3_stmt	*st;
	char		*kw, *nkw;
	int		 rc;

	kw = keywords != NULL ? xstrdup(keywords) : NULL;
	if ((st = cache_stmt(c, ST_PENDING_FLAGS_OF, err)) == NULL) {
		free(kw);
		return -1;
	}
	sqlite3_bind_int64(st, 1, folder_id);
	sqlite3_bind_int64(st, 2, uid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		bool	 add = sqlite3_column_int(st, 0) == CACHE_OP_ADD;
		uint32_t f = (uint32_t)sqlite3_column_int64(st, 1);

		*flagsp = add ? (*flagsp | f) : (*flagsp & ~f);
		if (cache_col_text(st, 2) != NULL) {
			nkw = kw_apply(kw, cache_col_text(st, 2), add);
			free(kw);
			kw = nkw;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(kw);
		return cache_db_error(c, err, "reading pending actions");
	}
	*kwp = kw;
	return 0;
}

/* ---- Small statements ---------------------------------------------------- */

static int
exec_bind(struct cache *c, const char *sql, int64_t a, int64_t b, int64_t d,
    struct error *err, const char *what)
{
	sqlite3_stmt	*st;
	int		 rv;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return cache_db_error(c, err, what);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, d);
	rv = sqlite3_step(st) == SQLITE_DONE ? 0 :
	    cache_db_error(c, err, what);
	sqlite3_finalize(st);
	return rv;
}

/* The same with a kept statement, for what runs once per message. */
static int
stmt_bind(struct cache *c, enum cache_stmt id, int64_t a, int64_t b,
    int64_t d, struct error *err, const char *what)
{
	sqlite3_stmt	*st;

	if ((st = cache_stmt(c, id, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, d);
	return cache_step_done(c, st, err, what);
}

static int
set_hidden(struct cache *c, int64_t fid, uint32_t uid, bool hidden,
    struct error *err)
{
	return stmt_bind(c, ST_MSG_HIDE, fid, uid, hidden, err,
	    "hiding a message");
}

/* Apply one flag change to a message row. */
static int
apply_flags(struct cache *c, int64_t fid, uint32_t uid, bool add,
    uint32_t flags, const char *keywords, struct error *err)
{
	struct cache_msg	 m;
	sqlite3_stmt		*st;
	uint32_t		 nf;
	char			*kw;
	int			 found, rv;

	if ((found = cache_msg_get(c, fid, uid, &m, err)) != 1)
		return found;
	nf = add ? (m.flags | flags) : (m.flags & ~flags);
	kw = keywords != NULL ? kw_apply(m.keywords, keywords, add) :
	    (m.keywords != NULL ? xstrdup(m.keywords) : NULL);
	if ((st = cache_stmt(c, ST_MSG_FLAGS, err)) == NULL) {
		free(kw);
		return -1;
	}
	sqlite3_bind_int64(st, 1, fid);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, nf);
	cache_bind_text(st, 4, kw);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)m.modseq);
	rv = cache_step_done(c, st, err, "saving flags");
	free(kw);
	return rv == 0 ? 1 : -1;
}

static int
add_row(struct cache *c, const struct cache_pending *p, struct error *err)
{
	sqlite3_stmt	*st;

	if ((st = cache_stmt(c, ST_PENDING_ADD, err)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, p->folder_id);
	sqlite3_bind_int64(st, 2, p->uid);
	sqlite3_bind_int(st, 3, p->op);
	sqlite3_bind_int64(st, 4, p->flags);
	cache_bind_text(st, 5, p->keywords);
	if (p->dest_id != 0)
		sqlite3_bind_int64(st, 6, p->dest_id);
	sqlite3_bind_int64(st, 7, p->dest_uid);
	cache_bind_text(st, 8, p->message_id);
	sqlite3_bind_int64(st, 9, p->created);
	return cache_step_done(c, st, err, "recording an action");
}

/* Every UID must be a visible message of the folder. */
static int
check_uids(struct cache *c, int64_t fid, const uint32_t *uids, size_t n,
    struct error *err)
{
	struct cache_msg	m;
	size_t			i;
	int			found;

	for (i = 0; i < n; i++) {
		if ((found = cache_msg_get(c, fid, uids[i], &m, err)) == -1)
			return -1;
		if (found == 0 || m.hidden)
			return error_set(err, ERR_USAGE, "no message with UID "
			    "%u in the cache of that folder", uids[i]);
	}
	return 0;
}

/* ---- Rights (IMAP ACL) ---------------------------------------------------- */

static void
rights_key(char *key, size_t len, int64_t fid)
{
	snprintf(key, len, "rights/%lld", (long long)fid);
}

int
cache_folder_set_rights(struct cache *c, int64_t fid, const char *rights,
    struct error *err)
{
	char	key[64], *old;
	int	rv = 0;

	rights_key(key, sizeof key, fid);
	old = cache_meta_get(c, key);
	if (rights == NULL)
		rights = "";	/* unknown: stored empty */
	if (old == NULL || strcmp(old, rights) != 0)
		rv = cache_meta_set(c, key, rights, err);
	free(old);
	return rv;
}

char *
cache_folder_rights(struct cache *c, int64_t fid)
{
	char	key[64], *v;

	rights_key(key, sizeof key, fid);
	if ((v = cache_meta_get(c, key)) != NULL && *v == '\0') {
		free(v);
		v = NULL;
	}
	return v;
}

/* The rights of need that the folder lacks, into missing; 0 when none. */
static size_t
rights_missing(struct cache *c, int64_t fid, const char *need,
    char *missing, size_t len, char **havep)
{
	char	*have = cache_folder_rights(c, fid);
	size_t	 n = 0;

	*havep = have;
	if (have == NULL)
		return 0;
	for (; *need != '\0'; need++)
		if (strchr(have, *need) == NULL && n + 1 < len)
			missing[n++] = *need;
	missing[n] = '\0';
	return n;
}

bool
cache_folder_may(struct cache *c, int64_t fid, const char *need)
{
	char	missing[16], *have;
	size_t	n = rights_missing(c, fid, need, missing, sizeof missing, &have);

	free(have);
	return n == 0;
}

struct folder_name {
	int64_t	id;
	char	name[256];
};

static int
folder_name_cb(void *arg, const struct cache_folder *f)
{
	struct folder_name	*fn = arg;

	if (f->id != fn->id)
		return 0;
	snprintf(fn->name, sizeof fn->name, "%s", f->name);
	return 1;
}

/* ERR_USAGE when the folder's rights do not allow what (needing need). */
static int
check_rights(struct cache *c, int64_t fid, const char *need,
    const char *what, struct error *err)
{
	struct folder_name	fn;
	char			missing[16], *have;
	int			rv = 0;

	if (rights_missing(c, fid, need, missing, sizeof missing, &have) > 0) {
		fn.id = fid;
		fn.name[0] = '\0';
		(void)cache_folder_foreach(c, false, folder_name_cb, &fn, NULL);
		rv = error_set(err, ERR_USAGE, "%s: the server does not let you "
		    "%s there (your rights: \"%s\"; it needs \"%s\")",
		    fn.name[0] != '\0' ? fn.name : "this folder", what, have,
		    missing);
	}
	free(have);
	return rv;
}

static int
check_flag_rights(struct cache *c, int64_t fid, uint32_t flags,
    const char *keywords, struct error *err)
{
	char	need[4];
	size_t	n = 0;

	if (flags & MSG_SEEN)
		need[n++] = 's';
	if (flags & MSG_DELETED)
		need[n++] = 't';
	if ((flags & ~(uint32_t)(MSG_SEEN | MSG_DELETED)) != 0 ||
	    (keywords != NULL && *keywords != '\0'))
		need[n++] = 'w';
	need[n] = '\0';
	return n > 0 ? check_rights(c, fid, need, "change those flags", err) :
	    0;
}

/* ---- Actions ------------------------------------------------------------- */

int
cache_act_flags(struct cache *c, int64_t fid, const uint32_t *uids, size_t n,
    enum cache_op op, uint32_t flags, const char *keywords, bool queue,
    struct error *err)
{
	struct cache_pending	p;
	size_t			i;

	if (queue && check_flag_rights(c, fid, flags, keywords, err) == -1)
		return -1;
	if (cache_begin(c, err) == -1)
		return -1;
	if (check_uids(c, fid, uids, n, err) == -1)
		goto fail;
	memset(&p, 0, sizeof p);
	p.folder_id = fid;
	p.op = op;
	p.flags = flags;
	p.keywords = (char *)keywords;
	p.created = (int64_t)time(NULL);
	for (i = 0; i < n; i++) {
		if (apply_flags(c, fid, uids[i], op == CACHE_OP_ADD, flags,
		    keywords, err) == -1)
			goto fail;
		p.uid = uids[i];
		if (queue && add_row(c, &p, err) == -1)
			goto fail;
	}
	return cache_commit(c, err);
fail:
	cache_rollback(c);
	return -1;
}

/* The next free UID of a kind in a folder: placeholder or local. */
static uint32_t
next_uid(struct cache *c, int64_t fid, bool placeholder)
{
	sqlite3_stmt	*st;
	int64_t		 max = 0;

	if (sqlite3_prepare_v2(c->db, placeholder ?
	    "SELECT MAX(id) & 4294967295 FROM messages WHERE id BETWEEN "
	    "((?1 << 32) | 4278190080) AND ((?1 << 32) | 4294967295)" :
	    "SELECT MAX(id) & 4294967295 FROM messages WHERE id BETWEEN "
	    "(?1 << 32) AND ((?1 << 32) | 4278190079)", -1, &st, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, fid);
	if (sqlite3_step(st) == SQLITE_ROW)
		max = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (placeholder && max < CACHE_LOCAL_UID_MIN)
		return CACHE_LOCAL_UID_MIN;
	return (uint32_t)max + 1;
}

/* Copy a message row (not its body) to (dest, uid). */
static int
copy_row(struct cache *c, int64_t fid, uint32_t uid, int64_t dest,
    uint32_t nuid, struct error *err)
{
	return exec_bind(c, "INSERT INTO messages(id, folder_id, uid, flags, "
	    "keywords, modseq, internaldate, size, date, date_tz, from_addr, "
	    "to_addr, cc_addr, subject, message_id, in_reply_to, refs, "
	    "bodystructure) SELECT (?2 << 32) | ?3, ?2, ?3, flags, keywords, 0, "
	    "internaldate, size, date, date_tz, from_addr, to_addr, cc_addr, "
	    "subject, message_id, in_reply_to, refs, bodystructure "
	    "FROM messages WHERE id = ?1",
	    (fid << 32) | uid, dest, nuid, err, "copying a message");
}

int
cache_act_copy(struct cache *c, int64_t fid, const uint32_t *uids, size_t n,
    int64_t dest, bool move, bool queue, struct error *err)
{
	struct cache_pending	p;
	struct cache_msg	m;
	uint32_t		nuid;
	char			*mid;
	size_t			i;

	if (queue && (check_rights(c, dest, "i", move ? "move messages "
	    "in" : "copy messages in", err) == -1 ||
	    (move && check_rights(c, fid, "te", "move messages out",
	    err) == -1)))
		return -1;
	if (cache_begin(c, err) == -1)
		return -1;
	if (check_uids(c, fid, uids, n, err) == -1)
		goto fail;
	memset(&p, 0, sizeof p);
	p.folder_id = fid;
	p.op = move ? CACHE_OP_MOVE : CACHE_OP_COPY;
	p.dest_id = dest;
	p.created = (int64_t)time(NULL);
	for (i = 0; i < n; i++) {
		if ((nuid = next_uid(c, dest, queue)) == 0 ||
		    nuid == UINT32_MAX) {
			error_set(err, ERR_LOCAL, "no UID left in the folder");
			goto fail;
		}
		if (copy_row(c, fid, uids[i], dest, nuid, err) == -1)
			goto fail;
		if (cache_msg_get(c, fid, uids[i], &m, err) != 1)
			goto fail;
		if (!queue) {
			/* Local only (POP3): the copy is the message now. */
			char	*raw = NULL;
			size_t	 len;

			if (cache_body_get(c, fid, uids[i], &raw, &len,
			    err) == -1)
				goto fail;
			if (raw != NULL && cache_body_put(c, dest, nuid, raw,
			    len, err) == -1) {
				free(raw);
				goto fail;
			}
			free(raw);
			if (move && cache_msg_delete(c, fid, uids[i], err) == -1)
				goto fail;
			continue;
		}
		mid = m.message_id != NULL ? xstrdup(m.message_id) : NULL;
		p.uid = uids[i];
		p.dest_uid = nuid;
		p.message_id = mid;
		if ((move && set_hidden(c, fid, uids[i], true, err) == -1) ||
		    add_row(c, &p, err) == -1) {
			free(mid);
			goto fail;
		}
		free(mid);
	}
	return cache_commit(c, err);
fail:
	cache_rollback(c);
	return -1;
}

static int
deleted_cb(void *arg, const struct cache_msg *m)
{
	struct {
		uint32_t	*v;
		size_t		 n;
	} *d = arg;

	if (!(m->flags & MSG_DELETED))
		return 0;
	d->v = xreallocarray(d->v, d->n + 1, sizeof *d->v);
	d->v[d->n++] = m->uid;
	return 0;
}

int
cache_act_expunge(struct cache *c, int64_t fid, bool queue, uint32_t **uidsp,
    size_t *np, struct error *err)
{
	struct cache_pending	p;
	struct cache_msg	m;
	struct {
		uint32_t	*v;
		size_t		 n;
	} d = { NULL, 0 };
	size_t			i;

	*uidsp = NULL;
	*np = 0;
	if (queue && check_rights(c, fid, "e", "expunge", err) == -1)
		return -1;
	if (cache_begin(c, err) == -1)
		return -1;
	if (cache_msg_foreach(c, fid, CACHE_ORDER_UID_ASC, 0, -1, deleted_cb,
	    &d, err) == -1)
		goto fail;
	memset(&p, 0, sizeof p);
	p.folder_id = fid;
	p.op = CACHE_OP_EXPUNGE;
	p.created = (int64_t)time(NULL);
	for (i = 0; i < d.n; i++) {
		/* A placeholder is not on the server yet: it just goes. */
		if (!queue || d.v[i] >= CACHE_LOCAL_UID_MIN) {
			if (cache_msg_delete(c, fid, d.v[i], err) == -1)
				goto fail;
			continue;
		}
		if (cache_msg_get(c, fid, d.v[i], &m, err) != 1)
			goto fail;
		p.message_id = m.message_id != NULL ? xstrdup(m.message_id) :
		    NULL;
		p.uid = d.v[i];
		if (set_hidden(c, fid, d.v[i], true, err) == -1 ||
		    add_row(c, &p, err) == -1) {
			free(p.message_id);
			goto fail;
		}
		free(p.message_id);
	}
	if (cache_commit(c, err) == -1)
		goto fail2;
	*uidsp = d.v;
	*np = d.n;
	return 0;
fail:
	cache_rollback(c);
fail2:
	free(d.v);
	return -1;
}

/* ---- The queue ----------------------------------------------------------- */

static char *
dup_col(sqlite3_stmt *st, int col)
{
	const char	*s = cache_col_text(st, col);

	return s != NULL ? xstrdup(s) : NULL;
}

int
cache_pending_load(struct cache *c, size_t max, struct cache_pending **rowsp,
    size_t *np, struct error *err)
{
	struct cache_pending	*v = NULL, *p;
	sqlite3_stmt		*st;
	size_t			 n = 0, size = 0;
	int			 rc;

	*rowsp = NULL;
	*np = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT id, folder_id, uid, op, flags, "
	    "keywords, COALESCE(dest_id, 0), dest_uid, message_id, created, "
	    "attempts, last_error FROM pending ORDER BY id LIMIT ?1", -1, &st,
	    NULL) != SQLITE_OK)
		return cache_db_error(c, err, "reading pending actions");
	sqlite3_bind_int64(st, 1, max == 0 ? -1 : (int64_t)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == size) {
			size = size ? size * 2 : 64;
			v = xreallocarray(v, size, sizeof *v);
		}
		p = &v[n++];
		memset(p, 0, sizeof *p);
		p->id = sqlite3_column_int64(st, 0);
		p->folder_id = sqlite3_column_int64(st, 1);
		p->uid = (uint32_t)sqlite3_column_int64(st, 2);
		p->op = (enum cache_op)sqlite3_column_int(st, 3);
		p->flags = (uint32_t)sqlite3_column_int64(st, 4);
		p->keywords = dup_col(st, 5);
		p->dest_id = sqlite3_column_int64(st, 6);
		p->dest_uid = (uint32_t)sqlite3_column_int64(st, 7);
		p->message_id = dup_col(st, 8);
		p->created = sqlite3_column_int64(st, 9);
		p->attempts = sqlite3_column_int(st, 10);
		p->last_error = dup_col(st, 11);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		cache_pending_free(v, n);
		return cache_db_error(c, err, "reading pending actions");
	}
	*rowsp = v;
	*np = n;
	return 0;
}

void
cache_pending_free(struct cache_pending *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].keywords);
		free(v[i].message_id);
		free(v[i].last_error);
	}
	free(v);
}

int64_t
cache_pending_count(struct cache *c)
{
	sqlite3_stmt	*st;
	int64_t		 n = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT COUNT(*) FROM pending", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int
delete_row(struct cache *c, int64_t id, struct error *err)
{
	return stmt_bind(c, ST_PENDING_DELETE, id, 0, 0, err,
	    "retiring an action");
}

int
cache_pending_attempt(struct cache *c, const struct cache_pending *v,
    size_t n, struct error *err)
{
	size_t	i;

	if (cache_begin(c, err) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (stmt_bind(c, ST_PENDING_ATTEMPT, v[i].id, 0, 0, err,
		    "recording an attempt") == -1) {
			cache_rollback(c);
			return -1;
		}
	return cache_commit(c, err);
}

int
cache_pending_note(struct cache *c, const struct cache_pending *v, size_t n,
    const char *why, struct error *err)
{
	sqlite3_stmt	*st;
	size_t		 i;

	if (cache_begin(c, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, "UPDATE pending SET last_error = ?2 "
	    "WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) {
		cache_db_error(c, err, "noting an error");
		cache_rollback(c);
		return -1;
	}
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, v[i].id);
		cache_bind_text(st, 2, why);
		if (sqlite3_step(st) != SQLITE_DONE) {
			cache_db_error(c, err, "noting an error");
			sqlite3_finalize(st);
			cache_rollback(c);
			return -1;
		}
	}
	sqlite3_finalize(st);
	return cache_commit(c, err);
}

/* The placeholder (dest, ph) becomes (dest, real), or goes when real is 0. */
static int
settle_placeholder(struct cache *c, int64_t dest, uint32_t ph, uint32_t real,
    struct error *err)
{
	struct cache_msg	m;
	int			found;

	if (real == 0 || (found = cache_msg_get(c, dest, real, &m, err)) == 1) {
		/* A sync brought the real one already, or we cannot know it. */
		if (cache_msg_delete(c, dest, ph, err) == -1)
			return -1;
	} else if (found == -1)
		return -1;
	else if (exec_bind(c, "UPDATE messages SET id = (?1 << 32) | ?3, "
	    "uid = ?3 WHERE id = " MSG_ID, dest, ph, real, err,
	    "settling a copied message") == -1)
		return -1;
	/* Actions on the placeholder now aim at the real message (or none). */
	return exec_bind(c, "UPDATE pending SET uid = ?3 WHERE folder_id = ?1 "
	    "AND uid = ?2", dest, ph, real, err, "retargeting actions");
}

int
cache_pending_done(struct cache *c, const struct cache_pending *v, size_t n,
    const uint32_t *real, struct error *err)
{
	size_t	i;

	if (cache_begin(c, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		const struct cache_pending *p = &v[i];

		switch (p->op) {
		case CACHE_OP_COPY:
		case CACHE_OP_MOVE:
			if (settle_placeholder(c, p->dest_id, p->dest_uid,
			    real != NULL ? real[i] : 0, err) == -1)
				goto fail;
			if (p->op == CACHE_OP_MOVE && cache_msg_delete(c,
			    p->folder_id, p->uid, err) == -1)
				goto fail;
			break;
		case CACHE_OP_EXPUNGE:
			if (cache_msg_delete(c, p->folder_id, p->uid, err) == -1)
				goto fail;
			break;
		default:
			break;
		}
		if (delete_row(c, p->id, err) == -1)
			goto fail;
	}
	return cache_commit(c, err);
fail:
	cache_rollback(c);
	return -1;
}

int
cache_pending_fail(struct cache *c, const struct cache_pending *v, size_t n,
    bool undo, struct error *err)
{
	size_t	i;

	if (cache_begin(c, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		const struct cache_pending *p = &v[i];

		/* Gone from the row first, so the merge does not re-apply it. */
		if (delete_row(c, p->id, err) == -1)
			goto fail;
		switch (p->op) {
		case CACHE_OP_ADD:
		case CACHE_OP_REMOVE:
			if (undo && apply_flags(c, p->folder_id, p->uid,
			    p->op != CACHE_OP_ADD, p->flags, p->keywords,
			    err) == -1)
				goto fail;
			break;
		case CACHE_OP_COPY:
		case CACHE_OP_MOVE:
			if (settle_placeholder(c, p->dest_id, p->dest_uid, 0,
			    err) == -1)
				goto fail;
			if (p->op == CACHE_OP_MOVE && undo && set_hidden(c,
			    p->folder_id, p->uid, false, err) == -1)
				goto fail;
			break;
		case CACHE_OP_EXPUNGE:
			if (undo && set_hidden(c, p->folder_id, p->uid, false,
			    err) == -1)
				goto fail;
			break;
		}
	}
	return cache_commit(c, err);
fail:
	cache_rollback(c);
	return -1;
}

int
cache_pending_retarget(struct cache *c, int64_t fid, uint64_t *lostp,
    struct error *err)
{
	struct cache_pending	*v = NULL;
	sqlite3_stmt		*st;
	size_t			 n = 0, i;
	uint32_t		 uid;
	int			 matches;

	*lostp = 0;
	if (cache_pending_load(c, 0, &v, &n, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, "SELECT MIN(uid), COUNT(*) FROM messages "
	    "WHERE folder_id = ?1 AND message_id = ?2 AND uid < 4278190080",
	    -1, &st, NULL) != SQLITE_OK) {
		cache_pending_free(v, n);
		return cache_db_error(c, err, "retargeting actions");
	}
	for (i = 0; i < n; i++) {
		struct cache_pending *p = &v[i];

		if (p->folder_id != fid || p->uid != 0)
			continue;
		uid = 0;
		matches = 0;
		if (p->message_id != NULL) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, fid);
			cache_bind_text(st, 2, p->message_id);
			if (sqlite3_step(st) == SQLITE_ROW) {
				uid = (uint32_t)sqlite3_column_int64(st, 0);
				matches = sqlite3_column_int(st, 1);
			}
		}
		if (matches != 1) {
			(*lostp)++;
			if (delete_row(c, p->id, err) == -1 ||
			    (p->dest_uid != 0 && settle_placeholder(c,
			    p->dest_id, p->dest_uid, 0, err) == -1))
				goto fail;
			continue;
		}
		if (exec_bind(c, "UPDATE pending SET uid = ?2 WHERE id = ?1",
		    p->id, uid, 0, err, "retargeting actions") == -1)
			goto fail;
		/* The reset dropped the local state: apply it again. */
		if ((p->op == CACHE_OP_ADD || p->op == CACHE_OP_REMOVE) &&
		    apply_flags(c, fid, uid, p->op == CACHE_OP_ADD, p->flags,
		    p->keywords, err) == -1)
			goto fail;
		if ((p->op == CACHE_OP_MOVE || p->op == CACHE_OP_EXPUNGE) &&
		    set_hidden(c, fid, uid, true, err) == -1)
			goto fail;
	}
	sqlite3_finalize(st);
	cache_pending_free(v, n);
	return 0;
fail:
	sqlite3_finalize(st);
	cache_pending_free(v, n);
	return -1;
}
