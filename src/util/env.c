/* env.c -- see env.h. */
#include "util/env.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

extern char **environ;

const char *dc_env_get(const dc_env *env, const char *name)
{
	char *const *v = env && env->vars ? env->vars : environ;
	size_t n = strlen(name);

	for (; v && *v; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			return (*v)[n + 1] ? *v + n + 1 : NULL;
	return NULL;
}

const char *dc_env_first(const dc_env *env, const char **which, ...)
{
	va_list ap;
	const char *name, *val = NULL;

	va_start(ap, which);
	while ((name = va_arg(ap, const char *)) != NULL)
		if ((val = dc_env_get(env, name)) != NULL)
			break;
	va_end(ap);
	if (which)
		*which = val ? name : NULL;
	return val;
}

int dc_env_long(long *out, const dc_env *env, const char *name, long dflt, long min, long max)
{
	const char *s = dc_env_get(env, name);
	char *end;
	long v;

	if (!s) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return dc_error_set(DC_EUSAGE, "%s is '%s', not a whole number from %ld to %ld; set it to a number in that range",
				    name, s, min, max);
	*out = v;
	return 0;
}

int dc_env_list_next(const char **p, const char **item, size_t *n)
{
	const char *s = *p, *end;

	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			return 0;
		end = s + strcspn(s, ",");
		*item = s;
		*p = *end ? end + 1 : end;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*n = (size_t)(end - s);
		if (*n)
			return 1;
		s = *p;
	}
}
