/* helper.c -- see helper.h. */
#include "front/helper.h"

#include <jansson.h>
#include <string.h>

#include "core/cred.h"
#include "core/resolve.h"
#include "core/store.h"
#include "providers/provider.h"
#include "util/json.h"
#include "util/log.h"

int dc_helper_default_dir(dc_buf *out, const dc_env *env, const char *kind)
{
	const char *xdg = dc_env_get(env, !strcmp(kind, "cache") ? "XDG_CACHE_HOME" : "XDG_CONFIG_HOME");
	const char *home = dc_env_get(env, "HOME");

	if (xdg && xdg[0] == '/')
		dc_buf_printf(out, "%s/dcgen", xdg);
	else if (home && home[0] == '/')
		dc_buf_printf(out, "%s/.%s/dcgen", home, kind);
	else
		return DC_ENOTFOUND;
	return dc_buf_failed(out) ? dc_error_nomem() : 0;
}

static int dir_of(dc_buf *out, const dc_env *env, const char *var, const char *kind)
{
	const char *set = dc_env_get(env, var);
	int err;

	if (set)
		return dc_buf_puts(out, set) < 0 ? dc_error_nomem() : 0;
	err = dc_helper_default_dir(out, env, kind);
	return err == DC_ENOTFOUND ? 0 : err;
}

int dc_helper_init(dc_helper *h, dc_ctx *ctx)
{
	int err;

	memset(h, 0, sizeof(*h));
	h->ctx = ctx;
	h->cache_dir = (dc_buf)DC_BUF_INIT;
	h->store_dir = (dc_buf)DC_BUF_INIT;
	if ((err = dir_of(&h->cache_dir, ctx->env, "DCGEN_CACHE_DIR", "cache")) < 0 ||
	    (err = dir_of(&h->store_dir, ctx->env, "DCGEN_STORE_DIR", "config")) < 0)
		dc_helper_release(h);
	return err;
}

void dc_helper_release(dc_helper *h)
{
	dc_buf_release(&h->cache_dir);
	dc_buf_release(&h->store_dir);
}

/* The input without the white space around it (Go's strings.TrimSpace). */
static int trimmed(dc_buf *out, const char *p, size_t n)
{
	while (n && strchr(" \t\r\n\v\f", *p))
		p++, n--;
	while (n && strchr(" \t\r\n\v\f", p[n - 1]))
		n--;
	if (memchr(p, '\0', n))
		return dc_error_set(DC_EUSAGE, "the server URL has a NUL byte in it");
	return dc_buf_put(out, p, n) < 0 ? dc_error_nomem() : 0;
}

static int to_buf(const char *p, size_t n, void *b)
{
	return dc_buf_put(b, p, n) < 0 ? -1 : 0;
}

static int no_store(void)
{
	return dc_error_set(DC_EUSAGE, "no directory for the credential store: HOME is not set; set DCGEN_STORE_DIR (or HOME or XDG_CONFIG_HOME)");
}

static int render(dc_buf *out, const char *server_url, const dc_cred *c)
{
	json_t *doc = json_pack("{s:s, s:s, s:s}", "ServerURL", server_url, "Username", c->username, "Secret", c->secret);
	int err = 0;

	if (!doc)
		return dc_error_set(DC_ERR, "the credentials for '%s' are not UTF-8 text", server_url);
	if (json_dump_callback(doc, to_buf, out, JSON_COMPACT) < 0 || dc_buf_putc(out, '\n') < 0)
		err = dc_error_nomem();
	json_decref(doc);
	return err;
}

