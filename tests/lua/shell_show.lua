-- shell_show.lua — what the wb> prompt prints (wb.show): datasets with a
-- shape line, column names, aligned columns, the middle rows and columns
-- left out; vectors; result tables; models; Lua values; numbers written
-- alike down a column. Printing a 1M-row dataset fetches only the rows shown.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local show = require "wb.show"
local T = require "wb.table"
wb.plugin.load(os.getenv("WB_TEST_PLUGIN_DIR") .. "/shell_demo.so")

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  return t
end
local eq = TL.eq

-- numbers in a column share their decimals; integers stay integers
local f = T.format_numbers
eq(table.concat(f({1, 2.5, 3}), "|"), "1.0|2.5|3.0", "mixed column")
eq(table.concat(f({1, 2, 30}), "|"), "1|2|30", "integer column")
eq(table.concat(f({0.1 + 0.2, 1.25}), "|"), "0.30|1.25", "noisy decimals")
eq(table.concat(f({1 / 3}), "|"), "0.333333", "six places at most")
eq(table.concat(f({1e-7, 2e-6}), "|"), "1e-07|2e-06", "small numbers in scientific notation")
eq(table.concat(f({1.5e12, 2.5}), "|"), "1.5e+12|2.5e+00", "large numbers in scientific notation")
eq(table.concat(f({1000000.3}), "|"), "1000000.3", "no exponent below 1e9")
eq(table.concat(f({0 / 0, math.huge, -math.huge, 1.5}), "|"), "nan|inf|-inf|1.5", "special values")
local holes = f({1, nil, 2.5}, 3)
eq(holes[1] .. "|" .. tostring(holes[2]) .. "|" .. holes[3], "1.0|nil|2.5", "holes stay holes")
eq(show.value(0.1 + 0.2), "0.3", "one number")
eq(show.value(12345678), "12345678", "an integer")

-- a 1M-row dataset: only the shown rows are fetched from the executor
local d = wb.datagen.shelldemo{n = 1000000, features = 12}
local D = debug.getregistry()["wb.Dataset"].__index
local real = D.rows_table
local fetched, calls = 0, 0
D.rows_table = function(self, a, b)
  calls = calls + 1
  fetched = fetched + (b - a + 1)
  return real(self, a, b)
