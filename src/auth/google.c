/* google.c -- see google.h. */
#include "auth/google.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/codec.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/time.h"
#include "util/url.h"

#define KEY_MAX (64 * 1024)
#define JWT_LIFETIME 3600
#define JWT_GRANT "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define METADATA_TOKEN "instance/service-accounts/default/token"
#define METADATA_DEADLINE_MS 5000
#define METADATA_CONNECT_MS 1000

static int pem_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1; /* never prompt on a terminal: an encrypted key is an error */
}

static int load_pkey(EVP_PKEY **out, const dc_google_key *k)
{
	BIO *bio = BIO_new_mem_buf(k->private_key, -1);
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, pem_no_password, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
		EVP_PKEY_free(pk);
		return dc_error_set(DC_EUSAGE, "the private_key in %s is not an unencrypted PEM RSA private key; use the key file as Google issued it",
				    k->origin);
	}
	*out = pk;
	return 0;
}

static int dup_member(char **out, const json_t *doc, const char *name, int required, const char *origin)
{
	json_t *v = json_object_get(doc, name);

	if (!v || (json_is_string(v) && !*json_string_value(v))) {
		if (required)
			return dc_error_set(DC_EUSAGE, "%s has no %s; use a service-account key file as Google issued it",
					    origin, name);
		return 0;
	}
	if (!json_is_string(v))
		return dc_error_set(DC_EUSAGE, "the %s in %s is not a string; use a service-account key file as Google issued it",
				    name, origin);
	if (!(*out = strdup(json_string_value(v))))
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

int dc_google_key_parse(dc_google_key *out, const char *json, size_t len, const char *origin)
{
	json_error_t jerr;
	json_t *doc;
	const char *type;
	char what[sizeof(out->origin) + 32];
	EVP_PKEY *pk = NULL;
	int err;

	dc_google_key_release(out);
	snprintf(out->origin, sizeof(out->origin), "%s", origin);
	/* no jansson text in the message: it quotes the input near the error */
	if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return dc_error_set(DC_EUSAGE, "%s is not valid JSON (line %d, column %d); give a service-account key file's content as Google issued it",
				    origin, jerr.line, jerr.column);
	if (!json_is_object(doc)) {
		err = dc_error_set(DC_EUSAGE, "%s is JSON but not an object; give a service-account key as Google issued it", origin);
		goto done;
	}
	type = dc_json_str(doc, "type");
	if (type && strcmp(type, "service_account")) {
		err = dc_error_set(DC_EUSAGE, "%s is a '%s' credential, not a service-account key; create a key for a service account",
				   origin, type);
		goto done;
	}
	if ((err = dup_member(&out->private_key, doc, "private_key", 1, origin)) < 0)
		goto done;
	if (dc_log_redact_add(out->private_key) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if ((err = dup_member(&out->client_email, doc, "client_email", 1, origin)) < 0 ||
	    (err = dup_member(&out->private_key_id, doc, "private_key_id", 0, origin)) < 0 ||
	    (err = dup_member(&out->project_id, doc, "project_id", 0, origin)) < 0 ||
	    (err = dup_member(&out->token_uri, doc, "token_uri", 0, origin)) < 0)
		goto done;
	if (!out->token_uri && !(out->token_uri = strdup(DC_GOOGLE_TOKEN_URI))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	snprintf(what, sizeof(what), "the token_uri in %s", origin);
	if ((err = dc_url_check(out->token_uri, what, "fix the key")) < 0 || (err = load_pkey(&pk, out)) < 0)
		goto done;
done:
	EVP_PKEY_free(pk);
	json_decref(doc);
	if (err < 0) {
		char keep[sizeof(out->origin)];

		memcpy(keep, out->origin, sizeof(keep));
		dc_google_key_release(out);
		memcpy(out->origin, keep, sizeof(keep));
	}
	return err;
}

int dc_google_key_from_env(dc_google_key *out, const dc_env *env)
{
	const char *content = dc_env_get(env, "GOOGLE_AUTH_JSON");
	const char *path = dc_env_get(env, "GOOGLE_APPLICATION_CREDENTIALS");
	dc_buf text = DC_BUF_INIT;
	char origin[sizeof(out->origin)];
	int err;

	if (content) {
		/* the whole value is secret, whatever shape it has */
		if (dc_log_redact_add(content) < 0)
			return dc_error_set(DC_ERR, "out of memory");
		if (path)
			dc_log_debug("GOOGLE_AUTH_JSON is set; ignoring GOOGLE_APPLICATION_CREDENTIALS");
		return dc_google_key_parse(out, content, strlen(content), "GOOGLE_AUTH_JSON");
	}
	if (!path)
		return DC_ENOTFOUND;
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	snprintf(origin, sizeof(origin), "GOOGLE_APPLICATION_CREDENTIALS file '%s'", path);
	if ((err = dc_fs_read_secret(&text, path, KEY_MAX, "GOOGLE_APPLICATION_CREDENTIALS file")) == 0 &&
	    (err = dc_log_redact_add(text.ptr)) < 0)
		err = dc_error_set(DC_ERR, "out of memory");
	if (err == 0)
		err = dc_google_key_parse(out, text.ptr, text.len, origin);
	dc_buf_release(&text);
	return err;
}

void dc_google_key_release(dc_google_key *k)
{
	free(k->client_email);
	dc_secret_free(k->private_key);
	free(k->private_key_id);
	free(k->project_id);
	free(k->token_uri);
	*k = (dc_google_key)DC_GOOGLE_KEY_INIT;
}

/* base64url of the compact JSON of `doc`, appended to `out`. */
static int b64url_json(dc_buf *out, const json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int err;

	if (!text)
		return dc_error_set(DC_ERR, "cannot encode the JWT (a key field is not valid UTF-8?); check the key");
	err = dc_base64url_encode(out, text, strlen(text));
	free(text);
	return err;
}

int dc_google_jwt_sign(dc_buf *out, const dc_google_key *k, const char *scope, time_t now)
{
	json_t *header = NULL, *claims = NULL;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, at = out->len;
	int err;

	header = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	if (header && k->private_key_id)
		json_object_set_new(header, "kid", json_string(k->private_key_id));
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", k->client_email, "scope", scope, "aud",
			   k->token_uri, "iat", (json_int_t)now, "exp", (json_int_t)now + JWT_LIFETIME);
	if ((err = b64url_json(out, header)) < 0 || (err = dc_buf_putc(out, '.')) < 0 ||
	    (err = b64url_json(out, claims)) < 0)
		goto done;
	if ((err = load_pkey(&pk, k)) < 0)
		goto done;
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)out->ptr + at, out->len - at) != 1 ||
	    !(sig = malloc(siglen)) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)out->ptr + at, out->len - at) != 1) {
		ERR_clear_error();
		err = dc_error_set(DC_ERR, "cannot sign the JWT with the key in %s (OpenSSL failed); check the key", k->origin);
		goto done;
	}
	if ((err = dc_buf_putc(out, '.')) < 0 || (err = dc_base64url_encode(out, sig, siglen)) < 0)
		goto done;
