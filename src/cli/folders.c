/* petrel folders [--json]: the cached folders with their counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "mime.h"

struct folders_ctx {
	bool		json;
	struct buf	b;
};

static int
folder_cb(void *arg, const struct cache_folder *f)
{
	struct folders_ctx	*ctx = arg;
	char			 when[32], *safe;
	size_t			 len;

	if (f->noselect && f->total == 0)
		return 0;	/* a name in the hierarchy, not a folder */
	buf_reset(&ctx->b);
	if (ctx->json) {
		buf_adds(&ctx->b, "{\"name\":");
		json_add_string(&ctx->b, f->name, strlen(f->name));
		buf_printf(&ctx->b, ",\"total\":%lld,\"unseen\":%lld",
		    (long long)f->total, (long long)f->unseen);
		buf_adds(&ctx->b, ",\"special_use\":");
		if (f->special_use != NULL)
			json_add_string(&ctx->b, f->special_use,
			    strlen(f->special_use));
		else
			buf_adds(&ctx->b, "null");
		buf_adds(&ctx->b, ",\"last_sync\":");
		if (f->last_sync != 0) {
			format_rfc3339(when, f->last_sync, 0);
			json_add_string(&ctx->b, when, strlen(when));
		} else
			buf_adds(&ctx->b, "null");
		buf_printf(&ctx->b, ",\"complete\":%s}\n",
		    f->complete ? "true" : "false");
	} else {
		safe = mime_sanitize_terminal(f->name, strlen(f->name), &len);
		buf_printf(&ctx->b, "%-30s %7lld %7lld%s%s\n", safe,
		    (long long)f->total, (long long)f->unseen,
		    f->special_use != NULL ? "  " : "",
		    f->special_use != NULL ? f->special_use : "");
		free(safe);
	}
	fwrite(ctx->b.data, 1, ctx->b.len, stdout);
	return 0;
}

int
cmd_folders(struct cli_ctx *ctx, int argc, char **argv)
{
	struct folders_ctx	 fc;
	struct account		*acct;
	struct cache		*cache;
	struct error		 err;
	int			 i, rv;

	memset(&fc, 0, sizeof fc);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			fc.json = true;
		else
			return cli_usage(cli_find("folders"));
	}
	if ((acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	error_clear(&err);
	if (cache_open(acct->name, CACHE_READONLY, &cache, &err) == -1)
		return cli_fail(&err);
	buf_init(&fc.b, 0);
	if (!fc.json)
		printf("%-30s %7s %7s\n", "FOLDER", "TOTAL", "UNSEEN");
	rv = cache_folder_foreach(cache, true, folder_cb, &fc, &err);
	buf_free(&fc.b);
	cache_close(&cache);
	return rv == -1 ? cli_fail(&err) : EXIT_OK;
}
