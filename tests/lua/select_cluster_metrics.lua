-- grid search of k-means by clustering metrics (metric = "davies_bouldin",
-- "calinski_harabasz", "silhouette", "inertia"): every fold score equals the
-- metric computed by hand with wb.metrics on the same validation fold, the
-- chosen k is the hand loop's best (lowest for davies_bouldin and inertia,
-- highest for the others), ranks run the right way, and metrics that do not
-- fit the estimator are refused with the allowed ones listed
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error, rel = TL.check, TL.expect_error, TL.rel
TL.need_estimator("kmeans")

-- four blobs, two of them close together: the metrics disagree on k
local b = wb.datagen.blobs{n = 6000, features = 2, centers = {{0, 0}, {2.5, 0}, {10, 10}, {-10, 8}}, cluster_std = 1, seed = 3}
local ks = {2, 3, 4, 6}
local folds = wb.kfold(b, {folds = 3, seed = 5})
-- the fitted models of the hand loop, per k and fold
local models = {}
for i, k in ipairs(ks) do
  models[i] = {}
  for f = 1, 3 do models[i][f] = wb.fit("kmeans", folds[f].train, {k = k, seed = 7}) end
end
local hand = {
  davies_bouldin = function(te, m) return wb.metrics.davies_bouldin(te, m:predict(te)) end,
  calinski_harabasz = function(te, m) return wb.metrics.calinski_harabasz(te, m:predict(te)) end,
  silhouette = function(te, m) return wb.metrics.silhouette(te, m:predict(te)) end,
  inertia = function(te, m) return wb.metrics.inertia(te, m:predict(te), m.centers) end,
}
local lower = {davies_bouldin = true, inertia = true}
local chosen = {}
for _, metric in ipairs{"davies_bouldin", "calinski_harabasz", "silhouette", "inertia"} do
  local g = wb.gridsearch("kmeans", b, {k = ks}, {folds = 3, seed = 5, metric = metric, params = {seed = 7}})
  check(g.metric == metric and #g.results == #ks, metric .. ": metric and candidates")
  local means = {}
  for i, k in ipairs(ks) do
    local r = g.results[i]
    check(r.k == k, metric .. ": candidate order")
    local sum = 0
    for f = 1, 3 do
      local s = hand[metric](folds[f].test, models[i][f])
      check(rel(r["fold" .. f], s, 1e-12),
        string.format("%s: k = %d fold %d: %.17g in the grid, %.17g by hand", metric, k, f, r["fold" .. f], s))
      sum = sum + s
    end
    means[i] = sum / 3
    check(rel(r.mean_score, means[i], 1e-12), metric .. ": mean score")
  end
  -- the hand loop's best (first on ties)
  local best = 1
  for i = 2, #ks do
    if (lower[metric] and means[i] < means[best]) or (not lower[metric] and means[i] > means[best]) then best = i end
  end
  check(g.best_params.k == ks[best],
    string.format("%s: grid chose k = %d, the hand loop k = %d", metric, g.best_params.k, ks[best]))
  check(g.best_score == g.results[best].mean_score and g.best_index == best, metric .. ": best score")
  -- ranks: 1 + the number of better means, better = lower or higher by the metric
  for _, r in ipairs(g.results) do
    local better = 0
    for _, q in ipairs(g.results) do
      if (lower[metric] and q.mean_score < r.mean_score) or (not lower[metric] and q.mean_score > r.mean_score) then better = better + 1 end
    end
    check(r.rank == better + 1, string.format("%s: rank of k = %d", metric, r.k))
  end
  -- the results name the metric and its direction
  local dir = lower[metric] and "lower" or "higher"
  check(tostring(g.results):find("scores: " .. metric .. " on each validation fold (" .. dir .. " is better)", 1, true),
    metric .. ": results title")
  check(tostring(g):find("best: k=" .. ks[best] .. "  " .. metric .. " ", 1, true), metric .. ": printed best")
  -- the refitted model keeps the parameters the user gave (its score stays -inertia)
  check(#g.best_model.centers == ks[best], metric .. ": refit with the best k")
  chosen[metric] = g.best_params.k
end
-- a lower-is-better metric ranked the wrong way would choose k = 2 for
-- inertia (the largest); inertia falls with k, so the lowest is k = 6
check(chosen.inertia == 6, "inertia: the lowest (k = 6) is best, got " .. tostring(chosen.inertia))
check(chosen.davies_bouldin ~= 6, "davies_bouldin: not simply the largest k")
-- inertia is minus the estimator's own score
local gi = wb.gridsearch("kmeans", b, {k = {2, 4}}, {folds = 3, seed = 5, metric = "inertia", params = {seed = 7}, refit = false})
local gs = wb.gridsearch("kmeans", b, {k = {2, 4}}, {folds = 3, seed = 5, params = {seed = 7}, refit = false})
for i = 1, 2 do
  for f = 1, 3 do check(gi.results[i]["fold" .. f] == -gs.results[i]["fold" .. f], "inertia = -score") end
  check(gi.results[i].rank == gs.results[i].rank, "the same ranks as -score")
end

-- random search takes the metric too
local rs = wb.randomsearch("kmeans", b, {k = {randint = {2, 6}}}, {n_iter = 3, folds = 3, seed = 1, metric = "davies_bouldin", refit = false})
check(rs.metric == "davies_bouldin" and #rs.results == 3, "random search by davies_bouldin")
for _, r in ipairs(rs.results) do
  local better = 0
  for _, q in ipairs(rs.results) do if q.mean_score < r.mean_score then better = better + 1 end end
  check(r.rank == better + 1, "random search: lowest davies_bouldin ranks first")
end

-- a pipeline ending in k-means: the metric on the scaled validation rows
local p = wb.pipeline{"scaler", "kmeans"}
local gp = wb.gridsearch(p, b, {k = {2, 4}}, {folds = 3, seed = 5, metric = "calinski_harabasz", params = {seed = 7}, refit = false})
for i, k in ipairs{2, 4} do
  local pm = wb.fit(p, folds[2].train, {k = k, seed = 7})
  local st = pm:steps()
  local z = st[1]:transform(folds[2].test)
  local s = wb.metrics.calinski_harabasz(z, st[2]:predict(z))
  check(rel(gp.results[i].fold2, s, 1e-12), string.format("pipeline k = %d: %.17g vs %.17g", k, gp.results[i].fold2, s))
end

-- metrics that do not fit the estimator, before any work
local kmetrics = "metrics for kmeans: score, inertia, davies_bouldin, calinski_harabasz, silhouette"
expect_error("bad argument #4 to 'gridsearch' (metric 'accuracy' does not fit kmeans, a clusterer (" .. kmetrics .. "))",
  wb.gridsearch, "kmeans", b, {k = {2}}, {metric = "accuracy"})
expect_error("bad argument #4 to 'gridsearch' (metric 'roc_auc' does not fit kmeans, a clusterer (" .. kmetrics .. "))",
  wb.gridsearch, "kmeans", b, {k = {2}}, {metric = "roc_auc"})
expect_error("bad argument #4 to 'gridsearch' (unknown metric 'dbi' (" .. kmetrics .. "))",
  wb.gridsearch, "kmeans", b, {k = {2}}, {metric = "dbi"})
expect_error("bad argument #4 to 'randomsearch' (metric 'f1' does not fit kmeans, a clusterer (" .. kmetrics .. "))",
  wb.randomsearch, "kmeans", b, {k = {2, 3}}, {metric = "f1"})
local d = wb.datagen.classification{n = 400, features = 4, informative = 2, redundant = 0, seed = 1}
expect_error("bad argument #4 to 'gridsearch' (metric 'davies_bouldin' does not fit logreg, a classifier (metrics for logreg: accuracy, balanced_accuracy,",
  wb.gridsearch, "logreg", d, {C = {1}}, {metric = "davies_bouldin"})
expect_error("bad argument #4 to 'gridsearch' (metric 'silhouette' does not fit pipeline: scaler{} -> logreg{}, a classifier (metrics for",
  wb.gridsearch, wb.pipeline{"scaler", "logreg"}, d, {C = {1}}, {metric = "silhouette"})
expect_error("bad argument #4 to 'gridsearch' (metric 'inertia' does not fit sgd, a classifier (",
  wb.gridsearch, "sgd", d, {alpha = {1e-4}}, {metric = "inertia"})
print("select_cluster_metrics: ok")
