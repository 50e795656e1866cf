/* generator.c -- see generator.h. */
#include "runner/generator.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/codec.h"
#include "util/hclient.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"

/* ---- the windows a signal handler cleans ---- */

typedef struct {
	volatile sig_atomic_t used;
	char dir[PATH_MAX];
	char file[PATH_MAX];
} window;

static window windows[DC_GEN_MAX_WINDOWS];
static pthread_mutex_t windows_lock = PTHREAD_MUTEX_INITIALIZER;

static window *window_claim(void)
{
	window *w = NULL;
	int i;

	pthread_mutex_lock(&windows_lock);
	for (i = 0; i < DC_GEN_MAX_WINDOWS; i++)
		if (!windows[i].used && !windows[i].dir[0]) {
			w = &windows[i];
			w->dir[0] = 'x'; /* reserved; `used` is set once the paths are in */
			break;
		}
	pthread_mutex_unlock(&windows_lock);
	return w;
}

static void window_release(window *w)
{
	if (!w)
		return;
	w->used = 0;
	pthread_mutex_lock(&windows_lock);
	w->dir[0] = w->file[0] = '\0';
	pthread_mutex_unlock(&windows_lock);
}

void dc_generator_signal_cleanup(void)
{
	int i;

	/* unlink and rmdir only: async-signal-safe */
	for (i = 0; i < DC_GEN_MAX_WINDOWS; i++)
		if (windows[i].used) {
			unlink(windows[i].file);
			rmdir(windows[i].dir);
		}
}

/* Remove everything under the directory fd refers to (depth-bounded), then
 * nothing is left to rmdir but the directory itself. */
static void remove_tree_at(int dirfd, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd;

	if (depth > 16 || (fd = dup(dirfd)) < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			continue;
		if (errno == EISDIR || errno == EPERM) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0) {
				remove_tree_at(sub, depth + 1);
				close(sub);
			}
			unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
		}
	}
	closedir(d);
}

/* Delete the file, anything else the generator left, and the directory. */
static int window_delete(window *w)
{
	int fd, err = 0;

	if (!w || !w->used)
		return 0;
	unlink(w->file);
	if ((fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		remove_tree_at(fd, 0);
		close(fd);
	}
	if (rmdir(w->dir) < 0 && errno != ENOENT)
		err = dc_error_set(DC_ERR, "cannot remove the dockercfg directory '%s': %s; remove it by hand",
				   w->dir, strerror(errno));
	window_release(w);
	return err;
}

/* ---- dockercfg parsing ---- */

static int lower_put(dc_buf *out, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dc_buf_putc(out, (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]));
	return dc_buf_failed(out) ? DC_ERR : 0;
}

int dc_registry_normalise(dc_buf *out, const char *name)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io",
					   "registry.hub.docker.com", NULL };
	const char *p = name, *const *h;
	dc_buf host = DC_BUF_INIT;
	size_t n;
	int err = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	n = strcspn(p, "/ \t");
	if (n == 0)
		return dc_error_set(DC_EUSAGE, "registry '%s' names no host", name);
	if (lower_put(&host, p, n) < 0) {
		dc_buf_release(&host); /* what it held before it failed */
		return dc_error_set(DC_ERR, "out of memory");
	}
	for (h = hub; *h; h++)
		if (!strcmp(host.ptr, *h))
			break;
	if (*h)
		dc_buf_puts(out, "https://index.docker.io/v1/");
	else
		dc_buf_put(out, host.ptr, host.len);
	if (dc_buf_failed(out))
		err = dc_error_set(DC_ERR, "out of memory");
	dc_buf_release(&host);
	return err;
}

/* user and password (or identity token) of a dockercfg entry, copied into
 * the secret buffers. DC_ENOTFOUND when the entry holds none. */
