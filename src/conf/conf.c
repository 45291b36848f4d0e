/*
 * The config file parser: INI sections, key = value lines, comments, and
 * errors that name FILE:LINE. The typed account fields are filled in
 * account.c once a section is complete.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf-private.h"
#include "log.h"
#include "secret.h"
#include "xmalloc.h"

/* One section being read: its key list and the line of each key. */
struct conf_section {
	char		***keysp;
	char		***valuesp;
	int		*nkeysp;
	int		*lines;
	struct account	*account;	/* NULL for [options] */
};

struct conf_parser {
	struct conf		*conf;
	const char		*path;
	int			 line;
	struct conf_section	 sec;
	int			 in_section;
	int			 has_password;	/* some account has "password =" */
};

static int	conf_warned_perms;

/* Damerau-Levenshtein (optimal string alignment) distance of two short keys. */
static int
conf_distance(const char *a, const char *b)
{
	int	d[CONF_KEY_MAX + 1][CONF_KEY_MAX + 1];
	int	la = (int)strlen(a), lb = (int)strlen(b), i, j, c, v;

	if (la > CONF_KEY_MAX || lb > CONF_KEY_MAX)
		return CONF_KEY_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] == b[j - 1] ? 0 : 1;
			v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/*
 * The known key an unknown one is probably a typo of, or NULL. Short keys
 * allow one edit, longer ones two, so "imaps" suggests "imap" but a key of
 * its own such as "color" suggests nothing.
 */
static const char *
conf_typo_of(const char *key)
{
	const char	*const *k, *best = NULL;
	int		 d, bestd = 3, limit;

	limit = strlen(key) <= 5 ? 1 : 2;
	for (k = account_known_keys; *k != NULL; k++) {
		d = conf_distance(key, *k);
		if (d <= limit && d < bestd) {
			bestd = d;
			best = *k;
		}
	}
	return best;
}

static int
conf_is_known(const char *key)
{
	const char	*const *k;

	for (k = account_known_keys; *k != NULL; k++) {
		if (strcmp(key, *k) == 0)
			return 1;
	}
	return 0;
}

static int
conf_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Close the current section; for an account, check it and fill its fields. */
static int
conf_end_section(struct conf_parser *p, struct error *err)
{
	int	rv = 0;

	if (!p->in_section)
		return 0;
	if (p->sec.account != NULL)
		rv = account_finish(p->sec.account, p->sec.lines, p->path, err);
	free(p->sec.lines);
	memset(&p->sec, 0, sizeof p->sec);
	p->in_section = 0;
	return rv;
}

static int
conf_valid_name(const char *s)
{
	size_t	i, len = strlen(s);

	if (len == 0 || len > CONF_NAME_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == '@' || c == '+'))
			return 0;
	}
	return 1;
}

