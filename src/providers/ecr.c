/* ecr.c -- AWS ECR and ECR Public: GetAuthorizationToken, after an optional
 * STS AssumeRole. Variables as the classic Codeship ECR generator read them.
 *
 * Hosts are matched as amazon-ecr-credential-helper matches them
 * (ecr-login/api/client.go): ACCOUNT.dkr.ecr[-fips].REGION.SUFFIX or the
 * dual-stack ACCOUNT.dkr-ecr[-fips].REGION.on.aws, in every partition, and
 * ECR Public's public.ecr.aws and ecr-public.aws.com. The host names the
 * account (asked for as registryIds=[ACCOUNT]), the region (the API's
 * region), FIPS (the API's FIPS endpoint) and dual-stack (its dual-stack
 * endpoint); AWS_ENDPOINT_URL(_ECR) still override the endpoint. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/aws.h"
#include "auth/awschain.h"
#include "auth/sts.h"
#include "providers/hostlist.h"
#include "providers/provider.h"
#include "util/codec.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "util/url.h"

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_PUBLIC_TARGET "SpencerFrontendService.GetAuthorizationToken"
#define ECR_PUBLIC_HOST "public.ecr.aws"
#define ECR_PUBLIC_DUAL_HOST "ecr-public.aws.com"
#define ECR_PUBLIC_REGION "us-east-1"
#define MAX_IDS 10 /* GetAuthorizationToken's limit */
#define MAX_LIFETIME (10 * 365.25 * 86400) /* seconds; ECR's tokens last 12 hours */

typedef struct {
	dc_aws_chain chain; /* where the AWS credentials come from (auth/awschain.h) */
	char region[33];  /* AWS_REGION or AWS_DEFAULT_REGION; "" when unset */
	int public;       /* ECR_PUBLIC */
	char role[65];    /* AWS_STS_ROLE; "" when unset */
	char account[13]; /* AWS_STS_ACCOUNT */
	dc_hostlist ids;  /* AWS_ECR_REGISTRY_IDS: 12-digit ids, at most 10 */
	dc_buf ecr_url;   /* endpoint overrides; empty when unset */
	dc_buf public_url;
	dc_buf sts_url;
} ecr_cfg;

/* R20: ECR_PUBLIC is a switch: 1 when on, 0 when off, -1 when neither. */
static int switch_value(const char *v)
{
	static const char *const on[] = { "1", "true", "yes", "on", NULL }, *const off[] = { "0", "false", "no", "off", NULL };
	const char *const *p;

	for (p = on; *p; p++)
		if (!strcasecmp(v, *p))
			return 1;
	for (p = off; *p; p++)
		if (!strcasecmp(v, *p))
			return 0;
	return -1;
}

