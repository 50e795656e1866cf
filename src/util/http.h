/* http.h -- short HTTPS requests to token services, with retries. Only util/
 * touches libcurl (util/hclient.h is the streaming client for long-lived
 * peers such as the Docker engine).
 *
 *   dc_http_config cfg;  dc_http_config_from_env(&cfg, env);
 *   dc_http *h;          dc_http_new(&h, &cfg, &log);     one per context
 *   dc_http_resp r = DC_HTTP_RESP_INIT;
 *   err = dc_http_send(h, &r, &req);   0: an HTTP answer is in r (any status)
 *   dc_http_resp_release(&r);          wipes the body (it may hold a token)
 *   dc_http_free(h);
 *
 * Every request has a connect timeout, a total deadline shared by all its
 * attempts (configured, or set per request), and a cap on the reply size
 * (configured, or per request). TLS peers are always verified (CA bundle from
 * SSL_CERT_FILE or CURL_CA_BUNDLE, else the system's; SSL_CERT_DIR adds a
 * hashed directory, and alone replaces the bundle); proxies come from the
 * environment as libcurl reads them (HTTPS_PROXY, NO_PROXY). Redirects are
 * never followed.
 *
 * Retries: 5xx, 429, AWS throttling answers and connection resets, with
 * "equal jitter" backoff whose steps grow with the deadline (about 1/16,
 * 1/8, 1/4 of it), so the attempts are spread over the deadline rather than
 * spent in its first second. A Retry-After the server sends is honoured when
 * it fits in what is left of the deadline; when it does not, no more
 * attempts are made and r.retry_after says what the server asked for.
 * Two handles share nothing but libcurl's process-wide initialisation, which
 * installs the wiping allocators of util/secret.h.
 */
#ifndef DC_HTTP_H
#define DC_HTTP_H

#include <stddef.h>

#include "util/buf.h"
#include "util/env.h"
#include "util/log.h"

typedef struct {
	long connect_timeout_ms;
	long deadline_ms;  /* all attempts of one request, backoff included */
	size_t max_reply;  /* bytes */
	int attempts;      /* 1 = no retry */
	char *ca_file;     /* SSL_CERT_FILE or CURL_CA_BUNDLE, or NULL */
	char *ca_dir;      /* SSL_CERT_DIR, or NULL */
} dc_http_config;

typedef struct dc_http dc_http;

typedef struct {
	const char *method;            /* "GET", "POST" or "PUT" */
	const char *url;
	const char *const *headers;    /* NULL-terminated "Name: value", may be NULL */
	const char *body;              /* request body, may be NULL */
	size_t body_len;
	const char *sigv4;             /* "aws:amz:REGION:SERVICE" to sign, or NULL */
	const char *userpwd;           /* "KEYID:SECRET" when signing */
	const char *what;              /* the peer's name in messages: "ECR", "STS" */
	long deadline_ms;              /* this request's deadline and connect timeout, */
	long connect_timeout_ms;       /* 0: the configured ones */
	size_t max_reply;              /* 0: the configured cap */
	int attempts;                  /* 0: the configured number */
} dc_http_req;

typedef struct {
	long status;
	dc_buf body;
	long retry_after;   /* seconds a 429/503 asked to wait; -1: none */
	int attempts;       /* made */
	char location[256]; /* a redirect's target, clipped; "" when none */
} dc_http_resp;

#define DC_HTTP_RESP_INIT { 0, DC_BUF_INIT, -1, 0, "" }

/* Defaults, overridden by DCGEN_TIMEOUT (seconds, whole request),
 * DCGEN_CONNECT_TIMEOUT (seconds) and the CA variables (which must name
 * something that exists). DC_EUSAGE on a malformed value. Release with
 * dc_http_config_release. */
int dc_http_config_from_env(dc_http_config *cfg, const dc_env *env) DC_MUST_USE;
void dc_http_config_release(dc_http_config *cfg);

/* A client with its own copy of `cfg`; `log` (borrowed) gets debug lines. */
int dc_http_new(dc_http **out, const dc_http_config *cfg, const dc_log *log) DC_MUST_USE;
void dc_http_free(dc_http *h);
const dc_http_config *dc_http_config_of(const dc_http *h);

/* 0 when an HTTP answer arrived (check r->status); DC_ERR when none did
 * (refused, timed out, TLS failure, reply too large), message and class set
 * (DC_ECLASS_NET, _TIMEOUT, _TLS or _REPLY). */
int dc_http_send(dc_http *h, dc_http_resp *out, const dc_http_req *req) DC_MUST_USE;
void dc_http_resp_release(dc_http_resp *r);

/* For a reply the caller cannot use because of its status, when the status
 * says nothing about the caller's request (5xx, 429, redirects): sets and
 * returns DC_ERR with class DC_ECLASS_HTTP and the fields, e.g. "ECR at
 * 'URL' kept failing with HTTP 503 (REASON) after 4 attempts; try again
 * later", or that it asked to wait longer than the deadline, or that it
 * redirected (and where to). 0 for any other status (the caller explains it).
 * `reason` may be NULL. */
int dc_http_status_error(const dc_http_resp *r, const char *what, const char *url, const char *reason);

/* Percent-encode `s` for a form body or query (RFC 3986 unreserved kept). */
int dc_http_form_escape(dc_buf *out, const char *s) DC_MUST_USE;

#endif
