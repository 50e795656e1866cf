#!/usr/bin/env python3
"""make bench: dcgen side by side with aws-cli and amazon-ecr-credential-helper.

Everything runs on this machine. An nginx on 127.0.0.1:443 with a local CA
serves an ECR GetAuthorizationToken answer for api.ecr.us-east-1.amazonaws.com.
amazon-ecr-credential-helper only talks to real AWS host names, so this
harness re-runs itself in a private mount namespace (unshare -m) whose
/etc/hosts maps that name to 127.0.0.1; every tool then runs the same way,
as a direct child of this process, timed with wait4 (wall time and peak RSS).
dcgen's instruction counts come from callgrind, which is repeatable on a
noisy machine. Nothing here asserts a time: it prints a table to read.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import peers  # noqa: E402  (the test certificate maker)
HOST = "api.ecr.us-east-1.amazonaws.com"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
AWS_RUNS = int(os.environ.get("BENCH_AWS_RUNS", "5"))
HELPER_RUNS = int(os.environ.get("BENCH_HELPER_RUNS", "100"))
KEY_ID, SECRET = "AKIABENCHMARKKEY0001", "bench/secret+0123456789abcdefghijklmnopq"


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


SPAWN = None  # the static launcher, built in main()


def timed(cmd, env, stdin=None, cwd=None):
    """(wall seconds, peak RSS KiB, exit code) of one run, measured by bench/spawn."""
    report = f"{os.path.dirname(SPAWN)}/spawn.report"
    p = subprocess.Popen([SPAWN, report] + cmd, env=env, cwd=cwd,
                         stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin:
        p.stdin.write(stdin.encode())
        p.stdin.close()
    err = p.stderr.read().decode(errors="replace")
    p.wait()
    p.stderr.close()
    with open(report) as f:
        ns, rss, code = (int(x) for x in f.read().split())
    if code:
        raise RuntimeError(f"{cmd[0]} exited {code}: {err.strip()[:300]}")
    return ns / 1e9, rss, code


def series(name, make_cmd, runs, env, stdin=None, before=None):
    walls, rss = [], []
    for i in range(runs):
        if before:
            before()
        w, r, _ = timed(make_cmd(i), env, stdin)
        walls.append(w)
        rss.append(r)
    return {"name": name, "median": statistics.median(walls), "min": min(walls), "max": max(walls),
            "rss": max(rss), "runs": runs}


def instructions(cmd, env, stdin=None):
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       env=env, capture_output=True, text=True, input=stdin)
    for line in p.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    return None


def start_nginx(work, key, crt):
    import base64
    token = base64.b64encode(f"AWS:bench-token-{'x' * 2000}".encode()).decode()
    answer = json.dumps({"authorizationData": [{
        "authorizationToken": token, "expiresAt": int(time.time()) + 43200,
        "proxyEndpoint": f"https://{REGISTRY}"}]})
    conf = f"{work}/nginx.conf"
    with open(conf, "w") as f:
        f.write(f"""daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log {work}/access.log;
  client_body_temp_path {work}/body;
  server {{
    listen 127.0.0.1:443 ssl;
    server_name {HOST};
    ssl_certificate {crt};
    ssl_certificate_key {key};
    location / {{
      default_type application/x-amz-json-1.1;
      return 200 '{answer}';
    }}
  }}
}}
""")
    p = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(f"{work}/nginx.pid"):
            break
        time.sleep(0.05)
    time.sleep(0.2)
    return p


def requests_served(work):
    with open(f"{work}/access.log") as f:
        return sum(1 for _ in f)


def in_namespace():
    """Re-run under a private mount namespace with our own /etc/hosts."""
    if os.environ.get("DCGEN_BENCH_NS") == "1":
        return
    hosts = tempfile.NamedTemporaryFile("w", prefix="dcgen-bench-hosts-", delete=False)
    hosts.write(f"127.0.0.1 localhost {HOST}\n")
    hosts.close()
    script = f'mount --bind {hosts.name} /etc/hosts && exec "$@"'
    env = dict(os.environ, DCGEN_BENCH_NS="1")
    rc = subprocess.call(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                          sys.executable] + sys.argv, env=env)
    os.unlink(hosts.name)
    sys.exit(rc)


def image_size(build):
    """Build the images on a private engine (as the tests do) and return the
    size of dcgen:latest in bytes, or None when no engine can start."""
    import engine as engine_mod  # tests/integration/engine.py
    try:
        eng = engine_mod.Engine()
    except Exception as e:  # no dockerd, not root, no kernel support
        print(f"bench: no image size: {e}", file=sys.stderr)
        return None
    try:
        env = dict(os.environ, DOCKER_HOST=eng.host, DOCKER=eng.client)
        p = subprocess.run(["sh", f"{ROOT}/scripts/image.sh", build], env=env, capture_output=True, text=True)
        if p.returncode:
            print(f"bench: make image failed: {p.stderr.strip()[-300:]}", file=sys.stderr)
            return None
        p = eng.docker("image", "inspect", "dcgen:latest", "--format", "{{.Size}}")
        return int(p.stdout.strip()) if p.returncode == 0 else None
    finally:
        eng.close()


def fmt_ms(s):
    return f"{s * 1000:.1f}"


def main():
    in_namespace()
    dcgen = os.path.abspath(os.environ.get("DCGEN_BIN", f"{ROOT}/build/dcgen"))
    work = tempfile.mkdtemp(prefix="dcgen-bench-")
    os.chmod(work, 0o700)
    ca, crt, key = peers.make_tls(work, dns=HOST)
    nginx = start_nginx(work, key, crt)
    global SPAWN
    empty, SPAWN = f"{work}/empty", f"{work}/spawn"
    sh("cc", "-O2", "-static", "-o", empty, f"{HERE}/empty.c")
    sh("cc", "-O2", "-static", "-Wall", "-Werror", "-o", SPAWN, f"{HERE}/spawn.c")
    base = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": f"{work}/home",
            "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "us-east-1"}
    os.mkdir(base["HOME"])
    env_dcgen = dict(base, SSL_CERT_FILE=ca)
    env_ecr = dict(base, SSL_CERT_FILE=ca, AWS_ECR_DISABLE_CACHE="true")
    env_ecr_cache = dict(base, SSL_CERT_FILE=ca, AWS_ECR_CACHE_DIR=f"{work}/ecr-cache")
    env_aws = dict(base, AWS_CA_BUNDLE=ca, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
    out = f"{work}/dockercfg"
    cache = f"{work}/dcgen-cache"
    shm = None
    try:
        # check each tool works against the local endpoint before timing it
        timed([dcgen, out], env_dcgen)
        ecr_login = shutil.which("docker-credential-ecr-login")
        aws = "/usr/bin/aws" if os.path.exists("/usr/bin/aws") else shutil.which("aws")
        if ecr_login:
            timed([ecr_login, "get"], env_ecr, stdin=REGISTRY)
        if aws:
            timed([aws, "ecr", "get-login-password"], env_aws)

        # cold: one GetAuthorizationToken over TLS
        cold = [series("dcgen", lambda i: [dcgen, out], RUNS, env_dcgen)]
        if ecr_login:
            cold.append(series("docker-credential-ecr-login get", lambda i: [ecr_login, "get"], RUNS,
                               env_ecr, stdin=REGISTRY))
        # the CA strategy matters more than anything else in a cold call:
        # the system bundle plus the local CA, as a file and as a hashed directory
        bundle = f"{work}/bundle.pem"
        with open(bundle, "w") as f, open("/etc/ssl/certs/ca-certificates.crt") as sysb, open(ca) as mine:
            f.write(sysb.read() + mine.read())
        hashed = f"{work}/hashed"
        sh("sh", f"{ROOT}/scripts/ca-dir.sh", bundle, hashed)
        cold.append(series("dcgen, system bundle (SSL_CERT_FILE)", lambda i: [dcgen, out], RUNS,
                           dict(base, SSL_CERT_FILE=bundle)))
        cold.append(series("dcgen, hashed CA dir (SSL_CERT_DIR, as the image)", lambda i: [dcgen, out], RUNS,
                           dict(base, SSL_CERT_DIR=hashed)))
        if ecr_login:
            cold.append(series("docker-credential-ecr-login get, system bundle", lambda i: [ecr_login, "get"],
                               RUNS, dict(env_ecr, SSL_CERT_FILE=bundle), stdin=REGISTRY))
        if aws:
            cold.append(series("aws ecr get-login-password", lambda i: [aws, "ecr", "get-login-password"],
                               AWS_RUNS, env_aws))
        # warm: a cache hit
        timed([dcgen, "--cache-dir", cache, out], env_dcgen)
        warm = [series("dcgen (cache hit)", lambda i: [dcgen, "--cache-dir", cache, out], RUNS, env_dcgen)]
        # the same hit writing PATH to tmpfs: what is left without the disk's fsync
        shm = tempfile.mkdtemp(prefix="dcgen-bench-", dir="/dev/shm") if os.path.isdir("/dev/shm") else None
        if shm:
            warm.append(series("dcgen (cache hit, PATH on tmpfs)",
                               lambda i: [dcgen, "--cache-dir", cache, f"{shm}/dockercfg"], RUNS, env_dcgen))
        if ecr_login:
            timed([ecr_login, "get"], env_ecr_cache, stdin=REGISTRY)
            warm.append(series("docker-credential-ecr-login get (its cache)", lambda i: [ecr_login, "get"],
                               RUNS, env_ecr_cache, stdin=REGISTRY))
        warm.append(series("empty static program", lambda i: [empty], RUNS, base))

        # the credential helper docker calls on every pull and push: a cache hit
        # of docker-credential-dcgen get against ecr-login's, the empty program
        # as the floor (one run, the same machine state)
        hbin = f"{work}/helper-bin"
        os.mkdir(hbin)
        helper = f"{hbin}/docker-credential-dcgen"
        os.symlink(dcgen, helper)
        env_helper = dict(env_dcgen, DCGEN_CACHE_DIR=f"{work}/helper-cache")
        timed([helper, "get"], env_helper, stdin=REGISTRY)
        # interleaved, one run of each per round, so that the machine's noise
        # (2 shared cores) falls on all three alike
        rounds = [("docker-credential-dcgen get (cache hit)", [helper, "get"], env_helper, REGISTRY)]
        if ecr_login:
            rounds.append(("docker-credential-ecr-login get (its cache hit)", [ecr_login, "get"], env_ecr_cache,
                           REGISTRY))
        rounds.append(("empty static program", [empty], base, None))
        walls = {name: [] for name, _, _, _ in rounds}
        rss = {name: [] for name, _, _, _ in rounds}
        for _ in range(HELPER_RUNS):
            for name, cmd, env, stdin in rounds:
                w, r, _ = timed(cmd, env, stdin)
                walls[name].append(w)
                rss[name].append(r)
        helpers = [{"name": name, "median": statistics.median(walls[name]), "min": min(walls[name]),
                    "max": max(walls[name]), "rss": max(rss[name]), "runs": HELPER_RUNS}
                   for name, _, _, _ in rounds]

        ins = {
            "dcgen cold": instructions([dcgen, out], env_dcgen),
            "dcgen cold, system bundle": instructions([dcgen, out], dict(base, SSL_CERT_FILE=bundle)),
            "dcgen cold, hashed CA dir": instructions([dcgen, out], dict(base, SSL_CERT_DIR=hashed)),
            "dcgen cache hit": instructions([dcgen, "--cache-dir", cache, out], env_dcgen),
            "docker-credential-dcgen get, cache hit": instructions([helper, "get"], env_helper, stdin=REGISTRY),
            "empty static program": instructions([empty], base),
        }

        # concurrency: N cold generators on one fresh cache
        conc = []
        for n in (1, 8, 64):
            d = f"{work}/conc-{n}"
            before = requests_served(work)
            start = time.perf_counter()
            procs = [subprocess.Popen([dcgen, "--cache-dir", d, f"{work}/c{n}-{i}"], env=env_dcgen,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                     for i in range(n)]
            codes = [p.wait() for p in procs]
            conc.append((n, time.perf_counter() - start, requests_served(work) - before,
                         sum(1 for c in codes if c == 0)))
    finally:
        nginx.terminate()
        nginx.wait()

    size = os.path.getsize(dcgen)
    stripped = f"{work}/dcgen.stripped"
    shutil.copy(dcgen, stripped)
    subprocess.run(["strip", stripped])
    image = image_size(os.path.dirname(dcgen))

    def table(title, series_list, ref):
        print(f"\n### {title}\n")
        print("| tool | median ms | min ms | max ms | runs | x dcgen (median) | peak RSS MiB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for s in series_list:
            ratio = s["median"] / ref["median"]
            print(f"| {s['name']} | {fmt_ms(s['median'])} | {fmt_ms(s['min'])} | {fmt_ms(s['max'])} | "
                  f"{s['runs']} | {ratio:.1f} | {s['rss'] / 1024:.1f} |")

    print(f"# dcgen benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"\nmachine: {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}, "
          f"binary: {dcgen} ({sh('file', '-b', dcgen).stdout.strip().split(',')[0]}, "
          f"{'static' if 'statically' in sh('file', '-b', dcgen).stdout else 'dynamic'})")
    table("Cold: one ECR GetAuthorizationToken over TLS (local nginx; CA file with the local CA only, unless said)",
          cold, cold[0])
    table("Warm: a cache hit", warm, warm[0])
    table("Credential helper: `get` on a cache hit (what docker runs per pull and push; the three interleaved)",
          helpers, helpers[0])
    floor = helpers[-1]["median"]
    mine = helpers[0]["median"]
    if ecr_login:
        theirs = helpers[1]["median"]
        print(f"\ndocker-credential-dcgen get is {theirs / mine:.1f}x faster than ecr-login's cache hit "
              f"(target >= 3x) and {mine / floor:.2f}x the empty static program (target <= 2x); "
              f"minimums {helpers[1]['min'] / helpers[0]['min']:.1f}x and {helpers[0]['min'] / helpers[-1]['min']:.2f}x.")
    else:
        print(f"\ndocker-credential-dcgen get is {mine / floor:.2f}x the empty static program (target <= 2x); "
              "no ecr-login to compare with.")
    print("\n### Instructions (callgrind)\n")
    print("| run | instructions |")
    print("| --- | ---: |")
    for k, v in ins.items():
        print(f"| {k} | {v:,} |" if v else f"| {k} | n/a |")
    print("\n### Concurrency: N cold generators on one empty cache\n")
    print("| N | wall ms (all done) | upstream requests | succeeded |")
    print("| ---: | ---: | ---: | ---: |")
    for n, wall, reqs, ok in conc:
        print(f"| {n} | {fmt_ms(wall)} | {reqs} | {ok}/{n} |")
    print("\n### Footprint\n")
    print("| what | size |")
    print("| --- | ---: |")
    print(f"| dcgen binary | {size / 1048576:.2f} MiB |")
    print(f"| dcgen stripped | {os.path.getsize(stripped) / 1048576:.2f} MiB |")
    print(f"| image dcgen:latest | {image / 1048576:.2f} MiB |" if image else
          "| image dcgen:latest | n/a (no engine could start) |")
    shutil.rmtree(work, ignore_errors=True)
    if shm:
        shutil.rmtree(shm, ignore_errors=True)


if __name__ == "__main__":
    main()
