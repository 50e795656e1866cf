/* static.c -- registries whose password is a long-lived secret the job
 * already holds: Docker Hub or any registry (user and password), Heroku (an
 * API key, user "_") and IBM Cloud Container Registry (an API key, user
 * "iamapikey"). No network, no cache: the secret is written under the right
 * host key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/hostlist.h"
#include "providers/provider.h"
#include "util/log.h"
#include "util/url.h"

#define DOCKER_HUB "https://index.docker.io/v1/"
#define HEROKU_HOST "registry.heroku.com"
#define HEROKU_USER "_"
#define IBM_DEFAULT "icr.io"
#define IBM_USER "iamapikey"

static void scope_of(dc_scope *scope, const char *host)
{
	if (!scope)
		return;
	memset(scope, 0, sizeof(*scope));
	if (host)
		snprintf(scope->host, sizeof(scope->host), "%s", host);
}

static void scope_none(const void *cfg, dc_scope *scope)
{
	(void)cfg;
	scope_of(scope, NULL);
}

static int always_offline(const void *cfg)
{
	(void)cfg;
	return 1;
}

static int never_cached(dc_cache_key *out, const void *cfg, const dc_scope *scope)
{
	(void)out, (void)cfg, (void)scope;
	return 0;
}

/* R21: a secret with a trailing line break (a Kubernetes secret made with
 * `echo`, a CRLF file) is taken as given, with a warning. */
static void warn_line_break(dc_ctx *ctx, const char *var, const char *value)
{
	size_t n = value ? strlen(value) : 0;

	if (n && (value[n - 1] == '\n' || value[n - 1] == '\r'))
		dc_log_warn(&ctx->log, "%s ends with a line break, which is part of the value as given; remove it if it was not meant (a secret copied with its newline?)",
			    var);
}

/* The key a Docker client looks `value` up by: host[:port], whatever scheme
 * or path came with it. DC_EUSAGE naming `var` when there is no valid host;
 * a URL with a user name or password is refused without quoting it. */
static int host_key(dc_buf *out, const char *value, const char *var, const char *example)
{
	if (dc_url_has_userinfo(value))
		return dc_error_set(DC_EUSAGE, "%s has a user name or password in it; remove it (the credentials come from their own variables)",
				    var);
	if (strstr(value, "://") && strncasecmp(value, "https://", 8) && strncasecmp(value, "http://", 7))
		return dc_error_set(DC_EUSAGE, "%s has '%s', not a registry host or http(s) URL; set it to e.g. %s", var,
				    value, example);
	if (dc_host_from_url(out, value) < 0)
		return dc_error_set(DC_EUSAGE, "%s has '%s', which names no registry host; set it to e.g. %s", var, value,
				    example);
	if (!dc_url_host_valid(out->ptr, out->len))
		return dc_error_set(DC_EUSAGE, "%s has '%s', whose host is not a host name (with an optional :port from 1 to 65535); set it to e.g. %s",
				    var, value, example);
	return 0;
}

/* ---- docker: DOCKER_USERNAME, DOCKER_PASSWORD, DOCKER_REGISTRY ---- */

typedef struct {
	dc_buf key; /* the config key: "https://index.docker.io/v1/" or host[:port] */
	char *user;
	dc_sec password;
	int hub;
} docker_cfg;

static const char *const hub_names[] = { "docker.io", "index.docker.io", "registry-1.docker.io", DOCKER_HUB, NULL };

static int docker_detect(const dc_env *env)
{
	return dc_env_get(env, "DOCKER_USERNAME") || dc_env_get(env, "DOCKER_PASSWORD");
}

static void docker_release(void *p)
{
	docker_cfg *c = p;

	if (!c)
		return;
	dc_buf_release(&c->key);
	free(c->user);
	dc_sec_release(&c->password);
	free(c);
}

/* Docker Hub is stored under "https://index.docker.io/v1/", as `docker login`
 * stores it: the docker CLI looks Hub credentials up by exactly that key, so
 * Hub's other names map to it. Any other registry: its host[:port]. */
static int docker_key(docker_cfg *c, const char *registry)
{
	const char *const *h;
	int err;

	if (registry) {
		if ((err = host_key(&c->key, registry, "DOCKER_REGISTRY", "registry.example.com:5000")) < 0)
			return err;
		for (h = hub_names; *h; h++)
			if (!strcasecmp(c->key.ptr, *h))
				c->hub = 1;
	} else {
		c->hub = 1;
	}
	if (c->hub) {
		dc_buf_reset(&c->key);
		if (dc_buf_puts(&c->key, DOCKER_HUB) < 0)
			return dc_error_nomem();
	}
	return 0;
}