static int detect(const dc_env *env)
{
	const char *pub = dc_env_get(env, "ECR_PUBLIC");

	/* AWS_ROLE_ARN and AWS_PROFILE are choices a user makes; the
	 * container, IMDS and IRSA's token file are ambient (a pod or an
	 * instance has them whatever registry it uses): DCGEN_PROVIDER=ecr */
	return dc_env_get(env, "AWS_ACCESS_KEY_ID") || dc_env_get(env, "AWS_SECRET_ACCESS_KEY") ||
	       dc_env_get(env, "AWS_ROLE_ARN") || dc_env_get(env, "AWS_PROFILE") ||
	       dc_env_get(env, "AWS_STS_ROLE") || dc_env_get(env, "AWS_ECR_REGISTRY_IDS") ||
	       (pub && switch_value(pub) != 0);
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int ids_error(const char *list, const char *why)
{
	return dc_error_set(DC_EUSAGE, "AWS_ECR_REGISTRY_IDS is '%s'%s; give up to %d 12-digit account ids separated by commas",
			    list, why, MAX_IDS);
}

/* R18: 12-digit ids, duplicates collapsed, at most MAX_IDS. */
static int parse_ids(dc_hostlist *ids, const char *list)
{
	const char *p = list, *id;
	size_t n;
	int err;

	while (dc_env_list_next(&p, &id, &n)) {
		if (n != 12 || !all_digits(id, n))
			return ids_error(list, "");
		if ((err = dc_hostlist_add(ids, id, n)) < 0)
			return err;
		if (ids->n > MAX_IDS)
			return ids_error(list, ", more ids than ECR takes in one request");
	}
	if (!ids->n)
		return ids_error(list, "");
	return 0;
}

static void release(void *p)
{
	ecr_cfg *c = p;

	if (!c)
		return;
	dc_aws_chain_release(&c->chain);
	dc_hostlist_release(&c->ids);
	dc_buf_release(&c->ecr_url);
	dc_buf_release(&c->public_url);
	dc_buf_release(&c->sts_url);
	free(c);
}

/* The endpoint `var` names, else AWS_ENDPOINT_URL's (`general`, checked
 * once, so that a plain-http warning about it comes once). */
static int override(dc_buf *out, dc_ctx *ctx, const char *var, const dc_buf *general)
{
	int err;

	if (!dc_env_get(ctx->env, var))
		return dc_buf_puts(out, general->ptr) < 0 ? dc_error_nomem() : 0;
	err = dc_aws_endpoint_override(out, NULL, ctx, var);
	return err == DC_ENOTFOUND ? 0 : err;
}

static int parse_opts(ecr_cfg *c, dc_ctx *ctx)
{
	const dc_env *env = ctx->env;
	const char *pub = dc_env_get(env, "ECR_PUBLIC");
	const char *role = dc_env_get(env, "AWS_STS_ROLE");
	const char *account = dc_env_get(env, "AWS_STS_ACCOUNT");
	const char *ids = dc_env_get(env, "AWS_ECR_REGISTRY_IDS");
	const char *region;
	dc_buf general = DC_BUF_INIT;
	int err;

	if (pub && (c->public = switch_value(pub)) < 0)
		return dc_error_set(DC_EUSAGE, "ECR_PUBLIC is '%s', neither on nor off; set it to 1, true, yes or on for ECR Public, or 0, false, no or off (or unset it) for private ECR",
				    pub);
	c->public = c->public > 0;
	if ((err = dc_aws_region(&region, env, NULL)) < 0)
		return err;
	if (region)
		snprintf(c->region, sizeof(c->region), "%s", region);
	if (role && !account)
		return dc_error_set(DC_EUSAGE, "AWS_STS_ROLE is set but AWS_STS_ACCOUNT is not; set both to assume a role, or neither");
	if (account && !role)
		return dc_error_set(DC_EUSAGE, "AWS_STS_ACCOUNT is set but AWS_STS_ROLE is not; set both to assume a role, or neither");
	if (account && (strlen(account) != 12 || !all_digits(account, 12)))
		return dc_error_set(DC_EUSAGE, "AWS_STS_ACCOUNT is '%s', not a 12-digit account id; check it", account);
	if (role && (strlen(role) > 64 ||
		     strspn(role, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-/") != strlen(role))) {
		return dc_error_set(DC_EUSAGE, "AWS_STS_ROLE is '%s', not a role name; give the name of the role (not its ARN)",
				    role);
	}
	if (role) {
		snprintf(c->role, sizeof(c->role), "%s", role);
		snprintf(c->account, sizeof(c->account), "%s", account);
	}
	if (c->public && ids)
		return dc_error_set(DC_EUSAGE, "AWS_ECR_REGISTRY_IDS cannot be used with ECR_PUBLIC; ECR Public has one registry, unset one of them");
	if (ids && (err = parse_ids(&c->ids, ids)) < 0)
		return err;
	/* the role is assumed in the region's partition, but ECR Public takes
	 * only credentials of the aws partition */
	if (c->public && *c->role && *c->region && strcmp(dc_aws_partition_of(c->region)->name, "aws"))
		return dc_error_set(DC_EUSAGE, "ECR_PUBLIC and AWS_STS_ROLE are set but the region '%s' is in partition %s; ECR Public exists only in the aws partition, so set AWS_REGION to an aws region such as us-east-1",
				    c->region, dc_aws_partition_of(c->region)->name);
	/* ECR Public's is read even when ECR_PUBLIC is off: a host query may
	 * ask for public.ecr.aws */
	err = dc_aws_endpoint_override(&general, NULL, ctx, "AWS_ENDPOINT_URL");
	if ((err == 0 || err == DC_ENOTFOUND) && (err = override(&c->ecr_url, ctx, "AWS_ENDPOINT_URL_ECR", &general)) == 0 &&
	    (err = override(&c->public_url, ctx, "AWS_ENDPOINT_URL_ECR_PUBLIC", &general)) == 0 && *c->role)
		err = override(&c->sts_url, ctx, "AWS_ENDPOINT_URL_STS", &general);
	dc_buf_release(&general);
	return err;
}

static int parse(void **out, dc_ctx *ctx)
{
	ecr_cfg *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return dc_error_nomem();
	c->ecr_url = c->public_url = c->sts_url = (dc_buf)DC_BUF_INIT;
	c->chain = (dc_aws_chain)DC_AWS_CHAIN_INIT;
	/* the credentials first: their checks name the variables a user sets
	 * first; no network here (a cache hit must not probe metadata) */
	if ((err = dc_aws_chain_parse(&c->chain, ctx)) < 0 || (err = parse_opts(c, ctx)) < 0) {
		release(c);
		return err;
	}
	if (!*c->region && *c->chain.region)
		snprintf(c->region, sizeof(c->region), "%s", c->chain.region);
	dc_log_debug(&ctx->log, "ecr: AWS credentials will come from %s", c->chain.name);
	*out = c;
	return 0;
}

/* ---- hosts ---- */

static const char *const private_suffixes[] = {
	"amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", "on.aws", "on.amazonwebservices.com.cn",
	"sc2s.sgov.gov", "c2s.ic.gov", "cloud.adc-e.uk", "csp.hci.ic.gov", NULL,
};

/* ^(\d{12})\.dkr[\.\-]ecr(\-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(SUFFIXES)$
 * on the host name (a port is not part of it). */
static int match_private(const char *h, size_t n, dc_scope *s)
{
	const char *p = h, *end = h + n, *region;
	const char *const *suf;
	size_t rn;
	int dual, fips = 0;

	if (n < 13 || !all_digits(p, 12) || p[12] != '.')
		return 0;
	p += 13;
	if ((size_t)(end - p) < 8 || strncmp(p, "dkr", 3) || (p[3] != '.' && p[3] != '-') || strncmp(p + 4, "ecr", 3))
		return 0;
	dual = p[3] == '-';
	p += 7;
	if ((size_t)(end - p) >= 5 && !strncmp(p, "-fips", 5)) {
		fips = 1;
		p += 5;
	}
	if (p >= end || *p != '.')
		return 0;
	region = ++p;
	if (p >= end || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", *p))
		return 0;
	while (p < end && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", *p) && *p)
		p++;
	rn = (size_t)(p - region);
	if (p >= end || *p != '.' || rn >= sizeof(s->region))
		return 0;
	p++;
	for (suf = private_suffixes; *suf; suf++)
		if (strlen(*suf) == (size_t)(end - p) && !strncmp(p, *suf, (size_t)(end - p)))
			break;
	if (!*suf)
		return 0;
	memcpy(s->account, h, 12);
	s->account[12] = '\0';
	memcpy(s->region, region, rn);
	s->region[rn] = '\0';
	s->fips = (unsigned)fips;
	s->dualstack = (unsigned)dual;
	return 1;
}

/* The host name of "host[:port]" (a bracketed v6 literal is no ECR host). */
static size_t name_len(const char *host)
{
	return strcspn(host, ":");
}

static int match_host(const char *host, dc_scope *s)
{
	size_t n = name_len(host);

	memset(s, 0, sizeof(*s));
	if (strlen(host) >= sizeof(s->host) || (host[n] && !dc_url_host_valid(host, strlen(host))))
		return 0;
	if ((n == strlen(ECR_PUBLIC_HOST) && !strncmp(host, ECR_PUBLIC_HOST, n)) ||
	    (n == strlen(ECR_PUBLIC_DUAL_HOST) && !strncmp(host, ECR_PUBLIC_DUAL_HOST, n))) {
		s->ecr_public = 1;
		s->dualstack = host[0] == 'e';
		snprintf(s->region, sizeof(s->region), "%s", ECR_PUBLIC_REGION);
	} else if (!match_private(host, n, s)) {
		memset(s, 0, sizeof(*s));
		return 0;
	}
	snprintf(s->host, sizeof(s->host), "%s", host);
	return 1;
}

static int match(const void *cfg, const char *host, dc_scope *scope)
{
	dc_scope s;

	(void)cfg;
	if (!match_host(host, &s))
		return 0;
	if (scope)
		*scope = s;
	return 1;
}

static void scope_all(const void *cfg, dc_scope *s)
{
	const ecr_cfg *c = cfg;

	memset(s, 0, sizeof(*s));
	s->ecr_public = (unsigned)c->public;
	/* ECR Public lives in us-east-1 whatever the job's region */
	snprintf(s->region, sizeof(s->region), "%s", c->public ? ECR_PUBLIC_REGION : c->region);
}

static int offline(const void *cfg)
{
	(void)cfg;
	return 0;
}

/* ---- endpoints and identity ---- */

/* The region STS is asked in: the keys' own partition. For ECR Public that
 * is the configured region (its API is in us-east-1 whatever the job's). */
static const char *sts_region(const ecr_cfg *c, const dc_scope *s)
{
	if (s->ecr_public)
		return *c->region ? c->region : ECR_PUBLIC_REGION;
	return s->region;
}

static int endpoint(dc_buf *out, const ecr_cfg *c, const dc_scope *s)
{
	const dc_buf *set = s->ecr_public ? &c->public_url : &c->ecr_url;

	if (set->len)
		return dc_buf_puts(out, set->ptr) < 0 ? dc_error_nomem() : 0;
	if (s->ecr_public)
		return dc_aws_endpoint_default(out, s->dualstack ? "ecr-public" : "api.ecr-public", ECR_PUBLIC_REGION,
					       s->dualstack);
	return dc_aws_endpoint_default(out, s->fips ? "ecr-fips" : s->dualstack ? "ecr" : "api.ecr", s->region,
				       s->dualstack);
}

static int sts_endpoint(dc_buf *out, const ecr_cfg *c, const dc_scope *s)
{
	if (c->sts_url.len)
		return dc_buf_puts(out, c->sts_url.ptr) < 0 ? dc_error_nomem() : 0;
	return dc_aws_endpoint_default(out, "sts", sts_region(c, s), 0);
}

static int role_arn(dc_buf *out, const ecr_cfg *c, const dc_scope *s)
{
	if (dc_buf_printf(out, "arn:%s:iam::%s:role/%s", dc_aws_partition_of(sts_region(c, s))->name, c->account,
			  c->role) < 0)
		return dc_error_nomem();
	return 0;
}

/* "id1,id2" of the request: the host's account, else AWS_ECR_REGISTRY_IDS. */
static void ids_text(dc_buf *out, const ecr_cfg *c, const dc_scope *s)
{
	size_t i;

	if (*s->account) {
		dc_buf_puts(out, s->account);
		return;
	}
	for (i = 0; i < c->ids.n; i++)
		dc_buf_printf(out, "%s%s", i ? "," : "", c->ids.items[i]);
}

static int cache_key(dc_cache_key *out, const void *cfg, const dc_scope *s)
{
	const ecr_cfg *c = cfg;
	dc_buf url = DC_BUF_INIT, sts = DC_BUF_INIT, ids = DC_BUF_INIT, src = DC_BUF_INIT;
	int err;

	if (!*s->region) /* fetch refuses it: AWS_REGION is not set */
		return 0;
	out->family = "ecr";
	/* rotating session credentials of one principal share an entry: the
	 * session token is not part of the key; with AWS_STS_ROLE the role is
	 * the principal and the chain's principal part of the scope */
	if (*c->role) {
		if ((err = role_arn(&out->principal, c, s)) < 0 ||
		    (err = dc_aws_chain_key(&src, &out->scope, &out->seal, &c->chain)) < 0)
			goto done;
		dc_buf_printf(&out->scope, "source_principal=%s\n", src.ptr);
	} else if ((err = dc_aws_chain_key(&out->principal, &out->scope, &out->seal, &c->chain)) < 0) {
		goto done;
	}
	if ((err = endpoint(&url, c, s)) < 0 || (*c->role && (err = sts_endpoint(&sts, c, s)) < 0))
		goto done;
	ids_text(&ids, c, s);
	dc_buf_printf(&out->scope, "endpoint=%s\nregion=%s\nregistry_ids=%s\npublic=%d\nsts=%s\nhost=%s\nfips=%d\ndualstack=%d\n",
		      url.ptr, s->region, ids.ptr, s->ecr_public, sts.ptr, s->host, s->fips, s->dualstack);
	if (dc_buf_failed(&out->scope) || dc_buf_failed(&ids))
		err = dc_error_nomem();
done:
	dc_buf_release(&url);
	dc_buf_release(&sts);
	dc_buf_release(&ids);
	dc_buf_release(&src);
	return err < 0 ? err : 1;
}

/* ---- replies ---- */

/* Decode an authorizationToken (base64 "user:password") into a credential. */
static int add_token(dc_cred_list *out, dc_ctx *ctx, const char *host, const char *token, time_t expires_at,
		     const char *what)
{
	dc_buf plain = DC_BUF_INIT;
	char *colon, when[32];
	int err;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if ((err = dc_redactor_add(ctx->redactor, token, strlen(token))) < 0)
		goto done;
	if (dc_base64_decode(&plain, token, strlen(token)) < 0 || !(colon = strchr(plain.ptr, ':')) ||
	    strlen(plain.ptr) != plain.len) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "%s sent an authorization token that is not base64 of 'user:password'; check the endpoint", what);
		goto done;
	}
	*colon = '\0';
	if ((err = dc_redactor_add(ctx->redactor, colon + 1, strlen(colon + 1))) < 0 ||
	    (err = dc_cred_list_add(out, host, plain.ptr, colon + 1, expires_at)) < 0)
		goto done;
	if (expires_at && expires_at <= dc_ctx_now(ctx)) {
		dc_time_format(when, sizeof(when), expires_at);
		dc_log_warn(&ctx->log, "the token for '%s' expired already (%s), as it arrived; writing it anyway", host, when);
	}
done:
	dc_buf_release(&plain);
	return err;
}

/* expiresAt (seconds since the epoch, a JSON number), or 0 when the token's
 * expiry is unknown: absent, not a number, or not a time in the next ten
 * years (a value time_t cannot hold would be undefined behaviour to
 * convert). Warns once per reply, through `*warned`, naming what it got. */
static time_t expiry_of(dc_ctx *ctx, const json_t *data, const char *what, int *warned)
{
	json_t *e = json_object_get(data, "expiresAt");
	double v;

	if (!e)
		return 0;
	if (json_is_number(e)) {
		v = json_number_value(e);
		if (v > 0 && v < (double)dc_ctx_now(ctx) + MAX_LIFETIME)
			return (time_t)v;
		if (!*warned) {
			if (v > -9e18 && v < 9e18)
				dc_log_warn(&ctx->log, "%s sent an expiresAt of %lld, not a time in the next ten years; treating the token's expiry as unknown",
					    what, (long long)v);
			else
				dc_log_warn(&ctx->log, "%s sent an expiresAt too large to be a time; treating the token's expiry as unknown",
					    what);
		}
	} else if (!*warned) {
		dc_log_warn(&ctx->log, "%s sent an expiresAt that is %s, not a number of seconds; treating the token's expiry as unknown",
			    what, json_is_string(e) ? "a string" : "neither a number nor a string");
	}
	*warned = 1;
	return 0;
}

/* The host of a proxyEndpoint, validated as strictly as DOCKER_REGISTRY.
 * The message quotes it only clipped (control characters become spaces). */
static int proxy_host(dc_buf *host, dc_ctx *ctx, const char *proxy)
{
	char shown[120];

	if (dc_url_has_userinfo(proxy))
		return dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				     "ECR answered with a proxyEndpoint that holds a user name or password; check the endpoint");
	if (dc_host_from_url(host, proxy) < 0 || !dc_url_host_valid(host->ptr, host->len)) {
		dc_log_clip(ctx->redactor, shown, sizeof(shown), proxy);
		return dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				     "ECR answered with a proxyEndpoint '%s' that names no valid host; check the endpoint", shown);
	}
	return 0;
}

static int parse_private(dc_cred_list *out, dc_ctx *ctx, const dc_http_resp *resp, const dc_scope *s)
{
	json_t *doc = NULL, *list, *item;
	dc_buf host = DC_BUF_INIT;
	size_t i;
	int err, warned = 0, found = 0;

	if ((err = dc_json_parse_object(&doc, resp->body.ptr, resp->body.len, "ECR")) < 0)
		return err;
	list = json_object_get(doc, "authorizationData");
	if (!json_is_array(list) || !json_array_size(list)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "ECR answered without authorizationData; check AWS_ECR_REGISTRY_IDS and the endpoint");
		goto done;
	}
	json_array_foreach(list, i, item) {
		const char *token = dc_json_str(item, "authorizationToken");
		const char *proxy = dc_json_str(item, "proxyEndpoint");
		dc_scope got;

		if (!token || !proxy) {
			err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
					    "ECR answered with an entry lacking authorizationToken or proxyEndpoint; check the endpoint");
			goto done;
		}
		dc_buf_reset(&host);
		if ((err = proxy_host(&host, ctx, proxy)) < 0)
			goto done;
		if (*s->host) {
			/* a host query: only the registry that was asked for, written
			 * under the name it was asked by (dual-stack, FIPS) */
			if (!match_host(host.ptr, &got) || strcmp(got.account, s->account) || strcmp(got.region, s->region))
				continue;
			found = 1;
			err = add_token(out, ctx, s->host, token, expiry_of(ctx, item, "ECR", &warned), "ECR");
		} else {
			err = add_token(out, ctx, host.ptr, token, expiry_of(ctx, item, "ECR", &warned), "ECR");
		}
		if (err < 0)
			goto done;
	}
	if (*s->host && !found) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "ECR answered for other registries than '%s' (account %s in %s); check the endpoint", s->host,
				    s->account, s->region);
	}
