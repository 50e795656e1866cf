/* dockerignore.h -- Docker's .dockerignore rules, as the docker CLI applies
 * them to a build context (moby/patternmatcher).
 *
 *   dc_dockerignore di = DC_DOCKERIGNORE_INIT;
 *   err = dc_dockerignore_parse(&di, text, len);     or _load(&di, context_dir)
 *   dc_dockerignore_keep(&di, "Dockerfile");           always sent
 *   if (dc_dockerignore_excluded(&di, "src/a.c")) ...  1 excluded, 0 sent
 *   dc_dockerignore_release(&di);
 *
 * Rules: one pattern per line; leading and trailing white space trimmed;
 * '#' lines and empty lines ignored; '!' makes an exception (re-includes);
 * each pattern is cleaned like Go's filepath.Clean and a leading '/' dropped;
 * '*' matches any run of non-'/' characters, '?' one, '[...]' a class,
 * '\' escapes, '**' any number of directories (zero included). A path is
 * excluded when the last pattern that matches it, or one of its parent
 * directories (as many leading components as the pattern has), is not an
 * exception. Paths are relative to the context, '/'-separated, no "./".
 */
#ifndef DC_DOCKERIGNORE_H
#define DC_DOCKERIGNORE_H

#include <stddef.h>

#include "util/error.h"

typedef struct dc_dockerignore_rule dc_dockerignore_rule;

typedef struct {
	dc_dockerignore_rule *rules;
	size_t n;
	int has_exceptions;
} dc_dockerignore;

#define DC_DOCKERIGNORE_INIT { NULL, 0, 0 }

/* DC_EUSAGE (naming the line) for a pattern that cannot compile ("[a-"). */
int dc_dockerignore_parse(dc_dockerignore *di, const char *text, size_t len) DC_MUST_USE;
/* Read `dir`/.dockerignore if present (absent: no rules). */
int dc_dockerignore_load(dc_dockerignore *di, const char *dir) DC_MUST_USE;
/* Append an exception for `path` (the Dockerfile, .dockerignore). */
int dc_dockerignore_keep(dc_dockerignore *di, const char *path) DC_MUST_USE;
int dc_dockerignore_excluded(const dc_dockerignore *di, const char *path);
/* 1 when a directory that is itself excluded must still be walked, because
 * an exception might re-include something under it. */
int dc_dockerignore_walk_excluded_dir(const dc_dockerignore *di, const char *dir);
void dc_dockerignore_release(dc_dockerignore *di);

#endif
