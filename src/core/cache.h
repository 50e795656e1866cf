/* cache.h -- a credential cache many concurrent jobs can share.
 *
 *   dc_cache *c;
 *   dc_cache_open(&c, ctx, dir, DC_CACHE_CREATE);   secure dir (0700, ours, no symlink)
 *   dc_cache_get(&list, &outcome, c, &key, fetch, arg);
 *   dc_cache_free(c);
 *
 * Files, per key id: "<id>.entry" (the sealed credentials), "<id>.lock" (an
 * flock for single flight) and "<id>.state" (a short-lived record that the
 * last refresh failed, or that its result could not be cached). The id is
 * HKDF over the key's family, principal and scope: rotating session
 * credentials of one principal share one entry. The sealing key is HKDF over
 * the key's static secret when it has one (a copied entry is useless without
 * it), else over the cache's own random key, the 0600 file "cache.key": who
 * can read the directory can then use those entries (README: trust model).
 * Entries are AES-256-GCM sealed with the clear metadata as associated data;
 * a changed, truncated or foreign entry fails to open and is ignored with a
 * warning. Entries, state records and the key are written atomically.
 *
 * dc_cache_get:
 *  - a fresh entry is served with no lock and no network (DC_CACHE_HIT);
 *  - otherwise one caller per key refreshes under the lock; the others serve
 *    an entry that is still usable (at least the floor, min(5 min, refresh
 *    margin), left) at once with a warning, or wait for the refresh;
 *  - a failed refresh is recorded: waiters and jobs in the next 30 s do not
 *    repeat it; they serve a usable entry with a warning, or fail with the
 *    recorded reason (class DC_ECLASS_CACHE);
 *  - results that cannot be cached (no expiry) are recorded too, and later
 *    callers fetch in parallel without the lock;
 *  - an entry with less than the floor left is never served;
 *  - a lock file that cannot be opened (a read-only volume): a warning and a
 *    fetch without the cache; waiting past DCGEN_CACHE_WAIT: a warning and a
 *    fetch without the lock.
 * Expired entries, orphaned lock and state files are collected on store and
 * by purge; list and purge create nothing.
 */
#ifndef DC_CACHE_H
#define DC_CACHE_H

#include <time.h>

#include "core/cred.h"
#include "core/family.h"
#include "util/ctx.h"

typedef struct dc_cache dc_cache;

enum { DC_CACHE_CREATE = 1 };

enum dc_cache_outcome {
	DC_CACHE_HIT,      /* served from a fresh entry, no lock taken */
	DC_CACHE_WAITED,   /* another caller refreshed while we waited */
	DC_CACHE_FETCHED,  /* fetched upstream (and stored if cacheable) */
	DC_CACHE_STALE,    /* a refresh failed or is under way; served an unexpired entry */
};

typedef int (*dc_cache_fetch_fn)(dc_cred_list *out, void *arg);

typedef struct {
	const char *id;        /* hex key id */
	const char *family;
	const char *principal;
	const char *hosts;     /* comma separated */
	const char *sealed_by; /* "secret" or "cache key" */
	time_t created, expires_at;
	const char *state;     /* "fresh", "refresh", "expired" */
} dc_cache_info;

/* DCGEN_CACHE_MIN_TTL and DCGEN_CACHE_WAIT (seconds) come from ctx->env.
 * With DC_CACHE_CREATE the directory is made (0700) when absent; without it
 * an absent directory is DC_EUSAGE and nothing is created. */
int dc_cache_open(dc_cache **out, dc_ctx *ctx, const char *dir, int flags) DC_MUST_USE;
int dc_cache_get(dc_cred_list *out, enum dc_cache_outcome *outcome, dc_cache *c, const dc_cache_key *key,
		 dc_cache_fetch_fn fetch, void *arg) DC_MUST_USE;
/* Every entry's clear metadata, without opening any seal; returns the count
 * through `n` (may be NULL). */
int dc_cache_list(dc_cache *c, int (*fn)(const dc_cache_info *info, void *arg), void *arg, size_t *n) DC_MUST_USE;
/* Remove entries (only expired ones if `expired_only`), their lock and
 * state files, and stale temp files; everything also removes the cache key. */
int dc_cache_purge(dc_cache *c, int expired_only, size_t *removed) DC_MUST_USE;
void dc_cache_free(dc_cache *c);

/* ---- internal: the parsers of the files above (unit tests, fuzz/) ---- */

/* An entry file's clear part: MAGIC and the metadata line, read into
 * *created and *expires_at. DC_ERR (no message) when it is not one. */
int dc_cache_entry_check(time_t *created, time_t *expires_at, const char *raw, size_t len) DC_MUST_USE;
/* An opened entry's records ("len:host,len:user,len:secret,expiry\n"...)
 * appended to `out`, each secret registered with `r` first. DC_ERR (no
 * message, `out` released) when malformed or empty. */
int dc_cache_records_parse(dc_cred_list *out, dc_redactor *r, const char *plain, size_t len) DC_MUST_USE;
/* A state record's text as read at `now`: 0 none (or stale, or malformed),
 * 1 a failed refresh, 2 a result that could not be cached. */
int dc_cache_state_check(const char *text, size_t len, time_t now);

#endif
