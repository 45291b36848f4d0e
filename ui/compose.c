/*
 * Writing mail in the TUI: m (new), r (reply), g (group reply), L (list
 * reply), f (forward). The draft goes to $VISUAL or $EDITOR in a private
 * file (the editor gets the terminal, as ^Z would give it); then the
 * compose screen shows it: y sends (into the outbox, then the session
 * sends it in the background), e edits again, a attaches a file, q
 * aborts (asking first). Nothing typed is lost: an editor that fails, a
 * header that does not parse or a file that cannot be attached leaves the
 * draft on this screen with the reason.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "compose.h"
#include "log.h"
#include "mime.h"
#include "ui-private.h"
#include "xmalloc.h"

#define COMPOSE_PARTS_MAX	32

struct compose {
	bool			 active;
	bool			 confirm_abort;
	struct ui_account	*ua;
	enum compose_kind	 kind;
	struct compose_draft	 d;
	char			*path;		/* the editor's file */
	int64_t			 orig_folder;	/* answered: flag it after */
	uint32_t		 orig_uid;
	bool			 orig_draft;	/* resumed from the drafts folder:
						   deleted there once sent */
	int64_t			 replaces;	/* the outbox row it was edited
						   from: gone once sent */
	char			*parts[COMPOSE_PARTS_MAX];
	size_t			 nparts;
	/* A resumed message's attachments, saved here to go again. */
	char			*resume_dir;
	char			*fwd;		/* forwarded whole (mime_forward) */
	size_t			 fwdlen;
};

static struct compose	compose;

static void	compose_replaced(struct ui_account *);

bool
compose_active(const struct ui *ui)
{
	(void)ui;
	return compose.active;
}

static bool
own_cb(void *arg, const char *addr)
{
	return account_is_own_address(arg, addr);
}

static void
compose_end(void)
{
	size_t	i;

	if (compose.path != NULL) {
		unlink(compose.path);
		free(compose.path);
	}
	compose_draft_free(&compose.d);
	for (i = 0; i < compose.nparts; i++) {
		if (compose.resume_dir != NULL && strncmp(compose.parts[i],
		    compose.resume_dir, strlen(compose.resume_dir)) == 0)
			unlink(compose.parts[i]);
		free(compose.parts[i]);
	}
	if (compose.resume_dir != NULL) {
		rmdir(compose.resume_dir);
		free(compose.resume_dir);
	}
	free(compose.fwd);
	memset(&compose, 0, sizeof compose);
}

/*
 * A resumed draft (or an outbox message edited) keeps its attachments: each
 * is saved under a private directory of tmp and attached again, as the
 * user had it; they go when the compose ends.
 */
static void
resume_attachments(struct ui *ui, const char *orig, size_t len,
    const char *tmp)
{
	struct mime_render_opts	 ro;
	struct mime_view	*v = NULL;
	struct error		 err;
	char			*path;
	size_t			 i;

	memset(&ro, 0, sizeof ro);
	ro.mailcap = "";
	error_clear(&err);
	if (mime_render(orig, len, &ro, &v, &err) == -1 || v->natt == 0) {
		mime_view_free(&v);
		return;
	}
	xasprintf(&compose.resume_dir, "%s/petrel-parts-XXXXXX", tmp);
	if (mkdtemp(compose.resume_dir) == NULL) {
		ui_error(ui, "cannot keep the attachments in %s: %s", tmp,
		    strerror(errno));
		free(compose.resume_dir);
		compose.resume_dir = NULL;
		mime_view_free(&v);
		return;
	}
	for (i = 0; i < v->natt && compose.nparts < COMPOSE_PARTS_MAX; i++) {
		if (mime_view_save(v, v->att[i].number, compose.resume_dir,
		    &path, &err) == -1) {
			ui_error(ui, "attachment %d: %s", v->att[i].number,
			    err.msg);
			continue;
		}
		compose.parts[compose.nparts++] = path;
	}
	mime_view_free(&v);
}

/* The whole file (at most 64 MB), or NULL with err set. */
static char *
read_file(const char *path, size_t *lenp, struct error *err)
{
	char	*data;
	int	 fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		error_set(err, ERR_LOCAL, "%s: %s", path, strerror(errno));
		return NULL;
	}
	r = read_all(fd, 64 * 1024 * 1024, &data, lenp);
	close(fd);
	if (r == -1) {
		if (errno == EFBIG)
			error_set(err, ERR_USAGE, "%s is too large", path);
		else
			error_set(err, ERR_LOCAL, "%s: %s", path,
			    strerror(errno));
		return NULL;
	}
	return data;
}

