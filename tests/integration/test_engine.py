"""The Docker Engine API client and the dockercfg generator contract
(src/runner/engine.c, generator.c) against a real, private dockerd.

The engine (engine.py: --bridge=none, no iptables) listens on its unix socket
and on tcp://127.0.0.1 with TLS client-certificate verification (a CA, server
and client certificates made here with openssl). The library is driven by
dcgen-engine-driver (tests/helpers/engine_driver.c), built with this build;
when its libcurl has no unix sockets (the static one, before the build
change), every call goes over TLS instead. Containers run with --network none
or host: nothing leaves 127.0.0.1.

- builds FROM scratch with Debian's busybox-static, honouring .dockerignore
  (exceptions, '**'), the Dockerfile and .dockerignore always sent;
- runs containers with env, cmd, entrypoint, working dir and user, and gets
  their stdout and stderr demultiplexed, line by line, and the exit code;
- reads a file out of a stopped container through the archive API;
- runs dockercfg generators per the contract (a busybox script writing
  {"auths": ...} to its one argument, and dcgen's own static binary), pushes
  to and pulls from a docker-registry with htpasswd with the auth they gave,
  builds FROM a private image with their X-Registry-Config, and a push with a
  wrong password fails;
- kills a running container (a second kill is no error), waits for its exit
  code, reads its logs;
- a generator that exits 3, writes nothing, writes garbage or no entry for
  the registry fails with the matching one-line message;
- a file the generator made unreadable to a non-root runner is read through
  the engine; Ctrl-C in the middle of a generator run leaves no file;
- after each: the private directory is gone and no labelled container is left.
"""
import base64
import json
import os
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import engine
import peers

BUILD_DIR = os.environ.get("DCGEN_BUILD_DIR") or os.path.dirname(os.path.abspath(peers.DCGEN))
# integration/test_engine_san runs the same tests with the sanitized driver
DRIVER = os.environ.get("DCGEN_ENGINE_DRIVER") or os.path.join(BUILD_DIR, "dcgen-engine-driver")
BASE = "dcgen-test/busybox:1"
GEN = "dcgen-test/gen:1"

ENGINE = None
CERTS = None       # directory with ca.pem, cert.pem, key.pem (client)
TCP_PORT = None
USE_UNIX = True
SCRATCH = None


def elf_interpreter(path):
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path} is not a 64-bit ELF file")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return any(struct.unpack_from("<I", data, phoff + i * phentsize)[0] == 3 for i in range(phnum))


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    def sh(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)
    ca, _srv, _srv_key = peers.make_tls(d)
    client = os.path.join(d, "client")
    os.mkdir(client)
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", f"{client}/key.pem", "-out", f"{client}/c.csr", "-subj", "/CN=dcgen client")
    with open(f"{client}/ext.cnf", "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    sh("openssl", "x509", "-req", "-in", f"{client}/c.csr", "-CA", ca, "-CAkey", f"{d}/ca.key",
       "-CAcreateserial", "-out", f"{client}/cert.pem", "-days", "2", "-extfile", f"{client}/ext.cnf")
    shutil.copy(ca, f"{client}/ca.pem")
    return client


def driver_env(tmpdir=None, **extra):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": SCRATCH}
    if USE_UNIX:
        e["DOCKER_HOST"] = ENGINE.host
    else:
        e.update(DOCKER_HOST=f"tcp://127.0.0.1:{TCP_PORT}", DOCKER_TLS_VERIFY="1", DOCKER_CERT_PATH=CERTS)
    if tmpdir:
        e["TMPDIR"] = tmpdir
    e.update(extra)
    return e


def drive(*args, env=None, timeout=120, preexec_fn=None):
    return subprocess.run([DRIVER] + list(args), env=env or driver_env(), capture_output=True, text=True,
                          timeout=timeout, preexec_fn=preexec_fn)


