#!/bin/bash
# bench/kmeans_speed.sh [WB] [--iters I] [--repeats R] [--small]: wb's kmeans against
# scikit-learn's KMeans (lloyd and elkan) per iteration, fit time only, in one run.
#   - shapes: make_swiss_roll(3 M, noise 0.2) with k = 16 and make_blobs(1 M x 50,
#     100 centres, cluster_std 4) with k = 100 (--small: 300 k and 100 k rows), written
#     as .npy by bench/kmeans_data.py with the k starting centres (k rows drawn with
#     numpy's default_rng(0)): both sides start from the same centres, run with tol 0
#     and at most I iterations (default 30; both stop earlier only when no row changes
#     cluster), 2 threads each (scikit-learn's OpenMP and BLAS limited by threadpoolctl);
#   - two starts: the first iterations (from the drawn rows: many rows change cluster)
#     and the later ones (from the centres after 30 Lloyd iterations: most rows stay,
#     where bounds skip most distances);
#   - the runs alternate, R rounds (default 3) of: wb lloyd, scikit-learn lloyd,
#     wb elkan, scikit-learn elkan, wb hamerly;
#   - reported: the median wall and CPU seconds per iteration of each (CPU seconds of
#     the whole process over all threads: wb's os.clock, scikit-learn's
#     time.process_time), the ratios of CPU time per iteration (the machine may be
#     shared: wall times then say more about the other load than about the code),
#     and the memory-bandwidth bound: the best time (wall and CPU) of one read pass
#     over the data (numpy's sum over the array, one thread).
# The peers' OpenMP threads wait passively (OMP_WAIT_POLICY=PASSIVE, override with
# PEER_OMP_WAIT_POLICY), so spinning barriers do not count as work.
set -e
here=$(cd "$(dirname "$0")" && pwd)
WB=${1:-$here/../build/wb}
[ $# -gt 0 ] && shift
ITERS=30
REPEATS=3
ROLL_N=3000000
BLOBS_N=1000000
while [ $# -gt 0 ]; do
  case $1 in
    --iters) ITERS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --small) ROLL_N=300000; BLOBS_N=100000; shift ;;
    *) echo "usage: $0 [WB] [--iters I] [--repeats R] [--small]" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
export PYTHONWARNINGS=ignore
export OMP_WAIT_POLICY=${PEER_OMP_WAIT_POLICY:-PASSIVE}
[ -x "$WB" ] || { echo "kmeans_speed.sh: no wb binary at $WB" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); iterations <= $ITERS, repeats $REPEATS"
$PY "$here/kmeans_data.py" data roll "$ROLL_N" 3 16 "$work/roll"
$PY "$here/kmeans_data.py" data blobs "$BLOBS_N" 50 100 "$work/blobs"
for shape in roll blobs; do
  for start in first late; do
    dir="$work/$shape"
    [ "$start" = late ] && dir="$work/$shape/late"
    out="$work/$shape-$start.jsonl"
    $PY "$here/kmeans_data.py" pass "$work/$shape" > "$out"
    for r in $(seq "$REPEATS"); do
      "$WB" "$here/kmeans_speed.lua" "$dir" lloyd "$ITERS" 2 >> "$out"
      $PY "$here/kmeans_data.py" fit "$dir" lloyd "$ITERS" 2 >> "$out"
      "$WB" "$here/kmeans_speed.lua" "$dir" elkan "$ITERS" 2 >> "$out"
      $PY "$here/kmeans_data.py" fit "$dir" elkan "$ITERS" 2 >> "$out"
      "$WB" "$here/kmeans_speed.lua" "$dir" hamerly "$ITERS" 2 >> "$out"
    done
  done
done
echo "== raw"
cat "$work"/*.jsonl
echo "== machine after: load $(cut -d' ' -f1-3 /proc/loadavg)"
$PY - "$work" "$ROLL_N" "$BLOBS_N" <<'PYEOF'
import json, os, statistics, sys
w, rn, bn = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for shape, title in (("roll", "%d x 3, k = 16 (swiss roll)" % rn), ("blobs", "%d x 50, k = 100 (blobs)" % bn)):
    for start in ("first", "late"):
        recs = [json.loads(l) for l in open(os.path.join(w, shape + "-" + start + ".jsonl")) if l.strip()]
        when = "the first iterations" if start == "first" else "from iteration 31 on"
        pas = [r for r in recs if r["side"] == "pass"][0]
        sides = ["wb-lloyd", "wb-elkan", "wb-hamerly", "sklearn-lloyd", "sklearn-elkan"]
        per = {}
        print("== %s, %s; one read pass over the %.0f MB: %.1f ms wall, %.1f ms CPU (%.1f GB/s)" % (
            title, when, pas["bytes"] / 1e6, pas["seconds"] * 1e3, pas["cpu_seconds"] * 1e3,
            pas["bytes"] / pas["seconds"] / 1e9))
        for s in sides:
            rs = [r for r in recs if r["side"] == s]
            cpu = statistics.median(r["cpu_seconds"] / r["iterations"] for r in rs)
            wall = statistics.median(r["seconds"] / r["iterations"] for r in rs)
            per[s] = cpu
            print("  %-14s %3d iterations  per iteration: CPU %8.1f ms  wall %8.1f ms  inertia %.10g" % (
                s, rs[0]["iterations"], cpu * 1e3, wall * 1e3, rs[0]["inertia"]))
        for w_ in ("wb-lloyd", "wb-elkan", "wb-hamerly"):
            print("  CPU-time ratio %-10s / sklearn-lloyd %.3f, / sklearn-elkan %.3f (target <= 0.15)" % (
                w_, per[w_] / per["sklearn-lloyd"], per[w_] / per["sklearn-elkan"]))
        best = min(per[s] for s in ("wb-lloyd", "wb-elkan", "wb-hamerly"))
        print("  best wb CPU per iteration / CPU of one read pass: %.1f" % (best / pas["cpu_seconds"]))
PYEOF
