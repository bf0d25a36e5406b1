-- wb.complete: what the wb> prompt offers on TAB. complete(word) returns the
-- sorted candidates that extend `word`:
--   glo<TAB>          globals and Lua keywords
--   wb.da<TAB>        fields of a table (wb.datagen.<TAB>: the data sources)
--   d:<TAB>           methods of an object (dataset, model, string, table)
--   m.<TAB>           fields of a model (m.inertia, m.centers, ...)
-- Functions get a "(" appended. Names starting with "_" are left out.
--
-- M.line(line, cursor) completes at any place of a line, by context (what
-- the prompt's TAB and a notebook's completion call):
--   wb.fit("km<TAB>          estimator names (also wb.gridsearch, wb.randomsearch, wb.pipeline{"...)
--   help("sc<TAB>            every help topic (help("wb.plot.scatter"), help("scatter"), ...)
--   d:col("is<TAB>           the dataset's column names (also d:levels, d:select{"...)
--   {columns = {"is<TAB>     column names of the dataset of the call (wb.fit(name, d, {...}))
--                            or of the CSV file being loaded (wb.load("f.csv", {...}))
--   metric = "r<TAB>         the metric names of grid search
--   wb.load("da<TAB>         file names (any other string too)
--   wb.fit("kmeans", d, {ma<TAB>   the estimator's parameter names (wb.datagen.x{...}: the source's)
-- It returns the candidates, each the text that replaces the line from byte
-- `start` (0-based) to the cursor, and start; and, inside a string, the quote
-- that closes it (the caller may add it after a single candidate that is not
-- a folder), and "files" when the candidates are paths.
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
      -- methods other estimators' models have (a pipeline's steps)
      if not info or info.name ~= "pipeline" then out.steps = nil end
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

M.members = function(obj, sep)
  if sep ~= "." and sep ~= ":" then
    error("bad argument #2 to 'members' (\".\" or \":\" expected, got " .. (type(sep) == "string" and "another string" or type(sep)) .. ")", 2)
  end
  return members(obj, sep)
end

function M.complete(word)
  if word ~= nil and type(word) ~= "string" then
    error("bad argument #1 to 'complete' (string expected, got " .. type(word) .. ")", 2)
  end
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

-- ------------------------------------------------------ by context

-- the line up to the cursor as a stack of open brackets: each
-- {open = "(" | "{" | "[", callee = "wb.fit" (the name before it, for a
-- call), arg = argument number, key = "name" when inside `name = ...`,
-- args = {the text of each argument so far}}; and the string being typed
-- (its quote and where its text starts), or the word being typed.
local function scan(text)
  local stack = {{open = "", arg = 1, args = {""}}}
  local i, n = 1, #text
  local last_name -- the dotted name just before (for a call)
  local function top() return stack[#stack] end
  local function add(s)
    local t = top()
    t.args[t.arg] = (t.args[t.arg] or "") .. s
  end
  while i <= n do
    local c = text:sub(i, i)
    if c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = text:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c then break
        else j = j + 1 end
      end
      if j > n then -- the string is still open at the cursor
        local t = top()
        if t.open == "" and last_name and i > 1 then
          -- f"text": a call with one string argument
          stack[#stack + 1] = {open = "(", callee = last_name, arg = 1, args = {""}, implicit = true}
        end
        return stack, {quote = c, start = i, text = text:sub(i + 1)}
      end
      local str = text:sub(i, j)
      if last_name and top().args[top().arg]:match("[%w_%.:]$") then
        -- f"text" ends here: nothing to keep
      end
      add(str)
      last_name = nil
      i = j + 1
    elseif text:sub(i, i + 1) == "--" then
      return stack, nil, true -- a comment: nothing to complete
    elseif c == "(" or c == "{" or c == "[" then
      local t = top()
      local callee = nil
      if c ~= "[" then callee = t.args[t.arg]:match("([%a_][%w_%.:]*)%s*$") end
      local key = t.args[t.arg]:match("^%s*([%a_][%w_]*)%s*=%s*$")
      add(c)
      stack[#stack + 1] = {open = c, callee = callee, arg = 1, args = {""}, parent_key = key, parent = t}
      last_name = nil
      i = i + 1
    elseif c == ")" or c == "}" or c == "]" then
      if #stack > 1 then table.remove(stack) end
      add(c)
      last_name = nil
      i = i + 1
    elseif c == "," or c == ";" then
      local t = top()
      if t.open == "" then t.args[t.arg] = "" else t.arg = t.arg + 1; t.args[t.arg] = "" end
      last_name = nil
      i = i + 1
    else
      local w = text:match("^[%a_][%w_]*[%w_%.:]*", i)
      if w then
        add(w)
        last_name = w
        i = i + #w
      else
        add(c)
        if not c:match("%s") then last_name = nil end
        i = i + 1
      end
    end
  end
  return stack, nil
end

-- the value an expression of names (a, a.b, a:b) has, or nil
local function value_of(expr)
  if type(expr) ~= "string" then return nil end
  expr = expr:match("^%s*(.-)%s*$")
  if not expr:match("^[%a_][%w_%.]*$") then return nil end
  return resolve(expr)
end

local function is_dataset(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and type(mt) == "table" and rawget(mt, "__name") == "Dataset"
end

local function dataset_names(v)
  local ok, names = pcall(function() return v:names() end)
  return ok and type(names) == "table" and names or {}
end

-- the column names of a CSV file's header line
local function csv_header(path, sep)
  local f = io.open(path, "r")
  if not f then return {} end
  local line = f:read("l") or ""
  f:close()
  line = line:gsub("^\239\187\191", ""):gsub("\r$", "")
  sep = sep or (line:find(";") and not line:find(",") and ";" or line:find("\t") and not line:find(",") and "\t" or ",")
  local out = {}
  for field in (line .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do
    out[#out + 1] = field:gsub('^%s*"?', ""):gsub('"?%s*$', "")
  end
  return out
end

local function string_literal(arg)
  if type(arg) ~= "string" then return nil end
  return arg:match('^%s*"([^"]*)"%s*$') or arg:match("^%s*'([^']*)'%s*$")
end

local function estimator_names()
  local names = wb.estimators()
  table.sort(names)
  return names
end

local function metric_names()
  local names = {}
  if wb.scoring and wb.scoring.names then for _, n in ipairs(wb.scoring.names()) do names[#names + 1] = n end end
  for _, n in ipairs{"inertia", "davies_bouldin", "calinski_harabasz", "silhouette"} do names[#names + 1] = n end
  table.sort(names)
  return names
end

-- the names of the dataset a call works on: wb.fit(name, d, ...) and the
-- like take it second, d:method(...) is itself; wb.load("f.csv", {...}) a file
local function call_columns(frame)
  while frame do
    if frame.open == "(" or frame.open == "{" then
      local callee = frame.callee or ""
      local obj = callee:match("^(.-):[%a_][%w_]*$")
      if obj and is_dataset(value_of(obj)) then return dataset_names(value_of(obj)) end
      if callee == "wb.load" then
        local path = string_literal(frame.args[1])
        if path then return csv_header(path) end
      end
      for k = 1, #frame.args do
        local v = value_of(frame.args[k])
        if is_dataset(v) then return dataset_names(v) end
      end
    end
    frame = frame.parent
  end
  return {}
end

-- the names a string at this place may hold: a list, or "files"
local function string_candidates(stack)
  local t = stack[#stack]
  local callee = t.callee or ""
  local key = nil
  -- inside {key = "...} or f(..., key = "...)
  local cur = t.args[t.arg] or ""
  key = cur:match("([%a_][%w_]*)%s*=%s*$")
  if t.open == "{" and not key and t.parent_key then key = t.parent_key end
  local estimators = {["wb.fit"] = 1, ["wb.gridsearch"] = 1, ["wb.randomsearch"] = 1, ["wb.core.estimator_info"] = 1}
  if estimators[callee] and t.arg == 1 and not key then return estimator_names() end
  if (callee == "help" or callee == "wb.help") and t.arg == 1 then
    local ok, H = pcall(require, "wb.help")
    return ok and H.topics and H.topics() or {}
  end
  -- wb.pipeline{"scaler", {"logreg", ...}}
  local p = t
  while p and p.open == "{" do
    if p.callee == "wb.pipeline" then
      if (p == t and not key) or (p ~= t and t.arg == 1 and not key) then return estimator_names() end
      break
    end
    p = p.parent
  end
  if key == "metric" then return metric_names() end
  if key == "columns" or key == "drop" or key == "label" or key == "partition_column" then return call_columns(t) end
  if key == "file" then return "files" end
  local method = callee:match(":([%a_][%w_]*)$")
  local colmethods = {col = 1, levels = 1, value_counts = 1, select = 1, drop = 1, rename = 1, with_column = 0}
  if method and colmethods[method] and is_dataset(value_of(callee:match("^(.-):"))) then
    if method ~= "with_column" then return dataset_names(value_of(callee:match("^(.-):"))) end
  end
  return "files"
end

-- the files and folders whose path starts with `prefix` ("~/" is the home folder)
local function file_candidates(prefix)
  local dir, base = prefix:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", prefix end
  local real = dir
  if real:sub(1, 2) == "~/" then real = (os.getenv("HOME") or "") .. real:sub(2) end
  local ok, names = pcall(wb.core.dir, real == "" and "." or real)
  if not ok or type(names) ~= "table" then return {} end
  local out = {}
  for _, n in ipairs(names) do
    if n:sub(1, #base) == base and (base:sub(1, 1) == "." or n:sub(1, 1) ~= ".") then
      out[#out + 1] = dir .. n
    end
  end
  table.sort(out)
  return out
end

local function params_of(callee, t)
  local src = callee:match("^wb%.datagen%.([%a_][%w_]*)$")
  if src then
    local info = wb.core.source_info(src)
    return info and info.params
  end
  local parent = t.parent
  if t.open == "{" and parent and parent.open == "(" and (parent.callee == "wb.fit" or parent.callee == "wb.gridsearch")
     and parent.arg == 3 then
    local est = string_literal(parent.args[1])
    local info = est and wb.core.estimator_info(est)
    return info and info.params
  end
end

function M.line(line, cursor)
  if type(line) ~= "string" then error("bad argument #1 to 'line' (string expected, got " .. type(line) .. ")", 2) end
  cursor = cursor or #line
  if math.type(cursor) ~= "integer" or cursor < 0 or cursor > #line then
    error("bad argument #2 to 'line' (cursor must be an integer in 0.." .. #line .. ")", 2)
  end
  local text = line:sub(1, cursor)
  local ok, stack, str, comment = pcall(scan, text)
  if not ok or comment then return {}, cursor end
  if str then
    local cands = string_candidates(stack)
    local out = {}
    if cands == "files" then
      return file_candidates(str.text), str.start, str.quote, "files"
    else
      for _, c in ipairs(cands) do
        if c:sub(1, #str.text) == str.text then out[#out + 1] = c end
      end
    end
    return out, str.start, str.quote
  end
  local word = text:match("[%a_][%w_%.:]*$") or ""
  if word ~= "" and text:sub(-#word - 1, -#word - 1):match("[%w_]") then word = "" end
  local start = cursor - #word
  local out = {}
  -- a parameter name inside wb.fit(name, d, {...}) or wb.datagen.x{...}
  local t = stack[#stack]
  if t.open == "{" and not word:find("[%.:]") then
    local cur = t.args[t.arg] or ""
    if cur:match("^%s*[%a_]*[%w_]*$") then
      local params = params_of(t.callee or "", t)
      if params then
        for _, p in ipairs(params) do
          if p.name:sub(1, #word) == word then out[#out + 1] = p.name .. " = " end
        end
        if #out > 0 then return out, start end
      end
    end
  end
  return M.complete(word), start
end

return M
