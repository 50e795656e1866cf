/* google_key.c -- a Google service-account key as GOOGLE_AUTH_JSON or the
 * file GOOGLE_APPLICATION_CREDENTIALS names holds it: dc_google_key_parse,
 * then, when it parses, dc_google_key_load (the PEM private key through
 * OpenSSL). */
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
		(void)!dc_google_key_load(&key);
		dc_google_key_release(&key);
	}
	fuzz_ctx_release(&ctx);
	return 0;
}