done:
	dc_buf_release(&host);
	json_decref(doc);
	return err;
}

static int parse_public(dc_cred_list *out, dc_ctx *ctx, const dc_http_resp *resp, const dc_scope *s)
{
	json_t *doc = NULL, *data;
	const char *token;
	int err, warned = 0;

	if ((err = dc_json_parse_object(&doc, resp->body.ptr, resp->body.len, "ECR Public")) < 0)
		return err;
	data = json_object_get(doc, "authorizationData");
	token = dc_json_str(data, "authorizationToken");
	if (!token)
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "ECR Public answered without authorizationData.authorizationToken; check AWS_ENDPOINT_URL_ECR_PUBLIC");
	else
		err = add_token(out, ctx, *s->host ? s->host : ECR_PUBLIC_HOST, token,
				expiry_of(ctx, data, "ECR Public", &warned), "ECR Public");
	json_decref(doc);
	return err;
}

int dc_ecr_reply_parse(dc_cred_list *out, dc_ctx *ctx, const dc_http_resp *resp, const dc_scope *s)
{
	return s->ecr_public ? parse_public(out, ctx, resp, s) : parse_private(out, ctx, resp, s);
}

static int request_body(dc_buf *body, const ecr_cfg *c, const dc_scope *s)
{
	json_t *req = json_object(), *ids = json_array();
	size_t i;
	int err = 0;

	if (!req || !ids) {
		err = dc_error_nomem();
		goto done;
	}
	if (*s->account) {
		if (json_array_append_new(ids, json_string(s->account)) < 0)
			err = dc_error_nomem();
	} else {
		for (i = 0; i < c->ids.n && !err; i++)
			if (json_array_append_new(ids, json_string(c->ids.items[i])) < 0)
				err = dc_error_nomem();
	}
	if (!err && json_array_size(ids) && json_object_set(req, "registryIds", ids) < 0)
		err = dc_error_nomem();
	if (!err)
		err = dc_json_dump(body, req);
done:
	json_decref(ids);
	json_decref(req);
	return err;
}

