#!/bin/sh
# hot-path.sh -- regenerate scripts/hot-path.order, the symbol ordering file
# the static dcgen is linked with (lld --symbol-ordering-file, CMakeLists.txt).
#
# Why: a cache hit executes ~440 functions (~280 K instructions), but they
# lay spread over the 4 MB text of the static binary (dcgen's code between
# libc's, OpenSSL's, jansson's), 136 pages in 28 of its 64 KiB windows. The
# kernel maps a file page by page cache folio and fault-around window, so
# the hit's peak RSS was 2.4 MiB though it executes 0.5 MiB of code. Placing
# the functions a hit runs first, then those a cold ECR fetch adds, makes
# them neighbours: the hit maps 1.3 MiB (README, "Benchmarks").
#
# It runs the static build (BUILD, default build) under callgrind twice
# against the AWS peer on 127.0.0.1 (a cold ECR fetch, then the cache hit)
# and writes the functions executed, the hit's first. Needs valgrind
# (`make deps` with `bench`). Names the linker does not find are ignored
# (--no-warn-symbol-ordering), so a stale file costs memory, never a build.
#
#   sh scripts/hot-path.sh [BUILD]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$root/build}" && pwd)/dcgen
py=$(cat "$root/.deps/python" 2>/dev/null || command -v python3)
work=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
port=$((20000 + $$ % 20000))
"$py" "$root/tests/peers/aws_json_server.py" --port "$port" --key AKIDHOTPATH000001:hot-path-secret \
	--ready "$work/ready" >"$work/server.log" 2>&1 &
srv=$!
i=0
while [ ! -f "$work/ready" ]; do
	i=$((i + 1)); [ "$i" -lt 100 ] || { cat "$work/server.log" >&2; exit 1; }
	sleep 0.1
done
run() {
	env -i AWS_ACCESS_KEY_ID=AKIDHOTPATH000001 AWS_SECRET_ACCESS_KEY=hot-path-secret AWS_REGION=us-east-1 \
		AWS_ENDPOINT_URL="http://127.0.0.1:$port" DCGEN_CACHE_DIR="$work/cache" \
		valgrind -q --tool=callgrind --compress-strings=no --callgrind-out-file="$work/$1.out" \
		"$bin" "$work/dockercfg"
}
run cold
run hit
"$py" - "$work/hit.out" "$work/cold.out" >"$root/scripts/hot-path.order" <<'PY'
import re, sys
seen = set()
for path in sys.argv[1:]:
    for line in open(path):
        if not line.startswith("fn="):
            continue
        name = re.sub(r"'\d+$", "", re.sub(r"^\(\d+\) ", "", line[3:].strip()))
        if name and not name.startswith("0x") and " " not in name and name not in seen:
            seen.add(name)
            print(name)
PY
echo "hot-path: $(wc -l <"$root/scripts/hot-path.order") functions in scripts/hot-path.order"