def setUpModule():
    global ENGINE, CERTS, TCP_PORT, USE_UNIX, SCRATCH
    peers.need("docker-registry", "htpasswd", "openssl")
    if not os.access(DRIVER, os.X_OK):
        raise RuntimeError(f"no test driver at {DRIVER}; build the target dcgen-engine-driver")
    busybox = "/bin/busybox"
    if not os.path.exists(busybox) or elf_interpreter(busybox):
        raise RuntimeError("no static /bin/busybox; install Debian's busybox-static (make deps)")
    SCRATCH = tempfile.mkdtemp(prefix="dcgen-engine-test-")
    os.chmod(SCRATCH, 0o755)
    CERTS = make_certs(SCRATCH)
    TCP_PORT = peers.free_port()
    ENGINE = engine.Engine.start_or_skip(extra_args=[
        "-H", f"tcp://127.0.0.1:{TCP_PORT}", "--tlsverify", "--tlscacert", f"{SCRATCH}/ca.pem",
        "--tlscert", f"{SCRATCH}/server.pem", "--tlskey", f"{SCRATCH}/server.key"])
    print(f"engine: dockerd {ENGINE.version} at {ENGINE.host} and tcp://127.0.0.1:{TCP_PORT} (TLS)",
          file=sys.stderr)
    try:
        p = drive("ping")
        if p.returncode != 0 and "no unix socket support" in p.stderr:
            print("engine: this driver's libcurl has no unix sockets; every call goes over TLS",
                  file=sys.stderr)
            USE_UNIX = False
            p = drive("ping")
        if p.returncode != 0:
            raise RuntimeError(f"the driver cannot reach the engine: {p.stderr}\n{ENGINE.log_tail()}")
        ctx = os.path.join(SCRATCH, "base")
        os.mkdir(ctx)
        shutil.copy(busybox, os.path.join(ctx, "busybox"))
        with open(os.path.join(ctx, "Dockerfile"), "w") as f:
            f.write('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
        p = drive("build", ctx, "-t", BASE, timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"cannot build the base image: {p.stdout}{p.stderr}")
    except BaseException:
        ENGINE.close()
        shutil.rmtree(SCRATCH, ignore_errors=True)
        raise


def tearDownModule():
    if ENGINE:
        ENGINE.close()
    shutil.rmtree(SCRATCH, ignore_errors=True)


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    if mode is not None:
        os.chmod(path, mode)


GEN_SCRIPT = r"""#!/bin/sh
# a dockercfg generator as in the hosted CI's example: writes to its one argument
echo "generator for $REGISTRY writing to $1"
case "$MODE" in
fail) echo "cannot log in" >&2; exit 3 ;;
nothing) echo "forgot to write"; exit 0 ;;
garbage) echo "not json at all {" > "$1"; exit 0 ;;
slow) ;;
esac
AUTH=$(printf '%s:%s' "$USER_NAME" "$PASSWORD" | base64)
printf '{"auths":{"%s":{"auth":"%s","email":""}}}' "$REGISTRY" "$AUTH" > "$1"
chmod 400 "$1"
echo "written" >&2
if [ "$MODE" = slow ]; then sleep 30; fi
"""


class EngineCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="dcgen-engine-case-", dir=SCRATCH)
        self.tmp = os.path.join(self.dir, "tmp")
        os.mkdir(self.tmp, 0o700)
        self.run_id = f"t{os.getpid()}-{time.monotonic_ns()}"

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def drive(self, *args, ok=True, **kw):
        p = drive(*args, env=kw.pop("env", None) or driver_env(self.tmp), **kw)
        if ok:
            self.assertEqual(p.returncode, 0, f"driver {args[0]} failed:\n{p.stdout}\n{p.stderr}")
        return p

    def assert_nothing_left(self):
        self.assertEqual(os.listdir(self.tmp), [], "the generator's private directory is still there")
        p = self.drive("list", "containers", f"dcgen.run={self.run_id}")
        self.assertEqual(p.stdout.strip(), "", "a container of the run is left")

    def gen_image(self):
        ctx = os.path.join(self.dir, "gen")
        write(os.path.join(ctx, "gen.sh"), GEN_SCRIPT)
        write(os.path.join(ctx, "Dockerfile"),
              f'FROM {BASE}\nCOPY gen.sh /gen.sh\nENTRYPOINT ["/bin/sh", "/gen.sh"]\n')
        self.drive("build", ctx, "-t", GEN)


