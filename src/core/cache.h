/* cache.h -- a credential cache many concurrent jobs can share.
 *
 *   dc_cache c = DC_CACHE_INIT;
 *   dc_cache_open(&c, dir, env);           secure dir (0700, ours, no symlink)
 *   dc_cache_get(&list, &c, "ecr", &identity, fetch, ctx, &how);
 *   dc_cache_close(&c);
 *
 * One file per key, "<id>.entry", beside a lock file "<id>.lock". The id and
 * the sealing key both come from HKDF over the provider's cache identity
 * (which includes the source secret), so a name reveals nothing and two
 * credentials never share an entry. The credentials are sealed with
 * AES-256-GCM; the entry's clear metadata (provider, hosts, times) is
 * authenticated with them. A copied entry is useless without the source
 * credential; a changed, truncated or foreign entry fails to open and is
 * ignored with a warning.
 *
 * dc_cache_get: a fresh entry is served without any lock or network. Else
 * callers of one key serialise on its lock (bounded wait); the first fetches
 * upstream and stores, the rest find its entry. If the fetch fails while the
 * old entry has not expired, the old entry is served with a warning. An
 * expired entry is never served. Entries are written atomically (util/fs).
 * A lock file that cannot be opened (a read-only volume) means a warning and
 * a fetch without the cache; waiting past c->wait_ms is DC_EBUSY.
 */
#ifndef DC_CACHE_H
#define DC_CACHE_H

#include <time.h>

#include "core/cred.h"
#include "util/buf.h"
#include "util/env.h"

typedef struct {
	char *dir;
	long min_ttl; /* seconds; -1: max(15 min, a quarter of the lifetime) */
	long wait_ms; /* longest wait for another caller's lock */
} dc_cache;

#define DC_CACHE_INIT { NULL, -1, 0 }

enum dc_cache_how {
	DC_CACHE_HIT,      /* served from a fresh entry, no lock taken */
	DC_CACHE_WAITED,   /* another caller fetched while we waited */
	DC_CACHE_FETCHED,  /* fetched upstream (and stored if cacheable) */
	DC_CACHE_STALE,    /* upstream failed; served an unexpired entry */
};

typedef int (*dc_cache_fetch_fn)(dc_cred_list *out, void *ctx);

typedef struct {
	const char *id;       /* hex key id */
	const char *provider;
	const char *hosts;    /* comma separated */
	time_t created, expires_at;
	int fresh;            /* would be served now */
} dc_cache_info;

/* DCGEN_CACHE_MIN_TTL and DCGEN_CACHE_WAIT (seconds) come from `env`;
 * `default_wait_ms` applies when DCGEN_CACHE_WAIT is unset. */
int dc_cache_open(dc_cache *c, const char *dir, const dc_env *env, long default_wait_ms) DC_MUST_USE;
int dc_cache_get(dc_cred_list *out, dc_cache *c, const char *provider, const dc_buf *identity,
		 dc_cache_fetch_fn fetch, void *ctx, enum dc_cache_how *how) DC_MUST_USE;
/* Every entry's clear metadata, without opening any seal. */
int dc_cache_list(dc_cache *c, int (*fn)(const dc_cache_info *info, void *ctx), void *ctx) DC_MUST_USE;
/* Remove entries (only expired ones if `expired_only`) and stale temp files. */
int dc_cache_purge(dc_cache *c, int expired_only, size_t *removed) DC_MUST_USE;
void dc_cache_close(dc_cache *c);

#endif
