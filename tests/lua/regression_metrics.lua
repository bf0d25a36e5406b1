-- regression_metrics.lua — wb.datagen.regression (scikit-learn's
-- make_regression recipe) and the regression metrics wb.metrics.mse, rmse,
-- mae and r2, with the expected values computed by scikit-learn (through
-- /usr/bin/python3) on the same numbers; gbdt regression scored by r2 (its
-- m:score is wb.metrics.r2 of its predictions), grid search by r2 and by the
-- errors (lower is better, neg_* higher), the fold scores equal to the
-- metric on the fold.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq = TL.check, TL.eq
local expect_error = TL.expect_error_with{string = true}
wb.quiet(true)
local TMP = os.tmpname()
os.remove(TMP)
os.execute("mkdir -p '" .. TMP .. "'")
TL.on_failure(function() os.execute("rm -rf '" .. TMP .. "'") end)

local function near(a, b, tol, what)
  check(math.abs(a - b) <= tol * math.max(1, math.abs(b)), string.format("%s: %.17g, expected %.17g", what, a, b))
end

-- python with numpy and scikit-learn (Debian's, /usr/bin/python3)
local function python(code)
  local path = TMP .. "/p.py"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local p = assert(io.popen("/usr/bin/python3 '" .. path .. "' 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok and out or nil, out
end
local have_sklearn = python("import sklearn, numpy\nprint('ok')\n") ~= nil
if not have_sklearn then print("note: /usr/bin/python3 with scikit-learn missing: the values from scikit-learn are not checked") end

-- ----------------------------------------------------------- the data
local d = wb.datagen.regression{n = 10000, features = 8, informative = 3, noise = 0.5, bias = 2.0, seed = 7}
eq(d:rows(), 10000, "rows")
eq(d:cols(), 8, "columns")
check(d:has_labels(), "the target is the labels")
-- the same rows whatever the partitions and threads
local threads = wb.threads()
wb.threads(1)
local d1 = wb.datagen.regression{n = 10000, features = 8, informative = 3, noise = 0.5, bias = 2.0, seed = 7}
wb.threads(threads)
local r1, y1 = d:row(5000)
local r2_, y2 = d1:row(5000)
eq(table.concat(r1, ","), table.concat(r2_, ","), "row 5000 with 1 thread")
eq(y1, y2, "label 5000 with 1 thread")
-- another seed: other data
local dd = wb.datagen.regression{n = 10, features = 8, informative = 3, seed = 8}
check(dd:row(1)[1] ~= d:row(1)[1], "another seed gives other rows")
-- the recipe: standard normal columns; a target linear in `informative` of
-- them with coefficients in [0, 100], plus bias and N(0, noise^2): least
-- squares recovers 3 non-zero coefficients, the bias, and residuals of
-- standard deviation 0.5
local csv = TMP .. "/reg.csv"
wb.save(d, csv)
if have_sklearn then
  local out = assert(python(string.format([[
import numpy as np
a = np.loadtxt(%q, delimiter=",", skiprows=1)
X, y = a[:, :-1], a[:, -1]
c, *_ = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)
r = y - np.c_[X, np.ones(len(X))] @ c
print(int(np.sum(np.abs(c[:-1]) > 1.0)), int(np.all(c[:-1] > -0.1) and np.all(c[:-1] < 100.1)), "%%.3f" %% c[-1],
      "%%.3f" %% r.std(), "%%.3f" %% X.mean(), "%%.3f" %% X.std())
]], csv)))
  local nz, inrange, bias, rstd, xmean, xstd = out:match("(%d+) (%d) (%S+) (%S+) (%S+) (%S+)")
  eq(tonumber(nz), 3, "informative coefficients")
  eq(tonumber(inrange), 1, "coefficients in [0, 100]")
  near(tonumber(bias), 2.0, 0.05, "bias")
  near(tonumber(rstd), 0.5, 0.03, "noise")
  near(tonumber(xmean), 0, 0.02, "columns' mean")
  near(tonumber(xstd), 1, 0.02, "columns' standard deviation")
end
-- shuffle = false: the informative columns first; no noise: the target is
-- exactly linear
local ds = wb.datagen.regression{n = 50, features = 4, informative = 2, shuffle = false, seed = 3}
wb.save(ds, TMP .. "/ds.csv")
if have_sklearn then
  local out = assert(python(string.format([[
import numpy as np
a = np.loadtxt(%q, delimiter=",", skiprows=1)
c, *_ = np.linalg.lstsq(a[:, :-1], a[:, -1], rcond=None)
print(" ".join("%%.6f" %% v for v in c), "%%.3g" %% np.abs(a[:, :-1] @ c - a[:, -1]).max())
]], TMP .. "/ds.csv")))
  local c1, c2, c3, c4, res = out:match("(%S+) (%S+) (%S+) (%S+) (%S+)")
  check(tonumber(c1) > 0 and tonumber(c2) > 0, "first two columns informative: " .. out)
  check(math.abs(tonumber(c3)) < 1e-9 and math.abs(tonumber(c4)) < 1e-9, "last two not: " .. out)
  check(tonumber(res) < 1e-9, "no noise: exactly linear: " .. out)
end
expect_error("datagen.regression: parameter 'informative' (9) must be at most 'features' (8)",
             wb.datagen.regression, {n = 10, features = 8, informative = 9})
expect_error("datagen.regression: parameter 'noise' must be", wb.datagen.regression, {n = 10, noise = -1})
expect_error("datagen.regression: unknown parameter 'n_features' (did you mean 'features'?",
             wb.datagen.regression, {n = 10, n_features = 3})

-- ------------------------------------------------------------ metrics
local truth, pred = {}, {}
local s = 12345
local function rnd() s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 end
for i = 1, 3000 do
  truth[i] = 50 * rnd() - 10 + i / 100
  pred[i] = truth[i] + (rnd() - 0.5) * 4
end
local f = assert(io.open(TMP .. "/tp.csv", "w"))
f:write("t,p\n")
for i = 1, #truth do f:write(string.format("%.17g,%.17g\n", truth[i], pred[i])) end
f:close()
local M = wb.metrics
local mse, rmse, mae, r2 = M.mse(truth, pred), M.rmse(truth, pred), M.mae(truth, pred), M.r2(truth, pred)
if have_sklearn then
  local out = assert(python(string.format([[
import numpy as np
from sklearn.metrics import mean_squared_error, mean_absolute_error, r2_score
a = np.loadtxt(%q, delimiter=",", skiprows=1)
t, p = a[:, 0], a[:, 1]
print(repr(mean_squared_error(t, p)), repr(np.sqrt(mean_squared_error(t, p))), repr(mean_absolute_error(t, p)),
      repr(r2_score(t, p)), repr(r2_score(t, np.full(len(t), t.mean()))), repr(r2_score(t, 2 * t)))
]], TMP .. "/tp.csv")))
  local e = {}
  for v in out:gmatch("%S+") do e[#e + 1] = tonumber(v) end
  near(mse, e[1], 1e-12, "mse as scikit-learn's mean_squared_error")
  near(rmse, e[2], 1e-12, "rmse")
  near(mae, e[3], 1e-12, "mae as mean_absolute_error")
  near(r2, e[4], 1e-12, "r2 as r2_score")
  local mean = 0
  for _, v in ipairs(truth) do mean = mean + v end
  mean = mean / #truth
  local c = {}
  for i = 1, #truth do c[i] = mean end
  near(M.r2(truth, c), e[5], 1e-9, "r2 of the mean is 0")
  local t2 = {}
  for i = 1, #truth do t2[i] = 2 * truth[i] end
  near(M.r2(truth, t2), e[6], 1e-12, "r2 can be negative")
end
near(rmse, math.sqrt(mse), 1e-15, "rmse is the root of mse")
eq(M.r2(truth, truth), 1.0, "a perfect prediction")
eq(M.mse(truth, truth), 0.0, "no error")
-- a constant truth: 1 for a perfect prediction, else 0 (scikit-learn's force_finite)
eq(M.r2({3, 3, 3}, {3, 3, 3}), 1.0, "constant truth, perfect")
eq(M.r2({3, 3, 3}, {3, 4, 3}), 0.0, "constant truth, not perfect")
-- datasets and vectors; the value does not depend on the partitions
local td = wb.dataset(wb.core.labels(d:slice(1, 3000)), nil)
local tv, pv = wb.vector(truth), wb.vector(pred)
eq(M.mse(tv, pv), mse, "vectors give what tables give")
local big = wb.datagen.regression{n = 30000, features = 3, informative = 2, noise = 1, seed = 2}
local lin = wb.fit("gbdt", big, {objective = "regression", n_trees = 20})
local pb = lin:predict(big)
local rep = wb.repartition(big, 4096)
check(rep:partitions() > big:partitions(), "more partitions")
eq(M.r2(rep, pb), M.r2(big, pb), "r2 does not depend on the partitions")
eq(M.mse(rep, pb), M.mse(big, pb), "mse does not depend on the partitions")
-- errors
expect_error("bad argument #2 to 'mse' (3 predictions for 2 rows of truth)", M.mse, {1, 2}, {1, 2, 3})
expect_error("bad argument #1 to 'r2' (empty table)", M.r2, {}, {})
expect_error("bad argument #2 to 'mae' (predictions expected: one column, got 3)", M.mae, big, big)
expect_error("rmse: the predictions have NaN at row 2", M.rmse, {1, 2}, {1, 0 / 0})
expect_error("bad argument #1 to 'r2' (a dataset without labels", M.r2, wb.dataset({{1, 2}, {3, 4}}), {1, 2})

-- ----------------------------------------------------- gbdt, grid search
local tr, te = wb.split(d, {test = 0.25, seed = 1})
local m = wb.fit("gbdt", tr, {objective = "regression", n_trees = 60, max_leaves = 15})
local p = m:predict(te)
local score = m:score(te)
near(score, M.r2(te, p), 1e-12, "gbdt's score is r2 of its predictions")
check(score > 0.9, "gbdt fits the linear target: r2 " .. score)
local g = wb.gridsearch("gbdt", tr, {max_leaves = {3, 15}}, {folds = 3, metric = "r2", seed = 4,
                        params = {objective = "regression", n_trees = 30}})
eq(g.metric, "r2", "grid search by r2")
eq(g.best_params.max_leaves, 15, "more leaves fit better")
check(g.best_score > 0.5 and g.best_score < 1, "best r2 " .. g.best_score)
-- the fold scores are r2 on the folds: the same folds, fitted again
local folds = wb.kfold(tr, {folds = 3, seed = 4})
local f1 = folds[1]
local mf = wb.fit("gbdt", f1.train, {objective = "regression", n_trees = 30, max_leaves = 15})
local row = g.results[g.best_index]
near(row.fold1, M.r2(f1.test, mf:predict(f1.test)), 1e-12, "fold 1's r2")
-- the default metric of a regression is its score (r2): the same numbers
local gs = wb.gridsearch("gbdt", tr, {max_leaves = {3, 15}}, {folds = 3, seed = 4,
                         params = {objective = "regression", n_trees = 30}})
near(gs.results[gs.best_index].mean_score, row.mean_score, 1e-12, "score = r2")
-- errors: lower is better; neg_ ones higher
local ge = wb.gridsearch("gbdt", tr, {max_leaves = {3, 15}}, {folds = 3, metric = "mse", seed = 4, refit = false,
                         params = {objective = "regression", n_trees = 30}})
eq(ge.best_params.max_leaves, 15, "lowest mse")
check(ge.results.title:find("lower is better", 1, true) ~= nil, "mse: lower is better")
near(ge.results[ge.best_index].fold1, M.mse(f1.test, mf:predict(f1.test)), 1e-12, "fold 1's mse")
local gn = wb.gridsearch("gbdt", tr, {max_leaves = {3, 15}}, {folds = 3, metric = "neg_mean_squared_error", seed = 4,
                         refit = false, params = {objective = "regression", n_trees = 30}})
near(gn.best_score, -ge.best_score, 1e-12, "neg_mean_squared_error")
local gr = wb.gridsearch("gbdt", tr, {max_leaves = {3, 15}}, {folds = 3, metric = "rmse", seed = 4, refit = false,
                         params = {objective = "regression", n_trees = 30}})
near(gr.results[gr.best_index].fold1, M.rmse(f1.test, mf:predict(f1.test)), 1e-12, "fold 1's rmse")
local ga = wb.gridsearch("gbdt", tr, {max_leaves = {3, 15}}, {folds = 3, metric = "mae", seed = 4, refit = false,
                         params = {objective = "regression", n_trees = 30}})
near(ga.results[ga.best_index].fold1, M.mae(f1.test, mf:predict(f1.test)), 1e-12, "fold 1's mae")
expect_error("unknown metric 'r3' (did you mean 'r2'?", wb.gridsearch, "gbdt", tr, {max_leaves = {3}},
             {metric = "r3", params = {objective = "regression"}})

os.execute("rm -rf '" .. TMP .. "'")
print("regression_metrics: ok")
