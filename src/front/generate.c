/* generate.c -- see generate.h. */
#include "front/generate.h"

#include "core/cred.h"
#include "core/output.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/log.h"

int dc_generate(dc_generate_result *res, const dc_generate_opts *o, const dc_env *env)
{
	const dc_provider *p = NULL;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_buf text = DC_BUF_INIT;
	dc_http_config http;
	enum dc_format fmt = DC_FORMAT_CONFIG;
	const char *fmt_name = o->format;
	int err;
	size_t i;

	res->provider = NULL;
	res->count = 0;
	res->expires_at = 0;
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
	dc_log_debug("provider %s, format %s, output '%s'", p->name, fmt == DC_FORMAT_CONFIG ? "config" : "dockercfg",
		     o->path);

	if ((err = p->fetch(&list, env)) < 0)
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
