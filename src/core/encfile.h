/* encfile.h -- CodeShip-compatible encrypted files (codeship.aes keys).
 *
 *   dc_encfile_key key = DC_ENCFILE_KEY_INIT;
 *   dc_encfile_key_load(&key, "codeship.aes");           or _generate
 *   dc_buf plain; dc_buf_init(&plain, 0, DC_BUF_SECRET);
 *   dc_encfile_decrypt(&plain, &key, data, len, "creds.encrypted");
 *   dc_encfile_encrypt(&text, &key, plain.ptr, plain.len, 0);
 *   dc_buf_release(&plain); dc_encfile_key_release(&key);  both wipe
 *
 * Formats read (README "Encrypted files" has them byte by byte):
 *   dcgen:v1   "dcgen:v1:aes-256-gcm\n" base64(nonce[12] || ct || tag[16]) "\n";
 *              AES-256-GCM under a key derived from the file key (HKDF-SHA256),
 *              the header line as associated data. Written by default.
 *   legacy     base64(iv[16] || AES-256-CFB128(key, iv, plain)), one line, the
 *              unversioned format of jet before 2.6. No integrity: a wrong key
 *              gives garbage. Written only when asked (`legacy`).
 *   codeship:v2, cloudbees:v1   recognised by their header line and refused
 *              (DC_EUSAGE): their inner layout was never published.
 * The same functions serve whole files (encrypted_env_file, ...) and the
 * inline entries of encrypted_environment / encrypted_args.
 *
 * Messages name the source by `what` (a file name, "encrypted_environment
 * entry 2"); they never contain key material or plaintext.
 */
#ifndef DC_ENCFILE_H
#define DC_ENCFILE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

enum { DC_ENCFILE_KEY_LEN = 32 };

typedef struct {
	unsigned char bytes[DC_ENCFILE_KEY_LEN];
	int loaded;
} dc_encfile_key;

#define DC_ENCFILE_KEY_INIT { { 0 }, 0 }

typedef enum {
	DC_ENCFILE_UNKNOWN = 0,  /* nothing known: not base64, or a header we do not know */
	DC_ENCFILE_DCGEN_V1,     /* ours, authenticated */
	DC_ENCFILE_LEGACY,       /* unversioned CodeShip (AES-256-CFB128, no integrity) */
	DC_ENCFILE_CODESHIP_V2,  /* "codeship:v2": layout not public */
	DC_ENCFILE_CLOUDBEES_V1, /* "cloudbees:v1": layout not public */
} dc_encfile_format;

/* Read a key file: surrounding white space stripped, then standard base64
 * (padded) of exactly 32 bytes. DC_EUSAGE with a one-line message naming
 * `path` when the file is missing, unreadable, not base64 or the wrong
 * length. `out` is wiped on failure. */
int dc_encfile_key_load(dc_encfile_key *out, const char *path) DC_MUST_USE;
/* Decode a key from text in memory (same rules; `what` names it). */
int dc_encfile_key_parse(dc_encfile_key *out, const char *text, size_t len, const char *what) DC_MUST_USE;
/* 32 random bytes from OpenSSL's DRBG. DC_ERR if it has no entropy. */
int dc_encfile_key_generate(dc_encfile_key *out) DC_MUST_USE;
/* Write the key as the 44 base64 characters and a newline, mode 0600,
 * complete or absent (dc_fs_write_new): DC_EUSAGE if `path` exists, a
 * symlink included (never overwritten). */
int dc_encfile_key_write(const dc_encfile_key *key, const char *path) DC_MUST_USE;
/* Wipe the key. Accepts an unloaded key. */
void dc_encfile_key_release(dc_encfile_key *key);

/* Which format `data` is in, from its first line (no key needed). */
dc_encfile_format dc_encfile_detect(const char *data, size_t len);
/* Name of a format for messages: "dcgen:v1", "codeship:v2", ... */
const char *dc_encfile_format_name(dc_encfile_format f);

/* Decrypt `data` (a whole file or one inline entry) and append the plaintext
 * to `out`, which must be a DC_BUF_SECRET buffer (asserted; dc_encfile_detect tells
 * which format it was, e.g. to warn that a legacy file had no integrity).
 * Errors, with `what` in the message:
 *   DC_EUSAGE  an unknown format, codeship:v2 or cloudbees:v1 (with how to
 *              re-encrypt), a newer dcgen version, an unloaded key;
 *   DC_ERR     a dcgen file that fails authentication (wrong key or changed
 *              bytes), is truncated or has a damaged body; out of memory.
 * On failure nothing is appended to `out`. */
int dc_encfile_decrypt(dc_buf *out, const dc_encfile_key *key, const char *data, size_t len, const char *what)
	DC_MUST_USE;
/* Encrypt `data` and append the file text to `out`: the dcgen:v1 format, or
 * with `legacy` the unversioned CodeShip one (no trailing newline, as jet
 * wrote it). DC_ERR (out of memory, no entropy) or DC_EUSAGE (unloaded key). */
int dc_encfile_encrypt(dc_buf *out, const dc_encfile_key *key, const char *data, size_t len, int legacy) DC_MUST_USE;

#endif
