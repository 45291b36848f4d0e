/* Internals of the terminal UI, shared by the files of ui/ only. */
#ifndef PETREL_UI_PRIVATE_H
#define PETREL_UI_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "conf.h"
#include "engine.h"
#include "mime.h"
#include "ui.h"

/* ---- Keys ---------------------------------------------------------------- */

/*
 * A key: a Unicode code point, a control character, one of the special
 * keys below, or any of them with KEY_META (Esc first).
 */
#define K_NONE		0
#define K_SPECIAL	0x110000
enum {
	K_UP = K_SPECIAL, K_DOWN, K_LEFT, K_RIGHT, K_PGUP, K_PGDN, K_HOME,
	K_END, K_BACKSPACE, K_DELETE, K_INSERT, K_ENTER, K_RESIZE,
	K_F1, K_F12 = K_F1 + 11,
	K_LAST
};
#define K_META		0x1000000
#define K_CTRL(c)	((c) & 0x1f)
#define K_ESC		0x1b

/* The key's name as bind(1) takes it ("j", "<Down>", "\\Cx", "<Esc>v"). */
void	ui_key_name(int key, char *buf, size_t size);
/* 0 and *keyp, or -1 for a name that is no key. */
int	ui_key_parse(const char *name, int *keyp);

/* ---- Drawing (draw.c: the only file that calls ncurses) ------------------ */

enum ui_color {
	COL_NORMAL,
	COL_INDICATOR,		/* the cursor's row */
	COL_STATUS,
	COL_MESSAGE,
	COL_ERROR,
	COL_INDEX_NEW,
	COL_INDEX_FLAGGED,
	COL_INDEX_DELETED,
	COL_INDEX_TAGGED,
	COL_TREE,
	COL_HDRDEFAULT,
	COL_QUOTED,		/* depth 1; COL_QUOTED + n for deeper */
	COL_QUOTED1,
	COL_QUOTED2,
	COL_QUOTED3,
	COL_SIGNATURE,
	COL_SEARCH,
	COL_TILDE,
	COL_SIDEBAR_DIVIDER,
	COL_SIDEBAR_NEW,
	COL_SIDEBAR_HIGHLIGHT,
	COL_COUNT
};

/* mutt's object names ("indicator", "quoted1"...): 0, or -1. */
int		 color_parse_object(const char *, enum ui_color *);
/* "color OBJECT FG BG [attr...]": 0, or -1 with err set. */
int		 draw_color_line(const char *line, struct error *err);

int		 draw_init(struct error *err);
void		 draw_end(void);
/* Give the terminal to another program and take it back (editor, pinentry). */
void		 draw_suspend(void);
void		 draw_bell(void);
void		 draw_resume(void);
void		 draw_size(int *rows, int *cols);
/* After SIGWINCH: ask the terminal for its size. */
void		 draw_resize(void);
/* A row of width columns: text (UTF-8) clipped or padded, in one colour. */
void		 draw_row(int row, const char *text, enum ui_color);
/* Part of a row: at col, at most width columns; returns the columns used. */
int		 draw_text(int row, int col, int width, const char *text,
		     enum ui_color);
void		 draw_clear_rows(int from, int to);
void		 draw_cursor(int row, int col, bool visible);
void		 draw_flush(void);
/* The next key, or K_NONE when none is waiting (stdin is non-blocking). */
int		 draw_key(void);
bool		 draw_has_colors(void);

/* ---- Text (text.c) -------------------------------------------------------- */

/* Columns of a UTF-8 string on the terminal (invalid bytes count 1). */
int		 text_width(const char *s, size_t len);
/* Bytes of s that fit in width columns; *colsp the columns they take. */
size_t		 text_fit(const char *s, size_t len, int width, int *colsp);
/* Append s to b, clipped to max columns (-1: no limit), then padded to min. */
struct buf;
void		 text_pad(struct buf *b, const char *s, int min, int max,
		     bool left);

/* "Name <addr>" -> addr (index.c). */
void		 addr_only(const char *, struct buf *);

/* ---- Accounts ------------------------------------------------------------ */

/* An offline account tries again after this long, doubling up to the max. */
#define RETRY_MIN_S		5
#define RETRY_MAX_S		300

