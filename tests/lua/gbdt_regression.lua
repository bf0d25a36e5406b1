-- gbdt regression: squared error on a known function, constant labels, R^2
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
local r = 12345
local function rnd() r = (r * 1103515245 + 12345) % 2147483648; return r / 2147483648 end
local function make(n)
  local rows, y = {}, {}
  for i = 1, n do
    local a, b, c = rnd() * 4 - 2, rnd() * 4 - 2, rnd()
    rows[i] = {a, b, c}
    y[i] = 3 * math.sin(a) + b * b -- the third column is noise
  end
  return wb.dataset(rows, y), y
end
local train = make(20000)
local test, ytest = make(5000)
local m = wb.fit("gbdt", train, {objective = "regression", n_trees = 200, learning_rate = 0.1})
check(m.objective == "regression" and m.n_classes == nil and m.classes == nil, "a regression model")
local pv = wb.core.labels(m:predict(test))
local se, mean = 0, 0
for i = 1, #ytest do se = se + (pv[i] - ytest[i]) ^ 2; mean = mean + ytest[i] end
mean = mean / #ytest
local st = 0
for i = 1, #ytest do st = st + (ytest[i] - mean) ^ 2 end
local rmse = math.sqrt(se / #ytest)
check(rmse < 0.1, "held-out RMSE on 3 sin(a) + b^2: " .. rmse)
local r2 = m:score(test)
check(math.abs(r2 - (1 - se / st)) < 1e-9, "score is R^2")
check(r2 > 0.998, "R^2 " .. r2)
-- the noise column is barely used
local g = m.feature_importance_gain
check(g[3] < 0.01 * (g[1] + g[2]), "noise feature has little gain")
-- regression on integer labels that look like classes stays a regression
local rows, y = {}, {}
for i = 1, 2000 do rows[i] = {i % 10}; y[i] = (i % 10) * 2 end
local mi = wb.fit("gbdt", wb.dataset(rows, y), {objective = "regression", n_trees = 100, learning_rate = 0.5, min_samples_leaf = 1})
local pi = wb.core.labels(mi:predict(wb.dataset({{3}, {7}})))
check(math.abs(pi[1] - 6) < 1e-3 and math.abs(pi[2] - 14) < 1e-3, "every distinct value its own bin")
-- all-equal labels: stumps that predict the constant
rows, y = {}, {}
for i = 1, 500 do rows[i] = {i, -i}; y[i] = 0.1 end
local c = wb.fit("gbdt", wb.dataset(rows, y), {objective = "regression", n_trees = 5})
check(c.rounds == 5 and #c.trees == 5, "five one-leaf trees")
for _, v in ipairs(wb.core.labels(c:predict(wb.dataset({{1, 2}, {1e9, -5}})))) do
  check(math.abs(v - 0.1) < 1e-12, "constant prediction " .. v)
end
-- R^2 on constant labels, as scikit-learn's r2_score: 1 when every prediction
-- is exact, else 0 (the prediction is the label mean of the training set,
-- 0.1 rounded, not exactly 0.1: r2_score([0.1, 0.1], [0.1 + 5e-16] * 2) = 0.0)
local p01 = wb.core.labels(c:predict(wb.dataset({{1, 2}})))[1]
local sc = c:score(wb.dataset({{1, 2}, {3, 4}}, {0.1, 0.1}))
check(sc == (p01 == 0.1 and 1 or 0), "R^2 on constant labels: " .. sc .. " (prediction " .. string.format("%.17g", p01) .. ")")
check(c:score(wb.dataset({{1, 2}, {3, 4}}, {0.2, 0.2})) == 0, "R^2 on constant labels, predicted wrong: 0")
check(c:score(wb.dataset({{1, 2}, {3, 4}}, {p01, p01})) == 1, "R^2 on constant labels, predicted exactly: 1")
-- large labels: the fixed-point scale follows the residuals
rows, y = {}, {}
for i = 1, 3000 do rows[i] = {i % 50, (i * 7) % 13}; y[i] = 1e9 + (i % 50) * 1e6 end
local big = wb.fit("gbdt", wb.dataset(rows, y), {objective = "regression", n_trees = 50, learning_rate = 0.3, min_samples_leaf = 1})
local pb = wb.core.labels(big:predict(wb.dataset({{10, 3}})))
check(math.abs(pb[1] - (1e9 + 10e6)) < 1e3, "large labels: " .. pb[1])
print("gbdt_regression: ok")
