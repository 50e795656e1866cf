/* steps.c -- the steps executor (see steps.h). */
#include "front/steps.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/encfile.h"
#include "runner/engine.h"
#include "runner/generator.h"
#include "runner/tags.h"
#include "runner/template.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"

/* Read by every step thread: an atomic (lock-free, so signal-safe). */
static atomic_int g_signal;

static void on_signal(int sig)
{
	int none = 0, saved = errno;

	(void)atomic_compare_exchange_strong(&g_signal, &none, sig);
	dc_generator_signal_cleanup();
	dc_engine_interrupt();
	errno = saved;
}

void dc_steps_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int dc_steps_signal(void) { return g_signal; }

/* ---- the run ---- */

enum { CI_BRANCH, CI_BUILD_ID, CI_COMMIT_DESCRIPTION, CI_COMMIT_ID, CI_COMMIT_MESSAGE, CI_COMMITTER_EMAIL,
       CI_COMMITTER_NAME, CI_COMMITTER_USERNAME, CI_PROJECT_ID, CI_REPO_NAME, CI_N };

typedef struct {
	const dc_model *m;
	const dc_steps_opts *o;
	const dc_env *env;
	char run_id[40];
	char *project;
	char *ci[CI_N];
	long long now;
	dc_strv ci_env;
	pthread_mutex_t out_lock;
	pthread_mutex_t prep_lock; /* recursive: a pull may need a generator's image */
	int *prepared;             /* per service: 0 not yet, 1 ready, -1 failed */
	dc_encfile_key key;
	int key_state; /* 0 not tried, 1 loaded, -1 failed */
	unsigned counter;
	int stop; /* a serial failure or a signal: start nothing new */
	struct reaper *reaper; /* removes finished steps' containers off the critical path */
	const dc_service *ep_service; /* `run --entrypoint`: this service's main container */
	dc_strv ep;                   /* gets this entrypoint */
} run;

typedef struct {
	const char *service, *dockercfg_service, *encrypted_dockercfg_path;
} inherit;

typedef struct {
	run *r;
	const char *prefix;
} linectx;

static void on_line(void *ctx, int stream, const char *line, size_t len)
{
	linectx *lc = ctx;

	if (!lc->r->o->out)
		return;
	pthread_mutex_lock(&lc->r->out_lock);
	lc->r->o->out(lc->r->o->out_ctx, lc->prefix, stream, line, len);
	pthread_mutex_unlock(&lc->r->out_lock);
}

static unsigned next_id(run *r)
{
	unsigned n;

	pthread_mutex_lock(&r->out_lock);
	n = ++r->counter;
	pthread_mutex_unlock(&r->out_lock);
	return n;
}

/* Names for the engine: [a-z0-9_.-], short. */
static void sanitize(dc_buf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s && n < max; s++, n++) {
		unsigned char ch = (unsigned char)*s;
		dc_buf_putc(b, isalnum(ch) || ch == '_' || ch == '.' || ch == '-' ? (char)tolower(ch) : '_');
	}
}

/* One path component of an image name, as Docker's reference grammar
 * wants it: [a-z0-9] runs joined by single '-'. */
static void image_part(dc_buf *b, const char *s, size_t max)
{
	size_t n = 0;
	int sep = 0;

	for (; *s && n < max; s++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)*s);
		if (isalnum(ch)) {
			if (sep && n)
				dc_buf_putc(b, '-'), n++;
			dc_buf_putc(b, (char)ch);
			n++;
			sep = 0;
		} else
			sep = 1;
	}
	if (!n)
		dc_buf_putc(b, 'x');
}

char *dc_steps_project(const char *dir)
{
	const char *base = strrchr(dir, '/');
	dc_buf b = DC_BUF_INIT;

	base = base && base[1] ? base + 1 : dir;
	if (!isalnum((unsigned char)*base))
		dc_buf_puts(&b, "p");
	sanitize(&b, base, 60);
	return dc_buf_detach(&b, NULL);
}

/* ---- git, for the CI variables the flags do not give ---- */

