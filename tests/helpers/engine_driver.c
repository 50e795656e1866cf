/* engine_driver.c -- a test driver for runner/engine and runner/generator
 * (tests/integration/test_engine.py). Not installed; prints what the tests
 * check. Usage:
 *
 *   dcgen-engine-driver ping
 *   dcgen-engine-driver build CONTEXT [-f DOCKERFILE] [-t TAG]... [--arg K=V]... [--label k=v]...
 *   dcgen-engine-driver run IMAGE [CONTAINER-OPTIONS] [--keep]   output "1|line" "2|line", "exit=N"
 *   dcgen-engine-driver create IMAGE [CONTAINER-OPTIONS] | start ID | kill ID [SIGNAL] | wait ID | logs ID
 *   dcgen-engine-driver read CONTAINER PATH                     the file, to stdout
 *   dcgen-engine-driver rm CONTAINER
 *   dcgen-engine-driver gen SERVICE REGISTRY|- IMAGE [CONTAINER-OPTIONS] [--push REF] [--pull REF]
 *                                 [--build CONTEXT --tag T]  "gen|line", "matched=H", then the registry op
 *   dcgen-engine-driver push REF | pull REF | tag SRC REF | rmi REF
 *   dcgen-engine-driver net-create NAME LABEL | net-rm NAME | list KIND LABEL
 *
 * CONTAINER-OPTIONS: --ep ARG (repeat; --ep-none clears), --cmd ARG (repeat),
 * -e K=V, -v BIND, --net NAME, --alias A, --label k=v, --user U, -w DIR,
 * --hostname H, --name N, --run-id ID.
 * SIGINT/SIGTERM run the generator cleanup and interrupt the engine, as an
 * executor would. Exit 0, or 1 with "error: MESSAGE" on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/engine.h"
#include "runner/generator.h"
#include "util/secret.h"

#define MAXL 64

typedef struct {
	const char *v[MAXL + 1];
	size_t n;
	int given;
} list;

static void add(list *l, const char *s)
{
	l->given = 1;
	if (l->n < MAXL)
		l->v[l->n++] = s;
	l->v[l->n] = NULL;
}

static const char *const *get(const list *l)
{
	return l->given ? l->v : NULL;
}

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	const char *prefix = ctx;

	if (prefix)
		printf("%s|%.*s\n", prefix, (int)len, line);
	else
		printf("%d|%.*s\n", stream, (int)len, line);
	fflush(stdout);
}

static void on_signal(int sig)
{
	(void)sig;
	dc_generator_signal_cleanup();
	dc_engine_interrupt();
}

static int fail(int err)
{
	fprintf(stderr, "error: %s\n", dc_error_last());
	return err == DC_EUSAGE ? 2 : 1;
}

int main(int argc, char **argv)
{
	dc_env env = DC_ENV_PROCESS;
	dc_engine *e = NULL;
	dc_engine_container spec = { 0 };
	list ep = { 0 }, cmd = { 0 }, envl = { 0 }, binds = { 0 }, aliases = { 0 }, labels = { 0 }, tags = { 0 },
	     args = { 0 };
	const char *keep = NULL, *push = NULL, *pull = NULL, *run_id = NULL, *dockerfile = NULL, *build = NULL;
	const char *pos[4] = { 0 };
	struct sigaction sa;
	int i, npos = 0, err = 0, code;
	char *id = NULL;

	dc_secret_install_allocators();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: see engine_driver.c\n");
		return 2;
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define OPT(name) (!strcmp(a, name) && v && (i++, 1))
		if (OPT("--ep"))
			add(&ep, v);
		else if (!strcmp(a, "--ep-none"))
			ep.given = 1;
		else if (OPT("--cmd"))
			add(&cmd, v);
		else if (OPT("-e"))
			add(&envl, v);
		else if (OPT("-v"))
			add(&binds, v);
		else if (OPT("--net"))
			spec.network = v;
		else if (OPT("--alias"))
			add(&aliases, v);
		else if (OPT("--label"))
			add(&labels, v);
		else if (OPT("--user"))
			spec.user = v;
		else if (OPT("-w"))
			spec.working_dir = v;
		else if (OPT("--hostname"))
			spec.hostname = v;
		else if (OPT("--name"))
			spec.name = v;
		else if (OPT("--run-id"))
			run_id = v;
		else if (OPT("--push"))
			push = v;
		else if (OPT("--pull"))
			pull = v;
		else if (OPT("--build"))
			build = v;
		else if (OPT("-f"))
			dockerfile = v;
		else if (OPT("-t") || OPT("--tag"))
			add(&tags, v);
		else if (OPT("--arg"))
			add(&args, v);
		else if (!strcmp(a, "--keep"))
			keep = "1";
		else if (npos < 4)
			pos[npos++] = a;
#undef OPT
	}
	spec.cmd = get(&cmd);
	spec.entrypoint = get(&ep);
	spec.env = get(&envl);
	spec.binds = get(&binds);
	spec.aliases = get(&aliases);
	spec.labels = get(&labels);

	if ((err = dc_engine_open(&e, &env)) < 0)
		return fail(err);
	if (!strcmp(argv[1], "ping")) {
		printf("api=%s\n", dc_engine_api_version(e));
	} else if (!strcmp(argv[1], "build") && npos >= 1) {
		dc_engine_build b = { .context_dir = pos[0], .dockerfile = dockerfile, .tags = get(&tags),
				      .build_args = get(&args), .labels = get(&labels) };

		if ((err = dc_engine_image_build(&id, e, &b, on_line, "build")) == 0)
			printf("id=%s\n", id ? id : "");
	} else if (!strcmp(argv[1], "run") && npos >= 1) {
		spec.image = pos[0];
		if ((err = dc_engine_container_create(&id, e, &spec)) == 0 &&
		    (err = getenv("DRIVER_LOGS") ? dc_engine_container_start(e, id) : 0) == 0 &&
		    (err = getenv("DRIVER_LOGS") ? dc_engine_container_logs(e, id, 1, on_line, NULL)
						 : dc_engine_container_start_attached(e, id, on_line, NULL)) == 0 &&
		    (err = dc_engine_container_wait(&code, e, id)) == 0)
			printf("exit=%d\n", code);
		if (id && keep)
			printf("id=%s\n", id);
		else if (id && dc_engine_container_remove(e, id, 1, 1) < 0 && err == 0)
			err = DC_ERR;
	} else if (!strcmp(argv[1], "create") && npos >= 1) {
		spec.image = pos[0];
		if ((err = dc_engine_container_create(&id, e, &spec)) == 0)
			printf("id=%s\n", id);
	} else if (!strcmp(argv[1], "start") && npos >= 1) {
		err = dc_engine_container_start(e, pos[0]);
	} else if (!strcmp(argv[1], "kill") && npos >= 1) {
		err = dc_engine_container_kill(e, pos[0], npos >= 2 ? pos[1] : NULL);
	} else if (!strcmp(argv[1], "wait") && npos >= 1) {
		if ((err = dc_engine_container_wait(&code, e, pos[0])) == 0)
			printf("exit=%d\n", code);
	} else if (!strcmp(argv[1], "logs") && npos >= 1) {
		err = dc_engine_container_logs(e, pos[0], 0, on_line, NULL);
	} else if (!strcmp(argv[1], "read") && npos >= 2) {
		dc_buf out = DC_BUF_INIT;

		if ((err = dc_engine_container_read_file(&out, e, pos[0], pos[1], 1 << 20)) == 0)
			fwrite(out.ptr, 1, out.len, stdout);
		dc_buf_release(&out);
	} else if (!strcmp(argv[1], "rm") && npos >= 1) {
		err = dc_engine_container_remove(e, pos[0], 1, 1);
	} else if (!strcmp(argv[1], "gen") && npos >= 3) {
		dc_gen_result res = DC_GEN_RESULT_INIT;
		dc_gen_spec g = { .service = pos[0], .container = &spec,
				  .registry = strcmp(pos[1], "-") ? pos[1] : NULL, .run_id = run_id };

		spec.image = pos[2];
		err = dc_generator_run(&res, e, &g, on_line, (void *)pos[0]);
		printf("exit_code=%d\n", res.exit_code);
		if (err == 0) {
			printf("matched=%s\n", res.matched ? res.matched : "");
			if (getenv("DRIVER_PRINT_AUTH"))
				printf("auth=%s\nconfig=%s\n", res.auth.ptr, res.config.ptr);
			if (push)
				err = dc_engine_image_push(e, push, res.auth.ptr, on_line, "push");
			if (err == 0 && pull)
				err = dc_engine_image_pull(e, pull, res.auth.ptr, on_line, "pull");
			if (err == 0 && build) {
				dc_engine_build b = { .context_dir = build, .tags = get(&tags),
						      .registry_config = res.config.ptr };

				err = dc_engine_image_build(&id, e, &b, on_line, "build");
			}
			if (err == 0 && (push || pull || build))
				printf("registry-ok\n");
		}
		dc_gen_result_release(&res);
	} else if (!strcmp(argv[1], "push") && npos >= 1) {
		err = dc_engine_image_push(e, pos[0], getenv("DRIVER_AUTH"), on_line, "push");
	} else if (!strcmp(argv[1], "pull") && npos >= 1) {
		err = dc_engine_image_pull(e, pos[0], getenv("DRIVER_AUTH"), on_line, "pull");
	} else if (!strcmp(argv[1], "tag") && npos >= 2) {
		err = dc_engine_image_tag(e, pos[0], pos[1]);
	} else if (!strcmp(argv[1], "rmi") && npos >= 1) {
		err = dc_engine_image_remove(e, pos[0], 1);
	} else if (!strcmp(argv[1], "exists") && npos >= 1) {
		err = dc_engine_image_exists(e, pos[0]);
		if (err >= 0)
			printf("exists=%d\n", err), err = 0;
	} else if (!strcmp(argv[1], "net-create") && npos >= 2) {
		const char *l[] = { pos[1], NULL };

		if ((err = dc_engine_network_create(&id, e, pos[0], l)) == 0)
			printf("id=%s\n", id);
	} else if (!strcmp(argv[1], "net-rm") && npos >= 1) {
		err = dc_engine_network_remove(e, pos[0]);
	} else if (!strcmp(argv[1], "list") && npos >= 2) {
		static const char *const kinds[] = { "containers", "networks", "images", "volumes" };
		char **ids = NULL, **p;
		int k;

		for (k = 0; k < 4 && strcmp(kinds[k], pos[0]); k++)
			;
		if ((err = dc_engine_list(&ids, NULL, e, k, pos[1])) == 0)
			for (p = ids; *p; p++)
				printf("%s\n", *p);
		dc_engine_list_free(ids);
	} else {
		fprintf(stderr, "usage: see engine_driver.c\n");
		err = DC_EUSAGE;
		dc_error_set(err, "unknown command or missing arguments");
	}
	free(id);
	dc_engine_free(e);
	return err < 0 ? fail(err) : 0;
}
