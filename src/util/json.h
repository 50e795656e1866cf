/* json.h -- small helpers over jansson for replies and output.
 *
 * Parsed documents are owned by the caller (json_decref). Install
 * dc_secret_install_json_allocator() first so freed token strings are wiped.
 */
#ifndef DC_JSON_H
#define DC_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/error.h"

/* Parse a reply body that must be a JSON object. DC_ERR names `what` and
 * the byte where parsing stopped, never the reply's text. */
int dc_json_parse_object(json_t **out, const char *data, size_t len, const char *what) DC_MUST_USE;
/* The string member `key` of `obj`, or NULL if absent or not a string. Borrowed. */
const char *dc_json_str(const json_t *obj, const char *key);
/* Serialise `doc` (indented, keys sorted) into `out`, with a final newline. */
int dc_json_dump(dc_buf *out, const json_t *doc) DC_MUST_USE;

#endif
