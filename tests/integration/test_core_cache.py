"""The cache under outages and over time (issue 9; REVIEW 2.1, 2.4, 2.5, 2.14;
BLACKBOX D6, D7, R26, R29): concurrent jobs with a valid entry due for
refresh while upstream fails or hangs, an entry with seconds left, replies
without an expiry, list and purge that create nothing and leave no locks,
rotating session tokens, a per-cache key for sources without a static secret,
offline providers that never open the cache, and a 100-year ACR token.
Upstreams are the local peers (SigV4 checked with botocore, JWTs with
cryptography); every job runs the real binary."""
import fcntl
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
import jwt_rs256  # noqa: E402
from aws_json_server import AwsJsonServer  # noqa: E402
from azure_server import AadServer, AcrServer  # noqa: E402
from google_server import GoogleServer  # noqa: E402

KEY_A = ("AKIACORECACHEKEY000A", "core/cache+A0123456789abcdefghijklmnopqr")
KEY_B = ("AKIACORECACHEKEY000B", "core/cache+B0123456789abcdefghijklmnopqr")
TEMP_ID, TEMP_SECRET = "ASIACORECACHETEMP001", "core/cache+temp0123456789abcdefghijklm"
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
JOBS = 10


class CacheCase(unittest.TestCase):
    def setUp(self):
        self.srv = AwsJsonServer({KEY_A[0]: (KEY_A[1], None), KEY_B[0]: (KEY_B[1], None),
                                  TEMP_ID: (TEMP_SECRET, None)}).start()
        self.addCleanup(self.srv.close)
        self.tmp = tempfile.mkdtemp(prefix="dcgen-core-cache-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o700)
        self.cache = os.path.join(self.tmp, "cache")
        self.out = os.path.join(self.tmp, "out")
        os.mkdir(self.out)

    def env(self, key=KEY_A, **extra):
        return peers.env({"AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1],
                          "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.srv.url,
                          "DCGEN_CACHE_DIR": self.cache}, **extra)

    def secrets(self):
        return [KEY_A[1], KEY_B[1], TEMP_SECRET, self.srv.token_prefix]

    def run_dcgen(self, env, name="cfg", *args):
        return peers.run(list(args) + [os.path.join(self.out, name)], env, self.secrets())

    def files(self, suffix=""):
        if not os.path.isdir(self.cache):
            return []
        return sorted(f for f in os.listdir(self.cache) if f.endswith(suffix))

    def jobs(self, env, n=JOBS, timeout=120):
        """n concurrent dcgen runs, each to its own PATH: ([(rc, stderr)], wall seconds)."""
        start = time.monotonic()
        procs = [subprocess.Popen([peers.DCGEN, os.path.join(self.out, f"job{i}")], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for i in range(n)]
        results = []
        for p in procs:
            try:
                _, err = p.communicate(timeout=max(1, timeout - (time.monotonic() - start)))
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
            results.append((p.returncode, err))
        wall = time.monotonic() - start
        print(f"\n    {n} jobs: {wall:.2f} s wall, upstream saw {self.srv.count} requests", file=sys.stderr)
        for rc, err in results:
            for s in self.secrets():
                self.assertNotIn(s, err)
        return results, wall

    def assert_all_written(self, results):
        for i, (rc, err) in enumerate(results):
            self.assertEqual(rc, 0, f"job {i}: {err}")
            with open(os.path.join(self.out, f"job{i}")) as f:
                self.assertIn(HOST, f.read())

    def prime(self, **extra):
        r = self.run_dcgen(self.env(**extra), "prime")
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(len(self.files(".entry")), 1)
        self.srv.requests.clear()
        self.srv.times.clear()


class Outages(CacheCase):
    def test_10_jobs_upstream_500_serve_the_valid_entry(self):
        self.prime()
        self.srv.default = "500"
        results, wall = self.jobs(self.env(DCGEN_CACHE_MIN_TTL="86400", DCGEN_TIMEOUT="3"))
        self.assert_all_written(results)
        for rc, err in results:
            self.assertIn("warning", err)
        self.assertLessEqual(self.srv.count, 4, f"upstream saw {self.srv.count} requests from {JOBS} jobs")

    def test_10_jobs_upstream_hangs_all_succeed_within_two_timeouts(self):
        self.prime()
        self.srv.default = "hang"
        self.srv.hang_seconds = 40
        timeout = 3
        results, wall = self.jobs(self.env(DCGEN_CACHE_MIN_TTL="86400", DCGEN_TIMEOUT=str(timeout)))
        self.assert_all_written(results)
        self.assertLess(wall, 2 * timeout + 3, f"{JOBS} jobs took {wall:.1f} s")
        self.assertLessEqual(self.srv.count, 4)

    def test_entry_with_seconds_left_is_not_served(self):
        # a 16 s token: whatever the default margin makes of it, once it has
        # only a few seconds left it is past any refresh margin and any floor
        self.srv.lifetime = 16
        r = self.run_dcgen(self.env(), "prime")
        self.assertEqual(r.rc, 0, r.err)
        time.sleep(10)
        self.srv.default = "500"
        r = self.run_dcgen(self.env(DCGEN_TIMEOUT="2"), "cfg")
        self.assertEqual(r.rc, 1, r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertFalse(os.path.exists(os.path.join(self.out, "cfg")))

    def test_entry_due_for_refresh_with_seconds_left_upstream_gone(self):
        # a 20 s token, and a refresh margin of an hour: due for refresh, 20 s
        # left, below the floor of min(5 min, margin)
        self.srv.lifetime = 20
        self.assertEqual(self.run_dcgen(self.env(), "prime").rc, 0)
        self.srv.close()
        self.srv.close = lambda: None
        r = self.run_dcgen(self.env(DCGEN_TIMEOUT="2", DCGEN_CACHE_MIN_TTL="3600"), "cfg")
        self.assertEqual(r.rc, 1, r.err)
        self.assertFalse(os.path.exists(os.path.join(self.out, "cfg")))

    def test_entry_due_for_refresh_above_the_floor_is_served(self):
        # the other side of the floor: 10 min left, margin an hour, upstream down
        self.srv.lifetime = 600
        self.assertEqual(self.run_dcgen(self.env(), "prime").rc, 0)
        self.srv.default = "500"
        r = self.run_dcgen(self.env(DCGEN_TIMEOUT="2", DCGEN_CACHE_MIN_TTL="3600"), "cfg")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning", r.err)

    def test_10_jobs_without_expiry_run_in_parallel(self):
        self.srv.no_expiry = True
        self.srv.delay = (0.5, 0.5)
        results, wall = self.jobs(self.env())
        self.assert_all_written(results)
        self.assertEqual(self.srv.count, JOBS)
        self.assertLess(wall, 4.0, f"{JOBS} uncacheable jobs of 0.5 s each took {wall:.2f} s: serialised")
        self.assertEqual(self.files(".entry"), [])


    def test_10_cold_jobs_upstream_500_share_one_failure(self):
        self.srv.default = "500"
        self.srv.delay = (0.2, 0.2)     # the first holds the lock while the others arrive
        results, wall = self.jobs(self.env(DCGEN_TIMEOUT="3"))
        for i, (rc, err) in enumerate(results):
            self.assertEqual(rc, 1, f"job {i}: {err}")
            self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertLessEqual(self.srv.count, 4, f"upstream saw {self.srv.count} requests from {JOBS} jobs")
        self.assertLess(wall, 2 * 3 + 3)

    def test_10_cold_jobs_upstream_hangs_fail_together(self):
        self.srv.default = "hang"
        self.srv.hang_seconds = 40
        timeout = 3
        results, wall = self.jobs(self.env(DCGEN_TIMEOUT=str(timeout)))
        for i, (rc, err) in enumerate(results):
            self.assertEqual(rc, 1, f"job {i}: {err}")
            self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertLess(wall, 2 * timeout + 3, f"{JOBS} jobs took {wall:.1f} s: they queued on the lock")
        self.assertLessEqual(self.srv.count, 4)

    def test_lock_held_elsewhere_serves_the_usable_entry_at_once(self):
        self.prime()
        [lock] = [f[:-len(".entry")] + ".lock" for f in self.files(".entry")]
        with open(os.path.join(self.cache, lock), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            r = self.run_dcgen(self.env(DCGEN_CACHE_MIN_TTL="86400", DCGEN_CACHE_WAIT="10"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning", r.err)
        self.assertLess(r.seconds, 5, "waited for the lock although a usable entry was on disk")
        self.assertEqual(self.srv.count, 0)

    def test_r31_lock_wait_over_fetches_without_the_lock(self):
        self.prime()
        [entry] = self.files(".entry")
        lock = entry[:-len(".entry")] + ".lock"
        os.unlink(os.path.join(self.cache, entry))      # no usable entry: the job must wait, then fetch
        with open(os.path.join(self.cache, lock), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            r = self.run_dcgen(self.env(DCGEN_CACHE_WAIT="1"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning", r.err)
        self.assertEqual(self.srv.count, 1)
        self.assertLess(r.seconds, 10)


class OtherCredentials(CacheCase):
    """A failure recorded for one credential is not another's: a user who fixes
    a wrong secret and reruns at once must not get the old error back."""
    WRONG = (KEY_A[0], "wrong/secret/for/key/a/0000000000000")

    def test_a_wrong_secrets_failure_does_not_fail_the_right_one(self):
        r = self.run_dcgen(self.env(self.WRONG))
        self.assertEqual(r.rc, 1, r.err)
        r = self.run_dcgen(self.env(KEY_A))
        self.assertEqual(r.rc, 0, f"the fixed secret got the wrong one's failure: {r.err}")
        self.assertIn("from upstream", r.err)
        self.assertEqual(self.srv.count, 2)

    def test_a_wrong_secrets_failure_does_not_stop_the_right_ones_refresh(self):
        self.prime()
        r = self.run_dcgen(self.env(self.WRONG, DCGEN_CACHE_MIN_TTL="86400"))
        self.assertEqual(r.rc, 1, r.err)
        r = self.run_dcgen(self.env(KEY_A, DCGEN_CACHE_MIN_TTL="86400"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertNotIn("InvalidSignature", r.err, "the right secret was told about the wrong one's failure")
        self.assertIn("from upstream", r.err)

    def test_a_wrong_secret_does_not_destroy_the_right_ones_entry(self):
        self.prime()
        r = self.run_dcgen(self.env(self.WRONG, DCGEN_CACHE_MIN_TTL="86400"))
        self.assertEqual(r.rc, 1, r.err)
        self.srv.default = "500"
        r = self.run_dcgen(self.env(KEY_A), "after")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from cache", r.err)


class ListAndPurge(CacheCase):
    def test_list_and_purge_on_a_missing_directory_create_nothing(self):
        missing = os.path.join(self.tmp, "new", "deep", "dir")
        for args, extra in ((["cache", "list"], {"DCGEN_CACHE_DIR": missing}),
                            (["cache", "purge"], {"DCGEN_CACHE_DIR": missing}),
                            (["cache", "purge", "--expired"], {"DCGEN_CACHE_DIR": missing}),
                            (["cache", "list", "--cache-dir", missing], {"DCGEN_CACHE_DIR": None})):
            with self.subTest(args=args):
                r = peers.run(args, self.env(**extra), self.secrets())
                self.assertIn(r.rc, (0, 2), r.err)
                self.assertNotEqual((r.out + r.err).strip(), "", "nothing said about the missing directory")
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "new")), "a directory was created")

    def test_purge_removes_lock_files(self):
        self.assertEqual(self.run_dcgen(self.env(KEY_A)).rc, 0)
        self.assertEqual(self.run_dcgen(self.env(KEY_B)).rc, 0)
        # and a failed run (a wrong secret) that may leave a lock behind
        self.run_dcgen(self.env((KEY_A[0], "wrong/secret/for/key/a/0000000000000")))
        self.assertGreaterEqual(len(self.files(".entry")), 1)
        r = peers.run(["cache", "purge"], self.env(), self.secrets())
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(self.files(".entry"), [])
        self.assertEqual(self.files(".lock"), [], "purge left lock files")
        self.assertEqual(self.files(".state"), [], "purge left state files")

    def test_rotating_session_tokens_share_one_entry(self):
        for i in range(5):
            r = self.run_dcgen(self.env((TEMP_ID, TEMP_SECRET), AWS_SESSION_TOKEN=f"FwoGZXIvYXdzErotating{i:03d}"))
            self.assertEqual(r.rc, 0, r.err)
        self.assertLessEqual(len(self.files(".entry")), 1, self.files())
        self.assertLessEqual(len(self.files(".lock")), 1, self.files())

    def test_rotating_session_tokens_leave_nothing_after_purge(self):
        for i in range(5):
            r = self.run_dcgen(self.env((TEMP_ID, TEMP_SECRET), AWS_SESSION_TOKEN=f"FwoGZXIvYXdzErotating{i:03d}"))
            self.assertEqual(r.rc, 0, r.err)
        r = peers.run(["cache", "purge"], self.env(), self.secrets())
        self.assertEqual(r.rc, 0, r.err)
        left = [f for f in self.files() if f.endswith((".entry", ".lock", ".state")) or ".tmp" in f]
        self.assertEqual(left, [], "purge left a pile behind")

    def test_long_expired_entries_and_old_locks_are_collected_on_store(self):
        # B's entry expired two days ago (its clear metadata says so) and its
        # lock was last used then; A's store sweeps them, as the cache promises
        self.assertEqual(self.run_dcgen(self.env(KEY_B)).rc, 0)
        [b_entry] = self.files(".entry")
        b_lock = b_entry[:-len(".entry")] + ".lock"
        path = os.path.join(self.cache, b_entry)
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        for i, line in enumerate(lines):
            if line.startswith(b"{") and b'"expires_at"' in line:
                meta = json.loads(line)
                meta["created"] = int(time.time()) - 3 * 86400
                meta["expires_at"] = int(time.time()) - 2 * 86400
                lines[i] = json.dumps(meta, separators=(",", ":")).encode()
                break
        else:
            self.fail("no clear metadata with expires_at in the entry")
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))
        two_days_ago = time.time() - 2 * 86400
        if os.path.exists(os.path.join(self.cache, b_lock)):
            os.utime(os.path.join(self.cache, b_lock), (two_days_ago, two_days_ago))
        r = self.run_dcgen(self.env(KEY_A))
        self.assertEqual(r.rc, 0, r.err)
        self.assertNotIn(b_entry, self.files(), "a long-expired entry survived a store")
        # the lock may go one store later (it is an orphan only once the entry is gone)
        r = self.run_dcgen(self.env(KEY_A, DCGEN_CACHE_MIN_TTL="86400"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from upstream", r.err)
        self.assertNotIn(b_lock, self.files(), "an old lock without an entry survived two stores")
        self.assertEqual(len(self.files(".entry")), 1)

    def test_list_reads_without_writing(self):
        self.assertEqual(self.run_dcgen(self.env()).rc, 0)
        before = {f: os.stat(os.path.join(self.cache, f)).st_mtime_ns for f in self.files()}
        r = peers.run(["cache", "list"], self.env(), self.secrets())
        self.assertEqual(r.rc, 0, r.err)
        after = {f: os.stat(os.path.join(self.cache, f)).st_mtime_ns for f in self.files()}
        self.assertEqual(before, after)


class Offline(peers.DcgenCase):
    """Providers that need no network never open the cache, even an unsafe one."""

    def test_unsafe_cache_dir_is_ignored_by_offline_providers(self):
        unsafe = os.path.join(self.dir, "cache")
        os.mkdir(unsafe)
        os.chmod(unsafe, 0o777)
        for env in ({"DOCKER_USERNAME": "u", "DOCKER_PASSWORD": "dockerpw0123456789"},
                    {"HEROKU_API_KEY": "herokukey0123456789"},
                    {"IBMCLOUD_API_KEY": "ibmkey0123456789"},
                    {"AZURE_REGISTRY": "myregistry", "AZURE_USERNAME": "myregistry",
                     "AZURE_PASSWORD": "azurepw0123456789"}):
            with self.subTest(provider=sorted(env)[0]):
                r = peers.run([self.path], peers.env(env, DCGEN_CACHE_DIR=unsafe), list(env.values())[-1:])
                self.assertEqual(r.rc, 0, r.err)
                self.assertTrue(os.path.exists(self.path))
                os.unlink(self.path)
                self.assertEqual(os.listdir(unsafe), [], "the cache was opened")


class Metadata(peers.DcgenCase):
    """Pods with different identities share one metadata server: a token
    from it is never served to another identity out of the cache."""

    def test_metadata_token_is_not_served_to_another_identity(self):
        srv = GoogleServer().start()
        self.addCleanup(srv.close)
        cache = os.path.join(self.dir, "cache")
        env = peers.env({"GCE_METADATA_HOST": srv.metadata_host, "DCGEN_CACHE_DIR": cache, "DCGEN_PROVIDER": "gcr"})
        first = srv.token
        r = peers.run([self.path], env, [first])
        self.assertEqual(r.rc, 0, r.err)
        srv.metadata_email = "other@dcgen-test.iam.gserviceaccount.com"
        srv.token = "ya29.dcgen-other-identity-0123456789"
        os.unlink(self.path)
        r = peers.run([self.path], env, [first, srv.token])
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(peers.decode_auth(self.read()["auths"]["gcr.io"])[1], srv.token,
                         "another identity's token was served from the cache")


TENANT = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
CLIENT = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
SP_SECRET = "Q8~core.cache-secret+0123456789"
ISSUER, SUBJECT = "https://oidc.dcgen.test/cluster", "system:serviceaccount:ci:dcgen"


class Azure(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.issuer_key = jwt_rs256.new_key()
        self.aad = AadServer(TENANT, {CLIENT: SP_SECRET},
                             {CLIENT: (ISSUER, SUBJECT, self.issuer_key.public_key())}).start()
        self.addCleanup(self.aad.close)
        self.cache = os.path.join(self.dir, "cache")

    def acr(self, lifetime):
        acr = AcrServer(TENANT, self.aad.public_key, lifetime=lifetime).start()
        self.addCleanup(acr.close)
        return acr

    def env(self, acr, **extra):
        return peers.env({"AZURE_REGISTRY": acr.url, "AZURE_AUTHORITY_HOST": self.aad.url,
                          "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_SECRET": SP_SECRET,
                          "DCGEN_CACHE_DIR": self.cache}, **extra)

    def run_dcgen(self, env, acr):
        return peers.run([self.path], env, [SP_SECRET, acr.refresh_token])

    def test_refresh_token_claiming_100_years_is_not_cached_as_fresh(self):
        acr = self.acr(lifetime=100 * 365 * 86400)
        r = self.run_dcgen(self.env(acr), acr)
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning", r.err)
        self.assertEqual(peers.decode_auth(self.read()["auths"][acr.host])[1], acr.refresh_token)
        r = peers.run(["cache", "list"], self.env(acr), [SP_SECRET, acr.refresh_token])
        self.assertNotIn(" fresh ", f" {r.out} ", "a 100-year token is listed as fresh")
        os.unlink(self.path)
        r = self.run_dcgen(self.env(acr), acr)
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(len(acr.requests), 2, "the second run was served a 100-year entry from the cache")

    def wi_env(self, acr):
        token_file = os.path.join(self.dir, "azure-identity-token")
        now = int(time.time())
        with open(token_file, "w") as f:
            f.write(jwt_rs256.encode({"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange",
                                      "iat": now, "nbf": now, "exp": now + 3600}, self.issuer_key))
        return self.env(acr, AZURE_CLIENT_SECRET=None, AZURE_FEDERATED_TOKEN_FILE=token_file)

    def test_damaged_cache_key_does_not_fail_the_job(self):
        # like a damaged entry or a read-only volume: a warning, and the job
        # fetches (the cache is a saving, not a dependency)
        acr = self.acr(lifetime=10800)
        env = self.wi_env(acr)
        self.assertEqual(self.run_dcgen(env, acr).rc, 0)
        keys = [n for n in os.listdir(self.cache) if not n.endswith((".entry", ".lock", ".state"))]
        self.assertEqual(len(keys), 1, os.listdir(self.cache))
        with open(os.path.join(self.cache, keys[0]), "wb") as f:
            f.write(b"short")
        os.unlink(self.path)
        r = self.run_dcgen(env, acr)
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("warning", r.err)
        self.assertIn(acr.host, self.read()["auths"])

    def test_workload_identity_is_cached_with_a_per_cache_key(self):
        acr = self.acr(lifetime=10800)
        env = self.wi_env(acr)
        r = self.run_dcgen(env, acr)
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from upstream", r.err)
        os.unlink(self.path)
        r = self.run_dcgen(env, acr)
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from cache", r.err)
        self.assertEqual(len(acr.requests), 1)
        self.assertEqual(stat.S_IMODE(os.stat(self.cache).st_mode), 0o700)
        names = os.listdir(self.cache)
        keys = [n for n in names if not n.endswith((".entry", ".lock", ".state"))]
        self.assertTrue(keys, f"no key file in the cache: {names}")
        for n in names:
            self.assertEqual(stat.S_IMODE(os.lstat(os.path.join(self.cache, n)).st_mode), 0o600, n)
        for n in keys:
            with open(os.path.join(self.cache, n), "rb") as f:
                self.assertNotIn(acr.refresh_token.encode(), f.read())


if __name__ == "__main__":
    peers.main()
