/* log.h -- redacting diagnostics.
 *
 * The library never prints: it calls dc_log_warn/info/debug, which format the
 * line, replace every registered secret in it by "***", and hand it to the
 * sink src/cli installed with dc_log_set_sink (none installed: dropped).
 *
 *   dc_log_redact_add(secret);   before the secret can reach any message
 *   dc_log_redact(&msg);         for text printed by other routes (errors)
 *   dc_log_redact_clear();       wipes the stored copies at exit
 *
 * dc_log_clip() makes upstream text (an error code or description from a
 * reply) fit to quote in a message: one line, printable, short.
 */
#ifndef DC_LOG_H
#define DC_LOG_H

#include "util/buf.h"

enum dc_log_level { DC_LOG_ERROR, DC_LOG_WARN, DC_LOG_INFO, DC_LOG_DEBUG };

typedef void (*dc_log_sink)(enum dc_log_level level, const char *line);

void dc_log_set_sink(dc_log_sink sink, enum dc_log_level max_level);
int dc_log_enabled(enum dc_log_level level);

void dc_log_warn(const char *fmt, ...) DC_PRINTF(1, 2);
void dc_log_info(const char *fmt, ...) DC_PRINTF(1, 2);
void dc_log_debug(const char *fmt, ...) DC_PRINTF(1, 2);

/* Register a secret (copied; strings shorter than 4 bytes are ignored, they
 * would redact ordinary words). Returns DC_ERR on out of memory. */
int dc_log_redact_add(const char *secret) DC_MUST_USE;
/* Replace every registered secret in `b` by "***". */
void dc_log_redact(dc_buf *b);
void dc_log_redact_clear(void);

enum { DC_LOG_CLIP_MAX = 200 };

/* Copy the first line of `src` (NULL: "") into `dst`: control characters
 * become spaces, and it is cut at DC_LOG_CLIP_MAX bytes or what fits in
 * `size`, never inside a UTF-8 character. Upstream error descriptions carry
 * trace lines after the first (AAD) and are not ours to print whole. */
void dc_log_clip(char *dst, size_t size, const char *src);

#endif
