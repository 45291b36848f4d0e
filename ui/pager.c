/*
 * The pager: one message, rendered by the MIME engine (the same code and
 * [options] as `petrel show`), wrapped to the screen. A body that is not
 * cached is asked of the account's session; "Loading" shows meanwhile and
 * the UI goes on. The first screen comes from the built-in HTML converter,
 * so it never waits for a mailcap program; the program's rendering, made in
 * a thread (convert.c), replaces it when it is ready within its timeout.
 * A long body is first rendered from its head (PAGER_HEAD bytes, enough for
 * many screens): rendering 25 MB takes 0.2 s, its head a few milliseconds.
 * The whole body is rendered in the background after that screen is drawn
 * and replaces it, the reader's place kept; the mailcap rendering follows.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "msgflags.h"
#include "ui-private.h"
#include "xmalloc.h"

/* Bodies longer than this are shown from their head first. */
#define PAGER_HEAD	(512 * 1024)

static int
body_rows(struct ui *ui)
{
	int	n = ui->rows - 2;

	return n < 1 ? 1 : n;
}

static void
lines_add(struct pager *pg, size_t off, size_t len, enum ui_color c)
{
	if (pg->nlines == pg->linesize) {
		pg->linesize = pg->linesize ? pg->linesize * 2 : 256;
		pg->lines = xreallocarray(pg->lines, pg->linesize,
		    sizeof *pg->lines);
	}
	pg->lines[pg->nlines].off = off;
	pg->lines[pg->nlines].len = len;
	pg->lines[pg->nlines].color = c;
	pg->nlines++;
}

static enum ui_color
quote_color(const char *s, size_t len)
{
	size_t	i;
	int	depth = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '>')
			depth++;
		else if (s[i] != ' ')
			break;
	}
	if (depth == 0)
		return COL_NORMAL;
	if (depth > 4)
		depth = 4;
	return (enum ui_color)(COL_QUOTED + depth - 1);
}

/* Split text into screen lines of at most width columns. */
static void
wrap(struct pager *pg, size_t headers_len, int width)
{
	size_t	off = 0, len = pg->textlen;
	bool	sig = false;

	pg->nlines = 0;
	pg->width = width;
	while (off < len) {
		const char	*s = pg->text + off;
		const char	*nl = memchr(s, '\n', len - off);
		size_t		 ll = nl != NULL ? (size_t)(nl - s) : len - off;
		enum ui_color	 c;
		size_t		 done = 0;

		if (off < headers_len)
			c = COL_HDRDEFAULT;
		else {
			if (ll == 3 && memcmp(s, "-- ", 3) == 0)
				sig = true;
			c = sig ? COL_SIGNATURE : quote_color(s, ll);
		}
		do {
			size_t fit = text_fit(s + done, ll - done, width, NULL);

			if (fit == 0 && done < ll)
				fit = 1;
			lines_add(pg, off + done, fit, c);
			done += fit;
		} while (done < ll);
		off += ll + (nl != NULL ? 1 : 0);
	}
}

/* The pager's render options: the configured ones at the screen's width. */
static void
render_opts(struct ui *ui, struct mime_render_opts *ro)
{
	*ro = ui->ropts;
	ro->width = ui->cols > 100 ? 100 : ui->cols - 2;
	if (ro->width < 20)
		ro->width = 20;
	ro->headers_all = ui->pg.headers_all;
}

