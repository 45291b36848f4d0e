/* Unit tests of the config parser, account URLs and password_command. */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "test.h"
#include "xmalloc.h"

static char	tmpdir[] = "/tmp/petrel-conf-test.XXXXXX";
static char	stderr_text[8192];

/* Write text to DIR/name with mode, return the path (static). */
static const char *
write_file(const char *name, const char *text, int mode)
{
	static char	path[512];
	int		fd;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	T_ASSERT(fd != -1);
	T_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	fchmod(fd, (mode_t)mode);
	close(fd);
	return path;
}

/* Load text as a config; stderr during the load lands in stderr_text. */
static int
load_text(const char *text, struct conf **confp, struct error *err)
{
	char	 path[512];
	FILE	*f;
	int	 saved, rv;
	size_t	 n;

	snprintf(path, sizeof path, "%s", write_file("config", text, 0600));
	error_clear(err);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	f = tmpfile();
	dup2(fileno(f), STDERR_FILENO);
	rv = conf_load(path, confp, err);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(stderr_text, 1, sizeof stderr_text - 1, f);
	stderr_text[n] = '\0';
	fclose(f);
	return rv;
}

/* Expect a load error whose message contains want. */
static void
expect_error(const char *text, const char *want, int line)
{
	struct conf	*conf = NULL;
	struct error	 err;

	if (load_text(text, &conf, &err) != -1) {
		test_fail(__FILE__, line, "config loaded, expected \"%s\"",
		    want);
		conf_free(&conf);
		return;
	}
	if (err.cls != ERR_CONFIG)
		test_fail(__FILE__, line, "class %d, expected ERR_CONFIG",
		    err.cls);
	if (strstr(err.msg, want) == NULL)
		test_fail(__FILE__, line, "error \"%s\" lacks \"%s\"", err.msg,
		    want);
	T_ASSERT(conf == NULL);
}
#define EXPECT_ERROR(text, want) expect_error(text, want, __LINE__)

static void
test_example(void)
{
	struct conf	*conf;
	struct account	*a;
	struct error	 err;
	char		 ca[600];

	snprintf(ca, sizeof ca, "%s", write_file("ca.pem", "x\n", 0644));
	{
		char	text[2048];

		snprintf(text, sizeof text,
		    "# petrel config\n"
		    "\n"
		    "[account alice]\n"
		    "imap = imaps://alice@mail.example.org          ; imap:// = STARTTLS required,\n"
		    "                                                ; imap+insecure:// = no TLS\n"
		    "password_command = pass show mail/alice         ; or password = ...\n"
		    "tls_ca_file = %s                   ; optional extra trust anchor\n"
		    "tls_fingerprint = sha256:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89 ; pin\n",
		    ca);
		T_EQ_INT(load_text(text, &conf, &err), 0);
	}
	T_EQ_STR(err.msg, "");
	T_EQ_STR(stderr_text, "");
	if (conf == NULL)
		return;
	T_EQ_INT(conf->naccounts, 1);
	a = conf_account(conf, NULL, &err);
	T_ASSERT(a != NULL);
	T_EQ_STR(a->name, "alice");
	T_EQ_INT(a->proto, PROTO_IMAP);
	T_EQ_INT(a->tls, TLS_IMPLICIT);
	T_EQ_STR(a->host, "mail.example.org");
	T_EQ_INT(a->port, 993);
	T_EQ_STR(a->user, "alice");
	T_EQ_STR(a->password, NULL);
	T_EQ_STR(a->password_command, "pass show mail/alice");
	T_EQ_STR(a->tls_ca_file, ca);
	T_EQ_STR(a->tls_fingerprint, "sha256:AB:CD:EF:01:23:45:67:89:AB:CD:"
	    "EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
	T_EQ_INT(a->connect_timeout, 30);
	T_EQ_INT(a->timeout, 120);
	T_EQ_INT(a->line, 3);
	T_EQ_STR(conf_get(conf, a, "imap"), "imaps://alice@mail.example.org");
	T_EQ_STR(conf_get(conf, a, "nonexistent"), NULL);
	conf_free(&conf);
	T_ASSERT(conf == NULL);
}

static void
test_schemes(void)
{
	static const struct {
		const char	*url;
		int		 proto, tls, port;
		const char	*host, *user;
	} cases[] = {
		{ "imaps://u@h", PROTO_IMAP, TLS_IMPLICIT, 993, "h", "u" },
		{ "imap://u@h", PROTO_IMAP, TLS_STARTTLS, 143, "h", "u" },
		{ "imap+insecure://u@h", PROTO_IMAP, TLS_NONE, 143, "h", "u" },
		{ "IMAPS://u@h:1993/", PROTO_IMAP, TLS_IMPLICIT, 1993, "h", "u" },
		{ "pop3s://u@h", PROTO_POP3, TLS_IMPLICIT, 995, "h", "u" },
		{ "pop3://u@h", PROTO_POP3, TLS_STARTTLS, 110, "h", "u" },
		{ "pop3+insecure://u@h:2110", PROTO_POP3, TLS_NONE, 2110, "h",
		    "u" },
		{ "imaps://alice%40example.org@[::1]:993", PROTO_IMAP,
		    TLS_IMPLICIT, 993, "::1", "alice@example.org" },
		{ "imaps://a@b@[2001:db8::1]", PROTO_IMAP, TLS_IMPLICIT, 993,
		    "2001:db8::1", "a@b" },
		{ "imap://bob%20smith@127.0.0.1:10143", PROTO_IMAP,
		    TLS_STARTTLS, 10143, "127.0.0.1", "bob smith" },
	};
	struct conf	*conf;
	struct error	 err;
	char		 text[512];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "[account x]\n%s = %s\n",
		    cases[i].proto == PROTO_IMAP ? "imap" : "pop3",
		    cases[i].url);
		if (load_text(text, &conf, &err) == -1) {
			test_fail(__FILE__, __LINE__, "%s: %s", cases[i].url,
			    err.msg);
			continue;
		}
		T_EQ_INT(conf->accounts[0]->proto, cases[i].proto);
		T_EQ_INT(conf->accounts[0]->tls, cases[i].tls);
		T_EQ_INT(conf->accounts[0]->port, cases[i].port);
		T_EQ_STR(conf->accounts[0]->host, cases[i].host);
		T_EQ_STR(conf->accounts[0]->user, cases[i].user);
		conf_free(&conf);
	}
}

