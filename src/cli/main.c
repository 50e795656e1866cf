/* main.c -- dcgen's command line: arguments, subcommands, printing, and the
 * one place where errors become exit codes (0 ok, 1 upstream or runtime,
 * 2 usage or configuration). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli/crypt.h"
#include "cli/steps.h"
#include "core/cache.h"
#include "dcgen_build.h"
#include "front/generate.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/env.h"
#include "util/http.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/time.h"

enum { EXIT_UPSTREAM = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
	"usage: dcgen [options] PATH\n"
	"       dcgen generate [options] PATH\n"
	"       dcgen cache list|purge [--expired] [--cache-dir DIR]\n"
	"       dcgen keygen|encrypt|decrypt ...  (CodeShip encrypted files; 'dcgen encrypt -h')\n"
	"       dcgen steps|run|load|validate|cleanup ...  (CodeShip files; 'dcgen steps -h')\n"
	"       dcgen --help | --version\n"
	"\n"
	"Writes short-lived registry credentials for a Docker client to PATH\n"
	"(atomically, mode 0600). Everything else comes from the environment.\n"
	"\n"
	"options:\n"
	"  -p, --provider NAME   the registry family (else DCGEN_PROVIDER, else detected)\n"
	"  -f, --format FORMAT   config (Docker's config.json, default) or dockercfg\n"
	"                        (legacy ~/.dockercfg); also DCGEN_FORMAT\n"
	"  -c, --cache-dir DIR   share tokens through a cache directory (DCGEN_CACHE_DIR)\n"
	"  -v, --verbose         say more on stderr (requests, timings; never secrets)\n"
	"  -q, --quiet           print errors only\n"
	"  -h, --help            this help\n"
	"  -V, --version         the version\n"
	"\n"
	"exit codes: 0 written, 1 upstream or runtime error, 2 usage or configuration error\n"
	"(a PATH named like a subcommand: 'dcgen generate help' or 'dcgen ./help')\n"
	"\n"
	"providers:\n";

/* Every message is one line: a value quoted in it (a variable, a path) may
 * hold a newline or a terminal escape; those are shown as \n or \xNN. */
static void put_line(const char *prefix, const char *text)
{
	const unsigned char *p;

	fputs("dcgen: ", stderr);
	fputs(prefix, stderr);
	for (p = (const unsigned char *)text; *p; p++) {
		if (*p == '\n')
			fputs("\\n", stderr);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	}
	fputc('\n', stderr);
}

static void sink(enum dc_log_level level, const char *line)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };

	put_line(prefix[level], line);
}

/* "dcgen 0.1.0 (v0.1.0-3-gabc1234-dirty)": the version and what `git describe
 * --always --dirty` said when this binary was built ("unknown" outside git). */
static void print_version(void)
{
	printf("dcgen %s (%s)\n", DCGEN_VERSION, DCGEN_DESCRIBE);
}

static void usage(FILE *f)
{
	const dc_provider *const *p;

	fputs(usage_text, f);
	for (p = dc_providers; *p; p++)
		fprintf(f, "  %-8s %s\n", (*p)->name, (*p)->summary);
	fputs("\nSee README.md for every variable.\n", f);
}

/* Print the current error, redacted, and map the code to an exit status. */
static int fail(int err)
{
	dc_buf line = DC_BUF_INIT;

	dc_buf_init(&line, 0, DC_BUF_SECRET);
	if (dc_buf_puts(&line, dc_error_last()) == 0) {
		dc_log_redact(&line);
		put_line("error: ", line.ptr);
	} else {
		fputs("dcgen: error: out of memory\n", stderr);
	}
	dc_buf_release(&line);
	return err == DC_EUSAGE ? EXIT_USAGE : EXIT_UPSTREAM;
}

static int usage_error(const char *what, const char *arg)
{
	dc_buf line = DC_BUF_INIT;

	dc_buf_printf(&line, "%s%s%s; see 'dcgen --help'", what, arg ? " " : "", arg ? arg : "");
	put_line("error: ", dc_buf_failed(&line) ? "out of memory" : line.ptr);
	dc_buf_release(&line);
	return EXIT_USAGE;
}

