-- bench/preprocess.lua: wb's side of bench/preprocess.sh (scikit-learn's side:
-- bench/peers/preprocess_peer.py). Each mode prints one JSON line.
--
--   wb bench/preprocess.lua cv CSV LABEL FOLDS_OUT [REPEATS]
--       5-fold cross-validated accuracy of
--       wb.pipeline{impute(median), onehot(ignore), scaler, logreg(C=1)} and
--       of gbdt (HistGradientBoosting's defaults) through wb.gridsearch, on
--       the CSV as wb.load reads it (text columns are categories, NA is
--       missing); the folds (stratified, seed 0: the ones gridsearch uses)
--       are written to FOLDS_OUT, one fold number per row, for the peer
--   wb bench/preprocess.lua gbdt CSV LABEL TRAIN_ROWS [REPEATS]
--       gbdt with its category splits on the first TRAIN_ROWS rows, accuracy
--       on the rest; fit time (wall and CPU, median of REPEATS)
--   wb bench/preprocess.lua transform CSV [REPEATS]
--       wb.pipeline{impute(median), scaler, onehot(max_categories 20)} (the
--       scaler on the number columns, the encoder on the text columns: a
--       ColumnTransformer's usual layout) fitted and applied to every row;
--       times of the fit and of the transform
local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local mode = arg[1]

local function json(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    local s
    if type(v) == "table" then
      local items = {}
      for i, x in ipairs(v) do items[i] = string.format("%.17g", x) end
      s = "[" .. table.concat(items, ",") .. "]"
    elseif type(v) == "number" then s = string.format("%.17g", v)
    else s = string.format("%q", tostring(v)) end
    parts[#parts + 1] = string.format("%q: %s", k, s)
  end
  print("{" .. table.concat(parts, ", ") .. "}")
end

-- wall and CPU seconds of f()
local function timed(f)
  local t0, c0 = wb.now(), os.clock()
  local r = f()
  return wb.now() - t0, os.clock() - c0, r
end

if mode == "cv" then
  local csv, label, folds_out = arg[2], arg[3], arg[4]
  local d = wb.load(csv, {label = label})
  -- the folds gridsearch uses (stratified, seed 0), written for the peer
  local ids = {}
  for i = 1, d:rows() do ids[i] = i - 1 end
  local folds = wb.kfold(d:with_column("rowid", wb.vector(ids)), {folds = 5, seed = 0, stratify = true})
  local fold_of = {}
  for f, fo in ipairs(folds) do
    for _, r in ipairs(wb.core.labels(fo.test:col("rowid"))) do fold_of[math.tointeger(r) + 1] = f - 1 end
  end
  local out = assert(io.open(folds_out, "w"))
  for i = 1, d:rows() do out:write(fold_of[i], "\n") end
  out:close()
  local pipe = wb.pipeline{{"impute", {strategy = "median"}}, {"onehot", {handle_unknown = "ignore"}}, "scaler",
                           {"logreg", {C = 1}}}
  local wall, cpu, g = timed(function() return wb.gridsearch(pipe, d, {C = {1}}, {folds = 5, seed = 0, refit = false}) end)
  local r = g.results[1]
  local gb = wb.gridsearch("gbdt", d, {n_trees = {100}}, {folds = 5, seed = 0, refit = false}).results[1]
  json{mode = "cv", side = "wb", rows = d:rows(), cols = d:cols(), pipeline_mean = r.mean_score,
       pipeline_folds = {r.fold1, r.fold2, r.fold3, r.fold4, r.fold5}, pipeline_seconds = wall, pipeline_cpu = cpu,
       gbdt_mean = gb.mean_score, gbdt_folds = {gb.fold1, gb.fold2, gb.fold3, gb.fold4, gb.fold5}}
elseif mode == "gbdt" then
  local csv, label, ntr, reps = arg[2], arg[3], math.tointeger(tonumber(arg[4])), math.tointeger(tonumber(arg[5] or 3))
  local d = wb.load(csv, {label = label})
  local tr, te = d:slice(1, ntr), d:slice(ntr + 1, d:rows())
  local params = {n_trees = 100, learning_rate = 0.1, max_leaves = 31, min_samples_leaf = 20, max_bins = 255}
  local walls, cpus, m = {}, {}, nil
  for i = 1, reps do
    local w, c, mm = timed(function() return wb.fit("gbdt", tr, params) end)
    walls[i], cpus[i], m = w, c, mm
  end
  local ncat = 0
  for _, t in ipairs(d:types()) do if t == "category" then ncat = ncat + 1 end end
  json{mode = "gbdt", side = "wb", train_rows = tr:rows(), test_rows = te:rows(), categorical = ncat, accuracy = m:score(te),
       fit_seconds = B.median(walls), fit_cpu = B.median(cpus), fit_all = walls, threads = wb.executor().threads}
elseif mode == "transform" then
  local csv, reps = arg[2], math.tointeger(tonumber(arg[3] or 3))
  local lw, lc, d = timed(function() return wb.load(csv) end)
  local pipe = wb.pipeline{{"impute", {strategy = "median"}}, "scaler",
                           {"onehot", {max_categories = 20, handle_unknown = "ignore"}}}
  local fits, tfs, fitc, tfc, out = {}, {}, {}, {}, nil
  for i = 1, reps do
    local w, c, pm = timed(function() return pipe:fit(d) end)
    fits[i], fitc[i] = w, c
    out = nil
    collectgarbage()
    local w2, c2, o = timed(function() return pm:transform(d) end)
    tfs[i], tfc[i], out = w2, c2, o
  end
  local first = out:row(1)
  local sum = 0
  for _, v in ipairs(first) do sum = sum + v end
  json{mode = "transform", side = "wb", rows = d:rows(), cols_in = d:cols(), cols_out = out:cols(), load_seconds = lw,
       fit_seconds = B.median(fits), transform_seconds = B.median(tfs), fit_cpu = B.median(fitc),
       transform_cpu = B.median(tfc), total_seconds = B.median(fits) + B.median(tfs), row1_sum = sum,
       threads = wb.executor().threads}
else
  io.stderr:write("usage: wb bench/preprocess.lua cv|gbdt|transform ...\n")
  os.exit(2)
end
