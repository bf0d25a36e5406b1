-- wb.show: readable text for datasets, vectors, models, result tables and Lua
-- values, as the wb> prompt prints them: a shape line, aligned columns, the
-- middle rows and columns left out ("...") when there are many. Only the rows
-- shown are fetched from the executor, however big the dataset.
local wb = ...
local T = require "wb.table"
local M = {}

M.max_rows = 10 -- rows of a dataset shown (half from the top, half from the bottom)
M.max_cols = 8  -- columns of a dataset shown (fewer if they do not fit M.width)
M.width = nil   -- the terminal's width, set by the prompt
M.max_items = 10 -- items of a vector shown

local function num(v) return T.format_value(v) end
M.num = num

-- the functions of this module are reachable with require("wb.show"): they
-- check their arguments (found by tests/lua/api_sweep.lua: "attempt to ..."
-- errors, and row counts of math.mininteger or inf that looped until memory
-- ran out). fail_at(level, ...): level 1 is the function that calls it.
local function fail_at(level, argn, fname, fmt, ...)
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, string.format(fmt, ...)), level + 1)
end
-- the name of a value's kind for messages: its metatable's __name
-- ("Dataset", "wb.Model", ...) or its Lua type
local function typename(v)
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return type(name) == "string" and name or type(v)
end
M.typename = typename
local function shown(v)
  if type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  return typename(v)
end
local function is_dataset(v) return type(v) == "userdata" and typename(v) == "Dataset" end
local function check_dataset(v, argn, fname)
  if not is_dataset(v) then fail_at(3, argn, fname, "dataset expected, got %s", typename(v)) end
end
-- nil or a whole number >= 0
local function check_count(v, argn, fname, what)
  if v ~= nil and (math.type(v) ~= "integer" or v < 0) then
    fail_at(3, argn, fname, "%s must be an integer >= 0, got %s", what, shown(v))
  end
end
-- nil, a number of rows, or {rows =, cols =, width =} -> a table
local function show_opts(opts, argn, fname)
  if opts == nil then return {} end
  if type(opts) == "number" then opts = {rows = opts}
  elseif type(opts) ~= "table" then
    fail_at(3, argn, fname, "rows or a table of options expected, got %s", typename(opts))
  end
  for _, k in ipairs{"rows", "cols", "width"} do
    local v = opts[k]
    if v ~= nil and (math.type(v) ~= "integer" or v < 0) then
      fail_at(3, argn, fname, "%s must be an integer >= 0, got %s", k, shown(v))
    end
  end
  return opts
end

-- 1234567 -> "1,234,567"
local function count(n)
  local s = tostring(math.tointeger(n) or n)
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then return s end
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end
M.count = count

local function plural(n, word) return count(n) .. " " .. word .. (n == 1 and "" or "s") end

