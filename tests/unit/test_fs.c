/* test_fs.c -- util/fs: atomic writes, the writability check, and reading
 * our own files (never through a symlink) and the user's secret files (through one). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t.h"
#include "util/buf.h"
#include "util/fs.h"

static char root[] = "/tmp/dcgen-test-fs-XXXXXX";

/* A path under the test directory, in a static buffer per slot. */
static const char *at(int slot, const char *name)
{
	static char paths[4][512];

	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", root, name);
	return paths[slot];
}

/* Read a whole small file; the caller frees. NULL if it cannot. */
static char *slurp(const char *path)
{
	dc_buf b = DC_BUF_INIT;
	char chunk[256];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (dc_buf_put(&b, chunk, n) < 0)
			break;
	fclose(f);
	return dc_buf_detach(&b, NULL);
}

static int spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Names in `dir` other than . and .., joined by spaces into `out`. */
static int list_dir(dc_buf *out, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	dc_buf_reset(out);
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (dc_buf_printf(out, "%s%s", n ? " " : "", e->d_name) < 0)
			break;
		n++;
	}
	closedir(d);
	return n;
}

/* Remove everything the tests made (one level of subdirectories). */
static void clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	struct stat st;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			clean(path);
			rmdir(path);
		} else {
			unlink(path);
		}
	}
	closedir(d);
}

static void test_write_new(void)
{
	const char *path = at(0, "dockercfg");
	const char text[] = "{\"auths\":{}}\n";
	dc_buf names = DC_BUF_INIT;
	struct stat st;
	char *got;
	mode_t old = umask(0);

	/* the mode is exactly what was asked, whatever the umask */
	CHECK_EQ_INT(dc_fs_write_atomic(path, text, strlen(text), 0600), 0);
	umask(old);
	got = slurp(path);
	CHECK_EQ_STR(got, text);
	free(got);
	if (CHECK_EQ_INT(lstat(path, &st), 0)) {
		CHECK(S_ISREG(st.st_mode));
		CHECK_EQ_INT(st.st_mode & 07777, 0600);
		CHECK_EQ_INT(st.st_size, strlen(text));
	}
	/* no temp file left behind */
	CHECK_EQ_INT(list_dir(&names, root), 1);
	CHECK_EQ_STR(names.ptr, "dockercfg");
	/* binary content and zero length */
	CHECK_EQ_INT(dc_fs_write_atomic(path, "a\0b", 3, 0600), 0);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_size, 3);
	CHECK_EQ_INT(dc_fs_write_atomic(path, "", 0, 0600), 0);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_size, 0);
	CHECK_EQ_INT(list_dir(&names, root), 1);
	dc_buf_release(&names);
	clean(root);
}

