/* test_codec.c -- util/codec: base64, base64url and the XML text lookup. */
#include <string.h>

#include "t.h"
#include "util/codec.h"

static void test_base64_vectors(void)
{
	/* RFC 4648 section 10, and bytes where the two alphabets differ */
	static const struct { const char *plain, *b64, *b64url; } v[] = {
		{ "", "", "" },
		{ "f", "Zg==", "Zg" },
		{ "fo", "Zm8=", "Zm8" },
		{ "foo", "Zm9v", "Zm9v" },
		{ "foob", "Zm9vYg==", "Zm9vYg" },
		{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
		{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
		{ "\xfb\xff", "+/8=", "-_8" },
		{ ">>>???", "Pj4+Pz8/", "Pj4-Pz8_" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		dc_buf e = DC_BUF_INIT, d = DC_BUF_INIT, ue = DC_BUF_INIT, ud = DC_BUF_INIT;

		CHECK_EQ_INT(dc_base64_encode(&e, v[i].plain, strlen(v[i].plain)), 0);
		CHECK_EQ_STR(e.ptr, v[i].b64);
		CHECK_EQ_INT(e.len, strlen(v[i].b64));
		CHECK_EQ_INT(dc_base64_decode(&d, v[i].b64, strlen(v[i].b64)), 0);
		CHECK_EQ_STR(d.ptr, v[i].plain);
		CHECK_EQ_INT(d.len, strlen(v[i].plain));
		/* base64url appends, like the rest */
		CHECK_EQ_INT(dc_buf_puts(&ue, "x."), 0);
		CHECK_EQ_INT(dc_base64url_encode(&ue, v[i].plain, strlen(v[i].plain)), 0);
		CHECK_EQ_STR(ue.ptr + 2, v[i].b64url);
		CHECK_EQ_INT(ue.len, 2 + strlen(v[i].b64url));
		CHECK_EQ_INT(dc_base64url_decode(&ud, v[i].b64url, strlen(v[i].b64url)), 0);
		CHECK_EQ_STR(ud.ptr, v[i].plain);
		CHECK_EQ_INT(ud.len, strlen(v[i].plain));
		dc_buf_release(&e);
		dc_buf_release(&d);
		dc_buf_release(&ue);
		dc_buf_release(&ud);
	}
}

static void test_base64_appends(void)
{
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(dc_buf_puts(&b, "Basic "), 0);
	CHECK_EQ_INT(dc_base64_encode(&b, "user:pw", 7), 0);
	CHECK_EQ_STR(b.ptr, "Basic dXNlcjpwdw==");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_buf_puts(&b, "pre:"), 0);
	CHECK_EQ_INT(dc_base64_decode(&b, "dXNlcjpwdw==", 12), 0);
	CHECK_EQ_STR(b.ptr, "pre:user:pw");
	CHECK_EQ_INT(b.len, 11);
	dc_buf_release(&b);
}

static void test_base64_round_trips(void)
{
	unsigned char data[20];
	size_t len, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 37 + 251); /* all kinds of bytes, NUL and high ones */
	data[3] = 0;
	for (len = 0; len <= sizeof(data); len++) {
		dc_buf e = DC_BUF_INIT, d;

		dc_buf_init(&d, 0, DC_BUF_SECRET);
		CHECK_EQ_INT(dc_base64_encode(&e, data, len), 0);
		CHECK_EQ_INT(e.len, 4 * ((len + 2) / 3));
		CHECK_EQ_INT(strlen(e.ptr), e.len);
		CHECK_EQ_INT(dc_base64_decode(&d, e.ptr, e.len), 0);
		CHECK_EQ_INT(d.len, len);
		CHECK(len == 0 || !memcmp(d.ptr, data, len));
		CHECK_EQ_INT(d.ptr[d.len], '\0');
		dc_buf_release(&e);
		dc_buf_release(&d);
	}
}

static void test_base64_rejects(void)
{
	static const char *const bad[] = {
		"Zg",       /* no padding */
		"Zg=",      /* bad length */
		"Zm9vY",    /* bad length */
		"Zm9v\n",   /* newline */
		"Zm 9",     /* space */
		"Zm9*",     /* not in the alphabet */
		"Zm-_",     /* URL-safe alphabet */
		"Z===",     /* too much padding */
		"====",
		"Zg==Zm9v", /* padding in the middle */
		"Zm=v",     /* padding in the middle */
		"Z=9v",
		"=m9v",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dc_buf d = DC_BUF_INIT;
		int rc = dc_base64_decode(&d, bad[i], strlen(bad[i]));

		if (!CHECK_EQ_INT(rc, DC_ERR))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
		dc_buf_release(&d);
	}
	/* a NUL inside the given length is not base64 either */
	{
		dc_buf d = DC_BUF_INIT;

		CHECK_EQ_INT(dc_base64_decode(&d, "Zm\0v", 4), DC_ERR);
		dc_buf_release(&d);
	}
}

static void test_base64url_round_trips(void)
{
	unsigned char data[40];
	size_t len, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 53 + 250);
	for (len = 0; len <= sizeof(data); len++) {
		dc_buf e = DC_BUF_INIT, d;

		dc_buf_init(&d, 0, DC_BUF_SECRET);
		CHECK_EQ_INT(dc_base64url_encode(&e, data, len), 0);
		CHECK_EQ_INT(e.len, (4 * len + 2) / 3);
		CHECK_EQ_INT(strcspn(e.ptr, "+/="), e.len);
		CHECK_EQ_INT(dc_base64url_decode(&d, e.ptr, e.len), 0);
		CHECK_EQ_INT(d.len, len);
		CHECK(len == 0 || !memcmp(d.ptr, data, len));
		dc_buf_release(&e);
		dc_buf_release(&d);
	}
}

