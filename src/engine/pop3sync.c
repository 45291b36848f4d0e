/* POP3 sync: temporary until the POP3 module lands (issue 4). */
#include "engine.h"

int
pop3_sync(const struct account *acct, const char *password,
    struct cache *cache, const struct sync_opts *opts, struct sync_stats *stats,
    struct error *err)
{
	return error_set(err, ERR_CONFIG, "POP3 accounts are not supported "
	    "by this build yet");
}