class Build(EngineCase):
    def test_build_honours_dockerignore(self):
        ctx = os.path.join(self.dir, "ctx")
        for name in ("app/main.c", "app/main.o", "app/sub/x.o", "docs/a.md", "docs/keep.md",
                     "secret.env", "notes.md", "deep/er/notes.md", "ok.txt"):
            write(os.path.join(ctx, name), name + "\n")
        os.symlink("ok.txt", os.path.join(ctx, "link"))
        write(os.path.join(ctx, ".dockerignore"),
              "# comment\nsecret.env\n**/*.o\ndocs\n!docs/keep.md\n*.md\nDockerfile\n.dockerignore\n")
        write(os.path.join(ctx, "Dockerfile"), f"FROM {BASE}\nCOPY . /ctx/\nLABEL built=1\n")
        p = self.drive("build", ctx, "-t", "dcgen-test/ctx:1", "--label", f"dcgen.run={self.run_id}")
        self.assertIn("build|Successfully tagged dcgen-test/ctx:1", p.stdout)
        self.assertRegex(p.stdout, r"id=sha256:[0-9a-f]{64}")
        p = self.drive("run", "dcgen-test/ctx:1", "--net", "none", "--cmd", "sh", "--cmd", "-c",
                       "--cmd", "cd /ctx && find . | sort && readlink link")
        files = [l[2:] for l in p.stdout.splitlines() if l.startswith("1|")]
        # the Dockerfile and .dockerignore were sent (the build worked), and
        # the engine dropped them from the context since .dockerignore lists them
        self.assertEqual(files, [".", "./app", "./app/main.c",
                                 "./app/sub", "./deep", "./deep/er", "./deep/er/notes.md", "./docs",
                                 "./docs/keep.md", "./link", "./ok.txt", "ok.txt"])
        self.assertIn("exit=0", p.stdout)
        self.drive("rmi", "dcgen-test/ctx:1")

    def test_build_errors(self):
        ctx = os.path.join(self.dir, "ctx")
        write(os.path.join(ctx, "Dockerfile"), f"FROM {BASE}\nRUN exit 4\n")
        p = self.drive("build", ctx, "-t", "dcgen-test/bad:1", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("error: cannot build the image of", p.stderr)
        self.assertIn("returned a non-zero code: 4", p.stderr)
        p = self.drive("build", ctx, "-f", "nope/Dockerfile", ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no Dockerfile 'nope/Dockerfile'", p.stderr)
        write(os.path.join(ctx, ".dockerignore"), "[a-\n")
        p = self.drive("build", ctx, ok=False)
        self.assertIn(".dockerignore line 1", p.stderr)


class Containers(EngineCase):
    def test_env_cmd_entrypoint_workdir_user_and_streams(self):
        p = self.drive("run", BASE, "--net", "none", "--ep", "/bin/sh", "--ep", "-c",
                       "--cmd", 'echo "$FOO in $(pwd) as $(id -u)"; echo oops >&2; printf tail; exit 7',
                       "-e", "FOO=bar baz", "-w", "/tmp", "--user", "65534",
                       "--label", f"dcgen.run={self.run_id}")
        lines = p.stdout.splitlines()
        # the engine keeps each stream's order, not the order between them
        self.assertEqual([l for l in lines if l.startswith("1|")], ["1|bar baz in /tmp as 65534", "1|tail"])
        self.assertEqual([l for l in lines if l.startswith("2|")], ["2|oops"])
        self.assertEqual(lines[-1], "exit=7")
        self.assert_nothing_left()

    def test_image_entrypoint_kept_and_cleared(self):
        ctx = os.path.join(self.dir, "ep")
        write(os.path.join(ctx, "Dockerfile"), f'FROM {BASE}\nENTRYPOINT ["/bin/echo", "ep"]\nCMD ["default"]\n')
        self.drive("build", ctx, "-t", "dcgen-test/ep:1")
        p = self.drive("run", "dcgen-test/ep:1", "--net", "none")
        self.assertEqual(p.stdout.splitlines(), ["1|ep default", "exit=0"])
        p = self.drive("run", "dcgen-test/ep:1", "--net", "none", "--cmd", "-o", "--cmd", "pid")
        self.assertEqual(p.stdout.splitlines(), ["1|ep -o pid", "exit=0"])
        p = self.drive("run", "dcgen-test/ep:1", "--net", "none", "--ep-none", "--cmd", "/bin/echo", "--cmd", "hi")
        self.assertEqual(p.stdout.splitlines(), ["1|hi", "exit=0"])

    def test_read_file_from_stopped_container(self):
        p = self.drive("run", BASE, "--net", "none", "--keep", "--cmd", "sh", "--cmd", "-c",
                       "--cmd", "mkdir /out && printf 'line one\\nline two' > /out/f && chmod 400 /out/f")
        cid = [l[3:] for l in p.stdout.splitlines() if l.startswith("id=")][0]
        try:
            p = self.drive("read", cid, "/out/f")
            self.assertEqual(p.stdout, "line one\nline two")
            p = self.drive("read", cid, "/out/none", ok=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn("cannot read '/out/none' from container", p.stderr)
            p = self.drive("read", cid, "/out", ok=False)
            self.assertIn("not a regular file", p.stderr)
        finally:
            self.drive("rm", cid)

    def test_kill_wait_and_logs(self):
        p = self.drive("create", BASE, "--net", "none", "--cmd", "sh", "--cmd", "-c",
                       "--cmd", "echo started; exec sleep 30", "--label", f"dcgen.run={self.run_id}")
        cid = p.stdout.strip()[3:]
        try:
            self.drive("start", cid)
            self.drive("kill", cid)  # SIGKILL: a shell as PID 1 ignores SIGTERM
            self.assertEqual(self.drive("wait", cid).stdout.strip(), "exit=137")
            self.drive("kill", cid, "SIGTERM")  # not running any more: not an error
            self.assertEqual(self.drive("logs", cid).stdout.strip(), "1|started")
        finally:
            self.drive("rm", cid)
        p = self.drive("rm", cid, ok=False)
        self.assertIn("HTTP 404", p.stderr)
        self.assert_nothing_left()

    def test_networks_and_labels(self):
        label = f"dcgen.run={self.run_id}"
        p = self.drive("net-create", f"dcgen-{self.run_id}", label)
        nid = p.stdout.strip()[3:]
        self.assertEqual(self.drive("list", "networks", label).stdout.split(), [nid])
        self.drive("net-rm", nid)
        self.assertEqual(self.drive("list", "networks", label).stdout.split(), [])
        p = self.drive("net-rm", nid, ok=False)
        self.assertIn("HTTP 404", p.stderr)


class Transport(EngineCase):
    def test_tls_with_client_certificates(self):
        env = driver_env(self.tmp, DOCKER_HOST=f"tcp://127.0.0.1:{TCP_PORT}", DOCKER_TLS_VERIFY="1",
                         DOCKER_CERT_PATH=CERTS)
        self.assertEqual(self.drive("ping", env=env).stdout.strip(), "api=1.41")
        # no client certificate: the engine refuses the handshake
        nocert = os.path.join(self.dir, "nocert")
        os.mkdir(nocert)
        shutil.copy(os.path.join(CERTS, "ca.pem"), nocert)
        p = self.drive("ping", env=dict(env, DOCKER_CERT_PATH=nocert), ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("TLS with the Docker engine at 'https://127.0.0.1:", p.stderr)
        self.assertIn("bad certificate", p.stderr)
        # a CA that did not sign the engine's certificate
        other = os.path.join(self.dir, "other")
        os.mkdir(other)
        peers.make_tls(other)
        for f in ("cert.pem", "key.pem"):
            shutil.copy(os.path.join(CERTS, f), other)
        p = self.drive("ping", env=dict(env, DOCKER_CERT_PATH=other), ok=False)
        self.assertIn("TLS with the Docker engine", p.stderr)
        # plain HTTP to a TLS port, and a bad DOCKER_HOST
        p = self.drive("ping", env=driver_env(self.tmp, DOCKER_HOST="ssh://x"), ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("ssh:// and npipe:// are not", p.stderr)
        p = self.drive("ping", env=driver_env(self.tmp, DOCKER_HOST=f"unix://{self.dir}/none.sock"), ok=False)
        self.assertEqual(p.returncode, 1 if USE_UNIX else 2)


class Generators(EngineCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = peers.Registry({"ci": "s3cret-pass"})

    @classmethod
    def tearDownClass(cls):
        cls.registry.close()

    def gen(self, *extra, mode="ok", password="s3cret-pass", registry=None, ok=True, **kw):
        reg = registry or self.registry.host
        return self.drive("gen", "creds", reg, GEN, "--net", "none", "--run-id", self.run_id,
                          "-e", f"REGISTRY={self.registry.host}", "-e", "USER_NAME=ci",
                          "-e", f"PASSWORD={password}", "-e", f"MODE={mode}", *extra, ok=ok, **kw)

    def tags(self, repo):
        auth = base64.b64encode(b"ci:s3cret-pass").decode()
        req = urllib.request.Request(f"http://{self.registry.host}/v2/{repo}/tags/list",
                                     headers={"Authorization": f"Basic {auth}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r).get("tags") or []
        except urllib.error.HTTPError as e:
            return e.code

    def test_generator_auth_pushes_and_pulls(self):
        self.gen_image()
        ref = f"{self.registry.host}/gen/app:1"
        self.drive("tag", BASE, ref)
        p = self.gen("--push", ref)
        self.assertIn("creds|generator for", p.stdout)
        self.assertIn(f"writing to /dcgen-dockercfg/dockercfg", p.stdout)
        self.assertIn("creds|written", p.stdout)
        self.assertIn(f"matched={self.registry.host}", p.stdout)
        self.assertIn("registry-ok", p.stdout)
        self.assertNotIn("s3cret-pass", p.stdout + p.stderr)
        self.assertEqual(self.tags("gen/app"), ["1"])
        self.assert_nothing_left()
        # and back: remove it, pull it with a fresh generator run
        self.drive("rmi", ref)
        self.assertIn("exists=0", self.drive("exists", ref).stdout)
        p = self.gen("--pull", ref)
        self.assertIn("registry-ok", p.stdout)
        self.assertIn("exists=1", self.drive("exists", ref).stdout)
        self.assert_nothing_left()

    def test_build_pulls_a_private_from_image_with_the_generator_config(self):
        self.gen_image()
        base = f"{self.registry.host}/gen/base:1"
        self.drive("tag", BASE, base)
        self.assertIn("registry-ok", self.gen("--push", base).stdout)
        self.drive("rmi", base)
        ctx = os.path.join(self.dir, "private-from")
        write(os.path.join(ctx, "Dockerfile"), f"FROM {base}\nRUN echo built > /built\n")
        # anonymous: the registry refuses the FROM pull
        p = self.drive("build", ctx, "-t", "dcgen-test/private-from:1", ok=False)
        self.assertIn("error: cannot build the image of", p.stderr)
        p = self.gen("--build", ctx, "--tag", "dcgen-test/private-from:1")
        self.assertIn("registry-ok", p.stdout)
        self.assertIn("exists=1", self.drive("exists", "dcgen-test/private-from:1").stdout)
        self.assert_nothing_left()

    def test_auth_value_is_what_the_docker_cli_sends(self):
        self.gen_image()
        p = self.gen(env=driver_env(self.tmp, DRIVER_PRINT_AUTH="1"))
        auth = [l[5:] for l in p.stdout.splitlines() if l.startswith("auth=")][0]
        self.assertEqual(len(auth) % 4, 0)
        doc = json.loads(base64.urlsafe_b64decode(auth))
        self.assertEqual(doc, {"username": "ci", "password": "s3cret-pass",
                               "serveraddress": self.registry.host})
        config = [l[7:] for l in p.stdout.splitlines() if l.startswith("config=")][0]
        self.assertIn(self.registry.host, json.loads(base64.urlsafe_b64decode(config)))
        self.assert_nothing_left()

    def test_push_with_a_wrong_password_fails(self):
        self.gen_image()
        ref = f"{self.registry.host}/gen/denied:1"
        self.drive("tag", BASE, ref)
        p = self.gen("--push", ref, password="wrong", ok=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"error: cannot push image '{ref}'", p.stderr)
        self.assertNotIn("registry-ok", p.stdout)
        self.assertEqual(self.tags("gen/denied"), 404)
        self.assert_nothing_left()

    def test_failing_generators_say_which_failure(self):
        self.gen_image()
        cases = [
            ("fail", None, "dockercfg generator 'creds' exited with code 3; see its output above"),
            ("nothing", None, "dockercfg generator 'creds' wrote no file at '/dcgen-dockercfg/dockercfg'"),
            ("garbage", None, "dockercfg generator 'creds' wrote invalid JSON (line 1"),
            ("ok", "other.example:5000", "dockercfg generator 'creds' wrote no credentials for registry "
                                          f"'other.example:5000' (it has: {self.registry.host})"),
        ]
        for mode, registry, message in cases:
            with self.subTest(mode=mode):
                p = self.gen(mode=mode, registry=registry, ok=False)
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertTrue(p.stderr.startswith(f"error: {message}"), p.stderr)
                self.assertEqual(len(p.stderr.strip().splitlines()), 1)
                self.assertNotIn("s3cret-pass", p.stdout + p.stderr)
                self.assert_nothing_left()
        p = self.drive("gen", "creds", "-", "dcgen-test/absent:1", ok=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("the image 'dcgen-test/absent:1' of dockercfg generator 'creds' is not present", p.stderr)

    def test_unreadable_file_is_read_through_the_engine(self):
        """As a non-root runner, the root-written 0400 file is read via the archive API."""
        self.gen_image()
        os.chmod(self.dir, 0o711)
        os.chown(self.tmp, 65534, 65534)
        if USE_UNIX:  # the test's private engine only
            os.chmod(ENGINE.dir, 0o711)
            os.chmod(ENGINE.sock, 0o666)

        env = driver_env(self.tmp)
        if not USE_UNIX:  # the client key must be the runner's own
            certs = os.path.join(self.dir, "certs")
            shutil.copytree(CERTS, certs)
            for f in os.listdir(certs) + [""]:
                os.chown(os.path.join(certs, f), 65534, 65534)
            env["DOCKER_CERT_PATH"] = certs

        def drop():
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        p = self.gen(preexec_fn=drop, env=env)
        self.assertIn(f"matched={self.registry.host}", p.stdout)
        self.assert_nothing_left()

    def test_ctrl_c_during_the_generator_leaves_nothing(self):
        self.gen_image()
        args = [DRIVER, "gen", "creds", self.registry.host, GEN, "--net", "none", "--run-id", self.run_id,
                "-e", f"REGISTRY={self.registry.host}", "-e", "USER_NAME=ci", "-e", "PASSWORD=s3cret-pass",
                "-e", "MODE=slow"]
        proc = subprocess.Popen(args, env=driver_env(self.tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen, deadline = "", time.monotonic() + 60
        try:
            # raw reads: a buffered readline would sit on lines select() cannot see
            while "creds|written" not in seen and time.monotonic() < deadline:
                r, _, _ = select.select([proc.stdout], [], [], 1)
                if r:
                    chunk = os.read(proc.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    seen += chunk.decode()
            self.assertIn("creds|written", seen)
            # the file is there, in the private directory, while the generator sleeps
            dirs = os.listdir(self.tmp)
            self.assertEqual(len(dirs), 1)
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.tmp, dirs[0])).st_mode), 0o700)
            self.assertEqual(os.listdir(os.path.join(self.tmp, dirs[0])), ["dockercfg"])
            start = time.monotonic()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
            err = err.decode()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        took = time.monotonic() - start
        print(f"\nSIGINT to exit, container removed, directory gone: {took * 1000:.0f} ms", file=sys.stderr)
        self.assertLess(took, 10)
        self.assertEqual(proc.returncode, 1, err)
        self.assertIn("dockercfg generator 'creds' was interrupted", err)
        self.assert_nothing_left()

    def test_dcgen_static_image_as_generator(self):
        dcgen = peers.DCGEN
        if not os.path.exists(dcgen) or elf_interpreter(dcgen):
            self.skipTest(f"{dcgen} is not static; the FROM-scratch dcgen image needs the static build")
        ctx = os.path.join(self.dir, "dcgen-image")
        os.makedirs(ctx)
        shutil.copy(dcgen, os.path.join(ctx, "dcgen"))
        write(os.path.join(ctx, "Dockerfile"),
              'FROM scratch\nCOPY dcgen /usr/bin/dcgen\nENTRYPOINT ["/usr/bin/dcgen"]\n')
        self.drive("build", ctx, "-t", "dcgen-test/dcgen:1")
        ref = f"{self.registry.host}/gen/by-dcgen:1"
        self.drive("tag", BASE, ref)
        p = self.drive("gen", "dockercfg", self.registry.host, "dcgen-test/dcgen:1", "--net", "none",
                       "--run-id", self.run_id, "-e", "DCGEN_PROVIDER=docker", "-e", "DOCKER_USERNAME=ci",
                       "-e", "DOCKER_PASSWORD=s3cret-pass", "-e", f"DOCKER_REGISTRY={self.registry.host}",
                       "--push", ref)
        self.assertIn("registry-ok", p.stdout)
        self.assertNotIn("s3cret-pass", p.stdout + p.stderr)
        self.assertEqual(self.tags("gen/by-dcgen"), ["1"])
        self.assert_nothing_left()


if __name__ == "__main__":
    peers.main()
