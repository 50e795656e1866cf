/* http.c -- see http.h. */
#include "util/http.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/secret.h"

static dc_http_config config = {
	.connect_timeout_ms = 5000,
	.deadline_ms = 30000,
	.max_reply = 1 << 20,
	.attempts = 4,
};
static CURL *handle;
static int global_done;

int dc_http_config_from_env(dc_http_config *cfg, const dc_env *env)
{
	long total, connect;
	int err;

	*cfg = config;
	if ((err = dc_env_long(&total, env, "DCGEN_TIMEOUT", config.deadline_ms / 1000, 1, 3600)) < 0 ||
	    (err = dc_env_long(&connect, env, "DCGEN_CONNECT_TIMEOUT", config.connect_timeout_ms / 1000, 1, 600)) < 0)
		return err;
	cfg->deadline_ms = total * 1000;
	cfg->connect_timeout_ms = connect * 1000;
	return 0;
}

void dc_http_configure(const dc_http_config *cfg)
{
	config = *cfg;
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

static int setup(void)
{
	if (!global_done) {
		/* libcurl copies the signed headers and the session token into
		 * blocks of its own: they are wiped when it frees them */
		if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, dc_secret_mem_malloc, dc_secret_mem_free,
					 dc_secret_mem_realloc, dc_secret_mem_strdup, dc_secret_mem_calloc) != CURLE_OK)
			return dc_error_set(DC_ERR, "cannot initialise libcurl");
		global_done = 1;
	}
	if (!handle && !(handle = curl_easy_init()))
		return dc_error_set(DC_ERR, "cannot initialise libcurl");
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

/* Full jitter: a random wait in [0, min(cap, base * 2^attempt)). */
static long backoff_ms(int attempt)
{
	unsigned int r = 0;
	long ceiling = 200L << (attempt < 6 ? attempt : 6);

	if (ceiling > 5000)
		ceiling = 5000;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)rand();
	return (long)(r % (unsigned long)ceiling);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static CURLcode attempt(dc_http_resp *out, const dc_http_req *req, struct curl_slist *hdrs,
			long timeout_ms, long connect_ms, char *errbuf)
{
	CURLcode rc;
	const char *ca = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");

	if (!ca || !*ca)
		ca = getenv("CURL_CA_BUNDLE");
	curl_easy_reset(handle);
	errbuf[0] = '\0';
	curl_easy_setopt(handle, CURLOPT_URL, req->url);
	curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, connect_ms < timeout_ms ? connect_ms : timeout_ms);
	curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)config.max_reply);
	curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca && *ca)
		curl_easy_setopt(handle, CURLOPT_CAINFO, ca);
	else if (dir && *dir)
		/* the directory alone: OpenSSL then reads only the certificates a
		 * chain needs, not a whole bundle (an order of magnitude cheaper) */
		curl_easy_setopt(handle, CURLOPT_CAINFO, NULL);
	if (dir && *dir)
		curl_easy_setopt(handle, CURLOPT_CAPATH, dir);
	curl_easy_setopt(handle, CURLOPT_USERAGENT, "dcgen/" DCGEN_VERSION);
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(handle, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(handle, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else {
		curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
	}
	if (req->sigv4) {
		curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, req->sigv4);
		curl_easy_setopt(handle, CURLOPT_USERPWD, req->userpwd);
	}
	rc = curl_easy_perform(handle);
	curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &out->status);
	/* libcurl keeps a copy of the option strings until the next reset */
	curl_easy_setopt(handle, CURLOPT_USERPWD, NULL);
	curl_easy_setopt(handle, CURLOPT_POSTFIELDS, NULL);
	return rc;
}