/* The screen text of pg->view (or errmsg when it could not be made). */
static void
layout(struct ui *ui, const char *errmsg)
{
	struct pager	*pg = &ui->pg;
	struct buf	 b;
	size_t		 hlen = 0;

	free(pg->text);
	buf_init(&b, 0);
	if (pg->view == NULL)
		buf_printf(&b, "This message cannot be shown: %s\n", errmsg);
	else {
		buf_adds(&b, pg->view->headers);
		hlen = b.len;
		buf_adds(&b, "\n");
		if (pg->view->natt > 0) {
			size_t i;

			for (i = 0; i < pg->view->natt; i++)
				buf_printf(&b, "[-- Attachment #%d: %s (%s, %zu "
				    "bytes) --]\n", pg->view->att[i].number,
				    *pg->view->att[i].filename != '\0' ?
				    pg->view->att[i].filename : "(no name)",
				    pg->view->att[i].type,
				    pg->view->att[i].size);
			buf_adds(&b, "\n");
		}
		buf_add(&b, pg->view->body, pg->view->bodylen);
		if (pg->partial)
			buf_printf(&b, "\n[-- The first %zu KB of %zu KB are "
			    "shown; the rest follows. --]\n", pg->msg->len / 1024,
			    pg->total / 1024);
	}
	pg->text = buf_steal(&b, &pg->textlen);
	wrap(pg, hlen, ui->cols);
	if (pg->top >= pg->nlines)
		pg->top = pg->nlines > 0 ? pg->nlines - 1 : 0;
}

/*
 * Render with the built-in HTML converter, which never makes the user wait.
 * When the message has HTML and mailcap files are in use, the same render
 * with the mailcap commands starts in the background after this screen is
 * drawn (pager_convert_start), and its view replaces this one when it is
 * ready (pager_convert_done).
 */
static void
render(struct ui *ui)
{
	struct pager		*pg = &ui->pg;
	struct mime_render_opts	 ro;
	struct error		 err;

	convert_cancel(&pg->job);
	mime_view_free(&pg->view);
	render_opts(ui, &ro);
	ro.mailcap = "";
	error_clear(&err);
	if (mime_render(pg->msg->data, pg->msg->len, &ro, &pg->view,
	    &err) == -1)
		pg->view = NULL;
	layout(ui, err.msg);
	/* Of the whole body: a head's view comes first (start_whole). */
	pg->convert_wanted = !pg->partial && pg->view != NULL &&
	    pg->view->html_parts > 0 && mime_mailcap_enabled(&ui->ropts);
}

/*
 * The head is on the screen: read the whole body and render it with the
 * built-in converter in the background. The read is the UI's (its cache
 * connection is its own) and costs a few milliseconds per 10 MB; the
 * render is what took long.
 */
static void
start_whole(struct ui *ui)
{
	struct pager		*pg = &ui->pg;
	struct mime_render_opts	 ro;
	struct msgbuf		*whole;
	struct error		 err;
	char			*raw;
	size_t			 len;

	error_clear(&err);
	if (cache_body_get(pg->ua->cache, pg->folder_id, pg->uid, &raw, &len,
	    &err) != 1) {
		/* Not fetched, or gone meanwhile: the head stays. */
		pg->partial = false;
		layout(ui, NULL);
		if (err.msg[0] != '\0')
			ui_error(ui, "%s", err.msg);
		return;
	}
	whole = msgbuf_new(raw, len);
	render_opts(ui, &ro);
	ro.mailcap = "";
	pg->job = convert_start(whole, &ro, &err);
	msgbuf_unref(&whole);		/* the job holds its own */
	pg->job_whole = true;
	if (pg->job == NULL) {
		pg->partial = false;
		ui_error(ui, "%s", err.msg);
	}
}

void
pager_convert_start(struct ui *ui)
{
	struct pager		*pg = &ui->pg;
	struct mime_render_opts	 ro;
	struct error		 err;

	if (pg->msg == NULL || pg->job != NULL)
		return;
	if (pg->partial) {
		if (!pg->loading)	/* else the body is still on its way */
			start_whole(ui);
		return;
	}
	if (!pg->convert_wanted)
		return;
	pg->convert_wanted = false;
	render_opts(ui, &ro);
	error_clear(&err);
	pg->job_whole = false;
	if ((pg->job = convert_start(pg->msg, &ro, &err)) == NULL)
		ui_error(ui, "%s", err.msg);
}

/* The whole body's view replaces the head's; the mailcap's may follow. */
static void
whole_done(struct ui *ui, struct mime_view *view, struct msgbuf *msg)
{
	struct pager	*pg = &ui->pg;

	mime_view_free(&pg->view);
	msgbuf_unref(&pg->msg);
	pg->view = view;
	pg->msg = msg;
	pg->partial = false;
	layout(ui, NULL);
	pg->convert_wanted = view->html_parts > 0 &&
	    mime_mailcap_enabled(&ui->ropts);
	ui->dirty = true;
}

