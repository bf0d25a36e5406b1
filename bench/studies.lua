-- bench/studies.lua -- the studies' workloads in one run: wb (through
-- wb.bench, on local threads and optionally a local cluster) next to
-- scikit-learn / XGBoost / Dask on the same shapes, the same number of cores,
-- in the same invocation, with the ratio peer/wb (above 1: wb is faster).
--
--   wb bench/studies.lua [--n 1e6] [--roll 3e6] [--threads T] [--repeats 3] [--cluster] [--only a,b]
--   (bench/studies.sh runs it with the build's wb)
--
-- Workloads and their peers (bench/peers/sklearn_peer.py, run with
-- /usr/bin/python3):
--   generate   make_classification n x 10        logreg  LogisticRegression (lbfgs)
--   sgd        SGDClassifier 5 epochs             gbdt    HistGradientBoosting and XGBoost hist, 100 trees
--   gridsearch GridSearchCV logreg 4 C x 2 penalty, 3 folds
--   kmeans     KMeans k=16 n_init=1 on a swiss roll   pca  PCA 2 components (scikit-learn and Dask)
-- wb's times are medians of REPEATS runs (wb.bench); the peers run once
-- (their generation is timed apart and not counted). Quality figures are
-- printed beside the times: accuracy on a 20 % hold-out, Davies-Bouldin,
-- explained variance. The peers draw their own data with the same recipe, so
-- their quality figures are close to wb's but not equal.
local opt = {n = 1000000, roll = 3000000, threads = wb.threads(), repeats = 3, cluster = false}
do
  local i = 1
  while arg[i] do
    local k, v = arg[i], arg[i + 1]
    local function num()
      local x = math.tointeger(tonumber(v or ""))
      if not x or x < 1 then error("bench/studies.lua: " .. k .. " needs a whole number >= 1, got " .. tostring(v), 0) end
      i = i + 1
      return x
    end
    if k == "--n" then opt.n = num()
    elseif k == "--roll" then opt.roll = num()
    elseif k == "--threads" then opt.threads = num()
    elseif k == "--repeats" then opt.repeats = num()
    elseif k == "--cluster" then opt.cluster = true
    elseif k == "--only" then
      opt.only = {}
      for s in (v or ""):gmatch("[^,]+") do opt.only[s] = true end
      i = i + 1
    else error("bench/studies.lua: unknown option " .. k, 0) end
    i = i + 1
  end
end
local PY = "/usr/bin/python3"
local PEERS = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
  .peers_dir("sklearn_peer.py")
local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end

-- the peer: one JSON line per step -> list of tables
local function peer(workload, n)
  if not PEERS then return nil end
  local cmd = string.format("%s %s %s --n %d --d 10 --k 16 --threads %d 2>&1", PY, sh_quote(PEERS .. "/sklearn_peer.py"),
                            workload, n, opt.threads)
  local h = io.popen(cmd)
  local out = h:read("a")
  h:close()
  local steps = {}
  for line in out:gmatch("[^\n]+") do
    if line:match("^{") then
      local s = {}
      for k, v in line:gmatch('"([%w_]+)": ([%-%d%.e]+)') do s[k] = tonumber(v) end
      s.step = line:match('"step": "([^"]*)"')
      s.evr = line:match('"evr": %[([^%]]*)%]')
      steps[#steps + 1] = s
    end
  end
  if #steps == 0 then io.stderr:write("peer " .. workload .. " failed: " .. out:sub(1, 300) .. "\n") end
  return steps
end
local function step(steps, name)
  for _, s in ipairs(steps or {}) do if s.step == name then return s end end
end

local function wanted(w) return not opt.only or opt.only[w] end

print(string.format("bench/studies: classification %d x 10, swiss roll %d x 3, %d threads, wb medians of %d; load average %s",
                    opt.n, opt.roll, opt.threads, opt.repeats, loadavg()))
if not PEERS then print("peers: bench/peers/sklearn_peer.py not found; wb figures only") end

-- wb: one bench per data family
local execs = {"local:" .. opt.threads}
if opt.cluster then execs[#execs + 1] = "cluster:" .. opt.threads end
local cls_w, roll_w = {}, {}
for _, w in ipairs{"generate", "logreg", "sgd", "gbdt", "gridsearch"} do if wanted(w) then cls_w[#cls_w + 1] = w end end
for _, w in ipairs{"kmeans", "pca"} do if wanted(w) then roll_w[#roll_w + 1] = w end end
local rows = {}
local function collect(b)
  for _, r in ipairs(b) do rows[#rows + 1] = r end
  for _, s in ipairs(b.skipped) do print(string.format("wb: skipped %s: %s", s.workload or s.executor, s.reason)) end
end
if #cls_w > 0 then collect(wb.bench{workloads = cls_w, sizes = {opt.n}, executors = execs, repeats = opt.repeats}) end
if #roll_w > 0 then collect(wb.bench{workloads = roll_w, sizes = {opt.roll}, executors = execs, repeats = opt.repeats, k = 16}) end

-- the peers, one per workload (each its own process)
local peers = {
  generate = {{"scikit-learn", "gen", "generate"}},
  logreg = {{"scikit-learn", "lr", "fit", "accuracy", "predict"}},
  sgd = {{"scikit-learn", "sgd", "fit", "accuracy", "predict"}},
  gbdt = {{"scikit-learn HGB", "hgb", "fit", "accuracy", "predict"}, {"XGBoost hist", "xgb", "fit", "accuracy", "predict"}},
  gridsearch = {{"scikit-learn", "grid", "fit", "score", "fit"}},
  kmeans = {{"scikit-learn", "kmeans", "fit", "score", "davies_bouldin"}},
  pca = {{"scikit-learn", "pca", "fit", "evr"}, {"Dask", "dask_pca", "fit", "evr"}},
}
local out = {}
local order = {"generate", "logreg", "sgd", "gbdt", "gridsearch", "kmeans", "pca"}
for _, w in ipairs(order) do
  local first
  for _, r in ipairs(rows) do
    if r.workload == w then
      out[#out + 1] = {workload = r.workload, n = r.n, who = "wb " .. r.executor, seconds = r.median_s, quality = r.quality,
                       metric = r.metric, note = r.note}
      if r.executor == execs[1] then first = r end
    end
  end
  for _, p in ipairs(first and peers[w] or {}) do
    local r = first
    local steps = peer(p[2], (w == "kmeans" or w == "pca") and opt.roll or opt.n)
    local s = step(steps, p[3])
    if s then
      local q
      if p[4] == "evr" then
        q = 0
        for v in (s.evr or ""):gmatch("[%-%d%.e]+") do q = q + tonumber(v) end
      elseif p[4] then
        local qs = step(steps, p[5]) or s
        q = qs[p[4]]
      end
      out[#out + 1] = {workload = w, n = r.n, who = p[1], seconds = s.seconds, quality = q, metric = r.metric,
                       ratio = r.median_s and s.seconds / r.median_s}
    elseif steps then
      out[#out + 1] = {workload = w, n = r.n, who = p[1], note = "peer failed"}
    end
  end
end
local T = wb.table
for _, o in ipairs(out) do
  if o.seconds then o.seconds = wb.bench.sig(o.seconds, 4) end
  if o.ratio then o.ratio = math.floor(o.ratio * 100 + 0.5) / 100 end
  if math.type(o.quality) == "float" then o.quality = wb.bench.sig(o.quality, 5) end
end
print(T.new({"workload", "n", "who", "seconds", "ratio", "metric", "quality", "note"}, out,
            "seconds: wb median / peer single run; ratio = peer seconds / wb seconds"))
print("load average after: " .. loadavg())
