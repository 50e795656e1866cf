/* http.c -- see http.h. */
#include "util/http.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/secret.h"

struct dc_http {
	dc_http_config config;
	const dc_log *log;
	CURL *handle;
};

static const dc_http_config defaults = {
	.connect_timeout_ms = 5000,
	.deadline_ms = 30000,
	.max_reply = 1 << 20,
	.attempts = 4,
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_ok;

/* libcurl copies the signed headers and the session token into blocks of
 * its own: they are wiped when it frees them. Once per process. */
static void global_init(void)
{
	global_ok = curl_global_init_mem(CURL_GLOBAL_DEFAULT, dc_secret_mem_malloc, dc_secret_mem_free,
					 dc_secret_mem_realloc, dc_secret_mem_strdup,
					 dc_secret_mem_calloc) == CURLE_OK;
}

static int ca_var(char **out, const dc_env *env, const char *name, int want_dir)
{
	const char *v = dc_env_get(env, name);
	struct stat st;

	if (!v)
		return 0;
	/* a typo here would only show as a TLS failure at connect time */
	if (stat(v, &st) < 0 || (want_dir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)))
		return dc_error_set(DC_EUSAGE, "%s is '%s', which is not an existing %s; fix or unset it", name, v,
				    want_dir ? "directory" : "file");
	if (!(*out = strdup(v)))
		return dc_error_nomem();
	return 0;
}

int dc_http_config_from_env(dc_http_config *cfg, const dc_env *env)
{
	long total, connect;
	int err;

	*cfg = defaults;
	if ((err = dc_env_long(&total, env, "DCGEN_TIMEOUT", defaults.deadline_ms / 1000, 1, 3600)) < 0 ||
	    (err = dc_env_long(&connect, env, "DCGEN_CONNECT_TIMEOUT", defaults.connect_timeout_ms / 1000, 1, 600)) < 0)
		return err;
	cfg->deadline_ms = total * 1000;
	cfg->connect_timeout_ms = connect * 1000;
	if ((err = ca_var(&cfg->ca_file, env, "SSL_CERT_FILE", 0)) < 0 ||
	    (!cfg->ca_file && (err = ca_var(&cfg->ca_file, env, "CURL_CA_BUNDLE", 0)) < 0) ||
	    (err = ca_var(&cfg->ca_dir, env, "SSL_CERT_DIR", 1)) < 0) {
		dc_http_config_release(cfg);
		return err;
	}
	return 0;
}

void dc_http_config_release(dc_http_config *cfg)
{
	free(cfg->ca_file);
	free(cfg->ca_dir);
	cfg->ca_file = cfg->ca_dir = NULL;
}

int dc_http_new(dc_http **out, const dc_http_config *cfg, const dc_log *log)
{
	dc_http *h = calloc(1, sizeof(*h));

	if (!h)
		return dc_error_nomem();
	h->config = cfg ? *cfg : defaults;
	h->config.ca_file = h->config.ca_dir = NULL;
	if ((cfg && cfg->ca_file && !(h->config.ca_file = strdup(cfg->ca_file))) ||
	    (cfg && cfg->ca_dir && !(h->config.ca_dir = strdup(cfg->ca_dir)))) {
		dc_http_free(h);
		return dc_error_nomem();
	}
	h->log = log;
	*out = h;
	return 0;
}

void dc_http_free(dc_http *h)
{
	if (!h)
		return;
	if (h->handle)
		curl_easy_cleanup(h->handle);
	dc_http_config_release(&h->config);
	free(h);
}

const dc_http_config *dc_http_config_of(const dc_http *h)
{
	return &h->config;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	dc_buf *b = ctx;

	if (dc_buf_put(b, p, size * n) < 0)
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	return size * n;
}

static int setup(dc_http *h)
{
	pthread_once(&global_once, global_init);
	/* both fail only when memory runs out: no upstream was asked */
	if (!global_ok)
		return dc_error_setc(DC_ERR, DC_ECLASS_NOMEM, "cannot initialise libcurl (out of memory)");
	if (!h->handle && !(h->handle = curl_easy_init()))
		return dc_error_setc(DC_ERR, DC_ECLASS_NOMEM, "cannot initialise libcurl (out of memory)");
	return 0;
}

