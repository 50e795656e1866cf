"""Secrets and untrusted input (issue 9; BLACKBOX D2, D4, D5, D8; REVIEW 2.6,
2.12): control characters in session tokens (from the environment or from
STS) never become HTTP headers; host names from upstream are validated and
`cache list` never prints raw control characters; a password in a URL
variable, or a secret that also sits in another variable, never reaches
stderr; an echoed Google assertion is redacted; LocalStack's key id 'test'
is accepted.

Everything stays on 127.0.0.1: where a URL names another host, the proxy
variables point at a closed local port, so not even a DNS query leaves."""
import json
import os
import shutil
import socket
import stat
import sys
import time

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
import jwt_rs256  # noqa: E402
from aws_json_server import AwsJsonServer  # noqa: E402
from azure_server import AadServer, AcrServer  # noqa: E402
from google_server import GoogleServer  # noqa: E402

ACCOUNT = "123456789012"
KEY_ID, SECRET = "AKIADCGENCORESEC0001", "core/secret+abcdefghijklmnopqrstuvwxyz01"
HOST = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
URL_PASSWORD = "hunter2secret"


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def no_raw_controls(testcase, text, what):
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or ord(c) == 0x7f]
    testcase.assertEqual(bad, [], f"raw control characters in {what}: {text!r}")


class AwsCase(peers.DcgenCase):
    def setUp(self):
        super().setUp()
        self.srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(self.srv.close)
        self.cache = os.path.join(self.dir, "cache")

    def env(self, **extra):
        return peers.env({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET,
                          "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": self.srv.url}, **extra)

    def run_dcgen(self, env, *args, secrets=()):
        return peers.run(list(args) + [self.path], env, [SECRET, self.srv.token_prefix] + list(secrets))

    def header_names(self):
        return {name.lower() for request in self.srv.headers for name, _ in request}


class SessionTokens(AwsCase):
    def test_control_characters_in_env_token_are_refused_before_any_request(self):
        base = "FwoGZXIvYXdzEcoreSessionTokenValue0123"
        for tail in ("\r\nX-Evil: 1", "\nX-Evil: 1", "\rX-Evil: 1", "\x1b[31m", "\x7f", "\x01"):
            with self.subTest(tail=tail):
                r = self.run_dcgen(self.env(AWS_SESSION_TOKEN=base + tail), secrets=[base])
                self.assert_failed_cleanly(r, 2, "AWS_SESSION_TOKEN")
                self.assertEqual(self.srv.count, 0, "a request was sent")
                self.assertNotIn("x-evil", self.header_names())

    def test_sts_reply_with_crlf_in_session_token(self):
        self.srv.sts_token = "FwoGZXIvYXdzEstsTokenValue&#13;&#10;X-Injected: yes"
        r = self.run_dcgen(self.env(AWS_STS_ROLE="ecr-reader", AWS_STS_ACCOUNT=ACCOUNT),
                           secrets=["FwoGZXIvYXdzEstsTokenValue"])
        self.assert_failed_cleanly(r, 1)
        self.assertNotIn("x-injected", self.header_names(), "STS's token became a header")
        ecr = [q for q in self.srv.requests if not q[0].startswith("sts:")]
        self.assertEqual(ecr, [], "ECR was called with the tainted token")

    def test_sts_reply_with_escape_in_session_token(self):
        self.srv.sts_token = "FwoGZXIvYXdzEstsTokenValue&#27;[31m&#7;"
        r = self.run_dcgen(self.env(AWS_STS_ROLE="ecr-reader", AWS_STS_ACCOUNT=ACCOUNT),
                           secrets=["FwoGZXIvYXdzEstsTokenValue"])
        self.assert_failed_cleanly(r, 1)

    def test_sts_role_works_with_a_clean_token(self):
        # the control: the same peer and flow succeed with an ordinary token
        r = self.run_dcgen(self.env(AWS_STS_ROLE="ecr-reader", AWS_STS_ACCOUNT=ACCOUNT))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(HOST, self.read()["auths"])
        self.assertEqual([q[0] for q in self.srv.requests],
                         ["sts:AssumeRole", "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"])
        self.assertEqual([q[3] for q in self.srv.requests], ["ok", "ok"])


