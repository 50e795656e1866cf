/* sts.c -- see sts.h. */
#include "auth/sts.h"

#include <string.h>

#include "util/codec.h"
#include "util/log.h"
#include "util/time.h"

static int form(dc_buf *body, const dc_sts_req *q)
{
	dc_buf_puts(body, q->web_token ? "Action=AssumeRoleWithWebIdentity" : "Action=AssumeRole");
	dc_buf_puts(body, "&Version=2011-06-15&DurationSeconds=3600&RoleArn=");
	if (dc_http_form_escape(body, q->role_arn) < 0 || dc_buf_puts(body, "&RoleSessionName=") < 0 ||
	    dc_http_form_escape(body, q->session) < 0)
		return dc_error_nomem();
	if (q->external_id && (dc_buf_puts(body, "&ExternalId=") < 0 || dc_http_form_escape(body, q->external_id) < 0))
		return dc_error_nomem();
	if (q->web_token && (dc_buf_puts(body, "&WebIdentityToken=") < 0 || dc_http_form_escape(body, q->web_token) < 0))
		return dc_error_nomem();
	return dc_buf_failed(body) ? dc_error_nomem() : 0;
}

/* The unsigned call: no key, no signature, the token is in the body. */
static int post_unsigned(dc_http_resp *resp, dc_ctx *ctx, const char *url, const dc_buf *body)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
					       "Accept: application/xml", NULL };
	int err;

	if ((err = dc_ctx_http(ctx)) < 0)
		return err;
	return dc_http_send(ctx->http, resp, &(dc_http_req){
		.method = "POST",
		.url = url,
		.headers = headers,
		.body = body->ptr,
		.body_len = body->len,
		.what = "STS",
	});
}

int dc_sts_assume(dc_aws_creds *out, dc_ctx *ctx, const dc_sts_req *q)
{
	dc_buf target = DC_BUF_INIT, body = DC_BUF_INIT, id = DC_BUF_INIT, secret = DC_BUF_INIT,
	       token = DC_BUF_INIT, exp = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	const char *action = q->web_token ? "AssumeRoleWithWebIdentity" : "AssumeRole";
	time_t expires_at;
	int err;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	dc_buf_init(&secret, 0, DC_BUF_SECRET);
	dc_buf_init(&token, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&target, "%s/", q->url) < 0 || (err = form(&body, q)) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if (q->web_token)
		err = post_unsigned(&resp, ctx, target.ptr, &body);
	else
		err = dc_aws_call(&resp, ctx, q->in, &(dc_aws_call_t){
			.url = target.ptr,
			.region = q->region,
			.service = "sts",
			.content_type = "application/x-www-form-urlencoded; charset=utf-8",
			.body = body.ptr,
			.body_len = body.len,
			.what = "STS",
		});
	if (err < 0)
		goto done;
	if (resp.status != 200) {
		err = dc_aws_error(&resp, ctx, "STS", target.ptr);
		/* decided from the error's fields, never from its text */
		if (dc_error_get()->klass == DC_ECLASS_AUTH && !strcmp(dc_error_get()->upstream_code, "AccessDenied")) {
			err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH,
					    "STS refused to assume role '%s' (AccessDenied, %s); check %s and the role's trust policy",
					    q->role_arn, action, q->role_var ? q->role_var : "the role");
			dc_error_fields(resp.status, "AccessDenied", -1);
		}
		goto done;
	}
	if (dc_xml_text(&id, resp.body.ptr, "AccessKeyId") != 0 ||
	    dc_xml_text(&secret, resp.body.ptr, "SecretAccessKey") != 0 ||
	    dc_xml_text(&token, resp.body.ptr, "SessionToken") != 0) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "STS at '%s' answered %s without credentials; check AWS_ENDPOINT_URL_STS",
				    target.ptr, action);
		goto done;
	}
	if (dc_buf_failed(&id) || dc_buf_failed(&secret) || dc_buf_failed(&token)) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_aws_creds_set(out, ctx, id.ptr, secret.ptr, token.ptr, "STS")) < 0)
		goto done;
	if (dc_xml_text(&exp, resp.body.ptr, "Expiration") == 0 && dc_time_parse_rfc3339(&expires_at, exp.ptr) == 0)
		out->expires_at = expires_at;
	dc_log_debug(&ctx->log, "assumed role %s as %s (%s)", q->role_arn, out->key_id, action);
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&target);
	dc_buf_release(&body);
	dc_buf_release(&id);
	dc_buf_release(&secret);
	dc_buf_release(&token);
	dc_buf_release(&exp);
	return err;
}

int dc_sts_assume_role(dc_aws_creds *out, dc_ctx *ctx, const dc_aws_creds *in, const char *url, const char *region,
		       const char *role_arn, const char *session_name)
{
	return dc_sts_assume(out, ctx, &(dc_sts_req){
		.in = in,
		.url = url,
		.region = region,
		.role_arn = role_arn,
		.session = session_name,
		.role_var = "AWS_STS_ROLE, AWS_STS_ACCOUNT",
	});
}
