/* test_awschain.c -- auth/ini (the AWS files' INI dialect), the
 * credential_process JSON contract, command-line splitting, the container
 * endpoint's allowed hosts, and which source the AWS chain picks (a table,
 * in the chain's order). Nothing here makes a request: the chain is only
 * parsed, and every table row has IMDS off or on a closed local port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/awschain.h"
#include "auth/command.h"
#include "auth/ini.h"
#include "t.h"

static dc_ctx ctx;
static dc_env env;
static char dir[] = "/tmp/dcgen-awschain-XXXXXX";

static void sink(enum dc_log_level level, const char *line)
{
	(void)level;
	(void)line;
}

/* ---- INI ---- */

static dc_ini *ini_of(const char *text)
{
	dc_ini *ini = NULL;

	dc_error_clear();
	if (dc_ini_parse(&ini, text, strlen(text)) < 0)
		return NULL;
	return ini;
}

static void test_ini(void)
{
	dc_ini *ini = ini_of("\xef\xbb\xbf# comment\n; other\n[default]\nAWS_Access_Key_ID = AKIA1\n"
			     "aws_secret_access_key=s=e=c\r\n\n[ profile dev ]\nrole_arn = arn:aws:iam::1:role/r  \n"
			     "s3 =\n  max_concurrent_requests = 10\n\tmax_queue_size = 5\nregion = eu-west-1\n"
			     "empty =\nlast = no newline");

	if (!CHECK(ini != NULL))
		return;
	CHECK_EQ_STR(dc_ini_get(ini, "default", "aws_access_key_id"), "AKIA1");
	CHECK_EQ_STR(dc_ini_get(ini, "default", "aws_secret_access_key"), "s=e=c");
	CHECK_EQ_STR(dc_ini_get(ini, "profile dev", "role_arn"), "arn:aws:iam::1:role/r");
	CHECK_EQ_STR(dc_ini_get(ini, "profile dev", "s3"), "");
	CHECK_EQ_STR(dc_ini_get(ini, "profile dev", "region"), "eu-west-1");
	CHECK_EQ_STR(dc_ini_get(ini, "profile dev", "empty"), "");
	CHECK_EQ_STR(dc_ini_get(ini, "profile dev", "last"), "no newline");
	CHECK(dc_ini_get(ini, "profile dev", "max_concurrent_requests") == NULL);
	CHECK(dc_ini_get(ini, "dev", "region") == NULL);
	CHECK(dc_ini_has_section(ini, "profile dev"));
	CHECK(!dc_ini_has_section(ini, "nope"));
	dc_ini_free(ini);
	ini = ini_of("");
	CHECK(ini != NULL);
	dc_ini_free(ini);
}

static void test_ini_refusals(void)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "key = v\n", "line 1: a setting before the first [section]" },
		{ "[a]\nk = 1\n[a]\n", "line 3: a section that appeared before" },
		{ "[a]\nk = 1\nK = 2\n", "line 3: a setting that appeared before" },
		{ "[a]\njust words\n", "line 2: a line that is neither" },
		{ "[a\n", "line 1: a section line without its closing" },
		{ "[]\n", "line 1: a section with an empty name" },
		{ "[a]\n= v\n", "line 2: a setting with no name" },
		{ "[a]\nk = v\n  indented = x\n", "line 3: an indented line" },
		{ "  [a]\n", "line 1: an indented line" },
	};
	dc_ini *ini = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(ini_of(bad[i].text) == NULL);
		CHECK_HAS(dc_error_last(), bad[i].why);
	}
	CHECK_EQ_INT(dc_ini_parse(&ini, "[a]\nk=\0v\n", 8), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "NUL");
	/* a secret on a bad line is never quoted */
	CHECK(ini_of("[a]\nwJalrXUtnFEMI/K7MDENG\n") == NULL);
	CHECK_LACKS(dc_error_last(), "wJalr");
}

/* ---- credential_process output ---- */

