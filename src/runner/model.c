/* model.c -- parse and check the services and steps files (libyaml's
 * document API: every node carries its line). */
#include "runner/model.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "util/buf.h"

typedef struct {
	dc_model *m;
	const char *file; /* short name for messages */
	const char *base; /* relative paths in this file start here */
	yaml_document_t doc;
	int oom;
	char warned[64][24]; /* ignored keys already warned about */
	size_t nwarned;
} ctx;

static int diag(ctx *c, int error, int line, const char *fmt, ...) DC_PRINTF(4, 5);

static int diag(ctx *c, int error, int line, const char *fmt, ...)
{
	dc_buf b = DC_BUF_INIT;
	dc_diag *d;
	va_list ap;

	dc_buf_printf(&b, "%s:%d: ", c->file, line);
	va_start(ap, fmt);
	dc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	d = realloc(c->m->diags, (c->m->ndiags + 1) * sizeof(*d));
	if (dc_buf_failed(&b) || !d) {
		if (d)
			c->m->diags = d;
		dc_buf_release(&b);
		c->oom = 1;
		return DC_ERR;
	}
	c->m->diags = d;
	d[c->m->ndiags].error = error;
	d[c->m->ndiags].text = dc_buf_detach(&b, NULL);
	if (error && !c->m->nerrors)
		dc_error_set(DC_EUSAGE, "%s", d[c->m->ndiags].text);
	c->m->ndiags++;
	c->m->nerrors += error != 0;
	return 0;
}

static char *sdup(ctx *c, const char *s)
{
	char *r;

	if (!s)
		return NULL;
	if (!(r = strdup(s)))
		c->oom = 1;
	return r;
}

int dc_strv_push(dc_strv *v, const char *s, int line)
{
	char **nv = realloc(v->v, (v->n + 2) * sizeof(*nv));
	int *nl;

	if (!nv)
		return dc_error_set(DC_ERR, "out of memory");
	v->v = nv;
	if (!(nl = realloc(v->line, (v->n + 1) * sizeof(*nl))))
		return dc_error_set(DC_ERR, "out of memory");
	v->line = nl;
	if (!(v->v[v->n] = strdup(s)))
		return dc_error_set(DC_ERR, "out of memory");
	v->line[v->n] = line;
	v->v[++v->n] = NULL;
	return 0;
}

void dc_strv_release(dc_strv *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	free(v->line);
	memset(v, 0, sizeof(*v));
}

/* ---- small helpers over libyaml nodes ---- */

static yaml_node_t *node(ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }
static int line_of(yaml_node_t *n) { return n ? (int)n->start_mark.line + 1 : 0; }

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int is_null(yaml_node_t *n)
{
	const char *s = scalar(n);

	return !n || (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		      (!*s || !strcmp(s, "~") || !strcmp(s, "null")));
}

/* A scalar as a string; errors name the owner and key. */
static char *str(ctx *c, yaml_node_t *n, const char *owner, const char *key)
{
	if (!scalar(n)) {
		diag(c, 1, line_of(n), "%s: '%s' must be a string", owner, key);
		return NULL;
	}
	return sdup(c, scalar(n));
}

/* Assign a field a mapping sets: a key given twice (libyaml keeps both)
 * replaces the first value, which must not leak (found by fuzz/model.c). */
static void set(char **field, char *value)
{
	free(*field);
	*field = value;
}

static int boolean(ctx *c, yaml_node_t *n, const char *owner, const char *key)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "True") || !strcmp(s, "on")))
		return 1;
	if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "False") || !strcmp(s, "off")))
		return 0;
	diag(c, 1, line_of(n), "%s: '%s' must be true or false", owner, key);
	return 0;
}

static void push(ctx *c, dc_strv *v, const char *s, int line)
{
	if (dc_strv_push(v, s, line) < 0)
		c->oom = 1;
}

/* A string or a list of strings. */
static void strlist(ctx *c, dc_strv *out, yaml_node_t *n, const char *owner, const char *key)
{
	yaml_node_item_t *it;

	if (scalar(n)) {
		push(c, out, scalar(n), line_of(n));
		return;
	}
	if (!n || n->type != YAML_SEQUENCE_NODE) {
		diag(c, 1, line_of(n), "%s: '%s' must be a string or a list of strings", owner, key);
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = node(c, *it);
		if (!scalar(e))
			diag(c, 1, line_of(e), "%s: '%s' entries must be strings", owner, key);
		else
			push(c, out, scalar(e), line_of(e));
	}
}

/* A map K: v or a list "K=v", into "K=v" strings. */
static void kvlist(ctx *c, dc_strv *out, yaml_node_t *n, const char *owner, const char *key)
{
	yaml_node_pair_t *p;
	dc_buf b = DC_BUF_INIT;

	if (n && n->type == YAML_SEQUENCE_NODE) {
		strlist(c, out, n, owner, key);
		return;
	}
	if (!n || n->type != YAML_MAPPING_NODE) {
		diag(c, 1, line_of(n), "%s: '%s' must be a map or a list of KEY=value", owner, key);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		if (!scalar(k) || (!is_null(v) && !scalar(v))) {
			diag(c, 1, line_of(k), "%s: '%s' values must be strings", owner, key);
			continue;
		}
		dc_buf_reset(&b);
		if (is_null(v))
			dc_buf_puts(&b, scalar(k));
		else
			dc_buf_printf(&b, "%s=%s", scalar(k), scalar(v));
		if (dc_buf_failed(&b))
			c->oom = 1;
		else
			push(c, out, b.ptr, line_of(k));
	}
	dc_buf_release(&b);
}

