#!/usr/bin/env python3
"""make bench, runner table: 20 trivial run steps on one private engine.

    dcgen steps                      (a steps file of 20 `command: true` steps)
    sh script of docker run --rm     (20 lines: the floor)
    sh script of docker-compose run --rm  (Debian's docker-compose 1.29)

side by side in one run, each a direct child of bench/spawn (wall time, peak
RSS of the largest process: dcgen itself, a docker CLI, docker-compose). The
engine runs inside a network namespace of its own (unshare -n), as the runner
tests do, so dcgen's per-step networks are allowed and nothing leaves it.
Prints a table; asserts nothing. BENCH_RUNNER_RUNS=N runs per series (5).
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (timed, spawn)
import test_steps  # noqa: E402  (the private engine and the busybox image)

RUNS = int(os.environ.get("BENCH_RUNNER_RUNS", "5"))
STEPS = 20


def main():
    if os.environ.get(test_steps.NETNS_MARK) != "1":
        env = dict(os.environ, **{test_steps.NETNS_MARK: "1"})
        sys.exit(subprocess.call(["unshare", "-n", sys.executable, os.path.abspath(__file__)], env=env))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    dcgen = os.path.abspath(os.environ.get("DCGEN_BIN", f"{ROOT}/build/dcgen"))
    compose = shutil.which("docker-compose")
    docker = shutil.which("docker")
    work = tempfile.mkdtemp(prefix="dcgen-bench-runner-")
    bench.SPAWN = f"{work}/spawn"
    bench.sh("cc", "-O2", "-static", "-Wall", "-Werror", "-o", bench.SPAWN, f"{HERE}/spawn.c")
    eng = test_steps.ENGINE = test_steps.Dockerd()
    try:
        test_steps.make_busybox("busybox:latest")
        proj = os.path.join(work, "proj")
        os.mkdir(proj)
        with open(f"{proj}/codeship-services.yml", "w") as f:
            f.write("app:\n  image: busybox\n")
        with open(f"{proj}/docker-compose.yml", "w") as f:
            f.write("version: '2'\nservices:\n  app:\n    image: busybox\n")
        with open(f"{proj}/codeship-steps.yml", "w") as f:
            for i in range(STEPS):
                f.write(f"- name: step{i}\n  service: app\n  command: \"true\"\n")
        with open(f"{proj}/docker-run.sh", "w") as f:
            f.write("set -e\n" + f"{docker} run --rm busybox true\n" * STEPS)
        with open(f"{proj}/compose-run.sh", "w") as f:
            f.write("set -e\n" + f"{compose} run --rm app true\n" * STEPS)
        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": eng.dir, "DOCKER_HOST": eng.host,
               "DOCKER_CONFIG": eng.cli, "COMPOSE_PROJECT_NAME": "bench"}
        cmds = [("dcgen steps", [dcgen, "steps", "--dir", proj]),
                ("sh: docker run --rm x20", ["/bin/sh", f"{proj}/docker-run.sh"])]
        if compose:
            cmds.append(("sh: docker-compose run --rm x20", ["/bin/sh", f"{proj}/compose-run.sh"]))
        for _, cmd in cmds:  # warm up, and check each works
            bench.timed(cmd, env, cwd=proj)
        rows = {name: [] for name, _ in cmds}
        rss = {name: 0 for name, _ in cmds}
        for _ in range(RUNS):  # interleaved, so drift hits all alike
            for name, cmd in cmds:
                w, r, _ = bench.timed(cmd, env, cwd=proj)
                rows[name].append(w)
                rss[name] = max(rss[name], r)
        floor = statistics.median(rows[cmds[1][0]])
        print(f"\nRunner: {STEPS} trivial run steps on one engine, {RUNS} runs each "
              f"(median, min-max; peak RSS of the largest process)\n")
        print("| method | median | min - max | vs docker run | peak RSS |")
        print("| --- | --- | --- | --- | --- |")
        for name, _ in cmds:
            ws = rows[name]
            print(f"| {name} | {statistics.median(ws):.2f} s | {min(ws):.2f} - {max(ws):.2f} s | "
                  f"{statistics.median(ws) / floor:.2f}x | {rss[name] / 1024:.1f} MiB |")
        if not compose:
            print("| sh: docker-compose run --rm x20 | n/a (no docker-compose; scripts/deps.sh bench) | | | |")
    finally:
        eng.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
