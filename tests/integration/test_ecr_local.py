"""dcgen against a local ECR / ECR Public endpoint that checks SigV4 with
botocore: ECR Public (moto lacks it), session tokens, and every upstream
fault: retries, bounded failures, timeouts, huge, truncated and non-JSON replies."""
import os
import subprocess
import shutil
import socket
import sys
import tempfile

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

KEY_ID, SECRET = "AKIADCGENTESTKEY0001", "dcgen/test+secret/abcdefghijklmnopqrstuv"
TEMP_ID, TEMP_SECRET, TEMP_TOKEN = "ASIADCGENTESTKEY0002", "temp/secret+xyz0123456789", "FwoGZXIvYXdzE" + "t" * 300


class EcrLocal(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.srv = AwsJsonServer({KEY_ID: (SECRET, None), TEMP_ID: (TEMP_SECRET, TEMP_TOKEN)}).start()
        self.addCleanup(self.srv.close)

    def env(self, **extra):
        return peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                          "AWS_REGION": "eu-central-1", "AWS_ENDPOINT_URL_ECR": self.srv.url,
                          "AWS_ENDPOINT_URL_ECR_PUBLIC": self.srv.url}, **extra)

    def run_dcgen(self, env, *args, timeout=60):
        return peers.run(list(args) + [self.path], env,
                         [SECRET, TEMP_SECRET, TEMP_TOKEN, self.srv.token_prefix], timeout=timeout)

    def test_ecr_public(self):
        r = self.run_dcgen(self.env(ECR_PUBLIC="1"))
        self.assertEqual(r.rc, 0, r.err)
        auths = self.read()["auths"]
        self.assertEqual(list(auths), ["public.ecr.aws"])
        self.assertEqual(peers.decode_auth(auths["public.ecr.aws"]), ("AWS", self.srv.token_for("public")))
        # signed for ECR Public in us-east-1 whatever AWS_REGION says
        self.assertEqual(self.srv.requests, [("SpencerFrontendService.GetAuthorizationToken",
                                              "ecr-public", "us-east-1", "ok")])
        self.assertNotIn("expired", r.err)

    def test_ecr_public_without_region(self):
        r = self.run_dcgen(self.env(ECR_PUBLIC="true", AWS_REGION=None))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("public.ecr.aws", self.read()["auths"])

    def test_session_token_is_sent_and_signed(self):
        r = self.run_dcgen(self.env(AWS_ACCESS_KEY_ID=TEMP_ID, AWS_SECRET_ACCESS_KEY=TEMP_SECRET,
                                    AWS_SESSION_TOKEN=TEMP_TOKEN))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("123456789012.dkr.ecr.eu-central-1.amazonaws.com", self.read()["auths"])
        os.unlink(self.path)
        r = self.run_dcgen(self.env(AWS_ACCESS_KEY_ID=TEMP_ID, AWS_SECRET_ACCESS_KEY=TEMP_SECRET))
        self.assert_failed_cleanly(r, 1, "AWS_SESSION_TOKEN")

    def test_retries_then_succeeds(self):
        for fault in ("500", "429", "throttle", "reset"):
            with self.subTest(fault=fault):
                self.srv.requests.clear()
                self.srv.script = [fault, fault]
                r = self.run_dcgen(self.env())
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(len(self.srv.requests), 3)
                os.unlink(self.path)

    def test_retries_are_bounded(self):
        self.srv.script = ["500"] * 20
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "after 4 attempts")
        self.assertEqual(self.srv.count, 4)

    def test_wrong_secret(self):
        r = self.run_dcgen(self.env(AWS_SECRET_ACCESS_KEY="not/the/secret/at/all/0000000000"))
        self.assert_failed_cleanly(r, 1, "check AWS_SECRET_ACCESS_KEY")

    def test_slow_upstream_times_out(self):
        self.srv.script = ["slow"]
        r = self.run_dcgen(self.env(DCGEN_TIMEOUT="2"))
        self.assert_failed_cleanly(r, 1, "did not answer")
        self.assertLess(r.seconds, 15)

    def test_unreachable_endpoint(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]   # bound, never listening: refused
            r = self.run_dcgen(self.env(AWS_ENDPOINT_URL_ECR=f"http://127.0.0.1:{port}"))
        self.assert_failed_cleanly(r, 1, "cannot reach ECR")
        self.assertLess(r.seconds, 15)

    def test_huge_reply(self):
        self.srv.script = ["huge"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "larger than")

    def test_truncated_reply(self):
        self.srv.script = ["truncated"] * 4
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "mid-reply")
        self.assertEqual(self.srv.count, 4)

    def test_not_json_reply(self):
        self.srv.script = ["notjson"]
        r = self.run_dcgen(self.env())
        self.assert_failed_cleanly(r, 1, "not JSON")

    def test_bad_endpoint_variable(self):
        r = self.run_dcgen(self.env(AWS_ENDPOINT_URL_ECR="ftp://127.0.0.1:1"))
        self.assert_failed_cleanly(r, 2, "AWS_ENDPOINT_URL_ECR")
        self.assertEqual(self.srv.count, 0)

    def test_tls_is_verified(self):
        with tempfile.TemporaryDirectory() as d:
            ca, crt, key = peers.make_tls(d)
            srv = AwsJsonServer({KEY_ID: (SECRET, None)}, tls=(crt, key)).start()
            try:
                env = self.env(AWS_ENDPOINT_URL_ECR=srv.url)
                # an unknown CA is refused, whatever the verbosity
                r = self.run_dcgen(dict(env, SSL_CERT_FILE="/etc/ssl/certs/ca-certificates.crt"))
                self.assert_failed_cleanly(r, 1, "TLS with ECR")
                self.assertEqual(srv.count, 0)
                # the CA given in SSL_CERT_FILE (or CURL_CA_BUNDLE) is trusted
                for var in ("SSL_CERT_FILE", "CURL_CA_BUNDLE"):
                    r = self.run_dcgen(dict(env, **{var: ca}))
                    self.assertEqual(r.rc, 0, r.err)
                    self.assertIn("123456789012.dkr.ecr.eu-central-1.amazonaws.com", self.read()["auths"])
                    os.unlink(self.path)
                # a hashed directory (SSL_CERT_DIR) alone, as the images use it
                cadir = os.path.join(d, "hashed")
                os.mkdir(cadir)
                h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", ca], check=True,
                                   capture_output=True, text=True).stdout.strip()
                shutil.copy(ca, os.path.join(cadir, f"{h}.0"))
                r = self.run_dcgen(dict(env, SSL_CERT_DIR=cadir))
                self.assertEqual(r.rc, 0, r.err)
                self.assertEqual(srv.count, 3)
            finally:
                srv.close()

    def test_bad_timeout_variable(self):
        r = self.run_dcgen(self.env(DCGEN_TIMEOUT="soon"))
        self.assert_failed_cleanly(r, 2, "DCGEN_TIMEOUT")


if __name__ == "__main__":
    peers.main()
