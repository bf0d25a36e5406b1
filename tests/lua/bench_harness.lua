-- wb.bench: every workload x size x executor gets a row with consistent
-- statistics; speedup/efficiency against the smallest configuration; quality
-- figures from the workload; exports; errors and skips are explained.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local expect_error = TL.expect_error

local threads0 = wb.threads()

-- the median
assert(wb.bench.median({3, 1, 2}) == 2)
assert(wb.bench.median({4, 1, 3, 2}) == 2.5)
assert(wb.bench.median({}) == nil)
assert(wb.bench.sig(0.123456, 3) == 0.123)

-- a custom workload: its data recipe, setup, run and quality are all used
local calls = {data = 0, setup = 0, run = 0, quality = 0}
local custom = {
  name = "sumsq",
  data = function(n, o) calls.data = calls.data + 1; return wb.datagen.blobs{n = n, features = 2, centers = 2, seed = o.seed} end,
  setup = function(ctx) calls.setup = calls.setup + 1; return {n = ctx.data:rows()} end,
  run = function(ctx, s)
    calls.run = calls.run + 1
    local d = ctx.data:describe()
    return d[1].mean
  end,
  metric = "mean_x1",
  quality = function(ctx, s, result) calls.quality = calls.quality + 1; return result end,
}

local r = wb.bench{workloads = {"generate", "describe", custom}, sizes = {5000, 20000},
                   executors = {"local:1", "local:2"}, repeats = 3, seed = 7}