static void test_process_json(void)
{
	dc_aws_creds c = DC_AWS_CREDS_INIT;
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}", "Version is not 1" },
		{ "{\"Version\": \"1\", \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}", "Version is not 1" },
		{ "{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}", "Version is not 1" },
		{ "{\"Version\": 1, \"AccessKeyId\": \"A\"}", "without AccessKeyId and SecretAccessKey" },
		{ "{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": \"tomorrow\"}",
		  "not an RFC 3339 time" },
		{ "{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\", \"Expiration\": \"2001-01-01T00:00:00Z\"}",
		  "expired already" },
		{ "{\"Version\": 1, \"AccessKeyId\": \"A B\", \"SecretAccessKey\": \"S\"}", "control characters" },
		{ "[1]", "not an object" },
	};
	const char *good = "{\"Version\": 1, \"AccessKeyId\": \"ASIA1\", \"SecretAccessKey\": \"sekrit\", "
			   "\"SessionToken\": \"tok\", \"Expiration\": \"2999-01-01T00:00:00Z\"}";
	size_t i;

	CHECK_EQ_INT(dc_aws_process_parse(&c, &ctx, good, strlen(good), "credential_process of profile 'p'"), 0);
	CHECK_EQ_STR(c.key_id, "ASIA1");
	CHECK_EQ_STR(c.secret.ptr, "sekrit");
	CHECK_EQ_STR(c.token.ptr, "tok");
	CHECK(c.expires_at > 0);
	dc_aws_creds_release(&c);
	good = "{\"Version\": 1, \"AccessKeyId\": \"AKIA2\", \"SecretAccessKey\": \"s\"}";
	CHECK_EQ_INT(dc_aws_process_parse(&c, &ctx, good, strlen(good), "p"), 0);
	CHECK(c.token.ptr == NULL);
	CHECK_EQ_INT(c.expires_at, 0);
	dc_aws_creds_release(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(dc_aws_process_parse(&c, &ctx, bad[i].json, strlen(bad[i].json), "p"), DC_ERR);
		CHECK_HAS(dc_error_last(), bad[i].why);
		dc_aws_creds_release(&c);
	}
}

static void test_command_split(void)
{
	char **argv = NULL;

	CHECK_EQ_INT(dc_command_split(&argv, "  helper --a 'b c' \"d \\\"e\\\" $f\" g\\ h ''"), 0);
	if (CHECK(argv != NULL)) {
		CHECK_EQ_STR(argv[0], "helper");
		CHECK_EQ_STR(argv[1], "--a");
		CHECK_EQ_STR(argv[2], "b c");
		CHECK_EQ_STR(argv[3], "d \"e\" $f");
		CHECK_EQ_STR(argv[4], "g h");
		CHECK_EQ_STR(argv[5], "");
		CHECK(argv[6] == NULL);
	}
	free(argv);
	CHECK_EQ_INT(dc_command_split(&argv, "a 'open"), DC_EUSAGE);
	CHECK_EQ_INT(dc_command_split(&argv, "a \"open"), DC_EUSAGE);
	CHECK_EQ_INT(dc_command_split(&argv, "   "), DC_EUSAGE);
}

static void test_container_hosts(void)
{
	CHECK(dc_aws_container_url_allowed("https://example.com/creds"));
	CHECK(dc_aws_container_url_allowed("http://169.254.170.2/v2/credentials/x"));
	CHECK(dc_aws_container_url_allowed("http://169.254.170.23/v1/credentials"));
	CHECK(dc_aws_container_url_allowed("http://[fd00:ec2::23]/v1/credentials"));
	CHECK(dc_aws_container_url_allowed("http://127.0.0.1:8080/c"));
	CHECK(dc_aws_container_url_allowed("http://127.1.2.3/c"));
	CHECK(dc_aws_container_url_allowed("http://localhost:80/c"));
	CHECK(dc_aws_container_url_allowed("http://[::1]:80/c"));
	CHECK(!dc_aws_container_url_allowed("http://192.0.2.1/c"));
	CHECK(!dc_aws_container_url_allowed("http://169.254.170.2.evil.example/c"));
	CHECK(!dc_aws_container_url_allowed("http://127.0.0.1.evil.example/c"));
	CHECK(!dc_aws_container_url_allowed("http://localhost.evil.example/c"));
	CHECK(!dc_aws_container_url_allowed("http://user@127.0.0.1/c"));
	CHECK(!dc_aws_container_url_allowed("ftp://127.0.0.1/c"));
	CHECK(!dc_aws_container_url_allowed("https://"));
}

/* ---- which source the chain picks ---- */

