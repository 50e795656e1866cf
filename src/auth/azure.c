/* azure.c -- see azure.h. */
#include "auth/azure.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "auth/oauth2.h"
#include "util/crypto.h"
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

static int tried(dc_buf *t, const char *what)
{
	if (t->len)
		dc_buf_puts(t, "; ");
	return dc_buf_puts(t, what);
}

/* Read the certificate file now (the costly parse waits for a fetch). */
static int read_cert(dc_azure_app *out, dc_ctx *ctx, const char *path)
{
	dc_buf text = DC_BUF_INIT;
	char what[1100];
	int err;

	dc_buf_init(&text, 0, DC_BUF_SECRET);
	snprintf(what, sizeof(what), "AZURE_CLIENT_CERTIFICATE_PATH '%s'", path);
	if ((err = dc_fs_read_secret(&text, path, TOKEN_FILE_MAX, what)) == 0 &&
	    (err = dc_sec_setn(&out->cert, ctx->redactor, text.ptr, text.len)) == 0)
		err = dup_str(&out->cert_path, path);
	dc_buf_release(&text);
	return err;
}

static int managed_identity(dc_azure_app *out, dc_ctx *ctx, const char *id)
{
	const dc_env *env = ctx->env;
	const char *ep = dc_env_get(env, "IDENTITY_ENDPOINT"), *hdr = dc_env_get(env, "IDENTITY_HEADER");
	const char *imds = dc_env_get(env, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
	int err;

	if ((err = dc_sec_set(&out->mi_header, ctx->redactor, hdr)) < 0)
		return err;
	if (id && (err = dup_str(&out->client_id, id)) < 0)
		return err;
	if (ep && hdr) {
		if ((err = dc_url_check(ep, "IDENTITY_ENDPOINT", "it is App Service's; do not set it yourself")) < 0)
			return err;
		if (strpbrk(hdr, "\r\n"))
			return dc_error_set(DC_EUSAGE, "IDENTITY_HEADER has a line break in it; it is App Service's, do not set it yourself");
		out->kind = DC_AZURE_MI_APPSERVICE;
		return dup_str(&out->mi_url, ep);
	}
	if (imds) {
		if (strncmp(imds, "http://", 7) || dc_url_has_userinfo(imds) || strpbrk(imds, " \t\r\n?#"))
			return dc_error_set(DC_EUSAGE, "AZURE_POD_IDENTITY_AUTHORITY_HOST is not an http URL without a password, query or white space; fix it");
	}
	out->kind = DC_AZURE_MI_IMDS;
	if ((err = dup_str(&out->mi_url, imds ? imds : "http://169.254.169.254")) < 0)
		return err;
	while (strlen(out->mi_url) > 8 && out->mi_url[strlen(out->mi_url) - 1] == '/')
		out->mi_url[strlen(out->mi_url) - 1] = '\0';
	return 0;
}

int dc_azure_app_from_env(dc_azure_app *out, dc_ctx *ctx)
{
	const dc_env *env = ctx->env;
	const char *id = dc_env_get(env, "AZURE_CLIENT_ID");
	const char *tenant = dc_env_get(env, "AZURE_TENANT_ID");
	const char *secret = dc_env_get(env, "AZURE_CLIENT_SECRET");
	const char *cert = dc_env_get(env, "AZURE_CLIENT_CERTIFICATE_PATH");
	const char *file = dc_env_get(env, "AZURE_FEDERATED_TOKEN_FILE");
	dc_buf why = DC_BUF_INIT;
	int err, gha;

	dc_azure_app_release(out);
	if ((err = dc_sec_set(&out->secret, ctx->redactor, secret)) < 0 ||
	    (err = dc_sec_set(&out->cert_password, ctx->redactor, dc_env_get(env, "AZURE_CLIENT_CERTIFICATE_PASSWORD"))) < 0)
		goto done;
	if ((err = dc_gha_from_env(&out->gha, ctx)) < 0 && err != DC_ENOTFOUND)
		goto done;
	gha = err == 0;
	if (!secret && !cert && !file && !(gha && id && tenant)) {
		/* managed identity: say why each source before it did not apply */
		tried(&why, id && tenant ? "environment: AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PATH are not set"
					 : "environment: AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not set");
		tried(&why, "workload identity: AZURE_FEDERATED_TOKEN_FILE is not set");
		tried(&why, gha ? "GitHub Actions OIDC token: AZURE_TENANT_ID or AZURE_CLIENT_ID is not set"
				: "GitHub Actions OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL is not set (give the job `permissions: id-token: write`)");
		dc_gha_release(&out->gha);
		if (dc_buf_failed(&why) || !(out->tried = dc_buf_detach(&why, NULL))) {
			err = dc_error_nomem();
			goto done;
		}
		err = managed_identity(out, ctx, id);
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

		out->kind = DC_AZURE_SECRET;
		if (file)
			dc_log_debug(&ctx->log, "AZURE_CLIENT_SECRET is set; not using AZURE_FEDERATED_TOKEN_FILE");
		if (secret[n - 1] == '\n' || secret[n - 1] == '\r')
			dc_log_warn(&ctx->log, "AZURE_CLIENT_SECRET ends with a line break, which is part of the value as given; remove it if it was not meant (a secret copied with its newline?)");
	} else if (cert) {
		out->kind = DC_AZURE_CERT;
		err = read_cert(out, ctx, cert);
	} else if (file) {
		out->kind = DC_AZURE_FEDERATED;
		out->token_file = file;
		err = read_token_file(&out->assertion, ctx, file);
	} else {
		out->kind = DC_AZURE_GHA;
	}
	if (out->kind != DC_AZURE_GHA)
		dc_gha_release(&out->gha);
done:
	dc_buf_release(&why);
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
	dc_sec_release(&a->cert);
	dc_sec_release(&a->cert_password);
	free(a->cert_path);
	dc_gha_release(&a->gha);
	free(a->mi_url);
	dc_sec_release(&a->mi_header);
	free(a->tried);
	*a = (dc_azure_app)DC_AZURE_APP_INIT;
}

const char *dc_azure_app_describe(const dc_azure_app *a, char *buf, size_t size)
{
	static const char *const how[] = { "client secret", "client certificate", "federated token file",
					   "GitHub Actions OIDC token" };

	if (a->kind == DC_AZURE_MI_APPSERVICE || a->kind == DC_AZURE_MI_IMDS)
		snprintf(buf, size, "managed identity%s%s%s (%s at %s)", a->client_id ? " '" : "",
			 a->client_id ? a->client_id : "", a->client_id ? "'" : "",
			 a->kind == DC_AZURE_MI_IMDS ? "IMDS" : "App Service", a->mi_url);
	else
		snprintf(buf, size, "service principal '%s' in tenant '%s' (%s)", a->client_id, a->tenant, how[a->kind]);
	return buf;
}

/* ---- the certificate's client assertion ---- */

static int load_cert(EVP_PKEY **pk, X509 **cert, const dc_azure_app *app)
{
	BIO *bio = BIO_new_mem_buf(app->cert.ptr, (int)app->cert.len);
	const char *pw = app->cert_password.ptr;
	int ok = 0;

	if (!bio)
		return dc_error_nomem();
	if (app->cert.len > 10 && memmem(app->cert.ptr, app->cert.len, "-----BEGIN", 10)) {
		*pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)(pw ? pw : ""));
		(void)BIO_reset(bio);
		*cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		ok = *pk && *cert;
	} else {
		PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);

		ok = p12 && PKCS12_parse(p12, pw ? pw : "", pk, cert, NULL) == 1 && *pk && *cert;
		PKCS12_free(p12);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (!ok || EVP_PKEY_base_id(*pk) != EVP_PKEY_RSA)
		return dc_error_set(DC_EUSAGE, "AZURE_CLIENT_CERTIFICATE_PATH '%s' holds no RSA private key with its certificate (PEM with both, or PKCS#12)%s; check the file and AZURE_CLIENT_CERTIFICATE_PASSWORD",
				    app->cert_path, pw ? "" : " readable without a password");
	return 0;
}

