/* test_cache.c -- core/cache with a counting fake fetch and a pinned clock:
 * miss then hit, stale serving above the floor only, a failed refresh not
 * repeated, results without expiry recorded, entries keyed by principal and
 * sealed by the static secret or the cache's own key, list and purge.
 * Every test has a directory of its own. (Concurrency and kill -9 are in
 * tests/integration.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cache.h"
#include "t.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/time.h"

static char root[] = "/tmp/dcgen-test-cache-XXXXXX";
static int ndirs;

typedef struct {
	int calls;
	int fail;
	time_t lifetime; /* 0: no expiry */
	dc_ctx *ctx;
} upstream;

static int fake_fetch(dc_cred_list *out, void *arg)
{
	upstream *u = arg;

	u->calls++;
	if (u->fail)
		return dc_error_setc(DC_ERR, DC_ECLASS_HTTP, "upstream is down");
	return dc_cred_list_add(out, "registry.example", "user", "s3cret-token",
				u->lifetime ? dc_ctx_now(u->ctx) + u->lifetime : 0);
}

typedef struct {
	char dir[256];
	dc_env env;
	dc_ctx ctx;
	dc_cache *c;
} fixture;

static int setup(fixture *f, char **vars)
{
	snprintf(f->dir, sizeof(f->dir), "%s/c%d", root, ndirs++);
	f->env.vars = vars;
	if (!CHECK_EQ_INT(dc_ctx_init(&f->ctx, &f->env, NULL, DC_LOG_WARN), 0))
		return -1;
	f->ctx.clock.pinned = 1800000000;
	f->c = NULL;
	return CHECK_EQ_INT(dc_cache_open(&f->c, &f->ctx, f->dir, DC_CACHE_CREATE), 0) ? 0 : -1;
}

static void teardown(fixture *f)
{
	dc_cache_free(f->c);
	dc_ctx_release(&f->ctx);
}

static void key_init(dc_cache_key *k, const char *principal, const char *seal)
{
	*k = (dc_cache_key)DC_CACHE_KEY_INIT;
	k->family = "test";
	dc_buf_puts(&k->principal, principal);
	dc_buf_puts(&k->scope, "endpoint=https://x\n");
	if (seal && dc_sec_set(&k->seal, NULL, seal) < 0)
		abort();
}

static int get(fixture *f, const dc_cache_key *k, upstream *u, enum dc_cache_outcome *o)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	int err;

	u->ctx = &f->ctx;
	err = dc_cache_get(&l, o, f->c, k, fake_fetch, u);
	if (err == 0 && CHECK_EQ_INT(l.n, 1))
		CHECK_EQ_STR(l.items[0].secret, "s3cret-token");
	dc_cred_list_release(&l);
	return err;
}

static void test_miss_then_hit(void)
{
	char *vars[] = { NULL };
	fixture f;
	dc_cache_key k;
	upstream u = { 0, 0, 43200, NULL };
	enum dc_cache_outcome o;
	struct stat st;
	char path[512];

	if (setup(&f, vars) < 0)
		return;
	key_init(&k, "AKIDEXAMPLE", "the-secret-key");
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_FETCHED);
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_HIT);
	CHECK_EQ_INT(u.calls, 1);
	/* sealed with the secret: no cache key file was needed */
	snprintf(path, sizeof(path), "%s/cache.key", f.dir);
	CHECK(stat(path, &st) < 0);
	dc_cache_key_release(&k);
	/* same principal, another secret (a rotated or wrong one): the entry
	 * does not open, upstream is asked, the entry replaced */
	key_init(&k, "AKIDEXAMPLE", "another-secret");
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_FETCHED);
	CHECK_EQ_INT(u.calls, 2);
	dc_cache_key_release(&k);
	teardown(&f);
}

static void test_secretless_own_key(void)
{
	char *vars[] = { NULL };
	fixture f;
	dc_cache_key k;
	upstream u = { 0, 0, 3600, NULL };
	enum dc_cache_outcome o;
	struct stat st;
	char path[512];

	if (setup(&f, vars) < 0)
		return;
	key_init(&k, "tenant/client", NULL);
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_HIT);
	CHECK_EQ_INT(u.calls, 1);
	snprintf(path, sizeof(path), "%s/cache.key", f.dir);
	if (CHECK_EQ_INT(stat(path, &st), 0)) {
		CHECK_EQ_INT(st.st_mode & 0777, 0600);
		CHECK_EQ_INT(st.st_size, 32);
	}
	dc_cache_key_release(&k);
	teardown(&f);
}

