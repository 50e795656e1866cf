/* test_json.c -- util/json: parsing replies without quoting them, and dumping. */
#include <string.h>

#include "t.h"
#include "util/json.h"

static void test_parse_object(void)
{
	const char ok[] = "{\"authorizationData\": [], \"n\": 1}";
	json_t *doc = NULL;

	if (CHECK_EQ_INT(dc_json_parse_object(&doc, ok, strlen(ok), "ECR"), 0)) {
		CHECK(json_is_array(json_object_get(doc, "authorizationData")));
		CHECK(dc_json_str(doc, "n") == NULL); /* not a string */
	}
	json_decref(doc);
}

static void test_errors_never_quote_the_reply(void)
{
	/* a token in a broken reply must not reach the message */
	static const char *const bad[] = {
		"{\"token\": \"SECRETTOKEN0123\", oops}",
		"{\"token\": \"SECRETTOKEN0123\"",
		"<html>SECRETTOKEN0123</html>",
		"{\"token\": \"SECRETTOKEN0123\", \"token\": \"x\"}", /* duplicate keys */
	};
	json_t *doc = (json_t *)1;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dc_error_clear();
		CHECK_EQ_INT(dc_json_parse_object(&doc, bad[i], strlen(bad[i]), "ECR"), DC_ERR);
		CHECK(doc == NULL);
		CHECK_HAS(dc_error_last(), "ECR sent a reply that is not JSON (error at byte ");
		CHECK_LACKS(dc_error_last(), "SECRET");
		CHECK_LACKS(dc_error_last(), "oops");
	}
	dc_error_clear();
	CHECK_EQ_INT(dc_json_parse_object(&doc, "[\"SECRETTOKEN0123\"]", 19, "STS"), DC_ERR);
	CHECK_HAS(dc_error_last(), "STS sent JSON that is not an object");
	CHECK_LACKS(dc_error_last(), "SECRET");
	dc_error_clear();
}

static void test_str_and_dump(void)
{
	json_t *doc = json_pack("{s:s, s:i}", "b", "two", "a", 1);
	dc_buf out = DC_BUF_INIT;

	CHECK_EQ_STR(dc_json_str(doc, "b"), "two");
	CHECK(dc_json_str(doc, "missing") == NULL);
	CHECK(dc_json_str(NULL, "b") == NULL);
	CHECK_EQ_INT(dc_json_dump(&out, doc), 0);
	CHECK_EQ_STR(out.ptr, "{\n  \"a\": 1,\n  \"b\": \"two\"\n}\n"); /* indented, sorted */
	dc_buf_release(&out);
	json_decref(doc);
}

int main(void)
{
	T_RUN(test_parse_object);
	T_RUN(test_errors_never_quote_the_reply);
	T_RUN(test_str_and_dump);
	return t_done();
}
