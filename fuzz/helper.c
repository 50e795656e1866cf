/* helper.c -- the credential helper's stdin (docker-credential-dcgen): the
 * JSON of `store` and the server URL of `erase`, each into a store in a
 * private directory, then `list`. The first byte chooses. `get` is not here:
 * after its input it resolves (requests upstream); its input is the same
 * trimmed URL `erase` reads. */
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>

#include "front/helper.h"
#include "fuzz.h"

static char dir[64];

/* The store's files, then its directory (one level: the store is flat). */
static void cleanup(void)
{
	char path[400];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_helper h = { 0 };
	dc_buf out = DC_BUF_INIT;
	dc_ctx ctx;

	if (!*dir) {
		snprintf(dir, sizeof(dir), "/tmp/dcgen-fuzz-helper-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	if (size < 1 || fuzz_ctx_init(&ctx) < 0)
		return 0;
	h.ctx = &ctx;
	h.cache_dir = (dc_buf)DC_BUF_INIT;
	h.store_dir = (dc_buf)DC_BUF_INIT;
	if (dc_buf_puts(&h.store_dir, dir) < 0)
		goto done;
	switch (data[0] % 3) {
	case 0:
		(void)!dc_helper_store(&h, (const char *)data + 1, size - 1);
		break;
	case 1:
		(void)!dc_helper_erase(&h, (const char *)data + 1, size - 1);
		break;
	default:
		if (dc_helper_store(&h, (const char *)data + 1, size - 1) == 0)
			(void)!dc_helper_list(&out, &h);
		break;
	}
done:
	dc_buf_release(&out);
	dc_buf_release(&h.cache_dir);
	dc_buf_release(&h.store_dir);
	fuzz_ctx_release(&ctx);
	return 0;
}
