"""A real registry client accepts what dcgen writes: dcgen gets a token from
moto (signatures checked), a local docker-registry knows that token through
htpasswd, and skopeo pushes an image with the auth dcgen wrote."""
import json
import os
import shutil
import tempfile
import unittest

import peers
from peers import ACCOUNT


class RegistryAcceptsDcgenAuth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.need("moto_server", "docker-registry", "htpasswd", "skopeo")
        cls.moto = peers.Moto()
        # moto's ECR token is fixed: user AWS, password "<account>-auth-token"
        cls.registry = peers.Registry({"AWS": f"{ACCOUNT}-auth-token"})

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()
        cls.moto.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-out-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def generate(self, fmt):
        path = os.path.join(self.dir, f"cfg-{fmt}")
        r = peers.run(["--format", fmt, path], self.moto.env(), [self.moto.secret])
        self.assertEqual(r.rc, 0, r.err)
        with open(path) as f:
            doc = json.load(f)
        return doc["auths"] if fmt == "config" else doc

    def authfile_for_registry(self, entry):
        """The written entry, under the local registry's host instead of ECR's."""
        path = os.path.join(self.dir, "auth.json")
        with open(path, "w") as f:
            json.dump({"auths": {self.registry.host: entry}}, f)
        return path

    def test_skopeo_pushes_with_written_config(self):
        auths = self.generate("config")
        entry = auths[f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"]
        self.assertEqual(self.registry.v2_status(entry["auth"]), 200)
        p = peers.skopeo_push(self.authfile_for_registry(entry), self.registry.host)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.registry.v2_status(entry["auth"]), 200)

    def test_dockercfg_format_entry_authenticates(self):
        entry = self.generate("dockercfg")[f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"]
        self.assertEqual(self.registry.v2_status(entry["auth"]), 200)

    def test_registry_rejects_other_auth(self):
        # the check above can fail: a wrong password is refused by the same registry
        p = peers.skopeo_push(self.authfile_for_registry({"auth": "QVdTOndyb25n"}), self.registry.host,
                              "app:2")
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.registry.v2_status("QVdTOndyb25n"), 401)


if __name__ == "__main__":
    peers.main()
