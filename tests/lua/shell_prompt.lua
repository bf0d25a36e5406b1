-- shell_prompt.lua — the prompt's machinery as Lua functions (what the
-- wb> prompt and a notebook kernel call): help finds every public name by
-- its last part and lists a module, says "did you mean", wraps to a width;
-- ?name and name? are help; completion by context at any place of a line
-- (estimator names in wb.fit(" and help(", column names in columns = {",
-- metric names, parameter names, files); the printouts: a gbdt model's
-- summary with feature names, records exported in a sensible column order,
-- a bench speedup of a kind measured once compared with the smallest of all.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq = TL.check, TL.eq
local H = require "wb.help"
local C = require "wb.complete"
local SH = require "wb.show"
wb.quiet(true)

local function has(text, pat, what)
  check(text:find(pat) ~= nil, string.format("%s: no %q in:\n%s", what, pat, text))
end

-- ----------------------------------------------------------------- help
has(H.text("scatter"), "^wb%.plot%.scatter%(data2d", "help('scatter')")
has(H.text("roc_auc"), "^wb%.metrics%.roc_auc%(truth, score%)", "help('roc_auc')")
has(H.text("plot.scatter"), "^wb%.plot%.scatter%(", "help('plot.scatter')")
has(H.text("r2"), "^wb%.metrics%.r2%(truth, pred%)", "help('r2')")
local mod = H.text("metrics")
has(mod, "^wb%.metrics: %d+ functions", "help('metrics') lists the module")
for _, f in ipairs{"accuracy", "roc_auc", "log_loss", "mse", "rmse", "mae", "r2", "davies_bouldin"} do
  has(mod, "\nwb%.metrics%." .. f .. "%(", "help('metrics') lists " .. f)
end
eq(H.text(wb.metrics), mod, "help(wb.metrics) is help('metrics')")
has(H.text("datagen"), "wb%.datagen%.regression", "help('datagen') lists the sources")
has(H.text("regression"), "^wb%.datagen%.regression %(data source%)", "help('regression')")
has(H.text("collect"), "^d:collect%(%)", "help('collect')")
has(H.text("kmean"), "^no help for 'kmean' %(did you mean help%(\"kmeans\"%)%?", "did you mean, for help")
has(H.text("nosuchthingatall"), "^no help for 'nosuchthingatall' %(help%(%) lists what there is%)$", "unknown")
-- every topic the completion offers has help
for _, t in ipairs(H.topics()) do
  check(not H.text(t):find("^no help for"), "topic without help: " .. t)
end
-- wrapped to a width: no line longer, every word kept
for _, name in ipairs{"logreg", "kmeans", "gbdt", "wb.load", "metrics", nil} do
  local wide, narrow = H.text(name), H.text(name, 80)
  for line in (narrow .. "\n"):gmatch("(.-)\n") do
    local long = line:match("%S+$") or ""
    check(#line <= 80 or #long > 40, string.format("help(%s) at 80 columns: a line of %d: %s", tostring(name), #line, line))
  end
  local function words(s) local n = 0 for _ in s:gmatch("%S+") do n = n + 1 end return n end
  eq(words(narrow), words(wide), "help(" .. tostring(name) .. ") keeps every word when wrapped")
end
check(#H.text("logreg"):match("[^\n]*allowed[^\n]*") > 80, "unwrapped without a width (a script)")
-- ?name and name?
eq(H.query("?kmeans"), "kmeans", "?kmeans")
eq(H.query("  ? wb.plot.scatter "), "wb.plot.scatter", "? wb.plot.scatter")
eq(H.query("roc_auc?"), "roc_auc", "roc_auc?")
eq(H.query("d:describe?"), "d:describe", "d:describe?")
eq(H.query("x = 1"), nil, "not a question")
eq(H.query("a ? b"), nil, "not a question either")

-- ------------------------------------------------------------ completion
d = wb.datagen.blobs{n = 100, features = 3, centers = 2, seed = 1}
d:names({"island", "bill", "flipper"})
km = wb.fit("kmeans", d, {k = 2})
local function line(text, cursor)
  local c, start, quote, kind = C.line(text, cursor)
  return table.concat(c, " "), start, quote, kind
end
local c, start, quote = line('m = wb.fit("km')
eq(c, "kmeans", "wb.fit(\" offers estimators")
eq(start, 12, "they replace the string's text")
eq(quote, '"', "inside a double-quoted string")
eq((line("wb.gridsearch('lo")), "logreg", "wb.gridsearch(' offers estimators")
eq((line('p = wb.pipeline{"scaler", {"lo')), "logreg", "a pipeline's steps")
eq((line('help("roc')), "roc_auc", "help(\" offers topics")
c = line('help("sc')
check(c:find("scaler") and c:find("scatter"), "help(\"sc: scaler and scatter: " .. c)
eq((line('wb.fit("kmeans", d, {columns = {"fl')), "flipper", "columns = {\" offers the dataset's columns")
eq((line('wb.fit("kmeans", d, {columns = {"island", "')), "island bill flipper", "the next column (in the data's order)")
eq((line('x = d:col("is')), "island", "d:col(\" offers its columns")
eq((line('wb.gridsearch("kmeans", d, {k = {2, 3}}, {metric = "sil')), "silhouette", "metric = \" offers metrics")
eq((line('wb.gridsearch("gbdt", d, {}, {metric = "r')), "r2 recall recall_macro recall_weighted rmse roc_auc", "regression metrics too")
eq((line('wb.fit("kmeans", d, {max_')), "max_iter = ", "parameter names of the estimator")
eq((line('wb.datagen.blobs{cen')), "centers = ", "parameter names of a data source")
-- a CSV file's header, for wb.load(path, {columns = {"...
local csv = os.tmpname() .. ".csv"
local f = assert(io.open(csv, "w"))
f:write("species,island,bill_length\nA,x,1.5\n")
f:close()
eq((line('p = wb.load("' .. csv .. '", {label = "sp')), "species", "label = \" offers the file's columns")
eq((line('p = wb.load("' .. csv .. '", {columns = {"b')), "bill_length", "columns of the file")
-- files in other strings (folders end in /)
local base = csv:match("^(.*/)")
local _, _, _, kind = line('x = wb.load("' .. base)
eq(kind, "files", "a path")
c = line('x = wb.load("' .. csv:sub(1, -3))
eq(c, csv, "the file")
os.remove(csv)
-- a model's own methods only
c = line("km:")
check(c:find("km:predict(", 1, true) and not c:find("km:steps(", 1, true), "k-means' methods, not a pipeline's: " .. c)
-- words as before; the cursor inside the line
eq((line("wb.fi")), "wb.fit(", "a word")
eq((line("x = wb.fi(3)", 8)), "wb.fit(", "at the cursor")
eq((line("-- wb.fi")), "", "nothing in a comment")
eq(select(2, C.line("d:desc")), 0, "start of the word")

-- ------------------------------------------------------------ printouts
-- a gbdt model: a summary with feature names, not its node matrix
local gd = wb.datagen.classification{n = 3000, features = 3, informative = 3, redundant = 0, seed = 4}
gd:names({"island", "bill", "flipper"})
local g = wb.fit("gbdt", gd, {n_trees = 5, max_leaves = 4})
local s = SH.value(g)
-- the leaves counted from the node matrix (feature 0 marks a leaf)
local leaves = 0
for _, row in ipairs(g.trees) do if row[1] == 0 then leaves = leaves + 1 end end
check(leaves > 5, "the trees split")
has(s, "^gbdt model: binary classification, 2 classes %(0, 1%)\n", "gbdt title")
has(s, "\n  5 trees, " .. leaves .. " leaves %(" .. string.format("%.1f", leaves / 5):gsub("%.", "%%.") .. " a tree%), depth ", "trees, leaves, depth")
has(s, "\n  learning_rate=0%.1, max_leaves=4\n", "the parameters that matter")
has(s, "\n  fitted on 3,000 rows x 3 features; training loss ", "rows and loss")
has(s, "\n  features by importance:\n    feature%s+gain%s+share %%%s+splits\n", "importance table")
check(s:find("island") or s:find("bill") or s:find("flipper"), "feature names: " .. s)
check(not s:find("trees%s+%[%d+ x 8%]"), "no raw node matrix: " .. s)
eq(tostring(g), s, "print(m) is the same")
-- k-means: converged yes/no
-- (the keys are aligned to the longest one: feature_names, the model keeping
-- the names of the columns it was fitted on)
has(SH.value(km), "\n  converged%s+yes\n", "converged reads yes")
has(SH.value(km), '\n  feature_names%s+%["island","bill","flipper"%]', "k-means keeps the column names")
-- records exported: given columns, then text, then numbers
local out = os.tmpname() .. ".csv"
wb.export({{accuracy = 0.9, estimator = "logreg", fit_s = 1.5}, {accuracy = 0.8, estimator = "sgd", fit_s = 0.5}}, out)
eq(io.open(out):read("l"), "estimator,accuracy,fit_s", "records: text first, then numbers")
wb.export({{accuracy = 0.9, estimator = "logreg", fit_s = 1.5}}, out, {columns = {"fit_s"}})
eq(io.open(out):read("l"), "fit_s,estimator,accuracy", "the columns given first")
os.remove(out)
-- plural
eq(SH.plural(1, "class"), "1 class", "one class")
eq(SH.plural(3, "class"), "3 classes", "classes")
eq(SH.plural(1, "partition") .. " " .. SH.plural(2, "thread"), "1 partition 2 threads", "partition, threads")
-- bench: a kind measured in one configuration (one cluster size) is
-- compared with the smallest configuration of all, and the chart says so
local res = wb.bench{workloads = {"describe"}, sizes = {4096}, executors = {"local:1", "local:2", "cluster:2"}, repeats = 1}
local by = {}
for _, row in ipairs(res) do by[row.executor] = row end
eq(by["local:2"].baseline, "local:1", "threads against one thread")
eq(by["cluster:2"].baseline, "local:1", "a single cluster size against the smallest of all")
check(math.abs(by["cluster:2"].speedup - by["local:1"].median_s / by["cluster:2"].median_s) < 0.01, "its speedup")
local svg = res:plot_speedup{}
check(svg:find(">describe cluster %(vs local:1%)<"), "the chart names the baseline")
check(not svg:find(">describe local %(vs"), "local needs no note")
print("shell_prompt: ok")
