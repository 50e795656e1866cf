/* aws.c -- see aws.h. */
#include "auth/aws.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "util/codec.h"
#include "util/json.h"
#include "util/log.h"
#include "util/url.h"

/* 1 when `s` has a byte below 0x20 or 0x7f: it would end an HTTP header. */
static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A key id goes into the Authorization header and libcurl's "id:secret". */
static int key_id_valid(const char *id)
{
	size_t n = strlen(id);

	return n && n <= DC_AWS_KEY_ID_MAX && !has_control(id) && !strpbrk(id, " :");
}

static void warn_line_break(dc_ctx *ctx, const char *var, const char *value)
{
	size_t n = value ? strlen(value) : 0;

	if (n && (value[n - 1] == '\n' || value[n - 1] == '\r'))
		dc_log_warn(&ctx->log, "%s ends with a line break, which is part of the value as given; remove it if it was not meant (a secret copied with its newline?)",
			    var);
}

int dc_aws_creds_from_env(dc_aws_creds *out, dc_ctx *ctx)
{
	const char *id = dc_env_get(ctx->env, "AWS_ACCESS_KEY_ID");
	const char *secret = dc_env_get(ctx->env, "AWS_SECRET_ACCESS_KEY");
	const char *token = dc_env_get(ctx->env, "AWS_SESSION_TOKEN");
	int err;

	dc_aws_creds_release(out);
	/* registered first: even a usage error must not be able to echo them */
	if ((err = dc_sec_set(&out->secret, ctx->redactor, secret)) < 0 ||
	    (err = dc_sec_set(&out->token, ctx->redactor, token)) < 0)
		goto done;
	if (!id && !secret) {
		err = dc_error_set(DC_EUSAGE, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; set them to the access key of an IAM user or role allowed ecr:GetAuthorizationToken");
		goto done;
	}
	if (!id) {
		err = dc_error_set(DC_EUSAGE, "AWS_ACCESS_KEY_ID is not set; set it to the access key id that goes with AWS_SECRET_ACCESS_KEY");
		goto done;
	}
	if (!key_id_valid(id)) {
		err = dc_error_set(DC_EUSAGE, "AWS_ACCESS_KEY_ID is not an access key id (1 to %d characters without white space, control characters or ':'); check its value",
				   DC_AWS_KEY_ID_MAX);
		goto done;
	}
	if (!secret) {
		err = dc_error_set(DC_EUSAGE, "AWS_SECRET_ACCESS_KEY is not set; set it to the secret of access key '%s'", id);
		goto done;
	}
	if (token && has_control(token)) {
		err = dc_error_set(DC_EUSAGE, "AWS_SESSION_TOKEN has a line break or another control character in it; set it to the session token alone, as AWS issued it");
		goto done;
	}
	if (token && strlen(token) > DC_AWS_TOKEN_MAX) {
		err = dc_error_set(DC_EUSAGE, "AWS_SESSION_TOKEN is longer than %d bytes, which is no session token; check its value",
				   DC_AWS_TOKEN_MAX);
		goto done;
	}
	warn_line_break(ctx, "AWS_SECRET_ACCESS_KEY", secret);
	snprintf(out->key_id, sizeof(out->key_id), "%s", id);
	return 0;
done:
	dc_aws_creds_release(out);
	return err;
}

int dc_aws_creds_set(dc_aws_creds *out, dc_ctx *ctx, const char *key_id, const char *secret, const char *token,
		     const char *what)
{
	int err;

	dc_aws_creds_release(out);
	if ((err = dc_sec_set(&out->secret, ctx->redactor, secret)) < 0 ||
	    (err = dc_sec_set(&out->token, ctx->redactor, token)) < 0)
		goto done;
	if (!key_id_valid(key_id) || !*secret || has_control(secret) || (token && has_control(token)) ||
	    (token && strlen(token) > DC_AWS_TOKEN_MAX)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "%s answered with credentials that are empty, too long or hold control characters; check the endpoint (AWS_ENDPOINT_URL_STS)",
				    what);
		goto done;
	}
	snprintf(out->key_id, sizeof(out->key_id), "%s", key_id);
	return 0;
done:
	dc_aws_creds_release(out);
	return err;
}

void dc_aws_creds_release(dc_aws_creds *c)
{
	dc_sec_release(&c->secret);
	dc_sec_release(&c->token);
	c->key_id[0] = '\0';
	c->expires_at = 0;
}

