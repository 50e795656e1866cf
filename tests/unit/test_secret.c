/* test_secret.c -- util/secret: wiping, and the wiping allocators jansson and
 * OpenSSL are given (libcurl's: test_http.c).
 *
 * A freed block cannot be read, but glibc gives the block freed last back to
 * the next malloc of the same size (its per-thread cache is a stack), so
 * freed_wiped() frees, allocates again and, when the same address comes back,
 * checks it holds zeros past the 16 bytes the cache writes its links into.
 * test_method_sees_plain_free shows that this sees a plain free's leftovers,
 * so the checks can fail. ASan quarantines freed blocks and fills new ones:
 * under it only the semantics are checked.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util/secret.h"

#if defined(__SANITIZE_ADDRESS__)
#define REUSE_VISIBLE 0
#else
#define REUSE_VISIBLE 1
#endif

enum { N = 200, LINKS = 16, PATTERN = 'Z' }; /* a letter: a valid JSON string too */

static int openssl_installed; /* what CRYPTO_set_mem_functions allowed, first thing in main */

/* 1 when the block at `was`, of `n` bytes, freed just before, comes back from
 * malloc(n) with no byte past its first LINKS equal to PATTERN (wiped); 0 if
 * it still holds them; -1 when another block came back (cannot tell). */
static int freed_wiped(uintptr_t was, size_t n)
{
	/* through a volatile pointer: the compiler may not assume the block
	 * holds nothing yet */
	unsigned char *volatile fresh = malloc(n);
	const volatile unsigned char *q = fresh;
	size_t i, left = 0;

	if (!q)
		return -1;
	if ((uintptr_t)q != was) {
		free((void *)q);
		return -1;
	}
	for (i = LINKS; i < n; i++)
		left += q[i] == PATTERN;
	free((void *)q);
	return left == 0;
}

/* Through a volatile function pointer: with optimisation on, the compiler
 * drops a memset whose block is freed right after (a dead store). */
static void *(*volatile memset_v)(void *, int, size_t) = memset;

static void *filled(void *p, size_t n)
{
	if (p)
		memset_v(p, PATTERN, n);
	return p;
}

static void test_wipe(void)
{
	unsigned char b[64];
	size_t i, zero = 0;

	memset(b, PATTERN, sizeof(b));
	dc_secret_wipe(b + 1, sizeof(b) - 2);
	for (i = 1; i < sizeof(b) - 1; i++)
		zero += b[i] == 0;
	CHECK_EQ_INT(zero, sizeof(b) - 2);
	CHECK_EQ_INT(b[0], PATTERN); /* nothing outside the range */
	CHECK_EQ_INT(b[sizeof(b) - 1], PATTERN);
	dc_secret_wipe(NULL, 10);
	dc_secret_wipe(b, 0);
	CHECK_EQ_INT(b[0], PATTERN);
}

static void test_equal_and_strdup(void)
{
	char *s = dc_secret_strdup("hunter2-secret");

	CHECK(dc_secret_equal("abcd", "abcd", 4));
	CHECK(!dc_secret_equal("abcd", "abce", 4));
	CHECK_EQ_STR(s, "hunter2-secret");
	CHECK(dc_secret_strdup(NULL) == NULL);
	dc_secret_free(s);
	dc_secret_free(NULL);
}

/* The observation itself: a plain free leaves the bytes, and it is seen. */
static void test_method_sees_plain_free(void)
{
	void *p;
	uintptr_t was;

	if (!REUSE_VISIBLE)
		return;
	p = filled(malloc(N), N);
	if (!CHECK(p != NULL))
		return;
	was = (uintptr_t)p;
	free(p);
	if (!CHECK_EQ_INT(freed_wiped(was, N), 0))
		fprintf(stderr, "  a freed block is not visible here; the wiping checks below prove nothing\n");
}

static void test_free_wipes(void)
{
	void *p = filled(dc_secret_mem_malloc(N), N);
	uintptr_t was = (uintptr_t)p;

	if (!CHECK(p != NULL))
		return;
	dc_secret_mem_free(p);
	if (REUSE_VISIBLE)
		CHECK_EQ_INT(freed_wiped(was, N), 1);
	dc_secret_mem_free(NULL);
}

static void test_realloc(void)
{
	unsigned char *p = dc_secret_mem_malloc(N), *q, *r;
	uintptr_t was = (uintptr_t)p;
	size_t i, same = 0;

	if (!CHECK(p != NULL))
		return;
	memset_v(p, PATTERN, N);
	p[0] = 1, p[N - 1] = 2;
	/* growing: a new block with the contents; the old one wiped */
	q = dc_secret_mem_realloc(p, 4 * N);
	if (!CHECK(q != NULL))
		return;
	CHECK((uintptr_t)q != was);
	CHECK(q[0] == 1 && q[N - 1] == 2);
	for (i = 1; i < N - 1; i++)
		same += q[i] == PATTERN;
	CHECK_EQ_INT(same, N - 2);
	if (REUSE_VISIBLE)
		CHECK_EQ_INT(freed_wiped(was, N), 1);
	/* shrinking moves too (in place would leave the tail behind) */
	was = (uintptr_t)q;
	r = dc_secret_mem_realloc(q, 10);
	if (!CHECK(r != NULL))
		return;
	CHECK((uintptr_t)r != was);
	CHECK(r[0] == 1 && r[9] == PATTERN);
	/* NULL allocates; 0 frees (ASan's leak check sees it if not) */
	p = dc_secret_mem_realloc(NULL, 16);
	CHECK(p != NULL);
	CHECK(dc_secret_mem_realloc(p, 0) == NULL);
	CHECK(dc_secret_mem_realloc(r, 0) == NULL);
}