static int b64url_json(dc_buf *out, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int err;

	if (!text)
		return dc_error_nomem();
	err = dc_base64url_encode(out, text, strlen(text));
	free(text);
	return err;
}

int dc_azure_cert_assertion(dc_sec *out, dc_ctx *ctx, const dc_azure_app *app, const char *token_url)
{
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *der = NULL, thumb[SHA_DIGEST_LENGTH], rnd[16], sig[1024];
	dc_buf x5t = DC_BUF_INIT, jwt = DC_BUF_INIT, jti = DC_BUF_INIT;
	json_t *header = NULL, *claims = NULL;
	size_t siglen = sizeof(sig);
	time_t now = dc_ctx_now(ctx);
	int n, err;

	dc_buf_init(&jwt, 0, DC_BUF_SECRET);
	if ((err = load_cert(&pk, &cert, app)) < 0)
		goto done;
	if ((n = i2d_X509(cert, &der)) <= 0 || !SHA1(der, (size_t)n, thumb) || dc_random(rnd, sizeof(rnd)) < 0) {
		err = dc_error_set(DC_ERR, "cannot read the certificate in AZURE_CLIENT_CERTIFICATE_PATH '%s'", app->cert_path);
		goto done;
	}
	if ((err = dc_base64url_encode(&x5t, thumb, sizeof(thumb))) < 0 || (err = dc_hex(&jti, rnd, sizeof(rnd))) < 0)
		goto done;
	header = json_pack("{s:s, s:s, s:s}", "alg", "RS256", "typ", "JWT", "x5t", x5t.ptr);
	claims = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "aud", token_url, "iss", app->client_id, "sub",
			   app->client_id, "jti", jti.ptr, "nbf", (json_int_t)now, "iat", (json_int_t)now, "exp",
			   (json_int_t)now + 600);
	if (!header || !claims || (err = b64url_json(&jwt, header)) < 0 || dc_buf_putc(&jwt, '.') < 0 ||
	    (err = b64url_json(&jwt, claims)) < 0) {
		err = err < 0 ? err : dc_error_nomem();
		goto done;
	}
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)jwt.ptr, jwt.len) != 1 || siglen > sizeof(sig) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jwt.ptr, jwt.len) != 1) {
		ERR_clear_error();
		err = dc_error_set(DC_EUSAGE, "cannot sign with the key in AZURE_CLIENT_CERTIFICATE_PATH '%s'", app->cert_path);
		goto done;
	}
	if (dc_buf_putc(&jwt, '.') < 0 || (err = dc_base64url_encode(&jwt, sig, siglen)) < 0) {
		err = err < 0 ? err : dc_error_nomem();
		goto done;
	}
	err = dc_sec_setn(out, ctx->redactor, jwt.ptr, jwt.len);
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	X509_free(cert);
	OPENSSL_free(der);
	json_decref(header);
	json_decref(claims);
	dc_buf_release(&x5t);
	dc_buf_release(&jti);
	dc_buf_release(&jwt);
	return err;
}

