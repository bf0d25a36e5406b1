#!/bin/bash
# bench/sql.sh [ROWS [REPEATS]] — reading and writing SQL tables: wb.sql against
# pandas.read_sql / DataFrame.to_sql and dask.dataframe.read_sql_table, in one run.
#
# A PostgreSQL server is started here in a temporary folder (Debian's
# postgresql package, tests/tools/pg_server.sh), a table of ROWS rows (default
# 5 M) x 10 numbers (id and 9 reals with NULLs) + 2 text columns (with NULLs)
# is made in it, and the same table in a SQLite file (written by wb, not
# timed). Then, REPEATS times (default 3), alternating the tools so that a
# change of the machine's load falls on all of them:
#   PostgreSQL read: wb.sql.read (partition_column = id, 2 partitions),
#                    pandas.read_sql, dask read_sql_table (npartitions = 2)
#   SQLite read:     the same three
#   write:           wb.sql.write and DataFrame.to_sql of the table just read,
#                    to PostgreSQL and to SQLite (if_exists = "replace")
# then once, the PostgreSQL read on a local cluster of 2 workers: which
# process ran each partition's query (the server's log), the partitions'
# holders, and the dataset's bytes against the local read's.
# Each step runs in a process of its own: wall seconds, CPU seconds of that
# process (the database server's own work is not in it), its peak memory;
# the rows and NULLs per column must be equal across the tools. The table
# printed at the end gives the medians and the ratios to wb; the load
# average is printed before and after each round. Results (JSON lines) go
# to bench-sql.jsonl (WB_BENCH_OUT); WB_BENCH_DBS="sqlite" times SQLite only.
# WB_BASE=path/to/another/wb times that build too, as the tool "base", right
# after wb in each round (a before/after comparison in one run).
# Needs /usr/bin/python3 with pandas, sqlalchemy, psycopg2 and dask (Debian: python3-pandas python3-sqlalchemy
# python3-psycopg2 python3-dask).
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
WB=${WB:-$here/build/wb}
[ -x "$WB" ] || { echo "sql.sh: no wb at $WB (build first, or set WB=)"; exit 1; }
BASE=${WB_BASE:-}
[ -z "$BASE" ] || [ -x "$BASE" ] || { echo "sql.sh: no wb at WB_BASE=$BASE"; exit 1; }
N=${1:-5000000}
R=${2:-3}
OUT=${WB_BENCH_OUT:-bench-sql.jsonl}
DBS=${WB_BENCH_DBS:-pg sqlite} # the databases timed (the table is made in PostgreSQL either way)
PY=/usr/bin/python3
$PY -c "import pandas, sqlalchemy, psycopg2, dask.dataframe" 2>/dev/null ||
  { echo "sql.sh: $PY needs pandas, sqlalchemy, psycopg2 and dask (Debian: python3-pandas python3-sqlalchemy python3-psycopg2 python3-dask)"; exit 1; }
PGDIR=$(mktemp -d /tmp/wbpg.XXXXXX)
WORK=$(mktemp -d /tmp/wbsqlbench.XXXXXX)
trap 'bash "$here/tests/tools/pg_server.sh" stop "$PGDIR"; rm -rf "$WORK"' EXIT
bash "$here/tests/tools/pg_server.sh" start "$PGDIR" >/dev/null || { echo "sql.sh: the PostgreSQL server did not start"; exit 1; }
set -a
. "$PGDIR/env"
set +a
PG="postgresql://wb@/test?host=$PGHOST&port=$PGPORT"
LITE="sqlite:$WORK/bench.db"
: >"$OUT"
echo "sql.sh: $N rows, $R repeats; $(nproc) cores; PostgreSQL $(psql -Atc 'SHOW server_version'); load $(cut -d' ' -f1-3 /proc/loadavg)"

