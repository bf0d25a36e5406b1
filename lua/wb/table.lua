-- wb.table: result tables (rows of named columns) that print aligned and
-- export to CSV and JSON. Used by describe(), grid search, benchmarks.
local M = {}
local Table = {}
Table.__index = Table
Table.__name = "Table"

-- M.new(columns, rows): columns is a list of names; rows a list of tables
-- keyed by column name (or arrays in column order).
-- arguments checked (found by tests/lua/api_sweep.lua: a wrong type failed
-- later with "attempt to index a number value")
local function argerr(n, fname, fmt, ...)
  error(string.format("bad argument #%d to '%s' (%s)", n, fname, string.format(fmt, ...)), 3)
end
local function check_self(t, fname)
  if getmetatable(t) ~= Table then argerr(1, fname, "result table expected, got %s", type(t)) end
end

function M.new(columns, rows, title)
  if columns ~= nil and type(columns) ~= "table" then argerr(1, "new", "list of column names expected, got %s", type(columns)) end
  if rows ~= nil and type(rows) ~= "table" then argerr(2, "new", "list of rows expected, got %s", type(rows)) end
  local t = setmetatable({columns = columns or {}, title = title}, Table)
  for i, r in ipairs(rows or {}) do
    if type(r) ~= "table" then argerr(2, "new", "row %d must be a table, got %s", i, type(r)) end
    t[i] = r
  end
  return t
end

function M.is(v) return getmetatable(v) == Table end

local function cell(r, c, i)
  local v = r[c]
  if v == nil then v = r[i] end
  return v
end

