"""What PATH may be (issue 9, BLACKBOX D1): a character device, a FIFO, a
socket, or a symlink to one, is written as a stream and never replaced;
`-` and /dev/stdout print the file on stdout, the message stays on stderr;
a symlink to a regular file is still replaced, not followed."""
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

KEY_ID, SECRET = "AKIADCGENCOREPATHS01", "core/paths+abcdefghijklmnopqrstuvwxyz01"

USER, PASSWORD = "ci-bot", "dckr_pat_PathTestSecret0123456789"
REGISTRY = "registry.example.com:5000"


def docker_env(**extra):
    return peers.env({"DOCKER_USERNAME": USER, "DOCKER_PASSWORD": PASSWORD, "DOCKER_REGISTRY": REGISTRY},
                     **extra)


def run_in(cwd, args, env, timeout=30):
    """dcgen in `cwd`; stdout as bytes (it may hold the file), stderr checked for the secret."""
    p = subprocess.run([peers.DCGEN] + list(args), env=env, cwd=cwd, capture_output=True, timeout=timeout)
    err = p.stderr.decode("utf-8", "replace")
    assert PASSWORD not in err, f"the password appeared on stderr:\n{err}"
    return p.returncode, p.stdout, err


class Paths(peers.DcgenCase):
    def assert_config(self, data):
        doc = json.loads(data)
        self.assertEqual(peers.decode_auth(doc["auths"][REGISTRY]), (USER, PASSWORD))

    def assert_message_on_stderr(self, err):
        self.assertIn("wrote 1 docker credential", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_dash_writes_to_stdout(self):
        rc, out, err = run_in(self.out, ["-"], docker_env())
        self.assertEqual(rc, 0, err)
        self.assert_config(out)
        self.assert_message_on_stderr(err)
        self.assertEqual(os.listdir(self.out), [], "a file named '-' was created")

    def private_dev(self, redirect=None):
        """dcgen /dev/stdout in a mount namespace with a /dev of its own (a
        dcgen that replaced /dev/stdout must not break the machine's), its
        stdout a pipe or, with `redirect`, that file: (rc, stdout, stderr)."""
        script = ("mount -t tmpfs -o mode=755 dcgen-dev /dev && mknod -m 666 /dev/null c 1 3 && "
                  "mknod -m 666 /dev/urandom c 1 9 && for i in 0 1 2; do ln -s /proc/self/fd/$i /dev/fd$i; done && "
                  "mv /dev/fd0 /dev/stdin && mv /dev/fd1 /dev/stdout && mv /dev/fd2 /dev/stderr && "
                  'if [ -n "$CORETEST_REDIRECT" ]; then "$0" "$@" >"$CORETEST_REDIRECT"; else "$0" "$@"; fi; '
                  'rc=$?; [ -L /dev/stdout ] || echo "REPLACED /dev/stdout" >&2; exit $rc')
        env = docker_env(CORETEST_REDIRECT=redirect)
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script, peers.DCGEN,
                            "/dev/stdout"], env=env, cwd=self.out, capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotIn(PASSWORD, err)
        self.assertNotIn("REPLACED", err, "/dev/stdout was replaced by a regular file")
        return p.returncode, p.stdout, err

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root for a private /dev")
    def test_dev_stdout_writes_to_stdout(self):
        rc, out, err = self.private_dev()
        self.assertEqual(rc, 0, err)
        self.assert_config(out)
        self.assert_message_on_stderr(err)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("unshare"), "needs root for a private /dev")
    def test_dev_stdout_redirected_to_a_file(self):
        # `dcgen /dev/stdout > cfg.json`: /dev/stdout then points at a regular file
        target = os.path.join(self.dir, "redirected.json")
        rc, out, err = self.private_dev(redirect=target)
        self.assertEqual(rc, 0, err)
        with open(target, "rb") as f:
            self.assert_config(f.read())
        self.assert_message_on_stderr(err)

    def test_proc_self_fd_redirected_to_a_file(self):
        target = os.path.join(self.dir, "redirected.json")
        with open(target, "wb") as f:
            p = subprocess.run([peers.DCGEN, "/proc/self/fd/1"], env=docker_env(), cwd=self.out, stdout=f,
                               stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        self.assertNotIn(PASSWORD, err)
        self.assertEqual(p.returncode, 0, err)
        with open(target, "rb") as f:
            self.assert_config(f.read())

    def test_symlink_to_proc_fd_redirected_to_a_file_is_not_replaced(self):
        link = os.path.join(self.out, "stdout")
        os.symlink("/proc/self/fd/1", link)
        target = os.path.join(self.dir, "redirected.json")
        with open(target, "wb") as f:
            p = subprocess.run([peers.DCGEN, link], env=docker_env(), cwd=self.out, stdout=f,
                               stderr=subprocess.PIPE, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, err)
        self.assertTrue(os.path.islink(link), "the symlink to /proc/self/fd/1 was replaced")
        with open(target, "rb") as f:
            self.assert_config(f.read())

    def test_symlink_to_proc_fd_is_not_replaced(self):
        link = os.path.join(self.out, "stdout")
        os.symlink("/proc/self/fd/1", link)
        rc, out, err = run_in(self.out, [link], docker_env())
        self.assertEqual(rc, 0, err)
        self.assert_config(out)
        self.assertTrue(os.path.islink(link), "the symlink was replaced")
        self.assertEqual(os.readlink(link), "/proc/self/fd/1")

    def test_dot_slash_dash_is_a_file(self):
        # the way to write a file that is named '-'
        rc, out, err = run_in(self.out, ["./-"], docker_env())
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"")
        with open(os.path.join(self.out, "-"), "rb") as f:
            self.assert_config(f.read())

    @unittest.skipUnless(os.geteuid() == 0, "mknod needs root")
    def test_dev_null_copy_stays_a_device(self):
        null = os.path.join(self.out, "null")
        os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        os.chmod(null, 0o666)               # whatever the umask made of it
        rc, out, err = run_in(self.out, [null], docker_env())
        self.assertEqual(rc, 0, err)
        st = os.lstat(null)
        self.assertTrue(stat.S_ISCHR(st.st_mode), "the device was replaced by a regular file")
        self.assertEqual(st.st_rdev, os.makedev(1, 3))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o666)
        self.assertEqual(sorted(os.listdir(self.out)), ["null"], "a temp file was left")
        self.assertEqual(out, b"")
        # and a symlink to it (as /dev/stdout is to /proc/self/fd/1) is not replaced either
        link = os.path.join(self.out, "to-null")
        os.symlink(null, link)
        rc, out, err = run_in(self.out, [link], docker_env())
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.islink(link))
        self.assertTrue(stat.S_ISCHR(os.lstat(null).st_mode))

    def test_fifo_receives_the_json_and_stays_a_fifo(self):
        fifo = os.path.join(self.out, "fifo")
        os.mkfifo(fifo, 0o600)
        got = []

        def reader():
            with open(fifo, "rb") as f:      # blocks until dcgen opens it for writing
                got.append(f.read())
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            rc, out, err = run_in(self.out, [fifo], docker_env(), timeout=20)
        finally:
            t.join(10)
            if t.is_alive():                 # dcgen never opened it: release the reader
                with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
                    pass
                t.join(5)
        self.assertEqual(rc, 0, err)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced")
        self.assertEqual(len(got), 1)
        self.assert_config(got[0])
        self.assertEqual(sorted(os.listdir(self.out)), ["fifo"])

    def test_socket_is_never_replaced(self):
        path = os.path.join(self.out, "sock")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.bind(path)
            s.listen(1)
            rc, out, err = run_in(self.out, [path], docker_env())
            self.assertTrue(stat.S_ISSOCK(os.lstat(path).st_mode), "the socket was replaced")
        self.assertIn(rc, (0, 1, 2), err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertEqual(sorted(os.listdir(self.out)), ["sock"])

    def test_dash_prints_nothing_on_failure(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(srv.close)
        srv.default = "500"
        env = peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1",
                         "AWS_ENDPOINT_URL": srv.url, "DCGEN_TIMEOUT": "2"})
        p = subprocess.run([peers.DCGEN, "-"], env=env, cwd=self.out, capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, b"", "a failed run wrote to stdout")
        rc, out, err = run_in(self.out, ["-"], docker_env(DOCKER_REGISTRY="bad host"))
        self.assertEqual(rc, 2, err)
        self.assertEqual(out, b"")
        self.assertEqual(os.listdir(self.out), [])

    def test_symlink_to_regular_file_is_replaced_not_followed(self):
        target = os.path.join(self.dir, "target.json")
        with open(target, "w") as f:
            f.write("{}")
        os.symlink(target, self.path)
        rc, out, err = run_in(self.out, [self.path], docker_env())
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.islink(self.path))
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        with open(self.path) as f:
            self.assert_config(f.read())
        with open(target) as f:
            self.assertEqual(f.read(), "{}")
        self.assertEqual(out, b"")


if __name__ == "__main__":
    peers.main()
