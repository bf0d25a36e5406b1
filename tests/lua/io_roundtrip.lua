-- io_roundtrip: wb.save / wb.load of LIBSVM, CSV and NPY give back the same
-- numbers bit for bit, with labels, column names, sparse rows, float32 NPY,
-- memory-mapped NPY through describe(), and the .meta sidecar.

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function path(name) return dir .. "/" .. name end
local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end
local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end
local function listdir()
  local names = {}
  local h = io.popen("ls -A " .. dir)
  for l in h:lines() do names[#names + 1] = l end
  h:close()
  table.sort(names)
  return table.concat(names, " ")
end
local function same(a, b) -- bit-identical doubles (NaN equal to NaN)
  if a ~= a then return b ~= b end
  return string.pack("<d", a) == string.pack("<d", b)
end
local function check_same(d, e, what)
  assert(e:rows() == d:rows(), what .. ": rows " .. e:rows() .. " vs " .. d:rows())
  assert(e:cols() == d:cols(), what .. ": cols " .. e:cols() .. " vs " .. d:cols())
  assert(e:has_labels() == d:has_labels(), what .. ": labels")
  for i = 1, d:rows() do
    local a, ya = d:row(i)
    local b, yb = e:row(i)
    for j = 1, d:cols() do
      assert(same(a[j], b[j]), string.format("%s: row %d col %d: %.17g vs %.17g", what, i, j, a[j], b[j]))
    end
    if d:has_labels() then assert(same(ya, yb), what .. ": label of row " .. i) end
  end
end

-- values that stress the number formatting: tiny, huge, negative zero,
-- subnormal, integers, many digits, inf and nan
local special = {0.1, -0.0, 1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                 123456789012345678, 1 / 3, -2 / 3, 1e16, 1e17, 0.000123, -7, 4.35, math.pi,
                 math.huge, -math.huge, 0 / 0}
local rows, labels = {}, {}
for i = 1, 300 do
  local r = {}
  for j = 1, 4 do
    local k = (i * 7 + j * 3) % (#special + 9)
    r[j] = special[k] or ((i * 1.0001 - j * 3.3) / (j + 0.7)) ^ (k % 5)
  end
  if i % 5 == 0 then r[2] = 0 end -- zeros: sparse in LIBSVM
  rows[i] = r
  labels[i] = i % 3
end
local d = wb.dataset(rows, labels)

for _, name in ipairs{"a.libsvm", "a.csv", "a.npy", "a.svm"} do
  wb.save(d, path(name))
  local e = wb.load(path(name))
  check_same(d, e, name)
  -- the sidecar: a JSON object with the studies' four numbers
  local m = wb.core.read_meta(path(name))
  assert(m.num_samples == 300 and m.num_features == 4 and m.num_classes == 3, name .. ": meta")
  local size = #slurp(path(name))
  if name == "a.npy" then size = size + #slurp(path("a.labels.npy")) end
  assert(m.dataset_size == size, name .. ": dataset_size " .. m.dataset_size .. " vs " .. size)
end
-- the .meta text itself
assert(slurp(path("a.csv.meta")) == '{\n  "num_samples": 300,\n  "num_features": 4,\n  "num_classes": 3,\n' ..
       '  "dataset_size": ' .. #slurp(path("a.csv")) .. '\n}\n')
-- NPY labels beside the features, read back by loading the features
assert(exists(path("a.labels.npy")))
assert(slurp(path("a.npy")):sub(1, 6) == "\x93NUMPY")
-- CSV header: x1..xd then label
assert(slurp(path("a.csv")):match("^[^\n]*") == "x1,x2,x3,x4,label")
-- LIBSVM: zeros are left out, indices 1-based
local first5 = {}
for l in slurp(path("a.libsvm")):gmatch("[^\n]+") do first5[#first5 + 1] = l end
assert(first5[5]:match("^2 1:%S+ 3:%S+ 4:%S+$"), "row 5 of the LIBSVM file: " .. first5[5])

-- num_classes counts distinct integer labels; other labels give 0
local many, frac = {}, {}
for i = 1, 300 do many[i] = (i * 7) % 100 - 50; frac[i] = i % 2 + 0.5 end
for _, name in ipairs{"k.npy", "k.libsvm"} do
  wb.save(wb.dataset(rows, many), path(name))
  assert(wb.core.read_meta(path(name)).num_classes == 100, name)
  wb.save(wb.dataset(rows, frac), path(name))
  assert(wb.core.read_meta(path(name)).num_classes == 0, name)
end

-- without labels; the .meta says 0 classes; meta=false writes none
local nolab = wb.dataset({{1, 2}, {3, 4.5}})
wb.save(nolab, path("n.csv"))
assert(slurp(path("n.csv")) == "x1,x2\n1,2\n3,4.5\n")
assert(wb.core.read_meta(path("n.csv")).num_classes == 0)
local e = wb.load(path("n.csv"))
assert(not e:has_labels() and e:rows() == 2 and e:row(2)[2] == 4.5)
wb.save(nolab, path("n.npy"), {meta = false})
assert(not exists(path("n.npy.meta")) and not exists(path("n.labels.npy")))
assert(not wb.load(path("n.npy")):has_labels())
-- saving unlabelled data over labelled data removes the stale labels file
wb.save(nolab, path("a.npy"))
assert(not exists(path("a.labels.npy")), "stale labels left beside a.npy")
assert(not wb.load(path("a.npy")):has_labels())
-- header = false
wb.save(nolab, path("h.csv"), {header = false})
assert(slurp(path("h.csv")) == "1,2\n3,4.5\n")
assert(wb.load(path("h.csv")):rows() == 2)

-- CSV: header detection, column names, label by name / first / last / none
spit(path("named.csv"), "a, b ,Target,\"c,d\"\n1,2,0,3\n4,5,1,6\n\n7,8,1,9\n")
local c = wb.load(path("named.csv"))
assert(c:cols() == 3 and c:rows() == 3 and c:has_labels())
local nm = c:names()
assert(nm[1] == "a" and nm[2] == "b" and nm[3] == "c,d", table.concat(nm, "|"))
local x, y = c:row(3)
assert(x[1] == 7 and x[2] == 8 and x[3] == 9 and y == 1)
c = wb.load(path("named.csv"), {label = "a"})
x, y = c:row(2)
assert(y == 4 and x[1] == 5 and x[2] == 1 and x[3] == 6 and c:names()[2] == "Target")
c = wb.load(path("named.csv"), {label = false})
assert(c:cols() == 4 and not c:has_labels())
c = wb.load(path("named.csv"), {label = "last"})
x, y = c:row(1)
assert(y == 3 and x[3] == 0)
-- a header of other names: no labels unless asked
spit(path("plain.csv"), "u,v\n1,2\n")
assert(not wb.load(path("plain.csv")):has_labels())
-- no header; label first; another delimiter; CRLF; blanks, quotes, empty = NaN
spit(path("semi.csv"), "1; 2.5 ;\"3\"\r\n0;;4e2\r\n")
c = wb.load(path("semi.csv"), {delimiter = ";", label = "first"})
assert(c:rows() == 2 and c:cols() == 2 and c:has_labels())
x, y = c:row(1)
assert(y == 1 and x[1] == 2.5 and x[2] == 3)
x, y = c:row(2)
assert(y == 0 and x[1] ~= x[1] and x[2] == 400)
-- header = true on a numeric first line
spit(path("numhead.csv"), "1,2\n3,4\n")
c = wb.load(path("numhead.csv"), {header = true})
assert(c:rows() == 1 and c:names()[1] == "1")

-- LIBSVM: sparse rows, comments, blank lines, qid, features=, zero_based
spit(path("s.libsvm"), "# a comment line\n1 2:0.5 5:-1e3 # trailing\n\n-1 qid:3 1:7\n0\n")
-- qid:N is kept as a last column "qid" (missing where a line has none), or dropped with qid = false
local s = wb.load(path("s.libsvm"))
assert(s:rows() == 3 and s:cols() == 6 and s:names()[6] == "qid" and s:names()[5] == "x5")
x, y = s:row(1)
assert(y == 1 and x[1] == 0 and x[2] == 0.5 and x[3] == 0 and x[4] == 0 and x[5] == -1000 and x[6] ~= x[6])
x, y = s:row(2)
assert(y == -1 and x[1] == 7 and x[5] == 0 and x[6] == 3)
x, y = s:row(3)
assert(y == 0 and x[1] == 0 and x[2] == 0 and x[6] ~= x[6])
s = wb.load(path("s.libsvm"), {qid = false})
assert(s:rows() == 3 and s:cols() == 5)
x, y = s:row(2)
assert(y == -1 and x[1] == 7 and x[5] == 0)
assert(wb.load(path("s.libsvm"), {features = 8, qid = false}):cols() == 8)
assert(wb.load(path("s.libsvm"), {features = 8}):cols() == 9)
spit(path("z.libsvm"), "1 0:2 3:4\n")
s = wb.load(path("z.libsvm"), {zero_based = true})
x = s:row(1)
assert(s:cols() == 4 and x[1] == 2 and x[4] == 4)
-- an index 0 anywhere makes the file 0-based (scikit-learn's zero_based="auto"); none: 1-based
spit(path("z2.libsvm"), "1 2:5\n0 0:2 3:4\n")
s = wb.load(path("z2.libsvm"))
x = s:row(2)
assert(s:cols() == 4 and x[1] == 2 and x[4] == 4 and s:row(1)[3] == 5)
s = wb.load(path("z2.libsvm"), {zero_based = "auto"})
assert(s:cols() == 4)
spit(path("z3.libsvm"), "1 2:5\n0 1:2 3:4\n")
s = wb.load(path("z3.libsvm"))
assert(s:cols() == 3 and s:row(1)[2] == 5 and s:row(2)[1] == 2)
-- the number of features comes from the .meta beside the file when there is one
wb.save(wb.dataset({{0, 0, 1, 0, 0}}, {1}), path("m.libsvm"))
assert(slurp(path("m.libsvm")) == "1 3:1\n")
assert(wb.load(path("m.libsvm")):cols() == 5)
os.remove(path("m.libsvm.meta"))
assert(wb.load(path("m.libsvm")):cols() == 3)

-- float32 NPY (as numpy writes it), with int64 labels
local function npy(p, descr, shape, payload, fortran)
  local dict = string.format("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                             fortran and "True" or "False", shape)
  local pad = 64 - (10 + #dict + 1) % 64
  if pad == 64 then pad = 0 end
  local hdr = dict .. string.rep(" ", pad) .. "\n"
  spit(p, "\x93NUMPY\1\0" .. string.pack("<I2", #hdr) .. hdr .. payload)
end
local f32, lab = {}, {}
for i = 1, 6 do
  f32[#f32 + 1] = string.pack("<f", i / 4)
  f32[#f32 + 1] = string.pack("<f", -i)
  lab[#lab + 1] = string.pack("<i8", i % 2)
end
npy(path("f.npy"), "<f4", "(6, 2)", table.concat(f32))
npy(path("f.labels.npy"), "<i8", "(6,)", table.concat(lab))
local f = wb.load(path("f.npy"))
assert(f:rows() == 6 and f:cols() == 2 and f:has_labels())
x, y = f:row(3)
assert(x[1] == 0.75 and x[2] == -3 and y == 1)
-- version 2.0 header; 1-D features = one column
local one = {}
for i = 1, 5 do one[i] = string.pack("<d", i + 0.5) end
local dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }"
spit(path("v2.npy"), "\x93NUMPY\2\0" .. string.pack("<I4", #dict + 1) .. dict .. "\n" .. table.concat(one))
local v = wb.load(path("v2.npy"))
assert(v:rows() == 5 and v:cols() == 1 and v:row(5) == 5.5)

-- memory-mapped NPY (the default) and read into memory give the same data,
-- over several partitions; describe() runs over the mapping
local big = {}
for i = 1, 9000 do
  local r = {}
  for j = 1, 120 do r[j] = (i * 31 + j * 17) % 101 / 7 - 3 end
  big[i] = r
end
local bigl = {}
for i = 1, 9000 do bigl[i] = i % 2 end
local B = wb.dataset(big, bigl)
assert(B:partitions() == 3, "partitions " .. B:partitions())
wb.save(B, path("big.npy"))
local M = wb.load(path("big.npy"))
local R = wb.load(path("big.npy"), {mmap = false})
assert(M:partitions() == 3 and R:partitions() == 3)
local dm, dr, db = M:describe_raw(), R:describe_raw(), B:describe_raw()
for j = 1, 120 do
  for _, k in ipairs{"count", "mean", "std", "min", "max"} do
    assert(same(dm[k][j], db[k][j]) and same(dr[k][j], db[k][j]), "describe " .. k .. " col " .. j)
  end
end
local T = M:describe()
assert(#T == 120 and T[120].column == "x120" and T[1].count == 9000)
for _, i in ipairs{1, 4096, 4097, 8192, 8193, 9000} do
  local a, ya = B:row(i)
  local b, yb = M:row(i)
  assert(same(a[120], b[120]) and same(a[1], b[1]) and ya == yb)
end
-- the same file through LIBSVM and CSV, read with 1 and 2 threads
wb.save(B, path("big.libsvm"))
wb.save(B, path("big.csv"))
for _, t in ipairs{1, 2} do
  wb.threads(t)
  local L = wb.load(path("big.libsvm"))
  local C = wb.load(path("big.csv"))
  assert(L:partitions() == 3 and C:partitions() == 3)
  local dl, dc = L:describe_raw(), C:describe_raw()
  for j = 1, 120 do
    assert(same(dl.mean[j], db.mean[j]) and same(dc.std[j], db.std[j]), "threads " .. t .. " col " .. j)
  end
end

-- lines longer than the readers' 1 MB buffer
local long = {}
for j = 1, 120000 do long[#long + 1] = j .. ":" .. (j % 9) / 4 end
spit(path("long.libsvm"), "1 " .. table.concat(long, " ") .. "\n0 7:1\n")
local lg = wb.load(path("long.libsvm"))
assert(lg:rows() == 2 and lg:cols() == 120000)
x = lg:row(1)
assert(x[1] == 0.25 and x[9] == 0 and x[119999] == 0.5 and x[120000] == 0.75)
local cells = {}
for j = 1, 100000 do cells[j] = tostring(j * 0.5) end
spit(path("long.csv"), table.concat(cells, ",") .. "\n" .. table.concat(cells, ",") .. "\n")
lg = wb.load(path("long.csv"))
assert(lg:rows() == 2 and lg:cols() == 100000 and lg:row(2)[100000] == 50000)

-- generating straight to a file (in chunks) gives the data generated in memory
assert(wb.core.source_info("classification"), "the datagen plugin is not loaded")
do
  local params = {n = 20000, features = 6, informative = 3, redundant = 3, classes = 3, seed = 7}
  local mem = wb.datagen.classification(params)
  for _, name in ipairs{"gen.npy", "gen.libsvm", "gen.csv"} do
    params.file = path(name)
    wb.datagen.classification(params)
    local g = wb.load(path(name))
    local a, b = mem:describe_raw(), g:describe_raw()
    for j = 1, 6 do assert(same(a.mean[j], b.mean[j]) and same(a.max[j], b.max[j]), name .. " col " .. j) end
    local la, lb = wb.core.labels(mem), wb.core.labels(g)
    for i = 1, 20000, 997 do assert(la[i] == lb[i], name .. " label " .. i) end
    assert(wb.core.read_meta(path(name)).num_classes == 3)
  end
end

-- nothing but the finished files (no temporaries) in the folder
local left = listdir()
assert(not left:find("tmp"), "temporary files left: " .. left)
os.execute("rm -rf " .. dir)
print("io_roundtrip: ok")
