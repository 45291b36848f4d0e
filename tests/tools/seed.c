/*
 * seed: put N realistic messages straight into a Maildir folder, fast.
 *
 * usage: seed --maildir DIR --count N --seed S [--folder NAME]
 *	       [--start-time T] [--to ADDR] [--jobs N] [--manifest FILE]
 *	       [--attach-scale PERCENT]
 *
 * DIR is the Maildir root (INBOX); --folder NAME writes into the Maildir++
 * folder DIR/.NAME ('/' becomes '.'; pass non-ASCII names already in
 * modified UTF-7). Each message is written to tmp/ and renamed into cur/
 * as "TIME.MusecPidxQseed.petrel-seed,S=size,W=vsize:2,FLAGS", its mtime
 * (Dovecot's INTERNALDATE) set to its arrival time. Afterwards run
 * "doveadm index" so the first client does not pay for indexing.
 *
 * The output is a function of (--seed, --count, --start-time, --to,
 * --attach-scale) only:
 * the plan of the mailbox (threads, senders, subjects, dates, flags) is made
 * in one sequential pass, then each message is generated from its own
 * random stream, so the worker threads change nothing but the speed.
 *
 * The manifest has one JSON object per message, in arrival order:
 *   {"index":0,"file":"cur/...","message_id":"<...>","in_reply_to":null,
 *    "references":[],"thread":0,"subject":"decoded UTF-8","from":"Name <a>",
 *    "from_name":"Name","from_addr":"a","date":"RFC 3339 with the Date
 *    header's zone","date_unix":N,"internaldate":N,"flags":["\\Seen"],
 *    "size":RFC822.SIZE (CRLF),"file_size":bytes on disk,"kind":"plain|
 *    alternative|mixed","attachments":N}
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

#include "seed.h"

#define SEED_MAX_COUNT		10000000
#define SEED_MAX_DEPTH		24	/* longest reply chain */
#define SEED_MAX_REFS		12	/* References kept (oldest trimmed) */
#define SEED_REPLY_WINDOW	400	/* replies go to one of the last N */
#define SEED_MAX_JOBS		16
#define SEED_DEFAULT_START	1704067200	/* 2024-01-01T00:00:00Z */

enum seed_kind { KIND_PLAIN, KIND_ALTERNATIVE, KIND_MIXED };
static const char *seed_kind_names[] = { "plain", "alternative", "mixed" };

enum {
	FL_DRAFT = 1,
	FL_FLAGGED = 2,
	FL_ANSWERED = 4,
	FL_SEEN = 8,
};

/* One message of the plan, made sequentially from the seed. */
struct seed_plan {
	int64_t		 date;		/* Date: header instant (UTC) */
	int64_t		 arrival;	/* INTERNALDATE (file mtime) */
	int32_t		 parent;	/* index of the replied-to message, -1 */
	int32_t		 root;		/* first message of the thread */
	int16_t		 tz;		/* Date: zone, minutes east */
	uint16_t	 depth;
	uint16_t	 from;		/* person */
	int16_t		 subject;	/* table subject of the root, -1: ASCII */
	uint8_t		 prefix;	/* reply prefix */
	uint8_t		 flags;
	uint8_t		 kind;
	uint8_t		 list;		/* mailing list + 1, 0 for none */
};

struct seed_person {
	char		*hdr;		/* "Name <addr>" as written */
	const char	*name;		/* decoded */
	char		*addr;
	int16_t		 tz;
};

/* What writing one message produced, for the manifest. */
struct seed_result {
	char		*file;		/* relative to the folder: cur/... */
	size_t		 size;		/* bytes on disk (LF line ends) */
	size_t		 vsize;		/* with CRLF: RFC822.SIZE */
	uint8_t		 attachments;
};

struct seed_ctx {
	uint64_t		 seed;
	uint32_t		 tag;		/* from the seed, in names and ids */
	int			 count;
	int64_t			 start;
	const char		*to;
	char			*dir;		/* the folder's directory */
	struct seed_plan	*plan;
	struct seed_result	*res;
	struct seed_person	*people;
	int			 npeople;
	atomic_int		 next;		/* next index for a worker */
	atomic_int		 failed;
	char			 errmsg[512];
	pthread_mutex_t		 errlock;
};

/* xoshiro256**: fast, and the same stream on every platform. */
struct rng {
	uint64_t	s[4];
};

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed * 0x2545f4914f6cdd1dULL + stream;
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n). */
static inline uint32_t
rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability pm/1000. */
static inline bool
rng_permille(struct rng *r, uint32_t pm)
{
	return rng_below(r, 1000) < pm;
}

#define PICK(r, a)	((a)[rng_below((r), sizeof (a) / sizeof (a)[0])])
#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])

static const char *words[] = {
	"the", "project", "meeting", "review", "budget", "report", "draft",
	"server", "release", "schedule", "team", "customer", "update", "plan",
	"issue", "patch", "build", "test", "deadline", "invoice", "contract",
	"design", "proposal", "question", "answer", "lunch", "office", "trip",
	"agenda", "notes", "minutes", "quarter", "numbers", "feedback", "slides",
	"and", "of", "for", "with", "about", "on", "next", "last", "this",
	"week", "month", "Monday", "Friday", "tomorrow", "today", "please",
	"thanks", "urgent", "quick", "new", "old", "final", "revised", "small",
	"large", "request", "access", "password", "account", "backup", "disk",
	"network", "printer", "coffee", "kitchen", "party", "holiday", "leave",
	"travel", "hotel", "flight", "conference", "talk", "paper", "deadline",
	"merge", "branch", "commit", "bug", "fix", "crash", "log", "error",
	"warning", "memory", "cache", "index", "folder", "mailbox", "message",
	"thread", "reply", "forward", "attachment", "document", "spreadsheet",
	"figure", "table", "chapter", "section", "draft", "version", "status",
	"is", "are", "was", "will", "be", "we", "you", "they", "it", "can",
	"should", "would", "could", "not", "all", "some", "more", "less",
	"before", "after", "during", "because", "if", "then", "also", "still",
};

