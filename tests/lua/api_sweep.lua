-- api_sweep: every function and method of the Lua API, called from a fixed
-- seed with adversarial arguments (nil, wrong types, wrong userdata, NaN, inf,
-- huge and fractional numbers, odd tables and strings, freed datasets ...).
-- Each call runs in pcall; it must either succeed or raise a non-empty string
-- that names the function or the parameter and holds no C-level garbage, and
-- take little time. At the end the process must still fit a model correctly.
-- Side effects stay in a temporary directory, removed at the end.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local SEED = 20261121
math.randomseed(SEED)
local t_start = wb.now()

-- ------------------------------------------------------------ temp dir
local TMP = os.tmpname()
os.remove(TMP)
TMP = TMP .. "_api_sweep"
local function cleanup() os.execute("rm -rf '" .. TMP .. "'") end
-- a failed check removes the temp dir before it raises
TL.on_failure(cleanup)
local check = TL.check
check(os.execute("mkdir -p '" .. TMP .. "'"), "mkdir " .. TMP)
local function tmp(name) return TMP .. "/" .. name end

-- the names in the current folder (the build dir): the sweep must add none
-- (found: m:save(4) wrote "4", table.write_file("abc", ...) wrote "abc")
local function cwd_names()
  local p = assert(io.popen("ls -A"))
  local set = {}
  for name in p:lines() do set[name] = true end
  p:close()
  return set
end
local CWD_BEFORE = cwd_names()
-- names added since the start; other tests running beside this one (ctest
-- -j) may make short-lived files here, so an addition counts only if it is
-- still there after a few looks over two seconds
local function cwd_added()
  local added
  for _ = 1, 8 do
    added = {}
    for name in pairs(cwd_names()) do
      if not CWD_BEFORE[name] then added[#added + 1] = name end
    end
    if #added == 0 then break end
    os.execute("sleep 0.25")
  end
  table.sort(added)
  return added
end

-- output of help/show/head goes to a file, not the test log
local real_print, real_output = print, io.output()
local sink = assert(io.open(tmp("stdout.txt"), "w"))
local function quiet_on()
  io.output(sink)
  print = function(...) -- luacheck: ignore
    local t = table.pack(...)
    for i = 1, t.n do t[i] = tostring(t[i]) end
    sink:write(table.concat(t, "\t", 1, t.n), "\n")
  end
end
local function quiet_off() io.output(real_output); print = real_print end -- luacheck: ignore

-- ------------------------------------------------------------ fixtures
local N = 300
local D = wb.datagen.blobs{n = N, features = 3, centers = 3, seed = 1}
local D2 = wb.datagen.classification{n = N, features = 4, informative = 2, redundant = 2, classes = 2, seed = 2}
local Y = wb.core.labels(D)
local VEC = wb.vector(Y)
local MK = wb.fit("kmeans", D, {k = 3, seed = 0})
local ML = wb.fit("logreg", D2, {C = 1.0})
local MP = wb.fit("pca", D, {components = 2})
local MS = wb.fit("scaler", D)
local MG = wb.fit("gbdt", D2, {n_trees = 3, max_leaves = 4})
local MSGD = wb.fit("sgd", D2, {epochs = 2, seed = 1})
local FREED = wb.datagen.blobs{n = 50, features = 3, centers = 2, seed = 3}
FREED:free()
local OBJ = wb.core.put("abc")
local ROWS = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}
local DSM = debug.getregistry()["wb.Dataset"].__index
local MMM = debug.getregistry()["wb.Model"].methods
local GRID = wb.gridsearch("logreg", D2, {C = {0.1, 1}}, {folds = 2})
local SAVED = tmp("fixture.csv")
wb.save(D, SAVED)
-- typed columns: a dataset with category columns and text labels
local CATCSV = tmp("cats.csv")
do
  local f = assert(io.open(CATCSV, "w"))
  f:write("island,bill,sex,species\n")
  for i = 1, N do
    f:write(({"Biscoe", "Dream", "Torgersen"})[i % 3 + 1], ",", i / 7, ",", i % 5 == 0 and "NA" or ({"f", "m"})[i % 2 + 1],
            ",", ({"Adelie", "Gentoo"})[i % 2 + 1], "\n")
  end
  f:close()
end
local DC = wb.load(CATCSV, {label = "species"})
-- a SQLite file with a table of categories and labels
local SQLDB = "sqlite:" .. tmp("fixture.db")
wb.sql.write(DC, SQLDB, "t")
local SAVED_MODEL = tmp("fixture.wbm")
MK:save(SAVED_MODEL)
local TEXT_FILE = tmp("text.so")
do local f = assert(io.open(TEXT_FILE, "w")); f:write("not a plugin\n"); f:close() end

-- a table whose fields raise, one whose length is not a number
local RAISING = setmetatable({}, {__index = function() error("meta index raised", 0) end,
                                  __len = function() error("meta len raised", 0) end,
                                  __pairs = function() error("meta pairs raised", 0) end})
local BADLEN = setmetatable({1, 2}, {__len = function() return "x" end})
local SELF = {}
SELF[1] = SELF
SELF.x = SELF

-- adversarial values: {label, value}
local VALUES = {
  {"nil", nil}, {"false", false}, {"true", true},
  {"0", 0}, {"-1", -1}, {"1", 1}, {"2", 2}, {"3", 3}, {"0.5", 0.5}, {"-0.0", -0.0}, {"2.5", 2.5},
  {"nan", 0 / 0}, {"inf", math.huge}, {"-inf", -math.huge}, {"1e300", 1e300}, {"-1e300", -1e300},
  {"2^63", 2 ^ 63}, {"-2^63", -(2 ^ 63)}, {"2^53", 2 ^ 53}, {"maxinteger", math.maxinteger},
  {"mininteger", math.mininteger}, {"2^31", 2 ^ 31}, {"1e9", 1000000000}, {"-2^31", -(2 ^ 31)},
  {"''", ""}, {"'abc'", "abc"}, {"'1'", "1"}, {"'nan'", "nan"}, {"'-1'", "-1"}, {"'a\\0b'", "a\0b"},
  {"'\\0'", "\0"}, {"long", string.rep("y", 70000)}, {"'%s%n'", "%s%n%d%%"}, {"badpath", "/nonexistent_dir/x.q"},
  {"{}", {}}, {"{1,2,3}", {1, 2, 3}}, {"holes", {1, nil, 3, [10] = 5}}, {"nested", {{1, {2}}, {3}}},
  {"strings", {"a", "b"}}, {"mixed", {x = 1, 1, "a", {}}}, {"self", SELF}, {"rows", ROWS},
  {"nans", {0 / 0, math.huge, -math.huge}}, {"raising", RAISING}, {"badlen", BADLEN},
  {"function", function() return 1 end}, {"raisingfn", function() error("callback raised", 0) end},
  {"thread", coroutine.create(function() end)}, {"file", io.stderr},
  {"dataset", D}, {"vector", VEC}, {"model", MK}, {"freed", FREED}, {"object", OBJ},
  {"gridresult", GRID},
}
local NV = #VALUES

-- ------------------------------------------------------------ the checks
local failures, calls, ok_calls = {}, 0, 0
local messages = {}
local slowest, slowest_name = 0, ""

