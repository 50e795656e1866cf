/* test_cache.c -- core/cache with a counting fake fetch: miss, hit, not
 * cacheable, stale on failure, expired never served, keys kept apart, list
 * and purge. (Concurrency and kill -9 are in tests/integration/test_cache.py.) */
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
static char dir[256];
static int calls;
static int fail_next;
static time_t lifetime = 43200;

static int fake_fetch(dc_cred_list *out, void *ctx)
{
	(void)ctx;
	calls++;
	if (fail_next)
		return dc_error_set(DC_ERR, "upstream is down");
	return dc_cred_list_add(out, "registry.example", "user", "s3cret-token", dc_time_now() + lifetime);
}

static int get(dc_cred_list *out, dc_cache *c, const char *identity, enum dc_cache_how *how)
{
	dc_buf id = DC_BUF_INIT;
	int err;

	if (dc_buf_puts(&id, identity) < 0)
		return DC_ERR;
	err = dc_cache_get(out, c, "test", &id, fake_fetch, NULL, how);
	dc_buf_release(&id);
	return err;
}

static void open_cache(dc_cache *c, char **vars)
{
	dc_env env = { vars };

	*c = (dc_cache)DC_CACHE_INIT;
	CHECK_EQ_INT(dc_cache_open(c, dir, &env, 1000), 0);
}

static void test_miss_then_hit(void)
{
	char *vars[] = { NULL };
	dc_cache c;
	dc_cred_list l = DC_CRED_LIST_INIT;
	enum dc_cache_how how;
	struct stat st;

	open_cache(&c, vars);
	calls = 0;
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	CHECK_EQ_INT(get(&l, &c, "id-one", &how), 0);
	CHECK_EQ_INT(how, DC_CACHE_FETCHED);
	CHECK_EQ_INT(calls, 1);
	dc_cred_list_release(&l);
	CHECK_EQ_INT(get(&l, &c, "id-one", &how), 0);
	CHECK_EQ_INT(how, DC_CACHE_HIT);
	CHECK_EQ_INT(calls, 1);
	if (CHECK_EQ_INT(l.n, 1))
		CHECK_EQ_STR(l.items[0].secret, "s3cret-token");
	dc_cred_list_release(&l);
	/* another identity never shares the entry */
	CHECK_EQ_INT(get(&l, &c, "id-two", &how), 0);
	CHECK_EQ_INT(how, DC_CACHE_FETCHED);
	CHECK_EQ_INT(calls, 2);
	dc_cred_list_release(&l);
	dc_cache_close(&c);
}

static void test_stale_and_expired(void)
{
	char *margin[] = { "DCGEN_CACHE_MIN_TTL=999999", NULL };
	char *none[] = { NULL };
	dc_cache c;
	dc_cred_list l = DC_CRED_LIST_INIT;
	enum dc_cache_how how;
	time_t now = time(NULL);

	open_cache(&c, margin);
	calls = 0;
	CHECK_EQ_INT(get(&l, &c, "id-stale", &how), 0);
	dc_cred_list_release(&l);
	/* inside the margin: refresh; upstream fails: the old entry, with a warning */
	fail_next = 1;
	CHECK_EQ_INT(get(&l, &c, "id-stale", &how), 0);
	CHECK_EQ_INT(how, DC_CACHE_STALE);
	CHECK_EQ_INT(calls, 2);
	dc_cred_list_release(&l);
	dc_cache_close(&c);

	/* past its expiry: never served, the fetch error comes back */
	open_cache(&c, none);
	dc_time_set_now(now + 43200 + 10);
	CHECK(get(&l, &c, "id-stale", &how) < 0);
	CHECK_HAS(dc_error_last(), "upstream is down");
	CHECK_EQ_INT(l.n, 0);
	dc_time_set_now(0);
	fail_next = 0;
	dc_cache_close(&c);
}

static void test_not_cacheable(void)
{
	char *vars[] = { NULL };
	dc_cache c;
	dc_cred_list l = DC_CRED_LIST_INIT;
	enum dc_cache_how how;

	open_cache(&c, vars);
	calls = 0;
	lifetime = -5; /* arrives expired */
	CHECK_EQ_INT(get(&l, &c, "id-expired", &how), 0);
	dc_cred_list_release(&l);
	CHECK_EQ_INT(get(&l, &c, "id-expired", &how), 0);
	CHECK_EQ_INT(how, DC_CACHE_FETCHED);
	CHECK_EQ_INT(calls, 2);
	dc_cred_list_release(&l);
	lifetime = 43200;
	dc_cache_close(&c);
}

static int count_entry(const dc_cache_info *info, void *ctx)
{
	int *n = ctx;

	CHECK_EQ_STR(info->provider, "test");
	CHECK_EQ_STR(info->hosts, "registry.example");
	CHECK_EQ_INT(strlen(info->id), 32);
	(*n)++;
	return 0;
}

static void test_list_and_purge(void)
{
	char *vars[] = { NULL };
	dc_cache c;
	int n = 0;
	size_t removed = 0;

	open_cache(&c, vars);
	CHECK_EQ_INT(dc_cache_list(&c, count_entry, &n), 0);
	CHECK_EQ_INT(n, 3); /* id-one, id-two, id-stale */
	CHECK_EQ_INT(dc_cache_purge(&c, 1, &removed), 0);
	CHECK_EQ_INT(removed, 0);
	CHECK_EQ_INT(dc_cache_purge(&c, 0, &removed), 0);
	CHECK_EQ_INT(removed, 3);
	n = 0;
	CHECK_EQ_INT(dc_cache_list(&c, count_entry, &n), 0);
	CHECK_EQ_INT(n, 0);
	dc_cache_close(&c);
}

static void test_refuses_open_directory(void)
{
	char *vars[] = { NULL };
	dc_env env = { vars };
	dc_cache c = DC_CACHE_INIT;

	CHECK_EQ_INT(chmod(dir, 0770), 0);
	CHECK_EQ_INT(dc_cache_open(&c, dir, &env, 1000), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "writable by group or others");
	CHECK_EQ_INT(chmod(dir, 0700), 0);
}

int main(void)
{
	if (!mkdtemp(root))
		return 1;
	snprintf(dir, sizeof(dir), "%s/a/cache", root);
	T_RUN(test_miss_then_hit);
	T_RUN(test_stale_and_expired);
	T_RUN(test_not_cacheable);
	T_RUN(test_list_and_purge);
	T_RUN(test_refuses_open_directory);
	dc_log_redact_clear();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			return 1;
	}
	return t_done();
}
