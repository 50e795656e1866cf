/* test_match.c -- which registry hosts each family serves (match), and what
 * the host implies (ECR account, region, FIPS, dual-stack, ECR Public).
 * Positive hosts from FRONTS.md (amazon-ecr-credential-helper's pattern,
 * docker-credential-gcr's and the Azure helpers' host lists), and negative
 * ones: look-alikes and suffix tricks must not match. No network. */
#include <stdio.h>
#include <string.h>

#include "providers/provider.h"
#include "t.h"

static dc_ctx ctx;
static dc_env env;

static void *parse(const dc_family *f, char **vars)
{
	void *cfg = NULL;

	env.vars = vars;
	if (!CHECK_EQ_INT(f->parse(&cfg, &ctx), 0)) {
		fprintf(stderr, "  %s: %s\n", f->name, dc_error_last());
		return NULL;
	}
	return cfg;
}

static void want(const dc_family *f, const void *cfg, const char *host, int ok)
{
	dc_scope s;

	memset(&s, 0x5a, sizeof(s));
	if (!CHECK_EQ_INT(f->match(cfg, host, &s), ok))
		fprintf(stderr, "  %s: '%s' should %smatch\n", f->name, host, ok ? "" : "not ");
	else if (ok)
		CHECK_EQ_STR(s.host, host);
}