static void test_replace_existing(void)
{
	const char *path = at(0, "out.json");
	dc_buf names = DC_BUF_INIT;
	struct stat st;
	char *got;

	CHECK_EQ_INT(spit(path, "old content that is longer than the new one\n"), 0);
	CHECK_EQ_INT(chmod(path, 0644), 0);
	CHECK_EQ_INT(dc_fs_write_atomic(path, "new\n", 4, 0600), 0);
	got = slurp(path);
	CHECK_EQ_STR(got, "new\n");
	free(got);
	CHECK_EQ_INT(stat(path, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	CHECK_EQ_INT(list_dir(&names, root), 1);
	CHECK_EQ_STR(names.ptr, "out.json");
	dc_buf_release(&names);
	clean(root);
}

static void test_replace_symlink(void)
{
	const char *path = at(0, "link");
	const char *target = at(1, "target");
	dc_buf names = DC_BUF_INIT;
	struct stat st;
	char *got;

	CHECK_EQ_INT(spit(target, "precious\n"), 0);
	CHECK_EQ_INT(symlink(target, path), 0);
	CHECK_EQ_INT(dc_fs_write_atomic(path, "fresh\n", 6, 0600), 0);
	/* the link itself was replaced by a regular file ... */
	if (CHECK_EQ_INT(lstat(path, &st), 0)) {
		CHECK(S_ISREG(st.st_mode));
		CHECK_EQ_INT(st.st_mode & 07777, 0600);
	}
	got = slurp(path);
	CHECK_EQ_STR(got, "fresh\n");
	free(got);
	/* ... and what it pointed at is untouched */
	got = slurp(target);
	CHECK_EQ_STR(got, "precious\n");
	free(got);
	CHECK_EQ_INT(list_dir(&names, root), 2);
	dc_buf_release(&names);
	clean(root);

	/* a dangling link is replaced too, and nothing is created where it pointed */
	CHECK_EQ_INT(symlink(at(1, "nowhere"), path), 0);
	CHECK_EQ_INT(dc_fs_write_atomic(path, "x", 1, 0600), 0);
	CHECK_EQ_INT(lstat(path, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	CHECK(access(at(1, "nowhere"), F_OK) != 0);
	clean(root);
}

static void test_relative_path(void)
{
	char cwd[1024];
	struct stat st;
	char *got;

	if (!CHECK(getcwd(cwd, sizeof(cwd)) != NULL) || !CHECK_EQ_INT(chdir(root), 0))
		return;
	CHECK_EQ_INT(dc_fs_write_atomic("plain", "p", 1, 0600), 0);
	CHECK_EQ_INT(chdir(cwd), 0);
	got = slurp(at(0, "plain"));
	CHECK_EQ_STR(got, "p");
	free(got);
	CHECK_EQ_INT(stat(at(0, "plain"), &st), 0);
	clean(root);
}

static void test_failures_leave_nothing(void)
{
	dc_buf names = DC_BUF_INIT;
	char *got;

	/* into a directory that does not exist */
	dc_error_clear();
	CHECK_EQ_INT(dc_fs_write_atomic(at(0, "missing/dockercfg"), "x", 1, 0600), DC_ERR);
	CHECK(*dc_error_last() != '\0');
	CHECK_EQ_INT(list_dir(&names, root), 0);
	CHECK(access(at(0, "missing"), F_OK) != 0);

	/* over a directory: the rename fails, the temp file goes, the
	 * directory and what it holds stay */
	CHECK_EQ_INT(mkdir(at(0, "sub"), 0700), 0);
	CHECK_EQ_INT(spit(at(1, "sub/keep"), "keep\n"), 0);
	dc_error_clear();
	CHECK_EQ_INT(dc_fs_write_atomic(at(2, "sub"), "x", 1, 0600), DC_ERR);
	CHECK(*dc_error_last() != '\0');
	CHECK_EQ_INT(list_dir(&names, root), 1);
	CHECK_EQ_STR(names.ptr, "sub");
	got = slurp(at(1, "sub/keep"));
	CHECK_EQ_STR(got, "keep\n");
	free(got);
	CHECK_EQ_INT(list_dir(&names, at(3, "sub")), 1);
	dc_buf_release(&names);
	clean(root);
	dc_error_clear();
}

static void test_check_writable(void)
{
	dc_error_clear();
	CHECK_EQ_INT(dc_fs_check_writable(at(0, "dockercfg")), 0);
	CHECK(access(at(0, "dockercfg"), F_OK) != 0); /* checking creates nothing */
	CHECK_EQ_INT(spit(at(0, "dockercfg"), "old"), 0);
	CHECK_EQ_INT(dc_fs_check_writable(at(0, "dockercfg")), 0); /* an existing file is fine */

	CHECK_EQ_INT(dc_fs_check_writable(at(1, "missing/dockercfg")), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "missing");
	CHECK(access(at(1, "missing"), F_OK) != 0);

	CHECK_EQ_INT(mkdir(at(2, "adir"), 0700), 0);
	dc_error_clear();
	CHECK_EQ_INT(dc_fs_check_writable(at(2, "adir")), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "adir");
	CHECK_EQ_INT(dc_fs_check_writable(at(2, "adir/")), DC_EUSAGE);
	CHECK_EQ_INT(dc_fs_check_writable(""), DC_EUSAGE);

	/* a file where the directory should be */
	CHECK_EQ_INT(dc_fs_check_writable(at(3, "dockercfg/inner")), DC_EUSAGE);

	/* an unwritable directory (root can write anywhere: skip then) */
	if (geteuid() != 0) {
		CHECK_EQ_INT(mkdir(at(3, "ro"), 0500), 0);
		CHECK_EQ_INT(dc_fs_check_writable(at(3, "ro/dockercfg")), DC_EUSAGE);
		chmod(at(3, "ro"), 0700);
	}
	clean(root);
	dc_error_clear();
}

static void test_read_own_file(void)
{
	dc_buf b = DC_BUF_INIT;

	CHECK_EQ_INT(spit(at(0, "entry"), "sealed"), 0);
	CHECK_EQ_INT(dc_fs_read(&b, at(0, "entry"), 64), 0);
	CHECK_EQ_STR(b.ptr, "sealed");
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_fs_read(&b, at(1, "absent"), 64), DC_ENOTFOUND);
	/* our own files are never read through a symlink */
	CHECK_EQ_INT(symlink(at(0, "entry"), at(2, "link")), 0);
	CHECK_EQ_INT(dc_fs_read(&b, at(2, "link"), 64), DC_ERR);
	CHECK_EQ_INT(dc_fs_read(&b, at(0, "entry"), 5), DC_ERR);
	CHECK_HAS(dc_error_last(), "larger than 5 bytes");
	dc_buf_release(&b);
	clean(root);
	dc_error_clear();
}

static void test_read_secret(void)
{
	dc_buf b;
	char big[10000];
	const char *what = "X_KEY_FILE";

	dc_buf_init(&b, 0, DC_BUF_SECRET);
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ_INT(spit(at(0, "key.json"), big), 0);
	/* larger than one read, whole */
	CHECK_EQ_INT(dc_fs_read_secret(&b, at(0, "key.json"), 64 * 1024, what), 0);
	CHECK_EQ_INT(b.len, sizeof(big) - 1);
	CHECK_EQ_STR(b.ptr, big);
	/* through a symlink into a ..data directory, as Kubernetes mounts it */
	CHECK_EQ_INT(mkdir(at(1, "..data"), 0700), 0);
	CHECK_EQ_INT(spit(at(1, "..data/token"), "eyJ.token"), 0);
	CHECK_EQ_INT(symlink("..data/token", at(2, "token")), 0);
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_fs_read_secret(&b, at(2, "token"), 64, what), 0);
	CHECK_EQ_STR(b.ptr, "eyJ.token");
	/* exactly the cap is fine, one byte more is not */
	dc_buf_reset(&b);
	CHECK_EQ_INT(dc_fs_read_secret(&b, at(2, "token"), 9, what), 0);
	dc_buf_reset(&b);
	dc_error_clear();
	CHECK_EQ_INT(dc_fs_read_secret(&b, at(0, "key.json"), 9998, what), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "X_KEY_FILE '");
	CHECK_HAS(dc_error_last(), "is larger than 9998 bytes");
	/* missing, a directory, a FIFO (refused without waiting for a writer) */
	dc_error_clear();
	CHECK_EQ_INT(dc_fs_read_secret(&b, at(3, "absent"), 64, what), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "cannot read X_KEY_FILE '");
	CHECK_HAS(dc_error_last(), "absent': No such file or directory; check the path");
	CHECK_EQ_INT(dc_fs_read_secret(&b, at(1, "..data"), 64, what), DC_EUSAGE);
	CHECK_HAS(dc_error_last(), "not a regular file");
	if (CHECK_EQ_INT(mkfifo(at(3, "fifo"), 0600), 0)) {
		CHECK_EQ_INT(dc_fs_read_secret(&b, at(3, "fifo"), 64, what), DC_EUSAGE);
		CHECK_HAS(dc_error_last(), "not a regular file");
	}
	/* nothing of a key in the messages */
	CHECK_LACKS(dc_error_last(), "kkkk");
	dc_buf_release(&b);
	clean(root);
	dc_error_clear();
}

int main(void)
{
	int rc;

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(test_write_new);
	T_RUN(test_replace_existing);
	T_RUN(test_replace_symlink);
	T_RUN(test_relative_path);
	T_RUN(test_failures_leave_nothing);
	T_RUN(test_check_writable);
	T_RUN(test_read_own_file);
	T_RUN(test_read_secret);
	rc = t_done();
	clean(root);
	rmdir(root);
	return rc;
}
