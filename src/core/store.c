/* store.c -- see store.h. */
#include "core/store.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/crypto.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/secret.h"
#include "util/url.h"

#define KEY_FILE "store.key"
#define DATA_FILE "credentials"
#define LOCK_FILE "store.lock"
#define AAD "dcgen credential store v1"
#define MAX_DATA (1024 * 1024)
#define LOCK_MS 10000
#define HUB_KEY "https://index.docker.io/v1/"

struct dc_store {
	dc_ctx *ctx;
	char *dir;
	unsigned char key[DC_AEAD_KEY];
	int have_key;
};

int dc_store_open(dc_store **out, dc_ctx *ctx, const char *dir)
{
	dc_store *s = calloc(1, sizeof(*s));

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return dc_error_nomem();
	}
	s->ctx = ctx;
	*out = s;
	return 0;
}

void dc_store_free(dc_store *s)
{
	if (!s)
		return;
	dc_secret_wipe(s->key, sizeof(s->key));
	free(s->dir);
	free(s);
}

int dc_store_key(dc_buf *out, const char *server_url)
{
	static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io", NULL };
	const char *const *h;
	dc_buf host = DC_BUF_INIT;
	int err;

	if ((err = dc_host_from_url(&host, server_url)) < 0)
		goto done;
	for (h = hub; *h; h++)
		if (!strcasecmp(host.ptr, *h))
			break;
	if (*h)
		err = dc_buf_puts(out, HUB_KEY) < 0 ? dc_error_nomem() : 0;
	else if (!dc_url_host_valid(host.ptr, host.len))
		err = dc_error_set(DC_EUSAGE, "the server URL's host is not a host[:port]");
	else
		err = dc_buf_put(out, host.ptr, host.len) < 0 ? dc_error_nomem() : 0;
done:
	dc_buf_release(&host);
	return err;
}

static int path_of(dc_buf *out, const dc_store *s, const char *name)
{
	dc_buf_reset(out);
	return dc_buf_printf(out, "%s/%s", s->dir, name) < 0 ? dc_error_nomem() : 0;
}

/* The sealing key: read it; with `create`, make it when absent (whoever
 * links it first wins). DC_ENOTFOUND without `create` when absent. */
static int load_key(dc_store *s, int create)
{
	dc_buf path = DC_BUF_INIT, raw = DC_BUF_INIT;
	unsigned char fresh[DC_AEAD_KEY];
	int err = 0, tries;

	if (s->have_key)
		return 0;
	dc_buf_init(&raw, 0, DC_BUF_SECRET);
	if ((err = path_of(&path, s, KEY_FILE)) < 0)
		goto done;
	for (tries = 0; tries < 2; tries++) {
		dc_buf_reset(&raw);
		if ((err = dc_fs_read(&raw, path.ptr, 1024)) == 0) {
			if (raw.len != DC_AEAD_KEY) {
				err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "the store key '%s' is damaged (%zu bytes); remove '%s' and log in again",
						    path.ptr, raw.len, s->dir);
				goto done;
			}
			memcpy(s->key, raw.ptr, DC_AEAD_KEY);
			s->have_key = 1;
			goto done;
		}
		if (err != DC_ENOTFOUND || !create)
			goto done;
		if (dc_random(fresh, sizeof(fresh)) < 0) {
			err = dc_error_set(DC_ERR, "cannot get random bytes for the store key");
			goto done;
		}
		err = dc_fs_create_exclusive(path.ptr, fresh, sizeof(fresh), 0600);
		dc_secret_wipe(fresh, sizeof(fresh));
		if (err < 0)
			goto done;
	}
	err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot create the store key '%s'", path.ptr);
done:
	dc_buf_release(&path);
	dc_buf_release(&raw);
	return err;
}

/* DC_ENOTFOUND (no message) when the directory does not exist; else it
 * must be private (0700-ish, ours, no symlink): files in a directory others
 * can write could be swapped, key and all. */
static int dir_check(const dc_store *s)
{
	struct stat st;

	if (lstat(s->dir, &st) < 0 && errno == ENOENT)
		return DC_ENOTFOUND;
	return dc_fs_check_dir(s->dir, "credential store directory");
}

/* The stored object (a new empty one when there is no file yet, if
 * `create`), else DC_ENOTFOUND. */
static int load(json_t **out, dc_store *s, int create)
{
	dc_buf path = DC_BUF_INIT, sealed = DC_BUF_INIT, plain = DC_BUF_INIT;
	int err;

	*out = NULL;
	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if ((err = dir_check(s)) == DC_ENOTFOUND && create)
		err = 0;
	if (err < 0 || (err = path_of(&path, s, DATA_FILE)) < 0)
		goto done;
	err = dc_fs_read(&sealed, path.ptr, MAX_DATA);
	if (err == DC_ENOTFOUND && create) {
		err = (*out = json_object()) ? 0 : dc_error_nomem();
		goto done;
	}
	if (err < 0)
		goto done;
	if ((err = load_key(s, 0)) == DC_ENOTFOUND) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "the credential store '%s' has no key file '%s'; remove '%s' and log in again",
				    path.ptr, KEY_FILE, path.ptr);
		goto done;
	}
	if (err < 0)
		goto done;
	if (dc_aead_open(&plain, s->key, AAD, strlen(AAD), sealed.ptr, sealed.len) < 0) {
		err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "the credential store '%s' does not open with its key (changed, or another store's key); remove it and log in again",
				    path.ptr);
		goto done;
	}
	if (dc_json_parse_object(out, plain.ptr, plain.len, "the credential store") < 0)
		err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "the credential store '%s' holds no JSON object; remove it and log in again",
				    path.ptr);