static void file_in_dir(char *path, size_t size, const char *name, const char *text)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_chain_order(void)
{
	char token[300], config[300], creds[300], home[300], e_config[400], e_creds[400], e_token[400], e_home[400];
	/* every row: IMDS off unless the row turns it on (then on port 9, which
	 * nothing here asks: the chain is only parsed) */
#define KEYS "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=envsecret"
#define WEB "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/web", e_token
#define GHA "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/gha", \
	    "ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:9/token?api-version=2.0", \
	    "ACTIONS_ID_TOKEN_REQUEST_TOKEN=ghs_request"
#define FILES e_config, e_creds, e_home
#define CONTAINER "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/creds"
#define OFF "AWS_EC2_METADATA_DISABLED=true"
#define IMDS "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9"
	struct row {
		const char *what;
		char *vars[12];
		enum dc_aws_src kind;
		const char *name;
	} rows[] = {
		{ "keys win over everything", { KEYS, WEB, "AWS_PROFILE=role", FILES, CONTAINER, NULL },
		  DC_AWS_SRC_ENV, "environment" },
		{ "a profile's role before web identity", { WEB, "AWS_PROFILE=role", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_KEYS, "role arn:aws:iam::123456789012:role/r1 of profile 'role' (from access key of profile 'base')" },
		{ "web identity before the profile's keys", { WEB, "AWS_PROFILE=base", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_WEB_IDENTITY, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, role arn:aws:iam::123456789012:role/web)" },
		{ "GitHub's token when no token file", { GHA, FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_WEB_IDENTITY, "web identity (GitHub Actions OIDC token, role arn:aws:iam::123456789012:role/gha)" },
		{ "credentials file keys before credential_process", { "AWS_PROFILE=both", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_KEYS, "access key of profile 'both'" },
		{ "credential_process", { "AWS_PROFILE=proc", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_PROCESS, "credential_process of profile 'proc'" },
		{ "config file keys", { "AWS_PROFILE=cfgkeys", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_KEYS, "access key of profile 'cfgkeys'" },
		{ "the profile's web identity", { "AWS_PROFILE=webprof", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_WEB_IDENTITY, "web identity (profile 'webprof', role arn:aws:iam::123456789012:role/wp)" },
		{ "a role over the container", { "AWS_PROFILE=ecs", FILES, CONTAINER, OFF, NULL },
		  DC_AWS_SRC_CONTAINER, "role arn:aws:iam::123456789012:role/r2 of profile 'ecs' (from container endpoint" },
		{ "the container before IMDS", { e_home, CONTAINER, IMDS, NULL },
		  DC_AWS_SRC_CONTAINER, "container endpoint (http://127.0.0.1:9/creds)" },
		{ "relative URI", { e_home, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/abc", CONTAINER, NULL },
		  DC_AWS_SRC_CONTAINER, "container endpoint (http://169.254.170.2/v2/credentials/abc)" },
		{ "IMDS last", { e_home, IMDS, NULL }, DC_AWS_SRC_IMDS, "EC2 instance metadata (http://127.0.0.1:9)" },
		{ "IMDS over IPv6", { e_home, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6", NULL },
		  DC_AWS_SRC_IMDS, "EC2 instance metadata (http://[fd00:ec2::254])" },
	};
	size_t i;

	file_in_dir(token, sizeof(token), "token", "eyJ.eyJ.sig\n");
	file_in_dir(creds, sizeof(creds), "credentials",
		    "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = basesecret\n"
		    "[both]\naws_access_key_id = AKIABOTH\naws_secret_access_key = bothsecret\n");
	file_in_dir(config, sizeof(config), "config",
		    "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/r1\nsource_profile = base\n"
		    "[profile both]\ncredential_process = /bin/false\n"
		    "[profile proc]\ncredential_process = /bin/echo '{}'\nregion = ap-south-1\n"
		    "[profile cfgkeys]\naws_access_key_id = AKIACFG\naws_secret_access_key = cfgsecret\n"
		    "[profile webprof]\nrole_arn = arn:aws:iam::123456789012:role/wp\nweb_identity_token_file = TOKEN\n"
		    "[profile ecs]\nrole_arn = arn:aws:iam::123456789012:role/r2\ncredential_source = EcsContainer\n");
	/* the token path inside the config file */
	{
		char text[2048];
		FILE *f = fopen(config, "r");
		size_t n = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
		char *at, *out = NULL;

		if (f)
			fclose(f);
		text[n] = '\0';
		at = strstr(text, "TOKEN");
		if (at && (out = malloc(strlen(text) + strlen(token) + 1))) {
			snprintf(out, strlen(text) + strlen(token) + 1, "%.*s%s%s", (int)(at - text), text, token, at + 5);
			file_in_dir(config, sizeof(config), "config", out);
		}
		free(out);
	}
	snprintf(home, sizeof(home), "%s/nohome", dir);
	snprintf(e_config, sizeof(e_config), "AWS_CONFIG_FILE=%s", config);
	snprintf(e_creds, sizeof(e_creds), "AWS_SHARED_CREDENTIALS_FILE=%s", creds);
	snprintf(e_token, sizeof(e_token), "AWS_WEB_IDENTITY_TOKEN_FILE=%s", token);
	snprintf(e_home, sizeof(e_home), "HOME=%s", home);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		dc_aws_chain c = DC_AWS_CHAIN_INIT;
		int err;

		env.vars = rows[i].vars;
		dc_error_clear();
		err = dc_aws_chain_parse(&c, &ctx);
		if (!CHECK_EQ_INT(err, 0) || !CHECK_EQ_INT(c.kind, rows[i].kind) || !CHECK_HAS(c.name, rows[i].name))
			fprintf(stderr, "  row %s: %s (%s) tried: %s\n", rows[i].what, c.name ? c.name : "-", dc_error_last(), c.tried.ptr);
		if (!strcmp(rows[i].what, "credential_process"))
			CHECK_EQ_STR(c.region, "ap-south-1");
		dc_aws_chain_release(&c);
	}
}

static void test_chain_nothing(void)
{
	char *vars[] = { "HOME=/nonexistent", "AWS_EC2_METADATA_DISABLED=TRUE", NULL };
	char *bad_profile[] = { "HOME=/nonexistent", "AWS_PROFILE=nope", NULL };
	char *bad_full[] = { "HOME=/nonexistent", "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://10.0.0.1/x", NULL };
	char *token_no_role[] = { "HOME=/nonexistent", "AWS_WEB_IDENTITY_TOKEN_FILE=/nonexistent", NULL };
	dc_aws_chain c = DC_AWS_CHAIN_INIT;
	const char *m;

	env.vars = vars;
	CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), DC_EUSAGE);
	m = dc_error_last();
	CHECK_HAS(m, "no AWS credentials: environment: AWS_ACCESS_KEY_ID is not set; web identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are not set; profile 'default': not in /nonexistent/.aws/config or /nonexistent/.aws/credentials; container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set; IMDS: AWS_EC2_METADATA_DISABLED is true; set ");
	CHECK(!strchr(m, '\n'));
	dc_aws_chain_release(&c);
	env.vars = bad_profile;
	CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "AWS_PROFILE is 'nope' but no such profile");
	dc_aws_chain_release(&c);
	env.vars = bad_full;
	CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "AWS_CONTAINER_CREDENTIALS_FULL_URI is 'http://10.0.0.1/x'");
	dc_aws_chain_release(&c);
	env.vars = token_no_role;
	CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "AWS_ROLE_ARN is not");
	dc_aws_chain_release(&c);
}

/* a broken ~/.aws file stops the profile sources, not keys in the environment */
static void test_broken_files(void)
{
	char path[300], e_config[400];
	char *keys[] = { "HOME=/nonexistent", e_config, "AWS_ACCESS_KEY_ID=AKIAENV", "AWS_SECRET_ACCESS_KEY=s", NULL };
	char *none[] = { "HOME=/nonexistent", e_config, "AWS_EC2_METADATA_DISABLED=true", NULL };
	dc_aws_chain c = DC_AWS_CHAIN_INIT;

	file_in_dir(path, sizeof(path), "broken", "[default]\nregion = x\n[default]\n");
	snprintf(e_config, sizeof(e_config), "AWS_CONFIG_FILE=%s", path);
	env.vars = keys;
	CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), 0);
	CHECK_EQ_INT(c.kind, DC_AWS_SRC_ENV);
	dc_aws_chain_release(&c);
	env.vars = none;
	CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "cannot read AWS_CONFIG_FILE file '");
	CHECK_HAS(dc_error_last(), "line 3: a section that appeared before");
	dc_aws_chain_release(&c);
}

