"""The FROM-scratch generator images on a real Docker engine.

A private dockerd (engine.py: --bridge=none, no iptables) builds the images
offline with scripts/image.sh (what `make image` runs) from this build's static
binary, then runs them per the generator contract,
`docker run --rm -v DIR:/opt/data -e ... dcgen/<provider> /opt/data/FILE`,
with --network host (peers on 127.0.0.1) or --network none:

- the ecr image writes a dockercfg from moto (signatures checked), and the
  docker CLI pushes an image to a docker-registry (htpasswd) with it;
- the docker (static provider) image writes a file the registry accepts as is;
- a failing generator exits non-zero, says why in the container's log, and
  leaves nothing in the volume;
- the cache in a host volume makes the second container run call nobody;
- the static binary resolves names through /etc/hosts and DNS with no libc in
  the image, and verifies TLS with the baked CA bundle or SSL_CERT_FILE.

When the engine cannot start, or this build is not static, the test says so
loudly and exits 77: CTest counts it as skipped, never as passed.
"""
import base64
import json
import re
import os
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest
import urllib.request

import engine
import peers
from peers import ACCOUNT

sys.path.insert(0, os.path.join(peers.HERE, "..", "peers"))
from aws_json_server import AwsJsonServer  # noqa: E402

ROOT = os.path.abspath(os.path.join(peers.HERE, "..", ".."))
BUILD_DIR = os.environ.get("DCGEN_BUILD_DIR") or os.path.dirname(os.path.abspath(peers.DCGEN))
PROVIDERS = ("ecr", "gcr", "acr", "docker", "heroku", "ibm")
ECR_HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
MOTO_TOKEN = f"{ACCOUNT}-auth-token"  # moto's fixed ECR password for user AWS
LOCAL_KEY = ("AKIAIMAGETESTKEY0001", "image/test+secret0123456789abcdefghijklm")
MAX_IMAGE = 8 * 1024 * 1024

ENGINE = None


