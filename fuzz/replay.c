/* replay.c -- main() for a fuzz target built without libFuzzer (gcc, the
 * sanitized test build): runs LLVMFuzzerTestOneInput once on every file of
 * the directories (or files) named, as `TARGET -runs=0 DIR` would. A crash
 * is the sanitizer's; exit 1 when a directory is missing or holds no input
 * (a corpus that vanished must not pass).
 *
 *   fuzz_cache_replay fuzz/corpus/cache
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	long n;
	int ok = 0;

	if (!f)
		return 0;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (data = malloc((size_t)n + 1)) && fread(data, 1, (size_t)n, f) == (size_t)n) {
		/* a copy of exactly n bytes: ASan sees a read past the input */
		uint8_t *copy = malloc(n ? (size_t)n : 1);

		if (copy) {
			memcpy(copy, data, (size_t)n);
			LLVMFuzzerTestOneInput(copy, (size_t)n);
			free(copy);
			ok = 1;
		}
	}
	free(data);
	fclose(f);
	if (!ok)
		fprintf(stderr, "replay: cannot read '%s'\n", path);
	return ok;
}

int main(int argc, char **argv)
{
	int i, failed = 0;
	size_t total = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;
		size_t here = 0;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: no corpus '%s'\n", argv[i]);
			failed = 1;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed |= !run_file(argv[i]);
			total++;
			continue;
		}
		if (!(d = opendir(argv[i]))) {
			fprintf(stderr, "replay: cannot open '%s'\n", argv[i]);
			failed = 1;
			continue;
		}
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
				continue;
			failed |= !run_file(path);
			here++;
		}
		closedir(d);
		if (!here) {
			fprintf(stderr, "replay: corpus '%s' is empty\n", argv[i]);
			failed = 1;
		}
		total += here;
	}
	printf("replay: %zu inputs, %s\n", total, failed ? "FAILED" : "no crash");
	return failed;
}
