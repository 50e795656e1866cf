/* provider.h -- one registry family per file, and the table of them.
 *
 * A provider never writes files and never prints. The front door picks one
 * (dc_provider_select: by name, else by which variables are present), asks
 * it to fetch a credential list, and hands the list to the cache and writers.
 *
 *   detect(env)               1 if this provider's variables are present
 *   fetch(&list, env)         fill credentials; 0, DC_EUSAGE or DC_ERR
 *   cache_identity(&buf, env) everything that changes the answer, in a stable
 *                             text form, source secret included (so pass a
 *                             DC_BUF_SECRET buffer); the cache derives its key
 *                             and sealing key from it. DC_ENOTFOUND: this
 *                             configuration is not cached (no source secret
 *                             to key and seal it with)
 *
 * Adding a registry is adding a file and a row in provider.c.
 */
#ifndef DC_PROVIDER_H
#define DC_PROVIDER_H

#include "core/cred.h"
#include "util/buf.h"
#include "util/env.h"

typedef struct {
	const char *name;
	const char *summary;   /* one line for --help */
	const char *variables; /* the variables that select it, ", "-separated:
				* messages name those of them that are set */
	int offline;           /* 1: makes no network request, the credential is
				* the environment's secret as given; such a
				* provider never uses the cache and has no
				* cache_identity (NULL) */
	int (*detect)(const dc_env *env);
	int (*fetch)(dc_cred_list *out, const dc_env *env);
	int (*cache_identity)(dc_buf *out, const dc_env *env);
} dc_provider;

/* NULL-terminated table. */
extern const dc_provider *const dc_providers[];

extern const dc_provider dc_provider_ecr;
extern const dc_provider dc_provider_gcr;    /* gcr.c */
extern const dc_provider dc_provider_acr;    /* acr.c */
extern const dc_provider dc_provider_docker; /* static.c */
extern const dc_provider dc_provider_heroku; /* static.c */
extern const dc_provider dc_provider_ibm;    /* static.c */

/* `name` (a flag), else DCGEN_PROVIDER, else detection. DC_EUSAGE when the
 * name is unknown or detection finds none or several (the message names them). */
int dc_provider_select(const dc_provider **out, const dc_env *env, const char *name) DC_MUST_USE;

#endif
