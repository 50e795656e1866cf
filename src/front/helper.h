/* helper.h -- the Docker credential-helper protocol (docker-credential-dcgen)
 * on the resolver and the store. Each action takes what docker wrote to the
 * helper's stdin and fills `out` with what the helper must print on stdout;
 * src/cli prints it and maps the code to the exit status.
 *
 *   dc_helper h;
 *   dc_helper_init(&h, ctx);                  directories from the environment
 *   err = dc_helper_get(&out, &h, input, n);  {"ServerURL","Username","Secret"}
 *   err = dc_helper_store(&h, input, n);      JSON in, nothing out
 *   err = dc_helper_erase(&h, input, n);
 *   err = dc_helper_list(&out, &h);           {SERVER_URL: USERNAME}
 *   dc_helper_release(&h);
 *
 * get: the store first (what `docker login` stored through this helper;
 * `docker logout` hands the host back to the families), then the resolver
 * (every family whose variables are set; cached). DC_ENOTFOUND (no message)
 * when neither has the host: the CLI prints the protocol's exact "credentials
 * not found in native keychain". Empty input: DC_EUSAGE "no credentials
 * server URL"; store without a user name: "no credentials username". Any
 * other failure: the code and a message saying what failed.
 *
 * Directories (DCGEN_CACHE_DIR and DCGEN_STORE_DIR first):
 *   cache  $XDG_CACHE_HOME/dcgen, else $HOME/.cache/dcgen; none: no cache
 *   store  $XDG_CONFIG_HOME/dcgen, else $HOME/.config/dcgen
 */
#ifndef DC_HELPER_H
#define DC_HELPER_H

#include <stddef.h>

#include "util/buf.h"
#include "util/ctx.h"

#define DC_HELPER_NOT_FOUND "credentials not found in native keychain"
#define DC_HELPER_NO_URL "no credentials server URL"
#define DC_HELPER_NO_USER "no credentials username"

typedef struct {
	dc_ctx *ctx;
	dc_buf cache_dir; /* empty: no cache */
	dc_buf store_dir; /* empty: no store (no HOME) */
	const char *source; /* get: "store", or the resolver's source ("cache", "upstream", ...) */
	const char *family; /* get: the family that answered; NULL for the store */
} dc_helper;

int dc_helper_init(dc_helper *h, dc_ctx *ctx) DC_MUST_USE;
void dc_helper_release(dc_helper *h);

/* The per-user default directory of `kind` ("cache" or "config") joined
 * with "dcgen", from XDG_*_HOME or HOME; DC_ENOTFOUND when neither is set
 * (or XDG's is relative, which the spec says to ignore, and HOME is unset). */
int dc_helper_default_dir(dc_buf *out, const dc_env *env, const char *kind) DC_MUST_USE;

int dc_helper_get(dc_buf *out, dc_helper *h, const char *input, size_t n) DC_MUST_USE;
int dc_helper_store(dc_helper *h, const char *input, size_t n) DC_MUST_USE;
int dc_helper_erase(dc_helper *h, const char *input, size_t n) DC_MUST_USE;
int dc_helper_list(dc_buf *out, dc_helper *h) DC_MUST_USE;

#endif
