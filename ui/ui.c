/*
 * The UI thread: owns the terminal, polls stdin, a signal pipe and every
 * account's session event fd, reads the cache through its own connection
 * per account, and redraws once per loop turn when something is dirty. It
 * never touches a socket and never waits on the network: a body that is not
 * cached, a sync, a replay are commands to a session, whose answers come
 * back as events.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "compose.h"
#include "ui-private.h"
#include "xmalloc.h"

#define DEFAULT_INDEX_FORMAT	"%4C %Z %{%b %d} %-15.15L (%4c) %s"
#define DEFAULT_DATE_FORMAT	"%b %d %H:%M"
/* A burst of "folder changed" events re-reads the screen at most this often. */
#define RELOAD_MS		200
/* While headers stream in: each re-read counts the folder, keep them rare. */
#define RELOAD_SYNCING_MS	500
/* Keys typed without a pause put a re-read off at most this long. */
#define RELOAD_DEFER_MAX_MS	2000

static int	sig_pipe[2] = { -1, -1 };

static void
on_signal(int sig)
{
	unsigned char	c = (unsigned char)sig;
	int		saved = errno;

	if (write(sig_pipe[1], &c, 1) == -1) {
		/* The pipe is full: a signal is waiting anyway. */
	}
	errno = saved;
}

int64_t
ui_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
vmessage(struct ui *ui, bool error, const char *fmt, va_list ap)
{
	vsnprintf(ui->msg, sizeof ui->msg, fmt, ap);
	ui->msg_error = error;
	ui->dirty = true;
}

void
ui_message(struct ui *ui, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vmessage(ui, false, fmt, ap);
	va_end(ap);
}

void
ui_error(struct ui *ui, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vmessage(ui, true, fmt, ap);
	va_end(ap);
}

void
ui_prompt(struct ui *ui, const char *label, const char *initial,
    bool complete_folders, void (*done)(struct ui *, const char *))
{
	struct prompt	*p = &ui->prompt;

	memset(p, 0, sizeof *p);
	p->active = true;
	snprintf(p->label, sizeof p->label, "%s", label);
	if (initial != NULL) {
		snprintf(p->buf, sizeof p->buf, "%s", initial);
		p->len = p->pos = strlen(p->buf);
	}
	p->complete_folders = complete_folders;
	p->complete_files = false;
	p->done = done;
	ui->dirty = true;
}

int
ui_folder_id(struct ui *ui, struct ui_account *ua, const char *name,
    int64_t *idp)
{
	struct cache_folder	f;
	struct error		err;
	int			found;

	error_clear(&err);
	found = cache_folder_get(ua->cache, name, &f, &err);
	if (found == 1)
		*idp = f.id;
	else if (found == 0)
		ui_error(ui, "No folder \"%s\" in %s.", name, ua->acct->name);
	else
		ui_error(ui, "%s", err.msg);
	return found;
}

/* ---- Sessions ---------------------------------------------------------------- */

static void
start_sync(struct ui *ui, struct ui_account *ua, const char *folder)
{
	char	*v[1];

	if (ua->sess == NULL || ua->syncing)
		return;
	v[0] = (char *)folder;
	ua->sync_id = session_sync(ua->sess, false, folder != NULL ? v : NULL,
	    folder != NULL ? 1 : 0);
	ua->syncing = true;
	ui->dirty = true;
}

static void
start_session(struct ui *ui, struct ui_account *ua)
{
	struct watch_opts wo;
	struct error	err;

	error_clear(&err);
	/* Below the UI's priority: a key is drawn first on a busy machine. */
	if ((ua->sess = engine_start(ua->acct, cache_path(ua->cache),
	    ENGINE_BACKGROUND, &err)) == NULL) {
		free(ua->last_error);
		ua->last_error = xstrdup(err.msg);
		ui_error(ui, "%s: %s", ua->acct->name, err.msg);
		return;
	}
	ua->state = SESSION_OFFLINE;
	ua->retry_s = RETRY_MIN_S;
	/* Between commands the session IDLEs: new mail shows by itself. */
	engine_watch_opts(ui->conf, ua->acct, &wo);
	session_watch_opts(ua->sess, &wo);
	session_watch(ua->sess, ui->imap_idle);
	/* The folder on screen first (IDLE there), then everything. */
	if (ui->idx.ua == ua && ui->idx.folder != NULL) {
		session_watch_folder(ua->sess, ui->idx.folder);
		start_sync(ui, ua, ui->idx.folder);
		ua->sync_all = true;
	} else
		start_sync(ui, ua, NULL);
}

/*
 * A folder was opened: bring it up to date now (mutt checks a folder when
 * it opens it), or as soon as the sync that is running ends.
 */
void
ui_sync_open_folder(struct ui *ui)
{
	struct ui_account	*ua = ui->idx.ua;

	if (ua == NULL || ua->sess == NULL || ui->offline)
		return;
	/* IDLE where the user looks (the others through NOTIFY). */
	if (ui->idx.folder != NULL)
		session_watch_folder(ua->sess, ui->idx.folder);
	if (ua->syncing)
		ua->sync_open = true;
	else
		start_sync(ui, ua, ui->idx.folder);
}

void
ui_kick(struct ui *ui, struct ui_account *ua)
{
	if (ua == NULL || ua->sess == NULL || !ua->queue)
		return;
	session_replay(ua->sess);
}

