#!/bin/bash
# sql_cluster.sh — wb.sql.read on wb's cluster, against a PostgreSQL server
# started here (tests/tools/pg_server.sh) and a SQLite file:
#  - on a 2-worker local cluster (wb.cluster{workers = 2}) each partition's
#    query runs in a worker (the server's log names the connection of each
#    partition with its process id: the workers', never the driver's), the
#    dataset's partitions live on the workers, and the data is the same,
#    byte for byte, as the local read's (PostgreSQL and SQLite);
#  - a password given in the URL stays in the driver: the workers' tasks
#    fail to log in, saying how to give them one (PGPASSWORD, ~/.pgpass),
#    and never show it; with PGPASSWORD in the workers' environment it works;
#  - a worker killed while it reads a partition: the head runs the partition
#    again on the other worker and the read is complete and right;
#  - SQLite on a cluster needs every worker to see the file: a worker that
#    sees no file at the path, or another file there (a mount namespace of
#    its own), stops the read with a message saying so.
. "$(dirname "$0")/cluster_common.bash"
SRC=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PGDIR=$(mktemp -d /tmp/wbpg.XXXXXX)
trap 'bash "$SRC/tests/tools/pg_server.sh" stop "$PGDIR"; cleanup' EXIT
/usr/bin/python3 -c "import sqlite3" 2>/dev/null || { echo "SKIP: /usr/bin/python3 is missing"; exit 77; }
PORT=$(bash "$SRC/tests/tools/pg_server.sh" start "$PGDIR")
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || fail "the PostgreSQL server did not start"
set -a
. "$PGDIR/env"
set +a
PW=$(cat "$PGDIR/pw")
export URL="postgresql://wb@/test?host=$PGHOST&port=$PGPORT" T PW
psql -q <<'SQL' || fail "making the tables"
CREATE TABLE big AS SELECT g::int8 AS id, g * 0.5 AS a, CASE WHEN g % 7 = 0 THEN NULL ELSE sin(g) END AS b,
  (ARRAY['north', 'south', 'east', 'west', NULL])[1 + g % 5] AS dir, 'k' || (g * 7919 % 997) AS k
FROM generate_series(1, 200000) g;
CREATE FUNCTION slow(i int8) RETURNS int8 AS $$ BEGIN
  IF i % 10000 = 0 THEN PERFORM pg_sleep(0.3); END IF; RETURN i; END $$ LANGUAGE plpgsql;
SQL
mkdir -p "$T/lite"
/usr/bin/python3 - "$T/lite/data.db" "$T/other.db" <<'PY' || fail "making the SQLite files"
import sqlite3, sys
for path, n in ((sys.argv[1], 50000), (sys.argv[2], 10)):
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x REAL, s TEXT)")
    c.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, i / 3, None if i % 4 == 0 else "s%d" % (i % 50)) for i in range(1, n + 1)])
    c.commit()
PY
pass "PostgreSQL on 127.0.0.1:$PORT, tables made"

