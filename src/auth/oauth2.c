/* oauth2.c -- see oauth2.h. */
#include "auth/oauth2.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "util/json.h"
#include "util/log.h"

int dc_oauth2_form_add(dc_buf *form, const char *name, const char *value)
{
	if ((form->len && dc_buf_putc(form, '&') < 0) || dc_buf_puts(form, name) < 0 || dc_buf_putc(form, '=') < 0 ||
	    dc_http_form_escape(form, value) < 0)
		return dc_error_nomem();
	return 0;
}

int dc_oauth2_post(dc_http_resp *resp, dc_ctx *ctx, const char *url, const dc_buf *form, const char *what)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
					       "Accept: application/json", NULL };
	int err;

	if ((err = dc_ctx_http(ctx)) < 0)
		return err;
	return dc_http_send(ctx->http, resp, &(dc_http_req){
		.method = "POST",
		.url = url,
		.headers = headers,
		.body = form->ptr,
		.body_len = form->len,
		.what = what,
	});
}

int dc_oauth2_token(dc_oauth2_token_t *out, dc_ctx *ctx, const dc_http_resp *resp, const char *field,
		    const char *what, const char *url)
{
	json_t *doc, *exp;
	json_error_t jerr;
	const char *v;
	int err = 0;

	dc_oauth2_token_release(out);
	/* no jansson text in messages: it quotes the reply near the error */
	doc = json_loadb(resp->body.ptr, resp->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc && json_error_code(&jerr) == json_error_out_of_memory) {
		err = dc_error_nomem();
		goto done;
	}
	if (!json_is_object(doc)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "%s at '%s' sent a reply that is not a JSON object without duplicate keys (%zu bytes); check the endpoint",
				    what, url, resp->body.len);
		goto done;
	}
	v = dc_json_str(doc, field);
	if (!v || !*v) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s at '%s' answered without %s %s; check the endpoint", what,
				    url, strchr("aeiou", field[0]) ? "an" : "a", field);
		goto done;
	}
	if ((err = dc_sec_set(&out->token, ctx->redactor, v)) < 0)
		goto done;
	exp = json_object_get(doc, "expires_in");
	if (json_is_integer(exp)) {
		out->exp_kind = DC_OAUTH2_EXP_INT;
		out->expires_in = json_integer_value(exp);
	} else if (json_is_real(exp) && json_real_value(exp) > -1e15 && json_real_value(exp) < 1e15 &&
		   (double)(long long)json_real_value(exp) == json_real_value(exp)) {
		out->exp_kind = DC_OAUTH2_EXP_INT;
		out->expires_in = (long long)json_real_value(exp);
	} else if (exp) {
		out->exp_kind = DC_OAUTH2_EXP_OTHER;
	}
done:
	json_decref(doc);
	return err;
}

void dc_oauth2_token_release(dc_oauth2_token_t *t)
{
	dc_sec_release(&t->token);
	t->exp_kind = DC_OAUTH2_EXP_NONE;
	t->expires_in = 0;
}

void dc_oauth2_reason(char *why, size_t size, char *code, size_t code_size, dc_redactor *r,
		      const dc_http_resp *resp)
{
	json_t *doc = json_loadb(resp->body.ptr, resp->body.len, 0, NULL);
	json_t *first = json_array_get(json_object_get(doc, "errors"), 0);
	const char *c = dc_json_str(doc, "error"), *desc = dc_json_str(doc, "error_description");
	char cc[64], d[224];

	if (!c && first) {
		c = dc_json_str(first, "code");
		desc = dc_json_str(first, "message");
	}
	dc_log_clip(r, cc, sizeof(cc), c ? c : "");
	dc_log_clip(r, d, sizeof(d), desc ? desc : "");
	snprintf(why, size, "%s%s%s", *cc ? cc : "no error code", *d ? ": " : "", d);
	snprintf(code, code_size, "%s", cc);
	json_decref(doc);
}
