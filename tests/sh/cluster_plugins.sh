#!/bin/bash
# cluster_plugins.sh — a driver and its workers with different versions of one
# plugin ("pver": version 1 counts 1 per row, version 2 counts 2 per row and
# has one more kernel; pver1x is version 1 with that kernel too). Each case
# ends in the right answer or in an error in the driver that names the
# plugin, both versions and the worker, never in a wrong number: the driver
# newer than the worker, the worker newer, a worker without the plugin, the
# plugin loaded in the driver after it connected, a worker that joins later,
# the same version with other kernels, a plugin the worker cannot load, and
# the head's own check. The cluster keeps serving other drivers throughout;
# the dashboard lists each worker's plugins with their versions.
. "$(dirname "$0")/cluster_common.bash"
P=${WB_TEST_PLUGIN_DIR:?}
make_token "$T/tok" "plugins-token-0123456789abcdef"

# the data port of worker N of a head (from the head's log)
waddr() { sed -n "s/.*worker $2 joined from .*data port \([0-9.:]*\)).*/\1/p" "$T/$1.log" | head -1; }

# drive NAME WORKERS LUA...: runs a driver on head $ADDR with `d` = 20000 rows
# put by the driver (no kernel needed) and `try(f, ...)` printing "ok value" or
# "err message"; output in $OUT
mklua() {
  local name=$1 nw=$2; shift 2
  {
    printf '%s\n' "$PRE"
    cat <<LUA
wb.connect("$ADDR", {token_file = "$T/tok", workers = $nw})
local rows = {}
for i = 1, 20000 do rows[i] = {i, i % 7} end
d = wb.dataset(rows)
function try(f, ...)
  local ok, r = pcall(f, ...)
  if ok then
    if type(r) == "table" then r = r[1] elseif type(r) == "userdata" then r = r.value end
    print("ok " .. string.format("%.17g", r))
  else
    print("err " .. tostring(r))
  end
end
function sum(k, n) return wb.core.map_sum(k, d, {}, "", n or 1) end
function fit() return wb.fit("pver.est", d, {}) end
LUA
    printf '%s\n' "$@"
  } >"$T/$name.lua"
}
drive() {
  mklua "$@"
  OUT=$(timeout 25 "$WB" "$T/$1.lua" 2>&1) || fail "$1: exit $?: $OUT"
}
# expect LINE: one line of $OUT is exactly LINE
expect() { grep -qxF -- "$1" <<<"$OUT" || fail "expected '$1' in: $OUT"; }
# has TEXT: $OUT contains TEXT
has() { grep -qF -- "$1" <<<"$OUT" || fail "expected '$1' in: $OUT"; }

start_head h1 --token-file "$T/tok"
start_worker a --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$P/pver1.so"; A=$WORKER_PID
wait_for "$T/h1.log" "worker 1 joined" || fail "worker a did not join"
WA=$(waddr h1 1)

# the driver newer than the worker: every task of the driver is refused with
# the versions and the worker's address (data made by a kernel too), and no
# number comes back
MSG="plugin 'pver' is version 2 on this driver but version 1 on the worker at $WA (a worker runs a driver's tasks only if the plugins both have loaded are of the same versions); load the same version of 'pver' on the driver and the workers"
PRE="wb.plugin.load('$P/pver2.so')"
drive newer 1 'try(sum, "pver.value")' 'try(fit)' 'try(sum, "pver.extra")' \
  'try(wb.datagen.classification, {n = 1000, features = 2, informative = 2, redundant = 0, seed = 1})'