static char *path_join(ctx *c, const char *dir, const char *p)
{
	dc_buf b = DC_BUF_INIT;

	if (p[0] == '/')
		return sdup(c, p);
	if (p[0] == '.' && p[1] == '/')
		p += 2;
	if (!strcmp(p, "."))
		p = "";
	dc_buf_printf(&b, "%s%s%s", dir, *p ? "/" : "", p);
	if (dc_buf_failed(&b)) {
		c->oom = 1;
		return NULL;
	}
	return dc_buf_detach(&b, NULL);
}

static void pathlist(ctx *c, dc_strv *out, yaml_node_t *n, const char *owner, const char *key)
{
	dc_strv raw = { 0 };
	size_t i;

	strlist(c, &raw, n, owner, key);
	for (i = 0; i < raw.n; i++) {
		char *p = path_join(c, c->base, raw.v[i]);
		if (p)
			push(c, out, p, raw.line[i]);
		free(p);
	}
	dc_strv_release(&raw);
}

/* ---- did you mean ---- */

static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1, sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			cur[j] = del < ins ? (del < sub ? del : sub) : (ins < sub ? ins : sub);
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *dc_model_suggest(const char *key, const char *const *known)
{
	const char *best = NULL;
	size_t bestd = 3, d;

	for (; *known; known++) {
		d = distance(key, *known);
		if (d < bestd || (d == bestd && !best && d <= strlen(key) / 3)) {
			if (d < bestd)
				bestd = d, best = *known;
		}
	}
	return best;
}

static void unknown_key(ctx *c, int line, const char *owner, const char *key, const char *const *known)
{
	const char *s = dc_model_suggest(key, known);

	if (s)
		diag(c, 1, line, "%s: unknown key '%s'; did you mean '%s'?", owner, key, s);
	else
		diag(c, 1, line, "%s: unknown key '%s'", owner, key);
}

static int in(const char *key, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(key, *list))
			return 1;
	return 0;
}

/* ---- services ---- */

static const char *const service_keys[] = {
	"image", "build", "dockerfile", "environment", "env_file", "encrypted_env_file", "encrypted_env",
	"encrypted_environment", "volumes", "volumes_from", "depends_on", "links", "add_docker",
	"working_dir", "entrypoint", "command", "user", "hostname", "domainname", "cached",
	"default_cache_branch", "dockercfg_service", "encrypted_dockercfg_path", NULL
};
/* Compose keys the hosted CI ignored (SVC "Unavailable Features"), plus the
 * compose keys in jet's struct this runner does not apply. */
static const char *const ignored_keys[] = {
	"cgroup_parent", "container_name", "cpu_quota", "devices", "extends", "group_add", "init", "ipc",
	"isolation", "logging", "log_driver", "log_opt", "mac_address", "memswap_limit",
	"mem_swappiness", "networks", "network_mode", "oom_score_adj", "pid", "stop_signal",
	"stop_grace_period", "tty", "tmpfs", "ulimits", "volume_driver", "privileged", "ports",
	"stdin_open", "expose", "cap_add", "cap_drop", "dns", "dns_search", "extra_hosts",
	"security_opt", "read_only", "restart", "mem_limit", "cpuset", "cpu_shares", "healthcheck",
	NULL
};
/* Keys the hosted CI refused: host links and labels. */
static const char *const rejected_keys[] = { "external_links", "labels", NULL };
static const char *const build_keys[] = {
	"image", "context", "path", "dockerfile", "dockerfile_path", "args", "encrypted_args_file",
	"encrypted_args", "configure", NULL
};

static void warn_ignored(ctx *c, int line, const char *owner, const char *key)
{
	size_t i;

	for (i = 0; i < c->nwarned; i++)
		if (!strcmp(c->warned[i], key))
			return;
	if (c->nwarned < sizeof(c->warned) / sizeof(c->warned[0])) {
		snprintf(c->warned[c->nwarned], sizeof(c->warned[0]), "%s", key);
		c->nwarned++;
	}
	diag(c, 0, line, "%s: '%s' is ignored (the hosted CI ignored it too)", owner, key);
}

