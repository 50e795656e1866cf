/* generate.h -- the generator contract: environment in, dockercfg file out.
 *
 *   dc_generate_opts o = { .path = "/opt/data/dockercfg" };
 *   err = dc_generate(&res, &o, env);   0, DC_EUSAGE or DC_ERR (message set)
 *
 * Order: options and variables are checked first (usage errors before any
 * network call), then the provider fetches, then the file is written
 * atomically with mode 0600. With a cache directory the credentials come
 * through the cache (core/cache.h): a fresh entry means no network at all. On any failure nothing is written and an
 * existing file at `path` is untouched.
 */
#ifndef DC_GENERATE_H
#define DC_GENERATE_H

#include <stddef.h>
#include <time.h>

#include "util/env.h"
#include "util/error.h"

typedef struct {
	const char *path;
	const char *provider; /* NULL: DCGEN_PROVIDER or detection */
	const char *format;   /* NULL: DCGEN_FORMAT, else "config" */
	const char *cache_dir; /* NULL: DCGEN_CACHE_DIR, else no cache */
} dc_generate_opts;

typedef struct {
	const char *provider; /* static name */
	size_t count;         /* credentials written */
	time_t expires_at;    /* earliest expiry, 0 if none */
	const char *source;   /* "upstream", "the environment" (offline providers),
			       * "cache", "cache (after waiting)", "cache (stale)" */
} dc_generate_result;

int dc_generate(dc_generate_result *res, const dc_generate_opts *o, const dc_env *env) DC_MUST_USE;

#endif
