#!/bin/bash
# The progress line: shown on a terminal (stage, done/total, percent, elapsed,
# ETA, info such as iteration and loss; nested stages after a bar), erased
# before print output and when the call returns; silent when stderr is not a
# terminal and after wb.quiet(true); k-means, logreg, sgd, gbdt and wb.bench
# report through it.
# The terminal is a pty from `script`.
. "$(dirname "$0")/pty.inc"

# about 2.2 s of work in 10 outer steps, each with 4 inner reports 50 ms apart
# (more than the 0.1 s between redraws, so the inner stage is drawn)
cat > "$dir/work.lua" <<'EOF'
local quiet = ...
if quiet == "quiet" then wb.quiet(true) end
local function spin(s) local t = wb.now() while wb.now() - t < s do end end
for i = 0, 10 do
  wb.core.progress("outer", i, 10, "step " .. i)
  if i == 6 then print("PRINTED") end
  for j = 0, 3 do
    spin(0.05)
    wb.core.progress("inner", j, 3, string.format("iter %d loss %.3f", j, 1 / (j + 1)))
  end
end
print("DONE")
EOF

# 1. on a terminal
script -qfec "'$WB' '$dir/work.lua'" /dev/null > "$dir/tty.out" 2>&1 < /dev/null
tr '\r' '\n' < "$dir/tty.out" > "$dir/tty.lines"
grep -q 'outer [0-9]*/10 ([0-9]*%) [0-9.]*s ETA [0-9.]*s  step [0-9]*' "$dir/tty.lines" || no "no outer progress line on a terminal"
grep -q ' | inner [0-9]/3 ([0-9]*%) [0-9.]*s.*iter [0-9] loss [0-9]\.[0-9]*' "$dir/tty.lines" || no "nested inner stage (iteration and loss) not shown after a bar"
grep -q 'outer 10/10' "$dir/tty.lines" && no "a finished stage was drawn"
# print erases the line first: PRINTED starts at column 0 (after \r ESC[K)
printf '\r\033[KPRINTED' > "$dir/want"
if ! grep -qF "$(cat "$dir/want")" "$dir/tty.out"; then no "print did not erase the progress line first"; fi
# the line is erased at the end: the output ends with DONE and no progress text after it
sed -n '/DONE/,$p' "$dir/tty.lines" | grep -q 'outer\|inner' && no "progress drawn after the operation ended"
tail -1 "$dir/tty.lines" | grep -q 'outer\|inner' && no "progress left on the screen at the end"
grep -q 'DONE' "$dir/tty.out" || no "the script did not finish"

# the line stays away for short operations (under half a second)
script -qfec "'$WB' -e 'for i = 0, 5 do wb.core.progress(\"quick\", i, 5) end print(\"ok\")'" /dev/null > "$dir/short.out" 2>&1 < /dev/null
grep -q quick "$dir/short.out" && no "a short operation drew a progress line"

# 2. stderr not a terminal: nothing
"$WB" "$dir/work.lua" > "$dir/plain.out" 2> "$dir/plain.err"
[ -s "$dir/plain.err" ] && { no "progress written when stderr is not a terminal:"; head -c 300 "$dir/plain.err"; echo; }
grep -q 'PRINTED' "$dir/plain.out" && grep -q 'DONE' "$dir/plain.out" || no "script output missing when not on a terminal"

# 3. on a terminal with wb.quiet(true): nothing
script -qfec "'$WB' '$dir/work.lua' quiet" /dev/null > "$dir/quiet.out" 2>&1 < /dev/null
grep -q 'outer\|inner' "$dir/quiet.out" && no "progress shown after wb.quiet(true)"
grep -q 'DONE' "$dir/quiet.out" || no "quiet run did not finish"

# 4. an error mid-operation: the line is erased before the error message
script -qfec "'$WB' -e 'local t = wb.now() for i = 0, 10 do while wb.now() - t < 0.07 * i do end wb.core.progress(\"failing\", i, 100) end error(\"stop here\")'" /dev/null > "$dir/err.out" 2>&1 < /dev/null
grep -q 'failing' "$dir/err.out" || no "no progress before the error"
printf '\r\033[Kwb: ' > "$dir/want"
grep -qF "$(cat "$dir/want")" "$dir/err.out" || no "the line was not erased before the error message"

# 5. real operations report through the same line: a k-means fit (iteration
# of max_iter and the inertia) and wb.bench (runs done of total, what runs)
cat > "$dir/real.lua" <<'EOF'
local r = wb.datagen.swiss_roll{n = 3e6, noise = 0.2, seed = 1}
local km = wb.fit("kmeans", r, {k = 16, max_iter = 100, tol = 0, seed = 0})
print("ITER " .. km.iterations)
local function spin(s) local t = wb.now() while wb.now() - t < s do end end
wb.bench{workloads = {{name = "spin", run = function() spin(0.2) end}}, sizes = {10}, executors = {"local:1"}, repeats = 6}
print("DONE")
EOF
script -qfec "'$WB' '$dir/real.lua'" /dev/null > "$dir/real.out" 2>&1 < /dev/null
tr '\r' '\n' < "$dir/real.out" > "$dir/real.lines"
grep -q 'ITER 100' "$dir/real.lines" || no "k-means did not run its 100 iterations"
grep -q 'kmeans [0-9]*/100 ([0-9]*%) [0-9.]*s ETA [0-9.]*s  inertia [0-9.e+]*' "$dir/real.lines" || no "no k-means progress (iteration/100, inertia)"
grep -q 'bench [0-9]/6 ([0-9]*%) [0-9.]*s ETA [0-9.]*s  spin n=10 local:1 run [0-9]/6' "$dir/real.lines" || no "no wb.bench progress (runs done/total, workload, executor)"
grep -q 'DONE' "$dir/real.lines" || no "the real operations did not finish"
"$WB" "$dir/real.lua" > /dev/null 2> "$dir/real.err"
[ -s "$dir/real.err" ] && no "k-means/bench progress written when stderr is not a terminal"

