/* test_time.c -- util/time: ISO 8601 in UTC, and the pinned clock. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "util/time.h"

#define T_2026_11_28_NOON ((time_t)1795867200) /* date -u -d 2026-11-28T12:00:00Z +%s */

static void test_parse(void)
{
	time_t t = 0;

	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28T12:00:00Z"), 0);
	CHECK_EQ_INT(t, T_2026_11_28_NOON);
	t = 0;
	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28T12:00:00.123Z"), 0);
	CHECK_EQ_INT(t, T_2026_11_28_NOON);
	t = 0;
	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28T12:00:59.999999Z"), 0);
	CHECK_EQ_INT(t, T_2026_11_28_NOON + 59);
	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "1970-01-01T00:00:00Z"), 0);
	CHECK_EQ_INT(t, 0);
	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2024-02-29T23:59:59Z"), 0);
	CHECK_EQ_INT(t, 1709251199);
}

/* The local time zone plays no part. */
static void test_parse_ignores_tz(void)
{
	const char *old = getenv("TZ");
	char *saved = old ? strdup(old) : NULL;
	time_t t = 0;

	setenv("TZ", "XYZ-5", 1); /* POSIX form: five hours east, no tzdata needed */
	tzset();
	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28T12:00:00Z"), 0);
	CHECK_EQ_INT(t, T_2026_11_28_NOON);
	{
		char out[32];

		dc_time_format(out, sizeof(out), T_2026_11_28_NOON);
		CHECK_EQ_STR(out, "2026-11-28T12:00:00Z");
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

static void test_parse_rejects(void)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2026-11-28",
		"2026-11-28T12:00:00",      /* no zone: it would be local time */
		"2026-11-28T12:00:00Zjunk",
		"2026-11-28T12:00:00Z ",
		"2026-11-28 12:00:00Z",
		"2026-13-28T12:00:00Z",
		"2026-11-28T25:00:00Z",
		"2026-11-28T12:00:00.12x3Z",
		"12:00:00",
		" 2026-11-28T12:00:00Z",     /* space around (BLACKBOX, REVIEW 13) */
		"2026-1-2T3:4:5Z",           /* single-digit fields */
		"2026-02-31T00:00:00Z",      /* no such day (strptime normalised it) */
		"2025-02-29T00:00:00Z",      /* not a leap year */
		"2026-11-28T12:00:00.Z",     /* a dot without digits */
		"2026-11-28T12:00:00+1:00",
		"2026-11-28T12:00:00+24:00",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		time_t t = 42;

		if (!CHECK_EQ_INT(dc_time_parse_rfc3339(&t, bad[i]), DC_ERR))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
		CHECK_EQ_INT(t, 42); /* untouched on error */
	}
}

static void test_format(void)
{
	char out[32];
	time_t t = 0;

	dc_time_format(out, sizeof(out), T_2026_11_28_NOON);
	CHECK_EQ_STR(out, "2026-11-28T12:00:00Z");
	dc_time_format(out, sizeof(out), 0);
	CHECK_EQ_STR(out, "1970-01-01T00:00:00Z");
	dc_time_format(out, 21, 1709251199);
	CHECK_EQ_STR(out, "2024-02-29T23:59:59Z");
	/* round trip */
	dc_time_format(out, sizeof(out), T_2026_11_28_NOON + 3601);
	CHECK_EQ_INT(dc_time_parse_rfc3339(&t, out), 0);
	CHECK_EQ_INT(t, T_2026_11_28_NOON + 3601);
}

/* What cannot be formatted reads "unknown", never stale or unterminated bytes. */
static void test_format_out_of_range(void)
{
	char out[32], small[21], tiny[4];
	const time_t year_10000 = (time_t)253402300800LL; /* date -u -d 10000-01-01 +%s */

	memset(out, 'x', sizeof(out));
	dc_time_format(out, sizeof(out), (time_t)INT64_MAX); /* gmtime_r fails: the year overflows int */
	CHECK_EQ_STR(out, "unknown");
	dc_time_format(out, sizeof(out), (time_t)1e17);
	CHECK_EQ_STR(out, "unknown");
	dc_time_format(out, sizeof(out), year_10000);
	CHECK_EQ_STR(out, "10000-01-01T00:00:00Z");
	memset(small, 'x', sizeof(small));
	dc_time_format(small, sizeof(small), year_10000); /* 22 bytes needed */
	CHECK_EQ_STR(small, "unknown");
	dc_time_format(small, sizeof(small), year_10000 - 1);
	CHECK_EQ_STR(small, "9999-12-31T23:59:59Z");
	dc_time_format(tiny, sizeof(tiny), 0);
	CHECK_EQ_STR(tiny, "unk");
	tiny[0] = 'x';
	dc_time_format(tiny, 0, 0);
	CHECK_EQ_INT(tiny[0], 'x');
}

static void test_pinned_now(void)
{
	time_t real = time(NULL);

	{
		dc_clock pinned = { T_2026_11_28_NOON }, live = DC_CLOCK_REAL;

		/* two clocks in one process: a pinned one and the real one */
		CHECK_EQ_INT(dc_clock_now(&pinned), T_2026_11_28_NOON);
		CHECK(dc_clock_now(&live) >= real && dc_clock_now(&live) <= real + 5);
		CHECK(dc_time_now() >= real && dc_time_now() <= real + 5);
	}
	/* RFC 3339 offsets and lower case (what IMDS and SSO caches send) */
	{
		time_t t = 0;

		CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28T13:00:00+01:00"), 0);
		CHECK_EQ_INT(t, T_2026_11_28_NOON);
		CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28t07:30:00-04:30"), 0);
		CHECK_EQ_INT(t, T_2026_11_28_NOON);
		CHECK_EQ_INT(dc_time_parse_rfc3339(&t, "2026-11-28T12:00:00z"), 0);
		CHECK_EQ_INT(t, T_2026_11_28_NOON);
	}
}

int main(void)
{
	T_RUN(test_parse);
	T_RUN(test_parse_ignores_tz);
	T_RUN(test_parse_rejects);
	T_RUN(test_format);
	T_RUN(test_format_out_of_range);
	T_RUN(test_pinned_now);
	return t_done();
}
