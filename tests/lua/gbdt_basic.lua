-- gbdt: binary classification on separable data, model fields, predict /
-- predict_proba / score, save and load, feature importance, help, missing
-- values, grid search
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check

-- well separated classes: held-out accuracy close to 1
local d = wb.datagen.classification{n = 40000, features = 10, informative = 5, redundant = 3, class_sep = 3,
                                    flip_y = 0, seed = 11}
local train, test = wb.split(d, {test = 0.25, seed = 1})
local m = wb.fit("gbdt", train, {n_trees = 40, learning_rate = 0.3})
local acc = m:score(test)
check(acc > 0.99, "accuracy on separable data: " .. acc)
-- the score is the accuracy of predict
local pred = wb.core.labels(m:predict(test))
local truth = wb.core.labels(test)
local ok = 0
for i = 1, #truth do
  check(pred[i] == 0 or pred[i] == 1, "labels are classes")
  if pred[i] == truth[i] then ok = ok + 1 end
end
check(math.abs(ok / #truth - acc) < 1e-12, "score = accuracy of predict")

-- model fields
check(m.objective == "binary" and m.n_classes == 2 and m.rounds == 40 and m.trees_per_round == 1, "fields")
check(#m.classes == 2 and m.classes[1] == 0 and m.classes[2] == 1, "classes")
check(#m.tree_start == 41 and m.tree_start[1] == 1, "tree_start")
local trees = m.trees
check(#trees == m.tree_start[41] - 1 and #trees[1] == 8, "trees matrix")
check(#m.n_bins == 10 and m.n_bins[1] > 100 and m.n_bins[1] <= 255, "bins per feature")
-- the root of the first tree covers every training row; children follow the parent
check(trees[1][8] == train:rows(), "root count = training rows")
for i = 1, #trees do
  local t = trees[i]
  if t[1] > 0 then
    check(t[4] > i and t[5] == t[4] + 1, "children after the parent")
    check(trees[t[4]][8] + trees[t[5]][8] == t[8], "children counts add up at row " .. i)
  end
end
local g, s = m.feature_importance_gain, m.feature_importance_split
local splits, gsum = 0, 0
for j = 1, 10 do splits = splits + s[j]; gsum = gsum + g[j] end
local internal = 0
for i = 1, #trees do if trees[i][1] > 0 then internal = internal + 1 end end
check(splits == internal and gsum > 0, "split importance counts the splits")
local imp = wb.gbdt.importance(m)
check(imp[1].gain >= imp[2].gain and math.abs(imp[1].share - imp[1].gain / gsum) < 1e-12, "importance table")
check(wb.gbdt.importance(m, {type = "split"})[1].splits >= wb.gbdt.importance(m, {type = "split"})[2].splits, "by splits")

-- probabilities: two columns that sum to 1, and predict is the larger one
local p = m:predict_proba(test)
check(p:cols() == 2 and p:rows() == test:rows(), "proba shape")
local pr = p:rows_table(1, 200)
for i = 1, 200 do
  check(math.abs(pr[i][1] + pr[i][2] - 1) < 1e-12, "proba sums to 1")
  check(pred[i] == (pr[i][2] > 0.5 and 1 or 0), "predict follows proba")
end

-- save / load: the same bytes and the same predictions
local path = os.tmpname()
m:save(path)
local m2 = wb.load_model(path)
os.remove(path)
check(m2:encode() == m:encode(), "save/load bit-identical")
local pred2 = wb.core.labels(m2:predict(test))
for i = 1, #pred do check(pred2[i] == pred[i], "loaded model predicts the same") end
check(m2:score(test) == acc, "loaded model scores the same")

-- help lists every parameter with its doc
local out = {}
local print0 = print
print = function(...) local t = {} for i = 1, select("#", ...) do t[i] = tostring(select(i, ...)) end out[#out + 1] = table.concat(t, " ") end
help("gbdt")
print = print0
local text = table.concat(out, "\n")
for _, name in ipairs{"objective", "n_trees", "learning_rate", "max_leaves", "max_depth", "min_child_weight",
                      "min_samples_leaf", "lambda_l2", "min_split_gain", "max_bins", "subsample", "colsample",
                      "early_stopping_rounds", "validation_fraction", "seed"} do
  check(text:find("\n  " .. name .. " ", 1, true), "help lists " .. name)
end
check(text:find("shrinkage applied to every leaf value", 1, true), "help shows the docs")
check(#wb.core.estimator_info("gbdt").params == 15, "15 parameters")
out = {}
print = function(...) out[#out + 1] = table.concat({...}, " ") end
help(wb.gbdt.importance)
print = print0
check(out[1] and out[1]:find("wb.gbdt.importance(model", 1, true), "help of wb.gbdt.importance")

-- missing values: class 1 mostly has NaN in feature 1; the learned default
-- direction sends NaN to class 1, in training and in prediction
local rows, y = {}, {}
local r = 7
local function rnd() r = (r * 1103515245 + 12345) % 2147483648; return r / 2147483648 end
for i = 1, 4000 do
  local c = i % 2
  local x = rnd()
  if c == 1 and rnd() < 0.8 then x = 0 / 0 end
  rows[i] = {x, rnd()}
  y[i] = c
end
local dm = wb.dataset(rows, y)
local mm = wb.fit("gbdt", dm, {n_trees = 20, max_depth = 2, max_leaves = 4})
check(mm:score(dm) > 0.89, "missing values are informative: " .. mm:score(dm))
local root = mm.trees[1]
check(root[1] == 1 and root[2] == math.huge and root[3] == 0, "root splits missing (right) from present values")
local q = wb.core.labels(mm:predict(wb.dataset({{0 / 0, 0.5}, {0.5, 0.5}})))
check(q[1] == 1 and q[2] == 0, "NaN goes the learned way at prediction")

-- grid search over gbdt parameters
local small = wb.datagen.classification{n = 6000, features = 6, informative = 3, redundant = 2, seed = 2}
local gs = wb.gridsearch("gbdt", small, {max_leaves = {4, 15}, n_trees = {10}}, {folds = 3, metric = "accuracy"})
check(#gs.results == 2 and gs.best_score > 0.8, "grid search runs gbdt")
-- every fold score is a fit on the same fold by hand (the grid search's folds
-- are wb.kfold's, stratified, seed 0); the best is the higher mean
local folds = wb.kfold(small, {folds = 3, seed = 0, stratify = true})
local means = {}
for i, r in ipairs(gs.results) do
  local sum = 0
  for f = 1, 3 do
    local s = wb.fit("gbdt", folds[f].train, {max_leaves = r.max_leaves, n_trees = 10}):score(folds[f].test)
    check(s == r["fold" .. f], string.format("max_leaves %d, fold %d: %.17g by hand, %.17g in the grid", r.max_leaves, f, s, r["fold" .. f]))
    sum = sum + s
  end
  means[i] = sum / 3
end
check(means[1] ~= means[2], "the two candidates score the same")
local want = means[1] > means[2] and gs.results[1].max_leaves or gs.results[2].max_leaves
check(gs.best_params.max_leaves == want, "best params: max_leaves " .. tostring(gs.best_params.max_leaves) .. ", want " .. want)
print("gbdt_basic: ok")
