-- studies.lua: the studies' experiments end to end, on the executor you name.
--
--   wb -e examples/studies.lua                          (default scale 0.05: about a minute on 2 idle cores)
--   wb examples/studies.lua --scale 1.0 --executor local:12
--   wb examples/studies.lua --scale 1.0 --executor cluster:4 --only generate,load,logreg,kmeans
--
-- Scale 1.0 is the studies' 1 GB sets: a 5 M x 10 two-class classification set
-- and a 15 M-row swiss roll (k-means with k = 16); 2.0 is their 2 GB sets.
-- Steps, as the studies ran them: generate the data as LIBSVM plus .meta, load
-- it, fit the classifiers (logreg, sgd, gbdt and any other registered
-- classifier) and score them on a 20 % hold-out, grid search of logreg
-- (C x penalty, 3 folds), k-means with the Davies-Bouldin index, PCA; then a
-- scaling run (wb.bench: each workload at 1/4, 1/2 and all of the data on 1..N
-- threads or workers). Everything lands in a report folder:
--   report.md (tables + charts), report.csv/.json (the experiments),
--   bench.csv/.json/.md (the scaling run), *.svg (charts).
-- The table gives wall seconds and cpu_s, the CPU seconds of the wb process
-- (all its threads; on a cluster the driver's only): on an idle machine cpu_s
-- is up to threads x seconds, on a busy one the gap shows the lost time.
-- Options: --scale S, --executor local|local:N|cluster:N, --out DIR,
--   --only a,b,c (steps: generate, load, classify, <classifier name>, gridsearch,
--   kmeans, pca, scaling), --no-scaling, --repeats R (scaling run; default 3 at
--   scale <= 0.1, else 1), --keep-data,
--   --threads T (threads per worker on a cluster)
local T = wb.table

-- ------------------------------------------------------------ arguments
local opt = {scale = 0.05, executor = "local", out = "studies-report", scaling = true,
             keep = false, threads = 1}
do
  local a = arg or {}
  local i = 1
  local function value(name)
    i = i + 1
    if a[i] == nil then error("studies.lua: " .. name .. " needs a value", 0) end
    return a[i]
  end
  while a[i] ~= nil do
    local k = a[i]
    if k == "--scale" then
      opt.scale = tonumber(value(k))
      if not opt.scale or opt.scale <= 0 then error("studies.lua: --scale must be a number > 0, got " .. tostring(a[i]), 0) end
    elseif k == "--executor" then opt.executor = value(k)
    elseif k == "--out" then opt.out = value(k)
    elseif k == "--only" then
      opt.only = {}
      for s in value(k):gmatch("[^,%s]+") do opt.only[s] = true end
    elseif k == "--repeats" then
      opt.repeats = math.tointeger(tonumber(value(k)))
      if not opt.repeats or opt.repeats < 1 then error("studies.lua: --repeats must be an integer >= 1, got " .. tostring(a[i]), 0) end
    elseif k == "--threads" then
      opt.threads = math.tointeger(tonumber(value(k)))
      if not opt.threads or opt.threads < 1 then error("studies.lua: --threads must be an integer >= 1, got " .. tostring(a[i]), 0) end
    elseif k == "--no-scaling" then opt.scaling = false
    elseif k == "--keep-data" then opt.keep = true
    elseif k == "--help" or k == "-h" then
      print("usage: wb examples/studies.lua [--scale S] [--executor local|local:N|cluster:N] [--out DIR]\n" ..
            "       [--only steps] [--no-scaling] [--repeats R] [--keep-data] [--threads T]")
      return
    else
      error("studies.lua: unknown option '" .. tostring(k) .. "' (--help lists them)", 0)
    end
    i = i + 1
  end
end

-- repeats of the scaling run: 3 on small sets (noisy timings), 1 on big ones
opt.repeats = opt.repeats or (opt.scale <= 0.1 and 3 or 1)

local function wanted(step)
  if not opt.only then return true end
  return opt.only[step] == true
end

local kind, units = opt.executor:match("^(%a+):(%d+)$")
if not kind then kind = opt.executor end
units = math.tointeger(tonumber(units or ""))
if kind == "local" then
  units = units or wb.threads()
  wb.threads(units)
elseif kind == "cluster" then
  units = units or 2
  if not wb.cluster then error("studies.lua: --executor cluster:N needs wb.cluster, which this build does not have", 0) end
  wb.cluster{workers = units, threads = opt.threads}
else
  error("studies.lua: --executor must be local, local:N or cluster:N, got " .. opt.executor, 0)
end
local exlabel = kind .. ":" .. units

local n_cls = math.max(10000, math.floor(5e6 * opt.scale + 0.5))
local n_roll = math.max(10000, math.floor(15e6 * opt.scale + 0.5))
local FEATURES, K, SEED = 10, 16, 1
os.execute(string.format("mkdir -p '%s'", opt.out:gsub("'", "'\\''")))
local datadir = opt.out .. "/data"
os.execute(string.format("mkdir -p '%s'", datadir:gsub("'", "'\\''")))

-- ------------------------------------------------------------ recording
local results = {}
-- wall seconds; the CPU seconds of this process go to last_cpu (on a cluster
-- the work runs in the workers, so it is the driver's share only)
local last_cpu
local function timed(f, ...)
  local c0, t0 = os.clock(), wb.now()
  local a, b, c = f(...)
  local t = wb.now() - t0
  last_cpu = os.clock() - c0
  return t, a, b, c
end
local function short(n) return wb.plot.short(n) end
-- r.cpu_s: the CPU seconds of the timed call just before (unless given)
local function record(r)
  r.executor = r.executor or exlabel
  if type(r.value) == "number" then r.value = math.tointeger(r.value) or wb.bench.sig(r.value, 6) end
  if r.seconds then
    r.seconds = wb.bench.sig(r.seconds, 4)
    r.cpu_s = wb.bench.sig(r.cpu_s or last_cpu, 4)
  end
  results[#results + 1] = r
  local val = r.value and string.format("  %s %s", r.metric or "", T.format_value(r.value)) or ""
  print(string.format("%-14s %-31s n=%-6s %8s%s%s", r.workload, r.step, short(r.n or 0),
                      r.seconds and string.format("%.3f s", r.seconds) or "-", val, r.note and ("  (" .. r.note .. ")") or ""))
end
local function has(name) return wb.core.estimator_info(name) ~= nil end

local function loadavg()
  local f = io.open("/proc/loadavg")
  local s = f and f:read("l") or "?"
  if f then f:close() end
  return s:match("^(%S+ %S+ %S+)") or s
end
local load_before = loadavg()
local run_t0, run_c0 = wb.now(), os.clock()
print(string.format("studies at scale %g on %s: classification %s x %d, swiss roll %s x 3 (k = %d); report in %s/",
                    opt.scale, exlabel, short(n_cls), FEATURES, short(n_roll), K, opt.out))
print("load average before: " .. load_before .. " (other work on this machine slows the timings)")

-- ------------------------------------------------------------ data
local cls_file, roll_file = datadir .. "/classification.libsvm", datadir .. "/swiss_roll.libsvm"
local cls, roll
local cls_params = {n = n_cls, features = FEATURES, informative = FEATURES // 2, redundant = FEATURES // 2,
                    classes = 2, seed = SEED}
local roll_params = {n = n_roll, noise = 0.2, seed = SEED}
local function with(t, k, v) local c = {} for a, b in pairs(t) do c[a] = b end c[k] = v return c end

local written = {}
if wanted("generate") or wanted("load") then
  for _, d in ipairs({{"classification", cls_params, cls_file, n_cls}, {"swiss_roll", roll_params, roll_file, n_roll}}) do
    local ok, t = pcall(timed, wb.datagen[d[1]], with(d[2], "file", d[3]))
    if ok then
      written[d[3]] = true
      local f = io.open(d[3], "rb")
      local mb = f and f:seek("end") / 2 ^ 20
      if f then f:close() end
      record{workload = d[1], step = "generate LIBSVM+.meta", n = d[4], seconds = t, metric = "file_mb", value = mb}
    else
      record{workload = d[1], step = "generate LIBSVM+.meta", n = d[4], note = "not written: " .. tostring(t)}
    end
  end
end

local function load_or_generate(name, file, params, n)
  if written[file] then
    local ok, t, d = pcall(timed, wb.load, file)
    if ok then
      record{workload = name, step = "load LIBSVM", n = n, seconds = t, metric = "rows", value = d:rows()}
      return d
    end
    record{workload = name, step = "load LIBSVM", n = n, note = "failed: " .. tostring(t)}
  end
  local t, d = timed(wb.datagen[name], params)
  record{workload = name, step = "generate in memory", n = n, seconds = t, metric = "rows", value = d:rows()}
  return d
end

local need_cls = wanted("classify") or wanted("gridsearch") or wanted("load")
local need_roll = wanted("kmeans") or wanted("pca") or wanted("load")
for _, c in ipairs(wb.estimators()) do if opt.only and opt.only[c] then need_cls = true end end
if need_cls then cls = load_or_generate("classification", cls_file, cls_params, n_cls) end
if need_roll then roll = load_or_generate("swiss_roll", roll_file, roll_params, n_roll) end

-- ------------------------------------------------------------ classification
local train, test
if cls then
  if wb.split then
    train, test = wb.split(cls, {test = 0.2, seed = 42, stratify = true})
  else
    local cut = math.floor(cls:rows() * 0.8)
    train, test = cls:slice(1, cut), cls:slice(cut + 1, cls:rows())
  end
end

local classifiers = {}
do
  local seen = {}
  for _, name in ipairs({"logreg", "sgd", "gbdt"}) do classifiers[#classifiers + 1] = name; seen[name] = true end
  for _, name in ipairs(wb.estimators()) do
    local info = wb.core.estimator_info(name)
    -- any other classifier that can be fitted with its defaults (not a pipeline needing steps)
    local needs = false
    for _, p in ipairs(info and info.params or {}) do if p.default == nil then needs = true end end
    if not seen[name] and info and info.kind == "classifier" and not needs then classifiers[#classifiers + 1] = name end
  end
end
local clf_params = {logreg = {C = 1.0}, sgd = {loss = "log_loss", epochs = 5, seed = 1}, gbdt = {n_trees = 100, seed = 1}}

if train then
  for _, name in ipairs(classifiers) do
    if wanted("classify") or wanted(name) then
      if not has(name) then
        record{workload = name, step = "fit", n = train:rows(), note = "skipped: estimator '" .. name .. "' is not registered"}
      else
        local t, m = timed(wb.fit, name, train, clf_params[name] or {})
        local cpu = last_cpu
        local tp, acc = timed(function() return m:score(test) end)
        record{workload = name, step = "fit", n = train:rows(), seconds = t, cpu_s = cpu, metric = "accuracy", value = acc}
        record{workload = name, step = "predict + score", n = test:rows(), seconds = tp, metric = "accuracy", value = acc}
      end
    end
  end
  if wanted("gridsearch") then
    if not (wb.gridsearch and has("logreg")) then
      record{workload = "gridsearch", step = "logreg 4 C x 2 penalty, 3 folds", n = train:rows(), note = "skipped: wb.gridsearch or logreg is not available"}
    else
      local t, g = timed(wb.gridsearch, "logreg", train, {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}}, {folds = 3, metric = "accuracy"})
      local bp = {}
      for k, v in pairs(g.best_params or {}) do bp[#bp + 1] = k .. "=" .. tostring(v) end
      table.sort(bp)
      record{workload = "gridsearch", step = "logreg 4 C x 2 penalty, 3 folds", n = train:rows(), seconds = t,
             metric = "cv_accuracy", value = g.best_score, note = "best " .. table.concat(bp, " ")}
      if g.export then g:export(opt.out .. "/gridsearch.csv") end
    end
  end
end

-- ------------------------------------------------------------ clustering and PCA
local labels
if roll and wanted("kmeans") then
  if not has("kmeans") then
    record{workload = "kmeans", step = "fit k=16", n = n_roll, note = "skipped: estimator 'kmeans' is not registered"}
  else
    local t, km = timed(wb.fit, "kmeans", roll, {k = K, init = "k-means++", max_iter = 100, seed = 0})
    record{workload = "kmeans", step = "fit k=16", n = n_roll, seconds = t, metric = "iterations", value = km.iterations}
    record{workload = "kmeans", step = "inertia", n = n_roll, metric = "inertia", value = km.inertia}
    local tp, lab = timed(km.predict, km, roll)
    labels = lab
    record{workload = "kmeans", step = "predict", n = n_roll, seconds = tp}
    if wb.metrics and wb.metrics.davies_bouldin then
      local td, db = timed(wb.metrics.davies_bouldin, roll, lab)
      record{workload = "kmeans", step = "Davies-Bouldin", n = n_roll, seconds = td, metric = "davies_bouldin", value = db}
    else
      record{workload = "kmeans", step = "Davies-Bouldin", n = n_roll, note = "skipped: wb.metrics.davies_bouldin is not available"}
    end
    wb.plot.scatter(roll, {x = 1, y = 3, color = lab, file = opt.out .. "/kmeans_roll.svg",
                           title = "swiss roll, k-means clusters (k = 16)", legend_prefix = "cluster "})
  end
end
if roll and wanted("pca") then
  if not has("pca") then
    record{workload = "pca", step = "fit 2 components", n = n_roll, note = "skipped: estimator 'pca' is not registered"}
  else
    local t, p = timed(wb.fit, "pca", roll, {components = 2})
    local ev = 0
    for _, v in ipairs(p.explained_variance_ratio or {}) do ev = ev + (type(v) == "table" and v[1] or v) end
    record{workload = "pca", step = "fit 2 components", n = n_roll, seconds = t, metric = "explained_variance", value = ev}
    local tt, proj = timed(p.transform, p, roll)
    record{workload = "pca", step = "transform", n = n_roll, seconds = tt}
    wb.plot.scatter(proj, {color = labels or true, file = opt.out .. "/pca.svg",
                           title = labels and "PCA projection, coloured by k-means cluster" or "PCA projection, coloured by position on the roll",
                           xlabel = "PC1", ylabel = "PC2", legend_prefix = labels and "cluster " or nil})
  end
end
-- ------------------------------------------------------------ the experiments table
local COLS = {"workload", "step", "n", "executor", "seconds", "cpu_s", "metric", "value", "note"}
local report = T.new(COLS, results, string.format("studies at scale %g on %s", opt.scale, exlabel))
report:export(opt.out .. "/report.csv")
report:export(opt.out .. "/report.json")

-- ------------------------------------------------------------ scaling
local bench
if opt.scaling and wanted("scaling") then
  cls, roll, train, test, labels = nil, nil, nil, nil, nil
  collectgarbage()
  local execs = {}
  local t = 1
  while t < units do execs[#execs + 1] = kind .. ":" .. t; t = t * 2 end
  execs[#execs + 1] = kind .. ":" .. units
  if kind == "cluster" then
    -- the bench starts its own clusters
    if wb.disconnect then wb.disconnect() end
  end
  local function sizes(n) return {math.max(4096, n // 4), math.max(4096, n // 2), n} end
  local clsw = {"generate", "load", "logreg", "sgd", "gbdt", "gridsearch"}
  local rollw = {"kmeans", "pca"}
  print(string.format("scaling: %s x sizes %s on %s, %d repeat(s)", table.concat(clsw, ","),
                      table.concat((function() local s = {} for i, v in ipairs(sizes(n_cls)) do s[i] = short(v) end return s end)(), "/"),
                      table.concat(execs, ","), opt.repeats))
  local b1 = wb.bench{workloads = clsw, sizes = sizes(n_cls), executors = execs, repeats = opt.repeats,
                      features = FEATURES, seed = SEED, tmpdir = datadir, verbose = true}
  local b2 = wb.bench{workloads = rollw, sizes = sizes(n_roll), executors = execs, repeats = opt.repeats,
                      k = K, seed = SEED, tmpdir = datadir, verbose = true}
  local rows = {}
  for _, r in ipairs(b1) do rows[#rows + 1] = r end
  for _, r in ipairs(b2) do rows[#rows + 1] = r end
  bench = T.new(b1.columns, rows, b1.title)
  bench.skipped = {}
  for _, s in ipairs(b1.skipped) do bench.skipped[#bench.skipped + 1] = s end
  for _, s in ipairs(b2.skipped) do bench.skipped[#bench.skipped + 1] = s end
  bench:export(opt.out .. "/bench.csv")
  bench:export(opt.out .. "/bench.json")
  T.write_file(opt.out .. "/bench.md", wb.bench.markdown(bench))
end

-- ------------------------------------------------------------ charts
local charts = {}
if bench and #bench > 0 then
  local done = {}
  for _, r in ipairs(bench) do
    if r.median_s and not done[r.workload] then
      done[r.workload] = true
      local f = "time_" .. r.workload .. ".svg"
      wb.plot.time_vs_size(bench, {workload = r.workload, file = opt.out .. "/" .. f,
                                   title = "wall time vs rows: " .. r.workload})
      charts[#charts + 1] = {f, "wall time vs rows: " .. r.workload}
    end
  end
  -- speedup at the largest size of each workload
  local largest = {}
  for _, r in ipairs(bench) do
    if r.speedup and (not largest[r.workload] or r.n > largest[r.workload]) then largest[r.workload] = r.n end
  end
  local sub = {}
  for _, r in ipairs(bench) do if r.speedup and r.n == largest[r.workload] then sub[#sub + 1] = r end end
  if #sub > 0 then
    wb.plot.speedup(sub, {file = opt.out .. "/speedup.svg", title = "speedup at the largest size, " .. kind,
                          xlabel = kind == "cluster" and "workers" or "threads"})
    charts[#charts + 1] = {"speedup.svg", "speedup vs " .. (kind == "cluster" and "workers" or "threads") .. " (largest size)"}
  end
end
local function exists(p) local f = io.open(p, "rb") if f then f:close() return true end return false end
if exists(opt.out .. "/pca.svg") then charts[#charts + 1] = {"pca.svg", "PCA projection"} end
if exists(opt.out .. "/kmeans_roll.svg") then charts[#charts + 1] = {"kmeans_roll.svg", "k-means clusters on the swiss roll"} end

-- ------------------------------------------------------------ report.md
local md = {}
md[#md + 1] = "# wb: the studies reproduced"
md[#md + 1] = ""
md[#md + 1] = string.format("wb %s, %s, executor %s, scale %g (classification %s x %d, swiss roll %s x 3, k = %d), %s.",
                            wb.version(), (function() local p = io.popen("nproc 2>/dev/null") local s = p and p:read("l") if p then p:close() end return (s or "?") .. " cores" end)(),
                            exlabel, opt.scale, short(n_cls), FEATURES, short(n_roll), K, os.date("%Y-%m-%d %H:%M"))
md[#md + 1] = ""
md[#md + 1] = "Load average (1, 5, 15 min) before the run: " .. load_before .. "; after: " .. loadavg() .. "."
md[#md + 1] = ""
md[#md + 1] = "## Experiments"
md[#md + 1] = ""
md[#md + 1] = wb.bench.markdown(T.new(COLS, results))
md[#md + 1] = "## Published reference times (the studies, 12 cores, scale 1.0)"
md[#md + 1] = ""
md[#md + 1] = "| workload | rows | Ray | Dask | wb here |"
md[#md + 1] = "|---|---|---|---|---|"
local function ours(w, step)
  for _, r in ipairs(results) do if r.workload == w and r.step == step and r.seconds then return string.format("%.3g s", r.seconds) end end
  return "-"
end
local cmp = opt.scale == 1.0 and "" or " (other size)"
local published = T.new({"workload", "rows", "Ray_s", "Dask_s", "wb_here"}, {
  {workload = "logistic regression fit", rows = "5 M x 10", Ray_s = 14, Dask_s = 1260,
   wb_here = ours("logreg", "fit") .. (opt.scale == 1.0 and " (fit on the 4 M training rows)" or cmp)},
  {workload = "k-means k=16", rows = "15 M swiss roll", Ray_s = 53, Dask_s = 720, wb_here = ours("kmeans", "fit k=16") .. cmp},
}, string.format("the studies' published times (12 cores, scale 1.0) and wb's here (%s, scale %g)", exlabel, opt.scale))
md[#md + 1] = string.format("| logistic regression fit | 5 M | 14 s | 1260 s | %s |", published[1].wb_here)
md[#md + 1] = string.format("| k-means k=16 | 15 M swiss roll | 53 s | 720 s | %s |", published[2].wb_here)
md[#md + 1] = ""
md[#md + 1] = "The published times were measured on 12 cores; wb's here on the executor above."
md[#md + 1] = ""
if bench then
  md[#md + 1] = "## Scaling"
  md[#md + 1] = ""
  md[#md + 1] = wb.bench.markdown(bench)
  for _, s in ipairs(bench.skipped or {}) do md[#md + 1] = string.format("- skipped %s: %s", s.workload or s.executor, s.reason) end
  md[#md + 1] = ""
end
if #charts > 0 then
  md[#md + 1] = "## Charts"
  md[#md + 1] = ""
  for _, c in ipairs(charts) do md[#md + 1] = string.format("![%s](%s)", c[2], c[1]) end
  md[#md + 1] = ""
end
T.write_file(opt.out .. "/report.md", table.concat(md, "\n"))

if not opt.keep then
  for _, f in ipairs({cls_file, roll_file}) do os.remove(f); os.remove(f .. ".meta") end
  os.remove(datadir)
end
if kind == "cluster" and wb.disconnect then pcall(wb.disconnect) end

print("")
-- printed with each value in its own format (a count stays a count)
local shown = {}
for i, r in ipairs(results) do
  local c = {}
  for k, v in pairs(r) do c[k] = v end
  if type(c.value) == "number" then c.value = T.format_value(c.value) end
  shown[i] = c
end
print(T.new(COLS, shown, report.title):format(math.huge))
if bench then print(bench:format(math.huge)) end
print(published)
print(string.format("total: %.1f s wall, %.1f s CPU of this process; load average before: %s, after: %s",
                    wb.now() - run_t0, os.clock() - run_c0, load_before, loadavg()))
print(string.format("\nreport: %s/report.md (and report.csv, report.json%s)", opt.out, bench and ", bench.csv, bench.json, bench.md" or ""))
for _, c in ipairs(charts) do print(string.format("chart:  %s/%s  (%s)", opt.out, c[1], c[2])) end
