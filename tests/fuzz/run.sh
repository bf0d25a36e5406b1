#!/bin/sh
# run.sh FUZZER TARGET SECONDS [libFuzzer options...]
# A bounded libFuzzer run of one target over its seed corpus (read only:
# new inputs go to $WB_FUZZ_WORK/TARGET/corpus), with the target's
# dictionary when there is one. Crashes are saved in
# $WB_FUZZ_WORK/TARGET/artifacts/ and fail the run. Options of a target's own
# are in options/TARGET (one line). The executions are
# appended to $WB_FUZZ_WORK/execs.log ("TARGET EXECS SECONDS").
set -e
bin=$1
target=$2
secs=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
work=${WB_FUZZ_WORK:-$PWD/fuzz-work}/$target
mkdir -p "$work/corpus" "$work/artifacts"
dict=""
[ -f "$src/dict/$target.dict" ] && dict="-dict=$src/dict/$target.dict"
opts=""
[ -f "$src/options/$target" ] && opts=$(cat "$src/options/$target")
log="$work/last.log"
set +e
"$bin" -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" $dict $opts "$@" "$work/corpus" "$src/corpus/$target" >"$log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s+=$1} END {print s+0}')
echo "$target $execs $secs" >>"${WB_FUZZ_WORK:-$PWD/fuzz-work}/execs.log"
if [ $rc -ne 0 ]; then
  tail -n 60 "$log"
  echo "fuzz $target: FAILED (exit $rc) after $execs executions; inputs in $work/artifacts/"
  exit 1
fi
echo "fuzz $target: $execs executions in $secs s, no failure"
