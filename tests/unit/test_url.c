/* test_url.c -- util/url: which URLs a secret may be sent to. */
#include <stdio.h>
#include <string.h>

#include "t.h"
#include "util/url.h"

static void check_ok(const char *url)
{
	dc_error_clear();
	if (!CHECK_EQ_INT(dc_url_check(url, "X_URL", "fix it"), 0))
		fprintf(stderr, "  refused '%s': %s\n", url, dc_error_last());
}

static void check_bad(const char *url, const char *why)
{
	char want[256];

	dc_error_clear();
	if (!CHECK_EQ_INT(dc_url_check(url, "X_URL", "fix it"), DC_EUSAGE))
		fprintf(stderr, "  accepted '%s'\n", url);
	CHECK_HAS(dc_error_last(), why);
	snprintf(want, sizeof(want), "X_URL is '%s', ", url);
	CHECK_HAS(dc_error_last(), want);
}

/* A URL with user:password@ is refused naming the setting only: the
 * password is never quoted (BLACKBOX D2, REVIEW 6). */
static void check_userinfo(const char *url, const char *secret)
{
	dc_error_clear();
	CHECK_EQ_INT(dc_url_check(url, "X_URL", "fix it"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "X_URL has a user name or password in it");
	CHECK_LACKS(dc_error_last(), secret);
}

static void test_https_anywhere(void)
{
	check_ok("https://oauth2.googleapis.com/token");
	check_ok("https://login.microsoftonline.com");
	check_ok("https://r.example:8443/v2/?q=1#x");
	check_ok("https://[2001:db8::1]:443/token");
	check_ok("https://10.0.0.1");
}

static void test_http_only_to_this_machine(void)
{
	check_ok("http://127.0.0.1:8080/token");
	check_ok("http://127.1.2.3");
	check_ok("http://localhost/token");
	check_ok("http://localhost:5000");
	check_ok("http://[::1]:5000/x");
	check_ok("http://[::1]");

	check_bad("http://oauth2.example.test/token", "plain http to another machine; use https");
	check_bad("http://127.example.com/token", "plain http to another machine");
	check_bad("http://127.0.0.1.example.com", "plain http to another machine");
	check_bad("http://localhost.example.com:80", "plain http to another machine");
	check_bad("http://[::2]:80", "plain http to another machine");
	check_bad("http://10.0.0.1", "plain http to another machine");
	/* a user name in front of a loopback-looking host is refused outright */
	check_userinfo("http://127.0.0.1@evil.example/token", "127.0.0.1@evil");
	check_userinfo("https://u:hunter2secret@login.example.com/", "hunter2secret");
	check_userinfo("https://u:topsecretpw@login.example.com:99999999999/", "topsecretpw");
}

static void test_malformed(void)
{
	check_bad("ftp://oauth2.example.test/token", "not an https URL; fix it");
	check_bad("oauth2.example.test/token", "not an https URL");
	check_bad("HTTPS//x", "not an https URL");
	check_bad("https://", "which names no host; fix it");
	check_bad("https:///token", "which names no host");
	check_bad("https://my registry.azurecr.io", "whose host is not a host[:port]");
	check_bad("https://-x.example", "whose host is not a host[:port]");
	check_bad("https://.example", "whose host is not a host[:port]");
	check_bad("https://a_b.example", "whose host is not a host[:port]");
	check_bad("https://a.example/to ken", "white space");
	check_bad("https://a.example/token\n", "white space");
}

static void test_host_valid(void)
{
	CHECK(dc_url_host_valid("name.azurecr.io", 15));
	CHECK(dc_url_host_valid("127.0.0.1:5000", 14));
	CHECK(dc_url_host_valid("[::1]:5000", 10));
	CHECK(dc_url_host_valid("a.example/ignored", 9)); /* only n bytes count */
	CHECK(!dc_url_host_valid("", 0));
	CHECK(!dc_url_host_valid(".a", 2));
	CHECK(!dc_url_host_valid("-a", 2));
	CHECK(!dc_url_host_valid(":80", 3));
	CHECK(!dc_url_host_valid("a b", 3));
	CHECK(!dc_url_host_valid("u@h", 3));
	CHECK(!dc_url_host_valid("ab", 3)); /* stops at the NUL */
	/* ports (BLACKBOX R19), labels, control characters (D5) */
	CHECK(dc_url_host_valid("host:65535", 10));
	CHECK(!dc_url_host_valid("host:notaport", 13));
	CHECK(!dc_url_host_valid("host:99999", 10));
	CHECK(!dc_url_host_valid("host:0", 6));
	CHECK(!dc_url_host_valid("host:", 5));
	CHECK(!dc_url_host_valid("a..b", 4));
	CHECK(!dc_url_host_valid("a.example-", 10));
	CHECK(!dc_url_host_valid("a\x1b[31m.example.com", 19));
	CHECK(!dc_url_host_valid("javascript:alert(1)", 19));
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		CHECK(!dc_url_host_valid(big, sizeof(big))); /* over 253 bytes */
		CHECK(!dc_url_host_valid(big, 64));          /* a 64-byte label */
		CHECK(dc_url_host_valid(big, 63));
	}
}

int main(void)
{
	T_RUN(test_https_anywhere);
	T_RUN(test_http_only_to_this_machine);
	T_RUN(test_malformed);
	T_RUN(test_host_valid);
	return t_done();
}
