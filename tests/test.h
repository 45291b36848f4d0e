/*
 * A tiny unit-test harness. A test file defines its test functions, lists
 * them in a NULL-terminated array of struct test, and calls test_main().
 * Failed checks print file:line and the values, and the test goes on; the
 * program exits 1 if any check failed. `prog NAME` runs one test.
 */
#ifndef PETREL_TEST_H
#define PETREL_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct test {
	const char	*name;
	void		(*fn)(void);
};

extern int	test_failures;

int	test_main(const struct test *, int argc, char **argv);
void	test_fail(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Show bytes with escapes, for messages (static buffer, one at a time per call site). */
const char *test_escape(const char *s, size_t len, char *out, size_t outsz);

#define T_ASSERT(c) do {						\
	if (!(c))							\
		test_fail(__FILE__, __LINE__, "assertion failed: %s", #c); \
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b)							\
		test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", \
		    #a, _a, #b, _b);					\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *_a = (a), *_b = (b);				\
	if (_a == NULL || _b == NULL ? _a != _b : strcmp(_a, _b) != 0) { \
		char _ea[512], _eb[512];				\
		test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, \
		    _a ? test_escape(_a, strlen(_a), _ea, sizeof _ea) : "(null)", \
		    _b ? test_escape(_b, strlen(_b), _eb, sizeof _eb) : "(null)"); \
	}								\
} while (0)

#define T_EQ_MEM(a, alen, b, blen) do {					\
	const char *_a = (const char *)(a), *_b = (const char *)(b);	\
	size_t _al = (alen), _bl = (blen);				\
	if (_al != _bl || memcmp(_a, _b, _al) != 0) {			\
		char _ea[512], _eb[512];				\
		test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, \
		    test_escape(_a, _al, _ea, sizeof _ea),		\
		    test_escape(_b, _bl, _eb, sizeof _eb));		\
	}								\
} while (0)

#endif
