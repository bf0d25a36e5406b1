-- core_primitives: wb.core's executor primitives from Lua (put/get/submit/wait,
-- map, map_sum, map_dataset, select, parts/dataset, packing), over the kernels
-- of the test plugin tests/plugins/good.c; and wb.threads(n).
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error
local C = wb.core
local pack, unpack = C.pack_doubles, C.unpack_doubles
local function bits(x) return string.pack("<d", x) end

local dir = assert(os.getenv("WB_TEST_PLUGIN_DIR"), "WB_TEST_PLUGIN_DIR is not set")
check(wb.plugin.load(dir .. "/good.so") == "good")
check(wb.good and wb.good.answer == 42, "the plugin's Lua chunk ran")

-- put / get: bytes in, the same bytes out (zeros included)
local o = C.put("a\0b\255")
check(o:get() == "a\0b\255" and C.get(o) == "a\0b\255")
check(type(o:id()) == "number" and o:id() > 0)
check(tostring(o):find("^Object"))
check(C.put(""):get() == "")

-- submit / wait / get: a future per task; inputs are objects, the argument bytes
local a, b = C.put(pack{1, 2}), C.put(pack{3})
local s = C.submit("good.sum", {a, b}, pack{10})
check(C.wait({s}) == true)
check(unpack(s:get())[1] == 16)
-- a chain submitted without waiting: each task needs the one before
local prev = C.put(pack{0})
for _ = 1, 50 do prev = C.submit("good.sum", {prev}, pack{1}) end
check(unpack(prev:get())[1] == 50, "a chain of 50 tasks")
check(C.wait({}) == true)
-- failures carry the kernel's message, also to the tasks that needed them
local bad = C.submit("good.fail", {}, "no luck")
local dep = C.submit("good.sum", {bad})
expect_error("good.fail: no luck", C.wait, {s, bad})
expect_error("good.fail: no luck", C.wait, {dep})
expect_error("good.fail: no luck", bad.get, bad)
expect_error("good.sum: input 1 has 3 bytes, not doubles", function() return C.submit("good.sum", {C.put("abc")}):get() end)
-- argument errors
expect_error("bad argument #1 to 'submit' (no kernel named 'good.nope')", function() return C.submit("good.nope", {}) end)
expect_error("bad argument #2 to 'submit' (element 2 is not an object of this executor)", function() return C.submit("good.sum", {a, "x"}) end)
expect_error("bad argument #1 to 'map' (no kernel named 'nope')", function() return C.map("nope", wb.dataset({{1}})) end)
-- a freed object
local f = C.put("x")
f:free()
expect_error("attempt to use a freed object", f.get, f)
f:free() -- twice is harmless

-- a dataset over several partitions (one column: 180000 rows -> 1 partition; use 200 columns)
local n, d = 7000, 200
local rows, labels = {}, {}
for i = 1, n do
  local r = {}
  for j = 1, d do r[j] = ((i * 7 + j * 13) % 101) / 7 - 3 end
  rows[i], labels[i] = r, i % 3
end
local ds = wb.dataset(rows, labels)
check(ds:rows() == n and ds:cols() == d and ds:partitions() == 2, "partitions: " .. ds:partitions())

