/* model.h -- codeship-services.yml and codeship-steps.yml as typed structs.
 *
 *   dc_model m = DC_MODEL_INIT;
 *   err = dc_model_load(&m, dir, services_path, steps_path);   steps_path may be NULL
 *   for (i = 0; i < m.ndiags; i++) print m.diags[i].text (warnings and errors)
 *   dc_model_service(&m, "app") -> const dc_service * (borrowed) or NULL
 *   dc_model_release(&m);
 *
 * Every value keeps the line it came from; every diagnostic reads
 * "FILE:LINE: service 'x': KEY ..." so a user finds it at once. Loading goes
 * on after an error to report all of them; it returns DC_EUSAGE when any
 * error was found (the first one is also the current dc_error), 0 otherwise
 * (warnings do not fail). Files: the services file is codeship-services.yml,
 * else docker-compose.yml, in `dir` unless a path is given (relative paths
 * are relative to `dir`); the steps file codeship-steps.yml (or .json).
 * Nothing here reads env files or talks to an engine: the executor does.
 */
#ifndef DC_RUNNER_MODEL_H
#define DC_RUNNER_MODEL_H

#include <stddef.h>

#include "util/error.h"

/* A list of strings, each with its line. */
typedef struct {
	char **v;
	int *line;
	size_t n;
} dc_strv;

typedef struct {
	char *name;
	int line;
	char *image; /* `image`, or `build.image` for a build service */
	int build;   /* has a `build` section */
	char *context;    /* absolute: build context directory */
	char *dockerfile; /* relative to the context, NULL = Dockerfile */
	dc_strv build_args;            /* "K=V", values still templates */
	dc_strv encrypted_args_files;  /* absolute paths */
	dc_strv encrypted_args;        /* inline base64 */
	dc_strv environment;           /* "K=V" (or "K": taken from the host) */
	dc_strv env_files;             /* absolute */
	dc_strv encrypted_env_files;   /* absolute */
	dc_strv encrypted_environment; /* inline base64 */
	dc_strv volumes;               /* "HOSTABS:CONT[:ro]" or "CONT" */
	dc_strv volumes_from, depends_on;
	dc_strv links;    /* "svc" or "svc:alias" */
	dc_strv entrypoint; /* set when entrypoint_set */
	dc_strv command;    /* set when command_set */
	int entrypoint_set, command_set;
	int add_docker, cached;
	char *working_dir, *user, *hostname, *domainname;
	char *dockercfg_service, *encrypted_dockercfg_path; /* the path absolute */
} dc_service;

enum dc_step_type { DC_STEP_RUN, DC_STEP_PUSH, DC_STEP_SERIAL, DC_STEP_PARALLEL };

typedef struct dc_step {
	char *name; /* given, or made up ("service-N") */
	int named;  /* the name was given */
	int line;
	enum dc_step_type type;
	char *tag, *exclude;
	char *service;  /* as written; groups pass it down (executor) */
	dc_strv services;
	char *command;
	char *image_name, *image_tag, *registry;
	char *dockercfg_service, *encrypted_dockercfg_path; /* the path absolute */
	struct dc_step *steps;
	size_t nsteps;
	struct dc_step *on_fail;
	size_t non_fail;
} dc_step;

typedef struct {
	int error; /* 1 error, 0 warning */
	char *text;
} dc_diag;

typedef struct {
	char *dir;           /* absolute */
	char *services_path; /* absolute */
	char *steps_path;    /* absolute, NULL when not loaded */
	dc_service *services;
	size_t nservices;
	dc_step *steps;
	size_t nsteps;
	dc_diag *diags;
	size_t ndiags, nerrors;
} dc_model;

#define DC_MODEL_INIT { 0 }

/* Load and check both files (`steps_path` NULL and `want_steps` 0: services
 * only). DC_EUSAGE when a file is missing or any error was found; DC_ERR on
 * out of memory. The model is filled as far as it could be either way:
 * release it. */
int dc_model_load(dc_model *m, const char *dir, const char *services_path, const char *steps_path,
		  int want_steps) DC_MUST_USE;
void dc_model_release(dc_model *m);

const dc_service *dc_model_service(const dc_model *m, const char *name);

/* Split a command line into words as jet did: whitespace separates words;
 * '...' keeps everything literally, "..." keeps everything but \" and \\;
 * a backslash outside quotes escapes the next character. No variables, no
 * globbing. DC_EUSAGE on an unterminated quote (message names `what`). */
int dc_model_split(dc_strv *out, const char *line, const char *what) DC_MUST_USE;
int dc_strv_push(dc_strv *v, const char *s, int line) DC_MUST_USE;
void dc_strv_release(dc_strv *v);

/* "did you mean 'x'?" for a misspelt key: the closest of `known` (NULL
 * terminated) within a small edit distance, or NULL. */
const char *dc_model_suggest(const char *key, const char *const *known);

#endif
