-- wb.errors: how an error is reported, at the prompt and in scripts.
--
-- wb's own errors (a bad argument, an unknown parameter, a missing file:
-- raised by wb's functions, in C or in wb's Lua library and plugins' Lua
-- code) read `wb: <message>` and nothing else: the message loses positions
-- inside wb ("select:465: "); in a script it starts with the script's line
-- that called wb ("fit.lua:12: "). Errors raised in the user's own code keep
-- Lua's message and a traceback. wb.debug(true) or `wb --traceback`: always the
-- traceback. A call of a misspelt name (wb.fitt(...), d:describ()) says what
-- was meant ("did you mean wb.fit?").
--
-- M.report(msg, level) is the message handler (shell/main.c calls it through
-- the registry's "wb.errhandler"); level is the stack level of the function
-- that raised the error. It returns the text to print after "wb: ".
local wb = ...
local M = {}
M.debug = false

local reg = debug.getregistry()

-- ------------------------------------------------------------- sources

-- wb's own Lua code: the embedded library (chunks "@wb/name.lua") and the
-- plugins' chunks (registered in the registry's "wb.chunks" by the binding)
local function internal_source(src)
  if type(src) ~= "string" then return false end -- (anything else is no chunk of wb's)
  if src:match("^@wb/[%w_]+%.lua$") then return true end
  local chunks = reg["wb.chunks"]
  return type(chunks) == "table" and chunks[src] == true
end
M.internal_source = internal_source

-- the same for a position at the start of a message ("wb/lib.lua", "select")
local function internal_short(s)
  if s:match("^wb/[%w_]+%.lua$") then return true end
  local chunks = reg["wb.chunks"]
  return type(chunks) == "table" and chunks["=" .. s] == true
end

-- the functions of wb: what the wb table, its sub-tables and the methods of
-- its types hold (the C functions among them are known by identity)
local function wb_functions()
  local set, seen = {}, {}
  local function walk(t, depth)
    if seen[t] or depth > 4 then return end
    seen[t] = true
    for _, v in next, t do
      if type(v) == "function" then set[v] = true
      elseif type(v) == "table" then walk(v, depth + 1) end
    end
  end
  if type(wb) == "table" then walk(wb, 0) end
  for _, name in ipairs{"wb.Dataset", "wb.Model", "wb.Object", "wb.Future"} do
    if type(reg[name]) == "table" then walk(reg[name], 0) end
  end
  local okT, T = pcall(require, "wb.table")
  if okT and type(T) == "table" then walk(T, 0) end
  for _, g in ipairs{"help", "exit", "quit"} do
    local f = rawget(_G, g)
    if type(f) == "function" then set[f] = true end
  end
  return set
end

-- ------------------------------------------------------- did you mean

local function closest(name, cands)
  if type(name) ~= "string" then error("bad argument #1 to 'closest' (name expected, got " .. type(name) .. ")", 2) end
  if type(cands) ~= "table" then error("bad argument #2 to 'closest' (list of names expected, got " .. type(cands) .. ")", 2) end
  if wb and wb.core and wb.core.closest then return wb.core.closest(name, cands) end
end
M.closest = closest

-- the text of line n of the chunk a frame runs
local function source_line(ar)
  local n = ar.currentline
  if not n or n < 1 then return nil end
  local text
  if ar.source:sub(1, 1) == "@" then
    local f = io.open(ar.source:sub(2), "r")
    if not f then return nil end
    local i = 0
    for l in f:lines() do
      i = i + 1
      if i == n then text = l break end
    end
    f:close()
    return text
  end
  local chunk = reg["wb.chunk"]
  if type(chunk) ~= "string" then return nil end
  local i = 0
  for l in (chunk .. "\n"):gmatch("([^\n]*)\n") do
    i = i + 1
    if i == n then return l end
  end
end

-- the values of the names a frame sees: its locals, its upvalues (globals
-- are looked up after these)
local function frame_vars(level)
  level = level + 1
  local vars = {}
  local info = debug.getinfo(level, "f")
  if info and info.func then
    for i = 1, 250 do
      local k, v = debug.getupvalue(info.func, i)
      if k == nil then break end
      vars[k] = {v}
    end
  end
  for i = 1, 250 do
    local k, v = debug.getlocal(level, i)
    if k == nil then break end
    vars[k] = {v} -- the last one of a name is the one in scope
  end
  return vars
end

local function resolve(vars, path)
  local first, rest = path:match("^([%a_][%w_]*)(.*)$")
  if not first then return nil end
  local v
  if vars[first] then v = vars[first][1] else v = rawget(_G, first) end
  for part in rest:gmatch("%.([%a_][%w_]*)") do
    if type(v) ~= "table" then return nil end
    local ok, x = pcall(function() return v[part] end)
    if not ok then return nil end
    v = x
  end
  return v
end

-- is t the wb table or one of its tables (wb.metrics, wb.plot, ...)?
local function wb_table(t)
  if type(wb) ~= "table" or type(t) ~= "table" then return false end
  if rawequal(t, wb) then return true end
  for _, v in next, wb do if rawequal(v, t) then return true end end
  return false
end

local function keys_of(t)
  local out = {}
  for k in next, t do if type(k) == "string" then out[#out + 1] = k end end
  if type(wb) == "table" and rawequal(t, wb.datagen) then
    for _, s in ipairs(wb.core.sources()) do out[#out + 1] = s end
  end
  table.sort(out)
  return out
end

local function typename(v)
  local mt = getmetatable(v)
  local n = type(mt) == "table" and rawget(mt, "__name")
  return type(n) == "string" and n or type(v)
end

-- a clearer message for a call (or index) of a name that does not exist,
-- when the name was meant to be wb's: nil if it was not
local function misspelt(msg, vars, ar)
  local _, kind, name = msg:match("attempt to (%a+) a nil value %((%a+) '([%w_]+)'%)")
  if not name then return nil end
  local line = source_line(ar) or ""
  if kind == "field" then
    local path
    for p, n in line:gmatch("([%a_][%w_%.]*)%.([%a_][%w_]*)") do
      if n == name then path = p end
    end
    -- "wb.plot.scater(": the path before the name
    if not path then return nil end
    local t = resolve(vars, path)
    if not wb_table(t) then return nil end
    local near = closest(name, keys_of(t))
    return string.format("%s.%s does not exist%s", path, name,
                         near and string.format(" (did you mean %s.%s?)", path, near) or " (help() lists what there is)")
  elseif kind == "method" then
    local path
    for p, n in line:gmatch("([%a_][%w_%.]*):([%a_][%w_]*)") do
      if n == name then path = p end
    end
    if not path then return nil end
    local obj = resolve(vars, path)
    local tn = typename(obj)
    if tn ~= "Dataset" and tn ~= "Model" then return nil end
    local names = {}
    local ok, C = pcall(require, "wb.complete")
    if ok and C.members then
      for k in pairs(C.members(obj, ":")) do names[#names + 1] = k end
      table.sort(names)
    end
    local near = closest(name, names)
    local kindname = tn == "Dataset" and (obj:is_vector() and "a vector" or "a dataset") or ("a " .. obj:estimator() .. " model")
    return string.format("%s has no method '%s'%s", kindname, name,
                         near and string.format(" (did you mean %s:%s?)", path, near) or "")
  end
end

-- a hint for a call of a global that does not exist (the user's error,
-- with its traceback): " (did you mean help?)", or ""
local function global_hint(msg)
  local name = msg:match("attempt to call a nil value %(global '([%w_]+)'%)")
  local near = name and closest(name, keys_of(_G))
  return near and string.format(" (did you mean %s?)", near) or ""
end

-- ------------------------------------------------------------- report

-- "stdin:3: text" -> "stdin", "3", "text"
local function position(msg)
  return msg:match("^([^\n:]+):(%d+): (.*)$")
end

function M.report(msg, level)
  if level ~= nil and (math.type(level) ~= "integer" or level < 1 or level > 1000) then
    error(string.format("bad argument #2 to 'report' (level must be an integer in 1..1000, got %s)",
                        type(level) == "number" and tostring(level) or type(level)), 2)
  end
  level = (level or 1) + 1 -- this function's own frame
  if type(msg) ~= "string" then return nil end
  if M.debug then return debug.traceback(msg, level) end
  local funcs = wb_functions()
  local top = debug.getinfo(level, "Sl")
  local ours, user, userlevel = false, nil, nil
  for lv = level, level + 200 do
    local ar = debug.getinfo(lv, "Sl")
    if not ar then break end
    if ar.what == "C" then
      local f = debug.getinfo(lv, "f").func
      if not user and funcs[f] then ours = true end
    elseif internal_source(ar.source) then
      if not user then ours = true end
    elseif not user then
      user, userlevel = ar, lv
    end
  end
  local at_prompt = user and (user.source == "=stdin" or user.source == "=(command line)")
  -- a runtime error in wb's own Lua code is a fault of wb: its traceback helps
  local fault = top and top.what ~= "C" and internal_source(top.source)
  if ours and not fault then
    local text = msg
    for _ = 1, 4 do -- positions inside wb go
      local src, _, rest = position(text)
      if src and internal_short(src) then text = rest else break end
    end
    local src, _, rest = position(text)
    if user and not src and not at_prompt then
      text = string.format("%s:%d: %s", user.short_src, user.currentline, text)
    elseif at_prompt and src and (src == "stdin" or src == "(command line)") then
      text = rest
    end
    return text
  end
  if user and top and top.what ~= "C" and userlevel == level then
    local better = misspelt(msg, frame_vars(level), user)
    if better then
      if not at_prompt then better = string.format("%s:%d: %s", user.short_src, user.currentline, better) end
      return better
    end
  end
  -- the user's error: its traceback
  return debug.traceback(msg .. global_hint(msg), level)
end

reg["wb.errhandler"] = function(msg)
  local text = M.report(msg, 3) -- (not a tail call: that would take this frame's level)
  return text
end

wb.debug = function(on)
  if on ~= nil then M.debug = on and true or false end
  return M.debug
end

return M
