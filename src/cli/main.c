/* main.c -- dcgen's command line: arguments, subcommands, printing, and the
 * one place where errors become exit codes (0 ok, 1 upstream or runtime,
 * 2 usage or configuration). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli/crypt.h"
#include "cli/fronts.h"
#include "cli/print.h"
#include "cli/steps.h"
#include "core/cache.h"
#include "core/resolve.h"
#include "dcgen_build.h"
#include "front/generate.h"
#include "providers/provider.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/env.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/time.h"

extern char **environ;


static const char usage_text[] =
	"usage: dcgen [options] PATH\n"
	"       dcgen generate [options] PATH\n"
	"       dcgen cache list|purge [--expired] [--cache-dir DIR]\n"
	"       dcgen keygen|encrypt|decrypt ...  (CodeShip encrypted files; 'dcgen encrypt -h')\n"
	"       dcgen steps|run|load|validate|cleanup ...  (CodeShip files; 'dcgen steps -h')\n"
	"       dcgen credential-helper get|store|erase|list|version   (as docker-credential-dcgen)\n"
	"       dcgen configure-docker [--hosts H,...] [--creds-store]\n"
	"       dcgen kubelet   (a kubelet image credential provider; as dcgen-kubelet-provider)\n"
	"       dcgen --help | --version\n"
	"\n"
	"Writes short-lived registry credentials for a Docker client to PATH\n"
	"(atomically, mode 0600). Everything else comes from the environment.\n"
	"PATH '-', a FIFO, socket or device (/dev/stdout) is written as a stream.\n"
	"\n"
	"options:\n"
	"  -p, --provider NAME   the registry family (else DCGEN_PROVIDER, else detected)\n"
	"  -f, --format FORMAT   config (Docker's config.json, default), dockercfg\n"
	"                        (legacy ~/.dockercfg), k8s-secret (a Kubernetes\n"
	"                        Secret, YAML) or env (a DOCKER_AUTH_CONFIG='...' line);\n"
	"                        also DCGEN_FORMAT\n"
	"      --secret-name NAME  k8s-secret: the Secret's name (default dcgen-registry)\n"
	"      --namespace NS    k8s-secret: its namespace (default: none given)\n"
	"  -c, --cache-dir DIR   share tokens through a cache directory (DCGEN_CACHE_DIR)\n"
	"  -v, --verbose         say more on stderr (requests, timings; never secrets)\n"
	"  -q, --quiet           print errors only\n"
	"  -h, --help            this help\n"
	"  -V, --version         the version\n"
	"\n"
	"environment (besides each provider's variables, listed below):\n"
	"  DCGEN_PROVIDER, DCGEN_FORMAT, DCGEN_CACHE_DIR, DCGEN_CACHE_MIN_TTL (s),\n"
	"  DCGEN_CACHE_WAIT (s), DCGEN_TIMEOUT (s), DCGEN_CONNECT_TIMEOUT (s),\n"
	"  SSL_CERT_FILE, SSL_CERT_DIR, CURL_CA_BUNDLE, HTTPS_PROXY, NO_PROXY;\n"
	"  the credential helper and the kubelet provider: DCGEN_STORE_DIR, DCGEN_LOG\n"
	"\n"
	"exit codes: 0 written, 1 upstream or runtime error, 2 usage or configuration error\n"
	"(a PATH named like a subcommand: 'dcgen generate help' or 'dcgen ./help')\n"
	"\n"
	"providers:\n";

/* "dcgen 0.1.0 (v0.1.0-3-gabc1234-dirty)": the version and what `git describe
 * --always --dirty` said when this binary was built ("unknown" outside git). */
static void print_version(void)
{
	printf("dcgen %s (%s)\n", DCGEN_VERSION, DCGEN_DESCRIBE);
}

static void usage(FILE *f)
{
	const dc_family *const *p;

	fputs(usage_text, f);
	for (p = dc_families; *p; p++)
		fprintf(f, "  %-8s %s\n           %s\n", (*p)->name, (*p)->summary, (*p)->variables);
	fputs("\nThe project's README.md describes every variable.\n", f);
}

static int usage_error(const char *what, const char *arg)
{
	return dc_cli_usage_error(what, arg, "dcgen --help");
}

/* The options a misspelt one may have meant (R5). */
static const char *const known_options[] = { "--provider", "--format", "--cache-dir", "--verbose", "--quiet",
					     "--help", "--version", "--expired", "--secret-name", "--namespace", NULL };

