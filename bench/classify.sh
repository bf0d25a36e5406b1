#!/bin/bash
# bench/classify.sh [WB] [--n N] [--repeats R]: classification and grid search,
# wb against scikit-learn on the same data and cores, in one invocation.
#   - the data: make_classification(N x 10, random_state=0), 20 % held out
#     (random_state=42), written as .npy by bench/classify_data.py and loaded by wb;
#     the peer (bench/peers/sklearn_peer.py) makes the same arrays in-process;
#   - logreg: wb default solver and L-BFGS vs scikit-learn lbfgs; sgd 5 epochs;
#     grid search C {0.01,0.1,1,10} x penalty {l1,l2}, 3 folds;
#   - prints accuracy differences, time ratios wb/scikit-learn, and whether the
#     grid searches chose the same parameters.
# The load of a shared machine drifts, so wb and the peer alternate: R rounds of
# (peer lr, wb lr, peer sgd, wb sgd), each wb figure the median of 3 fits in
# its round, the medians over rounds reported; then wb's grid search and the
# peer's (once: it is slow).
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
export PYTHONWARNINGS=ignore  # also in the peer's worker processes (ConvergenceWarning of saga)
PEER=$here/peers/sklearn_peer.py
[ -x "$WB" ] || { echo "classify.sh: no wb binary at $WB" >&2; exit 1; }
[ -f "$PEER" ] || { echo "classify.sh: no peer script at $PEER" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); n=$N"
$PY "$here/classify_data.py" "$work/data" --n "$N"
: > "$work/peer.jsonl"
: > "$work/wb.jsonl"
for i in $(seq "$REPEATS"); do
  for w in lr sgd; do
    $PY -W ignore "$PEER" "$w" --n "$N" --threads 2 >> "$work/peer.jsonl"
    "$WB" "$here/classify.lua" "$work/data" 3 "$w" >> "$work/wb.jsonl"
  done
done
"$WB" "$here/classify.lua" "$work/data" 1 grid >> "$work/wb.jsonl" 2> "$work/wb_grid.txt"
echo "== machine load before the peer's grid search: $(cut -d' ' -f1-3 /proc/loadavg)"
$PY -W ignore "$PEER" grid --n "$N" --threads 2 >> "$work/peer.jsonl"
echo "== machine load after the peer's grid search: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== wb grid search results"
cat "$work/wb_grid.txt"
echo "== raw"
cat "$work/peer.jsonl" "$work/wb.jsonl"
$PY - "$work/peer.jsonl" "$work/wb.jsonl" <<'PYEOF'
import ast, json, statistics, sys
peer = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
wbr = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
wb = {}
for r in wbr:  # median seconds over the rounds; other fields of the last round
    wb.setdefault(r["step"], []).append(r)
for k, v in wb.items():
    last = dict(v[-1]); last["seconds"] = statistics.median(x["seconds"] for x in v); last["rounds"] = len(v); wb[k] = last
def pmed(w, step, key):
    v = [r[key] for r in peer if r["peer"] == w and r["step"] == step and key in r]
    return statistics.median(v) if v else None
rows = []
def line(name, ws, ps, wa=None, pa=None, target=None):
    ratio = ws / ps
    acc = "" if wa is None else "accuracy wb %.6f sklearn %.6f (diff %+.6f%s)" % (wa, pa, wa - pa, ", within 0.002" if abs(wa - pa) <= 0.002 else ", NOT within 0.002")
    print("%-28s wb %8.3f s  sklearn %8.3f s  ratio %.3f%s  %s" % (name, ws, ps, ratio,
          "" if target is None else (" (target <= %.2f: %s)" % (target, "met" if ratio <= target else "missed")), acc))
print("== summary (wb / scikit-learn, same data, same run)")
lr_t, lr_a = pmed("lr", "fit", "seconds"), pmed("lr", "predict", "accuracy")
sgd_t, sgd_a = pmed("sgd", "fit", "seconds"), pmed("sgd", "predict", "accuracy")
w = wb["lr_fit"]; line("logreg (wb %s)" % w["solver"], w["seconds"], lr_t, w["accuracy"], lr_a, 0.25)
w = wb["lr_lbfgs_fit"]; line("logreg (wb %s)" % w["solver"], w["seconds"], lr_t, w["accuracy"], lr_a, 0.25)
w = wb["sgd_fit"]; line("sgd 5 epochs", w["seconds"], sgd_t, w["accuracy"], sgd_a, 0.25)
g = [r for r in peer if r["peer"] == "grid" and r["step"] == "fit"][0]
w = wb["grid_fit"]
line("grid search 8 x 3 folds", w["seconds"], g["seconds"], target=0.05)
pb = ast.literal_eval(g["best"])
wbest = {k: (float(v) if k == "C" else v) for k, v in w["best"].items()}
same = {k: float(v) if k == "C" else v for k, v in pb.items()} == wbest
print("grid best params: wb %s (accuracy %.6f), GridSearchCV %s (accuracy %.6f): %s" % (
    wbest, w["score"], pb, g["score"], "SAME" if same else "DIFFERENT"))
PYEOF
