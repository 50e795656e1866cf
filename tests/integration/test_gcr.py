"""dcgen's gcr provider against a local Google token endpoint and metadata
server (tests/peers/google_server.py) that verify the JWT bearer grant with
joserfc: keys by content and by file, Artifact Registry locations,
identity checks, refused keys, bad replies, bad keys, and the metadata path."""
import json
import os
import socket
import sys
import time

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from google_server import GoogleServer, service_account_key  # noqa: E402

EMAIL = "ci-pusher@dcgen-test.iam.gserviceaccount.com"
PROJECT = "dcgen-test"
GCR_HOSTS = {"gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io"}


class GcrCase(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.srv = GoogleServer().start()
        self.addCleanup(self.srv.close)
        self.key = self.srv.add_account(EMAIL, PROJECT)

    def env(self, **extra):
        return peers.env({"GOOGLE_AUTH_JSON": json.dumps(self.key)}, **extra)

    def secrets(self, key=None):
        key = key or self.key
        # the token, the whole key, and every line of its PEM body
        lines = [ln for ln in key["private_key"].splitlines() if len(ln) > 16 and "-----" not in ln]
        return [self.srv.token, key["private_key"], json.dumps(key)] + lines

    def run_dcgen(self, env, *args, key=None):
        r = peers.run(list(args) + [self.path], env, self.secrets(key))
        # neither may the signed assertion, a one-hour bearer grant
        for assertion in self.srv.assertions:
            self.assertNotIn(assertion, r.err)
            self.assertNotIn(assertion.split(".")[2], r.err)
        return r

    def assert_written(self, r, hosts):
        self.assertEqual(r.rc, 0, r.err)
        auths = self.read()["auths"]
        self.assertEqual(set(auths), hosts)
        for host in hosts:
            self.assertEqual(peers.decode_auth(auths[host]), ("oauth2accesstoken", self.srv.token), host)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)


