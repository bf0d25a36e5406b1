#!/bin/bash
# shell_interrupt.sh — Ctrl-C at the wb> prompt in a real terminal stops the
# running work and comes back to the prompt, the process alive: a pure Lua
# loop, a long C map over partitions (a kernel that runs until cancelled), a
# loop of d:describe() map/reduces. The next commands work (flag cleared, no
# task left in the pool). A second Ctrl-C says what is going on, a third
# leaves wb (for a kernel that never looks at the flag).
. "$(dirname "$0")/shell_tmux.inc"

# type a command, wait until its work runs (READY: text:WORDS, a line of the
# screen it prints, or file:PATH, the file the spin kernel makes as it
# starts; 300 s at most: the work runs until interrupted, and k-means'
# first progress line took over 30 s under ASan on a loaded machine), press
# Ctrl-C, wait for the next prompt (30 s at most)
interrupt() {
  local cmd=$1 ready=$2 n seen=0 end
  n=$(prompts)
  case "$ready" in
  file:*) rm -f "${ready#file:}" ;;
  text:*) seen=$(count_lines "${ready#text:}") ;;
  *) fail "interrupt: READY must be text:... or file:..., got '$ready'" ;;
  esac
  enter_line "$cmd"
  case "$ready" in
  file:*) wait_file "${ready#file:}" 300 ;;
  text:*) wait_for "${ready#text:}" $((seen + 1)) 300 ;;
  esac
  keys C-c
  end=$((SECONDS + 30))
  while [ "$(prompts)" -le "$n" ]; do
    [ $SECONDS -ge $end ] && fail "Ctrl-C did not bring the prompt back after: $cmd"
    sleep 0.05
  done
}

# until the file exists (SECS, default 30, at most)
wait_file() {
  local secs=${2:-30}
  local end=$((SECONDS + secs))
  while [ ! -e "$1" ]; do
    [ $SECONDS -ge $end ] && fail "waited $secs s for $1"
    sleep 0.05
  done
}

# the pid of wb in the pane (the child of the pane's shell)
wb_pid() {
  local shell_pid
  shell_pid=$(tmux -S "$SOCK" display-message -p -t "$SESSION" '#{pane_pid}')
  ps -o pid= --ppid "$shell_pid" | head -1 | tr -d ' '
}

