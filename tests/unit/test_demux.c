/* test_demux.c -- the engine's multiplexed stdout/stderr stream, split at
 * every possible point, and raw TTY output. */
#include "runner/engine.h"
#include "t.h"
#include "util/buf.h"

typedef struct {
	dc_buf text;
} seen;

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	seen *s = ctx;

	dc_buf_printf(&s->text, "%d:%.*s|", stream, (int)len, line);
}

static size_t frame(unsigned char *out, int stream, const char *data)
{
	size_t n = strlen(data);

	out[0] = (unsigned char)stream;
	out[1] = out[2] = out[3] = 0;
	out[4] = (unsigned char)(n >> 24);
	out[5] = (unsigned char)(n >> 16);
	out[6] = (unsigned char)(n >> 8);
	out[7] = (unsigned char)n;
	memcpy(out + 8, data, n);
	return 8 + n;
}

static void test_split_everywhere(void)
{
	unsigned char buf[256];
	size_t n = 0, cut;

	n += frame(buf + n, 1, "hello wo");
	n += frame(buf + n, 2, "err one\nerr ");
	n += frame(buf + n, 1, "rld\r\nsecond\n");
	n += frame(buf + n, 2, "two");
	for (cut = 0; cut <= n; cut++) {
		dc_engine_demux d;
		seen s = { DC_BUF_INIT };

		dc_engine_demux_init(&d, 0, on_line, &s);
		CHECK_EQ_INT(dc_engine_demux_feed(&d, (const char *)buf, cut), 0);
		CHECK_EQ_INT(dc_engine_demux_feed(&d, (const char *)buf + cut, n - cut), 0);
		dc_engine_demux_flush(&d);
		CHECK_EQ_STR(s.text.ptr, "2:err one|1:hello world|1:second|2:err two|");
		dc_engine_demux_release(&d);
		dc_buf_release(&s.text);
	}
}

static void test_raw_and_bad(void)
{
	dc_engine_demux d;
	seen s = { DC_BUF_INIT };
	const unsigned char bad[8] = { 7, 0, 0, 0, 0, 0, 0, 1 };

	dc_engine_demux_init(&d, 1, on_line, &s);
	CHECK_EQ_INT(dc_engine_demux_feed(&d, "a\nb", 3), 0);
	dc_engine_demux_flush(&d);
	CHECK_EQ_STR(s.text.ptr, "1:a|1:b|");
	dc_engine_demux_release(&d);
	dc_engine_demux_init(&d, 0, on_line, &s);
	CHECK(dc_engine_demux_feed(&d, (const char *)bad, 8) < 0);
	dc_engine_demux_release(&d);
	dc_buf_release(&s.text);
}

static void test_long_line(void)
{
	dc_engine_demux d;
	seen s = { DC_BUF_INIT };
	static char big[70000];

	memset(big, 'x', sizeof(big));
	dc_engine_demux_init(&d, 1, on_line, &s);
	CHECK_EQ_INT(dc_engine_demux_feed(&d, big, sizeof(big)), 0);
	dc_engine_demux_flush(&d);
	/* 64 KiB, then the rest: "1:" + 65536 + "|" + "1:" + 4464 + "|" */
	CHECK_EQ_INT(s.text.len, 2 + 65536 + 1 + 2 + (70000 - 65536) + 1);
	dc_engine_demux_release(&d);
	dc_buf_release(&s.text);
}

int main(void)
{
	T_RUN(test_split_everywhere);
	T_RUN(test_raw_and_bad);
	T_RUN(test_long_line);
	return t_done();
}