static void
test_bad_urls(void)
{
	EXPECT_ERROR("[account x]\nimap = imaps://host\n",
	    "config:2: imap URL \"imaps://host\" has no user");
	EXPECT_ERROR("[account x]\nimap = mail.example.org\n",
	    "config:2: imap URL \"mail.example.org\" is not of the form");
	EXPECT_ERROR("[account x]\nimap = https://u@h\n",
	    "unknown imap URL scheme \"https\"");
	EXPECT_ERROR("[account x]\nimap = pop3s://u@h\n",
	    "unknown imap URL scheme \"pop3s\"");
	EXPECT_ERROR("[account x]\npop3 = imaps://u@h\n",
	    "unknown pop3 URL scheme \"imaps\"");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h:0\n", "bad port");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h:65536\n", "bad port");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h:99x\n", "bad port");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h:\n", "bad port");
	EXPECT_ERROR("[account x]\nimap = imaps://u@[::1\n", "missing ']'");
	EXPECT_ERROR("[account x]\nimap = imaps://u@[::g]\n",
	    "bad IPv6 address");
	EXPECT_ERROR("[account x]\nimap = imaps://u@ho st\n", "bad host name");
	EXPECT_ERROR("[account x]\nimap = imaps://u@\n", "bad host name");
	EXPECT_ERROR("[account x]\nimap = imaps://u:secret@h\n",
	    "do not put the password in the URL");
	EXPECT_ERROR("[account x]\nimap = imaps://u%4@h\n", "bad % escape");
	EXPECT_ERROR("[account x]\nimap = imaps://u%0a@h\n", "bad % escape");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h/INBOX\n",
	    "unexpected \"/INBOX\" after the host");
}