class KeyGrant(GcrCase):
    def test_key_by_content(self):
        before = int(time.time())
        r = self.run_dcgen(self.env())
        self.assert_written(r, GCR_HOSTS)
        # one grant, verified by the endpoint: every claim as Google documents it
        self.assertEqual(self.srv.requests, [("/token", "ok")])
        claims = self.srv.claims[0]
        self.assertEqual(claims["iss"], EMAIL)
        self.assertEqual(claims["aud"], self.srv.token_uri)
        self.assertEqual(claims["scope"], "https://www.googleapis.com/auth/cloud-platform")
        self.assertEqual(claims["exp"], claims["iat"] + 3600)
        # expiry from expires_in
        exp = peers.expiry_of(r.err)
        self.assertIsNotNone(exp, r.err)
        self.assertTrue(before + 3599 - 2 <= exp <= int(time.time()) + 3599 + 2, (before, exp))

    def test_key_by_file(self):
        keyfile = os.path.join(self.dir, "key.json")
        with open(keyfile, "w") as f:
            json.dump(self.key, f, indent=2)
        r = self.run_dcgen(self.env(GOOGLE_AUTH_JSON=None, GOOGLE_APPLICATION_CREDENTIALS=keyfile))
        self.assert_written(r, GCR_HOSTS)
        self.assertEqual(len(self.srv.claims), 1)

    def test_content_wins_over_file(self):
        r = self.run_dcgen(self.env(GOOGLE_APPLICATION_CREDENTIALS="/nonexistent/key.json"))
        self.assert_written(r, GCR_HOSTS)

    def test_artifact_registry_locations(self):
        r = self.run_dcgen(self.env(GOOGLE_LOCATION="europe-west1, us,asia-northeast1"))
        self.assert_written(r, GCR_HOSTS | {"europe-west1-docker.pkg.dev", "us-docker.pkg.dev",
                                            "asia-northeast1-docker.pkg.dev"})

    def test_legacy_dockercfg_format(self):
        r = self.run_dcgen(self.env(), "--format", "dockercfg")
        self.assertEqual(r.rc, 0, r.err)
        doc = self.read()
        self.assertEqual(set(doc), GCR_HOSTS)
        self.assertEqual(peers.decode_auth(doc["gcr.io"]), ("oauth2accesstoken", self.srv.token))

    def test_matching_email_and_project(self):
        r = self.run_dcgen(self.env(GOOGLE_AUTH_EMAIL=EMAIL, GOOGLE_PROJECT_ID=PROJECT))
        self.assert_written(r, GCR_HOSTS)

    def test_selected_by_name_among_others(self):
        env = self.env(AWS_ACCESS_KEY_ID="AKIAXXXXXXXXXXXXXXXX", AWS_SECRET_ACCESS_KEY="x" * 40)
        r = self.run_dcgen(env)
        self.assert_failed_cleanly(r, 2, "several providers", "ecr: AWS_ACCESS_KEY_ID",
                                   "gcr: GOOGLE_AUTH_JSON")
        r = self.run_dcgen(dict(env, DCGEN_PROVIDER="gcr"))
        self.assert_written(r, GCR_HOSTS)
        os.unlink(self.path)
        r = self.run_dcgen(env, "--provider", "gcr")
        self.assert_written(r, GCR_HOSTS)

    def test_key_file_through_symlink(self):
        # Kubernetes mounts secrets as symlinks into a ..data directory
        os.mkdir(os.path.join(self.dir, "..data"))
        with open(os.path.join(self.dir, "..data", "key.json"), "w") as f:
            json.dump(self.key, f)
        link = os.path.join(self.dir, "key.json")
        os.symlink("..data/key.json", link)
        r = self.run_dcgen(self.env(GOOGLE_AUTH_JSON=None, GOOGLE_APPLICATION_CREDENTIALS=link))
        self.assert_written(r, GCR_HOSTS)

    def test_cache_serves_the_next_job(self):
        cache = os.path.join(self.dir, "cache")
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache))
        self.assert_written(r, GCR_HOSTS)
        self.assertIn("from upstream", r.err)
        os.unlink(self.path)
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache))
        self.assert_written(r, GCR_HOSTS)
        self.assertIn("from cache", r.err)
        self.assertEqual(len(self.srv.claims), 1)
        # the entry is sealed: the token is not in the cache in clear
        for name in os.listdir(cache):
            with open(os.path.join(cache, name), "rb") as f:
                self.assertNotIn(self.srv.token.encode(), f.read())
        # another account's key, or more hosts, is another entry
        os.unlink(self.path)
        other = self.srv.add_account("other@dcgen-test.iam.gserviceaccount.com", PROJECT)
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache, GOOGLE_AUTH_JSON=json.dumps(other)), key=other)
        self.assert_written(r, GCR_HOSTS)
        self.assertIn("from upstream", r.err)
        os.unlink(self.path)
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache, GOOGLE_LOCATION="us"))
        self.assert_written(r, GCR_HOSTS | {"us-docker.pkg.dev"})
        self.assertIn("from upstream", r.err)
        self.assertEqual(len(self.srv.claims), 3)

    def test_cache_hit_still_checks_email_and_project(self):
        cache = os.path.join(self.dir, "cache")
        self.assert_written(self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache)), GCR_HOSTS)
        os.unlink(self.path)
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache, GOOGLE_PROJECT_ID="proj-wrong"))
        self.assert_failed_cleanly(r, 2, "'proj-wrong'")
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache, GOOGLE_AUTH_EMAIL="someone@else.example"))
        self.assert_failed_cleanly(r, 2, "'someone@else.example'")
        self.assertEqual(len(self.srv.claims), 1)

    def test_verbose_shows_no_secret(self):
        r = self.run_dcgen(self.env(), "-v")
        self.assert_written(r, GCR_HOSTS)
        self.assertIn(self.srv.token_uri, r.err)
        self.assertNotIn("BEGIN PRIVATE KEY", r.err)


