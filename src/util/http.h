/* http.h -- the only module that touches libcurl.
 *
 *   dc_http_config cfg;  dc_http_config_from_env(&cfg, env);  dc_http_configure(&cfg);
 *   dc_http_resp r = DC_HTTP_RESP_INIT;
 *   err = dc_http_send(&r, &req);   0: an HTTP answer is in r (any status)
 *   dc_http_resp_release(&r);       wipes the body (it may hold a token)
 *   dc_http_cleanup();              at exit
 *
 * Every request has a connect timeout, a total deadline shared by all its
 * attempts (both configured, or set per request), and a cap on the reply size. TLS peers are always verified (CA
 * bundle from SSL_CERT_FILE or CURL_CA_BUNDLE, else the system's); proxies
 * come from the environment as libcurl reads them (HTTPS_PROXY, NO_PROXY).
 * SSL_CERT_DIR adds an OpenSSL hashed CA directory; alone (no bundle variable)
 * it replaces the default bundle, so only the certificates a chain needs are read.
 * 5xx, 429, AWS throttling answers and connection resets are retried with
 * full-jitter exponential backoff, bounded in count and by the deadline.
 * Nothing is initialised (no TLS context) until the first request; libcurl
 * then allocates with dc_secret_mem_* (util/secret.h), so the copies it makes
 * of signed headers and tokens are wiped when it frees them.
 */
#ifndef DC_HTTP_H
#define DC_HTTP_H

#include <stddef.h>

#include "util/buf.h"
#include "util/env.h"

typedef struct {
	long connect_timeout_ms;
	long deadline_ms;  /* all attempts of one request, backoff included */
	size_t max_reply;  /* bytes */
	int attempts;      /* 1 = no retry */
} dc_http_config;

typedef struct {
	const char *method;            /* "GET" or "POST" */
	const char *url;
	const char *const *headers;    /* NULL-terminated "Name: value", may be NULL */
	const char *body;              /* POST body, may be NULL */
	size_t body_len;
	const char *sigv4;             /* "aws:amz:REGION:SERVICE" to sign, or NULL */
	const char *userpwd;           /* "KEYID:SECRET" when signing */
	const char *what;              /* the peer's name in messages: "ECR", "STS" */
	long deadline_ms;              /* this request's deadline and connect timeout, */
	long connect_timeout_ms;       /* 0: the configured default */
} dc_http_req;

typedef struct {
	long status;
	dc_buf body;
} dc_http_resp;

#define DC_HTTP_RESP_INIT { 0, DC_BUF_INIT }

/* Defaults, overridden by DCGEN_TIMEOUT (seconds, whole request) and
 * DCGEN_CONNECT_TIMEOUT (seconds). DC_EUSAGE on a malformed value. */
int dc_http_config_from_env(dc_http_config *cfg, const dc_env *env) DC_MUST_USE;
void dc_http_configure(const dc_http_config *cfg);

/* 0 when an HTTP answer arrived (check r->status); DC_ERR when none did
 * (refused, timed out, TLS failure, reply too large), message set. */
int dc_http_send(dc_http_resp *out, const dc_http_req *req) DC_MUST_USE;
void dc_http_resp_release(dc_http_resp *r);
void dc_http_cleanup(void);

/* Percent-encode `s` for a form body or query (RFC 3986 unreserved kept). */
int dc_http_form_escape(dc_buf *out, const char *s) DC_MUST_USE;

#endif
