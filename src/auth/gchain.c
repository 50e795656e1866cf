/* gchain.c -- see gchain.h. */
#include "auth/gchain.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "auth/command.h"
#include "auth/oauth2.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "util/url.h"

#define FILE_MAX (256 * 1024)
#define STS_URL "https://sts.googleapis.com/v1/token"
#define IAM_URL "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/%s:generateAccessToken"
#define EXCHANGE_GRANT "urn:ietf:params:oauth:grant-type:token-exchange"
#define ACCESS_TOKEN_TYPE "urn:ietf:params:oauth:token-type:access_token"
#define JWT_TYPE "urn:ietf:params:oauth:token-type:jwt"
#define EXEC_TIMEOUT_MS 30000

static int dup_str(char **out, const char *s)
{
	free(*out);
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return dc_error_nomem();
	return 0;
}

static void tried(dc_buf *t, const char *what)
{
	if (t->len)
		dc_buf_puts(t, "; ");
	dc_buf_puts(t, what);
}

/* ---- parsing credentials files ---- */

static int url_ok(const char *url, const char *origin, const char *field)
{
	char what[1200];

	snprintf(what, sizeof(what), "the %s in %s", field, origin);
	return dc_url_check(url, what, "fix the file");
}

static int parse_user(dc_google_creds *g, dc_ctx *ctx, json_t *doc)
{
	const char *id = dc_json_str(doc, "client_id"), *secret = dc_json_str(doc, "client_secret"),
		   *refresh = dc_json_str(doc, "refresh_token"), *uri = dc_json_str(doc, "token_uri");
	int err;

	if ((err = dc_sec_set(&g->client_secret, ctx->redactor, secret)) < 0 ||
	    (err = dc_sec_set(&g->refresh_token, ctx->redactor, refresh)) < 0)
		return err;
	if (!id || !*id || !secret || !*secret || !refresh || !*refresh)
		return dc_error_set(DC_EUSAGE, "%s is an authorized_user file without client_id, client_secret and refresh_token; run `gcloud auth application-default login` again",
				    g->origin);
	if (uri && (err = url_ok(uri, g->origin, "token_uri")) < 0)
		return err;
	g->kind = DC_GOOGLE_USER;
	if ((err = dup_str(&g->client_id, id)) < 0 || (err = dup_str(&g->token_uri, uri ? uri : DC_GOOGLE_TOKEN_URI)) < 0)
		return err;
	return 0;
}

/* The service account's email in an impersonation URL:
 * .../serviceAccounts/EMAIL:generateAccessToken */
static int impersonated_of(char **out, const char *url)
{
	const char *end = strstr(url, ":generateAccessToken"), *start;

	if (!end)
		return DC_ERR;
	for (start = end; start > url && start[-1] != '/'; start--)
		;
	if (start == end || !memchr(start, '@', (size_t)(end - start)))
		return DC_ERR;
	if (!(*out = strndup(start, (size_t)(end - start))))
		return dc_error_nomem();
	return 0;
}

static int parse_headers(dc_google_creds *g, dc_ctx *ctx, json_t *h)
{
	const char *name;
	json_t *v;
	size_t n = 0;

	if (!h)
		return 0;
	if (!json_is_object(h))
		return dc_error_set(DC_EUSAGE, "%s has credential_source.headers that is not an object; fix the file", g->origin);
	if (!(g->headers = calloc(json_object_size(h) + 1, sizeof(char *))))
		return dc_error_nomem();
	json_object_foreach(h, name, v) {
		const char *value = json_string_value(v);
		dc_buf line = DC_BUF_INIT;

		if (!value || strpbrk(value, "\r\n") || strpbrk(name, ":\r\n ") || !*name)
			return dc_error_set(DC_EUSAGE, "%s has a credential_source header '%s' that is not a name and a one-line value; fix the file",
					    g->origin, name);
		/* a header may carry a bearer token (GitHub's, the action writes it) */
		if (dc_redactor_add(ctx->redactor, value, strlen(value)) < 0 ||
		    dc_buf_printf(&line, "%s: %s", name, value) < 0)
			return dc_error_nomem();
		g->headers[n++] = dc_buf_detach(&line, NULL);
	}
	return 0;
}

