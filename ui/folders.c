/*
 * The folder view and the sidebar: every account's folders from the cache,
 * special-use folders first (Inbox, Drafts, Sent, Archive, Junk, Trash),
 * then the hierarchy by the server's delimiter, with unread and total
 * counts; subtrees collapse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ui-private.h"
#include "xmalloc.h"

struct load {
	struct ui		*ui;
	struct ui_account	*ua;
	struct folder_row	*rows;
	size_t			 n, size;
	char			*delims;	/* per row */
	char			**special;
};

static int
special_rank(const char *name, const char *special_use)
{
	static const char *order[] = { "\\Drafts", "\\Sent", "\\Archive",
	    "\\Junk", "\\Trash" };
	size_t	i;

	if (strcasecmp_ascii(name, "INBOX") == 0)
		return 0;
	if (special_use == NULL)
		return 9;
	for (i = 0; i < sizeof order / sizeof order[0]; i++)
		if (strstr(special_use, order[i]) != NULL)
			return (int)i + 1;
	return 9;
}

static int
load_cb(void *arg, const struct cache_folder *f)
{
	struct load		*l = arg;
	struct folder_row	*r;

	if (l->n == l->size) {
		l->size = l->size ? l->size * 2 : 32;
		l->rows = xreallocarray(l->rows, l->size, sizeof *l->rows);
		l->delims = xreallocarray(l->delims, l->size, 1);
		l->special = xreallocarray(l->special, l->size,
		    sizeof *l->special);
	}
	r = &l->rows[l->n];
	memset(r, 0, sizeof *r);
	r->ua = l->ua;
	r->id = f->noselect ? -1 : f->id;
	r->name = xstrdup(f->name);
	r->total = f->total;
	r->unseen = f->unseen;
	l->delims[l->n] = f->delim;
	l->special[l->n] = f->special_use != NULL ? xstrdup(f->special_use) :
	    NULL;
	l->n++;
	return 0;
}

/* Sort key: rank of the top-level folder, then the path by components. */
struct sortable {
	struct folder_row	row;
	int			rank;
	char			*path;		/* delimiter replaced by \1 */
};

static int
sortable_cmp(const void *a, const void *b)
{
	const struct sortable	*x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->path, y->path);
}

static bool
is_collapsed(struct folders *fl, const struct folder_row *r)
{
	char	key[1024];
	int	i;

	snprintf(key, sizeof key, "%s/%s", r->ua->acct->name, r->name);
	for (i = 0; i < fl->ncollapsed; i++)
		if (strcmp(fl->collapsed[i], key) == 0)
			return true;
	return false;
}

static void
add_row(struct folders *fl, const struct folder_row *r)
{
	if (fl->nrows == fl->rowsize) {
		fl->rowsize = fl->rowsize ? fl->rowsize * 2 : 64;
		fl->rows = xreallocarray(fl->rows, (size_t)fl->rowsize,
		    sizeof *fl->rows);
	}
	fl->rows[fl->nrows++] = *r;
}

