/* gchain.h -- where Google credentials come from: Application Default
 * Credentials as google-auth's default() finds them, and the CI's OIDC token.
 *
 *   dc_google_creds g = DC_GOOGLE_CREDS_INIT;
 *   err = dc_google_creds_from_env(&g, ctx);     variables and files, no network
 *   err = dc_google_creds_key(&principal, &scope, &seal, &g);  0, or 1: not cached
 *   err = dc_google_creds_token(&tok, ctx, &g, DC_GOOGLE_SCOPE);  network
 *   dc_google_creds_release(&g);
 *
 * Order:
 *   1 GOOGLE_AUTH_JSON          a service-account key's content (the classic)
 *   2 GOOGLE_APPLICATION_CREDENTIALS  a file: service_account, authorized_user
 *                               (refresh token grant) or external_account
 *                               (workload identity federation)
 *   3 the gcloud ADC file       $CLOUDSDK_CONFIG/application_default_credentials.json,
 *                               else ~/.config/gcloud/application_default_credentials.json
 *   4 GitHub Actions            GOOGLE_WORKLOAD_IDENTITY_PROVIDER
 *                               (projects/N/locations/global/workloadIdentityPools/P/providers/X)
 *                               with ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN:
 *                               the job's token (audience https://iam.googleapis.com/
 *                               + provider) is the subject token; GOOGLE_SERVICE_ACCOUNT
 *                               (optional) is impersonated. DCGEN_GOOGLE_STS_URL and
 *                               DCGEN_GOOGLE_IAM_URL move the endpoints (tests).
 *   5 the GCE metadata server   GCE_METADATA_HOST, else metadata.google.internal
 *
 * external_account (google-auth external_account.py, identity_pool.py,
 * pluggable.py): the subject token from credential_source.file (read at each
 * fetch), .url (GET with .headers) in format text or json
 * (subject_token_field_name), or .executable.command (only with
 * GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1, as google-auth requires; its
 * JSON: version 1, success, token_type, id_token or saml_response,
 * expiration_time); then an STS token exchange at token_url (form:
 * grant_type=urn:ietf:params:oauth:grant-type:token-exchange, audience,
 * scope, requested_token_type=urn:ietf:params:oauth:token-type:access_token,
 * subject_token, subject_token_type); with service_account_impersonation_url
 * the federated token then calls IAM credentials generateAccessToken.
 *
 * Cache principals: the service account's email (sealed with its key); an
 * authorized user's client id, with a digest of the refresh token in the
 * scope (sealed with the refresh token); for federation the impersonated
 * account's email, else the audience (the pool's provider), with the subject
 * token's source in the scope (the cache's own key seals). The metadata
 * server's tokens are not cached: pods with different workload identities
 * share one metadata host, and the server caches tokens itself.
 */
#ifndef DC_GCHAIN_H
#define DC_GCHAIN_H

#include "auth/google.h"
#include "auth/oidc.h"
#include "util/buf.h"
#include "util/ctx.h"

enum dc_google_kind {
	DC_GOOGLE_SA_KEY,   /* a service-account key */
	DC_GOOGLE_USER,     /* authorized_user: a refresh token */
	DC_GOOGLE_EXTERNAL, /* external_account: workload identity federation */
	DC_GOOGLE_METADATA, /* the GCE metadata server */
};

enum dc_google_subject { DC_GSUB_FILE, DC_GSUB_URL, DC_GSUB_EXEC, DC_GSUB_GHA };

typedef struct {
	enum dc_google_kind kind;
	char origin[1100];      /* "GOOGLE_APPLICATION_CREDENTIALS file 'x'" */
	dc_google_key key;      /* SA_KEY */
	/* USER */
	char *client_id;
	dc_sec client_secret, refresh_token;
	char *token_uri;        /* USER: token endpoint; EXTERNAL: the STS token_url */
	/* EXTERNAL */
	char *audience, *subject_token_type, *impersonation_url, *impersonated;
	enum dc_google_subject subject;
	char *source;           /* the file, the URL, the command */
	char **headers;         /* URL source: "Name: value", NULL-terminated (secret values) */
	char *json_field;       /* format json: the field; NULL: text */
	dc_gha gha;
	char *gha_audience;
	char *user_project;     /* workforce_pool_user_project */
	/* METADATA */
	dc_buf metadata;
	char *tried;            /* why each earlier source did not apply */
} dc_google_creds;

#define DC_GOOGLE_CREDS_INIT { .key = DC_GOOGLE_KEY_INIT, .client_secret = DC_SEC_INIT, \
			       .refresh_token = DC_SEC_INIT, .gha = DC_GHA_INIT, .metadata = DC_BUF_INIT }

int dc_google_creds_from_env(dc_google_creds *out, dc_ctx *ctx) DC_MUST_USE;
/* 1 with the key filled, 0 when the source is not cached (metadata). */
int dc_google_creds_key(dc_buf *principal, dc_buf *scope, dc_sec *seal, const dc_google_creds *g) DC_MUST_USE;
int dc_google_creds_token(dc_google_token *out, dc_ctx *ctx, const dc_google_creds *g, const char *scope) DC_MUST_USE;
/* "service account 'x' (GOOGLE_AUTH_JSON)" and the like, for -v. */
const char *dc_google_creds_describe(const dc_google_creds *g, char *buf, size_t size);
void dc_google_creds_release(dc_google_creds *g);

/* Parse a credentials file's JSON (exported for the unit tests). `origin`
 * names it in messages. DC_EUSAGE when it is no credentials file dcgen
 * can use. */
int dc_google_creds_parse(dc_google_creds *out, dc_ctx *ctx, const char *json, size_t len,
			  const char *origin) DC_MUST_USE;

#endif
