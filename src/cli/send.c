/*
 * petrel send: a message on standard input into the account's outbox,
 * then (unless --offline) sent at once through the account's session;
 * sendmail-like, for scripts and git send-email. petrel outbox: what
 * waits there.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "engine.h"
#include "xmalloc.h"

/* A message read from standard input may be this big. */
#define SEND_INPUT_MAX	(256 * 1024 * 1024)

static const char *const outbox_states[] = {
	[CACHE_OUTBOX_QUEUED] = "queued",
	[CACHE_OUTBOX_SENT] = "sent",
	[CACHE_OUTBOX_HELD] = "held",
	[CACHE_OUTBOX_DRAFT] = "draft",
};

static const char *
outbox_state_name(enum cache_outbox_state st)
{
	return st <= CACHE_OUTBOX_DRAFT ? outbox_states[st] : "?";
}

/* Shown on one line: no control bytes from the message or a server. */
static void
print_clean(struct buf *b)
{
	size_t	i;

	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
			b->data[i] = '?';
	printf("%s\n", b->data);
}

static void
say_state(bool json, const char *state, int64_t id, const char *why)
{
	struct buf	b = BUF_INIT(0);

	if (!json) {
		printf("%s\n", state);
		if (why != NULL)
			fprintf(stderr, "petrel: %s\n", why);
		return;
	}
	buf_adds(&b, "{\"state\":");
	json_add_string(&b, state, strlen(state));
	buf_printf(&b, ",\"id\":%lld", (long long)id);
	if (why != NULL) {
		buf_adds(&b, ",\"reason\":");
		json_add_string(&b, why, strlen(why));
	}
	buf_adds(&b, "}");
	print_clean(&b);
	buf_free(&b);
}

int
cmd_send(struct cli_ctx *ctx, int argc, char **argv)
{
	struct account		*acct;
	struct cache		*cache = NULL;
	struct session		*s;
	struct cache_outbox	 o;
	struct sync_stats	 st;
	struct error		 err;
	char			*msg = NULL;
	size_t			 len;
	int64_t			 id = 0;
	bool			 t_flag = false, json = false;
	int			 i, rv;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "-t") == 0)
			t_flag = true;
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "-i") == 0 ||
		    strcmp(argv[i], "-oi") == 0)
			;	/* sendmail's: a lone dot never ends input here */
		else if ((strcmp(argv[i], "-a") == 0 ||
		    strcmp(argv[i], "--account") == 0) && i + 1 < argc)
			ctx->account_name = argv[++i];
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return cli_usage(cli_find("send"));
	}
	if (!t_flag && i == argc)
		return cli_usage(cli_find("send"));
	if ((acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	error_clear(&err);
	if (read_all(STDIN_FILENO, SEND_INPUT_MAX, &msg, &len) == -1) {
		if (errno == EFBIG)
			error_set(&err, ERR_USAGE, "the message is larger than "
			    "%d MB", SEND_INPUT_MAX >> 20);
		else
			error_set(&err, ERR_LOCAL, "reading the message: %s",
			    strerror(errno));
		return cli_fail(&err);
	}
	if (cache_open(acct->name, acct->proto == PROTO_POP3 ? CACHE_DURABLE :
	    0, &cache, &err) == -1 ||
	    engine_outbox_add(acct, cache, msg, len, argv + i, argc - i,
	    t_flag ? OUTBOX_FROM_HEADERS : 0, &id, &err) == -1) {
		free(msg);
		cache_close(&cache);
		return cli_fail(&err);
	}
	free(msg);
	/* Safe in the outbox from here on: a failure below only delays it. */
	if (ctx->offline) {
		say_state(json, "queued", id, NULL);
		cache_close(&cache);
		return EXIT_OK;
	}
	memset(&st, 0, sizeof st);
	if ((s = engine_start(acct, NULL, 0, &err)) != NULL) {
		rv = engine_call(s, session_send(s, id), NULL, NULL, &st, &err);
		engine_stop(&s);
	} else
		rv = -1;
	(void)rv;
	memset(&o, 0, sizeof o);
	if (cache_outbox_get(cache, id, &o, NULL) == -1)
		say_state(json, "sent", id, NULL);	/* sent and filed */
	else if (o.state == CACHE_OUTBOX_SENT)
		say_state(json, "sent", id, o.last_error);
	else
		say_state(json, outbox_state_name(o.state), id,
		    o.last_error != NULL ? o.last_error : err.cls != ERR_NONE ?
		    err.msg : NULL);
	cache_outbox_clear(&o);
	cache_close(&cache);
	return EXIT_OK;
}

static void
outbox_print(const struct cache_outbox *o, bool json)
{
	struct buf	 b = BUF_INIT(0);
	const char	*p, *nl;
	bool		 first = true;

	if (json) {
		buf_printf(&b, "{\"id\":%lld,\"state\":", (long long)o->id);
		json_add_string(&b, outbox_state_name(o->state),
		    strlen(outbox_state_name(o->state)));
		buf_adds(&b, ",\"from\":");
		json_add_string(&b, o->env_from, strlen(o->env_from));
		buf_adds(&b, ",\"rcpts\":[");
		for (p = o->rcpts; *p != '\0'; p = nl + (*nl != '\0')) {
			nl = p + strcspn(p, "\n");
			if (nl == p)
				continue;
			if (!first)
				buf_addc(&b, ',');
			first = false;
			json_add_string(&b, p, (size_t)(nl - p));
		}
		buf_adds(&b, "],\"to\":");
		if (o->to != NULL)
			json_add_string(&b, o->to, strlen(o->to));
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"subject\":");
		if (o->subject != NULL)
			json_add_string(&b, o->subject, strlen(o->subject));
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"message_id\":");
		if (o->message_id != NULL)
			json_add_string(&b, o->message_id,
			    strlen(o->message_id));
		else
			buf_adds(&b, "null");
		buf_printf(&b, ",\"size\":%zu,\"created\":%lld,\"attempts\":%d,"
		    "\"next_try\":%lld,\"sent_at\":%lld,\"last_error\":", o->len,
		    (long long)o->created, o->attempts,
		    (long long)o->next_try, (long long)o->sent_at);
		if (o->last_error != NULL)
			json_add_string(&b, o->last_error,
			    strlen(o->last_error));
		else
			buf_adds(&b, "null");
		buf_adds(&b, "}");
	} else {
		buf_printf(&b, "%lld %s to=%s subject=%s attempts=%d",
		    (long long)o->id, outbox_state_name(o->state),
		    o->to != NULL ? o->to : "", o->subject != NULL ?
		    o->subject : "", o->attempts);
		if (o->last_error != NULL)
			buf_printf(&b, " last_error=%s", o->last_error);
	}
	print_clean(&b);
	buf_free(&b);
}

