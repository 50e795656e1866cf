/* resolve.c -- see resolve.h. */
#include "core/resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cache.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/url.h"

#define DOCKER_HUB_KEY "https://index.docker.io/v1/"

struct dc_resolver {
	dc_ctx *ctx;
	const dc_family *const *table;
	void **cfgs;   /* one per table row, parsed on first use */
	int *parsed;
	char *cache_dir;
	dc_cache *cache;
};

/* Every secret variable of every family, before anything is parsed: a
 * secret pasted into the wrong variable must never be quoted by that
 * variable's error. Also each without a trailing newline (a common paste). */
int dc_secrets_register(dc_ctx *ctx, const dc_family *const *table)
{
	const dc_family *const *f;
	const char *const *v;

	for (f = table; *f; f++) {
		for (v = (*f)->secret_vars; v && *v; v++) {
			const char *val = dc_env_get(ctx->env, *v);
			size_t n;

			if (!val)
				continue;
			n = strlen(val);
			if (dc_redactor_add(ctx->redactor, val, n) < 0)
				return DC_ERR;
			while (n && (val[n - 1] == '\n' || val[n - 1] == '\r' || val[n - 1] == ' '))
				n--;
			if (dc_redactor_add(ctx->redactor, val, n) < 0)
				return DC_ERR;
		}
	}
	return 0;
}

int dc_resolver_new(dc_resolver **out, dc_ctx *ctx, const dc_family *const *table, const char *cache_dir)
{
	dc_resolver *r = calloc(1, sizeof(*r));
	size_t n = 0;

	if (!r)
		return dc_error_nomem();
	while (table[n])
		n++;
	r->ctx = ctx;
	r->table = table;
	if (!(r->cfgs = calloc(n + 1, sizeof(*r->cfgs))) || !(r->parsed = calloc(n + 1, sizeof(*r->parsed))) ||
	    (cache_dir && !(r->cache_dir = strdup(cache_dir))) || dc_secrets_register(ctx, table) < 0) {
		dc_resolver_free(r);
		return dc_error_nomem();
	}
	*out = r;
	return 0;
}

void dc_resolver_free(dc_resolver *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; r->table[i]; i++)
		if (r->parsed && r->parsed[i] && r->table[i]->release)
			r->table[i]->release(r->cfgs[i]);
	free(r->cfgs);
	free(r->parsed);
	free(r->cache_dir);
	dc_cache_free(r->cache);
	free(r);
}

static int config_of(void **cfg, dc_resolver *r, size_t i)
{
	int err;

	if (!r->parsed[i]) {
		if ((err = r->table[i]->parse(&r->cfgs[i], r->ctx)) < 0)
			return err;
		r->parsed[i] = 1;
	}
	*cfg = r->cfgs[i];
	return 0;
}

static size_t index_of(const dc_resolver *r, const dc_family *f)
{
	size_t i;

	for (i = 0; r->table[i]; i++)
		if (r->table[i] == f || !strcmp(r->table[i]->name, f->name))
			return i;
	return (size_t)-1;
}

typedef struct {
	dc_resolver *r;
	const dc_family *f;
	const void *cfg;
	const dc_scope *scope;
} fetch_arg;

static int do_fetch(dc_cred_list *out, void *p)
{
	fetch_arg *a = p;

	return a->f->fetch(out, a->r->ctx, a->cfg, a->scope);
}

/* Every host is a registry host: a family (or an upstream reply it passed
 * on) must not put anything else into a dockercfg key. */
static int check_hosts(const dc_cred_list *l, const dc_family *f)
{
	size_t i;
	char shown[96];

	for (i = 0; i < l->n; i++) {
		const char *h = l->items[i].host;

		if (!strcmp(h, DOCKER_HUB_KEY) || dc_url_host_valid(h, strlen(h)))
			continue;
		dc_log_clip(NULL, shown, sizeof(shown), h);
		return dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				     "%s produced a registry host that is not a host[:port] ('%s'); check the endpoint",
				     f->name, shown);
	}
	return 0;
}

static const char *source_of(enum dc_cache_outcome o)
{
	switch (o) {
	case DC_CACHE_HIT: return "cache";
	case DC_CACHE_WAITED: return "cache (after waiting)";
	case DC_CACHE_STALE: return "cache (stale)";
	default: return "upstream";
	}
}

static int resolve_one(dc_cred_list *out, dc_resolve_info *info, dc_resolver *r, const dc_family *f, const void *cfg,
		       const dc_scope *scope)
{
	dc_cache_key key = DC_CACHE_KEY_INIT;
	fetch_arg arg = { r, f, cfg, scope };
	enum dc_cache_outcome outcome = DC_CACHE_FETCHED;
	int err, cached = 0;

	info->family = f->name;
	info->source = "upstream";
	if (f->offline && f->offline(cfg)) {
		/* the secret is the environment's: nothing to save, no cache */
		info->source = "the environment";
		err = f->fetch(out, r->ctx, cfg, scope);
		goto done;
	}
	if (r->cache_dir) {
		key.family = f->name;
		if ((err = f->cache_key(&key, cfg, scope)) < 0)
			goto done;
		cached = err == 1;
		if (!cached)
			dc_log_debug(&r->ctx->log, "%s: this configuration is not cached", f->name);
	}
	if (cached && !r->cache && (err = dc_cache_open(&r->cache, r->ctx, r->cache_dir, DC_CACHE_CREATE)) < 0)
		goto done;
	if (cached) {
		err = dc_cache_get(out, &outcome, r->cache, &key, do_fetch, &arg);
		info->source = source_of(outcome);
	} else {
		err = do_fetch(out, &arg);
	}
done:
	if (err == 0)
		err = check_hosts(out, f);
	if (err == 0 && !out->n)
		err = dc_error_set(DC_ERR, "%s returned no credentials; check its variables", f->name);
	if (err == 0)
		info->expires_at = dc_cred_list_expiry(out);
	else
		dc_cred_list_release(out);
	dc_cache_key_release(&key);
	return err;
}

