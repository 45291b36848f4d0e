/*
 * Key bindings: mutt's defaults, mutt's function names, and the config's
 * "bind = MENU KEY FUNCTION" lines on top. A menu falls back to the generic
 * one, as in mutt.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui-private.h"
#include "util.h"
#include "xmalloc.h"

static const struct {
	const char	*name;
	const char	*help;
} functions[FN_COUNT] = {
	[FN_NONE] = { "noop", "do nothing (unbinds a key)" },
#define UI_FUNCTION(e, n, h) [e] = { n, h },
#include "functions-private.h"
#undef UI_FUNCTION
};

static const char *menu_names[MENU_COUNT] = {
	[MENU_GENERIC] = "generic",
	[MENU_INDEX] = "index",
	[MENU_PAGER] = "pager",
	[MENU_BROWSER] = "browser",
	[MENU_ATTACH] = "attach",
};

struct binding {
	int	key;
	int	fn;
};

static struct binding	*bindings[MENU_COUNT];
static size_t		 nbindings[MENU_COUNT], sizebindings[MENU_COUNT];

const char *
function_name(int fn)
{
	if (fn < 0 || fn >= FN_COUNT)
		return "?";
	return functions[fn].name;
}

const char *
function_help(int fn)
{
	if (fn < 0 || fn >= FN_COUNT)
		return "";
	return functions[fn].help;
}

int
function_parse(const char *name)
{
	int	i;

	for (i = 0; i < FN_COUNT; i++)
		if (strcmp(functions[i].name, name) == 0)
			return i;
	return -1;
}

const char *
menu_name(enum ui_menu m)
{
	return menu_names[m];
}

static void
bind(enum ui_menu m, int key, int fn)
{
	size_t	i;

	for (i = 0; i < nbindings[m]; i++) {
		if (bindings[m][i].key == key) {
			bindings[m][i].fn = fn;
			return;
		}
	}
	if (nbindings[m] == sizebindings[m]) {
		sizebindings[m] = sizebindings[m] ? sizebindings[m] * 2 : 64;
		bindings[m] = xreallocarray(bindings[m], sizebindings[m],
		    sizeof *bindings[m]);
	}
	bindings[m][nbindings[m]].key = key;
	bindings[m][nbindings[m]].fn = fn;
	nbindings[m]++;
}

static const struct {
	enum ui_menu	 menu;
	const char	*key;
	int		 fn;
} defaults[] = {
	{ MENU_GENERIC, "j", FN_NEXT_ENTRY },
	{ MENU_GENERIC, "<Down>", FN_NEXT_ENTRY },
	{ MENU_GENERIC, "k", FN_PREVIOUS_ENTRY },
	{ MENU_GENERIC, "<Up>", FN_PREVIOUS_ENTRY },
	{ MENU_GENERIC, "z", FN_NEXT_PAGE },
	{ MENU_GENERIC, "<PageDown>", FN_NEXT_PAGE },
	{ MENU_GENERIC, "Z", FN_PREVIOUS_PAGE },
	{ MENU_GENERIC, "<PageUp>", FN_PREVIOUS_PAGE },
	{ MENU_GENERIC, "=", FN_FIRST_ENTRY },
	{ MENU_GENERIC, "<Home>", FN_FIRST_ENTRY },
	{ MENU_GENERIC, "*", FN_LAST_ENTRY },
	{ MENU_GENERIC, "<End>", FN_LAST_ENTRY },
	{ MENU_GENERIC, "]", FN_HALF_DOWN },
	{ MENU_GENERIC, "[", FN_HALF_UP },
	{ MENU_GENERIC, "q", FN_QUIT },
	{ MENU_GENERIC, "x", FN_EXIT },
	{ MENU_GENERIC, "?", FN_HELP },
	{ MENU_GENERIC, "\\Cl", FN_REDRAW },
	{ MENU_GENERIC, "<Enter>", FN_SELECT_ENTRY },

	{ MENU_INDEX, "j", FN_NEXT_UNDELETED },
	{ MENU_INDEX, "<Down>", FN_NEXT_UNDELETED },
	{ MENU_INDEX, "k", FN_PREVIOUS_UNDELETED },
	{ MENU_INDEX, "<Up>", FN_PREVIOUS_UNDELETED },
	{ MENU_INDEX, "J", FN_NEXT_ENTRY },
	{ MENU_INDEX, "K", FN_PREVIOUS_ENTRY },
	{ MENU_INDEX, "<Enter>", FN_DISPLAY_MESSAGE },
	{ MENU_INDEX, " ", FN_DISPLAY_MESSAGE },
	{ MENU_INDEX, "\\t", FN_NEXT_NEW_THEN_UNREAD },
	{ MENU_INDEX, "c", FN_CHANGE_FOLDER },
	{ MENU_INDEX, "y", FN_BROWSE_FOLDERS },
	{ MENU_INDEX, "B", FN_SIDEBAR_TOGGLE },
	{ MENU_INDEX, "d", FN_DELETE_MESSAGE },
	{ MENU_INDEX, "u", FN_UNDELETE_MESSAGE },
	{ MENU_INDEX, "D", FN_DELETE_PATTERN },
	{ MENU_INDEX, "U", FN_UNDELETE_PATTERN },
	{ MENU_INDEX, "N", FN_TOGGLE_NEW },
	{ MENU_INDEX, "F", FN_FLAG_MESSAGE },
	{ MENU_INDEX, "w", FN_SET_FLAG },
	{ MENU_INDEX, "W", FN_CLEAR_FLAG },
	{ MENU_INDEX, "s", FN_SAVE_MESSAGE },
	{ MENU_INDEX, "m", FN_MAIL },
	{ MENU_INDEX, "r", FN_REPLY },
	{ MENU_INDEX, "g", FN_GROUP_REPLY },
	{ MENU_INDEX, "L", FN_LIST_REPLY },
	{ MENU_INDEX, "f", FN_FORWARD_MESSAGE },
	{ MENU_INDEX, "R", FN_RECALL_MESSAGE },
	{ MENU_INDEX, "M", FN_OUTBOX },
	{ MENU_INDEX, "C", FN_COPY_MESSAGE },
	{ MENU_INDEX, "$", FN_SYNC_MAILBOX },
	{ MENU_INDEX, "t", FN_TAG_ENTRY },
	{ MENU_INDEX, "T", FN_TAG_PATTERN },
	{ MENU_INDEX, "\\Ct", FN_UNTAG_PATTERN },
	{ MENU_INDEX, ";", FN_TAG_PREFIX },
	{ MENU_INDEX, "l", FN_LIMIT },
	{ MENU_INDEX, "/", FN_SEARCH },
	{ MENU_INDEX, "<Esc>/", FN_SEARCH_REVERSE },
	{ MENU_INDEX, "n", FN_SEARCH_NEXT },
	{ MENU_INDEX, "o", FN_SORT },
	{ MENU_INDEX, "O", FN_SORT_REVERSE },
	{ MENU_INDEX, "<Esc>v", FN_COLLAPSE_THREAD },
	{ MENU_INDEX, "<Esc>V", FN_COLLAPSE_ALL },
	{ MENU_INDEX, "\\Cn", FN_NEXT_THREAD },
	{ MENU_INDEX, "\\Cp", FN_PREVIOUS_THREAD },

	{ MENU_PAGER, "<Enter>", FN_NEXT_LINE },
	{ MENU_PAGER, "<Down>", FN_NEXT_LINE },
	{ MENU_PAGER, "<Up>", FN_PREVIOUS_LINE },
	{ MENU_PAGER, "<Backspace>", FN_PREVIOUS_LINE },
	{ MENU_PAGER, " ", FN_NEXT_PAGE },
	{ MENU_PAGER, "-", FN_PREVIOUS_PAGE },
	{ MENU_PAGER, "<Home>", FN_TOP },
	{ MENU_PAGER, "^", FN_TOP },
	{ MENU_PAGER, "<End>", FN_BOTTOM },
	{ MENU_PAGER, "j", FN_NEXT_UNDELETED },
	{ MENU_PAGER, "k", FN_PREVIOUS_UNDELETED },
	{ MENU_PAGER, "J", FN_NEXT_ENTRY },
	{ MENU_PAGER, "K", FN_PREVIOUS_ENTRY },
	{ MENU_PAGER, "\\t", FN_NEXT_NEW_THEN_UNREAD },
	{ MENU_PAGER, "q", FN_EXIT },
	{ MENU_PAGER, "x", FN_EXIT },
	{ MENU_PAGER, "i", FN_EXIT },
	{ MENU_PAGER, "h", FN_TOGGLE_WEED },
	{ MENU_PAGER, "v", FN_VIEW_ATTACHMENTS },
	{ MENU_PAGER, "d", FN_DELETE_MESSAGE },
	{ MENU_PAGER, "u", FN_UNDELETE_MESSAGE },
	{ MENU_PAGER, "N", FN_TOGGLE_NEW },
	{ MENU_PAGER, "F", FN_FLAG_MESSAGE },
	{ MENU_PAGER, "w", FN_SET_FLAG },
	{ MENU_PAGER, "W", FN_CLEAR_FLAG },
	{ MENU_PAGER, "s", FN_SAVE_MESSAGE },
	{ MENU_PAGER, "m", FN_MAIL },
	{ MENU_PAGER, "r", FN_REPLY },
	{ MENU_PAGER, "g", FN_GROUP_REPLY },
	{ MENU_PAGER, "L", FN_LIST_REPLY },
	{ MENU_PAGER, "f", FN_FORWARD_MESSAGE },
	{ MENU_PAGER, "R", FN_RECALL_MESSAGE },
	{ MENU_PAGER, "C", FN_COPY_MESSAGE },
	{ MENU_PAGER, "/", FN_SEARCH },
	{ MENU_PAGER, "n", FN_SEARCH_NEXT },
	{ MENU_PAGER, "c", FN_CHANGE_FOLDER },

	{ MENU_BROWSER, "<Enter>", FN_SELECT_ENTRY },
	{ MENU_BROWSER, " ", FN_SELECT_ENTRY },
	{ MENU_BROWSER, "<Esc>v", FN_COLLAPSE_SUBTREE },
	{ MENU_BROWSER, "c", FN_CHANGE_FOLDER },

	{ MENU_ATTACH, "s", FN_SAVE_ENTRY },
};

void
keys_defaults(void)
{
	size_t	i;
	int	key;

	for (i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		if (ui_key_parse(defaults[i].key, &key) == 0)
			bind(defaults[i].menu, key, defaults[i].fn);
	}
}

int
keys_lookup(enum ui_menu m, int key)
{
	size_t	i;

	for (i = 0; i < nbindings[m]; i++)
		if (bindings[m][i].key == key)
			return bindings[m][i].fn;
	if (m != MENU_GENERIC)
		return keys_lookup(MENU_GENERIC, key);
	return FN_NONE;
}

static const struct {
	const char	*name;
	int		 key;
} named_keys[] = {
	{ "<Up>", K_UP }, { "<Down>", K_DOWN }, { "<Left>", K_LEFT },
	{ "<Right>", K_RIGHT }, { "<PageUp>", K_PGUP },
	{ "<PageDown>", K_PGDN }, { "<Home>", K_HOME }, { "<End>", K_END },
	{ "<Backspace>", K_BACKSPACE }, { "<Delete>", K_DELETE },
	{ "<Insert>", K_INSERT }, { "<Enter>", K_ENTER },
	{ "<Return>", K_ENTER }, { "<Tab>", '\t' }, { "<Space>", ' ' },
	{ "<Esc>", K_ESC },
};

int
ui_key_parse(const char *s, int *keyp)
{
	size_t	i, n;
	int	meta = 0, k;
	char	buf[32];

	if (strncasecmp_ascii(s, "<Esc>", 5) == 0 && s[5] != '\0') {
		meta = K_META;
		s += 5;
	}
	for (i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++) {
		if (strcasecmp_ascii(s, named_keys[i].name) == 0) {
			*keyp = named_keys[i].key | meta;
			return 0;
		}
	}
	n = strlen(s);
	if (n >= 4 && s[0] == '<' && (s[1] == 'F' || s[1] == 'f') &&
	    s[n - 1] == '>') {
		k = atoi(s + 2);
		if (k >= 1 && k <= 12) {
			*keyp = (K_F1 + k - 1) | meta;
			return 0;
		}
		return -1;
	}
	if (n == 3 && s[0] == '\\' && (s[1] == 'C' || s[1] == 'c')) {
		*keyp = K_CTRL(s[2]) | meta;
		return 0;
	}
	if (n == 2 && s[0] == '\\') {
		switch (s[1]) {
		case 't': *keyp = '\t' | meta; return 0;
		case 'n': case 'r': *keyp = K_ENTER | meta; return 0;
		case 'e': *keyp = K_ESC | meta; return 0;
		case '\\': *keyp = '\\' | meta; return 0;
		}
		return -1;
	}
	/* One character, possibly multibyte UTF-8. */
	if (n == 0 || n >= sizeof buf)
		return -1;
	{
		const unsigned char *u = (const unsigned char *)s;
		uint32_t	cp;
		size_t		len;

		if (u[0] < 0x80) {
			cp = u[0];
			len = 1;
		} else if ((u[0] & 0xe0) == 0xc0 && n >= 2) {
			cp = ((u[0] & 0x1fu) << 6) | (u[1] & 0x3fu);
			len = 2;
		} else if ((u[0] & 0xf0) == 0xe0 && n >= 3) {
			cp = ((u[0] & 0x0fu) << 12) | ((u[1] & 0x3fu) << 6) |
			    (u[2] & 0x3fu);
			len = 3;
		} else if ((u[0] & 0xf8) == 0xf0 && n >= 4) {
			cp = ((u[0] & 0x07u) << 18) | ((u[1] & 0x3fu) << 12) |
			    ((u[2] & 0x3fu) << 6) | (u[3] & 0x3fu);
			len = 4;
		} else
			return -1;
		if (len != n || cp < 0x20)
			return -1;
		*keyp = (int)cp | meta;
	}
	return 0;
}

