-- bench/threads_profile.lua -- where a fit's time goes on 1 and 2 local
-- threads, measured so that a busy machine does not hide it: per thread of
-- this process, the CPU time and the time spent runnable but waiting for a
-- CPU (the other processes' share), from /proc/self/task/*/schedstat.
--
--   wb bench/threads_profile.lua [--n 1e6] [--roll 3e6] [--repeats 5] [--only logreg,sgd,pca,kmeans,gbdt]
--
-- The workloads are bench/studies_speedup.lua's (wb.bench's: n x 10
-- classification, 80 % training rows; swiss roll of --roll rows). For each
-- fit, 1 and 2 threads alternating, it prints the medians of:
--   wall      the fit's wall time
--   driver    CPU time of the calling thread (the serial part: the optimizer,
--             the merges of partial sums, task dispatch, Lua)
--   pool      CPU time of the pool's threads (the parallel part), and the
--             share of it done by the busiest thread
--   idle      per pool thread: wall - CPU - runnable wait = time it had
--             nothing to do (waiting for work or for the other thread)
--   rq        runnable-wait summed over the threads (the load's share)
-- and the speedup the CPU times predict on an idle machine:
--   (driver + pool at 1 thread) / (driver + busiest pool thread at 2).
-- On a machine shared with other work, `chrt -f 1 wb ...` (root or
-- CAP_SYS_NICE) runs the fits ahead of the other processes (SCHED_FIFO; a
-- cluster's head and workers inherit it), so rq stays near 0 and the wall
-- times come close to an idle machine's; nice -n -20 does not (other
-- processes' groups keep their share).
local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local opt = {n = 1000000, roll = 3000000, repeats = 5}
local only = {logreg = true, sgd = true, pca = true}
do
  local i = 1
  while arg[i] do
    local k, v = arg[i], arg[i + 1]
    if k == "--n" or k == "--roll" or k == "--repeats" then
      local x = math.tointeger(tonumber(v or ""))
      if not x or x < 1 then error("threads_profile.lua: " .. k .. " needs a whole number >= 1, got " .. tostring(v), 0) end
      opt[k:sub(3)] = x
    elseif k == "--only" then
      only = {}
      for s in (v or ""):gmatch("[^,%s]+") do only[s] = true end
    else
      error("threads_profile.lua: unknown option " .. k, 0)
    end
    i = i + 2
  end
end

local function read1(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("l")
  f:close()
  return s
end
local PID = (read1("/proc/self/stat") or ""):match("^(%d+)")
if not PID then error("threads_profile.lua: needs /proc/self/stat (Linux)", 0) end
-- {tid = {cpu seconds, runnable-wait seconds}}
local function snap()
  local t = {}
  local p = io.popen("ls /proc/" .. PID .. "/task")
  for tid in p:lines() do
    local s = read1("/proc/" .. PID .. "/task/" .. tid .. "/schedstat")
    local a, b = (s or ""):match("^(%d+) (%d+)")
    if a then t[tid] = {tonumber(a) / 1e9, tonumber(b) / 1e9} end
  end
  p:close()
  return t
end

local bo = {features = 10, seed = 1, test = 0.2}
local data = wb.bench.data.classification(opt.n, bo)
local train = wb.split(data, {test = 0.2, seed = 1, stratify = true})
local roll = wb.bench.data.swiss_roll(opt.roll, {seed = 1})
local fits = {
  {"logreg", function() return wb.fit("logreg", train, {C = 1.0}) end},
  {"sgd", function() return wb.fit("sgd", train, {loss = "log_loss", epochs = 5, seed = 1}) end},
  {"gbdt", function() return wb.fit("gbdt", train, {n_trees = 100, seed = 1}) end},
  {"kmeans", function() return wb.fit("kmeans", roll, {k = 16, init = "k-means++", max_iter = 100, seed = 0}) end},
  {"pca", function() return wb.fit("pca", roll, {components = 2}) end},
}

local function loadavg() return (read1("/proc/loadavg") or "?"):match("^(%S+ %S+ %S+)") or "?" end
print(string.format("threads_profile: classification %d x 10 (80 %% fitted), swiss roll %d x 3; medians of %d, 1 and 2 threads alternating; load average %s",
                    opt.n, opt.roll, opt.repeats, loadavg()))
print(string.format("%-7s %3s %8s %8s %8s %6s %17s %8s", "fit", "thr", "wall_s", "driver_s", "pool_s", "top%", "idle_s per thread", "rq_s"))
local M = B.median
for _, f in ipairs(fits) do
  if only[f[1]] then
    for _, t in ipairs{1, 2} do wb.threads(t); f[2]() end -- warm-up
    local r = {[1] = {}, [2] = {}}
    for _ = 1, opt.repeats do
      for _, t in ipairs{1, 2} do
        wb.threads(t)
        collectgarbage()
        local s0 = snap()
        local w0 = wb.now()
        f[2]()
        local w = wb.now() - w0
        local s1 = snap()
        local o = {wall = w, driver = 0, pool = 0, top = 0, rq = 0, idle = {}}
        for tid, v in pairs(s1) do
          local u = s0[tid] or {0, 0}
          local c, q = v[1] - u[1], v[2] - u[2]
          o.rq = o.rq + q
          if tid == PID then
            o.driver = c
          elseif c > 0 or q > 0 then
            o.pool = o.pool + c
            o.top = math.max(o.top, c)
            o.idle[#o.idle + 1] = math.max(0, w - c - q)
          end
        end
        table.sort(o.idle)
        local x = r[t]
        for _, k in ipairs{"wall", "driver", "pool", "top", "rq"} do x[k] = x[k] or {}; table.insert(x[k], o[k]) end
        for i = 1, t do x["idle" .. i] = x["idle" .. i] or {}; table.insert(x["idle" .. i], o.idle[i] or 0) end
      end
    end
    for _, t in ipairs{1, 2} do
      local x = r[t]
      local idle = {}
      for i = 1, t do idle[#idle + 1] = string.format("%.3f", M(x["idle" .. i])) end
      print(string.format("%-7s %3d %8.3f %8.3f %8.3f %5.0f%% %17s %8.3f", f[1], t, M(x.wall), M(x.driver), M(x.pool),
                          100 * M(x.top) / math.max(1e-9, M(x.pool)), table.concat(idle, " "), M(x.rq)))
    end
    local one = M(r[1].driver) + M(r[1].pool)
    local two = M(r[2].driver) + M(r[2].top)
    print(string.format("%-7s speedup: wall %.2f (medians), CPU-predicted %.2f; serial (driver) share of the 1-thread CPU %.1f %%",
                        f[1], M(r[1].wall) / M(r[2].wall), one / two, 100 * M(r[1].driver) / one))
  end
end
print("load average after: " .. loadavg())