struct ui_account {
	struct account		*acct;
	struct cache		*cache;		/* the UI's own connection */
	struct session		*sess;		/* NULL: offline, or not started */
	enum session_state	 state;
	bool			 syncing;
	uint64_t		 sync_id;	/* the running sync, 0 none */
	uint64_t		 send_id;	/* the last send asked for */
	char			*progress_folder;
	uint64_t		 progress_done, progress_total;
	int64_t			 retry_at;	/* ms: next attempt when offline */
	int			 retry_s;	/* back-off */
	char			*last_error;
	bool			 queue;		/* actions go to the server */
	bool			 sync_open;	/* sync the open folder next */
	bool			 sync_all;	/* then every folder */
	bool			 quota_warned;	/* said it is nearly full */
	bool			 tls_blocked;	/* certificate rejected, or its
						   pinned key changed: no
						   reconnecting by itself */
	char			*self;		/* the user's address, for %L */
};

/* ---- Index --------------------------------------------------------------- */

struct index_row {
	struct cache_key	 key;
	uint32_t		 uid;
	uint32_t		 flags;
	int64_t			 date;
	int			 date_tz;
	int64_t			 size;
	char			*from;
	char			*to;
	char			*subject;
	char			*keywords;
	bool			 tagged;
	char			*thread_path;	/* NULL unless threaded */
	bool			 thread_gap;
	int64_t			 thread_hidden;	/* collapsed: replies hidden */
	char			 tree[160];	/* %s's thread tree, UTF-8 */
};

struct index {
	struct ui_account	*ua;
	int64_t			 folder_id;
	char			*folder;	/* UTF-8 name */
	struct cache_view	 view;
	struct cache_pattern	*limit;
	char			*limit_text;
	struct index_row	*rows;
	int			 nrows, rowsize;
	int			 cursor;	/* row index, -1 when empty */
	int64_t			 first_number;	/* 1-based number of rows[0] */
	int64_t			 total, unread, shown;
	bool			 at_end;	/* rows reach the last message */
	bool			 gave_way;	/* a refresh's reads ended for a key */
	char			*search;	/* last / pattern */
	struct cache_pattern	*search_pat;
	int64_t			 ntagged;
};

/* ---- Pager ---------------------------------------------------------------- */

struct pager_line {
	size_t		 off, len;	/* in text */
	enum ui_color	 color;
};

struct pager {
	struct ui_account	*ua;
	int64_t			 folder_id;
	uint32_t		 uid;
	struct msgbuf		*msg;		/* the message's bytes */
	struct mime_view	*view;
	char			*text;		/* headers + body */
	size_t			 textlen;
	struct pager_line	*lines;
	size_t			 nlines, linesize;
	int			 width;		/* lines wrapped for it */
	size_t			 top;
	bool			 loading;
	uint64_t		 fetch_id;
	bool			 headers_all;
	char			*search;
	bool			 attachments;	/* the attachment list is shown */
	int			 att_cursor;
	struct convert_job	*job;		/* a rendering in the background */
	bool			 job_whole;	/* job renders the whole body */
	bool			 convert_wanted; /* start it after the next draw */
	bool			 partial;	/* msg is the head of the body */
	size_t			 total;		/* the body's length, then */
	bool			 gone;		/* expunged on the server meanwhile */
};

/* ---- Folders -------------------------------------------------------------- */

struct folder_row {
	struct ui_account	*ua;
	int64_t			 id;
	char			*name;
	char			*label;		/* indented last component */
	int			 depth;
	int64_t			 total, unseen;
	bool			 header;	/* the account's own line */
	bool			 has_children;
	bool			 collapsed;
};

struct folders {
	struct folder_row	*rows;
	int			 nrows, rowsize;
	int			 cursor, top;
	char			**collapsed;	/* "account/name" collapsed */
	int			 ncollapsed;
};

/* ---- The UI --------------------------------------------------------------- */

enum ui_screen { SCREEN_INDEX, SCREEN_PAGER, SCREEN_FOLDERS, SCREEN_HELP };

enum ui_menu { MENU_GENERIC, MENU_INDEX, MENU_PAGER, MENU_BROWSER,
    MENU_ATTACH, MENU_COUNT };

struct ui;

