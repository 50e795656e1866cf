/* log.h -- redacting diagnostics, and the redactor behind them.
 *
 * The library never prints: it calls dc_log_warn/info/debug on a dc_log (a
 * context holds one), which format the line, replace every secret its
 * redactor knows by "***", and hand it to the sink src/cli installed (none:
 * dropped).
 *
 *   dc_redactor *r; dc_redactor_new(&r);
 *   dc_log log = { sink, DC_LOG_INFO, r };
 *   dc_redactor_add(r, secret, len);     (dc_sec_set in util/secret.h does it)
 *   dc_log_warn(&log, "...", ...);
 *   dc_redactor_apply(r, &msg);          for text printed by other routes (errors)
 *   dc_redactor_free(r);                 wipes the stored copies
 *
 * A redactor is safe to share between threads. dc_log_clip() makes upstream
 * text (an error description from a reply) fit to quote: redacted first, then
 * one line, printable, short, so that a cut never leaves a secret's prefix.
 */
#ifndef DC_LOG_H
#define DC_LOG_H

#include "util/buf.h"

enum dc_log_level { DC_LOG_ERROR, DC_LOG_WARN, DC_LOG_INFO, DC_LOG_DEBUG };

typedef void (*dc_log_sink)(enum dc_log_level level, const char *line);

typedef struct dc_redactor dc_redactor;

int dc_redactor_new(dc_redactor **out) DC_MUST_USE;
void dc_redactor_free(dc_redactor *r);
/* Register a secret (copied; shorter than 4 bytes is ignored: it would
 * redact ordinary words). NULL `r` or `s` is a no-op. DC_ERR on out of memory. */
int dc_redactor_add(dc_redactor *r, const char *s, size_t len) DC_MUST_USE;
/* Replace every registered secret in `b` by "***", longest first; also any
 * run of 16 bytes or more that is the start of a secret (an upstream reply
 * that echoed a token cut it). */
void dc_redactor_apply(dc_redactor *r, dc_buf *b);
/* 1 when `s` holds a registered secret. */
int dc_redactor_contains(dc_redactor *r, const char *s);

typedef struct {
	dc_log_sink sink;
	enum dc_log_level max_level;
	dc_redactor *redactor; /* borrowed; may be NULL */
} dc_log;

#define DC_LOG_INIT { NULL, DC_LOG_WARN, NULL }

int dc_log_enabled(const dc_log *log, enum dc_log_level level);
void dc_log_warn(const dc_log *log, const char *fmt, ...) DC_PRINTF(2, 3);
void dc_log_info(const dc_log *log, const char *fmt, ...) DC_PRINTF(2, 3);
void dc_log_debug(const dc_log *log, const char *fmt, ...) DC_PRINTF(2, 3);

enum { DC_LOG_CLIP_MAX = 200 };

/* Copy the first line of `src` (NULL: "") into `dst`, with the secrets `r`
 * knows replaced first: control characters become spaces, and it is cut at
 * DC_LOG_CLIP_MAX bytes or what fits in `size`, never inside a UTF-8
 * character. Upstream error descriptions carry trace lines after the first
 * (AAD) and are not ours to print whole. */
void dc_log_clip(dc_redactor *r, char *dst, size_t size, const char *src);

#endif
