-- bench/gbdt.lua DIR2 DIR5 [REPEATS]: gbdt on the data of bench/gbdt_data.py
-- (DIR2: 2 classes, DIR5: 5 classes; train.npy / test.npy with labels).
-- One JSON line per step: median fit seconds of REPEATS runs (wall, and CPU
-- of the process: all threads), held-out accuracy, peak RSS. Configurations:
--   xgb: as XGBoost's defaults in the peer: 100 trees, max_depth 6 (up to 64
--        leaves), learning_rate 0.3, lambda_l2 1, min_child_weight 1, 255 bins;
--   hgb: as scikit-learn's HistGradientBoosting defaults: 100 trees, 31 leaves
--        best-first, learning_rate 0.1, min_samples_leaf 20, lambda_l2 0;
--   multi: the hgb configuration on the 5-class data.
-- With DIR2 only and REPEATS = "fit-only": one xgb fit (for /usr/bin/time -v).
local dir2, dir5 = arg[1], arg[2]
if not dir2 then error("usage: wb bench/gbdt.lua DIR2 DIR5 [REPEATS]") end
local T = require("wb.table")
local function out(rec)
  rec.tool = "wb"
  rec.threads = wb.threads()
  print(T.json_value(rec))
  io.stdout:flush()
end
local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end
local XGB = {n_trees = 100, max_depth = 6, max_leaves = 64, learning_rate = 0.3, lambda_l2 = 1,
             min_child_weight = 1, min_samples_leaf = 1, max_bins = 255}
local HGB = {n_trees = 100, max_leaves = 31, learning_rate = 0.1, min_samples_leaf = 20, lambda_l2 = 0,
             max_bins = 255}

local function load(dir)
  local t = wb.now()
  local tr, te = wb.load(dir .. "/train.npy"), wb.load(dir .. "/test.npy")
  out{step = "load", dir = dir, seconds = wb.now() - t, rows = tr:rows() + te:rows(), cols = tr:cols()}
  return tr, te
end

if dir5 == "fit-only" then
  local tr, te = load(dir2)
  local before = wb.core.peak_rss()
  local t = wb.now()
  local m = wb.fit("gbdt", tr, XGB)
  out{step = "fit_only", seconds = wb.now() - t, accuracy = m:score(te), peak_mb_before_fit = before / 2 ^ 20,
      peak_mb_after_fit = wb.core.peak_rss() / 2 ^ 20}
  return
end

local reps = tonumber(arg[3] or "3")
local function bench(step, tr, te, params)
  local times, m = {}, nil
  local cpus = {}
  for i = 1, reps do
    m = nil
    collectgarbage()
    local t, c = wb.now(), os.clock()
    m = wb.fit("gbdt", tr, params)
    times[i], cpus[i] = wb.now() - t, os.clock() - c
  end
  local t = wb.now()
  local acc = m:score(te)
  out{step = step, seconds = median(times), all = times, cpu_seconds = median(cpus), accuracy = acc, score_seconds = wb.now() - t,
      trees = #m.tree_start - 1, nodes = #m.trees}
end

local tr, te = load(dir2)
bench("xgb", tr, te, XGB)
bench("hgb", tr, te, HGB)
tr, te = nil, nil
collectgarbage()
if dir5 and dir5 ~= "" then
  local tr5, te5 = load(dir5)
  bench("multi", tr5, te5, HGB)
end
