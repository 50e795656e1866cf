/* fs.c -- see fs.h. */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"

/* Split `path` into a directory (always non-empty) and a base name. */
static int split(dc_buf *dir, const char **base, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return dc_buf_puts(dir, ".");
	}
	*base = slash + 1;
	if (slash == path)
		return dc_buf_puts(dir, "/");
	return dc_buf_put(dir, path, (size_t)(slash - path));
}

int dc_fs_check_writable(const char *path)
{
	dc_buf dir = DC_BUF_INIT;
	const char *base;
	struct stat st;
	int err = 0;

	if (!*path)
		return dc_error_set(DC_EUSAGE, "the output path is empty; give the file to write");
	if (split(&dir, &base, path) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	if (!*base) {
		err = dc_error_set(DC_EUSAGE, "output path '%s' names a directory; give a file name", path);
		goto done;
	}
	if (stat(dir.ptr, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err = dc_error_set(DC_EUSAGE, "cannot write '%s': directory '%s' does not exist; create it first",
				   path, dir.ptr);
		goto done;
	}
	if (access(dir.ptr, W_OK | X_OK) < 0) {
		err = dc_error_set(DC_EUSAGE, "cannot write '%s': directory '%s' is not writable (%s)",
				   path, dir.ptr, strerror(errno));
		goto done;
	}
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		err = dc_error_set(DC_EUSAGE, "output path '%s' is a directory; give a file name", path);
done:
	dc_buf_release(&dir);
	return err;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int dc_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	dc_buf dir = DC_BUF_INIT, tmp = DC_BUF_INIT;
	const char *base;
	int fd = -1, dfd = -1, err = DC_ERR;

	if (split(&dir, &base, path) < 0 ||
	    dc_buf_printf(&tmp, "%s/.%s.dcgen-XXXXXX", dir.ptr, base) < 0) {
		err = dc_error_set(DC_ERR, "out of memory");
		goto done;
	}
	fd = mkostemp(tmp.ptr, O_CLOEXEC);
	if (fd < 0) {
		dc_error_set(DC_ERR, "cannot create a temporary file in '%s': %s", dir.ptr, strerror(errno));
		dc_buf_reset(&tmp); /* nothing was created */
		goto done;
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		dc_error_set(DC_ERR, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		dc_error_set(DC_ERR, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, path) < 0) {
		dc_error_set(DC_ERR, "cannot rename '%s' to '%s': %s", tmp.ptr, path, strerror(errno));
		goto done;
	}
	dc_buf_reset(&tmp); /* renamed: nothing left to remove */
	/* make the rename itself durable; a failure here leaves a complete file */
	dfd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	err = 0;
done:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (err && tmp.len)
		unlink(tmp.ptr);
	dc_buf_release(&dir);
	dc_buf_release(&tmp);
	return err;
}