# one Ctrl-C that wb has taken before the next is pressed (two presses that
# arrive together are one signal): the terminal echoed ^C, so the signal was
# sent, and wb has no SIGINT pending any more, so its handler ran
press_ctrl_c() {
  local n pid end pend
  pid=$(wb_pid)
  [ -n "$pid" ] || fail "no wb process in the pane"
  n=$(screen | grep -o '\^C' | wc -l)
  keys C-c
  end=$((SECONDS + 30))
  while [ "$(screen | grep -o '\^C' | wc -l)" -le "$n" ]; do
    [ $SECONDS -ge $end ] && fail "the terminal did not echo ^C within 30 s"
    sleep 0.05
  done
  while :; do
    pend=$(awk '/^(SigPnd|ShdPnd):/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || break
    [ -n "$pend" ] || break # wb has left
    local any=0 m
    for m in $pend; do (( (0x$m & 2) != 0 )) && any=1; done
    [ "$any" = 0 ] && break
    [ $SECONDS -ge $end ] && fail "SIGINT still pending in wb after 30 s"
    sleep 0.02
  done
}

start_wb WB_SPIN_MARK="$T/spin"

# a pure Lua loop
interrupt 'n = 0; while true do n = n + 1; if n == 100000 then print("loop" .. "ing") end end' text:looping
expect_out '^C'
expect_out 'wb: interrupted!'
expect_out 'stack traceback:'
run '=n >= 100000'
[ "$(out)" = "true" ] || fail "the loop did not run before Ctrl-C: '$(out)'"
run '=1 + 1'
[ "$(out)" = "2" ] || fail "the prompt after an interrupted loop: '$(out)'"
# a loop of function calls, twice in a row (the hook is set again each time)
interrupt 'function step(x) return x + 1 end; k = 0; while true do k = step(k); if k == 1000 then print("step" .. "ping") end end' text:stepping
expect_out 'wb: interrupted!'
interrupt 'k = 0; while true do k = step(k); if k == 1000 then print("step" .. "ping") end end' text:stepping
expect_out 'wb: interrupted!'

# a long C map over 32 partitions: each task runs until cancelled (or 60 s:
# the prompt must be back well before, see interrupt)
run 'wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")'
run 'd = wb.datagen.shelldemo{n = 32 * 4096, partition_rows = 4096}'
run '=d:partitions()'
[ "$(out)" = "32" ] || fail "the dataset has $(out) partitions, 32 wanted"
interrupt 'r = wb.core.map("shelldemo.spin", d, nil, wb.core.pack_doubles{60})' "file:$T/spin"
expect_out 'wb: interrupted!'
run '=r'
[ "$(out)" = "nil" ] || fail "the map was not stopped: '$(out)'"
run '=wb.core.interrupted()'
[ "$(out)" = "false" ] || fail "the interrupt flag is still set: '$(out)'"
# the pool is free: a map/reduce over all partitions completes, with the right answer
run 'd:describe()'
out | grep -q '^x1  *131072  *0  *65536\.600000  *37837\.371579  *1\.100000  *32768\.850000  *65536\.600000  *98304\.350000  *131072\.100000$' || fail "describe after the interrupt: '$(out)'"
run 'm = wb.fit("shelldemo_mean", d, {})'
run '=m.rows'
[ "$(out)" = "131072" ] || fail "fit after the interrupt: '$(out)'"

# a loop of map/reduces: Ctrl-C lands in Lua or in a kernel, either way it stops
interrupt 'runs = 0; while true do s = d:describe(); runs = runs + 1; if runs == 1 then print("descr" .. "ibed") end end' text:described
expect_out 'wb: interrupted!'
run '=runs > 0, s ~= nil'
out | grep -q '^true *true$' || fail "the describe loop did not run: '$(out)'"
run '=d:describe()[2].mean'
[ "$(out)" = "65536.7" ] || fail "describe after the interrupted loop: '$(out)'"

# a real estimator: a long k-means fit, interrupted once its progress line
# shows iterations (100000 of them would take minutes)
run '=wb.core.estimator_info("kmeans") ~= nil and wb.core.source_info("swiss_roll") ~= nil'
[ "$(out)" = "true" ] || fail "the kmeans and datagen plugins are not loaded"
run 'r = wb.datagen.swiss_roll{n = 1000000, noise = 0.5, seed = 1}'
interrupt 'km = wb.fit("kmeans", r, {k = 64, max_iter = 100000, tol = 0, seed = 0})' 'text:/100000 ('
expect_out 'wb: interrupted!'
run '=km'
[ "$(out)" = "nil" ] || fail "the k-means fit was not stopped: '$(out)'"
run '=wb.fit("kmeans", r:slice(1, 20000), {k = 3, seed = 0}).iterations > 0'
[ "$(out)" = "true" ] || fail "k-means after the interrupt: '$(out)'"

# Ctrl-C on work that does not look at the flag (for 8 s): the second press
# says so, the command ends when the kernel does
n=$(prompts)
rm -f "$T/spin"
enter_line 'wb.core.map("shelldemo.spin", d:slice(1, 4096), nil, wb.core.pack_doubles{8, 1})'
wait_file "$T/spin"
press_ctrl_c
press_ctrl_c
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
rm -f "$T/spin"
enter_line 'wb.core.map("shelldemo.spin", d:slice(1, 4096), nil, wb.core.pack_doubles{30, 1})'
wait_file "$T/spin"
press_ctrl_c
press_ctrl_c
press_ctrl_c
wait_for 'wb: interrupted 3 times, leaving'
wait_exit 130

echo "shell_interrupt: all checks passed"
