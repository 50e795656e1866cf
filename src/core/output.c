/* output.c -- see output.h. */
#include "core/output.h"

#include <jansson.h>
#include <string.h>

#include "util/codec.h"
#include "util/json.h"

int dc_format_parse(enum dc_format *out, const char *name, const char *origin)
{
	if (!strcmp(name, "config") || !strcmp(name, "config.json")) {
		*out = DC_FORMAT_CONFIG;
		return 0;
	}
	if (!strcmp(name, "dockercfg") || !strcmp(name, ".dockercfg")) {
		*out = DC_FORMAT_DOCKERCFG;
		return 0;
	}
	return dc_error_set(DC_EUSAGE, "%s is '%s'; use 'config' or 'dockercfg'", origin, name);
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

int dc_output_render(dc_buf *out, const dc_cred_list *l, enum dc_format fmt)
{
	json_t *hosts = json_object(), *doc = NULL;
	size_t i;
	int err = DC_ERR;

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
	err = dc_json_dump(out, doc);
done:
	json_decref(hosts);
	json_decref(doc);
	return err < 0 ? dc_error_set(DC_ERR, "out of memory rendering the credentials") : 0;
}
