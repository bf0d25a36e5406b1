-- select.lua — model selection front-ends (kernels in select.c). Runs at load
-- with the wb table.
--
--   wb.split(d, {test = 0.25, seed = 0, stratify = false}) -> train, test
--   wb.kfold(d, {folds = 5, seed = 0, stratify = false})  -> {{train =, test =}, ...}
--   wb.pipeline{"scaler", {"logreg", {C = 1}}}            -> a pipeline (p:fit(d), wb.fit(p, d))
--   wb.fit(name, d, params, {scale = true})               -> the same as a scaler + name pipeline
--   wb.gridsearch(name_or_pipeline, d, grid, {folds =, metric =, refit =, seed =, stratify =, params =})
--     metric: a classification metric of wb.scoring, or for a clusterer (kmeans)
--     inertia | davies_bouldin | calinski_harabasz | silhouette
--   wb.randomsearch(name_or_pipeline, d, distributions, {n_iter =, seed =, ...})
--   wb.repartition(d, rows)                               -> the same rows cut into partitions of `rows`
--
-- Splits and folds are exact: a row's place depends on a key hashed from
-- (seed, row index); per class (stratify) the key quantiles that give exactly
-- the asked-for counts are found with a histogram pass and a pass over the few
-- keys of the boundary bins, then wb.core.select repacks the rows.
local wb = ...
local T = require("wb.table")
local SH = require("wb.show")

local DSMT = debug.getregistry()["wb.Dataset"]
local function is_dataset(x) return getmetatable(x) == DSMT end

-- public functions raise errors at the caller's line, without our own positions
local function public(f)
  return function(...)
    local r = table.pack(pcall(f, ...))
    if not r[1] then
      local e = tostring(r[2]):gsub("^[%w_%./%-]+:%d+: ", "")
      error(e, 2)
    end
    return table.unpack(r, 2, r.n)
  end
end

-- a value as an error message shows it: no table addresses, no control bytes,
-- no 70 KB strings (found by tests/lua/api_sweep.lua)
local function clean(s)
  if #s > 200 then s = s:sub(1, 200) .. "..." end -- first: the patterns below are slow on long runs
  s = s:gsub("(%a+): 0x%x+", "a %1"):gsub("file %(0x%x+%)", "a file")
  return (s:gsub("[%z\1-\8\11-\31\127]", function(c) return string.format("\\%d", c:byte()) end))
end

local function argerr(n, fname, fmt, ...)
  local a = table.pack(...)
  for i = 1, a.n do if type(a[i]) == "string" then a[i] = clean(a[i]) end end
  error(string.format("bad argument #%d to '%s' (%s)", n, fname, string.format(fmt, table.unpack(a, 1, a.n))), 0)
end

local function check_dataset(d, n, fname)
  if not is_dataset(d) then argerr(n, fname, "dataset expected, got %s", type(d)) end
end