static int docker_parse(void **out, dc_ctx *ctx)
{
	const char *user = dc_env_get(ctx->env, "DOCKER_USERNAME");
	const char *password = dc_env_get(ctx->env, "DOCKER_PASSWORD");
	docker_cfg *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return dc_error_nomem();
	c->key = (dc_buf)DC_BUF_INIT;
	if ((err = dc_sec_set(&c->password, ctx->redactor, password)) < 0)
		goto done;
	if (!user) {
		err = dc_error_set(DC_EUSAGE, "DOCKER_USERNAME is not set; set it to the registry user name");
		goto done;
	}
	if (!password) {
		err = dc_error_set(DC_EUSAGE, "DOCKER_PASSWORD is not set; set it to the password or access token of user '%s'",
				   user);
		goto done;
	}
	if (strchr(user, ':')) {
		err = dc_error_set(DC_EUSAGE, "DOCKER_USERNAME is '%s', which has a ':' no registry accepts in a user name; fix it",
				   user);
		goto done;
	}
	warn_line_break(ctx, "DOCKER_PASSWORD", password);
	if ((err = docker_key(c, dc_env_get(ctx->env, "DOCKER_REGISTRY"))) < 0)
		goto done;
	if (!(c->user = strdup(user)))
		err = dc_error_nomem();
done:
	if (err < 0) {
		docker_release(c);
		return err;
	}
	*out = c;
	return 0;
}

static int docker_match(const void *cfg, const char *host, dc_scope *scope)
{
	const docker_cfg *c = cfg;
	const char *const *h;
	int ok = 0;

	if (c->hub) {
		for (h = hub_names; *h && !ok; h++)
			ok = !strcasecmp(host, *h);
	} else {
		ok = !strcasecmp(host, c->key.ptr);
	}
	if (ok)
		scope_of(scope, host);
	return ok;
}

static int docker_fetch(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *scope)
{
	const docker_cfg *c = cfg;

	(void)ctx, (void)scope;
	return dc_cred_list_add(out, c->key.ptr, c->user, c->password.ptr, 0);
}

static const char *const docker_secrets[] = { "DOCKER_PASSWORD", NULL };

const dc_family dc_family_docker = {
	.name = "docker",
	.summary = "Docker Hub or any registry with a user name and password (or access token)",
	.variables = "DOCKER_USERNAME, DOCKER_PASSWORD",
	.secret_vars = docker_secrets,
	.detect = docker_detect,
	.parse = docker_parse,
	.match = docker_match,
	.scope_all = scope_none,
	.offline = always_offline,
	.cache_key = never_cached,
	.fetch = docker_fetch,
	.release = docker_release,
};

/* ---- heroku: HEROKU_API_KEY ---- */

typedef struct {
	dc_sec key;
} heroku_cfg;

static int heroku_detect(const dc_env *env)
{
	return dc_env_get(env, "HEROKU_API_KEY") != NULL;
}

static void heroku_release(void *p)
{
	heroku_cfg *c = p;

	if (!c)
		return;
	dc_sec_release(&c->key);
	free(c);
}

static int heroku_parse(void **out, dc_ctx *ctx)
{
	const char *key = dc_env_get(ctx->env, "HEROKU_API_KEY");
	heroku_cfg *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return dc_error_nomem();
	if ((err = dc_sec_set(&c->key, ctx->redactor, key)) == 0 && !key)
		err = dc_error_set(DC_EUSAGE, "HEROKU_API_KEY is not set; set it to a Heroku API key (heroku auth:token)");
	if (err < 0) {
		heroku_release(c);
		return err;
	}
	warn_line_break(ctx, "HEROKU_API_KEY", key);
	*out = c;
	return 0;
}

static int heroku_match(const void *cfg, const char *host, dc_scope *scope)
{
	(void)cfg;
	if (strcasecmp(host, HEROKU_HOST))
		return 0;
	scope_of(scope, host);
	return 1;
}

static int heroku_fetch(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *scope)
{
	const heroku_cfg *c = cfg;

	(void)ctx, (void)scope;
	return dc_cred_list_add(out, HEROKU_HOST, HEROKU_USER, c->key.ptr, 0);
}

static const char *const heroku_secrets[] = { "HEROKU_API_KEY", NULL };

const dc_family dc_family_heroku = {
	.name = "heroku",
	.summary = "Heroku Container Registry (registry.heroku.com, an API key)",
	.variables = "HEROKU_API_KEY",
	.secret_vars = heroku_secrets,
	.detect = heroku_detect,
	.parse = heroku_parse,
	.match = heroku_match,
	.scope_all = scope_none,
	.offline = always_offline,
	.cache_key = never_cached,
	.fetch = heroku_fetch,
	.release = heroku_release,
};

