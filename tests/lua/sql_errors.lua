-- sql_errors.lua — wb.sql's bad input, each with its message: URLs (no
-- password ever quoted), a server that is down, a missing file and a file
-- that is no database, a missing table or column (the columns listed), a
-- syntax error (the database's message and the position, with a caret), a
-- partition column that holds text, a value that does not convert (and
-- dtype to read it), numbers and text in one untyped column (within and
-- across partitions), too many levels, bad options, appending columns the
-- table lacks, table names with quotes and semicolons (quoted, never run),
-- and a failed write that leaves nothing (one transaction). Reading never
-- changes the file (read-only).
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local db = dir .. "/e.db"
local url = "sqlite:" .. db

local function fails(pattern, f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  e = tostring(e)
  assert(e:find(pattern), "got: " .. e .. "\nexpected: " .. pattern)
  return e
end

local ok, err = pcall(function()
  -- a small database written by wb itself, then odd tables added by SQLite's own SQL
  local rows = {}
  for i = 1, 200 do rows[i] = {i, i * 0.5} end
  local d = wb.dataset(rows):names({"id", "v"})
  wb.sql.write(d, url, "t")
  local out = dir .. "/setup.sql"
  local f = assert(io.open(out, "w"))
  f:write([[
CREATE TABLE bad (id INTEGER PRIMARY KEY, k INTEGER, day DATE);
INSERT INTO bad VALUES (1, 10, '2024-01-02'), (2, 'oops', '2024-01-03'), (3, 30, 'soon');
CREATE TABLE mixed (id INTEGER PRIMARY KEY, v);
CREATE TABLE strict (id INTEGER PRIMARY KEY, v REAL NOT NULL);
INSERT INTO strict VALUES (1, 1.0), (2, 2.0);
CREATE TABLE many (s TEXT);
INSERT INTO many VALUES ('a'), ('b'), ('c'), ('d');
]])
  for i = 1, 100 do f:write(string.format("INSERT INTO mixed VALUES (%d, %d);\n", i, i)) end
  for i = 101, 200 do f:write(string.format("INSERT INTO mixed VALUES (%d, 'x%d');\n", i, i)) end
  f:close()
  -- (SQLite's shell is not needed: Python's sqlite3 runs the script)
  assert(os.execute(string.format("/usr/bin/python3 -c \"import sqlite3; c = sqlite3.connect('%s'); c.executescript(open('%s').read()); c.commit()\"", db, out)))
  local function stamp()
    local p = io.popen("stat -c '%s %Y' " .. db .. " && md5sum " .. db)
    local s = p:read("a")
    p:close()
    return s
  end
  local before = stamp()

  -- URLs
  fails("^wb%.sql%.read: bad URL: unknown kind of database 'foo:'", wb.sql.read, "foo://x", "t")
  fails("^wb%.sql%.read: bad URL: no kind of database", wb.sql.read, "data.db", "t")
  fails("bad URL 'sqlite:': no file", wb.sql.read, "sqlite:", "t")
  fails("a host is not allowed", wb.sql.read, "sqlite://host/x.db", "t")
  fails("in%-memory database", wb.sql.read, "sqlite::memory:", "t")
  local e = fails("^wb%.sql%.read: bad URL: invalid percent%-encoded token", wb.sql.read, "postgresql://wb:sEcr%zzet77@127.0.0.1:5432/db", "t")
  assert(not e:find("sEcr") and not e:find("et77"), "the password shows: " .. e)
  e = fails("invalid integer value", wb.sql.read, "postgresql://wb:hunter2pw@127.0.0.1:notaport/db", "t")
  assert(not e:find("hunter2pw"), "the password shows: " .. e)
  -- a server that is down (nothing listens on port 1): libpq's message, no password
  e = fails("^wb%.sql%.read: postgresql://wb@127%.0%.0%.1:1/db: connection to server at \"127%.0%.0%.1\", port 1 failed", wb.sql.read,
            "postgresql://wb:hunter2pw@127.0.0.1:1/db", "t")
  assert(not e:find("hunter2pw"), "the password shows: " .. e)
  e = fails("^wb%.sql%.write: postgresql://wb@127%.0%.0%.1:1/db: connection to server", wb.sql.write, d,
            "postgresql://wb@127.0.0.1:1/db?password=hunter2pw", "t")
  assert(not e:find("hunter2pw"), "the password shows: " .. e)

  -- files
  fails("sqlite:" .. dir:gsub("%p", "%%%0") .. "/nope%.db: cannot open %(No such file or directory%)", wb.sql.read, "sqlite:" .. dir .. "/nope.db", "t")
  local junk = assert(io.open(dir .. "/junk.db", "w"))
  junk:write(string.rep("not a database\n", 100))
  junk:close()
  fails("file is not a database", wb.sql.read, "sqlite:" .. dir .. "/junk.db", "t")

  -- tables, columns, queries
  fails("^wb%.sql%.read: sqlite:.*: no such table: nope$", wb.sql.read, url, "nope")
  fails('columns: no column "zz" in table "t" %(its columns: id, v%)', wb.sql.read, url, "t", {columns = {"id", "zz"}})
  fails('label: no column "y" in table "t"', wb.sql.read, url, "t", {label = "y"})
  fails('partition_column: no column "ID2" in table "t"', wb.sql.read, url, "t", {partition_column = "ID2"})
  fails('dtype: no column "w" in the query', wb.sql.read, url, "SELECT id FROM t", {dtype = {w = "number"}})
  e = fails('near "FROM": syntax error %(position 12%)', wb.sql.read, url, "SELECT id, FROM t")
  assert(e:find("\n  SELECT id, FROM t\n             ^", 1, true), "the caret under FROM: " .. e)
  fails("two columns named \"id\"", wb.sql.read, url, "SELECT id, v AS id FROM t")
  fails("no columns to read", wb.sql.read, url, "t", {drop = {"id", "v"}})

  -- partition columns
  fails('the partition column "s" of table "many" is TEXT: range partitions need a number', wb.sql.read, url, "many", {partition_column = "s"})
  fails('the partition column "v" holds text %("x101"%)', wb.sql.read, url, "SELECT v FROM mixed WHERE id > 100", {partition_column = "v"})
  fails("bounds: 4 values make 3 partitions, not partitions = 2", wb.sql.read, url, "t", {partition_column = "id", bounds = {1, 5, 9, 20}, partitions = 2})

  -- values
  fails('row 2, column "k" %(declared INTEGER%): "oops" does not convert to a number; SQLite keeps any value in any column: dtype = {k = "category"} reads the column as text',
        wb.sql.read, url, "bad", {columns = {"k"}})
  local k = wb.sql.read(url, "bad", {columns = {"k"}, dtype = {k = "category"}})
  assert(table.concat(k:levels("k"), ",") == "10,30,oops", "dtype category reads it")
  fails('row 3, column "day" %(declared DATE%): "soon" is not a date', wb.sql.read, url, "bad", {columns = {"day"}})
  fails('numbers %(row 1%) and text %(row 101%) in one column', wb.sql.read, url, "mixed")
  fails('column "v": numbers in partition 1 %(its row 1%) and text in partition 2 %(its row 1%)', wb.sql.read, url, "mixed",
        {partition_column = "id", bounds = {1, 101, 201}})
  assert(wb.sql.read(url, "mixed", {dtype = {v = "category"}}):levels("v")[1] == "1", "dtype category: numbers as text")
  fails('partition 2 of 2 %("id" >= 101 or NULL%): row 1, column "v" %(declared %(none%)%): "x101" does not convert to a number; dtype says number',
        wb.sql.read, url, "mixed", {dtype = {v = "number"}, partition_column = "id", bounds = {1, 101, 201}})
  fails("more than 3 distinct values %(the limit of levels of a category column, max_levels = 3", wb.sql.read, url, "many", {max_levels = 3})

  -- options
  fails("unknown option 'partition_col' %(options: partition_column,", wb.sql.read, url, "t", {partition_col = "id"})
  fails("bounds must be finite and increasing, got bounds%[2%] = 1", wb.sql.read, url, "t", {partition_column = "id", bounds = {5, 1}})
  fails("partitions must be an integer in 1", wb.sql.read, url, "t", {partition_column = "id", partitions = 0})
  fails('dtype.v must be "number" or "category", got text', wb.sql.read, url, "t", {dtype = {v = "text"}})
  fails('if_exists must be "fail", "replace" or "append", got overwrite', wb.sql.write, d, url, "t", {if_exists = "overwrite"})
  fails("dataset, vector or result table expected, got number", wb.sql.write, 5, url, "t")
  fails("table name expected, got an empty string", wb.sql.write, d, url, "")

  -- writing
  fails('the table "t" exists %(if_exists = "replace" replaces it, "append" adds the rows%)', wb.sql.write, d, url, "t")
  fails('the table "t" has no column "zz" %(its columns: "id", "v"%)', wb.sql.write, d:rename({v = "zz"}), url, "t", {if_exists = "append"})
  -- a write that fails on its last rows leaves the table as it was: one transaction
  local nulls = {}
  for i = 1, 5000 do nulls[i] = {i + 10, i < 5000 and i or 0 / 0} end
  fails("NOT NULL constraint failed: strict%.v", wb.sql.write, wb.dataset(nulls):names({"id", "v"}), url, "strict", {if_exists = "append"})
  assert(wb.sql.read(url, "strict"):rows() == 2, "nothing of the failed write is left")
  -- names with quotes and semicolons are one quoted identifier
  fails('no such table: t"; DROP TABLE t; %-%-', wb.sql.read, url, 't"; DROP TABLE t; --')
  wb.sql.write(d, url, "x'); DROP TABLE t; --")
  assert(wb.sql.read(url, "x'); DROP TABLE t; --"):rows() == 200 and wb.sql.read(url, "t"):rows() == 200, "t is still there")

  -- reading changed nothing in a file opened for reading (the writes above are done before)
  before = stamp()
  wb.sql.read(url, "t", {partition_column = "id", partitions = 3})
  assert(stamp() == before, "reading changed the file")
  os.execute("chmod 444 " .. db)
  assert(wb.sql.read(url, "t"):rows() == 200, "a read-only file is read")
end)
os.execute("rm -rf " .. dir)
assert(ok, err)
print("sql_errors: ok")
