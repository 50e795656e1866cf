/* test_azure.c -- auth/azure and providers/acr: registry names and URLs, the
 * application's variables, reading a JWT's exp claim, and the AAD token and
 * ACR exchange against a fake peer on 127.0.0.1 (the authority's path, the
 * refresh token's expiry bound, refusals). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/azure.h"
#include "fake_http.h"
#include "providers/provider.h"
#include "t.h"
#include "util/codec.h"
#include "util/log.h"

static dc_ctx ctx;
static dc_env env;
static int warnings;
static char last_warning[512];

static void sink(enum dc_log_level level, const char *line)
{
	if (level == DC_LOG_WARN) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", line);
	}
}

static void check_registry(const char *value, const char *url, const char *host)
{
	dc_acr_registry r = DC_ACR_REGISTRY_INIT;

	if (CHECK_EQ_INT(dc_acr_registry_parse(&r, value, "AZURE_REGISTRY"), 0)) {
		CHECK_EQ_STR(r.url, url);
		CHECK_EQ_STR(r.host, host);
	} else {
		fprintf(stderr, "  for '%s': %s\n", value, dc_error_last());
	}
	dc_acr_registry_release(&r);
}

static void check_registry_bad(const char *value, const char *want)
{
	dc_acr_registry r = DC_ACR_REGISTRY_INIT;

	dc_error_clear();
	if (!CHECK_EQ_INT(dc_acr_registry_parse(&r, value, "AZURE_REGISTRY_NAME"), DC_EUSAGE))
		fprintf(stderr, "  for '%s'\n", value);
	CHECK_HAS(dc_error_last(), want);
	CHECK_HAS(dc_error_last(), "AZURE_REGISTRY_NAME");
	CHECK(r.url == NULL && r.host == NULL);
	dc_acr_registry_release(&r);
}

static void test_registry(void)
{
	check_registry("myregistry", "https://myregistry.azurecr.io", "myregistry.azurecr.io");
	check_registry("MyRegistry01", "https://myregistry01.azurecr.io", "myregistry01.azurecr.io");
	check_registry("myregistry.azurecr.io", "https://myregistry.azurecr.io", "myregistry.azurecr.io");
	check_registry("myregistry.azurecr.io/", "https://myregistry.azurecr.io", "myregistry.azurecr.io");
	check_registry("https://myregistry.azurecr.io", "https://myregistry.azurecr.io", "myregistry.azurecr.io");
	check_registry("https://myregistry.azurecr.io/v2/", "https://myregistry.azurecr.io", "myregistry.azurecr.io");
	check_registry("https://r.example:8443", "https://r.example:8443", "r.example:8443");
	check_registry("http://127.0.0.1:5000", "http://127.0.0.1:5000", "127.0.0.1:5000");
	check_registry("http://localhost:5000/", "http://localhost:5000", "localhost:5000");
	check_registry("http://[::1]:5000", "http://[::1]:5000", "[::1]:5000");

	check_registry_bad("my_registry", "not a registry name");
	check_registry_bad("x", "not a registry name");
	/* R27: the rule is said */
	check_registry_bad("abcd", "5 to 50 letters and digits");
	check_registry_bad("a123456789012345678901234567890123456789012345678901", "5 to 50 letters and digits");
	/* REVIEW 6, R14: a password in the URL is never quoted */
	check_registry_bad("http://admin:hunter2secret@example.com", "user name or password");
	CHECK_LACKS(dc_error_last(), "hunter2secret");
	check_registry_bad("admin:hunter2secret@example.com", "user name or password");
	CHECK_LACKS(dc_error_last(), "hunter2secret");
	check_registry_bad("ftp://myregistry.azurecr.io", "not an https URL");
	check_registry_bad("http://myregistry.azurecr.io", "plain http to another machine");
	check_registry_bad("http://127.example.com", "plain http to another machine");
	check_registry_bad("https://", "names no host");
	check_registry_bad("https://my registry.azurecr.io", "not a host");
}

