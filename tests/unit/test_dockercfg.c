/* test_dockercfg.c -- what a generator's file gives: both shapes, registry
 * matching with normalisation, the X-Registry-Auth and -Config values, and
 * the one-line failures. */
#include <jansson.h>

#include "runner/generator.h"
#include "t.h"
#include "util/codec.h"
#include "util/error.h"

/* Decode an X-Registry-Auth value (URL-safe base64 with padding). */
static json_t *decode(const dc_buf *v)
{
	dc_buf raw = DC_BUF_INIT;
	size_t n = v->len;
	json_t *doc;

	while (n && v->ptr[n - 1] == '=')
		n--;
	if (dc_base64url_decode(&raw, v->ptr, n) < 0)
		return NULL;
	doc = json_loadb(raw.ptr, raw.len, 0, NULL);
	dc_buf_release(&raw);
	return doc;
}

static int pick(dc_gen_result *r, const char *cfg, const char *registry)
{
	return dc_dockercfg_pick(r, cfg, strlen(cfg), registry, "dockercfg generator 'gen'");
}

/* base64 of "user:pa:ss" */
#define AUTH_B64 "dXNlcjpwYTpzcw=="

static void test_auths_shape(void)
{
	dc_gen_result r = DC_GEN_RESULT_INIT;
	json_t *doc;

	if (!CHECK_EQ_INT(pick(&r, "{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" AUTH_B64 "\",\"email\":\"\"}}}",
			       "127.0.0.1:5000"), 0))
		return;
	CHECK_EQ_STR(r.matched, "127.0.0.1:5000");
	CHECK_EQ_INT(r.auth.len % 4, 0);
	CHECK(!strchr(r.auth.ptr, '+') && !strchr(r.auth.ptr, '/'));
	doc = decode(&r.auth);
	if (CHECK(doc != NULL)) {
		CHECK_EQ_STR(json_string_value(json_object_get(doc, "username")), "user");
		CHECK_EQ_STR(json_string_value(json_object_get(doc, "password")), "pa:ss");
		CHECK_EQ_STR(json_string_value(json_object_get(doc, "serveraddress")), "127.0.0.1:5000");
	}
	json_decref(doc);
	doc = decode(&r.config);
	if (CHECK(doc != NULL))
		CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(doc, "127.0.0.1:5000"), "password")),
			     "pa:ss");
	json_decref(doc);
	dc_gen_result_release(&r);
}

static void test_legacy_shape_and_normalising(void)
{
	dc_gen_result r = DC_GEN_RESULT_INIT;
	const char *legacy = "{\"https://Quay.io/v1/\":{\"auth\":\"" AUTH_B64 "\",\"email\":\"x@y\"},"
			     "\"https://index.docker.io/v1/\":{\"username\":\"hub\",\"password\":\"pw\"}}";
	json_t *doc;

	CHECK_EQ_INT(pick(&r, legacy, "quay.io"), 0);
	CHECK_EQ_STR(r.matched, "https://Quay.io/v1/");
	CHECK_EQ_INT(pick(&r, legacy, "docker.io"), 0);
	CHECK_EQ_STR(r.matched, "https://index.docker.io/v1/");
	CHECK_EQ_INT(pick(&r, legacy, "registry-1.docker.io"), 0);
	CHECK_EQ_STR(r.matched, "https://index.docker.io/v1/");
	doc = decode(&r.auth);
	if (CHECK(doc != NULL))
		CHECK_EQ_STR(json_string_value(json_object_get(doc, "username")), "hub");
	json_decref(doc);
	dc_gen_result_release(&r);
}

static void test_exact_key_wins_and_tokens(void)
{
	dc_gen_result r = DC_GEN_RESULT_INIT;
	const char *cfg = "{\"auths\":{\"https://r.example\":{\"username\":\"a\",\"password\":\"1\"},"
			  "\"r.example\":{\"identitytoken\":\"tok\"}}}";
	json_t *doc;

	CHECK_EQ_INT(pick(&r, cfg, "r.example"), 0);
	CHECK_EQ_STR(r.matched, "r.example");
	doc = decode(&r.auth);
	if (CHECK(doc != NULL)) {
		CHECK_EQ_STR(json_string_value(json_object_get(doc, "identitytoken")), "tok");
		CHECK(json_object_get(doc, "username") == NULL);
	}
	json_decref(doc);
	/* no registry asked: no auth, every entry in the config */
	CHECK_EQ_INT(pick(&r, cfg, NULL), 0);
	CHECK_EQ_INT(r.auth.len, 0);
	doc = decode(&r.config);
	if (CHECK(doc != NULL))
		CHECK_EQ_INT(json_object_size(doc), 2);
	json_decref(doc);
	dc_gen_result_release(&r);
}

static void test_failures(void)
{
	dc_gen_result r = DC_GEN_RESULT_INIT;

	CHECK_EQ_INT(pick(&r, "{\"auths\":{\"a.example\":{\"auth\":\"" AUTH_B64 "\"},\"b.example:5000\":"
			      "{\"auth\":\"" AUTH_B64 "\"}}}", "c.example"), DC_ERR);
	CHECK_HAS(dc_error_last(), "dockercfg generator 'gen' wrote no credentials for registry 'c.example'");
	CHECK_HAS(dc_error_last(), "(it has: a.example, b.example:5000)");
	CHECK_LACKS(dc_error_last(), AUTH_B64);
	CHECK_EQ_INT(pick(&r, "{\"auths\":{\"a\":{\"auth\":\"secret-", "a"), DC_ERR);
	CHECK_HAS(dc_error_last(), "wrote invalid JSON (line 1");
	CHECK_LACKS(dc_error_last(), "secret");
	CHECK_EQ_INT(pick(&r, "[1]", "a"), DC_ERR);
	CHECK_HAS(dc_error_last(), "not an object");
	CHECK_EQ_INT(pick(&r, "{\"auths\":{\"a\":{\"auth\":\"bm9jb2xvbg==\"}}}", "a"), DC_ERR); /* "nocolon" */
	CHECK_HAS(dc_error_last(), "not base64 of USER:PASSWORD");
	CHECK_EQ_INT(pick(&r, "{}", "a"), DC_ERR);
	CHECK_HAS(dc_error_last(), "(it has: no entries)");
	dc_gen_result_release(&r);
}

static void test_normalise(void)
{
	static const char *const cases[][2] = {
		{ "https://index.docker.io/v1/", "https://index.docker.io/v1/" },
		{ "docker.io", "https://index.docker.io/v1/" },
		{ "HTTPS://Registry.Example:5000/v2/", "registry.example:5000" },
		{ "http://127.0.0.1:5000", "127.0.0.1:5000" },
		{ "gcr.io/", "gcr.io" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dc_buf b = DC_BUF_INIT;

		CHECK_EQ_INT(dc_registry_normalise(&b, cases[i][0]), 0);
		CHECK_EQ_STR(b.ptr, cases[i][1]);
		dc_buf_release(&b);
	}
}

int main(void)
{
	T_RUN(test_auths_shape);
	T_RUN(test_legacy_shape_and_normalising);
	T_RUN(test_exact_key_wins_and_tokens);
	T_RUN(test_failures);
	T_RUN(test_normalise);
	return t_done();
}
