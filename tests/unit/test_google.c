/* test_google.c -- auth/google and providers/gcr: service-account keys, the
 * RS256 JWT, the token endpoint and the metadata server (a fake peer on
 * 127.0.0.1), and GOOGLE_LOCATION. A fresh RSA key is made with OpenSSL; the
 * JWT's signature is checked with OpenSSL's verifier and its header and
 * claims with jansson. */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/google.h"
#include "fake_http.h"
#include "providers/provider.h"
#include "t.h"
#include "util/codec.h"
#include "util/log.h"

#define EMAIL "ci@dcgen-test.iam.gserviceaccount.com"
#define URI "https://oauth2.example.test/token"

static EVP_PKEY *rsa_key;
static char *rsa_pem;
static dc_ctx ctx;
static dc_env env;
static int warnings;
static char last_warning[512];

static void sink(enum dc_log_level level, const char *line)
{
	if (level == DC_LOG_WARN) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", line);
	}
}

static char *pem_of(EVP_PKEY *pk, const EVP_CIPHER *cipher)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *copy = NULL;
	long n;

	if (bio && PEM_write_bio_PrivateKey(bio, pk, cipher, (unsigned char *)(cipher ? "pass" : NULL),
					    cipher ? 4 : 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0 && (copy = malloc((size_t)n + 1)) != NULL) {
		memcpy(copy, data, (size_t)n);
		copy[n] = '\0';
	}
	BIO_free(bio);
	return copy;
}

/* A key file's text with `field` set to `value` (NULL: left out). */
static char *key_json(const char *field, const char *value)
{
	json_t *k = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "service_account", "project_id", "dcgen-test",
			      "private_key_id", "0123abcd", "private_key", rsa_pem, "client_email", EMAIL, "token_uri",
			      URI);
	char *text;

	if (field && value)
		json_object_set_new(k, field, json_string(value));
	else if (field)
		json_object_del(k, field);
	text = json_dumps(k, JSON_INDENT(2));
	json_decref(k);
	return text;
}

static int parse(dc_google_key *k, const char *field, const char *value)
{
	char *text = key_json(field, value);
	int err = dc_google_key_parse(k, &ctx, text, strlen(text), "GOOGLE_AUTH_JSON");

	free(text);
	return err;
}

/* base64url part -> JSON object */
static json_t *part_json(const char *p, size_t n)
{
	dc_buf plain = DC_BUF_INIT;
	json_t *doc = NULL;

	if (CHECK_EQ_INT(dc_base64url_decode(&plain, p, n), 0))
		doc = json_loadb(plain.ptr, plain.len, JSON_REJECT_DUPLICATES, NULL);
	dc_buf_release(&plain);
	return doc;
}

static int verify_sig(const char *signed_part, size_t n, const char *sig_b64url)
{
	dc_buf sig = DC_BUF_INIT;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (dc_base64url_decode(&sig, sig_b64url, strlen(sig_b64url)) == 0 &&
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, rsa_key) == 1)
		ok = EVP_DigestVerify(md, (unsigned char *)sig.ptr, sig.len, (const unsigned char *)signed_part, n) == 1;
	EVP_MD_CTX_free(md);
	dc_buf_release(&sig);
	return ok;
}

static void test_parse_key(void)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;

	if (CHECK_EQ_INT(parse(&k, NULL, NULL), 0)) {
		CHECK_EQ_STR(k.client_email, EMAIL);
		CHECK_EQ_STR(k.private_key.ptr, rsa_pem);
		CHECK(dc_redactor_contains(ctx.redactor, rsa_pem));
		CHECK_EQ_STR(k.private_key_id, "0123abcd");
		CHECK_EQ_STR(k.project_id, "dcgen-test");
		CHECK_EQ_STR(k.token_uri, URI);
		CHECK_EQ_STR(k.origin, "GOOGLE_AUTH_JSON");
	}
	/* Google's default when a key has no token_uri; loopback http is fine */
	CHECK_EQ_INT(parse(&k, "token_uri", NULL), 0);
	CHECK_EQ_STR(k.token_uri, DC_GOOGLE_TOKEN_URI);
	CHECK_EQ_INT(parse(&k, "token_uri", "http://127.0.0.1:8080/token"), 0);
	CHECK_EQ_INT(parse(&k, "token_uri", "http://localhost/token"), 0);
	CHECK_EQ_INT(parse(&k, "private_key_id", NULL), 0);
	CHECK(k.private_key_id == NULL);
	dc_google_key_release(&k);
	dc_google_key_release(&k);
}

