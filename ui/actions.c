/*
 * Triage from the keyboard, local first: each action changes the UI's cache
 * connection (and records itself in the pending queue) in one short
 * transaction, so the screen shows it at once; then the account's session
 * is asked to replay the queue in the background. A refusal comes back as
 * a DONE event with the server's words, and the cache change undone.
 */
#include <stdlib.h>
#include <string.h>

#include "msgflags.h"
#include "ui-private.h"
#include "xmalloc.h"

static void
after_action(struct ui *ui)
{
	struct index	*ix = &ui->idx;

	ui_kick(ui, ix->ua);
	index_reload(ui);
	if (folders_shown(ui))
		folders_load(ui);
	pager_refresh(ui);
}

int
act_flags(struct ui *ui, const uint32_t *uids, size_t n, bool add,
    uint32_t flags, const char *keywords)
{
	struct index	*ix = &ui->idx;
	struct error	 err;

	if (ix->ua == NULL)
		return -1;
	error_clear(&err);
	if (cache_act_flags(ix->ua->cache, ix->folder_id, uids, n,
	    add ? CACHE_OP_ADD : CACHE_OP_REMOVE, flags, keywords,
	    ix->ua->queue, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return -1;
	}
	after_action(ui);
	return 0;
}

int
act_copy(struct ui *ui, const uint32_t *uids, size_t n, const char *dest,
    bool move)
{
	struct index	*ix = &ui->idx;
	struct error	 err;
	int64_t		 dest_id;

	if (ix->ua == NULL)
		return -1;
	if (ui_folder_id(ui, ix->ua, dest, &dest_id) != 1)
		return -1;
	if (dest_id == ix->folder_id) {
		ui_error(ui, "%s is the folder shown.", dest);
		return -1;
	}
	error_clear(&err);
	if (cache_act_copy(ix->ua->cache, ix->folder_id, uids, n, dest_id,
	    move, ix->ua->queue, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return -1;
	}
	ui_message(ui, "%s %zu message%s to %s.", move ? "Moved" : "Copied", n,
	    n == 1 ? "" : "s", dest);
	after_action(ui);
	return 0;
}

int
act_expunge(struct ui *ui)
{
	struct index	*ix = &ui->idx;
	struct error	 err;
	uint32_t	*uids = NULL;
	size_t		 n = 0;

	if (ix->ua == NULL)
		return -1;
	error_clear(&err);
	if (cache_act_expunge(ix->ua->cache, ix->folder_id, ix->ua->queue,
	    &uids, &n, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return -1;
	}
	free(uids);
	if (n == 0)
		ui_message(ui, "No deleted messages.");
	else
		ui_message(ui, "%zu deleted message%s expunged.", n,
		    n == 1 ? "" : "s");
	after_action(ui);
	return 0;
}

/* A reply or forward was queued: mark the original (\Answered, $Forwarded). */
void
act_answered(struct ui *ui, struct ui_account *ua, int64_t folder_id,
    uint32_t uid, bool forwarded)
{
	struct error	err;

	error_clear(&err);
	if (cache_act_flags(ua->cache, folder_id, &uid, 1, CACHE_OP_ADD,
	    forwarded ? 0 : MSG_ANSWERED, forwarded ? "$Forwarded" : NULL,
	    ua->queue, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	ui_kick(ui, ua);
	index_reload(ui);
	pager_refresh(ui);
}

/* A resumed draft was sent: its copy in the drafts folder is deleted. */
void
act_delete_draft(struct ui *ui, struct ui_account *ua, int64_t folder_id,
    uint32_t uid)
{
	struct error	err;

	error_clear(&err);
	if (cache_act_flags(ua->cache, folder_id, &uid, 1, CACHE_OP_ADD,
	    MSG_DELETED, NULL, ua->queue, &err) == -1) {
		ui_error(ui, "%s", err.msg);
		return;
	}
	ui_kick(ui, ua);
	index_reload(ui);
}