/* The list holds copies of the headers, X-Amz-Security-Token among them. */
static void free_headers(struct curl_slist *hdrs)
{
	struct curl_slist *n;

	for (n = hdrs; n; n = n->next)
		if (n->data)
			dc_secret_wipe(n->data, strlen(n->data));
	curl_slist_free_all(hdrs);
}

static int retryable_status(const dc_http_resp *r)
{
	if (r->status >= 500 || r->status == 429)
		return 1;
	/* AWS throttles with 400 and an error code naming it */
	return r->status == 400 && strstr(r->body.ptr, "Throttl") != NULL;
}

static int retryable_transport(CURLcode rc)
{
	return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING ||
	       rc == CURLE_PARTIAL_FILE;
}

/* Equal jitter over a step that grows with the deadline: attempt k (0-based)
 * waits a random time in [step/2, step) with step = deadline * 2^k / 16,
 * at least 100 ms and at most 10 s. */
static long backoff_ms(int attempt, long deadline)
{
	unsigned int r = 0;
	long step = (deadline << (attempt < 8 ? attempt : 8)) / 16;

	if (step < 200)
		step = 200;
	if (step > 10000)
		step = 10000;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)rand();
	return step / 2 + (long)(r % (unsigned long)(step / 2));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* libcurl (7.88) ends a transfer with success and the status when the
 * connection closes in the middle of the headers: note where each header
 * block starts and ends, so that a reply cut there counts as cut (found by
 * tests/integration/test_faults.py). */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	int *ended = ctx;
	size_t len = size * n;

	if (len >= 5 && !memcmp(p, "HTTP/", 5))
		*ended = 0; /* a status line: 1xx blocks come before the last */
	else if ((len == 2 && p[0] == '\r' && p[1] == '\n') || (len == 1 && p[0] == '\n'))
		*ended = 1;
	return len;
}

static CURLcode attempt(dc_http *h, dc_http_resp *out, const dc_http_req *req, struct curl_slist *hdrs,
			long timeout_ms, long connect_ms, size_t max_reply, char *errbuf)
{
	CURL *c = h->handle;
	CURLcode rc;
	curl_off_t ra = -1;
	char *loc = NULL;
	int headers_ended = 0;

	curl_easy_reset(c);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms < timeout_ms ? connect_ms : timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_reply);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->config.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->config.ca_file);
	else if (h->config.ca_dir)
		/* the directory alone: OpenSSL then reads only the certificates a
		 * chain needs, not a whole bundle (an order of magnitude cheaper) */
		curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
	if (h->config.ca_dir)
		curl_easy_setopt(c, CURLOPT_CAPATH, h->config.ca_dir);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dcgen/" DCGEN_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &headers_ended);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(req->method, "POST") || !strcmp(req->method, "PUT")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		if (!strcmp(req->method, "PUT"))
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	if (req->sigv4) {
		curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->sigv4);
		curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK && !headers_ended) {
		rc = CURLE_PARTIAL_FILE; /* retried like a reply cut in the body */
		snprintf(errbuf, CURL_ERROR_SIZE, "the connection closed inside the reply's headers");
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
		out->retry_after = (long)ra;
	if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		dc_log_clip(NULL, out->location, sizeof(out->location), loc);
	/* libcurl keeps a copy of the option strings until the next reset */
	curl_easy_setopt(c, CURLOPT_USERPWD, NULL);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	return rc;
}

static int proxied(const dc_http_req *req)
{
	int https = !strncmp(req->url, "https://", 8);
	const char *v = getenv(https ? "HTTPS_PROXY" : "http_proxy");

	if (!v || !*v)
		v = getenv(https ? "https_proxy" : "HTTP_PROXY");
	if (!v || !*v)
		v = getenv("ALL_PROXY");
	if (!v || !*v)
		v = getenv("all_proxy");
	return v && *v;
}

