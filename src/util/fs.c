/* fs.c -- see fs.h. */
#include "util/fs.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/secret.h"

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
		/* a runtime condition (permissions, a read-only volume), not usage */
		err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot write '%s': directory '%s' is not writable (%s); check its permissions and mount",
				    path, dir.ptr, strerror(errno));
		goto done;
	}
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err = dc_error_set(DC_EUSAGE, "output path '%s' is a directory; give a file name", path);
		goto done;
	}
	/* the temp name ".NAME.dcgen-XXXXXXXX" must fit too */
	if (strlen(base) + sizeof(".dcgen-XXXXXXXX") + 1 > NAME_MAX)
		err = dc_error_set(DC_EUSAGE, "output file name '%s' is too long (over %d bytes); use a shorter name",
				   base, NAME_MAX - (int)sizeof(".dcgen-XXXXXXXX") - 1);
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

/* A name for the temp file, unique enough to retry on EEXIST. */
static int temp_name(dc_buf *out, const char *base)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[8];
	size_t i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return DC_ERR;
	dc_buf_reset(out);
	dc_buf_printf(out, ".%s.dcgen-", base);
	for (i = 0; i < sizeof(r); i++)
		dc_buf_putc(out, chars[r[i] % (sizeof(chars) - 1)]);
	return dc_buf_failed(out) ? DC_ERR : 0;
}

/* Write and fsync `data` into the open file `fd`, mode `mode`. */
static int fill(int fd, const void *data, size_t len, mode_t mode)
{
	return fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0 ? -1 : 0;
}

/* write_unnamed's answer when the file system or kernel cannot do it */
#define FALLBACK 1

/* The unnamed way: an O_TMPFILE file has no name while it is written, so
 * even a kill -9 then leaves nothing behind. It gets a temp name only for
 * the instant before the rename. FALLBACK when the file system or kernel
 * cannot do it (the caller falls back to mkostemp). */