/* ---- managed identity ---- */

static int mi_token(dc_sec *out, dc_buf *tenant, dc_ctx *ctx, const dc_azure_app *app, const char *scope)
{
	dc_buf url = DC_BUF_INIT, hdr = DC_BUF_INIT, resource = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_oauth2_token_t tok = DC_OAUTH2_TOKEN_INIT;
	const char *headers[3] = { NULL, "Accept: application/json", NULL };
	const char *what = app->kind == DC_AZURE_MI_IMDS ? "Azure IMDS" : "the App Service identity endpoint";
	size_t n = strlen(scope);
	char why[352], code[64], desc[300];
	int err, imds = app->kind == DC_AZURE_MI_IMDS;

	dc_buf_init(&hdr, 0, DC_BUF_SECRET);
	/* a managed identity is asked for a resource, not a scope */
	dc_buf_put(&resource, scope, n > 9 && !strcmp(scope + n - 9, "/.default") ? n - 9 : n);
	if (imds)
		dc_buf_printf(&url, "%s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=", app->mi_url);
	else
		dc_buf_printf(&url, "%s%sapi-version=2019-08-01&resource=", app->mi_url, strchr(app->mi_url, '?') ? "&" : "?");
	if (dc_http_form_escape(&url, resource.ptr) < 0 ||
	    (app->client_id && (dc_buf_puts(&url, "&client_id=") < 0 || dc_http_form_escape(&url, app->client_id) < 0))) {
		err = dc_error_nomem();
		goto done;
	}
	if (imds)
		dc_buf_puts(&hdr, "Metadata: true");
	else
		dc_buf_printf(&hdr, "X-IDENTITY-HEADER: %s", app->mi_header.ptr);
	if (dc_buf_failed(&url) || dc_buf_failed(&hdr) || dc_buf_failed(&resource)) {
		err = dc_error_nomem();
		goto done;
	}
	headers[0] = hdr.ptr;
	if ((err = dc_ctx_http(ctx)) < 0)
		goto done;
	/* IMDS: one short attempt, so that off Azure the chain ends in about a
	 * second (azidentity caps its first probe at 1 s too) */
	err = dc_http_send(ctx->http, &resp, &(dc_http_req){
		.method = "GET", .url = url.ptr, .headers = headers, .what = what,
		.deadline_ms = imds ? 1000 : 0, .connect_timeout_ms = imds ? 1000 : 0, .attempts = imds ? 1 : 0,
	});
	if (err < 0) {
		if (imds && (dc_error_get()->klass == DC_ECLASS_NET || dc_error_get()->klass == DC_ECLASS_TIMEOUT))
			err = dc_error_set(DC_EUSAGE, "no Azure credentials: %s; managed identity: IMDS at '%s' did not answer within 1 s (not on Azure); set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET (or a certificate or federated token), or AZURE_USERNAME and AZURE_PASSWORD",
					   app->tried ? app->tried : "", app->mi_url);
		goto done;
	}
	if (resp.status != 200) {
		dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx->redactor, &resp);
		if ((err = dc_http_status_error(&resp, what, app->mi_url, why)) < 0)
			goto done;
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH, "%s refused a token for %s (HTTP %ld, %s); give the VM or app a managed identity%s",
				    what, dc_azure_app_describe(app, desc, sizeof(desc)), resp.status, why,
				    app->client_id ? " and check AZURE_CLIENT_ID (the user-assigned identity's client id)" : "");
		dc_error_fields(resp.status, *code ? code : NULL, -1);
		goto done;
	}
	if ((err = dc_oauth2_token(&tok, ctx, &resp, "access_token", what, app->mi_url)) < 0)
		goto done;
	if (tenant && dc_azure_jwt_claim(tenant, tok.token.ptr, "tid") < 0) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s answered a token without a tenant (tid claim)", what);
		goto done;
	}
	dc_sec_release(out);
	*out = tok.token;
	tok.token = (dc_sec)DC_SEC_INIT;
