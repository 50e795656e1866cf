/* template.h -- the Go text/template subset CodeShip files use, for
 * `image_tag` and build `args`.
 *
 *   dc_template_data d = { .branch = "main", .commit_id = "abc..", ... };
 *   err = dc_template_render(&out, "{{ .Branch }}-{{printf \"%.8s\" .CommitID}}", &d);
 *   dc_template_tag(&out) then keeps only what a Docker tag may hold.
 *
 * Supported: text, {{ .Field }}, string and number literals, `printf FMT
 * ARGS...` (verbs %s %v %d %q %x %%, with flags, width and precision),
 * pipelines (`.CommitID | printf "%.8s"`: the value goes last), and the
 * {{- -}} trim markers. Fields are those of CODESHIP.md 2.4; an unknown one
 * is DC_EUSAGE naming it. Empty fields render empty, as Go's do.
 */
#ifndef DC_RUNNER_TEMPLATE_H
#define DC_RUNNER_TEMPLATE_H

#include "util/buf.h"

typedef struct {
	const char *project_id, *build_id, *repo_name, *branch, *commit_id, *commit_message,
		*commit_description, *committer_name, *committer_email, *committer_username;
	long long timestamp; /* unix seconds: Time, Timestamp and StringTime derive from it */
	const char *step_name, *service_name, *image_name;
} dc_template_data;

int dc_template_render(dc_buf *out, const char *tmpl, const dc_template_data *d) DC_MUST_USE;

/* Make `b` a valid tag in place: keep [A-Za-z0-9_.-], drop leading '.' and
 * '-', cut at 128 characters. */
void dc_template_tag(dc_buf *b);

#endif
