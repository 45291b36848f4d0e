/*
 * mutt's search patterns compiled to SQL over the messages table: the
 * index's limit and search, tag-pattern, delete-pattern and `petrel list
 * --limit` all run the same parameterised WHERE clause, so a search over
 * 100,000 cached messages is one SQLite scan, never a loop in C.
 *
 * Grammar (lowest precedence first):
 *	or   := and ('|' and)*
 *	and  := not (not)*		juxtaposition
 *	not  := '!' not | '(' or ')' | term
 *	term := '~' LETTER [ARG] | WORD	a word means ~f WORD | ~s WORD
 * ARG is a bare word or "..." / '...' with backslash escapes. String
 * arguments are regular expressions (POSIX extended), case-insensitive
 * unless they contain an upper-case letter (mutt's smart case).
 */
#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache-private.h"
#include "msgflags.h"
#include "xmalloc.h"

#define PATTERN_MAX	4096
#define PATTERN_DEPTH	64
#define PATTERN_PARAMS	256
#define PATTERN_TEXTS	16

struct param {
	bool		 text;
	int64_t		 num;
	char		*str;
};

struct cache_pattern {
	struct buf	 sql;
	struct param	 params[PATTERN_PARAMS];
	int		 nparams;
	/* FTS5 queries of the ~b ~B ~h terms, run by cache_text_prepare(). */
	char		*texts[PATTERN_TEXTS];
	int		 ntexts;
	/* Each term's letter (b, B, h) and word, for a server's SEARCH. */
	char		 which[PATTERN_TEXTS];
	char		*words[PATTERN_TEXTS];
};

struct parser {
	const char		*s, *p;
	int64_t			 now;
	int			 depth;
	struct cache_pattern	*pat;
	struct error		*err;
};

static int	parse_or(struct parser *);

static int
fail(struct parser *ps, const char *what)
{
	return error_set(ps->err, ERR_USAGE, "pattern: %s at position %d",
	    what, (int)(ps->p - ps->s) + 1);
}

static void
skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static int
add_param(struct parser *ps, bool text, int64_t num, const char *str)
{
	struct param	*pp;

	if (ps->pat->nparams == PATTERN_PARAMS)
		return fail(ps, "too many terms");
	pp = &ps->pat->params[ps->pat->nparams++];
	pp->text = text;
	pp->num = num;
	pp->str = str != NULL ? xstrdup(str) : NULL;
	return 0;
}

/* An argument: "quoted", 'quoted' or a word up to a blank or ')' or '|'. */
static char *
parse_arg(struct parser *ps)
{
	struct buf	b;
	char		q;

	skip_space(ps);
	buf_init(&b, 0);
	if (*ps->p == '"' || *ps->p == '\'') {
		q = *ps->p++;
		while (*ps->p != '\0' && *ps->p != q) {
			if (*ps->p == '\\' && ps->p[1] != '\0')
				ps->p++;
			buf_addc(&b, *ps->p++);
		}
		if (*ps->p != q) {
			buf_free(&b);
			fail(ps, "unterminated quote");
			return NULL;
		}
		ps->p++;
	} else {
		while (*ps->p != '\0' && *ps->p != ' ' && *ps->p != '\t' &&
		    *ps->p != ')' && *ps->p != '|') {
			if (*ps->p == '\\' && ps->p[1] != '\0')
				ps->p++;
			buf_addc(&b, *ps->p++);
		}
		if (b.len == 0) {
			buf_free(&b);
			fail(ps, "missing argument");
			return NULL;
		}
	}
	return buf_steal(&b, NULL);
}

static bool
has_upper(const char *s)
{
	for (; *s != '\0'; s++)
		if (isupper((unsigned char)*s))
			return true;
	return false;
}

