"""dcgen against moto's ECR and STS, every request's signature checked."""
import json
import os
import stat
import tempfile
import unittest

import peers
from peers import ACCOUNT


class EcrAgainstMoto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.need("moto_server")
        cls.moto = peers.Moto()

    @classmethod
    def tearDownClass(cls):
        cls.moto.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-out-")
        self.path = os.path.join(self.dir, "dockercfg")
        self.secrets = [self.moto.secret]

    def tearDown(self):
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)

    def run_dcgen(self, env, *args):
        return peers.run(list(args) + [self.path], env, self.secrets + [f"{ACCOUNT}-auth-token"])

    def read(self):
        with open(self.path) as f:
            return json.load(f)

    def assert_no_stray_files(self):
        self.assertEqual([f for f in os.listdir(self.dir) if f != "dockercfg"], [])

    def test_plain_keys_write_config_json(self):
        r = self.run_dcgen(self.moto.env())
        self.assertEqual(r.rc, 0, r.err)
        host = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
        doc = self.read()
        self.assertEqual(list(doc), ["auths"])
        self.assertEqual(list(doc["auths"]), [host])
        self.assertEqual(peers.decode_auth(doc["auths"][host]), ("AWS", f"{ACCOUNT}-auth-token"))
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        # moto's token expired in 2015: still written, with a warning
        self.assertIn("expired already", r.err)
        self.assert_no_stray_files()

    def test_generate_subcommand_and_dockercfg_format(self):
        r = self.run_dcgen(self.moto.env(), "generate", "--provider", "ecr", "--format", "dockercfg")
        self.assertEqual(r.rc, 0, r.err)
        doc = self.read()
        host = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
        self.assertEqual(list(doc), [host])
        self.assertEqual(peers.decode_auth(doc[host])[0], "AWS")

    def test_format_from_environment(self):
        r = self.run_dcgen(self.moto.env(DCGEN_FORMAT="dockercfg", AWS_REGION=None,
                                         AWS_DEFAULT_REGION="eu-west-1"))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", self.read())

    def test_assume_role(self):
        env = self.moto.env(AWS_STS_ROLE=self.moto.role, AWS_STS_ACCOUNT=ACCOUNT,
                            AWS_ENDPOINT_URL=None, AWS_ENDPOINT_URL_ECR=self.moto.url,
                            AWS_ENDPOINT_URL_STS=self.moto.url)
        r = self.run_dcgen(env, "-v")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("assumed role arn:aws:iam::123456789012:role/ecr-reader", r.err)
        doc = self.read()
        self.assertIn(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", doc["auths"])

    def test_assume_role_needs_both_variables(self):
        for extra in ({"AWS_STS_ROLE": "ecr-reader"}, {"AWS_STS_ACCOUNT": ACCOUNT}):
            r = self.run_dcgen(self.moto.env(**extra))
            self.assertEqual(r.rc, 2, r.err)
            self.assertIn("AWS_STS_", r.err)
            self.assertFalse(os.path.exists(self.path))

    def test_two_registry_ids(self):
        other = "210987654321"
        r = self.run_dcgen(self.moto.env(AWS_ECR_REGISTRY_IDS=f"{ACCOUNT}, {other}"))
        self.assertEqual(r.rc, 0, r.err)
        auths = self.read()["auths"]
        self.assertEqual(sorted(auths), sorted([f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
                                                f"{other}.dkr.ecr.us-east-1.amazonaws.com"]))
        self.assertEqual(peers.decode_auth(auths[f"{other}.dkr.ecr.us-east-1.amazonaws.com"]),
                         ("AWS", f"{other}-auth-token"))

    def test_malformed_registry_ids(self):
        r = self.run_dcgen(self.moto.env(AWS_ECR_REGISTRY_IDS="12345,abc"))
        self.assertEqual(r.rc, 2)
        self.assertIn("AWS_ECR_REGISTRY_IDS", r.err)

    def test_wrong_secret_keeps_existing_file(self):
        with open(self.path, "w") as f:
            f.write("previous content\n")
        wrong = "x" * 40
        self.secrets.append(wrong)
        r = self.run_dcgen(self.moto.env(AWS_SECRET_ACCESS_KEY=wrong))
        self.assertEqual(r.rc, 1, r.err)
        self.assertIn("SignatureDoesNotMatch", r.err)
        self.assertIn("AWS_SECRET_ACCESS_KEY", r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        with open(self.path) as f:
            self.assertEqual(f.read(), "previous content\n")
        self.assert_no_stray_files()

    def test_wrong_secret_writes_no_file(self):
        r = self.run_dcgen(self.moto.env(AWS_SECRET_ACCESS_KEY="y" * 40))
        self.assertEqual(r.rc, 1, r.err)
        self.assertFalse(os.path.exists(self.path))
        self.assert_no_stray_files()

    def test_unknown_access_key(self):
        r = self.run_dcgen(self.moto.env(AWS_ACCESS_KEY_ID="AKIAAAAAAAAAAAAAAAAA"))
        self.assertEqual(r.rc, 1, r.err)
        self.assertFalse(os.path.exists(self.path))

    def test_wrong_session_token_with_assumed_role(self):
        # moto rejects a session token it did not issue
        r = self.run_dcgen(self.moto.env(AWS_SESSION_TOKEN="not-a-session-token-at-all"))
        self.assertEqual(r.rc, 1, r.err)
        self.assertFalse(os.path.exists(self.path))

    def test_missing_variables_name_themselves(self):
        cases = {"AWS_SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY is not set",
                 "AWS_ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID is not set",
                 "AWS_REGION": "AWS_REGION is not set"}
        for var, message in cases.items():
            r = self.run_dcgen(self.moto.env(**{var: None}) | {var: ""})
            self.assertEqual(r.rc, 2, (var, r.err))
            self.assertIn(message, r.err)
            self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
            self.assertFalse(os.path.exists(self.path))

    def test_verbose_never_prints_secrets(self):
        r = self.run_dcgen(self.moto.env(AWS_STS_ROLE=self.moto.role, AWS_STS_ACCOUNT=ACCOUNT), "-v")
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("debug:", r.err)

    def test_output_into_missing_directory_is_usage_error(self):
        r = peers.run([os.path.join(self.dir, "nope", "cfg")], self.moto.env())
        self.assertEqual(r.rc, 2)
        self.assertIn("does not exist", r.err)


if __name__ == "__main__":
    peers.main()
