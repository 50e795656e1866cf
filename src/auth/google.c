/* google.c -- see google.h. */
#include "auth/google.h"

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/oauth2.h"
#include "util/codec.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"
#include "util/url.h"

#define KEY_MAX (64 * 1024)
#define JWT_LIFETIME 3600
#define JWT_GRANT "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define METADATA_TOKEN "instance/service-accounts/default/token"
#define METADATA_DEADLINE_MS 1000 /* off Google Cloud the chain gives up in about a second */
#define METADATA_CONNECT_MS 1000
#define MAX_LIFETIME (10LL * 366 * 86400) /* seconds; Google's tokens last an hour */

static int pem_no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1; /* never prompt on a terminal: an encrypted key is an error */
}

static int load_pkey(EVP_PKEY **out, const dc_google_key *k)
{
	BIO *bio = k->private_key.ptr ? BIO_new_mem_buf(k->private_key.ptr, (int)k->private_key.len) : NULL;
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

int dc_google_key_load(const dc_google_key *k)
{
	EVP_PKEY *pk = NULL;
	int err = load_pkey(&pk, k);

	EVP_PKEY_free(pk);
	return err;
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
		return dc_error_nomem();
	return 0;
}

/* R24: what the text looks like when it is no JSON at all. */
static const char *hint_for(const char *text, size_t len)
{
	size_t i = 0, j;

	while (i < len && strchr(" \t\r\n", text[i]))
		i++;
	if (i < len && (text[i] == '/' || text[i] == '~' || text[i] == '.' ||
			(len - i > 5 && !memcmp(text + len - 5, ".json", 5) && !memchr(text, '{', len))))
		return "; it looks like a path: give the file's path in GOOGLE_APPLICATION_CREDENTIALS, or its content in GOOGLE_AUTH_JSON";
	if (len - i < 16)
		return "";
	/* within `len`: the text need not end in a NUL */
	for (j = i; j < len && text[j] && strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n", text[j]); j++)
		;
	if (j == len)
		return "; it looks like base64: decode it first (base64 -d) and give the JSON";
	return "";
}

int dc_google_key_parse(dc_google_key *out, dc_ctx *ctx, const char *json, size_t len, const char *origin)
{
	json_error_t jerr;
	json_t *doc = NULL;
	const char *type, *pem;
	char what[sizeof(out->origin) + 32];
	int err;

	dc_google_key_release(out);
	snprintf(out->origin, sizeof(out->origin), "%s", origin);
	if (len >= 3 && !memcmp(json, "\xef\xbb\xbf", 3)) { /* a UTF-8 BOM some editors write */
		json += 3;
		len -= 3;
	}
	/* no jansson text in the message: it quotes the input near the error */
	if (!(doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)))
		return dc_error_set(DC_EUSAGE, "%s is not valid JSON (line %d, column %d)%s; give a service-account key file's content as Google issued it",
				    origin, jerr.line, jerr.column, hint_for(json, len));
	if (!json_is_object(doc)) {
		err = dc_error_set(DC_EUSAGE, "%s is JSON but not an object; give a service-account key as Google issued it", origin);
		goto done;
	}
	type = dc_json_str(doc, "type");
	if (type && strcmp(type, "service_account")) {
		char shown[64];

		dc_log_clip(ctx->redactor, shown, sizeof(shown), type);
		err = dc_error_set(DC_EUSAGE, "%s is a '%s' credential, not a service-account key; create a key for a service account",
				   origin, shown);
		goto done;
	}
	pem = dc_json_str(doc, "private_key");
	if (!pem || !*pem) {
		err = dc_error_set(DC_EUSAGE, "%s has no private_key; use a service-account key file as Google issued it", origin);
		goto done;
	}
	if ((err = dc_sec_set(&out->private_key, ctx->redactor, pem)) < 0)
		goto done;
	/* the full check (OpenSSL's PEM machinery) waits for signing */
	if (!strstr(pem, "-----BEGIN ") || !strstr(pem, "PRIVATE KEY-----")) {
		err = dc_error_set(DC_EUSAGE, "the private_key in %s is not an unencrypted PEM RSA private key; use the key file as Google issued it",
				   origin);
		goto done;
	}
	if ((err = dup_member(&out->client_email, doc, "client_email", 1, origin)) < 0 ||
	    (err = dup_member(&out->private_key_id, doc, "private_key_id", 0, origin)) < 0 ||
	    (err = dup_member(&out->project_id, doc, "project_id", 0, origin)) < 0 ||
	    (err = dup_member(&out->token_uri, doc, "token_uri", 0, origin)) < 0)
		goto done;
	if (!out->token_uri && !(out->token_uri = strdup(DC_GOOGLE_TOKEN_URI))) {
		err = dc_error_nomem();
		goto done;
	}
	snprintf(what, sizeof(what), "the token_uri in %s", origin);
	err = dc_url_check(out->token_uri, what, "fix the key");
done:
	json_decref(doc);
	if (err < 0) {
		char keep[sizeof(out->origin)];

		memcpy(keep, out->origin, sizeof(keep));
		dc_google_key_release(out);
		memcpy(out->origin, keep, sizeof(keep));
	}
	return err;
}

int dc_google_key_from_env(dc_google_key *out, dc_ctx *ctx)
{
	const char *content = dc_env_get(ctx->env, "GOOGLE_AUTH_JSON");
	const char *path = dc_env_get(ctx->env, "GOOGLE_APPLICATION_CREDENTIALS");
	dc_buf text = DC_BUF_INIT;
	char origin[sizeof(out->origin)];
	int err;

	if (content) {
		/* the whole value is secret, whatever shape it has */
		if ((err = dc_redactor_add(ctx->redactor, content, strlen(content))) < 0)
			return err;
		if (path)
			dc_log_debug(&ctx->log, "GOOGLE_AUTH_JSON is set; ignoring GOOGLE_APPLICATION_CREDENTIALS");
		return dc_google_key_parse(out, ctx, content, strlen(content), "GOOGLE_AUTH_JSON");
	}
	if (!path)
		return DC_ENOTFOUND;
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	snprintf(origin, sizeof(origin), "GOOGLE_APPLICATION_CREDENTIALS file '%s'", path);
	if ((err = dc_fs_read_secret(&text, path, KEY_MAX, "GOOGLE_APPLICATION_CREDENTIALS file")) == 0)
		err = dc_redactor_add(ctx->redactor, text.ptr, text.len);
	if (err == 0)
		err = dc_google_key_parse(out, ctx, text.ptr, text.len, origin);
	dc_buf_release(&text);
	return err;
}

void dc_google_key_release(dc_google_key *k)
{
	free(k->client_email);
	dc_sec_release(&k->private_key);
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

int dc_google_jwt_sign(dc_sec *out, dc_redactor *r, const dc_google_key *k, const char *scope, time_t now)
{
	json_t *header = NULL, *claims = NULL;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	dc_buf jwt = DC_BUF_INIT;
	size_t siglen = 0;
	int err;

	dc_buf_init(&jwt, 0, DC_BUF_SECRET);
	header = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	if (header && k->private_key_id)
		json_object_set_new(header, "kid", json_string(k->private_key_id));
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I}", "iss", k->client_email, "scope", scope, "aud",
			   k->token_uri, "iat", (json_int_t)now, "exp", (json_int_t)now + JWT_LIFETIME);
	if ((err = b64url_json(&jwt, header)) < 0 || (err = dc_buf_putc(&jwt, '.')) < 0 ||
	    (err = b64url_json(&jwt, claims)) < 0)
		goto done;
	if ((err = load_pkey(&pk, k)) < 0)
		goto done;
	if (!(md = EVP_MD_CTX_new()) || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (const unsigned char *)jwt.ptr, jwt.len) != 1 ||
	    !(sig = malloc(siglen)) ||
	    EVP_DigestSign(md, sig, &siglen, (const unsigned char *)jwt.ptr, jwt.len) != 1) {
		ERR_clear_error();
		err = dc_error_set(DC_ERR, "cannot sign the JWT with the key in %s (OpenSSL failed); check the key", k->origin);
		goto done;
	}
	if ((err = dc_buf_putc(&jwt, '.')) < 0 || (err = dc_base64url_encode(&jwt, sig, siglen)) < 0)
		goto done;
	/* a one-hour bearer grant: registered before anything can quote it */
	err = dc_sec_setn(out, r, jwt.ptr, jwt.len);
