-- a labelled dataset of one feature column is a dataset, not a vector: every
-- dataset function keeps its column and its labels apart. d:labels() gave
-- the feature column (the binding took any one-column dataset for a vector),
-- and with_labels(d) then attached those features as labels.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq, expect_error = TL.check, TL.eq, TL.expect_error

local x, y = {}, {}
for i = 1, 10 do
  x[i] = {i * 10}
  y[i] = i % 2
end
local d = wb.dataset(x, y)
local tested = {}
local function col(v) -- the values of a vector or of a one-column dataset's column
  local rows = v:rows_table()
  local out = {}
  for i, r in ipairs(rows) do out[i] = string.format("%g", type(r) == "table" and r[1] or r) end
  return table.concat(out, ",")
end
local function list(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = string.format("%g", v) end
  return table.concat(out, ",")
end
local X, Y = "10,20,30,40,50,60,70,80,90,100", "1,0,1,0,1,0,1,0,1,0"

tested.rows = d:rows() == 10
tested.cols = d:cols() == 1
tested.partitions = d:partitions() == 1
tested.has_labels = d:has_labels()
tested.is_vector = not d:is_vector()
local r, l = d:row(3)
tested.row = type(r) == "table" and r[1] == 30 and l == 1
local rt, lt = d:rows_table(2, 3)
tested.rows_table = rt[1][1] == 20 and rt[2][1] == 30 and lt[1] == 0 and lt[2] == 1
local s = d:slice(2, 4)
tested.slice = s:rows() == 3 and s:has_labels() and col(s) == "20,30,40" and col(s:labels()) == "0,1,0"

-- the labels, not the column
local lab = d:labels()
check(lab:is_vector(), "labels() is a vector")
eq(col(lab), Y, "d:labels() of a one-column labelled dataset")
eq(list(wb.core.labels(d)), Y, "wb.core.labels of it")
tested.labels = true

-- with_labels: from a vector, from a table, from another one-column labelled dataset (its labels)
local flipped = {}
for i = 1, 10 do flipped[i] = 1 - y[i] end
local d2 = d:with_labels(flipped)
eq(col(d2:labels()), "0,1,0,1,0,1,0,1,0,1", "with_labels(table)")
eq(col(d2), X, "with_labels keeps the column")
local d3 = d2:with_labels(d)
eq(col(d3:labels()), Y, "with_labels(a one-column labelled dataset) takes its labels, not its column")
eq(col(d:with_labels(wb.vector(flipped)):labels()), "0,1,0,1,0,1,0,1,0,1", "with_labels(vector)")
check(not d:with_labels(nil):has_labels(), "with_labels(nil) drops them")
-- a one-column dataset without labels is a vector's values
local plain = wb.dataset(x)
eq(col(d:with_labels(plain):labels()), X, "with_labels(a one-column dataset without labels) takes its column")
expect_error("a vector, a labelled dataset or a table of numbers expected, got a dataset without labels",
             d.with_labels, d, wb.dataset({{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}}))
expect_error("the dataset has no labels", plain.labels, plain)
tested.with_labels = true

local desc = d:describe()
tested.describe = #desc == 1 and desc[1].mean == 55 and desc[1].count == 10 and desc[1].column == "x1"
tested.describe_raw = #d:describe_raw().mean == 1
tested.names = d:names()[1] == "x1"
tested.executor = d:executor() == "local"
local printed = wb.show(d)
check(printed:find("with labels", 1, true) or printed:find("label", 1, true), "the printed dataset shows its labels:\n" .. printed)
tested.show = true
tested.head = d:head(2):rows() == 2
-- the column operations keep the one column apart from the labels
local c1 = d:col(1)
tested.col = c1:is_vector() and col(c1) == X and col(d:col("x1")) == X
local sel = d:select{"x1"}
tested.select = sel:cols() == 1 and sel:has_labels() and col(sel) == X and col(sel:labels()) == Y
local dr = d:drop{"x1"}
tested.drop = dr:cols() == 0 and dr:has_labels() and dr:rows() == 10
local rn = d:rename{x1 = "a"}
tested.rename = rn:names()[1] == "a" and rn:has_labels() and col(rn) == X and col(rn:labels()) == Y
local wc = d:with_column("b", d:labels())
tested.with_column = wc:cols() == 2 and wc:names()[2] == "b" and wc:has_labels() and col(wc:labels()) == Y
  and wc:row(3)[1] == 30 and wc:row(3)[2] == 1
local fl = d:filter(d:labels())
tested.filter = fl:rows() == 5 and col(fl) == "10,30,50,70,90" and col(fl:labels()) == "1,1,1,1,1"
tested.types = #d:types() == 1 and d:types()[1] == "number"
tested.levels = d:levels(1) == nil
tested.label_name = d:label_name() == nil
tested.label_levels = d:label_levels() == nil
local vals, counts, missing = d:value_counts_raw(1)
tested.value_counts_raw = #vals == 10 and vals[1] == 10 and counts[1] == 1 and missing == 0
tested.value_counts = tostring(d:value_counts(1)):find("100", 1, true) ~= nil
local q = d:quantiles_raw{0.5}
tested.quantiles_raw = #q == 2 and q[1][1] == 55 and q[2][1] == 0.5 -- the column's median, then the labels'
local c = d:collect() -- in the local store already: itself
tested.collect = c:cols() == 1 and c:has_labels() and col(c) == X and col(c:labels()) == Y

-- through files and back: the column stays the column, the labels the labels
local dir = os.getenv("TMPDIR") or "/tmp"
local base = string.format("%s/wb_one_column_%d", dir, math.random(1 << 30))
local files = {}
TL.on_failure(function() for _, f in ipairs(files) do os.remove(f) end end)
for _, ext in ipairs{".csv", ".libsvm", ".npy"} do
  local p = base .. ext
  d:save(p)
  files[#files + 1] = p
  files[#files + 1] = p .. ".meta"
  if ext == ".npy" then files[#files + 1] = base .. ".labels.npy" end
  local back = wb.load(p)
  eq(back:cols(), 1, ext .. ": one column")
  check(back:has_labels(), ext .. ": labels kept")
  eq(col(back), X, ext .. ": the column")
  eq(col(back:labels()), Y, ext .. ": the labels")
end
tested.save = true

-- estimators and metrics on it
local m = wb.fit("logreg", d, {})
eq(#m.coef, 1, "one coefficient")
local acc = wb.metrics.accuracy(d, m:predict(d))
check(acc >= 0 and acc <= 1, "accuracy against its labels")
eq(wb.metrics.accuracy(d, d:labels()), 1.0, "its labels agree with themselves")
local tr, te = wb.split(d, {test = 0.3, seed = 1})
check(tr:cols() == 1 and te:cols() == 1 and tr:has_labels() and tr:rows() + te:rows() == 10, "split keeps the shape")
local g = wb.fit("gbdt", d, {n_trees = 2, min_samples_leaf = 1})
eq(col(g:predict(d)), col(wb.fit("gbdt", d:with_labels(d), {n_trees = 2, min_samples_leaf = 1}):predict(d)),
   "with_labels(d) on d is d")

local f = wb.dataset(x, y)
f:free()
expect_error("attempt to use a freed dataset", f.rows, f)
tested.free = true

-- every method of a dataset was exercised above
for k in pairs(getmetatable(d).__index) do
  check(tested[k] ~= nil, "dataset method '" .. k .. "' is not tested here")
  check(tested[k], "dataset method '" .. k .. "' failed on a one-column labelled dataset")
end
for _, p in ipairs(files) do os.remove(p) end
print("dataset_one_column: ok")
