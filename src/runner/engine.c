/* engine.c -- see engine.h. */
#include "runner/engine.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/dockerignore.h"
#include "util/codec.h"
#include "util/hclient.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"

#define API_MAX_MINOR 41
#define API_MIN_MINOR 24
#define SHORT_TIMEOUT_MS 60000L

struct dc_engine {
	dc_hclient *c;
	dc_hclient_opts opts; /* strings owned below */
	char *host;
	char *unix_path;
	char *base_url;
	char *cert_path;
	char *ca, *cert, *key;
	int tls, verify;
	char api[16];   /* "1.41" */
	char prefix[16]; /* "/v1.41" */
};

void dc_engine_interrupt(void)
{
	dc_hclient_interrupt();
}

void dc_engine_interrupt_clear(void)
{
	dc_hclient_interrupt_clear();
}

const char *dc_engine_unix_path(const dc_engine *e)
{
	return e->unix_path;
}

const char *dc_engine_host(const dc_engine *e)
{
	return e->host;
}

const char *dc_engine_cert_path(const dc_engine *e)
{
	return e->tls ? e->cert_path : NULL;
}

int dc_engine_tls_verify(const dc_engine *e)
{
	return e->tls && e->verify;
}

const char *dc_engine_api_version(const dc_engine *e)
{
	return e->api;
}

void dc_engine_free(dc_engine *e)
{
	if (!e)
		return;
	dc_hclient_free(e->c);
	free(e->host);
	free(e->unix_path);
	free(e->base_url);
	free(e->cert_path);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e);
}

static char *path_in(const char *dir, const char *name)
{
	dc_buf b = DC_BUF_INIT;
	struct stat st;
	char *p;

	dc_buf_printf(&b, "%s/%s", dir, name);
	if (!(p = dc_buf_detach(&b, NULL)))
		return NULL;
	if (stat(p, &st) < 0) { /* absent files are ignored, as the docker CLI does */
		free(p);
		return NULL;
	}
	return p;
}

/* Parse DOCKER_HOST and the TLS variables into e (no I/O but stat). */
static int configure(dc_engine *e, const dc_env *env)
{
	const char *host = dc_env_get(env, "DOCKER_HOST");
	const char *verify = dc_env_get(env, "DOCKER_TLS_VERIFY");
	const char *tls = dc_env_get(env, "DOCKER_TLS");
	const char *certs = dc_env_get(env, "DOCKER_CERT_PATH");
	const char *home = dc_env_get(env, "HOME");
	dc_buf b = DC_BUF_INIT;

	if (!host)
		host = "unix:///var/run/docker.sock";
	if (!(e->host = strdup(host)))
		return dc_error_set(DC_ERR, "out of memory");
	e->verify = verify != NULL;
	e->tls = e->verify || tls != NULL;
	if (!strncmp(host, "unix://", 7)) {
		if (host[7] != '/')
			return dc_error_set(DC_EUSAGE, "DOCKER_HOST '%s' names no absolute socket path; use unix:///path/to/docker.sock",
					    host);
		if (!(e->unix_path = strdup(host + 7)))
			return dc_error_set(DC_ERR, "out of memory");
		e->tls = 0;
	} else if (!strncmp(host, "tcp://", 6) || !strncmp(host, "http://", 7) || !strncmp(host, "https://", 8)) {
		const char *hp = strstr(host, "://") + 3;
		size_t n = strcspn(hp, "/?#");

		if (!strncmp(host, "https://", 8))
			e->tls = 1;
		if (n == 0 || memchr(hp, '@', n))
			return dc_error_set(DC_EUSAGE, "DOCKER_HOST '%s' names no host; use tcp://HOST:PORT", host);
		dc_buf_printf(&b, "%s://%.*s", e->tls ? "https" : "http", (int)n, hp);
		/* a host without a port gets the docker CLI's default */
		if (!memchr(hp, ':', n) || (hp[0] == '[' && !strstr(hp, "]:")))
			dc_buf_printf(&b, ":%d", e->tls ? 2376 : 2375);
		if (!(e->base_url = dc_buf_detach(&b, NULL)))
			return dc_error_set(DC_ERR, "out of memory");
	} else {
		return dc_error_set(DC_EUSAGE, "DOCKER_HOST '%s' is not supported; use unix:///path or tcp://HOST:PORT (ssh:// and npipe:// are not)",
				    host);
	}
	if (e->tls) {
		if (certs) {
			e->cert_path = strdup(certs);
		} else {
			dc_buf_printf(&b, "%s/.docker", home ? home : "");
			e->cert_path = dc_buf_detach(&b, NULL);
		}
		if (!e->cert_path)
			return dc_error_set(DC_ERR, "out of memory");
		e->ca = path_in(e->cert_path, "ca.pem");
		e->cert = path_in(e->cert_path, "cert.pem");
		e->key = path_in(e->cert_path, "key.pem");
		if (!e->cert != !e->key)
			return dc_error_set(DC_EUSAGE, "DOCKER_CERT_PATH '%s' has %s but not %s; give both or neither",
					    e->cert_path, e->cert ? "cert.pem" : "key.pem", e->cert ? "key.pem" : "cert.pem");
	}
	e->opts.unix_path = e->unix_path;
	e->opts.base_url = e->base_url;
	e->opts.ca_file = e->verify ? e->ca : NULL;
	e->opts.cert_file = e->cert;
	e->opts.key_file = e->key;
	e->opts.insecure = e->tls && !e->verify;
	e->opts.what = "the Docker engine";
	return 0;
}

static int api_minor(const char *v)
{
	char *end;
	long major, minor;

	major = strtol(v, &end, 10);
	if (major != 1 || *end != '.')
		return -1;
	minor = strtol(end + 1, &end, 10);
	if (*end || minor < 0 || minor > 1000)
		return -1;
	return (int)minor;
}

static int negotiate(dc_engine *e)
{
	dc_hclient_req req = { .method = "GET", .path = "/_ping", .timeout_ms = 30000 };
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf v = DC_BUF_INIT;
	int err, minor;

	if ((err = dc_hclient_send(e->c, &req, &r)) < 0) {
		if (!strncmp(dc_error_last(), "cannot reach", 12)) {
			dc_buf_puts(&v, dc_error_last());
			err = dc_error_set(err, "%s; is dockerd running? check DOCKER_HOST", v.ptr);
		}
		goto done;
	}
	if (r.status != 200) {
		err = dc_error_set(DC_ERR, "the Docker engine at '%s' answered its ping with HTTP %ld; check DOCKER_HOST",
				   e->host, r.status);
		goto done;
	}
	err = dc_hclient_resp_header(&v, &r, "Api-Version");
	if (err == DC_ENOTFOUND) {
		/* engines before 1.25 say it only in GET /version */
		dc_hclient_req vreq = { .method = "GET", .path = "/version", .timeout_ms = 30000 };
		json_t *doc = NULL;
		const char *s;

		if ((err = dc_hclient_send(e->c, &vreq, &r)) < 0)
			goto done;
		if (r.status == 200 && dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine") == 0 &&
		    (s = dc_json_str(doc, "ApiVersion")))
			err = dc_buf_puts(&v, s) < 0 ? dc_error_set(DC_ERR, "out of memory") : 0;
		else
			err = dc_error_set(DC_ERR, "the Docker engine at '%s' sent no API version; is it a Docker engine?",
					   e->host);
		json_decref(doc);
	}
	if (err < 0)
		goto done;
	if ((minor = api_minor(v.ptr)) < 0) {
		err = dc_error_set(DC_ERR, "the Docker engine at '%s' speaks API version '%s', which dcgen does not know",
				   e->host, v.ptr);
		goto done;
	}
	if (minor < API_MIN_MINOR) {
		err = dc_error_set(DC_ERR, "the Docker engine at '%s' speaks API 1.%d; dcgen needs 1.%d or later (Docker 1.12+)",
				   e->host, minor, API_MIN_MINOR);
		goto done;
	}
	if (minor > API_MAX_MINOR)
		minor = API_MAX_MINOR;
	snprintf(e->api, sizeof(e->api), "1.%d", minor);
	snprintf(e->prefix, sizeof(e->prefix), "/v1.%d", minor);
done:
	dc_buf_release(&v);
	dc_hclient_resp_release(&r);
	return err;
}