static const char *first_names[] = {
	"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
	"Ivan", "Judy", "Karl", "Laura", "Mallory", "Nina", "Oscar", "Peggy",
	"Quentin", "Rita", "Sybil", "Trent", "Ursula", "Victor", "Wendy",
	"Xavier", "Yvonne", "Zach", "Liam", "Emma", "Noah", "Olivia", "Mia",
	"Lucas", "Sofia", "Ethan", "Chloe", "Mateo", "Hannah", "Leo", "Ava",
	"Max",
};

static const char *last_names[] = {
	"Anderson", "Brown", "Clark", "Davis", "Evans", "Fischer", "Garcia",
	"Hughes", "Ito", "Johnson", "Kowalski", "Lee", "Martin", "Nguyen",
	"Olsen", "Patel", "Quinn", "Rossi", "Schmidt", "Taylor", "Usman",
	"Vogel", "Walker", "Xu", "Young", "Zimmermann",
};

static const char *domains[] = {
	"example.com", "example.org", "example.net", "mail.example.com",
	"corp.example", "university.example.edu", "lists.example.org",
	"startup.example.io",
};

static const char *lists[] = {
	"petrel-dev", "announce", "users", "security", "ops",
};

static const int16_t zones[] = {
	0, 60, 120, -300, -480, 330, 540, 600, -210, 345, 0, 60, -240, 780,
	-420, 180,
};

static const char *reply_prefixes[] = {
	"Re: ", "Re: ", "Re: ", "Re: ", "Re: ", "Re: ", "RE: ", "AW: ",
};

/* Bodies in UTF-8 for messages whose subject is not ASCII. */
static const char *utf8_lines[] = {
	"Vielen Dank f\303\274r die schnelle Antwort, wir sehen uns "
	"am Montag.",
	"Merci pour votre message, je reviens vers vous d\303\250s que "
	"possible.",
	"\320\241\320\277\320\260\321\201\320\270\320\261\320\276 "
	"\320\267\320\260 \320\277\320\270\321\201\321\214\320\274\320\276.",
	"\343\201\212\344\270\226\350\251\261\343\201\253\343\201\252\343\201"
	"\243\343\201\246\343\201\212\343\202\212\343\201\276\343\201\231\343"
	"\200\202",
	"\354\225\210\353\205\225\355\225\230\354\204\270\354\232\224, "
	"\355\232\214\354\235\230 \354\236\220\353\243\214\353\245\274 "
	"\353\263\264\353\203\205\353\213\210\353\213\244.",
	"\350\257\267\346\237\245\346\224\266\351\231\204\344\273\266\343\200"
	"\202",
	"Emoji test \360\237\230\200 \360\237\221\215 and a caf\303\251 "
	"na\303\257ve r\303\251sum\303\251.",
};

static const char *attach_types[] = {
	"application/pdf", "image/png", "image/jpeg", "application/zip",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
};
static const char *attach_ext[] = { "pdf", "png", "jpg", "zip", "xlsx" };
static const char *attach_magic[] = {
	"%PDF-1.5\n%\342\343\317\323\n", "\211PNG\r\n\032\n", "\377\330\377\340",
	"PK\003\004", "PK\003\004",
};

static const char *mailers[] = {
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:115.0) "
	"Gecko/20100101 Thunderbird/115.4.1",
	"X-Mailer: Apple Mail (2.3731.700.6)",
	"User-Agent: NeoMutt/20220429",
	"X-Mailer: Microsoft Outlook 16.0",
	"User-Agent: Roundcube Webmail/1.6.5",
};

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *month_names[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec",
};
static const char *day_names[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: seed --maildir DIR --count N --seed S "
	    "[--folder NAME] [--start-time T]\n"
	    "            [--to ADDR] [--jobs N] [--manifest FILE] "
	    "[--attach-scale PERCENT]\n");
	exit(2);
}

/* Report the first error of any worker and make the others stop. */
static void
seed_fail(struct seed_ctx *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->errlock);
	if (!atomic_load(&c->failed)) {
		va_start(ap, fmt);
		vsnprintf(c->errmsg, sizeof c->errmsg, fmt, ap);
		va_end(ap);
		atomic_store(&c->failed, 1);
	}
	pthread_mutex_unlock(&c->errlock);
}

