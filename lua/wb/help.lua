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
  ["wb.load"] = "wb.load(path, {format=, header=, label=, features=, mmap=, zero_based=, delimiter=|sep=, max_rows=, columns=, drop=, dtype=, na_values=, max_levels=, ragged=, qid=}) -> dataset (other keys are refused); the format from the extension (.libsvm .svm .csv .npy) or format=\"libsvm\"|\"csv\"|\"npy\"\n" ..
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
  ["wb.export"] = "wb.export(table_or_result, path, {columns = {...}}) -- write a result table (or a list of records) as .csv or .json; records' columns: the given ones, then text fields, then numbers",
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
  ["dataset:describe"] = "d:describe() -> per-column count, mean, std, min, max, with missing counts and quartiles; unique, top and freq for category columns (a map/reduce over the partitions)",
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
local width -- of the terminal (nil: lines are not wrapped)

-- text cut into lines of at most w characters at spaces (a longer word
-- stays whole); lines after the first start with `indent`
local function wrap(text, w, indent)
  if type(text) ~= "string" then error("bad argument #1 to 'wrap' (string expected, got " .. type(text) .. ")", 2) end
  if w ~= nil and (math.type(w) ~= "integer" or w < 1) then
    error("bad argument #2 to 'wrap' (width must be an integer >= 1, got " .. (type(w) == "number" and tostring(w) or type(w)) .. ")", 2)
  end
  if indent ~= nil and type(indent) ~= "string" then error("bad argument #3 to 'wrap' (string expected, got " .. type(indent) .. ")", 2) end
  indent = indent or ""
  if not w or #text <= w then return {text} end
  local lines, cur = {}, ""
  for word in text:gmatch("%S+") do
    local lead = #lines == 0 and "" or indent
    if cur == "" then cur = lead .. word
    elseif #cur + 1 + #word <= w then cur = cur .. " " .. word
    else
      lines[#lines + 1] = cur
      cur = indent .. word
    end
  end
  if cur ~= "" then lines[#lines + 1] = cur end
  return lines
end
M.wrap = wrap

-- a line of help, wrapped to the terminal (continued lines indented by two
-- more than the line)
local function say(...)
  local text = string.format(...)
  for line in (text .. "\n"):gmatch("(.-)\n") do
    local lead = line:match("^%s*")
    for _, l in ipairs(wrap(line, width, lead .. "  ")) do out[#out + 1] = l end
  end
end

-- words laid out in columns, at most `width` characters a line
local function columns(words, w, indent)
  w, indent = w or math.max((width or 80) - 2, 20), indent or "  "
  local width = w
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

-- rows of cells in aligned columns; on a narrow terminal the last two
-- columns wrap within their own width (at least 16 characters each), and
-- when even that does not fit each row's last cells go below its first ones
local function aligned(rows)
  local w, ncol = {}, 0
  for _, r in ipairs(rows) do
    ncol = math.max(ncol, #r)
    for j, s in ipairs(r) do w[j] = math.max(w[j] or 0, #s) end
  end
  local function total() local t = 2 for j = 1, ncol do t = t + w[j] + (j < ncol and 2 or 0) end return t end
  if width and total() > width and ncol >= 2 then
    local fixed = 2
    for j = 1, ncol - 2 do fixed = fixed + w[j] + 2 end
    local room = width - fixed - 2
    if room >= 32 then
      -- the two last columns share the room, the shorter one first
      local a, b = w[ncol - 1], w[ncol]
      if a + b > room then
        local half = room // 2
        if a <= half then b = room - a
        elseif b <= half then a = room - b
        else a, b = half, room - half end
        w[ncol - 1], w[ncol] = a, b
      end
    else
      -- stacked: the first columns, then the rest indented below
      for ri, r in ipairs(rows) do
        local p = {}
        for j = 1, math.min(ncol - 2, #r) do p[j] = r[j] .. string.rep(" ", w[j] - #r[j]) end
        say("  %s", (table.concat(p, "  "):gsub("%s+$", "")))
        for j = ncol - 1, #r do
          if r[j] ~= "" and ri > 1 then
            for _, l in ipairs(wrap(r[j], width - 6, "      ")) do out[#out + 1] = (l:sub(1, 6) == "      " and l or "      " .. l) end
          end
        end
      end
      return
    end
  end
  for _, r in ipairs(rows) do
    local cells, nlines = {}, 1
    for j = 1, ncol do
      local s = r[j] or ""
      cells[j] = #s > w[j] and wrap(s, w[j]) or {s}
      nlines = math.max(nlines, #cells[j])
    end
    for k = 1, nlines do
      local p = {}
      for j = 1, ncol do
        local s = cells[j][k] or ""
        p[j] = j < ncol and (s .. string.rep(" ", w[j] - #s)) or s
      end
      out[#out + 1] = "  " .. (table.concat(p, "  "):gsub("%s+$", ""))
    end
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

-- the wb tables whose functions help lists as a module (help("metrics"))
local function module_of(name)
  if type(name) ~= "string" then return nil end
  local path = name:match("^wb%.") and name or ("wb." .. name)
  if not path:match("^wb%.[%a_][%w_]*$") then return nil end
  local t = M.lookup(path)
  if type(t) == "table" and getmetatable(t) == nil or rawequal(t, wb.datagen) then return t, path end
end

-- one line per function of a module: its documentation, or its name
local function module_help(t, path)
  local names, seen = {}, {}
  for k in pairs(M.docs) do
    local parent = k:match("^(.*)%.[^%.]+$")
    if parent and rawequal(M.lookup(parent), t) and M.lookup(k) ~= nil then names[#names + 1] = k; seen[k] = true end
  end
  if rawequal(t, wb.datagen) then
    for _, src in ipairs(wb.core.sources()) do
      local k = "wb.datagen." .. src
      if not seen[k] then names[#names + 1] = k; seen[k] = true end
    end
  else
    for k, v in pairs(t) do
      if type(k) == "string" and type(v) == "function" and not k:match("^_") and not seen[path .. "." .. k] then
        names[#names + 1] = path .. "." .. k
        seen[path .. "." .. k] = true
      end
    end
  end
  table.sort(names)
  if #names == 0 then return false end
  say("%s: %d function%s (help(\"name\") for one):", path, #names, #names == 1 and "" or "s")
  for _, k in ipairs(names) do
    local doc = M.docs[k]
    if not doc and rawequal(t, wb.datagen) then
      local info = wb.core.source_info(k:match("[^%.]+$"))
      doc = info and (k .. "{...} -- " .. info.doc)
    end
    say("%s", doc or (k .. "(...)"))
  end
  return true
end

-- every name help knows: the documented ones (also by their last part,
-- "scatter" for wb.plot.scatter), estimators, data sources and modules
function M.topics()
  local set = {}
  for k in pairs(M.docs) do
    if not k:match("^wb%.") or M.lookup(k) ~= nil then
      set[k] = true
      local short = k:match("[%.:]([%a_][%w_]*)$")
      if short then set[short] = true end
      local mid = k:match("^wb%.([%a_][%w_]*%.[%a_][%w_]*)$")
      if mid then set[mid] = true end
    end
  end
  for _, e in ipairs(wb.estimators()) do set[e] = true end
  for _, src in ipairs(wb.core.sources()) do set[src] = true; set["wb.datagen." .. src] = true end
  for k, v in pairs(wb) do
    if type(k) == "string" and type(v) == "table" and module_of(k) and not k:match("^_") then set[k] = true; set["wb." .. k] = true end
  end
  local out = {}
  for k in pairs(set) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- the documented names whose last part is `short`
local function by_short_name(short)
  local keys = {}
  for k in pairs(M.docs) do
    if (k:match("[%.:]([%a_][%w_]*)$") == short or k:match("^wb%.(.+)$") == short) and (not k:match("^wb%.") or M.lookup(k) ~= nil) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, function(a, b)
    -- wb. functions first, then the methods
    local wa, wb_ = a:match("^wb%.") ~= nil, b:match("^wb%.") ~= nil
    if wa ~= wb_ then return wa end
    return a < b
  end)
  return keys
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
  -- a module: its functions (after its own line, when it has one)
  local t, path = module_of(name)
  if t then
    if found then say("") end
    if module_help(t, path) then return true end
  end
  if found then return true end
  -- the last part of a name: help("scatter") is wb.plot.scatter
  for _, k in ipairs(by_short_name(name:match("([%a_][%w_]*)$") and name or "")) do
    if not seen[M.docs[k]] then
      seen[M.docs[k]] = true
      say("%s", M.docs[k])
      found = true
    end
  end
  if found then return true end
  local mid = name:match("^([%a_][%w_]*%.[%a_][%w_]*)$")
  if mid and M.docs["wb." .. mid] then say("%s", M.docs["wb." .. mid]) return true end
  return false
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
      for k, v in pairs(wb) do
        if rawequal(v, name) and type(k) == "string" and module_help(v, "wb." .. k) then found = true break end
      end
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
    if not find_name(name) then
      local near = wb.core.closest and wb.core.closest(name, M.topics())
      if near then
        say("no help for '%s' (did you mean help(\"%s\")? help() lists what there is)", name, near)
      else
        say("no help for '%s' (help() lists what there is)", name)
      end
    end
  end
  local s = table.concat(out, "\n")
  out = nil
  return s
end

-- M.text(name, w): the help text, wrapped to w columns (default: the
-- terminal's width as the prompt knows it; none in a script)
local text_of = M.text
function M.text(name, w)
  if w ~= nil and (math.type(w) ~= "integer" or w < 20) then
    error(string.format("bad argument #2 to 'text' (width must be an integer >= 20, got %s)",
                        type(w) == "number" and tostring(w) or type(w)), 2)
  end
  local okS, SH = pcall(require, "wb.show")
  width = w or (okS and type(SH) == "table" and SH.width) or nil
  local ok, s = pcall(text_of, name)
  width = nil
  if not ok then out = nil error(s, 0) end
  return s
end

function M.help(name)
  print(M.text(name))
end

-- `?name` or `name?` typed at the prompt: the name asked about, else nil
function M.query(line)
  if type(line) ~= "string" then return nil end
  local name = line:match("^%s*%?%s*([%a_][%w_%.:]*)%s*$") or line:match("^%s*([%a_][%w_%.:]*)%s*%?%s*$")
  return name
end

return M