static void check_bad(const char *field, const char *value, const char *want)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;

	dc_error_clear();
	CHECK_EQ_INT(parse(&k, field, value), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), want);
	CHECK_LACKS(dc_error_last(), "MII");
	CHECK(k.private_key.ptr == NULL && k.client_email == NULL);
	dc_google_key_release(&k);
}

/* A PEM block that is no usable key parses (parsing stays cheap: a cache hit
 * never loads the key) and is refused when loaded, before any request. */
static void check_bad_pem(const char *pem, const char *want)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;

	dc_error_clear();
	if (CHECK_EQ_INT(parse(&k, "private_key", pem), 0)) {
		CHECK_EQ_INT(dc_google_key_load(&k), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), want);
		CHECK_LACKS(dc_error_last(), "MII");
	}
	dc_google_key_release(&k);
}

static void test_bad_keys(void)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	char *text = key_json(NULL, NULL), *enc;
	EVP_PKEY *ec = EVP_EC_gen("P-256");

	check_bad("private_key", NULL, "GOOGLE_AUTH_JSON has no private_key");
	check_bad("client_email", NULL, "has no client_email");
	check_bad("type", "authorized_user", "'authorized_user' credential");
	check_bad("private_key", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
		  "not an unencrypted PEM RSA private key");
	check_bad_pem("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
		      "not an unencrypted PEM RSA private key");
	check_bad("token_uri", "http://oauth2.example.test/token", "plain http to another machine");
	check_bad("token_uri", "http://127.example.test/token", "plain http to another machine");
	check_bad("token_uri", "ftp://oauth2.example.test/token", "not an https URL");
	check_bad("token_uri", "https:///token", "which names no host");
	check_bad("token_uri", "https://oauth2.example.test/to ken", "white space");
	check_bad("token_uri", "https://u:hunter2pw@oauth2.example.test/token", "user name or password");
	{
		dc_google_key k2 = DC_GOOGLE_KEY_INIT;

		CHECK_EQ_INT(parse(&k2, "token_uri", "https://u:hunter2pw@oauth2.example.test/token"), DC_EUSAGE);
		CHECK_LACKS(dc_error_last(), "hunter2pw");
		dc_google_key_release(&k2);
	}
	/* an encrypted key is refused, never prompted for */
	enc = pem_of(rsa_key, EVP_aes_128_cbc());
	if (CHECK(enc != NULL))
		check_bad_pem(enc, "not an unencrypted PEM RSA private key");
	free(enc);
	/* an EC key is not what RS256 needs */
	enc = ec ? pem_of(ec, NULL) : NULL;
	if (CHECK(enc != NULL))
		check_bad_pem(enc, "RSA");
	free(enc);
	EVP_PKEY_free(ec);
	/* malformed JSON: where, not what (jansson would quote the input) */
	dc_error_clear();
	CHECK_EQ_INT(dc_google_key_parse(&k, &ctx, text, strlen(text) - 200, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "GOOGLE_AUTH_JSON is not valid JSON (line ");
	CHECK_LACKS(dc_error_last(), "near");
	CHECK_EQ_INT(dc_google_key_parse(&k, &ctx, "[1, 2]", 6, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "not an object");
	free(text);
	dc_google_key_release(&k);
}

static void test_jwt(void)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	dc_sec jwt = DC_SEC_INIT;
	json_t *header = NULL, *claims = NULL;
	const char *dot1, *dot2;

	if (!CHECK_EQ_INT(parse(&k, NULL, NULL), 0))
		return;
	if (!CHECK_EQ_INT(dc_google_jwt_sign(&jwt, ctx.redactor, &k, DC_GOOGLE_SCOPE, 1700000000), 0))
		goto done;
	/* D8: the assertion is a bearer grant: registered as it is made */
	CHECK(dc_redactor_contains(ctx.redactor, jwt.ptr));
	CHECK_EQ_INT(strcspn(jwt.ptr, "+/= \n"), jwt.len);
	dot1 = strchr(jwt.ptr, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!CHECK(dot1 && dot2 && !strchr(dot2 + 1, '.')))
		goto done;
	header = part_json(jwt.ptr, (size_t)(dot1 - jwt.ptr));
	claims = part_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (CHECK(json_is_object(header))) {
		CHECK_EQ_INT(json_object_size(header), 3);
		CHECK_EQ_STR(json_string_value(json_object_get(header, "alg")), "RS256");
		CHECK_EQ_STR(json_string_value(json_object_get(header, "typ")), "JWT");
		CHECK_EQ_STR(json_string_value(json_object_get(header, "kid")), "0123abcd");
	}
	if (CHECK(json_is_object(claims))) {
		CHECK_EQ_INT(json_object_size(claims), 5);
		CHECK_EQ_STR(json_string_value(json_object_get(claims, "iss")), EMAIL);
		CHECK_EQ_STR(json_string_value(json_object_get(claims, "scope")), DC_GOOGLE_SCOPE);
		CHECK_EQ_STR(json_string_value(json_object_get(claims, "aud")), URI);
		CHECK_EQ_INT(json_integer_value(json_object_get(claims, "iat")), 1700000000);
		CHECK_EQ_INT(json_integer_value(json_object_get(claims, "exp")), 1700003600);
	}
	CHECK(verify_sig(jwt.ptr, (size_t)(dot2 - jwt.ptr), dot2 + 1));
	/* the check can fail: one changed byte of the signed part */
	jwt.ptr[5] ^= 1;
	CHECK(!verify_sig(jwt.ptr, (size_t)(dot2 - jwt.ptr), dot2 + 1));
done:
	json_decref(header);
	json_decref(claims);
	dc_sec_release(&jwt);
	dc_google_key_release(&k);
}