static void
test_syntax_errors(void)
{
	EXPECT_ERROR("imap = imaps://u@h\n",
	    "config:1: \"imap\" is outside any section");
	EXPECT_ERROR("[account x\n", "config:1: missing ']'");
	EXPECT_ERROR("\n[accounts x]\n", "config:2: unknown section [accounts x]");
	EXPECT_ERROR("[account]\n", "config:1: [account] needs a name");
	EXPECT_ERROR("[account ../x]\n", "config:1: bad account name");
	EXPECT_ERROR("[account a b]\n", "config:1: bad account name");
	EXPECT_ERROR("[account x] junk\n", "unexpected text after ']'");
	EXPECT_ERROR("[account x]\nimap imaps://u@h\n",
	    "config:2: expected \"key = value\"");
	EXPECT_ERROR("[account x]\n = v\n", "config:2: missing key");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\nimap = imaps://u@h\n",
	    "config:3: \"imap\" set twice");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n[account x]\n"
	    "imap = imaps://u@h\n",
	    "config:3: account \"x\" already defined on line 1");
	EXPECT_ERROR("[account x]\npassword = \"abc\n",
	    "config:2: missing closing '\"'");
	EXPECT_ERROR("[account x]\npassword = \"a\\nb\"\n",
	    "config:2: unknown escape");
	EXPECT_ERROR("[account x]\npassword = \"ab\" c\n",
	    "config:2: unexpected text after quoted value");
	EXPECT_ERROR("[account x]\nbad key = 1\n", "config:2: bad key");
	{
		char	*big = xmalloc(5000), *text;

		memset(big, 'a', 4999);
		big[4999] = '\0';
		xasprintf(&text, "[account x]\nk = %s\n", big);
		EXPECT_ERROR(text, "config:2: line longer than 4096 bytes");
		free(text);
		free(big);
	}
	{
		struct conf	*conf;
		struct error	 err;
		const char	*p;
		int		 fd;

		p = write_file("nul", "", 0600);
		fd = open(p, O_WRONLY);
		T_ASSERT(write(fd, "[account x]\nk = a\0b\n", 20) == 20);
		close(fd);
		T_EQ_INT(conf_load(p, &conf, &err), -1);
		T_ASSERT(strstr(err.msg, "nul:2: NUL byte") != NULL);
	}
}

static void
test_account_errors(void)
{
	EXPECT_ERROR("[account x]\npassword = p\n",
	    "config:1: account x needs imap = imaps://USER@HOST or pop3");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\npop3 = pop3s://u@h\n",
	    "config:3: account x has both imap and pop3");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\npassword = a\n"
	    "password_command = echo b\n",
	    "sets both password and password_command");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\npassword =\n",
	    "config:3: empty value for password");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\npassword = ; c\n",
	    "config:3: empty value for password");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\ntimeout = 0\n",
	    "config:3: timeout must be a number of seconds");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\nconnect_timeout = -5\n",
	    "config:3: connect_timeout must be a number of seconds");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\ntimeout = 10s\n",
	    "timeout must be");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\ntls_fingerprint = AB:CD\n",
	    "config:3: bad tls_fingerprint");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n"
	    "tls_fingerprint = sha256:AB:CD\n", "bad tls_fingerprint");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n"
	    "tls_fingerprint = sha256:0000000000000000000000000000000000000000"
	    "00000000000000000000000000\n", "bad tls_fingerprint");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n"
	    "tls_fingerprint = sha256:zz00000000000000000000000000000000000000"
	    "000000000000000000000000\n", "bad tls_fingerprint");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n"
	    "tls_ca_file = /nonexistent/ca.pem\n",
	    "config:3: tls_ca_file /nonexistent/ca.pem: No such file");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\npop3_delete = never\n",
	    "config:3: pop3_delete only applies to pop3 accounts");
	EXPECT_ERROR("[account x]\npop3 = pop3s://u@h\npop3_delete = sometimes\n",
	    "config:3: pop3_delete must be never, after:DAYS");
	EXPECT_ERROR("[account x]\npop3 = pop3s://u@h\npop3_delete = after:0\n",
	    "pop3_delete must be");
	EXPECT_ERROR("[account x]\npop3 = pop3s://u@h\napop = maybe\n",
	    "config:3: apop must be yes or no");
	EXPECT_ERROR("[account x]\npop3 = pop3s://u@h\nauth = gssapi\n",
	    "config:3: auth must be one of scram-sha-256, scram-sha-1, "
	    "cram-md5, plain, login, user, apop, oauthbearer, xoauth2 or external");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\nauth = scram-sha-256, "
	    "gssapi\n", "config:3: auth: unknown mechanism \"gssapi\"");
	EXPECT_ERROR("[account x]\npop3 = pop3s://u@h\nauth = apop\napop = no\n",
	    "auth = apop contradicts apop = no");
	/* An OAuth2 token and a password are not the same secret. */
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\npassword = p\n"
	    "oauth2_token_command = t\n", "sets oauth2_token_command and a "
	    "password");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n"
	    "oauth2_token_command = t\nauth = oauthbearer, plain\n",
	    "config:4: auth = plain cannot carry the token");
	EXPECT_ERROR("[account x]\npop3 = pop3s://u@h\nauth = xoauth2\n",
	    "config:3: auth = xoauth2 needs oauth2_token_command");
	EXPECT_ERROR("[account x]\nimap = imaps://u@h\n"
	    "oauth2_token_command = t\noauth2_token_timeout = 0\n",
	    "oauth2_token_timeout must be a number of seconds");
}

