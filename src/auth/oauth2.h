/* oauth2.h -- what the Google and Azure AD token calls share: a form POST to
 * a token endpoint, the token in a 200 reply, the reason in an error reply.
 *
 *   dc_buf form; dc_buf_init(&form, 0, DC_BUF_SECRET);
 *   err = dc_oauth2_form_add(&form, "grant_type", "client_credentials");
 *   err = dc_oauth2_post(&resp, ctx, url, &form, "Azure AD");
 *   if (resp.status == 200)
 *       err = dc_oauth2_token(&tok, ctx, &resp, "access_token", "Azure AD", url);
 *   else
 *       dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx->redactor, &resp);
 *   dc_oauth2_token_release(&tok);
 *
 * The token is a dc_sec (registered with ctx's redactor as it is read).
 * Replies are parsed with duplicate keys refused; messages never quote a
 * reply except through dc_log_clip, so a cut never leaves a secret's prefix.
 */
#ifndef DC_OAUTH2_H
#define DC_OAUTH2_H

#include "util/buf.h"
#include "util/ctx.h"
#include "util/http.h"
#include "util/secret.h"

enum dc_oauth2_exp {
	DC_OAUTH2_EXP_NONE,  /* no expires_in */
	DC_OAUTH2_EXP_INT,   /* an integer: in expires_in */
	DC_OAUTH2_EXP_OTHER, /* something else (a string, a fraction) */
};

typedef struct {
	dc_sec token;
	enum dc_oauth2_exp exp_kind;
	long long expires_in; /* seconds, as given (may be <= 0 or huge) */
} dc_oauth2_token_t;

#define DC_OAUTH2_TOKEN_INIT { DC_SEC_INIT, DC_OAUTH2_EXP_NONE, 0 }

/* Append "name=value" (value percent-encoded), '&'-separated. */
int dc_oauth2_form_add(dc_buf *form, const char *name, const char *value) DC_MUST_USE;
/* POST the form (Accept: application/json). 0 when an answer came back. */
int dc_oauth2_post(dc_http_resp *resp, dc_ctx *ctx, const char *url, const dc_buf *form,
		   const char *what) DC_MUST_USE;
/* The string member `field` of a JSON reply, and its expires_in. DC_ERR
 * (class DC_ECLASS_REPLY) when the reply is not a JSON object or lacks it. */
int dc_oauth2_token(dc_oauth2_token_t *out, dc_ctx *ctx, const dc_http_resp *resp, const char *field,
		    const char *what, const char *url) DC_MUST_USE;
void dc_oauth2_token_release(dc_oauth2_token_t *t);

/* "code: description" of an OAuth ({"error", "error_description"}) or a
 * registry ({"errors": [{"code", "message"}]}) error reply into `why`, and the
 * code alone into `code` ("" when none). Both redacted and clipped. */
void dc_oauth2_reason(char *why, size_t size, char *code, size_t code_size, dc_redactor *r,
		      const dc_http_resp *resp);

#endif
