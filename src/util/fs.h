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

#include "util/error.h"

int dc_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode) DC_MUST_USE;

/* Check, before any network call, that `path` can be written by
 * dc_fs_write_atomic: its directory exists and is writable, and `path` is
 * not a directory. DC_EUSAGE with the reason otherwise. */
int dc_fs_check_writable(const char *path) DC_MUST_USE;

#endif
