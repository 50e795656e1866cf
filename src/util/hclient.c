/* hclient.c -- see hclient.h. */
#include "util/hclient.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/secret.h"

struct dc_hclient {
	CURL *curl;
	char *unix_path;
	char *base_url;
	char *where; /* the peer's address in messages */
	char *what;
	char *ca_file, *cert_file, *key_file;
	int insecure;
	long connect_timeout_ms;
	const dc_log *log;
};

/* set from a signal handler, read by every thread's transfer callback:
 * lock-free atomic, so both are defined behaviour */
static volatile _Atomic int interrupted;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_ok;

static void global_init(void)
{
	/* the same allocators as util/http.c: libcurl's copies of headers
	 * (X-Registry-Auth) are wiped when freed; curl_global_init_mem is
	 * reference-counted, so both modules may call it */
	global_ok = curl_global_init_mem(CURL_GLOBAL_DEFAULT, dc_secret_mem_malloc, dc_secret_mem_free,
					 dc_secret_mem_realloc, dc_secret_mem_strdup,
					 dc_secret_mem_calloc) == CURLE_OK;
}

void dc_hclient_interrupt(void)
{
	interrupted = 1;
}

void dc_hclient_interrupt_clear(void)
{
	interrupted = 0;
}

int dc_hclient_interrupted(void)
{
	return interrupted != 0;
}

static char *dup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*oom = 1;
	return d;
}

void dc_hclient_free(dc_hclient *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->unix_path);
	free(c->base_url);
	free(c->where);
	free(c->what);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c);
}

int dc_hclient_open(dc_hclient **out, const dc_hclient_opts *o)
{
	dc_hclient *c;
	dc_buf where = DC_BUF_INIT;
	int oom = 0;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (!global_ok)
		return dc_error_set(DC_ERR, "cannot initialise libcurl");
	if (o->unix_path && !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_UNIX_SOCKETS))
		return dc_error_set(DC_EUSAGE, "cannot reach %s at 'unix://%s': this build's libcurl has no unix socket support; rebuild it (scripts/static-curl.sh) or use DOCKER_HOST=tcp://",
				    o->what ? o->what : "the server", o->unix_path);
	if (!(c = calloc(1, sizeof(*c))))
		return dc_error_set(DC_ERR, "out of memory");
	c->unix_path = dup_or_null(o->unix_path, &oom);
	c->base_url = dup_or_null(o->base_url ? o->base_url : "http://localhost", &oom);
	c->what = dup_or_null(o->what ? o->what : "the server", &oom);
	c->ca_file = dup_or_null(o->ca_file, &oom);
	c->cert_file = dup_or_null(o->cert_file, &oom);
	c->key_file = dup_or_null(o->key_file, &oom);
	c->insecure = o->insecure;
	c->log = o->log;
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
	if (o->unix_path)
		dc_buf_printf(&where, "unix://%s", o->unix_path);
	else
		dc_buf_puts(&where, c->base_url ? c->base_url : "");
	c->where = dc_buf_detach(&where, NULL);
	if (oom || !c->where || !(c->curl = curl_easy_init())) {
		dc_hclient_free(c);
		return dc_error_set(DC_ERR, "out of memory");
	}
	*out = c;
	return 0;
}