static void
test_pop3(void)
{
	struct conf	*conf;
	struct error	 err;
	struct account	*a;

	T_EQ_INT(load_text("[account p]\npop3 = pop3://bob@pop.example.org\n"
	    "pop3_delete = after:14\napop = yes\nauth = USER\n"
	    "pop3_headers_only = yes\n"
	    "[account q]\npop3 = pop3s://carol@pop.example.org\n"
	    "pop3_delete = immediately\n"
	    "[account r]\npop3 = pop3s://dave@h\nauth = apop\n",
	    &conf, &err), 0);
	if (conf == NULL) {
		test_fail(__FILE__, __LINE__, "%s", err.msg);
		return;
	}
	a = conf->accounts[0];
	T_EQ_INT(a->proto, PROTO_POP3);
	T_EQ_INT(a->tls, TLS_STARTTLS);
	T_EQ_INT(a->port, 110);
	T_EQ_INT(a->pop3_delete, POP3_DELETE_AFTER);
	T_EQ_INT(a->pop3_delete_days, 14);
	T_EQ_INT(a->pop3_apop, 1);
	T_EQ_STR(a->auth, "user");
	T_EQ_INT(a->pop3_headers_only, 1);
	a = conf->accounts[1];
	T_EQ_INT(a->pop3_delete, POP3_DELETE_IMMEDIATELY);
	T_EQ_INT(a->pop3_apop, 0);
	T_EQ_STR(a->auth, NULL);
	T_EQ_INT(a->pop3_headers_only, 0);
	a = conf->accounts[2];
	T_EQ_INT(a->pop3_delete, POP3_DELETE_NEVER);
	T_EQ_INT(a->pop3_apop, 1);
	conf_free(&conf);
}

static void
test_values(void)
{
	struct conf	*conf;
	struct error	 err;
	struct account	*a;

	T_EQ_INT(load_text(
	    "[options]\r\n"
	    "Editor = vi ; comment\r\n"
	    "[account x]   ; first\r\n"
	    "imap = imap+insecure://u@h:1143\r\n"
	    "  ; indented comment\r\n"
	    "\t# another\r\n"
	    "password = \"pa ; ss\\\"#\\\\\"  ; quoted\r\n"
	    "connect_timeout = 5\r\n"
	    "timeout = 7\r\n"
	    "color = blue#1;x\r\n"
	    "empty =\r\n"
	    "[options]\n"
	    "pager = less\n",
	    &conf, &err), 0);
	if (conf == NULL) {
		test_fail(__FILE__, __LINE__, "%s", err.msg);
		return;
	}
	a = conf->accounts[0];
	T_EQ_STR(a->password, "pa ; ss\"#\\");
	T_EQ_INT(a->connect_timeout, 5);
	T_EQ_INT(a->timeout, 7);
	T_EQ_STR(conf_get(conf, a, "color"), "blue#1;x");
	T_EQ_STR(conf_get(conf, a, "empty"), "");
	T_EQ_STR(conf_get(conf, a, "COLOR"), "blue#1;x");
	T_EQ_STR(conf_get(conf, NULL, "editor"), "vi");
	T_EQ_STR(conf_get(conf, NULL, "pager"), "less");
	T_EQ_STR(conf_get(conf, NULL, "color"), NULL);
	/* No typo warning for a key of its own. */
	T_EQ_STR(stderr_text, "");
	conf_free(&conf);
}