/* Write the draft, run the editor on it, read it back. */
static void
compose_edit(struct ui *ui)
{
	const char	*editor = getenv("VISUAL");
	struct error	 err;
	char		*text, *cmd;
	size_t		 len;
	FILE		*f;
	int		 status;

	if (editor == NULL || *editor == '\0')
		editor = getenv("EDITOR");
	if (editor == NULL || *editor == '\0')
		editor = "vi";
	text = compose_draft_text(&compose.d);
	if ((f = fopen(compose.path, "w")) == NULL ||
	    fputs(text, f) == EOF || fclose(f) == EOF) {
		ui_error(ui, "cannot write the draft to %s: %s", compose.path,
		    strerror(errno));
		free(text);
		return;
	}
	free(text);
	/* The file name is ours (mkstemp): no quoting trouble. */
	xasprintf(&cmd, "%s '%s'", editor, compose.path);
	draw_suspend();
	status = system(cmd);
	draw_resume();
	draw_size(&ui->rows, &ui->cols);
	free(cmd);
	ui->dirty = true;
	error_clear(&err);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		ui_error(ui, "the editor failed (status %d): the draft is "
		    "kept; e to edit again, q to abort", status == -1 ? -1 :
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 +
		    WTERMSIG(status));
		return;
	}
	if ((text = read_file(compose.path, &len, &err)) == NULL) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	if (compose_draft_parse(&compose.d, text, len, &err) == -1)
		ui_error(ui, "%s: e to edit again", err.msg);
	free(text);
}

/* The folder postponed messages go to (postponed =, \Drafts, "Drafts"). */
static bool
is_drafts_folder(struct ui_account *ua, const char *name)
{
	struct cache_folder	 f;
	const char		*want = conf_get(NULL, ua->acct, "postponed");

	if (name == NULL)
		return false;
	if (want != NULL)
		return strcmp(name, want) == 0;
	if (cache_folder_get(ua->cache, name, &f, NULL) == 1 &&
	    f.special_use != NULL)
		return strcasecmp_ascii(f.special_use, "\\Drafts") == 0;
	return strcasecmp_ascii(name, "Drafts") == 0;
}

/*
 * The draft of kind from orig (may be NULL), its private file, then the
 * editor. orig is the caller's.
 */
static void
compose_begin(struct ui *ui, struct ui_account *ua, enum compose_kind kind,
    const char *orig, size_t len)
{
	struct error	 err;
	char		*sig = NULL;
	size_t		 siglen;
	const char	*tmp;
	int		 fd;

	error_clear(&err);
	if (kind != COMPOSE_RESUME && ua->acct->signature != NULL &&
	    (sig = read_file(ua->acct->signature, &siglen, &err)) == NULL) {
		ui_error(ui, "signature: %s", err.msg);
		return;
	}
	if (compose_draft_init(&compose.d, kind, ua->acct->from != NULL ?
	    ua->acct->from : ua->acct->user, orig, len, own_cb, ua->acct, sig,
	    &err) == -1) {
		ui_error(ui, "%s", err.msg);
		free(sig);
		return;
	}
	free(sig);
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	xasprintf(&compose.path, "%s/petrel-draft-XXXXXX", tmp);
	if ((fd = mkstemp(compose.path)) == -1) {
		ui_error(ui, "cannot make a draft file in %s: %s", tmp,
		    strerror(errno));
		free(compose.path);
		compose.path = NULL;
		compose_draft_free(&compose.d);
		return;
	}
	close(fd);
	compose.ua = ua;
	compose.kind = kind;
	compose.active = true;
	if (kind == COMPOSE_RESUME)
		resume_attachments(ui, orig, len, tmp);
	compose_edit(ui);
}

static bool
compose_can_send(struct ui *ui, struct ui_account *ua)
{
	if (compose.active || ua == NULL)
		return false;
	if (ua->acct->smtp_host == NULL) {
		ui_error(ui, "account %s has no smtp = server to send through",
		    ua->acct->name);
		return false;
	}
	return true;
}

/*
 * An answer waiting for its original's body: asked of the session, the
 * editor starts when it is in the cache (compose_body_done).
 */
static struct {
	struct ui_account	*ua;
	uint64_t		 id;
	enum compose_kind	 kind;
	int64_t			 fid;
	uint32_t		 uid;
	char			*folder;
} compose_wait;