static void
seed_people(struct seed_ctx *c)
{
	struct rng r;
	size_t i, j, n;

	rng_init(&r, c->seed, UINT64_C(0xfeedface));
	n = seed_nnames + NITEMS(first_names) * 2;
	c->people = xcalloc(n, sizeof *c->people);
	for (i = 0; i < seed_nnames; i++) {
		c->people[i].hdr = xstrdup(seed_names[i].hdr);
		c->people[i].name = seed_names[i].name;
		c->people[i].addr = xstrdup(seed_names[i].addr);
		c->people[i].tz = PICK(&r, zones);
	}
	for (j = 0; i < n; i++, j++) {
		const char *f = first_names[j % NITEMS(first_names)];
		const char *l = PICK(&r, last_names);
		const char *d = PICK(&r, domains);
		char *name;

		xasprintf(&name, "%s %s", f, l);
		c->people[i].name = name;
		xasprintf(&c->people[i].addr, "%c%s.%s@%s", f[0] | 0x20, f + 1,
		    l, d);
		for (char *p = c->people[i].addr; *p != '@'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p |= 0x20;
		xasprintf(&c->people[i].hdr, "%s <%s>", name,
		    c->people[i].addr);
		c->people[i].tz = PICK(&r, zones);
	}
	c->npeople = (int)n;
}

/* Free what the run allocated (so the sanitizer build sees no leak). */
static void
seed_free(struct seed_ctx *c)
{
	int	i;

	for (i = 0; i < c->npeople; i++) {
		free(c->people[i].hdr);
		free(c->people[i].addr);
		if ((size_t)i >= seed_nnames)
			free((char *)c->people[i].name);
	}
	free(c->people);
	if (c->res != NULL)
		for (i = 0; i < c->count; i++)
			free(c->res[i].file);
	free(c->res);
	free(c->plan);
	free(c->dir);
}

/* The sequential pass: threads, senders, subjects, dates and flags. */
static void
seed_make_plan(struct seed_ctx *c)
{
	struct rng r;
	int64_t t = c->start;
	int i;

	rng_init(&r, c->seed, UINT64_C(0x9111));
	c->plan = xcalloc(c->count > 0 ? (size_t)c->count : 1,
	    sizeof *c->plan);
	for (i = 0; i < c->count; i++) {
		struct seed_plan *p = &c->plan[i];
		uint32_t k;

		/* Mostly minutes apart, sometimes a quiet day. */
		t += 30 + rng_below(&r, rng_permille(&r, 20) ? 86400 : 1100);
		p->arrival = t;
		p->date = t - 1 - rng_below(&r, rng_permille(&r, 30) ? 7200 : 90);
		p->parent = -1;
		p->root = i;
		p->subject = -1;
		if (i > 0 && rng_permille(&r, 380)) {
			uint32_t back = 1 + rng_below(&r,
			    (uint32_t)(i < SEED_REPLY_WINDOW ? i :
			    SEED_REPLY_WINDOW));

			/* Favour recent messages: halve the distance half the time. */
			if (rng_permille(&r, 500))
				back = (back + 1) / 2;
			if (c->plan[i - back].depth + 1 < SEED_MAX_DEPTH) {
				p->parent = i - (int32_t)back;
				p->root = c->plan[p->parent].root;
				p->depth = c->plan[p->parent].depth + 1;
				p->prefix = (uint8_t)rng_below(&r,
				    NITEMS(reply_prefixes));
			}
		}
		if (p->parent < 0) {
			if (rng_permille(&r, 300))
				p->subject = (int16_t)rng_below(&r,
				    (uint32_t)seed_nsubjects);
			p->list = rng_permille(&r, 150) ?
			    (uint8_t)(1 + rng_below(&r, NITEMS(lists))) : 0;
		} else {
			p->subject = c->plan[p->root].subject;
			p->list = c->plan[p->root].list;
		}
		p->from = (uint16_t)rng_below(&r, (uint32_t)c->npeople);
		p->tz = c->people[p->from].tz;
		if (rng_permille(&r, 50))
			p->tz = PICK(&r, zones);

		k = rng_below(&r, 1000);
		p->kind = k < 620 ? KIND_PLAIN : k < 870 ? KIND_ALTERNATIVE :
		    KIND_MIXED;

		/* Old mail is read; the newest 3% mostly not. */
		if (rng_permille(&r, i < c->count - c->count / 33 ? 930 : 300))
			p->flags |= FL_SEEN;
		if (rng_permille(&r, 30))
			p->flags |= FL_FLAGGED;
		if ((p->flags & FL_SEEN) && rng_permille(&r, 120))
			p->flags |= FL_ANSWERED;
		if (rng_permille(&r, 3))
			p->flags |= FL_DRAFT;
	}
}

/* Add a message-id of message i (without <>). */
static void
seed_msgid(struct seed_ctx *c, struct buf *b, int i)
{
	const struct seed_plan *p = &c->plan[i];
	struct tm tm;
	time_t tt = (time_t)p->date;

	gmtime_r(&tt, &tm);
	buf_printf(b, "%04d%02d%02d%02d%02d%02d.%08x.%d@%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, c->tag, i,
	    strchr(c->people[p->from].addr, '@') + 1);
}

/* The ASCII subject of a thread root, from its own stream. */
static void
seed_ascii_subject(struct seed_ctx *c, int root, struct buf *b)
{
	struct rng r;
	uint32_t n, k;

	rng_init(&r, c->seed, UINT64_C(0x5b000000) + (uint64_t)root);
	n = 2 + rng_below(&r, 7);
	for (k = 0; k < n; k++) {
		const char *w = PICK(&r, words);

		if (k == 0)
			buf_printf(b, "%c%s", w[0] >= 'a' && w[0] <= 'z' ?
			    w[0] - 32 : w[0], w + 1);
		else
			buf_printf(b, " %s", w);
	}
	switch (rng_below(&r, 8)) {
	case 0:
		buf_adds(b, "?");
		break;
	case 1:
		buf_printf(b, " #%u", 100 + rng_below(&r, 9900));
		break;
	case 2:
		buf_printf(b, " (%s)", PICK(&r, words));
		break;
	}
}

/*
 * Subject of message i: hdr as written (may be NULL when not wanted) and
 * its decoded text.
 */
static void
seed_subject(struct seed_ctx *c, int i, struct buf *hdr, struct buf *text)
{
	const struct seed_plan *p = &c->plan[i];
	const char *pre = p->parent >= 0 ? reply_prefixes[p->prefix] : "";
	char lst[64] = "";

	if (p->list)
		snprintf(lst, sizeof lst, "[%s] ", lists[p->list - 1]);
	if (hdr != NULL)
		buf_printf(hdr, "%s%s", pre, lst);
	if (text != NULL)
		buf_printf(text, "%s%s", pre, lst);
	if (p->subject >= 0) {
		if (hdr != NULL)
			buf_adds(hdr, seed_subjects[p->subject].hdr);
		if (text != NULL)
			buf_adds(text, seed_subjects[p->subject].text);
	} else {
		if (hdr != NULL)
			seed_ascii_subject(c, p->root, hdr);
		if (text != NULL)
			seed_ascii_subject(c, p->root, text);
	}
}

/* RFC 5322 date in the message's zone; a few shapes seen in real mail. */
static void
seed_date(struct buf *b, int64_t t, int tz, struct rng *r)
{
	time_t local = (time_t)(t + tz * 60);
	struct tm tm;
	int a = tz < 0 ? -tz : tz;
	uint32_t shape = rng_below(r, 100);

	gmtime_r(&local, &tm);
	if (shape >= 5)
		buf_printf(b, "%s, ", day_names[tm.tm_wday]);
	buf_printf(b, shape < 40 ? "%d %s %04d %02d:%02d:%02d %c%02d%02d" :
	    "%02d %s %04d %02d:%02d:%02d %c%02d%02d", tm.tm_mday,
	    month_names[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, tz < 0 ? '-' : '+', a / 60, a % 60);
	if (tz == 60 && shape >= 90)
		buf_adds(b, " (CET)");
	else if (tz == 0 && shape >= 90)
		buf_adds(b, " (UTC)");
}

/* Lines of words wrapped before 72 columns; paragraphs separated. */
static void
seed_text(struct buf *b, struct rng *r, int paragraphs, const char *quote)
{
	int p, l, nl;
	size_t col;

	for (p = 0; p < paragraphs; p++) {
		if (p > 0)
			buf_adds(b, quote != NULL ? quote : "");
		if (p > 0)
			buf_addc(b, '\n');
		nl = 1 + (int)rng_below(r, 5);
		for (l = 0; l < nl; l++) {
			int nw = 6 + (int)rng_below(r, 8);

			if (quote != NULL)
				buf_adds(b, quote);
			col = 0;
			for (int w = 0; w < nw; w++) {
				const char *s = PICK(r, words);

				if (col > 0)
					buf_addc(b, ' ');
				if (l == 0 && w == 0 && s[0] >= 'a' && s[0] <= 'z') {
					/* A paragraph starts with a capital. */
					buf_addc(b, (char)(s[0] - 32));
					buf_adds(b, s + 1);
				} else
					buf_adds(b, s);
				col += strlen(s) + 1;
			}
			buf_adds(b, l == nl - 1 ? ".\n" : "\n");
		}
	}
}

/* Quoted-printable of UTF-8 text with LF line ends (soft breaks at 76). */
static void
seed_qp(struct buf *out, const char *s, size_t len)
{
	size_t col = 0, i;
	char tmp[4];

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n') {
			buf_addc(out, '\n');
			col = 0;
			continue;
		}
		if ((ch >= 33 && ch <= 126 && ch != '=') ||
		    (ch == ' ' && i + 1 < len && s[i + 1] != '\n')) {
			if (col + 1 > 75) {
				buf_adds(out, "=\n");
				col = 0;
			}
			buf_addc(out, (char)ch);
			col++;
		} else {
			if (col + 3 > 75) {
				buf_adds(out, "=\n");
				col = 0;
			}
			snprintf(tmp, sizeof tmp, "=%02X", ch);
			buf_add(out, tmp, 3);
			col += 3;
		}
	}
}

