/* steps.h -- run codeship-services.yml / codeship-steps.yml on a Docker
 * engine, as the hosted CodeShip CI did (shared/CODESHIP.md).
 *
 *   dc_steps_opts o = { .dir = ".", .push = 1, .out = print_line, ... };
 *   dc_model m = DC_MODEL_INIT;  dc_model_load(&m, o.dir, ..., 1);
 *   dc_steps_install_signals();           SIGINT/SIGTERM stop the run cleanly
 *   err = dc_steps_run(&failed, &m, &o, &env);
 *   if (dc_steps_signal()) exit 128 + dc_steps_signal();
 *
 * Every step runs in its own network with fresh containers for its
 * dependencies; every object carries the labels dcgen.run=<id> and
 * dcgen.project=<project>, and all of them are removed at the end (unless
 * no_remove); dc_steps_cleanup removes what an interrupted run left.
 * Container output goes to `out` one whole line at a time, prefixed by the
 * step and service; the executor's own messages go to dc_log_*.
 *
 * Return: 0 when the run happened (then *failed says whether a step
 * failed), DC_EUSAGE for configuration errors met while running (a bad
 * template, a missing key), DC_ERR when the engine cannot be reached.
 */
#ifndef DC_FRONT_STEPS_H
#define DC_FRONT_STEPS_H

#include <stddef.h>

#include "runner/model.h"
#include "util/env.h"
#include "util/log.h"
#include "util/error.h"

/* One output line of a container (or a generator, a build): `prefix` names
 * the step/service, `stream` is 1 stdout, 2 stderr, 0 engine progress. */
typedef void (*dc_steps_out_fn)(void *ctx, const char *prefix, int stream, const char *line, size_t len);

typedef struct {
	const char *tag;            /* --tag: the build's branch or tag */
	int push;                   /* --push: run push steps */
	const char *const *env;     /* -e K=V (NULL-terminated, may be NULL) */
	/* --ci-*: NULL means "from the git checkout" (branch, commit, message,
	 * description, committer), else a default */
	const char *ci_branch, *ci_build_id, *ci_commit_description, *ci_commit_id, *ci_commit_message,
		*ci_committer_email, *ci_committer_name, *ci_committer_username, *ci_project_id,
		*ci_repo_name;
	const char *key_path;       /* --key-path, default DIR/codeship.aes */
	int no_remove;              /* --no-remove */
	int pull_if_present;        /* --pull-if-present */
	const char *dockercfg_service, *encrypted_dockercfg_path; /* global fallbacks for pulls */
	const char *entrypoint;     /* `run --entrypoint`: replaces the service's (split into words) */
	dc_steps_out_fn out;
	void *out_ctx;
	const dc_log *log;          /* dcgen's own messages (its redactor gets every
				     * decrypted value); borrowed, required */
} dc_steps_opts;

int dc_steps_run(int *failed, const dc_model *m, const dc_steps_opts *o, const dc_env *env) DC_MUST_USE;

/* `dcgen run SERVICE [CMD...]`: one container of `service` with its
 * dependencies, `argv` (NULL: the service's command) as its command.
 * *code gets the container's exit code. */
int dc_steps_run_service(int *code, const dc_model *m, const dc_steps_opts *o, const dc_env *env,
			 const char *service, const char *const *argv) DC_MUST_USE;

/* `dcgen load SERVICE`: pull or build its image. */
int dc_steps_load(const dc_model *m, const dc_steps_opts *o, const dc_env *env, const char *service) DC_MUST_USE;

/* `dcgen cleanup`: remove every container and network carrying the
 * dcgen.project label of `m` (all projects when `all`). */
int dc_steps_cleanup(size_t *containers, size_t *networks, const dc_model *m, const dc_env *env, int all,
		     int dry_run) DC_MUST_USE;

/* Install SIGINT/SIGTERM handlers: they interrupt engine calls and delete
 * every open generator window at once; the run then removes what it made. */
void dc_steps_install_signals(void);
/* The signal that stopped the run, or 0. */
int dc_steps_signal(void);

/* The project name used in labels and made-up image names: the base name
 * of the directory, lower case, [a-z0-9_.-] only. Caller frees. */
char *dc_steps_project(const char *dir);

#endif
