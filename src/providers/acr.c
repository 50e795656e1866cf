/* acr.c -- Azure Container Registry: the admin user (or any user and password)
 * written as given, or a service principal / workload identity whose Azure AD
 * token is exchanged for an ACR refresh token. Variables as the classic
 * Codeship ACR generator read them, plus Azure's own SDK names. */
#include <string.h>

#include "auth/azure.h"
#include "providers/provider.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/time.h"

enum acr_mode { ACR_ADMIN, ACR_APP };

/* AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
 * AZURE_AUTHORITY_HOST are not detection variables: AKS injects them into
 * every pod with workload identity, whatever registry the pod uses. */
static int detect(const dc_env *env)
{
	return dc_env_get(env, "AZURE_REGISTRY") || dc_env_get(env, "AZURE_REGISTRY_NAME") ||
	       dc_env_get(env, "AZURE_USERNAME") || dc_env_get(env, "AZURE_PASSWORD") ||
	       dc_env_get(env, "AZURE_CLIENT_SECRET");
}

/* The registry and the mode, checked; no network. */
static int parse_opts(enum acr_mode *mode, dc_acr_registry *reg, const dc_env *env)
{
	const char *which;
	const char *registry = dc_env_first(env, &which, "AZURE_REGISTRY", "AZURE_REGISTRY_NAME", (char *)NULL);
	const char *user = dc_env_get(env, "AZURE_USERNAME");
	const char *password = dc_env_get(env, "AZURE_PASSWORD");

	if (dc_log_redact_add(password) < 0 || dc_log_redact_add(dc_env_get(env, "AZURE_CLIENT_SECRET")) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	if ((user || password) && dc_env_get(env, "AZURE_CLIENT_SECRET"))
		return dc_error_set(DC_EUSAGE, "both AZURE_USERNAME/AZURE_PASSWORD (admin user) and AZURE_CLIENT_SECRET (service principal) are set; unset one of them");
	if (user && !password)
		return dc_error_set(DC_EUSAGE, "AZURE_USERNAME is set but AZURE_PASSWORD is not; set the password of user '%s'", user);
	if (password && !user)
		return dc_error_set(DC_EUSAGE, "AZURE_PASSWORD is set but AZURE_USERNAME is not; set the registry user name (for the admin user: the registry's name)");
	*mode = user ? ACR_ADMIN : ACR_APP;
	if (!registry)
		return dc_error_set(DC_EUSAGE, "AZURE_REGISTRY is not set; set it to the registry's name or URL, e.g. myregistry or https://myregistry.azurecr.io");
	return dc_acr_registry_parse(reg, registry, which);
}

static int fetch(dc_cred_list *out, const dc_env *env)
{
	dc_acr_registry reg = DC_ACR_REGISTRY_INIT;
	dc_azure_app app = DC_AZURE_APP_INIT;
	char *aad = NULL, *refresh = NULL, when[32];
	enum acr_mode mode;
	time_t exp = 0;
	int err;

	if ((err = parse_opts(&mode, &reg, env)) < 0)
		goto done;
	if (mode == ACR_ADMIN) {
		err = dc_cred_list_add(out, reg.host, dc_env_get(env, "AZURE_USERNAME"), dc_env_get(env, "AZURE_PASSWORD"), 0);
		goto done;
	}
	if ((err = dc_azure_app_from_env(&app, env)) < 0 || (err = dc_azure_aad_token(&aad, &app, DC_ACR_SCOPE)) < 0 ||
	    (err = dc_acr_exchange(&refresh, &reg, app.tenant, aad)) < 0)
		goto done;
	if (dc_azure_jwt_exp(&exp, refresh) < 0) {
		dc_log_warn("the ACR refresh token for '%s' has no readable expiry; writing it without one", reg.host);
		exp = 0;
	} else if (exp <= dc_time_now()) {
		dc_time_format(when, sizeof(when), exp);
		dc_log_warn("the ACR refresh token for '%s' expired already (%s), as it arrived; writing it anyway", reg.host, when);
	}
	err = dc_cred_list_add(out, reg.host, DC_ACR_TOKEN_USER, refresh, exp);
done:
	dc_secret_free(aad);
	dc_secret_free(refresh);
	dc_azure_app_release(&app);
	dc_acr_registry_release(&reg);
	return err;
}

static int cache_identity(dc_buf *out, const dc_env *env)
{
	dc_acr_registry reg = DC_ACR_REGISTRY_INIT;
	dc_azure_app app = DC_AZURE_APP_INIT;
	enum acr_mode mode;
	int err;

	if ((err = parse_opts(&mode, &reg, env)) < 0)
		goto done;
	if (mode == ACR_ADMIN) {
		dc_buf_printf(out, "acr\nmode=admin\nregistry=%s\nhost=%s\nusername=%s\npassword=%s\n", reg.url, reg.host,
			      dc_env_get(env, "AZURE_USERNAME"), dc_env_get(env, "AZURE_PASSWORD"));
	} else if ((err = dc_azure_app_from_env(&app, env)) == 0) {
		/* the federated token rotates; a new one is a new identity, which
		 * only costs one exchange */
		dc_buf_printf(out, "acr\nmode=%s\nregistry=%s\nhost=%s\nauthority=%s\ntenant=%s\nclient_id=%s\nsecret=%s\n",
			      app.secret ? "secret" : "federated", reg.url, reg.host, app.authority, app.tenant,
			      app.client_id, app.secret ? app.secret : app.assertion);
	}
	if (err == 0 && dc_buf_failed(out))
		err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_azure_app_release(&app);
	dc_acr_registry_release(&reg);
	return err;
}

const dc_provider dc_provider_acr = {
	.name = "acr",
	.summary = "Azure Container Registry (admin user, service principal or workload identity)",
	.variables = "AZURE_REGISTRY, AZURE_REGISTRY_NAME, AZURE_USERNAME, AZURE_PASSWORD, AZURE_CLIENT_SECRET",
	.detect = detect,
	.fetch = fetch,
	.cache_identity = cache_identity,
};
