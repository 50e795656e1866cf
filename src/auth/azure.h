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

#include "auth/oidc.h"
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

/* Where the Azure AD token comes from, in DefaultAzureCredential's order
 * (environment, workload identity, managed identity), with the CI's OIDC
 * token between the last two. */
enum dc_azure_kind {
	DC_AZURE_SECRET,      /* AZURE_CLIENT_SECRET */
	DC_AZURE_CERT,        /* AZURE_CLIENT_CERTIFICATE_PATH: a signed client assertion */
	DC_AZURE_FEDERATED,   /* AZURE_FEDERATED_TOKEN_FILE: workload identity */
	DC_AZURE_GHA,         /* the GitHub Actions OIDC token as the client assertion */
	DC_AZURE_MI_APPSERVICE, /* IDENTITY_ENDPOINT + IDENTITY_HEADER */
	DC_AZURE_MI_IMDS,     /* the VM's managed identity */
};

typedef struct {
	enum dc_azure_kind kind;
	char *authority;        /* URL (path kept) without trailing slash */
	char *tenant;           /* NULL for a managed identity (the token's tid says) */
	char *client_id;        /* managed identity: a user-assigned one, or NULL */
	dc_sec secret;          /* AZURE_CLIENT_SECRET, or empty */
	dc_sec assertion;       /* the federated token (workload identity), or empty */
	const char *token_file; /* borrowed from the environment, for messages */
	dc_sec cert;            /* the certificate file's bytes (PEM or PKCS#12) */
	dc_sec cert_password;   /* AZURE_CLIENT_CERTIFICATE_PASSWORD, or empty */
	char *cert_path;
	dc_gha gha;             /* DC_AZURE_GHA */
	char *mi_url;           /* the managed identity endpoint */
	dc_sec mi_header;       /* IDENTITY_HEADER */
	char *tried;            /* why each earlier source did not apply */
} dc_azure_app;

#define DC_AZURE_APP_INIT { DC_AZURE_SECRET, NULL, NULL, NULL, DC_SEC_INIT, DC_SEC_INIT, NULL, DC_SEC_INIT, \
			    DC_SEC_INIT, NULL, DC_GHA_INIT, NULL, DC_SEC_INIT, NULL }
#define DC_ACR_RESOURCE "https://containerregistry.azure.net"

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

/* The chain, from the environment, no network:
 *   1 AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
 *   2 ... + AZURE_CLIENT_CERTIFICATE_PATH (PEM with key and certificate, or
 *     PKCS#12; AZURE_CLIENT_CERTIFICATE_PASSWORD; read now)
 *   3 ... + AZURE_FEDERATED_TOKEN_FILE (read now)
 *   4 ... + the GitHub Actions OIDC token (audience api://AzureADTokenExchange)
 *   5 managed identity: IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service),
 *     else IMDS at AZURE_POD_IDENTITY_AUTHORITY_HOST or http://169.254.169.254
 *     (AZURE_CLIENT_ID picks a user-assigned identity)
 * AZURE_AUTHORITY_HOST (default DC_AZURE_AUTHORITY) for 1-4. DC_EUSAGE naming
 * what is missing or malformed (a secret without AZURE_CLIENT_ID, say). */
int dc_azure_app_from_env(dc_azure_app *out, dc_ctx *ctx) DC_MUST_USE;
void dc_azure_app_release(dc_azure_app *a);
/* "service principal 'ID' in tenant 'T' (client secret)" and the like. */
const char *dc_azure_app_describe(const dc_azure_app *app, char *buf, size_t size);

/* An AAD access token for `scope`, from whichever source `app` is (a
 * managed identity is asked for the scope's resource). `tenant` (may be
 * NULL) gets the token's tenant: the configured one, or a managed
 * identity's token's tid claim. Managed identity through IMDS: one attempt,
 * 1 s; when it does not answer, DC_EUSAGE naming every source tried. */
int dc_azure_token(dc_sec *out, dc_buf *tenant, dc_ctx *ctx, const dc_azure_app *app, const char *scope) DC_MUST_USE;
/* The client credentials grant of sources 1-4. */
int dc_azure_aad_token(dc_sec *out, dc_ctx *ctx, const dc_azure_app *app, const char *scope) DC_MUST_USE;
/* The signed client assertion of a certificate (RS256, header x5t = the
 * certificate's SHA-1 thumbprint; aud the token endpoint, iss = sub = the
 * client id, jti, nbf, exp 10 min). DC_EUSAGE when the file holds no usable
 * key and certificate. */
int dc_azure_cert_assertion(dc_sec *out, dc_ctx *ctx, const dc_azure_app *app, const char *token_url) DC_MUST_USE;
/* Trade an AAD access token for an ACR refresh token. */
int dc_acr_exchange(dc_sec *out, dc_ctx *ctx, const dc_acr_registry *r, const char *tenant,
		    const char *aad_token) DC_MUST_USE;

/* The "exp" claim of a JWT, decoded without verifying the signature.
 * DC_ERR (message set) when `jwt` is not a JWT with a numeric exp. */
int dc_azure_jwt_exp(time_t *out, const char *jwt) DC_MUST_USE;
/* A string claim of a JWT, read not verified (DC_ERR when absent). */
int dc_azure_jwt_claim(dc_buf *out, const char *jwt, const char *claim) DC_MUST_USE;

#endif
