/* test_log.c -- util/log: levels, and secrets never reaching a line. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util/log.h"

#define MAX_LINES 16

static char *lines[MAX_LINES];
static enum dc_log_level levels[MAX_LINES];
static int nlines;

static void capture(enum dc_log_level level, const char *line)
{
	if (nlines < MAX_LINES) {
		levels[nlines] = level;
		lines[nlines++] = strdup(line);
	}
}

static void forget(void)
{
	int i;

	for (i = 0; i < nlines; i++)
		free(lines[i]);
	nlines = 0;
}

static const char *last_line(void)
{
	return nlines ? lines[nlines - 1] : NULL;
}

static void test_levels(void)
{
	dc_log_set_sink(NULL, DC_LOG_DEBUG);
	CHECK(!dc_log_enabled(DC_LOG_WARN)); /* no sink: nothing is enabled */
	dc_log_warn("dropped %d", 1);

	dc_log_set_sink(capture, DC_LOG_WARN);
	CHECK(dc_log_enabled(DC_LOG_WARN));
	CHECK(!dc_log_enabled(DC_LOG_INFO));
	CHECK(!dc_log_enabled(DC_LOG_DEBUG));
	dc_log_debug("debug %d", 1);
	dc_log_info("info %d", 1);
	dc_log_warn("warn %d", 1);
	if (CHECK_EQ_INT(nlines, 1)) {
		CHECK_EQ_STR(lines[0], "warn 1");
		CHECK_EQ_INT(levels[0], DC_LOG_WARN);
	}
	forget();

	dc_log_set_sink(capture, DC_LOG_INFO);
	dc_log_debug("debug %d", 2);
	dc_log_info("info %d", 2);
	if (CHECK_EQ_INT(nlines, 1)) {
		CHECK_EQ_STR(lines[0], "info 2");
		CHECK_EQ_INT(levels[0], DC_LOG_INFO);
	}
	forget();

	dc_log_set_sink(capture, DC_LOG_DEBUG);
	dc_log_debug("debug %s", "3");
	if (CHECK_EQ_INT(nlines, 1)) {
		CHECK_EQ_STR(lines[0], "debug 3");
		CHECK_EQ_INT(levels[0], DC_LOG_DEBUG);
	}
	forget();
	dc_log_set_sink(NULL, DC_LOG_WARN);
}

static void test_redacts_lines(void)
{
	dc_log_set_sink(capture, DC_LOG_DEBUG);
	CHECK_EQ_INT(dc_log_redact_add("wJalrXUtnFEMI/K7MDENG"), 0);
	CHECK_EQ_INT(dc_log_redact_add("tok3n"), 0);
	CHECK_EQ_INT(dc_log_redact_add("tok3n"), 0); /* registering twice is fine */

	dc_log_warn("key %s and %s", "wJalrXUtnFEMI/K7MDENG", "tok3n");
	CHECK_EQ_STR(last_line(), "key *** and ***");
	/* several occurrences, adjacent ones, and the secret in the format itself */
	dc_log_info("a=wJalrXUtnFEMI/K7MDENG b=%s c=%stok3n", "wJalrXUtnFEMI/K7MDENG", "tok3n");
	CHECK_EQ_STR(last_line(), "a=*** b=*** c=******");
	dc_log_debug("%s", "tok3n");
	CHECK_EQ_STR(last_line(), "***");
	dc_log_debug("no secret here: tok3 ok3n");
	CHECK_EQ_STR(last_line(), "no secret here: tok3 ok3n");
	forget();
	dc_log_redact_clear();

	/* after clearing, nothing is redacted any more */
	dc_log_debug("%s", "tok3n");
	CHECK_EQ_STR(last_line(), "tok3n");
	forget();
	dc_log_set_sink(NULL, DC_LOG_WARN);
}

static void test_short_ignored(void)
{
	dc_log_set_sink(capture, DC_LOG_DEBUG);
	CHECK_EQ_INT(dc_log_redact_add("abc"), 0);
	CHECK_EQ_INT(dc_log_redact_add(""), 0);
	CHECK_EQ_INT(dc_log_redact_add(NULL), 0);
	CHECK_EQ_INT(dc_log_redact_add("abcd"), 0); /* 4 bytes is enough */
	dc_log_warn("abc ab abcd");
	CHECK_EQ_STR(last_line(), "abc ab ***");
	forget();
	dc_log_redact_clear();
	dc_log_set_sink(NULL, DC_LOG_WARN);
}

static void test_redact_buffer(void)
{
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(dc_log_redact_add("supersecret"), 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "x supersecret y supersecretsupersecret z"), 0);
	dc_log_redact(&b);
	CHECK_EQ_STR(b.ptr, "x *** y ****** z");
	CHECK_EQ_INT(b.len, strlen("x *** y ****** z"));
	/* the buffer stays consistent for appends */
	CHECK_EQ_INT(dc_buf_puts(&b, "!"), 0);
	CHECK_EQ_STR(b.ptr, "x *** y ****** z!");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_buf_puts(&b, "supersecret"), 0);
	dc_log_redact(&b);
	CHECK_EQ_STR(b.ptr, "***");
	CHECK_EQ_INT(b.len, 3);
	dc_buf_reset(&b);
	dc_log_redact(&b); /* an empty buffer */
	CHECK_EQ_STR(b.ptr, "");
	dc_buf_release(&b);
	dc_log_redact(&b); /* a released one */
	CHECK_EQ_STR(b.ptr, "");
	dc_log_redact_clear();
}

