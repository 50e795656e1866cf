/* time.c -- see time.h. */
#include "util/time.h"

#include <stdio.h>
#include <string.h>

static time_t pinned;

time_t dc_time_now(void)
{
	return pinned ? pinned : time(NULL);
}

void dc_time_set_now(time_t t)
{
	pinned = t;
}

int dc_time_parse_iso8601(time_t *out, const char *s)
{
	struct tm tm;
	const char *rest;

	memset(&tm, 0, sizeof(tm));
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return DC_ERR;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") && strcmp(rest, "+00:00"))
		return DC_ERR;
	*out = timegm(&tm);
	return 0;
}

void dc_time_format(char *out, size_t size, time_t t)
{
	struct tm tm;

	if (!size)
		return;
	/* gmtime_r fails when the year does not fit an int; strftime when the
	 * text does not fit `out` (years past 9999 need more than 21 bytes) */
	if (!gmtime_r(&t, &tm) || !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, size, "unknown");
}