int
cmd_outbox(struct cli_ctx *ctx, int argc, char **argv)
{
	struct account		*acct;
	struct cache		*cache = NULL;
	struct cache_outbox	*v = NULL;
	struct error		 err;
	const char		*action = NULL;
	uint64_t		 id = 0;
	size_t			 n = 0, i;
	bool			 json = false;
	int			 k;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = true;
		else if ((strcmp(argv[k], "--retry") == 0 ||
		    strcmp(argv[k], "--cancel") == 0) && k + 1 < argc &&
		    action == NULL && parse_u64(argv[k + 1],
		    strlen(argv[k + 1]), INT64_MAX, &id) == 0) {
			action = argv[k] + 2;
			k++;
		} else
			return cli_usage(cli_find("outbox"));
	}
	if ((acct = cli_account(ctx)) == NULL)
		return EXIT_USAGE;
	error_clear(&err);
	if (cache_open(acct->name, 0, &cache, &err) == -1)
		return cli_fail(&err);
	if (action != NULL) {
		if ((strcmp(action, "retry") == 0 ? cache_outbox_retry(cache,
		    (int64_t)id, &err) : cache_outbox_remove(cache, (int64_t)id,
		    &err)) == -1) {
			cache_close(&cache);
			return cli_fail(&err);
		}
		cache_close(&cache);
		return EXIT_OK;
	}
	if (cache_outbox_list(cache, &v, &n, &err) == -1) {
		cache_close(&cache);
		return cli_fail(&err);
	}
	for (i = 0; i < n; i++)
		outbox_print(&v[i], json);
	if (!json && n == 0 && isatty(STDOUT_FILENO))
		printf("the outbox is empty\n");
	cache_outbox_free(v, n);
	cache_close(&cache);
	return EXIT_OK;
}
