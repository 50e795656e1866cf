/* resolve.h -- the question every front door asks: the credentials for every
 * host a configuration names, for one registry host, or for one image.
 *
 *   dc_resolver *r;
 *   dc_resolver_new(&r, ctx, dc_families, cache_dir);   registers every secret
 *                                                        variable first
 *   dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_ALL, NULL, family });
 *   dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_HOST, "1234.dkr.ecr.eu-west-1.amazonaws.com" });
 *   dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_IMAGE, "gcr.io/p/app:1" });
 *   dc_resolver_free(r);
 *
 * A family's configuration is parsed once per resolver, on first use. A host
 * query tries, in table order, every family whose variables are set (or the
 * one the query names) and takes the first whose match() claims the host;
 * if none does, the families whose variables are not set, for their ambient
 * sources (instance metadata, a container endpoint): one of those that does
 * not parse, or whose source does not answer (usage, network or timeout
 * class), is skipped. DC_ENOTFOUND (no message) when no family serves the
 * host ("not mine"). Results go through
 * the cache (core/cache.h) when the resolver has a cache directory and the
 * family's cache_key() allows it; the directory is opened only then.
 * Offline families never touch it. Every host a family returns is checked
 * to be a registry host before anything is handed out.
 */
#ifndef DC_RESOLVE_H
#define DC_RESOLVE_H

#include <time.h>

#include "core/cred.h"
#include "core/family.h"
#include "util/ctx.h"

enum dc_query_kind { DC_QUERY_ALL, DC_QUERY_HOST, DC_QUERY_IMAGE };

typedef struct {
	enum dc_query_kind kind;
	const char *value;        /* the host (or server URL) or image reference */
	const dc_family *family;  /* required for DC_QUERY_ALL; else NULL: any */
} dc_query;

typedef struct {
	const char *family;   /* static name */
	const char *source;   /* "upstream", "the environment", "cache",
			       * "cache (after waiting)", "cache (stale)" */
	time_t expires_at;    /* earliest expiry, 0 if none */
} dc_resolve_info;

typedef struct dc_resolver dc_resolver;

/* Register with ctx->redactor the value of every secret variable of every
 * family in `table` (and each without trailing white space). dc_resolver_new
 * does it; a command that makes no resolver calls it before it checks
 * anything (`cache list` quoting a cache path that holds a pasted secret). */
int dc_secrets_register(dc_ctx *ctx, const dc_family *const *table) DC_MUST_USE;

/* `table` is NULL-terminated and borrowed; `cache_dir` may be NULL. */
int dc_resolver_new(dc_resolver **out, dc_ctx *ctx, const dc_family *const *table, const char *cache_dir) DC_MUST_USE;
int dc_resolve(dc_cred_list *out, dc_resolve_info *info, dc_resolver *r, const dc_query *q) DC_MUST_USE;
void dc_resolver_free(dc_resolver *r);

/* The registry host of an image reference ("gcr.io/p/app:1" -> "gcr.io",
 * "ubuntu" -> "docker.io", "localhost:5000/x" -> "localhost:5000").
 * DC_EUSAGE when it is empty. */
int dc_image_host(dc_buf *out, const char *ref) DC_MUST_USE;

#endif
