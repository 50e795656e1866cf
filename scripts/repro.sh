#!/bin/sh
# repro.sh -- two static builds of this source tree, in two directories with
# different paths, give byte-identical binaries (dcgen and dcgen.stripped).
# Needs `make deps` first (the static libcurl); configures and builds only the
# dcgen targets, with the release flags of `make`. .ci/run runs it.
#
#   sh scripts/repro.sh [DEPS_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-${DCGEN_DEPS_DIR:-$root/.deps}}
a=$(mktemp -d "$root/build-repro-a.XXXXXX")
b=$(mktemp -d /tmp/dcgen-repro-b.XXXXXX)
trap 'rm -rf "$a" "$b"' EXIT
for d in "$a" "$b"; do
	cmake -S "$root" -B "$d" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCGEN_STATIC=ON \
		-DDCGEN_DEPS_DIR="$deps" >"$d/repro.log" 2>&1 || { cat "$d/repro.log" >&2; exit 1; }
	cmake --build "$d" -j"${JOBS:-2}" --target dcgen dcgen_stripped >>"$d/repro.log" 2>&1 ||
		{ cat "$d/repro.log" >&2; exit 1; }
done
rc=0
for f in dcgen dcgen.stripped; do
	sa=$(sha256sum <"$a/$f" | cut -d' ' -f1)
	sb=$(sha256sum <"$b/$f" | cut -d' ' -f1)
	if [ "$sa" = "$sb" ]; then
		echo "repro: $f identical in both builds: sha256 $sa ($(wc -c <"$a/$f") bytes)"
	else
		echo "repro: $f DIFFERS: $sa ($a) vs $sb ($b)" >&2
		cmp -l "$a/$f" "$b/$f" | head -5 >&2 || true
		rc=1
	fi
done
echo "repro: built as $("$a/dcgen" --version)"
exit $rc
