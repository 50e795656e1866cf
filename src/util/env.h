/* env.h -- reading configuration from an environment.
 *
 * Providers read variables through a dc_env so tests can hand them a made-up
 * environment: `dc_env e = DC_ENV_PROCESS;` reads the process environment,
 * `dc_env e = { vars };` reads a NULL-terminated "NAME=value" array.
 * A variable set to the empty string counts as unset, as in the AWS SDKs.
 *
 * Lists in a value ("us, europe-west1,asia") are walked item by item:
 *   const char *p = value, *item; size_t n;
 *   while (dc_env_list_next(&p, &item, &n)) ... the n bytes at item ...
 */
#ifndef DC_ENV_H
#define DC_ENV_H

#include <stddef.h>

typedef struct {
	char *const *vars; /* NULL: the process environment */
} dc_env;

#define DC_ENV_PROCESS { 0 }

/* Borrowed value, or NULL when unset or empty. */
const char *dc_env_get(const dc_env *env, const char *name);
/* The first of the names that is set (NULL-terminated list); *which gets its name. */
const char *dc_env_first(const dc_env *env, const char **which, ...);
/* Parse a whole decimal number in [min, max]; 0 or DC_EUSAGE (message names the variable). */
int dc_env_long(long *out, const dc_env *env, const char *name, long dflt, long min, long max);
/* The next item of a comma-separated list, white space around it trimmed:
 * 1 with *item and *n set, advancing *p; 0 at the end. Empty items ("a,,b",
 * "a,", " , ") are skipped. An item may hold inner white space ("bad host"):
 * callers validate items, so that it is an error, never two items. */
int dc_env_list_next(const char **p, const char **item, size_t *n);

#endif
