/* azure.h -- Azure AD (Entra ID) client credentials and the ACR token exchange.
 *
 *   dc_acr_registry r = DC_ACR_REGISTRY_INIT;
 *   err = dc_acr_registry_parse(&r, "myreg", "AZURE_REGISTRY");   -> myreg.azurecr.io
 *   dc_azure_app app = DC_AZURE_APP_INIT;
 *   err = dc_azure_app_from_env(&app, ctx);  client id, tenant, secret or the
 *                                            federated token (read now, once),
 *                                            authority
 *   err = dc_azure_aad_token(&aad, ctx, &app, DC_ACR_SCOPE);
 *   err = dc_acr_exchange(&refresh, ctx, &r, app.tenant, aad.ptr);
 *   err = dc_azure_jwt_exp(&exp, refresh.ptr);  the exp claim, read not verified
 *   dc_sec_release(&aad); dc_sec_release(&refresh);
 *   dc_azure_app_release(&app); dc_acr_registry_release(&r);
 *
 * AAD: POST <authority>/<tenant>/oauth2/v2.0/token (the authority's path is
 * kept: ADFS and Azure Stack have one) with grant_type=client_credentials,
 * client_id, scope and either client_secret or (workload identity)
 * client_assertion_type=urn:ietf:params:oauth:client-assertion-type:
 * jwt-bearer and client_assertion=<the federated token>.
 * ACR: POST <registry>/oauth2/exchange with grant_type=access_token, service=
 * <registry host>, tenant, access_token; the reply's refresh_token is the
 * password Docker clients use with user 00000000-0000-0000-0000-000000000000.
 *
 * Secrets, the federated token and every token received are dc_sec values
 * (registered with ctx's redactor as soon as they are read). Configuration
 * problems are DC_EUSAGE (before any network call); upstream refusals DC_ERR.
 * A URL with a user name or password is refused naming only the variable.
 */
#ifndef DC_AZURE_H
#define DC_AZURE_H

#include <time.h>

#include "util/buf.h"
#include "util/ctx.h"
#include "util/secret.h"

#define DC_AZURE_AUTHORITY "https://login.microsoftonline.com"
#define DC_ACR_SCOPE "https://containerregistry.azure.net/.default"
#define DC_ACR_TOKEN_USER "00000000-0000-0000-0000-000000000000"

typedef struct {
	char *url;  /* "https://name.azurecr.io", "http://127.0.0.1:5000": no path, no trailing slash */
	char *host; /* "name.azurecr.io": the dockercfg key and the exchange's service */
} dc_acr_registry;

#define DC_ACR_REGISTRY_INIT { NULL, NULL }

typedef struct {
	char *authority;        /* URL (path kept) without trailing slash */
	char *tenant;
	char *client_id;
	dc_sec secret;          /* AZURE_CLIENT_SECRET, or empty */
	dc_sec assertion;       /* the federated token (workload identity), or empty */
	const char *token_file; /* borrowed from the environment, for messages */
} dc_azure_app;

#define DC_AZURE_APP_INIT { NULL, NULL, NULL, DC_SEC_INIT, DC_SEC_INIT, NULL }

/* A registry as AZURE_REGISTRY may give it: a bare name ("myreg" ->
 * myreg.azurecr.io; 5 to 50 letters and digits), a host[:port], or an https
 * URL (http only to this machine: tests). `var` names the variable in
 * messages. DC_EUSAGE if bad. */
int dc_acr_registry_parse(dc_acr_registry *out, const char *value, const char *var) DC_MUST_USE;
/* The registry at https://HOST (a host that matched *.azurecr.io). */
int dc_acr_registry_of_host(dc_acr_registry *out, const char *host) DC_MUST_USE;
void dc_acr_registry_release(dc_acr_registry *r);
/* 1 when `host` is NAME.azurecr.{io,cn,de,us} with NAME 5 to 50 letters and
 * digits (the hosts a service principal may be asked for). */
int dc_acr_host_is_acr(const char *host);

/* AZURE_CLIENT_ID, AZURE_TENANT_ID, then AZURE_CLIENT_SECRET or else
 * AZURE_FEDERATED_TOKEN_FILE (read now), and AZURE_AUTHORITY_HOST (default
 * DC_AZURE_AUTHORITY). DC_EUSAGE naming what is missing or malformed. */
int dc_azure_app_from_env(dc_azure_app *out, dc_ctx *ctx) DC_MUST_USE;
void dc_azure_app_release(dc_azure_app *a);

/* An AAD access token for `scope`. */
int dc_azure_aad_token(dc_sec *out, dc_ctx *ctx, const dc_azure_app *app, const char *scope) DC_MUST_USE;
/* Trade an AAD access token for an ACR refresh token. */
int dc_acr_exchange(dc_sec *out, dc_ctx *ctx, const dc_acr_registry *r, const char *tenant,
		    const char *aad_token) DC_MUST_USE;

/* The "exp" claim of a JWT, decoded without verifying the signature.
 * DC_ERR (message set) when `jwt` is not a JWT with a numeric exp. */
int dc_azure_jwt_exp(time_t *out, const char *jwt) DC_MUST_USE;

#endif