# 6. iterative fits show their iteration and loss (nested under an outer stage
# that has already been shown, so each fit is drawn from its first reports)
cat > "$dir/fits.lua" <<'EOF'
local d = wb.datagen.classification{n = 1e6, features = 10, seed = 1}
local function spin(s) local t = wb.now() while wb.now() - t < s do end end
wb.core.progress("fits", 0, 2)
spin(0.7)
wb.fit("logreg", d, {solver = "lbfgs", tol = 1e-10, max_iter = 300})
wb.core.progress("fits", 1, 2)
wb.fit("sgd", d, {loss = "log_loss", epochs = 8, seed = 1})
wb.core.progress("fits", 2, 2)
print("DONE")
EOF
script -qfec "'$WB' '$dir/fits.lua'" /dev/null > "$dir/fits.out" 2>&1 < /dev/null
tr '\r' '\n' < "$dir/fits.out" > "$dir/fits.lines"
grep -q 'DONE' "$dir/fits.lines" || no "the fits did not finish"
grep -q 'fits 0/2.* | logreg [0-9]*/300 ([0-9]*%) [0-9.]*s.*iter [0-9]* objective [0-9.e-]*' "$dir/fits.lines" || no "no logreg progress (iteration and objective)"
grep -q 'fits 1/2.* | sgd [0-9]/8 ([0-9]*%) [0-9.]*s.*epoch [0-9] loss [0-9.e-]*' "$dir/fits.lines" || no "no sgd progress (epoch and loss)"

# 7. gbdt shows the training loss after each round, named (logloss for
# binary, mse for regression), and the validation loss with early stopping;
# the values shown are the model's m.train_loss / m.valid_loss of that round
# (a wide terminal, so nothing is cut)
cat > "$dir/gbdt.lua" <<'EOF'
local d = wb.datagen.classification{n = 4e5, features = 10, seed = 1}
local r = wb.datagen.classification{n = 3e5, features = 10, seed = 2}
local function spin(s) local t = wb.now() while wb.now() - t < s do end end
wb.core.progress("fits", 0, 2)
spin(0.7)
local m = wb.fit("gbdt", d, {n_trees = 40, early_stopping_rounds = 50})
wb.core.progress("fits", 1, 2)
local m2 = wb.fit("gbdt", r, {objective = "regression", n_trees = 30})
wb.core.progress("fits", 2, 2)
for i, v in ipairs(m.train_loss) do print(string.format("BIN %d %.6g %.6g", i - 1, v, m.valid_loss[i])) end
for i, v in ipairs(m2.train_loss) do print(string.format("REG %d %.6g", i - 1, v)) end
print("DONE")
EOF
script -qfec "stty cols 200; '$WB' '$dir/gbdt.lua'" /dev/null > "$dir/gbdt.out" 2>&1 < /dev/null
tr '\r' '\n' < "$dir/gbdt.out" | tr -d '\033' | sed 's/\[K//g' > "$dir/gbdt.lines"
grep -q 'DONE' "$dir/gbdt.lines" || no "the gbdt fits did not finish"
grep -q 'fits 0/2.* | gbdt [0-9]*/40 ([0-9]*%) [0-9.]*s.*  train logloss [0-9.e-]* valid [0-9.e-]*$' "$dir/gbdt.lines" ||
  no "no gbdt progress with the training and validation log loss"
grep -q 'fits 1/2.* | gbdt [0-9]*/30 ([0-9]*%) [0-9.]*s.*  train mse [0-9.e-]*$' "$dir/gbdt.lines" ||
  no "no gbdt regression progress with the training mse"
# every round shown carries that round's losses; at least two rounds shown,
# the later one lower
{
  sed -n 's/.* | gbdt \([0-9]*\)\/40 .*  train logloss \([0-9.e-]*\) valid \([0-9.e-]*\)$/SHOWN \1 \2 \3/p' "$dir/gbdt.lines"
  sed -n 's/.* | gbdt \([0-9]*\)\/30 .*  train mse \([0-9.e-]*\)$/SHOWNR \1 \2/p' "$dir/gbdt.lines"
  grep -a '^BIN \|^REG ' "$dir/gbdt.lines"
} > "$dir/shown"
awk '$1 == "BIN" { b[$2] = $3 " " $4 } $1 == "REG" { g[$2] = $3 }
     $1 == "SHOWN" { n++; s[n] = $2; v[n] = $3 " " $4; l[n] = $3 } $1 == "SHOWNR" { nr++; sr[nr] = $2; vr[nr] = $3 }
     END {
       bad = 0
       for (i = 1; i <= n; i++) if (b[s[i]] != v[i]) { print "round " s[i] " shown " v[i] ", model " b[s[i]]; bad = 1 }
       for (i = 1; i <= nr; i++) if (g[sr[i]] != vr[i]) { print "regression round " sr[i] " shown " vr[i] ", model " g[sr[i]]; bad = 1 }
       if (n < 2 || s[n] + 0 <= s[1] + 0 || l[n] + 0 >= l[1] + 0) { print "rounds shown: " n ", first " s[1] " " l[1] ", last " s[n] " " l[n]; bad = 1 }
       exit bad
     }' "$dir/shown" || no "the gbdt losses shown are not the model's losses of those rounds (or did not fall)"

[ $fail = 0 ] && echo "progress_tty: ok"
exit $fail
