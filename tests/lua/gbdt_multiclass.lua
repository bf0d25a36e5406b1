-- gbdt multiclass (softmax): accuracy, probabilities, class values, one class
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
local d = wb.datagen.classification{n = 40000, features = 10, informative = 6, redundant = 2, classes = 5, seed = 3,
                                    class_sep = 1.5}
local train, test = wb.split(d, {test = 0.2, seed = 1, stratify = true})
local m = wb.fit("gbdt", train, {n_trees = 60, learning_rate = 0.2})
check(m.objective == "multiclass" and m.n_classes == 5 and m.trees_per_round == 5, "softmax with 5 trees a round")
check(#m.tree_start == 60 * 5 + 1 and #m.base_score == 5, "300 trees")
local acc = m:score(test)
check(acc > 0.85, "5-class accuracy " .. acc)
local p = m:predict_proba(test)
check(p:cols() == 5, "five probabilities")
local pred = wb.core.labels(m:predict(test))
local rows = p:rows_table(1, 300)
for i = 1, 300 do
  local s, best = 0, 1
  for k = 1, 5 do s = s + rows[i][k]; if rows[i][k] > rows[i][best] then best = k end end
  check(math.abs(s - 1) < 1e-12, "probabilities sum to 1")
  check(pred[i] == m.classes[best], "predict is the most probable class")
end
-- class values are kept: labels 10, 20, 30
local X, Y = {}, {}
local r = 5
local function rnd() r = (r * 1103515245 + 12345) % 2147483648; return r / 2147483648 end
for i = 1, 3000 do
  local x = rnd() * 3
  X[i] = {x, rnd()}
  Y[i] = x < 1 and 10 or x < 2 and 20 or 30
end
local mv = wb.fit("gbdt", wb.dataset(X, Y), {n_trees = 20})
check(mv.classes[1] == 10 and mv.classes[3] == 30, "classes in order")
local pv = wb.core.labels(mv:predict(wb.dataset({{0.5, 0}, {1.5, 0}, {2.5, 0}})))
check(pv[1] == 10 and pv[2] == 20 and pv[3] == 30, "predicted class values")
check(mv:score(wb.dataset(X, Y)) > 0.99, "easy 3 classes")
-- 'multiclass' with two classes: softmax over 2 (two trees a round)
local b = wb.datagen.classification{n = 5000, features = 4, informative = 2, redundant = 2, seed = 4}
local m2 = wb.fit("gbdt", b, {objective = "multiclass", n_trees = 10})
check(m2.trees_per_round == 2 and m2:predict_proba(b):cols() == 2 and m2:score(b) > 0.85, "multiclass on 2 classes")
-- one class only: a constant model
local X1, one = {}, {}
for i = 1, 100 do X1[i] = X[i]; one[i] = 7 end
local m1 = wb.fit("gbdt", wb.dataset(X1, one), {})
check(m1.n_classes == 1 and m1.rounds == 0, "one class: no trees")
check(wb.core.labels(m1:predict(wb.dataset({{1, 1}})))[1] == 7, "predicts the class")
local p1 = m1:predict_proba(wb.dataset({{1, 1}}))
check(p1:cols() == 1 and p1:row(1)[1] == 1, "probability 1")
print("gbdt_multiclass: ok")