static void test_base64url_rejects(void)
{
	static const char *const bad[] = {
		"Zg==",  /* padding */
		"Zm8=",
		"Z",     /* 6 bits: no byte */
		"Zm9vY",
		"Zm+v",  /* the standard alphabet */
		"Zm/v",
		"Zm9v\n",
		"Zm 9",
		"Zm9*",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dc_buf d = DC_BUF_INIT;

		dc_error_clear();
		if (!CHECK_EQ_INT(dc_base64url_decode(&d, bad[i], strlen(bad[i])), DC_ERR))
			fprintf(stderr, "  accepted '%s'\n", bad[i]);
		CHECK_HAS(dc_error_last(), "not valid base64url");
		dc_buf_release(&d);
	}
}

static void test_xml_text(void)
{
	const char *doc = "<?xml version=\"1.0\"?>\n<AssumeRoleResponse><Credentials>"
			  "<AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
			  "<SecretAccessKey>a&amp;b&lt;c&gt;d&#65;&#x42;&quot;&apos;</SecretAccessKey>"
			  "<SessionTokenX>wrong</SessionTokenX><SessionToken>tok</SessionToken>"
			  "<Empty></Empty><Odd>x &unknown; &#; y&</Odd>"
			  "</Credentials></AssumeRoleResponse>";
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(dc_xml_text(&b, doc, "AccessKeyId"), 0);
	CHECK_EQ_STR(b.ptr, "ASIAEXAMPLE");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_xml_text(&b, doc, "SecretAccessKey"), 0);
	CHECK_EQ_STR(b.ptr, "a&b<c>dAB\"'");
	CHECK_EQ_INT(b.len, strlen("a&b<c>dAB\"'"));
	dc_buf_reset(&b);
	/* a tag that only starts like the one asked for is not it */
	CHECK_EQ_INT(dc_xml_text(&b, doc, "SessionToken"), 0);
	CHECK_EQ_STR(b.ptr, "tok");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_xml_text(&b, doc, "Empty"), 0);
	CHECK_EQ_STR(b.ptr, "");
	dc_buf_reset(&b);
	/* what is not an entity stays as it is */
	CHECK_EQ_INT(dc_xml_text(&b, doc, "Odd"), 0);
	CHECK_EQ_STR(b.ptr, "x &unknown; &#; y&");
	dc_buf_release(&b);
}

static void test_xml_not_found(void)
{
	dc_buf b = DC_BUF_INIT;

	dc_error_set(DC_ERR, "sentinel");
	CHECK_EQ_INT(dc_xml_text(&b, "<a>1</a>", "Code"), DC_ENOTFOUND);
	CHECK_EQ_INT(dc_xml_text(&b, "<Code>never closed", "Code"), DC_ENOTFOUND);
	CHECK_EQ_INT(dc_xml_text(&b, "", "Code"), DC_ENOTFOUND);
	CHECK_EQ_INT(dc_xml_text(&b, "</Code>x<Code>", "Code"), DC_ENOTFOUND);
	CHECK_EQ_STR(b.ptr, "");
	CHECK_EQ_STR(dc_error_last(), "sentinel"); /* no message set */
	dc_buf_release(&b);
	dc_error_clear();
}

int main(void)
{
	T_RUN(test_base64_vectors);
	T_RUN(test_base64_appends);
	T_RUN(test_base64_round_trips);
	T_RUN(test_base64_rejects);
	T_RUN(test_base64url_round_trips);
	T_RUN(test_base64url_rejects);
	T_RUN(test_xml_text);
	T_RUN(test_xml_not_found);
	return t_done();
}
