/*
 * libFuzzer target for the MIME engine: parse and render a message, and
 * run the header helpers over the same bytes.
 *
 * The first input byte picks the options (all headers, the alternative
 * preference, the wrap width, small limits); the rest is the message.
 * Mailcap is off: the fuzzer never runs commands. Every string that comes
 * out must be valid UTF-8 without a raw control, C1 or bidi override
 * character, and have the length it claims. Any violation aborts.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime.h"
#include "fuzz.h"

/* Terminal-safe: valid UTF-8, only TAB and LF below 0x20, no DEL, C1, bidi. */
static void
check_safe(const char *s, size_t len)
{
	size_t		i = 0, n;
	uint32_t	cp;

	FUZZ_ASSERT(utf8_valid(s, len));
	while (i < len) {
		n = utf8_decode(s + i, len - i, &cp);
		FUZZ_ASSERT(cp >= 0x20 || cp == '\t' || cp == '\n');
		FUZZ_ASSERT(cp != 0x7f && !(cp >= 0x80 && cp < 0xa0));
		FUZZ_ASSERT(!(cp >= 0x202a && cp <= 0x202e));
		FUZZ_ASSERT(!(cp >= 0x2066 && cp <= 0x2069));
		i += n;
	}
}

static void
check_str(const char *s)
{
	FUZZ_ASSERT(s != NULL);
	check_safe(s, strlen(s));
}

static void
fuzz_render(const char *msg, size_t len, uint8_t sel)
{
	static const char *const alts[] = { NULL, "text/html text/plain",
	    "text/* multipart/related", "" };
	struct mime_render_opts	 o;
	struct mime_view	*v;
	struct error		 err;
	size_t			 i;

	memset(&o, 0, sizeof o);
	o.mailcap = "";
	o.headers_all = (sel & 1) != 0;
	o.alternative = alts[(sel >> 1) & 3];
	o.width = (sel & 8) ? 20 : 0;
	if (sel & 16) {
		o.limits.depth_max = 3;
		o.limits.parts_max = 8;
		o.limits.output_max = 4096;
	}
	if (mime_render(msg, len, &o, &v, &err) == -1) {
		FUZZ_ASSERT(len == 0);
		return;
	}
	FUZZ_ASSERT(strlen(v->body) == v->bodylen);
	check_safe(v->body, v->bodylen);
	check_str(v->headers);
	check_str(v->subject);
	check_str(v->from);
	for (i = 0; i < v->nto; i++)
		check_str(v->to[i]);
	for (i = 0; i < v->ncc; i++)
		check_str(v->cc[i]);
	for (i = 0; i < v->natt; i++) {
		char *name;

		FUZZ_ASSERT(v->att[i].number == (int)i + 1);
		check_str(v->att[i].filename);
		check_str(v->att[i].type);
		FUZZ_ASSERT(strchr(v->att[i].type, '/') != NULL);
		/* The name a save would use: one safe path component. */
		name = mime_safe_filename(v->att[i].filename, (int)i + 1);
		FUZZ_ASSERT(name[0] != '\0' && name[0] != '.' &&
		    strchr(name, '/') == NULL && strlen(name) <= 200);
		FUZZ_ASSERT(utf8_valid(name, strlen(name)));
		free(name);
	}
	if (sel & 16)
		FUZZ_ASSERT(v->bodylen < 4096 + 256);
	mime_view_free(&v);
	FUZZ_ASSERT(v == NULL);
}

/* The header helpers on the raw bytes, as the sync engine calls them. */
static void
fuzz_headers(const char *s, size_t len)
{
	struct mime_hdr_iter	 it;
	struct mime_addr	*a;
	const char		*n, *v;
	size_t			 nl, vl, na, i, sl;
	char			*d, *safe;
	int64_t			 t;
	int			 tz;

	d = mime_decode_header(s, len);
	FUZZ_ASSERT(utf8_valid(d, strlen(d)));
	safe = mime_sanitize_terminal(d, strlen(d), &sl);
	check_safe(safe, sl);
	free(safe);
	free(d);
	na = mime_parse_addresses(s, len, &a);
	for (i = 0; i < na; i++) {
		d = mime_addr_format(&a[i]);
		FUZZ_ASSERT(utf8_valid(d, strlen(d)));
		free(d);
	}
	mime_addrs_free(a, na);
	if (mime_parse_date(s, len, &t, &tz) == 0)
		FUZZ_ASSERT(tz >= -24 * 60 && tz <= 24 * 60);
	mime_hdr_iter_init(&it, s, len);
	while (mime_hdr_next(&it, &n, &nl, &v, &vl)) {
		FUZZ_ASSERT(n >= s && n + nl <= s + len && nl > 0);
		FUZZ_ASSERT(v >= s && v + vl <= s + len);
	}
	FUZZ_ASSERT(it.p >= s && it.p <= s + len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*msg;

	if (size == 0)
		return 0;
	msg = (const char *)data + 1;
	fuzz_render(msg, size - 1, data[0]);
	if (size < 65536)
		fuzz_headers(msg, size - 1);
	return 0;
}