static int fetch(dc_cred_list *out, dc_ctx *ctx, const void *cfg, const dc_scope *s)
{
	const ecr_cfg *c = cfg;
	dc_aws_creds base = DC_AWS_CREDS_INIT, role = DC_AWS_CREDS_INIT;
	const dc_aws_creds *use = &base;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_buf url = DC_BUF_INIT, arn = DC_BUF_INIT, sts = DC_BUF_INIT, body = DC_BUF_INIT;
	const char *what = s->ecr_public ? "ECR Public" : "ECR";
	int err;

	if (!*s->region)
		return dc_error_set(DC_EUSAGE, "AWS_REGION is not set; set it (or AWS_DEFAULT_REGION) to the registry's region, e.g. us-east-1");
	if ((err = request_body(&body, c, s)) < 0 || (err = endpoint(&url, c, s)) < 0)
		goto done;
	if (dc_buf_puts(&url, "/") < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_aws_chain_creds(&base, ctx, &c->chain, sts_region(c, s))) < 0)
		goto done;
	if (*c->role) {
		if ((err = role_arn(&arn, c, s)) < 0 || (err = sts_endpoint(&sts, c, s)) < 0 ||
		    (err = dc_sts_assume_role(&role, ctx, &base, sts.ptr, sts_region(c, s), arn.ptr, "dcgen")) < 0)
			goto done;
		use = &role;
	}
	if ((err = dc_aws_call(&resp, ctx, use, &(dc_aws_call_t){
			.url = url.ptr,
			.region = s->ecr_public ? ECR_PUBLIC_REGION : s->region,
			.service = s->ecr_public ? "ecr-public" : "ecr",
			.content_type = "application/x-amz-json-1.1",
			.target = s->ecr_public ? ECR_PUBLIC_TARGET : ECR_TARGET,
			.body = body.ptr,
			.body_len = body.len,
			.what = what,
		})) < 0)
		goto done;
	if (resp.status != 200) {
		err = dc_aws_error(&resp, ctx, what, url.ptr);
		goto done;
	}
	err = dc_ecr_reply_parse(out, ctx, &resp, s);
done:
	dc_http_resp_release(&resp);
	dc_aws_creds_release(&role);
	dc_aws_creds_release(&base);
	dc_buf_release(&url);
	dc_buf_release(&arn);
	dc_buf_release(&sts);
	dc_buf_release(&body);
	return err;
}

static const char *const secret_vars[] = { "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
					   "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", NULL };

const dc_family dc_family_ecr = {
	.name = "ecr",
	.summary = "AWS ECR and ECR Public (GetAuthorizationToken, optional STS AssumeRole)",
	.variables = "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ROLE_ARN, AWS_PROFILE, AWS_STS_ROLE, AWS_ECR_REGISTRY_IDS, ECR_PUBLIC",
	.secret_vars = secret_vars,
	.detect = detect,
	.parse = parse,
	.match = match,
	.scope_all = scope_all,
	.offline = offline,
	.cache_key = cache_key,
	.fetch = fetch,
	.release = release,
};
