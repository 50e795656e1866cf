/* ecr.c -- AWS ECR and ECR Public: GetAuthorizationToken, after an optional
 * STS AssumeRole. Variables as the classic Codeship ECR generator read them. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "auth/aws.h"
#include "auth/sts.h"
#include "providers/provider.h"
#include "util/codec.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "util/url.h"

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_PUBLIC_TARGET "SpencerFrontendService.GetAuthorizationToken"
#define ECR_PUBLIC_HOST "public.ecr.aws"
#define ECR_PUBLIC_REGION "us-east-1"

typedef struct {
	const char *region;
	int public;
	const char *role;
	const char *account;
	const char *ids; /* AWS_ECR_REGISTRY_IDS as given */
} ecr_opts;

static int truthy(const char *v)
{
	return v && strcmp(v, "0") && strcasecmp(v, "false") && strcasecmp(v, "no");
}

static int detect(const dc_env *env)
{
	return dc_env_get(env, "AWS_ACCESS_KEY_ID") || dc_env_get(env, "AWS_SECRET_ACCESS_KEY") ||
	       dc_env_get(env, "AWS_STS_ROLE") || dc_env_get(env, "AWS_ECR_REGISTRY_IDS") ||
	       dc_env_get(env, "ECR_PUBLIC");
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Fill `ids` with a JSON array of the registry ids, each checked. */
static int parse_ids(json_t *ids, const char *list)
{
	const char *p = list, *id;
	size_t n;

	while (dc_env_list_next(&p, &id, &n)) {
		if (n != 12 || !all_digits(id, n))
			return dc_error_set(DC_EUSAGE, "AWS_ECR_REGISTRY_IDS is '%s'; give 12-digit account ids separated by commas",
					    list);
		if (json_array_append_new(ids, json_stringn(id, n)) < 0)
			return dc_error_set(DC_ERR, "out of memory");
	}
	if (!json_array_size(ids))
		return dc_error_set(DC_EUSAGE, "AWS_ECR_REGISTRY_IDS is '%s'; give 12-digit account ids separated by commas", list);
	return 0;
}

static int parse_opts(ecr_opts *o, const dc_env *env)
{
	int err;

	memset(o, 0, sizeof(*o));
	o->public = truthy(dc_env_get(env, "ECR_PUBLIC"));
	/* ECR Public lives in us-east-1 whatever the job's region */
	if ((err = dc_aws_region(&o->region, env, o->public ? ECR_PUBLIC_REGION : NULL)) < 0)
		return err;
	o->role = dc_env_get(env, "AWS_STS_ROLE");
	o->account = dc_env_get(env, "AWS_STS_ACCOUNT");
	o->ids = dc_env_get(env, "AWS_ECR_REGISTRY_IDS");
	if (o->role && !o->account)
		return dc_error_set(DC_EUSAGE, "AWS_STS_ROLE is set but AWS_STS_ACCOUNT is not; set both to assume a role, or neither");
	if (o->account && !o->role)
		return dc_error_set(DC_EUSAGE, "AWS_STS_ACCOUNT is set but AWS_STS_ROLE is not; set both to assume a role, or neither");
	if (o->account && (strlen(o->account) != 12 || !all_digits(o->account, 12)))
		return dc_error_set(DC_EUSAGE, "AWS_STS_ACCOUNT is '%s', not a 12-digit account id; check it", o->account);
	if (o->role && (strlen(o->role) > 64 ||
			strspn(o->role, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-/") !=
				strlen(o->role)))
		return dc_error_set(DC_EUSAGE, "AWS_STS_ROLE is '%s', not a role name; give the name of the role (not its ARN)",
				    o->role);
	if (o->public && o->ids)
		return dc_error_set(DC_EUSAGE, "AWS_ECR_REGISTRY_IDS cannot be used with ECR_PUBLIC; ECR Public has one registry, unset one of them");
	/* the role is assumed in the region's partition, but ECR Public takes
	 * only credentials of the aws partition */
	if (o->public && o->role && strcmp(dc_aws_partition_of(o->region)->name, "aws"))
		return dc_error_set(DC_EUSAGE, "ECR_PUBLIC and AWS_STS_ROLE are set but the region '%s' is in partition %s; ECR Public exists only in the aws partition, so set AWS_REGION to an aws region such as us-east-1",
				    o->region, dc_aws_partition_of(o->region)->name);
	return 0;
}

/* The GetAuthorizationToken endpoint: AWS_ENDPOINT_URL_ECR(_PUBLIC), else
 * AWS_ENDPOINT_URL, else AWS's own for the region. */
static int endpoint(dc_buf *url, const dc_env *env, const ecr_opts *o)
{
	if (o->public)
		return dc_aws_endpoint(url, env, "AWS_ENDPOINT_URL_ECR_PUBLIC", "api.ecr-public", ECR_PUBLIC_REGION);
	return dc_aws_endpoint(url, env, "AWS_ENDPOINT_URL_ECR", "api.ecr", o->region);
}

/* Decode an authorizationToken (base64 "user:password") into a credential. */
static int add_token(dc_cred_list *out, const char *host, const char *token, time_t expires_at)
{
	dc_buf plain = DC_BUF_INIT;
	char *colon, when[32];
	int err;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if (dc_log_redact_add(token) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (dc_base64_decode(&plain, token, strlen(token)) < 0 || !(colon = strchr(plain.ptr, ':')) ||
	    strlen(plain.ptr) != plain.len) {
		err = dc_error_set(DC_ERR, "ECR sent an authorization token that is not base64 of 'user:password'; check the endpoint");
		goto done;
	}
	*colon = '\0';
	if ((err = dc_log_redact_add(colon + 1)) < 0 ||
	    (err = dc_cred_list_add(out, host, plain.ptr, colon + 1, expires_at)) < 0)
		goto done;
	if (expires_at && expires_at <= dc_time_now()) {
		dc_time_format(when, sizeof(when), expires_at);
		dc_log_warn("the token for '%s' expired already (%s), as it arrived; writing it anyway", host, when);
	}
done:
	dc_buf_release(&plain);
	return err;
}

#define MAX_LIFETIME (10 * 365.25 * 86400) /* seconds; ECR's tokens last 12 hours */

/* expiresAt (seconds since the epoch, a JSON number), or 0 when the token's
 * expiry is unknown: absent, or not a time in the next ten years (a value
 * time_t cannot hold would be undefined behaviour to convert). Warns once
 * per reply, through `*warned`. */
static time_t expiry_of(const json_t *data, const char *what, int *warned)
{
	json_t *e = json_object_get(data, "expiresAt");
	double v;

	if (!json_is_number(e))
		return 0;
	v = json_number_value(e);
	if (v > 0 && v < (double)dc_time_now() + MAX_LIFETIME)
		return (time_t)v;
	if (!*warned)
		dc_log_warn("%s sent an expiresAt of %g, not a time in the next ten years; treating the token's expiry as unknown",
			    what, v);
	*warned = 1;
	return 0;
}

static int parse_private(dc_cred_list *out, const dc_http_resp *resp)
{
	json_t *doc = NULL, *list, *item;
	dc_buf host = DC_BUF_INIT;
	size_t i;
	int err, warned = 0;

	if ((err = dc_json_parse_object(&doc, resp->body.ptr, resp->body.len, "ECR")) < 0)
		return err;
	list = json_object_get(doc, "authorizationData");
	if (!json_is_array(list) || !json_array_size(list)) {
		err = dc_error_set(DC_ERR, "ECR answered without authorizationData; check AWS_ECR_REGISTRY_IDS and the endpoint");
		goto done;
	}
	json_array_foreach(list, i, item) {
		const char *token = dc_json_str(item, "authorizationToken");
		const char *proxy = dc_json_str(item, "proxyEndpoint");

		if (!token || !proxy) {
			err = dc_error_set(DC_ERR, "ECR answered with an entry lacking authorizationToken or proxyEndpoint; check the endpoint");
			goto done;
		}
		dc_buf_reset(&host);
		if ((err = dc_host_from_url(&host, proxy)) < 0) {
			err = dc_error_set(DC_ERR, "ECR answered with a proxyEndpoint '%s' that names no host", proxy);
			goto done;
		}
		if ((err = add_token(out, host.ptr, token, expiry_of(item, "ECR", &warned))) < 0)
			goto done;
	}
done:
	dc_buf_release(&host);
	json_decref(doc);
	return err;
}

static int parse_public(dc_cred_list *out, const dc_http_resp *resp)
{
	json_t *doc = NULL, *data;
	const char *token;
	int err, warned = 0;

	if ((err = dc_json_parse_object(&doc, resp->body.ptr, resp->body.len, "ECR Public")) < 0)
		return err;
	data = json_object_get(doc, "authorizationData");
	token = dc_json_str(data, "authorizationToken");
	if (!token)
		err = dc_error_set(DC_ERR, "ECR Public answered without authorizationData.authorizationToken; check AWS_ENDPOINT_URL_ECR_PUBLIC");
	else
		err = add_token(out, ECR_PUBLIC_HOST, token, expiry_of(data, "ECR Public", &warned));
	json_decref(doc);
	return err;
}

static int fetch(dc_cred_list *out, const dc_env *env)
{
	dc_aws_creds keys = DC_AWS_CREDS_INIT, role = DC_AWS_CREDS_INIT;
	const dc_aws_creds *use = &keys;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_buf url = DC_BUF_INIT, arn = DC_BUF_INIT, body = DC_BUF_INIT;
	json_t *req = NULL, *ids = NULL;
	const char *what;
	ecr_opts o;
	int err;

	if ((err = parse_opts(&o, env)) < 0 || (err = dc_aws_creds_from_env(&keys, env)) < 0)
		goto done;
	what = o.public ? "ECR Public" : "ECR";
	if (!(req = json_object()) || !(ids = json_array())) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (o.ids && ((err = parse_ids(ids, o.ids)) < 0 || (err = json_object_set(req, "registryIds", ids)) < 0))
		goto done;
	if ((err = dc_json_dump(&body, req)) < 0)
		goto done;
	if ((err = endpoint(&url, env, &o)) < 0 || (err = dc_buf_puts(&url, "/")) < 0)
		goto done;

	if (o.role) {
		if (dc_buf_printf(&arn, "arn:%s:iam::%s:role/%s", dc_aws_partition_of(o.region)->name, o.account,
				  o.role) < 0) {
			err = dc_error_set(DC_ERR, "out of memory");
			goto done;
		}
		if ((err = dc_sts_assume_role(&role, &keys, env, o.region, arn.ptr, "dcgen")) < 0)
			goto done;
		use = &role;
	}
	if ((err = dc_aws_call(&resp, use, &(dc_aws_call_t){
			.url = url.ptr,
			.region = o.public ? ECR_PUBLIC_REGION : o.region,
			.service = o.public ? "ecr-public" : "ecr",
			.content_type = "application/x-amz-json-1.1",
			.target = o.public ? ECR_PUBLIC_TARGET : ECR_TARGET,
			.body = body.ptr,
			.body_len = body.len,
			.what = what,
		})) < 0)
		goto done;
	if (resp.status != 200) {
		err = dc_aws_error(&resp, what);
		goto done;
	}
	err = o.public ? parse_public(out, &resp) : parse_private(out, &resp);
done:
	dc_http_resp_release(&resp);
	dc_aws_creds_release(&keys);
	dc_aws_creds_release(&role);
	dc_buf_release(&url);
	dc_buf_release(&arn);
	dc_buf_release(&body);
	json_decref(ids);
	json_decref(req);
	return err;
}

static int cache_identity(dc_buf *out, const dc_env *env)
{
	ecr_opts o;
	dc_buf url = DC_BUF_INIT;
	int err;

	if ((err = parse_opts(&o, env)) < 0)
		return err;
	if ((err = endpoint(&url, env, &o)) == 0) {
		const char *sts = dc_env_get(env, "AWS_ENDPOINT_URL_STS");
		const char *token = dc_env_get(env, "AWS_SESSION_TOKEN");

		/* the source credential is part of the identity: two keys never
		 * share an entry, and the cache seals entries with it */
		dc_buf_printf(out, "ecr\nendpoint=%s\nregion=%s\npublic=%d\nregistry_ids=%s\nrole=%s\naccount=%s\nsts=%s\n"
			      "key_id=%s\nsecret=%s\ntoken=%s\n",
			      url.ptr, o.region, o.public, o.ids ? o.ids : "", o.role ? o.role : "",
			      o.account ? o.account : "", sts ? sts : "", dc_env_get(env, "AWS_ACCESS_KEY_ID") ?: "",
			      dc_env_get(env, "AWS_SECRET_ACCESS_KEY") ?: "", token ? token : "");
	}
	dc_buf_release(&url);
	if (err == 0 && dc_buf_failed(out))
		err = dc_error_set(DC_ERR, "out of memory");
	return err;
}

const dc_provider dc_provider_ecr = {
	.name = "ecr",
	.summary = "AWS ECR and ECR Public (GetAuthorizationToken, optional STS AssumeRole)",
	.variables = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_STS_ROLE, AWS_ECR_REGISTRY_IDS, ECR_PUBLIC",
	.detect = detect,
	.fetch = fetch,
	.cache_identity = cache_identity,
};
