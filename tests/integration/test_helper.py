"""docker-credential-dcgen: the credential-helper protocol exactly as
docker-credential-helpers defines it (FRONTS.md 1.1-1.3), the sealed store,
ECR hosts of every kind against a local ECR endpoint that checks SigV4
(tests/peers/aws_json_server.py), the cache between docker's many `get`s,
and failures that say what failed instead of "not found". Where Debian's
amazon-ecr-credential-helper is installed, its headline complaints are
reproduced side by side (FRONTS.md 2.6).
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

NOT_FOUND = "credentials not found in native keychain"
KEY_ID, SECRET = "AKIADCGENHELPER00001", "helper/test+secret/abcdefghijklmnopqrs"
PASSWORD = "hub-pässword+/=secret"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
# a network namespace with nothing in it (as root; else in a user namespace)
NO_NET = ["unshare", "-n"] if os.geteuid() == 0 else ["unshare", "-r", "-n"]


def link_dir(base):
    d = os.path.join(base, "bin")
    os.makedirs(d, exist_ok=True)
    os.symlink(os.path.abspath(peers.DCGEN), os.path.join(d, "docker-credential-dcgen"))
    return d


class HelperCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-helper-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.bin = link_dir(self.dir)
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home)
        self.secrets = [SECRET, PASSWORD]

    def env(self, **extra):
        return peers.env({"HOME": self.home}, **extra)

    def helper(self, action, stdin="", env=None, args=None):
        argv = [os.path.join(self.bin, "docker-credential-dcgen")] + ([action] if args is None else args)
        p = subprocess.run(argv, input=stdin, env=env or self.env(), capture_output=True, text=True, timeout=60)
        for s in self.secrets:
            if s and action != "get" and s in p.stdout:
                self.fail(f"a secret on stdout of {action}")
            if s and s in p.stderr:
                self.fail(f"a secret on stderr of {action}: {p.stderr}")
        return p


class Protocol(HelperCase):
    def test_version_usage_and_unknown_action(self):
        for a in ("version", "--version", "-v"):
            p = self.helper(a)
            self.assertEqual((p.returncode, p.stdout), (0, "docker-credential-dcgen (dcgen) 0.1.0\n"))
        p = self.helper(None, args=[])
        self.assertEqual((p.returncode, p.stdout), (1, "Usage: docker-credential-dcgen <store|get|erase|list|version>\n"))
        p = self.helper(None, args=["get", "extra"])
        self.assertEqual(p.returncode, 1)
        self.assertEqual(self.helper("--help").returncode, 0)
        p = self.helper("fetch")
        self.assertEqual(p.returncode, 1)
        self.assertIn("fetch", p.stdout)
        # also as a subcommand
        p = subprocess.run([peers.DCGEN, "credential-helper", "version"], capture_output=True, text=True)
        self.assertEqual(p.stdout, "docker-credential-dcgen (dcgen) 0.1.0\n")

    def test_not_mine_is_the_exact_text(self):
        for url in ("quay.io", "https://index.docker.io/v1/", "gcr.io", ECR):
            p = self.helper("get", url)
            self.assertEqual((p.returncode, p.stdout, p.stderr), (1, NOT_FOUND + "\n", ""), url)

    def test_protocol_errors(self):
        for stdin in ("", "  \n"):
            p = self.helper("get", stdin)
            self.assertEqual((p.returncode, p.stdout.strip(), p.stderr), (1, "no credentials server URL", ""))
        p = self.helper("store", json.dumps({"Username": "u", "Secret": "s"}))
        self.assertEqual((p.returncode, p.stdout.strip()), (1, "no credentials server URL"))
        p = self.helper("store", json.dumps({"ServerURL": "reg.example", "Secret": "s"}))
        self.assertEqual((p.returncode, p.stdout.strip()), (1, "no credentials username"))
        p = self.helper("erase", "")
        self.assertEqual((p.returncode, p.stdout.strip()), (1, "no credentials server URL"))
        p = self.helper("store", "not json")
        self.assertEqual(p.returncode, 1)

    def test_store_get_list_erase(self):
        creds = {"ServerURL": "https://reg.example.com:5000/v2/", "Username": "alice", "Secret": PASSWORD}
        p = self.helper("store", json.dumps(creds))
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""))
        for asked in ("reg.example.com:5000", "https://reg.example.com:5000", "reg.example.com:5000\n"):
            p = self.helper("get", asked)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(json.loads(p.stdout), {"ServerURL": asked.strip(), "Username": "alice",
                                                    "Secret": PASSWORD})
        self.assertEqual(self.helper("get", "reg.example.com").stdout.strip(), NOT_FOUND)
        # Docker Hub: every name docker may send is one entry
        p = self.helper("store", json.dumps({"ServerURL": "https://index.docker.io/v1/", "Username": "bob",
                                             "Secret": "hub-token-123"}))
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(json.loads(self.helper("get", "docker.io").stdout)["Username"], "bob")
        p = self.helper("list", "unused")
        self.assertEqual(json.loads(p.stdout), {"https://reg.example.com:5000/v2/": "alice",
                                                "https://index.docker.io/v1/": "bob"})
        # sealed: 0700 directory, 0600 files, no secret or user name in clear
        store = os.path.join(self.home, ".config", "dcgen")
        self.assertEqual(stat.S_IMODE(os.stat(store).st_mode), 0o700)
        for name in os.listdir(store):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(store, name)).st_mode), 0o600, name)
            with open(os.path.join(store, name), "rb") as f:
                data = f.read()
            for clear in (PASSWORD.encode(), b"hub-token-123", b"alice", b"reg.example.com"):
                self.assertNotIn(clear, data, name)
        p = self.helper("erase", "https://reg.example.com:5000")
        self.assertEqual((p.returncode, p.stdout), (0, ""))
        self.assertEqual(self.helper("get", "reg.example.com:5000").stdout.strip(), NOT_FOUND)
        self.assertEqual(self.helper("erase", "reg.example.com:5000").returncode, 0, "erase is idempotent")
        self.assertEqual(json.loads(self.helper("list").stdout), {"https://index.docker.io/v1/": "bob"})

    def test_store_precedes_the_families(self):
        env = self.env(DOCKER_USERNAME="from-env", DOCKER_PASSWORD=PASSWORD, DOCKER_REGISTRY="reg.example.com")
        self.assertEqual(json.loads(self.helper("get", "reg.example.com", env).stdout)["Username"], "from-env")
        self.helper("store", json.dumps({"ServerURL": "reg.example.com", "Username": "logged-in",
                                         "Secret": "stored-secret-1"}), env)
        self.assertEqual(json.loads(self.helper("get", "reg.example.com", env).stdout)["Username"], "logged-in")
        self.helper("erase", "reg.example.com", env)
        self.assertEqual(json.loads(self.helper("get", "reg.example.com", env).stdout)["Username"], "from-env")

    def test_damaged_store_is_reported_not_hidden(self):
        self.helper("store", json.dumps({"ServerURL": "reg.example.com", "Username": "u", "Secret": "s3cret-xyz"}))
        path = os.path.join(self.home, ".config", "dcgen", "credentials")
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            data[-1] ^= 1
            f.seek(0)
            f.write(data)
        p = self.helper("get", "reg.example.com")
        self.assertEqual(p.returncode, 1)
        self.assertNotEqual(p.stdout.strip(), NOT_FOUND)
        self.assertIn("credential store", p.stdout)
        self.assertIn("dcgen: error: ", p.stderr)

    def test_store_dir_and_xdg(self):
        store = os.path.join(self.dir, "elsewhere")
        env = self.env(DCGEN_STORE_DIR=store)
        self.assertEqual(self.helper("store", json.dumps({"ServerURL": "r.example", "Username": "u",
                                                          "Secret": "s3cret-1"}), env).returncode, 0)
        self.assertIn("credentials", os.listdir(store))
        env = self.env(XDG_CONFIG_HOME=os.path.join(self.dir, "xdg"))
        self.assertEqual(self.helper("store", json.dumps({"ServerURL": "r.example", "Username": "u",
                                                          "Secret": "s3cret-1"}), env).returncode, 0)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "xdg", "dcgen", "credentials")))
        # no HOME and no store directory: store says why, get still works
        env = peers.env(DOCKER_USERNAME="u", DOCKER_PASSWORD=PASSWORD, DOCKER_REGISTRY="r.example")
        p = self.helper("store", json.dumps({"ServerURL": "r.example", "Username": "u", "Secret": "x"}), env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("DCGEN_STORE_DIR", p.stdout)
        self.assertEqual(self.helper("get", "r.example", env).returncode, 0)


class EcrHosts(HelperCase):
    def setUp(self):
        super().setUp()
        self.srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(self.srv.close)
        self.secrets.append(self.srv.token_prefix)

    def ecr_env(self, **extra):
        base = dict(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="eu-west-1",
                    AWS_ENDPOINT_URL_ECR=self.srv.url, AWS_ENDPOINT_URL_ECR_PUBLIC=self.srv.url)
        base.update(extra)
        return self.env(**base)

    def test_every_kind_of_ecr_host(self):
        hosts = {
            ECR: ("123456789012", "us-east-1"),
            "210987654321.dkr.ecr.eu-central-1.amazonaws.com": ("210987654321", "eu-central-1"),
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com": ("123456789012", "us-gov-west-1"),
            "123456789012.dkr-ecr.ap-south-1.on.aws": ("123456789012", "ap-south-1"),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn": ("123456789012", "cn-north-1"),
            "public.ecr.aws": (None, "us-east-1"),
            "ecr-public.aws.com": (None, "us-east-1"),
        }
        for host, (account, region) in hosts.items():
            before = len(self.srv.requests)
            p = self.helper("get", host, self.ecr_env())
            self.assertEqual(p.returncode, 0, (host, p.stdout, p.stderr))
            got = json.loads(p.stdout)
            self.assertEqual(got["ServerURL"], host)
            self.assertEqual(got["Username"], "AWS")
            self.assertEqual(len(self.srv.requests), before + 1, host)
            target, service, signed_region, _ = self.srv.requests[-1]
            self.assertEqual(signed_region, region, host)
            if account:
                self.assertEqual(service, "ecr")
                self.assertEqual(got["Secret"], self.srv.token_for(account))
                self.assertIn(account, self.srv.bodies[-1].decode() if isinstance(self.srv.bodies[-1], bytes)
                              else self.srv.bodies[-1])
            else:
                self.assertEqual(service, "ecr-public")

    def test_get_is_served_from_the_cache(self):
        env = self.ecr_env()
        first = self.helper("get", ECR, env)
        self.assertEqual(first.returncode, 0, first.stdout + first.stderr)
        for _ in range(5):
            p = self.helper("get", ECR, env)
            self.assertEqual(p.stdout, first.stdout)
        self.assertEqual(len(self.srv.requests), 1)
        cache = os.path.join(self.home, ".cache", "dcgen")
        self.assertEqual(stat.S_IMODE(os.stat(cache).st_mode), 0o700)
        # DCGEN_CACHE_DIR and XDG_CACHE_HOME choose another
        self.helper("get", ECR, dict(env, XDG_CACHE_HOME=os.path.join(self.dir, "xdg")))
        self.assertTrue(os.path.isdir(os.path.join(self.dir, "xdg", "dcgen")))
        self.assertEqual(len(self.srv.requests), 2)

    def test_upstream_failure_is_said_not_swallowed(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}, script=["500"] * 20).start()
        self.addCleanup(srv.close)
        p = self.helper("get", ECR, self.ecr_env(AWS_ENDPOINT_URL_ECR=srv.url, DCGEN_TIMEOUT="5"))
        self.assertEqual(p.returncode, 1)
        self.assertNotEqual(p.stdout.strip(), NOT_FOUND)
        self.assertIn("500", p.stdout)
        self.assertTrue(p.stderr.startswith("dcgen: error: "), p.stderr)
        p = self.helper("get", ECR, self.ecr_env(AWS_SECRET_ACCESS_KEY="wrong/secret/value+0123456789"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("InvalidSignatureException", p.stdout + p.stderr)

    def test_configuration_error_is_said(self):
        p = self.helper("get", ECR, self.env(AWS_ACCESS_KEY_ID=KEY_ID))
        self.assertEqual(p.returncode, 1)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stdout)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)

    def test_store_works_where_ecr_login_says_not_implemented(self):
        """FRONTS.md 2.6 #1: `docker login` through the ECR helper fails."""
        creds = json.dumps({"ServerURL": "https://index.docker.io/v1/", "Username": "bob", "Secret": PASSWORD})
        ecr_login = shutil.which("docker-credential-ecr-login")
        self.assertTrue(ecr_login, "no docker-credential-ecr-login; run make deps")
        if ecr_login:
            p = subprocess.run([*NO_NET, ecr_login, "store"], input=creds, env=self.ecr_env(), capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 1)
            self.assertIn("not implemented", p.stdout)
            print(f"\n  ecr-login store: exit {p.returncode}, {p.stdout.strip()!r}", file=sys.stderr)
        p = self.helper("store", creds, self.ecr_env())
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(json.loads(self.helper("get", "https://index.docker.io/v1/", self.ecr_env()).stdout)
                         ["Username"], "bob")

    def test_errors_are_not_hidden_where_ecr_login_hides_them(self):
        """FRONTS.md 2.3: every failure of ecr-login's get is 'not found'."""
        env = self.ecr_env(AWS_SECRET_ACCESS_KEY="wrong/secret/value+0123456789", AWS_ECR_DISABLE_CACHE="1")
        ecr_login = shutil.which("docker-credential-ecr-login")
        self.assertTrue(ecr_login, "no docker-credential-ecr-login; run make deps")
        if ecr_login:
            # it only talks to AWS's own host names: run it where no packet can
            # leave (a network namespace with nothing but a down loopback)
            p = subprocess.run([*NO_NET, ecr_login, "get"], input=ECR, env=env, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(p.stdout.strip(), NOT_FOUND)
            print(f"\n  ecr-login get with a wrong key: {p.stdout.strip()!r}", file=sys.stderr)
        p = self.helper("get", ECR, env)
        self.assertEqual(p.returncode, 1)
        self.assertNotEqual(p.stdout.strip(), NOT_FOUND)

    def test_configure_docker_names_the_registries_of_the_ids(self):
        config = os.path.join(self.dir, "docker")
        env = self.ecr_env(DOCKER_CONFIG=config, AWS_ECR_REGISTRY_IDS="111111111111,222222222222",
                           PATH=f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        p = subprocess.run([peers.DCGEN, "configure-docker"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        hosts = ["111111111111.dkr.ecr.eu-west-1.amazonaws.com", "222222222222.dkr.ecr.eu-west-1.amazonaws.com"]
        self.assertEqual(sorted(p.stdout.split()), hosts)
        with open(os.path.join(config, "config.json")) as f:
            self.assertEqual(json.load(f), {"credHelpers": {h: "dcgen" for h in hosts}})
        self.assertEqual(stat.S_IMODE(os.stat(config).st_mode), 0o700)
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        # the helper's get: its cache entries are per registry (a host query),
        # so each host asks once, then never again
        before = len(self.srv.requests)
        del env["AWS_ECR_REGISTRY_IDS"]
        for h in hosts:
            self.assertEqual(json.loads(self.helper("get", h, env).stdout)["Username"], "AWS")
        self.assertEqual(len(self.srv.requests), before + 2, "one per host: the helper asks per registry")
        for h in hosts:
            self.helper("get", h, env)
        self.assertEqual(len(self.srv.requests), before + 2)
        # a configuration error says what to fix and leaves the file alone
        p = subprocess.run([peers.DCGEN, "configure-docker"], env=dict(env, AWS_SECRET_ACCESS_KEY=""),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)

    def test_look_alikes_are_not_mine_and_ask_nobody(self):
        for host in ("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com", "123456789012.dkr.ecr.us-east-1.co",
                     "12345678901.dkr.ecr.us-east-1.amazonaws.com", "x.public.ecr.aws", "ecr.aws",
                     "123456789012.dkr.ecr..amazonaws.com", "gcr.io", "myreg.azurecr.io"):
            p = self.helper("get", host, self.ecr_env())
            self.assertEqual((p.returncode, p.stdout, p.stderr), (1, NOT_FOUND + "\n", ""), host)
        self.assertEqual(self.srv.requests, [])


class GoogleAndAzure(HelperCase):
    """gcr and acr answer through the helper as the generator writes them."""

    def test_gcr_and_artifact_registry(self):
        sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
        from google_server import GoogleServer
        srv = GoogleServer().start()
        self.addCleanup(srv.close)
        key = srv.add_account("helper@dcgen-test.iam.gserviceaccount.com", "dcgen-test")
        self.secrets += [key["private_key"], srv.token]
        env = self.env(GOOGLE_AUTH_JSON=json.dumps(key))
        for host in ("gcr.io", "eu.gcr.io", "europe-west1-docker.pkg.dev"):
            p = self.helper("get", host, env)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(json.loads(p.stdout), {"ServerURL": host, "Username": "oauth2accesstoken",
                                                    "Secret": srv.token})
        self.assertEqual(len(srv.requests), 3, "one grant per host, each cached")
        self.helper("get", "gcr.io", env)
        self.assertEqual(len(srv.requests), 3)
        self.assertEqual(self.helper("get", "evilgcr.io", env).stdout.strip(), NOT_FOUND)

    def test_acr_service_principal(self):
        sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
        from azure_server import NULL_USER, AadServer, AcrServer
        tenant, client, secret = "5f3a1c2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e", \
            "Q8~x+y/z=w&v%u?t#s s.dcgen-helper"
        aad = AadServer(tenant, {client: secret}, {}).start()
        self.addCleanup(aad.close)
        acr = AcrServer(tenant, aad.public_key).start()
        self.addCleanup(acr.close)
        self.secrets.append(secret)
        env = self.env(AZURE_REGISTRY=acr.url, AZURE_AUTHORITY_HOST=aad.url, AZURE_CLIENT_ID=client,
                       AZURE_TENANT_ID=tenant, AZURE_CLIENT_SECRET=secret)
        p = self.helper("get", acr.host, env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # the decided form: the null user and the refresh token as the password
        self.assertEqual(json.loads(p.stdout), {"ServerURL": acr.host, "Username": NULL_USER,
                                                "Secret": acr.refresh_token})
        self.assertEqual(self.helper("get", acr.host, env).stdout, p.stdout)
        self.assertEqual(len(acr.requests), 1)


if __name__ == "__main__":
    peers.main()