/* One secret that contains another must not come out partly: with "abcd1234"
 * redacted first, "abcd1234efgh5678" would show as "***efgh5678".
 * BUG (src/util/log.c, dc_log_redact): secrets are replaced in the order they
 * were registered, so a shorter registered secret that is a substring of a
 * longer one breaks the longer one's match and its rest is printed. Redacting
 * longest first would fix it. This test fails until then. */
static void test_overlapping_secrets(void)
{
	dc_buf b = DC_BUF_INIT;

	dc_log_set_sink(capture, DC_LOG_DEBUG);
	CHECK_EQ_INT(dc_log_redact_add("abcd1234"), 0);
	CHECK_EQ_INT(dc_log_redact_add("abcd1234efgh5678"), 0);
	dc_log_warn("token=%s", "abcd1234efgh5678");
	CHECK_LACKS(last_line(), "efgh5678");
	CHECK_EQ_INT(dc_buf_puts(&b, "token=abcd1234efgh5678"), 0);
	dc_log_redact(&b);
	CHECK_LACKS(b.ptr, "efgh5678");
	dc_buf_release(&b);
	forget();
	dc_log_redact_clear();
	dc_log_set_sink(NULL, DC_LOG_WARN);
}

/* A long line must not let part of a secret through: the secret must be
 * redacted whole even when the line is longer than any internal buffer.
 * BUG (src/util/log.c, emit): the line is formatted into char line[1024]
 * with vsnprintf and redacted after the truncation, so a secret that straddles
 * byte 1023 is cut, no longer matches, and its first part is printed. This
 * test fails until the line is formatted whole (or truncated after redacting). */
static void test_long_line(void)
{
	static const char secret[] = "Sx7qK2mP9vL4nR8tW3yZ6bC1dF5gH0jA";
	char pad[2100];
	size_t padlen;

	dc_log_set_sink(capture, DC_LOG_DEBUG);
	CHECK_EQ_INT(dc_log_redact_add(secret), 0);
	for (padlen = 990; padlen <= 1030; padlen += 8) {
		memset(pad, '.', padlen);
		pad[padlen] = '\0';
		dc_log_warn("%s%s tail", pad, secret);
		if (!CHECK(last_line() != NULL))
			break;
		/* no 8-byte piece of the secret may appear */
		{
			size_t i;
			int leaked = 0;

			for (i = 0; i + 8 <= sizeof(secret) - 1; i++) {
				char piece[9];

				memcpy(piece, secret + i, 8);
				piece[8] = '\0';
				if (strstr(last_line(), piece))
					leaked = 1;
			}
			if (!CHECK(!leaked))
				fprintf(stderr, "  padding %zu: line ends '%s'\n", padlen,
					last_line() + strlen(last_line()) - 40);
		}
	}
	forget();
	dc_log_redact_clear();
	dc_log_set_sink(NULL, DC_LOG_WARN);
}

static void test_clip(void)
{
	static const struct { const char *src, *want; size_t size; } v[] = {
		{ "invalid_grant", "invalid_grant", 256 },
		{ NULL, "", 256 },
		/* the first line only: AAD puts trace ids after it */
		{ "AADSTS7000215: Invalid client secret.\r\nTrace ID: 0123\r\n", "AADSTS7000215: Invalid client secret.", 256 },
		{ "one\ntwo", "one", 256 },
		/* no control characters reach a terminal */
		{ "a\tb\x1b[31mc\x7f", "a b [31mc ", 256 },
		/* what fits, and never half a UTF-8 character ("\xc3\xa9" is one) */
		{ "abcdefghij", "abcdefg", 8 },
		{ "abcdef\xc3\xa9", "abcdef", 8 },
		{ "abcde\xc3\xa9", "abcde\xc3\xa9", 8 },
		{ "ab\xe2\x82\xac\xe2\x82\xac", "ab\xe2\x82\xac", 8 },
		{ "x", "", 1 },
	};
	char big[300], dst[256];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		dc_log_clip(dst, v[i].size, v[i].src);
		CHECK_EQ_STR(dst, v[i].want);
	}
	/* at most DC_LOG_CLIP_MAX bytes, whole characters */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dc_log_clip(dst, sizeof(dst), big);
	CHECK_EQ_INT(strlen(dst), DC_LOG_CLIP_MAX);
	for (i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	dc_log_clip(dst, sizeof(dst), big);
	CHECK_EQ_INT(strlen(dst), DC_LOG_CLIP_MAX);
	dc_log_clip(dst, 200, big); /* room for 199: cut to 198 */
	CHECK_EQ_INT(strlen(dst), 198);
}

int main(void)
{
	T_RUN(test_levels);
	T_RUN(test_redacts_lines);
	T_RUN(test_short_ignored);
	T_RUN(test_redact_buffer);
	T_RUN(test_overlapping_secrets);
	T_RUN(test_long_line);
	T_RUN(test_clip);
	forget();
	dc_log_redact_clear();
	return t_done();
}
