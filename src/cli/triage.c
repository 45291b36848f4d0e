/*
 * Triage from the command line, local first:
 *   petrel flag add|remove FOLDER UIDS NAME...
 *   petrel move FOLDER UIDS DEST      petrel copy FOLDER UIDS DEST
 *   petrel expunge FOLDER             petrel pending [--json]
 * Each action is recorded in the cache (and its pending queue) before
 * anything else; then, unless --offline, it is replayed at once and the
 * command says "done", or "queued" when the server cannot be reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"

/* UIDs one command may name. */
#define TRIAGE_UIDS_MAX	1000000

struct triage {
	struct cli_ctx	*ctx;
	struct account	*acct;
	struct cache	*cache;
	bool		 json;
	const char	*what;		/* "flag", "move"... for the output */
	size_t		 count;		/* messages the action covers */
};

static void
notice_cb(void *arg, const char *line)
{
	fprintf(stderr, "petrel: %s\n", line);
}

/* "7", "3,9:12" into a sorted, de-duplicated array. */
static int
parse_uids(const char *s, uint32_t **vp, size_t *np)
{
	uint32_t	*v = NULL;
	size_t		 n = 0, i, j;
	uint64_t	 a, b, k;
	const char	*p = s, *e, *colon;

	*vp = NULL;
	*np = 0;
	while (*p != '\0') {
		for (e = p; *e != '\0' && *e != ','; e++)
			;
		colon = memchr(p, ':', (size_t)(e - p));
		if (parse_u64(p, (size_t)((colon != NULL ? colon : e) - p),
		    UINT32_MAX, &a) == -1 || a == 0)
			goto bad;
		b = a;
		if (colon != NULL && (parse_u64(colon + 1,
		    (size_t)(e - colon - 1), UINT32_MAX, &b) == -1 || b == 0))
			goto bad;
		if (b < a) {
			k = a;
			a = b;
			b = k;
		}
		if (n + (b - a + 1) > TRIAGE_UIDS_MAX)
			goto bad;
		v = realloc(v, (n + (size_t)(b - a + 1)) * sizeof *v);
		if (v == NULL)
			return -1;
		for (k = a; k <= b; k++)
			v[n++] = (uint32_t)k;
		if (*e == '\0')
			break;
		p = e + 1;
		if (*p == '\0')
			goto bad;
	}
	if (n == 0)
		goto bad;
	for (i = 1; i < n; i++)	/* insertion is fine: sets come sorted */
		for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint32_t t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (i = j = 0; i < n; i++)
		if (j == 0 || v[j - 1] != v[i])
			v[j++] = v[i];
	*vp = v;
	*np = j;
	return 0;
bad:
	free(v);
	return -1;
}

/* A flag name: a system flag, or a keyword atom (RFC 3501 flag-keyword). */
static int
parse_flag(const char *name, uint32_t *bits, struct buf *kw)
{
	static const struct {
		const char	*name;
		uint32_t	 bit;
	} sys[] = {
		{ "seen", MSG_SEEN }, { "flagged", MSG_FLAGGED },
		{ "answered", MSG_ANSWERED }, { "deleted", MSG_DELETED },
		{ "draft", MSG_DRAFT }, { "$forwarded", MSG_FORWARDED },
	};
	const char	*p, *n = name;
	size_t		 i;

	if (*n == '\\')
		n++;
	for (i = 0; i < sizeof sys / sizeof sys[0]; i++)
		if (strcasecmp_ascii(n, sys[i].name) == 0) {
			*bits |= sys[i].bit;
			return 0;
		}
	/* Other "\..." names are system flags we do not know: refuse. */
	if (*name == '\\' || *name == '\0' || strlen(name) > 200)
		return -1;
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("(){%*\"\\]", *p) != NULL)
			return -1;
	if (kw->len > 0)
		buf_addc(kw, ' ');
	buf_adds(kw, name);
	return 0;
}

static int
open_folder(struct triage *t, const char *name, int64_t *idp,
    struct error *err)
{
	struct cache_folder	f;
	int			found;

