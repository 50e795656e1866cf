#!/usr/bin/env python3
"""parsers.py -- allocation-failure runs of every parser (the unit paths of
curl-style torture): for each fuzz target, fuzz_<t>_torture (fuzz/torture.c)
calls the parser's entry on every input of fuzz/corpus/<t>/ once per n, with
the n-th allocation failing, in one process, LeakSanitizer checking after
each run. A target passes when no run crashes, trips ASan or UBSan, or leaks.

A report that is a library's own fault, after one of ITS allocations failed,
is listed and not counted against dcgen, then the sweep goes on at the next
n: the failed allocation was made inside the library, and the crash, or
every leaked block, is inside the library too (libyaml 0.2.5 leaks a
sequence's or mapping's item stack when adding its node fails; see
tests/torture/lsan.supp for OpenSSL's). Anything else fails the test.

    DCGEN_BUILD_DIR=build python3 tests/torture/parsers.py [TARGET...]   (default: every one built)
"""
import os
import re
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
BUILD = os.environ.get("DCGEN_BUILD_DIR", os.path.join(root, "build"))
SAN_EXIT = 86
# Frame-pointer stacks for the sweep (the libraries' are cut short, 17x
# faster); a fault is run again alone with full stacks, to be classified.
# handle_abort: a library's failed assert() gets a stack too
ASAN = (f"detect_leaks=1:malloc_context_size=30:exitcode={SAN_EXIT}:abort_on_error=0:allocator_may_return_null=1:"
        "handle_abort=1")
ENV = dict(os.environ, ASAN_OPTIONS=ASAN,
           LSAN_OPTIONS=f"exitcode={SAN_EXIT}:suppressions={os.path.join(here, 'lsan.supp')}:print_suppressions=0",
           UBSAN_OPTIONS=f"print_stacktrace=1:halt_on_error=1:exitcode={SAN_EXIT}")
# frames of the allocator and the harness, not the code that asked for memory
WRAPPERS = re.compile(r"^(?:__wrap_|__interceptor_|__asan|__sanitizer|__lsan|failalloc_)\w*$|"
                      r"^(fail_now|record_site|dc_secret_mem_\w+|dc_secret_strdup|ossl_malloc|ossl_realloc|malloc|"
                      r"calloc|realloc|strdup|strndup|yaml_malloc|yaml_realloc|yaml_strdup|CRYPTO_malloc|"
                      r"CRYPTO_zalloc|CRYPTO_realloc|CRYPTO_strdup|CRYPTO_strndup)$")
FRAME = re.compile(r"^\s*#(\d+) 0x[0-9a-f]+(?: in (\S+))?(?:\s+\(?([^ )+]+))?")
LIBRARY = re.compile(r"lib(yaml|jansson|crypto|ssl|curl)[-.]")
# libc's abort() path, by module or by its sources' directories
LIBC = re.compile(r"/libc\.so|^(\.\./|\./)?(nptl|sysdeps|stdlib|assert|signal)/")


def is_library(func, module):
    """A frame in a library: a shared library's module, or libyaml's
    functions (linked into the torture binaries)."""
    return func.startswith("yaml_") or bool(module and LIBRARY.search(os.path.basename(module)))


def stacks_of(report):
    """The stacks of a sanitizer report: [(function, module)] per stack."""
    stacks, cur = [], None
    for line in report.splitlines():
        m = FRAME.match(line)
        if not m:
            continue
        if m.group(1) == "0":
            cur = []
            stacks.append(cur)
        if cur is not None:
            cur.append((m.group(2) or "", m.group(3) or ""))
    return stacks


def innermost(stack):
    """The first frame past the allocator, and past libc's abort() path."""
    return next(((f, mod) for f, mod in stack if not WRAPPERS.match(f) and not LIBC.search(mod)), ("?", ""))


def describe(frame, stack=()):
    """A frame as a reader wants it: the function, else the module (and
    the first named function of the stack)."""
    func, mod = frame
    if func and func != "?":
        return func
    named = next((f for f, m in stack if f and f != "?" and not WRAPPERS.match(f) and not LIBC.search(m)), None)
    return f"{os.path.basename(mod) or '?'}" + (f" (under {named})" if named else "")


def site(binary, site_file):
    """The function that asked for the failed allocation, from failalloc's
    TORTURE_ALLOC_SITE (module+offset per frame), symbolized."""
    if not os.path.exists(site_file):
        return ("?", "")
    frames = []
    for line in open(site_file):
        mod, _, off = line.strip().rpartition(" ")
        frames.append((mod, off))
    own = [off for mod, off in frames if os.path.realpath(mod) == os.path.realpath(binary)]
    names = {}
    if own:
        out = subprocess.run(["addr2line", "-f", "-e", binary] + own, capture_output=True, text=True).stdout
        lines = out.splitlines()
        names = {off: lines[2 * i] for i, off in enumerate(own) if 2 * i < len(lines)}
    for mod, off in frames:
        func = names.get(off, "?") if os.path.realpath(mod) == os.path.realpath(binary) else "?"
        if os.path.realpath(mod) != os.path.realpath(binary):
            if re.search(r"libasan|libubsan|libc\.so|libgcc", mod):
                continue
            return ("?", mod)
        if func in ("?", "main", "run_one") or WRAPPERS.match(func) or func == "LLVMFuzzerTestOneInput":
            continue
        return (func, mod)
    return ("?", "")


