/* cache.c -- see cache.h. */
#include "core/cache.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/time.h"

#define SALT "dcgen-cache-v1"
#define ID_BYTES 16
#define MAX_ENTRY (256 * 1024)
#define STALE_TEMP_SECONDS 600

typedef struct {
	char id[2 * ID_BYTES + 1];
	unsigned char key[DC_AEAD_KEY];
	dc_buf entry, lock; /* paths */
} slot;

int dc_cache_open(dc_cache *c, const char *dir, const dc_env *env, long default_wait_ms)
{
	long wait;
	int err;

	if ((err = dc_fs_secure_dir(dir, "cache directory")) < 0 ||
	    (err = dc_env_long(&c->min_ttl, env, "DCGEN_CACHE_MIN_TTL", -1, 0, 30L * 86400)) < 0 ||
	    (err = dc_env_long(&wait, env, "DCGEN_CACHE_WAIT", (default_wait_ms + 999) / 1000, 1, 3600)) < 0)
		return err;
	c->wait_ms = wait * 1000;
	if (!(c->dir = strdup(dir)))
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

void dc_cache_close(dc_cache *c)
{
	free(c->dir);
	c->dir = NULL;
}

static void slot_release(slot *s)
{
	dc_secret_wipe(s->key, sizeof(s->key));
	dc_buf_release(&s->entry);
	dc_buf_release(&s->lock);
}

static int slot_init(slot *s, const dc_cache *c, const dc_buf *identity)
{
	unsigned char id[ID_BYTES];
	dc_buf hex = DC_BUF_INIT;
	int err;

	memset(s, 0, sizeof(*s));
	s->entry = (dc_buf)DC_BUF_INIT;
	s->lock = (dc_buf)DC_BUF_INIT;
	if ((err = dc_hkdf(id, sizeof(id), identity->ptr, identity->len, SALT, "entry id")) < 0 ||
	    (err = dc_hkdf(s->key, sizeof(s->key), identity->ptr, identity->len, SALT, "entry seal")) < 0 ||
	    (err = dc_hex(&hex, id, sizeof(id))) < 0)
		goto done;
	memcpy(s->id, hex.ptr, sizeof(s->id));
	if (dc_buf_printf(&s->entry, "%s/%s.entry", c->dir, s->id) < 0 ||
	    dc_buf_printf(&s->lock, "%s/%s.lock", c->dir, s->id) < 0)
		err = dc_error_set(DC_ERR, "out of memory");
done:
	dc_buf_release(&hex);
	return err;
}

/* An entry is MAGIC, one line of JSON metadata in the clear (provider, hosts,
 * created, expires_at: what `cache list` shows), then the seal: nonce ||
 * ciphertext || tag. The seal's associated data is SALT, the key id and both
 * header lines byte for byte, so changing any of the metadata breaks the tag.
 * The plaintext holds one record per credential: the netstrings host,
 * username and secret, then expires_at in decimal and a newline. No JSON
 * parser ever touches the secret, which keeps a hit cheap (callgrind: jansson
 * lexing a sealed 2 KB token was half of a hit). */
#define MAGIC "dcgen-cache 2\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)

typedef struct {
	time_t created, expires_at;
} meta;

typedef struct {
	json_t *doc;         /* the metadata line */
	size_t head_len;     /* MAGIC and the metadata line */
	const unsigned char *sealed;
	size_t sealed_len;
	meta m;
} parsed;

static int aad(dc_buf *out, const char *id, const char *head, size_t head_len)
{
	if (dc_buf_printf(out, "%s\n%s\n", SALT, id) < 0 || dc_buf_put(out, head, head_len) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	return 0;
}

static int read_meta(meta *m, const json_t *doc)
{
	json_t *cr = json_object_get(doc, "created"), *ex = json_object_get(doc, "expires_at");

	if (!json_is_integer(cr) || !json_is_integer(ex) || !json_is_array(json_object_get(doc, "hosts")) ||
	    !dc_json_str(doc, "provider"))
		return DC_ERR;
	m->created = (time_t)json_integer_value(cr);
	m->expires_at = (time_t)json_integer_value(ex);
	return 0;
}

/* Split an entry file; DC_ERR (no message) when it is not one. */
static int parse_entry(parsed *p, const dc_buf *raw)
{
	const char *line, *nl;

	memset(p, 0, sizeof(*p));
	if (raw->len < MAGIC_LEN || memcmp(raw->ptr, MAGIC, MAGIC_LEN))
		return DC_ERR;
	line = raw->ptr + MAGIC_LEN;
	if (!(nl = memchr(line, '\n', raw->len - MAGIC_LEN)))
		return DC_ERR;
	p->head_len = (size_t)(nl + 1 - raw->ptr);
	p->sealed = (const unsigned char *)nl + 1;
	p->sealed_len = raw->len - p->head_len;
	if (!(p->doc = json_loadb(line, (size_t)(nl - line), 0, NULL)) || read_meta(&p->m, p->doc) < 0) {
		json_decref(p->doc);
		p->doc = NULL;
		return DC_ERR;
	}
	return 0;
}

static int put_field(dc_buf *b, const char *s)
{
	size_t n = strlen(s);

	dc_buf_printf(b, "%zu:", n);
	dc_buf_put(b, s, n);
	return dc_buf_putc(b, ',');
}

/* Read one netstring at *pp into `out` (NUL-terminated); DC_ERR if malformed. */
static int get_field(dc_buf *out, const char **pp, const char *end)
{
	const char *p = *pp;
	size_t n = 0;

	if (p >= end || *p < '0' || *p > '9')
		return DC_ERR;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (n > MAX_ENTRY)
			return DC_ERR;
		n = n * 10 + (size_t)(*p - '0');
	}
	if (p >= end || *p++ != ':' || (size_t)(end - p) < n + 1 || p[n] != ',')
		return DC_ERR;
	dc_buf_reset(out);
	if (dc_buf_put(out, p, n) < 0 || memchr(out->ptr, '\0', n))
		return DC_ERR;
	*pp = p + n + 1;
	return 0;
}

static long margin(const dc_cache *c, const meta *m)
{
	long quarter = (long)(m->expires_at - m->created) / 4;

	if (c->min_ttl >= 0)
		return c->min_ttl;
	return quarter > 900 ? quarter : 900;
}

static int is_fresh(const dc_cache *c, const meta *m, time_t now)
{
	return m->expires_at - now > margin(c, m);
}

/* Load and open the entry of `s`. DC_ENOTFOUND when there is none; DC_ERR
 * (warned here if `warn`, no message set) when it is damaged or foreign. */
static int load(dc_cred_list *out, meta *m, const slot *s, const char *provider, int warn)
{
	dc_buf raw = DC_BUF_INIT, plain = DC_BUF_INIT, ad = DC_BUF_INIT, host = DC_BUF_INIT,
	       user = DC_BUF_INIT, secret = DC_BUF_INIT;
	parsed e = { 0 };
	const char *p, *end;
	int err;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	dc_buf_init(&secret, 0, DC_BUF_SECRET);
	if ((err = dc_fs_read(&raw, s->entry.ptr, MAX_ENTRY)) < 0)
		goto done;
	err = DC_ERR;
	if (parse_entry(&e, &raw) < 0 || strcmp(dc_json_str(e.doc, "provider"), provider) ||
	    aad(&ad, s->id, raw.ptr, e.head_len) < 0 ||
	    dc_aead_open(&plain, s->key, ad.ptr, ad.len, e.sealed, e.sealed_len) < 0)
		goto done;
	*m = e.m;
	for (p = plain.ptr, end = plain.ptr + plain.len; p < end;) {
		char *stop;
		long long exp;

		if (get_field(&host, &p, end) < 0 || get_field(&user, &p, end) < 0 ||
		    get_field(&secret, &p, end) < 0)
			goto done;
		exp = strtoll(p, &stop, 10);
		if (stop == p || stop >= end || *stop != '\n')
			goto done;
		p = stop + 1;
		if (dc_log_redact_add(secret.ptr) < 0 ||
		    dc_cred_list_add(out, host.ptr, user.ptr, secret.ptr, (time_t)exp) < 0)
			goto done;
	}
	err = out->n ? 0 : DC_ERR;
done:
	if (err == DC_ERR)
		dc_cred_list_release(out);
	if (err == DC_ERR && warn)
		dc_log_warn("cache entry '%s' is damaged, truncated or sealed with another key; ignoring it", s->entry.ptr);
	json_decref(e.doc);
	dc_buf_release(&raw);
	dc_buf_release(&plain);
	dc_buf_release(&ad);
	dc_buf_release(&host);
	dc_buf_release(&user);
	dc_buf_release(&secret);
	return err;
}

static int cacheable(const dc_cred_list *l, time_t now)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->items[i].expires_at <= now)
			return 0;
	return l->n > 0;
}