int dc_aws_region_valid(const char *r)
{
	size_t n = strlen(r);

	return n && n <= 32 && strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int dc_aws_region(const char **out, const dc_env *env, const char *dflt)
{
	const char *which;
	const char *r = dc_env_first(env, &which, "AWS_REGION", "AWS_DEFAULT_REGION", (char *)NULL);

	*out = NULL;
	if (!r) {
		*out = dflt;
		return 0;
	}
	if (!dc_aws_region_valid(r))
		return dc_error_set(DC_EUSAGE, "%s is '%s', not a region name; set it to a region such as us-east-1",
				    which, r);
	*out = r;
	return 0;
}

const dc_aws_partition *dc_aws_partition_of(const char *region)
{
	static const struct {
		const char *prefix;
		dc_aws_partition p;
	} table[] = {
		{ "cn-", { "aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn" } },
		{ "us-gov-", { "aws-us-gov", "amazonaws.com", "api.aws" } },
		{ "us-iso-", { "aws-iso", "c2s.ic.gov", NULL } },
		{ "us-isob-", { "aws-iso-b", "sc2s.sgov.gov", NULL } },
		{ "eu-isoe-", { "aws-iso-e", "cloud.adc-e.uk", NULL } },
		{ "us-isof-", { "aws-iso-f", "csp.hci.ic.gov", NULL } },
		{ "eusc-", { "aws-eusc", "amazonaws.eu", NULL } },
	};
	static const dc_aws_partition aws = { "aws", "amazonaws.com", "api.aws" };
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strncmp(region, table[i].prefix, strlen(table[i].prefix)))
			return &table[i].p;
	return &aws;
}

/* Warn that plain http to another machine carries the signed request, the
 * session token and the registry token in the clear. `authority` is the n
 * bytes after "://". Called once per variable: configurations are parsed
 * once. */
static void warn_plain_http(dc_ctx *ctx, const char *which, const char *url, const char *authority, size_t n)
{
	dc_buf origin = DC_BUF_INIT;
	int local;

	/* dc_url_check passes plain http only to this machine (127.x, localhost,
	 * [::1]); ask about the host and port alone, so that nothing in the path
	 * (white space, say) passes for another machine. What it sets on
	 * failure is no error of ours. */
	dc_buf_printf(&origin, "http://%.*s", (int)n, authority);
	local = !dc_buf_failed(&origin) && dc_url_check(origin.ptr, which, "") == 0;
	dc_buf_release(&origin);
	dc_error_clear();
	if (!local)
		dc_log_warn(&ctx->log, "%s is '%s', plain http to another machine: credentials and tokens will cross the network unencrypted; use https unless that network is private",
			    which, url);
}

int dc_aws_endpoint_override(dc_buf *out, const char **which_out, dc_ctx *ctx, const char *service_var)
{
	const char *which, *authority, *sep, *host;
	const char *url = dc_env_first(ctx->env, &which, service_var, "AWS_ENDPOINT_URL", (char *)NULL);
	size_t n;

	if (which_out)
		*which_out = url ? which : NULL;
	if (!url)
		return DC_ENOTFOUND;
	/* first, so that no message below repeats a password */
	sep = strstr(url, "://");
	authority = sep ? sep + 3 : url;
	n = strcspn(authority, "/?#");
	if (memchr(authority, '@', n))
		return dc_error_set(DC_EUSAGE, "%s has a user name or password in it; remove it from the URL (AWS requests are signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
				    which);
	host = !strncmp(url, "https://", 8) ? url + 8 : !strncmp(url, "http://", 7) ? url + 7 : NULL;
	if (!host || !n || !dc_url_host_valid(host, n) || has_control(url))
		return dc_error_set(DC_EUSAGE, "%s is '%s', not an http or https URL with a host[:port]; set it to e.g. https://host:port",
				    which, url);
	if (host == url + 7)
		warn_plain_http(ctx, which, url, authority, n);
	if (dc_buf_puts(out, url) < 0)
		return dc_error_nomem();
	while (out->len > 8 && out->ptr[out->len - 1] == '/')
		out->ptr[--out->len] = '\0';
	return 0;
}

int dc_aws_endpoint_default(dc_buf *out, const char *prefix, const char *region, int dualstack)
{
	const dc_aws_partition *p = dc_aws_partition_of(region);
	const char *suffix = dualstack && p->dual_suffix ? p->dual_suffix : p->dns_suffix;

	if (dc_buf_printf(out, "https://%s.%s.%s", prefix, region, suffix) < 0)
		return dc_error_nomem();
	return 0;
}

int dc_aws_endpoint(dc_buf *out, dc_ctx *ctx, const char *service_var, const char *prefix, const char *region)
{
	int err = dc_aws_endpoint_override(out, NULL, ctx, service_var);

	if (err == DC_ENOTFOUND)
		return dc_aws_endpoint_default(out, prefix, region, 0);
	return err;
}

