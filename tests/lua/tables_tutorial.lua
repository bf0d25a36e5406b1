-- tables_tutorial: the README's "Real tables" steps, as written there, on
-- palmerpenguins' penguins.csv (Debian's r-cran-palmerpenguins; scripts/
-- setup.sh --test installs it): what the README shows is what wb does.
-- Expected values from pandas.read_csv of the same file (value counts of
-- island, missing values of sex, the columns and the species).
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq = TL.check, TL.eq
local SH = require "wb.show"

local path = "/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv"
local f = io.open(path, "rb")
if not f then error("tables_tutorial: " .. path .. " is absent: install Debian's r-cran-palmerpenguins (scripts/setup.sh --test does)") end
f:close()

local function list_eq(got, want, what)
  eq(table.concat(got, ","), table.concat(want, ","), what)
end

local d = wb.load(path, {label = "species"})
list_eq(d:names(), {"island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"},
        "the columns (pandas: species is the first)")
list_eq(d:types(), {"category", "number", "number", "number", "number", "category", "number"}, "the types")
eq(d:label_name(), "species", "the label's name")
list_eq(d:label_levels(), {"Adelie", "Chinstrap", "Gentoo"}, "the classes (pandas: sorted unique species)")
local r = d:describe()
eq(r[6].column, "sex", "describe: sex")
eq(r[6].missing, 11, "describe: sex has 11 missing values (pandas isna().sum())")
eq(r[2].missing, 2, "describe: bill_length_mm has 2")
local vc = d:value_counts("island")
local got = {}
for i, row in ipairs(vc) do got[i] = row.value .. "=" .. row.count end
list_eq(got, {"Biscoe=168", "Dream=124", "Torgersen=52"}, "value_counts (pandas' value_counts)")
eq(d:select{"island", "sex"}:cols(), 2, "select")
eq(d:drop{"year"}:cols(), 6, "drop")
eq(#d:col("body_mass_g"), 344, "col")
list_eq(d:levels("island"), {"Biscoe", "Dream", "Torgersen"}, "levels")

local train, test = wb.split(d, {test = 0.25, seed = 1})
local pipe = wb.pipeline{{"impute", {strategy = "median"}}, "onehot", "scaler", {"logreg", {C = 1}}}
local g = wb.gridsearch(pipe, train, {["impute.strategy"] = {"mean", "median"}, C = {0.1, 1}}, {folds = 5})
eq(#g.results, 4, "4 candidates")
local m = g.best_model
check(m:score(test) > 0.95, "the pipeline's held-out accuracy: " .. m:score(test))
local p = m:predict(test:slice(1, 3))
local classes = {Adelie = true, Chinstrap = true, Gentoo = true}
local shown = SH.value(p) -- as the prompt prints it
check(shown:find("^Vector of 3: %[") ~= nil, "predict: a vector of 3: " .. shown)
for name in shown:match("%[(.*)%]"):gmatch("[^, ]+") do check(classes[name], "predict returns class names: " .. shown) end
local pp = m:predict_proba(test:slice(1, 3))
list_eq(pp:names(), {"Adelie", "Chinstrap", "Gentoo"}, "predict_proba's columns are the classes")
for i = 1, 3 do
  local row = pp:row(i)
  check(math.abs(row[1] + row[2] + row[3] - 1) < 1e-9, "probabilities sum to 1")
end
local b = wb.fit("gbdt", train, {n_trees = 100})
check(b:score(test) > 0.95, "gbdt on category columns and missing values: " .. b:score(test))
print(string.format("tables_tutorial: ok (pipeline %.4f, gbdt %.4f held out)", m:score(test), b:score(test)))