done:
	if (err == 0 && dc_buf_failed(&jwt))
		err = dc_error_nomem();
	if (sig) {
		dc_secret_wipe(sig, siglen); /* part of a bearer grant */
		free(sig);
	}
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	json_decref(header);
	json_decref(claims);
	dc_buf_release(&jwt);
	return err;
}

void dc_google_token_release(dc_google_token *t)
{
	dc_sec_release(&t->access_token);
	t->expires_at = 0;
}

/* The token and its expiry from a 200 reply; R16: an expires_in that is no
 * lifetime is reported as what it is, and the expiry is then unknown. */
int dc_google_take_token(dc_google_token *out, dc_ctx *ctx, const dc_http_resp *r, const char *what, const char *url)
{
	dc_oauth2_token_t tok = DC_OAUTH2_TOKEN_INIT;
	int err;

	if ((err = dc_oauth2_token(&tok, ctx, r, "access_token", what, url)) < 0)
		goto done;
	dc_google_token_release(out);
	out->access_token = tok.token;
	tok.token = (dc_sec)DC_SEC_INIT;
	if (tok.exp_kind == DC_OAUTH2_EXP_INT && tok.expires_in > 0 && tok.expires_in <= MAX_LIFETIME)
		out->expires_at = dc_ctx_now(ctx) + (time_t)tok.expires_in;
	else if (tok.exp_kind == DC_OAUTH2_EXP_INT)
		dc_log_warn(&ctx->log, "%s gave an expires_in of %lld, not a lifetime from 1 s to ten years; treating the token's expiry as unknown",
			    what, tok.expires_in);
	else if (tok.exp_kind == DC_OAUTH2_EXP_OTHER)
		dc_log_warn(&ctx->log, "%s gave an expires_in that is not a whole number of seconds; treating the token's expiry as unknown",
			    what);
	else
		dc_log_warn(&ctx->log, "%s gave no expires_in with the token; its expiry is unknown", what);
done:
	dc_oauth2_token_release(&tok);
	return err;
}

