/* oidc.h -- the CI job's own OIDC token (GitHub Actions), used as the web
 * identity (AWS), the subject token (Google) or the client assertion (Azure).
 *
 *   dc_gha g = DC_GHA_INIT;
 *   if (dc_gha_from_env(&g, ctx) == 0) ...   ACTIONS_ID_TOKEN_REQUEST_URL and
 *                                            _TOKEN are both set (no network)
 *   err = dc_gha_token(&jwt, ctx, &g, "sts.amazonaws.com");
 *   dc_gha_release(&g);
 *
 * A job with `permissions: id-token: write` gets both variables. The request
 * (actions/toolkit oidc-utils.ts): GET URL&audience=AUD (the URL has a query
 * already) with Authorization: Bearer TOKEN; the reply is {"value": JWT}.
 * The request token and the JWT are dc_sec values.
 */
#ifndef DC_OIDC_H
#define DC_OIDC_H

#include "util/ctx.h"
#include "util/secret.h"

#define DC_GHA_AUDIENCE_AWS "sts.amazonaws.com"
#define DC_GHA_AUDIENCE_AZURE "api://AzureADTokenExchange"

typedef struct {
	char *url;
	dc_sec bearer;
} dc_gha;

#define DC_GHA_INIT { NULL, DC_SEC_INIT }

/* 0 when both variables are set (the URL checked: https, or http to this
 * machine); DC_ENOTFOUND (no message) when either is unset; DC_EUSAGE when
 * the URL is unfit. */
int dc_gha_from_env(dc_gha *out, dc_ctx *ctx) DC_MUST_USE;
int dc_gha_token(dc_sec *out, dc_ctx *ctx, const dc_gha *g, const char *audience) DC_MUST_USE;
void dc_gha_release(dc_gha *g);

#endif
