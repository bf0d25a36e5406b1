#!/bin/sh
# bench/tables.sh [ROWS [REPEATS [DIR]]] -- reading a CSV of 8 numeric and 4
# text columns (quotes, a comma and doubled quotes inside quotes, a line
# break inside quotes, NA and empty fields: bench/tables_data.py) with wb and
# with pandas.read_csv (the C engine, bench/peers/pandas_csv.py), plain and
# gzip-compressed. Each read runs in a process of its own (so its peak
# memory is the read's), wb and pandas alternate, and the figures are the
# medians of REPEATS runs. Defaults: 2000000 rows, 5 runs, /tmp.
# TABLES_KEEP=1 reads the files an earlier run left in DIR (same ROWS).
#
# The machine may be shared: the load average is printed before and after.
# Rows, columns and missing values are checked to be the same in both.
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
WB=${WB:-$here/build/wb}
PY=${PY:-/usr/bin/python3}
ROWS=${1:-2000000}
REPEATS=${2:-5}
DIR=${3:-/tmp}
[ -x "$WB" ] || { echo "tables.sh: no wb at $WB (build first, or set WB=)"; exit 1; }
"$PY" -c "import pandas" 2>/dev/null || { echo "tables.sh: $PY has no pandas (set PY=)"; exit 1; }
csv="$DIR/wb_bench_tables.csv"
echo "wb $("$WB" -e 'io.write(wb.version())'), $(nproc) cores; pandas $("$PY" -c 'import pandas; print(pandas.__version__)'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$TABLES_KEEP" ] && [ -s "$csv" ] && [ -s "$csv.gz" ]; then
  echo "(TABLES_KEEP: the files of an earlier run)"
else
  "$PY" "$here/bench/tables_data.py" "$csv" "$ROWS" 1
  gzip -c -6 "$csv" > "$csv.gz"
fi
echo "file: $ROWS rows, $(($(stat -L -c %s "$csv") / 1000000)) MB; gzip $(($(stat -L -c %s "$csv.gz") / 1000000)) MB"
out=$(mktemp)
for f in "$csv" "$csv.gz"; do
  i=0
  while [ $i -lt "$REPEATS" ]; do
    "$WB" "$here/bench/tables.lua" "$f" | sed "s|^|$(basename "$f") |" >> "$out"
    "$PY" "$here/bench/peers/pandas_csv.py" "$f" | sed "s|^|$(basename "$f") |" >> "$out"
    i=$((i + 1))
  done
done
"$PY" - "$out" <<'EOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for f in sorted({r[0] for r in rows}, key=lambda s: s.endswith(".gz")):
    got = {}
    for who in ("wb", "pandas"):
        rs = [r for r in rows if r[0] == f and r[1] == who]
        t = statistics.median(float(r[2]) for r in rs)
        peak = statistics.median(int(r[3]) for r in rs) / 1e6
        inc = statistics.median(int(r[3]) - int(r[4]) for r in rs) / 1e6
        shape = {tuple(r[5:8]) for r in rs}
        cpu = statistics.median(float(r[8]) for r in rs)
        got[who] = (t, peak, inc, shape, sorted(float(r[2]) for r in rs), cpu)
        print("%-26s %-6s read %7.3f s (runs %s), cpu %7.3f s  peak %6.0f MB (the read: %6.0f MB)  rows/cols/missing %s"
              % (f, who, t, " ".join("%.3f" % x for x in got[who][4]), cpu, peak, inc, " ".join(next(iter(shape)))))
    w, p = got["wb"], got["pandas"]
    same = "same" if w[3] == p[3] and len(w[3]) == 1 else "DIFFERENT"
    print("%-26s wb is %.1fx faster (cpu time: %.1fx less); peak memory %.2fx pandas' (the read alone: %.2fx); rows, columns, missing: %s"
          % (f, p[0] / w[0], p[5] / w[5], w[1] / p[1], w[2] / p[2], same))
EOF
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$out"
