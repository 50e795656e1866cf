#!/usr/bin/env python3
"""torture.py -- allocation-failure runs of dcgen (curl's torture tests, for
dcgen): each scenario runs the real binary (dcgen-torture: dcgen under
ASan+UBSan with tests/torture/failalloc.c wrapped around every allocation)
against the tests' local peers on 127.0.0.1, first once to count the
allocations (N), then once per n in 1..N with the n-th allocation failing.

Every run must end cleanly:
  - no crash, no sanitizer report (ASan, UBSan, LeakSanitizer: exit 86);
  - exit 0 with a complete dockercfg, or exit 1 or 2 with a one-line message
    on stderr and no output file;
  - nothing half written: no temporary file left in the output or the cache
    directory, and an unfailed run on the same cache directory afterwards
    succeeds (a damaged entry would be served or break it);
  - no secret on stderr.
It prints, per scenario, N, the outcomes, and the distinct allocation sites
failed (the first stack frame outside the allocator wrappers: in dcgen's code,
or in libcurl, OpenSSL, jansson, libc).

    DCGEN_TORTURE_BIN=build/dcgen-torture python3 tests/torture/torture.py [SCENARIO...]
    TORTURE_MAX_RUNS=k at most k runs per scenario, spread evenly over 1..N
                       (make test: 300; 0, the default and make torture: every n)
    TORTURE_JOBS=j     runs at once (default 2)
"""
import base64
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "peers"))
sys.path.insert(0, os.path.join(here, "..", "integration"))

import jwt_rs256  # noqa: E402
from aws_json_server import AwsJsonServer  # noqa: E402
from azure_server import AadServer, AcrServer  # noqa: E402
from google_server import GoogleServer  # noqa: E402

BIN = os.environ.get("DCGEN_TORTURE_BIN") or os.path.join(os.environ.get("DCGEN_BUILD_DIR", "build"),
                                                          "dcgen-torture")
SAN_EXIT = 86
# Frame-pointer stacks for the sweep: the libraries' stacks are cut short,
# but the gcr sweep (every n) takes 328 s instead of over an hour. A run with
# a report is repeated with whole stacks (SLOW), and that run is judged.
SAN_ENV = {"ASAN_OPTIONS": f"detect_leaks=1:malloc_context_size=30:exitcode={SAN_EXIT}:abort_on_error=0:allocator_may_return_null=1",
           "LSAN_OPTIONS": f"exitcode={SAN_EXIT}:suppressions={os.path.join(here, 'lsan.supp')}:print_suppressions=0",
           "UBSAN_OPTIONS": f"print_stacktrace=1:halt_on_error=1:exitcode={SAN_EXIT}"}
SLOW = {"ASAN_OPTIONS": SAN_ENV["ASAN_OPTIONS"] + ":fast_unwind_on_malloc=0"}
SAN_TEXT = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer")
# frames that are the allocator, not the site that asked for memory
WRAPPERS = re.compile(r"^(__wrap_|fail_now|record_site|dc_secret_mem_|dc_secret_strdup|ossl_malloc|ossl_realloc|"
                      r"__interceptor_|__asan|malloc|calloc|realloc|strdup|strndup)")
AWS_KEY = ("AKIDTORTURE0001", "torture/secret+key=0123")
JOBS = int(os.environ.get("TORTURE_JOBS", "2"))


class Scenario:
    """A peer setup, an environment and what a successful output holds."""
    name = ""
    hosts = ()
    cached = False

    def secrets(self):
        return []

    def setup(self):
        pass

    def close(self):
        pass


class Ecr(Scenario):
    """ECR through the AWS peer, with a cache directory: fetch, seal, store."""
    name = "ecr-fetch"
    hosts = ("123456789012.dkr.ecr.us-east-1.amazonaws.com",)
    cached = False

    def setup(self):
        self.srv = AwsJsonServer({AWS_KEY[0]: (AWS_KEY[1], None)}).start()

    def env(self, cache):
        return {"AWS_ACCESS_KEY_ID": AWS_KEY[0], "AWS_SECRET_ACCESS_KEY": AWS_KEY[1],
                "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.srv.url, "DCGEN_CACHE_DIR": cache,
                "DCGEN_TIMEOUT": "10"}

    def secrets(self):
        return [AWS_KEY[1], self.srv.token_prefix]

    def close(self):
        self.srv.close()


class EcrCached(Ecr):
    """ECR served from a fresh cache entry: open the cache, unseal, write."""
    name = "ecr-cached"
    cached = True


