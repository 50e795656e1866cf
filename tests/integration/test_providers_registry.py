"""A real registry client accepts what every provider writes: one docker-registry
(distribution) with htpasswd users for each provider's expected user name and
password, and skopeo pushing an image with the file dcgen wrote.

Where the written key is the local registry itself (ACR through its exchange,
ACR admin, Docker and IBM with a local URL) skopeo uses the file as written;
where it is a public host (gcr.io, registry.heroku.com, Docker Hub's key) the
entry is moved under the local registry's host first.

The registry checks passwords with bcrypt, which reads only the first 72 bytes:
longer tokens (the ACR refresh token, a JWT) are also compared whole with what
the issuer handed out."""
import json
import os
import shutil
import sys
import tempfile
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from azure_server import NULL_USER, AadServer, AcrServer  # noqa: E402
from google_server import GoogleServer  # noqa: E402

TENANT = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
CLIENT = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
AZ_SECRET = "az+secret/0123~456=789"
DOCKER_USER, DOCKER_PASSWORD = "ci-bot", "dckr_pat_0123456789abcdef+/="
ADMIN_USER, ADMIN_PASSWORD = "myregistry", "acr-admin/Pass+word=42"
HEROKU_KEY = "1a2b3c4d-5e6f-7a8b-9c0d-heroku0api0key"
IBM_KEY = "ibm-api-key_0123456789abcdefghijklmnopqrstu"


class RegistryAcceptsEveryProvider(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.need("docker-registry", "htpasswd", "skopeo")
        cls.google = GoogleServer().start()
        cls.google_key = cls.google.add_account("pusher@dcgen-test.iam.gserviceaccount.com", "dcgen-test")
        cls.aad = AadServer(TENANT, {CLIENT: AZ_SECRET}).start()
        cls.acr = AcrServer(TENANT, cls.aad.public_key)
        cls.registry = peers.Registry({
            "oauth2accesstoken": cls.google.token,
            # htpasswd takes at most 256 bytes and bcrypt reads 72: the prefix
            # hashes the same as the whole token
            NULL_USER: cls.acr.refresh_token[:72],
            ADMIN_USER: ADMIN_PASSWORD,
            DOCKER_USER: DOCKER_PASSWORD,
            "_": HEROKU_KEY,
            "iamapikey": IBM_KEY,
        })
        cls.acr.upstream = cls.registry.host
        cls.acr.start()
        cls.secrets = [cls.google.token, cls.google_key["private_key"], cls.acr.refresh_token, AZ_SECRET,
                       DOCKER_PASSWORD, ADMIN_PASSWORD, HEROKU_KEY, IBM_KEY]

    @classmethod
    def tearDownClass(cls):
        cls.acr.close()
        cls.aad.close()
        cls.google.close()
        cls.registry.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-out-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def generate(self, env, name="config.json"):
        path = os.path.join(self.dir, name)
        env = dict(env, PATH=os.environ.get("PATH", "/usr/bin:/bin"))
        r = peers.run([path], env, self.secrets)
        self.assertEqual(r.rc, 0, r.err)
        return path

    def auths(self, path):
        with open(path) as f:
            return json.load(f)["auths"]

    def moved(self, path, key):
        """The written entry for `key`, under the local registry's host instead."""
        moved = os.path.join(self.dir, "moved.json")
        with open(moved, "w") as f:
            json.dump({"auths": {self.registry.host: self.auths(path)[key]}}, f)
        return moved

    def push(self, authfile, host, repo):
        p = peers.skopeo_push(authfile, host, repo)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_gcr(self):
        path = self.generate({"GOOGLE_AUTH_JSON": json.dumps(self.google_key), "GOOGLE_LOCATION": "europe-west1"})
        auths = self.auths(path)
        self.assertEqual(auths["europe-west1-docker.pkg.dev"], auths["gcr.io"])
        self.push(self.moved(path, "gcr.io"), self.registry.host, "gcr/app:1")
        self.assertEqual(self.registry.v2_status(auths["europe-west1-docker.pkg.dev"]["auth"]), 200)

    def test_acr_service_principal_through_its_exchange(self):
        path = self.generate({"AZURE_REGISTRY": self.acr.url, "AZURE_AUTHORITY_HOST": self.aad.url,
                              "AZURE_CLIENT_ID": CLIENT, "AZURE_TENANT_ID": TENANT,
                              "AZURE_CLIENT_SECRET": AZ_SECRET})
        auths = self.auths(path)
        self.assertEqual(list(auths), [self.acr.host])
        self.assertEqual(peers.decode_auth(auths[self.acr.host]), (NULL_USER, self.acr.refresh_token))
        # the written file as it is: the key is the registry that did the exchange
        self.push(path, self.acr.host, "acr/app:1")
        self.assertIn(("PUT", "/v2/acr/app/manifests/1", 201), self.acr.proxied)

    def test_acr_admin_user(self):
        path = self.generate({"AZURE_REGISTRY": f"http://{self.registry.host}/", "AZURE_USERNAME": ADMIN_USER,
                              "AZURE_PASSWORD": ADMIN_PASSWORD})
        self.assertEqual(list(self.auths(path)), [self.registry.host])
        self.push(path, self.registry.host, "acr-admin/app:1")

    def test_docker_local_registry_url(self):
        path = self.generate({"DOCKER_USERNAME": DOCKER_USER, "DOCKER_PASSWORD": DOCKER_PASSWORD,
                              "DOCKER_REGISTRY": f"http://{self.registry.host}/"})
        self.assertEqual(list(self.auths(path)), [self.registry.host])
        self.push(path, self.registry.host, "docker/app:1")

    def test_docker_hub_key(self):
        path = self.generate({"DOCKER_USERNAME": DOCKER_USER, "DOCKER_PASSWORD": DOCKER_PASSWORD})
        self.assertEqual(list(self.auths(path)), ["https://index.docker.io/v1/"])
        self.push(self.moved(path, "https://index.docker.io/v1/"), self.registry.host, "hub/app:1")

    def test_heroku(self):
        path = self.generate({"HEROKU_API_KEY": HEROKU_KEY})
        self.assertEqual(list(self.auths(path)), ["registry.heroku.com"])
        self.push(self.moved(path, "registry.heroku.com"), self.registry.host, "heroku/app:1")

    def test_ibm(self):
        path = self.generate({"IBMCLOUD_API_KEY": IBM_KEY, "IBMCLOUD_REGISTRY": f"icr.io,http://{self.registry.host}"})
        auths = self.auths(path)
        self.assertEqual(set(auths), {"icr.io", self.registry.host})
        self.assertEqual(auths["icr.io"], auths[self.registry.host])
        self.push(path, self.registry.host, "ibm/app:1")

    def test_registry_refuses_a_wrong_password(self):
        # the checks above can fail: the same registry refuses what is not right
        path = self.generate({"DOCKER_USERNAME": DOCKER_USER, "DOCKER_PASSWORD": "not-the-password",
                              "DOCKER_REGISTRY": self.registry.host})
        p = peers.skopeo_push(path, self.registry.host, "docker/app:2")
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.registry.v2_status(self.auths(path)[self.registry.host]["auth"]), 401)


if __name__ == "__main__":
    peers.main()
