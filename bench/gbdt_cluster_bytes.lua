-- bench/gbdt_cluster_bytes.lua — one gbdt fit (100 trees) at N x 10 on 2
-- local threads, then on a local 2-worker cluster (1 thread each), `reps`
-- times: wall time, the CPU seconds of this process and every process it
-- started (head, workers; from /proc, so a loaded machine does not hide the
-- work) and the bytes its children wrote (wchar: mostly the workers'
-- histogram sums to the driver); checks the cluster's model is the local one.
-- usage: wb bench/gbdt_cluster_bytes.lua [N=500000] [reps=2]   (Linux /proc)
local N = tonumber(arg[1]) or 500000
local reps = tonumber(arg[2]) or 2
wb.quiet(true)
local function stat(pid)
  local f = io.open("/proc/" .. pid .. "/stat"); if not f then return nil end
  local s = f:read("a"); f:close()
  local rest = s:match("%) (.*)$")
  local t = {}
  for w in rest:gmatch("%S+") do t[#t + 1] = w end
  return {ppid = tonumber(t[2]), cpu = (tonumber(t[12]) + tonumber(t[13])) / 100}
end
local function selfpid()
  local f = io.open("/proc/self/stat"); local s = f:read("a"); f:close()
  return tonumber(s:match("^(%d+)"))
end
local me = selfpid()
local function tree()
  local p = io.popen("ls /proc"); local all = {}
  for d in p:lines() do if d:match("^%d+$") then all[#all + 1] = tonumber(d) end end
  p:close()
  local info = {}
  for _, pid in ipairs(all) do info[pid] = stat(pid) end
  local inset = {[me] = true}
  local changed = true
  while changed do
    changed = false
    for pid, s in pairs(info) do
      if s and not inset[pid] and inset[s.ppid] then inset[pid] = true; changed = true end
    end
  end
  local cpu, wchar = 0, 0
  for pid in pairs(inset) do
    if info[pid] then cpu = cpu + info[pid].cpu end
    if pid ~= me then
      local f = io.open("/proc/" .. pid .. "/io")
      if f then local s = f:read("a"); f:close(); wchar = wchar + tonumber(s:match("wchar: (%d+)")) end
    end
  end
  return cpu, wchar
end
local P = {n_trees = 100, seed = 1}
local dl = wb.datagen.classification{n = N, features = 10, informative = 5, redundant = 2, seed = 7}
local function fit(d, tag)
  local c0, w0 = tree(); local t0 = wb.now()
  local m = wb.fit("gbdt", d, P)
  local dt = wb.now() - t0; local c1, w1 = tree()
  print(string.format("%-8s wall %.2f s  cpu(all procs) %.2f s  written by children %.1f MB", tag, dt, c1 - c0, (w1 - w0) / 1e6))
  return m
end
wb.threads(2)
local ml = fit(dl, "local:2")
wb.cluster{workers = 2, threads = 1}
local dc = wb.datagen.classification{n = N, features = 10, informative = 5, redundant = 2, seed = 7}
local mc
for r = 1, reps do
  mc = fit(dc, "cluster:2")
end
print("same model: " .. tostring(mc:encode() == ml:encode()))
local f = io.open("/proc/loadavg"); print("load " .. f:read("l")); f:close()
wb.disconnect()
