/*
 * petrel auth [--device] [--no-browser] [--timeout SECONDS]: authorize
 * petrel with the account's OAuth2 provider (oauth2_provider) and keep the
 * tokens for its logins.
 *
 * By default the authorization code grant with PKCE: petrel listens on a
 * loopback port, prints the provider's URL (and opens it with $BROWSER
 * when set), and takes the code from the browser's redirect (RFC 8252).
 * --device (or a provider without an authorization URL) uses the device
 * grant instead (RFC 8628): a code to type on another device.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "engine.h"
#include "log.h"
#include "oauth.h"
#include "util.h"
#include "xmalloc.h"

extern char **environ;

/* $BROWSER URL, without a shell, its output away from the terminal. */
static void
open_browser(const char *url)
{
	const char			*br = getenv("BROWSER");
	posix_spawn_file_actions_t	 fa;
	char				*argv[3];
	pid_t				 pid;

	if (br == NULL || *br == '\0')
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
	    O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
	    O_WRONLY, 0);
	argv[0] = (char *)(uintptr_t)br;
	argv[1] = (char *)(uintptr_t)url;
	argv[2] = NULL;
	if (posix_spawnp(&pid, br, &fa, NULL, argv, environ) != 0)
		fprintf(stderr, "petrel auth: cannot run $BROWSER (%s)\n", br);
	posix_spawn_file_actions_destroy(&fa);
}

int
cmd_auth(struct cli_ctx *ctx, int argc, char **argv)
{
	struct account		*a;
	struct oauth_provider	 p;
	struct oauth_tokens	 t;
	struct oauth_code	*code = NULL;
	struct oauth_device	 dev;
	struct error		 err;
	bool			 device = false, browser = true;
	long			 timeout = 300;
	char			*path, *end;
	int			 i, rv;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--device") == 0)
			device = true;
		else if (strcmp(argv[i], "--no-browser") == 0)
			browser = false;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout = strtol(argv[++i], &end, 10);
			if (*end != '\0' || timeout < 1 || timeout > 3600)
				return cli_usage(cli_find("auth"));
		} else
			return cli_usage(cli_find("auth"));
	}
	if ((a = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	error_clear(&err);
	if (!engine_oauth_builtin(a)) {
		error_set(&err, ERR_CONFIG, "account %s has no oauth2_provider "
		    "(google, microsoft or custom) to authorize with", a->name);
		return cli_fail(&err);
	}
	if (ctx->offline) {
		error_set(&err, ERR_USAGE, "petrel auth needs the network");
		return cli_fail(&err);
	}
	if (engine_oauth_provider(a, &p, &err) == -1)
		return cli_fail(&err);
	p.timeout_ms = 30000;
	if (p.auth_url == NULL)
		device = true;

	memset(&t, 0, sizeof t);
	if (device) {
		if (oauth_device_start(&p, &dev, &err) == -1)
			return cli_fail(&err);
		printf("To authorize petrel for %s, open\n\n  %s\n\nand enter "
		    "the code\n\n  %s\n\nWaiting for the approval...\n",
		    a->name, dev.verification_uri_complete != NULL ?
		    dev.verification_uri_complete : dev.verification_uri,
		    dev.user_code);
		fflush(stdout);
		rv = oauth_device_wait(&p, &dev, &t, &err);
		oauth_device_free(&dev);
	} else {
		if ((code = oauth_code_start(&p, a->user, &err)) == NULL)
			return cli_fail(&err);
		printf("To authorize petrel for %s, open this URL in a "
		    "browser:\n\n  %s\n\nWaiting for the browser (at most %ld "
		    "s)...\n", a->name, oauth_code_url(code), timeout);
		fflush(stdout);
		if (browser)
			open_browser(oauth_code_url(code));
		rv = oauth_code_finish(code, (int)timeout * 1000, &t, &err);
		oauth_code_free(&code);
	}
	if (rv == -1)
		return cli_fail(&err);
	if (engine_oauth_save(a, &t, &err) == -1) {
		oauth_tokens_free(&t);
		return cli_fail(&err);
	}
	path = engine_oauth_path(a);
	printf("petrel auth: %s is authorized; the tokens are kept in %s\n",
	    a->name, path);
	if (t.refresh == NULL)
		printf("petrel auth: the provider gave no refresh token: run "
		    "petrel auth again when the access token expires\n");
	free(path);
	oauth_tokens_free(&t);
	return EXIT_OK;
}
