/* tags.h -- `tag` and `exclude` matching as CodeShip documented it (STEPS):
 * a value without '^' or '$' is compared to the whole build tag as a plain
 * string; one with either is a regular expression, matched unanchored (so
 * "^(master|staging)" also matches "master-rebase"). RE2's \d \w \s are
 * translated for POSIX extended regexes (regcomp).
 *
 *   dc_tags_match(&hit, "^release/", "release/1.2")     hit = 1
 *   dc_tags_selected(&run, tag, exclude, build_tag)     exclude wins over tag
 *
 * DC_EUSAGE for a pattern regcomp refuses (the message names it).
 */
#ifndef DC_RUNNER_TAGS_H
#define DC_RUNNER_TAGS_H

#include "util/error.h"

int dc_tags_match(int *hit, const char *pattern, const char *tag) DC_MUST_USE;

/* Whether a step with `tag` / `exclude` (either NULL) runs for `build_tag`
 * (NULL or "" when no --tag: steps with a `tag` are then skipped). */
int dc_tags_selected(int *run, const char *tag, const char *exclude, const char *build_tag) DC_MUST_USE;

#endif
