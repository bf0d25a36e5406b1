#!/bin/bash
# sql_postgres.sh — wb.sql against a real PostgreSQL server (Debian's
# postgresql package) started here in a temporary folder on a free port of
# 127.0.0.1 and a socket folder, stopped at the end (tests/tools/pg_server.sh).
#  - a table of every type wb reads (integers of 2, 4 and 8 bytes, real,
#    double, numeric, boolean, date, time, timestamp, timestamptz, text,
#    varchar, char, an enum, NULLs everywhere) read whole, in 2 and 5 range
#    partitions, with labels, as a query, with dtype: every cell equal to
#    pandas' (sql_compare.py), no row missing or twice, the same bytes for
#    every partitioning; binary COPY only (the server's log);
#  - partitions share one snapshot: rows inserted and deleted while a read
#    of 4 partitions on 2 threads runs are not seen by the later partitions;
#  - writing: COPY FROM STDIN in one transaction (a table made, replaced,
#    appended to; an existing table of int4, real, numeric, bool, date,
#    timestamptz and text columns takes the numbers in their binary forms);
#    a value that does not fit leaves nothing; result tables; odd names;
#  - bad input: a wrong password (URL, PGPASSWORD: never in the message), a
#    missing table or column, a syntax error with the server's message and
#    position, a text partition column, text that is not a number, a
#    connection killed mid-read (pg_terminate_backend: the partition named,
#    no dataset), appending columns the table lacks;
#  - peak memory of a read (one streaming read, 2 partitions; PostgreSQL and
#    SQLite) at most 1.5 x the dataset's bytes plus 24 MB;
#  - the progress line while a long read or write runs on a terminal.
set -u
WB=$(readlink -f "${1:?usage: $0 path/to/wb}")
SRC=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d /tmp/wbsqlpg.XXXXXX)
PGDIR=$(mktemp -d /tmp/wbpg.XXXXXX) # its own: the server's user must reach it
cleanup() {
  bash "$SRC/tests/tools/pg_server.sh" stop "$PGDIR"
  rm -rf "$T"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$PGDIR/data/log" ] && tail -5 "$PGDIR/data/log" >&2
  exit 1
}
pass() { echo "ok: $*"; }
/usr/bin/python3 -c "import pandas, sqlalchemy, psycopg2" 2>/dev/null ||
  { echo "SKIP: /usr/bin/python3 lacks pandas, sqlalchemy or psycopg2 (Debian: python3-pandas python3-sqlalchemy python3-psycopg2)"; exit 77; }
PORT=$(bash "$SRC/tests/tools/pg_server.sh" start "$PGDIR")
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "the PostgreSQL server did not start"
set -a
. "$PGDIR/env"
set +a
PW=$(cat "$PGDIR/pw")
export URL="postgresql://wb@/test?host=$PGHOST&port=$PGPORT" SRC T PW
pass "PostgreSQL on 127.0.0.1:$PORT"

# --- the data: every type, NULLs, an enum; a function that makes a query slow
/usr/bin/python3 - <<'PY' || fail "making the tables"
import os, random, psycopg2, psycopg2.extras
random.seed(3)
c = psycopg2.connect(host=os.environ["PGHOST"], port=os.environ["PGPORT"], user="wb", dbname="test")
k = c.cursor()
k.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
k.execute("""CREATE TABLE t (id int8 PRIMARY KEY, i2 int2, i4 int4, r real, f float8, n numeric(12, 4), b bool,
             d date, tm time, ts timestamp, tz timestamptz, s text, v varchar(20), ch char(3), m mood, y text)""")
words = ["apple", "Zebra", "\u00c4pfel", "b", "apple pie", "ZZ", "\u65e5\u672c", "O'Neil", 'say "hi"']
rows = []
for i in range(1, 40014):
    nul = lambda every, v: None if i % every == 0 else v
    rows.append((i, nul(7, random.randint(-32768, 32767)), nul(11, random.randint(-2**31, 2**31 - 1)),
                 nul(13, random.uniform(-1e6, 1e6)), nul(5, random.uniform(-1, 1) * 10 ** random.randint(-30, 30)),
                 nul(9, round(random.uniform(-1e6, 1e6), 4)), nul(4, i % 3 == 0),
                 nul(17, "%04d-%02d-%02d" % (1900 + i % 200, 1 + i % 12, 1 + i % 28)),
                 nul(19, "%02d:%02d:%02d.%06d" % (i % 24, i % 60, (3 * i) % 60, i % 1000000)),
                 nul(23, "2024-02-29 %02d:%02d:%02d.%06d" % (i % 24, i % 60, (7 * i) % 60, (i * 37) % 1000000)),
                 nul(29, "1999-12-31 23:%02d:%02d.%06d+05:30" % (i % 60, (11 * i) % 60, (i * 91) % 1000000)),
                 nul(3, random.choice(words)), nul(31, "v%d" % (i % 50)), nul(37, "c%d" % (i % 4)),
                 nul(41, ["sad", "ok", "happy"][i % 3]), random.choice(["cat", "dog", "eel"])))
