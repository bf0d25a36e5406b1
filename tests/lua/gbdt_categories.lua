-- gbdt on category columns: splits on sets of categories (as scikit-learn's
-- HistGradientBoosting with categorical_features and LightGBM), missing
-- values as a category of their own, unseen levels at prediction taken as
-- missing, the same model on any partitioning, save/load, class names, and
-- damaged model files refused.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error, eq = TL.check, TL.expect_error, TL.eq

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

-- the class is "yes" exactly for the levels b, d, f and for missing values:
-- one split on a set of categories separates the classes, no threshold on
-- the level codes (a, b, c, ... in order) does
local levels = {"a", "b", "c", "d", "e", "f"}
local pos = {b = true, d = true, f = true}
local lines = {"c,noise,y"}
local x = 12345
local function rnd() x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648 end
for i = 1, 12000 do
  local c = i % 13 == 0 and "NA" or levels[i % 6 + 1]
  local yes = c == "NA" or pos[c]
  lines[#lines + 1] = string.format("%s,%.4f,%s", c, rnd(), yes and "yes" or "no")
end
spit(path("cat.csv"), table.concat(lines, "\n") .. "\n")
local d = wb.load(path("cat.csv"), {label = "y"})
eq(table.concat(d:types(), ","), "category,number", "a category column and a number column")

local one = {n_trees = 1, max_leaves = 2, learning_rate = 1, min_samples_leaf = 1}
local m = wb.fit("gbdt", d, one)
check(m:score(d) == 1, "one split on a set of categories separates the classes: " .. m:score(d))
local ord = wb.pipeline{"ordinal", {"gbdt", one}}:fit(d)
check(ord:score(d) < 0.8, "the same split on ordinal codes cannot: " .. ord:score(d))
-- the model says which codes go left
eq(m.feature_levels, '[["a","b","c","d","e","f"],null]', "feature_levels")
check(m.categorical[1] == 1 and m.categorical[2] == 0, "categorical flags")
local root = m.trees[1]
check(root[1] == 1 and root[2] ~= root[2], "the root splits column 1 on a set (threshold NaN)")
local cs = m.cat_splits
check(cs[1] == 1 and cs[2] == 3, "cat_splits: the root row, three codes")
local set = {}
for k = 3, 2 + cs[2] do set[#set + 1] = levels[cs[k] + 1] end
local left = table.concat(set, ",")
check(left == "b,d,f" or left == "a,c,e", "the set is {b, d, f} or its complement: " .. left)
check((root[3] == 1) == (left == "b,d,f"), "missing values go with b, d, f")

-- predictions: class names, unseen levels as missing
local pred = m:predict(d)
eq(table.concat(pred:levels(), ","), "no,yes", "predictions hold the class names")
eq(pred:names()[1], "y", "predictions are named after the labels")
spit(path("new.csv"), "c,noise,y\nb,0.5,yes\nzzz,0.5,yes\na,0.1,no\nNA,0.3,yes\n")
local nd = wb.load(path("new.csv"), {label = "y"})
local p = wb.core.labels(m:predict(nd))
local lv = m:predict(nd):levels()
eq(lv[p[1] + 1] .. lv[p[2] + 1] .. lv[p[3] + 1] .. lv[p[4] + 1], "yesyesnoyes", "b -> yes, unseen zzz -> as missing -> yes, a -> no")
check(m:score(nd) == 1, "score on separately loaded rows (their own levels)")
-- a file whose label levels differ: scored by class name
spit(path("onlyyes.csv"), "c,noise,y\nb,0.5,yes\nd,0.5,yes\n")
check(m:score(wb.load(path("onlyyes.csv"), {label = "y"})) == 1, "labels matched by name, not code")

-- the same model whatever the partitioning and threads
local trees = table.concat(m.trees[2], ",")
local m4 = wb.fit("gbdt", wb.repartition(d, 4096), one)
eq(table.concat(m4.trees[2], ","), trees, "the same tree over 3 partitions")
local big = {n_trees = 20, max_leaves = 8}
local a, b = wb.fit("gbdt", d, big), wb.fit("gbdt", wb.repartition(d, 4096), big)
local function flat(ds) local out = {} for _, r in ipairs(ds:rows_table(1, ds:rows())) do out[#out + 1] = table.concat(r, " ") end return table.concat(out, ",") end
eq(flat(a:predict_proba(d)), flat(b:predict_proba(d)), "20 trees: the same probabilities over 1 or 3 partitions")
-- the training loss the fit kept (scores moved by the partitions' row
-- splits) is the loss of the model's own predictions (predict.c's walk)
local pr, y, loss = a:predict_proba(d):rows_table(1, d:rows()), wb.core.labels(d), 0
for i = 1, #y do loss = loss - math.log(pr[i][y[i] + 1]) end
check(math.abs(a.train_loss[#a.train_loss] - loss / #y) < 1e-9,
      string.format("training loss %.12g = the loss of the predictions %.12g", a.train_loss[#a.train_loss], loss / #y))
check(#a.trees == #b.trees and table.concat(a.cat_splits, ",") == table.concat(b.cat_splits, ","), "the same category splits")

-- save and load
m:save(path("m.wbm"))
local ml = wb.load_model(path("m.wbm"))
eq(table.concat(wb.core.labels(ml:predict(nd)), ","), table.concat(p, ","), "a loaded model predicts the same")
local imp = wb.gbdt.importance(a)
eq(imp[1].name, "c", "importance names the column")

-- bad input
expect_error("gbdt: column 'c' has 7 categories, more than max_bins (4)", wb.fit, "gbdt",
  wb.load(path("cat.csv"), {label = "y", na_values = {}}), {max_bins = 4})
spit(path("num.csv"), "c,noise,y\n1,0.5,yes\n2,0.5,no\n")
expect_error("gbdt: column 'c' holds numbers in the data, categories when the model was fitted", m.predict, m,
  wb.load(path("num.csv"), {label = "y"}))
local function damaged(field, value, want)
  local f = path("bad.wbm")
  m:save(f)
  local c = wb.load_model(f)
  c:set(field, value)
  c:save(f)
  local ok, err = pcall(function() return wb.load_model(f):predict(nd) end)
  check(not ok and tostring(err):find(want, 1, true), field .. ": " .. tostring(err))
end
local bad = "gbdt: the model's category splits (categorical, feature_levels, cat_splits) are malformed"
damaged("cat_splits", {1, 3, 1, 3, 9}, bad)       -- code 9 of 6 levels
damaged("cat_splits", {1, 5, 1, 3}, bad)          -- more codes than listed
damaged("cat_splits", {2, 1, 0}, bad)             -- a set for a leaf, none for the root
damaged("feature_levels", '[["b","a"],null]', bad) -- levels out of order
damaged("feature_levels", '[["a"]', bad)
damaged("categorical", {1, 2}, bad)

os.execute("rm -rf " .. dir)
