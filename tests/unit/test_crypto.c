/* test_crypto.c -- util/crypto: HKDF (RFC 5869 vector) and AES-256-GCM sealing. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <string.h>

#include "t.h"
#include "util/buf.h"
#include "util/crypto.h"

static void test_hkdf_properties(void)
{
	/* deterministic, and every input changes the output */
	unsigned char a[32], b[32], c[32], d[32];

	CHECK_EQ_INT(dc_hkdf(a, sizeof(a), "ikm", 3, "salt", "info"), 0);
	CHECK_EQ_INT(dc_hkdf(b, sizeof(b), "ikm", 3, "salt", "info"), 0);
	CHECK_EQ_INT(dc_hkdf(c, sizeof(c), "ikm", 3, "salt", "infp"), 0);
	CHECK_EQ_INT(dc_hkdf(d, sizeof(d), "ikn", 3, "salt", "info"), 0);
	CHECK(!memcmp(a, b, 32));
	CHECK(memcmp(a, c, 32));
	CHECK(memcmp(a, d, 32));
}

static void test_hkdf_known_vector(void)
{
	/* RFC 5869 test case 3: IKM 22 x 0x0b, empty salt and info, L = 42 */
	static const unsigned char okm[42] = {
		0x8d, 0xa4, 0xe7, 0x75, 0xa5, 0x63, 0xc1, 0x8f, 0x71, 0x5f, 0x80, 0x2a, 0x06, 0x3c,
		0x5a, 0x31, 0xb8, 0xa1, 0x1f, 0x5c, 0x5e, 0xe1, 0x87, 0x9e, 0xc3, 0x45, 0x4e, 0x5f,
		0x3c, 0x73, 0x8d, 0x2d, 0x9d, 0x20, 0x13, 0x95, 0xfa, 0xa4, 0xb6, 0x1a, 0x96, 0xc8,
	};
	unsigned char ikm[22], out[42];

	memset(ikm, 0x0b, sizeof(ikm));
	CHECK_EQ_INT(dc_hkdf(out, sizeof(out), ikm, sizeof(ikm), "", ""), 0);
	CHECK(!memcmp(out, okm, sizeof(okm)));
}

static void test_seal_open_round_trip_and_tamper(void)
{
	unsigned char key[DC_AEAD_KEY], other[DC_AEAD_KEY];
	dc_buf sealed = DC_BUF_INIT, plain = DC_BUF_INIT, again = DC_BUF_INIT;
	const char *msg = "{\"secret\":\"token-value\"}";

	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	CHECK_EQ_INT(dc_aead_seal(&sealed, key, "aad", 3, msg, strlen(msg)), 0);
	CHECK_EQ_INT((long long)sealed.len, (long long)(strlen(msg) + DC_AEAD_NONCE + DC_AEAD_TAG));
	CHECK(!memmem(sealed.ptr, sealed.len, "token-value", 11));
	CHECK_EQ_INT(dc_aead_open(&plain, key, "aad", 3, sealed.ptr, sealed.len), 0);
	CHECK_EQ_STR(plain.ptr, msg);
	/* same plaintext, fresh nonce: a different sealing */
	CHECK_EQ_INT(dc_aead_seal(&again, key, "aad", 3, msg, strlen(msg)), 0);
	CHECK(memcmp(again.ptr, sealed.ptr, DC_AEAD_NONCE));

	dc_buf_reset(&plain);
	CHECK(dc_aead_open(&plain, other, "aad", 3, sealed.ptr, sealed.len) < 0);
	CHECK(dc_aead_open(&plain, key, "aae", 3, sealed.ptr, sealed.len) < 0);
	CHECK(dc_aead_open(&plain, key, "aad", 3, sealed.ptr, sealed.len - 1) < 0);
	CHECK(dc_aead_open(&plain, key, "aad", 3, sealed.ptr, 10) < 0);
	sealed.ptr[DC_AEAD_NONCE + 2] ^= 1;
	CHECK(dc_aead_open(&plain, key, "aad", 3, sealed.ptr, sealed.len) < 0);
	CHECK_EQ_INT((long long)plain.len, 0);
	dc_buf_release(&sealed);
	dc_buf_release(&plain);
	dc_buf_release(&again);
}

/* The same derivation through OpenSSL's own EVP HKDF. */
static int evp_hkdf(unsigned char *out, size_t n, const void *ikm, size_t ikm_len, const char *salt,
		    const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	OSSL_PARAM p[5];
	int ok;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, strlen(salt));
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	p[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, out, n, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok;
}

static void test_hkdf_matches_openssl_evp(void)
{
	static const char *const salts[] = { "", "s", "dcgen-cache-v1",
		"a salt that is longer than one sixty-four byte SHA-256 block, to hash the key first" };
	unsigned char ikm[300], a[100], b[100];
	size_t i, j, n;

	for (i = 0; i < sizeof(ikm); i++)
		ikm[i] = (unsigned char)(i * 31 + 7);
	for (i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
		for (n = 1; n <= sizeof(a); n += 33) {
			for (j = 0; j < sizeof(ikm); j += 97) {
				CHECK_EQ_INT(dc_hkdf(a, n, ikm, j, salts[i], "entry seal"), 0);
				CHECK(evp_hkdf(b, n, ikm, j, salts[i], "entry seal"));
				CHECK(!memcmp(a, b, n));
			}
		}
	}
}

static void test_seal_opens_with_openssl_evp(void)
{
	unsigned char key[DC_AEAD_KEY], tag[DC_AEAD_TAG], plain[64];
	dc_buf sealed = DC_BUF_INIT;
	const char *msg = "sealed by dcgen, opened by EVP aes-256-gcm";
	size_t len = strlen(msg), ct_len;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n, fin;

	memset(key, 42, sizeof(key));
	CHECK_EQ_INT(dc_aead_seal(&sealed, key, "header", 6, msg, len), 0);
	ct_len = sealed.len - DC_AEAD_NONCE - DC_AEAD_TAG;
	memcpy(tag, sealed.ptr + sealed.len - DC_AEAD_TAG, DC_AEAD_TAG);
	CHECK(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, (unsigned char *)sealed.ptr) == 1);
	CHECK(EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)"header", 6) == 1);
	CHECK(EVP_DecryptUpdate(ctx, plain, &n, (unsigned char *)sealed.ptr + DC_AEAD_NONCE, (int)ct_len) == 1);
	CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, DC_AEAD_TAG, tag) == 1);
	fin = EVP_DecryptFinal_ex(ctx, plain + n, &n);
	CHECK_EQ_INT(fin, 1);
	CHECK(!memcmp(plain, msg, len));
	EVP_CIPHER_CTX_free(ctx);
	dc_buf_release(&sealed);
}

static void test_hex(void)
{
	dc_buf b = DC_BUF_INIT;
	const unsigned char in[] = { 0x00, 0x0f, 0xa5, 0xff };

	CHECK_EQ_INT(dc_hex(&b, in, sizeof(in)), 0);
	CHECK_EQ_STR(b.ptr, "000fa5ff");
	dc_buf_release(&b);
}

int main(void)
{
	T_RUN(test_hkdf_properties);
	T_RUN(test_hkdf_known_vector);
	T_RUN(test_seal_open_round_trip_and_tamper);
	T_RUN(test_hkdf_matches_openssl_evp);
	T_RUN(test_seal_opens_with_openssl_evp);
	T_RUN(test_hex);
	return t_done();
}