static int parse_external(dc_google_creds *g, dc_ctx *ctx, json_t *doc)
{
	const char *aud = dc_json_str(doc, "audience"), *type = dc_json_str(doc, "subject_token_type"),
		   *url = dc_json_str(doc, "token_url"), *imp = dc_json_str(doc, "service_account_impersonation_url"),
		   *proj = dc_json_str(doc, "workforce_pool_user_project");
	json_t *src = json_object_get(doc, "credential_source"), *fmt, *exec;
	const char *file, *surl, *ftype;
	int err;

	if (!aud || !*aud || !type || !*type || !json_is_object(src))
		return dc_error_set(DC_EUSAGE, "%s is an external_account file without audience, subject_token_type and credential_source; regenerate it with `gcloud iam workload-identity-pools create-cred-config`",
				    g->origin);
	if (url && (err = url_ok(url, g->origin, "token_url")) < 0)
		return err;
	if (imp) {
		if ((err = url_ok(imp, g->origin, "service_account_impersonation_url")) < 0)
			return err;
		if ((err = impersonated_of(&g->impersonated, imp)) < 0)
			return err == DC_ERR ? dc_error_set(DC_EUSAGE, "%s has a service_account_impersonation_url that names no service account (.../serviceAccounts/EMAIL:generateAccessToken); fix the file",
							    g->origin)
					     : err;
	}
	if ((err = dup_str(&g->audience, aud)) < 0 || (err = dup_str(&g->subject_token_type, type)) < 0 ||
	    (err = dup_str(&g->token_uri, url ? url : STS_URL)) < 0 || (err = dup_str(&g->impersonation_url, imp)) < 0 ||
	    (err = dup_str(&g->user_project, proj)) < 0)
		return err;
	fmt = json_object_get(src, "format");
	ftype = fmt ? dc_json_str(fmt, "type") : NULL;
	if (ftype && !strcmp(ftype, "json")) {
		const char *field = dc_json_str(fmt, "subject_token_field_name");

		if (!field || !*field)
			return dc_error_set(DC_EUSAGE, "%s has credential_source.format json without subject_token_field_name; fix the file",
					    g->origin);
		if ((err = dup_str(&g->json_field, field)) < 0)
			return err;
	} else if (ftype && strcmp(ftype, "text")) {
		return dc_error_set(DC_EUSAGE, "%s has credential_source.format.type '%s'; use text or json", g->origin, ftype);
	}
	file = dc_json_str(src, "file");
	surl = dc_json_str(src, "url");
	exec = json_object_get(src, "executable");
	g->kind = DC_GOOGLE_EXTERNAL;
	if (file && !surl && !exec) {
		g->subject = DC_GSUB_FILE;
		return dup_str(&g->source, file);
	}
	if (surl && !file && !exec) {
		g->subject = DC_GSUB_URL;
		if ((err = url_ok(surl, g->origin, "credential_source.url")) < 0 ||
		    (err = parse_headers(g, ctx, json_object_get(src, "headers"))) < 0)
			return err;
		return dup_str(&g->source, surl);
	}
	if (exec && !file && !surl) {
		const char *cmd = dc_json_str(exec, "command");
		const char *allow = dc_env_get(ctx->env, "GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES");

		if (!cmd || !*cmd)
			return dc_error_set(DC_EUSAGE, "%s has credential_source.executable without a command; fix the file", g->origin);
		if (!allow || strcmp(allow, "1"))
			return dc_error_set(DC_EUSAGE, "%s runs an executable for its subject token; set GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1 to allow it",
					    g->origin);
		g->subject = DC_GSUB_EXEC;
		return dup_str(&g->source, cmd);
	}
	if (json_object_get(src, "environment_id") || json_object_get(src, "certificate"))
		return dc_error_set(DC_EUSAGE, "%s takes its subject token from AWS or an X.509 certificate, which dcgen does not support; use a file, url or executable source",
				    g->origin);
	return dc_error_set(DC_EUSAGE, "%s has a credential_source with none (or several) of file, url and executable; fix the file",
			    g->origin);
}

