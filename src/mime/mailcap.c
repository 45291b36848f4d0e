/*
 * RFC 1524 mailcap: the first entry for the type with "copiousoutput" (and
 * without "needsterminal", and whose test= succeeds) converts the part to
 * text. The command is the user's; nothing from the message reaches the
 * shell: the part goes to a private temporary file (%s) or to standard
 * input, %t is the validated type, %{charset} is "utf-8" (the part is
 * written converted), other %{...} are empty. The output is bounded and the
 * command is killed (its whole process group) after a timeout.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "charset.h"
#include "mime-private.h"
#include "xmalloc.h"

#define MAILCAP_FILE_MAX	(1024 * 1024)	/* bytes read from one file */
#define MAILCAP_LINE_MAX	8192		/* longer entries are skipped */
#define MAILCAP_TIMEOUT_MS	10000
#define MAILCAP_OUTPUT_MAX	(16 * 1024 * 1024)
#define MAILCAP_TEST_MS		2000		/* for test= commands */

extern char **environ;

struct mailcap_entry {
	char	*command;
	char	*nametemplate;		/* NULL when none */
	bool	 found;
};

/* The search path: the option, else $PETREL_MAILCAP, $MAILCAPS, the RFC's. */
static char *
mailcap_path(const struct mime_render_opts *o)
{
	const char	*v, *home;
	char		*p;

	if (o != NULL && o->mailcap != NULL)
		return xstrdup(o->mailcap);
	if ((v = getenv("PETREL_MAILCAP")) != NULL)
		return xstrdup(v);
	if ((v = getenv("MAILCAPS")) != NULL)
		return xstrdup(v);
	if ((home = getenv("HOME")) == NULL)
		home = "";
	xasprintf(&p, "%s/.mailcap:/etc/mailcap", home);
	return p;
}

bool
mime_mailcap_enabled(const struct mime_render_opts *o)
{
	char	*path = mailcap_path(o);
	bool	 on = strspn(path, ":") != strlen(path);

	free(path);
	return on;
}

/* Read a whole (small) file; NULL when it cannot be read. */
static char *
mailcap_read(const char *path, size_t *lenp)
{
	struct buf	 b;
	int		 fd;
	ssize_t		 n;
	char		*w;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf_init(&b, MAILCAP_FILE_MAX);
	for (;;) {
		if ((w = buf_reserve(&b, 8192)) == NULL)
			break;
		if ((n = read(fd, w, 8192)) <= 0)
			break;
		buf_commit(&b, (size_t)n);
	}
	close(fd);
	return mime_steal(&b, lenp);
}

/* Split a field off s at an unescaped ';'; the field is trimmed, unescaped. */
static char *
mailcap_field(char **sp)
{
	char	*s = *sp, *o, *f;

	while (*s == ' ' || *s == '\t')
		s++;
	f = o = s;
	for (; *s != '\0' && *s != ';'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		*o++ = *s;
	}
	*sp = *s == ';' ? s + 1 : s;
	while (o > f && (o[-1] == ' ' || o[-1] == '\t'))
		o--;
	*o = '\0';
	return f;
}

/* Does the entry type match: the same, "type/" and a star, or the bare type? */
static bool
mailcap_type_match(const char *pat, const char *type)
{
	const char	*slash = strchr(type, '/');
	size_t		 tl = slash != NULL ? (size_t)(slash - type) : strlen(type);

	if (strcasecmp_ascii(pat, type) == 0)
		return true;
	if (strlen(pat) == tl && strncasecmp_ascii(pat, type, tl) == 0)
		return true;
	return strlen(pat) == tl + 2 && strncasecmp_ascii(pat, type, tl) == 0 &&
	    pat[tl] == '/' && pat[tl + 1] == '*';
}

static int	mailcap_run(const char *cmd, int in_fd, int timeout_ms,
		    const _Atomic bool *cancel, size_t max, struct buf *out,
		    int *status, struct error *err);

