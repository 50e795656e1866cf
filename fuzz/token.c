/* token.c -- OAuth token replies (Google's token endpoint, Azure AD, the ACR
 * exchange: dc_oauth2_token, and dc_oauth2_reason for their error replies)
 * and the JWT exp reader (dc_azure_jwt_exp, on an ACR refresh token). The
 * first byte chooses. */
#include "auth/azure.h"
#include "auth/oauth2.h"
#include "fuzz.h"

static const char *const fields[] = { "access_token", "refresh_token" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_oauth2_token_t tok = DC_OAUTH2_TOKEN_INIT;
	dc_ctx ctx;
	char why[256], code[64];
	char *s = NULL;
	time_t exp;

	if (size < 1 || fuzz_ctx_init(&ctx) < 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
	case 1:
		resp.status = data[0] % 3 ? 400 : 200;
		if (dc_buf_put(&resp.body, data + 1, size - 1) < 0)
			break;
		if (resp.status == 200) {
			if (dc_oauth2_token(&tok, &ctx, &resp, fields[(data[0] / 3) % 2], "Azure AD",
					    "https://login.example/token") == 0 && !tok.token.ptr)
				abort();
		} else {
			dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx.redactor, &resp);
		}
		break;
	default:
		if ((s = fuzz_cstr(data + 1, size - 1)))
			(void)!dc_azure_jwt_exp(&exp, s);
		break;
	}
	free(s);
	dc_oauth2_token_release(&tok);
	dc_http_resp_release(&resp);
	fuzz_ctx_release(&ctx);
	return 0;
}
