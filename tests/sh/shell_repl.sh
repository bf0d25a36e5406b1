#!/bin/bash
# shell_repl.sh — the wb> prompt in a real terminal: banner and prompt; bare
# expressions and =expr print their values, statements print nothing;
# multi-line chunks with the ...> prompt; Ctrl-C at the prompt; errors;
# datasets, vectors, tables and models printed readably; help(); history kept
# in a file, one entry per chunk, across sessions; ?name and name?, _, wb's
# own errors without traceback, help wrapped to the terminal, exit()/quit().
. "$(dirname "$0")/shell_tmux.inc"

start_wb
screen | grep -q '^wb 0\.[0-9.]* -- an analysis workbench (Lua 5.4)\. help() for help' || fail "no banner"

# --- values: expressions print, statements do not
run '1 + 41'
[ "$(out)" = "42" ] || fail "1 + 41 printed '$(out)'"
run '=2 * 21'
[ "$(out)" = "42" ] || fail "=2 * 21 printed '$(out)'"
run 'x = 5'
[ -z "$(out)" ] || fail "an assignment printed '$(out)'"
run 'local y = 3'
[ -z "$(out)" ] || fail "a local statement printed '$(out)'"
run 'x * 2'
[ "$(out)" = "10" ] || fail "x * 2 printed '$(out)'"
run '0.1 + 0.2'
[ "$(out)" = "0.3" ] || fail "0.1 + 0.2 printed '$(out)'"
run '"text"'
[ "$(out)" = "text" ] || fail "a string printed '$(out)'"
run '1, "two", nil'
out | grep -q '^1 *two *nil$' || fail "three values printed '$(out)'"
run '{1, 2, a = "x", b = {true}}'
[ "$(out)" = '{1, 2, a = "x", b = {true}}' ] || fail "a table printed '$(out)'"
run 'function f() return 7 end'
[ -z "$(out)" ] || fail "a function definition printed '$(out)'"
run 'f()'
[ "$(out)" = "7" ] || fail "f() printed '$(out)'"
run 'print("a", 1)'
out | grep -q '^a *1$' || fail "print printed '$(out)'"
[ "$(out | wc -l)" = 1 ] || fail "print(...) printed its (empty) result too: '$(out)'"

# --- multi-line chunks: the ...> prompt, then the chunk runs once
more 'for i = 1, 3 do'
more 'print(i * 10)'
run 'end'
expect_out '...> print(i * 10)'
expect_out '...> end'
[ "$(out | grep -c -x -e 10 -e 20 -e 30)" = 3 ] || fail "the loop printed '$(out)'"
# an expression over several lines is printed
more '{10,'
run '20}'
expect_out '{10, 20}'
more 'function g(a)'
run 'return a * 2 end'
run 'g(21)'
[ "$(out)" = "42" ] || fail "g(21) printed '$(out)'"

# --- Ctrl-C at the prompt clears the line; at ...> it drops the chunk
type_text 'this is not lua'
# the terminal drops typed input that wb has not read yet when Ctrl-C comes:
# wait until the line is on the screen
wait_for 'wb> this is not lua'
interrupt_line
wait_for 'wb> this is not lua^C'
run '=6 * 7'
[ "$(out)" = "42" ] || fail "after Ctrl-C at the prompt: '$(out)'"
more 'for i = 1, 2 do'
interrupt_line
run '=i'
[ "$(out)" = "nil" ] || fail "after Ctrl-C at ...>: '$(out)'"

# --- errors: wb: message and a traceback, then the prompt again
run 'error("boom")'
expect_out 'wb: stdin:1: boom'
expect_out 'stack traceback:'
run 'nosuch.field = 1'
expect_out "wb: stdin:1: attempt to index a nil value (global 'nosuch')"
run '1 +* 2'
expect_out "wb: stdin:1: unexpected symbol near '*'"
run 'error({})'
expect_out 'wb: (error object is a table value)'
run '=1'
[ "$(out)" = "1" ] || fail "the prompt after errors: '$(out)'"

