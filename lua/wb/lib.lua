-- wb.lib: the Lua side of the `wb` module: the parts that are easier to write
-- in Lua than in C (printing, help, data sources, result tables). Called once
-- with the module table after the C part is open.
local wb = ...
local T = require "wb.table"
wb.table = T

show = require("wb.show")

-- require passes the module name as the first argument, so the modules that
-- need the wb table get it through this upvalue-free hand-off
package.loaded["wb"] = wb

wb.show = function(v) return show.value(v) end

local H = require("wb.help")
wb.help = H.help
help = H.help

-- data sources registered by plugins appear as wb.datagen.<name>{...}
local sources = {} -- one function per source, so that help(wb.datagen.x) knows it
wb.datagen = setmetatable({}, {
  __complete = function() return wb.core.sources() end, -- for TAB at the prompt
  __index = function(_, name)
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
local D = debug.getregistry()["wb.Dataset"].__index
function D.head(d, n)
  n = n or 5
  if math.type(n) ~= "integer" or n < 0 then error("bad argument #1 to 'head' (non-negative integer expected)", 2) end
  local h = d:slice(1, math.min(n, d:rows()))
  show.print(h, n) -- the prompt does not print it a second time
  return h
end
function D.describe(d)
  local r = d:describe_raw()
  local names = d:names()
  local rows = {}
  for j = 1, d:cols() do
    rows[j] = {column = names[j], count = r.count[j], mean = r.mean[j], std = r.std[j], min = r.min[j], max = r.max[j]}
  end
  return T.new({"column", "count", "mean", "std", "min", "max"}, rows)
end
function D.save(d, path, opts) return wb.save(d, path, opts) end
function D.show(d, n) show.print(d, n or {}) end

-- models: score and printing
local Mmt = debug.getregistry()["wb.Model"]
local MM = Mmt.methods
Mmt.__tostring = function(m) return show.model(m) end
function MM.score(m, data)
  local s = m:score_raw(data)
  if s ~= nil then return s end
  local info = wb.core.estimator_info(m:estimator())
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

function wb.export(t, path)
  if T.is(t) then return t:export(path) end
  if type(t) == "table" and type(t.export) == "function" then return t:export(path) end
  if type(t) == "table" then
    -- a list of records, or a record
    local rows = #t > 0 and t or {t}
    local cols, seen = {}, {}
    for _, r in ipairs(rows) do
      if type(r) ~= "table" then error("bad argument #1 to 'export' (table of records expected)", 2) end
      local ks = {}
      for k in pairs(r) do if not seen[k] then ks[#ks + 1] = k end end
      table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
      for _, k in ipairs(ks) do seen[k] = true; cols[#cols + 1] = k end
    end
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
