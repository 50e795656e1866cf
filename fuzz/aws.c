/* aws.c -- AWS replies: ECR's and ECR Public's GetAuthorizationToken
 * (dc_ecr_reply_parse, as the ecr family's fetch calls it, for every host or
 * for one host's query) and any AWS error reply, JSON or XML (dc_aws_error).
 * The first byte chooses. */
#include "auth/aws.h"
#include "providers/provider.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_cred_list list = DC_CRED_LIST_INIT;
	dc_scope s;
	dc_ctx ctx;

	if (size < 1 || fuzz_ctx_init(&ctx) < 0)
		return 0;
	if (dc_buf_put(&resp.body, data + 1, size - 1) < 0)
		goto done;
	memset(&s, 0, sizeof(s));
	switch (data[0] % 4) {
	case 0: /* every configured host */
		resp.status = 200;
		memcpy(s.region, "us-east-1", sizeof("us-east-1"));
		(void)!dc_ecr_reply_parse(&list, &ctx, &resp, &s);
		break;
	case 1: /* one host's query */
		resp.status = 200;
		memcpy(s.host, "123456789012.dkr.ecr.us-east-1.amazonaws.com",
		       sizeof("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
		memcpy(s.region, "us-east-1", sizeof("us-east-1"));
		memcpy(s.account, "123456789012", sizeof("123456789012"));
		(void)!dc_ecr_reply_parse(&list, &ctx, &resp, &s);
		break;
	case 2:
		resp.status = 200;
		s.ecr_public = 1;
		memcpy(s.region, "us-east-1", sizeof("us-east-1"));
		(void)!dc_ecr_reply_parse(&list, &ctx, &resp, &s);
		break;
	default:
		/* 400-431, 500-531 */
		resp.status = data[0] / 4 < 32 ? 400 + data[0] / 4 : 500 + (data[0] / 4 - 32);
		(void)dc_aws_error(&resp, &ctx, "ECR", "https://api.ecr.us-east-1.amazonaws.com/");
		break;
	}
done:
	dc_cred_list_release(&list);
	dc_http_resp_release(&resp);
	fuzz_ctx_release(&ctx);
	return 0;
}
