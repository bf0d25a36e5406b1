#!/bin/bash
# mpi_faults.sh — an MPI job ends, within seconds and with a message naming
# the rank, when: the script fails on rank 0 (all ranks end cleanly, exit
# 1); a rank is killed mid-fit (the launcher ends the job); a rank stops
# answering (SIGSTOP: wb's own watch ends it after WB_MPI_TIMEOUT); a rank
# runs another wb version or another plugin version (refused at the start);
# `wb head` or `wb worker` is started by mpirun (refused). No run may hang:
# every one is bounded.
. "$(dirname "$0")/mpi_common.bash"
STOPPED=()
cleanup_faults() { for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done; cleanup_t; }
trap cleanup_faults EXIT

# a script error on rank 0: every rank ends, the job exits 1 with the message;
# the ranks are stopped by rank 0, not by their own watch (it would name the
# lost driver). No bound on the time but the run's limit: 3 ranks start in
# seconds on an idle machine, in tens of seconds under ASan on a loaded one
run_bounded 300 "${MPIRUN[@]}" -np 3 "$WB" -e 'local d = wb.datagen.blobs{n = 50000, seed = 1}; wb.fit("kmeans", d, {k = 3}); error("stop here")'
[ "$RC" = 1 ] || fail "script error: exit $RC: $OUT"
[[ "$OUT" == *"wb: (command line):1: stop here"* ]] || fail "script error message: $OUT"
[[ "$OUT" != *"lost the driver"* ]] || fail "script error: a rank was not stopped by rank 0: $OUT"
pass "a script error on rank 0 ends the job in $(printf %.1f "$SECS") s with exit 1: $(grep -m1 'stop here' <<<"$OUT")"

# a rank killed mid-fit, then a rank stopped mid-fit
cat >"$T/long.lua" <<'LUA'
local e = wb.executor()
local f = io.open(arg[1], "w") f:write(e.ranks[3].pid, "\n") f:close()
local r = wb.datagen.swiss_roll{n = 1000000, seed = 1}
for i = 1, 1000 do wb.fit("kmeans", r, {k = 16, init = "random", max_iter = 50, tol = 0, seed = i}) end
print("not reached")
LUA
for sig in KILL STOP; do
  rm -f "$T/pid"
  (export WB_MPI_TIMEOUT=3; timeout -k 5 300 "${MPIRUN[@]}" -np 3 "$WB" --threads 1 "$T/long.lua" "$T/pid" >"$T/$sig.out" 2>&1; echo $? >"$T/$sig.rc") &
  JOB=$!
  for _ in $(seq 300); do [ -s "$T/pid" ] && break; sleep 0.1; done
  [ -s "$T/pid" ] || fail "the long job did not start: $(cat "$T/$sig.out")"
  sleep 2 # mid-fit
  VICTIM=$(cat "$T/pid")
  t0=$(date +%s.%N)
  kill -$sig "$VICTIM"
  [ $sig = STOP ] && STOPPED+=("$VICTIM")
  wait $JOB
  secs=$(echo "$(date +%s.%N) - $t0" | bc)
  rc=$(cat "$T/$sig.rc")
  out=$(cat "$T/$sig.out")
  # (124: the time limit, not the job, ended it)
  [ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "SIG$sig of rank 2: exit $rc after $secs s: $out"
  # (far above the seconds it takes, even under ASan on a loaded machine;
  # far below the hours the script's loop would run)
  (( $(echo "$secs < 120" | bc) )) || fail "SIG$sig of rank 2: the job took $secs s to end"
  grep -q "not reached" <<<"$out" && fail "SIG$sig: the script went on"
  if [ $sig = KILL ]; then
    # Open MPI's launcher says it (rank, node, signal), or wb's watch does
    grep -Eq "process rank 2 with PID [0-9]+ on node [^ ]+ exited on signal 9|rank 2 \(host [^,]*, pid $VICTIM\)" <<<"$out" ||
      fail "SIG$sig: no message naming rank 2 (pid $VICTIM): $out"
  else
    grep -q "wb: mpi: rank 2 (host [^,]*, pid $VICTIM) sent nothing for [0-9.]* s (it died, hung or its host is unreachable); ending the MPI job" <<<"$out" ||
      fail "SIGSTOP: no message from wb naming rank 2: $out"
  fi
  pass "SIG$sig to rank 2 mid-fit: the job ended in $(printf %.1f "$secs") s, exit $rc: $(grep -m1 -E "rank 2" <<<"$out" | sed 's/^ *//')"
done

# another wb version on ranks 1 and 2
run_bounded 300 "${MPIRUN[@]}" -np 1 "$WB" -e 'print("ran")' : -np 2 env WB_MPI_TEST_VERSION=0.0.9 "$WB" -e 'print("ran")'
[ "$RC" != 0 ] || fail "version mismatch accepted: $OUT"
[[ "$OUT" == *"wb: mpi: rank 1 on "*" runs wb 0.0.9, rank 0 on "*" runs wb "*": every rank must run the same wb"* ]] || fail "version mismatch message: $OUT"
grep -q "^ran" <<<"$OUT" && fail "the script ran despite the mismatch"
pass "another wb version refused in $(printf %.1f "$SECS") s: $(grep -m1 'runs wb' <<<"$OUT")"

# another version of a plugin on ranks 1 and 2 (tests/plugins/pver1.so, pver2.so)
P=${WB_TEST_PLUGIN_DIR:-$(dirname "$WB")/tests/plugins}
if [ -f "$P/pver1.so" ] && [ -f "$P/pver2.so" ]; then
  mkdir -p "$T/p1" "$T/p2"
  cp "$P/pver1.so" "$T/p1/"
  cp "$P/pver2.so" "$T/p2/"
  run_bounded 300 "${MPIRUN[@]}" -np 1 env WB_PLUGIN_PATH="$T/p1" "$WB" -e 'print("ran")' : -np 2 env WB_PLUGIN_PATH="$T/p2" "$WB" -e 'print("ran")'
  [ "$RC" != 0 ] || fail "plugin version mismatch accepted: $OUT"
  [[ "$OUT" == *"rank 1 on "*" has plugin 'pver' version 2, rank 0 on "*" has version 1"* ]] || fail "plugin mismatch message: $OUT"
  pass "another plugin version refused: $(grep -m1 "has plugin" <<<"$OUT")"
else
  fail "no test plugins pver1/pver2 in $P: the plugin version case cannot run"
fi

# wb head / wb worker under mpirun
for cmd in "head --port 0" "worker --address 127.0.0.1:1"; do
  run_bounded 300 "${MPIRUN[@]}" -np 2 "$WB" $cmd
  [ "$RC" != 0 ] || fail "wb $cmd under mpirun: exit 0: $OUT"
  [[ "$OUT" == *"wb ${cmd%% *}: started by an MPI launcher (OMPI_COMM_WORLD_SIZE=2): wb's own cluster (head, workers) does not run as MPI ranks"* ]] ||
    fail "wb $cmd under mpirun: $OUT"
  [ "$(grep -c "started by an MPI launcher" <<<"$OUT")" = 1 ] || fail "one line per job expected: $OUT"
done
pass "wb head and wb worker under mpirun refused: $(grep -m1 'started by' <<<"$OUT" | cut -c1-120)..."