static void parse_build(ctx *c, dc_service *s, yaml_node_t *n, const char *owner)
{
	yaml_node_pair_t *p;
	char *ctxdir = NULL, *df = NULL;

	if (scalar(n)) {
		set(&s->context, path_join(c, c->base, scalar(n)));
		return;
	}
	if (!n || n->type != YAML_MAPPING_NODE) {
		diag(c, 1, line_of(n), "%s: 'build' must be a directory or a map", owner);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(k);
		char *t;

		if (!key)
			continue;
		if (!strcmp(key, "image")) {
			set(&s->image, str(c, v, owner, "build.image"));
		} else if (!strcmp(key, "context") || !strcmp(key, "path")) {
			if (!strcmp(key, "path"))
				diag(c, 0, line_of(k), "%s: 'build.path' is deprecated; use 'build.context'", owner);
			if ((t = str(c, v, owner, key))) {
				free(ctxdir);
				ctxdir = path_join(c, c->base, t);
				free(t);
			}
		} else if (!strcmp(key, "dockerfile") || !strcmp(key, "dockerfile_path")) {
			free(df);
			df = str(c, v, owner, key);
		} else if (!strcmp(key, "args")) {
			kvlist(c, &s->build_args, v, owner, "build.args");
		} else if (!strcmp(key, "encrypted_args_file")) {
			pathlist(c, &s->encrypted_args_files, v, owner, "build.encrypted_args_file");
		} else if (!strcmp(key, "encrypted_args")) {
			strlist(c, &s->encrypted_args, v, owner, "build.encrypted_args");
		} else if (!strcmp(key, "configure")) {
			diag(c, 0, line_of(k), "%s: 'build.configure' is ignored (never documented)", owner);
		} else {
			char full[80];
			const char *sug = dc_model_suggest(key, build_keys);
			snprintf(full, sizeof(full), "build.%s", key);
			if (sug)
				diag(c, 1, line_of(k), "%s: unknown key '%s'; did you mean 'build.%s'?", owner, full, sug);
			else
				diag(c, 1, line_of(k), "%s: unknown key '%s'", owner, full);
		}
	}
	set(&s->context, ctxdir ? ctxdir : sdup(c, c->base));
	if (df) {
		free(s->dockerfile);
		s->dockerfile = df;
	}
}

static void parse_service(ctx *c, dc_service *s, yaml_node_t *k, yaml_node_t *n)
{
	char owner[300];
	yaml_node_pair_t *p;
	yaml_node_t *build = NULL;
	int has_image = 0;

	set(&s->name, sdup(c, scalar(k)));
	s->line = line_of(k);
	snprintf(owner, sizeof(owner), "service '%s'", s->name ? s->name : "?");
	if (!n || n->type != YAML_MAPPING_NODE) {
		diag(c, 1, line_of(k), "%s: must be a map of keys", owner);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kk = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(kk);
		int l = line_of(kk);

		if (!key) {
			diag(c, 1, l, "%s: keys must be strings", owner);
			continue;
		}
		if (!strcmp(key, "image")) {
			has_image = 1;
			if (!build)
				set(&s->image, str(c, v, owner, key));
		} else if (!strcmp(key, "build"))
			build = v;
		else if (!strcmp(key, "dockerfile"))
			set(&s->dockerfile, str(c, v, owner, key));
		else if (!strcmp(key, "environment"))
			kvlist(c, &s->environment, v, owner, key);
		else if (!strcmp(key, "env_file"))
			pathlist(c, &s->env_files, v, owner, key);
		else if (!strcmp(key, "encrypted_env_file") || !strcmp(key, "encrypted_env")) {
			if (!strcmp(key, "encrypted_env"))
				diag(c, 0, l, "%s: 'encrypted_env' is deprecated; use 'encrypted_env_file'", owner);
			pathlist(c, &s->encrypted_env_files, v, owner, key);
		} else if (!strcmp(key, "encrypted_environment"))
			strlist(c, &s->encrypted_environment, v, owner, key);
		else if (!strcmp(key, "volumes")) {
			dc_strv raw = { 0 };
			size_t i;
			strlist(c, &raw, v, owner, key);
			for (i = 0; i < raw.n; i++) {
				const char *colon = strchr(raw.v[i], ':');
				if (colon && raw.v[i][0] != '/' && raw.v[i][0] != '.' && raw.v[i][0] != '~') {
					/* a named volume: the hosted CI had none */
					diag(c, 1, raw.line[i],
					     "%s: volume '%s': named volumes are not supported; use a path "
					     "relative to the services file ('./%s')", owner, raw.v[i], raw.v[i]);
				} else if (colon) {
					char *host = strndup(raw.v[i], (size_t)(colon - raw.v[i]));
					char *abs = host ? path_join(c, c->base, host) : NULL;
					dc_buf b = DC_BUF_INIT;
					if (!host)
						c->oom = 1;
					dc_buf_printf(&b, "%s%s", abs ? abs : "", colon);
					if (abs && !dc_buf_failed(&b))
						push(c, &s->volumes, b.ptr, raw.line[i]);
					dc_buf_release(&b);
					free(host);
					free(abs);
				} else
					push(c, &s->volumes, raw.v[i], raw.line[i]);
			}
			dc_strv_release(&raw);
		} else if (!strcmp(key, "volumes_from"))
			strlist(c, &s->volumes_from, v, owner, key);
		else if (!strcmp(key, "depends_on"))
			strlist(c, &s->depends_on, v, owner, key);
		else if (!strcmp(key, "links"))
			strlist(c, &s->links, v, owner, key);
		else if (!strcmp(key, "add_docker"))
			s->add_docker = boolean(c, v, owner, key);
		else if (!strcmp(key, "cached"))
			s->cached = boolean(c, v, owner, key);
		else if (!strcmp(key, "default_cache_branch"))
			; /* hosted cache only */
		else if (!strcmp(key, "working_dir"))
			set(&s->working_dir, str(c, v, owner, key));
		else if (!strcmp(key, "user"))
			set(&s->user, str(c, v, owner, key));
		else if (!strcmp(key, "hostname"))
			set(&s->hostname, str(c, v, owner, key));
		else if (!strcmp(key, "domainname"))
			set(&s->domainname, str(c, v, owner, key));
		else if (!strcmp(key, "entrypoint") || !strcmp(key, "command")) {
			dc_strv *out = key[0] == 'e' ? &s->entrypoint : &s->command;
			*(key[0] == 'e' ? &s->entrypoint_set : &s->command_set) = 1;
			if (scalar(v)) {
				char what[320];
				snprintf(what, sizeof(what), "%s:%d: %s: '%s'", c->file, line_of(v), owner, key);
				if (dc_model_split(out, scalar(v), what) < 0)
					diag(c, 1, line_of(v), "%s: '%s' has an unterminated quote", owner, key);
			} else
				strlist(c, out, v, owner, key);
		} else if (!strcmp(key, "dockercfg_service"))
			set(&s->dockercfg_service, str(c, v, owner, key));
		else if (!strcmp(key, "encrypted_dockercfg_path")) {
			char *t = str(c, v, owner, key);
			if (t)
				set(&s->encrypted_dockercfg_path, path_join(c, c->base, t));
			free(t);
		} else if (in(key, rejected_keys))
			diag(c, 1, l, "%s: '%s' is not supported (the hosted CI refused it too)%s", owner, key,
			     !strcmp(key, "labels") ? "; put LABEL in the Dockerfile" : "");
		else if (in(key, ignored_keys))
			warn_ignored(c, l, owner, key);
		else
			unknown_key(c, l, owner, key, service_keys);
	}
	if (build) {
		s->build = 1;
		if (has_image && s->image) {
			diag(c, 1, s->line, "%s: has both 'image' and 'build'; name the built image with "
					    "'build.image'", owner);
		}
		if (has_image) {
			free(s->image);
			s->image = NULL;
		}
		parse_build(c, s, build, owner);
	} else if (!has_image) {
		diag(c, 1, s->line, "%s: needs 'image' or 'build'", owner);
	} else if (s->dockerfile)
		diag(c, 0, s->line, "%s: 'dockerfile' without 'build' is ignored", owner);
}