# the table: id, 9 reals (NULL in one row of 17), 2 text columns (NULL in one row of 5 and of 11)
cols=""
for k in 1 2 3 4 5 6 7 8 9; do cols="$cols, CASE WHEN (g + $((k * 3))) % 17 = 0 THEN NULL ELSE sin(g * $k) * $((k * 10)) END AS x$k"; done
t0=$(date +%s.%N)
psql -q -c "CREATE TABLE big AS SELECT g::int8 AS id$cols, (ARRAY['alpha','beta','gamma','delta',NULL])[1 + g % 5] AS s1,
  CASE WHEN g % 11 = 0 THEN NULL ELSE 'cat' || (g::int8 * 7919 % 1000) END AS s2 FROM generate_series(1, $N) g" &&
  psql -q -c "ALTER TABLE big ADD PRIMARY KEY (id)" && psql -q -c "VACUUM ANALYZE big" || { echo "sql.sh: making the table failed"; exit 1; }
WB_BENCH_THREADS=2 "$WB" -e "wb.quiet(true) wb.sql.write(wb.sql.read('$PG', 'big', {partition_column = 'id', partitions = 2}), '$LITE', 'big')" ||
  { echo "sql.sh: writing the SQLite file failed"; exit 1; }
echo "tables made in $(awk -v a="$t0" -v b="$(date +%s.%N)" "BEGIN {printf \"%.1f\", b - a}") s: PostgreSQL $(psql -Atc "SELECT pg_size_pretty(pg_total_relation_size('big'))"), SQLite $(du -h "$WORK/bench.db" | cut -f1)"

run() { # LABEL COMMAND...: one step, its JSON line tagged and kept
  local label=$1
  shift
  local line
  line=$("$@" 2>"$WORK/err" | tail -1)
  if [ -z "$line" ]; then echo "  $label: FAILED: $(tail -3 "$WORK/err")"; return; fi
  echo "{\"case\": \"$label\", \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\", \"result\": $line}" >>"$OUT"
  echo "  $label: $(echo "$line" | $PY -c 'import json,sys; r=json.load(sys.stdin); print("%.2f s wall, %.2f s cpu, %.0f MB peak, %s rows" % (r["seconds"], r["cpu_s"], r["peak_mb"], r.get("rows", "-")))')"
}

# statements are not logged while the tools are timed (pandas' to_sql sends one INSERT a row)
psql -q -c "ALTER SYSTEM SET log_statement = 'none'" -c "SELECT pg_reload_conf()" >/dev/null

for rep in $(seq "$R"); do
  echo "round $rep of $R (load $(cut -d' ' -f1-3 /proc/loadavg))"
  # the order of the tools turns each round
  tools="wb pandas dask"
  [ $((rep % 3)) = 2 ] && tools="pandas dask wb"
  [ $((rep % 3)) = 0 ] && tools="dask wb pandas"
  [ -n "$BASE" ] && tools=$(echo "$tools" | sed 's/wb/wb base/')
  for db in $DBS; do
    url=$PG
    [ $db = sqlite ] && url=$LITE
    for t in $tools; do
      case $t in
      wb) run "$db read wb" "$WB" "$here/bench/sql.lua" read "$url" big id 2 ;;
      base) run "$db read base" "$BASE" "$here/bench/sql.lua" read "$url" big id 2 ;;
      pandas) run "$db read pandas" $PY "$here/bench/peers/sql_peer.py" read-pandas "$url" big ;;
      dask) run "$db read dask" $PY "$here/bench/peers/sql_peer.py" read-dask "$url" big id 2 ;;
      esac
    done
    for t in $tools; do
      case $t in
      wb) run "$db write wb" "$WB" "$here/bench/sql.lua" write "$url" big big_back ;;
      base) run "$db write base" "$BASE" "$here/bench/sql.lua" write "$url" big big_back ;;
      pandas) run "$db write pandas" $PY "$here/bench/peers/sql_peer.py" write-pandas "$url" big big_back ;;
      esac
    done
  done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# the PostgreSQL read on a local cluster of 2 workers: the server's log names
