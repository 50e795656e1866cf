/* time.h -- wall-clock helpers. dc_time_now() can be pinned for tests with
 * dc_time_set_now(); 0 returns to the real clock. */
#ifndef DC_TIME_H
#define DC_TIME_H

#include <time.h>

#include "util/error.h"

time_t dc_time_now(void);
void dc_time_set_now(time_t t);
/* "2026-11-28T12:00:00Z" or with fractional seconds; DC_ERR if not that form. */
int dc_time_parse_iso8601(time_t *out, const char *s) DC_MUST_USE;
/* Format as "2026-11-28T12:00:00Z" into `out` (at least 21 bytes), or as
 * "unknown" when that fails: a year too large for struct tm, or text longer
 * than `size` allows (years past 9999 in 21 bytes). */
void dc_time_format(char *out, size_t size, time_t t);

#endif
