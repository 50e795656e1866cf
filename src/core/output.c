/* output.c -- see output.h. */
#include "core/output.h"

#include <jansson.h>
#include <string.h>

#include "util/codec.h"
#include "util/json.h"

int dc_format_parse(enum dc_format *out, const char *name, const char *origin)
{
	if (!strcmp(name, "k8s-secret")) {
		*out = DC_FORMAT_K8S_SECRET;
		return 0;
	}
	if (!strcmp(name, "env")) {
		*out = DC_FORMAT_ENV;
		return 0;
	}
	if (!strcmp(name, "config") || !strcmp(name, "config.json")) {
		*out = DC_FORMAT_CONFIG;
		return 0;
	}
	if (!strcmp(name, "dockercfg") || !strcmp(name, ".dockercfg")) {
		*out = DC_FORMAT_DOCKERCFG;
		return 0;
	}
	return dc_error_set(DC_EUSAGE, "%s is '%s'; use 'config', 'dockercfg', 'k8s-secret' or 'env'", origin, name);
}

const char *dc_format_name(enum dc_format fmt)
{
	switch (fmt) {
	case DC_FORMAT_DOCKERCFG: return "dockercfg";
	case DC_FORMAT_K8S_SECRET: return "k8s-secret";
	case DC_FORMAT_ENV: return "env";
	default: return "config";
	}
}

/* RFC 1123 labels of lower-case letters, digits and '-', as Kubernetes
 * checks object names (subdomain: dot-separated, at most 253) and
 * namespaces (one label, at most 63). */
static int dns1123(const char *s, int subdomain)
{
	size_t n = strlen(s), i, label = 0;

	if (!n || n > (subdomain ? 253u : 63u))
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '.' && subdomain) {
			if (!label || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && !label)
			return 0;
		if (++label > 63)
			return 0;
	}
	return s[n - 1] != '-' && s[n - 1] != '.';
}

int dc_output_check_opts(const dc_output_opts *o, enum dc_format fmt)
{
	if (!o)
		return 0;
	if (fmt != DC_FORMAT_K8S_SECRET && (o->secret_name || o->namespace_))
		return dc_error_set(DC_EUSAGE, "--secret-name and --namespace go with --format k8s-secret; add it or drop them");
	if (o->secret_name && !dns1123(o->secret_name, 1))
		return dc_error_set(DC_EUSAGE, "--secret-name is '%s', not a Kubernetes object name; use lower-case letters, digits, '-' and '.', e.g. regcred",
				    o->secret_name);
	if (o->namespace_ && !dns1123(o->namespace_, 0))
		return dc_error_set(DC_EUSAGE, "--namespace is '%s', not a Kubernetes namespace; use at most 63 lower-case letters, digits and '-'",
				    o->namespace_);
	return 0;
}

static json_t *entry(const dc_cred *c, enum dc_format fmt)
{
	dc_buf plain = DC_BUF_INIT, b64 = DC_BUF_INIT;
	json_t *e = NULL;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	dc_buf_init(&b64, 0, DC_BUF_SECRET);
	/* puts, not printf: a 2 KB token through vsnprintf twice showed in profiles */
	if (dc_buf_puts(&plain, c->username) < 0 || dc_buf_putc(&plain, ':') < 0 ||
	    dc_buf_puts(&plain, c->secret) < 0 ||
	    dc_base64_encode(&b64, plain.ptr, plain.len) < 0)
		goto done;
	if (fmt == DC_FORMAT_DOCKERCFG)
		e = json_pack("{s:s, s:s}", "auth", b64.ptr, "email", "");
	else
		e = json_pack("{s:s}", "auth", b64.ptr);
done:
	dc_buf_release(&plain);
	dc_buf_release(&b64);
	return e;
}

static int dump_cb(const char *p, size_t n, void *b)
{
	return dc_buf_put(b, p, n) < 0 ? -1 : 0;
}

/* The Secret as plain text: every value that is not fixed is double-quoted,
 * and is checked to need no escape (a DNS-1123 name, base64). */