static void check_refs(ctx *c, const dc_service *s, const dc_strv *v, const char *key, int strip_alias)
{
	size_t i;
	char name[256];

	for (i = 0; i < v->n; i++) {
		const char *colon = strip_alias ? strchr(v->v[i], ':') : NULL;
		size_t len = colon ? (size_t)(colon - v->v[i]) : strlen(v->v[i]);
		snprintf(name, sizeof(name), "%.*s", (int)len, v->v[i]);
		if (!dc_model_service(c->m, name))
			diag(c, 1, v->line[i], "service '%s': '%s' names unknown service '%s'", s->name, key, name);
		else if (!strcmp(name, s->name))
			diag(c, 1, v->line[i], "service '%s': '%s' names itself", s->name, key);
	}
}

static int exists(const char *path, int want_dir)
{
	struct stat st;

	return stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static void files_exist(ctx *c, const dc_service *s, const dc_strv *v, const char *key)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!exists(v->v[i], 0))
			diag(c, 1, v->line[i], "service '%s': %s '%s' is not a file", s->name, key, v->v[i]);
}

/* Files the run will need: caught here rather than halfway through a run. */
static void check_files(ctx *c, const dc_service *s)
{
	files_exist(c, s, &s->env_files, "env_file");
	files_exist(c, s, &s->encrypted_env_files, "encrypted_env_file");
	files_exist(c, s, &s->encrypted_args_files, "build.encrypted_args_file");
	if (s->encrypted_dockercfg_path && !exists(s->encrypted_dockercfg_path, 0))
		diag(c, 1, s->line, "service '%s': encrypted_dockercfg_path '%s' is not a file", s->name,
		     s->encrypted_dockercfg_path);
	if (s->build && s->context) {
		if (!exists(s->context, 1)) {
			diag(c, 1, s->line, "service '%s': build context '%s' is not a directory", s->name, s->context);
		} else {
			dc_buf df = DC_BUF_INIT;
			dc_buf_printf(&df, "%s/%s", s->context, s->dockerfile ? s->dockerfile : "Dockerfile");
			if (dc_buf_failed(&df))
				c->oom = 1;
			else if (!exists(df.ptr, 0))
				diag(c, 1, s->line, "service '%s': no Dockerfile at '%s'", s->name, df.ptr);
			dc_buf_release(&df);
		}
	}
}