-- indices to show out of n: all, or the first and last few with false between
local function pick(n, max)
  max = math.max(max, 0) -- (callers check that both are whole numbers)
  local idx = {}
  if n <= max then
    for j = 1, n do idx[#idx + 1] = j end
    return idx
  end
  local h = math.max(max // 2, 1)
  for j = 1, max - h do idx[#idx + 1] = j end
  idx[#idx + 1] = false
  for j = n - h + 1, n do idx[#idx + 1] = j end
  return idx
end

function M.header(d)
  check_dataset(d, 1, "header")
  if d:is_vector() then
    return string.format("Vector of %s (%s)", count(d:rows()), plural(d:partitions(), "partition"))
  end
  return string.format("Dataset: %s x %s%s (%s)", plural(d:rows(), "row"), plural(d:cols(), "column"),
                       d:has_labels() and ", labelled" or "", plural(d:partitions(), "partition"))
end

-- the rows in sel (a pick() list) as {i -> row}, {i -> label}; two reads at most
local function fetch(d, sel)
  local grid, labels = {}, {}
  local function get(a, b)
    if a > b then return end
    local rows, lab = d:rows_table(a, b)
    for i = a, b do
      grid[i] = rows[i - a + 1]
      if lab then labels[i] = lab[i - a + 1] end
    end
  end
  local gap
  for k, v in ipairs(sel) do if v == false then gap = k end end
  if #sel == 0 then return grid, labels end
  if gap then
    get(sel[1], sel[gap - 1])
    get(sel[gap + 1], sel[#sel])
  else
    get(sel[1], sel[#sel])
  end
  return grid, labels
end

-- lines of cells, each column right-aligned to its widest cell
local function align(cells, left)
  local w = {}
  for _, r in ipairs(cells) do
    for j, s in ipairs(r) do w[j] = math.max(w[j] or 0, #s) end
  end
  local lines = {}
  for _, r in ipairs(cells) do
    local p = {}
    for j = 1, #w do
      local s = r[j] or ""
      local pad = string.rep(" ", w[j] - #s)
      p[j] = (left and left[j]) and (s .. pad) or (pad .. s)
    end
    lines[#lines + 1] = (table.concat(p, "  "):gsub("%s+$", ""))
  end
  return lines
end

-- (local: it takes what M.dataset has checked)
-- a category's cell: its level's text (missing: nan)
local function level_text(lv, v)
  if v ~= v then return "nan" end
  return lv[math.tointeger(v) and math.tointeger(v) + 1 or -1] or T.format_numbers({v})[1]
end

local function data_grid(rowsel, colsel, grid, labels, names, has_labels, levels, label_levels, label_name)
  -- columns of strings: the row numbers, the shown columns, the label
  local columns = {}
  local idx = {""}
  for k, i in ipairs(rowsel) do idx[k + 1] = i and count(i) or "..." end
  columns[1] = idx
  local function add_column(name, value_of, lv)
    local vals = {}
    for k, i in ipairs(rowsel) do if i then vals[k] = value_of(i) end end
    local s
    if lv then
      s = {}
      for k, i in ipairs(rowsel) do if i then s[k] = level_text(lv, vals[k]) end end
    else
      s = T.format_numbers(vals, #rowsel)
    end
    local col = {name}
    for k, i in ipairs(rowsel) do col[k + 1] = i and (s[k] or "") or "..." end
    columns[#columns + 1] = col
  end
  for _, j in ipairs(colsel) do
    if j then
      add_column(names[j], function(i) return grid[i][j] end, levels[j])
    else
      local col = {"..."}
      for k = 1, #rowsel do col[k + 1] = "..." end
      columns[#columns + 1] = col
    end
  end
  if has_labels then add_column(label_name or "label", function(i) return labels[i] end, label_levels) end
  local cells = {}
  for r = 1, #rowsel + 1 do
    local row = {}
    for j, col in ipairs(columns) do row[j] = col[r] end
    cells[r] = row
  end
  return align(cells)
end

-- opts: a number (rows to show) or {rows =, cols =, width =}
function M.dataset(d, opts)
  check_dataset(d, 1, "dataset")
  opts = show_opts(opts, 2, "dataset")
  if d:is_vector() then return M.vector(d, opts.rows) end -- its rows are numbers, not tables
  local n, c = d:rows(), d:cols()
  local head = M.header(d)
  if n == 0 or c == 0 then return head end
  local rowsel = pick(n, opts.rows or M.max_rows)
  local ok, grid, labels = pcall(fetch, d, rowsel)
  if not ok then return head .. "\n(rows not available: " .. tostring(grid) .. ")" end
  local names = d:names()
  local has_labels = d:has_labels()
  local levels, types = {}, d:types()
  for j = 1, c do if types[j] == "category" then levels[j] = d:levels(j) end end
  local label_levels, label_name = has_labels and d:label_levels(), has_labels and d:label_name()
  -- as many columns as asked for, fewer when the lines would not fit the terminal
  local width = opts.width or M.width
  local maxc = opts.cols or M.max_cols
  local lines
  repeat
    lines = data_grid(rowsel, pick(c, maxc), grid, labels, names, has_labels, levels, label_levels, label_name)
    maxc = maxc - 2
  until not width or maxc < 2 or (function()
    for _, l in ipairs(lines) do if #l > width then return false end end
    return true
  end)()
  table.insert(lines, 1, head)
  return table.concat(lines, "\n")
end

function M.vector(v, max)
  check_dataset(v, 1, "vector")
  check_count(max, 2, "vector", "max")
  max = max or M.max_items
  local n = v:rows()
  local sel = pick(n, max)
  local ok, grid = pcall(fetch, v, sel)
  if not ok then return M.header(v) .. " (values not available: " .. tostring(grid) .. ")" end
  local vals = {}
  for k, i in ipairs(sel) do if i then vals[k] = grid[i] end end
  local lv = v:types()[1] == "category" and v:levels(1)
  local s
  if lv then
    s = {}
    for k, i in ipairs(sel) do if i then s[k] = level_text(lv, vals[k]) end end
  else
    s = T.format_numbers(vals, #sel)
  end
  local items = {}
  for k, i in ipairs(sel) do items[k] = i and s[k] or "..." end
  return string.format("Vector of %s: [%s]", count(n), table.concat(items, ", "))
end

-- a JSON array of strings, nulls (false) and such arrays, as models keep
-- lists of names (feature_names, label_levels, categories); nil when s is
-- not one
function M.json_list(s)
  if type(s) ~= "string" then return nil end
  local pos = 1
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c == "" then error("unterminated string") end
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        local map = {['"'] = '"', ["\\"] = "\\", ["/"] = "/", n = "\n", t = "\t", r = "\r", b = "\b", f = "\f"}
        if map[e] then out[#out + 1] = map[e]; pos = pos + 2
        elseif e == "u" then out[#out + 1] = utf8.char(tonumber(s:sub(pos + 2, pos + 5), 16)); pos = pos + 6
        else error("bad escape") end
      else
        out[#out + 1] = c
        pos = pos + 1
      end
    end
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == '"' then return str() end
    if s:sub(pos, pos + 3) == "null" then pos = pos + 4; return false end
    if c == "[" then
      local t = {}
      pos = pos + 1
      ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      while true do
        t[#t + 1] = value()
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == "]" then return t end
        if d ~= "," then error("bad array") end
      end
    end
    error("bad value")
  end
  local ok, v = pcall(value)
  if ok then return v end
  return nil
end

-- a function j -> the name of a model's feature j (1-based): its column
-- name when the model kept feature_names, else "x<j>"
function M.feature_namer(m)
  if typename(m) ~= "Model" then fail_at(2, 1, "feature_namer", "model expected, got %s", typename(m)) end
  local names = M.json_list(m.feature_names) or {}
  return function(j)
    j = math.tointeger(j) or j
    local n = names[j]
    return (type(n) == "string" and n ~= "") and n or ("x" .. tostring(j))
  end
end

-- a model's class names: the label levels it kept (code k is level k + 1),
-- or nil
function M.class_names(m)
  if typename(m) ~= "Model" then fail_at(2, 1, "class_names", "model expected, got %s", typename(m)) end
  return M.json_list(m.label_levels)
end

-- a model's array field: a list of numbers or of rows
local function short_array(a, max)
  max = max or 6
  if type(a) ~= "table" then return num(a) end
  if type(a[1]) == "table" then
    local rows = {}
    for i = 1, math.min(#a, max) do rows[i] = short_array(a[i], max) end
    if #a > max then rows[#rows + 1] = "..." end
    return "[" .. table.concat(rows, ", ") .. "]"
  end
  local s = T.format_numbers(a, math.min(#a, max))
  if #a > max then s[#s + 1] = "..." end
  return "[" .. table.concat(s, ", ") .. "]"
end

function M.model(m)
  if type(m) ~= "userdata" or typename(m) ~= "Model" then fail_at(2, 1, "model", "model expected, got %s", typename(m)) end
  local lines = {}
  local params = m:params()
  local keys = {}
  for k in pairs(params) do keys[#keys + 1] = k end
  table.sort(keys)
  local ps = {}
  for _, k in ipairs(keys) do
    local v = params[k]
    ps[#ps + 1] = k .. "=" .. (type(v) == "number" and num(v)
                               or type(v) == "table" and string.format("[%d x %d]", #v, type(v[1]) == "table" and #v[1] or 1)
                               or tostring(v))
  end
  lines[1] = string.format("%s model (%s)", m:estimator(), table.concat(ps, ", "))
  -- fields: name, value; a matrix (more than one row and column) follows
  -- its field's line as aligned rows
  local cells, after = {}, {}
  for _, f in ipairs(m:fields()) do
    local v = m:get(f.name)
    local s
    if f.type == "array" and f.rows > 1 and f.cols > 1 and type(v) == "table" and type(v[1]) == "table" then
      s = string.format("[%d x %d]", f.rows, f.cols)
      after[#cells + 1] = M.matrix(v, f.rows, f.cols)
    elseif f.type == "array" then
      s = string.format("[%d x %d] %s", f.rows, f.cols, short_array(v, 8))
    elseif f.type == "number" then s = num(v)
    else s = tostring(v) end
    cells[#cells + 1] = {"  " .. f.name, s}
  end
  local al = align(cells, {true, true})
  local indent = string.rep(" ", cells[1] and (#al[1] - #cells[1][2]) or 4)
  for i, l in ipairs(al) do
    lines[#lines + 1] = l
    for _, r in ipairs(after[i] or {}) do lines[#lines + 1] = indent .. r end
  end
  return table.concat(lines, "\n")
end

-- the lines of a matrix given as rows (r x c): the first and last rows and
-- columns when there are many, numbers aligned per column
function M.matrix(rows, r, c, maxr, maxc)
  if type(rows) ~= "table" then fail_at(2, 1, "matrix", "table of rows expected, got %s", typename(rows)) end
  check_count(r, 2, "matrix", "r")
  check_count(c, 3, "matrix", "c")
  check_count(maxr, 4, "matrix", "maxr")
  check_count(maxc, 5, "matrix", "maxc")
  local rsel, csel = pick(r or 0, maxr or 8), pick(c or 0, maxc or 8)
  for _, i in ipairs(rsel) do
    if i and type(rows[i]) ~= "table" then fail_at(2, 1, "matrix", "row %d must be a table, got %s", i, typename(rows[i])) end
  end
  local columns = {}
  for _, j in ipairs(csel) do
    local col = {}
    if j then
      local vals = {}
      for k, i in ipairs(rsel) do if i then vals[k] = rows[i][j] end end
      local s = T.format_numbers(vals, #rsel)
      for k, i in ipairs(rsel) do col[k] = i and (s[k] or "") or "..." end
    else
      for k = 1, #rsel do col[k] = "..." end
    end
    columns[#columns + 1] = col
  end
  local cells = {}
  for k = 1, #rsel do
    local row = {}
    for j, col in ipairs(columns) do row[j] = col[k] end
    cells[k] = row
  end
  return align(cells)
end

-- a plain Lua table, briefly
local function luatable(t, depth, seen)
  depth = depth or 0
  seen = seen or {}
  if seen[t] then return "{...}" end
  seen[t] = true
  local n = #t
  local parts = {}
  for i = 1, math.min(n, 20) do parts[#parts + 1] = M.value(t[i], depth + 1, seen) end
  if n > 20 then parts[#parts + 1] = string.format("... (%d items)", n) end
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  -- names first, then other keys
  table.sort(keys, function(a, b)
    local sa, sb = type(a) == "string", type(b) == "string"
    if sa ~= sb then return sa end
    return tostring(a) < tostring(b)
  end)
  for i, k in ipairs(keys) do
    if i > 40 then parts[#parts + 1] = string.format("... (%d keys)", #keys) break end
    local ks = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. M.value(k, depth + 1, seen) .. "]")
    parts[#parts + 1] = ks .. " = " .. M.value(t[k], depth + 1, seen)
  end
  seen[t] = nil
  local s = "{" .. table.concat(parts, ", ") .. "}"
  if #s > 100 and depth == 0 then
    s = "{\n  " .. table.concat(parts, ",\n  ") .. "\n}"
  end
  return s
end

-- the text of any value; nested values (depth > 0) stay on one line
function M.value(v, depth, seen)
  check_count(depth, 2, "value", "depth")
  if seen ~= nil and type(seen) ~= "table" then fail_at(2, 3, "value", "table expected, got %s", typename(seen)) end
  local t = type(v)
  if t == "number" then return num(v) end
  if t == "string" then return (depth and depth > 0) and string.format("%q", v) or v end
  if t == "userdata" then
    local mt = getmetatable(v)
    local name = type(mt) == "table" and rawget(mt, "__name")
    if name == "Dataset" then
      local ok, s = pcall(function()
        if depth and depth > 0 then return "<" .. M.header(v) .. ">" end
        if v:is_vector() then return M.vector(v) end
        return M.dataset(v)
      end)
      return ok and s or tostring(v)
    elseif name == "Model" then
      local ok, s = pcall(function()
        if depth and depth > 0 then return "<" .. v:estimator() .. " model>" end
        return M.model(v)
      end)
      return ok and s or tostring(v)
    end
    return tostring(v)
  end
  if t == "table" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__tostring then
      local s = tostring(v)
      if depth and depth > 0 and s:find("\n") then return "<" .. (rawget(mt, "__name") or "table") .. ">" end
      return s
    end
    return luatable(v, depth, seen)
  end
  return tostring(v)
end

-- print v (as the prompt would) and remember that it was shown, so that a
-- method that prints and returns its value (d:head()) is not shown twice
M.printed = setmetatable({}, {__mode = "k"})
function M.print(v, opts)
  local s
  if is_dataset(v) and opts ~= nil then
    opts = show_opts(opts, 2, "print")
    s = v:is_vector() and M.vector(v, opts.rows) or M.dataset(v, opts)
  else
    s = M.value(v)
  end
  print(s)
  if type(v) == "userdata" or type(v) == "table" then M.printed[v] = true end
end

-- the prompt: begin() before each command, results(...) for what it returned
function M.begin(width)
  check_count(width, 1, "begin", "width")
  M.printed = setmetatable({}, {__mode = "k"})
  M.width = width -- of the terminal (nil: no limit)
end

function M.results(...)
  local n = select("#", ...)
  local parts, multi = {}, false
  for i = 1, n do
    local v = select(i, ...)
    if not ((type(v) == "userdata" or type(v) == "table") and M.printed[v]) then
      local s = M.value(v)
      if s:find("\n") then multi = true end
      parts[#parts + 1] = s
    end
  end
  if #parts == 0 then return nil end
  return table.concat(parts, multi and "\n" or "\t")
end

return M
