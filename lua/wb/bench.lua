-- wb.bench: run workloads at several data sizes on several executors and
-- report wall times, throughput, speedup, parallel efficiency, memory and a
-- quality figure per workload, as a result table that prints aligned and
-- exports to CSV, JSON and Markdown.
--
--   local r = wb.bench{workloads = {"logreg", "kmeans"}, sizes = {1e5, 1e6},
--                      executors = {"local:1", "local:2", "cluster:2"}, repeats = 3}
--   r:export("bench.csv"); r:plot_time{file = "time.svg"}; r:plot_speedup{file = "speedup.svg"}
--
-- Workloads are pluggable: wb.bench.workloads[name] = {data =, setup =, run =,
-- quality =, metric =, requires =} (see the built-in ones below).
--
-- Memory: on Linux the harness resets the process's peak-RSS mark
-- (/proc/self/clear_refs) before the timed runs of each configuration and
-- reads VmHWM after them, so `peak_mb` is the peak resident memory of this
-- process during that configuration's runs (data included) and `extra_mb` is
-- that peak minus the resident memory just before the runs (what the
-- workload itself added at its peak). On a cluster both figures are summed
-- over the driver and the workers running on this machine (found by their
-- pids in wb.executor().worker_list; the note says which were counted;
-- workers on other machines cannot be measured from here). Where the mark
-- cannot be reset, peak_mb is the whole-process peak so far and the note says so.
local wb = ...
local T = require "wb.table"
local P = require "wb.plot"
local M = {}

-- a value as an error message shows it: no table addresses, no control bytes,
-- no 70 KB strings (found by tests/lua/api_sweep.lua)
local function clean(s)
  if #s > 200 then s = s:sub(1, 200) .. "..." end -- first: the patterns below are slow on long runs
  s = s:gsub("(%a+): 0x%x+", "a %1"):gsub("file %(0x%x+%)", "a file")
  return (s:gsub("[%z\1-\8\11-\31\127]", function(c) return string.format("\\%d", c:byte()) end))
end

local function argerr(msg, ...)
  local a = table.pack(...)
  for i = 1, a.n do if type(a[i]) == "string" then a[i] = clean(a[i]) end end
  error(string.format("bad argument #1 to 'bench' (" .. msg .. ")", table.unpack(a, 1, a.n)), 3)
end

-- ------------------------------------------------------------- memory

local function status_kb(field, pid)
  local f = io.open("/proc/" .. (pid or "self") .. "/status", "r")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local v = text and text:match(field .. ":%s+(%d+)")
  return v and tonumber(v)
end

local function reset_peak(pid)
  local f = io.open("/proc/" .. (pid or "self") .. "/clear_refs", "w")
  if not f then return false end
  local ok = f:write("5")
  local cok = f:close()
  return ok and cok and true or false
end

