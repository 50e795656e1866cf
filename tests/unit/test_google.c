/* test_google.c -- auth/google: service-account keys and the RS256 JWT.
 * A fresh RSA key is made with OpenSSL; the JWT's signature is checked with
 * OpenSSL's verifier and its header and claims with jansson. */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/google.h"
#include "t.h"
#include "util/codec.h"

#define EMAIL "ci@dcgen-test.iam.gserviceaccount.com"
#define URI "https://oauth2.example.test/token"

static EVP_PKEY *rsa_key;
static char *rsa_pem;

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
	int err = dc_google_key_parse(k, text, strlen(text), "GOOGLE_AUTH_JSON");

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
		CHECK_EQ_STR(k.private_key, rsa_pem);
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
	CHECK(k.private_key == NULL && k.client_email == NULL);
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
	check_bad("private_key", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n",
		  "not an unencrypted PEM RSA private key");
	check_bad("token_uri", "http://oauth2.example.test/token", "plain http to another machine");
	check_bad("token_uri", "http://127.example.test/token", "plain http to another machine");
	check_bad("token_uri", "ftp://oauth2.example.test/token", "not an https URL");
	check_bad("token_uri", "https:///token", "which names no host");
	check_bad("token_uri", "https://oauth2.example.test/to ken", "white space");
	/* an encrypted key is refused, never prompted for */
	enc = pem_of(rsa_key, EVP_aes_128_cbc());
	if (CHECK(enc != NULL))
		check_bad("private_key", enc, "not an unencrypted PEM RSA private key");
	free(enc);
	/* an EC key is not what RS256 needs */
	enc = ec ? pem_of(ec, NULL) : NULL;
	if (CHECK(enc != NULL))
		check_bad("private_key", enc, "RSA");
	free(enc);
	EVP_PKEY_free(ec);
	/* malformed JSON: where, not what (jansson would quote the input) */
	dc_error_clear();
	CHECK_EQ_INT(dc_google_key_parse(&k, text, strlen(text) - 200, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "GOOGLE_AUTH_JSON is not valid JSON (line ");
	CHECK_LACKS(dc_error_last(), "near");
	CHECK_EQ_INT(dc_google_key_parse(&k, "[1, 2]", 6, "GOOGLE_AUTH_JSON"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "not an object");
	free(text);
	dc_google_key_release(&k);
}

static void test_jwt(void)
{
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	dc_buf jwt = DC_BUF_INIT;
	json_t *header = NULL, *claims = NULL;
	const char *dot1, *dot2;

	if (!CHECK_EQ_INT(parse(&k, NULL, NULL), 0))
		return;
	dc_buf_init(&jwt, 0, DC_BUF_SECRET);
	if (!CHECK_EQ_INT(dc_google_jwt_sign(&jwt, &k, DC_GOOGLE_SCOPE, 1700000000), 0))
		goto done;
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
	dc_buf_release(&jwt);
	dc_google_key_release(&k);
}

static void test_key_from_env(void)
{
	char path[] = "/tmp/dcgen-test-key-XXXXXX";
	char var[64], *text = key_json(NULL, NULL);
	char *none[] = { "PATH=/bin", NULL };
	char *missing[] = { "GOOGLE_APPLICATION_CREDENTIALS=/nonexistent/key.json", NULL };
	dc_env e_none = { none }, e_missing = { missing };
	dc_google_key k = DC_GOOGLE_KEY_INIT;
	int fd = mkstemp(path);

	CHECK_EQ_INT(dc_google_key_from_env(&k, &e_none), DC_ENOTFOUND);
	CHECK_EQ_INT(dc_google_key_from_env(&k, &e_missing), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "cannot read GOOGLE_APPLICATION_CREDENTIALS file '/nonexistent/key.json'");
	if (CHECK(fd >= 0) && CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text))) {
		char *vars[] = { var, NULL };
		dc_env e = { vars };

		snprintf(var, sizeof(var), "GOOGLE_APPLICATION_CREDENTIALS=%s", path);
		if (CHECK_EQ_INT(dc_google_key_from_env(&k, &e), 0)) {
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

int main(void)
{
	rsa_key = EVP_RSA_gen(2048);
	rsa_pem = rsa_key ? pem_of(rsa_key, NULL) : NULL;
	if (!rsa_pem) {
		fprintf(stderr, "cannot make a test RSA key\n");
		return 1;
	}
	T_RUN(test_parse_key);
	T_RUN(test_bad_keys);
	T_RUN(test_jwt);
	T_RUN(test_key_from_env);
	free(rsa_pem);
	EVP_PKEY_free(rsa_key);
	return t_done();
}
