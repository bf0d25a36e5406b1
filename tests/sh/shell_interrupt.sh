#!/bin/bash
# shell_interrupt.sh — Ctrl-C at the wb> prompt in a real terminal stops the
# running work and comes back to the prompt, the process alive: a pure Lua
# loop, a long C map over partitions (a kernel that runs until cancelled), a
# loop of d:describe() map/reduces. The next commands work (flag cleared, no
# task left in the pool). A second Ctrl-C says what is going on, a third
# leaves wb (for a kernel that never looks at the flag).
. "$(dirname "$0")/shell_tmux.inc"

# type a command, let it run `secs`, press Ctrl-C, wait for the next prompt
interrupt() {
  local n
  n=$(prompts)
  enter_line "$1"
  sleep "${2:-0.7}"
  keys C-c
  local end=$((SECONDS + ${3:-15}))
  while [ "$(prompts)" -le "$n" ]; do
    [ $SECONDS -ge $end ] && fail "Ctrl-C did not bring the prompt back after: $1"
    sleep 0.05
  done
}

start_wb

# a pure Lua loop
interrupt 'n = 0; while true do n = n + 1 end'
expect_out '^C'
expect_out 'wb: interrupted!'
expect_out 'stack traceback:'
run '=n > 1000'
[ "$(out)" = "true" ] || fail "the loop did not run before Ctrl-C: '$(out)'"
run '=1 + 1'
[ "$(out)" = "2" ] || fail "the prompt after an interrupted loop: '$(out)'"
# a loop of function calls, twice in a row (the hook is set again each time)
interrupt 'function step(x) return x + 1 end; k = 0; while true do k = step(k) end' 0.3
expect_out 'wb: interrupted!'
interrupt 'while true do k = step(k) end' 0.3
expect_out 'wb: interrupted!'

# a long C map over 32 partitions: each task runs until cancelled (or 60 s)
run 'wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")'
run 'd = wb.datagen.shelldemo{n = 32 * 4096, partition_rows = 4096}'
run '=d:partitions()'
[ "$(out)" = "32" ] || fail "the dataset has $(out) partitions, 32 wanted"
interrupt 't0 = wb.now(); r = wb.core.map("shelldemo.spin", d, nil, wb.core.pack_doubles{60})' 1
expect_out 'wb: interrupted!'
run '=wb.now() - t0 < 10, r'
out | grep -q '^true *nil$' || fail "the map was not stopped at once: '$(out)'"
run '=wb.core.interrupted()'
[ "$(out)" = "false" ] || fail "the interrupt flag is still set: '$(out)'"
# the pool is free: a map/reduce over all partitions completes, with the right answer
run 'd:describe()'
out | grep -q '^x1  *131072  *0  *65536\.6  *37837\.371579  *1\.1  *32768\.85  *65536\.6  *98304\.35  *131072\.1$' || fail "describe after the interrupt: '$(out)'"
run 'm = wb.fit("shelldemo_mean", d, {})'
run '=m.rows'
[ "$(out)" = "131072" ] || fail "fit after the interrupt: '$(out)'"

# a loop of map/reduces: Ctrl-C lands in Lua or in a kernel, either way it stops
interrupt 'runs = 0; while true do s = d:describe(); runs = runs + 1 end' 1
expect_out 'wb: interrupted!'
run '=runs > 0, s ~= nil'
out | grep -q '^true *true$' || fail "the describe loop did not run: '$(out)'"
run '=d:describe()[2].mean'
[ "$(out)" = "65536.7" ] || fail "describe after the interrupted loop: '$(out)'"

# a real estimator: a long k-means fit (when the kmeans and datagen plugins are here)
run '=wb.core.estimator_info("kmeans") ~= nil and wb.core.source_info("swiss_roll") ~= nil'
if [ "$(out)" = "true" ]; then
  run 'r = wb.datagen.swiss_roll{n = 1000000, noise = 0.5, seed = 1}'
  interrupt 't0 = wb.now(); km = wb.fit("kmeans", r, {k = 64, max_iter = 100000, tol = 0, seed = 0})' 1.5
  expect_out 'wb: interrupted!'
  run '=wb.now() - t0 < 6, km'
  out | grep -q '^true *nil$' || fail "the k-means fit was not stopped at once: '$(out)'"
  run '=wb.fit("kmeans", r:slice(1, 20000), {k = 3, seed = 0}).iterations > 0'
  [ "$(out)" = "true" ] || fail "k-means after the interrupt: '$(out)'"
else
  echo "note: no kmeans/swiss_roll plugin, the estimator interrupt is not checked"
fi

# Ctrl-C on work that does not look at the flag: the second press says so,
# the command ends when the kernel does
n=$(prompts)
enter_line 'wb.core.map("shelldemo.spin", d:slice(1, 4096), nil, wb.core.pack_doubles{3, 1})'
sleep 0.5
keys C-c
sleep 0.3
keys C-c
wait_for 'wb: stopping: waiting for the running work to notice (Ctrl-C once more leaves wb)'
end=$((SECONDS + 30))
while [ "$(prompts)" -le "$n" ]; do
  [ $SECONDS -ge $end ] && fail "no prompt 30 s after the slow stop"
  sleep 0.1
done
expect_out 'wb: interrupted!'
run '=3 * 3'
[ "$(out)" = "9" ] || fail "the prompt after a slow stop: '$(out)'"
# the third press leaves wb with status 130
enter_line 'wb.core.map("shelldemo.spin", d:slice(1, 4096), nil, wb.core.pack_doubles{30, 1})'
sleep 0.5
keys C-c
sleep 0.2
keys C-c
sleep 0.2
keys C-c
wait_for 'wb: interrupted 3 times, leaving'
wait_exit 130

echo "shell_interrupt: all checks passed"
