/* cache.c -- see cache.h. */
#include "core/cache.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/secret.h"
#include "util/time.h"

#define SALT "dcgen-cache-v3"
#define ID_BYTES 16
#define MAX_ENTRY (256 * 1024)
#define MAX_STATE (8 * 1024)
#define KEY_FILE "cache.key"
#define STALE_TEMP_SECONDS 600
#define FAIL_HOLD 30     /* seconds a failed refresh is not repeated */
#define NOCACHE_HOLD 300 /* seconds callers skip the lock after an uncacheable result */
#define FLOOR_MAX 300    /* an entry with less left than min(this, margin) is never served */
#define DEFAULT_WAIT 70

struct dc_cache {
	dc_ctx *ctx;
	char *dir;
	long min_ttl; /* seconds; -1: by lifetime (see margin) */
	long wait_ms; /* longest wait for another caller's refresh */
	unsigned char own_key[DC_AEAD_KEY];
	int have_own_key;
};

typedef struct {
	char id[2 * ID_BYTES + 1];
	unsigned char key[DC_AEAD_KEY];
	int sealed_by_secret;
	char check[17];            /* binds a state record to this sealing key */
	dc_buf entry, lock, state; /* paths */
} slot;

typedef struct {
	time_t created, expires_at;
} meta;

int dc_cache_open(dc_cache **out, dc_ctx *ctx, const char *dir, int flags)
{
	dc_cache *c;
	long wait;
	int err;

	if ((err = (flags & DC_CACHE_CREATE) ? dc_fs_secure_dir(dir, "cache directory")
					      : dc_fs_check_dir(dir, "cache directory")) < 0)
		return err;
	if (!(c = calloc(1, sizeof(*c))))
		return dc_error_nomem();
	c->ctx = ctx;
	if ((err = dc_env_long(&c->min_ttl, ctx->env, "DCGEN_CACHE_MIN_TTL", -1, 0, 30L * 86400)) < 0 ||
	    (err = dc_env_long(&wait, ctx->env, "DCGEN_CACHE_WAIT", DEFAULT_WAIT, 1, 3600)) < 0) {
		free(c);
		return err;
	}
	c->wait_ms = wait * 1000;
	if (!(c->dir = strdup(dir))) {
		free(c);
		return dc_error_nomem();
	}
	*out = c;
	return 0;
}

void dc_cache_free(dc_cache *c)
{
	if (!c)
		return;
	dc_secret_wipe(c->own_key, sizeof(c->own_key));
	free(c->dir);
	free(c);
}

/* The cache's own sealing key: read "cache.key", or make it (whoever links
 * it first wins; everyone then reads the same one). */
static int own_key(dc_cache *c)
{
	dc_buf path = DC_BUF_INIT, raw = DC_BUF_INIT;
	unsigned char fresh[DC_AEAD_KEY];
	int err, tries;

	if (c->have_own_key)
		return 0;
	dc_buf_init(&raw, 0, DC_BUF_SECRET);
	if (dc_buf_printf(&path, "%s/%s", c->dir, KEY_FILE) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	for (tries = 0; tries < 2; tries++) {
		dc_buf_reset(&raw);
		if ((err = dc_fs_read(&raw, path.ptr, 1024)) == 0) {
			if (raw.len != DC_AEAD_KEY) {
				err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "cache key '%s' is damaged (%zu bytes); remove it with 'dcgen cache purge'",
						    path.ptr, raw.len);
				goto done;
			}
			memcpy(c->own_key, raw.ptr, DC_AEAD_KEY);
			c->have_own_key = 1;
			goto done;
		}
		if (err != DC_ENOTFOUND)
			goto done;
		if (dc_random(fresh, sizeof(fresh)) < 0) {
			err = dc_error_set(DC_ERR, "cannot get random bytes for the cache key");
			goto done;
		}
		err = dc_fs_create_exclusive(path.ptr, fresh, sizeof(fresh), 0600);
		dc_secret_wipe(fresh, sizeof(fresh));
		if (err < 0)
			goto done;
	}
	err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot create the cache key '%s'", path.ptr);
done:
	dc_buf_release(&path);
	dc_buf_release(&raw);
	return err;
}

