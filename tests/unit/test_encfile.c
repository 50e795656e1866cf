/* test_encfile.c -- core/encfile: CodeShip's public legacy vectors decrypted
 * byte-exact, round trips of both formats, tampering with every class of
 * byte in a dcgen:v1 file, wrong keys, truncation, the refused formats,
 * and key files (white space, bad ones, writing without overwriting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/encfile.h"
#include "t.h"
#include "util/buf.h"
#include "util/codec.h"

/* Public test data from github.com/codeship/codeship-tool-examples (commit
 * 7f9a7e89 and later): keys/aes/key.key and the files of 11.encrypted-aes,
 * made by jet with that key ("jet encrypt --key-path=key.key ..."). */
static const char vector_key[] = "E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo=";
static const char vector_environment[] =
	"6UU+0y1kdnR2CqcxLQ9WYwBtv0EjbbGfKLw994VzfZC7XA27dFIZygdU8ylr236OtuQ+PA/PUE11HPObTgWewgAl3zcIxvJKKEJcUAbnn3n0Ns0zw291nA8/EergAWKoog8P";
static const char vector_environment_plain[] =
	"# jet encrypt --key-path=key.key environment environment.encrypted\nFOO=bar\nBAZ=bat\n";
static const char vector_env[] =
	"CNXsaFhYPCbgQJhoctD0Hdxm+K6h0gpWu3m5m6+JhAg0ILCrrlSTP486xcSM2QB5U3YGU/0FjltCRytVQq121w63IJfQxNkxQ4cKqIvikFu4x3nXRw==";
static const char vector_env_plain[] = "# jet encrypt --key-path=key.key env.env env.env.enc\nFOO=bar\nBAZ=bat\n";

/* README "Encrypted files": dcgen:v1 with the demo key and the nonce
 * 000102..0b, made with Python's cryptography (HKDF, AESGCM) from the spec. */
static const char vector_v1[] = "dcgen:v1:aes-256-gcm\nAAECAwQFBgcICQoLMKYo9zrfQdC8C50WezIYgQKsW8UMfeliQfAC6ODJsLw=\n";

static const char secret_text[] = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";

static char root[] = "/tmp/dcgen-test-encfile-XXXXXX";

static const char *at(int slot, const char *name)
{
	static char paths[4][512];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", root, name);
	return paths[slot];
}

static int spit(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	fwrite(text, 1, n, f);
	return fclose(f);
}

static void vector_key_load(dc_encfile_key *k)
{
	CHECK_EQ_INT(dc_encfile_key_parse(k, vector_key, strlen(vector_key), "test key"), 0);
}

/* The message of the last error holds neither the key (raw or base64) nor
 * any of `plain`. */
static int message_clean(const dc_encfile_key *k, const char *plain)
{
	const char *m = dc_error_last();
	dc_buf b64 = DC_BUF_INIT;
	int ok;

	ok = dc_base64_encode(&b64, k->bytes, sizeof(k->bytes)) == 0 && !strstr(m, b64.ptr) &&
	     !memmem(m, strlen(m), k->bytes, 8) && (!plain || !*plain || !strstr(m, plain));
	dc_buf_release(&b64);
	return ok;
}

static void test_legacy_public_vectors(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf out = DC_BUF_INIT;
	dc_buf padded = DC_BUF_INIT;

	vector_key_load(&k);
	dc_buf_init(&out, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_detect(vector_environment, strlen(vector_environment)), DC_ENCFILE_LEGACY);
	CHECK_EQ_INT(dc_encfile_decrypt(&out, &k, vector_environment, strlen(vector_environment), "environment.encrypted"), 0);
	CHECK_EQ_INT(out.len, strlen(vector_environment_plain));
	CHECK(out.len == 83 && !memcmp(out.ptr, vector_environment_plain, 83));
	dc_buf_reset(&out);
	CHECK_EQ_INT(dc_encfile_decrypt(&out, &k, vector_env, strlen(vector_env), "env.env.enc"), 0);
	CHECK_EQ_STR(out.ptr, vector_env_plain);
	/* surrounding white space (an editor's newline, a YAML block scalar) */
	dc_buf_printf(&padded, "  %s\r\n\n", vector_env);
	dc_buf_reset(&out);
	CHECK_EQ_INT(dc_encfile_decrypt(&out, &k, padded.ptr, padded.len, "env.env.enc"), 0);
	CHECK_EQ_STR(out.ptr, vector_env_plain);
	dc_buf_release(&padded);
	dc_buf_release(&out);
	dc_encfile_key_release(&k);
}

