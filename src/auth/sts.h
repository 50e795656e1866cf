/* sts.h -- AWS STS AssumeRole and AssumeRoleWithWebIdentity (query protocol,
 * XML reply).
 *
 *   err = dc_sts_assume_role(&role, ctx, &keys, url, region, arn, "dcgen");
 *   err = dc_sts_assume(&role, ctx, &(dc_sts_req){ .in = &keys, .url = url,
 *                       .region = region, .role_arn = arn, .session = "dcgen",
 *                       .external_id = NULL });               signed
 *   err = dc_sts_assume(&role, ctx, &(dc_sts_req){ .url = url, .region = region,
 *                       .role_arn = arn, .session = "dcgen",
 *                       .web_token = jwt });                  unsigned
 *
 * AssumeRole is signed with `in`; AssumeRoleWithWebIdentity is unsigned, as
 * the SDKs send it (the token is the credential). `url` is
 * AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else https://sts.REGION.SUFFIX
 * (see dc_aws_endpoint). `out` gets the temporary key, secret and session
 * token (dc_sec values, so registered with ctx's redactor) and their expiry.
 * DC_ERR with STS's reason on failure: class DC_ECLASS_AUTH and upstream
 * code "AccessDenied" when STS refused the role (the message names `role_var`,
 * the variable or profile key the role came from); DC_ERR class
 * DC_ECLASS_REPLY when the credentials it sent hold control characters (they
 * would become HTTP headers).
 */
#ifndef DC_STS_H
#define DC_STS_H

#include "auth/aws.h"

typedef struct {
	const dc_aws_creds *in;  /* AssumeRole: the credentials that sign */
	const char *web_token;   /* AssumeRoleWithWebIdentity: the OIDC token (then in is NULL) */
	const char *url;
	const char *region;
	const char *role_arn;
	const char *session;
	const char *external_id; /* may be NULL */
	const char *role_var;    /* "AWS_STS_ROLE", "AWS_ROLE_ARN", "role_arn of profile 'x'" */
} dc_sts_req;

int dc_sts_assume(dc_aws_creds *out, dc_ctx *ctx, const dc_sts_req *req) DC_MUST_USE;
int dc_sts_assume_role(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_creds *in, const char *url, const char *region,
		       const char *role_arn, const char *session_name) DC_MUST_USE;

#endif
