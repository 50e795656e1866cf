/* error.c -- see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last[1024];

int dc_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last, sizeof(last), fmt, ap);
	va_end(ap);
	return code;
}

const char *dc_error_last(void)
{
	return last;
}

void dc_error_clear(void)
{
	last[0] = '\0';
}
