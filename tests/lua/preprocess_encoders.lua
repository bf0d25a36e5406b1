-- preprocess: impute, onehot, ordinal and the scaler on a table with text
-- columns and missing values, each against scikit-learn 1.2 (SimpleImputer,
-- OneHotEncoder, OrdinalEncoder, ColumnTransformer + StandardScaler +
-- LogisticRegression on the same file: the numbers below are theirs), then
-- columns = {...}, unseen levels, separately loaded data, save/load, damaged
-- model files and bad parameters.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error, eq, near = TL.check, TL.expect_error, TL.eq, TL.near

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function path(name) return dir .. "/" .. name end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end
TL.on_failure(function() os.execute("rm -rf " .. dir) end)

spit(path("small.csv"), [[
color,size,weight,shape,y
red,1.5,10,circle,a
blue,NA,12,square,b
green,2.5,NA,circle,a
red,3.5,14,NA,b
NA,4.5,16,square,a
blue,5.5,18,circle,b
red,6.5,NA,triangle,a
green,NA,22,square,b
blue,8.5,24,circle,a
red,9.5,26,square,b
green,10.5,28,NA,a
red,11.5,30,circle,b
]])
local d = wb.load(path("small.csv"), {label = "y"})
eq(table.concat(d:types(), ","), "category,number,number,category", "column types")
local function names(x) return table.concat(x:names(), ",") end
local function row(x, i) local r = x:row(i); for k, v in ipairs(r) do r[k] = v ~= v and "nan" or tostring(v) end return table.concat(r, ",") end

-- ------------------------------------------------------------------ impute
local stats = {mean = {6.4, 20.0}, median = {6.0, 20.0}, most_frequent = {1.5, 10.0}} -- SimpleImputer.statistics_
for s, want in pairs(stats) do
  local m = wb.fit("impute", d, {strategy = s})
  check(#m.statistics == 2 and near(m.statistics[1], want[1], 1e-12) and near(m.statistics[2], want[2], 1e-12),
        s .. ": the fill values of size and weight")
  local t = m:transform(d)
  eq(names(t), names(d), s .. ": columns kept")
  eq(row(t, 2), "0.0," .. string.format("%.1f", want[1]) .. ",12.0,1.0", s .. ": row 2 filled, categories untouched")
  eq(row(t, 5), "nan,4.5,16.0,1.0", s .. ": a missing category stays missing")
