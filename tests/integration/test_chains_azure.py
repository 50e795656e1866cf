"""The Azure credential chain end to end: a service principal's certificate
(PEM and PKCS#12), the GitHub Actions OIDC token as the client assertion, and
managed identities through IMDS and App Service, each through the ACR token
exchange to a docker-registry that skopeo pushes to with the written file.

Local peers (tests/peers/azure_server.py, github_oidc_server.py) check requests
as Microsoft and GitHub document them: the certificate assertion's x5t,
signature and claims; the federated credential's issuer, subject and
audience; the managed identity endpoints' headers and query."""
import datetime
import json
import os
import shutil
import sys
import tempfile
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from github_oidc_server import ISSUER, GithubOidc  # noqa: E402
from azure_server import NULL_USER, AadServer, AcrServer, ManagedIdentity  # noqa: E402

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CERT_CLIENT = "3c6f1a2b-0d4e-4f5a-8b9c-1d2e3f4a5b6c"
GHA_CLIENT = "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d"
USER_ASSIGNED = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"


def make_cert():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dcgen-test-sp")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    return key, cert


class AzureChain(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        peers.need("docker-registry", "htpasswd", "skopeo")
        cls.key, cls.cert = make_cert()
        cls.gh = GithubOidc().start()
        cls.aad = AadServer(TENANT, certs={CERT_CLIENT: cls.cert},
                            federated={GHA_CLIENT: (ISSUER, cls.gh.sub, cls.gh.key.public_key())}).start()
        cls.acr = AcrServer(TENANT, cls.aad.public_key)
        cls.registry = peers.Registry({NULL_USER: cls.acr.refresh_token[:72]})
        cls.acr.upstream = cls.registry.host
        cls.acr.start()

    @classmethod
    def tearDownClass(cls):
        for s in (cls.acr, cls.aad, cls.gh, cls.registry):
            s.close()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-azchain-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.close()

    def serve(self, server):
        self.servers.append(server.start())
        return server

    def env(self, **extra):
        return peers.env({"AZURE_REGISTRY": self.acr.url, "AZURE_AUTHORITY_HOST": self.aad.url}, **extra)

    def generate(self, env, secrets=()):
        path = os.path.join(self.dir, "config.json")
        r = peers.run(["-v", path], env, [self.acr.refresh_token, self.gh.request_token, *self.aad.issued,
                                          *secrets])
        return r, path

    def assert_pushes(self, r, path, source):
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(f"Azure AD token from {source}", r.err)
        with open(path) as f:
            auths = json.load(f)["auths"]
        self.assertEqual(peers.decode_auth(auths[self.acr.host]), (NULL_USER, self.acr.refresh_token))
        p = peers.skopeo_push(path, self.acr.host, "acr/app:1")
        self.assertEqual(p.returncode, 0, p.stderr)
        for t in self.aad.issued:
            self.assertNotIn(t[:40], r.err)

    def pem_file(self, encrypted=None):
        from cryptography.hazmat.primitives import serialization
        enc = serialization.BestAvailableEncryption(encrypted.encode()) if encrypted else serialization.NoEncryption()
        p = os.path.join(self.dir, "sp.pem")
        with open(p, "wb") as f:
            f.write(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        return p

    def test_certificate_pem(self):
        r, path = self.generate(self.env(AZURE_CLIENT_ID=CERT_CLIENT, AZURE_TENANT_ID=TENANT,
                                         AZURE_CLIENT_CERTIFICATE_PATH=self.pem_file()))
        self.assert_pushes(r, path, f"service principal '{CERT_CLIENT}' in tenant '{TENANT}' (client certificate)")

    def test_certificate_pkcs12_with_password(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.serialization import pkcs12
        pw = "p12-pass/word"
        p = os.path.join(self.dir, "sp.pfx")
        with open(p, "wb") as f:
            f.write(pkcs12.serialize_key_and_certificates(b"sp", self.key, self.cert, None,
                                                          serialization.BestAvailableEncryption(pw.encode())))
        r, path = self.generate(self.env(AZURE_CLIENT_ID=CERT_CLIENT, AZURE_TENANT_ID=TENANT,
                                         AZURE_CLIENT_CERTIFICATE_PATH=p, AZURE_CLIENT_CERTIFICATE_PASSWORD=pw),
                                secrets=[pw])
        self.assert_pushes(r, path, f"service principal '{CERT_CLIENT}' in tenant '{TENANT}' (client certificate)")

    def test_certificate_wrong_password_is_explained(self):
        r, _ = self.generate(self.env(AZURE_CLIENT_ID=CERT_CLIENT, AZURE_TENANT_ID=TENANT,
                                      AZURE_CLIENT_CERTIFICATE_PATH=self.pem_file(encrypted="right"),
                                      AZURE_CLIENT_CERTIFICATE_PASSWORD="wrong"), secrets=["wrong", "right"])
        self.assertEqual(r.rc, 2, r.err)
        self.assertIn("AZURE_CLIENT_CERTIFICATE_PASSWORD", r.err)

    def test_github_actions_token_as_client_assertion(self):
        before = len(self.gh.issued)
        r, path = self.generate(self.env(AZURE_CLIENT_ID=GHA_CLIENT, AZURE_TENANT_ID=TENANT,
                                         ACTIONS_ID_TOKEN_REQUEST_URL=self.gh.request_url,
                                         ACTIONS_ID_TOKEN_REQUEST_TOKEN=self.gh.request_token))
        self.assert_pushes(r, path, f"service principal '{GHA_CLIENT}' in tenant '{TENANT}' (GitHub Actions OIDC token)")
        self.assertEqual(len(self.gh.issued), before + 1)
        self.gh.verify(self.gh.issued[-1], "api://AzureADTokenExchange")

    def test_managed_identity_imds(self):
        mi = self.serve(ManagedIdentity(self.aad))
        r, path = self.generate(self.env(AZURE_POD_IDENTITY_AUTHORITY_HOST=mi.url))
        self.assert_pushes(r, path, f"managed identity (IMDS at {mi.url})")
        self.assertEqual(mi.requests[0][2]["Metadata"], "true")

    def test_managed_identity_user_assigned(self):
        mi = self.serve(ManagedIdentity(self.aad, identities={USER_ASSIGNED: "uami"}))
        r, path = self.generate(self.env(AZURE_POD_IDENTITY_AUTHORITY_HOST=mi.url, AZURE_CLIENT_ID=USER_ASSIGNED))
        self.assert_pushes(r, path, f"managed identity '{USER_ASSIGNED}' (IMDS at {mi.url})")
        self.assertIn(f"client_id={USER_ASSIGNED}", mi.requests[0][1])

    def test_managed_identity_app_service(self):
        mi = self.serve(ManagedIdentity(self.aad, kind="appservice"))
        r, path = self.generate(self.env(IDENTITY_ENDPOINT=mi.endpoint, IDENTITY_HEADER=mi.header),
                                secrets=[mi.header])
        self.assert_pushes(r, path, f"managed identity (App Service at {mi.endpoint})")

    def test_managed_identity_cache_hit_asks_nothing(self):
        mi = self.serve(ManagedIdentity(self.aad))
        env = self.env(AZURE_POD_IDENTITY_AUTHORITY_HOST=mi.url, DCGEN_CACHE_DIR=os.path.join(self.dir, "cache"))
        r, _ = self.generate(env)
        self.assertEqual(r.rc, 0, r.err)
        r, _ = self.generate(env)
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn("from cache", r.err)
        self.assertEqual(mi.count, 1)


if __name__ == "__main__":
    peers.main()