static char *git_out(const char *dir, const char *const *args)
{
	int fds[2], status;
	pid_t pid;
	dc_buf b = DC_BUF_INIT;
	char chunk[4096], *argv[16];
	ssize_t n;
	size_t i = 0;

	argv[i++] = (char *)"git";
	argv[i++] = (char *)"-C";
	argv[i++] = (char *)dir;
	for (; *args && i < 15; args++)
		argv[i++] = (char *)*args;
	argv[i] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(fds[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		execvp("git", argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && b.len < 65536)
			dc_buf_put(&b, chunk, (size_t)n);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || dc_buf_failed(&b)) {
		dc_buf_release(&b);
		return NULL;
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = 0;
	return dc_buf_detach(&b, NULL);
}

static int ci_setup(run *r)
{
	const dc_steps_opts *o = r->o;
	const char *given[CI_N] = { o->ci_branch, o->ci_build_id, o->ci_commit_description, o->ci_commit_id,
				    o->ci_commit_message, o->ci_committer_email, o->ci_committer_name,
				    o->ci_committer_username, o->ci_project_id, o->ci_repo_name };
	static const char *const names[CI_N] = { "CI_BRANCH", "CI_BUILD_ID", "CI_COMMIT_DESCRIPTION",
						 "CI_COMMIT_ID", "CI_COMMIT_MESSAGE", "CI_COMMITTER_EMAIL",
						 "CI_COMMITTER_NAME", "CI_COMMITTER_USERNAME", "CI_PROJECT_ID",
						 "CI_REPO_NAME" };
	static const char *const git_branch[] = { "rev-parse", "--abbrev-ref", "HEAD", NULL };
	static const char *const git_id[] = { "rev-parse", "HEAD", NULL };
	static const char *const git_msg[] = { "log", "-1", "--format=%B", NULL };
	static const char *const git_desc[] = { "describe", "--abbrev=1", "--tags", "--always", NULL };
	static const char *const git_email[] = { "log", "-1", "--format=%ce", NULL };
	static const char *const git_name[] = { "log", "-1", "--format=%cn", NULL };
	const char *const *from_git[CI_N] = { git_branch, NULL, git_desc, git_id, git_msg, git_email, git_name };
	struct tm tm;
	time_t t = (time_t)r->now;
	char when[64];
	dc_buf b = DC_BUF_INIT;
	int i;

	for (i = 0; i < CI_N; i++) {
		if (given[i])
			r->ci[i] = strdup(given[i]);
		else if (from_git[i])
			r->ci[i] = git_out(r->m->dir, from_git[i]);
		if (!r->ci[i]) {
			if (i == CI_BUILD_ID)
				r->ci[i] = strdup(r->run_id);
			else if (i == CI_REPO_NAME || i == CI_PROJECT_ID)
				r->ci[i] = strdup(r->project);
			else
				r->ci[i] = strdup("");
		}
		if (!r->ci[i])
			return dc_error_set(DC_ERR, "out of memory");
	}
	if (r->ci[CI_BRANCH] && !strcmp(r->ci[CI_BRANCH], "HEAD") && !o->ci_branch)
		r->ci[CI_BRANCH][0] = 0; /* a detached checkout has no branch */
	for (i = 0; i < CI_N; i++) {
		dc_buf_reset(&b);
		dc_buf_printf(&b, "%s=%s", names[i], r->ci[i]);
		if (dc_buf_failed(&b) || dc_strv_push(&r->ci_env, b.ptr, 0) < 0)
			goto oom;
	}
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	dc_buf_reset(&b);
	dc_buf_printf(&b, "CI_TIMESTAMP=%lld", r->now);
	if (dc_buf_failed(&b) || dc_strv_push(&r->ci_env, b.ptr, 0) < 0)
		goto oom;
	dc_buf_reset(&b);
	dc_buf_printf(&b, "CI_STRING_TIME=%s", when);
	if (dc_buf_failed(&b) || dc_strv_push(&r->ci_env, b.ptr, 0) < 0 ||
	    dc_strv_push(&r->ci_env, "CI=true", 0) < 0 || dc_strv_push(&r->ci_env, "CI_NAME=codeship", 0) < 0 ||
	    dc_strv_push(&r->ci_env, "CI_PULL_REQUEST=false", 0) < 0 ||
	    dc_strv_push(&r->ci_env, "CI_PR_NUMBER=", 0) < 0)
		goto oom;
	dc_buf_release(&b);
	return 0;
oom:
	dc_buf_release(&b);
	return dc_error_set(DC_ERR, "out of memory");
}

static void template_data(dc_template_data *d, const run *r, const char *step, const char *service,
			  const char *image)
{
	memset(d, 0, sizeof(*d));
	d->project_id = r->ci[CI_PROJECT_ID];
	d->build_id = r->ci[CI_BUILD_ID];
	d->repo_name = r->ci[CI_REPO_NAME];
	d->branch = r->ci[CI_BRANCH];
	d->commit_id = r->ci[CI_COMMIT_ID];
	d->commit_message = r->ci[CI_COMMIT_MESSAGE];
	d->commit_description = r->ci[CI_COMMIT_DESCRIPTION];
	d->committer_name = r->ci[CI_COMMITTER_NAME];
	d->committer_email = r->ci[CI_COMMITTER_EMAIL];
	d->committer_username = r->ci[CI_COMMITTER_USERNAME];
	d->timestamp = r->now;
	d->step_name = step;
	d->service_name = service;
	d->image_name = image;
}

static int run_init(run *r, const dc_model *m, const dc_steps_opts *o, const dc_env *env)
{
	pthread_mutexattr_t a;
	struct timespec ts;

	memset(r, 0, sizeof(*r));
	r->m = m;
	r->o = o;
	r->env = env;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->now = (long long)ts.tv_sec;
	snprintf(r->run_id, sizeof(r->run_id), "%lx%04lx", (unsigned long)ts.tv_sec & 0xffffffUL,
		 ((unsigned long)getpid() ^ (unsigned long)ts.tv_nsec) & 0xffffUL);
	pthread_mutex_init(&r->out_lock, NULL);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&r->prep_lock, &a);
	pthread_mutexattr_destroy(&a);
	if (!(r->project = dc_steps_project(m->dir)) ||
	    !(r->prepared = calloc(m->nservices + 1, sizeof(int))))
		return dc_error_set(DC_ERR, "out of memory");
	return ci_setup(r);
}

static void run_release(run *r)
{
	int i;

	for (i = 0; i < CI_N; i++)
		free(r->ci[i]);
	dc_strv_release(&r->ci_env);
	dc_strv_release(&r->ep);
	free(r->project);
	free(r->prepared);
	dc_encfile_key_release(&r->key);
	pthread_mutex_destroy(&r->out_lock);
	pthread_mutex_destroy(&r->prep_lock);
}

/* ---- decryption ---- */

static int key_get(run *r, const char *what)
{
	dc_buf path = DC_BUF_INIT;
	int err = 0;

	pthread_mutex_lock(&r->prep_lock);
	if (r->key_state == 0) {
		if (r->o->key_path)
			dc_buf_puts(&path, r->o->key_path);
		else
			dc_buf_printf(&path, "%s/codeship.aes", r->m->dir);
		if (dc_buf_failed(&path))
			err = dc_error_set(DC_ERR, "out of memory");
		else if ((err = dc_encfile_key_load(&r->key, path.ptr)) < 0)
			dc_error_set(DC_EUSAGE, "%s is encrypted but the key cannot be loaded: %s; pass --key-path",
				     what, dc_error_last());
		r->key_state = err < 0 ? -1 : 1;
	} else if (r->key_state < 0)
		err = dc_error_set(DC_EUSAGE, "%s is encrypted but no key could be loaded; pass --key-path", what);
	pthread_mutex_unlock(&r->prep_lock);
	dc_buf_release(&path);
	return err;
}

/* Decrypt a file (path) or an inline value (data) into `out` (secret). */
static int decrypt(run *r, dc_buf *out, const char *path, const char *data, const char *what)
{
	dc_buf raw = DC_BUF_INIT;
	int err;

	if ((err = key_get(r, what)) < 0)
		return err;
	dc_buf_init(&raw, 0, DC_BUF_SECRET);
	if (path && (err = dc_fs_read_secret(&raw, path, 1 << 20, what)) < 0)
		goto done;
	if (path)
		data = raw.ptr;
	err = dc_encfile_decrypt(out, &r->key, data, path ? raw.len : strlen(data), what);
done:
	dc_buf_release(&raw);
	return err;
}

/* ---- environment ---- */

/* KEY=value lines: blank and # lines skipped, "export " dropped, matching
 * surrounding quotes removed. */
static int parse_env_text(dc_strv *out, const char *text, size_t len, const char *what, dc_redactor *secret)
{
	const char *p = text, *end = text + len;
	dc_buf line = DC_BUF_INIT;
	int err = 0, n = 0;

	dc_buf_init(&line, 0, DC_BUF_SECRET);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *s, *e, *eq;
		if (!nl)
			nl = end;
		s = p;
		e = nl;
		p = nl + 1;
		n++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (e - s > 7 && !memcmp(s, "export ", 7))
			s += 7;
		if (!(eq = memchr(s, '=', (size_t)(e - s)))) {
			err = dc_error_set(DC_EUSAGE, "%s: line %d is not KEY=value", what, n);
			break;
		}
		dc_buf_reset(&line);
		dc_buf_put(&line, s, (size_t)(eq - s + 1));
		eq++;
		if (e - eq >= 2 && (*eq == '"' || *eq == '\'') && e[-1] == *eq)
			dc_buf_put(&line, eq + 1, (size_t)(e - eq - 2));
		else
			dc_buf_put(&line, eq, (size_t)(e - eq));
		/* decrypted values never reach dcgen's own messages */
		if (secret && !dc_buf_failed(&line) &&
		    dc_redactor_add(secret, line.ptr + (eq - s), strlen(line.ptr + (eq - s))) < 0) {
			err = dc_error_set(DC_ERR, "out of memory");
			break;
		}
		if (dc_buf_failed(&line) || dc_strv_push(out, line.ptr, 0) < 0) {
			err = dc_error_set(DC_ERR, "out of memory");
			break;
		}
	}
	dc_buf_release(&line);
	return err;
}