/* Run a test= command (no substitutions allowed): true when it exits 0. */
static bool
mailcap_test(const char *cmd)
{
	struct buf	out = BUF_INIT(4096);
	int		status = -1, rv;

	if (strchr(cmd, '%') != NULL)
		return false;
	rv = mailcap_run(cmd, -1, MAILCAP_TEST_MS, NULL, 4096, &out, &status,
	    NULL);
	buf_free(&out);
	return rv == 0 && status == 0;
}

/* Find the entry in one file's text (modified in place). */
static void
mailcap_scan(char *text, const char *type, struct mailcap_entry *e)
{
	char	*line, *next, *o, *s, *pat, *cmd, *f, *test, *tmpl;
	bool	 copious, needsterm;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		/* Join continuation lines (a backslash before the newline). */
		for (o = s = line; *s != '\0'; s++) {
			if (*s == '\\' && s[1] == '\n') {
				s++;
				continue;
			}
			if (*s == '\\' && s[1] == '\r' && s[2] == '\n') {
				s += 2;
				continue;
			}
			if (*s == '\n')
				break;
			*o++ = *s;
		}
		next = *s == '\n' ? s + 1 : NULL;
		*o = '\0';
		if (o > line && o[-1] == '\r')
			o[-1] = '\0';
		if ((size_t)(o - line) > MAILCAP_LINE_MAX)
			continue;
		s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#' || *s == '\0')
			continue;
		pat = mailcap_field(&s);
		if (!mailcap_type_match(pat, type))
			continue;
		cmd = mailcap_field(&s);
		copious = needsterm = false;
		test = tmpl = NULL;
		while (*s != '\0') {
			f = mailcap_field(&s);
			if (strcasecmp_ascii(f, "copiousoutput") == 0)
				copious = true;
			else if (strcasecmp_ascii(f, "needsterminal") == 0)
				needsterm = true;
			else if (has_prefix_ci(f, "test=")) {
				test = f + 5;
				while (*test == ' ')
					test++;
			} else if (has_prefix_ci(f, "nametemplate=")) {
				tmpl = f + 13;
				while (*tmpl == ' ')
					tmpl++;
			}
		}
		if (!copious || needsterm || *cmd == '\0')
			continue;
		if (test != NULL && !mailcap_test(test))
			continue;
		e->command = xstrdup(cmd);
		e->nametemplate = tmpl != NULL ? xstrdup(tmpl) : NULL;
		e->found = true;
		return;
	}
}

static void
mailcap_find(const struct mime_render_opts *o, const char *type,
    struct mailcap_entry *e)
{
	char	*path, *s, *file, *text;
	size_t	 len;

	memset(e, 0, sizeof *e);
	path = mailcap_path(o);
	for (s = path; !e->found && (file = strsep(&s, ":")) != NULL; ) {
		if (*file == '\0')
			continue;
		if (file[0] == '~' && file[1] == '/') {
			char		*full;
			const char	*home = getenv("HOME");

			xasprintf(&full, "%s%s", home != NULL ? home : "", file + 1);
			text = mailcap_read(full, &len);
			free(full);
		} else
			text = mailcap_read(file, &len);
		if (text == NULL)
			continue;
		mailcap_scan(text, type, e);
		free(text);
	}
	free(path);
}

/* Quote s for sh inside single quotes. */
static void
mailcap_quote(struct buf *b, const char *s)
{
	buf_addc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_adds(b, "'\\''");
		else
			buf_addc(b, *s);
	}
	buf_addc(b, '\'');
}

