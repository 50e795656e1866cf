/* tags.c -- tag/exclude matching (see tags.h). */
#include "runner/tags.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* a tag pattern is a line of a steps file: longer is a mistake, and costs
 * regcomp time */
#define MAX_PATTERN 512

/* RE2 shorthands POSIX ERE lacks; inside brackets \d becomes 0-9 etc. */
static int translate(dc_buf *out, const char *re)
{
	int inbr = 0;

	for (; *re; re++) {
		if (*re == '\\' && re[1]) {
			const char *cls = NULL, *inner = NULL;
			switch (re[1]) {
			case 'd': cls = "[0-9]"; inner = "0-9"; break;
			case 'w': cls = "[A-Za-z0-9_]"; inner = "A-Za-z0-9_"; break;
			case 's': cls = "[[:space:]]"; inner = "[:space:]"; break;
			case 'D': cls = "[^0-9]"; break;
			case 'W': cls = "[^A-Za-z0-9_]"; break;
			case 'S': cls = "[^[:space:]]"; break;
			default: break;
			}
			if (cls && (!inbr || inner)) {
				dc_buf_puts(out, inbr ? inner : cls);
				re++;
				continue;
			}
			dc_buf_put(out, re, 2);
			re++;
			continue;
		}
		if (*re == '[' && !inbr)
			inbr = 1;
		else if (*re == ']' && inbr)
			inbr = 0;
		if (!inbr && strchr("*+?", *re) && re[1] && strchr("*+?", re[1])) {
			/* a run of repetitions is one: (a+)+ is a+, (a?)? is a?,
			 * any other mix is a*. glibc's regcomp takes exponential
			 * time on long runs ("a****..."; found by fuzz/template.c) */
			char op = *re;
			for (; re[1] && strchr("*+?", re[1]); re++)
				if (re[1] != op)
					op = '*';
			dc_buf_putc(out, op);
			continue;
		}
		dc_buf_putc(out, *re);
	}
	return dc_buf_failed(out) ? dc_error_set(DC_ERR, "out of memory") : 0;
}

int dc_tags_match(int *hit, const char *pattern, const char *tag)
{
	dc_buf re = DC_BUF_INIT;
	regex_t rx;
	int err, rc;

	*hit = 0;
	if (!tag)
		tag = "";
	if (!strchr(pattern, '^') && !strchr(pattern, '$')) {
		*hit = !strcmp(pattern, tag);
		return 0;
	}
	if (strlen(pattern) > MAX_PATTERN) {
		err = dc_error_set(DC_EUSAGE, "tag pattern '%.40s...' is longer than %d characters; shorten it",
				   pattern, MAX_PATTERN);
		goto done;
	}
	if ((err = translate(&re, pattern)) < 0)
		goto done;
	if ((rc = regcomp(&rx, re.ptr, REG_EXTENDED | REG_NOSUB)) != 0) {
		char why[128];
		regerror(rc, &rx, why, sizeof(why));
		err = dc_error_set(DC_EUSAGE, "tag pattern '%s' is not a valid regular expression: %s", pattern,
				   why);
		goto done;
	}
	*hit = regexec(&rx, tag, 0, NULL, 0) == 0;
	regfree(&rx);
	err = 0;
done:
	dc_buf_release(&re);
	return err;
}

int dc_tags_selected(int *run, const char *tag, const char *exclude, const char *build_tag)
{
	int hit, err;

	*run = 1;
	if (exclude) {
		if ((err = dc_tags_match(&hit, exclude, build_tag)) < 0)
			return err;
		if (hit) {
			*run = 0;
			return 0;
		}
	}
	if (tag) {
		if (!build_tag || !*build_tag) {
			*run = 0;
			return 0;
		}
		if ((err = dc_tags_match(&hit, tag, build_tag)) < 0)
			return err;
		*run = hit;
	}
	return 0;
}