static int store(const slot *s, const char *provider, const dc_cred_list *l, time_t now)
{
	dc_buf plain = DC_BUF_INIT, ad = DC_BUF_INIT, text = DC_BUF_INIT;
	json_t *hosts = json_array(), *doc = NULL;
	size_t i, head_len;
	char *line = NULL;
	int err = DC_ERR;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	dc_buf_init(&text, 0, DC_BUF_SECRET);
	if (!hosts)
		goto oom;
	for (i = 0; i < l->n; i++) {
		const dc_cred *c = &l->items[i];

		put_field(&plain, c->host);
		put_field(&plain, c->username);
		put_field(&plain, c->secret);
		dc_buf_printf(&plain, "%lld\n", (long long)c->expires_at);
		if (json_array_append_new(hosts, json_string(c->host)) < 0)
			goto oom;
	}
	if (dc_buf_failed(&plain) ||
	    !(doc = json_pack("{s:s, s:O, s:I, s:I}", "provider", provider, "hosts", hosts, "created",
			      (json_int_t)now, "expires_at", (json_int_t)dc_cred_list_expiry(l))) ||
	    !(line = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)))
		goto oom;
	if (dc_buf_puts(&text, MAGIC) < 0 || dc_buf_puts(&text, line) < 0 || dc_buf_putc(&text, '\n') < 0)
		goto oom;
	head_len = text.len;
	if ((err = aad(&ad, s->id, text.ptr, head_len)) < 0 ||
	    (err = dc_aead_seal(&text, s->key, ad.ptr, ad.len, plain.ptr, plain.len)) < 0)
		goto done;
	err = dc_fs_write_atomic(s->entry.ptr, text.ptr, text.len, 0600);
	goto done;