static void test_calloc_strdup(void)
{
	unsigned char *z = dc_secret_mem_calloc(N, 1);
	char *s = dc_secret_mem_strdup("X-Amz-Security-Token: FwoGZXIvYXdz");
	size_t i, nonzero = 0;

	if (!CHECK(z != NULL) || !CHECK(s != NULL))
		return;
	for (i = 0; i < N; i++)
		nonzero += z[i] != 0;
	CHECK_EQ_INT(nonzero, 0);
	CHECK_EQ_STR(s, "X-Amz-Security-Token: FwoGZXIvYXdz");
	dc_secret_mem_free(z);
	free(s); /* ordinary blocks: either free may release them */
}

/* OpenSSL's free and realloc wipe: installed before its first allocation. */
static void test_openssl(void)
{
	CRYPTO_malloc_fn m = NULL;
	CRYPTO_realloc_fn r = NULL;
	CRYPTO_free_fn f = NULL;
	void *p, *q;
	uintptr_t was;

	CHECK(openssl_installed);
	CRYPTO_get_mem_functions(&m, &r, &f);
	CHECK(m != CRYPTO_malloc && r != CRYPTO_realloc && f != CRYPTO_free);

	p = filled(OPENSSL_malloc(N), N);
	if (!CHECK(p != NULL))
		return;
	was = (uintptr_t)p;
	OPENSSL_free(p);
	if (REUSE_VISIBLE)
		CHECK_EQ_INT(freed_wiped(was, N), 1);

	p = filled(OPENSSL_malloc(N), N);
	if (!CHECK(p != NULL))
		return;
	was = (uintptr_t)p;
	q = OPENSSL_realloc(p, 8 * N);
	if (!CHECK(q != NULL))
		return;
	CHECK(((unsigned char *)q)[N - 1] == PATTERN);
	if (REUSE_VISIBLE)
		CHECK_EQ_INT(freed_wiped(was, N), 1);
	OPENSSL_free(q);
	CHECK(OPENSSL_malloc(0) == NULL); /* as OpenSSL's own */
}

/* jansson frees the copy of a parsed token through the wiping free. */
static void test_jansson(void)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;
	char token[N];
	json_t *s;
	const char *copy;
	uintptr_t was;

	json_get_alloc_funcs(&m, &f);
	CHECK(m == malloc);
	CHECK(f == dc_secret_mem_free);
	memset(token, PATTERN, sizeof(token) - 1);
	token[sizeof(token) - 1] = '\0';
	s = json_string(token); /* copies into a block of strlen + 1 = N bytes */
	if (!CHECK(s != NULL))
		return;
	copy = json_string_value(s);
	was = (uintptr_t)copy;
	json_decref(s);
	if (REUSE_VISIBLE)
		CHECK_EQ_INT(freed_wiped(was, N), 1);
}

/* A second install changes nothing and breaks nothing (OpenSSL refuses it). */
static void test_install_twice(void)
{
	CRYPTO_malloc_fn m1, m2;
	CRYPTO_realloc_fn r1, r2;
	CRYPTO_free_fn f1, f2;
	json_malloc_t jm = NULL;
	json_free_t jf = NULL;
	void *p;
	uintptr_t was;

	CRYPTO_get_mem_functions(&m1, &r1, &f1);
	dc_secret_install_allocators();
	CRYPTO_get_mem_functions(&m2, &r2, &f2);
	CHECK(m1 == m2 && r1 == r2 && f1 == f2);
	json_get_alloc_funcs(&jm, &jf);
	CHECK(jf == dc_secret_mem_free);
	p = filled(OPENSSL_malloc(N), N);
	if (!CHECK(p != NULL))
		return;
	was = (uintptr_t)p;
	OPENSSL_free(p);
	if (REUSE_VISIBLE)
		CHECK_EQ_INT(freed_wiped(was, N), 1);
}

int main(void)
{
	CRYPTO_malloc_fn m = NULL;
	CRYPTO_realloc_fn r = NULL;
	CRYPTO_free_fn f = NULL;

	dc_secret_install_allocators(); /* first, as in src/cli/main.c */
	CRYPTO_get_mem_functions(&m, &r, &f);
	openssl_installed = m != CRYPTO_malloc;

	T_RUN(test_wipe);
	T_RUN(test_equal_and_strdup);
	T_RUN(test_method_sees_plain_free);
	T_RUN(test_free_wipes);
	T_RUN(test_realloc);
	T_RUN(test_calloc_strdup);
	T_RUN(test_openssl);
	T_RUN(test_jansson);
	T_RUN(test_install_twice);
	return t_done();
}
