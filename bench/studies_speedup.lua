-- bench/studies_speedup.lua -- speedup from 1 to N threads and from 1 to N
-- workers for each of the studies' workloads, through wb.bench.
--
--   wb bench/studies_speedup.lua [--n 1e6] [--roll 3e6] [--units 2] [--repeats 3] [--warmup 1] [--only a,b] [--out DIR]
--
-- Classification workloads (generate, load, logreg, sgd, gbdt, gridsearch) run
-- on an n x 10 set, k-means (k = 16) and PCA on a swiss roll of --roll rows;
-- each on local:1..units threads and cluster:1..units workers (one thread
-- each, on this machine). Prints the full wb.bench table, then one line per
-- workload: median seconds on 1 and N threads / workers and the speedups.
-- Each configuration first runs --warmup untimed runs (default 1: the first
-- run after the data is made pays for page faults and cold caches).
-- With --out DIR it also writes DIR/speedup.csv/.json and DIR/speedup_*.svg.
local opt = {n = 1000000, roll = 3000000, units = 2, repeats = 3, warmup = 1}
do
  local i = 1
  while arg[i] do
    local k, v = arg[i], arg[i + 1]
    local function num()
      local x = math.tointeger(tonumber(v or ""))
      if not x or x < 1 then error("studies_speedup.lua: " .. k .. " needs a whole number >= 1, got " .. tostring(v), 0) end
      i = i + 1
      return x
    end
    if k == "--n" then opt.n = num()
    elseif k == "--roll" then opt.roll = num()
    elseif k == "--units" then opt.units = num()
    elseif k == "--repeats" then opt.repeats = num()
    elseif k == "--warmup" then
      opt.warmup = math.tointeger(tonumber(v or ""))
      if not opt.warmup or opt.warmup < 0 then error("studies_speedup.lua: --warmup needs a whole number >= 0, got " .. tostring(v), 0) end
      i = i + 1
    elseif k == "--out" then opt.out = v; i = i + 1
    elseif k == "--only" then
      opt.only = {}
      for s in (v or ""):gmatch("[^,%s]+") do opt.only[s] = true end
      i = i + 1
    else error("studies_speedup.lua: unknown option " .. k, 0) end
    i = i + 1
  end
end
local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end
local function wanted(w) return not opt.only or opt.only[w] end

local execs = {}
for _, kind in ipairs{"local", "cluster"} do
  local t = 1
  while t < opt.units do execs[#execs + 1] = kind .. ":" .. t; t = t * 2 end
  execs[#execs + 1] = kind .. ":" .. opt.units
end
print(string.format("studies_speedup: classification %d x 10, swiss roll %d x 3 (k = 16), executors %s, medians of %d after %d warm-up run(s); load average %s",
                    opt.n, opt.roll, table.concat(execs, ","), opt.repeats, opt.warmup, loadavg()))

local rows, skipped = {}, {}
local function run(workloads, n, extra)
  local list = {}
  for _, w in ipairs(workloads) do if wanted(w) then list[#list + 1] = w end end
  if #list == 0 then return end
  local o = {workloads = list, sizes = {n}, executors = execs, repeats = opt.repeats, warmup = opt.warmup, verbose = true}
  for k, v in pairs(extra or {}) do o[k] = v end
  local b = wb.bench(o)
  for _, r in ipairs(b) do rows[#rows + 1] = r end
  for _, s in ipairs(b.skipped) do skipped[#skipped + 1] = s end
  return b
end
local b1 = run({"generate", "load", "logreg", "sgd", "gbdt", "gridsearch"}, opt.n)
run({"kmeans", "pca"}, opt.roll, {k = 16})
local T = wb.table
local all = T.new((b1 or {columns = {"workload", "n", "executor", "median_s", "min_s", "max_s", "speedup", "efficiency", "peak_mb", "metric", "quality", "note"}}).columns,
                  rows, "wb.bench: every configuration")
print(all:format(math.huge))
for _, s in ipairs(skipped) do print(string.format("skipped %s: %s", s.workload or s.executor, s.reason)) end

-- the summary: 1 -> N threads, 1 -> N workers
local N = opt.units
local by = {}
local order = {}
for _, r in ipairs(rows) do
  if not by[r.workload] then by[r.workload] = {n = r.n}; order[#order + 1] = r.workload end
  by[r.workload][r.executor] = r
end
local sum = {}
local function s(r) return r and r.median_s end
for _, w in ipairs(order) do
  local e = by[w]
  local l1, lN, c1, cN = e["local:1"], e["local:" .. N], e["cluster:1"], e["cluster:" .. N]
  -- the speedup of the best runs too: on a busy machine the fastest of the
  -- repeats is the least disturbed one
  local function best(a, b)
    return a and b and a.min_s and b.min_s and b.min_s > 0 and math.floor(a.min_s / b.min_s * 1000 + 0.5) / 1000 or nil
  end
  sum[#sum + 1] = {workload = w, n = e.n, ["local:1_s"] = s(l1), ["local:" .. N .. "_s"] = s(lN),
                   threads_speedup = lN and lN.speedup, threads_speedup_min = best(l1, lN),
                   ["cluster:1_s"] = s(c1), ["cluster:" .. N .. "_s"] = s(cN),
                   workers_speedup = cN and cN.speedup, workers_speedup_min = best(c1, cN),
                   quality = lN and lN.quality, metric = lN and lN.metric}
end
local scols = {"workload", "n", "local:1_s", "local:" .. N .. "_s", "threads_speedup", "threads_speedup_min",
               "cluster:1_s", "cluster:" .. N .. "_s", "workers_speedup", "workers_speedup_min", "metric", "quality"}
local summary = T.new(scols, sum, string.format("speedup from 1 to %d threads and from 1 to %d workers " ..
                                                "(median seconds; *_speedup of the medians, *_speedup_min of the fastest runs)", N, N))
print(summary:format(math.huge))
print("load average after: " .. loadavg())
if opt.out then
  os.execute("mkdir -p '" .. opt.out:gsub("'", "'\\''") .. "'")
  all:export(opt.out .. "/speedup_all.csv")
  summary:export(opt.out .. "/speedup.csv")
  summary:export(opt.out .. "/speedup.json")
  local lrows, crows = {}, {}
  for _, r in ipairs(rows) do
    if r.speedup then
      if r.kind == "local" then lrows[#lrows + 1] = r else crows[#crows + 1] = r end
    end
  end
  wb.plot.speedup(lrows, {file = opt.out .. "/speedup_threads.svg", title = "speedup vs threads", xlabel = "threads"})
  wb.plot.speedup(crows, {file = opt.out .. "/speedup_workers.svg", title = "speedup vs workers", xlabel = "workers"})
  print("wrote " .. opt.out .. "/speedup.csv, speedup.json, speedup_all.csv, speedup_threads.svg, speedup_workers.svg")
end