# the process that ran each partition's COPY (a worker's, not the driver's),
# the partitions stay on the workers, and the dataset's bytes are the local read's
clu_bad=0
psql -q -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
mkdir -p "$WORK/clu"
line=$(WB_BENCH_THREADS=2 "$WB" "$here/bench/sql.lua" cluster "$PG" big id 2 "$WORK/clu" 2>"$WORK/err" | tail -1)
if [ -z "$line" ]; then
  echo "cluster read: FAILED: $(tail -3 "$WORK/err")"
  clu_bad=1
else
  echo "{\"case\": \"pg cluster read wb\", \"load\": \"$(cut -d' ' -f1 /proc/loadavg)\", \"result\": $line}" >>"$OUT"
  echo "$line" | $PY -c 'import json,sys; r=json.load(sys.stdin); print("cluster read (2 workers, 1 thread each): %.2f s wall, %d rows, its %d dataset partitions held by workers %s; workers %s, driver pid %d" % (r["seconds"], r["rows"], r["partitions"], sorted(set(r["holders"])), ", ".join("%d (pid %d)" % (w["id"], w["pid"]) for w in r["workers"]), r["driver_pid"]))'
  wpids=$(echo "$line" | $PY -c 'import json,sys; print(" ".join(str(w["pid"]) for w in json.load(sys.stdin)["workers"]))')
  for p in 1 2; do
    pid=$(grep -a "app=wb sql.read p$p/2 pid [0-9]*: LOG:  statement: COPY" "$PGDIR/data/log" | sed -n 's/.*app=wb sql.read p[0-9]\/2 pid \([0-9]*\):.*/\1/p' | tail -1)
    case " $wpids " in
    *" $pid "*) echo "  partition $p of 2: its COPY run by pid $pid, a worker (server's log)" ;;
    *) echo "  partition $p of 2: its COPY run by pid '$pid', not a worker ($wpids)"; clu_bad=1 ;;
    esac
  done
  if cmp -s "$WORK/clu/local.npy" "$WORK/clu/cluster.npy"; then
    echo "  the same dataset bytes as the local read: $(stat -c %s "$WORK/clu/cluster.npy") bytes of NPY, equal"
  else
    echo "  the cluster's dataset differs from the local read's"
    clu_bad=1
  fi
fi
rm -rf "$WORK/clu"

# medians, ratios, equal rows and NULLs
$PY - "$OUT" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in runs:
    by.setdefault(r["case"], []).append(r["result"])
def med(case, k):
    v = [x[k] for x in by.get(case, [])]
    return statistics.median(v) if v else float("nan")
print("\n| case | runs | wall s (median) | CPU s (median) | peak MB (median) | wall: tool / wb | CPU: tool / wb |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for db in ("pg", "sqlite"):
    for step, tools in (("read", ("wb", "base", "pandas", "dask")), ("write", ("wb", "base", "pandas"))):
        base = "%s %s wb" % (db, step)
        for t in tools:
            c = "%s %s %s" % (db, step, t)
            if c not in by:
                continue
            print("| %s | %d | %.2f | %.2f | %.0f | %s | %s |" % (
                c, len(by[c]), med(c, "seconds"), med(c, "cpu_s"), med(c, "peak_mb"),
                "-" if t == "wb" else "%.1fx" % (med(c, "seconds") / med(base, "seconds")),
                "-" if t == "wb" else "%.1fx" % (med(c, "cpu_s") / med(base, "cpu_s"))))
# every read returned the same rows and NULLs per column
bad = 0
for db in ("pg", "sqlite"):
    seen = {}
    for t in ("wb", "base", "pandas", "dask"):
        for x in by.get("%s read %s" % (db, t), []):
            seen.setdefault((x["rows"], json.dumps(x["nulls"], sort_keys=True)), []).append(t)
    if not seen:
        continue  # not timed (WB_BENCH_DBS)
    if len(seen) != 1:
        bad = 1
        print("%s: the reads differ: %s" % (db, seen))
    else:
        (rows, nulls), = seen.keys()
        print("%s reads: all %d agree on %d rows and the NULLs %s" % (db, sum(len(v) for v in seen.values()), rows, nulls))
sys.exit(bad)
PY
st=$?
[ $clu_bad = 0 ] || st=1
exit $st
