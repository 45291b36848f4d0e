/*
 * petrel setup [--address ADDR] [--password-command CMD] [--name NAME]
 *              [--ca-file FILE] [--list] [--yes]
 *
 * From a mail address to a config section that logs in: find the servers
 * (engine_setup_discover: SRV, autoconfig, guesses), try a login on each
 * in turn (IMAP before POP3 as found, the address and then its local part
 * as the user name), and append a commented [account] section to the
 * config file (created 0600 when missing). Without --yes it asks on the
 * terminal; with it, nothing is asked (scripts, the tests).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"
#include "secret.h"
#include "util.h"
#include "xmalloc.h"

#define SETUP_CANDIDATES	32

/* One line from the terminal (standard input); NULL at its end. */
static char *
ask(const char *prompt, bool echo)
{
	struct termios	 t, old;
	char		 line[1024];
	bool		 tty = isatty(STDIN_FILENO) && !echo &&
			     tcgetattr(STDIN_FILENO, &old) == 0;
	char		*nl, *r = NULL;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tty) {
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	}
	if (fgets(line, sizeof line, stdin) != NULL) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		r = secret_strdup(line);
	}
	explicit_bzero(line, sizeof line);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return r;
}

static bool
ask_yes(const char *prompt, bool dflt)
{
	char	*a = ask(prompt, true);
	bool	 yes = dflt;

	if (a != NULL && *a != '\0')
		yes = a[0] == 'y' || a[0] == 'Y';
	freezero_str(a);
	return yes;
}

/*
 * Trust on first use, as in the TUI: the certificate's particulars, and
 * "always" pins its key. Only asked on the terminal (never with --yes).
 */
static bool
trust_prompt(const struct session_cert *c)
{
	struct error	err;

	fprintf(stderr, "\nThe certificate of %s is not trusted: %s\n"
	    "  Subject:  %s\n  Issuer:   %s\n  Valid:    %s to %s\n"
	    "  SHA-256:  %s\n  Key:      %s\n", c->hostport, c->reason,
	    c->subject, c->issuer, c->not_before, c->not_after,
	    c->fingerprint, c->pin);
	if (!ask_yes("Trust it always (its key is pinned in known_hosts)? "
	    "[y/N] ", false))
		return false;
	error_clear(&err);
	if (engine_trust_always(c, &err) == -1) {
		fprintf(stderr, "petrel: %s\n", err.msg);
		return false;
	}
	fprintf(stderr, "Trying again... ");
	return true;
}

static const char *
scheme(const struct setup_candidate *c)
{
	if (c->proto == PROTO_IMAP)
		return c->tls == TLS_IMPLICIT ? "imaps" : "imap";
	return c->tls == TLS_IMPLICIT ? "pop3s" : "pop3";
}