static int identity(dc_buf *out, const dc_cache_key *k)
{
	if (dc_buf_printf(out, "family=%s\nprincipal=%s\nscope=%s\n", k->family, k->principal.ptr, k->scope.ptr) < 0)
		return dc_error_nomem();
	return 0;
}

static void slot_release(slot *s)
{
	dc_secret_wipe(s->key, sizeof(s->key));
	dc_buf_release(&s->entry);
	dc_buf_release(&s->lock);
	dc_buf_release(&s->state);
}

static int slot_init(slot *s, dc_cache *c, const dc_cache_key *k)
{
	unsigned char id[ID_BYTES];
	dc_buf ident = DC_BUF_INIT, ikm = DC_BUF_INIT, hex = DC_BUF_INIT;
	int err;

	memset(s, 0, sizeof(*s));
	s->entry = (dc_buf)DC_BUF_INIT;
	s->lock = (dc_buf)DC_BUF_INIT;
	s->state = (dc_buf)DC_BUF_INIT;
	dc_buf_init(&ikm, 0, DC_BUF_SECRET);
	if ((err = identity(&ident, k)) < 0)
		goto done;
	s->sealed_by_secret = k->seal.len > 0;
	if (s->sealed_by_secret) {
		err = dc_buf_put(&ikm, k->seal.ptr, k->seal.len);
	} else if ((err = own_key(c)) == 0) {
		err = dc_buf_put(&ikm, c->own_key, sizeof(c->own_key));
	}
	if (err < 0 || dc_buf_put(&ikm, ident.ptr, ident.len) < 0) {
		if (!dc_error_get()->code)
			dc_error_nomem();
		err = DC_ERR;
		goto done;
	}
	if ((err = dc_hkdf(id, sizeof(id), ident.ptr, ident.len, SALT, "entry id")) < 0 ||
	    (err = dc_hkdf(s->key, sizeof(s->key), ikm.ptr, ikm.len, SALT, "entry seal")) < 0 ||
	    (err = dc_hex(&hex, id, sizeof(id))) < 0)
		goto done;
	memcpy(s->id, hex.ptr, sizeof(s->id));
	{
		unsigned char chk[8];

		/* a failure recorded by a job with another secret for the same
		 * principal (a wrong one) must not stop this one */
		dc_buf_reset(&hex);
		if ((err = dc_hkdf(chk, sizeof(chk), s->key, sizeof(s->key), SALT, "state check")) < 0 ||
		    (err = dc_hex(&hex, chk, sizeof(chk))) < 0)
			goto done;
		memcpy(s->check, hex.ptr, sizeof(s->check));
	}
	if (dc_buf_printf(&s->entry, "%s/%s.entry", c->dir, s->id) < 0 ||
	    dc_buf_printf(&s->lock, "%s/%s.lock", c->dir, s->id) < 0 ||
	    dc_buf_printf(&s->state, "%s/%s.state", c->dir, s->id) < 0)
		err = dc_error_nomem();
done:
	dc_buf_release(&ident);
	dc_buf_release(&ikm);
	dc_buf_release(&hex);
	return err;
}

/* An entry is MAGIC, one line of JSON metadata in the clear (family,
 * principal, hosts, times, what sealed it: what `cache list` shows), then
 * the seal: nonce || ciphertext || tag. The seal's associated data is SALT,
 * the key id and both header lines byte for byte, so changing any of the
 * metadata breaks the tag. The plaintext holds one record per credential:
 * the netstrings host, username and secret, then expires_at in decimal and a
 * newline. No JSON parser ever touches the secret, which keeps a hit cheap. */
#define MAGIC "dcgen-cache 3\n"
#define MAGIC_LEN (sizeof(MAGIC) - 1)

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
		return dc_error_nomem();
	return 0;
}

static int read_meta(meta *m, const json_t *doc)
{
	json_t *cr = json_object_get(doc, "created"), *ex = json_object_get(doc, "expires_at");

	if (!json_is_integer(cr) || !json_is_integer(ex) || !json_is_array(json_object_get(doc, "hosts")) ||
	    !dc_json_str(doc, "family") || !dc_json_str(doc, "principal"))
		return DC_ERR;
	m->created = (time_t)json_integer_value(cr);
	m->expires_at = (time_t)json_integer_value(ex);
	return 0;
}