static void test_key_from_env(void)
{
	char path[] = "/tmp/dcgen-test-key-XXXXXX";
	char var[64], *text = key_json(NULL, NULL);
	char *none[] = { "PATH=/bin", NULL };
	char *missing[] = { "GOOGLE_APPLICATION_CREDENTIALS=/nonexistent/key.json", NULL };
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	int fd = mkstemp(path);

	env.vars = none;
	CHECK_EQ_INT(dc_google_key_from_env(&k, &ctx), DC_ENOTFOUND);
	env.vars = missing;
	CHECK_EQ_INT(dc_google_key_from_env(&k, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "cannot read GOOGLE_APPLICATION_CREDENTIALS file '/nonexistent/key.json'");
	if (CHECK(fd >= 0) && CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text))) {
		char *vars[] = { var, NULL };

		env.vars = vars;
		snprintf(var, sizeof(var), "GOOGLE_APPLICATION_CREDENTIALS=%s", path);
		if (CHECK_EQ_INT(dc_google_key_from_env(&k, &ctx), 0)) {
			CHECK_EQ_STR(k.client_email, EMAIL);
			CHECK_HAS(k.origin, "GOOGLE_APPLICATION_CREDENTIALS file '/tmp/dcgen-test-key-");
		}
	}
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
	free(text);
	dc_google_key_release(&k);
}


