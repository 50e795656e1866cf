/* fuzz.h -- what the libFuzzer targets in fuzz/ share.
 *
 *   int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
 *   {
 *       dc_ctx ctx;
 *       if (fuzz_ctx_init(&ctx) < 0) return 0;
 *       ... call the parser the program calls, on the bytes as they came ...
 *       fuzz_ctx_release(&ctx);
 *       return 0;
 *   }
 *
 * Each target is built twice: with clang's libFuzzer (DCGEN_FUZZ=ON, `make
 * fuzz`) and, in every sanitized build, with fuzz/replay.c as its main (ctest
 * fuzz/<target>: the corpus in fuzz/corpus/<target>/ replayed under ASan and
 * UBSan, so a crash on a corpus input fails `make test`). A target checks no
 * result: it asks only that nothing crashes, leaks or reads out of bounds,
 * and that what the parser promises (a NUL-terminated buffer, a cleared
 * list on error) holds.
 */
#ifndef DC_FUZZ_H
#define DC_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ctx.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_sink(enum dc_log_level level, const char *line)
{
	(void)level;
	(void)line;
}

/* Nonzero when the torture build (fuzz/torture.c) made an allocation fail
 * during this input: a target's check that assumes memory (a round trip
 * that must succeed) yields to it. Not linked elsewhere: 0. */
int fuzz_alloc_failed(void) __attribute__((weak));

static inline int fuzz_oom(void)
{
	return fuzz_alloc_failed && fuzz_alloc_failed();
}

/* A context with an empty environment, a pinned clock and a log that
 * formats (and redacts) every line, then drops it. */
static inline int fuzz_ctx_init(dc_ctx *ctx)
{
	static char *const none[] = { NULL };
	static const dc_env env = { none };

	if (dc_ctx_init(ctx, &env, fuzz_sink, DC_LOG_DEBUG) < 0)
		return -1;
	ctx->clock.pinned = 1795000000; /* 2026-11-18 */
	return 0;
}

static inline void fuzz_ctx_release(dc_ctx *ctx)
{
	dc_ctx_release(ctx);
	dc_error_clear();
}

/* The input as a NUL-terminated string (the parsers that take C strings get
 * what an HTTP body or a file read gives: text cut at the first NUL). NULL
 * when out of memory. The caller frees. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