static void
load_account(struct ui *ui, struct ui_account *ua)
{
	struct folders		*fl = &ui->fl;
	struct load		 l;
	struct sortable		*s;
	struct folder_row	 head;
	struct engine_quota	 q;
	struct error		 err;
	size_t			 i, j;
	char			*hidden_under = NULL;

	memset(&l, 0, sizeof l);
	l.ui = ui;
	l.ua = ua;
	error_clear(&err);
	if (cache_folder_foreach(ua->cache, true, load_cb, &l, &err) == -1)
		ui_error(ui, "%s: %s", ua->acct->name, err.msg);
	s = xcalloc(l.n ? l.n : 1, sizeof *s);
	for (i = 0; i < l.n; i++) {
		char		 d = l.delims[i];
		const char	*name = l.rows[i].name;
		size_t		 toplen = strlen(name);
		const char	*p;
		char		*top;

		s[i].row = l.rows[i];
		s[i].path = xstrdup(name);
		s[i].row.depth = 0;
		if (d != '\0') {
			for (p = s[i].path; *p != '\0'; p++)
				if (*p == d) {
					s[i].path[p - s[i].path] = '\1';
					s[i].row.depth++;
				}
			if ((p = strchr(name, d)) != NULL)
				toplen = (size_t)(p - name);
		}
		p = d != '\0' ? strrchr(name, d) : NULL;
		s[i].row.label = xstrdup(p != NULL ? p + 1 : name);
		/* The rank of the top-level folder this one sits under. */
		top = xstrndup(name, toplen);
		s[i].rank = special_rank(top, NULL);
		for (j = 0; j < l.n; j++)
			if (strcmp(l.rows[j].name, top) == 0)
				s[i].rank = special_rank(top, l.special[j]);
		free(top);
	}
	qsort(s, l.n, sizeof *s, sortable_cmp);
	memset(&head, 0, sizeof head);
	head.ua = ua;
	head.id = -1;
	head.header = true;
	head.name = xstrdup(ua->acct->name);
	if (engine_quota(ua->cache, &q) != 1)
		head.label = xstrdup(ua->acct->name);
	else if (q.storage && q.storage_limit > 0)
		xasprintf(&head.label, "%s (quota %d%%: %llu of %llu KiB)",
		    ua->acct->name, q.percent,
		    (unsigned long long)q.storage_used,
		    (unsigned long long)q.storage_limit);
	else
		xasprintf(&head.label, "%s (quota %d%%)", ua->acct->name,
		    q.percent);
	head.total = head.unseen = 0;
	for (i = 0; i < l.n; i++) {
		head.total += s[i].row.total > 0 ? s[i].row.total : 0;
		head.unseen += s[i].row.unseen > 0 ? s[i].row.unseen : 0;
	}
	add_row(fl, &head);
	for (i = 0; i < l.n; i++) {
		struct folder_row *r = &s[i].row;

		r->has_children = i + 1 < l.n && s[i + 1].row.depth > r->depth &&
		    strncmp(s[i + 1].path, s[i].path, strlen(s[i].path)) == 0;
		r->collapsed = r->has_children && is_collapsed(fl, r);
		if (hidden_under != NULL && strncmp(s[i].path, hidden_under,
		    strlen(hidden_under)) == 0 &&
		    s[i].path[strlen(hidden_under)] == '\1') {
			free(r->name);
			free(r->label);
		} else {
			hidden_under = NULL;
			add_row(fl, r);
			if (r->collapsed)
				hidden_under = s[i].path;
		}
	}
	for (i = 0; i < l.n; i++) {
		if (s[i].path != hidden_under)
			free(s[i].path);
		free(l.special[i]);
	}
	free(hidden_under);
	free(s);
	free(l.rows);
	free(l.delims);
	free(l.special);
}

void
folders_free(struct folders *fl)
{
	int	i;

	for (i = 0; i < fl->nrows; i++) {
		free(fl->rows[i].name);
		free(fl->rows[i].label);
	}
	fl->nrows = 0;
}

void
folders_load(struct ui *ui)
{
	struct folders	*fl = &ui->fl;
	int		 i;

	folders_free(fl);
	for (i = 0; i < ui->naccts; i++)
		load_account(ui, &ui->accts[i]);
	if (fl->cursor >= fl->nrows)
		fl->cursor = fl->nrows > 0 ? fl->nrows - 1 : 0;
	ui->dirty = true;
}

/* Is the list on screen (the folder view or the sidebar)? */
bool
folders_shown(struct ui *ui)
{
	return ui->screen == SCREEN_FOLDERS || ui->sidebar;
}

/* Like mutt's browser: the cursor starts on the folder that is open. */
void
folders_point_at_current(struct ui *ui)
{
	struct folders	*fl = &ui->fl;
	int		 i;

	for (i = 0; i < fl->nrows; i++)
		if (fl->rows[i].ua == ui->idx.ua &&
		    fl->rows[i].id == ui->idx.folder_id && !fl->rows[i].header) {
			fl->cursor = i;
			return;
		}
}