class UpstreamHosts(AwsCase):
    BAD = ["https://a\u001b[31mRED\u001b]0;title\u0007.example.com",
           "https://a\nb.example/x", "https://a\rb.example", "javascript:alert(1)",
           "https://bad_host!/", "https://a b.example", "https://", "https://a\u0000b.example"]

    def test_bad_proxy_endpoint_is_refused(self):
        for endpoint in self.BAD:
            with self.subTest(endpoint=endpoint):
                shutil.rmtree(self.cache, ignore_errors=True)
                for name in os.listdir(self.out):
                    os.unlink(os.path.join(self.out, name))
                self.srv.proxy_endpoint = endpoint
                r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=self.cache))
                self.assert_failed_cleanly(r, 1)
                no_raw_controls(self, r.err, "stderr")
                entries = [f for f in os.listdir(self.cache) if f.endswith(".entry")] \
                    if os.path.isdir(self.cache) else []
                self.assertEqual(entries, [], "the bad host was cached")

    def test_proxy_endpoint_of_another_host_is_at_most_its_host(self):
        # not forbidden by the contract, but what is written must be a plain host key
        self.srv.proxy_endpoint = "https://evil.example.com/path?q=1"
        r = self.run_dcgen(self.env())
        self.assertIn(r.rc, (0, 1), r.err)
        if r.rc == 0:
            self.assertEqual(list(self.read()["auths"]), ["evil.example.com"])

    def test_cache_list_escapes_control_characters(self):
        r = self.run_dcgen(self.env(DCGEN_CACHE_DIR=self.cache))
        self.assertEqual(r.rc, 0, r.err)
        [entry] = [f for f in os.listdir(self.cache) if f.endswith(".entry")]
        path = os.path.join(self.cache, entry)
        with open(path, "rb") as f:
            raw = f.read()
        # the clear metadata (whatever line holds it) gets a host with ESC and BEL, as
        # a forged or old entry could hold it; list shows metadata without the key
        evil = "a\u001b[31mRED\u001b]0;t\u0007.example.com"
        lines = raw.split(b"\n")
        for i, line in enumerate(lines):
            if HOST.encode() in line:
                lines[i] = line.replace(HOST.encode(), json.dumps(evil)[1:-1].encode())
                break
        else:
            self.fail("no metadata line names the host")
        with open(path, "wb") as f:
            f.write(b"\n".join(lines))
        r = peers.run(["cache", "list"], self.env(DCGEN_CACHE_DIR=self.cache), [SECRET])
        self.assertIn(r.rc, (0, 1), r.err)
        no_raw_controls(self, r.out, "cache list's stdout")
        no_raw_controls(self, r.err, "cache list's stderr")


