/* test_static.c -- providers/static (docker, heroku, ibm), selection in
 * provider.c, and the cache keys of the other families' configurations.
 * No network: the static families make none, and the others are only asked
 * for keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/provider.h"
#include "t.h"

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

static int parse(const dc_family *f, void **cfg, char **vars)
{
	env.vars = vars;
	*cfg = NULL;
	dc_error_clear();
	return f->parse(cfg, &ctx);
}

/* parse, scope_all, fetch: one credential, offline, never cached */
static void check_one(const dc_family *f, char **vars, const char *host, const char *user, const char *secret)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_cache_key k = DC_CACHE_KEY_INIT;
	dc_scope s;
	void *cfg;

	CHECK(f->detect(&(dc_env){ vars }));
	if (!CHECK_EQ_INT(parse(f, &cfg, vars), 0)) {
		fprintf(stderr, "  %s: %s\n", f->name, dc_error_last());
		return;
	}
	f->scope_all(cfg, &s);
	CHECK_EQ_STR(s.host, "");
	CHECK_EQ_INT(f->offline(cfg), 1);
	CHECK_EQ_INT(f->cache_key(&k, cfg, &s), 0);
	if (CHECK_EQ_INT(f->fetch(&l, &ctx, cfg, &s), 0) && CHECK_EQ_INT(l.n, 1)) {
		CHECK_EQ_STR(l.items[0].host, host);
		CHECK_EQ_STR(l.items[0].username, user);
		CHECK_EQ_STR(l.items[0].secret, secret);
		CHECK_EQ_INT(l.items[0].expires_at, 0);
	}
	CHECK(dc_redactor_contains(ctx.redactor, secret));
	dc_cred_list_release(&l);
	dc_cache_key_release(&k);
	f->release(cfg);
}

static void refuse(const dc_family *f, char **vars, const char *want, const char *secret)
{
	void *cfg;

	if (!CHECK_EQ_INT(parse(f, &cfg, vars), DC_EUSAGE))
		f->release(cfg);
	CHECK_HAS(dc_error_last(), want);
	if (secret)
		CHECK_LACKS(dc_error_last(), secret);
}