	if ((found = cache_folder_get(t->cache, name, &f, err)) == 0 &&
	    strcasecmp_ascii(name, "INBOX") == 0)
		found = cache_folder_get(t->cache, "INBOX", &f, err);
	if (found == -1)
		return -1;
	if (found == 0 || f.noselect)
		return error_set(err, ERR_USAGE, "no folder \"%s\" in the cache "
		    "of %s (folders are never created implicitly)", name,
		    t->acct->name);
	*idp = f.id;
	return 0;
}

static int
triage_open(struct triage *t, struct cli_ctx *ctx, const char *what)
{
	struct error	err;

	memset(t, 0, sizeof *t);
	t->ctx = ctx;
	t->what = what;
	if ((t->acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	error_clear(&err);
	if (cache_open(t->acct->name, t->acct->proto == PROTO_POP3 ?
	    CACHE_DURABLE : 0, &t->cache, &err) == -1)
		return cli_fail(&err);
	return 0;
}

static bool
queue_for_server(const struct triage *t)
{
	return t->acct->proto != PROTO_POP3;
}

static void
say(struct triage *t, const char *state, const char *why)
{
	struct buf	b = BUF_INIT(0);

	if (!t->json) {
		printf("%s\n", state);
		return;
	}
	buf_adds(&b, "{\"state\":");
	json_add_string(&b, state, strlen(state));
	buf_adds(&b, ",\"action\":");
	json_add_string(&b, t->what, strlen(t->what));
	buf_printf(&b, ",\"messages\":%zu", t->count);
	if (why != NULL) {
		buf_adds(&b, ",\"reason\":");
		json_add_string(&b, why, strlen(why));
	}
	buf_adds(&b, "}");
	printf("%s\n", b.data);
	buf_free(&b);
}

/* The action is recorded: send it now, or say it waits. */
static int
triage_finish(struct triage *t)
{
	struct replay_stats	st;
	struct error		err;
	int			rv = EXIT_OK;

	if (!queue_for_server(t)) {
		say(t, "done", NULL);	/* POP3: the cache is the truth */
		goto out;
	}
	if (t->ctx->offline) {
		say(t, "queued", NULL);
		goto out;
	}
	memset(&st, 0, sizeof st);
	error_clear(&err);
	if (engine_replay(t->acct, t->cache, notice_cb, NULL, &st,
	    &err) == -1) {
		/* Recorded all the same: it goes out with the next sync. */
		fprintf(stderr, "petrel: %s\n", err.msg);
		say(t, "queued", err.msg);
	} else if (st.failed > 0) {
		say(t, "refused", NULL);
		rv = EXIT_PROTO;
	} else if (st.waiting > 0)
		say(t, "queued", "the folder changed on the server");
	else
		say(t, "done", NULL);
out:
	cache_close(&t->cache);
	return rv;
}

static int
triage_fail(struct triage *t, const struct error *err)
{
	cache_close(&t->cache);
	return cli_fail(err);
}

/* Leading --json, the only option these take. */
static int
take_json(struct triage *t, int *ip, int argc, char **argv)
{
	for (; *ip < argc && argv[*ip][0] == '-' && argv[*ip][1] != '\0';
	    (*ip)++) {
		if (strcmp(argv[*ip], "--json") == 0)
			t->json = true;
		else if (strcmp(argv[*ip], "--") == 0) {
			(*ip)++;
			break;
		} else
			return -1;
	}
	return 0;
}

int
cmd_flag(struct cli_ctx *ctx, int argc, char **argv)
{
	struct triage	 t;
	struct error	 err;
	struct buf	 kw = BUF_INIT(0);
	uint32_t	*uids = NULL, bits = 0;
	size_t		 n;
	int64_t		 fid;
	int		 i = 1, rv;
	bool		 add, json = false;

	for (; i < argc && strcmp(argv[i], "--json") == 0; i++)
		json = true;
	if (i >= argc || (strcmp(argv[i], "add") != 0 &&
	    strcmp(argv[i], "remove") != 0))
		return cli_usage(cli_find("flag"));
	add = strcmp(argv[i++], "add") == 0;
	for (; i < argc && strcmp(argv[i], "--json") == 0; i++)
		json = true;
	if (argc - i < 3 || parse_uids(argv[i + 1], &uids, &n) == -1)
		return cli_usage(cli_find("flag"));
	for (int k = i + 2; k < argc; k++)
		if (parse_flag(argv[k], &bits, &kw) == -1) {
			fprintf(stderr, "petrel: \"%s\" is neither a system flag "
			    "(seen flagged answered deleted draft) nor a valid "
			    "keyword\n", argv[k]);
			free(uids);
			buf_free(&kw);
			return EXIT_USAGE;
		}
	if ((rv = triage_open(&t, ctx, "flag")) != 0) {
		free(uids);
		buf_free(&kw);
		return rv;
	}
	t.json = json;
	t.count = n;
	error_clear(&err);
	if (open_folder(&t, argv[i], &fid, &err) == -1 ||
	    cache_act_flags(t.cache, fid, uids, n, add ? CACHE_OP_ADD :
	    CACHE_OP_REMOVE, bits, kw.len > 0 ? kw.data : NULL,
	    queue_for_server(&t), &err) == -1) {
		free(uids);
		buf_free(&kw);
		return triage_fail(&t, &err);
	}
	free(uids);
	buf_free(&kw);
	return triage_finish(&t);
}

static int
copy_or_move(struct cli_ctx *ctx, int argc, char **argv, bool move)
{
	struct triage	 t;
	struct error	 err;
	uint32_t	*uids = NULL;
	size_t		 n;
	int64_t		 fid, did;
	int		 i = 1, rv;
	const char	*name = move ? "move" : "copy";

	if ((rv = triage_open(&t, ctx, name)) != 0)
		return rv;
	if (take_json(&t, &i, argc, argv) == -1 || argc - i != 3 ||
	    parse_uids(argv[i + 1], &uids, &n) == -1) {
		cache_close(&t.cache);
		return cli_usage(cli_find(name));
	}
	t.count = n;
	error_clear(&err);
	if (open_folder(&t, argv[i], &fid, &err) == -1 ||
	    open_folder(&t, argv[i + 2], &did, &err) == -1)
		goto fail;
	if (move && fid == did) {
		error_set(&err, ERR_USAGE, "cannot move messages to the folder "
		    "they are in");
		goto fail;
	}
	if (cache_act_copy(t.cache, fid, uids, n, did, move,
	    queue_for_server(&t), &err) == -1)
		goto fail;
	free(uids);
	return triage_finish(&t);
fail:
	free(uids);
	return triage_fail(&t, &err);
}

int
cmd_move(struct cli_ctx *ctx, int argc, char **argv)
{
	return copy_or_move(ctx, argc, argv, true);
}

int
cmd_copy(struct cli_ctx *ctx, int argc, char **argv)
{
	return copy_or_move(ctx, argc, argv, false);
}

int
cmd_expunge(struct cli_ctx *ctx, int argc, char **argv)
{
	struct triage	 t;
	struct error	 err;
	uint32_t	*uids = NULL;
	size_t		 n = 0;
	int64_t		 fid;
	int		 i = 1, rv;

	if ((rv = triage_open(&t, ctx, "expunge")) != 0)
		return rv;
	if (take_json(&t, &i, argc, argv) == -1 || argc - i != 1) {
		cache_close(&t.cache);
		return cli_usage(cli_find("expunge"));
	}
	error_clear(&err);
	if (open_folder(&t, argv[i], &fid, &err) == -1 ||
	    cache_act_expunge(t.cache, fid, queue_for_server(&t), &uids, &n,
	    &err) == -1)
		return triage_fail(&t, &err);
	free(uids);
	t.count = n;
	if (!t.json)
		fprintf(stderr, "petrel: %zu message(s) expunged from %s\n", n,
		    argv[i]);
	return triage_finish(&t);
}

struct pending_ctx {
	struct cache	*cache;
	char		**names;	/* by folder id, for display */
	int64_t		 *ids;
	size_t		  n;
};

static int
name_cb(void *arg, const struct cache_folder *f)
{
	struct pending_ctx	*p = arg;

	p->names = realloc(p->names, (p->n + 1) * sizeof *p->names);
	p->ids = realloc(p->ids, (p->n + 1) * sizeof *p->ids);
	if (p->names == NULL || p->ids == NULL)
		return 1;
	p->names[p->n] = strdup(f->name);
	p->ids[p->n++] = f->id;
	return 0;
}

static const char *
name_of(struct pending_ctx *p, int64_t id)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		if (p->ids[i] == id)
			return p->names[i] != NULL ? p->names[i] : "?";
	return "?";
}

int
cmd_pending(struct cli_ctx *ctx, int argc, char **argv)
{
	struct triage		 t;
	struct pending_ctx	 pc;
	struct cache_pending	*v = NULL;
	struct error		 err;
	struct buf		 b = BUF_INIT(0);
	size_t			 n = 0, i;
	int			 k = 1, rv;

	if ((rv = triage_open(&t, ctx, "pending")) != 0)
		return rv;
	if (take_json(&t, &k, argc, argv) == -1 || k != argc) {
		cache_close(&t.cache);
		return cli_usage(cli_find("pending"));
	}
	memset(&pc, 0, sizeof pc);
	error_clear(&err);
	if (cache_folder_foreach(t.cache, false, name_cb, &pc, &err) == -1 ||
	    cache_pending_load(t.cache, 0, &v, &n, &err) == -1)
		return triage_fail(&t, &err);
	for (i = 0; i < n; i++) {
		const struct cache_pending *p = &v[i];
		const char *op = cache_op_name(p->op);

		buf_reset(&b);
		if (t.json) {
			buf_printf(&b, "{\"id\":%lld,\"op\":", (long long)p->id);
			json_add_string(&b, op, strlen(op));
			buf_adds(&b, ",\"folder\":");
			json_add_string(&b, name_of(&pc, p->folder_id),
			    strlen(name_of(&pc, p->folder_id)));
			buf_printf(&b, ",\"uid\":%u", p->uid);
			if (p->op == CACHE_OP_ADD || p->op == CACHE_OP_REMOVE) {
				buf_printf(&b, ",\"flags\":%u", p->flags);
				buf_adds(&b, ",\"keywords\":");
				if (p->keywords != NULL)
					json_add_string(&b, p->keywords,
					    strlen(p->keywords));
				else
					buf_adds(&b, "null");
			}
			if (p->dest_id != 0) {
				buf_adds(&b, ",\"dest\":");
				json_add_string(&b, name_of(&pc, p->dest_id),
				    strlen(name_of(&pc, p->dest_id)));
			}
			buf_printf(&b, ",\"created\":%lld,\"attempts\":%d,"
			    "\"last_error\":", (long long)p->created,
			    p->attempts);
			if (p->last_error != NULL)
				json_add_string(&b, p->last_error,
				    strlen(p->last_error));
			else
				buf_adds(&b, "null");
			buf_adds(&b, "}");
		} else {
			buf_printf(&b, "%lld %s %s %u", (long long)p->id, op,
			    name_of(&pc, p->folder_id), p->uid);
			if (p->dest_id != 0)
				buf_printf(&b, " -> %s",
				    name_of(&pc, p->dest_id));
			buf_printf(&b, " attempts=%d", p->attempts);
			if (p->last_error != NULL)
				buf_printf(&b, " last_error=%s", p->last_error);
		}
		/* Names and errors come from the server: no control bytes. */
		for (size_t j = 0; j < b.len; j++)
			if ((unsigned char)b.data[j] < 0x20 || b.data[j] == 0x7f)
				b.data[j] = '?';
		printf("%s\n", b.data);
	}
	if (!t.json && n == 0 && isatty(1))
		printf("nothing pending\n");
	buf_free(&b);
	cache_pending_free(v, n);
	for (i = 0; i < pc.n; i++)
		free(pc.names[i]);
	free(pc.names);
	free(pc.ids);
	cache_close(&t.cache);
	return EXIT_OK;
}
