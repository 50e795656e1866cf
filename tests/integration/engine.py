"""A private Docker engine for the image tests, started and stopped by them.

Engine.start_or_skip() starts Debian's dockerd as PEERS.md shows: its own data
root, exec root, socket and pid file in a temp dir, an empty daemon config (a
machine's /etc/docker/daemon.json cannot interfere), and no networking of its
own (--bridge=none, no iptables, no forwarding, no masquerading). Containers
run with --network host (to reach peers on 127.0.0.1) or --network none, so
nothing leaves the machine. When the engine cannot start, it says so loudly on
stderr and exits 77, which CTest counts as skipped, never as passed.

    engine = Engine.start_or_skip()
    engine.docker("run", "--rm", "--network", "none", "dcgen:latest", "--version")
    engine.close()
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SKIP = 77


def loud_skip(reason, log=""):
    bar = "=" * 72
    print(f"\n{bar}\nSKIPPED: {reason}\nThe image tests did NOT run on this machine; they are not passed.",
          file=sys.stderr)
    if log:
        print(f"--- last lines of dockerd's log ---\n{log}", file=sys.stderr)
    print(bar, file=sys.stderr, flush=True)
    sys.exit(SKIP)


def docker_client():
    """Debian's client matches Debian's engine; else whatever is on PATH."""
    if os.access("/usr/bin/docker", os.X_OK):
        return "/usr/bin/docker"
    return shutil.which("docker")


class EngineError(Exception):
    def __init__(self, message, log=""):
        super().__init__(message)
        self.log = log


class Engine:
    def __init__(self, timeout=60, extra_args=()):
        self.client = docker_client()
        dockerd = shutil.which("dockerd")
        if not dockerd or not self.client:
            raise EngineError("no dockerd or docker client; install Debian's docker.io (make deps)")
        if os.geteuid() != 0:
            raise EngineError("dockerd needs root here; run the tests as root")
        self.dir = tempfile.mkdtemp(prefix="dcgen-engine-")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.host = f"unix://{self.sock}"
        config = os.path.join(self.dir, "daemon.json")
        with open(config, "w") as f:
            json.dump({}, f)
        self.cli_config = os.path.join(self.dir, "cli")
        os.mkdir(self.cli_config, 0o700)
        self.log_path = os.path.join(self.dir, "dockerd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [dockerd, "--config-file", config, "--data-root", os.path.join(self.dir, "data"),
             "--exec-root", os.path.join(self.dir, "exec"), "-H", self.host,
             "--pidfile", os.path.join(self.dir, "docker.pid"),
             "--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-forward=false",
             "--ip-masq=false", "--userland-proxy=false"] + list(extra_args),
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait(timeout)
        except Exception:
            self.close()
            raise

    @classmethod
    def start_or_skip(cls, **kwargs):
        try:
            return cls(**kwargs)
        except EngineError as e:
            loud_skip(f"the Docker engine cannot start here: {e}", e.log)

    def log_tail(self, n=25):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def _wait(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise EngineError(f"dockerd exited with {self.proc.returncode} while starting", self.log_tail())
            if os.path.exists(self.sock):
                p = self.docker("version", "--format", "{{.Server.Version}}", timeout=10)
                if p.returncode == 0:
                    self.version = p.stdout.strip()
                    return
            time.sleep(0.2)
        raise EngineError(f"dockerd did not answer on {self.sock} within {timeout}s", self.log_tail())

    def env(self, **extra):
        """The client's environment: this engine, a private client config."""
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.dir,
             "DOCKER_HOST": self.host, "DOCKER_CONFIG": self.cli_config, "DOCKER_BUILDKIT": "0"}
        e.update(extra)
        return e

    def docker(self, *args, env=None, timeout=120, input=None):
        """Run the docker client against this engine; returns the CompletedProcess."""
        return subprocess.run([self.client] + list(args), env=self.env(**(env or {})),
                              capture_output=True, text=True, timeout=timeout, input=input)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        self._unmount()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _unmount(self):
        """Anything the engine left mounted under its dir (after a crash), deepest first."""
        try:
            with open("/proc/self/mountinfo") as f:
                points = [line.split()[4] for line in f]
        except OSError:
            return
        for point in sorted((p for p in points if p.startswith(self.dir + "/")), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