static void
compose_wait_clear(void)
{
	free(compose_wait.folder);
	memset(&compose_wait, 0, sizeof compose_wait);
}

/* Compose kind from message uid of folder fid (named folder), if cached. */
static void
compose_start_from(struct ui *ui, struct ui_account *ua,
    enum compose_kind kind, int64_t fid, const char *folder, uint32_t uid)
{
	struct error	 err;
	char		*orig = NULL;
	const char	*opt;
	size_t		 len = 0;
	int		 got;

	memset(&compose, 0, sizeof compose);
	if (kind != COMPOSE_NEW) {
		error_clear(&err);
		if ((got = cache_body_get(ua->cache, fid, uid, &orig, &len,
		    &err)) != 1) {
			free(orig);
			if (got == -1) {
				ui_error(ui, "%s", err.msg);
				return;
			}
			if (ua->sess == NULL) {
				ui_error(ui, "Message %u is not cached, and petrel "
				    "is offline.", uid);
				return;
			}
			/* Not here yet: fetched behind, answered after. */
			compose_wait_clear();
			compose_wait.ua = ua;
			compose_wait.kind = kind;
			compose_wait.fid = fid;
			compose_wait.uid = uid;
			compose_wait.folder = xstrdup(folder);
			compose_wait.id = session_fetch_body(ua->sess, folder, uid, 0);
			ui_message(ui, "Loading message %u...", uid);
			return;
		}
		compose.orig_folder = fid;
		compose.orig_uid = uid;
		if (kind == COMPOSE_RESUME)
			compose.orig_draft = is_drafts_folder(ua, folder);
	}
	if (kind == COMPOSE_FORWARD && (opt = conf_get(ui->conf, NULL,
	    "mime_forward")) != NULL && (strcmp(opt, "yes") == 0 ||
	    strcmp(opt, "on") == 0 || strcmp(opt, "true") == 0 ||
	    strcmp(opt, "1") == 0))
		kind = COMPOSE_FORWARD_ATTACH;
	compose_begin(ui, ua, kind, orig, len);
	if (kind == COMPOSE_FORWARD_ATTACH && compose.active) {
		/* The message goes whole, as its own part. */
		compose.fwd = orig;
		compose.fwdlen = len;
	} else
		free(orig);
}

void
compose_start(struct ui *ui, int kindnum)
{
	enum compose_kind	 kind = (enum compose_kind)kindnum;
	struct ui_account	*ua = ui->idx.ua;
	struct index_row	*row;
	int64_t			 fid = 0;
	uint32_t		 uid = 0;

	if (!compose_can_send(ui, ua))
		return;
	compose_wait_clear();
	if (kind != COMPOSE_NEW) {
		fid = ui->screen == SCREEN_PAGER ? ui->pg.folder_id :
		    ui->idx.folder_id;
		if (ui->screen == SCREEN_PAGER)
			uid = ui->pg.uid;
		else if ((row = index_current(&ui->idx)) != NULL)
			uid = row->uid;
		else {
			ui_error(ui, "No message to answer.");
			return;
		}
	}
	compose_start_from(ui, ua, kind, fid, ui->idx.folder, uid);
}

void
compose_body_done(struct ui *ui, struct ui_account *ua, uint64_t id, int rv,
    const struct error *err)
{
	if (compose_wait.id == 0 || compose_wait.id != id ||
	    compose_wait.ua != ua)
		return;
	if (rv == -1)
		ui_error(ui, "Message %u: %s", compose_wait.uid, err->msg);
	else if (!compose.active) {
		char *folder = xstrdup(compose_wait.folder);

		ui_message(ui, "%s", "");
		compose_start_from(ui, ua, compose_wait.kind, compose_wait.fid,
		    folder, compose_wait.uid);
		free(folder);
		if (compose_wait.id != id)
			return;		/* waiting again (not cached after all) */
	}
	compose_wait_clear();
}

void
compose_edit_outbox(struct ui *ui, struct ui_account *ua, int64_t id,
    const char *msg, size_t len)
{
	if (!compose_can_send(ui, ua))
		return;
	memset(&compose, 0, sizeof compose);
	compose.replaces = id;
	compose_begin(ui, ua, COMPOSE_RESUME, msg, len);
}