static int entry_creds(dc_buf *user, dc_buf *pass, int *token, const json_t *entry)
{
	const char *auth = dc_json_str(entry, "auth"), *u = dc_json_str(entry, "username"),
		   *pw = dc_json_str(entry, "password"), *it = dc_json_str(entry, "identitytoken");
	dc_buf raw = DC_BUF_INIT;
	char *colon;
	int err = 0;

	*token = 0;
	dc_buf_init(&raw, 0, DC_BUF_SECRET);
	if (auth && *auth) {
		size_t n = strlen(auth);

		while (n && (auth[n - 1] == '\n' || auth[n - 1] == '\r' || auth[n - 1] == ' '))
			n--;
		if (dc_base64_decode(&raw, auth, n) < 0 || !(colon = memchr(raw.ptr, ':', raw.len))) {
			err = DC_EUSAGE;
			goto done;
		}
		dc_buf_put(user, raw.ptr, (size_t)(colon - raw.ptr));
		dc_buf_put(pass, colon + 1, raw.len - (size_t)(colon + 1 - raw.ptr));
	} else if (it && *it) {
		*token = 1;
		dc_buf_puts(pass, it);
	} else if (u && *u && pw) {
		dc_buf_puts(user, u);
		dc_buf_puts(pass, pw);
	} else {
		err = DC_ENOTFOUND;
		goto done;
	}
	if (dc_buf_failed(user) || dc_buf_failed(pass))
		err = DC_ERR;
done:
	dc_buf_release(&raw);
	return err;
}

static int finish_b64(dc_buf *out)
{
	while (out->len % 4 && !dc_buf_failed(out)) /* a failed buffer never grows */
		dc_buf_putc(out, '=');
	return dc_buf_failed(out) ? DC_ERR : 0;
}

static int dump_cb(const char *p, size_t n, void *ctx)
{
	return dc_buf_put(ctx, p, n) < 0 ? -1 : 0;
}

int dc_dockercfg_pick(dc_gen_result *out, const char *data, size_t len, const char *registry, const char *what)
{
	json_error_t jerr;
	json_t *doc = NULL, *auths, *entry, *config = NULL, *match = NULL;
	const char *key, *match_key = NULL;
	dc_buf want = DC_BUF_INIT, norm = DC_BUF_INIT, hosts = DC_BUF_INIT, user = DC_BUF_INIT,
	       pass = DC_BUF_INIT, js = DC_BUF_INIT;
	int err = 0, token, exact = 0;

	dc_buf_init(&user, 0, DC_BUF_SECRET);
	dc_buf_init(&pass, 0, DC_BUF_SECRET);
	dc_buf_init(&js, 0, DC_BUF_SECRET);
	dc_buf_release(&out->auth);
	dc_buf_release(&out->config);
	dc_buf_init(&out->auth, 0, DC_BUF_SECRET);
	dc_buf_init(&out->config, 0, DC_BUF_SECRET);
	free(out->matched);
	out->matched = NULL;
	/* only where: jansson's text may quote the file, and it holds secrets */
	if (!(doc = json_loadb(data, len, 0, &jerr))) {
		err = dc_error_set(DC_ERR, "%s wrote invalid JSON (line %d, column %d)", what, jerr.line, jerr.column);
		goto done;
	}
	if (!json_is_object(doc)) {
		err = dc_error_set(DC_ERR, "%s wrote JSON that is not an object; a dockercfg is {\"auths\": {...}}", what);
		goto done;
	}
	auths = json_object_get(doc, "auths");
	if (!json_is_object(auths))
		auths = doc; /* the legacy .dockercfg: hosts at the top */
	if (registry && (err = dc_registry_normalise(&want, registry)) < 0)
		goto done;
	if (!(config = json_object())) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	json_object_foreach(auths, key, entry) {
		if (!json_is_object(entry))
			continue;
		dc_buf_printf(&hosts, "%s%s", hosts.len ? ", " : "", key);
		dc_buf_reset(&user);
		dc_buf_reset(&pass);
		err = entry_creds(&user, &pass, &token, entry);
		if (err == DC_EUSAGE) {
			err = dc_error_set(DC_ERR, "%s wrote an entry for '%s' whose \"auth\" is not base64 of USER:PASSWORD",
					   what, key);
			goto done;
		}
		if (err == DC_ERR)
			goto oom;
		if (err == DC_ENOTFOUND) {
			err = 0;
			continue;
		}
		{
			json_t *c = token ? json_pack("{s:s, s:s}", "identitytoken", pass.ptr, "serveraddress", key)
					  : json_pack("{s:s, s:s, s:s}", "username", user.ptr, "password", pass.ptr,
						      "serveraddress", key);

			if (!c || json_object_set_new(config, key, c) < 0)
				goto oom;
		}
		if (!registry || exact)
			continue;
		if (!strcmp(key, registry)) {
			match = entry;
			match_key = key;
			exact = 1;
			continue;
		}
		dc_buf_reset(&norm);
		if (dc_registry_normalise(&norm, key) < 0) {
			dc_error_clear();
			continue;
		}
		if (!match && !strcmp(norm.ptr, want.ptr)) {
			match = entry;
			match_key = key;
		}
	}
	if (dc_buf_failed(&hosts))
		goto oom;
	if (registry && !match) {
		err = dc_error_set(DC_ERR, "%s wrote no credentials for registry '%s' (it has: %s); check the generator's registry settings",
				   what, registry, hosts.len ? hosts.ptr : "no entries");
		goto done;
	}
	if (match) {
		dc_buf_reset(&user);
		dc_buf_reset(&pass);
		if ((err = entry_creds(&user, &pass, &token, match)) < 0)
			goto oom;
		if ((err = dc_engine_auth_encode(&out->auth, token ? NULL : user.ptr, pass.ptr, match_key)) < 0)
			goto done;
		if (!(out->matched = strdup(match_key)))
			goto oom;
	}
	if (json_dump_callback(config, dump_cb, &js, JSON_COMPACT) < 0 ||
	    dc_base64url_encode(&out->config, js.ptr, js.len) < 0 || finish_b64(&out->config) < 0)
		goto oom;
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	json_decref(doc);
	json_decref(config);
	dc_buf_release(&want);
	dc_buf_release(&norm);
	dc_buf_release(&hosts);
	dc_buf_release(&user);
	dc_buf_release(&pass);
	dc_buf_release(&js);
	return err;
}