/* The password, asked on the terminal by password_command or here. */
static void
password_typed(struct ui *ui, const char *text)
{
	struct ui_account	*ua = ui->pw_ask;
	struct error		 err;

	ui->pw_ask = NULL;
	if (ua == NULL || ua->sess == NULL)
		return;
	if (text == NULL) {
		error_set(&err, ERR_AUTH, "no password given");
		session_password_error(ua->sess, &err);
	} else
		session_password(ua->sess, text);
	explicit_bzero(ui->prompt.buf, sizeof ui->prompt.buf);
}

/*
 * The SMTP server's own secret (smtp_password or smtp_password_command,
 * which gets the terminal as password_command does).
 */
static void
smtp_password_wanted(struct ui *ui, struct ui_account *ua,
    const struct session_event *ev)
{
	bool	command = conf_get(NULL, ua->acct, "smtp_password") == NULL;

	if (command)
		draw_suspend();
	engine_answer_password(ua->sess, ev);
	if (command)
		draw_resume();
	ui->dirty = true;
}

static void
password_wanted(struct ui *ui, struct ui_account *ua)
{
	struct error	 err;
	char		*pw = NULL;
	char		 label[256];

	if (ua->acct->password == NULL && ua->acct->password_command == NULL &&
	    ua->acct->oauth2_token_command == NULL) {
		if (ui->prompt.active) {
			/* Ask when the line is free again. */
			error_set(&err, ERR_AUTH, "no password (another prompt "
			    "was open)");
			session_password_error(ua->sess, &err);
			return;
		}
		ui->pw_ask = ua;
		snprintf(label, sizeof label, "Password for %s@%s: ",
		    ua->acct->user, ua->acct->host);
		ui_prompt(ui, label, NULL, false, password_typed);
		ui->prompt.secret = true;
		return;
	}
	/*
	 * password_command may ask on the terminal (pass with a curses
	 * pinentry): hand it the terminal, as to an editor, and take it back.
	 */
	error_clear(&err);
	if (ua->acct->password == NULL)
		draw_suspend();
	if (account_password(ua->acct, &pw, &err) == -1)
		session_password_error(ua->sess, &err);
	else
		session_password(ua->sess, pw);
	freezero_str(pw);
	if (ua->acct->password == NULL)
		draw_resume();
	ui->dirty = true;
}

/* Quota this full or more: say so once (until it drops below again). */
#define QUOTA_WARN_PERCENT	90

static void
quota_check(struct ui *ui, struct ui_account *ua)
{
	struct engine_quota	q;

	if (engine_quota(ua->cache, &q) != 1 || q.percent < QUOTA_WARN_PERCENT) {
		ua->quota_warned = false;
		return;
	}
	if (ua->quota_warned)
		return;
	ua->quota_warned = true;
	if (q.storage && q.storage_limit > 0)
		ui_error(ui, "%s: the mailbox is %d%% full (%llu of %llu KiB)",
		    ua->acct->name, q.percent,
		    (unsigned long long)q.storage_used,
		    (unsigned long long)q.storage_limit);
	else
		ui_error(ui, "%s: the mailbox is %d%% full", ua->acct->name,
		    q.percent);
}

static bool	index_stale, folders_stale;
static int64_t	last_reload;

