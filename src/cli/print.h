/* print.h -- how every dcgen command talks to the terminal: one line per
 * message on stderr, "dcgen: " and a prefix first, and the one place where
 * an error code becomes an exit status.
 *
 *   dc_log log = { dc_cli_sink, DC_LOG_INFO, redactor };   library messages
 *   return dc_cli_fail(redactor, err);                      the last error
 *   return dc_cli_usage_error("unknown option", arg, "dcgen --help");
 */
#ifndef DC_CLI_PRINT_H
#define DC_CLI_PRINT_H

#include "util/log.h"

enum { DC_EXIT_OK = 0, DC_EXIT_RUNTIME = 1, DC_EXIT_USAGE = 2 };

/* One line: a value quoted in `text` (a variable, a path) may hold a newline
 * or a terminal escape; those are shown as \n or \xNN, and a very long line
 * is cut (after redaction, which the callers do). */
void dc_cli_say(const char *prefix, const char *text);
/* A dc_log_sink: "error: ", "warning: ", "" or "debug: " before the line. */
void dc_cli_sink(enum dc_log_level level, const char *line);
/* Print the current error, redacted with `r` (may be NULL), and return the
 * exit status its code means: 2 for DC_EUSAGE, else 1. */
int dc_cli_fail(dc_redactor *r, int err);
/* "WHAT 'ARG'; see 'HELP'" as an error line; returns 2. `arg` may be NULL. */
int dc_cli_usage_error(const char *what, const char *arg, const char *help);

#endif