# --- a local cluster of 2 workers
cat >"$T/clu.lua" <<'LUA'
local T, URL, PW, PORT = os.getenv("T"), os.getenv("URL"), os.getenv("PW"), os.getenv("PGPORT")
local lite = "sqlite:" .. T .. "/lite/data.db"
wb.save(wb.sql.read(URL, "big", {partition_column = "id", partitions = 2}), T .. "/local.npy")
wb.save(wb.sql.read(lite, "t", {partition_column = "id", partitions = 3}), T .. "/lite_local.npy")
local f = assert(io.open("/proc/self/stat"))
print("DRIVER " .. f:read("n"))
f:close()
wb.cluster{workers = 2, threads = 1}
for _, w in ipairs(wb.executor().worker_list) do print("WORKER " .. w.id .. " " .. w.pid) end
local d = wb.sql.read(URL, "big", {partition_column = "id", partitions = 2})
assert(d:executor() == "cluster" and d:rows() == 200000)
for _, o in ipairs(wb.core.parts(d)) do print("HOLDER " .. wb.core.holder(o)) end
wb.save(d, T .. "/cluster.npy")
wb.save(wb.sql.read(lite, "t", {partition_column = "id", partitions = 3}), T .. "/lite_cluster.npy")
-- the password of a URL does not travel to the workers
local ok, e = pcall(wb.sql.read, "postgresql://wb:" .. PW .. "@127.0.0.1:" .. PORT .. "/test", "big", {partition_column = "id", partitions = 2})
assert(not ok, "the workers logged in without the password")
print("PWERR " .. tostring(e):gsub("\n", " "))
LUA
"$WB" "$T/clu.lua" >"$T/clu.out" 2>"$T/clu.log" || fail "cluster read: $(cat "$T/clu.out" "$T/clu.log")"
DRIVER=$(sed -n 's/^DRIVER //p' "$T/clu.out")
WPIDS=$(sed -n 's/^WORKER [0-9]* //p' "$T/clu.out" | tr '\n' ' ')
WIDS=$(sed -n 's/^WORKER \([0-9]*\) .*/\1/p' "$T/clu.out" | tr '\n' ' ')
for p in 1 2; do
  pid=$(grep -a "app=wb sql.read p$p/2 pid [0-9]*: LOG:  statement: COPY" "$PGDIR/data/log" | sed -n 's/.*app=wb sql.read p[0-9]\/2 pid \([0-9]*\):.*/\1/p' | tail -1)
  [ -n "$pid" ] || fail "no COPY of partition $p in the server's log"
  case " $WPIDS " in *" $pid "*) ;; *) fail "partition $p was read by pid $pid, not a worker ($WPIDS; driver $DRIVER)";; esac
  [ "$pid" != "$DRIVER" ] || fail "the driver read partition $p"
  echo "  partition $p of 2 read by worker pid $pid (workers: $WPIDS, driver: $DRIVER)"
done
for h in $(sed -n 's/^HOLDER //p' "$T/clu.out"); do
  case " $WIDS " in *" $h "*) ;; *) fail "a partition is held by $h, not a worker ($WIDS)";; esac
done
cmp "$T/local.npy" "$T/cluster.npy" || fail "the cluster's data differs from the local read's"
diff <(grep -v dataset_size "$T/local.npy.meta") <(grep -v dataset_size "$T/cluster.npy.meta") || fail ".meta differs"
cmp "$T/lite_local.npy" "$T/lite_cluster.npy" || fail "SQLite: the cluster's data differs from the local read's"
pass "partitions read by the workers, held by them ($(grep -c '^HOLDER' "$T/clu.out") partitions), the same bytes as locally (PostgreSQL and SQLite)"
grep -q "^PWERR wb.sql.read: postgresql://wb@127.0.0.1:$PORT/test: partition [12] of 2 (.*: fe_sendauth: no password supplied (the password of the URL stays in the driver's process: this task runs in another one, on .*; give it PGPASSWORD or a ~/.pgpass there)" "$T/clu.out" ||
  fail "password of the URL on the cluster: $(grep PWERR "$T/clu.out")"
