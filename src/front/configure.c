/* configure.c -- see configure.h. */
#include "front/configure.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/cred.h"
#include "core/resolve.h"
#include "front/helper.h"
#include "providers/provider.h"
#include "util/fs.h"
#include "util/url.h"

#define MAX_CONFIG (4 * 1024 * 1024)
#define HUB_KEY "https://index.docker.io/v1/"

void dc_configure_result_release(dc_configure_result *res)
{
	size_t i;

	dc_buf_release(&res->path);
	dc_buf_release(&res->replaced);
	for (i = 0; i < res->n; i++)
		free(res->hosts[i]);
	free(res->hosts);
	res->hosts = NULL;
	res->n = 0;
}

static int add_host(dc_configure_result *res, const char *h, size_t n)
{
	char **grown;
	size_t i;

	for (i = 0; i < res->n; i++)
		if (strlen(res->hosts[i]) == n && !strncmp(res->hosts[i], h, n))
			return 0;
	if (!(grown = realloc(res->hosts, (res->n + 1) * sizeof(*grown))))
		return dc_error_nomem();
	res->hosts = grown;
	if (!(res->hosts[res->n] = strndup(h, n)))
		return dc_error_nomem();
	res->n++;
	return 0;
}

static int hosts_from_flag(dc_configure_result *res, const char *list)
{
	const char *p = list, *item;
	dc_buf key = DC_BUF_INIT, one = DC_BUF_INIT;
	size_t n;
	int err = 0;

	while (!err && dc_env_list_next(&p, &item, &n)) {
		dc_buf_reset(&one);
		dc_buf_reset(&key);
		if (dc_buf_put(&one, item, n) < 0) {
			err = dc_error_nomem();
			break;
		}
		/* docker looks helpers up by host[:port], Hub by its v1 URL */
		if (!strcmp(one.ptr, HUB_KEY) || !strcmp(one.ptr, "docker.io") || !strcmp(one.ptr, "index.docker.io"))
			err = add_host(res, HUB_KEY, strlen(HUB_KEY));
		else if (dc_host_from_url(&key, one.ptr) < 0 || !dc_url_host_valid(key.ptr, key.len))
			err = dc_error_set(DC_EUSAGE, "--hosts has '%s', not a registry host[:port]; e.g. --hosts 123456789012.dkr.ecr.us-east-1.amazonaws.com,gcr.io",
					   one.ptr);
		else
			err = add_host(res, key.ptr, key.len);
	}
	if (!err && !res->n)
		err = dc_error_set(DC_EUSAGE, "--hosts names no host; give a comma-separated list");
	dc_buf_release(&key);
	dc_buf_release(&one);
	return err;
}

static int hosts_from_families(dc_configure_result *res, dc_ctx *ctx, const char *cache_dir)
{
	const dc_family *const *f;
	dc_resolver *r = NULL;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_resolve_info info;
	size_t i;
	int err, any = 0;

	if ((err = dc_resolver_new(&r, ctx, dc_families, cache_dir)) < 0)
		return err;
	for (f = dc_families; *f && !err; f++) {
		if (!(*f)->detect(ctx->env))
			continue;
		any = 1;
		if ((err = dc_resolve(&list, &info, r, &(dc_query){ DC_QUERY_ALL, NULL, *f })) < 0)
			break;
		for (i = 0; i < list.n && !err; i++)
			err = add_host(res, list.items[i].host, strlen(list.items[i].host));
		dc_cred_list_release(&list);
	}
	if (!err && !any)
		err = dc_error_set(DC_EUSAGE, "no provider's variables are set, so there are no hosts to configure; set them, name the hosts with --hosts, or use --creds-store");
	dc_cred_list_release(&list);
	dc_resolver_free(r);
	return err;
}

static int config_path(dc_buf *path, dc_buf *dir, const dc_env *env)
{
	const char *d = dc_env_get(env, "DOCKER_CONFIG"), *home = dc_env_get(env, "HOME");

	if (d)
		dc_buf_puts(dir, d);
	else if (home)
		dc_buf_printf(dir, "%s/.docker", home);
	else
		return dc_error_set(DC_EUSAGE, "neither DOCKER_CONFIG nor HOME is set; set DOCKER_CONFIG to the docker CLI's config directory");
	dc_buf_printf(path, "%s/config.json", dir->ptr);
	return dc_buf_failed(dir) || dc_buf_failed(path) ? dc_error_nomem() : 0;
}