int dc_google_creds_parse(dc_google_creds *g, dc_ctx *ctx, const char *json, size_t len, const char *origin)
{
	json_t *doc;
	const char *type;
	int err;

	snprintf(g->origin, sizeof(g->origin), "%s", origin);
	if (len >= 3 && !memcmp(json, "\xef\xbb\xbf", 3)) {
		json += 3;
		len -= 3;
	}
	if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(doc)) {
		json_decref(doc);
		/* the key parser has the helpful messages (a path, base64) */
		return dc_google_key_parse(&g->key, ctx, json, len, origin);
	}
	type = dc_json_str(doc, "type");
	if (!type || !strcmp(type, "service_account")) {
		g->kind = DC_GOOGLE_SA_KEY;
		err = dc_google_key_parse(&g->key, ctx, json, len, origin);
	} else if (!strcmp(type, "authorized_user")) {
		err = parse_user(g, ctx, doc);
	} else if (!strcmp(type, "external_account")) {
		err = parse_external(g, ctx, doc);
	} else {
		err = dc_error_set(DC_EUSAGE, "%s is of type '%s'; dcgen takes service_account, authorized_user and external_account",
				   origin, type);
	}
	json_decref(doc);
	return err;
}

static int from_file(dc_google_creds *g, dc_ctx *ctx, const char *path, const char *origin)
{
	dc_buf text = DC_BUF_INIT;
	int err;

	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if ((err = dc_fs_read_secret(&text, path, FILE_MAX, origin)) == 0 &&
	    (err = dc_redactor_add(ctx->redactor, text.ptr, text.len)) == 0)
		err = dc_google_creds_parse(g, ctx, text.ptr, text.len, origin);
	dc_buf_release(&text);
	return err;
}

/* projects/N/locations/global/workloadIdentityPools/P/providers/X */
static int provider_valid(const char *p)
{
	return !strncmp(p, "projects/", 9) && strstr(p, "/locations/") && strstr(p, "/workloadIdentityPools/") &&
	       strstr(p, "/providers/") && !strpbrk(p, " \t\r\n?#");
}

static int from_gha(dc_google_creds *g, dc_ctx *ctx, const char *provider)
{
	const char *sa = dc_env_get(ctx->env, "GOOGLE_SERVICE_ACCOUNT");
	const char *sts = dc_env_get(ctx->env, "DCGEN_GOOGLE_STS_URL"), *iam = dc_env_get(ctx->env, "DCGEN_GOOGLE_IAM_URL");
	dc_buf b = DC_BUF_INIT;
	int err;

	if (!provider_valid(provider))
		return dc_error_set(DC_EUSAGE, "GOOGLE_WORKLOAD_IDENTITY_PROVIDER is '%s', not projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER; fix it",
				    provider);
	if (sa && (!strchr(sa, '@') || strpbrk(sa, "/ \t\r\n:")))
		return dc_error_set(DC_EUSAGE, "GOOGLE_SERVICE_ACCOUNT is '%s', not a service account's email; fix it", sa);
	if ((sts && (err = dc_url_check(sts, "DCGEN_GOOGLE_STS_URL", "fix it")) < 0) ||
	    (iam && (err = dc_url_check(iam, "DCGEN_GOOGLE_IAM_URL", "fix it")) < 0))
		return err;
	snprintf(g->origin, sizeof(g->origin), "GOOGLE_WORKLOAD_IDENTITY_PROVIDER");
	g->kind = DC_GOOGLE_EXTERNAL;
	g->subject = DC_GSUB_GHA;
	dc_buf_printf(&b, "//iam.googleapis.com/%s", provider);
	if (dc_buf_failed(&b) || (err = dup_str(&g->audience, b.ptr)) < 0)
		goto nomem;
	dc_buf_reset(&b);
	/* google-github-actions/auth: the GitHub token's audience */
	dc_buf_printf(&b, "https://iam.googleapis.com/%s", provider);
	if (dc_buf_failed(&b) || (err = dup_str(&g->gha_audience, b.ptr)) < 0 ||
	    (err = dup_str(&g->subject_token_type, JWT_TYPE)) < 0 || (err = dup_str(&g->token_uri, sts ? sts : STS_URL)) < 0 ||
	    (err = dup_str(&g->source, "GitHub Actions")) < 0)
		goto nomem;
	if (sa) {
		dc_buf_reset(&b);
		if (iam)
			dc_buf_printf(&b, "%s/v1/projects/-/serviceAccounts/%s:generateAccessToken", iam, sa);
		else
			dc_buf_printf(&b, IAM_URL, sa);
		if (dc_buf_failed(&b) || (err = dup_str(&g->impersonation_url, b.ptr)) < 0 ||
		    (err = dup_str(&g->impersonated, sa)) < 0)
			goto nomem;
	}
	dc_buf_release(&b);
	return 0;
nomem:
	dc_buf_release(&b);
	return dc_error_nomem();
}