class UrlPasswords(peers.DcgenCase):
    """A password inside a URL variable never reaches stderr."""

    def setUp(self):
        super().setUp()
        port = closed_port()
        # libcurl reads HTTPS_PROXY and lower-case http_proxy (never HTTP_PROXY)
        self.noproxy = {"HTTPS_PROXY": f"http://127.0.0.1:{port}", "http_proxy": f"http://127.0.0.1:{port}",
                        "DCGEN_CONNECT_TIMEOUT": "1", "DCGEN_TIMEOUT": "3"}

    def check(self, base, var, value, rcs=(0, 2)):
        r = peers.run([self.path], peers.env(dict(base, **self.noproxy), **{var: value}), [URL_PASSWORD])
        self.assertIn(r.rc, rcs, f"{var}={value!r}: {r.err}")
        if r.rc != 0:
            self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        else:
            with open(self.path) as f:
                self.assertNotIn(URL_PASSWORD, f.read().split('"auth"')[0])
            for key in self.read()["auths"]:
                self.assertNotIn(URL_PASSWORD, key)
                self.assertNotIn("@", key)
            os.unlink(self.path)
        return r

    def test_docker_registry(self):
        base = {"DOCKER_USERNAME": "u", "DOCKER_PASSWORD": "dockerpw123456"}
        for value in (f"https://u:{URL_PASSWORD}@bad_host/", f"https://u:{URL_PASSWORD}@registry.example.com/",
                      f"u:{URL_PASSWORD}@registry.example.com", f"https://u:{URL_PASSWORD}@registry.example.com:x/"):
            with self.subTest(value=value):
                self.check(base, "DOCKER_REGISTRY", value)

    def test_azure_registry(self):
        base = {"AZURE_USERNAME": "admin", "AZURE_PASSWORD": "azureadminpw123"}
        for value in (f"http://admin:{URL_PASSWORD}@example.com", f"https://admin:{URL_PASSWORD}@myreg.azurecr.io",
                      f"https://admin:{URL_PASSWORD}@bad_host/", f"https://:{URL_PASSWORD}@myreg.azurecr.io/"):
            with self.subTest(value=value):
                self.check(base, "AZURE_REGISTRY", value)

    def test_azure_authority_host(self):
        base = {"AZURE_REGISTRY": f"http://127.0.0.1:{closed_port()}", "AZURE_CLIENT_ID": "client-1",
                "AZURE_TENANT_ID": "tenant-1", "AZURE_CLIENT_SECRET": "azureclientsecret1"}
        for value, rcs in ((f"https://u:{URL_PASSWORD}@login.example.com:99999999999/", (2,)),
                           (f"https://u:{URL_PASSWORD}@bad_host/", (2,)),
                           (f"http://u:{URL_PASSWORD}@127.0.0.1:{closed_port()}/", (1, 2))):
            with self.subTest(value=value):
                self.check(base, "AZURE_AUTHORITY_HOST", value, rcs)

    def test_ibmcloud_registry(self):
        base = {"IBMCLOUD_API_KEY": "ibmapikey0123456789"}
        for value in (f"https://u:{URL_PASSWORD}@", f"https://u:{URL_PASSWORD}@us.icr.io",
                      f"us.icr.io,https://u:{URL_PASSWORD}@de.icr.io"):
            with self.subTest(value=value):
                self.check(base, "IBMCLOUD_REGISTRY", value)


