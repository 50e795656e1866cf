/* family.h -- a registry family (ecr, gcr, acr, docker, heroku, ibm): which
 * registry hosts it serves, and how to get credentials for them from its
 * credential source. Families live in src/providers; the resolver
 * (core/resolve.h) drives them through this table of functions, once per
 * process for parse and as often as it is asked for the rest:
 *
 *   detect(env)                   1 when this family's variables are set
 *   parse(&cfg, ctx)              the configuration as typed data, read once:
 *                                 every variable checked, every key or token
 *                                 file read now; DC_EUSAGE before any network
 *   match(cfg, host, &scope)      1: `host` is served by this configuration,
 *                                 with what the host implies in `scope` (ECR:
 *                                 account, region, FIPS, dual-stack, public);
 *                                 0: not ours
 *   scope_all(cfg, &scope)        the scope of "every host this configuration
 *                                 names" (the generator contract)
 *   offline(cfg)                  1 when fetch makes no request: the secret
 *                                 is the environment's (docker, ACR admin); such
 *                                 results never touch the cache
 *   cache_key(&key, cfg, scope)   1 with the key filled when results for
 *                                 `scope` may be cached; 0 when never (offline,
 *                                 or nothing local names the principal)
 *   fetch(&list, ctx, cfg, scope) ask upstream; 0, DC_EUSAGE or DC_ERR
 *   release(cfg)                  wipe and free
 *
 * Secrets a family reads go into dc_sec values (util/secret.h) made with
 * ctx->redactor; the names of its secret variables are in `secret_vars` so
 * the resolver registers them before any family parses anything (a secret
 * pasted into the wrong variable is never quoted by that variable's error).
 */
#ifndef DC_FAMILY_H
#define DC_FAMILY_H

#include "core/cred.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/secret.h"

/* What a query's host implies. Fields a family does not use stay empty. */
typedef struct {
	char host[256];    /* the host asked for; "" for "every configured host" */
	char region[64];   /* ECR: the region in the host name */
	char account[16];  /* ECR: the registry (account) id in the host name */
	unsigned fips : 1, dualstack : 1, ecr_public : 1;
} dc_scope;

/* The cache identity of a result: which entry holds it and how it is sealed.
 * `principal` and `scope` are not secret (`cache list` shows the principal);
 * `seal` is the static secret the entry is sealed with (a copied entry is
 * useless without it), or empty when the source has none (a metadata server,
 * a rotating federated token): the cache's own random key seals it then. */
typedef struct {
	const char *family;
	dc_buf principal; /* "AKIA...", "arn:aws:iam::1:role/r", "sa@p.iam...", "tenant/client" */
	dc_buf scope;     /* everything else that changes the answer: endpoint, region, hosts */
	dc_sec seal;
} dc_cache_key;

#define DC_CACHE_KEY_INIT { NULL, DC_BUF_INIT, DC_BUF_INIT, DC_SEC_INIT }

void dc_cache_key_release(dc_cache_key *k);

typedef struct dc_family {
	const char *name;
	const char *summary;   /* one line for --help */
	const char *variables; /* the variables that select it, ", "-separated */
	const char *const *secret_vars; /* NULL-terminated */
	int (*detect)(const dc_env *env);
	int (*parse)(void **cfg, dc_ctx *ctx);
	int (*match)(const void *cfg, const char *host, dc_scope *scope);
	void (*scope_all)(const void *cfg, dc_scope *scope);
	int (*offline)(const void *cfg);
	int (*cache_key)(dc_cache_key *out, const void *cfg, const dc_scope *scope);
	int (*fetch)(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *scope);
	void (*release)(void *cfg);
} dc_family;

#endif
