-- sgd: the update rules against a step-by-step replica in Lua (scikit-learn's
-- SGDClassifier rules), accuracy, losses and probabilities, penalties,
-- learning-rate schedules, stopping, one-vs-rest, bit-identical models
-- whatever the threads and partitions, and bad parameters with their messages
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error, same = TL.check, TL.expect_error, TL.equal_values

-- known answers: one shard, no shuffle; the replica follows the rules with
-- plain weights (the plugin keeps a scale factor, so allow rounding)
local X = {{1, 2}, {-1, 0.5}, {2, -1}, {0.5, 0.5}, {-2, -1}, {1.5, 1}}
local Y = {1, 0, 1, 1, 0, 0}
local small = wb.dataset(X, Y)
local function replica(loss, lr, alpha, eta0, epochs, l2)
  local function dloss(p, y)
    local z = p * y
    if loss == "hinge" then return z <= 1 and -y or 0 end
    if loss == "log_loss" then
      if z > 18 then return math.exp(-z) * -y end
      if z < -18 then return -y end
      return -y / (math.exp(z) + 1)
    end
    if z >= 1 then return 0 elseif z >= -1 then return 2 * (1 - z) * -y end
    return -4 * y
  end
  local w, b, t = {0, 0}, 0, 1
  local t0 = 0
  if lr == "optimal" then
    local typw = math.sqrt(1 / math.sqrt(alpha))
    t0 = 1 / (typw / math.max(1, dloss(-typw, 1)) * alpha)
  end
  for _ = 1, epochs do
    for i = 1, #X do
      local eta = lr == "optimal" and 1 / (alpha * (t0 + t - 1)) or lr == "invscaling" and eta0 / t ^ 0.5 or eta0
      local y = Y[i] == 1 and 1 or -1
      local p = w[1] * X[i][1] + w[2] * X[i][2] + b
      local u = -eta * dloss(p, y)
      local f = l2 and math.max(0, 1 - eta * alpha) or 1
      w[1] = w[1] * f + u * X[i][1]
      w[2] = w[2] * f + u * X[i][2]
      b = b + u
      t = t + 1
    end
  end
  return w, b
end
for _, c in ipairs{{"hinge", "constant", 0.01, 0.1, true}, {"log_loss", "optimal", 0.05, 0, true},
                   {"modified_huber", "invscaling", 0.01, 0.5, true}, {"hinge", "optimal", 0.1, 0, false}} do
  local m = wb.fit("sgd", small, {loss = c[1], learning_rate = c[2], alpha = c[3], eta0 = c[4],
                                  penalty = c[5] and "l2" or "none", epochs = 4, tol = false, shuffle = false})
  local w, b = replica(c[1], c[2], c[3], c[4], 4, c[5])
  for j = 1, 2 do check(math.abs(m.coef[j] - w[j]) <= 1e-12 * math.max(1, math.abs(w[j])), c[1] .. "/" .. c[2] .. ": coef " .. j) end
  check(math.abs(m.intercept[1] - b) <= 1e-12 * math.max(1, math.abs(b)), c[1] .. "/" .. c[2] .. ": intercept")
  check(m.n_iter == 4 and m.converged == 0, "ran the four epochs")
end

-- accuracy near logistic regression's on held-out data
local d = wb.datagen.classification{n = 120000, features = 10, informative = 5, redundant = 5, seed = 11}
local train, test = wb.split(d, {test = 0.2, seed = 42})
local lr = wb.fit("logreg", train, {}):score(test)
for _, loss in ipairs{"hinge", "log_loss", "modified_huber"} do
  local m = wb.fit("sgd", train, {loss = loss, epochs = 5, tol = false})
  local acc = m:score(test)
  print(string.format("sgd %-15s accuracy %.4f (logreg %.4f)", loss, acc, lr))
  check(acc > lr - 0.02, loss .. ": accuracy " .. acc .. " far below logreg's " .. lr)
