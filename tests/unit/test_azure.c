/* test_azure.c -- auth/azure: registry names and URLs, the application's
 * variables, and reading a JWT's exp claim. No network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/azure.h"
#include "t.h"
#include "util/codec.h"

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
	check_registry_bad("ftp://myregistry.azurecr.io", "not an https URL");
	check_registry_bad("http://myregistry.azurecr.io", "plain http to another machine");
	check_registry_bad("http://127.example.com", "plain http to another machine");
	check_registry_bad("https://", "names no host");
	check_registry_bad("https://my registry.azurecr.io", "not a host name");
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
		dc_env e = { v };

		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), 0)) {
			CHECK_EQ_STR(a.authority, DC_AZURE_AUTHORITY);
			CHECK_EQ_STR(a.tenant, "contoso.onmicrosoft.com");
			CHECK_EQ_STR(a.client_id, "app-1");
			CHECK_EQ_STR(a.secret, "s3cret-value");
			CHECK(a.assertion == NULL);
		}
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value",
			      "AZURE_AUTHORITY_HOST=https://login.microsoftonline.us/", NULL };
		dc_env e = { v };

		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), 0))
			CHECK_EQ_STR(a.authority, "https://login.microsoftonline.us");
	}
	if (CHECK(fd >= 0) && CHECK_EQ_INT(write(fd, "  eyJ.federated.token\n\n", 23), 23)) {
		char *v[] = { "AZURE_CLIENT_ID=app-2", "AZURE_TENANT_ID=t-2", filevar, NULL };
		dc_env e = { v };

		snprintf(filevar, sizeof(filevar), "AZURE_FEDERATED_TOKEN_FILE=%s", tokfile);
		if (CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), 0)) {
			CHECK_EQ_STR(a.assertion, "eyJ.federated.token");
			CHECK(a.secret == NULL);
			CHECK_EQ_STR(a.token_file, tokfile);
		}
	}
	{
		char *v[] = { "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		dc_env e = { v };

		CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_CLIENT_ID is not set");
		CHECK(a.client_id == NULL && a.secret == NULL);
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		dc_env e = { v };

		CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_TENANT_ID is not set");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t/../x", "AZURE_CLIENT_SECRET=s3cret-value", NULL };
		dc_env e = { v };

		CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_TENANT_ID is 't/../x'");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", NULL };
		dc_env e = { v };

		CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "neither AZURE_CLIENT_SECRET nor AZURE_FEDERATED_TOKEN_FILE");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1", "AZURE_CLIENT_SECRET=s3cret-value",
			      "AZURE_AUTHORITY_HOST=http://login.example.com", NULL };
		dc_env e = { v };

		CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_AUTHORITY_HOST");
		CHECK_LACKS(dc_error_last(), "s3cret-value");
	}
	{
		char *v[] = { "AZURE_CLIENT_ID=app-1", "AZURE_TENANT_ID=t-1",
			      "AZURE_FEDERATED_TOKEN_FILE=/nonexistent/token", NULL };
		dc_env e = { v };

		CHECK_EQ_INT(dc_azure_app_from_env(&a, &e), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "cannot read AZURE_FEDERATED_TOKEN_FILE '/nonexistent/token'");
	}
	if (fd >= 0) {
		close(fd);
		unlink(tokfile);
	}
	dc_azure_app_release(&a);
	dc_azure_app_release(&a);
}

int main(void)
{
	T_RUN(test_registry);
	T_RUN(test_jwt_exp);
	T_RUN(test_app_from_env);
	return t_done();
}
