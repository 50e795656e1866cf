/* fronts.c -- see fronts.h. The protocols decide what goes where: the
 * credential helper answers (and reports its errors) on stdout, with exit 1
 * for any failure (FRONTS.md 1.1), and says on stderr what failed; the
 * kubelet plugin answers on stdout, and the kubelet logs its stderr. */
#include "cli/fronts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/print.h"
#include "dcgen_build.h"
#include "front/configure.h"
#include "front/helper.h"
#include "front/kubelet.h"
#include "util/buf.h"
#include "util/ctx.h"
#include "util/env.h"
#include "util/log.h"

#define MAX_STDIN (1024 * 1024)

/* The current error, redacted, one line, into `line`. */
static void error_text(dc_buf *line, dc_ctx *ctx)
{
	size_t i;

	dc_buf_init(line, 0, DC_BUF_SECRET);
	if (dc_buf_puts(line, dc_error_last()) < 0 || !line->len) {
		dc_buf_reset(line);
		dc_buf_puts(line, "dcgen failed without a message");
	}
	dc_redactor_apply(ctx->redactor, line);
	for (i = 0; i < line->len; i++)
		if ((unsigned char)line->ptr[i] < 0x20)
			line->ptr[i] = ' ';
}

static int read_stdin(dc_buf *out)
{
	char chunk[4096];
	ssize_t n;

	dc_buf_init(out, MAX_STDIN, DC_BUF_SECRET);
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0)
			return dc_error_set(DC_ERR, "cannot read standard input");
		if (dc_buf_put(out, chunk, (size_t)n) < 0)
			return dc_error_set(DC_EUSAGE, "the input on stdin is larger than %d bytes", MAX_STDIN);
	}
	return 0;
}

static enum dc_log_level level_of(const dc_env *env, enum dc_log_level dflt)
{
	const char *v = dc_env_get(env, "DCGEN_LOG");

	if (!v)
		return dflt;
	if (!strcmp(v, "debug"))
		return DC_LOG_DEBUG;
	if (!strcmp(v, "info"))
		return DC_LOG_INFO;
	if (!strcmp(v, "error"))
		return DC_LOG_ERROR;
	return DC_LOG_WARN;
}

/* ---- docker-credential-dcgen ---- */

static void helper_usage(const char *name)
{
	printf("Usage: %s <store|get|erase|list|version>\n", name);
}

int dc_cli_helper(int argc, char **argv)
{
	const char *name = DC_HELPER_PROGRAM, *action;
	dc_env env = DC_ENV_PROCESS;
	dc_ctx ctx;
	dc_helper h;
	dc_buf in = DC_BUF_INIT, out = DC_BUF_INIT, line = DC_BUF_INIT;
	int err, rc = 1, ready = 0;

	if (argc != 2) {
		helper_usage(name);
		return 1;
	}
	action = argv[1];
	if (!strcmp(action, "--version") || !strcmp(action, "-v") || !strcmp(action, "version")) {
		printf("%s (dcgen) %s\n", name, DCGEN_VERSION);
		return 0;
	}
	if (!strcmp(action, "--help") || !strcmp(action, "-h")) {
		helper_usage(name);
		return 0;
	}
	if (strcmp(action, "get") && strcmp(action, "store") && strcmp(action, "erase") && strcmp(action, "list")) {
		printf("Unknown credential action `%s`\n", action);
		return 1;
	}
	if (dc_ctx_init(&ctx, &env, dc_cli_sink, level_of(&env, DC_LOG_WARN)) < 0) {
		puts("out of memory");
		return 1;
	}
	dc_buf_init(&out, 0, DC_BUF_SECRET);
	if ((err = dc_helper_init(&h, &ctx)) < 0)
		goto done;
	ready = 1;
	/* list's stdin ("unused") is not read: nothing may block on it */
	if (strcmp(action, "list") && (err = read_stdin(&in)) < 0)
		goto done;
	if (!strcmp(action, "get"))
		err = dc_helper_get(&out, &h, in.ptr, in.len);
	else if (!strcmp(action, "store"))
		err = dc_helper_store(&h, in.ptr, in.len);
	else if (!strcmp(action, "erase"))
		err = dc_helper_erase(&h, in.ptr, in.len);
	else
		err = dc_helper_list(&out, &h);
	if (err == 0 && !strcmp(action, "get"))
		dc_log_debug(&ctx.log, "get: from %s%s%s", h.source, h.family ? " via " : "", h.family ? h.family : "");
done:
	if (err == 0) {
		fwrite(out.ptr, 1, out.len, stdout);
		rc = fflush(stdout) == 0 ? 0 : 1;
	} else if (err == DC_ENOTFOUND) {
		puts(DC_HELPER_NOT_FOUND);
	} else {
		error_text(&line, &ctx);
		/* the protocol's texts go alone; anything else is also said on stderr */
		if (strcmp(line.ptr, DC_HELPER_NO_URL) && strcmp(line.ptr, DC_HELPER_NO_USER))
			dc_cli_say("error: ", line.ptr);
		puts(line.ptr);
	}
	if (ready)
		dc_helper_release(&h);
	dc_buf_release(&in);
	dc_buf_release(&out);
	dc_buf_release(&line);
	dc_ctx_release(&ctx);
	return rc;
}