end
-- exact medians and modes on many rows (several partitions, ties, signs,
-- missing values, a constant column), against sorting in Lua
do
  local x = 987654321
  local function rnd() x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648 end
  local rows, cols = {}, {{}, {}, {}, {}, {}}
  for i = 1, 30001 do
    local r = {(rnd() - 0.5) * 1e6, math.floor(rnd() * 7) - 3, rnd() < 0.3 and 0 / 0 or rnd() * 1e-300,
               rnd() < 0.5 and -0.0 or 2.5, 42}
    if i % 97 == 0 then r[1] = 0 / 0 end
    rows[i] = r
    for j = 1, 5 do if r[j] == r[j] then table.insert(cols[j], r[j]) end end
  end
  local big = wb.repartition(wb.dataset(rows), 8192)
  local med = wb.fit("impute", big, {strategy = "median"}).statistics
  local mode = wb.fit("impute", big, {strategy = "most_frequent"}).statistics
  for j = 1, 5 do
    local v = cols[j]
    table.sort(v)
    local n = #v
    local want = n % 2 == 1 and v[(n + 1) // 2] or (v[n // 2] + v[n // 2 + 1]) / 2
    check(med[j] == want, string.format("median of column %d: %.17g, sorting gives %.17g", j, med[j], want))
    local best, bestc, i = nil, 0, 1
    while i <= n do
      local k = i
      while k <= n and v[k] == v[i] do k = k + 1 end
      if k - i > bestc then best, bestc = v[i], k - i end
      i = k
    end
    check(mode[j] == best, string.format("mode of column %d: %.17g, counting gives %.17g", j, mode[j], best))
  end
end

-- categories: most_frequent (the smallest of ties) and constant
local mf = wb.fit("impute", d, {strategy = "most_frequent", columns = {"color", "shape"}})
eq(mf.fill_levels, '["red","circle"]', "most frequent levels (SimpleImputer: red, circle)")
local t = mf:transform(d)
eq(row(t, 5) .. ";" .. row(t, 4), "2.0,4.5,16.0,1.0;2.0,3.5,14.0,0.0", "missing color -> red (code 2), shape -> circle (0)")
local cst = wb.fit("impute", d, {strategy = "constant", columns = {1, "shape"}}):transform(d)
eq(table.concat(cst:levels("color"), ","), "blue,green,missing_value,red", "constant: a new level, levels sorted")
eq(row(cst, 5), "2.0,4.5,16.0,2.0", "missing color -> missing_value (code 2); square moves to code 2 in shape")
eq(row(cst, 4), "3.0,3.5,14.0,1.0", "missing shape -> missing_value (code 1)")
eq(row(cst, 1), "3.0,1.5,10.0,0.0", "red moves to code 3 beside the new level")
eq(row(wb.fit("impute", d, {strategy = "constant", fill_value = -1}):transform(d), 2), "0.0,-1.0,12.0,1.0", "constant number")
local ind = wb.fit("impute", d, {strategy = "median", add_indicator = true}):transform(d)
eq(names(ind), "color,size,weight,shape,size=NA,weight=NA", "indicators for the columns that had missing values")
eq(row(ind, 3), "1.0,2.5,20.0,0.0,0.0,1.0", "indicator of a filled value")

-- ------------------------------------------------------------------ onehot
local oh = wb.fit("onehot", d)
local o = oh:transform(d)
-- OneHotEncoder: color_blue, color_green, color_red, color_nan, shape_circle, ... shape_nan
eq(names(o), "color=blue,color=green,color=red,color=NA,size,weight,shape=circle,shape=square,shape=triangle,shape=NA",
   "indicator columns in place")
eq(row(o, 4), "0.0,0.0,1.0,0.0,3.5,14.0,0.0,0.0,0.0,1.0", "row 4 (red, shape missing)")
eq(row(o, 5), "0.0,0.0,0.0,1.0,4.5,16.0,0.0,1.0,0.0,0.0", "row 5 (color missing, square)")
check(o:has_labels() and o:label_name() == "y" and table.concat(o:label_levels(), ",") == "a,b", "labels and their names kept")
eq(names(wb.fit("onehot", d, {drop = "first"}):transform(d)),
   "color=green,color=red,color=NA,size,weight,shape=square,shape=triangle,shape=NA", "drop first")
eq(names(wb.fit("onehot", d, {min_frequency = 3}):transform(d)),
   "color=blue,color=green,color=red,color=(infrequent),size,weight,shape=circle,shape=square,shape=(infrequent)",
   "min_frequency 3: rare categories share a column (scikit-learn's infrequent_sklearn)")
eq(names(wb.fit("onehot", d, {max_categories = 2}):transform(d)), "color=red,color=(infrequent),size,weight,shape=circle,shape=(infrequent)",
   "max_categories 2")
eq(names(wb.fit("onehot", d, {min_frequency = 0.25}):transform(d)),
   "color=blue,color=green,color=red,color=(infrequent),size,weight,shape=circle,shape=square,shape=(infrequent)",
   "min_frequency as a fraction of the rows (0.25 x 12 = 3)")
-- an imputer first: no NA category
local imp_cat = wb.fit("impute", d, {strategy = "most_frequent", columns = {"color", "shape"}})
eq(names(wb.fit("onehot", imp_cat:transform(d)):transform(imp_cat:transform(d))),
   "color=blue,color=green,color=red,size,weight,shape=circle,shape=square,shape=triangle", "imputed first: no NA indicator")

-- ----------------------------------------------------------------- ordinal
local od = wb.fit("ordinal", d):transform(d)
-- OrdinalEncoder: [2, 0], [0, 1], [1, 0], [2, nan], [nan, 1]
eq(row(od, 1) .. ";" .. row(od, 4) .. ";" .. row(od, 5), "2.0,1.5,10.0,0.0;2.0,3.5,14.0,nan;nan,4.5,16.0,1.0", "ordinal codes")
eq(table.concat(od:types(), ","), "number,number,number,number", "codes are numbers")
local back = wb.fit("ordinal", d):inverse_transform(od)
eq(table.concat(back:types(), ","), "category,number,number,category", "inverse_transform gives categories back")
eq(table.concat(back:levels("shape"), ","), "circle,square,triangle", "the categories seen in training")

-- ------------------------------------------------- scaler with columns
local filled = wb.fit("impute", d):transform(d)
local sc = wb.fit("scaler", filled) -- the number columns only
check(#sc.mean == 2 and sc.columns[1] == 2 and sc.columns[2] == 3, "scaler: number columns by default")
expect_error("scaler: column 'size' has NaN in 2 rows (impute missing values first)", wb.fit, "scaler", d)
expect_error("scaler: column 'color' holds categories: encode it first (onehot or ordinal)", wb.fit, "scaler",
  filled, {columns = {"color"}})
local s2 = wb.fit("scaler", filled)
eq(names(s2:transform(filled)), names(d), "scaler keeps the names")
check(near(s2.mean[1], 6.4, 1e-12), "scaler mean of the imputed size")

-- -------------------------------------------- the pipeline vs scikit-learn
-- ColumnTransformer([median imputer on size, weight; OneHotEncoder on color,
-- shape]) + StandardScaler + LogisticRegression(C=1): coefficients by name
local pipe = wb.pipeline{{"impute", {strategy = "median"}}, "onehot", "scaler", {"logreg", {C = 1, tol = 1e-10}}}
local pm = pipe:fit(d)
local want = {size = 0.2058495576750504, weight = 0.06665058512350971, ["color=blue"] = 0.30931705158929873,
  ["color=green"] = -0.3472000556054906, ["color=red"] = 0.4398281764297209, ["color=NA"] = -0.7251989210565984,
  ["shape=circle"] = -0.3357221385313218, ["shape=square"] = 0.722028930410583, ["shape=triangle"] = -0.6405999817412277,
  ["shape=NA"] = 0.005897922975543953}
local lr = pm:steps()[4]
local fnames = wb.show and require("wb.show").json_list(lr.feature_names)
for j, n in ipairs(fnames) do
  check(near(lr.coef[j], want[n], 2e-5), string.format("coefficient of %s: %.8f vs scikit-learn %.8f", n, lr.coef[j], want[n]))
end
check(near(lr.intercept[1], 0.04530255833346637, 2e-5), "intercept")
local pr = pm:predict_proba(d)
eq(names(pr), "a,b", "probability columns named by class")
check(near(pr:row(2)[2], 0.8821541758435046, 1e-5), "P(b | row 2) as scikit-learn's")
local pred = pm:predict(d)
check(pred:is_vector() and pred:label_name() == nil and pred:names()[1] == "y", "predictions are named after the labels")
eq(table.concat(pred:levels(), ","), "a,b", "predictions hold the class names")
check(pm:score(d) == wb.metrics.accuracy(d, pred), "score")
check(tostring(pm):find("color=NA", 1, true) and tostring(pm):find("2 classes (a, b)", 1, true), "printout with names")

-- saved and loaded: the same predictions
pm:save(path("p.wbm"))
local pl = wb.load_model(path("p.wbm"))
eq(table.concat(wb.core.labels(pl:predict(d)), ","), table.concat(wb.core.labels(pred), ","), "a loaded pipeline predicts the same")

-- grid search reaches a step's parameters
-- (handle_unknown = "ignore": some folds' training rows have no missing color)
local pipe = wb.pipeline{{"impute", {strategy = "median"}}, {"onehot", {handle_unknown = "ignore"}}, "scaler", {"logreg", {C = 1, tol = 1e-10}}}
local g = wb.gridsearch(pipe, d, {["impute.strategy"] = {"mean", "median"}, C = {0.1, 1}}, {folds = 3})
check(#g.results == 4 and g.best_params["impute.strategy"], "gridsearch over impute.strategy")
-- each fold's task sees the columns' types and levels: its score is the one
-- of the pipeline fitted on that fold here (it was not, when the tasks lost them)
local folds = wb.kfold(d, {folds = 3, seed = 0, stratify = true})
local g1 = wb.gridsearch(pipe, d, {C = {1}}, {folds = 3, refit = false, metric = "log_loss"}).results[1]
for f = 1, 3 do
  local fm = pipe:fit(folds[f].train)
  local direct = wb.metrics.log_loss(folds[f].test, fm:predict_proba(folds[f].test))
  check(near(g1["fold" .. f], direct, 1e-12), string.format("fold %d: gridsearch %.9f, direct %.9f", f, g1["fold" .. f], direct))
end

-- ----------------------------------- data loaded separately: levels by text
spit(path("test.csv"), "color,size,weight,shape,y\nred,2,11,square,b\nblue,3,12,circle,a\ngreen,NA,13,square,b\n")
local te = wb.load(path("test.csv"), {label = "y"})
eq(table.concat(te:levels("color"), ","), "blue,green,red", "the test file's own levels")
local ot = oh:transform(te)
eq(row(ot, 1), "0.0,0.0,1.0,0.0,2.0,11.0,0.0,1.0,0.0,0.0", "red and square found by their text")
check(#wb.core.labels(pm:predict(te)) == 3, "the pipeline predicts separately loaded rows")
-- a file whose labels hold one class only: accuracy by class name (codes differ)
spit(path("onlyb.csv"), "color,size,weight,shape,y\nblue,2,12,square,b\nred,9.5,26,square,b\n")
local tb = wb.load(path("onlyb.csv"), {label = "y"})
local pb = pm:predict(tb)
local same = 0
for i, c in ipairs(wb.core.labels(pb)) do if pb:levels()[c + 1] == "b" then same = same + 1 end end
check(pm:score(tb) == same / 2 and wb.metrics.accuracy(tb, pb) == same / 2,
      "score and accuracy compare class names: " .. pm:score(tb) .. " " .. same)
spit(path("unseen.csv"), "color,size,weight,shape,y\nred,2,11,square,b\npurple,3,12,circle,a\n")
local un = wb.load(path("unseen.csv"), {label = "y"})
expect_error("onehot: column 'color' has level \"purple\" at row 2, unseen in training (handle_unknown = \"error\")", oh.transform, oh, un)
local ig = wb.fit("onehot", d, {handle_unknown = "ignore"}):transform(un)
eq(row(ig, 2), "0.0,0.0,0.0,0.0,3.0,12.0,1.0,0.0,0.0,0.0", "handle_unknown = ignore: all zeros")
expect_error("ordinal: column 'color' has level \"purple\" at row 2, unseen in training", wb.fit("ordinal", d).transform, wb.fit("ordinal", d), un)
eq(row(wb.fit("ordinal", d, {handle_unknown = "use_encoded_value", unknown_value = -1}):transform(un), 2), "-1.0,3.0,12.0,0.0",
   "use_encoded_value")
-- a missing value unseen in training
local nomiss = wb.fit("onehot", te, {columns = {"color"}})
spit(path("na.csv"), "color,size,weight,shape,y\nNA,2,11,square,b\n")
expect_error("onehot: column 'color' has a missing value at row 1, unseen in training", nomiss.transform, nomiss,
  wb.load(path("na.csv"), {label = "y", dtype = {color = "category"}}))
-- columns in another order or with other names
spit(path("renamed.csv"), "colour,size,weight,shape,y\nred,2,11,square,b\n")
expect_error("onehot: column 1 of the data is \"colour\", the model was fitted with \"color\" there", oh.transform, oh,
  wb.load(path("renamed.csv"), {label = "y"}))

-- ------------------------------------------------------ bad parameters
expect_error("impute: parameter 'strategy' must be one of \"mean\", \"median\", \"most_frequent\", \"constant\", got \"mode\"",
  wb.fit, "impute", d, {strategy = "mode"})
expect_error("impute: parameter 'columns': no column named \"colr\" (columns: \"color\", \"size\", \"weight\", \"shape\")",
  wb.fit, "impute", d, {columns = {"colr"}})
expect_error("impute: parameter 'columns': column 9 is out of range (the data has 4 columns)", wb.fit, "impute", d, {columns = {9}})
expect_error("impute: parameter 'columns' names column \"size\" twice", wb.fit, "impute", d, {columns = {"size", 2}})
expect_error("impute: strategy \"median\" needs numbers; column 'color' holds categories (use most_frequent or constant)",
  wb.fit, "impute", d, {strategy = "median", columns = {"color"}})
expect_error("impute: fill_value \"x\" is text; column 'size' holds numbers", wb.fit, "impute", d,
  {strategy = "constant", fill_value = "x", columns = {"size"}})
expect_error("onehot: column 'size' holds numbers; onehot encodes category columns", wb.fit, "onehot", d, {columns = {"size"}})
expect_error("onehot: parameter 'handle_unknown' must be one of \"error\", \"ignore\", got \"skip\"", wb.fit, "onehot", d,
  {handle_unknown = "skip"})
expect_error("onehot: parameter 'min_frequency' must be a count (an integer >= 1) or a fraction below 1, got 2.5",
  wb.fit, "onehot", d, {min_frequency = 2.5})
expect_error("onehot: parameter 'columns' must be a list of column names or 1-based indices, got 1.5", wb.fit, "onehot", d,
  {columns = 1.5})
expect_error("logreg: column 'color' holds categories: encode it first", wb.fit, "logreg", filled)

-- ------------------------------------------ damaged model files are refused
local function damaged(m, field, value, want)
  local f = path("bad.wbm")
  m:save(f)
  local c = wb.load_model(f)
  c:set(field, value)
  c:save(f)
  local ok, err = pcall(function() return wb.load_model(f):transform(d) end)
  check(not ok and tostring(err):find(want, 1, true), field .. ": " .. tostring(err))
end
damaged(oh, "categories", '["blue"', "onehot: the model's 'categories' is malformed")
damaged(oh, "categories", '[["red","blue"],["circle"]]', "do not fit together")
damaged(oh, "slots", {0, 1, 2, 3, 9, 0, 1, 2, 3}, "do not fit together")
damaged(oh, "widths", {4, 70000}, "do not fit together")
damaged(oh, "columns", {1, 1}, "onehot: the model's columns are malformed")
damaged(oh, "n_features", 3, "onehot: fitted on 3 columns, the data has 4")
damaged(wb.fit("ordinal", d), "categories", '[["b","a"],["x"]]', "ordinal: the model's categories do not fit its columns")
damaged(wb.fit("impute", d), "statistics", {1}, "impute: the model's statistics do not fit its columns")
damaged(wb.fit("impute", d, {add_indicator = true}), "indicator_columns", {7}, "impute: the model's indicator_columns are malformed")

os.execute("rm -rf " .. dir)