static void
handle_event(struct ui *ui, struct ui_account *ua, struct session_event *ev)
{
	switch (ev->type) {
	case SESSION_EV_STATE:
		ua->state = ev->state;
		if (ev->state == SESSION_ONLINE)
			ua->retry_s = RETRY_MIN_S;
		break;
	case SESSION_EV_PASSWORD:
		if (ev->text != NULL && strcmp(ev->text, "smtp") == 0)
			smtp_password_wanted(ui, ua, ev);
		else
			password_wanted(ui, ua);
		break;
	case SESSION_EV_PROGRESS:
		free(ua->progress_folder);
		ua->progress_folder = ev->folder != NULL ? xstrdup(ev->folder) :
		    NULL;
		ua->progress_done = ev->done;
		ua->progress_total = ev->total;
		break;
	case SESSION_EV_FOLDER:
		if (ua == ui->idx.ua && ev->folder != NULL &&
		    ui->idx.folder != NULL &&
		    strcmp(ev->folder, ui->idx.folder) == 0)
			index_stale = true;
		folders_stale = true;
		break;
	case SESSION_EV_TRUST:
		if (ev->cert != NULL)
			trust_wanted(ui, ua, ev->cert);
		break;
	case SESSION_EV_NOTICE:
		if (ev->text != NULL)
			ui_message(ui, "%s: %s", ua->acct->name, ev->text);
		break;
	case SESSION_EV_NEWMAIL:
		if (ui->naccts > 1)
			ui_message(ui, "New mail in %s/%s (%llu): %s",
			    ua->acct->name, ev->folder,
			    (unsigned long long)ev->count, ev->text);
		else
			ui_message(ui, "New mail in %s (%llu): %s", ev->folder,
			    (unsigned long long)ev->count, ev->text);
		if (ui->new_mail_bell)
			draw_bell();
		folders_stale = true;
		break;
	case SESSION_EV_BODY_HEAD:
		if (ev->id == ui->pg.fetch_id && ui->pg.ua == ua)
			pager_body_head(ui, ev->id);
		break;
	case SESSION_EV_DONE:
		/* A send may have emptied the outbox on screen. */
		outbox_reload(ui);
		if (ev->id == ua->send_id) {
			/* The SMTP server's failure, not the account's
			 * connection: no reconnecting for it. */
			ua->send_id = 0;
			if (ev->rv == -1)
				ui_error(ui, "not sent yet (in the outbox, M): "
				    "%s", ev->err.msg);
			break;
		}
		if (ev->id == ui->pg.fetch_id && ui->pg.ua == ua)
			pager_body_done(ui, ev->id, ev->rv, &ev->err);
		compose_body_done(ui, ua, ev->id, ev->rv, &ev->err);
		if (ev->id == ua->sync_id) {
			if (ev->rv == 0)
				quota_check(ui, ua);
			ua->syncing = false;
			ua->sync_id = 0;
			free(ua->progress_folder);
			ua->progress_folder = NULL;
			index_stale = folders_stale = true;
			if (ua->sync_open && ev->rv == 0) {
				ua->sync_open = false;
				if (ui->idx.ua == ua)
					start_sync(ui, ua, ui->idx.folder);
			}
			if (ua->sync_all && !ua->syncing && ev->rv == 0) {
				ua->sync_all = false;
				start_sync(ui, ua, NULL);
			}
		}
		if (ev->rv == -1) {
			free(ua->last_error);
			ua->last_error = xstrdup(ev->err.msg);
			if (ev->err.cls == ERR_TLS && ua->tls_blocked)
				ui_error(ui, "%s: %s", ua->acct->name,
				    ev->err.msg);
			else if (ev->err.cls == ERR_TRANSIENT ||
			    ev->err.cls == ERR_TLS) {
				ua->retry_at = ui_now_ms() +
				    (int64_t)ua->retry_s * 1000;
				if (ua->retry_s < RETRY_MAX_S)
					ua->retry_s *= 2;
			} else
				ui_error(ui, "%s: %s", ua->acct->name,
				    ev->err.msg);
		} else if (ev->stats.replay.failed > 0 ||
		    ev->stats.replay.dropped > 0) {
			index_stale = folders_stale = true;
		}
		break;
	case SESSION_EV_ENDED:
		ui_error(ui, "%s: the session ended: %s", ua->acct->name,
		    ev->err.cls != ERR_NONE ? ev->err.msg : "no reason");
		engine_stop(&ua->sess);
		ua->syncing = false;
		ua->state = SESSION_OFFLINE;
		ua->retry_at = ui_now_ms() + (int64_t)ua->retry_s * 1000;
		break;
	}
	ui->dirty = true;
}