class Gcr(Scenario):
    """GCR with a service-account key: parse, sign the grant (OpenSSL), token."""
    name = "gcr"
    hosts = ("gcr.io", "us.gcr.io", "eu.gcr.io", "asia.gcr.io")

    def setup(self):
        self.srv = GoogleServer().start()
        self.key = self.srv.add_account("torture@dcgen-test.iam.gserviceaccount.com", "dcgen-test")

    def env(self, cache):
        return {"GOOGLE_AUTH_JSON": json.dumps(self.key), "DCGEN_TIMEOUT": "10"}

    def secrets(self):
        lines = [ln for ln in self.key["private_key"].splitlines() if len(ln) > 16 and "-----" not in ln]
        return [self.srv.token] + lines

    def close(self):
        self.srv.close()


class Acr(Scenario):
    """ACR with a service principal: Azure AD, then the exchange."""
    name = "acr"

    def setup(self):
        self.aad = AadServer("torture-tenant", {"torture-client": "torture-secret-0123456789"}).start()
        self.acr = AcrServer("torture-tenant", self.aad.public_key).start()
        self.hosts = (self.acr.host,)

    def env(self, cache):
        return {"AZURE_REGISTRY": self.acr.url, "AZURE_AUTHORITY_HOST": self.aad.url,
                "AZURE_CLIENT_ID": "torture-client", "AZURE_TENANT_ID": "torture-tenant",
                "AZURE_CLIENT_SECRET": "torture-secret-0123456789", "DCGEN_TIMEOUT": "10"}

    def secrets(self):
        return ["torture-secret-0123456789", self.acr.refresh_token]

    def close(self):
        self.aad.close()
        self.acr.close()


SCENARIOS = {s.name: s for s in (Ecr, EcrCached, Gcr, Acr)}