static int unknown_option(const char *arg)
{
	const char *const *o;
	size_t n = strcspn(arg, "=");
	char msg[160];

	for (o = known_options; *o; o++) {
		size_t k = strlen(*o), i, same = 0;

		/* close enough: same first three letters and length within 2 */
		for (i = 0; i < n && i < k && arg[i] == (*o)[i]; i++)
			same++;
		if (same >= 4 && (n > k ? n - k : k - n) <= 2) {
			snprintf(msg, sizeof(msg), "unknown option '%.*s'; did you mean %s?", (int)(n < 60 ? n : 60), arg,
				 *o);
			return usage_error(msg, NULL);
		}
	}
	return usage_error("unknown option", arg);
}

/* DCGEN_* variables nobody reads are most likely typos (R6). */
static void warn_unknown_variables(const dc_ctx *ctx)
{
	static const char *const known[] = { "DCGEN_PROVIDER", "DCGEN_FORMAT", "DCGEN_CACHE_DIR", "DCGEN_CACHE_MIN_TTL",
					     "DCGEN_CACHE_WAIT", "DCGEN_TIMEOUT", "DCGEN_CONNECT_TIMEOUT",
					     /* the helper's and the kubelet provider's (cli/fronts.c) */
					     "DCGEN_STORE_DIR", "DCGEN_LOG", NULL };
	char **e;

	for (e = environ; e && *e; e++) {
		const char *const *k;
		size_t n = strcspn(*e, "=");
		int found = 0;

		if (strncmp(*e, "DCGEN_", 6))
			continue;
		for (k = known; *k && !found; k++)
			found = strlen(*k) == n && !strncmp(*k, *e, n);
		if (!found)
			dc_log_warn(&ctx->log, "ignoring %.*s, which dcgen does not read; check its spelling (dcgen --help lists the variables)",
				    (int)(n < 64 ? n : 64), *e);
	}
}

static int cmd_generate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ "format", required_argument, NULL, 'f' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "secret-name", required_argument, NULL, 'N' },
		{ "namespace", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	dc_generate_opts o = { 0 };
	dc_generate_result res;
	dc_env env = DC_ENV_PROCESS;
	dc_ctx ctx;
	enum dc_log_level level = DC_LOG_INFO;
	int c, err, verbose = 0, quiet = 0;
	char when[32];

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:f:c:vqhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o.provider = optarg; break;
		case 'f': o.format = optarg; break;
		case 'c': o.cache_dir = optarg; break;
		case 'N': o.secret_name = optarg; break;
		case 'n': o.namespace_ = optarg; break;
		case 'v': verbose = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': print_version(); return 0;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return unknown_option(argv[optind - 1]);
		}
	}
	if (verbose && quiet)
		return usage_error("-v and -q contradict each other; give one of them", NULL);
	level = verbose ? DC_LOG_DEBUG : quiet ? DC_LOG_ERROR : DC_LOG_INFO;
	if (optind >= argc)
		return usage_error("no output PATH given (the file to write, or - for standard output)", NULL);
	if (optind + 1 < argc) {
		if (!strcmp(argv[optind], "cache") || !strcmp(argv[optind], "generate"))
			return usage_error("the subcommand goes first, before its options: dcgen", argv[optind]);
		return usage_error("one PATH only, but also got", argv[optind + 1]);
	}
	o.path = argv[optind];
	if (dc_ctx_init(&ctx, &env, dc_cli_sink, level) < 0) {
		dc_cli_say("error: ", "out of memory");
		return DC_EXIT_RUNTIME;
	}
	warn_unknown_variables(&ctx);
	if ((err = dc_generate(&res, &o, &ctx)) < 0) {
		err = dc_cli_fail(ctx.redactor, err);
		dc_ctx_release(&ctx);
		return err;
	}
	if (res.expires_at) {
		dc_time_format(when, sizeof(when), res.expires_at);
		dc_log_info(&ctx.log, "wrote %zu %s credential%s from %s to '%s' (expires %s)", res.count, res.provider,
			    res.count == 1 ? "" : "s", res.source, res.stream && !strcmp(o.path, "-") ? "stdout" : o.path,
			    when);
	} else {
		dc_log_info(&ctx.log, "wrote %zu %s credential%s from %s to '%s'", res.count, res.provider,
			    res.count == 1 ? "" : "s", res.source, res.stream && !strcmp(o.path, "-") ? "stdout" : o.path);
	}
	dc_ctx_release(&ctx);
	return 0;
}