static bool
is_plain(const char *s)
{
	return strpbrk(s, ".[]()*+?{}|^$\\") == NULL;
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/* One column matched against arg. */
static int
match_column(struct parser *ps, const char *col, const char *arg)
{
	bool	icase = !has_upper(arg);

	if (is_plain(arg) && !icase) {
		buf_printf(&ps->pat->sql, "instr(%s, ?) > 0", col);
		return add_param(ps, true, 0, arg);
	}
	/*
	 * SQLite's LIKE folds ASCII case only, as lower() does, and is three
	 * times faster than instr(lower(col), ...) on 100,000 subjects.
	 */
	if (is_plain(arg) && is_ascii(arg)) {
		struct buf	 b = BUF_INIT(0);
		const char	*p;
		int		 rv;

		buf_addc(&b, '%');
		for (p = arg; *p != '\0'; p++) {
			if (*p == '%' || *p == '_' || *p == '!')
				buf_addc(&b, '!');
			buf_addc(&b, *p);
		}
		buf_addc(&b, '%');
		buf_printf(&ps->pat->sql, "%s LIKE ? ESCAPE '!'", col);
		rv = add_param(ps, true, 0, buf_cstr(&b));
		buf_free(&b);
		return rv;
	}
	/* "(?i)" is our marker for REG_ICASE in the REGEXP function. */
	buf_printf(&ps->pat->sql, "%s REGEXP ?", col);
	if (icase) {
		char	*p;
		int	 rv;

		xasprintf(&p, "(?i)%s", arg);
		rv = add_param(ps, true, 0, p);
		free(p);
		return rv;
	}
	return add_param(ps, true, 0, arg);
}

static int
match_columns(struct parser *ps, const char **cols, const char *arg)
{
	regex_t	re;
	int	i;

	/* A bad expression is the user's typo: say so now, not mid-scan. */
	if (regcomp(&re, arg, REG_EXTENDED | REG_NOSUB) != 0)
		return fail(ps, "bad regular expression");
	regfree(&re);
	buf_adds(&ps->pat->sql, "(");
	for (i = 0; cols[i] != NULL; i++) {
		if (i > 0)
			buf_adds(&ps->pat->sql, " OR ");
		if (match_column(ps, cols[i], arg) == -1)
			return -1;
	}
	buf_adds(&ps->pat->sql, ")");
	return 0;
}

/*
 * ~b ~B ~h: words of the text index (text.c), not a regular expression.
 * The argument is one FTS5 phrase whose last word may be the beginning of
 * a longer one ("invoi" finds "invoices"); the index folds case and
 * accents, so these terms always ignore them.
 */
static int
text_term(struct parser *ps, char which, const char *arg)
{
	struct buf	 q;
	const char	*p;
	bool		 word = false;

	for (p = arg; *p != '\0'; p++)
		if (isalnum((unsigned char)*p) || (unsigned char)*p >= 0x80)
			word = true;
	if (!word)
		return fail(ps, "~b, ~B and ~h need a word");
	if (ps->pat->ntexts == PATTERN_TEXTS)
		return fail(ps, "too many body searches");
	buf_init(&q, 0);
	if (which == 'b')
		buf_adds(&q, "body : ");
	else if (which == 'h')
		buf_adds(&q, "headers : ");
	buf_addc(&q, '"');
	for (p = arg; *p != '\0'; p++) {
		if (*p == '"')
			buf_addc(&q, '"');
		buf_addc(&q, *p);
	}
	buf_adds(&q, "\" *");
	ps->pat->which[ps->pat->ntexts] = which;
	ps->pat->words[ps->pat->ntexts] = xstrdup(arg);
	ps->pat->texts[ps->pat->ntexts++] = buf_steal(&q, NULL);
	/* The local index's hits, and what the server's SEARCH found. */
	buf_adds(&ps->pat->sql,
	    "(m.id IN (SELECT id FROM temp.text_hits WHERE q = ?) OR "
	    "m.uid IN (SELECT uid FROM main.server_hits WHERE "
	    "folder_id = m.folder_id AND q = ?))");
	if (add_param(ps, true, 0, ps->pat->texts[ps->pat->ntexts - 1]) == -1)
		return -1;
	return add_param(ps, true, 0, ps->pat->texts[ps->pat->ntexts - 1]);
}

/* "N", "NK", "NM" (sizes) or "N" with a unit d w m y H M S (ages). */
static int
parse_number(const char *s, size_t len, uint64_t *np)
{
	return parse_u64(s, len, (uint64_t)1 << 50, np);
}

static int
parse_size(struct parser *ps, const char *s, size_t len, int64_t *out)
{
	uint64_t	n, mul = 1;

	if (len > 0 && (s[len - 1] == 'K' || s[len - 1] == 'k')) {
		mul = 1024;
		len--;
	} else if (len > 0 && (s[len - 1] == 'M' || s[len - 1] == 'm')) {
		mul = 1024 * 1024;
		len--;
	}
	if (parse_number(s, len, &n) == -1)
		return fail(ps, "bad size");
	*out = (int64_t)(n * mul);
	return 0;
}

/* A column within [lo, hi] (either may be absent: INT64_MIN/MAX). */
static int
range(struct parser *ps, const char *col, int64_t lo, int64_t hi)
{
	if (lo != INT64_MIN && hi != INT64_MAX) {
		buf_printf(&ps->pat->sql, "(%s BETWEEN ? AND ?)", col);
		if (add_param(ps, false, lo, NULL) == -1)
			return -1;
		return add_param(ps, false, hi, NULL);
	}
	if (lo != INT64_MIN) {
		buf_printf(&ps->pat->sql, "%s >= ?", col);
		return add_param(ps, false, lo, NULL);
	}
	if (hi != INT64_MAX) {
		buf_printf(&ps->pat->sql, "%s <= ?", col);
		return add_param(ps, false, hi, NULL);
	}
	buf_adds(&ps->pat->sql, "1");
	return 0;
}

static int
size_term(struct parser *ps, const char *arg)
{
	const char	*dash = strchr(arg, '-');
	int64_t		 lo = INT64_MIN, hi = INT64_MAX;

	if (arg[0] == '<' || arg[0] == '>' || arg[0] == '=') {
		int64_t	v;

		if (parse_size(ps, arg + 1, strlen(arg + 1), &v) == -1)
			return -1;
		if (arg[0] == '<')
			hi = v - 1;
		else if (arg[0] == '>')
			lo = v + 1;
		else
			lo = hi = v;
	} else if (dash != NULL) {
		if (dash > arg && parse_size(ps, arg, (size_t)(dash - arg),
		    &lo) == -1)
			return -1;
		if (dash[1] != '\0' && parse_size(ps, dash + 1,
		    strlen(dash + 1), &hi) == -1)
			return -1;
	} else {
		if (parse_size(ps, arg, strlen(arg), &lo) == -1)
			return -1;
		hi = lo;
	}
	return range(ps, "m.size", lo, hi);
}

/* "DD/MM/YYYY", "DD/MM/YY", "DD/MM": local midnight of that day. */
static int
parse_day(struct parser *ps, const char *s, size_t len, int64_t *out)
{
	struct tm	tm;
	time_t		now = (time_t)ps->now, t;
	uint64_t	d, m, y;
	const char	*e = s + len, *sl1, *sl2;

	localtime_r(&now, &tm);
	if ((sl1 = memchr(s, '/', len)) == NULL)
		return fail(ps, "bad date (DD/MM/YYYY)");
	sl2 = memchr(sl1 + 1, '/', (size_t)(e - sl1 - 1));
	if (parse_u64(s, (size_t)(sl1 - s), 31, &d) == -1 || d == 0 ||
	    parse_u64(sl1 + 1, (size_t)((sl2 != NULL ? sl2 : e) - sl1 - 1), 12,
	    &m) == -1 || m == 0)
		return fail(ps, "bad date (DD/MM/YYYY)");
	y = (uint64_t)tm.tm_year + 1900;
	if (sl2 != NULL) {
		if (parse_u64(sl2 + 1, (size_t)(e - sl2 - 1), 9999, &y) == -1)
			return fail(ps, "bad year");
		if (y < 70)
			y += 2000;
		else if (y < 100)
			y += 1900;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = (int)d;
	tm.tm_mon = (int)m - 1;
	tm.tm_year = (int)y - 1900;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return fail(ps, "bad date");
	*out = (int64_t)t;
	return 0;
}

static int
parse_age(struct parser *ps, const char *s, int64_t *secs)
{
	size_t		len = strlen(s);
	uint64_t	n;
	int64_t		unit;

	if (len < 2)
		return fail(ps, "bad age (like 7d)");
	switch (s[len - 1]) {
	case 'S': unit = 1; break;
	case 'M': unit = 60; break;
	case 'H': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	case 'm': unit = 30 * 86400; break;
	case 'y': unit = 365 * 86400; break;
	default:
		return fail(ps, "bad age unit (S M H d w m y)");
	}
	if (parse_number(s, len - 1, &n) == -1)
		return fail(ps, "bad age");
	*secs = (int64_t)n * unit;
	return 0;
}

static int
date_term(struct parser *ps, const char *arg)
{
	int64_t		lo = INT64_MIN, hi = INT64_MAX, a = 0, b = 0;
	const char	*dash;

	if (arg[0] == '<' || arg[0] == '>' || arg[0] == '=') {
		if (parse_age(ps, arg + 1, &a) == -1)
			return -1;
		if (arg[0] == '<')		/* newer than */
			lo = ps->now - a;
		else if (arg[0] == '>')		/* older than */
			hi = ps->now - a;
		else {				/* that day */
			lo = ps->now - a - 86400;
			hi = ps->now - a;
		}
		return range(ps, "m.date", lo, hi);
	}
	if ((dash = strchr(arg, '-')) != NULL) {
		if (dash > arg) {
			if (parse_day(ps, arg, (size_t)(dash - arg), &a) == -1)
				return -1;
			lo = a;
		}
		if (dash[1] != '\0') {
			if (parse_day(ps, dash + 1, strlen(dash + 1), &b) == -1)
				return -1;
			hi = b + 86400 - 1;
		}
		return range(ps, "m.date", lo, hi);
	}
	if (parse_day(ps, arg, strlen(arg), &a) == -1)
		return -1;
	return range(ps, "m.date", a, a + 86400 - 1);
}

static int
flag_term(struct parser *ps, uint32_t flag, bool set)
{
	buf_printf(&ps->pat->sql, "(m.flags & %u) %s 0", flag, set ? "!=" : "=");
	return 0;
}

static int
parse_term(struct parser *ps)
{
	static const char *from[] = { "m.from_addr", NULL };
	static const char *to[] = { "m.to_addr", NULL };
	static const char *cc[] = { "m.cc_addr", NULL };
	static const char *tocc[] = { "m.to_addr", "m.cc_addr", NULL };
	static const char *all[] = { "m.from_addr", "m.to_addr", "m.cc_addr",
	    NULL };
	static const char *subj[] = { "m.subject", NULL };
	static const char *mid[] = { "m.message_id", NULL };
	static const char *refs[] = { "m.refs", "m.in_reply_to", NULL };
	static const char *word[] = { "m.from_addr", "m.subject", NULL };
	const char	**cols = NULL;
	char		 c, *arg;
	int		 rv;

	if (*ps->p != '~') {
		if ((arg = parse_arg(ps)) == NULL)
			return -1;
		rv = match_columns(ps, word, arg);
		free(arg);
		return rv;
	}
	c = ps->p[1];
	if (c == '\0')
		return fail(ps, "~ without a letter");
	ps->p += 2;
	switch (c) {
	case 'A': buf_adds(&ps->pat->sql, "1"); return 0;
	case 'D': return flag_term(ps, MSG_DELETED, true);
	case 'F': return flag_term(ps, MSG_FLAGGED, true);
	case 'N':
	case 'U': return flag_term(ps, MSG_SEEN, false);
	case 'R': return flag_term(ps, MSG_SEEN, true);
	case 'Q': return flag_term(ps, MSG_ANSWERED, true);
	/* petrel keeps no "old" state apart from unread: as mutt with
	 * mark_old unset, no message is old. */
	case 'O': buf_adds(&ps->pat->sql, "0"); return 0;
	case 'T':
		buf_adds(&ps->pat->sql, "m.id IN (SELECT id FROM temp.tagged)");
		return 0;
	case 'f': case 'e': cols = from; break;
	case 't': cols = to; break;
	case 'c': cols = cc; break;
	case 'C': cols = tocc; break;
	case 'L': cols = all; break;
	case 's': cols = subj; break;
	case 'i': cols = mid; break;
	case 'x': cols = refs; break;
	case 'd': case 'z': case 'b': case 'B': case 'h':
		break;
	default:
		ps->p -= 2;
		error_set(ps->err, ERR_USAGE, "pattern: unknown pattern ~%c at "
		    "position %d", c, (int)(ps->p - ps->s) + 1);
		return -1;
	}
	if ((arg = parse_arg(ps)) == NULL)
		return -1;
	if (c == 'd')
		rv = date_term(ps, arg);
	else if (c == 'b' || c == 'B' || c == 'h')
		rv = text_term(ps, c, arg);
	else if (c == 'z')
		rv = size_term(ps, arg);
	else
		rv = match_columns(ps, cols, arg);
	free(arg);
	return rv;
}

static int
parse_not(struct parser *ps)
{
	int	rv;

	skip_space(ps);
	if (++ps->depth > PATTERN_DEPTH)
		return fail(ps, "nested too deep");
	if (*ps->p == '!') {
		ps->p++;
		buf_adds(&ps->pat->sql, "NOT ");
		rv = parse_not(ps);
	} else if (*ps->p == '(') {
		ps->p++;
		buf_adds(&ps->pat->sql, "(");
		if ((rv = parse_or(ps)) == 0) {
			skip_space(ps);
			if (*ps->p != ')')
				rv = fail(ps, "missing )");
			else
				ps->p++;
		}
		buf_adds(&ps->pat->sql, ")");
	} else if (*ps->p == '\0' || *ps->p == ')' || *ps->p == '|')
		rv = fail(ps, "missing term");
	else {
		buf_adds(&ps->pat->sql, "(");
		rv = parse_term(ps);
		buf_adds(&ps->pat->sql, ")");
	}
	ps->depth--;
	return rv;
}

static int
parse_and(struct parser *ps)
{
	if (parse_not(ps) == -1)
		return -1;
	for (;;) {
		skip_space(ps);
		if (*ps->p == '\0' || *ps->p == ')' || *ps->p == '|')
			return 0;
		buf_adds(&ps->pat->sql, " AND ");
		if (parse_not(ps) == -1)
			return -1;
	}
}

static int
parse_or(struct parser *ps)
{
	buf_adds(&ps->pat->sql, "(");
	if (parse_and(ps) == -1)
		return -1;
	for (;;) {
		skip_space(ps);
		if (*ps->p != '|')
			break;
		ps->p++;
		buf_adds(&ps->pat->sql, ") OR (");
		if (parse_and(ps) == -1)
			return -1;
	}
	buf_adds(&ps->pat->sql, ")");
	return 0;
}

int
cache_pattern_compile(const char *text, int64_t now, struct cache_pattern **pp,
    struct error *err)
{
	struct parser	ps;

	*pp = NULL;
	if (strlen(text) > PATTERN_MAX)
		return error_set(err, ERR_USAGE, "pattern: longer than %d bytes",
		    PATTERN_MAX);
	memset(&ps, 0, sizeof ps);
	ps.s = ps.p = text;
	ps.now = now != 0 ? now : (int64_t)time(NULL);
	ps.err = err;
	ps.pat = xcalloc(1, sizeof *ps.pat);
	buf_init(&ps.pat->sql, 0);
	skip_space(&ps);
	if (*ps.p == '\0') {
		fail(&ps, "empty pattern");
		goto bad;
	}
	if (parse_or(&ps) == -1)
		goto bad;
	skip_space(&ps);
	if (*ps.p != '\0') {
		fail(&ps, *ps.p == ')' ? "unbalanced )" : "unexpected text");
		goto bad;
	}
	*pp = ps.pat;
	return 0;
bad:
	cache_pattern_free(&ps.pat);
	return -1;
}

void
cache_pattern_free(struct cache_pattern **pp)
{
	struct cache_pattern	*p = *pp;
	int			 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nparams; i++)
		free(p->params[i].str);
	for (i = 0; i < p->ntexts; i++) {
		free(p->texts[i]);
		free(p->words[i]);
	}
	buf_free(&p->sql);
	free(p);
	*pp = NULL;
}

const char *
cache_pattern_sql(const struct cache_pattern *p)
{
	return buf_cstr(&p->sql);
}


int
cache_pattern_bind(const struct cache_pattern *p, sqlite3_stmt *st, int first)
{
	int	i;

	for (i = 0; i < p->nparams; i++) {
		if (p->params[i].text) {
			if (sqlite3_bind_text(st, first + i, p->params[i].str, -1,
			    SQLITE_STATIC) != SQLITE_OK)
				return -1;
		} else if (sqlite3_bind_int64(st, first + i,
		    p->params[i].num) != SQLITE_OK)
			return -1;
	}
	return first + p->nparams;
}

bool
cache_pattern_has_text(const struct cache_pattern *p)
{
	return p != NULL && p->ntexts > 0;
}

int
cache_pattern_ntexts(const struct cache_pattern *p)
{
	return p != NULL ? p->ntexts : 0;
}

const char *
cache_pattern_text(const struct cache_pattern *p, int i, char *whichp,
    const char **wordp)
{
	if (p == NULL || i < 0 || i >= p->ntexts)
		return NULL;
	*whichp = p->which[i];
	*wordp = p->words[i];
	return p->texts[i];
}

int
cache_server_hits_put(struct cache *c, int64_t fid, const char *key,
    const uint32_t *uids, size_t n, struct error *err)
{
	sqlite3_stmt	*st = NULL;
	size_t		 i;

	if (cache_begin(c, err) == -1)
		return -1;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM server_hits WHERE "
	    "folder_id = ?1 AND q = ?2", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, fid);
	cache_bind_text(st, 2, key);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO server_hits("
	    "folder_id, q, uid) VALUES (?1, ?2, ?3)", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, fid);
	cache_bind_text(st, 2, key);
	for (i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 3, uids[i]);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return cache_commit(c, err);
fail:
	cache_db_error(c, err, "storing a server's search");
	sqlite3_finalize(st);
	cache_rollback(c);
	return -1;
}