-- numbers: a column of numbers is written alike (the same decimals, or all
-- in scientific notation), so that the decimal points line up
local function special(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
end

-- decimals needed to show v to 6 places (1.5 -> 1, 1/3 -> 6), and digits of
-- the mantissa in scientific notation to 5 places
local function decimals(v)
  return #string.format("%.6f", v):match("%.(%d-)0*$")
end
local function mantissa(v)
  return #(string.format("%.5e", v):match("%.(%d-)0*e") or "")
end

-- the strings of a list of numbers (nil entries stay nil)
function M.format_numbers(list, n)
  if type(list) ~= "table" then argerr(1, "format_numbers", "list of numbers expected, got %s", type(list)) end
  n = n or rawlen(list)
  if math.type(n) ~= "integer" or n < 0 or n > 1000000 then
    argerr(2, "format_numbers", "n must be an integer in 0..1000000, got %s", type(n) == "number" and tostring(n) or type(n))
  end
  local out, all_int, maxabs, minabs = {}, true, 0, math.huge
  for i = 1, n do
    local v = list[i]
    if type(v) == "number" and not special(v) then
      if math.type(v) ~= "integer" and not (v == math.floor(v) and math.abs(v) < 1e15) then all_int = false end
      local a = math.abs(v)
      if a > maxabs then maxabs = a end
      if a > 0 and a < minabs then minabs = a end
    end
  end
  local sci = not all_int and (maxabs >= 1e9 or (maxabs > 0 and maxabs < 1e-4))
  local k = 0
  if not all_int then
    for i = 1, n do
      local v = list[i]
      if type(v) == "number" and not special(v) then
        if sci then
          k = math.max(k, mantissa(v))
        else
          k = math.max(k, decimals(v))
        end
      end
    end
  end
  for i = 1, n do
    local v = list[i]
    if type(v) == "number" then
      local s = special(v)
      if s then out[i] = s
      elseif all_int then out[i] = math.type(v) == "integer" and tostring(v) or string.format("%.0f", v)
      elseif sci then out[i] = string.format("%." .. k .. "e", v)
      else out[i] = string.format("%." .. k .. "f", v) end
    end
  end
  return out
end

local function fmt(v, depth)
  if v == nil then return "" end
  if type(v) == "number" then return M.format_numbers({v})[1] end
  depth = depth or 0
  -- a table that holds itself stops here (found by tests/lua/api_sweep.lua: stack overflow)
  if type(v) == "table" and getmetatable(v) == nil and depth >= 8 then return "{...}" end
  if type(v) == "table" and getmetatable(v) == nil then
    local parts = {}
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      parts[#parts + 1] = (type(k) == "string" and (k .. "=") or "") .. fmt(v[k], depth + 1)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end
-- the value as tables show it; depth (optional, the nesting so far) must
-- be a whole number (found by tests/lua/api_sweep.lua: depth = "x" failed
-- comparing, depth = NaN never reached the limit and overflowed the stack)
function M.format_value(v, depth)
  if depth ~= nil and (math.type(depth) ~= "integer" or depth < 0) then
    argerr(2, "format_value", "depth must be an integer >= 0, got %s",
           type(depth) == "number" and tostring(depth) or type(depth))
  end
  return fmt(v, depth)
end

-- aligned text: numbers right-aligned, text left-aligned; long tables keep
-- their first and last rows with "..." between
function Table:format(maxrows)
  check_self(self, "format")
  maxrows = maxrows or 40
  if type(maxrows) ~= "number" or not (maxrows >= 1) then -- math.huge: every row
    argerr(1, "format", "rows must be a number >= 1 (math.huge: all), got %s", type(maxrows) == "number" and tostring(maxrows) or type(maxrows))
  end
  local cols, n = self.columns, #self
  local shown = {}
  if n <= maxrows then
    for i = 1, n do shown[#shown + 1] = i end
  else
    local h = maxrows // 2
    for i = 1, h do shown[#shown + 1] = i end
    shown[#shown + 1] = false
    for i = n - h + 1, n do shown[#shown + 1] = i end
  end
  local w, cells, right = {}, {}, {}
  for j, c in ipairs(cols) do w[j] = #tostring(c); right[j] = true end
  for k in ipairs(shown) do cells[k] = {} end
  -- columns that share one number format (t.same_format = {{"mean", "std", ...}}):
  -- their numbers are formatted together, so a row reads alike across them
  local group_of = {}
  if type(self.same_format) == "table" then
    for g, names in ipairs(self.same_format) do
      if type(names) == "table" then for _, nm in ipairs(names) do group_of[nm] = g end end
    end
  end
  local nums_of = {}
  for j, c in ipairs(cols) do
    local nums = {}
    for k, i in ipairs(shown) do
      if i then
        local v = cell(self[i], c, j)
        if type(v) == "number" then nums[k] = v
        else
          cells[k][j] = fmt(v)
          if v ~= nil then right[j] = false end
        end
      end
    end
    nums_of[j] = nums
  end
  local formatted = {}
  for j, c in ipairs(cols) do
    local g = group_of[c]
    if g and not formatted[j] then
      -- every column of the group, one list
      local members, all, m = {}, {}, #shown
      for jj, cc in ipairs(cols) do
        if group_of[cc] == g then
          members[#members + 1] = jj
          for k = 1, m do all[(#members - 1) * m + k] = nums_of[jj][k] end
        end
      end
      local ns = M.format_numbers(all, #members * m)
      for q, jj in ipairs(members) do
        local part = {}
        for k = 1, m do part[k] = ns[(q - 1) * m + k] end
        formatted[jj] = part
      end
    elseif not g then
      formatted[j] = M.format_numbers(nums_of[j], #shown)
    end
  end
  for j in ipairs(cols) do
    local ns = formatted[j]
    for k in ipairs(shown) do
      if ns[k] then cells[k][j] = ns[k] end
      local s = cells[k][j]
      if s and #s > w[j] then w[j] = #s end
    end
  end
  local out = {}
  if self.title then out[#out + 1] = self.title end
  local function line(vals)
    local p = {}
    for j = 1, #cols do
      local s = vals[j] or ""
      local pad = string.rep(" ", w[j] - #s)
      p[j] = right[j] and (pad .. s) or (s .. pad)
    end
    return (table.concat(p, "  "):gsub("%s+$", ""))
  end
  local head = {}
  for j, c in ipairs(cols) do head[j] = tostring(c) end
  out[#out + 1] = line(head)
  local rule = {}
  for j = 1, #cols do rule[j] = string.rep("-", w[j]) end
  out[#out + 1] = table.concat(rule, "  ")
  for k, i in ipairs(shown) do
    if i then out[#out + 1] = line(cells[k]) else out[#out + 1] = string.format("... (%d rows)", n) end
  end
  return table.concat(out, "\n")
end

Table.__tostring = function(t)
  check_self(t, "__tostring")
  return t:format()
end

local function csv_field(v)
  local s
  if type(v) == "number" then
    if math.type(v) == "integer" then s = tostring(v)
    elseif v ~= v then s = "nan"
    else s = string.format("%.17g", v)
      local short = string.format("%.15g", v)
      if tonumber(short) == v then s = short end
    end
  else
    s = v == nil and "" or fmt(v)
  end
  if s:find('[,"\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

-- JSON text of a value; tables nested deeper than JSON_DEPTH (a table that
-- holds itself) raise, naming fname (found by tests/lua/api_sweep.lua: a
-- stack overflow)
local JSON_DEPTH = 100
local json_table
local function json_value(v, depth, fname)
  local t = type(v)
  if v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    local s = string.format("%.15g", v)
    if tonumber(s) ~= v then s = string.format("%.17g", v) end
    return s
  end
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      local map = {['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t'}
      return map[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
  end
  if t == "table" then
    depth = (depth or 0) + 1
    if depth > JSON_DEPTH then
      error(string.format("%s: a table nested deeper than %d levels (one that holds itself?)", fname or "json_value",
                          JSON_DEPTH), 0)
    end
    if M.is(v) then return json_table(v, depth, fname) end
    local n = #v
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    if count == n and n > 0 then
      local p = {}
      for i = 1, n do p[i] = json_value(v[i], depth, fname) end
      return "[" .. table.concat(p, ",") .. "]"
    end
    if count == 0 then return "{}" end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local p = {}
    for _, k in ipairs(keys) do
      local val = v[k]
      if val == nil then val = v[tonumber(k)] end
      p[#p + 1] = json_value(k) .. ":" .. json_value(val, depth, fname)
    end
    return "{" .. table.concat(p, ",") .. "}"
  end
  return json_value(tostring(v))
end
function M.json_value(v) return json_value(v, 0, "json_value") end

json_table = function(t, depth, fname)
  local rows = {}
  for i = 1, #t do
    local p = {}
    for j, c in ipairs(t.columns) do
      p[#p + 1] = json_value(tostring(c)) .. ":" .. json_value(cell(t[i], c, j), depth, fname)
    end
    rows[i] = "{" .. table.concat(p, ",") .. "}"
  end
  return "[" .. table.concat(rows, ",\n") .. "]"
end

function M.to_json(t)
  check_self(t, "to_json")
  return json_table(t, 0, "to_json")
end

function M.to_csv(t)
  check_self(t, "to_csv")
  local out = {}
  local head = {}
  for j, c in ipairs(t.columns) do head[j] = csv_field(tostring(c)) end
  out[1] = table.concat(head, ",")
  for i = 1, #t do
    local p = {}
    for j, c in ipairs(t.columns) do p[j] = csv_field(cell(t[i], c, j)) end
    out[#out + 1] = table.concat(p, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

-- write text to path through a temporary file, so a failed write leaves nothing
-- the arguments are checked before anything is opened (found by
-- tests/lua/api_sweep.lua: text = nil raised in f:write and left PATH.tmp
-- behind; a 70000-byte path was echoed twice in the message)
local MAX_PATH = 4096
local function check_path(path, argn, fname)
  local why
  if type(path) ~= "string" then why = "path expected, got " .. type(path)
  elseif path == "" then why = "path expected, got an empty string"
  -- io.open would stop at a NUL byte and write another file than the one named
  elseif path:find("%z") then why = "path contains a NUL byte at position " .. path:find("%z")
  elseif #path > MAX_PATH then why = string.format("path of %d bytes, longer than %d", #path, MAX_PATH) end
  if why then error(string.format("bad argument #%d to '%s' (%s)", argn, fname, why), 3) end
end

-- "PATH.tmp: No such file or directory" -> "No such file or directory"
local function reason(err, tmp)
  err = tostring(err)
  if err:sub(1, #tmp + 2) == tmp .. ": " then return err:sub(#tmp + 3) end
  return err
end

function M.write_file(path, text)
  check_path(path, 1, "write_file")
  if type(text) ~= "string" and type(text) ~= "number" then
    argerr(2, "write_file", "string expected, got %s", type(text))
  end
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error(string.format("%s: cannot write: %s", path, reason(err, tmp)), 0) end
  local ok, werr = f:write(text)
  local cok, cerr = f:close()
  if not ok or not cok then os.remove(tmp); error(string.format("%s: cannot write: %s", path, reason(werr or cerr, tmp)), 0) end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp); error(string.format("%s: cannot write: %s", path, reason(rerr, tmp)), 0) end
  return path
end

function Table:export(path)
  check_self(self, "export")
  if type(path) ~= "string" then error(string.format("bad argument #1 to 'export' (path expected, got %s)", type(path)), 2) end
  local ext = path:match("%.([%w]+)$")
  ext = ext and ext:lower()
  if ext == "csv" or ext == "json" then check_path(path, 1, "export") end
  if ext == "csv" then return M.write_file(path, M.to_csv(self))
  elseif ext == "json" then return M.write_file(path, M.to_json(self) .. "\n")
  else
    -- the path shown quoted and cut short: it may hold any bytes (found by tests/lua/api_sweep.lua)
    error(string.format("bad argument #1 to 'export' (extension must be .csv or .json, got %s)",
                        (string.format("%q", path:sub(1, 100)):gsub("\\\n", "\\n"))), 2)
  end
end

function Table:column(name)
  check_self(self, "column")
  local out = {}
  for i = 1, #self do out[i] = self[i][name] end
  return out
end

M.Table = Table
return M