/* A value from a cache entry on a terminal: no control characters (an
 * entry's metadata comes from upstream replies). */
static void put_safe(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)(s ? s : "?"); *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			printf("\\x%02x", *p);
		else
			putchar(*p);
	}
}

static int print_entry(const dc_cache_info *e, void *arg)
{
	char when[32];
	int *header = arg;

	if (!*header) {
		printf("%-32s  %-7s %-20s  %-7s %-9s %s  %s\n", "ID", "FAMILY", "EXPIRES", "STATE", "SEALED", "PRINCIPAL",
		       "HOSTS");
		*header = 1;
	}
	dc_time_format(when, sizeof(when), e->expires_at);
	printf("%s  ", e->id);
	put_safe(e->family);
	printf("%*s %-20s  %-7s %-9s ", (int)(7 - (strlen(e->family) < 7 ? strlen(e->family) : 7)), "", when, e->state,
	       !strcmp(e->sealed_by, "secret") ? "secret" : "cache-key");
	put_safe(e->principal);
	fputs("  ", stdout);
	put_safe(e->hosts);
	putchar('\n');
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
	dc_cache *cache = NULL;
	dc_env env = DC_ENV_PROCESS;
	dc_ctx ctx;
	const char *dir = NULL, *verb;
	int c, err, expired = 0, header = 0;
	size_t removed = 0, n = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:eh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': dir = optarg; break;
		case 'e': expired = 1; break;
		case 'h': usage(stdout); return 0;
		case ':': return usage_error("this option needs a value:", argv[optind - 1]);
		default: return unknown_option(argv[optind - 1]);
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "list") && strcmp(argv[optind], "purge")))
		return usage_error("say 'dcgen cache list' or 'dcgen cache purge [--expired]'", NULL);
	verb = argv[optind];
	if (expired && strcmp(verb, "purge"))
		return usage_error("--expired goes with 'purge'", NULL);
	if (!dir && !(dir = dc_env_get(&env, "DCGEN_CACHE_DIR")))
		return usage_error("no cache directory: set DCGEN_CACHE_DIR or pass --cache-dir", NULL);
	if (dc_ctx_init(&ctx, &env, dc_cli_sink, DC_LOG_INFO) < 0) {
		dc_cli_say("error: ", "out of memory");
		return DC_EXIT_RUNTIME;
	}
	/* list and purge create nothing: a missing directory is an error */
	if ((err = dc_secrets_register(&ctx, dc_families)) < 0 ||
	    (err = dc_cache_open(&cache, &ctx, dir, 0)) < 0)
		goto done;
	if (!strcmp(verb, "list")) {
		if ((err = dc_cache_list(cache, print_entry, &header, &n)) == 0 && !n)
			dc_log_info(&ctx.log, "no entries in '%s'", dir);
	} else if ((err = dc_cache_purge(cache, expired, &removed)) == 0) {
		dc_log_info(&ctx.log, "removed %zu file%s from '%s'", removed, removed == 1 ? "" : "s", dir);
	}
done:
	if (err < 0)
		err = dc_cli_fail(ctx.redactor, err);
	dc_cache_free(cache);
	dc_ctx_release(&ctx);
	return err;
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "";
}

int main(int argc, char **argv)
{
	const char *self = base_name(argv[0]);
	int rc;

	/* no core dumps and no same-user ptrace of a process holding secrets */
	(void)prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
	dc_secret_install_allocators();
	if (!strcmp(self, DC_HELPER_PROGRAM))
		rc = dc_cli_helper(argc, argv);
	else if (!strcmp(self, DC_KUBELET_PROGRAM))
		rc = dc_cli_kubelet(argc, argv);
	else if (argc >= 2 && !strcmp(argv[1], "credential-helper"))
		rc = dc_cli_helper(argc - 1, argv + 1);
	else if (argc >= 2 && !strcmp(argv[1], "kubelet"))
		rc = dc_cli_kubelet(argc - 1, argv + 1);
	else if (argc >= 2 && !strcmp(argv[1], "configure-docker"))
		rc = dc_cli_configure_docker(argc - 1, argv + 1);
	else if ((rc = dc_cli_codeship(argc, argv)) >= 0)
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
	else
		rc = cmd_generate(argc, argv);
	dc_error_clear();
	return rc;
}
