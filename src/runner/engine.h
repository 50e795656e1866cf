/* engine.h -- a Docker Engine API client (images, networks, containers).
 *
 *   dc_engine *e = NULL;
 *   err = dc_engine_open(&e, &env);        DOCKER_HOST etc.; pings, negotiates
 *   err = dc_engine_image_exists(e, "busybox:latest");    1, 0 or < 0
 *   err = dc_engine_image_pull(e, "127.0.0.1:5000/app:1", auth, on_line, ctx);
 *   err = dc_engine_image_build(e, &build, on_line, ctx);
 *   err = dc_engine_network_create(&net_id, e, "dcgen-1234-step", labels);
 *   err = dc_engine_container_create(&id, e, &spec);
 *   err = dc_engine_container_start_attached(e, id, on_line, ctx);   until it exits
 *   err = dc_engine_container_wait(&code, e, id);
 *   err = dc_engine_container_remove(e, id, 1, 1);
 *   dc_engine_free(e);
 *
 * Connection (as the docker CLI): DOCKER_HOST "unix:///path" (default
 * unix:///var/run/docker.sock) or "tcp://host:port"; with DOCKER_TLS_VERIFY
 * (any non-empty value) or DOCKER_TLS, TLS with DOCKER_CERT_PATH's ca.pem,
 * cert.pem and key.pem (default ~/.docker); DOCKER_TLS_VERIFY verifies the
 * engine's certificate, DOCKER_TLS alone does not. dc_engine_open pings the
 * engine (GET /_ping) and speaks API version min(1.41, the engine's), refusing
 * engines older than 1.24; every path is prefixed "/v1.NN".
 *
 * Threads: one dc_engine per thread (dc_engine_clone copies the negotiated
 * settings without a new ping). Long operations (pull, build, push, logs,
 * wait) are interruptible: dc_engine_interrupt(), async-signal-safe, ends them
 * in every thread with DC_ERR "interrupted"; cleanup calls (kill, remove) are
 * not, so a signal handler calls dc_engine_interrupt() and the code that
 * was waiting removes what it created, then returns.
 *
 * Errors: 0 or a negative code, message set as "the Docker engine ...: MSG"
 * with the engine's own {"message"}; DC_ENOTFOUND (message set) for a 404
 * on an object lookup. Pull, build and push stream JSON progress lines:
 * each line's "status"/"stream"/"progress" text goes to `on_line` (stream
 * DC_ENGINE_PROGRESS), and an "error"/"errorDetail" in the stream is a
 * failure (DC_ERR, the message names the image and the engine's text), even
 * though the HTTP status was 200.
 *
 * Registry credentials are passed as X-Registry-Auth values: base64url (with
 * padding, as the docker CLI sends it) of {"username","password"} or
 * {"identitytoken"}, plus "serveraddress". runner/generator.h makes them;
 * dc_engine_auth_encode makes one from parts. NULL means anonymous.
 *
 * Labels: lists of "key=value" strings. Every object a run creates should
 * carry DC_ENGINE_LABEL_RUN=<run id> and DC_ENGINE_LABEL_PROJECT=<name>, so
 * dc_engine_list(..., "dcgen.run=ID") finds what an interrupted run left.
 *
 * Lists of strings (argv, env, binds, labels...) are NULL-terminated arrays;
 * a NULL list means "not given".
 */
#ifndef DC_ENGINE_H
#define DC_ENGINE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/env.h"
#include "util/error.h"

#define DC_ENGINE_LABEL_RUN "dcgen.run"
#define DC_ENGINE_LABEL_PROJECT "dcgen.project"
#define DC_ENGINE_LABEL_STEP "dcgen.step"
#define DC_ENGINE_LABEL_SERVICE "dcgen.service"

typedef struct dc_engine dc_engine;

/* Output lines: no trailing newline, not NUL-terminated (use len). A line
 * longer than 64 KiB arrives in pieces. Lines are delivered in order;
 * `stream` says where they came from. */
enum { DC_ENGINE_PROGRESS = 0, DC_ENGINE_STDOUT = 1, DC_ENGINE_STDERR = 2 };
typedef void (*dc_engine_line_fn)(void *ctx, int stream, const char *line, size_t len);

/* Reads DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_TLS, DOCKER_CERT_PATH, HOME
 * from `env`. DC_EUSAGE for a malformed DOCKER_HOST (ssh:// and npipe:// are
 * refused by name) or missing certificate files; DC_ERR when the engine does
 * not answer ("cannot reach the Docker engine at 'unix:///...': ...; is
 * dockerd running? check DOCKER_HOST"). The caller frees *out. */
int dc_engine_open(dc_engine **out, const dc_env *env) DC_MUST_USE;
/* A second handle to the same engine and API version (for another thread). */
int dc_engine_clone(dc_engine **out, const dc_engine *e) DC_MUST_USE;
void dc_engine_free(dc_engine *e);

