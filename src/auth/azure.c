/* azure.c -- see azure.h. */
#include "auth/azure.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/oauth2.h"
#include "util/codec.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/url.h"

#define TOKEN_FILE_MAX (64 * 1024)
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static int userinfo_error(const char *var)
{
	return dc_error_set(DC_EUSAGE, "%s has a user name or password in it; remove it from the URL (use the variables for credentials)",
			    var);
}

/* Split an http(s) URL (or a bare host[:port], taken as https) into the
 * "scheme://host[:port]" base and the host. Plain http only to this machine:
 * it would carry a secret or a token. `example` is a good value for `var`. */
static int parse_base(dc_buf *base, dc_buf *host, const char *value, const char *var, const char *example)
{
	char remedy[128];
	int err;

	snprintf(remedy, sizeof(remedy), "set it to e.g. %s", example);
	/* first, so that no message below repeats a password */
	if (dc_url_has_userinfo(value))
		return userinfo_error(var);
	/* a scheme must be https, or http to this machine */
	if (strstr(value, "://") && (err = dc_url_check(value, var, remedy)) < 0)
		return err;
	if (dc_host_from_url(host, value) < 0)
		return dc_error_set(DC_EUSAGE, "%s is '%s', which names no host; %s", var, value, remedy);
	if (!dc_url_host_valid(host->ptr, host->len))
		return dc_error_set(DC_EUSAGE, "%s is '%s', whose host is not a host name; %s", var, value, remedy);
	if (dc_buf_printf(base, "%s%s", strncmp(value, "http://", 7) ? "https://" : "http://", host->ptr) < 0)
		return dc_error_nomem();
	return 0;
}

int dc_acr_registry_parse(dc_acr_registry *out, const char *value, const char *var)
{
	dc_buf base = DC_BUF_INIT, host = DC_BUF_INIT, name = DC_BUF_INIT;
	size_t i;
	int err;

	dc_acr_registry_release(out);
	if (!strstr(value, "://") && !strpbrk(value, ".:/@")) {
		/* a bare registry name, as the portal shows it */
		size_t n = strlen(value);

		if (n < 5 || n > 50 || strspn(value, NAME_CHARS) != n)
			return dc_error_set(DC_EUSAGE, "%s is '%s', not a registry name (5 to 50 letters and digits) or URL; set it to e.g. myregistry or https://myregistry.azurecr.io",
					    var, value);
		for (i = 0; i < n; i++)
			dc_buf_putc(&name, (char)tolower((unsigned char)value[i]));
		if (dc_buf_puts(&name, ".azurecr.io") < 0) {
			err = dc_error_nomem();
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
		err = dc_error_nomem();
	}
done:
	dc_buf_release(&base);
	dc_buf_release(&host);
	dc_buf_release(&name);
	return err;
}

int dc_acr_registry_of_host(dc_acr_registry *out, const char *host)
{
	dc_buf url = DC_BUF_INIT;

	dc_acr_registry_release(out);
	if (dc_buf_printf(&url, "https://%s", host) < 0 || !(out->url = dc_buf_detach(&url, NULL)) ||
	    !(out->host = strdup(host))) {
		dc_buf_release(&url);
		dc_acr_registry_release(out);
		return dc_error_nomem();
	}
	return 0;
}

void dc_acr_registry_release(dc_acr_registry *r)
{
	free(r->url);
	free(r->host);
	*r = (dc_acr_registry)DC_ACR_REGISTRY_INIT;
}

int dc_acr_host_is_acr(const char *host)
{
	static const char *const suffixes[] = { ".azurecr.io", ".azurecr.cn", ".azurecr.de", ".azurecr.us", NULL };
	const char *const *s;
	size_t n = strspn(host, NAME_CHARS);

	if (n < 5 || n > 50)
		return 0;
	for (s = suffixes; *s; s++)
		if (!strcasecmp(host + n, *s))
			return 1;
	return 0;
}

/* The federated token: the whole file, surrounding white space dropped. */
static int read_token_file(dc_sec *out, dc_ctx *ctx, const char *path)
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
	err = dc_sec_setn(out, ctx->redactor, text.ptr + start, text.len - start);
done:
	dc_buf_release(&text);
	return err;
}

static int dup_str(char **out, const char *s)
{
	if (!(*out = strdup(s)))
		return dc_error_nomem();
	return 0;
}

/* AZURE_AUTHORITY_HOST: an https URL (or http to this machine), its path
 * kept (ADFS: https://adfs.example/adfs), no query, no trailing slash. */