# --- datasets, vectors, tables, models
run 'wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")'
[ "$(out)" = "shelldemo" ] || fail "plugin load printed '$(out)'"
run 'd = wb.datagen.shelldemo{n = 100000, features = 12}'
[ -z "$(out)" ] || fail "an assignment of a dataset printed '$(out)'"
run 'd'
out > "$T/d.txt"
[ "$(sed -n 1p "$T/d.txt")" = "Dataset: 100,000 rows x 12 columns, labelled (25 partitions)" ] ||
  fail "dataset shape line: $(sed -n 1p "$T/d.txt")"
sed -n 2p "$T/d.txt" | grep -q '^ *x1  *x2  *x3  *x4  *\.\.\.  *x9  *x10  *x11  *x12  *label$' ||
  fail "dataset column names: $(sed -n 2p "$T/d.txt")"
sed -n 3p "$T/d.txt" | grep -q '^ *1  *1\.1  *1\.2  *1\.3  *1\.4  *\.\.\.  *1\.9  *2  *2\.1  *2\.2  *1$' ||
  fail "dataset first row: $(sed -n 3p "$T/d.txt")"
sed -n 8p "$T/d.txt" | grep -q '^ *\.\.\.\(  *\.\.\.\)\{10\}$' || fail "dataset middle: $(sed -n 8p "$T/d.txt")"
sed -n 13p "$T/d.txt" | grep -q '^100,000  *100000\.1  *100000\.2  *100000\.3  *100000\.4  *\.\.\.  *100000\.9  *100001  *100001\.1  *100001\.2  *0$' ||
  fail "dataset last row: $(sed -n 13p "$T/d.txt")"
[ "$(wc -l < "$T/d.txt")" = 13 ] || fail "dataset: $(wc -l < "$T/d.txt") lines, 13 expected"
[ "$(sed -n '2,13p' "$T/d.txt" | awk '{ print length($0) }' | sort -u | wc -l)" = 1 ] ||
  fail "dataset columns are not aligned (lines of different lengths)"
run 'd:head(3)'
[ "$(out | grep -c 'Dataset: 3 rows x 12 columns')" = 1 ] || fail "d:head(3) printed '$(out)'"
[ "$(out | wc -l)" = 5 ] || fail "d:head(3): $(out | wc -l) lines"
run 'd:labels()'
[ "$(out)" = "Vector of 100,000: [1, 0, 1, 0, 1, ..., 0, 1, 0, 1, 0]" ] || fail "vector printed '$(out)'"
run 'd:describe()'
out | sed -n 1p | grep -q '^column  *count  *missing  *mean  *std  *min  *25%  *50%  *75%  *max$' || fail "describe header: '$(out)'"
# quartiles as pandas' describe (linear interpolation): x1 = i + 0.1, 25% at rank 24999.75;
# the statistics in one number format
out | grep -q '^x1  *100000  *0  *50000\.600000  *28867\.657797  *1\.100000  *25000\.850000  *50000\.600000  *75000\.350000  *100000\.100000$' || fail "describe x1: '$(out)'"
out | grep -q '^x10  *100000  *0  *50001\.500000  *28867\.657797  *2\.000000  *25001\.750000  *50001\.500000  *75001\.250000  *100001\.000000$' || fail "describe x10: '$(out)'"
run 'wb.fit("shelldemo_mean", d, {scale = 2})'
expect_out 'shelldemo_mean model (iters=10, mode=plain, scale=2)'
out | grep -q '^  means  \[1 x 12\] \[100001\.2, 100001\.4, 100001\.6, 100001\.8, 100002\.0, 100002\.2, 100002\.4, 100002\.6, \.\.\.\]$' ||
  fail "model printed '$(out)'"
out | grep -q '^  rows   100000$' || fail "model rows field: '$(out)'"

# --- help
run 'help("shelldemo_mean")'
expect_out 'shelldemo_mean (transformer): column means (for the shell'"'"'s tests)'
out | grep -q '^  iters  10  *an integer in \[1, 100\]  *how many times (unused)$' || fail "help schema: '$(out)'"
out | grep -q '^  scale  1.0  *a number > 0  *multiply the means by this$' || fail "help schema: '$(out)'"
run 'help()'
expect_out 'estimators (wb.fit(name, data, params)'
expect_out 'shelldemo_mean'
run 'help(wb.fit)'
expect_out 'wb.fit(name, data, params) -> model'