/* What containers need to reach the same engine (add_docker): the unix
 * socket path (NULL for tcp), DOCKER_HOST as given (or the default), the
 * certificate directory when TLS is on (else NULL), whether TLS verifies.
 * Borrowed, valid until dc_engine_free. */
const char *dc_engine_unix_path(const dc_engine *e);
const char *dc_engine_host(const dc_engine *e);
const char *dc_engine_cert_path(const dc_engine *e);
int dc_engine_tls_verify(const dc_engine *e);
/* The negotiated API version, "1.41". */
const char *dc_engine_api_version(const dc_engine *e);

/* Async-signal-safe; see above. */
void dc_engine_interrupt(void);
void dc_engine_interrupt_clear(void);

/* ---- registry auth ---- */

/* X-Registry-Auth value from parts: `secret` is the password, or the
 * identity token when `username` is NULL or "<token>". `server` may be NULL.
 * Appends to `out` (make it a DC_BUF_SECRET buffer). */
int dc_engine_auth_encode(dc_buf *out, const char *username, const char *secret,
			  const char *server) DC_MUST_USE;

/* ---- images ---- */

/* GET /images/{ref}/json: 1 when present, 0 when absent, < 0 on error. */
int dc_engine_image_exists(dc_engine *e, const char *ref) DC_MUST_USE;
/* The image's id ("sha256:...") into *id (caller frees); DC_ENOTFOUND when
 * absent. `entrypoint_set` (may be NULL) gets 1 when the image has a
 * non-empty ENTRYPOINT. */
int dc_engine_image_inspect(char **id, int *entrypoint_set, dc_engine *e, const char *ref) DC_MUST_USE;

/* The image's ENTRYPOINT and CMD as NULL-terminated lists (free each with
 * dc_engine_list_free; an image without one gives an empty list).
 * DC_ENOTFOUND when the image is absent. */
int dc_engine_image_argv(char ***entrypoint, char ***cmd, dc_engine *e, const char *ref) DC_MUST_USE;

/* POST /images/create?fromImage=NAME&tag=TAG ("latest" when the reference
 * names none; a digest is kept). `auth`: an X-Registry-Auth value or NULL. */
int dc_engine_image_pull(dc_engine *e, const char *ref, const char *auth, dc_engine_line_fn on_line,
			 void *ctx) DC_MUST_USE;

typedef struct {
	const char *context_dir;       /* host directory, sent as a tar (honours .dockerignore) */
	const char *dockerfile;        /* path inside the context; NULL: "Dockerfile" */
	const char *const *tags;       /* "name[:tag]" each, may be NULL */
	const char *const *build_args; /* "NAME=value" each */
	const char *const *labels;     /* "key=value" each, set on the image */
	const char *registry_config;   /* X-Registry-Config value for FROM pulls
					* (dc_gen_result.config), or NULL */
	int pull;                      /* always try to pull newer FROM images */
	int no_cache;
} dc_engine_build;

/* POST /build with the context as a tar stream (streamed, not in memory)
 * made with libarchive: files under context_dir except those .dockerignore
 * excludes (Docker's rules, runner/dockerignore.h); the Dockerfile and
 * .dockerignore are always sent. Symlinks are sent as symlinks, never
 * followed. `image_id` (may be NULL) gets the built image id (caller frees).
 * DC_EUSAGE when the context or Dockerfile is missing. */
int dc_engine_image_build(char **image_id, dc_engine *e, const dc_engine_build *b,
			  dc_engine_line_fn on_line, void *ctx) DC_MUST_USE;

/* POST /images/{src}/tag?repo=..&tag=.. : give `src` the name `ref`
 * ("repo[:tag]", tag "latest" when absent). */
int dc_engine_image_tag(dc_engine *e, const char *src, const char *ref) DC_MUST_USE;
/* POST /images/{name}/push?tag=..; a push whose stream reports an error
 * (unauthorized, a layer upload failing midway) is a failure. */
int dc_engine_image_push(dc_engine *e, const char *ref, const char *auth, dc_engine_line_fn on_line,
			 void *ctx) DC_MUST_USE;
/* DELETE /images/{ref}; DC_ENOTFOUND when absent. */
int dc_engine_image_remove(dc_engine *e, const char *ref, int force) DC_MUST_USE;

/* ---- networks ---- */

/* POST /networks/create (driver bridge, CheckDuplicate). *id gets the id
 * (caller frees; may be NULL). */
int dc_engine_network_create(char **id, dc_engine *e, const char *name,
			     const char *const *labels) DC_MUST_USE;
/* DELETE /networks/{id}; DC_ENOTFOUND when absent. */
int dc_engine_network_remove(dc_engine *e, const char *name_or_id) DC_MUST_USE;

/* ---- containers ---- */

