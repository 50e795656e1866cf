/* aws.h -- AWS credentials, endpoints, signed calls and error replies.
 *
 *   dc_aws_creds c = DC_AWS_CREDS_INIT;
 *   dc_aws_creds_from_env(&c, env);            AWS_ACCESS_KEY_ID, ...
 *   dc_aws_endpoint(&url, env, "AWS_ENDPOINT_URL_ECR", "api.ecr", region);
 *   dc_aws_partition_of(region)->name          "aws", "aws-cn", ... for ARNs
 *   dc_aws_call(&resp, &c, &call);             SigV4-signed by libcurl
 *   if (resp.status != 200) return dc_aws_error(&resp, "ECR");
 *   dc_aws_creds_release(&c);                  wipes the secret and token
 *
 * Secrets are registered with the log redactor as soon as they are read.
 */
#ifndef DC_AWS_H
#define DC_AWS_H

#include <time.h>

#include "util/buf.h"
#include "util/env.h"
#include "util/http.h"

typedef struct {
	char *key_id;
	char *secret;
	char *token;       /* session token, or NULL */
	time_t expires_at; /* 0 when unknown (long-term keys) */
} dc_aws_creds;

#define DC_AWS_CREDS_INIT { NULL, NULL, NULL, 0 }

typedef struct {
	const char *url;
	const char *region;
	const char *service;      /* signing name: "ecr", "ecr-public", "sts" */
	const char *content_type;
	const char *target;       /* X-Amz-Target for JSON protocols, or NULL */
	const char *body;
	size_t body_len;
	const char *what;         /* "ECR", "STS" in messages */
} dc_aws_call_t;

/* From AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
 * DC_EUSAGE naming the variable that is missing. */
int dc_aws_creds_from_env(dc_aws_creds *out, const dc_env *env) DC_MUST_USE;
int dc_aws_creds_set(dc_aws_creds *out, const char *key_id, const char *secret, const char *token) DC_MUST_USE;
void dc_aws_creds_release(dc_aws_creds *c);

/* The region from AWS_REGION or AWS_DEFAULT_REGION, else `dflt` (may be NULL:
 * then DC_EUSAGE). Checked to be a plain region name. Borrowed. */
int dc_aws_region(const char **out, const dc_env *env, const char *dflt) DC_MUST_USE;

/* A region's partition: its name in ARNs and the DNS suffix of its endpoints.
 *   cn-*       aws-cn      amazonaws.com.cn
 *   us-gov-*   aws-us-gov  amazonaws.com
 *   us-iso-*   aws-iso     c2s.ic.gov
 *   us-isob-*  aws-iso-b   sc2s.sgov.gov
 *   others     aws         amazonaws.com
 * Never NULL; borrowed (static). */
typedef struct {
	const char *name;
	const char *dns_suffix;
} dc_aws_partition;

const dc_aws_partition *dc_aws_partition_of(const char *region);

/* The endpoint URL: the service variable, else AWS_ENDPOINT_URL, else
 * https://DFLT_SERVICE.REGION.SUFFIX with the region's partition's suffix.
 * No trailing slash. DC_EUSAGE naming the variable when it is not an http or
 * https URL or carries a user name or password (which is not repeated). Plain
 * http to a host other than this machine is allowed (CI sidecars such as
 * LocalStack) with one warning per variable. */
int dc_aws_endpoint(dc_buf *out, const dc_env *env, const char *service_var, const char *dflt_service,
		    const char *region) DC_MUST_USE;

/* A signed POST. 0 when any HTTP answer came back (check out->status). */
int dc_aws_call(dc_http_resp *out, const dc_aws_creds *c, const dc_aws_call_t *call) DC_MUST_USE;

/* Turn a non-2xx AWS reply (JSON or XML error) into a one-line message with a
 * remedy; returns DC_ERR. */
int dc_aws_error(const dc_http_resp *r, const char *what);

#endif
