#!/bin/bash
# gbdt_ahead.sh WB — best-first growth splits the next best leaves ahead of
# their turn (in the same wave as the best one) and commits them when growth
# picks them: the trees must be exactly those of one split a wave. Each fit
# runs with WB_GBDT_AHEAD=0 (one split a wave), 1, the default and 8, and the
# models (m:encode(): trees, node numbers, losses) must be the same bytes,
# while the waves (WB_GBDT_TRACE) must get fewer. Covers binary, multiclass and
# regression, missing values, row and column sampling, early stopping, and a
# depth limit under which growth turns from one split a wave to whole levels
# (leaves split ahead are then committed in node order with the others).
set -uo pipefail
WB=$(realpath "${1:?usage: gbdt_ahead.sh path/to/wb}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$T/fit.lua" <<'LUA'
wb.quiet(true)
local n = 20000
local src = wb.datagen.classification{n = n, features = 8, informative = 4, redundant = 2, classes = 3, seed = 11}
local X = src:rows_table(1, n)
local Y = wb.core.labels(src)
for i = 1, n, 9 do X[i][(i % 8) + 1] = 0 / 0 end
local Yb, Yr = {}, {}
for i = 1, n do
  Yb[i] = Y[i] == 1 and 1 or 0
  local a = X[i][1] == X[i][1] and X[i][1] or 0.5
  Yr[i] = 3 * a + Y[i]
end
local D = {multi = wb.dataset(X, Y), bin = wb.dataset(X, Yb), reg = wb.dataset(X, Yr)}
local cases = {
  {"bin", {n_trees = 6, max_leaves = 40, learning_rate = 0.3, min_samples_leaf = 1}},
  {"bin", {n_trees = 6, max_leaves = 15, subsample = 0.7, colsample = 0.6, seed = 4, early_stopping_rounds = 3}},
  {"bin", {n_trees = 6, max_leaves = 10, max_depth = 4, min_samples_leaf = 5}},
  {"multi", {n_trees = 4, max_leaves = 20}},
  {"reg", {n_trees = 5, objective = "regression", max_leaves = 25, min_samples_leaf = 3}},
}
for i, c in ipairs(cases) do
  local m = wb.fit("gbdt", D[c[1]], c[2])
  local f = assert(io.open(arg[1] .. "/model" .. i, "wb"))
  f:write(m:encode())
  f:close()
end
print("fits done")
LUA
total() { grep -o "; [0-9]* waves$" "$1" | awk '{s += $2} END {print s + 0}'; }
for a in 0 1 default 8; do
  mkdir -p "$T/$a"
  if [ "$a" = default ]; then
    (cd "$T" && WB_GBDT_TRACE=1 "$WB" "$T/fit.lua" "$T/$a") >"$T/$a.log" 2>&1
  else
    (cd "$T" && WB_GBDT_AHEAD=$a WB_GBDT_TRACE=1 "$WB" "$T/fit.lua" "$T/$a") >"$T/$a.log" 2>&1
  fi
  grep -q "^fits done" "$T/$a.log" || fail "WB_GBDT_AHEAD=$a: $(tail -5 "$T/$a.log")"
done
for i in 1 2 3 4 5; do
  for a in 1 default 8; do
    cmp -s "$T/0/model$i" "$T/$a/model$i" || fail "case $i: the model with WB_GBDT_AHEAD=$a differs from one split a wave"
  done
done
w0=$(total "$T/0.log") w1=$(total "$T/1.log") wd=$(total "$T/default.log")
[ "$w0" -gt 0 ] || fail "no wave counts in the trace"
[ "$w1" -lt "$w0" ] && [ "$wd" -le "$w1" ] || fail "splits ahead should cut the waves: $w0 (none), $w1 (1 ahead), $wd (default)"
echo "gbdt_ahead: ok (the same models; waves $w0 one split a wave, $w1 with 1 ahead, $wd by default)"