static void
toggle_collapse(struct ui *ui)
{
	struct folders		*fl = &ui->fl;
	struct folder_row	*r;
	char			 key[1024];
	int			 i;

	if (fl->cursor >= fl->nrows)
		return;
	r = &fl->rows[fl->cursor];
	if (!r->has_children)
		return;
	snprintf(key, sizeof key, "%s/%s", r->ua->acct->name, r->name);
	for (i = 0; i < fl->ncollapsed; i++) {
		if (strcmp(fl->collapsed[i], key) == 0) {
			free(fl->collapsed[i]);
			fl->collapsed[i] = fl->collapsed[--fl->ncollapsed];
			folders_load(ui);
			return;
		}
	}
	fl->collapsed = xreallocarray(fl->collapsed,
	    (size_t)fl->ncollapsed + 1, sizeof *fl->collapsed);
	fl->collapsed[fl->ncollapsed++] = xstrdup(key);
	folders_load(ui);
}

static void
change_done(struct ui *ui, const char *text)
{
	int	i;

	if (text == NULL || *text == '\0')
		return;
	if (ui->idx.ua != NULL && index_open(ui, ui->idx.ua, text) == 0) {
		ui->screen = SCREEN_INDEX;
		return;
	}
	/* "account/folder", as the status line names it. */
	for (i = 0; i < ui->naccts; i++) {
		const char	*an = ui->accts[i].acct->name;
		size_t		 len = strlen(an);

		if (strncmp(text, an, len) == 0 && text[len] == '/' &&
		    text[len + 1] != '\0') {
			if (index_open(ui, &ui->accts[i], text + len + 1) == 0) {
				ui_message(ui, "%s", "");
				ui->screen = SCREEN_INDEX;
			}
			return;
		}
	}
	/* Not in this account: the first account that has it. */
	for (i = 0; i < ui->naccts; i++) {
		struct cache_folder	f;
		struct error		err;

		error_clear(&err);
		if (&ui->accts[i] != ui->idx.ua &&
		    cache_folder_get(ui->accts[i].cache, text, &f, &err) == 1) {
			if (index_open(ui, &ui->accts[i], text) == 0) {
				ui_message(ui, "%s", "");
				ui->screen = SCREEN_INDEX;
			}
			return;
		}
	}
}

bool
folders_function(struct ui *ui, int fn)
{
	struct folders	*fl = &ui->fl;
	int		 n = ui->rows - 2;

	switch (fn) {
	case FN_NEXT_ENTRY:
	case FN_NEXT_UNDELETED:
		if (fl->cursor + 1 < fl->nrows)
			fl->cursor++;
		break;
	case FN_PREVIOUS_ENTRY:
	case FN_PREVIOUS_UNDELETED:
		if (fl->cursor > 0)
			fl->cursor--;
		break;
	case FN_NEXT_PAGE:
		fl->cursor = fl->cursor + n < fl->nrows ? fl->cursor + n :
		    fl->nrows - 1;
		break;
	case FN_PREVIOUS_PAGE:
		fl->cursor = fl->cursor > n ? fl->cursor - n : 0;
		break;
	case FN_FIRST_ENTRY:
		fl->cursor = 0;
		break;
	case FN_LAST_ENTRY:
		fl->cursor = fl->nrows > 0 ? fl->nrows - 1 : 0;
		break;
	case FN_SELECT_ENTRY:
	case FN_DISPLAY_MESSAGE: {
		struct folder_row *r;

		if (fl->cursor >= fl->nrows)
			break;
		r = &fl->rows[fl->cursor];
		if (r->header || r->id < 0) {
			ui_error(ui, "%s cannot be opened.", r->label);
			break;
		}
		if (index_open(ui, r->ua, r->name) == 0) {
			ui->screen = SCREEN_INDEX;
			ui_message(ui, "%s", "");
		}
		break;
	}
	case FN_COLLAPSE_SUBTREE:
		toggle_collapse(ui);
		break;
	case FN_CHANGE_FOLDER:
		ui_prompt(ui, "Open folder: ", NULL, true, change_done);
		break;
	case FN_EXIT:
		if (ui->idx.ua != NULL)
			ui->screen = SCREEN_INDEX;
		break;
	default:
		return false;
	}
	ui->dirty = true;
	return true;
}