static int k8s_secret(dc_buf *out, const json_t *doc, const dc_output_opts *o)
{
	dc_buf json = DC_BUF_INIT, b64 = DC_BUF_INIT;
	int err = DC_ERR;

	dc_buf_init(&json, 0, DC_BUF_SECRET);
	dc_buf_init(&b64, 0, DC_BUF_SECRET);
	if (json_dump_callback(doc, dump_cb, &json, JSON_COMPACT | JSON_SORT_KEYS) < 0 ||
	    dc_base64_encode(&b64, json.ptr, json.len) < 0)
		goto done;
	dc_buf_puts(out, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"");
	dc_buf_puts(out, o && o->secret_name ? o->secret_name : DC_OUTPUT_SECRET_NAME);
	dc_buf_puts(out, "\"\n");
	if (o && o->namespace_)
		dc_buf_printf(out, "  namespace: \"%s\"\n", o->namespace_);
	dc_buf_puts(out, "  labels:\n    app.kubernetes.io/managed-by: \"dcgen\"\n"
			 "type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: \"");
	dc_buf_put(out, b64.ptr, b64.len);
	dc_buf_puts(out, "\"\n");
	err = dc_buf_failed(out) ? DC_ERR : 0;
done:
	dc_buf_release(&json);
	dc_buf_release(&b64);
	return err;
}

/* DOCKER_AUTH_CONFIG='...': compact JSON in single quotes; a quote inside
 * (none can occur: hosts are host[:port], auth is base64) would close and
 * reopen the quoting as a shell does ('\''). */
static int env_line(dc_buf *out, const json_t *doc)
{
	dc_buf json = DC_BUF_INIT;
	size_t i;
	int err = DC_ERR;

	dc_buf_init(&json, 0, DC_BUF_SECRET);
	if (json_dump_callback(doc, dump_cb, &json, JSON_COMPACT | JSON_SORT_KEYS) < 0)
		goto done;
	dc_buf_puts(out, "DOCKER_AUTH_CONFIG='");
	for (i = 0; i < json.len; i++) {
		if (json.ptr[i] == '\'')
			dc_buf_puts(out, "'\\''");
		else
			dc_buf_putc(out, json.ptr[i]);
	}
	dc_buf_puts(out, "'\n");
	err = dc_buf_failed(out) ? DC_ERR : 0;
done:
	dc_buf_release(&json);
	return err;
}

int dc_output_render(dc_buf *out, const dc_cred_list *l, enum dc_format fmt)
{
	return dc_output_render_with(out, l, fmt, NULL);
}

int dc_output_render_with(dc_buf *out, const dc_cred_list *l, enum dc_format fmt, const dc_output_opts *o)
{
	json_t *hosts = json_object(), *doc = NULL;
	size_t i;
	int err = DC_ERR;

	if ((err = dc_output_check_opts(o, fmt)) < 0) {
		json_decref(hosts);
		return err;
	}
	err = DC_ERR;
	if (!hosts)
		goto done;
	for (i = 0; i < l->n; i++) {
		json_t *e = entry(&l->items[i], fmt);

		if (!e || json_object_set_new(hosts, l->items[i].host, e) < 0)
			goto done;
	}
	if (fmt == DC_FORMAT_DOCKERCFG) {
		doc = hosts;
		hosts = NULL;
	} else if (!(doc = json_pack("{s:o}", "auths", hosts))) {
		hosts = NULL; /* json_pack's "o" steals even on failure */
		goto done;
	} else {
		hosts = NULL;
	}
	if (fmt == DC_FORMAT_K8S_SECRET)
		err = k8s_secret(out, doc, o);
	else if (fmt == DC_FORMAT_ENV)
		err = env_line(out, doc);
	else
		err = dc_json_dump(out, doc);
done:
	json_decref(hosts);
	json_decref(doc);
	return err < 0 ? dc_error_set(DC_ERR, "out of memory rendering the credentials") : 0;
}