static int to_buf(const char *p, size_t n, void *b)
{
	return dc_buf_put(b, p, n) < 0 ? -1 : 0;
}

/* Set obj[key] = "dcgen" unless it is already; 1 when changed. Another
 * helper's name it replaces is noted in `replaced`. */
static int set_suffix(dc_buf *replaced, json_t *obj, const char *key)
{
	const char *have = json_string_value(json_object_get(obj, key));

	if (have && !strcmp(have, DC_HELPER_SUFFIX))
		return 0;
	if (have && *have)
		dc_buf_printf(replaced, "%s%s: %s", replaced->len ? ", " : "", key, have);
	return json_object_set_new(obj, key, json_string(DC_HELPER_SUFFIX)) < 0 ? dc_error_nomem() : 1;
}

int dc_configure_docker(dc_configure_result *res, const dc_configure_opts *o, dc_ctx *ctx)
{
	dc_buf dir = DC_BUF_INIT, raw = DC_BUF_INIT, text = DC_BUF_INIT;
	dc_helper h;
	json_t *doc = NULL, *helpers;
	json_error_t jerr;
	size_t i;
	int err, helper_ready = 0;

	memset(res, 0, sizeof(*res));
	memset(&jerr, 0, sizeof(jerr));
	res->path = (dc_buf)DC_BUF_INIT;
	res->replaced = (dc_buf)DC_BUF_INIT;
	dc_buf_init(&raw, 0, DC_BUF_SECRET);
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if ((err = config_path(&res->path, &dir, ctx->env)) < 0)
		goto done;
	/* read and check the file before anything is asked of anyone */
	err = dc_fs_read(&raw, res->path.ptr, MAX_CONFIG);
	if (err == DC_ENOTFOUND) {
		dc_error_clear();
		doc = json_object();
	} else if (err < 0) {
		goto done;
	} else if (!(doc = json_loadb(raw.ptr, raw.len, 0, &jerr)) || !json_is_object(doc)) {
		err = dc_error_set(DC_EUSAGE, "'%s' is not a JSON object (at line %d); fix or move it, then run this again",
				   res->path.ptr, jerr.line);
		goto done;
	}
	if (!doc) {
		err = dc_error_nomem();
		goto done;
	}
	if (o->creds_store) {
		if ((err = set_suffix(&res->replaced, doc, "credsStore")) < 0)
			goto done;
		res->changed = err;
	} else {
		if (o->hosts) {
			err = hosts_from_flag(res, o->hosts);
		} else {
			if ((err = dc_helper_init(&h, ctx)) < 0)
				goto done;
			helper_ready = 1;
			err = hosts_from_families(res, ctx, o->cache_dir ? o->cache_dir
								     : h.cache_dir.len ? h.cache_dir.ptr : NULL);
		}
		if (err < 0)
			goto done;
		helpers = json_object_get(doc, "credHelpers");
		if (helpers && !json_is_object(helpers)) {
			err = dc_error_set(DC_EUSAGE, "'%s' has a credHelpers that is not an object; fix it, then run this again",
					   res->path.ptr);
			goto done;
		}
		if (!helpers) {
			if (json_object_set_new(doc, "credHelpers", json_object()) < 0) {
				err = dc_error_nomem();
				goto done;
			}
			helpers = json_object_get(doc, "credHelpers");
		}
		for (i = 0; i < res->n; i++) {
			if ((err = set_suffix(&res->replaced, helpers, res->hosts[i])) < 0)
				goto done;
			res->changed |= err;
		}
	}
	err = 0;
	if (!res->changed)
		goto done;
	if (json_dump_callback(doc, to_buf, &text, JSON_INDENT(2)) < 0 || dc_buf_putc(&text, '\n') < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_fs_secure_dir(dir.ptr, "docker config directory")) < 0)
		goto done;
	err = dc_fs_write_atomic(res->path.ptr, text.ptr, text.len, 0600);
done:
	if (helper_ready)
		dc_helper_release(&h);
	if (err < 0)
		dc_configure_result_release(res);
	json_decref(doc);
	dc_buf_release(&dir);
	dc_buf_release(&raw);
	dc_buf_release(&text);
	return err;
}