void
folders_draw(struct ui *ui, int top, int left, int rows, int width,
    bool sidebar)
{
	struct folders	*fl = &ui->fl;
	struct buf	 b, cnt;
	int		 i, first = 0;

	if (!sidebar) {
		if (fl->cursor < fl->top)
			fl->top = fl->cursor;
		if (fl->cursor >= fl->top + rows)
			fl->top = fl->cursor - rows + 1;
		first = fl->top;
	}
	buf_init(&b, 0);
	buf_init(&cnt, 0);
	for (i = 0; i < rows; i++) {
		const struct folder_row	*r;
		enum ui_color		 c = COL_NORMAL;
		int			 namew;

		buf_reset(&b);
		if (first + i >= fl->nrows) {
			text_pad(&b, "", width, width, true);
			draw_text(top + i, left, width, buf_cstr(&b), c);
			continue;
		}
		r = &fl->rows[first + i];
		buf_reset(&cnt);
		if (r->total >= 0)
			buf_printf(&cnt, r->unseen > 0 ? " %lld/%lld" : " %lld",
			    r->unseen > 0 ? (long long)r->unseen :
			    (long long)r->total, (long long)r->total);
		if (!r->header) {
			int d;

			buf_adds(&b, sidebar ? " " : "  ");
			for (d = 0; d < r->depth; d++)
				buf_adds(&b, "  ");
			buf_adds(&b, r->has_children ?
			    (r->collapsed ? "+" : "-") : " ");
		}
		namew = width - text_width(b.data, b.len) -
		    text_width(buf_cstr(&cnt), cnt.len);
		text_pad(&b, r->label, namew > 0 ? namew : 0,
		    namew > 0 ? namew : 0, true);
		buf_adds(&b, buf_cstr(&cnt));
		{
			struct buf padded;

			buf_init(&padded, 0);
			text_pad(&padded, buf_cstr(&b), width, width, true);
			if (sidebar) {
				if (ui->idx.ua == r->ua && !r->header &&
				    r->id == ui->idx.folder_id)
					c = COL_SIDEBAR_HIGHLIGHT;
				else if (r->unseen > 0)
					c = COL_SIDEBAR_NEW;
			} else if (first + i == fl->cursor)
				c = COL_INDICATOR;
			else if (r->header)
				c = COL_HDRDEFAULT;
			draw_text(top + i, left, width, buf_cstr(&padded), c);
			buf_free(&padded);
		}
	}
	buf_free(&b);
	buf_free(&cnt);
}

char *
folders_complete(struct ui *ui, const char *prefix)
{
	struct folders	*fl = &ui->fl;
	char		*best = NULL;
	size_t		 plen = strlen(prefix), i, k;
	int		 r;

	if (!folders_shown(ui))
		folders_load(ui);	/* not kept current while hidden */
	for (r = 0; r < fl->nrows; r++) {
		const struct folder_row *row = &fl->rows[r];

		if (row->header || row->ua != ui->idx.ua ||
		    strncmp(row->name, prefix, plen) != 0)
			continue;
		if (best == NULL) {
			best = xstrdup(row->name);
			continue;
		}
		/* Keep the common prefix of every match. */
		for (i = 0, k = strlen(best); i < k && best[i] == row->name[i];
		    i++)
			;
		best[i] = '\0';
	}
	return best;
}