assert(#r == 2 * 2 * 3, "one row per workload x size x executor, got " .. #r)
assert(calls.data == 4, "data made once per size and executor, got " .. calls.data)
assert(calls.setup == 4 and calls.run == 12 and calls.quality == 4, "setup/run/quality calls")
for _, row in ipairs(r) do
  assert(row.median_s and row.min_s <= row.median_s and row.median_s <= row.max_s, "min <= median <= max for " .. row.workload)
  assert(#row.times == 3, "three timed runs")
  assert(row.rows_per_s > 0)
  assert(row.executor == "local:1" or row.executor == "local:2")
  assert(row.peak_mb and row.peak_mb > 0, "peak memory")
  assert(row.speedup and row.efficiency, "speedup filled")
  if row.executor == "local:1" then
    assert(row.speedup == 1 and row.efficiency == 1, "the smallest configuration is the baseline")
  else
    -- efficiency = speedup / (2 threads / 1 thread), both rounded to 3 decimals
    assert(math.abs(row.efficiency - row.speedup / 2) <= 0.0011, "efficiency = speedup / 2")
    assert(row.baseline == "local:1")
  end
end
-- the quality of the custom workload is what it returned (the mean of column 1)
for _, row in ipairs(r) do
  if row.workload == "sumsq" then
    assert(row.metric == "mean_x1")
    local b = wb.datagen.blobs{n = row.n, features = 2, centers = 2, seed = 7}
    local want = b:describe()[1].mean
    assert(math.abs(row.quality - want) <= 1e-4 * math.abs(want) + 1e-12, "quality " .. row.quality .. " vs " .. want)
  end
end
assert(wb.threads() == threads0, "threads restored after the bench")

-- printing: aligned, every column header present
local text = tostring(r)
for _, c in ipairs({"workload", "n", "executor", "median_s", "rows_per_s", "speedup", "efficiency", "peak_mb", "quality"}) do
  assert(text:find(c, 1, true), "column " .. c .. " printed")
end
local lines = {}
for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
assert(#lines == 2 + 1 + #r, "title, header, rule and one line per row")

-- exports: CSV with a header and one line per row; JSON array; Markdown table
r:export("bench_harness.csv")
local csv = {}
for l in io.lines("bench_harness.csv") do csv[#csv + 1] = l end
assert(#csv == #r + 1, "CSV lines")
assert(csv[1]:match("^workload,n,executor,median_s,min_s,max_s,rows_per_s,speedup,efficiency,peak_mb"), csv[1])
assert(csv[2]:match("^generate,5000,local:1,"), csv[2])
r:export("bench_harness.json")
local f = assert(io.open("bench_harness.json")); local js = f:read("a"); f:close()
assert(js:match("^%[{\"workload\":\"generate\",\"n\":5000,\"executor\":\"local:1\""), js:sub(1, 80))
local objs = 0
for _ in js:gmatch("{\"workload\"") do objs = objs + 1 end
assert(objs == #r)
r:export("bench_harness.md")
f = assert(io.open("bench_harness.md")); local md = f:read("a"); f:close()
assert(md:find("| workload | n | executor |", 1, true) and md:find("|---|", 1, true), "markdown header")
local mdrows = 0
for _ in md:gmatch("\n| [%w_]+ | %d+ | local:%d |") do mdrows = mdrows + 1 end
assert(mdrows == #r, "markdown rows " .. mdrows)
os.remove("bench_harness.csv"); os.remove("bench_harness.json"); os.remove("bench_harness.md")

-- load: a LIBSVM file per size written once (untimed), read back each run;
-- the quality figure is the file's size and the rows read are checked
local tmp = os.tmpname(); os.remove(tmp)
assert(os.execute("mkdir -p '" .. tmp .. "'"))
local ld = wb.bench{workloads = {"load"}, sizes = {3000, 9000}, executors = {"local:1"}, repeats = 2, tmpdir = tmp}
assert(#ld == 2 and ld[1].metric == "file_mb", tostring(ld[1] and ld[1].note))
assert(ld[1].quality > 0.3 and ld[1].quality < 1.5, "file MB of 3000 x 10 " .. tostring(ld[1].quality))
assert(math.abs(ld[2].quality / ld[1].quality - 3) < 0.2, "three times the rows, three times the file")
local left = io.popen("ls -A '" .. tmp .. "'"):read("a")
assert(left == "", "the bench removed its files: " .. left)
os.remove(tmp)

-- charts from the result
local svg = r:plot_time{workload = "describe"}
assert(svg:find("<polyline", 1, true) and svg:find("local:1", 1, true) and svg:find("local:2", 1, true))
local sp = r:plot_speedup{workload = "describe"}
assert(sp:find("ideal", 1, true), "the ideal line")

-- memory: a workload that holds 64 MB more at its peak shows it in extra_mb
local big = {
  name = "alloc",
  run = function(ctx) local d = wb.datagen.blobs{n = 4 * 1024 * 1024, features = 2, seed = 1}; return d:rows() end,
}
local m = wb.bench{workloads = {big}, sizes = {1}, executors = {"local:1"}, repeats = 1}
assert(m[1].extra_mb and m[1].extra_mb >= 60, "extra_mb " .. tostring(m[1].extra_mb) .. " for a 64 MB dataset")

-- on a local cluster, memory is summed over the driver and the workers
if wb.cluster then
  local held = {
    name = "hold",
    data = function(n, o) return wb.datagen.blobs{n = n, features = 2, seed = 1} end,   -- made on the workers
    run = function(ctx) return ctx.data:describe() end,
  }
  local c = wb.bench{workloads = {held}, sizes = {2 * 1024 * 1024}, executors = {"local:1", "cluster:2"}, repeats = 1}
  assert(#c == 2, "a row per executor, got " .. #c)
  local lrow, crow = c[1], c[2]
  assert(crow.executor == "cluster:2" and crow.median_s, tostring(crow.note))
  assert(crow.note == "memory: driver + 2 workers", tostring(crow.note))
  -- 32 MB of data live in the workers during the cluster runs, not in the driver
  assert(crow.peak_mb >= lrow.peak_mb - 5 and crow.peak_mb > 32, "cluster peak " .. crow.peak_mb .. " vs local " .. lrow.peak_mb)
  assert(wb.executor().kind == "local", "back on local threads after a cluster bench")
end

-- unavailable parts are skipped and said so; failures are reported in the row
local s = wb.bench{workloads = {"generate", {name = "broken", run = function() error("boom", 0) end},
                                {name = "badsetup", setup = function() error("no data here", 0) end, run = function() end}},
                   sizes = {1000}, executors = {"local:1", "cluster:2"}, repeats = 1}
local notes = {}
for _, row in ipairs(s) do notes[row.workload] = row.note end
assert(notes.broken == "failed: boom", tostring(notes.broken))
assert(notes.badsetup == "setup failed: no data here", tostring(notes.badsetup))
if not wb.cluster then
  assert(#s == 3, "the cluster executor has no rows when wb.cluster is missing")
  assert(s.skipped[1].executor == "cluster:2" and s.skipped[1].reason:find("wb.cluster"), "skip reason")
end
-- a workload whose estimator is missing is listed in skipped
wb.bench.register("needs_missing", {requires = function() return false, "estimator 'nothing' is not registered" end, run = function() end})
local k = wb.bench{workloads = {"needs_missing"}, sizes = {10}, executors = {"local:1"}, repeats = 1}
assert(#k == 0 and k.skipped[1].workload == "needs_missing" and k.skipped[1].reason == "estimator 'nothing' is not registered")

-- argument errors
expect_error("bad argument #1 to 'bench' (table of options expected, got number)", function() wb.bench(3) end)
expect_error("workloads[1]: no workload named 'nope' (known: generate", function() wb.bench{workloads = {"nope"}} end)
expect_error("sizes[1] must be a whole number of rows >= 1, got 0", function() wb.bench{workloads = {"generate"}, sizes = {0}} end)
expect_error("sizes[1] must be a whole number of rows >= 1, got 1.5", function() wb.bench{workloads = {"generate"}, sizes = {1.5}} end)
expect_error("executors[1] must be \"local:N\", \"cluster:N\" or {kind=, threads=|workers=}, got gpu:2", function() wb.bench{workloads = {"generate"}, executors = {"gpu:2"}} end)
expect_error("executors[1]: the number of threads or workers must be an integer >= 1, got 0", function() wb.bench{workloads = {"generate"}, executors = {"local:0"}} end)
expect_error("repeats must be an integer >= 1, got 0", function() wb.bench{workloads = {"generate"}, repeats = 0} end)
expect_error("workloads[1]: a workload table needs run = function(ctx, state)", function() wb.bench{workloads = {{name = "x"}}} end)
expect_error("baseline must be \"kind\" or \"all\", got first", function() wb.bench{workloads = {"generate"}, baseline = "first"} end)

-- an interrupt is not swallowed as a failed row
local ok, e = pcall(wb.bench, {workloads = {{name = "ctrlc", run = function() error("interrupted!", 0) end}}, sizes = {1}, executors = {"local:1"}, repeats = 1})
assert(not ok and e == "interrupted!", tostring(e))
assert(wb.threads() == threads0, "threads restored after an interrupt")
print("bench_harness: ok")