int dc_google_creds_from_env(dc_google_creds *g, dc_ctx *ctx)
{
	const char *content = dc_env_get(ctx->env, "GOOGLE_AUTH_JSON");
	const char *path = dc_env_get(ctx->env, "GOOGLE_APPLICATION_CREDENTIALS");
	const char *cfg = dc_env_get(ctx->env, "CLOUDSDK_CONFIG"), *home = dc_env_get(ctx->env, "HOME");
	const char *provider = dc_env_get(ctx->env, "GOOGLE_WORKLOAD_IDENTITY_PROVIDER");
	dc_buf why = DC_BUF_INIT, adc = DC_BUF_INIT;
	char origin[1100];
	int err;

	if (content) {
		/* the whole value is secret, whatever shape it has */
		if ((err = dc_redactor_add(ctx->redactor, content, strlen(content))) < 0)
			return err;
		if (path)
			dc_log_debug(&ctx->log, "GOOGLE_AUTH_JSON is set; ignoring GOOGLE_APPLICATION_CREDENTIALS");
		/* the classic variable holds a service-account key and nothing else */
		g->kind = DC_GOOGLE_SA_KEY;
		snprintf(g->origin, sizeof(g->origin), "GOOGLE_AUTH_JSON");
		return dc_google_key_parse(&g->key, ctx, content, strlen(content), "GOOGLE_AUTH_JSON");
	}
	tried(&why, "GOOGLE_AUTH_JSON: not set");
	if (path) {
		snprintf(origin, sizeof(origin), "GOOGLE_APPLICATION_CREDENTIALS file '%s'", path);
		err = from_file(g, ctx, path, origin);
		goto done;
	}
	tried(&why, "GOOGLE_APPLICATION_CREDENTIALS: not set");
	if (cfg)
		dc_buf_printf(&adc, "%s/application_default_credentials.json", cfg);
	else if (home)
		dc_buf_printf(&adc, "%s/.config/gcloud/application_default_credentials.json", home);
	if (dc_buf_failed(&adc)) {
		err = dc_error_nomem();
		goto done;
	}
	if (adc.len && access(adc.ptr, F_OK) == 0) {
		snprintf(origin, sizeof(origin), "the gcloud credentials file '%s'", adc.ptr);
		err = from_file(g, ctx, adc.ptr, origin);
		goto done;
	}
	dc_buf_printf(&why, "; gcloud credentials file: %s", adc.len ? "absent" : "no HOME");
	if (provider) {
		if ((err = dc_gha_from_env(&g->gha, ctx)) == 0)
			err = from_gha(g, ctx, provider);
		else if (err == DC_ENOTFOUND)
			err = dc_error_set(DC_EUSAGE, "GOOGLE_WORKLOAD_IDENTITY_PROVIDER is set but ACTIONS_ID_TOKEN_REQUEST_URL is not; give the GitHub Actions job `permissions: id-token: write`");
		goto done;
	}
	tried(&why, "GitHub Actions: GOOGLE_WORKLOAD_IDENTITY_PROVIDER is not set");
	g->kind = DC_GOOGLE_METADATA;
	if ((err = dc_google_metadata_base(&g->metadata, ctx->env)) < 0)
		goto done;
	if (dc_buf_failed(&why) || !(g->tried = dc_buf_detach(&why, NULL)))
		err = dc_error_nomem();
done:
	dc_buf_release(&why);
	dc_buf_release(&adc);
	return err;
}

/* ---- cache identity ---- */

