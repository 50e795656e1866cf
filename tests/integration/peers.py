"""Real peers for dcgen's integration tests, each on 127.0.0.1 only.

Moto      moto_server with signature checking on (INITIAL_NO_AUTH_ACTION_COUNT):
          the first requests create an IAM user, a role and an access key,
          every later request must be signed correctly.
Registry  Debian's docker-registry (distribution) with htpasswd auth.
run()     runs the real dcgen binary and checks that no secret leaks to its
          stdout or stderr.
env()     a clean environment for it: PATH and the given variables only.
DcgenCase a test case with an output directory and the checks on what dcgen
          wrote (or, when it failed, did not write).
"""
import base64
import calendar
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import unittest
import urllib.request

DCGEN = os.environ.get("DCGEN_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "dcgen")
ACCOUNT = "123456789012"  # moto's default account
HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} while starting")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s")


def stop(proc):
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def need(*commands):
    """Skip (exit 77 for CTest) when a peer program is missing."""
    missing = [c for c in commands if not shutil.which(c)]
    if missing:
        print(f"SKIPPED: missing {', '.join(missing)}; run 'make deps'", file=sys.stderr)
        sys.exit(77)


IAM_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken", "sts:AssumeRole"], "Resource": "*"}]})
TRUST_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/ci"}, "Action": "sts:AssumeRole"}]})
SETUP_CALLS = 6  # the unauthenticated requests Moto.start makes


class Moto:
    """moto_server with an IAM user (keys in .key_id/.secret) and a role .role."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="dcgen-moto-")
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(SETUP_CALLS),
                   AWS_ACCESS_KEY_ID="setup", AWS_SECRET_ACCESS_KEY="setup")
        self.log = open(os.path.join(self.dir, "moto.log"), "w")
        self.proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc, "moto_server")
            self._setup()
        except Exception:
            self.close()
            raise

    def _setup(self):
        import boto3
        kw = dict(endpoint_url=self.url, region_name="us-east-1",
                  aws_access_key_id="setup", aws_secret_access_key="setup")
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="ci")                                        # 1
        arn = iam.create_policy(PolicyName="ecr-pull",
                                PolicyDocument=IAM_POLICY)["Policy"]["Arn"]   # 2
        iam.attach_user_policy(UserName="ci", PolicyArn=arn)                  # 3
        iam.create_role(RoleName="ecr-reader",
                        AssumeRolePolicyDocument=TRUST_POLICY)                 # 4
        iam.attach_role_policy(RoleName="ecr-reader", PolicyArn=arn)          # 5
        key = iam.create_access_key(UserName="ci")["AccessKey"]               # 6
        self.key_id, self.secret = key["AccessKeyId"], key["SecretAccessKey"]
        self.role = "ecr-reader"

    def env(self, **extra):
        """A clean environment for dcgen against this moto."""
        return env({"AWS_ACCESS_KEY_ID": self.key_id, "AWS_SECRET_ACCESS_KEY": self.secret,
                    "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.url}, **extra)

    def close(self):
        stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Registry:
    """docker-registry on 127.0.0.1 with htpasswd users {user: password}."""

    def __init__(self, users):
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="dcgen-registry-")
        htpasswd = os.path.join(self.dir, "htpasswd")
        with open(htpasswd, "w") as f:
            for user, password in users.items():
                line = subprocess.run(["htpasswd", "-Bbn", "-C", "5", user, password], check=True,
                                      capture_output=True, text=True).stdout.strip()
                f.write(line + "\n")
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write(f"""version: 0.1
log: {{level: error}}
storage:
  filesystem: {{rootdirectory: {self.dir}/data}}
http:
  addr: 127.0.0.1:{self.port}
  secret: dcgen-test-http-secret
auth:
  htpasswd: {{realm: dcgen-test, path: {htpasswd}}}
