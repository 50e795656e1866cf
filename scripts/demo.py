#!/usr/bin/env python3
"""make demo: dcgen's main job, start to finish, on this machine only.

Starts moto (AWS ECR and IAM, signatures checked) and a docker-registry with
htpasswd on 127.0.0.1, creates an IAM user, runs dcgen as a CI job would,
shows the written file with the secret masked, proves it with real clients
(curl on the registry's /v2/, then a skopeo push), and stops what it started.
"""
import base64
import json
import os
import shlex
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import peers  # noqa: E402

DCGEN = os.path.join(HERE, "..", "build", "dcgen")


def step(text):
    print(f"\n== {text}", flush=True)


def mask(doc):
    out = json.loads(json.dumps(doc))
    for entry in out["auths"].values():
        user, _, secret = base64.b64decode(entry["auth"]).decode().partition(":")
        entry["auth"] = f"base64({user}:{secret[:4]}…{len(secret)} chars)"
    return out


def main():
    moto = registry = None
    try:
        step("starting moto (ECR, IAM, STS) with signature checking on 127.0.0.1")
        moto = peers.Moto()
        print(f"moto at {moto.url}; IAM user 'ci' with access key {moto.key_id}")
        step("starting docker-registry with htpasswd on 127.0.0.1")
        registry = peers.Registry({"AWS": f"{peers.ACCOUNT}-auth-token"})
        print(f"registry at http://{registry.host}")

        out = tempfile.mkdtemp(prefix="dcgen-demo-")
        path = os.path.join(out, "dockercfg")
        env = moto.env()
        step("running the generator, as a CI job would")
        shown = {k: ("***" if k == "AWS_SECRET_ACCESS_KEY" else v) for k, v in env.items() if k != "PATH"}
        print(" ".join(f"{k}={shlex.quote(v)}" for k, v in shown.items()), "build/dcgen", path)
        r = subprocess.run([DCGEN, path], env=env)
        if r.returncode:
            sys.exit(f"dcgen failed with exit {r.returncode}")
        st = os.stat(path)
        print(f"\n{path}: {st.st_size} bytes, mode {oct(st.st_mode & 0o777)}")
        with open(path) as f:
            doc = json.load(f)
        print(json.dumps(mask(doc), indent=2, ensure_ascii=False))

        host, entry = next(iter(doc["auths"].items()))
        step(f"proving it: the local registry stands in for {host}")
        cmd = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "@-",
               f"http://{registry.host}/v2/"]
        code = subprocess.run(cmd, input=f"Authorization: Basic {entry['auth']}\n", text=True,
                              capture_output=True).stdout
        print(f"curl http://{registry.host}/v2/ with the written auth -> HTTP {code}")
        authfile = os.path.join(out, "auth.json")
        with open(authfile, "w") as f:
            json.dump({"auths": {registry.host: entry}}, f)
        p = peers.skopeo_push(authfile, registry.host, "demo/app:1")
        print(f"skopeo copy oci:… docker://{registry.host}/demo/app:1 -> "
              f"{'pushed' if p.returncode == 0 else 'FAILED: ' + p.stderr.strip()}")
        os.unlink(authfile)
        os.unlink(path)   # as the CI does: read it, delete it at once
        os.rmdir(out)
        if code != "200" or p.returncode:
            sys.exit("demo failed: the registry did not accept the credentials")
        step("done: dcgen wrote credentials a real registry client accepted")
    finally:
        for peer in (registry, moto):
            if peer:
                peer.close()


if __name__ == "__main__":
    main()