typedef struct {
	const char *name;                 /* container name, or NULL: the engine's */
	const char *image;
	const char *const *cmd;           /* argv; NULL: the image's CMD */
	const char *const *entrypoint;    /* argv; NULL: the image's ENTRYPOINT;
					   * an empty list ({NULL}) clears it */
	const char *const *env;           /* "K=v" */
	const char *const *binds;         /* "host:container[:ro|rw]" (host absolute) */
	const char *working_dir;
	const char *user;
	const char *hostname;
	const char *network;              /* network name or id, "host", "none";
					   * NULL: the engine's default */
	const char *const *aliases;       /* DNS aliases in `network` */
	const char *const *links;         /* "container[:alias]" */
	const char *const *volumes_from;  /* container names or ids ("[:ro]") */
	const char *const *labels;        /* "key=value" */
	int privileged;
	int tty;                          /* a TTY: output is not multiplexed */
} dc_engine_container;

/* POST /containers/create. *id gets the id (caller frees). */
int dc_engine_container_create(char **id, dc_engine *e, const dc_engine_container *spec) DC_MUST_USE;
int dc_engine_container_start(dc_engine *e, const char *id) DC_MUST_USE;
/* Attach to the container's stdout and stderr (POST /attach, stream=1),
 * start it once the stream is open, and deliver its output lines until its
 * streams close (it exited), as `docker run` does. Prefer this to start +
 * logs: a log driver's follow stream can lose the last line when the
 * container exits (seen here with json-file, about 1 run in 30). on_line is
 * called in the calling thread. Interruptible. Then call _wait for the code. */
int dc_engine_container_start_attached(dc_engine *e, const char *id, dc_engine_line_fn on_line,
				       void *ctx) DC_MUST_USE;
/* GET /containers/{id}/logs (stdout and stderr, from the start): with
 * `follow`, until the container stops. Multiplexed frames (8-byte headers)
 * are split apart unless the container has a TTY; output is cut into
 * lines per stream (a last line without newline is delivered too). */
int dc_engine_container_logs(dc_engine *e, const char *id, int follow, dc_engine_line_fn on_line,
			     void *ctx) DC_MUST_USE;
/* POST /containers/{id}/wait: blocks until it stops; *code gets its exit code. */
int dc_engine_container_wait(int *code, dc_engine *e, const char *id) DC_MUST_USE;
/* POST /containers/{id}/kill; a container that is not running is not an error. */
int dc_engine_container_kill(dc_engine *e, const char *id, const char *signal) DC_MUST_USE;
/* DELETE /containers/{id}?force=..&v=..; DC_ENOTFOUND when absent. */
int dc_engine_container_remove(dc_engine *e, const char *id, int force, int volumes) DC_MUST_USE;
/* GET /containers/{id}/archive?path=PATH and extract the one regular file:
 * its content into `out` (use a DC_BUF_SECRET buffer for secrets), at most
 * `max` bytes. Works on stopped containers (their volumes and binds too).
 * DC_ENOTFOUND when the path does not exist, DC_ERR when it is not a
 * regular file or larger than `max`. */
int dc_engine_container_read_file(dc_buf *out, dc_engine *e, const char *id, const char *path,
				  size_t max) DC_MUST_USE;

/* ---- listing (cleanup) ---- */

enum { DC_ENGINE_CONTAINERS, DC_ENGINE_NETWORKS, DC_ENGINE_IMAGES, DC_ENGINE_VOLUMES };
/* The ids of every object of `kind` carrying `label` ("key=value" or "key"),
 * containers stopped or not. *ids is a NULL-terminated array (free with
 * dc_engine_list_free); *n (may be NULL) its length. */
int dc_engine_list(char ***ids, size_t *n, dc_engine *e, int kind, const char *label) DC_MUST_USE;
void dc_engine_list_free(char **ids);

/* ---- the stream format (exposed for tests) ---- */

/* A demultiplexer for the engine's stdout/stderr stream: feed it bytes as
 * they come (any split); it calls on_line per complete line per stream.
 * With `raw` (a TTY) the bytes are all stdout. flush delivers what is left. */
typedef struct {
	dc_engine_line_fn on_line;
	void *ctx;
	int raw;
	unsigned char hdr[8];
	size_t hdr_len;
	size_t frame_left;
	int frame_stream;
	dc_buf line[3]; /* pending partial line per stream */
} dc_engine_demux;

void dc_engine_demux_init(dc_engine_demux *d, int raw, dc_engine_line_fn on_line, void *ctx);
/* DC_ERR on a malformed header (a stream id other than 0, 1, 2) or out of memory. */
int dc_engine_demux_feed(dc_engine_demux *d, const char *data, size_t n) DC_MUST_USE;
void dc_engine_demux_flush(dc_engine_demux *d);
void dc_engine_demux_release(dc_engine_demux *d);

#endif
