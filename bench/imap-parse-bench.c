/*
 * Micro-benchmark of the IMAP response parser: the responses of a header
 * sync of 100,000 messages (UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ and a
 * 542-byte BODY[HEADER.FIELDS (...)] literal each), fed in network-sized
 * chunks, parsed and walked. Prints responses/s, MB/s and ns per 100 bytes.
 * With "stream", one BODY[] literal of MB megabytes goes through a sink.
 *
 *	imap-parse-bench [MESSAGES [CHUNK [ROUNDS]]]
 *	imap-parse-bench stream [MB [CHUNK]]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "imap-parser.h"

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Build the server's byte stream: one FETCH per message and the tagged OK. */
static void
make_stream(struct buf *b, unsigned n)
{
	char		hdr[543];
	unsigned	i;
	size_t		k;

	for (k = 0; k < sizeof hdr - 1; k++)
		hdr[k] = (k % 60 == 58) ? '\r' : (k % 60 == 59) ? '\n' :
		    (char)('a' + k % 26);
	for (i = 1; i <= n; i++) {
		buf_printf(b, "* %u FETCH (UID %u FLAGS (\\Seen $Label1) INTERNALDATE "
		    "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE %u MODSEQ (%u) "
		    "BODY[HEADER.FIELDS (FROM TO CC SUBJECT DATE MESSAGE-ID IN-REPLY-TO "
		    "REFERENCES)] {542}\r\n", i, i + 455, 4000 + i % 1000, 12345 + i);
		buf_add(b, hdr, 542);
		buf_adds(b, ")\r\n");
	}
	buf_adds(b, "A5 OK Fetch completed.\r\n");
}

/* Parse the stream in chunks; returns the number of responses, checks each. */
static unsigned
parse_stream(const struct buf *b, size_t chunk, uint64_t *check)
{
	struct imap_parser	*p = imap_parser_new(NULL);
	struct imap_resp	 r;
	size_t			 off, n;
	unsigned		 count = 0;
	int			 rc;

	for (off = 0; off < b->len; off += n) {
		n = b->len - off < chunk ? b->len - off : chunk;
		imap_parser_feed(p, b->data + off, n);
		while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK) {
			/* Touch what a sync reads, so nothing is optimised away. */
			if (r.nargs == 1 && r.args[0].count >= 12)
				*check += r.args[0].list[1].len + r.args[0].list[11].len;
			count++;
		}
		if (rc == IMAP_PARSE_ERROR) {
			fprintf(stderr, "parse error: %s\n", imap_parser_error(p));
			exit(1);
		}
	}
	imap_parser_free(&p);
	return count;
}

static int
count_data(void *arg, const char *data, size_t len)
{
	*(uint64_t *)arg += len + (unsigned char)data[len - 1];
	return 0;
}

/* Stream one big literal to a sink in CHUNK-byte reads. */
static int
bench_stream(uint64_t mb, size_t chunk)
{
	static const struct imap_literal_sink sink = { NULL, count_data, NULL };
	struct imap_parser	*p = imap_parser_new(NULL);
	struct imap_resp	 r;
	uint64_t		 size = mb << 20, sent = 0, check = 0;
	char			*buf = malloc(chunk), hdr[64];
	double			 t0, t;
	int			 n, rc, count = 0;

	if (buf == NULL)
		return 1;
	memset(buf, 'x', chunk);
	imap_parser_set_sink(p, &sink, &check);
	t0 = now();
	n = snprintf(hdr, sizeof hdr, "* 1 FETCH (UID 1 BODY[] {%llu}\r\n",
	    (unsigned long long)size);
	imap_parser_feed(p, hdr, (size_t)n);
	while (sent < size) {
		size_t len = size - sent < chunk ? (size_t)(size - sent) : chunk;

		imap_parser_feed(p, buf, len);
		sent += len;
		if (imap_parser_next(p, &r) != IMAP_PARSE_MORE)
			return 1;
	}
	imap_parser_feed(p, ")\r\n", 3);
	while ((rc = imap_parser_next(p, &r)) == IMAP_PARSE_OK)
		count++;
	t = now() - t0;
	if (rc != IMAP_PARSE_MORE || count != 1)
		return 1;
	printf("imap-parse-bench stream: %llu MB literal through a sink, %zu-byte chunks\n"
	    "  %.3f s  %.0f MB/s  (check %llu)\n", (unsigned long long)mb, chunk, t,
	    (double)size / 1e6 / t, (unsigned long long)check);
	imap_parser_free(&p);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	struct buf	b = BUF_INIT(0);
	unsigned	n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	size_t		chunk = argc > 2 ? strtoul(argv[2], NULL, 10) : 16384;
	int		rounds = argc > 3 ? atoi(argv[3]) : 5, i;
	double		t0, t, best = 1e9;
	uint64_t	check = 0;
	unsigned	count = 0;

	if (argc > 1 && strcmp(argv[1], "stream") == 0)
		return bench_stream(argc > 2 ? strtoull(argv[2], NULL, 10) : 1024,
		    argc > 3 ? strtoul(argv[3], NULL, 10) : 65536);
	if (n == 0 || chunk == 0 || rounds <= 0) {
		fprintf(stderr, "usage: imap-parse-bench [MESSAGES [CHUNK [ROUNDS]]]\n");
		return 2;
	}
	make_stream(&b, n);
	for (i = 0; i < rounds; i++) {
		t0 = now();
		count = parse_stream(&b, chunk, &check);
		t = now() - t0;
		if (t < best)
			best = t;
	}
	if (count != n + 1) {
		fprintf(stderr, "expected %u responses, got %u\n", n + 1, count);
		return 1;
	}
	printf("imap-parse-bench: %u responses, %.1f MB, %zu-byte chunks, best of %d\n",
	    count, (double)b.len / 1e6, chunk, rounds);
	printf("  %.3f s  %.0f responses/s  %.0f MB/s  %.1f ns per 100 bytes  (check %llu)\n",
	    best, count / best, (double)b.len / 1e6 / best, best * 1e9 / ((double)b.len / 100),
	    (unsigned long long)check);
	buf_free(&b);
	return 0;
}
