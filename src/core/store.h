/* store.h -- the credential helper's own store: the static credentials that
 * `docker login` hands to `docker-credential-dcgen store`, sealed on disk.
 *
 *   dc_store *s;
 *   dc_store_open(&s, ctx, dir);                  nothing touched yet
 *   dc_store_get(&list, s, "reg.example:5000");   DC_ENOTFOUND when absent
 *   dc_store_put(s, server_url, user, secret);    creates dir 0700 and key
 *   dc_store_erase(s, server_url);                0 also when absent
 *   dc_store_list(s, fn, arg);                    server URL and user name
 *   dc_store_free(s);
 *
 * Files in `dir` (a private directory: 0700, ours, no symlink):
 *   store.key    32 random bytes, 0600, made by the first put
 *   credentials  AES-256-GCM (util/crypto.h) of a JSON object
 *                {KEY: {"ServerURL": .., "Username": .., "Secret": ..}},
 *                written atomically (util/fs)
 *   store.lock   an flock held across a put's or erase's read-modify-write
 * Who can read the directory can use the credentials, as with docker's own
 * file store; the seal keeps them out of backups and greps of the config
 * directory that do not also take the key.
 *
 * KEY is the server URL as the docker CLI looks it up (FRONTS.md 1.3):
 * Docker Hub's names are "https://index.docker.io/v1/", any other URL is its
 * host[:port] ("https://reg.example/v2/" and "reg.example" are one entry).
 */
#ifndef DC_STORE_H
#define DC_STORE_H

#include "core/cred.h"
#include "util/buf.h"
#include "util/ctx.h"

typedef struct dc_store dc_store;

int dc_store_open(dc_store **out, dc_ctx *ctx, const char *dir) DC_MUST_USE;
void dc_store_free(dc_store *s);

/* The lookup key of a server URL (see above); DC_EUSAGE when it has no host. */
int dc_store_key(dc_buf *out, const char *server_url) DC_MUST_USE;

/* Adds the stored credential for `server_url` to `out` (host = its key).
 * DC_ENOTFOUND (no message) when there is none, no store yet, or the URL
 * names no valid host (nothing can be stored under it); DC_ERR when
 * the store cannot be read or opened (changed, or a foreign key). */
int dc_store_get(dc_cred_list *out, dc_store *s, const char *server_url) DC_MUST_USE;
int dc_store_put(dc_store *s, const char *server_url, const char *username, const char *secret) DC_MUST_USE;
int dc_store_erase(dc_store *s, const char *server_url) DC_MUST_USE;
/* `fn` for each entry: the server URL as stored and the user name. */
int dc_store_list(dc_store *s, int (*fn)(const char *server_url, const char *username, void *arg), void *arg) DC_MUST_USE;

#endif
