-- gbdt records the training loss after every round (m.train_loss[i]: after
-- i - 1 rounds), computed in the pass that computes the gradients: it must
-- equal the loss recomputed here from the model's predictions, fall round
-- after round for squared error with a small learning rate, and sit beside
-- the validation loss with early stopping
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, rel = TL.check, TL.rel_error

-- the mean loss of the model on d, from predict / predict_proba
local function lua_loss(m, d, objective)
  local n = d:rows()
  local Y = wb.core.labels(d)
  local s = 0
  if objective == "regression" then
    local P = m:predict(d):rows_table(1, n)
    for i = 1, n do local e = P[i] - Y[i]; s = s + e * e end -- a vector: numbers
  else
    local P = m:predict_proba(d):rows_table(1, n)
    local col = {}
    for j, c in ipairs(m.classes) do col[c] = j end
    for i = 1, n do s = s - math.log(P[i][col[Y[i]]]) end
  end
  return s / n
end

local bin = wb.datagen.classification{n = 20000, features = 8, informative = 4, redundant = 2, flip_y = 0.1, seed = 8}
local multi = wb.datagen.classification{n = 15000, features = 6, informative = 4, redundant = 1, classes = 4,
                                        flip_y = 0.05, seed = 3}
local rows, y = {}, {}
for i = 1, 12000 do
  local a, b = (i * 37) % 101 / 10, (i * 13) % 17
  rows[i] = {a, b, (i * 7) % 5}
  y[i] = math.sin(a) * 3 + b / 4 + ((i * 7919) % 13) / 6
end
local reg = wb.dataset(rows, y)

-- 1. the last round's training loss is the loss of the model's predictions
for _, c in ipairs{
  {"binary", bin, {n_trees = 25}},
  {"binary, subsample (out-of-bag rows count too)", bin, {n_trees = 15, subsample = 0.6, colsample = 0.7, seed = 2}},
  {"binary, rate 1 (scores far from 0)", bin, {n_trees = 30, learning_rate = 1, max_leaves = 63, min_samples_leaf = 1,
                                              lambda_l2 = 1}},
  {"multiclass", multi, {n_trees = 12, max_leaves = 15}},
  {"regression", reg, {objective = "regression", n_trees = 30, learning_rate = 0.3}},
  {"regression, subsample", reg, {objective = "regression", n_trees = 10, subsample = 0.5, seed = 4}},
} do
  local name, d, P = c[1], c[2], c[3]
  local m = wb.fit("gbdt", d, P)
  local tl = m.train_loss
  check(#tl == m.rounds + 1, name .. ": a loss per round and one before the first, got " .. #tl)
  local want = lua_loss(m, d, m.objective)
  check(rel(tl[#tl], want) < 1e-9, string.format("%s: final training loss %.17g, recomputed %.17g", name, tl[#tl], want))
  check(tl[#tl] < tl[1], name .. ": boosting lowered the training loss")
  -- saved and loaded bit-identically
  local path = os.tmpname()
  m:save(path)
  local m2 = wb.load_model(path)
  os.remove(path)
  for i = 1, #tl do check(m2.train_loss[i] == tl[i], name .. ": train_loss saved and loaded") end
end

-- before any tree the loss is that of the base score: binary log loss of the
-- class share, the label variance for squared error
do
  local m = wb.fit("gbdt", reg, {objective = "regression", n_trees = 1})
  local mean, v = 0, 0
  for i = 1, #y do mean = mean + y[i] end
  mean = mean / #y
  for i = 1, #y do v = v + (y[i] - mean) ^ 2 end
  v = v / #y
  check(rel(m.train_loss[1], v) < 1e-9, string.format("regression: loss of the mean %.17g, variance %.17g", m.train_loss[1], v))
  local Y = wb.core.labels(bin)
  local mb = wb.fit("gbdt", bin, {n_trees = 1})
  local share = 0
  for i = 1, #Y do if Y[i] == mb.classes[2] then share = share + 1 end end
  share = share / #Y
  local ll = -(share * math.log(share) + (1 - share) * math.log(1 - share))
  check(rel(mb.train_loss[1], ll) < 1e-9, string.format("binary: loss of the class share %.17g, want %.17g", mb.train_loss[1], ll))
end

-- 2. squared error, small learning rate: the training loss never rises
do
  local m = wb.fit("gbdt", reg, {objective = "regression", n_trees = 60, learning_rate = 0.05})
  local tl = m.train_loss
  check(#tl == 61, "61 losses")
  for i = 2, #tl do
    check(tl[i] <= tl[i - 1], string.format("round %d: training loss rose from %.17g to %.17g", i - 1, tl[i - 1], tl[i]))
  end
  check(tl[61] < 0.5 * tl[1], "60 rounds at rate 0.05 more than halve the loss")
end

-- 3. early stopping: a training loss beside each validation loss; the
-- training rows only (a loss on every row would differ)
do
  local m = wb.fit("gbdt", bin, {n_trees = 200, learning_rate = 0.8, max_leaves = 63, min_samples_leaf = 1,
                                 early_stopping_rounds = 4})
  local tl, vl = m.train_loss, m.valid_loss
  check(#tl == #vl and #tl > m.rounds + 1, "as many training as validation losses: " .. #tl .. " and " .. #vl)
  check(tl[#tl] < tl[m.rounds + 1] and tl[m.rounds + 1] < tl[1], "the training loss keeps falling past the best round")
  check(tl[#tl] < vl[#vl], "training loss below validation loss once it overfits")
  -- one class: a constant model, certain of every row
  local one = wb.fit("gbdt", wb.dataset({{1}, {2}, {3}}, {7, 7, 7}), {})
  check(#one.train_loss == 1 and one.train_loss[1] == 0, "one class: loss 0")
end
print("gbdt_loss: ok")
