/* azure.c -- see azure.h. */
#include "auth/azure.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/codec.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/url.h"

#define TOKEN_FILE_MAX (64 * 1024)
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static int oom(void)
{
	return dc_error_set(DC_ERR, "out of memory");
}

/* Split an http(s) URL (or a bare host[:port], taken as https) into the
 * "scheme://host[:port]" base and the host. Plain http only to this machine:
 * it would carry a secret or a token. `example` is a good value for `var`. */
static int parse_base(dc_buf *base, dc_buf *host, const char *value, const char *var, const char *example)
{
	char remedy[128];
	int err;

	snprintf(remedy, sizeof(remedy), "set it to e.g. %s", example);
	/* a scheme must be https, or http to this machine */
	if (strstr(value, "://") && (err = dc_url_check(value, var, remedy)) < 0)
		return err;
	if (dc_host_from_url(host, value) < 0)
		return dc_error_set(DC_EUSAGE, "%s is '%s', which names no host; %s", var, value, remedy);
	if (!dc_url_host_valid(host->ptr, host->len))
		return dc_error_set(DC_EUSAGE, "%s is '%s', whose host is not a host name; %s", var, value, remedy);
	if (dc_buf_printf(base, "%s%s", strncmp(value, "http://", 7) ? "https://" : "http://", host->ptr) < 0)
		return oom();
	return 0;
}

