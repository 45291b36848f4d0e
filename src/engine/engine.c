/* The engine's entry points: pick the protocol, get the password. */
#include <stdlib.h>

#include "buf.h"
#include "cache.h"
#include "conf.h"
#include "engine-private.h"
#include "xmalloc.h"

int
engine_sync(const struct account *acct, struct cache *cache,
    const struct sync_opts *opts, struct sync_stats *stats, struct error *err)
{
	char	*password = NULL;
	int	 rv;

	if (account_password(acct, &password, err) == -1)
		return -1;
	if (acct->proto == PROTO_POP3)
		rv = pop3_sync(acct, password, cache, opts, stats, err);
	else
		rv = imap_sync(acct, password, cache, opts, stats, err);
	freezero_str(password);
	return rv;
}

int
engine_fetch_body(const struct account *acct, struct cache *cache,
    const char *folder, uint32_t uid, struct error *err)
{
	char	*password = NULL;
	int	 rv;

	/* POP3 has one folder; its bodies are missing only with
	 * pop3_headers_only. */
	if (acct->proto == PROTO_POP3 && strcasecmp_ascii(folder, "INBOX") != 0)
		return error_set(err, ERR_LOCAL, "message %u of %s is not in "
		    "the local store", uid, folder);
	if (account_password(acct, &password, err) == -1)
		return -1;
	if (acct->proto == PROTO_POP3)
		rv = pop3_fetch_one_body(acct, password, cache, uid, err);
	else
		rv = imap_fetch_one_body(acct, password, cache, folder, uid,
		    err);
	freezero_str(password);
	return rv;
}

int
engine_replay(const struct account *acct, struct cache *cache,
    engine_notice_cb cb, void *arg, struct replay_stats *stats,
    struct error *err)
{
	char	*password = NULL;
	int	 rv;

	if (acct->proto == PROTO_POP3 || cache_pending_count(cache) == 0)
		return 0;
	if (account_password(acct, &password, err) == -1)
		return -1;
	rv = imap_replay_account(acct, password, cache, cb, arg, stats, err);
	freezero_str(password);
	return rv;
}

void
engine_uidset(struct buf *b, const uint32_t *uids, size_t n)
{
	size_t	i, j;

	buf_reset(b);
	for (i = 0; i < n; i = j) {
		/* <=: a repeated UID extends the run instead of a new item. */
		for (j = i + 1; j < n && uids[j] <= uids[j - 1] + 1; j++)
			;
		if (b->len > 0)
			buf_addc(b, ',');
		if (uids[j - 1] != uids[i])
			buf_printf(b, "%u:%u", uids[i], uids[j - 1]);
		else
			buf_printf(b, "%u", uids[i]);
	}
}