end
-- probabilities: log_loss and modified_huber, rows sum to 1
for _, loss in ipairs{"log_loss", "modified_huber"} do
  local m = wb.fit("sgd", train, {loss = loss, epochs = 3, tol = false})
  local p = m:predict_proba(test):rows_table(1, 500)
  for i = 1, 500 do check(math.abs(p[i][1] + p[i][2] - 1) < 1e-12 and p[i][1] >= 0 and p[i][2] >= 0, loss .. " probabilities") end
end
expect_error("sgd: predict_proba needs loss 'log_loss' or 'modified_huber' (this model has loss 'hinge')",
  function() local m = wb.fit("sgd", small, {epochs = 1, tol = false}); return m:predict_proba(small) end)

-- penalties: a strong l1 zeroes weights (an averaged weight is zero only
-- where every shard's is, so use one shard), elasticnet learns
local l1 = wb.fit("sgd", train, {penalty = "l1", alpha = 0.01, epochs = 5, tol = false, shards = 1})
local zeros = 0
for j = 1, 10 do if l1.coef[j] == 0 then zeros = zeros + 1 end end
check(zeros >= 3, "l1 zeroes weights: " .. zeros)
check(wb.fit("sgd", train, {penalty = "elasticnet", alpha = 0.001, epochs = 3, tol = false}):score(test) > 0.8, "elasticnet")
-- every schedule learns
for _, s in ipairs{{"constant", 0.01}, {"invscaling", 0.1}, {"adaptive", 0.01}} do
  local m = wb.fit("sgd", train, {learning_rate = s[1], eta0 = s[2], epochs = 5, tol = false})
  check(m:score(test) > lr - 0.03, s[1] .. " learns")
end
-- tol stops early (adaptive too, once its rate has been divided down)
local st = wb.fit("sgd", train, {epochs = 200})
check(st.converged == 1 and st.n_iter < 200, "stopped on tol after " .. st.n_iter .. " epochs")
local ad = wb.fit("sgd", train, {epochs = 200, learning_rate = "adaptive", eta0 = 0.01})
check(ad.converged == 1 and ad.n_iter > 5 and ad.n_iter < 200, "adaptive stopped after " .. ad.n_iter .. " epochs")
check(ad:score(test) > lr - 0.01, "adaptive reaches logreg's accuracy")

-- one-vs-rest for three classes
local d3 = wb.datagen.classification{n = 30000, features = 6, informative = 4, redundant = 0, classes = 3, seed = 2}
local m3 = wb.fit("sgd", d3, {loss = "log_loss", epochs = 5, tol = false})
check(#m3.coef == 3 and #m3.intercept == 3, "a weight row per class")
check(m3:score(d3) > 0.6, "three-class accuracy")
local p3 = m3:predict_proba(d3):rows_table(1, 200)
for i = 1, 200 do check(math.abs(p3[i][1] + p3[i][2] + p3[i][3] - 1) < 1e-12, "normalised one-vs-rest probabilities") end
check(tostring(m3):find("one-vs-rest", 1, true), "printed as one-vs-rest")

-- bit for bit the same model with 1 or 2 threads and other partition sizes;
-- another seed or another shard count gives another model
local function fit(data, extra)
  local p = {loss = "log_loss", penalty = "elasticnet", epochs = 3, tol = false, seed = 7}
  for k, v in pairs(extra or {}) do p[k] = v end
  return wb.fit("sgd", data, p)
end
wb.threads(1)
local a = fit(train)
wb.threads(2)
local b = fit(train)
local c = fit(wb.repartition(train, 4096 * 3))
check(same(a.coef, b.coef) and same(a.intercept, b.intercept), "1 and 2 threads give the same model")
check(same(a.coef, c.coef) and same(a.intercept, c.intercept), "partition sizes do not change the model")
check(not same(a.coef, fit(train, {seed = 8}).coef), "another seed, another model")
check(not same(a.coef, fit(train, {shards = 2}).coef), "another shard count, another model")
check(a.shards_used == math.min(64, (train:rows() + 4095) // 4096), "64 shards by default, at most one per block")

-- save and load: the same model and predictions; printing
local path = os.tmpname()
m3:save(path)
local back = wb.load_model(path)
os.remove(path)
check(back:estimator() == "sgd" and same(back.coef, m3.coef) and same(back.intercept, m3.intercept), "loaded sgd model")
check(same(wb.core.labels(back:predict(d3)), wb.core.labels(m3:predict(d3))), "a loaded sgd model predicts the same")
local bin = wb.fit("sgd", train, {epochs = 2, tol = false})
local text = tostring(bin)
for _, want in ipairs{"sgd model: 2 classes (0, 1), 10 features", "intercept", "x10", "loss=hinge", "2 epochs"} do
  check(text:find(want, 1, true), "printed sgd model lacks " .. want .. ":\n" .. text)
end

-- bad parameters, refused before any work
expect_error([[sgd: parameter 'loss' must be one of "hinge", "log_loss", "modified_huber", got "squared"]], wb.fit, "sgd", small, {loss = "squared"})
expect_error([[sgd: parameter 'penalty' must be one of "l2", "l1", "elasticnet", "none", got "l0"]], wb.fit, "sgd", small, {penalty = "l0"})
expect_error([[sgd: parameter 'learning_rate' must be one of "optimal", "constant", "invscaling", "adaptive", got "fast"]], wb.fit, "sgd", small, {learning_rate = "fast"})
expect_error("sgd: learning_rate 'constant' needs eta0 > 0, got 0", wb.fit, "sgd", small, {learning_rate = "constant"})
expect_error("sgd: learning_rate 'optimal' needs alpha > 0, got 0", wb.fit, "sgd", small, {alpha = 0})
expect_error("sgd: parameter 'tol' must be a number >= 0 or false, got true", wb.fit, "sgd", small, {tol = true})
expect_error("sgd: parameter 'l1_ratio' must be a number in [0, 1], got 2", wb.fit, "sgd", small, {l1_ratio = 2})
expect_error("sgd: the data has no labels", wb.fit, "sgd", wb.dataset(X), {})
expect_error("sgd: the labels have a single class (0); at least 2 are needed", wb.fit, "sgd", wb.dataset(X, {0, 0, 0, 0, 0, 0}), {})
expect_error("sgd: label 1.5 at row 2 is not an integer class", wb.fit, "sgd", wb.dataset(X, {0, 1.5, 0, 1, 0, 1}), {})
local Xb = {{1, 2}, {-1, 0.5}, {2, -1}, {0.5, 0.5}, {-2, -1}, {1.5, 1}}
Xb[4][2] = 0 / 0
expect_error("sgd: the data has NaN at row 4, column 2", wb.fit, "sgd", wb.dataset(Xb, Y), {})
Xb[4][2] = 0.5
Xb[6][1] = -math.huge
expect_error("sgd: the data has -Inf at row 6, column 1", wb.fit, "sgd", wb.dataset(Xb, Y), {})
-- (found by the first epoch: before the other errors, as when the check ran first)
expect_error("sgd: the data has -Inf at row 6, column 1", wb.fit, "sgd", wb.dataset(Xb, {0, 1.5, 0, 1, 0, 1}), {})
expect_error("sgd: the data has -Inf at row 6, column 1", wb.fit, "sgd", wb.dataset(Xb, Y), {class_weight = {1}})
expect_error("sgd: the data has -Inf at row 6, column 1", wb.fit, "sgd", wb.dataset(Xb, {0, 0, 0, 0, 0, 0}), {})
Xb[6][1] = 1.5
expect_error("sgd: the labels have Inf at row 2", wb.fit, "sgd", wb.dataset(Xb, {0, math.huge, 0, 1, 0, 1}), {})
print("linear_sgd: ok")
