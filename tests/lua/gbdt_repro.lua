-- gbdt: the same model whatever the threads and the partitions, with row and
-- column sampling and a validation split; a worker that loses its state
-- mid-round gets it rebuilt and the model does not change. The training loss
-- of every round (m.train_loss, summed per block where the gradients are
-- computed) is part of the model: the same bits everywhere too
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, same_array = TL.check, TL.equal_values
local function same_trees(a, b)
  local ta, tb = a.trees, b.trees
  if #ta ~= #tb then return false end
  for i = 1, #ta do for j = 1, 8 do if ta[i][j] ~= tb[i][j] then return false end end end
  return true
end
local n = 14000
local src = wb.datagen.classification{n = n, features = 6, informative = 3, redundant = 2, classes = 3, seed = 5}
local X = src:rows_table(1, n)
local Y = wb.core.labels(src)
-- the same rows with 130 constant columns: partitions of 4096 rows (4) instead of one
local wide = {}
for i = 1, n do
  local r = {}
  for j = 1, 6 do r[j] = X[i][j] end
  for j = 7, 136 do r[j] = 1.5 end
  wide[i] = r
end
local A, B = wb.dataset(X, Y), wb.dataset(wide, Y)
check(A:partitions() == 1 and B:partitions() == 4, "two layouts")
for _, P in ipairs{
  {n_trees = 12, subsample = 0.7, colsample = 0.8, early_stopping_rounds = 4, seed = 3, max_leaves = 15},
  {n_trees = 8, max_depth = 3, max_leaves = 8, min_samples_leaf = 1, seed = 1},
  {n_trees = 6, objective = "regression", subsample = 0.5, seed = 2},
} do
  wb.threads(1)
  local m1 = wb.fit("gbdt", A, P)
  wb.threads(2)
  local m2 = wb.fit("gbdt", A, P)
  local m3 = wb.fit("gbdt", B, P)
  check(m1:encode() == m2:encode(), "1 and 2 threads: the same model")
  check(same_trees(m1, m3), "1 and 4 partitions: the same trees")
  check(m1.base_score[1] == m3.base_score[1], "the same base score")
  check(#m1.train_loss >= m1.rounds + 1 and same_array(m1.train_loss, m3.train_loss), "1 and 4 partitions: the same training loss")
  if m1.valid_loss then
    for i = 1, #m1.valid_loss do check(m1.valid_loss[i] == m3.valid_loss[i], "the same validation loss") end
  end
  -- a partition forgets its state in round 3: rebuilt, the same model
  wb.core.wait({wb.core.submit("gbdt.inject", {}, string.pack("<i4", 3))})
  local m4 = wb.fit("gbdt", B, P)
  check(same_trees(m1, m4), "state lost in round 3: the same trees after the restart")
  check(same_array(m1.train_loss, m4.train_loss), "state lost in round 3: the same training loss")
  -- a gbdt.begin task counted twice in round 3 (its root histograms are
  -- taken in place, as the first round's plan says): refused, rebuilt, the
  -- same model
  wb.core.wait({wb.core.submit("gbdt.inject", {}, string.pack("<i4i4", 3, 2))})
  local m5 = wb.fit("gbdt", B, P)
  check(same_trees(m1, m5), "a begin task counted twice in round 3: the same trees after the restart")
  check(same_array(m1.train_loss, m5.train_loss), "a begin task counted twice in round 3: the same training loss")
end
-- binary, rows drawn per round: the training loss takes two bagged rows per
-- multiply, its sums must not depend on where partitions start in the bag
do
  local Yb = {}
  for i = 1, n do Yb[i] = Y[i] == 2 and 1 or 0 end
  local Ab, Bb = wb.dataset(X, Yb), wb.dataset(wide, Yb)
  for _, P in ipairs{{n_trees = 6, subsample = 0.7, seed = 5, max_leaves = 15},
                     {n_trees = 6, learning_rate = 1, min_samples_leaf = 1, max_leaves = 63, seed = 1},
                     {n_trees = 6, subsample = 0.55, early_stopping_rounds = 10, seed = 9}} do
    wb.threads(1)
    local b1 = wb.fit("gbdt", Ab, P)
    wb.threads(2)
    local b4 = wb.fit("gbdt", Bb, P)
    check(same_trees(b1, b4), "binary: 1 and 4 partitions, the same trees")
    check(#b1.train_loss == 7 and same_array(b1.train_loss, b4.train_loss), "binary: 1 and 4 partitions, the same training loss")
  end
end
-- another seed gives another model
local s1 = wb.fit("gbdt", A, {n_trees = 5, subsample = 0.5, seed = 1})
local s2 = wb.fit("gbdt", A, {n_trees = 5, subsample = 0.5, seed = 2})
check(not same_trees(s1, s2), "seeds matter")
-- a local cluster of two workers gives the same model as local threads
check(type(wb.cluster) == "function", "wb.cluster exists")
do
  local P = {n_trees = 6, subsample = 0.8, early_stopping_rounds = 3, max_leaves = 15, seed = 4}
  local ml = wb.fit("gbdt", B, P)
  -- binary (two-row gradients) with whole depth levels a wave, and regression
  local Y2, P2 = {}, {n_trees = 5, max_depth = 3, max_leaves = 8, subsample = 0.9, seed = 6}
  for i = 1, n do Y2[i] = Y[i] % 2 end
  local PR = {n_trees = 4, objective = "regression", colsample = 0.5, seed = 8}
  local mb, mr = wb.fit("gbdt", wb.dataset(wide, Y2), P2), wb.fit("gbdt", B, PR)
  wb.cluster{workers = 2, threads = 1}
  local Bc = wb.dataset(wide, Y)
  local mc = wb.fit("gbdt", Bc, P)
  check(same_array(mc.train_loss, ml.train_loss) and #ml.train_loss == #ml.valid_loss, "cluster: the same training loss")
  check(mc:encode() == ml:encode(), "cluster: the same model")
  check(mc:score(Bc) == ml:score(B), "cluster: the same score")
  local mbc, mrc = wb.fit("gbdt", wb.dataset(wide, Y2), P2), wb.fit("gbdt", Bc, PR)
  check(same_array(mbc.train_loss, mb.train_loss) and #mb.train_loss == 6, "cluster: the same binary training loss")
  check(same_array(mrc.train_loss, mr.train_loss) and #mr.train_loss == 5, "cluster: the same regression training loss")
  check(mbc:encode() == mb:encode(), "cluster: the same binary model")
  check(mrc:encode() == mr:encode(), "cluster: the same regression model")
  -- on a cluster a wave's collects go out with its tasks, to where this
  -- round's gbdt.begin ran each partition: a wave task that lost its state
  -- (round 3), and one counted twice in its worker's accumulator (round 2:
  -- the collect there finds one task more than its tokens, as when a task
  -- ran where its collect did not expect it), both end in a rebuilt state and
  -- the same model, never in a wrong histogram; so does a gbdt.begin task
  -- counted twice (round 3: its process's root histograms are refused)
  for _, inj in ipairs{{3, 0}, {2, 1}, {3, 2}} do
    wb.core.wait({wb.core.submit("gbdt.inject", {}, string.pack("<i4i4", inj[1], inj[2]))})
    local mf = wb.fit("gbdt", Bc, P)
    check(mf:encode() == ml:encode(), "cluster, fault kind " .. inj[2] .. " in round " .. inj[1] .. ": the same model")
  end
  wb.disconnect()
end
print("gbdt_repro: ok")
