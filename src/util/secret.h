/* secret.h -- keeping secrets short-lived in memory.
 *
 * dc_secret_wipe() zeroes memory the compiler cannot optimise away;
 * dc_secret_free() wipes a NUL-terminated string and frees it.
 *
 * Libraries copy our secrets into memory of their own (jansson parses tokens,
 * OpenSSL holds keys, libcurl copies the Authorization and
 * X-Amz-Security-Token headers). So that no freed block keeps one:
 *
 *   int main(...) { dc_secret_install_allocators(); ... }   first thing
 *   curl_global_init_mem(flags, dc_secret_mem_malloc, dc_secret_mem_free,
 *                        dc_secret_mem_realloc, dc_secret_mem_strdup,
 *                        dc_secret_mem_calloc);              (util/http.c)
 *
 * The dc_secret_mem_* functions hand out ordinary malloc blocks; their free
 * zeroes the whole block (the size malloc_usable_size reports) first, and
 * their realloc always moves to a new block and wipes the old one. A block
 * from either side may be freed by the other.
 */
#ifndef DC_SECRET_H
#define DC_SECRET_H

#include <stddef.h>

void dc_secret_wipe(void *p, size_t n);
void dc_secret_free(char *s);
/* Duplicate a string; NULL on out of memory (and for NULL). */
char *dc_secret_strdup(const char *s);
/* Constant-time comparison of two buffers of equal length; 1 when equal. */
int dc_secret_equal(const void *a, const void *b, size_t n);

/* malloc, calloc and strdup as the C library's (NULL on out of memory). */
void *dc_secret_mem_malloc(size_t n);
void *dc_secret_mem_calloc(size_t count, size_t size);
char *dc_secret_mem_strdup(const char *s);
/* realloc that never grows or shrinks in place: a new block gets the
 * contents, then the old one is wiped and freed. NULL `p` allocates; `n` 0
 * frees `p` and returns NULL; on out of memory NULL, and `p` is untouched. */
void *dc_secret_mem_realloc(void *p, size_t n);
/* Wipe the whole block, then free it. NULL is ignored. */
void dc_secret_mem_free(void *p);

/* Make jansson and OpenSSL allocate with dc_secret_mem_*. OpenSSL accepts
 * its allocator only before its first allocation: call this first in main.
 * Called later (or twice) OpenSSL keeps what it has, which is not an error;
 * jansson is switched in any case. */
void dc_secret_install_allocators(void);

/* dc_sec -- a secret string that cannot be forgotten: making one registers
 * it with a redactor (util/log.h), so no message can ever show it; releasing
 * it wipes it.
 *
 *   dc_sec s = DC_SEC_INIT;
 *   err = dc_sec_set(&s, redactor, value);   copies and registers; NULL: empty
 *   ... s.ptr (NULL when empty), s.len ...
 *   dc_sec_release(&s);                       wipes and frees
 */
struct dc_redactor;

typedef struct {
	char *ptr;
	size_t len;
} dc_sec;

#define DC_SEC_INIT { NULL, 0 }

int dc_sec_set(dc_sec *s, struct dc_redactor *r, const char *value) __attribute__((warn_unused_result));
int dc_sec_setn(dc_sec *s, struct dc_redactor *r, const char *value, size_t len)
	__attribute__((warn_unused_result));
void dc_sec_release(dc_sec *s);

#endif