/* Base64 in 76-column lines. */
static void
seed_b64(struct buf *out, const unsigned char *in, size_t len)
{
	size_t i, col = 0;
	char *o = buf_reserve(out, (len + 2) / 3 * 4 + (len / 57 + 2));
	char *start = o;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];

		*o++ = b64chars[v >> 18];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = b64chars[(v >> 6) & 63];
		*o++ = b64chars[v & 63];
		if ((col += 4) == 76) {
			*o++ = '\n';
			col = 0;
		}
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		*o++ = b64chars[v >> 18];
		*o++ = b64chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		*o++ = '=';
		col += 4;
	}
	if (col > 0)
		*o++ = '\n';
	buf_commit(out, (size_t)(o - start));
}

/* Body text: greeting, paragraphs, a quote of the parent, a signature. */
static void
seed_body_text(struct seed_ctx *c, int i, struct rng *r, struct buf *t)
{
	const struct seed_plan *p = &c->plan[i];
	const struct seed_person *me = &c->people[p->from];

	buf_printf(t, "Hi %s,\n\n", PICK(r, first_names));
	if (p->subject >= 0 || rng_permille(r, 50)) {
		buf_adds(t, PICK(r, utf8_lines));
		buf_adds(t, "\n\n");
	}
	seed_text(t, r, 1 + (int)rng_below(r, 4), NULL);
	if (p->parent >= 0) {
		const struct seed_plan *pp = &c->plan[p->parent];
		const struct seed_person *them = &c->people[pp->from];

		buf_printf(t, "\nOn %s wrote:\n", them->name[0] != '\0' ?
		    them->name : them->addr);
		seed_text(t, r, 1 + (int)rng_below(r, 3), "> ");
	}
	buf_printf(t, "\n-- \n%s\n", me->name[0] != '\0' ? me->name :
	    me->addr);
}

