#!/bin/bash
# bench/soak.sh — the cluster soak: a head and workers on 127.0.0.1 (port 0)
# under a stream of mixed tasks (bench/soak.lua) while workers are killed
# (SIGKILL, now and then SIGTERM) and restarted at random.
#   bench/soak.sh [path/to/wb] [SECONDS=180] [WORKERS=3] [SEED=1]
# Environment: SOAK_KILL_MIN / SOAK_KILL_MAX (seconds between kills, 1 / 4),
# SOAK_RSS_SLACK_KB (how far above its start the head's memory may end,
# 4096), SOAK_THREADS (per worker, 1), SOAK_TERM_PERCENT (the share of kills
# sent as SIGTERM, which runs the worker's shutdown path, 25),
# WB_TEST_PLUGIN_DIR (where the test plugin cluster_kernels is, with
# cluster.fill and cluster.sleep: tests/plugins of the build of that wb).
# Afterwards it checks, and exits 1 when one fails:
#   - every job the driver submitted gave exactly one result, the right one
#     (soak.lua checks each value; k-means fits equal the local model);
#   - the head counted exactly the tasks the driver submitted, none failed;
#   - no object is lost, and once the driver is gone the head holds none;
#   - the head's memory (RSS) is back near where it started (within the
#     slack), and it has the same number of open descriptors as before.
# It prints the figures: duration, jobs/tasks submitted and completed,
# workers killed, results lost, head RSS and descriptors before/after.
set -u
here=$(cd "$(dirname "$0")" && pwd)
WB=$(readlink -f "${1:-$here/../build/wb}")
SECS=${2:-180}
NW=${3:-3}
SEED=${4:-1}
KMIN=${SOAK_KILL_MIN:-1}
KMAX=${SOAK_KILL_MAX:-4}
SLACK=${SOAK_RSS_SLACK_KB:-4096}
THREADS=${SOAK_THREADS:-1}
TERMPCT=${SOAK_TERM_PERCENT:-25}
export WB_TEST_PLUGIN_DIR=${WB_TEST_PLUGIN_DIR:-$(dirname "$WB")/tests/plugins}
KERNELS=$WB_TEST_PLUGIN_DIR/cluster_kernels.so
[ -f "$KERNELS" ] || { echo "soak: FAILED: no test plugin $KERNELS (build the repository first)" >&2; exit 1; }
T=$(mktemp -d /tmp/wbsoak.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
die() {
  echo "soak: FAILED: $*" >&2
  for f in "$T"/head.log "$T"/driver.out; do [ -f "$f" ] && { echo "--- $f" >&2; tail -30 "$f" >&2; }; done
  exit 1
}
RANDOM=$SEED

printf 'soak-token-%s-0123456789abcdef\n' "$SEED" >"$T/tok"
chmod 600 "$T/tok"
"$WB" head --host 127.0.0.1 --port 0 --dashboard-port 0 --ready-file "$T/ready" --token-file "$T/tok" \
  --max-retries 20 --heartbeat-ms 250 --timeout-ms 3000 >"$T/head.out" 2>"$T/head.log" &
HEAD=$!
PIDS+=("$HEAD")
for _ in $(seq 400); do [ -s "$T/ready" ] && [ "$(wc -l <"$T/ready")" -ge 2 ] && break; sleep 0.05; done
[ -s "$T/ready" ] || die "the head did not start"
ADDR=$(sed -n 1p "$T/ready")
DASH=$(sed -n 2p "$T/ready")

# the head's status (JSON) and one number from it
status() {
  /usr/bin/python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "http://127.0.0.1:$DASH/api/status"
}
field() { # field JSON PATH (a.b) (the JSON through standard input: with the task stream it is longer than an argument may be)
  printf '%s' "$1" | /usr/bin/python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(len(v) if isinstance(v, list) else v)' "$2"
}
alive_workers() {
  status | /usr/bin/python3 -c 'import json, sys
print(sum(1 for w in json.load(sys.stdin)["workers"] if w["alive"]))' 2>/dev/null || echo -1
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$HEAD/status"; }
anon_kb() { awk '/^RssAnon:/ {print $2}' "/proc/$HEAD/status"; }
nfd() { ls "/proc/$HEAD/fd" | wc -l; }

WPID=()
start_worker() { # slot
  "$WB" worker --address "$ADDR" --token-file "$T/tok" --threads "$THREADS" --quiet --plugin "$KERNELS" \
    >>"$T/w$1.out" 2>>"$T/w$1.log" &
  WPID[$1]=$!
  PIDS+=("${WPID[$1]}")
}
for i in $(seq "$NW"); do start_worker "$i"; done
wait_workers() {
  for _ in $(seq 600); do [ "$(alive_workers)" = "$NW" ] && return 0; sleep 0.1; done
  return 1
}
wait_workers || die "the $NW workers did not join: $(status)"
sleep 1
RSS0=$(rss_kb)
FD0=$(nfd)
ANON0=$(anon_kb)
S0=$(status)
echo "soak: head at $ADDR (pid $HEAD), $NW workers x $THREADS thread(s), ${SECS} s, kills every ${KMIN}-${KMAX} s, seed $SEED"
echo "soak: before: head RSS ${RSS0} kB (${ANON0} kB of it not file-backed), ${FD0} open descriptors"

"$WB" "$here/soak.lua" "$ADDR" "$T/tok" "$DASH" "$SECS" "$SEED" "$NW" >"$T/driver.out" 2>&1 &
DRIVER=$!
PIDS+=("$DRIVER")
t0=$(date +%s.%N)
KILLS=0
TERMS=0
while kill -0 "$DRIVER" 2>/dev/null; do
  # sleep KMIN..KMAX s in steps of 0.1 s, leaving early when the driver ends
  steps=$(( KMIN * 10 + RANDOM % ((KMAX - KMIN) * 10 + 1) ))
  for _ in $(seq "$steps"); do kill -0 "$DRIVER" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$DRIVER" 2>/dev/null || break
  echo "$(date +%s.%N) $(rss_kb)" >>"$T/rss"
  # the worker started last has joined (a loaded machine may take a while)
  for _ in $(seq 300); do [ "$(alive_workers)" = "$NW" ] && break; sleep 0.1; done
  kill -0 "$DRIVER" 2>/dev/null || break
  slot=$(( 1 + RANDOM % NW ))
  sig=KILL
  [ $(( RANDOM % 100 )) -lt "$TERMPCT" ] && sig=TERM
  kill -"$sig" "${WPID[$slot]}" 2>/dev/null
  wait "${WPID[$slot]}" 2>/dev/null
  KILLS=$((KILLS + 1))
  [ "$sig" = TERM ] && TERMS=$((TERMS + 1))
  start_worker "$slot"
done
wait "$DRIVER"
DRC=$?
t1=$(date +%s.%N)
DLINE=$(grep '^soak-driver ' "$T/driver.out")
[ -n "$DLINE" ] || die "the driver ended (exit $DRC) without its figures"

# the head settles: the driver's objects released, all workers back
for _ in $(seq 200); do
  S1=$(status)
  [ "$(field "$S1" objects.count)" = 0 ] && break
  sleep 0.1
done
wait_workers || die "the workers did not come back: $(status)"
sleep 1
S1=$(status)
RSS1=$(rss_kb)
ANON1=$(anon_kb)
FD1=$(nfd)

val() { echo "$DLINE" | sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
jobs=$(val jobs); tasks=$(val tasks); fits=$(val fits); ftasks=$(val fit_tasks)
ok=$(val ok); wrong=$(val wrong); failed=$(val failed)
sub0=$(field "$S0" tasks.submitted); sub1=$(field "$S1" tasks.submitted)
done1=$(field "$S1" tasks.done); fail1=$(field "$S1" tasks.failed)
retried=$(field "$S1" tasks.retried); rebuilt=$(field "$S1" tasks.rebuilt)
objs=$(field "$S1" objects.count); lostobj=$(field "$S1" objects.lost)
wlost=$(field "$S1" workers_lost)
head_sub=$((sub1 - sub0))
lost=$(( jobs + fits - ok - wrong ))

printf 'soak: duration %.1f s (driver %s s)\n' "$(echo "$t1 - $t0" | bc)" "$(val seconds)"
echo "soak: jobs submitted $jobs + $fits k-means fits; results: $ok right, $wrong wrong, $failed failed, $lost lost"
echo "soak: tasks submitted by the driver $tasks + $ftasks by the fits = $((tasks + ftasks)); the head counted $head_sub submitted, $done1 done (with $retried retried, $rebuilt rebuilt), $fail1 failed"
echo "soak: workers killed $KILLS ($TERMS by SIGTERM), the head saw $wlost workers lost"
echo "soak: objects left on the head $objs, lost $lostobj"
# the head's RSS during the run: at each quarter of it, and the highest
rss_run=$(awk '{t[NR] = $1; r[NR] = $2; if ($2 > m) m = $2}
  END {if (NR) printf "%d/%d/%d/%d kB at 1/4, 1/2, 3/4, end of the run; highest %d kB",
       r[int(NR / 4) + 1], r[int(NR / 2) + 1], r[int(3 * NR / 4) + 1], r[NR], m}' "$T/rss" 2>/dev/null)
echo "soak: head RSS during the run: ${rss_run:-(no sample)}"
echo "soak: after: head RSS ${RSS1} kB (before ${RSS0} kB: $((RSS1 - RSS0)) kB; not file-backed ${ANON1} kB, before ${ANON0} kB), ${FD1} open descriptors (before ${FD0})"

bad=0
check() { if ! eval "$1"; then echo "soak: FAILED: $2" >&2; bad=1; fi; }
check '[ "$DRC" = 0 ]' "the driver exited $DRC: $(grep -E '^(FAILED|WRONG)' "$T/driver.out" | head -5)"
check '[ "$wrong" = 0 ] && [ "$failed" = 0 ] && [ "$lost" = 0 ]' "$wrong wrong, $failed failed, $lost lost results"
check '[ "$ok" = $((jobs + fits)) ]' "$ok right results of $((jobs + fits)) jobs"
check '[ "$head_sub" = $((tasks + ftasks)) ]' "the head counted $head_sub tasks, the driver submitted $((tasks + ftasks))"
check '[ "$fail1" = 0 ]' "the head counted $fail1 failed tasks"
check '[ "$objs" = 0 ] && [ "$lostobj" = 0 ]' "the head still holds $objs objects ($lostobj lost)"
check '[ "$KILLS" -ge 1 ]' "no worker was killed (too short a run)"
check '[ "$wlost" -ge "$KILLS" ]' "the head saw $wlost workers lost of $KILLS killed"
check '[ "$FD1" = "$FD0" ]' "the head has $FD1 open descriptors, $FD0 before"
check '[ $((RSS1 - RSS0)) -le "$SLACK" ]' "the head's RSS grew by $((RSS1 - RSS0)) kB (more than $SLACK kB)"
# the head stops on SIGTERM (a sanitizer build reports leaks then)
kill -TERM "$HEAD"
wait "$HEAD"
HRC=$?
check '[ "$HRC" = 0 ]' "the head exited $HRC on SIGTERM"
if grep -q "Sanitizer\|runtime error:" "$T"/*.log "$T/driver.out" 2>/dev/null; then
  echo "soak: FAILED: a sanitizer report:" >&2
  for f in $(grep -l "Sanitizer\|runtime error:" "$T"/*.log "$T/driver.out"); do echo "--- $f" >&2; head -40 "$f" >&2; done
  bad=1
fi
if [ $bad = 0 ]; then echo "soak: PASSED"; else die "see above"; fi
