/* codec.c -- see codec.h. */
#include "util/codec.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int dc_base64_encode(dc_buf *out, const void *data, size_t len)
{
	size_t need = 4 * ((len + 2) / 3);
	char *at;

	if (len > (size_t)0x3fffffff)
		return dc_error_set(DC_ERR, "value too large to encode");
	/* reserve room, then let OpenSSL write in place */
	if (!(at = dc_buf_extend(out, need, '=')))
		return dc_error_set(DC_ERR, "out of memory");
	EVP_EncodeBlock((unsigned char *)at, data, (int)len);
	out->ptr[out->len] = '\0';
	return 0;
}

static int b64char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
	       c == '/';
}

int dc_base64_decode(dc_buf *out, const char *text, size_t len)
{
	size_t i, pad = 0, need;
	char *at;
	int n;

	if (len % 4 || len > (size_t)0x3fffffff)
		return dc_error_set(DC_ERR, "not valid base64");
	/* EVP_DecodeBlock skips no garbage we want refused: check first */
	for (i = 0; i < len; i++) {
		if (text[i] == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (pad || !b64char(text[i]))
			return dc_error_set(DC_ERR, "not valid base64");
	}
	need = len / 4 * 3;
	if (!(at = dc_buf_extend(out, need, '\0')))
		return dc_error_set(DC_ERR, "out of memory");
	n = EVP_DecodeBlock((unsigned char *)at, (const unsigned char *)text, (int)len);
	if (n < 0 || (size_t)n != need)
		return dc_error_set(DC_ERR, "not valid base64");
	/* EVP_DecodeBlock counts padding as zero bytes */
	out->len -= pad;
	out->ptr[out->len] = '\0';
	return 0;
}

int dc_base64url_encode(dc_buf *out, const void *data, size_t len)
{
	size_t at = out->len, i;
	int err;

	if ((err = dc_base64_encode(out, data, len)) < 0)
		return err;
	for (i = at; i < out->len; i++) {
		if (out->ptr[i] == '+')
			out->ptr[i] = '-';
		else if (out->ptr[i] == '/')
			out->ptr[i] = '_';
	}
	while (out->len > at && out->ptr[out->len - 1] == '=')
		out->ptr[--out->len] = '\0';
	return 0;
}

int dc_base64url_decode(dc_buf *out, const char *text, size_t len)
{
	dc_buf b64 = DC_BUF_INIT;
	size_t i;
	int err = 0;

	/* a length of 4n+1 leaves 6 bits: no whole byte, not base64url */
	if (len % 4 == 1 || len > (size_t)0x3fffffff)
		return dc_error_set(DC_ERR, "not valid base64url");
	/* to standard base64 with padding, then OpenSSL's strict decoder; the
	 * copy may be a token, so it is wiped */
	dc_buf_init(&b64, 0, DC_BUF_SECRET);
	for (i = 0; i < len && !err; i++) {
		if (text[i] == '+' || text[i] == '/' || text[i] == '=')
			err = dc_error_set(DC_ERR, "not valid base64url");
		else
			dc_buf_putc(&b64, text[i] == '-' ? '+' : text[i] == '_' ? '/' : text[i]);
	}
	/* a failed buffer stays as it is: stop, or this never ends (found by
	 * tests/torture: an allocation failing here hung dcgen) */
	while (!err && b64.len % 4 && !dc_buf_failed(&b64))
		dc_buf_putc(&b64, '=');
	if (!err && dc_buf_failed(&b64))
		err = dc_error_set(DC_ERR, "out of memory");
	if (!err && dc_base64_decode(out, b64.ptr, b64.len) < 0)
		err = dc_error_set(DC_ERR, dc_buf_failed(out) ? "out of memory" : "not valid base64url");
	dc_buf_release(&b64);
	return err;
}

static int put_entity(dc_buf *out, const char **pp, const char *end)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *p = *pp;
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t n = strlen(named[i].name);

		if ((size_t)(end - p) >= n && !strncmp(p, named[i].name, n)) {
			*pp = p + n;
			return dc_buf_putc(out, named[i].c);
		}
	}
	if (end - p > 3 && p[1] == '#') {
		char *stop;
		long v = p[2] == 'x' ? strtol(p + 3, &stop, 16) : strtol(p + 2, &stop, 10);

		if (stop < end && *stop == ';' && v > 0 && v < 128) {
			*pp = stop + 1;
			return dc_buf_putc(out, (char)v);
		}
	}
	*pp = p + 1;
	return dc_buf_putc(out, '&');
}

int dc_xml_text(dc_buf *out, const char *doc, const char *tag)
{
	dc_buf open = DC_BUF_INIT, close = DC_BUF_INIT;
	const char *start, *end, *p;
	int err = DC_ENOTFOUND;

	if (dc_buf_printf(&open, "<%s>", tag) < 0 || dc_buf_printf(&close, "</%s>", tag) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (!(start = strstr(doc, open.ptr)))
		goto done;
	start += open.len;
	if (!(end = strstr(start, close.ptr)))
		goto done;
	err = 0;
	for (p = start; p < end && !err;)
		err = *p == '&' ? put_entity(out, &p, end) : dc_buf_putc(out, *p++);
	if (err)
		err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_buf_release(&open);
	dc_buf_release(&close);
	return err;
}
