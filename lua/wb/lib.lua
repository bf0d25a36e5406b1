-- wb.lib: the Lua side of the `wb` module: the parts that are easier to write
-- in Lua than in C (printing, help, data sources, result tables). Called once
-- with the module table after the C part is open.
local wb = ...
require "wb.errors" -- first: how errors are reported
local T = require "wb.table"
wb.table = T

show = require("wb.show")

-- require passes the module name as the first argument, so the modules that
-- need the wb table get it through this upvalue-free hand-off
package.loaded["wb"] = wb

wb.show = function(v) return show.value(v) end

-- print() shows datasets and vectors as the prompt does (a table of their
-- rows), so a script prints what the prompt prints; tostring(d) stays short
-- (models and result tables already print in full through __tostring)
local print_plain = print
print = function(...)
  local n = select("#", ...)
  local args = table.pack(...)
  for i = 1, n do
    local v = args[i]
    if type(v) == "userdata" and show.typename(v) == "Dataset" then args[i] = show.value(v) end
  end
  return print_plain(table.unpack(args, 1, n))
end

local H = require("wb.help")
wb.help = H.help
help = H.help

-- exit(code) and quit(code) leave wb (the prompt, or a script with status
-- code): an error object the shell recognises (its field wb_exit), so that
-- wb closes as after Ctrl-D (history saved, a cluster it started stopped)
local Exit = {__name = "wb.Exit"}
Exit.__tostring = function(e) return string.format("exit(%s)", tostring(rawget(e, "wb_exit"))) end
function exit(code)
  if code == nil or code == true then code = 0 elseif code == false then code = 1 end
  if math.type(code) ~= "integer" or code < 0 or code > 255 then
    error(string.format("bad argument #1 to 'exit' (status must be an integer in 0..255 or a boolean, got %s)",
                        type(code) == "number" and tostring(code) or type(code)), 2)
  end
  error(setmetatable({wb_exit = code}, Exit), 0)
end
quit = exit

-- data sources registered by plugins appear as wb.datagen.<name>{...}
local sources = {} -- one function per source, so that help(wb.datagen.x) knows it
wb.datagen = setmetatable({}, {
  __complete = function() return wb.core.sources() end, -- for TAB at the prompt
  __index = function(_, name)
    -- only a string names a source (found by tests/lua/api_sweep.lua:
    -- wb.datagen[5] raised from wb.core.source_info; a table gives nil)
    if type(name) ~= "string" then return nil end
    if sources[name] then return sources[name] end
    if wb.core.source_info(name) then
      sources[name] = function(params)
        if type(params) ~= "table" then
          error(string.format("bad argument #1 to '%s' (table of parameters expected, got %s)", name, type(params)), 2)
        end
        return wb.core.generate(name, params)
      end
      return sources[name]
    end
  end,
})

-- datasets: the methods written in Lua
local DSMT = debug.getregistry()["wb.Dataset"]
local D = DSMT.__index
-- the methods written in Lua check their self as the C ones do (found by
-- tests/lua/api_sweep.lua: d.head(5) raised "attempt to index a number value")
local typename = show.typename
local function check_self(v, mt, what, fname)
  if getmetatable(v) ~= mt then
    error(string.format("bad argument #1 to '%s' (%s expected, got %s)", fname, what, typename(v)), 3)
  end
end
function D.head(d, n)
  check_self(d, DSMT, "dataset", "head")
  n = n or 5
  if math.type(n) ~= "integer" or n < 0 then
    error(string.format("bad argument #1 to 'head' (non-negative integer expected, got %s)",
                        type(n) == "number" and tostring(n) or typename(n)), 2)
  end
  local h = d:slice(1, math.min(n, d:rows()))
  show.print(h, n) -- the prompt does not print it a second time
  return h