static void test_stale_and_floor(void)
{
	char *vars[] = { "DCGEN_CACHE_MIN_TTL=40000", NULL };
	fixture f;
	dc_cache_key k;
	upstream u = { 0, 0, 43200, NULL };
	enum dc_cache_outcome o;

	if (setup(&f, vars) < 0)
		return;
	key_init(&k, "AKIDEXAMPLE", "the-secret-key");
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	/* 12 h left but a refresh is due (margin 40000 s); upstream fails:
	 * the entry is served, stale, and the failure is recorded */
	f.ctx.clock.pinned += 7200;
	u.fail = 1;
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_STALE);
	CHECK_EQ_INT(u.calls, 2);
	/* the next caller within the hold does not ask again */
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_STALE);
	CHECK_EQ_INT(u.calls, 2);
	/* 4 minutes before expiry (under the 5-minute floor): never served */
	f.ctx.clock.pinned += 43200 - 7200 - 240;
	dc_error_clear();
	CHECK_EQ_INT(get(&f, &k, &u, &o), DC_ERR);
	CHECK_HAS(dc_error_last(), "upstream is down");
	/* expired: never served */
	f.ctx.clock.pinned += 3600;
	CHECK_EQ_INT(get(&f, &k, &u, &o), DC_ERR);
	dc_cache_key_release(&k);
	teardown(&f);
}

static void test_not_cacheable_recorded(void)
{
	char *vars[] = { NULL };
	fixture f;
	dc_cache_key k;
	upstream u = { 0, 0, 0, NULL };
	enum dc_cache_outcome o;
	char path[512];
	struct stat st;

	if (setup(&f, vars) < 0)
		return;
	key_init(&k, "AKIDEXAMPLE", "the-secret-key");
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(o, DC_CACHE_FETCHED);
	CHECK_EQ_INT(u.calls, 2);
	/* no entry, but a state record that lets later callers skip the lock */
	snprintf(path, sizeof(path), "%s", f.dir);
	{
		size_t n = 99;
		int header = 0;

		(void)header;
		CHECK_EQ_INT(dc_cache_list(f.c, NULL, NULL, &n), 0);
		CHECK_EQ_INT(n, 0);
	}
	CHECK(stat(path, &st) == 0);
	dc_cache_key_release(&k);
	teardown(&f);
}

static int count(const dc_cache_info *e, void *arg)
{
	int *n = arg;

	CHECK_EQ_STR(e->family, "test");
	CHECK_EQ_STR(e->principal, "AKIDEXAMPLE");
	CHECK_EQ_STR(e->hosts, "registry.example");
	(*n)++;
	return 0;
}

static void test_list_and_purge(void)
{
	char *vars[] = { NULL };
	fixture f;
	dc_cache_key k;
	upstream u = { 0, 0, 43200, NULL };
	enum dc_cache_outcome o;
	size_t removed = 0, n = 0;
	int seen = 0;
	dc_cache *missing = NULL;
	char nowhere[300];
	struct stat st;

	if (setup(&f, vars) < 0)
		return;
	key_init(&k, "AKIDEXAMPLE", "the-secret-key");
	CHECK_EQ_INT(get(&f, &k, &u, &o), 0);
	CHECK_EQ_INT(dc_cache_list(f.c, count, &seen, &n), 0);
	CHECK_EQ_INT(seen, 1);
	CHECK_EQ_INT(n, 1);
	/* purge removes the entry and its lock: nothing is left */
	CHECK_EQ_INT(dc_cache_purge(f.c, 0, &removed), 0);
	CHECK_EQ_INT(removed, 2);
	n = 9;
	CHECK_EQ_INT(dc_cache_list(f.c, count, &seen, &n), 0);
	CHECK_EQ_INT(n, 0);
	/* opening without DC_CACHE_CREATE creates nothing */
	snprintf(nowhere, sizeof(nowhere), "%s/not/there", f.dir);
	dc_error_clear();
	CHECK_EQ_INT(dc_cache_open(&missing, &f.ctx, nowhere, 0), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "does not exist");
	CHECK(stat(nowhere, &st) < 0);
	dc_cache_key_release(&k);
	teardown(&f);
}

int main(void)
{
	int rc;

	if (!mkdtemp(root))
		return 1;
	T_RUN(test_miss_then_hit);
	T_RUN(test_secretless_own_key);
	T_RUN(test_stale_and_floor);
	T_RUN(test_not_cacheable_recorded);
	T_RUN(test_list_and_purge);
	rc = t_done();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
