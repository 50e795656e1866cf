/* failalloc.c -- allocation-failure injection for torture runs, in the style
 * of curl's torture tests: linked into a test build of dcgen with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup,
 * so every allocation of dcgen's own code goes through here, and with it every
 * allocation of libcurl, OpenSSL and jansson (main hands them dcgen's
 * allocators, util/secret.c, which call malloc).
 *
 *   TORTURE_FAIL_ALLOC=N        the N-th allocation (from 1) returns NULL (ENOMEM);
 *                             0 or unset: none fails
 *   TORTURE_ALLOC_COUNT=FILE    at exit, the number of allocations made is written here
 *   TORTURE_ALLOC_SITE=FILE     when the N-th fails, its call stack (module+offset per
 *                             frame, innermost first) is written here
 *
 * In-process (fuzz/torture.c, the parsers' torture): failalloc_arm(n) sets
 * the allocation to fail and restarts the count; failalloc_count() is the
 * number of allocations made since.
 *
 * Only the one allocation fails, as in curl: the program must notice it and
 * stop cleanly (exit 1 or 2 with a message, nothing half written), or go on
 * correctly. tests/torture/torture.py runs a scenario once per N.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void failalloc_arm(long n);
long failalloc_count(void);

static long fail_at;
static long count;

__attribute__((constructor)) static void failalloc_init(void)
{
	const char *v = getenv("TORTURE_FAIL_ALLOC");
	void *frames[2];

	fail_at = v ? strtol(v, NULL, 10) : 0;
	/* backtrace() loads libgcc on first use (and allocates): do it now */
	(void)backtrace(frames, 2);
}

__attribute__((destructor)) static void failalloc_done(void)
{
	const char *path = getenv("TORTURE_ALLOC_COUNT");
	char text[32];
	int fd, n;

	if (!path || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	n = snprintf(text, sizeof(text), "%ld\n", __atomic_load_n(&count, __ATOMIC_SEQ_CST));
	(void)!write(fd, text, (size_t)n);
	close(fd);
}

/* The call stack of the failed allocation, module+offset per frame. */
static void record_site(void)
{
	const char *path = getenv("TORTURE_ALLOC_SITE");
	void *frames[24];
	char line[600];
	int fd, n, i, len;

	if (!path || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	n = backtrace(frames, 24);
	for (i = 0; i < n; i++) {
		Dl_info info;

		if (dladdr(frames[i], &info) && info.dli_fname)
			len = snprintf(line, sizeof(line), "%s 0x%lx\n", info.dli_fname,
				       (unsigned long)((char *)frames[i] - (char *)info.dli_fbase));
		else
			len = snprintf(line, sizeof(line), "? %p\n", frames[i]);
		if (len > 0)
			(void)!write(fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
	}
	close(fd);
}

static int fail_now(void)
{
	long n = __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);

	if (n != fail_at)
		return 0;
	record_site();
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return fail_now() ? NULL : __real_strndup(s, n);
}

void failalloc_arm(long n)
{
	__atomic_store_n(&count, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&fail_at, n, __ATOMIC_SEQ_CST);
}

long failalloc_count(void)
{
	return __atomic_load_n(&count, __ATOMIC_SEQ_CST);
}
