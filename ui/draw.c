/*
 * Drawing: the only file of petrel that calls ncurses. The views compose
 * rows of UTF-8 text (already terminal-safe: the MIME renderer and the
 * cache's decoded fields went through mime_sanitize_terminal, and text.c
 * drops anything below U+0020 again); this file puts them on the screen and
 * reads keys. One doupdate() per loop turn keeps the screen from flickering.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "ui-private.h"
#include "util.h"
#include "xmalloc.h"

struct color_def {
	const char	*name;
	short		 fg, bg;	/* -1: the terminal's default */
	attr_t		 attrs;		/* with colours */
	attr_t		 mono;		/* without */
};

static struct color_def colors[COL_COUNT] = {
	[COL_NORMAL] =		{ "normal", -1, -1, 0, 0 },
	[COL_INDICATOR] =	{ "indicator", COLOR_BLACK, COLOR_CYAN, 0,
	    A_REVERSE },
	[COL_STATUS] =		{ "status", COLOR_WHITE, COLOR_BLUE, A_BOLD,
	    A_REVERSE },
	[COL_MESSAGE] =		{ "message", -1, -1, 0, 0 },
	[COL_ERROR] =		{ "error", COLOR_RED, -1, A_BOLD, A_BOLD },
	[COL_INDEX_NEW] =	{ "index_new", -1, -1, A_BOLD, A_BOLD },
	[COL_INDEX_FLAGGED] =	{ "index_flagged", COLOR_RED, -1, A_BOLD,
	    A_BOLD },
	[COL_INDEX_DELETED] =	{ "index_deleted", COLOR_YELLOW, -1, 0, A_DIM },
	[COL_INDEX_TAGGED] =	{ "index_tagged", COLOR_MAGENTA, -1, A_BOLD,
	    A_UNDERLINE },
	[COL_TREE] =		{ "tree", COLOR_MAGENTA, -1, 0, 0 },
	[COL_HDRDEFAULT] =	{ "hdrdefault", COLOR_CYAN, -1, 0, A_BOLD },
	[COL_QUOTED] =		{ "quoted", COLOR_GREEN, -1, 0, 0 },
	[COL_QUOTED1] =		{ "quoted1", COLOR_YELLOW, -1, 0, 0 },
	[COL_QUOTED2] =		{ "quoted2", COLOR_CYAN, -1, 0, 0 },
	[COL_QUOTED3] =		{ "quoted3", COLOR_MAGENTA, -1, 0, 0 },
	[COL_SIGNATURE] =	{ "signature", COLOR_BLUE, -1, 0, A_DIM },
	[COL_SEARCH] =		{ "search", COLOR_BLACK, COLOR_YELLOW, 0,
	    A_REVERSE },
	[COL_TILDE] =		{ "tilde", COLOR_BLUE, -1, 0, 0 },
	[COL_SIDEBAR_DIVIDER] =	{ "sidebar_divider", COLOR_BLUE, -1, 0, 0 },
	[COL_SIDEBAR_NEW] =	{ "sidebar_new", -1, -1, A_BOLD, A_BOLD },
	[COL_SIDEBAR_HIGHLIGHT] = { "sidebar_highlight", -1, -1, A_REVERSE,
	    A_REVERSE },
};

static bool	have_colors;
static bool	started;

int
color_parse_object(const char *name, enum ui_color *cp)
{
	int	i;

	for (i = 0; i < COL_COUNT; i++) {
		if (strcmp(colors[i].name, name) == 0) {
			*cp = (enum ui_color)i;
			return 0;
		}
	}
	return -1;
}

static int
parse_color(const char *s, short *cp, attr_t *attrp)
{
	static const char *names[] = { "black", "red", "green", "yellow",
	    "blue", "magenta", "cyan", "white" };
	int	i;

	if (strcmp(s, "default") == 0) {
		*cp = -1;
		return 0;
	}
	if (strncmp(s, "bright", 6) == 0) {
		s += 6;
		*attrp |= A_BOLD;
	}
	for (i = 0; i < 8; i++) {
		if (strcmp(s, names[i]) == 0) {
			*cp = (short)i;
			return 0;
		}
	}
	if (strncmp(s, "color", 5) == 0) {
		uint64_t	n;

		if (parse_u64(s + 5, strlen(s + 5), 255, &n) == 0) {
			*cp = (short)n;
			return 0;
		}
	}
	return -1;
}

static int
parse_attr(const char *s, attr_t *ap)
{
	static const struct {
		const char	*name;
		attr_t		 a;
	} attrs[] = {
		{ "bold", A_BOLD }, { "underline", A_UNDERLINE },
		{ "reverse", A_REVERSE }, { "standout", A_STANDOUT },
		{ "dim", A_DIM }, { "blink", A_BLINK }, { "none", 0 },
		{ "normal", 0 }, { "italic", A_ITALIC },
	};
	size_t	i;

	for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
		if (strcmp(s, attrs[i].name) == 0) {
			*ap |= attrs[i].a;
			return 0;
		}
	}
	return -1;
}

