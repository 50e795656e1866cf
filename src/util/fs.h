/* fs.h -- the only module that creates and renames files.
 *
 * dc_fs_write_atomic() writes `len` bytes to `path` so that `path` is either
 * what it was before or the complete new content, never anything between:
 * a temp file ".NAME.dcgen-XXXXXX" in the same directory (O_EXCL, mode 0600
 * from the start), write, fsync, rename over `path`, fsync the directory.
 * A symlink at `path` is replaced, never followed. On failure the temp file is
 * removed, `path` is untouched, and DC_ERR comes back with the message set.
 */
#ifndef DC_FS_H
#define DC_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"
#include "util/error.h"

int dc_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode) DC_MUST_USE;

/* What an output PATH is: DC_FS_STREAM ("-", a path that leads to one of
 * our open descriptors — /dev/stdout, /dev/stderr, /dev/fd/N,
 * /proc/self/fd/N, directly or through symlinks, whatever the descriptor is
 * — or a character device, FIFO or socket: written in place as a stream,
 * never replaced) or DC_FS_FILE (absent, a regular file, or a symlink that is
 * dangling or leads to a regular file elsewhere: written atomically, the
 * link replaced, never followed). */
enum dc_fs_kind { DC_FS_FILE, DC_FS_STREAM };
enum dc_fs_kind dc_fs_kind_of(const char *path);

/* Write `len` bytes to a stream PATH ("-" is standard output) without
 * creating, truncating or replacing anything. DC_ERR with the message set. */
int dc_fs_write_stream(const char *path, const void *data, size_t len) DC_MUST_USE;

/* Create `path` with `data` only if nothing is there (the whole content or
 * nothing, mode `mode`). 0 when created; when something
 * already is there, 1 (no message). DC_ERR on other failures. */
int dc_fs_create_exclusive(const char *path, const void *data, size_t len, mode_t mode) DC_MUST_USE;

/* Write a new file: like dc_fs_write_atomic (complete or absent, written
 * unnamed where the kernel can), but linked to `path` instead of renamed
 * over it, so an existing `path` (a symlink included) is never replaced:
 * DC_EUSAGE "refusing to overwrite" then. For keys (dcgen keygen). */
int dc_fs_write_new(const char *path, const void *data, size_t len, mode_t mode) DC_MUST_USE;

/* Check, before any network call, that `path` can be written by
 * dc_fs_write_atomic: its directory exists and is writable, and `path` is
 * not a directory. DC_EUSAGE with the reason otherwise. */
int dc_fs_check_writable(const char *path) DC_MUST_USE;

/* Make sure `dir` is a private directory: create it (and missing parents)
 * with mode 0700 if absent; refuse (DC_EUSAGE, naming `what` and the reason)
 * a symlink, a non-directory, one owned by another user, or one writable by
 * group or others. */
int dc_fs_secure_dir(const char *dir, const char *what) DC_MUST_USE;
/* The same checks without creating anything: DC_EUSAGE ("... does not
 * exist") when `dir` is absent. */
int dc_fs_check_dir(const char *dir, const char *what) DC_MUST_USE;

/* Read a whole regular file without following a symlink (our own files:
 * the cache). DC_ENOTFOUND (no message) when absent; DC_ERR when unreadable
 * or larger than `max`. */
int dc_fs_read(dc_buf *out, const char *path, size_t max) DC_MUST_USE;

/* Read a whole secret file the user named (a key, a federated token) into
 * `out` (make it a DC_BUF_SECRET buffer). Unlike dc_fs_read it follows
 * symlinks: Kubernetes mounts secrets through them. Regular files only, at
 * most `max` bytes; the read buffer is wiped. `what` names the file in
 * messages ("GOOGLE_APPLICATION_CREDENTIALS file"). DC_EUSAGE when the file
 * is missing, unreadable, not regular or too large; DC_ERR on out of memory.
 * On failure `out` may hold part of the file: release it. */
int dc_fs_read_secret(dc_buf *out, const char *path, size_t max, const char *what) DC_MUST_USE;

/* Take an exclusive flock on `path` (created 0600, never through a symlink),
 * waiting at most `timeout_ms`. On success *fd holds the lock until
 * dc_fs_unlock; the kernel drops it if the process dies. DC_EBUSY on
 * timeout, DC_ERR when the lock file cannot be opened (messages say so). */
int dc_fs_lock(int *fd, const char *path, long timeout_ms) DC_MUST_USE;
/* One try: 0 with *fd holding the lock; DC_EBUSY (no message) when another
 * process holds it; DC_ERR when the lock file cannot be opened. */
int dc_fs_trylock(int *fd, const char *path) DC_MUST_USE;
void dc_fs_unlock(int fd);

/* Remove a file; 0 also when it was already gone. */
int dc_fs_remove(const char *path) DC_MUST_USE;

/* Call `fn` for each entry name in `dir` (not "." or ".."); stops at the
 * first negative return and passes it up. */
int dc_fs_list(const char *dir, int (*fn)(const char *name, void *ctx), void *ctx) DC_MUST_USE;

#endif