/* Split an entry file; DC_ERR (no message) when it is not one. */
static int parse_entry(parsed *p, const char *raw, size_t len)
{
	const char *line, *nl;

	memset(p, 0, sizeof(*p));
	if (len < MAGIC_LEN || memcmp(raw, MAGIC, MAGIC_LEN))
		return DC_ERR;
	line = raw + MAGIC_LEN;
	if (!(nl = memchr(line, '\n', len - MAGIC_LEN)))
		return DC_ERR;
	p->head_len = (size_t)(nl + 1 - raw);
	p->sealed = (const unsigned char *)nl + 1;
	p->sealed_len = len - p->head_len;
	if (!(p->doc = json_loadb(line, (size_t)(nl - line), JSON_REJECT_DUPLICATES, NULL)) ||
	    read_meta(&p->m, p->doc) < 0) {
		json_decref(p->doc);
		p->doc = NULL;
		return DC_ERR;
	}
	return 0;
}

static void put_field(dc_buf *b, const char *s)
{
	size_t n = strlen(s);

	dc_buf_printf(b, "%zu:", n);
	dc_buf_put(b, s, n);
	dc_buf_putc(b, ',');
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

/* Refresh this long before expiry: DCGEN_CACHE_MIN_TTL, else a quarter of
 * the lifetime but at least 15 minutes, and never more than half the
 * lifetime (a 10-minute token is fresh for its first 5). */
static long margin(const dc_cache *c, const meta *m)
{
	long life = (long)(m->expires_at - m->created), v;

	if (c->min_ttl >= 0)
		return c->min_ttl;
	v = life / 4 > 900 ? life / 4 : 900;
	return v > life / 2 ? life / 2 : v;
}

static long floor_of(const dc_cache *c, const meta *m)
{
	long mg = margin(c, m);

	return mg < FLOOR_MAX ? mg : FLOOR_MAX;
}

static int is_fresh(const dc_cache *c, const meta *m, time_t now)
{
	return m->expires_at - now > margin(c, m);
}

static int is_usable(const dc_cache *c, const meta *m, time_t now)
{
	return m->expires_at - now >= floor_of(c, m) && m->expires_at > now;
}

/* Load and open the entry of `s`. DC_ENOTFOUND when there is none; DC_ERR
 * (warned here if `warn`, no message set) when it is damaged or foreign. */
static int load(dc_cred_list *out, meta *m, dc_cache *c, const slot *s, const char *family, int warn)
{
	dc_buf raw = DC_BUF_INIT, plain = DC_BUF_INIT, ad = DC_BUF_INIT;
	parsed e = { 0 };
	int err;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if ((err = dc_fs_read(&raw, s->entry.ptr, MAX_ENTRY)) < 0) {
		if (err != DC_ENOTFOUND && warn)
			dc_log_warn(&c->ctx->log, "%s; ignoring the cache entry", dc_error_last());
		if (err != DC_ENOTFOUND)
			err = DC_ERR;
		warn = 0;
		goto done;
	}
	err = DC_ERR;
	if (parse_entry(&e, raw.ptr, raw.len) < 0 || strcmp(dc_json_str(e.doc, "family"), family) ||
	    aad(&ad, s->id, raw.ptr, e.head_len) < 0 ||
	    dc_aead_open(&plain, s->key, ad.ptr, ad.len, e.sealed, e.sealed_len) < 0)
		goto done;
	*m = e.m;
	err = dc_cache_records_parse(out, c->ctx->redactor, plain.ptr, plain.len);
done:
	if (err == DC_ERR)
		dc_cred_list_release(out);
	if (err == DC_ERR && warn)
		dc_log_warn(&c->ctx->log, "cache entry '%s' is damaged, truncated or sealed with another key; ignoring it",
			    s->entry.ptr);
	json_decref(e.doc);
	dc_buf_release(&raw);
	dc_buf_release(&plain);
	dc_buf_release(&ad);
	return err;
}

int dc_cache_records_parse(dc_cred_list *out, dc_redactor *r, const char *plain, size_t len)
{
	dc_buf host = DC_BUF_INIT, user = DC_BUF_INIT, secret = DC_BUF_INIT;
	const char *p = plain, *end = plain + len;
	int err = DC_ERR;

	dc_buf_init(&secret, 0, DC_BUF_SECRET);
	while (p < end) {
		char num[24], *stop;
		const char *nl;
		long long exp;

		if (get_field(&host, &p, end) < 0 || get_field(&user, &p, end) < 0 ||
		    get_field(&secret, &p, end) < 0)
			goto done;
		/* the expiry, read within the record (strtoll alone would read
		 * up to a NUL past `end`) */
		if (!(nl = memchr(p, '\n', (size_t)(end - p))) || nl == p || (size_t)(nl - p) >= sizeof(num))
			goto done;
		memcpy(num, p, (size_t)(nl - p));
		num[nl - p] = '\0';
		exp = strtoll(num, &stop, 10);
		if (stop == num || *stop)
			goto done;
		p = nl + 1;
		if (dc_redactor_add(r, secret.ptr, secret.len) < 0 ||
		    dc_cred_list_add(out, host.ptr, user.ptr, secret.ptr, (time_t)exp) < 0)
			goto done;
	}
	err = out->n ? 0 : DC_ERR;
done:
	if (err < 0)
		dc_cred_list_release(out);
	dc_buf_release(&host);
	dc_buf_release(&user);
	dc_buf_release(&secret);
	return err;
}

int dc_cache_entry_check(time_t *created, time_t *expires_at, const char *raw, size_t len)
{
	parsed e;

	if (parse_entry(&e, raw, len) < 0)
		return DC_ERR;
	*created = e.m.created;
	*expires_at = e.m.expires_at;
	json_decref(e.doc);
	return 0;
}

/* Every credential has an expiry in the future. */
static int cacheable(const dc_cred_list *l, time_t now)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->items[i].expires_at <= now)
			return 0;
	return l->n > 0;
}

