#!/bin/bash
# bench/gbdt.sh [WB] [--n N] [--repeats R]: gbdt against XGBoost (hist) and
# scikit-learn's HistGradientBoosting on the same data and cores, in one run.
#   - data: make_classification(N x 10, n_informative=5, n_redundant=5,
#     random_state=0), 20 % held out (random_state=42), 2 and 5 classes, written
#     as .npy by bench/gbdt_data.py; the peer bench/peers/sklearn_peer.py
#     makes the same 2-class arrays in-process;
#   - binary: wb with XGBoost's defaults (100 trees, max_depth 6, learning rate
#     0.3) against `sklearn_peer.py xgb`; wb with HistGradientBoosting's
#     defaults (100 trees, 31 leaves, learning rate 0.1) against
#     `sklearn_peer.py hgb`: held-out accuracy and fit time ratios;
#   - multiclass (5 classes): wb (HistGradientBoosting's defaults) against
#     HistGradientBoostingClassifier on the same .npy data (gbdt_data.py fit);
#   - peak memory of the whole process (/usr/bin/time -v): wb loading the .npy
#     and fitting (XGBoost configuration) against gbdt_data.py loading the same
#     .npy and fitting XGBoost, and against the peer (which also generates).
# Fit times are medians of R runs for wb and for the peers; next to the wall
# time, the CPU seconds of each fit (all threads of the process: wb's os.clock,
# the peers' time.process_time in gbdt_data.py, which fits the same models on
# the same arrays as sklearn_peer.py).
# The peers' OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE, override
# with PEER_OMP_WAIT_POLICY): on a machine shared with other work, spinning
# OpenMP barriers slow XGBoost and HistGradientBoosting several times over,
# which would flatter wb's ratios.
set -e
here=$(cd "$(dirname "$0")" && pwd)
WB=${1:-$here/../build/wb}
[ $# -gt 0 ] && shift
N=1000000
REPEATS=3
while [ $# -gt 0 ]; do
  case $1 in
    --n) N=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    *) echo "usage: $0 [WB] [--n N] [--repeats R]" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
export PYTHONWARNINGS=ignore
export OMP_WAIT_POLICY=${PEER_OMP_WAIT_POLICY:-PASSIVE}
PEER=$here/peers/sklearn_peer.py
[ -x "$WB" ] || { echo "gbdt.sh: no wb binary at $WB" >&2; exit 1; }
[ -f "$PEER" ] || { echo "gbdt.sh: no peer script at $PEER" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); n=$N, repeats=$REPEATS, peers OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
$PY "$here/gbdt_data.py" data "$work/c2" --n "$N"
$PY "$here/gbdt_data.py" data "$work/c5" --n "$N" --classes 5
# peak RSS (kB) of a command, from /usr/bin/time -v; its stdout appended to $2
peak() { # peak LABEL OUTFILE CMD...
  local label=$1 out=$2; shift 2
  /usr/bin/time -v "$@" >> "$out" 2> "$work/time.txt" || { cat "$work/time.txt" >&2; exit 1; }
  echo "{\"peak\": \"$label\", \"kb\": $(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")}" >> "$work/mem.jsonl"
}
: > "$work/peer.jsonl"
: > "$work/mem.jsonl"
for i in $(seq "$REPEATS"); do
  peak peer_xgb "$work/peer.jsonl" $PY -W ignore "$PEER" xgb --n "$N" --threads 2
  peak peer_hgb "$work/peer.jsonl" $PY -W ignore "$PEER" hgb --n "$N" --threads 2
  $PY "$here/gbdt_data.py" fit "$work/c2" hgb >> "$work/peer.jsonl"
  $PY "$here/gbdt_data.py" fit "$work/c5" hgb >> "$work/peer.jsonl"
