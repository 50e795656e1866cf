/* awsproc.c -- the AWS chain's JSON inputs: a credential_process program's
 * stdout (dc_aws_process_parse) and the container credentials endpoint's or
 * IMDS's reply (dc_aws_meta_parse). The first byte chooses. */
#include "auth/awschain.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_aws_creds creds = DC_AWS_CREDS_INIT;
	dc_ctx ctx;

	if (size < 1 || fuzz_ctx_init(&ctx) < 0)
		return 0;
	if (data[0] & 1)
		(void)!dc_aws_meta_parse(&creds, &ctx, (const char *)data + 1, size - 1, "the container endpoint");
	else
		(void)!dc_aws_process_parse(&creds, &ctx, (const char *)data + 1, size - 1,
					    "credential_process of profile 'dev'");
	dc_aws_creds_release(&creds);
	fuzz_ctx_release(&ctx);
	return 0;
}