static void test_v1_documented_vector(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf out = DC_BUF_INIT;

	vector_key_load(&k);
	dc_buf_init(&out, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_decrypt(&out, &k, vector_v1, strlen(vector_v1), "readme"), 0);
	CHECK_EQ_STR(out.ptr, "FOO=bar\nBAZ=bat\n");
	dc_buf_release(&out);
	dc_encfile_key_release(&k);
}

static void test_legacy_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 31, 32, 33, 1000 };
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf plain = DC_BUF_INIT, enc = DC_BUF_INIT, dec = DC_BUF_INIT, raw = DC_BUF_INIT;
	size_t i, j;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	for (j = 0; j < 1000; j++)
		dc_buf_putc(&plain, (char)(j * 7 + 3));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		dc_buf_reset(&enc);
		dc_buf_reset(&dec);
		dc_buf_reset(&raw);
		CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, plain.ptr, sizes[i], 1), 0);
		/* one base64 line, no newline; IV then as many bytes as the plaintext */
		CHECK(!memchr(enc.ptr, '\n', enc.len));
		CHECK_EQ_INT(dc_base64_decode(&raw, enc.ptr, enc.len), 0);
		CHECK_EQ_INT(raw.len, 16 + sizes[i]);
		CHECK_EQ_INT(dc_encfile_detect(enc.ptr, enc.len), DC_ENCFILE_LEGACY);
		CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, enc.ptr, enc.len, "x"), 0);
		CHECK(dec.len == sizes[i] && !memcmp(dec.ptr, plain.ptr, sizes[i]));
	}
	dc_buf_release(&plain);
	dc_buf_release(&enc);
	dc_buf_release(&dec);
	dc_buf_release(&raw);
	dc_encfile_key_release(&k);
}

static void test_v1_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 64, 4096 };
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf plain = DC_BUF_INIT, enc = DC_BUF_INIT, again = DC_BUF_INIT, dec = DC_BUF_INIT;
	size_t i, j;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	for (j = 0; j < 4096; j++)
		dc_buf_putc(&plain, (char)(j * 13 + 1));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		dc_buf_reset(&enc);
		dc_buf_reset(&dec);
		CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, plain.ptr, sizes[i], 0), 0);
		CHECK(!strncmp(enc.ptr, "dcgen:v1:aes-256-gcm\n", 21));
		CHECK(enc.ptr[enc.len - 1] == '\n');
		/* header, base64 of 12 + n + 16 bytes, newline */
		CHECK_EQ_INT(enc.len, 21 + (12 + sizes[i] + 16 + 2) / 3 * 4 + 1);
		CHECK_EQ_INT(dc_encfile_detect(enc.ptr, enc.len), DC_ENCFILE_DCGEN_V1);
		CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, enc.ptr, enc.len, "x"), 0);
		CHECK(dec.len == sizes[i] && !memcmp(dec.ptr, plain.ptr, sizes[i]));
	}
	/* a fresh nonce each time: the same plaintext encrypts differently */
	dc_buf_reset(&enc);
	CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, secret_text, strlen(secret_text), 0), 0);
	CHECK_EQ_INT(dc_encfile_encrypt(&again, &k, secret_text, strlen(secret_text), 0), 0);
	CHECK(enc.len == again.len && memcmp(enc.ptr, again.ptr, enc.len));
	CHECK(!strstr(enc.ptr, "wJalrXUtnFEMI"));
	/* decrypt appends to what `out` holds */
	dc_buf_reset(&dec);
	dc_buf_puts(&dec, "before:");
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, enc.ptr, enc.len, "x"), 0);
	CHECK(!strncmp(dec.ptr, "before:", 7) && !strcmp(dec.ptr + 7, secret_text));
	dc_buf_release(&plain);
	dc_buf_release(&enc);
	dc_buf_release(&again);
	dc_buf_release(&dec);
	dc_encfile_key_release(&k);
}

/* Line ends carry nothing: CRLF (a Windows checkout) and a missing final
 * newline still decrypt. */
static void test_v1_line_ends(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf enc = DC_BUF_INIT, crlf = DC_BUF_INIT, dec = DC_BUF_INIT;
	size_t i;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, secret_text, strlen(secret_text), 0), 0);
	for (i = 0; i < enc.len; i++) {
		if (enc.ptr[i] == '\n')
			dc_buf_putc(&crlf, '\r');
		dc_buf_putc(&crlf, enc.ptr[i]);
	}
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, crlf.ptr, crlf.len, "x"), 0);
	CHECK_EQ_STR(dec.ptr, secret_text);
	dc_buf_reset(&dec);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, enc.ptr, enc.len - 1, "x"), 0);
	CHECK_EQ_STR(dec.ptr, secret_text);
	dc_buf_release(&enc);
	dc_buf_release(&crlf);
	dc_buf_release(&dec);
	dc_encfile_key_release(&k);
}