int dc_google_creds_key(dc_buf *principal, dc_buf *scope, dc_sec *seal, const dc_google_creds *g)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	dc_buf hex = DC_BUF_INIT;
	int err = 0;

	switch (g->kind) {
	case DC_GOOGLE_SA_KEY:
		dc_buf_puts(principal, g->key.client_email);
		dc_buf_printf(scope, "token_uri=%s\nproject=%s\nprivate_key_id=%s\n", g->key.token_uri,
			      g->key.project_id ? g->key.project_id : "", g->key.private_key_id ? g->key.private_key_id : "");
		err = dc_sec_setn(seal, NULL, g->key.private_key.ptr, g->key.private_key.len);
		break;
	case DC_GOOGLE_USER:
		/* gcloud's client id is everyone's: the refresh token's digest
		 * tells users apart without being the secret */
		SHA256((const unsigned char *)g->refresh_token.ptr, g->refresh_token.len, md);
		if ((err = dc_hex(&hex, md, 8)) < 0)
			break;
		dc_buf_printf(principal, "authorized_user:%s", g->client_id);
		dc_buf_printf(scope, "token_uri=%s\nrefresh_token_sha256=%s\n", g->token_uri, hex.ptr);
		err = dc_sec_setn(seal, NULL, g->refresh_token.ptr, g->refresh_token.len);
		break;
	case DC_GOOGLE_EXTERNAL:
		dc_buf_puts(principal, g->impersonated ? g->impersonated : g->audience);
		dc_buf_printf(scope, "audience=%s\ntoken_url=%s\nimpersonation=%s\nsubject=%d:%s\n", g->audience,
			      g->token_uri, g->impersonation_url ? g->impersonation_url : "", (int)g->subject, g->source);
		break;
	default:
		return 0;
	}
	dc_buf_release(&hex);
	if (err < 0)
		return err;
	if (dc_buf_failed(principal) || dc_buf_failed(scope))
		return dc_error_nomem();
	return 1;
}

const char *dc_google_creds_describe(const dc_google_creds *g, char *buf, size_t size)
{
	switch (g->kind) {
	case DC_GOOGLE_SA_KEY:
		snprintf(buf, size, "service account '%s' (%s)", g->key.client_email, g->key.origin);
		break;
	case DC_GOOGLE_USER:
		snprintf(buf, size, "authorized user (%s)", g->origin);
		break;
	case DC_GOOGLE_EXTERNAL:
		snprintf(buf, size, "workload identity federation (%s, subject token from %s%s%s)", g->origin,
			 g->subject == DC_GSUB_GHA ? "GitHub Actions" : g->subject == DC_GSUB_FILE ? "a file"
				 : g->subject == DC_GSUB_URL ? "a URL" : "an executable",
			 g->impersonated ? ", impersonating " : "", g->impersonated ? g->impersonated : "");
		break;
	default:
		snprintf(buf, size, "the GCE metadata server (%s)", g->metadata.ptr);
	}
	return buf;
}

/* ---- tokens ---- */

static int refuse(const dc_http_resp *r, dc_ctx *ctx, const char *what, const char *url, const char *remedy)
{
	char why[352], code[64];
	int err;

	dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx->redactor, r);
	if ((err = dc_http_status_error(r, what, url, why)) < 0)
		return err;
	err = dc_error_setc(DC_ERR, r->status >= 400 && r->status < 404 ? DC_ECLASS_AUTH : DC_ECLASS_REPLY,
			    "%s at '%s' refused (HTTP %ld, %s); %s", what, url, r->status, why, remedy);
	dc_error_fields(r->status, *code ? code : NULL, -1);
	return err;
}

static int user_token(dc_google_token *out, dc_ctx *ctx, const dc_google_creds *g)
{
	static const char *const what = "the Google token endpoint";
	dc_buf form = DC_BUF_INIT;
	dc_http_resp r = DC_HTTP_RESP_INIT;
	int err;

	dc_buf_init(&form, 0, DC_BUF_SECRET);
	if ((err = dc_oauth2_form_add(&form, "grant_type", "refresh_token")) < 0 ||
	    (err = dc_oauth2_form_add(&form, "client_id", g->client_id)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "client_secret", g->client_secret.ptr)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "refresh_token", g->refresh_token.ptr)) < 0 ||
	    (err = dc_oauth2_post(&r, ctx, g->token_uri, &form, what)) < 0)
		goto done;
	if (r.status == 200)
		err = dc_google_take_token(out, ctx, &r, what, g->token_uri);
	else
		err = refuse(&r, ctx, what, g->token_uri, "the refresh token may be revoked: run `gcloud auth application-default login` again");
