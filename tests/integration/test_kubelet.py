"""dcgen as a kubelet image credential provider (FRONTS.md section 4).

No kubelet can be built here (FRONTS.md 4.6), so FakeKubelet does what the
kubelet's plugin runner does (kubernetes pkg/credentialprovider/plugin): it
matches the image against the provider's matchImages with URLsMatch, execs
binDir/name with the encoded request on stdin, its own environment plus the
config's env, a fixed 1 minute timeout, requires exit 0, decodes the response
strictly (unknown fields rejected), checks apiVersion and kind, parses
cacheDuration as a Go duration and keeps the Image/Registry/Global cache.
Requests and responses are built from the API types' fields (FRONTS.md 4.1).
The shipped example config (docs/kubelet) is checked against the hosts the
helper serves and the look-alikes it must not.
"""
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import peers

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

ROOT = os.path.normpath(os.path.join(peers.HERE, "..", ".."))
GROUP = "credentialprovider.kubelet.k8s.io"
KEY_ID, SECRET = "AKIADCGENKUBELET0001", "kubelet/test+secret/abcdefghijklmnopqrs"
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

# --- the API types (kubernetes/kubelet pkg/apis/credentialprovider/*/types.go) ---
REQUEST_FIELDS = {"v1": {"apiVersion", "kind", "image", "serviceAccountToken", "serviceAccountAnnotations"},
                  "v1beta1": {"apiVersion", "kind", "image"}, "v1alpha1": {"apiVersion", "kind", "image"}}
RESPONSE_FIELDS = {"apiVersion", "kind", "cacheKeyType", "cacheDuration", "auth"}
AUTH_FIELDS = {"username", "password"}
CACHE_KEY_TYPES = {"Image", "Registry", "Global"}


def go_duration(s):
    """Go's time.ParseDuration, in seconds; ValueError as Go would refuse."""
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    if s == "0":
        return 0.0
    m = re.fullmatch(r"([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|ms|s|m|h))+)", s)
    if not m:
        raise ValueError(f"time: invalid duration {s!r}")
    total = sum(float(v) * units[u] for v, u in re.findall(r"(\d+\.?\d*|\.\d+)(ns|us|µs|ms|s|m|h)", m.group(2)))
    return -total if m.group(1) == "-" else total


def strict_response(text):
    """Decode as the kubelet's strict codec does: unknown or duplicate fields
    and wrong types are errors."""
    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError(f"duplicate field in {keys}")
        return dict(pairs)
    doc = json.loads(text, object_pairs_hook=no_dups)
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    unknown = set(doc) - RESPONSE_FIELDS
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}")
    for k in ("apiVersion", "kind", "cacheKeyType"):
        if not isinstance(doc.get(k), str):
            raise ValueError(f"{k} missing or not a string")
    if "cacheDuration" in doc and doc["cacheDuration"] is not None:
        go_duration(doc["cacheDuration"])
    auth = doc.get("auth") or {}
    if not isinstance(auth, dict):
        raise ValueError("auth is not a map")
    for key, v in auth.items():
        if not isinstance(v, dict) or set(v) - AUTH_FIELDS:
            raise ValueError(f"auth[{key}] has unknown fields")
        if not all(isinstance(v.get(f, ""), str) for f in AUTH_FIELDS):
            raise ValueError(f"auth[{key}] fields are not strings")
    return doc


def split_url(u):
    """parseSchemelessURL: host[:port] and path of 'dummy://' + u."""
    host, _, path = u.partition("/")
    path = "/" + path if path else ""
    if host.startswith("["):
        h, _, port = host[1:].partition("]")
        return h, port.lstrip(":"), path
    h, _, port = host.partition(":") if host.count(":") == 1 else (host, "", "")
    return h, port, path


def urls_match(glob, target):
    """kubernetes pkg/credentialprovider/keyring.go URLsMatch."""
    gh, gp, gpath = split_url(glob)
    th, tp, tpath = split_url(target)
    if gp != tp:
        return False
    gparts, tparts = gh.split("."), th.split(".")
    if len(gparts) != len(tparts):
        return False
    # filepath.Match per label; no label holds a '/'
    if not all(fnmatch.fnmatchcase(t, g) for g, t in zip(gparts, tparts)):
        return False
    return tpath.startswith(gpath)