/* ---- dcgen kubelet ---- */

int dc_cli_kubelet(int argc, char **argv)
{
	dc_env env = DC_ENV_PROCESS;
	dc_ctx ctx;
	dc_kubelet_result res;
	dc_buf in = DC_BUF_INIT, out = DC_BUF_INIT, line = DC_BUF_INIT, cache = DC_BUF_INIT;
	const char *dir;
	int err, rc = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		puts("usage: dcgen kubelet   (or dcgen-kubelet-provider)\n"
		     "A kubelet image credential provider: reads a CredentialProviderRequest\n"
		     "(credentialprovider.kubelet.k8s.io v1, v1beta1 or v1alpha1) on stdin and\n"
		     "writes the CredentialProviderResponse on stdout. Tokens are cached in\n"
		     "DCGEN_CACHE_DIR (else $XDG_CACHE_HOME/dcgen or $HOME/.cache/dcgen).");
		return 0;
	}
	if (argc > 1) {
		dc_cli_say("error: ", "the kubelet provider takes no arguments; see 'dcgen kubelet --help'");
		return 2;
	}
	if (dc_ctx_init(&ctx, &env, dc_cli_sink, level_of(&env, DC_LOG_WARN)) < 0) {
		dc_cli_say("error: ", "out of memory");
		return 1;
	}
	dc_buf_init(&out, 0, DC_BUF_SECRET);
	if (!(dir = dc_env_get(&env, "DCGEN_CACHE_DIR")) && dc_helper_default_dir(&cache, &env, "cache") == 0)
		dir = cache.ptr;
	if ((err = read_stdin(&in)) == 0)
		err = dc_kubelet_respond(&out, &res, &ctx, in.ptr, in.len, dir);
	if (err == 0) {
		fwrite(out.ptr, 1, out.len, stdout);
		if (fflush(stdout) != 0)
			rc = 1;
		if (res.family)
			dc_log_debug(&ctx.log, "answered from %s via %s, cacheDuration %lds", res.source, res.family,
				     res.cache_seconds);
	} else {
		error_text(&line, &ctx);
		dc_cli_say("error: ", line.ptr);
		rc = err == DC_EUSAGE ? 2 : 1;
	}
	dc_buf_release(&in);
	dc_buf_release(&out);
	dc_buf_release(&line);
	dc_buf_release(&cache);
	dc_ctx_release(&ctx);
	return rc;
}

/* ---- dcgen configure-docker ---- */

