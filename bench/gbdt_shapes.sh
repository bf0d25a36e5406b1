#!/bin/bash
# bench/gbdt_shapes.sh [WB] [--repeats R] [--only NAME,...]: gbdt against XGBoost 1.7
# hist (2 threads) at equal settings (100 trees, learning rate 0.3, lambda 1,
# min_child_weight 1, one row a leaf allowed) on the shapes of the speed goal:
#   c10_d6    1M x 10, max_depth 6          c10_l255  1M x 10, 255 leaves best-first
#   c50_d8    2M x 50, max_depth 8          c20k5_d6  500k x 20, 5 classes, max_depth 6
#   c10m5_d6  5M x 10, max_depth 6
# (make_classification, 20 % held out: bench/gbdt_data.py). The runs alternate
# wb and XGBoost, each fit in its own process (fit time only, data loaded):
# wall and CPU seconds (all threads), leaves grown per tree, held-out
# accuracy, peak RSS of the process (loading + fit). On a shared machine
# compare the CPU seconds; the load average is printed before and after.
set -e
here=$(cd "$(dirname "$0")" && pwd)
WB=${1:-$here/../build/wb}
[ $# -gt 0 ] && shift
REPEATS=1
ONLY=
while [ $# -gt 0 ]; do
  case $1 in
    --repeats) REPEATS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) echo "usage: $0 [WB] [--repeats R] [--only c10_d6,...]" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
export PYTHONWARNINGS=ignore OMP_WAIT_POLICY=${PEER_OMP_WAIT_POLICY:-PASSIVE}
[ -x "$WB" ] || { echo "gbdt_shapes.sh: no wb binary at $WB" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), repeats $REPEATS"
# name  rows  features  classes  wb-conf  xgboost options
shapes="c10_d6 1000000 10 2 depth6 --max-depth=6
c10_l255 1000000 10 2 leaves255 --max-leaves=255
c50_d8 2000000 50 2 depth8 --max-depth=8
c20k5_d6 500000 20 5 depth6 --max-depth=6
c10m5_d6 5000000 10 2 depth6 --max-depth=6"
: > "$work/all.jsonl"
while read -r name n d k conf xopt; do
  [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]] && continue
  dir="$work/$n-$d-$k"
  [ -d "$dir" ] || $PY "$here/gbdt_data.py" data "$dir" --n "$n" --d "$d" --classes "$k"
  for i in $(seq "$REPEATS"); do
    /usr/bin/time -f "%M" -o "$work/rss" "$WB" "$here/gbdt_shapes.lua" "$dir" "$conf" 2 |
      sed "s/^{/{\"shape\": \"$name\", \"rss_mb\": RSS, /" > "$work/one"
    sed -i "s/RSS/$(awk '{print $1 / 1024}' "$work/rss")/" "$work/one"; cat "$work/one" >> "$work/all.jsonl"
    /usr/bin/time -f "%M" -o "$work/rss" $PY "$here/gbdt_data.py" fit "$dir" xgb --threads 2 $xopt |
      sed "s/^{/{\"shape\": \"$name\", \"rss_mb\": RSS, /" > "$work/one"
    sed -i "s/RSS/$(awk '{print $1 / 1024}' "$work/rss")/" "$work/one"; cat "$work/one" >> "$work/all.jsonl"
  done
done <<< "$shapes"
echo "== load after $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$work/all.jsonl" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%-9s | %-32s | %-32s | %s" % ("shape", "wb: wall / CPU s, leaves, acc", "XGBoost: wall / CPU s, leaves, acc",
                                     "ratios wall, CPU | acc diff | peak MB wb / xgb"))
for shape in dict.fromkeys(r["shape"] for r in rows):
    w = [r for r in rows if r["shape"] == shape and r.get("tool") == "wb"]
    x = [r for r in rows if r["shape"] == shape and r.get("peer") == "xgb"]
    med = lambda v, key: statistics.median(r[key] for r in v)
    ww, wc, xw, xc = med(w, "seconds"), med(w, "cpu_seconds"), med(x, "seconds"), med(x, "cpu_seconds")
    print("%-9s | %6.2f / %6.2f, %5.1f, %.5f | %6.2f / %6.2f, %5.1f, %.5f | %.2f, %.2f | %+.5f | %.0f / %.0f" % (
        shape, ww, wc, w[0]["leaves_per_tree"], w[0]["accuracy"], xw, xc, x[0]["leaves_per_tree"], x[0]["accuracy"],
        ww / xw, wc / xc, w[0]["accuracy"] - x[0]["accuracy"], med(w, "rss_mb"), med(x, "rss_mb")))
PYEOF