int dc_aws_call(dc_http_resp *out, dc_ctx *ctx, const dc_aws_creds *c, const dc_aws_call_t *call)
{
	dc_buf sig = DC_BUF_INIT, userpwd = DC_BUF_INIT, ctype = DC_BUF_INIT, target = DC_BUF_INIT,
	       token = DC_BUF_INIT;
	const char *headers[4] = { 0 };
	int nh = 0, err;

	if ((err = dc_ctx_http(ctx)) < 0)
		return err;
	/* checked where they were made; checked again where they become headers */
	if (!key_id_valid(c->key_id) || (c->token.ptr && has_control(c->token.ptr)))
		return dc_error_set(DC_ERR, "the AWS credentials hold control characters; check AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN");
	dc_buf_init(&userpwd, 0, DC_BUF_SECRET);
	dc_buf_init(&token, 0, DC_BUF_SECRET);
	dc_buf_printf(&sig, "aws:amz:%s:%s", call->region, call->service);
	dc_buf_printf(&userpwd, "%s:%s", c->key_id, c->secret.ptr ? c->secret.ptr : "");
	dc_buf_printf(&ctype, "Content-Type: %s", call->content_type);
	headers[nh++] = ctype.ptr;
	if (call->target) {
		dc_buf_printf(&target, "X-Amz-Target: %s", call->target);
		headers[nh++] = target.ptr;
	}
	if (c->token.ptr) {
		/* signed with the rest: libcurl signs every header it sends */
		dc_buf_printf(&token, "X-Amz-Security-Token: %s", c->token.ptr);
		headers[nh++] = token.ptr;
	}
	if (dc_buf_failed(&sig) || dc_buf_failed(&userpwd) || dc_buf_failed(&ctype) ||
	    dc_buf_failed(&target) || dc_buf_failed(&token)) {
		err = dc_error_nomem();
		goto done;
	}
	err = dc_http_send(ctx->http, out, &(dc_http_req){
		.method = "POST",
		.url = call->url,
		.headers = headers,
		.body = call->body,
		.body_len = call->body_len,
		.sigv4 = sig.ptr,
		.userpwd = userpwd.ptr,
		.what = call->what,
	});
done:
	dc_buf_release(&sig);
	dc_buf_release(&userpwd);
	dc_buf_release(&ctype);
	dc_buf_release(&target);
	dc_buf_release(&token);
	return err;
}

static int is(const char *code, const char *a, const char *b, const char *c)
{
	return !strcmp(code, a) || (b && !strcmp(code, b)) || (c && !strcmp(code, c));
}

int dc_aws_error(const dc_http_resp *r, dc_ctx *ctx, const char *what, const char *url)
{
	dc_buf xcode = DC_BUF_INIT, xmsg = DC_BUF_INIT;
	json_t *doc = NULL;
	const char *code = NULL, *msg = NULL, *hash;
	char c[64] = "", m[256] = "", why[330];
	int err = DC_ERR;

	doc = json_loadb(r->body.ptr, r->body.len, 0, NULL);
	if (json_is_object(doc)) {
		code = dc_json_str(doc, "__type");
		if (!code)
			code = dc_json_str(doc, "code");
		msg = dc_json_str(doc, "message");
		if (!msg)
			msg = dc_json_str(doc, "Message");
	} else {
		if (dc_xml_text(&xcode, r->body.ptr, "Code") == 0)
			code = xcode.ptr;
		if (dc_xml_text(&xmsg, r->body.ptr, "Message") == 0)
			msg = xmsg.ptr;
	}
	/* "com.amazonaws...#ThrottlingException" -> "ThrottlingException" */
	if (code && (hash = strrchr(code, '#')) != NULL)
		code = hash + 1;
	dc_log_clip(ctx->redactor, c, sizeof(c), code ? code : "");
	dc_log_clip(ctx->redactor, m, sizeof(m), msg ? msg : "");
	snprintf(why, sizeof(why), "%s%s%s", *c ? c : "no error code", *m ? ": " : "", m);

	if (r->status == 429 || r->status >= 500 || (r->status >= 300 && r->status < 400) || strstr(c, "Throttl")) {
		if ((err = dc_http_status_error(r, what, url, why)) == 0)
			err = dc_error_setc(DC_ERR, DC_ECLASS_HTTP, "%s at '%s' kept failing with HTTP %ld (%s) after %d attempt%s; try again later",
					    what, url, r->status, why, r->attempts, r->attempts == 1 ? "" : "s");
	} else if (is(c, "SignatureDoesNotMatch", "InvalidSignatureException", NULL)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s rejected the request signature (%s); check AWS_SECRET_ACCESS_KEY",
				    what, c);
	} else if (is(c, "InvalidClientTokenId", "UnrecognizedClientException", NULL)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s does not know these credentials (%s); check AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN",
				    what, c);
	} else if (is(c, "ExpiredToken", "ExpiredTokenException", "RequestExpired")) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s says the credentials or request expired (%s); get fresh credentials and check the clock",
				    what, c);
	} else if (is(c, "AccessDenied", "AccessDeniedException", NULL)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s denied the request (%s); allow it in the IAM policy of these credentials",
				    what, why);
	} else {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s at '%s' answered HTTP %ld (%s); check the request's variables",
				    what, url, r->status, why);
	}
	dc_error_fields(r->status, *c ? c : NULL, -1);
	json_decref(doc);
	dc_buf_release(&xcode);
	dc_buf_release(&xmsg);
	return err;
}