/* "header.<claims>.sig" with `claims` base64url-encoded. */
static int exp_of(time_t *out, const char *claims)
{
	dc_buf jwt = DC_BUF_INIT;
	int err;

	dc_buf_puts(&jwt, "eyJhbGciOiJSUzI1NiJ9.");
	CHECK_EQ_INT(dc_base64url_encode(&jwt, claims, strlen(claims)), 0);
	dc_buf_puts(&jwt, ".c2lnbmF0dXJl");
	err = dc_azure_jwt_exp(out, jwt.ptr);
	dc_buf_release(&jwt);
	return err;
}

static void test_jwt_exp(void)
{
	time_t exp = 0;

	/* every padding length, and base64url's own characters (">>>" and "???") */
	CHECK_EQ_INT(exp_of(&exp, "{\"exp\":1800000000}"), 0);
	CHECK_EQ_INT(exp, 1800000000);
	CHECK_EQ_INT(exp_of(&exp, "{\"exp\": 1800000001}"), 0);
	CHECK_EQ_INT(exp, 1800000001);
	CHECK_EQ_INT(exp_of(&exp, "{\"exp\":  1800000002}"), 0);
	CHECK_EQ_INT(exp, 1800000002);
	CHECK_EQ_INT(exp_of(&exp, "{\"a\":\">>>???\",\"exp\":1800000003}"), 0);
	CHECK_EQ_INT(exp, 1800000003);

	CHECK_EQ_INT(exp_of(&exp, "{\"nbf\":1}"), DC_ERR);
	CHECK_EQ_INT(exp_of(&exp, "{\"exp\":\"soon\"}"), DC_ERR);
	CHECK_EQ_INT(exp_of(&exp, "[1]"), DC_ERR);
	CHECK_EQ_INT(exp_of(&exp, "not json"), DC_ERR);
	CHECK_EQ_INT(dc_azure_jwt_exp(&exp, "opaque-refresh-token"), DC_ERR);
	CHECK_EQ_INT(dc_azure_jwt_exp(&exp, "a.b"), DC_ERR);
	CHECK_EQ_INT(dc_azure_jwt_exp(&exp, "a.!!!!.c"), DC_ERR);
	CHECK_HAS(dc_error_last(), "not a JWT with an exp claim");
	CHECK_EQ_INT(exp, 1800000003);
}

static void test_app_from_env(void)
{
	char tokfile[] = "/tmp/dcgen-test-token-XXXXXX", filevar[80];
	int fd = mkstemp(tokfile);
	dc_azure_app a = DC_AZURE_APP_INIT;

	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=contoso.onmicrosoft.com",
			      "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		env.vars = v;
		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), 0)) {
			CHECK_EQ_STR(a.authority, DC_AZURE_AUTHORITY);
			CHECK_EQ_STR(a.tenant, "contoso.onmicrosoft.com");
			CHECK_EQ_STR(a.client_id, "app-1");
			CHECK_EQ_STR(a.secret.ptr, "s3cret-value");
			CHECK(a.assertion.ptr == NULL);
			CHECK(dc_redactor_contains(ctx.redactor, "s3cret-value"));
		}
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value",
			      "AZURE_AUTHORITY_HOST=https://login.microsoftonline.us/", NULL };
		env.vars = v;
		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), 0))
			CHECK_EQ_STR(a.authority, "https://login.microsoftonline.us");
	}
	{
		/* R28: an authority's path is kept (ADFS, Azure Stack) */
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value",
			      "AZURE_AUTHORITY_HOST=https://adfs.example/adfs/", NULL };

		env.vars = v;
		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), 0))
			CHECK_EQ_STR(a.authority, "https://adfs.example/adfs");
	}
	if (CHECK(fd >= 0) && CHECK_EQ_INT(write(fd, "  eyJ.federated.token\n\n", 23), 23)) {
		char *v[] = { "AZURE_CLIENT_ID=app-2", "AZURE_TENANT_ID=t-2", filevar, NULL };
		env.vars = v;
		snprintf(filevar, sizeof(filevar), "AZURE_FEDERATED_TOKEN_FILE=%s", tokfile);
		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), 0)) {
			CHECK_EQ_STR(a.assertion.ptr, "eyJ.federated.token");
			CHECK(dc_redactor_contains(ctx.redactor, "eyJ.federated.token"));
			CHECK(a.secret.ptr == NULL);
			CHECK_EQ_STR(a.token_file, tokfile);
		}
	}
	{
		char *v[] = { "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_CLIENT_ID is not set");
		CHECK(a.client_id == NULL && a.secret.ptr == NULL);
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_TENANT_ID is not set");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t/../x", "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_TENANT_ID is 't/../x'");
	}
	{
		/* no secret, certificate or token: a (user-assigned) managed
		 * identity, whose failure names every source tried */
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", NULL };
		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), 0);
		CHECK_EQ_INT(a.kind, DC_AZURE_MI_IMDS);
		CHECK_EQ_STR(a.client_id, "app-1");
		CHECK_EQ_STR(a.mi_url, "http://169.254.169.254");
		CHECK_HAS(a.tried, "environment: AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are not set; workload identity: AZURE_FEDERATED_TOKEN_FILE is not set; GitHub Actions OIDC token: ");
		dc_azure_app_release(&a);
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value",
			      "AZURE_AUTHORITY_HOST=http://login.example.com", NULL };
		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_AUTHORITY_HOST");
		CHECK_LACKS(dc_error_last(), "s3cret-value");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value",
			      "AZURE_AUTHORITY_HOST=https://u:topsecretpw@login.example.com:99999999999/", NULL };

		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_AUTHORITY_HOST has a user name or password");
		CHECK_LACKS(dc_error_last(), "topsecretpw");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1",
			      "AZURE_FEDERATED_TOKEN_FILE=/nonexistent/token", NULL };
		env.vars = v;
		CHECK_EQ_INT(dc_azure_app_from_env(&a, &ctx), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "cannot read AZURE_FEDERATED_TOKEN_FILE '/nonexistent/token'");
	}
	if (fd >= 0) {
		close(fd);
		unlink(tokfile);
	}
	dc_azure_app_release(&a);
	dc_azure_app_release(&a);
}


