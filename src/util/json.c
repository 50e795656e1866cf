/* json.c -- see json.h. */
#include "util/json.h"

#include <string.h>

int dc_json_parse_object(json_t **out, const char *data, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

	*out = NULL;
	/* where, not what: jansson's text quotes the reply near the error, and
	 * the reply may hold a token */
	if (!doc && json_error_code(&jerr) == json_error_out_of_memory)
		return dc_error_nomem(); /* not the reply's fault: no "check the endpoint" */
	if (!doc)
		return dc_error_set(DC_ERR, "%s sent a reply that is not JSON (error at byte %d); check the endpoint",
				    what, jerr.position);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return dc_error_set(DC_ERR, "%s sent JSON that is not an object; check the endpoint", what);
	}
	*out = doc;
	return 0;
}

const char *dc_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int dump_cb(const char *p, size_t n, void *ctx)
{
	return dc_buf_put(ctx, p, n) < 0 ? -1 : 0;
}

int dc_json_dump(dc_buf *out, const json_t *doc)
{
	if (json_dump_callback(doc, dump_cb, out, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ||
	    dc_buf_putc(out, '\n') < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}
