/* ctx.c -- see ctx.h. */
#include "util/ctx.h"

#include <string.h>

int dc_ctx_init(dc_ctx *c, const dc_env *env, dc_log_sink sink, enum dc_log_level level)
{
	int err;

	memset(c, 0, sizeof(*c));
	c->env = env;
	if ((err = dc_redactor_new(&c->redactor)) < 0)
		return err;
	c->log.sink = sink;
	c->log.max_level = level;
	c->log.redactor = c->redactor;
	return 0;
}

int dc_ctx_http(dc_ctx *c)
{
	dc_http_config cfg;
	int err;

	if (c->http)
		return 0;
	if ((err = dc_http_config_from_env(&cfg, c->env)) < 0)
		return err;
	err = dc_http_new(&c->http, &cfg, &c->log);
	dc_http_config_release(&cfg);
	return err;
}

void dc_ctx_release(dc_ctx *c)
{
	dc_http_free(c->http);
	dc_redactor_free(c->redactor);
	memset(c, 0, sizeof(*c));
}
