/* test_log.c -- util/log: levels, and secrets never reaching a line. */
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util/log.h"

static dc_redactor *R;
static dc_log L = DC_LOG_INIT;

static int radd(const char *s)
{
	return dc_redactor_add(R, s, s ? strlen(s) : 0);
}

static void reset_redactor(void)
{
	dc_redactor_free(R);
	R = NULL;
	if (dc_redactor_new(&R) < 0)
		abort();
	L.redactor = R;
}

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
	L.sink = NULL; L.max_level = DC_LOG_DEBUG;
	CHECK(!dc_log_enabled(&L, DC_LOG_WARN)); /* no sink: nothing is enabled */
	dc_log_warn(&L, "dropped %d", 1);

	L.sink = capture; L.max_level = DC_LOG_WARN;
	CHECK(dc_log_enabled(&L, DC_LOG_WARN));
	CHECK(!dc_log_enabled(&L, DC_LOG_INFO));
	CHECK(!dc_log_enabled(&L, DC_LOG_DEBUG));
	dc_log_debug(&L, "debug %d", 1);
	dc_log_info(&L, "info %d", 1);
	dc_log_warn(&L, "warn %d", 1);
	if (CHECK_EQ_INT(nlines, 1)) {
		CHECK_EQ_STR(lines[0], "warn 1");
		CHECK_EQ_INT(levels[0], DC_LOG_WARN);
	}
	forget();

	L.sink = capture; L.max_level = DC_LOG_INFO;
	dc_log_debug(&L, "debug %d", 2);
	dc_log_info(&L, "info %d", 2);
	if (CHECK_EQ_INT(nlines, 1)) {
		CHECK_EQ_STR(lines[0], "info 2");
		CHECK_EQ_INT(levels[0], DC_LOG_INFO);
	}
	forget();

	L.sink = capture; L.max_level = DC_LOG_DEBUG;
	dc_log_debug(&L, "debug %s", "3");
	if (CHECK_EQ_INT(nlines, 1)) {
		CHECK_EQ_STR(lines[0], "debug 3");
		CHECK_EQ_INT(levels[0], DC_LOG_DEBUG);
	}
	forget();
	L.sink = NULL; L.max_level = DC_LOG_WARN;
}

static void test_redacts_lines(void)
{
	L.sink = capture; L.max_level = DC_LOG_DEBUG;
	CHECK_EQ_INT(radd("wJalrXUtnFEMI/K7MDENG"), 0);
	CHECK_EQ_INT(radd("tok3n"), 0);
	CHECK_EQ_INT(radd("tok3n"), 0); /* registering twice is fine */

	dc_log_warn(&L, "key %s and %s", "wJalrXUtnFEMI/K7MDENG", "tok3n");
	CHECK_EQ_STR(last_line(), "key *** and ***");
	/* several occurrences, adjacent ones, and the secret in the format itself */
	dc_log_info(&L, "a=wJalrXUtnFEMI/K7MDENG b=%s c=%stok3n", "wJalrXUtnFEMI/K7MDENG", "tok3n");
	CHECK_EQ_STR(last_line(), "a=*** b=*** c=******");
	dc_log_debug(&L, "%s", "tok3n");
	CHECK_EQ_STR(last_line(), "***");
	dc_log_debug(&L, "no secret here: tok3 ok3n");
	CHECK_EQ_STR(last_line(), "no secret here: tok3 ok3n");
	forget();
	reset_redactor();

	/* after clearing, nothing is redacted any more */
	dc_log_debug(&L, "%s", "tok3n");
	CHECK_EQ_STR(last_line(), "tok3n");
	forget();
	L.sink = NULL; L.max_level = DC_LOG_WARN;
}

static void test_short_ignored(void)
{
	L.sink = capture; L.max_level = DC_LOG_DEBUG;
	CHECK_EQ_INT(radd("abc"), 0);
	CHECK_EQ_INT(radd(""), 0);
	CHECK_EQ_INT(radd(NULL), 0);
	CHECK_EQ_INT(radd("abcd"), 0); /* 4 bytes is enough */
	dc_log_warn(&L, "abc ab abcd");
	CHECK_EQ_STR(last_line(), "abc ab ***");
	forget();
	reset_redactor();
	L.sink = NULL; L.max_level = DC_LOG_WARN;
}