static int write_unnamed(int dfd, const char *base, const char *path, const void *data, size_t len, mode_t mode)
{
	dc_buf tmp = DC_BUF_INIT;
	char proc[64];
	int fd, err = DC_ERR, tries, linked = 0;

	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL || errno == ENOENT
			       ? FALLBACK
			       : dc_error_set(DC_ERR, "cannot create a temporary file for '%s': %s", path, strerror(errno));
	if (fill(fd, data, len, mode) < 0) {
		dc_error_set(DC_ERR, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (tries = 0; tries < 16 && !linked; tries++) {
		if (temp_name(&tmp, base) < 0) {
			dc_error_set(DC_ERR, "out of memory");
			goto done;
		}
		/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc works for anyone */
		if (linkat(fd, "", dfd, tmp.ptr, AT_EMPTY_PATH) == 0 ||
		    linkat(AT_FDCWD, proc, dfd, tmp.ptr, AT_SYMLINK_FOLLOW) == 0)
			linked = 1;
		else if (errno != EEXIST)
			break;
	}
	if (!linked) {
		err = errno == EEXIST ? dc_error_set(DC_ERR, "cannot name a temporary file for '%s'", path)
				      : FALLBACK; /* no /proc, no capability: use mkostemp */
		goto done;
	}
	if (renameat(dfd, tmp.ptr, dfd, base) < 0) {
		dc_error_set(DC_ERR, "cannot rename a temporary file to '%s': %s", path, strerror(errno));
		unlinkat(dfd, tmp.ptr, 0);
		goto done;
	}
	err = 0;
done:
	close(fd);
	dc_buf_release(&tmp);
	return err;
}

/* The named way, where O_TMPFILE is not available. */
static int write_named(const char *dir, const char *base, const char *path, const void *data, size_t len,
		       mode_t mode)
{
	dc_buf tmp = DC_BUF_INIT;
	int fd = -1, err = DC_ERR;

	if (dc_buf_printf(&tmp, "%s/.%s.dcgen-XXXXXX", dir, base) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	if ((fd = mkostemp(tmp.ptr, O_CLOEXEC)) < 0) {
		dc_error_set(DC_ERR, "cannot create a temporary file in '%s': %s", dir, strerror(errno));
		dc_buf_release(&tmp);
		return DC_ERR;
	}
	if (fill(fd, data, len, mode) < 0) {
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
	err = 0;
done:
	if (fd >= 0)
		close(fd);
	if (err)
		unlink(tmp.ptr);
	dc_buf_release(&tmp);
	return err;
}

int dc_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	dc_buf dir = DC_BUF_INIT;
	const char *base;
	sigset_t stop, old;
	int dfd = -1, err;

	if (split(&dir, &base, path) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	/* A termination request (CI cancelling a job, docker stop) waits until
	 * the file is in place or gone: no temp file with credentials survives it. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	dfd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		err = dc_error_set(DC_ERR, "cannot open directory '%s': %s", dir.ptr, strerror(errno));
		goto done;
	}
	err = write_unnamed(dfd, base, path, data, len, mode);
	if (err == FALLBACK)
		err = write_named(dir.ptr, base, path, data, len, mode);
	/* make the rename itself durable; a failure here leaves a complete file */
	if (err == 0)
		(void)fsync(dfd);
done:
	if (dfd >= 0)
		close(dfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	dc_buf_release(&dir);
	return err;
}

static int check_dir(const char *dir, const char *what)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return dc_error_set(DC_EUSAGE, "cannot use %s '%s': %s", what, dir, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return dc_error_set(DC_EUSAGE, "refusing %s '%s': it is a symlink; point it at a real directory", what, dir);
	if (!S_ISDIR(st.st_mode))
		return dc_error_set(DC_EUSAGE, "refusing %s '%s': not a directory", what, dir);
	if (st.st_uid != geteuid())
		return dc_error_set(DC_EUSAGE, "refusing %s '%s': owned by uid %u, not by this user (uid %u); use a directory of your own",
				    what, dir, (unsigned)st.st_uid, (unsigned)geteuid());
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return dc_error_set(DC_EUSAGE, "refusing %s '%s': writable by group or others (mode %04o); chmod 700 it",
				    what, dir, (unsigned)(st.st_mode & 07777));
	return 0;
}

/* `dir` without a trailing "/" or "/." that would make lstat look through a
 * symlink at the last real component. */
static void trim_dir(dc_buf *path)
{
	while (path->len > 1 && (path->ptr[path->len - 1] == '/' ||
				 (path->len > 2 && !strcmp(path->ptr + path->len - 2, "/.")))) {
		path->len -= path->ptr[path->len - 1] == '/' ? 1 : 2;
		path->ptr[path->len] = '\0';
	}
}

int dc_fs_check_dir(const char *dir, const char *what)
{
	dc_buf path = DC_BUF_INIT;
	struct stat st;
	int err;

	if (!*dir)
		return dc_error_set(DC_EUSAGE, "%s is empty; give a directory", what);
	if (dc_buf_puts(&path, dir) < 0)
		return dc_error_nomem();
	trim_dir(&path);
	if (lstat(path.ptr, &st) < 0 && errno == ENOENT)
		err = dc_error_set(DC_EUSAGE, "%s '%s' does not exist; nothing to do", what, dir);
	else
		err = check_dir(path.ptr, what);
	dc_buf_release(&path);
	return err;
}

int dc_fs_secure_dir(const char *dir, const char *what)
{
	dc_buf path = DC_BUF_INIT;
	size_t i;
	int err = 0;

	if (!*dir)
		return dc_error_set(DC_EUSAGE, "%s is empty; give a directory", what);
	if (dc_buf_puts(&path, dir) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	/* create missing components, each 0700; existing parents are left alone */
	for (i = 1; i <= path.len && !err; i++) {
		if (path.ptr[i] != '/' && path.ptr[i] != '\0')
			continue;
		path.ptr[i] = '\0';
		if (mkdir(path.ptr, 0700) < 0 && errno != EEXIST)
			err = dc_error_set(DC_EUSAGE, "cannot create %s '%s': %s", what, path.ptr, strerror(errno));
		if (i < path.len)
			path.ptr[i] = '/';
	}
	/* check what the path names, not a trailing "/" or "/." that would
	 * make lstat look through a symlink at the last real component */
	if (!err)
		trim_dir(&path);
	if (!err)
		err = check_dir(path.len ? path.ptr : "/", what);
	dc_buf_release(&path);
	return err;
}

/* Read `fd` to its end into `out`, failing past `max` bytes; the chunk
 * buffer is wiped (it may have held a key). 0, or -1 with errno set: EFBIG
 * when there is more than `max`, ENOMEM when `out` failed. */
static int read_all(dc_buf *out, int fd, size_t max)
{
	char chunk[4096];
	size_t total = 0, used = 0;
	ssize_t n;
	int rc = 0, saved;

	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -1;
			break;
		}
		if ((size_t)n > used)
			used = (size_t)n;
		if ((size_t)n > max - total) {
			errno = EFBIG;
			rc = -1;
			break;
		}
		total += (size_t)n;
		if (dc_buf_put(out, chunk, (size_t)n) < 0) {
			errno = out->overflow ? EFBIG : ENOMEM;
			rc = -1;
			break;
		}
	}
	saved = errno;
	dc_secret_wipe(chunk, used);
	errno = saved;
	return rc;
}

int dc_fs_read(dc_buf *out, const char *path, size_t max)
{
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return DC_ENOTFOUND;
		return dc_error_set(DC_ERR, "cannot read '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		err = dc_error_set(DC_ERR, "cannot read '%s': not a regular file", path);
	else if (read_all(out, fd, max) < 0)
		err = errno == EFBIG ? dc_error_set(DC_ERR, "'%s' is larger than %zu bytes", path, max)
				     : dc_error_set(DC_ERR, "cannot read '%s': %s", path, strerror(errno));
	close(fd);
	return err;
}

int dc_fs_read_secret(dc_buf *out, const char *path, size_t max, const char *what)
{
	struct stat st;
	int fd, err = 0;

	/* symlinks are followed: Kubernetes mounts secrets and projected tokens
	 * as links into a ..data directory; O_NONBLOCK: a FIFO cannot hang us */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return dc_error_set(DC_EUSAGE, "cannot read %s '%s': %s; %s", what, path, strerror(errno),
				    errno == EACCES ? "check its permissions" : "check the path");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = dc_error_set(DC_EUSAGE, "cannot read %s '%s': not a regular file; check the path", what, path);
		goto done;
	}
	if (read_all(out, fd, max) == 0)
		goto done;
	if (errno == EFBIG)
		err = dc_error_set(DC_EUSAGE, "%s '%s' is larger than %zu bytes; check the path", what, path, max);
	else if (errno == ENOMEM)
		err = dc_error_set(DC_ERR, "out of memory");
	else
		err = dc_error_set(DC_EUSAGE, "cannot read %s '%s': %s; check its permissions", what, path,
				   strerror(errno));
done:
	close(fd);
	return err;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int dc_fs_lock(int *fd, const char *path, long timeout_ms)
{
	long start = mono_ms();
	unsigned int spin = 0;
	int f;

	*fd = -1;
	f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return dc_error_set(DC_ERR, "cannot open lock file '%s': %s", path, strerror(errno));
	while (flock(f, LOCK_EX | LOCK_NB) < 0) {
		struct timespec ts;

		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(f);
			return dc_error_set(DC_ERR, "cannot lock '%s': %s", path, strerror(errno));
		}
		if (mono_ms() - start >= timeout_ms) {
			close(f);
			return dc_error_set(DC_EBUSY, "waited %ld s for another dcgen holding '%s'; raise DCGEN_CACHE_WAIT or check for a stuck process",
					    timeout_ms / 1000, path);
		}
		/* 5..20 ms, varied so many waiters do not wake in step */
		ts.tv_sec = 0;
		ts.tv_nsec = (5 + (long)((spin++ * 7 + (unsigned)getpid()) % 16)) * 1000000L;
		nanosleep(&ts, NULL);
	}
	*fd = f;
	return 0;
}

int dc_fs_trylock(int *fd, const char *path)
{
	int f;

	*fd = -1;
	f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot open lock file '%s': %s", path, strerror(errno));
	while (flock(f, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		close(f);
		if (errno == EWOULDBLOCK)
			return DC_EBUSY;
		return dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot lock '%s': %s", path, strerror(errno));
	}
	*fd = f;
	return 0;
}

/* The descriptor a path names when it leads, directly or through symlinks,
 * to one of this process's open descriptors: "-", /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N, /proc/<our pid>/fd/N. -1 otherwise. Such a
 * path is written through the descriptor itself: reopening it would reset
 * an append offset, and replacing it would replace the link
 * (`dcgen /dev/stdout > cfg.json` must not turn /dev/stdout into a file). */
static int fd_named(const char *path)
{
	char cur[PATH_MAX], next[PATH_MAX], mine[64];
	const char *rest = NULL;
	ssize_t n;
	int hops;
	long v;
	char *end;

	if (!strcmp(path, "-"))
		return STDOUT_FILENO;
	if (strlen(path) >= sizeof(cur))
		return -1;
	snprintf(cur, sizeof(cur), "%s", path);
	snprintf(mine, sizeof(mine), "/proc/%ld/fd/", (long)getpid());
	for (hops = 0; hops < 16; hops++) {
		if (!strcmp(cur, "/dev/stdout"))
			return STDOUT_FILENO;
		if (!strcmp(cur, "/dev/stderr"))
			return STDERR_FILENO;
		if (!strncmp(cur, "/dev/fd/", 8))
			rest = cur + 8;
		else if (!strncmp(cur, "/proc/self/fd/", 14))
			rest = cur + 14;
		else if (!strncmp(cur, mine, strlen(mine)))
			rest = cur + strlen(mine);
		if (rest) {
			errno = 0;
			v = strtol(rest, &end, 10);
			return *rest && !*end && !errno && v >= 0 && v < 1 << 20 ? (int)v : -1;
		}
		if ((n = readlink(cur, next, sizeof(next) - 1)) < 0)
			return -1;
		next[n] = '\0';
		if (next[0] != '/') {
			/* a relative target: resolve against the link's directory */
			char *slash = strrchr(cur, '/');
			char joined[PATH_MAX];

			size_t dl;

			if (slash) {
				dl = (size_t)(slash - cur);
				if (dl + 1 + (size_t)n >= sizeof(joined))
					return -1;
				memcpy(joined, cur, dl);
				joined[dl] = '/';
				memcpy(joined + dl + 1, next, (size_t)n + 1);
				memcpy(cur, joined, dl + 1 + (size_t)n + 1);
				continue;
			}
		}
		memcpy(cur, next, (size_t)n + 1);
	}
	return -1;
}

enum dc_fs_kind dc_fs_kind_of(const char *path)
{
	struct stat st;

	if (fd_named(path) >= 0)
		return DC_FS_STREAM;
	/* stat follows links: a FIFO, a socket or a device anywhere */
	if (stat(path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
				     S_ISBLK(st.st_mode)))
		return DC_FS_STREAM;
	return DC_FS_FILE;
}

int dc_fs_write_stream(const char *path, const void *data, size_t len)
{
	int fd = fd_named(path), opened = 0, err = 0;

	if (fd < 0) {
		if ((fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)) < 0)
			return dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot open '%s' for writing: %s", path,
					     strerror(errno));
		opened = 1;
	}
	if (write_all(fd, data, len) < 0)
		err = dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot write to '%s': %s", path, strerror(errno));
	if (opened)
		close(fd);
	return err;
}

int dc_fs_create_exclusive(const char *path, const void *data, size_t len, mode_t mode)
{
	dc_buf tmp = DC_BUF_INIT;
	int fd = -1, err = DC_ERR;

	if (dc_buf_printf(&tmp, "%s.dcgen-new-%ld", path, (long)getpid()) < 0)
		return dc_error_nomem();
	(void)unlink(tmp.ptr);
	if ((fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot create '%s': %s", tmp.ptr, strerror(errno));
		goto done;
	}
	if (fill(fd, data, len, mode) < 0) {
		dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot write '%s': %s", tmp.ptr, strerror(errno));
		goto done;
	}
	/* link() never replaces: whoever links first wins, the rest read theirs */
	if (link(tmp.ptr, path) < 0) {
		if (errno == EEXIST)
			err = 1;
		else
			dc_error_setc(DC_ERR, DC_ECLASS_OS, "cannot create '%s': %s", path, strerror(errno));
		goto done;
	}
	err = 0;
done:
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp.ptr);
	dc_buf_release(&tmp);
	return err;
}

void dc_fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the last descriptor releases the flock */
}

int dc_fs_remove(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return dc_error_set(DC_ERR, "cannot remove '%s': %s", path, strerror(errno));
	return 0;
}

int dc_fs_list(const char *dir, int (*fn)(const char *name, void *ctx), void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d)
		return dc_error_set(DC_ERR, "cannot list '%s': %s", dir, strerror(errno));
	while (!err && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			err = fn(e->d_name, ctx);
	closedir(d);
	return err;
}

/* Give the open unnamed file `fd` the name `base` in `dfd`; fails with
 * EEXIST rather than replace anything (a symlink included). */
static int link_new(int fd, int dfd, const char *base)
{
	char proc[64];

	if (linkat(fd, "", dfd, base, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc, dfd, base, AT_SYMLINK_FOLLOW);
}

int dc_fs_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
	dc_buf dir = DC_BUF_INIT, tmp = DC_BUF_INIT;
	const char *base;
	sigset_t stop, old;
	int dfd = -1, fd = -1, err = DC_ERR, tries, named = 0, e = 0;

	if (split(&dir, &base, path) < 0)
		return dc_error_set(DC_ERR, "out of memory");
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	sigprocmask(SIG_BLOCK, &stop, &old);
	if ((dfd = open(dir.ptr, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = dc_error_set(DC_EUSAGE, "cannot write '%s': cannot open directory '%s': %s", path, dir.ptr,
				   strerror(errno));
		goto done;
	}
	/* unnamed while written, then linked to its name, which never replaces */
	if ((fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600)) >= 0) {
		if (fill(fd, data, len, mode) < 0) {
			dc_error_set(DC_ERR, "cannot write '%s': %s", path, strerror(errno));
			goto done;
		}
		e = link_new(fd, dfd, base) == 0 ? 0 : errno;
		if (e && e != EEXIST) {
			close(fd); /* cannot link it here: the named way */
			fd = -1;
		}
	}
	if (fd < 0) {
		for (tries = 0; tries < 16 && fd < 0; tries++) {
			if (temp_name(&tmp, base) < 0) {
				dc_error_set(DC_ERR, "out of memory");
				goto done;
			}
			fd = openat(dfd, tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (fd < 0 && errno != EEXIST)
				break;
		}
		if (fd < 0) {
			dc_error_set(DC_ERR, "cannot create a temporary file in '%s': %s", dir.ptr, strerror(errno));
			goto done;
		}
		named = 1;
		if (fill(fd, data, len, mode) < 0) {
			dc_error_set(DC_ERR, "cannot write '%s': %s", path, strerror(errno));
			goto done;
		}
		e = linkat(dfd, tmp.ptr, dfd, base, 0) == 0 ? 0 : errno;
	}
	if (e == EEXIST) {
		err = dc_error_set(DC_EUSAGE, "refusing to overwrite '%s': it exists; remove it first or give another path",
				   path);
		goto done;
	}
	if (e) {
		dc_error_set(DC_ERR, "cannot write '%s': %s", path, strerror(e));
		goto done;
	}
	(void)fsync(dfd);
	err = 0;
done:
	if (named)
		unlinkat(dfd, tmp.ptr, 0);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	dc_buf_release(&dir);
	dc_buf_release(&tmp);
	return err;
}
