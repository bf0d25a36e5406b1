-- wb.kernel: what `wb kernel` (the Jupyter kernel, shell/kernel/) asks of the
-- prompt's machinery, one function per request, each over the prompt's own
-- modules (wb.show, wb.help, wb.complete), so that what the prompt learns the
-- notebook gets with it:
--   K.results(...)            the bundle of what a cell returned (nil: nothing to show)
--   K.display(v)              the bundle of one value
--   K.complete(code, cursor)  matches, start, stop: the text code[start, stop) is replaced
--   K.inspect(code, cursor)   help text for the name at the cursor (nil: none)
--   K.error(msg)              ename, evalue, traceback lines of an error
--   K.install(c)              io.read through the front end, wb.display
-- A bundle maps MIME types to text: "text/plain" always (what the prompt
-- prints), "text/html" for datasets, models and result tables (a styled
-- table), "image/svg+xml" for wb.plot's charts (and an <img> of it as
-- "text/html"). Offsets are in bytes, 0-based (the C part converts them
-- from Jupyter's characters). The rest (the chunk rule, Ctrl-C) is in
-- shell/kernel/adapter.c.
local wb = ...
local show = require "wb.show"
local help = require "wb.help"
local T = require "wb.table"
local K = {}

K.max_rows = 10  -- rows of a dataset in its HTML table (first and last halves)
K.max_cols = 12  -- columns of a dataset
K.max_table_rows = 40 -- rows of a result table

local function typename(v)
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return type(name) == "string" and name or type(v)
end

-- arguments checked as the rest of wb's Lua does (tests/lua/api_sweep.lua
-- calls these with odd values)
local function argerr(n, fname, fmt, ...)
  error(string.format("bad argument #%d to '%s' (%s)", n, fname, string.format(fmt, ...)), 3)
end
local function shown(v)
  if type(v) == "number" then return tostring(v) end
  return typename(v)
