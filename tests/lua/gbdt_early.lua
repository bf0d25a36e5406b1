-- gbdt early stopping on held-out validation rows
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
local d = wb.datagen.classification{n = 20000, features = 8, informative = 4, redundant = 2, flip_y = 0.2, seed = 8}
local m = wb.fit("gbdt", d, {n_trees = 400, learning_rate = 0.8, max_leaves = 63, min_samples_leaf = 1,
                             early_stopping_rounds = 5})
local vl = m.valid_loss
check(#vl < 401, "stopped early after " .. #vl - 1 .. " rounds")
-- the model keeps the best round: the minimum of the loss, and 5 worse ones after it
local best = 1
for i = 2, #vl do if vl[i] < vl[best] then best = i end end
check(m.rounds == best - 1 and m.best_round == m.rounds, "keeps the best round " .. m.rounds)
check(#vl == best + 5, "five rounds without improvement")
check(#m.tree_start == m.rounds + 1, "trees of the kept rounds only")
check(vl[best] < vl[1], "boosting lowered the validation loss")
-- about 10 % of the rows are held out
check(math.abs(m.valid_rows / 20000 - 0.1) < 0.01 and m.train_rows + m.valid_rows == 20000, "validation rows")
-- validation_fraction changes the held-out share
local m2 = wb.fit("gbdt", d, {n_trees = 3, early_stopping_rounds = 2, validation_fraction = 0.3})
check(math.abs(m2.valid_rows / 20000 - 0.3) < 0.015, "30 % held out")
-- without early stopping every row trains and there is no validation loss
local m3 = wb.fit("gbdt", d, {n_trees = 3})
check(m3.valid_loss == nil and m3.train_rows == 20000, "no validation without early stopping")
-- regression: squared error on the held-out rows
local rows, y = {}, {}
for i = 1, 5000 do rows[i] = {i % 100, (i * 13) % 17}; y[i] = (i % 100) / 10 + ((i * 7) % 5) end
local mr = wb.fit("gbdt", wb.dataset(rows, y), {objective = "regression", n_trees = 300, learning_rate = 0.5,
                                               early_stopping_rounds = 3})
check(mr.rounds < 300 and mr.valid_loss[mr.rounds + 1] < mr.valid_loss[1], "regression stops early")
print("gbdt_early: ok")
