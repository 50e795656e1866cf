/* model.c -- runner/model.c: codeship-services.yml and codeship-steps.yml as
 * `dcgen steps` loads them (dc_model_load, from files in a private
 * directory). The first byte chooses services only or both; the input is
 * split into the two files at a line "#steps" (a YAML comment). */
#include <stdio.h>
#include <unistd.h>

#include "runner/model.h"
#include "fuzz.h"

static char dir[64];

static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/codeship-services.yml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/codeship-steps.yml", dir);
	unlink(path);
	rmdir(dir);
}

static int put(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "wb")))
		return -1;
	ok = fwrite(data, 1, size, f) == size;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char marker[] = "\n#steps\n";
	static const char steps[] = "- service: app\n  command: true\n";
	dc_model m = DC_MODEL_INIT;
	const uint8_t *split;
	size_t first;
	int both;

	if (!*dir) {
		snprintf(dir, sizeof(dir), "/tmp/dcgen-fuzz-model-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	both = data[0] & 1;
	data++;
	size--;
	split = memmem(data, size, marker, sizeof(marker) - 1);
	first = split ? (size_t)(split - data) : size;
	if (put("codeship-services.yml", data, first) < 0)
		return 0;
	if (both && (split ? put("codeship-steps.yml", split + sizeof(marker) - 1,
				 size - first - (sizeof(marker) - 1))
			   : put("codeship-steps.yml", (const uint8_t *)steps, sizeof(steps) - 1)) < 0)
		return 0;
	(void)!dc_model_load(&m, dir, NULL, both ? "codeship-steps.yml" : NULL, both);
	(void)dc_model_service(&m, "app");
	dc_model_release(&m);
	dc_error_clear();
	return 0;
}
