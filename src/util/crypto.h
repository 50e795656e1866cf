/* crypto.h -- the two primitives the cache needs, through OpenSSL.
 *
 *   dc_hkdf(out, n, ikm, ikm_len, salt, info)     HKDF-SHA256 (RFC 5869)
 *   dc_aead_seal(&out, key, aad, plain)           AES-256-GCM: nonce || ct || tag
 *   dc_aead_open(&out, key, aad, sealed)          DC_ERR if anything was changed
 *
 * Keys are 32 bytes; nonces are 12 random bytes from OpenSSL's DRBG. Output
 * goes to buffers the caller owns (use DC_BUF_SECRET for plaintext).
 *
 * Why not EVP: a cache hit must cost little more than starting a static
 * program, and OpenSSL 3's provider machinery costs about 9 million
 * instructions on its first fetch (callgrind, static build), 60 times the
 * rest of a hit. So these use OpenSSL's provider-free primitives: SHA-256
 * (SHA256_Init/Update/Final), AES (AES_set_encrypt_key) and its GCM mode
 * (CRYPTO_gcm128_*). HMAC (RFC 2104) and HKDF (RFC 5869) are the few lines
 * that compose them; tests/unit/test_crypto.c checks them against the RFC
 * vectors and against OpenSSL's EVP HKDF.
 */
#ifndef DC_CRYPTO_H
#define DC_CRYPTO_H

#include <stddef.h>

#include "util/buf.h"

enum { DC_AEAD_KEY = 32, DC_AEAD_NONCE = 12, DC_AEAD_TAG = 16 };

int dc_hkdf(unsigned char *out, size_t n, const void *ikm, size_t ikm_len, const char *salt,
	    const char *info) DC_MUST_USE;
int dc_aead_seal(dc_buf *out, const unsigned char key[DC_AEAD_KEY], const void *aad, size_t aad_len,
		 const void *plain, size_t plain_len) DC_MUST_USE;
/* DC_ERR (no message set) when the input is too short or fails authentication. */
int dc_aead_open(dc_buf *out, const unsigned char key[DC_AEAD_KEY], const void *aad, size_t aad_len,
		 const void *sealed, size_t sealed_len) DC_MUST_USE;
/* `n` random bytes from OpenSSL's DRBG; DC_ERR (no message) if it fails. */
int dc_random(unsigned char *out, size_t n) DC_MUST_USE;
/* Lower-case hex of `n` bytes into `out`. */
int dc_hex(dc_buf *out, const unsigned char *p, size_t n) DC_MUST_USE;

#endif