static int find_services_file(dc_model *m, const char *path)
{
	static const char *const names[] = { "codeship-services.yml", "codeship-services.json",
					     "docker-compose.yml", NULL };
	ctx c = { .m = m, .file = "?", .base = m->dir };
	size_t i;

	if (path) {
		m->services_path = path_join(&c, m->dir, path);
		return c.oom ? dc_error_set(DC_ERR, "out of memory") : 0;
	}
	for (i = 0; names[i]; i++) {
		char *p = path_join(&c, m->dir, names[i]);
		if (!p)
			return dc_error_set(DC_ERR, "out of memory");
		if (access(p, F_OK) == 0) {
			m->services_path = p;
			return 0;
		}
		free(p);
	}
	return dc_error_set(DC_EUSAGE, "no codeship-services.yml (or docker-compose.yml) in '%s'; "
			    "pass --dir or --services-path", m->dir);
}

static int load_doc(ctx *c, const char *path)
{
	FILE *f;
	yaml_parser_t parser;
	int ok;

	if (!(f = fopen(path, "rb")))
		return dc_error_set(DC_EUSAGE, "cannot read '%s': %s", path, strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return dc_error_set(DC_ERR, "out of memory");
	}
	yaml_parser_set_input_file(&parser, f);
	ok = yaml_parser_load(&parser, &c->doc);
	if (!ok) {
		diag(c, 1, (int)parser.problem_mark.line + 1, "not valid YAML: %s%s%s",
		     parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
		     parser.context ? parser.context : "");
	}
	yaml_parser_delete(&parser);
	fclose(f);
	return ok ? 0 : DC_EUSAGE;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int load_services(dc_model *m)
{
	ctx c = { .m = m };
	char *dir = NULL;
	yaml_node_t *root, *map;
	yaml_node_pair_t *p;
	int err;

	c.file = base(m->services_path);
	if (!(dir = strdup(m->services_path)))
		return dc_error_set(DC_ERR, "out of memory");
	if (strrchr(dir, '/') && strrchr(dir, '/') != dir)
		*strrchr(dir, '/') = 0;
	c.base = dir;
	if ((err = load_doc(&c, m->services_path)) < 0) {
		free(dir);
		return err;
	}
	root = yaml_document_get_root_node(&c.doc);
	map = root;
	if (root && root->type == YAML_MAPPING_NODE) {
		int versioned = 0;
		for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
			if (scalar(node(&c, p->key)) && !strcmp(scalar(node(&c, p->key)), "version"))
				versioned = 1;
		for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
			const char *k = scalar(node(&c, p->key));
			if (k && !strcmp(k, "services") && (versioned || node(&c, p->value)->type ==
							     YAML_MAPPING_NODE))
				map = node(&c, p->value);
		}
	}
	if (!map || map->type != YAML_MAPPING_NODE) {
		diag(&c, 1, line_of(root), "the services file must be a map of services");
		goto done;
	}
	m->services = calloc(map->data.mapping.pairs.top - map->data.mapping.pairs.start + 1,
			     sizeof(*m->services));
	if (!m->services) {
		c.oom = 1;
		goto done;
	}
	/* out of memory: a service may lack its name; stop before anything looks */
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top && !c.oom; p++) {
		yaml_node_t *k = node(&c, p->key);
		const char *name = scalar(k);
		if (map == root && name && !strcmp(name, "version"))
			continue;
		if (map == root && name && (!strcmp(name, "volumes") || !strcmp(name, "networks"))) {
			diag(&c, 0, line_of(k), "top-level '%s' is ignored (the hosted CI ignored it too)", name);
			continue;
		}
		if (!name || !*name) {
			diag(&c, 1, line_of(k), "service names must be strings");
			continue;
		}
		if (dc_model_service(m, name)) {
			diag(&c, 1, line_of(k), "service '%s' is defined twice", name);
			continue;
		}
		parse_service(&c, &m->services[m->nservices++], k, node(&c, p->value));
	}
	if (root != map && root->type == YAML_MAPPING_NODE) {
		for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
			const char *k = scalar(node(&c, p->key));
			if (k && strcmp(k, "services") && strcmp(k, "version"))
				diag(&c, 0, line_of(node(&c, p->key)),
				     "top-level '%s' is ignored (the hosted CI ignored it too)", k);
		}
	}
	for (size_t i = 0; i < m->nservices && !c.oom; i++) {
		dc_service *s = &m->services[i];
		check_files(&c, s);
		check_refs(&c, s, &s->depends_on, "depends_on", 0);
		check_refs(&c, s, &s->links, "links", 1);
		check_refs(&c, s, &s->volumes_from, "volumes_from", 0);
		if (s->dockercfg_service && !dc_model_service(m, s->dockercfg_service))
			diag(&c, 1, s->line, "service '%s': 'dockercfg_service' names unknown service '%s'",
			     s->name, s->dockercfg_service);
	}
done:
	yaml_document_delete(&c.doc);
	free(dir);
	return c.oom ? dc_error_set(DC_ERR, "out of memory") : 0;
}

/* ---- steps ---- */

static const char *const step_keys[] = {
	"name", "type", "tag", "exclude", "service", "services", "command", "steps", "image_name",
	"image_tag", "registry", "encrypted_dockercfg_path", "dockercfg_service", "on_fail", NULL
};