int dc_engine_open(dc_engine **out, const dc_env *env)
{
	dc_engine *e;
	int err;

	*out = NULL;
	if (!(e = calloc(1, sizeof(*e))))
		return dc_error_set(DC_ERR, "out of memory");
	if ((err = configure(e, env)) < 0 || (err = dc_hclient_open(&e->c, &e->opts)) < 0 ||
	    (err = negotiate(e)) < 0) {
		dc_engine_free(e);
		return err;
	}
	*out = e;
	return 0;
}

static char *dup_opt(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	if (!(d = strdup(s)))
		*oom = 1;
	return d;
}

int dc_engine_clone(dc_engine **out, const dc_engine *src)
{
	dc_engine *e;
	int oom = 0, err;

	*out = NULL;
	if (!(e = calloc(1, sizeof(*e))))
		return dc_error_set(DC_ERR, "out of memory");
	e->host = dup_opt(src->host, &oom);
	e->unix_path = dup_opt(src->unix_path, &oom);
	e->base_url = dup_opt(src->base_url, &oom);
	e->cert_path = dup_opt(src->cert_path, &oom);
	e->ca = dup_opt(src->ca, &oom);
	e->cert = dup_opt(src->cert, &oom);
	e->key = dup_opt(src->key, &oom);
	e->tls = src->tls;
	e->verify = src->verify;
	memcpy(e->api, src->api, sizeof(e->api));
	memcpy(e->prefix, src->prefix, sizeof(e->prefix));
	e->opts = src->opts;
	e->opts.unix_path = e->unix_path;
	e->opts.base_url = e->base_url;
	e->opts.ca_file = e->verify ? e->ca : NULL;
	e->opts.cert_file = e->cert;
	e->opts.key_file = e->key;
	if (oom) {
		dc_engine_free(e);
		return dc_error_set(DC_ERR, "out of memory");
	}
	if ((err = dc_hclient_open(&e->c, &e->opts)) < 0) {
		dc_engine_free(e);
		return err;
	}
	*out = e;
	return 0;
}

/* ---- requests ---- */

static int dump_cb(const char *p, size_t n, void *ctx)
{
	return dc_buf_put(ctx, p, n) < 0 ? -1 : 0;
}

/* The engine's {"message": ...} of a failed answer, clipped, into dst. */
static void engine_message(char *dst, size_t size, const dc_hclient_resp *r)
{
	json_t *doc = r->body.len ? json_loadb(r->body.ptr, r->body.len, 0, NULL) : NULL;
	const char *m = doc ? json_string_value(json_object_get(doc, "message")) : NULL;

	if (m)
		dc_log_clip(NULL, dst, size, m);
	else if (r->body.len)
		dc_log_clip(NULL, dst, size, r->body.ptr);
	else
		snprintf(dst, size, "no message");
	json_decref(doc);
}

/* Set the message for an unexpected status: "cannot ACTION: the Docker
 * engine answered HTTP N: MESSAGE". DC_ENOTFOUND for 404. */
static int fail(const dc_hclient_resp *r, const char *fmt, ...) DC_PRINTF(2, 3);
static int fail(const dc_hclient_resp *r, const char *fmt, ...)
{
	char msg[DC_LOG_CLIP_MAX + 1];
	dc_buf action = DC_BUF_INIT;
	va_list ap;
	int code = r->status == 404 ? DC_ENOTFOUND : DC_ERR;

	va_start(ap, fmt);
	dc_buf_vprintf(&action, fmt, ap);
	va_end(ap);
	engine_message(msg, sizeof(msg), r);
	dc_error_set(code, "cannot %s: the Docker engine answered HTTP %ld: %s", action.ptr, r->status, msg);
	dc_buf_release(&action);
	return code;
}

typedef struct {
	const char *method;
	const char *path;      /* after the version prefix */
	const json_t *json;    /* body, or NULL */
	const char *const *headers;
	dc_hclient_write_fn write;
	void *write_ctx;
	dc_hclient_read_fn read;
	void *read_ctx;
	long timeout_ms;       /* -1: none */
	int interruptible;
	size_t max_reply;
	void (*on_headers)(long status, void *ctx);
	void *headers_ctx;
	volatile int *abort;
} call_opts;

static int call_on(dc_engine *e, dc_hclient *c, const call_opts *o, dc_hclient_resp *r)
{
	dc_buf path = DC_BUF_INIT, body = DC_BUF_INIT;
	const char *hdrs_json[] = { "Content-Type: application/json", NULL };
	const char *hdrs[16];
	size_t n = 0;
	const char *const *h;
	int err;

	dc_buf_printf(&path, "%s%s", e->prefix, o->path);
	if (o->json && json_dump_callback(o->json, dump_cb, &body, JSON_COMPACT) < 0)
		dc_buf_putc(&body, '\0'), body.failed = 1;
	if (dc_buf_failed(&path) || dc_buf_failed(&body)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (o->json)
		hdrs[n++] = hdrs_json[0];
	for (h = o->headers; h && *h && n < sizeof(hdrs) / sizeof(hdrs[0]) - 1; h++)
		hdrs[n++] = *h;
	hdrs[n] = NULL;
	{
		dc_hclient_req req = {
			.method = o->method,
			.path = path.ptr,
			.headers = hdrs,
			.body = o->json ? body.ptr : NULL,
			.body_len = body.len,
			.read = o->read,
			.read_ctx = o->read_ctx,
			.write = o->write,
			.write_ctx = o->write_ctx,
			.max_reply = o->max_reply,
			.timeout_ms = o->timeout_ms < 0 ? 0 : o->timeout_ms ? o->timeout_ms : SHORT_TIMEOUT_MS,
			.interruptible = o->interruptible,
			.on_headers = o->on_headers,
			.headers_ctx = o->headers_ctx,
			.abort = o->abort,
		};
		err = dc_hclient_send(c, &req, r);
	}
done:
	dc_buf_release(&path);
	dc_buf_release(&body);
	return err;
}

static int call(dc_engine *e, const call_opts *o, dc_hclient_resp *r)
{
	return call_on(e, e->c, o, r);
}

/* Query-escape `s` onto b. */
static void put_q(dc_buf *b, const char *s)
{
	if (dc_hclient_escape(b, s) < 0)
		b->failed = 1;
}

/* Image references and object ids go into paths: keep them to the
 * characters references use, so nothing can change the request. */
static int check_ref(const char *ref, const char *what)
{
	const char *p;

	if (!ref || !*ref)
		return dc_error_set(DC_EUSAGE, "no %s given", what);
	for (p = ref; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("._-/:@+", *p)))
			return dc_error_set(DC_EUSAGE, "%s '%s' has a character a reference cannot have ('%c')", what,
					    ref, *p);
	return 0;
}

/* Split "name[:tag][@digest]" at its tag: *tag points into ref (NULL when
 * none), *name_len is the name's length. A ':' before the last '/' is a
 * registry port. */
static void split_tag(const char *ref, size_t *name_len, const char **tag)
{
	const char *at = strchr(ref, '@'), *slash = strrchr(ref, '/'), *colon;
	size_t end = at ? (size_t)(at - ref) : strlen(ref);

	*tag = NULL;
	*name_len = end;
	colon = memchr(ref, ':', end);
	while (colon) {
		const char *next = memchr(colon + 1, ':', end - (size_t)(colon + 1 - ref));

		if (!next)
			break;
		colon = next;
	}
	if (colon && (!slash || colon > slash)) {
		*tag = colon + 1;
		*name_len = (size_t)(colon - ref);
	}
	if (at)
		*tag = at; /* "@sha256:..." */
}

