/* t.h -- a tiny header-only test harness for tests/unit.
 *
 *   static void test_thing(void) { CHECK_EQ_INT(f(), 0); CHECK_EQ_STR(s, "x"); }
 *   int main(void) { T_RUN(test_thing); return t_done(); }
 *
 * Every CHECK* evaluates to 1 when it held, so a test can stop early:
 * `if (!CHECK(doc != NULL)) return;`. A failure prints file:line and the
 * values; t_done() prints "test_x: N passed, M failed" (tests, not checks)
 * and returns the exit code.
 */
#ifndef DC_T_H
#define DC_T_H

#include <stdio.h>
#include <string.h>

static int t_checks, t_failed_checks, t_passed_tests, t_failed_tests;

static inline int t_fail(const char *file, int line)
{
	t_failed_checks++;
	fprintf(stderr, "%s:%d: check failed: ", file, line);
	return 0;
}

static inline int t_check(int ok, const char *file, int line, const char *expr)
{
	t_checks++;
	if (ok)
		return 1;
	t_fail(file, line);
	fprintf(stderr, "%s\n", expr);
	return 0;
}

static inline int t_check_int(long long a, long long b, const char *file, int line, const char *ea,
			      const char *eb)
{
	t_checks++;
	if (a == b)
		return 1;
	t_fail(file, line);
	fprintf(stderr, "%s == %s: %lld != %lld\n", ea, eb, a, b);
	return 0;
}

static inline int t_check_str(const char *a, const char *b, const char *file, int line, const char *ea,
			      const char *eb)
{
	t_checks++;
	if (a && b && !strcmp(a, b))
		return 1;
	t_fail(file, line);
	fprintf(stderr, "%s == %s: \"%s\" != \"%s\"\n", ea, eb, a ? a : "(null)", b ? b : "(null)");
	return 0;
}

/* `hay` contains `needle` (want 1) or does not (want 0). */
static inline int t_check_has(const char *hay, const char *needle, int want, const char *file, int line)
{
	t_checks++;
	if (hay && needle && (strstr(hay, needle) != NULL) == want)
		return 1;
	t_fail(file, line);
	fprintf(stderr, "\"%s\" %s \"%s\"\n", hay ? hay : "(null)", want ? "lacks" : "contains",
		needle ? needle : "(null)");
	return 0;
}

#define CHECK(cond) t_check(!!(cond), __FILE__, __LINE__, #cond)
#define CHECK_EQ_INT(a, b) t_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b)
#define CHECK_EQ_STR(a, b) t_check_str((a), (b), __FILE__, __LINE__, #a, #b)
#define CHECK_HAS(hay, needle) t_check_has((hay), (needle), 1, __FILE__, __LINE__)
#define CHECK_LACKS(hay, needle) t_check_has((hay), (needle), 0, __FILE__, __LINE__)

#define T_RUN(fn)                                                            \
	do {                                                                 \
		int t_before_ = t_failed_checks;                              \
		fn();                                                        \
		if (t_failed_checks == t_before_) {                           \
			t_passed_tests++;                                    \
		} else {                                                     \
			t_failed_tests++;                                    \
			fprintf(stderr, "FAIL %s\n", #fn);                   \
		}                                                            \
	} while (0)

static inline int t_finish(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t n;

	base = base ? base + 1 : file;
	n = strcspn(base, ".");
	printf("%.*s: %d passed, %d failed (%d checks)\n", (int)n, base, t_passed_tests, t_failed_tests,
	       t_checks);
	fflush(stdout);
	return t_failed_tests ? 1 : 0;
}

#define t_done() t_finish(__FILE__)

#endif