/* "[account NAME]" or "[options]"; s points after the '['. */
static int
conf_section_line(struct conf_parser *p, char *s, struct error *err)
{
	struct conf	*conf = p->conf;
	struct account	*a;
	char		*end, *name, *rest;
	int		 i;

	if (conf_end_section(p, err) == -1)
		return -1;
	if ((end = strchr(s, ']')) == NULL)
		return error_set(err, ERR_CONFIG, "%s:%d: missing ']'",
		    p->path, p->line);
	for (rest = end + 1; conf_space(*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		return error_set(err, ERR_CONFIG,
		    "%s:%d: unexpected text after ']'", p->path, p->line);
	*end = '\0';
	while (conf_space(*s))
		s++;
	while (end > s && conf_space(end[-1]))
		*--end = '\0';

	if (strcmp(s, "options") == 0) {
		p->sec.keysp = &conf->keys;
		p->sec.valuesp = &conf->values;
		p->sec.nkeysp = &conf->nkeys;
		p->sec.lines = xcalloc(CONF_KEYS_MAX, sizeof *p->sec.lines);
		/* [options] may appear more than once; keep earlier lines. */
		p->sec.account = NULL;
		p->in_section = 1;
		return 0;
	}
	if (strncmp(s, "account", 7) != 0 || !conf_space(s[7])) {
		if (strcmp(s, "account") == 0)
			return error_set(err, ERR_CONFIG,
			    "%s:%d: [account] needs a name: [account NAME]",
			    p->path, p->line);
		return error_set(err, ERR_CONFIG, "%s:%d: unknown section [%s]"
		    " (expected [account NAME] or [options])",
		    p->path, p->line, s);
	}
	for (name = s + 8; conf_space(*name); name++)
		;
	if (!conf_valid_name(name))
		return error_set(err, ERR_CONFIG, "%s:%d: bad account name "
		    "\"%s\" (letters, digits and . _ - @ +, at most %d, not "
		    "starting with . or -)", p->path, p->line, name,
		    CONF_NAME_MAX);
	for (i = 0; i < conf->naccounts; i++) {
		if (strcmp(conf->accounts[i]->name, name) == 0)
			return error_set(err, ERR_CONFIG, "%s:%d: account \"%s\""
			    " already defined on line %d", p->path, p->line,
			    name, conf->accounts[i]->line);
	}
	if (conf->naccounts >= CONF_ACCOUNTS_MAX)
		return error_set(err, ERR_CONFIG, "%s:%d: too many accounts "
		    "(at most %d)", p->path, p->line, CONF_ACCOUNTS_MAX);

	a = xcalloc(1, sizeof *a);
	a->name = xstrdup(name);
	a->line = p->line;
	conf->accounts = xreallocarray(conf->accounts,
	    (size_t)conf->naccounts + 1, sizeof *conf->accounts);
	conf->accounts[conf->naccounts++] = a;

	p->sec.keysp = &a->keys;
	p->sec.valuesp = &a->values;
	p->sec.nkeysp = &a->nkeys;
	p->sec.lines = xcalloc(CONF_KEYS_MAX, sizeof *p->sec.lines);
	p->sec.account = a;
	p->in_section = 1;
	return 0;
}

/*
 * The value after '=': either "quoted" (with \" and \\), or bare up to a
 * ';' that follows white space. Returns a new string or NULL with err set.
 */
static char *
conf_value(struct conf_parser *p, const char *s, struct error *err)
{
	struct buf	 b = BUF_INIT(CONF_LINE_MAX);
	const char	*e;

	while (conf_space(*s))
		s++;
	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0') {
				buf_free(&b);
				error_set(err, ERR_CONFIG, "%s:%d: missing "
				    "closing '\"'", p->path, p->line);
				return NULL;
			}
			if (*s == '\\') {
				if (s[1] != '"' && s[1] != '\\') {
					buf_free(&b);
					error_set(err, ERR_CONFIG, "%s:%d: "
					    "unknown escape in quoted value "
					    "(only \\\" and \\\\)", p->path,
					    p->line);
					return NULL;
				}
				s++;
			}
			buf_addc(&b, *s);
		}
		for (s++; conf_space(*s); s++)
			;
		if (*s != '\0' && *s != ';' && *s != '#') {
			buf_free(&b);
			error_set(err, ERR_CONFIG, "%s:%d: unexpected text "
			    "after quoted value", p->path, p->line);
			return NULL;
		}
		if (b.data == NULL)
			return xstrdup("");
		return buf_steal(&b, NULL);
	}
	for (e = s; *e != '\0'; e++) {
		if (*e == ';' && e > s && conf_space(e[-1]))
			break;
	}
	if (*s == ';')
		e = s;
	while (e > s && conf_space(e[-1]))
		e--;
	return xmemdup0(s, (size_t)(e - s));
}

static bool
conf_list_key(const struct conf_section *sec, const char *key)
{
	return sec->account == NULL &&
	    (strcmp(key, "bind") == 0 || strcmp(key, "color") == 0);
}