int dc_acr_registry_parse(dc_acr_registry *out, const char *value, const char *var)
{
	dc_buf base = DC_BUF_INIT, host = DC_BUF_INIT, name = DC_BUF_INIT;
	size_t i;
	int err;

	dc_acr_registry_release(out);
	if (!strstr(value, "://") && !strpbrk(value, ".:/")) {
		/* a bare registry name, as the portal shows it */
		size_t n = strlen(value);

		if (n < 2 || n > 50 || strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
			return dc_error_set(DC_EUSAGE, "%s is '%s', not a registry name (letters and digits) or URL; set it to e.g. myregistry or https://myregistry.azurecr.io",
					    var, value);
		for (i = 0; i < n; i++)
			dc_buf_putc(&name, (char)tolower((unsigned char)value[i]));
		if (dc_buf_puts(&name, ".azurecr.io") < 0) {
			err = oom();
			goto done;
		}
		value = name.ptr;
	}
	if ((err = parse_base(&base, &host, value, var, "https://name.azurecr.io")) < 0)
		goto done;
	out->url = dc_buf_detach(&base, NULL);
	out->host = dc_buf_detach(&host, NULL);
	if (!out->url || !out->host) {
		dc_acr_registry_release(out);
		err = oom();
	}
done:
	dc_buf_release(&base);
	dc_buf_release(&host);
	dc_buf_release(&name);
	return err;
}

void dc_acr_registry_release(dc_acr_registry *r)
{
	free(r->url);
	free(r->host);
	*r = (dc_acr_registry)DC_ACR_REGISTRY_INIT;
}

/* The federated token: the whole file, surrounding white space dropped. */
static int read_token_file(char **out, const char *path)
{
	dc_buf text = DC_BUF_INIT;
	size_t start = 0;
	int err;

	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if ((err = dc_fs_read_secret(&text, path, TOKEN_FILE_MAX, "AZURE_FEDERATED_TOKEN_FILE")) < 0)
		goto done;
	while (text.len && isspace((unsigned char)text.ptr[text.len - 1]))
		text.ptr[--text.len] = '\0';
	while (start < text.len && isspace((unsigned char)text.ptr[start]))
		start++;
	if (start == text.len) {
		err = dc_error_set(DC_EUSAGE, "AZURE_FEDERATED_TOKEN_FILE '%s' is empty; check the path", path);
		goto done;
	}
	if (!(*out = dc_secret_strdup(text.ptr + start)) || dc_log_redact_add(*out) < 0)
		err = oom();
done:
	dc_buf_release(&text);
	return err;
}

static int dup_str(char **out, const char *s)
{
	if (!(*out = strdup(s)))
		return oom();
	return 0;
}

int dc_azure_app_from_env(dc_azure_app *out, const dc_env *env)
{
	const char *id = dc_env_get(env, "AZURE_CLIENT_ID");
	const char *tenant = dc_env_get(env, "AZURE_TENANT_ID");
	const char *secret = dc_env_get(env, "AZURE_CLIENT_SECRET");
	const char *file = dc_env_get(env, "AZURE_FEDERATED_TOKEN_FILE");
	const char *authority = dc_env_get(env, "AZURE_AUTHORITY_HOST");
	dc_buf base = DC_BUF_INIT, host = DC_BUF_INIT;
	int err;

	dc_azure_app_release(out);
	if (dc_log_redact_add(secret) < 0)
		return oom();
	if (!secret && !file)
		return dc_error_set(DC_EUSAGE, "neither AZURE_CLIENT_SECRET nor AZURE_FEDERATED_TOKEN_FILE is set; set the service principal's secret, or AZURE_USERNAME and AZURE_PASSWORD for the admin user");
	if (!id)
		return dc_error_set(DC_EUSAGE, "AZURE_CLIENT_ID is not set; set it to the application (client) id of the service principal");
	if (!tenant)
		return dc_error_set(DC_EUSAGE, "AZURE_TENANT_ID is not set; set it to the directory (tenant) id of the service principal");
	if (strlen(tenant) > 256 ||
	    strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(tenant))
		return dc_error_set(DC_EUSAGE, "AZURE_TENANT_ID is '%s', not a tenant id or domain; set it to the directory (tenant) id",
				    tenant);
	if (strcspn(id, " \t\r\n") != strlen(id))
		return dc_error_set(DC_EUSAGE, "AZURE_CLIENT_ID is '%s', not an application id; set it to the application (client) id",
				    id);
	if ((err = parse_base(&base, &host, authority ? authority : DC_AZURE_AUTHORITY, "AZURE_AUTHORITY_HOST",
			      DC_AZURE_AUTHORITY)) < 0)
		goto done;
	if ((err = dup_str(&out->tenant, tenant)) < 0 || (err = dup_str(&out->client_id, id)) < 0)
		goto done;
	if (!(out->authority = dc_buf_detach(&base, NULL))) {
		err = oom();
		goto done;
	}
	if (secret) {
		if (file)
			dc_log_debug("AZURE_CLIENT_SECRET is set; not using AZURE_FEDERATED_TOKEN_FILE");
		if (!(out->secret = dc_secret_strdup(secret)))
			err = oom();
	} else {
		out->token_file = file;
		err = read_token_file(&out->assertion, file);
	}
done:
	if (err < 0)
		dc_azure_app_release(out);
	dc_buf_release(&base);
	dc_buf_release(&host);
	return err;
}

void dc_azure_app_release(dc_azure_app *a)
{
	free(a->authority);
	free(a->tenant);
	free(a->client_id);
	dc_secret_free(a->secret);
	dc_secret_free(a->assertion);
	*a = (dc_azure_app)DC_AZURE_APP_INIT;
}

/* "code: description" from an OAuth ({"error", "error_description"}) or a
 * registry ({"errors": [{"code", "message"}]}) error reply. */
static void reason(char *dst, size_t size, const dc_http_resp *r)
{
	json_t *doc = json_loadb(r->body.ptr, r->body.len, 0, NULL);
	json_t *first = json_array_get(json_object_get(doc, "errors"), 0);
	const char *code = dc_json_str(doc, "error"), *desc = dc_json_str(doc, "error_description");
	char c[96], d[224];

	if (!code && first) {
		code = dc_json_str(first, "code");
		desc = dc_json_str(first, "message");
	}
	dc_log_clip(c, sizeof(c), code ? code : "no error code");
	dc_log_clip(d, sizeof(d), desc ? desc : "");
	snprintf(dst, size, "%s%s%s", c, *d ? ": " : "", d);
	json_decref(doc);
}

/* POST a form and take the string `field` from a 200 reply into *out.
 * Non-200 replies come back as 0 with *out NULL: the caller explains them. */
static int post_form(char **out, dc_http_resp *resp, const char *url, const dc_buf *body, const char *what,
		     const char *field)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
					       "Accept: application/json", NULL };
	json_t *doc = NULL;
	const char *v;
	int err;

	*out = NULL;
	if ((err = dc_http_send(resp, &(dc_http_req){
			.method = "POST",
			.url = url,
			.headers = headers,
			.body = body->ptr,
			.body_len = body->len,
			.what = what,
		})) < 0 || resp->status != 200)
		return err;
	/* no jansson text in messages: it quotes the reply near the error */
	doc = json_loadb(resp->body.ptr, resp->body.len, 0, NULL);
	if (!json_is_object(doc)) {
		err = dc_error_set(DC_ERR, "%s at '%s' sent a reply that is not a JSON object (%zu bytes); check the endpoint",
				   what, url, resp->body.len);
		goto done;
	}
	v = dc_json_str(doc, field);
	if (!v || !*v) {
		err = dc_error_set(DC_ERR, "%s at '%s' answered without a %s; check the endpoint", what, url, field);
		goto done;
	}
	if (dc_log_redact_add(v) < 0 || !(*out = dc_secret_strdup(v)))
		err = oom();
done:
	json_decref(doc);
	return err;
}

static int form_add(dc_buf *b, const char *name, const char *value)
{
	if ((b->len && dc_buf_putc(b, '&') < 0) || dc_buf_puts(b, name) < 0 || dc_buf_putc(b, '=') < 0 ||
	    dc_http_form_escape(b, value) < 0)
		return oom();
	return 0;
}

