#!/usr/bin/env python3
"""make bench-chains: how long dcgen takes to say "no credentials" when
nothing is configured, per cloud, and what a cache hit costs for a chained
source. Nothing here asserts a time: it prints a table to read.

"Off a cloud" is measured two ways, neither sending a packet off this
machine:
  silent   the metadata endpoint is a local socket that accepts and never
           answers (the worst case: a network that drops packets to
           169.254.169.254 is what makes SDKs hang for 30 s);
  no route the real default endpoints (169.254.169.254,
           metadata.google.internal) inside a network namespace with only
           loopback (`unshare -n`), where they fail at once.
The cache hit: an IMDS-sourced ECR entry (principal imds:<endpoint>), run
again with the metadata server gone: instructions from callgrind, wall time
from wait4.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))
import peers  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
DCGEN = os.path.abspath(os.environ.get("DCGEN_BIN", f"{ROOT}/build/dcgen"))


def base(**extra):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    e.update(extra)
    return {k: v for k, v in e.items() if v is not None}


def run(env, out, netns=False):
    cmd = [DCGEN, out]
    if netns:
        cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up 2>/dev/null; exec "$@"', "sh"] + cmd
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    return time.monotonic() - t, p.returncode, p.stderr.strip().splitlines()[-1:] or [""]


def series(name, env, out, netns=False):
    walls, last = [], None
    for _ in range(RUNS):
        w, rc, line = run(env, out, netns)
        walls.append(w)
        last = (rc, line[0])
    return name, statistics.median(walls), max(walls), last


def main():
    work = tempfile.mkdtemp(prefix="dcgen-bench-chains-")
    out = f"{work}/out.json"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)  # accepts (the kernel does), never answers
    sp = silent.getsockname()[1]
    rows = [
        series("ecr, silent IMDS", base(DCGEN_PROVIDER="ecr", AWS_REGION="us-east-1",
                                        AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{sp}"), out),
        series("gcr, silent metadata server", base(DCGEN_PROVIDER="gcr", GCE_METADATA_HOST=f"127.0.0.1:{sp}"), out),
        series("acr, silent IMDS", base(AZURE_REGISTRY="myregistry",
                                        AZURE_POD_IDENTITY_AUTHORITY_HOST=f"http://127.0.0.1:{sp}"), out),
    ]
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        rows += [
            series("ecr, no route (unshare -n)", base(DCGEN_PROVIDER="ecr", AWS_REGION="us-east-1"), out, True),
            series("gcr, no route (unshare -n)", base(DCGEN_PROVIDER="gcr"), out, True),
            series("acr, no route (unshare -n)", base(AZURE_REGISTRY="myregistry"), out, True),
        ]
    print("### Nothing configured, off a cloud\n")
    print("| case | median | max | exit | the line |")
    print("| --- | --- | --- | --- | --- |")
    for name, med, mx, (rc, line) in rows:
        print(f"| {name} | {med * 1000:.0f} ms | {mx * 1000:.0f} ms | {rc} | {line[:160]}... |")
    silent.close()

    # a cache hit for a chained source
    from aws_json_server import AwsJsonServer
    from aws_meta_server import Imds
    temp = {"AccessKeyId": "ASIABENCHCHAIN000001", "SecretAccessKey": "bench/chain+secret", "SessionToken": "tok"}
    imds = Imds(temp).start()
    ecr = AwsJsonServer({temp["AccessKeyId"]: (temp["SecretAccessKey"], temp["SessionToken"])}).start()
    env = base(DCGEN_PROVIDER="ecr", AWS_REGION="us-east-1", AWS_ENDPOINT_URL=ecr.url,
               AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url, DCGEN_CACHE_DIR=f"{work}/cache")
    w, rc, _ = run(env, out)
    imds.close()
    ecr.close()
    hits = [run(env, out)[0] for _ in range(RUNS)]
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", DCGEN, out],
                       env=env, capture_output=True, text=True)
    ins = next((int(x.split(":")[-1]) for x in p.stderr.splitlines() if "Collected :" in x), None)
    print("\n### Cache hit, IMDS-sourced ECR entry (metadata server and ECR stopped)\n")
    print(f"first run (IMDS PUT+2 GETs, ECR): {w * 1000:.0f} ms, exit {rc}; "
          f"hit: median {statistics.median(hits) * 1000:.1f} ms; {ins:,} instructions (callgrind)")
    peers.stop  # noqa: B018  (peers imported for the test servers' path)


if __name__ == "__main__":
    main()