""")
        self.log = open(os.path.join(self.dir, "registry.log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", config],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc, "docker-registry")
        except Exception:
            self.close()
            raise

    def v2_status(self, auth_b64):
        """What GET /v2/ answers with this config.json 'auth' value."""
        req = urllib.request.Request(f"http://{self.host}/v2/",
                                     headers={"Authorization": f"Basic {auth_b64}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def close(self):
        stop(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def oci_layout(path):
    """A one-layer OCI image layout skopeo can push (made here, no download)."""
    os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(path, "blobs", "sha256", d), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + d, "size": len(data)}

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo("hello.txt")
        content = b"pushed with credentials from dcgen\n"
        info.size = len(content)
        t.addfile(info, io.BytesIO(content))
    layer = blob(raw.getvalue())
    config = blob(json.dumps({"architecture": "amd64", "os": "linux",
                              "rootfs": {"type": "layers",
                                         "diff_ids": [layer["digest"]]}}).encode())
    manifest = blob(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")]}).encode())
    with open(os.path.join(path, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(path, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [
            dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
                 annotations={"org.opencontainers.image.ref.name": "1"})]}, f)


def skopeo_push(authfile, registry_host, repo="app:1"):
    """Push a small image with skopeo using `authfile`; returns the CompletedProcess."""
    with tempfile.TemporaryDirectory() as d:
        oci_layout(os.path.join(d, "img"))
        return subprocess.run(
            ["skopeo", "copy", "--dest-tls-verify=false", "--dest-authfile", authfile,
             f"oci:{d}/img:1", f"docker://{registry_host}/{repo}"],
            capture_output=True, text=True, timeout=120)


def make_tls(directory, ip="127.0.0.1", dns=None):
    """A throwaway CA and a server certificate for `ip` (or the host name
    `dns`), made with openssl. Returns (ca.pem, server.pem, server.key)."""
    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)
    ca_key, ca = f"{directory}/ca.key", f"{directory}/ca.pem"
    key, csr, crt = f"{directory}/server.key", f"{directory}/server.csr", f"{directory}/server.pem"
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=dcgen test CA")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", key, "-out", csr, "-subj", f"/CN={dns or ip}")
    with open(f"{directory}/ext.cnf", "w") as f:
        f.write(f"subjectAltName=DNS:{dns}\n" if dns else f"subjectAltName=IP:{ip}\n")
    sh("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
       "-out", crt, "-days", "2", "-extfile", f"{directory}/ext.cnf")
    return ca, crt, key


def env(base=(), **extra):
    """A clean environment for dcgen: PATH, the variables of `base`, then those
    of `extra`, where a value of None removes the variable. The cloud metadata
    services are off (or on this machine's discard address) unless a test
    turns them on: nothing may probe 169.254.169.254 from here."""
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_EC2_METADATA_DISABLED": "true",
         "AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9"}
    e.update(base)
    for k, v in extra.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def expiry_of(stderr):
    """The expiry dcgen reports on its success line, as a Unix time (None if none)."""
    m = re.search(r"expires (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", stderr)
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ")) if m else None


def decode_auth(entry):
    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
    return user, password


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds


def run(args, env, secrets=(), timeout=60):
    """Run dcgen; fail the calling test if any of `secrets` shows in its output.
    Whatever environment a test builds, the cloud metadata services stay off
    this machine's network unless the test points them somewhere itself."""
    env = dict(env)
    if "AWS_EC2_METADATA_SERVICE_ENDPOINT" not in env:
        env.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    if "IDENTITY_ENDPOINT" not in env:
        env.setdefault("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9")
    start = time.monotonic()
    p = subprocess.run([DCGEN] + list(args), env=env, capture_output=True, text=True, timeout=timeout)
    r = Result(p.returncode, p.stdout, p.stderr, time.monotonic() - start)
    for s in secrets:
        if s and (s in r.out or s in r.err):
            raise AssertionError(f"a secret appeared in dcgen's output:\n{r.err}")
    return r


class DcgenCase(unittest.TestCase):
    """dcgen writes .path into .out, a directory of its own (inside .dir, a
    scratch directory for the test's other files; both go after the test)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-out-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.out = os.path.join(self.dir, "out")
        os.mkdir(self.out)
        self.path = os.path.join(self.out, "dockercfg")

    def read(self):
        with open(self.path) as f:
            return json.load(f)

    def assert_failed_cleanly(self, r, rc, *texts):
        """Exit `rc`, one line of error naming each of `texts`, nothing written."""
        self.assertEqual(r.rc, rc, r.err)
        for t in texts:
            self.assertIn(t, r.err)
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)
        self.assertTrue(r.err.startswith("dcgen: error: "), r.err)
        self.assertEqual(os.listdir(self.out), [])


SKIP = 77  # CTest's SKIP_RETURN_CODE: reported as skipped, never as passed


def main():
    """Run the module's tests: exit 1 when any failed or errored (or none ran),
    else 77 when any was skipped (CTest shows it as skipped, and make test and
    CI fail on it: a skip means a class of tests did not run), else 0."""
    prog = unittest.main(verbosity=2, exit=False)
    r = prog.result
    if not r.wasSuccessful() or r.testsRun == 0:
        if r.testsRun == 0:
            print("FAILED: no test ran", file=sys.stderr)
        sys.exit(1)
    if r.skipped:
        bar = "=" * 72
        print(f"\n{bar}\nSKIPPED {len(r.skipped)} of {r.testsRun} tests; they did NOT run and are not passed:",
              file=sys.stderr)
        for test, reason in r.skipped:
            print(f"  {test.id()}: {reason}", file=sys.stderr)
        print(bar, file=sys.stderr, flush=True)
        sys.exit(SKIP)
    sys.exit(0)
