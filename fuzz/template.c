/* template.c -- the runner's small parsers of file values: the Go-template
 * subset of image_tag and build args (dc_template_render, then
 * dc_template_tag), a command line split into words (dc_model_split) and a
 * step's tag pattern (dc_tags_match). The first byte chooses. */
#include "runner/model.h"
#include "runner/tags.h"
#include "runner/template.h"
#include "fuzz.h"

static const dc_template_data data_ = {
	.project_id = "1234", .build_id = "b-1", .repo_name = "org/app", .branch = "feature/x",
	.commit_id = "0123456789abcdef0123456789abcdef01234567", .commit_message = "fix: a \"quoted\" %s",
	.commit_description = "", .committer_name = "A B", .committer_email = "a@example.com",
	.committer_username = "ab", .timestamp = 1795000000, .step_name = "tests", .service_name = "app",
	.image_name = "org/app",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dc_buf out = DC_BUF_INIT;
	dc_strv words = { 0 };
	char *s, *nl;
	int hit;

	if (size < 1 || !(s = fuzz_cstr(data + 1, size - 1)))
		return 0;
	switch (data[0] % 3) {
	case 0:
		if (dc_template_render(&out, s, &data_) == 0)
			dc_template_tag(&out);
		break;
	case 1:
		(void)!dc_model_split(&words, s, "command");
		dc_strv_release(&words);
		break;
	default: /* "pattern\ntag" */
		if ((nl = strchr(s, '\n'))) {
			*nl = '\0';
			(void)!dc_tags_match(&hit, s, nl + 1);
		}
		break;
	}
	dc_buf_release(&out);
	free(s);
	dc_error_clear();
	return 0;
}
