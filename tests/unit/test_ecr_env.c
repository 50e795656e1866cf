/* test_ecr_env.c -- providers/ecr: configuration errors found before any
 * network call, the cache identity, AWS partitions and default endpoints,
 * and the warning about plain http to another machine.
 *
 * Every fetch here must fail with DC_EUSAGE. In case one does reach the
 * network, requests go to a proxy on a closed local port with one short
 * attempt, so such a bug shows up fast as DC_ERR instead of a hang.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/aws.h"
#include "providers/provider.h"
#include "t.h"
#include "util/http.h"
#include "util/log.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
#define TOKEN "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"

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

/* fetch must refuse `vars` as a usage error naming `name`, with nothing
 * filled in and no secret in the message. */
static void refuse(char **vars, const char *name)
{
	dc_env e = { vars };
	dc_cred_list l = DC_CRED_LIST_INIT;
	int rc;

	dc_error_clear();
	rc = dc_provider_ecr.fetch(&l, &e);
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
	char *no_secret[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			      "AWS_SESSION_TOKEN=" TOKEN, NULL };
	char *empty_secret[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=", NULL };
	char *no_id[] = { "AWS_REGION=us-east-1", "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *bad_id[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" SECRET,
			   "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *nothing[] = { "AWS_REGION=us-east-1", NULL };

	refuse(no_secret, "AWS_SECRET_ACCESS_KEY");
	refuse(empty_secret, "AWS_SECRET_ACCESS_KEY");
	refuse(no_id, "AWS_ACCESS_KEY_ID");
	/* an id that looks like a secret (someone swapped them) is not echoed */
	refuse(bad_id, "AWS_ACCESS_KEY_ID");
	refuse(nothing, "AWS_ACCESS_KEY_ID");
}

static void test_role(void)
{
	char *role_only[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			      "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_STS_ROLE=deployer", NULL };
	char *account_only[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_STS_ACCOUNT=123456789012", NULL };
	char *short_account[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				  "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_STS_ROLE=deployer",
				  "AWS_STS_ACCOUNT=12345", NULL };
	char *arn_role[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			     "AWS_SECRET_ACCESS_KEY=" SECRET,
			     "AWS_STS_ROLE=arn:aws:iam::123456789012:role/deployer",
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
		"AWS_ECR_REGISTRY_IDS=123456789012,,210987654321",
		"AWS_ECR_REGISTRY_IDS=,",
		"AWS_ECR_REGISTRY_IDS= ",
		"AWS_ECR_REGISTRY_IDS=123456789012,21098765432x",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *vars[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=" SECRET, (char *)bad[i], NULL };

		refuse(vars, "AWS_ECR_REGISTRY_IDS");
	}
	{
		char *vars[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=" SECRET, "ECR_PUBLIC=true",
				 "AWS_ECR_REGISTRY_IDS=123456789012", NULL };

		refuse(vars, "AWS_ECR_REGISTRY_IDS");
	}
}

static void test_region(void)
{
	char *space[] = { "AWS_REGION=us east", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			  NULL };
	char *upper[] = { "AWS_REGION=US-EAST-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			  NULL };
	char *host[] = { "AWS_REGION=evil.example.com/x", "AWS_ACCESS_KEY_ID=" KEY_ID,
			 "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *dflt[] = { "AWS_DEFAULT_REGION=us_east_1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			 "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *none[] = { "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };

	refuse(space, "AWS_REGION");
	CHECK_HAS(dc_error_last(), "'us east'");
	refuse(upper, "AWS_REGION");
	refuse(host, "AWS_REGION");
	refuse(dflt, "AWS_DEFAULT_REGION");
	refuse(none, "AWS_REGION");
}

static void test_endpoint(void)
{
	char *no_scheme[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			      "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ENDPOINT_URL=localhost:4566", NULL };
	char *ftp[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			"AWS_ENDPOINT_URL_ECR=ftp://127.0.0.1/", NULL };
	char *pub[] = { "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET, "ECR_PUBLIC=1",
			"AWS_ENDPOINT_URL_ECR_PUBLIC=not a url", NULL };

	refuse(no_scheme, "AWS_ENDPOINT_URL");
	CHECK_HAS(dc_error_last(), "localhost:4566");
	refuse(ftp, "AWS_ENDPOINT_URL_ECR");
	refuse(pub, "AWS_ENDPOINT_URL_ECR_PUBLIC");
}

static int identity(dc_buf *out, char **vars)
{
	dc_env e = { vars };

	dc_buf_init(out, 0, DC_BUF_SECRET);
	return dc_provider_ecr.cache_identity(out, &e);
}

/* A user name or password in an endpoint is refused, and not repeated. */
static void test_endpoint_userinfo(void)
{
	static const char *const bad[] = {
		"AWS_ENDPOINT_URL_ECR=http://admin:hunter2pw@127.0.0.1:9/",
		"AWS_ENDPOINT_URL_ECR=https://hunter2pw@ecr.example.com",
		"AWS_ENDPOINT_URL_ECR=https://admin:hunter2pw@ecr.example.com:443/x?y#z",
		"AWS_ENDPOINT_URL_ECR=admin:hunter2pw@127.0.0.1:9", /* no scheme: still not echoed */
		"AWS_ENDPOINT_URL_ECR=ftp://admin:hunter2pw@127.0.0.1/",
	};
	char *path_at[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			    "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:9/a@b?c=d@e", NULL };
	char *sts[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			"AWS_STS_ROLE=deployer", "AWS_STS_ACCOUNT=123456789012",
			"AWS_ENDPOINT_URL_ECR=http://127.0.0.1:9",
			"AWS_ENDPOINT_URL_STS=http://admin:hunter2pw@127.0.0.1:9", NULL };
	dc_buf b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *vars[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=" SECRET, (char *)bad[i], NULL };
		char *general[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				    "AWS_SECRET_ACCESS_KEY=" SECRET, (char *)bad[i] + strlen("AWS_ENDPOINT_URL_ECR="),
				    NULL };
		char general_var[256];

		refuse(vars, "AWS_ENDPOINT_URL_ECR");
		CHECK_LACKS(dc_error_last(), "hunter2pw");
		CHECK_HAS(dc_error_last(), "user name or password");
		/* the same through AWS_ENDPOINT_URL, and for the cache identity */
		snprintf(general_var, sizeof(general_var), "AWS_ENDPOINT_URL=%s", general[3]);
		general[3] = general_var;
		refuse(general, "AWS_ENDPOINT_URL");
		CHECK_LACKS(dc_error_last(), "hunter2pw");
		CHECK_EQ_INT(identity(&b, vars), DC_EUSAGE);
		CHECK_LACKS(dc_error_last(), "hunter2pw");
		dc_buf_release(&b);
	}
	refuse(sts, "AWS_ENDPOINT_URL_STS");
	CHECK_LACKS(dc_error_last(), "hunter2pw");
	/* '@' in the path or query is no user name */
	CHECK_EQ_INT(identity(&b, path_at), 0);
	CHECK_HAS(b.ptr, "endpoint=http://127.0.0.1:9/a@b?c=d@e\n");
	dc_buf_release(&b);
}

static void test_partitions(void)
{
	static const struct {
		const char *region, *name, *suffix;
	} cases[] = {
		{ "us-east-1", "aws", "amazonaws.com" },
		{ "eu-central-1", "aws", "amazonaws.com" },
		{ "ap-southeast-2", "aws", "amazonaws.com" },
		{ "cn-north-1", "aws-cn", "amazonaws.com.cn" },
		{ "cn-northwest-1", "aws-cn", "amazonaws.com.cn" },
		{ "us-gov-west-1", "aws-us-gov", "amazonaws.com" },
		{ "us-gov-east-1", "aws-us-gov", "amazonaws.com" },
		{ "us-iso-east-1", "aws-iso", "c2s.ic.gov" },
		{ "us-iso-west-1", "aws-iso", "c2s.ic.gov" },
		{ "us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov" },
		{ "cn", "aws", "amazonaws.com" },       /* prefixes with their dash only */
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

/* With no endpoint variable: AWS's own, in the region's partition. */
static void test_default_endpoints(void)
{
	static const struct {
		const char *region, *service, *url;
	} cases[] = {
		{ "us-east-1", "api.ecr", "https://api.ecr.us-east-1.amazonaws.com" },
		{ "cn-north-1", "api.ecr", "https://api.ecr.cn-north-1.amazonaws.com.cn" },
		{ "cn-northwest-1", "sts", "https://sts.cn-northwest-1.amazonaws.com.cn" },
		{ "us-gov-west-1", "sts", "https://sts.us-gov-west-1.amazonaws.com" },
		{ "us-iso-east-1", "api.ecr", "https://api.ecr.us-iso-east-1.c2s.ic.gov" },
		{ "us-isob-east-1", "sts", "https://sts.us-isob-east-1.sc2s.sgov.gov" },
	};
	char *none[] = { "UNRELATED=1", NULL };
	char *cn[] = { "AWS_REGION=cn-north-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *cn_public[] = { "AWS_REGION=cn-north-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			      "AWS_SECRET_ACCESS_KEY=" SECRET, "ECR_PUBLIC=1", NULL };
	char *cn_public_role[] = { "AWS_REGION=cn-north-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				   "AWS_SECRET_ACCESS_KEY=" SECRET, "ECR_PUBLIC=1", "AWS_STS_ROLE=deployer",
				   "AWS_STS_ACCOUNT=123456789012", NULL };
	char *gov_public_role[] = { "AWS_DEFAULT_REGION=us-gov-west-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				    "AWS_SECRET_ACCESS_KEY=" SECRET, "ECR_PUBLIC=1", "AWS_STS_ROLE=deployer",
				    "AWS_STS_ACCOUNT=123456789012", NULL };
	char *public_role[] = { "AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				"AWS_SECRET_ACCESS_KEY=" SECRET, "ECR_PUBLIC=1", "AWS_STS_ROLE=deployer",
				"AWS_STS_ACCOUNT=123456789012", NULL };
	dc_env e = { none };
	dc_buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dc_buf url = DC_BUF_INIT;

		CHECK_EQ_INT(dc_aws_endpoint(&url, &e, "AWS_ENDPOINT_URL_X", cases[i].service, cases[i].region), 0);
		CHECK_EQ_STR(url.ptr, cases[i].url);
		dc_buf_release(&url);
	}
	CHECK_EQ_INT(identity(&b, cn), 0);
	CHECK_HAS(b.ptr, "endpoint=https://api.ecr.cn-north-1.amazonaws.com.cn\n");
	dc_buf_release(&b);
	/* ECR Public is in the aws partition only, whatever the region */
	CHECK_EQ_INT(identity(&b, cn_public), 0);
	CHECK_HAS(b.ptr, "endpoint=https://api.ecr-public.us-east-1.amazonaws.com\n");
	dc_buf_release(&b);
	CHECK_EQ_INT(identity(&b, public_role), 0);
	dc_buf_release(&b);
	/* a role would be assumed in the region's partition: useless there */
	refuse(cn_public_role, "ECR_PUBLIC");
	CHECK_HAS(dc_error_last(), "aws-cn");
	refuse(gov_public_role, "ECR_PUBLIC");
	CHECK_HAS(dc_error_last(), "aws-us-gov");
}

/* Plain http to another machine works, with one warning per variable. */
static void test_plain_http_warning(void)
{
	char *local[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			  "AWS_ENDPOINT_URL_ECR=http://127.0.0.2:4566", NULL };
	char *localhost[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			      "AWS_ENDPOINT_URL_ECR=http://localhost:4566/", NULL };
	char *v6[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
		       "AWS_ENDPOINT_URL_ECR=http://[::1]:4566", NULL };
	char *odd_path[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			     "AWS_ENDPOINT_URL_ECR=http://127.0.0.1:4566/a b", NULL };
	char *tls[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			"AWS_ENDPOINT_URL_ECR=https://localstack:4566", NULL };
	char *sidecar[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			    "AWS_ENDPOINT_URL_ECR=http://localstack:4566", NULL };
	char *lookalike[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			      "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ENDPOINT_URL=http://127.0.0.1.example.com/", NULL };
	char **quiet[] = { local, localhost, v6, odd_path, tls };
	dc_buf b;
	size_t i;

	warnings = 0;
	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		CHECK_EQ_INT(identity(&b, quiet[i]), 0);
		dc_buf_release(&b);
	}
	CHECK_EQ_INT(warnings, 0);
	dc_error_clear();
	CHECK_EQ_INT(identity(&b, sidecar), 0);
	dc_buf_release(&b);
	CHECK_EQ_INT(warnings, 1);
	CHECK_HAS(last_warning, "AWS_ENDPOINT_URL_ECR");
	CHECK_HAS(last_warning, "'http://localstack:4566'");
	CHECK_HAS(last_warning, "unencrypted");
	CHECK_EQ_STR(dc_error_last(), ""); /* a warning, no error left behind */
	CHECK_EQ_INT(identity(&b, sidecar), 0); /* once per variable */
	dc_buf_release(&b);
	CHECK_EQ_INT(warnings, 1);
	CHECK_EQ_INT(identity(&b, lookalike), 0);
	dc_buf_release(&b);
	CHECK_EQ_INT(warnings, 2);
	CHECK_HAS(last_warning, "AWS_ENDPOINT_URL is");
}

static void test_cache_identity(void)
{
	char *base[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			 NULL };
	char *same[] = { "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_REGION=us-east-1",
			 "UNRELATED=1", NULL };
	char *other_secret[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=" SECRET "2", NULL };
	char *other_region[] = { "AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				 "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *with_token[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			       "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_SESSION_TOKEN=" TOKEN, NULL };
	char *with_ids[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
			     "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ECR_REGISTRY_IDS=123456789012", NULL };
	char *with_endpoint[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID,
				  "AWS_SECRET_ACCESS_KEY=" SECRET, "AWS_ENDPOINT_URL=http://127.0.0.1:5000", NULL };
	char *bad_region[] = { "AWS_REGION=us east", "AWS_ACCESS_KEY_ID=" KEY_ID,
			       "AWS_SECRET_ACCESS_KEY=" SECRET, NULL };
	char *ep_east[] = { "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			    "AWS_ENDPOINT_URL=http://127.0.0.1:5000", NULL };
	char *ep_west[] = { "AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=" KEY_ID, "AWS_SECRET_ACCESS_KEY=" SECRET,
			    "AWS_ENDPOINT_URL=http://127.0.0.1:5000", NULL };
	char **variants[] = { other_secret, other_region, with_token, with_ids, with_endpoint };
	dc_buf a, b;
	size_t i;

	CHECK_EQ_INT(identity(&a, base), 0);
	CHECK(a.len > 0);
	CHECK_EQ_INT(identity(&b, same), 0);
	CHECK_EQ_STR(a.ptr, b.ptr); /* stable, whatever the order of the variables */
	dc_buf_release(&b);
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		CHECK_EQ_INT(identity(&b, variants[i]), 0);
		if (!CHECK(strcmp(a.ptr, b.ptr) != 0))
			fprintf(stderr, "  variant %zu gives the same identity\n", i);
		dc_buf_release(&b);
	}
	dc_buf_release(&a);

	/* the region counts even when one endpoint serves every region (moto) */
	CHECK_EQ_INT(identity(&a, ep_east), 0);
	CHECK_EQ_INT(identity(&b, ep_west), 0);
	CHECK(strcmp(a.ptr, b.ptr) != 0);
	dc_buf_release(&a);
	dc_buf_release(&b);

	CHECK_EQ_INT(identity(&b, bad_region), DC_EUSAGE);
	dc_buf_release(&b);
}

/* Run last: no line any of the above logged held the secret or token. */
static void test_nothing_logged(void)
{
	CHECK(!secret_logged);
}

int main(void)
{
	dc_http_config cfg = { .connect_timeout_ms = 500, .deadline_ms = 1000, .max_reply = 1 << 16,
			       .attempts = 1 };
	int rc;

	setenv("https_proxy", "http://127.0.0.1:9", 1);
	setenv("HTTPS_PROXY", "http://127.0.0.1:9", 1);
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	unsetenv("NO_PROXY");
	unsetenv("no_proxy");
	dc_http_configure(&cfg);
	dc_log_set_sink(sink, DC_LOG_DEBUG);

	T_RUN(test_missing_keys);
	T_RUN(test_role);
	T_RUN(test_registry_ids);
	T_RUN(test_region);
	T_RUN(test_endpoint);
	T_RUN(test_cache_identity);
	T_RUN(test_endpoint_userinfo);
	T_RUN(test_partitions);
	T_RUN(test_default_endpoints);
	T_RUN(test_plain_http_warning);
	T_RUN(test_nothing_logged);

	rc = t_done();
	dc_log_set_sink(NULL, DC_LOG_WARN);
	dc_log_redact_clear();
	dc_http_cleanup();
	return rc;
}
