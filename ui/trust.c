/*
 * Trust on first use: the one prompt for a server certificate the trust
 * store does not vouch for (subject, issuer, validity, fingerprints), and
 * the loud refusal of a pinned key that changed. The answer goes to the
 * session (session_trust); "always" pins the key in the known-hosts file.
 *
 * It is a modal box over the screen: nothing else takes keys while it is
 * up, so a stray key typed into the index cannot answer it. Only 'o' and
 * 'a' accept; everything else that answers rejects.
 */
#include <stdio.h>
#include <string.h>

#include "ui-private.h"

void
trust_wanted(struct ui *ui, struct ui_account *ua,
    const struct session_cert *c)
{
	/* One question at a time; a rejected server is not asked again. */
	if (ui->trust.active || ua->tls_blocked)
		return;
	if (!c->untrusted && !c->changed)
		return;
	ui->trust.active = true;
	ui->trust.ua = ua;
	ui->trust.cert = *c;
	if (c->changed)
		ua->tls_blocked = true;
	ui->dirty = true;
}

bool
trust_active(const struct ui *ui)
{
	return ui->trust.active;
}

static void
trust_answer(struct ui *ui, int how)
{
	struct ui_account	*ua = ui->trust.ua;
	struct session_cert	*c = &ui->trust.cert;
	struct error		 err;

	ui->trust.active = false;
	ui->dirty = true;
	if (ua == NULL || ua->sess == NULL)
		return;
	if (how == 'r') {
		ua->tls_blocked = true;
		ua->retry_at = 0;
		ui_error(ui, "%s: certificate of %s rejected; not connecting "
		    "(start petrel again to be asked again)", ua->acct->name,
		    c->hostport);
		return;
	}
	error_clear(&err);
	if (session_trust(ua->sess, c, how == 'a', &err) == -1) {
		ui_error(ui, "%s: %s", ua->acct->name, err.msg);
		return;
	}
	ui_message(ui, "%s: certificate of %s accepted %s", ua->acct->name,
	    c->hostport, how == 'a' ? "always (pinned in known_hosts)" :
	    "for this session");
	/* Connect again now, with the key accepted. */
	ua->retry_s = RETRY_MIN_S;
	ua->retry_at = ui_now_ms();
}

void
trust_key(struct ui *ui, int key)
{
	if (ui->trust.cert.changed) {
		/* Nothing to decide: any key puts the warning away. */
		ui->trust.active = false;
		ui->dirty = true;
		return;
	}
	switch (key) {
	case 'o':
	case 'O':
		trust_answer(ui, 'o');
		break;
	case 'a':
	case 'A':
		trust_answer(ui, 'a');
		break;
	case 'r':
	case 'R':
	case 'n':
	case 'q':
	case K_ESC:
	case K_CTRL('g'):
		trust_answer(ui, 'r');
		break;
	default:
		break;		/* an answer is needed */
	}
}

/* "AB:CD:...": the fingerprint in two halves, so it fits 80 columns. */
static void
trust_fp_halves(const char *fp, char *a, size_t asz, char *b, size_t bsz)
{
	const char	*hex = strncmp(fp, "sha256:", 7) == 0 ? fp + 7 : fp;
	size_t		 n = strlen(hex), half = 16 * 3;

	if (n <= half) {
		snprintf(a, asz, "%s", hex);
		b[0] = '\0';
		return;
	}
	snprintf(a, asz, "%.*s", (int)(half - 1), hex);
	snprintf(b, bsz, "%s", hex + half);
}

/* One row of the box, unless the screen is too short for it. */
static void
trow(int *r, int rows, const char *text, enum ui_color col)
{
	if (*r < rows)
		draw_row(*r, text, col);
	(*r)++;
}

void
trust_draw(struct ui *ui, int rows)
{
	struct session_cert	*c = &ui->trust.cert;
	struct ui_account	*ua = ui->trust.ua;
	char			 line[512], fa[64], fb[64];
	int			 r = 0;

	draw_clear_rows(0, rows);
	if (c->changed) {
		trow(&r, rows, "WARNING: THE SERVER'S KEY HAS CHANGED", COL_ERROR);
		r++;
		snprintf(line, sizeof line, "The key of %s (account %s) is not "
		    "the one you accepted.", c->hostport, ua->acct->name);
		trow(&r, rows, line, COL_ERROR);
		trow(&r, rows, "Someone may be intercepting the connection: "
		    "petrel refuses it.", COL_ERROR);
		r++;
	} else {
		snprintf(line, sizeof line, "The certificate of %s (account %s) "
		    "is not trusted:", c->hostport, ua->acct->name);
		trow(&r, rows, line, COL_MESSAGE);
		snprintf(line, sizeof line, "  %s", c->reason);
		trow(&r, rows, line, COL_ERROR);
		r++;
	}
	snprintf(line, sizeof line, "Subject:   %s", c->subject);
	trow(&r, rows, line, COL_NORMAL);
	snprintf(line, sizeof line, "Issuer:    %s", c->issuer);
	trow(&r, rows, line, COL_NORMAL);
	if (c->not_before[0] != '\0') {
		snprintf(line, sizeof line, "Valid:     %s to %s", c->not_before,
		    c->not_after);
		trow(&r, rows, line, COL_NORMAL);
	}
	trust_fp_halves(c->fingerprint, fa, sizeof fa, fb, sizeof fb);
	snprintf(line, sizeof line, "SHA-256:   %s", fa);
	trow(&r, rows, line, COL_NORMAL);
	if (fb[0] != '\0') {
		snprintf(line, sizeof line, "           %s", fb);
		trow(&r, rows, line, COL_NORMAL);
	}
	if (c->pin[0] != '\0') {
		snprintf(line, sizeof line, "Key:       %s", c->pin);
		trow(&r, rows, line, COL_NORMAL);
	}
	r++;
	if (c->changed) {
		trow(&r, rows, "If the key was changed on purpose, delete its line "
		    "in known_hosts", COL_NORMAL);
		trow(&r, rows, "($XDG_DATA_HOME/petrel/known_hosts) and start "
		    "petrel again.", COL_NORMAL);
		r++;
		trow(&r, rows, "Press any key.", COL_MESSAGE);
	} else
		trow(&r, rows, "(r)eject, accept (o)nce, accept (a)lways",
		    COL_MESSAGE);
}