local function check_opts(o, n, fname, allowed)
  if o == nil then return {} end
  if type(o) ~= "table" then argerr(n, fname, "table of options expected, got %s", type(o)) end
  for k in pairs(o) do
    if not allowed[k] then
      local names = {}
      for a in pairs(allowed) do names[#names + 1] = a end
      table.sort(names)
      argerr(n, fname, "unknown option '%s' (options: %s)", tostring(k), table.concat(names, ", "))
    end
  end
  return o
end

local function check_seed(s, n, fname)
  if s == nil then return 0 end
  if math.type(s) ~= "integer" or s < 0 then argerr(n, fname, "seed must be an integer >= 0, got %s", tostring(s)) end
  return s
end

-- ------------------------------------------------------------ key quantiles

local function key_header(seed, ncls, nbins, npairs)
  return string.pack("<I8i4i4i4i4", seed, ncls, nbins, npairs or 0, 0)
end

-- groups: nil (every row one group) or the sorted classes. Returns the rows
-- per group and a function threshold(g, r) for ranks asked in `ranks`:
-- ranks[g] = list of ranks r (0..n_g); threshold t has exactly r rows of
-- group g with key < t.
local function key_quantiles(d, seed, classes, ranks_of)
  local G = classes and #classes or 1
  local nbins = math.max(16, math.min(1024, (1 << 17) // G))
  local cls = classes and wb.core.pack_doubles(classes) or ""
  local ncls = classes and #classes or 0
  local hist = {}
  for i = 1, G * nbins do hist[i] = 0 end
  local fut = {}
  for i, o in ipairs(wb.core.parts(d)) do fut[i] = wb.core.submit("select.keyhist", {o}, key_header(seed, ncls, nbins) .. cls) end
  wb.core.wait(fut)
  for _, f in ipairs(fut) do
    local v = wb.core.unpack_doubles(wb.core.get(f))
    for i = 1, #v do hist[i] = hist[i] + v[i] end
  end
  local counts = {}
  for g = 1, G do
    local s = 0
    for b = 1, nbins do s = s + hist[(g - 1) * nbins + b] end
    counts[g] = math.tointeger(s)
  end
  local ranks = ranks_of(counts)
  -- which bins hold each asked rank
  local need, pairs_, where = {}, {}, {}
  for g = 1, G do
    where[g] = {}
    for _, r in ipairs(ranks[g]) do
      if r > 0 and r < counts[g] then
        local cum = 0
        for b = 1, nbins do
          local c = hist[(g - 1) * nbins + b]
          if r < cum + c then
            local key = (g - 1) * nbins + (b - 1)
            if not need[key] then need[key] = #pairs_ + 1; pairs_[#pairs_ + 1] = {g - 1, b - 1} end
            where[g][r] = {need[key], r - cum}
            break
          end
          cum = cum + c
        end
      end
    end
  end
  local keys = {}
  for k = 1, #pairs_ do keys[k] = {} end
  if #pairs_ > 0 then
    local flat = {}
    for _, p in ipairs(pairs_) do flat[#flat + 1] = p[1]; flat[#flat + 1] = p[2] end
    local arg = key_header(seed, ncls, nbins, #pairs_) .. cls .. wb.core.pack_doubles(flat)
    fut = {}
    for i, o in ipairs(wb.core.parts(d)) do fut[i] = wb.core.submit("select.keys_in", {o}, arg) end
    wb.core.wait(fut)
    for _, f in ipairs(fut) do
      local v = wb.core.unpack_doubles(wb.core.get(f))
      local pos = #pairs_ + 1
      for k = 1, #pairs_ do
        for _ = 1, v[k] do keys[k][#keys[k] + 1] = v[pos]; pos = pos + 1 end
      end
    end
    for k = 1, #pairs_ do table.sort(keys[k]) end
  end
  local function threshold(g, r)
    if r <= 0 then return 0.0 end
    if r >= counts[g] then return 1.0 end
    local w = where[g][r]
    return keys[w[1]][w[2] + 1]
  end
  return counts, threshold
end

-- largest-remainder share of `total` over the counts (ties: the earlier group)
local function allocate(counts, total, n)
  local out, rem, used = {}, {}, 0
  for g, c in ipairs(counts) do
    local exact = c * total / n
    out[g] = math.min(c, math.floor(exact))
    rem[g] = exact - out[g]
    used = used + out[g]
  end
  local order = {}
  for g = 1, #counts do order[g] = g end
  table.sort(order, function(a, b) if rem[a] ~= rem[b] then return rem[a] > rem[b] end return a < b end)
  local i = 1
  while used < total do
    local g = order[(i - 1) % #order + 1]
    if out[g] < counts[g] then out[g] = out[g] + 1; used = used + 1 end
    i = i + 1
  end
  return out
end

local function select_ranges(d, seed, classes, lo, hi, invert)
  return wb.core.select(d, {seed = seed, classes = classes, nranges = 1, lo = lo, hi = hi, invert = invert})
end

-- ------------------------------------------------------------------- split

local function split(d, opts)
  local fname = "split"
  check_dataset(d, 1, fname)
  opts = check_opts(opts, 2, fname, {test = true, test_size = true, seed = true, stratify = true})
  local n = d:rows()
  local test = opts.test or opts.test_size or 0.25
  local ntest
  if type(test) ~= "number" then argerr(2, fname, "test must be a fraction in (0, 1) or a number of rows, got %s", type(test)) end
  if test > 0 and test < 1 then ntest = math.ceil(test * n - 1e-9)
  elseif math.tointeger(test) and test >= 1 then ntest = math.tointeger(test) -- not inf (found by api_sweep)
  else argerr(2, fname, "test must be a fraction in (0, 1) or a number of rows, got %s", SH.num(test)) end
  if ntest < 1 or ntest >= n then
    argerr(2, fname, "test = %s leaves %d test and %d training rows of %d", SH.num(test), ntest, n - ntest, n)
  end
  local seed = check_seed(opts.seed, 2, fname)
  local classes
  if opts.stratify then
    if not d:has_labels() then argerr(1, fname, "stratify needs labels; the dataset has none") end
    classes = wb.core.classes(d, fname)
  end
  local counts, threshold = key_quantiles(d, seed, classes, function(counts)
    local per = allocate(counts, ntest, n)
    local ranks = {}
    for g = 1, #counts do ranks[g] = {per[g]} end
    return ranks
  end)
  local per = allocate(counts, ntest, n)
  local lo, hi = {}, {}
  for g = 1, #counts do lo[g] = 0.0; hi[g] = threshold(g, per[g]) end
  local te = select_ranges(d, seed, classes, lo, hi, false)
  local tr = select_ranges(d, seed, classes, lo, hi, true)
  return tr, te
end
wb.split = public(split)

-- ------------------------------------------------------------------- folds

local FOLD_SEED_MIX = 0x6b666f6c64 -- folds use their own keys, not the split's

local function check_folds(k, n, argn, fname)
  if not math.tointeger(k) then -- inf == math.floor(inf) passed here (found by api_sweep)
    argerr(argn, fname, "folds must be an integer from 2 to %d (the rows), got %s", n, tostring(k))
  end
  k = math.tointeger(k)
  if k < 2 or k > n then argerr(argn, fname, "folds must be an integer from 2 to %d (the rows), got %d", n, k) end
  return k
end

local function kfold(d, opts, fname, argn)
  fname = fname or "kfold"
  argn = argn or 2
  check_dataset(d, 1, fname)
  opts = check_opts(opts, argn, fname, {folds = true, seed = true, stratify = true})
  local n = d:rows()
  local k = check_folds(opts.folds or 5, n, argn, fname)
  local seed = check_seed(opts.seed, argn, fname) ~ FOLD_SEED_MIX
  local classes
  if opts.stratify then
    if not d:has_labels() then argerr(1, fname, "stratify needs labels; the dataset has none") end
    classes = wb.core.classes(d, fname)
  end
  local sizes -- sizes[g][f]
  local counts, threshold = key_quantiles(d, seed, classes, function(counts)
    sizes = {}
    local off = 0
    for g, c in ipairs(counts) do
      sizes[g] = {}
      local base, extra = c // k, c % k
      for f = 1, k do sizes[g][f] = base end
      for e = 0, extra - 1 do local f = (off + e) % k + 1; sizes[g][f] = sizes[g][f] + 1 end
      off = (off + extra) % k
    end
    local ranks = {}
    for g = 1, #counts do
      ranks[g] = {}
      local r = 0
      for f = 1, k do ranks[g][f] = r; r = r + sizes[g][f] end
      ranks[g][k + 1] = r
    end
    return ranks
  end)
  if classes then
    for g, c in ipairs(counts) do
      if c < k then
        io.stderr:write(string.format("wb: warning: %s: class %s has %d rows, fewer than the %d folds\n", fname, SH.num(classes[g]), c, k))
      end
    end
  end
  local folds = {}
  for f = 1, k do
    local lo, hi = {}, {}
    for g = 1, #counts do
      local r = 0
      for j = 1, f - 1 do r = r + sizes[g][j] end
      lo[g] = threshold(g, r)
      hi[g] = threshold(g, r + sizes[g][f])
    end
    folds[f] = {test = select_ranges(d, seed, classes, lo, hi, false), train = select_ranges(d, seed, classes, lo, hi, true)}
  end
  return folds
end
wb.kfold = public(function(d, opts) return kfold(d, opts, "kfold") end)
wb.stratified_kfold = public(function(d, opts)
  opts = check_opts(opts, 2, "stratified_kfold", {folds = true, seed = true})
  return kfold(d, {folds = opts.folds, seed = opts.seed, stratify = true}, "stratified_kfold")
end)

-- ------------------------------------------------------------- repartition

wb.repartition = public(function(d, rows)
  local fname = "repartition"
  check_dataset(d, 1, fname)
  if math.type(rows) ~= "integer" or rows < 4096 or rows % 4096 ~= 0 then
    argerr(2, fname, "rows per partition must be a multiple of 4096, got %s", tostring(rows))
  end
  local parts = wb.core.parts(d)
  local shape = {}
  for i, o in ipairs(parts) do shape[i] = wb.core.submit("select.shape", {o}, "") end
  wb.core.wait(shape)
  for i, f in ipairs(shape) do local a, b = string.unpack("<i8i8", wb.core.get(f)); shape[i] = {a, b} end
  local out, n = {}, d:rows()
  for lo = 0, n - 1, rows do
    local hi = math.min(lo + rows, n)
    local ins = {}
    for i, o in ipairs(parts) do
      if shape[i][1] < hi and shape[i][1] + shape[i][2] > lo then ins[#ins + 1] = o end
    end
    out[#out + 1] = wb.core.submit("select.gather", ins, string.pack("<i8i8i8", lo, hi, lo))
  end
  wb.core.wait(out)
  local r = wb.core.dataset(out, d) -- names, types and levels kept
  return r
end)

-- ---------------------------------------------------------------- pipelines

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

local Pipeline = {}
Pipeline.__index = Pipeline
Pipeline.__name = "Pipeline"

-- "did you mean 'kmeans'? estimators: ..." for a name that is not one
local function estimator_names(name)
  local names = wb.estimators()
  local near = type(name) == "string" and wb.core.closest and wb.core.closest(name, names)
  return (near and ("did you mean '" .. near .. "'? ") or "") .. "estimators: " .. table.concat(names, ", ")
end

local function step_list(p)
  local s = {}
  for i, st in ipairs(p.steps) do s[i] = st.name end
  return s
end

local function params_text(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    parts[#parts + 1] = k .. "=" .. (type(v) == "number" and SH.num(v) or type(v) == "table" and "[matrix]" or tostring(v))
  end
  return table.concat(parts, ", ")
end

Pipeline.__tostring = function(p)
  local s = {}
  for i, st in ipairs(p.steps) do s[i] = st.name .. "{" .. params_text(st.params) .. "}" end
  return "pipeline: " .. table.concat(s, " -> ")
end

-- the parameters of the registered "pipeline" estimator
function Pipeline:spec(over)
  local names, specs = {}, {}
  for i, st in ipairs(self.steps) do
    local params = {}
    for k, v in pairs(st.params) do params[k] = v end
    for k, v in pairs(over and over[i] or {}) do params[k] = v end
    names[i] = st.name
    specs[i] = hex(wb.core.model_new(st.name, params):encode())
  end
  return {steps = table.concat(names, ","), spec = table.concat(specs, ",")}
end

-- per-step overrides from flat parameters ("C", "logreg.C", "logreg__C")
function Pipeline:resolve(key, fname, argn)
  local step, pname = key:match("^([%w_]+)%.([%w_]+)$")
  if not step then step, pname = key:match("^([%w_]+)__([%w_]+)$") end
  local function has(i, name)
    for _, p in ipairs(wb.core.estimator_info(self.steps[i].name).params) do if p.name == name then return true end end
    return false
  end
  if step then
    for i, st in ipairs(self.steps) do
      if st.name == step then
        if not has(i, pname) then argerr(argn, fname, "'%s' is not a parameter of %s", pname, step) end
        return i, pname
      end
    end
    argerr(argn, fname, "no step named '%s' in the pipeline (%s)", step, table.concat(step_list(self), ", "))
  end
  local found = {}
  for i = 1, #self.steps do if has(i, key) then found[#found + 1] = i end end
  if #found == 1 then return found[1], key end
  if #found > 1 then
    argerr(argn, fname, "'%s' is a parameter of several steps (%s): write '%s.%s'", key,
      table.concat(step_list(self), ", "), self.steps[found[#found]].name, key)
  end
  argerr(argn, fname, "'%s' is not a parameter of any step of the pipeline (%s)", key, table.concat(step_list(self), ", "))
end

-- flat overrides -> per-step tables (checked against each step's schema)
function Pipeline:overrides(flat, fname, argn)
  local over = {}
  for i = 1, #self.steps do over[i] = {} end
  for k, v in pairs(flat or {}) do
    local i, name = self:resolve(k, fname, argn)
    over[i][name] = v
  end
  for i, st in ipairs(self.steps) do
    local merged = {}
    for k, v in pairs(st.params) do merged[k] = v end
    for k, v in pairs(over[i]) do merged[k] = v end
    wb.core.check_params(st.name, merged)
  end
  return over
end

local cfit = wb.fit
function Pipeline:fit(data, params)
  local spec = self:spec(self:overrides(params, "fit", 3))
  return cfit("pipeline", data, spec)
end

local function pipeline(steps)
  local fname = "pipeline"
  if type(steps) ~= "table" or #steps == 0 then argerr(1, fname, "a list of steps expected (names or {name, params})") end
  local p = setmetatable({steps = {}}, Pipeline)
  for i, s in ipairs(steps) do
    local name, params
    if type(s) == "string" then name, params = s, {}
    elseif type(s) == "table" then
      name, params = s[1] or s.name, s[2] or s.params or {}
    end
    if type(name) ~= "string" then argerr(1, fname, "step %d must be a name or {name, params}", i) end
    if not wb.core.estimator_info(name) then
      argerr(1, fname, "step %d: no estimator named '%s' (%s)", i, name, estimator_names(name))
    end
    if name == "pipeline" then argerr(1, fname, "step %d: a pipeline cannot hold a pipeline", i) end
    if type(params) ~= "table" then argerr(1, fname, "step %d: parameters must be a table, got %s", i, type(params)) end
    local info = wb.core.estimator_info(name)
    if i < #steps then
      local ok = false
      for _, m in ipairs(info.methods) do if m == "transform" then ok = true end end
      if not ok then argerr(1, fname, "step %d (%s) has no transform; only the last step may be any estimator", i, name) end
    end
    wb.core.check_params(name, params)
    local copy = {}
    for k, v in pairs(params) do copy[k] = v end
    p.steps[i] = {name = name, params = copy}
  end
  return p
end
wb.pipeline = public(pipeline)

-- wb.fit also takes a pipeline, and {scale = true} (a scaler before the estimator)
local fit = cfit
wb.fit = function(name, data, params, opts)
  if getmetatable(name) == Pipeline then
    local ok, m = pcall(Pipeline.fit, name, data, params)
    if not ok then error(tostring(m):gsub("^[%w_%./%-]+:%d+: ", ""), 2) end
    return m
  end
  if opts ~= nil then
    if type(opts) ~= "table" then error(string.format("bad argument #4 to 'fit' (table of options expected, got %s)", type(opts)), 2) end
    for k in pairs(opts) do
      if k ~= "scale" then error(string.format("bad argument #4 to 'fit' (unknown option '%s' (options: scale))", tostring(k)), 2) end
    end
    if opts.scale then
      local sp = type(opts.scale) == "table" and opts.scale or {}
      local ok, m = pcall(function() return pipeline{{"scaler", sp}, {name, params or {}}}:fit(data) end)
      if not ok then error(tostring(m):gsub("^[%w_%./%-]+:%d+: ", ""), 2) end
      return m
    end
  end
  local m = fit(name, data, params)
  return m
end

-- the fitted models of a pipeline model's steps
local Mmt = debug.getregistry()["wb.Model"]
Mmt.methods.steps = function(m)
  if getmetatable(m) ~= Mmt then
    error(string.format("bad argument #1 to 'steps' (model expected, got %s)", type(m)), 2)
  end
  if m:estimator() ~= "pipeline" then error("steps: not a pipeline model (" .. m:estimator() .. ")", 2) end
  local out = {}
  for i = 1, m.n_steps do out[i] = wb.core.model_decode(unhex(m:get("step" .. i))) end
  return out
end

local previous_show = SH.model
SH.model = function(m)
  if getmetatable(m) == Mmt and m:estimator() == "pipeline" then -- anything else: the checks of previous_show
    local ok, s = pcall(function()
      local steps = m:steps()
      local names = {}
      for i, sm in ipairs(steps) do names[i] = sm:estimator() end
      local lines = {"pipeline model: " .. table.concat(names, " -> ")}
      for i, sm in ipairs(steps) do
        lines[#lines + 1] = string.format("step %d: %s", i, (SH.model(sm):gsub("\n", "\n  ")))
      end
      return table.concat(lines, "\n")
    end)
    if ok then return s end
  end
  return previous_show(m)
end

-- ------------------------------------------------------------------ search

-- an estimator for a search: a name or a pipeline
local function target_of(est, fname)
  if getmetatable(est) == Pipeline then
    local last = wb.core.estimator_info(est.steps[#est.steps].name)
    return {pipeline = est, name = "pipeline", info = last, label = tostring(est)}
  end
  if type(est) ~= "string" then argerr(1, fname, "an estimator name or a pipeline expected, got %s", type(est)) end
  local info = wb.core.estimator_info(est)
  if not info then argerr(1, fname, "no estimator named '%s' (%s)", est, estimator_names(est)) end
  return {name = est, info = info, label = est}
end

local function param_names(info)
  local n = {}
  for _, p in ipairs(info.params) do n[#n + 1] = p.name end
  return n
end

-- check a flat parameter name against the target
local function check_key(tg, key, fname, argn)
  if type(key) ~= "string" then argerr(argn, fname, "grid keys must be parameter names, got %s", type(key)) end
  if tg.pipeline then tg.pipeline:resolve(key, fname, argn) return end
  for _, p in ipairs(tg.info.params) do if p.name == key then return end end
  argerr(argn, fname, "grid key '%s' is not a parameter of %s (parameters: %s)", key, tg.name, table.concat(param_names(tg.info), ", "))
end

-- the parameters of the estimator actually fitted for a flat combination
local function fit_params(tg, flat, fname, argn)
  if tg.pipeline then return tg.pipeline:spec(tg.pipeline:overrides(flat, fname, argn)) end
  wb.core.check_params(tg.name, flat)
  return flat
end

-- the combinations of a grid (or a list of grids): keys sorted, the first
-- varying slowest (scikit-learn's ParameterGrid order)
local function combos_of(tg, grid, fname)
  if type(grid) ~= "table" then argerr(3, fname, "a table of parameter lists expected, got %s", type(grid)) end
  local grids = (#grid > 0 and type(grid[1]) == "table") and grid or {grid}
  local out = {}
  for _, g in ipairs(grids) do
    if type(g) ~= "table" then argerr(3, fname, "a list of grids must hold tables") end
    local keys = {}
    for k in pairs(g) do keys[#keys + 1] = k end
    if #keys == 0 then argerr(3, fname, "the grid is empty: give at least one parameter with a list of values") end
    for _, k in ipairs(keys) do check_key(tg, k, fname, 3) end
    table.sort(keys)
    local lists = {}
    for i, k in ipairs(keys) do
      local v = g[k]
      if type(v) == "table" and getmetatable(v) == nil then
        if #v == 0 then argerr(3, fname, "the grid's list for '%s' is empty", k) end
        lists[i] = v
      else
        lists[i] = {v}
      end
    end
    local function rec(i, acc)
      if i > #keys then
        local c = {}
        for k, v in pairs(acc) do c[k] = v end
        out[#out + 1] = c
        return
      end
      for _, v in ipairs(lists[i]) do acc[keys[i]] = v; rec(i + 1, acc) end
      acc[keys[i]] = nil
    end
    rec(1, {})
  end
  return out
end

local Search = {}
Search.__index = Search
Search.__name = "SearchResult"

function Search:export(path)
  if getmetatable(self) ~= Search then
    error(string.format("bad argument #1 to 'export' (search result expected, got %s)", type(self)), 2)
  end
  if type(path) ~= "string" then error(string.format("bad argument #1 to 'export' (path expected, got %s)", type(path)), 2) end
  local ext = path:match("%.([%w]+)$")
  ext = ext and ext:lower()
  if ext == "json" then
    local obj = {kind = self.kind, estimator = self.estimator, metric = self.metric, folds = self.folds,
                 best_params = self.best_params, best_score = self.best_score, best_index = self.best_index,
                 seconds = self.seconds}
    local body = T.json_value(obj):sub(1, -2) .. ',"results":' .. T.to_json(self.results) .. "}\n"
    return T.write_file(path, body)
  end
  local ok, r = pcall(self.results.export, self.results, path)
  if not ok then error(tostring(r):gsub("^[%w_%./%-]+:%d+: ", ""), 2) end
  return r
end

Search.__tostring = function(g)
  -- found by tests/lua/api_sweep.lua: anything else raised "attempt to index"
  if getmetatable(g) ~= Search then
    error(string.format("bad argument #1 to '__tostring' (search result expected, got %s)", type(g)), 2)
  end
  local lines = {string.format("%s of %s: %d candidates x %d folds, metric %s, %.3g s", g.kind, g.estimator,
    #g.results, g.folds, g.metric, g.seconds)}
  lines[2] = string.format("best: %s  %s %s (+/- %s)", params_text(g.best_params), g.metric, SH.num(g.best_score),
    SH.num(g.results[g.best_index].std_score))
  lines[3] = tostring(g.results)
  return table.concat(lines, "\n")
end

local KIND = {score = 0, labels = 1}

-- clustering metrics for a clusterer's validation folds, in the order they
-- are listed. The estimator's own score computes them when its `score`
-- parameter names them (k-means: minus the inertia, minus Davies-Bouldin,
-- Calinski-Harabasz, silhouette); the lower-is-better ones come back negated
-- and are turned back into the metric itself, ranked lowest first.
local CLUSTER_ORDER = {"inertia", "davies_bouldin", "calinski_harabasz", "silhouette"}
local CLUSTER_METRICS = {
  inertia = {needs = "score", cluster = true, lower = true, negated = true},
  davies_bouldin = {needs = "score", cluster = true, lower = true, negated = true},
  calinski_harabasz = {needs = "score", cluster = true},
  silhouette = {needs = "score", cluster = true},
}

-- the parameter that chooses what the (last step's) score computes
local function score_key(tg)
  if tg.pipeline then return tg.pipeline.steps[#tg.pipeline.steps].name .. ".score" end
  return "score"
end

-- the metrics a clusterer can be searched by: its own score, and the
-- clustering metrics its `score` parameter accepts
local function cluster_metrics(tg, has_score)
  local out = {}
  if has_score then out[1] = "score" end
  local has_param = false
  for _, p in ipairs(tg.info.params) do if p.name == "score" then has_param = true end end
  if has_param and has_score then
    for _, m in ipairs(CLUSTER_ORDER) do
      if pcall(wb.core.check_params, tg.info.name, {score = m}) then out[#out + 1] = m end
    end
  end
  return out
end

-- what a dataset knows of its columns, for the tasks that rebuild its folds
-- from their partitions (select.cv): JSON [names, levels (null for a number
-- column), label name, label levels]
local function jstr(v)
  if v == nil then return "null" end
  return '"' .. v:gsub('[%c"\\]', function(c)
    local map = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
    return map[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end
local function jlist(t, f)
  local p = {}
  for i = 1, #t do p[i] = f(t[i]) end
  return "[" .. table.concat(p, ",") .. "]"
end
local function schema_of(d)
  local names, types, levels = d:names(), d:types(), {}
  for j = 1, #types do levels[j] = types[j] == "category" and jlist(d:levels(j) or {}, jstr) or "null" end
  local ll = d:has_labels() and d:label_levels() or nil
  return "[" .. jlist(names, jstr) .. ",[" .. table.concat(levels, ",") .. "]," ..
         jstr(d:has_labels() and d:label_name() or nil) .. "," .. (ll and jlist(ll, jstr) or "null") .. "]"
end

local function search(fname, est, data, combos_fn, opts, extra_opts)
  local t_start = wb.now()
  local tg = target_of(est, fname)
  check_dataset(data, 2, fname)
  local allowed = {folds = true, metric = true, refit = true, seed = true, stratify = true, params = true}
  for k in pairs(extra_opts or {}) do allowed[k] = true end
  opts = check_opts(opts, 4, fname, allowed)
  local combos = combos_fn(tg)
  -- fixed parameters and every combination checked before any work
  local base = opts.params or {}
  if type(base) ~= "table" then argerr(4, fname, "params must be a table of fixed parameters, got %s", type(base)) end
  for k in pairs(base) do check_key(tg, k, fname, 4) end
  -- the metric: the classification metrics of wb.scoring, or for a clusterer
  -- the clustering metrics its `score` parameter names (scored on each
  -- validation fold by the estimator's own score with that parameter set)
  local S = wb.scoring
  local metric = opts.metric
  local has_score = false
  for _, m in ipairs(wb.core.estimator_info(tg.name).methods) do if m == "score" then has_score = true end end
  local classifier = tg.info.kind == "classifier"
  local clusterer = tg.info.kind == "clusterer"
  if metric == nil then
    if has_score then metric = "score"
    elseif classifier then metric = "accuracy"
    else argerr(4, fname, "%s has no score: give a metric (one of %s)", tg.label, table.concat(S.names(), ", ")) end
  end
  local allowed_metrics = clusterer and cluster_metrics(tg, has_score) or S.names()
  if type(metric) ~= "string" or not (S.metrics[metric] or CLUSTER_METRICS[metric]) then
    local near = type(metric) == "string" and wb.core.closest(metric, allowed_metrics)
    local hint = near and ("did you mean '" .. near .. "'? ") or ""
    if clusterer then
      argerr(4, fname, "unknown metric '%s' (%smetrics for %s: %s)", tostring(metric), hint, tg.label, table.concat(allowed_metrics, ", "))
    end
    argerr(4, fname, "unknown metric '%s' (%smetrics: %s)", tostring(metric), hint, table.concat(S.names(), ", "))
  end
  local fits_metric = false
  for _, m in ipairs(allowed_metrics) do if m == metric then fits_metric = true end end
  if not fits_metric then
    argerr(4, fname, "metric '%s' does not fit %s, a %s (metrics for %s: %s)", metric, tg.label, tg.info.kind,
      tg.label, table.concat(allowed_metrics, ", "))
  end
  local mspec = S.metrics[metric] or CLUSTER_METRICS[metric]
  if mspec.needs == "score" and not has_score and not classifier then
    argerr(4, fname, "%s has no score: give a metric (one of %s)", tg.label, table.concat(allowed_metrics, ", "))
  end
  local fits = {}
  for i, c in ipairs(combos) do
    local flat = {}
    for k, v in pairs(base) do flat[k] = v end
    for k, v in pairs(c) do flat[k] = v end
    if mspec.cluster then flat[score_key(tg)] = metric end
    fits[i] = fit_params(tg, flat, fname, 3)
  end
  local nfolds = check_folds(opts.folds or 5, data:rows(), 4, fname)
  -- the data
  local needs_labels = classifier or tg.info.needs_labels or mspec.needs ~= "score"
  if needs_labels and not data:has_labels() then argerr(2, fname, "%s needs labels; the dataset has none", tg.label) end
  -- NaN/Inf refused before any work, unless the estimator takes missing
  -- values (gbdt) or a pipeline's steps handle them (impute, encoders):
  -- then each fit checks its own input
  if not tg.pipeline and tg.name ~= "gbdt" then wb.core.check_finite(data, tg.label) end
  local stratify = opts.stratify
  -- a regression (a regression metric, or gbdt's objective "regression"):
  -- the labels are numbers, not classes, and the folds are not stratified
  local regression = mspec.needs == "predictions" or base.objective == "regression"
                     or (combos[1] and combos[1].objective == "regression")
  if needs_labels and classifier and not regression then
    local cls = wb.core.classes(data, tg.label)
    if #cls < 2 then
      error(string.format("%s: the labels have a single class (%s); at least 2 are needed", fname, SH.num(cls[1])), 0)
    end
    if stratify == nil then stratify = true end
  end
  local folds = kfold(data, {folds = nfolds, seed = opts.seed or 0, stratify = stratify and true or false}, fname, 4)
  nfolds = #folds
  -- every (combination, fold) is one task on the executor that holds the data
  local kind = mspec.needs == "score" and 0 or mspec.needs == "labels" and 1 or mspec.needs == "predictions" and 4
               or (metric == "roc_auc" and 3 or 2)
  local fparts = {}
  for f, fo in ipairs(folds) do fparts[f] = {train = wb.core.parts(fo.train), test = wb.core.parts(fo.test)} end
  local tasks = {}
  local schema = string.pack("<s4", schema_of(data))
  for i, fp in ipairs(fits) do
    local carrier = wb.core.model_new(tg.name, fp):encode()
    for f = 1, nfolds do
      local ins = {}
      for _, o in ipairs(fparts[f].train) do ins[#ins + 1] = o end
      for _, o in ipairs(fparts[f].test) do ins[#ins + 1] = o end
      local arg = string.pack("<i4i4i4i4", #fparts[f].train, #fparts[f].test, kind, 0) ..
                  string.pack("<s4", tg.name) .. string.pack("<s4", carrier) .. schema
      tasks[#tasks + 1] = {combo = i, fold = f, fut = wb.core.submit("select.cv", ins, arg)}
    end
  end
  local scores, fit_t, score_t, iters = {}, {}, {}, {}
  for i = 1, #combos do scores[i], fit_t[i], score_t[i], iters[i] = {}, {}, {}, {} end
  local failure
  -- one progress line: fits done of total and the best mean so far (the
  -- fits' own reports are dropped inside their tasks)
  local lower = mspec.lower
  local what = string.format("%d combinations x %d folds", #combos, nfolds)
  local nscored, best_so_far = {}, nil
  wb.core.progress(fname, 0, #tasks, what)
  for ti, t in ipairs(tasks) do
    if ti > 1 then wb.core.progress(fname, ti - 1, #tasks, what) end
    local ok, bytes = pcall(wb.core.get, t.fut)
    if not ok then
      failure = failure or string.format("%s: fitting %s {%s} on fold %d failed: %s", fname, tg.label,
        params_text(combos[t.combo]), t.fold, tostring(bytes))
    else
      local v = wb.core.unpack_doubles(bytes)
      local s
      if kind == 0 or kind == 3 then
        s = v[5]
        if mspec.negated then s = -s end
      else
        local chunks, pos = {}, 6
        while pos <= #v do
          local len = math.tointeger(v[pos])
          chunks[#chunks + 1] = table.move(v, pos + 1, pos + len, 1, {})
          pos = pos + len + 1
        end
        if kind == 1 then s = S.from_confusion(metric, S.merge_confusion(chunks))
        elseif kind == 4 then s = S.from_regression(metric, chunks, math.tointeger(v[5]))
        else s = S.merge_logloss(chunks) end
        if mspec.negate then s = -s end
      end
      scores[t.combo][t.fold] = s
      nscored[t.combo] = (nscored[t.combo] or 0) + 1
      if nscored[t.combo] == nfolds then
        local sum = 0
        for f = 1, nfolds do sum = sum + scores[t.combo][f] end
        local mean = sum / nfolds
        if not best_so_far or (lower and mean < best_so_far) or (not lower and mean > best_so_far) then
          best_so_far = mean
          what = string.format("best %s %s at %s", metric, SH.num(mean), params_text(combos[t.combo]))
        end
      end
      fit_t[t.combo][t.fold] = v[1]
      score_t[t.combo][t.fold] = v[2]
      iters[t.combo][t.fold] = v[3]
    end
  end
  wb.core.progress(fname, #tasks, #tasks)
  if failure then error(failure, 0) end
  -- the table of results
  local keys, seen = {}, {}
  for _, c in ipairs(combos) do for k in pairs(c) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end end
  table.sort(keys)
  local rows, means = {}, {}
  local has_iter = false
  for i, c in ipairs(combos) do
    local sum, fsum, ssum, isum = 0, 0, 0, 0
    for f = 1, nfolds do
      sum = sum + scores[i][f]; fsum = fsum + fit_t[i][f]; ssum = ssum + score_t[i][f]
      if iters[i][f] >= 0 then isum = isum + iters[i][f]; has_iter = true end
    end
    local mean = sum / nfolds
    local var = 0
    for f = 1, nfolds do var = var + (scores[i][f] - mean) ^ 2 end
    local r = {mean_score = mean, std_score = math.sqrt(var / nfolds), mean_fit_time = fsum / nfolds,
               mean_score_time = ssum / nfolds, mean_iter = has_iter and isum / nfolds or nil, params = c}
    for _, k in ipairs(keys) do r[k] = c[k] end
    for f = 1, nfolds do r["fold" .. f] = scores[i][f] end
    rows[i], means[i] = r, mean
  end
  local best = 1
  for i = 2, #rows do
    if (lower and means[i] < means[best]) or (not lower and means[i] > means[best]) then best = i end
  end
  for i, r in ipairs(rows) do
    local rank = 1
    for j = 1, #rows do
      if (lower and means[j] < means[i]) or (not lower and means[j] > means[i]) then rank = rank + 1 end
    end
    r.rank = rank
  end
  local cols = {"rank"}
  for _, k in ipairs(keys) do cols[#cols + 1] = k end
  for _, c in ipairs{"mean_score", "std_score", "mean_fit_time", "mean_score_time"} do cols[#cols + 1] = c end
  if has_iter then cols[#cols + 1] = "mean_iter" end
  for f = 1, nfolds do cols[#cols + 1] = "fold" .. f end
  local g = setmetatable({
    kind = fname, estimator = tg.label, metric = metric, folds = nfolds,
    results = T.new(cols, rows, string.format("scores: %s on each validation fold (%s is better)", metric,
      lower and "lower" or "higher")), best_index = best, best_params = combos[best], best_score = means[best],
  }, Search)
  if opts.refit ~= false then
    local t = wb.now()
    local flat = {}
    for k, v in pairs(base) do flat[k] = v end
    for k, v in pairs(combos[best]) do flat[k] = v end
    if tg.pipeline then g.best_model = tg.pipeline:fit(data, flat)
    else g.best_model = cfit(tg.name, data, flat) end
    g.refit_time = wb.now() - t
  end
  g.seconds = wb.now() - t_start
  return g
end

wb.gridsearch = public(function(est, data, grid, opts)
  return search("gridsearch", est, data, function(tg) return combos_of(tg, grid, "gridsearch") end, opts)
end)

-- ---------------------------------------------------------- random search

-- a small seeded generator (splitmix64) so draws never depend on math.random
local function rng(seed)
  local x = seed
  return function()
    x = x + 0x9e3779b97f4a7c15
    local z = x
    z = (z ~ (z >> 30)) * 0xbf58476d1ce4e5b9
    z = (z ~ (z >> 27)) * 0x94d049bb133111eb
    z = z ~ (z >> 31)
    return (z >> 11) * (1.0 / 9007199254740992.0)
  end
end

local function sampler(key, spec, fname)
  if type(spec) ~= "table" then return function() return spec end end
  if getmetatable(spec) == nil and #spec > 0 then
    return function(u) return spec[math.floor(u() * #spec) + 1] end
  end
  local function range(r, what)
    if type(r) ~= "table" or type(r[1]) ~= "number" or type(r[2]) ~= "number" or not (r[1] <= r[2]) then
      argerr(3, fname, "'%s': %s needs {low, high} with low <= high", key, what)
    end
    return r[1], r[2]
  end
  if spec.uniform then local a, b = range(spec.uniform, "uniform"); return function(u) return a + (b - a) * u() end end
  if spec.loguniform then
    local a, b = range(spec.loguniform, "loguniform")
    if a <= 0 then argerr(3, fname, "'%s': loguniform needs low > 0", key) end
    return function(u) return math.exp(math.log(a) + (math.log(b) - math.log(a)) * u()) end
  end
  if spec.randint then
    local a, b = range(spec.randint, "randint")
    a, b = math.tointeger(math.ceil(a)), math.tointeger(math.floor(b))
    return function(u) return a + math.floor(u() * (b - a + 1)) end
  end
  argerr(3, fname, "'%s': a list of values, {uniform = {a, b}}, {loguniform = {a, b}} or {randint = {a, b}} expected", key)
end

wb.randomsearch = public(function(est, data, dists, opts)
  local fname = "randomsearch"
  local o = opts or {}
  if type(o) ~= "table" then argerr(4, fname, "table of options expected, got %s", type(o)) end
  local budget = o.n_iter or o.budget or 10
  if math.type(budget) ~= "integer" or budget < 1 then argerr(4, fname, "n_iter must be an integer >= 1, got %s", tostring(budget)) end
  local seed = check_seed(o.seed, 4, fname)
  local rest = {}
  for k, v in pairs(o) do if k ~= "n_iter" and k ~= "budget" then rest[k] = v end end
  return search(fname, est, data, function(tg)
    if type(dists) ~= "table" then argerr(3, fname, "a table of distributions expected, got %s", type(dists)) end
    local keys = {}
    for k in pairs(dists) do check_key(tg, k, fname, 3); keys[#keys + 1] = k end
    if #keys == 0 then argerr(3, fname, "the search space is empty: give at least one parameter") end
    table.sort(keys)
    local samp = {}
    local finite, total = true, 1
    for i, k in ipairs(keys) do
      samp[i] = sampler(k, dists[k], fname)
      local v = dists[k]
      if type(v) == "table" and getmetatable(v) == nil and #v > 0 then total = total * #v
      elseif type(v) == "table" then finite = false end
    end
    if finite and total <= budget then return combos_of(tg, dists, fname) end
    local u = rng(seed)
    local out, seen = {}, {}
    local tries = 0
    while #out < budget and tries < budget * 100 do
      tries = tries + 1
      local c = {}
      for i, k in ipairs(keys) do c[k] = samp[i](u) end
      local id = params_text(c)
      if not finite or not seen[id] then seen[id] = true; out[#out + 1] = c end
    end
    return out
  end, rest, {n_iter = true, budget = true})
end)

local docs = require("wb.help").docs
docs["wb.split"] = "wb.split(d, {test = 0.25, seed = 0, stratify = false}) -> train, test; test is a fraction or a number of rows; stratify keeps each class's share exactly"
docs["wb.kfold"] = "wb.kfold(d, {folds = 5, seed = 0, stratify = false}) -> {{train =, test =}, ...}; every row is in exactly one test fold"
docs["wb.stratified_kfold"] = "wb.stratified_kfold(d, {folds = 5, seed = 0}) -> folds that keep each class's share"
docs["wb.pipeline"] = "wb.pipeline{\"scaler\", {\"logreg\", {C = 1}}} -> a pipeline: p:fit(d) or wb.fit(p, d) fits the steps in order; grid search takes it like an estimator (keys 'C' or 'logreg.C')"
docs["wb.gridsearch"] = "wb.gridsearch(name_or_pipeline, d, {C = {0.1, 1}, penalty = {\"l1\", \"l2\"}}, {folds = 5, metric =, refit = true, seed = 0, stratify =, params = {fixed}}) -> .results, .best_params, .best_score, .best_model, :export(\"grid.csv\"|\".json\"); metric: a classification metric, a regression metric (r2, mse, rmse, mae, neg_mean_squared_error, ...), or for kmeans \"inertia\", \"davies_bouldin\" (lower is better), \"calinski_harabasz\", \"silhouette\" on each validation fold"
docs["wb.randomsearch"] = "wb.randomsearch(name_or_pipeline, d, {C = {loguniform = {1e-3, 1e2}}, penalty = {\"l1\", \"l2\"}}, {n_iter = 10, seed = 0, folds =, metric =}) -> like gridsearch, n_iter sampled candidates"
docs["model:steps"] = "m:steps() -> the fitted models of a pipeline model's steps, in order"
docs["wb.fit"] = (docs["wb.fit"] or "wb.fit(name, data, params) -> model") ..
  "; wb.fit(pipeline, data, params) fits a wb.pipeline; wb.fit(name, data, params, {scale = true}) puts a scaler first"
docs["wb.repartition"] = "wb.repartition(d, rows) -> the same rows in partitions of `rows` (a multiple of 4096)"
