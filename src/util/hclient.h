/* hclient.h -- an HTTP client handle for one long-lived peer (the Docker
 * engine), over a unix socket or TCP with optional TLS client certificates.
 *
 *   dc_hclient *c = NULL;
 *   dc_hclient_opts o = { .unix_path = "/var/run/docker.sock", .what = "the Docker engine" };
 *   err = dc_hclient_open(&c, &o);          no I/O yet
 *   dc_hclient_req req = { .method = "GET", .path = "/_ping" };
 *   dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
 *   err = dc_hclient_send(c, &req, &r);     0: an HTTP answer is in r (any status)
 *   ... r.status, r.body, dc_hclient_resp_header(&r, "Api-Version") ...
 *   dc_hclient_resp_release(&r);            wipes the body
 *   dc_hclient_free(c);
 *
 * Unlike util/http.c (short requests to cloud APIs, retried), this client
 * never retries: Engine API calls are not idempotent (create, start, push).
 * Each request has its own timeout (0: none, for log streams and builds);
 * the connect timeout always applies. The reply body is either collected in
 * r.body up to a cap (req.max_reply, default 1 MiB) or streamed to
 * req.write; an answer with status >= 300 is always collected (it is the
 * engine's {"message": ...}), never streamed. A request body is either in
 * memory (req.body) or streamed from req.read (chunked).
 *
 * Threads: a handle (and its connection) belongs to one thread at a time;
 * open one handle per thread. dc_hclient_interrupt() may be called from a
 * signal handler: every request sent with req.interruptible set, in any
 * thread, then ends within about a second with DC_ERR ("interrupted"), and so do
 * later ones until dc_hclient_interrupt_clear(). Other requests (cleanup:
 * kill, remove) are not affected.
 *
 * TLS: the peer is verified against opts.ca_file (else the system's CAs);
 * opts.cert_file and opts.key_file give the client certificate (the docker
 * CLI's DOCKER_CERT_PATH/{ca,cert,key}.pem). opts.insecure turns off peer
 * verification (DOCKER_TLS_VERIFY unset with a tcp:// https peer, as the
 * docker CLI does when DOCKER_TLS is set without verification).
 */
#ifndef DC_HCLIENT_H
#define DC_HCLIENT_H

#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

typedef struct dc_hclient dc_hclient;

typedef struct {
	const char *unix_path;   /* unix socket to connect through, or NULL for TCP */
	const char *base_url;    /* "http://host:port" or "https://host:port"; with
				  * unix_path NULL means "http://localhost" */
	const char *ca_file;     /* TLS: CA bundle for the peer, NULL: system default */
	const char *cert_file;   /* TLS client certificate (PEM), or NULL */
	const char *key_file;    /* its key (PEM), or NULL */
	int insecure;            /* TLS without peer verification */
	long connect_timeout_ms; /* 0: 5000 */
	const char *what;        /* the peer's name in messages; NULL: "the server" */
} dc_hclient_opts;

/* A streamed request body: copy up to `n` bytes into `buf` and return how
 * many; 0 at the end; DC_HCLIENT_ABORT to abort the request (set the
 * message with dc_error_set first: dc_hclient_send returns DC_ERR and keeps
 * it). */
typedef size_t (*dc_hclient_read_fn)(char *buf, size_t n, void *ctx);
#define DC_HCLIENT_ABORT ((size_t)-1)

/* A streamed reply body, in pieces as they arrive (any split). Return 0 to
 * go on, a negative code to abort after setting the message with
 * dc_error_set (dc_hclient_send returns that code and keeps the message). */
typedef int (*dc_hclient_write_fn)(const char *data, size_t n, void *ctx);

typedef struct {
	const char *method;         /* "GET", "POST", "DELETE", "PUT", "HEAD" */
	const char *path;           /* appended to the base URL: "/v1.41/_ping?x=1" */
	const char *const *headers; /* NULL-terminated "Name: value", may be NULL */
	const char *body;           /* request body in memory, or NULL */
	size_t body_len;
	dc_hclient_read_fn read;    /* or a streamed body (sent chunked), or NULL */
	void *read_ctx;
	dc_hclient_write_fn write;  /* stream a 2xx reply body here, or NULL: collect */
	void *write_ctx;
	size_t max_reply;           /* cap on a collected body; 0: 1 MiB */
	long timeout_ms;            /* whole request; 0: none */
	int interruptible;          /* ended by dc_hclient_interrupt() */
	/* called once the reply's headers are in (before any body), with its
	 * status; may be NULL. For a stream that must be open before something
	 * else happens (attach, then start). */
	void (*on_headers)(long status, void *ctx);
	void *headers_ctx;
	/* when it points at a non-zero value the request ends (within about a
	 * second) with DC_ERR "aborted"; may be NULL. Set from another thread. */
	volatile int *abort;
} dc_hclient_req;

typedef struct {
	long status;
	dc_buf body;    /* collected body (a secret buffer: wiped on release) */
	dc_buf headers; /* the reply's header lines, "Name: value\r\n" each */
} dc_hclient_resp;

#define DC_HCLIENT_RESP_INIT { 0, DC_BUF_INIT, DC_BUF_INIT }

/* Copies the options. DC_ERR only on out of memory or when libcurl cannot
 * start; nothing is connected until the first request. */
int dc_hclient_open(dc_hclient **out, const dc_hclient_opts *opts) DC_MUST_USE;
void dc_hclient_free(dc_hclient *c);

/* 0 when an HTTP answer arrived (check out->status); DC_ERR with the message
 * set when none did (refused, timed out, TLS failure, reply too large,
 * interrupted), or the negative code a callback returned. `out` is reset
 * first; release it in any case. */
int dc_hclient_send(dc_hclient *c, const dc_hclient_req *req, dc_hclient_resp *out) DC_MUST_USE;
void dc_hclient_resp_release(dc_hclient_resp *r);

/* The value of reply header `name` (case-insensitive), copied into `out`;
 * DC_ENOTFOUND (no message) when absent. */
int dc_hclient_resp_header(dc_buf *out, const dc_hclient_resp *r, const char *name) DC_MUST_USE;

/* Async-signal-safe: make interruptible requests end (see above). */
void dc_hclient_interrupt(void);
void dc_hclient_interrupt_clear(void);
int dc_hclient_interrupted(void);

/* Percent-encode `s` for a query string (RFC 3986 unreserved kept). */
int dc_hclient_escape(dc_buf *out, const char *s) DC_MUST_USE;

#endif
