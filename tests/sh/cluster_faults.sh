#!/bin/bash
# cluster_faults.sh — faults of workers: a silent worker (SIGSTOP) is removed
# after the heartbeat timeout and its tasks finish elsewhere; a task whose
# workers keep dying fails after the bounded retries naming the task and the
# worker; a worker over its memory limit refuses objects with a clear error.
. "$(dirname "$0")/cluster_common.bash"
make_token "$T/tok" "fault-token-0123456789abcdef"

# --- a silent worker
start_head head --token-file "$T/tok" --heartbeat-ms 100 --timeout-ms 1000
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"; W1=$WORKER_PID
start_worker w2 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"; W2=$WORKER_PID
cat > "$T/silent.lua" <<LUA
wb.plugin.load("$KERNELS")
wb.connect("$ADDR", {token_file = "$T/tok", workers = 2})
local fs = {}
for i = 1, 20 do fs[i] = wb.core.submit("cluster.sleep", {}, string.pack("<d", 0.05)) end
os.execute("kill -STOP $W2")
local t0 = wb.now()
wb.core.wait(fs)
for i = 1, 20 do assert(string.unpack("<d", wb.core.get(fs[i])) == 0.05) end
local ex = wb.executor()
local alive = {}
for _, w in ipairs(ex.worker_list) do if w.alive then alive[#alive + 1] = w.pid end end
assert(ex.workers == 1 and #alive == 1 and alive[1] == $W1, "the silent worker is still counted")
print(string.format("all 20 tasks done in %.2f s with one worker silent", wb.now() - t0))
LUA
timeout 60 "$WB" "$T/silent.lua" >"$T/silent.out" 2>&1 || fail "silent worker: $(cat "$T/silent.out")"
grep -q "worker [12] at 127.0.0.1:[0-9]* removed: silent for [0-9.]* s (heartbeat timeout 1.0 s)" "$T/head.log" ||
  fail "head did not report the silent worker"
kill -CONT "$W2"
wait_pid "$W2" 60
[ "$RC" = 1 ] || fail "the removed worker exited $RC"
grep -q "lost the head at $ADDR.*exiting" "$T/w2.log" || fail "the removed worker did not say why it exits"
pass "silent worker removed, its tasks finished elsewhere: $(cat "$T/silent.out")"
kill "$HEAD_PID" "$W1"

# --- bounded retries: a task that kills every worker it runs on
start_head head2 --token-file "$T/tok" --max-retries 1
start_worker w3 --address "$ADDR" --token-file "$T/tok" --threads 1
start_worker w4 --address "$ADDR" --token-file "$T/tok" --threads 1
out=$(timeout 60 "$WB" -e "wb.connect('$ADDR', {token_file = '$T/tok', workers = 2})
local f = wb.remote(function() os.exit(3) end)()
local ok, e = pcall(f.get, f)
print(ok, e)" 2>&1)
echo "$out" | grep -q "false	task 'lua.call' (object [0-9a-f]*) failed: its worker was lost 2 times (last: worker [12] at 127.0.0.1:[0-9]*: " ||
  fail "retries: $out"
pass "bounded retries: $(echo "$out" | head -1)"
kill "$HEAD_PID"

# --- memory limit
start_head head3 --token-file "$T/tok"
start_worker w5 --address "$ADDR" --token-file "$T/tok" --threads 1 --memory-limit 1MB --plugin "$KERNELS"
out=$(timeout 60 "$WB" -e "wb.plugin.load('$KERNELS') wb.connect('$ADDR', {token_file = '$T/tok', workers = 1})
local t = wb.core.submit('cluster.fill', {}, string.pack('<I8B', 2 << 20, 1))
print(pcall(wb.core.get, t))
local p = wb.core.put(string.rep('x', 2 << 20))
local ok, e = pcall(wb.core.get, wb.core.submit('cluster.size', {p}, ''))
print(ok, ok and '(a result)' or e)
print(#wb.core.get(wb.core.submit('cluster.fill', {}, string.pack('<I8B', 1000, 1))))" 2>&1)
echo "$out" | sed -n 1p | grep -q "false	memory limit: an object of 2097152 bytes would bring the store to 2097152 of 1048576 bytes (on worker 1 at 127.0.0.1:[0-9]*)" ||
  fail "task over the limit: $out"
echo "$out" | sed -n 2p | grep -q "false	worker 1 at 127.0.0.1:[0-9]*: memory limit: an object of 2.0 MB would bring its store to more than its limit of 1.0 MB" ||
  fail "put over the limit: $out"
echo "$out" | sed -n 3p | grep -q "^1000$" || fail "the worker did not keep working: $out"
kill -0 "$WORKER_PID" || fail "the worker died"
pass "memory limit refusals: $(echo "$out" | sed -n 1p | cut -c1-90)..."
kill "$HEAD_PID"

# --- the head dies while a driver waits: an error, not a hang; workers exit.
# The head is killed once its dashboard counts the task running on the
# worker (an event, not a pause); the task would sleep 600 s, so a wait that
# ends at all (the driver has 60 s) ended because the head died
start_head head4 --token-file "$T/tok"
start_worker w6 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"; W6=$WORKER_PID
cat > "$T/headdeath.lua" <<LUA
wb.plugin.load("$KERNELS")
wb.connect("$ADDR", {token_file = "$T/tok", workers = 1})
local f = wb.core.submit("cluster.sleep", {}, string.pack("<d", 600))
os.execute("/usr/bin/python3 $(dirname "$0")/cluster_dashboard_wait.py $DASH tasks.running 1 60 && kill -9 $HEAD_PID &")
local t0 = wb.now()
local ok, e = pcall(wb.core.wait, {f})
print(ok, string.format("%.1f", wb.now() - t0), e)
print(pcall(wb.core.submit, "cluster.noop", {}, ""))
LUA
out=$(timeout 60 "$WB" "$T/headdeath.lua" 2>&1) || fail "driver with a dead head: $out"
echo "$out" | sed -n 1p | grep -q "^false	[0-9.]*	cluster: lost the connection to the head at $ADDR" || fail "head death: $out"
echo "$out" | sed -n 2p | grep -q "^false	cluster: lost the connection to the head" || fail "submit after head death: $out"
wait_pid "$W6" 30
grep -q "lost the head at $ADDR" "$T/w6.log" || fail "worker message on head death"
pass "head killed: the driver's wait fails ($(echo "$out" | sed -n 1p | cut -f2) s after it began, the task would take 600 s), the worker exits"
kill "$HEAD_PID" 2>/dev/null

# --- a worker stopped while two tasks wait for inputs from a silent peer:
# it exits at once and frees the waiting tasks and fetches (a sanitizer build
# reports a leak, or a use after free, in its log otherwise); the tasks then
# finish on the other worker
start_head head5 --token-file "$T/tok"
start_worker w7 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"; W7=$WORKER_PID
start_worker w8 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"; W8=$WORKER_PID
cat > "$T/waiting.lua" <<LUA
wb.plugin.load("$KERNELS")
wb.connect("$ADDR", {token_file = "$T/tok", workers = 2})
local function pid(inputs) return string.unpack("<I4", wb.core.get(wb.core.submit("cluster.pid", inputs, ""))) end
-- puts go round robin in worker-id order: the large ones to one worker, the small ones to the other
local big, small = wb.core.put(string.rep("x", 1 << 20)), wb.core.put("y")
local big2, small2 = wb.core.put(string.rep("x", 1 << 20)), wb.core.put("yy")
local pbig, psmall = pid({big}), pid({small})
assert(pbig ~= psmall, "both objects on one worker")
assert(pid({big2}) == pbig and pid({small2}) == psmall, "the puts did not alternate")
os.execute("kill -STOP " .. psmall)
-- each task goes where most of its input is and asks the silent worker for the rest
local f = wb.core.submit("cluster.size", {big, small}, "")
local f2 = wb.core.submit("cluster.size", {big2, small2}, "")
os.execute("sleep 0.5; kill -TERM " .. pbig)
for _ = 1, 600 do -- 30 s at most
  if not os.execute("kill -0 " .. pbig .. " 2>/dev/null") then break end
  os.execute("sleep 0.05")
end
local gone = not os.execute("kill -0 " .. pbig .. " 2>/dev/null")
os.execute("kill -CONT " .. psmall)
print(gone, string.unpack("<I8", wb.core.get(f)), (string.unpack("<I8", wb.core.get(f2))))
LUA
out=$(timeout 60 "$WB" "$T/waiting.lua" 2>&1) || fail "task waiting for an input: $out"
[ "$out" = "true	1048577	1048578" ] || fail "task waiting for an input: $out"
grep -q "stopping (signal 15)" "$T/w7.log" "$T/w8.log" || fail "the stopped worker did not log its signal"
pass "a worker stopped while two tasks waited for inputs exited at once; they finished elsewhere ($out)"
