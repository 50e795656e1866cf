/* codec.h -- base64 and base64url (through OpenSSL) and a minimal XML text
 * lookup.
 *
 *   dc_base64_encode(&out, data, len);      appends; standard alphabet, padded
 *   dc_base64url_encode(&out, data, len);   appends; JWT parts (RFC 7515)
 *   dc_base64url_decode(&out, part, len);   appends the bytes; DC_ERR if bad
 *
 * Output goes to a dc_buf the caller owns (use a DC_BUF_SECRET one for
 * secrets). All return 0 or DC_ERR with the message set.
 */
#ifndef DC_CODEC_H
#define DC_CODEC_H

#include <stddef.h>

#include "util/buf.h"

int dc_base64_encode(dc_buf *out, const void *data, size_t len) DC_MUST_USE;
/* Strict standard-alphabet base64 with padding; DC_ERR on anything else. */
int dc_base64_decode(dc_buf *out, const char *text, size_t len) DC_MUST_USE;

/* base64url without padding (RFC 7515 section 2, as in JWTs): '-' and '_'
 * for '+' and '/', no '='. The decoder refuses padding, the standard
 * alphabet's '+' and '/', white space and impossible lengths. */
int dc_base64url_encode(dc_buf *out, const void *data, size_t len) DC_MUST_USE;
int dc_base64url_decode(dc_buf *out, const char *text, size_t len) DC_MUST_USE;

/* The text of the first element <tag>...</tag> in `doc`, entities decoded.
 * DC_ENOTFOUND when there is none (no message set). This is enough for the
 * few fixed fields of AWS query-protocol replies; it is not an XML parser. */
int dc_xml_text(dc_buf *out, const char *doc, const char *tag) DC_MUST_USE;

#endif