int
pager_convert_fd(struct ui *ui)
{
	return convert_fd(ui->pg.job);
}

void
pager_convert_done(struct ui *ui)
{
	struct pager		*pg = &ui->pg;
	struct mime_view	*view = NULL;
	struct msgbuf		*msg = NULL;
	struct error		 err;
	char			 c;
	int			 rv;

	if (pg->job == NULL)
		return;
	while (read(convert_fd(pg->job), &c, 1) == 1)
		;
	error_clear(&err);
	if ((rv = convert_finish(&pg->job, &view, &msg, &err)) == 0)
		return;
	if (rv == -1) {
		pg->partial = false;	/* not again: the head stays */
		ui_error(ui, "%s", err.msg);
		return;
	}
	if (pg->job_whole) {
		whole_done(ui, view, msg);
		return;
	}
	if (view->html_converted == 0) {
		/* No entry, or it failed: the built-in text stays. */
		if (view->convert_error != NULL)
			ui_message(ui, "mailcap: %s; the built-in HTML "
			    "conversion is shown.", view->convert_error);
		mime_view_free(&view);
		msgbuf_unref(&msg);
		return;
	}
	mime_view_free(&pg->view);
	msgbuf_unref(&pg->msg);
	pg->view = view;
	pg->msg = msg;		/* the bytes the new view points into */
	layout(ui, NULL);
	ui->dirty = true;
}

/* The body is in the cache: read it, render it, mark the message read. */
static int
show_cached(struct ui *ui)
{
	struct pager		*pg = &ui->pg;
	struct index_row	*r = index_current(&ui->idx);
	struct error		 err;
	char			*raw = NULL;
	size_t			 rawlen = 0, total = 0;
	int			 found;

	error_clear(&err);
	msgbuf_unref(&pg->msg);
	pg->partial = false;	/* no head without its bytes */
	found = cache_body_get_head(pg->ua->cache, pg->folder_id, pg->uid,
	    PAGER_HEAD, &raw, &rawlen, &total, &err);
	if (found != 1) {
		if (found == -1)
			ui_error(ui, "%s", err.msg);
		return found;
	}
	pg->msg = msgbuf_new(raw, rawlen);
	pg->partial = total > rawlen;
	pg->total = total;
	pg->loading = false;
	render(ui);
	/* Not where the server forbids it (read-only by ACL): no error. */
	if (r != NULL && r->uid == pg->uid && (r->flags & MSG_SEEN) == 0 &&
	    cache_folder_may(pg->ua->cache, pg->folder_id, "s"))
		act_flags(ui, &pg->uid, 1, true, MSG_SEEN, NULL);
	ui->dirty = true;
	return 1;
}

/* Ask the session for the body of the next message too. */
static void
prefetch_next(struct ui *ui)
{
	struct index		*ix = &ui->idx;
	struct ui_account	*ua = ix->ua;
	const struct index_row	*r;
	struct cache_msg	 m;
	struct error		 err;

	if (ua->sess == NULL || ix->cursor + 1 >= ix->nrows)
		return;
	r = &ix->rows[ix->cursor + 1];
	error_clear(&err);
	if (cache_msg_get(ua->cache, ix->folder_id, r->uid, &m, &err) == 1 &&
	    !m.has_body)
		session_fetch_body(ua->sess, ix->folder, r->uid, 0);
}