static bool
seed_is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* A text/plain part (headers + body) in one of the usual encodings. */
static void
seed_plain_part(struct buf *b, struct rng *r, const struct buf *t)
{
	if (seed_is_ascii(t->data, t->len)) {
		if (rng_permille(r, 500))
			buf_adds(b, "Content-Type: text/plain; charset=us-ascii\n"
			    "Content-Transfer-Encoding: 7bit\n\n");
		else
			buf_adds(b, "Content-Type: text/plain; charset=utf-8; "
			    "format=flowed\n\n");
		buf_add(b, t->data, t->len);
		return;
	}
	switch (rng_below(r, 10)) {
	case 0:
	case 1:
		buf_adds(b, "Content-Type: text/plain; charset=\"UTF-8\"\n"
		    "Content-Transfer-Encoding: base64\n\n");
		seed_b64(b, (const unsigned char *)t->data, t->len);
		break;
	case 2:
	case 3:
	case 4:
		buf_adds(b, "Content-Type: text/plain; charset=utf-8\n"
		    "Content-Transfer-Encoding: 8bit\n\n");
		buf_add(b, t->data, t->len);
		break;
	default:
		buf_adds(b, "Content-Type: text/plain; charset=UTF-8\n"
		    "Content-Transfer-Encoding: quoted-printable\n\n");
		seed_qp(b, t->data, t->len);
		break;
	}
}

static void
seed_html_part(struct buf *b, const struct buf *t)
{
	struct buf h = BUF_INIT(0);
	size_t i;

	buf_adds(&h, "<html><head><meta charset=\"utf-8\"></head><body>\n<p>");
	for (i = 0; i < t->len; i++) {
		char ch = t->data[i];

		if (ch == '<')
			buf_adds(&h, "&lt;");
		else if (ch == '>')
			buf_adds(&h, "&gt;");
		else if (ch == '&')
			buf_adds(&h, "&amp;");
		else if (ch == '\n' && i + 1 < t->len && t->data[i + 1] == '\n') {
			buf_adds(&h, "</p>\n<p>");
			i++;
		} else if (ch == '\n')
			buf_adds(&h, "<br>\n");
		else
			buf_addc(&h, ch);
	}
	buf_adds(&h, "</p>\n</body></html>\n");
	buf_adds(b, "Content-Type: text/html; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n");
	seed_qp(b, h.data, h.len);
	buf_free(&h);
}

static void
seed_alternative(struct buf *b, struct rng *r, const struct buf *t,
    const char *bnd)
{
	buf_printf(b, "Content-Type: multipart/alternative;\n"
	    " boundary=\"%s\"\n\n", bnd);
	buf_printf(b, "--%s\n", bnd);
	seed_plain_part(b, r, t);
	buf_printf(b, "\n--%s\n", bnd);
	seed_html_part(b, t);
	buf_printf(b, "\n--%s--\n", bnd);
}

/* --attach-scale: attachment sizes in percent of the usual. */
static int attach_pct = 100;
#define ATTACH_MAX	((size_t)200 * 1024 * (size_t)attach_pct / 100)

/* One base64 attachment of 2 KB to 200 KB (log-uniform), times the scale. */
static void
seed_attachment(struct buf *b, struct rng *r, int n, unsigned char *scratch)
{
	uint32_t k = rng_below(r, NITEMS(attach_types));
	size_t len = (size_t)(2048.0 * __builtin_powi(1.047, (int)rng_below(r,
	    100)));
	size_t m = strlen(attach_magic[k]), i;
	const char *ext = attach_ext[k];

	len = len * (size_t)attach_pct / 100;
	if (len > ATTACH_MAX)
		len = ATTACH_MAX;
	if (len < m)
		len = m;
	memcpy(scratch, attach_magic[k], m);
	for (i = m; i + 8 <= len; i += 8) {
		uint64_t v = rng_next(r);

		memcpy(scratch + i, &v, 8);
	}
	for (; i < len; i++)
		scratch[i] = (unsigned char)rng_next(r);

	switch (rng_below(r, 4)) {
	case 0:		/* RFC 2231 */
		buf_printf(b, "Content-Type: %s; name=\"Uebersicht-%d.%s\"\n"
		    "Content-Disposition: attachment;\n"
		    " filename*=UTF-8''%%C3%%9Cbersicht-%d.%s\n",
		    attach_types[k], n, ext, n, ext);
		break;
	case 1:		/* RFC 2047 in a quoted string, as many mailers do */
		buf_printf(b, "Content-Type: %s;\n"
		    " name=\"=?UTF-8?Q?R=C3=A9sum=C3=A9-%d.%s?=\"\n"
		    "Content-Disposition: attachment;\n"
		    " filename=\"=?UTF-8?Q?R=C3=A9sum=C3=A9-%d.%s?=\"\n",
		    attach_types[k], n, ext, n, ext);
		break;
	default:
		buf_printf(b, "Content-Type: %s; name=\"report-%d.%s\"\n"
		    "Content-Disposition: attachment; filename=\"report-%d.%s\";"
		    "\n size=%zu\n", attach_types[k], n, ext, n, ext, len);
		break;
	}
	buf_adds(b, "Content-Transfer-Encoding: base64\n\n");
	seed_b64(b, scratch, len);
}