static void parse_steps(ctx *c, dc_step **out, size_t *nout, yaml_node_t *n, const char *owner);

static void parse_step(ctx *c, dc_step *s, yaml_node_t *n, size_t index)
{
	char owner[300];
	yaml_node_pair_t *p;
	yaml_node_t *steps = NULL, *on_fail = NULL, *typ = NULL;
	const char *t;

	s->line = line_of(n);
	if (!n || n->type != YAML_MAPPING_NODE) {
		diag(c, 1, line_of(n), "step %zu: must be a map of keys", index + 1);
		return;
	}
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
		if (scalar(node(c, p->key)) && !strcmp(scalar(node(c, p->key)), "name"))
			set(&s->name, str(c, node(c, p->value), "step", "name"));
	if (s->name)
		snprintf(owner, sizeof(owner), "step '%s'", s->name);
	else
		snprintf(owner, sizeof(owner), "step %zu", index + 1);
	s->named = s->name != NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *kk = node(c, p->key), *v = node(c, p->value);
		const char *key = scalar(kk);
		int l = line_of(kk);

		if (!key) {
			diag(c, 1, l, "%s: keys must be strings", owner);
			continue;
		}
		if (!strcmp(key, "name"))
			continue;
		else if (!strcmp(key, "type"))
			typ = v;
		else if (!strcmp(key, "tag"))
			set(&s->tag, str(c, v, owner, key));
		else if (!strcmp(key, "exclude"))
			set(&s->exclude, str(c, v, owner, key));
		else if (!strcmp(key, "service"))
			set(&s->service, str(c, v, owner, key));
		else if (!strcmp(key, "services"))
			strlist(c, &s->services, v, owner, key);
		else if (!strcmp(key, "command"))
			set(&s->command, str(c, v, owner, key));
		else if (!strcmp(key, "steps"))
			steps = v;
		else if (!strcmp(key, "image_name"))
			set(&s->image_name, str(c, v, owner, key));
		else if (!strcmp(key, "image_tag"))
			set(&s->image_tag, str(c, v, owner, key));
		else if (!strcmp(key, "registry"))
			set(&s->registry, str(c, v, owner, key));
		else if (!strcmp(key, "dockercfg_service"))
			set(&s->dockercfg_service, str(c, v, owner, key));
		else if (!strcmp(key, "encrypted_dockercfg_path")) {
			char *x = str(c, v, owner, key);
			if (x)
				set(&s->encrypted_dockercfg_path, path_join(c, c->base, x));
			free(x);
		} else if (!strcmp(key, "on_fail"))
			on_fail = v;
		else
			unknown_key(c, l, owner, key, step_keys);
	}
	t = scalar(typ);
	if (typ && !t)
		diag(c, 1, line_of(typ), "%s: 'type' must be a string", owner);
	if (!t)
		t = steps ? "serial" : s->command ? "run" : "";
	if (!strcmp(t, "run"))
		s->type = DC_STEP_RUN;
	else if (!strcmp(t, "push"))
		s->type = DC_STEP_PUSH;
	else if (!strcmp(t, "serial"))
		s->type = DC_STEP_SERIAL;
	else if (!strcmp(t, "parallel") || !strcmp(t, "matrix")) {
		if (!strcmp(t, "matrix"))
			diag(c, 0, line_of(typ), "%s: type 'matrix' is legacy; run as 'parallel'", owner);
		s->type = DC_STEP_PARALLEL;
	} else if (!strcmp(t, "manual")) {
		diag(c, 1, line_of(typ), "%s: type 'manual' needs the hosted CI's approval; not supported",
		     owner);
		return;
	} else if (!*t) {
		diag(c, 1, s->line, "%s: needs 'command' (a run step), 'type: push' or 'steps'", owner);
		return;
	} else {
		static const char *const types[] = { "run", "push", "serial", "parallel", NULL };
		const char *sug = dc_model_suggest(t, types);
		diag(c, 1, line_of(typ), "%s: unknown type '%s'%s%s%s", owner, t, sug ? "; did you mean '" : "",
		     sug ? sug : "", sug ? "'?" : "");
		return;
	}
	if (s->type == DC_STEP_SERIAL || s->type == DC_STEP_PARALLEL) {
		if (!steps)
			diag(c, 1, s->line, "%s: a %s group needs 'steps'", owner, t);
		else
			parse_steps(c, &s->steps, &s->nsteps, steps, owner);
		if (s->command)
			diag(c, 1, s->line, "%s: a group takes no 'command'", owner);
	} else {
		if (steps)
			diag(c, 1, s->line, "%s: a %s step takes no 'steps'", owner, t);
		if (s->services.n)
			diag(c, 1, s->line, "%s: 'services' belongs on a group", owner);
		if (s->type == DC_STEP_RUN && !s->command)
			diag(c, 1, s->line, "%s: a run step needs 'command'", owner);
		if (s->type == DC_STEP_PUSH && s->command)
			diag(c, 1, s->line, "%s: a push step takes no 'command'", owner);
		if (s->type == DC_STEP_PUSH && !s->image_name)
			diag(c, 1, s->line, "%s: a push step needs 'image_name'", owner);
		if (s->command) {
			dc_strv words = { 0 };
			if (dc_model_split(&words, s->command, owner) < 0)
				diag(c, 1, s->line, "%s: 'command' has an unterminated quote", owner);
			dc_strv_release(&words);
		}
	}
	if (on_fail) {
		if (s->type != DC_STEP_RUN)
			diag(c, 1, line_of(on_fail), "%s: 'on_fail' belongs on a run step", owner);
		parse_steps(c, &s->on_fail, &s->non_fail, on_fail, owner);
	}
	if (s->service && s->services.n)
		diag(c, 1, s->line, "%s: has both 'service' and 'services'", owner);
	if (s->tag && !*s->tag)
		diag(c, 1, s->line, "%s: 'tag' is empty", owner);
}

