/* command.h -- running a credential program (AWS credential_process, a Google
 * executable-sourced subject token) and taking its standard output.
 *
 *   dc_buf out; dc_buf_init(&out, 0, DC_BUF_SECRET);
 *   err = dc_command_run(&out, ctx, "/usr/bin/helper --profile 'a b'", NULL,
 *                        30000, "credential_process of profile 'dev'");
 *
 * The command line is split as a POSIX shell splits words (single quotes,
 * double quotes with \" \\ \$ \` escapes, backslash outside quotes), with no
 * shell: no variables, globs or pipes (botocore's compat_shell_split). The
 * program is looked up in PATH, gets our environment plus `extra_env`
 * ("NAME=value" list, NULL-terminated, may be NULL), no standard input, and
 * must exit 0 within `timeout_ms` with at most 64 KiB on standard output;
 * else it is killed and DC_ERR names `what` and the last line of its standard
 * error (clipped, redacted). A command line that does not split (an open
 * quote) or a program that cannot be started is DC_EUSAGE.
 */
#ifndef DC_COMMAND_H
#define DC_COMMAND_H

#include "util/buf.h"
#include "util/ctx.h"

enum { DC_COMMAND_MAX_OUTPUT = 64 * 1024 };

/* Split `line` into words: *argv is a NULL-terminated array whose strings
 * live in the same allocation (free(*argv) frees all). DC_EUSAGE when a
 * quote is not closed or there is no word. */
int dc_command_split(char ***argv, const char *line) DC_MUST_USE;
int dc_command_run(dc_buf *out, dc_ctx *ctx, const char *line, char *const *extra_env, long timeout_ms,
		   const char *what) DC_MUST_USE;

#endif