static void
test_typo_warning(void)
{
	struct conf	*conf;
	struct error	 err;

	T_EQ_INT(load_text("[account x]\nimap = imaps://u@h\n"
	    "pasword = secret\nimaps = x\ntls_fingerprnt = y\n", &conf, &err),
	    0);
	T_ASSERT(strstr(stderr_text, "config:3: unknown key \"pasword\" in "
	    "[account x], did you mean \"password\"?") != NULL);
	T_ASSERT(strstr(stderr_text, "config:4: unknown key \"imaps\" in "
	    "[account x], did you mean \"imap\"?") != NULL);
	T_ASSERT(strstr(stderr_text, "config:5: unknown key "
	    "\"tls_fingerprnt\"") != NULL);
	/* The keys are kept all the same. */
	if (conf != NULL) {
		T_EQ_STR(conf_get(conf, conf->accounts[0], "pasword"), "secret");
		conf_free(&conf);
	}
}

static void
test_accounts(void)
{
	struct conf	*conf;
	struct error	 err;
	struct account	*a;

	T_EQ_INT(load_text("[account alice]\nimap = imaps://a@h\n"
	    "[account bob]\nimap = imaps://b@h\n", &conf, &err), 0);
	if (conf == NULL)
		return;
	T_EQ_STR(conf_account(conf, NULL, &err)->name, "alice");
	T_EQ_STR(conf_account(conf, "bob", &err)->name, "bob");
	error_clear(&err);
	a = conf_account(conf, "carol", &err);
	T_ASSERT(a == NULL);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(strstr(err.msg, "no account \"carol\" in ") != NULL);
	T_ASSERT(strstr(err.msg, "(accounts: alice, bob)") != NULL);
	conf_free(&conf);

	T_EQ_INT(load_text("# nothing yet\n[options]\n", &conf, &err), 0);
	if (conf == NULL)
		return;
	error_clear(&err);
	T_ASSERT(conf_account(conf, NULL, &err) == NULL);
	T_ASSERT(strstr(err.msg, "no account defined") != NULL);
	conf_free(&conf);
}

static void
test_paths(void)
{
	struct conf	*conf;
	struct error	 err;
	char		 dir[600], want[700];
	const char	*p;

	/* A missing file names the path and the manual page. */
	snprintf(want, sizeof want, "%s/missing", tmpdir);
	T_EQ_INT(conf_load(want, &conf, &err), -1);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(strstr(err.msg, want) != NULL);
	T_ASSERT(strstr(err.msg, "No such file or directory") != NULL);
	T_ASSERT(strstr(err.msg, "petrel.conf(5)") != NULL);
	T_EQ_INT(conf_load(tmpdir, &conf, &err), -1);
	T_ASSERT(strstr(err.msg, "is a directory") != NULL);

	/* $PETREL_CONFIG, then $XDG_CONFIG_HOME/petrel/config. */
	p = write_file("env", "[account env]\nimap = imaps://e@h\n", 0600);
	setenv("PETREL_CONFIG", p, 1);
	T_EQ_INT(conf_load(NULL, &conf, &err), 0);
	if (conf != NULL) {
		T_EQ_STR(conf->accounts[0]->name, "env");
		T_EQ_STR(conf->path, p);
		conf_free(&conf);
	}
	unsetenv("PETREL_CONFIG");
	snprintf(dir, sizeof dir, "%s/xdg", tmpdir);
	mkdir(dir, 0700);
	snprintf(dir, sizeof dir, "%s/xdg/petrel", tmpdir);
	mkdir(dir, 0700);
	write_file("xdg/petrel/config", "[account xdg]\nimap = imaps://x@h\n"
	    "tls_ca_file = ca.pem\n", 0600);
	write_file("xdg/petrel/ca.pem", "x\n", 0600);
	snprintf(dir, sizeof dir, "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", dir, 1);
	T_EQ_INT(conf_load(NULL, &conf, &err), 0);
	if (conf != NULL) {
		T_EQ_STR(conf->accounts[0]->name, "xdg");
		/* A relative tls_ca_file is next to the config file. */
		snprintf(want, sizeof want, "%s/xdg/petrel/ca.pem", tmpdir);
		T_EQ_STR(conf->accounts[0]->tls_ca_file, want);
		conf_free(&conf);
	}
	unsetenv("XDG_CONFIG_HOME");
}