static int transport_error(const dc_http_req *req, CURLcode rc, const char *errbuf, const dc_buf *body)
{
	const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return dc_error_set(DC_ERR, "%s did not answer at '%s' within the timeout (%s); check the endpoint or raise DCGEN_TIMEOUT",
				    req->what, req->url, why);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return dc_error_set(DC_ERR, "cannot reach %s at '%s' (%s); check the endpoint and the network",
				    req->what, req->url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		return dc_error_set(DC_ERR, "TLS with %s at '%s' failed (%s); check SSL_CERT_FILE or the server certificate",
				    req->what, req->url, why);
	case CURLE_FILESIZE_EXCEEDED:
		return dc_error_set(DC_ERR, "%s at '%s' sent a reply larger than %zu bytes; check the endpoint",
				    req->what, req->url, config.max_reply);
	case CURLE_WRITE_ERROR:
		if (body->overflow)
			return dc_error_set(DC_ERR, "%s at '%s' sent a reply larger than %zu bytes; check the endpoint",
					    req->what, req->url, config.max_reply);
		return dc_error_set(DC_ERR, "out of memory reading the reply of %s", req->what);
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return dc_error_set(DC_ERR, "%s at '%s' kept dropping the connection mid-reply after %d attempts (%s); try again later",
				    req->what, req->url, config.attempts, why);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return dc_error_set(DC_EUSAGE, "the %s endpoint '%s' is not a valid http or https URL (%s); fix the endpoint variable",
				    req->what, req->url, why);
	default:
		return dc_error_set(DC_ERR, "request to %s at '%s' failed: %s", req->what, req->url, why);
	}
}

int dc_http_send(dc_http_resp *out, const dc_http_req *req)
{
	struct curl_slist *hdrs = NULL, *n;
	const char *const *h;
	char errbuf[CURL_ERROR_SIZE];
	long start = now_ms(), t0;
	long deadline = req->deadline_ms > 0 ? req->deadline_ms : config.deadline_ms;
	long connect = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : config.connect_timeout_ms;
	CURLcode rc = CURLE_OK;
	int i, err = 0;

	if ((err = setup()) < 0)
		return err;
	/* no "Expect:" override: libcurl's SigV4 would sign a header it never
	 * sends; our bodies are far below its 100-continue threshold anyway */
	for (h = req->headers; h && *h; h++) {
		if (!(n = curl_slist_append(hdrs, *h))) {
			free_headers(hdrs);
			return dc_error_set(DC_ERR, "out of memory");
		}
		hdrs = n;
	}
	for (i = 0; i < config.attempts; i++) {
		long left = deadline - (now_ms() - start);

		if (left <= 0)
			break;
		dc_buf_init(&out->body, config.max_reply, DC_BUF_SECRET);
		out->status = 0;
		t0 = now_ms();
		rc = attempt(out, req, hdrs, left, connect, errbuf);
		dc_log_debug("%s %s -> %s %ld (%zu bytes, %ld ms, attempt %d)", req->method, req->url,
			     rc == CURLE_OK ? "HTTP" : curl_easy_strerror(rc), out->status, out->body.len,
			     now_ms() - t0, i + 1);
		if (rc == CURLE_OK && !retryable_status(out))
			break;
		if (rc != CURLE_OK && !retryable_transport(rc))
			break;
		if (i + 1 < config.attempts) {
			long wait = backoff_ms(i);

			left = deadline - (now_ms() - start);
			if (wait >= left)
				break;
			dc_log_debug("%s answered %s; retrying in %ld ms", req->what,
				    rc == CURLE_OK ? "with a retryable status" : "with a reset connection", wait);
			dc_http_resp_release(out);
			sleep_ms(wait);
		}
	}
	free_headers(hdrs);
	if (rc != CURLE_OK) {
		err = transport_error(req, rc, errbuf, &out->body);
		dc_http_resp_release(out);
		out->status = 0;
		return err;
	}
	return 0;
}

void dc_http_resp_release(dc_http_resp *r)
{
	dc_buf_release(&r->body);
}

void dc_http_cleanup(void)
{
	if (handle)
		curl_easy_cleanup(handle);
	handle = NULL;
	if (global_done)
		curl_global_cleanup();
	global_done = 0;
}

int dc_http_form_escape(dc_buf *out, const char *s)
{
	char *e;
	int err;

	if (setup() < 0)
		return DC_ERR;
	if (!(e = curl_easy_escape(handle, s, 0)))
		return dc_error_set(DC_ERR, "out of memory");
	err = dc_buf_puts(out, e);
	dc_secret_wipe(e, strlen(e));
	curl_free(e);
	return err < 0 ? dc_error_set(DC_ERR, "out of memory") : 0;
}
