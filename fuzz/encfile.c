/* encfile.c -- core/encfile.c: encrypted files and inline entries (detected,
 * then decrypted under a fixed key, as `dcgen decrypt` and the steps runner
 * do) and key files (codeship.aes). The first byte chooses; a third choice
 * encrypts the input and requires the decryption to give it back. */
#include "core/encfile.h"
#include "fuzz.h"

static const dc_encfile_key fixed = { "0123456789abcdef0123456789abcdef", 1 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_encfile_key key = DC_ENCFILE_KEY_INIT;
	dc_buf plain = DC_BUF_INIT, text = DC_BUF_INIT;
	const char *in = (const char *)data + 1;

	if (size < 1)
		return 0;
	size--;
	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	switch (data[0] % 3) {
	case 0:
		(void)dc_encfile_format_name(dc_encfile_detect(in, size));
		if (dc_encfile_decrypt(&plain, &fixed, in, size, "creds.encrypted") < 0 && plain.len)
			abort(); /* nothing appended on failure */
		break;
	case 1:
		(void)!dc_encfile_key_parse(&key, in, size, "codeship.aes");
		break;
	default:
		if (dc_encfile_encrypt(&text, &fixed, in, size, (data[0] / 3) % 2) == 0 &&
		    (dc_encfile_decrypt(&plain, &fixed, text.ptr, text.len, "round trip") < 0 ? !fuzz_oom() :
		     plain.len != size || memcmp(plain.ptr, in, size)))
			abort();
		break;
	}
	dc_encfile_key_release(&key);
	dc_buf_release(&plain);
	dc_buf_release(&text);
	dc_error_clear();
	return 0;
}