static void
seed_flags(char out[8], uint8_t f)
{
	char *o = out;

	if (f & FL_DRAFT)
		*o++ = 'D';
	if (f & FL_FLAGGED)
		*o++ = 'F';
	if (f & FL_ANSWERED)
		*o++ = 'R';
	if (f & FL_SEEN)
		*o++ = 'S';
	*o = '\0';
}

/* Generate message i into b; returns the number of attachments. */
static int
seed_message(struct seed_ctx *c, int i, struct buf *b, struct buf *t,
    unsigned char *scratch)
{
	const struct seed_plan *p = &c->plan[i];
	const struct seed_person *from = &c->people[p->from];
	struct rng r;
	char bnd[96], bnd2[112];
	int natt = 0, k, depth;
	int32_t chain[SEED_MAX_DEPTH + 1];

	rng_init(&r, c->seed, (uint64_t)i + 1);
	buf_reset(b);
	buf_reset(t);

	buf_printf(b, "Return-Path: <%s>\n", from->addr);
	buf_printf(b, "Delivered-To: %s\n", c->to);
	buf_printf(b, "Received: from mail.%s (mail.%s [192.0.2.%u])\n"
	    "\tby mx.example.org (Postfix) with ESMTPS id %08X%04X\n"
	    "\tfor <%s>; ", strchr(from->addr, '@') + 1,
	    strchr(from->addr, '@') + 1, 1 + rng_below(&r, 250),
	    (unsigned)rng_next(&r), (unsigned)rng_below(&r, 65536), c->to);
	seed_date(b, p->arrival, 0, &r);
	buf_adds(b, "\n");
	if (rng_permille(&r, 300))
		buf_printf(b, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;"
		    " d=%s; s=sel1;\n\th=from:to:subject:date:message-id;"
		    " bh=%08X%08X%08X=;\n\tb=%016" PRIX64 "%016" PRIX64
		    "%016" PRIX64 "\n\t %016" PRIX64 "%016" PRIX64 "==\n",
		    strchr(from->addr, '@') + 1, (unsigned)rng_next(&r),
		    (unsigned)rng_next(&r), (unsigned)rng_next(&r), rng_next(&r),
		    rng_next(&r), rng_next(&r), rng_next(&r), rng_next(&r));
	buf_adds(b, "Date: ");
	seed_date(b, p->date, p->tz, &r);
	buf_printf(b, "\nFrom: %s\n", from->hdr);
	if (p->list)
		buf_printf(b, "To: %s@lists.example.org\n", lists[p->list - 1]);
	else
		buf_printf(b, "To: %s\n", c->to);
	if (rng_permille(&r, 300)) {
		int ncc = 1 + (int)rng_below(&r, 3);

		buf_adds(b, "Cc: ");
		for (k = 0; k < ncc; k++)
			buf_printf(b, "%s%s", k > 0 ? ",\n " : "",
			    c->people[rng_below(&r, (uint32_t)c->npeople)].hdr);
		buf_addc(b, '\n');
	}
	buf_adds(b, "Subject: ");
	seed_subject(c, i, b, NULL);
	buf_adds(b, "\nMessage-ID: <");
	seed_msgid(c, b, i);
	buf_adds(b, ">\n");
	if (p->parent >= 0) {
		buf_adds(b, "In-Reply-To: <");
		seed_msgid(c, b, p->parent);
		buf_adds(b, ">\n");
		depth = 0;
		for (int32_t a = p->parent; a >= 0 && depth <= SEED_MAX_DEPTH;
		    a = c->plan[a].parent)
			chain[depth++] = a;
		buf_adds(b, "References:");
		/* Oldest first, the root always kept, the middle trimmed. */
		for (k = depth - 1; k >= 0; k--) {
			if (k != depth - 1 && k >= SEED_MAX_REFS - 1)
				continue;
			buf_adds(b, k == depth - 1 ? " <" : "\n <");
			seed_msgid(c, b, chain[k]);
			buf_addc(b, '>');
		}
		buf_addc(b, '\n');
	}
	if (p->list)
		buf_printf(b, "List-Id: <%s.lists.example.org>\n"
		    "List-Unsubscribe: <mailto:%s-leave@lists.example.org>\n",
		    lists[p->list - 1], lists[p->list - 1]);
	if (rng_permille(&r, 600))
		buf_printf(b, "%s\n", PICK(&r, mailers));
	buf_adds(b, "MIME-Version: 1.0\n");

	seed_body_text(c, i, &r, t);
	snprintf(bnd, sizeof bnd, "----=_Part_%d_%08x.%u", i, c->tag,
	    (unsigned)rng_below(&r, 1000000));
	switch (p->kind) {
	case KIND_PLAIN:
		seed_plain_part(b, &r, t);
		break;
	case KIND_ALTERNATIVE:
		seed_alternative(b, &r, t, bnd);
		break;
	case KIND_MIXED:
		natt = 1 + (rng_permille(&r, 250) ? (int)rng_below(&r, 3) : 0);
		buf_printf(b, "Content-Type: multipart/mixed;\n"
		    " boundary=\"%s\"\n\nThis is a multi-part message in MIME "
		    "format.\n\n--%s\n", bnd, bnd);
		if (rng_permille(&r, 500)) {
			snprintf(bnd2, sizeof bnd2, "%s_alt", bnd);
			seed_alternative(b, &r, t, bnd2);
		} else
			seed_plain_part(b, &r, t);
		for (k = 0; k < natt; k++) {
			buf_printf(b, "\n--%s\n", bnd);
			seed_attachment(b, &r, k + 1, scratch);
		}
		buf_printf(b, "\n--%s--\n", bnd);
		break;
	}
	return natt;
}

