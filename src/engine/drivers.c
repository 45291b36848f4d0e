/*
 * The protocol drivers of engine sessions (struct engine_driver): IMAP keeps
 * one connection for the session's life; POP3 logs in for each step.
 */
#include <string.h>

#include "cache.h"
#include "conf.h"
#include "engine-private.h"
#include "imap.h"
#include "log.h"

#define POP3_FOLDER	"INBOX"

/* ---- IMAP -------------------------------------------------------------- */

static int
imapdrv_connect(struct session *s, struct error *err)
{
	struct proto_params	 pp;
	const char		*pw;

	if (s->imap != NULL)
		imap_logout(&s->imap);
	if (session_get_password(s, &pw, err) == -1)
		return -1;
	if ((s->imap = imap_connect(session_params(s, &pp), pw, err)) == NULL)
		return -1;
	return 0;
}

static bool
imapdrv_online(struct session *s)
{
	return s->imap != NULL && imap_broken(s->imap) == NULL;
}

static int
imapdrv_sync(struct session *s, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	return imap_sync(s->imap, s->acct, s->cache, opts, stats, err);
}

static int
imapdrv_fetch_body(struct session *s, const char *folder, uint32_t uid,
    struct error *err)
{
	return imap_fetch_one_body(s->imap, s->acct, s->cache, folder, uid,
	    err);
}

static int
imapdrv_replay(struct session *s, const struct sync_opts *opts,
    struct replay_stats *rs, struct error *err)
{
	return imap_replay(s->imap, s->cache, opts->notice, opts->notice_arg,
	    rs, err);
}

static int
imapdrv_check(struct session *s, struct error *err)
{
	return imap_noop(s->imap, err);
}

static void
imapdrv_logout(struct session *s)
{
	imap_logout(&s->imap);
}

const struct engine_driver engine_imap_driver = {
	.name = "imap",
	.connect = imapdrv_connect,
	.sync = imapdrv_sync,
	.fetch_body = imapdrv_fetch_body,
	.replay = imapdrv_replay,
	.check = imapdrv_check,
	.online = imapdrv_online,
	.logout = imapdrv_logout,
};

/* ---- POP3 ---------------------------------------------------------------- */

/*
 * Nothing stays open: a POP3 session locks the maildrop against the user's
 * other clients and shows no mail that arrives during it. "Connecting" is
 * getting the password; each step then logs in and QUITs.
 */
static int
pop3drv_connect(struct session *s, struct error *err)
{
	const char	*pw;

	return session_get_password(s, &pw, err);
}

static bool
pop3drv_online(struct session *s)
{
	(void)s;
	return false;
}

static int
pop3drv_sync(struct session *s, const struct sync_opts *opts,
    struct sync_stats *stats, struct error *err)
{
	struct proto_params	 pp;
	const char		*pw;
	int			 rv;

	if (session_get_password(s, &pw, err) == -1)
		return -1;
	rv = pop3_sync(session_params(s, &pp), pw, s->acct, s->cache, opts,
	    stats, err);
	if (stats->new_messages + stats->expunged + stats->bodies > 0 &&
	    opts->changed != NULL)
		opts->changed(opts->hook_arg, POP3_FOLDER);
	return rv;
}

static int
pop3drv_fetch_body(struct session *s, const char *folder, uint32_t uid,
    struct error *err)
{
	struct proto_params	 pp;
	const char		*pw;

	/* POP3 has one folder; its bodies are missing only with
	 * pop3_headers_only. */
	if (strcasecmp_ascii(folder, POP3_FOLDER) != 0)
		return error_set(err, ERR_LOCAL, "message %u of %s is not in "
		    "the local store", uid, folder);
	if (session_get_password(s, &pw, err) == -1)
		return -1;
	return pop3_fetch_one_body(session_params(s, &pp), pw, s->acct,
	    s->cache, uid, err);
}

/* Flags, keywords and local folders of POP3 live in the cache only. */
static int
pop3drv_replay(struct session *s, const struct sync_opts *opts,
    struct replay_stats *rs, struct error *err)
{
	(void)s;
	(void)opts;
	(void)rs;
	(void)err;
	return 0;
}

static int
pop3drv_check(struct session *s, struct error *err)
{
	(void)s;
	(void)err;
	return 0;
}

static void
pop3drv_logout(struct session *s)
{
	(void)s;
}

const struct engine_driver engine_pop3_driver = {
	.name = "pop3",
	.connect = pop3drv_connect,
	.sync = pop3drv_sync,
	.fetch_body = pop3drv_fetch_body,
	.replay = pop3drv_replay,
	.check = pop3drv_check,
	.online = pop3drv_online,
	.logout = pop3drv_logout,
};
