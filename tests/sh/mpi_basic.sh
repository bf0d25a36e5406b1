#!/bin/bash
# mpi_basic.sh — the MPI executor under Open MPI's mpirun: logreg, kmeans,
# gbdt and pca (and predictions, scores, describe) give the local
# executor's results bit for bit with 3 ranks and with 2; wb.executor()
# names the ranks; a failing kernel's message names its rank; `wb --mpi`
# alone and a 1-rank job are refused clearly; and the work really runs on
# the executor ranks (their CPU time, not the driver's).
. "$(dirname "$0")/mpi_common.bash"
FITS="$SRC/tests/data/mpi/fits.lua"

"$WB" --threads 2 "$FITS" >"$T/local.txt" 2>"$T/local.err" || fail "local run: $(cat "$T/local.err")"
grep -q "^kmeans 0x" "$T/local.txt" && grep -q "^gbdt " "$T/local.txt" || fail "local output: $(cat "$T/local.txt")"
for np in 3 2; do
  run_bounded 300 "${MPIRUN[@]}" -np $np "$WB" --threads 1 "$FITS"
  [ "$RC" = 0 ] || fail "mpirun -np $np: exit $RC: $OUT"
  printf '%s\n' "$OUT" >"$T/mpi$np.txt"
  diff "$T/local.txt" "$T/mpi$np.txt" >"$T/diff" || fail "mpirun -np $np differs from local: $(cat "$T/diff")"
  pass "mpirun -np $np: $(wc -l <"$T/mpi$np.txt") result lines equal to local bit for bit ($(cut -d' ' -f1 "$T/local.txt" | tr '\n' ' ')) in $(printf %.1f "$SECS") s"
done

cat >"$T/info.lua" <<'LUA'
local e = wb.executor()
assert(e.kind == "mpi", "kind " .. tostring(e.kind))
assert(e.size == 3 and #e.ranks == 3 and e.workers == 2, "ranks")
assert(e.threads == 2, "threads " .. e.threads)
local pids = {}
for i, r in ipairs(e.ranks) do
  assert(r.rank == i - 1 and #r.host > 0 and r.pid > 0, "rank " .. i)
  assert(r.threads == (i == 1 and 0 or 1), "threads of rank " .. r.rank)
  assert(not pids[r.pid], "pids differ")
  pids[r.pid] = true
end
wb.plugin.load(os.getenv("WB_TEST_KERNELS")) -- the test-only kernels, sent to the ranks
-- tasks run on the executor ranks: cluster.pid answers their pids, not the driver's
local seen = {}
local fs = {}
for i = 1, 8 do fs[i] = wb.core.submit("cluster.pid", {}, "") end
for i = 1, 8 do seen[string.unpack("<I4", wb.core.get(fs[i]))] = true end
assert(seen[e.ranks[2].pid] and seen[e.ranks[3].pid] and not seen[e.ranks[1].pid], "tasks ran on the ranks")
-- a task's error names the rank and its host
local ok, err = pcall(function() return wb.remote(function() error("boom in a task") end)():get() end)
assert(not ok and err:find("rank [12] %(" .. e.ranks[2].host:gsub("%p", "%%%0") .. "%): .*boom in a task"), err)
print(string.format("kind=%s size=%d library=%s ranks=%s", e.kind, e.size, e.library,
  table.concat((function() local t = {} for _, r in ipairs(e.ranks) do t[#t + 1] = r.rank .. "@" .. r.host .. "/" .. r.threads end return t end)(), " ")))
print("kernel error: " .. err:match("^[^\n]*"))
LUA
run_bounded 300 "${MPIRUN[@]}" -np 3 "$WB" --threads 1 "$T/info.lua"
[ "$RC" = 0 ] || fail "executor fields: $OUT"
pass "$(printf '%s' "$OUT" | tr '\n' ';')"

# the work runs on ranks 1 and 2: the driver's CPU time stays small
cat >"$T/cpu.lua" <<'LUA'
local function cpu(pid)
  local f = io.open("/proc/" .. pid .. "/stat") if not f then return 0 end
  local s = f:read("a") f:close()
  local fields = {} for x in s:gsub("^.-%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100
end
local e = wb.executor()
local c0 = {} for i, r in ipairs(e.ranks) do c0[i] = cpu(r.pid) end
local r = wb.datagen.swiss_roll{n = 2000000, seed = 3}
wb.fit("kmeans", r, {k = 16, init = "random", max_iter = 8, tol = 0, seed = 0})
local d = {} for i, rr in ipairs(e.ranks) do d[i] = cpu(rr.pid) - c0[i] end
print(string.format("cpu s: driver %.2f rank1 %.2f rank2 %.2f", d[1], d[2], d[3]))
assert(d[2] > 3 * d[1] and d[3] > 3 * d[1], "the ranks did not do the work")
LUA
run_bounded 300 "${MPIRUN[@]}" -np 3 "$WB" --threads 1 "$T/cpu.lua"
[ "$RC" = 0 ] || fail "cpu: $OUT"
pass "kmeans on 2M rows under mpirun: $OUT"

# refusals: --mpi without a launcher (one rank), a job of one rank
run_bounded 300 "$WB" --mpi -e 'print(1)'
[ "$RC" != 0 ] && [[ "$OUT" == *"this job has 1 rank, the driver alone: start 2 or more"* ]] || fail "wb --mpi alone: $RC $OUT"
run_bounded 300 "${MPIRUN[@]}" -np 1 "$WB" -e 'print(1)'
[ "$RC" != 0 ] && [[ "$OUT" == *"this job has 1 rank"* ]] || fail "mpirun -np 1: $RC $OUT"
pass "one rank refused: $(printf '%s' "$OUT" | grep -m1 'wb:')"

# the prompt: `mpirun -np 3 wb` on a terminal gives wb> on rank 0 (the launcher forwards the lines)
if command -v script >/dev/null; then
  OUT=$( (sleep 3; echo 'wb.executor().kind'; sleep 1; echo '=6 * 7'; sleep 1; printf '\004') |
    timeout -k 5 300 script -qfc "mpirun --oversubscribe -np 3 $WB" /dev/null 2>&1 | tr -d '\r')
  grep -q "^wb> mpi$" <<<"$(sed 's/^wb> wb.executor().kind$//' <<<"$OUT" | tr -s '\n')" ||
    grep -q "^mpi$" <<<"$OUT" || fail "prompt under mpirun: $OUT"
  grep -q "42" <<<"$OUT" || fail "prompt under mpirun: $OUT"
  pass "the wb> prompt on rank 0 under mpirun: $(grep -c 'wb>' <<<"$OUT") prompts, answers 'mpi' and 42"
fi
