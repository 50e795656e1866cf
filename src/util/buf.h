/* buf.h -- a growable byte buffer (after git's strbuf and curl's dynbuf).
 *
 *   dc_buf b = DC_BUF_INIT;          or dc_buf_init(&b, max, DC_BUF_SECRET)
 *   dc_buf_puts(&b, "..."); dc_buf_printf(&b, "%d", n);
 *   if (dc_buf_failed(&b)) ...       one check after a chain of appends
 *   dc_buf_release(&b);              frees (and wipes first if DC_BUF_SECRET)
 *
 * Invariants: b.ptr is never NULL and always NUL-terminated at b.len; an
 * append that would pass b.max (0 = no cap) or fails to allocate sets a sticky
 * failure and changes nothing; after that every append is a no-op. A secret
 * buffer wipes every block it gives back, including on growth.
 */
#ifndef DC_BUF_H
#define DC_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/error.h"

enum { DC_BUF_SECRET = 1 };

typedef struct {
	char *ptr;
	size_t len;
	size_t cap; /* 0 while ptr points at the shared empty string */
	size_t max; /* cap on len, 0 for none */
	unsigned failed : 1;
	unsigned secret : 1;
	unsigned overflow : 1; /* failed because of max, not memory */
} dc_buf;

extern char dc_buf_empty[1];
#define DC_BUF_INIT { dc_buf_empty, 0, 0, 0, 0, 0, 0 }

void dc_buf_init(dc_buf *b, size_t max, int flags);
void dc_buf_release(dc_buf *b);
void dc_buf_reset(dc_buf *b); /* len 0, keeps memory (wiped if secret) */

/* Appends: return 0, or DC_ERR when the buffer is (now) failed. */
int dc_buf_put(dc_buf *b, const void *data, size_t n);
int dc_buf_puts(dc_buf *b, const char *s);
int dc_buf_putc(dc_buf *b, char c);
/* Append `n` bytes set to `c` and return where they start (for code that
 * fills them in place), or NULL when the buffer is (now) failed. */
char *dc_buf_extend(dc_buf *b, size_t n, char c);
int dc_buf_printf(dc_buf *b, const char *fmt, ...) DC_PRINTF(2, 3);
int dc_buf_vprintf(dc_buf *b, const char *fmt, va_list ap) DC_PRINTF(2, 0);

static inline int dc_buf_failed(const dc_buf *b) { return b->failed; }

/* Hand the memory over: the caller frees the returned string (NULL when
 * failed); the buffer is left empty and usable. */
char *dc_buf_detach(dc_buf *b, size_t *len);

#endif
