/* provider.h -- the registry families (core/family.h) this build knows, one
 * file each, and choosing one for a job.
 *
 *   const dc_family *f;
 *   err = dc_family_select(&f, env, flag);   --provider, else DCGEN_PROVIDER,
 *                                            else the one whose variables are set
 *   for (p = dc_families; *p; p++) ...       every family, e.g. for --help
 *
 * A family never writes files and never prints. Adding a registry is adding
 * a file and a row in provider.c.
 */
#ifndef DC_PROVIDER_H
#define DC_PROVIDER_H

#include "core/family.h"
#include "util/env.h"
#include "util/http.h"

/* NULL-terminated table. */
extern const dc_family *const dc_families[];

extern const dc_family dc_family_ecr;    /* ecr.c */
extern const dc_family dc_family_gcr;    /* gcr.c */
extern const dc_family dc_family_acr;    /* acr.c */
extern const dc_family dc_family_docker; /* static.c */
extern const dc_family dc_family_heroku; /* static.c */
extern const dc_family dc_family_ibm;    /* static.c */

/* `name` (a flag), else DCGEN_PROVIDER, else detection. DC_EUSAGE when the
 * name is unknown or detection finds none or several (the message names them). */
int dc_family_select(const dc_family **out, const dc_env *env, const char *name) DC_MUST_USE;

/* internal (unit tests, fuzz/): ECR's or, with s->ecr_public, ECR Public's
 * 200 reply to GetAuthorizationToken into `out`, as the ecr family's fetch
 * reads it for the query `s`. DC_ERR (class DC_ECLASS_REPLY) when malformed. */
int dc_ecr_reply_parse(dc_cred_list *out, dc_ctx *ctx, const dc_http_resp *resp, const dc_scope *s) DC_MUST_USE;

#endif
