/* test_env.c -- util/env: made-up and process environments. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util/env.h"
#include "util/error.h"

static char *vars[] = { "A=1", "EMPTY=", "AB=two", "B=b=c", "NUM=42", "NEG=-7", "BAD=12x",
			"WORD=abc", "BIG=99999999999999999999999", "SPACE=5 ", "HEX=0x10", NULL };

static void test_get(void)
{
	dc_env e = { vars };

	CHECK_EQ_STR(dc_env_get(&e, "A"), "1");
	CHECK_EQ_STR(dc_env_get(&e, "AB"), "two");
	CHECK_EQ_STR(dc_env_get(&e, "B"), "b=c"); /* only the first '=' splits */
	CHECK(dc_env_get(&e, "EMPTY") == NULL);    /* empty counts as unset */
	CHECK(dc_env_get(&e, "MISSING") == NULL);
	CHECK(dc_env_get(&e, "ABC") == NULL);      /* no prefix matches */
	CHECK(dc_env_get(&e, "NU") == NULL);
	CHECK(dc_env_get(&e, "") == NULL);
}

static void test_made_up_hides_process(void)
{
	char *none[] = { NULL };
	dc_env e = { none };
	dc_env p = DC_ENV_PROCESS;

	CHECK_EQ_INT(setenv("DCGEN_TEST_ENV_VAR", "from-process", 1), 0);
	CHECK_EQ_STR(dc_env_get(&p, "DCGEN_TEST_ENV_VAR"), "from-process");
	CHECK(dc_env_get(&e, "DCGEN_TEST_ENV_VAR") == NULL);
	CHECK_EQ_INT(setenv("DCGEN_TEST_ENV_VAR", "", 1), 0);
	CHECK(dc_env_get(&p, "DCGEN_TEST_ENV_VAR") == NULL);
	unsetenv("DCGEN_TEST_ENV_VAR");
	CHECK(dc_env_get(&p, "DCGEN_TEST_ENV_VAR") == NULL);
}

static void test_first(void)
{
	dc_env e = { vars };
	const char *which = "unchanged";

	CHECK_EQ_STR(dc_env_first(&e, &which, "A", "AB", (char *)NULL), "1");
	CHECK_EQ_STR(which, "A");
	CHECK_EQ_STR(dc_env_first(&e, &which, "AB", "A", (char *)NULL), "two");
	CHECK_EQ_STR(which, "AB");
	/* unset and empty ones are skipped */
	CHECK_EQ_STR(dc_env_first(&e, &which, "MISSING", "EMPTY", "NUM", "A", (char *)NULL), "42");
	CHECK_EQ_STR(which, "NUM");
	which = "unchanged";
	CHECK(dc_env_first(&e, &which, "MISSING", "EMPTY", (char *)NULL) == NULL);
	CHECK(which == NULL);
	CHECK_EQ_STR(dc_env_first(&e, NULL, "EMPTY", "A", (char *)NULL), "1");
}

static void test_long(void)
{
	dc_env e = { vars };
	long v = 0;

	CHECK_EQ_INT(dc_env_long(&v, &e, "NUM", 5, 0, 100), 0);
	CHECK_EQ_INT(v, 42);
	CHECK_EQ_INT(dc_env_long(&v, &e, "NUM", 5, 42, 42), 0); /* bounds are inclusive */
	CHECK_EQ_INT(v, 42);
	CHECK_EQ_INT(dc_env_long(&v, &e, "NEG", 5, -10, 10), 0);
	CHECK_EQ_INT(v, -7);
	/* unset and empty give the default */
	CHECK_EQ_INT(dc_env_long(&v, &e, "MISSING", 5, 0, 100), 0);
	CHECK_EQ_INT(v, 5);
	CHECK_EQ_INT(dc_env_long(&v, &e, "EMPTY", 6, 0, 100), 0);
	CHECK_EQ_INT(v, 6);
}

static void check_long_fails(const char *name, long min, long max)
{
	dc_env e = { vars };
	long v = 12345;

	dc_error_clear();
	if (!CHECK_EQ_INT(dc_env_long(&v, &e, name, 5, min, max), DC_EUSAGE))
		fprintf(stderr, "  for %s\n", name);
	CHECK_HAS(dc_error_last(), name);
	CHECK_EQ_INT(v, 12345); /* untouched on error */
}

static void test_long_errors(void)
{
	check_long_fails("NUM", 0, 41);
	check_long_fails("NUM", 43, 100);
	check_long_fails("NEG", 0, 100);
	check_long_fails("BAD", 0, 100);
	check_long_fails("WORD", 0, 100);
	check_long_fails("BIG", LONG_MIN, LONG_MAX);
	check_long_fails("SPACE", 0, 100);
	check_long_fails("HEX", 0, 100);
	check_long_fails("AB", 0, 100);
	/* the message names the range too */
	check_long_fails("NUM", 1, 10);
	CHECK_HAS(dc_error_last(), "10");
	dc_error_clear();
}

/* The items of `list` joined by "|", empty ones as "". */
static void items(char *out, size_t size, const char *list)
{
	const char *p = list, *item;
	size_t n, at = 0;
	int count = 0;

	out[0] = '\0';
	while (dc_env_list_next(&p, &item, &n) && at + n + 2 < size) {
		if (count++)
			out[at++] = '|';
		memcpy(out + at, item, n);
		at += n;
		out[at] = '\0';
	}
}

static void test_list(void)
{
	static const struct { const char *list, *items; } v[] = {
		{ "us, europe-west1,asia", "us|europe-west1|asia" },
		{ "  a  ,b , c  ", "a|b|c" },
		/* a space inside an item is kept: the caller refuses "bad host"
		 * rather than writing two hosts (BLACKBOX R18) */
		{ "a b", "a b" },
		{ "a,", "a" },      /* a trailing comma ends the list */
		{ "one", "one" },
		{ "", "" },
		/* empty items are skipped, the same for every list */
		{ "a,,b", "a|b" },
		{ ",a", "a" },
		{ " , ", "" },
	};
	char got[128];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		items(got, sizeof(got), v[i].list);
		if (!CHECK_EQ_STR(got, v[i].items))
			fprintf(stderr, "  for '%s'\n", v[i].list);
	}
}

int main(void)
{
	T_RUN(test_list);
	T_RUN(test_get);
	T_RUN(test_made_up_hides_process);
	T_RUN(test_first);
	T_RUN(test_long);
	T_RUN(test_long_errors);
	return t_done();
}