void
ui_key_name(int key, char *buf, size_t size)
{
	const char	*meta = (key & K_META) ? "<Esc>" : "";
	size_t		 i;
	int		 k = key & ~K_META;

	for (i = 0; i < sizeof named_keys / sizeof named_keys[0]; i++) {
		if (named_keys[i].key == k && k != ' ' && k != '\t') {
			snprintf(buf, size, "%s%s", meta, named_keys[i].name);
			return;
		}
	}
	if (k == ' ')
		snprintf(buf, size, "%s<Space>", meta);
	else if (k == '\t')
		snprintf(buf, size, "%s<Tab>", meta);
	else if (k >= K_F1 && k <= K_F12)
		snprintf(buf, size, "%s<F%d>", meta, k - K_F1 + 1);
	else if (k < 0x20)
		snprintf(buf, size, "%s^%c", meta, k + '@');
	else if (k < 0x80)
		snprintf(buf, size, "%s%c", meta, k);
	else if (k < 0x800)
		snprintf(buf, size, "%s%c%c", meta, 0xc0 | (k >> 6),
		    0x80 | (k & 0x3f));
	else if (k < 0x10000)
		snprintf(buf, size, "%s%c%c%c", meta, 0xe0 | (k >> 12),
		    0x80 | ((k >> 6) & 0x3f), 0x80 | (k & 0x3f));
	else
		snprintf(buf, size, "%s%c%c%c%c", meta, 0xf0 | (k >> 18),
		    0x80 | ((k >> 12) & 0x3f), 0x80 | ((k >> 6) & 0x3f),
		    0x80 | (k & 0x3f));
}

