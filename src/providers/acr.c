/* acr.c -- Azure Container Registry: the admin user (or any user and password)
 * written as given, or a service principal / workload identity whose Azure AD
 * token is exchanged for an ACR refresh token. Variables as the classic
 * Codeship ACR generator read them, plus Azure's own SDK names.
 *
 * Hosts: the configured registry (AZURE_REGISTRY); with a service principal
 * or workload identity also any NAME.azurecr.{io,cn,de,us}, whose exchange
 * is then asked for that registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/azure.h"
#include "providers/provider.h"
#include "util/log.h"
#include "util/time.h"

#define MAX_LIFETIME (10LL * 366 * 86400) /* seconds; ACR's refresh tokens last hours */

typedef struct {
	int admin;
	int has_registry;
	dc_acr_registry reg;
	char *user;      /* admin */
	dc_sec password; /* admin */
	dc_azure_app app;
} acr_cfg;

/* AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
 * AZURE_AUTHORITY_HOST are not detection variables: AKS injects them into
 * every pod with workload identity, whatever registry the pod uses. */
static int detect(const dc_env *env)
{
	return dc_env_get(env, "AZURE_REGISTRY") || dc_env_get(env, "AZURE_REGISTRY_NAME") ||
	       dc_env_get(env, "AZURE_USERNAME") || dc_env_get(env, "AZURE_PASSWORD") ||
	       dc_env_get(env, "AZURE_CLIENT_SECRET") || dc_env_get(env, "AZURE_CLIENT_CERTIFICATE_PATH");
}

static void release(void *p)
{
	acr_cfg *c = p;

	if (!c)
		return;
	dc_acr_registry_release(&c->reg);
	free(c->user);
	dc_sec_release(&c->password);
	dc_azure_app_release(&c->app);
	free(c);
}

static int registry_unset(void)
{
	return dc_error_set(DC_EUSAGE, "AZURE_REGISTRY is not set; set it to the registry's name or URL, e.g. myregistry or https://myregistry.azurecr.io");
}

static int parse_opts(acr_cfg *c, dc_ctx *ctx)
{
	const dc_env *env = ctx->env;
	const char *which;
	const char *registry = dc_env_first(env, &which, "AZURE_REGISTRY", "AZURE_REGISTRY_NAME", (char *)NULL);
	const char *user = dc_env_get(env, "AZURE_USERNAME");
	const char *password = dc_env_get(env, "AZURE_PASSWORD");
	const char *secret = dc_env_get(env, "AZURE_CLIENT_SECRET");
	size_t n;
	int err;

	if ((err = dc_sec_set(&c->password, ctx->redactor, password)) < 0 ||
	    (err = dc_redactor_add(ctx->redactor, secret, secret ? strlen(secret) : 0)) < 0)
		return err;
	if ((user || password) && secret)
		return dc_error_set(DC_EUSAGE, "both AZURE_USERNAME/AZURE_PASSWORD (admin user) and AZURE_CLIENT_SECRET (service principal) are set; unset one of them");
	if (user && !password)
		return dc_error_set(DC_EUSAGE, "AZURE_USERNAME is set but AZURE_PASSWORD is not; set the password of user '%s'", user);
	if (password && !user)
		return dc_error_set(DC_EUSAGE, "AZURE_PASSWORD is set but AZURE_USERNAME is not; set the registry user name (for the admin user: the registry's name)");
	c->admin = user != NULL;
	if (registry) {
		if ((err = dc_acr_registry_parse(&c->reg, registry, which)) < 0)
			return err;
		c->has_registry = 1;
	} else if (c->admin || (!secret && !dc_env_get(env, "AZURE_FEDERATED_TOKEN_FILE") &&
				!dc_env_get(env, "AZURE_CLIENT_CERTIFICATE_PATH") && !dc_env_get(env, "AZURE_CLIENT_ID"))) {
		/* a service principal may serve any *.azurecr.io without it; with
		 * no credentials either (a managed identity), the registry is what
		 * to set first */
		return registry_unset();
	}
	if (c->admin) {
		n = strlen(password);
		if (password[n - 1] == '\n' || password[n - 1] == '\r')
			dc_log_warn(&ctx->log, "AZURE_PASSWORD ends with a line break, which is part of the value as given; remove it if it was not meant (a secret copied with its newline?)");
		if (!(c->user = strdup(user)))
			return dc_error_nomem();
		return 0;
	}
	return dc_azure_app_from_env(&c->app, ctx);
}

static int parse(void **out, dc_ctx *ctx)
{
	acr_cfg *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return dc_error_nomem();
	c->reg = (dc_acr_registry)DC_ACR_REGISTRY_INIT;
	c->app = (dc_azure_app)DC_AZURE_APP_INIT;
	if ((err = parse_opts(c, ctx)) < 0) {
		release(c);
		return err;
	}
	*out = c;
	return 0;
}

static int match(const void *cfg, const char *host, dc_scope *scope)
{
	const acr_cfg *c = cfg;
	int ok = (c->has_registry && !strcasecmp(host, c->reg.host)) || (!c->admin && dc_acr_host_is_acr(host));

	if (!ok || strlen(host) >= sizeof(scope->host))
		return 0;
	if (scope) {
		memset(scope, 0, sizeof(*scope));
		snprintf(scope->host, sizeof(scope->host), "%s", host);
	}
	return 1;
}

static void scope_all(const void *cfg, dc_scope *scope)
{
	(void)cfg;
	memset(scope, 0, sizeof(*scope));
}

static int offline(const void *cfg)
{
	const acr_cfg *c = cfg;

	return c->admin;
}

/* The registry a scope asks for: the configured one, or (service principal)
 * the host that matched. `tmp` holds the latter. */