psycopg2.extras.execute_values(k, "INSERT INTO t VALUES %s", rows, page_size=2000)
k.execute("CREATE TABLE fixed (id int8 PRIMARY KEY, v float8, s text)")
k.execute("INSERT INTO fixed SELECT g, g * 0.25, 'c' || lpad((g * 7919 % 1000)::text, 3, '0') FROM generate_series(1, 10000) g")
k.execute("CREATE TABLE snap (id int8 PRIMARY KEY, v float8)")
k.execute("INSERT INTO snap SELECT g, g * 0.5 FROM generate_series(1, 100000) g")
k.execute("""CREATE FUNCTION slow(i int8) RETURNS int8 AS $$ BEGIN
               IF i % 10000 = 0 THEN PERFORM pg_sleep(0.3); END IF; RETURN i; END $$ LANGUAGE plpgsql""")
k.execute("""CREATE TABLE typed (i int4, r real, n numeric, b bool, dt date, ts timestamptz, tx text, i8 int8, sm int2)""")
c.commit()
PY
pass "tables made"

# --- reads, writes and bad input (one wb run)
cat > "$T/main.lua" <<'LUA'
local URL, SRC, T, PW = os.getenv("URL"), os.getenv("SRC"), os.getenv("T"), os.getenv("PW")
local PGHOST, PGPORT = os.getenv("PGHOST"), os.getenv("PGPORT")
local function run(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  return p:close(), out
end
-- every cell against pandas, both sides sorted by id: a scan returns rows in
-- their order on disk, which is not the order they were inserted in
local function compare(d, query, what, key, reals)
  local csv = T .. "/wb.csv"
  wb.save(d, csv)
  local ok, out = run(string.format("/usr/bin/python3 %s/tests/tools/sql_compare.py %q %q %q %q %q", SRC, csv, URL, query,
                                    reals or "r", key or ""))
  assert(ok and out:match("^ok:"), what .. ": " .. out)
  print(what .. ": " .. out:gsub("\n$", ""))
end
-- the rows come partition by partition: the partition column's value ranges
-- (split at `at`, NULLs in the last) never go back
local function in_order(d, col, at, what)
  local v = wb.core.labels(d:col(col))
  local last = 0
  for i = 1, #v do
    local k = #at
    if v[i] == v[i] then
      k = 0
      while k < #at and v[i] >= at[k + 1] do k = k + 1 end
    end
    assert(k >= last, string.format("%s: row %d (%s = %s) belongs to partition %d, after partition %d", what, i, col, v[i], k + 1, last + 1))
    last = k
  end
end
local function bytes(d, name)
  wb.save(d, T .. "/" .. name .. ".npy")
  local f = assert(io.open(T .. "/" .. name .. ".npy", "rb"))
  local b = f:read("a")
  f:close()
  local m = assert(io.open(T .. "/" .. name .. ".npy.meta", "rb"))
  local meta = m:read("a"):gsub('"dataset_size": %d+', "")
  m:close()
  return b .. meta
end
local function fails(pattern, f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  e = tostring(e)
  assert(e:find(pattern), "got: " .. e .. "\nexpected: " .. pattern)
  assert(not e:find(PW, 1, true), "the password shows: " .. e)
  return e
end

local all = "SELECT * FROM t"
local d1 = wb.sql.read(URL, "t")
assert(d1:rows() == 40013 and d1:cols() == 16)
assert(table.concat(d1:types(), ",") ==
       "number,number,number,number,number,number,number,number,number,number,number,category,category,category,category,category",
       table.concat(d1:types(), ","))
assert(table.concat(d1:levels("m"), ",") == "happy,ok,sad", "an enum's levels, sorted")
compare(d1, all, "whole", "id")
local d2 = wb.sql.read(URL, "t", {partition_column = "id", partitions = 2})
compare(d2, all, "2 partitions", "id")
in_order(d2, "id", {20007}, "2 partitions")
local d5 = wb.sql.read(URL, "t", {partition_column = "id", partitions = 5, bounds = {5000, 30000}})
compare(d5, all, "5 partitions over bounds {5000, 30000}", "id")
in_order(d5, "id", {10000, 15000, 20000, 25000}, "5 partitions")
-- a date and an int4 column as partition columns: NULLs come last
local dd = wb.sql.read(URL, "t", {partition_column = "d", partitions = 3})
compare(dd, all, "3 partitions over a date column", "id")
local span = wb.sql.read(URL, "SELECT extract(epoch FROM min(d)::timestamp)::float8 AS lo, extract(epoch FROM max(d)::timestamp)::float8 AS hi FROM t"):row(1)
local dmin, dmax = span[1], span[2]
in_order(dd, "d", {dmin + (dmax - dmin) / 3, dmin + (dmax - dmin) * 2 / 3}, "date partitions")
local dl = wb.sql.read(URL, "t", {label = "y", columns = {"id", "f", "s", "tz", "m", "i4"}, partition_column = "i4", partitions = 3})
assert(dl:label_name() == "y" and table.concat(dl:label_levels(), ",") == "cat,dog,eel")
compare(dl, "SELECT id, f, s, tz, m, i4, y FROM t", "labels, columns, 3 partitions over an int4 column", "id")
span = wb.sql.read(URL, "SELECT min(i4)::float8 AS lo, max(i4)::float8 AS hi FROM t"):row(1)
local lo, hi = span[1], span[2]
in_order(dl, "i4", {lo + (hi - lo + 1) // 3, lo + (hi - lo + 1) * 2 // 3}, "int4 partitions")
local q = "SELECT id, s || '!' AS s2, f * 2 AS f2, n::text AS nt FROM t WHERE id % 7 = 1"
compare(wb.sql.read(URL, q .. ";", {partition_column = "id", partitions = 2, dtype = {nt = "number", id = "category"}}),
        "SELECT id::text AS id, s2, f2, nt::float8 AS nt FROM (" .. q .. ") q", "a query with dtype")
local de = wb.sql.read(URL, "SELECT * FROM t WHERE false", {partition_column = "id", partitions = 3})
assert(de:rows() == 0 and de:cols() == 16, "an empty result")
-- the codes do not depend on the partitions (a table whose rows sit on disk in id order: rows of one size)
local f1 = bytes(wb.sql.read(URL, "fixed"), "f1")
assert(bytes(wb.sql.read(URL, "fixed", {partition_column = "id", partitions = 2}), "f2") == f1 and
       bytes(wb.sql.read(URL, "fixed", {partition_column = "id", partitions = 7, bounds = {100, 9000}}), "f7") == f1,
       "the same data whatever the partitions")

-- writing: a table made, read by pandas and by wb
assert(wb.sql.write(d2, URL, "back") == 40013)
compare(d1, "SELECT * FROM back", "written and read by pandas", "id", "")
compare(wb.sql.read(URL, "back", {partition_column = "id", partitions = 3}), all, "written and read back by wb", "id")
fails('the table "back" exists', wb.sql.write, d1, URL, "back")
wb.sql.write(d1:slice(1, 20000), URL, "back", {if_exists = "replace"})
wb.sql.write(d1:slice(20001, 40013), URL, "back", {if_exists = "append"})
compare(wb.sql.read(URL, "back"), all, "replace, then append", "id")
fails('the table "back" has no column "zz" %(its columns: "id", "i2",', wb.sql.write, d1:rename({y = "zz"}), URL, "back", {if_exists = "append"})
-- an existing table of other types takes the numbers in their binary forms
local tv = wb.sql.read(URL, "SELECT i4 AS i, r, n, b::int AS b, d AS dt, tz AS ts, s AS tx, id AS i8, i2 AS sm FROM t ORDER BY id")
assert(wb.sql.write(tv, URL, "typed", {if_exists = "append"}) == 40013)
compare(tv, "SELECT * FROM typed", "appended into int4, real, numeric, bool, date, timestamptz, text, int8, int2", "i8")
local bad = wb.dataset({{1, 2.5}, {2, 3}}):names({"i", "r"})
fails('row 1, column "i": 2%.5 is not a whole number', wb.sql.write, bad:rename({i = "r", r = "i"}), URL, "typed", {if_exists = "append"})
fails('row 2, column "sm": 70000 is out of range', wb.sql.write, wb.dataset({{1}, {70000}}):names({"sm"}), URL, "typed", {if_exists = "append"})
assert(wb.sql.read(URL, "typed"):rows() == 40013, "the failed writes left nothing")
local g = wb.gridsearch("logreg", wb.datagen.classification{n = 2000, features = 4, seed = 1}, {C = {0.1, 1, 10}}, {folds = 3})
assert(wb.sql.write(g.results, URL, "grid") == 3)
local gr = wb.sql.read(URL, "SELECT rank, \"C\" FROM grid ORDER BY rank")
assert(gr:rows() == 3 and gr:row(1)[1] == 1, "result table")
local weird = 'we"ird; DROP TABLE t; --'
wb.sql.write(d1:slice(1, 10), URL, weird)
assert(wb.sql.read(URL, weird):rows() == 10 and wb.sql.read(URL, "t"):rows() == 40013, "an odd name is one table")

-- bad input
fails('ERROR: relation "nope" does not exist %(position 15%)\nLINE 1: SELECT %* FROM "nope"\n' .. string.rep(" ", 22) .. '%^', wb.sql.read, URL, "nope")
fails('columns: no column "zz" in table "t" %(its columns: id, i2, i4,', wb.sql.read, URL, "t", {columns = {"zz"}})
fails('ERROR: column "nope" does not exist %(position 12%)\nLINE 1: SELECT id, nope FROM t\n' .. string.rep(" ", 19) .. '%^', wb.sql.read, URL, "SELECT id, nope FROM t")
fails('ERROR: syntax error at or near "FROM" %(position 29%)\nLINE 2:   FROM t\n' .. string.rep(" ", 10) .. '%^', wb.sql.read, URL, "SELECT id, s FROM t WHERE\n  FROM t")
fails('the partition column "s" of table "t" is text: range partitions need a number, date or timestamp column', wb.sql.read, URL, "t", {partition_column = "s"})
fails('the partition column "b" of table "t" is boolean', wb.sql.read, URL, "t", {partition_column = "b"})
fails('partition 1 of 2 %("id" < 20007%): row %d+, column "s": "[^"]+" does not convert to a number %(dtype says number%)', wb.sql.read, URL, "t",
      {partition_column = "id", partitions = 2, dtype = {s = "number"}})
-- passwords: wrong in the URL, wrong in PGPASSWORD; right in the URL
local tcp = "postgresql://wb:%s@127.0.0.1:" .. PGPORT .. "/test"
fails('^wb%.sql%.read: postgresql://wb@127%.0%.0%.1:' .. PGPORT .. '/test: connection to server at "127%.0%.0%.1", port ' .. PGPORT ..
      ' failed: FATAL:  password authentication failed for user "wb"', wb.sql.read, string.format(tcp, "Wr0ngPassw0rd"), "t")
local e = fails("password authentication failed", wb.sql.read, string.format(tcp, PW:sub(1, 12) .. "x"), "t")
assert(not e:find(PW:sub(1, 12), 1, true), "part of the password shows: " .. e)
assert(wb.sql.read(string.format(tcp, PW), "t", {partition_column = "id", partitions = 2}):rows() == 40013, "the password of the URL")
print("reads, writes and bad input: ok")
LUA
"$WB" "$T/main.lua" >"$T/main.out" 2>&1 || fail "$(cat "$T/main.out")"
grep -v '^ok\|^reads' "$T/main.out" | head -3
pass "$(tail -1 "$T/main.out")"
# the partitions were read by binary COPY, each in its own session importing the snapshot
grep -q 'app=wb sql.read p2/2 pid [0-9]*: LOG:  statement: COPY (SELECT "id", "i2", .*"n"::float8, .*"m"::text, "y" FROM "t" WHERE ("id" >= 20007 OR "id" IS NULL)) TO STDOUT (FORMAT binary)' "$PGDIR/data/log" ||
  fail "no binary COPY of partition 2 in the server's log"
grep -q "app=wb sql.read p2/2 pid [0-9]*: LOG:  statement: SET TRANSACTION SNAPSHOT '[0-9A-F-]*'" "$PGDIR/data/log" ||
  fail "partition 2 did not import the snapshot"
grep "app=wb sql" "$PGDIR/data/log" | grep -q "LIMIT\|OFFSET" && fail "LIMIT/OFFSET in a statement of wb"
pass "binary COPY per partition, one snapshot, no LIMIT/OFFSET"
# a wrong PGPASSWORD is not shown either
out=$(PGPASSWORD=NotThePassword99 "$WB" -e "wb.sql.read('postgresql://wb@127.0.0.1:$PGPORT/test', 't')" 2>&1)
echo "$out" | grep -q 'password authentication failed for user "wb"' || fail "PGPASSWORD: $out"
echo "$out" | grep -q NotThePassword99 && fail "PGPASSWORD shows: $out"
pass "a wrong PGPASSWORD: $(echo "$out" | head -1 | cut -c1-120)"

# --- one snapshot: rows inserted and deleted while the read runs are not seen
# (4 partitions on 2 threads: partitions 3 and 4 start after the change)
cat > "$T/snap.lua" <<'LUA'
wb.threads(2)
local d = wb.sql.read(os.getenv("URL"), "SELECT slow(id) AS id, v FROM snap", {partition_column = "id", partitions = 4, bounds = {1, 100000}})
local s = wb.core.map_sum("core.colsum", d, {}, "", 2)
print(string.format("rows %d sum %.1f", d:rows(), s[1]))
LUA
"$WB" "$T/snap.lua" >"$T/snap.out" 2>&1 &
W=$!
for _ in $(seq 200); do
  n=$(psql -Atc "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'wb sql.read p_/4%' AND query LIKE 'COPY%'")
  [ "$n" -ge 1 ] 2>/dev/null && break
  sleep 0.05
done
psql -q -c "DELETE FROM snap WHERE id > 90000; INSERT INTO snap SELECT g, 0 FROM generate_series(100001, 100500) g" || fail "changing snap"
for _ in $(seq 600); do kill -0 $W 2>/dev/null || break; sleep 0.1; done
kill -0 $W 2>/dev/null && { kill $W; fail "the snapshot read did not end in 60 s"; }
wait $W || fail "snapshot read: $(cat "$T/snap.out")"
grep -q "^rows 100000 sum 5000050000.0$" "$T/snap.out" || fail "the read saw the changes made while it ran: $(cat "$T/snap.out")"
pass "one snapshot for 4 partitions while rows changed: $(cat "$T/snap.out")"

# --- the connection killed mid-read: the partition named, no dataset
cat > "$T/kill.lua" <<'LUA'
local ok, e = pcall(wb.sql.read, os.getenv("URL"), "SELECT slow(g) AS id, g * 0.5 AS v FROM generate_series(1, 200000) g",
                    {partition_column = "id", partitions = 2, bounds = {1, 200000}})
print(ok and "READ" or e)
LUA
"$WB" "$T/kill.lua" >"$T/kill.out" 2>&1 &
W=$!
killed=
for _ in $(seq 200); do
  killed=$(psql -Atc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'wb sql.read p1/2%' AND query LIKE 'COPY%' AND now() - query_start > interval '0.5 s'")
  [ "$killed" = t ] && break
  sleep 0.05
done
[ "$killed" = t ] || fail "no partition's backend to terminate"
for _ in $(seq 300); do kill -0 $W 2>/dev/null || break; sleep 0.1; done
kill -0 $W 2>/dev/null && { kill $W; fail "the read did not end in 30 s after its backend was killed"; }
wait $W
tr '\n' ' ' <"$T/kill.out" | grep -q "^wb.sql.read: postgresql://wb@$PGHOST:$PGPORT/test: partition 1 of 2 (\"id\" < 100001): .*terminating connection due to administrator command.*([a-z ]*after [0-9]* rows)" ||
  fail "connection lost: $(cat "$T/kill.out")"
pass "connection killed mid-read: $(head -c 300 "$T/kill.out" | tr '\n' ' ')"

# --- peak memory: at most 1.5 x the dataset's bytes plus a fixed amount
# (rows streamed by binary COPY or SQLite's steps into the partitions, never
# one whole result, never every row twice), for one streaming read and for 2
# range partitions on 2 threads, from PostgreSQL and from SQLite; each read in
# a process of its own. A sanitizer's allocator keeps freed memory in a
# quarantine: there the figures are printed, not checked.
psql -q -c "CREATE TABLE wide AS SELECT g::int8 AS id$(for k in 1 2 3 4 5 6 7 8 9; do printf ', CASE WHEN g %% %d = 0 THEN NULL ELSE sin(g * %d) END AS x%d' $((k + 6)) $k $k; done),
  CASE WHEN g % 13 = 0 THEN NULL ELSE 'c' || (g::int8 * 7919 % 500) END AS s FROM generate_series(1, 1000000) g" || fail "making wide"
cat > "$T/mem.lua" <<'LUA'
wb.threads(2)
local url, pc = arg[1], arg[2]
if arg[3] then wb.sql.write(wb.sql.read(url, "wide"), arg[3], "wide") return end
collectgarbage()
local base = wb.core.rss()
local d = wb.sql.read(url, "wide", pc ~= "" and {partition_column = pc, partitions = 2} or nil)
assert(d:rows() == 1000000 and d:cols() == 11)
print(string.format("MEM %d %d %d", d:rows() * d:cols() * 8, base, wb.core.peak_rss()))
LUA
"$WB" "$T/mem.lua" "$URL" "" "sqlite:$T/wide.db" || fail "wide into SQLite"
checked=1
ldd "$WB" 2>/dev/null | grep -q "libasan\|libtsan" && checked=0
for src in "$URL" "sqlite:$T/wide.db"; do
  for pc in "" id; do
    out=$("$WB" "$T/mem.lua" "$src" "$pc" 2>&1) || fail "memory read of $src: $out"
    read -r bytes base peak <<<"$(echo "$out" | sed -n 's/^MEM //p')"
    [ -n "$peak" ] || fail "memory read of $src: $out"
    how="one streaming read"
    [ -n "$pc" ] && how="2 partitions"
    what="${src%%:*} $how: dataset $((bytes >> 20)) MB, peak $(((peak - base) >> 20)) MB over the $((base >> 20)) MB before"
    if [ $checked = 1 ]; then
      [ $((peak - base)) -le $((bytes * 3 / 2 + (24 << 20))) ] || fail "$what: more than 1.5 x the dataset + 24 MB"
      pass "$what (<= 1.5 x + 24 MB)"
    else
      pass "$what (a sanitizer build: not checked)"
    fi
  done
done

# --- the progress line on a terminal while a read runs
command -v script >/dev/null || fail "no script (util-linux) to run wb on a terminal"
cat > "$T/prog.lua" <<'LUA'
local d = wb.sql.read(os.getenv("URL"), "SELECT slow(g) AS id FROM generate_series(1, 40000) g")
print("ROWS " .. d:rows())
LUA
script -qfec "'$WB' '$T/prog.lua'" /dev/null >"$T/prog.out" 2>&1 </dev/null
tr '\r' '\n' <"$T/prog.out" >"$T/prog.lines"
grep -q "ROWS 40000" "$T/prog.lines" || fail "progress read: $(cat "$T/prog.lines")"
grep -q "sql.read [0-9]* [0-9.]*s  rows, [0-9]* rows/s, 0 of 1 partitions done" "$T/prog.lines" ||
  fail "no progress line: $(head -c 400 "$T/prog.lines")"
pass "progress: $(grep -a -m1 'sql.read [0-9]' "$T/prog.lines" | sed 's/\x1b\[K//g')"
# and while a long write runs (a trigger makes the server take 2 s over it)
psql -q <<'SQL' || fail "making wide_sink"
CREATE TABLE wide_sink (LIKE wide);
CREATE FUNCTION nap() RETURNS trigger AS $$ BEGIN
  IF NEW.id % 100000 = 0 THEN PERFORM pg_sleep(0.2); END IF; RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER nap BEFORE INSERT ON wide_sink FOR EACH ROW EXECUTE FUNCTION nap();
SQL
cat > "$T/progw.lua" <<'LUA'
local d = wb.sql.read("sqlite:" .. os.getenv("T") .. "/wide.db", "wide")
print("WROTE " .. wb.sql.write(d, os.getenv("URL"), "wide_sink", {if_exists = "append"}))
LUA
script -qfec "'$WB' '$T/progw.lua'" /dev/null >"$T/progw.out" 2>&1 </dev/null
tr '\r' '\n' <"$T/progw.out" >"$T/progw.lines"
grep -q "WROTE 1000000" "$T/progw.lines" || fail "progress write: $(cat "$T/progw.lines")"
grep -q "sql.write [0-9]*/1000000 ([0-9]*%) [0-9.]*s.*  rows, [0-9]* rows/s" "$T/progw.lines" ||
  fail "no progress line while writing: $(head -c 400 "$T/progw.lines")"
[ "$(psql -Atc 'SELECT count(*) FROM wide_sink')" = 1000000 ] || fail "wide_sink lacks rows"
pass "progress: $(grep -a 'sql.write [0-9]' "$T/progw.lines" | tail -1 | sed 's/\x1b\[K//g')"
echo "sql_postgres: ok"
