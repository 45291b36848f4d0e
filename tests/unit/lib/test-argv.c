/* Unit tests of argv_split (src/lib/util.c): new_mail_command's words. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util.h"

static void
want(const char *line, const char *const *words)
{
	struct error	  err;
	char		**v;
	int		  n, i;

	error_clear(&err);
	v = argv_split(line, &n, &err);
	T_ASSERT(v != NULL);
	if (v == NULL)
		return;
	for (i = 0; words[i] != NULL; i++) {
		T_ASSERT(i < n);
		if (i < n)
			T_EQ_STR(v[i], words[i]);
	}
	T_EQ_INT(n, i);
	T_ASSERT(v[n] == NULL);
	argv_free(v);
}

static void
test_words(void)
{
	want("notify-send", (const char *[]){ "notify-send", NULL });
	want("  a  b\tc ", (const char *[]){ "a", "b", "c", NULL });
	/* No shell: its characters are just characters. */
	want("echo a;b $HOME `x` |y", (const char *[]){ "echo", "a;b",
	    "$HOME", "`x`", "|y", NULL });
	want("'/path with/sp ace' \"two words\" it\\'s",
	    (const char *[]){ "/path with/sp ace", "two words", "it's",
	    NULL });
	want("\"a \\\"q\\\" \\n\" ''", (const char *[]){ "a \"q\" \\n", "",
	    NULL });
	want("x'y'\"z\"", (const char *[]){ "xyz", NULL });
}

static void
test_errors(void)
{
	struct error	err;

	error_clear(&err);
	T_ASSERT(argv_split("echo 'open", NULL, &err) == NULL);
	T_EQ_INT(err.cls, ERR_CONFIG);
	error_clear(&err);
	T_ASSERT(argv_split("   ", NULL, &err) == NULL);
	T_EQ_INT(err.cls, ERR_CONFIG);
	T_ASSERT(argv_split("a \"b", NULL, NULL) == NULL);
}

static const struct test tests[] = {
	{ "words", test_words },
	{ "errors", test_errors },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	return test_main(tests, argc, argv);
}
