"""What dcgen leaves on disk when it is stopped: a termination request during
the write waits for the file to be in place; a kill -9 during the write leaves
no temp file holding credentials (the file is written unnamed, O_TMPFILE).
Also: messages stay one line whatever a value holds, and names too long for
the temp file are refused before any request. fsync is slowed with strace's
fault injection so the signal lands mid-write."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

KEY = ("AKIAFILESTESTKEY0001", "files/secret+0123456789abcdefghijklmnop")
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


class Files(unittest.TestCase):
    def setUp(self):
        self.srv = AwsJsonServer({KEY[0]: (KEY[1], None)}).start()
        self.dir = tempfile.mkdtemp(prefix="dcgen-files-")
        self.path = os.path.join(self.dir, "dockercfg")

    def tearDown(self):
        self.srv.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, **extra):
        return peers.env({"AWS_ACCESS_KEY_ID": KEY[0], "AWS_SECRET_ACCESS_KEY": KEY[1],
                          "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.srv.url}, **extra)

    def stopped_mid_write(self, sig):
        """Run dcgen with every fsync slowed by 1.5 s and send `sig` at 0.7 s."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed")
        with open(self.path, "w") as f:
            f.write("previous content\n")
        tracer = subprocess.Popen(["strace", "-f", "-o", "/dev/null", "-e", "inject=fsync:delay_enter=1500000",
                                   peers.DCGEN, self.path], env=self.env(), stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        child = None
        while time.time() < deadline and child is None:
            out = subprocess.run(["pgrep", "-P", str(tracer.pid)], capture_output=True, text=True).stdout.split()
            child = int(out[0]) if out else None
            time.sleep(0.05)
        self.assertIsNotNone(child, "dcgen did not start under strace")
        # wait until dcgen is held at its first fsync (syscall 74 on x86-64),
        # rather than a fixed time that a loaded machine may not keep
        while time.time() < deadline:
            try:
                with open(f"/proc/{child}/syscall") as f:
                    if f.read().split(" ", 1)[0] == "74":
                        break
            except OSError:
                break
            time.sleep(0.02)
        time.sleep(0.2)
        try:
            os.kill(child, sig)
        except ProcessLookupError:
            self.fail("dcgen ended before it could be stopped mid-write: " + tracer.communicate(timeout=30)[1])
        err = tracer.communicate(timeout=30)[1]
        self.assertNotIn(KEY[1], err)
        return sorted(os.listdir(self.dir))

    def test_sigterm_waits_for_the_file(self):
        names = self.stopped_mid_write(signal.SIGTERM)
        self.assertEqual(names, ["dockercfg"])           # no temp file left
        with open(self.path) as f:
            self.assertIn(HOST, json.load(f)["auths"])  # the new, complete file

    def test_kill_9_leaves_no_temp_file(self):
        names = self.stopped_mid_write(signal.SIGKILL)
        self.assertEqual(names, ["dockercfg"])
        with open(self.path) as f:
            self.assertEqual(f.read(), "previous content\n")

    def test_messages_are_one_line(self):
        for var, value in (("AWS_REGION", "eu\nwest"), ("DCGEN_FORMAT", "bad\nline\x1b[31m")):
            r = peers.run([self.path], self.env(**{var: value}), [KEY[1]])
            self.assertEqual(r.rc, 2, r.err)
            self.assertEqual(len(r.err.splitlines()), 1, r.err)
            self.assertIn("\\n", r.err)
            self.assertNotIn("\x1b", r.err)

    def test_too_long_a_name_is_refused_before_any_request(self):
        r = peers.run([os.path.join(self.dir, "x" * 250)], self.env(), [KEY[1]])
        self.assertEqual(r.rc, 2, r.err)
        self.assertIn("too long", r.err)
        self.assertEqual(self.srv.count, 0)


if __name__ == "__main__":
    peers.main()