grep -q "$PW" "$T/clu.out" "$T/clu.log" "$T"/*.log 2>/dev/null && fail "the password shows"
pass "a URL's password stays in the driver"
out=$(PGPASSWORD=$PW timeout 120 "$WB" -e "wb.cluster{workers = 2, threads = 1}
print(wb.sql.read('postgresql://wb:$PW@127.0.0.1:$PORT/test', 'big', {partition_column = 'id', partitions = 2}):rows())" 2>&1)
[ "$out" = 200000 ] || fail "PGPASSWORD on the workers: $out"
pass "with PGPASSWORD in the workers' environment, 200000 rows"

# --- a worker dies while it reads a partition: the head runs it again elsewhere
make_token "$T/tok" "sql-cluster-token-0123456789"
start_head head --token-file "$T/tok"
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1; W1=$WORKER_PID
start_worker w2 --address "$ADDR" --token-file "$T/tok" --threads 1; W2=$WORKER_PID
cat >"$T/retry.lua" <<LUA
wb.connect("$ADDR", {token_file = "$T/tok", workers = 2})
local d = wb.sql.read(os.getenv("URL"), "SELECT slow(g) AS id, g * 0.5 AS v FROM generate_series(1, 100000) g",
                      {partition_column = "id", partitions = 2, bounds = {1, 100000}})
local s = wb.core.map_sum("core.colsum", d, {}, "", 2)
print(string.format("rows %d sum %.1f %.1f", d:rows(), s[1], s[2]))
LUA
timeout 180 "$WB" "$T/retry.lua" >"$T/retry.out" 2>&1 &
R=$!
victim=
for _ in $(seq 300); do
  victim=$(psql -Atc "SELECT substring(application_name from 'pid ([0-9]+)') FROM pg_stat_activity WHERE application_name LIKE 'wb sql.read p1/2%' AND query LIKE 'COPY%' AND now() - query_start > interval '0.5 s'")
  [ -n "$victim" ] && break
  sleep 0.05
done
[ "$victim" = "$W1" ] || [ "$victim" = "$W2" ] || fail "no worker reading partition 1 (found '$victim'; workers $W1 $W2)"
kill -9 "$victim"
wait $R || fail "the read after a worker died: $(cat "$T/retry.out")"
grep -q "^rows 100000 sum 5000050000.0 2500025000.0$" "$T/retry.out" || fail "after a worker died: $(cat "$T/retry.out")"
n=$(grep -c "app=wb sql.read p1/2 pid [0-9]*: LOG:  statement: COPY" "$PGDIR/data/log")
pass "worker $victim killed while reading partition 1: read again elsewhere, $(cat "$T/retry.out") ($n COPYs of partition 1 in the log)"
kill "$HEAD_PID" 2>/dev/null

# --- SQLite where a worker does not see the file (a mount namespace of its own)
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
  for case in missing other; do
    start_head "h_$case" --token-file "$T/tok"
    if [ $case = other ]; then put="cp '$T/other.db' '$T/lite/data.db' &&"; else put=""; fi
    unshare -m --propagation private sh -c "mount -t tmpfs tmpfs '$T/lite' && $put exec '$WB' worker --address $ADDR --token-file '$T/tok' --threads 1" \
      >"$T/w_$case.out" 2>"$T/w_$case.log" &
    PIDS+=("$!")
    out=$(timeout 120 "$WB" -e "wb.connect('$ADDR', {token_file = '$T/tok', workers = 1})
print(select(2, pcall(wb.sql.read, 'sqlite:$T/lite/data.db', 't', {partition_column = 'id', partitions = 2})))" 2>&1)
    if [ $case = missing ]; then
      echo "$out" | grep -q "^wb.sql.read: sqlite:$T/lite/data.db: partition 1 of 2 (\"id\" < 25001): no file $T/lite/data.db on .* (pid [0-9]*): tasks open the file at the same path wherever they run, so every worker of a cluster must see it (a shared folder)" ||
        fail "a worker without the file: $out"
    else
      echo "$out" | grep -q "^wb.sql.read: sqlite:$T/lite/data.db: partition 1 of 2 (\"id\" < 25001): the file $T/lite/data.db on .* is not the one the read was planned on ([0-9]* bytes, expected [0-9]*): every worker of a cluster must see the same file" ||
        fail "a worker with another file: $out"
    fi
    pass "SQLite, $case file on the worker: $(echo "$out" | head -1 | cut -c1-160)..."
    kill "$HEAD_PID" 2>/dev/null
  done
else
  echo "note: the SQLite file a worker cannot see is not checked here (needs root for a mount namespace)"
fi
echo "sql_cluster: ok"