static void test_ecr_hosts(void)
{
	static const struct {
		const char *host, *account, *region;
		int fips, dual, public;
	} yes[] = {
		{ "123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012", "us-east-1", 0, 0, 0 },
		{ "210987654321.dkr.ecr.eu-central-1.amazonaws.com", "210987654321", "eu-central-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", 1, 0, 0 },
		{ "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012", "us-east-1", 1, 0, 0 },
		{ "123456789012.dkr-ecr.us-east-1.on.aws", "123456789012", "us-east-1", 0, 1, 0 },
		{ "123456789012.dkr-ecr-fips.us-east-2.on.aws", "123456789012", "us-east-2", 1, 1, 0 },
		{ "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", 0, 0, 0 },
		{ "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", "123456789012", "cn-northwest-1", 0, 1, 0 },
		{ "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012", "us-isob-east-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012", "eu-isoe-west-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "123456789012", "us-isof-south-1", 0, 0, 0 },
		{ "123456789012.dkr.ecr.my_region-9.amazonaws.com", "123456789012", "my_region-9", 0, 0, 0 },
		{ "public.ecr.aws", "", "us-east-1", 0, 0, 1 },
		{ "ecr-public.aws.com", "", "us-east-1", 0, 1, 1 },
	};
	static const char *const no[] = {
		"12345678901.dkr.ecr.us-east-1.amazonaws.com",        /* 11 digits */
		"1234567890123.dkr.ecr.us-east-1.amazonaws.com",      /* 13 digits */
		"x123456789012.dkr.ecr.us-east-1.amazonaws.com",
		"12345678901a.dkr.ecr.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.",
		"123456789012.dkr.ecr.us-east-1.amazonaws.co",
		"123456789012.dkr.ecr.us-east-1.notamazonaws.com",
		"123456789012.dkr.ecr.us-east-1.evilamazonaws.com",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.cn.evil",
		"123456789012.dkr.ecr..amazonaws.com",                /* no region */
		"123456789012.dkr.ecr.-us-east-1.amazonaws.com",      /* region starts badly */
		"123456789012.dkr.ecr.us.east.1.amazonaws.com",
		"123456789012.dkr_ecr.us-east-1.amazonaws.com",
		"123456789012.dkrecr.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr-fipsx.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr-fip.us-east-1.amazonaws.com",
		"123456789012.ecr.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com:99999", /* not a port */
		"123456789012.dkr.ecr.us-east-1.amazonaws.com:",
		"123456789012.DKR.ECR.us-east-1.amazonaws.com",       /* the pattern is exact */
		"evil.com/123456789012.dkr.ecr.us-east-1.amazonaws.com",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com/x",
		"user@123456789012.dkr.ecr.us-east-1.amazonaws.com",
		"public.ecr.aws.evil.com",
		"evilpublic.ecr.aws",
		"x.public.ecr.aws",
		"ecr-public.aws.com.evil",
		"ecr.aws",
		"amazonaws.com",
		"",
	};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		dc_scope s;

		memset(&s, 0x5a, sizeof(s));
		if (!CHECK_EQ_INT(dc_family_ecr.match(NULL, yes[i].host, &s), 1)) {
			fprintf(stderr, "  '%s' should match\n", yes[i].host);
			continue;
		}
		CHECK_EQ_STR(s.host, yes[i].host);
		CHECK_EQ_STR(s.account, yes[i].account);
		CHECK_EQ_STR(s.region, yes[i].region);
		if (!CHECK_EQ_INT(s.fips, yes[i].fips) || !CHECK_EQ_INT(s.dualstack, yes[i].dual) ||
		    !CHECK_EQ_INT(s.ecr_public, yes[i].public))
			fprintf(stderr, "  for '%s'\n", yes[i].host);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		want(&dc_family_ecr, NULL, no[i], 0);
	/* a NULL scope is allowed */
	CHECK_EQ_INT(dc_family_ecr.match(NULL, "public.ecr.aws", NULL), 1);
}

static void test_gcr_hosts(void)
{
	char *vars[] = { "GCE_METADATA_HOST=127.0.0.1:1", "GOOGLE_LOCATION=europe-west1, my.mirror.example", NULL };
	static const char *const yes[] = {
		"gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", "GCR.IO", "europe-west1-docker.pkg.dev",
		"us-docker.pkg.dev", "asia-northeast3-docker.pkg.dev", "my.mirror.example",
	};
	static const char *const no[] = {
		"evilgcr.io", "gcr.io.evil.com", "x.gcr.io", "gcr.io:443", "gcr.iox", "evil.com",
		"-docker.pkg.dev", "docker.pkg.dev", "a.b-docker.pkg.dev", "evil.com/us-docker.pkg.dev",
		"europe-west1-docker.pkg.dev.evil.com", "us-docker.pkg.devx", "us_x-docker.pkg.dev",
		"-us-docker.pkg.dev", "mirror.example", "my.mirror.example.evil", "",
	};
	void *cfg = parse(&dc_family_gcr, vars);
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		want(&dc_family_gcr, cfg, yes[i], 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		want(&dc_family_gcr, cfg, no[i], 0);
	dc_family_gcr.release(cfg);
}

static void test_acr_hosts(void)
{
	char *sp[] = { "AZURE_REGISTRY=https://r.example:8443", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t",
		       "AZURE_CLIENT_SECRET=sp-secret-1", NULL };
	char *admin[] = { "AZURE_REGISTRY=myregistry1", "AZURE_USERNAME=myregistry1", "AZURE_PASSWORD=admin-pw-1", NULL };
	static const char *const sp_yes[] = {
		"r.example:8443", "myregistry1.azurecr.io", "otherreg.azurecr.io", "Other12.azurecr.cn",
		"other12.azurecr.de", "other12.azurecr.us",
	};
	static const char *const sp_no[] = {
		"r.example", "evil.azurecr.io.evil.com", "azurecr.io", ".azurecr.io", "abcd.azurecr.io" /* 4 */,
		"my-reg.azurecr.io", "a.bcdef.azurecr.io", "myregistryazurecr.io", "myregistry.azurecr.com",
		"myregistry.azurecr.io:443", "myregistry.azurecr.io/x", "",
	};
	void *cfg = parse(&dc_family_acr, sp);
	size_t i;

	if (cfg) {
		for (i = 0; i < sizeof(sp_yes) / sizeof(sp_yes[0]); i++)
			want(&dc_family_acr, cfg, sp_yes[i], 1);
		for (i = 0; i < sizeof(sp_no) / sizeof(sp_no[0]); i++)
			want(&dc_family_acr, cfg, sp_no[i], 0);
		dc_family_acr.release(cfg);
	}
	/* the admin user's password is for its own registry only */
	if ((cfg = parse(&dc_family_acr, admin)) != NULL) {
		want(&dc_family_acr, cfg, "myregistry1.azurecr.io", 1);
		want(&dc_family_acr, cfg, "otherreg.azurecr.io", 0);
		want(&dc_family_acr, cfg, "myregistry1.azurecr.io.evil.com", 0);
		dc_family_acr.release(cfg);
	}
}

static void test_static_hosts(void)
{
	char *hub[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", NULL };
	char *quay[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", "DOCKER_REGISTRY=https://r.example:5000/v2/",
			 NULL };
	char *heroku[] = { "HEROKU_API_KEY=h-key-0001", NULL };
	char *ibm[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY=us.icr.io,de.icr.io", NULL };
	char *ibm_default[] = { "IBMCLOUD_API_KEY=i-key-0001", NULL };
	void *cfg;

	if ((cfg = parse(&dc_family_docker, hub)) != NULL) {
		want(&dc_family_docker, cfg, "docker.io", 1);
		want(&dc_family_docker, cfg, "index.docker.io", 1);
		want(&dc_family_docker, cfg, "registry-1.docker.io", 1);
		want(&dc_family_docker, cfg, "https://index.docker.io/v1/", 1);
		want(&dc_family_docker, cfg, "docker.io.evil.com", 0);
		want(&dc_family_docker, cfg, "evil-docker.io", 0);
		want(&dc_family_docker, cfg, "quay.io", 0);
		dc_family_docker.release(cfg);
	}
	if ((cfg = parse(&dc_family_docker, quay)) != NULL) {
		want(&dc_family_docker, cfg, "r.example:5000", 1);
		want(&dc_family_docker, cfg, "r.example", 0);
		want(&dc_family_docker, cfg, "docker.io", 0);
		dc_family_docker.release(cfg);
	}
	if ((cfg = parse(&dc_family_heroku, heroku)) != NULL) {
		want(&dc_family_heroku, cfg, "registry.heroku.com", 1);
		want(&dc_family_heroku, cfg, "registry.heroku.com.evil.com", 0);
		want(&dc_family_heroku, cfg, "evilregistry.heroku.com", 0);
		dc_family_heroku.release(cfg);
	}
	if ((cfg = parse(&dc_family_ibm, ibm)) != NULL) {
		want(&dc_family_ibm, cfg, "us.icr.io", 1);
		want(&dc_family_ibm, cfg, "de.icr.io", 1);
		want(&dc_family_ibm, cfg, "icr.io", 0);
		want(&dc_family_ibm, cfg, "us.icr.io.evil.com", 0);
		dc_family_ibm.release(cfg);
	}
	if ((cfg = parse(&dc_family_ibm, ibm_default)) != NULL) {
		want(&dc_family_ibm, cfg, "icr.io", 1);
		want(&dc_family_ibm, cfg, "us.icr.io", 0);
		dc_family_ibm.release(cfg);
	}
}

int main(void)
{
	int rc;

	if (dc_ctx_init(&ctx, &env, NULL, DC_LOG_WARN) < 0)
		return 1;
	T_RUN(test_ecr_hosts);
	T_RUN(test_gcr_hosts);
	T_RUN(test_acr_hosts);
	T_RUN(test_static_hosts);
	rc = t_done();
	dc_ctx_release(&ctx);
	return rc;
}