done:
	dc_buf_release(&path);
	dc_buf_release(&sealed);
	dc_buf_release(&plain);
	return err;
}

static int save(dc_store *s, const json_t *doc)
{
	dc_buf path = DC_BUF_INIT, plain = DC_BUF_INIT, sealed = DC_BUF_INIT;
	int err;

	dc_buf_init(&plain, 0, DC_BUF_SECRET);
	if ((err = path_of(&path, s, DATA_FILE)) < 0 || (err = dc_json_dump(&plain, doc)) < 0)
		goto done;
	if (dc_aead_seal(&sealed, s->key, AAD, strlen(AAD), plain.ptr, plain.len) < 0) {
		err = dc_error_set(DC_ERR, "cannot seal the credential store");
		goto done;
	}
	err = dc_fs_write_atomic(path.ptr, sealed.ptr, sealed.len, 0600);
done:
	dc_buf_release(&path);
	dc_buf_release(&plain);
	dc_buf_release(&sealed);
	return err;
}

int dc_store_get(dc_cred_list *out, dc_store *s, const char *server_url)
{
	dc_buf key = DC_BUF_INIT;
	json_t *doc = NULL, *e;
	const char *user, *secret;
	int err;

	/* nothing is stored under a name that is not a host: not ours */
	if ((err = dc_store_key(&key, server_url)) == DC_EUSAGE) {
		dc_error_clear();
		err = DC_ENOTFOUND;
	}
	if (err < 0 || (err = load(&doc, s, 0)) < 0)
		goto done;
	e = json_object_get(doc, key.ptr);
	user = dc_json_str(e, "Username");
	secret = dc_json_str(e, "Secret");
	if (!user || !secret) {
		err = DC_ENOTFOUND;
		goto done;
	}
	err = dc_cred_list_add(out, key.ptr, user, secret, 0);
done:
	json_decref(doc);
	dc_buf_release(&key);
	return err;
}

/* Read, change and write under the lock; `value` NULL erases. */
static int update(dc_store *s, const char *server_url, json_t *value)
{
	dc_buf key = DC_BUF_INIT, lock = DC_BUF_INIT;
	json_t *doc = NULL;
	int err, fd = -1;

	if ((err = dc_store_key(&key, server_url)) < 0)
		goto done;
	if (!value) {
		/* nothing to erase from a store that does not exist */
		if ((err = dir_check(s)) == DC_ENOTFOUND) {
			err = 0;
			goto done;
		}
		if (err < 0)
			goto done;
	} else if ((err = dc_fs_secure_dir(s->dir, "credential store directory")) < 0) {
		goto done;
	}
	if ((err = path_of(&lock, s, LOCK_FILE)) < 0 || (err = dc_fs_lock(&fd, lock.ptr, LOCK_MS)) < 0)
		goto done;
	if ((err = load_key(s, value != NULL)) == DC_ENOTFOUND) {
		err = 0; /* erase with no key: nothing stored */
		goto done;
	}
	if (err < 0 || (err = load(&doc, s, 1)) < 0)
		goto done;
	if (!value) {
		if (!json_object_get(doc, key.ptr))
			goto done;
		json_object_del(doc, key.ptr);
	} else if (json_object_set(doc, key.ptr, value) < 0) {
		err = dc_error_nomem();
		goto done;
	}
	err = save(s, doc);
done:
	if (fd >= 0)
		dc_fs_unlock(fd);
	json_decref(doc);
	dc_buf_release(&key);
	dc_buf_release(&lock);
	return err;
}

int dc_store_put(dc_store *s, const char *server_url, const char *username, const char *secret)
{
	json_t *v = json_pack("{s:s, s:s, s:s}", "ServerURL", server_url, "Username", username, "Secret", secret);
	int err;

	if (!v)
		return dc_error_set(DC_EUSAGE, "the credentials are not UTF-8 text");
	err = update(s, server_url, v);
	json_decref(v);
	return err;
}

int dc_store_erase(dc_store *s, const char *server_url)
{
	return update(s, server_url, NULL);
}

int dc_store_list(dc_store *s, int (*fn)(const char *server_url, const char *username, void *arg), void *arg)
{
	json_t *doc = NULL, *e;
	const char *k;
	int err;

	if ((err = load(&doc, s, 0)) == DC_ENOTFOUND)
		return 0;
	if (err < 0)
		return err;
	json_object_foreach(doc, k, e) {
		const char *url = dc_json_str(e, "ServerURL"), *user = dc_json_str(e, "Username");

		if ((err = fn(url ? url : k, user ? user : "", arg)) < 0)
			break;
	}
	json_decref(doc);
	return err;
}
