/*
 * The index view: one line per message of a folder, read from the cache a
 * screenful at a time by key (cache_view_page). Only the rows on screen are
 * in memory; moving past them asks the cache for the next ones, so a
 * 100,000-message folder costs what a 100-message one does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "msgflags.h"
#include "ui-private.h"
#include "xmalloc.h"

/* Rows the index shows: the screen less the status and message lines. */
static int
page_rows(struct ui *ui)
{
	int	n = ui->rows - 2;

	return n < 1 ? 1 : n;
}

static void
row_free(struct index_row *r)
{
	cache_key_clear(&r->key);
	free(r->from);
	free(r->to);
	free(r->subject);
	free(r->keywords);
	free(r->thread_path);
	memset(r, 0, sizeof *r);
}

static void
rows_clear(struct index *ix)
{
	int	i;

	for (i = 0; i < ix->nrows; i++)
		row_free(&ix->rows[i]);
	ix->nrows = 0;
}

struct fetch {
	struct index		*ix;
	struct index_row	*rows;
	int			 n, size;
};

static int
fetch_cb(void *arg, const struct cache_msg *m)
{
	struct fetch		*f = arg;
	struct index_row	*r;

	if (f->n == f->size) {
		f->size = f->size ? f->size * 2 : 64;
		f->rows = xreallocarray(f->rows, (size_t)f->size, sizeof *f->rows);
	}
	r = &f->rows[f->n++];
	memset(r, 0, sizeof *r);
	cache_key_set(&r->key, f->ix->view.sort, m);
	r->uid = m->uid;
	r->flags = m->flags;
	r->date = m->date;
	r->date_tz = m->date_tz;
	r->size = m->size;
	r->from = xstrdup(m->from != NULL ? m->from : "");
	r->to = xstrdup(m->to != NULL ? m->to : "");
	r->subject = xstrdup(m->subject != NULL ? m->subject : "");
	r->keywords = m->keywords != NULL ? xstrdup(m->keywords) : NULL;
	r->thread_path = m->thread_path != NULL ? xstrdup(m->thread_path) :
	    NULL;
	r->thread_gap = m->thread_gap;
	return 0;
}

/* Rows from k in direction dir (nearest first); the count, -1 on error. */
static int
fetch(struct ui *ui, const struct cache_key *k, int dir, bool incl, int n,
    struct fetch *f)
{
	struct index	*ix = &ui->idx;
	struct error	 err;

