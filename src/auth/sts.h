/* sts.h -- AWS STS AssumeRole (query protocol, XML reply).
 *
 * dc_sts_assume_role() signs with `in`, asks for `role_arn`, and fills `out`
 * with the temporary key, secret and session token (registered with the log
 * redactor). Endpoint: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else
 * https://sts.REGION.SUFFIX in the region's partition (amazonaws.com,
 * amazonaws.com.cn, ...; see dc_aws_partition_of), which `role_arn` must name
 * too. DC_ERR with STS's reason on failure.
 */
#ifndef DC_STS_H
#define DC_STS_H

#include "auth/aws.h"

int dc_sts_assume_role(dc_aws_creds *out, const dc_aws_creds *in, const dc_env *env, const char *region,
		       const char *role_arn, const char *session_name) DC_MUST_USE;

#endif