/* "header.<claims>.sig" with the given exp */
static void jwt_with_exp(char *out, size_t size, long long exp)
{
	char claims[64];
	dc_buf b = DC_BUF_INIT;

	snprintf(claims, sizeof(claims), "{\"exp\":%lld}", exp);
	dc_buf_puts(&b, "eyJhbGciOiJSUzI1NiJ9.");
	if (dc_base64url_encode(&b, claims, strlen(claims)) == 0 && dc_buf_puts(&b, ".c2lnbmF0dXJl") == 0)
		snprintf(out, size, "%s", b.ptr);
	dc_buf_release(&b);
}

/* The whole exchange against one fake peer: AAD at AZURE_AUTHORITY_HOST
 * (with a path), then ACR's exchange at AZURE_REGISTRY. */
static int acr_fetch(dc_cred_list *l, fake_reply *r, fake_http *f, const char *host)
{
	char authority[80], registry[80];
	char *vars[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value", authority,
			 registry, NULL };
	dc_scope s;
	void *cfg = NULL;
	int err = DC_ERR;

	if (!CHECK_EQ_INT(fake_http_start(f, r), 0))
		return DC_ERR;
	snprintf(authority, sizeof(authority), "AZURE_AUTHORITY_HOST=http://127.0.0.1:%d/adfs", f->port);
	snprintf(registry, sizeof(registry), "AZURE_REGISTRY=http://127.0.0.1:%d", f->port);
	env.vars = vars;
	if (CHECK_EQ_INT(dc_family_acr.parse(&cfg, &ctx), 0)) {
		if (host)
			dc_family_acr.match(cfg, host, &s);
		else
			dc_family_acr.scope_all(cfg, &s);
		dc_error_clear();
		err = dc_family_acr.fetch(l, &ctx, cfg, &s);
		dc_family_acr.release(cfg);
	}
	fake_http_stop(f);
	return err;
}

