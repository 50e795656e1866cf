/* google_key.c -- a Google service-account key as GOOGLE_AUTH_JSON or the
 * file GOOGLE_APPLICATION_CREDENTIALS names holds it: dc_google_key_parse,
 * then, when it parses, dc_google_key_load (the PEM private key through
 * OpenSSL), and when that loads, the grant signed with it as the token
 * fetch does (dc_google_jwt_sign: RS256 through OpenSSL). */
#include "auth/google.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_google_key key;
	dc_ctx ctx;

	if (fuzz_ctx_init(&ctx) < 0)
		return 0;
	memset(&key, 0, sizeof(key));
	if (dc_google_key_parse(&key, &ctx, (const char *)data, size, "GOOGLE_AUTH_JSON") == 0) {
		if (dc_google_key_load(&key) == 0) {
			dc_sec jwt = DC_SEC_INIT;

			(void)!dc_google_jwt_sign(&jwt, ctx.redactor, &key,
						  "https://www.googleapis.com/auth/cloud-platform", dc_ctx_now(&ctx));
			dc_sec_release(&jwt);
		}
		dc_google_key_release(&key);
	}
	fuzz_ctx_release(&ctx);
	return 0;
}
