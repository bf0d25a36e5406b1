-- wb.complete: what the wb> prompt offers on TAB. complete(word) returns the
-- sorted candidates that extend `word`:
--   glo<TAB>          globals and Lua keywords
--   wb.da<TAB>        fields of a table (wb.datagen.<TAB>: the data sources)
--   d:<TAB>           methods of an object (dataset, model, string, table)
--   m.<TAB>           fields of a model (m.inertia, m.centers, ...)
-- Functions get a "(" appended. Names starting with "_" are left out.
local M = {}

local keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
}

-- the value a dotted path names (a.b.c), or nil; never raises
local function resolve(path)
  local obj = _G
  for part in path:gmatch("[^%.]+") do
    if not part:match("^[%a_][%w_]*$") then return nil end
    local ok, v = pcall(function() return obj[part] end)
    if not ok or v == nil then return nil end
    obj = v
  end
  return obj
end

local function add_keys(out, t, functions_only)
  if type(t) ~= "table" then return end
  for k, v in pairs(t) do
    if type(k) == "string" and k:match("^[%a][%w_]*$") and (not functions_only or type(v) == "function") then
      out[k] = type(v) == "function"
    end
  end
end

local function model_info(m)
  local ok, est = pcall(function() return m:estimator() end)
  if not ok then return nil end
  return wb.core.estimator_info(est)
end

-- names (name -> is a function) reachable with "." (fields) or ":" (methods)
local function members(obj, sep)
  local out = {}
  local t = type(obj)
  local mt = getmetatable(obj)
  if type(mt) ~= "table" then mt = nil end
  local name = mt and rawget(mt, "__name")
  if name == "Model" then
    if sep == ":" then
      add_keys(out, rawget(mt, "methods"), true)
      -- the estimator's own methods only where it has them
      local info = model_info(obj)
      if info then
        local has = {}
        for _, f in ipairs(info.methods or {}) do has[f] = true end
        for _, f in ipairs({"predict", "predict_proba", "transform", "inverse_transform"}) do
          if not has[f] then out[f] = nil end
        end
        if not (has.score or info.kind == "classifier" or info.kind == "clusterer") then out.score = nil end
      end
      out.score_raw, out.encode = nil, nil
    else
      local ok, fields = pcall(function() return obj:fields() end)
      if ok then for _, f in ipairs(fields) do out[f.name] = false end end
    end
    return out
  end
  if t == "table" then
    if sep == "." then add_keys(out, obj) else add_keys(out, obj, true) end
    if rawequal(obj, wb and wb.datagen) then
      for _, s in ipairs(wb.core.sources()) do out[s] = true end
    end
  end
  if mt then
    local hook = rawget(mt, "__complete")
    if type(hook) == "function" then
      local ok, names = pcall(hook, obj)
      if ok and type(names) == "table" then for _, n in ipairs(names) do out[n] = true end end
    end
    -- methods through __index tables (one level of inheritance is enough here)
    local idx = rawget(mt, "__index")
    if type(idx) == "table" and (sep == ":" or t == "table") then
      add_keys(out, idx, sep == ":")
      local mt2 = getmetatable(idx)
      if type(mt2) == "table" and type(rawget(mt2, "__index")) == "table" then
        add_keys(out, rawget(mt2, "__index"), sep == ":")
      end
    end
  end
  if name == "Dataset" then
    out.rows_table, out.describe_raw = nil, nil
  end
  return out
end

function M.complete(word)
  word = word or ""
  local out = {}
  local path, sep, last = word:match("^(.-)([%.:])([%w_]*)$")
  local names
  if not path or path == "" then
    if not word:match("^[%a_]?[%w_]*$") then return out end
    names = members(_G, ".")
    for _, k in ipairs(keywords) do if names[k] == nil then names[k] = false end end
    path, sep, last = "", "", word
  else
    local obj = resolve(path)
    if obj == nil then return out end
    names = members(obj, sep)
  end
  for k, isfn in pairs(names) do
    if k:sub(1, #last) == last and k:sub(1, 1) ~= "_" then
      out[#out + 1] = path .. sep .. k .. (isfn and "(" or "")
    end
  end
  table.sort(out)
  return out
end

return M