/* ---- ibm: IBMCLOUD_API_KEY or BLUEMIX_API_KEY, IBMCLOUD_REGISTRY ---- */

typedef struct {
	dc_sec key;
	dc_hostlist hosts;
} ibm_cfg;

static int ibm_detect(const dc_env *env)
{
	return dc_env_get(env, "IBMCLOUD_API_KEY") || dc_env_get(env, "BLUEMIX_API_KEY");
}

static void ibm_release(void *p)
{
	ibm_cfg *c = p;

	if (!c)
		return;
	dc_sec_release(&c->key);
	dc_hostlist_release(&c->hosts);
	free(c);
}

/* Each registry of IBMCLOUD_REGISTRY (default icr.io) as a host key; items
 * with inner white space are errors, duplicates are collapsed. */
static int ibm_hosts(dc_hostlist *hosts, const dc_env *env)
{
	const char *list = dc_env_get(env, "IBMCLOUD_REGISTRY");
	const char *p = list ? list : IBM_DEFAULT, *name;
	dc_buf item = DC_BUF_INIT, host = DC_BUF_INIT;
	size_t len;
	int err = 0;

	while (!err && dc_env_list_next(&p, &name, &len)) {
		dc_buf_reset(&item);
		dc_buf_reset(&host);
		if (dc_buf_put(&item, name, len) < 0) {
			err = dc_error_nomem();
			break;
		}
		if ((err = host_key(&host, item.ptr, "IBMCLOUD_REGISTRY", "us.icr.io,de.icr.io")) < 0)
			break;
		err = dc_hostlist_add(hosts, host.ptr, host.len);
	}
	if (!err && !hosts->n) {
		err = dc_error_set(DC_EUSAGE, "IBMCLOUD_REGISTRY is '%s', which names no registry; set it to e.g. icr.io or us.icr.io,de.icr.io",
				   list ? list : "");
	}
	dc_buf_release(&item);
	dc_buf_release(&host);
	return err;
}

static int ibm_parse(void **out, dc_ctx *ctx)
{
	const char *which, *other = dc_env_get(ctx->env, "BLUEMIX_API_KEY");
	const char *key = dc_env_first(ctx->env, &which, "IBMCLOUD_API_KEY", "BLUEMIX_API_KEY", (char *)NULL);
	ibm_cfg *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return dc_error_nomem();
	if ((err = dc_sec_set(&c->key, ctx->redactor, key)) < 0 ||
	    (err = dc_redactor_add(ctx->redactor, other, other ? strlen(other) : 0)) < 0)
		goto done;
	if (!key) {
		err = dc_error_set(DC_EUSAGE, "IBMCLOUD_API_KEY is not set; set it (or BLUEMIX_API_KEY) to an IBM Cloud API key");
		goto done;
	}
	if (other && strcmp(other, key))
		dc_log_debug(&ctx->log, "IBMCLOUD_API_KEY is set; ignoring BLUEMIX_API_KEY");
	warn_line_break(ctx, which, key);
	err = ibm_hosts(&c->hosts, ctx->env);
done:
	if (err < 0) {
		ibm_release(c);
		return err;
	}
	*out = c;
	return 0;
}

static int ibm_match(const void *cfg, const char *host, dc_scope *scope)
{
	const ibm_cfg *c = cfg;

	if (!dc_hostlist_has(&c->hosts, host))
		return 0;
	scope_of(scope, host);
	return 1;
}

static int ibm_fetch(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *scope)
{
	const ibm_cfg *c = cfg;
	size_t i;
	int err;

	(void)ctx;
	if (scope && *scope->host)
		return dc_cred_list_add(out, scope->host, IBM_USER, c->key.ptr, 0);
	for (i = 0; i < c->hosts.n; i++)
		if ((err = dc_cred_list_add(out, c->hosts.items[i], IBM_USER, c->key.ptr, 0)) < 0)
			return err;
	return 0;
}

static const char *const ibm_secrets[] = { "IBMCLOUD_API_KEY", "BLUEMIX_API_KEY", NULL };

const dc_family dc_family_ibm = {
	.name = "ibm",
	.summary = "IBM Cloud Container Registry (icr.io and regional registries, an API key)",
	.variables = "IBMCLOUD_API_KEY, BLUEMIX_API_KEY",
	.secret_vars = ibm_secrets,
	.detect = ibm_detect,
	.parse = ibm_parse,
	.match = ibm_match,
	.scope_all = scope_none,
	.offline = always_offline,
	.cache_key = never_cached,
	.fetch = ibm_fetch,
	.release = ibm_release,
};