bool
ui_key_waiting(void)
{
	struct pollfd	pfd = { STDIN_FILENO, POLLIN, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

static int
reload_ms(struct ui *ui)
{
	return ui->idx.ua != NULL && ui->idx.ua->syncing ? RELOAD_SYNCING_MS :
	    RELOAD_MS;
}

/*
 * A key typed meanwhile goes before a re-read of the index (which counts
 * the folder: tens of milliseconds on a large one while a sync writes),
 * unless the re-read has waited RELOAD_DEFER_MAX_MS already.
 */
static bool
input_first(int64_t now)
{
	if (now - last_reload >= RELOAD_DEFER_MAX_MS)
		return false;
	return ui_key_waiting();
}

/*
 * The index and folder list re-read when a session said they changed, at
 * most every reload_ms(). Not in a turn that handled a key (keyed): that
 * key's screen is drawn first.
 */
static void
reload_stale(struct ui *ui, bool keyed)
{
	int64_t	now = ui_now_ms();

	if (!(index_stale || folders_stale) || now - last_reload < reload_ms(ui))
		return;
	if (keyed || input_first(now))
		return;
	/*
	 * A key typed during the re-read ends its reads (they walk the
	 * folder's index: tens of milliseconds on 100,000 while a sync
	 * commits); it goes first and the re-read comes again after it,
	 * unless it has waited RELOAD_DEFER_MAX_MS already.
	 */
	if (index_stale) {
		if (!index_refresh(ui, now - last_reload < RELOAD_DEFER_MAX_MS))
			return;
		pager_check_gone(ui);
	}
	/* Out of sight, the list is re-read when it is shown. */
	if (folders_stale && folders_shown(ui))
		folders_load(ui);
	index_stale = folders_stale = false;
	last_reload = now;
}

/* How long the loop may sleep before reload_stale() is due. */
static int
reload_wait(struct ui *ui)
{
	int64_t	left;

	if (!(index_stale || folders_stale))
		return -1;
	left = last_reload + reload_ms(ui) - ui_now_ms();
	return left < 0 ? 0 : (int)left;
}

static void
timers(struct ui *ui)
{
	int64_t	now = ui_now_ms();
	int	i;

	for (i = 0; i < ui->naccts; i++) {
		struct ui_account *ua = &ui->accts[i];

		if (ui->offline)
			continue;
		if (ua->sess == NULL && ua->retry_at != 0 &&
		    now >= ua->retry_at) {
			ua->retry_at = 0;
			start_session(ui, ua);
			continue;
		}
		if (ua->sess == NULL || ua->syncing)
			continue;
		if (ua->retry_at != 0 && now >= ua->retry_at) {
			ua->retry_at = 0;
			start_sync(ui, ua, ui->idx.ua == ua ? ui->idx.folder :
			    NULL);
		} else if (ua->retry_at == 0 && now >= ui->next_check) {
			start_sync(ui, ua, NULL);
		}
	}
	if (now >= ui->next_check)
		ui->next_check = now + (int64_t)ui->check_interval * 1000;
}

/* ---- Drawing ----------------------------------------------------------------- */

static void
number(struct buf *b, uint64_t n)
{
	char	tmp[32], out[48];
	int	len, i, j = 0;

	len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[j++] = ',';
		out[j++] = tmp[i];
	}
	out[j] = '\0';
	buf_adds(b, out);
}

static void
connection_state(struct ui *ui, struct ui_account *ua, struct buf *b)
{
	int64_t	now = ui_now_ms(), pend, out;

	/* Pending first: a long server error is what gets cut off. */
	if ((pend = cache_pending_count(ua->cache)) > 0)
		buf_printf(b, "%lld pending, ", (long long)pend);
	if ((out = cache_outbox_count(ua->cache, -1)) > 0)
		buf_printf(b, "%lld to send, ", (long long)out);
	if (ui->offline)
		buf_adds(b, "offline (--offline)");
	else if (ua->sess == NULL && ua->retry_at == 0)
		buf_adds(b, "offline");
	else if (ua->retry_at != 0) {
		buf_printf(b, "offline, reconnecting in %lld s",
		    (long long)((ua->retry_at - now + 999) / 1000));
		if (ua->last_error != NULL)
			buf_printf(b, ": %s", ua->last_error);
	} else if (ua->syncing && ua->progress_folder != NULL &&
	    ua->progress_total > 0) {
		buf_printf(b, "syncing %s ", ua->progress_folder);
		number(b, ua->progress_done);
		buf_adds(b, "/");
		number(b, ua->progress_total);
	} else if (ua->state == SESSION_CONNECTING)
		buf_adds(b, "connecting");
	else if (ua->syncing)
		buf_adds(b, "syncing");
	else if (ua->state == SESSION_ONLINE)
		buf_adds(b, "online");
	else
		buf_adds(b, "offline");
}

static void
draw_status(struct ui *ui, int row)
{
	struct index	*ix = &ui->idx;
	struct buf	 b;

	buf_init(&b, 0);
	if (ix->ua == NULL) {
		buf_adds(&b, "--- petrel: no folder open");
	} else if (ui->screen == SCREEN_PAGER) {
		struct index_row *r = index_current(ix);
		int pct = ui->pg.nlines == 0 ? 100 :
		    (int)((ui->pg.top + (size_t)(ui->rows - 2)) * 100 /
		    ui->pg.nlines);

		buf_printf(&b, "--- petrel: %s/%s: %u", ix->ua->acct->name,
		    ix->folder, ui->pg.uid);
		if (r != NULL && r->uid == ui->pg.uid)
			buf_printf(&b, ": %s", r->subject);
		buf_printf(&b, " -- (%s)", pct >= 100 ? "end" : "");
		if (pct < 100) {
			b.len -= 1;
			buf_printf(&b, "%d%%)", pct);
		}
		if (ui->pg.partial)
			buf_printf(&b, " -- the first %zu KB: %s the rest",
			    ui->pg.msg->len / 1024, ui->pg.loading ?
			    "loading" : "rendering");
		if (ui->pg.gone)
			buf_adds(&b, " -- deleted on the server");
	} else if (ui->screen == SCREEN_FOLDERS) {
		buf_printf(&b, "--- petrel: folders of %d account%s",
		    ui->naccts, ui->naccts == 1 ? "" : "s");
	} else if (ui->screen == SCREEN_HELP) {
		buf_adds(&b, "--- petrel: help (q to leave)");
	} else {
		buf_printf(&b, "--- petrel: %s/%s [Msgs:%lld New:%lld",
		    ix->ua->acct->name, ix->folder, (long long)ix->total,
		    (long long)ix->unread);
		if (ix->ntagged > 0)
			buf_printf(&b, " Tag:%lld", (long long)ix->ntagged);
		if (ix->limit != NULL)
			buf_printf(&b, " Lim:%lld", (long long)ix->shown);
		buf_printf(&b, "] (%s%s)", ix->view.reverse ? "reverse-" : "",
		    cache_sort_name(ix->view.sort));
		if (ix->limit_text != NULL)
			buf_printf(&b, " (limit: %s)", ix->limit_text);
	}
	if (ix->ua != NULL) {
		buf_adds(&b, " --- ");
		connection_state(ui, ix->ua, &b);
	}
	buf_adds(&b, " ---");
	draw_row(row, buf_cstr(&b), COL_STATUS);
	buf_free(&b);
}

static void
draw_bottom(struct ui *ui, int row)
{
	struct prompt	*p = &ui->prompt;
	struct buf	 b;
	size_t		 i;

	if (!p->active) {
		draw_row(row, ui->msg, ui->msg_error ? COL_ERROR : COL_MESSAGE);
		draw_cursor(0, 0, false);
		return;
	}
	buf_init(&b, 0);
	buf_adds(&b, p->label);
	if (p->secret) {
		for (i = 0; i < p->len; i++)
			if (((unsigned char)p->buf[i] & 0xc0) != 0x80)
				buf_addc(&b, '*');
	} else
		buf_add(&b, p->buf, p->len);
	draw_row(row, buf_cstr(&b), COL_MESSAGE);
	draw_cursor(row, text_width(b.data, b.len) < ui->cols ?
	    text_width(b.data, b.len) : ui->cols - 1, true);
	buf_free(&b);
}

static void
draw_help(struct ui *ui, int rows)
{
	enum ui_menu	 m = ui->back == SCREEN_PAGER ? MENU_PAGER :
	    ui->back == SCREEN_FOLDERS ? MENU_BROWSER : MENU_INDEX;
	char		**lines;
	size_t		 n, i;
	int		 r;

	lines = keys_help(m, &n);
	if (ui->help_top > (int)n - 1)
		ui->help_top = n > 0 ? (int)n - 1 : 0;
	for (r = 0; r < rows; r++) {
		i = (size_t)(ui->help_top + r);
		draw_row(r, i < n ? lines[i] : "", COL_NORMAL);
	}
	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

static void
redraw(struct ui *ui)
{
	int	body = ui->rows - 2;

	if (body < 1) {
		draw_row(0, "Terminal too small.", COL_ERROR);
		draw_flush();
		return;
	}
	switch (ui->screen) {
	case SCREEN_INDEX:
		if (ui->sidebar && ui->cols > ui->sidebar_width + 20) {
			int w = ui->sidebar_width, r;

			folders_draw(ui, 0, 0, body, w, true);
			for (r = 0; r < body; r++)
				draw_text(r, w, 1, "|", COL_SIDEBAR_DIVIDER);
			index_draw(ui, 0, w + 1, body, ui->cols - w - 1);
		} else
			index_draw(ui, 0, 0, body, ui->cols);
		break;
	case SCREEN_PAGER:
		pager_draw(ui);
		break;
	case SCREEN_FOLDERS:
		folders_draw(ui, 0, 0, body, ui->cols, false);
		break;
	case SCREEN_HELP:
		draw_help(ui, body);
		break;
	}
	if (outbox_active(ui))
		outbox_draw(ui, body);
	if (compose_active(ui))
		compose_draw(ui, body);
	if (trust_active(ui))
		trust_draw(ui, body);
	draw_status(ui, ui->rows - 2);
	draw_bottom(ui, ui->rows - 1);
	draw_flush();
	ui->dirty = false;
}

/* ---- Keys ---------------------------------------------------------------------- */

static void
prompt_key(struct ui *ui, int key)
{
	struct prompt	*p = &ui->prompt;
	void		(*done)(struct ui *, const char *) = p->done;
	char		 text[sizeof p->buf];

	ui->dirty = true;
	if (key == K_ENTER) {
		memcpy(text, p->buf, p->len);
		text[p->len] = '\0';
		explicit_bzero(p->buf, sizeof p->buf);
		p->active = false;
		ui->msg[0] = '\0';
		done(ui, text);
		explicit_bzero(text, sizeof text);
		return;
	}
	if (key == K_ESC || key == K_CTRL('g')) {
		explicit_bzero(p->buf, sizeof p->buf);
		p->active = false;
		ui->msg[0] = '\0';
		done(ui, NULL);
		return;
	}
	if (key == K_BACKSPACE) {
		while (p->len > 0) {
			p->len--;
			if (((unsigned char)p->buf[p->len] & 0xc0) != 0x80)
				break;
		}
		return;
	}
	if (key == K_CTRL('u')) {
		p->len = 0;
		return;
	}
	if (key == '\t' && (p->complete_folders || p->complete_files)) {
		char	*c;

		p->buf[p->len] = '\0';
		if ((c = p->complete_files ? complete_path(p->buf) :
		    folders_complete(ui, p->buf)) != NULL) {
			snprintf(p->buf, sizeof p->buf, "%s", c);
			p->len = strlen(p->buf);
			free(c);
		}
		return;
	}
	if (key >= 0x20 && key < K_SPECIAL) {
		char	u[4];
		size_t	n;

		if (key < 0x80) {
			u[0] = (char)key;
			n = 1;
		} else if (key < 0x800) {
			u[0] = (char)(0xc0 | (key >> 6));
			u[1] = (char)(0x80 | (key & 0x3f));
			n = 2;
		} else if (key < 0x10000) {
			u[0] = (char)(0xe0 | (key >> 12));
			u[1] = (char)(0x80 | ((key >> 6) & 0x3f));
			u[2] = (char)(0x80 | (key & 0x3f));
			n = 3;
		} else {
			u[0] = (char)(0xf0 | (key >> 18));
			u[1] = (char)(0x80 | ((key >> 12) & 0x3f));
			u[2] = (char)(0x80 | ((key >> 6) & 0x3f));
			u[3] = (char)(0x80 | (key & 0x3f));
			n = 4;
		}
		if (p->len + n < sizeof p->buf) {
			memcpy(p->buf + p->len, u, n);
			p->len += n;
		}
	}
}

static void
generic_function(struct ui *ui, int fn)
{
	switch (fn) {
	case FN_QUIT:
		ui->quit = true;
		break;
	case FN_EXIT:
		if (ui->screen == SCREEN_INDEX)
			ui->quit = true;
		break;
	case FN_HELP:
		if (ui->screen != SCREEN_HELP) {
			ui->back = ui->screen;
			ui->screen = SCREEN_HELP;
			ui->help_top = 0;
		}
		break;
	case FN_REDRAW:
		draw_resize();
		break;
	case FN_BROWSE_FOLDERS:
		folders_load(ui);
		folders_point_at_current(ui);
		ui->screen = SCREEN_FOLDERS;
		break;
	case FN_CHANGE_FOLDER:
		folders_load(ui);
		folders_point_at_current(ui);
		ui->screen = SCREEN_FOLDERS;
		folders_function(ui, FN_CHANGE_FOLDER);
		break;
	case FN_SIDEBAR_TOGGLE:
		ui->sidebar = !ui->sidebar;
		if (ui->sidebar)
			folders_load(ui);
		break;
	case FN_MAIL:
	case FN_REPLY:
	case FN_GROUP_REPLY:
	case FN_LIST_REPLY:
	case FN_FORWARD_MESSAGE:
	case FN_RECALL_MESSAGE:
		compose_start(ui, fn == FN_MAIL ? COMPOSE_NEW : fn == FN_REPLY ?
		    COMPOSE_REPLY : fn == FN_GROUP_REPLY ? COMPOSE_GROUP :
		    fn == FN_LIST_REPLY ? COMPOSE_LIST : fn == FN_RECALL_MESSAGE ?
		    COMPOSE_RESUME : COMPOSE_FORWARD);
		break;
	case FN_OUTBOX:
		outbox_open(ui);
		break;
	case FN_CHECK: {
		int i;

		for (i = 0; i < ui->naccts; i++) {
			ui->accts[i].retry_at = 0;
			if (ui->accts[i].sess == NULL && !ui->offline)
				start_session(ui, &ui->accts[i]);
			else
				start_sync(ui, &ui->accts[i], NULL);
		}
		ui_message(ui, "Checking for new mail...");
		break;
	}
	case FN_NONE:
		break;
	default:
		ui_error(ui, "Key is not bound here. Press '?' for help.");
		break;
	}
	ui->dirty = true;
}

/*
 * ^Z (the terminal is raw, so it is a key): give the terminal back and
 * stop, as an editor would; when the shell continues us (fg), take it
 * again and redraw. SIGSTOP rather than SIGTSTP: the kernel drops SIGTSTP
 * sent to an orphaned process group (no job-control shell above), and
 * ncurses keeps a handler of its own for it. The sessions stop with us
 * and go on after; a connection that timed out meanwhile reconnects.
 */
static void
ui_suspend(struct ui *ui)
{
	draw_suspend();
	fputs("petrel: stopped; fg to go on\r\n", stderr);
	kill(getpid(), SIGSTOP);
	draw_resume();
	draw_size(&ui->rows, &ui->cols);
	index_reload(ui);
	ui->dirty = true;
}

static void
handle_key(struct ui *ui, int key)
{
	enum ui_menu	m;
	int		fn;

	if (key == K_RESIZE) {
		draw_size(&ui->rows, &ui->cols);
		index_reload(ui);
		ui->dirty = true;
		return;
	}
	if (key == K_CTRL('z')) {
		ui_suspend(ui);
		return;
	}
	if (trust_active(ui)) {
		trust_key(ui, key);
		return;
	}
	if (ui->prompt.active) {
		prompt_key(ui, key);
		return;
	}
	if (compose_active(ui)) {
		compose_key(ui, key);
		return;
	}
	if (outbox_active(ui)) {
		outbox_key(ui, key);
		return;
	}
	/*
	 * Esc typed on its own is a prefix, as in mutt: the next key is its
	 * meta form (a terminal's Alt-v arrives as one Esc-v already).
	 */
	if (key == K_ESC) {
		ui->esc_prefix = true;
		return;
	}
	if (ui->esc_prefix) {
		ui->esc_prefix = false;
		if ((key & K_META) == 0)
			key |= K_META;
	}
	if (!ui->tag_prefix)
		ui->msg[0] = '\0';
	switch (ui->screen) {
	case SCREEN_PAGER:
		m = ui->pg.attachments ? MENU_ATTACH : MENU_PAGER;
		break;
	case SCREEN_FOLDERS:
		m = MENU_BROWSER;
		break;
	case SCREEN_HELP:
		m = MENU_GENERIC;
		break;
	default:
		m = MENU_INDEX;
		break;
	}
	fn = keys_lookup(m, key);
	ui->dirty = true;
	if (ui->screen == SCREEN_HELP) {
		if (fn == FN_EXIT || fn == FN_QUIT || fn == FN_HELP)
			ui->screen = ui->back;
		else if (fn == FN_NEXT_ENTRY)
			ui->help_top++;
		else if (fn == FN_PREVIOUS_ENTRY && ui->help_top > 0)
			ui->help_top--;
		else if (fn == FN_NEXT_PAGE)
			ui->help_top += ui->rows - 3;
		else if (fn == FN_PREVIOUS_PAGE)
			ui->help_top = ui->help_top > ui->rows - 3 ?
			    ui->help_top - (ui->rows - 3) : 0;
		return;
	}
	if (ui->screen == SCREEN_PAGER && pager_function(ui, fn))
		return;
	if (ui->screen == SCREEN_FOLDERS && folders_function(ui, fn))
		return;
	if (ui->screen == SCREEN_INDEX && ui->idx.ua != NULL &&
	    index_function(ui, fn))
		return;
	generic_function(ui, fn);
}

/* ---- Start and loop -------------------------------------------------------------- */

static void
read_options(struct ui *ui, struct buf *errors)
{
	struct conf	*conf = ui->conf;
	struct error	 err;
	const char	*s;
	int		 i;

	ui->index_format = xstrdup((s = conf_get(conf, NULL,
	    "index_format")) != NULL ? s : DEFAULT_INDEX_FORMAT);
	ui->date_format = xstrdup((s = conf_get(conf, NULL,
	    "date_format")) != NULL ? s : DEFAULT_DATE_FORMAT);
	ui->sidebar = (s = conf_get(conf, NULL, "sidebar_visible")) != NULL &&
	    strcmp(s, "yes") == 0;
	ui->sidebar_width = (s = conf_get(conf, NULL, "sidebar_width")) != NULL ?
	    atoi(s) : 30;
	if (ui->sidebar_width < 10 || ui->sidebar_width > 200)
		ui->sidebar_width = 30;
	ui->check_interval = (s = conf_get(conf, NULL, "check_interval")) !=
	    NULL ? atoi(s) : 60;
	if (ui->check_interval < 5)
		ui->check_interval = 5;
	s = conf_get(conf, NULL, "imap_idle");
	ui->imap_idle = s == NULL || strcmp(s, "no") != 0;
	s = conf_get(conf, NULL, "new_mail_bell");
	ui->new_mail_bell = s != NULL && strcmp(s, "yes") == 0;
	keys_defaults();
	for (i = 0; i < conf->nkeys; i++) {
		int rv = 0;

		error_clear(&err);
		if (strcmp(conf->keys[i], "bind") == 0)
			rv = keys_bind_line(conf->values[i], &err);
		else if (strcmp(conf->keys[i], "color") == 0)
			rv = draw_color_line(conf->values[i], &err);
		if (rv == -1) {
			if (errors->len > 0)
				buf_adds(errors, "; ");
			buf_printf(errors, "%s", err.msg);
		}
	}
}

static int
open_accounts(struct ui *ui, struct error *err)
{
	int	i;

	ui->naccts = ui->conf->naccounts;
	ui->accts = xcalloc((size_t)ui->naccts, sizeof *ui->accts);
	for (i = 0; i < ui->naccts; i++) {
		struct ui_account	*ua = &ui->accts[i];
		const char		*self;

		ua->acct = ui->conf->accounts[i];
		ua->queue = ua->acct->proto != PROTO_POP3;
		if ((self = conf_get(ui->conf, ua->acct, "from")) != NULL)
			ua->self = xstrdup(self);
		else if (ua->acct->user != NULL &&
		    strchr(ua->acct->user, '@') != NULL)
			ua->self = xstrdup(ua->acct->user);
		if (cache_open(ua->acct->name, ua->acct->proto == PROTO_POP3 ?
		    CACHE_DURABLE : 0, &ua->cache, err) == -1)
			return -1;
	}
	return 0;
}

/* Logging goes to a file (PETREL_LOG) or nowhere: never to the screen. */
static void
log_to_file(void *arg, enum log_level level, const char *line)
{
	FILE	*f = arg;

	if (f != NULL) {
		fprintf(f, "%s\n", line);
		fflush(f);
	}
}

int
ui_main(struct conf *conf, const struct ui_opts *o)
{
	struct ui		 ui;
	struct error		 err;
	struct buf		 errors;
	struct sigaction	 sa;
	struct pollfd		*pfd;
	FILE			*logf = NULL;
	const char		*s;
	int			 i, rv = 0;

	memset(&ui, 0, sizeof ui);
	/* A password may be typed into the prompt: keep it out of swap. */
	if (mlock(ui.prompt.buf, sizeof ui.prompt.buf) == -1)
		log_debug("ui: cannot lock the prompt's memory");
	ui.conf = conf;
	ui.offline = o->offline;
	ui.idx.cursor = -1;
	buf_init(&errors, 0);
	error_clear(&err);
	read_options(&ui, &errors);
	if (o->render != NULL)
		ui.ropts = *o->render;
	if (open_accounts(&ui, &err) == -1) {
		fprintf(stderr, "petrel: %s\n", err.msg);
		rv = 1;
		goto out;
	}
	if ((s = getenv("PETREL_LOG")) != NULL)
		logf = fopen(s, "a");
	log_set_callback(log_to_file, logf);

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		fprintf(stderr, "petrel: pipe: %s\n", strerror(errno));
		rv = 1;
		goto out;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (draw_init(&err) == -1) {
		fprintf(stderr, "petrel: %s\n", err.msg);
		rv = 1;
		goto out;
	}
	draw_size(&ui.rows, &ui.cols);

	/* The first folder, from the cache, before any network. */
	{
		struct ui_account	*ua = &ui.accts[0];
		const char		*folder = o->folder != NULL ? o->folder :
		    "INBOX";

		for (i = 0; o->account != NULL && i < ui.naccts; i++)
			if (strcmp(ui.accts[i].acct->name, o->account) == 0)
				ua = &ui.accts[i];
		if (o->account != NULL && strcmp(ua->acct->name,
		    o->account) != 0)
			ui_error(&ui, "No account \"%s\".", o->account);
		else if (index_open(&ui, ua, folder) == -1) {
			/* Not cached yet: it shows when the sync brings it. */
			ui.idx.ua = ua;
			ui.idx.folder = xstrdup(folder);
			ui.idx.folder_id = -1;
			ui_message(&ui, "%s is not in the cache yet.", folder);
		}
	}
	folders_load(&ui);
	if (errors.len > 0)
		ui_error(&ui, "config: %s", buf_cstr(&errors));
	if (!ui.offline)
		for (i = 0; i < ui.naccts; i++)
			start_session(&ui, &ui.accts[i]);
	ui.next_check = ui_now_ms() + (int64_t)ui.check_interval * 1000;

	pfd = xcalloc((size_t)ui.naccts + 3, sizeof *pfd);
	ui.dirty = true;
	while (!ui.quit) {
		int	n = 0, timeout, key;
		bool	keyed;

		/* A folder that was not cached at start: open it once it is. */
		if (ui.idx.folder_id == -1 && ui.idx.ua != NULL) {
			struct cache_folder	f;
			struct ui_account	*ua = ui.idx.ua;
			char			*name = xstrdup(ui.idx.folder);

			error_clear(&err);
			if (cache_folder_get(ua->cache, name, &f, &err) == 1) {
				free(ui.idx.folder);
				ui.idx.folder = NULL;
				index_open(&ui, ua, name);
				/* "not in the cache yet" is over; an error stays. */
				if (!ui.msg_error)
					ui.msg[0] = '\0';
			}
			free(name);
		}
		/* The pager was left: its converter is not wanted any more. */
		if (ui.screen != SCREEN_PAGER &&
		    !(ui.screen == SCREEN_HELP && ui.back == SCREEN_PAGER)) {
			convert_cancel(&ui.pg.job);
			ui.pg.convert_wanted = false;
		}
		if (ui.dirty)
			redraw(&ui);
		/* After the built-in text is on the screen, not before. */
		if (ui.screen == SCREEN_PAGER)
			pager_convert_start(&ui);
		pfd[n].fd = STDIN_FILENO;
		pfd[n++].events = POLLIN;
		pfd[n].fd = sig_pipe[0];
		pfd[n++].events = POLLIN;
		for (i = 0; i < ui.naccts; i++) {
			pfd[n].fd = ui.accts[i].sess != NULL ?
			    session_event_fd(ui.accts[i].sess) : -1;
			pfd[n++].events = POLLIN;
		}
		pfd[n].fd = pager_convert_fd(&ui);
		pfd[n++].events = POLLIN;
		/* Wake every second: the status line counts down retries. */
		timeout = reload_wait(&ui);
		if (timeout == -1 || timeout > 1000)
			timeout = 1000;
		if (poll(pfd, (nfds_t)n, timeout) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents & POLLIN) {
			unsigned char	sig;

			while (read(sig_pipe[0], &sig, 1) == 1) {
				if (sig == SIGWINCH) {
					draw_resize();
					draw_size(&ui.rows, &ui.cols);
					index_reload(&ui);
				} else
					ui.quit = true;
			}
			ui.dirty = true;
		}
		keyed = false;
		while ((key = draw_key()) != K_NONE && !ui.quit) {
			handle_key(&ui, key);
			keyed = true;
		}
		for (i = 0; i < ui.naccts; i++) {
			struct session_event	*ev;
			struct ui_account	*ua = &ui.accts[i];

			while (ua->sess != NULL &&
			    (ev = session_event(ua->sess)) != NULL) {
				handle_event(&ui, ua, ev);
				session_event_free(ev);
			}
		}
		if (pfd[n - 1].revents & POLLIN)
			pager_convert_done(&ui);
		reload_stale(&ui, keyed);
		timers(&ui);
		/* Time passes on the status line while offline or syncing. */
		for (i = 0; i < ui.naccts; i++)
			if (ui.accts[i].retry_at != 0)
				ui.dirty = true;
	}
	free(pfd);
	draw_end();
out:
	for (i = 0; i < ui.naccts; i++) {
		struct ui_account *ua = &ui.accts[i];

		if (ua->sess != NULL)
			engine_stop(&ua->sess);
		cache_close(&ua->cache);
		free(ua->progress_folder);
		free(ua->last_error);
		free(ua->self);
	}
	free(ui.accts);
	index_close(&ui.idx);
	pager_close(&ui.pg);
	convert_wait_all(1000);
	folders_free(&ui.fl);
	free(ui.fl.rows);
	for (i = 0; i < ui.fl.ncollapsed; i++)
		free(ui.fl.collapsed[i]);
	free(ui.fl.collapsed);
	free(ui.index_format);
	free(ui.date_format);
	buf_free(&errors);
	log_set_callback(NULL, NULL);
	if (logf != NULL)
		fclose(logf);
	if (sig_pipe[0] != -1) {
		close(sig_pipe[0]);
		close(sig_pipe[1]);
	}
	explicit_bzero(ui.prompt.buf, sizeof ui.prompt.buf);
	munlock(ui.prompt.buf, sizeof ui.prompt.buf);
	return rv;
}