void dc_gen_result_release(dc_gen_result *r)
{
	dc_buf_release(&r->auth);
	dc_buf_release(&r->config);
	free(r->matched);
	r->matched = NULL;
	r->exit_code = 0;
}

/* ---- running the generator ---- */

static size_t count(const char *const *l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

/* A NULL-terminated array of a's items then b's then the extras. The
 * strings are borrowed. */
static const char **concat(const char *const *a, const char *const *b, const char *x1, const char *x2)
{
	size_t na = count(a), nb = count(b), n = 0;
	const char **out = calloc(na + nb + 3, sizeof(*out));

	if (!out)
		return NULL;
	if (na)
		memcpy(out, a, na * sizeof(*out));
	n += na;
	if (nb)
		memcpy(out + n, b, nb * sizeof(*out));
	n += nb;
	if (x1)
		out[n++] = x1;
	if (x2)
		out[n++] = x2;
	return out;
}

/* Read the file the generator wrote: directly when we may, else through
 * the engine. DC_ENOTFOUND when there is none. */
static int read_output(dc_buf *out, dc_engine *e, const char *id, const window *w)
{
	struct stat st;
	ssize_t n;
	int fd, err = 0;

	fd = open(w->file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return dc_engine_container_read_file(out, e, id, DC_GEN_FILE, DC_GEN_MAX_FILE);
	if (fd < 0 && errno == ENOENT) {
		/* a remote engine mounts a directory of its own machine: ask it */
		err = dc_engine_container_read_file(out, e, id, DC_GEN_FILE, DC_GEN_MAX_FILE);
		return err;
	}
	if (fd < 0)
		return dc_error_set(DC_ERR, "cannot read the generator's file '%s': %s", w->file, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = dc_error_set(DC_ERR, "the generator's output '%s' is not a regular file", DC_GEN_FILE);
		goto done;
	}
	if (st.st_size > DC_GEN_MAX_FILE) {
		err = dc_error_set(DC_ERR, "the generator's output '%s' is larger than %d bytes", DC_GEN_FILE,
				   DC_GEN_MAX_FILE);
		goto done;
	}
	for (;;) {
		char *dst = dc_buf_extend(out, 4096, '\0');

		if (!dst) {
			err = dc_error_set(DC_ERR, "out of memory");
			goto done;
		}
		n = read(fd, dst, 4096);
		if (n < 0 && errno == EINTR)
			n = 0;
		if (n < 0) {
			err = dc_error_set(DC_ERR, "cannot read the generator's file '%s': %s", w->file, strerror(errno));
			goto done;
		}
		out->len -= 4096 - (size_t)n;
		out->ptr[out->len] = '\0';
		if (n == 0 && out->len >= (size_t)st.st_size)
			break;
		if (out->len > DC_GEN_MAX_FILE) {
			err = dc_error_set(DC_ERR, "the generator's output '%s' is larger than %d bytes", DC_GEN_FILE,
					   DC_GEN_MAX_FILE);
			goto done;
		}
		if (n == 0)
			break;
	}
done:
	close(fd);
	return err;
}

int dc_generator_run(dc_gen_result *out, dc_engine *e, const dc_gen_spec *g, dc_engine_line_fn on_line, void *ctx)
{
	const dc_engine_container *svc = g->container;
	dc_engine_container spec;
	window *w = NULL;
	dc_buf bind = DC_BUF_INIT, label_run = DC_BUF_INIT, label_svc = DC_BUF_INIT, what = DC_BUF_INIT,
	       file = DC_BUF_INIT;
	const char **binds = NULL, **labels = NULL, **cmd = NULL;
	char **img_ep = NULL, **img_cmd = NULL, *id = NULL;
	const char *tmp = g->tmpdir;
	int err = 0, code = -1, logs_err = 0, have_file = 0;

	out->exit_code = -1;
	dc_buf_init(&file, DC_GEN_MAX_FILE, DC_BUF_SECRET);
	dc_buf_printf(&what, "dockercfg generator '%s'", g->service);
	if (dc_buf_failed(&what))
		return dc_error_set(DC_ERR, "out of memory");
	err = dc_engine_image_argv(&img_ep, &img_cmd, e, svc->image);
	if (err == DC_ENOTFOUND) {
		err = dc_error_set(DC_EUSAGE, "the image '%s' of %s is not present; pull or build it first", svc->image,
				   what.ptr);
		goto done;
	}
	if (err < 0)
		goto done;

	/* 1. the private directory */
	if (!tmp && !(tmp = getenv("TMPDIR")))
		tmp = "/tmp";
	if (!(w = window_claim())) {
		err = dc_error_set(DC_ERR, "more than %d dockercfg generators at once", DC_GEN_MAX_WINDOWS);
		goto done;
	}
	if ((size_t)snprintf(w->dir, sizeof(w->dir), "%s/dcgen-dockercfg-XXXXXX", tmp) >= sizeof(w->dir) - 16) {
		err = dc_error_set(DC_EUSAGE, "the temporary directory '%s' has too long a name; set TMPDIR", tmp);
		window_release(w);
		w = NULL;
		goto done;
	}
	if (!mkdtemp(w->dir)) {
		err = dc_error_set(DC_ERR, "cannot create a private directory in '%s': %s; set TMPDIR", tmp,
				   strerror(errno));
		window_release(w);
		w = NULL;
		goto done;
	}
	{
		size_t dl = strlen(w->dir); /* shorter than sizeof - 16: checked above */

		memcpy(w->file, w->dir, dl);
		memcpy(w->file + dl, "/dockercfg", sizeof("/dockercfg"));
	}
	w->used = 1;
	if (chmod(w->dir, 0700) < 0) {
		err = dc_error_set(DC_ERR, "cannot make '%s' private: %s", w->dir, strerror(errno));
		goto done;
	}

	/* 2. the container: the path is the one argument */
	dc_buf_printf(&bind, "%s:%s:rw", w->dir, DC_GEN_MOUNT);
	dc_buf_printf(&label_run, "%s=%s", DC_ENGINE_LABEL_RUN, g->run_id ? g->run_id : "");
	dc_buf_printf(&label_svc, "%s=%s", DC_ENGINE_LABEL_SERVICE, g->service);
	if (dc_buf_failed(&bind) || dc_buf_failed(&label_run) || dc_buf_failed(&label_svc))
		goto oom;
	if ((svc->entrypoint && *svc->entrypoint) || (!svc->entrypoint && *img_ep))
		cmd = concat(svc->cmd, NULL, DC_GEN_FILE, NULL);
	else /* no ENTRYPOINT at all: the command itself takes the path */
		cmd = concat(svc->cmd ? svc->cmd : (const char *const *)img_cmd, NULL, DC_GEN_FILE, NULL);
	binds = concat(svc->binds, NULL, bind.ptr, NULL);
	labels = concat(svc->labels, NULL, g->run_id ? label_run.ptr : NULL, label_svc.ptr);
	if (!cmd || !binds || !labels)
		goto oom;
	spec = *svc;
	spec.name = NULL;
	spec.cmd = cmd;
	spec.binds = binds;
	spec.labels = labels;
	spec.tty = 0;
	if ((err = dc_engine_container_create(&id, e, &spec)) < 0)
		goto done;

	/* 3. run it, its output to the caller, its exit code */
	logs_err = dc_engine_container_start_attached(e, id, on_line, ctx);
	if (logs_err < 0 && dc_hclient_interrupted())
		goto interrupted;
	if (logs_err < 0) {
		err = logs_err;
		goto done;
	}
	if ((err = dc_engine_container_wait(&code, e, id)) < 0) {
		if (dc_hclient_interrupted())
			goto interrupted;
		goto done;
	}
	out->exit_code = code;

	/* 4. and 5. read the file, delete it and its directory at once (a
	 * signal handler may have deleted them already: then say so) */
	if (dc_hclient_interrupted())
		goto interrupted;
	err = read_output(&file, e, id, w);
	if (err == DC_ENOTFOUND) {
		dc_error_clear();
		err = 0;
	} else if (err == 0) {
		have_file = 1;
	}
	{
		int del = window_delete(w);

		w = NULL;
		if (err == 0)
			err = del;
	}
	if (err < 0)
		goto done;
	if (code != 0) {
		err = dc_error_set(DC_ERR, "%s exited with code %d; see its output above", what.ptr, code);
		goto done;
	}
	if (!have_file) {
		err = dc_error_set(DC_ERR, "%s wrote no file at '%s'; it must write a dockercfg to its one argument",
				   what.ptr, DC_GEN_FILE);
		goto done;
	}
	/* 6. the entry for the registry */
	err = dc_dockercfg_pick(out, file.ptr, file.len, g->registry, what.ptr);
	goto done;
interrupted:
	err = dc_error_set(DC_ERR, "%s was interrupted", what.ptr);
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	if (w) {
		int keep = err;

		if (window_delete(w) < 0 && keep == 0)
			err = DC_ERR;
	}
	dc_buf_release(&file);
	if (id) {
		/* not interruptible: this runs after a Ctrl-C too; the message
		 * of the failure that got us here is kept */
		dc_buf msg = DC_BUF_INIT;

		dc_buf_puts(&msg, dc_error_last());
		if (dc_engine_container_remove(e, id, 1, 1) < 0 && err == 0)
			err = DC_ERR;
		else if (err < 0)
			dc_error_set(err, "%s", msg.ptr);
		dc_buf_release(&msg);
	}
	if (err < 0)
		dc_gen_result_release(out), out->exit_code = code;
	free(id);
	free(cmd);
	free(binds);
	free(labels);
	dc_engine_list_free(img_ep);
	dc_engine_list_free(img_cmd);
	dc_buf_release(&bind);
	dc_buf_release(&label_run);
	dc_buf_release(&label_svc);
	dc_buf_release(&what);
	return err;
}