expect "err no worker can run this driver's task 'pver.value': $MSG"
expect "err no worker can run this driver's task 'datagen.classification': $MSG"
expect "err no worker of the cluster has the kernel 'pver.extra': plugin 'pver' is version 2 on this driver but version 1 on the worker at $WA, which has no such kernel; load the same version of 'pver' on the driver and the workers"
[ "$(grep -c "^err no worker can run this driver's task 'pver.value'" <<<"$OUT")" = 2 ] || fail "fit: $OUT"
! grep -q "^ok" <<<"$OUT" || fail "a result came back: $OUT"
# the driver warned at connect time, once
[ "$(grep -cxF "wb: warning: cluster: plugin 'pver' is version 2 on this driver but version 1 on the worker at $WA: this driver's tasks do not run there" <<<"$OUT")" = 1 ] ||
  fail "driver warning at connect: $OUT"
wait_for "$T/h1.log" "warning: driver 1 has plugin 'pver' version 2, worker 1 at $WA has version 1: the driver's tasks do not run there" ||
  fail "head warning"
pass "driver newer than the worker: refused with both versions and the worker"

# the same cluster serves a driver with the worker's version, and one without the plugin
PRE="wb.plugin.load('$P/pver1.so')"
drive same 1 'try(sum, "pver.value")' 'try(fit)' 'try(sum, "pver.extra")'
expect "ok 20000"
[ "$(grep -c "^ok 20000$" <<<"$OUT")" = 2 ] || fail "same version: $OUT"
! grep -q "warning" <<<"$OUT" || fail "a warning with the same versions: $OUT"
has "bad argument #1 to 'map_sum' (no kernel named 'pver.extra')"
PRE=""
drive plain 1 'local g = wb.datagen.classification{n = 5000, features = 2, informative = 2, redundant = 0, seed = 1}' \
  'print("rows", g:rows())' 'try(sum, "core.colsum", 2)'
expect "rows	5000"
expect "ok 200010000"
pass "the cluster keeps serving drivers with the same version or without the plugin"

# the plugin loaded in the driver after it connected: what ran before stands,
# the next tasks are refused
PRE=""
drive late 1 'try(sum, "core.colsum", 2)' "wb.plugin.load('$P/pver2.so')" 'try(sum, "pver.value")' 'try(sum, "core.colsum", 2)'
expect "ok 200010000"
expect "err no worker can run this driver's task 'pver.value': $MSG"
expect "err no worker can run this driver's task 'core.colsum': $MSG"
has "wb: warning: cluster: plugin 'pver' is version 2 on this driver but version 1 on the worker at $WA: this driver's tasks do not run there"
drive late_same 1 "wb.plugin.load('$P/pver1.so')" 'try(sum, "pver.value")'
expect "ok 20000"
pass "a plugin loaded after connecting is checked from the next task on"

# the same version with another kernel set: the shared kernel runs (same
# version), the other one is refused with a message naming the plugin
PRE="wb.plugin.load('$P/pver1x.so')"
drive kset 1 'try(sum, "pver.value")' 'try(sum, "pver.extra")'
expect "ok 20000"
expect "err no worker of the cluster has the kernel 'pver.extra': plugin 'pver' is version 1 on this driver and on the worker at $WA, but the worker's has no such kernel (two builds under one version: give the new one another version)"
pass "same version, another kernel set"

# the worker newer than the driver, and a worker that joins later: worker b
# (version 2) joins, worker a (version 1) leaves
start_worker b --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$P/pver2.so"; B=$WORKER_PID
wait_for "$T/h1.log" "worker 2 joined" || fail "worker b did not join"
WB2=$(waddr h1 2)
kill "$A"
wait_for "$T/h1.log" "worker 1 at $WA removed" || fail "worker a did not leave"
PRE="wb.plugin.load('$P/pver1.so')"
drive older 1 'try(sum, "pver.value")' 'try(fit)'
expect "err no worker can run this driver's task 'pver.value': plugin 'pver' is version 1 on this driver but version 2 on the worker at $WB2 (a worker runs a driver's tasks only if the plugins both have loaded are of the same versions); load the same version of 'pver' on the driver and the workers"
! grep -q "^ok" <<<"$OUT" || fail "a result came back: $OUT"
pass "worker newer than the driver: refused"

# a driver with version 2 is connected; worker c (version 1) joins while it
# works: its tasks keep going to b only (right answers), the head says why
PRE="wb.plugin.load('$P/pver2.so')"
mklua joiner 1 \
  'local t0 = wb.now() while wb.executor().workers < 2 and wb.now() - t0 < 15 do os.execute("sleep 0.05") end' \
  'print("workers", wb.executor().workers)' \
  'for i = 1, 20 do try(sum, "pver.value") end' 'try(fit)'
NCON=$(grep -c "driver [0-9]* connected" "$T/h1.log")
timeout 25 "$WB" "$T/joiner.lua" >"$T/joiner.out" 2>&1 &
DRV=$!
for _ in $(seq 200); do [ "$(grep -c "driver [0-9]* connected" "$T/h1.log")" -gt "$NCON" ] && break; sleep 0.05; done
start_worker c --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$P/pver1.so"
wait "$DRV" || fail "joiner driver failed: $(cat "$T/joiner.out")"
OUT=$(cat "$T/joiner.out")
expect "workers	2"
WC=$(waddr h1 3)
# the driver says so itself, once
[ "$(grep -cxF "wb: warning: cluster: plugin 'pver' is version 2 on this driver but version 1 on the worker at $WC: this driver's tasks do not run there" <<<"$OUT")" = 1 ] ||
  fail "driver warning about worker c: $OUT"
[ "$(grep -c "^ok 40000$" <<<"$OUT")" = 21 ] || fail "version 2 answers with a version 1 worker in the cluster: $OUT"
grep -q "warning: driver [0-9]* has plugin 'pver' version 2, worker 3 at $WC has version 1: the driver's tasks do not run there" "$T/h1.log" ||
  fail "head warning about worker c: $(cat "$T/h1.log")"
# the dashboard lists the plugins with their versions; c ran none of those tasks
/usr/bin/python3 - "http://127.0.0.1:$DASH/api/status" <<'PY' || fail "dashboard"
import json, sys, urllib.request
w = {x["id"]: x for x in json.load(urllib.request.urlopen(sys.argv[1]))["workers"]}
assert "pver 2" in w[2]["plugins"] and "pver 1" in w[3]["plugins"], w
assert w[3]["tasks_done"] == 0 and w[2]["tasks_done"] >= 21, w
PY
pass "a worker of another version joining later gets none of the driver's tasks; dashboard lists versions"

# a worker without the plugin
start_head h2 --token-file "$T/tok"
start_worker plain --address "$ADDR" --token-file "$T/tok" --threads 1
wait_for "$T/h2.log" "worker 1 joined" || fail "plain worker"
PRE="wb.plugin.load('$P/pver2.so')"
drive missing 1 'try(sum, "pver.value")' 'try(fit)' 'try(sum, "core.colsum", 2)'
expect "err no worker of the cluster has the kernel 'pver.value': no worker has loaded plugin 'pver' (version 2 on this driver); start the workers with --plugin PATH"
expect "ok 200010000"
pass "a worker without the plugin: refused with the plugin's name, other work runs"

# plugins a worker cannot load: it does not start, and says why
start_worker abi --address "$ADDR" --token-file "$T/tok" --plugin "$P/abi2.so"
wait_pid "$WORKER_PID" 60; [ "$RC" = 1 ] || fail "worker with abi2"
grep -qF "wb worker: plugin $P/abi2.so: plugin ABI 2, host 1" "$T/abi.log" || fail "abi2: $(cat "$T/abi.log")"
start_worker badv --address "$ADDR" --token-file "$T/tok" --plugin "$P/badversion.so"
wait_pid "$WORKER_PID" 60; [ "$RC" = 1 ] || fail "worker with badversion"
grep -qF "wb worker: plugin $P/badversion.so: bad version '1.0 beta' (1 to 128 characters of A-Z a-z 0-9 _ . + -)" "$T/badv.log" ||
  fail "badversion: $(cat "$T/badv.log")"
pass "a plugin of another ABI or with a bad version keeps the worker from starting"

# a head that has the plugin refuses a worker of another version
mkdir -p "$T/hp" && ln -s "$P/pver1.so" "$T/hp/"
WB_PLUGIN_PATH="$T/hp" start_head h3 --token-file "$T/tok"
start_worker v2 --address "$ADDR" --token-file "$T/tok" --plugin "$P/pver2.so"
wait_for "$T/h3.log" "refused the worker at 127.0.0.1:[0-9]*: its plugin 'pver' is version 2, the head's is 1" ||
  fail "head refusal: $(cat "$T/h3.log")"
wait_for "$T/v2.log" "refused this worker: worker refused: its plugin 'pver' is version 2, the head's is 1" ||
  fail "worker side of the refusal: $(cat "$T/v2.log")"
pass "the head refuses a worker whose plugin version differs from its own"
