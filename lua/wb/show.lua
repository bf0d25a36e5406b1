-- wb.show: readable text for datasets, vectors, models and Lua values, as the
-- REPL prints them: shapes, aligned columns, truncated middles.
local wb = ...
local T = require "wb.table"
local M = {}

local function num(v)
  if v == nil then return "" end
  if v ~= v then return "nan" end
  if math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%.0f", v) end
  local a = math.abs(v)
  if a ~= 0 and (a < 1e-4 or a >= 1e9) then return string.format("%.4e", v) end
  return string.format("%.6g", v)
end
M.num = num

-- columns to show: all, or the first and last few with "..." between
local function pick(n, max)
  local idx = {}
  if n <= max then for j = 1, n do idx[#idx + 1] = j end return idx end
  local h = max // 2
  for j = 1, h do idx[#idx + 1] = j end
  idx[#idx + 1] = false
  for j = n - h + 1, n do idx[#idx + 1] = j end
  return idx
end

function M.dataset(d, nrows)
  nrows = nrows or 10
  local n, c = d:rows(), d:cols()
  local lines = {tostring(d)}
  if n == 0 then return lines[1] end
  local rowsel = pick(n, nrows)
  local colsel = pick(c, 8)
  local names = d:names()
  local grid, labels = {}, {}
  -- fetch the shown rows in at most two reads
  local function fetch(a, b)
    local rows, lab = d:rows_table(a, b)
    for i = a, b do grid[i] = rows[i - a + 1]; if lab then labels[i] = lab[i - a + 1] end end
  end
  local first, last = rowsel[1], rowsel[#rowsel]
  local gap
  for k, v in ipairs(rowsel) do if v == false then gap = k end end
  if gap then fetch(first, rowsel[gap - 1]); fetch(rowsel[gap + 1], last) else fetch(first, last) end
  local header = {""}
  for _, j in ipairs(colsel) do header[#header + 1] = j and names[j] or "..." end
  if d:has_labels() then header[#header + 1] = "label" end
  local cells = {header}
  for _, i in ipairs(rowsel) do
    local r = {}
    if i then
      r[1] = tostring(i)
      local row = grid[i]
      for _, j in ipairs(colsel) do
        if d:is_vector() then r[#r + 1] = num(row) else r[#r + 1] = j and num(row[j]) or "..." end
      end
      if d:has_labels() then r[#r + 1] = num(labels[i]) end
    else
      r[1] = "..."
    end
    cells[#cells + 1] = r
  end
  local w = {}
  for _, r in ipairs(cells) do for j, s in ipairs(r) do w[j] = math.max(w[j] or 0, #s) end end
  for _, r in ipairs(cells) do
    local p = {}
    for j = 1, #w do local s = r[j] or ""; p[j] = string.rep(" ", w[j] - #s) .. s end
    lines[#lines + 1] = (table.concat(p, "  "):gsub("%s+$", ""))
  end
  return table.concat(lines, "\n")
end

function M.vector(v, max)
  max = max or 10
  local n = v:rows()
  local items = {}
  if n <= max then
    local rows = v:rows_table(1, n)
    for i = 1, n do items[i] = num(rows[i]) end
  else
    local h = max // 2
    local a = v:rows_table(1, h)
    local b = v:rows_table(n - h + 1, n)
    for i = 1, h do items[#items + 1] = num(a[i]) end
    items[#items + 1] = "..."
    for i = 1, h do items[#items + 1] = num(b[i]) end
  end
  return string.format("Vector of %d: [%s]", n, table.concat(items, ", "))
end

local function short_array(a, max)
  max = max or 6
  if type(a[1]) == "table" then
    local rows = {}
    for i = 1, math.min(#a, max) do rows[i] = short_array(a[i], max) end
    if #a > max then rows[#rows + 1] = "..." end
    return "[" .. table.concat(rows, ", ") .. "]"
  end
  local p = {}
  for i = 1, math.min(#a, max) do p[i] = num(a[i]) end
  if #a > max then p[#p + 1] = "..." end
  return "[" .. table.concat(p, ", ") .. "]"
end

function M.model(m)
  local lines = {}
  local params = m:params()
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local ps = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    ps[#ps + 1] = k .. "=" .. (type(v) == "number" and num(v) or type(v) == "table" and "[matrix]" or tostring(v))
  end
  lines[1] = string.format("%s model (%s)", m:estimator(), table.concat(ps, ", "))
  local w = 0
  local fields = m:fields()
  for _, f in ipairs(fields) do w = math.max(w, #f.name) end
  for _, f in ipairs(fields) do
    local v = m:get(f.name)
    local s
    if f.type == "array" then
      s = string.format("[%d x %d] %s", f.rows, f.cols, short_array(v))
    elseif f.type == "number" then s = num(v)
    else s = tostring(v) end
    lines[#lines + 1] = string.format("  %-" .. w .. "s  %s", f.name, s)
  end
  return table.concat(lines, "\n")
end

-- a plain Lua table, briefly
local function luatable(t, depth, seen)
  depth = depth or 0
  seen = seen or {}
  if seen[t] then return "{...}" end
  seen[t] = true
  local n = #t
  local parts, count = {}, 0
  for i = 1, math.min(n, 20) do parts[#parts + 1] = M.value(t[i], depth + 1, seen) end
  if n > 20 then parts[#parts + 1] = string.format("... (%d items)", n) end
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    count = count + 1
    if count > 40 then parts[#parts + 1] = "..."; break end
    local ks = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. M.value(k) .. "]")
    parts[#parts + 1] = ks .. " = " .. M.value(t[k], depth + 1, seen)
  end
  local s = "{" .. table.concat(parts, ", ") .. "}"
  if #s > 100 and depth == 0 then
    s = "{\n  " .. table.concat(parts, ",\n  ") .. "\n}"
  end
  return s
end

function M.value(v, depth, seen)
  local t = type(v)
  if t == "number" then return num(v) end
  if t == "string" then return depth and depth > 0 and string.format("%q", v) or v end
  if t == "userdata" then
    local mt = getmetatable(v)
    local name = mt and mt.__name
    if name == "Dataset" then
      if depth and depth > 0 then return tostring(v) end
      local ok, s = pcall(function()
        if v:is_vector() then return M.vector(v) end
        return M.dataset(v)
      end)
      return ok and s or tostring(v)
    elseif name == "Model" then
      if depth and depth > 0 then return v:estimator() .. " model" end
      return M.model(v)
    end
    return tostring(v)
  end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__tostring then return tostring(v) end
    return luatable(v, depth, seen)
  end
  return tostring(v)
end

return M