# --- history: one entry per chunk, in the file, across sessions
run '=1001'
run '=1001'
keys C-d
wait_exit 0
grep -q -x 'for i = 1, 3 do' "$T/history" || fail "history file lacks the chunk: $(cat "$T/history")"
# the three lines of the chunk follow each other: one entry, one timestamp
grep -A2 -x 'for i = 1, 3 do' "$T/history" | tr '\n' '|' | grep -q -x 'for i = 1, 3 do|print(i \* 10)|end|' ||
  fail "the chunk is not one history entry: $(cat "$T/history")"
[ "$(grep -c -x '=1001' "$T/history")" = 1 ] || fail "a line repeated at once is kept twice in the history"

start_wb
more 'for k = 1, 2 do'
more 'print("round " .. k)'
run 'end'
keys C-d
wait_exit 0
start_wb
keys Up
keys Enter
wait_for 'round 2'
[ "$(count_lines 'round 1')" = 1 ] || fail "the multi-line chunk recalled from history did not run once"
keys C-d
wait_exit 0

# WB_HISTORY= (empty) keeps no history; without WB_HISTORY it is ~/.wb_history
rm -f "$T/history"
start_wb WB_HISTORY=
run '=123'
keys C-d
wait_exit 0
[ ! -e "$T/history" ] && [ ! -e "$T/.wb_history" ] || fail "WB_HISTORY= wrote a history file"
DEFAULT_HISTORY=1 start_wb
run '=456'
keys C-d
wait_exit 0
grep -q -x '=456' "$T/.wb_history" || fail "no ~/.wb_history without WB_HISTORY"

# --- ?name and name? are help; _ is the last result; wb's own errors are
# the message alone (no traceback, no position inside wb); exit() and quit()
start_wb
run '?kmeans'
expect_out 'kmeans (clusterer): k-means'
expect_out 'usage: m = wb.fit("kmeans", data, {k = ..., ...})'
run 'scatter?'
expect_out 'wb.plot.scatter(data2d'
run 'help("metrics")'
expect_out 'wb.metrics.roc_auc(truth, score)'
run '40 + 2'
run '_ * 2'
[ "$(out)" = "84" ] || fail "_ * 2 printed '$(out)'"
run 'd = wb.dataset({{1, 2}, {3, 4}, {5, 6}})'
run '_'
[ "$(out)" = "84" ] || fail "a statement changed _: '$(out)'"
run 'd'
expect_out 'Dataset: 3 rows x 2 columns (1 partition)'
run '_:rows()'
[ "$(out)" = "3" ] || fail "_ after d printed '$(out)'"
run 'wb.fit("kmean", d)'
expect_out "wb: bad argument #1 to 'fit' (no estimator named 'kmean' (did you mean 'kmeans'? estimators:"
expect_no_out 'stack traceback'
expect_no_out 'select:'
run 'wb.fit("kmeans", d, {k = 0})'
[ "$(out)" = "wb: kmeans: parameter 'k' must be an integer >= 1, got 0" ] || fail "a bad parameter printed '$(out)'"
run 'wb.fitt(1)'
[ "$(out)" = "wb: wb.fitt does not exist (did you mean wb.fit?)" ] || fail "wb.fitt printed '$(out)'"
run 'd:describ()'
[ "$(out)" = "wb: a dataset has no method 'describ' (did you mean d:describe?)" ] || fail "d:describ() printed '$(out)'"
run 'wb.load("/nonexistent/x.csv")'
[ "$(out)" = "wb: /nonexistent/x.csv: cannot open (No such file or directory)" ] || fail "a missing file printed '$(out)'"
# the user's own error keeps its traceback
run 'function boom() error("mine") end; boom()'
expect_out "wb: stdin:1: mine"
expect_out "in function 'boom'"
# help wraps to the terminal's width
tmux -S "$SOCK" resize-window -t "$SESSION" -x 80 -y 60
sleep 0.3
run 'help("logreg")'
expect_out 'logreg (classifier)'
longest=$(out | awk '{ if (length($0) > m) m = length($0) } END { print m }')
[ "$longest" -le 80 ] || fail "help at 80 columns has a line of $longest: $(out | awk 'length($0) > 80' | head -2)"
type_text 'exit(3)'
keys Enter
wait_exit 3
start_wb
type_text 'quit()'
keys Enter
wait_exit 0

echo "shell_repl: all checks passed"
