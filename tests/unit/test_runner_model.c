/* test_runner_model.c -- services/steps parsing, diagnostics, command
 * splitting, tag matching and the template subset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/model.h"
#include "runner/tags.h"
#include "runner/template.h"
#include "t.h"

static char root[] = "/tmp/dcgen-model-XXXXXX";

static void put(const char *name, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, name);
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

/* All diagnostics, one per line. */
static char *diags(const dc_model *m)
{
	static char buf[8192];
	size_t i;

	buf[0] = 0;
	for (i = 0; i < m->ndiags; i++) {
		strncat(buf, m->diags[i].error ? "E " : "W ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, m->diags[i].text, sizeof(buf) - strlen(buf) - 1);
		strncat(buf, "\n", sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

static const char services_ok[] =
	"version: '2'\n"
	"services:\n"
	"  app:\n"
	"    build:\n"
	"      image: example/app\n"
	"      dockerfile_path: Dockerfile.test\n"
	"      args:\n"
	"        BRANCH: \"{{ .Branch }}\"\n"
	"    environment:\n"
	"      A: one\n"
	"    env_file: app.env\n"
	"    encrypted_env: creds.encrypted\n"
	"    volumes:\n"
	"      - ./tmp:/data\n"
	"    depends_on: [db]\n"
	"    links: ['db:database']\n"
	"    ports: ['80:80']\n"
	"    tty: true\n"
	"    cached: true\n"
	"  db:\n"
	"    image: busybox\n"
	"    command: sh -c 'sleep 30'\n"
	"    environment:\n"
	"      - X=1\n"
	"  gen:\n"
	"    image: busybox\n"
	"    expose: ['1']\n";

static const char steps_ok[] =
	"- name: tests\n"
	"  type: parallel\n"
	"  steps:\n"
	"  - service: app\n"
	"    command: echo \"a b\" 'c d' e\\ f\n"
	"  - type: serial\n"
	"    service: app\n"
	"    steps:\n"
	"    - command: true\n"
	"    - command: false\n"
	"      on_fail:\n"
	"      - command: echo failed\n"
	"- type: push\n"
	"  service: app\n"
	"  tag: ^(master|main)$\n"
	"  image_name: localhost:5000/app\n"
	"  image_tag: \"{{ .Branch }}\"\n"
	"  dockercfg_service: gen\n";

static void test_load_ok(void)
{
	dc_model m = DC_MODEL_INIT;
	const dc_service *app, *db;
	int err;

	put("codeship-services.yml", services_ok);
	put("codeship-steps.yml", steps_ok);
	put("app.env", "X=1\n");
	put("creds.encrypted", "x");
	put("Dockerfile.test", "FROM busybox\n");
	err = dc_model_load(&m, root, NULL, NULL, 1);
	if (!CHECK_EQ_INT(err, 0)) {
		fprintf(stderr, "%s", diags(&m));
		goto done;
	}
	CHECK_EQ_INT(m.nservices, 3);
	app = dc_model_service(&m, "app");
	db = dc_model_service(&m, "db");
	if (!CHECK(app && db))
		goto done;
	CHECK_EQ_STR(app->image, "example/app");
	CHECK_EQ_STR(app->dockerfile, "Dockerfile.test");
	CHECK(app->build);
	CHECK_EQ_STR(app->build_args.v[0], "BRANCH={{ .Branch }}");
	CHECK_EQ_INT(app->build_args.line[0], 8);
	CHECK_EQ_STR(app->environment.v[0], "A=one");
	CHECK_HAS(app->env_files.v[0], "/app.env");
	CHECK_EQ_INT(app->env_files.v[0][0], '/');
	CHECK_HAS(app->encrypted_env_files.v[0], "/creds.encrypted");
	CHECK_HAS(app->volumes.v[0], "/tmp:/data");
	CHECK_EQ_INT(app->volumes.v[0][0], '/');
	CHECK_EQ_STR(app->links.v[0], "db:database");
	CHECK(app->cached);
	CHECK_EQ_INT(db->command.n, 3);
	CHECK_EQ_STR(db->command.v[2], "sleep 30");
	CHECK_EQ_STR(db->environment.v[0], "X=1");
	/* ignored keys: one warning each; the alias: a deprecation warning */
	CHECK_HAS(diags(&m), "W codeship-services.yml:17: service 'app': 'ports' is ignored");
	CHECK_HAS(diags(&m), "'tty' is ignored");
	CHECK_HAS(diags(&m), "'expose' is ignored");
	CHECK_HAS(diags(&m), ":12: service 'app': 'encrypted_env' is deprecated; use 'encrypted_env_file'");
	CHECK_EQ_INT(m.nerrors, 0);
	CHECK_EQ_INT(m.nsteps, 2);
	CHECK_EQ_INT(m.steps[0].type, DC_STEP_PARALLEL);
	CHECK_EQ_INT(m.steps[0].nsteps, 2);
	CHECK_EQ_INT(m.steps[0].steps[1].type, DC_STEP_SERIAL);
	CHECK_EQ_INT(m.steps[0].steps[1].steps[1].non_fail, 1);
	CHECK_EQ_INT(m.steps[1].type, DC_STEP_PUSH);
	CHECK_EQ_STR(m.steps[1].tag, "^(master|main)$");
	CHECK_EQ_STR(m.steps[0].steps[0].name, "app-2");
done:
	dc_model_release(&m);
}

static void test_errors_name_file_line_key(void)
{
	dc_model m = DC_MODEL_INIT;
	int err;

	put("codeship-services.yml",
	    "app:\n"
	    "  image: busybox\n"
	    "  enviroment:\n"
	    "    A: 1\n"
	    "  labels: {a: b}\n"
	    "both:\n"
	    "  image: x\n"
	    "  build: .\n"
	    "none:\n"
	    "  user: me\n"
	    "dep:\n"
	    "  image: x\n"
	    "  depends_on: [nope]\n");
	put("codeship-steps.yml",
	    "- name: test\n"
	    "  servce: app\n"
	    "  command: true\n"
	    "- name: test\n"
	    "  service: app\n"
	    "  command: echo 'open\n"
	    "- type: paralel\n"
	    "  steps: []\n"
	    "- type: push\n"
	    "  service: app\n"
	    "  image_name: x\n");
	err = dc_model_load(&m, root, NULL, NULL, 1);
	CHECK_EQ_INT(err, DC_EUSAGE);
	CHECK_HAS(diags(&m), "E codeship-services.yml:3: service 'app': unknown key 'enviroment'; did you mean "
			     "'environment'?");
	CHECK_HAS(diags(&m), "E codeship-services.yml:5: service 'app': 'labels' is not supported");
	CHECK_HAS(diags(&m), "E codeship-services.yml:6: service 'both': has both 'image' and 'build'");
	CHECK_HAS(diags(&m), "E codeship-services.yml:9: service 'none': needs 'image' or 'build'");
	CHECK_HAS(diags(&m), "E codeship-services.yml:13: service 'dep': 'depends_on' names unknown service 'nope'");
	CHECK_HAS(diags(&m), "E codeship-steps.yml:2: step 'test': unknown key 'servce'; did you mean 'service'?");
	CHECK_HAS(diags(&m), "E codeship-steps.yml:1: step 'test': needs 'service'");
	CHECK_HAS(diags(&m), "E codeship-steps.yml:4: step 'test': the name is already used on line 1");
	CHECK_HAS(diags(&m), "step 'test': 'command' has an unterminated quote");
	CHECK_HAS(diags(&m), "E codeship-steps.yml:7: step 3: unknown type 'paralel'; did you mean 'parallel'?");
	CHECK_HAS(diags(&m), "pushes service 'app', which has no 'build'");
	CHECK_HAS(dc_error_last(), "codeship-services.yml:3:");
	dc_model_release(&m);

	put("codeship-steps.yml", "- name: x\n  command: [unclosed\n");
	put("codeship-services.yml", "app: {image: busybox}\n");
	err = dc_model_load(&m, root, NULL, NULL, 1);
	CHECK_EQ_INT(err, DC_EUSAGE);
	CHECK_HAS(diags(&m), "E codeship-steps.yml:");
	CHECK_HAS(diags(&m), "not valid YAML");
	dc_model_release(&m);
}

static void test_paths_are_relative_to_the_services_file(void)
{
	dc_model m = DC_MODEL_INIT;
	char sub[512];
	int err;

	snprintf(sub, sizeof(sub), "%s/ci", root);
	mkdir(sub, 0700);
	put("ci/services.yml", "app:\n  build: ./ctx\n  env_file: [a.env, missing.env]\n  volumes: [./data:/data]\n");
	put("steps.yml", "- service: app\n  command: true\n  encrypted_dockercfg_path: nope.encrypted\n");
	err = dc_model_load(&m, root, "ci/services.yml", "steps.yml", 1);
	CHECK_EQ_INT(err, DC_EUSAGE);
	CHECK_HAS(diags(&m), "E services.yml:1: service 'app': build context '");
	CHECK_HAS(diags(&m), "/ci/ctx' is not a directory");
	CHECK_HAS(diags(&m), "E services.yml:3: service 'app': env_file '");
	CHECK_HAS(diags(&m), "/ci/missing.env' is not a file");
	CHECK_HAS(diags(&m), "E steps.yml:1: step 'app-1': encrypted_dockercfg_path '");
	if (CHECK(m.nservices == 1))
		CHECK_HAS(m.services[0].volumes.v[0], "/ci/data:/data");
	dc_model_release(&m);
}

/* Shapes the public examples use (files of our own, same forms): numeric
 * names, matrix fan-out over nested groups without a service, compose-v1
 * `build: ./dir` with a service-level dockerfile, deprecated build keys,
 * bare container volumes, link aliases, a string entrypoint. */
static void test_public_example_shapes(void)
{
	dc_model m = DC_MODEL_INIT;
	char sub[512];
	const dc_service *s;
	int err;

	snprintf(sub, sizeof(sub), "%s/ex", root);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/ex/08.deploy", root);
	mkdir(sub, 0700);
	put("ex/08.deploy/Dockerfile.build", "FROM busybox\n");
	put("ex/08.deploy/Dockerfile", "FROM busybox\n");
	put("ex/codeship-services.yml",
	    "compiledemo:\n"
	    "  build: ./08.deploy\n"
	    "  dockerfile: Dockerfile.build\n"
	    "  volumes:\n"
	    "    - ./08.deploy/tmp/:/data\n"
	    "    - /scratch\n"
	    "oldstyle:\n"
	    "  build:\n"
	    "    image: example/old\n"
	    "    dockerfile_path: Dockerfile\n"
	    "    path: 08.deploy/\n"
	    "  links:\n"
	    "    - demo1:one\n"
	    "    - demo2\n"
	    "  ports: [\"8080:80\"]\n"
	    "demo1:\n"
	    "  image: busybox\n"
	    "  entrypoint: \"ps\"\n"
	    "demo2:\n"
	    "  image: busybox\n"
	    "  environment:\n"
	    "    OUTPUT: test2\n");
	put("ex/codeship-steps.yml",
	    "- type: serial\n"
	    "  name: 01\n"
	    "  steps:\n"
	    "  - service: compiledemo\n"
	    "    command: ls /data\n"
	    "- type: matrix\n"
	    "  name: 06\n"
	    "  services:\n"
	    "    - demo1\n"
	    "    - demo2\n"
	    "  steps:\n"
	    "    - type: parallel\n"
	    "      steps:\n"
	    "      - command: sleep 1\n"
	    "      - type: serial\n"
	    "        steps:\n"
	    "        - command: env\n"
	    "- service: demo1\n"
	    "  name: 09\n"
	    "  tag: master\n"
	    "  command: echo \"ONLY ON MASTER\"\n"
	    "- name: 21\n"
	    "  service: demo1\n"
	    "  command: \"-o pid\"\n");
	snprintf(sub, sizeof(sub), "%s/ex", root);
	err = dc_model_load(&m, sub, NULL, NULL, 1);
	if (!CHECK_EQ_INT(err, 0))
		fprintf(stderr, "%s", diags(&m));
	CHECK_HAS(diags(&m), "W codeship-services.yml:11: service 'oldstyle': 'build.path' is deprecated");
	CHECK_HAS(diags(&m), "'ports' is ignored");
	CHECK_HAS(diags(&m), "type 'matrix' is legacy");
	s = dc_model_service(&m, "compiledemo");
	if (CHECK(s != NULL)) {
		CHECK_EQ_STR(s->dockerfile, "Dockerfile.build");
		CHECK_HAS(s->context, "/ex/08.deploy");
		CHECK_EQ_STR(s->volumes.v[1], "/scratch");
	}
	s = dc_model_service(&m, "demo1");
	if (CHECK(s != NULL))
		CHECK(s->entrypoint_set && s->entrypoint.n == 1 && !strcmp(s->entrypoint.v[0], "ps"));
	if (CHECK_EQ_INT(m.nsteps, 4)) {
		CHECK_EQ_STR(m.steps[0].name, "01");
		CHECK_EQ_INT(m.steps[1].type, DC_STEP_PARALLEL);
		CHECK_EQ_INT(m.steps[1].services.n, 2);
	}
	dc_model_release(&m);
}

static void test_compose_fallback(void)
{
	dc_model m = DC_MODEL_INIT;
	char p[512];

	snprintf(p, sizeof(p), "%s/codeship-services.yml", root);
	unlink(p);
	put("docker-compose.yml", "services:\n  web:\n    image: busybox\n");
	CHECK_EQ_INT(dc_model_load(&m, root, NULL, NULL, 0), 0);
	CHECK_HAS(m.services_path, "docker-compose.yml");
	CHECK(dc_model_service(&m, "web") != NULL);
	dc_model_release(&m);
}

static void test_split(void)
{
	dc_strv v = { 0 };

	CHECK_EQ_INT(dc_model_split(&v, "sh -c 'echo $A && ls' \"x \\\"y\\\"\" a\\ b '' end", "t"), 0);
	CHECK_EQ_INT(v.n, 7);
	CHECK_EQ_STR(v.v[6], "end");
	CHECK_EQ_STR(v.v[0], "sh");
	CHECK_EQ_STR(v.v[2], "echo $A && ls");
	CHECK_EQ_STR(v.v[3], "x \"y\"");
	CHECK_EQ_STR(v.v[4], "a b");
	CHECK_EQ_STR(v.v[5], "");
	dc_strv_release(&v);
	CHECK_EQ_INT(dc_model_split(&v, "echo 'x", "t"), DC_EUSAGE);
	dc_strv_release(&v);
	CHECK_EQ_STR(dc_model_suggest("servce", (const char *const[]){ "service", "services", NULL }), "service");
	CHECK(dc_model_suggest("zzzzzz", (const char *const[]){ "service", NULL }) == NULL);
}

static void test_tags(void)
{
	int hit = -1, run = -1;

	CHECK_EQ_INT(dc_tags_match(&hit, "master", "master"), 0);
	CHECK_EQ_INT(hit, 1);
	CHECK_EQ_INT(dc_tags_match(&hit, "master", "master-rebase"), 0);
	CHECK_EQ_INT(hit, 0);
	CHECK_EQ_INT(dc_tags_match(&hit, "^(master|staging)", "master-rebase"), 0);
	CHECK_EQ_INT(hit, 1); /* unanchored, as documented */
	CHECK_EQ_INT(dc_tags_match(&hit, "^v\\d+\\.\\d+$", "v1.20"), 0);
	CHECK_EQ_INT(hit, 1);
	CHECK_EQ_INT(dc_tags_match(&hit, "(\\d+(\\.\\d+)+)", "1.2.3"), 0);
	CHECK_EQ_INT(hit, 0); /* no ^ or $: a plain string */
	CHECK_EQ_INT(dc_tags_match(&hit, "^(", "x"), DC_EUSAGE);
	CHECK_EQ_INT(dc_tags_selected(&run, "master", NULL, NULL), 0);
	CHECK_EQ_INT(run, 0);
	CHECK_EQ_INT(dc_tags_selected(&run, NULL, "master", NULL), 0);
	CHECK_EQ_INT(run, 1);
	CHECK_EQ_INT(dc_tags_selected(&run, "^ma", "master", "master"), 0);
	CHECK_EQ_INT(run, 0); /* exclude wins */
	CHECK_EQ_INT(dc_tags_selected(&run, "^ma", "master", "main"), 0);
	CHECK_EQ_INT(run, 1);
}

static void test_template(void)
{
	dc_template_data d = { .branch = "feature/x+y", .commit_id = "0123456789abcdef",
			       .timestamp = 1700000000, .service_name = "app" };
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(dc_template_render(&b, "{{ .Branch }}-{{printf \"%.8s\" .CommitID}}", &d), 0);
	CHECK_EQ_STR(b.ptr, "feature/x+y-01234567");
	dc_template_tag(&b);
	CHECK_EQ_STR(b.ptr, "featurexy-01234567");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_template_render(&b, "{{.CommitID | printf \"%.4s\"}}.{{ .Timestamp }}.{{.Ci}}{{.CiName}}", &d), 0);
	CHECK_EQ_STR(b.ptr, "0123.1700000000.truecodeship");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_template_render(&b, "v{{printf \"%03d-%s\" 7 .ServiceName}}  {{- \" x\" }}", &d), 0);
	CHECK_EQ_STR(b.ptr, "v007-app x");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_template_render(&b, "{{ .Nope }}", &d), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "'.Nope'");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_template_render(&b, "{{ .Branch ", &d), DC_EUSAGE);
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_template_render(&b, "{{ upper .Branch }}", &d), DC_EUSAGE);
	dc_buf_reset(&b);
	dc_buf_puts(&b, "-.ok:tag!");
	dc_template_tag(&b);
	CHECK_EQ_STR(b.ptr, "oktag");
	dc_buf_release(&b);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	T_RUN(test_load_ok);
	T_RUN(test_errors_name_file_line_key);
	T_RUN(test_paths_are_relative_to_the_services_file);
	T_RUN(test_public_example_shapes);
	T_RUN(test_compose_fallback);
	T_RUN(test_split);
	T_RUN(test_tags);
	T_RUN(test_template);
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			return 1;
	}
	return t_done();
}