class FakeKubelet:
    """One provider of a CredentialProviderConfig, run as the kubelet runs it."""

    def __init__(self, bin_dir, provider, base_env):
        self.bin_dir, self.p, self.base_env = bin_dir, provider, base_env
        self.cache = {}  # key -> (expires at, auth)
        self.execs = 0

    def matches(self, image):
        return any(urls_match(m, image) for m in self.p["matchImages"])

    def provide(self, image, sa_token=None):
        """auth for `image` (the plugin's, or the cache's), or None when not matched."""
        if not self.matches(image):
            return None
        registry = image.split("/")[0]
        for key in (image, registry, "global"):
            hit = self.cache.get(key)
            if hit and hit[0] > time.time():
                return hit[1]
        req = {"apiVersion": self.p["apiVersion"], "kind": "CredentialProviderRequest", "image": image}
        if sa_token:
            req["serviceAccountToken"] = sa_token
        env = dict(self.base_env)
        for e in self.p.get("env", []):
            env[e["name"]] = e["value"]
        self.execs += 1
        r = subprocess.run([os.path.join(self.bin_dir, self.p["name"])] + self.p.get("args", []),
                           input=json.dumps(req), env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"error execing credential provider plugin {self.p['name']} for image {image}: "
                               f"exit status {r.returncode}: {r.stderr}")
        resp = strict_response(r.stdout)
        if resp["apiVersion"] != self.p["apiVersion"]:
            raise RuntimeError("apiVersion from credential plugin response did not match expected apiVersion")
        if resp["kind"] != "CredentialProviderResponse":
            raise RuntimeError(f"kind was {resp['kind']!r}")
        if resp["cacheKeyType"] not in CACHE_KEY_TYPES:
            raise RuntimeError(f"invalid cacheKeyType {resp['cacheKeyType']!r}")
        if resp.get("cacheDuration") is None:
            duration = go_duration(self.p["defaultCacheDuration"])
        else:
            duration = go_duration(resp["cacheDuration"])
        key = {"Image": image, "Registry": registry, "Global": "global"}[resp["cacheKeyType"]]
        auth = resp.get("auth") or {}
        if duration > 0:
            self.cache[key] = (time.time() + duration, auth)
        self.last = (r, resp)
        return auth


def load_config(name):
    with open(os.path.join(ROOT, "docs", "kubelet", name)) as f:
        if name.endswith(".json"):
            return json.load(f)
        import yaml
        return yaml.safe_load(f)


# hosts the helper serves (tests/unit/test_match.c, FRONTS.md 2.1, 3.1-3.3) and look-alikes
SERVED = [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
    "123456789012.dkr-ecr.us-east-1.on.aws", "123456789012.dkr-ecr-fips.us-east-2.on.aws",
    "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
    "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn",
    "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
    "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
    "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "public.ecr.aws", "ecr-public.aws.com",
    "gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io", "europe-west1-docker.pkg.dev", "us-docker.pkg.dev",
    "myreg.azurecr.io", "myreg.azurecr.cn", "myreg.azurecr.de", "myreg.azurecr.us",
]
NOT_SERVED = [
    "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com", "123456789012.dkr.ecr.us-east-1.notamazonaws.co",
    "ecr.aws", "public.ecr.aws.evil.com", "evilgcr.io", "gcr.io.evil.com", "a.b.gcr.io",
    "docker.pkg.dev", "x.azurecr.io.evil.com", "azurecr.io", "a.b.azurecr.io", "docker.io", "quay.io",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000",
]


