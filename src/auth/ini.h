/* ini.h -- the INI dialect of the AWS shared config and credentials files
 * (~/.aws/config, ~/.aws/credentials), parsed strictly from bytes.
 *
 *   dc_ini *ini;
 *   err = dc_ini_parse(&ini, data, len);   the one entry point (fuzzed)
 *   v = dc_ini_get(ini, "profile dev", "role_arn");   borrowed, or NULL
 *   if (dc_ini_has_section(ini, "default")) ...
 *   dc_ini_free(ini);                      wipes every value
 *
 * The dialect is Python configparser's as botocore uses it (RawConfigParser,
 * strict): "[section]" lines, "key = value" or "key=value" lines, comments on
 * lines of their own starting with '#' or ';', blank lines. Key names are
 * case-insensitive (kept in lower case); section names are kept as written,
 * white space around them trimmed. An indented line after a key with an
 * empty value is a nested setting ("s3 =\n  max_concurrent_requests = 10"),
 * skipped. Values are not unquoted and have no inline comments. A
 * duplicate section or key, a key before any section, a line that is none of
 * these, a NUL byte or a file over 1 MiB is DC_EUSAGE with the line number
 * (the line itself is never quoted: it may hold a secret); the caller names
 * the file in its own message.
 */
#ifndef DC_INI_H
#define DC_INI_H

#include <stddef.h>

#include "util/error.h"

enum { DC_INI_MAX = 1 << 20 };

typedef struct dc_ini dc_ini;

/* 0 with *out set (free it), DC_EUSAGE (message "line N: WHY"), or DC_ERR
 * on out of memory. */
int dc_ini_parse(dc_ini **out, const char *data, size_t len) DC_MUST_USE;
const char *dc_ini_get(const dc_ini *ini, const char *section, const char *key);
int dc_ini_has_section(const dc_ini *ini, const char *section);
void dc_ini_free(dc_ini *ini);

#endif