-- the processes whose memory a configuration uses: this one, and on a
-- cluster the workers that run on this machine (their pids are in
-- wb.executor().worker_list); workers elsewhere cannot be measured
local function mem_targets(spec)
  local t = {{pid = "self"}}
  local remote = 0
  if spec.kind == "cluster" then
    local ok, e = pcall(wb.executor)
    for _, w in ipairs(ok and e.worker_list or {}) do
      local addr = tostring(w.address or "")
      local here = addr:match("^127%.") or addr:match("^localhost") or addr:match("^%[?::1%]?")
      if w.pid and here and status_kb("VmRSS", w.pid) then t[#t + 1] = {pid = w.pid} else remote = remote + 1 end
    end
  end
  return t, remote
end

-- before the runs: reset each high-water mark, note the resident size
local function mem_start(targets)
  local all = true
  for _, m in ipairs(targets) do
    m.rss0 = status_kb("VmRSS", m.pid)
    m.reset = reset_peak(m.pid)
    all = all and m.reset
  end
  return all
end

-- after the runs: summed peak and summed growth (kB)
local function mem_end(targets)
  local peak, extra = 0, 0
  for _, m in ipairs(targets) do
    local hwm = status_kb("VmHWM", m.pid)
    if not hwm then return nil end
    peak = peak + hwm
    extra = extra + (m.rss0 and math.max(0, hwm - m.rss0) or 0)
  end
  return peak, extra
end

-- ------------------------------------------------------------- data

-- data recipes shared by the built-in workloads (bench options o give the shape)
-- (their arguments checked: found by tests/lua/api_sweep.lua, a missing
-- table or feature count raised "attempt to index" / "perform arithmetic")
local function recipe_opts(o, fname)
  if type(o) ~= "table" then
    error(string.format("bad argument #2 to '%s' (table of options expected, got %s)", fname, type(o)), 3)
  end
  return o
end
M.data = {
  classification = function(n, o)
    local f = recipe_opts(o, "classification").features
    local fi = math.tointeger(f)
    if not fi or fi < 1 or fi > 1000000 then
      error(string.format("bad argument #2 to 'classification' (features must be an integer in 1..1000000, got %s)",
                          type(f) == "number" and tostring(f) or type(f)), 2)
    end
    f = fi
    return wb.datagen.classification{n = n, features = f, informative = math.max(1, f // 2),
                                     redundant = f - math.max(1, f // 2), classes = o.classes,
                                     seed = o.seed}
  end,
  swiss_roll = function(n, o)
    recipe_opts(o, "swiss_roll")
    return wb.datagen.swiss_roll{n = n, noise = o.noise, seed = o.seed}
  end,
}

local function has_estimator(name)
  return wb.core.estimator_info(name) ~= nil
end

local function split(d, o)
  if wb.split then
    return wb.split(d, {test = o.test, seed = o.seed, stratify = true})
  end
  -- the rows are generated in random order, so a cut is a random split
  local n = d:rows()
  local cut = math.max(1, math.floor(n * (1 - o.test) + 0.5))
  return d:slice(1, cut), d:slice(cut + 1, n)
end

local function merged(defaults, extra)
  local p = {}
  for k, v in pairs(defaults) do p[k] = v end
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function classifier(name, defaults)
  return {
    doc = name .. " fit on 80 % of a classification set; quality: accuracy on the other 20 %",
    data = "classification",
    requires = function() return has_estimator(name), "estimator '" .. name .. "' is not registered" end,
    setup = function(ctx)
      local train, test = split(ctx.data, ctx.opts)
      return {train = train, test = test, params = merged(defaults, ctx.opts.params[name])}
    end,
    run = function(ctx, s) return wb.fit(name, s.train, s.params) end,
    rows = function(ctx, s) return s.train:rows() end,
    metric = "accuracy",
    quality = function(ctx, s, m) return m:score(s.test) end,
  }
end

-- ------------------------------------------------------- the workloads

M.workloads = {}

M.workloads.generate = {
  doc = "generate a classification set in memory (features columns, half informative)",
  run = function(ctx) return M.data.classification(ctx.n, ctx.opts) end,
}

M.workloads.describe = {
  doc = "per-column count, mean, std, min, max (one map/reduce pass)",
  data = "classification",
  run = function(ctx) return ctx.data:describe() end,
}

-- a LIBSVM file (plus .meta) per size, written once and shared by every executor
local function libsvm_file(ctx)
  local files = ctx.shared.files
  local path = files[ctx.n]
  if not path then
    path = string.format("%s/wb_bench_%d.libsvm", ctx.opts.tmpdir, ctx.n)
    local f = ctx.opts.features
    wb.datagen.classification{n = ctx.n, features = f, informative = math.max(1, f // 2),
                              redundant = f - math.max(1, f // 2), classes = ctx.opts.classes,
                              seed = ctx.opts.seed, file = path}
    files[ctx.n] = path
  end
  return path
end

M.workloads.save = {
  doc = "write a classification set as LIBSVM plus .meta",
  data = "classification",
  requires = function() return wb.save ~= nil, "wb.save is not available" end,
  setup = function(ctx)
    return {path = string.format("%s/wb_bench_save_%d.libsvm", ctx.opts.tmpdir, ctx.n)}
  end,
  run = function(ctx, s) return wb.save(ctx.data, s.path) end,
  metric = "file_mb",
  quality = function(ctx, s)
    local f = io.open(s.path, "rb")
    if not f then return nil end
    local size = f:seek("end")
    f:close()
    return size / 2 ^ 20
  end,
  cleanup = function(ctx, s) os.remove(s.path); os.remove(s.path .. ".meta") end,
}

M.workloads.load = {
  doc = "read a LIBSVM file (written once per size, untimed) into a dataset",
  requires = function() return wb.load ~= nil, "wb.load is not available" end,
  setup = function(ctx) return {path = libsvm_file(ctx)} end,
  run = function(ctx, s) return wb.load(s.path) end,
  -- the size of the file read; the rows read are checked against the rows written
  metric = "file_mb",
  quality = function(ctx, s, d)
    if d:rows() ~= ctx.n then error(string.format("read %d rows of the %d written", d:rows(), ctx.n), 0) end
    local f = io.open(s.path, "rb")
    if not f then return nil end
    local size = f:seek("end")
    f:close()
    return size / 2 ^ 20
  end,
}

M.workloads.logreg = classifier("logreg", {C = 1.0})
M.workloads.sgd = classifier("sgd", {loss = "log_loss", epochs = 5, seed = 1})
M.workloads.gbdt = classifier("gbdt", {n_trees = 100, seed = 1})

M.workloads.gridsearch = {
  doc = "grid search of logreg, C in {0.01, 0.1, 1, 10} x penalty {l1, l2}, 3-fold CV; quality: best CV accuracy",
  data = "classification",
  requires = function()
    return wb.gridsearch ~= nil and has_estimator("logreg"), "wb.gridsearch or the logreg estimator is not available"
  end,
  setup = function(ctx)
    local train = split(ctx.data, ctx.opts)
    local grid = ctx.opts.params.gridsearch or {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}}
    return {train = train, grid = grid}
  end,
  run = function(ctx, s) return wb.gridsearch("logreg", s.train, s.grid, {folds = ctx.opts.folds, metric = "accuracy"}) end,
  rows = function(ctx, s) return s.train:rows() end,
  metric = "cv_accuracy",
  quality = function(ctx, s, g) return g.best_score end,
}

M.workloads.kmeans = {
  doc = "k-means (k-means++, k = 16, max_iter = 100) on a swiss roll; quality: Davies-Bouldin index (lower is better)",
  data = "swiss_roll",
  requires = function() return has_estimator("kmeans"), "estimator 'kmeans' is not registered" end,
  setup = function(ctx)
    return {params = merged({k = ctx.opts.k, init = "k-means++", max_iter = 100, seed = 0}, ctx.opts.params.kmeans)}
  end,
  run = function(ctx, s) return wb.fit("kmeans", ctx.data, s.params) end,
  metric = "davies_bouldin",
  quality = function(ctx, s, km)
    if not (wb.metrics and wb.metrics.davies_bouldin) then return nil end
    return wb.metrics.davies_bouldin(ctx.data, km:predict(ctx.data))
  end,
  extra = function(ctx, s, km) return {iterations = km.iterations} end,
}

M.workloads.pca = {
  doc = "PCA with 2 components on a swiss roll; quality: explained variance ratio of the 2 components",
  data = "swiss_roll",
  requires = function() return has_estimator("pca"), "estimator 'pca' is not registered" end,
  setup = function(ctx) return {params = merged({components = 2}, ctx.opts.params.pca)} end,
  run = function(ctx, s) return wb.fit("pca", ctx.data, s.params) end,
  metric = "explained_variance",
  quality = function(ctx, s, p)
    local r = p.explained_variance_ratio
    if type(r) ~= "table" then return nil end
    local sum = 0
    for _, v in ipairs(r) do sum = sum + (type(v) == "table" and v[1] or v) end
    return sum
  end,
}

-- the order they run in and are listed in
M.order = {"generate", "describe", "save", "load", "logreg", "sgd", "gbdt", "gridsearch", "kmeans", "pca"}

-- The built-in workloads' functions are reachable (wb.bench.workloads.kmeans.run)
-- and may be reused in other workloads: they take the context the runner
-- passes (its metatable is CTX), the state their setup returned and the result
-- of their run, and raise a clean error for anything else (found by
-- tests/lua/api_sweep.lua: "attempt to index" errors; cleanup removed the
-- files named by any table given as its state).
local CTX = {__name = "wb.bench context"}
local STATES = setmetatable({}, {__mode = "k"})  -- state -> the workload whose setup made it
local RESULTS = setmetatable({}, {__mode = "k"}) -- state -> {the last result of run}
for _, wname in ipairs(M.order) do
  local def = M.workloads[wname]
  for _, fname in ipairs{"setup", "run", "rows", "quality", "extra", "cleanup"} do
    local f = def[fname]
    if f then
      local full = wname .. "." .. fname
      local function bad(argn, fmt, ...)
        error(string.format("bad argument #%d to '%s' (%s)", argn, full, string.format(fmt, ...)), 3)
      end
      def[fname] = function(ctx, st, result)
        if getmetatable(ctx) ~= CTX then bad(1, "the context wb.bench passes expected, got %s", type(ctx)) end
        if fname == "setup" then
          local state = f(ctx)
          if type(state) == "table" then STATES[state] = wname end
          return state
        end
        if def.setup and STATES[st] ~= wname then bad(2, "the state %s.setup returned expected, got %s", wname, type(st)) end
        if fname == "run" then
          local r = f(ctx, st)
          if def.setup and st then RESULTS[st] = {r} end
          return r
        end
        if fname == "quality" or fname == "extra" then
          local last = st and RESULTS[st]
          if not last or not rawequal(last[1], result) then bad(3, "the result of %s.run expected, got %s", wname, type(result)) end
        end
        return f(ctx, st, result)
      end
    end
  end
end

function M.register(name, def)
  if type(name) ~= "string" then
    error(string.format("bad argument #1 to 'bench.register' (workload name expected, got %s)", type(name)), 2)
  end
  if type(def) ~= "table" or type(def.run) ~= "function" then
    error("bad argument #2 to 'bench.register' (a table with run = function(ctx, state) expected)", 2)
  end
  M.workloads[name] = def
  local seen = false
  for _, n in ipairs(M.order) do if n == name then seen = true end end
  if not seen then M.order[#M.order + 1] = name end
  return def
end

-- ------------------------------------------------------------ executors

-- "local:2", "local" (all cores), "cluster:3", or {kind = "local", threads = 2},
-- {kind = "cluster", workers = 3, threads = 1}
local function parse_executor(e, i)
  local spec
  if type(e) == "string" then
    local kind, num = e:match("^(%a+):(%d+)$")
    if not kind then kind = e:match("^(%a+)$") end
    if kind == "local" then
      spec = {kind = "local", units = tonumber(num) or wb.threads()}
    elseif kind == "cluster" then
      spec = {kind = "cluster", units = tonumber(num) or 2, threads = 1}
    end
  elseif type(e) == "table" then
    if e.kind == "local" then
      spec = {kind = "local", units = e.threads or wb.threads()}
    elseif e.kind == "cluster" then
      spec = {kind = "cluster", units = e.workers or 2, threads = e.threads or 1}
    end
  end
  if not spec then
    argerr("executors[%d] must be \"local:N\", \"cluster:N\" or {kind=, threads=|workers=}, got %s", i, tostring(e))
  end
  if math.type(spec.units) ~= "integer" and not (type(spec.units) == "number" and spec.units == math.floor(spec.units)) or spec.units < 1 then
    argerr("executors[%d]: the number of threads or workers must be an integer >= 1, got %s", i, tostring(spec.units))
  end
  spec.units = math.tointeger(spec.units)
  spec.label = spec.kind .. ":" .. spec.units
  if spec.kind == "cluster" and spec.threads and spec.threads ~= 1 then
    spec.label = spec.label .. "x" .. spec.threads
  end
  return spec
end

local function default_executors()
  local n = wb.threads()
  local list, t = {}, 1
  while t < n do list[#list + 1] = "local:" .. t; t = t * 2 end
  list[#list + 1] = "local:" .. n
  return list
end

-- switch to an executor; returns an error message when it is not available
local function switch(spec, state)
  if spec.kind == "local" then
    if state.cluster then
      if wb.disconnect then wb.disconnect() end
      state.cluster = nil
    end
    wb.threads(spec.units)
    return nil
  end
  if not wb.cluster then return "wb.cluster is not available in this build" end
  if state.cluster ~= spec.label then
    if state.cluster and wb.disconnect then wb.disconnect() end
    state.cluster = nil
    local ok, err = pcall(wb.cluster, {workers = spec.units, threads = spec.threads or 1})
    if not ok then return "cannot start the cluster: " .. tostring(err) end
    state.cluster = spec.label
  end
  return nil
end

-- ------------------------------------------------------------ statistics

-- a list of numbers (found by tests/lua/api_sweep.lua: other values failed
-- in ipairs or table.sort); NaN has no median: the result is NaN
local function median(t)
  if type(t) ~= "table" then
    error(string.format("bad argument #1 to 'median' (list of numbers expected, got %s)", type(t)), 2)
  end
  local s = {}
  for i, v in ipairs(t) do
    if type(v) ~= "number" then
      error(string.format("bad argument #1 to 'median' (element %d must be a number, got %s)", i, type(v)), 2)
    end
    if v ~= v then return v end
    s[i] = v
  end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end
M.median = median

-- v rounded to `digits` significant digits (a float), nil stays nil
local function sig(v, digits)
  -- checked (found by tests/lua/api_sweep.lua: digits = nil failed in
  -- arithmetic, digits = 1e9 in string.format)
  if v ~= nil and type(v) ~= "number" then
    error(string.format("bad argument #1 to 'sig' (number or nil expected, got %s)", type(v)), 2)
  end
  if math.type(digits) ~= "integer" or digits < 1 or digits > 17 then
    error(string.format("bad argument #2 to 'sig' (digits must be an integer in 1..17, got %s)",
                        type(digits) == "number" and tostring(digits) or type(digits)), 2)
  end
  if type(v) ~= "number" or v ~= v or v == 0 or math.abs(v) == math.huge then return v end
  local s = string.format("%." .. (digits - 1) .. "e", v)
  return tonumber(s) + 0.0
end
M.sig = sig

local function round_row(r)
  for _, k in ipairs({"median_s", "min_s", "max_s"}) do r[k] = sig(r[k], 4) end
  if r.rows_per_s then r.rows_per_s = math.floor(r.rows_per_s + 0.5) end
  for _, k in ipairs({"speedup", "efficiency"}) do r[k] = r[k] and math.floor(r[k] * 1000 + 0.5) / 1000 end
  for _, k in ipairs({"peak_mb", "extra_mb"}) do r[k] = r[k] and math.floor(r[k] * 10 + 0.5) / 10 end
  if math.type(r.quality) == "float" then r.quality = sig(r.quality, 5) end
end

-- speedup over the smallest configuration of the same kind (baseline
-- "kind": cluster sizes against the smallest cluster, thread counts against
-- the fewest threads) or of all (baseline "all"). A kind measured in one
-- configuration only (a single cluster size) is compared with the smallest
-- configuration of all instead: against itself it would only say 1.0
local function fill_speedup(rows, baseline)
  local groups, sizes = {}, {}
  local function smaller(r, g)
    -- the smallest configuration: fewest units; local before cluster on a tie
    return not g or r.units < g.units or (r.units == g.units and r.kind == "local" and g.kind ~= "local")
  end
  for _, r in ipairs(rows) do
    if r.median_s then
      local base = r.workload .. "\0" .. tostring(r.n) .. "\0"
      local key = base .. (baseline == "all" and "" or r.kind)
      if smaller(r, groups[key]) then groups[key] = r end
      if smaller(r, groups[base]) then groups[base] = r end
      local sk = base .. r.kind
      sizes[sk] = sizes[sk] or {}
      sizes[sk][r.units] = true
    end
  end
  local function single(sk)
    local n = 0
    for _ in pairs(sizes[sk] or {}) do n = n + 1 end
    return n <= 1
  end
  for _, r in ipairs(rows) do
    if r.median_s then
      local base = r.workload .. "\0" .. tostring(r.n) .. "\0"
      local b = groups[base .. (baseline == "all" and "" or r.kind)]
      if baseline ~= "all" and single(base .. r.kind) then b = groups[base] end
      r.baseline = b.executor
      r.speedup = b.median_s / r.median_s
      r.efficiency = r.speedup / (r.units / b.units)
    end
  end
end

-- ------------------------------------------------------------ the result

local COLUMNS = {"workload", "n", "executor", "median_s", "min_s", "max_s", "rows_per_s", "speedup",
                 "efficiency", "peak_mb", "extra_mb", "metric", "quality", "note"}

local function markdown(t)
  -- a result table (found by tests/lua/api_sweep.lua: anything else raised "attempt to index")
  if not T.is(t) then
    error(string.format("bad argument #1 to 'markdown' (benchmark result expected, got %s)", type(t)), 2)
  end
  local cols = t.columns
  local out = {}
  if t.title then out[#out + 1] = "### " .. t.title; out[#out + 1] = "" end
  local head, rule = {}, {}
  for j, c in ipairs(cols) do head[j] = tostring(c); rule[j] = "---" end
  out[#out + 1] = "| " .. table.concat(head, " | ") .. " |"
  out[#out + 1] = "|" .. table.concat(rule, "|") .. "|"
  for i = 1, #t do
    local p = {}
    for j, c in ipairs(cols) do
      local v = t[i][c]
      p[j] = (T.format_value(v):gsub("|", "\\|"))
    end
    out[#out + 1] = "| " .. table.concat(p, " | ") .. " |"
  end
  return table.concat(out, "\n") .. "\n"
end
M.markdown = markdown

local function result_methods(res)
  local base_export = T.Table.export
  res.export = function(self, path)
    if type(path) == "string" and path:lower():match("%.md$") then return T.write_file(path, markdown(self)) end
    return base_export(self, path)
  end
  res.markdown = markdown
  res.plot_time = function(self, o) return P.time_vs_size(self, o) end
  res.plot_speedup = function(self, o) return P.speedup(self, o) end
  return res
end

-- ------------------------------------------------------------- the run

local function as_list(v)
  if type(v) ~= "table" or getmetatable(v) then return {v} end
  return v
end

local function options(opts)
  if type(opts) ~= "table" then argerr("table of options expected, got %s", type(opts)) end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.repeats = o.repeats or 3
  if math.type(o.repeats) ~= "integer" or o.repeats < 1 then argerr("repeats must be an integer >= 1, got %s", tostring(o.repeats)) end
  o.warmup = o.warmup or 0
  if math.type(o.warmup) ~= "integer" or o.warmup < 0 then argerr("warmup must be an integer >= 0, got %s", tostring(o.warmup)) end
  o.features = o.features or 10
  o.classes = o.classes or 2
  o.seed = o.seed or 1
  o.noise = o.noise or 0.2
  o.k = o.k or 16
  o.folds = o.folds or 3
  o.test = o.test or 0.2
  o.params = o.params or {}
  o.baseline = o.baseline or "kind"
  if o.baseline ~= "kind" and o.baseline ~= "all" then argerr("baseline must be \"kind\" or \"all\", got %s", tostring(o.baseline)) end
  o.tmpdir = o.tmpdir or os.getenv("TMPDIR") or "/tmp"
  -- workloads: names or definitions
  local wl = {}
  local list = o.workloads or {"generate"}
  if type(list) == "string" then list = {list} end
  if type(list) ~= "table" then argerr("workloads must be a list of names or workload tables, got %s", type(list)) end
  for i, w in ipairs(list) do
    if type(w) == "string" then
      local def = M.workloads[w]
      if not def then
        local names = {}
        for _, n in ipairs(M.order) do names[#names + 1] = n end
        argerr("workloads[%d]: no workload named '%s' (known: %s)", i, w, table.concat(names, ", "))
      end
      wl[#wl + 1] = {name = w, def = def}
    elseif type(w) == "table" then
      if type(w.run) ~= "function" then argerr("workloads[%d]: a workload table needs run = function(ctx, state)", i) end
      wl[#wl + 1] = {name = w.name or ("workload" .. i), def = w}
    else
      argerr("workloads[%d] must be a name or a table, got %s", i, type(w))
    end
  end
  if #wl == 0 then argerr("workloads is empty") end
  o.wl = wl
  -- sizes
  local sizes = as_list(o.sizes or {1e5})
  o.sz = {}
  for i, s in ipairs(sizes) do
    local n = math.tointeger(s)
    if not n or n < 1 then argerr("sizes[%d] must be a whole number of rows >= 1, got %s", i, tostring(s)) end
    o.sz[#o.sz + 1] = n
  end
  if #o.sz == 0 then argerr("sizes is empty") end
  -- executors
  o.ex = {}
  for i, e in ipairs(as_list(o.executors or default_executors())) do o.ex[#o.ex + 1] = parse_executor(e, i) end
  if #o.ex == 0 then argerr("executors is empty") end
  return o
end

local function is_interrupt(err)
  return type(err) == "string" and err:find("interrupted!", 1, true)
end

local function say(o, fmt, ...)
  if o.verbose then
    print(string.format(fmt, ...))
    io.stdout:flush()
  end
end

-- bench(opts) -> result table
local function bench(opts)
  local o = options(opts)
  local rows, skipped, skipped_ex = {}, {}, {}
  local orig_threads = wb.threads()
  local state = {}
  local shared = {files = {}}
  local can_reset = reset_peak("self")
  local total = #o.sz * #o.ex * #o.wl * (o.repeats + o.warmup)
  local done = 0
  local available = {}
  for _, w in ipairs(o.wl) do
    local ok, why = true, nil
    if w.def.requires then ok, why = w.def.requires() end
    if not ok then
      skipped[#skipped + 1] = {workload = w.name, reason = why or "not available"}
      available[w.name] = false
    else
      available[w.name] = true
    end
  end
  local function progress(info)
    wb.core.progress("bench", done, total, info)
  end

  local ok, err = pcall(function()
    for _, n in ipairs(o.sz) do
      for _, spec in ipairs(o.ex) do
        local why = switch(spec, state)
        local cache = {}
        for _, w in ipairs(o.wl) do
          local row = {workload = w.name, n = n, executor = spec.label, kind = spec.kind,
                       units = spec.units, repeats = o.repeats, metric = w.def.metric}
          local row_start = done
          if not available[w.name] then
            done = done + o.repeats + o.warmup
          elseif why then
            if not skipped_ex[spec.label] then
              skipped_ex[spec.label] = true
              skipped[#skipped + 1] = {executor = spec.label, reason = why}
            end
            done = done + o.repeats + o.warmup
          else
            rows[#rows + 1] = row
            local ctx = setmetatable({n = n, opts = o, executor = spec, shared = shared}, CTX)
            local s
            local sok, serr = pcall(function()
              local dk = w.def.data
              if dk then
                if not cache[dk] then
                  collectgarbage()
                  local maker = type(dk) == "function" and dk or M.data[dk]
                  if not maker then error(string.format("workload '%s': no data recipe '%s'", w.name, tostring(dk)), 0) end
                  cache[dk] = maker(n, o)
                end
                ctx.data = cache[dk]
              end
              if w.def.setup then s = w.def.setup(ctx) end
            end)
            if not sok then
              if is_interrupt(serr) then error(serr, 0) end
              row.note = "setup failed: " .. tostring(serr)
            else
              local times, result = {}, nil
              collectgarbage()
              collectgarbage()
              local targets, remote = mem_targets(spec)
              local reset = can_reset and mem_start(targets)
              local rok, rerr = pcall(function()
                for rep = 1, o.warmup + o.repeats do
                  progress(string.format("%s n=%s %s run %d/%d", w.name, P.short(n), spec.label, rep, o.warmup + o.repeats))
                  result = nil
                  collectgarbage()
                  local t0 = wb.now()
                  result = w.def.run(ctx, s)
                  local t = wb.now() - t0
                  if rep > o.warmup then times[#times + 1] = t end
                  done = done + 1
                end
              end)
              local peak_kb, extra_kb = mem_end(targets)
              if not rok then
                if is_interrupt(rerr) then error(rerr, 0) end
                row.note = "failed: " .. tostring(rerr)
              else
                row.median_s = median(times)
                local mn, mx = math.huge, -math.huge
                for _, t in ipairs(times) do mn = math.min(mn, t); mx = math.max(mx, t) end
                row.min_s, row.max_s = mn, mx
                local nrows = w.def.rows and w.def.rows(ctx, s) or n
                row.rows_per_s = row.median_s > 0 and nrows / row.median_s or nil
                row.times = times
                if reset and peak_kb then
                  row.peak_mb = peak_kb / 1024
                  row.extra_mb = extra_kb / 1024
                  if #targets > 1 then
                    local nw = #targets - 1
                    row.note = string.format("memory: driver + %d worker%s", nw, nw == 1 and "" or "s") ..
                               (remote > 0 and string.format(" (%d remote not counted)", remote) or "")
                  elseif spec.kind == "cluster" then
                    row.note = "memory: driver only" .. (remote > 0 and string.format(" (%d remote workers not counted)", remote) or "")
                  end
                else
                  local pk = wb.core.peak_rss()
                  row.peak_mb = pk and pk / 2 ^ 20
                  row.note = "peak_mb: whole-process peak"
                end
                if w.def.quality then
                  local qok, q = pcall(w.def.quality, ctx, s, result)
                  if qok then row.quality = q
                  elseif is_interrupt(q) then error(q, 0)
                  else row.note = "quality failed: " .. tostring(q) end
                end
                if w.def.extra then
                  local eok, ex = pcall(w.def.extra, ctx, s, result)
                  if eok and type(ex) == "table" then for k, v in pairs(ex) do row[k] = v end end
                end
                say(o, "%-10s n=%-8s %-10s median %8.3f s  (min %.3f, max %.3f, %d run%s)%s", w.name, P.short(n), spec.label,
                    row.median_s, row.min_s, row.max_s, #times, #times == 1 and "" or "s",
                    row.quality and string.format("  %s %s", row.metric or "quality", T.format_value(row.quality)) or "")
              end
              if w.def.cleanup then pcall(w.def.cleanup, ctx, s) end
            end
            done = row_start + o.repeats + o.warmup
            result, s, ctx = nil, nil, nil
          end
        end
        cache = nil
        collectgarbage()
      end
    end
  end)
  -- back to where we started, whatever happened
  if state.cluster and wb.disconnect then pcall(wb.disconnect) end
  pcall(wb.threads, orig_threads)
  for _, path in pairs(shared.files) do os.remove(path); os.remove(path .. ".meta") end
  wb.core.progress("bench", total, total)
  if not ok then error(err, 0) end

  fill_speedup(rows, o.baseline)
  for _, r in ipairs(rows) do round_row(r) end
  local title = string.format("wb.bench: %d repeat%s, %s (%s)", o.repeats, o.repeats == 1 and "" or "s",
                              can_reset and "peak_mb = peak RSS during the runs" or "peak_mb = whole-process peak",
                              os.date("%Y-%m-%d %H:%M"))
  local res = T.new(COLUMNS, rows, title)
  res.skipped = skipped
  res.options = {repeats = o.repeats, sizes = o.sz, seed = o.seed, features = o.features}
  result_methods(res)
  if o.csv then res:export(o.csv) end
  if o.json then res:export(o.json) end
  if o.markdown then res:export(o.markdown) end
  if o.print then print(res) end
  if o.print or o.verbose then
    for _, s in ipairs(skipped) do print(string.format("skipped %s: %s", s.workload or s.executor, s.reason)) end
  end
  return res
end

setmetatable(M, {__call = function(_, opts) return bench(opts) end})
M.run = bench

local docs = require("wb.help").docs
docs["wb.bench"] = "wb.bench{workloads = {...}, sizes = {...}, executors = {\"local:1\", \"local:2\", \"cluster:2\"}, repeats = 3} -> result table " ..
  "(median/min/max seconds, rows/s, speedup, efficiency, peak memory, quality); r:export(\"b.csv\"|\"b.json\"|\"b.md\"), r:plot_time{file=}, r:plot_speedup{file=}; " ..
  "workloads: generate, describe, save, load, logreg, sgd, gbdt, gridsearch, kmeans, pca, or your own {data=, setup=, run=, quality=, metric=}"

wb.bench = M
return M
