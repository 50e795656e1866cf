/* steps.c -- `dcgen steps|run|load|validate|cleanup`: jet's commands and
 * flags over front/steps.h. All printing of these commands happens here. */
#include "cli/steps.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/steps.h"
#include "runner/model.h"
#include "util/buf.h"
#include "util/env.h"
#include "util/log.h"

enum { OPT_DIR = 256, OPT_SERVICES, OPT_STEPS, OPT_TAG, OPT_PUSH, OPT_KEY, OPT_NO_REMOVE, OPT_PULL,
       OPT_DCFG_SVC, OPT_DCFG_PATH, OPT_DRY, OPT_ALL, OPT_DEBUG, OPT_NOTTY, OPT_ENTRYPOINT,
       OPT_CI_BRANCH, OPT_CI_BUILD_ID, OPT_CI_DESC, OPT_CI_COMMIT, OPT_CI_MSG, OPT_CI_EMAIL, OPT_CI_NAME,
       OPT_CI_USER, OPT_CI_PROJECT, OPT_CI_REPO };

static const char usage_text[] =
	"usage: dcgen steps    [options]               run codeship-steps.yml\n"
	"       dcgen run      [options] SERVICE [CMD...]  one command in a service\n"
	"       dcgen load     [options] SERVICE       pull or build a service's image\n"
	"       dcgen validate [options]               check both files\n"
	"       dcgen cleanup  [--dry-run] [--all]     remove what runs left behind\n"
	"\n"
	"options:\n"
	"  --dir DIR                    the project directory (default: .)\n"
	"  --services-path PATH         default codeship-services.yml, else docker-compose.yml\n"
	"  --steps-path PATH            default codeship-steps.yml\n"
	"  --tag TAG                    the build's branch or tag (steps with 'tag:' need it)\n"
	"  --push                       run push steps (skipped otherwise)\n"
	"  -e, --env K=V                add to every step container (repeatable)\n"
	"  --ci-branch, --ci-build-id, --ci-commit-description, --ci-commit-id,\n"
	"  --ci-commit-message, --ci-committer-email, --ci-committer-name,\n"
	"  --ci-committer-username, --ci-project-id, --ci-repo-name VALUE\n"
	"                               CI_* variables (else from the git checkout)\n"
	"  --key-path PATH              the AES key (default DIR/codeship.aes)\n"
	"  --no-remove                  keep containers and networks\n"
	"  --pull-if-present            pull images even when present locally\n"
	"  --dockercfg-service NAME     generator service for pulls without credentials\n"
	"  --entrypoint CMD             run: replace the service's entrypoint\n"
	"  --encrypted-dockercfg-path P encrypted dockercfg for pulls without credentials\n"
	"\n"
	"exit codes: 0 ok, 1 a step failed, 2 usage or configuration, 130/143 on SIGINT/SIGTERM\n";

static void put_line(FILE *f, const char *prefix, const char *text, size_t len)
{
	size_t i;

	flockfile(f);
	fputs(prefix, f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\r' || c == '\n')
			continue;
		if ((c < 0x20 && c != '\t' && c != 0x1b) || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			putc_unlocked((int)c, f);
	}
	putc_unlocked('\n', f);
	fflush(f);
	funlockfile(f);
}

static void sink(enum dc_log_level level, const char *line)
{
	static const char *const prefix[] = { "dcgen: error: ", "dcgen: warning: ", "dcgen: ", "dcgen: debug: " };

	put_line(stderr, prefix[level], line, strlen(line));
}

static void out(void *ctx, const char *prefix, int stream, const char *line, size_t len)
{
	char p[300];

	(void)ctx;
	snprintf(p, sizeof(p), "%s | ", prefix ? prefix : "");
	put_line(stream == 2 ? stderr : stdout, p, line, len);
}

static int fail(dc_redactor *r, int err)
{
	dc_buf line = DC_BUF_INIT;

	dc_buf_init(&line, 0, DC_BUF_SECRET);
	if (dc_buf_puts(&line, dc_error_last()) == 0) {
		dc_redactor_apply(r, &line);
		put_line(stderr, "dcgen: error: ", line.ptr, line.len);
	}
	dc_buf_release(&line);
	return err == DC_EUSAGE ? 2 : 1;
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "dcgen: error: %s%s%s; see 'dcgen steps --help'\n", what, arg ? " " : "", arg ? arg : "");
	return 2;
}