/* The next blank-separated word of *sp, NUL-terminated in place. */
static char *
next_word(char **sp)
{
	char	*s = *sp, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return NULL;
	w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return w;
}

int
keys_bind_line(const char *line, struct error *err)
{
	char	*copy = xstrdup(line), *p = copy, *menus, *keyname, *fname, *m;
	int	 key, fn, i, rv = -1;
	int	 which[MENU_COUNT], nwhich = 0;

	menus = next_word(&p);
	keyname = next_word(&p);
	fname = next_word(&p);
	if (menus == NULL || keyname == NULL || fname == NULL ||
	    next_word(&p) != NULL) {
		error_set(err, ERR_CONFIG, "bind: expected MENU KEY FUNCTION");
		goto out;
	}
	while ((m = strsep(&menus, ",")) != NULL) {
		for (i = 0; i < MENU_COUNT; i++)
			if (strcmp(m, menu_names[i]) == 0)
				break;
		if (i == MENU_COUNT) {
			error_set(err, ERR_CONFIG, "bind: unknown menu \"%s\" "
			    "(generic, index, pager, browser, attach)", m);
			goto out;
		}
		which[nwhich++] = i;
	}
	if (ui_key_parse(keyname, &key) == -1) {
		error_set(err, ERR_CONFIG, "bind: bad key \"%s\"", keyname);
		goto out;
	}
	if ((fn = function_parse(fname)) == -1) {
		error_set(err, ERR_CONFIG, "bind: unknown function \"%s\"",
		    fname);
		goto out;
	}
	for (i = 0; i < nwhich; i++)
		bind((enum ui_menu)which[i], key, fn);
	rv = 0;
out:
	free(copy);
	return rv;
}

char **
keys_help(enum ui_menu m, size_t *np)
{
	char	**v = NULL, name[32], *line;
	size_t	 n = 0, i, j;
	int	 pass;

	/* The menu's own bindings, then the generic ones it does not hide. */
	for (pass = 0; pass < 2; pass++) {
		enum ui_menu	mm = pass == 0 ? m : MENU_GENERIC;

		if (pass == 1 && m == MENU_GENERIC)
			break;
		for (i = 0; i < nbindings[mm]; i++) {
			const struct binding *b = &bindings[mm][i];

			if (b->fn == FN_NONE)
				continue;
			if (pass == 1) {
				for (j = 0; j < nbindings[m]; j++)
					if (bindings[m][j].key == b->key)
						break;
				if (j < nbindings[m])
					continue;
			}
			ui_key_name(b->key, name, sizeof name);
			if (asprintf(&line, "%-12s %-24s %s", name,
			    function_name(b->fn), function_help(b->fn)) == -1)
				continue;
			v = xreallocarray(v, n + 1, sizeof *v);
			v[n++] = line;
		}
	}
	*np = n;
	return v;
}
