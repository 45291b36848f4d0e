/*
 * petrel render [--json] [--headers all|default] [--save N DIR] FILE|-:
 * render a raw message from a file or standard input exactly as the pager
 * and `petrel show` do (cli_render_message is shared with show). No account
 * and no network; the [options] of the configuration are used when there
 * is a configuration (see petrel.conf(5)).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "cli.h"
#include "conf.h"
#include "mime.h"
#include "xmalloc.h"

#define RENDER_INPUT_MAX	(256 * 1024 * 1024)	/* bytes of one message */

/* The options from the configuration (see petrel.conf(5)). */
static struct mime_render_opts	render_opts;
static char			*render_alt, *render_mailcap, *render_headers;

const struct mime_render_opts *
cli_render_options(void)
{
	return &render_opts;
}

int
cli_render_conf(const struct conf *conf)
{
	const char	*v;
	struct error	 err;
	uint64_t	 n;

	memset(&render_opts, 0, sizeof render_opts);
	free(render_alt);
	free(render_mailcap);
	free(render_headers);
	render_alt = render_mailcap = render_headers = NULL;
	if (conf == NULL)
		return 0;
	error_clear(&err);
	if ((v = conf_get(conf, NULL, "charset_fallback")) != NULL &&
	    charset_set_fallback(v, &err) == -1) {
		error_prefix(&err, "%s: charset_fallback", conf->path);
		return cli_fail(&err);
	}
	if ((v = conf_get(conf, NULL, "alternative_order")) != NULL)
		render_opts.alternative = render_alt = xstrdup(v);
	if ((v = conf_get(conf, NULL, "mailcap_path")) != NULL)
		render_opts.mailcap = render_mailcap = xstrdup(v);
	if ((v = conf_get(conf, NULL, "mailcap_timeout")) != NULL) {
		if (parse_u64(v, strlen(v), 3600, &n) == -1 || n == 0) {
			error_set(&err, ERR_CONFIG, "%s: mailcap_timeout: not a "
			    "number of seconds (1-3600): %s", conf->path, v);
			return cli_fail(&err);
		}
		render_opts.mailcap_timeout_ms = (int)n * 1000;
	}
	if ((v = conf_get(conf, NULL, "headers")) != NULL)
		render_opts.headers = render_headers = xstrdup(v);
	if ((v = conf_get(conf, NULL, "wrap")) != NULL) {
		if (parse_u64(v, strlen(v), 1000, &n) == -1 || n < 20) {
			error_set(&err, ERR_CONFIG, "%s: wrap: not a number of "
			    "columns (20-1000): %s", conf->path, v);
			return cli_fail(&err);
		}
		render_opts.width = (int)n;
	}
	return 0;
}

/* Write all of b to stdout. */
static void
render_out(const char *s, size_t len)
{
	if (len > 0)
		fwrite(s, 1, len, stdout);
}

static void
render_json(const struct mime_view *v)
{
	struct buf	b;
	char		date[32];
	size_t		i;

	buf_init(&b, 0);
	buf_adds(&b, "{\"subject\":");
	json_add_string(&b, v->subject, strlen(v->subject));
	buf_adds(&b, ",\"from\":");
	json_add_string(&b, v->from, strlen(v->from));
	buf_adds(&b, ",\"to\":[");
	for (i = 0; i < v->nto; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		json_add_string(&b, v->to[i], strlen(v->to[i]));
	}
	buf_adds(&b, "],\"cc\":[");
	for (i = 0; i < v->ncc; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		json_add_string(&b, v->cc[i], strlen(v->cc[i]));
	}
	buf_adds(&b, "],\"date\":");
	if (v->has_date) {
		format_rfc3339(date, v->date, v->tzoff_min);
		json_add_string(&b, date, strlen(date));
	} else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"attachments\":[");
	for (i = 0; i < v->natt; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"filename\":");
		json_add_string(&b, v->att[i].filename,
		    strlen(v->att[i].filename));
		buf_adds(&b, ",\"type\":");
		json_add_string(&b, v->att[i].type, strlen(v->att[i].type));
		buf_printf(&b, ",\"size\":%zu}", v->att[i].size);
	}
	buf_adds(&b, "],\"body\":");
	json_add_string(&b, v->body, v->bodylen);
	buf_adds(&b, "}\n");
	render_out(b.data, b.len);
	buf_free(&b);
}

