-- bench/soak.lua — the driver of the cluster soak (run by bench/soak.sh):
--   wb bench/soak.lua ADDR TOKEN_FILE DASHBOARD_PORT SECONDS SEED WORKERS
-- For SECONDS it streams mixed work at the head while soak.sh kills and
-- restarts workers: batches of jobs (a pipeline of two batches in flight),
-- each job checked against the value it must give:
--   fill   one task making n bytes of value v (the bytes are compared);
--   chain  two fills on any workers, then cluster.size over both (the
--          inputs move between workers; a lost one is rebuilt from lineage);
--   put    a driver object, then cluster.size over it (a lost put is sent
--          again by the driver);
--   sleep  a task that sleeps a few ms and returns the seconds it was given;
--   fit    now and then, with the pipeline drained: k-means on a dataset
--          generated on the cluster, which must equal bit for bit the model
--          fitted locally before connecting (same seed, any workers).
-- Every job's result is taken exactly once. At the end everything is
-- released and the driver disconnects; it prints one line of figures:
--   soak-driver jobs=J tasks=T fits=F fit_tasks=FT ok=O wrong=W failed=X
-- (tasks: what the driver submitted itself; fit_tasks: what the fits made
-- the head run, from the head's counter around each fit). Each failure or
-- wrong value is printed on its own line. Exit status 1 if any.
local addr, tokfile, dash = arg[1], arg[2], arg[3]
local secs, seed, nworkers = tonumber(arg[4]), tonumber(arg[5] or 1), tonumber(arg[6] or 1)
assert(addr and tokfile and dash and secs, "usage: wb soak.lua ADDR TOKEN_FILE DASHBOARD_PORT SECONDS [SEED] [WORKERS]")
math.randomseed(seed)

-- the head's counter of submitted tasks (its dashboard's /api/status)
local function head_submitted()
  local h = io.popen("/usr/bin/python3 -c 'import sys, urllib.request; " ..
    "print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' " ..
    "http://127.0.0.1:" .. dash .. "/api/status")
  local s = h:read("a")
  h:close()
  local n = s:match('"submitted":(%d+)')
  assert(n, "no task counter in the head's status: " .. s:sub(1, 200))
  return tonumber(n)
end

-- the reference model, fitted locally
local KM = {k = 3, seed = 5, max_iter = 15}
local function fit_data() return wb.datagen.blobs{n = 30000, features = 4, centers = 3, seed = 11} end
local ref = wb.fit("kmeans", fit_data(), KM)
local ref_centers = ref.centers

-- cluster.fill and cluster.sleep: a test plugin, here and on the workers (soak.sh starts them with it)
local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
wb.plugin.load(B.test_plugin("cluster_kernels"))
wb.connect(addr, {token_file = tokfile, workers = nworkers, timeout = 60})

local stats = {jobs = 0, tasks = 0, fits = 0, fit_tasks = 0, ok = 0, wrong = 0, failed = 0}
local function report(kind, what)
  print(kind .. ": " .. what)
  io.stdout:flush()
end

local submit, pack, unpack = wb.core.submit, string.pack, string.unpack
local function sub(k, inputs, a)
  stats.tasks = stats.tasks + 1
  return submit(k, inputs, a)
end

-- one job: {fut = object to take, check = function(bytes) -> nil or what is wrong}
local function job()
  local r = math.random(100)
  stats.jobs = stats.jobs + 1
  if r <= 35 then
    local n, v = math.random(1, 65536), math.random(1, 255)
    return {kind = "fill", fut = sub("cluster.fill", {}, pack("<I8B", n, v)), check = function(s)
      if s ~= string.rep(string.char(v), n) then return ("%d bytes of %d, got %d bytes"):format(n, v, #s) end
    end}
  elseif r <= 65 then
    local n1, v1, n2, v2 = math.random(1, 32768), math.random(1, 255), math.random(1, 32768), math.random(1, 255)
    local a = sub("cluster.fill", {}, pack("<I8B", n1, v1))
    local b = sub("cluster.fill", {}, pack("<I8B", n2, v2))
    return {kind = "chain", fut = sub("cluster.size", {a, b}, ""), check = function(s)
      local total, sum = unpack("<I8I8", s)
      if total ~= n1 + n2 or sum ~= 2 * v1 + 2 * v2 then
        return ("size of %d+%d bytes: got %d (checksum %d, expected %d)"):format(n1, n2, total, sum, 2 * v1 + 2 * v2)
      end
    end}
  elseif r <= 85 then
    local m, x, y = math.random(0, 16384), math.random(0, 255), math.random(0, 255)
    local p = wb.core.put(string.char(x) .. string.rep("p", m) .. string.char(y))
    return {kind = "put", fut = sub("cluster.size", {p}, ""), check = function(s)
      local total, sum = unpack("<I8I8", s)
      if total ~= m + 2 or sum ~= x + y then return ("put of %d bytes: got %d (checksum %d)"):format(m + 2, total, sum) end
    end}
  else
    local t = math.random(0, 20) / 1000
    return {kind = "sleep", fut = sub("cluster.sleep", {}, pack("<d", t)), check = function(s)
      if unpack("<d", s) ~= t then return ("slept %g, got %g"):format(t, unpack("<d", s)) end
    end}
  end
end

local function batch(n)
  local b = {}
  for i = 1, n do b[i] = job() end
  return b
end

-- take each result once, check it, drop the objects
local function finish(b)
  local fs = {}
  for i, j in ipairs(b) do fs[i] = j.fut end
  pcall(wb.core.wait, fs) -- failures are taken one by one below
  for _, j in ipairs(b) do
    local ok, s = pcall(wb.core.get, j.fut)
    if not ok then
      stats.failed = stats.failed + 1
      report("FAILED " .. j.kind, tostring(s))
    else
      local bad = j.check(s)
      if bad then
        stats.wrong = stats.wrong + 1
        report("WRONG " .. j.kind, bad)
      else
        stats.ok = stats.ok + 1
      end
    end
  end
end

local function fit()
  local before = head_submitted()
  local ok, m = pcall(function() return wb.fit("kmeans", fit_data(), KM) end)
  stats.fit_tasks = stats.fit_tasks + head_submitted() - before
  stats.fits = stats.fits + 1
  if not ok then
    stats.failed = stats.failed + 1
    report("FAILED fit", tostring(m))
    return
  end
  local same = m.inertia == ref.inertia and m.iterations == ref.iterations
  for i = 1, #ref_centers do
    for j = 1, #ref_centers[i] do same = same and m.centers[i][j] == ref_centers[i][j] end
  end
  if same then
    stats.ok = stats.ok + 1
  else
    stats.wrong = stats.wrong + 1
    report("WRONG fit", ("inertia %.17g, expected %.17g"):format(m.inertia, ref.inertia))
  end
end

local t0, last_fit = wb.now(), wb.now()
local prev = batch(40)
while wb.now() - t0 < secs do
  local cur = batch(40)
  finish(prev)
  prev = cur
  collectgarbage()
  if wb.now() - last_fit > 10 then
    finish(prev)
    prev = {}
    fit()
    last_fit = wb.now()
    prev = batch(40)
  end
end
finish(prev)
prev = nil
collectgarbage()
collectgarbage()
wb.disconnect()
print(("soak-driver jobs=%d tasks=%d fits=%d fit_tasks=%d ok=%d wrong=%d failed=%d seconds=%.1f"):format(
  stats.jobs, stats.tasks, stats.fits, stats.fit_tasks, stats.ok, stats.wrong, stats.failed, wb.now() - t0))
os.exit((stats.wrong == 0 and stats.failed == 0) and 0 or 1)
