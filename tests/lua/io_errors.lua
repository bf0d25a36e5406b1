-- io_errors: every malformed file and bad option gets its exact message
-- naming the file, the line (and column where known) and what was expected;
-- a failing write leaves nothing behind.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")

-- relative paths (tests run in the build folder), so messages are predictable
local dir = string.format("io_errors_tmp_%d", math.random(1, 1 << 30))
assert(os.execute("mkdir -p " .. dir))
local function path(name) return dir .. "/" .. name end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end
local function listdir()
  local names = {}
  local h = io.popen("ls -A " .. dir)
  for l in h:lines() do names[#names + 1] = l end
  h:close()
  table.sort(names)
  return table.concat(names, " ")
end
-- every message is checked, those that differ are printed and counted
TL.keep_going()
local expect_exact = TL.expect_error_with{how = "equal", string = true}
local function expect(msg, fn, ...)
  local args = table.pack(...)
  -- called as user code calls it (so argument errors name 'load', 'save')
  expect_exact(msg, function() return fn(table.unpack(args, 1, args.n)) end)
end
local function bad(name, content, msg, opts)
  spit(path(name), content)
  expect(path(name) .. msg, wb.load, path(name), opts)
end

-- LIBSVM
bad("data.libsvm", "1 1:0.5 2:1\n0 2:3\n1 2:1 4:1.2.3\n", ":3:9: bad value \"1.2.3\" (expected a number)")
bad("lab.libsvm", "1 1:0.5\nyes 1:2\n", ":2:1: bad label \"yes\" (expected a number)")
-- (an index 0 means 0-based indices unless zero_based = false, as scikit-learn's "auto")
bad("idx0.libsvm", "1 1:0.5\n0 0:1 2:3\n", ":2:3: index 0 (expected indices from 1; zero_based=true reads 0-based files)",
    {zero_based = false})
bad("dec.libsvm", "1 1:0.5\n\n0 2:1 5:3 3:1\n", ":3:11: index 3 after 5 (expected increasing indices)")
bad("dup.libsvm", "1 2:1 2:3\n", ":1:7: index 2 after 2 (expected increasing indices)")
bad("colon.libsvm", "1 1:0.5 7\n", ":1:9: bad feature \"7\" (expected index:value)")
bad("neg.libsvm", "1 -3:0.5\n", ":1:3: bad feature \"-3:0.5\" (expected index:value)")
bad("empty.libsvm", "1 1:\n", ":1:5: bad value \"\" (expected a number)")
bad("range.libsvm", "1 1:1\n1 4:2\n", ":2:3: index 4 out of range (expected at most 3 features, as given by features=3)",
    {features = 3})
bad("nothing.libsvm", "", ": empty file (expected lines of \"label index:value ...\")")
bad("comments.libsvm", "# only\n\n# comments\n", ": no data, only blank or comment lines (expected lines of \"label index:value ...\")")
-- the .meta beside a file sets the number of features
spit(path("meta.libsvm"), "1 1:1 3:2\n")
spit(path("meta.libsvm.meta"), '{"num_samples": 1, "num_features": 2, "num_classes": 1, "dataset_size": 10}')
expect(path("meta.libsvm") .. ":1:7: index 3 out of range (expected at most 2 features, as the .meta file says)",
       wb.load, path("meta.libsvm"))
spit(path("meta.libsvm.meta"), '{"num_samples": 1,\n "num_features": "two"}')
expect(path("meta.libsvm.meta") .. ":2:18: malformed .meta (expected a whole number >= 0)", wb.load, path("meta.libsvm"))
-- an error deep in a file of several partitions (a worker kernel's message),
-- with blank and comment lines before it counted in the line number
local lines = {}
for i = 1, 30000 do
  lines[#lines + 1] = string.format("%d %d:%.3f", i % 2, 1 + i % 100, i / 7)
  if i % 1000 == 0 then lines[#lines + 1] = "" end
  if i % 777 == 0 then lines[#lines + 1] = "# note" end
end
lines[#lines + 1] = "1 1:1 100:1"
lines[25001] = "1 3:0.5 3x:1"
spit(path("deep.libsvm"), table.concat(lines, "\n") .. "\n")
expect(path("deep.libsvm") .. ":25001:9: bad feature \"3x:1\" (expected index:value)", wb.load, path("deep.libsvm"))
wb.threads(1)
expect(path("deep.libsvm") .. ":25001:9: bad feature \"3x:1\" (expected index:value)", wb.load, path("deep.libsvm"))
wb.threads(2)
lines[25001] = "1 3:0.5"
spit(path("deep.libsvm"), table.concat(lines, "\n") .. "\n")
local d = wb.load(path("deep.libsvm"))
assert(d:rows() == 30001 and d:cols() == 100 and d:partitions() == 8, d:rows() .. " " .. d:partitions())

-- CSV
bad("ragged.csv", "a,b,c\n1,2,3\n4,5\n", ":3: 2 fields (expected 3, as in the header line; ragged = \"fill\" reads the fields a line lacks at its end as missing)")
bad("long.csv", "1,2,3\n4,5,6,7\n", ":2: 4 fields (expected 3, as in the first line)")
-- text is a category; a value that does not fit a type dtype forces names file, line, column
bad("val.csv", "a,b\n1,2\n3,x1\n", ":3: column \"b\": bad value \"x1\" (expected a number, as dtype says)",
    {dtype = {b = "number"}})
bad("val2.csv", "a,b\n1, 2.5.1 \n", ":2: column \"b\": bad value \"2.5.1\" (expected a number, as dtype says)",
    {dtype = {b = "number"}})
bad("nothing.csv", "", ": empty file (expected rows of comma-separated values)")
bad("blank.csv", "\n\n", ": no data, only blank lines (expected rows of comma-separated values)")
bad("quote.csv", "a,b\n1,\"x\n2,y\n3,z\n", ":2: column \"b\": unterminated quote (the quoted field starting on this line never ends)")
bad("ragq.csv", "a,b\n1,\"x,\ny\"\n2,\"p\",3\n", ":4: 3 fields (expected 2, as in the header line)")
bad("cols.csv", "a,b\n1,2\n", ": no column named \"c\" in columns = {...} (columns: \"a\", \"b\")", {columns = {"a", "c"}})
bad("drop.csv", "a,b\n1,2\n", ": no column named \"z\" in drop = {...} (columns: \"a\", \"b\")", {drop = {"z"}})
bad("dtype.csv", "a,b\n1,2\n", ": no column named \"q\" in dtype = {...} (columns: \"a\", \"b\")", {dtype = {q = "category"}})
bad("twice.csv", "a,b\n1,2\n", ": column \"a\" is listed twice in columns = {...}", {columns = {"a", "a"}})
bad("labidx.csv", "a,b\n1,2\n", ": label = 3, but the file has 2 columns", {label = 3})
bad("levels.csv", "id,v\nA,1\nB,2\nC,3\n", ":4: column \"id\": more than 2 distinct values (the limit of levels of a category column, max_levels = 2; dtype = {...= \"number\"} if it holds numbers)",
    {max_levels = 2})
bad("nul.csv", "a,b\n1,x\0y\n", ":2: column \"b\": a NUL byte in the text (expected text)")
bad("header.csv", "a,b,label\n", ": no data rows after the header line")
bad("noname.csv", "a,b\n1,2\n", ": no column named \"c\" for the labels (columns: \"a\", \"b\")", {label = "c"})
bad("nohead.csv", "1,2\n3,4\n", ": label = \"b\" names a column, but the file has no header line", {label = "b"})

-- NPY
local function npy(descr, shape, payload, fortran, version)
  local dict = string.format("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr,
                             fortran and "True" or "False", shape)
  local hdr = dict .. string.rep(" ", (64 - (10 + #dict + 1) % 64) % 64) .. "\n"
  return "\x93NUMPY" .. string.char(version or 1, 0) .. string.pack("<I2", #hdr) .. hdr .. payload
end
local twelve = string.rep(string.pack("<d", 1.5), 6)
bad("nothing.npy", "", ": empty file (expected an NPY header)")
bad("magic.npy", "PK\3\4 this is a zip", ": not an NPY file (expected it to start with \"\\x93NUMPY\")")
bad("short.npy", "\x93NUMPY\1\0", ": truncated header (8 bytes, expected at least 10)")
bad("trunc.npy", npy("<f8", "(3, 2)", twelve):sub(1, 40), ": truncated header (40 bytes, expected at least 128)")
bad("u5.npy", npy("<U5", "(3, 2)", string.rep("\0", 120)), ": dtype '<U5' is not supported (expected numbers: '<f8', '<f4', '<i8', '<i4', ...)")
bad("be.npy", npy(">f8", "(3, 2)", twelve), ": dtype '>f8' is big-endian (expected little-endian numbers)")
bad("fo.npy", npy("<f8", "(3, 2)", twelve, true), ": Fortran order is not supported (expected C order, fortran_order False)")
bad("3d.npy", npy("<f8", "(1, 3, 2)", twelve), ": a 3-D array (expected 2-D rows x columns, or 1-D)")
bad("data.npy", npy("<f8", "(4, 2)", twelve), ": truncated data (48 bytes after the header, expected 64)")
bad("ver.npy", npy("<f8", "(3, 2)", twelve, false, 9), ": NPY format version 9.0 is not supported (expected 1.0, 2.0 or 3.0)")
bad("dict.npy", npy("<f8", "[3, 2]", twelve), ": malformed header (expected a dict with 'descr', 'fortran_order' and 'shape', got \"{'descr': '<f8', 'fortran_order': False, 'shape': [3, 2], }\")")
bad("zero.npy", npy("<f8", "(0, 2)", ""), ": no rows (shape (0, 2))")
spit(path("lab.npy"), npy("<f8", "(3, 2)", twelve))
spit(path("lab.labels.npy"), npy("<f8", "(2,)", string.pack("<dd", 1, 0)))
expect(path("lab.labels.npy") .. ": 2 labels for the 3 rows of " .. path("lab.npy"), wb.load, path("lab.npy"))
spit(path("lab.labels.npy"), npy("<U5", "(3,)", string.rep("\0", 60)))
expect(path("lab.labels.npy") .. ": dtype '<U5' is not supported (expected numbers: '<f8', '<f4', '<i8', '<i4', ...)",
       wb.load, path("lab.npy"))

-- files that are not there, or not files
expect(path("missing.libsvm") .. ": cannot open (No such file or directory)", wb.load, path("missing.libsvm"))
expect(path("missing.csv") .. ": cannot open (No such file or directory)", wb.load, path("missing.csv"))
expect(path("missing.npy") .. ": cannot open (No such file or directory)", wb.load, path("missing.npy"))
expect(dir .. ".csv: cannot open (No such file or directory)", wb.load, dir .. ".csv")
os.execute("mkdir -p " .. path("folder.csv"))
expect(path("folder.csv") .. ": cannot read (a directory, expected a file)", wb.load, path("folder.csv"))
expect(path("x.txt") .. ": unknown file format (expected a name ending in .libsvm, .svm, .csv or .npy, or the option format=\"libsvm\"|\"csv\"|\"npy\")",
       wb.load, path("x.txt"))
-- format= overrides the extension
spit(path("x.txt"), "1 1:2\n")
assert(wb.load(path("x.txt"), {format = "libsvm"}):row(1)[1] == 2)

-- bad options (Lua argument errors carry the caller's position first)
local expect_arg_exact = TL.expect_error_with{how = "equal", strip_where = true}
local function expect_arg(msg, opts)
  expect_arg_exact(msg, function() return wb.load(path("x.txt"), opts) end)
end
expect_arg("bad argument #2 to 'load' (format must be one of \"libsvm\", \"csv\", \"npy\", got parquet)",
           {format = "parquet"})
expect_arg("bad argument #2 to 'load' (label must be \"first\", \"last\", a column name or index, or false, got table)",
           {label = {}})
expect_arg("bad argument #2 to 'load' (label must be a column index >= 1, got 0)", {label = 0})
expect_arg("bad argument #2 to 'load' (dtype.a must be \"number\" or \"category\", got text)", {dtype = {a = "text"}})
expect_arg("bad argument #2 to 'load' (columns[2] must be a column name (a string), got number)", {columns = {"a", 2}})
expect_arg("bad argument #2 to 'load' (zero_based must be true, false or \"auto\", got yes)", {zero_based = "yes"})
-- features= is a count like max_rows (a string or a fraction was "bad argument #-1")
for _, v in ipairs{0, -2, 1.5, "x", true} do
  expect_arg("bad argument #2 to 'load' (features must be an integer >= 1, got " .. tostring(v) .. ")", {features = v})
end
expect_arg("bad argument #2 to 'load' (delimiter must be one character, got ;;)", {delimiter = ";;"})

-- writing: nothing is left behind when a write fails
local ds = wb.dataset({{1, 2}, {3, 4}}, {0, 1})
expect(path("nodir/out.csv") .. ": cannot write (No such file or directory)", wb.save, ds, path("nodir/out.csv"))
expect(path("out.parquet") .. ": unknown file format (expected a name ending in .libsvm, .svm, .csv or .npy, or the option format=\"libsvm\"|\"csv\"|\"npy\")",
       wb.save, ds, path("out.parquet"))
-- a read-only folder: the temporary file cannot be made
os.execute("mkdir -p " .. path("ro") .. " && chmod 555 " .. path("ro"))
local probe = io.open(path("ro/probe"), "w") -- root ignores permissions: skip then
if not probe then
  expect(path("ro/out.npy") .. ": cannot write (Permission denied)", wb.save, ds, path("ro/out.npy"))
else
  probe:close()
  os.remove(path("ro/probe"))
end
os.execute("chmod 755 " .. path("ro"))
local before = listdir()
assert(not before:find("out") and not before:find("tmp"), "left behind: " .. before)

os.execute("rm -rf " .. dir)
assert(TL.failures() == 0, TL.failures() .. " messages differ")
print("io_errors: ok")