/* "key = value" inside a section. */
static int
conf_key_line(struct conf_parser *p, char *s, struct error *err)
{
	struct conf_section	*sec = &p->sec;
	char			*eq, *end, *key, *value, *c;
	const char		*typo;
	int			 i;

	if ((eq = strchr(s, '=')) == NULL)
		return error_set(err, ERR_CONFIG, "%s:%d: expected "
		    "\"key = value\" or a [section]", p->path, p->line);
	for (end = eq; end > s && conf_space(end[-1]); end--)
		;
	if (end == s)
		return error_set(err, ERR_CONFIG, "%s:%d: missing key before "
		    "'='", p->path, p->line);
	if ((size_t)(end - s) > CONF_KEY_MAX)
		return error_set(err, ERR_CONFIG, "%s:%d: key too long",
		    p->path, p->line);
	key = xmemdup0(s, (size_t)(end - s));
	for (c = key; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
		else if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
		    || *c == '_' || *c == '-' || *c == '.')) {
			error_set(err, ERR_CONFIG, "%s:%d: bad key \"%s\" "
			    "(letters, digits, _ - .)", p->path, p->line, key);
			free(key);
			return -1;
		}
	}
	if (!p->in_section) {
		error_set(err, ERR_CONFIG, "%s:%d: \"%s\" is outside any "
		    "section (put it under [account NAME] or [options])",
		    p->path, p->line, key);
		free(key);
		return -1;
	}
	/* bind and color are lists, as in muttrc: one line each. */
	for (i = 0; i < *sec->nkeysp && !conf_list_key(sec, key); i++) {
		if (strcmp((*sec->keysp)[i], key) == 0) {
			error_set(err, ERR_CONFIG, "%s:%d: \"%s\" set twice in "
			    "this section", p->path, p->line, key);
			free(key);
			return -1;
		}
	}
	if (*sec->nkeysp >= CONF_KEYS_MAX) {
		free(key);
		return error_set(err, ERR_CONFIG, "%s:%d: too many keys in "
		    "this section (at most %d)", p->path, p->line,
		    CONF_KEYS_MAX);
	}
	if ((value = conf_value(p, eq + 1, err)) == NULL) {
		free(key);
		return -1;
	}
	if (sec->account != NULL && !conf_is_known(key) &&
	    (typo = conf_typo_of(key)) != NULL)
		log_warnx("%s:%d: unknown key \"%s\" in [account %s], "
		    "did you mean \"%s\"?", p->path, p->line, key,
		    sec->account->name, typo);
	if (sec->account != NULL && strcmp(key, "password") == 0) {
		char	*locked = secret_strdup(value);

		/* The plain-text password, kept in locked memory. */
		freezero_str(value);
		value = locked;
		p->has_password = 1;
	}

	*sec->keysp = xreallocarray(*sec->keysp, (size_t)*sec->nkeysp + 1,
	    sizeof **sec->keysp);
	*sec->valuesp = xreallocarray(*sec->valuesp, (size_t)*sec->nkeysp + 1,
	    sizeof **sec->valuesp);
	(*sec->keysp)[*sec->nkeysp] = key;
	(*sec->valuesp)[*sec->nkeysp] = value;
	sec->lines[*sec->nkeysp] = p->line;
	(*sec->nkeysp)++;
	return 0;
}

static int
conf_line(struct conf_parser *p, char *s, struct error *err)
{
	size_t	len = strlen(s);

	if (len > 0 && s[len - 1] == '\r')
		s[--len] = '\0';
	while (conf_space(*s))
		s++;
	if (*s == '\0' || *s == '#' || *s == ';')
		return 0;
	if (*s == '[')
		return conf_section_line(p, s + 1, err);
	return conf_key_line(p, s, err);
}

/* Read f line by line with a bounded line buffer. */
static int
conf_parse_file(struct conf_parser *p, FILE *f, struct error *err)
{
	char	line[CONF_LINE_MAX + 2];
	size_t	n = 0;
	int	c;

	p->line = 1;
	for (;;) {
		c = getc(f);
		if (c == EOF || c == '\n') {
			if (c == EOF && ferror(f))
				return error_set(err, ERR_CONFIG, "%s: %s",
				    p->path, strerror(errno));
			line[n] = '\0';
			if (conf_line(p, line, err) == -1)
				return -1;
			if (c == EOF)
				break;
			n = 0;
			p->line++;
			continue;
		}
		if (c == '\0')
			return error_set(err, ERR_CONFIG, "%s:%d: NUL byte in "
			    "the file", p->path, p->line);
		if (n >= CONF_LINE_MAX)
			return error_set(err, ERR_CONFIG, "%s:%d: line longer "
			    "than %d bytes", p->path, p->line, CONF_LINE_MAX);
		line[n++] = (char)c;
	}
	return conf_end_section(p, err);
}

