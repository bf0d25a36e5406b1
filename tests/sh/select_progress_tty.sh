#!/bin/bash
# Grid search on a terminal shows one progress line: its own fits done of
# total and the best mean score so far. The fits it runs in parallel tasks
# report nothing (their "logreg iteration ..." lines would replace each other
# and the grid's line). The terminal is a pty from `script`.
. "$(dirname "$0")/pty.inc"

# 18 logreg fits of a few hundred ms each (they report every iteration when
# fitted alone), then a fit from the prompt's own thread, which still shows
cat > "$dir/grid.lua" <<'EOF2'
local d = wb.datagen.classification{n = 4e5, features = 10, seed = 1}
local g = wb.gridsearch("logreg", d, {C = {0.003, 0.01, 0.03, 0.1, 0.3, 1}},
  {folds = 3, params = {solver = "lbfgs", tol = 1e-10, max_iter = 100}, refit = false})
print(string.format("BEST C=%s %.6g", tostring(g.best_params.C), g.best_score))
print("DONE")
EOF2
script -qfec "stty cols 200; '$WB' '$dir/grid.lua'" /dev/null > "$dir/tty.out" 2>&1 < /dev/null
tr '\r' '\n' < "$dir/tty.out" | tr -d '\033' | sed 's/\[K//g' | grep -av '^$' > "$dir/tty.lines"
grep -q '^DONE' "$dir/tty.lines" || { no "the grid search did not finish"; cat "$dir/tty.lines"; }
# before a candidate has all its folds scored the line says what is searched
grep -a '^gridsearch ' "$dir/tty.lines" | grep -av '  6 combinations x 3 folds$\|  best accuracy 0\.[0-9]* at C=[0-9.]*$' | grep -q . &&
  { no "grid lines other than (combinations x folds | best so far):"; grep -a '^gridsearch ' "$dir/tty.lines" | head -3; }
grep -q '^gridsearch [0-9]*/18 ([0-9]*%) [0-9.]*s ETA [0-9.]*s  best accuracy 0\.[0-9]* at C=[0-9.]*$' "$dir/tty.lines" ||
  no "no grid line with the best score so far (best accuracy ... at C=...)"
# the fits' own stages never appear, and every progress line is the grid's
grep -aq 'logreg\|iter [0-9]* objective' "$dir/tty.lines" && { no "a fit's own progress line was drawn:"; grep -a 'logreg\|objective' "$dir/tty.lines" | head -3; }
grep -av '^gridsearch \|^BEST \|^DONE$' "$dir/tty.lines" | grep -q . && { no "lines other than the grid's:"; grep -av '^gridsearch \|^BEST \|^DONE$' "$dir/tty.lines" | head -3; }
# fits done never goes back (no interleaving of stages that restart)
sed -n 's/^gridsearch \([0-9]*\)\/18 .*/\1/p' "$dir/tty.lines" > "$dir/done"
awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad }' "$dir/done" || { no "fits done went backwards:"; tr '\n' ' ' < "$dir/done"; echo; }
# the best shown last is a candidate's mean, and the final best is at least as good
last=$(sed -n 's/^gridsearch .*best accuracy \(0\.[0-9]*\) at .*/\1/p' "$dir/tty.lines" | tail -1)
final=$(sed -n 's/^BEST C=[0-9.]* \(.*\)/\1/p' "$dir/tty.lines")
[ -n "$last" ] && [ -n "$final" ] && awk -v a="$last" -v b="$final" 'BEGIN { exit !(a <= b + 1e-6) }' ||
  no "the best shown ($last) is better than the final best ($final)"

# a fit outside any task still shows its iterations
cat > "$dir/fit.lua" <<'EOF2'
local d = wb.datagen.classification{n = 1e6, features = 10, seed = 1}
local function spin(s) local t = wb.now() while wb.now() - t < s do end end
wb.core.progress("fits", 0, 1)
spin(0.7)
wb.fit("logreg", d, {solver = "lbfgs", tol = 1e-10, max_iter = 300})
wb.core.progress("fits", 1, 1)
print("DONE")
EOF2
script -qfec "stty cols 200; '$WB' '$dir/fit.lua'" /dev/null > "$dir/fit.out" 2>&1 < /dev/null
tr '\r' '\n' < "$dir/fit.out" > "$dir/fit.lines"
grep -q 'DONE' "$dir/fit.lines" || no "the single fit did not finish"
grep -q 'fits 0/1.* | logreg [0-9]*/300 ([0-9]*%) [0-9.]*s.*iter [0-9]* objective' "$dir/fit.lines" ||
  no "a fit from the script's own thread no longer shows its iterations"

[ $fail = 0 ] && echo "select_progress_tty: ok"
exit $fail
