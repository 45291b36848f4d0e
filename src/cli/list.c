/*
 * petrel list [--json] [--limit PATTERN] [--sort KEY] [FOLDER]: the index of
 * a folder from the cache, through the same pattern and sort code as the
 * TUI's index (cache/view.c, cache/pattern.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "charset.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"
#include "mime.h"

struct list_ctx {
	bool		json;
	struct buf	b;
	struct cache_key last;		/* paging: the last row written */
	enum cache_sort	sort;
	int		n;
	bool		threads;
};

static const struct {
	uint32_t	 bit;
	const char	*name;
} flag_names[] = {
	{ MSG_SEEN, "\\Seen" },
	{ MSG_ANSWERED, "\\Answered" },
	{ MSG_FLAGGED, "\\Flagged" },
	{ MSG_DELETED, "\\Deleted" },
	{ MSG_DRAFT, "\\Draft" },
	{ MSG_FORWARDED, "$Forwarded" },
};

static void
add_flags_json(struct buf *b, const struct cache_msg *m)
{
	const char	*k, *e;
	size_t		 i;
	bool		 first = true;

	buf_addc(b, '[');
	for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
		if (!(m->flags & flag_names[i].bit))
			continue;
		if (!first)
			buf_addc(b, ',');
		json_add_string(b, flag_names[i].name, strlen(flag_names[i].name));
		first = false;
	}
	for (k = m->keywords; k != NULL && *k != '\0'; k = e) {
		while (*k == ' ')
			k++;
		if (*k == '\0')
			break;
		for (e = k; *e != '\0' && *e != ' '; e++)
			;
		if (!first)
			buf_addc(b, ',');
		json_add_string(b, k, (size_t)(e - k));
		first = false;
	}
	buf_addc(b, ']');
}

static void
add_json_or_null(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_adds(b, "\"\"");
	else
		json_add_string(b, s, strlen(s));
}

/* Append s made terminal-safe, cut or padded to exactly cols columns. */
static void
add_column(struct buf *b, const char *s, size_t cols, bool pad)
{
	char	*safe;
	size_t	 len, n, w;

	if (s == NULL)
		s = "";
	safe = mime_sanitize_terminal(s, strlen(s), &len);
	n = utf8_truncate(safe, len, cols);
	buf_add(b, safe, n);
	w = utf8_width(safe, n);
	free(safe);
	for (; pad && w < cols; w++)
		buf_addc(b, ' ');
}

static int
msg_cb(void *arg, const struct cache_msg *m)
{
	struct list_ctx	*ctx = arg;
	char		 when[32];

	buf_reset(&ctx->b);
	if (ctx->json) {
		format_rfc3339(when, m->date, m->date_tz);
		buf_printf(&ctx->b, "{\"uid\":%u,\"date\":", m->uid);
		json_add_string(&ctx->b, when, strlen(when));
		buf_adds(&ctx->b, ",\"from\":");
		add_json_or_null(&ctx->b, m->from);
		buf_adds(&ctx->b, ",\"subject\":");
		add_json_or_null(&ctx->b, m->subject);
		buf_adds(&ctx->b, ",\"flags\":");
		add_flags_json(&ctx->b, m);
		buf_printf(&ctx->b, ",\"size\":%lld", (long long)m->size);
		buf_adds(&ctx->b, ",\"message_id\":");
		add_json_or_null(&ctx->b, m->message_id);
		if (ctx->threads) {
			uint32_t parent = cache_thread_parent_uid(
			    m->thread_path);

			buf_printf(&ctx->b, ",\"depth\":%d,\"parent\":",
			    cache_thread_depth(m->thread_path));
			if (parent != 0)
				buf_printf(&ctx->b, "%u", parent);
			else
				buf_adds(&ctx->b, "null");
			buf_printf(&ctx->b, ",\"gap\":%s",
			    m->thread_gap ? "true" : "false");
		}
		buf_adds(&ctx->b, "}\n");
	} else {
		struct tm	tm;
		time_t		t = (time_t)(m->date + m->date_tz * 60);

		gmtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		buf_printf(&ctx->b, "%6u %c%c%c %s  ", m->uid,
		    !(m->flags & MSG_SEEN) ? 'N' : ' ',
		    (m->flags & MSG_FLAGGED) ? '!' : ' ',
		    (m->flags & MSG_ANSWERED) ? 'r' : ' ', when);
		add_column(&ctx->b, m->from, 24, true);
		buf_adds(&ctx->b, "  ");
		if (ctx->threads) {
			int d = cache_thread_depth(m->thread_path), j;

			for (j = 0; j < d && j < 20; j++)
				buf_adds(&ctx->b, "  ");
			if (m->thread_gap)
				buf_adds(&ctx->b, "? ");
		}
		add_column(&ctx->b, m->subject, 60, false);
		buf_addc(&ctx->b, '\n');
	}
	fwrite(ctx->b.data, 1, ctx->b.len, stdout);
	return 0;
}