static void test_chain_key(void)
{
	char *vars[] = { "HOME=/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:9", NULL };
	dc_aws_chain c = DC_AWS_CHAIN_INIT;
	dc_buf p = DC_BUF_INIT, s = DC_BUF_INIT;
	dc_sec seal = DC_SEC_INIT;

	env.vars = vars;
	if (!CHECK_EQ_INT(dc_aws_chain_parse(&c, &ctx), 0))
		return;
	CHECK_EQ_INT(dc_aws_chain_key(&p, &s, &seal, &c), 0);
	CHECK_EQ_STR(p.ptr, "imds:http://127.0.0.1:9");
	CHECK(seal.ptr == NULL); /* the cache's own key */
	dc_buf_release(&p);
	dc_buf_release(&s);
	dc_aws_chain_release(&c);
}

int main(void)
{
	int rc;

	if (!mkdtemp(dir) || dc_ctx_init(&ctx, &env, sink, DC_LOG_DEBUG) < 0)
		return 1;
	T_RUN(test_ini);
	T_RUN(test_ini_refusals);
	T_RUN(test_process_json);
	T_RUN(test_command_split);
	T_RUN(test_container_hosts);
	T_RUN(test_chain_order);
	T_RUN(test_chain_nothing);
	T_RUN(test_chain_key);
	T_RUN(test_broken_files);
	rc = t_done();
	dc_ctx_release(&ctx);
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
