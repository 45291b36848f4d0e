/* The unit-test harness (see test.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

int		 test_failures;
static const char *test_current;

void
test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "FAIL %s (%s:%d): ", test_current, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	test_failures++;
}

const char *
test_escape(const char *s, size_t len, char *out, size_t outsz)
{
	size_t	i, o = 0;

	for (i = 0; i < len && o + 5 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
		else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < len && o + 4 < outsz)
		o += (size_t)snprintf(out + o, outsz - o, "...");
	out[o] = '\0';
	return out;
}

int
test_main(const struct test *tests, int argc, char **argv)
{
	const struct test	*t;
	int			 ran = 0, before;

	for (t = tests; t->name != NULL; t++) {
		if (argc > 1 && strcmp(argv[1], t->name) != 0)
			continue;
		test_current = t->name;
		before = test_failures;
		t->fn();
		printf("%s %s\n", test_failures == before ? "ok  " : "FAIL", t->name);
		ran++;
	}
	if (ran == 0) {
		fprintf(stderr, "no test matched\n");
		return 1;
	}
	printf("%d test(s), %d failed check(s)\n", ran, test_failures);
	return test_failures == 0 ? 0 : 1;
}
