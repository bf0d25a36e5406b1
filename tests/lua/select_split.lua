-- wb.split, wb.kfold, wb.stratified_kfold, wb.repartition, the scaler and
-- pipelines: exact sizes, every row in one place, stratification, the same
-- split for the same seed whatever the partitions, and bad input
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error

-- rows carry their index in column 1; three classes of 5000, 3000 and 2007 rows
local n = 10007
local rows, lab = {}, {}
for i = 1, n do
  rows[i] = {i, math.sin(i)}
  lab[i] = i <= 5000 and 0 or i <= 8000 and 1 or 2
end
local d = wb.dataset(rows, lab)
local function ids(ds)
  local out = {}
  for i, r in ipairs(ds:rows_table(1, ds:rows())) do out[i] = r[1] end
  return out
end
local function class_counts(ds)
  local c = {[0] = 0, [1] = 0, [2] = 0}
  for _, y in ipairs(wb.core.labels(ds)) do c[y] = c[y] + 1 end
  return c
end
local function partition_of(parts, total)
  local seen, count = {}, 0
  for _, p in ipairs(parts) do
    for _, id in ipairs(ids(p)) do
      check(not seen[id], "row " .. id .. " appears twice")
      seen[id] = true
      count = count + 1
    end
  end
  check(count == total, "every row once: " .. count .. " of " .. total)
end

-- split: ceil(0.2 n) test rows, the rest for training, in their original order
local tr, te = wb.split(d, {test = 0.2, seed = 42})
check(te:rows() == 2002 and tr:rows() == n - 2002, "split sizes " .. te:rows())
partition_of({tr, te}, n)
local ti = ids(te)
for i = 2, #ti do check(ti[i] > ti[i - 1], "rows keep their order") end
local tr2, te2 = wb.split(d, {test = 0.2, seed = 42})
local t2 = ids(te2)
for i = 1, #ti do check(ti[i] == t2[i], "same seed, same split") end
local _, te3 = wb.split(d, {test = 0.2, seed = 43})
local diff = 0
for i, id in ipairs(ids(te3)) do if id ~= ti[i] then diff = diff + 1 end end
check(diff > 0, "another seed, another split")
-- the same split whatever the partitions
local big = wb.dataset(rows, lab)
local small = wb.repartition(big, 4096)
check(small:partitions() == 3, "three partitions of 4096")
local _, tes = wb.split(small, {test = 0.2, seed = 42})
local ts = ids(tes)
for i = 1, #ti do check(ti[i] == ts[i], "partitioning does not change the split") end
-- a number of rows; stratified: each class keeps its share exactly
local _, te4 = wb.split(d, {test = 1000, seed = 1})
check(te4:rows() == 1000, "test as a number of rows")
local trs, tes2 = wb.split(d, {test = 0.3, seed = 5, stratify = true})
local ct, cr = class_counts(tes2), class_counts(trs)
-- ceil(0.3 n) = 3003 test rows; shares 1500.45, 900.27, 602.28: floors plus
-- the one left over to the largest remainder
check(ct[0] == 1501 and ct[1] == 900 and ct[2] == 602, string.format("stratified test counts %d %d %d", ct[0], ct[1], ct[2]))
check(cr[0] == 3499 and cr[1] == 2100 and cr[2] == 1405, "stratified training counts")
check(tes2:rows() == math.ceil(0.3 * n), "stratified total")

