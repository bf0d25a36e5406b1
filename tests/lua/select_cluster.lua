-- the classification workloads on a local cluster (two worker processes) give
-- the same bits as on local threads: split, logreg, sgd, metrics, pipeline,
-- grid search (whose tasks fit where the fold partitions are)
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
local function run()
  local d = wb.datagen.classification{n = 40000, features = 6, informative = 3, redundant = 2, seed = 2}
  local tr, te = wb.split(d, {test = 0.2, seed = 1, stratify = true})
  local m = wb.fit("logreg", tr, {C = 0.5})
  local s = wb.fit("sgd", tr, {epochs = 3, tol = false})
  local g = wb.gridsearch("logreg", tr, {C = {0.1, 1}, penalty = {"l1", "l2"}}, {folds = 3})
  local p = wb.pipeline{"scaler", "logreg"}:fit(tr)
  local proba = m:predict_proba(te)
  return {m.coef[1], m.coef[6], m.intercept[1], s.coef[2], s.intercept[1], m:score(te), wb.metrics.roc_auc(te, proba),
          wb.metrics.log_loss(te, proba), wb.metrics.f1(te, m:predict(te)), g.best_score, g.results[2].fold3, p:score(te)}
end
local here = run()
wb.cluster{workers = 2, threads = 1}
check(wb.executor().kind == "cluster", "connected to a cluster")
local there = run()
for i = 1, #here do check(here[i] == there[i], string.format("value %d: %.17g locally, %.17g on the cluster", i, here[i], there[i])) end
print("select_cluster: ok")