void
pager_open(struct ui *ui, uint32_t uid)
{
	struct pager	*pg = &ui->pg;
	bool		 weed = pg->headers_all;

	pager_close(pg);
	pg->headers_all = weed;
	pg->ua = ui->idx.ua;
	pg->folder_id = ui->idx.folder_id;
	pg->uid = uid;
	ui->screen = SCREEN_PAGER;
	ui->dirty = true;
	if (show_cached(ui) == 1) {
		prefetch_next(ui);
		return;
	}
	if (pg->ua->sess == NULL) {
		ui_error(ui, "Message %u is not cached, and petrel is offline.",
		    uid);
		ui->screen = SCREEN_INDEX;
		return;
	}
	pg->loading = true;
	pg->fetch_id = session_fetch_body(pg->ua->sess, ui->idx.folder, uid,
	    SESSION_FETCH_HEAD);
	ui_message(ui, "Loading message %u...", uid);
}

/* The head of the body on its way is in the cache: show it meanwhile. */
void
pager_body_head(struct ui *ui, uint64_t id)
{
	struct pager	*pg = &ui->pg;
	struct cache_msg m;
	struct error	 err;
	char		*raw;
	size_t		 len;

	if (!pg->loading || id != pg->fetch_id || pg->msg != NULL)
		return;
	error_clear(&err);
	if (cache_head_get(pg->ua->cache, pg->folder_id, pg->uid, &raw, &len,
	    &err) != 1 || cache_msg_get(pg->ua->cache, pg->folder_id, pg->uid,
	    &m, &err) != 1) {
		free(raw);
		return;		/* the body itself will do */
	}
	pg->msg = msgbuf_new(raw, len);
	pg->partial = true;
	pg->total = m.size > 0 ? (size_t)m.size : len;
	render(ui);
	ui->dirty = true;
}

void
pager_body_done(struct ui *ui, uint64_t id, int rv, const struct error *err)
{
	struct pager	*pg = &ui->pg;

	if (!pg->loading || id != pg->fetch_id)
		return;
	if (rv == -1) {
		pg->loading = false;
		ui_error(ui, "Message %u: %s", pg->uid, err->msg);
		/* A head on the screen stays (start_whole finds no more). */
		if (pg->msg == NULL)
			ui->screen = SCREEN_INDEX;
		return;
	}
	if (show_cached(ui) == 1) {
		ui_message(ui, "%s", "");
		prefetch_next(ui);
	}
}

/*
 * Another client expunged the message being read: keep showing what was
 * read (the bytes are here), and say so, rather than vanish under the
 * reader. Next and previous go on from the index's cursor.
 */
void
pager_check_gone(struct ui *ui)
{
	struct pager	*pg = &ui->pg;
	struct cache_msg m;
	struct error	 err;

	if (pg->ua == NULL || pg->gone || pg->uid == 0 ||
	    (ui->screen != SCREEN_PAGER && !(ui->screen == SCREEN_HELP &&
	    ui->back == SCREEN_PAGER)))
		return;
	error_clear(&err);
	if (cache_msg_get(pg->ua->cache, pg->folder_id, pg->uid, &m,
	    &err) != 0)
		return;
	pg->gone = true;
	ui_message(ui, "This message was deleted on the server.");
	ui->dirty = true;
}

void
pager_refresh(struct ui *ui)
{
	struct pager	*pg = &ui->pg;

	if (ui->screen == SCREEN_PAGER && pg->text != NULL &&
	    pg->width != ui->cols)
		render(ui);
	ui->dirty = true;
}

void
pager_close(struct pager *pg)
{
	convert_cancel(&pg->job);
	mime_view_free(&pg->view);
	msgbuf_unref(&pg->msg);
	free(pg->text);
	free(pg->lines);
	free(pg->search);
	memset(pg, 0, sizeof *pg);
}

static bool
line_matches(const struct pager *pg, size_t i, const char *needle)
{
	const struct pager_line	*l = &pg->lines[i];
	size_t			 nl = strlen(needle), j, k;

	if (nl == 0 || l->len < nl)
		return false;
	for (j = 0; j + nl <= l->len; j++) {
		for (k = 0; k < nl; k++)
			if (tolower((unsigned char)pg->text[l->off + j + k]) !=
			    tolower((unsigned char)needle[k]))
				break;
		if (k == nl)
			return true;
	}
	return false;
}