done:
	dc_http_resp_release(&r);
	dc_buf_release(&form);
	return err;
}

/* The subject token out of `text`: the whole of it, or a JSON field. */
static int subject_of(dc_sec *out, dc_ctx *ctx, const dc_google_creds *g, const char *text, size_t len)
{
	json_t *doc = NULL;
	const char *v;
	size_t n = len;
	int err;

	if (!g->json_field) {
		while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
			n--;
		if (!n || memchr(text, '\0', n))
			return dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "the subject token of %s is empty", g->origin);
		return dc_sec_setn(out, ctx->redactor, text, n);
	}
	if ((err = dc_json_parse_object(&doc, text, len, "the subject token source")) < 0)
		return err;
	if (!(v = dc_json_str(doc, g->json_field)) || !*v)
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "the subject token source of %s has no string field '%s'",
				    g->origin, g->json_field);
	else
		err = dc_sec_set(out, ctx->redactor, v);
	json_decref(doc);
	return err;
}

/* google-auth pluggable.py: the executable's JSON. */
static int exec_subject(dc_sec *out, dc_ctx *ctx, const dc_google_creds *g)
{
	dc_buf text = DC_BUF_INIT, e1 = DC_BUF_INIT, e2 = DC_BUF_INIT, e3 = DC_BUF_INIT;
	char *extra[5] = { 0 };
	json_t *doc = NULL, *v;
	const char *tok;
	char what[200];
	int err;

	dc_buf_init(&text, 0, DC_BUF_SECRET);
	dc_buf_printf(&e1, "GOOGLE_EXTERNAL_ACCOUNT_AUDIENCE=%s", g->audience);
	dc_buf_printf(&e2, "GOOGLE_EXTERNAL_ACCOUNT_TOKEN_TYPE=%s", g->subject_token_type);
	dc_buf_printf(&e3, "GOOGLE_EXTERNAL_ACCOUNT_IMPERSONATED_EMAIL=%s", g->impersonated ? g->impersonated : "");
	extra[0] = e1.ptr;
	extra[1] = e2.ptr;
	extra[2] = "GOOGLE_EXTERNAL_ACCOUNT_INTERACTIVE=0";
	extra[3] = g->impersonated ? e3.ptr : NULL;
	snprintf(what, sizeof(what), "the executable of %.150s", g->origin);
	if (dc_buf_failed(&e1) || dc_buf_failed(&e2) || dc_buf_failed(&e3)) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_command_run(&text, ctx, g->source, extra, EXEC_TIMEOUT_MS, what)) < 0 ||
	    (err = dc_json_parse_object(&doc, text.ptr, text.len, what)) < 0)
		goto done;
	v = json_object_get(doc, "version");
	if (!json_is_integer(v) || json_integer_value(v) != 1 || !json_is_true(json_object_get(doc, "success"))) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s answered without version 1 and success true (%.100s); check it",
				    what, dc_json_str(doc, "message") ? dc_json_str(doc, "message") : "no message");
		goto done;
	}
	tok = dc_json_str(doc, "id_token");
	if (!tok)
		tok = dc_json_str(doc, "saml_response");
	if (!tok || !*tok) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s answered without id_token or saml_response", what);
		goto done;
	}
	v = json_object_get(doc, "expiration_time");
	if (json_is_integer(v) && json_integer_value(v) <= (json_int_t)dc_ctx_now(ctx)) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s answered a token that expired already", what);
		goto done;
	}
	err = dc_sec_set(out, ctx->redactor, tok);
done:
	json_decref(doc);
	dc_buf_release(&text);
	dc_buf_release(&e1);
	dc_buf_release(&e2);
	dc_buf_release(&e3);
	return err;
}