static int parse_authority(char **out, const char *value)
{
	static const char *const var = "AZURE_AUTHORITY_HOST";
	const char *url = value ? value : DC_AZURE_AUTHORITY;
	dc_buf b = DC_BUF_INIT;
	int err;

	if (dc_url_has_userinfo(url))
		return userinfo_error(var);
	if (!strstr(url, "://")) { /* a bare host, as some SDKs accept */
		if (dc_buf_printf(&b, "https://%s", url) < 0)
			return dc_error_nomem();
		url = b.ptr;
	}
	if ((err = dc_url_check(url, var, "set it to e.g. " DC_AZURE_AUTHORITY)) < 0)
		goto done;
	if (strpbrk(url, "?#")) {
		err = dc_error_set(DC_EUSAGE, "%s is '%s', which has a query or fragment; set it to the authority's URL, e.g. %s",
				   var, url, DC_AZURE_AUTHORITY);
		goto done;
	}
	if ((err = dup_str(out, url)) < 0)
		goto done;
	{
		size_t n = strlen(*out), min = (size_t)(strstr(*out, "://") - *out) + 4;

		while (n > min && (*out)[n - 1] == '/')
			(*out)[--n] = '\0';
	}
done:
	dc_buf_release(&b);
	return err;
}

int dc_azure_app_from_env(dc_azure_app *out, dc_ctx *ctx)
{
	const dc_env *env = ctx->env;
	const char *id = dc_env_get(env, "AZURE_CLIENT_ID");
	const char *tenant = dc_env_get(env, "AZURE_TENANT_ID");
	const char *secret = dc_env_get(env, "AZURE_CLIENT_SECRET");
	const char *file = dc_env_get(env, "AZURE_FEDERATED_TOKEN_FILE");
	int err;

	dc_azure_app_release(out);
	if ((err = dc_sec_set(&out->secret, ctx->redactor, secret)) < 0)
		goto done;
	if (!secret && !file) {
		err = dc_error_set(DC_EUSAGE, "neither AZURE_CLIENT_SECRET nor AZURE_FEDERATED_TOKEN_FILE is set; set the service principal's secret, or AZURE_USERNAME and AZURE_PASSWORD for the admin user");
		goto done;
	}
	if (!id) {
		err = dc_error_set(DC_EUSAGE, "AZURE_CLIENT_ID is not set; set it to the application (client) id of the service principal");
		goto done;
	}
	if (!tenant) {
		err = dc_error_set(DC_EUSAGE, "AZURE_TENANT_ID is not set; set it to the directory (tenant) id of the service principal");
		goto done;
	}
	if (strlen(tenant) > 256 ||
	    strspn(tenant, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != strlen(tenant)) {
		err = dc_error_set(DC_EUSAGE, "AZURE_TENANT_ID is '%s', not a tenant id or domain; set it to the directory (tenant) id",
				   tenant);
		goto done;
	}
	if (strlen(id) > 256 || strcspn(id, " \t\r\n/") != strlen(id)) {
		err = dc_error_set(DC_EUSAGE, "AZURE_CLIENT_ID is '%s', not an application id; set it to the application (client) id",
				   id);
		goto done;
	}
	if ((err = parse_authority(&out->authority, dc_env_get(env, "AZURE_AUTHORITY_HOST"))) < 0 ||
	    (err = dup_str(&out->tenant, tenant)) < 0 || (err = dup_str(&out->client_id, id)) < 0)
		goto done;
	if (secret) {
		size_t n = strlen(secret);

		if (file)
			dc_log_debug(&ctx->log, "AZURE_CLIENT_SECRET is set; not using AZURE_FEDERATED_TOKEN_FILE");
		if (secret[n - 1] == '\n' || secret[n - 1] == '\r')
			dc_log_warn(&ctx->log, "AZURE_CLIENT_SECRET ends with a line break, which is part of the value as given; remove it if it was not meant (a secret copied with its newline?)");
	} else {
		out->token_file = file;
		err = read_token_file(&out->assertion, ctx, file);
	}
done:
	if (err < 0)
		dc_azure_app_release(out);
	return err;
}

void dc_azure_app_release(dc_azure_app *a)
{
	free(a->authority);
	free(a->tenant);
	free(a->client_id);
	dc_sec_release(&a->secret);
	dc_sec_release(&a->assertion);
	*a = (dc_azure_app)DC_AZURE_APP_INIT;
}

int dc_azure_aad_token(dc_sec *out, dc_ctx *ctx, const dc_azure_app *app, const char *scope)
{
	static const char *const what = "Azure AD";
	dc_buf url = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_oauth2_token_t tok = DC_OAUTH2_TOKEN_INIT;
	char why[352], code[64];
	const char *remedy;
	int err;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&url, "%s/%s/oauth2/v2.0/token", app->authority, app->tenant) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_oauth2_form_add(&body, "grant_type", "client_credentials")) < 0 ||
	    (err = dc_oauth2_form_add(&body, "client_id", app->client_id)) < 0 ||
	    (err = dc_oauth2_form_add(&body, "scope", scope)) < 0)
		goto done;
	if (app->secret.ptr)
		err = dc_oauth2_form_add(&body, "client_secret", app->secret.ptr);
	else if ((err = dc_oauth2_form_add(&body, "client_assertion_type", ASSERTION_TYPE)) == 0)
		err = dc_oauth2_form_add(&body, "client_assertion", app->assertion.ptr ? app->assertion.ptr : "");
	if (err < 0)
		goto done;
	dc_log_debug(&ctx->log, "asking Azure AD at %s for a token for client %s (%s)", url.ptr, app->client_id,
		     app->secret.ptr ? "client secret" : "federated token");
	if ((err = dc_oauth2_post(&resp, ctx, url.ptr, &body, what)) < 0)
		goto done;
	if (resp.status == 200) {
		if ((err = dc_oauth2_token(&tok, ctx, &resp, "access_token", what, url.ptr)) == 0) {
			dc_sec_release(out);
			*out = tok.token;
			tok.token = (dc_sec)DC_SEC_INIT;
		}
		goto done;
	}
	dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx->redactor, &resp);
	if ((err = dc_http_status_error(&resp, what, url.ptr, why)) < 0)
		goto done;
	if (!strcmp(code, "invalid_client"))
		remedy = app->secret.ptr ? "check AZURE_CLIENT_SECRET (the secret's value, not its id) and AZURE_CLIENT_ID"
					 : "check the token in AZURE_FEDERATED_TOKEN_FILE and the app's federated credential (issuer, subject, audience)";
	else if (resp.status == 404)
		remedy = "check AZURE_AUTHORITY_HOST and AZURE_TENANT_ID";
	else
		remedy = "check AZURE_CLIENT_ID and AZURE_TENANT_ID";
	err = dc_error_setc(DC_ERR, resp.status == 404 ? DC_ECLASS_REPLY : DC_ECLASS_AUTH,
			    "Azure AD refused the service principal '%s' in tenant '%s' (HTTP %ld, %s); %s", app->client_id,
			    app->tenant, resp.status, why, remedy);
	dc_error_fields(resp.status, *code ? code : NULL, -1);