/* Keep the last value of each name; wipe the rest. */
static void env_dedupe(dc_strv *v)
{
	size_t i, j, k = 0;

	for (i = 0; i < v->n; i++) {
		const char *eq = strchr(v->v[i], '=');
		size_t nl = eq ? (size_t)(eq - v->v[i]) : strlen(v->v[i]);
		int later = 0;
		for (j = i + 1; j < v->n && !later; j++)
			later = !strncmp(v->v[i], v->v[j], nl) && (v->v[j][nl] == '=' || !v->v[j][nl]);
		if (later) {
			memset(v->v[i], 0, strlen(v->v[i]));
			free(v->v[i]);
			continue;
		}
		v->v[k] = v->v[i];
		v->line[k++] = v->line[i];
	}
	v->n = k;
	if (v->v)
		v->v[k] = NULL;
}

static void env_wipe(dc_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		memset(v->v[i], 0, strlen(v->v[i]));
	dc_strv_release(v);
}

/* The container environment of `s`, lowest precedence first: the CI
 * variables, environment, env_file, encrypted_env_file,
 * encrypted_environment, then -e flags. */
static int service_env(dc_strv *out, run *r, const dc_service *s)
{
	dc_buf file = DC_BUF_INIT, plain = DC_BUF_INIT;
	char what[512];
	size_t i;
	int err = 0;

	for (i = 0; i < r->ci_env.n; i++)
		if (dc_strv_push(out, r->ci_env.v[i], 0) < 0)
			return DC_ERR;
	for (i = 0; i < s->environment.n; i++) {
		const char *kv = s->environment.v[i];
		if (!strchr(kv, '=')) {
			const char *v = dc_env_get(r->env, kv);
			dc_buf_reset(&file);
			if (!v)
				continue;
			dc_buf_printf(&file, "%s=%s", kv, v);
			if (dc_buf_failed(&file) || dc_strv_push(out, file.ptr, 0) < 0) {
				err = dc_error_set(DC_ERR, "out of memory");
				goto done;
			}
		} else if ((err = dc_strv_push(out, kv, 0)) < 0)
			goto done;
	}
	for (i = 0; i < s->env_files.n; i++) {
		dc_buf_release(&file);
		snprintf(what, sizeof(what), "service '%s' env_file", s->name);
		dc_buf_init(&file, 0, DC_BUF_SECRET);
		if ((err = dc_fs_read_secret(&file, s->env_files.v[i], 1 << 20, what)) < 0 ||
		    (err = parse_env_text(out, file.ptr, file.len, what, NULL)) < 0)
			goto done;
	}
	for (i = 0; i < s->encrypted_env_files.n; i++) {
		dc_buf_release(&plain);
		dc_buf_init(&plain, 0, DC_BUF_SECRET);
		snprintf(what, sizeof(what), "service '%s' encrypted_env_file '%s'", s->name,
			 s->encrypted_env_files.v[i]);
		if ((err = decrypt(r, &plain, s->encrypted_env_files.v[i], NULL, what)) < 0 ||
		    (err = parse_env_text(out, plain.ptr, plain.len, what, r->o->log->redactor)) < 0)
			goto done;
	}
	for (i = 0; i < s->encrypted_environment.n; i++) {
		dc_buf_release(&plain);
		dc_buf_init(&plain, 0, DC_BUF_SECRET);
		snprintf(what, sizeof(what), "service '%s': encrypted_environment entry %zu", s->name, i + 1);
		if ((err = decrypt(r, &plain, NULL, s->encrypted_environment.v[i], what)) < 0 ||
		    (err = parse_env_text(out, plain.ptr, plain.len, what, r->o->log->redactor)) < 0)
			goto done;
	}
	for (i = 0; r->o->env && r->o->env[i]; i++) {
		const char *kv = r->o->env[i], *v;
		if (strchr(kv, '=')) {
			err = dc_strv_push(out, kv, 0);
		} else if ((v = dc_env_get(r->env, kv))) { /* -e NAME: the host's value, as docker run */
			dc_buf_reset(&file);
			dc_buf_printf(&file, "%s=%s", kv, v);
			err = dc_buf_failed(&file) ? dc_error_set(DC_ERR, "out of memory") : dc_strv_push(out, file.ptr, 0);
		}
		if (err < 0)
			goto done;
	}
	env_dedupe(out);
done:
	dc_buf_release(&file);
	dc_buf_release(&plain);
	return err;
}

/* ---- images ---- */

/* The image a service runs: `image`, `build.image`, else a made-up name.
 * Caller frees. */
static char *service_image(run *r, const dc_service *s)
{
	dc_buf b = DC_BUF_INIT;

	if (s->image)
		return strdup(s->image);
	image_part(&b, r->project, 60);
	dc_buf_putc(&b, '-');
	image_part(&b, s->name, 60);
	return dc_buf_detach(&b, NULL);
}

/* The registry an image reference lives on, as a dockercfg key. */
static void registry_of(char *out, size_t size, const char *ref)
{
	const char *slash = strchr(ref, '/');

	if (slash && (memchr(ref, '.', (size_t)(slash - ref)) || memchr(ref, ':', (size_t)(slash - ref)) ||
		      (slash - ref == 9 && !memcmp(ref, "localhost", 9))))
		snprintf(out, size, "%.*s", (int)(slash - ref), ref);
	else
		snprintf(out, size, "https://index.docker.io/v1/");
}

static int prepare(run *r, dc_engine *e, const dc_service *s, const inherit *cred);

typedef struct {
	dc_strv env, binds, cmd, entrypoint, links, volumes_from, labels, aliases;
	char *image;
	char *name;
	dc_engine_container c;
} cspec;