/* The message to build from the draft and its attachments. */
static void
compose_msg_fill(struct compose_msg *m, struct compose_part *parts)
{
	char	*v;
	size_t	 i;

	memset(m, 0, sizeof *m);
	memset(parts, 0, sizeof *parts * COMPOSE_PARTS_MAX);
	for (i = 0; i < compose.nparts; i++)
		parts[i].path = compose.parts[i];
	if (compose.fwd != NULL) {
		parts[i].data = compose.fwd;
		parts[i].len = compose.fwdlen;
		parts[i].type = "message/rfc822";
		i++;
	}
	m->from = compose.d.from;
	m->to = compose.d.to;
	m->cc = compose.d.cc;
	m->bcc = compose.d.bcc;
	m->subject = compose.d.subject;
	m->in_reply_to = compose.d.in_reply_to;
	m->references = compose.d.references;
	m->body = compose.d.body;
	m->parts = parts;
	m->nparts = i;
	/* 8bit text where the server said it takes it, else QP. */
	if ((v = cache_meta_get(compose.ua->cache, ENGINE_META_8BITMIME)) !=
	    NULL) {
		m->eightbit = strcmp(v, "1") == 0;
		free(v);
	}
}

/*
 * Build the message (the copy to file, Bcc kept) and put it in the
 * outbox with flags: *idp, or -1 with the reason shown after what.
 */
static int
compose_queue(struct ui *ui, int flags, const char *what, int64_t *idp)
{
	struct compose_part	 parts[COMPOSE_PARTS_MAX];
	struct compose_msg	 m;
	struct buf		 out = BUF_INIT(0);
	struct error		 err;
	int			 rv = 0;

	compose_msg_fill(&m, parts);
	error_clear(&err);
	if (compose_build(&m, COMPOSE_FILE, &out, &err) == -1 ||
	    engine_outbox_add(compose.ua->acct, compose.ua->cache, out.data,
	    out.len, NULL, 0, flags, idp, &err) == -1) {
		ui_error(ui, "%s: %s", what, err.msg);
		rv = -1;
	}
	buf_free(&out);
	return rv;
}