static int transport_error(const dc_http *h, const dc_http_req *req, CURLcode rc, const char *errbuf,
			   const dc_buf *body, size_t max_reply, int attempts, double connect_time)
{
	char why[CURL_ERROR_SIZE + 64];

	dc_log_clip(NULL, why, sizeof(why), *errbuf ? errbuf : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		if (connect_time <= 0 && !proxied(req))
			return dc_error_setc(DC_ERR, DC_ECLASS_TIMEOUT,
					     "%s at '%s' did not accept a connection within the connect timeout (%s); check the endpoint and the network, or raise DCGEN_CONNECT_TIMEOUT",
					     req->what, req->url, why);
		return dc_error_setc(DC_ERR, DC_ECLASS_TIMEOUT,
				     "%s did not answer at '%s' within the timeout (%s); check the endpoint or raise DCGEN_TIMEOUT",
				     req->what, req->url, why);
	case CURLE_COULDNT_RESOLVE_PROXY:
		return dc_error_setc(DC_ERR, DC_ECLASS_NET,
				     "cannot reach %s at '%s' through the proxy (%s); check HTTPS_PROXY / HTTP_PROXY and NO_PROXY",
				     req->what, req->url, why);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		if (proxied(req))
			return dc_error_setc(DC_ERR, DC_ECLASS_NET,
					     "cannot reach %s at '%s' (%s); a proxy is set: check HTTPS_PROXY / HTTP_PROXY and NO_PROXY, then the endpoint",
					     req->what, req->url, why);
		return dc_error_setc(DC_ERR, DC_ECLASS_NET, "cannot reach %s at '%s' (%s); check the endpoint and the network",
				     req->what, req->url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return dc_error_setc(DC_ERR, DC_ECLASS_TLS,
				     "TLS with %s at '%s' failed (%s); check SSL_CERT_FILE / SSL_CERT_DIR or the server certificate",
				     req->what, req->url, why);
	case CURLE_SSL_CONNECT_ERROR:
		return dc_error_setc(DC_ERR, DC_ECLASS_TLS,
				     "TLS handshake with %s at '%s' failed (%s); if it serves plain http, use an http:// URL, else check the server",
				     req->what, req->url, why);
	case CURLE_FILESIZE_EXCEEDED:
		return dc_error_setc(DC_ERR, DC_ECLASS_REPLY, "%s at '%s' sent a reply larger than %zu bytes; check the endpoint",
				     req->what, req->url, max_reply);
	case CURLE_WRITE_ERROR:
		if (body->overflow)
			return dc_error_setc(DC_ERR, DC_ECLASS_REPLY,
					     "%s at '%s' sent a reply larger than %zu bytes; check the endpoint", req->what,
					     req->url, max_reply);
		return dc_error_nomem();
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return dc_error_setc(DC_ERR, DC_ECLASS_NET,
				     "%s at '%s' kept dropping the connection mid-reply after %d attempt%s (%s); try again later",
				     req->what, req->url, attempts, attempts == 1 ? "" : "s", why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return dc_error_set(DC_EUSAGE, "the %s endpoint '%s' is not a valid http or https URL (%s); fix the variable that sets it",
				    req->what, req->url, why);
	case CURLE_OUT_OF_MEMORY:
		return dc_error_nomem();
	default:
		(void)h;
		return dc_error_setc(DC_ERR, DC_ECLASS_NET, "request to %s at '%s' failed (%s)", req->what, req->url, why);
	}
}

int dc_http_send(dc_http *h, dc_http_resp *out, const dc_http_req *req)
{
	struct curl_slist *hdrs = NULL, *n;
	const char *const *hp;
	char errbuf[CURL_ERROR_SIZE];
	long start = now_ms(), t0;
	long deadline = req->deadline_ms > 0 ? req->deadline_ms : h->config.deadline_ms;
	long connect = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : h->config.connect_timeout_ms;
	size_t max_reply = req->max_reply ? req->max_reply : h->config.max_reply;
	int attempts = req->attempts > 0 ? req->attempts : h->config.attempts;
	double connect_time = 0;
	CURLcode rc = CURLE_OK;
	int i, err = 0;

	out->retry_after = -1;
	out->attempts = 0;
	out->location[0] = '\0';
	if ((err = setup(h)) < 0)
		return err;
	/* no "Expect:" override: libcurl's SigV4 would sign a header it never
	 * sends; our bodies are far below its 100-continue threshold anyway */
	for (hp = req->headers; hp && *hp; hp++) {
		if (!(n = curl_slist_append(hdrs, *hp))) {
			free_headers(hdrs);
			return dc_error_nomem();
		}
		hdrs = n;
	}
	for (i = 0; i < attempts; i++) {
		long left = deadline - (now_ms() - start), wait;

		if (left <= 0)
			break;
		dc_buf_init(&out->body, max_reply, DC_BUF_SECRET);
		out->status = 0;
		out->retry_after = -1;
		out->location[0] = '\0';
		t0 = now_ms();
		rc = attempt(h, out, req, hdrs, left, connect, max_reply, errbuf);
		out->attempts = i + 1;
		connect_time = 0;
		curl_easy_getinfo(h->handle, CURLINFO_CONNECT_TIME, &connect_time);
		if (rc == CURLE_OK)
			dc_log_debug(h->log, "%s %s -> HTTP %ld (%zu bytes, %ld ms, attempt %d)", req->method, req->url,
				     out->status, out->body.len, now_ms() - t0, i + 1);
		else
			dc_log_debug(h->log, "%s %s -> no answer: %s (%ld ms, attempt %d)", req->method, req->url,
				     curl_easy_strerror(rc), now_ms() - t0, i + 1);
		if (rc == CURLE_OK && !retryable_status(out))
			break;
		if (rc != CURLE_OK && !retryable_transport(rc))
			break;
		if (i + 1 >= attempts)
			break;
		left = deadline - (now_ms() - start);
		if (rc == CURLE_OK && out->retry_after >= 0) {
			wait = out->retry_after * 1000L;
			if (wait >= left) {
				dc_log_debug(h->log, "%s asked to wait %ld s, more than the %ld ms left; not retrying",
					     req->what, out->retry_after, left);
				break;
			}
		} else {
			wait = backoff_ms(i, deadline);
			if (wait >= left)
				break;
		}
		dc_log_debug(h->log, "%s answered %s; retrying in %ld ms", req->what,
			     rc == CURLE_OK ? "with a retryable status" : "with a dropped connection", wait);
		dc_http_resp_release(out);
		sleep_ms(wait);
	}
	free_headers(hdrs);
	if (rc != CURLE_OK) {
		err = transport_error(h, req, rc, errbuf, &out->body, max_reply, out->attempts, connect_time);
		dc_buf_release(&out->body);
		out->status = 0;
		return err;
	}
	return 0;
}

int dc_http_status_error(const dc_http_resp *r, const char *what, const char *url, const char *reason)
{
	char why[300] = "";

	if (reason && *reason)
		snprintf(why, sizeof(why), " (%s)", reason);
	if (r->status >= 300 && r->status < 400) {
		dc_error_setc(DC_ERR, DC_ECLASS_HTTP,
			      "%s at '%s' answered HTTP %ld, a redirect to '%s'%s; redirects are not followed: set the endpoint to where it should go",
			      what, url, r->status, *r->location ? r->location : "nowhere", why);
	} else if ((r->status == 429 || r->status == 503) && r->retry_after >= 0 && r->attempts) {
		dc_error_setc(DC_ERR, DC_ECLASS_HTTP,
			      "%s at '%s' answered HTTP %ld%s and asked to wait %ld s, longer than the time left; try again after that, or raise DCGEN_TIMEOUT",
			      what, url, r->status, why, r->retry_after);
	} else if (r->status >= 500 || r->status == 429 || (r->status == 400 && strstr(r->body.ptr, "Throttl"))) {
		dc_error_setc(DC_ERR, DC_ECLASS_HTTP, "%s at '%s' kept failing with HTTP %ld%s after %d attempt%s; try again later",
			      what, url, r->status, why, r->attempts, r->attempts == 1 ? "" : "s");
	} else {
		return 0;
	}
	dc_error_fields(r->status, NULL, r->retry_after);
	return DC_ERR;
}

void dc_http_resp_release(dc_http_resp *r)
{
	dc_buf_release(&r->body);
}

int dc_http_form_escape(dc_buf *out, const char *s)
{
	char *e;
	int err;

	pthread_once(&global_once, global_init);
	/* curl_easy_escape needs no handle (the argument is unused since 7.82) */
	if (!(e = curl_easy_escape(NULL, s, 0)))
		return dc_error_nomem();
	err = dc_buf_puts(out, e);
	dc_secret_wipe(e, strlen(e));
	curl_free(e);
	return err < 0 ? dc_error_nomem() : 0;
}