oom:
	err = dc_error_set(DC_ERR, "out of memory");
done:
	free(line);
	json_decref(hosts);
	json_decref(doc);
	dc_buf_release(&plain);
	dc_buf_release(&ad);
	dc_buf_release(&text);
	return err;
}

int dc_cache_get(dc_cred_list *out, dc_cache *c, const char *provider, const dc_buf *identity,
		 dc_cache_fetch_fn fetch, void *ctx, enum dc_cache_how *how)
{
	dc_cred_list old = DC_CRED_LIST_INIT;
	slot s;
	meta m = { 0, 0 };
	int err, found, lock = -1;
	char when[32];

	if ((err = slot_init(&s, c, identity)) < 0)
		goto done;
	/* fast path: a fresh entry needs no lock; entries change by rename only */
	if (load(out, &m, &s, provider, 0) == 0 && is_fresh(c, &m, dc_time_now())) {
		*how = DC_CACHE_HIT;
		goto done;
	}
	dc_cred_list_release(out);
	if ((err = dc_fs_lock(&lock, s.lock.ptr, c->wait_ms)) == DC_EBUSY)
		goto done;
	if (err < 0) {
		/* a read-only or full cache volume must not fail the job */
		dc_log_warn("%s; fetching without the cache", dc_error_last());
		*how = DC_CACHE_FETCHED;
		err = fetch(out, ctx);
		goto done;
	}
	found = load(&old, &m, &s, provider, 1) == 0;
	if (found && is_fresh(c, &m, dc_time_now())) {
		*out = old;
		old = (dc_cred_list)DC_CRED_LIST_INIT;
		*how = DC_CACHE_WAITED;
		goto done;
	}
	if ((err = fetch(out, ctx)) < 0) {
		if (found && m.expires_at > dc_time_now()) {
			dc_time_format(when, sizeof(when), m.expires_at);
			dc_log_warn("%s; serving the cached credentials, valid until %s", dc_error_last(), when);
			dc_cred_list_release(out);
			*out = old;
			old = (dc_cred_list)DC_CRED_LIST_INIT;
			*how = DC_CACHE_STALE;
			err = 0;
		}
		goto done;
	}
	*how = DC_CACHE_FETCHED;
	if (!cacheable(out, dc_time_now())) {
		dc_log_debug("not caching: a credential has no expiry or has expired");
	} else if (store(&s, provider, out, dc_time_now()) < 0) {
		/* the job still gets its file; the next one fetches again */
		dc_log_warn("cannot store the cache entry: %s", dc_error_last());
	}
done:
	dc_fs_unlock(lock);
	dc_cred_list_release(&old);
	slot_release(&s);
	return err;
}

