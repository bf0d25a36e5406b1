-- bench/mpi.lua — the MPI executor's figures beside local threads and wb's
-- own cluster (bench/mpi.sh runs all three on this machine):
--   mpirun --oversubscribe -np 3 wb --threads 1 bench/mpi.lua   (driver + 2 ranks of 1 thread)
--   wb bench/mpi.lua cluster:2                                   (2 workers of 1 thread)
--   wb bench/mpi.lua local:2
-- empty-task throughput, one-task round trip, the CPU of idle processes, on
-- MPI the reduction tree against MPI_Reduce, k-means 15M x 3 (k = 16) per
-- iteration, logreg 5M x 10, gbdt 1M x 10 with 100 trees; a fingerprint of
-- each model (equal on every executor: the same models bit for bit). Times
-- are medians of repeats; CPU seconds are summed over the job's processes
-- (the machine may be shared: CPU time does not count waiting for it).
local spec = arg[1] or "local:2"
local scale = tonumber(arg[2]) or 1
local function median(t)
  local c = {} for i, v in ipairs(t) do c[i] = v end
  table.sort(c)
  return c[(#c + 1) // 2]
end
local function cpu_of(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return 0 end
  local s = f:read("a") f:close()
  local x = {} for v in s:gsub("^.-%) ", ""):gmatch("%S+") do x[#x + 1] = v end
  return (tonumber(x[12]) + tonumber(x[13]) + tonumber(x[14]) + tonumber(x[15])) / 100
end
local name = spec
if wb.executor().kind == "mpi" then
  name = "mpi:" .. (wb.executor().size - 1)
elseif spec:match("^cluster:") then
  wb.cluster{workers = tonumber(spec:match(":(%d+)")), threads = 1}
else
  wb.threads(tonumber(spec:match(":(%d+)")) or 2)
end
local ex = wb.executor()
local pids = {}
local self_pid = (io.open("/proc/self/stat"):read("a")):match("^(%d+)")
-- /proc/self is this process: its parent-free pid from /proc/self/stat
if ex.ranks then for _, r in ipairs(ex.ranks) do pids[#pids + 1] = r.pid end
else
  local f = io.open("/proc/self/stat") local s = f:read("a") f:close()
  pids[1] = tonumber(s:match("^(%d+)"))
  for _, w in ipairs(ex.worker_list or {}) do pids[#pids + 1] = w.pid end
end
local function cpu() local c = 0 for _, p in ipairs(pids) do c = c + cpu_of(p) end return c end
local function fp(t)
  local h = 0
  local function add(v)
    if type(v) == "table" then for i = 1, #v do add(v[i]) end
    else local s = string.format("%a", v) for i = 1, #s do h = (h * 131 + s:byte(i)) % 4294967291 end end
  end
  add(t)
  return string.format("%08x", h)
end
local rows = {}
local function row(what, v, unit, c, extra)
  rows[#rows + 1] = string.format("%-10s %-40s %12s %-8s %8s %s", name, what, v, unit, c and string.format("%.2f", c) or "-", extra or "")
  print(rows[#rows])
  io.stdout:flush()
end
print(string.format("%-10s %-40s %12s %-8s %8s %s", "executor", "figure", "value", "unit", "cpu s", "model"))

-- empty tasks and the one-task round trip
local w = {} for i = 1, 2000 do w[i] = wb.core.submit("cluster.noop", {}, "") end
wb.core.wait(w) w = nil collectgarbage()
local N = 20000
local rates, c0 = {}, cpu()
for rep = 1, 3 do
  local fs = {}
  local t0 = wb.now()
  for i = 1, N do fs[i] = wb.core.submit("cluster.noop", {}, "") end
  wb.core.wait(fs)
  rates[rep] = N / (wb.now() - t0)
  fs = nil collectgarbage()
end
row("empty tasks per second (20000, median of 3)", string.format("%.0f", median(rates)), "tasks/s", (cpu() - c0) / 3)
local rts = {}
c0 = cpu()
for rep = 1, 5 do
  local t0 = wb.now()
  for i = 1, 2000 do wb.core.get(wb.core.submit("cluster.noop", {}, "")) end
  rts[rep] = (wb.now() - t0) / 2000 * 1e6
end
row("one-task round trip (median of 5 x 2000)", string.format("%.1f", median(rts)), "us", (cpu() - c0) / 5)
-- idle: the CPU the executor's processes use while the driver waits (a
-- program that sleeps 2 s): what their loops cost when there is no work
do
  local c1 = cpu()
  local t0 = wb.now()
  os.execute("sleep 2")
  row("idle: CPU while the driver waits 2 s", string.format("%.1f", (cpu() - c1) / (wb.now() - t0) * 1000), "ms/s", cpu() - c1)
end
if ex.kind == "mpi" then
  for _, len in ipairs{1, 1024} do
    local tr, mr = {}, {}
    local same = true
    for rep = 1, 5 do
      local t, m, eq = wb.core.mpi_bench_reduce(len, 1000)
      tr[rep], mr[rep], same = t * 1e6, m * 1e6, same and eq
    end
    row(string.format("sum of %d doubles: wb tree (p2p)", len), string.format("%.1f", median(tr)), "us", nil, "")
    row(string.format("sum of %d doubles: MPI_Reduce", len), string.format("%.1f", median(mr)), "us", nil, same and "equal" or "differ")
  end
  -- a whole map_sum (tasks + tree) on a tiny dataset: the cost of one reduction round
  local tiny = wb.datagen.blobs{n = 8192, features = 2, centers = 2, seed = 1}
  local ms = {}
  for rep = 1, 5 do
    local t0 = wb.now()
    for i = 1, 200 do tiny:describe() end
    ms[rep] = (wb.now() - t0) / 200 * 1e6
  end
  row("d:describe() of 8192 x 2 (map_sum round)", string.format("%.1f", median(ms)), "us", nil, "")
end

-- k-means 15M x 3, k = 16: seconds per iteration
local r = wb.datagen.swiss_roll{n = math.floor(15e6 * scale), noise = 0.2, seed = 1}
local its, fpk = {}, nil
c0 = cpu()
for rep = 1, 3 do
  local t0 = wb.now()
  local km = wb.fit("kmeans", r, {k = 16, init = "random", max_iter = 5, tol = 0, seed = 0})
  its[rep] = (wb.now() - t0) / km.iterations
  fpk = fp({km.centers, km.inertia})
end
row("kmeans 15M x 3 k=16, per iteration (of 3)", string.format("%.3f", median(its)), "s", (cpu() - c0) / 15, fpk)
r = nil collectgarbage()

local d = wb.datagen.classification{n = math.floor(5e6 * scale), features = 10, informative = 5, redundant = 5, seed = 1}
local ts = {}
local fpl
c0 = cpu()
for rep = 1, 3 do
  local t0 = wb.now()
  local m = wb.fit("logreg", d, {C = 1.0})
  ts[rep] = wb.now() - t0
  fpl = fp({m.coef, m.intercept})
end
row("logreg 5M x 10 fit (median of 3)", string.format("%.2f", median(ts)), "s", (cpu() - c0) / 3, fpl)
d = nil collectgarbage()

local g = wb.datagen.classification{n = math.floor(1e6 * scale), features = 10, informative = 5, redundant = 5, seed = 2}
ts = {}
local fpg
c0 = cpu()
for rep = 1, 3 do
  local t0 = wb.now()
  local m = wb.fit("gbdt", g, {n_trees = 100, seed = 1})
  ts[rep] = wb.now() - t0
  local f = os.tmpname() m:save(f)
  local fh = io.open(f, "rb") local b = fh:read("a") fh:close() os.remove(f)
  local h = 0 for i = 1, #b do h = (h * 131 + b:byte(i)) % 4294967291 end
  fpg = string.format("%08x", h)
end
row("gbdt 1M x 10, 100 trees (median of 3)", string.format("%.2f", median(ts)), "s", (cpu() - c0) / 3, fpg)
if ex.kind == "cluster" then wb.disconnect() end
