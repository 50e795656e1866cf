/* crypto.c -- see crypto.h. */
#include "util/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <string.h>

int dc_hkdf(unsigned char *out, size_t n, const void *ikm, size_t ikm_len, const char *salt,
	    const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	int err = DC_ERR;

	if (!ctx)
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, strlen(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, n, params) == 1)
		err = 0;
done:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return err < 0 ? dc_error_set(DC_ERR, "HKDF failed in OpenSSL") : 0;
}

int dc_aead_seal(dc_buf *out, const unsigned char key[DC_AEAD_KEY], const void *aad, size_t aad_len,
		 const void *plain, size_t plain_len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char nonce[DC_AEAD_NONCE], tag[DC_AEAD_TAG], *ct = NULL;
	size_t at = out->len;
	int len, err = DC_ERR;

	if (!ctx || plain_len > (1u << 30) || RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto done;
	if (dc_buf_put(out, nonce, sizeof(nonce)) < 0 || dc_buf_put(out, NULL, 0) < 0)
		goto done;
	for (size_t i = 0; i < plain_len + DC_AEAD_TAG; i++)
		if (dc_buf_putc(out, 0) < 0)
			goto done;
	ct = (unsigned char *)out->ptr + at + DC_AEAD_NONCE;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    (aad_len && EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1) ||
	    EVP_EncryptUpdate(ctx, ct, &len, plain, (int)plain_len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + len, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, DC_AEAD_TAG, tag) != 1)
		goto done;
	memcpy(ct + plain_len, tag, DC_AEAD_TAG);
	err = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	return err < 0 ? dc_error_set(DC_ERR, "cannot seal a cache entry (OpenSSL)") : 0;
}

int dc_aead_open(dc_buf *out, const unsigned char key[DC_AEAD_KEY], const void *aad, size_t aad_len,
		 const void *sealed, size_t sealed_len)
{
	const unsigned char *in = sealed;
	EVP_CIPHER_CTX *ctx;
	size_t ct_len, at = out->len, i;
	int len, err = DC_ERR;

	if (sealed_len < DC_AEAD_NONCE + DC_AEAD_TAG || sealed_len > (1u << 30))
		return DC_ERR;
	ct_len = sealed_len - DC_AEAD_NONCE - DC_AEAD_TAG;
	if (!(ctx = EVP_CIPHER_CTX_new()))
		return DC_ERR;
	for (i = 0; i < ct_len; i++)
		if (dc_buf_putc(out, 0) < 0)
			goto done;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, in) != 1 ||
	    (aad_len && EVP_DecryptUpdate(ctx, NULL, &len, aad, (int)aad_len) != 1) ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)out->ptr + at, &len, in + DC_AEAD_NONCE, (int)ct_len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, DC_AEAD_TAG,
				(void *)(in + DC_AEAD_NONCE + ct_len)) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out->ptr + at + len, &len) != 1)
		goto done;
	err = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
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
