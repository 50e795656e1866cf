/* test_output.c -- core/output: what a Docker client will read. */
#include <jansson.h>
#include <string.h>

#include "core/output.h"
#include "t.h"
#include "util/codec.h"

/* Check that `entry` has an "auth" that is base64 of "user:secret". */
static void check_auth(const json_t *entry, const char *user, const char *secret)
{
	const char *auth = json_string_value(json_object_get(entry, "auth"));
	dc_buf plain = DC_BUF_INIT, want = DC_BUF_INIT;

	if (!CHECK(auth != NULL))
		return;
	CHECK_EQ_INT(dc_buf_printf(&want, "%s:%s", user, secret), 0);
	CHECK_EQ_INT(dc_base64_decode(&plain, auth, strlen(auth)), 0);
	CHECK_EQ_STR(plain.ptr, want.ptr);
	CHECK_EQ_INT(plain.len, want.len);
	dc_buf_release(&plain);
	dc_buf_release(&want);
}

static void fill(dc_cred_list *l)
{
	CHECK_EQ_INT(dc_cred_list_add(l, "123456789012.dkr.ecr.us-east-1.amazonaws.com", "AWS", "tok\"en/1+=", 100), 0);
	CHECK_EQ_INT(dc_cred_list_add(l, "https://index.docker.io/v1/", "me", "pä:ss\\word", 0), 0);
}

static json_t *render(const dc_cred_list *l, enum dc_format fmt)
{
	dc_buf out;
	json_error_t jerr;
	json_t *doc = NULL;

	dc_buf_init(&out, 0, DC_BUF_SECRET);
	if (CHECK_EQ_INT(dc_output_render(&out, l, fmt), 0)) {
		CHECK_EQ_INT(strlen(out.ptr), out.len);
		doc = json_loadb(out.ptr, out.len, JSON_REJECT_DUPLICATES, &jerr);
		if (!CHECK(doc != NULL))
			fprintf(stderr, "  %s: %s\n", jerr.text, out.ptr);
	}
	dc_buf_release(&out);
	return doc;
}

static void test_config(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	json_t *doc, *auths, *e;

	fill(&l);
	doc = render(&l, DC_FORMAT_CONFIG);
	if (doc) {
		CHECK(json_is_object(doc));
		CHECK_EQ_INT(json_object_size(doc), 1);
		auths = json_object_get(doc, "auths");
		if (CHECK(json_is_object(auths))) {
			CHECK_EQ_INT(json_object_size(auths), 2);
			e = json_object_get(auths, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
			if (CHECK(json_is_object(e))) {
				CHECK_EQ_INT(json_object_size(e), 1);
				check_auth(e, "AWS", "tok\"en/1+=");
			}
			e = json_object_get(auths, "https://index.docker.io/v1/");
			if (CHECK(json_is_object(e))) {
				CHECK_EQ_INT(json_object_size(e), 1);
				check_auth(e, "me", "pä:ss\\word");
			}
		}
	}
	json_decref(doc);
	dc_cred_list_release(&l);
}

static void test_dockercfg(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	json_t *doc, *e;

	fill(&l);
	doc = render(&l, DC_FORMAT_DOCKERCFG);
	if (doc) {
		CHECK(json_is_object(doc));
		CHECK_EQ_INT(json_object_size(doc), 2);
		CHECK(json_object_get(doc, "auths") == NULL);
		e = json_object_get(doc, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
		if (CHECK(json_is_object(e))) {
			CHECK_EQ_INT(json_object_size(e), 2);
			check_auth(e, "AWS", "tok\"en/1+=");
			CHECK_EQ_STR(json_string_value(json_object_get(e, "email")), "");
		}
		e = json_object_get(doc, "https://index.docker.io/v1/");
		if (CHECK(json_is_object(e))) {
			CHECK_EQ_INT(json_object_size(e), 2);
			check_auth(e, "me", "pä:ss\\word");
			CHECK_EQ_STR(json_string_value(json_object_get(e, "email")), "");
		}
	}
	json_decref(doc);
	dc_cred_list_release(&l);
}

static void test_empty_list(void)
{
	dc_cred_list l = DC_CRED_LIST_INIT;
	json_t *doc = render(&l, DC_FORMAT_CONFIG);

	if (doc) {
		CHECK(json_is_object(json_object_get(doc, "auths")));
		CHECK_EQ_INT(json_object_size(json_object_get(doc, "auths")), 0);
	}
	json_decref(doc);
	doc = render(&l, DC_FORMAT_DOCKERCFG);
	if (doc) {
		CHECK(json_is_object(doc));
		CHECK_EQ_INT(json_object_size(doc), 0);
	}
	json_decref(doc);
}

static void test_format_parse(void)
{
	enum dc_format f = DC_FORMAT_DOCKERCFG;

	CHECK_EQ_INT(dc_format_parse(&f, "config", "--format"), 0);
	CHECK_EQ_INT(f, DC_FORMAT_CONFIG);
	CHECK_EQ_INT(dc_format_parse(&f, "dockercfg", "--format"), 0);
	CHECK_EQ_INT(f, DC_FORMAT_DOCKERCFG);

	dc_error_clear();
	CHECK_EQ_INT(dc_format_parse(&f, "yaml", "DCGEN_FORMAT"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "DCGEN_FORMAT");
	CHECK_HAS(dc_error_last(), "'yaml'");
	CHECK_HAS(dc_error_last(), "dockercfg");
	dc_error_clear();
	CHECK_EQ_INT(dc_format_parse(&f, "", "--format"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "--format");
	CHECK_EQ_INT(dc_format_parse(&f, "CONFIG", "--format"), DC_EUSAGE);
	CHECK_EQ_INT(dc_format_parse(&f, "configx", "--format"), DC_EUSAGE);
	CHECK_EQ_INT(dc_format_parse(&f, "docker", "--format"), DC_EUSAGE);
	dc_error_clear();
}

int main(void)
{
	T_RUN(test_config);
	T_RUN(test_dockercfg);
	T_RUN(test_empty_list);
	T_RUN(test_format_parse);
	return t_done();
}