/* "OBJECT [ATTR...] FG BG" (mutt's color command, without "color"). */
int
draw_color_line(const char *line, struct error *err)
{
	char		*copy = xstrdup(line), *w[16], *p = copy, *t;
	int		 n = 0, i, rv = -1;
	enum ui_color	 obj;
	attr_t		 a = 0;
	short		 fg, bg;

	while ((t = strsep(&p, " \t")) != NULL) {
		if (*t == '\0')
			continue;
		if (n == 16)
			break;
		w[n++] = t;
	}
	if (n < 3) {
		error_set(err, ERR_CONFIG, "color: expected OBJECT [ATTRIBUTE...]"
		    " FOREGROUND BACKGROUND");
		goto out;
	}
	if (color_parse_object(w[0], &obj) == -1) {
		error_set(err, ERR_CONFIG, "color: unknown object \"%s\"", w[0]);
		goto out;
	}
	for (i = 1; i < n - 2; i++) {
		if (parse_attr(w[i], &a) == -1) {
			error_set(err, ERR_CONFIG, "color: unknown attribute "
			    "\"%s\"", w[i]);
			goto out;
		}
	}
	if (parse_color(w[n - 2], &fg, &a) == -1 ||
	    parse_color(w[n - 1], &bg, &a) == -1) {
		error_set(err, ERR_CONFIG, "color: unknown colour \"%s\"",
		    parse_color(w[n - 2], &fg, &a) == -1 ? w[n - 2] : w[n - 1]);
		goto out;
	}
	colors[obj].fg = fg;
	colors[obj].bg = bg;
	colors[obj].attrs = a;
	colors[obj].mono = a;
	rv = 0;
out:
	free(copy);
	return rv;
}

static void
apply_colors(void)
{
	int	i;

	if (!have_colors)
		return;
	for (i = 0; i < COL_COUNT; i++) {
		short	fg = colors[i].fg, bg = colors[i].bg;

		if (fg >= COLORS)
			fg = -1;
		if (bg >= COLORS)
			bg = -1;
		init_pair((short)(i + 1), fg, bg);
	}
}

static attr_t
attr_of(enum ui_color c)
{
	if (have_colors)
		return COLOR_PAIR(c + 1) | colors[c].attrs;
	return colors[c].mono;
}

bool
draw_has_colors(void)
{
	return have_colors;
}

int
draw_init(struct error *err)
{
	if (initscr() == NULL)
		return error_set(err, ERR_LOCAL, "cannot start the terminal "
		    "(is TERM set?)");
	started = true;
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors() && getenv("NO_COLOR") == NULL) {
		start_color();
		use_default_colors();
		have_colors = COLOR_PAIRS > COL_COUNT;
		apply_colors();
	}
	return 0;
}

void
draw_end(void)
{
	if (started) {
		endwin();
		started = false;
	}
}

void
draw_suspend(void)
{
	if (started) {
		def_prog_mode();
		endwin();
	}
}

void
draw_bell(void)
{
	if (started)
		beep();
}

void
draw_resume(void)
{
	if (started) {
		reset_prog_mode();
		clearok(curscr, TRUE);
		refresh();
	}
}

void
draw_size(int *rows, int *cols)
{
	getmaxyx(stdscr, *rows, *cols);
}

void
draw_resize(void)
{
	/* Let ncurses read the new size from the terminal. */
	endwin();
	refresh();
	clearok(curscr, TRUE);
}

int
draw_text(int row, int col, int width, const char *text, enum ui_color c)
{
	size_t	len = strlen(text), fit;
	int	used;

	if (width <= 0)
		return 0;
	fit = text_fit(text, len, width, &used);
	attrset(attr_of(c));
	mvaddnstr(row, col, text, (int)fit);
	attrset(A_NORMAL);
	return used;
}

void
draw_row(int row, const char *text, enum ui_color c)
{
	int	rows, cols, used;

	getmaxyx(stdscr, rows, cols);
	if (row < 0 || row >= rows)
		return;
	used = draw_text(row, 0, cols, text, c);
	attrset(attr_of(c));
	if (used < cols)
		mvhline(row, used, ' ', cols - used);
	attrset(A_NORMAL);
}

void
draw_clear_rows(int from, int to)
{
	int	r, cols = getmaxx(stdscr);

	for (r = from; r < to; r++) {
		move(r, 0);
		hline(' ', cols);
	}
}

void
draw_cursor(int row, int col, bool visible)
{
	if (visible) {
		move(row, col);
		curs_set(1);
	} else
		curs_set(0);
}

void
draw_flush(void)
{
	refresh();
}

int
draw_key(void)
{
	wint_t	wc;
	int	rc, k;

	rc = get_wch(&wc);
	if (rc == ERR)
		return K_NONE;
	if (rc == KEY_CODE_YES) {
		switch (wc) {
		case KEY_UP:		return K_UP;
		case KEY_DOWN:		return K_DOWN;
		case KEY_LEFT:		return K_LEFT;
		case KEY_RIGHT:		return K_RIGHT;
		case KEY_PPAGE:		return K_PGUP;
		case KEY_NPAGE:		return K_PGDN;
		case KEY_HOME:		return K_HOME;
		case KEY_END:		return K_END;
		case KEY_BACKSPACE:	return K_BACKSPACE;
		case KEY_DC:		return K_DELETE;
		case KEY_IC:		return K_INSERT;
		case KEY_ENTER:		return K_ENTER;
		case KEY_RESIZE:	return K_RESIZE;
		}
		if (wc >= KEY_F(1) && wc <= KEY_F(12))
			return K_F1 + (int)(wc - KEY_F(1));
		return K_NONE;
	}
	k = (int)wc;
	if (k == '\r' || k == '\n')
		return K_ENTER;
	if (k == 0x7f || k == K_CTRL('h'))
		return K_BACKSPACE;
	if (k == K_ESC) {
		/* Esc then a key: the meta form of that key. */
		int next = draw_key();

		if (next == K_NONE)
			return K_ESC;
		return next | K_META;
	}
	return k;
}
