/* static.c -- registries whose password is a long-lived secret the job
 * already holds: Docker Hub or any registry (user and password), Heroku (an
 * API key, user "_") and IBM Cloud Container Registry (an API key, user
 * "iamapikey"). No network: the secret is written under the right host key. */
#include <string.h>

#include "providers/provider.h"
#include "util/log.h"
#include "util/url.h"

#define DOCKER_HUB "https://index.docker.io/v1/"
#define HEROKU_HOST "registry.heroku.com"
#define HEROKU_USER "_"
#define IBM_DEFAULT "icr.io"
#define IBM_USER "iamapikey"

static int oom(void)
{
	return dc_error_set(DC_ERR, "out of memory");
}

/* The key a Docker client looks `value` up by: host[:port], whatever scheme
 * or path came with it. DC_EUSAGE naming `var` when there is no host. */
static int host_key(dc_buf *out, const char *value, const char *var, const char *example)
{
	int err;

	if (strstr(value, "://") && strncmp(value, "https://", 8) && strncmp(value, "http://", 7))
		return dc_error_set(DC_EUSAGE, "%s has '%s', not a registry host or http(s) URL; set it to e.g. %s", var,
				    value, example);
	if ((err = dc_host_from_url(out, value)) < 0)
		return dc_error_set(DC_EUSAGE, "%s has '%s', which names no registry host; set it to e.g. %s", var, value,
				    example);
	if (!dc_url_host_valid(out->ptr, out->len))
		return dc_error_set(DC_EUSAGE, "%s has '%s', whose host is not a host name; set it to e.g. %s", var, value,
				    example);
	return 0;
}

/* ---- docker: DOCKER_USERNAME, DOCKER_PASSWORD, DOCKER_REGISTRY ---- */

static int docker_detect(const dc_env *env)
{
	return dc_env_get(env, "DOCKER_USERNAME") || dc_env_get(env, "DOCKER_PASSWORD");
}

/* Docker Hub is stored under "https://index.docker.io/v1/", as `docker login`
 * stores it: the docker CLI looks Hub credentials up by exactly that key, so
 * Hub's other names map to it. Any other registry: its host[:port]. */
static int docker_key(dc_buf *out, const dc_env *env)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io", NULL };
	const char *registry = dc_env_get(env, "DOCKER_REGISTRY");
	const char *const *h;
	int err;

	if (!registry) {
		if (dc_buf_puts(out, DOCKER_HUB) < 0)
			return oom();
		return 0;
	}
	if ((err = host_key(out, registry, "DOCKER_REGISTRY", "registry.example.com:5000")) < 0)
		return err;
	for (h = hub; *h; h++) {
		if (!strcmp(out->ptr, *h)) {
			dc_buf_reset(out);
			if (dc_buf_puts(out, DOCKER_HUB) < 0)
				return oom();
			break;
		}
	}
	return 0;
}

static int docker_opts(dc_buf *key, const char **user, const char **password, const dc_env *env)
{
	*user = dc_env_get(env, "DOCKER_USERNAME");
	*password = dc_env_get(env, "DOCKER_PASSWORD");
	if (dc_log_redact_add(*password) < 0)
		return oom();
	if (!*user)
		return dc_error_set(DC_EUSAGE, "DOCKER_USERNAME is not set; set it to the registry user name");
	if (!*password)
		return dc_error_set(DC_EUSAGE, "DOCKER_PASSWORD is not set; set it to the password or access token of user '%s'",
				    *user);
	if (strchr(*user, ':'))
		return dc_error_set(DC_EUSAGE, "DOCKER_USERNAME is '%s', which has a ':' no registry accepts in a user name; fix it",
				    *user);
	return docker_key(key, env);
}

static int docker_fetch(dc_cred_list *out, const dc_env *env)
{
	dc_buf key = DC_BUF_INIT;
	const char *user, *password;
	int err;

	if ((err = docker_opts(&key, &user, &password, env)) == 0)
		err = dc_cred_list_add(out, key.ptr, user, password, 0);
	dc_buf_release(&key);
	return err;
}

const dc_provider dc_provider_docker = {
	.name = "docker",
	.summary = "Docker Hub or any registry with a user name and password (or access token)",
	.variables = "DOCKER_USERNAME, DOCKER_PASSWORD",
	.offline = 1,
	.detect = docker_detect,
	.fetch = docker_fetch,
};

