-- classify.lua: the four-step classification workflow -- generate, split,
-- fit three classifiers, compare them on held-out rows.
-- Run with: ./build/wb examples/classify.lua [rows]      (default 1000000)
local n = math.tointeger(tonumber(arg and arg[1] or "1000000")) or error("rows must be a whole number", 0)
local d = wb.datagen.classification{n = n, features = 10, informative = 5, redundant = 5, seed = 1}
local train, test = wb.split(d, {test = 0.2, seed = 42, stratify = true})
print(string.format("%d training rows, %d test rows, %d threads", train:rows(), test:rows(), wb.threads()))

local results = {}
for _, c in ipairs{{"logreg", {C = 1.0, penalty = "l2"}},
                   {"sgd", {loss = "log_loss", epochs = 5, seed = 1}},
                   {"gbdt", {n_trees = 100, seed = 1}}} do
  local name, params = c[1], c[2]
  if wb.core.estimator_info(name) then
    local t0 = wb.now()
    local m = wb.fit(name, train, params)
    local fit_s = wb.now() - t0
    local pred = m:predict(test)
    results[#results + 1] = {estimator = name, fit_s = fit_s, accuracy = wb.metrics.accuracy(test, pred),
                             f1 = wb.metrics.f1(test, pred), roc_auc = wb.metrics.roc_auc(test, m:predict_proba(test))}
  else
    print("(" .. name .. " is not in this build)")
  end
end
local t = wb.table.new({"estimator", "fit_s", "accuracy", "f1", "roc_auc"}, results, "classifiers on held-out rows")
print(t)
t:export("classify.csv")
print("wrote classify.csv")
