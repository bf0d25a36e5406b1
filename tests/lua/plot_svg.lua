-- wb.plot: the SVG is well-formed XML, has the expected elements (axes,
-- ticks, labels, legend, one polyline per series, one circle per point), and
-- every coordinate lies inside the view box; bad input gets a clear message.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")

-- a small XML checker: returns the list of elements {name, attrs, depth}
local function parse_xml(s)
  local elems, stack = {}, {}
  local pos = 1
  local function check_text(t, where)
    for amp in t:gmatch("&[^;]*;?") do
      assert(amp:match("^&[%a#][%w]*;$"), "bad entity " .. amp .. " in " .. where)
    end
  end
  local decl = s:match("^<%?xml[^?]*%?>")
  assert(decl, "no XML declaration")
  pos = #decl + 1
  while true do
    local a, b = s:find("<", pos, true)
    if not a then
      assert(s:sub(pos):match("^%s*$"), "text after the root element")
      break
    end
    check_text(s:sub(pos, a - 1), "text")
    if #stack == 0 and #elems > 0 then error("second root element at byte " .. a) end
    local close = s:find(">", a, true)
    assert(close, "unterminated tag at byte " .. a)
    local tag = s:sub(a + 1, close - 1)
    assert(not tag:find("<", 1, true), "'<' inside a tag at byte " .. a)
    if tag:sub(1, 1) == "/" then
      local name = tag:sub(2):match("^([%w:_-]+)%s*$")
      assert(name, "bad end tag " .. tag)
      local top = table.remove(stack)
      assert(top == name, "end tag </" .. name .. "> closes <" .. tostring(top) .. ">")
    else
      local selfclose = tag:sub(-1) == "/"
      if selfclose then tag = tag:sub(1, -2) end
      local name, rest = tag:match("^([%w:_-]+)(.*)$")
      assert(name, "bad tag <" .. tag .. ">")
      local attrs = {}
      rest = rest:gsub('%s+([%w:_-]+)="([^"]*)"', function(k, v)
        assert(attrs[k] == nil, "attribute " .. k .. " twice in <" .. name .. ">")
        check_text(v, "attribute " .. k)
        attrs[k] = v
        return ""
      end)
      assert(rest:match("^%s*$"), "bad attributes in <" .. name .. ">: " .. rest)
      elems[#elems + 1] = {name = name, attrs = attrs, depth = #stack, text_after = nil}
      if not selfclose then stack[#stack + 1] = name end
      -- text of a <text> element
      if name == "text" then
        local e = s:find("<", close + 1, true)
        elems[#elems].text = s:sub(close + 1, e - 1)
      end
    end
    pos = close + 1
  end
  assert(#stack == 0, "unclosed <" .. tostring(stack[#stack]) .. ">")
  return elems
end

local function count(elems, name, pred)
  local n = 0
  for _, e in ipairs(elems) do if e.name == name and (not pred or pred(e)) then n = n + 1 end end
  return n
end

local function texts(elems)
  local t = {}
  for _, e in ipairs(elems) do if e.name == "text" then t[#t + 1] = e.text end end
  return t
end

local function has_text(elems, s)
  for _, t in ipairs(texts(elems)) do if t == s then return true end end
  return false
end

-- every coordinate inside the view box
local function check_inside(elems)
  local root = elems[1]
  assert(root.name == "svg", "root is <" .. root.name .. ">")
  assert(root.attrs.xmlns == "http://www.w3.org/2000/svg", "svg namespace")
  local x0, y0, w, h = root.attrs.viewBox:match("^(%S+) (%S+) (%S+) (%S+)$")
  x0, y0, w, h = tonumber(x0), tonumber(y0), tonumber(w), tonumber(h)
  assert(x0 == 0 and y0 == 0 and w > 0 and h > 0, "viewBox " .. root.attrs.viewBox)
  local function inside(x, y, what)
    x, y = tonumber(x), tonumber(y)
    assert(x and y, what .. ": not numbers")
    assert(x >= 0 and x <= w and y >= 0 and y <= h, string.format("%s at (%s, %s) outside 0 0 %s %s", what, x, y, w, h))
  end
  local checked = 0
  for _, e in ipairs(elems) do
    local a = e.attrs
    if e.name == "circle" then inside(a.cx, a.cy, "circle"); checked = checked + 1 end
    if e.name == "line" then inside(a.x1, a.y1, "line"); inside(a.x2, a.y2, "line"); checked = checked + 1 end
    if e.name == "text" then inside(a.x, a.y, "text"); checked = checked + 1 end
    if e.name == "rect" and a.x then inside(a.x, a.y, "rect"); inside(a.x + a.width, a.y + a.height, "rect end") end
    if e.name == "polyline" then
      for x, y in a.points:gmatch("([%-%d%.]+),([%-%d%.]+)") do inside(x, y, "polyline point"); checked = checked + 1 end
    end
  end
  assert(checked > 0, "nothing was checked")
  return w, h
end

-- ---------------------------------------------------------------- line
local path, extra = wb.plot.line({
  {name = "alpha", x = {1, 2, 3, 4}, y = {1, 4, 9, 16}},
  {name = "beta & <gamma>", x = {1, 2, 3, 4}, y = {2, 3, 5, 7}, dash = true},
}, {title = "squares", xlabel = "x value", ylabel = "y value", file = "plot_svg_line.svg"})
-- with a file: the path only (the prompt prints a line, not the picture)
assert(path == "plot_svg_line.svg" and extra == nil, "file path returned, and nothing else")
local f = assert(io.open(path)); local svg = f:read("a"); f:close()
-- without a file: the SVG text, the same as the file holds
assert(wb.plot.line({
  {name = "alpha", x = {1, 2, 3, 4}, y = {1, 4, 9, 16}},
  {name = "beta & <gamma>", x = {1, 2, 3, 4}, y = {2, 3, 5, 7}, dash = true},
}, {title = "squares", xlabel = "x value", ylabel = "y value"}) == svg, "the file holds the SVG")
local e = parse_xml(svg)
local w, h = check_inside(e)
assert(w == 800 and h == 600, "default size 800x600")
assert(count(e, "polyline") == 2, "one polyline per series")
assert(count(e, "polyline", function(x) return x.attrs["stroke-dasharray"] end) == 1, "dashed series")
assert(count(e, "g", function(x) return x.attrs.class == "series" end) == 2)
assert(count(e, "circle") == 8, "a marker per point, got " .. count(e, "circle"))
assert(has_text(e, "squares"), "title")
assert(has_text(e, "x value") and has_text(e, "y value"), "axis labels")
assert(has_text(e, "alpha") and has_text(e, "beta &amp; &lt;gamma&gt;"), "legend entries, escaped")
assert(count(e, "g", function(x) return x.attrs.class == "legend" end) == 1, "a legend")
assert(count(e, "line", function(x) return x.attrs.class == "tick" end) >= 6, "ticks")
-- y ticks of 0..16 are nice numbers and include both ends of the data
assert(has_text(e, "0") and has_text(e, "16") or has_text(e, "20"), "tick labels cover the data")
-- the polyline of "alpha" rises: y pixel decreases as x increases
local first = e[1]
for _, el in ipairs(e) do if el.name == "polyline" then first = el break end end
local ys = {}
for y in first.attrs.points:gmatch("[%-%d%.]+,([%-%d%.]+)") do ys[#ys + 1] = tonumber(y) end
assert(#ys == 4 and ys[1] > ys[2] and ys[2] > ys[3] and ys[3] > ys[4], "points mapped with y up")

-- log axes: ticks at powers of ten with 2 and 5 between on a short range
local svg2 = wb.plot.line({times = {x = {1e3, 1e4, 1e5}, y = {0.01, 0.1, 1.5}}}, {logx = true, logy = true})
local e2 = parse_xml(svg2)
check_inside(e2)
assert(has_text(e2, "1k") and has_text(e2, "10k") and has_text(e2, "100k"), "log x ticks")
assert(has_text(e2, "0.01") and has_text(e2, "2"), "log y ticks reach the data")
assert(has_text(e2, "times"), "name from the key")

-- a single {x=, y=} series and y only
parse_xml(wb.plot.line({y = {3, 1, 2}}))
-- size option
local e3 = parse_xml(wb.plot.line({y = {1, 2}}, {width = 400, height = 300}))
assert(e3[1].attrs.viewBox == "0 0 400 300")

-- errors
local expect_error = TL.expect_error
expect_error("bad argument #1 to 'line' (table of series expected, got number)", function() wb.plot.line(42) end)
expect_error("series 'a' has 2 x values and 1 y values", function() wb.plot.line({{name = "a", x = {1, 2}, y = {1}}}) end)
expect_error("series 'a': point 2 is not a pair of numbers", function() wb.plot.line({{name = "a", y = {1, "x"}}}) end)
expect_error("logy needs positive y values, series 't' has 0", function() wb.plot.line({{name = "t", x = {1, 2}, y = {0, 1}}}, {logy = true}) end)
expect_error("bad argument #2 to 'line' (table of options expected, got string)", function() wb.plot.line({y = {1}}, "x") end)
expect_error("no series to plot", function() wb.plot.line({}) end)
expect_error("no finite points to plot", function() wb.plot.line({y = {0 / 0}}) end)
expect_error("/nonexistent-dir/x.svg: cannot write", function() wb.plot.line({y = {1, 2}}, {file = "/nonexistent-dir/x.svg"}) end)

-- ------------------------------------------------------------- scatter
local b = wb.datagen.blobs{n = 30000, features = 2, centers = 3, seed = 4}
assert(wb.plot.scatter(b, {color = true, file = "plot_svg_scatter.svg", title = "blobs"}) == "plot_svg_scatter.svg")
local fs = assert(io.open("plot_svg_scatter.svg")); local s = fs:read("a"); fs:close()
local es = parse_xml(s)
check_inside(es)
local circles = count(es, "circle")
-- at most 20000 points shown of 30000 (deterministic sample) + 3 legend dots
local shown = 0
for _, r in ipairs(wb.plot.sample_ranges(30000, 20000)) do shown = shown + r[2] - r[1] + 1 end
assert(shown <= 20000 and shown > 19000, "sample size " .. shown)
assert(circles == shown + 3, "circles: " .. circles)
assert(count(es, "g", function(x) return x.attrs.class == "points" end) == 3, "one group per class")
assert(has_text(es, "blobs (" .. wb.plot.short(shown) .. " of 30k points shown)"), "title says the sample")
assert(has_text(es, "0") and has_text(es, "1") and has_text(es, "2"), "legend per class")
assert(has_text(es, "x1") and has_text(es, "x2"), "axis labels from the column names")
-- deterministic: the same call gives the same file
assert(wb.plot.scatter(b, {color = true, title = "blobs"}) == s, "same picture twice")

-- the sample spreads over the whole range (sorted data stays represented)
local ranges = wb.plot.sample_ranges(1000000, 20000)
assert(ranges[1][1] == 1 and ranges[#ranges][2] >= 990000, "windows cover the range")
local total = 0
for _, r in ipairs(ranges) do total = total + r[2] - r[1] + 1 end
assert(total <= 20000 and total >= 19000, "about max_points rows, got " .. total)

-- all points when small; colour from a Lua array; tables of rows
local pts, lab = {}, {}
for i = 1, 50 do pts[i] = {i, (i * 7) % 13}; lab[i] = i % 4 end
local et = parse_xml(wb.plot.scatter(pts, {color = lab}))
assert(count(et, "circle") == 50 + 4, "50 points and 4 legend dots")
-- {x=, y=} form, no colour: no legend
local ex = parse_xml(wb.plot.scatter({x = {1, 2, 3}, y = {3, 2, 1}}))
assert(count(ex, "circle") == 3 and count(ex, "g", function(x) return x.attrs.class == "legend" end) == 0)
-- continuous colour values: a ramp with min and max in the legend
local cont = {}
for i = 1, 50 do cont[i] = i / 7 end
local ec = parse_xml(wb.plot.scatter(pts, {color = cont}))
assert(has_text(ec, "min 0.1429") and has_text(ec, "max 7.143"), "continuous legend")
-- colour from a vector (e.g. predictions)
local v = wb.vector and wb.vector(lab)
if v then
  local ev = parse_xml(wb.plot.scatter(pts, {color = v}))
  assert(count(ev, "circle") == 54)
end

expect_error("bad argument #1 to 'scatter' (dataset or table expected, got string)", function() wb.plot.scatter("x") end)
expect_error("color has 2 values, the data has 50 rows", function() wb.plot.scatter(pts, {color = {1, 2}}) end)
expect_error("color = true needs data with labels", function() wb.plot.scatter(pts, {color = true}) end)
expect_error("x must be a column 1..2, got 5", function() wb.plot.scatter(b, {x = 5}) end)
expect_error("max_points must be an integer >= 1, got 0", function() wb.plot.scatter(b, {max_points = 0}) end)

os.remove("plot_svg_line.svg")
os.remove("plot_svg_scatter.svg")
print("plot_svg: ok")