static int store(dc_cache *c, const slot *s, const dc_cache_key *k, const dc_cred_list *l, time_t now)
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
		const dc_cred *cr = &l->items[i];

		put_field(&plain, cr->host);
		put_field(&plain, cr->username);
		put_field(&plain, cr->secret);
		dc_buf_printf(&plain, "%lld\n", (long long)cr->expires_at);
		if (json_array_append_new(hosts, json_string(cr->host)) < 0)
			goto oom;
	}
	if (dc_buf_failed(&plain) ||
	    !(doc = json_pack("{s:s, s:s, s:O, s:I, s:I, s:s}", "family", k->family, "principal", k->principal.ptr,
			      "hosts", hosts, "created", (json_int_t)now, "expires_at",
			      (json_int_t)dc_cred_list_expiry(l), "sealed_by",
			      s->sealed_by_secret ? "secret" : "cache key")) ||
	    !(line = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)))
		goto oom;
	if (dc_buf_puts(&text, MAGIC) < 0 || dc_buf_puts(&text, line) < 0 || dc_buf_putc(&text, '\n') < 0)
		goto oom;
	head_len = text.len;
	if ((err = aad(&ad, s->id, text.ptr, head_len)) < 0 ||
	    (err = dc_aead_seal(&text, s->key, ad.ptr, ad.len, plain.ptr, plain.len)) < 0)
		goto done;
	err = dc_fs_write_atomic(s->entry.ptr, text.ptr, text.len, 0600);
	(void)c;
	goto done;
oom:
	err = dc_error_nomem();
done:
	free(line);
	json_decref(hosts);
	json_decref(doc);
	dc_buf_release(&plain);
	dc_buf_release(&ad);
	dc_buf_release(&text);
	return err;
}

/* ---- state records: "the last refresh failed" / "could not be cached" ---- */

enum state_kind { STATE_NONE, STATE_FAIL, STATE_NOCACHE };

typedef struct {
	enum state_kind kind;
	time_t at, until;
	char message[512];
	enum dc_error_class klass;
} state;

