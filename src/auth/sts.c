/* sts.c -- see sts.h. */
#include "auth/sts.h"

#include <string.h>

#include "util/codec.h"
#include "util/log.h"
#include "util/time.h"

int dc_sts_assume_role(dc_aws_creds *out, const dc_aws_creds *in, const dc_env *env, const char *region,
		       const char *role_arn, const char *session_name)
{
	dc_buf url = DC_BUF_INIT, body = DC_BUF_INIT, id = DC_BUF_INIT, secret = DC_BUF_INIT,
	       token = DC_BUF_INIT, exp = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	int err;

	dc_buf_init(&secret, 0, DC_BUF_SECRET);
	dc_buf_init(&token, 0, DC_BUF_SECRET);
	if ((err = dc_aws_endpoint(&url, env, "AWS_ENDPOINT_URL_STS", "sts", region)) < 0)
		goto done;
	if ((err = dc_buf_puts(&url, "/")) < 0 ||
	    (err = dc_buf_puts(&body, "Action=AssumeRole&Version=2011-06-15&DurationSeconds=3600&RoleArn=")) < 0 ||
	    (err = dc_http_form_escape(&body, role_arn)) < 0 || (err = dc_buf_puts(&body, "&RoleSessionName=")) < 0 ||
	    (err = dc_http_form_escape(&body, session_name)) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if ((err = dc_aws_call(&resp, in, &(dc_aws_call_t){
			.url = url.ptr,
			.region = region,
			.service = "sts",
			.content_type = "application/x-www-form-urlencoded; charset=utf-8",
			.body = body.ptr,
			.body_len = body.len,
			.what = "STS",
		})) < 0)
		goto done;
	if (resp.status != 200) {
		err = dc_aws_error(&resp, "STS");
		if (strstr(dc_error_last(), "AccessDenied"))
			err = dc_error_set(DC_ERR, "STS refused to assume role '%s' (AccessDenied); check AWS_STS_ROLE, AWS_STS_ACCOUNT and the role's trust policy",
					   role_arn);
		goto done;
	}
	if (dc_xml_text(&id, resp.body.ptr, "AccessKeyId") != 0 ||
	    dc_xml_text(&secret, resp.body.ptr, "SecretAccessKey") != 0 ||
	    dc_xml_text(&token, resp.body.ptr, "SessionToken") != 0) {
		err = dc_error_set(DC_ERR, "STS answered AssumeRole without credentials; check AWS_ENDPOINT_URL_STS");
		goto done;
	}
	if ((err = dc_aws_creds_set(out, id.ptr, secret.ptr, token.ptr)) < 0)
		goto done;
	if (dc_xml_text(&exp, resp.body.ptr, "Expiration") == 0 &&
	    dc_time_parse_iso8601(&out->expires_at, exp.ptr) < 0)
		out->expires_at = 0;
	dc_log_debug("assumed role %s as %s", role_arn, id.ptr);
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	dc_buf_release(&body);
	dc_buf_release(&id);
	dc_buf_release(&secret);
	dc_buf_release(&token);
	dc_buf_release(&exp);
	return err;
}