static void
test_password_perms(void)
{
	struct conf	*conf;
	struct error	 err;
	const char	*text = "[account x]\nimap = imaps://u@h\npassword = s\n";
	char		 path[600];
	FILE		*f;
	int		 saved;
	size_t		 n;

	/* Mode 600: no warning. */
	T_EQ_INT(load_text(text, &conf, &err), 0);
	T_EQ_STR(stderr_text, "");
	conf_free(&conf);

	/* Mode 620: others may write but not read it; no password warning. */
	snprintf(path, sizeof path, "%s", write_file("gw", text, 0620));
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	f = tmpfile();
	dup2(fileno(f), STDERR_FILENO);
	T_EQ_INT(conf_load(path, &conf, &err), 0);
	conf_free(&conf);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	T_EQ_INT(ftell(f), 0);
	fclose(f);

	/* Mode 644: a warning, once. */
	snprintf(path, sizeof path, "%s", write_file("open", text, 0644));
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	f = tmpfile();
	dup2(fileno(f), STDERR_FILENO);
	T_EQ_INT(conf_load(path, &conf, &err), 0);
	conf_free(&conf);
	T_EQ_INT(conf_load(path, &conf, &err), 0);
	conf_free(&conf);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(stderr_text, 1, sizeof stderr_text - 1, f);
	stderr_text[n] = '\0';
	fclose(f);
	T_ASSERT(strstr(stderr_text, "holds a plain-text password and can be "
	    "read by others (mode 644); run: chmod 600") != NULL);
	T_ASSERT(strstr(stderr_text, "password = s") == NULL);
	/* Once per run, not once per load. */
	T_ASSERT(strstr(strstr(stderr_text, "holds a") + 1, "holds a") == NULL);
}

/* Run account_password for a password_command. */
static int
run_pwcmd(const char *cmd, char **pw, struct error *err)
{
	struct account	a;

	memset(&a, 0, sizeof a);
	a.name = (char *)"t";
	a.password_command = (char *)cmd;
	error_clear(err);
	return account_password(&a, pw, err);
}

static void
test_password_command(void)
{
	struct account	 a;
	struct error	 err;
	char		*pw, cmd[256];

	T_EQ_INT(run_pwcmd("printf 'sekrit\\nsecond line\\n'", &pw, &err), 0);
	T_EQ_STR(pw, "sekrit");
	freezero_str(pw);
	T_EQ_INT(run_pwcmd("printf 'crlf\\r\\n'", &pw, &err), 0);
	T_EQ_STR(pw, "crlf");
	freezero_str(pw);
	T_EQ_INT(run_pwcmd("printf 'no-newline'", &pw, &err), 0);
	T_EQ_STR(pw, "no-newline");
	freezero_str(pw);
	/* Large output is drained, the first line kept. */
	T_EQ_INT(run_pwcmd("echo first; head -c 200000 /dev/zero | tr '\\0' x",
	    &pw, &err), 0);
	T_EQ_STR(pw, "first");
	freezero_str(pw);

	T_EQ_INT(run_pwcmd("echo leaked; exit 3", &pw, &err), -1);
	T_EQ_INT(err.cls, ERR_AUTH);
	T_EQ_STR(err.msg, "account t: password_command failed (exit status 3)");
	T_ASSERT(pw == NULL);
	T_EQ_INT(run_pwcmd("true", &pw, &err), -1);
	T_EQ_INT(err.cls, ERR_AUTH);
	T_EQ_STR(err.msg, "account t: password_command printed no password");
	T_EQ_INT(run_pwcmd("echo", &pw, &err), -1);
	T_EQ_STR(err.msg, "account t: password_command printed no password");
	snprintf(cmd, sizeof cmd, "%s/no-such-command 2>/dev/null", tmpdir);
	T_EQ_INT(run_pwcmd(cmd, &pw, &err), -1);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(strstr(err.msg, "could not be run") != NULL);
	T_EQ_INT(run_pwcmd("kill -9 $$", &pw, &err), -1);
	T_EQ_INT(err.cls, ERR_AUTH);
	T_ASSERT(strstr(err.msg, "killed by signal 9") != NULL);

	memset(&a, 0, sizeof a);
	a.name = (char *)"t";
	a.password = (char *)"plain";
	T_EQ_INT(account_password(&a, &pw, &err), 0);
	T_EQ_STR(pw, "plain");
	freezero_str(pw);
	a.password = NULL;
	T_EQ_INT(account_password(&a, &pw, &err), -1);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(strstr(err.msg, "account t has no password") != NULL);
}

