-- cluster_estimators.lua — the estimators run unchanged on a cluster (a head
-- and two workers on 127.0.0.1) and give the local executor's models bit for
-- bit for the same seed: kmeans and pca on a swiss roll, logreg on a
-- classification set, predictions and metrics too (every plugin is built with
-- wb: a missing one fails the test).
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
for _, name in ipairs{"kmeans", "pca", "logreg", "sgd", "scaler"} do TL.need_estimator(name) end
TL.check(wb.split and wb.metrics and wb.metrics.accuracy and wb.metrics.f1 and wb.gridsearch,
         "wb.split, wb.metrics and wb.gridsearch (the select and metrics plugins) are missing")

local cases = {}
do
  cases[#cases + 1] = {"kmeans", function()
    local r = wb.datagen.swiss_roll{n = 120000, noise = 0.2, seed = 1}
    local m = wb.fit("kmeans", r, {k = 8, init = "k-means++", max_iter = 30, seed = 0})
    local p = wb.core.labels(m:predict(r))
    return {m.centers, m.inertia, m.iterations, {p[1], p[5000], p[119999]}}
  end}
end
do
  cases[#cases + 1] = {"pca", function()
    local r = wb.datagen.swiss_roll{n = 150000, noise = 0.2, seed = 2}
    local m = wb.fit("pca", r, {components = 2})
    local t = m:transform(r)
    return {m.components, m.explained_variance, m.explained_variance_ratio, t:row(77777)}
  end}
end
do
  cases[#cases + 1] = {"logreg", function()
    local d = wb.datagen.classification{n = 100000, features = 10, informative = 5, redundant = 5, seed = 1}
    local m = wb.fit("logreg", d, {C = 1.0})
    return {m.coef, m.intercept, m:score(d)}
  end}
end
do
  cases[#cases + 1] = {"sgd, split and metrics", function()
    local d = wb.datagen.classification{n = 80000, features = 8, informative = 4, redundant = 4, seed = 3}
    local train, test = wb.split(d, {test = 0.25, seed = 42, stratify = true})
    local m = wb.fit("sgd", train, {loss = "log_loss", epochs = 3, seed = 1})
    local pred = m:predict(test)
    return {m.coef, m.intercept, train:rows(), test:rows(), wb.metrics.accuracy(test, pred), wb.metrics.f1(test, pred)}
  end}
end
do
  cases[#cases + 1] = {"scaler", function()
    local d = wb.datagen.blobs{n = 50000, features = 3, centers = 3, seed = 2}
    local sc = wb.fit("scaler", d)
    return {sc:transform(d):row(12345), sc:transform(d):describe()[2].std}
  end}
end
do
  cases[#cases + 1] = {"gridsearch (fits inside tasks)", function()
    local d = wb.datagen.classification{n = 30000, features = 6, informative = 3, redundant = 3, seed = 4}
    local g = wb.gridsearch("logreg", d, {C = {0.1, 1}, penalty = {"l2"}}, {folds = 3, metric = "accuracy"})
    local scores = {}
    for i, r in ipairs(g.results) do scores[i] = {r.mean_score, r.std_score, r.fold1, r.fold2, r.fold3} end
    TL.check(#scores == 2 and type(scores[1][1]) == "number" and type(scores[2][5]) == "number", "grid search scores")
    return {g.best_score, g.best_params.C, scores}
  end}
end

local results = {}
for i, c in ipairs(cases) do results[i] = c[2]() end
wb.cluster{workers = 2, threads = 1}
for i, c in ipairs(cases) do
  local t0 = wb.now()
  TL.same(results[i], c[2](), c[1], {nan_equal = true})
  print(string.format("cluster_estimators: %s on the cluster: same model as local (%.2f s)", c[1], wb.now() - t0))
end
-- NaN/Inf in x, found by a linear fit's first pass on the workers: the local message
local rows, lab = {}, {}
for i = 1, 300 do rows[i], lab[i] = {i % 5, i % 3}, i % 2 end
rows[123][2] = 0 / 0
for _, name in ipairs{"logreg", "sgd"} do
  local ok, e = pcall(wb.fit, name, wb.dataset(rows, lab), {})
  assert(not ok and tostring(e):find(name .. ": the data has NaN at row 123, column 2", 1, true), tostring(e))
end
wb.disconnect()
print("cluster_estimators: ok")
