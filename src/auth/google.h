/* google.h -- Google OAuth 2.0 for service accounts: key, RS256 JWT, tokens,
 * and the GCE metadata server.
 *
 *   dc_google_key k = DC_GOOGLE_KEY_INIT;
 *   err = dc_google_key_from_env(&k, ctx);   GOOGLE_AUTH_JSON or
 *                                            GOOGLE_APPLICATION_CREDENTIALS (read
 *                                            once); DC_ENOTFOUND when neither
 *   dc_google_token t = DC_GOOGLE_TOKEN_INIT;
 *   err = dc_google_token_fetch(&t, ctx, &k, DC_GOOGLE_SCOPE);   JWT bearer grant
 *   ... or, with no key:
 *   err = dc_google_metadata_base(&base, env);                  checked, no network
 *   err = dc_google_metadata_token(&t, ctx, base.ptr);
 *   dc_google_token_release(&t); dc_google_key_release(&k);   wipe secrets
 *
 * Parsing a key checks its JSON and fields but does not load the PEM key:
 * that is OpenSSL's costly machinery, done when signing (a cache hit never
 * signs). dc_google_key_load() checks it on its own (DC_EUSAGE).
 *
 * The grant (RFC 7523, as Google documents it for service accounts): an RS256
 * JWT {iss: client_email, scope, aud: token_uri, iat: now, exp: iat + 3600}
 * signed with the key's private_key is POSTed as
 * grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT to the
 * key's own token_uri (always honoured: private endpoints, tests).
 *
 * The private key, the signed assertion and every access token are dc_sec
 * values, registered with ctx's redactor as soon as they exist. Key problems
 * are DC_EUSAGE; upstream problems are DC_ERR.
 */
#ifndef DC_GOOGLE_H
#define DC_GOOGLE_H

#include <time.h>

#include "util/buf.h"
#include "util/ctx.h"
#include "util/secret.h"

#define DC_GOOGLE_SCOPE "https://www.googleapis.com/auth/cloud-platform"
#define DC_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"
#define DC_GOOGLE_METADATA_HOST "metadata.google.internal"

typedef struct {
	char *client_email;
	dc_sec private_key;   /* PEM text */
	char *private_key_id; /* may be NULL */
	char *project_id;     /* may be NULL */
	char *token_uri;
	char origin[160];     /* "GOOGLE_AUTH_JSON" or "GOOGLE_APPLICATION_CREDENTIALS file '...'" */
} dc_google_key;

#define DC_GOOGLE_KEY_INIT { NULL, DC_SEC_INIT, NULL, NULL, NULL, "" }

typedef struct {
	dc_sec access_token;
	time_t expires_at;    /* 0 when unknown */
} dc_google_token;

#define DC_GOOGLE_TOKEN_INIT { DC_SEC_INIT, 0 }

/* Parse a service-account key (its JSON text; a UTF-8 BOM is skipped).
 * `origin` names where it came from in messages. Checks that client_email
 * and a PEM private_key are there and that token_uri (default
 * DC_GOOGLE_TOKEN_URI) is https, or http to this machine, without a user
 * name. DC_EUSAGE on anything wrong (with a hint when the text looks like a
 * path or base64); the message never quotes the key. */
int dc_google_key_parse(dc_google_key *out, dc_ctx *ctx, const char *json, size_t len,
			const char *origin) DC_MUST_USE;
/* GOOGLE_AUTH_JSON (the content), else GOOGLE_APPLICATION_CREDENTIALS (a path).
 * DC_ENOTFOUND (no message) when neither is set. */
int dc_google_key_from_env(dc_google_key *out, dc_ctx *ctx) DC_MUST_USE;
/* Load the PEM key: 0, or DC_EUSAGE when it is not an unencrypted RSA key. */
int dc_google_key_load(const dc_google_key *k) DC_MUST_USE;
void dc_google_key_release(dc_google_key *k);

/* The signed assertion "header.claims.signature" (base64url) for `scope`,
 * issued at `now`, into `out` (registered with `r`). */
int dc_google_jwt_sign(dc_sec *out, dc_redactor *r, const dc_google_key *k, const char *scope,
		       time_t now) DC_MUST_USE;

/* Exchange a signed assertion at the key's token_uri. DC_ERR with the
 * endpoint's reason (invalid_grant: ...) when it refuses (class
 * DC_ECLASS_AUTH, upstream code set). */
int dc_google_token_fetch(dc_google_token *out, dc_ctx *ctx, const dc_google_key *k,
			  const char *scope) DC_MUST_USE;

/* "http://HOST" of the metadata server: GCE_METADATA_HOST ("host[:port]" as
 * Google's libraries read it; "http://" in front is tolerated), else
 * DC_GOOGLE_METADATA_HOST. DC_EUSAGE when it is not a host[:port]. */
int dc_google_metadata_base(dc_buf *out, const dc_env *env) DC_MUST_USE;
/* The default service account's token from the metadata server at `base`
 * (plain http, header Metadata-Flavor: Google). Short timeouts unless
 * DCGEN_TIMEOUT or DCGEN_CONNECT_TIMEOUT say otherwise, so a machine
 * without one fails fast. */
int dc_google_metadata_token(dc_google_token *out, dc_ctx *ctx, const char *base) DC_MUST_USE;
/* A metadata value as text, e.g. "instance/service-accounts/default/email" or
 * "project/project-id" (relative to /computeMetadata/v1/). */
int dc_google_metadata_get(dc_buf *out, dc_ctx *ctx, const char *base, const char *path) DC_MUST_USE;

void dc_google_token_release(dc_google_token *t);

/* The access_token and expires_in of a 200 reply of a token endpoint. */
int dc_google_take_token(dc_google_token *out, dc_ctx *ctx, const dc_http_resp *r, const char *what,
			 const char *url) DC_MUST_USE;

#endif
