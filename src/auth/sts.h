/* sts.h -- AWS STS AssumeRole (query protocol, XML reply).
 *
 *   err = dc_sts_assume_role(&role, ctx, &keys, url, region, arn, "dcgen");
 *
 * Signs with `in`, asks `url` (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else
 * https://sts.REGION.SUFFIX: see dc_aws_endpoint) for `role_arn`, and fills
 * `out` with the temporary key, secret and session token (dc_sec values, so
 * registered with ctx's redactor) and their expiry. DC_ERR with STS's reason
 * on failure: class DC_ECLASS_AUTH and upstream code "AccessDenied" when
 * STS refused the role; DC_ERR class DC_ECLASS_REPLY when the credentials it
 * sent hold control characters (they would become HTTP headers).
 */
#ifndef DC_STS_H
#define DC_STS_H

#include "auth/aws.h"

int dc_sts_assume_role(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_creds *in, const char *url, const char *region,
		       const char *role_arn, const char *session_name) DC_MUST_USE;

#endif
