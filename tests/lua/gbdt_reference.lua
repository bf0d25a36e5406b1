-- gbdt_reference.lua — gbdt against references from outside its own code:
-- (1) a small regression worked by hand (splits, thresholds, leaf values,
-- gains, losses, predictions), (2) scikit-learn's HistGradientBoosting and
-- XGBoost at the same settings on a small set (tests/data/gbdt_reference.py):
-- every training row's prediction (regression) or probabilities within 1e-6
-- (HGB keeps gradients in float32, XGBoost its sums and leaves; wb's
-- fixed-point histogram sums round too).
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq, same = TL.check, TL.eq, TL.same
TL.need_estimator("gbdt")
local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR is not set")

-- (1) x = 1..6, y = 1 3 2 7 11 12; two rounds, learning rate 0.5, 3 leaves a
-- tree, one row a leaf at least. Squared error: gradient g = prediction - y,
-- hessian 1; split gain GL^2/HL + GR^2/HR - G^2/H; leaf value -G/H * 0.5.
-- Round 1: base = mean(y) = 6, g = 5 3 4 -1 -5 -6 (G = 0).
--   root: cut after x = 1..5 gains 30, 48, 96, 90.75, 43.2: x <= 3 (threshold
--   3.5, halfway to the next value), gain 96. Left {5, 3, 4}: best gain 1.5;
--   right {-1, -5, -6}: x <= 4 gives 1 + 121/2 - 144/3 = 13.5 (x <= 5: 6), so
--   the right child splits (threshold 4.5). Leaves: -12/3 * 0.5 = -2 (x <= 3),
--   1 * 0.5 = 0.5 (x = 4), 11/2 * 0.5 = 2.75 (x = 5, 6).
--   Predictions 4 4 4 6.5 8.75 8.75.
-- Round 2: g = 3 1 2 -0.5 -2.25 -3.25: root gains 10.8, 12, 24, 22.6875,
--   12.675: x <= 3 again (gain 24); right {-0.5, -2.25, -3.25}: x <= 4 gains
--   3.375 (x <= 5: 2.34375), left's best 1.5: the right splits. Leaves -1,
--   0.25, 1.375. Predictions 3 3 3 6.75 10.125 10.125.
-- Gain importance 96 + 13.5 + 24 + 3.375 = 136.875; training MSE after 0, 1,
-- 2 rounds: 112/6, 29.875/6, 9.34375/6.
local x, y = {}, {1, 3, 2, 7, 11, 12}
for i = 1, 6 do x[i] = {i} end
local m = wb.fit("gbdt", wb.dataset(x, y), {objective = "regression", n_trees = 2, learning_rate = 0.5, max_leaves = 3,
                                            min_samples_leaf = 1})
same(m.base_score, {6}, "base score")
eq(m.rounds, 2, "rounds")
same(m.tree_start, {1, 6, 11}, "tree starts")
-- nodes: feature, threshold, missing_left (not checked: no value is missing),
-- left row, right row, leaf value, cover, count
local want = {
  {1, 3.5, nil, 2, 3, 0, 6, 6}, {0, 0, nil, 0, 0, -2, 3, 3}, {1, 4.5, nil, 4, 5, 0, 3, 3},
  {0, 0, nil, 0, 0, 0.5, 1, 1}, {0, 0, nil, 0, 0, 2.75, 2, 2},
  {1, 3.5, nil, 7, 8, 0, 6, 6}, {0, 0, nil, 0, 0, -1, 3, 3}, {1, 4.5, nil, 9, 10, 0, 3, 3},
  {0, 0, nil, 0, 0, 0.25, 1, 1}, {0, 0, nil, 0, 0, 1.375, 2, 2},
}
eq(#m.trees, #want, "nodes")
for i, w in ipairs(want) do
  for j = 1, 8 do
    if j ~= 3 then eq(m.trees[i][j], w[j], string.format("node %d, field %d", i, j)) end
  end
end
same(m.feature_importance_gain, {136.875}, "gain importance")
same(m.feature_importance_split, {4}, "split importance")
same(m.train_loss, {112 / 6, 29.875 / 6, 9.34375 / 6}, "training losses")
same(wb.core.labels(m:predict(wb.dataset(x))), {3, 3, 3, 6.75, 10.125, 10.125}, "predictions")
-- a value equal to a threshold goes left (x <= threshold); past the last
-- value, right
same(wb.core.labels(m:predict(wb.dataset({{3.5}, {4.5}, {0}, {100}}))), {3, 6.75, 3, 10.125}, "predictions at the thresholds")

-- (2) HistGradientBoosting and XGBoost
local ref = dofile(src .. "/tests/data/gbdt_reference.lua")
local rows, lab = {}, {reg = {}, bin = {}, cls3 = {}}
local f = assert(io.open(src .. "/tests/data/gbdt_data.csv"))
f:read("l")
for line in f:lines() do
  local v = {}
  for s in line:gmatch("[^,]+") do v[#v + 1] = tonumber(s) end
  rows[#rows + 1] = {v[1], v[2], v[3], v[4]}
  lab.reg[#rows], lab.bin[#rows], lab.cls3[#rows] = v[5], v[6], v[7]
end
f:close()
local n = #rows
check(n == 200, "200 rows, got " .. n)
local X = wb.dataset(rows)
check(#ref >= 5, "the reference cases")
for _, c in ipairs(ref) do
  local g = wb.fit("gbdt", wb.dataset(rows, lab[c.label]), c.params)
  local got = {}
  if c.label == "reg" then
    got = wb.core.labels(g:predict(X))
  elseif c.label == "bin" then
    for i, r in ipairs(g:predict_proba(X):rows_table(1, n)) do got[i] = r[2] end
  else
    for _, r in ipairs(g:predict_proba(X):rows_table(1, n)) do for k = 1, 3 do got[#got + 1] = r[k] end end
  end
  -- regression trees sum exact gradients: 1e-6; classification sums gradients
  -- quantized to 2^15 levels per row (hessians 2^14, gb_state's packed words),
  -- which moves the probabilities by a few 1e-5: 1e-4
  local tol = c.label == "reg" and 1e-6 or 1e-4
  for _, who in ipairs{"hgb", "xgboost"} do
    local r = c[who]
    if r then
      eq(#got, #r, c.name .. ": values")
      local md = 0
      for i = 1, #r do md = math.max(md, math.abs(got[i] - r[i])) end
      print(string.format("%-16s vs %-8s max |difference| %.3g (tolerance %g)", c.name, who, md, tol))
      check(md <= tol, c.name .. ": differs from " .. who .. " by " .. md)
    end
  end
end
print("gbdt_reference: all checks passed")
