-- logreg: predictions, probabilities, multinomial, class weights, the same
-- model bit for bit whatever the threads and partitions, save/load, printing,
-- and every bad input with its message
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error, same = TL.check, TL.expect_error, TL.equal_values

local d = wb.datagen.classification{n = 60000, features = 8, informative = 4, redundant = 2, seed = 3}
local train, test = wb.split(d, {test = 0.25, seed = 1})

-- binary: labels are classes, probabilities rows sum to 1 and agree with the labels
local m = wb.fit("logreg", train, {C = 1})
check(m.converged == 1 and m.n_iter >= 1 and m.n_iter <= 20, "converged in a few Newton steps")
check(m.solver == "newton", "auto picks Newton for two classes and few columns")
check(#m.coef == 8 and #m.intercept == 1 and m.classes[1] == 0 and m.classes[2] == 1, "fields")
local pred, proba = m:predict(test), m:predict_proba(test)
check(pred:is_vector() and pred:rows() == test:rows(), "a vector of predictions")
check(proba:cols() == 2 and proba:rows() == test:rows(), "two probability columns")
local pr, pp = pred:rows_table(1, 2000), proba:rows_table(1, 2000)
for i = 1, 2000 do
  check(math.abs(pp[i][1] + pp[i][2] - 1) < 1e-12, "probabilities sum to 1")
  check(pr[i] == (pp[i][2] > 0.5 and 1 or 0), "the label is the likelier class")
end
local acc = m:score(test)
check(acc > 0.8 and acc == wb.metrics.accuracy(test, pred), "score is the accuracy: " .. acc)
-- the decision: hand-computed from the coefficients for a few rows
for _, i in ipairs{1, 17, 999} do
  local x = test:row(i)
  local z = m.intercept[1]
  for j = 1, 8 do z = z + m.coef[j] * x[j] end
  check(math.abs(pp[i][2] - 1 / (1 + math.exp(-z))) < 1e-12, "probability = sigmoid(x.w + b)")
end

-- the solvers find the same optimum; l1 gives exact zeros for a small C
local ml = wb.fit("logreg", train, {C = 1, solver = "lbfgs", tol = 1e-8})
local mn = wb.fit("logreg", train, {C = 1, tol = 1e-8})
for j = 1, 8 do check(math.abs(ml.coef[j] - mn.coef[j]) < 1e-5, "lbfgs and newton agree") end
local sparse = wb.fit("logreg", train, {C = 1e-4, penalty = "l1"})
local zeros = 0
for j = 1, 8 do if sparse.coef[j] == 0 then zeros = zeros + 1 end end
check(zeros >= 4, "l1 with a small C zeroes coefficients: " .. zeros)
local owl = wb.fit("logreg", train, {C = 1e-4, penalty = "l1", solver = "lbfgs"})
check(owl.solver == "owl-qn", "lbfgs with l1 is OWL-QN")
for j = 1, 8 do check((owl.coef[j] == 0) == (sparse.coef[j] == 0), "OWL-QN and proximal Newton zero the same coefficients") end
local en = wb.fit("logreg", train, {C = 0.01, penalty = "elasticnet", l1_ratio = 0.5})
check(en.converged == 1, "elasticnet converges")
-- a larger C lowers the training loss part: weaker penalty, larger weights
local big = wb.fit("logreg", train, {C = 100})
local n1, n2 = 0, 0
for j = 1, 8 do n1 = n1 + m.coef[j] ^ 2; n2 = n2 + big.coef[j] ^ 2 end
check(n2 > n1, "weaker penalty, larger weights")

-- class weights: "balanced" on unbalanced data moves predictions to the rare class
local ub = wb.datagen.classification{n = 40000, features = 5, informative = 3, redundant = 1, weights = {0.9, 0.1}, seed = 5}
local plain = wb.fit("logreg", ub, {})
local bal = wb.fit("logreg", ub, {class_weight = "balanced"})
local manual = wb.fit("logreg", ub, {class_weight = {1, 9}})
local function ones(v) local s = 0 for _, x in ipairs(wb.core.labels(v)) do s = s + x end return s end
check(ones(bal:predict(ub)) > 1.5 * ones(plain:predict(ub)), "balanced weights predict the rare class more often")
check(ones(manual:predict(ub)) > 1.5 * ones(plain:predict(ub)), "given weights act like balanced ones")

-- multinomial: three classes, probabilities sum to 1, labels keep their values
local m3d = wb.datagen.classification{n = 30000, features = 6, informative = 4, redundant = 0, classes = 3, seed = 9}
local m3 = wb.fit("logreg", m3d, {C = 1})
check(m3.solver == "lbfgs" and #m3.coef == 3 and #m3.coef[1] == 6 and #m3.intercept == 3, "multinomial shape")
local p3 = m3:predict_proba(m3d):rows_table(1, 500)
for i = 1, 500 do check(math.abs(p3[i][1] + p3[i][2] + p3[i][3] - 1) < 1e-12, "three probabilities sum to 1") end
check(m3:score(m3d) > 0.6, "multinomial accuracy")
-- labels need not be 0..K-1
local y = wb.core.labels(m3d)
for i = 1, #y do y[i] = y[i] * 10 - 5 end
local shifted = m3d:with_labels(wb.vector(y))
local ms = wb.fit("logreg", shifted, {C = 1})
check(same(ms.classes, {-5, 5, 15}), "classes keep their values")
check(same(ms.coef, m3.coef), "same model whatever the label values")
local pv = wb.core.labels(ms:predict(shifted))
for _, v in ipairs(pv) do check(v == -5 or v == 5 or v == 15, "predicted labels are classes") end
expect_error("logreg: solver 'newton' needs two classes (the data has 3)", wb.fit, "logreg", m3d, {solver = "newton"})

-- bit for bit the same with 1 or 2 threads and other partition sizes
local function fits(data)
  return {wb.fit("logreg", data, {C = 0.5}), wb.fit("logreg", data, {C = 0.5, solver = "lbfgs"}),
          wb.fit("logreg", data, {C = 0.5, penalty = "l1"}), wb.fit("logreg", m3d, {C = 0.5})}
end
wb.threads(1)
local a = fits(train)
wb.threads(2)
local b = fits(train)
local small = wb.repartition(train, 4096 * 2)
check(small:partitions() > train:partitions(), "smaller partitions")
local c = fits(small)
for i = 1, 4 do
  check(same(a[i].coef, b[i].coef) and same(a[i].intercept, b[i].intercept), "1 and 2 threads, fit " .. i)
  check(same(a[i].coef, c[i].coef) and same(a[i].intercept, c[i].intercept), "partition sizes, fit " .. i)
  check(a[i].n_iter == c[i].n_iter, "same iterations")
end

-- save and load: the same model, the same predictions
local path = os.tmpname()
m3:save(path)
local back = wb.load_model(path)
os.remove(path)
check(back:estimator() == "logreg" and same(back.coef, m3.coef) and same(back.intercept, m3.intercept), "loaded")
check(same(wb.core.labels(back:predict(m3d)), wb.core.labels(m3:predict(m3d))), "loaded model predicts the same")

-- printing: classes, coefficients, iterations, convergence
local text = tostring(m)
for _, want in ipairs{"logreg model: 2 classes (0, 1), 8 features, binary", "converged after", "intercept", "x8", "penalty=l2"} do
  check(text:find(want, 1, true), "printed model lacks " .. want .. ":\n" .. text)
end
check(tostring(m3):find("class 2", 1, true), "multinomial printing has a column per class")
local nc = wb.fit("logreg", m3d, {max_iter = 2})
check(nc.converged == 0 and tostring(nc):find("NOT converged", 1, true), "not converged is said")

-- bad input, each refused before any work with its message
local rows, lab = {}, {}
for i = 1, 50 do rows[i] = {i, i % 7}; lab[i] = i % 2 end
local ok2 = wb.dataset(rows, lab)
expect_error("logreg: the data has no labels", wb.fit, "logreg", wb.dataset(rows), {})
local one = {}
for i = 1, 50 do one[i] = 1 end
expect_error("logreg: the labels have a single class (1); at least 2 are needed", wb.fit, "logreg", wb.dataset(rows, one), {})
lab[3] = 0.5
expect_error("logreg: label 0.5 at row 3 is not an integer class", wb.fit, "logreg", wb.dataset(rows, lab), {})
lab[3] = 1
rows[2][1] = 0 / 0
expect_error("logreg: the data has NaN at row 2, column 1", wb.fit, "logreg", wb.dataset(rows, lab), {})
rows[2][1] = 2
rows[40][2] = math.huge
expect_error("logreg: the data has Inf at row 40, column 2", wb.fit, "logreg", wb.dataset(rows, lab), {})
rows[40][2] = 1
expect_error([[logreg: parameter 'penalty' must be one of "l2", "l1", "elasticnet", "none", got "l3"]], wb.fit, "logreg", ok2, {penalty = "l3"})
expect_error("logreg: parameter 'C' must be a number > 0, got 0", wb.fit, "logreg", ok2, {C = 0})
expect_error("logreg: parameter 'C' must be a number > 0, got -1", wb.fit, "logreg", ok2, {C = -1})
expect_error("logreg: parameter 'max_iter' must be an integer >= 1, got 0", wb.fit, "logreg", ok2, {max_iter = 0})
expect_error("logreg: parameter 'class_weight' has 3 weights for 2 classes (0, 1); give one per class in that order",
  wb.fit, "logreg", ok2, {class_weight = {1, 2, 3}})
expect_error("logreg: parameter 'class_weight' must hold numbers > 0, got -1 for class 1", wb.fit, "logreg", ok2, {class_weight = {1, -1}})
expect_error("logreg: unknown parameter 'alpha'", wb.fit, "logreg", ok2, {alpha = 1})
expect_error("logreg: the model was fitted on 2 columns, the data has 3", m.predict, wb.fit("logreg", ok2, {}), wb.dataset({{1, 2, 3}}))

-- NaN/Inf in x is found by the fit's first pass (no pass of its own), with the
-- finite check's message, and it comes before every other error the data or
-- the parameters would give (as when the check ran first)
rows[7][2] = 0 / 0
local lab3 = {}
for i = 1, 50 do lab3[i] = i % 3 end
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, lab3), {}) -- multinomial lbfgs
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, lab), {solver = "lbfgs", penalty = "l1"})
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, lab3), {solver = "newton"})
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, lab), {class_weight = {1, 2, 3}})
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, one), {})
lab[9] = 0.5
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, lab), {})
lab[9] = 0 / 0 -- the labels: found by the class scan, named as the finite check names them
expect_error("logreg: the data has NaN at row 7, column 2", wb.fit, "logreg", wb.dataset(rows, lab), {})
rows[7][2] = 1
expect_error("logreg: the labels have NaN at row 9", wb.fit, "logreg", wb.dataset(rows, lab), {})
lab[9] = -math.huge
expect_error("logreg: the labels have -Inf at row 9", wb.fit, "logreg", wb.dataset(rows, lab), {})
lab[9] = 1