static int cmd_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	dc_generate_opts o = { 0 };
	dc_generate_result res;
	dc_env env = DC_ENV_PROCESS;
	enum dc_log_level level = DC_LOG_INFO;
	char when[32];
	int c, err;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:f:c:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.provider = optarg; break;
		case 'f': o.format = optarg; break;
		case 'c': o.cache_dir = optarg; break;
		case 'v': level = DC_LOG_DEBUG; break;
		case 'q': level = DC_LOG_ERROR; break;
		case 'h': usage(stdout); return 0;
		case 'V': print_version(); return 0;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("no output PATH given", NULL);
	if (optind + 1 < argc)
		return usage_error("one PATH only, but also got", argv[optind + 1]);
	o.path = argv[optind];
	dc_log_set_sink(sink, level);

	if ((err = dc_generate(&res, &o, &env)) < 0)
		return fail(err);
	if (res.expires_at) {
		dc_time_format(when, sizeof(when), res.expires_at);
		dc_log_info("wrote %zu %s credential%s from %s to '%s' (expires %s)", res.count, res.provider,
			    res.count == 1 ? "" : "s", res.source, o.path, when);
	} else {
		dc_log_info("wrote %zu %s credential%s from %s to '%s'", res.count, res.provider,
			    res.count == 1 ? "" : "s", res.source, o.path);
	}
	return 0;
}

static int print_entry(const dc_cache_info *e, void *ctx)
{
	char when[32];

	(void)ctx;
	dc_time_format(when, sizeof(when), e->expires_at);
	printf("%s  %-7s %s  %-7s %s\n", e->id, e->provider, when,
	       e->expires_at <= dc_time_now() ? "expired" : e->fresh ? "fresh" : "refresh", e->hosts);
	return 0;
}

static int cmd_cache(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "expired", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dc_cache cache = DC_CACHE_INIT;
	dc_env env = DC_ENV_PROCESS;
	const char *dir = NULL, *verb;
	int c, err, expired = 0;
	size_t removed = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:eh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': dir = optarg; break;
		case 'e': expired = 1; break;
		case 'h': usage(stdout); return 0;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "list") && strcmp(argv[optind], "purge")))
		return usage_error("say 'dcgen cache list' or 'dcgen cache purge [--expired]'", NULL);
	verb = argv[optind];
	if (expired && strcmp(verb, "purge"))
		return usage_error("--expired goes with 'purge'", NULL);
	if (!dir && !(dir = dc_env_get(&env, "DCGEN_CACHE_DIR")))
		return usage_error("no cache directory: set DCGEN_CACHE_DIR or pass --cache-dir", NULL);
	dc_log_set_sink(sink, DC_LOG_INFO);
	if ((err = dc_cache_open(&cache, dir, &env, 0)) < 0)
		return fail(err);
	if (!strcmp(verb, "list"))
		err = dc_cache_list(&cache, print_entry, NULL);
	else if ((err = dc_cache_purge(&cache, expired, &removed)) == 0)
		dc_log_info("removed %zu file%s from '%s'", removed, removed == 1 ? "" : "s", dir);
	dc_cache_close(&cache);
	return err < 0 ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	int rc;

	/* no core dumps and no same-user ptrace of a process holding secrets */
	(void)prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
	dc_secret_install_allocators();
	if ((rc = dc_cli_codeship(argc, argv)) >= 0)
		;
	else if (argc >= 2 && !strcmp(argv[1], "generate"))
		rc = cmd_generate(argc - 1, argv + 1);
	else if (argc >= 2 && !strcmp(argv[1], "cache"))
		rc = cmd_cache(argc - 1, argv + 1);
	else if (argc >= 2 && dc_cli_crypt_is(argv[1]))
		rc = dc_cli_crypt(argc - 1, argv + 1);
	else if (argc >= 2 && !strcmp(argv[1], "help"))
		usage(stdout), rc = 0;
	else if (argc >= 2 && !strcmp(argv[1], "version"))
		print_version(), rc = 0;
	else if (argc < 2) {
		usage(stderr);
		rc = EXIT_USAGE;
	} else
		rc = cmd_generate(argc, argv);
	dc_http_cleanup();
	dc_log_redact_clear();
	dc_error_clear();
	return rc;
}
