-- tables_cluster: typed columns on a local cluster (a head and two workers).
-- A CSV whose text columns appear in different partitions (so each worker's
-- partitions hold different local levels), with quoted fields of several
-- lines, read locally and on the cluster: the same types, the same sorted
-- levels and the same codes, bit for bit; the same for a gzip stream (cut on
-- the driver, parsed on the workers) and for the column operations.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq = TL.check, TL.eq

local tmp = os.tmpname()
local csv = tmp .. ".csv"
local N = 60000
local lines = {"id,x,city,note,flag," .. table.concat((function() local t = {} for k = 1, 20 do t[k] = "w" .. k end return t end)(), ",")}
local cities = {"Oslo", "Lima", "Rome", "Quito", "Cairo", "Paris, FR"}
for i = 1, N do
  -- city: each block of 12000 rows uses its own pair of cities; note: text only after row 30000
  local city = cities[(i // 12000) % 6 + 1]
  if i % 2 == 0 then city = cities[((i // 12000) + 3) % 6 + 1] end
  local note = i > 30000 and (i % 9 == 0 and '"two\nlines ""q"""' or "n" .. (i % 40)) or tostring(i % 5)
  local w = {}
  for k = 1, 20 do w[k] = (i * k) % 17 end
  lines[#lines + 1] = string.format('%d,%.4f,"%s",%s,%s,%s', i, i / 7, city, note, i % 3 == 0 and "yes" or "NA",
                                    table.concat(w, ","))
end
local f = assert(io.open(csv, "w"))
f:write(table.concat(lines, "\n"), "\n")
f:close()
os.execute("gzip -c " .. csv .. " > " .. csv .. ".gz")

local function snapshot(d)
  local s = {names = d:names(), types = d:types(), rows = d:rows(), parts = d:partitions(), levels = {}}
  for j, t in ipairs(s.types) do if t == "category" then s.levels[j] = d:levels(j) end end
  s.data = d:rows_table(1, d:rows())
  return s
end
local mask = {}
for i = 1, N do mask[i] = (i % 4 == 1 or i > N - 10) and 1 or 0 end
local function work()
  local d = wb.load(csv)
  local z = wb.load(csv .. ".gz")
  return {
    d = snapshot(d), z = snapshot(z),
    desc = d:describe(),
    vc = d:value_counts("city"),
    sel = snapshot(d:select{"note", "city"}),
    fil = snapshot(d:filter(mask)),
  }
end
local function same(a, b, what)
  eq(a.rows, b.rows, what .. " rows")
  TL.check(TL.equal_values(a.names, b.names), what .. " names")
  TL.check(TL.equal_values(a.types, b.types), what .. " types")
  for j, lv in pairs(a.levels) do TL.check(TL.equal_values(lv, b.levels[j]), what .. " levels of column " .. j) end
  local bad = 0
  for i, r in ipairs(a.data) do
    for j, v in ipairs(r) do
      local w = b.data[i][j]
      if not (v == w or (v ~= v and w ~= w)) then bad = bad + 1 end
    end
  end
  eq(bad, 0, what .. " values that differ")
end

wb.threads(2)
local L = work()
check(L.d.parts > 1, "several partitions")
TL.check(TL.equal_values(L.d.types, {"number", "number", "category", "category", "category", "number", "number", "number",
  "number", "number", "number", "number", "number", "number", "number", "number", "number", "number", "number",
  "number", "number", "number", "number", "number", "number"}), "types")
eq(#L.d.levels[3], 6, "six cities over the file")
same(L.d, L.z, "local: gzip against plain")

local info = wb.cluster{workers = 2, threads = 1}
check(info.kind == "cluster" and info.workers == 2, "a cluster of two workers")
local C = work()
same(L.d, C.d, "cluster against local")
same(L.z, C.z, "cluster gzip against local")
same(L.sel, C.sel, "select on the cluster")
same(L.fil, C.fil, "filter on the cluster")
for j = 1, #L.desc do
  for _, k in ipairs{"count", "missing", "mean", "std", "min", "25%", "50%", "75%", "max", "unique", "top", "freq"} do
    local a, b = L.desc[j][k], C.desc[j][k]
    check(a == b or (a ~= a and b ~= b), string.format("describe %s %s: %s vs %s", L.desc[j].column, k, tostring(a), tostring(b)))
  end
end
for i = 1, #L.vc do check(L.vc[i].value == C.vc[i].value and L.vc[i].count == C.vc[i].count, "value_counts " .. i) end
wb.disconnect()
os.remove(csv)
os.remove(csv .. ".gz")
os.remove(tmp)
print("tables_cluster: ok")