/* D6: the refresh token's exp is bounded as ECR's expiresAt is */
static void test_exchange(void)
{
	static char refresh[4][256], bodies[4][512];
	const long long now = (long long)time(NULL);
	const long long exps[] = { now + 3 * 3600, now + 100LL * 366 * 86400, -1, 0 };
	fake_reply r[] = { { 200, "{\"access_token\":\"aad-token-0001\",\"expires_in\":3599}" }, { 200, NULL }, { 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;
	char port_host[32];
	size_t i;

	for (i = 0; i < 4; i++) {
		jwt_with_exp(refresh[i], sizeof(refresh[i]), exps[i]);
		snprintf(bodies[i], sizeof(bodies[i]), "{\"refresh_token\":\"%s\"}", refresh[i]);
		r[1].body = bodies[i];
		warnings = 0;
		if (!CHECK_EQ_INT(acr_fetch(&l, r, &f, NULL), 0) || !CHECK_EQ_INT(l.n, 1)) {
			fprintf(stderr, "  %s\n", dc_error_last());
			continue;
		}
		snprintf(port_host, sizeof(port_host), "127.0.0.1:%d", f.port);
		CHECK_EQ_STR(l.items[0].host, port_host);
		CHECK_EQ_STR(l.items[0].username, DC_ACR_TOKEN_USER);
		CHECK_EQ_STR(l.items[0].secret, refresh[i]);
		/* R28: the authority's path is kept */
		CHECK_EQ_STR(f.lines[0], "POST /adfs/t-1/oauth2/v2.0/token HTTP/1.1");
		CHECK_EQ_STR(f.lines[1], "POST /oauth2/exchange HTTP/1.1");
		CHECK(dc_redactor_contains(ctx.redactor, "aad-token-0001"));
		if (i == 0) {
			CHECK_EQ_INT(l.items[0].expires_at, exps[0]);
			CHECK_EQ_INT(warnings, 0);
		} else {
			CHECK_EQ_INT(l.items[0].expires_at, 0);
			CHECK_EQ_INT(warnings, 1);
			CHECK_HAS(last_warning, "not a time in the next ten years");
		}
		dc_cred_list_release(&l);
	}
}

static void test_refusals(void)
{
	fake_reply bad_client[] = { { 401, "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret s3cret-value provided.\\r\\nTrace ID: x\"}" },
				    { 0, NULL } };
	fake_reply busy[] = { { 429, "{\"error\":\"throttled\"}" }, { 0, NULL } };
	fake_reply denied[] = { { 200, "{\"access_token\":\"aad-token-0001\"}" },
				{ 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"no pull\"}]}" }, { 0, NULL } };
	dc_cred_list l = DC_CRED_LIST_INIT;
	fake_http f;

	CHECK_EQ_INT(acr_fetch(&l, bad_client, &f, NULL), DC_ERR);
	CHECK_HAS(dc_error_last(), "refused the service principal 'app-1' in tenant 't-1' (HTTP 401, invalid_client: AADSTS7000215: Invalid client secret *** provided.)");
	CHECK_HAS(dc_error_last(), "check AZURE_CLIENT_SECRET");
	CHECK_LACKS(dc_error_last(), "Trace ID");
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_AUTH);
	CHECK_EQ_STR(dc_error_get()->upstream_code, "invalid_client");
	CHECK_EQ_INT(acr_fetch(&l, busy, &f, NULL), DC_ERR);
	CHECK_HAS(dc_error_last(), "kept failing with HTTP 429 (throttled)");
	CHECK_EQ_INT(acr_fetch(&l, denied, &f, NULL), DC_ERR);
	CHECK_HAS(dc_error_last(), "refused the token exchange (HTTP 401, UNAUTHORIZED: no pull)");
	CHECK_EQ_STR(dc_error_get()->upstream_code, "UNAUTHORIZED");
	CHECK_EQ_INT(l.n, 0);
}

int main(void)
{
	dc_http_config cfg = { .connect_timeout_ms = 500, .deadline_ms = 2000, .max_reply = 1 << 16, .attempts = 1 };
	int rc;

	setenv("https_proxy", "http://127.0.0.1:9", 1);
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("no_proxy", "127.0.0.1", 1); /* the fake peers only */
	if (dc_ctx_init(&ctx, &env, sink, DC_LOG_WARN) < 0 || dc_http_new(&ctx.http, &cfg, &ctx.log) < 0)
		return 1;
	T_RUN(test_registry);
	T_RUN(test_jwt_exp);
	T_RUN(test_app_from_env);
	T_RUN(test_exchange);
	T_RUN(test_refusals);
	rc = t_done();
	dc_ctx_release(&ctx);
	return rc;
}
