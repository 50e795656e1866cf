/* dockerignore.c -- runner/dockerignore.c: a build context's .dockerignore
 * (dc_dockerignore_parse), then the questions the context walk asks of it
 * for a few paths. */
#include "runner/dockerignore.h"
#include "fuzz.h"

static const char *const paths[] = { "Dockerfile", "src/a.c", "src", "a/b/c/d.txt", ".git/HEAD", "node_modules",
				     "x", "a b", "[", "**", "-", ".dockerignore" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_dockerignore di = DC_DOCKERIGNORE_INIT;
	size_t i;

	if (dc_dockerignore_parse(&di, (const char *)data, size) == 0 && dc_dockerignore_keep(&di, "Dockerfile") == 0) {
		for (i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
			(void)dc_dockerignore_excluded(&di, paths[i]);
			(void)dc_dockerignore_walk_excluded_dir(&di, paths[i]);
		}
		if (dc_dockerignore_excluded(&di, "Dockerfile"))
			abort(); /* kept files are always sent */
	}
	dc_dockerignore_release(&di);
	dc_error_clear();
	return 0;
}