/* Every byte of the file text changed in several ways: an error each time,
 * nothing appended, and the message holds no plaintext. Classes: the header,
 * its line end, the base64 body (nonce, ciphertext and tag characters, the
 * padding) and the final line end. */
static void test_v1_tamper_text(void)
{
	static const unsigned char masks[] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80 };
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf enc = DC_BUF_INIT, bad = DC_BUF_INIT, dec = DC_BUF_INIT;
	size_t i, m, failures = 0, tries = 0;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	/* 20 bytes: base64 of 48 bytes, no padding; 21 bytes: one '=' of padding */
	CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, secret_text, 21, 0), 0);
	CHECK(enc.ptr[enc.len - 2] == '=');
	for (i = 0; i < enc.len; i++) {
		for (m = 0; m < sizeof(masks); m++) {
			char c = (char)(enc.ptr[i] ^ masks[m]);

			/* changing the final newline into other white space changes nothing */
			if (i == enc.len - 1 && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
				continue;
			dc_buf_reset(&bad);
			dc_buf_put(&bad, enc.ptr, enc.len);
			bad.ptr[i] = c;
			dc_buf_reset(&dec);
			tries++;
			if (dc_encfile_decrypt(&dec, &k, bad.ptr, bad.len, "x") < 0 && dec.len == 0 &&
			    message_clean(&k, "wJalrXUtnFEMI"))
				failures++;
			else
				fprintf(stderr, "tampered byte %zu (mask %02x) was not detected\n", i, masks[m]);
		}
	}
	CHECK_EQ_INT(failures, tries);
	CHECK(tries > 8 * 85); /* 90 characters, less the allowed white space */
	dc_buf_release(&enc);
	dc_buf_release(&bad);
	dc_buf_release(&dec);
	dc_encfile_key_release(&k);
}

/* The decoded body changed byte by byte (nonce, ciphertext, tag) and
 * encoded again as dcgen writes it: authentication fails (DC_ERR). */
static void test_v1_tamper_body(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf enc = DC_BUF_INIT, body = DC_BUF_INIT, bad = DC_BUF_INIT, dec = DC_BUF_INIT;
	size_t i, failed = 0;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, secret_text, strlen(secret_text), 0), 0);
	CHECK_EQ_INT(dc_base64_decode(&body, enc.ptr + 21, enc.len - 22), 0);
	CHECK_EQ_INT(body.len, 12 + strlen(secret_text) + 16);
	for (i = 0; i < body.len; i++) {
		body.ptr[i] ^= 0x01;
		dc_buf_reset(&bad);
		dc_buf_puts(&bad, "dcgen:v1:aes-256-gcm\n");
		CHECK_EQ_INT(dc_base64_encode(&bad, body.ptr, body.len), 0);
		dc_buf_putc(&bad, '\n');
		body.ptr[i] ^= 0x01;
		dc_buf_reset(&dec);
		if (dc_encfile_decrypt(&dec, &k, bad.ptr, bad.len, "x") == DC_ERR && dec.len == 0 &&
		    strstr(dc_error_last(), "authentication failed"))
			failed++;
	}
	CHECK_EQ_INT(failed, body.len);
	dc_buf_release(&enc);
	dc_buf_release(&body);
	dc_buf_release(&bad);
	dc_buf_release(&dec);
	dc_encfile_key_release(&k);
}

