/* aws.c -- see aws.h. */
#include "auth/aws.h"

#include <stdlib.h>
#include <string.h>

#include "util/codec.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/url.h"

int dc_aws_creds_set(dc_aws_creds *out, const char *key_id, const char *secret, const char *token)
{
	dc_aws_creds_release(out);
	out->key_id = strdup(key_id);
	out->secret = strdup(secret);
	out->token = token ? strdup(token) : NULL;
	if (!out->key_id || !out->secret || (token && !out->token) || dc_log_redact_add(secret) < 0 ||
	    dc_log_redact_add(token) < 0) {
		dc_aws_creds_release(out);
		return dc_error_set(DC_ERR, "out of memory");
	}
	return 0;
}

int dc_aws_creds_from_env(dc_aws_creds *out, const dc_env *env)
{
	const char *id = dc_env_get(env, "AWS_ACCESS_KEY_ID");
	const char *secret = dc_env_get(env, "AWS_SECRET_ACCESS_KEY");
	const char *token = dc_env_get(env, "AWS_SESSION_TOKEN");

	/* register first: even a usage error must not be able to echo them */
	if (dc_log_redact_add(secret) < 0 || dc_log_redact_add(token) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	if (!id && !secret)
		return dc_error_set(DC_EUSAGE, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; set them to the access key of an IAM user or role allowed ecr:GetAuthorizationToken");
	if (!id)
		return dc_error_set(DC_EUSAGE, "AWS_ACCESS_KEY_ID is not set; set it to the access key id that goes with AWS_SECRET_ACCESS_KEY");
	if (!secret)
		return dc_error_set(DC_EUSAGE, "AWS_SECRET_ACCESS_KEY is not set; set it to the secret of access key '%s'", id);
	if (strchr(id, ':') || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != strlen(id))
		return dc_error_set(DC_EUSAGE, "AWS_ACCESS_KEY_ID is not an access key id (upper-case letters and digits); check its value");
	return dc_aws_creds_set(out, id, secret, token);
}

void dc_aws_creds_release(dc_aws_creds *c)
{
	free(c->key_id);
	dc_secret_free(c->secret);
	dc_secret_free(c->token);
	*c = (dc_aws_creds)DC_AWS_CREDS_INIT;
}

int dc_aws_region(const char **out, const dc_env *env, const char *dflt)
{
	const char *which;
	const char *r = dc_env_first(env, &which, "AWS_REGION", "AWS_DEFAULT_REGION", (char *)NULL);

	if (!r) {
		if (!dflt)
			return dc_error_set(DC_EUSAGE, "AWS_REGION is not set; set it (or AWS_DEFAULT_REGION) to the registry's region, e.g. us-east-1");
		r = dflt;
		which = "the default region";
	}
	if (strlen(r) > 32 || strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(r))
		return dc_error_set(DC_EUSAGE, "%s is '%s', not a region name; set it to one such as us-east-1", which, r);
	*out = r;
	return 0;
}

const dc_aws_partition *dc_aws_partition_of(const char *region)
{
	static const struct {
		const char *prefix;
		dc_aws_partition p;
	} table[] = {
		{ "cn-", { "aws-cn", "amazonaws.com.cn" } },
		{ "us-gov-", { "aws-us-gov", "amazonaws.com" } },
		{ "us-iso-", { "aws-iso", "c2s.ic.gov" } },
		{ "us-isob-", { "aws-iso-b", "sc2s.sgov.gov" } },
	};
	static const dc_aws_partition aws = { "aws", "amazonaws.com" };
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strncmp(region, table[i].prefix, strlen(table[i].prefix)))
			return &table[i].p;
	return &aws;
}

/* Warn once per variable (the names are literals of our callers) that plain
 * http to another machine carries the signed request, the session token and
 * the registry token in the clear. `authority` is the n bytes after "://". */
static void warn_plain_http(const char *which, const char *url, const char *authority, size_t n)
{
	static const char *warned[8];
	const size_t max = sizeof(warned) / sizeof(warned[0]);
	dc_buf origin = DC_BUF_INIT;
	size_t i;
	int local;

	/* dc_url_check passes plain http only to this machine (127.x, localhost,
	 * [::1]); what it sets on failure is no error of ours */
	if (dc_url_check(url, which, "") == 0)
		return;
	dc_error_clear();
	for (i = 0; i < max && warned[i]; i++)
		if (!strcmp(warned[i], which))
			return;
	/* it failed the whole URL: ask about the host and port alone, so that
	 * nothing in the path (white space, say) passes for another machine */
	dc_buf_printf(&origin, "http://%.*s", (int)n, authority);
	local = !dc_buf_failed(&origin) && dc_url_check(origin.ptr, which, "") == 0;
	dc_buf_release(&origin);
	dc_error_clear();
	if (local)
		return;
	if (i < max)
		warned[i] = which;
	dc_log_warn("%s is '%s', plain http to another machine: credentials and tokens will cross the network unencrypted; use https unless that network is private",
		    which, url);
}

int dc_aws_endpoint(dc_buf *out, const dc_env *env, const char *service_var, const char *dflt_service,
		    const char *region)
{
	const char *which, *authority, *sep;
	const char *url = dc_env_first(env, &which, service_var, "AWS_ENDPOINT_URL", (char *)NULL);
	size_t n;

	if (url) {
		const char *host = !strncmp(url, "https://", 8) ? url + 8 : !strncmp(url, "http://", 7) ? url + 7 : NULL;

		/* first, so that no message below repeats a password */
		sep = strstr(url, "://");
		authority = sep ? sep + 3 : url;
		n = strcspn(authority, "/?#");
		if (memchr(authority, '@', n))
			return dc_error_set(DC_EUSAGE, "%s has a user name or password in it; remove it from the URL (AWS requests are signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
					    which);
		if (!host || !*host || *host == '/')
			return dc_error_set(DC_EUSAGE, "%s is '%s', not an http or https URL; set it to e.g. https://host:port",
					    which, url);
		if (host == url + 7)
			warn_plain_http(which, url, authority, n);
		if (dc_buf_puts(out, url) < 0)
			return dc_error_set(DC_ERR, "out of memory");
		while (out->len > 8 && out->ptr[out->len - 1] == '/')
			out->ptr[--out->len] = '\0';
		return 0;
	}
	if (dc_buf_printf(out, "https://%s.%s.%s", dflt_service, region, dc_aws_partition_of(region)->dns_suffix) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

int dc_aws_call(dc_http_resp *out, const dc_aws_creds *c, const dc_aws_call_t *call)
{
	dc_buf sig = DC_BUF_INIT, userpwd = DC_BUF_INIT, ctype = DC_BUF_INIT, target = DC_BUF_INIT,
	       token = DC_BUF_INIT;
	const char *headers[4] = { 0 };
	int nh = 0, err;

	dc_buf_init(&userpwd, 0, DC_BUF_SECRET);
	dc_buf_init(&token, 0, DC_BUF_SECRET);
	dc_buf_printf(&sig, "aws:amz:%s:%s", call->region, call->service);
	dc_buf_printf(&userpwd, "%s:%s", c->key_id, c->secret);
	dc_buf_printf(&ctype, "Content-Type: %s", call->content_type);
	headers[nh++] = ctype.ptr;
	if (call->target) {
		dc_buf_printf(&target, "X-Amz-Target: %s", call->target);
		headers[nh++] = target.ptr;
	}
	if (c->token) {
		/* signed with the rest: libcurl signs every header it sends */
		dc_buf_printf(&token, "X-Amz-Security-Token: %s", c->token);
		headers[nh++] = token.ptr;
	}
	if (dc_buf_failed(&sig) || dc_buf_failed(&userpwd) || dc_buf_failed(&ctype) ||
	    dc_buf_failed(&target) || dc_buf_failed(&token)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	err = dc_http_send(out, &(dc_http_req){
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

int dc_aws_error(const dc_http_resp *r, const char *what)
{
	dc_buf xcode = DC_BUF_INIT, xmsg = DC_BUF_INIT;
	json_t *doc = NULL;
	const char *code = NULL, *msg = NULL, *hash;
	char c[128] = "", m[256] = "";
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
	dc_log_clip(c, sizeof(c), code ? code : "no error code");
	dc_log_clip(m, sizeof(m), msg ? msg : "");

	if (!strcmp(c, "SignatureDoesNotMatch") || !strcmp(c, "InvalidSignatureException"))
		err = dc_error_set(DC_ERR, "%s rejected the request signature (%s); check AWS_SECRET_ACCESS_KEY", what, c);
	else if (!strcmp(c, "InvalidClientTokenId") || !strcmp(c, "UnrecognizedClientException"))
		err = dc_error_set(DC_ERR, "%s does not know these credentials (%s); check AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN", what, c);
	else if (!strcmp(c, "ExpiredToken") || !strcmp(c, "ExpiredTokenException") || !strcmp(c, "RequestExpired"))
		err = dc_error_set(DC_ERR, "%s says the credentials or request expired (%s); get fresh credentials and check the clock", what, c);
	else if (!strcmp(c, "AccessDenied") || !strcmp(c, "AccessDeniedException"))
		err = dc_error_set(DC_ERR, "%s denied the request (%s: %s); allow it in the IAM policy of these credentials", what, c, m);
	else if (r->status == 429 || r->status >= 500 || strstr(c, "Throttl"))
		err = dc_error_set(DC_ERR, "%s kept failing with HTTP %ld (%s) after retries; try again later", what, r->status, c);
	else
		err = dc_error_set(DC_ERR, "%s answered HTTP %ld (%s%s%s); check the request's variables", what, r->status, c,
				   *m ? ": " : "", m);
	json_decref(doc);
	dc_buf_release(&xcode);
	dc_buf_release(&xmsg);
	return err;
}
