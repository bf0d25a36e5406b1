-- wb.gridsearch / wb.randomsearch: every (combination, fold) scored as if
-- fitted by hand on the folds of wb.kfold, the order and ranks of the
-- results, refit, metrics, pipelines, export, reproducibility, bad input
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error

local d = wb.datagen.classification{n = 30000, features = 8, informative = 3, redundant = 3, flip_y = 0.1, seed = 21}
local grid = {penalty = {"l1", "l2"}, C = {0.001, 0.01, 1}}
local g = wb.gridsearch("logreg", d, grid, {folds = 3, metric = "accuracy", seed = 4})
check(#g.results == 6 and g.folds == 3 and g.metric == "accuracy", "six candidates, three folds")
-- scikit-learn's order: keys sorted (C, penalty), the first varying slowest
local order = {{0.001, "l1"}, {0.001, "l2"}, {0.01, "l1"}, {0.01, "l2"}, {1, "l1"}, {1, "l2"}}
for i, o in ipairs(order) do check(g.results[i].C == o[1] and g.results[i].penalty == o[2], "candidate order " .. i) end
-- each fold score equals a fit on the same fold by hand
local folds = wb.kfold(d, {folds = 3, seed = 4, stratify = true})
for i, r in ipairs(g.results) do
  local sum = 0
  for f = 1, 3 do
    local m = wb.fit("logreg", folds[f].train, {C = r.C, penalty = r.penalty})
    local s = m:score(folds[f].test)
    check(s == r["fold" .. f], string.format("candidate %d fold %d: %.17g vs %.17g", i, f, s, r["fold" .. f]))
    sum = sum + s
  end
  check(math.abs(r.mean_score - sum / 3) < 1e-15, "mean score")
  -- std_score: the population standard deviation of the fold scores (numpy's
  -- np.std, ddof = 0, as scikit-learn's std_test_score)
  local m, ss = sum / 3, 0
  for f = 1, 3 do ss = ss + (r["fold" .. f] - m) ^ 2 end
  check(math.abs(r.std_score - math.sqrt(ss / 3)) <= 1e-15, string.format("candidate %d: std_score %.17g, want %.17g", i, r.std_score, math.sqrt(ss / 3)))
  check(r.mean_fit_time > 0 and r.mean_iter >= 1, "fit time, iterations")
end
-- the fold scores of some candidate differ, so its std is not zero (and the
-- check above tells ddof 0 from ddof 1)
local spread = false
for _, r in ipairs(g.results) do if r.std_score > 0 then spread = true end end
check(spread, "every candidate has the same score in every fold")
-- the best is the highest mean (first on ties); ranks count the better ones
local best = 1
for i, r in ipairs(g.results) do if r.mean_score > g.results[best].mean_score then best = i end end
check(g.best_index == best and g.best_score == g.results[best].mean_score and g.results[best].rank == 1, "best")
check(g.best_params.C == g.results[best].C and g.best_params.penalty == g.results[best].penalty, "best params")
for _, r in ipairs(g.results) do
  local better = 0
  for _, q in ipairs(g.results) do if q.mean_score > r.mean_score then better = better + 1 end end
  check(r.rank == better + 1, "rank")
end
-- refit on all the data with the best parameters
local refit = wb.fit("logreg", d, g.best_params)
for j = 1, 8 do check(g.best_model.coef[j] == refit.coef[j], "refit model") end
check(tostring(g):find("gridsearch of logreg: 6 candidates x 3 folds", 1, true), "printing")
check(wb.gridsearch("logreg", d, {C = {1}}, {folds = 2, refit = false}).best_model == nil, "refit = false")

-- the same results with one or two threads
wb.threads(1)
local g1 = wb.gridsearch("logreg", d, grid, {folds = 3, metric = "accuracy", seed = 4, refit = false})
wb.threads(2)
for i = 1, 6 do
  for f = 1, 3 do check(g1.results[i]["fold" .. f] == g.results[i]["fold" .. f], "threads do not change scores") end
end

-- other metrics: log_loss picks the lowest, roc_auc and f1_macro the highest
local gl = wb.gridsearch("logreg", d, {C = {0.0001, 1}}, {folds = 3, metric = "log_loss", refit = false})
check(gl.best_params.C == 1 and gl.results[1].mean_score > gl.results[2].mean_score, "log_loss: lower is better")
local gn = wb.gridsearch("logreg", d, {C = {0.0001, 1}}, {folds = 3, metric = "neg_log_loss", refit = false})
check(gn.best_params.C == 1 and gn.results[2].mean_score == -gl.results[2].mean_score, "neg_log_loss: the negated loss, higher is better")
local f1 = folds[1]
local m = wb.fit("logreg", f1.train, {C = 0.0001})
local ga = wb.gridsearch("logreg", d, {C = {0.0001}}, {folds = 3, metric = "roc_auc", seed = 4, refit = false})
check(math.abs(ga.results[1].fold1 - wb.metrics.roc_auc(f1.test, m:predict_proba(f1.test))) < 1e-15, "roc_auc fold score")
local gf = wb.gridsearch("logreg", d, {C = {0.0001}}, {folds = 3, metric = "f1_macro", seed = 4, refit = false})
check(math.abs(gf.results[1].fold1 - wb.metrics.f1(f1.test, m:predict(f1.test), {average = "macro"})) < 1e-15, "f1_macro fold score")
-- any classifier: sgd
local gs = wb.gridsearch("sgd", d, {alpha = {1e-4, 1e-2}}, {folds = 2, params = {epochs = 3, tol = false}})
check(#gs.results == 2 and gs.metric == "accuracy" and gs.best_model:estimator() == "sgd", "sgd grid with fixed parameters")
-- a list of grids
local gg = wb.gridsearch("logreg", d, {{penalty = {"l2"}, C = {1, 2}}, {penalty = {"none"}}}, {folds = 2, refit = false})
check(#gg.results == 3 and gg.results[3].penalty == "none", "a list of grids")

-- pipelines: keys name a step's parameter, plainly or as step.param
local p = wb.pipeline{"scaler", {"logreg", {C = 1}}}
local gp = wb.gridsearch(p, d, {["logreg.C"] = {0.01, 1}, with_mean = {true, false}}, {folds = 2})
check(#gp.results == 4 and gp.metric == "score", "pipeline grid, scored by the pipeline")
check(gp.best_model:estimator() == "pipeline", "refit pipeline")
local pf = wb.kfold(d, {folds = 2, seed = 0, stratify = true})
local s1 = wb.fit(p, pf[1].train, {C = 0.01, with_mean = true}):score(pf[1].test)
check(gp.results[1]["logreg.C"] == 0.01 and gp.results[1].with_mean == true and gp.results[2].with_mean == false, "pipeline candidate order")
check(gp.results[1].fold1 == s1, "pipeline fold score")
expect_error("bad argument #3 to 'gridsearch' ('alpha' is not a parameter of any step of the pipeline (scaler, logreg))",
  wb.gridsearch, p, d, {alpha = {1}})
expect_error("bad argument #3 to 'gridsearch' (no step named 'lr' in the pipeline (scaler, logreg))", wb.gridsearch, p, d, {["lr.C"] = {1}})

-- any registered estimator, scored by its own score: k-means, PCA, and a
-- pipeline through a transformer that drops labels
TL.need_estimator("kmeans")
TL.need_estimator("pca")
do
  local b = wb.datagen.blobs{n = 12000, features = 2, centers = 4, seed = 1}
  local gk = wb.gridsearch("kmeans", b, {k = {2, 4}}, {folds = 3, params = {seed = 0}})
  check(gk.best_params.k == 4 and gk.metric == "score", "k-means: four centres score best")
  local kf = wb.kfold(b, {folds = 3, seed = 0})
  local km = wb.fit("kmeans", kf[2].train, {k = 2, seed = 0})
  check(gk.results[1].fold2 == km:score(kf[2].test), "k-means fold score")
  check(gk.results[1].mean_iter >= 1, "k-means iterations")
end
do
  local cd = wb.datagen.classification{n = 12000, features = 6, informative = 3, redundant = 2, seed = 1}
  local gpc = wb.gridsearch(wb.pipeline{"scaler", "pca", "logreg"}, cd, {components = {1, 4}}, {folds = 3})
  check(gpc.best_params.components == 4, "pipeline through PCA: more components fit better")
  local pm = gpc.best_model
  check(pm:score(cd) > 0.6 and pm:steps()[2]:estimator() == "pca", "pipeline through PCA keeps the labels")
end

-- export: CSV rows and JSON with the best parameters
local csv, json = os.tmpname() .. ".csv", os.tmpname() .. ".json"
g:export(csv)
g:export(json)
local text = io.open(csv):read("a")
local lines = {}
for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
check(#lines == 7 and lines[1]:find("^rank,C,penalty,mean_score,std_score"), "CSV header and rows")
check(lines[2]:find(",0.001,l1,", 1, true), "CSV first candidate")
local js = io.open(json):read("a")
check(js:find('"best_params":{"C":', 1, true) and js:find('"results":[', 1, true) and js:find('"metric":"accuracy"', 1, true), "JSON")
os.remove(csv)
os.remove(json)
expect_error("bad argument #1 to 'export' (extension must be .csv or .json", g.export, g, "grid.txt")

-- random search: a budget of candidates drawn from the seed
local r1 = wb.randomsearch("logreg", d, {C = {loguniform = {1e-3, 10}}, penalty = {"l1", "l2"}}, {n_iter = 5, folds = 2, seed = 3, refit = false})
local r2 = wb.randomsearch("logreg", d, {C = {loguniform = {1e-3, 10}}, penalty = {"l1", "l2"}}, {n_iter = 5, folds = 2, seed = 3, refit = false})
check(#r1.results == 5, "five candidates")
for i = 1, 5 do
  local c = r1.results[i].C
  check(c >= 1e-3 and c <= 10 and c == r2.results[i].C and r1.results[i].penalty == r2.results[i].penalty, "seeded draws in range")
end
local r3 = wb.randomsearch("logreg", d, {C = {0.1, 1}}, {n_iter = 10, folds = 2, refit = false})
check(#r3.results == 2, "a small finite space is searched whole")
local ri = wb.randomsearch("sgd", d, {epochs = {randint = {1, 3}}, alpha = {uniform = {1e-4, 1e-3}}}, {n_iter = 3, folds = 2, params = {tol = false}, refit = false})
for i = 1, 3 do check(math.type(ri.results[i].epochs) == "integer" and ri.results[i].epochs >= 1 and ri.results[i].epochs <= 3, "randint") end
expect_error("bad argument #3 to 'randomsearch' ('C': loguniform needs low > 0)", wb.randomsearch, "logreg", d, {C = {loguniform = {0, 1}}})
expect_error("bad argument #4 to 'randomsearch' (n_iter must be an integer >= 1, got 0)", wb.randomsearch, "logreg", d, {C = {1}}, {n_iter = 0})

-- bad input, each before any work
local rows, lab = {}, {}
for i = 1, 40 do rows[i] = {i, i % 5}; lab[i] = i % 2 end
local small = wb.dataset(rows, lab)
expect_error("bad argument #3 to 'gridsearch' (the grid is empty: give at least one parameter with a list of values)", wb.gridsearch, "logreg", small, {})
expect_error("bad argument #3 to 'gridsearch' (the grid's list for 'C' is empty)", wb.gridsearch, "logreg", small, {C = {}})
expect_error("bad argument #3 to 'gridsearch' (grid key 'gamma' is not a parameter of logreg (parameters: C, penalty,", wb.gridsearch, "logreg", small, {gamma = {1}})
expect_error("logreg: parameter 'C' must be a number > 0, got -1", wb.gridsearch, "logreg", small, {C = {1, -1}})
expect_error([[logreg: parameter 'penalty' must be one of "l2", "l1", "elasticnet", "none", got "l3"]], wb.gridsearch, "logreg", small, {penalty = {"l3"}})
expect_error("bad argument #4 to 'gridsearch' (folds must be an integer from 2 to 40 (the rows), got 1)", wb.gridsearch, "logreg", small, {C = {1}}, {folds = 1})
expect_error("bad argument #4 to 'gridsearch' (folds must be an integer from 2 to 40 (the rows), got 41)", wb.gridsearch, "logreg", small, {C = {1}}, {folds = 41})
expect_error("bad argument #4 to 'gridsearch' (unknown metric 'acc' (metrics: accuracy,", wb.gridsearch, "logreg", small, {C = {1}}, {metric = "acc"})
expect_error("bad argument #4 to 'gridsearch' (unknown option 'fold'", wb.gridsearch, "logreg", small, {C = {1}}, {fold = 3})
expect_error("bad argument #1 to 'gridsearch' (no estimator named 'logit' (estimators:", wb.gridsearch, "logit", small, {C = {1}})
expect_error("bad argument #2 to 'gridsearch' (logreg needs labels; the dataset has none)", wb.gridsearch, "logreg", wb.dataset(rows), {C = {1}})
local one = {}
for i = 1, 40 do one[i] = 3 end
expect_error("gridsearch: the labels have a single class (3); at least 2 are needed", wb.gridsearch, "logreg", wb.dataset(rows, one), {C = {1}})
lab[5] = 0.5
expect_error("logreg: label 0.5 at row 5 is not an integer class", wb.gridsearch, "logreg", wb.dataset(rows, lab), {C = {1}})
lab[5] = 1
rows[9][2] = 0 / 0
expect_error("logreg: the data has NaN at row 9, column 2", wb.gridsearch, "logreg", wb.dataset(rows, lab), {C = {1}})
rows[9][2] = 1
expect_error("bad argument #4 to 'gridsearch' (scaler has no score: give a metric", wb.gridsearch, "scaler", small, {with_mean = {true}})
-- a fit that fails inside a task names the candidate and the fold
expect_error("gridsearch: fitting logreg {C=1, solver=newton} on fold 1 failed: logreg: solver 'newton' needs two classes (the data has 3)",
  wb.gridsearch, "logreg", wb.datagen.classification{n = 3000, features = 4, informative = 3, redundant = 0, classes = 3, seed = 1},
  {C = {1}, solver = {"newton"}}, {folds = 2})
print("select_grid: ok")