int
conf_load(const char *path, struct conf **confp, struct error *err)
{
	struct conf_parser	 p;
	struct conf		*conf;
	struct stat		 st;
	const char		*env;
	FILE			*f;

	*confp = NULL;
	conf = xcalloc(1, sizeof *conf);
	if (path != NULL)
		conf->path = xstrdup(path);
	else if ((env = getenv("PETREL_CONFIG")) != NULL && *env != '\0')
		conf->path = xstrdup(env);
	else
		conf->path = path_config_file();

	if ((f = fopen(conf->path, "re")) == NULL) {
		error_set(err, ERR_CONFIG, "cannot read config file %s: %s "
		    "(see petrel.conf(5))", conf->path, strerror(errno));
		conf_free(&conf);
		return -1;
	}
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		error_set(err, ERR_CONFIG, "cannot read config file %s: %s",
		    conf->path, S_ISDIR(st.st_mode) ? "is a directory" :
		    "not a regular file");
		fclose(f);
		conf_free(&conf);
		return -1;
	}

	memset(&p, 0, sizeof p);
	p.conf = conf;
	p.path = conf->path;
	if (conf_parse_file(&p, f, err) == -1) {
		free(p.sec.lines);
		fclose(f);
		conf_free(&conf);
		return -1;
	}
	fclose(f);

	if (p.has_password && (st.st_mode & (S_IRGRP | S_IROTH)) != 0 &&
	    !conf_warned_perms) {
		conf_warned_perms = 1;
		log_warnx("%s holds a plain-text password and can be read by "
		    "others (mode %03o); run: chmod 600 %s", conf->path,
		    (unsigned)(st.st_mode & 0777), conf->path);
	}
	*confp = conf;
	return 0;
}

static void
conf_free_keys(char **keys, char **values, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		free(keys[i]);
		freezero_str(values[i]);
	}
	free(keys);
	free(values);
}

void
conf_free(struct conf **confp)
{
	struct conf	*conf = *confp;
	struct account	*a;
	int		 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->naccounts; i++) {
		a = conf->accounts[i];
		free(a->name);
		free(a->host);
		free(a->user);
		freezero_str(a->password);
		free(a->password_command);
		free(a->oauth2_token_command);
		free(a->oauth2_provider);
		free(a->tls_cert_file);
		free(a->tls_key_file);
		free(a->smtp_host);
		free(a->smtp_user);
		free(a->from);
		free(a->record);
		free(a->signature);
		free(a->tls_ca_file);
		free(a->tls_fingerprint);
		free(a->auth);
		conf_free_keys(a->keys, a->values, a->nkeys);
		free(a);
	}
	free(conf->accounts);
	conf_free_keys(conf->keys, conf->values, conf->nkeys);
	free(conf->path);
	free(conf);
	*confp = NULL;
}

struct account *
conf_account(struct conf *conf, const char *name, struct error *err)
{
	struct buf	b = BUF_INIT(512);
	int		i;

	if (conf->naccounts == 0) {
		error_set(err, ERR_CONFIG, "%s: no account defined (add an "
		    "[account NAME] section, see petrel.conf(5))", conf->path);
		return NULL;
	}
	if (name == NULL)
		return conf->accounts[0];
	for (i = 0; i < conf->naccounts; i++) {
		if (strcmp(conf->accounts[i]->name, name) == 0)
			return conf->accounts[i];
	}
	for (i = 0; i < conf->naccounts; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "",
		    conf->accounts[i]->name);
	error_set(err, ERR_CONFIG, "no account \"%s\" in %s (accounts: %s)",
	    name, conf->path, buf_cstr(&b));
	buf_free(&b);
	return NULL;
}

const char *
conf_get(const struct conf *conf, const struct account *a, const char *key)
{
	char	**keys = a != NULL ? a->keys : conf->keys;
	char	**values = a != NULL ? a->values : conf->values;
	int	  i, n = a != NULL ? a->nkeys : conf->nkeys;

	for (i = 0; i < n; i++) {
		if (strcasecmp_ascii(keys[i], key) == 0)
			return values[i];
	}
	return NULL;
}
