-- wb.help: help(name) or help(value) prints what a function, an estimator
-- (its parameter schema, from the plugin) or a data source does; help() lists
-- what exists. Plugins document their own Lua functions with
-- wb.doc("wb.metrics.f1", "wb.metrics.f1(truth, pred) -> F1 score").
local wb = ...
local M = {}

M.docs = {
  -- where work runs
  ["wb.threads"] = "wb.threads(n) -- set the local executor to n threads (one per core by default); wb.threads() returns the count",
  ["wb.executor"] = "wb.executor() -> where work runs: {kind = \"local\"|\"cluster\", workers, threads, address}",
  ["wb.cluster"] = "wb.cluster{workers = 2, threads = 1} -- start a local cluster (a head and worker processes) and connect to it",
  ["wb.connect"] = "wb.connect(\"HOST:PORT\", {token = \"...\"}) -- connect to a running head (`wb head`); work then runs on its workers",
  ["wb.disconnect"] = "wb.disconnect() -- leave the cluster; work runs on local threads again",
  ["wb.quiet"] = "wb.quiet(true) -- no progress line on the terminal; wb.quiet() returns the setting",
  -- data
  ["wb.datagen"] = "wb.datagen.<source>{...} -> dataset; help(\"<source>\") shows the parameters; add file = \"x.libsvm\" to write straight to a file",
  ["wb.dataset"] = "wb.dataset(rows, labels) -> dataset from a Lua table of rows (and a table of labels)",
  ["wb.vector"] = "wb.vector({...}) -> a vector (one-column dataset)",
  ["wb.load"] = "wb.load(path, {format=, header=, label=, features=, mmap=, zero_based=, delimiter=, max_rows=}) -> dataset; the format from the extension (.libsvm .svm .csv .npy) or format=\"libsvm\"|\"csv\"|\"npy\"\n" ..
    "  LIBSVM: lines `label index:value ...`, indices from 1 (zero_based=true: from 0), missing features are 0; columns from features=, else the .meta beside the file, else the largest index\n" ..
    "  CSV: a header line is detected unless header=true|false; labels: label=\"first\"|\"last\"|column name|false, by default a header column named label, y, target or class (any case), else none; delimiter=\",\"; empty fields are NaN\n" ..
    "  NPY: float64 (memory-mapped unless mmap=false) or float32, C order, little-endian; labels from NAME.labels.npy when it exists\n" ..
    "  max_rows=N: a file of more than N rows is refused with an error before its rows are parsed into memory",
  ["wb.save"] = "wb.save(dataset, path, {format=, header=true, meta=true}) -- write LIBSVM (zeros left out), CSV (a header x1..xd or the column names, the labels last as \"label\") or NPY (float64; labels in NAME.labels.npy)\n" ..
    "  numbers are written in the shortest form that reads back bit-identically; the file is written under a temporary name and renamed at the end, so a failed save leaves nothing\n" ..
    "  PATH.meta, written last, is a JSON object {\"num_samples\", \"num_features\", \"num_classes\" (distinct integer labels, 0 if none), \"dataset_size\" (bytes of the data files)}",
  ["wb.split"] = "wb.split(d, {test = 0.2, seed = 42, stratify = true}) -> train, test",
  -- databases
  ["wb.sql"] = "wb.sql.read(url, table_or_query, opts) -> dataset;  wb.sql.write(x, url, table, {if_exists = \"fail\"|\"replace\"|\"append\"}) -> rows written\n" ..
    "  url: sqlite:path/to/file.db (read-only when reading) | postgresql://user@host:port/dbname?param=value (any libpq parameter); wb.sql.backends lists what this build reaches\n" ..
    "  passwords come from PGPASSWORD, ~/.pgpass or the URL and are never printed; a URL's password stays in this process (a cluster's workers use their own PGPASSWORD or ~/.pgpass)\n" ..
    "  types come from the database's column types, not a sample: integer, real, numeric -> number; text, varchar, char, enum -> category; boolean -> number 0/1 (dtype = {b = \"category\"}: \"false\"/\"true\");\n" ..
    "    date, timestamp, timestamptz -> seconds since 1970 (UTC); time -> seconds since midnight; NULL -> missing; other types -> category of their text.\n" ..
    "    SQLite: by the declared type (INT -> number, CHAR/TEXT -> category, DATE/TIME -> seconds, no type -> numbers or text by the values); a value that does not fit is an error naming its column and row\n" ..
    "  partition_column = \"id\", partitions = 4 (default: one per thread): range partitions WHERE id >= a AND id < b (never LIMIT/OFFSET), each read by a task where it will live\n" ..
    "    (a thread, a cluster's worker, an MPI rank); bounds = {lo, hi} (else min and max) or {b0, b1, ..., bk}; the first partition also takes what is below, the last what is above and NULL\n" ..
    "    PostgreSQL: the partitions share one snapshot and stream by binary COPY; SQLite: one prepared statement each (on a cluster every worker must see the file at the same path)\n" ..
    "    without a partition column: one streaming query, split into partitions\n" ..
    "  label = \"y\", columns = {...}, drop = {...}, dtype = {col = \"number\"|\"category\"}, max_levels = N: as wb.load\n" ..
    "  writing: one transaction (PostgreSQL COPY FROM STDIN, SQLite batched INSERTs): all rows or none; a new table gets double precision (REAL), bigint (INTEGER) and text columns;\n" ..
    "    x: a dataset (its columns, then the labels under their name or \"label\"; categories as text, missing as NULL), a vector, or a result table (g.results, wb.bench tables, a table of metrics)",
  ["wb.sql.read"] = "wb.sql.read(url, table_or_query, {partition_column =, partitions =, bounds = {...}, label =, columns = {...}, drop = {...}, dtype = {...}, max_levels =}) -> dataset; help(\"sql\") for more",
  ["wb.sql.write"] = "wb.sql.write(dataset_vector_or_table, url, table, {if_exists = \"fail\"|\"replace\"|\"append\"}) -> rows written, in one transaction; help(\"sql\") for more",
  -- estimators
  ["wb.fit"] = "wb.fit(name, data, params) -> model -- fit a registered estimator; the parameters are checked against its schema first (help(name) shows it)",
  ["wb.estimators"] = "wb.estimators() -> names of the registered estimators",
  ["wb.load_model"] = "wb.load_model(path) -> a model saved with m:save(path)",
  ["wb.gridsearch"] = "wb.gridsearch(name, data, {param = {values...}}, {folds = 3, metric = \"accuracy\"}) -> g: g.best_params, g.best_score, g.results, g:export(path)",
  -- results
  ["wb.export"] = "wb.export(table_or_result, path) -- write a result table as .csv or .json",
  ["wb.show"] = "wb.show(value) -> the text the prompt prints for a dataset, vector, model or table",
  ["wb.plot.scatter"] = "wb.plot.scatter(data2d, {color = labels, file = \"out.svg\"}) -- a scatter plot as SVG",
  ["wb.bench"] = "wb.bench{...} -- run the benchmark suite",
  -- plugins and the rest
  ["wb.plugin.load"] = "wb.plugin.load(path) -- load a plugin shared object (refused with the file and the reason when it does not fit)",
  ["wb.plugin.list"] = "wb.plugin.list() -> {{name =, version =, path =}, ...}",
  ["wb.version"] = "wb.version() -> the version string",
  ["wb.now"] = "wb.now() -> monotonic wall-clock seconds, for timing",
  ["wb.help"] = "help(name) or help(value) -- what a function, estimator or data source does; help() lists them",
  ["wb.doc"] = "wb.doc(name, text) -- document a function for help() (for plugins' Lua code)",
  -- datasets
  ["dataset:rows"] = "d:rows() -> number of rows",
  ["dataset:cols"] = "d:cols() -> number of columns",
  ["dataset:partitions"] = "d:partitions() -> number of partitions",
  ["dataset:has_labels"] = "d:has_labels() -> true when the rows carry labels",
  ["dataset:is_vector"] = "d:is_vector() -> true for a vector (predictions, labels)",
  ["dataset:head"] = "d:head(n) -- print the first n rows (default 5) and return them as a dataset",
  ["dataset:show"] = "d:show(n) -- print the dataset with n rows (first and last halves)",
  ["dataset:row"] = "d:row(i) -> row i as a Lua array (and its label)",
  ["dataset:slice"] = "d:slice(i, j) -> rows i..j as a new dataset",
  ["dataset:describe"] = "d:describe() -> per-column count, mean, std, min, max (a map/reduce over the partitions)",
  ["dataset:labels"] = "d:labels() -> the labels as a vector",
  ["dataset:with_labels"] = "d:with_labels(v) -> a copy whose labels are the vector v (nil: without labels)",
  ["dataset:names"] = "d:names() -> column names; d:names({...}) sets them",
  ["dataset:save"] = "d:save(path, opts) -- the same as wb.save(d, path, opts)",
  ["dataset:executor"] = "d:executor() -> where the dataset lives: \"local\" or \"cluster\"",
  ["dataset:free"] = "d:free() -- release the data now rather than when it is collected",
  -- models
  ["model:predict"] = "m:predict(data) -> vector of predictions, partitioned like the data",
  ["model:predict_proba"] = "m:predict_proba(data) -> dataset of class probabilities",
  ["model:transform"] = "m:transform(data) -> transformed dataset",
  ["model:inverse_transform"] = "m:inverse_transform(data) -> data back in the original space",
  ["model:score"] = "m:score(data) -> accuracy for classifiers, the estimator's own score otherwise",
  ["model:save"] = "m:save(path) -- save the model (wb.load_model reads it back bit-identically)",
  ["model:params"] = "m:params() -> the parameters the model was fitted with (defaults filled in)",
  ["model:fields"] = "m:fields() -> what the model holds: {{name =, type =, rows =, cols =}, ...}; read one as m.name",
  ["model:estimator"] = "m:estimator() -> the estimator's name",
}