static int registry_of(const dc_acr_registry **out, dc_acr_registry *tmp, const acr_cfg *c, const dc_scope *s)
{
	int err;

	if (!*s->host || (c->has_registry && !strcasecmp(s->host, c->reg.host))) {
		if (!c->has_registry)
			return registry_unset();
		*out = &c->reg;
		return 0;
	}
	if ((err = dc_acr_registry_of_host(tmp, s->host)) < 0)
		return err;
	*out = tmp;
	return 0;
}

static const char *const source_names[] = { "secret", "certificate", "federated", "github-actions",
					    "app-service", "imds" };

static int cache_key(dc_cache_key *out, const void *cfg, const dc_scope *s)
{
	const acr_cfg *c = cfg;
	dc_acr_registry tmp = DC_ACR_REGISTRY_INIT;
	const dc_acr_registry *reg;
	int err;

	if (c->admin || (!*s->host && !c->has_registry))
		return 0;
	if ((err = registry_of(&reg, &tmp, c, s)) < 0)
		return err;
	out->family = "acr";
	/* the principal is known locally: tenant/client for a service
	 * principal; for a managed identity the endpoint (one machine's or
	 * app's identity) and the user-assigned client id if any */
	if (c->app.kind == DC_AZURE_MI_IMDS || c->app.kind == DC_AZURE_MI_APPSERVICE)
		dc_buf_printf(&out->principal, "managed-identity:%s%s%s", c->app.mi_url, c->app.client_id ? "#" : "",
			      c->app.client_id ? c->app.client_id : "");
	else
		dc_buf_printf(&out->principal, "%s/%s", c->app.tenant, c->app.client_id);
	dc_buf_printf(&out->scope, "authority=%s\nregistry=%s\nhost=%s\nsource=%s\n",
		      c->app.authority ? c->app.authority : "", reg->url, reg->host, source_names[c->app.kind]);
	if (dc_buf_failed(&out->principal) || dc_buf_failed(&out->scope))
		err = dc_error_nomem();
	/* a static secret seals (the client secret, the certificate's key);
	 * workload identity, the CI's token and managed identities have none,
	 * so the cache seals with its own key; rotating tokens are not part of
	 * the key, so every rotation shares the entry */
	else if (c->app.kind == DC_AZURE_SECRET)
		err = dc_sec_setn(&out->seal, NULL, c->app.secret.ptr, c->app.secret.len);
	else if (c->app.kind == DC_AZURE_CERT)
		err = dc_sec_setn(&out->seal, NULL, c->app.cert.ptr, c->app.cert.len);
	dc_acr_registry_release(&tmp);
	return err < 0 ? err : 1;
}

/* D6: the unverified exp of a refresh token is bounded as ECR's expiry:
 * outside (0, now + ten years] it is unknown (and the result not cached). */
static time_t bounded_exp(dc_ctx *ctx, const char *host, const char *token)
{
	time_t exp = 0, now = dc_ctx_now(ctx);
	char when[32];

	if (dc_azure_jwt_exp(&exp, token) < 0) {
		dc_error_clear();
		dc_log_warn(&ctx->log, "the ACR refresh token for '%s' has no readable expiry; writing it without one", host);
		return 0;
	}
	if (exp <= 0 || (long long)exp > (long long)now + MAX_LIFETIME) {
		dc_log_warn(&ctx->log, "the ACR refresh token for '%s' claims an exp of %lld, not a time in the next ten years; treating its expiry as unknown",
			    host, (long long)exp);
		return 0;
	}
	if (exp <= now) {
		dc_time_format(when, sizeof(when), exp);
		dc_log_warn(&ctx->log, "the ACR refresh token for '%s' expired already (%s), as it arrived; writing it anyway", host,
			    when);
	}
	return exp;
}

static int fetch(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *s)
{
	const acr_cfg *c = cfg;
	dc_acr_registry tmp = DC_ACR_REGISTRY_INIT;
	const dc_acr_registry *reg;
	dc_sec aad = DC_SEC_INIT, refresh = DC_SEC_INIT;
	dc_buf tenant = DC_BUF_INIT;
	int err;

	if (c->admin)
		return dc_cred_list_add(out, c->reg.host, c->user, c->password.ptr, 0);
	if ((err = registry_of(&reg, &tmp, c, s)) < 0 ||
	    (err = dc_azure_token(&aad, &tenant, ctx, &c->app, DC_ACR_SCOPE)) < 0 ||
	    (err = dc_acr_exchange(&refresh, ctx, reg, tenant.ptr, aad.ptr)) < 0)
		goto done;
	err = dc_cred_list_add(out, reg->host, DC_ACR_TOKEN_USER, refresh.ptr, bounded_exp(ctx, reg->host, refresh.ptr));
done:
	dc_sec_release(&aad);
	dc_sec_release(&refresh);
	dc_buf_release(&tenant);
	dc_acr_registry_release(&tmp);
	return err;
}

static const char *const secret_vars[] = { "AZURE_CLIENT_SECRET", "AZURE_PASSWORD", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
					   "IDENTITY_HEADER", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", NULL };

const dc_family dc_family_acr = {
	.name = "acr",
	.summary = "Azure Container Registry (admin user, service principal, workload identity or managed identity)",
	.variables = "AZURE_REGISTRY, AZURE_REGISTRY_NAME, AZURE_USERNAME, AZURE_PASSWORD, AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH",
	.secret_vars = secret_vars,
	.detect = detect,
	.parse = parse,
	.match = match,
	.scope_all = scope_all,
	.offline = offline,
	.cache_key = cache_key,
	.fetch = fetch,
	.release = release,
};
