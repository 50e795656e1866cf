/* torture.c -- main() for a fuzz target's allocation-failure ("torture")
 * build, fuzz_<t>_torture: the parser's entry, as the fuzz target calls it,
 * run on every input of its corpus once per n with the n-th allocation
 * failing (tests/torture/failalloc.c, wrapped around malloc and friends:
 * dcgen's own code, jansson's and OpenSSL's through dcgen's allocators, and
 * libyaml, linked in statically for this). For each input it runs n = 1, 2,
 * ... until a run makes fewer than n allocations (none failed: the sweep is
 * complete). Each input runs once unfailed first, so the libraries' one-time
 * set-up is done (the binary's torture, tests/torture/torture.py, fails
 * those); after a failed run that left the heap larger, LeakSanitizer
 * looks for what it left.
 *
 *   fuzz_model_torture [-r K:N] CORPUS_DIR_OR_FILE...
 *
 * Inputs run in name order. Before each run, "K N RUNS name" (input index,
 * n, runs so far) is written to the file TORTURE_STATE names, if set, so
 * that the driver (tests/torture/parsers.py) knows where a crash happened
 * and can go on after it with -r K:N+1. With TORTURE_ONE set, only the run
 * -r names is made (the driver repeats a fault so, with whole stacks).
 * Exit 0: every n of every input ran without a sanitizer report; 86 (the
 * sanitizers' exit code in the driver) on a leak; 1 when an input cannot be
 * read or still had allocations left at TORTURE_MAX_N.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void failalloc_arm(long n);
long failalloc_count(void);
int __lsan_do_recoverable_leak_check(void);
size_t __sanitizer_get_current_allocated_bytes(void);

int fuzz_alloc_failed(void);

static long armed; /* the allocation made to fail in this run, 0: none */

int fuzz_alloc_failed(void)
{
	return armed && failalloc_count() >= armed;
}

#define TORTURE_MAX_N 1000000L /* a parser making more allocations is a finding too */

struct input {
	char *path;
	uint8_t *data;
	size_t size;
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct input *)a)->path, ((const struct input *)b)->path);
}

static int load(struct input *in)
{
	FILE *f = fopen(in->path, "rb");
	long n;
	int ok = 0;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (in->data = malloc(n ? (size_t)n : 1)) && fread(in->data, 1, (size_t)n, f) == (size_t)n) {
		in->size = (size_t)n;
		ok = 1;
	}
	fclose(f);
	return ok ? 0 : -1;
}

static int add(struct input **list, size_t *len, const char *path)
{
	struct input *grown = realloc(*list, (*len + 1) * sizeof(**list));

	if (!grown)
		return -1;
	*list = grown;
	memset(&grown[*len], 0, sizeof(grown[*len]));
	if (!(grown[*len].path = strdup(path)))
		return -1;
	(*len)++;
	return 0;
}

static int collect(struct input **list, size_t *len, const char *arg)
{
	struct stat st;
	struct dirent *e;
	DIR *d;
	size_t before = *len;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "torture: no corpus '%s'\n", arg);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return add(list, len, arg);
	if (!(d = opendir(arg)))
		return -1;
	while ((e = readdir(d))) {
		char path[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", arg, e->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && add(list, len, path) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (*len == before) {
		fprintf(stderr, "torture: corpus '%s' is empty\n", arg);
		return -1;
	}
	return 0;
}

static void mark(int fd, size_t k, long n, long runs, const char *path)
{
	char line[4200];
	int len;

	if (fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%zu %ld %ld %s\n", k, n, runs, path);
	if (len > 0 && (size_t)len < sizeof(line)) {
		(void)!ftruncate(fd, 0);
		(void)!pwrite(fd, line, (size_t)len, 0);
	}
}

/* One call of the entry on the input as the fuzz target gets it (a copy of
 * exactly its size, so that ASan sees a read past the end), allocation n
 * failing (0: none). The allocations it made; -1 when the copy could not be
 * made. */
static long run_one(const struct input *in, long n)
{
	uint8_t *copy = malloc(in->size ? in->size : 1);
	long made;

	if (!copy)
		return -1;
	memcpy(copy, in->data, in->size);
	failalloc_arm(armed = n);
	LLVMFuzzerTestOneInput(copy, in->size);
	made = failalloc_count();
	failalloc_arm(armed = 0);
	free(copy);
	return made;
}

int main(int argc, char **argv)
{
	const char *state = getenv("TORTURE_STATE");
	int one = getenv("TORTURE_ONE") != NULL; /* only the run -r names */
	struct input *inputs = NULL;
	size_t count = 0, k, from_k = 0;
	long from_n = 1, runs = 0, most = 0;
	int i = 1, fd = -1, failed = 0;

	dc_secret_install_allocators();
	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		if (sscanf(argv[2], "%zu:%ld", &from_k, &from_n) != 2 || from_n < 1) {
			fprintf(stderr, "torture: -r wants K:N\n");
			return 1;
		}
		i = 3;
	}
	for (; i < argc; i++)
		if (collect(&inputs, &count, argv[i]) < 0)
			return 1;
	if (!count) {
		fprintf(stderr, "usage: %s [-r K:N] CORPUS...\n", argv[0]);
		return 1;
	}
	qsort(inputs, count, sizeof(*inputs), by_path);
	if (state && (fd = open(state, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		perror(state);
		return 1;
	}
	for (k = from_k; k < count; k++) {
		struct input *in = &inputs[k];
		long n, made = 0;

		if (load(in) < 0) {
			fprintf(stderr, "torture: cannot read '%s'\n", in->path);
			failed = 1;
			continue;
		}
		mark(fd, k, 0, runs, in->path);
		if (run_one(in, 0) < 0) /* the libraries' one-time set-up, unfailed */
			return 1;
		for (n = k == from_k ? from_n : 1;; n++) {
			size_t before = __sanitizer_get_current_allocated_bytes();

			if (n >= TORTURE_MAX_N) {
				fprintf(stderr, "torture: %s still allocates after %ld allocations\n", in->path, n);
				failed = 1;
				break;
			}
			mark(fd, k, n, runs, in->path);
			if ((made = run_one(in, n)) < 0)
				return 1;
			runs++;
			if (made < n)
				break; /* nothing failed: every allocation of this input was */
			/* the full search (it stops the process) only when the heap grew */
			if (__sanitizer_get_current_allocated_bytes() > before && __lsan_do_recoverable_leak_check()) {
				fprintf(stderr, "torture: leak with allocation %ld of %s failing\n", n, in->path);
				fflush(NULL);
				_exit(86); /* not again at exit */
			}
			if (one)
				break;
		}
		if (one) {
			free(in->data);
			break;
		}
		if (made > most)
			most = made;
		free(in->data);
		in->data = NULL;
	}
	for (k = 0; k < count; k++)
		free(inputs[k].path);
	free(inputs);
	if (fd >= 0)
		close(fd);
	printf("torture: %zu inputs, %ld runs, at most %ld allocations per input%s\n", count - from_k, runs, most,
	       failed ? ", FAILED" : "");
	return failed;
}