class KeyRefused(GcrCase):
    def test_signature_the_endpoint_rejects(self):
        # same account and key id, another RSA key: the signature cannot verify
        other, _ = service_account_key(EMAIL, PROJECT, self.srv.token_uri, kid=self.key["private_key_id"])
        r = self.run_dcgen(self.env(GOOGLE_AUTH_JSON=json.dumps(other)), key=other)
        self.assert_failed_cleanly(r, 1, "refused the key", "invalid_grant", "Invalid JWT Signature")
        self.assertEqual(self.srv.requests, [("/token", "bad signature")])

    def test_unknown_account(self):
        other = dict(self.key, client_email="nobody@dcgen-test.iam.gserviceaccount.com")
        r = self.run_dcgen(self.env(GOOGLE_AUTH_JSON=json.dumps(other)))
        self.assert_failed_cleanly(r, 1, "invalid_grant")

    def test_reply_not_json(self):
        self.srv.script = ["notjson"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "not a JSON object")

    def test_reply_without_access_token(self):
        self.srv.script = ["noaccess"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "without an access_token")

    def test_retries_then_succeeds(self):
        self.srv.script = ["500", "500"]
        r = self.run_dcgen(self.env())
        self.assert_written(r, GCR_HOSTS)
        self.assertEqual([o for _, o in self.srv.requests], ["500", "500", "ok"])

    def test_failing_endpoint_is_bounded(self):
        self.srv.script = ["500"] * 10
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "kept failing with HTTP 500")
        self.assertEqual(len(self.srv.requests), 4)

    def test_unreachable_token_uri(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            key = dict(self.key, token_uri=f"http://127.0.0.1:{s.getsockname()[1]}/token")
            r = self.run_dcgen(self.env(GOOGLE_AUTH_JSON=json.dumps(key)))
        self.assert_failed_cleanly(r, 1, "cannot reach the Google token endpoint")


class BadKey(GcrCase):
    """Configuration errors: exit 2, before any request, nothing written."""

    def check(self, env, *texts):
        r = self.run_dcgen(env)
        self.assert_failed_cleanly(r, 2, *texts)
        self.assertEqual(self.srv.requests, [])
        for line in self.key["private_key"].splitlines()[1:-1]:
            self.assertNotIn(line, r.err)

    def test_malformed_json(self):
        text = json.dumps(self.key)[:-40]          # cut inside the key
        self.check(self.env(GOOGLE_AUTH_JSON=text), "GOOGLE_AUTH_JSON is not valid JSON")

    def test_malformed_json_file(self):
        keyfile = os.path.join(self.dir, "key.json")
        with open(keyfile, "w") as f:
            f.write(json.dumps(self.key).replace('",', '"', 1))
        self.check(self.env(GOOGLE_AUTH_JSON=None, GOOGLE_APPLICATION_CREDENTIALS=keyfile),
                   f"GOOGLE_APPLICATION_CREDENTIALS file '{keyfile}' is not valid JSON")

    def test_key_without_private_key(self):
        key = {k: v for k, v in self.key.items() if k != "private_key"}
        self.check(self.env(GOOGLE_AUTH_JSON=json.dumps(key)), "GOOGLE_AUTH_JSON has no private_key")

    def test_private_key_not_pem(self):
        key = dict(self.key, private_key=self.key["private_key"].replace("PRIVATE KEY", "PUBLIC KEY"))
        self.check(self.env(GOOGLE_AUTH_JSON=json.dumps(key)), "not an unencrypted PEM RSA private key")

    def test_key_without_email(self):
        key = {k: v for k, v in self.key.items() if k != "client_email"}
        self.check(self.env(GOOGLE_AUTH_JSON=json.dumps(key)), "has no client_email")

    def test_not_a_service_account(self):
        key = {"type": "authorized_user", "client_id": "x", "client_secret": "y", "refresh_token": "z"}
        self.check(self.env(GOOGLE_AUTH_JSON=json.dumps(key)), "'authorized_user' credential")

    def test_plain_http_token_uri_elsewhere(self):
        key = dict(self.key, token_uri="http://oauth2.example.com/token")
        self.check(self.env(GOOGLE_AUTH_JSON=json.dumps(key)), "plain http to another machine")

    def test_missing_key_file(self):
        self.check(self.env(GOOGLE_AUTH_JSON=None, GOOGLE_APPLICATION_CREDENTIALS="/nonexistent/key.json"),
                   "cannot read GOOGLE_APPLICATION_CREDENTIALS file '/nonexistent/key.json'")

    def test_mismatched_email(self):
        self.check(self.env(GOOGLE_AUTH_EMAIL="other@dcgen-test.iam.gserviceaccount.com"),
                   "'other@dcgen-test.iam.gserviceaccount.com'", f"'{EMAIL}'")

    def test_mismatched_project(self):
        self.check(self.env(GOOGLE_PROJECT_ID="another-project"), "'another-project'", f"'{PROJECT}'")

    def test_bad_location(self):
        self.check(self.env(GOOGLE_LOCATION="Europe West1"), "GOOGLE_LOCATION")
        self.check(self.env(GOOGLE_LOCATION=" , "), "GOOGLE_LOCATION")


class Metadata(GcrCase):
    def env(self, **extra):
        return super().env(**dict({"GOOGLE_AUTH_JSON": None, "GCE_METADATA_HOST": self.srv.metadata_host},
                                  **extra))

    def test_default_service_account_token(self):
        r = self.run_dcgen(self.env(GOOGLE_LOCATION="us-central1"))
        self.assert_written(r, GCR_HOSTS | {"us-central1-docker.pkg.dev"})
        self.assertEqual(self.srv.requests,
                         [("/computeMetadata/v1/instance/service-accounts/default/token", "ok")])
        self.assertIsNotNone(peers.expiry_of(r.err), r.err)

    def test_selected_by_name(self):
        r = self.run_dcgen(self.env(HEROKU_API_KEY="heroku-key-0123"))
        self.assert_failed_cleanly(r, 2, "gcr: GCE_METADATA_HOST", "heroku: HEROKU_API_KEY")
        r = self.run_dcgen(self.env(HEROKU_API_KEY="heroku-key-0123", DCGEN_PROVIDER="gcr"))
        self.assert_written(r, GCR_HOSTS)

    def test_identity_checked_against_metadata(self):
        r = self.run_dcgen(self.env(GOOGLE_AUTH_EMAIL=self.srv.metadata_email,
                                    GOOGLE_PROJECT_ID=self.srv.metadata_project))
        self.assert_written(r, GCR_HOSTS)
        os.unlink(self.path)
        r = self.run_dcgen(self.env(GOOGLE_AUTH_EMAIL=EMAIL))
        self.assert_failed_cleanly(r, 2, f"'{EMAIL}'", f"'{self.srv.metadata_email}'")

    def test_metadata_tokens_are_not_cached(self):
        # the metadata server's token belongs to whatever account the server
        # answers for (pods with different workload identities share it): a
        # cache key made from local settings could hand one pod another's token
        cache = os.path.join(self.dir, "cache")
        for _ in range(2):
            r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=cache))
            self.assert_written(r, GCR_HOSTS)
            self.assertIn("from upstream", r.err)
            os.unlink(self.path)
        self.assertEqual(len(self.srv.requests), 2)
        # decided from the configuration: the cache is not even opened
        self.assertFalse(os.path.exists(cache))

    def test_metadata_reply_not_json(self):
        self.srv.script = ["notjson"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "GCE metadata server", "not a JSON object")

    def test_no_metadata_server_fails_fast(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))      # bound, never listening: refused
            r = self.run_dcgen(self.env(GCE_METADATA_HOST=f"127.0.0.1:{s.getsockname()[1]}"))
        # the last source of the chain: one line names every source tried
        self.assert_failed_cleanly(r, 2, "no Google credentials: GOOGLE_AUTH_JSON: not set;",
                                   "cannot reach the GCE metadata server", "GOOGLE_AUTH_JSON")
        self.assertLess(r.seconds, 5)

    def test_silent_metadata_server_fails_in_seconds(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(8)                   # connects, never answers
            r = self.run_dcgen(self.env(GCE_METADATA_HOST=f"127.0.0.1:{s.getsockname()[1]}"))
        self.assert_failed_cleanly(r, 2, "did not answer", "no Google credentials")
        self.assertLess(r.seconds, 3)     # one attempt of 1 s; the default DCGEN_TIMEOUT is 30 s


if __name__ == "__main__":
    peers.main()
