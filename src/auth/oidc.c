/* oidc.c -- see oidc.h. */
#include "auth/oidc.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/url.h"

int dc_gha_from_env(dc_gha *out, dc_ctx *ctx)
{
	const char *url = dc_env_get(ctx->env, "ACTIONS_ID_TOKEN_REQUEST_URL");
	const char *tok = dc_env_get(ctx->env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN");
	int err;

	dc_gha_release(out);
	if ((err = dc_sec_set(&out->bearer, ctx->redactor, tok)) < 0)
		return err;
	if (!url || !tok) {
		dc_sec_release(&out->bearer);
		return DC_ENOTFOUND;
	}
	if ((err = dc_url_check(url, "ACTIONS_ID_TOKEN_REQUEST_URL", "it is GitHub's; do not set it yourself")) < 0 ||
	    (strpbrk(tok, "\r\n") && (err = dc_error_set(DC_EUSAGE, "ACTIONS_ID_TOKEN_REQUEST_TOKEN has a line break in it; it is GitHub's, do not set it yourself")) < 0)) {
		dc_gha_release(out);
		return err;
	}
	if (!(out->url = strdup(url))) {
		dc_gha_release(out);
		return dc_error_nomem();
	}
	return 0;
}

int dc_gha_token(dc_sec *out, dc_ctx *ctx, const dc_gha *g, const char *audience)
{
	dc_buf url = DC_BUF_INIT, auth = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	json_t *doc = NULL;
	const char *headers[3] = { NULL, "Accept: application/json", NULL };
	const char *v;
	char why[200];
	int err;

	dc_buf_init(&auth, 0, DC_BUF_SECRET);
	dc_buf_printf(&url, "%s%saudience=", g->url, strchr(g->url, '?') ? "&" : "?");
	dc_buf_printf(&auth, "Authorization: Bearer %s", g->bearer.ptr);
	if (dc_http_form_escape(&url, audience) < 0 || dc_buf_failed(&url) || dc_buf_failed(&auth)) {
		err = dc_error_nomem();
		goto done;
	}
	headers[0] = auth.ptr;
	if ((err = dc_ctx_http(ctx)) < 0 ||
	    (err = dc_http_send(ctx->http, &resp, &(dc_http_req){ .method = "GET", .url = url.ptr, .headers = headers,
								   .what = "the GitHub Actions OIDC endpoint" })) < 0)
		goto done;
	if (resp.status != 200) {
		if ((err = dc_http_status_error(&resp, "the GitHub Actions OIDC endpoint", g->url, NULL)) == 0) {
			dc_log_clip(ctx->redactor, why, sizeof(why), resp.body.ptr);
			err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH,
					    "the GitHub Actions OIDC endpoint answered HTTP %ld (%s); give the job `permissions: id-token: write`",
					    resp.status, why);
			dc_error_fields(resp.status, NULL, -1);
		}
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, resp.body.ptr, resp.body.len, "the GitHub Actions OIDC endpoint")) < 0)
		goto done;
	if (!(v = dc_json_str(doc, "value")) || !*v || strpbrk(v, "\r\n")) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "the GitHub Actions OIDC endpoint answered without an ID token ('value')");
		goto done;
	}
	err = dc_sec_set(out, ctx->redactor, v);
	dc_log_debug(&ctx->log, "got the GitHub Actions OIDC token for audience '%s'", audience);
done:
	json_decref(doc);
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	dc_buf_release(&auth);
	return err;
}

void dc_gha_release(dc_gha *g)
{
	free(g->url);
	g->url = NULL;
	dc_sec_release(&g->bearer);
}
