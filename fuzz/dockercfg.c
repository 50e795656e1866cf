/* dockercfg.c -- runner/generator.c: the dockercfg a third-party generator
 * image wrote (either shape: config.json's {"auths": ...} or the legacy
 * .dockercfg), picked for a registry as the steps runner does
 * (dc_dockercfg_pick), and registry names normalised. The first byte chooses
 * the registry asked for (none: every entry). */
#include "runner/generator.h"
#include "fuzz.h"

static const char *const registries[] = { NULL, "123456789012.dkr.ecr.us-east-1.amazonaws.com", "docker.io",
					  "https://index.docker.io/v1/", "localhost:5000", "gcr.io" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_gen_result res = DC_GEN_RESULT_INIT;
	dc_buf norm = DC_BUF_INIT;
	char *s;

	if (size < 1)
		return 0;
	(void)!dc_dockercfg_pick(&res, (const char *)data + 1, size - 1,
				 registries[data[0] % (sizeof(registries) / sizeof(*registries))],
				 "dockercfg generator 'gen'");
	dc_gen_result_release(&res);
	if ((s = fuzz_cstr(data + 1, size - 1)) && size - 1 < 300)
		(void)!dc_registry_normalise(&norm, s);
	free(s);
	dc_buf_release(&norm);
	dc_error_clear();
	return 0;
}