/* A row of a view: written, and its key kept for the next page. */
static int
view_cb(void *arg, const struct cache_msg *m)
{
	struct list_ctx	*ctx = arg;

	ctx->n++;
	cache_key_clear(&ctx->last);
	cache_key_set(&ctx->last, ctx->sort, m);
	return msg_cb(arg, m);
}

/* Every row of the view, a page at a time from the last key. */
static int
list_view(struct cache *cache, struct list_ctx *lc,
    const struct cache_view *v, struct error *err)
{
	bool	first = true;
	int	rv;

	lc->sort = v->sort;
	do {
		lc->n = 0;
		rv = cache_view_page(cache, v, first ? NULL : &lc->last, 1,
		    false, 512, view_cb, lc, err);
		first = false;
	} while (rv == 512 && lc->n == 512);
	cache_key_clear(&lc->last);
	return rv == -1 ? -1 : 0;
}

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct list_ctx		 lc;
	struct account		*acct;
	struct cache		*cache;
	struct cache_folder	 f;
	struct error		 err;
	struct cache_view	 v;
	struct cache_pattern	*limit = NULL;
	const char		*folder = NULL, *limit_text = NULL;
	const char		*sort_text = NULL;
	int			 i, rv, found;
	int64_t			 fid;

	memset(&lc, 0, sizeof lc);
	memset(&v, 0, sizeof v);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			lc.json = true;
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit_text = argv[++i];
		else if (strcmp(argv[i], "--sort") == 0 && i + 1 < argc)
			sort_text = argv[++i];
		else if (strcmp(argv[i], "--threads") == 0)
			lc.threads = true;
		else if (argv[i][0] == '-' || folder != NULL)
			return cli_usage(cli_find("list"));
		else
			folder = argv[i];
	}
	if (folder == NULL)
		folder = "INBOX";
	error_clear(&err);
	/* Newest first unless a sort is asked for, as before. */
	v.sort = CACHE_SORT_DATE;
	v.reverse = true;
	if (sort_text != NULL) {
		v.reverse = strncmp(sort_text, "reverse-", 8) == 0;
		if (cache_sort_parse(sort_text + (v.reverse ? 8 : 0),
		    &v.sort) == -1) {
			error_set(&err, ERR_USAGE, "unknown sort \"%s\" (date, "
			    "arrival, from, subject, size, or reverse-KEY)",
			    sort_text);
			return cli_fail(&err);
		}
	}
	if (sort_text != NULL && v.sort == CACHE_SORT_THREADS)
		lc.threads = true;
	if (lc.threads) {
		if (sort_text != NULL && v.sort != CACHE_SORT_THREADS) {
			error_set(&err, ERR_USAGE, "--threads sorts by threads: "
			    "it does not go with --sort %s", sort_text);
			return cli_fail(&err);
		}
		if (sort_text != NULL && v.reverse) {
			error_set(&err, ERR_USAGE, "reverse-threads is not "
			    "supported");
			return cli_fail(&err);
		}
		v.sort = CACHE_SORT_THREADS;
		v.reverse = false;
	}
	if (limit_text != NULL && cache_pattern_compile(limit_text, 0, &limit,
	    &err) == -1)
		return cli_fail(&err);
	v.limit = limit;
	if ((acct = cli_account(ctx)) == NULL) {
		cache_pattern_free(&limit);
		return EXIT_USAGE;
	}
	/*
	 * Threading writes each new message's place in its thread; a body
	 * search first indexes the bodies no session has indexed yet.
	 */
	if (cache_open(acct->name, lc.threads || cache_pattern_has_text(limit) ?
	    0 : CACHE_READONLY, &cache, &err) == -1) {
		cache_pattern_free(&limit);
		return cli_fail(&err);
	}
	if (cache_pattern_has_text(limit) &&
	    engine_index_text(cache, NULL, NULL, NULL, &err) == -1) {
		cache_close(&cache);
		cache_pattern_free(&limit);
		return cli_fail(&err);
	}
	if ((found = cache_folder_get(cache, folder, &f, &err)) != 1) {
		if (found == 0)
			error_set(&err, ERR_USAGE, "no folder \"%s\" in the cache "
			    "of %s (run petrel sync)", folder, acct->name);
		cache_close(&cache);
		cache_pattern_free(&limit);
		return cli_fail(&err);
	}
	fid = f.id;
	buf_init(&lc.b, 0);
	if (limit == NULL && sort_text == NULL && !lc.threads)
		rv = cache_msg_foreach(cache, fid, CACHE_ORDER_DATE_DESC, 0,
		    -1, msg_cb, &lc, &err);
	else {
		v.folder_id = fid;
		rv = 0;
		if (lc.threads && cache_thread_update(cache, fid, NULL, NULL,
		    &err) == -1)
			rv = -1;
		if (rv == 0)
			rv = list_view(cache, &lc, &v, &err);
	}
	buf_free(&lc.b);
	cache_pattern_free(&limit);
	cache_close(&cache);
	return rv == -1 ? cli_fail(&err) : EXIT_OK;
}