/* A line being typed at the bottom (l, /, s, C, c...). */
struct prompt {
	bool	 active;
	char	 label[128];
	char	 buf[1024];
	size_t	 len, pos;		/* bytes */
	bool	 secret;		/* shown as '*' */
	bool	 complete_folders;
	bool	 complete_files;	/* Tab completes a file path */
	void	(*done)(struct ui *, const char *text);	/* NULL text: cancelled */
	void	*arg;
};

struct ui {
	struct conf		*conf;
	struct ui_account	*accts;
	int			 naccts;
	bool			 offline;
	enum ui_screen		 screen, back;	/* back: before help */
	struct index		 idx;
	struct pager		 pg;
	struct folders		 fl;
	int			 help_top;
	struct prompt		 prompt;
	char			 msg[512];
	bool			 msg_error;
	bool			 tag_prefix;	/* ';' was typed */
	bool			 esc_prefix;	/* Esc was typed: meta next */
	bool			 sidebar;
	int			 sidebar_width;
	bool			 quit;
	bool			 dirty;
	int			 rows, cols;
	char			*index_format;
	char			*date_format;
	char			*status_format;
	char			**header_list;	/* the pager's headers */
	int			 check_interval;	/* seconds */
	bool			 imap_idle;	/* sessions IDLE between commands */
	bool			 new_mail_bell;	/* beep when new mail comes */
	int64_t			 next_check;
	struct ui_account	*pw_ask;	/* whose password is being typed */
	struct {
		bool			 active;
		struct ui_account	*ua;
		struct session_cert	 cert;
	}			 trust;		/* trust.c's question */
	struct mime_render_opts	 ropts;
};

