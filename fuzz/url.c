/* url.c -- util/url.c: a URL from the environment or a reply (token_uri,
 * proxyEndpoint, AZURE_AUTHORITY_HOST, DOCKER_REGISTRY) checked before any
 * request, a registry host validated, the registry key of a URL. */
#include "util/buf.h"
#include "util/url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_buf host = DC_BUF_INIT;
	char *s;

	(void)dc_url_host_valid((const char *)data, size);
	if (!(s = fuzz_cstr(data, size)))
		return 0;
	(void)!dc_url_check(s, "the URL", "fix it");
	(void)dc_url_has_userinfo(s);
	if (dc_host_from_url(&host, s) == 0) {
		/* a key never carries a user name or password */
		if (strchr(host.ptr, '@') && dc_url_host_valid(host.ptr, host.len))
			abort();
	}
	dc_buf_release(&host);
	free(s);
	dc_error_clear();
	return 0;
}