static void parse_steps(ctx *c, dc_step **out, size_t *nout, yaml_node_t *n, const char *owner)
{
	yaml_node_item_t *it;
	size_t count, i = 0;

	if (!n || n->type != YAML_SEQUENCE_NODE) {
		diag(c, 1, line_of(n), "%s: 'steps' must be a list of steps", owner ? owner : "file");
		return;
	}
	count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (!(*out = calloc(count + 1, sizeof(**out)))) {
		c->oom = 1;
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++)
		parse_step(c, &(*out)[i], node(c, *it), i);
	*nout = count;
}

/* Names: unique where given; made up from the service otherwise. Services
 * named by steps must exist; a child may not set 'service' when its group
 * did. */
static void check_steps(ctx *c, dc_step *v, size_t n, const char *group_service, int group_fanout,
			size_t *counter)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dc_step *s = &v[i];
		const char *svc = s->service ? s->service : group_service;
		char owner[300];

		(*counter)++;
		if (!s->name) {
			char made[300];
			snprintf(made, sizeof(made), "%s-%zu", svc ? svc : s->type == DC_STEP_PARALLEL ? "parallel" :
				 "serial", *counter);
			set(&s->name, sdup(c, made));
		}
		snprintf(owner, sizeof(owner), "step '%s'", s->name ? s->name : "?");
		if (s->service && (group_service || group_fanout))
			diag(c, 1, s->line, "%s: its group already sets the service", owner);
		if (s->service && !dc_model_service(c->m, s->service))
			diag(c, 1, s->line, "%s: unknown service '%s'", owner, s->service);
		for (size_t j = 0; j < s->services.n; j++)
			if (!dc_model_service(c->m, s->services.v[j]))
				diag(c, 1, s->services.line[j], "%s: unknown service '%s'", owner, s->services.v[j]);
		if (s->dockercfg_service && !dc_model_service(c->m, s->dockercfg_service))
			diag(c, 1, s->line, "%s: 'dockercfg_service' names unknown service '%s'", owner,
			     s->dockercfg_service);
		if (s->encrypted_dockercfg_path && !exists(s->encrypted_dockercfg_path, 0))
			diag(c, 1, s->line, "%s: encrypted_dockercfg_path '%s' is not a file", owner,
			     s->encrypted_dockercfg_path);
		if ((s->type == DC_STEP_RUN || s->type == DC_STEP_PUSH) && !svc && !group_fanout)
			diag(c, 1, s->line, "%s: needs 'service'", owner);
		if (s->type == DC_STEP_PUSH && svc) {
			const dc_service *sv = dc_model_service(c->m, svc);
			if (sv && !sv->build)
				diag(c, 1, s->line, "%s: pushes service '%s', which has no 'build'", owner, svc);
		}
		check_steps(c, s->steps, s->nsteps, svc, group_fanout || s->services.n, counter);
		check_steps(c, s->on_fail, s->non_fail, svc, group_fanout || s->services.n, counter);
	}
}

static void check_names(ctx *c, dc_step *v, size_t n, dc_step **seen, size_t *nseen)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (v[i].named) {
			for (j = 0; j < *nseen; j++)
				if (!strcmp(seen[j]->name, v[i].name)) {
					diag(c, 1, v[i].line, "step '%s': the name is already used on line %d",
					     v[i].name, seen[j]->line);
					break;
				}
			if (j == *nseen && *nseen < 4096)
				seen[(*nseen)++] = &v[i];
		}
		check_names(c, v[i].steps, v[i].nsteps, seen, nseen);
		check_names(c, v[i].on_fail, v[i].non_fail, seen, nseen);
	}
}

static int load_steps(dc_model *m)
{
	ctx c = { .m = m, .base = m->dir };
	dc_step **seen = NULL;
	size_t nseen = 0, counter = 0;
	int err;

	c.file = base(m->steps_path);
	if ((err = load_doc(&c, m->steps_path)) < 0)
		return err;
	parse_steps(&c, &m->steps, &m->nsteps, yaml_document_get_root_node(&c.doc), NULL);
	/* out of memory: a step may lack its name; the checks would compare it */
	if (!c.oom)
		check_steps(&c, m->steps, m->nsteps, NULL, 0, &counter);
	if (!c.oom && !(seen = calloc(4096, sizeof(*seen))))
		c.oom = 1;
	if (!c.oom)
		check_names(&c, m->steps, m->nsteps, seen, &nseen);
	free(seen);
	yaml_document_delete(&c.doc);
	return c.oom ? dc_error_set(DC_ERR, "out of memory") : 0;
}