int dc_helper_get(dc_buf *out, dc_helper *h, const char *input, size_t n)
{
	dc_buf url = DC_BUF_INIT;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_resolve_info info;
	dc_resolver *r = NULL;
	dc_store *s = NULL;
	int err;

	h->source = NULL;
	h->family = NULL;
	if ((err = trimmed(&url, input, n)) < 0)
		goto done;
	if (!url.len) {
		err = dc_error_set(DC_EUSAGE, DC_HELPER_NO_URL);
		goto done;
	}
	/* every secret variable is registered before anything can quote one */
	if ((err = dc_secrets_register(h->ctx, dc_families)) < 0)
		goto done;
	if (h->store_dir.len) {
		if ((err = dc_store_open(&s, h->ctx, h->store_dir.ptr)) < 0)
			goto done;
		err = dc_store_get(&list, s, url.ptr);
		if (err == 0) {
			h->source = "store";
			goto render;
		}
		if (err != DC_ENOTFOUND)
			goto done;
	}
	if ((err = dc_resolver_new(&r, h->ctx, dc_families, h->cache_dir.len ? h->cache_dir.ptr : NULL)) < 0 ||
	    (err = dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_HOST, url.ptr, NULL })) < 0)
		goto done;
	h->source = info.source;
	h->family = info.family;
render:
	err = render(out, url.ptr, &list.items[0]);
done:
	dc_cred_list_release(&list);
	dc_resolver_free(r);
	dc_store_free(s);
	dc_buf_release(&url);
	return err;
}

int dc_helper_store(dc_helper *h, const char *input, size_t n)
{
	json_t *doc = NULL;
	dc_store *s = NULL;
	const char *url, *user, *secret;
	int err;

	if ((err = dc_json_parse_object(&doc, input, n, "docker")) < 0) {
		err = dc_error_set(DC_EUSAGE, "store takes a JSON object {\"ServerURL\", \"Username\", \"Secret\"} on stdin");
		goto done;
	}
	url = dc_json_str(doc, "ServerURL");
	user = dc_json_str(doc, "Username");
	secret = dc_json_str(doc, "Secret");
	if (!url || !*url) {
		err = dc_error_set(DC_EUSAGE, DC_HELPER_NO_URL);
		goto done;
	}
	if (!user || !*user) {
		err = dc_error_set(DC_EUSAGE, DC_HELPER_NO_USER);
		goto done;
	}
	if (secret && (err = dc_redactor_add(h->ctx->redactor, secret, strlen(secret))) < 0)
		goto done;
	if (!h->store_dir.len) {
		err = no_store();
		goto done;
	}
	if ((err = dc_store_open(&s, h->ctx, h->store_dir.ptr)) == 0)
		err = dc_store_put(s, url, user, secret ? secret : "");
done:
	json_decref(doc);
	dc_store_free(s);
	return err;
}

int dc_helper_erase(dc_helper *h, const char *input, size_t n)
{
	dc_buf url = DC_BUF_INIT;
	dc_store *s = NULL;
	int err;

	if ((err = trimmed(&url, input, n)) < 0)
		goto done;
	if (!url.len) {
		err = dc_error_set(DC_EUSAGE, DC_HELPER_NO_URL);
		goto done;
	}
	if (!h->store_dir.len)
		goto done; /* nothing was ever stored */
	if ((err = dc_store_open(&s, h->ctx, h->store_dir.ptr)) == 0)
		err = dc_store_erase(s, url.ptr);
done:
	dc_store_free(s);
	dc_buf_release(&url);
	return err;
}

static int list_one(const char *server_url, const char *username, void *arg)
{
	return json_object_set_new(arg, server_url, json_string(username)) < 0 ? dc_error_nomem() : 0;
}

int dc_helper_list(dc_buf *out, dc_helper *h)
{
	json_t *doc = json_object();
	dc_store *s = NULL;
	int err = 0;

	if (!doc)
		return dc_error_nomem();
	if (h->store_dir.len && ((err = dc_store_open(&s, h->ctx, h->store_dir.ptr)) < 0 ||
				 (err = dc_store_list(s, list_one, doc)) < 0))
		goto done;
	if (json_dump_callback(doc, to_buf, out, JSON_COMPACT | JSON_SORT_KEYS) < 0 ||
	    dc_buf_putc(out, '\n') < 0)
		err = dc_error_nomem();
done:
	json_decref(doc);
	dc_store_free(s);
	return err;
}