/* R24: a path or base64 where the JSON should be gets a hint; a BOM is fine */
static void test_hints(void)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	dc_buf b64 = DC_BUF_INIT, bom = DC_BUF_INIT;
	char *text = key_json(NULL, NULL);

	CHECK_EQ_INT(dc_google_key_parse(&k, &ctx, "/etc/keys/sa.json", 17, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "looks like a path");
	CHECK_HAS(dc_error_last(), "GOOGLE_APPLICATION_CREDENTIALS");
	CHECK_EQ_INT(dc_google_key_parse(&k, &ctx, "sa-key.json", 11, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "looks like a path");
	if (CHECK_EQ_INT(dc_base64_encode(&b64, text, strlen(text)), 0)) {
		CHECK_EQ_INT(dc_google_key_parse(&k, &ctx, b64.ptr, b64.len, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "looks like base64");
		CHECK_LACKS(dc_error_last(), b64.ptr);
	}
	dc_buf_puts(&bom, "\xef\xbb\xbf");
	dc_buf_puts(&bom, text);
	CHECK_EQ_INT(dc_google_key_parse(&k, &ctx, bom.ptr, bom.len, "GOOGLE_AUTH_JSON"), 0);
	CHECK_EQ_STR(k.client_email, EMAIL);
	dc_google_key_release(&k);
	dc_buf_release(&b64);
	dc_buf_release(&bom);
	free(text);
}

/* ---- against a fake token endpoint and metadata server on 127.0.0.1 ---- */

static int token_from(dc_google_token *t, const fake_reply *r, fake_http *f)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	char uri[64];
	int err = DC_ERR;

	if (!CHECK_EQ_INT(fake_http_start(f, r), 0))
		return DC_ERR;
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", f->port);
	if (CHECK_EQ_INT(parse(&k, "token_uri", uri), 0)) {
		dc_error_clear();
		err = dc_google_token_fetch(t, &ctx, &k, DC_GOOGLE_SCOPE);
	}
	fake_http_stop(f);
	dc_google_key_release(&k);
	return err;
}

static void test_token_endpoint(void)
{
	static const struct {
		const char *body, *warning;
		int known;
	} cases[] = {
		{ "{\"access_token\":\"ya29.tok-0001\",\"expires_in\":3599,\"token_type\":\"Bearer\"}", NULL, 1 },
		{ "{\"access_token\":\"ya29.tok-0001\",\"expires_in\":-3600}", "expires_in of -3600,", 0 },
		{ "{\"access_token\":\"ya29.tok-0001\",\"expires_in\":0}", "expires_in of 0,", 0 },
		{ "{\"access_token\":\"ya29.tok-0001\",\"expires_in\":3153600000}", "expires_in of 3153600000,", 0 },
		{ "{\"access_token\":\"ya29.tok-0001\",\"expires_in\":\"3600\"}", "not a whole number", 0 },
		{ "{\"access_token\":\"ya29.tok-0001\"}", "gave no expires_in", 0 },
	};
	fake_reply r[] = { { 200, NULL }, { 0, NULL } };
	dc_google_token t = DC_GOOGLE_TOKEN_INIT;
	fake_http f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		time_t before = time(NULL);

		r[0].body = cases[i].body;
		warnings = 0;
		if (!CHECK_EQ_INT(token_from(&t, r, &f), 0))
			continue;
		CHECK_EQ_STR(t.access_token.ptr, "ya29.tok-0001");
		CHECK(dc_redactor_contains(ctx.redactor, "ya29.tok-0001"));
		if (cases[i].known) {
			CHECK(t.expires_at >= before + 3599 && t.expires_at <= time(NULL) + 3599);
			CHECK_EQ_INT(warnings, 0);
		} else {
			/* R16: what it gave, not "gave none" */
			CHECK_EQ_INT(t.expires_at, 0);
			CHECK_EQ_INT(warnings, 1);
			CHECK_HAS(last_warning, cases[i].warning);
		}
		CHECK_HAS(f.request, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ey");
		dc_google_token_release(&t);
	}
}

/* D8: an endpoint that echoes the request never gets the assertion quoted,
 * not even a prefix of it (the redactor runs before the clip) */
static void test_token_refused(void)
{
	static char body[8192];
	fake_reply echo[] = { { 400, body }, { 0, NULL } };
	fake_reply busy[] = { { 503, "{\"error\":\"unavailable\"}" }, { 0, NULL } };
	fake_reply dup[] = { { 200, "{\"access_token\":\"a-token-1\",\"access_token\":\"a-token-2\"}" }, { 0, NULL } };
	dc_google_token t = DC_GOOGLE_TOKEN_INIT;
	fake_http f;
	const char *assertion;

	{
		/* first learn what an assertion looks like: one request */
		fake_reply first[] = { { 400, "{\"error\":\"invalid_grant\"}" }, { 0, NULL } };

		CHECK_EQ_INT(token_from(&t, first, &f), DC_ERR);
		assertion = strstr(f.request, "assertion=");
		if (!CHECK(assertion != NULL))
			return;
		assertion += 10;
		/* the fake then answers with it as error_description */
		snprintf(body, sizeof(body), "{\"error\":\"invalid_grant\",\"error_description\":\"assertion=%.*s\"}",
			 (int)strcspn(assertion, "&\r\n"), assertion);
	}
	/* every assertion is registered before it is sent, so the echo of
	 * this one (or of a later one) is redacted, never cut to a prefix */
	CHECK_EQ_INT(token_from(&t, echo, &f), DC_ERR);
	CHECK_HAS(dc_error_last(), "refused the key in GOOGLE_AUTH_JSON (HTTP 400, invalid_grant: assertion=***");
	CHECK_LACKS(dc_error_last(), "eyJhbGci");
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_AUTH);
	CHECK_EQ_STR(dc_error_get()->upstream_code, "invalid_grant");
	CHECK_EQ_INT(dc_error_get()->http_status, 400);
	CHECK_EQ_INT(token_from(&t, busy, &f), DC_ERR);
	CHECK_HAS(dc_error_last(), "kept failing with HTTP 503 (unavailable)");
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_HTTP);
	/* duplicate keys in a token reply are refused */
	CHECK_EQ_INT(token_from(&t, dup, &f), DC_ERR);
	CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_REPLY);
	dc_google_token_release(&t);
}

