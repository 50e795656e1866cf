"""Retries as a throttled CI fleet needs them (issue 9, BLACKBOX D3):
Retry-After is honoured within DCGEN_TIMEOUT, a wait beyond it fails at once
naming what the server asked for, and repeated failures are retried over the
deadline, not burnt in a second. Upstream is the local SigV4-checking ECR
endpoint, which records when each request came. Timing is asserted loosely."""
import json
import os
import sys

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402
from azure_server import AadServer, AcrServer  # noqa: E402
from google_server import GoogleServer  # noqa: E402

KEY_ID, SECRET = "AKIADCGENRETRYTEST01", "retry/secret+abcdefghijklmnopqrstuvwxyz0"
HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


class Retry(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(self.srv.close)

    def run_dcgen(self, **extra):
        env = peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                         "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": self.srv.url}, **extra)
        return peers.run([self.path], env, [SECRET, self.srv.token_prefix], timeout=60)

    def test_retry_after_2_is_waited_for(self):
        self.srv.script = ["429ra:2"]
        r = self.run_dcgen(DCGEN_TIMEOUT="10")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(HOST, self.read()["auths"])
        self.assertEqual(self.srv.count, 2)
        gap = self.srv.times[1] - self.srv.times[0]
        print(f"\n    retried {gap:.2f} s after Retry-After: 2", file=sys.stderr)
        self.assertGreaterEqual(gap, 1.9, f"retried {gap:.2f} s after a Retry-After: 2")

    def test_retry_after_as_an_http_date(self):
        self.srv.script = ["429date:3"]
        r = self.run_dcgen(DCGEN_TIMEOUT="10")
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(self.srv.count, 2)
        gap = self.srv.times[1] - self.srv.times[0]
        self.assertGreaterEqual(gap, 1.9, f"retried {gap:.2f} s after a Retry-After date 3 s ahead")
        self.assertLess(gap, 5)

    def test_retry_after_that_is_not_a_delay_is_ignored(self):
        for value in ("soon", "-5", ""):
            with self.subTest(value=value):
                self.srv.requests.clear()
                self.srv.times.clear()
                self.srv.script = [f"429ra:{value}"]
                r = self.run_dcgen(DCGEN_TIMEOUT="10")
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(self.srv.count, 2)
                self.assertLess(r.seconds, 8)
                os.unlink(self.path)

    def test_retry_after_beyond_the_deadline_fails_at_once(self):
        self.srv.default = "429ra:120"
        r = self.run_dcgen(DCGEN_TIMEOUT="5")
        self.assert_failed_cleanly(r, 1, "120")
        print(f"\n    gave up after {r.seconds:.2f} s, {self.srv.count} request(s): {r.err.strip()}", file=sys.stderr)
        self.assertLess(r.seconds, 3.0, "waited although the server's wait exceeds DCGEN_TIMEOUT")
        self.assertLessEqual(self.srv.count, 2)

    def test_retry_after_within_the_deadline_but_longer_than_left(self):
        # 4 s asked, 5 s deadline: one wait fits, a second would not
        self.srv.default = "429ra:4"
        r = self.run_dcgen(DCGEN_TIMEOUT="5")
        self.assert_failed_cleanly(r, 1)
        self.assertLess(r.seconds, 7.0)
        self.assertLessEqual(self.srv.count, 2)
        if self.srv.count == 2:
            self.assertGreaterEqual(self.srv.times[1] - self.srv.times[0], 3.9)

    def test_failures_are_retried_over_the_deadline(self):
        for fault in ("500", "throttle"):
            with self.subTest(fault=fault):
                self.srv.requests.clear()
                self.srv.times.clear()
                self.srv.default = fault
                r = self.run_dcgen(DCGEN_TIMEOUT="10")
                self.assert_failed_cleanly(r, 1)
                self.assertGreaterEqual(self.srv.count, 2)
                self.assertLessEqual(self.srv.count, 10)
                spread = self.srv.times[-1] - self.srv.times[0]
                print(f"\n    {fault}: {self.srv.count} attempts over {spread:.2f} s, exit after {r.seconds:.2f} s",
                      file=sys.stderr)
                self.assertGreater(spread, 1.5, f"{self.srv.count} attempts within {spread:.2f} s of a 10 s deadline")
                self.assertLess(r.seconds, 15.0)

    def test_one_failure_then_success_is_not_slowed_down(self):
        self.srv.script = ["500"]
        r = self.run_dcgen(DCGEN_TIMEOUT="10")
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(self.srv.count, 2)
        self.assertLess(r.seconds, 5.0)


class OtherEndpoints(peers.DcgenCase):
    """The same rule for Google's token endpoint and Azure AD."""

    def test_google_retry_after(self):
        srv = GoogleServer(script=["429ra:2"]).start()
        self.addCleanup(srv.close)
        key = srv.add_account("ci@dcgen-test.iam.gserviceaccount.com", "dcgen-test")
        r = peers.run([self.path], peers.env({"GOOGLE_AUTH_JSON": json.dumps(key), "DCGEN_TIMEOUT": "10"}),
                      [key["private_key"], srv.token])
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(srv.count, 2)
        self.assertGreaterEqual(srv.times[1] - srv.times[0], 1.9)

    def test_azure_ad_retry_after_beyond_the_deadline(self):
        tenant, client, secret = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e", "Q8~retry"
        aad = AadServer(tenant, {client: secret}).start()
        self.addCleanup(aad.close)
        aad.default = "429ra:120"
        acr = AcrServer(tenant, aad.public_key).start()
        self.addCleanup(acr.close)
        r = peers.run([self.path], peers.env({"AZURE_REGISTRY": acr.url, "AZURE_AUTHORITY_HOST": aad.url,
                                              "AZURE_CLIENT_ID": client, "AZURE_TENANT_ID": tenant,
                                              "AZURE_CLIENT_SECRET": secret, "DCGEN_TIMEOUT": "5"}), [secret])
        self.assert_failed_cleanly(r, 1, "120")
        self.assertLess(r.seconds, 3.0)


if __name__ == "__main__":
    peers.main()