local function describe_args(args, n, depth)
  local t = {}
  for i = 1, n do
    local v = args[i]
    local s
    if type(v) == "table" and not getmetatable(v) and (depth or 0) == 0 and v ~= SELF then
      local kv, c = {}, 0
      for k, x in pairs(v) do
        c = c + 1
        if c > 6 then kv[#kv + 1] = "..."; break end
        kv[#kv + 1] = tostring(k) .. "=" .. describe_args({x}, 1, 1)
      end
      s = "{" .. table.concat(kv, ", ") .. "}"
    elseif type(v) == "string" then
      s = #v > 20 and ("string(" .. #v .. ")") or string.format("%q", v)
    else
      s = tostring(v)
      if type(v) == "table" or type(v) == "function" or type(v) == "userdata" or type(v) == "thread" then
        s = type(v)
        local mt = getmetatable(v)
        if type(mt) == "table" and rawget(mt, "__name") then s = rawget(mt, "__name") end
      end
    end
    t[i] = s
  end
  return table.concat(t, ", ")
end

-- errors raised by the adversarial values themselves (a callback or a
-- metamethod that raises) pass through unchanged
local PASSTHROUGH = {"meta index raised", "meta len raised", "meta pairs raised", "callback raised"}

-- what an error message must be
local function bad_message(e, names, args, n, lenient)
  if type(e) ~= "string" then return "error is a " .. type(e) .. ", not a string" end
  if #e == 0 then return "empty message" end
  for _, p in ipairs(PASSTHROUGH) do if e:find(p, 1, true) then return nil end end
  if #e > 2000 then return "message of " .. #e .. " bytes" end
  if e:find("[%z\1-\8\11-\31\127]") then return "control bytes in the message" end
  if e:find("(null)", 1, true) then return "(null) in the message" end
  if e:find("0x%x%x%x%x%x%x") then return "an address in the message" end
  if e:find("attempt to ", 1, true) and not e:find("attempt to use a freed dataset", 1, true) and not lenient then
    return "an internal Lua error"
  end
  if e:find("stack traceback", 1, true) then return "a traceback in the message" end
  if e:find("C stack overflow", 1, true) or e:find("stack overflow", 1, true) then return "stack overflow" end
  if lenient then return nil end
  local quoted = e:match("bad argument #%d+ to '([^']*)'")
  if quoted then
    for _, n in ipairs(names) do
      if quoted == n or quoted:sub(-#n - 1) == "." .. n then return nil end -- "slice", "wb.save"
    end
    return "bad argument names '" .. quoted .. "'"
  end
  if e:find("bad argument #", 1, true) or e:find("bad argument to", 1, true) then
    return "bad argument without a function name"
  end
  for _, nm in ipairs(names) do if e:find(nm, 1, true) then return nil end end
  -- a file error names the value: "PATH: unknown file format (...)" (the
  -- path may be an option: {file = PATH})
  local function names_value(a)
    return (type(a) == "string" or type(a) == "number") and e:sub(1, #tostring(a) + 1) == tostring(a) .. ":"
  end
  for i = 1, n do
    local a = args[i]
    if names_value(a) then return nil end
    if type(a) == "table" and getmetatable(a) == nil then
      for _, x in pairs(a) do if names_value(x) then return nil end end
    end
  end
  if e:find("parameter '", 1, true) or e:find("attempt to use a freed dataset", 1, true) then return nil end
  return "names neither the function nor a parameter"
end

-- a call may use 5 s of CPU time (os.clock: the process's, all its threads):
-- the limit catches a call that runs away (datagen n = 1e9 worked ~20 s
-- towards running out of memory; d:show(math.mininteger) looped until it
-- did) without counting the time other processes take from this one on a
-- loaded machine (under ASan, calls of 0.8 s of CPU took 13-23 s of wall clock)
local SLOW = tonumber(os.getenv("WB_SWEEP_SLOW") or "") or 5

local TRACE = os.getenv("WB_SWEEP_TRACE")
local function call(spec, args, n)
  calls = calls + 1
  if TRACE then io.stderr:write(spec.name, "(", describe_args(args, n), ")\n"); io.stderr:flush() end
  if spec.quiet then quiet_on() end
  local t0 = os.clock()
  local r = table.pack(pcall(spec.call, table.unpack(args, 1, n)))
  local dt = os.clock() - t0
  if spec.quiet then quiet_off() end
  if spec.after then spec.after() end
  if dt > slowest then slowest, slowest_name = dt, spec.name .. "(" .. describe_args(args, n) .. ")" end
  local why
  if dt > SLOW then why = string.format("took %.1f s of CPU time", dt) end
  if r[1] then
    ok_calls = ok_calls + 1
  else
    local lenient = spec.lenient
    for i = 1, n do
      if args[i] == BADLEN then lenient = true end
      if type(args[i]) == "table" and getmetatable(args[i]) == nil then
        for _, x in pairs(args[i]) do if x == BADLEN then lenient = true end end
      end
    end
    why = why or bad_message(r[2], spec.names, args, n, lenient)
    local key = spec.name .. ": " .. tostring(r[2]):sub(1, 200)
    messages[key] = true
  end
  if why then
    failures[#failures + 1] = string.format("%s(%s): %s -- %s", spec.name, describe_args(args, n), why,
                                            tostring(r[2]):sub(1, 300))
    if TRACE or os.getenv("WB_SWEEP_VERBOSE") then io.stderr:write("FAIL ", failures[#failures], "\n") end
  end
  -- no call here may start or join a cluster
  if wb.executor().kind ~= "local" then
    failures[#failures + 1] = string.format("%s(%s): connected to a cluster", spec.name, describe_args(args, n))
    if TRACE then io.stderr:write("FAIL ", failures[#failures], "\n") end
    wb.disconnect()
  end
  -- the fixtures stay intact
  if D:rows() ~= N or D:cols() ~= 3 then error("the fixture dataset changed after " .. spec.name) end
end

local function copy(t, n)
  local c = {}
  for i = 1, n do c[i] = t[i] end
  return c
end
local function tcopy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- spec: name ("wb.x.y" or "d:m"), fn, base (function -> args, n), opts
-- (positions holding option tables: {pos, keys}), quiet, after, names
local SPECS = {}
local function add(name, fn, base, extra)
  local s = extra or {}
  s.name, s.fn, s.base = name, fn, base or function() return {}, 0 end
  local short = name:gsub("%b()$", "")
  short = short:match("[%.:]([%w_]+)$") or short
  s.names = s.names or {}
  table.insert(s.names, 1, short)
  check(type(fn) == "function", name .. " is not a function")
  -- called the way a script calls it (a named function, not an anonymous
  -- value), so that Lua knows the name argument errors give
  s.call = load(string.format("local %s = ...\nreturn function(...) local r = table.pack(%s(...)); return table.unpack(r, 1, r.n) end",
                              short, short))(fn)
  SPECS[#SPECS + 1] = s
end
local function args(...) local t = table.pack(...); return function() return t, t.n end end

local function sweep(spec)
  local base, bn = spec.base()
  -- no arguments, then the base call
  if not spec.args_needed then call(spec, {}, 0) end
  call(spec, copy(base, bn), bn)
  -- each position (and one past the end) takes each value
  local positions = math.max(bn, spec.maxpos or 0) + 1
  for i = 1, positions do
    for _, v in ipairs(VALUES) do
      if not (spec.skip and spec.skip(i, v[2])) then
        local a = copy(spec.base(), bn)
        a[i] = v[2]
        call(spec, a, math.max(bn, i))
      end
    end
  end
  -- option tables: each key takes each value, and unknown keys
  for _, o in ipairs(spec.opts or {}) do
    for _, k in ipairs(o.keys) do
      for _, v in ipairs(VALUES) do
        if not (spec.skipopt and spec.skipopt(k, v[2])) then
          local a = copy(spec.base(), bn)
          a[o.pos] = tcopy(a[o.pos] or {})
          a[o.pos][k] = v[2]
          call(spec, a, math.max(bn, o.pos))
        end
      end
    end
    local a = copy(spec.base(), bn)
    a[o.pos] = tcopy(a[o.pos] or {})
    a[o.pos].no_such_option = 1
    a[o.pos][1] = 5
    call(spec, a, math.max(bn, o.pos))
  end
  -- random combinations
  for _ = 1, spec.random or 20 do
    local a = copy(spec.base(), bn)
    local n = math.max(bn, 1)
    for _ = 1, math.random(1, 3) do
      local i = math.random(1, n + 1)
      local v = VALUES[math.random(1, NV)]
      if not (spec.skip and spec.skip(i, v[2])) then
        a[i] = v[2]
        if i > n then n = i end
      end
    end
    call(spec, a, n)
  end
end

-- ------------------------------------------------------------ the surface
local nthreads = wb.executor().threads
wb.quiet(true) -- no convergence warnings from the many small fits
local function is_num(v) return type(v) == "number" end
local function not_path_safe(i, v) -- a path argument: only strings that cannot land in the build dir
  return i == 2 and type(v) == "string" and not v:find("^/nonexistent") and v ~= "" and not v:find("%z")
end

-- wb.*
add("wb.threads", wb.threads, args(2), {after = function() wb.threads(nthreads) end,
  skip = function(i, v) return i == 1 and is_num(v) and v >= 3 and v < 2 ^ 31 and v == math.floor(v) end})
add("wb.executor", wb.executor)
add("wb.estimators", wb.estimators)
add("wb.version", wb.version)
add("wb.now", wb.now)
add("wb.quiet", wb.quiet, args(true), {after = function() wb.quiet(true) end})
add("wb.fit", wb.fit, args("kmeans", D, {k = 2, seed = 0, max_iter = 5}),
  {opts = {{pos = 4, keys = {"progress", "verbose", "name"}}}})
add("wb.fit(gbdt)", wb.fit, args("gbdt", D2, {n_trees = 2, max_leaves = 4}), {names = {"fit", "gbdt"}})
add("wb.fit(scaler)", wb.fit, args("scaler", D), {names = {"fit", "scaler"}})
add("wb.dataset", wb.dataset, args(ROWS, {1, 2, 3}), {maxpos = 3})
add("wb.vector", wb.vector, args({1, 2, 3}))
add("wb.save", wb.save, args(D, tmp("s.csv")), {skip = not_path_safe, opts = {{pos = 3, keys = {"format", "header", "label", "precision"}}}})
add("wb.save(npy)", wb.save, args(D, tmp("s.npy")), {names = {"save"}, skip = not_path_safe})
add("wb.save(libsvm)", wb.save, args(D, tmp("s.libsvm")), {names = {"save"}, skip = not_path_safe})
add("wb.load", wb.load, args(SAVED), {opts = {{pos = 2, keys = {"format", "header", "label", "names", "delimiter",
  "sep", "columns", "drop", "dtype", "na_values", "max_levels", "qid", "zero_based"}}}})
add("wb.load(categories)", wb.load, args(CATCSV), {opts = {{pos = 2, keys = {"label", "columns", "drop", "dtype",
  "na_values", "sep", "max_levels"}}}, names = {"load"}})
add("wb.load_model", wb.load_model, args(SAVED_MODEL))
add("wb.split", wb.split, args(D, {test = 0.2, seed = 42, stratify = true}),
  {opts = {{pos = 2, keys = {"test", "seed", "stratify", "train"}}}})
add("wb.kfold", wb.kfold, args(D, {folds = 3, seed = 1}), {opts = {{pos = 2, keys = {"folds", "k", "seed", "shuffle"}}}})
add("wb.stratified_kfold", wb.stratified_kfold, args(D, {folds = 3, seed = 1}),
  {opts = {{pos = 2, keys = {"folds", "k", "seed", "shuffle"}}}})
add("wb.repartition", wb.repartition, args(D, 4096))
add("wb.gridsearch", wb.gridsearch, args("logreg", D2, {C = {0.1, 1}}, {folds = 2}),
  {opts = {{pos = 3, keys = {"C", "penalty", "max_iter"}}, {pos = 4, keys = {"folds", "metric", "seed", "refit", "stratify"}}}})
add("wb.randomsearch", wb.randomsearch, args("logreg", D2, {C = {0.1, 1}}, {folds = 2, n_iter = 2, seed = 1}),
  {opts = {{pos = 4, keys = {"folds", "metric", "seed", "n_iter"}}}})
add("wb.pipeline", wb.pipeline, args({"scaler", {"logreg", {C = 1}}}))
add("wb.export", wb.export, args({{a = 1, b = 2}}, tmp("e.csv")), {skip = not_path_safe})
add("wb.show", wb.show, args(D), {quiet = true})
add("wb.help", wb.help, args("logreg"), {quiet = true, names = {"help"}})
add("help", help, args("wb.fit"), {quiet = true, names = {"help"}})
add("wb.doc", wb.doc, args("wb.fit"), {names = {"doc"}})
add("wb.remote", wb.remote, args(function(x) return x end))
add("wb.wait", wb.wait, args({}))
add("wb.get", wb.get, args({}))
add("wb.is_future", wb.is_future, args({}))
add("wb.disconnect", wb.disconnect)
add("wb.connect", wb.connect, args("127.0.0.1:1", {timeout = 0.2}),
  {opts = {{pos = 2, keys = {"token", "token_file", "timeout", "workers", "head_timeout", "worker_timeout", "tls_cert",
                              "tls_key", "tls_ca", "insecure_no_tls"}}}, names = {"cluster", "token", "TLS"},
   skipopt = function(k, v) return k == "timeout" and is_num(v) and v > 1 and v <= 86400 end})
-- wb.cluster: only calls that must fail before anything starts (threads is invalid)
add("wb.cluster", wb.cluster, args({workers = 1, threads = -5}),
  {opts = {{pos = 1, keys = {"workers", "threads", "dashboard", "plugins"}}},
   skipopt = function(k, v) -- a valid thread count (a number or a numeric string) would start a cluster
     local t = (type(v) == "number" or type(v) == "string") and tonumber(v) or nil
     return k == "threads" and (v == nil or (t and t >= 0 and t <= 1024 and t == math.floor(t)))
   end,
   skip = function(i, v) return i == 1 and (v == nil or (type(v) == "table" and getmetatable(v) == nil)) end,
   random = 0, args_needed = true})
-- the fields read after workers and threads (plugins = 5 fails last, before anything starts)
add("wb.cluster(fields)", wb.cluster, args({workers = 1, threads = 1, plugins = 5}),
  {opts = {{pos = 1, keys = {"timeout", "heartbeat_ms", "heartbeat_timeout_ms", "memory_limit", "dashboard",
                              "head_timeout", "worker_timeout", "insecure_no_tls"}}},
   names = {"cluster"},
   skip = function(i, v) return i == 1 and (v == nil or (type(v) == "table" and getmetatable(v) == nil)) end,
   random = 0, args_needed = true}) -- wb.cluster() starts one
add("wb.plugin.load", wb.plugin.load, args(TEXT_FILE), {names = {"plugin"}}) -- "plugin PATH: cannot open ..."
add("wb.plugin.list", wb.plugin.list)
add("wb.plugin.path", wb.plugin.path)

-- wb.datagen.*
for _, s in ipairs(wb.core.sources()) do
  local base = {n = 200, seed = 1}
  local keys = {"n", "seed", "features", "informative", "redundant", "classes", "centers", "noise", "std",
                "cluster_std", "file", "flip_y", "class_sep", "weights", "shuffle", "partition_rows"}
  add("wb.datagen." .. s, wb.datagen[s], args(base), {opts = {{pos = 1, keys = keys}}, names = {s, "datagen." .. s},
    skipopt = function(k, v)
      -- a file that could be written; a size that fits a large machine's memory
      return (k == "file" and type(v) == "string" and not v:find("^/nonexistent") and v ~= "" and not v:find("%z"))
          or ((k == "n" or k == "features") and type(v) == "number" and v >= 1e6 and v <= 1e12)
    end})
end

-- wb.metrics.*
local PRED = MK:predict(D)
local PROBA = ML:predict_proba(D2)
for _, name in ipairs{"accuracy", "balanced_accuracy", "f1", "precision", "recall", "confusion", "report"} do
  add("wb.metrics." .. name, wb.metrics[name], args(D, PRED), {maxpos = 3})
end
add("wb.metrics.log_loss", wb.metrics.log_loss, args(D2, PROBA, {eps = 1e-15}), {opts = {{pos = 3, keys = {"eps", "labels", "classes"}}}})
add("wb.metrics.roc_auc", wb.metrics.roc_auc, args(D2, PROBA), {maxpos = 3})
add("wb.metrics.silhouette", wb.metrics.silhouette, args(D, PRED, {sample = 100, seed = 1}),
  {opts = {{pos = 3, keys = {"sample", "seed"}}}})
add("wb.metrics.davies_bouldin", wb.metrics.davies_bouldin, args(D, PRED))
add("wb.metrics.calinski_harabasz", wb.metrics.calinski_harabasz, args(D, PRED))
add("wb.metrics.inertia", wb.metrics.inertia, args(D, PRED, MK.centers))
add("wb.gbdt.importance", wb.gbdt.importance, args(MG), {maxpos = 2})
-- regression metrics (on vectors), and their grid search reduce
for _, name in ipairs{"mse", "rmse", "mae", "r2"} do
  add("wb.metrics." .. name, wb.metrics[name], args(VEC, VEC), {maxpos = 3})
end
add("wb.scoring.from_regression", wb.scoring.from_regression, args("r2", {{1, 0, 5, 1, 2, 3}}, 1), {names = {"from_regression"}})

-- the prompt's machinery: errors, help, completion, printing
local ERR = require("wb.errors")
local CMP = require("wb.complete")
add("wb.errors.report", ERR.report, args("a message", 1), {names = {"report"}})
add("wb.errors.closest", ERR.closest, args("kmean", {"kmeans"}), {names = {"closest"}})
add("wb.errors.internal_source", ERR.internal_source, args("@wb/lib.lua"))
add("wb.debug", wb.debug, args(false), {after = function() wb.debug(false) end})
add("wb.core.closest", wb.core.closest, args("kmean", {"kmeans", "pca"}))
add("wb.core.dir", wb.core.dir, args(TMP), {names = {"dir", "folder"}})
add("wb.help.query", require("wb.help").query, args("?kmeans"))
add("wb.help.topics", require("wb.help").topics)
add("wb.help.wrap", require("wb.help").wrap, args("some words to wrap", 8, "  "))
add("wb.complete.complete", CMP.complete, args("wb.fi"))
add("wb.complete.line", CMP.line, args('wb.fit("km', 10))
add("wb.complete.members", CMP.members, args(D, ":"))
add("wb.show.feature_names", wb.show and require("wb.show").feature_names, args(MK, 2), {names = {"feature_names"}})
add("wb.show.plural", require("wb.show").plural, args(2, "row"))
add("wb.show.table_lines", require("wb.show").table_lines, args({"a", "b"}, {{1, "x"}}, {true}, "  "))
add("wb.show.summaries.gbdt", require("wb.show").summaries.gbdt, args(MG), {names = {"gbdt"}})
-- data and the cluster (on the local executor: nothing to bring back)
add("wb.core.cluster_datasets", wb.core.cluster_datasets)
add("wb.core.collect_in_place", wb.core.collect_in_place, args(D), {names = {"collect_in_place", "dataset"}})
-- the local dashboard: the first call starts it (port 0: a free one), later ones give its URL
add("wb.dashboard", wb.dashboard, args({port = 0}), {opts = {{pos = 1, keys = {"port", "host", "allow_hosts"}}},
  skipopt = function(k, v) return k == "host" and type(v) == "string" end})

-- dataset methods (self is position 1: models, freed datasets, tables go there too)
local function dsm(name, ...)
  local t = table.pack(D, ...)
  add("d:" .. name, DSM[name], function() return t, t.n end, {quiet = true})
end
for _, name in ipairs{"rows", "cols", "partitions", "has_labels", "is_vector", "labels", "names", "executor",
                      "describe", "describe_raw", "rows_table", "collect"} do dsm(name) end
dsm("row", 1); dsm("row", N); dsm("slice", 1, 10); dsm("slice", 5, N); dsm("head", 3); dsm("show", 4)
dsm("with_labels", Y)
local function dcm(name, ...)
  local t = table.pack(DC, ...)
  add("d:" .. name .. "(categories)", DSM[name], function() return t, t.n end, {quiet = true, names = {name}})
end
for _, name in ipairs{"types", "levels", "label_levels", "label_name", "describe", "value_counts_raw"} do dsm(name) end
dcm("levels", "island"); dcm("levels", "species"); dcm("types"); dcm("describe"); dcm("head", 3)
dcm("select", {"sex", "island"}); dcm("drop", {"bill"}); dcm("rename", {island = "isle"}); dcm("col", "island")
dcm("with_column", "z", VEC); dcm("with_column", "w", {"a"}); dcm("filter", VEC)
dcm("value_counts", "island"); dcm("value_counts_raw", "sex"); dcm("quantiles_raw", {0.5})
dsm("select", {1, 2}); dsm("drop", {"x1"}); dsm("rename", {x1 = "a"}); dsm("col", 1); dsm("with_column", "z", VEC)
dsm("filter", VEC); dsm("value_counts", 1); dsm("quantiles_raw", {0.25, 0.75})
add("d:save", DSM.save, args(D, tmp("m.csv")), {skip = not_path_safe})
add("d:__len", debug.getregistry()["wb.Dataset"].__len, args(D), {names = {"__len", "#"}})
add("d:__tostring", debug.getregistry()["wb.Dataset"].__tostring, args(D), {names = {"__tostring", "tostring"}})
-- freeing: a fresh dataset each time
add("d:free", DSM.free, function() return {wb.dataset(ROWS)}, 1 end,
  {skip = function(i, v) return v == D or v == VEC end})

-- model methods
local function mm(name, m, ...)
  local t = table.pack(m, ...)
  local est = type(m.estimator) == "function" and m:estimator() or "pipeline"
  add("m:" .. name .. "(" .. est .. ")", MMM[name], function() return t, t.n end, {names = {name, est, "model", "kmeans", "logreg", "pca", "scaler", "gbdt", "sgd", "pipeline"}})
end
for _, m in ipairs{MK, ML, MP, MS, MG, MSGD} do
  local data = (m == ML or m == MG or m == MSGD) and D2 or D
  for _, name in ipairs{"predict", "predict_proba", "transform", "inverse_transform", "score", "score_raw"} do
    mm(name, m, data)
  end
  for _, name in ipairs{"params", "estimator", "fields", "encode"} do mm(name, m) end
end
mm("get", MK, "inertia"); mm("get", MP, "components")
mm("set", wb.load_model(SAVED_MODEL), "inertia", 1.5)
mm("steps", wb.fit(wb.pipeline({"scaler", "logreg"}), D2))
add("m:save", MMM.save, args(MK, tmp("m.wbm")), {skip = not_path_safe})
add("m:__index", debug.getregistry()["wb.Model"].__index, args(MK, "inertia"), {names = {"__index", "index"}})
add("m:__tostring", debug.getregistry()["wb.Model"].__tostring, args(MK), {names = {"__tostring", "tostring", "model"}})
add("g:export", GRID.export, args(GRID, tmp("g.csv")), {skip = not_path_safe})

-- plots
add("wb.plot.scatter", wb.plot.scatter, args(MP:transform(D), {color = PRED, file = tmp("p.svg")}),
  {opts = {{pos = 2, keys = {"color", "file", "title", "width", "height", "size", "max_points", "logx", "xmin", "ymax"}}},
   skipopt = function(k, v) return k == "file" and type(v) == "string" and not v:find("^/nonexistent") and v ~= "" and not v:find("%z") end})
add("wb.plot.line", wb.plot.line, args({a = {x = {1, 2, 3}, y = {1, 4, 9}}}, {title = "t"}),
  {opts = {{pos = 2, keys = {"file", "title", "xlabel", "logx", "logy", "width", "height", "xmin", "xmax", "ymin", "ymax"}}},
   skipopt = function(k, v) return k == "file" and type(v) == "string" and not v:find("^/nonexistent") and v ~= "" and not v:find("%z") end})
local BRES = {rows = {{workload = "generate", n = 100, executor = "local:1", kind = "local", units = 1, time = 0.1}}}
add("wb.plot.time_vs_size", wb.plot.time_vs_size, args(BRES, {}), {maxpos = 2})
add("wb.plot.speedup", wb.plot.speedup, args(BRES, {}), {maxpos = 2})

-- benchmarks (only calls that fail before work: the workload does not exist)
add("wb.bench.run", wb.bench.run, args({workloads = {"no_such_workload"}, sizes = {100}}),
  {opts = {{pos = 1, keys = {"repeats", "warmup", "baseline", "sizes", "executors"}}},
   skip = function(i, v) return i == 1 and type(v) == "table" end, random = 0, names = {"bench", "run"}})
add("wb.bench.register", wb.bench.register, args(12, {}), {names = {"register", "bench"},
  skip = function(i, v) return i == 1 and type(v) == "string" end})

-- futures and remote functions (tasks on local threads)
local RF = wb.remote(function(a, b) return a, b end)
local FUT = RF(1, 2)
add("rf:call", function(...) return RF(...) end, args(1, 2), {names = {"remote"}})
add("rf:__call", getmetatable(RF).__call, args(RF, 1, 2), {names = {"remote"}})
add("f:get", getmetatable(FUT).get, args(FUT), {names = {"get"}})
add("f:wait", getmetatable(FUT).wait, args(FUT), {names = {"wait"}})
add("wb.get(future)", wb.get, args(FUT), {names = {"get"}})
add("wb.wait(future)", wb.wait, args({FUT}), {names = {"wait"}})

-- result tables
local TBL = wb.table.new({"a", "b"}, {{a = 1, b = "x"}, {a = 2.5, b = "y"}})
add("wb.table.new", wb.table.new, args({"a"}, {{a = 1}}, "title"))
add("t:export", TBL.export, args(TBL, tmp("t.json")), {skip = not_path_safe})
add("t:column", TBL.column, args(TBL, "a"))
add("t:format", TBL.format, args(TBL, 5))
add("wb.table.to_csv", wb.table.to_csv, args(TBL))
add("wb.table.to_json", wb.table.to_json, args(TBL))
add("wb.table.format_numbers", wb.table.format_numbers, args({1, 2.5}, 3))
add("wb.bench.markdown", wb.bench.markdown, args(TBL), {names = {"markdown", "bench"}})

-- internal helpers still reachable from Lua: the same rules
add("wb.table.format_value", wb.table.format_value, args({1, a = "x"}, 0))
add("wb.table.json_value", wb.table.json_value, args({a = 1, b = {1, 2}}))
add("wb.table.is", wb.table.is, args(TBL))
add("wb.table.write_file", wb.table.write_file, args(tmp("w.txt"), "text"),
  {skip = function(i, v) return not_path_safe(i + 1, v) end}) -- the path is argument 1
add("t:__tostring", getmetatable(TBL).__tostring, args(TBL), {names = {"__tostring", "format"}})
add("wb.plot.escape", wb.plot.escape, args("<a & b>"))
add("wb.plot.short", wb.plot.short, args(1500))
add("wb.plot.sample_ranges", wb.plot.sample_ranges, args(100000, 1000))
add("wb.bench.median", wb.bench.median, args({3, 1, 2}))
add("wb.bench.sig", wb.bench.sig, args(math.pi, 4))
-- the bench data recipes: sizes that fit a large machine's memory are skipped
local function big_n(i, v) return i == 1 and is_num(v) and v >= 1e6 and v <= 1e12 end
add("wb.bench.data.classification", wb.bench.data.classification, args(200, {features = 4, classes = 2, seed = 1}),
  {opts = {{pos = 2, keys = {"features", "classes", "seed"}}}, skip = big_n, names = {"classification"},
   skipopt = function(k, v) return k == "features" and is_num(v) and v >= 1e4 and v <= 1e12 end})
add("wb.bench.data.swiss_roll", wb.bench.data.swiss_roll, args(200, {noise = 0.1, seed = 1}),
  {opts = {{pos = 2, keys = {"noise", "seed"}}}, skip = big_n, names = {"swiss_roll"}})
-- wb.scoring: the pieces grid search shares
local CONF_RES = {wb.core.pack_doubles({3, 0, 0, 5, 0, 1, 2, 1, 1, 4}), {1, 1, 0, 1}}
local CF = wb.scoring.merge_confusion(CONF_RES)
add("wb.scoring.names", wb.scoring.names)
add("wb.scoring.tree_sum", wb.scoring.tree_sum, args({{1, 2, 3}, {0, 1, 1}}))
add("wb.scoring.merge_confusion", wb.scoring.merge_confusion, args(CONF_RES))
add("wb.scoring.merge_logloss", wb.scoring.merge_logloss, args({wb.core.pack_doubles({1, 0, 2.5, 10}), {1, 1, 0.5, 5}}))
add("wb.scoring.accuracy", wb.scoring.accuracy, args(CF))
add("wb.scoring.balanced_accuracy", wb.scoring.balanced_accuracy, args(CF))
add("wb.scoring.prf", wb.scoring.prf, args(CF, "f1", {average = "macro"}, "f1"),
  {opts = {{pos = 3, keys = {"average", "pos_label"}}}})
add("wb.scoring.from_confusion", wb.scoring.from_confusion, args("f1_macro", CF))
add("wb.scoring.distinct", wb.scoring.distinct, args("sweep", D, 0), {names = {"sweep"}})
-- wb.core.load_plugins: the plugins on the search path, loaded again
add("wb.core.load_plugins", wb.core.load_plugins)
-- the metamethods and methods of wb's own objects (fresh ones where the call frees)
local function fixture(i, v) return i == 1 and (v == D or v == VEC or v == MK or v == OBJ) end
local DSMT, MDMT, OBMT = debug.getregistry()["wb.Dataset"], debug.getregistry()["wb.Model"], getmetatable(OBJ)
add("d:__gc", DSMT.__gc, function() return {wb.dataset(ROWS)}, 1 end, {skip = fixture, names = {"__gc"}})
add("d:__close", DSMT.__close, function() return {wb.dataset(ROWS)}, 1 end, {skip = fixture, names = {"__close"}})
add("m:__gc", MDMT.__gc, function() return {wb.load_model(SAVED_MODEL)}, 1 end, {skip = fixture, names = {"__gc"}})
add("m:__close", MDMT.__close, function() return {wb.load_model(SAVED_MODEL)}, 1 end, {skip = fixture, names = {"__close"}})
add("o:__gc", OBMT.__gc, function() return {wb.core.put("x")}, 1 end, {skip = fixture, names = {"__gc"}})
add("o:__close", OBMT.__close, function() return {wb.core.put("x")}, 1 end, {skip = fixture, names = {"__close"}})
add("o:free", OBMT.__index.free, function() return {wb.core.put("x")}, 1 end, {skip = fixture, names = {"free"}})
add("o:id", OBMT.__index.id, args(OBJ), {names = {"id"}})
add("o:get", OBMT.__index.get, args(OBJ), {names = {"get"}})
add("o:__tostring", OBMT.__tostring, args(OBJ), {names = {"__tostring"}})
add("f:__tostring", getmetatable(FUT).__tostring, args(FUT), {names = {"__tostring"}})
add("rf:__tostring", getmetatable(RF).__tostring, args(RF), {names = {"__tostring"}})
add("g:__tostring", getmetatable(GRID).__tostring, args(GRID), {names = {"__tostring"}})
add("wb.bench(call)", getmetatable(wb.bench).__call, args(wb.bench, {workloads = {"no_such_workload"}, sizes = {100}}),
  {skip = function(i, v) return i == 2 and type(v) == "table" end, random = 0, names = {"bench", "run"}})
-- the built-in bench workloads' functions, called with the context the runner
-- passes (captured by a workload of the sweep's), their setup's state and their
-- run's result; the runs are not repeated for values they do not read
local BCTX = {}
for _, dk in ipairs{"classification", "swiss_roll"} do
  wb.bench.run{workloads = {{name = "capture", data = dk, run = function(ctx) BCTX[dk] = ctx end}},
               sizes = {300}, executors = {"local:" .. nthreads}, repeats = 1, tmpdir = TMP}
end
check(BCTX.classification and BCTX.swiss_roll, "bench contexts captured")
for _, wname in ipairs(wb.bench.order) do
  local def = wb.bench.workloads[wname]
  local ctx = BCTX[def.data or "classification"]
  local st = def.setup and def.setup(ctx)
  local res = def.run(ctx, st)
  local nargs = {setup = 1, run = 2, rows = 2, cleanup = 2, quality = 3, extra = 3}
  if def.requires then add("wb.bench.workloads." .. wname .. ".requires", def.requires, nil, {names = {"requires"}}) end
  for _, f in ipairs{"setup", "run", "rows", "quality", "extra", "cleanup"} do
    if def[f] then
      local n = nargs[f]
      local t = table.pack(ctx, st, res)
      add("wb.bench.workloads." .. wname .. "." .. f, def[f], function() return t, n end,
        {names = {wname .. "." .. f}, random = 5, skip = function(i) return i > n end})
    end
  end
end
-- the prompt's modules, reachable with require
local SHM, HLM = require("wb.show"), require("wb.help")
check(SHM._grid == nil, "wb.show's grid helper is local")
add("show.num", SHM.num, args(1.5), {names = {"num", "format_value"}})
add("show.count", SHM.count, args(12345))
add("show.typename", SHM.typename, args(D))
add("show.header", SHM.header, args(D))
add("show.dataset", SHM.dataset, args(D, {rows = 4}), {opts = {{pos = 2, keys = {"rows", "cols", "width"}}}})
add("show.vector", SHM.vector, args(VEC, 5))
add("show.model", SHM.model, args(MK))
add("show.matrix", SHM.matrix, args({{1, 2}, {3, 4}}, 2, 2, 5, 5))
add("show.value", SHM.value, args({1, {2, x = D}}, 0, {}))
add("show.json_list", SHM.json_list, args('["a",null,["b"]]'))
add("show.feature_namer", SHM.feature_namer, args(MK))
add("show.class_names", SHM.class_names, args(MK))
add("show.print", SHM.print, args(D, {rows = 2}), {quiet = true, opts = {{pos = 2, keys = {"rows", "cols", "width"}}}})
add("show.begin", SHM.begin, args(80), {after = function() SHM.begin(nil) end})
add("show.results", SHM.results, args(1, D, MK))
add("help.lookup", HLM.lookup, args("wb.fit"))
add("help.text", HLM.text, args("wb.fit"), {names = {"text", "help"}})
-- the Jupyter kernel's layer (wb kernel): its functions take what cells make
local KM = require("wb.kernel")
add("kernel.display", KM.display, args(D))
add("kernel.results", KM.results, args(1, D, MK))
add("kernel.inspect", KM.inspect, args("wb.fit", 3))
add("kernel.error", KM.error, args("stdin:1: boom"))
add("kernel.escape", KM.escape, args("<a&b>"))
add("kernel.base64", KM.base64, args("abc"))
-- wb.datagen's metatable: the lookup of a source by name, TAB completion
add("datagen:__index", getmetatable(wb.datagen).__index, args(wb.datagen, "blobs"), {names = {"__index", "datagen"}})
add("datagen:__complete", getmetatable(wb.datagen).__complete, args(wb.datagen), {names = {"__complete", "datagen"}})

-- wb.core.*
local DS_PARTS = wb.core.parts(D)
local KMEANS_ARG = wb.core.pack_doubles({1, 2, 3})
add("wb.core.put", wb.core.put, args("bytes"))
add("wb.core.get", wb.core.get, args(OBJ))
add("wb.core.submit", wb.core.submit, args("no.such_kernel", {OBJ}, ""))
add("wb.core.wait", wb.core.wait, args({OBJ}))
add("wb.core.map", wb.core.map, args("no.such_kernel", D, {}, ""))
add("wb.core.map_sum", wb.core.map_sum, args("no.such_kernel", D, {}, "", 2))
add("wb.core.map_dataset", wb.core.map_dataset, args("no.such_kernel", D, {}, ""))
add("wb.core.parts", wb.core.parts, args(D))
add("wb.core.dataset", wb.core.dataset, args(DS_PARTS), {names = {"dataset"}})
add("wb.core.select", wb.core.select, args(D, {row_lo = 0, row_hi = 10}),
  {opts = {{pos = 2, keys = {"row_lo", "row_hi", "seed", "invert", "classes", "lo", "hi", "nranges"}}}})
add("wb.core.labels", wb.core.labels, args(D))
add("wb.core.pack_doubles", wb.core.pack_doubles, args({1, 2}))
add("wb.core.unpack_doubles", wb.core.unpack_doubles, args(KMEANS_ARG))
add("wb.core.params_encode", wb.core.params_encode, args({k = 1}))
add("wb.core.kernels", wb.core.kernels)
add("wb.core.interrupted", wb.core.interrupted)
add("wb.core.progress", wb.core.progress, args("sweep", 1, 2, "x"), {quiet = true})
add("wb.core.check_finite", wb.core.check_finite, args(D, "sweep"), {names = {"check_finite", "sweep"}})
add("wb.core.classes", wb.core.classes, args(D, "sweep", 10), {names = {"classes", "sweep"}})
add("wb.core.estimator_info", wb.core.estimator_info, args("kmeans"))
add("wb.core.source_info", wb.core.source_info, args("blobs"))
add("wb.core.sources", wb.core.sources)
add("wb.core.check_params", wb.core.check_params, args("kmeans", {k = 2}), {names = {"check_params", "kmeans"}})
add("wb.core.generate", wb.core.generate, args("blobs", {n = 100, seed = 1}), {names = {"generate", "blobs"}})
add("wb.core.peak_rss", wb.core.peak_rss)
add("wb.core.rss", wb.core.rss)
add("wb.core.read_meta", wb.core.read_meta, args(SAVED))
add("wb.core.model_new", wb.core.model_new, args("kmeans", {k = 2}, {}), {maxpos = 3})
add("wb.core.model_decode", wb.core.model_decode, args(MK:encode()), {names = {"model"}})
add("wb.core.replicate", wb.core.replicate, args(OBJ, 1))
add("wb.core.holder", wb.core.holder, args(OBJ))
add("wb.core.mpi_bench_reduce", wb.core.mpi_bench_reduce, args(64, 10))
add("wb.core.remote_encode", wb.core.remote_encode, args(function(x) return x end, 1), {names = {"remote"}})
add("wb.core.remote_decode", wb.core.remote_decode, args(wb.core.put("x")))
add("wb.sql.read", wb.sql.read, args(SQLDB, "t", {label = "species", partition_column = "bill", partitions = 2}),
  {opts = {{pos = 3, keys = {"partition_column", "partitions", "bounds", "label", "columns", "drop", "dtype", "max_levels"}}}})
add("wb.sql.write", wb.sql.write, args(DC, "sqlite:" .. tmp("w.db"), "t", {if_exists = "replace"}),
  {opts = {{pos = 4, keys = {"if_exists"}}},
   -- a URL argument: only SQLite files that cannot land in the build dir
   skip = function(i, v) return i == 2 and type(v) == "string" and v:find("^sqlite:") and not v:find("^sqlite:/nonexistent") end})

-- ------------------------------------------------------------ coverage
-- every function reachable from wb (its tables and their metatables), from
-- the metatables of wb's objects and from the wb.* modules is swept: a new
-- one makes this test fail until it gets an add(...) above (or a reason in
-- NOT_SWEPT)
local NOT_SWEPT = { -- ["wb.x.y"] = "why it cannot be swept"
  ["wb.kernel.install"] = "replaces io.read and sets wb.display for the Jupyter kernel (tests/sh/kernel_client.py)",
}
do
  local swept, missing, seen = {}, {}, {}
  for _, sp in ipairs(SPECS) do swept[sp.fn] = true end
  local function walk(t, path, depth)
    if seen[t] or depth > 8 then return end
    seen[t] = true
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local v, p = rawget(t, k), path .. "." .. tostring(k)
      if type(v) == "function" and not swept[v] and not NOT_SWEPT[p] then missing[#missing + 1] = p; swept[v] = true
      elseif type(v) == "table" then walk(v, p, depth + 1) end
    end
    local mt = getmetatable(t)
    if type(mt) == "table" then walk(mt, path .. "<mt>", depth + 1) end
  end
  walk(wb, "wb", 0)
  for name, v in pairs({dataset = D, model = MK, object = OBJ, future = FUT, remote = RF, search = GRID, table = TBL}) do
    walk(getmetatable(v), name .. "<mt>", 0)
  end
  local mods = {}
  for name in pairs(package.loaded) do if type(name) == "string" and name:find("^wb") then mods[#mods + 1] = name end end
  table.sort(mods)
  for _, name in ipairs(mods) do if type(package.loaded[name]) == "table" then walk(package.loaded[name], name, 0) end end
  check(#missing == 0, string.format("%d functions reachable from Lua are not swept: %s (add them to %s)", #missing,
                                     table.concat(missing, ", "), "tests/lua/api_sweep.lua"))
end

-- ------------------------------------------------------------ run
local nfun = #SPECS
local VERBOSE = os.getenv("WB_SWEEP_VERBOSE")
local ONLY = os.getenv("WB_SWEEP_ONLY")
for _, s in ipairs(SPECS) do
  local t0, c0 = wb.now(), calls
  local pick = not ONLY
  for alt in (ONLY or ""):gmatch("[^|]+") do pick = pick or s.name:find(alt, 1, true) end
  if pick then sweep(s) end
  if VERBOSE then io.stderr:write(string.format("%-36s %5d calls %6.2f s\n", s.name, calls - c0, wb.now() - t0)) end
end

-- every kernel with odd argument bytes must fail cleanly or succeed
local BYTES = {"", "\0", string.rep("\255", 7), string.rep("\0", 8), string.rep("\255", 64), KMEANS_ARG,
               wb.core.params_encode({k = -1}), string.rep("\1", 4096)}
-- kernels are internal: their words are their own; only crashes, garbage and hangs count
local kspec = {name = "wb.core.map(kernel)", lenient = true, call = function(k, b) return wb.core.map(k, D, {}, b) end, names = {}}
local sspec = {name = "wb.core.map_sum(kernel)", lenient = true, call = function(k, b) return wb.core.map_sum(k, D, {}, b, 3) end, names = {}}
for _, k in ipairs(wb.core.kernels()) do
  if k ~= "lua.call" then
    local plugin = k:match("^[^.]+")
    kspec.names = {k, "map", plugin}; sspec.names = {k, "map_sum", plugin}
    for _, b in ipairs(BYTES) do
      call(kspec, {k, b}, 2)
      call(sspec, {k, b}, 2)
    end
  end
end

wb.threads(nthreads)
wb.quiet(false)
sink:close()

-- ------------------------------------------------------------ regressions
-- bugs the sweep found, each with the message it must give now
local expect_error = TL.expect_error_with{string = true}
-- n too large for memory: refused up front, not run out of memory (or killed) after seconds of work
expect_error("datagen.blobs: parameter 'n' = 1125899906842624 rows x 2 columns needs", wb.datagen.blobs, {n = 2 ^ 50, seed = 1})
expect_error("more than the memory available", wb.datagen.classification, {n = math.maxinteger, seed = 1})
-- a number, "" or a NUL byte is not a path (file = 3 wrote a file named "3"; "a\0b" wrote "a")
expect_error("datagen.blobs: parameter 'file' must be a path, got number", wb.datagen.blobs, {n = 10, file = 3})
expect_error("datagen.blobs: parameter 'file' must be a path, got a string with a NUL byte", wb.datagen.blobs,
             {n = 10, file = tmp("x\0.csv")})
expect_error("bad argument #2 to 'save' (path contains a NUL byte at position 2)", function() return D:save("a\0.csv") end)
expect_error("bad argument #2 to 'save' (path expected, got an empty string)", function() return wb.save(D, "") end)
expect_error("bad argument #1 to 'load' (path of 70000 bytes, longer than 4096)", function() return wb.load(string.rep("y", 70000)) end)
expect_error("bad argument #1 to 'save' (path contains a NUL byte", function() return MK:save(tmp("m\0.wbm")) end)
-- a number is not a path (m:save(4) wrote the file "4" in the current folder)
expect_error("bad argument #1 to 'save' (path expected, got number)", function() return MK:save(4) end)
expect_error("bad argument #2 to 'save' (path expected, got number)", function() return wb.save(D, 3) end)
expect_error("bad argument #1 to 'load_model' (path expected, got number)", function() return wb.load_model(0) end)
expect_error("file must be a path, got \"a\\0.svg\"", function() return wb.plot.line({y = {1, 2}}, {file = "a\0.svg"}) end)
-- methods written in Lua check their self
expect_error("bad argument #1 to 'head' (dataset expected, got number)", function() local head = D.head; return head(5) end)
expect_error("bad argument #1 to 'describe' (dataset expected, got Model)", function() local describe = D.describe; return describe(MK) end)
expect_error("bad argument #1 to 'score' (model expected, got Dataset)", function() local score = MK.score; return score(D, D) end)
expect_error("bad argument #1 to 'score' (dataset expected, got table)", function() return ML:score({}) end)
expect_error("bad argument #1 to 'export' (search result expected, got number)", function() local export = GRID.export; return export(1, "x.csv") end)
expect_error("bad argument #1 to 'steps' (model expected, got number)", function() local steps = MK.steps; return steps(1) end)
-- d:show(math.mininteger) looped until memory ran out
expect_error("bad argument #1 to 'show' (rows must be an integer >= 0, got -9223372036854775808)", function() return D:show(math.mininteger) end)
expect_error("bad argument #1 to 'show' (rows must be an integer >= 0 or a table of options, got string)", function() return D:show("x") end)
-- errors in table fields named argument #-1
expect_error("bad argument #2 to 'select' (row_lo must be an integer in 0..", function() return wb.core.select(D, {row_lo = {}}) end)
expect_error("bad argument #2 to 'select' (nranges must be an integer in 0..1048576, got 2147483648)",
             function() return wb.core.select(D, {nranges = 1 << 31}) end)
expect_error("bad argument #2 to 'select' (lo[1] must be a number, got string)",
             function() return wb.core.select(D, {nranges = 1, lo = {"a"}, hi = {1}}) end)
expect_error("bad argument #1 to 'wait' (element 1 is not an object)", function() return wb.core.wait({1}) end)
expect_error("bad argument #1 to 'dataset' (element 1 is not an object)", function() return wb.core.dataset({"x"}) end)
-- a `like` of other columns: the dataset made from the parts is let go (the
-- message reads its columns: it once did so after freeing it)
expect_error(string.format("bad argument #2 to 'dataset' (a dataset of %d columns expected, got %d)", D:cols(), D:cols() + 1),
             function() return wb.core.dataset(DS_PARTS, D:with_column("extra", D:col(1))) end)
-- argument errors named wb.vector / string.pack instead of the metric
expect_error("bad argument #1 to 'accuracy' (element 2 of the vector is not a number)",
             function() return wb.metrics.accuracy({1, "a", 3}, {1, 2, 3}) end)
expect_error("bad argument #3 to 'log_loss' (eps must be a number in [0, 0.5), got string)",
             function() return wb.metrics.log_loss(D2, PROBA, {eps = "x"}) end)
expect_error("bad argument #3 to 'log_loss' (labels[2] must be a number, got table)",
             function() return wb.metrics.log_loss(D2, PROBA, {labels = {0, {}}}) end)
-- inf passed the whole-number checks, then failed comparing nil
expect_error("bad argument #2 to 'kfold' (folds must be an integer from 2 to 300 (the rows), got inf)",
             function() return wb.kfold(D, {folds = math.huge}) end)
expect_error("bad argument #2 to 'split' (test must be a fraction in (0, 1) or a number of rows, got inf)",
             function() return wb.split(D, {test = math.huge}) end)
-- values in messages: no addresses, no control bytes, no 70 KB echoes
expect_error("bad argument #2 to 'kfold' (seed must be an integer >= 0, got a table)", function() return wb.kfold(D, {seed = {}}) end)
expect_error("bad argument #1 to 'gridsearch' (no estimator named 'a\\0b'", function() return wb.gridsearch("a\0b", D2, {}) end)
do
  local e = expect_error("bad argument #2 to 'kfold' (folds must be an integer", function() return wb.kfold(D, {folds = string.rep("y", 70000)}) end)
  check(#e < 400, "a long value is cut short: " .. #e)
end
expect_error("bad argument #1 to 'export' (extension must be .csv or .json, got \"a\\0b\")", function() return wb.export({{a = 1}}, "a\0b") end)
expect_error("bad argument #1 to 'bench' (repeats must be an integer >= 1, got a table)", function() return wb.bench.run({repeats = {}}) end)
expect_error("bad argument #1 to 'bench.register' (workload name expected, got number)", function() return wb.bench.register(1, {}) end)
expect_error("bad argument #2 to 'bench.register' (a table with run = function(ctx, state) expected)", function() return wb.bench.register("x", {}) end)
-- plots: fractional sizes, non-numeric limits, non-table series and rows
expect_error("bad argument #2 to 'line' (width and height must be whole numbers in 100..100000, got width = 250.5)",
             function() return wb.plot.line({y = {1, 2}}, {width = 250.5}) end)
expect_error("bad argument #2 to 'line' (xmin must be a finite number, got \"a\")", function() return wb.plot.line({y = {1, 2}}, {xmin = "a"}) end)
expect_error("bad argument #1 to 'line' (series 1 must be a table {x=, y=}, got number)", function() return wb.plot.line({1, 2, 3}) end)
expect_error("bad argument #2 to 'time_vs_size' (table of options expected, got number)", function() return wb.plot.time_vs_size({}, 5) end)
expect_error("bad argument #1 to 'speedup' (no rows with a speedup)", function() return wb.plot.speedup({1, "x", {speedup = "fast"}}) end)
expect_error("bad argument #2 to 'scatter' (max_points must be an integer >= 1, got table)",
             function() return wb.plot.scatter(MP:transform(D), {max_points = {}}) end)
-- a table that holds itself: a message, not a stack overflow
do
  local ok = pcall(wb.export, {{a = SELF}}, tmp("self.csv"))
  check(ok, "export of a record holding a cyclic table")
end
-- a dataset made before wb.cluster() is used with an object put on its own executor
do
  local o = wb.core.put("abc", D)
  check(wb.core.get(o) == "abc", "put on the dataset's executor")
  expect_error("bad argument #2 to 'put' (dataset or object expected, got number)", function() return wb.core.put("x", 5) end)
end
-- estimator and source names are not echoed in full
do
  local e = expect_error("bad argument #1 to 'generate' (no data source named 'yyyy", function() return wb.core.generate(string.rep("y", 70000), {}) end)
  check(#e < 300, "a long source name is cut short: " .. #e)
end
-- result tables, futures and bench results check their self and arguments
expect_error("bad argument #1 to 'to_csv' (result table expected, got number)", function() return wb.table.to_csv(5) end)
expect_error("bad argument #2 to 'new' (row 1 must be a table, got number)", function() return wb.table.new({"a"}, {5}) end)
expect_error("bad argument #1 to 'column' (result table expected, got table)", function() return TBL.column({}, "a") end)
-- format_numbers(list, math.maxinteger) looped for ever
expect_error("bad argument #2 to 'format_numbers' (n must be an integer in 0..1000000, got 9223372036854775807)",
             function() return wb.table.format_numbers({1}, math.maxinteger) end)
expect_error("bad argument #1 to 'get' (future expected, got number)", function() local get = FUT.get; return get(5) end)
expect_error("bad argument #1 to 'markdown' (benchmark result expected, got number)", function() return wb.bench.markdown(5) end)
-- NaN and huge numbers reached (int) casts in wb.connect / wb.cluster (undefined behaviour)
expect_error("bad argument #2 to 'connect' (workers must be an integer in 0..4096, got",
             function() return wb.connect("127.0.0.1:1", {workers = 0 / 0, timeout = 0.1}) end)
expect_error("bad argument #1 to 'cluster' (threads must be an integer in 0..1024 (0: the cores shared among the workers), got",
             function() return wb.cluster({threads = 0 / 0}) end)
expect_error("bad argument #1 to 'cluster' (heartbeat_ms must be an integer in 0..3600000, got 1e+300)",
             function() return wb.cluster({workers = 1, heartbeat_ms = 1e300}) end)
expect_error("bad argument #1 to 'cluster' (timeout must be in (0, 86400] seconds, got inf)",
             function() return wb.cluster({workers = 1, timeout = math.huge}) end)
-- option fields read by the shared helpers (wbl_opt_number, wbl_opt_integer): a wrong type, a fraction
expect_error("bad argument #1 to 'cluster' (workers must be a number, got table)", function() return wb.cluster({workers = {}}) end)
expect_error("bad argument #2 to 'connect' (timeout must be a number, got boolean)",
             function() return wb.connect("127.0.0.1:1", {timeout = true}) end)
expect_error("bad argument #2 to 'select' (seed must be an integer in -9223372036854775808..9223372036854775807, got 2.5)",
             function() return wb.core.select(D, {seed = 2.5}) end)
expect_error("bad argument #2 to 'select' (row_hi must be an integer in -1..9223372036854775807, got string)",
             function() return wb.core.select(D, {row_hi = "x"}) end)
expect_error("bad argument #1 to 'cluster' (memory_limit must be a size (e.g. \"4GB\") or bytes, got 1e+300)",
             function() return wb.cluster({workers = 1, memory_limit = 1e300}) end)
expect_error("bad argument #1 to 'cluster' (memory_limit: bad size 'nan' (e.g. 4GB, 512MB, 1000000))",
             function() return wb.cluster({workers = 1, memory_limit = "nan"}) end)
-- the internal helpers reachable from Lua check their arguments too
expect_error("bad argument #1 to 'short' (number expected, got string)", wb.plot.short, "1500")
check(wb.plot.short(math.huge) == "inf" and wb.plot.short(-math.huge) == "-inf" and wb.plot.short(0 / 0) == "nan",
      "short of inf and nan") -- was "infT"
-- max = math.mininteger: windows - 1 wrapped to math.maxinteger, a loop that ran out of memory
expect_error("bad argument #2 to 'sample_ranges' (max must be an integer >= 1, got -9223372036854775808)",
             wb.plot.sample_ranges, 100000, math.mininteger)
expect_error("bad argument #1 to 'sample_ranges' (n must be an integer >= 0, got nil)", wb.plot.sample_ranges, nil, 10)
check(#wb.plot.sample_ranges(100000, 1000) == 256, "sample_ranges: 256 windows")
-- depth = NaN never reached the limit (a stack overflow on a cyclic table); "x" failed comparing
expect_error("bad argument #2 to 'format_value' (depth must be an integer >= 0, got string)", wb.table.format_value, 1, "x")
expect_error("bad argument #2 to 'format_value' (depth must be an integer >= 0, got 0.5)", wb.table.format_value, SELF, 0.5)
-- JSON of a table that holds itself: a stack overflow
expect_error("json_value: a table nested deeper than 100 levels (one that holds itself?)", wb.table.json_value, SELF)
do
  local cyc = wb.table.new({"a"}, {{a = 1}})
  cyc[1].a = cyc
  expect_error("to_json: a table nested deeper than 100 levels", wb.table.to_json, cyc)
  check(wb.table.json_value({a = {1, {b = "x"}}}) == '{"a":[1,{"b":"x"}]}', "json_value of nested tables")
end
-- write_file: text = nil raised in f:write and left PATH.tmp behind; a number or a 70 KB path
do
  local p = tmp("wf.txt")
  expect_error("bad argument #2 to 'write_file' (string expected, got nil)", wb.table.write_file, p, nil)
  check(io.open(p .. ".tmp") == nil and io.open(p) == nil, "write_file left no file on a bad argument")
  expect_error("bad argument #1 to 'write_file' (path expected, got number)", wb.table.write_file, 3, "x")
  expect_error("bad argument #1 to 'write_file' (path contains a NUL byte at position 2)", wb.table.write_file, "a\0b", "x")
  expect_error("bad argument #1 to 'write_file' (path of 70000 bytes, longer than 4096)", wb.table.write_file,
               string.rep("y", 70000), "x")
  expect_error("bad argument #1 to 'export' (path contains a NUL byte at position 2)", function() return TBL:export("a\0.csv") end)
end
expect_error("bad argument #1 to '__tostring' (result table expected, got number)", getmetatable(TBL).__tostring, 5)
expect_error("bad argument #1 to '__tostring' (future expected, got number)", getmetatable(FUT).__tostring, 5)
expect_error("bad argument #1 to '__tostring' (search result expected, got table)", getmetatable(GRID).__tostring, {})
-- bench statistics
expect_error("bad argument #1 to 'median' (element 2 must be a number, got string)", wb.bench.median, {1, "2"})
expect_error("bad argument #1 to 'median' (list of numbers expected, got number)", wb.bench.median, 5)
do local m = wb.bench.median({1, 0 / 0, 2}); check(m ~= m, "median with NaN is NaN") end
check(wb.bench.median({3, 1, 2, 10}) == 2.5, "median of four")
expect_error("bad argument #2 to 'sig' (digits must be an integer in 1..17, got 1000000000)", wb.bench.sig, 1.5, 1000000000)
expect_error("bad argument #2 to 'sig' (digits must be an integer in 1..17, got nil)", wb.bench.sig, 1.5)
expect_error("bad argument #1 to 'sig' (number or nil expected, got string)", wb.bench.sig, "1.5", 3)
check(wb.bench.sig(math.pi, 3) == 3.14 and wb.bench.sig(nil, 3) == nil, "sig rounds")
expect_error("bad argument #2 to 'classification' (features must be an integer in 1..1000000, got nil)",
             wb.bench.data.classification, 100, {})
expect_error("bad argument #2 to 'swiss_roll' (table of options expected, got nil)", wb.bench.data.swiss_roll, 100)
-- wb.scoring
do
  local S = wb.scoring
  expect_error("bad argument #1 to 'tree_sum' (block 2 has 2 numbers, block 1 has 3)", S.tree_sum, {{1, 2, 3}, {0, 1}})
  expect_error("bad argument #1 to 'tree_sum' (block 1 must be a list {index, values...}, got no index)", S.tree_sum, {{0 / 0, 1}})
  expect_error("bad argument #1 to 'merge_confusion' (result 1: 3 bytes, not a list of doubles)", S.merge_confusion, {"abc"})
  expect_error("bad argument #1 to 'merge_confusion' (result 1: a count of records in 0..1 expected first, got 1e+300)",
               S.merge_confusion, {{1e300, 1, 1, 1}})
  expect_error("bad argument #1 to 'merge_confusion' (result 1: value 2 must be a number, got nan)", S.merge_confusion, {{1, 0 / 0, 1, 1}})
  expect_error("bad argument #1 to 'merge_logloss' (no blocks: the truth has no rows)", S.merge_logloss, {{0}})
  expect_error("bad argument #1 to 'accuracy' (confusion expected (as merge_confusion returns), got number)", S.accuracy, 5)
  expect_error("bad argument #1 to 'balanced_accuracy' (counts[0] must map a class to a count, got 1 = x)",
               S.balanced_accuracy, {classes = {0, 1}, counts = {[0] = {[1] = "x"}}, n = 1})
  expect_error("bad argument #4 to 'prf' (fname must be a function name, got table)", S.prf, CF, "f1", {}, {})
  expect_error("bad argument #2 to 'prf' (which must be \"precision\", \"recall\" or \"f1\", got x)", S.prf, CF, "x")
  -- the value shown short, without its address or control bytes
  expect_error("f1: average must be \"binary\", \"macro\", \"weighted\" or \"micro\", got table", S.prf, CF, "f1", {average = {}}, "f1")
  expect_error("pos_label \"a\\0b\" is not one of the classes (0, 1)", S.prf, CF, "f1", {pos_label = "a\0b"}, "f1")
  expect_error("bad argument #1 to 'from_confusion' (a metric on labels expected (", S.from_confusion, "roc_auc", CF)
  expect_error("bad argument #3 to 'sweep' (source must be 0 (the labels) or 1 (column 1), got 1e+300)", S.distinct, "sweep", D, 1e300)
  expect_error("bad argument #2 to 'sweep' (dataset expected, got table)", S.distinct, "sweep", {}, 0)
  check(S.accuracy(CF) == 9 / 12 and S.from_confusion("accuracy", CF) == 9 / 12, "scoring accuracy: " .. S.accuracy(CF))
  check(S.merge_logloss({{1, 0, 2.5, 10}, {1, 1, 0.5, 5}}) == 0.2, "merge_logloss")
end
-- the prompt's modules (require "wb.show", "wb.help"): row counts of
-- math.mininteger or inf looped until memory ran out; other values raised "attempt to ..."
do
  local SH, HL = require("wb.show"), require("wb.help")
  expect_error("bad argument #2 to 'dataset' (rows must be an integer >= 0, got -9223372036854775808)",
               SH.dataset, D, math.mininteger)
  expect_error("bad argument #2 to 'vector' (max must be an integer >= 0, got -9223372036854775808)",
               SH.vector, VEC, math.mininteger)
  expect_error("bad argument #2 to 'matrix' (r must be an integer >= 0, got inf)", SH.matrix, {{1, 2}}, math.huge, 2)
  expect_error("bad argument #1 to 'matrix' (row 2 must be a table, got nil)", SH.matrix, {{1, 2}}, 2, 2)
  expect_error("bad argument #1 to 'header' (dataset expected, got number)", SH.header, 5)
  expect_error("bad argument #1 to 'model' (model expected, got Dataset)", SH.model, D) -- through the plugins' wrappers
  expect_error("bad argument #3 to 'value' (table expected, got number)", SH.value, {1}, 0, 5)
  expect_error("bad argument #2 to 'value' (depth must be an integer >= 0, got string)", SH.value, {1}, "x")
  expect_error("bad argument #2 to 'print' (rows must be an integer >= 0, got -1)", SH.print, D, {rows = -1})
  expect_error("bad argument #1 to 'begin' (width must be an integer >= 0, got string)", SH.begin, "x")
  expect_error("bad argument #1 to 'lookup' (name expected, got number)", HL.lookup, 5)
  check(SH.dataset(VEC, 4):find("^Vector of 300: %["), "show.dataset of a vector shows a vector")
  check(SH.matrix({{1, 2}, {3, 4}}, 2, 2)[2]:find("3") ~= nil, "show.matrix")
  check(HL.lookup("wb.fit") == wb.fit, "help.lookup")
end
-- the built-in workloads' functions take only the runner's context, their
-- setup's state and their run's result ("attempt to index" before; a save
-- state made up by the caller named the files cleanup removed)
do
  local W = wb.bench.workloads
  expect_error("bad argument #1 to 'kmeans.run' (the context wb.bench passes expected, got number)", W.kmeans.run, 5)
  local keep = tmp("keep.libsvm")
  do local f = assert(io.open(keep, "w")); f:write("1 1:1\n"); f:close() end
  expect_error("bad argument #2 to 'save.cleanup' (the state save.setup returned expected, got table)",
               W.save.cleanup, BCTX.classification, {path = keep})
  local kf = io.open(keep)
  check(kf ~= nil, "a made-up state removed no file")
  kf:close()
  local st = W.logreg.setup(BCTX.classification)
  expect_error("bad argument #2 to 'logreg.run' (the state logreg.setup returned expected, got table)",
               W.logreg.run, BCTX.classification, W.sgd.setup(BCTX.classification))
  local m = W.logreg.run(BCTX.classification, st)
  expect_error("bad argument #3 to 'logreg.quality' (the result of logreg.run expected, got number)",
               W.logreg.quality, BCTX.classification, st, 5)
  check(W.logreg.quality(BCTX.classification, st, m) > 0.5, "logreg.quality of its own run")
  -- a workload of the caller's reusing the built-in functions still runs
  local r = wb.bench.run{workloads = {{name = "mine", data = "classification", setup = W.logreg.setup, run = W.logreg.run,
                                       quality = W.logreg.quality}}, sizes = {300}, repeats = 1, tmpdir = TMP,
                         executors = {"local:" .. nthreads}}
  check(type(r[1].quality) == "number" and r[1].quality > 0.5, "a workload made of built-in functions: " .. tostring(r[1].note))
end
-- wb.datagen[5] raised from wb.core.source_info: a key that is not a string names no source
check(wb.datagen[5] == nil and wb.datagen[{}] == nil, "datagen index by a non-string")
check(wb.executor().kind == "local", "no cluster started")
print("api_sweep: regressions ok")

-- ------------------------------------------------------------ healthy afterwards
collectgarbage()
do
  local h = wb.datagen.blobs{n = 3000, features = 2, centers = 3, seed = 7}
  local km = wb.fit("kmeans", h, {k = 3, seed = 0})
  local acc = wb.metrics.accuracy(h, km:predict(h))
  -- the clusters are found (labels may be permuted): each cluster is pure
  local y, p = wb.core.labels(h), wb.core.labels(km:predict(h))
  local map, pure = {}, 0
  for i = 1, #y do
    map[p[i]] = map[p[i]] or {}
    map[p[i]][y[i]] = (map[p[i]][y[i]] or 0) + 1
  end
  for _, c in pairs(map) do
    local best = 0
    for _, v in pairs(c) do best = math.max(best, v) end
    pure = pure + best
  end
  check(pure / #y > 0.99, "k-means after the sweep: purity " .. pure / #y)
  check(acc >= 0 and acc <= 1, "accuracy in [0, 1]")
  local tr, te = wb.split(D2, {test = 0.3, seed = 1})
  local lr = wb.fit("logreg", tr, {C = 1.0})
  check(lr:score(te) > 0.8, "logreg after the sweep: " .. lr:score(te))
end

cleanup()

local elapsed = wb.now() - t_start
if os.getenv("WB_SWEEP_MESSAGES") then
  local ks = {}
  for k in pairs(messages) do ks[#ks + 1] = k end
  table.sort(ks)
  for _, k in ipairs(ks) do print(k) end
end
print(string.format("api_sweep: %d functions, %d calls (%d succeeded), %d failures, slowest %.2f s of CPU (%s), %.1f s",
                    nfun, calls, ok_calls, #failures, slowest, slowest_name:sub(1, 120), elapsed))
for i = 1, math.min(#failures, 200) do print("  " .. failures[i]) end
do
  local added = cwd_added()
  local shown = {}
  for i = 1, math.min(#added, 20) do shown[i] = string.format("%q", added[i]) end
  check(#added == 0, string.format("the sweep left %d files in the current folder: %s", #added, table.concat(shown, ", ")))
end
check(#failures == 0, #failures .. " calls failed the sweep's checks")
