/* crypto.c -- see crypto.h for why this uses OpenSSL's provider-free API. */
#define OPENSSL_SUPPRESS_DEPRECATED /* SHA256_* and AES_*: deprecated, not gone */
#include "util/crypto.h"

#include <openssl/aes.h>
#include <openssl/crypto.h>
#include <openssl/modes.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

enum { BLOCK = 64 }; /* SHA-256 block size */

/* HMAC-SHA256 (RFC 2104) of the concatenation a || b || c. */
static void hmac(unsigned char out[SHA256_DIGEST_LENGTH], const void *key, size_t key_len, const void *a,
		 size_t a_len, const void *b, size_t b_len, const void *c, size_t c_len)
{
	unsigned char k[BLOCK], pad[BLOCK], inner[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	size_t i;

	memset(k, 0, sizeof(k));
	if (key_len > BLOCK) {
		SHA256_Init(&ctx); /* not SHA256(): in OpenSSL 3 that goes through EVP */
		SHA256_Update(&ctx, key, key_len);
		SHA256_Final(k, &ctx);
	} else if (key_len)
		memcpy(k, key, key_len);
	for (i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, pad, BLOCK);
	SHA256_Update(&ctx, a, a_len);
	SHA256_Update(&ctx, b, b_len);
	SHA256_Update(&ctx, c, c_len);
	SHA256_Final(inner, &ctx);
	for (i = 0; i < BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	SHA256_Init(&ctx);
	SHA256_Update(&ctx, pad, BLOCK);
	SHA256_Update(&ctx, inner, sizeof(inner));
	SHA256_Final(out, &ctx);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}

int dc_hkdf(unsigned char *out, size_t n, const void *ikm, size_t ikm_len, const char *salt,
	    const char *info)
{
	unsigned char prk[SHA256_DIGEST_LENGTH], t[SHA256_DIGEST_LENGTH];
	size_t done = 0, t_len = 0;
	unsigned char i;

	if (n > 255 * SHA256_DIGEST_LENGTH)
		return dc_error_set(DC_ERR, "HKDF output too long");
	/* extract: PRK = HMAC(salt, IKM); expand: T(i) = HMAC(PRK, T(i-1) || info || i) */
	hmac(prk, salt, strlen(salt), ikm, ikm_len, NULL, 0, NULL, 0);
	for (i = 1; done < n; i++) {
		size_t take;

		hmac(t, prk, sizeof(prk), t, t_len, info, strlen(info), &i, 1);
		t_len = sizeof(t);
		take = n - done < t_len ? n - done : t_len;
		memcpy(out + done, t, take);
		done += take;
	}
	OPENSSL_cleanse(prk, sizeof(prk));
	OPENSSL_cleanse(t, sizeof(t));
	return 0;
}

/* A GCM context over AES-256 with `key`; NULL on failure. *ks must outlive it. */
static GCM128_CONTEXT *gcm_new(AES_KEY *ks, const unsigned char key[DC_AEAD_KEY], const unsigned char *nonce)
{
	GCM128_CONTEXT *g;

	if (AES_set_encrypt_key(key, 256, ks) != 0)
		return NULL;
	if ((g = CRYPTO_gcm128_new(ks, (block128_f)AES_encrypt)) != NULL)
		CRYPTO_gcm128_setiv(g, nonce, DC_AEAD_NONCE);
	return g;
}

int dc_aead_seal(dc_buf *out, const unsigned char key[DC_AEAD_KEY], const void *aad, size_t aad_len,
		 const void *plain, size_t plain_len)
{
	unsigned char nonce[DC_AEAD_NONCE];
	GCM128_CONTEXT *g = NULL;
	AES_KEY ks;
	unsigned char *ct;
	int err = DC_ERR;

	if (plain_len > (1u << 30) || RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto done;
	if (dc_buf_put(out, nonce, sizeof(nonce)) < 0 ||
	    !(ct = (unsigned char *)dc_buf_extend(out, plain_len + DC_AEAD_TAG, 0)))
		goto done;
	if (!(g = gcm_new(&ks, key, nonce)) || (aad_len && CRYPTO_gcm128_aad(g, aad, aad_len) != 0) ||
	    CRYPTO_gcm128_encrypt(g, plain, ct, plain_len) != 0)
		goto done;
	CRYPTO_gcm128_tag(g, ct + plain_len, DC_AEAD_TAG);
	err = 0;
done:
	CRYPTO_gcm128_release(g);
	OPENSSL_cleanse(&ks, sizeof(ks));
	return err < 0 ? dc_error_set(DC_ERR, "cannot seal a cache entry (OpenSSL)") : 0;
}

int dc_aead_open(dc_buf *out, const unsigned char key[DC_AEAD_KEY], const void *aad, size_t aad_len,
		 const void *sealed, size_t sealed_len)
{
	const unsigned char *in = sealed;
	GCM128_CONTEXT *g = NULL;
	AES_KEY ks;
	size_t ct_len;
	unsigned char *pt;
	int err = DC_ERR;

	if (sealed_len < DC_AEAD_NONCE + DC_AEAD_TAG || sealed_len > (1u << 30))
		return DC_ERR;
	ct_len = sealed_len - DC_AEAD_NONCE - DC_AEAD_TAG;
	if (!(pt = (unsigned char *)dc_buf_extend(out, ct_len, 0)))
		goto done;
	if (!(g = gcm_new(&ks, key, in)) || (aad_len && CRYPTO_gcm128_aad(g, aad, aad_len) != 0) ||
	    CRYPTO_gcm128_decrypt(g, in + DC_AEAD_NONCE, pt, ct_len) != 0 ||
	    /* constant-time tag check inside OpenSSL */
	    CRYPTO_gcm128_finish(g, in + DC_AEAD_NONCE + ct_len, DC_AEAD_TAG) != 0)
		goto done;
	err = 0;
done:
	CRYPTO_gcm128_release(g);
	OPENSSL_cleanse(&ks, sizeof(ks));
	if (err)
		dc_buf_reset(out);
	return err;
}

int dc_hex(dc_buf *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++)
		if (dc_buf_putc(out, digits[p[i] >> 4]) < 0 || dc_buf_putc(out, digits[p[i] & 15]) < 0)
			return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

int dc_random(unsigned char *out, size_t n)
{
	return RAND_bytes(out, (int)n) == 1 ? 0 : DC_ERR;
}