static void cspec_release(cspec *c)
{
	env_wipe(&c->env);
	dc_strv_release(&c->binds);
	dc_strv_release(&c->cmd);
	dc_strv_release(&c->entrypoint);
	dc_strv_release(&c->links);
	dc_strv_release(&c->volumes_from);
	dc_strv_release(&c->labels);
	dc_strv_release(&c->aliases);
	free(c->image);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

static int push_fmt(dc_strv *v, const char *fmt, ...) DC_PRINTF(2, 3);
static int push_fmt(dc_strv *v, const char *fmt, ...)
{
	dc_buf b = DC_BUF_INIT;
	va_list ap;
	int err;

	va_start(ap, fmt);
	dc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	err = dc_buf_failed(&b) ? dc_error_set(DC_ERR, "out of memory") : dc_strv_push(v, b.ptr, 0);
	dc_buf_release(&b);
	return err;
}

static int labels_for(dc_strv *l, run *r, const char *step, const char *service)
{
	if (push_fmt(l, "%s=%s", DC_ENGINE_LABEL_RUN, r->run_id) < 0 ||
	    push_fmt(l, "%s=%s", DC_ENGINE_LABEL_PROJECT, r->project) < 0 ||
	    (step && push_fmt(l, "%s=%s", DC_ENGINE_LABEL_STEP, step) < 0) ||
	    (service && push_fmt(l, "%s=%s", DC_ENGINE_LABEL_SERVICE, service) < 0))
		return DC_ERR;
	return 0;
}

static const char *const empty_argv[] = { NULL };

/* The container of service `s` (its image prepared), in `network`. */
static int cspec_make(cspec *c, run *r, dc_engine *e, const dc_service *s, const char *step,
		      const char *network, const char *const *argv)
{
	size_t i;
	int err;

	(void)e;
	if (!(c->image = service_image(r, s)))
		return dc_error_set(DC_ERR, "out of memory");
	if ((err = service_env(&c->env, r, s)) < 0)
		return err;
	for (i = 0; i < s->volumes.n; i++) {
		const char *v = s->volumes.v[i];
		if (strchr(v, ':'))
			err = dc_strv_push(&c->binds, v, 0);
		/* a bare container path is an anonymous volume: the engine makes
		 * one when the image declares it; nothing to bind */
		if (err < 0)
			return err;
	}
	if (s->add_docker) {
		const char *sock = dc_engine_unix_path(e), *cert = dc_engine_cert_path(e);
		if (sock) {
			if (push_fmt(&c->binds, "%s:/var/run/docker.sock", sock) < 0 ||
			    dc_strv_push(&c->env, "DOCKER_HOST=unix:///var/run/docker.sock", 0) < 0)
				return DC_ERR;
		} else if (push_fmt(&c->env, "DOCKER_HOST=%s", dc_engine_host(e)) < 0)
			return DC_ERR;
		if (cert && (push_fmt(&c->binds, "%s:%s:ro", cert, cert) < 0 ||
			     push_fmt(&c->env, "DOCKER_CERT_PATH=%s", cert) < 0 ||
			     (dc_engine_tls_verify(e) && dc_strv_push(&c->env, "DOCKER_TLS_VERIFY=1", 0) < 0)))
			return DC_ERR;
	}
	if (argv) {
		for (i = 0; argv[i]; i++)
			if ((err = dc_strv_push(&c->cmd, argv[i], 0)) < 0)
				return err;
	} else if (s->command_set) {
		for (i = 0; i < s->command.n; i++)
			if ((err = dc_strv_push(&c->cmd, s->command.v[i], 0)) < 0)
				return err;
	}
	if (r->ep_service == s) { /* the main container of `run --entrypoint` */
		for (i = 0; i < r->ep.n; i++)
			if ((err = dc_strv_push(&c->entrypoint, r->ep.v[i], 0)) < 0)
				return err;
	} else if (s->entrypoint_set)
		for (i = 0; i < s->entrypoint.n; i++)
			if ((err = dc_strv_push(&c->entrypoint, s->entrypoint.v[i], 0)) < 0)
				return err;
	for (i = 0; i < s->volumes_from.n; i++) {
		dc_buf vf = DC_BUF_INIT;
		dc_buf_printf(&vf, "dcgen-%s-vf-", r->run_id);
		sanitize(&vf, s->volumes_from.v[i], 60);
		err = dc_buf_failed(&vf) ? dc_error_set(DC_ERR, "out of memory")
					 : dc_strv_push(&c->volumes_from, vf.ptr, 0);
		dc_buf_release(&vf);
		if (err < 0)
			return err;
	}
	if (labels_for(&c->labels, r, step, s->name) < 0 || dc_strv_push(&c->aliases, s->name, 0) < 0)
		return DC_ERR;
	memset(&c->c, 0, sizeof(c->c));
	c->c.image = c->image;
	if (argv || s->command_set)
		c->c.cmd = c->cmd.v ? (const char *const *)c->cmd.v : empty_argv;
	if (s->entrypoint_set || r->ep_service == s)
		c->c.entrypoint = c->entrypoint.v ? (const char *const *)c->entrypoint.v : empty_argv;
	c->c.env = (const char *const *)c->env.v;
	c->c.binds = (const char *const *)c->binds.v;
	c->c.working_dir = s->working_dir;
	c->c.user = s->user;
	c->c.hostname = s->hostname;
	c->c.network = network;
	c->c.aliases = (const char *const *)c->aliases.v;
	c->c.volumes_from = (const char *const *)c->volumes_from.v;
	c->c.labels = (const char *const *)c->labels.v;
	return 0;
}

/* Credentials for a registry: the encrypted dockercfg wins over the
 * generator (STEPS). res->auth is empty when neither is set. */
static int auth_for(dc_gen_result *res, run *r, dc_engine *e, const char *encpath, const char *gensvc,
		    const char *registry, const char *step)
{
	int err = 0;

	if (encpath) {
		dc_buf plain = DC_BUF_INIT;
		char what[600];
		const char *base = strrchr(encpath, '/');
		snprintf(what, sizeof(what), "encrypted dockercfg '%s'", base ? base + 1 : encpath);
		dc_buf_init(&plain, 0, DC_BUF_SECRET);
		if ((err = decrypt(r, &plain, encpath, NULL, what)) == 0)
			err = dc_dockercfg_pick(res, plain.ptr, plain.len, registry, what);
		dc_buf_release(&plain);
		return err;
	}
	if (gensvc) {
		const dc_service *g = dc_model_service(r->m, gensvc);
		cspec c = { 0 };
		dc_gen_spec spec = { 0 };
		linectx lc = { r, gensvc };
		if (!g)
			return dc_error_set(DC_EUSAGE, "dockercfg_service '%s' is not a service", gensvc);
		if ((err = prepare(r, e, g, NULL)) < 0)
			return err;
		if ((err = cspec_make(&c, r, e, g, step, NULL, NULL)) == 0) {
			spec.service = gensvc;
			spec.container = &c.c;
			spec.registry = registry;
			spec.run_id = r->run_id;
			if (registry)
				dc_log_info(r->o->log, "running dockercfg generator '%s' for registry '%s'", gensvc, registry);
			else
				dc_log_info(r->o->log, "running dockercfg generator '%s'", gensvc);
			err = dc_generator_run(res, e, &spec, on_line, &lc);
		}
		cspec_release(&c);
	}
	return err;
}

/* Pull or build the image of `s`, once per run. `cred` (may be NULL): the
 * step's credentials, used when the service has none. */
static int prepare(run *r, dc_engine *e, const dc_service *s, const inherit *cred)
{
	size_t idx = (size_t)(s - r->m->services);
	char *image = NULL;
	char registry[256];
	dc_gen_result res = DC_GEN_RESULT_INIT;
	dc_buf prefix = DC_BUF_INIT;
	linectx lc = { r, NULL };
	const char *encpath, *gensvc;
	int err = 0, have;

	pthread_mutex_lock(&r->prep_lock);
	if (r->prepared[idx]) {
		err = r->prepared[idx] > 0 ? 0
					   : dc_error_set(DC_ERR, "the image of service '%s' could not be prepared; "
								  "see above", s->name);
		goto done;
	}
	if (!(image = service_image(r, s))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	dc_buf_printf(&prefix, "%s (load)", s->name);
	lc.prefix = prefix.ptr;
	encpath = s->encrypted_dockercfg_path;
	gensvc = s->dockercfg_service;
	if (!encpath && !gensvc && cred) {
		encpath = cred->encrypted_dockercfg_path;
		gensvc = cred->dockercfg_service;
	}
	if (!encpath && !gensvc) {
		encpath = r->o->encrypted_dockercfg_path;
		gensvc = r->o->dockercfg_service;
	}
	if (s->build) {
		dc_strv args = { 0 };
		dc_buf val = DC_BUF_INIT, plain = DC_BUF_INIT;
		const char *tags[2] = { image, NULL };
		const char *labels[3] = { NULL, NULL, NULL };
		dc_buf lproj = DC_BUF_INIT;
		dc_engine_build b = { 0 };
		dc_template_data td;
		size_t i;

		template_data(&td, r, NULL, s->name, image);
		for (i = 0; i < s->build_args.n && err == 0; i++) {
			const char *kv = s->build_args.v[i], *eq = strchr(kv, '=');
			dc_buf_reset(&val);
			if (!eq) {
				const char *hv = dc_env_get(r->env, kv);
				if (hv)
					dc_buf_printf(&val, "%s=%s", kv, hv);
				else
					continue;
			} else {
				dc_buf_put(&val, kv, (size_t)(eq - kv + 1));
				if ((err = dc_template_render(&val, eq + 1, &td)) < 0) {
					dc_error_set(err, "service '%s': build arg '%.*s': %s", s->name, (int)(eq - kv),
						     kv, dc_error_last());
					break;
				}
			}
			if (dc_buf_failed(&val) || dc_strv_push(&args, val.ptr, 0) < 0)
				err = dc_error_set(DC_ERR, "out of memory");
		}
		for (i = 0; i < s->encrypted_args_files.n + s->encrypted_args.n && err == 0; i++) {
			int file = i < s->encrypted_args_files.n;
			char what[512];
			dc_buf_release(&plain);
			dc_buf_init(&plain, 0, DC_BUF_SECRET);
			snprintf(what, sizeof(what), "service '%s': %s", s->name,
				 file ? "build.encrypted_args_file" : "build.encrypted_args");
			if ((err = decrypt(r, &plain, file ? s->encrypted_args_files.v[i] : NULL,
					   file ? NULL : s->encrypted_args.v[i - s->encrypted_args_files.n], what)) == 0)
				err = parse_env_text(&args, plain.ptr, plain.len, what, r->o->log->redactor);
		}
		dc_buf_release(&plain);
		dc_buf_release(&val);
		/* credentials for private FROM images: every entry of the dockercfg */
		if (err == 0 && (encpath || gensvc))
			err = auth_for(&res, r, e, encpath, gensvc, NULL, NULL);
		if (err == 0) {
			dc_buf_printf(&lproj, "%s=%s", DC_ENGINE_LABEL_PROJECT, r->project);
			b.registry_config = res.config.len ? res.config.ptr : NULL;
			labels[0] = lproj.ptr;
			b.context_dir = s->context;
			b.dockerfile = s->dockerfile;
			b.tags = tags;
			b.build_args = (const char *const *)args.v;
			b.labels = labels;
			dc_log_info(r->o->log, "building service '%s' as '%s'", s->name, image);
			err = dc_engine_image_build(NULL, e, &b, on_line, &lc);
		}
		env_wipe(&args);
		dc_buf_release(&lproj);
		goto mark;
	}
	if ((have = dc_engine_image_exists(e, image)) < 0) {
		err = have;
		goto mark;
	}
	if (have && !r->o->pull_if_present)
		goto mark;
	registry_of(registry, sizeof(registry), image);
	if ((err = auth_for(&res, r, e, encpath, gensvc, registry, NULL)) < 0) {
		if (have) { /* present already: a failed refresh is not fatal */
			dc_log_warn(r->o->log, "service '%s': not pulled again: %s", s->name, dc_error_last());
			err = 0;
		}
		goto mark;
	}
	dc_log_info(r->o->log, "pulling '%s' for service '%s'", image, s->name);
	err = dc_engine_image_pull(e, image, res.auth.len ? res.auth.ptr : NULL, on_line, &lc);
	if (err < 0 && have && !g_signal) {
		dc_log_warn(r->o->log, "service '%s': pull failed, using the local image: %s", s->name, dc_error_last());
		err = 0;
	}
mark:
	r->prepared[idx] = err < 0 ? -1 : 1;
done:
	pthread_mutex_unlock(&r->prep_lock);
	dc_gen_result_release(&res);
	dc_buf_release(&prefix);
	free(image);
	return err;
}

/* ---- one step's containers ---- */

typedef struct {
	char *network;
	char **ids;
	size_t n;
} stepobj;

static void stepobj_remove(run *r, dc_engine *e, stepobj *so);

/* The reaper: one thread with its own engine handle that removes what
 * finished steps leave, in order (containers before their network), while
 * the next steps run. dc_steps_run drains it before its final sweep. */
typedef struct reaper {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	stepobj *q;
	size_t n, cap;
	int done;
	dc_engine *e;
	run *r;
} reaper;

static void *reaper_main(void *arg)
{
	reaper *rp = arg;
	stepobj so;

	pthread_mutex_lock(&rp->mu);
	for (;;) {
		while (!rp->n && !rp->done)
			pthread_cond_wait(&rp->cv, &rp->mu);
		if (!rp->n)
			break;
		so = rp->q[0];
		memmove(rp->q, rp->q + 1, (rp->n - 1) * sizeof(*rp->q));
		rp->n--;
		pthread_mutex_unlock(&rp->mu);
		stepobj_remove(rp->r, rp->e, &so);
		pthread_mutex_lock(&rp->mu);
	}
	pthread_mutex_unlock(&rp->mu);
	dc_error_clear();
	return NULL;
}

/* Start the reaper; without one (it failed to start, or --no-remove)
 * removal happens in the step's own thread. */
static void reaper_start(run *r, const dc_engine *e)
{
	reaper *rp;

	if (r->o->no_remove || !(rp = calloc(1, sizeof(*rp))))
		return;
	pthread_mutex_init(&rp->mu, NULL);
	pthread_cond_init(&rp->cv, NULL);
	rp->r = r;
	if (dc_engine_clone(&rp->e, e) < 0 || pthread_create(&rp->th, NULL, reaper_main, rp) != 0) {
		dc_engine_free(rp->e);
		pthread_mutex_destroy(&rp->mu);
		pthread_cond_destroy(&rp->cv);
		free(rp);
		return;
	}
	r->reaper = rp;
}

static void reaper_stop(run *r)
{
	reaper *rp = r->reaper;

	if (!rp)
		return;
	pthread_mutex_lock(&rp->mu);
	rp->done = 1;
	pthread_cond_signal(&rp->cv);
	pthread_mutex_unlock(&rp->mu);
	pthread_join(rp->th, NULL);
	dc_engine_free(rp->e);
	pthread_mutex_destroy(&rp->mu);
	pthread_cond_destroy(&rp->cv);
	free(rp->q);
	free(rp);
	r->reaper = NULL;
}

/* Hand the step's objects to the reaper (or remove them now). */
static void stepobj_teardown(run *r, dc_engine *e, stepobj *so)
{
	reaper *rp = r->reaper;

	if (rp && !r->o->no_remove) {
		pthread_mutex_lock(&rp->mu);
		if (rp->n == rp->cap) {
			size_t cap = rp->cap ? rp->cap * 2 : 16;
			stepobj *q = realloc(rp->q, cap * sizeof(*q));
			if (q) {
				rp->q = q;
				rp->cap = cap;
			}
		}
		if (rp->n < rp->cap) {
			rp->q[rp->n++] = *so;
			memset(so, 0, sizeof(*so));
			pthread_cond_signal(&rp->cv);
			pthread_mutex_unlock(&rp->mu);
			return;
		}
		pthread_mutex_unlock(&rp->mu);
	}
	stepobj_remove(r, e, so);
}

static void stepobj_remove(run *r, dc_engine *e, stepobj *so)
{
	size_t i;

	for (i = so->n; i-- > 0;) {
		if (!r->o->no_remove && dc_engine_container_remove(e, so->ids[i], 1, 1) < 0 &&
		    !strstr(dc_error_last(), "No such"))
			dc_log_warn(r->o->log, "cannot remove container: %s", dc_error_last());
		free(so->ids[i]);
	}
	free(so->ids);
	if (so->network) {
		if (!r->o->no_remove && dc_engine_network_remove(e, so->network) < 0)
			dc_log_warn(r->o->log, "cannot remove network '%s': %s", so->network, dc_error_last());
		free(so->network);
	}
	memset(so, 0, sizeof(*so));
}

static int stepobj_add(stepobj *so, char *id)
{
	char **n = realloc(so->ids, (so->n + 1) * sizeof(*n));

	if (!n) {
		free(id);
		return dc_error_set(DC_ERR, "out of memory");
	}
	so->ids = n;
	so->ids[so->n++] = id;
	return 0;
}

/* Create the volumes_from containers of `s` once per run. */
static int volumes_from_ready(run *r, dc_engine *e, const dc_service *s, const inherit *cred)
{
	size_t i;
	int err = 0;

	for (i = 0; i < s->volumes_from.n && err == 0; i++) {
		const dc_service *v = dc_model_service(r->m, s->volumes_from.v[i]);
		cspec c = { 0 };
		char *id = NULL;
		if (!v)
			continue;
		if ((err = prepare(r, e, v, cred)) < 0)
			break;
		pthread_mutex_lock(&r->prep_lock);
		if ((err = cspec_make(&c, r, e, v, NULL, NULL, NULL)) == 0 &&
		    (err = push_fmt(&c.labels, "dcgen.volumes_from=1")) == 0) {
			dc_buf name = DC_BUF_INIT;
			dc_buf_printf(&name, "dcgen-%s-vf-", r->run_id);
			sanitize(&name, v->name, 60);
			c.c.name = name.ptr;
			c.c.labels = (const char *const *)c.labels.v;
			if (!c.c.cmd) {
				/* created, never started: an image without CMD needs one */
				static const char *const placeholder[] = { "true", NULL };
				c.c.cmd = placeholder;
			}
			err = dc_engine_container_create(&id, e, &c.c);
			if (err < 0 && strstr(dc_error_last(), "already in use"))
				err = 0;
			dc_buf_release(&name);
		}
		pthread_mutex_unlock(&r->prep_lock);
		free(id);
		cspec_release(&c);
	}
	return err;
}

/* Start the dependencies of `s` (depends_on and links, recursively, each
 * once) in the step's network. */
static int start_deps(run *r, dc_engine *e, const dc_service *s, const char *step, stepobj *so,
		      const inherit *cred, unsigned char *started)
{
	size_t i;
	int err;

	for (i = 0; i < s->depends_on.n + s->links.n; i++) {
		const char *ref = i < s->depends_on.n ? s->depends_on.v[i] : s->links.v[i - s->depends_on.n];
		const char *colon = i >= s->depends_on.n ? strchr(ref, ':') : NULL;
		char name[256];
		const dc_service *d;
		cspec c = { 0 };
		char *id = NULL;
		size_t di;

		snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - ref) : (int)strlen(ref), ref);
		if (!(d = dc_model_service(r->m, name)))
			continue;
		di = (size_t)(d - r->m->services);
		if (started[di])
			continue;
		started[di] = 1;
		if ((err = start_deps(r, e, d, step, so, cred, started)) < 0 || (err = prepare(r, e, d, cred)) < 0 ||
		    (err = volumes_from_ready(r, e, d, cred)) < 0)
			return err;
		if ((err = cspec_make(&c, r, e, d, step, so->network, NULL)) < 0)
			goto fail;
		/* every alias any service gives this one */
		for (size_t k = 0; k < r->m->nservices; k++) {
			const dc_service *o = &r->m->services[k];
			for (size_t j = 0; j < o->links.n; j++) {
				const char *lc = strchr(o->links.v[j], ':');
				if (lc && (size_t)(lc - o->links.v[j]) == strlen(d->name) &&
				    !strncmp(o->links.v[j], d->name, strlen(d->name)) &&
				    (err = dc_strv_push(&c.aliases, lc + 1, 0)) < 0)
					goto fail;
			}
		}
		c.c.aliases = (const char *const *)c.aliases.v;
		if ((err = dc_engine_container_create(&id, e, &c.c)) < 0)
			goto fail;
		if ((err = stepobj_add(so, id)) < 0)
			goto fail;
		if ((err = dc_engine_container_start(e, so->ids[so->n - 1])) < 0)
			goto fail;
		cspec_release(&c);
		continue;
fail:
		cspec_release(&c);
		return err;
	}
	return 0;
}

