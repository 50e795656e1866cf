/* output.h -- rendering a credential list as a Docker client reads it.
 *
 *   DC_FORMAT_CONFIG     config.json: {"auths": {HOST: {"auth": B64}}}
 *   DC_FORMAT_DOCKERCFG  legacy ~/.dockercfg: {HOST: {"auth": B64, "email": ""}}
 *
 * B64 is base64("username:secret"). The rendered text holds secrets: render
 * into a DC_BUF_SECRET buffer. Writing it to disk is util/fs's job.
 */
#ifndef DC_OUTPUT_H
#define DC_OUTPUT_H

#include "core/cred.h"
#include "util/buf.h"

enum dc_format { DC_FORMAT_CONFIG, DC_FORMAT_DOCKERCFG };

/* "config" or "dockercfg"; DC_EUSAGE otherwise, naming `origin` (a flag or variable). */
int dc_format_parse(enum dc_format *out, const char *name, const char *origin) DC_MUST_USE;
int dc_output_render(dc_buf *out, const dc_cred_list *l, enum dc_format fmt) DC_MUST_USE;

#endif