int dc_engine_auth_encode(dc_buf *out, const char *username, const char *secret, const char *server)
{
	json_t *doc = json_object();
	dc_buf js = DC_BUF_INIT;
	int err = 0;

	dc_buf_init(&js, 0, DC_BUF_SECRET);
	if (!doc)
		return dc_error_set(DC_ERR, "out of memory");
	if (!username || !strcmp(username, "<token>")) {
		json_object_set_new(doc, "identitytoken", json_string(secret ? secret : ""));
	} else {
		json_object_set_new(doc, "username", json_string(username));
		json_object_set_new(doc, "password", json_string(secret ? secret : ""));
	}
	if (server)
		json_object_set_new(doc, "serveraddress", json_string(server));
	if (json_dump_callback(doc, dump_cb, &js, JSON_COMPACT) < 0 ||
	    dc_base64url_encode(out, js.ptr, js.len) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	/* the docker CLI sends URL-safe base64 with padding */
	while (out->len % 4 && !dc_buf_failed(out)) /* a failed buffer never grows */
		dc_buf_putc(out, '=');
	if (dc_buf_failed(out))
		err = dc_error_set(DC_ERR, "out of memory");
done:
	json_decref(doc);
	dc_buf_release(&js);
	return err;
}

/* ---- JSON progress streams (pull, build, push) ---- */

typedef struct {
	dc_engine_line_fn on_line;
	void *ctx;
	dc_buf pending;  /* a partial JSON line */
	dc_buf text;     /* a partial "stream" text line (build output) */
	char *error;     /* the first error in the stream (clipped) */
	char *aux_id;    /* build: aux.ID */
	int lines;
} progress;

static void emit(progress *p, const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (p->on_line)
		p->on_line(p->ctx, DC_ENGINE_PROGRESS, s, n);
}

/* Build output arrives as "stream" pieces that are not whole lines. */
static void emit_stream_text(progress *p, const char *s)
{
	const char *nl;

	while ((nl = strchr(s, '\n'))) {
		dc_buf_put(&p->text, s, (size_t)(nl - s));
		emit(p, p->text.ptr, p->text.len);
		dc_buf_reset(&p->text);
		s = nl + 1;
	}
	dc_buf_puts(&p->text, s);
}

static void progress_line(progress *p, const char *line, size_t n)
{
	json_t *doc, *v;
	const char *s, *id;
	char clip[DC_LOG_CLIP_MAX + 1];
	dc_buf b = DC_BUF_INIT;

	while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	if (!n)
		return;
	p->lines++;
	if (!(doc = json_loadb(line, n, 0, NULL))) {
		emit(p, line, n);
		return;
	}
	if ((v = json_object_get(doc, "error")) || (v = json_object_get(json_object_get(doc, "errorDetail"), "message"))) {
		if (!p->error && (s = json_string_value(v))) {
			dc_log_clip(NULL, clip, sizeof(clip), s);
			p->error = strdup(clip);
		}
		if ((s = json_string_value(v)))
			emit(p, s, strlen(s));
	} else if ((s = json_string_value(json_object_get(doc, "stream")))) {
		emit_stream_text(p, s);
	} else if ((s = json_string_value(json_object_get(doc, "status")))) {
		/* progress bars (Downloading [==>  ]) would flood a CI log: one
		 * line per state change of each layer, without the bar */
		if (!json_object_get(doc, "progress") || !json_object_size(json_object_get(doc, "progressDetail"))) {
			id = json_string_value(json_object_get(doc, "id"));
			if (id)
				dc_buf_printf(&b, "%s: %s", id, s);
			else
				dc_buf_puts(&b, s);
			emit(p, b.ptr, b.len);
		}
	} else if ((v = json_object_get(doc, "aux"))) {
		if ((s = json_string_value(json_object_get(v, "ID"))) && !p->aux_id)
			p->aux_id = strdup(s);
	}
	dc_buf_release(&b);
	json_decref(doc);
}

static int progress_write(const char *data, size_t n, void *ctx)
{
	progress *p = ctx;
	const char *nl;

	while (n && (nl = memchr(data, '\n', n))) {
		size_t k = (size_t)(nl - data);

		if (p->pending.len) {
			dc_buf_put(&p->pending, data, k);
			progress_line(p, p->pending.ptr, p->pending.len);
			dc_buf_reset(&p->pending);
		} else {
			progress_line(p, data, k);
		}
		data += k + 1;
		n -= k + 1;
	}
	if (n && dc_buf_put(&p->pending, data, n) < 0)
		return dc_error_set(DC_ERR, "the Docker engine sent a progress line longer than %zu bytes",
				    p->pending.max);
	return 0;
}

static void progress_init(progress *p, dc_engine_line_fn on_line, void *ctx)
{
	memset(p, 0, sizeof(*p));
	p->on_line = on_line;
	p->ctx = ctx;
	dc_buf_init(&p->pending, 4 << 20, 0);
	dc_buf_init(&p->text, 64 * 1024, 0);
}

static void progress_finish(progress *p)
{
	if (p->pending.len)
		progress_line(p, p->pending.ptr, p->pending.len);
	dc_buf_reset(&p->pending);
	if (p->text.len)
		emit(p, p->text.ptr, p->text.len);
	dc_buf_reset(&p->text);
}

static void progress_release(progress *p)
{
	dc_buf_release(&p->pending);
	dc_buf_release(&p->text);
	free(p->error);
	free(p->aux_id);
}

/* ---- images ---- */

int dc_engine_image_inspect(char **id, int *entrypoint_set, dc_engine *e, const char *ref)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	json_t *doc = NULL, *ep;
	const char *s;
	int err;

	if (id)
		*id = NULL;
	if (entrypoint_set)
		*entrypoint_set = 0;
	if ((err = check_ref(ref, "image")) < 0)
		return err;
	dc_buf_printf(&path, "/images/%s/json", ref);
	{
		call_opts o = { .method = "GET", .path = path.ptr, .max_reply = 4 << 20 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200) {
		err = fail(&r, "inspect image '%s'", ref);
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine")) < 0)
		goto done;
	if (id && (s = dc_json_str(doc, "Id")) && !(*id = strdup(s))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	ep = json_object_get(json_object_get(doc, "Config"), "Entrypoint");
	if (entrypoint_set)
		*entrypoint_set = json_is_array(ep) && json_array_size(ep) > 0 &&
				  !(json_array_size(ep) == 1 && !strcmp(json_string_value(json_array_get(ep, 0)) ?
									 json_string_value(json_array_get(ep, 0)) : "", ""));
done:
	json_decref(doc);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

static char **argv_of(const json_t *a)
{
	char **out = calloc(json_array_size(a) + 1, sizeof(*out));
	size_t i, n = 0;
	json_t *v;

	if (!out)
		return NULL;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		if (!(out[n++] = strdup(json_string_value(v)))) {
			dc_engine_list_free(out);
			return NULL;
		}
	}
	return out;
}

int dc_engine_image_argv(char ***entrypoint, char ***cmd, dc_engine *e, const char *ref)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	json_t *doc = NULL, *config;
	int err;

	*entrypoint = *cmd = NULL;
	if ((err = check_ref(ref, "image")) < 0)
		return err;
	dc_buf_printf(&path, "/images/%s/json", ref);
	{
		call_opts o = { .method = "GET", .path = path.ptr, .max_reply = 4 << 20 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200) {
		err = fail(&r, "inspect image '%s'", ref);
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine")) < 0)
		goto done;
	config = json_object_get(doc, "Config");
	*entrypoint = argv_of(json_object_get(config, "Entrypoint"));
	*cmd = argv_of(json_object_get(config, "Cmd"));
	if (!*entrypoint || !*cmd) {
		dc_engine_list_free(*entrypoint);
		dc_engine_list_free(*cmd);
		*entrypoint = *cmd = NULL;
		err = dc_error_set(DC_ERR, "out of memory");
	}
done:
	json_decref(doc);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

int dc_engine_image_exists(dc_engine *e, const char *ref)
{
	int err = dc_engine_image_inspect(NULL, NULL, e, ref);

	if (err == DC_ENOTFOUND) {
		dc_error_clear();
		return 0;
	}
	return err < 0 ? err : 1;
}

/* Run a JSON-progress request (pull, push, build): HTTP status, then the
 * stream's own error. `what` is the action for messages. */
static int progress_call(dc_engine *e, call_opts *o, dc_engine_line_fn on_line, void *ctx, char **aux_id,
			 const char *what)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	progress p;
	int err;

	progress_init(&p, on_line, ctx);
	o->write = progress_write;
	o->write_ctx = &p;
	o->timeout_ms = -1;
	o->interruptible = 1;
	if ((err = call(e, o, &r)) < 0)
		goto done;
	progress_finish(&p);
	if (r.status < 200 || r.status >= 300) {
		err = fail(&r, "%s", what);
		goto done;
	}
	if (p.error) {
		err = dc_error_set(DC_ERR, "cannot %s: %s", what, p.error);
		goto done;
	}
	if (aux_id) {
		*aux_id = p.aux_id;
		p.aux_id = NULL;
	}
done:
	progress_release(&p);
	dc_hclient_resp_release(&r);
	return err;
}

static int auth_header(dc_buf *h, const char *name, const char *value)
{
	dc_buf_init(h, 0, DC_BUF_SECRET);
	/* an empty one ({}) when anonymous: older engines want the header on push */
	if (dc_buf_printf(h, "%s: %s", name, value && *value ? value : "e30=") < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

int dc_engine_image_pull(dc_engine *e, const char *ref, const char *auth, dc_engine_line_fn on_line, void *ctx)
{
	dc_buf path = DC_BUF_INIT, h = DC_BUF_INIT, what = DC_BUF_INIT;
	const char *tag;
	size_t name_len;
	int err;

	if ((err = check_ref(ref, "image")) < 0)
		return err;
	split_tag(ref, &name_len, &tag);
	dc_buf_puts(&path, "/images/create?fromImage=");
	put_q(&path, ref);
	if (!tag)
		dc_buf_puts(&path, "&tag=latest"); /* else every tag is pulled */
	dc_buf_printf(&what, "pull image '%s'", ref);
	if ((err = auth_header(&h, "X-Registry-Auth", auth)) < 0)
		goto done;
	if (dc_buf_failed(&path) || dc_buf_failed(&what)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	{
		const char *hdrs[] = { h.ptr, NULL };
		call_opts o = { .method = "POST", .path = path.ptr, .headers = hdrs };

		err = progress_call(e, &o, on_line, ctx, NULL, what.ptr);
	}
done:
	dc_buf_release(&path);
	dc_buf_release(&h);
	dc_buf_release(&what);
	return err;
}

int dc_engine_image_tag(dc_engine *e, const char *src, const char *ref)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT, name = DC_BUF_INIT;
	const char *tag;
	size_t name_len;
	int err;

	if ((err = check_ref(src, "image")) < 0 || (err = check_ref(ref, "image name")) < 0)
		return err;
	split_tag(ref, &name_len, &tag);
	if (tag && *tag == '@')
		return dc_error_set(DC_EUSAGE, "cannot tag image '%s' as '%s': a tag cannot be a digest", src, ref);
	dc_buf_put(&name, ref, name_len);
	dc_buf_printf(&path, "/images/%s/tag?repo=", src);
	put_q(&path, name.ptr);
	dc_buf_puts(&path, "&tag=");
	put_q(&path, tag ? tag : "latest");
	if (dc_buf_failed(&path) || dc_buf_failed(&name)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	{
		call_opts o = { .method = "POST", .path = path.ptr };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 201 && r.status != 200)
		err = fail(&r, "tag image '%s' as '%s'", src, ref);
done:
	dc_buf_release(&path);
	dc_buf_release(&name);
	dc_hclient_resp_release(&r);
	return err;
}

int dc_engine_image_push(dc_engine *e, const char *ref, const char *auth, dc_engine_line_fn on_line, void *ctx)
{
	dc_buf path = DC_BUF_INIT, h = DC_BUF_INIT, what = DC_BUF_INIT;
	const char *tag;
	size_t name_len;
	int err;

	if ((err = check_ref(ref, "image")) < 0)
		return err;
	split_tag(ref, &name_len, &tag);
	if (tag && *tag == '@')
		return dc_error_set(DC_EUSAGE, "cannot push '%s': push a tag, not a digest", ref);
	dc_buf_printf(&path, "/images/%.*s/push?tag=", (int)name_len, ref);
	put_q(&path, tag ? tag : "latest"); /* an empty tag would push every tag */
	dc_buf_printf(&what, "push image '%s'", ref);
	if ((err = auth_header(&h, "X-Registry-Auth", auth)) < 0)
		goto done;
	if (dc_buf_failed(&path) || dc_buf_failed(&what)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	{
		const char *hdrs[] = { h.ptr, NULL };
		call_opts o = { .method = "POST", .path = path.ptr, .headers = hdrs };

		err = progress_call(e, &o, on_line, ctx, NULL, what.ptr);
	}
done:
	dc_buf_release(&path);
	dc_buf_release(&h);
	dc_buf_release(&what);
	return err;
}

int dc_engine_image_remove(dc_engine *e, const char *ref, int force)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	int err;

	if ((err = check_ref(ref, "image")) < 0)
		return err;
	if (dc_buf_printf(&path, "/images/%s?force=%d", ref, force ? 1 : 0) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	{
		call_opts o = { .method = "DELETE", .path = path.ptr };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200)
		err = fail(&r, "remove image '%s'", ref);
done:
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

/* ---- JSON building ---- */

static json_t *str_array(const char *const *list)
{
	json_t *a = json_array();

	for (; a && list && *list; list++)
		if (json_array_append_new(a, json_string(*list)) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* {"k": "v"} from "k=v" (a bare "k" gets ""). */
static json_t *label_object(const char *const *list)
{
	json_t *o = json_object();
	const char *eq;

	for (; o && list && *list; list++) {
		char *k;

		eq = strchr(*list, '=');
		k = eq ? strndup(*list, (size_t)(eq - *list)) : strdup(*list);
		if (!k || json_object_set_new(o, k, json_string(eq ? eq + 1 : "")) < 0) {
			free(k);
			json_decref(o);
			return NULL;
		}
		free(k);
	}
	return o;
}

/* ---- networks ---- */

int dc_engine_network_create(char **id, dc_engine *e, const char *name, const char *const *labels)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	json_t *body = NULL, *doc = NULL;
	const char *s;
	int err;

	if (id)
		*id = NULL;
	if ((err = check_ref(name, "network name")) < 0)
		return err;
	body = json_pack("{s:s, s:b, s:s, s:o}", "Name", name, "CheckDuplicate", 1, "Driver", "bridge", "Labels",
			 label_object(labels));
	if (!body)
		return dc_error_set(DC_ERR, "out of memory");
	{
		call_opts o = { .method = "POST", .path = "/networks/create", .json = body };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 201 && r.status != 200) {
		err = fail(&r, "create network '%s'", name);
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine")) < 0)
		goto done;
	if (id && (s = dc_json_str(doc, "Id")) && !(*id = strdup(s)))
		err = dc_error_set(DC_ERR, "out of memory");
done:
	json_decref(body);
	json_decref(doc);
	dc_hclient_resp_release(&r);
	return err;
}

static int simple(dc_engine *e, const char *method, const char *path, long ok1, long ok2, const char *action,
		  const char *subject)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	call_opts o = { .method = method, .path = path };
	int err;

	if ((err = call(e, &o, &r)) < 0)
		goto done;
	if (r.status != ok1 && r.status != ok2)
		err = fail(&r, "%s '%s'", action, subject);
done:
	dc_hclient_resp_release(&r);
	return err;
}

int dc_engine_network_remove(dc_engine *e, const char *name_or_id)
{
	dc_buf path = DC_BUF_INIT;
	int err;

	if ((err = check_ref(name_or_id, "network")) < 0)
		return err;
	if (dc_buf_printf(&path, "/networks/%s", name_or_id) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	err = simple(e, "DELETE", path.ptr, 204, 200, "remove network", name_or_id);
	dc_buf_release(&path);
	return err;
}

/* ---- containers ---- */

int dc_engine_container_create(char **id, dc_engine *e, const dc_engine_container *s)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	json_t *body = NULL, *host = NULL, *doc = NULL;
	const char *v;
	int err = 0;

	*id = NULL;
	if ((err = check_ref(s->image, "image")) < 0 || (s->name && (err = check_ref(s->name, "container name")) < 0))
		return err;
	body = json_object();
	host = json_object();
	if (!body || !host)
		goto oom;
	json_object_set_new(body, "Image", json_string(s->image));
	if (s->cmd)
		json_object_set_new(body, "Cmd", str_array(s->cmd));
	if (s->entrypoint) {
		if (*s->entrypoint)
			json_object_set_new(body, "Entrypoint", str_array(s->entrypoint));
		else /* an empty list means "none"; the engine wants [""] for that */
			json_object_set_new(body, "Entrypoint", json_pack("[s]", ""));
	}
	if (s->env)
		json_object_set_new(body, "Env", str_array(s->env));
	if (s->working_dir)
		json_object_set_new(body, "WorkingDir", json_string(s->working_dir));
	if (s->user)
		json_object_set_new(body, "User", json_string(s->user));
	if (s->hostname)
		json_object_set_new(body, "Hostname", json_string(s->hostname));
	if (s->labels)
		json_object_set_new(body, "Labels", label_object(s->labels));
	json_object_set_new(body, "Tty", json_boolean(s->tty));
	json_object_set_new(body, "AttachStdout", json_true());
	json_object_set_new(body, "AttachStderr", json_true());
	if (s->binds)
		json_object_set_new(host, "Binds", str_array(s->binds));
	if (s->links)
		json_object_set_new(host, "Links", str_array(s->links));
	if (s->volumes_from)
		json_object_set_new(host, "VolumesFrom", str_array(s->volumes_from));
	if (s->privileged)
		json_object_set_new(host, "Privileged", json_true());
	if (s->network)
		json_object_set_new(host, "NetworkMode", json_string(s->network));
	if (s->network && s->aliases && *s->aliases) {
		json_t *net = json_pack("{s:{s:{s:o}}}", "EndpointsConfig", s->network, "Aliases", str_array(s->aliases));

		if (!net)
			goto oom;
		json_object_set_new(body, "NetworkingConfig", net);
	}
	json_object_set(body, "HostConfig", host);
	dc_buf_puts(&path, "/containers/create");
	if (s->name) {
		dc_buf_puts(&path, "?name=");
		put_q(&path, s->name);
	}
	if (dc_buf_failed(&path))
		goto oom;
	{
		call_opts o = { .method = "POST", .path = path.ptr, .json = body };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 201) {
		/* 404 "No such image" is DC_ENOTFOUND: the caller pulls first */
		err = fail(&r, "create a container from image '%s'", s->image);
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine")) < 0)
		goto done;
	if (!(v = dc_json_str(doc, "Id"))) {
		err = dc_error_set(DC_ERR, "the Docker engine created a container but sent no id");
		goto done;
	}
	if (!(*id = strdup(v)))
		goto oom;
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	json_decref(body);
	json_decref(host);
	json_decref(doc);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

int dc_engine_container_start(dc_engine *e, const char *id)
{
	dc_buf path = DC_BUF_INIT;
	int err;

	if ((err = check_ref(id, "container")) < 0)
		return err;
	if (dc_buf_printf(&path, "/containers/%s/start", id) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	err = simple(e, "POST", path.ptr, 204, 304, "start container", id);
	dc_buf_release(&path);
	return err;
}

int dc_engine_container_kill(dc_engine *e, const char *id, const char *signal)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	int err;

	if ((err = check_ref(id, "container")) < 0 || (signal && (err = check_ref(signal, "signal")) < 0))
		return err;
	if (dc_buf_printf(&path, "/containers/%s/kill?signal=%s", id, signal ? signal : "SIGKILL") < 0)
		return dc_error_set(DC_ERR, "out of memory");
	{
		call_opts o = { .method = "POST", .path = path.ptr };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	/* 409: not running, which is what we wanted */
	if (r.status != 204 && r.status != 409)
		err = fail(&r, "kill container '%s'", id);
done:
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

int dc_engine_container_remove(dc_engine *e, const char *id, int force, int volumes)
{
	dc_buf path = DC_BUF_INIT;
	int err;

	if ((err = check_ref(id, "container")) < 0)
		return err;
	if (dc_buf_printf(&path, "/containers/%s?force=%d&v=%d", id, force ? 1 : 0, volumes ? 1 : 0) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	err = simple(e, "DELETE", path.ptr, 204, 200, "remove container", id);
	dc_buf_release(&path);
	return err;
}

int dc_engine_container_wait(int *code, dc_engine *e, const char *id)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	json_t *doc = NULL, *v;
	const char *msg;
	int err;

	*code = -1;
	if ((err = check_ref(id, "container")) < 0)
		return err;
	if (dc_buf_printf(&path, "/containers/%s/wait?condition=not-running", id) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	{
		call_opts o = { .method = "POST", .path = path.ptr, .timeout_ms = -1, .interruptible = 1 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200) {
		err = fail(&r, "wait for container '%s'", id);
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine")) < 0)
		goto done;
	if ((msg = dc_json_str(json_object_get(doc, "Error"), "Message")) && *msg) {
		char clip[DC_LOG_CLIP_MAX + 1];

		dc_log_clip(NULL, clip, sizeof(clip), msg);
		err = dc_error_set(DC_ERR, "cannot wait for container '%s': the Docker engine said: %s", id, clip);
		goto done;
	}
	if (!json_is_integer(v = json_object_get(doc, "StatusCode"))) {
		err = dc_error_set(DC_ERR, "the Docker engine sent no exit code for container '%s'", id);
		goto done;
	}
	*code = (int)json_integer_value(v);
done:
	json_decref(doc);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

static int container_tty(int *tty, dc_engine *e, const char *id)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	json_t *doc = NULL;
	int err;

	*tty = 0;
	if (dc_buf_printf(&path, "/containers/%s/json", id) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	{
		call_opts o = { .method = "GET", .path = path.ptr, .max_reply = 4 << 20 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200) {
		err = fail(&r, "inspect container '%s'", id);
		goto done;
	}
	if ((err = dc_json_parse_object(&doc, r.body.ptr, r.body.len, "the Docker engine")) < 0)
		goto done;
	*tty = json_is_true(json_object_get(json_object_get(doc, "Config"), "Tty"));
done:
	json_decref(doc);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

static int demux_write(const char *data, size_t n, void *ctx)
{
	return dc_engine_demux_feed(ctx, data, n);
}

int dc_engine_container_logs(dc_engine *e, const char *id, int follow, dc_engine_line_fn on_line, void *ctx)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_engine_demux d;
	dc_buf path = DC_BUF_INIT;
	int err, tty;

	if ((err = check_ref(id, "container")) < 0)
		return err;
	if ((err = container_tty(&tty, e, id)) < 0)
		return err;
	dc_engine_demux_init(&d, tty, on_line, ctx);
	if (dc_buf_printf(&path, "/containers/%s/logs?stdout=1&stderr=1&follow=%d", id, follow ? 1 : 0) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	{
		call_opts o = { .method = "GET", .path = path.ptr, .write = demux_write, .write_ctx = &d,
				.timeout_ms = -1, .interruptible = 1 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	dc_engine_demux_flush(&d);
	if (r.status != 200)
		err = fail(&r, "read the output of container '%s'", id);
done:
	dc_engine_demux_release(&d);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

/* ---- attach, then start ---- */

typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int state;          /* 0: attaching, 1: attached, 2: the attach is over */
	long status;        /* of the attach */
	volatile int abort; /* ends the attach when the start failed */
	dc_engine *e;
	const char *id;
	int start_err;
	char start_msg[512];
} attach_ctx;

static void attached(long status, void *ctx)
{
	attach_ctx *a = ctx;

	pthread_mutex_lock(&a->lock);
	a->status = status;
	if (a->state == 0)
		a->state = 1;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->lock);
}

/* The starter thread: once the attach stream is open, start the container
 * on a connection of its own. */
static void *starter(void *arg)
{
	attach_ctx *a = arg;
	dc_hclient *c = NULL;
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT;
	struct timespec until;
	int state, err = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;
	pthread_mutex_lock(&a->lock);
	while (a->state == 0)
		if (pthread_cond_timedwait(&a->cv, &a->lock, &until) != 0)
			break;
	state = a->state;
	pthread_mutex_unlock(&a->lock);
	if (state != 1 || a->status != 200) {
		if (state == 0)
			err = dc_error_set(DC_ERR, "the Docker engine did not attach to container '%s' within 60 s", a->id);
		goto done; /* the attach failed: it says why */
	}
	if ((err = dc_hclient_open(&c, &a->e->opts)) < 0 ||
	    (err = dc_buf_printf(&path, "/containers/%s/start", a->id)) < 0)
		goto done;
	{
		call_opts o = { .method = "POST", .path = path.ptr };

		if ((err = call_on(a->e, c, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 204 && r.status != 304)
		err = fail(&r, "start container '%s'", a->id);
done:
	if (err < 0) {
		a->start_err = err;
		snprintf(a->start_msg, sizeof(a->start_msg), "%s", dc_error_last());
		a->abort = 1;
	}
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	dc_hclient_free(c);
	return NULL;
}

int dc_engine_container_start_attached(dc_engine *e, const char *id, dc_engine_line_fn on_line, void *ctx)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_engine_demux d;
	dc_buf path = DC_BUF_INIT;
	attach_ctx a;
	pthread_t th;
	int err, tty, started = 0;

	if ((err = check_ref(id, "container")) < 0)
		return err;
	if ((err = container_tty(&tty, e, id)) < 0)
		return err;
	memset(&a, 0, sizeof(a));
	pthread_mutex_init(&a.lock, NULL);
	pthread_cond_init(&a.cv, NULL);
	a.e = e;
	a.id = id;
	dc_engine_demux_init(&d, tty, on_line, ctx);
	if (dc_buf_printf(&path, "/containers/%s/attach?stream=1&stdout=1&stderr=1", id) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (pthread_create(&th, NULL, starter, &a) != 0) {
		err = dc_error_set(DC_ERR, "cannot start a thread to start container '%s'", id);
		goto done;
	}
	started = 1;
	{
		/* without an Upgrade header the engine answers 200 and streams
		 * the raw output until the container's streams close */
		call_opts o = { .method = "POST", .path = path.ptr, .write = demux_write, .write_ctx = &d,
				.timeout_ms = -1, .interruptible = 1, .on_headers = attached, .headers_ctx = &a,
				.abort = &a.abort };

		err = call(e, &o, &r);
	}
	pthread_mutex_lock(&a.lock);
	a.state = 2;
	pthread_cond_signal(&a.cv);
	pthread_mutex_unlock(&a.lock);
	pthread_join(th, NULL);
	started = 0;
	if (a.start_err < 0 && r.status == 200) {
		err = dc_error_set(a.start_err, "%s", a.start_msg);
		goto done;
	}
	if (err < 0)
		goto done;
	dc_engine_demux_flush(&d);
	if (r.status != 200)
		err = fail(&r, "attach to container '%s'", id);
done:
	if (started) {
		pthread_mutex_lock(&a.lock);
		a.state = 2;
		pthread_cond_signal(&a.cv);
		pthread_mutex_unlock(&a.lock);
		pthread_join(th, NULL);
	}
	pthread_mutex_destroy(&a.lock);
	pthread_cond_destroy(&a.cv);
	dc_engine_demux_release(&d);
	dc_buf_release(&path);
	dc_hclient_resp_release(&r);
	return err;
}

/* ---- listing ---- */

void dc_engine_list_free(char **ids)
{
	char **p;

	for (p = ids; p && *p; p++)
		free(*p);
	free(ids);
}

int dc_engine_list(char ***ids, size_t *n, dc_engine *e, int kind, const char *label)
{
	static const char *const paths[] = { "/containers/json?all=1&filters=", "/networks?filters=",
					     "/images/json?filters=", "/volumes?filters=" };
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf path = DC_BUF_INIT, filt = DC_BUF_INIT;
	json_t *doc = NULL, *arr, *item, *f = NULL;
	json_error_t jerr;
	char **out = NULL;
	size_t i, count = 0;
	int err = 0;

	*ids = NULL;
	if (n)
		*n = 0;
	if (kind < DC_ENGINE_CONTAINERS || kind > DC_ENGINE_VOLUMES)
		return dc_error_set(DC_EUSAGE, "unknown object kind %d", kind);
	if (!(f = json_pack("{s:[s]}", "label", label)) ||
	    json_dump_callback(f, dump_cb, &filt, JSON_COMPACT) < 0)
		goto oom;
	dc_buf_puts(&path, paths[kind]);
	put_q(&path, filt.ptr);
	if (dc_buf_failed(&path))
		goto oom;
	{
		call_opts o = { .method = "GET", .path = path.ptr, .max_reply = 64 << 20 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200) {
		err = fail(&r, "list objects labelled '%s'", label);
		goto done;
	}
	if (!(doc = json_loadb(r.body.ptr, r.body.len, 0, &jerr))) {
		err = dc_error_set(DC_ERR, "the Docker engine sent a list that is not JSON");
		goto done;
	}
	arr = kind == DC_ENGINE_VOLUMES ? json_object_get(doc, "Volumes") : doc;
	if (!(out = calloc(json_array_size(arr) + 1, sizeof(*out))))
		goto oom;
	json_array_foreach(arr, i, item) {
		const char *s = dc_json_str(item, kind == DC_ENGINE_VOLUMES ? "Name" : "Id");

		if (s && !(out[count++] = strdup(s)))
			goto oom;
	}
	*ids = out;
	out = NULL;
	if (n)
		*n = count;
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_engine_list_free(out);
	json_decref(doc);
	json_decref(f);
	dc_buf_release(&path);
	dc_buf_release(&filt);
	dc_hclient_resp_release(&r);
	return err;
}

/* ---- the multiplexed stream ---- */

#define LINE_MAX_BYTES (64 * 1024)

void dc_engine_demux_init(dc_engine_demux *d, int raw, dc_engine_line_fn on_line, void *ctx)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->raw = raw;
	d->on_line = on_line;
	d->ctx = ctx;
	for (i = 0; i < 3; i++)
		dc_buf_init(&d->line[i], 0, 0);
}

/* Append bytes of `stream` and deliver the complete lines. */
static int put_lines(dc_engine_demux *d, int stream, const char *p, size_t n)
{
	dc_buf *b = &d->line[stream];
	const char *nl;

	while (n) {
		size_t k, room = LINE_MAX_BYTES - b->len;

		nl = memchr(p, '\n', n);
		k = nl ? (size_t)(nl - p) : n;
		if (k > room) { /* a very long line goes out in pieces */
			if (dc_buf_put(b, p, room) < 0)
				return dc_error_set(DC_ERR, "out of memory");
			d->on_line(d->ctx, stream, b->ptr, b->len);
			dc_buf_reset(b);
			p += room;
			n -= room;
			continue;
		}
		if (dc_buf_put(b, p, k) < 0)
			return dc_error_set(DC_ERR, "out of memory");
		if (!nl)
			break;
		if (b->len && b->ptr[b->len - 1] == '\r')
			b->len--, b->ptr[b->len] = '\0';
		d->on_line(d->ctx, stream, b->ptr, b->len);
		dc_buf_reset(b);
		p += k + 1;
		n -= k + 1;
	}
	return 0;
}

int dc_engine_demux_feed(dc_engine_demux *d, const char *data, size_t n)
{
	int err;

	if (d->raw)
		return put_lines(d, DC_ENGINE_STDOUT, data, n);
	while (n) {
		if (d->frame_left == 0) {
			size_t take = 8 - d->hdr_len < n ? 8 - d->hdr_len : n;

			memcpy(d->hdr + d->hdr_len, data, take);
			d->hdr_len += take;
			data += take;
			n -= take;
			if (d->hdr_len < 8)
				break;
			d->hdr_len = 0;
			if (d->hdr[0] > 2 || d->hdr[1] || d->hdr[2] || d->hdr[3])
				return dc_error_set(DC_ERR, "the Docker engine sent a malformed output stream (frame header %02x %02x %02x %02x)",
						    d->hdr[0], d->hdr[1], d->hdr[2], d->hdr[3]);
			/* stdin (0) never comes back from logs; treat it as stdout */
			d->frame_stream = d->hdr[0] == 2 ? DC_ENGINE_STDERR : DC_ENGINE_STDOUT;
			d->frame_left = (size_t)d->hdr[4] << 24 | (size_t)d->hdr[5] << 16 | (size_t)d->hdr[6] << 8 |
					d->hdr[7];
			continue;
		}
		{
			size_t take = d->frame_left < n ? d->frame_left : n;

			if ((err = put_lines(d, d->frame_stream, data, take)) < 0)
				return err;
			d->frame_left -= take;
			data += take;
			n -= take;
		}
	}
	return 0;
}

void dc_engine_demux_flush(dc_engine_demux *d)
{
	int i;

	for (i = 1; i < 3; i++)
		if (d->line[i].len) {
			d->on_line(d->ctx, i, d->line[i].ptr, d->line[i].len);
			dc_buf_reset(&d->line[i]);
		}
}

void dc_engine_demux_release(dc_engine_demux *d)
{
	int i;

	for (i = 0; i < 3; i++)
		dc_buf_release(&d->line[i]);
}

/* ---- build contexts and archives (libarchive) ---- */

typedef struct {
	struct archive *a;
	const dc_dockerignore *di;
	const char *root;
	dc_buf abs;   /* root/rel of the entry at hand */
	dc_buf rel;
	char *io;     /* copy buffer */
	size_t files;
} tarwalk;

static int tar_error(tarwalk *t, const char *what)
{
	return dc_error_set(DC_ERR, "cannot write the build context (%s '%s'): %s", what, t->rel.ptr,
			    archive_error_string(t->a) ? archive_error_string(t->a) : "unknown error");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tar_entry(tarwalk *t, const struct stat *st, const char *link)
{
	struct archive_entry *en = archive_entry_new();
	int err = 0;

	if (!en)
		return dc_error_set(DC_ERR, "out of memory");
	archive_entry_copy_stat(en, st);
	archive_entry_set_pathname(en, t->rel.ptr);
	/* owned by root in the image, as the docker CLI sends contexts */
	archive_entry_set_uid(en, 0);
	archive_entry_set_gid(en, 0);
	archive_entry_set_uname(en, "");
	archive_entry_set_gname(en, "");
	archive_entry_set_nlink(en, 1);
	if (link)
		archive_entry_set_symlink(en, link);
	if (!S_ISREG(st->st_mode))
		archive_entry_set_size(en, 0);
	if (archive_write_header(t->a, en) != ARCHIVE_OK)
		err = tar_error(t, "header of");
	archive_entry_free(en);
	return err;
}

static int tar_file(tarwalk *t, const struct stat *st)
{
	int fd, err = 0;
	ssize_t n;
	off_t left = st->st_size;

	if ((fd = open(t->abs.ptr, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return dc_error_set(DC_EUSAGE, "cannot read '%s' of the build context: %s", t->abs.ptr, strerror(errno));
	if ((err = tar_entry(t, st, NULL)) < 0)
		goto done;
	while (left > 0 && (n = read(fd, t->io, 64 * 1024)) > 0) {
		if (n > left)
			n = (ssize_t)left;
		if (archive_write_data(t->a, t->io, (size_t)n) != n) {
			err = tar_error(t, "data of");
			goto done;
		}
		left -= n;
	}
	if (left > 0)
		err = dc_error_set(DC_ERR, "cannot read '%s' of the build context: it shrank or failed while read",
				   t->abs.ptr);
	t->files++;
done:
	close(fd);
	return err;
}

/* Add the entries of directory rel (root itself when rel is ""). */
static int tar_dir(tarwalk *t)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i, abs_len = t->abs.len, rel_len = t->rel.len;
	int err = 0;

	if (!(d = opendir(t->abs.ptr)))
		return dc_error_set(DC_EUSAGE, "cannot read directory '%s' of the build context: %s", t->abs.ptr,
				    strerror(errno));
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **p = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*names));

			if (!p)
				goto oom;
			names = p;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto oom;
		n++;
	}
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n && err == 0; i++) {
		struct stat st;
		int excluded;

		t->abs.len = abs_len;
		t->abs.ptr[abs_len] = '\0';
		t->rel.len = rel_len;
		t->rel.ptr[rel_len] = '\0';
		dc_buf_printf(&t->abs, "/%s", names[i]);
		dc_buf_printf(&t->rel, "%s%s", rel_len ? "/" : "", names[i]);
		if (dc_buf_failed(&t->abs) || dc_buf_failed(&t->rel))
			goto oom;
		if (lstat(t->abs.ptr, &st) < 0) {
			err = dc_error_set(DC_EUSAGE, "cannot read '%s' of the build context: %s", t->abs.ptr,
					   strerror(errno));
			break;
		}
		excluded = dc_dockerignore_excluded(t->di, t->rel.ptr);
		if (S_ISDIR(st.st_mode)) {
			if (excluded && !dc_dockerignore_walk_excluded_dir(t->di, t->rel.ptr))
				continue;
			if (!excluded && (err = tar_entry(t, &st, NULL)) < 0)
				break;
			err = tar_dir(t);
		} else if (excluded) {
			continue;
		} else if (S_ISREG(st.st_mode)) {
			err = tar_file(t, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t k = readlink(t->abs.ptr, target, sizeof(target) - 1);

			if (k < 0) {
				err = dc_error_set(DC_EUSAGE, "cannot read link '%s' of the build context: %s",
						   t->abs.ptr, strerror(errno));
				break;
			}
			target[k] = '\0';
			err = tar_entry(t, &st, target);
		}
		/* sockets, fifos and devices are not sent (the docker CLI skips
		 * sockets; the others make no sense in a context) */
	}
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

/* An unnamed temporary file: gone when closed, whatever happens. */
static int temp_fd(void)
{
	const char *dir = getenv("TMPDIR");
	dc_buf path = DC_BUF_INIT;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	if (dc_buf_printf(&path, "%s/dcgen-context-XXXXXX", dir) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	if ((fd = mkostemp(path.ptr, O_CLOEXEC)) >= 0)
		unlink(path.ptr);
	else
		dc_error_set(DC_ERR, "cannot create a temporary file in '%s': %s; set TMPDIR", dir, strerror(errno));
	dc_buf_release(&path);
	return fd < 0 ? DC_ERR : fd;
}

/* Write the context of b into the temporary file fd as a tar. */
static int make_context(int fd, const dc_engine_build *b, const char *dockerfile)
{
	dc_dockerignore di = DC_DOCKERIGNORE_INIT;
	tarwalk t = { 0 };
	struct stat st;
	int err;

	t.abs = (dc_buf)DC_BUF_INIT;
	t.rel = (dc_buf)DC_BUF_INIT;
	if (stat(b->context_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return dc_error_set(DC_EUSAGE, "the build context '%s' is not a directory; check the service's build context",
				    b->context_dir);
	dc_buf_printf(&t.abs, "%s/%s", b->context_dir, dockerfile);
	if (dc_buf_failed(&t.abs))
		return dc_error_set(DC_ERR, "out of memory");
	if (stat(t.abs.ptr, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = dc_error_set(DC_EUSAGE, "no Dockerfile '%s' in the build context '%s'; check the service's dockerfile",
				   dockerfile, b->context_dir);
		goto done;
	}
	if ((err = dc_dockerignore_load(&di, b->context_dir)) < 0 ||
	    (err = dc_dockerignore_keep(&di, dockerfile)) < 0 || (err = dc_dockerignore_keep(&di, ".dockerignore")) < 0)
		goto done;
	if (!(t.a = archive_write_new()) || !(t.io = malloc(64 * 1024))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	t.di = &di;
	t.root = b->context_dir;
	dc_buf_reset(&t.abs);
	dc_buf_puts(&t.abs, b->context_dir);
	while (t.abs.len > 1 && t.abs.ptr[t.abs.len - 1] == '/')
		t.abs.ptr[--t.abs.len] = '\0';
	if (archive_write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(t.a) != ARCHIVE_OK || archive_write_open_fd(t.a, fd) != ARCHIVE_OK) {
		err = tar_error(&t, "start of");
		goto done;
	}
	if ((err = tar_dir(&t)) < 0)
		goto done;
	if (archive_write_close(t.a) != ARCHIVE_OK)
		err = tar_error(&t, "end of");
done:
	if (t.a)
		archive_write_free(t.a);
	free(t.io);
	dc_buf_release(&t.abs);
	dc_buf_release(&t.rel);
	dc_dockerignore_release(&di);
	return err;
}

static size_t read_fd(char *buf, size_t n, void *ctx)
{
	int fd = *(int *)ctx;
	ssize_t k;

	do
		k = read(fd, buf, n);
	while (k < 0 && errno == EINTR);
	if (k < 0) {
		dc_error_set(DC_ERR, "cannot read the build context's temporary file: %s", strerror(errno));
		return DC_HCLIENT_ABORT;
	}
	return (size_t)k;
}

static json_t *kv_object(const char *const *list)
{
	return label_object(list); /* "K=v" pairs, same shape */
}

static int put_json_q(dc_buf *path, const char *name, json_t *obj)
{
	dc_buf js = DC_BUF_INIT;
	int err = 0;

	if (!obj || json_dump_callback(obj, dump_cb, &js, JSON_COMPACT) < 0)
		err = dc_error_set(DC_ERR, "out of memory");
	else {
		dc_buf_printf(path, "&%s=", name);
		put_q(path, js.ptr);
	}
	json_decref(obj);
	dc_buf_release(&js);
	return err;
}

int dc_engine_image_build(char **image_id, dc_engine *e, const dc_engine_build *b, dc_engine_line_fn on_line,
			  void *ctx)
{
	const char *dockerfile = b->dockerfile && *b->dockerfile ? b->dockerfile : "Dockerfile";
	const char *const *t;
	dc_buf path = DC_BUF_INIT, h = DC_BUF_INIT, what = DC_BUF_INIT;
	const char *hdrs[3] = { "Content-Type: application/x-tar", NULL, NULL };
	char *id = NULL;
	int fd = -1, err;

	if (image_id)
		*image_id = NULL;
	while (!strncmp(dockerfile, "./", 2))
		dockerfile += 2;
	for (t = b->tags; t && *t; t++)
		if ((err = check_ref(*t, "image name")) < 0)
			return err;
	if ((fd = temp_fd()) < 0)
		return fd;
	if ((err = make_context(fd, b, dockerfile)) < 0)
		goto done;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		err = dc_error_set(DC_ERR, "cannot rewind the build context's temporary file: %s", strerror(errno));
		goto done;
	}
	dc_buf_puts(&path, "/build?rm=1&forcerm=1&dockerfile=");
	put_q(&path, dockerfile);
	for (t = b->tags; t && *t; t++) {
		dc_buf_puts(&path, "&t=");
		put_q(&path, *t);
	}
	if (b->pull)
		dc_buf_puts(&path, "&pull=1");
	if (b->no_cache)
		dc_buf_puts(&path, "&nocache=1");
	if ((b->build_args && (err = put_json_q(&path, "buildargs", kv_object(b->build_args))) < 0) ||
	    (b->labels && (err = put_json_q(&path, "labels", label_object(b->labels))) < 0))
		goto done;
	if (b->registry_config && *b->registry_config) {
		dc_buf_init(&h, 0, DC_BUF_SECRET);
		dc_buf_printf(&h, "X-Registry-Config: %s", b->registry_config);
		hdrs[1] = h.ptr;
	}
	dc_buf_printf(&what, "build the image of '%s'%s%s", b->context_dir, b->tags && *b->tags ? " as " : "",
		      b->tags && *b->tags ? *b->tags : "");
	if (dc_buf_failed(&path) || dc_buf_failed(&h) || dc_buf_failed(&what)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	{
		call_opts o = { .method = "POST", .path = path.ptr, .headers = hdrs, .read = read_fd, .read_ctx = &fd };

		if ((err = progress_call(e, &o, on_line, ctx, &id, what.ptr)) < 0)
			goto done;
	}
	if (image_id) {
		*image_id = id;
		id = NULL;
	}
done:
	if (fd >= 0)
		close(fd);
	free(id);
	dc_buf_release(&path);
	dc_buf_release(&h);
	dc_buf_release(&what);
	return err;
}

int dc_engine_container_read_file(dc_buf *out, dc_engine *e, const char *id, const char *path, size_t max)
{
	dc_hclient_resp r = DC_HCLIENT_RESP_INIT;
	dc_buf p = DC_BUF_INIT;
	struct archive *a = NULL;
	struct archive_entry *en;
	la_ssize_t n;
	int err;

	if ((err = check_ref(id, "container")) < 0)
		return err;
	if (!path || path[0] != '/')
		return dc_error_set(DC_EUSAGE, "cannot read '%s' from container '%s': the path must be absolute",
				    path ? path : "", id);
	dc_buf_printf(&p, "/containers/%s/archive?path=", id);
	put_q(&p, path);
	if (dc_buf_failed(&p))
		return dc_error_set(DC_ERR, "out of memory");
	{
		/* the tar adds a header and padding to the file */
		call_opts o = { .method = "GET", .path = p.ptr, .max_reply = max + 64 * 1024 };

		if ((err = call(e, &o, &r)) < 0)
			goto done;
	}
	if (r.status != 200) {
		err = fail(&r, "read '%s' from container '%s'", path, id);
		goto done;
	}
	if (!(a = archive_read_new())) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, r.body.ptr, r.body.len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &en) != ARCHIVE_OK) {
		err = dc_error_set(DC_ERR, "the Docker engine sent an archive of '%s' that cannot be read: %s", path,
				   archive_error_string(a) ? archive_error_string(a) : "not a tar");
		goto done;
	}
	if (archive_entry_filetype(en) != AE_IFREG) {
		err = dc_error_set(DC_ERR, "'%s' in container '%s' is not a regular file", path, id);
		goto done;
	}
	if (archive_entry_size(en) < 0 || (size_t)archive_entry_size(en) > max) {
		err = dc_error_set(DC_ERR, "'%s' in container '%s' is larger than %zu bytes", path, id, max);
		goto done;
	}
	{
		char *dst = dc_buf_extend(out, (size_t)archive_entry_size(en), '\0');
		size_t got = 0, want = (size_t)archive_entry_size(en);

		if (!dst) {
			err = dc_error_set(DC_ERR, "out of memory");
			goto done;
		}
		while (got < want && (n = archive_read_data(a, dst + got, want - got)) > 0)
			got += (size_t)n;
		if (got != want) {
			err = dc_error_set(DC_ERR, "the Docker engine sent a truncated archive of '%s'", path);
			goto done;
		}
	}
done:
	if (a)
		archive_read_free(a);
	dc_buf_release(&p);
	dc_hclient_resp_release(&r);
	return err;
}
