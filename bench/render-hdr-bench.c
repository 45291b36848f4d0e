/*
 * render-hdr-bench: the per-message cost of the header helpers the sync
 * engine calls for every message (issue 3): mime_decode_header on typical
 * Subject values (ASCII, UTF-8 Q, EUC-KR B split over two words,
 * ISO-2022-JP), mime_parse_addresses on a From/To value, mime_parse_date.
 *
 * usage: render-hdr-bench [ITERATIONS]   (default 200000)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "util.h"

static const char *const subjects[] = {
	"Re: [list] a plain ASCII subject line of ordinary length",
	"=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=",
	"=?euc-kr?B?vsiz?= =?euc-kr?B?58fPvLy/5A==?=",
	"=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=",
};
static const char addrs[] =
    "\"Doe, John\" <john@example.com>, =?utf-8?q?J=C3=B6rg?= <j@example.org>";
static const char date[] = "Tue, 1 Jul 2003 10:52:37 +0200";

int
main(int argc, char **argv)
{
	long			 n = argc > 1 ? atol(argv[1]) : 200000, i;
	size_t			 k, na, total = 0;
	struct mime_addr	*a;
	uint64_t		 t0, t1, t2, t3;
	int64_t			 t;
	int			 tz;
	char			*d;

	t0 = now_ms();
	for (i = 0; i < n; i++)
		for (k = 0; k < 4; k++) {
			d = mime_decode_header(subjects[k], strlen(subjects[k]));
			total += strlen(d);
			free(d);
		}
	t1 = now_ms();
	for (i = 0; i < n; i++) {
		na = mime_parse_addresses(addrs, sizeof addrs - 1, &a);
		total += na;
		mime_addrs_free(a, na);
	}
	t2 = now_ms();
	for (i = 0; i < n; i++)
		total += (size_t)(mime_parse_date(date, sizeof date - 1, &t, &tz) + 1);
	t3 = now_ms();
	printf("mime_decode_header   %6.2f us per value (mean of the 4 kinds)\n",
	    (double)(t1 - t0) * 1000 / (double)n / 4);
	printf("mime_parse_addresses %6.2f us per field (2 addresses)\n",
	    (double)(t2 - t1) * 1000 / (double)n);
	printf("mime_parse_date      %6.2f us per field\n",
	    (double)(t3 - t2) * 1000 / (double)n);
	printf("(checksum %zu)\n", total);
	return 0;
}
