/* error.c -- see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/secret.h"

/* The whole message, however long: the CLI redacts secrets before it cuts
 * anything, so a cut here could leave the start of a secret unmatched. */
static _Thread_local char *last;
static _Thread_local char fallback[1024];

int dc_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *msg;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (msg) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
	} else {
		va_start(ap, fmt);
		vsnprintf(fallback, sizeof(fallback), fmt, ap);
		va_end(ap);
	}
	dc_error_clear();
	last = msg;
	return code;
}

const char *dc_error_last(void)
{
	return last ? last : fallback;
}

void dc_error_clear(void)
{
	dc_secret_free(last);
	last = NULL;
	fallback[0] = '\0';
}