def elf_interpreter(data):
    """True when the ELF image in `data` asks for a program interpreter (is dynamic)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError("not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return any(struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 3 for i in range(phnum))


def help_text():
    return subprocess.run([peers.DCGEN, "--help"], capture_output=True, text=True, timeout=10).stdout


def setUpModule():
    global ENGINE
    peers.need("moto_server", "docker-registry", "htpasswd", "openssl")
    if os.environ.get("DCGEN_STATIC") == "0":
        engine.loud_skip("this build is dynamic (DCGEN_STATIC=0); images need the static binary (make)")
    with open(peers.DCGEN, "rb") as f:
        if elf_interpreter(f.read()):
            engine.loud_skip(f"{peers.DCGEN} is linked dynamically; images need the static binary (make)")
    ENGINE = engine.Engine.start_or_skip()
    print(f"engine: dockerd {ENGINE.version} at {ENGINE.host}", file=sys.stderr)
    try:
        p = subprocess.run(["sh", os.path.join(ROOT, "scripts", "image.sh"), BUILD_DIR],
                           env=ENGINE.env(DOCKER=ENGINE.client), capture_output=True, text=True,
                           timeout=300)
        sys.stderr.write(p.stdout + p.stderr)
        if p.returncode != 0:
            raise RuntimeError(f"scripts/image.sh failed ({p.returncode}):\n{p.stderr}\n{ENGINE.log_tail()}")
    except BaseException:
        ENGINE.close()
        raise


def tearDownModule():
    if ENGINE:
        ENGINE.close()


class ImageTest(unittest.TestCase):
    def volume(self):
        d = tempfile.mkdtemp(prefix="dcgen-vol-")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def run_image(self, image, args=(), env=None, network="host", mounts=(), extra=(), secrets=(),
                  rm=True, name=None):
        """docker run IMAGE ARGS; env values travel in the client's environment
        (`-e NAME`), never in argv. Fails the test if a secret shows in the output."""
        cmd = ["run", "--network", network]
        if rm:
            cmd.append("--rm")
        if name:
            cmd += ["--name", name]
        for host, target in mounts:
            cmd += ["-v", f"{host}:{target}"]
        for k in (env or {}):
            cmd += ["-e", k]
        cmd += list(extra) + [image] + list(args)
        p = ENGINE.docker(*cmd, env=env, timeout=120)
        for s in secrets:
            if s and (s in p.stdout or s in p.stderr):
                self.fail(f"a secret appeared in the container's output:\n{p.stderr}")
        return p

    def read_cfg(self, path):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with open(path) as f:
            return json.load(f)


class Images(ImageTest):
    def inspect(self, ref):
        p = ENGINE.docker("image", "inspect", ref)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)[0]

    def test_scratch_image_is_the_binary_and_a_ca_bundle(self):
        info = self.inspect("dcgen:latest")
        print(f"dcgen:latest is {info['Size']} bytes ({info['Size'] / 1048576:.2f} MiB)", file=sys.stderr)
        self.assertLess(info["Size"], MAX_IMAGE)
        self.assertEqual(info["Config"]["Entrypoint"], ["/usr/bin/dcgen"])
        env = info["Config"]["Env"] or []
        self.assertIn("SSL_CERT_DIR=/etc/ssl/certs", env)
        self.assertFalse([e for e in env if e.startswith("DCGEN_PROVIDER=")])
        files = {}
        with tempfile.TemporaryFile() as raw:
            p = subprocess.run([ENGINE.client, "save", "dcgen:latest"], env=ENGINE.env(), stdout=raw,
                               stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            raw.seek(0)
            with tarfile.open(fileobj=raw) as outer:
                for member in outer.getmembers():
                    if member.name.endswith("layer.tar"):
                        with tarfile.open(fileobj=outer.extractfile(member)) as layer:
                            for m in layer.getmembers():
                                if not m.isdir():
                                    files[m.name] = layer.extractfile(m).read() if m.isfile() else None
        # the binary, the bundle, and the same certificates as a hashed directory
        hashed = [f for f in files if re.fullmatch(r"etc/ssl/certs/[0-9a-f]{8}\.[0-9]+", f)]
        self.assertGreater(len(hashed), 50)
        self.assertEqual(sorted(set(files) - set(hashed)), ["etc/ssl/certs/ca-certificates.crt", "usr/bin/dcgen",
                                                           "usr/bin/dcgen-kubelet-provider",
                                                           "usr/bin/docker-credential-dcgen"])
        self.assertIsNone(files["usr/bin/docker-credential-dcgen"], "a link to dcgen, not a copy")
        for entry, args, want in (("/usr/bin/docker-credential-dcgen", ["version"], "docker-credential-dcgen (dcgen)"),
                                  ("/usr/bin/dcgen-kubelet-provider", ["--help"], "CredentialProviderRequest")):
            p = ENGINE.docker("run", "--rm", "--network", "none", "--entrypoint", entry, "dcgen:latest", *args)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(want, p.stdout)
        self.assertIn(b"-----BEGIN CERTIFICATE-----", files[hashed[0]])
        self.assertFalse(elf_interpreter(files["usr/bin/dcgen"]), "the image's dcgen is not static")
        self.assertIn(b"-----BEGIN CERTIFICATE-----", files["etc/ssl/certs/ca-certificates.crt"])

    def test_provider_tags_share_the_layers_and_set_the_provider(self):
        base = self.inspect("dcgen:latest")
        for name in PROVIDERS:
            with self.subTest(provider=name):
                info = self.inspect(f"dcgen/{name}")
                self.assertEqual(info["RootFS"]["Layers"], base["RootFS"]["Layers"])
                self.assertEqual(info["Config"]["Entrypoint"], ["/usr/bin/dcgen"])
                self.assertIn(f"DCGEN_PROVIDER={name}", info["Config"]["Env"])

    def test_runs_with_no_network_and_keeps_exit_codes(self):
        p = self.run_image("dcgen/ecr", ["--version"], network="none")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout + p.stderr, r"dcgen \d+\.\d+")
        p = self.run_image("dcgen/ecr", [], network="none")
        self.assertEqual(p.returncode, 2, p.stderr)        # usage: no PATH
        vol = self.volume()
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], network="none", mounts=[(vol, "/opt/data")],
                           env={"AWS_ACCESS_KEY_ID": "AKIANOTUSED000000000", "AWS_REGION": "us-east-1"})
        self.assertEqual(p.returncode, 2, p.stderr)        # usage: no secret
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)
        self.assertEqual(os.listdir(vol), [])


class WithMoto(ImageTest):
    @classmethod
    def setUpClass(cls):
        cls.moto = peers.Moto()
        cls.registry = peers.Registry({"AWS": MOTO_TOKEN})

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()
        cls.moto.close()

    def ecr_env(self, **extra):
        e = {"AWS_ACCESS_KEY_ID": self.moto.key_id, "AWS_SECRET_ACCESS_KEY": self.moto.secret,
             "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.moto.url}
        e.update(extra)
        return e

    def push(self, config_dir, repo):
        """Tag dcgen:latest for the registry and push it with `docker --config`."""
        ref = f"{self.registry.host}/{repo}"
        p = ENGINE.docker("tag", "dcgen:latest", ref)
        self.assertEqual(p.returncode, 0, p.stderr)
        return ENGINE.docker("--config", config_dir, "push", ref, timeout=180)

    def test_ecr_image_writes_dockercfg_that_docker_pushes_with(self):
        vol = self.volume()
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], env=self.ecr_env(),
                           mounts=[(vol, "/opt/data")], secrets=[self.moto.secret, MOTO_TOKEN])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(vol), ["dockercfg"])
        auths = self.read_cfg(os.path.join(vol, "dockercfg"))["auths"]
        self.assertEqual(list(auths), [ECR_HOST])
        entry = auths[ECR_HOST]
        self.assertEqual(peers.decode_auth(entry), ("AWS", MOTO_TOKEN))

        # the written entry, under the local registry's host instead of ECR's
        client = self.volume()
        with open(os.path.join(client, "config.json"), "w") as f:
            json.dump({"auths": {self.registry.host: entry}}, f)
        p = self.push(client, "app:1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        req = urllib.request.Request(
            f"http://{self.registry.host}/v2/app/manifests/1",
            headers={"Authorization": f"Basic {entry['auth']}",
                     "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.assertEqual(r.status, 200)

        # the same push with another password is refused: the check above can fail
        wrong = self.volume()
        with open(os.path.join(wrong, "config.json"), "w") as f:
            json.dump({"auths": {self.registry.host: {
                "auth": base64.b64encode(b"AWS:wrong-token").decode()}}}, f)
        p = self.push(wrong, "app:2")
        self.assertNotEqual(p.returncode, 0, p.stdout)

    def test_failing_generator_says_why_and_leaves_no_file(self):
        vol = self.volume()
        name = f"dcgen-test-fail-{os.getpid()}"
        wrong = "wrong/secret+0123456789abcdefghijklmnopq"
        self.addCleanup(ENGINE.docker, "rm", "-f", name)
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], rm=False, name=name,
                           env=self.ecr_env(AWS_SECRET_ACCESS_KEY=wrong), mounts=[(vol, "/opt/data")],
                           secrets=[wrong, self.moto.secret])
        self.assertEqual(p.returncode, 1, p.stderr)
        state = ENGINE.docker("inspect", "--format", "{{.State.ExitCode}}", name)
        self.assertEqual(state.stdout.strip(), "1")
        logs = ENGINE.docker("logs", name)
        self.assertEqual(logs.returncode, 0, logs.stderr)
        log = logs.stdout + logs.stderr
        self.assertIn("SignatureDoesNotMatch", log)
        self.assertIn("AWS_SECRET_ACCESS_KEY", log)            # the remedy
        self.assertNotIn(wrong, log)
        self.assertEqual(os.listdir(vol), [])                  # nothing, not even a temp file

        # an existing file in the volume is left exactly as it was
        path = os.path.join(vol, "dockercfg")
        with open(path, "w") as f:
            f.write('{"auths": {}}\n')
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], env=self.ecr_env(AWS_SECRET_ACCESS_KEY=wrong),
                           mounts=[(vol, "/opt/data")], secrets=[wrong])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(os.listdir(vol), ["dockercfg"])
        with open(path) as f:
            self.assertEqual(f.read(), '{"auths": {}}\n')


class StaticProvider(ImageTest):
    USER, PASSWORD = "ci-bot", "static/password+0123456789"

    @classmethod
    def setUpClass(cls):
        # a provider missing from --help is a regression, never a reason to skip
        text = help_text()
        if not any(line.split()[:1] == ["docker"] for line in text.splitlines()):
            raise AssertionError(f"'dcgen --help' lists no 'docker' provider:\n{text}")
        cls.registry = peers.Registry({cls.USER: cls.PASSWORD})

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()

    def test_docker_image_writes_a_file_the_registry_accepts(self):
        vol = self.volume()
        env = {"DOCKER_USERNAME": self.USER, "DOCKER_PASSWORD": self.PASSWORD,
               "DOCKER_REGISTRY": f"http://{self.registry.host}"}
        # no network: the static provider calls nobody
        p = self.run_image("dcgen/docker", ["/opt/data/config.json"], env=env, network="none",
                           mounts=[(vol, "/opt/data")], secrets=[self.PASSWORD])
        self.assertEqual(p.returncode, 0, p.stderr)
        auths = self.read_cfg(os.path.join(vol, "config.json"))["auths"]
        self.assertEqual(list(auths), [self.registry.host])
        ref = f"{self.registry.host}/static:1"
        self.assertEqual(ENGINE.docker("tag", "dcgen:latest", ref).returncode, 0)
        p = ENGINE.docker("--config", vol, "push", ref, timeout=180)   # the file exactly as written
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


class Cache(ImageTest):
    @classmethod
    def setUpClass(cls):
        text = help_text()
        if "DCGEN_CACHE_DIR" not in text and "cache" not in text:
            raise AssertionError(f"'dcgen --help' mentions no cache (DCGEN_CACHE_DIR):\n{text}")

    def test_second_container_run_makes_no_upstream_call(self):
        srv = AwsJsonServer({LOCAL_KEY[0]: (LOCAL_KEY[1], None)}).start()
        self.addCleanup(srv.close)
        cache = self.volume()
        os.chmod(cache, 0o700)
        env = {"AWS_ACCESS_KEY_ID": LOCAL_KEY[0], "AWS_SECRET_ACCESS_KEY": LOCAL_KEY[1],
               "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.url, "DCGEN_CACHE_DIR": "/cache"}
        token = srv.token_for(ACCOUNT)
        first, second = self.volume(), self.volume()
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], env=env,
                           mounts=[(first, "/opt/data"), (cache, "/cache")], secrets=[LOCAL_KEY[1], token])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(srv.count, 1)
        self.assertTrue(os.listdir(cache), "the first run left nothing in the cache volume")
        # a new container, a new output volume, no network at all: the cache answers
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], env=env, network="none",
                           mounts=[(second, "/opt/data"), (cache, "/cache")], secrets=[LOCAL_KEY[1], token])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(srv.count, 1)
        a = self.read_cfg(os.path.join(first, "dockercfg"))
        b = self.read_cfg(os.path.join(second, "dockercfg"))
        self.assertEqual(a, b)
        self.assertEqual(peers.decode_auth(b["auths"][ECR_HOST]), ("AWS", token))


class DnsServer:
    """A UDP DNS responder on 127.0.0.1:53: A records for `names` -> 127.0.0.1,
    an empty answer for their other types, REFUSED for every other name."""

    def __init__(self, names):
        self.names = {n.lower().rstrip(".") for n in names}
        self.queries = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.sock.settimeout(0.2)
        self.done = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.done:
            try:
                data, addr = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.sock.sendto(self._answer(data), addr)
            except (ValueError, struct.error, IndexError, OSError):
                pass

    def _answer(self, q):
        qid, _flags, qd = struct.unpack_from(">HHH", q, 0)
        if qd != 1:
            raise ValueError("one question expected")
        labels, i = [], 12
        while q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
            i += 1 + q[i]
        qtype, = struct.unpack_from(">H", q, i + 1)
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        if name not in self.names:
            return struct.pack(">HHHHHH", qid, 0x8185, 1, 0, 0, 0) + question      # REFUSED
        if qtype != 1:
            return struct.pack(">HHHHHH", qid, 0x8580, 1, 0, 0, 0) + question      # no such record
        answer = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        return struct.pack(">HHHHHH", qid, 0x8580, 1, 1, 0, 0) + question + answer

    def close(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()


class Resolution(ImageTest):
    """No libc, no NSS libraries in the image: the static glibc resolver still
    reads /etc/hosts (files) and asks DNS, in that order."""

    def setUp(self):
        self.srv = AwsJsonServer({LOCAL_KEY[0]: (LOCAL_KEY[1], None)}).start()
        self.addCleanup(self.srv.close)
        self.env = {"AWS_ACCESS_KEY_ID": LOCAL_KEY[0], "AWS_SECRET_ACCESS_KEY": LOCAL_KEY[1],
                    "AWS_REGION": "us-east-1"}
        try:
            self.dns = DnsServer(["ecr-dns.test"])
        except OSError as e:
            self.skipTest(f"SKIPPED: cannot serve DNS on 127.0.0.1:53 here ({e})")
        self.addCleanup(self.dns.close)
        conf = self.volume()
        self.resolv = os.path.join(conf, "resolv.conf")
        with open(self.resolv, "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")

    def generate(self, host, extra=()):
        vol = self.volume()
        env = dict(self.env, AWS_ENDPOINT_URL=f"http://{host}:{self.srv.port}")
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], env=env, extra=extra,
                           mounts=[(vol, "/opt/data"), (self.resolv, "/etc/resolv.conf:ro")],
                           secrets=[LOCAL_KEY[1]])
        return p, vol

    def test_etc_hosts_answers_first(self):
        p, vol = self.generate("ecr-hosts.test", ["--add-host", "ecr-hosts.test:127.0.0.1"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.srv.count, 1)
        self.assertEqual(os.listdir(vol), ["dockercfg"])
        self.assertFalse([q for q in self.dns.queries if q[0] == "ecr-hosts.test"], self.dns.queries)

    def test_dns_answers_names_not_in_hosts(self):
        p, vol = self.generate("ecr-dns.test")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.srv.count, 1)
        self.assertIn(("ecr-dns.test", 1), self.dns.queries)
        self.assertEqual(os.listdir(vol), ["dockercfg"])

    def test_unknown_name_is_a_clear_error(self):
        p, vol = self.generate("ecr-nowhere.test")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("resolve", p.stderr)
        self.assertEqual(os.listdir(vol), [])
        self.assertEqual(self.srv.count, 0)


class Tls(ImageTest):
    """TLS is verified against the CA bundle baked into the image; SSL_CERT_FILE
    overrides it. The endpoint's certificate comes from a CA made here."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="dcgen-tls-")
        d = cls.dir

        def ossl(*args):
            subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d, timeout=60)

        ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=dcgen test CA")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=ecr-tls.test")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:ecr-tls.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))
        cls.srv = AwsJsonServer({LOCAL_KEY[0]: (LOCAL_KEY[1], None)})
        cls.srv.httpd.socket = ctx.wrap_socket(cls.srv.httpd.socket, server_side=True)
        cls.srv.start()
        cls.ca = os.path.join(d, "ca.pem")

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def generate(self, mounts=(), **extra):
        vol = self.volume()
        env = {"AWS_ACCESS_KEY_ID": LOCAL_KEY[0], "AWS_SECRET_ACCESS_KEY": LOCAL_KEY[1],
               "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"https://ecr-tls.test:{self.srv.port}"}
        env.update(extra)
        p = self.run_image("dcgen/ecr", ["/opt/data/dockercfg"], env=env,
                           extra=["--add-host", "ecr-tls.test:127.0.0.1"],
                           mounts=[(vol, "/opt/data")] + list(mounts), secrets=[LOCAL_KEY[1]])
        return p, vol

    def test_baked_bundle_does_not_trust_a_private_ca(self):
        before = self.srv.count
        p, vol = self.generate()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("TLS", p.stderr)
        self.assertEqual(os.listdir(vol), [])
        self.assertEqual(self.srv.count, before)

    def test_ssl_cert_file_overrides_the_baked_bundle(self):
        p, vol = self.generate(mounts=[(self.ca, "/opt/ca/ca.pem:ro")], SSL_CERT_FILE="/opt/ca/ca.pem")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(vol), ["dockercfg"])

    def test_hashed_directory_in_ssl_cert_dir(self):
        # the image's own way: SSL_CERT_DIR, a hashed directory, no bundle read
        cadir = tempfile.mkdtemp(prefix="dcgen-cadir-")
        self.addCleanup(shutil.rmtree, cadir, True)
        h = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", self.ca], check=True,
                           capture_output=True, text=True).stdout.strip()
        shutil.copy(self.ca, os.path.join(cadir, f"{h}.0"))
        os.chmod(cadir, 0o755)
        p, vol = self.generate(mounts=[(cadir, "/opt/cadir:ro")], SSL_CERT_DIR="/opt/cadir")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(vol), ["dockercfg"])

    def test_bundle_at_the_baked_path_is_found_without_ssl_cert_file(self):
        # SSL_CERT_FILE and SSL_CERT_DIR empty count as unset: the binary's own default path is used
        p, vol = self.generate(mounts=[(self.ca, "/etc/ssl/certs/ca-certificates.crt:ro")], SSL_CERT_FILE="",
                               SSL_CERT_DIR="")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.listdir(vol), ["dockercfg"])


if __name__ == "__main__":
    peers.main()
