"""The shared credential cache: one upstream call for many concurrent cold
callers, no network on a hit, sealed entries, refusals, staleness rules and
crash safety under kill -9. Upstream is the local SigV4-checking ECR endpoint,
which counts every request."""
import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import fcntl

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

KEY_A = ("AKIACACHETESTKEY000A", "secret/A+0123456789abcdefghijklmnopqrst")
KEY_B = ("AKIACACHETESTKEY000B", "secret/B+0123456789abcdefghijklmnopqrst")
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


class Cache(unittest.TestCase):
    def setUp(self):
        self.srv = AwsJsonServer({KEY_A[0]: (KEY_A[1], None), KEY_B[0]: (KEY_B[1], None)}).start()
        self.tmp = tempfile.mkdtemp(prefix="dcgen-cache-test-")
        os.chmod(self.tmp, 0o700)
        self.cache = os.path.join(self.tmp, "cache")
        self.out = os.path.join(self.tmp, "out")
        os.mkdir(self.out)
        self.srv_down = False

    def upstream_down(self):
        """Stop the endpoint; its URL (part of the cache key) stays the same."""
        self.srv.close()
        self.srv_down = True

    def tearDown(self):
        if not self.srv_down:
            self.srv.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, key=KEY_A, **extra):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_ACCESS_KEY_ID": key[0],
             "AWS_SECRET_ACCESS_KEY": key[1], "AWS_REGION": "us-east-1",
             "AWS_ENDPOINT_URL": self.srv.url, "DCGEN_CACHE_DIR": self.cache}
        e.update(extra)
        return e

    def secrets(self):
        return [KEY_A[1], KEY_B[1], self.srv.token_prefix]

    def run_dcgen(self, env, name="cfg", *args):
        return peers.run(list(args) + [os.path.join(self.out, name)], env, self.secrets())

    def entries(self):
        if not os.path.isdir(self.cache):
            return []
        return sorted(f for f in os.listdir(self.cache) if f.endswith(".entry"))

    def read_out(self, name="cfg"):
        with open(os.path.join(self.out, name)) as f:
            return json.load(f)

    def test_cold_then_warm(self):
        r = self.run_dcgen(self.env())
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from upstream", r.err)
        self.assertEqual(self.srv.count, 1)
        self.assertEqual(stat.S_IMODE(os.stat(self.cache).st_mode), 0o700)
        [entry] = self.entries()
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.cache, entry)).st_mode), 0o600)
        first = self.read_out()
        # a hit: no request, and no network at all (the endpoint is now down)
        self.upstream_down()
        r = self.run_dcgen(self.env(), "cfg2")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from cache", r.err)
        self.assertEqual(self.read_out("cfg2"), first)
        self.assertEqual(peers.decode_auth(first["auths"][HOST]), ("AWS", self.srv.token_for("123456789012")))

    def test_token_never_stored_in_clear(self):
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        [entry] = self.entries()
        with open(os.path.join(self.cache, entry), "rb") as f:
            raw = f.read()
        self.assertNotIn(self.srv.token_prefix.encode(), raw)
        self.assertNotIn(KEY_A[1].encode(), raw)
        # the principal (the access key id: an identifier AWS does not treat
        # as secret) is in the clear metadata, for `cache list`, and only there
        head = raw.split(b"\n", 2)
        self.assertIn(b'"principal":"%s"' % KEY_A[0].encode(), head[1])
        self.assertNotIn(KEY_A[0].encode(), head[2])
        # and the name reveals nothing about the credential
        self.assertNotIn(KEY_A[0].lower(), entry.lower())

    def test_64_concurrent_cold_callers_make_one_request(self):
        self.srv.delay = (0.3, 0.3)   # hold the first caller long enough for all to pile up
        procs = [subprocess.Popen([peers.DCGEN, os.path.join(self.out, f"cfg{i}")], env=self.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(64)]
        results = [(p.wait(120), p.stderr.read()) for p in procs]
        for p in procs:
            p.stdout.close()
            p.stderr.close()
        for rc, err in results:
            self.assertEqual(rc, 0, err)
            for s in self.secrets():
                self.assertNotIn(s, err)
        self.assertEqual(self.srv.count, 1)
        contents = set()
        for i in range(64):
            with open(os.path.join(self.out, f"cfg{i}")) as f:
                contents.add(f.read())
        self.assertEqual(len(contents), 1)
        self.assertIn(HOST, json.loads(contents.pop())["auths"])
        self.assertEqual(len(self.entries()), 1)

    def test_two_credentials_never_share(self):
        self.assertEqual(self.run_dcgen(self.env(KEY_A)).rc, 0)
        r = self.run_dcgen(self.env(KEY_B))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from upstream", r.err)
        self.assertEqual(self.srv.count, 2)
        self.assertEqual(len(self.entries()), 2)
        # a wrong secret for a cached key id finds no entry: it goes upstream and fails
        r = self.run_dcgen(self.env((KEY_A[0], "wrong/secret/for/key/a/000000000000")))
        self.assertEqual(r.rc, 1, r.err)

    def test_other_identity_parts_change_the_key(self):
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        r = self.run_dcgen(self.env(AWS_ECR_REGISTRY_IDS="123456789012,210987654321"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(len(self.read_out()["auths"]), 2)
        self.assertEqual(self.srv.count, 2)

    def test_upstream_down_serves_valid_entry_inside_margin(self):
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        # a refresh margin above the token's 12 h: the entry wants refreshing
        self.upstream_down()
        r = self.run_dcgen(self.env(DCGEN_CACHE_MIN_TTL="86400"), "cfg2")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning:", r.err)
        self.assertIn("cannot reach ECR", r.err)
        self.assertIn("stale", r.err)
        self.assertIn(HOST, self.read_out("cfg2")["auths"])

    def test_margin_refreshes_when_upstream_is_up(self):
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        r = self.run_dcgen(self.env(DCGEN_CACHE_MIN_TTL="86400"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from upstream", r.err)
        self.assertEqual(self.srv.count, 2)

    def test_expired_entry_is_never_served(self):
        self.srv.lifetime = 2
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        self.assertEqual(len(self.entries()), 1)
        time.sleep(3)
        self.upstream_down()
        r = self.run_dcgen(self.env(), "cfg2")
        self.assertEqual(r.rc, 1, r.err)
        self.assertFalse(os.path.exists(os.path.join(self.out, "cfg2")))
        r = peers.run(["cache", "purge", "--expired"], self.env())
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(self.entries(), [])

    def test_expired_token_is_written_not_cached(self):
        self.srv.lifetime = -60
        r = self.run_dcgen(self.env())
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("expired already", r.err)
        self.assertEqual(self.entries(), [])

    def damage(self, how):
        """Change a stored entry: its sealed bytes, its clear metadata, or its length."""
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        [entry] = self.entries()
        path = os.path.join(self.cache, entry)
        with open(path, "rb") as f:
            raw = bytearray(f.read())
        magic, meta, sealed = raw.split(b"\n", 2)
        self.assertEqual(magic, b"dcgen-cache 3")
        if how == "tamper":
            sealed[20] ^= 1
            raw = b"\n".join([magic, meta, bytes(sealed)])
        elif how == "extend":
            doc = json.loads(meta)
            doc["expires_at"] += 86400 * 365
            raw = b"\n".join([magic, json.dumps(doc).encode(), bytes(sealed)])
        elif how == "truncate":
            raw = raw[: len(raw) - 40]
        with open(path, "wb") as f:
            f.write(raw)
        return path

    def test_damaged_entries_are_ignored_and_replaced(self):
        for how in ("tamper", "extend", "truncate"):
            with self.subTest(how=how):
                shutil.rmtree(self.cache, ignore_errors=True)
                before = self.srv.count
                self.damage(how)
                r = self.run_dcgen(self.env(), "cfg2")
                self.assertEqual(r.rc, 0, r.err)
                self.assertIn("damaged", r.err)
                self.assertIn("from upstream", r.err)
                self.assertEqual(self.srv.count, before + 2)
                r = self.run_dcgen(self.env(), "cfg3")
                self.assertIn("from cache", r.err)

    def test_foreign_entry_is_useless(self):
        self.assertEqual(self.run_dcgen(self.env(KEY_A)).rc, 0)
        [a] = self.entries()
        self.assertEqual(self.run_dcgen(self.env(KEY_B)).rc, 0)
        [b] = [e for e in self.entries() if e != a]
        shutil.copy(os.path.join(self.cache, a), os.path.join(self.cache, b))
        r = self.run_dcgen(self.env(KEY_B), "cfg2")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("damaged", r.err)
        self.assertEqual(self.srv.count, 3)

    def test_refuses_unsafe_directories(self):
        os.mkdir(self.cache, 0o700)
        os.chmod(self.cache, 0o777)
        r = self.run_dcgen(self.env())
        self.assertEqual(r.rc, 2, r.err)
        self.assertIn("writable by group or others", r.err)
        os.chmod(self.cache, 0o700)
        link = os.path.join(self.tmp, "link")
        os.symlink(self.cache, link)
        for spelling in (link, link + "/", link + "/."):
            r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=spelling))
            self.assertEqual(r.rc, 2, (spelling, r.err))
            self.assertIn("symlink", r.err)
        if os.geteuid() == 0:
            os.chown(self.cache, 65534, 65534)
            r = self.run_dcgen(self.env())
            self.assertEqual(r.rc, 2, r.err)
            self.assertIn("owned by uid 65534", r.err)
        self.assertEqual(self.srv.count, 0)
        self.assertEqual(os.listdir(self.out), [])

    def test_entry_symlink_is_not_followed(self):
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        [entry] = self.entries()
        path = os.path.join(self.cache, entry)
        target = os.path.join(self.tmp, "elsewhere")
        os.rename(path, target)
        os.symlink(target, path)
        r = self.run_dcgen(self.env(), "cfg2")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from upstream", r.err)
        self.assertFalse(os.path.islink(path))

    def test_held_lock_never_blocks_a_usable_entry(self):
        # another dcgen holds the lock (refreshing); our entry is due for refresh
        # but still valid for hours: it is served at once, with a warning
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        [entry] = self.entries()
        lock = os.path.join(self.cache, entry.replace(".entry", ".lock"))
        with open(lock, "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            r = self.run_dcgen(self.env(DCGEN_CACHE_WAIT="30", DCGEN_CACHE_MIN_TTL="86400"), "cfg2")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("another dcgen is refreshing", r.err)
        self.assertIn("from cache (stale)", r.err)
        self.assertLess(r.seconds, 5)
        self.assertEqual(self.srv.count, 1)

    def test_lock_wait_is_bounded_then_fetches(self):
        # no entry and a lock held for good: after DCGEN_CACHE_WAIT the job
        # fetches for itself (BLACKBOX R31) instead of failing "busy"
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        [entry] = self.entries()
        lock = os.path.join(self.cache, entry.replace(".entry", ".lock"))
        os.unlink(os.path.join(self.cache, entry))
        with open(lock, "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            r = self.run_dcgen(self.env(DCGEN_CACHE_WAIT="1"), "cfg2")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("waited 1 s for another dcgen", r.err)
        self.assertIn(HOST, self.read_out("cfg2")["auths"])
        self.assertLess(r.seconds, 10)
        self.assertEqual(self.srv.count, 2)

    @unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root to run as another user")
    def test_read_only_cache_fetches_without_it(self):
        # as an unprivileged user whose cache volume is read-only: warn, fetch, write
        os.chmod(self.tmp, 0o755)
        os.mkdir(self.cache, 0o500)
        os.chown(self.cache, 65534, 65534)
        os.chown(self.out, 65534, 65534)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", peers.DCGEN,
               os.path.join(self.out, "cfg")]
        p = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("fetching without the cache", p.stderr)
        self.assertIn(HOST, self.read_out()["auths"])
        self.assertEqual(self.srv.count, 1)
        for s in self.secrets():
            self.assertNotIn(s, p.stderr)

    def test_list_and_purge(self):
        self.assertEqual(self.run_dcgen(self.env(KEY_A)).rc, 0)
        self.assertEqual(self.run_dcgen(self.env(KEY_B)).rc, 0)
        r = peers.run(["cache", "list"], self.env(), self.secrets())
        self.assertEqual(r.rc, 0, r.err)
        lines = r.out.strip().splitlines()
        self.assertEqual(len(lines), 3)
        self.assertTrue(lines[0].startswith("ID"), lines[0])
        for line in lines[1:]:
            self.assertIn(KEY_A[0] if KEY_A[0] in line else KEY_B[0], line)
            self.assertIn("ecr", line)
            self.assertIn(HOST, line)
            self.assertIn("fresh", line)
        r = peers.run(["cache", "purge", "--expired"], self.env())
        self.assertEqual(len(self.entries()), 2)
        r = peers.run(["cache", "purge"], self.env())
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(self.entries(), [])
        r = peers.run(["cache", "list"], self.env(DCGEN_CACHE_DIR=None) | {"DCGEN_CACHE_DIR": ""})
        self.assertEqual(r.rc, 2)

    def test_kill_9_at_random_moments(self):
        self.srv.delay = (0, 0.05)
        rng = random.Random(int(os.environ.get("DCGEN_TEST_SEED", "20261128")))
        deadline = time.monotonic() + 60
        for i in range(40):
            if time.monotonic() > deadline:
                break
            if rng.random() < 0.5:
                shutil.rmtree(self.cache, ignore_errors=True)   # cold: the kill may land mid-store
            env = self.env(DCGEN_CACHE_MIN_TTL=rng.choice(["0", "86400"]))
            out = os.path.join(self.out, "cfg")
            p = subprocess.Popen([peers.DCGEN, out], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0, 0.06))
            p.send_signal(signal.SIGKILL)
            p.wait()
            # PATH is absent or complete
            if os.path.exists(out):
                self.assertIn(HOST, self.read_out()["auths"])
            # each entry is complete (the old one or the new one)
            for e in self.entries():
                with open(os.path.join(self.cache, e), "rb") as f:
                    magic, meta, sealed = f.read().split(b"\n", 2)
                self.assertEqual(magic, b"dcgen-cache 3")
                self.assertIn(HOST, json.loads(meta)["hosts"])
                self.assertGreater(len(sealed), 28)
            # and a later run always succeeds, whatever was left behind
            r = self.run_dcgen(self.env(), "after")
            self.assertEqual(r.rc, 0, f"iteration {i}: {r.err}")
            self.assertNotIn("damaged", r.err)
            self.assertIn(HOST, self.read_out("after")["auths"])


if __name__ == "__main__":
    peers.main()