done:
	dc_oauth2_token_release(&tok);
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	dc_buf_release(&body);
	return err;
}

int dc_acr_exchange(dc_sec *out, dc_ctx *ctx, const dc_acr_registry *r, const char *tenant, const char *aad_token)
{
	static const char *const what = "ACR";
	dc_buf url = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_oauth2_token_t tok = DC_OAUTH2_TOKEN_INIT;
	char why[352], code[64];
	int err;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&url, "%s/oauth2/exchange", r->url) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_oauth2_form_add(&body, "grant_type", "access_token")) < 0 ||
	    (err = dc_oauth2_form_add(&body, "service", r->host)) < 0 ||
	    (err = dc_oauth2_form_add(&body, "tenant", tenant)) < 0 ||
	    (err = dc_oauth2_form_add(&body, "access_token", aad_token)) < 0)
		goto done;
	if ((err = dc_oauth2_post(&resp, ctx, url.ptr, &body, what)) < 0)
		goto done;
	if (resp.status == 200) {
		if ((err = dc_oauth2_token(&tok, ctx, &resp, "refresh_token", what, url.ptr)) == 0) {
			dc_sec_release(out);
			*out = tok.token;
			tok.token = (dc_sec)DC_SEC_INIT;
		}
		goto done;
	}
	dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx->redactor, &resp);
	if ((err = dc_http_status_error(&resp, what, url.ptr, why)) < 0)
		goto done;
	if (resp.status == 404)
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
				    "'%s' has no ACR token exchange (HTTP 404); check that AZURE_REGISTRY names an Azure container registry",
				    url.ptr);
	else
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH,
				    "ACR at '%s' refused the token exchange (HTTP %ld, %s); give the service principal a role on registry '%s' (AcrPull) and check AZURE_TENANT_ID",
				    url.ptr, resp.status, why, r->host);
	dc_error_fields(resp.status, *code ? code : NULL, -1);
done:
	dc_oauth2_token_release(&tok);
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
	/* the caller bounds it; this only keeps the conversion defined */
	if (json_is_number(exp) && json_number_value(exp) > -1e15 && json_number_value(exp) < 1e15) {
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
