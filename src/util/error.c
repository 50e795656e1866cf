/* error.c -- see error.h. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/secret.h"

/* The whole message, however long: the CLI redacts secrets before it cuts
 * anything, so a cut here could leave the start of a secret unmatched. */
static _Thread_local char *last;
static _Thread_local char fallback[1024];
static _Thread_local dc_error current = { 0, DC_ECLASS_NONE, 0, "", -1, "" };

static int vset(int code, enum dc_error_class klass, const char *fmt, va_list ap)
{
	char tmp[sizeof(fallback)];
	va_list again;
	int n;
	char *msg;

	/* format before clearing: an argument may be the previous message
	 * (a caller wrapping it); on out of memory, format on the stack and
	 * copy after clearing, so the fallback text survives the clear */
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (msg)
		vsnprintf(msg, (size_t)n + 1, fmt, again);
	else
		vsnprintf(tmp, sizeof(tmp), fmt, again);
	va_end(again);
	dc_error_clear();
	if (!msg)
		memcpy(fallback, tmp, sizeof(fallback));
	last = msg;
	current.code = code;
	current.klass = klass;
	current.message = last ? last : fallback;
	return code;
}

int dc_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* dc_error_set(DC_ERR, "out of memory") is dc_error_nomem(): the class
	 * tells the cache not to record it as a failed refresh */
	vset(code, code == DC_EUSAGE ? DC_ECLASS_USAGE : !strcmp(fmt, "out of memory") ? DC_ECLASS_NOMEM : DC_ECLASS_NONE,
	     fmt, ap);
	va_end(ap);
	return code;
}

int dc_error_setc(int code, enum dc_error_class klass, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(code, klass, fmt, ap);
	va_end(ap);
	return code;
}

int dc_error_nomem(void)
{
	return dc_error_setc(DC_ERR, DC_ECLASS_NOMEM, "out of memory");
}

void dc_error_fields(long http_status, const char *upstream_code, long retry_after)
{
	if (http_status)
		current.http_status = http_status;
	if (upstream_code)
		snprintf(current.upstream_code, sizeof(current.upstream_code), "%s", upstream_code);
	if (retry_after >= 0)
		current.retry_after = retry_after;
}

const dc_error *dc_error_get(void)
{
	return &current;
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
	current.code = 0;
	current.klass = DC_ECLASS_NONE;
	current.http_status = 0;
	current.upstream_code[0] = '\0';
	current.retry_after = -1;
	current.message = fallback;
}