int dc_model_load(dc_model *m, const char *dir, const char *services_path, const char *steps_path,
		  int want_steps)
{
	char cwd[PATH_MAX], *real = NULL;
	ctx c = { .m = m };
	int err;

	if (!dir || !*dir)
		dir = ".";
	if (!(real = realpath(dir, NULL)))
		return dc_error_set(DC_EUSAGE, "cannot use directory '%s': %s", dir, strerror(errno));
	m->dir = real;
	(void)cwd;
	if ((err = find_services_file(m, services_path)) < 0)
		return err;
	if ((err = load_services(m)) < 0)
		return err;
	if (want_steps) {
		if (steps_path)
			m->steps_path = path_join(&c, m->dir, steps_path);
		else {
			m->steps_path = path_join(&c, m->dir, "codeship-steps.yml");
			if (m->steps_path && access(m->steps_path, F_OK) != 0) {
				char *j = path_join(&c, m->dir, "codeship-steps.json");
				if (j && access(j, F_OK) == 0) {
					free(m->steps_path);
					m->steps_path = j;
				} else
					free(j);
			}
		}
		if (c.oom)
			return dc_error_set(DC_ERR, "out of memory");
		if ((err = load_steps(m)) < 0)
			return err;
	}
	if (m->nerrors) {
		size_t i;
		for (i = 0; i < m->ndiags && !m->diags[i].error; i++)
			;
		return dc_error_set(DC_EUSAGE, "%s", m->diags[i].text);
	}
	return 0;
}

static void service_release(dc_service *s)
{
	free(s->name);
	free(s->image);
	free(s->context);
	free(s->dockerfile);
	dc_strv_release(&s->build_args);
	dc_strv_release(&s->encrypted_args_files);
	dc_strv_release(&s->encrypted_args);
	dc_strv_release(&s->environment);
	dc_strv_release(&s->env_files);
	dc_strv_release(&s->encrypted_env_files);
	dc_strv_release(&s->encrypted_environment);
	dc_strv_release(&s->volumes);
	dc_strv_release(&s->volumes_from);
	dc_strv_release(&s->depends_on);
	dc_strv_release(&s->links);
	dc_strv_release(&s->entrypoint);
	dc_strv_release(&s->command);
	free(s->working_dir);
	free(s->user);
	free(s->hostname);
	free(s->domainname);
	free(s->dockercfg_service);
	free(s->encrypted_dockercfg_path);
}

static void steps_release(dc_step *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++) {
		dc_step *s = &v[i];
		free(s->name);
		free(s->tag);
		free(s->exclude);
		free(s->service);
		dc_strv_release(&s->services);
		free(s->command);
		free(s->image_name);
		free(s->image_tag);
		free(s->registry);
		free(s->dockercfg_service);
		free(s->encrypted_dockercfg_path);
		steps_release(s->steps, s->nsteps);
		steps_release(s->on_fail, s->non_fail);
	}
	free(v);
}

void dc_model_release(dc_model *m)
{
	size_t i;

	for (i = 0; i < m->nservices; i++)
		service_release(&m->services[i]);
	free(m->services);
	steps_release(m->steps, m->nsteps);
	for (i = 0; i < m->ndiags; i++)
		free(m->diags[i].text);
	free(m->diags);
	free(m->dir);
	free(m->services_path);
	free(m->steps_path);
	memset(m, 0, sizeof(*m));
}

const dc_service *dc_model_service(const dc_model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nservices; i++)
		if (m->services[i].name && !strcmp(m->services[i].name, name))
			return &m->services[i];
	return NULL;
}

int dc_model_split(dc_strv *out, const char *line, const char *what)
{
	dc_buf w = DC_BUF_INIT;
	const char *p = line;
	int inword = 0, err = 0;

	for (;;) {
		char ch = *p;
		if (!ch || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
			if (inword) {
				if (dc_buf_failed(&w) || dc_strv_push(out, w.ptr, 0) < 0) {
					err = dc_error_set(DC_ERR, "out of memory");
					goto done;
				}
				dc_buf_reset(&w);
				inword = 0;
			}
			if (!ch)
				break;
			p++;
			continue;
		}
		inword = 1;
		if (ch == '\'') {
			const char *e = strchr(p + 1, '\'');
			if (!e) {
				err = dc_error_set(DC_EUSAGE, "%s: unterminated ' in the command", what);
				goto done;
			}
			dc_buf_put(&w, p + 1, (size_t)(e - p - 1));
			p = e + 1;
		} else if (ch == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				dc_buf_putc(&w, *p);
			}
			if (!*p) {
				err = dc_error_set(DC_EUSAGE, "%s: unterminated \" in the command", what);
				goto done;
			}
			p++;
		} else if (ch == '\\' && p[1]) {
			dc_buf_putc(&w, p[1]);
			p += 2;
		} else {
			dc_buf_putc(&w, ch);
			p++;
		}
	}
done:
	dc_buf_release(&w);
	return err;
}
