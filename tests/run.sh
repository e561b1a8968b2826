#!/usr/bin/env bash
# run.sh — run Criterion test binaries, then print one closing line "N passed, N failed, N skipped".
# Each binary writes TAP next to its normal output; the counts come from the TAP lines, so a
# skipped test (e.g. a GPU test without a device) is counted as skipped, never as passed.
set -u
cd "$(dirname "$0")/.."
# the test binaries use the library in-process: give their OpenMP runtime the spin count
# burn_gpu and burn_bench start with (src/core/openmp_env.c); two tests run at once (-j2)
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000}
passed=0 failed=0 skipped=0 broken=()
tapdir=$(mktemp -d)
trap 'rm -rf "$tapdir"' EXIT
for bin in "$@"; do
    name=$(basename "$bin")
    tap="$tapdir/$name.tap"
    echo "== $bin"
    "$bin" --tap="$tap" -j2
    status=$?
    if [ ! -s "$tap" ]; then
        echo "   $bin produced no results (exit $status)"
        broken+=("$bin")
        failed=$((failed + 1))
        continue
    fi
    p=$(grep -E '^ok ' "$tap" | grep -vc '# SKIP' || true)
    s=$(grep -Ec '^ok .*# SKIP' "$tap" || true)
    f=$(grep -Ec '^not ok ' "$tap" || true)
    grep -E '^not ok |# SKIP' "$tap" | sed 's/^/   /'
    passed=$((passed + p)) skipped=$((skipped + s)) failed=$((failed + f))
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "   $bin exited $status with no failing test: counted as a failure"
        failed=$((failed + 1))
    fi
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
