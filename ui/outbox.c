/*
 * The outbox screen (M): the account's mail waiting to be sent, postponed
 * drafts to file, held refusals with the server's words. j/k move, r
 * queues a held message again (and asks the session to send it now), e
 * edits a waiting one (it is held meanwhile, and replaced once the edit
 * is sent or postponed), d cancels after asking, q closes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui-private.h"
#include "xmalloc.h"

static struct {
	bool			 active;
	bool			 confirm;	/* d asked: y cancels */
	struct ui_account	*ua;
	struct cache_outbox	*rows;
	size_t			 n;
	size_t			 cursor;
} ob;

static const char *const state_names[] = {
	[CACHE_OUTBOX_QUEUED] = "queued",
	[CACHE_OUTBOX_SENT] = "sent, to file",
	[CACHE_OUTBOX_HELD] = "held",
	[CACHE_OUTBOX_DRAFT] = "draft",
};

bool
outbox_active(const struct ui *ui)
{
	(void)ui;
	return ob.active;
}

void
outbox_reload(struct ui *ui)
{
	struct error	err;

	if (!ob.active)
		return;
	cache_outbox_free(ob.rows, ob.n);
	ob.rows = NULL;
	ob.n = 0;
	error_clear(&err);
	if (cache_outbox_list(ob.ua->cache, &ob.rows, &ob.n, &err) == -1)
		ui_error(ui, "%s", err.msg);
	if (ob.cursor >= ob.n)
		ob.cursor = ob.n > 0 ? ob.n - 1 : 0;
	ui->dirty = true;
}

void
outbox_open(struct ui *ui)
{
	if (ui->idx.ua == NULL)
		return;
	ob.active = true;
	ob.ua = ui->idx.ua;
	ob.cursor = 0;
	outbox_reload(ui);
}

static void
outbox_close(void)
{
	cache_outbox_free(ob.rows, ob.n);
	memset(&ob, 0, sizeof ob);
}

static void
outbox_edit(struct ui *ui, const struct cache_outbox *row)
{
	struct cache_outbox	 o;
	struct ui_account	*ua = ob.ua;
	struct error		 err;

	if (row->state == CACHE_OUTBOX_SENT) {
		ui_error(ui, "The server has it already: only filing is left.");
		return;
	}
	error_clear(&err);
	/* Held while it is edited, so the session does not send it. */
	if (row->state == CACHE_OUTBOX_QUEUED && cache_outbox_hold(ua->cache,
	    row->id, "being edited", &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	if (cache_outbox_get(ua->cache, row->id, &o, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	outbox_close();
	compose_edit_outbox(ui, ua, o.id, o.message, o.len);
	cache_outbox_clear(&o);
}

void
outbox_key(struct ui *ui, int key)
{
	struct cache_outbox	*row = ob.n > 0 ? &ob.rows[ob.cursor] : NULL;
	struct error		 err;

	ui->dirty = true;
	error_clear(&err);
	if (ob.confirm) {
		ob.confirm = false;
		if (key == 'y' && row != NULL) {
			if (cache_outbox_remove(ob.ua->cache, row->id,
			    &err) == -1)
				ui_error(ui, "%s", err.msg);
			else
				ui_message(ui, "Cancelled: not sent.");
			outbox_reload(ui);
		}
		return;
	}
	switch (key) {
	case 'j':
	case K_DOWN:
		if (ob.cursor + 1 < ob.n)
			ob.cursor++;
		break;
	case 'k':
	case K_UP:
		if (ob.cursor > 0)
			ob.cursor--;
		break;
	case 'r':
		if (row == NULL)
			break;
		if (cache_outbox_retry(ob.ua->cache, row->id, &err) == -1)
			ui_error(ui, "%s", err.msg);
		else if (ob.ua->sess != NULL) {
			ob.ua->send_id = session_send(ob.ua->sess, row->id);
			ui_message(ui, "Sending again.");
		}
		outbox_reload(ui);
		break;
	case 'e':
		if (row != NULL)
			outbox_edit(ui, row);
		break;
	case 'd':
		if (row != NULL) {
			ob.confirm = true;
			ui_message(ui, "Cancel this message? (y/n)");
		}
		break;
	case 'q':
	case 'x':
	case 'M':
		outbox_close();
		break;
	default:
		ui_error(ui, "j/k:move r:retry e:edit d:cancel q:close");
		break;
	}
}

void
outbox_draw(struct ui *ui, int rows)
{
	char	 line[1024];
	size_t	 i;
	int	 r = 0;

	draw_clear_rows(0, rows);
	snprintf(line, sizeof line, "Outbox of %s: %zu message%s", ob.ua->acct->name,
	    ob.n, ob.n == 1 ? "" : "s");
	draw_row(r++, line, COL_MESSAGE);
	for (i = 0; i < ob.n && r < rows - 1; i++) {
		const struct cache_outbox *o = &ob.rows[i];

		snprintf(line, sizeof line, "%c %-13s %-24.24s %-30.30s %s",
		    i == ob.cursor ? '>' : ' ', o->state <= CACHE_OUTBOX_DRAFT ?
		    state_names[o->state] : "?", o->to != NULL ? o->to : "",
		    o->subject != NULL ? o->subject : "",
		    o->last_error != NULL ? o->last_error : "");
		draw_row(r++, line, i == ob.cursor ? COL_INDICATOR : COL_NORMAL);
	}
	if (r < rows)
		draw_row(rows - 1, "j/k:move  r:retry  e:edit  d:cancel  "
		    "q:close", COL_MESSAGE);
	(void)ui;
}