static void parse_state(state *st, const char *text, size_t len, time_t now, const char *check);

static void read_state(state *st, const slot *s, time_t now)
{
	dc_buf raw = DC_BUF_INIT;

	memset(st, 0, sizeof(*st));
	if (dc_fs_read(&raw, s->state.ptr, MAX_STATE) < 0) {
		dc_error_clear();
		goto done;
	}
	parse_state(st, raw.ptr, raw.len, now, s->check);
done:
	dc_buf_release(&raw);
}

/* `check`: the sealing key check a record must carry (NULL: any, for the fuzz entry) */
static void parse_state(state *st, const char *text, size_t len, time_t now, const char *check)
{
	json_t *doc = NULL;
	const char *kind, *msg;

	memset(st, 0, sizeof(*st));
	if (!(doc = json_loadb(text, len, 0, NULL)) || !(kind = dc_json_str(doc, "kind")) ||
	    !json_is_integer(json_object_get(doc, "at")) || !json_is_integer(json_object_get(doc, "until")))
		goto done;
	if (check && (!dc_json_str(doc, "check") || strcmp(dc_json_str(doc, "check"), check)))
		goto done; /* recorded under another sealing key */
	st->at = (time_t)json_integer_value(json_object_get(doc, "at"));
	st->until = (time_t)json_integer_value(json_object_get(doc, "until"));
	if (st->until <= now || st->at > now + 60)
		goto done;
	st->kind = !strcmp(kind, "fail") ? STATE_FAIL : !strcmp(kind, "nocache") ? STATE_NOCACHE : STATE_NONE;
	st->klass = (enum dc_error_class)json_integer_value(json_object_get(doc, "class"));
	msg = dc_json_str(doc, "message");
	dc_log_clip(NULL, st->message, sizeof(st->message), msg ? msg : "no reason recorded");
done:
	json_decref(doc);
}

int dc_cache_state_check(const char *text, size_t len, time_t now)
{
	state st;

	parse_state(&st, text, len, now, NULL);
	return (int)st.kind;
}

/* Record a state; failures to record are only logged. The message is
 * redacted before it is written. */
static void write_state(dc_cache *c, const slot *s, const char *kind, time_t now, long hold, const char *message)
{
	dc_buf msg = DC_BUF_INIT;
	json_t *doc = NULL;
	char *text = NULL;

	dc_buf_init(&msg, 0, DC_BUF_SECRET);
	if (message && dc_buf_puts(&msg, message) == 0)
		dc_redactor_apply(c->ctx->redactor, &msg);
	if ((doc = json_pack("{s:s, s:I, s:I, s:s, s:i, s:s}", "kind", kind, "at", (json_int_t)now, "until",
			     (json_int_t)(now + hold), "message", msg.ptr, "class", (int)dc_error_get()->klass,
			     "check", s->check)) &&
	    (text = json_dumps(doc, JSON_COMPACT)) &&
	    dc_fs_write_atomic(s->state.ptr, text, strlen(text), 0600) < 0)
		dc_log_debug(&c->ctx->log, "cannot record the cache state: %s", dc_error_last());
	free(text);
	json_decref(doc);
	dc_buf_release(&msg);
}

static void clear_state(const slot *s)
{
	if (dc_fs_remove(s->state.ptr) < 0)
		dc_error_clear();
}

/* ---- collection of what expired ---- */

typedef struct {
	dc_cache *c;
	int (*fn)(const dc_cache_info *info, void *arg);
	void *arg;
	int expired_only, purge, collect;
	size_t removed, listed;
	time_t now;
} walk;

/* ".NAME.dcgen-XXXX" (util/fs atomic writes), "NAME.dcgen-new-PID" (the key) */
static int is_temp(const char *name)
{
	return (name[0] == '.' && strstr(name, ".dcgen-") != NULL) || strstr(name, ".dcgen-new-") != NULL;
}

static int has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	return n > k && !strcmp(name + n - k, suffix);
}

/* Remove `path` and count it; a failure is a warning only when collecting. */
static int drop(walk *w, const char *path)
{
	int err = dc_fs_remove(path);

	if (err == 0) {
		w->removed++;
		return 0;
	}
	if (w->collect) {
		dc_error_clear();
		return 0;
	}
	return err;
}