function M.add(name, text)
  if type(name) ~= "string" then error("bad argument #1 to 'doc' (name expected, got " .. type(name) .. ")", 2) end
  if type(text) ~= "string" then error("bad argument #2 to 'doc' (text expected, got " .. type(text) .. ")", 2) end
  M.docs[name] = text
end
wb.doc = M.add

function M.lookup(path)
  -- a name (found by tests/lua/api_sweep.lua: anything else raised "attempt to index")
  if type(path) ~= "string" then error(string.format("bad argument #1 to 'lookup' (name expected, got %s)", type(path)), 2) end
  local obj = _G
  for part in path:gmatch("[^%.:]+") do
    if type(obj) ~= "table" then return nil end
    local ok, v = pcall(function() return obj[part] end)
    if not ok then return nil end
    obj = v
  end
  return obj
end

local out -- the lines being printed
local function say(...) out[#out + 1] = string.format(...) end

-- words laid out in columns, at most `width` characters a line
local function columns(words, width, indent)
  width, indent = width or 78, indent or "  "
  if #words == 0 then say("%s(none)", indent) return end
  local w = 0
  for _, s in ipairs(words) do w = math.max(w, #s) end
  local per = math.max(1, (width - #indent) // (w + 2))
  local rows = (#words + per - 1) // per
  for r = 1, rows do
    local line = {}
    for c = 0, per - 1 do
      local s = words[c * rows + r]
      if s then line[#line + 1] = s .. string.rep(" ", w - #s) end
    end
    say("%s%s", indent, (table.concat(line, "  "):gsub("%s+$", "")))
  end
end

local function aligned(rows)
  local w = {}
  for _, r in ipairs(rows) do for j, s in ipairs(r) do w[j] = math.max(w[j] or 0, #s) end end
  for _, r in ipairs(rows) do
    local p = {}
    for j, s in ipairs(r) do p[j] = j < #r and (s .. string.rep(" ", w[j] - #s)) or s end
    say("  %s", (table.concat(p, "  "):gsub("%s+$", "")))
  end
end

local function schema(info)
  local rows = {{"name", "default", "allowed", "meaning"}}
  for _, p in ipairs(info.params) do
    rows[#rows + 1] = {p.name, p.default or "-", p.allowed or "", p.doc or ""}
  end
  say("parameters:")
  aligned(rows)
end

local function estimator_help(info)
  say("%s (%s): %s", info.name, info.kind, info.doc)
  say("usage: m = wb.fit(%q, data, {%s})", info.name,
      #info.params > 0 and (info.params[1].name .. " = ..., ...") or "")
  local methods = {}
  for _, f in ipairs(info.methods or {}) do methods[#methods + 1] = "m:" .. f .. "(data)" end
  methods[#methods + 1] = "m:save(path)"
  say("methods: %s", table.concat(methods, ", "))
  if info.needs_labels then say("needs labelled data") end
  schema(info)
end

local function source_help(info)
  say("wb.datagen.%s (data source): %s", info.name, info.doc)
  say("usage: d = wb.datagen.%s{%s}  -- add file = \"out.libsvm\" to write straight to a file", info.name,
      #info.params > 0 and (info.params[1].name .. " = ..., ...") or "")
  schema(info)
end

-- the documented names that exist here
local function known(prefix)
  local names = {}
  for k in pairs(M.docs) do
    if k:sub(1, #prefix) == prefix then
      if prefix ~= "wb." or M.lookup(k) ~= nil then names[#names + 1] = k end
    end
  end
  table.sort(names)
  return names
end

local function overview()
  say("wb %s -- an analysis workbench (Lua 5.4). help(name) or help(value) for any of these:", wb.version())
  say("functions:")
  columns(known("wb."))
  say("dataset methods (d:name(...)):")
  local ds = {}
  for _, k in ipairs(known("dataset:")) do ds[#ds + 1] = "d:" .. k:sub(9) end
  columns(ds)
  say("model methods (m:name(...); fields read as m.name):")
  local ms = {}
  for _, k in ipairs(known("model:")) do ms[#ms + 1] = "m:" .. k:sub(7) end
  columns(ms)
  local e = wb.estimators()
  table.sort(e)
  say("estimators (wb.fit(name, data, params); help(\"name\") for the parameters):")
  columns(e)
  local s = wb.core.sources()
  table.sort(s)
  say("data sources (wb.datagen.name{...}):")
  columns(s)
  say("At the prompt: TAB completes names, Ctrl-C stops the running work, Ctrl-D leaves; see wb(1).")
end

local function find_name(name)
  local found = false
  local info = wb.core.estimator_info(name)
  if info then estimator_help(info) found = true end
  local src = name:match("^wb%.datagen%.(.+)$") or name:match("^datagen%.(.+)$") or name
  local sinfo = wb.core.source_info(src)
  if sinfo then
    if found then say("") end
    source_help(sinfo)
    found = true
  end
  if found then return true end
  local method = name:match("^[%a_][%w_]*:([%a_][%w_]*)$")
  local candidates = {name, "wb." .. name}
  if method then
    candidates[#candidates + 1] = "dataset:" .. method
    candidates[#candidates + 1] = "model:" .. method
  else
    candidates[#candidates + 1] = "dataset:" .. name
    candidates[#candidates + 1] = "model:" .. name
  end
  local seen = {}
  for _, k in ipairs(candidates) do
    if M.docs[k] and not seen[M.docs[k]] then
      seen[M.docs[k]] = true
      say("%s", M.docs[k])
      found = true
    end
  end
  return found
end

local function function_name(f)
  for k in pairs(M.docs) do
    if k:match("^wb%.") and rawequal(M.lookup(k), f) then return k end
  end
  for _, s in ipairs(wb.core.sources()) do
    if rawequal(wb.datagen[s], f) then return "wb.datagen." .. s end
  end
  if rawequal(f, help) then return "wb.help" end
  local reg = debug.getregistry()
  for mt, prefix in pairs({["wb.Dataset"] = "dataset:", ["wb.Model"] = "model:"}) do
    local t = reg[mt]
    local methods = t and (type(t.__index) == "table" and t.__index or t.methods)
    if type(methods) == "table" then
      for k, v in pairs(methods) do if rawequal(v, f) then return prefix .. k end end
    end
  end
end

function M.text(name)
  out = {}
  local t = type(name)
  if name == nil then
    overview()
  elseif t == "function" then
    local k = function_name(name)
    if not (k and find_name(k)) then say("no help for this function (help() lists what there is)") end
  elseif t == "userdata" then
    local mt = getmetatable(name)
    local kind = type(mt) == "table" and rawget(mt, "__name")
    if kind == "Dataset" then
      say("%s", require("wb.show").header(name))
      say("dataset methods (d:name(...)):")
      local ds = {}
      for _, k in ipairs(known("dataset:")) do ds[#ds + 1] = "d:" .. k:sub(9) end
      columns(ds)
    elseif kind == "Model" then
      local info = wb.core.estimator_info(name:estimator())
      if info then estimator_help(info) else say("%s model", name:estimator()) end
      local f = {}
      for _, x in ipairs(name:fields()) do f[#f + 1] = "m." .. x.name end
      say("fields:")
      columns(f)
    else
      say("no help for %s", tostring(name))
    end
  elseif t == "table" then
    local found = false
    for k, v in pairs(M.docs) do
      if k:match("^wb%.") and rawequal(M.lookup(k), name) then say("%s", v) found = true end
    end
    if not found then
      -- a namespace (wb.metrics): its documented functions
      local names = {}
      for k in pairs(M.docs) do
        local parent = k:match("^(.*)%.[^%.]+$")
        if parent and rawequal(M.lookup(parent), name) and M.lookup(k) ~= nil then names[#names + 1] = k end
      end
      table.sort(names)
      for _, k in ipairs(names) do say("%s", M.docs[k]) end
      if #names == 0 then say("no help for this table (help() lists what there is)") end
    end
  else
    name = tostring(name)
    if not find_name(name) then say("no help for '%s' (help() lists what there is)", name) end
  end
  local s = table.concat(out, "\n")
  out = nil
  return s
end

function M.help(name)
  print(M.text(name))
end

return M
