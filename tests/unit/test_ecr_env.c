/* test_ecr_env.c -- providers/ecr and auth/aws, auth/sts: configuration
 * errors found before any network call, the cache key, AWS partitions and
 * endpoints, the warning about plain http to another machine, and what is
 * done with replies (a fake peer on 127.0.0.1: proxyEndpoint checks, host
 * queries, expiresAt, STS credentials and refusals).
 *
 * Requests to anything but 127.0.0.1 go to a proxy on a closed local port
 * with one short attempt, so a bug that reaches the network shows up fast
 * as DC_ERR instead of a hang.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/aws.h"
#include "fake_http.h"
#include "providers/provider.h"
#include "t.h"
#include "util/codec.h"
#include "util/http.h"
#include "util/log.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
#define TOKEN "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
#define HOST "123456789012.dkr.ecr.us-east-1.amazonaws.com"
#define KEYS "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET

static dc_ctx ctx;
static dc_env env;
static int secret_logged;
static int warnings;
static char last_warning[512];

static void sink(enum dc_log_level level, const char *line)
{
	if (strstr(line, SECRET) || strstr(line, TOKEN))
		secret_logged = 1;
	if (level == DC_LOG_WARN) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", line);
	}
}

/* parse, then fetch for `host` (NULL: every configured host). */
static int run(char **vars, const char *host, dc_cred_list *l)
{
	void *cfg = NULL;
	dc_scope s;
	int err;

	env.vars = vars;
	dc_error_clear();
	if ((err = dc_family_ecr.parse(&cfg, &ctx)) < 0)
		return err;
	if (host) {
		if (!CHECK_EQ_INT(dc_family_ecr.match(cfg, host, &s), 1)) {
			dc_family_ecr.release(cfg);
			return DC_ERR;
		}
	} else {
		dc_family_ecr.scope_all(cfg, &s);
	}
	err = dc_family_ecr.fetch(l, &ctx, cfg, &s);
	dc_family_ecr.release(cfg);
	return err;
}

/* The cache key for `vars` and `host` (NULL: all): 1, 0 or an error. */
static int key_of(dc_cache_key *k, char **vars, const char *host)
{
	void *cfg = NULL;
	dc_scope s;
	int err;

	*k = (dc_cache_key)DC_CACHE_KEY_INIT;
	env.vars = vars;
	dc_error_clear();
	if ((err = dc_family_ecr.parse(&cfg, &ctx)) < 0)
		return err;
	if (host)
		dc_family_ecr.match(cfg, host, &s);
	else
		dc_family_ecr.scope_all(cfg, &s);
	err = dc_family_ecr.cache_key(k, cfg, &s);
	dc_family_ecr.release(cfg);
	return err;
}

/* refused as a usage error naming `name`, with nothing filled in and no
 * secret in the message */
static void refuse(char **vars, const char *name)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	int rc = run(vars, NULL, &l);

	if (!CHECK_EQ_INT(rc, DC_EUSAGE))
		fprintf(stderr, "  expected a usage error naming %s; got: %s\n", name, dc_error_last());
	CHECK_HAS(dc_error_last(), name);
	CHECK_LACKS(dc_error_last(), SECRET);
	CHECK_LACKS(dc_error_last(), TOKEN);
	CHECK_EQ_INT(l.n, 0);
	dc_cred_list_release(&l);
}