done
"$WB" "$here/gbdt.lua" "$work/c2" "$work/c5" "$REPEATS" > "$work/wb.jsonl"
peak wb_fit "$work/wb_fit.jsonl" "$WB" "$here/gbdt.lua" "$work/c2" fit-only
peak npy_xgb_fit "$work/peer_fit.jsonl" $PY "$here/gbdt_data.py" fit "$work/c2" xgb
echo "== raw"
cat "$work/peer.jsonl" "$work/wb.jsonl" "$work/wb_fit.jsonl" "$work/peer_fit.jsonl" "$work/mem.jsonl"
echo "== machine after: load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$work" <<'PYEOF'
import json, statistics, sys, os
w = sys.argv[1]
def rd(name): return [json.loads(l) for l in open(os.path.join(w, name)) if l.strip()]
peer, wb, mem = rd("peer.jsonl"), {r["step"]: r for r in rd("wb.jsonl")}, rd("mem.jsonl")
wbfit, pfit = rd("wb_fit.jsonl")[-1], rd("peer_fit.jsonl")[-1]
def pk(label): return statistics.median([m["kb"] for m in mem if m["peak"] == label]) / 1024
print("== summary (same data, same cores, same run)")
def med(sel, key):
    v = [r[key] for r in peer if sel(r)]
    return statistics.median(v) if v else float("nan")
sp = lambda name: (lambda r: r["peer"] == name and "classes" not in r)        # sklearn_peer.py
npy = lambda name, k: (lambda r: r["peer"] == name and r.get("classes") == k)  # gbdt_data.py
x_t = med(lambda r: sp("xgb")(r) and r["step"] == "fit", "seconds")
x_a = med(lambda r: sp("xgb")(r) and r["step"] == "predict", "accuracy")
h_t = med(lambda r: sp("hgb")(r) and r["step"] == "fit", "seconds")
h_a = med(lambda r: sp("hgb")(r) and r["step"] == "predict", "accuracy")
x_c = pfit["cpu_seconds"]
h_c = med(npy("hgb", 2), "cpu_seconds")
m_t, m_a, m_c = med(npy("hgb", 5), "seconds"), med(npy("hgb", 5), "accuracy"), med(npy("hgb", 5), "cpu_seconds")
def line(name, wr, pt, pa, pc, pname):
    ratio = wr["seconds"] / pt
    d = wr["accuracy"] - pa
    print("%-34s wb %7.3f s acc %.6f | %s %7.3f s acc %.6f | time ratio %.3f (target <= 0.5: %s) | acc diff %+.6f (>= -0.003: %s)" % (
        name, wr["seconds"], wr["accuracy"], pname, pt, pa, ratio, "met" if ratio <= 0.5 else "missed", d,
        "met" if d >= -0.003 else "missed"))
    print("%-34s CPU seconds of the fit: wb %.3f, %s %.3f, ratio %.3f" % ("", wr["cpu_seconds"], pname, pc,
                                                                         wr["cpu_seconds"] / pc))
line("binary, XGBoost's defaults", wb["xgb"], x_t, x_a, x_c, "xgboost")
line("binary, HistGradientBoosting's", wb["hgb"], h_t, h_a, h_c, "sklearn")
line("5 classes, HistGradientBoosting's", wb["multi"], m_t, m_a, m_c, "sklearn")
print("(binary peers: sklearn_peer.py wall times; their CPU seconds from gbdt_data.py on the same arrays,")
print(" wall %.3f s for XGBoost, %.3f s for HistGradientBoosting)" % (pfit["seconds"], med(npy("hgb", 2), "seconds")))
print("peak memory, whole process (/usr/bin/time -v):")
print("  wb load .npy + fit (XGBoost config)      %7.1f MB  (before fit %.1f MB, after %.1f MB)" % (
    pk("wb_fit"), wbfit["peak_mb_before_fit"], wbfit["peak_mb_after_fit"]))
print("  python load .npy + XGBoost fit           %7.1f MB  (before fit %.1f MB, after %.1f MB)" % (
    pk("npy_xgb_fit"), pfit["peak_mb_before_fit"], pfit["peak_mb_after_fit"]))
print("  sklearn_peer.py xgb (generates the data) %7.1f MB" % pk("peer_xgb"))
print("  sklearn_peer.py hgb (generates the data) %7.1f MB" % pk("peer_hgb"))
print("  ratio wb / XGBoost (same .npy input)     %7.3f" % (pk("wb_fit") / pk("npy_xgb_fit")))
print("  fit increments: wb %.1f MB, XGBoost %.1f MB" % (wbfit["peak_mb_after_fit"] - wbfit["peak_mb_before_fit"],
                                                        pfit["peak_mb_after_fit"] - pfit["peak_mb_before_fit"]))
PYEOF