-- map: one result per partition
local parts = C.map("good.sum", ds)
check(#parts == ds:partitions())
local total = 0
for _, p in ipairs(parts) do total = total + unpack(p:get())[1] end
local direct = 0
for i = 1, n do for j = 1, d do direct = direct + rows[i][j] end end
check(math.abs(total - direct) < 1e-6 * math.abs(direct) + 1e-6, "map sums")
-- extra objects go to every task after the partition
local extra = C.put(pack{1000})
local withx = C.map("good.sum", ds, {extra})
check(math.abs(unpack(withx[1]:get())[1] - unpack(parts[1]:get())[1] - 1000) < 1e-6)

-- map_sum: column sums and the row count, exactly the tree sum
local sums = C.map_sum("good.colsum", ds, nil, "", d + 1)
check(#sums == d + 1 and sums[d + 1] == n)
for j = 1, d do
  local c = 0
  for i = 1, n do c = c + rows[i][j] end
  check(math.abs(sums[j] - c) < 1e-9 * (math.abs(c) + 1), "column " .. j)
end
expect_error("bad argument #5 to 'map_sum' (bad length)", function() return C.map_sum("good.colsum", ds, nil, "", -1) end)
expect_error("good.colsum: a block sum kernel writes exactly 3 doubles once", C.map_sum, "good.colsum", ds, nil, "", 3)

-- the same sums, bit for bit, over a layout of one partition per 4096-row block
local blocks = {}
for pi, p in ipairs(C.parts(ds)) do
  local prow = (pi == 1) and 4096 or (n - 4096) -- 200 columns: 4096-row partitions
  for start = 0, prow - 1, 4096 do
    local cnt = math.min(4096, prow - start)
    blocks[#blocks + 1] = C.submit("core.take_rows", {p}, string.pack("<i8i8", start, cnt))
  end
end
local byblock = C.dataset(blocks)
check(byblock:rows() == n and byblock:partitions() == #blocks and byblock:has_labels())
local sums2 = C.map_sum("good.colsum", byblock, nil, "", d + 1)
for j = 1, d + 1 do check(bits(sums2[j]) == bits(sums[j]), "map_sum differs by layout at " .. j) end

-- parts / dataset: the same rows again
local same = C.dataset(C.parts(ds))
check(same:rows() == n and same:cols() == d)
for _, i in ipairs{1, 4096, 4097, n} do
  local r1, l1 = ds:row(i)
  local r2, l2 = same:row(i)
  check(r1[d] == r2[d] and l1 == l2, "row " .. i)
end
expect_error("object 1 is not a partition", C.dataset, {C.parts(ds)[1], C.put("x")})

-- map_dataset: a new dataset aligned with the old one
local dbl = C.map_dataset("good.double", ds)
check(dbl:rows() == n and dbl:cols() == d and dbl:partitions() == ds:partitions() and dbl:has_labels())
for _, i in ipairs{1, 4097, n} do
  local r1 = ds:row(i)
  local r2 = dbl:row(i)
  for j = 1, d, 37 do check(r2[j] == 2 * r1[j], "doubled") end
end
local lab = C.labels(dbl)
check(#lab == n and lab[1] == 1 and lab[3] == 0 and lab[n] == n % 3)
expect_error("good.sum: the kernel must write a partition of 4096 rows", C.map_dataset, "good.sum", ds)

-- select: slices (0-based rows), sampled ranges, strata, invert
local sl = C.select(ds, {row_lo = 4090, row_hi = 4100})
check(sl:rows() == 10 and sl:partitions() == 1)
check(sl:row(1)[5] == rows[4091][5] and sl:row(10)[5] == rows[4100][5])
local all = C.select(ds, {})
check(all:rows() == n)
local none = C.select(ds, {row_lo = 5, row_hi = 5})
check(none:rows() == 0 and none:partitions() == 0)
local spec = {seed = 3, nranges = 1, lo = {0}, hi = {0.25}}
local part = C.select(ds, spec)
spec.invert = true
local rest = C.select(ds, spec)
check(part:rows() + rest:rows() == n, "a sample and its complement")
check(math.abs(part:rows() / n - 0.25) < 0.03)
local strat = C.select(ds, {seed = 3, classes = {0, 1, 2}, nranges = 1, lo = {0, 0, 0}, hi = {0.5, 0, 1}})
local counts = {[0] = 0, 0, 0}
for _, y in ipairs(C.labels(strat)) do counts[y] = counts[y] + 1 end
check(counts[1] == 0 and counts[2] == math.floor(n / 3), "strata: none of class 1, all of class 2")
check(math.abs(counts[0] / (n / 3) - 0.5) < 0.06)
expect_error("select: 1 ranges given, 3 expected", C.select, ds, {classes = {0, 1, 2}, nranges = 1, lo = {0}, hi = {1}})
expect_error("select: label 2 of row 2 is not a known class", C.select, ds, {classes = {0, 1}, nranges = 1, lo = {0, 0}, hi = {1, 1}})

-- packing
local p = pack{1.5, -0.0, 1e308, 2^-1074}
check(#p == 32)
local u = unpack(p)
check(u[1] == 1.5 and bits(u[2]) == bits(-0.0) and u[3] == 1e308 and u[4] == 2^-1074)
check(#unpack(p, 16) == 2 and unpack(p, 16)[1] == 1e308)
expect_error("bad argument #1 to 'pack_doubles' (element 2 is not a number)", function() return C.pack_doubles({1, {}}) end)
expect_error("bad argument #2 to 'unpack_doubles' (offset out of range)", function() return C.unpack_doubles(p, 33) end)

-- kernels run single-threaded: OpenBLAS inside a kernel uses one thread
check(wb.plugin.load(dir .. "/blasprobe.so") == "blasprobe")
wb.threads(2)
local probes = C.map("blasprobe.threads", ds)
for _, pr in ipairs(probes) do check(unpack(pr:get())[1] == 1, "OpenBLAS threads inside a kernel") end

-- wb.threads: the executor's size; describe() the same bit for bit with 1 and 2 threads
check(wb.threads(1) == 1 and wb.threads() == 1 and wb.executor().threads == 1)
local g = wb.datagen.classification{n = 120000, features = 6, informative = 4, redundant = 2, seed = 9}
local d1 = g:describe()
wb.threads(2)
check(wb.threads() == 2 and wb.executor().threads == 2)
local d2 = g:describe()
check(#d1 == 6 and #d2 == 6)
for j = 1, 6 do
  for _, k in ipairs{"count", "mean", "std", "min", "max"} do
    check(bits(d1[j][k]) == bits(d2[j][k]), string.format("describe %s of column %d differs", k, j))
  end
end
-- and describe() against a direct computation on a small dataset
local small = wb.dataset({{1, 10}, {2, 20}, {4, 0 / 0}, {8, 40}})
local t = small:describe()
check(t[1].count == 4 and t[1].mean == 3.75 and t[1].min == 1 and t[1].max == 8)
check(math.abs(t[1].std - math.sqrt(((1 - 3.75) ^ 2 + (2 - 3.75) ^ 2 + (4 - 3.75) ^ 2 + (8 - 3.75) ^ 2) / 3)) < 1e-15)
check(t[2].count == 3 and t[2].mean == 70 / 3 and t[2].max == 40)
expect_error("bad argument #1 to 'threads' (threads must be in 1..1024, got 0)", function() return wb.threads(0) end)
print("core_primitives: ok")
