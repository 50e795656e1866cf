/* print.c -- see print.h. */
#include "cli/print.h"

#include <stdio.h>

#include "util/buf.h"

void dc_cli_say(const char *prefix, const char *text)
{
	const unsigned char *p;
	size_t n = 0;

	fputs("dcgen: ", stderr);
	fputs(prefix, stderr);
	for (p = (const unsigned char *)text; *p; p++) {
		/* a 130 KB value quoted whole helps nobody */
		if (++n > 2048) {
			fputs("...", stderr);
			break;
		}
		if (*p == '\n')
			fputs("\\n", stderr);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

void dc_cli_sink(enum dc_log_level level, const char *line)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };

	dc_cli_say(prefix[level], line);
}

int dc_cli_fail(dc_redactor *r, int err)
{
	dc_buf line = DC_BUF_INIT;

	dc_buf_init(&line, 0, DC_BUF_SECRET);
	if (dc_buf_puts(&line, dc_error_last()) == 0) {
		dc_redactor_apply(r, &line);
		dc_cli_say("error: ", line.ptr);
	} else {
		dc_cli_say("error: ", "out of memory");
	}
	dc_buf_release(&line);
	return err == DC_EUSAGE ? DC_EXIT_USAGE : DC_EXIT_RUNTIME;
}

int dc_cli_usage_error(const char *what, const char *arg, const char *help)
{
	dc_buf line = DC_BUF_INIT;

	dc_buf_printf(&line, "%s%s%s%s; see '%s'", what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "", help);
	dc_cli_say("error: ", dc_buf_failed(&line) ? "out of memory" : line.ptr);
	dc_buf_release(&line);
	return DC_EXIT_USAGE;
}
