"""docker-credential-dcgen driven by the real docker CLI against a private
engine (engine.py: --bridge=none) and a local docker-registry with htpasswd:
push and pull with only credHelpers or credsStore in a private config dir,
`docker login` storing through the helper then pushing, `dcgen
configure-docker` keeping the rest of config.json, a broken configuration
that docker shows instead of pulling anonymously, and the k8s-secret and env
outputs as docker reads them.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import engine
import peers

USER, PASSWORD = "ci", "registry-pässword-0123"
ENGINE = REGISTRY = None
IMAGE_DIR = None


def setUpModule():
    global ENGINE, REGISTRY, IMAGE_DIR
    peers.need("docker-registry", "htpasswd")
    ENGINE = engine.Engine.start_or_skip()
    try:
        REGISTRY = peers.Registry({USER: PASSWORD})
        IMAGE_DIR = tempfile.mkdtemp(prefix="dcgen-helper-img-")
        with open(os.path.join(IMAGE_DIR, "hello.txt"), "w") as f:
            f.write("pushed through docker-credential-dcgen\n")
        with open(os.path.join(IMAGE_DIR, "Dockerfile"), "w") as f:
            f.write("FROM scratch\nCOPY hello.txt /\n")
        p = ENGINE.docker("build", "--network", "none", "-q", "-t", "dcgen-helper-test:1", IMAGE_DIR)
        if p.returncode:
            raise RuntimeError(f"docker build failed: {p.stderr}")
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if REGISTRY:
        REGISTRY.close()
    if ENGINE:
        ENGINE.close()
    if IMAGE_DIR:
        shutil.rmtree(IMAGE_DIR, ignore_errors=True)


class DiscoveryStub:
    """Just enough of the API server's discovery for kubectl to know a Secret."""
    DOCS = {"/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
            "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
            "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}}

    def __init__(self):
        import http.server
        import threading
        docs = self.DOCS

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                body = json.dumps(docs.get(path, {})).encode()
                self.send_response(200 if path in docs else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass
        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class DockerCli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-helper-docker-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        os.symlink(os.path.abspath(peers.DCGEN), os.path.join(self.bin, "docker-credential-dcgen"))
        self.config = os.path.join(self.dir, "docker")
        os.mkdir(self.config, 0o700)
        self.home = os.path.join(self.dir, "home")
        os.mkdir(self.home)
        self.n = 0

    def cli_env(self, **extra):
        e = {"PATH": f"{self.bin}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": self.home,
             "DOCKER_CONFIG": self.config}
        e.update(extra)
        return e

    def write_config(self, doc):
        with open(os.path.join(self.config, "config.json"), "w") as f:
            json.dump(doc, f)

    def read_config(self):
        with open(os.path.join(self.config, "config.json")) as f:
            return json.load(f)

    def docker(self, *args, env=None, input=None):
        p = ENGINE.docker(*args, env=env or self.cli_env(), input=input, timeout=180)
        for where in (p.stdout, p.stderr):
            self.assertNotIn(PASSWORD, where)
        return p

    def push(self, env=None):
        """Tag the test image with a fresh repository and push it."""
        self.n += 1
        ref = f"{REGISTRY.host}/t{os.getpid()}-{self._testMethodName[-20:].lower().strip('_')}-{self.n}:1"
        self.assertEqual(ENGINE.docker("tag", "dcgen-helper-test:1", ref).returncode, 0)
        self.addCleanup(ENGINE.docker, "rmi", "-f", ref)
        return ref, self.docker("push", ref, env=env)

    def test_cred_helpers_push_and_pull(self):
        self.write_config({"credHelpers": {REGISTRY.host: "dcgen"}})
        env = self.cli_env(DOCKER_USERNAME=USER, DOCKER_PASSWORD=PASSWORD, DOCKER_REGISTRY=REGISTRY.host)
        ref, p = self.push(env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(ENGINE.docker("rmi", ref).returncode, 0)
        p = self.docker("pull", ref, env=env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # the control: the same push with nobody's credentials is refused
        ref, p = self.push(self.cli_env())
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertRegex(p.stderr + p.stdout, "(?i)no basic auth credentials|unauthorized")

    def test_creds_store_push(self):
        self.write_config({"credsStore": "dcgen"})
        env = self.cli_env(DOCKER_USERNAME=USER, DOCKER_PASSWORD=PASSWORD, DOCKER_REGISTRY=REGISTRY.host)
        ref, p = self.push(env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_login_through_the_helper_then_push_and_logout(self):
        self.write_config({"credsStore": "dcgen", "psFormat": "table {{.ID}}"})
        p = self.docker("login", "-u", USER, "--password-stdin", REGISTRY.host, input=PASSWORD)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        cfg = self.read_config()
        self.assertEqual(cfg["credsStore"], "dcgen")
        self.assertEqual(cfg["psFormat"], "table {{.ID}}")
        self.assertNotIn("auth", cfg.get("auths", {}).get(REGISTRY.host, {}))
        store = os.path.join(self.home, ".config", "dcgen")
        for name in os.listdir(store):
            with open(os.path.join(store, name), "rb") as f:
                self.assertNotIn(PASSWORD.encode(), f.read())
        ref, p = self.push()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.docker("logout", REGISTRY.host)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        ref, p = self.push()
        self.assertNotEqual(p.returncode, 0, "logged out, so the push is anonymous and refused")

    def test_configure_docker_keeps_the_rest_then_push(self):
        before = {"auths": {"other.example.com": {"auth": base64.b64encode(b"x:y").decode()}},
                  "credHelpers": {"gcr.io": "gcloud"}, "psFormat": "table {{.ID}}",
                  "proxies": {"default": {"noProxy": "127.0.0.1"}}, "experimental": "enabled",
                  "plugins": {"x": {"n": 1.5, "list": [1, "two", None, True]}}}
        self.write_config(before)
        env = self.cli_env(DOCKER_USERNAME=USER, DOCKER_PASSWORD=PASSWORD, DOCKER_REGISTRY=REGISTRY.host)
        p = subprocess.run([peers.DCGEN, "configure-docker"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, REGISTRY.host + "\n")
        self.assertNotIn("not on PATH", p.stderr)
        after = self.read_config()
        want = json.loads(json.dumps(before))
        want["credHelpers"][REGISTRY.host] = "dcgen"
        self.assertEqual(after, want)
        self.assertEqual(list(after), list(before), "key order kept")
        self.assertEqual(os.stat(os.path.join(self.config, "config.json")).st_mode & 0o777, 0o600)
        ref, p = self.push(env)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # again: nothing changes
        mtime = os.stat(os.path.join(self.config, "config.json")).st_mtime_ns
        p = subprocess.run([peers.DCGEN, "configure-docker"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("already had", p.stderr)
        self.assertEqual(os.stat(os.path.join(self.config, "config.json")).st_mtime_ns, mtime)
        # --creds-store and --hosts
        p = subprocess.run([peers.DCGEN, "configure-docker", "--creds-store"], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.read_config()["credsStore"], "dcgen")
        hosts = ",".join(f"{i}23456789012.dkr.ecr.us-east-1.amazonaws.com" for i in range(1, 10)) + \
            ",docker.io,https://reg.example.com:5000/v2/,gcr.io,us.gcr.io"
        p = subprocess.run([peers.DCGEN, "configure-docker", "--hosts", hosts], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        helpers = self.read_config()["credHelpers"]
        self.assertEqual(helpers["gcr.io"], "dcgen")
        self.assertIn("replaced another helper (gcr.io: gcloud)", p.stderr)
        self.assertEqual(helpers["https://index.docker.io/v1/"], "dcgen")
        self.assertEqual(helpers["reg.example.com:5000"], "dcgen")
        self.assertIn("slows", p.stderr, "a long list is warned about, as docker-credential-gcr does")
        # a config.json that is not JSON is left alone
        with open(os.path.join(self.config, "config.json"), "w") as f:
            f.write("{not json")
        p = subprocess.run([peers.DCGEN, "configure-docker", "--creds-store"], env=env, capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        with open(os.path.join(self.config, "config.json")) as f:
            self.assertEqual(f.read(), "{not json")

    def test_docker_shows_what_failed(self):
        """not an anonymous pull: docker prints the helper's reason"""
        self.write_config({"credHelpers": {REGISTRY.host: "dcgen"}})
        env = self.cli_env(DOCKER_USERNAME=USER, DOCKER_REGISTRY=REGISTRY.host)  # no DOCKER_PASSWORD
        ref, p = self.push(env)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("DOCKER_PASSWORD is not set", p.stderr)
        said = [line for line in p.stderr.splitlines() if "DOCKER_PASSWORD" in line]
        print(f"\n  docker push showed: {said[0]}", file=sys.stderr)

    def run_format(self, fmt, *extra):
        env = peers.env(DOCKER_USERNAME=USER, DOCKER_PASSWORD=PASSWORD, DOCKER_REGISTRY=REGISTRY.host)
        out = os.path.join(self.dir, f"out.{fmt}")
        r = peers.run(["--format", fmt, *extra, out], env, [PASSWORD])
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(os.stat(out).st_mode & 0o777, 0o600)
        with open(out) as f:
            return f.read()

    def push_with_config_json(self, doc):
        d = os.path.join(self.dir, f"cfg{self.n}")
        os.mkdir(d)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(doc, f)
        return self.push(self.cli_env(DOCKER_CONFIG=d))

    def test_env_output_is_what_docker_reads(self):
        text = self.run_format("env")
        self.assertRegex(text, r"^DOCKER_AUTH_CONFIG='[^'\n]*'\n$")
        # a shell reads it back to the JSON
        value = subprocess.run(["sh", "-c", f'. "{self.dir}/out.env"; printf %s "$DOCKER_AUTH_CONFIG"'],
                               capture_output=True, text=True).stdout
        doc = json.loads(value)
        # docker CLI 28.3+ wants exactly {"auths": {HOST: {"auth": ...}}} (FRONTS.md 1.2)
        self.assertEqual(list(doc), ["auths"])
        self.assertEqual(list(doc["auths"]), [REGISTRY.host])
        self.assertEqual(list(doc["auths"][REGISTRY.host]), ["auth"])
        self.assertEqual(peers.decode_auth(doc["auths"][REGISTRY.host]), (USER, PASSWORD))
        cli = shutil.which("docker") or ENGINE.client
        version = subprocess.run([cli, "--version"], capture_output=True, text=True).stdout.strip()
        print(f"\n  {version}: DOCKER_AUTH_CONFIG needs docker CLI 28.3+; checked as a config.json",
              file=sys.stderr)
        ref, p = self.push_with_config_json(doc)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_k8s_secret_output(self):
        import yaml
        text = self.run_format("k8s-secret", "--secret-name", "regcred", "--namespace", "ci")
        doc = yaml.safe_load(text)
        self.assertEqual(doc["apiVersion"], "v1")
        self.assertEqual(doc["kind"], "Secret")
        self.assertEqual(doc["type"], "kubernetes.io/dockerconfigjson")
        self.assertEqual(doc["metadata"]["name"], "regcred")
        self.assertEqual(doc["metadata"]["namespace"], "ci")
        self.assertEqual(list(doc["data"]), [".dockerconfigjson"])
        cfg = json.loads(base64.b64decode(doc["data"][".dockerconfigjson"], validate=True))
        self.assertEqual(peers.decode_auth(cfg["auths"][REGISTRY.host]), (USER, PASSWORD))
        kubectl = shutil.which("kubectl")
        self.assertTrue(kubectl, "no kubectl")
        # kubectl maps the kind through API discovery even for a client-side
        # dry run: a local discovery stub (127.0.0.1) that knows Secrets
        srv = DiscoveryStub()
        self.addCleanup(srv.close)
        kube = os.path.join(self.dir, "kubeconfig")
        with open(kube, "w") as f:
            f.write(f"apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{srv.url}'}}}}]\n"
                    "contexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n"
                    "current-context: c\n")
        p = subprocess.run([kubectl, "create", "--dry-run=client", "--validate=false", "-o", "json", "-f",
                            f"{self.dir}/out.k8s-secret"], env=peers.env(KUBECONFIG=kube, HOME=self.home),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["data"], doc["data"])
        ref, p = self.push_with_config_json(cfg)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)


if __name__ == "__main__":
    peers.main()
