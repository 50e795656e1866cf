/* ini.c -- auth/ini.c: ~/.aws/config and ~/.aws/credentials as the AWS chain
 * reads them (dc_ini_parse), then the lookups the chain makes. */
#include "auth/ini.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sections[] = { "default", "profile dev", "dev", "sso-session s", "" };
	static const char *const keys[] = { "role_arn", "source_profile", "credential_process", "aws_access_key_id",
					    "region", "" };
	dc_ini *ini = NULL;
	size_t i, j;

	if (dc_ini_parse(&ini, (const char *)data, size) == 0) {
		for (i = 0; i < sizeof(sections) / sizeof(*sections); i++) {
			(void)dc_ini_has_section(ini, sections[i]);
			for (j = 0; j < sizeof(keys) / sizeof(*keys); j++)
				(void)dc_ini_get(ini, sections[i], keys[j]);
		}
		dc_ini_free(ini);
	}
	dc_error_clear();
	return 0;
}