static void
search_next(struct ui *ui)
{
	struct pager	*pg = &ui->pg;
	size_t		 i;

	if (pg->search == NULL) {
		ui_error(ui, "No search pattern.");
		return;
	}
	for (i = pg->top + 1; i < pg->nlines; i++) {
		if (line_matches(pg, i, pg->search)) {
			pg->top = i;
			ui->dirty = true;
			return;
		}
	}
	for (i = 0; i <= pg->top && i < pg->nlines; i++) {
		if (line_matches(pg, i, pg->search)) {
			pg->top = i;
			ui_message(ui, "Search wrapped to top.");
			ui->dirty = true;
			return;
		}
	}
	ui_error(ui, "Not found.");
}

static void
search_done(struct ui *ui, const char *text)
{
	struct pager	*pg = &ui->pg;

	if (text == NULL || *text == '\0')
		return;
	free(pg->search);
	pg->search = xstrdup(text);
	search_next(ui);
}

static void
save_att_done(struct ui *ui, const char *dir)
{
	struct pager	*pg = &ui->pg;
	struct error	 err;
	char		*path = NULL;

	if (dir == NULL || *dir == '\0' || pg->view == NULL ||
	    pg->att_cursor >= (int)pg->view->natt)
		return;
	error_clear(&err);
	if (mime_view_save(pg->view, pg->view->att[pg->att_cursor].number, dir,
	    &path, &err) == -1)
		ui_error(ui, "%s", err.msg);
	else
		ui_message(ui, "Saved %s", path);
	free(path);
}

/* Go to the next or previous message and show it. */
static void
step(struct ui *ui, int dir, bool undeleted)
{
	struct index_row	*r;
	int			 guard;

	for (guard = 0; guard < 100000; guard++) {
		if (!index_step(ui, dir)) {
			ui_message(ui, dir > 0 ? "You are on the last message." :
			    "You are on the first message.");
			return;
		}
		r = index_current(&ui->idx);
		if (r != NULL && (!undeleted || (r->flags & MSG_DELETED) == 0))
			break;
	}
	if ((r = index_current(&ui->idx)) != NULL)
		pager_open(ui, r->uid);
}

static bool
attach_function(struct ui *ui, int fn)
{
	struct pager	*pg = &ui->pg;
	int		 n = pg->view != NULL ? (int)pg->view->natt : 0;

	switch (fn) {
	case FN_NEXT_ENTRY:
		if (pg->att_cursor + 1 < n)
			pg->att_cursor++;
		break;
	case FN_PREVIOUS_ENTRY:
		if (pg->att_cursor > 0)
			pg->att_cursor--;
		break;
	case FN_SAVE_ENTRY:
		if (n > 0)
			ui_prompt(ui, "Save to directory: ", ".", false,
			    save_att_done);
		break;
	case FN_EXIT:
	case FN_QUIT:
		pg->attachments = false;
		break;
	default:
		return false;
	}
	ui->dirty = true;
	return true;
}