/* Expand %s, %t, %{...} and %% in cmd; *uses_file when %s appears. */
static char *
mailcap_expand(const char *cmd, const char *type, const char *file,
    bool *uses_file)
{
	struct buf	 b = BUF_INIT(0);
	const char	*p, *e;

	*uses_file = false;
	for (p = cmd; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			buf_addc(&b, *++p);
			continue;
		}
		if (*p != '%') {
			buf_addc(&b, *p);
			continue;
		}
		switch (p[1]) {
		case 's':
			mailcap_quote(&b, file);
			*uses_file = true;
			p++;
			break;
		case 't':
			mailcap_quote(&b, type);
			p++;
			break;
		case '%':
			buf_addc(&b, '%');
			p++;
			break;
		case '{':
			if ((e = strchr(p + 2, '}')) == NULL) {
				buf_addc(&b, '%');
				break;
			}
			if ((size_t)(e - p - 2) == 7 &&
			    strncasecmp_ascii(p + 2, "charset", 7) == 0)
				mailcap_quote(&b, "utf-8");
			else
				buf_adds(&b, "''");
			p = e;
			break;
		default:
			buf_addc(&b, '%');
			break;
		}
	}
	return mime_steal(&b, NULL);
}

/* The environment for the command: a UTF-8 locale when ours is not. */
static char **
mailcap_env(void)
{
	const char	*cs = nl_langinfo(CODESET);
	size_t		 n, i, j = 0;
	char		**env;

	if (cs != NULL && (strcasecmp_ascii(cs, "UTF-8") == 0 ||
	    strcasecmp_ascii(cs, "utf8") == 0))
		return NULL;
	for (n = 0; environ[n] != NULL; n++)
		;
	env = xcalloc(n + 2, sizeof *env);
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_ALL=", 7) != 0)
			env[j++] = environ[i];
	env[j++] = (char *)(uintptr_t)"LC_ALL=C.UTF-8";
	env[j] = NULL;
	return env;
}

/*
 * Run cmd with /bin/sh, stdin from in_fd (or /dev/null), stdout collected
 * up to max bytes (the rest is discarded; the command is killed), stderr
 * discarded. Returns 0 with the exit status, or -1 (cannot start, timeout,
 * cancelled: *cancel turned true, looked at every CANCEL_POLL_MS).
 */
#define CANCEL_POLL_MS	50
static int
mailcap_run(const char *cmd, int in_fd, int timeout_ms,
    const _Atomic bool *cancel, size_t max, struct buf *out, int *status,
    struct error *err)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 at;
	char				*argv[4], **env;
	int				 pfd[2], rv, wst;
	pid_t				 pid;
	uint64_t			 deadline;
	bool				 killed = false, truncated = false;
	bool				 cancelled = false;

	if (pipe2(pfd, O_CLOEXEC) == -1)
		return error_set(err, ERR_LOCAL, "pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	if (in_fd != -1)
		posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	/* Its own process group, so a timeout kills its children too. */
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
	argv[0] = (char *)(uintptr_t)"sh";
	argv[1] = (char *)(uintptr_t)"-c";
	argv[2] = (char *)(uintptr_t)cmd;
	argv[3] = NULL;
	env = mailcap_env();
	rv = posix_spawn(&pid, "/bin/sh", &fa, &at, argv,
	    env != NULL ? env : environ);
	free(env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (rv != 0) {
		close(pfd[0]);
		return error_set(err, ERR_LOCAL, "cannot run /bin/sh: %s",
		    strerror(rv));
	}
	deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		struct pollfd	pf = { .fd = pfd[0], .events = POLLIN };
		uint64_t	now = now_ms();
		char		tmp[65536];
		ssize_t		n;
		int		wait;

		if (now >= deadline) {
			killed = true;
			break;
		}
		if (cancel != NULL && *cancel) {
			killed = cancelled = true;
			break;
		}
		wait = (int)(deadline - now);
		if (cancel != NULL && wait > CANCEL_POLL_MS)
			wait = CANCEL_POLL_MS;
		rv = poll(&pf, 1, wait);
		if (rv == -1 && errno == EINTR)
			continue;
		if (rv <= 0)
			continue;
		if ((n = read(pfd[0], tmp, sizeof tmp)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len + (size_t)n > max) {
			buf_add(out, tmp, max - out->len);
			truncated = true;
			break;
		}
		buf_add(out, tmp, (size_t)n);
	}
	close(pfd[0]);
	if (killed || truncated)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &wst, 0) == -1 && errno == EINTR)
		;
	if (cancelled)
		return error_set(err, ERR_LOCAL, "mailcap command cancelled");
	if (killed)
		return error_set(err, ERR_LOCAL, "mailcap command timed out "
		    "after %d ms", timeout_ms);
	*status = truncated ? 0 : WIFEXITED(wst) ? WEXITSTATUS(wst) : 128;
	if (truncated)
		buf_adds(out, "\n[-- output truncated --]\n");
	return 0;
}