typedef struct {
	dc_cache *c;
	int (*fn)(const dc_cache_info *info, void *ctx);
	void *ctx;
	int expired_only, purge;
	size_t removed;
} walk;

static int is_temp(const char *name)
{
	return name[0] == '.' && strstr(name, ".dcgen-") != NULL;
}

static int visit(const char *name, void *ctx)
{
	walk *w = ctx;
	dc_buf path = DC_BUF_INIT, raw = DC_BUF_INIT, hosts = DC_BUF_INIT, id = DC_BUF_INIT;
	json_t *doc = NULL, *h;
	parsed e = { 0 };
	size_t n = strlen(name), i;
	struct stat st;
	meta m = { 0, 0 };
	int err = 0, ok;

	if (dc_buf_printf(&path, "%s/%s", w->c->dir, name) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	if (w->purge && is_temp(name)) {
		/* a writer killed mid-write leaves one; a live writer's is young */
		if (lstat(path.ptr, &st) == 0 && st.st_mtime + STALE_TEMP_SECONDS < dc_time_now() &&
		    (err = dc_fs_remove(path.ptr)) == 0)
			w->removed++;
		goto done;
	}
	if (n < 7 || strcmp(name + n - 6, ".entry") || name[0] == '.')
		goto done;
	ok = dc_fs_read(&raw, path.ptr, MAX_ENTRY) == 0 && parse_entry(&e, &raw) == 0;
	doc = e.doc;
	m = e.m;
	if (w->purge) {
		if ((!w->expired_only || !ok || m.expires_at <= dc_time_now()) && (err = dc_fs_remove(path.ptr)) == 0)
			w->removed++;
		goto done;
	}
	if (!ok)
		goto done;
	json_array_foreach(json_object_get(doc, "hosts"), i, h)
		dc_buf_printf(&hosts, "%s%s", i ? "," : "", json_string_value(h) ? json_string_value(h) : "?");
	dc_buf_put(&id, name, n - 6);
	if (dc_buf_failed(&hosts) || dc_buf_failed(&id)) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	err = w->fn(&(dc_cache_info){
		.id = id.ptr,
		.provider = dc_json_str(doc, "provider"),
		.hosts = hosts.ptr,
		.created = m.created,
		.expires_at = m.expires_at,
		.fresh = is_fresh(w->c, &m, dc_time_now()),
	}, w->ctx);
done:
	json_decref(doc);
	dc_buf_release(&path);
	dc_buf_release(&raw);
	dc_buf_release(&hosts);
	dc_buf_release(&id);
	return err;
}

int dc_cache_list(dc_cache *c, int (*fn)(const dc_cache_info *info, void *ctx), void *ctx)
{
	walk w = { c, fn, ctx, 0, 0, 0 };

	return dc_fs_list(c->dir, visit, &w);
}

int dc_cache_purge(dc_cache *c, int expired_only, size_t *removed)
{
	walk w = { c, NULL, NULL, expired_only, 1, 0 };
	int err = dc_fs_list(c->dir, visit, &w);

	*removed = w.removed;
	return err;
}
