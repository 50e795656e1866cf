/* url.h -- is a URL fit to be sent a secret (checked before any request), and
 * which registry host does it name?
 *
 *   err = dc_url_check(url, "the token_uri in GOOGLE_AUTH_JSON", "fix the key");
 *   err = dc_host_from_url(&host, "https://a.example:5000/x");  "a.example:5000"
 *   if (!dc_url_host_valid(host, len)) ...   host[:port] of a registry key
 *
 * A URL passes when it is https with a host, or plain http to this machine
 * (localhost, [::1], 127.x.y.z: local peers in tests): plain http to any
 * other host would carry a grant, a secret or a token in the clear.
 */
#ifndef DC_URL_H
#define DC_URL_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

/* 0 when `url` passes; else DC_EUSAGE with the message
 * "WHAT is 'URL', REASON; REMEDY" (for plain http elsewhere the remedy is
 * "use https"). `what` names the setting, `remedy` says how to fix it. */
int dc_url_check(const char *url, const char *what, const char *remedy) DC_MUST_USE;

/* 1 when the `n` bytes at `host` look like a host[:port]: letters, digits,
 * '.', '-', ':', '[' and ']' only (no user name, no white space), not
 * starting with '.', '-' or ':'; else 0. */
int dc_url_host_valid(const char *host, size_t n);

/* The registry key of a URL: "https://a.example:5000/x" -> "a.example:5000";
 * a bare "host[:port]" comes back as it is. DC_EUSAGE when there is no host. */
int dc_host_from_url(dc_buf *out, const char *url) DC_MUST_USE;

#endif
