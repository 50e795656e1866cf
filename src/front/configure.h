/* configure.h -- `dcgen configure-docker`: point the docker CLI at
 * docker-credential-dcgen by editing its config.json.
 *
 *   dc_configure_opts o = { .hosts = "a.example,b.example" };   or .creds_store = 1
 *   err = dc_configure_docker(&res, &o, ctx);
 *   ... res.path, res.hosts (the keys added or kept), res.changed ...
 *   dc_configure_result_release(&res);
 *
 * The file is $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json.
 * Every key and value already there is kept (jansson keeps the object's
 * order); `credHelpers` gains HOST: "dcgen" for each host, or `credsStore`
 * becomes "dcgen". The file is written atomically (util/fs), mode 0600, and
 * only when something changed; entries that named another helper are
 * replaced and listed in res.replaced. Without .hosts the hosts are those every
 * family whose variables are set covers: the credential keys its "every
 * configured host" query returns (through the cache; ECR: the registries
 * the account ids name), so the families' checks and a token request happen
 * once here. A file that is not a JSON object is left alone (DC_EUSAGE).
 */
#ifndef DC_CONFIGURE_H
#define DC_CONFIGURE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/ctx.h"

#define DC_HELPER_SUFFIX "dcgen"

typedef struct {
	const char *hosts;     /* comma-separated; NULL: from the families */
	int creds_store;       /* 1: credsStore instead of credHelpers */
	const char *cache_dir; /* NULL: as the helper finds it */
} dc_configure_opts;

typedef struct {
	dc_buf path;
	char **hosts;
	size_t n;
	int changed;
	dc_buf replaced; /* "KEY: OLD, ..." entries that named another helper; empty if none */
} dc_configure_result;

int dc_configure_docker(dc_configure_result *res, const dc_configure_opts *o, dc_ctx *ctx) DC_MUST_USE;
void dc_configure_result_release(dc_configure_result *res);

#endif
