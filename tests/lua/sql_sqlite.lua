-- sql_sqlite.lua — wb.sql with SQLite files, checked against pandas
-- (Debian's python3-pandas through /usr/bin/python3, tests/tools/sql_compare.py):
-- a table of integers, reals, text with NULLs, an untyped column, booleans,
-- dates and times read whole, in range partitions over an integer and a real
-- column (given bounds, NULLs last), as a query, with labels, columns and
-- dtype, and an empty result: every cell equal to pandas' in pandas' order,
-- no row missing or twice, levels the sorted distinct values; the codes the
-- same whatever the partitions; written back (one transaction, replace,
-- append, labels, vectors, result tables (grid search, wb.bench), metrics, a name with quotes and a
-- semicolon) and equal again.
local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR is not set")
local PY = "/usr/bin/python3"
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local db = dir .. "/data.db"
local url = "sqlite:" .. db

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local function python(code)
  local f = assert(io.open(dir .. "/script.py", "w"))
  f:write(code)
  f:close()
  local ok, out = run(PY .. " " .. dir .. "/script.py")
  assert(ok, "python: " .. out)
  return out
end

local ok, err = pcall(function()
  -- the database, made by Python's sqlite3 (NULLs, unicode levels, dates as text)
  python(string.format([[
import sqlite3, random
random.seed(5)
c = sqlite3.connect(%q)
c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n REAL, k INTEGER, s TEXT, u, flag BOOLEAN, day DATE, ts DATETIME, y TEXT)")
words = ["apple", "Zebra", "\u00c4pfel", "b", "apple pie", "ZZ", "\u65e5\u672c"]
rows = []
for i in range(1, 30012):
    rows.append((i,
                 None if i %% 7 == 0 else random.uniform(-1, 1) * 10 ** random.randint(-3, 6),
                 None if i %% 11 == 0 else random.randint(-10**12, 10**12),
                 None if i %% 5 == 0 else random.choice(words),
                 None if i %% 3 else "u%%d" %% (i %% 9),
                 None if i %% 13 == 0 else i %% 2,
                 "20%%02d-%%02d-%%02d" %% (i %% 30, 1 + i %% 12, 1 + i %% 28),
                 None if i %% 17 == 0 else "2024-02-29 %%02d:%%02d:%%02d.%%03d" %% (i %% 24, i %% 60, (i * 7) %% 60, i %% 1000),
                 random.choice(["cat", "dog", "eel"])))
c.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?)", rows)
c.commit()
]], db))

  local function compare(d, query, what)
    local csv = dir .. "/wb.csv"
    wb.save(d, csv)
    local good, out = run(string.format("%s %s/tests/tools/sql_compare.py %q %q %q", PY, src, csv, url, query))
    assert(good and out:match("^ok:"), what .. ": " .. out)
    print(what .. ": " .. out:gsub("\n$", ""))
  end

  local all = "SELECT * FROM t ORDER BY id"
  local d1 = wb.sql.read(url, "t")
  assert(d1:rows() == 30011 and d1:cols() == 9, "rows and columns")
  assert(table.concat(d1:types(), ",") == "number,number,number,category,category,number,number,number,category", table.concat(d1:types(), ","))
  assert(table.concat(d1:levels("s"), "|") == "ZZ|Zebra|apple|apple pie|b|\195\132pfel|\230\151\165\230\156\172", "levels sorted bytewise")
  compare(d1, all, "whole")
  local d3 = wb.sql.read(url, "t", {partition_column = "id", partitions = 3})
  compare(d3, all, "3 partitions over id")
  -- bounds narrower than the data: the first and last partitions take the rest
  local d5 = wb.sql.read(url, "t", {partition_column = "id", partitions = 5, bounds = {1000, 20000}})
  compare(d5, all, "5 partitions over bounds {1000, 20000}")
  -- a real column with NULLs, split at given points: NULLs come last
  local dn = wb.sql.read(url, "t", {partition_column = "n", bounds = {-1e7, -10, 0, 10, 1e7}})
  compare(dn, "SELECT * FROM t ORDER BY CASE WHEN n < -10 THEN 0 WHEN n < 0 THEN 1 WHEN n < 10 THEN 2 ELSE 3 END, id",
          "4 partitions over a real column")

  -- the codes do not depend on the partitions: the same bytes
  local function bytes(d, name)
    wb.save(d, dir .. "/" .. name .. ".npy")
    local f = assert(io.open(dir .. "/" .. name .. ".npy", "rb"))
    local b = f:read("a")
    f:close()
    local m = assert(io.open(dir .. "/" .. name .. ".npy.meta", "rb"))
    local meta = m:read("a"):gsub('"dataset_size": %d+', "")
    m:close()
    return b .. meta
  end
  local b1 = bytes(d1, "d1")
  assert(bytes(d3, "d3") == b1 and bytes(d5, "d5") == b1, "the same data whatever the partitions")

  -- labels, columns, a query, dtype
  local dl = wb.sql.read(url, "t", {label = "y", columns = {"n", "s", "day"}, partition_column = "id", partitions = 4})
  assert(dl:cols() == 3 and dl:label_name() == "y" and table.concat(dl:label_levels(), ",") == "cat,dog,eel")
  compare(dl, "SELECT n, s, day, y FROM t ORDER BY id", "labels and columns")
  local dd = wb.sql.read(url, "t", {drop = {"ts", "u"}, label = "flag"})
  assert(dd:cols() == 6 and not dd:label_levels(), "drop, numeric labels")
  compare(dd, "SELECT id, n, k, s, day, y, flag FROM t ORDER BY id", "drop and numeric labels")
  local q = "SELECT id, s, n * 2 AS n2, u FROM t WHERE id % 3 = 0"
  local dq = wb.sql.read(url, q .. ";", {partition_column = "id", partitions = 2})
  compare(dq, q .. " ORDER BY id", "a query in 2 partitions")
  local dt = wb.sql.read(url, "t", {columns = {"k", "s"}, dtype = {k = "category"}})
  assert(dt:types()[1] == "category")
  compare(dt, "SELECT CAST(k AS TEXT) AS k, s FROM t ORDER BY id", "dtype category on integers")
  do -- the bounds of a large table's column found by two threads, each scanning half of its rows
    -- (WB_SQL_TEST_SPLIT_ROWS: this small table counts as large): the same partitions, so the same
    -- data in the same order, over a real column with NULLs, an integer column and the rowid
    local WB = assert(os.getenv("WB_BUILD_DIR"), "WB_BUILD_DIR is not set") .. "/wb"
    for _, pc in ipairs({"n", "k", "id"}) do
      local mine = dir .. "/mine.csv"
      wb.save(wb.sql.read(url, "t", {partition_column = pc, partitions = 4}), mine)
      local good, o = run(string.format("WB_SQL_TEST_SPLIT_ROWS=2 %s -e %q && cmp %s %s/halves.csv && echo same", WB,
        string.format("wb.quiet(true) wb.threads(2) wb.save(wb.sql.read(%q, 't', {partition_column = %q, partitions = 4}), %q)",
                      url, pc, dir .. "/halves.csv"), mine, dir))
      assert(good and o:match("same"), "bounds from two halves over " .. pc .. ": " .. o)
    end
  end
  local de = wb.sql.read(url, "SELECT * FROM t WHERE id < 0", {partition_column = "id", partitions = 3})
  assert(de:rows() == 0 and de:cols() == 9, "an empty result")

  -- writing: one table per case, read back by pandas and by wb
  local out = "sqlite:" .. dir .. "/out.db"
  assert(wb.sql.write(d3, out, "back") == 30011)
  local back = wb.sql.read(out, "back", {partition_column = "id", partitions = 2})
  assert(bytes(back, "back") == b1, "written and read back: the same data")
  do -- pandas reads what wb wrote: numbers (dates as seconds) and text, NULLs as NULL
    local csv = dir .. "/wb.csv"
    wb.save(d1, csv)
    local good, o = run(string.format("%s %s/tests/tools/sql_compare.py %q %q %q", PY, src, csv, out, "SELECT * FROM back ORDER BY id"))
    assert(good and o:match("^ok:"), "pandas reads the written table: " .. o)
  end
  local e = pcall(wb.sql.write, d3, out, "back")
  assert(not e, "if_exists = fail by default")
  assert(wb.sql.write(d1:slice(1, 1000), out, "back", {if_exists = "replace"}) == 1000)
  assert(wb.sql.write(d1:slice(1001, 30011), out, "back", {if_exists = "append"}) == 29011)
  assert(bytes(wb.sql.read(out, "back"), "appended") == b1, "replace then append: the same data")
  do -- the parallel write (threads make the records of batches of rows; the writing connection copies
    -- them in order into the table, in its one transaction), made to take batches of 997 rows
    -- (WB_SQL_TEST_BATCH_ROWS) so that 30011 rows make 31: written by a wb of 2 threads, twice (the
    -- second replacing the first), the table equal row by row (rowids, storage classes, values) and in
    -- its schema to the one this process writes in one thread (30011 rows are too few for batches)
    local one, par = dir .. "/one.db", dir .. "/par.db"
    assert(wb.sql.write(d1, "sqlite:" .. one, "back") == 30011)
    local WB = assert(os.getenv("WB_BUILD_DIR"), "WB_BUILD_DIR is not set") .. "/wb"
    for _, how in ipairs({"fail", "replace"}) do
      local good, o = run(string.format("WB_SQL_TEST_BATCH_ROWS=997 %s -e %q", WB, string.format(
        "wb.quiet(true) wb.threads(2) print(wb.sql.write(wb.sql.read(%q, 't'), %q, 'back', {if_exists = %q}))",
        url, "sqlite:" .. par, how)))
      assert(good and o:match("30011"), "the parallel write (" .. how .. "): " .. o)
    end
    local o = python(string.format([[
import sqlite3
def dump(path):
    c = sqlite3.connect(path)
    types = ", ".join("typeof(%%s)" %% d[0] for d in c.execute("SELECT * FROM back LIMIT 1").description)
    return (c.execute("SELECT sql FROM sqlite_master WHERE name = 'back'").fetchall(),
            c.execute("SELECT rowid, *, %%s FROM back ORDER BY rowid" %% types).fetchall(),
            c.execute("PRAGMA integrity_check").fetchall())
a, b = dump(%q), dump(%q)
print("rows", len(a[1]), len(b[1]), "equal" if a == b else "DIFFER", b[2])
]], one, par))
    assert(o:match("^rows 30011 30011 equal %[%('ok',%)%]"), "the parallel write's table: " .. o)
  end
  -- labels and a vector
  wb.sql.write(dl, out, "labelled")
  local rl = wb.sql.read(out, "labelled", {label = "y"})
  assert(bytes(rl, "rl") == bytes(dl, "dl"), "labels written as a column and read back")
  wb.sql.write(dl:labels(), out, "vec")
  local rv = wb.sql.read(out, "vec")
  assert(rv:names()[1] == "y" and rv:rows() == 30011, "a vector under its name")
  wb.sql.write(wb.vector({1.5, 2, 0 / 0}), out, "plain")
  assert(wb.sql.read(out, "plain"):names()[1] == "value", "an unnamed vector as value")
  -- result tables: grid search results, metrics
  local g = wb.gridsearch("logreg", wb.datagen.classification{n = 2000, features = 4, seed = 1}, {C = {0.1, 1, 10}}, {folds = 3})
  assert(wb.sql.write(g.results, out, "grid") == 3)
  wb.sql.write({accuracy = 0.875, model = "logreg", n = 2000, ok = true}, out, "metrics")
  -- a wb.bench table: its columns in its order, missing cells NULL
  local bt = wb.bench.run{workloads = {{name = "sum", data = "classification", run = function(ctx) return ctx.data:rows() end}},
                          sizes = {300, 600}, executors = {"local:1"}, repeats = 1, tmpdir = dir}
  assert(wb.sql.write(bt, out, "bench") == 2)
  local o = python(string.format([[
import sqlite3
c = sqlite3.connect(%q)
print(c.execute("SELECT COUNT(*), MIN(rank), MAX(rank), typeof(rank), typeof(C) FROM grid").fetchone())
print(c.execute("SELECT * FROM metrics").fetchall())
print([r[1] for r in c.execute("PRAGMA table_info(bench)")])
print(c.execute("SELECT workload, n, executor, typeof(median_s), median_s > 0, quality IS NULL FROM bench ORDER BY n").fetchall())
]], dir .. "/out.db"))
  assert(o:match("%(3, 1, 3, 'integer', 'real'%)"), "grid results: " .. o)
  assert(o:find("[(0.875, 'logreg', 2000, 1)]", 1, true), "metrics: " .. o)
  local want = {}
  for i, c in ipairs(bt.columns) do want[i] = "'" .. c .. "'" end
  assert(o:find("[" .. table.concat(want, ", ") .. "]", 1, true), "bench columns: " .. o)
  assert(o:find("[('sum', 300, 'local:1', 'real', 1, 1), ('sum', 600, 'local:1', 'real', 1, 1)]", 1, true), "bench rows: " .. o)
  -- a table name with quotes and a semicolon: quoted, never pasted
  local weird = 'we"ird; DROP TABLE back; --'
  wb.sql.write(d1:slice(1, 10), out, weird)
  local w = wb.sql.read(out, weird)
  assert(w:rows() == 10 and wb.sql.read(out, "back"):rows() == 30011, "the odd name is one table, back is still there")
end)
os.execute("rm -rf " .. dir)
assert(ok, err)
print("sql_sqlite: ok")
