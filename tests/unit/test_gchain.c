/* test_gchain.c -- auth/gchain: which Google credentials file is which,
 * what each type must hold, the GitHub Actions variables, the order of the
 * chain and the cache identity of each source. No request is made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/gchain.h"
#include "t.h"

static dc_ctx ctx;
static dc_env env;

static void sink(enum dc_log_level level, const char *line)
{
	(void)level;
	(void)line;
}

static int parse(dc_google_creds *g, const char *json)
{
	dc_google_creds_release(g);
	dc_error_clear();
	return dc_google_creds_parse(g, &ctx, json, strlen(json), "the file 'x.json'");
}

static void test_types(void)
{
	dc_google_creds g = DC_GOOGLE_CREDS_INIT;
	dc_buf p = DC_BUF_INIT, s = DC_BUF_INIT;
	dc_sec seal = DC_SEC_INIT;

	CHECK_EQ_INT(parse(&g, "{\"type\": \"authorized_user\", \"client_id\": \"cid\", \"client_secret\": \"cs\", "
			       "\"refresh_token\": \"1//rt\"}"), 0);
	CHECK_EQ_INT(g.kind, DC_GOOGLE_USER);
	CHECK_EQ_STR(g.token_uri, "https://oauth2.googleapis.com/token");
	CHECK_EQ_INT(dc_google_creds_key(&p, &s, &seal, &g), 1);
	CHECK_EQ_STR(p.ptr, "authorized_user:cid");
	CHECK_HAS(s.ptr, "refresh_token_sha256=");
	CHECK_LACKS(s.ptr, "1//rt");
	CHECK_EQ_STR(seal.ptr, "1//rt");
	dc_sec_release(&seal);
	dc_buf_reset(&p);
	dc_buf_reset(&s);

	CHECK_EQ_INT(parse(&g, "{\"type\": \"external_account\", \"audience\": \"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x\", "
			       "\"subject_token_type\": \"urn:ietf:params:oauth:token-type:jwt\", \"token_url\": \"https://sts.googleapis.com/v1/token\", "
			       "\"service_account_impersonation_url\": \"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken\", "
			       "\"credential_source\": {\"url\": \"https://example.com/t\", \"headers\": {\"Authorization\": \"Bearer hdr-secret\"}, "
			       "\"format\": {\"type\": \"json\", \"subject_token_field_name\": \"value\"}}}"), 0);
	CHECK_EQ_INT(g.kind, DC_GOOGLE_EXTERNAL);
	CHECK_EQ_INT(g.subject, DC_GSUB_URL);
	CHECK_EQ_STR(g.impersonated, "sa@p.iam.gserviceaccount.com");
	CHECK_EQ_STR(g.json_field, "value");
	CHECK_EQ_STR(g.headers[0], "Authorization: Bearer hdr-secret");
	CHECK(dc_redactor_contains(ctx.redactor, "Bearer hdr-secret"));
	CHECK_EQ_INT(dc_google_creds_key(&p, &s, &seal, &g), 1);
	CHECK_EQ_STR(p.ptr, "sa@p.iam.gserviceaccount.com");
	CHECK(seal.ptr == NULL);
	dc_buf_release(&p);
	dc_buf_release(&s);
	dc_google_creds_release(&g);
}

static void test_refusals(void)
{
	static const struct {
		const char *json, *why;
	} bad[] = {
		{ "{\"type\": \"authorized_user\", \"client_id\": \"c\"}", "without client_id, client_secret and refresh_token" },
		{ "{\"type\": \"impersonated_service_account\"}", "of type 'impersonated_service_account'" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\"}", "without audience" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\", \"credential_source\": {}}",
		  "none (or several) of file, url and executable" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\", \"credential_source\": {\"environment_id\": \"aws1\"}}",
		  "does not support" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\", \"credential_source\": {\"executable\": {\"command\": \"x\"}}}",
		  "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\", \"token_url\": \"http://evil.example/t\", \"credential_source\": {\"file\": \"f\"}}",
		  "use https" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\", \"service_account_impersonation_url\": \"https://x/v1/nothing\", \"credential_source\": {\"file\": \"f\"}}",
		  "names no service account" },
		{ "{\"type\": \"external_account\", \"audience\": \"a\", \"subject_token_type\": \"t\", \"credential_source\": {\"file\": \"f\", \"format\": {\"type\": \"xml\"}}}",
		  "format.type 'xml'" },
	};
	dc_google_creds g = DC_GOOGLE_CREDS_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!CHECK_EQ_INT(parse(&g, bad[i].json), DC_EUSAGE) || !CHECK_HAS(dc_error_last(), bad[i].why))
			fprintf(stderr, "  case %zu\n", i);
	}
	dc_google_creds_release(&g);
}

static void test_order(void)
{
	char *gha[] = { "HOME=/nonexistent", "GOOGLE_WORKLOAD_IDENTITY_PROVIDER=projects/1/locations/global/workloadIdentityPools/p/providers/x",
			"ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:9/t?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=r",
			"GOOGLE_SERVICE_ACCOUNT=sa@p.iam.gserviceaccount.com", NULL };
	char *gha_no_token[] = { "HOME=/nonexistent", "GOOGLE_WORKLOAD_IDENTITY_PROVIDER=projects/1/locations/global/workloadIdentityPools/p/providers/x", NULL };
	char *bad_provider[] = { "HOME=/nonexistent", "GOOGLE_WORKLOAD_IDENTITY_PROVIDER=my-pool",
				 "ACTIONS_ID_TOKEN_REQUEST_URL=http://127.0.0.1:9/t", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=r", NULL };
	char *nothing[] = { "HOME=/nonexistent", "GCE_METADATA_HOST=127.0.0.1:9", NULL };
	char *missing[] = { "GOOGLE_APPLICATION_CREDENTIALS=/nonexistent/key.json", NULL };
	dc_google_creds g = DC_GOOGLE_CREDS_INIT;
	dc_buf p = DC_BUF_INIT, s = DC_BUF_INIT;
	dc_sec seal = DC_SEC_INIT;

	env.vars = gha;
	if (CHECK_EQ_INT(dc_google_creds_from_env(&g, &ctx), 0)) {
		CHECK_EQ_INT(g.kind, DC_GOOGLE_EXTERNAL);
		CHECK_EQ_INT(g.subject, DC_GSUB_GHA);
		CHECK_EQ_STR(g.audience, "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x");
		CHECK_EQ_STR(g.gha_audience, "https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/x");
		CHECK_EQ_STR(g.impersonation_url, "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken");
	}
	dc_google_creds_release(&g);
	env.vars = gha_no_token;
	CHECK_EQ_INT(dc_google_creds_from_env(&g, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "id-token: write");
	dc_google_creds_release(&g);
	env.vars = bad_provider;
	CHECK_EQ_INT(dc_google_creds_from_env(&g, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "GOOGLE_WORKLOAD_IDENTITY_PROVIDER is 'my-pool'");
	dc_google_creds_release(&g);
	env.vars = nothing;
	if (CHECK_EQ_INT(dc_google_creds_from_env(&g, &ctx), 0)) {
		CHECK_EQ_INT(g.kind, DC_GOOGLE_METADATA);
		CHECK_EQ_STR(g.tried, "GOOGLE_AUTH_JSON: not set; GOOGLE_APPLICATION_CREDENTIALS: not set; gcloud credentials file: absent; GitHub Actions: GOOGLE_WORKLOAD_IDENTITY_PROVIDER is not set");
		CHECK_EQ_INT(dc_google_creds_key(&p, &s, &seal, &g), 0); /* not cached */
	}
	dc_google_creds_release(&g);
	env.vars = missing;
	CHECK_EQ_INT(dc_google_creds_from_env(&g, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "/nonexistent/key.json");
	dc_google_creds_release(&g);
	dc_buf_release(&p);
	dc_buf_release(&s);
}

int main(void)
{
	int rc;

	if (dc_ctx_init(&ctx, &env, sink, DC_LOG_DEBUG) < 0)
		return 1;
	T_RUN(test_types);
	T_RUN(test_refusals);
	T_RUN(test_order);
	rc = t_done();
	dc_ctx_release(&ctx);
	return rc;
}