static void test_metadata(void)
{
	fake_reply token[] = { { 200, "{\"access_token\":\"ya29.meta-0001\",\"expires_in\":1800}" }, { 0, NULL } };
	fake_reply missing[] = { { 404, "not found" }, { 0, NULL } };
	dc_google_token t = DC_GOOGLE_TOKEN_INIT;
	dc_buf base = DC_BUF_INIT;
	char host[64], *vars[] = { host, NULL };
	char *bad[] = { "GCE_METADATA_HOST=u:pw@meta", NULL };
	char *closed[] = { "GCE_METADATA_HOST=127.0.0.1:1", NULL };
	fake_http f;

	env.vars = bad;
	CHECK_EQ_INT(dc_google_metadata_base(&base, &env), DC_EUSAGE);
	dc_buf_reset(&base);
	/* no server: our own words, from the error class */
	env.vars = closed;
	if (CHECK_EQ_INT(dc_google_metadata_base(&base, &env), 0)) {
		CHECK_EQ_INT(dc_google_metadata_token(&t, &ctx, base.ptr), DC_ERR);
		CHECK_HAS(dc_error_last(), "cannot reach the GCE metadata server at 'http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/token' (no connection); no service-account key is set");
		CHECK_EQ_INT(dc_error_get()->klass, DC_ECLASS_NET);
	}
	dc_buf_reset(&base);
	if (CHECK_EQ_INT(fake_http_start(&f, token), 0)) {
		snprintf(host, sizeof(host), "GCE_METADATA_HOST=127.0.0.1:%d", f.port);
		env.vars = vars;
		if (CHECK_EQ_INT(dc_google_metadata_base(&base, &env), 0) &&
		    CHECK_EQ_INT(dc_google_metadata_token(&t, &ctx, base.ptr), 0)) {
			CHECK_EQ_STR(t.access_token.ptr, "ya29.meta-0001");
			CHECK(t.expires_at > time(NULL));
			CHECK_HAS(f.request, "GET /computeMetadata/v1/instance/service-accounts/default/token HTTP/1.1");
			CHECK_HAS(f.request, "Metadata-Flavor: Google");
		}
		fake_http_stop(&f);
	}
	dc_buf_reset(&base);
	dc_google_token_release(&t);
	if (CHECK_EQ_INT(fake_http_start(&f, missing), 0)) {
		snprintf(host, sizeof(host), "GCE_METADATA_HOST=http://127.0.0.1:%d", f.port);
		if (CHECK_EQ_INT(dc_google_metadata_base(&base, &env), 0)) {
			CHECK_EQ_INT(dc_google_metadata_token(&t, &ctx, base.ptr), DC_ERR);
			CHECK_HAS(dc_error_last(), "HTTP 404");
		}
		fake_http_stop(&f);
	}
	dc_buf_release(&base);
	dc_google_token_release(&t);
}