-- in a later partition, a later sgd shard and the last row of a chunk (both
-- fits of the linear plugin): 12000 rows of 64 columns are two partitions
local big, blab = {}, {}
for i = 1, 12000 do
  local r = {}
  for j = 1, 64 do r[j] = (i * j) % 7 - 3 end
  big[i], blab[i] = r, i % 2
end
check(wb.dataset(big, blab):partitions() == 2, "two partitions")
for _, at in ipairs{{9000, 40, -math.huge, "-Inf"}, {12000, 64, 0 / 0, "NaN"}, {1, 1, math.huge, "Inf"}} do
  big[at[1]][at[2]] = at[3]
  local bd = wb.dataset(big, blab)
  local msg = string.format("the data has %s at row %d, column %d", at[4], at[1], at[2])
  for _, solver in ipairs{"newton", "lbfgs"} do
    expect_error("logreg: " .. msg, wb.fit, "logreg", bd, {solver = solver})
  end
  expect_error("sgd: " .. msg, wb.fit, "sgd", bd, {epochs = 2})
  big[at[1]][at[2]] = 1
end
local clean = wb.fit("sgd", wb.dataset(big, blab), {epochs = 2, tol = false})
check(clean.n_iter == 2 and clean.shards_used == 3, "the clean data fits: " .. clean.n_iter .. " epochs, " .. clean.shards_used .. " shards")
print("linear_logreg: ok")