bool
pager_function(struct ui *ui, int fn)
{
	struct pager	*pg = &ui->pg;
	size_t		 n = (size_t)body_rows(ui);
	size_t		 last = pg->nlines > n ? pg->nlines - n : 0;

	if (pg->attachments)
		return attach_function(ui, fn);
	switch (fn) {
	case FN_NEXT_LINE:
		if (pg->top < last)
			pg->top++;
		else
			ui_message(ui, "Bottom of message is shown.");
		break;
	case FN_PREVIOUS_LINE:
		if (pg->top > 0)
			pg->top--;
		else
			ui_message(ui, "Top of message is shown.");
		break;
	case FN_NEXT_PAGE:
		if (pg->top >= last) {
			/* mutt: Space at the end goes on to the next message. */
			step(ui, 1, true);
			return true;
		}
		pg->top += n > 1 ? n - 1 : 1;
		if (pg->top > last)
			pg->top = last;
		break;
	case FN_PREVIOUS_PAGE:
		pg->top = pg->top > n - 1 ? pg->top - (n - 1) : 0;
		break;
	case FN_HALF_DOWN:
		pg->top += n / 2;
		if (pg->top > last)
			pg->top = last;
		break;
	case FN_HALF_UP:
		pg->top = pg->top > n / 2 ? pg->top - n / 2 : 0;
		break;
	case FN_TOP:
	case FN_FIRST_ENTRY:
		pg->top = 0;
		break;
	case FN_BOTTOM:
	case FN_LAST_ENTRY:
		pg->top = last;
		break;
	case FN_EXIT:
		ui->screen = SCREEN_INDEX;
		break;
	case FN_NEXT_ENTRY:
	case FN_PREVIOUS_ENTRY:
		step(ui, fn == FN_NEXT_ENTRY ? 1 : -1, false);
		break;
	case FN_NEXT_UNDELETED:
	case FN_PREVIOUS_UNDELETED:
		step(ui, fn == FN_NEXT_UNDELETED ? 1 : -1, true);
		break;
	case FN_TOGGLE_WEED:
		pg->headers_all = !pg->headers_all;
		if (pg->msg != NULL)
			render(ui);
		break;
	case FN_VIEW_ATTACHMENTS:
		if (pg->view == NULL || pg->view->natt == 0)
			ui_message(ui, "This message has no attachments.");
		else {
			pg->attachments = true;
			pg->att_cursor = 0;
		}
		break;
	case FN_SEARCH:
		ui_prompt(ui, "Search for: ", NULL, false, search_done);
		break;
	case FN_SEARCH_NEXT:
		search_next(ui);
		break;
	case FN_DELETE_MESSAGE:
	case FN_UNDELETE_MESSAGE: {
		struct index_row *r = index_current(&ui->idx);

		if (r == NULL || r->uid != pg->uid)
			break;
		if (act_flags(ui, &pg->uid, 1, fn == FN_DELETE_MESSAGE,
		    MSG_DELETED, NULL) == 0)
			step(ui, 1, true);
		break;
	}
	case FN_TOGGLE_NEW:
	case FN_FLAG_MESSAGE:
	case FN_SET_FLAG:
	case FN_CLEAR_FLAG:
	case FN_SAVE_MESSAGE:
	case FN_COPY_MESSAGE:
		return index_function(ui, fn);
	default:
		return false;
	}
	ui->dirty = true;
	return true;
}

static void
draw_attachments(struct ui *ui, int rows)
{
	struct pager	*pg = &ui->pg;
	struct buf	 b;
	int		 i;

	buf_init(&b, 0);
	for (i = 0; i < rows; i++) {
		buf_reset(&b);
		if (i < (int)pg->view->natt) {
			const struct mime_attachment *a = &pg->view->att[i];

			buf_printf(&b, "%3d %-30s %-24s %zu", a->number,
			    *a->filename != '\0' ? a->filename : "(no name)",
			    a->type, a->size);
		}
		draw_row(i, buf_cstr(&b), i == pg->att_cursor ? COL_INDICATOR :
		    COL_NORMAL);
	}
	buf_free(&b);
}

void
pager_draw(struct ui *ui)
{
	struct pager	*pg = &ui->pg;
	int		 rows = body_rows(ui), i;
	struct buf	 b;

	if (pg->text != NULL && pg->width != ui->cols)
		render(ui);
	if (pg->attachments && pg->view != NULL) {
		draw_attachments(ui, rows);
		return;
	}
	buf_init(&b, 0);
	for (i = 0; i < rows; i++) {
		size_t	li = pg->top + (size_t)i;

		if (pg->loading && pg->text == NULL && i == 0) {
			draw_row(i, "Loading...", COL_MESSAGE);
			continue;
		}
		if (pg->text == NULL || li >= pg->nlines) {
			draw_row(i, pg->text != NULL ? "~" : "", COL_TILDE);
			continue;
		}
		buf_reset(&b);
		buf_add(&b, pg->text + pg->lines[li].off, pg->lines[li].len);
		draw_row(i, buf_cstr(&b), pg->search != NULL &&
		    line_matches(pg, li, pg->search) ? COL_SEARCH :
		    pg->lines[li].color);
	}
	buf_free(&b);
}
