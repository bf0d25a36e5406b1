#!/bin/bash
# quickstart.sh WB — the main job of the README (wb -e examples/quickstart.lua)
# runs to the end and writes what it says: the accuracies of three
# classifiers in a CSV (each well above chance on this separable data), the
# grid search in JSON with its best parameters among the grid, and an SVG
# scatter plot with one circle per sampled point.
set -uo pipefail
WB=$(realpath "${1:?usage: quickstart.sh path/to/wb}")
src=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$T" && "$WB" -e "$src/examples/quickstart.lua" "$T/out") >"$T/log" 2>&1 || { cat "$T/log"; fail "quickstart exited $?"; }
grep -q "results in $T/out/" "$T/log" || fail "no closing line: $(tail -3 "$T/log")"

csv=$T/out/classification.csv
# the name of what was measured first, then the numbers
[ "$(head -1 "$csv")" = "estimator,accuracy,fit_s" ] || fail "CSV header: $(head -1 "$csv")"
for e in logreg sgd gbdt; do
  a=$(awk -F, -v e=$e '$1 == e { print $2 }' "$csv")
  awk -v a="$a" 'BEGIN { exit !(a > 0.8 && a <= 1) }' || fail "$e accuracy '$a'"
done
gbdt=$(awk -F, '$1 == "gbdt" { print $2 }' "$csv")
lr=$(awk -F, '$1 == "logreg" { print $2 }' "$csv")
awk -v g="$gbdt" -v l="$lr" 'BEGIN { exit !(g > l) }' || fail "trees ($gbdt) not above the linear model ($lr) on clustered data"

/usr/bin/env python3 - "$T/out/grid.json" <<'PY' || fail "grid.json"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["kind"] == "gridsearch" and g["folds"] == 3, g
assert g["best_params"]["C"] in (0.01, 0.1, 1, 10) and g["best_params"]["penalty"] in ("l1", "l2")
assert len(g["results"]) == 8
assert max(r["mean_score"] for r in g["results"]) == g["best_score"]
PY

svg=$T/out/pca_clusters.svg
head -c 200 "$svg" | grep -q "<svg" || fail "not an SVG"
n=$(grep -o "<circle" "$svg" | wc -l)
[ "$n" -ge 5000 ] || fail "$n circles for 5000 points"
echo "PASS: quickstart ($(grep -c . "$T/log") lines of output; accuracies logreg $lr, gbdt $gbdt; $n circles)"