-- k-fold: each row in exactly one test fold, training = the others
local folds = wb.kfold(d, {folds = 4, seed = 3})
check(#folds == 4, "four folds")
local tests = {}
for f, fo in ipairs(folds) do
  tests[f] = fo.test
  check(fo.test:rows() == (f <= n % 4 and n // 4 + 1 or n // 4), "fold size " .. fo.test:rows())
  check(fo.train:rows() + fo.test:rows() == n, "train + test = all rows")
  partition_of({fo.train, fo.test}, n)
end
partition_of(tests, n)
-- stratified k-fold: per class, fold counts differ by at most one
local sf = wb.stratified_kfold(d, {folds = 3, seed = 9})
local totals = {}
for f, fo in ipairs(sf) do
  local c = class_counts(fo.test)
  check(c[0] >= 1666 and c[0] <= 1667 and c[1] == 1000 and c[2] >= 669 and c[2] <= 670, "stratified fold " .. f)
  totals[f] = fo.test:rows()
end
check(math.max(totals[1], totals[2], totals[3]) - math.min(totals[1], totals[2], totals[3]) <= 1, "balanced fold sizes")
local sf2 = wb.kfold(small, {folds = 3, seed = 9, stratify = true})
for f = 1, 3 do
  local a, b = ids(sf[f].test), ids(sf2[f].test)
  for i = 1, #a do check(a[i] == b[i], "folds do not depend on partitions") end
end

-- bad input
expect_error("bad argument #2 to 'kfold' (folds must be an integer from 2 to 10007 (the rows), got 1)", wb.kfold, d, {folds = 1})
expect_error("bad argument #2 to 'kfold' (folds must be an integer from 2 to 10007 (the rows), got 20000)", wb.kfold, d, {folds = 20000})
expect_error("bad argument #2 to 'kfold' (folds must be an integer from 2 to 10007 (the rows), got 2.5)", wb.kfold, d, {folds = 2.5})
expect_error("bad argument #2 to 'split' (test must be a fraction in (0, 1) or a number of rows, got 1.5)", wb.split, d, {test = 1.5})
expect_error("bad argument #2 to 'split' (test = 20000 leaves 20000 test and -9993 training rows of 10007)", wb.split, d, {test = 20000})
expect_error("bad argument #2 to 'split' (unknown option 'tset' (options: seed, stratify, test, test_size))", wb.split, d, {tset = 0.2})
expect_error("bad argument #1 to 'split' (dataset expected, got table)", wb.split, {1, 2, 3})
expect_error("bad argument #1 to 'split' (stratify needs labels; the dataset has none)", wb.split, wb.dataset(rows), {stratify = true})
lab[7] = 0.25
expect_error("split: label 0.25 at row 7 is not an integer class", wb.split, wb.dataset(rows, lab), {stratify = true})
lab[7] = 0
expect_error("bad argument #2 to 'repartition' (rows per partition must be a multiple of 4096, got 1000)", wb.repartition, d, 1000)

-- the scaler: zero mean, unit variance, inverse, options, errors
local g = wb.datagen.classification{n = 20000, features = 4, informative = 2, redundant = 1, seed = 1}
local sc = wb.fit("scaler", g)
local z = sc:transform(g)
check(z:has_labels(), "labels kept")
local desc = z:describe()
for j = 1, 4 do
  check(math.abs(desc[j].mean) < 1e-12, "mean 0")
  check(math.abs(desc[j].std * math.sqrt((20000 - 1) / 20000) - 1) < 1e-12, "population std 1")
end
local back = sc:inverse_transform(z)
local a, b = g:rows_table(1, 100), back:rows_table(1, 100)
for i = 1, 100 do for j = 1, 4 do check(math.abs(a[i][j] - b[i][j]) < 1e-12 * math.max(1, math.abs(a[i][j])), "inverse") end end
local nm = wb.fit("scaler", g, {with_mean = false}):transform(g):describe()
check(math.abs(nm[1].mean) > 1e-3, "with_mean = false keeps the mean")
local const = wb.fit("scaler", wb.dataset({{1, 2}, {1, 4}}))
check(const.scale[1] == 1 and const.scale[2] == 1, "a constant column gets scale 1")
expect_error("scaler: fitted on 4 columns, the data has 2", sc.transform, sc, wb.dataset({{1, 2}}))
expect_error("scaler: the data has NaN at row 2, column 1", wb.fit, "scaler", wb.dataset({{1, 2}, {0 / 0, 3}}))
expect_error("scaler: unknown parameter 'mean'", wb.fit, "scaler", g, {mean = true})

-- pipelines: the same as the steps by hand; saved and loaded; printed
local p = wb.pipeline{"scaler", {"logreg", {C = 0.5}}}
check(tostring(p) == "pipeline: scaler{} -> logreg{C=0.5}", tostring(p))
local pm = p:fit(g)
local by_hand = wb.fit("logreg", z, {C = 0.5})
local st = pm:steps()
for j = 1, 4 do check(st[2].coef[j] == by_hand.coef[j], "pipeline = scaler then logreg") end
local pp, hp = wb.core.labels(pm:predict(g)), wb.core.labels(by_hand:predict(z))
for i = 1, #pp do check(pp[i] == hp[i], "same predictions") end
check(pm:score(g) == by_hand:score(z), "pipeline score is the final step's accuracy")
local same_fit = wb.fit("logreg", g, {C = 0.5}, {scale = true})
check(same_fit:steps()[2].coef[1] == by_hand.coef[1], "wb.fit(..., {scale = true}) is the pipeline")
check(wb.fit(p, g):steps()[2].coef[2] == by_hand.coef[2], "wb.fit takes a pipeline")
check(wb.fit(p, g, {C = 2}):steps()[2].coef[1] ~= by_hand.coef[1], "parameters override a step's")
local path = os.tmpname()
pm:save(path)
local loaded = wb.load_model(path)
os.remove(path)
local lp = wb.core.labels(loaded:predict(g))
for i = 1, #lp do check(lp[i] == pp[i], "a loaded pipeline predicts the same") end
check(tostring(pm):find("pipeline model: scaler -> logreg", 1, true) and tostring(pm):find("converged after", 1, true), "pipeline printing")
local proba = pm:predict_proba(g)
check(proba:cols() == 2, "pipeline probabilities")
expect_error("bad argument #1 to 'pipeline' (step 1 (logreg) has no transform; only the last step may be any estimator)", wb.pipeline, {"logreg", "scaler"})
expect_error("bad argument #1 to 'pipeline' (step 2: no estimator named 'lgreg'", wb.pipeline, {"scaler", "lgreg"})
expect_error("logreg: parameter 'C' must be a number > 0, got 0", wb.pipeline, {"scaler", {"logreg", {C = 0}}})
expect_error("bad argument #3 to 'fit' ('alpha' is not a parameter of any step of the pipeline (scaler, logreg))", wb.fit, p, g, {alpha = 1})
expect_error("bad argument #4 to 'fit' (unknown option 'scaled' (options: scale))", wb.fit, "logreg", g, {}, {scaled = true})
print("select_split: ok")
