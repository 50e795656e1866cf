#!/bin/sh
# run.sh -- `make fuzz`: run libFuzzer targets one after another, each for
# SECONDS, starting from fuzz/corpus/<t>/ (read only) and a working corpus
# in BUILD/fuzz/work/<t>/ (kept between runs: the next run goes on from it).
#
#   sh fuzz/run.sh BUILD SECONDS [TARGET...]      default: every fuzz_* in BUILD/fuzz
#
# Per run it appends "date target seconds execs cov ft status" to
# BUILD/fuzz/stats.tsv (fuzz/stats.sh sums them) and leaves the log in
# BUILD/fuzz/log-<t>.txt. A crash leaves its input in BUILD/fuzz/crash-<t>-*,
# is printed, and makes the script exit 1 after the remaining targets ran.
# Fix it, then add the input to fuzz/corpus/<t>/ (the regression test).
set -u
build=$1
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
bin=$build/fuzz
targets=${*:-$(cd "$bin" && ls fuzz_* 2>/dev/null | grep -v _replay | sed 's/^fuzz_//')}
[ -n "$targets" ] || { echo "fuzz: no targets in $bin; configure with -DDCGEN_FUZZ=ON" >&2; exit 1; }
failed=0
for t in $targets; do
	mkdir -p "$bin/work/$t"
	log=$bin/log-$t.txt
	# detect_leaks: a leak is a finding; -timeout: a hang of 10 s is one too
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$bin/crash-$t-" "$bin/work/$t" "$src/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
	ft=$(grep -Eo 'ft: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+')
	status=ok
	if [ "$rc" -ne 0 ]; then
		status=crash
		failed=1
		echo "fuzz: $t FAILED (exit $rc); see $log and $bin/crash-$t-*" >&2
		grep -E 'ERROR|runtime error|SUMMARY' "$log" | head -5 >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" "${execs:-0}" "${cov:-0}" \
		"${ft:-0}" "$status" >>"$bin/stats.tsv"
	echo "fuzz: $t: ${secs}s, ${execs:-0} runs, cov ${cov:-0}, ft ${ft:-0}, $status"
done
exit $failed