/* A private directory and the part written in it; -1 with err. */
static int
mailcap_tmpfile(const char *data, size_t len, const char *tmpl, char **dirp,
    char **filep, int *fdp, struct error *err)
{
	const char	*tmp = getenv("TMPDIR"), *suffix = "";
	char		*dir, *file;
	int		 fd;
	size_t		 off = 0;
	ssize_t		 n;

	if (tmp == NULL || *tmp != '/')
		tmp = "/tmp";
	xasprintf(&dir, "%s/petrel-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		error_set(err, ERR_LOCAL, "mkdtemp %s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	/* nametemplate=%s.html: keep a plain suffix only. */
	if (tmpl != NULL && (suffix = strstr(tmpl, "%s")) != NULL) {
		suffix += 2;
		if (strspn(suffix, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(suffix) ||
		    strlen(suffix) > 16)
			suffix = "";
	} else
		suffix = "";
	xasprintf(&file, "%s/part%s", dir, suffix);
	fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		error_set(err, ERR_LOCAL, "%s: %s", file, strerror(errno));
		rmdir(dir);
		free(dir);
		free(file);
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			error_set(err, ERR_LOCAL, "%s: %s", file, strerror(errno));
			close(fd);
			unlink(file);
			rmdir(dir);
			free(dir);
			free(file);
			return -1;
		}
		off += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	*dirp = dir;
	*filep = file;
	*fdp = fd;
	return 0;
}

int
mime_mailcap_convert(const char *type, const char *data, size_t len,
    const struct mime_render_opts *o, struct buf *out, struct error *err)
{
	struct mailcap_entry	 e;
	struct buf		 raw;
	char			*dir = NULL, *file = NULL, *cmd;
	bool			 uses_file;
	int			 fd = -1, status = 0, rv, timeout;
	size_t			 max;

	/* The type goes to the shell quoted; still, only a plain token. */
	if (strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789/.+-") !=
	    strlen(type))
		return 1;
	if (o != NULL && o->cancel != NULL && *o->cancel)
		return 1;
	mailcap_find(o, type, &e);
	if (!e.found)
		return 1;
	timeout = o != NULL && o->mailcap_timeout_ms > 0 ?
	    o->mailcap_timeout_ms : MAILCAP_TIMEOUT_MS;
	max = o != NULL && o->mailcap_output_max > 0 ? o->mailcap_output_max :
	    MAILCAP_OUTPUT_MAX;
	if (mailcap_tmpfile(data, len, e.nametemplate, &dir, &file, &fd,
	    err) == -1) {
		free(e.command);
		free(e.nametemplate);
		return -1;
	}
	cmd = mailcap_expand(e.command, type, file, &uses_file);
	buf_init(&raw, 0);
	rv = mailcap_run(cmd, uses_file ? -1 : fd, timeout,
	    o != NULL ? o->cancel : NULL, max, &raw, &status, err);
	close(fd);
	unlink(file);
	rmdir(dir);
	free(dir);
	free(file);
	free(cmd);
	free(e.command);
	free(e.nametemplate);
	if (rv == 0 && status != 0 && raw.len == 0)
		rv = error_set(err, ERR_LOCAL, "mailcap command failed "
		    "(exit status %d)", status);
	if (rv == 0)
		charset_8bit_to_utf8(NULL, 0, raw.data, raw.len, out);
	buf_free(&raw);
	return rv;
}