/* Write message i: tmp/ first, then rename into cur/ with its flags. */
static int
seed_write(struct seed_ctx *c, int i, const struct buf *b, int natt)
{
	const struct seed_plan *p = &c->plan[i];
	struct seed_result *res = &c->res[i];
	struct timespec ts[2];
	char flags[8], *tmp, *cur, *name;
	size_t vsize = b->len, k;
	int fd;
	ssize_t n;

	for (k = 0; k < b->len; k++)
		if (b->data[k] == '\n')
			vsize++;
	seed_flags(flags, p->flags);
	xasprintf(&name, "%" PRId64 ".M%uP%dQ%08x.petrel-seed,S=%zu,W=%zu",
	    p->arrival, (unsigned)(i * 7919u % 1000000u), i, c->tag, b->len,
	    vsize);
	xasprintf(&tmp, "%s/tmp/%s", c->dir, name);
	xasprintf(&cur, "%s/cur/%s:2,%s", c->dir, name, flags);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		seed_fail(c, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	for (k = 0; k < b->len; k += (size_t)n) {
		n = write(fd, b->data + k, b->len - k);
		if (n <= 0) {
			seed_fail(c, "write %s: %s", tmp, n == 0 ? "short write" :
			    strerror(errno));
			close(fd);
			unlink(tmp);
			goto fail;
		}
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)p->arrival;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) == -1 || close(fd) == -1) {
		seed_fail(c, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, cur) == -1) {
		seed_fail(c, "rename %s: %s", cur, strerror(errno));
		unlink(tmp);
		goto fail;
	}
	xasprintf(&res->file, "cur/%s:2,%s", name, flags);
	res->size = b->len;
	res->vsize = vsize;
	res->attachments = (uint8_t)natt;
	free(name);
	free(tmp);
	free(cur);
	return 0;
fail:
	free(name);
	free(tmp);
	free(cur);
	return -1;
}

static void *
seed_worker(void *arg)
{
	struct seed_ctx *c = arg;
	struct buf b = BUF_INIT(0), t = BUF_INIT(0);
	unsigned char *scratch = xmalloc(ATTACH_MAX + 16);
	int i, natt;

	while (!atomic_load(&c->failed)) {
		i = atomic_fetch_add(&c->next, 1);
		if (i >= c->count)
			break;
		natt = seed_message(c, i, &b, &t, scratch);
		if (seed_write(c, i, &b, natt) == -1)
			break;
	}
	buf_free(&b);
	buf_free(&t);
	free(scratch);
	return NULL;
}

static void
json_str(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
json_cstr(FILE *f, const char *s)
{
	json_str(f, s, strlen(s));
}

static void
seed_rfc3339(char out[80], int64_t t, int tz)
{
	time_t local = (time_t)(t + tz * 60);
	struct tm tm;
	int a = tz < 0 ? -tz : tz;

	gmtime_r(&local, &tm);
	snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, tz < 0 ? '-' : '+', a / 60, a % 60);
}

static int
seed_manifest(struct seed_ctx *c, const char *path)
{
	FILE *f = fopen(path, "w");
	struct buf s = BUF_INIT(0), id = BUF_INIT(0);
	char date[80];
	int i, k, depth, first;
	int32_t chain[SEED_MAX_DEPTH + 1];

	if (f == NULL) {
		log_warn("%s", path);
		return -1;
	}
	for (i = 0; i < c->count; i++) {
		const struct seed_plan *p = &c->plan[i];
		const struct seed_person *from = &c->people[p->from];
		const struct seed_result *r = &c->res[i];

		fprintf(f, "{\"index\":%d,\"file\":", i);
		json_cstr(f, r->file);
		buf_reset(&id);
		seed_msgid(c, &id, i);
		fputs(",\"message_id\":\"<", f);
		fputs(id.data, f);
		fputs(">\",\"in_reply_to\":", f);
		if (p->parent >= 0) {
			buf_reset(&id);
			seed_msgid(c, &id, p->parent);
			fprintf(f, "\"<%s>\"", id.data);
		} else
			fputs("null", f);
		fputs(",\"references\":[", f);
		depth = 0;
		for (int32_t a = p->parent; a >= 0 && depth <= SEED_MAX_DEPTH;
		    a = c->plan[a].parent)
			chain[depth++] = a;
		for (first = 1, k = depth - 1; k >= 0; k--) {
			if (k != depth - 1 && k >= SEED_MAX_REFS - 1)
				continue;
			buf_reset(&id);
			seed_msgid(c, &id, chain[k]);
			fprintf(f, "%s\"<%s>\"", first ? "" : ",", id.data);
			first = 0;
		}
		fprintf(f, "],\"thread\":%d,\"subject\":", p->root);
		buf_reset(&s);
		seed_subject(c, i, NULL, &s);
		json_str(f, s.data, s.len);
		buf_reset(&s);
		if (from->name[0] != '\0')
			buf_printf(&s, "%s <%s>", from->name, from->addr);
		else
			buf_adds(&s, from->addr);
		fputs(",\"from\":", f);
		json_str(f, s.data, s.len);
		fputs(",\"from_name\":", f);
		json_cstr(f, from->name);
		fputs(",\"from_addr\":", f);
		json_cstr(f, from->addr);
		seed_rfc3339(date, p->date, p->tz);
		fprintf(f, ",\"date\":\"%s\",\"date_unix\":%" PRId64
		    ",\"internaldate\":%" PRId64 ",\"flags\":[", date, p->date,
		    p->arrival);
		first = 1;
		if (p->flags & FL_SEEN) {
			fputs("\"\\\\Seen\"", f);
			first = 0;
		}
		if (p->flags & FL_ANSWERED) {
			fprintf(f, "%s\"\\\\Answered\"", first ? "" : ",");
			first = 0;
		}
		if (p->flags & FL_FLAGGED) {
			fprintf(f, "%s\"\\\\Flagged\"", first ? "" : ",");
			first = 0;
		}
		if (p->flags & FL_DRAFT)
			fprintf(f, "%s\"\\\\Draft\"", first ? "" : ",");
		fprintf(f, "],\"size\":%zu,\"file_size\":%zu,\"kind\":\"%s\","
		    "\"attachments\":%d}\n", r->vsize, r->size,
		    seed_kind_names[p->kind], r->attachments);
	}
	buf_free(&s);
	buf_free(&id);
	if (ferror(f) | (fclose(f) == EOF)) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

static int
mkdir_ok(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		log_warn("mkdir %s", path);
		return -1;
	}
	return 0;
}