int
cli_render_message(const char *raw, size_t len,
    const struct cli_render_opts *ro)
{
	struct mime_render_opts	 o = render_opts;
	struct mime_view	*v;
	struct error		 err;
	struct buf		 b;
	char			*path;
	int			 rv = EXIT_OK;

	error_clear(&err);
	o.headers_all = ro->headers_all;
	if (mime_render(raw, len, &o, &v, &err) == -1)
		return cli_fail(&err);
	if (ro->save_n > 0) {
		if (mime_view_save(v, ro->save_n, ro->save_dir != NULL ?
		    ro->save_dir : ".", &path, &err) == -1)
			rv = cli_fail(&err);
		else {
			/* The directory is the user's; still, show it safely. */
			char *safe = mime_sanitize_terminal(path, strlen(path),
			    NULL);

			if (ro->json) {
				buf_init(&b, 0);
				buf_adds(&b, "{\"saved\":");
				json_add_string(&b, safe, strlen(safe));
				buf_adds(&b, "}\n");
				render_out(b.data, b.len);
				buf_free(&b);
			} else
				printf("%s\n", safe);
			free(safe);
			free(path);
		}
	} else if (ro->json)
		render_json(v);
	else {
		render_out(v->headers, strlen(v->headers));
		if (v->headers[0] != '\0')
			render_out("\n", 1);
		render_out(v->body, v->bodylen);
	}
	mime_view_free(&v);
	return rv;
}

/* Read all of fd (at most RENDER_INPUT_MAX bytes). */
static char *
render_read(int fd, const char *name, size_t *lenp, struct error *err)
{
	char	*data;

	if (read_all(fd, RENDER_INPUT_MAX, &data, lenp) == -1) {
		if (errno == EFBIG)
			error_set(err, ERR_LOCAL, "%s: message too large (more "
			    "than %d MB)", name, RENDER_INPUT_MAX >> 20);
		else
			error_set(err, ERR_LOCAL, "%s: %s", name,
			    strerror(errno));
		return NULL;
	}
	return data;
}

/* Load the configuration for its [options]: given, else only if it exists. */
static int
render_config(struct cli_ctx *ctx)
{
	struct error	 err;
	const char	*env;
	char		*path;
	struct stat	 st;
	bool		 exists;

	if (ctx->conf == NULL) {
		error_clear(&err);
		if (ctx->config_path != NULL) {
			if (conf_load(ctx->config_path, &ctx->conf, &err) == -1)
				return cli_fail(&err);
		} else {
			if ((env = getenv("PETREL_CONFIG")) != NULL &&
			    *env != '\0')
				path = xstrdup(env);
			else
				path = path_config_file();
			exists = stat(path, &st) == 0;
			free(path);
			/* A broken config does not stop a render: say so. */
			if (exists && conf_load(NULL, &ctx->conf, &err) == -1)
				fprintf(stderr, "petrel: %s (options not used)\n",
				    err.msg);
		}
	}
	return cli_render_conf(ctx->conf);
}

int
cmd_render(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_render_opts	 ro;
	struct error		 err;
	const char		*file = NULL;
	char			*raw;
	size_t			 len;
	uint64_t		 n;
	int			 i, fd, rv;

	memset(&ro, 0, sizeof ro);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			ro.json = true;
		else if (strcmp(argv[i], "--headers") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "all") == 0)
				ro.headers_all = true;
			else if (strcmp(argv[i], "default") == 0)
				ro.headers_all = false;
			else
				return cli_usage(cli_find("render"));
		} else if (strcmp(argv[i], "--save") == 0 && i + 2 < argc) {
			if (parse_u64(argv[i + 1], strlen(argv[i + 1]), 100000,
			    &n) == -1 || n == 0)
				return cli_usage(cli_find("render"));
			ro.save_n = (int)n;
			ro.save_dir = argv[i + 2];
			i += 2;
		} else if (strcmp(argv[i], "--") == 0 && i + 1 < argc &&
		    file == NULL) {
			file = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1] != '\0')
			return cli_usage(cli_find("render"));
		else if (file == NULL)
			file = argv[i];
		else
			return cli_usage(cli_find("render"));
	}
	if (file == NULL)
		return cli_usage(cli_find("render"));
	if ((rv = render_config(ctx)) != 0)
		return rv;
	error_clear(&err);
	if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		error_set(&err, ERR_LOCAL, "%s: %s", file, strerror(errno));
		return cli_fail(&err);
	}
	raw = render_read(fd, strcmp(file, "-") == 0 ? "standard input" : file,
	    &len, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (raw == NULL)
		return cli_fail(&err);
	if (len == 0) {
		free(raw);
		error_set(&err, ERR_LOCAL, "%s: empty message", file);
		return cli_fail(&err);
	}
	rv = cli_render_message(raw, len, &ro);
	free(raw);
	return rv;
}
