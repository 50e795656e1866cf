/* url.h -- URLs and registry host names: is a URL fit to be sent a secret,
 * is a host a host, and the registry key of a URL. Checked before any request.
 *
 *   err = dc_url_check(url, "the token_uri in GOOGLE_AUTH_JSON", "fix the key");
 *   if (!dc_url_host_valid(host, len)) ...   host[:port] of a registry key
 *   err = dc_host_from_url(&host, "https://a.example:5000/x");   -> a.example:5000
 *
 * A URL passes dc_url_check when it is https with a host, or plain http to
 * this machine (localhost, [::1], 127.x.y.z: local peers in tests): plain
 * http to any other host would carry a grant, a secret or a token in the
 * clear. No function here ever quotes a user name or password that a URL
 * carries: a URL with one is refused naming only the setting.
 */
#ifndef DC_URL_H
#define DC_URL_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

/* 0 when `url` passes; else DC_EUSAGE with the message
 * "WHAT is 'URL', REASON; REMEDY" (for plain http elsewhere the remedy is
 * "use https"; for a URL with user:password@ the URL is not quoted). */
int dc_url_check(const char *url, const char *what, const char *remedy) DC_MUST_USE;

/* 1 when the `n` bytes at `host` are a host[:port] a registry can have: a
 * DNS name (labels of letters, digits and '-', at most 253 bytes) or an IP
 * literal ([v6] in brackets), then an optional port from 1 to 65535. No user
 * name, no white space or control characters. Else 0. */
int dc_url_host_valid(const char *host, size_t n);

/* 1 when the authority of `url` (after "scheme://", up to the first '/', '?'
 * or '#') holds a user name or password ('@'). */
int dc_url_has_userinfo(const char *url);

/* The registry key of a URL: "https://a.example:5000/x" -> "a.example:5000";
 * a bare "host[:port]" comes back as it is. DC_EUSAGE (message naming no
 * value) when there is no host or the URL carries a user name or password. */
int dc_host_from_url(dc_buf *out, const char *url) DC_MUST_USE;

#endif
