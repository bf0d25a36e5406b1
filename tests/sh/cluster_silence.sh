#!/bin/bash
# cluster_silence.sh — nobody waits silently, or forever:
#   - a head frozen (SIGSTOP) in the middle of a fit: the driver's fit ends
#     with a clear error once the head has been silent for head_timeout (the
#     head PINGs every heartbeat), and its worker (--head-timeout) exits
#     saying why;
#   - every worker killed in the middle of a fit: the driver says it waits
#     for a worker (with the time it started waiting), and the wait ends
#     after worker_timeout with a clear error;
#   - a worker that comes back within worker_timeout: the fit completes.
. "$(dirname "$0")/cluster_common.bash"
PL="$WB_TEST_PLUGIN_DIR/cluster_testfit.so"
make_token "$T/tok" "silence-token-0123456789abcdef"

# a driver fitting slowly (300 iterations of 5 ms per partition): prints "fitting", then
# the fit's outcome and the seconds it took
fit_script() { # head_timeout worker_timeout
  cat <<LUA
wb.plugin.load("$PL")
wb.connect("$ADDR", {token_file = "$T/tok", workers = 1, head_timeout = $1, worker_timeout = $2})
local d = wb.datagen.classification{n = 20000, features = 4, informative = 2, redundant = 2, seed = 1}
print("fitting")
io.stdout:flush()
local t0 = wb.now()
local ok, e = pcall(wb.fit, "cluster_test.gd", d, {iterations = 300, lr = 0.05, delay_ms = 5})
print("result", ok, ok and "model" or e)
print(string.format("seconds %.1f", wb.now() - t0))
LUA
}
since_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# --- a head frozen mid-fit
start_head head --token-file "$T/tok" --heartbeat-ms 200 --timeout-ms 2000
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$PL" --head-timeout 3
W1=$WORKER_PID
wait_for "$T/head.log" "worker 1 joined" || fail "the worker did not join"
fit_script 2 120 >"$T/frozen.lua"
timeout 60 "$WB" "$T/frozen.lua" >"$T/frozen.out" 2>&1 &
DRV=$!
wait_for "$T/frozen.out" "^fitting" 30 || fail "the driver did not start: $(cat "$T/frozen.out")"
sleep 1
kill -STOP "$HEAD_PID"
t_stop=$(date +%s%N)
wait "$DRV"
ms=$(since_ms "$t_stop")
grep -q "^result	false	cluster: lost the connection to the head at $ADDR: it sent nothing for 2.[0-9] s (head_timeout = 2 s: is the head stopped or overloaded?)" "$T/frozen.out" ||
  fail "the driver with a frozen head: $(cat "$T/frozen.out")"
[ "$ms" -lt 8000 ] || fail "the driver gave up $ms ms after the head froze (head_timeout 2 s)"
pass "head frozen mid-fit: the driver gave up after $ms ms: $(grep '^result' "$T/frozen.out" | cut -f3 | cut -c1-120)"
# the worker gives up on the head too, saying why
for _ in $(seq 200); do kill -0 "$W1" 2>/dev/null || break; sleep 0.05; done
kill -0 "$W1" 2>/dev/null && fail "the worker still runs $(since_ms "$t_stop") ms after the head froze"
wait "$W1"; rc=$?
[ "$rc" = 1 ] || fail "the worker exited $rc"
grep -q "lost the head at $ADDR: it sent nothing for 3.[0-9] s (--head-timeout 3 s); exiting" "$T/w1.log" ||
  fail "the worker's reason: $(cat "$T/w1.log")"
pass "its worker exits: $(grep 'lost the head' "$T/w1.log" | sed 's/.*error: //')"
kill -CONT "$HEAD_PID"
kill "$HEAD_PID"

# --- every worker killed mid-fit: a waiting line, then the end
start_head head2 --token-file "$T/tok"
start_worker w2 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$PL"
W2=$WORKER_PID
wait_for "$T/head2.log" "worker 1 joined" || fail "the worker did not join"
fit_script 30 6 >"$T/noworker.lua"
timeout 60 "$WB" "$T/noworker.lua" >"$T/noworker.out" 2>&1 &
DRV=$!
wait_for "$T/noworker.out" "^fitting" 30 || fail "the driver did not start: $(cat "$T/noworker.out")"
sleep 1
kill -KILL "$W2"
t_kill=$(date +%s%N)
wait "$DRV"
ms=$(since_ms "$t_kill")
grep -q "^wb: warning: cluster: waiting since [0-9][0-9]:[0-9][0-9]:[0-9][0-9] ([3-5] s): no live worker at the head at $ADDR; start workers, or Ctrl-C (the wait ends after worker_timeout = 6 s)" "$T/noworker.out" ||
  fail "no waiting line: $(cat "$T/noworker.out")"
grep -q "^result	false	cluster: no live worker at the head at $ADDR for [67] s (worker_timeout = 6 s): the work waits for workers that did not come" "$T/noworker.out" ||
  fail "the wait did not end with the reason: $(cat "$T/noworker.out")"
[ "$ms" -lt 12000 ] || fail "the wait ended $ms ms after the last worker died (worker_timeout 6 s)"
pass "every worker killed mid-fit: $(grep '^wb: warning' "$T/noworker.out" | head -1 | cut -c14-90)...; ended after $ms ms"

# --- a worker back within worker_timeout: the fit completes
start_worker w3 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$PL"
W3=$WORKER_PID
wait_for "$T/head2.log" "worker 2 joined" || fail "the worker did not join"
fit_script 30 60 >"$T/back.lua"
timeout 120 "$WB" "$T/back.lua" >"$T/back.out" 2>&1 &
DRV=$!
wait_for "$T/back.out" "^fitting" 30 || fail "the driver did not start: $(cat "$T/back.out")"
sleep 1
kill -KILL "$W3"
wait_for "$T/back.out" "waiting since" 20 || fail "no waiting line: $(cat "$T/back.out")"
start_worker w4 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$PL"
wait "$DRV"
grep -q "^result	true	model" "$T/back.out" || fail "the fit did not complete on the new worker: $(cat "$T/back.out")"
pass "a worker back within worker_timeout: the fit completes ($(grep '^seconds' "$T/back.out"))"

# --- a wait on many objects with no worker at all: one worker_timeout, not one per object
start_head head3 --token-file "$T/tok"
t0=$(date +%s%N)
out=$(timeout 60 "$WB" -e "wb.connect('$ADDR', {token_file = '$T/tok', worker_timeout = 3})
local fs = {}
for i = 1, 50 do fs[i] = wb.core.submit('cluster.noop', {}, '') end
print(pcall(wb.core.wait, fs))" 2>&1)
ms=$(since_ms "$t0")
echo "$out" | grep -q "^false	cluster: no live worker at the head at $ADDR for [34] s (worker_timeout = 3 s)" ||
  fail "a wait on 50 objects without workers: $out"
[ "$ms" -lt 9000 ] || fail "the wait on 50 objects took $ms ms (worker_timeout 3 s)"
pass "a wait on 50 objects without workers ends after $ms ms"