/* Run `argv` (NULL: the service's command) in a fresh container of `s`
 * with fresh dependencies, in a network of its own. */
static int run_container(int *code, run *r, dc_engine *e, const dc_service *s, const char *step,
			 const char *const *argv, const inherit *cred)
{
	stepobj so = { 0 };
	cspec c = { 0 };
	dc_buf net = DC_BUF_INIT, lab = DC_BUF_INIT;
	unsigned char *started = NULL;
	char *id = NULL;
	linectx lc = { r, step };
	const char *labels[3] = { NULL, NULL, NULL };
	int err;

	*code = -1;
	if ((err = prepare(r, e, s, cred)) < 0 || (err = volumes_from_ready(r, e, s, cred)) < 0)
		return err;
	dc_buf_printf(&net, "dcgen-%s-%u-", r->run_id, next_id(r));
	sanitize(&net, step, 40);
	dc_buf_printf(&lab, "%s=%s", DC_ENGINE_LABEL_RUN, r->run_id);
	labels[0] = lab.ptr;
	if (dc_buf_failed(&net) || !(started = calloc(r->m->nservices + 1, 1))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	/* A step with dependencies gets a network of its own, where names
	 * resolve to its fresh dependencies. A lone container gets the engine's
	 * default network, as `docker run` does: making and removing a bridge
	 * costs about as much as running the container (README). */
	if (s->depends_on.n || s->links.n) {
		dc_buf l2 = DC_BUF_INIT;
		dc_buf_printf(&l2, "%s=%s", DC_ENGINE_LABEL_PROJECT, r->project);
		labels[1] = l2.ptr;
		err = dc_engine_network_create(NULL, e, net.ptr, labels);
		dc_buf_release(&l2);
		labels[1] = NULL;
		if (err < 0)
			goto done;
		so.network = dc_buf_detach(&net, NULL);
	}
	started[s - r->m->services] = 1;
	if ((err = start_deps(r, e, s, step, &so, cred, started)) < 0)
		goto done;
	if ((err = cspec_make(&c, r, e, s, step, so.network, argv)) < 0)
		goto done;
	if ((err = dc_engine_container_create(&id, e, &c.c)) < 0)
		goto done;
	if ((err = stepobj_add(&so, id)) < 0)
		goto done;
	id = so.ids[so.n - 1];
	if ((err = dc_engine_container_start_attached(e, id, on_line, &lc)) < 0)
		goto done;
	err = dc_engine_container_wait(code, e, id);
done:
	stepobj_teardown(r, e, &so); /* removal is not interruptible */
	cspec_release(&c);
	free(started);
	dc_buf_release(&net);
	dc_buf_release(&lab);
	return err;
}

/* ---- the step tree ---- */

static int exec_steps(run *r, dc_engine *e, const dc_step *v, size_t n, const inherit *in, int parallel,
		      const char *fanout_service);

static void merge_inherit(inherit *out, const inherit *in, const dc_step *s)
{
	*out = *in;
	if (s->service)
		out->service = s->service;
	if (s->dockercfg_service || s->encrypted_dockercfg_path) {
		out->dockercfg_service = s->dockercfg_service;
		out->encrypted_dockercfg_path = s->encrypted_dockercfg_path;
	}
}

static int exec_push(run *r, dc_engine *e, const dc_step *s, const inherit *in)
{
	const dc_service *svc = dc_model_service(r->m, in->service);
	dc_buf tag = DC_BUF_INIT, ref = DC_BUF_INIT, prefix = DC_BUF_INIT;
	dc_gen_result res = DC_GEN_RESULT_INIT;
	dc_template_data td;
	char *image = NULL, registry[512];
	linectx lc = { r, NULL };
	int err;

	if (!r->o->push) {
		dc_log_info(r->o->log, "step '%s': push of '%s' skipped (pass --push to push)", s->name, s->image_name);
		return 0;
	}
	if (!svc)
		return dc_error_set(DC_EUSAGE, "step '%s': no service", s->name);
	if ((err = prepare(r, e, svc, in)) < 0)
		goto done;
	if (!(image = service_image(r, svc))) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	template_data(&td, r, s->name, svc->name, s->image_name);
	if ((err = dc_template_render(&tag, s->image_tag ? s->image_tag : "latest", &td)) < 0) {
		dc_error_set(DC_EUSAGE, "step '%s': image_tag: %s", s->name, dc_error_last());
		goto done;
	}
	dc_template_tag(&tag);
	if (!tag.len) {
		/* locally the CI fields may be empty (no git, no --ci-*) */
		dc_log_warn(r->o->log, "step '%s': image_tag '%s' renders to an empty tag; pushing 'latest'", s->name,
			    s->image_tag);
		dc_buf_puts(&tag, "latest");
	}
	dc_buf_printf(&ref, "%s:%s", s->image_name, tag.ptr);
	dc_buf_printf(&prefix, "%s (push)", s->name);
	lc.prefix = prefix.ptr;
	if (dc_buf_failed(&ref) || dc_buf_failed(&prefix)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if ((err = dc_engine_image_tag(e, image, ref.ptr)) < 0)
		goto done;
	if (s->registry)
		snprintf(registry, sizeof(registry), "%s", s->registry);
	else
		registry_of(registry, sizeof(registry), s->image_name);
	if ((err = auth_for(&res, r, e, in->encrypted_dockercfg_path, in->dockercfg_service, registry, s->name)) < 0)
		goto done;
	dc_log_info(r->o->log, "step '%s': pushing '%s'", s->name, ref.ptr);
	err = dc_engine_image_push(e, ref.ptr, res.auth.len ? res.auth.ptr : NULL, on_line, &lc);
done:
	dc_gen_result_release(&res);
	dc_buf_release(&tag);
	dc_buf_release(&ref);
	dc_buf_release(&prefix);
	free(image);
	return err;
}

/* 0 passed (or skipped), 1 failed; < 0 for a configuration error. */
static int exec_step(run *r, dc_engine *e, const dc_step *s, const inherit *parent)
{
	inherit in;
	int sel, err, code;

	if (g_signal)
		return 1;
	if ((err = dc_tags_selected(&sel, s->tag, s->exclude, r->o->tag)) < 0)
		return err;
	if (!sel) {
		dc_log_info(r->o->log, "step '%s': skipped (tag '%s')", s->name, r->o->tag ? r->o->tag : "");
		return 0;
	}
	merge_inherit(&in, parent, s);
	switch (s->type) {
	case DC_STEP_SERIAL:
	case DC_STEP_PARALLEL:
		if (s->services.n) {
			/* one chain of the children per service: in parallel for
			 * a parallel group, one after the other for a serial one */
			dc_step *chains = calloc(s->services.n, sizeof(*chains));
			int rc;
			if (!chains)
				return dc_error_set(DC_ERR, "out of memory");
			for (size_t i = 0; i < s->services.n; i++) {
				chains[i] = *s;
				chains[i].type = DC_STEP_SERIAL;
				chains[i].service = s->services.v[i];
				chains[i].services.n = 0;
				chains[i].tag = chains[i].exclude = NULL;
			}
			rc = exec_steps(r, e, chains, s->services.n, &in, s->type == DC_STEP_PARALLEL, NULL);
			free(chains);
			return rc;
		}
		return exec_steps(r, e, s->steps, s->nsteps, &in, s->type == DC_STEP_PARALLEL, NULL);
	case DC_STEP_PUSH:
		if ((err = exec_push(r, e, s, &in)) < 0) {
			if (err == DC_EUSAGE)
				return err;
			dc_log_warn(r->o->log, "step '%s' failed: %s", s->name, dc_error_last());
			return 1;
		}
		if (r->o->push)
			dc_log_info(r->o->log, "step '%s' passed", s->name);
		return 0;
	case DC_STEP_RUN: {
		dc_strv argv = { 0 };
		const dc_service *svc = dc_model_service(r->m, in.service);
		if (!svc)
			return dc_error_set(DC_EUSAGE, "step '%s': no service", s->name);
		if ((err = dc_model_split(&argv, s->command, s->name)) < 0)
			return err;
		dc_log_info(r->o->log, "step '%s': %s: %s", s->name, svc->name, s->command);
		err = run_container(&code, r, e, svc, s->name, argv.v ? (const char *const *)argv.v : empty_argv,
				    &in);
		dc_strv_release(&argv);
		if (err == DC_EUSAGE)
			return err;
		if (err < 0) {
			if (!g_signal)
				dc_log_warn(r->o->log, "step '%s' failed: %s", s->name, dc_error_last());
			code = -1;
		} else if (code != 0)
			dc_log_warn(r->o->log, "step '%s' failed: exit code %d", s->name, code);
		else
			dc_log_info(r->o->log, "step '%s' passed", s->name);
		if (code != 0 && s->non_fail && !g_signal) {
			inherit fin = in;
			dc_log_info(r->o->log, "step '%s': running its on_fail steps", s->name);
			(void)exec_steps(r, e, s->on_fail, s->non_fail, &fin, 0, NULL);
		}
		return code != 0;
	}
	}
	return 0;
}

typedef struct {
	run *r;
	const dc_engine *parent;
	const dc_step *s;
	const inherit *in;
	int rc;
	char err[512];
} job;

static void *job_main(void *arg)
{
	job *j = arg;
	dc_engine *e = NULL;

	if (dc_engine_clone(&e, j->parent) < 0) {
		j->rc = DC_ERR;
	} else {
		j->rc = exec_step(j->r, e, j->s, j->in);
		dc_engine_free(e);
	}
	if (j->rc < 0)
		snprintf(j->err, sizeof(j->err), "%s", dc_error_last());
	dc_error_clear(); /* this thread's message dies with it */
	return NULL;
}

static int exec_steps(run *r, dc_engine *e, const dc_step *v, size_t n, const inherit *in, int parallel,
		      const char *fanout_service)
{
	size_t i;
	int failed = 0, rc;

	(void)fanout_service;
	if (!parallel || n < 2) {
		for (i = 0; i < n; i++) {
			if ((rc = exec_step(r, e, &v[i], in)) < 0)
				return rc;
			if (rc) {
				failed = 1;
				if (i + 1 < n)
					dc_log_info(r->o->log, "stopping after failed step '%s'", v[i].name);
				break;
			}
		}
		return failed;
	}
	{
		job *jobs = calloc(n, sizeof(*jobs));
		pthread_t *th = calloc(n, sizeof(*th));
		int *ok = calloc(n, sizeof(int));
		int usage = 0;

		if (!jobs || !th || !ok) {
			free(jobs);
			free(th);
			free(ok);
			return dc_error_set(DC_ERR, "out of memory");
		}
		for (i = 0; i < n; i++) {
			jobs[i] = (job){ r, e, &v[i], in, 0, "" };
			ok[i] = pthread_create(&th[i], NULL, job_main, &jobs[i]) == 0;
			if (!ok[i])
				job_main(&jobs[i]);
		}
		for (i = 0; i < n; i++) {
			if (ok[i])
				pthread_join(th[i], NULL);
			if (jobs[i].rc < 0 && !usage) {
				usage = jobs[i].rc;
				dc_error_set(jobs[i].rc, "%s", jobs[i].err);
			} else if (jobs[i].rc)
				failed = 1;
		}
		free(jobs);
		free(th);
		free(ok);
		return usage ? usage : failed;
	}
}

static void sweep(run *r, dc_engine *e)
{
	char **ids = NULL, label[96];
	size_t i, n = 0;

	if (r->o->no_remove)
		return;
	snprintf(label, sizeof(label), "%s=%s", DC_ENGINE_LABEL_RUN, r->run_id);
	if (dc_engine_list(&ids, &n, e, DC_ENGINE_CONTAINERS, label) == 0) {
		for (i = 0; i < n; i++)
			if (dc_engine_container_remove(e, ids[i], 1, 1) < 0)
				dc_log_debug(r->o->log, "%s", dc_error_last());
		dc_engine_list_free(ids);
	}
	ids = NULL;
	if (dc_engine_list(&ids, &n, e, DC_ENGINE_NETWORKS, label) == 0) {
		for (i = 0; i < n; i++)
			if (dc_engine_network_remove(e, ids[i]) < 0)
				dc_log_debug(r->o->log, "%s", dc_error_last());
		dc_engine_list_free(ids);
	}
}

static int open_run(run *r, dc_engine **e, const dc_model *m, const dc_steps_opts *o, const dc_env *env)
{
	int err;

	if ((err = run_init(r, m, o, env)) < 0)
		return err;
	return dc_engine_open(e, env);
}

int dc_steps_run(int *failed, const dc_model *m, const dc_steps_opts *o, const dc_env *env)
{
	run r;
	dc_engine *e = NULL;
	inherit in = { 0 };
	int err, rc = 0;

	*failed = 0;
	if ((err = open_run(&r, &e, m, o, env)) < 0)
		goto done;
	dc_log_info(r.o->log, "run %s of project '%s' (branch '%s', commit %.12s)", r.run_id, r.project, r.ci[CI_BRANCH],
		    r.ci[CI_COMMIT_ID]);
	reaper_start(&r, e);
	rc = exec_steps(&r, e, m->steps, m->nsteps, &in, 0, NULL);
	if (rc < 0)
		err = rc;
	else
		*failed = rc || g_signal;
	reaper_stop(&r);
	if (g_signal)
		dc_engine_interrupt_clear();
	sweep(&r, e);
done:
	dc_engine_free(e);
	run_release(&r);
	return err;
}

int dc_steps_run_service(int *code, const dc_model *m, const dc_steps_opts *o, const dc_env *env,
			 const char *service, const char *const *argv)
{
	run r;
	dc_engine *e = NULL;
	const dc_service *s = dc_model_service(m, service);
	inherit in = { 0 };
	int err;

	*code = -1;
	if (!s)
		return dc_error_set(DC_EUSAGE, "no service '%s' in '%s'", service, m->services_path);
	if ((err = open_run(&r, &e, m, o, env)) < 0)
		goto done;
	in.service = service;
	if (!o->entrypoint || (err = dc_model_split(&r.ep, o->entrypoint, "--entrypoint")) == 0) {
		r.ep_service = o->entrypoint ? s : NULL;
		err = run_container(code, &r, e, s, service, argv, &in);
	}
	if (g_signal)
		dc_engine_interrupt_clear();
	sweep(&r, e);
done:
	dc_engine_free(e);
	run_release(&r);
	return err;
}

int dc_steps_load(const dc_model *m, const dc_steps_opts *o, const dc_env *env, const char *service)
{
	run r;
	dc_engine *e = NULL;
	const dc_service *s = dc_model_service(m, service);
	int err;

	if (!s)
		return dc_error_set(DC_EUSAGE, "no service '%s' in '%s'", service, m->services_path);
	if ((err = open_run(&r, &e, m, o, env)) == 0)
		err = prepare(&r, e, s, NULL);
	if (g_signal)
		dc_engine_interrupt_clear();
	sweep(&r, e);
	dc_engine_free(e);
	run_release(&r);
	return err;
}

int dc_steps_cleanup(size_t *containers, size_t *networks, const dc_model *m, const dc_env *env, int all,
		     int dry_run)
{
	dc_engine *e = NULL;
	char **ids = NULL, *project = NULL;
	dc_buf label = DC_BUF_INIT;
	size_t i, n = 0;
	int err;

	*containers = *networks = 0;
	if ((err = dc_engine_open(&e, env)) < 0)
		goto done;
	if (all)
		dc_buf_puts(&label, DC_ENGINE_LABEL_RUN);
	else if (!(project = dc_steps_project(m->dir)) ||
		 dc_buf_printf(&label, "%s=%s", DC_ENGINE_LABEL_PROJECT, project) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if ((err = dc_engine_list(&ids, &n, e, DC_ENGINE_CONTAINERS, label.ptr)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if (dry_run || dc_engine_container_remove(e, ids[i], 1, 1) == 0)
			(*containers)++;
	dc_engine_list_free(ids);
	ids = NULL;
	if ((err = dc_engine_list(&ids, &n, e, DC_ENGINE_NETWORKS, label.ptr)) < 0)
		goto done;
	for (i = 0; i < n; i++)
		if (dry_run || dc_engine_network_remove(e, ids[i]) == 0)
			(*networks)++;
done:
	dc_engine_list_free(ids);
	dc_buf_release(&label);
	free(project);
	dc_engine_free(e);
	return err;
}