done:
	if (dc_buf_failed(out))
		err = dc_error_set(DC_ERR, "out of memory");
	if (sig) {
		dc_secret_wipe(sig, siglen); /* part of a bearer grant */
		free(sig);
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	json_decref(header);
	json_decref(claims);
	return err;
}

void dc_google_token_release(dc_google_token *t)
{
	dc_secret_free(t->access_token);
	*t = (dc_google_token)DC_GOOGLE_TOKEN_INIT;
}

/* {"access_token": "...", "expires_in": 3599, "token_type": "Bearer"} */
static int parse_token(dc_google_token *out, const dc_http_resp *r, const char *what, const char *url)
{
	json_t *doc = json_loadb(r->body.ptr, r->body.len, 0, NULL);
	json_t *exp;
	const char *tok;
	int err = 0;

	if (!json_is_object(doc)) {
		err = dc_error_set(DC_ERR, "%s at '%s' sent a reply that is not a JSON object (%zu bytes); check the endpoint",
				   what, url, r->body.len);
		goto done;
	}
	tok = dc_json_str(doc, "access_token");
	if (!tok || !*tok) {
		err = dc_error_set(DC_ERR, "%s at '%s' answered without an access_token; check the endpoint", what, url);
		goto done;
	}
	if (dc_log_redact_add(tok) < 0 || !(out->access_token = strdup(tok))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	exp = json_object_get(doc, "expires_in");
	if (json_is_number(exp) && json_number_value(exp) > 0 && json_number_value(exp) < 1e9)
		out->expires_at = dc_time_now() + (time_t)json_number_value(exp);
	else
		dc_log_warn("%s gave no expires_in with the token; its expiry is unknown", what);
done:
	json_decref(doc);
	return err;
}

/* A one-line reason from an OAuth error reply: "invalid_grant: Invalid JWT Signature." */
static void oauth_reason(char *dst, size_t size, const dc_http_resp *r)
{
	json_t *doc = json_loadb(r->body.ptr, r->body.len, 0, NULL);
	const char *code = dc_json_str(doc, "error"), *desc = dc_json_str(doc, "error_description");
	char c[96], d[224];

	dc_log_clip(c, sizeof(c), code ? code : "no error code");
	dc_log_clip(d, sizeof(d), desc ? desc : "");
	snprintf(dst, size, "%s%s%s", c, *d ? ": " : "", d);
	json_decref(doc);
}

int dc_google_token_fetch(dc_google_token *out, const dc_google_key *k, const char *scope)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
					       "Accept: application/json", NULL };
	dc_buf jwt = DC_BUF_INIT, body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	char why[352];
	int err;

	dc_buf_init(&jwt, 0, DC_BUF_SECRET);
	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if ((err = dc_google_jwt_sign(&jwt, k, scope, dc_time_now())) < 0)
		goto done;
	if (dc_log_redact_add(jwt.ptr) < 0 || dc_buf_puts(&body, "grant_type=") < 0 ||
	    dc_http_form_escape(&body, JWT_GRANT) < 0 || dc_buf_puts(&body, "&assertion=") < 0 ||
	    dc_http_form_escape(&body, jwt.ptr) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	dc_log_debug("asking %s for a token for %s", k->token_uri, k->client_email);
	if ((err = dc_http_send(&resp, &(dc_http_req){
			.method = "POST",
			.url = k->token_uri,
			.headers = headers,
			.body = body.ptr,
			.body_len = body.len,
			.what = "the Google token endpoint",
		})) < 0)
		goto done;
	if (resp.status == 200) {
		err = parse_token(out, &resp, "the Google token endpoint", k->token_uri);
		goto done;
	}
	oauth_reason(why, sizeof(why), &resp);
	if (resp.status >= 500 || resp.status == 429)
		err = dc_error_set(DC_ERR, "the Google token endpoint at '%s' kept failing with HTTP %ld (%s) after retries; try again later",
				   k->token_uri, resp.status, why);
	else if (resp.status == 400 || resp.status == 401 || resp.status == 403)
		err = dc_error_set(DC_ERR, "the Google token endpoint at '%s' refused the key in %s (HTTP %ld, %s); check that the key is current (not deleted or disabled) and the clock is right",
				   k->token_uri, k->origin, resp.status, why);
	else
		err = dc_error_set(DC_ERR, "the Google token endpoint at '%s' answered HTTP %ld (%s); check the key's token_uri",
				   k->token_uri, resp.status, why);
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&jwt);
	dc_buf_release(&body);
	return err;
}