/* Resolve and create the folder directory (cur, new, tmp). */
static int
seed_dirs(struct seed_ctx *c, const char *maildir, const char *folder)
{
	static const char *subs[] = { "cur", "new", "tmp" };
	char *p;
	size_t i;

	if (folder == NULL || strcasecmp(folder, "INBOX") == 0)
		c->dir = xstrdup(maildir);
	else {
		if (folder[0] == '\0' || folder[0] == '.' ||
		    strstr(folder, "..") != NULL || strchr(folder, '.') != NULL) {
			log_warnx("bad folder name: %s", folder);
			return -1;
		}
		xasprintf(&c->dir, "%s/.%s", maildir, folder);
		for (p = c->dir + strlen(maildir) + 2; *p != '\0'; p++)
			if (*p == '/')
				*p = '.';
	}
	if (mkdir_ok(maildir) == -1 || mkdir_ok(c->dir) == -1)
		return -1;
	for (i = 0; i < NITEMS(subs); i++) {
		xasprintf(&p, "%s/%s", c->dir, subs[i]);
		if (mkdir_ok(p) == -1) {
			free(p);
			return -1;
		}
		free(p);
	}
	if (strcmp(c->dir, maildir) != 0) {
		int fd;

		xasprintf(&p, "%s/maildirfolder", c->dir);
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd != -1)
			close(fd);
		free(p);
	}
	return 0;
}

static long long
parse_num(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "seed: bad %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "maildir", required_argument, NULL, 'm' },
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "folder", required_argument, NULL, 'f' },
		{ "start-time", required_argument, NULL, 't' },
		{ "to", required_argument, NULL, 'T' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "manifest", required_argument, NULL, 'M' },
		{ "attach-scale", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct seed_ctx c;
	const char *maildir = NULL, *folder = NULL, *manifest = NULL;
	pthread_t th[SEED_MAX_JOBS];
	long ncpu;
	int ch, jobs = 0, j, have_count = 0, have_seed = 0, rv;
	uint64_t x;

	log_init("seed");
	memset(&c, 0, sizeof c);
	c.start = SEED_DEFAULT_START;
	c.to = "alice@example.org";
	pthread_mutex_init(&c.errlock, NULL);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			maildir = optarg;
			break;
		case 'n':
			c.count = (int)parse_num("--count", optarg, 0,
			    SEED_MAX_COUNT);
			have_count = 1;
			break;
		case 's':
			c.seed = (uint64_t)parse_num("--seed", optarg, 0,
			    INT64_MAX);
			have_seed = 1;
			break;
		case 'f':
			folder = optarg;
			break;
		case 't':
			c.start = parse_num("--start-time", optarg, 0,
			    INT64_C(4102444800));	/* up to 2100-01-01 */
			break;
		case 'T':
			c.to = optarg;
			break;
		case 'j':
			jobs = (int)parse_num("--jobs", optarg, 1, SEED_MAX_JOBS);
			break;
		case 'M':
			manifest = optarg;
			break;
		case 'A':
			attach_pct = (int)parse_num("--attach-scale", optarg,
			    10, 1000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc || maildir == NULL || !have_count || !have_seed)
		usage();
	if (jobs == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	}
	x = c.seed;
	c.tag = (uint32_t)splitmix64(&x);

	if (seed_dirs(&c, maildir, folder) == -1)
		return 1;
	seed_people(&c);
	seed_make_plan(&c);
	c.res = xcalloc(c.count > 0 ? (size_t)c.count : 1, sizeof *c.res);

	if (jobs > c.count)
		jobs = c.count > 0 ? c.count : 1;
	for (j = 0; j < jobs; j++)
		if (pthread_create(&th[j], NULL, seed_worker, &c) != 0)
			fatalx("pthread_create failed");
	for (j = 0; j < jobs; j++)
		pthread_join(th[j], NULL);
	if (atomic_load(&c.failed)) {
		fprintf(stderr, "seed: %s\n", c.errmsg);
		seed_free(&c);
		return 1;
	}
	rv = manifest != NULL && seed_manifest(&c, manifest) == -1 ? 1 : 0;
	seed_free(&c);
	return rv;
}