/* A user name in a URL: '@' and the like percent-encoded. */
static void
url_user(struct buf *b, const char *u)
{
	for (; *u != '\0'; u++) {
		unsigned char c = (unsigned char)*u;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~+", c) != NULL)
			buf_addc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/* The section's name: --name, else the address's local part. */
static char *
default_name(const char *address)
{
	char	*n = xstrndup(address, strcspn(address, "@")), *p;

	for (p = n; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			*p = '_';
	return n;
}

static int
write_section(const char *path, const char *text, struct error *err)
{
	int	 fd;
	ssize_t	 n;

	if (mkdir_parents(path, err) == -1)
		return -1;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return error_set(err, ERR_LOCAL, "%s: %s", path,
		    strerror(errno));
	n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text) || fsync(fd) == -1) {
		close(fd);
		return error_set(err, ERR_LOCAL, "%s: %s", path,
		    strerror(errno != 0 ? errno : EIO));
	}
	close(fd);
	return 0;
}

int
cmd_setup(struct cli_ctx *ctx, int argc, char **argv)
{
	struct setup_candidate	 c[SETUP_CANDIDATES];
	struct session_cert	 cert;
	struct account		 tmp;
	struct conf		*conf = NULL;
	struct error		 err, last;
	struct buf		 sec = BUF_INIT(0);
	const char		*address = NULL, *pwcmd = NULL, *name_opt = NULL;
	const char		*ca = NULL;
	char			*addr = NULL, *pw = NULL, *path = NULL, *name = NULL;
	char			*typed = NULL;
	char			*users[2], day[16];
	bool			 yes = false, list = false, stored_pw = false;
	int			 i, n, u, found = -1, found_user = 0;
	struct tm		 tm;
	time_t			 now = time(NULL);

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0)
			yes = true;
		else if (strcmp(argv[i], "--list") == 0)
			list = true;
		else if (strcmp(argv[i], "--address") == 0 && i + 1 < argc)
			address = argv[++i];
		else if (strcmp(argv[i], "--password-command") == 0 &&
		    i + 1 < argc)
			pwcmd = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name_opt = argv[++i];
		else if (strcmp(argv[i], "--ca-file") == 0 && i + 1 < argc)
			ca = argv[++i];
		else
			return cli_usage(cli_find("setup"));
	}
	error_clear(&err);
	error_clear(&last);
	if (ctx->offline) {
		error_set(&err, ERR_USAGE, "petrel setup needs the network");
		return cli_fail(&err);
	}
	if (address == NULL) {
		if (yes || (addr = ask("Your mail address: ", true)) == NULL ||
		    *addr == '\0') {
			freezero_str(addr);
			error_set(&err, ERR_USAGE, "petrel setup: no address "
			    "(--address)");
			return cli_fail(&err);
		}
		address = addr;
	}
	if (ca != NULL && access(ca, R_OK) == -1) {
		error_set(&err, ERR_USAGE, "--ca-file %s: %s", ca,
		    strerror(errno));
		goto fail;
	}
	name = name_opt != NULL ? xstrdup(name_opt) : default_name(address);
	path = ctx->config_path != NULL ? xstrdup(ctx->config_path) :
	    getenv("PETREL_CONFIG") != NULL && *getenv("PETREL_CONFIG") != '\0' ?
	    xstrdup(getenv("PETREL_CONFIG")) : path_config_file();
	if (access(path, F_OK) == 0) {
		if (conf_load(path, &conf, &err) == -1) {
			goto fail;
		}
		if (conf_account(conf, name, &last) != NULL) {
			error_set(&err, ERR_USAGE, "%s already has an account "
			    "%s: give another --name", path, name);
			conf_free(&conf);
			goto fail;
		}
		conf_free(&conf);
	}
	fprintf(stderr, "Looking for the mail servers of %s...\n", address);
	if ((n = engine_setup_discover(address, ca, c, SETUP_CANDIDATES,
	    &err)) == -1)
		goto fail;
	if (list) {
		for (i = 0; i < n; i++)
			printf("%s://%s:%d %s (%s)\n", scheme(&c[i]), c[i].host,
			    c[i].port, c[i].user[0] != '\0' ? c[i].user : "-",
			    c[i].how);
		free(addr);
		free(name);
		free(path);
		return EXIT_OK;
	}
	if (n == 0) {
		error_set(&err, ERR_TRANSIENT, "found no mail server for %s",
		    address);
		goto fail;
	}

	/* The secret, once: from the command, or typed. */
	if (pwcmd == NULL && !yes) {
		typed = ask("A command that prints the password (empty: type "
		    "the password now): ", true);
		if (typed != NULL && *typed != '\0') {
			pwcmd = typed;
		} else {
			freezero_str(typed);
			typed = NULL;
			pw = ask("Password: ", false);
		}
	}
	if (pwcmd != NULL) {
		memset(&tmp, 0, sizeof tmp);
		tmp.name = (char *)(uintptr_t)"setup";
		tmp.password_command = (char *)(uintptr_t)pwcmd;
		if (account_password(&tmp, &pw, &err) == -1)
			goto fail;
	}
	if (pw == NULL) {
		error_set(&err, ERR_USAGE, "petrel setup: no password "
		    "(--password-command)");
		goto fail;
	}

	for (i = 0; i < n && found == -1; i++) {
		users[0] = c[i].user[0] != '\0' ? c[i].user : (char *)address;
		users[1] = c[i].user[0] != '\0' ? NULL :
		    xstrndup(address, strcspn(address, "@"));
		for (u = 0; u < 2 && users[u] != NULL; u++) {
			fprintf(stderr, "Trying %s://%s:%d as %s (found through "
			    "%s)... ", scheme(&c[i]), c[i].host, c[i].port,
			    users[u], c[i].how);
			error_clear(&err);
			if (engine_setup_try(&c[i], users[u], pw, ca, &cert,
			    &err) == 0 || (cert.untrusted && !yes &&
			    trust_prompt(&cert) && engine_setup_try(&c[i],
			    users[u], pw, ca, &cert, &err) == 0)) {
				fprintf(stderr, "logged in.\n");
				found = i;
				found_user = u;
				break;
			}
			fprintf(stderr, "%s\n", err.msg);
			last = err;
			/* Only a refused login is worth another user name. */
			if (err.cls != ERR_AUTH)
				break;
		}
		if (found == i && c[i].user[0] == '\0')
			snprintf(c[i].user, sizeof c[i].user, "%s",
			    users[found_user]);
		free(users[1]);
	}
	if (found == -1) {
		err = last;
		error_prefix(&err, "no server of %s took the login; the last "
		    "said", address);
		goto fail;
	}

	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	buf_printf(&sec, "\n# %s, written by petrel setup on %s: %s on %s:%d "
	    "(%s),\n# found through %s.\n", address, day,
	    c[found].proto == PROTO_IMAP ? "IMAP" : "POP3", c[found].host,
	    c[found].port, c[found].tls == TLS_IMPLICIT ? "TLS from the first "
	    "byte" : "STARTTLS", c[found].how);
	buf_printf(&sec, "[account %s]\n%s = %s://", name,
	    c[found].proto == PROTO_IMAP ? "imap" : "pop3", scheme(&c[found]));
	url_user(&sec, c[found].user);
	buf_printf(&sec, "@%s:%d\n", c[found].host, c[found].port);
	if (pwcmd != NULL)
		buf_printf(&sec, "password_command = %s\n", pwcmd);
	else if (!yes && ask_yes("Keep the password in the config file, in "
	    "plain text? (no: petrel asks for it) [y/N] ", false)) {
		buf_printf(&sec, "password = %s\n", pw);
		stored_pw = true;
	} else
		buf_adds(&sec, "# No password here: petrel asks for it; or set "
		    "password_command.\n");
	if (ca != NULL)
		buf_printf(&sec, "tls_ca_file = %s\n", ca);
	if (!stored_pw)
		fputs(buf_cstr(&sec), stdout);
	if (!yes && !ask_yes("Add this account to the config? [Y/n] ", true)) {
		fprintf(stderr, "Nothing written.\n");
		goto done;
	}
	if (write_section(path, buf_cstr(&sec), &err) == -1)
		goto fail;
	printf("petrel setup: account %s written to %s\n", name, path);
done:
	error_clear(&err);
fail:
	free(name);
	free(path);
	if (sec.data != NULL)
		explicit_bzero(sec.data, sec.len);
	buf_free(&sec);
	freezero_str(pw);
	freezero_str(typed);
	freezero_str(addr);
	return err.cls == ERR_NONE ? EXIT_OK : cli_fail(&err);
}