static int url_subject(dc_sec *out, dc_ctx *ctx, const dc_google_creds *g)
{
	dc_http_resp r = DC_HTTP_RESP_INIT;
	int err;

	if ((err = dc_ctx_http(ctx)) < 0 ||
	    (err = dc_http_send(ctx->http, &r, &(dc_http_req){ .method = "GET", .url = g->source,
							       .headers = (const char *const *)g->headers,
							       .what = "the subject token URL" })) < 0)
		goto done;
	if (r.status != 200)
		err = refuse(&r, ctx, "the subject token URL", g->source, "check credential_source.url and its headers");
	else
		err = subject_of(out, ctx, g, r.body.ptr, r.body.len);
done:
	dc_http_resp_release(&r);
	return err;
}

static int subject_token(dc_sec *out, dc_ctx *ctx, const dc_google_creds *g)
{
	dc_buf text = DC_BUF_INIT;
	int err;

	switch (g->subject) {
	case DC_GSUB_FILE:
		dc_buf_init(&text, 0, DC_BUF_SECRET);
		if ((err = dc_fs_read_secret(&text, g->source, FILE_MAX, "credential_source.file")) == 0)
			err = subject_of(out, ctx, g, text.ptr, text.len);
		dc_buf_release(&text);
		return err;
	case DC_GSUB_URL:
		return url_subject(out, ctx, g);
	case DC_GSUB_EXEC:
		return exec_subject(out, ctx, g);
	default:
		return dc_gha_token(out, ctx, &g->gha, g->gha_audience);
	}
}

static int sts_exchange(dc_google_token *out, dc_ctx *ctx, const dc_google_creds *g, const char *subject,
			const char *scope)
{
	static const char *const what = "Google STS";
	dc_buf form = DC_BUF_INIT, opts = DC_BUF_INIT;
	dc_http_resp r = DC_HTTP_RESP_INIT;
	int err;

	dc_buf_init(&form, 0, DC_BUF_SECRET);
	if ((err = dc_oauth2_form_add(&form, "grant_type", EXCHANGE_GRANT)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "audience", g->audience)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "scope", g->impersonation_url ? DC_GOOGLE_SCOPE : scope)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "requested_token_type", ACCESS_TOKEN_TYPE)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "subject_token", subject)) < 0 ||
	    (err = dc_oauth2_form_add(&form, "subject_token_type", g->subject_token_type)) < 0)
		goto done;
	if (g->user_project && !g->impersonation_url) {
		dc_buf_printf(&opts, "{\"userProject\":\"%s\"}", g->user_project);
		if (dc_buf_failed(&opts) || (err = dc_oauth2_form_add(&form, "options", opts.ptr)) < 0) {
			err = err < 0 ? err : dc_error_nomem();
			goto done;
		}
	}
	if ((err = dc_oauth2_post(&r, ctx, g->token_uri, &form, what)) < 0)
		goto done;
	if (r.status == 200)
		err = dc_google_take_token(out, ctx, &r, what, g->token_uri);
	else
		err = refuse(&r, ctx, what, g->token_uri, "check the pool provider's attribute condition and the audience in the credentials");
done:
	dc_http_resp_release(&r);
	dc_buf_release(&form);
	dc_buf_release(&opts);
	return err;
}

static int impersonate(dc_google_token *out, dc_ctx *ctx, const dc_google_creds *g, const char *federated,
		       const char *scope)
{
	static const char *const what = "IAM credentials";
	dc_buf auth = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp r = DC_HTTP_RESP_INIT;
	const char *headers[4] = { NULL, "Content-Type: application/json", "Accept: application/json", NULL };
	json_t *doc = NULL;
	const char *tok, *exp;
	time_t t;
	int err;

	dc_buf_init(&auth, 0, DC_BUF_SECRET);
	dc_buf_printf(&auth, "Authorization: Bearer %s", federated);
	dc_buf_printf(&body, "{\"scope\":[\"%s\"],\"lifetime\":\"3600s\"}", scope);
	if (dc_buf_failed(&auth) || dc_buf_failed(&body)) {
		err = dc_error_nomem();
		goto done;
	}
	headers[0] = auth.ptr;
	if ((err = dc_ctx_http(ctx)) < 0 ||
	    (err = dc_http_send(ctx->http, &r, &(dc_http_req){ .method = "POST", .url = g->impersonation_url,
							       .headers = headers, .body = body.ptr,
							       .body_len = body.len, .what = what })) < 0)
		goto done;
	if (r.status != 200) {
		err = refuse(&r, ctx, what, g->impersonation_url, "grant the pool's principal roles/iam.workloadIdentityUser (or Service Account Token Creator) on the service account");
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, what)) < 0)
		goto done;
	tok = dc_json_str(doc, "accessToken");
	exp = dc_json_str(doc, "expireTime");
	if (!tok || !*tok) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s answered without accessToken", what);
		goto done;
	}
	if ((err = dc_sec_set(&out->access_token, ctx->redactor, tok)) < 0)
		goto done;
	out->expires_at = exp && dc_time_parse_rfc3339(&t, exp) == 0 ? t : 0;
