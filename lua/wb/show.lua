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

-- "1 row", "2 rows", "3 classes"
local function plural(n, word)
  if type(n) ~= "number" then fail_at(2, 1, "plural", "number expected, got %s", typename(n)) end
  if type(word) ~= "string" then fail_at(2, 2, "plural", "word expected, got %s", typename(word)) end
  if n == 1 then return count(n) .. " " .. word end
  return count(n) .. " " .. word .. ((word:match("[sx]$") or word:match("ch$")) and "es" or "s")
end
M.plural = plural

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

-- the names of the columns a model was fitted on (its field feature_names,
-- which wb.fit records and a saved model keeps), x<j> for a column without
-- one; d of them (default: as many as the model kept)
function M.feature_names(m, d)
  if type(m) ~= "userdata" or typename(m) ~= "Model" then fail_at(2, 1, "feature_names", "model expected, got %s", typename(m)) end
  check_count(d, 2, "feature_names", "d")
  if d and d > 1000000 then fail_at(2, 2, "feature_names", "d must be at most 1000000, got %s", tostring(d)) end
  local fname = M.feature_namer(m)
  local out = {}
  for j = 1, d or #(M.json_list(m.feature_names) or {}) do out[j] = fname(j) end
  return out
end

-- aligned rows of cells: numbers right-aligned with one format per column,
-- the columns in `left` left-aligned
local function table_lines(head, rows, left, indent)
  if type(head) ~= "table" then fail_at(2, 1, "table_lines", "list of column names expected, got %s", typename(head)) end
  if type(rows) ~= "table" then fail_at(2, 2, "table_lines", "list of rows expected, got %s", typename(rows)) end
  if left ~= nil and type(left) ~= "table" then fail_at(2, 3, "table_lines", "table expected, got %s", typename(left)) end
  if indent ~= nil and type(indent) ~= "string" then fail_at(2, 4, "table_lines", "string expected, got %s", typename(indent)) end
  for j, h in ipairs(head) do
    if type(h) ~= "string" then fail_at(2, 1, "table_lines", "column %d must be a name, got %s", j, typename(h)) end
  end
  for i, r in ipairs(rows) do
    if type(r) ~= "table" then fail_at(2, 2, "table_lines", "row %d must be a table, got %s", i, typename(r)) end
  end
  local cells = {head}
  for j = 1, #head do
    local nums = {}
    for i, r in ipairs(rows) do if type(r[j]) == "number" then nums[i] = r[j] end end
    local f = T.format_numbers(nums, #rows)
    for i, r in ipairs(rows) do
      cells[i + 1] = cells[i + 1] or {}
      cells[i + 1][j] = f[i] or (r[j] ~= nil and tostring(r[j]) or "")
    end
  end
  local out = {}
  for _, l in ipairs(align(cells, left)) do out[#out + 1] = (indent or "") .. l end
  return out
end
M.table_lines = table_lines

-- a summary per estimator (the generic printout of fields otherwise)
M.summaries = {}

-- gbdt: what the trees are like and which features they use, not the raw
-- node matrix (m.trees holds it)
M.summaries.gbdt = function(m)
  if type(m) ~= "userdata" or typename(m) ~= "Model" then fail_at(2, 1, "gbdt", "model expected, got %s", typename(m)) end
  local p = m:params()
  local lines = {}
  local obj = m.objective or "?"
  local classes = m.classes
  if obj == "regression" then
    lines[1] = "gbdt model: regression (squared error)"
  else
    -- the class names the model kept (code k is level k + 1), else the labels
    local cls, cnames = {}, M.class_names(m)
    for i, c in ipairs(type(classes) == "table" and classes or {}) do
      local n = cnames and cnames[(math.tointeger(c) or -1) + 1]
      cls[i] = type(n) == "string" and n or num(c)
    end
    lines[1] = string.format("gbdt model: %s classification, %s (%s)", obj, plural(#cls, "class"),
                             table.concat(cls, ", "))
  end
  -- the trees: leaves and depth from the node matrix (feature 0 marks a leaf)
  local trees, start = m.trees or {}, m.tree_start or {}
  if type(start) == "number" then start = {start} end
  local nt = math.max(#start - 1, 0)
  local leaves, dmin, dmax, dsum, malformed = 0, math.huge, 0, 0, false
  for t = 1, nt do
    local s, e = start[t], start[t + 1]
    -- the model may come from a file: a child is walked only after its
    -- parent and before the next tree, once (a loop or a shared child in a
    -- damaged model walked for ever)
    local stack = {{s, 0}}
    local tdepth = 0
    local seen = {}
    while #stack > 0 do
      local node = table.remove(stack)
      local q = node[1]
      local row = trees[q]
      if not row or seen[q] then
        malformed = true
        break
      end
      seen[q] = true
      if row[1] == 0 then
        leaves = leaves + 1
        if node[2] > tdepth then tdepth = node[2] end
      else
        for k = 4, 5 do
          local c = math.tointeger(row[k])
          if not c or type(q) ~= "number" or c <= q or (type(e) == "number" and c >= e) then
            malformed = true
          else
            stack[#stack + 1] = {c, node[2] + 1}
          end
        end
      end
    end
    dmin, dmax, dsum = math.min(dmin, tdepth), math.max(dmax, tdepth), dsum + tdepth
  end
  local per = (m.trees_per_round or 1) > 1 and string.format(" (%s x %d classes)", plural(m.rounds or 0, "round"), m.trees_per_round) or ""
  if malformed then
    lines[#lines + 1] = string.format("  %s, malformed (a node's children are not after it in its tree, or shared)",
                                      plural(nt, "tree"))
  elseif nt == 0 then
    lines[#lines + 1] = "  no trees: every row has the same label"
  else
    lines[#lines + 1] = string.format("  %s%s, %s leaves (%.1f a tree), depth %s", plural(nt, "tree"), per, count(leaves),
                                      leaves / nt, dmin == dmax and tostring(dmax) or string.format("%d to %d (mean %.1f)", dmin, dmax, dsum / nt))
  end
  -- the parameters: the main ones, and the others where they differ from the defaults
  local defaults = {}
  local info = wb.core.estimator_info("gbdt")
  for _, q in ipairs(info and info.params or {}) do defaults[q.name] = q.default end
  local ps = {}
  for _, k in ipairs{"learning_rate", "max_leaves", "max_depth", "min_samples_leaf", "min_child_weight", "lambda_l2",
                     "min_split_gain", "max_bins", "subsample", "colsample", "early_stopping_rounds", "seed"} do
    local v, def = p[k], defaults[k]
    local main = k == "learning_rate" or k == "max_leaves"
    if v ~= nil and (main or not (def and (tonumber(def) == v or def == tostring(v)))) then
      ps[#ps + 1] = k .. "=" .. ((k == "max_depth" and v == 0) and "none" or type(v) == "number" and num(v) or tostring(v))
    end
  end
  lines[#lines + 1] = "  " .. table.concat(ps, ", ")
  local nf = m.n_features or 0
  local tl = m.train_loss
  local loss = ""
  if type(tl) == "table" and #tl > 0 then loss = string.format("; training loss %s -> %s", num(tl[1]), num(tl[#tl])) end
  lines[#lines + 1] = string.format("  fitted on %s x %s%s", plural(m.train_rows or 0, "row"), plural(nf, "feature"), loss)
  if m.valid_rows then
    local vl = m.valid_loss
    lines[#lines + 1] = string.format("  early stopping: best round %s on %s held out (loss %s)", tostring(m.best_round),
                                      plural(m.valid_rows, "row"), type(vl) == "table" and #vl > 0 and num(vl[#vl]) or "?")
  end
  -- features by importance: total gain of their splits
  local gain, splits = m.feature_importance_gain, m.feature_importance_split
  if type(gain) == "number" then gain = {gain} end
  if type(splits) == "number" then splits = {splits} end
  if type(gain) == "table" and #gain > 0 then
    local names = M.feature_names(m, #gain)
    local total = 0
    for _, g in ipairs(gain) do total = total + g end
    local idx = {}
    for j = 1, #gain do idx[j] = j end
    table.sort(idx, function(a, b) if gain[a] ~= gain[b] then return gain[a] > gain[b] end return a < b end)
    local rows, unused = {}, 0
    -- gains with the decimals that give the largest 4 significant digits
    -- (one format for the column), shares to 0.1 %
    local top = gain[idx[1]] or 0
    local dec = top > 0 and math.max(0, 3 - math.floor(math.log(top, 10))) or 0
    local scale = 10 ^ dec
    for _, j in ipairs(idx) do
      if gain[j] > 0 then
        if #rows < 10 then
          local g = math.floor(gain[j] * scale + 0.5) / scale
          if dec == 0 then g = math.tointeger(g) or g end
          local share = total > 0 and math.floor(1000 * gain[j] / total + 0.5) / 10 or 0
          rows[#rows + 1] = {names[j], g, share, splits and splits[j] or nil}
        end
      else
        unused = unused + 1
      end
    end
    if #rows > 0 then
      lines[#lines + 1] = "  features by importance:"
      for _, l in ipairs(table_lines({"feature", "gain", "share %", "splits"}, rows, {true}, "    ")) do lines[#lines + 1] = l end
      local more = #gain - unused - #rows
      if more > 0 or unused > 0 then
        lines[#lines + 1] = string.format("    ... %s%s%s", more > 0 and string.format("%d more", more) or "",
                                          more > 0 and unused > 0 and ", " or "",
                                          unused > 0 and string.format("%d not used", unused) or "")
      end
    end
  end
  lines[#lines + 1] = "  (m:fields() lists what the model holds: m.trees, m.feature_importance_gain, ...)"
  return table.concat(lines, "\n")
end

function M.model(m)
  if type(m) ~= "userdata" or typename(m) ~= "Model" then fail_at(2, 1, "model", "model expected, got %s", typename(m)) end
  local summary = M.summaries[m:estimator()]
  if summary then
    local ok, s = pcall(summary, m)
    if ok then return s end
  end
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
    elseif f.type == "number" and f.name == "converged" then s = (v == 1) and "yes" or "no"
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

-- the text the prompt prints for what a command returned (nil: nothing);
-- the first value becomes the global `_` (the last result)
function M.results(...)
  local n = select("#", ...)
  if n > 0 and select(1, ...) ~= nil then rawset(_G, "_", (select(1, ...))) end
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
