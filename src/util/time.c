/* time.c -- see time.h. */
#include "util/time.h"

#include <stdio.h>
#include <string.h>

time_t dc_clock_now(const dc_clock *c)
{
	return c && c->pinned ? c->pinned : time(NULL);
}

time_t dc_time_now(void)
{
	return time(NULL);
}

/* `n` decimal digits at *p (exactly), advancing *p; -1 if not digits. */
static int digits(const char **p, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

static int expect(const char **p, const char *one_of)
{
	if (!**p || !strchr(one_of, **p))
		return -1;
	(*p)++;
	return 0;
}

int dc_time_parse_rfc3339(time_t *out, const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	struct tm tm;
	int y, mo, d, h, mi, sec, off = 0, leap, dim;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if ((y = digits(&p, 4)) < 0 || expect(&p, "-") || (mo = digits(&p, 2)) < 0 || expect(&p, "-") ||
	    (d = digits(&p, 2)) < 0 || expect(&p, "Tt") || (h = digits(&p, 2)) < 0 || expect(&p, ":") ||
	    (mi = digits(&p, 2)) < 0 || expect(&p, ":") || (sec = digits(&p, 2)) < 0)
		return DC_ERR;
	if (*p == '.') {
		const char *start = ++p;

		while (*p >= '0' && *p <= '9')
			p++;
		if (p == start)
			return DC_ERR;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;

		if ((oh = digits(&p, 2)) < 0 || expect(&p, ":") || (om = digits(&p, 2)) < 0 || oh > 23 || om > 59)
			return DC_ERR;
		off = sign * (oh * 3600 + om * 60);
	} else {
		return DC_ERR;
	}
	if (*p)
		return DC_ERR;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12)
		return DC_ERR;
	dim = mdays[mo - 1] + (mo == 2 && leap);
	if (d < 1 || d > dim || h > 23 || mi > 59 || sec > 60)
		return DC_ERR;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec == 60 ? 59 : sec; /* a leap second: the second before */
	if ((t = timegm(&tm)) == (time_t)-1)
		return DC_ERR;
	*out = t - off;
	return 0;
}

void dc_time_format(char *out, size_t size, time_t t)
{
	struct tm tm;

	if (!size)
		return;
	/* gmtime_r fails when the year does not fit an int; the text must fit
	 * `out` (years past 9999 need more than 21 bytes). Not strftime: it
	 * calls tzset, which reads /etc/localtime on every run for a UTC stamp. */
	if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 ||
	    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		     tm.tm_hour, tm.tm_min, tm.tm_sec) >= (int)size)
		snprintf(out, size, "unknown");
}
