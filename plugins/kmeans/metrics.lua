-- kmeans/metrics.lua: cluster-quality metrics as map/reduce over the data's
-- partitions (run by the kmeans plugin when it loads, with the wb table).
--   wb.metrics.inertia(data, labels, centers)
--   wb.metrics.davies_bouldin(data, labels)
--   wb.metrics.calinski_harabasz(data, labels)
--   wb.metrics.silhouette(data, labels, {sample = 10000, seed = 0})
-- Labels are a vector (e.g. km:predict(data)), a labelled dataset (its
-- labels) or a Lua table; any integers (cluster ids), as scikit-learn takes.
local wb = ...
wb.metrics = wb.metrics or {}
local M, core = wb.metrics, wb.core

local function is_dataset(x)
  local mt = getmetatable(x)
  return type(x) == "userdata" and type(mt) == "table" and mt.__name == "Dataset"
end

-- errors name the caller's line (the first frame outside this file)
local here = debug.getinfo(1, "S").source
local function where()
  for level = 3, 50 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source ~= here and info.currentline and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline .. ": "
    end
  end
  return ""
end

-- a value as an error message shows it: no table addresses, no control bytes,
-- no 70 KB strings (found by tests/lua/api_sweep.lua)
local function clean(s)
  if #s > 200 then s = s:sub(1, 200) .. "..." end -- first: the patterns below are slow on long runs
  s = s:gsub("(%a+): 0x%x+", "a %1"):gsub("file %(0x%x+%)", "a file")
  return (s:gsub("[%z\1-\8\11-\31\127]", function(c) return string.format("\\%d", c:byte()) end))
end

local function argerr(n, fname, msg)
  error(where() .. string.format("bad argument #%d to '%s' (%s)", n, fname, clean(msg)), 0)
end

local function fail(fname, fmt, ...)
  error(where() .. fname .. ": " .. string.format(fmt, ...), 0)
end

local function num(v)
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%.0f", v) end
  return tostring(v)
end

-- the kernels' common argument (kmarg in kmeans.h)
local function kmarg(k, d, mode, m, seed, f, row)
  return string.pack("<i8i8i8i8I8I8di8", k, d, mode or 0, m or 0, seed or 0, 0, f or 0, row or 0)
end

local function check_data(data, fname)
  if not is_dataset(data) then argerr(1, fname, "dataset expected, got " .. type(data)) end
  if data:rows() == 0 then argerr(1, fname, "the data has no rows") end
  core.check_finite(data, fname)
end

-- labels as a vector dataset with one label per row of data
local function as_labels(data, labels, fname, argn)
  local v
  if is_dataset(labels) then
    if labels:is_vector() or (labels:cols() == 1 and not labels:has_labels()) then
      v = labels
    elseif labels:has_labels() then
      v = labels:labels()
    else
      argerr(argn, fname, "a vector, a labelled dataset or a table of labels expected, got a dataset without labels")
    end
  elseif type(labels) == "table" then
    for i = 1, rawlen(labels) do -- not a __len that returns a string (found by api_sweep)
      if type(labels[i]) ~= "number" then argerr(argn, fname, string.format("label %d is a %s, not a number", i, type(labels[i]))) end
    end
    v = wb.vector(labels)
  else
    argerr(argn, fname, "labels expected (a vector, a labelled dataset or a table), got " .. type(labels))
  end
  if v:rows() ~= data:rows() then
    argerr(argn, fname, string.format("%d labels for %d rows", v:rows(), data:rows()))
  end
  return v
end

-- lowest label and the number of label slots (integers required)
local function label_range(v, fname)
  local lo, hi = math.huge, -math.huge
  for _, o in ipairs(core.map("kmeans.lrange", v, {}, "")) do
    local mn, mx, bad, val = string.unpack("<dddd", o:get())
    if bad >= 0 then fail(fname, "label %s at row %d is not an integer", num(val), math.tointeger(bad) + 1) end
    if mn < lo then lo = mn end
    if mx > hi then hi = mx end
  end
  local K = math.tointeger(hi - lo + 1)
  if not K or K > 100000 then fail(fname, "the labels span %s..%s; at most 100000 distinct cluster ids in a range", num(lo), num(hi)) end
  return lo, K
