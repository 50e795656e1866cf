#!/bin/sh
# deps.sh -- `make deps`: the one step that installs and fetches what building
# and testing dcgen needs; configuring and building never do (they fail with a
# line naming `make deps` instead). Safe to run again: it does nothing when
# everything is in place.
#
#   sh scripts/deps.sh [bench]
#
# 1. Debian packages through apt-get (as root, or with sudo), when missing.
# 2. The static libcurl (scripts/static-curl.sh) into DCGEN_DEPS_DIR (default
#    .deps), unless DCGEN_STATIC=0.
# 3. The Python the tests run with, written to DCGEN_DEPS_DIR/python (CMake
#    reads it): the one chosen before if it still has tests/requirements.txt;
#    else a venv in DCGEN_DEPS_DIR/venv with them installed from PyPI (never
#    the system interpreter: Debian refuses that, PEP 668); else, where PyPI
#    is not reachable, an interpreter that already has exactly those versions
#    (python3, /usr/bin/python3). DCGEN_PYTHON=/path/to/python3 chooses one
#    (it must have them). It says which.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
deps=${DCGEN_DEPS_DIR:-$root/.deps}
case $deps in /*) ;; *) deps=$PWD/$deps ;; esac

# The static build also needs dpkg-dev (apt-get source) and the static zlib;
# openssl and ca-certificates: the CA bundle the images bake in, and test
# certificates. python3-venv: the tests' venv. util-linux and iproute2:
# unshare and ip for the tests' network namespaces. clang and libclang-rt-dev
# (Debian's current LLVM, with libFuzzer): the fuzz targets (make fuzz, and
# the smoke make test runs). lld: the static link, in hot-path order.
PACKAGES="build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev libjansson-dev
libyaml-dev libarchive-dev zlib1g-dev dpkg-dev docker-registry skopeo apache2-utils curl python3
python3-pip python3-venv openssl ca-certificates strace procps util-linux iproute2 busybox-static git
clang libclang-rt-dev lld amazon-ecr-credential-helper"
# The image tests start a private engine (tests/integration/engine.py). Debian's
# docker.io only where no engine is installed: it conflicts with Docker's own
# packages, which serve as well.
{ command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ]; } || PACKAGES="$PACKAGES docker.io"
# kubectl reads the k8s-secret output (tests/integration/test_helper_docker.py):
# Debian's kubernetes-client where no kubectl is installed (google-cloud-cli's serves).
command -v kubectl >/dev/null 2>&1 || PACKAGES="$PACKAGES kubernetes-client"
# `deps.sh bench`: also the peers make bench compares with and measures by.
[ "${1:-}" = bench ] && PACKAGES="$PACKAGES nginx-light awscli valgrind docker-compose"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

case ${DCGEN_STATIC:-1} in
0 | OFF | off | Off | NO | no | N | n | FALSE | false | False) ;;
*) sh "$root/scripts/static-curl.sh" "$deps" >/dev/null ;;
esac

# --- the tests' Python -------------------------------------------------------
req=$root/tests/requirements.txt

# has_reqs PYTHON: prints the interpreter's real path when it has every
# package of tests/requirements.txt at exactly that version; else what differs.
has_reqs() {
	"$1" - "$req" <<'EOF'
import re, sys
from importlib import metadata
wrong = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, want = re.match(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?==(\S+)$", line).groups()
    try:
        have = metadata.version(name)
    except metadata.PackageNotFoundError:
        have = "missing"
    if have != want:
        wrong.append(f"{name} {have} (wants {want})")
if wrong:
    print(", ".join(wrong))
    sys.exit(1)
print(sys.executable)
EOF
}

mkdir -p "$deps"
chosen=""
if [ -n "${DCGEN_PYTHON:-}" ]; then
	py=$(has_reqs "$DCGEN_PYTHON") || {
		echo "deps: DCGEN_PYTHON=$DCGEN_PYTHON lacks: $py; pip install -r tests/requirements.txt" >&2
		exit 1
	}
	chosen=$py
	how="DCGEN_PYTHON"
elif [ -s "$deps/python" ] && py=$(has_reqs "$(cat "$deps/python")" 2>/dev/null); then
	chosen=$py
	how="as before"
elif [ -x "$deps/venv/bin/python" ] && py=$(has_reqs "$deps/venv/bin/python" 2>/dev/null); then
	chosen=$py
	how="the venv"
else
	base=/usr/bin/python3
	[ -x "$base" ] || base=python3
	rm -rf "$deps/venv"
	if "$base" -m venv "$deps/venv" >/dev/null 2>&1 &&
		"$deps/venv/bin/python" -m pip install --quiet --retries 1 --timeout 20 -r "$req" >"$deps/venv.log" 2>&1 &&
		py=$(has_reqs "$deps/venv/bin/python"); then
		chosen=$py
		how="a venv, installed from PyPI"
	else
		echo "deps: cannot install tests/requirements.txt into $deps/venv (PyPI not reachable?" \
			"see $deps/venv.log); looking for an interpreter that has them" >&2
		rm -rf "$deps/venv"
		for cand in python3 /usr/bin/python3; do
			command -v "$cand" >/dev/null 2>&1 || continue
			if py=$(has_reqs "$cand" 2>/dev/null); then
				chosen=$py
				how="an interpreter that already has them ($cand)"
				break
			fi
			echo "deps: $cand lacks: $py" >&2
		done
	fi
fi
if [ -z "$chosen" ]; then
	echo "deps: no Python for the tests: PyPI is not reachable and no interpreter has" \
		"tests/requirements.txt; install them (pip install -r tests/requirements.txt)" \
		"and run 'make deps DCGEN_PYTHON=/path/to/python3'" >&2
	exit 1
fi
echo "$chosen" >"$deps/python"
echo "deps: tests run with $chosen: $how"