int
cache_pattern_ready(struct cache *c, const struct cache_pattern *p,
    struct error *err)
{
	if (p == NULL || p->ntexts == 0)
		return 0;
	return cache_text_prepare(c, (const char *const *)p->texts,
	    p->ntexts, err);
}

int
cache_tags_ensure(struct cache *c, struct error *err)
{
	/* Every page and count asks: create them once per connection. */
	if (c->temp_tables)
		return 0;
	if (sqlite3_exec(c->db, "CREATE TEMP TABLE IF NOT EXISTS "
	    "tagged(id INTEGER PRIMARY KEY);"
	    "CREATE TEMP TABLE IF NOT EXISTS collapsed(root TEXT PRIMARY KEY)",
	    NULL, NULL, NULL) != SQLITE_OK)
		return cache_db_error(c, err, "making the tag table");
	c->temp_tables = true;
	return 0;
}

int
cache_pattern_select(struct cache *c, int64_t folder_id,
    const struct cache_pattern *p, cache_uid_cb cb, void *arg,
    struct error *err)
{
	sqlite3_stmt	*st;
	char		*sql;
	int		 rc, stop = 0;

	if (cache_tags_ensure(c, err) == -1 ||
	    cache_pattern_ready(c, p, err) == -1)
		return -1;
	sql = sqlite3_mprintf("SELECT m.uid FROM messages m WHERE "
	    "m.folder_id = ?1 AND m.hidden = 0 AND (%s) ORDER BY m.id",
	    cache_pattern_sql(p));
	rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return cache_db_error(c, err, "searching");
	sqlite3_bind_int64(st, 1, folder_id);
	if (cache_pattern_bind(p, st, 2) == -1) {
		sqlite3_finalize(st);
		return error_set(err, ERR_LOCAL, "binding a pattern");
	}
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
		stop = cb(arg, (uint32_t)sqlite3_column_int64(st, 0));
	if (!stop && rc != SQLITE_DONE) {
		cache_db_error(c, err, "searching");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- REGEXP ------------------------------------------------------------ */

static void
regex_free(void *p)
{
	regfree(p);
	free(p);
}

/* regexp(PATTERN, VALUE): the REGEXP operator; "(?i)" first: ignore case. */
static void
regexp_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char	*pat, *val;
	regex_t		*re;
	int		 flags = REG_EXTENDED | REG_NOSUB;

	(void)argc;
	if ((val = (const char *)sqlite3_value_text(argv[1])) == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	if ((re = sqlite3_get_auxdata(ctx, 0)) == NULL) {
		if ((pat = (const char *)sqlite3_value_text(argv[0])) == NULL) {
			sqlite3_result_int(ctx, 0);
			return;
		}
		if (strncmp(pat, "(?i)", 4) == 0) {
			flags |= REG_ICASE;
			pat += 4;
		}
		re = xmalloc(sizeof *re);
		if (regcomp(re, pat, flags) != 0) {
			free(re);
			sqlite3_result_error(ctx, "bad regular expression", -1);
			return;
		}
		sqlite3_result_int(ctx, regexec(re, val, 0, NULL, 0) == 0);
		/* Kept for the next rows; SQLite frees it when done. */
		sqlite3_set_auxdata(ctx, 0, re, regex_free);
		return;
	}
	sqlite3_result_int(ctx, regexec(re, val, 0, NULL, 0) == 0);
}

int
cache_sql_functions(sqlite3 *db)
{
	return sqlite3_create_function(db, "regexp", 2, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, regexp_fn, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}