end

local function label_parts(v) return core.parts(v) end

-- per-cluster sums and counts -> centres (K x d, flat), counts, present ids
local function centres(data, v, lo, K)
  local d = data:cols()
  local lp = label_parts(v)
  local s = core.map_sum("kmeans.cstats", data, lp, kmarg(K, d, 0, 0, 0, lo), K * d + K)
  local cen, cnt, present = {}, {}, {}
  for c = 0, K - 1 do
    local n = s[K * d + c + 1]
    cnt[c] = n
    if n > 0 then present[#present + 1] = c end
    for t = 1, d do cen[c * d + t] = n > 0 and s[c * d + t] / n or 0 end
  end
  return cen, cnt, present, lp
end

-- per-cluster sums of distances and squared distances to the centres
local function dstats(data, lp, cen, lo, K)
  local extra = {core.put(core.pack_doubles(cen), data)} -- on the data's executor
  for _, p in ipairs(lp) do extra[#extra + 1] = p end
  return core.map_sum("kmeans.dstats", data, extra, kmarg(K, data:cols(), 0, 0, 0, lo), 2 * K)
end

local function check_nlabels(fname, nl, n)
  if nl < 2 or nl > n - 1 then
    fail(fname, "%d distinct labels; needs 2 to rows - 1 (%d)", nl, n - 1)
  end
end

function M.inertia(data, labels, centers)
  local fname = "inertia"
  check_data(data, fname)
  local v = as_labels(data, labels, fname, 2)
  local d = data:cols()
  local rows
  if is_dataset(centers) then
    rows = centers:rows_table(1, centers:rows())
  elseif type(centers) == "table" then
    rows = centers
  else
    argerr(3, fname, "centres expected (a table of rows or a dataset), got " .. type(centers))
  end
  local flat = {}
  for i, r in ipairs(rows) do
    if type(r) ~= "table" or #r ~= d then argerr(3, fname, string.format("centre %d must be a row of %d numbers", i, d)) end
    for t = 1, d do
      if type(r[t]) ~= "number" then argerr(3, fname, string.format("centre %d must be a row of %d numbers", i, d)) end
      flat[#flat + 1] = r[t]
    end
  end
  local k = #rows
  if k == 0 then argerr(3, fname, "no centres") end
  local lo, K = label_range(v, fname)
  if lo < 0 or lo + K - 1 > k - 1 then
    fail(fname, "labels run %s..%s; they must index the %d centres (0..%d)", num(lo), num(lo + K - 1), k, k - 1)
  end
  local q = dstats(data, label_parts(v), flat, 0, k)
  local s = 0
  for c = 1, k do s = s + q[k + c] end
  return s
end

function M.davies_bouldin(data, labels)
  local fname = "davies_bouldin"
  check_data(data, fname)
  local v = as_labels(data, labels, fname, 2)
  local d, n = data:cols(), data:rows()
  local lo, K = label_range(v, fname)
  local cen, cnt, present, lp = centres(data, v, lo, K)
  check_nlabels(fname, #present, n)
  local q = dstats(data, lp, cen, lo, K)
  local S, allzero = {}, true
  for _, c in ipairs(present) do
    S[c] = q[c + 1] / cnt[c]
    if math.abs(S[c]) > 1e-8 then allzero = false end
  end
  -- centroid distances (0 -> infinite, as scikit-learn)
  local dist, dzero = {}, true
  for _, a in ipairs(present) do
    dist[a] = {}
    for _, b in ipairs(present) do
      local s = 0
      for t = 1, d do local df = cen[a * d + t] - cen[b * d + t]; s = s + df * df end
      s = math.sqrt(s)
      if s > 1e-8 then dzero = false end
      dist[a][b] = s == 0 and math.huge or s
    end
  end
  if allzero or dzero then return 0.0 end
  local total = 0
  for _, a in ipairs(present) do
    local worst = 0
    for _, b in ipairs(present) do
      local r = (S[a] + S[b]) / dist[a][b]
      if r > worst then worst = r end
    end
    total = total + worst
  end
  return total / #present
end

function M.calinski_harabasz(data, labels)
  local fname = "calinski_harabasz"
  check_data(data, fname)
  local v = as_labels(data, labels, fname, 2)
  local d, n = data:cols(), data:rows()
  local lo, K = label_range(v, fname)
  local cen, cnt, present, lp = centres(data, v, lo, K)
  local nl = #present
  check_nlabels(fname, nl, n)
  local mean = {}
  for t = 1, d do
    local s = 0
    for _, c in ipairs(present) do s = s + cen[c * d + t] * cnt[c] end
    mean[t] = s / n
  end
  local extra = 0
  for _, c in ipairs(present) do
    local s = 0
    for t = 1, d do local df = cen[c * d + t] - mean[t]; s = s + df * df end
    extra = extra + cnt[c] * s
  end
  local q = dstats(data, lp, cen, lo, K)
  local intra = 0
  for _, c in ipairs(present) do intra = intra + q[K + c + 1] end
  if intra == 0 then return 1.0 end
  return extra * (n - nl) / (intra * (nl - 1))
end

local SILH_CHUNK = 256

function M.silhouette(data, labels, opts)
  local fname = "silhouette"
  check_data(data, fname)
  local v = as_labels(data, labels, fname, 2)
  if opts ~= nil and type(opts) ~= "table" then argerr(3, fname, "options table expected, got " .. type(opts)) end
  opts = opts or {}
  for key in pairs(opts) do
    if key ~= "sample" and key ~= "seed" then argerr(3, fname, string.format("unknown option '%s' (options: sample, seed)", tostring(key))) end
  end
  local n, d = data:rows(), data:cols()
  local m = opts.sample
  if m == nil then
    m = math.min(n, 10000)
  elseif math.type(m) ~= "integer" or m < 2 then
    argerr(3, fname, "sample must be an integer >= 2, got " .. tostring(m))
  end
  local seed = opts.seed or 0
  if math.type(seed) ~= "integer" or seed < 0 then argerr(3, fname, "seed must be an integer >= 0, got " .. tostring(seed)) end
  m = math.min(m, n)
  label_range(v, fname)
  local parts = core.map("kmeans.sample", data, label_parts(v), kmarg(0, d, 0, m, seed))
  local merged = core.submit("kmeans.sample_merge", parts, kmarg(0, d, 0, m))
  local mm, K = string.unpack("<dd", merged:get())
  mm, K = math.tointeger(mm), math.tointeger(K)
  check_nlabels(fname, K, mm)
  local tasks = {}
  for i0 = 0, mm - 1, SILH_CHUNK do
    tasks[#tasks + 1] = core.submit("kmeans.silh", {merged}, kmarg(0, d, 0, math.min(SILH_CHUNK, mm - i0), 0, 0, i0))
  end
  core.wait(tasks)
  local total = 0
  for _, t in ipairs(tasks) do total = total + string.unpack("<d", t:get()) end
  return total / mm
end

local ok, H = pcall(require, "wb.help")
if ok and type(H) == "table" and type(H.docs) == "table" then
  H.docs["wb.metrics.inertia"] = "wb.metrics.inertia(data, labels, centers) -> sum of squared distances from each row to centers[label + 1] (labels 0-based, as km:predict gives)"
  H.docs["wb.metrics.davies_bouldin"] = "wb.metrics.davies_bouldin(data, labels) -> Davies-Bouldin index (lower is better; scikit-learn's definition), two passes over the data"
  H.docs["wb.metrics.calinski_harabasz"] = "wb.metrics.calinski_harabasz(data, labels) -> Calinski-Harabasz index (between / within dispersion), two passes"
  H.docs["wb.metrics.silhouette"] = "wb.metrics.silhouette(data, labels, {sample = m, seed = 0}) -> mean silhouette; exact over all rows up to 10000 rows (or sample >= rows), else over m rows drawn by seed (default m = 10000)"
end