typedef struct {
	dc_hclient *c;
	const dc_hclient_req *req;
	dc_hclient_resp *resp;
	int cb_err;     /* a callback's negative code */
	int cb_failed;  /* the callback aborted (its message is set) */
	int aborted;    /* req->abort ended it */
} xfer;

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	size_t len = size * n;

	/* a new status line (after 100 Continue): forget the earlier headers */
	if (len >= 5 && !memcmp(p, "HTTP/", 5))
		dc_buf_reset(&x->resp->headers);
	if (dc_buf_put(&x->resp->headers, p, len) < 0)
		return 0;
	if (x->req->on_headers && (len == 2 || len == 1) && (p[0] == '\r' || p[0] == '\n')) {
		long status = 0;

		curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200)
			x->req->on_headers(status, x->req->headers_ctx);
	}
	return len;
}

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	size_t len = size * n;
	long status = 0;
	int rc;

	curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (x->req->write && status >= 200 && status < 300) {
		if ((rc = x->req->write(p, len, x->req->write_ctx)) < 0) {
			x->cb_err = rc;
			x->cb_failed = 1;
			return 0;
		}
		return len;
	}
	if (dc_buf_put(&x->resp->body, p, len) < 0)
		return 0; /* CURLE_WRITE_ERROR; overflow tells which */
	return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	size_t got = x->req->read(p, size * n, x->req->read_ctx);

	if (got == DC_HCLIENT_ABORT) {
		x->cb_err = DC_ERR;
		x->cb_failed = 1;
		return CURL_READFUNC_ABORT;
	}
	return got;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	xfer *x = ctx;

	(void)dt, (void)dn, (void)ut, (void)un;
	if (x->req->abort && *x->req->abort) {
		x->aborted = 1;
		return 1;
	}
	return x->req->interruptible && interrupted ? 1 : 0;
}

static void free_headers(struct curl_slist *hdrs)
{
	struct curl_slist *n;

	for (n = hdrs; n; n = n->next)
		if (n->data)
			dc_secret_wipe(n->data, strlen(n->data));
	curl_slist_free_all(hdrs);
}

static int transport_error(const dc_hclient *c, const dc_hclient_req *req, CURLcode rc,
			   const char *errbuf, const dc_hclient_resp *r, size_t max)
{
	const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);

	switch (rc) {
	case CURLE_ABORTED_BY_CALLBACK:
		return dc_error_set(DC_ERR, "interrupted while waiting for %s", c->what);
	case CURLE_OPERATION_TIMEDOUT:
		return dc_error_set(DC_ERR, "%s did not answer %s %s at '%s' within %ld ms (%s)", c->what,
				    req->method, req->path, c->where, req->timeout_ms, why);
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		return dc_error_set(DC_ERR, "cannot reach %s at '%s' (%s)", c->what, c->where, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return dc_error_set(DC_ERR, "TLS with %s at '%s' failed (%s); check DOCKER_CERT_PATH and the certificates",
				    c->what, c->where, why);
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		/* a peer that refuses our client certificate ends the handshake
		 * with an alert: libcurl sees it on the first read */
		if (!c->unix_path && !strncmp(c->base_url, "https:", 6) && strstr(why, "SSL"))
			return dc_error_set(DC_ERR, "TLS with %s at '%s' failed (%s); check DOCKER_CERT_PATH and the certificates",
					    c->what, c->where, why);
		return dc_error_set(DC_ERR, "%s %s to %s at '%s' failed: %s", req->method, req->path, c->what,
				    c->where, why);
	case CURLE_WRITE_ERROR:
		if (r->body.overflow)
			return dc_error_set(DC_ERR, "%s at '%s' sent a reply larger than %zu bytes to %s %s",
					    c->what, c->where, max, req->method, req->path);
		return dc_error_set(DC_ERR, "out of memory reading the reply of %s", c->what);
	default:
		return dc_error_set(DC_ERR, "%s %s to %s at '%s' failed: %s", req->method, req->path, c->what,
				    c->where, why);
	}
}