def run(scn, work, fail_at=0, count_file=None, site_file=None, slow=False):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **SAN_ENV, **(SLOW if slow else {}),
           **scn.env(os.path.join(work, "cache"))}
    if fail_at:
        env["TORTURE_FAIL_ALLOC"] = str(fail_at)
    if count_file:
        env["TORTURE_ALLOC_COUNT"] = count_file
    if site_file:
        env["TORTURE_ALLOC_SITE"] = site_file
    out = os.path.join(work, "out", "dockercfg")
    try:
        p = subprocess.run([BIN, out], env=env, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired as e:  # a hang is a finding, not the end of the run
        return "hung", (e.stderr or b"").decode("utf-8", "replace"), out
    return p.returncode, p.stderr.decode("utf-8", "replace"), out


def leftovers(work, out):
    """Files that are neither the output nor a cache file: temp files left behind."""
    bad = []
    for d, allowed in ((os.path.dirname(out), {os.path.basename(out)}), (os.path.join(work, "cache"), None)):
        if not os.path.isdir(d):
            continue
        for f in os.listdir(d):
            if allowed is not None and f not in allowed:
                bad.append(os.path.join(d, f))
            if allowed is None and not (f == "cache.key" or re.fullmatch(r"[0-9a-f]{32}\.(entry|lock|state)", f)):
                bad.append(os.path.join(d, f))
    return bad


def check_output(scn, out):
    with open(out) as f:
        doc = json.load(f)
    auths = doc.get("auths", doc)
    if set(auths) != set(scn.hosts):
        raise AssertionError(f"hosts {sorted(auths)} != {sorted(scn.hosts)}")
    for entry in auths.values():
        user, _, secret = base64.b64decode(entry["auth"]).decode().partition(":")
        if not user or not secret:
            raise AssertionError("an empty user name or secret")


def symbolize(sites):
    """{(module, offset)} -> {(module, offset): function} for the torture binary's frames."""
    names = {}
    own = [off for mod, off in sites if os.path.realpath(mod) == os.path.realpath(BIN)]
    if own:
        p = subprocess.run(["addr2line", "-f", "-e", BIN] + [hex(int(o, 16) - 1) for o in own],
                           capture_output=True, text=True)
        lines = p.stdout.splitlines()
        for i, off in enumerate(own):
            names[(BIN, off)] = lines[2 * i] if 2 * i < len(lines) else "?"
    return names


FRAME = re.compile(r"^\s*#\d+ 0x[0-9a-f]+(?: in (\S+))?.*?\(([^)+]+)\+0x[0-9a-f]+\)|^\s*#\d+ 0x[0-9a-f]+ in (\S+) (\S+)")
# library calls inside which the library owns what it allocates: a transfer
TRANSFERS = {"curl_easy_perform", "curl_multi_perform"}


def library_owned(report):
    """True when a crash's innermost frame is a library's, or when every
    stack of a sanitizer report (each leaked block's allocation) is a
    library's own work during a libcurl transfer:
    from the top, past the allocator wrappers, library frames up to a
    transfer call before any frame of dcgen's. Such a report is the
    library's (OpenSSL 3.0 under curl, after an allocation failed inside
    it), listed but not counted against dcgen."""
    stacks, cur = [], None
    for line in report.splitlines():
        m = FRAME.match(line)
        if not m:
            continue
        if re.match(r"^\s*#0 ", line):
            cur = []
            stacks.append(cur)
        if cur is None:
            continue
        func = m.group(1) or m.group(3) or ""
        mod = m.group(2) or m.group(4) or ""
        own = os.path.basename(BIN) in mod or mod.startswith("./src/") or mod.startswith("src/")
        cur.append((func, own, mod))
    if not stacks:
        return False
    # a crash (no leak report) whose innermost frame is a library's, past
    # the allocator: the library failed inside itself after its own
    # allocation failed (jansson 2.14's json_loadb, OpenSSL's EVP_MD_fetch)
    if "DEADLYSIGNAL" in report or "SEGV" in report:
        top = next(((f, o, m) for f, o, m in stacks[0] if not WRAPPERS.match(f) and "sanitizer" not in f), None)
        # not libc's: dcgen handing libc a NULL would crash there
        if top and not top[1] and re.search(r"lib(crypto|ssl|curl|jansson)", top[2]) and \
                "LeakSanitizer" not in report:
            return True
    for st in stacks:
        owned = False
        for func, own, _ in st:
            if WRAPPERS.match(func) or func.startswith("__interceptor") or "sanitizer" in func:
                continue
            if func in TRANSFERS:
                owned = True
                break
            if own:
                break
        if not owned:
            return False
    return True


def site_of(stack, names):
    """The first frame outside the allocator: ('dcgen', function) or (library, offset)."""
    for mod, off in stack:
        if os.path.realpath(mod) == os.path.realpath(BIN):
            fn = names.get((BIN, off), "?")
            if not WRAPPERS.match(fn):
                return ("dcgen", fn)
        elif not re.search(r"libasan|libubsan|libc\.so|libgcc", mod):
            return (os.path.basename(mod), off)
    return ("?", "?")


def torture(scn_cls, max_runs):
    scn = scn_cls()
    scn.setup()
    tmp = tempfile.mkdtemp(prefix=f"dcgen-torture-{scn.name}-")
    failures = []
    library = []   # sanitizer reports inside a library's own work (library_owned)
    outcomes = {}
    stacks = {}
    try:
        template = os.path.join(tmp, "template")
        os.makedirs(os.path.join(template, "out"))
        count_file = os.path.join(tmp, "count")
        if scn.cached:  # a fresh entry the runs are served from
            rc, err, out = run(scn, template)
            assert rc == 0, err
            os.unlink(out)
        counted = os.path.join(tmp, "counted")
        shutil.copytree(template, counted, symlinks=True)
        rc, err, out = run(scn, counted, count_file=count_file)
        assert rc == 0, f"the unfailed run failed ({rc}): {err}"
        check_output(scn, out)
        total = int(open(count_file).read())
        shutil.rmtree(counted)
        # every n, or an even spread of at most max_runs of them
        stride = 1 if not max_runs or total <= max_runs else -(-total // max_runs)
        start = time.monotonic()

        def one(n):
            work = os.path.join(tmp, f"run{n}")
            shutil.copytree(template, work, symlinks=True)
            site_file = os.path.join(tmp, f"site{n}")
            if os.path.exists(site_file):
                os.unlink(site_file)
            rc, err, out = run(scn, work, fail_at=n, site_file=site_file)
            if rc == SAN_EXIT or (isinstance(rc, int) and SAN_TEXT.search(err)):
                # again, from the start, with whole stacks: that run is judged
                # (a cut-short stack can miss its lsan.supp entry)
                shutil.rmtree(work, True)
                shutil.copytree(template, work, symlinks=True)
                rc, err, out = run(scn, work, fail_at=n, site_file=site_file, slow=True)
            stack = None
            if os.path.exists(site_file):
                stack = []
                for line in open(site_file):
                    mod, _, off = line.strip().rpartition(" ")
                    stack.append((mod, off))
                os.unlink(site_file)
            what = None
            lib_report = None
            if rc == "hung":
                what = "still running after 60 s"
            elif rc < 0:
                what = f"killed by signal {-rc}"
            elif (rc == SAN_EXIT or SAN_TEXT.search(err)) and library_owned(err):
                lib_report = err.strip()[-3000:]
            elif rc == SAN_EXIT or SAN_TEXT.search(err):
                what = "sanitizer report"
            elif rc not in (0, 1, 2):
                what = f"exit {rc}"
            elif rc == 0:
                try:
                    check_output(scn, out)
                except Exception as e:  # noqa: BLE001
                    what = f"exit 0 with a bad output: {e}"
            elif os.path.exists(out):
                what = f"exit {rc} but the output exists"
            elif not err.strip().startswith("dcgen:") and "dcgen" not in err:
                what = f"exit {rc} without a message"
            if not what and (left := leftovers(work, out)):
                what = f"left behind {left}"
            if not what and any(s in err for s in scn.secrets()):
                what = "a secret on stderr"
            cache = os.path.join(work, "cache")
            if not what and rc != 0 and os.path.isdir(cache):
                # a failed refresh is recorded for 30 s (by design), but not
                # a failure of this process's own (out of memory)
                for f in os.listdir(cache):
                    if f.endswith(".state"):
                        text = open(os.path.join(cache, f)).read()
                        if re.search(r"out of memory|cannot initialise", text):
                            what = f"a local failure recorded as a failed refresh: {text.strip()[:200]}"
                        os.unlink(os.path.join(cache, f))
            if not what and rc != 0 and os.path.isdir(cache):
                rc2, err2, out2 = run(scn, work)
                if rc2 != 0:
                    what = f"the next unfailed run failed ({rc2}): {err2.strip()[:300]}"
                else:
                    try:
                        check_output(scn, out2)
                    except Exception as e:  # noqa: BLE001
                        what = f"the next unfailed run wrote a bad output: {e}"
            shutil.rmtree(work, True)
            return n, rc, what, err, stack, lib_report

        ns = list(range(1, total + 1, stride))
        with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
            for n, rc, what, err, stack, lib_report in pool.map(one, ns):
                outcomes[rc] = outcomes.get(rc, 0) + 1
                if stack is not None:
                    stacks[n] = stack
                if lib_report:
                    library.append((n, lib_report))
                if what:
                    failures.append((n, what, err.strip()[-2000:]))
        seconds = time.monotonic() - start
    finally:
        scn.close()
        shutil.rmtree(tmp, True)
    frames = {f for st in stacks.values() for f in st}
    names = symbolize(frames)
    sites = {}
    for n, st in stacks.items():
        sites.setdefault(site_of(st, names), []).append(n)
    own = sorted(s for s in sites if s[0] == "dcgen")
    lib = sorted(s for s in sites if s[0] != "dcgen")
    print(f"torture {scn.name}: {total} allocations, {len(ns)} runs (every {stride}) in {seconds:.0f} s; "
          f"exits {dict(sorted(outcomes.items(), key=str))}; {len(sites)} distinct sites failed "
          f"({len(own)} in dcgen's code, {len(lib)} in libraries); {len(failures)} unclean; "
          f"{len(library)} sanitizer reports inside a library's transfer", flush=True)
    if os.environ.get("TORTURE_SITES"):
        for s in own + lib:
            print(f"  site {s[0]}:{s[1]} x{len(sites[s])}")
    for n, err in library[:5]:
        print(f"  library n={n} (site {site_of(stacks.get(n, []), names)}): "
              f"{' | '.join(l.strip() for l in err.splitlines() if 'ERROR' in l or '#0 ' in l)[:300]}")
    for n, what, err in failures[:20]:
        print(f"  FAIL n={n}: {what}\n    site: {site_of(stacks.get(n, []), names)}\n    stderr: {err}",
              flush=True)
    return failures, len(own), len(lib)


def main():
    if not os.path.exists(BIN):
        print(f"torture: no {BIN}; build with DCGEN_SANITIZE=ON", file=sys.stderr)
        return 1
    max_runs = int(os.environ.get("TORTURE_MAX_RUNS", "0"))
    names = sys.argv[1:] or list(SCENARIOS)
    bad = 0
    for name in names:
        failures, _, _ = torture(SCENARIOS[name], max_runs)
        bad += len(failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