/* Thunderbird's autoconfig: TLS servers kept, plain ones and junk not. */
static void
test_autoconfig(void)
{
	struct autoconfig_server	 a[8];
	struct error			 err;
	const char			*doc =
	    "<?xml version=\"1.0\"?><clientConfig version=\"1.1\">"
	    "<emailProvider id=\"x\"><incomingServer type=\"imap\">"
	    "<hostname>plain.example.org</hostname><port>143</port>"
	    "<socketType>plain</socketType></incomingServer>"
	    "<incomingServer type=\"imap\"><hostname> imap.example.org "
	    "</hostname><port>993</port><socketType>SSL</socketType>"
	    "<username>%EMAILADDRESS%</username><authentication>OAuth2"
	    "</authentication></incomingServer>"
	    "<incomingServer type=\"exchange\"><hostname>ews</hostname>"
	    "</incomingServer>"
	    "<incomingServer type='pop3'><hostname>pop.example.org</hostname>"
	    "<port>110</port><socketType>STARTTLS</socketType><username>"
	    "%EMAILLOCALPART%</username></incomingServer>"
	    "<incomingServer type=\"imap\"><hostname>evil;rm</hostname><port>"
	    "993</port><socketType>SSL</socketType></incomingServer>"
	    "<incomingServer type=\"imap\"><hostname>h</hostname><port>"
	    "993</port><socketType>SSL</socketType><username>a b</username>"
	    "</incomingServer></emailProvider></clientConfig>";
	const char			*plain = "<clientConfig>"
	    "<incomingServer type=\"imap\"><hostname>h</hostname><port>143"
	    "</port><socketType>plain</socketType></incomingServer>"
	    "</clientConfig>";

	T_EQ_INT(autoconfig_parse(doc, strlen(doc), "me@example.org", a, 8,
	    &err), 2);
	T_EQ_INT(a[0].proto, PROTO_IMAP);
	T_EQ_INT(a[0].tls, TLS_IMPLICIT);
	T_EQ_STR(a[0].host, "imap.example.org");
	T_EQ_INT(a[0].port, 993);
	T_EQ_STR(a[0].user, "me@example.org");
	T_ASSERT(a[0].oauth2);
	T_EQ_INT(a[1].proto, PROTO_POP3);
	T_EQ_INT(a[1].tls, TLS_STARTTLS);
	T_EQ_STR(a[1].user, "me");
	T_ASSERT(!a[1].oauth2);
	T_EQ_INT(autoconfig_parse(plain, strlen(plain), "me@x", a, 8, &err),
	    -1);
	T_ASSERT(strstr(err.msg, "without TLS") != NULL);
	T_EQ_INT(autoconfig_parse("<html>", 6, "me@x", a, 8, &err), -1);
	T_EQ_INT(autoconfig_parse(doc, strlen(doc), "me@example.org", a, 1,
	    &err), 1);
}

static const struct test tests[] = {
	{ "autoconfig", test_autoconfig },
	{ "example", test_example },
	{ "schemes", test_schemes },
	{ "bad_urls", test_bad_urls },
	{ "syntax_errors", test_syntax_errors },
	{ "account_errors", test_account_errors },
	{ "pop3", test_pop3 },
	{ "values", test_values },
	{ "typo_warning", test_typo_warning },
	{ "accounts", test_accounts },
	{ "paths", test_paths },
	{ "password_perms", test_password_perms },
	{ "password_command", test_password_command },
	{ NULL, NULL }
};

int
main(int argc, char **argv)
{
	char	cmd[600];
	int	rv;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	unsetenv("PETREL_CONFIG");
	rv = test_main(tests, argc, argv);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rv = 1;
	return rv;
}
