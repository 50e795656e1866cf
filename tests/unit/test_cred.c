/* test_cred.c -- core/cred: the credential list and registry hosts. */
#include <string.h>

#include "core/cred.h"
#include "t.h"
#include "util/url.h"

static void test_add_copies(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	char host[] = "r.example:5000", user[] = "bob", secret[] = "s3cret-value";

	CHECK_EQ_INT(dc_cred_list_add(&l, host, user, secret, 1234), 0);
	/* the caller's strings can change or go away */
	memset(host, 'X', sizeof(host) - 1);
	memset(user, 'Y', sizeof(user) - 1);
	memset(secret, 'Z', sizeof(secret) - 1);
	if (CHECK_EQ_INT(l.n, 1)) {
		CHECK_EQ_STR(l.items[0].host, "r.example:5000");
		CHECK_EQ_STR(l.items[0].username, "bob");
		CHECK_EQ_STR(l.items[0].secret, "s3cret-value");
		CHECK_EQ_INT(l.items[0].expires_at, 1234);
		CHECK(l.items[0].host != host && l.items[0].secret != secret);
	}
	CHECK_EQ_INT(dc_cred_list_add(&l, "other.example", "", "x", 0), 0);
	if (CHECK_EQ_INT(l.n, 2)) {
		CHECK_EQ_STR(l.items[1].host, "other.example");
		CHECK_EQ_STR(l.items[1].username, "");
		CHECK_EQ_STR(l.items[0].host, "r.example:5000");
	}
	dc_cred_list_release(&l);
	CHECK_EQ_INT(l.n, 0);
	CHECK(l.items == NULL);
	dc_cred_list_release(&l); /* releasing twice is harmless */
}

static void test_same_host_replaces(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;

	CHECK_EQ_INT(dc_cred_list_add(&l, "a.example", "u1", "first", 100), 0);
	CHECK_EQ_INT(dc_cred_list_add(&l, "b.example", "u2", "other", 200), 0);
	CHECK_EQ_INT(dc_cred_list_add(&l, "a.example", "u3", "second", 300), 0);
	if (CHECK_EQ_INT(l.n, 2)) {
		size_t i, seen = 0;

		for (i = 0; i < l.n; i++) {
			if (strcmp(l.items[i].host, "a.example"))
				continue;
			seen++;
			CHECK_EQ_STR(l.items[i].username, "u3");
			CHECK_EQ_STR(l.items[i].secret, "second");
			CHECK_EQ_INT(l.items[i].expires_at, 300);
		}
		CHECK_EQ_INT(seen, 1);
	}
	/* hosts that only share a prefix are different */
	CHECK_EQ_INT(dc_cred_list_add(&l, "a.example:5000", "u4", "third", 0), 0);
	CHECK_EQ_INT(l.n, 3);
	dc_cred_list_release(&l);
}

static void test_expiry(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;

	CHECK_EQ_INT(dc_cred_list_expiry(&l), 0);
	CHECK_EQ_INT(dc_cred_list_add(&l, "a", "u", "s", 0), 0);
	CHECK_EQ_INT(dc_cred_list_expiry(&l), 0);
	CHECK_EQ_INT(dc_cred_list_add(&l, "b", "u", "s", 500), 0);
	CHECK_EQ_INT(dc_cred_list_expiry(&l), 500);
	CHECK_EQ_INT(dc_cred_list_add(&l, "c", "u", "s", 300), 0);
	CHECK_EQ_INT(dc_cred_list_add(&l, "d", "u", "s", 0), 0);
	CHECK_EQ_INT(dc_cred_list_add(&l, "e", "u", "s", 400), 0);
	CHECK_EQ_INT(dc_cred_list_expiry(&l), 300);
	/* replacing the earliest one moves the expiry */
	CHECK_EQ_INT(dc_cred_list_add(&l, "c", "u", "s", 900), 0);
	CHECK_EQ_INT(dc_cred_list_expiry(&l), 400);
	dc_cred_list_release(&l);
}

static void check_host(const char *url, const char *want)
{
	dc_buf b = DC_BUF_INIT;

	if (CHECK_EQ_INT(dc_host_from_url(&b, url), 0))
		CHECK_EQ_STR(b.ptr, want);
	else
		fprintf(stderr, "  for '%s'\n", url);
	dc_buf_release(&b);
}

static void test_host_from_url(void)
{
	dc_buf b = DC_BUF_INIT;

	check_host("https://a.example:5000/x", "a.example:5000");
	check_host("http://127.0.0.1:5000", "127.0.0.1:5000");
	check_host("https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
		   "123456789012.dkr.ecr.us-east-1.amazonaws.com");
	check_host("https://a.example/", "a.example");
	check_host("https://a.example?x=1", "a.example");
	check_host("a.example", "a.example");
	check_host("a.example:5000", "a.example:5000");
	check_host("localhost:5000/v2/", "localhost:5000");

	dc_error_clear();
	CHECK_EQ_INT(dc_host_from_url(&b, "https://"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "'https://'");
	CHECK_EQ_INT(dc_host_from_url(&b, "http://"), DC_EUSAGE);
	CHECK_EQ_INT(dc_host_from_url(&b, "https:///path"), DC_EUSAGE);
	CHECK_EQ_INT(dc_host_from_url(&b, ""), DC_EUSAGE);
	CHECK_EQ_STR(b.ptr, "");
	dc_buf_release(&b);
	dc_error_clear();
}

int main(void)
{
	T_RUN(test_add_copies);
	T_RUN(test_same_host_replaces);
	T_RUN(test_expiry);
	T_RUN(test_host_from_url);
	return t_done();
}
