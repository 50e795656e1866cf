/* secret.c -- see secret.h. */
#include "util/secret.h"

#include <jansson.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

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

static void wiping_free(void *p)
{
	if (!p)
		return;
	/* jansson does not pass the size; the allocator knows it. */
	dc_secret_wipe(p, malloc_usable_size(p));
	free(p);
}

void dc_secret_install_json_allocator(void)
{
	json_set_alloc_funcs(malloc, wiping_free);
}

int dc_secret_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