int dc_google_token_fetch(dc_google_token *out, dc_ctx *ctx, const dc_google_key *k, const char *scope)
{
	static const char *const what = "the Google token endpoint";
	dc_sec jwt = DC_SEC_INIT;
	dc_buf body = DC_BUF_INIT;
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	char why[352], code[64];
	int err;

	dc_buf_init(&body, 0, DC_BUF_SECRET);
	if ((err = dc_google_jwt_sign(&jwt, ctx->redactor, k, scope, dc_ctx_now(ctx))) < 0)
		goto done;
	if ((err = dc_oauth2_form_add(&body, "grant_type", JWT_GRANT)) < 0 ||
	    (err = dc_oauth2_form_add(&body, "assertion", jwt.ptr)) < 0)
		goto done;
	dc_log_debug(&ctx->log, "asking %s for a token for %s", k->token_uri, k->client_email);
	if ((err = dc_oauth2_post(&resp, ctx, k->token_uri, &body, what)) < 0)
		goto done;
	if (resp.status == 200) {
		err = dc_google_take_token(out, ctx, &resp, what, k->token_uri);
		goto done;
	}
	dc_oauth2_reason(why, sizeof(why), code, sizeof(code), ctx->redactor, &resp);
	if ((err = dc_http_status_error(&resp, what, k->token_uri, why)) < 0)
		goto done;
	if (resp.status == 400 || resp.status == 401 || resp.status == 403)
		err = dc_error_setc(DC_ERR, DC_ECLASS_AUTH,
				    "%s at '%s' refused the key in %s (HTTP %ld, %s); check that the key is current (not deleted or disabled) and the clock is right",
				    what, k->token_uri, k->origin, resp.status, why);
	else
		err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s at '%s' answered HTTP %ld (%s); check the key's token_uri", what,
				    k->token_uri, resp.status, why);
	dc_error_fields(resp.status, *code ? code : NULL, -1);
done:
	dc_http_resp_release(&resp);
	dc_sec_release(&jwt);
	dc_buf_release(&body);
	return err;
}

int dc_google_metadata_base(dc_buf *out, const dc_env *env)
{
	const char *value = dc_env_get(env, "GCE_METADATA_HOST");
	const char *host = value ? value : DC_GOOGLE_METADATA_HOST;

	if (!strncmp(host, "http://", 7))
		host += 7;
	if (!dc_url_host_valid(host, strlen(host)))
		return dc_error_set(DC_EUSAGE, "GCE_METADATA_HOST is '%s', not a host[:port]; set it to e.g. 169.254.169.254 or unset it",
				    value ? value : DC_GOOGLE_METADATA_HOST);
	if (dc_buf_printf(out, "http://%s", host) < 0)
		return dc_error_nomem();
	return 0;
}

