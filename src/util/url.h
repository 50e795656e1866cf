/* url.h -- is a URL fit to be sent a secret? Checked before any request.
 *
 *   err = dc_url_check(url, "the token_uri in GOOGLE_AUTH_JSON", "fix the key");
 *   if (!dc_url_host_valid(host, len)) ...   host[:port] of a registry key
 *
 * A URL passes when it is https with a host, or plain http to this machine
 * (localhost, [::1], 127.x.y.z: local peers in tests): plain http to any
 * other host would carry a grant, a secret or a token in the clear.
 */
#ifndef DC_URL_H
#define DC_URL_H

#include <stddef.h>

#include "util/error.h"

/* 0 when `url` passes; else DC_EUSAGE with the message
 * "WHAT is 'URL', REASON; REMEDY" (for plain http elsewhere the remedy is
 * "use https"). `what` names the setting, `remedy` says how to fix it. */
int dc_url_check(const char *url, const char *what, const char *remedy) DC_MUST_USE;

/* 1 when the `n` bytes at `host` look like a host[:port]: letters, digits,
 * '.', '-', ':', '[' and ']' only (no user name, no white space), not
 * starting with '.', '-' or ':'; else 0. */
int dc_url_host_valid(const char *host, size_t n);

#endif
