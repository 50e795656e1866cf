/* generator.h -- the dockercfg generator contract, as the hosted CodeShip CI
 * ran it (shared/CODESHIP.md sections 5 and 6).
 *
 *   dc_gen_result res = DC_GEN_RESULT_INIT;
 *   dc_gen_spec g = { .service = "dockercfg", .container = &spec_of_the_service,
 *                     .registry = "127.0.0.1:5000", .run_id = run, .labels = labels };
 *   err = dc_generator_run(&res, e, &g, on_line, ctx);
 *   ... dc_engine_image_push(e, ref, res.auth.ptr, ...) ...
 *   dc_gen_result_release(&res);             wipes
 *
 * The window, step by step:
 *   1. a private directory on the host, mkdtemp "$TMPDIR/dcgen-dockercfg-XXXXXX"
 *      (TMPDIR else /tmp), mode 0700;
 *   2. the generator's container, created from the service's spec with that
 *      directory bind-mounted at DC_GEN_MOUNT ("/dcgen-dockercfg") and the
 *      in-container path of a file that does not exist yet,
 *      DC_GEN_MOUNT "/dockercfg", appended as the ONE argument: the image's
 *      or service's ENTRYPOINT is kept; the command becomes the service's
 *      `command:` argv (if any) followed by the path. The image's own CMD is
 *      dropped, as the hosted CI did ("the path given as its CMD argument"),
 *      except when neither the service nor the image has an ENTRYPOINT: then
 *      the path is appended to the image's CMD (else it would run as a
 *      program). The container carries spec labels plus dcgen.run, and
 *      DC_ENGINE_LABEL_SERVICE=<service>;
 *   3. start it, stream its output lines to on_line (the caller prefixes
 *      them with the service name; stdout and stderr keep their stream id),
 *      wait for its exit code;
 *   4. read the file: directly (O_NOFOLLOW, regular file, <= 1 MiB), or when
 *      the generator wrote it unreadable to us (another user, mode 0400/0544
 *      as root), through the engine (GET /containers/{id}/archive);
 *   5. delete the file and the directory at once, then remove the container
 *      (with its anonymous volumes) -- on success, on every failure, and on
 *      interruption;
 *   6. parse the dockercfg: {"auths": {HOST: ENTRY}} or the legacy top-level
 *      {HOST: ENTRY}; ENTRY has "auth" (base64 "user:password"), or
 *      "username"+"password", or "identitytoken"; pick the entry whose host
 *      matches g.registry after normalising both sides (scheme, trailing
 *      '/', a "/v1/" or "/v2/" suffix, docker.io aliases: "docker.io",
 *      "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"
 *      are all Docker Hub, i.e. "https://index.docker.io/v1/"); an exact
 *      key wins over a normalised match.
 *
 * Failures (DC_ERR, one line each, never a secret):
 *   "dockercfg generator 'S' exited with code N; see its output above"
 *   "dockercfg generator 'S' wrote no file at '/dcgen-dockercfg/dockercfg'; it must write a dockercfg to its one argument"
 *   "dockercfg generator 'S' wrote invalid JSON (line L, column C)"
 *   "dockercfg generator 'S' wrote no credentials for registry 'R' (it has: a, b); check the generator's registry settings"
 *   "dockercfg generator 'S' was interrupted"
 * DC_EUSAGE for a missing image (pull it first; this module never pulls).
 *
 * Signals: dc_generator_signal_cleanup() is async-signal-safe; an
 * executor's SIGINT/SIGTERM handler calls it (and dc_engine_interrupt()). It
 * deletes the file and directory of every window open in this process at
 * once (unlink/rmdir). The dc_generator_run in progress then sees the
 * interruption, removes its container and returns DC_ERR. Up to
 * DC_GEN_MAX_WINDOWS generators may run at once (parallel steps).
 */
#ifndef DC_GENERATOR_H
#define DC_GENERATOR_H

#include <stddef.h>

#include "runner/engine.h"
#include "util/buf.h"
#include "util/error.h"

#define DC_GEN_MOUNT "/dcgen-dockercfg"
#define DC_GEN_FILE DC_GEN_MOUNT "/dockercfg"
#define DC_GEN_MAX_WINDOWS 32
#define DC_GEN_MAX_FILE (1 << 20)

typedef struct {
	const char *service;                  /* its name, in messages */
	const dc_engine_container *container; /* the service's spec: image, entrypoint,
					       * command, env, binds, network, labels...;
					       * name is ignored (the engine names it) */
	const char *registry;                 /* the entry to pick; NULL: none picked
					       * (res.auth stays empty; res.config
					       * has every entry) */
	const char *run_id;                   /* dcgen.run label value, or NULL */
	const char *tmpdir;                   /* parent of the private directory;
					       * NULL: $TMPDIR, else /tmp */
} dc_gen_spec;

typedef struct {
	dc_buf auth;   /* X-Registry-Auth value for g.registry (secret), or empty */
	dc_buf config; /* X-Registry-Config value with every entry (secret): for builds */
	char *matched; /* the dockercfg key that matched (not secret), or NULL */
	int exit_code; /* the generator's exit code */
} dc_gen_result;

#define DC_GEN_RESULT_INIT { DC_BUF_INIT, DC_BUF_INIT, NULL, 0 }

int dc_generator_run(dc_gen_result *out, dc_engine *e, const dc_gen_spec *g,
		     dc_engine_line_fn on_line, void *ctx) DC_MUST_USE;
void dc_gen_result_release(dc_gen_result *r);

/* Async-signal-safe: delete every open window's file and directory now. */
void dc_generator_signal_cleanup(void);

/* Parse a dockercfg (either shape) and pick `registry` (step 6 above) into
 * out->auth, out->config and out->matched. `what` is the subject of
 * messages: "dockercfg generator 'gen'", "encrypted dockercfg 'x.encrypted'".
 * Exposed for tests and for encrypted_dockercfg_path, whose plaintext is the
 * same format. */
int dc_dockercfg_pick(dc_gen_result *out, const char *data, size_t len, const char *registry,
		      const char *what) DC_MUST_USE;
/* The normalised form of a registry name or dockercfg key: host[:port]
 * lower-cased, "https://index.docker.io/v1/" for Docker Hub. */
int dc_registry_normalise(dc_buf *out, const char *name) DC_MUST_USE;

#endif
