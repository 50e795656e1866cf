/* aws.h -- AWS credentials, endpoints, signed calls and error replies.
 *
 *   dc_aws_creds c = DC_AWS_CREDS_INIT;
 *   err = dc_aws_creds_from_env(&c, ctx);      AWS_ACCESS_KEY_ID, ...: checked
 *                                              now, secrets in dc_sec values
 *   err = dc_aws_endpoint_override(&url, ctx, "AWS_ENDPOINT_URL_ECR");
 *                                              the variable's URL, or DC_ENOTFOUND
 *   err = dc_aws_endpoint_default(&url, "api.ecr", region, 0);
 *                                              https://api.ecr.REGION.SUFFIX
 *   dc_aws_partition_of(region)->name          "aws", "aws-cn", ... for ARNs
 *   err = dc_aws_call(&resp, ctx, &c, &call);  SigV4-signed by libcurl
 *   if (resp.status != 200) return dc_aws_error(&resp, ctx, "ECR", url);
 *   dc_aws_creds_release(&c);                  wipes the secret and token
 *
 * Every value that becomes part of an HTTP header (the access key id, the
 * session token) is refused when it holds a control character: DC_EUSAGE
 * naming the variable when it came from the environment, DC_ERR when it came
 * from upstream (STS). The value itself is never quoted.
 */
#ifndef DC_AWS_H
#define DC_AWS_H

#include <time.h>

#include "util/buf.h"
#include "util/ctx.h"
#include "util/http.h"
#include "util/secret.h"

enum { DC_AWS_KEY_ID_MAX = 128, DC_AWS_TOKEN_MAX = 32768 };

typedef struct {
	char key_id[DC_AWS_KEY_ID_MAX + 1]; /* not secret: `cache list` shows it */
	dc_sec secret;
	dc_sec token;      /* session token; empty (ptr NULL) when none */
	time_t expires_at; /* 0 when unknown (long-term keys) */
} dc_aws_creds;

#define DC_AWS_CREDS_INIT { "", DC_SEC_INIT, DC_SEC_INIT, 0 }

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
 * DC_EUSAGE naming the variable that is missing or malformed: a key id is
 * 1 to 128 bytes without white space, control characters or ':' (no shape
 * check beyond: "test" is LocalStack's); a session token has no control
 * character. A secret that ends in a line break gets a warning. */
int dc_aws_creds_from_env(dc_aws_creds *out, dc_ctx *ctx) DC_MUST_USE;
/* Temporary credentials from upstream (`what`: "STS"). DC_ERR when a value
 * is empty, too long or holds a control character. */
int dc_aws_creds_set(dc_aws_creds *out, dc_ctx *ctx, const char *key_id, const char *secret, const char *token,
		     const char *what) DC_MUST_USE;
void dc_aws_creds_release(dc_aws_creds *c);

/* 1 when `r` is a plain region name: 1 to 32 of [a-z0-9-]. */
int dc_aws_region_valid(const char *r);
/* The region from AWS_REGION or AWS_DEFAULT_REGION, else `dflt` (may be NULL:
 * then *out is NULL). DC_EUSAGE when the variable is not a region name. */
int dc_aws_region(const char **out, const dc_env *env, const char *dflt) DC_MUST_USE;

/* A region's partition: its name in ARNs and the DNS suffixes of its
 * endpoints (dual_suffix: dual-stack endpoints, NULL when it has none).
 *   cn-*       aws-cn      amazonaws.com.cn  api.amazonwebservices.com.cn
 *   us-gov-*   aws-us-gov  amazonaws.com     api.aws
 *   us-iso-*   aws-iso     c2s.ic.gov
 *   us-isob-*  aws-iso-b   sc2s.sgov.gov
 *   eu-isoe-*  aws-iso-e   cloud.adc-e.uk
 *   us-isof-*  aws-iso-f   csp.hci.ic.gov
 *   eusc-*     aws-eusc    amazonaws.eu
 *   others     aws         amazonaws.com     api.aws
 * Never NULL; borrowed (static). */
typedef struct {
	const char *name;
	const char *dns_suffix;
	const char *dual_suffix;
} dc_aws_partition;

const dc_aws_partition *dc_aws_partition_of(const char *region);

/* The endpoint a variable names (`service_var`, else AWS_ENDPOINT_URL):
 * 0 with the URL (no trailing slash) in `out`, DC_ENOTFOUND (no message)
 * when neither is set, DC_EUSAGE naming the variable when it is not an http
 * or https URL or carries a user name or password (never repeated). Plain
 * http to another machine is allowed (CI sidecars such as LocalStack) with a
 * warning; `which` (may be NULL) gets the variable's name. */
int dc_aws_endpoint_override(dc_buf *out, const char **which, dc_ctx *ctx, const char *service_var) DC_MUST_USE;
/* AWS's own endpoint: https://PREFIX.REGION.SUFFIX, with the partition's
 * dual-stack suffix when `dualstack` and it has one. */
int dc_aws_endpoint_default(dc_buf *out, const char *prefix, const char *region, int dualstack) DC_MUST_USE;
/* The override if there is one, else the default for `prefix`. */
int dc_aws_endpoint(dc_buf *out, dc_ctx *ctx, const char *service_var, const char *prefix,
		    const char *region) DC_MUST_USE;

/* A signed POST. 0 when any HTTP answer came back (check out->status). */
int dc_aws_call(dc_http_resp *out, dc_ctx *ctx, const dc_aws_creds *c, const dc_aws_call_t *call) DC_MUST_USE;

/* Explain a non-2xx AWS reply (JSON or XML error): DC_ERR with the error
 * fields set (status, AWS's error code). Credential and permission refusals
 * (signature, unknown key, expired token, AccessDenied) have class
 * DC_ECLASS_AUTH; 5xx, 429 and throttling DC_ECLASS_HTTP; others
 * DC_ECLASS_REPLY. Upstream text is quoted through dc_log_clip. */
int dc_aws_error(const dc_http_resp *r, dc_ctx *ctx, const char *what, const char *url);

#endif
