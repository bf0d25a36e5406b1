-- wb.plot: charts written as standalone SVG files (no external tools):
-- wb.plot.line (series of x/y points, linear or log axes), wb.plot.scatter
-- (a 2-column dataset or tables, coloured by class or cluster, sampled
-- deterministically when large), and the benchmark charts time_vs_size and
-- speedup (built on line). Every function returns the SVG text, and writes it
-- to opts.file when given (returning the path as the second value).
local wb = ...
local T = require "wb.table"
local M = {}

local W, H = 800, 600
-- Tableau 10 then its light companions: distinct in print and on screen
local PALETTE = {
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
  "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
}
M.palette = PALETTE

local function fail(fname, argn, msg, ...)
  error(string.format("bad argument #%d to '%s' (%s)", argn, fname, string.format(msg, ...)), 3)
end

local function esc(s)
  return (tostring(s):gsub("[&<>\"']", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;"}))
end
M.escape = esc

local function f1(v) -- a coordinate, one decimal, no "-0.0"
  local s = string.format("%.1f", v)
  if s == "-0.0" then s = "0.0" end
  return s
end

-- short tick labels: 1500 -> 1.5k, 2e6 -> 2M, 0.001 -> 0.001
local function short(v)
  -- a number only (found by tests/lua/api_sweep.lua: anything else failed in math.abs)
  if type(v) ~= "number" then
    error(string.format("bad argument #1 to 'short' (number expected, got %s)", type(v)), 2)
  end
  if v ~= v then return "nan" end
  if v == math.huge or v == -math.huge then return v > 0 and "inf" or "-inf" end
  if v == 0 then return "0" end
  local a = math.abs(v)
  local units = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}
  for _, u in ipairs(units) do
    if a >= u[1] then
      local s = string.format("%.3g", v / u[1])
      return s .. u[2]
    end
  end
  if a < 1e-3 then return string.format("%.0e", v) end
  return string.format("%.4g", v)
end
M.short = short

-- "nice" ticks for [lo, hi]: steps of 1, 2 or 5 times a power of ten
local function nice_ticks(lo, hi, want, integer)
  want = want or 6
  if hi <= lo then
    local d = lo == 0 and 1 or math.abs(lo) * 0.1
    lo, hi = lo - d, hi + d
  end
  local raw = (hi - lo) / want
  local p = 10 ^ math.floor(math.log(raw, 10))
  local step = p
  for _, m in ipairs({1, 2, 5, 10}) do
    if m * p >= raw then step = m * p; break end
  end
  if integer and step < 1 then step = 1 end
  local a, b = math.floor(lo / step) * step, math.ceil(hi / step) * step
  local ticks = {}
  for i = 0, math.floor((b - a) / step + 0.5) do
    local v = a + i * step
    if math.abs(v) < step * 1e-9 then v = 0 end
    ticks[#ticks + 1] = v
  end
  return a, b, ticks
end

-- ticks on a log axis: 1, 2, 5 times powers of ten when the range is short
-- (up to three decades), powers of ten otherwise; the axis ends at the ticks
-- just outside the data
local function log_ticks(lo, hi)
  local a, b = math.floor(math.log(lo, 10) + 1e-9), math.ceil(math.log(hi, 10) - 1e-9)
  if b <= a then b = a + 1 end
  local mults = (b - a) <= 3 and {1, 2, 5} or {1}
  local all = {}
  for e = a, b do
    for _, m in ipairs(mults) do all[#all + 1] = m * 10 ^ e end
  end
  local first, last = 1, #all
  for i, v in ipairs(all) do if v <= lo * (1 + 1e-9) then first = i end end
  for i = #all, 1, -1 do if all[i] >= hi * (1 - 1e-9) then last = i end end
  if last <= first then last = math.min(#all, first + 1) end
  local ticks = {}
  for i = first, last do ticks[#ticks + 1] = all[i] end
  return ticks[1], ticks[#ticks], ticks
end

-- an axis: maps data values to pixels
local function axis(lo, hi, plo, phi, log, integer)
  local ticks
  if log then lo, hi, ticks = log_ticks(lo, hi) else lo, hi, ticks = nice_ticks(lo, hi, 6, integer) end
  local f
  if log then
    local l0, l1 = math.log(lo, 10), math.log(hi, 10)
    f = function(v) return plo + (math.log(v, 10) - l0) / (l1 - l0) * (phi - plo) end
  else
    f = function(v) return plo + (v - lo) / (hi - lo) * (phi - plo) end
  end
  return {lo = lo, hi = hi, ticks = ticks, map = f, log = log}
end

-- the frame: background, title, grid, ticks, tick labels, axis labels
local function frame(out, o, xa, ya, box)
  local x0, y0, x1, y1 = box.x0, box.y0, box.x1, box.y1
  out[#out + 1] = '<?xml version="1.0" encoding="UTF-8"?>'
  out[#out + 1] = string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">', o.width, o.height, o.width, o.height)
  out[#out + 1] = string.format('<rect class="background" x="0" y="0" width="%d" height="%d" fill="#ffffff"/>', o.width, o.height)
  if o.title then
    out[#out + 1] = string.format('<text class="title" x="%s" y="24" text-anchor="middle" font-size="16" font-weight="bold">%s</text>', f1(o.width / 2), esc(o.title))
  end
  out[#out + 1] = '<g class="grid" stroke="#e5e5e5" stroke-width="1">'
  for _, t in ipairs(xa.ticks) do
    local x = xa.map(t)
    out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', f1(x), f1(y0), f1(x), f1(y1))
  end
  for _, t in ipairs(ya.ticks) do
    local y = ya.map(t)
    out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s"/>', f1(x0), f1(y), f1(x1), f1(y))
  end
  out[#out + 1] = '</g>'
  out[#out + 1] = string.format('<g class="axes" stroke="#333333" stroke-width="1"><line class="x-axis" x1="%s" y1="%s" x2="%s" y2="%s"/><line class="y-axis" x1="%s" y1="%s" x2="%s" y2="%s"/>',
    f1(x0), f1(y0), f1(x1), f1(y0), f1(x0), f1(y0), f1(x0), f1(y1))
  for _, t in ipairs(xa.ticks) do
    local x = xa.map(t)
    out[#out + 1] = string.format('<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s"/>', f1(x), f1(y0), f1(x), f1(y0 + 5))
  end
  for _, t in ipairs(ya.ticks) do
    local y = ya.map(t)
    out[#out + 1] = string.format('<line class="tick" x1="%s" y1="%s" x2="%s" y2="%s"/>', f1(x0 - 5), f1(y), f1(x0), f1(y))
  end
  out[#out + 1] = '</g>'
  out[#out + 1] = '<g class="tick-labels" fill="#333333">'
  for _, t in ipairs(xa.ticks) do
    out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="middle">%s</text>', f1(xa.map(t)), f1(y0 + 18), esc(short(t)))
  end
  for _, t in ipairs(ya.ticks) do
    out[#out + 1] = string.format('<text x="%s" y="%s" text-anchor="end">%s</text>', f1(x0 - 8), f1(ya.map(t) + 4), esc(short(t)))
  end
  out[#out + 1] = '</g>'
  if o.xlabel then
    out[#out + 1] = string.format('<text class="xlabel" x="%s" y="%s" text-anchor="middle" font-size="13">%s</text>', f1((x0 + x1) / 2), f1(o.height - 12), esc(o.xlabel))
  end
  if o.ylabel then
    local cx, cy = 18, (y0 + y1) / 2
    out[#out + 1] = string.format('<text class="ylabel" x="%s" y="%s" text-anchor="middle" font-size="13" transform="rotate(-90 %s %s)">%s</text>', f1(cx), f1(cy), f1(cx), f1(cy), esc(o.ylabel))
  end
end

-- legend entries {label, color, kind = "line"|"dot", dash}; pts: the drawn
-- points (pixel pairs) so the legend goes in the corner that hides fewest
local function legend(out, entries, box, pts)
  if #entries == 0 then return end
  local w = 0
  for _, e in ipairs(entries) do w = math.max(w, #e.label) end
  local lw = math.min(320, 34 + w * 7)
  local lh = 8 + 18 * #entries
  local corners = {
    {box.x1 - lw - 8, box.y1 + 8}, {box.x0 + 8, box.y1 + 8},
    {box.x1 - lw - 8, box.y0 - lh - 8}, {box.x0 + 8, box.y0 - lh - 8},
  }
  local best, bestc = corners[1], math.huge
  for _, c in ipairs(corners) do
    local count = 0
    for _, q in ipairs(pts or {}) do
      if q[1] >= c[1] - 4 and q[1] <= c[1] + lw + 4 and q[2] >= c[2] - 4 and q[2] <= c[2] + lh + 4 then count = count + 1 end
    end
    if count < bestc then best, bestc = c, count end
  end
  local x, y = best[1], best[2]
  out[#out + 1] = string.format('<g class="legend"><rect x="%s" y="%s" width="%s" height="%s" fill="#ffffff" fill-opacity="0.85" stroke="#999999"/>', f1(x), f1(y), f1(lw), f1(lh))
  for i, e in ipairs(entries) do
    local yy = y + 4 + 18 * (i - 1) + 9
    if e.kind == "dot" then
      out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="5" fill="%s"/>', f1(x + 15), f1(yy), e.color)
    else
      out[#out + 1] = string.format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>', f1(x + 6), f1(yy), f1(x + 24), f1(yy), e.color, e.dash and ' stroke-dasharray="6 4"' or "")
    end
    out[#out + 1] = string.format('<text x="%s" y="%s">%s</text>', f1(x + 30), f1(yy + 4), esc(e.label))
  end
  out[#out + 1] = '</g>'
end

-- a value as a message shows it (no table addresses)
local function shown(v)
  if type(v) == "number" or type(v) == "boolean" then return tostring(v) end
  if type(v) == "string" then return string.format("%q", v:sub(1, 40)) end
  return type(v)
end

local function options(fname, argn, o)
  if o ~= nil and type(o) ~= "table" then fail(fname, argn, "table of options expected, got %s", type(o)) end
  o = o or {}
  local r = {}
  for k, v in pairs(o) do r[k] = v end
  r.width = r.width or W
  r.height = r.height or H
  -- whole numbers (found by tests/lua/api_sweep.lua: width = 2.5 or NaN
  -- passed and failed later inside string.format)
  for _, k in ipairs{"width", "height"} do
    local v = math.tointeger(r[k])
    if not v or v < 100 or v > 100000 then
      fail(fname, argn, "width and height must be whole numbers in 100..100000, got %s = %s", k, shown(r[k]))
    end
    r[k] = v
  end
  for _, k in ipairs{"xmin", "xmax", "ymin", "ymax"} do
    local v = r[k]
    if v ~= nil and (type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge) then
      fail(fname, argn, "%s must be a finite number, got %s", k, shown(v))
    end
  end
  if r.file ~= nil and (type(r.file) ~= "string" or r.file == "" or r.file:find("%z")) then
    fail(fname, argn, "file must be a path, got %s", shown(r.file))
  end
  for _, k in ipairs({"title", "xlabel", "ylabel"}) do
    if r[k] ~= nil then r[k] = tostring(r[k]) end
  end
  return r
end

-- with a file: writes it and returns its path (so that a call at the prompt
-- prints the path, not pages of SVG); without: returns the SVG text
local function finish(out, o)
  out[#out + 1] = '</svg>'
  local svg = table.concat(out, "\n") .. "\n"
  if o.file then
    T.write_file(o.file, svg)
    return o.file
  end
  return svg
end

local function plot_box(o)
  return {x0 = 70, x1 = o.width - 20, y0 = o.height - 50, y1 = o.title and 40 or 20}
end

-- series: a list of {name=, x={...}, y={...}, color=, dash=, markers=}, or a
-- table name -> {x=, y=}, or one {x=, y=}
local function normalize_series(fname, series)
  if type(series) ~= "table" then fail(fname, 1, "table of series expected, got %s", type(series)) end
  local list = {}
  if series.x ~= nil or series.y ~= nil then
    list[1] = series
  elseif #series > 0 then
    for i, s in ipairs(series) do list[i] = s end
  else
    local names = {}
    for k in pairs(series) do names[#names + 1] = k end
    table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(names) do
      local s = series[k]
      if type(s) ~= "table" then fail(fname, 1, "series '%s' must be a table {x=, y=}, got %s", tostring(k), type(s)) end
      local c = {}
      for kk, vv in pairs(s) do c[kk] = vv end
      c.name = c.name or tostring(k)
      list[#list + 1] = c
    end
  end
  if #list == 0 then fail(fname, 1, "no series to plot") end
  for i, s in ipairs(list) do
    if type(s) ~= "table" then fail(fname, 1, "series %d must be a table {x=, y=}, got %s", i, type(s)) end
    local label = s.name and ("series '" .. tostring(s.name) .. "'") or ("series " .. i)
    if type(s) ~= "table" or type(s.y) ~= "table" then fail(fname, 1, "%s needs y = {numbers}", label) end
    if s.x == nil then
      s.x = {}
      for j = 1, #s.y do s.x[j] = j end
    end
    if type(s.x) ~= "table" then fail(fname, 1, "%s: x must be a table of numbers", label) end
    if #s.x ~= #s.y then fail(fname, 1, "%s has %d x values and %d y values", label, #s.x, #s.y) end
    for j = 1, #s.y do
      if type(s.x[j]) ~= "number" or type(s.y[j]) ~= "number" then
        fail(fname, 1, "%s: point %d is not a pair of numbers", label, j)
      end
    end
  end
  return list
end

-- wb.plot.line(series, {file=, title=, xlabel=, ylabel=, logx=, logy=, width=, height=,
--                       xmin=, xmax=, ymin=, ymax=})
function M.line(series, opts)
  local list = normalize_series("line", series)
  local o = options("line", 2, opts)
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for _, s in ipairs(list) do
    for j = 1, #s.y do
      local x, y = s.x[j], s.y[j]
      if x == x and y == y and math.abs(x) ~= math.huge and math.abs(y) ~= math.huge then
        if o.logx and x <= 0 then fail("line", 1, "logx needs positive x values, series '%s' has %s", tostring(s.name or "?"), tostring(x)) end
        if o.logy and y <= 0 then fail("line", 1, "logy needs positive y values, series '%s' has %s", tostring(s.name or "?"), tostring(y)) end
        xmin, xmax = math.min(xmin, x), math.max(xmax, x)
        ymin, ymax = math.min(ymin, y), math.max(ymax, y)
      end
    end
  end
  if xmin == math.huge then fail("line", 1, "no finite points to plot") end
  xmin, xmax = o.xmin or xmin, o.xmax or xmax
  ymin, ymax = o.ymin or ymin, o.ymax or ymax
  local box = plot_box(o)
  local xa = axis(xmin, xmax, box.x0, box.x1, o.logx, o.integer_x)
  local ya = axis(ymin, ymax, box.y0, box.y1, o.logy)
  local out = {}
  frame(out, o, xa, ya, box)
  local entries, drawn = {}, {}
  out[#out + 1] = string.format('<clipPath id="plotarea"><rect x="%s" y="%s" width="%s" height="%s"/></clipPath>', f1(box.x0 - 6), f1(box.y1 - 6), f1(box.x1 - box.x0 + 12), f1(box.y0 - box.y1 + 12))
  for i, s in ipairs(list) do
    local color = s.color or PALETTE[(i - 1) % #PALETTE + 1]
    local pts = {}
    for j = 1, #s.y do
      local x, y = s.x[j], s.y[j]
      if x == x and y == y and math.abs(x) ~= math.huge and math.abs(y) ~= math.huge then
        pts[#pts + 1] = {xa.map(x), ya.map(y)}
      end
    end
    out[#out + 1] = string.format('<g class="series" data-name="%s" clip-path="url(#plotarea)">', esc(s.name or ("series " .. i)))
    local p = {}
    for j, q in ipairs(pts) do
      p[j] = f1(q[1]) .. "," .. f1(q[2])
      drawn[#drawn + 1] = q
      local r = pts[j + 1]
      if r then -- sample the segment so a line under the legend counts too
        for t = 1, 15 do drawn[#drawn + 1] = {q[1] + (r[1] - q[1]) * t / 16, q[2] + (r[2] - q[2]) * t / 16} end
      end
    end
    out[#out + 1] = string.format('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>', table.concat(p, " "), color, s.dash and ' stroke-dasharray="6 4"' or "")
    if s.markers ~= false and #pts <= 200 then
      for _, q in ipairs(pts) do
        out[#out + 1] = string.format('<circle cx="%s" cy="%s" r="3.5" fill="%s"/>', f1(q[1]), f1(q[2]), color)
      end
    end
    out[#out + 1] = '</g>'
    if s.name then entries[#entries + 1] = {label = tostring(s.name), color = color, dash = s.dash} end
  end
  if o.legend ~= false then legend(out, entries, box, drawn) end
  return finish(out, o)
end

-- --------------------------------------------------------------- scatter

local function is_dataset(v)
  local mt = getmetatable(v)
  return type(v) == "userdata" and mt and mt.__name == "Dataset"
end

-- rows to show of n: all when n <= max, else `windows` evenly spaced runs of
-- contiguous rows (deterministic; a run is one read, so it stays cheap on a
-- cluster; spread over the whole range, so sorted data is still represented)
local function sample_ranges(n, max)
  -- whole numbers (found by tests/lua/api_sweep.lua: max = math.mininteger
  -- made windows - 1 wrap to math.maxinteger, a loop that ran out of memory)
  local ni, mi = math.tointeger(n), math.tointeger(max)
  if not ni or ni < 0 then
    error(string.format("bad argument #1 to 'sample_ranges' (n must be an integer >= 0, got %s)", shown(n)), 2)
  end
  if not mi or mi < 1 then
    error(string.format("bad argument #2 to 'sample_ranges' (max must be an integer >= 1, got %s)", shown(max)), 2)
  end
  n, max = ni, mi
  if n <= max then return {{1, n}} end
  local windows = math.min(max, 256)
  local per = max // windows
  local ranges = {}
  for w = 0, windows - 1 do
    local a = math.floor(w * n / windows) + 1
    local b = math.min(n, a + per - 1)
    ranges[#ranges + 1] = {a, b}
  end
  return ranges
end
M.sample_ranges = sample_ranges

-- returns xs, ys, labels (or nil), total rows, shown rows
local function scatter_points(data, o)
  local xs, ys, labels = {}, {}, nil
  local cx, cy = o.x or 1, o.y or 2
  local ranges
  if is_dataset(data) then
    local n, d = data:rows(), data:cols()
    if d < 2 and not data:is_vector() then fail("scatter", 1, "dataset needs at least 2 columns, has %d", d) end
    if data:is_vector() then fail("scatter", 1, "a vector has one column; scatter needs 2") end
    if math.type(cx) ~= "integer" or cx < 1 or cx > d then fail("scatter", 2, "x must be a column 1..%d, got %s", d, shown(cx)) end
    if math.type(cy) ~= "integer" or cy < 1 or cy > d then fail("scatter", 2, "y must be a column 1..%d, got %s", d, shown(cy)) end
    ranges = sample_ranges(n, o.max_points)
    local own = data:has_labels() and {} or nil
    for _, r in ipairs(ranges) do
      local rows, lab = data:rows_table(r[1], r[2])
      for i, row in ipairs(rows) do
        xs[#xs + 1] = row[cx]
        ys[#ys + 1] = row[cy]
        if own then own[#own + 1] = lab[i] end
      end
    end
    labels = own
    local names = data:names()
    o.xlabel = o.xlabel or names[cx]
    o.ylabel = o.ylabel or names[cy]
    return xs, ys, labels, n, ranges
  end
  if type(data) ~= "table" then fail("scatter", 1, "dataset or table expected, got %s", type(data)) end
  if data.x ~= nil or data.y ~= nil then
    if type(data.x) ~= "table" or type(data.y) ~= "table" then fail("scatter", 1, "x and y must be tables of numbers") end
    if #data.x ~= #data.y then fail("scatter", 1, "x has %d values and y has %d", #data.x, #data.y) end
    local n = #data.x
    ranges = sample_ranges(n, o.max_points)
    for _, r in ipairs(ranges) do
      for i = r[1], r[2] do
        xs[#xs + 1] = data.x[i]
        ys[#ys + 1] = data.y[i]
      end
    end
    return xs, ys, nil, n, ranges
  end
  local n = #data
  ranges = sample_ranges(n, o.max_points)
  for _, r in ipairs(ranges) do
    for i = r[1], r[2] do
      local row = data[i]
      if type(row) ~= "table" then fail("scatter", 1, "row %d is not a table {x, y}", i) end
      xs[#xs + 1] = row[cx]
      ys[#ys + 1] = row[cy]
    end
  end
  return xs, ys, nil, n, ranges
end

-- colours for the shown rows: a dataset (its labels), a vector, a Lua array,
-- or true (the data's own labels)
local function scatter_colors(color, own, n, ranges)
  if color == nil or color == false then return nil end
  if color == true or color == "labels" then
    if not own then fail("scatter", 2, "color = true needs data with labels") end
    return own
  end
  local out = {}
  if is_dataset(color) then
    if color:rows() ~= n then fail("scatter", 2, "color has %d rows, the data has %d", color:rows(), n) end
    local vec = color:is_vector() or (not color:has_labels() and color:cols() == 1)
    if not vec and not color:has_labels() then fail("scatter", 2, "color dataset has no labels") end
    for _, r in ipairs(ranges) do
      local rows, lab = color:rows_table(r[1], r[2])
      local src = vec and rows or lab
      for i = 1, #src do
        local v = src[i]
        if type(v) == "table" then v = v[1] end
        out[#out + 1] = v
      end
    end
    return out
  end
  if type(color) == "table" then
    if #color ~= n then fail("scatter", 2, "color has %d values, the data has %d rows", #color, n) end
    for _, r in ipairs(ranges) do
      for i = r[1], r[2] do out[#out + 1] = color[i] end
    end
    return out
  end
  fail("scatter", 2, "color must be a dataset, a vector, a table of labels or true, got %s", type(color))
end

local function lerp_color(t)
  -- a blue -> yellow ramp (viridis end points and middle)
  local stops = {{68, 1, 84}, {33, 145, 140}, {253, 231, 37}}
  t = math.max(0, math.min(1, t))
  local s = t * 2
  local i = math.min(math.floor(s), 1)
  local f = s - i
  local a, b = stops[i + 1], stops[i + 2]
  return string.format("#%02x%02x%02x", math.floor(a[1] + (b[1] - a[1]) * f + 0.5), math.floor(a[2] + (b[2] - a[2]) * f + 0.5), math.floor(a[3] + (b[3] - a[3]) * f + 0.5))
end

-- wb.plot.scatter(data2d, {color = labels, file =, title =, xlabel =, ylabel =,
--                          x = 1, y = 2, max_points = 20000, size = 2})
function M.scatter(data, opts)
  local o = options("scatter", 2, opts)
  o.max_points = o.max_points or 20000
  if math.type(o.max_points) ~= "integer" or o.max_points < 1 then fail("scatter", 2, "max_points must be an integer >= 1, got %s", shown(o.max_points)) end
  local xs, ys, own, n, ranges = scatter_points(data, o)
  local cols = scatter_colors(o.color, own, n, ranges)
  local m = #xs
  local xmin, xmax, ymin, ymax = math.huge, -math.huge, math.huge, -math.huge
  for i = 1, m do
    local x, y = xs[i], ys[i]
    if type(x) ~= "number" or type(y) ~= "number" then fail("scatter", 1, "point %d is not a pair of numbers", i) end
    if x == x and y == y and math.abs(x) ~= math.huge and math.abs(y) ~= math.huge then
      xmin, xmax = math.min(xmin, x), math.max(xmax, x)
      ymin, ymax = math.min(ymin, y), math.max(ymax, y)
    end
  end
  if xmin == math.huge then fail("scatter", 1, "no finite points to plot") end
  if m < n then
    o.title = (o.title and (o.title .. " ") or "") .. string.format("(%s of %s points shown)", short(m), short(n))
  end
  local box = plot_box(o)
  local xa = axis(xmin, xmax, box.x0, box.x1, false)
  local ya = axis(ymin, ymax, box.y0, box.y1, false)
  local out = {}
  frame(out, o, xa, ya, box)
  local r = o.size or 2
  -- group points by colour: categorical when the values are few integers
  local groups, order, entries, drawn = {}, {}, {}, {}
  local categorical = true
  if cols then
    local distinct, count = {}, 0
    for i = 1, m do
      local v = cols[i]
      if type(v) ~= "number" then fail("scatter", 2, "color value %d is not a number", i) end
      if not distinct[v] then distinct[v] = true; count = count + 1 end
      if v ~= math.floor(v) or count > 64 then categorical = false end
    end
    local keys = {}
    for v in pairs(distinct) do keys[#keys + 1] = v end
    table.sort(keys)
    if categorical then
      for k, v in ipairs(keys) do
        local c = PALETTE[(k - 1) % #PALETTE + 1]
        groups[v] = {color = c, pts = {}}
        order[#order + 1] = v
        entries[#entries + 1] = {label = (o.legend_prefix or "") .. short(v), color = c, kind = "dot"}
      end
      for i = 1, m do local g = groups[cols[i]]; g.pts[#g.pts + 1] = i end
    else
      local lo, hi = keys[1], keys[#keys]
      local bins = 16
      for b = 0, bins - 1 do
        groups[b] = {color = lerp_color(b / (bins - 1)), pts = {}}
        order[#order + 1] = b
      end
      for i = 1, m do
        local b = hi > lo and math.floor((cols[i] - lo) / (hi - lo) * (bins - 1) + 0.5) or 0
        local g = groups[b]; g.pts[#g.pts + 1] = i
      end
      entries[1] = {label = "min " .. short(lo), color = lerp_color(0), kind = "dot"}
      entries[2] = {label = "max " .. short(hi), color = lerp_color(1), kind = "dot"}
    end
  else
    groups[1] = {color = o.point_color or PALETTE[1], pts = {}}
    order[1] = 1
    for i = 1, m do groups[1].pts[i] = i end
  end
  for _, key in ipairs(order) do
    local g = groups[key]
    if #g.pts > 0 then
      out[#out + 1] = string.format('<g class="points" data-value="%s" fill="%s" fill-opacity="0.7">', esc(short(key)), g.color)
      local buf = {}
      for _, i in ipairs(g.pts) do
        local x, y = xs[i], ys[i]
        if x == x and y == y and math.abs(x) ~= math.huge and math.abs(y) ~= math.huge then
          local px, py = xa.map(x), ya.map(y)
          drawn[#drawn + 1] = {px, py}
          buf[#buf + 1] = string.format('<circle cx="%s" cy="%s" r="%s"/>', f1(px), f1(py), tostring(r))
        end
      end
      out[#out + 1] = table.concat(buf, "\n")
      out[#out + 1] = '</g>'
    end
  end
  if #entries > 0 and o.legend ~= false then
    if #entries > 24 then
      local keep = {}
      for i = 1, 23 do keep[i] = entries[i] end
      keep[24] = {label = string.format("... %d classes", #entries), color = "#ffffff", kind = "dot"}
      entries = keep
    end
    legend(out, entries, box, drawn)
  end
  return finish(out, o)
end

-- ------------------------------------------------------- benchmark charts

-- the rows of a benchmark result that are tables (the others cannot be plotted)
local function rows_of(result)
  if type(result) ~= "table" then return nil end
  local rows = {}
  for _, r in ipairs(result) do if type(r) == "table" then rows[#rows + 1] = r end end
  return rows
end
local function num(v) return type(v) == "number" and v == v and v or nil end

local function exec_label(r)
  return r.executor or "?"
end

-- time vs data size: one line per (workload, executor); log-log
function M.time_vs_size(result, opts)
  local rows = rows_of(result)
  if not rows then fail("time_vs_size", 1, "benchmark result expected, got %s", type(result)) end
  if opts ~= nil and type(opts) ~= "table" then fail("time_vs_size", 2, "table of options expected, got %s", type(opts)) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local series, order = {}, {}
  local nwork = {}
  for _, r in ipairs(rows) do
    if (not o.workload or r.workload == o.workload) and num(r.median_s) and num(r.n) then nwork[tostring(r.workload)] = true end
  end
  local multi = 0
  for _ in pairs(nwork) do multi = multi + 1 end
  for _, r in ipairs(rows) do
    if (not o.workload or r.workload == o.workload) and num(r.median_s) and num(r.n) and r.median_s > 0 then
      local key = (multi > 1 and (tostring(r.workload) .. " ") or "") .. tostring(exec_label(r))
      local s = series[key]
      if not s then
        s = {name = key, x = {}, y = {}}
        series[key] = s
        order[#order + 1] = s
      end
      s.x[#s.x + 1] = r.n
      s.y[#s.y + 1] = r.median_s
    end
  end
  if #order == 0 then fail("time_vs_size", 1, "no timed rows%s", o.workload and (" for workload '" .. tostring(o.workload) .. "'") or "") end
  for _, s in ipairs(order) do
    -- sort by size
    local idx = {}
    for i = 1, #s.x do idx[i] = i end
    table.sort(idx, function(a, b) return s.x[a] < s.x[b] end)
    local x, y = {}, {}
    for i, j in ipairs(idx) do x[i], y[i] = s.x[j], s.y[j] end
    s.x, s.y = x, y
  end
  o.title = o.title or ("wall time vs data size" .. (o.workload and (": " .. o.workload) or ""))
  o.xlabel = o.xlabel or "rows"
  o.ylabel = o.ylabel or "median wall time (s)"
  if o.logx == nil then o.logx = true end
  if o.logy == nil then o.logy = true end
  return M.line(order, o)
end

-- speedup vs cores (threads or workers) with the ideal line
function M.speedup(result, opts)
  local rows = rows_of(result)
  if not rows then fail("speedup", 1, "benchmark result expected, got %s", type(result)) end
  if opts ~= nil and type(opts) ~= "table" then fail("speedup", 2, "table of options expected, got %s", type(opts)) end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local series, order = {}, {}
  local maxc = 1
  local sizes = {}
  for _, r in ipairs(rows) do
    if (not o.workload or r.workload == o.workload) and (not o.n or r.n == o.n) and num(r.speedup) and num(r.n) then sizes[r.n] = true end
  end
  local nsizes = 0
  for _ in pairs(sizes) do nsizes = nsizes + 1 end
  for _, r in ipairs(rows) do
    if (not o.workload or r.workload == o.workload) and (not o.n or r.n == o.n) and num(r.speedup) and num(r.units)
       and num(r.n) then
      -- a kind compared with another kind's configuration says which
      local vs = ""
      if type(r.baseline) == "string" and r.kind and not tostring(r.baseline):find("^" .. tostring(r.kind) .. ":")
         and r.baseline ~= r.kind then
        vs = " (vs " .. r.baseline .. ")"
      end
      local key = (o.workload and "" or (tostring(r.workload) .. " ")) .. tostring(r.kind or "") .. vs ..
                  (nsizes > 1 and (" n=" .. short(r.n)) or "")
      local s = series[key]
      if not s then
        s = {name = key, x = {}, y = {}}
        series[key] = s
        order[#order + 1] = s
      end
      s.x[#s.x + 1] = r.units
      s.y[#s.y + 1] = r.speedup
      maxc = math.max(maxc, r.units)
    end
  end
  if #order == 0 then fail("speedup", 1, "no rows with a speedup%s", o.workload and (" for workload '" .. tostring(o.workload) .. "'") or "") end
  for _, s in ipairs(order) do
    local idx = {}
    for i = 1, #s.x do idx[i] = i end
    table.sort(idx, function(a, b) return s.x[a] < s.x[b] end)
    local x, y = {}, {}
    for i, j in ipairs(idx) do x[i], y[i] = s.x[j], s.y[j] end
    s.x, s.y = x, y
  end
  order[#order + 1] = {name = "ideal", x = {1, maxc}, y = {1, maxc}, dash = true, color = "#555555", markers = false}
  o.title = o.title or ("speedup" .. (o.workload and (": " .. o.workload) or ""))
  o.xlabel = o.xlabel or "threads or workers"
  o.ylabel = o.ylabel or "speedup over the smallest configuration"
  o.xmin = o.xmin or 1
  o.ymin = o.ymin or 0
  if o.integer_x == nil then o.integer_x = true end
  return M.line(order, o)
end

local docs = require("wb.help").docs
docs["wb.plot.line"] = "wb.plot.line(series, {file=, title=, xlabel=, ylabel=, logx=, logy=}) -- line chart as SVG; series: {{name=, x={...}, y={...}, dash=}, ...}; " ..
  "every wb.plot function writes `file` and returns its path, or returns the SVG text when no file is given"
docs["wb.plot.scatter"] = "wb.plot.scatter(data2d, {color = labels, file = \"pca.svg\", max_points = 20000}) -- scatter plot as SVG, coloured by class or cluster; large data is sampled deterministically"
docs["wb.plot.time_vs_size"] = "wb.plot.time_vs_size(bench_result, {file=, workload=}) -- median wall time vs rows, one line per executor (log-log)"
docs["wb.plot.speedup"] = "wb.plot.speedup(bench_result, {file=, workload=, n=}) -- speedup vs threads or workers, with the ideal line"

wb.plot = M
return M
