/* encfile.c -- see encfile.h; README "Encrypted files" has the formats.
 *
 * AES-256-CFB128 goes through OpenSSL's provider-free AES_cfb128_encrypt and
 * GCM through util/crypto, for the reason util/crypto.h gives: the runner
 * may decrypt a few entries on the way to a build, and OpenSSL 3's EVP
 * fetch costs more than everything else it does here. */
#define OPENSSL_SUPPRESS_DEPRECATED /* AES_*: deprecated, not gone */
#include "core/encfile.h"

#include <assert.h>
#include <openssl/aes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "util/codec.h"
#include "util/crypto.h"
#include "util/fs.h"
#include "util/secret.h"

/* The dcgen:v1 header line, without its line end: the associated data of
 * the GCM sealing and the HKDF info that derives its key from the file key. */
static const char header_v1[] = "dcgen:v1:aes-256-gcm";

enum {
	IV_LEN = 16,           /* legacy: AES block */
	KEY_FILE_MAX = 4096,   /* a key file is 44 bytes; room for white space */
	INPUT_MAX = 1 << 30,   /* util/crypto's limit; far above any real file */
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Narrow [*p, *p + *n) to its text without surrounding white space. */
static void trim(const char **p, size_t *n)
{
	while (*n && is_space(**p))
		(*p)++, (*n)--;
	while (*n && is_space((*p)[*n - 1]))
		(*n)--;
}

int dc_encfile_key_parse(dc_encfile_key *out, const char *text, size_t len, const char *what)
{
	dc_buf raw = DC_BUF_INIT;
	int err = 0;

	memset(out, 0, sizeof(*out));
	dc_buf_init(&raw, 0, DC_BUF_SECRET);
	trim(&text, &len);
	if (!len) {
		err = dc_error_set(DC_EUSAGE, "%s is empty; it must hold the base64 of a 32-byte AES key (make one with 'dcgen keygen')",
				   what);
		goto done;
	}
	if (dc_base64_decode(&raw, text, len) < 0) {
		err = dc_buf_failed(&raw) ? dc_error_set(DC_ERR, "out of memory")
					  : dc_error_set(DC_EUSAGE, "%s is not base64; it must hold the base64 of a 32-byte AES key (the project's key from CodeShip, or 'dcgen keygen')",
							 what);
		goto done;
	}
	if (raw.len != DC_ENCFILE_KEY_LEN) {
		err = dc_error_set(DC_EUSAGE, "%s holds a %zu-byte key, not 32; it must hold the base64 of a 32-byte AES key (44 characters)",
				   what, raw.len);
		goto done;
	}
	memcpy(out->bytes, raw.ptr, DC_ENCFILE_KEY_LEN);
	out->loaded = 1;
done:
	dc_buf_release(&raw);
	return err;
}

int dc_encfile_key_load(dc_encfile_key *out, const char *path)
{
	dc_buf text = DC_BUF_INIT, what = DC_BUF_INIT;
	int err;

	memset(out, 0, sizeof(*out));
	dc_buf_init(&text, KEY_FILE_MAX, DC_BUF_SECRET);
	if ((err = dc_fs_read_secret(&text, path, KEY_FILE_MAX, "key file")) < 0)
		goto done;
	if (dc_buf_printf(&what, "key file '%s'", path) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	err = dc_encfile_key_parse(out, text.ptr, text.len, what.ptr);
done:
	dc_buf_release(&text);
	dc_buf_release(&what);
	return err;
}

int dc_encfile_key_generate(dc_encfile_key *out)
{
	memset(out, 0, sizeof(*out));
	if (RAND_bytes(out->bytes, sizeof(out->bytes)) != 1) {
		dc_secret_wipe(out->bytes, sizeof(out->bytes));
		return dc_error_set(DC_ERR, "cannot make a key: OpenSSL's random generator failed");
	}
	out->loaded = 1;
	return 0;
}

int dc_encfile_key_write(const dc_encfile_key *key, const char *path)
{
	dc_buf text = DC_BUF_INIT;
	int err;

	assert(key->loaded);
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if (dc_base64_encode(&text, key->bytes, sizeof(key->bytes)) < 0 || dc_buf_putc(&text, '\n') < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	err = dc_fs_write_new(path, text.ptr, text.len, 0600);
done:
	dc_buf_release(&text);
	return err;
}

void dc_encfile_key_release(dc_encfile_key *key)
{
	if (key)
		dc_secret_wipe(key, sizeof(*key));
}

/* The length of the first line of `data`, without its "\n" or "\r\n". */
static size_t first_line(const char *data, size_t len, size_t *end)
{
	const char *nl = memchr(data, '\n', len);
	size_t n = nl ? (size_t)(nl - data) : len;

	*end = nl ? n + 1 : len;
	if (n && data[n - 1] == '\r')
		n--;
	return n;
}

static int line_is(const char *line, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(line, want, n);
}

dc_encfile_format dc_encfile_detect(const char *data, size_t len)
{
	size_t end, n = first_line(data, len, &end);
	const char *p = data;
	size_t m = len;

	if (line_is(data, n, header_v1))
		return DC_ENCFILE_DCGEN_V1;
	if (line_is(data, n, "codeship:v2"))
		return DC_ENCFILE_CODESHIP_V2;
	if (line_is(data, n, "cloudbees:v1"))
		return DC_ENCFILE_CLOUDBEES_V1;
	/* legacy: base64 only ("+/=" and alphanumerics); a ':' never is */
	trim(&p, &m);
	if (!m || memchr(p, ':', m))
		return DC_ENCFILE_UNKNOWN;
	return DC_ENCFILE_LEGACY;
}

const char *dc_encfile_format_name(dc_encfile_format f)
{
	switch (f) {
	case DC_ENCFILE_DCGEN_V1: return "dcgen:v1";
	case DC_ENCFILE_LEGACY: return "legacy (unversioned CodeShip)";
	case DC_ENCFILE_CODESHIP_V2: return "codeship:v2";
	case DC_ENCFILE_CLOUDBEES_V1: return "cloudbees:v1";
	default: return "unknown";
	}
}

/* The dcgen:v1 GCM key: HKDF-SHA256(IKM = file key, salt = "", info = header). */
static int derive(unsigned char sub[DC_AEAD_KEY], const dc_encfile_key *key)
{
	return dc_hkdf(sub, DC_AEAD_KEY, key->bytes, sizeof(key->bytes), "", header_v1);
}

static int decrypt_v1(dc_buf *plain, const dc_encfile_key *key, const char *data, size_t len, const char *what)
{
	dc_buf body = DC_BUF_INIT, again = DC_BUF_INIT;
	unsigned char sub[DC_AEAD_KEY];
	const char *text;
	size_t end, n;
	int err = DC_ERR;

	(void)first_line(data, len, &end);
	text = data + end;
	n = len - end;
	/* the line ends carry nothing: "\n" or "\r\n" (a Windows checkout), and
	 * a trailing line end or none; everything else must be the base64 */
	while (n && is_space(text[n - 1]))
		n--;
	if (dc_base64_decode(&body, text, n) < 0) {
		if (dc_buf_failed(&body))
			dc_error_set(DC_ERR, "out of memory");
		else
			dc_error_set(DC_ERR, "cannot decrypt '%s': its body is not base64, so the file is damaged; encrypt the plaintext again",
				     what);
		goto done;
	}
	/* one encoding only: a changed padding bit is a changed file too */
	if (dc_base64_encode(&again, body.ptr, body.len) < 0) {
		dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (again.len != n || memcmp(again.ptr, text, n)) {
		dc_error_set(DC_ERR, "cannot decrypt '%s': its body is not base64 as dcgen writes it, so the file is damaged; encrypt the plaintext again",
			     what);
		goto done;
	}
	if (body.len < DC_AEAD_NONCE + DC_AEAD_TAG) {
		dc_error_set(DC_ERR, "cannot decrypt '%s': it is truncated (%zu bytes after the header, at least %d needed); encrypt the plaintext again",
			     what, body.len, DC_AEAD_NONCE + DC_AEAD_TAG);
		goto done;
	}
	if (derive(sub, key) < 0)
		goto done;
	if (dc_aead_open(plain, sub, header_v1, strlen(header_v1), body.ptr, body.len) < 0) {
		if (dc_buf_failed(plain))
			dc_error_set(DC_ERR, "out of memory");
		else
			dc_error_set(DC_ERR, "cannot decrypt '%s': authentication failed, so the key is not the one it was encrypted with or the file was changed; check the key file",
				     what);
		goto done;
	}
	err = 0;
done:
	dc_secret_wipe(sub, sizeof(sub));
	dc_buf_release(&body);
	dc_buf_release(&again);
	return err;
}

/* AES-256-CFB128 over `n` bytes, in and out may be the same. */
static int cfb(unsigned char *out, const unsigned char *in, size_t n, const dc_encfile_key *key,
	       const unsigned char iv_in[IV_LEN], int enc)
{
	unsigned char iv[IV_LEN];
	AES_KEY ks;
	int num = 0;

	if (AES_set_encrypt_key(key->bytes, 256, &ks) != 0)
		return dc_error_set(DC_ERR, "cannot set up AES (OpenSSL)");
	memcpy(iv, iv_in, IV_LEN);
	AES_cfb128_encrypt(in, out, n, &ks, iv, &num, enc ? AES_ENCRYPT : AES_DECRYPT);
	OPENSSL_cleanse(&ks, sizeof(ks));
	OPENSSL_cleanse(iv, sizeof(iv));
	return 0;
}

static int decrypt_legacy(dc_buf *plain, const dc_encfile_key *key, const char *data, size_t len, const char *what)
{
	dc_buf body = DC_BUF_INIT;
	unsigned char *at;
	int err = DC_ERR;

	trim(&data, &len);
	if (dc_base64_decode(&body, data, len) < 0) {
		if (dc_buf_failed(&body))
			err = dc_error_set(DC_ERR, "out of memory");
		else
			err = dc_error_set(DC_EUSAGE, "cannot decrypt '%s': it is not in a format dcgen knows (no dcgen:v1, codeship:v2 or cloudbees:v1 header, and not base64 as the unversioned CodeShip format); check the file",
					   what);
		goto done;
	}
	if (body.len < IV_LEN) {
		err = dc_error_set(DC_EUSAGE, "cannot decrypt '%s': too short for the unversioned CodeShip format (%zu bytes, at least a 16-byte IV needed); check the file",
				   what, body.len);
		goto done;
	}
	if (!(at = (unsigned char *)dc_buf_extend(plain, body.len - IV_LEN, 0))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	err = cfb(at, (const unsigned char *)body.ptr + IV_LEN, body.len - IV_LEN, key,
		  (const unsigned char *)body.ptr, 0);
done:
	dc_buf_release(&body);
	return err;
}

int dc_encfile_decrypt(dc_buf *out, const dc_encfile_key *key, const char *data, size_t len, const char *what)
{
	dc_buf plain = DC_BUF_INIT;
	int err = DC_ERR;

	assert(out->secret); /* plaintext: the caller's buffer must wipe */
	if (!key->loaded)
		return dc_error_set(DC_EUSAGE, "cannot decrypt '%s': no key loaded", what);
	if (len > INPUT_MAX)
		return dc_error_set(DC_EUSAGE, "cannot decrypt '%s': larger than %d bytes", what, INPUT_MAX);
	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	switch (dc_encfile_detect(data, len)) {
	case DC_ENCFILE_DCGEN_V1:
		err = decrypt_v1(&plain, key, data, len, what);
		break;
	case DC_ENCFILE_LEGACY:
		err = decrypt_legacy(&plain, key, data, len, what);
		break;
	case DC_ENCFILE_CODESHIP_V2:
	case DC_ENCFILE_CLOUDBEES_V1:
		err = dc_error_set(DC_EUSAGE, "cannot decrypt '%s': it is in the %s format, whose layout CodeShip never published; decrypt it with 'jet decrypt' and encrypt the plaintext again with 'dcgen encrypt'",
				   what, dc_encfile_format_name(dc_encfile_detect(data, len)));
		break;
	default:
		if (len >= 6 && !memcmp(data, "dcgen:", 6))
			err = dc_error_set(DC_EUSAGE, "cannot decrypt '%s': its dcgen header names a format this dcgen does not know; use a newer dcgen",
					   what);
		else
			err = dc_error_set(DC_EUSAGE, "cannot decrypt '%s': it is not in a format dcgen knows (no dcgen:v1, codeship:v2 or cloudbees:v1 header, and not base64 as the unversioned CodeShip format); check the file",
					   what);
		break;
	}
	if (err < 0)
		goto done;
	if (!out->len && !out->max) {
		/* hand the memory over instead of copying the plaintext once more */
		dc_buf_release(out);
		*out = plain;
		return 0;
	}
	if (dc_buf_put(out, plain.ptr, plain.len) < 0)
		err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_buf_release(&plain);
	return err;
}

static int encrypt_legacy(dc_buf *out, const dc_encfile_key *key, const char *data, size_t len)
{
	dc_buf body = DC_BUF_INIT;
	unsigned char *at;
	int err = DC_ERR;

	if (!(at = (unsigned char *)dc_buf_extend(&body, IV_LEN + len, 0))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (RAND_bytes(at, IV_LEN) != 1) {
		err = dc_error_set(DC_ERR, "cannot make an IV: OpenSSL's random generator failed");
		goto done;
	}
	if ((err = cfb(at + IV_LEN, (const unsigned char *)data, len, key, at, 1)) < 0)
		goto done;
	if (dc_base64_encode(out, body.ptr, body.len) < 0)
		err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_buf_release(&body);
	return err;
}

static int encrypt_v1(dc_buf *out, const dc_encfile_key *key, const char *data, size_t len)
{
	dc_buf body = DC_BUF_INIT;
	unsigned char sub[DC_AEAD_KEY];
	int err = DC_ERR;

	if (derive(sub, key) < 0)
		goto done;
	if (dc_aead_seal(&body, sub, header_v1, strlen(header_v1), data, len) < 0) {
		err = dc_error_set(DC_ERR, dc_buf_failed(&body) ? "out of memory"
								 : "cannot encrypt: OpenSSL failed (random generator or AES)");
		goto done;
	}
	if (dc_buf_puts(out, header_v1) < 0 || dc_buf_putc(out, '\n') < 0 ||
	    dc_base64_encode(out, body.ptr, body.len) < 0 || dc_buf_putc(out, '\n') < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	err = 0;
done:
	dc_secret_wipe(sub, sizeof(sub));
	dc_buf_release(&body);
	return err;
}

int dc_encfile_encrypt(dc_buf *out, const dc_encfile_key *key, const char *data, size_t len, int legacy)
{
	size_t start = out->len;
	int err;

	if (!key->loaded)
		return dc_error_set(DC_EUSAGE, "cannot encrypt: no key loaded");
	if (len > INPUT_MAX)
		return dc_error_set(DC_EUSAGE, "cannot encrypt: the input is larger than %d bytes", INPUT_MAX);
	err = legacy ? encrypt_legacy(out, key, data, len) : encrypt_v1(out, key, data, len);
	if (err < 0 && !dc_buf_failed(out)) {
		out->len = start; /* nothing appended on failure */
		out->ptr[start] = '\0';
	}
	return err;
}