static void test_missing_keys(void)
{
	char long_id[200];
	char *no_secret[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SESSION_TOKEN=" TOKEN, NULL };
	char *empty_secret[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=", NULL };
	char *no_id[] = { "AWS_REGION=us-east-1", "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *nothing[] = { "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", NULL };
	const char *const bad_ids[] = { "AWS_ACCESS_KEY_ID=AKIA EXAMPLE", "AWS_ACCESS_KEY_ID=AKIA\tEXAMPLE",
					       "AWS_ACCESS_KEY_ID=AKIA\r\nX-Evil: 1", "AWS_ACCESS_KEY_ID=AKIA:X",
					       long_id };
	size_t i;

	snprintf(long_id, sizeof(long_id), "AWS_ACCESS_KEY_ID=%0129d", 7);
	refuse(no_secret, "AWS_SECRET_ACCESS_KEY");
	refuse(empty_secret, "AWS_SECRET_ACCESS_KEY");
	refuse(no_id, "AWS_ACCESS_KEY_ID");
	refuse(nothing, "AWS_ACCESS_KEY_ID");
	for (i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		char *vars[] = { "AWS_REGION=us-east-1", (char *)bad_ids[i], "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };

		refuse(vars, "AWS_ACCESS_KEY_ID");
		CHECK_LACKS(dc_error_last(), "X-Evil");
	}
}

/* LocalStack's and the tutorials' "test": no shape check beyond safety */
static void test_key_id_test(void)
{
	char *vars[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", NULL };
	char *swapped[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" SECRET, "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	dc_cache_key k;

	CHECK_EQ_INT(key_of(&k, vars, NULL), 1);
	CHECK_EQ_STR(k.principal.ptr, "test");
	dc_cache_key_release(&k);
	CHECK_EQ_INT(key_of(&k, swapped, NULL), 1);
	dc_cache_key_release(&k);
}

/* D4: a session token with CR/LF would become extra HTTP headers */
static void test_session_token(void)
{
	static char huge[DC_AWS_TOKEN_MAX + 64];
	const char *const bad[] = { "AWS_SESSION_TOKEN=tok\r\nX-Evil: 1", "AWS_SESSION_TOKEN=tok\nX-Evil: 1",
					   "AWS_SESSION_TOKEN=tok\x01", "AWS_SESSION_TOKEN=tok\x7f",
					   "AWS_SESSION_TOKEN=" TOKEN "\n", huge };
	size_t i;

	memset(huge, 'A', sizeof(huge) - 1);
	memcpy(huge, "AWS_SESSION_TOKEN=", 18);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *vars[] = { "AWS_REGION=us-east-1", KEYS, (char *)bad[i], NULL };

		refuse(vars, "AWS_SESSION_TOKEN");
		CHECK_LACKS(dc_error_last(), "X-Evil");
		CHECK_LACKS(dc_error_last(), "'tok");
	}
}

/* R21: a secret with a trailing line break is taken, with a warning */
static void test_secret_line_break(void)
{
	char *vars[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET "\r\n", NULL };
	dc_cache_key k;

	warnings = 0;
	CHECK_EQ_INT(key_of(&k, vars, NULL), 1);
	dc_cache_key_release(&k);
	CHECK_EQ_INT(warnings, 1);
	CHECK_HAS(last_warning, "AWS_SECRET_ACCESS_KEY ends with a line break");
}

static void test_role(void)
{
	char *role_only[] = { "AWS_REGION=us-east-1", KEYS, "AWS_STS_ROLE=deployer", NULL };
	char *account_only[] = { "AWS_REGION=us-east-1", KEYS, "AWS_STS_ACCOUNT=123456789012", NULL };
	char *short_account[] = { "AWS_REGION=us-east-1", KEYS, "AWS_STS_ROLE=deployer", "AWS_STS_ACCOUNT=12345", NULL };
	char *arn_role[] = { "AWS_REGION=us-east-1", KEYS, "AWS_STS_ROLE=arn:aws:iam::123456789012:role/deployer",
			     "AWS_STS_ACCOUNT=123456789012", NULL };

	refuse(role_only, "AWS_STS_ACCOUNT");
	refuse(account_only, "AWS_STS_ROLE");
	refuse(short_account, "AWS_STS_ACCOUNT");
	refuse(arn_role, "AWS_STS_ROLE");
}

static void test_registry_ids(void)
{
	static const char *const bad[] = {
		"AWS_ECR_REGISTRY_IDS=12345",
		"AWS_ECR_REGISTRY_IDS=abcdefghijkl",
		"AWS_ECR_REGISTRY_IDS=1234567890123",
		"AWS_ECR_REGISTRY_IDS=123456789012;210987654321",
		"AWS_ECR_REGISTRY_IDS=123456789012 210987654321",
		"AWS_ECR_REGISTRY_IDS=,",
		"AWS_ECR_REGISTRY_IDS= ",
		"AWS_ECR_REGISTRY_IDS=123456789012,21098765432x",
		/* R18: AWS takes at most 10 */
		"AWS_ECR_REGISTRY_IDS=100000000001,100000000002,100000000003,100000000004,100000000005,"
		"100000000006,100000000007,100000000008,100000000009,100000000010,100000000011",
	};
	char *dups[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ECR_REGISTRY_IDS=123456789012, 123456789012,,210987654321,",
			 NULL };
	char *ten[] = { "AWS_REGION=us-east-1", KEYS,
			"AWS_ECR_REGISTRY_IDS=100000000001,100000000002,100000000003,100000000004,100000000005,"
			"100000000006,100000000007,100000000008,100000000009,100000000010,100000000001",
			NULL };
	char *pub[] = { "AWS_REGION=us-east-1", KEYS, "ECR_PUBLIC=true", "AWS_ECR_REGISTRY_IDS=123456789012", NULL };
	dc_cache_key k;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *vars[] = { "AWS_REGION=us-east-1", KEYS, (char *)bad[i], NULL };

		refuse(vars, "AWS_ECR_REGISTRY_IDS");
	}
	refuse(pub, "AWS_ECR_REGISTRY_IDS");
	/* duplicates collapse, empty items are skipped */
	if (CHECK_EQ_INT(key_of(&k, dups, NULL), 1))
		CHECK_HAS(k.scope.ptr, "registry_ids=123456789012,210987654321\n");
	dc_cache_key_release(&k);
	CHECK_EQ_INT(key_of(&k, ten, NULL), 1);
	dc_cache_key_release(&k);
}

/* R20: ECR_PUBLIC is a switch */
static void test_ecr_public_switch(void)
{
	static const struct {
		const char *var;
		int public;
	} cases[] = {
		{ "ECR_PUBLIC=1", 1 }, { "ECR_PUBLIC=true", 1 }, { "ECR_PUBLIC=YES", 1 }, { "ECR_PUBLIC=on", 1 },
		{ "ECR_PUBLIC=0", 0 }, { "ECR_PUBLIC=false", 0 }, { "ECR_PUBLIC=No", 0 }, { "ECR_PUBLIC=off", 0 },
	};
	char *maybe[] = { "AWS_REGION=us-east-1", KEYS, "ECR_PUBLIC=maybe", NULL };
	char *off_only[] = { "ECR_PUBLIC=off", NULL }, *on_only[] = { "ECR_PUBLIC=on", NULL };
	dc_env e_off = { off_only }, e_on = { on_only };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *vars[] = { "AWS_REGION=eu-west-1", KEYS, (char *)cases[i].var, NULL };
		dc_cache_key k;

		if (CHECK_EQ_INT(key_of(&k, vars, NULL), 1))
			CHECK_HAS(k.scope.ptr, cases[i].public ? "public=1\n" : "public=0\n");
		dc_cache_key_release(&k);
	}
	refuse(maybe, "ECR_PUBLIC");
	CHECK_HAS(dc_error_last(), "'maybe'");
	/* "off" alone does not select ecr */
	CHECK(!dc_family_ecr.detect(&e_off));
	CHECK(dc_family_ecr.detect(&e_on));
}

static void test_region(void)
{
	char *space[] = { "AWS_REGION=us east", KEYS, NULL };
	char *upper[] = { "AWS_REGION=US-EAST-1", KEYS, NULL };
	char *host[] = { "AWS_REGION=evil.example.com/x", KEYS, NULL };
	char *dflt[] = { "AWS_DEFAULT_REGION=us_east_1", KEYS, NULL };
	char *none[] = { KEYS, NULL };
	char *secret_region[] = { "AWS_REGION=" SECRET "x", KEYS, NULL };

	refuse(space, "AWS_REGION");
	CHECK_HAS(dc_error_last(), "'us east'");
	refuse(upper, "AWS_REGION");
	refuse(host, "AWS_REGION");
	refuse(dflt, "AWS_DEFAULT_REGION");
	/* no region: a usage error when fetching, before any request */
	refuse(none, "AWS_REGION");
	/* D2: the value is quoted, and the CLI prints it through ctx.redactor,
	 * which knows the secret by then */
	{
		dc_cred_list l = DC_CRED_LIST_INIT;
		dc_buf msg = DC_BUF_INIT;

		CHECK_EQ_INT(run(secret_region, NULL, &l), DC_EUSAGE);
		dc_buf_puts(&msg, dc_error_last());
		dc_redactor_apply(ctx.redactor, &msg);
		CHECK_HAS(msg.ptr, "AWS_REGION is '***x'");
		dc_buf_release(&msg);
	}
}

static void test_endpoint(void)
{
	char *no_scheme[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL=localhost:4566", NULL };
	char *ftp[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=ftp://127.0.0.1/", NULL };
	char *pub[] = { KEYS, "ECR_PUBLIC=1", "AWS_ENDPOINT_URL_ECR_PUBLIC=not a url", NULL };
	char *bad_port[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:99999/", NULL };

	refuse(no_scheme, "AWS_ENDPOINT_URL");
	CHECK_HAS(dc_error_last(), "localhost:4566");
	refuse(ftp, "AWS_ENDPOINT_URL_ECR");
	refuse(pub, "AWS_ENDPOINT_URL_ECR_PUBLIC");
	refuse(bad_port, "AWS_ENDPOINT_URL_ECR");
}

/* A user name or password in an endpoint is refused, and not repeated. */
static void test_endpoint_userinfo(void)
{
	static const char *const bad[] = {
		"http://admin:hunter2pw@127.0.0.1:9/",
		"https://hunter2pw@ecr.example.com",
		"https://admin:hunter2pw@ecr.example.com:443/x?y#z",
		"admin:hunter2pw@127.0.0.1:9", /* no scheme: still not echoed */
		"ftp://admin:hunter2pw@127.0.0.1/",
	};
	char *path_at[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:9/a@b?c=d@e", NULL };
	char *sts[] = { "AWS_REGION=us-east-1", KEYS, "AWS_STS_ROLE=deployer", "AWS_STS_ACCOUNT=123456789012",
			"AWS_ENDPOINT_URL_ECR=http://127.0.0.1:9", "AWS_ENDPOINT_URL_STS=http://admin:hunter2pw@127.0.0.1:9",
			NULL };
	dc_cache_key k;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char var[256], general[256];
		char *vars[] = { "AWS_REGION=us-east-1", KEYS, var, NULL };
		char *gvars[] = { "AWS_REGION=us-east-1", KEYS, general, NULL };

		snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_ECR=%s", bad[i]);
		snprintf(general, sizeof(general), "AWS_ENDPOINT_URL=%s", bad[i]);
		refuse(vars, "AWS_ENDPOINT_URL_ECR");
		CHECK_LACKS(dc_error_last(), "hunter2pw");
		CHECK_HAS(dc_error_last(), "user name or password");
		refuse(gvars, "AWS_ENDPOINT_URL");
		CHECK_LACKS(dc_error_last(), "hunter2pw");
	}
	refuse(sts, "AWS_ENDPOINT_URL_STS");
	CHECK_LACKS(dc_error_last(), "hunter2pw");
	/* '@' in the path or query is no user name */
	if (CHECK_EQ_INT(key_of(&k, path_at, NULL), 1))
		CHECK_HAS(k.scope.ptr, "endpoint=http://127.0.0.1:9/a@b?c=d@e\n");
	dc_cache_key_release(&k);
}

static void test_partitions(void)
{
	static const struct {
		const char *region, *name, *suffix;
	} cases[] = {
		{ "us-east-1", "aws", "amazonaws.com" },
		{ "eu-central-1", "aws", "amazonaws.com" },
		{ "cn-north-1", "aws-cn", "amazonaws.com.cn" },
		{ "cn-northwest-1", "aws-cn", "amazonaws.com.cn" },
		{ "us-gov-west-1", "aws-us-gov", "amazonaws.com" },
		{ "us-iso-east-1", "aws-iso", "c2s.ic.gov" },
		{ "us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov" },
		{ "eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk" },
		{ "us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov" },
		{ "eusc-de-east-1", "aws-eusc", "amazonaws.eu" },
		{ "cn", "aws", "amazonaws.com" }, /* prefixes with their dash only */
		{ "usgov-west-1", "aws", "amazonaws.com" },
		{ "us-isobx-east-1", "aws", "amazonaws.com" },
		{ "", "aws", "amazonaws.com" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const dc_aws_partition *p = dc_aws_partition_of(cases[i].region);

		if (!CHECK_EQ_STR(p->name, cases[i].name) || !CHECK_EQ_STR(p->dns_suffix, cases[i].suffix))
			fprintf(stderr, "  for region '%s'\n", cases[i].region);
	}
}

/* With no endpoint variable: AWS's own, from the host's region, FIPS and
 * dual-stack (the names in AWS's endpoint table). */
static void test_default_endpoints(void)
{
	static const struct {
		const char *host, *url;
	} hosts[] = {
		{ HOST, "endpoint=https://api.ecr.us-east-1.amazonaws.com\n" },
		{ "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "endpoint=https://api.ecr.cn-north-1.amazonaws.com.cn\n" },
		{ "123456789012.dkr.ecr-fips.us-east-2.amazonaws.com", "endpoint=https://ecr-fips.us-east-2.amazonaws.com\n" },
		{ "123456789012.dkr-ecr.us-east-2.on.aws", "endpoint=https://ecr.us-east-2.api.aws\n" },
		{ "123456789012.dkr-ecr-fips.us-east-2.on.aws", "endpoint=https://ecr-fips.us-east-2.api.aws\n" },
		{ "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
		  "endpoint=https://ecr.cn-north-1.api.amazonwebservices.com.cn\n" },
		{ "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "endpoint=https://api.ecr.us-iso-east-1.c2s.ic.gov\n" },
		{ "public.ecr.aws", "endpoint=https://api.ecr-public.us-east-1.amazonaws.com\n" },
		{ "ecr-public.aws.com", "endpoint=https://ecr-public.us-east-1.api.aws\n" },
	};
	char *keys_only[] = { KEYS, NULL };
	char *cn[] = { "AWS_REGION=cn-north-1", KEYS, NULL };
	char *cn_public[] = { "AWS_REGION=cn-north-1", KEYS, "ECR_PUBLIC=1", NULL };
	char *cn_public_role[] = { "AWS_REGION=cn-north-1", KEYS, "ECR_PUBLIC=1", "AWS_STS_ROLE=deployer",
				   "AWS_STS_ACCOUNT=123456789012", NULL };
	char *gov_public_role[] = { "AWS_DEFAULT_REGION=us-gov-west-1", KEYS, "ECR_PUBLIC=1", "AWS_STS_ROLE=deployer",
				    "AWS_STS_ACCOUNT=123456789012", NULL };
	char *public_role[] = { "AWS_REGION=eu-west-1", KEYS, "ECR_PUBLIC=1", "AWS_STS_ROLE=deployer",
				"AWS_STS_ACCOUNT=123456789012", NULL };
	char *ep[] = { KEYS, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:5000/", NULL };
	char *pub_ep[] = { KEYS, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:5000/", "AWS_ENDPOINT_URL_ECR_PUBLIC=http://127.0.0.1:5001",
			   NULL };
	dc_buf url = DC_BUF_INIT;
	dc_cache_key k;
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (CHECK_EQ_INT(key_of(&k, keys_only, hosts[i].host), 1))
			if (!CHECK_HAS(k.scope.ptr, hosts[i].url))
				fprintf(stderr, "  for '%s'\n", hosts[i].host);
		dc_cache_key_release(&k);
	}
	/* the variables still override, whatever the host */
	if (CHECK_EQ_INT(key_of(&k, ep, "123456789012.dkr-ecr-fips.us-east-2.on.aws"), 1))
		CHECK_HAS(k.scope.ptr, "endpoint=http://127.0.0.1:5000\n");
	dc_cache_key_release(&k);
	if (CHECK_EQ_INT(key_of(&k, pub_ep, "public.ecr.aws"), 1)) {
		CHECK_HAS(k.scope.ptr, "endpoint=http://127.0.0.1:5001\n");
		CHECK_HAS(k.scope.ptr, "public=1\n");
	}
	dc_cache_key_release(&k);
	CHECK_EQ_INT(dc_aws_endpoint_default(&url, "sts", "us-isob-east-1", 0), 0);
	CHECK_EQ_STR(url.ptr, "https://sts.us-isob-east-1.sc2s.sgov.gov");
	dc_buf_release(&url);
	if (CHECK_EQ_INT(key_of(&k, cn, NULL), 1))
		CHECK_HAS(k.scope.ptr, "endpoint=https://api.ecr.cn-north-1.amazonaws.com.cn\n");
	dc_cache_key_release(&k);
	/* ECR Public is in the aws partition only, whatever the region */
	if (CHECK_EQ_INT(key_of(&k, cn_public, NULL), 1))
		CHECK_HAS(k.scope.ptr, "endpoint=https://api.ecr-public.us-east-1.amazonaws.com\n");
	dc_cache_key_release(&k);
	CHECK_EQ_INT(key_of(&k, public_role, NULL), 1);
	dc_cache_key_release(&k);
	/* a role would be assumed in the region's partition: useless there */
	refuse(cn_public_role, "ECR_PUBLIC");
	CHECK_HAS(dc_error_last(), "aws-cn");
	refuse(gov_public_role, "ECR_PUBLIC");
	CHECK_HAS(dc_error_last(), "aws-us-gov");
}

/* Plain http to another machine works, with a warning when parsed. */
static void test_plain_http_warning(void)
{
	char *local[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://127.0.0.2:4566", NULL };
	char *localhost[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://localhost:4566/", NULL };
	char *v6[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://[::1]:4566", NULL };
	char *odd_path[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:4566/a b", NULL };
	char *tls[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=https://localstack:4566", NULL };
	char *sidecar[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL_ECR=http://localstack:4566", NULL };
	char *lookalike[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL=http://127.0.0.1.example.com/", NULL };
	char **quiet[] = { local, localhost, v6, odd_path, tls };
	dc_cache_key k;
	size_t i;

	warnings = 0;
	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		CHECK_EQ_INT(key_of(&k, quiet[i], NULL), 1);
		dc_cache_key_release(&k);
	}
	CHECK_EQ_INT(warnings, 0);
	CHECK_EQ_INT(key_of(&k, sidecar, NULL), 1);
	dc_cache_key_release(&k);
	CHECK_EQ_INT(warnings, 1);
	CHECK_HAS(last_warning, "AWS_ENDPOINT_URL_ECR");
	CHECK_HAS(last_warning, "'http://localstack:4566'");
	CHECK_HAS(last_warning, "unencrypted");
	CHECK_EQ_STR(dc_error_last(), ""); /* a warning, no error left behind */
	CHECK_EQ_INT(key_of(&k, lookalike, NULL), 1);
	dc_cache_key_release(&k);
	CHECK_EQ_INT(warnings, 2);
	CHECK_HAS(last_warning, "AWS_ENDPOINT_URL is");
}

static void test_cache_key(void)
{
	char *base[] = { "AWS_REGION=us-east-1", KEYS, NULL };
	char *same[] = { "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_REGION=us-east-1", "UNRELATED=1",
			 NULL };
	char *with_token[] = { "AWS_REGION=us-east-1", KEYS, "AWS_SESSION_TOKEN=" TOKEN, NULL };
	char *other_token[] = { "AWS_REGION=us-east-1", KEYS, "AWS_SESSION_TOKEN=" TOKEN "2", NULL };
	char *other_region[] = { "AWS_REGION=eu-west-1", KEYS, NULL };
	char *with_ids[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ECR_REGISTRY_IDS=123456789012", NULL };
	char *with_endpoint[] = { "AWS_REGION=us-east-1", KEYS, "AWS_ENDPOINT_URL=http://127.0.0.1:5000", NULL };
	char *ep_west[] = { "AWS_REGION=eu-west-1", KEYS, "AWS_ENDPOINT_URL=http://127.0.0.1:5000", NULL };
	char *role[] = { "AWS_REGION=us-gov-west-1", KEYS, "AWS_STS_ROLE=deployer", "AWS_STS_ACCOUNT=123456789012",
			 "AWS_SESSION_TOKEN=" TOKEN, NULL };
	char **variants[] = { other_region, with_ids, with_endpoint, ep_west };
	dc_cache_key a, b;
	size_t i;

	if (!CHECK_EQ_INT(key_of(&a, base, NULL), 1))
		return;
	CHECK_EQ_STR(a.family, "ecr");
	CHECK_EQ_STR(a.principal.ptr, KEY_ID);
	CHECK(a.seal.ptr && !strcmp(a.seal.ptr, SECRET));
	CHECK_LACKS(a.scope.ptr, SECRET);
	CHECK_EQ_INT(key_of(&b, same, NULL), 1);
	CHECK_EQ_STR(a.scope.ptr, b.scope.ptr); /* stable, whatever the order of the variables */
	dc_cache_key_release(&b);
	/* rotating session tokens of one principal share one entry */
	CHECK_EQ_INT(key_of(&b, with_token, NULL), 1);
	CHECK_EQ_STR(a.scope.ptr, b.scope.ptr);
	CHECK_EQ_STR(a.principal.ptr, b.principal.ptr);
	CHECK_LACKS(b.scope.ptr, TOKEN);
	dc_cache_key_release(&b);
	CHECK_EQ_INT(key_of(&b, other_token, NULL), 1);
	CHECK_EQ_STR(a.scope.ptr, b.scope.ptr);
	dc_cache_key_release(&b);
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		CHECK_EQ_INT(key_of(&b, variants[i], NULL), 1);
		if (!CHECK(strcmp(a.scope.ptr, b.scope.ptr) != 0))
			fprintf(stderr, "  variant %zu gives the same scope\n", i);
		dc_cache_key_release(&b);
	}
	/* a host query names its registry */
	CHECK_EQ_INT(key_of(&b, base, HOST), 1);
	CHECK_HAS(b.scope.ptr, "registry_ids=123456789012\n");
	CHECK_HAS(b.scope.ptr, "host=" HOST "\n");
	dc_cache_key_release(&b);
	dc_cache_key_release(&a);
	/* with a role: the role is the principal, in the region's partition */
	if (CHECK_EQ_INT(key_of(&a, role, NULL), 1)) {
		CHECK_EQ_STR(a.principal.ptr, "arn:aws-us-gov:iam::123456789012:role/deployer");
		CHECK_HAS(a.scope.ptr, "sts=https://sts.us-gov-west-1.amazonaws.com\n");
	}
	dc_cache_key_release(&a);
}

/* ---- replies, from a fake peer on 127.0.0.1 ---- */

static char endpoint_var[64], sts_var[64];

static int fetch_from(const fake_reply *replies, char **vars, const char *host, dc_cred_list *l, fake_http *f)
{
	int err;

	if (!CHECK_EQ_INT(fake_http_start(f, replies), 0))
		return DC_ERR;
	snprintf(endpoint_var, sizeof(endpoint_var), "AWS_ENDPOINT_URL=http://127.0.0.1:%d", f->port);
	snprintf(sts_var, sizeof(sts_var), "AWS_ENDPOINT_URL_STS=http://127.0.0.1:%d", f->port);
	err = run(vars, host, l);
	fake_http_stop(f);
	return err;
}

/* base64("AWS:" password) */
static void auth_token(char *out, size_t size, const char *password)
{
	dc_buf b = DC_BUF_INIT;
	char plain[128];

	snprintf(plain, sizeof(plain), "AWS:%s", password);
	if (dc_base64_encode(&b, plain, strlen(plain)) == 0)
		snprintf(out, size, "%s", b.ptr);
	dc_buf_release(&b);
}

static void test_host_query(void)
{
	char tok[128], body[512], body2[512];
	char *vars[] = { "AWS_REGION=eu-west-1", KEYS, endpoint_var, NULL };
	fake_reply r[] = { { 200, body }, { 0, NULL } }, other[] = { { 200, body2 }, { 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;
	time_t now = time(NULL);

	auth_token(tok, sizeof(tok), "registry-password-1");
	snprintf(body, sizeof(body),
		 "{\"authorizationData\":[{\"authorizationToken\":\"%s\",\"expiresAt\":%lld,"
		 "\"proxyEndpoint\":\"https://123456789012.dkr.ecr.us-east-2.amazonaws.com\"}]}",
		 tok, (long long)now + 3600);
	/* the account and region come from the host, not from AWS_REGION */
	if (CHECK_EQ_INT(fetch_from(r, vars, "123456789012.dkr-ecr.us-east-2.on.aws", &l, &f), 0) &&
	    CHECK_EQ_INT(l.n, 1)) {
		/* written under the name it was asked by (dual-stack) */
		CHECK_EQ_STR(l.items[0].host, "123456789012.dkr-ecr.us-east-2.on.aws");
		CHECK_EQ_STR(l.items[0].username, "AWS");
		CHECK_EQ_STR(l.items[0].secret, "registry-password-1");
		CHECK_EQ_INT(l.items[0].expires_at, now + 3600);
	}
	CHECK_HAS(f.request, "\"registryIds\": [\n    \"123456789012\"\n  ]");
	CHECK_HAS(f.request, "/aws4_request"); /* signed */
	CHECK_HAS(f.request, "us-east-2/ecr/aws4_request");
	dc_cred_list_release(&l);
	/* an answer for another registry than the one asked for is refused */
	snprintf(body2, sizeof(body2),
		 "{\"authorizationData\":[{\"authorizationToken\":\"%s\","
		 "\"proxyEndpoint\":\"https://999999999999.dkr.ecr.us-east-2.amazonaws.com\"}]}",
		 tok);
	CHECK_EQ_INT(fetch_from(other, vars, "123456789012.dkr.ecr.us-east-2.amazonaws.com", &l, &f), DC_ERR);
	CHECK_HAS(dc_error_last(), "other registries");
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_REPLY);
	CHECK_EQ_INT(l.n, 0);
	dc_cred_list_release(&l);
	/* ECR Public, asked by its dual-stack name, with ECR_PUBLIC unset */
	{
		char pub_body[512];
		fake_reply pub[] = { { 200, pub_body }, { 0, NULL } };

		snprintf(pub_body, sizeof(pub_body),
			 "{\"authorizationData\":{\"authorizationToken\":\"%s\",\"expiresAt\":%lld}}", tok,
			 (long long)now + 3600);
		if (CHECK_EQ_INT(fetch_from(pub, vars, "ecr-public.aws.com", &l, &f), 0) && CHECK_EQ_INT(l.n, 1))
			CHECK_EQ_STR(l.items[0].host, "ecr-public.aws.com");
		CHECK_HAS(f.request, "X-Amz-Target: SpencerFrontendService.GetAuthorizationToken");
		CHECK_HAS(f.request, "us-east-1/ecr-public/aws4_request");
		dc_cred_list_release(&l);
	}
	/* the same reply is fine for "every configured host" */
	CHECK_EQ_INT(fetch_from(other, vars, NULL, &l, &f), 0);
	if (CHECK_EQ_INT(l.n, 1))
		CHECK_EQ_STR(l.items[0].host, "999999999999.dkr.ecr.us-east-2.amazonaws.com");
	dc_cred_list_release(&l);
}

/* D5: upstream host names are validated as strictly as DOCKER_REGISTRY */
static void test_proxy_endpoint(void)
{
	static const char *const bad[] = {
		"https://a\\u001b[31mRED\\u001b]0;title\\u0007.example.com",
		"javascript:alert(1)",
		"https://a\\nb.example/x",
		"https://user:pw@ecr.example.com",
		"https://ecr.example.com:99999",
		"https://",
	};
	char tok[128], body[512];
	char *vars[] = { "AWS_REGION=us-east-1", KEYS, endpoint_var, NULL };
	fake_reply r[] = { { 200, body }, { 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;
	size_t i;

	auth_token(tok, sizeof(tok), "registry-password-1");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"authorizationData\":[{\"authorizationToken\":\"%s\",\"proxyEndpoint\":\"%s\"}]}", tok, bad[i]);
		if (!CHECK_EQ_INT(fetch_from(r, vars, NULL, &l, &f), DC_ERR))
			fprintf(stderr, "  proxyEndpoint %s\n", bad[i]);
		CHECK_HAS(dc_error_last(), "proxyEndpoint");
		CHECK_LACKS(dc_error_last(), "\x1b");
		CHECK_LACKS(dc_error_last(), "\n");
		CHECK_LACKS(dc_error_last(), "pw@");
		CHECK_EQ_INT(l.n, 0);
		dc_cred_list_release(&l);
	}
}

/* R17: expiresAt as a string or out of range: a warning naming it */
static void test_expires_at(void)
{
	static const struct {
		const char *value, *warning;
	} cases[] = {
		{ "\"tomorrow\"", "expiresAt that is a string" },
		{ "4949770000", "expiresAt of 4949770000," },
		{ "-5", "expiresAt of -5," },
		{ "1e300", "expiresAt too large" },
		{ "null", "neither a number nor a string" },
	};
	char tok[128], body[512];
	char *vars[] = { "AWS_REGION=us-east-1", KEYS, endpoint_var, NULL };
	fake_reply r[] = { { 200, body }, { 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;
	size_t i;

	auth_token(tok, sizeof(tok), "registry-password-1");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body),
			 "{\"authorizationData\":[{\"authorizationToken\":\"%s\",\"expiresAt\":%s,"
			 "\"proxyEndpoint\":\"https://" HOST "\"}]}",
			 tok, cases[i].value);
		warnings = 0;
		CHECK_EQ_INT(fetch_from(r, vars, NULL, &l, &f), 0);
		CHECK_EQ_INT(warnings, 1);
		CHECK_HAS(last_warning, cases[i].warning);
		CHECK_LACKS(last_warning, "e+");
		if (CHECK_EQ_INT(l.n, 1))
			CHECK_EQ_INT(l.items[0].expires_at, 0);
		dc_cred_list_release(&l);
	}
}

static void test_upstream_errors(void)
{
	char *vars[] = { "AWS_REGION=us-east-1", KEYS, endpoint_var, NULL };
	fake_reply busy[] = { { 500, "{\"__type\":\"ServerException\",\"message\":\"down\"}" }, { 0, NULL } };
	fake_reply denied[] = { { 400, "{\"__type\":\"com.amazonaws#AccessDeniedException\",\"message\":\"no " SECRET "\"}" },
				{ 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;

	CHECK_EQ_INT(fetch_from(busy, vars, NULL, &l, &f), DC_ERR);
	CHECK_HAS(dc_error_last(), "kept failing with HTTP 500");
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_HTTP);
	CHECK_EQ_INT(dc_error_get()->http_status, 500);
	CHECK_EQ_STR(dc_error_get()->upstream_code, "ServerException");
	CHECK_EQ_INT(fetch_from(denied, vars, NULL, &l, &f), DC_ERR);
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_AUTH);
	CHECK_EQ_STR(dc_error_get()->upstream_code, "AccessDeniedException");
	CHECK_LACKS(dc_error_last(), SECRET); /* quoted through the redactor */
	CHECK_HAS(dc_error_last(), "no ***");
	dc_cred_list_release(&l);
}

#define STS_OK(token)                                                                                 \
	"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"    \
	"<SecretAccessKey>sts-secret-value</SecretAccessKey><SessionToken>" token "</SessionToken>"  \
	"<Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"

/* D4 from upstream; and AccessDenied decided from the error's fields */
static void test_sts(void)
{
	char *vars[] = { "AWS_REGION=us-east-1", KEYS, "AWS_STS_ROLE=deployer", "AWS_STS_ACCOUNT=123456789012",
			 endpoint_var, sts_var, NULL };
	fake_reply inject[] = { { 200, STS_OK("T&#13;&#10;X-Injected: yes") }, { 0, NULL } };
	fake_reply ctl[] = { { 200, STS_OK("T&#1;") }, { 0, NULL } };
	fake_reply denied[] = { { 403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>" },
				{ 0, NULL } };
	fake_reply mentions[] = { { 400, "<ErrorResponse><Error><Code>ValidationError</Code><Message>AccessDenied is not a role</Message></Error></ErrorResponse>" },
				  { 0, NULL } };
	fake_reply ok_then_ecr[] = { { 200, STS_OK("sts-session-token") }, { 500, "{}" }, { 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;

	CHECK_EQ_INT(fetch_from(inject, vars, NULL, &l, &f), DC_ERR);
	CHECK_HAS(dc_error_last(), "control characters");
	CHECK_EQ_INT(f.served, 1); /* nothing was sent with the injected header */
	CHECK_EQ_INT(fetch_from(ctl, vars, NULL, &l, &f), DC_ERR);
	CHECK_EQ_INT(f.served, 1);
	CHECK_EQ_INT(fetch_from(denied, vars, NULL, &l, &f), DC_ERR);
	CHECK_HAS(dc_error_last(), "refused to assume role 'arn:aws:iam::123456789012:role/deployer'");
	CHECK_EQ_STR(dc_error_get()->upstream_code, "AccessDenied");
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_AUTH);
	/* a message that merely mentions AccessDenied is not one */
	CHECK_EQ_INT(fetch_from(mentions, vars, NULL, &l, &f), DC_ERR);
	CHECK_LACKS(dc_error_last(), "refused to assume role");
	CHECK_EQ_STR(dc_error_get()->upstream_code, "ValidationError");
	/* the role's session token goes to ECR, in its own header */
	CHECK_EQ_INT(fetch_from(ok_then_ecr, vars, NULL, &l, &f), DC_ERR);
	CHECK_EQ_INT(f.served, 2);
	CHECK_HAS(f.request, "X-Amz-Security-Token: sts-session-token\r\n");
	CHECK_HAS(f.request, "Credential=ASIAEXAMPLE/");
	CHECK(dc_redactor_contains(ctx.redactor, "sts-secret-value"));
	dc_cred_list_release(&l);
}

/* Run last: no line any of the above logged held the secret or token. */
static void test_nothing_logged(void)
{
	CHECK(!secret_logged);
}

int main(void)
{
	dc_http_config cfg = { .connect_timeout_ms = 500, .deadline_ms = 2000, .max_reply = 1 << 16, .attempts = 1 };
	int rc;

	setenv("https_proxy", "http://127.0.0.1:9", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("no_proxy", "127.0.0.1", 1); /* the fake peers only */
	unsetenv("NO_PROXY");
	if (dc_ctx_init(&ctx, &env, sink, DC_LOG_DEBUG) < 0 || dc_http_new(&ctx.http, &cfg, &ctx.log) < 0)
		return 1;

	T_RUN(test_missing_keys);
	T_RUN(test_key_id_test);
	T_RUN(test_session_token);
	T_RUN(test_secret_line_break);
	T_RUN(test_role);
	T_RUN(test_registry_ids);
	T_RUN(test_ecr_public_switch);
	T_RUN(test_region);
	T_RUN(test_endpoint);
	T_RUN(test_cache_key);
	T_RUN(test_endpoint_userinfo);
	T_RUN(test_partitions);
	T_RUN(test_default_endpoints);
	T_RUN(test_plain_http_warning);
	T_RUN(test_host_query);
	T_RUN(test_proxy_endpoint);
	T_RUN(test_expires_at);
	T_RUN(test_upstream_errors);
	T_RUN(test_sts);
	T_RUN(test_nothing_logged);

	rc = t_done();
	dc_ctx_release(&ctx);
	return rc;
}
