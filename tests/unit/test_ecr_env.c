/* test_ecr_env.c -- providers/ecr: configuration errors found before any
 * network call, and the cache identity.
 *
 * Every fetch here must fail with DC_EUSAGE. In case one does reach the
 * network, requests go to a proxy on a closed local port with one short
 * attempt, so such a bug shows up fast as DC_ERR instead of a hang.
 */
#include <stdlib.h>
#include <string.h>

#include "providers/provider.h"
#include "t.h"
#include "util/http.h"
#include "util/log.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"
#define TOKEN "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"

static int secret_logged;

static void sink(enum dc_log_level level, const char *line)
{
	(void)level;
	if (strstr(line, SECRET) || strstr(line, TOKEN))
		secret_logged = 1;
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
	T_RUN(test_nothing_logged);

	rc = t_done();
	dc_log_set_sink(NULL, DC_LOG_WARN);
	dc_log_redact_clear();
	dc_http_cleanup();
	return rc;
}
