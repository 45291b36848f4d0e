/* petrel show [--raw] FOLDER UID: print a message, fetching it if needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"

int
cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_render_opts	 ro;
	struct account		*acct;
	struct cache		*cache;
	struct cache_folder	 f;
	struct error		 err;
	const char		*folder = NULL, *uidarg = NULL;
	char			*raw = NULL;
	size_t			 len;
	uint64_t		 uid;
	int64_t			 fid;
	bool			 rawmode = false;
	int			 i, found, rv;

	memset(&ro, 0, sizeof ro);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--raw") == 0)
			rawmode = true;
		else if (strcmp(argv[i], "--headers") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "all") == 0)
				ro.headers_all = true;
			else if (strcmp(argv[i], "default") != 0)
				return cli_usage(cli_find("show"));
		} else if (strcmp(argv[i], "--save") == 0 && i + 2 < argc) {
			ro.save_n = atoi(argv[i + 1]);
			ro.save_dir = argv[i + 2];
			if (ro.save_n < 1)
				return cli_usage(cli_find("show"));
			i += 2;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage(cli_find("show"));
		else if (folder == NULL)
			folder = argv[i];
		else if (uidarg == NULL)
			uidarg = argv[i];
		else
			return cli_usage(cli_find("show"));
	}
	if (folder == NULL || uidarg == NULL ||
	    parse_u64(uidarg, strlen(uidarg), UINT32_MAX, &uid) == -1 || uid == 0)
		return cli_usage(cli_find("show"));
	if ((acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	if (!rawmode && (rv = cli_render_conf(ctx->conf)) != 0)
		return rv;
	error_clear(&err);
	if (cache_open(acct->name, 0, &cache, &err) == -1)
		return cli_fail(&err);
	if ((found = cache_folder_get(cache, folder, &f, &err)) != 1) {
		if (found == 0)
			error_set(&err, ERR_USAGE, "no folder \"%s\" in the cache "
			    "of %s (run petrel sync)", folder, acct->name);
		goto fail;
	}
	fid = f.id;
	if ((found = cache_body_get(cache, fid, (uint32_t)uid, &raw, &len,
	    &err)) == -1)
		goto fail;
	if (found == 0) {
		struct cache_msg m;

		if ((found = cache_msg_get(cache, fid, (uint32_t)uid, &m,
		    &err)) != 1) {
			if (found == 0)
				error_set(&err, ERR_USAGE, "no message %llu in "
				    "%s (run petrel sync)",
				    (unsigned long long)uid, folder);
			goto fail;
		}
		if (ctx->offline) {
			error_set(&err, ERR_TRANSIENT, "message %llu of %s is "
			    "not cached, and --offline forbids fetching it",
			    (unsigned long long)uid, folder);
			goto fail;
		}
		if (engine_fetch_body(acct, cache, folder, (uint32_t)uid,
		    &err) == -1 ||
		    cache_body_get(cache, fid, (uint32_t)uid, &raw, &len,
		    &err) != 1)
			goto fail;
	}
	cache_close(&cache);
	if (rawmode) {
		fwrite(raw, 1, len, stdout);
		rv = EXIT_OK;
	} else
		rv = cli_render_message(raw, len, &ro);
	free(raw);
	return rv;
fail:
	cache_close(&cache);
	free(raw);
	return cli_fail(&err);
}