/* Keep only the credential for `host` when the family returned several
 * (gcr answers for every Google host with one token). */
static void keep_host(dc_cred_list *l, const char *host)
{
	size_t i, at = (size_t)-1;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->items[i].host, host))
			at = i;
	if (at == (size_t)-1 || l->n == 1)
		return;
	for (i = 0; i < l->n; i++) {
		if (i == at)
			continue;
		free(l->items[i].host);
		free(l->items[i].username);
		if (l->items[i].secret) {
			dc_secret_free(l->items[i].secret);
		}
	}
	l->items[0] = l->items[at];
	l->n = 1;
}

static int ambient_absent(const dc_error *e)
{
	return e->code == DC_EUSAGE || e->klass == DC_ECLASS_NET || e->klass == DC_ECLASS_TIMEOUT;
}

int dc_image_host(dc_buf *out, const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t n;

	if (!*ref)
		return dc_error_set(DC_EUSAGE, "the image reference is empty");
	/* Docker's rule: the first component names a registry when it has a
	 * '.' or a ':' or is "localhost"; else the image is on Docker Hub */
	if (slash) {
		n = (size_t)(slash - ref);
		if (memchr(ref, '.', n) || memchr(ref, ':', n) || (n == 9 && !strncmp(ref, "localhost", 9))) {
			if (dc_buf_put(out, ref, n) < 0)
				return dc_error_nomem();
			return 0;
		}
	}
	if (dc_buf_puts(out, "docker.io") < 0)
		return dc_error_nomem();
	return 0;
}

int dc_resolve(dc_cred_list *out, dc_resolve_info *info, dc_resolver *r, const dc_query *q)
{
	dc_buf host = DC_BUF_INIT;
	dc_scope scope;
	void *cfg;
	size_t i;
	int err, pass;

	memset(info, 0, sizeof(*info));
	memset(&scope, 0, sizeof(scope));
	if (q->kind == DC_QUERY_ALL) {
		if (!q->family || (i = index_of(r, q->family)) == (size_t)-1)
			return dc_error_set(DC_EUSAGE, "no registry family chosen");
		if ((err = config_of(&cfg, r, i)) < 0)
			return err;
		r->table[i]->scope_all(cfg, &scope);
		return resolve_one(out, info, r, r->table[i], cfg, &scope);
	}
	if (q->kind == DC_QUERY_IMAGE)
		err = dc_image_host(&host, q->value);
	else
		err = dc_host_from_url(&host, q->value);
	if (err < 0)
		goto done;
	while (host.len > 1 && host.ptr[host.len - 1] == '.')
		host.ptr[--host.len] = '\0';
	/* first the families whose variables are set; then, for a host no such
	 * family claims, the others: their ambient sources (instance metadata,
	 * a container endpoint, workload identity) select nothing by variables,
	 * yet a kubelet or helper on such a machine must answer for their hosts.
	 * In that second pass a configuration that does not parse is "not mine". */
	for (pass = 0; pass < (q->family ? 1 : 2); pass++) {
		for (i = 0; r->table[i]; i++) {
			const dc_family *f = r->table[i];
			int detected = f->detect(r->ctx->env);

			if (q->family && strcmp(q->family->name, f->name))
				continue;
			if (!q->family && (pass == 0) != (detected != 0))
				continue;
			if ((err = config_of(&cfg, r, i)) < 0) {
				if (pass == 0)
					goto done;
				dc_log_debug(&r->ctx->log, "%s: not configured (%s)", f->name, dc_error_last());
				dc_error_clear();
				continue;
			}
			memset(&scope, 0, sizeof(scope));
			if (!f->match(cfg, host.ptr, &scope))
				continue;
			if (!scope.host[0])
				snprintf(scope.host, sizeof(scope.host), "%s", host.ptr);
			if ((err = resolve_one(out, info, r, f, cfg, &scope)) == 0)
				keep_host(out, host.ptr);
			/* an ambient source that is not there (no metadata server
			 * answering, nothing configured) is "not mine", so a public
			 * image still pulls anonymously; one that answered and
			 * refused is an error the user must see */
			if (err < 0 && pass == 1 && ambient_absent(dc_error_get())) {
				dc_log_debug(&r->ctx->log, "%s: no ambient credentials (%s)", f->name, dc_error_last());
				dc_error_clear();
				continue;
			}
			goto done;
		}
	}
	err = DC_ENOTFOUND;
done:
	dc_buf_release(&host);
	return err;
}