static void test_v1_wrong_key_and_truncation(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT, other = DC_ENCFILE_KEY_INIT;
	dc_buf enc = DC_BUF_INIT, dec = DC_BUF_INIT;
	size_t n;
	int all = 1;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	CHECK_EQ_INT(dc_encfile_key_generate(&other), 0);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_encrypt(&enc, &k, secret_text, strlen(secret_text), 0), 0);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &other, enc.ptr, enc.len, "creds.encrypted"), DC_ERR);
	CHECK_EQ_INT(dec.len, 0);
	CHECK_HAS(dc_error_last(), "'creds.encrypted'");
	CHECK_HAS(dc_error_last(), "authentication failed");
	CHECK(message_clean(&other, "wJalrXUtnFEMI"));
	CHECK(message_clean(&k, NULL));
	/* every prefix of the file (past the header line) is an error */
	for (n = 21; n < enc.len - 1; n++) {
		dc_buf_reset(&dec);
		if (dc_encfile_decrypt(&dec, &k, enc.ptr, n, "x") != DC_ERR || dec.len)
			all = 0;
	}
	CHECK(all);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "dcgen:v1:aes-256-gcm\nAAAA\n", 26, "x"), DC_ERR);
	CHECK_HAS(dc_error_last(), "truncated");
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "dcgen:v1:aes-256-gcm\n", 21, "x"), DC_ERR);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "dcgen:v1:aes-256-gcm", 20, "x"), DC_ERR);
	dc_buf_release(&enc);
	dc_buf_release(&dec);
	dc_encfile_key_release(&k);
	dc_encfile_key_release(&other);
}

static void test_refused_formats(void)
{
	static const char v2[] = "codeship:v2\nq8GcWy0pV+Hs0cO2Yw1J0G0dbsZjkMzh8i2kGeU0fYk=";
	static const char cb[] = "cloudbees:v1\r\nq8GcWy0pV+Hs0cO2Yw1J0G0dbsZjkMzh8i2kGeU0fYk=\n";
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf dec = DC_BUF_INIT;

	vector_key_load(&k);
	dc_buf_init(&dec, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_detect(v2, strlen(v2)), DC_ENCFILE_CODESHIP_V2);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, v2, strlen(v2), "dockercfg.encrypted"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "'dockercfg.encrypted'");
	CHECK_HAS(dc_error_last(), "codeship:v2");
	CHECK_HAS(dc_error_last(), "never published");
	CHECK_HAS(dc_error_last(), "jet decrypt");
	CHECK_HAS(dc_error_last(), "dcgen encrypt");
	CHECK_EQ_INT(dc_encfile_detect(cb, strlen(cb)), DC_ENCFILE_CLOUDBEES_V1);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, cb, strlen(cb), "encrypted_environment entry 2"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "'encrypted_environment entry 2'");
	CHECK_HAS(dc_error_last(), "cloudbees:v1");
	/* a later dcgen format, other headers, text that is not base64 */
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "dcgen:v2:x\nAAAA", 15, "x"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "newer dcgen");
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "codeship:v3\nAAAA", 16, "x"), DC_EUSAGE);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "PASSWORD=hunter2\n", 17, "x"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "not in a format dcgen knows");
	CHECK_LACKS(dc_error_last(), "hunter2");
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "", 0, "x"), DC_EUSAGE);
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, " \n", 2, "x"), DC_EUSAGE);
	/* base64, but shorter than an IV */
	CHECK_EQ_INT(dc_encfile_decrypt(&dec, &k, "AAAA", 4, "x"), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "too short");
	CHECK_EQ_INT(dec.len, 0);
	dc_buf_release(&dec);
	dc_encfile_key_release(&k);
}

static void test_key_files(void)
{
	static const struct {
		const char *text;
		int ok;
	} cases[] = {
		{ "E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo=", 1 },         /* the demo key: 44 bytes */
		{ "E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo=\n", 1 },       /* echo KEY > codeship.aes */
		{ "  E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo= \r\n\n", 1 }, /* pasted */
		{ "\tE6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo=", 1 },
		{ "E6kwQsGsIGMWrDQYmfnUcnHb +Yq2slOHH4/IBkVzaHo=", 0 },        /* inner space */
		{ "E6kwQsGsIGMWrDQYmfnUcnHb-Yq2slOHH4_IBkVzaHo=", 0 },         /* base64url */
		{ "E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo", 0 },          /* unpadded */
		{ "E6kwQsGsIGMWrDQYmfnUcg==", 0 },                              /* 16 bytes */
		{ "E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHoE6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo=", 0 },
		{ "", 0 },
		{ "\n \n", 0 },
		{ "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n", 0 },
	};
	dc_encfile_key k = DC_ENCFILE_KEY_INIT, ref = DC_ENCFILE_KEY_INIT;
	size_t i;

	vector_key_load(&ref);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;

		if (!CHECK_EQ_INT(spit(at(0, "codeship.aes"), cases[i].text, strlen(cases[i].text)), 0))
			return;
		err = dc_encfile_key_load(&k, at(0, "codeship.aes"));
		if (cases[i].ok) {
			CHECK_EQ_INT(err, 0);
			CHECK(k.loaded && !memcmp(k.bytes, ref.bytes, 32));
		} else {
			if (!CHECK_EQ_INT(err, DC_EUSAGE))
				fprintf(stderr, "  key case %zu\n", i);
			CHECK(!k.loaded);
			CHECK_HAS(dc_error_last(), "codeship.aes'");
			CHECK_LACKS(dc_error_last(), "E6kw");
			CHECK_LACKS(dc_error_last(), "\n");
		}
		dc_encfile_key_release(&k);
	}
	CHECK_EQ_INT(dc_encfile_key_load(&k, at(0, "missing.aes")), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "missing.aes");
	CHECK_EQ_INT(dc_encfile_key_load(&k, root), DC_EUSAGE); /* a directory */
	unlink(at(0, "codeship.aes"));
	dc_encfile_key_release(&ref);
}

