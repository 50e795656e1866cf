/* test_error.c -- util/error: codes, classes, fields, and a message that
 * quotes the previous one (ASan catches a use after free there). */
#include <string.h>

#include "t.h"
#include "util/error.h"

static void test_classes_and_fields(void)
{
	CHECK_EQ_INT(dc_error_set(DC_EUSAGE, "AWS_REGION is not set"), DC_EUSAGE);
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_USAGE);
	CHECK_EQ_INT(dc_error_get()->code, DC_EUSAGE);
	CHECK_EQ_INT(dc_error_setc(DC_ERR, DC_ECLASS_HTTP, "ECR kept failing with HTTP %d", 503), DC_ERR);
	dc_error_fields(503, "ServiceUnavailable", 7);
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_HTTP);
	CHECK_EQ_INT(dc_error_get()->http_status, 503);
	CHECK_EQ_STR(dc_error_get()->upstream_code, "ServiceUnavailable");
	CHECK_EQ_INT(dc_error_get()->retry_after, 7);
	CHECK_EQ_STR(dc_error_get()->message, "ECR kept failing with HTTP 503");
	/* a new error starts with empty fields */
	CHECK_EQ_INT(dc_error_set(DC_ERR, "other"), DC_ERR);
	CHECK_EQ_INT(dc_error_get()->http_status, 0);
	CHECK_EQ_STR(dc_error_get()->upstream_code, "");
	CHECK_EQ_INT(dc_error_get()->retry_after, -1);
	CHECK_EQ_INT(dc_error_nomem(), DC_ERR);
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_NOMEM);
	dc_error_clear();
	CHECK_EQ_STR(dc_error_last(), "");
	CHECK_EQ_INT(dc_error_get()->code, 0);
}

static void test_wrapping_the_previous_message(void)
{
	dc_error_set(DC_EUSAGE, "cannot read key file 'codeship.aes': No such file or directory");
	dc_error_set(DC_EUSAGE, "'secret.env.encrypted' is encrypted but the key cannot be loaded: %s; pass --key-path",
		     dc_error_last());
	CHECK_EQ_STR(dc_error_last(), "'secret.env.encrypted' is encrypted but the key cannot be loaded: cannot read key file 'codeship.aes': No such file or directory; pass --key-path");
	dc_error_clear();
}

int main(void)
{
	T_RUN(test_classes_and_fields);
	T_RUN(test_wrapping_the_previous_message);
	return t_done();
}