/* http://HOST/computeMetadata/v1/PATH; GCE_METADATA_HOST is "host[:port]"
 * as Google's client libraries read it (a scheme in front is tolerated). */
static int metadata_url(dc_buf *out, const dc_env *env, const char *path)
{
	const char *host = dc_env_get(env, "GCE_METADATA_HOST");

	if (!host)
		host = DC_GOOGLE_METADATA_HOST;
	if (!strncmp(host, "http://", 7))
		host += 7;
	if (!*host || strcspn(host, "/?#@ \t\r\n") != strlen(host))
		return dc_error_set(DC_EUSAGE, "GCE_METADATA_HOST is '%s', not a host[:port]; set it to e.g. 169.254.169.254 or unset it",
				    dc_env_get(env, "GCE_METADATA_HOST"));
	if (dc_buf_printf(out, "http://%s/computeMetadata/v1/%s", host, path) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

/* GET a metadata path with the metadata server's short timeouts. */
static int metadata_get(dc_http_resp *resp, dc_buf *url, const dc_env *env, const char *path)
{
	static const char *const headers[] = { "Metadata-Flavor: Google", NULL };
	char why[512], *semi;
	int err;

	if ((err = metadata_url(url, env, path)) < 0)
		return err;
	/* a machine outside Google Cloud has no metadata server: fail in
	 * seconds, unless the user set the timeouts (0: the configured ones) */
	err = dc_http_send(resp, &(dc_http_req){
		.method = "GET",
		.url = url->ptr,
		.headers = headers,
		.what = "the GCE metadata server",
		.deadline_ms = dc_env_get(env, "DCGEN_TIMEOUT") ? 0 : METADATA_DEADLINE_MS,
		.connect_timeout_ms = dc_env_get(env, "DCGEN_CONNECT_TIMEOUT") ? 0 : METADATA_CONNECT_MS,
	});
	if (err == DC_ERR) {
		snprintf(why, sizeof(why), "%s", dc_error_last());
		if ((semi = strstr(why, "; ")) != NULL)
			*semi = '\0';
		err = dc_error_set(DC_ERR, "%s; no service-account key is set, so a metadata server is needed: set GOOGLE_AUTH_JSON or GOOGLE_APPLICATION_CREDENTIALS, or run on Google Cloud",
				   why);
	}
	return err;
}

static int metadata_status_error(const dc_http_resp *r, const char *url)
{
	if (r->status == 404)
		return dc_error_set(DC_ERR, "the GCE metadata server at '%s' has no such entry (HTTP 404); attach a service account to the instance, or set GOOGLE_AUTH_JSON",
				    url);
	if (r->status >= 500 || r->status == 429)
		return dc_error_set(DC_ERR, "the GCE metadata server at '%s' kept failing with HTTP %ld after retries; try again later",
				    url, r->status);
	return dc_error_set(DC_ERR, "the GCE metadata server at '%s' answered HTTP %ld; check GCE_METADATA_HOST", url,
			    r->status);
}

int dc_google_metadata_token(dc_google_token *out, const dc_env *env)
{
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_buf url = DC_BUF_INIT;
	int err;

	if ((err = metadata_get(&resp, &url, env, METADATA_TOKEN)) < 0)
		goto done;
	if (resp.status != 200)
		err = metadata_status_error(&resp, url.ptr);
	else
		err = parse_token(out, &resp, "the GCE metadata server", url.ptr);
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	return err;
}

int dc_google_metadata_get(dc_buf *out, const dc_env *env, const char *path)
{
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_buf url = DC_BUF_INIT;
	size_t n;
	int err;

	if ((err = metadata_get(&resp, &url, env, path)) < 0)
		goto done;
	if (resp.status != 200) {
		err = metadata_status_error(&resp, url.ptr);
		goto done;
	}
	n = resp.body.len;
	while (n && strchr(" \t\r\n", resp.body.ptr[n - 1]))
		n--;
	if (dc_buf_put(out, resp.body.ptr, n) < 0)
		err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	return err;
}
