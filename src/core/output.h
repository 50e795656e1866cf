/* output.h -- rendering a credential list as a Docker client, Kubernetes or
 * a shell reads it.
 *
 *   DC_FORMAT_CONFIG     config.json: {"auths": {HOST: {"auth": B64}}}
 *   DC_FORMAT_DOCKERCFG  legacy ~/.dockercfg: {HOST: {"auth": B64, "email": ""}}
 *   DC_FORMAT_K8S_SECRET a kubernetes.io/dockerconfigjson Secret (YAML, by
 *                        libyaml's emitter) whose .dockerconfigjson is the
 *                        config.json above, base64'd; name and namespace
 *                        from dc_output_opts
 *   DC_FORMAT_ENV        one line DOCKER_AUTH_CONFIG='{"auths":...}' (compact
 *                        config.json, single-quoted for a shell or a .env
 *                        file), the variable GitLab and docker CLI 28.3+ read
 *
 * B64 is base64("username:secret"). The rendered text holds secrets: render
 * into a DC_BUF_SECRET buffer. Writing it to disk is util/fs's job.
 *
 *   dc_output_opts o = { "regcred", "ci" };     NULL: the defaults below
 *   err = dc_output_check_opts(&o, fmt);        DC_EUSAGE naming the flag
 *   err = dc_output_render_with(&out, &list, fmt, &o);
 */
#ifndef DC_OUTPUT_H
#define DC_OUTPUT_H

#include "core/cred.h"
#include "util/buf.h"

enum dc_format { DC_FORMAT_CONFIG, DC_FORMAT_DOCKERCFG, DC_FORMAT_K8S_SECRET, DC_FORMAT_ENV };

#define DC_OUTPUT_SECRET_NAME "dcgen-registry"

typedef struct {
	const char *secret_name; /* NULL: DC_OUTPUT_SECRET_NAME */
	const char *namespace_;  /* NULL: none in the Secret (kubectl's current one) */
} dc_output_opts;

/* "config", "dockercfg", "k8s-secret" or "env"; DC_EUSAGE otherwise, naming
 * `origin` (a flag or variable). */
int dc_format_parse(enum dc_format *out, const char *name, const char *origin) DC_MUST_USE;
/* The format's name as dc_format_parse takes it. */
const char *dc_format_name(enum dc_format fmt);
/* The secret name must be a DNS-1123 subdomain and the namespace a DNS-1123
 * label, as the API server checks them; both only with k8s-secret. */
int dc_output_check_opts(const dc_output_opts *o, enum dc_format fmt) DC_MUST_USE;
int dc_output_render(dc_buf *out, const dc_cred_list *l, enum dc_format fmt) DC_MUST_USE;
int dc_output_render_with(dc_buf *out, const dc_cred_list *l, enum dc_format fmt, const dc_output_opts *o) DC_MUST_USE;

#endif