end
-- describe(): one row per column (d:labels():describe() for the labels):
-- count, missing, mean, std, min, quartiles, max for numbers; count,
-- missing, unique, top, freq for categories (as pandas' describe(include="all"));
-- printed with one number format per statistic
function D.describe(d)
  check_self(d, DSMT, "dataset", "describe")
  local r = d:describe_raw()
  local names, types = d:names(), d:types()
  local n = d:rows()
  local cols = {}
  for j = 1, d:cols() do cols[j] = {name = names[j], cat = types[j] == "category", j = j} end
  local any_num, any_cat = false, false
  for _, c in ipairs(cols) do
    if c.cat then any_cat = true else any_num = true end
  end
  local q = any_num and d:quantiles_raw{0.25, 0.5, 0.75} or {}
  local rows = {}
  for k, c in ipairs(cols) do
    local row = {column = c.name}
    local src, j = d, c.j
    if c.label then src, j = d:labels(), 1 end -- the labels as a vector
    if c.cat then
      local vals, counts, missing = src:value_counts_raw(j)
      local unique, top, freq = 0, nil, 0
      for i, v in ipairs(vals) do
        local cnt = counts[i]
        if cnt > 0 then unique = unique + 1 end
        if cnt > freq then top, freq = v, cnt end
      end
      row.count, row.missing, row.unique, row.top, row.freq = n - missing, missing, unique, top, top and freq or nil
    else
      local rr = c.label and src:describe_raw() or r
      local cnt = math.tointeger(rr.count[j]) or rr.count[j]
      row.mean, row.std, row.min, row.max = rr.mean[j], rr.std[j], rr.min[j], rr.max[j]
      row.count, row.missing = cnt, n - cnt
      local qs = q[k] or {}
      row["25%"], row["50%"], row["75%"] = qs[1], qs[2], qs[3]
    end
    rows[k] = row
  end
  local head = {"column", "count", "missing"}
  if any_num then for _, h in ipairs{"mean", "std", "min", "25%", "50%", "75%", "max"} do head[#head + 1] = h end end
  if any_cat then for _, h in ipairs{"unique", "top", "freq"} do head[#head + 1] = h end end
  local t = T.new(head, rows)
  t.same_format = {{"mean", "std", "min", "25%", "50%", "75%", "max"}} -- one format for the statistics
  return t
end
-- value_counts(col): the values of a column and how often each occurs, most
-- frequent first (ties in the order of the values); missing values apart
function D.value_counts(d, col)
  check_self(d, DSMT, "dataset", "value_counts")
  -- the column checked here, so that a bad one names value_counts
  local function bad(msg) error(string.format("bad argument #1 to 'value_counts' (%s)", msg), 3) end
  if col == nil then
    if not (d:cols() == 1 and not d:has_labels()) then bad("column name or index expected, got nil") end
  elseif math.type(col) == "integer" then
    if col < 1 or col > d:cols() then bad(string.format("column %d out of range 1..%d", col, d:cols())) end
  elseif type(col) == "string" then
    local found = col == d:label_name()
    for _, n in ipairs(d:names()) do if n == col or n:lower() == col:lower() then found = true end end
    if not found then
      local names = {}
      for j, n in ipairs(d:names()) do if j <= 20 then names[j] = '"' .. n .. '"' end end
      local shown = (#col > 60 and col:sub(1, 60) .. "..." or col):gsub("%c", "?")
      bad(string.format("no column named \"%s\" (columns: %s%s)", shown, table.concat(names, ", "), d:cols() > 20 and ", ..." or ""))
    end
  else
    bad("column name or index expected, got " .. (type(col) == "number" and tostring(col) or typename(col)))
  end
  local vals, counts, missing = d:value_counts_raw(col)
  local idx = {}
  for i = 1, #vals do idx[i] = i end
  table.sort(idx, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  local rows = {}
  for k, i in ipairs(idx) do rows[k] = {value = vals[i], count = counts[i]} end
  local t = T.new({"value", "count"}, rows)
  t.missing = missing
  return t
end
function D.save(d, path, opts)
  check_self(d, DSMT, "dataset", "save")
  return wb.save(d, path, opts)
end
function D.show(d, n)
  check_self(d, DSMT, "dataset", "show")
  -- rows to show, or {rows =, cols =, width =} (found by tests/lua/api_sweep.lua:
  -- d:show(math.mininteger) looped until memory ran out)
  local o = type(n) == "table" and n or {rows = n}
  if type(n) ~= "table" and n ~= nil and math.type(n) ~= "integer" then
    error(string.format("bad argument #1 to 'show' (rows must be an integer >= 0 or a table of options, got %s)", typename(n)), 2)
  end
  for _, k in ipairs{"rows", "cols", "width"} do
    local v = o[k]
    if v ~= nil and (math.type(v) ~= "integer" or v < 0) then
      error(string.format("bad argument #1 to 'show' (%s must be an integer >= 0, got %s)", k, tostring(v)), 2)
    end
  end
  show.print(d, n or {})
end

-- models: score and printing
local Mmt = debug.getregistry()["wb.Model"]
local MM = Mmt.methods
Mmt.__tostring = function(m)
  check_self(m, Mmt, "model", "__tostring")
  return show.model(m)
end
function MM.score(m, data)
  check_self(m, Mmt, "model", "score")
  if getmetatable(data) ~= DSMT then
    error(string.format("bad argument #1 to 'score' (dataset expected, got %s)", typename(data)), 2)
  end
  -- labels whose class names differ from the model's (a file loaded on its
  -- own): accuracy by class name, not by code (gbdt's own score maps them)
  local info = wb.core.estimator_info(m:estimator())
  local by_name = false
  if m:estimator() ~= "gbdt" and info and info.kind == "classifier" and data:has_labels() and data:label_levels() then
    local SH = require("wb.show")
    local mine, theirs = SH.json_list(m.label_levels), data:label_levels()
    if mine then
      by_name = #mine ~= #theirs
      for i = 1, #theirs do by_name = by_name or mine[i] ~= theirs[i] end
    end
  end
  local s = not by_name and m:score_raw(data) or nil
  if s ~= nil then return s end
  if info and info.kind == "classifier" then
    if not data:has_labels() then error("score: the data has no labels", 2) end
    local pred = m:predict(data)
    if wb.metrics and wb.metrics.accuracy then return wb.metrics.accuracy(data, pred) end
    local y, p = wb.core.labels(data), wb.core.labels(pred)
    local ok = 0
    for i = 1, #y do if y[i] == p[i] then ok = ok + 1 end end
    return ok / math.max(#y, 1)
  end
  error(string.format("%s has no score", m:estimator()), 2)
end

-- wb.export(t, path, {columns = {...}}): a result table, or a list of
-- records (or one record). A record's fields have no order in Lua: the
-- columns are the given ones first, then the text fields (names of things),
-- then the numbers, then the rest, each group alphabetical
function wb.export(t, path, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(string.format("bad argument #3 to 'export' (table of options expected, got %s)", type(opts)), 2)
  end
  for k in pairs(opts or {}) do
    if k ~= "columns" then error(string.format("bad argument #3 to 'export' (unknown option '%s'; options: columns)", tostring(k)), 2) end
  end
  local given = opts and opts.columns
  if given ~= nil and type(given) ~= "table" then
    error(string.format("bad argument #3 to 'export' (columns must be a list of names, got %s)", type(given)), 2)
  end
  if T.is(t) then return t:export(path) end
  if type(t) == "table" and type(t.export) == "function" then return t:export(path) end
  if type(t) == "table" then
    -- a list of records, or a record
    local rows = #t > 0 and t or {t}
    local cols, seen, kind = {}, {}, {}
    for _, c in ipairs(given or {}) do
      if not seen[c] then seen[c] = true; cols[#cols + 1] = c end
    end
    for _, r in ipairs(rows) do
      if type(r) ~= "table" then error("bad argument #1 to 'export' (table of records expected)", 2) end
      for k, v in pairs(r) do
        if kind[k] == nil then
          kind[k] = (type(v) == "string" or type(v) == "boolean") and 1 or type(v) == "number" and 2 or 3
        end
      end
    end
    local rest = {}
    for k in pairs(kind) do if not seen[k] then rest[#rest + 1] = k end end
    table.sort(rest, function(a, b)
      if kind[a] ~= kind[b] then return kind[a] < kind[b] end
      return tostring(a) < tostring(b)
    end)
    for _, k in ipairs(rest) do cols[#cols + 1] = k end
    return T.new(cols, rows):export(path)
  end
  error(string.format("bad argument #1 to 'export' (table or result expected, got %s)", type(t)), 2)
end

wb.metrics = wb.metrics or {}
require("wb.plot")
require("wb.bench")
-- require("wb.lib") yields true, not the table: argument errors then name
-- functions as wb.load rather than wb.lib.load
return true