static void test_key_generate_write(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT, back = DC_ENCFILE_KEY_INIT, k2 = DC_ENCFILE_KEY_INIT;
	dc_buf text = DC_BUF_INIT;
	struct stat st;
	char buf[128];
	FILE *f;
	size_t n;

	CHECK_EQ_INT(dc_encfile_key_generate(&k), 0);
	CHECK_EQ_INT(dc_encfile_key_generate(&k2), 0);
	CHECK(memcmp(k.bytes, k2.bytes, 32));
	CHECK_EQ_INT(dc_encfile_key_write(&k, at(0, "new.aes")), 0);
	CHECK(stat(at(0, "new.aes"), &st) == 0 && (st.st_mode & 0777) == 0600);
	f = fopen(at(0, "new.aes"), "rb");
	n = f ? fread(buf, 1, sizeof(buf), f) : 0;
	if (f)
		fclose(f);
	CHECK_EQ_INT(n, 45); /* 44 base64 characters and a newline, as jet's users had */
	CHECK_EQ_INT(dc_base64_encode(&text, k.bytes, 32), 0);
	dc_buf_putc(&text, '\n');
	CHECK(n == text.len && !memcmp(buf, text.ptr, n));
	CHECK_EQ_INT(dc_encfile_key_load(&back, at(0, "new.aes")), 0);
	CHECK(!memcmp(back.bytes, k.bytes, 32));
	/* never overwritten: not a file, not a symlink (dangling or not) */
	CHECK_EQ_INT(dc_encfile_key_write(&k2, at(0, "new.aes")), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "refusing to overwrite");
	CHECK_EQ_INT(dc_encfile_key_load(&back, at(0, "new.aes")), 0);
	CHECK(!memcmp(back.bytes, k.bytes, 32));
	CHECK_EQ_INT(symlink(at(1, "elsewhere"), at(0, "link.aes")), 0);
	CHECK_EQ_INT(dc_encfile_key_write(&k2, at(0, "link.aes")), DC_EUSAGE);
	CHECK(access(at(0, "elsewhere"), F_OK) != 0);
	CHECK_EQ_INT(dc_encfile_key_write(&k2, at(0, "no/such/dir.aes")), DC_EUSAGE);
	/* released keys are wiped */
	dc_encfile_key_release(&k);
	CHECK(!k.loaded);
	for (n = 0; n < 32; n++)
		CHECK_EQ_INT(k.bytes[n], 0);
	unlink(at(0, "new.aes"));
	unlink(at(0, "link.aes"));
	dc_buf_release(&text);
	dc_encfile_key_release(&back);
	dc_encfile_key_release(&k2);
}

static void test_unloaded_key(void)
{
	dc_encfile_key k = DC_ENCFILE_KEY_INIT;
	dc_buf out = DC_BUF_INIT;

	dc_buf_init(&out, 0, DC_BUF_SECRET);
	CHECK_EQ_INT(dc_encfile_encrypt(&out, &k, "x", 1, 0), DC_EUSAGE);
	CHECK_EQ_INT(dc_encfile_decrypt(&out, &k, vector_env, strlen(vector_env), "x"), DC_EUSAGE);
	CHECK_EQ_INT(out.len, 0);
	dc_buf_release(&out);
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_legacy_public_vectors);
	T_RUN(test_v1_documented_vector);
	T_RUN(test_legacy_round_trip);
	T_RUN(test_v1_round_trip);
	T_RUN(test_v1_line_ends);
	T_RUN(test_v1_tamper_text);
	T_RUN(test_v1_tamper_body);
	T_RUN(test_v1_wrong_key_and_truncation);
	T_RUN(test_refused_formats);
	T_RUN(test_key_files);
	T_RUN(test_key_generate_write);
	T_RUN(test_unloaded_key);
	rmdir(root);
	return t_done();
}
