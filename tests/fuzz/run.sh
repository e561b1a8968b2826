#!/usr/bin/env bash
# run.sh DIR SECONDS — runs every libFuzzer target DIR/fuzz_* for SECONDS each, starting from
# the committed seeds tests/fuzz/corpus/<target>/ (read-only: new inputs go to
# DIR/corpus-<target>/). Crashes are written to DIR/crash-<target>-*; the script fails when any
# target fails. One summary line per target.
set -u
dir=$1
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
fail=0
for bin in "$dir"/fuzz_*; do
    [[ -x $bin && ! -d $bin ]] || continue
    name=$(basename "$bin")
    target=${name#fuzz_}
    work="$dir/corpus-$target"
    mkdir -p "$work"
    log="$dir/$name.log"
    # -close_fd_mask=1: burn's stdout is noise; sanitizer reports go to stderr and stay.
    # rss/malloc limit 2 GiB: an input that makes a reader allocate more is a finding.
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=1 \
        -print_final_stats=1 -artifact_prefix="$dir/crash-$target-" \
        "$work" "$here/corpus/$target" >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [[ $rc -eq 0 ]]; then
        echo "fuzz $target: ok, ${runs:-?} runs in ${secs} s, ${cov:-cov ?}, corpus $(ls "$work" | wc -l)"
    else
        echo "fuzz $target: FAILED (exit $rc), see $log:"
        grep -m5 -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log"
        fail=1
    fi
done
exit $fail