def library_owned(report, failed_at):
    """The failed allocation was a library's, and so is the fault: the
    innermost frame of a crash, or of every leaked block."""
    if not is_library(*failed_at):
        return False
    stacks = stacks_of(report)
    if not stacks:
        return False
    if "LeakSanitizer" not in report:
        return is_library(*innermost(stacks[0]))
    return all(is_library(*innermost(st)) for st in stacks)


def torture(target):
    binary = os.path.join(BUILD, "fuzz", f"fuzz_{target}_torture")
    corpus = os.path.join(root, "fuzz", "corpus", target)
    failures, library, runs, most, resume = [], [], 0, 0, None
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"dcgen-ptorture-{target}-") as tmp:
        state, site_file = os.path.join(tmp, "state"), os.path.join(tmp, "site")
        env = dict(ENV, TORTURE_STATE=state, TORTURE_ALLOC_SITE=site_file)
        while True:
            args = [binary] + (["-r", resume] if resume else []) + [corpus]
            try:
                p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                failures.append("still running after 900 s")
                break
            m = re.search(r"torture: \d+ inputs, (\d+) runs, at most (\d+)", p.stdout)
            if p.returncode == 0 and m:
                runs += int(m.group(1))
                most = max(most, int(m.group(2)))
                break
            where = open(state).read().split(" ", 3) if os.path.exists(state) else ["?", "0", "0", "?"]
            k, n, name = where[0], int(where[1]), where[3].strip() if len(where) > 3 else "?"
            runs += int(where[2]) + 1
            report = p.stderr.strip()
            if n:
                again = subprocess.run([binary, "-r", f"{k}:{n}", corpus], capture_output=True, text=True,
                                       env=dict(env, TORTURE_ONE="1",
                                                ASAN_OPTIONS=ASAN + ":fast_unwind_on_malloc=0"), timeout=900)
                if again.returncode != 0:
                    report = again.stderr.strip()
            failed_at = site(binary, site_file) if n else ("?", "")
            if n and (p.returncode == SAN_EXIT or p.returncode < 0) and library_owned(report, failed_at):
                first = stacks_of(report)[0]
                library.append(f"{os.path.basename(name)} n={n}: allocation failed in {describe(failed_at)}, "
                               f"{'leak' if 'LeakSanitizer' in report else 'crash'} in "
                               f"{describe(innermost(first), first)}")
                resume = f"{k}:{n + 1}"
                continue
            first = next((line for line in report.splitlines()
                          if re.search(r"ERROR|runtime error|torture:", line)), report[:200])
            failures.append(f"{os.path.basename(name)} n={n} (allocation failed in {describe(failed_at)}), exit {p.returncode}: "
                            f"{first.strip()}\n{report[-3000:]}")
            if not n:
                break
            resume = f"{k}:{n + 1}"
            if len(failures) >= 10:
                break
    inputs = len([f for f in os.listdir(corpus) if not f.startswith(".")])
    print(f"torture {target}: {inputs} inputs, {runs} runs (every n), at most {most} allocations per input, "
          f"{time.monotonic() - start:.1f} s; {len(failures)} failures, {len(library)} library faults",
          flush=True)
    for line in library:
        print(f"  library: {line}")
    for line in failures:
        print(f"  FAIL {line}")
    return len(failures)


def main():
    built = os.path.join(BUILD, "fuzz")
    targets = sys.argv[1:] or sorted(f[len("fuzz_"):-len("_torture")] for f in os.listdir(built)
                                     if f.startswith("fuzz_") and f.endswith("_torture")) \
        if os.path.isdir(built) else sys.argv[1:]
    if not targets:
        print(f"parsers: no fuzz_*_torture in {built} (a sanitized build: DCGEN_SANITIZE=ON)", file=sys.stderr)
        return 1
    missing = [t for t in targets if not os.path.exists(os.path.join(BUILD, "fuzz", f"fuzz_{t}_torture"))]
    if missing:
        print(f"parsers: not built: {' '.join(missing)} (a sanitized build: DCGEN_SANITIZE=ON)", file=sys.stderr)
        return 1
    return 1 if sum(torture(t) for t in targets) else 0


if __name__ == "__main__":
    sys.exit(main())