done:
	json_decref(doc);
	dc_http_resp_release(&r);
	dc_buf_release(&auth);
	dc_buf_release(&body);
	return err;
}

static int external_token(dc_google_token *out, dc_ctx *ctx, const dc_google_creds *g, const char *scope)
{
	dc_sec subject = DC_SEC_INIT;
	dc_google_token fed = DC_GOOGLE_TOKEN_INIT;
	int err;

	if ((err = subject_token(&subject, ctx, g)) < 0 || (err = sts_exchange(&fed, ctx, g, subject.ptr, scope)) < 0)
		goto done;
	if (!g->impersonation_url) {
		*out = fed;
		fed = (dc_google_token)DC_GOOGLE_TOKEN_INIT;
		goto done;
	}
	err = impersonate(out, ctx, g, fed.access_token.ptr, scope);
done:
	dc_sec_release(&subject);
	dc_google_token_release(&fed);
	return err;
}

int dc_google_creds_token(dc_google_token *out, dc_ctx *ctx, const dc_google_creds *g, const char *scope)
{
	char desc[1400];
	int err;

	switch (g->kind) {
	case DC_GOOGLE_SA_KEY:
		err = dc_google_token_fetch(out, ctx, &g->key, scope);
		break;
	case DC_GOOGLE_USER:
		err = user_token(out, ctx, g);
		break;
	case DC_GOOGLE_EXTERNAL:
		err = external_token(out, ctx, g, scope);
		break;
	default:
		err = dc_google_metadata_token(out, ctx, g->metadata.ptr);
		if (err < 0 && g->tried &&
		    (dc_error_get()->klass == DC_ECLASS_NET || dc_error_get()->klass == DC_ECLASS_TIMEOUT)) {
			/* the last resort answered nothing: one line with every source */
			char reason[600];

			snprintf(reason, sizeof(reason), "%s", dc_error_last());
			reason[strcspn(reason, ";")] = '\0';
			err = dc_error_set(DC_EUSAGE, "no Google credentials: %s; metadata server: %s (not on Google Cloud?); set GOOGLE_AUTH_JSON or GOOGLE_APPLICATION_CREDENTIALS, or GOOGLE_WORKLOAD_IDENTITY_PROVIDER on GitHub Actions",
					   g->tried, reason);
		}
	}
	if (err == 0)
		dc_log_debug(&ctx->log, "Google token from %s", dc_google_creds_describe(g, desc, sizeof(desc)));
	return err;
}

void dc_google_creds_release(dc_google_creds *g)
{
	size_t i;

	dc_google_key_release(&g->key);
	free(g->client_id);
	dc_sec_release(&g->client_secret);
	dc_sec_release(&g->refresh_token);
	free(g->token_uri);
	free(g->audience);
	free(g->subject_token_type);
	free(g->impersonation_url);
	free(g->impersonated);
	free(g->source);
	for (i = 0; g->headers && g->headers[i]; i++)
		dc_secret_free(g->headers[i]);
	free(g->headers);
	free(g->json_field);
	dc_gha_release(&g->gha);
	free(g->gha_audience);
	free(g->user_project);
	dc_buf_release(&g->metadata);
	free(g->tried);
	memset(g, 0, sizeof(*g));
	g->key = (dc_google_key)DC_GOOGLE_KEY_INIT;
	g->metadata = (dc_buf)DC_BUF_INIT;
}