end
local function check_code(code, cursor, fname)
  if type(code) ~= "string" then argerr(1, fname, "code (a string) expected, got %s", typename(code)) end
  if math.type(cursor) ~= "integer" or cursor < 0 or cursor > #code then
    argerr(2, fname, "cursor must be an integer in 0..%d, got %s", #code, shown(cursor))
  end
end

-- ------------------------------------------------------------------ HTML

local function esc(s)
  return (tostring(s):gsub('[&<>"]', {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end
K.escape = esc

local STYLE = "<style>" ..
  ".wb-out table.wb{border-collapse:collapse;font-size:12px;margin:2px 0 6px 0}" ..
  ".wb-out table.wb caption{caption-side:top;text-align:left;font-weight:600;padding:2px 0 4px 0;color:#333}" ..
  ".wb-out table.wb th,.wb-out table.wb td{padding:3px 9px;border:none;text-align:right;font-variant-numeric:tabular-nums}" ..
  ".wb-out table.wb thead th{border-bottom:1px solid #888;font-weight:600}" ..
  ".wb-out table.wb tbody tr:nth-child(odd){background:#f2f6fa}" ..
  ".wb-out table.wb th.wb-i{color:#777;font-weight:normal}" ..
  ".wb-out table.wb .wb-l{text-align:left}" ..
  ".wb-out table.wb td.wb-gap{color:#999;text-align:center}" ..
  ".wb-out pre{margin:0 0 4px 0}" ..
  "</style>"

-- a table: caption, column names, rows of cells (strings; false: the "..."
-- row), left[j] true for left-aligned columns; index: the first column is
-- the row number
local function html_table(caption, head, rows, left, index)
  local o = {'<table class="wb">'}
  if caption then o[#o + 1] = "<caption>" .. esc(caption) .. "</caption>" end
  o[#o + 1] = "<thead><tr>"
  for j, h in ipairs(head) do
    o[#o + 1] = string.format('<th%s>%s</th>', left and left[j] and ' class="wb-l"' or "", esc(h))
  end
  o[#o + 1] = "</tr></thead><tbody>"
  for _, r in ipairs(rows) do
    o[#o + 1] = "<tr>"
    if r == false then
      for _ = 1, #head do o[#o + 1] = '<td class="wb-gap">&#8942;</td>' end
    else
      for j = 1, #head do
        local s = r[j] or ""
        if index and j == 1 then
          o[#o + 1] = '<th class="wb-i">' .. esc(s) .. "</th>"
        elseif s == "..." then
          o[#o + 1] = '<td class="wb-gap">&#8230;</td>'
        else
          o[#o + 1] = string.format("<td%s>%s</td>", left and left[j] and ' class="wb-l"' or "", esc(s))
        end
      end
    end
    o[#o + 1] = "</tr>"
  end
  o[#o + 1] = "</tbody></table>"
  return table.concat(o)
end

local function wrap(body) return '<div class="wb-out">' .. STYLE .. body .. "</div>" end

-- indices to show out of n: all, or the first and last few with false
-- between (as wb.show picks them)
local function pick(n, max)
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

-- the rows of sel as {i -> row}, {i -> label}: two reads at most
local function fetch(d, sel)
  local grid, labels = {}, {}
  local function get(a, b)
    if not a or not b or a > b then return end
    local rows, lab = d:rows_table(a, b)
    for i = a, b do
      grid[i] = rows[i - a + 1]
      if lab then labels[i] = lab[i - a + 1] end
    end
  end
  local gap
  for k, v in ipairs(sel) do if v == false then gap = k end end
  if gap then
    get(sel[1], sel[gap - 1])
    get(sel[gap + 1], sel[#sel])
  else
    get(sel[1], sel[#sel])
  end
  return grid, labels
end

-- the cells of one column as the prompt shows them: numbers in one format
-- per column; a category column (its levels lv) by the text of its levels,
-- missing values as nan
local function column_strings(sel, value_of, lv)
  local vals = {}
  for k, i in ipairs(sel) do if i then vals[k] = value_of(i) end end
  local s
  if lv then
    s = {}
    for k, i in ipairs(sel) do
      local v = vals[k]
      if i then
        local code = v == v and math.tointeger(v)
        s[k] = v ~= v and "nan" or (code and lv[code + 1]) or T.format_numbers({v})[1]
      end
    end
  else
    s = T.format_numbers(vals, #sel)
  end
  local out = {}
  for k, i in ipairs(sel) do out[k] = i and (s[k] or "") or "..." end
  return out
end

local function dataset_html(d)
  local n, c = d:rows(), d:cols()
  local cap = show.header(d)
  if n == 0 or c == 0 then return wrap("<pre>" .. esc(cap) .. "</pre>") end
  local rowsel, colsel = pick(n, K.max_rows), pick(c, K.max_cols)
  local grid, labels = fetch(d, rowsel)
  local names, types, has_labels = d:names(), d:types(), d:has_labels()
  local head, cols = {""}, {}
  for _, j in ipairs(colsel) do
    head[#head + 1] = j and names[j] or "..."
    if j then
      local lv = types[j] == "category" and d:levels(j) or nil
      cols[#cols + 1] = column_strings(rowsel, function(i) return grid[i][j] end, lv)
    else
      local gap = {}
      for k = 1, #rowsel do gap[k] = "..." end
      cols[#cols + 1] = gap
    end
  end
  if has_labels then
    head[#head + 1] = d:label_name() or "label"
    cols[#cols + 1] = column_strings(rowsel, function(i) return labels[i] end, d:label_levels())
  end
  local rows = {}
  for k, i in ipairs(rowsel) do
    if i then
      local r = {show.count(i)}
      for _, col in ipairs(cols) do r[#r + 1] = col[k] end
      rows[#rows + 1] = r
    else
      rows[#rows + 1] = false
    end
  end
  return wrap(html_table(cap, head, rows, nil, true))
end

-- a result table (wb.table): numbers right-aligned, one format per column
local function table_html(t)
  local cols, n = t.columns, #t
  local sel = pick(n, K.max_table_rows)
  local head, cells, left = {}, {}, {}
  for k in ipairs(sel) do cells[k] = {} end
  for j, c in ipairs(cols) do
    head[j] = tostring(c)
    local nums, text = {}, false
    for k, i in ipairs(sel) do
      if i then
        local v = t[i][c]
        if v == nil then v = t[i][j] end
        if type(v) == "number" then nums[k] = v
        else
          cells[k][j] = T.format_value(v)
          if v ~= nil then text = true end
        end
      end
    end
    local s = T.format_numbers(nums, #sel)
    for k in ipairs(sel) do if s[k] then cells[k][j] = s[k] end end
    left[j] = text
  end
  local rows = {}
  for k, i in ipairs(sel) do rows[k] = i and cells[k] or false end
  local body = html_table(t.title, head, rows, left)
  if n > K.max_table_rows then body = body .. "<pre>" .. esc(show.count(n) .. " rows") .. "</pre>" end
  return body
end

-- a plain list of records ({{a = 1, b = "x"}, ...}): a table of its keys
local function records(v)
  local n = rawlen(v)
  if n == 0 or getmetatable(v) ~= nil then return nil end
  local keys, seen = {}, {}
  for k in pairs(v) do if math.type(k) ~= "integer" or k < 1 or k > n then return nil end end
  for i = 1, n do
    local r = rawget(v, i)
    if type(r) ~= "table" or getmetatable(r) ~= nil or rawlen(r) > 0 then return nil end
    for k, x in pairs(r) do
      if type(k) ~= "string" then return nil end
      local tx = type(x)
      if tx ~= "number" and tx ~= "string" and tx ~= "boolean" then return nil end
      if not seen[k] then seen[k] = true keys[#keys + 1] = k end
    end
  end
  if #keys == 0 then return nil end
  table.sort(keys)
  return T.new(keys, v)
end

local function matrix_html(rows, r, c)
  local rsel, csel = pick(r, 8), pick(c, 8)
  local out = {}
  for _, i in ipairs(rsel) do out[#out + 1] = i and {} or false end
  for _, j in ipairs(csel) do
    local s = j and column_strings(rsel, function(i) return rows[i][j] end) or nil
    for k, i in ipairs(rsel) do if i then out[k][#out[k] + 1] = s and s[k] or "..." end end
  end
  local head = {}
  for _, j in ipairs(csel) do head[#head + 1] = j and tostring(j) or "..." end
  return html_table(nil, head, out)
end

local function model_html(m)
  local text = show.model(m)
  local title = text:match("^[^\n]*")
  local o = {'<table class="wb"><caption>' .. esc(title) .. "</caption><tbody>"}
  for _, f in ipairs(m:fields()) do
    local v = m:get(f.name)
    local cell
    if f.type == "array" and f.rows > 1 and f.cols > 1 and type(v) == "table" and type(v[1]) == "table" then
      cell = string.format("[%d x %d]", f.rows, f.cols) .. matrix_html(v, f.rows, f.cols)
    elseif f.type == "array" and type(v) == "table" then
      local flat = type(v[1]) == "table" and v[1] or v
      local s = T.format_numbers(flat, math.min(#flat, 12))
      if #flat > 12 then s[#s + 1] = "..." end
      cell = esc(string.format("[%d x %d] ", f.rows, f.cols) .. table.concat(s, ", "))
    else
      cell = esc(type(v) == "number" and show.num(v) or tostring(v))
    end
    o[#o + 1] = string.format('<tr><th class="wb-l">%s</th><td class="wb-l">%s</td></tr>', esc(f.name), cell)
  end
  o[#o + 1] = "</tbody></table>"
  return wrap(table.concat(o))
end

-- ------------------------------------------------------------------ SVG

-- an SVG document (wb.plot returns one when given no file), from its <svg>
-- element on: an XML declaration is left out (a notebook puts the picture
-- inside HTML, where nbconvert's parser refuses a declaration)
local function svg_text(s)
  local head = s:sub(1, 400)
  if head:match("^%s*<svg[%s>]") then return s end
  if head:match("^%s*<%?xml") then
    local at = head:find("<svg", 1, true)
    if at then return s:sub(at) end
  end
end

-- a chart file wb.plot wrote (a cell that ends with wb.plot.x{..., file = "a.svg"})
local function svg_file(s)
  if #s > 4096 or s:find("\n") or not s:lower():match("%.svg$") then return nil end
  local f = io.open(s, "rb")
  if not f then return nil end
  local data = f:read(16 << 20)
  f:close()
  return data and svg_text(data)
end

-- base64 (RFC 4648), for a chart as an <img> with a data: URL
local B64 = {}
for i = 0, 63 do
  B64[i] = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"):sub(i + 1, i + 1)
end
local function base64(s)
  if type(s) ~= "string" then argerr(1, "base64", "string expected, got %s", typename(s)) end
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a << 16 | (b or 0) << 8 | (c or 0)
    out[#out + 1] = B64[v >> 18 & 63] .. B64[v >> 12 & 63] .. (b and B64[v >> 6 & 63] or "=") .. (c and B64[v & 63] or "=")
  end
  return table.concat(out)
end
K.base64 = base64

-- the chart as HTML too: front ends prefer text/html to image/svg+xml, and
-- nbconvert 6's HTML export passes SVG through lxml's cleaner, which drops
-- its elements (a blank chart); an <img> keeps the picture whole (and the
-- ids of several charts on one page apart)
local function svg_html(svg)
  local w = svg:match('<svg[^>]-%swidth="([%d%.]+)')
  local h = svg:match('<svg[^>]-%sheight="([%d%.]+)')
  local title = svg:match('<text class="title"[^>]*>([^<]*)</text>')
  return string.format('<img src="data:image/svg+xml;base64,%s"%s%s alt="%s"/>', base64(svg),
                       w and (' width="' .. w .. '"') or "", h and (' height="' .. h .. '"') or "",
                       esc(title or "chart"))
end

local function svg_size(s)
  local w = s:match('<svg[^>]-%swidth="([%d%.]+)') or "?"
  local h = s:match('<svg[^>]-%sheight="([%d%.]+)') or "?"
  return w .. " x " .. h
end

-- ------------------------------------------------------------ bundles

-- the rich forms of v (text/html, image/svg+xml), added to bundle b; pcall'd
-- by the callers: a value that fails to render keeps its plain text
local function rich(v, b)
  local t, name = type(v), typename(v)
  if t == "string" then
    local svg = svg_text(v)
    if svg then
      b["image/svg+xml"] = svg
      b["text/html"] = svg_html(svg)
      b["text/plain"] = "<SVG chart " .. svg_size(svg) .. ">"
      return
    end
    svg = svg_file(v)
    if svg then
      b["image/svg+xml"] = svg
      b["text/html"] = svg_html(svg)
    end
  elseif name == "Dataset" then
    if not v:is_vector() then b["text/html"] = dataset_html(v) end
  elseif name == "Model" then
    b["text/html"] = model_html(v)
  elseif T.is(v) then
    b["text/html"] = wrap(table_html(v))
  elseif name == "SearchResult" and T.is(v.results) then
    local text = tostring(v)
    local tab = tostring(v.results)
    local at = text:find(tab, 1, true)
    local intro = at and text:sub(1, at - 1):gsub("%s+$", "") or text:match("^[^\n]*")
    b["text/html"] = wrap("<pre>" .. esc(intro) .. "</pre>" .. table_html(v.results))
  elseif t == "table" then
    local r = records(v)
    if r then b["text/html"] = wrap(table_html(r)) end
  end
end

function K.display(v)
  local b = {["text/plain"] = show.value(v)}
  pcall(rich, v, b)
  return b
end

function K.results(...)
  local text = show.results(...)
  if text == nil then return nil end
  local b = {["text/plain"] = text}
  if select("#", ...) == 1 then pcall(rich, (...), b) end
  return b
end

-- ------------------------------------------------------------ completion

-- readline's word breaks at the prompt (shell/main.c)
local BREAKS = " \t\n\"\\'`@$><=;|&{(,+-*%^#[]}"
local is_break = {}
for ch in BREAKS:gmatch(".") do is_break[ch] = true end

-- the position just after the quote of the string the line ends in, or nil
-- (also nil in a comment)
local function open_string(line)
  local i, q, n = 1, nil, #line
  local start
  while i <= n do
    local ch = line:sub(i, i)
    if q then
      if ch == "\\" then i = i + 1
      elseif ch == q then q = nil end
    elseif ch == '"' or ch == "'" then
      q, start = ch, i + 1
    elseif ch == "-" and line:sub(i + 1, i + 1) == "-" then
      return nil, true
    end
    i = i + 1
  end
  return q and start or nil, false
end

K.fs = nil -- {listdir = function(dir) -> {{name, is_dir}, ...}} from the C part

-- file names that extend word (a path typed inside a string, as the prompt
-- completes them there)
local function file_matches(word)
  local dir, base = word:match("^(.*/)([^/]*)$")
  if not dir then dir, base = "", word end
  local real = dir == "" and "." or dir
  if real:sub(1, 2) == "~/" then real = (os.getenv("HOME") or "~") .. real:sub(2) end
  local out = {}
  if not K.fs then return out end -- (the kernel's C part lists folders)
  local ok, entries = pcall(K.fs.listdir, real)
  if not ok or type(entries) ~= "table" then return out end
  for _, e in ipairs(entries) do
    local name = e[1]
    if name:sub(1, #base) == base and (base:sub(1, 1) == "." or name:sub(1, 1) ~= ".") and name ~= "." and name ~= ".." then
      out[#out + 1] = dir .. name .. (e[2] and "/" or "")
    end
  end
  table.sort(out)
  return out
end

function K.complete(code, cursor)
  check_code(code, cursor, "complete")
  local before = code:sub(1, cursor)
  local ls = before:match(".*\n()") or 1
  local line = before:sub(ls)
  local q, comment = open_string(line)
  if comment then return {}, cursor, cursor end
  if q then
    return file_matches(line:sub(q)), ls - 1 + q - 1, cursor
  end
  local ws = #line + 1
  while ws > 1 and not is_break[line:sub(ws - 1, ws - 1)] do ws = ws - 1 end
  local word = line:sub(ws)
  return require("wb.complete").complete(word), ls - 1 + ws - 1, cursor -- (required when used, as the prompt does)
end

-- ------------------------------------------------------------ help

local function name_at(code, cursor)
  local s, e = cursor, cursor
  while s > 0 and code:sub(s, s):match("[%w_%.:]") do s = s - 1 end
  while e < #code and code:sub(e + 1, e + 1):match("[%w_]") do e = e + 1 end
  local name = code:sub(s + 1, e):gsub("^[%.:]+", ""):gsub("[%.:]+$", "")
  return name
end

function K.inspect(code, cursor)
  check_code(code, cursor, "inspect")
  local name = name_at(code, cursor)
  if name == "" then return nil end
  local text
  local v = help.lookup(name)
  local t = type(v)
  if t == "function" or t == "userdata" or t == "table" then text = help.text(v) end
  if not text or text:match("^no help") then text = help.text(name) end
  if text:match("^no help") then return nil end
  return text, name
end

-- ------------------------------------------------------------ errors

-- the prompt prints "wb: " and the message (with its traceback); a notebook
-- shows the traceback lines
function K.error(msg)
  local text = type(msg) == "string" and msg or show.value(msg)
  local evalue = text:match("^(.-)\nstack traceback:") or text
  local tb = {}
  for line in ("wb: " .. text):gmatch("[^\n]+") do tb[#tb + 1] = line end
  return "wb", evalue, tb
end

-- ------------------------------------------------------------ install

-- c: the C part's functions: input(prompt, password) -> line, or nil and
-- why (no input allowed, interrupted), display(bundle), listdir(dir)
function K.install(c)
  if type(c) ~= "table" then argerr(1, "install", "table of the kernel's functions expected, got %s", typename(c)) end
  for _, f in ipairs{"input", "display", "listdir"} do
    if type(c[f]) ~= "function" then argerr(1, "install", "%s must be a function, got %s", f, typename(c[f])) end
  end
  K.fs = c
  local real_read = io.read
  -- io.read from standard input asks the front end (input_request)
  io.read = function(...)
    if io.input() ~= io.stdin then return real_read(...) end
    local fmts = table.pack(...)
    if fmts.n == 0 then fmts = {"l", n = 1} end
    local out = {}
    for i = 1, fmts.n do
      local f = fmts[i]
      if type(f) == "string" then f = f:gsub("^%*", ""):sub(1, 1) end
      if f ~= "l" and f ~= "L" and f ~= "n" and f ~= "a" and math.type(f) ~= "integer" then
        error(string.format("bad argument #%d to 'read' (invalid format)", i), 2)
      end
      local line, why = c.input("", false)
      if line == nil then
        if why == "interrupted!" then error(why, 0) end
        error("io.read: " .. why, 2)
      end
      if f == "n" then out[i] = tonumber(line)
      elseif f == "L" then out[i] = line .. "\n"
      elseif math.type(f) == "integer" then out[i] = line:sub(1, f)
      else out[i] = line end
    end
    return table.unpack(out, 1, fmts.n)
  end
  -- wb.display(v, ...): show values in the notebook now, as a cell's last
  -- value is shown
  wb.display = function(...)
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      c.display(K.display(v))
      if type(v) == "userdata" or type(v) == "table" then show.printed[v] = true end
    end
  end
  wb.doc("wb.display", "wb.display(value, ...) -- in a notebook (wb kernel): show values now, as a cell's last value is shown (datasets, models and result tables as tables, charts as pictures)")
end

return K
