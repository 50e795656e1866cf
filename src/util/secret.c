/* secret.c -- see secret.h. */
#include "util/secret.h"

#include <jansson.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

void dc_secret_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

void dc_secret_free(char *s)
{
	if (!s)
		return;
	dc_secret_wipe(s, strlen(s));
	free(s);
}

char *dc_secret_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

int dc_secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void *dc_secret_mem_malloc(size_t n)
{
	return malloc(n);
}

void *dc_secret_mem_calloc(size_t count, size_t size)
{
	return calloc(count, size);
}

char *dc_secret_mem_strdup(const char *s)
{
	return strdup(s);
}

void dc_secret_mem_free(void *p)
{
	if (!p)
		return;
	/* callers do not pass the size; the allocator knows it */
	dc_secret_wipe(p, malloc_usable_size(p));
	free(p);
}

void *dc_secret_mem_realloc(void *p, size_t n)
{
	size_t old;
	void *q;

	if (!p)
		return malloc(n);
	if (!n) {
		dc_secret_mem_free(p);
		return NULL;
	}
	/* realloc would leave the old copy behind whenever it moves the block */
	if (!(q = malloc(n)))
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	dc_secret_mem_free(p);
	return q;
}

/* OpenSSL's hooks also take the caller's file and line. Its defaults answer
 * NULL for 0 bytes, so these do too. */
static void *ossl_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	return n ? malloc(n) : NULL;
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
	return p ? dc_secret_mem_realloc(p, n) : ossl_malloc(n, file, line);
}

static void ossl_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	dc_secret_mem_free(p);
}

void dc_secret_install_allocators(void)
{
	/* dc_secret_mem_malloc is malloc: jansson may as well call it directly */
	json_set_alloc_funcs(malloc, dc_secret_mem_free);
	/* 0 once OpenSSL has allocated: its blocks then stay unwiped, but the
	 * program works; main calls this before anything can allocate */
	(void)CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free);
}

int dc_sec_setn(dc_sec *s, struct dc_redactor *r, const char *value, size_t len)
{
	char *copy;

	dc_sec_release(s);
	if (!value)
		return 0;
	if (!(copy = malloc(len + 1)))
		return dc_error_nomem();
	memcpy(copy, value, len);
	copy[len] = '\0';
	if (dc_redactor_add(r, copy, len) < 0) {
		dc_secret_wipe(copy, len);
		free(copy);
		return dc_error_nomem();
	}
	s->ptr = copy;
	s->len = len;
	return 0;
}

int dc_sec_set(dc_sec *s, struct dc_redactor *r, const char *value)
{
	return dc_sec_setn(s, r, value, value ? strlen(value) : 0);
}

void dc_sec_release(dc_sec *s)
{
	if (s->ptr) {
		dc_secret_wipe(s->ptr, s->len);
		free(s->ptr);
	}
	s->ptr = NULL;
	s->len = 0;
}
