#!/bin/sh
# stats.sh -- the fuzzing figures so far, per target, from BUILD/fuzz/stats.tsv
# (fuzz/run.sh appends a line per run): total seconds, executions, the
# highest coverage (edges: cov) and features (ft) reached, runs that crashed,
# and the size of the working corpus.
#
#   sh fuzz/stats.sh [BUILD]          default build-fuzz
set -eu
build=${1:-build-fuzz}
tsv=$build/fuzz/stats.tsv
[ -f "$tsv" ] || { echo "fuzz: no runs recorded in $tsv yet" >&2; exit 1; }
printf '%-14s %8s %14s %6s %7s %8s %7s\n' target seconds executions cov ft crashes corpus
awk -F'\t' '{ s[$2] += $3; e[$2] += $4; if ($5 > c[$2]) c[$2] = $5; if ($6 > f[$2]) f[$2] = $6;
	if ($7 != "ok") x[$2]++ } END { for (t in s) printf "%s %d %d %d %d %d\n", t, s[t], e[t], c[t], f[t], x[t] }' "$tsv" |
	sort | while read -r t s e c f x; do
		n=$(ls "$build/fuzz/work/$t" 2>/dev/null | wc -l)
		printf '%-14s %8s %14s %6s %7s %8s %7s\n' "$t" "$s" "$e" "$c" "$f" "$x" "$n"
	done
