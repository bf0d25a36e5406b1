#!/bin/sh
# long.sh BUILD_FUZZ_DIR SECONDS TARGET... — long fuzz runs (for the work on
# wb, not the test suite): each target in turn for SECONDS at the lowest
# priority, its new inputs kept in BUILD_FUZZ_DIR/fuzz-work/TARGET/corpus.
# Executions add up in BUILD_FUZZ_DIR/fuzz-work/execs.log; sum them with
#   awk '{e[$1]+=$2} END {for (t in e) print t, e[t]}' BUILD_FUZZ_DIR/fuzz-work/execs.log
set -e
dir=$(cd "$1" && pwd)
secs=$2
shift 2
src=$(cd "$(dirname "$0")" && pwd)
export WB_FUZZ_WORK="$dir/fuzz-work"
for t in "$@"; do
  nice -n 19 sh "$src/run.sh" "$dir/tests/fuzz/fuzz_$t" "$t" "$secs" || true
done