static const char configure_usage[] =
	"usage: dcgen configure-docker [--hosts HOST,...] [--creds-store] [--cache-dir DIR]\n"
	"\n"
	"Points the docker CLI at docker-credential-dcgen in $DOCKER_CONFIG/config.json\n"
	"(else ~/.docker/config.json), keeping everything else in the file:\n"
	"  credHelpers HOST: \"dcgen\" for each host every provider whose variables are\n"
	"  set covers (asked once now, through the cache), or for --hosts;\n"
	"  --creds-store: credsStore \"dcgen\" instead (every registry, and `docker login`\n"
	"  stores through dcgen).\n";

/* 1 when docker-credential-dcgen is an executable on PATH. */
static int on_path(const dc_env *env)
{
	const char *path = dc_env_get(env, "PATH"), *p = path, *item;
	dc_buf f = DC_BUF_INIT;
	size_t n;
	int found = 0;

	while (!found && p && *p) {
		item = p;
		n = strcspn(p, ":");
		p += n + (p[n] == ':');
		dc_buf_reset(&f);
		dc_buf_printf(&f, "%.*s/%s", (int)n, item, DC_HELPER_PROGRAM);
		found = !dc_buf_failed(&f) && access(f.ptr, X_OK) == 0;
	}
	dc_buf_release(&f);
	return found;
}

int dc_cli_configure_docker(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hosts", required_argument, NULL, 'H' },
		{ "creds-store", no_argument, NULL, 's' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	dc_configure_opts o = { 0 };
	dc_configure_result res;
	dc_env env = DC_ENV_PROCESS;
	dc_ctx ctx;
	dc_buf line = DC_BUF_INIT;
	size_t i;
	int c, err, rc = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":H:c:sh", longopts, NULL)) != -1) {
		switch (c) {
		case 'H': o.hosts = optarg; break;
		case 's': o.creds_store = 1; break;
		case 'c': o.cache_dir = optarg; break;
		case 'h': fputs(configure_usage, stdout); return 0;
		default:
			dc_cli_say("error: ", "unknown option or missing value; see 'dcgen configure-docker --help'");
			return 2;
		}
	}
	if (optind != argc || (o.hosts && o.creds_store)) {
		dc_cli_say("error: ", optind != argc ? "configure-docker takes no operands; see 'dcgen configure-docker --help'"
						   : "--hosts and --creds-store contradict each other; give one of them");
		return 2;
	}
	if (dc_ctx_init(&ctx, &env, dc_cli_sink, DC_LOG_INFO) < 0) {
		dc_cli_say("error: ", "out of memory");
		return 1;
	}
	if ((err = dc_configure_docker(&res, &o, &ctx)) < 0) {
		error_text(&line, &ctx);
		dc_cli_say("error: ", line.ptr);
		rc = err == DC_EUSAGE ? 2 : 1;
		goto done;
	}
	if (o.creds_store)
		dc_log_info(&ctx.log, "%s credsStore \"%s\" in '%s'", res.changed ? "set" : "already had",
			    DC_HELPER_SUFFIX, res.path.ptr);
	else
		dc_log_info(&ctx.log, "%s credHelpers \"%s\" for %zu host%s in '%s'", res.changed ? "set" : "already had",
			    DC_HELPER_SUFFIX, res.n, res.n == 1 ? "" : "s", res.path.ptr);
	for (i = 0; i < res.n; i++)
		printf("%s\n", res.hosts[i]);
	if (res.replaced.len)
		dc_log_warn(&ctx.log, "replaced another helper (%s): what it stored is not asked any more; docker login again where needed",
			    res.replaced.ptr);
	if (res.n > 10)
		dc_log_warn(&ctx.log, "%zu credHelpers entries: the classic `docker build` asks every helper for credentials before each build, which slows it; consider --creds-store",
			    res.n);
	if (!on_path(&env))
		dc_log_warn(&ctx.log, "%s is not on PATH, and docker runs it from there; link it: ln -s \"$(command -v dcgen)\" /usr/local/bin/%s",
			    DC_HELPER_PROGRAM, DC_HELPER_PROGRAM);
	dc_configure_result_release(&res);
done:
	dc_buf_release(&line);
	dc_ctx_release(&ctx);
	return rc;
}