class SecretElsewhere(AwsCase):
    """A secret's value pasted into another variable is not quoted by that
    variable's error (peers.run fails the test if it shows)."""
    S = "AwsSecretValueXYZ123"

    def setUp(self):
        super().setUp()
        self.srv.keys[KEY_ID] = (self.S, None)

    def aws(self, **extra):
        return self.env(AWS_SECRET_ACCESS_KEY=self.S, **extra)

    def check(self, env, *args, path=None, rcs=(2,)):
        r = peers.run(list(args) + [path or self.path], env, [self.S])
        self.assertIn(r.rc, rcs, r.err)
        if r.rc != 0:
            self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        return r

    def test_aws_variables(self):
        for name, extra in (("AWS_REGION", {"AWS_REGION": self.S}),
                            ("AWS_DEFAULT_REGION", {"AWS_REGION": None, "AWS_DEFAULT_REGION": self.S}),
                            ("AWS_STS_ACCOUNT", {"AWS_STS_ROLE": "ecr-reader", "AWS_STS_ACCOUNT": self.S})):
            with self.subTest(name=name):
                self.check(self.aws(**extra))
        self.assertEqual(self.srv.count, 0)

    def test_dcgen_variables(self):
        for name in ("DCGEN_TIMEOUT", "DCGEN_FORMAT", "DCGEN_PROVIDER", "DCGEN_CONNECT_TIMEOUT",
                     "DCGEN_CACHE_MIN_TTL", "DCGEN_CACHE_WAIT"):
            with self.subTest(name=name):
                self.check(self.aws(**{name: self.S, "DCGEN_CACHE_DIR": self.cache}))
        for option in ("--format", "--provider"):
            with self.subTest(option=option):
                self.check(self.aws(), option, self.S)

    def test_other_providers_secrets(self):
        for env in ({"DOCKER_USERNAME": "u", "DOCKER_PASSWORD": self.S, "DCGEN_FORMAT": self.S},
                    {"HEROKU_API_KEY": self.S, "DCGEN_PROVIDER": self.S},
                    {"IBMCLOUD_API_KEY": self.S, "DCGEN_TIMEOUT": self.S},
                    {"AZURE_USERNAME": "admin", "AZURE_PASSWORD": self.S, "AZURE_REGISTRY": "myregistry",
                     "DCGEN_FORMAT": self.S},
                    {"AZURE_USERNAME": "admin", "AZURE_PASSWORD": self.S, "AZURE_REGISTRY": self.S + "_x"},
                    {"AZURE_REGISTRY": "myregistry", "AZURE_CLIENT_ID": self.S + "\n", "AZURE_CLIENT_SECRET": self.S,
                     "AZURE_TENANT_ID": "tenant"},
                    {"AZURE_REGISTRY": "myregistry", "AZURE_CLIENT_ID": "client", "AZURE_CLIENT_SECRET": self.S,
                     "AZURE_TENANT_ID": self.S + "/x"},
                    {"IBMCLOUD_API_KEY": self.S, "IBMCLOUD_REGISTRY": self.S + " x"},
                    {"DOCKER_USERNAME": self.S + ":u", "DOCKER_PASSWORD": self.S},
                    {"DOCKER_USERNAME": "u", "DOCKER_PASSWORD": self.S, "DOCKER_REGISTRY": f"https://{self.S} x/"},
                    {"HEROKU_API_KEY": self.S, "DCGEN_CACHE_MIN_TTL": self.S, "DCGEN_CACHE_DIR": "/nonexistent"}):
            with self.subTest(env=sorted(env)):
                # an offline provider may not read the variable at all: success is fine
                self.check(peers.env(env), rcs=(0, 2))

    def test_output_path(self):
        # a directory that does not exist: an error that must not quote the secret
        self.check(self.aws(), path=f"/nonexistent-dcgen-dir/{self.S}/cfg")
        self.check(self.aws(), path=os.path.join(self.out, self.S, "cfg"))
        # a PATH that works: the success line must not quote it either
        r = self.check(self.aws(), path=os.path.join(self.out, self.S), rcs=(0,))
        self.assertTrue(os.path.exists(os.path.join(self.out, self.S)))

    def test_cache_dir(self):
        unsafe = os.path.join(self.dir, self.S)
        os.mkdir(unsafe)
        os.chmod(unsafe, 0o777)
        self.check(self.aws(DCGEN_CACHE_DIR=unsafe))
        self.check(self.aws(), "--cache-dir", unsafe)
        r = peers.run(["cache", "list", "--cache-dir", unsafe], self.aws(), [self.S])
        self.assertEqual(r.rc, 2, r.err)
        self.assertEqual(self.srv.count, 0)
        # a working cache dir named like the secret: the messages must not show it
        os.chmod(unsafe, 0o700)
        r = self.check(self.aws(DCGEN_CACHE_DIR=unsafe), "-v", rcs=(0, 1))


class GoogleAssertion(peers.DcgenCase):
    """A token endpoint that echoes the request: the signed JWT assertion (a
    one-hour bearer grant) never reaches stderr, whole or as a prefix."""

    def setUp(self):
        super().setUp()
        self.srv = GoogleServer().start()
        self.addCleanup(self.srv.close)
        self.key = self.srv.add_account("ci@dcgen-test.iam.gserviceaccount.com", "dcgen-test")

    def test_echoed_assertion_is_redacted(self):
        for mode in ("echo", "echo200", "echosigning", "echodecoded"):
            with self.subTest(mode=mode):
                self.srv.script = [mode]
                r = peers.run([self.path], peers.env({"GOOGLE_AUTH_JSON": json.dumps(self.key)}),
                              [self.key["private_key"]])
                self.assert_failed_cleanly(r, 1)
                assertion = self.srv.assertions[-1]
                self.assertTrue(assertion.count(".") == 2, assertion)
                self.assertNotIn(assertion, r.err)
                self.assertNotIn(assertion[:20], r.err, f"a prefix of the assertion was printed: {r.err}")
                self.assertNotIn(assertion.split(".")[2][:20], r.err)
                if mode != "echodecoded":
                    self.assertIn("invalid_grant", r.err)


