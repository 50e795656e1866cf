/* generate.c -- see generate.h. */
#include "front/generate.h"

#include "core/cred.h"
#include "core/output.h"
#include "core/resolve.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"

int dc_generate(dc_generate_result *res, const dc_generate_opts *o, dc_ctx *ctx)
{
	const dc_family *f = NULL;
	dc_resolver *r = NULL;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_resolve_info info;
	dc_buf text = DC_BUF_INIT;
	enum dc_format fmt = DC_FORMAT_CONFIG;
	const char *fmt_name = o->format, *cache_dir = o->cache_dir;
	int err;
	size_t i;

	res->provider = NULL;
	res->count = 0;
	res->expires_at = 0;
	res->source = "upstream";
	res->stream = dc_fs_kind_of(o->path) == DC_FS_STREAM;
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if (!cache_dir)
		cache_dir = dc_env_get(ctx->env, "DCGEN_CACHE_DIR");
	/* the resolver registers every secret first: nothing below may quote one */
	if ((err = dc_resolver_new(&r, ctx, dc_families, cache_dir)) < 0)
		goto done;
	if (!fmt_name && (fmt_name = dc_env_get(ctx->env, "DCGEN_FORMAT")) != NULL)
		err = dc_format_parse(&fmt, fmt_name, "DCGEN_FORMAT");
	else
		err = fmt_name ? dc_format_parse(&fmt, fmt_name, "--format") : 0;
	if (err == 0)
		err = dc_output_check_opts(&(dc_output_opts){ o->secret_name, o->namespace_ }, fmt);
	if (err < 0 || (err = dc_family_select(&f, ctx->env, o->provider)) < 0 ||
	    (!res->stream && (err = dc_fs_check_writable(o->path)) < 0))
		goto done;
	res->provider = f->name;
	dc_log_debug(&ctx->log, "provider %s, format %s, output '%s'%s", f->name,
		     dc_format_name(fmt), o->path, res->stream ? " (a stream)" : "");
	if ((err = dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_ALL, NULL, f })) < 0)
		goto done;
	res->source = info.source;
	if ((err = dc_output_render_with(&text, &list, fmt, &(dc_output_opts){ o->secret_name, o->namespace_ })) < 0)
		goto done;
	if (res->stream)
		err = dc_fs_write_stream(o->path, text.ptr, text.len);
	else
		err = dc_fs_write_atomic(o->path, text.ptr, text.len, 0600);
	if (err < 0)
		goto done;
	res->count = list.n;
	res->expires_at = info.expires_at;
	for (i = 0; i < list.n; i++)
		dc_log_debug(&ctx->log, "wrote '%s' (user '%s')", list.items[i].host, list.items[i].username);
done:
	dc_resolver_free(r);
	dc_cred_list_release(&list);
	dc_buf_release(&text);
	return err;
}