done:
	dc_oauth2_token_release(&tok);
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	dc_buf_release(&hdr);
	dc_buf_release(&resource);
	return err;
}

int dc_azure_token(dc_sec *out, dc_buf *tenant, dc_ctx *ctx, const dc_azure_app *app, const char *scope)
{
	char desc[300];
	int err;

	if (app->kind == DC_AZURE_MI_IMDS || app->kind == DC_AZURE_MI_APPSERVICE)
		err = mi_token(out, tenant, ctx, app, scope);
	else if ((err = dc_azure_aad_token(out, ctx, app, scope)) == 0 && tenant && dc_buf_puts(tenant, app->tenant) < 0)
		err = dc_error_nomem();
	if (err == 0)
		dc_log_debug(&ctx->log, "Azure AD token from %s", dc_azure_app_describe(app, desc, sizeof(desc)));
	return err;
}

int dc_azure_aad_token(dc_sec *out, dc_ctx *ctx, const dc_azure_app *app, const char *scope)
{
	static const char *const what = "Azure AD";
	dc_buf url = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_oauth2_token_t tok = DC_OAUTH2_TOKEN_INIT;
	dc_sec made = DC_SEC_INIT;
	char why[352], code[64];
	const char *remedy;
	int err = 0;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&url, "%s/%s/oauth2/v2.0/token", app->authority, app->tenant) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if ((err = dc_oauth2_form_add(&body, "grant_type", "client_credentials")) < 0 ||
	    (err = dc_oauth2_form_add(&body, "client_id", app->client_id)) < 0 ||
	    (err = dc_oauth2_form_add(&body, "scope", scope)) < 0)
		goto done;
	if (app->kind == DC_AZURE_CERT)
		err = dc_azure_cert_assertion(&made, ctx, app, url.ptr);
	else if (app->kind == DC_AZURE_GHA)
		err = dc_gha_token(&made, ctx, &app->gha, DC_GHA_AUDIENCE_AZURE);
	if (err < 0)
		goto done;
	if (app->secret.ptr)
		err = dc_oauth2_form_add(&body, "client_secret", app->secret.ptr);
	else if ((err = dc_oauth2_form_add(&body, "client_assertion_type", ASSERTION_TYPE)) == 0)
		err = dc_oauth2_form_add(&body, "client_assertion", made.ptr ? made.ptr : app->assertion.ptr ? app->assertion.ptr : "");
	if (err < 0)
		goto done;
	dc_log_debug(&ctx->log, "asking Azure AD at %s for a token for client %s (%s)", url.ptr, app->client_id,
		     app->secret.ptr ? "client secret" : app->kind == DC_AZURE_CERT ? "certificate" : app->kind == DC_AZURE_GHA ? "GitHub Actions OIDC token" : "federated token");
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
			 : app->kind == DC_AZURE_CERT ? "check that AZURE_CLIENT_CERTIFICATE_PATH holds a certificate registered with the app"
			 : app->kind == DC_AZURE_GHA ? "check the app's federated credential for GitHub Actions (issuer https://token.actions.githubusercontent.com, subject repo:ORG/REPO:..., audience api://AzureADTokenExchange)"
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
	dc_sec_release(&made);
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

int dc_azure_jwt_claim(dc_buf *out, const char *jwt, const char *claim)
{
	const char *p = strchr(jwt, '.'), *end, *v;
	dc_buf plain = DC_BUF_INIT;
	json_t *doc = NULL;
	int err = DC_ERR;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if (!p || !(end = strchr(++p, '.')) || dc_base64url_decode(&plain, p, (size_t)(end - p)) < 0)
		goto done;
	doc = json_loadb(plain.ptr, plain.len, 0, NULL);
	if ((v = dc_json_str(doc, claim)) != NULL && *v)
		err = dc_buf_puts(out, v) < 0 ? dc_error_nomem() : 0;
done:
	if (err == DC_ERR)
		dc_error_set(DC_ERR, "the token is not a JWT with a '%s' claim", claim);
	json_decref(doc);
	dc_buf_release(&plain);
	return err;
}