int dc_azure_aad_token(char **out, const dc_azure_app *app, const char *scope)
{
	dc_buf url = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	char why[352];
	const char *remedy;
	int err;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&url, "%s/%s/oauth2/v2.0/token", app->authority, app->tenant) < 0) {
		err = oom();
		goto done;
	}
	if ((err = form_add(&body, "grant_type", "client_credentials")) < 0 ||
	    (err = form_add(&body, "client_id", app->client_id)) < 0 || (err = form_add(&body, "scope", scope)) < 0)
		goto done;
	if (app->secret)
		err = form_add(&body, "client_secret", app->secret);
	else if ((err = form_add(&body, "client_assertion_type", ASSERTION_TYPE)) == 0)
		err = form_add(&body, "client_assertion", app->assertion);
	if (err < 0)
		goto done;
	dc_log_debug("asking Azure AD at %s for a token for client %s (%s)", url.ptr, app->client_id,
		     app->secret ? "client secret" : "federated token");
	if ((err = post_form(out, &resp, url.ptr, &body, "Azure AD", "access_token")) < 0 || *out)
		goto done;
	reason(why, sizeof(why), &resp);
	if (resp.status >= 500 || resp.status == 429) {
		err = dc_error_set(DC_ERR, "Azure AD at '%s' kept failing with HTTP %ld (%s) after retries; try again later",
				   url.ptr, resp.status, why);
		goto done;
	}
	if (!strncmp(why, "invalid_client", 14))
		remedy = app->secret ? "check AZURE_CLIENT_SECRET (the secret's value, not its id) and AZURE_CLIENT_ID"
				     : "check the token in AZURE_FEDERATED_TOKEN_FILE and the app's federated credential (issuer, subject, audience)";
	else if (resp.status == 404)
		remedy = "check AZURE_AUTHORITY_HOST and AZURE_TENANT_ID";
	else
		remedy = "check AZURE_CLIENT_ID and AZURE_TENANT_ID";
	err = dc_error_set(DC_ERR, "Azure AD refused the service principal '%s' in tenant '%s' (HTTP %ld, %s); %s",
			   app->client_id, app->tenant, resp.status, why, remedy);
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	dc_buf_release(&body);
	return err;
}

int dc_acr_exchange(char **out, const dc_acr_registry *r, const char *tenant, const char *aad_token)
{
	dc_buf url = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	char why[352];
	int err;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&url, "%s/oauth2/exchange", r->url) < 0) {
		err = oom();
		goto done;
	}
	if ((err = form_add(&body, "grant_type", "access_token")) < 0 || (err = form_add(&body, "service", r->host)) < 0 ||
	    (err = form_add(&body, "tenant", tenant)) < 0 || (err = form_add(&body, "access_token", aad_token)) < 0)
		goto done;
	if ((err = post_form(out, &resp, url.ptr, &body, "ACR", "refresh_token")) < 0 || *out)
		goto done;
	reason(why, sizeof(why), &resp);
	if (resp.status >= 500 || resp.status == 429)
		err = dc_error_set(DC_ERR, "ACR at '%s' kept failing with HTTP %ld (%s) after retries; try again later", url.ptr,
				   resp.status, why);
	else if (resp.status == 404)
		err = dc_error_set(DC_ERR, "'%s' has no ACR token exchange (HTTP 404); check that AZURE_REGISTRY names an Azure container registry",
				   url.ptr);
	else
		err = dc_error_set(DC_ERR, "ACR at '%s' refused the token exchange (HTTP %ld, %s); give the service principal a role on registry '%s' (AcrPull) and check AZURE_TENANT_ID",
				   url.ptr, resp.status, why, r->host);
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	dc_buf_release(&body);
	return err;
}

int dc_azure_jwt_exp(time_t *out, const char *jwt)
{
	const char *p = strchr(jwt, '.'), *end;
	dc_buf plain = DC_BUF_INIT;
	json_t *doc = NULL, *exp;
	int err = DC_ERR;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if (!p || !(end = strchr(++p, '.')) || dc_base64url_decode(&plain, p, (size_t)(end - p)) < 0)
		goto done;
	doc = json_loadb(plain.ptr, plain.len, 0, NULL);
	exp = json_object_get(doc, "exp");
	if (json_is_number(exp) && json_number_value(exp) > 0 && json_number_value(exp) < 1e11) {
		*out = (time_t)json_number_value(exp);
		err = 0;
	}
done:
	if (err < 0)
		dc_error_set(DC_ERR, "the token is not a JWT with an exp claim");
	json_decref(doc);
	dc_buf_release(&plain);
	return err;
}