/* ---- heroku: HEROKU_API_KEY ---- */

static int heroku_detect(const dc_env *env)
{
	return dc_env_get(env, "HEROKU_API_KEY") != NULL;
}

static int heroku_key(const char **key, const dc_env *env)
{
	*key = dc_env_get(env, "HEROKU_API_KEY");
	if (dc_log_redact_add(*key) < 0)
		return oom();
	if (!*key)
		return dc_error_set(DC_EUSAGE, "HEROKU_API_KEY is not set; set it to a Heroku API key (heroku auth:token)");
	return 0;
}

static int heroku_fetch(dc_cred_list *out, const dc_env *env)
{
	const char *key;
	int err;

	if ((err = heroku_key(&key, env)) < 0)
		return err;
	return dc_cred_list_add(out, HEROKU_HOST, HEROKU_USER, key, 0);
}

const dc_provider dc_provider_heroku = {
	.name = "heroku",
	.summary = "Heroku Container Registry (registry.heroku.com, an API key)",
	.variables = "HEROKU_API_KEY",
	.offline = 1,
	.detect = heroku_detect,
	.fetch = heroku_fetch,
};

/* ---- ibm: IBMCLOUD_API_KEY or BLUEMIX_API_KEY, IBMCLOUD_REGISTRY ---- */

static int ibm_detect(const dc_env *env)
{
	return dc_env_get(env, "IBMCLOUD_API_KEY") || dc_env_get(env, "BLUEMIX_API_KEY");
}

static int ibm_key(const char **key, const dc_env *env)
{
	const char *which, *other = dc_env_get(env, "BLUEMIX_API_KEY");

	*key = dc_env_first(env, &which, "IBMCLOUD_API_KEY", "BLUEMIX_API_KEY", (char *)NULL);
	if (dc_log_redact_add(*key) < 0 || dc_log_redact_add(other) < 0)
		return oom();
	if (!*key)
		return dc_error_set(DC_EUSAGE, "IBMCLOUD_API_KEY is not set; set it (or BLUEMIX_API_KEY) to an IBM Cloud API key");
	if (other && strcmp(other, *key))
		dc_log_debug("IBMCLOUD_API_KEY is set; ignoring BLUEMIX_API_KEY");
	return 0;
}

/* Each registry of IBMCLOUD_REGISTRY (default icr.io) as a host key; with
 * out == NULL only checks the list, else adds a credential per host. */
static int ibm_each(dc_cred_list *out, const dc_env *env, const char *key)
{
	const char *list = dc_env_get(env, "IBMCLOUD_REGISTRY");
	const char *p = list ? list : IBM_DEFAULT, *name;
	dc_buf item = DC_BUF_INIT, host = DC_BUF_INIT;
	size_t len;
	int n = 0, err = 0;

	while (!err && dc_env_list_next(&p, &name, &len)) {
		if (!len)
			continue;
		dc_buf_reset(&item);
		dc_buf_reset(&host);
		if (dc_buf_put(&item, name, len) < 0) {
			err = oom();
			break;
		}
		if ((err = host_key(&host, item.ptr, "IBMCLOUD_REGISTRY", "us.icr.io,de.icr.io")) < 0)
			break;
		if (out)
			err = dc_cred_list_add(out, host.ptr, IBM_USER, key, 0);
		n++;
	}
	if (!err && !n)
		err = dc_error_set(DC_EUSAGE, "IBMCLOUD_REGISTRY is '%s', which names no registry; set it to e.g. icr.io or us.icr.io,de.icr.io",
				   list);
	dc_buf_release(&item);
	dc_buf_release(&host);
	return err;
}

static int ibm_fetch(dc_cred_list *out, const dc_env *env)
{
	const char *key;
	int err;

	if ((err = ibm_key(&key, env)) < 0 || (err = ibm_each(NULL, env, key)) < 0)
		return err;
	return ibm_each(out, env, key);
}

const dc_provider dc_provider_ibm = {
	.name = "ibm",
	.summary = "IBM Cloud Container Registry (icr.io and regional registries, an API key)",
	.variables = "IBMCLOUD_API_KEY, BLUEMIX_API_KEY",
	.offline = 1,
	.detect = ibm_detect,
	.fetch = ibm_fetch,
};