/* ui.c */
void	ui_message(struct ui *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	ui_error(struct ui *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	ui_prompt(struct ui *, const char *label, const char *initial,
	    bool complete_folders, void (*done)(struct ui *, const char *));
/* The folder id of name in ua's cache: 1 found, 0 not, -1 error (message set). */
int	ui_folder_id(struct ui *, struct ui_account *, const char *name,
	    int64_t *idp);
/* Replay what is queued for the account, in the background. */
void	ui_kick(struct ui *, struct ui_account *);
void	ui_sync_open_folder(struct ui *);
/* After the cache changed: is the message shown still there? */
void	pager_check_gone(struct ui *);
int64_t	ui_now_ms(void);
/* A key is typed and not read yet (stdin is readable). */
bool	ui_key_waiting(void);

/* compose.c: writing mail (m r g L f), the editor and the compose screen */
struct compose_draft;
void	compose_start(struct ui *, int kind);	/* enum compose_kind */
/* A body the compose of an answer waits for came (or failed). */
void	compose_body_done(struct ui *, struct ui_account *, uint64_t id,
	    int rv, const struct error *);
bool	compose_active(const struct ui *);
void	compose_key(struct ui *, int key);
void	compose_draw(struct ui *, int rows);
/* The longest completion of a file path prefix (~/ expanded), or NULL. */
char	*complete_path(const char *prefix);
/* An outbox row edited (compose.c): resumed, replaced once sent. */
void	compose_edit_outbox(struct ui *, struct ui_account *, int64_t id,
	    const char *msg, size_t len);
/* outbox.c: the outbox screen (M) */
void	outbox_open(struct ui *);
bool	outbox_active(const struct ui *);
void	outbox_reload(struct ui *);
void	outbox_key(struct ui *, int key);
void	outbox_draw(struct ui *, int rows);
/* actions.c: the original of a reply or forward marked so */
void	act_answered(struct ui *, struct ui_account *, int64_t folder_id,
	    uint32_t uid, bool forwarded);
void	act_delete_draft(struct ui *, struct ui_account *, int64_t folder_id,
	    uint32_t uid);

/* trust.c: trust on first use */
void	trust_wanted(struct ui *, struct ui_account *,
	    const struct session_cert *);
bool	trust_active(const struct ui *);
void	trust_key(struct ui *, int key);
void	trust_draw(struct ui *, int rows);

/* index.c */
int	index_open(struct ui *, struct ui_account *, const char *folder);
void	index_close(struct index *);
/* Re-read the rows on screen from the cache, keeping the cursor's message. */
void	index_reload(struct ui *);
/*
 * index_reload() that, with give_way, ends its reads when a key is typed
 * meanwhile: then nothing changed and it returns false, for the key to go
 * first and the refresh to be tried again.
 */
bool	index_refresh(struct ui *, bool give_way);
void	index_draw(struct ui *, int top, int left, int rows, int width);
/* A function of the index menu (and generic ones); true when it was one. */
bool	index_function(struct ui *, int fn);
/* The message under the cursor, NULL when none. */
struct index_row *index_current(struct index *);
/* Move the cursor to the next/previous row; false at the end. */
bool	index_step(struct ui *, int dir);
void	index_format_row(struct ui *, const struct index_row *, int64_t number,
	    int width, struct buf *);

/* pager.c */
void	pager_open(struct ui *, uint32_t uid);
void	pager_close(struct pager *);
void	pager_draw(struct ui *);
bool	pager_function(struct ui *, int fn);
/* A body arrived (or its fetch failed with err). */
void	pager_body_head(struct ui *, uint64_t id);
void	pager_body_done(struct ui *, uint64_t id, int rv, const struct error *);
void	pager_refresh(struct ui *);
/* Start the mailcap rendering the last render asked for, if any. */
void	pager_convert_start(struct ui *);
/* The fd that is readable when the pager's mailcap rendering is done. */
int	pager_convert_fd(struct ui *);
void	pager_convert_done(struct ui *);

/* convert.c: a message rendered with the mailcap commands, in a thread */
struct convert_job;
/* A message's bytes, shared read-only by the pager and its convert job. */
struct msgbuf {
	_Atomic int	 refs;
	char		*data;
	size_t		 len;
};
struct msgbuf	*msgbuf_new(char *data, size_t len);	/* takes data */
struct msgbuf	*msgbuf_ref(struct msgbuf *);
void		 msgbuf_unref(struct msgbuf **);
struct convert_job *convert_start(struct msgbuf *,
	    const struct mime_render_opts *, struct error *);
int	convert_fd(const struct convert_job *);
/*
 * 0 while it runs; else the job is freed and: 1 with the view and a
 * reference to the message it points into, or -1 with err.
 */
int	convert_finish(struct convert_job **, struct mime_view **viewp,
	    struct msgbuf **msgp, struct error *err);
/* Let go of a job: its converter is killed, the thread frees it. */
void	convert_cancel(struct convert_job **);
/*
 * At exit: wait (at most timeout_ms) for cancelled jobs' threads to kill
 * their converters and remove their temporary files.
 */
void	convert_wait_all(int timeout_ms);

/* folders.c */
void	folders_load(struct ui *);
void	folders_point_at_current(struct ui *);
bool	folders_shown(struct ui *);
void	folders_free(struct folders *);
void	folders_draw(struct ui *, int top, int left, int rows, int width,
	    bool sidebar);
bool	folders_function(struct ui *, int fn);
/* Folder names of every account starting with prefix, for completion. */
char	*folders_complete(struct ui *, const char *prefix);

/* actions.c: local first, then replayed */
/* Flags on the given UIDs of the index's folder; 0, or -1 (message set). */
int	act_flags(struct ui *, const uint32_t *uids, size_t n, bool add,
	    uint32_t flags, const char *keywords);
int	act_copy(struct ui *, const uint32_t *uids, size_t n, const char *dest,
	    bool move);
int	act_expunge(struct ui *);

/* keys.c */
enum ui_function {
	FN_NONE,
#define UI_FUNCTION(e, name, help) e,
#include "functions-private.h"
#undef UI_FUNCTION
	FN_COUNT
};
const char	*function_name(int fn);
int		 function_parse(const char *);
const char	*function_help(int fn);
void		 keys_defaults(void);
/* "bind MENU[,MENU] KEY FUNCTION": 0, or -1 with err set. */
int		 keys_bind_line(const char *line, struct error *err);
/* The function key is bound to in menu (falling back to generic). */
int		 keys_lookup(enum ui_menu, int key);
/* For the help screen: the bindings of menu as "key  function  help" lines. */
char		**keys_help(enum ui_menu, size_t *np);
const char	*menu_name(enum ui_menu);

#endif
