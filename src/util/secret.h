/* secret.h -- keeping secrets short-lived in memory.
 *
 * dc_secret_wipe() zeroes memory the compiler cannot optimise away;
 * dc_secret_free() wipes a NUL-terminated string and frees it.
 * dc_secret_install_json_allocator() makes jansson wipe every block it frees,
 * so tokens parsed from replies or dumped into output never linger in freed heap.
 */
#ifndef DC_SECRET_H
#define DC_SECRET_H

#include <stddef.h>

void dc_secret_wipe(void *p, size_t n);
void dc_secret_free(char *s);
/* Duplicate a string; NULL on out of memory (and for NULL). */
char *dc_secret_strdup(const char *s);
void dc_secret_install_json_allocator(void);
/* Constant-time comparison of two buffers of equal length; 1 when equal. */
int dc_secret_equal(const void *a, const void *b, size_t n);

#endif
