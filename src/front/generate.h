/* generate.h -- the generator contract: environment in, dockercfg out.
 *
 *   dc_generate_opts o = { .path = "/opt/data/dockercfg" };
 *   err = dc_generate(&res, &o, ctx);   0, DC_EUSAGE or DC_ERR (message set)
 *
 * "Resolve everything the environment describes, render, write": the family
 * comes from --provider, DCGEN_PROVIDER or detection; every variable is
 * checked before any network call; the credentials come through the resolver
 * (core/resolve.h, with the cache when a directory is given); the rendered
 * file is written atomically with mode 0600 (util/fs), or, when PATH is "-",
 * a character device, a FIFO or a socket (/dev/stdout), written to it as a
 * stream, never replaced. On any failure nothing is written and an existing
 * file at PATH is untouched.
 */
#ifndef DC_GENERATE_H
#define DC_GENERATE_H

#include <stddef.h>
#include <time.h>

#include "util/ctx.h"
#include "util/error.h"

typedef struct {
	const char *path;
	const char *provider;  /* NULL: DCGEN_PROVIDER or detection */
	const char *format;    /* NULL: DCGEN_FORMAT, else "config" */
	const char *cache_dir; /* NULL: DCGEN_CACHE_DIR, else no cache */
	const char *secret_name; /* k8s-secret: NULL for the default */
	const char *namespace_;  /* k8s-secret: NULL for none */
} dc_generate_opts;

typedef struct {
	const char *provider; /* static name */
	size_t count;         /* credentials written */
	time_t expires_at;    /* earliest expiry, 0 if none */
	const char *source;   /* "upstream", "the environment" (offline families),
			       * "cache", "cache (after waiting)", "cache (stale)" */
	int stream;           /* 1: PATH was written as a stream */
} dc_generate_result;

int dc_generate(dc_generate_result *res, const dc_generate_opts *o, dc_ctx *ctx) DC_MUST_USE;

#endif
