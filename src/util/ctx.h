/* ctx.h -- what every layer below the front doors needs, carried explicitly
 * instead of process globals: the environment, a clock, a redactor, a log
 * and an HTTP client. Two contexts with different settings can live in one
 * process (a long-lived runner, tests).
 *
 *   dc_ctx ctx;
 *   err = dc_ctx_init(&ctx, env, sink, DC_LOG_INFO);   redactor, log, clock
 *   ... register the environment's secrets (core/resolve does) ...
 *   err = dc_ctx_http(&ctx);      the HTTP client, from DCGEN_TIMEOUT etc.;
 *                                 made on first use (DC_EUSAGE if malformed)
 *   dc_ctx_release(&ctx);         frees the client, wipes the redactor
 *
 * Redaction is the one thing that outlives a context's users: the CLI
 * prints errors through ctx.redactor before it releases the context.
 */
#ifndef DC_CTX_H
#define DC_CTX_H

#include "util/env.h"
#include "util/http.h"
#include "util/log.h"
#include "util/time.h"

typedef struct {
	const dc_env *env;     /* borrowed */
	dc_clock clock;
	dc_redactor *redactor; /* owned */
	dc_log log;            /* log.redactor is this redactor */
	dc_http *http;         /* owned; NULL until dc_ctx_http */
} dc_ctx;

int dc_ctx_init(dc_ctx *c, const dc_env *env, dc_log_sink sink, enum dc_log_level level) DC_MUST_USE;
/* Make the HTTP client if there is none yet. */
int dc_ctx_http(dc_ctx *c) DC_MUST_USE;
void dc_ctx_release(dc_ctx *c);

static inline time_t dc_ctx_now(const dc_ctx *c)
{
	return dc_clock_now(&c->clock);
}

#endif