TENANT = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"
CLIENT = "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"
ISSUER, SUBJECT = "https://oidc.dcgen.test/cluster", "system:serviceaccount:ci:dcgen"


class AzureEcho(peers.DcgenCase):
    """Azure AD or the ACR exchange quoting the credential they were sent, cut
    at 200 characters: neither the federated token nor the AAD access token
    shows, not even as a prefix."""

    def setUp(self):
        super().setUp()
        key = jwt_rs256.new_key()
        self.aad = AadServer(TENANT, {}, {CLIENT: (ISSUER, SUBJECT, key.public_key())}).start()
        self.addCleanup(self.aad.close)
        self.acr = AcrServer(TENANT, self.aad.public_key).start()
        self.addCleanup(self.acr.close)
        now = int(time.time())
        self.federated = jwt_rs256.encode({"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange",
                                           "iat": now, "nbf": now, "exp": now + 3600}, key)
        self.token_file = os.path.join(self.dir, "token")
        with open(self.token_file, "w") as f:
            f.write(self.federated)

    def run_dcgen(self):
        return peers.run([self.path], peers.env({
            "AZURE_REGISTRY": self.acr.url, "AZURE_AUTHORITY_HOST": self.aad.url, "AZURE_CLIENT_ID": CLIENT,
            "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": self.token_file}), [self.federated])

    def test_aad_echoing_the_federated_token(self):
        self.aad.script = ["echo200"]
        r = self.run_dcgen()
        self.assert_failed_cleanly(r, 1)
        self.assertNotIn(self.federated[:20], r.err, "a prefix of the federated token was printed")

    def test_exchange_echoing_the_aad_token(self):
        self.acr.script = ["echo200"]
        r = self.run_dcgen()
        self.assert_failed_cleanly(r, 1)
        [token] = self.aad.issued
        self.assertNotIn(token[:20], r.err, "a prefix of the Azure AD token was printed")


class LocalStackKeys(peers.DcgenCase):
    def test_access_key_id_test(self):
        srv = AwsJsonServer({"test": ("test", None)}).start()
        self.addCleanup(srv.close)
        r = peers.run([self.path], peers.env({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                                              "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.url}))
        self.assertEqual(r.rc, 0, r.err)
        self.assertIn(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", self.read()["auths"])
        self.assertEqual([q[3] for q in srv.requests], ["ok"], "the peer refused the signature")

    def test_only_what_protects_the_request_is_refused(self):
        srv = AwsJsonServer({"localstack_key-1": ("test", None)}).start()
        self.addCleanup(srv.close)
        base = {"AWS_ACCESS_KEY_ID": "localstack_key-1", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": srv.url}
        r = peers.run([self.path], peers.env(base))
        self.assertEqual(r.rc, 0, r.err)
        for name, value in (("AWS_ACCESS_KEY_ID", "AKIA X"), ("AWS_ACCESS_KEY_ID", "AKIA\r\nX-Evil: 1"),
                            ("AWS_ACCESS_KEY_ID", "A" * 130000), ("AWS_SESSION_TOKEN", "t" * 130000)):
            with self.subTest(name=name, value=value[:12]):
                os.path.exists(self.path) and os.unlink(self.path)
                before = srv.count
                r = peers.run([self.path], peers.env(base, **{name: value}))
                self.assert_failed_cleanly(r, 2, name)
                self.assertEqual(srv.count, before, "a request was sent")
                self.assertLess(len(r.err), 4096)


if __name__ == "__main__":
    peers.main()