/* For "<id>.lock" or "<id>.state": is "<id>.entry" gone? */
static int orphan(const walk *w, const char *name, const char *suffix)
{
	dc_buf p = DC_BUF_INIT;
	struct stat st;
	int gone;

	dc_buf_printf(&p, "%s/%.*s.entry", w->c->dir, (int)(strlen(name) - strlen(suffix)), name);
	gone = !dc_buf_failed(&p) && lstat(p.ptr, &st) < 0 && errno == ENOENT;
	dc_buf_release(&p);
	return gone;
}

static int visit(const char *name, void *arg)
{
	walk *w = arg;
	dc_buf path = DC_BUF_INIT, raw = DC_BUF_INIT, hosts = DC_BUF_INIT, id = DC_BUF_INIT;
	json_t *h;
	parsed e = { 0 };
	size_t n = strlen(name), i;
	struct stat st;
	int err = 0, ok, old;

	if (dc_buf_printf(&path, "%s/%s", w->c->dir, name) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	if (w->purge || w->collect) {
		/* a writer killed mid-write leaves a temp file; a live one's is young */
		old = lstat(path.ptr, &st) == 0 && st.st_mtime + STALE_TEMP_SECONDS < w->now;
		if (is_temp(name)) {
			if (old)
				err = drop(w, path.ptr);
			goto done;
		}
		if (has_suffix(name, ".lock") || has_suffix(name, ".state")) {
			const char *sfx = has_suffix(name, ".lock") ? ".lock" : ".state";

			/* a lock is only removed long after its last use: a live
			 * waiter may still hold the file it opened */
			if ((w->purge && !w->expired_only && !w->collect) ||
			    (orphan(w, name, sfx) && (old || !strcmp(sfx, ".state"))))
				err = drop(w, path.ptr);
			goto done;
		}
		if (w->purge && !w->expired_only && !strcmp(name, KEY_FILE)) {
			err = drop(w, path.ptr);
			goto done;
		}
	}
	if (!has_suffix(name, ".entry") || name[0] == '.')
		goto done;
	ok = dc_fs_read(&raw, path.ptr, MAX_ENTRY) == 0 && parse_entry(&e, raw.ptr, raw.len) == 0;
	dc_error_clear();
	if (w->purge || w->collect) {
		/* collecting on store: expired for a day; purge --expired: expired */
		time_t limit = w->collect ? w->now - 86400 : w->now;

		if ((w->purge && !w->expired_only) || !ok || e.m.expires_at <= limit)
			err = drop(w, path.ptr);
		goto done;
	}
	if (!ok) {
		dc_log_warn(&w->c->ctx->log, "cache entry '%s' is damaged or not a dcgen entry; 'dcgen cache purge' removes it",
			    path.ptr);
		goto done;
	}
	json_array_foreach(json_object_get(e.doc, "hosts"), i, h)
		dc_buf_printf(&hosts, "%s%s", i ? "," : "", json_string_value(h) ? json_string_value(h) : "?");
	dc_buf_put(&id, name, n - 6);
	if (dc_buf_failed(&hosts) || dc_buf_failed(&id)) {
		err = dc_error_nomem();
		goto done;
	}
	w->listed++;
	if (w->fn)
		err = w->fn(&(dc_cache_info){
		.id = id.ptr,
		.family = dc_json_str(e.doc, "family"),
		.principal = dc_json_str(e.doc, "principal"),
		.hosts = hosts.ptr,
		.sealed_by = dc_json_str(e.doc, "sealed_by") ? dc_json_str(e.doc, "sealed_by") : "?",
		.created = e.m.created,
		.expires_at = e.m.expires_at,
		.state = e.m.expires_at <= w->now ? "expired" : is_fresh(w->c, &e.m, w->now) ? "fresh" : "refresh",
	}, w->arg);
done:
	json_decref(e.doc);
	dc_buf_release(&path);
	dc_buf_release(&raw);
	dc_buf_release(&hosts);
	dc_buf_release(&id);
	return err;
}

int dc_cache_list(dc_cache *c, int (*fn)(const dc_cache_info *info, void *arg), void *arg, size_t *n)
{
	walk w = { c, fn, arg, 0, 0, 0, 0, 0, dc_ctx_now(c->ctx) };
	int err = dc_fs_list(c->dir, visit, &w);

	if (n)
		*n = w.listed;
	return err;
}

int dc_cache_purge(dc_cache *c, int expired_only, size_t *removed)
{
	walk w = { c, NULL, NULL, expired_only, 1, 0, 0, 0, dc_ctx_now(c->ctx) };
	int err = dc_fs_list(c->dir, visit, &w);

	*removed = w.removed;
	return err;
}

/* On store: entries expired a day ago, orphaned state and old lock files. */
static void collect(dc_cache *c)
{
	walk w = { c, NULL, NULL, 1, 0, 1, 0, 0, dc_ctx_now(c->ctx) };

	if (dc_fs_list(c->dir, visit, &w) < 0)
		dc_error_clear();
	else if (w.removed)
		dc_log_debug(&c->ctx->log, "cache: collected %zu old files", w.removed);
}

/* ---- single flight ---- */

static void sleep_a_little(unsigned int spin)
{
	struct timespec ts = { 0, (5 + (long)((spin * 7 + (unsigned)getpid()) % 16)) * 1000000L };

	nanosleep(&ts, NULL);
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void warn_stale(dc_cache *c, const meta *m, time_t now, const char *why)
{
	char when[32];

	dc_time_format(when, sizeof(when), m->expires_at);
	dc_log_warn(&c->ctx->log, "%s; serving the cached credentials, valid until %s (%ld min left)", why, when,
		    (long)(m->expires_at - now) / 60);
}

static void take(dc_cred_list *out, dc_cred_list *from)
{
	dc_cred_list_release(out);
	*out = *from;
	*from = (dc_cred_list)DC_CRED_LIST_INIT;
}

/* A refresh failed moments ago (`st`): serve the entry `m` describes (held
 * in `old`) when it is still usable, with the recorded reason as a warning;
 * else fail with that reason rather than repeat the attempt. */
static int after_failure(dc_cred_list *out, dc_cred_list *old, enum dc_cache_outcome *outcome, dc_cache *c,
			 const meta *m, const state *st, time_t now)
{
	if (m && is_usable(c, m, now)) {
		warn_stale(c, m, now, st->message);
		take(out, old);
		*outcome = DC_CACHE_STALE;
		return 0;
	}
	return dc_error_setc(DC_ERR, st->klass ? st->klass : DC_ECLASS_CACHE,
			     "%s (a refresh %ld s ago failed; not repeating it for %d s)", st->message,
			     (long)(now - st->at), FAIL_HOLD);
}

int dc_cache_get(dc_cred_list *out, enum dc_cache_outcome *outcome, dc_cache *c, const dc_cache_key *key,
		 dc_cache_fetch_fn fetch, void *arg)
{
	dc_cred_list old = DC_CRED_LIST_INIT;
	slot s;
	meta m = { 0, 0 };
	state st;
	time_t now = dc_ctx_now(c->ctx), start = now;
	long t0 = mono_ms();
	unsigned int spin = 0;
	int err, found, lock = -1;

	*outcome = DC_CACHE_FETCHED;
	if ((err = slot_init(&s, c, key)) < 0) {
		if (dc_error_get()->klass == DC_ECLASS_NOMEM)
			goto done;
		/* a damaged cache key must not fail the job: like a read-only
		 * volume, it is a warning and a fetch without the cache */
		dc_log_warn(&c->ctx->log, "%s; fetching without the cache", dc_error_last());
		err = fetch(out, arg);
		goto done;
	}
	/* fast path: a fresh entry needs no lock; entries change by rename only */
	found = load(&old, &m, c, &s, key->family, 1) == 0;
	if (found && is_fresh(c, &m, now)) {
		take(out, &old);
		*outcome = DC_CACHE_HIT;
		goto done;
	}
	for (;;) {
		now = dc_ctx_now(c->ctx);
		read_state(&st, &s, now);
		if (st.kind == STATE_NOCACHE) {
			dc_log_debug(&c->ctx->log, "cache: this configuration's results are not cacheable; fetching without the lock");
			err = fetch(out, arg);
			goto done;
		}
		if (st.kind == STATE_FAIL && st.at >= start - FAIL_HOLD) {
			err = after_failure(out, &old, outcome, c, found ? &m : NULL, &st, now);
			goto done;
		}
		if ((err = dc_fs_trylock(&lock, s.lock.ptr)) == 0)
			break;
		if (err == DC_ERR) {
			/* a read-only or full cache volume must not fail the job */
			dc_log_warn(&c->ctx->log, "%s; fetching without the cache", dc_error_last());
			err = fetch(out, arg);
			goto done;
		}
		/* another caller is refreshing: an entry still usable is served now */
		if (found && is_usable(c, &m, now)) {
			warn_stale(c, &m, now, "another dcgen is refreshing these credentials");
			take(out, &old);
			*outcome = DC_CACHE_STALE;
			err = 0;
			goto done;
		}
		if (mono_ms() - t0 >= c->wait_ms) {
			dc_log_warn(&c->ctx->log, "waited %ld s for another dcgen refreshing '%s'; fetching without it (raise DCGEN_CACHE_WAIT to wait longer)",
				    c->wait_ms / 1000, s.entry.ptr);
			err = fetch(out, arg);
			goto done;
		}
		sleep_a_little(spin++);
		/* did the other caller store a fresh entry? */
		dc_cred_list_release(&old);
		found = load(&old, &m, c, &s, key->family, 0) == 0;
		if (found && is_fresh(c, &m, dc_ctx_now(c->ctx))) {
			take(out, &old);
			*outcome = DC_CACHE_WAITED;
			err = 0;
			goto done;
		}
	}
	/* holding the lock: the entry may have changed since we looked */
	dc_cred_list_release(&old);
	found = load(&old, &m, c, &s, key->family, 0) == 0;
	now = dc_ctx_now(c->ctx);
	if (found && is_fresh(c, &m, now)) {
		take(out, &old);
		*outcome = spin ? DC_CACHE_WAITED : DC_CACHE_HIT;
		goto done;
	}
	read_state(&st, &s, now);
	if (st.kind == STATE_FAIL && st.at >= start - FAIL_HOLD) {
		err = after_failure(out, &old, outcome, c, found ? &m : NULL, &st, now);
		goto done;
	}
	if ((err = fetch(out, arg)) < 0) {
		now = dc_ctx_now(c->ctx);
		/* an upstream failure holds others off; this process running out
		 * of memory says nothing about upstream and must not fail the
		 * next jobs for FAIL_HOLD seconds (found by tests/torture) */
		if (err != DC_EUSAGE && dc_error_get()->klass != DC_ECLASS_NOMEM)
			write_state(c, &s, "fail", now, FAIL_HOLD, dc_error_last());
		if (err != DC_EUSAGE && found && is_usable(c, &m, now)) {
			warn_stale(c, &m, now, dc_error_last());
			dc_cred_list_release(out);
			take(out, &old);
			*outcome = DC_CACHE_STALE;
			err = 0;
		} else if (found && m.expires_at > now) {
			dc_log_debug(&c->ctx->log, "cache: the entry has less than %ld s left; not serving it", floor_of(c, &m));
		}
		goto done;
	}
	*outcome = DC_CACHE_FETCHED;
	now = dc_ctx_now(c->ctx);
	if (!cacheable(out, now)) {
		dc_log_debug(&c->ctx->log, "not caching: a credential has no expiry or has expired");
		write_state(c, &s, "nocache", now, NOCACHE_HOLD, "the results carry no expiry");
	} else if (store(c, &s, key, out, now) < 0) {
		/* the job still gets its file; the next one fetches again */
		dc_log_warn(&c->ctx->log, "cannot store the cache entry: %s", dc_error_last());
	} else {
		clear_state(&s);
		collect(c);
	}
done:
	dc_fs_unlock(lock);
	dc_cred_list_release(&old);
	slot_release(&s);
	return err;
}
