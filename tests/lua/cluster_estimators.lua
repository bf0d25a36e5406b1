-- cluster_estimators.lua — the estimators run unchanged on a cluster (a head
-- and two workers on 127.0.0.1) and give the local executor's models bit for
-- bit for the same seed: kmeans and pca on a swiss roll, logreg on a
-- classification set, predictions and metrics too (every plugin is built with
-- wb: a missing one fails the test). On the cluster, logreg, sgd and gbdt are
-- also checked against scikit-learn's and HistGradientBoosting's models.
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
  -- the bounds' objects stay on the workers between iterations
  cases[#cases + 1] = {"kmeans elkan and hamerly", function()
    local b = wb.datagen.blobs{n = 60000, features = 12, centers = 10, cluster_std = 4, seed = 3}
    local e = wb.fit("kmeans", b, {k = 10, max_iter = 20, seed = 0, algorithm = "elkan"})
    local h = wb.fit("kmeans", b, {k = 10, max_iter = 20, seed = 0, algorithm = "hamerly"})
    return {e.centers, e.inertia, e.iterations, h.centers, h.inertia, h.iterations}
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
-- not only the local model: on the cluster the models equal the independent
-- references too (scikit-learn's logistic regression and SGD, HistGradientBoosting)
do
  local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR is not set")
  local lref = dofile(src .. "/tests/data/linear_reference.lua").bc_l2_C1
  local bc = wb.load(src .. "/tests/data/breast_cancer.csv", {label = "last"})
  local m = wb.fit("logreg", wb.fit("scaler", bc):transform(bc), {C = 1, tol = 1e-10, max_iter = 5000, solver = "newton"})
  local md = math.abs(m.intercept[1] - lref.intercept[1])
  for j = 1, 30 do md = math.max(md, math.abs(m.coef[j] - lref.coef[1][j])) end
  TL.check(md <= 1e-8, "logreg on the cluster differs from scikit-learn by " .. md)
  local function csv(name)
    local rows = {}
    local f = assert(io.open(src .. "/tests/data/" .. name))
    f:read("l")
    for line in f:lines() do
      local v = {}
      for x in line:gmatch("[^,]+") do v[#v + 1] = tonumber(x) end
      rows[#rows + 1] = v
    end
    f:close()
    return rows
  end
  local S = csv("sgd_data.csv")
  local sx, sy = {}, {}
  for i, v in ipairs(S) do sx[i], sy[i] = {v[1], v[2], v[3], v[4], v[5], v[6]}, v[7] end
  local sref = dofile(src .. "/tests/data/sgd_reference.lua")[1]
  local p = {tol = false, shuffle = false, shards = 1}
  for k, v in pairs(sref.params) do p[k] = v end
  local sm = wb.fit("sgd", wb.dataset(sx, sy), p)
  local sd = math.abs(sm.intercept[1] - sref.intercept[1])
  for j = 1, 6 do sd = math.max(sd, math.abs(sm.coef[j] - sref.coef[1][j])) end
  TL.check(sd <= 1e-12, "sgd (" .. sref.name .. ") on the cluster differs from scikit-learn by " .. sd)
  local G = csv("gbdt_data.csv")
  local gx, gy = {}, {}
  for i, v in ipairs(G) do gx[i], gy[i] = {v[1], v[2], v[3], v[4]}, v[5] end
  local gref = dofile(src .. "/tests/data/gbdt_reference.lua")[1]
  TL.check(gref.label == "reg", "the first gbdt reference is a regression")
  local gp = wb.core.labels(wb.fit("gbdt", wb.dataset(gx, gy), gref.params):predict(wb.dataset(gx)))
  local gd = 0
  for i = 1, #gp do gd = math.max(gd, math.abs(gp[i] - gref.hgb[i])) end
  TL.check(gd <= 1e-6, "gbdt on the cluster differs from HistGradientBoosting by " .. gd)
  print(string.format("cluster_estimators: on the cluster, against the references: logreg %.2g, sgd %.2g, gbdt %.2g", md, sd, gd))
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