static void test_redact_buffer(void)
{
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(radd("supersecret"), 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "x supersecret y supersecretsupersecret z"), 0);
	dc_redactor_apply(R, &b);
	CHECK_EQ_STR(b.ptr, "x *** y ****** z");
	CHECK_EQ_INT(b.len, strlen("x *** y ****** z"));
	/* the buffer stays consistent for appends */
	CHECK_EQ_INT(dc_buf_puts(&b, "!"), 0);
	CHECK_EQ_STR(b.ptr, "x *** y ****** z!");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_buf_puts(&b, "supersecret"), 0);
	dc_redactor_apply(R, &b);
	CHECK_EQ_STR(b.ptr, "***");
	CHECK_EQ_INT(b.len, 3);
	dc_buf_reset(&b);
	dc_redactor_apply(R, &b); /* an empty buffer */
	CHECK_EQ_STR(b.ptr, "");
	dc_buf_release(&b);
	dc_redactor_apply(R, &b); /* a released one */
	CHECK_EQ_STR(b.ptr, "");
	reset_redactor();
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

	L.sink = capture; L.max_level = DC_LOG_DEBUG;
	CHECK_EQ_INT(radd("abcd1234"), 0);
	CHECK_EQ_INT(radd("abcd1234efgh5678"), 0);
	dc_log_warn(&L, "token=%s", "abcd1234efgh5678");
	CHECK_LACKS(last_line(), "efgh5678");
	CHECK_EQ_INT(dc_buf_puts(&b, "token=abcd1234efgh5678"), 0);
	dc_redactor_apply(R, &b);
	CHECK_LACKS(b.ptr, "efgh5678");
	dc_buf_release(&b);
	forget();
	reset_redactor();
	L.sink = NULL; L.max_level = DC_LOG_WARN;
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

	L.sink = capture; L.max_level = DC_LOG_DEBUG;
	CHECK_EQ_INT(radd(secret), 0);
	for (padlen = 990; padlen <= 1030; padlen += 8) {
		memset(pad, '.', padlen);
		pad[padlen] = '\0';
		dc_log_warn(&L, "%s%s tail", pad, secret);
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
	reset_redactor();
	L.sink = NULL; L.max_level = DC_LOG_WARN;
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
		dc_log_clip(NULL, dst, v[i].size, v[i].src);
		CHECK_EQ_STR(dst, v[i].want);
	}
	/* at most DC_LOG_CLIP_MAX bytes, whole characters */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dc_log_clip(NULL, dst, sizeof(dst), big);
	CHECK_EQ_INT(strlen(dst), DC_LOG_CLIP_MAX);
	for (i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	dc_log_clip(NULL, dst, sizeof(dst), big);
	CHECK_EQ_INT(strlen(dst), DC_LOG_CLIP_MAX);
	dc_log_clip(NULL, dst, 200, big); /* room for 199: cut to 198 */
	CHECK_EQ_INT(strlen(dst), 198);
}

/* Upstream text is redacted before it is cut: a cut must never leave the
 * start of a secret that no longer matches (BLACKBOX D8). */
static void test_clip_redacts_first(void)
{
	char big[400], dst[256];
	static const char secret[] = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJpc3MiOiJzYUBwcm9qIn0.c2ln";
	size_t at;

	reset_redactor();
	CHECK_EQ_INT(radd(secret), 0);
	for (at = 150; at < 200; at += 7) {
		memset(big, 'x', at);
		memcpy(big + at, secret, sizeof(secret));
		dc_log_clip(R, dst, sizeof(dst), big);
		CHECK_LACKS(dst, "eyJhbGciOiJSUzI1");
	}
	reset_redactor();
}

/* An upstream reply that echoed a token and cut it: the start of the token
 * (16 bytes or more) is redacted too (BLACKBOX D8); shorter coincidences are not. */
static void test_prefix_redacted(void)
{
	static const char tok[] = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl";
	dc_buf b = DC_BUF_INIT;

	reset_redactor();
	CHECK_EQ_INT(radd(tok), 0);
	CHECK_EQ_INT(dc_buf_puts(&b, "access_token=eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX); check"), 0);
	dc_redactor_apply(R, &b);
	CHECK_EQ_STR(b.ptr, "access_token=***); check");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_buf_puts(&b, "eyJhbGciOi is not enough, eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl is"), 0);
	dc_redactor_apply(R, &b);
	CHECK_EQ_STR(b.ptr, "eyJhbGciOi is not enough, *** is");
	dc_buf_release(&b);
	reset_redactor();
}

int main(void)
{
	reset_redactor();
	T_RUN(test_levels);
	T_RUN(test_redacts_lines);
	T_RUN(test_short_ignored);
	T_RUN(test_redact_buffer);
	T_RUN(test_overlapping_secrets);
	T_RUN(test_long_line);
	T_RUN(test_clip);
	T_RUN(test_clip_redacts_first);
	T_RUN(test_prefix_redacted);
	forget();
	dc_redactor_free(R);
	return t_done();
}
