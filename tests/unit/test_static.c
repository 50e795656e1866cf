/* test_static.c -- providers/static (docker, heroku, ibm), selection in
 * provider.c, and every new provider's cache identity. No network: the
 * static providers make none, and the others are only asked for identities. */
#include <string.h>

#include "providers/provider.h"
#include "t.h"

static void check_one(const dc_provider *p, char **vars, const char *host, const char *user, const char *secret)
{
	dc_env e = { vars };
	dc_cred_list l = DC_CRED_LIST_INIT;

	CHECK(p->detect(&e));
	if (CHECK_EQ_INT(p->fetch(&l, &e), 0) && CHECK_EQ_INT(l.n, 1)) {
		CHECK_EQ_STR(l.items[0].host, host);
		CHECK_EQ_STR(l.items[0].username, user);
		CHECK_EQ_STR(l.items[0].secret, secret);
		CHECK_EQ_INT(l.items[0].expires_at, 0);
	} else {
		fprintf(stderr, "  %s: %s\n", p->name, dc_error_last());
	}
	dc_cred_list_release(&l);
}

static void docker_key(const char *registry, const char *want)
{
	char var[128], *vars[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", var, NULL };

	snprintf(var, sizeof(var), "DOCKER_REGISTRY=%s", registry);
	check_one(&dc_provider_docker, vars, want, "bob", "pa55word");
}

static void test_docker(void)
{
	char *hub[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", NULL };
	char *nouser[] = { "DOCKER_PASSWORD=pa55word", NULL };
	char *colon[] = { "DOCKER_USERNAME=b:ob", "DOCKER_PASSWORD=pa55word", NULL };
	dc_env e = { nouser };
	dc_cred_list l = DC_CRED_LIST_INIT;

	check_one(&dc_provider_docker, hub, "https://index.docker.io/v1/", "bob", "pa55word");
	docker_key("https://index.docker.io/v1/", "https://index.docker.io/v1/");
	docker_key("docker.io", "https://index.docker.io/v1/");
	docker_key("https://registry-1.docker.io", "https://index.docker.io/v1/");
	docker_key("quay.io", "quay.io");
	docker_key("https://quay.io/", "quay.io");
	docker_key("r.example:5000/", "r.example:5000");
	docker_key("http://127.0.0.1:5000/v2/", "127.0.0.1:5000");
	/* "docker.io.example" is not Docker Hub */
	docker_key("docker.io.example", "docker.io.example");

	CHECK_EQ_INT(dc_provider_docker.fetch(&l, &e), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "DOCKER_USERNAME is not set");
	e.vars = colon;
	CHECK_EQ_INT(dc_provider_docker.fetch(&l, &e), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "'b:ob'");
	CHECK_LACKS(dc_error_last(), "pa55word");
	CHECK_EQ_INT(l.n, 0);
}

static void test_heroku_ibm(void)
{
	char *heroku[] = { "HEROKU_API_KEY=h-key-0001", NULL };
	char *ibm[] = { "IBMCLOUD_API_KEY=i-key-0001", NULL };
	char *bluemix[] = { "BLUEMIX_API_KEY=b-key-0001", NULL };
	char *both[] = { "BLUEMIX_API_KEY=b-key-0001", "IBMCLOUD_API_KEY=i-key-0001", NULL };
	char *regions[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY= us.icr.io ,de.icr.io,", NULL };
	dc_env e = { regions };
	dc_cred_list l = DC_CRED_LIST_INIT;

	check_one(&dc_provider_heroku, heroku, "registry.heroku.com", "_", "h-key-0001");
	check_one(&dc_provider_ibm, ibm, "icr.io", "iamapikey", "i-key-0001");
	check_one(&dc_provider_ibm, bluemix, "icr.io", "iamapikey", "b-key-0001");
	check_one(&dc_provider_ibm, both, "icr.io", "iamapikey", "i-key-0001");
	if (CHECK_EQ_INT(dc_provider_ibm.fetch(&l, &e), 0) && CHECK_EQ_INT(l.n, 2)) {
		CHECK_EQ_STR(l.items[0].host, "us.icr.io");
		CHECK_EQ_STR(l.items[1].host, "de.icr.io");
		CHECK_EQ_STR(l.items[1].secret, "i-key-0001");
	}
	dc_cred_list_release(&l);
}

static void check_select(char **vars, const char *flag, const char *want, int want_err, const char *msg)
{
	dc_env e = { vars };
	const dc_provider *p = NULL;

	dc_error_clear();
	CHECK_EQ_INT(dc_provider_select(&p, &e, flag), want_err);
	if (want)
		CHECK(p && !strcmp(p->name, want));
	if (msg)
		CHECK_HAS(dc_error_last(), msg);
}

static void test_select(void)
{
	char *none[] = { "PATH=/bin", NULL };
	char *gcr[] = { "GOOGLE_LOCATION=us", NULL };
	char *acr_wi_only[] = { "AZURE_CLIENT_ID=x", "AZURE_TENANT_ID=y", "AZURE_FEDERATED_TOKEN_FILE=/f", NULL };
	char *acr[] = { "AZURE_REGISTRY_NAME=r", NULL };
	char *two[] = { "HEROKU_API_KEY=h-key-0001", "GCE_METADATA_HOST=127.0.0.1:1", NULL };
	char *named[] = { "HEROKU_API_KEY=h-key-0001", "GCE_METADATA_HOST=127.0.0.1:1", "DCGEN_PROVIDER=heroku", NULL };

	check_select(none, NULL, NULL, DC_EUSAGE, "no provider's variables are set");
	check_select(none, "ibm", "ibm", 0, NULL);
	check_select(gcr, NULL, "gcr", 0, NULL);
	check_select(acr, NULL, "acr", 0, NULL);
	check_select(acr_wi_only, NULL, NULL, DC_EUSAGE, "no provider's variables");
	check_select(two, NULL, NULL, DC_EUSAGE, "(gcr: GCE_METADATA_HOST; heroku: HEROKU_API_KEY)");
	check_select(named, NULL, "heroku", 0, NULL);
	check_select(named, "gcr", "gcr", 0, NULL);
	check_select(none, "google", NULL, DC_EUSAGE, "'google', not a provider; use one of: ecr, gcr, acr, docker, heroku, ibm");
}

/* cache_identity: deterministic, names the provider, holds the source secret,
 * and changes with the registry. */
static void check_identity(const dc_provider *p, char **a, char **b, const char *secret)
{
	dc_env ea = { a }, eb = { b };
	dc_buf x, y, z;

	dc_buf_init(&x, 0, DC_BUF_SECRET);
	dc_buf_init(&y, 0, DC_BUF_SECRET);
	dc_buf_init(&z, 0, DC_BUF_SECRET);
	if (CHECK_EQ_INT(p->cache_identity(&x, &ea), 0) && CHECK_EQ_INT(p->cache_identity(&y, &ea), 0) &&
	    CHECK_EQ_INT(p->cache_identity(&z, &eb), 0)) {
		CHECK_EQ_STR(x.ptr, y.ptr);
		CHECK(strcmp(x.ptr, z.ptr) != 0);
		CHECK(!strncmp(x.ptr, p->name, strlen(p->name)) && x.ptr[strlen(p->name)] == '\n');
		CHECK_HAS(x.ptr, secret);
	} else {
		fprintf(stderr, "  %s: %s\n", p->name, dc_error_last());
	}
	dc_buf_release(&x);
	dc_buf_release(&y);
	dc_buf_release(&z);
}

static void test_identities(void)
{
	char *a1[] = { "AZURE_REGISTRY=r1", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t", "AZURE_CLIENT_SECRET=sp-secret-1",
		       NULL };
	char *a2[] = { "AZURE_REGISTRY=r2", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t", "AZURE_CLIENT_SECRET=sp-secret-1",
		       NULL };
	char *ad1[] = { "AZURE_REGISTRY=r1", "AZURE_USERNAME=r1", "AZURE_PASSWORD=admin-pw-1", NULL };
	char *ad2[] = { "AZURE_REGISTRY=r1", "AZURE_USERNAME=r1", "AZURE_PASSWORD=admin-pw-2", NULL };
	char *g1[] = { "GCE_METADATA_HOST=127.0.0.1:1", NULL };
	dc_env eg = { g1 };
	dc_buf none = DC_BUF_INIT;

	/* offline providers never use the cache: nothing to key it with */
	CHECK(dc_provider_docker.offline && !dc_provider_docker.cache_identity);
	CHECK(dc_provider_heroku.offline && !dc_provider_heroku.cache_identity);
	CHECK(dc_provider_ibm.offline && !dc_provider_ibm.cache_identity);
	check_identity(&dc_provider_acr, a1, a2, "sp-secret-1");
	check_identity(&dc_provider_acr, ad1, ad2, "admin-pw-1");
	/* the metadata server's token names no account here: never cached */
	CHECK_EQ_INT(dc_provider_gcr.cache_identity(&none, &eg), DC_ENOTFOUND);
	CHECK_EQ_INT(none.len, 0);
	dc_buf_release(&none);
}

int main(void)
{
	T_RUN(test_docker);
	T_RUN(test_heroku_ibm);
	T_RUN(test_select);
	T_RUN(test_identities);
	return t_done();
}
