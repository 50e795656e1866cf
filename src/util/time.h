/* time.h -- wall-clock helpers.
 *
 *   dc_clock c = DC_CLOCK_REAL;      or { .pinned = t } in tests
 *   time_t now = dc_clock_now(&c);   NULL also reads the real clock
 *   dc_time_parse_rfc3339(&t, "2026-11-28T12:00:00Z");
 *   dc_time_format(buf, sizeof(buf), t);
 *
 * A clock is a value a context (util/ctx.h) carries, not a process global:
 * two resolvers may run on different clocks.
 */
#ifndef DC_TIME_H
#define DC_TIME_H

#include <stddef.h>
#include <time.h>

#include "util/error.h"

typedef struct {
	time_t pinned; /* 0: the real clock */
} dc_clock;

#define DC_CLOCK_REAL { 0 }

time_t dc_clock_now(const dc_clock *c);
/* The real clock. */
time_t dc_time_now(void);

/* Strict RFC 3339 date-time: "2026-11-28T12:00:00Z", with optional
 * fractional seconds, 't'/'z' in lower case, or an offset "+01:00". Every
 * field is range-checked (no 2026-02-31, no single-digit fields, no space
 * around). DC_ERR (no message) when `s` is not one. */
int dc_time_parse_rfc3339(time_t *out, const char *s) DC_MUST_USE;

/* Format as "2026-11-28T12:00:00Z" into `out` (at least 21 bytes), or as
 * "unknown" when that fails: a year too large for struct tm, or text longer
 * than `size` allows (years past 9999 in 21 bytes). */
void dc_time_format(char *out, size_t size, time_t t);

#endif