/* providers/gcr: GOOGLE_LOCATION, the hosts written, the cache key */
static void test_gcr_family(void)
{
	fake_reply token[] = { { 200, "{\"access_token\":\"ya29.gcr-0001\",\"expires_in\":3600}" }, { 0, NULL } };
	char *spaced[] = { "GCE_METADATA_HOST=127.0.0.1:1", "GOOGLE_LOCATION=europe west1", NULL };
	char *dashed[] = { "GCE_METADATA_HOST=127.0.0.1:1", "GOOGLE_LOCATION=-us", NULL };
	char *dots[] = { "GCE_METADATA_HOST=127.0.0.1:1", "GOOGLE_LOCATION=a..b", NULL };
	char *wrong_email[] = { NULL, "GOOGLE_AUTH_EMAIL=other@x.iam.gserviceaccount.com", NULL };
	char keyvar[8192], uri[64], *text;
	char *vars[] = { keyvar, "GOOGLE_LOCATION=us, europe-west1,us,,my.mirror.example", NULL };
	dc_cred_list l = DC_CRED_LIST_INIT;
	dc_cache_key k = DC_CACHE_KEY_INIT;
	dc_scope s;
	fake_http f;
	void *cfg = NULL;

	env.vars = spaced;
	CHECK_EQ_INT(dc_family_gcr.parse(&cfg, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "GOOGLE_LOCATION is 'europe west1'");
	env.vars = dashed;
	CHECK_EQ_INT(dc_family_gcr.parse(&cfg, &ctx), DC_EUSAGE);
	env.vars = dots;
	CHECK_EQ_INT(dc_family_gcr.parse(&cfg, &ctx), DC_EUSAGE);
	if (!CHECK_EQ_INT(fake_http_start(&f, token), 0))
		return;
	snprintf(uri, sizeof(uri), "http://127.0.0.1:%d/token", f.port);
	text = key_json("token_uri", uri);
	snprintf(keyvar, sizeof(keyvar), "GOOGLE_AUTH_JSON=%s", text);
	free(text);
	/* the email check happens when parsing, before any request */
	wrong_email[0] = keyvar;
	env.vars = wrong_email;
	CHECK_EQ_INT(dc_family_gcr.parse(&cfg, &ctx), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "GOOGLE_AUTH_EMAIL");
	env.vars = vars;
	if (CHECK_EQ_INT(dc_family_gcr.parse(&cfg, &ctx), 0)) {
		dc_family_gcr.scope_all(cfg, &s);
		if (CHECK_EQ_INT(dc_family_gcr.cache_key(&k, cfg, &s), 1)) {
			CHECK_EQ_STR(k.principal.ptr, EMAIL);
			CHECK_EQ_STR(k.seal.ptr, rsa_pem);
			CHECK_HAS(k.scope.ptr, "hosts=us-docker.pkg.dev,europe-west1-docker.pkg.dev,my.mirror.example\n");
			CHECK_LACKS(k.scope.ptr, "PRIVATE KEY");
		}
		dc_cache_key_release(&k);
		if (CHECK_EQ_INT(dc_family_gcr.fetch(&l, &ctx, cfg, &s), 0) && CHECK_EQ_INT(l.n, 7)) {
			CHECK_EQ_STR(l.items[0].host, "gcr.io");
			CHECK_EQ_STR(l.items[4].host, "us-docker.pkg.dev");
			CHECK_EQ_STR(l.items[6].host, "my.mirror.example");
			CHECK_EQ_STR(l.items[6].username, "oauth2accesstoken");
			CHECK_EQ_STR(l.items[6].secret, "ya29.gcr-0001");
		}
		dc_cred_list_release(&l);
		/* one host asked: one credential */
		if (CHECK_EQ_INT(dc_family_gcr.match(cfg, "asia-east1-docker.pkg.dev", &s), 1) &&
		    CHECK_EQ_INT(dc_family_gcr.fetch(&l, &ctx, cfg, &s), 0) && CHECK_EQ_INT(l.n, 1))
			CHECK_EQ_STR(l.items[0].host, "asia-east1-docker.pkg.dev");
		dc_cred_list_release(&l);
		dc_family_gcr.release(cfg);
	}
	fake_http_stop(&f);
}

int main(void)
{
	dc_http_config cfg = { .connect_timeout_ms = 500, .deadline_ms = 2000, .max_reply = 1 << 16, .attempts = 1 };
	int rc;

	rsa_key = EVP_RSA_gen(2048);
	rsa_pem = rsa_key ? pem_of(rsa_key, NULL) : NULL;
	if (!rsa_pem) {
		fprintf(stderr, "cannot make a test RSA key\n");
		return 1;
	}
	setenv("https_proxy", "http://127.0.0.1:9", 1);
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("no_proxy", "127.0.0.1", 1); /* the fake peers only */
	if (dc_ctx_init(&ctx, &env, sink, DC_LOG_WARN) < 0 || dc_http_new(&ctx.http, &cfg, &ctx.log) < 0)
		return 1;
	T_RUN(test_parse_key);
	T_RUN(test_bad_keys);
	T_RUN(test_jwt);
	T_RUN(test_key_from_env);
	T_RUN(test_hints);
	T_RUN(test_token_endpoint);
	T_RUN(test_token_refused);
	T_RUN(test_metadata);
	T_RUN(test_gcr_family);
	rc = t_done();
	free(rsa_pem);
	EVP_PKEY_free(rsa_key);
	dc_ctx_release(&ctx);
	return rc;
}
