-- tables_csv: typed, named columns read from CSV ("Real tables in").
-- Expected values: for the small crafted files, pandas 1.5's read_csv (with
-- na_values=["?"], wb's default missing tokens being pandas' and "?") and its
-- describe(); for the large generated files, the generator's own values.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq, expect_error = TL.check, TL.eq, TL.expect_error

local dir = string.format("tables_csv_tmp_%d", math.random(1, 1 << 30))
assert(os.execute("mkdir -p " .. dir))
TL.on_failure(function() os.execute("rm -rf " .. dir) end)
local function path(name) return dir .. "/" .. name end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end
local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function same_list(a, b, what)
  eq(#a, #b, what .. " (length)")
  for i = 1, math.max(#a, #b) do eq(a[i], b[i], what .. " [" .. i .. "]") end
end
local function isnan(v) return v ~= v end

-- ------------------------------------------------------------ RFC 4180 and types
spit(path("crafted.csv"), table.concat({
  "id,city,score,flag,when,note",
  '1,Paris,1.5,true,2024-01-02,"a, b"',
  '2,"Lyon",NA,false,,"say ""hi"""',
  '3,paris,,yes,2024-01-03,"two',
  'lines"',
  "4,?,2.25,no,N/A,plain",
  "5,Paris,-3e2,TRUE,null,",
}, "\n") .. "\n")
local d = wb.load(path("crafted.csv"), {label = false})
eq(d:rows(), 5, "rows")
same_list(d:names(), {"id", "city", "score", "flag", "when", "note"}, "names")
-- pandas: int64, object, float64, object, object, object
same_list(d:types(), {"number", "category", "number", "category", "category", "category"}, "types")
same_list(d:levels("city"), {"Lyon", "Paris", "paris"}, "city levels")
same_list(d:levels("flag"), {"TRUE", "false", "no", "true", "yes"}, "flag levels (booleans are text)")
same_list(d:levels("when"), {"2024-01-02", "2024-01-03"}, "when levels")
same_list(d:levels("note"), {"a, b", "plain", "say \"hi\"", "two\nlines"}, "note levels (quotes, doubled quotes, a line break)")
check(d:levels("score") == nil, "a number column has no levels")
-- the codes: row 4's city "?" and row 2's empty note... are missing
local r = d:row(4)
check(isnan(r[2]) and r[3] == 2.25 and r[4] == 2 and isnan(r[5]) and r[6] == 1, "row 4")
r = d:row(3)
check(r[2] == 2 and isnan(r[3]) and r[6] == 3, "row 3 (its note spans two lines)")
-- describe: pandas' count / missing / unique / top / freq, and the numbers
local s = d:describe()
local by = {}
for _, row in ipairs(s) do by[row.column] = row end
eq(by.city.count, 4, "city count"); eq(by.city.missing, 1, "city missing")
eq(by.city.unique, 3, "city unique"); eq(by.city.top, "Paris", "city top"); eq(by.city.freq, 2, "city freq")
eq(by.when.missing, 3, "when missing (empty, N/A, null)")
eq(by.score.count, 3, "score count"); eq(by.score.missing, 2, "score missing (NA and empty)")
check(TL.near(by.score.mean, -98.75, 1e-12), "score mean")
check(TL.near(by.score.std, 174.28801593913448, 1e-12), "score std")
eq(by.score["25%"], -149.25, "score 25%"); eq(by.score["50%"], 1.5, "score 50%"); eq(by.score["75%"], 1.875, "score 75%")
check(TL.near(by.id.std, 1.5811388300841898, 1e-15), "id std")
eq(by.id["25%"], 2, "id 25%")
-- value_counts as pandas orders it (most frequent first)
local vc = d:value_counts("city")
eq(vc[1].value, "Paris", "value_counts first"); eq(vc[1].count, 2, "value_counts first count")
eq(vc[2].value, "Lyon", "value_counts tie order"); eq(vc.missing, 1, "value_counts missing")
-- printing shows the text
local shown = tostring(show.value(d))
check(shown:find("Paris", 1, true) and shown:find("say \"hi\"", 1, true), "printing shows category text")

-- dtype forces a type; booleans as numbers; na_values replaces the tokens
local f = wb.load(path("crafted.csv"), {label = false, dtype = {flag = "number", id = "category"}})
same_list(f:types(), {"category", "category", "number", "number", "category", "category"}, "dtype types")
same_list(f:levels("id"), {"1", "2", "3", "4", "5"}, "numbers read as text")
local fl = {}
for i = 1, 5 do fl[i] = f:row(i)[4] end
same_list(fl, {1, 0, 1, 0, 1}, "true/yes/TRUE -> 1, false/no -> 0")
local n = wb.load(path("crafted.csv"), {label = false, na_values = {"Paris"}})
same_list(n:levels("city"), {"?", "Lyon", "paris"}, "na_values replaces the tokens")
eq(n:describe()[2].missing, 2, "na_values: Paris missing")
local nd = wb.load(path("crafted.csv"), {label = false, na_values = {}})
check(nd:types()[3] == "category", "without tokens, NA is text")

-- columns (kept, in order), drop, label by name, index, false
local c = wb.load(path("crafted.csv"), {columns = {"score", "city", "id"}, label = "city"})
same_list(c:names(), {"score", "id"}, "columns= order, the label apart")
eq(c:label_name(), "city", "label name"); same_list(c:label_levels(), {"Lyon", "Paris", "paris"}, "label levels")
local l = wb.load(path("crafted.csv"), {label = 2, drop = {"note", "when"}})
same_list(l:names(), {"id", "score", "flag"}, "drop= and label = index")
eq(l:label_name(), "city", "label by index")
check(not wb.load(path("crafted.csv"), {label = false}):has_labels(), "label = false")

-- TSV by extension, ';' sniffed, sep=
spit(path("t.tsv"), "a\tb c\n1\tx y\n2\tz\n")
local t = wb.load(path("t.tsv"))
same_list(t:names(), {"a", "b c"}, "tsv names"); same_list(t:levels(2), {"x y", "z"}, "tsv levels")
spit(path("semi.csv"), "a;b\n1,5;x\n2;y\n")
local sc = wb.load(path("semi.csv"))
same_list(sc:names(), {"a", "b"}, "';' sniffed"); same_list(sc:levels("a"), {"1,5", "2"}, "decimal commas stay text")
spit(path("pipe.txt"), "a|b\n1|2\n")
eq(wb.load(path("pipe.txt"), {format = "csv", sep = "|"}):row(1)[2], 2, "sep=")
-- a header-only TSV, CRLF, BOM
spit(path("crlf.csv"), "\xEF\xBB\xBFa,b\r\n1,\"x\"\r\n2,y\r\n")
local cr = wb.load(path("crlf.csv"))
same_list(cr:names(), {"a", "b"}, "BOM and CRLF names"); same_list(cr:levels("b"), {"x", "y"}, "CRLF levels")
-- short lines: an error, or missing values with ragged = "fill" (as pandas)
spit(path("short.csv"), "a,b,c\n1,2,3\n4,5\n")
local rg = wb.load(path("short.csv"), {ragged = "fill"})
check(isnan(rg:row(2)[3]) and rg:row(2)[2] == 5, "ragged = fill")
-- an option wb.load does not know is refused, not ignored (a misspelt
-- ragged read the file as if it were absent: "short.csv:3: 2 fields")
expect_error("unknown option 'raged'; options: format, header, label, features, max_rows, max_levels, mmap, qid, " ..
             "ragged, zero_based, sep, delimiter, columns, drop, na_values, dtype", function()
  return wb.load(path("short.csv"), {raged = "fill"})
end)
expect_error("unknown option 1;", function() return wb.load(path("short.csv"), {"fill"}) end)

-- ------------------------------------------------------------ large files: the whole file decides
-- 12 columns (so several partitions), quoted fields with line breaks all over
-- (so scan ranges start inside quotes), a column of numbers that turns to
-- text in its last rows, a column of text that is missing in whole partitions
local N = 100000
local words = {"alpha", "beta, gamma", "delta \"d\"", "eps\nilon", "zeta"}
local function cell(i, j)
  if j == 1 then return tostring(i) end
  if j == 2 then return i % 7 == 0 and "NA" or string.format("%.3f", i / 13) end
  if j == 3 then -- numbers, and text in the last rows
    if i > N - 3 then return "n/a?" .. i end
    return tostring(i % 100) .. ".50"
  end
  if j == 4 then -- text, missing in the first 60000 rows
    if i <= 60000 then return "" end
    return words[i % 5 + 1]
  end
  if j == 5 then return i % 11 == 0 and "yes" or "no" end
  return tostring((i * j) % 97)
end
local lines = {"c1,c2,c3,c4,c5,c6,c7,c8,c9,c10,c11,c12"}
for i = 1, N do
  local row = {}
  for j = 1, 12 do
    local v = cell(i, j)
    if v:find('[,"\n]') then v = '"' .. v:gsub('"', '""') .. '"' end
    row[j] = v
  end
  lines[#lines + 1] = table.concat(row, ",")
end
local text = table.concat(lines, "\n") .. "\n"
spit(path("big.csv"), text)
local function check_big(b, what)
  eq(b:rows(), N, what .. " rows")
  check(b:partitions() > 1, what .. ": several partitions")
  same_list(b:types(), {"number", "number", "category", "category", "category", "number", "number", "number", "number",
                        "number", "number", "number"}, what .. " types")
  local lv3 = b:levels("c3")
  eq(#lv3, 103, what .. " c3 levels: 100 numbers as text and 3 others")
  eq(lv3[1], "0.50", what .. " c3: the file's text, not a number's")
  same_list(b:levels("c4"), {"alpha", "beta, gamma", "delta \"d\"", "eps\nilon", "zeta"}, what .. " c4 levels")
  same_list(b:levels("c5"), {"no", "yes"}, what .. " c5 levels")
  -- every value, in chunks
  local lk4 = {}
  for k, v in ipairs(b:levels("c4")) do lk4[v] = k - 1 end
  local lk3 = {}
  for k, v in ipairs(lv3) do lk3[v] = k - 1 end
  local bad = 0
  for a = 1, N, 20000 do
    local rows = b:rows_table(a, math.min(N, a + 19999))
    for k, row in ipairs(rows) do
      local i = a + k - 1
      local want2 = i % 7 == 0 and 0 / 0 or tonumber(string.format("%.3f", i / 13))
      local ok = row[1] == i and ((isnan(want2) and isnan(row[2])) or row[2] == want2) and row[3] == lk3[cell(i, 3)] and
                 ((i <= 60000 and isnan(row[4])) or row[4] == lk4[cell(i, 4)]) and row[5] == (i % 11 == 0 and 1 or 0) and
                 row[12] == (i * 12) % 97
      if not ok then bad = bad + 1 end
    end
  end
  eq(bad, 0, what .. ": rows that differ from the generator's")
end
local one = wb.load(path("big.csv"))
check_big(one, "2 threads")
wb.threads(1)
local single = wb.load(path("big.csv"))
wb.threads(2)
check_big(single, "1 thread")
wb.threads(3)
check_big(wb.load(path("big.csv")), "3 threads")
wb.threads(2)
-- most bytes inside quoted fields of many lines: the scan's ranges and the
-- partitions' first lines mostly start inside a quote
-- (130 more columns, so that partitions hold 4096 rows and one starts inside)
local wide = {}
for k = 1, 130 do wide[k] = "w" .. k end
local longs = {"id,note,v," .. table.concat(wide, ",")}
local M = 6000
for i = 1, M do
  local note = {}
  for k = 1, 40 do note[k] = string.format("line %d of %d, \"%s\"", k, i % 50, ("x"):rep(k % 7)) end
  for k = 1, 130 do wide[k] = (i + k) % 10 end
  longs[#longs + 1] = string.format('%d,"%s",%d,%s', i, table.concat(note, "\n"):gsub('"', '""'), i % 3,
                                    table.concat(wide, ","))
end
spit(path("long.csv"), table.concat(longs, "\n") .. "\n")
-- compressed too: the stream's reads (1 MB of inflated text each) end inside
-- quoted fields of many lines, and each partition's records become its parse
-- task's object (the window handed over) with the bytes after them kept
local long_files = {"long.csv"}
if os.execute("command -v gzip >/dev/null 2>&1") then
  os.execute("gzip -c " .. path("long.csv") .. " > " .. path("long.csv.gz"))
  long_files[#long_files + 1] = "long.csv.gz"
end
for _, th in ipairs{1, 2, 3} do
 for _, lf in ipairs(long_files) do
  wb.threads(th)
  local q = wb.load(path(lf))
  eq(q:rows(), M, "quoted lines: rows, " .. th .. " threads")
  eq(q:partitions(), 2, "quoted lines: partitions")
  eq(#q:levels("note"), 50, "quoted lines: levels, " .. th .. " threads")
  local rows = q:rows_table(1, M)
  local bad = 0
  for i, row in ipairs(rows) do
    if row[1] ~= i or row[3] ~= i % 3 or row[133] ~= (i + 130) % 10 then bad = bad + 1 end
  end
  eq(bad, 0, "quoted lines: rows out of place, " .. th .. " threads, " .. lf)
 end
end
wb.threads(2)
expect_error("long_bad.csv:" .. (40 * (M - 1) + 2) .. ": column \"note\": unterminated quote", function()
  spit(path("long_bad.csv"), table.concat(longs, "\n", 1, M) .. '\n' .. M + 1 .. ',"never closed\n1,2\n')
  return wb.load(path("long_bad.csv"))
end)

-- compressed (by content, whatever the name), and standard input
local have = function(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") end
if have("gzip") then
  os.execute("gzip -c " .. path("big.csv") .. " > " .. path("big.csv.gz"))
  check_big(wb.load(path("big.csv.gz")), "gzip")
  os.execute("cp " .. path("big.csv.gz") .. " " .. path("gz_named.csv"))
  check_big(wb.load(path("gz_named.csv")), "gzip named .csv")
end
if have("zstd") then
  os.execute("zstd -q -c " .. path("big.csv") .. " > " .. path("big.csv.zst"))
  check_big(wb.load(path("big.csv.zst")), "zstd")
end
-- standard input: a child wb reads it and writes what it read as NPY (codes) + .meta
local wbexe = arg and arg[-1] or "wb"
spit(path("stdin.lua"), string.format([[local d = wb.load("-", {format = "csv"}); wb.save(d, %q)]], path("from_stdin.npy")))
check(os.execute(string.format("%s %s < %s", wbexe, path("stdin.lua"), path("big.csv"))), "reading standard input")
check_big(wb.load(path("from_stdin.npy")), "standard input (saved as NPY, levels in .meta)")
if have("gzip") then
  check(os.execute(string.format("%s %s < %s", wbexe, path("stdin.lua"), path("big.csv.gz"))), "gzip on standard input")
  check_big(wb.load(path("from_stdin.npy")), "gzip on standard input")
end

-- ------------------------------------------------------------ working with columns
local p = wb.load(path("crafted.csv"), {label = "city"})
local sel = p:select{"note", "score"}
same_list(sel:names(), {"note", "score"}, "select names"); same_list(sel:types(), {"category", "number"}, "select types")
same_list(sel:levels("note"), d:levels("note"), "select keeps levels"); eq(sel:label_name(), "city", "select keeps labels")
same_list(p:drop{"note", "when"}:names(), {"id", "score", "flag"}, "drop")
check(not p:drop{"city"}:has_labels(), "dropping the label's name drops the labels")
local rn = p:rename{score = "points", city = "town"}
same_list(rn:names(), {"id", "points", "flag", "when", "note"}, "rename"); eq(rn:label_name(), "town", "rename the label")
same_list(p:names(), {"id", "score", "flag", "when", "note"}, "rename leaves the original")
local col = p:col("note")
check(col:is_vector() and col:types()[1] == "category", "col: a category vector")
same_list(col:levels(), d:levels("note"), "col keeps levels")
local lab = p:col("city")
same_list(lab:levels(), {"Lyon", "Paris", "paris"}, "col of the label")
local w = p:with_column("z", {10, 20, 30, 40, 50}):with_column("size", {"S", "M", nil, "S", "L"})
same_list(w:names(), {"id", "score", "flag", "when", "note", "z", "size"}, "with_column adds")
same_list(w:levels("size"), {"L", "M", "S"}, "strings make a category"); check(isnan(w:row(3)[7]), "nil is missing")
local w2 = w:with_column("score", p:col("id"))
eq(w2:row(2)[2], 2, "with_column replaces"); eq(w2:cols(), 7, "with_column replaces, same width")
local fil = p:filter({1, 0, 1, 0, 1})
eq(fil:rows(), 3, "filter rows"); eq(fil:row(2)[1], 3, "filter keeps order")
same_list(fil:levels("note"), d:levels("note"), "filter keeps every level")
local fb = p:filter({true, false, false, false, true})
eq(fb:rows(), 2, "filter with booleans")
expect_error("mask value 2 at row 2", function() return p:filter({1, 2, 0, 0, 0}) end)
expect_error("no column named \"nope\"", function() return p:select{"nope"} end)
expect_error("no column named \"nope\"", function() return p:col("nope") end)
-- a filter over several partitions keeps the order
local big = one:filter(one:col("c5"))
eq(big:rows(), N // 11, "filter over partitions")
eq(big:row(1)[1], 11, "first kept"); eq(big:row(big:rows())[1], (N // 11) * 11, "last kept")

-- ------------------------------------------------------------ writing
-- CSV: text and names; load -> save -> load is identical; labels keep their name
wb.save(p, path("p.csv"))
local back = wb.load(path("p.csv"))
same_list(back:names(), p:names(), "round trip names"); same_list(back:types(), p:types(), "round trip types")
eq(back:label_name(), "city", "round trip label name"); same_list(back:label_levels(), p:label_levels(), "round trip label levels")
for j = 1, p:cols() do
  if p:types()[j] == "category" then same_list(back:levels(j), p:levels(j), "round trip levels " .. j) end
end
for i = 1, p:rows() do
  local a, ya = p:row(i)
  local b, yb = back:row(i)
  for j = 1, #a do check(a[j] == b[j] or (isnan(a[j]) and isnan(b[j])), "round trip value " .. i .. "," .. j) end
  check(ya == yb or (isnan(ya) and isnan(yb)), "round trip label " .. i)
end
check(slurp(path("p.csv")):find('"say ""hi"""', 1, true), "CSV quotes as RFC 4180")
-- a level no row uses survives (the .meta keeps it); without .meta it is gone
local only2 = p:filter({0, 1, 0, 0, 0})
wb.save(only2, path("only2.csv"))
same_list(wb.load(path("only2.csv")):levels("note"), d:levels("note"), "unused levels through .meta")
wb.save(only2, path("only2b.csv"), {meta = false})
same_list(wb.load(path("only2b.csv")):levels("note"), {"say \"hi\""}, "without .meta, the levels present")
-- TSV by extension
wb.save(p, path("p.tsv"))
check(slurp(path("p.tsv")):sub(1, 20):find("id\tscore", 1, true), "TSV written with tabs")
same_list(wb.load(path("p.tsv")):levels("note"), d:levels("note"), "TSV round trip")
-- NPY keeps the levels in .meta
wb.save(p, path("p.npy"))
local pn = wb.load(path("p.npy"))
same_list(pn:names(), p:names(), "NPY names"); same_list(pn:levels("note"), d:levels("note"), "NPY levels")
eq(pn:label_name(), "city", "NPY label name"); same_list(pn:label_levels(), p:label_levels(), "NPY label levels")
check(slurp(path("p.npy.meta")):find('"levels": ["Lyon", "Paris", "paris"]', 1, true), ".meta lists the label levels")
-- the big file: CSV round trip through text
wb.save(one, path("big_out.csv"))
check_big(wb.load(path("big_out.csv")), "big CSV round trip")

os.execute("rm -rf " .. dir)
print("tables_csv: ok")
