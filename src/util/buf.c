/* buf.c -- see buf.h. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

char dc_buf_empty[1];

void dc_buf_init(dc_buf *b, size_t max, int flags)
{
	*b = (dc_buf)DC_BUF_INIT;
	b->max = max;
	b->secret = !!(flags & DC_BUF_SECRET);
}

void dc_buf_release(dc_buf *b)
{
	if (b->cap) {
		if (b->secret)
			dc_secret_wipe(b->ptr, b->cap);
		free(b->ptr);
	}
	b->ptr = dc_buf_empty;
	b->len = b->cap = 0;
	b->failed = b->overflow = 0;
}

void dc_buf_reset(dc_buf *b)
{
	if (b->cap && b->secret)
		dc_secret_wipe(b->ptr, b->len);
	b->len = 0;
	/* never write into the shared empty string: threads share it */
	if (b->cap)
		b->ptr[0] = '\0';
	b->failed = b->overflow = 0;
}

static int grow(dc_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return DC_ERR;
	if (extra > SIZE_MAX - b->len - 1 || (b->max && b->len + extra > b->max)) {
		b->failed = b->overflow = 1;
		return DC_ERR;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = malloc(cap);
	if (!p) {
		b->failed = 1;
		return DC_ERR;
	}
	memcpy(p, b->ptr, b->len + 1);
	if (b->cap) {
		/* realloc could leave a copy behind; move by hand and wipe */
		if (b->secret)
			dc_secret_wipe(b->ptr, b->cap);
		free(b->ptr);
	}
	b->ptr = p;
	b->cap = cap;
	return 0;
}

int dc_buf_put(dc_buf *b, const void *data, size_t n)
{
	if (grow(b, n) < 0)
		return DC_ERR;
	if (n)
		memcpy(b->ptr + b->len, data, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

char *dc_buf_extend(dc_buf *b, size_t n, char c)
{
	char *at;

	if (grow(b, n) < 0)
		return NULL;
	at = b->ptr + b->len;
	memset(at, c, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return at;
}

int dc_buf_puts(dc_buf *b, const char *s)
{
	return dc_buf_put(b, s, strlen(s));
}

int dc_buf_putc(dc_buf *b, char c)
{
	return dc_buf_put(b, &c, 1);
}

int dc_buf_vprintf(dc_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	if (b->failed)
		return DC_ERR;
	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || grow(b, (size_t)n) < 0) {
		b->failed = 1;
		return DC_ERR;
	}
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int dc_buf_printf(dc_buf *b, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = dc_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

char *dc_buf_detach(dc_buf *b, size_t *len)
{
	char *p;

	if (b->failed) {
		dc_buf_release(b);
		return NULL;
	}
	p = b->cap ? b->ptr : strdup("");
	if (len)
		*len = b->cap ? b->len : 0;
	b->ptr = dc_buf_empty;
	b->len = b->cap = 0;
	return p;
}