end
-- and no method that goes over all the rows runs (counted, not timed): only
-- the shape, the names and the columns' metadata kept beside the dataset
-- (types, category levels, the label's name and levels) are asked for
-- besides the rows shown
local methods, asked = {}, {}
for name, fn in pairs(D) do
  if type(fn) == "function" and name ~= "rows_table" then
    methods[name] = fn
    D[name] = function(...) asked[name] = (asked[name] or 0) + 1; return fn(...) end
  end
end
local s = show.value(d)
D.rows_table = real
for name, fn in pairs(methods) do D[name] = fn end
eq(fetched, 10, "rows fetched to print a 1M-row dataset")
assert(calls <= 2, "rows fetched in " .. calls .. " reads")
local cheap = {rows = true, cols = true, partitions = true, has_labels = true, names = true, is_vector = true,
               types = true, levels = true, label_levels = true, label_name = true}
for name, k in pairs(asked) do
  assert(cheap[name], "printing a 1M-row dataset called d:" .. name .. "() (" .. k .. " times)")
end
local L = lines(s)
eq(#L, 13, "lines for a 1M-row dataset")
eq(L[1], "Dataset: 1,000,000 rows x 12 columns, labelled (245 partitions)", "shape line")
assert(L[2]:match("^%s+x1%s+x2%s+x3%s+x4%s+%.%.%.%s+x9%s+x10%s+x11%s+x12%s+label$"), "column names: " .. L[2])
assert(L[3]:match("^%s+1%s+1%.1%s+1%.2%s+1%.3%s+1%.4%s+%.%.%.%s+1%.9%s+2%s+2%.1%s+2%.2%s+1$"), "first row: " .. L[3])
assert(L[8]:match("^%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.%s+%.%.%.$"), "middle: " .. L[8])
assert(L[13]:match("^1,000,000%s+1000000%.1%s+1000000%.2%s+1000000%.3%s+1000000%.4%s+%.%.%.%s+1000000%.9%s+1000001%s+1000001%.1%s+1000001%.2%s+0$"),
       "last row: " .. L[13])
for i = 3, 13 do eq(#L[i], #L[2], "aligned line " .. i) end

-- fewer rows than the limit: all of them, no "..."
local small = wb.dataset({{1, -2.5}, {10, 3}, {100, 0.125}}):names({"alpha", "b"})
L = lines(show.value(small))
eq(L[1], "Dataset: 3 rows x 2 columns (1 partition)", "small shape line")
eq(L[2], "   alpha       b", "small header")
eq(L[3], "1      1  -2.500", "small row 1")
eq(L[4], "2     10   3.000", "small row 2")
eq(L[5], "3    100   0.125", "small row 3")
eq(#L, 5, "small: lines")
-- options: rows and columns shown
L = lines(show.dataset(d, {rows = 4, cols = 3}))
eq(#L, 2 + 5, "4 rows shown: 2 + gap + 2")
assert(L[2]:match("^%s+x1%s+x2%s+%.%.%.%s+x12%s+label$"), "3 columns shown: " .. L[2])
-- a narrow terminal: fewer columns, every line fits
L = lines(show.dataset(d, {width = 70}))
for i = 2, #L do assert(#L[i] <= 70, "line wider than 70: " .. L[i]) end
assert(L[2]:match("^%s+x1%s+x2%s+%.%.%.%s+x11%s+x12%s+label$"), "4 columns in 70 characters: " .. L[2])
show.begin(60)
assert(#lines(show.value(d))[2] <= 60, "the prompt's width applies")
show.begin()
assert(#lines(show.value(d))[2] > 60, "no width: all 8 columns")
-- d:head(n) prints n rows and returns them; the prompt does not print them again
show.begin()
local printed = {}
local real_print = print
print = function(...) printed[#printed + 1] = table.concat({...}, "\t") end
local h = d:head(2)
print = real_print
eq(#printed, 1, "d:head prints once")
eq(lines(printed[1])[1], "Dataset: 2 rows x 12 columns, labelled (1 partition)", "d:head shape")
eq(show.results(h), nil, "the prompt skips what d:head printed")
show.begin()
assert(show.results(h):match("^Dataset: 2 rows"), "printed again by the next command")

-- vectors
eq(show.value(d:labels()), "Vector of 1,000,000: [1, 0, 1, 0, 1, ..., 0, 1, 0, 1, 0]", "long vector")
eq(show.value(wb.vector({0.5, 2, 3})), "Vector of 3: [0.5, 2.0, 3.0]", "short vector")

-- result tables: a header, a rule, numbers right-aligned, text left-aligned
local r = T.new({"name", "score", "n"}, {{name = "a", score = 0.5, n = 10}, {name = "long name", score = 0.125, n = 2}})
L = lines(show.value(r))
eq(L[1], "name       score   n", "table header")
eq(L[2], "---------  -----  --", "table rule")
eq(L[3], "a          0.500  10", "table row 1")
eq(L[4], "long name  0.125   2", "table row 2")
local many = {}
for i = 1, 100 do many[i] = {i = i} end
L = lines(T.new({"i"}, many):format(6))
eq(#L, 2 + 7, "long table lines")
eq(L[6], "... (100 rows)", "long table gap")
eq(L[9], "100", "long table last row")
-- describe is such a table
L = lines(show.value(small:describe()))
-- (the values are pandas' describe().T's for this frame; the statistics share
-- one number format, so a row reads alike)
eq(L[1], "column  count  missing       mean        std        min        25%        50%        75%         max", "describe header")
eq(L[3], "alpha       3        0  37.000000  54.744863   1.000000   5.500000  10.000000  55.000000  100.000000", "describe alpha")
eq(L[4], "b           3        0   0.208333   2.750947  -2.500000  -1.187500   0.125000   1.562500    3.000000", "describe b")

-- models: the estimator, its parameters, then each field
local m = wb.fit("shelldemo_mean", d:slice(1, 10), {scale = 2})
L = lines(show.value(m))
eq(L[1], "shelldemo_mean model (iters=10, mode=plain, scale=2)", "model line")
eq(L[2], "  means  [1 x 12] [11.2, 11.4, 11.6, 11.8, 12.0, 12.2, 12.4, 12.6, ...]", "model array field")
eq(L[3], "  rows   10", "model number field")
eq(L[4], "  note   column means", "model string field")
eq(tostring(m), show.value(m), "print(m) prints the same")
-- a matrix field: its rows, aligned, under the field's line
m:set("grid", {{1, 2.5}, {-30, 4}, {5, 6}})
L = lines(show.value(m))
eq(L[5], "  grid   [3 x 2]", "matrix field line")
eq(L[6], "           1  2.5", "matrix row 1")
eq(L[7], "         -30  4.0", "matrix row 2")
eq(L[8], "           5  6.0", "matrix row 3")
local big = {}
for i = 1, 20 do big[i] = {} for j = 1, 12 do big[i][j] = i * 100 + j end end
L = show.matrix(big, 20, 12)
eq(#L, 9, "a big matrix: 4 + gap + 4 rows")
assert(L[1]:match("^%s*101%s+102%s+103%s+104%s+%.%.%.%s+109%s+110%s+111%s+112$"), "big matrix row 1: " .. L[1])
assert(L[5]:match("^%s*%.%.%.%s+%.%.%."), "big matrix gap: " .. L[5])
assert(L[9]:match("^2001%s+2002"), "big matrix last row: " .. L[9])

-- Lua values
eq(show.value({1, 2, x = "y", [true] = 0}), '{1, 2, x = "y", [true] = 0}', "a table")
eq(show.value("plain"), "plain", "a string at top level")
eq(show.value({"quoted"}), '{"quoted"}', "a string inside a table")
local cyc = {}
cyc.self = cyc
eq(show.value(cyc), "{self = {...}}", "a cycle")
eq(show.value({d}), "{<Dataset: 1,000,000 rows x 12 columns, labelled (245 partitions)>}", "a dataset inside a table")
local long = {}
for i = 1, 30 do long[i] = i end
assert(show.value(long):find("... (30 items)", 1, true), "a long list is cut")
assert(show.value(print):match("^builtin: ") or show.value(print):match("^function: "), "a function")
eq(show.results(1, "two", nil), "1\ttwo\tnil", "several results on one line")
eq(show.results(), nil, "no results")
-- a freed dataset does not break printing
local gone = wb.dataset({{1}})
gone:free()
eq(show.value(gone), "Dataset (freed)", "a freed dataset")
print("shell_show: all checks passed")
