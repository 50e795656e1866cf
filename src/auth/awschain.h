/* awschain.h -- where AWS credentials come from: the SDKs' default chain.
 *
 *   dc_aws_chain ch = DC_AWS_CHAIN_INIT;
 *   err = dc_aws_chain_parse(&ch, ctx);     reads variables and files, no network
 *   err = dc_aws_chain_key(&principal, &scope, &seal, &ch);   for the cache
 *   err = dc_aws_chain_creds(&creds, ctx, &ch);               network (fetch)
 *   dc_aws_chain_release(&ch);
 *
 * Order (botocore's create_credential_resolver; the other SDKs agree):
 *   1 environment    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *   2 profile role   role_arn with source_profile or credential_source
 *                    (Environment, Ec2InstanceMetadata, EcsContainer)
 *   3 web identity   AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *                    (+ AWS_ROLE_SESSION_NAME); or AWS_ROLE_ARN and the GitHub
 *                    Actions OIDC token (audience sts.amazonaws.com); then the
 *                    profile's web_identity_token_file + role_arn
 *   4 profile        aws_access_key_id in the credentials file,
 *                    credential_process, aws_access_key_id in the config file
 *   5 container      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI,
 *                    AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)
 *   6 IMDS           IMDSv2 (token PUT, then GETs) unless
 *                    AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
 * The profile is AWS_PROFILE (or AWS_DEFAULT_PROFILE), else "default", in
 * AWS_CONFIG_FILE (~/.aws/config) and AWS_SHARED_CREDENTIALS_FILE
 * (~/.aws/credentials). IAM Identity Center (sso_*) profiles are refused.
 *
 * parse picks the first source that applies from what is local (variables,
 * files): a misconfigured source is DC_EUSAGE naming it. Container and IMDS
 * apply without local evidence of credentials; IMDS is the last resort, so
 * `tried` records why each earlier source did not apply, and when IMDS gives
 * nothing either, dc_aws_chain_creds fails with ONE line naming every source
 * in order and why. IMDS calls have a 1 s deadline and one attempt
 * (AWS_METADATA_SERVICE_TIMEOUT, AWS_METADATA_SERVICE_NUM_ATTEMPTS), so off
 * a cloud the chain gives up within about a second.
 *
 * The principal (dc_aws_chain_key) is known locally: the access key id for
 * static keys (sealed with their secret); the role ARN for web identity and
 * for roles assumed from a profile (sealed with the source's static secret
 * if it has one); "credential_process:PROFILE" for a credential process; the
 * endpoint URL for the container endpoint and for IMDS (IMDS: the instance
 * role of one host, whatever its name); no seal but the cache's own key for
 * those without a static secret.
 */
#ifndef DC_AWSCHAIN_H
#define DC_AWSCHAIN_H

#include "auth/aws.h"
#include "auth/oidc.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/secret.h"

enum dc_aws_src {
	DC_AWS_SRC_NONE,
	DC_AWS_SRC_ENV,          /* static keys from the environment */
	DC_AWS_SRC_WEB_IDENTITY, /* a token file or the CI's OIDC token, then AssumeRoleWithWebIdentity */
	DC_AWS_SRC_KEYS,         /* static keys from a profile */
	DC_AWS_SRC_PROCESS,      /* credential_process */
	DC_AWS_SRC_CONTAINER,    /* ECS / EKS Pod Identity endpoint */
	DC_AWS_SRC_IMDS,         /* EC2 instance metadata, IMDSv2 */
};

enum { DC_AWS_MAX_ROLES = 8 };

typedef struct {
	char *arn;
	char *session;
	char *external_id; /* NULL when none */
	char *origin;      /* "role_arn of profile 'x'" */
} dc_aws_role;

typedef struct {
	enum dc_aws_src kind;
	char *name;             /* which source answered, for -v and messages */
	dc_aws_creds keys;      /* ENV, KEYS */
	/* WEB_IDENTITY */
	char *role_arn, *session;
	char *role_origin;      /* "AWS_ROLE_ARN", "role_arn of profile 'x'" */
	dc_sec web_token;       /* the token file's content; empty when the CI's token is fetched */
	dc_gha gha;             /* the CI's OIDC endpoint (url NULL when unused) */
	/* PROCESS */
	char *command;
	char *profile;          /* the profile a profile source came from */
	/* CONTAINER, IMDS */
	char *url;              /* container: the whole URL; IMDS: the endpoint */
	dc_sec auth;            /* container: the Authorization header's value */
	long meta_timeout_ms;
	int meta_attempts;
	int imds_v1;            /* fall back to IMDSv1 on 403/404/405 */
	/* roles assumed after the source, in order */
	dc_aws_role roles[DC_AWS_MAX_ROLES];
	size_t nroles;
	char region[33];        /* the profile's region ("" when none) */
	char *sts_url;          /* AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL, or NULL */
	dc_buf tried;           /* "environment: ...; web identity: ..." */
} dc_aws_chain;

#define DC_AWS_CHAIN_INIT { .keys = DC_AWS_CREDS_INIT, .web_token = DC_SEC_INIT, .gha = DC_GHA_INIT, \
			    .auth = DC_SEC_INIT, .tried = DC_BUF_INIT }

int dc_aws_chain_parse(dc_aws_chain *out, dc_ctx *ctx) DC_MUST_USE;
/* The cache identity: `principal` and `scope` appended to, `seal` set (or
 * left empty: the cache's own key). */
int dc_aws_chain_key(dc_buf *principal, dc_buf *scope, dc_sec *seal, const dc_aws_chain *c) DC_MUST_USE;
/* Credentials from the chosen source, roles assumed. STS is asked in
 * `region` (the job's; NULL: us-east-1) unless sts_url is set. */
int dc_aws_chain_creds(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_chain *c, const char *region) DC_MUST_USE;
void dc_aws_chain_release(dc_aws_chain *c);

/* The credential_process contract (exported for the unit tests): stdout JSON
 * {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?,
 * "Expiration"? (RFC 3339)}. DC_ERR naming `what` when the version is not 1,
 * a field is missing, the expiration is malformed or already past. */
int dc_aws_process_parse(dc_aws_creds *out, dc_ctx *ctx, const char *json, size_t len, const char *what) DC_MUST_USE;
/* The reply of a container endpoint or IMDS: {"AccessKeyId",
 * "SecretAccessKey", "Token", "Expiration"} (IMDS adds "Code": "Success"). */
int dc_aws_meta_parse(dc_aws_creds *out, dc_ctx *ctx, const char *json, size_t len, const char *what) DC_MUST_USE;
/* 1 when a container FULL_URI may be used: https, or http to a loopback
 * address, localhost, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]. */
int dc_aws_container_url_allowed(const char *url);

#endif
