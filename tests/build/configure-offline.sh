#!/bin/sh
# configure-offline.sh -- `cmake -S . -B DIR` has no side effects: it succeeds
# in a network namespace with no network at all (after `make deps`), and
# reports how long it took.
#
#   sh tests/build/configure-offline.sh SRC BUILD DEPS_DIR STATIC(ON|OFF)
#
# Exits 77 (skipped; CI fails on skips) when `unshare -n` is not allowed here.
set -eu
src=$1 build=$2 deps=$3 static=$4
dir=$(mktemp -d "$build/configure-offline.XXXXXX")
trap 'rm -rf "$dir"' EXIT
if ! unshare -n true 2>/dev/null; then
	echo "SKIPPED: 'unshare -n' is not allowed here (needs root or user namespaces)" >&2
	exit 77
fi
start=$(date +%s.%N)
unshare -n sh -c 'ip link set lo up 2>/dev/null || true; exec "$@"' sh \
	cmake -S "$src" -B "$dir" -DDCGEN_STATIC="$static" -DDCGEN_DEPS_DIR="$deps" >"$dir/configure.log" 2>&1 || {
	cat "$dir/configure.log" >&2
	echo "configure failed without a network" >&2
	exit 1
}
end=$(date +%s.%N)
grep -E '^-- dcgen' "$dir/configure.log" || true
echo "configure-offline: cmake -S . -B ... (DCGEN_STATIC=$static) succeeded with no network in $(awk "BEGIN { printf \"%.2f\", $end - $start }") s"