class Kubelet(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-kubelet-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        os.symlink(os.path.abspath(peers.DCGEN), os.path.join(self.bin, "dcgen-kubelet-provider"))
        self.cache = os.path.join(self.dir, "cache")

    def provider(self, **over):
        p = dict(load_config("credential-provider-config.yaml")["providers"][0])
        p["env"] = [{"name": "DCGEN_CACHE_DIR", "value": self.cache}]
        p.update(over)
        return p

    def run_plugin(self, request, env, args=()):
        return subprocess.run([os.path.join(self.bin, "dcgen-kubelet-provider")] + list(args),
                              input=request if isinstance(request, str) else json.dumps(request),
                              env=env, capture_output=True, text=True, timeout=60)

    # -- golden requests and responses --------------------------------------

    def test_golden_static_registry_every_version(self):
        env = peers.env(DOCKER_USERNAME="ci", DOCKER_PASSWORD="pw-golden-1234",
                        DOCKER_REGISTRY="registry.example.com:5000", HOME=self.dir)
        for v in ("v1", "v1beta1", "v1alpha1"):
            req = {"apiVersion": f"{GROUP}/{v}", "kind": "CredentialProviderRequest",
                   "image": "registry.example.com:5000/team/app"}
            self.assertLessEqual(set(req), REQUEST_FIELDS[v])
            r = self.run_plugin(req, env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "")
            self.assertEqual(strict_response(r.stdout), {
                "apiVersion": f"{GROUP}/{v}", "kind": "CredentialProviderResponse", "cacheKeyType": "Registry",
                "cacheDuration": "0s",
                "auth": {"registry.example.com:5000": {"username": "ci", "password": "pw-golden-1234"}}})

    def test_v1_request_with_service_account_token(self):
        env = peers.env(DOCKER_USERNAME="ci", DOCKER_PASSWORD="pw-golden-1234",
                        DOCKER_REGISTRY="registry.example.com", HOME=self.dir)
        req = {"apiVersion": f"{GROUP}/v1", "kind": "CredentialProviderRequest", "image": "registry.example.com/a",
               "serviceAccountToken": "eyJhbGciOi.sa-token.sig",
               "serviceAccountAnnotations": {"example.com/role": "puller"}}
        r = self.run_plugin(req, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("sa-token", r.stdout + r.stderr)
        self.assertIn("registry.example.com", strict_response(r.stdout)["auth"])

    def test_image_no_family_serves(self):
        """as the cloud providers answer: no credentials, not cached"""
        env = peers.env(DOCKER_USERNAME="ci", DOCKER_PASSWORD="pw-golden-1234",
                        DOCKER_REGISTRY="registry.example.com", HOME=self.dir)
        r = self.run_plugin({"apiVersion": f"{GROUP}/v1", "kind": "CredentialProviderRequest",
                             "image": "quay.io/other/app"}, env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(strict_response(r.stdout), {
            "apiVersion": f"{GROUP}/v1", "kind": "CredentialProviderResponse", "cacheKeyType": "Registry",
            "cacheDuration": "0s", "auth": {}})

    def test_bad_requests(self):
        env = peers.env(HOME=self.dir)
        for req, text in ((f'{{"apiVersion":"{GROUP}/v2","kind":"CredentialProviderRequest","image":"a/b"}}', "apiVersion"),
                          (f'{{"apiVersion":"{GROUP}/v1","kind":"CredentialProviderResponse","image":"a/b"}}', "kind"),
                          (f'{{"apiVersion":"{GROUP}/v1","kind":"CredentialProviderRequest"}}', "image"),
                          ("not json", "JSON"), ("", "JSON")):
            r = self.run_plugin(req, env)
            self.assertEqual(r.returncode, 2, (req, r.stderr))
            self.assertEqual(r.stdout, "")
            self.assertIn(text, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        r = self.run_plugin("{}", env, args=["extra"])
        self.assertEqual(r.returncode, 2)

    # -- the fake kubelet, against a local ECR endpoint ------------------------

    def test_fake_kubelet_ecr(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}).start()
        self.addCleanup(srv.close)
        base = peers.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="eu-west-1",
                         AWS_ENDPOINT_URL_ECR=srv.url)
        k = FakeKubelet(self.bin, self.provider(), base)
        image = f"{ECR_HOST}/team/app"
        auth = k.provide(image)
        self.assertEqual(auth, {ECR_HOST: {"username": "AWS", "password": srv.token_for("123456789012")}})
        r, resp = k.last
        self.assertNotIn(SECRET, r.stderr)
        self.assertNotIn(srv.token_prefix, r.stderr)
        # half the token's remaining life (12 h): about 6 h, as the AWS plugin answers
        self.assertAlmostEqual(go_duration(resp["cacheDuration"]), 21600, delta=120)
        self.assertEqual(resp["cacheKeyType"], "Registry")
        self.assertTrue(urls_match(next(iter(auth)), image))
        # the kubelet's own cache answers the next pull of the registry
        self.assertEqual(k.provide(f"{ECR_HOST}/team/other"), auth)
        self.assertEqual(k.execs, 1)
        # a new kubelet (restart): the plugin answers from dcgen's cache, no request
        k2 = FakeKubelet(self.bin, self.provider(), base)
        self.assertEqual(k2.provide(image), auth)
        self.assertEqual(len(srv.requests), 1)
        print(f"\n  ecr via the fake kubelet: cacheDuration {resp['cacheDuration']}, "
              f"{len(srv.requests)} upstream request for 3 pulls and 2 kubelets", file=sys.stderr)

    def test_fake_kubelet_upstream_failure_is_reported(self):
        srv = AwsJsonServer({KEY_ID: (SECRET, None)}, script=["500"] * 10).start()
        self.addCleanup(srv.close)
        base = peers.env(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="eu-west-1",
                         AWS_ENDPOINT_URL_ECR=srv.url, DCGEN_TIMEOUT="5")
        k = FakeKubelet(self.bin, self.provider(), base)
        with self.assertRaises(RuntimeError) as cm:
            k.provide(f"{ECR_HOST}/team/app")
        self.assertIn("500", str(cm.exception))
        self.assertNotIn(SECRET, str(cm.exception))

    def test_fake_kubelet_skips_images_it_does_not_match(self):
        k = FakeKubelet(self.bin, self.provider(), peers.env())
        self.assertIsNone(k.provide("quay.io/a/b"))
        self.assertEqual(k.execs, 0)

    # -- the shipped configuration ---------------------------------------------

    def test_example_config_yaml_and_json_agree(self):
        y, j = load_config("credential-provider-config.yaml"), load_config("credential-provider-config.json")
        self.assertEqual(y, j)
        self.assertEqual(y["apiVersion"], "kubelet.config.k8s.io/v1")
        self.assertEqual(y["kind"], "CredentialProviderConfig")
        p = y["providers"][0]
        self.assertEqual(p["name"], "dcgen-kubelet-provider")
        self.assertEqual(p["apiVersion"], f"{GROUP}/v1")
        go_duration(p["defaultCacheDuration"])
        for m in p["matchImages"]:
            host = m.split("/")[0]
            self.assertNotIn("*", m.partition("/")[2], "a '*' only in the host (4.3)")
            self.assertNotIn("*", host.partition(":")[2])

    def test_example_config_covers_every_served_host(self):
        match = load_config("credential-provider-config.yaml")["providers"][0]["matchImages"]
        for host in SERVED:
            self.assertTrue(any(urls_match(m, f"{host}/team/app") for m in match), host)
        for host in NOT_SERVED:
            self.assertFalse(any(urls_match(m, f"{host}/team/app") for m in match), host)
        # the rule that makes the list long (4.3): no '*' spans a dot
        self.assertFalse(urls_match("*.dkr.ecr.*.amazonaws.com", "1.dkr.ecr.cn-north-1.amazonaws.com.cn/x"))
        self.assertFalse(urls_match("*.io", "a.k8s.io/x"))
        self.assertFalse(urls_match("host/*", "host/a"))

    def test_family_claims_served_hosts_only(self):
        """with an ECR configuration whose endpoint refuses connections, a host
        the family claims fails (the plugin says why) and a look-alike gets
        an empty auth at once: the family, not only the config, draws the line"""
        env = peers.env(HOME=self.dir, AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET,
                        AWS_REGION="us-east-1", AWS_ENDPOINT_URL="http://127.0.0.1:9",
                        DCGEN_TIMEOUT="2", DCGEN_CONNECT_TIMEOUT="1")
        for host in NOT_SERVED[:-1]:
            r = self.run_plugin({"apiVersion": f"{GROUP}/v1", "kind": "CredentialProviderRequest",
                                 "image": f"{host}/x"}, env)
            self.assertEqual(r.returncode, 0, (host, r.stderr))
            self.assertEqual(strict_response(r.stdout)["auth"], {}, host)
        for host in SERVED[:2] + ["public.ecr.aws"]:
            r = self.run_plugin({"apiVersion": f"{GROUP}/v1", "kind": "CredentialProviderRequest",
                                 "image": f"{host}/x"}, env)
            self.assertEqual(r.returncode, 1, (host, r.stdout))
            self.assertEqual(r.stdout, "")
            self.assertIn("127.0.0.1:9", r.stderr)
            self.assertNotIn(SECRET, r.stderr)


if __name__ == "__main__":
    peers.main()