static void print_diags(const dc_model *m)
{
	size_t i;

	for (i = 0; i < m->ndiags; i++)
		put_line(stderr, m->diags[i].error ? "dcgen: error: " : "dcgen: warning: ", m->diags[i].text,
			 strlen(m->diags[i].text));
}

int dc_cli_codeship(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "services-path", required_argument, NULL, OPT_SERVICES },
		{ "steps-path", required_argument, NULL, OPT_STEPS },
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "push", optional_argument, NULL, OPT_PUSH },
		{ "env", required_argument, NULL, 'e' },
		{ "key-path", required_argument, NULL, OPT_KEY },
		{ "no-remove", no_argument, NULL, OPT_NO_REMOVE },
		{ "pull-if-present", no_argument, NULL, OPT_PULL },
		{ "dockercfg-service", required_argument, NULL, OPT_DCFG_SVC },
		{ "encrypted-dockercfg-path", required_argument, NULL, OPT_DCFG_PATH },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "no-tty", no_argument, NULL, OPT_NOTTY },
		{ "ci-branch", required_argument, NULL, OPT_CI_BRANCH },
		{ "ci-build-id", required_argument, NULL, OPT_CI_BUILD_ID },
		{ "ci-commit-description", required_argument, NULL, OPT_CI_DESC },
		{ "ci-commit-id", required_argument, NULL, OPT_CI_COMMIT },
		{ "ci-commit-message", required_argument, NULL, OPT_CI_MSG },
		{ "ci-committer-email", required_argument, NULL, OPT_CI_EMAIL },
		{ "ci-committer-name", required_argument, NULL, OPT_CI_NAME },
		{ "ci-committer-username", required_argument, NULL, OPT_CI_USER },
		{ "ci-project-id", required_argument, NULL, OPT_CI_PROJECT },
		{ "ci-repo-name", required_argument, NULL, OPT_CI_REPO },
		{ "entrypoint", required_argument, NULL, OPT_ENTRYPOINT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = argc >= 2 ? argv[1] : "";
	const char *dir = ".", *services = NULL, *steps = NULL;
	dc_steps_opts o = { 0 };
	dc_model m = DC_MODEL_INIT;
	dc_env env = DC_ENV_PROCESS;
	const char **envs = NULL;
	size_t nenv = 0;
	int c, err, rc = 0, all = 0, dry = 0, failed = 0, code;
	enum dc_log_level level = DC_LOG_INFO;
	dc_redactor *redactor = NULL;
	dc_log log = DC_LOG_INIT;

	if (strcmp(cmd, "steps") && strcmp(cmd, "run") && strcmp(cmd, "load") && strcmp(cmd, "validate") &&
	    strcmp(cmd, "cleanup"))
		return -1;
	argc--, argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:e:hT", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIR: dir = optarg; break;
		case OPT_SERVICES: services = optarg; break;
		case OPT_STEPS: steps = optarg; break;
		case OPT_TAG: o.tag = optarg; break;
		case OPT_PUSH:
			if (optarg && strcmp(optarg, "true") && strcmp(optarg, "false"))
				return usage_error("--push takes true or false, not", optarg);
			o.push = !optarg || !strcmp(optarg, "true");
			break;
		case 'e': {
			const char **n = realloc(envs, (nenv + 2) * sizeof(*n));
			if (!n)
				return usage_error("out of memory", NULL);
			envs = n;
			envs[nenv++] = optarg;
			envs[nenv] = NULL;
			break;
		}
		case OPT_KEY: o.key_path = optarg; break;
		case OPT_NO_REMOVE: o.no_remove = 1; break;
		case OPT_PULL: o.pull_if_present = 1; break;
		case OPT_DCFG_SVC: o.dockercfg_service = optarg; break;
		case OPT_DCFG_PATH: o.encrypted_dockercfg_path = optarg; break;
		case OPT_DRY: dry = 1; break;
		case OPT_ALL: all = 1; break;
		case OPT_DEBUG: level = DC_LOG_DEBUG; break;
		case 'T': case OPT_NOTTY: break; /* output is never a TTY here */
		case OPT_CI_BRANCH: o.ci_branch = optarg; break;
		case OPT_CI_BUILD_ID: o.ci_build_id = optarg; break;
		case OPT_CI_DESC: o.ci_commit_description = optarg; break;
		case OPT_CI_COMMIT: o.ci_commit_id = optarg; break;
		case OPT_CI_MSG: o.ci_commit_message = optarg; break;
		case OPT_CI_EMAIL: o.ci_committer_email = optarg; break;
		case OPT_CI_NAME: o.ci_committer_name = optarg; break;
		case OPT_CI_USER: o.ci_committer_username = optarg; break;
		case OPT_CI_PROJECT: o.ci_project_id = optarg; break;
		case OPT_CI_REPO: o.ci_repo_name = optarg; break;
		case OPT_ENTRYPOINT: o.entrypoint = optarg; break;
		case 'h': fputs(usage_text, stdout); free(envs); return 0;
		case ':': free(envs); return usage_error("this option needs a value:", argv[optind - 1]);
		default: free(envs); return usage_error("unknown option", argv[optind - 1]);
		}
	}
	o.env = envs;
	o.out = out;
	if (dc_redactor_new(&redactor) < 0) {
		rc = fail(NULL, DC_ERR);
		goto done;
	}
	log.sink = sink;
	log.max_level = level;
	log.redactor = redactor;
	o.log = &log;
	if ((!strcmp(cmd, "run") || !strcmp(cmd, "load")) && optind >= argc) {
		rc = usage_error("name the SERVICE:", cmd);
		goto done;
	}
	if (strcmp(cmd, "run") && optind + (!strcmp(cmd, "load")) < argc) {
		rc = usage_error("unexpected argument", argv[optind + (!strcmp(cmd, "load"))]);
		goto done;
	}
	err = dc_model_load(&m, dir, services, steps, !strcmp(cmd, "steps") || !strcmp(cmd, "validate"));
	print_diags(&m);
	if (err < 0 && !m.ndiags)
		rc = fail(redactor, err);
	else if (err < 0)
		rc = err == DC_EUSAGE ? 2 : 1;
	if (rc)
		goto done;
	if (!strcmp(cmd, "validate")) {
		printf("%s%s%s: valid\n", m.services_path, m.steps_path ? " and " : "", m.steps_path ? m.steps_path : "");
		goto done;
	}
	if (!strcmp(cmd, "cleanup")) {
		size_t nc, nn;
		if ((err = dc_steps_cleanup(&nc, &nn, &m, &env, all, dry)) < 0)
			rc = fail(redactor, err);
		else
			dc_log_info(&log, "%s %zu container%s and %zu network%s", dry ? "would remove" : "removed", nc,
				    nc == 1 ? "" : "s", nn, nn == 1 ? "" : "s");
		goto done;
	}
	dc_steps_install_signals();
	if (!strcmp(cmd, "steps")) {
		err = dc_steps_run(&failed, &m, &o, &env);
		if (err < 0 && !dc_steps_signal())
			rc = fail(redactor, err);
		else if (failed || err < 0)
			rc = 1;
		if (!rc)
			dc_log_info(&log, "all steps passed");
		else if (!dc_steps_signal() && err == 0)
			put_line(stderr, "dcgen: ", "a step failed", 13);
	} else if (!strcmp(cmd, "run")) {
		err = dc_steps_run_service(&code, &m, &o, &env, argv[optind],
					   optind + 1 < argc ? (const char *const *)argv + optind + 1 : NULL);
		if (err < 0 && !dc_steps_signal())
			rc = fail(redactor, err);
		else
			rc = code == 0 ? 0 : 1;
	} else {
		if ((err = dc_steps_load(&m, &o, &env, argv[optind])) < 0 && !dc_steps_signal())
			rc = fail(redactor, err);
	}
	if (dc_steps_signal())
		rc = 128 + dc_steps_signal();
done:
	dc_model_release(&m);
	dc_redactor_free(redactor);
	free(envs);
	return rc;
}