/* Our own words for a request that got no answer, from the error's class
 * (the HTTP layer's text is not ours to cut up). */
static int unreachable(const char *url)
{
	const dc_error *e = dc_error_get();
	enum dc_error_class klass = e->klass;
	const char *how;

	if (e->code != DC_ERR || klass == DC_ECLASS_NOMEM || klass == DC_ECLASS_USAGE)
		return e->code;
	how = klass == DC_ECLASS_TIMEOUT ? "it did not answer in time"
	      : klass == DC_ECLASS_REPLY ? "its reply was unusable or too large"
	      : klass == DC_ECLASS_TLS   ? "the TLS handshake failed"
					 : "no connection";
	return dc_error_setc(DC_ERR, klass == DC_ECLASS_NONE ? DC_ECLASS_NET : klass,
			     "cannot reach the GCE metadata server at '%s' (%s); no service-account key is set, so a metadata server is needed: set GOOGLE_AUTH_JSON or GOOGLE_APPLICATION_CREDENTIALS, or run on Google Cloud (GCE_METADATA_HOST names another server)",
			     url, how);
}

/* GET a metadata path with the metadata server's short timeouts; 0 with a
 * 200 reply in `resp`, else DC_ERR with the message set. */
static int metadata_get(dc_http_resp *resp, dc_buf *url, dc_ctx *ctx, const char *base, const char *path)
{
	static const char *const headers[] = { "Metadata-Flavor: Google", NULL };
	static const char *const what = "the GCE metadata server";
	int err;

	if ((err = dc_ctx_http(ctx)) < 0)
		return err;
	if (dc_buf_printf(url, "%s/computeMetadata/v1/%s", base, path) < 0)
		return dc_error_nomem();
	/* a machine outside Google Cloud has no metadata server: fail in
	 * seconds, unless the user set the timeouts (0: the configured ones) */
	err = dc_http_send(ctx->http, resp, &(dc_http_req){
		.method = "GET",
		.url = url->ptr,
		.headers = headers,
		.what = what,
		.deadline_ms = dc_env_get(ctx->env, "DCGEN_TIMEOUT") ? 0 : METADATA_DEADLINE_MS,
		.connect_timeout_ms = dc_env_get(ctx->env, "DCGEN_CONNECT_TIMEOUT") ? 0 : METADATA_CONNECT_MS,
		.attempts = dc_env_get(ctx->env, "DCGEN_TIMEOUT") ? 0 : 1,
	});
	if (err == DC_ERR)
		return unreachable(url->ptr);
	if (err < 0 || resp->status == 200)
		return err;
	if (resp->status == 404)
		return dc_error_setc(DC_ERR, DC_ECLASS_AUTH,
				     "%s at '%s' has no such entry (HTTP 404); attach a service account to the instance, or set GOOGLE_AUTH_JSON",
				     what, url->ptr);
	if ((err = dc_http_status_error(resp, what, url->ptr, NULL)) < 0)
		return err;
	err = dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s at '%s' answered HTTP %ld; check GCE_METADATA_HOST", what,
			    url->ptr, resp->status);
	dc_error_fields(resp->status, NULL, -1);
	return err;
}

int dc_google_metadata_token(dc_google_token *out, dc_ctx *ctx, const char *base)
{
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_buf url = DC_BUF_INIT;
	int err;

	if ((err = metadata_get(&resp, &url, ctx, base, METADATA_TOKEN)) == 0)
		err = dc_google_take_token(out, ctx, &resp, "the GCE metadata server", url.ptr);
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	return err;
}

int dc_google_metadata_get(dc_buf *out, dc_ctx *ctx, const char *base, const char *path)
{
	dc_http_resp resp = DC_HTTP_RESP_INIT;
	dc_buf url = DC_BUF_INIT;
	size_t n;
	int err;

	if ((err = metadata_get(&resp, &url, ctx, base, path)) < 0)
		goto done;
	n = resp.body.len;
	while (n && strchr(" \t\r\n", resp.body.ptr[n - 1]))
		n--;
	if (dc_buf_put(out, resp.body.ptr, n) < 0)
		err = dc_error_nomem();
done:
	dc_http_resp_release(&resp);
	dc_buf_release(&url);
	return err;
}