static void docker_key(const char *registry, const char *want)
{
	char var[128], *vars[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", var, NULL };

	snprintf(var, sizeof(var), "DOCKER_REGISTRY=%s", registry);
	check_one(&dc_family_docker, vars, want, "bob", "pa55word");
}

static void test_docker(void)
{
	char *hub[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", NULL };
	char *nouser[] = { "DOCKER_PASSWORD=pa55word", NULL };
	char *colon[] = { "DOCKER_USERNAME=b:ob", "DOCKER_PASSWORD=pa55word", NULL };
	static const char *const bad[] = { "host:notaport", "host:99999", "host:0", "ftp://host", "https://", "bad host",
					   "https://bad_host/" };
	size_t i;

	check_one(&dc_family_docker, hub, "https://index.docker.io/v1/", "bob", "pa55word");
	docker_key("https://index.docker.io/v1/", "https://index.docker.io/v1/");
	docker_key("docker.io", "https://index.docker.io/v1/");
	docker_key("https://registry-1.docker.io", "https://index.docker.io/v1/");
	docker_key("quay.io", "quay.io");
	docker_key("https://quay.io/", "quay.io");
	docker_key("r.example:5000/", "r.example:5000");
	docker_key("http://127.0.0.1:5000/v2/", "127.0.0.1:5000");
	/* "docker.io.example" is not Docker Hub */
	docker_key("docker.io.example", "docker.io.example");

	refuse(&dc_family_docker, nouser, "DOCKER_USERNAME is not set", NULL);
	refuse(&dc_family_docker, colon, "'b:ob'", "pa55word");
	/* R19: a port is a port */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char var[128], *vars[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word", var, NULL };

		snprintf(var, sizeof(var), "DOCKER_REGISTRY=%s", bad[i]);
		refuse(&dc_family_docker, vars, "DOCKER_REGISTRY", "pa55word");
	}
}

/* A password inside a URL variable is never quoted (REVIEW 6, R14). */
static void test_userinfo(void)
{
	char *docker[] = { "DOCKER_USERNAME=u", "DOCKER_PASSWORD=pw123456",
			   "DOCKER_REGISTRY=https://u:hunter2secret@bad_host/", NULL };
	char *docker_ok_host[] = { "DOCKER_USERNAME=u", "DOCKER_PASSWORD=pw123456",
				   "DOCKER_REGISTRY=https://u:hunter2secret@r.example/", NULL };
	char *ibm[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY=https://u:hunter2secret@", NULL };
	char *ibm2[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY=us.icr.io,hunter2secret@de.icr.io", NULL };

	refuse(&dc_family_docker, docker, "DOCKER_REGISTRY has a user name or password", "hunter2secret");
	refuse(&dc_family_docker, docker_ok_host, "DOCKER_REGISTRY has a user name or password", "hunter2secret");
	refuse(&dc_family_ibm, ibm, "IBMCLOUD_REGISTRY has a user name or password", "hunter2secret");
	refuse(&dc_family_ibm, ibm2, "IBMCLOUD_REGISTRY has a user name or password", "hunter2secret");
}

static void test_heroku_ibm(void)
{
	char *heroku[] = { "HEROKU_API_KEY=h-key-0001", NULL };
	char *ibm[] = { "IBMCLOUD_API_KEY=i-key-0001", NULL };
	char *bluemix[] = { "BLUEMIX_API_KEY=b-key-0001", NULL };
	char *both[] = { "BLUEMIX_API_KEY=b-key-0001", "IBMCLOUD_API_KEY=i-key-0001", NULL };
	char *regions[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY= us.icr.io ,de.icr.io,,US.ICR.IO, de.icr.io",
			    NULL };
	char *spaced[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY=bad host", NULL };
	char *empty[] = { "IBMCLOUD_API_KEY=i-key-0001", "IBMCLOUD_REGISTRY= , ,", NULL };
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_scope s;
	void *cfg;

	check_one(&dc_family_heroku, heroku, "registry.heroku.com", "_", "h-key-0001");
	check_one(&dc_family_ibm, ibm, "icr.io", "iamapikey", "i-key-0001");
	check_one(&dc_family_ibm, bluemix, "icr.io", "iamapikey", "b-key-0001");
	check_one(&dc_family_ibm, both, "icr.io", "iamapikey", "i-key-0001");
	CHECK(dc_redactor_contains(ctx.redactor, "b-key-0001")); /* the ignored one too */
	/* R18: duplicates collapse */
	if (CHECK_EQ_INT(parse(&dc_family_ibm, &cfg, regions), 0)) {
		dc_family_ibm.scope_all(cfg, &s);
		if (CHECK_EQ_INT(dc_family_ibm.fetch(&l, &ctx, cfg, &s), 0) && CHECK_EQ_INT(l.n, 2)) {
			CHECK_EQ_STR(l.items[0].host, "us.icr.io");
			CHECK_EQ_STR(l.items[1].host, "de.icr.io");
			CHECK_EQ_STR(l.items[1].secret, "i-key-0001");
		}
		dc_cred_list_release(&l);
		/* a host query gets that host only */
		if (CHECK_EQ_INT(dc_family_ibm.match(cfg, "de.icr.io", &s), 1) &&
		    CHECK_EQ_INT(dc_family_ibm.fetch(&l, &ctx, cfg, &s), 0) && CHECK_EQ_INT(l.n, 1))
			CHECK_EQ_STR(l.items[0].host, "de.icr.io");
		dc_cred_list_release(&l);
		dc_family_ibm.release(cfg);
	}
	/* R18: "bad host" is an error, never two hosts */
	refuse(&dc_family_ibm, spaced, "IBMCLOUD_REGISTRY has 'bad host'", "i-key-0001");
	refuse(&dc_family_ibm, empty, "names no registry", NULL);
}

/* R21: a trailing line break in a secret is kept, with a warning naming it */
static void test_line_break(void)
{
	char *docker[] = { "DOCKER_USERNAME=bob", "DOCKER_PASSWORD=pa55word\n", NULL };
	char *heroku[] = { "HEROKU_API_KEY=h-key-0001\r\n", NULL };

	warnings = 0;
	check_one(&dc_family_docker, docker, "https://index.docker.io/v1/", "bob", "pa55word\n");
	CHECK_EQ_INT(warnings, 1);
	CHECK_HAS(last_warning, "DOCKER_PASSWORD ends with a line break");
	CHECK_LACKS(last_warning, "pa55word");
	check_one(&dc_family_heroku, heroku, "registry.heroku.com", "_", "h-key-0001\r\n");
	CHECK_EQ_INT(warnings, 2);
	CHECK_HAS(last_warning, "HEROKU_API_KEY");
}

static void check_select(char **vars, const char *flag, const char *want, int want_err, const char *msg)
{
	dc_env e = { vars };
	const dc_family *p = NULL;

	dc_error_clear();
	CHECK_EQ_INT(dc_family_select(&p, &e, flag), want_err);
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
	char *public_off[] = { "ECR_PUBLIC=0", NULL };

	check_select(none, NULL, NULL, DC_EUSAGE, "no provider's variables are set");
	check_select(none, "ibm", "ibm", 0, NULL);
	check_select(gcr, NULL, "gcr", 0, NULL);
	check_select(acr, NULL, "acr", 0, NULL);
	check_select(acr_wi_only, NULL, NULL, DC_EUSAGE, "no provider's variables");
	check_select(two, NULL, NULL, DC_EUSAGE, "(gcr: GCE_METADATA_HOST; heroku: HEROKU_API_KEY)");
	check_select(named, NULL, "heroku", 0, NULL);
	check_select(named, "gcr", "gcr", 0, NULL);
	check_select(none, "google", NULL, DC_EUSAGE, "'google', not a provider; use one of: ecr, gcr, acr, docker, heroku, ibm");
	check_select(public_off, NULL, NULL, DC_EUSAGE, "no provider's variables are set");
}

/* The cache keys of the families that fetch: principal, scope, seal. */
static void test_cache_keys(void)
{
	char tokfile[] = "/tmp/dcgen-test-wi-XXXXXX", filevar[80];
	char *sp1[] = { "AZURE_REGISTRY=r1abc", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t", "AZURE_CLIENT_SECRET=sp-secret-1",
			NULL };
	char *sp2[] = { "AZURE_REGISTRY=r2abc", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t", "AZURE_CLIENT_SECRET=sp-secret-1",
			NULL };
	char *sp_none[] = { "AZURE_CLIENT_SECRET=sp-secret-1", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t", NULL };
	char *wi[] = { "AZURE_REGISTRY=r1abc", "AZURE_CLIENT_ID=c", "AZURE_TENANT_ID=t", filevar, NULL };
	char *admin[] = { "AZURE_REGISTRY=r1abc", "AZURE_USERNAME=r1abc", "AZURE_PASSWORD=admin-pw-1", NULL };
	char *meta[] = { "GCE_METADATA_HOST=127.0.0.1:1", NULL };
	dc_cache_key a = DC_CACHE_KEY_INIT, b = DC_CACHE_KEY_INIT;
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_scope s;
	void *cfg = NULL, *cfg2 = NULL;
	int fd = mkstemp(tokfile);

	/* service principal: tenant/client, sealed with its secret */
	if (CHECK_EQ_INT(parse(&dc_family_acr, &cfg, sp1), 0) && CHECK_EQ_INT(parse(&dc_family_acr, &cfg2, sp2), 0)) {
		dc_family_acr.scope_all(cfg, &s);
		CHECK_EQ_INT(dc_family_acr.offline(cfg), 0);
		CHECK_EQ_INT(dc_family_acr.cache_key(&a, cfg, &s), 1);
		CHECK_EQ_INT(dc_family_acr.cache_key(&b, cfg2, &s), 1);
		CHECK_EQ_STR(a.family, "acr");
		CHECK_EQ_STR(a.principal.ptr, "t/c");
		CHECK(a.seal.ptr && !strcmp(a.seal.ptr, "sp-secret-1"));
		CHECK_LACKS(a.scope.ptr, "sp-secret-1");
		CHECK_HAS(a.scope.ptr, "host=r1abc.azurecr.io\n");
		CHECK(strcmp(a.scope.ptr, b.scope.ptr) != 0);
		dc_cache_key_release(&b);
		/* a host query for another registry keys that registry */
		if (CHECK_EQ_INT(dc_family_acr.match(cfg, "other1.azurecr.io", &s), 1) &&
		    CHECK_EQ_INT(dc_family_acr.cache_key(&b, cfg, &s), 1))
			CHECK_HAS(b.scope.ptr, "registry=https://other1.azurecr.io\n");
	}
	dc_cache_key_release(&a);
	dc_cache_key_release(&b);
	dc_family_acr.release(cfg);
	dc_family_acr.release(cfg2);
	/* no registry configured: nothing to cache, and fetch says what is missing */
	if (CHECK_EQ_INT(parse(&dc_family_acr, &cfg, sp_none), 0)) {
		dc_family_acr.scope_all(cfg, &s);
		CHECK_EQ_INT(dc_family_acr.cache_key(&a, cfg, &s), 0);
		CHECK_EQ_INT(dc_family_acr.fetch(&l, &ctx, cfg, &s), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "AZURE_REGISTRY is not set");
		dc_family_acr.release(cfg);
	}
	dc_cache_key_release(&a);
	/* workload identity: the same principal, no static secret to seal with */
	snprintf(filevar, sizeof(filevar), "AZURE_FEDERATED_TOKEN_FILE=%s", tokfile);
	if (CHECK(fd >= 0) && CHECK_EQ_INT(write(fd, "eyJ.federated.token-1\n", 22), 22) &&
	    CHECK_EQ_INT(parse(&dc_family_acr, &cfg, wi), 0)) {
		dc_family_acr.scope_all(cfg, &s);
		if (CHECK_EQ_INT(dc_family_acr.cache_key(&a, cfg, &s), 1)) {
			CHECK_EQ_STR(a.principal.ptr, "t/c");
			CHECK(a.seal.ptr == NULL && a.seal.len == 0);
			CHECK_LACKS(a.scope.ptr, "federated.token");
		}
		dc_family_acr.release(cfg);
	}
	dc_cache_key_release(&a);
	/* the admin user is offline: never cached */
	if (CHECK_EQ_INT(parse(&dc_family_acr, &cfg, admin), 0)) {
		dc_family_acr.scope_all(cfg, &s);
		CHECK_EQ_INT(dc_family_acr.offline(cfg), 1);
		CHECK_EQ_INT(dc_family_acr.cache_key(&a, cfg, &s), 0);
		if (CHECK_EQ_INT(dc_family_acr.fetch(&l, &ctx, cfg, &s), 0) && CHECK_EQ_INT(l.n, 1)) {
			CHECK_EQ_STR(l.items[0].host, "r1abc.azurecr.io");
			CHECK_EQ_STR(l.items[0].secret, "admin-pw-1");
		}
		dc_cred_list_release(&l);
		dc_family_acr.release(cfg);
	}
	/* the metadata server's token names no account here: never cached */
	if (CHECK_EQ_INT(parse(&dc_family_gcr, &cfg, meta), 0)) {
		dc_family_gcr.scope_all(cfg, &s);
		CHECK_EQ_INT(dc_family_gcr.offline(cfg), 0);
		CHECK_EQ_INT(dc_family_gcr.cache_key(&a, cfg, &s), 0);
		dc_family_gcr.release(cfg);
	}
	dc_cache_key_release(&a);
	if (fd >= 0) {
		close(fd);
		unlink(tokfile);
	}
}

int main(void)
{
	int rc;

	if (dc_ctx_init(&ctx, &env, sink, DC_LOG_WARN) < 0)
		return 1;
	T_RUN(test_docker);
	T_RUN(test_userinfo);
	T_RUN(test_heroku_ibm);
	T_RUN(test_line_break);
	T_RUN(test_select);
	T_RUN(test_cache_keys);
	rc = t_done();
	dc_ctx_release(&ctx);
	return rc;
}
