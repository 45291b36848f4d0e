/* petrel list [--json] [FOLDER]: the index of a folder from the cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cache.h"
#include "charset.h"
#include "cli.h"
#include "conf.h"
#include "mime.h"

struct list_ctx {
	bool		json;
	struct buf	b;
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
		add_column(&ctx->b, m->subject, 60, false);
		buf_addc(&ctx->b, '\n');
	}
	fwrite(ctx->b.data, 1, ctx->b.len, stdout);
	return 0;
}

int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct list_ctx		 lc;
	struct account		*acct;
	struct cache		*cache;
	struct cache_folder	 f;
	struct error		 err;
	const char		*folder = NULL;
	int			 i, rv, found;
	int64_t			 fid;

	memset(&lc, 0, sizeof lc);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			lc.json = true;
		else if (argv[i][0] == '-' || folder != NULL)
			return cli_usage(cli_find("list"));
		else
			folder = argv[i];
	}
	if (folder == NULL)
		folder = "INBOX";
	if ((acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	error_clear(&err);
	if (cache_open(acct->name, CACHE_READONLY, &cache, &err) == -1)
		return cli_fail(&err);
	if ((found = cache_folder_get(cache, folder, &f, &err)) != 1) {
		if (found == 0)
			error_set(&err, ERR_USAGE, "no folder \"%s\" in the cache "
			    "of %s (run petrel sync)", folder, acct->name);
		cache_close(&cache);
		return cli_fail(&err);
	}
	fid = f.id;
	buf_init(&lc.b, 0);
	rv = cache_msg_foreach(cache, fid, CACHE_ORDER_DATE_DESC, 0, -1, msg_cb,
	    &lc, &err);
	buf_free(&lc.b);
	cache_close(&cache);
	return rv == -1 ? cli_fail(&err) : EXIT_OK;
}