	memset(f, 0, sizeof *f);
	f->ix = ix;
	/* A limit that leaves nothing (as counts() found): no scan for it. */
	if (n <= 0 || (ix->limit != NULL && ix->view.limit == ix->limit &&
	    ix->shown == 0))
		return 0;
	error_clear(&err);
	if (cache_view_page(ix->ua->cache, &ix->view, k, dir, incl, n,
	    fetch_cb, f, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return -1;
	}
	return f->n;
}

static void
fetch_free(struct fetch *f)
{
	int	i;

	for (i = 0; i < f->n; i++)
		row_free(&f->rows[i]);
	free(f->rows);
	f->rows = NULL;
	f->n = 0;
}

/*
 * The thread tree before the subject, as mutt draws it: a corner or a tee
 * by whether a later reply to the same parent follows, "?" where the
 * parent is missing, "+N" on a collapsed thread's first message.
 */
static void
mark_threads(struct index *ix)
{
	struct error	err;
	int		i, d, j;

	for (i = 0; i < ix->nrows; i++) {
		struct index_row	*r = &ix->rows[i];
		size_t			 o = 0;

		r->tree[0] = '\0';
		r->thread_hidden = 0;
		if (ix->view.sort != CACHE_SORT_THREADS || r->thread_path == NULL)
			continue;
		d = cache_thread_depth(r->thread_path);
		if (d == 0) {
			bool collapsed = cache_thread_collapsed(ix->ua->cache,
			    r->thread_path) != ix->view.collapse_all;

			error_clear(&err);
			if (collapsed)
				r->thread_hidden = cache_thread_count_under(
				    ix->ua->cache, ix->folder_id, r->thread_path,
				    &err);
			if (r->thread_hidden > 0)
				o += (size_t)snprintf(r->tree + o,
				    sizeof r->tree - o, "+%lld ",
				    (long long)r->thread_hidden);
			if (r->thread_gap)
				snprintf(r->tree + o, sizeof r->tree - o,
				    "\xe2\x94\x80?\xe2\x94\x80>");
			continue;
		}
		for (j = 1; j < d && j < 20 && o + 8 < sizeof r->tree; j++)
			o += (size_t)snprintf(r->tree + o, sizeof r->tree - o,
			    "  ");
		snprintf(r->tree + o, sizeof r->tree - o, "%s\xe2\x94\x80%s",
		    cache_thread_has_next_sibling(ix->ua->cache, ix->folder_id,
		    r->thread_path) ? "\xe2\x94\x9c" : "\xe2\x94\x94",
		    r->thread_gap ? "?" : ">");
	}
}

static void
mark_tags(struct index *ix)
{
	int	i;

	ix->ntagged = cache_tag_count(ix->ua->cache, ix->folder_id);
	for (i = 0; i < ix->nrows; i++)
		ix->rows[i].tagged = ix->ntagged > 0 &&
		    cache_tag_has(ix->ua->cache, ix->folder_id,
		    ix->rows[i].uid);
}

/*
 * Fill the screen so that the row of key k (or the first after it, when
 * it is gone) is row pos. k NULL: pos 0 is the first row of the view, pos
 * -1 the last.
 */
static bool
load(struct ui *ui, const struct cache_key *k, int pos, bool fresh)
{
	struct index		*ix = &ui->idx;
	struct fetch		 before, after, more;
	const struct cache_key	*first = NULL;
	struct error		 err;
	int			 n = page_rows(ui), nb, i, j, want, nrows;
	bool			 at_start;	/* nothing comes before the rows */
	bool			 at_end;	/* nor after them */
	int64_t			 number = 1;

	memset(&more, 0, sizeof more);
	if (k == NULL && pos < 0) {
		nb = fetch(ui, NULL, -1, false, n, &before);
		memset(&after, 0, sizeof after);
		at_start = nb >= 0 && nb < n;
		at_end = nb >= 0;
	} else {
		if (pos >= n)
			pos = n - 1;
		nb = k == NULL ? 0 : fetch(ui, k, -1, false, pos, &before);
		if (k == NULL)
			memset(&before, 0, sizeof before);
		at_start = k == NULL || (nb >= 0 && nb < pos);
		if (nb < 0)
			nb = 0;
		/* One row more than the screen's: whether the rows end. */
		at_end = fetch(ui, k, 1, true, n - nb + 1, &after) >= 0 &&
		    after.n <= n - nb;
		if (nb + after.n < n && (nb > 0 || k != NULL)) {
			/* Near the end: show more of what comes before. */
			want = n - nb - after.n;
			at_start = fetch(ui, nb > 0 ? &before.rows[nb - 1].key :
			    k, -1, false, want, &more) < want;
		}
	}
	nrows = more.n + before.n + after.n;
	if (nrows > n)
		nrows = n;
	if (more.n > 0)
		first = &more.rows[more.n - 1].key;
	else if (before.n > 0)
		first = &before.rows[before.n - 1].key;
	else if (after.n > 0)
		first = &after.rows[0].key;

	/*
	 * The number of the first row on screen: 1 at the start; at the end,
	 * when the counts were taken in this same snapshot (fresh), what the
	 * view holds less the rows on screen; else the rows before it,
	 * counted (a walk of the index: tens of milliseconds on 100,000).
	 */
	error_clear(&err);
	if (first != NULL && !at_start) {
		if (fresh && at_end && ix->shown >= nrows)
			number = ix->shown - nrows + 1;
		else {
			int64_t c = cache_view_count(ix->ua->cache, &ix->view,
			    first, &err);

			if (c >= 0)
				number = c + 1;
		}
	}
	if (ix->gave_way) {
		/* A key came first: the screen stays as it was. */
		fetch_free(&more);
		fetch_free(&before);
		fetch_free(&after);
		return false;
	}

	rows_clear(ix);
	if (ix->rowsize < n) {
		ix->rowsize = n;
		ix->rows = xreallocarray(ix->rows, (size_t)n, sizeof *ix->rows);
	}
	j = 0;
	for (i = more.n - 1; i >= 0; i--) {
		ix->rows[j++] = more.rows[i];
		memset(&more.rows[i], 0, sizeof more.rows[i]);
	}
	for (i = before.n - 1; i >= 0; i--) {
		ix->rows[j++] = before.rows[i];
		memset(&before.rows[i], 0, sizeof before.rows[i]);
	}
	if (k == NULL && pos < 0)
		ix->cursor = j - 1;
	else
		ix->cursor = j;
	for (i = 0; i < after.n && j < n; i++) {
		ix->rows[j++] = after.rows[i];
		memset(&after.rows[i], 0, sizeof after.rows[i]);
	}
	ix->nrows = j;
	if (ix->cursor >= ix->nrows)
		ix->cursor = ix->nrows - 1;
	fetch_free(&more);
	fetch_free(&before);
	fetch_free(&after);
	ix->first_number = number;
	ix->at_end = at_end;
	mark_tags(ix);
	mark_threads(ix);
	ui->dirty = true;
	return true;
}

/*
 * The folder's counts and whether its limit scans (cache_view.sparse).
 * False, and nothing changed, when a key came first (ix->gave_way).
 */
static bool
read_counts(struct ui *ui)
{
	struct index		*ix = &ui->idx;
	struct cache_view	 uv = ix->view;
	struct cache_pattern	*p = NULL;
	struct error		 err;
	int64_t			 total, unread = 0, shown;

	error_clear(&err);
	total = cache_msg_count(ix->ua->cache, ix->folder_id);
	if (cache_pattern_compile("~U", 0, &p, &err) == 0) {
		uv.limit = p;
		uv.sparse = false;	/* the index answers ~U */
		unread = cache_view_count(ix->ua->cache, &uv, NULL, &err);
		cache_pattern_free(&p);
	}
	uv = ix->view;
	uv.sparse = false;
	shown = ix->limit != NULL ?
	    cache_view_count(ix->ua->cache, &uv, NULL, &err) : total;
	if (ix->gave_way)
		return false;
	ix->total = total;
	ix->unread = unread;
	ix->shown = shown;
	/* A limit that leaves few: its pages scan and sort (cache_view). */
	ix->view.sparse = ix->limit != NULL && ix->shown >= 0 &&
	    ix->shown * 8 < ix->total;
	return true;
}

/* New messages get their place in a thread before they are shown. */
static void
threads_update(struct ui *ui)
{
	struct index	*ix = &ui->idx;
	struct error	 err;

	error_clear(&err);
	if (ix->view.sort == CACHE_SORT_THREADS &&
	    cache_thread_update(ix->ua->cache, ix->folder_id, NULL, NULL,
	    &err) == -1)
		ui_error(ui, "%s", err.msg);
}

static void
counts(struct ui *ui)
{
	threads_update(ui);
	read_counts(ui);
}

struct index_row *
index_current(struct index *ix)
{
	if (ix->cursor < 0 || ix->cursor >= ix->nrows)
		return NULL;
	return &ix->rows[ix->cursor];
}

/* The progress handler of a refresh that gives way: a key is waiting. */
static int
key_waiting(void *arg)
{
	struct index	*ix = arg;

	if (ui_key_waiting()) {
		ix->gave_way = true;
		return 1;
	}
	return 0;
}

bool
index_refresh(struct ui *ui, bool give_way)
{
	struct index		*ix = &ui->idx;
	struct index_row	*r = index_current(ix);
	struct cache_key	 k;
	struct error		 err;
	uint32_t		 uid;
	int			 i;
	bool			 done, snapshot;

	if (ix->ua == NULL)
		return true;
	uid = r != NULL ? r->uid : 0;
	threads_update(ui);
	/* Counts and rows from one snapshot: they agree (load's fresh). */
	error_clear(&err);
	snapshot = cache_read_begin(ix->ua->cache, &err) == 0;
	ix->gave_way = false;
	if (give_way)
		cache_set_give_way(ix->ua->cache, key_waiting, ix);
	if (!(done = read_counts(ui)))
		;
	else if (ix->limit != NULL && ix->shown >= 0 &&
	    ix->shown <= page_rows(ui)) {
		/*
		 * All the limit leaves fits on the screen: one read from the
		 * first, rather than around the cursor (each read of a sparse
		 * limit scans the folder). The cursor stays on its message
		 * when it is among them.
		 */
		if ((done = load(ui, NULL, 0, snapshot)))
			for (i = 0; i < ix->nrows; i++)
				if (ix->rows[i].uid == uid)
					ix->cursor = i;
	} else if (r == NULL)
		done = load(ui, NULL, -1, snapshot);
	else {
		memset(&k, 0, sizeof k);
		k.num = r->key.num;
		k.uid = r->key.uid;
		k.text = r->key.text != NULL ? xstrdup(r->key.text) : NULL;
		done = load(ui, &k, ix->cursor, snapshot);
		cache_key_clear(&k);
	}
	if (give_way)
		cache_set_give_way(ix->ua->cache, NULL, NULL);
	if (snapshot)
		cache_read_end(ix->ua->cache);
	ix->gave_way = false;
	return done;
}

void
index_reload(struct ui *ui)
{
	index_refresh(ui, false);
}

/* The first unread message, or else the last one, as mutt opens a folder. */
static void
load_initial(struct ui *ui, bool fresh)
{
	struct index		*ix = &ui->idx;
	struct cache_pattern	*unread = NULL;
	const struct cache_pattern *saved = ix->view.limit;
	struct fetch		 f;
	struct error		 err;

	error_clear(&err);
	memset(&f, 0, sizeof f);
	if (ix->limit == NULL &&
	    cache_pattern_compile("~U", 0, &unread, &err) == 0) {
		ix->view.limit = unread;
		fetch(ui, NULL, 1, true, 1, &f);
		ix->view.limit = saved;
		cache_pattern_free(&unread);
	}
	if (f.n == 1)
		load(ui, &f.rows[0].key, page_rows(ui) / 2, fresh);
	else
		load(ui, NULL, -1, fresh);
	fetch_free(&f);
}

int
index_open(struct ui *ui, struct ui_account *ua, const char *folder)
{
	struct index	*ix = &ui->idx;
	const char	*s;
	int64_t		 id;
	enum cache_sort	 sort = CACHE_SORT_DATE;
	struct error	 err;
	bool		 snapshot;

	if (ui_folder_id(ui, ua, folder, &id) != 1)
		return -1;
	if (ix->ua != ua || ix->folder_id != id)
		cache_tag_clear(ua->cache);
	index_close(ix);
	ix->ua = ua;
	ix->folder_id = id;
	ix->folder = xstrdup(folder);
	ix->view.folder_id = id;
	if ((s = conf_get(ui->conf, NULL, "sort")) != NULL) {
		const char *name = s;

		ix->view.reverse = strncmp(s, "reverse-", 8) == 0;
		if (ix->view.reverse)
			name += 8;
		if (cache_sort_parse(name, &sort) == -1)
			sort = CACHE_SORT_DATE;
	}
	if (sort == CACHE_SORT_THREADS)
		ix->view.reverse = false;	/* not supported */
	ix->view.sort = sort;
	ix->view.limit = NULL;
	threads_update(ui);
	error_clear(&err);
	snapshot = cache_read_begin(ua->cache, &err) == 0;
	read_counts(ui);
	load_initial(ui, snapshot);
	if (snapshot)
		cache_read_end(ua->cache);
	ui_sync_open_folder(ui);
	return 0;
}

void
index_close(struct index *ix)
{
	rows_clear(ix);
	free(ix->rows);
	free(ix->folder);
	free(ix->limit_text);
	free(ix->search);
	cache_pattern_free(&ix->limit);
	cache_pattern_free(&ix->search_pat);
	memset(ix, 0, sizeof *ix);
	ix->cursor = -1;
}

/* ---- Moving ---------------------------------------------------------------- */

bool
index_step(struct ui *ui, int dir)
{
	struct index	*ix = &ui->idx;
	struct fetch	 f;
	bool		 moved = false;

	if (ix->nrows == 0)
		return false;
	if (dir > 0 && ix->cursor + 1 < ix->nrows) {
		ix->cursor++;
		ui->dirty = true;
		return true;
	}
	if (dir < 0 && ix->cursor > 0) {
		ix->cursor--;
		ui->dirty = true;
		return true;
	}
	/* Off the screen: the next row, and the page that starts with it. */
	if (fetch(ui, &ix->rows[dir > 0 ? ix->nrows - 1 : 0].key, dir, false,
	    1, &f) == 1) {
		load(ui, &f.rows[0].key, dir > 0 ? 0 : page_rows(ui) - 1, false);
		moved = true;
	}
	fetch_free(&f);
	return moved;
}

static void
step_undeleted(struct ui *ui, int dir)
{
	struct index		*ix = &ui->idx;
	struct index_row	*r;
	int			 guard;

	for (guard = 0; guard < 100000; guard++) {
		if (!index_step(ui, dir)) {
			ui_message(ui, dir > 0 ? "You are on the last message." :
			    "You are on the first message.");
			return;
		}
		if ((r = index_current(ix)) != NULL &&
		    (r->flags & MSG_DELETED) == 0)
			return;
	}
}

static void
page(struct ui *ui, int dir, int amount)
{
	struct index	*ix = &ui->idx;
	struct fetch	 f;
	int		 off = ix->cursor;

	if (ix->nrows == 0)
		return;
	if (dir > 0) {
		if (fetch(ui, &ix->rows[ix->nrows - 1].key, 1, false, amount,
		    &f) > 0)
			load(ui, &f.rows[f.n - 1].key, page_rows(ui) - 1, false);
		else if (ix->cursor == ix->nrows - 1)
			ui_message(ui, "You are on the last page.");
		if (f.n == 0 || ix->nrows > 0)
			ix->cursor = f.n == 0 ? ix->nrows - 1 :
			    (off < ix->nrows ? off : ix->nrows - 1);
	} else {
		if (fetch(ui, &ix->rows[0].key, -1, false, amount, &f) > 0)
			load(ui, &f.rows[f.n - 1].key, 0, false);
		else if (ix->cursor == 0)
			ui_message(ui, "You are on the first page.");
		ix->cursor = f.n == 0 ? 0 : (off < ix->nrows ? off : 0);
	}
	fetch_free(&f);
	ui->dirty = true;
}

/* ---- Searching and limiting ------------------------------------------------- */

/* The pattern text, limited to the index's limit when it has one. */
static int
compile(struct ui *ui, const char *text, struct cache_pattern **pp)
{
	struct index	*ix = &ui->idx;
	struct error	 err;
	char		*full = NULL;
	int		 rv;

	error_clear(&err);
	if (ix->limit_text != NULL &&
	    asprintf(&full, "(%s) (%s)", ix->limit_text, text) == -1)
		full = NULL;
	rv = cache_pattern_compile(full != NULL ? full : text,
	    (int64_t)time(NULL), pp, &err);
	free(full);
	if (rv == -1)
		ui_error(ui, "%s", err.msg);
	return rv;
}

static void
search_from(struct ui *ui, int dir)
{
	struct index		*ix = &ui->idx;
	struct index_row	*r = index_current(ix);
	const struct cache_pattern *saved = ix->view.limit;
	struct fetch		 f;
	bool			 wrapped = false;

	if (ix->search_pat == NULL) {
		ui_error(ui, "No search pattern.");
		return;
	}
	ix->view.limit = ix->search_pat;
	if (fetch(ui, r != NULL ? &r->key : NULL, dir, false, 1, &f) == 0) {
		fetch_free(&f);
		fetch(ui, NULL, dir, false, 1, &f);
		wrapped = true;
	}
	ix->view.limit = saved;
	if (f.n == 1) {
		load(ui, &f.rows[0].key, ix->cursor >= 0 ? ix->cursor :
		    page_rows(ui) / 2, false);
		if (wrapped)
			ui_message(ui, dir > 0 ? "Search wrapped to top." :
			    "Search wrapped to bottom.");
	} else
		ui_error(ui, "Not found.");
	fetch_free(&f);
}

static void
search_done(struct ui *ui, const char *text)
{
	struct index		*ix = &ui->idx;
	struct cache_pattern	*p;

	if (text == NULL || *text == '\0')
		return;
	if (compile(ui, text, &p) == -1)
		return;
	cache_pattern_free(&ix->search_pat);
	free(ix->search);
	ix->search_pat = p;
	ix->search = xstrdup(text);
	search_from(ui, 1);
}

static void
search_reverse_done(struct ui *ui, const char *text)
{
	struct index	*ix = &ui->idx;

	search_done(ui, NULL);
	if (text == NULL || *text == '\0')
		return;
	cache_pattern_free(&ix->search_pat);
	if (compile(ui, text, &ix->search_pat) == -1)
		return;
	free(ix->search);
	ix->search = xstrdup(text);
	search_from(ui, -1);
}

/*
 * A body search (~b ~B) also asks the server, for the messages whose
 * bodies are not cached: its answer joins the local one when it comes
 * (the folder's change event reloads the index).
 */
static void
limit_ask_server(struct ui *ui, const struct cache_pattern *p)
{
	struct index	*ix = &ui->idx;
	const char	*key, *word;
	char		 which;
	int		 i, n = 0;

	if (ix->ua == NULL || ix->ua->sess == NULL || ui->offline ||
	    ix->folder == NULL)
		return;
	for (i = 0; i < cache_pattern_ntexts(p); i++) {
		key = cache_pattern_text(p, i, &which, &word);
		if (key == NULL || (which != 'b' && which != 'B'))
			continue;
		session_search(ix->ua->sess, ix->folder, key, which, word);
		n++;
	}
	if (n > 0 && ix->nrows == 0)
		ui_message(ui, "No cached message matched; asking the server.");
}

static void
limit_done(struct ui *ui, const char *text)
{
	struct index		*ix = &ui->idx;
	struct cache_pattern	*p = NULL;
	struct error		 err;

	if (text == NULL)
		return;
	error_clear(&err);
	if (*text != '\0' && strcmp(text, "all") != 0 && strcmp(text, "~A") != 0 &&
	    cache_pattern_compile(text, (int64_t)time(NULL), &p, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	cache_pattern_free(&ix->limit);
	free(ix->limit_text);
	ix->limit = p;
	ix->limit_text = p != NULL ? xstrdup(text) : NULL;
	ix->view.limit = p;
	index_reload(ui);
	if (p != NULL && ix->nrows == 0)
		ui_message(ui, "No messages matched criteria.");
	limit_ask_server(ui, p);
}

/* ---- Tags and patterns --------------------------------------------------------- */

struct uidvec {
	uint32_t	*v;
	size_t		 n, size;
};

static int
uid_collect(void *arg, uint32_t uid)
{
	struct uidvec	*u = arg;

	if (u->n == u->size) {
		u->size = u->size ? u->size * 2 : 256;
		u->v = xreallocarray(u->v, u->size, sizeof *u->v);
	}
	u->v[u->n++] = uid;
	return 0;
}

/* The UIDs matching text within the limit; -1 with the message set. */
static int
pattern_uids(struct ui *ui, const char *text, struct uidvec *u)
{
	struct index		*ix = &ui->idx;
	struct cache_pattern	*p;
	struct error		 err;

	memset(u, 0, sizeof *u);
	if (compile(ui, text, &p) == -1)
		return -1;
	error_clear(&err);
	if (cache_pattern_select(ix->ua->cache, ix->folder_id, p, uid_collect,
	    u, &err) == -1) {
		cache_pattern_free(&p);
		free(u->v);
		ui_error(ui, "%s", err.msg);
		return -1;
	}
	cache_pattern_free(&p);
	return 0;
}

static void
tag_pattern(struct ui *ui, const char *text, bool on)
{
	struct index	*ix = &ui->idx;
	struct uidvec	 u;
	struct error	 err;

	if (text == NULL || *text == '\0' || pattern_uids(ui, text, &u) == -1)
		return;
	error_clear(&err);
	if (cache_tag_set(ix->ua->cache, ix->folder_id, u.v, u.n, on,
	    &err) == -1)
		ui_error(ui, "%s", err.msg);
	else
		ui_message(ui, "%zu message%s %stagged.", u.n,
		    u.n == 1 ? "" : "s", on ? "" : "un");
	free(u.v);
	mark_tags(ix);
	mark_threads(ix);
	ui->dirty = true;
}

static void
tag_done(struct ui *ui, const char *text)
{
	tag_pattern(ui, text, true);
}

static void
untag_done(struct ui *ui, const char *text)
{
	tag_pattern(ui, text, false);
}

static void
flag_pattern(struct ui *ui, const char *text, bool add)
{
	struct uidvec	u;

	if (text == NULL || *text == '\0' || pattern_uids(ui, text, &u) == -1)
		return;
	if (u.n == 0)
		ui_message(ui, "No messages matched criteria.");
	else if (act_flags(ui, u.v, u.n, add, MSG_DELETED, NULL) == 0)
		ui_message(ui, "%zu message%s %sdeleted.", u.n,
		    u.n == 1 ? "" : "s", add ? "" : "un");
	free(u.v);
}

static void
delete_done(struct ui *ui, const char *text)
{
	flag_pattern(ui, text, true);
}

static void
undelete_done(struct ui *ui, const char *text)
{
	flag_pattern(ui, text, false);
}

/*
 * The messages an action applies to: the tagged ones after ';', else the
 * one under the cursor. Returns the count (0: none, message set).
 */
/* ---- Threads ------------------------------------------------------------------- */

/* The key of the first message of the thread that path belongs to. */
static void
root_key(struct cache_key *k, const char *path)
{
	memset(k, 0, sizeof *k);
	k->text = xstrndup(path, CACHE_THREAD_SEG);
}

static void
thread_function(struct ui *ui, int fn)
{
	struct index		*ix = &ui->idx;
	struct index_row	*r = index_current(ix);
	struct cache_key	 k;
	struct fetch		 f;
	struct error		 err;

	if (ix->view.sort != CACHE_SORT_THREADS) {
		ui_error(ui, "Threading is not enabled (o t sorts by threads).");
		return;
	}
	error_clear(&err);
	switch (fn) {
	case FN_COLLAPSE_ALL:
		ix->view.collapse_all = !ix->view.collapse_all;
		cache_thread_collapse_clear(ix->ua->cache);
		if (r != NULL && r->thread_path != NULL) {
			/* The cursor goes to the first message of its thread. */
			root_key(&k, r->thread_path);
			counts(ui);
			load(ui, &k, ix->cursor, false);
			cache_key_clear(&k);
		} else
			index_reload(ui);
		return;
	case FN_COLLAPSE_THREAD:
		if (r == NULL || r->thread_path == NULL)
			return;
		if (cache_thread_collapse(ix->ua->cache, r->thread_path,
		    !cache_thread_collapsed(ix->ua->cache, r->thread_path),
		    &err) == -1) {
			ui_error(ui, "%s", err.msg);
			return;
		}
		root_key(&k, r->thread_path);
		counts(ui);
		load(ui, &k, ix->cursor, false);
		cache_key_clear(&k);
		return;
	case FN_NEXT_THREAD:
		if (r == NULL || r->thread_path == NULL)
			return;
		/* Past every path of this thread: the root's segment + 'g'. */
		root_key(&k, r->thread_path);
		k.text = xrealloc(k.text, CACHE_THREAD_SEG + 2);
		k.text[CACHE_THREAD_SEG] = 'g';
		k.text[CACHE_THREAD_SEG + 1] = '\0';
		if (fetch(ui, &k, 1, false, 1, &f) == 1) {
			cache_key_clear(&k);
			k.text = xstrdup(f.rows[0].key.text);
			load(ui, &k, ix->cursor, false);
		} else
			ui_error(ui, "No more threads.");
		fetch_free(&f);
		cache_key_clear(&k);
		return;
	case FN_PREVIOUS_THREAD:
		if (r == NULL || r->thread_path == NULL)
			return;
		root_key(&k, r->thread_path);
		if (fetch(ui, &k, -1, false, 1, &f) == 1) {
			cache_key_clear(&k);
			root_key(&k, f.rows[0].key.text);
			load(ui, &k, ix->cursor, false);
		} else
			ui_error(ui, "You are on the first thread.");
		fetch_free(&f);
		cache_key_clear(&k);
		return;
	}
}

static size_t
targets(struct ui *ui, uint32_t **vp)
{
	struct index		*ix = &ui->idx;
	struct index_row	*r = index_current(ix);
	struct uidvec		 u;

	*vp = NULL;
	if (ui->tag_prefix) {
		ui->tag_prefix = false;
		if (pattern_uids(ui, "~T", &u) == -1)
			return 0;
		if (u.n == 0) {
			ui_error(ui, "No tagged messages.");
			free(u.v);
			return 0;
		}
		*vp = u.v;
		return u.n;
	}
	if (r == NULL) {
		ui_error(ui, "No messages.");
		return 0;
	}
	*vp = xmalloc(sizeof **vp);
	(*vp)[0] = r->uid;
	return 1;
}

/* mutt's resolve: after acting on one message, go on to the next. */
static void
resolve(struct ui *ui, size_t n)
{
	if (n == 1 && ui->screen == SCREEN_INDEX)
		step_undeleted(ui, 1);
}

static void
flag_action(struct ui *ui, uint32_t flag, int how, bool move_on)
{
	struct index_row	*r = index_current(&ui->idx);
	uint32_t		*v;
	size_t			 n;
	bool			 add;

	if ((n = targets(ui, &v)) == 0)
		return;
	/* how: 1 set, 0 clear, -1 toggle (by the message under the cursor). */
	if (how < 0)
		add = r == NULL || (r->flags & flag) == 0;
	else
		add = how == 1;
	if (act_flags(ui, v, n, add, flag, NULL) == 0 && move_on)
		resolve(ui, n);
	free(v);
}

static uint32_t	pending_flag;
static bool	pending_add;

static void
set_flag_done(struct ui *ui, const char *text)
{
	uint32_t	*v, flag = 0;
	size_t		 n;
	const char	*kw = NULL;

	if (text == NULL || *text == '\0')
		return;
	if (strcmp(text, "N") == 0 || strcmp(text, "n") == 0) {
		/* "new" is the absence of \Seen. */
		flag = MSG_SEEN;
		pending_add = !pending_add;
	} else if (strcmp(text, "!") == 0)
		flag = MSG_FLAGGED;
	else if (strcmp(text, "D") == 0 || strcmp(text, "d") == 0)
		flag = MSG_DELETED;
	else if (strcmp(text, "r") == 0)
		flag = MSG_ANSWERED;
	else if (strcmp(text, "*") == 0) {
		tag_pattern(ui, ".", pending_add);
		return;
	} else
		kw = text;
	if ((n = targets(ui, &v)) > 0)
		act_flags(ui, v, n, pending_add, flag, kw);
	free(v);
	(void)pending_flag;
}

static void
copy_done(struct ui *ui, const char *text, bool move)
{
	uint32_t	*v;
	size_t		 n;

	if (text == NULL || *text == '\0')
		return;
	if ((n = targets(ui, &v)) == 0)
		return;
	if (act_copy(ui, v, n, text, move) == 0 && move)
		index_reload(ui);
	free(v);
}

static void
save_done(struct ui *ui, const char *text)
{
	copy_done(ui, text, true);
}

static void
copy_only_done(struct ui *ui, const char *text)
{
	copy_done(ui, text, false);
}

static void
sort_done(struct ui *ui, const char *text, bool reverse)
{
	struct index	*ix = &ui->idx;
	static const struct {
		const char	*key;
		enum cache_sort	 sort;
	} keys[] = {
		{ "d", CACHE_SORT_DATE }, { "r", CACHE_SORT_ARRIVAL },
		{ "f", CACHE_SORT_FROM }, { "s", CACHE_SORT_SUBJECT },
		{ "z", CACHE_SORT_SIZE }, { "t", CACHE_SORT_THREADS },
	};
	size_t		i;
	struct error	err;

	if (text == NULL || *text == '\0')
		return;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(text, keys[i].key) == 0 ||
		    strcmp(text, cache_sort_name(keys[i].sort)) == 0)
			break;
	}
	if (i == sizeof keys / sizeof keys[0]) {
		ui_error(ui, "Unknown sort: %s", text);
		return;
	}
	if (keys[i].sort == CACHE_SORT_THREADS && reverse) {
		ui_error(ui, "Reverse threads are not supported.");
		return;
	}
	ix->view.sort = keys[i].sort;
	ix->view.reverse = reverse;
	error_clear(&err);
	if (ix->view.sort == CACHE_SORT_THREADS &&
	    cache_thread_update(ix->ua->cache, ix->folder_id, NULL, NULL,
	    &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	/* The key of the row under the cursor changes with the order. */
	{
		struct index_row	*r = index_current(ix);
		struct cache_msg	 m;

		error_clear(&err);
		if (r != NULL && cache_msg_get(ix->ua->cache, ix->folder_id,
		    r->uid, &m, &err) == 1)
			cache_key_set(&r->key, ix->view.sort, &m);
	}
	index_reload(ui);
	ui_message(ui, "Sorted by %s%s.", reverse ? "reverse " : "",
	    cache_sort_name(ix->view.sort));
}

static void
sort_fwd_done(struct ui *ui, const char *text)
{
	sort_done(ui, text, false);
}

static void
sort_rev_done(struct ui *ui, const char *text)
{
	sort_done(ui, text, true);
}

static void
next_unread(struct ui *ui)
{
	struct index		*ix = &ui->idx;
	struct cache_pattern	*saved = ix->search_pat;
	char			*savedtext = ix->search;

	ix->search_pat = NULL;
	ix->search = NULL;
	if (compile(ui, "~U", &ix->search_pat) == 0)
		search_from(ui, 1);
	cache_pattern_free(&ix->search_pat);
	ix->search_pat = saved;
	ix->search = savedtext;
	if (ui->msg_error && strcmp(ui->msg, "Not found.") == 0)
		ui_error(ui, "No unread messages.");
}

bool
index_function(struct ui *ui, int fn)
{
	struct index		*ix = &ui->idx;
	struct index_row	*r = index_current(ix);
	int			 n = page_rows(ui);

	switch (fn) {
	case FN_NEXT_ENTRY:
		if (!index_step(ui, 1))
			ui_message(ui, "You are on the last message.");
		break;
	case FN_PREVIOUS_ENTRY:
		if (!index_step(ui, -1))
			ui_message(ui, "You are on the first message.");
		break;
	case FN_NEXT_UNDELETED:
		step_undeleted(ui, 1);
		break;
	case FN_PREVIOUS_UNDELETED:
		step_undeleted(ui, -1);
		break;
	case FN_NEXT_PAGE:
		page(ui, 1, n);
		break;
	case FN_PREVIOUS_PAGE:
		page(ui, -1, n);
		break;
	case FN_HALF_DOWN:
		page(ui, 1, n / 2 > 0 ? n / 2 : 1);
		break;
	case FN_HALF_UP:
		page(ui, -1, n / 2 > 0 ? n / 2 : 1);
		break;
	case FN_FIRST_ENTRY:
		load(ui, NULL, 0, false);
		break;
	case FN_LAST_ENTRY:
		load(ui, NULL, -1, false);
		break;
	case FN_DISPLAY_MESSAGE:
	case FN_SELECT_ENTRY:
		if (r == NULL)
			ui_error(ui, "No messages.");
		else
			pager_open(ui, r->uid);
		break;
	case FN_NEXT_NEW_THEN_UNREAD:
		next_unread(ui);
		break;
	case FN_DELETE_MESSAGE:
		flag_action(ui, MSG_DELETED, 1, true);
		break;
	case FN_UNDELETE_MESSAGE:
		flag_action(ui, MSG_DELETED, 0, true);
		break;
	case FN_TOGGLE_NEW:
		flag_action(ui, MSG_SEEN, -1, false);
		break;
	case FN_FLAG_MESSAGE:
		flag_action(ui, MSG_FLAGGED, -1, false);
		break;
	case FN_SET_FLAG:
	case FN_CLEAR_FLAG:
		pending_add = fn == FN_SET_FLAG;
		ui_prompt(ui, pending_add ? "Set flag (N ! D r, or a keyword): " :
		    "Clear flag (N ! D r, or a keyword): ", NULL, false,
		    set_flag_done);
		break;
	case FN_DELETE_PATTERN:
		ui_prompt(ui, "Delete messages matching: ", NULL, false,
		    delete_done);
		break;
	case FN_UNDELETE_PATTERN:
		ui_prompt(ui, "Undelete messages matching: ", NULL, false,
		    undelete_done);
		break;
	case FN_SAVE_MESSAGE:
		ui_prompt(ui, ui->tag_prefix ? "Move tagged to folder: " :
		    "Move to folder: ", NULL, true, save_done);
		break;
	case FN_COPY_MESSAGE:
		ui_prompt(ui, ui->tag_prefix ? "Copy tagged to folder: " :
		    "Copy to folder: ", NULL, true, copy_only_done);
		break;
	case FN_SYNC_MAILBOX:
		act_expunge(ui);
		break;
	case FN_TAG_ENTRY:
		if (r == NULL)
			break;
		{
			struct error	err;

			error_clear(&err);
			if (cache_tag_set(ix->ua->cache, ix->folder_id, &r->uid,
			    1, !r->tagged, &err) == -1)
				ui_error(ui, "%s", err.msg);
			mark_tags(ix);
			step_undeleted(ui, 1);
		}
		break;
	case FN_TAG_PATTERN:
		ui_prompt(ui, "Tag messages matching: ", NULL, false, tag_done);
		break;
	case FN_UNTAG_PATTERN:
		ui_prompt(ui, "Untag messages matching: ", NULL, false,
		    untag_done);
		break;
	case FN_COLLAPSE_THREAD:
	case FN_COLLAPSE_ALL:
	case FN_NEXT_THREAD:
	case FN_PREVIOUS_THREAD:
		thread_function(ui, fn);
		break;
	case FN_TAG_PREFIX:
		if (ix->ntagged == 0) {
			ui_error(ui, "No tagged messages.");
			break;
		}
		ui->tag_prefix = true;
		ui_message(ui, "tag-");
		return true;
	case FN_LIMIT:
		ui_prompt(ui, "Limit to messages matching: ", ix->limit_text,
		    false, limit_done);
		break;
	case FN_SEARCH:
		ui_prompt(ui, "Search for: ", NULL, false, search_done);
		break;
	case FN_SEARCH_REVERSE:
		ui_prompt(ui, "Reverse search for: ", NULL, false,
		    search_reverse_done);
		break;
	case FN_SEARCH_NEXT:
		search_from(ui, 1);
		break;
	case FN_SORT:
		ui_prompt(ui, "Sort (d)ate (r)arrival (f)rom (s)ubject si(z)e (t)hreads: ",
		    NULL, false, sort_fwd_done);
		break;
	case FN_SORT_REVERSE:
		ui_prompt(ui, "Reverse sort (d)ate (r)arrival (f)rom (s)ubject "
		    "si(z)e: ", NULL, false, sort_rev_done);
		break;
	default:
		return false;
	}
	if (fn != FN_SAVE_MESSAGE && fn != FN_COPY_MESSAGE &&
	    fn != FN_SET_FLAG && fn != FN_CLEAR_FLAG)
		ui->tag_prefix = false;
	return true;
}

/* ---- Drawing ----------------------------------------------------------------- */

/* "Name <addr>" -> Name (unquoted), or the address. */
static void
addr_name(const char *s, struct buf *out)
{
	const char	*lt = strrchr(s, '<');
	size_t		 len;

	if (lt != NULL && lt > s) {
		len = (size_t)(lt - s);
		while (len > 0 && s[len - 1] == ' ')
			len--;
		if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
			s++;
			len -= 2;
		}
		if (len > 0) {
			buf_add(out, s, len);
			return;
		}
	}
	addr_only(s, out);
}

void
addr_only(const char *s, struct buf *out)
{
	const char	*lt = strrchr(s, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL) {
		buf_add(out, lt + 1, (size_t)(gt - lt - 1));
		return;
	}
	buf_adds(out, s);
}

static bool
from_self(struct ui *ui, const struct index_row *r)
{
	struct buf	a;
	bool		self;

	if (ui->idx.ua == NULL || ui->idx.ua->self == NULL)
		return false;
	buf_init(&a, 0);
	addr_only(r->from, &a);
	self = strcasecmp_ascii(buf_cstr(&a), ui->idx.ua->self) == 0;
	buf_free(&a);
	return self;
}

static void
pretty_size(int64_t n, char *buf, size_t size)
{
	if (n < 1024)
		snprintf(buf, size, "%lld", (long long)n);
	else if (n < 10 * 1024)
		snprintf(buf, size, "%.1fK", (double)n / 1024);
	else if (n < 1024 * 1024)
		snprintf(buf, size, "%lldK", (long long)((n + 512) / 1024));
	else if (n < 10 * 1024 * 1024)
		snprintf(buf, size, "%.1fM", (double)n / (1024 * 1024));
	else
		snprintf(buf, size, "%lldM",
		    (long long)((n + 512 * 1024) / (1024 * 1024)));
}

static void
format_date(const char *fmt, int64_t t, int tz, bool local, char *buf,
    size_t size)
{
	struct tm	tm;
	time_t		tt;

	if (local) {
		tt = (time_t)t;
		localtime_r(&tt, &tm);
	} else {
		tt = (time_t)(t + (int64_t)tz * 60);
		gmtime_r(&tt, &tm);
	}
	/* The format is the user's (date_format, %{...}). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (strftime(buf, size, fmt, &tm) == 0)
		buf[0] = '\0';
#pragma GCC diagnostic pop
}

/*
 * mutt's index_format: %[-][min][.max]X with X one of C (number), Z
 * (flags), d (date, date_format, sender's zone), D (local), {fmt} (strftime,
 * sender's zone), [fmt] (local), L (sender, or "To name" for own mail), n
 * (sender's name), a (address), F (sender as written), t (recipients),
 * s (subject), c (size), g (keywords), u (user part), %% ("%").
 */
void
index_format_row(struct ui *ui, const struct index_row *r, int64_t number,
    int width, struct buf *out)
{
	const char	*f = ui->index_format;
	struct buf	 field;
	char		 tmp[256], dfmt[128];

	buf_init(&field, 0);
	while (*f != '\0') {
		bool	left = false;
		int	min = 0, max = -1;
		char	c;

		if (*f != '%') {
			const char *e = strchr(f, '%');
			size_t len = e != NULL ? (size_t)(e - f) : strlen(f);

			buf_add(out, f, len);
			f += len;
			continue;
		}
		f++;
		if (*f == '-') {
			left = true;
			f++;
		}
		while (*f >= '0' && *f <= '9')
			min = min * 10 + (*f++ - '0');
		if (*f == '.') {
			f++;
			max = 0;
			while (*f >= '0' && *f <= '9')
				max = max * 10 + (*f++ - '0');
		}
		if ((c = *f) == '\0')
			break;
		f++;
		buf_reset(&field);
		switch (c) {
		case '%':
			buf_adds(&field, "%");
			break;
		case 'C':
			snprintf(tmp, sizeof tmp, "%lld", (long long)number);
			buf_adds(&field, tmp);
			break;
		case 'Z':
			tmp[0] = (r->flags & MSG_DELETED) ? 'D' :
			    (r->flags & MSG_SEEN) == 0 ? 'N' :
			    (r->flags & MSG_ANSWERED) ? 'r' : ' ';
			tmp[1] = (r->flags & MSG_FLAGGED) ? '!' : ' ';
			tmp[2] = r->tagged ? '*' : ' ';
			tmp[3] = '\0';
			buf_adds(&field, tmp);
			break;
		case 'd':
		case 'D':
			format_date(ui->date_format, r->date, r->date_tz,
			    c == 'D', tmp, sizeof tmp);
			buf_adds(&field, tmp);
			break;
		case '{':
		case '[': {
			char		 close = c == '{' ? '}' : ']';
			const char	*e = strchr(f, close);
			size_t		 len;

			if (e == NULL)
				break;
			len = (size_t)(e - f);
			if (len >= sizeof dfmt)
				len = sizeof dfmt - 1;
			memcpy(dfmt, f, len);
			dfmt[len] = '\0';
			f = e + 1;
			format_date(dfmt, r->date, r->date_tz, c == '[', tmp,
			    sizeof tmp);
			buf_adds(&field, tmp);
			break;
		}
		case 'L':
			if (from_self(ui, r)) {
				struct buf	to;
				char		*comma;

				buf_init(&to, 0);
				buf_adds(&field, "To ");
				buf_adds(&to, r->to);
				if ((comma = strchr(buf_cstr(&to), ',')) != NULL)
					*comma = '\0';
				addr_name(buf_cstr(&to), &field);
				buf_free(&to);
			} else
				addr_name(r->from, &field);
			break;
		case 'n':
			addr_name(r->from, &field);
			break;
		case 'a':
			addr_only(r->from, &field);
			break;
		case 'u': {
			struct buf	a;
			const char	*at;

			buf_init(&a, 0);
			addr_only(r->from, &a);
			at = strchr(buf_cstr(&a), '@');
			buf_add(&field, buf_cstr(&a), at != NULL ?
			    (size_t)(at - buf_cstr(&a)) : strlen(buf_cstr(&a)));
			buf_free(&a);
			break;
		}
		case 'F':
			buf_adds(&field, r->from);
			break;
		case 't':
			buf_adds(&field, r->to);
			break;
		case 's':
			buf_adds(&field, r->tree);
			buf_adds(&field, r->subject);
			break;
		case 'c':
			pretty_size(r->size, tmp, sizeof tmp);
			buf_adds(&field, tmp);
			break;
		case 'g':
			if (r->keywords != NULL)
				buf_adds(&field, r->keywords);
			break;
		default:
			buf_addc(&field, '%');
			buf_addc(&field, c);
			break;
		}
		text_pad(out, buf_cstr(&field), min, max, left);
	}
	buf_free(&field);
	(void)width;
}

void
index_draw(struct ui *ui, int top, int left, int rows, int width)
{
	struct index	*ix = &ui->idx;
	struct buf	 line;
	int		 i;

	buf_init(&line, 0);
	for (i = 0; i < rows; i++) {
		const struct index_row	*r;
		enum ui_color		 c = COL_NORMAL;

		if (i >= ix->nrows) {
			draw_text(top + i, left, width, "", COL_NORMAL);
			buf_reset(&line);
			text_pad(&line, "", width, width, true);
			draw_text(top + i, left, width, buf_cstr(&line),
			    COL_NORMAL);
			continue;
		}
		r = &ix->rows[i];
		buf_reset(&line);
		index_format_row(ui, r, ix->first_number + i, width, &line);
		text_pad(&line, "", 0, 0, true);
		if (i == ix->cursor)
			c = COL_INDICATOR;
		else if (r->tagged)
			c = COL_INDEX_TAGGED;
		else if (r->flags & MSG_DELETED)
			c = COL_INDEX_DELETED;
		else if (r->flags & MSG_FLAGGED)
			c = COL_INDEX_FLAGGED;
		else if ((r->flags & MSG_SEEN) == 0)
			c = COL_INDEX_NEW;
		{
			/* Pad to the width so the colour fills the row. */
			struct buf	padded;

			buf_init(&padded, 0);
			text_pad(&padded, buf_cstr(&line), width, width, true);
			draw_text(top + i, left, width, buf_cstr(&padded), c);
			buf_free(&padded);
		}
	}
	if (ix->nrows == 0 && rows > 0)
		draw_text(top, left, width, ix->limit != NULL ?
		    "No messages matched the limit." :
		    "No messages in this folder (yet).", COL_NORMAL);
	buf_free(&line);
}
