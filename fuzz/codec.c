/* codec.c -- util/codec.c, util/time.c and util/env.c's list splitter: the
 * first byte chooses base64 (the dockercfg "auth" field, key files), base64url
 * (JWT parts), the XML text lookup (AWS query replies: STS, errors), RFC 3339
 * (STS Expiration, GCE and Azure expiries) or the comma-separated list of a
 * variable (AWS_ECR_REGISTRY_IDS, DOCKER_REGISTRY, ...). */
#include "util/buf.h"
#include "util/codec.h"
#include "util/env.h"
#include "util/time.h"
#include "fuzz.h"

static const char *const tags[] = { "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "Code",
				     "Message", "a", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_buf out = DC_BUF_INIT;
	char *s = NULL;
	const char *text = (const char *)data + 1, *p, *item;
	size_t n, total;
	time_t t;
	char shown[32];

	if (size < 1)
		return 0;
	size--;
	switch (data[0] % 6) {
	case 0:
		if (dc_base64_decode(&out, text, size) == 0 && out.ptr[out.len] != '\0')
			abort();
		break;
	case 1:
		if (dc_base64url_decode(&out, text, size) == 0 && out.ptr[out.len] != '\0')
			abort();
		break;
	case 2:
		if (!(s = fuzz_cstr(data + 1, size)))
			break;
		if (dc_xml_text(&out, s, tags[(data[0] / 6) % (sizeof(tags) / sizeof(*tags))]) == 0 &&
		    strlen(out.ptr) > strlen(s))
			abort();
		break;
	case 3:
		if (!(s = fuzz_cstr(data + 1, size)))
			break;
		if (dc_time_parse_rfc3339(&t, s) == 0)
			dc_time_format(shown, sizeof(shown), t);
		break;
	case 4:
		if (!(s = fuzz_cstr(data + 1, size)))
			break;
		for (p = s, total = 0; dc_env_list_next(&p, &item, &n);) {
			if (n == 0 || item < s || item + n > s + size || (total += n) > size)
				abort();
		}
		break;
	default:
		/* round trips: what the encoders write, the decoders read back */
		if (dc_base64_encode(&out, text, size) == 0) {
			dc_buf back = DC_BUF_INIT;

			if (dc_base64_decode(&back, out.ptr, out.len) < 0 ? !fuzz_oom() :
			    back.len != size || memcmp(back.ptr, text, size))
				abort();
			dc_buf_release(&back);
		}
		dc_buf_reset(&out);
		if (dc_base64url_encode(&out, text, size) == 0) {
			dc_buf back = DC_BUF_INIT;

			if (dc_base64url_decode(&back, out.ptr, out.len) < 0 ? !fuzz_oom() :
			    back.len != size || memcmp(back.ptr, text, size))
				abort();
			dc_buf_release(&back);
		}
		break;
	}
	dc_buf_release(&out);
	free(s);
	dc_error_clear();
	return 0;
}