/* Build the message and put it in the outbox; the session sends it. */
static void
compose_send(struct ui *ui)
{
	struct ui_account	*ua = compose.ua;
	struct timespec		 t0, t1;
	int64_t			 id;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (*compose.d.to == '\0' && *compose.d.cc == '\0' &&
	    *compose.d.bcc == '\0') {
		ui_error(ui, "No recipients: e to edit the To line.");
		return;
	}
	if (compose_queue(ui, OUTBOX_FROM_HEADERS, "not sent", &id) == -1)
		return;
	/* The answered message says so, through the local-first actions. */
	if (compose.kind == COMPOSE_REPLY || compose.kind == COMPOSE_GROUP ||
	    compose.kind == COMPOSE_LIST)
		act_answered(ui, ua, compose.orig_folder, compose.orig_uid,
		    false);
	else if (compose.kind == COMPOSE_FORWARD ||
	    compose.kind == COMPOSE_FORWARD_ATTACH)
		act_answered(ui, ua, compose.orig_folder, compose.orig_uid,
		    true);
	else if (compose.kind == COMPOSE_RESUME && compose.orig_draft)
		act_delete_draft(ui, ua, compose.orig_folder, compose.orig_uid);
	compose_replaced(ua);
	if (ua->sess != NULL)
		ua->send_id = session_send(ua->sess, id);
	ui_message(ui, ua->sess != NULL ? "Sending in the background." :
	    "Queued in the outbox: it goes out when online.");
	compose_end();
	/* For bench/send-bench.py: the send itself runs behind this. */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("compose: y to the screen closed in %.3f ms",
	    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
}

/* The outbox row this was edited from has its successor now. */
static void
compose_replaced(struct ui_account *ua)
{
	if (compose.replaces != 0)
		cache_outbox_remove(ua->cache, compose.replaces, NULL);
}

/* P: into the outbox as a draft, which the session files in Drafts. */
static void
compose_postpone(struct ui *ui)
{
	struct ui_account	*ua = compose.ua;
	int64_t			 id;

	if (compose_queue(ui, OUTBOX_DRAFT, "not postponed", &id) == -1)
		return;
	compose_replaced(ua);
	if (ua->sess != NULL)
		session_send(ua->sess, id);
	ui_message(ui, "Postponed: filed in Drafts%s.", ua->sess != NULL ? "" :
	    " when online");
	compose_end();
}

char *
complete_path(const char *prefix)
{
	const char	*home = getenv("HOME"), *slash, *base;
	struct dirent	*de;
	struct stat	 sb;
	char		*dir, *best = NULL, *full, *out;
	size_t		 blen, i;
	DIR		*dp;
	int		 matches = 0;

	if (strncmp(prefix, "~/", 2) == 0 && home != NULL)
		xasprintf(&full, "%s%s", home, prefix + 1);
	else
		full = xstrdup(prefix);
	if ((slash = strrchr(full, '/')) != NULL) {
		dir = xmemdup0(full, (size_t)(slash - full + 1));
		base = slash + 1;
	} else {
		dir = xstrdup("./");
		base = full;
	}
	blen = strlen(base);
	if ((dp = opendir(dir)) == NULL) {
		free(dir);
		free(full);
		return NULL;
	}
	while ((de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 ||
		    strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (blen == 0 && de->d_name[0] == '.'))
			continue;
		matches++;
		if (best == NULL) {
			best = xstrdup(de->d_name);
			continue;
		}
		/* Keep the common prefix of every match. */
		for (i = 0; best[i] != '\0' && best[i] == de->d_name[i]; i++)
			;
		best[i] = '\0';
	}
	closedir(dp);
	out = NULL;
	if (best != NULL) {
		xasprintf(&out, "%s%s", slash != NULL ? dir : "", best);
		/* One directory: step into it. */
		if (matches == 1 && stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			char *o = out;

			xasprintf(&out, "%s/", o);
			free(o);
		}
	}
	free(best);
	free(dir);
	free(full);
	return out;
}

static void	attach_file(struct ui *, const char *);

static void
attach_typed(struct ui *ui, const char *typed)
{
	const char	*home = getenv("HOME");
	char		*path;

	if (typed == NULL || *typed == '\0')
		return;
	if (strncmp(typed, "~/", 2) == 0 && home != NULL)
		xasprintf(&path, "%s%s", home, typed + 1);
	else
		path = xstrdup(typed);
	attach_file(ui, path);
	free(path);
}

static void
attach_file(struct ui *ui, const char *path)
{
	if (access(path, R_OK) == -1) {
		ui_error(ui, "%s: %s", path, strerror(errno));
		return;
	}
	if (compose.nparts == COMPOSE_PARTS_MAX - 1) {
		ui_error(ui, "at most %d attachments", COMPOSE_PARTS_MAX - 1);
		return;
	}
	compose.parts[compose.nparts++] = xstrdup(path);
}

void
compose_key(struct ui *ui, int key)
{
	ui->dirty = true;
	if (compose.confirm_abort) {
		compose.confirm_abort = false;
		if (key == 'y') {
			compose_end();
			ui_message(ui, "Message not sent.");
		}
		return;
	}
	switch (key) {
	case 'y':
		compose_send(ui);
		break;
	case 'e':
		compose_edit(ui);
		break;
	case 'a':
		ui_prompt(ui, "Attach file: ", NULL, false, attach_typed);
		ui->prompt.complete_files = true;
		break;
	case 'P':
		compose_postpone(ui);
		break;
	case 'D':
		if (compose.nparts > 0)
			free(compose.parts[--compose.nparts]);
		break;
	case 'q':
		compose.confirm_abort = true;
		ui_message(ui, "Abort unsent message? (y/n)");
		break;
	default:
		ui_error(ui, "y:send e:edit a:attach D:detach P:postpone "
		    "q:abort");
		break;
	}
}

static void
crow(int *r, int rows, const char *label, const char *value)
{
	char	line[1024];

	if (*r >= rows)
		return;
	snprintf(line, sizeof line, "%9s %s", label, value);
	draw_row((*r)++, line, COL_NORMAL);
}

void
compose_draw(struct ui *ui, int rows)
{
	char	line[512];
	size_t	i;
	int	r = 0;

	(void)ui;
	draw_clear_rows(0, rows);
	crow(&r, rows, "From:", compose.d.from);
	crow(&r, rows, "To:", compose.d.to);
	crow(&r, rows, "Cc:", compose.d.cc);
	crow(&r, rows, "Bcc:", compose.d.bcc);
	crow(&r, rows, "Subject:", compose.d.subject);
	r++;
	for (i = 0; i < compose.nparts; i++) {
		snprintf(line, sizeof line, "%zu", i + 1);
		crow(&r, rows, line, compose.parts[i]);
	}
	if (compose.fwd != NULL)
		crow(&r, rows, "", "(the forwarded message, attached whole)");
	r++;
	if (r < rows)
		draw_row(r, "y:send  e:edit  a:attach  D:detach  P:postpone  "
		    "q:abort", COL_MESSAGE);
}