int dc_hclient_send(dc_hclient *c, const dc_hclient_req *req, dc_hclient_resp *out)
{
	struct curl_slist *hdrs = NULL, *n;
	const char *const *h;
	char errbuf[CURL_ERROR_SIZE];
	dc_buf url = DC_BUF_INIT;
	size_t max = req->max_reply ? req->max_reply : (size_t)1 << 20;
	xfer x = { c, req, out, 0, 0, 0 };
	CURL *k = c->curl;
	CURLcode rc;
	int err = 0;

	dc_hclient_resp_release(out);
	dc_buf_init(&out->body, max, DC_BUF_SECRET);
	dc_buf_init(&out->headers, 64 * 1024, 0);
	if (req->interruptible && interrupted)
		return dc_error_set(DC_ERR, "interrupted while waiting for %s", c->what);
	for (h = req->headers; h && *h; h++) {
		if (!(n = curl_slist_append(hdrs, *h)))
			goto oom;
		hdrs = n;
	}
	/* no 100-continue round trip before a body */
	if (!(n = curl_slist_append(hdrs, "Expect:")))
		goto oom;
	hdrs = n;
	if (dc_buf_printf(&url, "%s%s", c->base_url, req->path) < 0)
		goto oom;

	curl_easy_reset(k); /* keeps the connection */
	errbuf[0] = '\0';
	curl_easy_setopt(k, CURLOPT_URL, url.ptr);
	curl_easy_setopt(k, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(k, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(k, CURLOPT_NOSIGNAL, 1L);
	if (c->unix_path)
		curl_easy_setopt(k, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
	curl_easy_setopt(k, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(k, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 0L);
	curl_easy_setopt(k, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	curl_easy_setopt(k, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->ca_file)
		curl_easy_setopt(k, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file)
		curl_easy_setopt(k, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		curl_easy_setopt(k, CURLOPT_SSLKEY, c->key_file);
	curl_easy_setopt(k, CURLOPT_USERAGENT, "dcgen/" DCGEN_VERSION);
	curl_easy_setopt(k, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(k, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(k, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(k, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(k, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(k, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(k, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(k, CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(req->method, "POST"))
			curl_easy_setopt(k, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->read) {
			curl_easy_setopt(k, CURLOPT_POST, 1L);
			curl_easy_setopt(k, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(k, CURLOPT_READDATA, &x);
			/* no size: libcurl sends it chunked */
		} else if (req->body || !strcmp(req->method, "POST")) {
			curl_easy_setopt(k, CURLOPT_POSTFIELDS, req->body ? req->body : "");
			curl_easy_setopt(k, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		}
	}
	rc = curl_easy_perform(k);
	curl_easy_getinfo(k, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_setopt(k, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(k, CURLOPT_HTTPHEADER, NULL);
	dc_log_debug(c->log, "%s %s -> %s %ld (%zu bytes)", req->method, req->path,
		     rc == CURLE_OK ? "HTTP" : curl_easy_strerror(rc), out->status, out->body.len);
	if (x.cb_failed) {
		err = x.cb_err < 0 ? x.cb_err : DC_ERR; /* the callback set the message */
	} else if (x.aborted) {
		err = dc_error_set(DC_ERR, "%s %s to %s was aborted", req->method, req->path, c->what);
	} else if (rc == CURLE_ABORTED_BY_CALLBACK || (rc != CURLE_OK && req->interruptible && interrupted)) {
		err = dc_error_set(DC_ERR, "interrupted while waiting for %s", c->what);
	} else if (rc != CURLE_OK) {
		err = transport_error(c, req, rc, errbuf, out, max);
	}
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	free_headers(hdrs);
	dc_buf_release(&url);
	return err;
}

void dc_hclient_resp_release(dc_hclient_resp *r)
{
	dc_buf_release(&r->body);
	dc_buf_release(&r->headers);
	r->status = 0;
}

int dc_hclient_resp_header(dc_buf *out, const dc_hclient_resp *r, const char *name)
{
	size_t nl = strlen(name);
	const char *p = r->headers.ptr, *end = p + r->headers.len, *eol, *v, *found = NULL, *found_end = NULL;

	while (p < end) {
		if (!(eol = memchr(p, '\n', (size_t)(end - p))))
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			found = v;
			found_end = eol;
			while (found_end > found && (found_end[-1] == '\r' || found_end[-1] == ' '))
				found_end--;
		}
		p = eol + 1;
	}
	if (!found)
		return DC_ENOTFOUND;
	if (dc_buf_put(out, found, (size_t)(found_end - found)) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

int dc_hclient_escape(dc_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			dc_buf_putc(out, (char)*p);
		} else {
			dc_buf_putc(out, '%');
			dc_buf_putc(out, hex[*p >> 4]);
			dc_buf_putc(out, hex[*p & 15]);
		}
	}
	return dc_buf_failed(out) ? dc_error_set(DC_ERR, "out of memory") : 0;
}
