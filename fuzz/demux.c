/* demux.c -- runner/engine.c's stream demultiplexer: the bytes of an
 * attached container's stdout/stderr as the Engine sends them (8-byte frame
 * headers, or raw with a TTY), fed in the pieces the first bytes choose, as
 * a socket may split them. */
#include "runner/engine.h"
#include "fuzz.h"

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	size_t *total = ctx;

	if (stream < 1 || stream > 2 || memchr(line, '\n', len) || line[len] != '\0')
		abort();
	*total += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_engine_demux d;
	size_t total = 0, off, step, chunk;

	if (size < 2)
		return 0;
	dc_engine_demux_init(&d, data[0] & 1, on_line, &total);
	step = (size_t)data[1] + 1;
	for (off = 2; off < size; off += chunk) {
		chunk = size - off < step ? size - off : step;
		if (dc_engine_demux_feed(&d, (const char *)data + off, chunk) < 0)
			break;
	}
	dc_engine_demux_flush(&d);
	dc_engine_demux_release(&d);
	if (total > size)
		abort();
	dc_error_clear();
	return 0;
}
