/* generate.c -- see generate.h. */
#include "front/generate.h"

#include "core/cache.h"
#include "core/cred.h"
#include "core/output.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"

typedef struct {
	const dc_provider *p;
	const dc_env *env;
} fetch_ctx;

static int fetch(dc_cred_list *out, void *ctx)
{
	fetch_ctx *f = ctx;

	return f->p->fetch(out, f->env);
}

static int fetch_cached(dc_cred_list *out, dc_generate_result *res, const dc_provider *p, const dc_env *env,
			const char *dir, long deadline_ms)
{
	static const char *const source[] = {
		[DC_CACHE_HIT] = "cache",
		[DC_CACHE_WAITED] = "cache (after waiting)",
		[DC_CACHE_FETCHED] = "upstream",
		[DC_CACHE_STALE] = "cache (stale)",
	};
	dc_cache cache = DC_CACHE_INIT;
	dc_buf identity = DC_BUF_INIT;
	fetch_ctx ctx = { p, env };
	enum dc_cache_how how = DC_CACHE_FETCHED;
	int err;

	dc_buf_init(&identity, 0, DC_BUF_SECRET);
	/* a fetch is at most two requests (STS then ECR, Azure AD then the
	 * exchange), each with its own deadline: wait that long, plus slack */
	if ((err = dc_cache_open(&cache, dir, env, 2 * deadline_ms + 10000)) < 0)
		goto done;
	if ((err = p->cache_identity(&identity, env)) == DC_ENOTFOUND) {
		dc_log_debug("%s: this configuration is not cached", p->name);
		err = p->fetch(out, env);
		goto done;
	}
	if (err < 0)
		goto done;
	if ((err = dc_cache_get(out, &cache, p->name, &identity, fetch, &ctx, &how)) < 0)
		goto done;
	res->source = source[how];
done:
	dc_cache_close(&cache);
	dc_buf_release(&identity);
	return err;
}

int dc_generate(dc_generate_result *res, const dc_generate_opts *o, const dc_env *env)
{
	const dc_provider *p = NULL;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_buf text = DC_BUF_INIT;
	dc_http_config http;
	enum dc_format fmt = DC_FORMAT_CONFIG;
	const char *fmt_name = o->format, *cache_dir = o->cache_dir;
	int err;
	size_t i;

	res->provider = NULL;
	res->count = 0;
	res->expires_at = 0;
	res->source = "upstream";
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if (!fmt_name && (fmt_name = dc_env_get(env, "DCGEN_FORMAT")) != NULL)
		err = dc_format_parse(&fmt, fmt_name, "DCGEN_FORMAT");
	else
		err = fmt_name ? dc_format_parse(&fmt, fmt_name, "--format") : 0;
	if (err < 0 || (err = dc_provider_select(&p, env, o->provider)) < 0 ||
	    (err = dc_fs_check_writable(o->path)) < 0 || (err = dc_http_config_from_env(&http, env)) < 0)
		goto done;
	dc_http_configure(&http);
	res->provider = p->name;
	res->source = p->offline ? "the environment" : "upstream";
	dc_log_debug("provider %s, format %s, output '%s'", p->name, fmt == DC_FORMAT_CONFIG ? "config" : "dockercfg",
		     o->path);

	if (!cache_dir)
		cache_dir = dc_env_get(env, "DCGEN_CACHE_DIR");
	/* an offline provider has nothing to save, so no cache at all */
	if (cache_dir && !p->offline && p->cache_identity)
		err = fetch_cached(&list, res, p, env, cache_dir, http.deadline_ms);
	else
		err = p->fetch(&list, env);
	if (err < 0)
		goto done;
	if (!list.n) {
		err = dc_error_set(DC_ERR, "%s returned no credentials; check the provider's variables", p->name);
		goto done;
	}
	if ((err = dc_output_render(&text, &list, fmt)) < 0 ||
	    (err = dc_fs_write_atomic(o->path, text.ptr, text.len, 0600)) < 0)
		goto done;
	res->count = list.n;
	res->expires_at = dc_cred_list_expiry(&list);
	for (i = 0; i < list.n; i++)
		dc_log_debug("wrote '%s' (user '%s')", list.items[i].host, list.items[i].username);
done:
	dc_cred_list_release(&list);
	dc_buf_release(&text);
	return err;
}
