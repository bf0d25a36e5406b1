#!/bin/bash
# bench/preprocess.sh [WB] [--rows N] [--gbdt-rows N] [--repeats R] [--csv PATH]:
# wb's preprocessing and category-aware models against scikit-learn 1.2, in
# one run, on the same files and cores (wb: bench/preprocess.lua; peers:
# bench/peers/preprocess_peer.py):
#   1. pipeline CV: impute(median) + onehot + scaler + logreg(C=1), 5-fold
#      cross-validated accuracy on a real-world CSV with text columns and NA
#      (default: palmerpenguins' penguins.csv, Debian package
#      r-cran-palmerpenguins; --csv PATH LABEL for another), wb.load reading
#      it, against ColumnTransformer + StandardScaler + LogisticRegression on
#      the same folds (wb's stratified folds, written out for the peer); also
#      gbdt against HistGradientBoosting with categorical_features there;
#   2. gbdt with native categories against HistGradientBoosting with
#      categorical_features: held-out accuracy and fit time on
#      bench/peers/preprocess_data.py's CSV (--gbdt-rows, default 500 000;
#      80 % train);
#   3. transform speed: wb.pipeline{impute(median), scaler, onehot(max_categories
#      20)} fitted and applied to bench/tables_data.py's CSV (--rows, default
#      2 000 000 rows: 8 number and 4 text columns with quotes and NA) against
#      ColumnTransformer([SimpleImputer + StandardScaler on the number
#      columns, OneHotEncoder on the text columns]).
# Times are medians of R runs (wall and CPU seconds of the process: wb's
# os.clock, the peer's time.process_time); the machine may be shared, so the
# load average is printed. Reading the files is not timed (bench/tables.sh
# measures reading).
set -e
here=$(cd "$(dirname "$0")" && pwd)
WB=${1:-$here/../build/wb}
[ $# -gt 0 ] && shift
ROWS=2000000
GROWS=500000
REPEATS=3
CSV=/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv
LABEL=species
while [ $# -gt 0 ]; do
  case $1 in
    --rows) ROWS=$2; shift 2 ;;
    --gbdt-rows) GROWS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --csv) CSV=$2; LABEL=$3; shift 3 ;;
    *) echo "usage: $0 [WB] [--rows N] [--gbdt-rows N] [--repeats R] [--csv PATH LABEL]" >&2; exit 2 ;;
  esac
done
PY=/usr/bin/python3
export PYTHONWARNINGS=ignore
export OMP_WAIT_POLICY=${PEER_OMP_WAIT_POLICY:-PASSIVE}
PEER=$here/peers/preprocess_peer.py
[ -x "$WB" ] || { echo "preprocess.sh: no wb binary at $WB" >&2; exit 1; }
[ -f "$CSV" ] || { echo "preprocess.sh: no $CSV (apt-get install r-cran-palmerpenguins, or --csv PATH LABEL)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); repeats=$REPEATS"

echo "== 1. pipeline impute + onehot + scaler + logreg, 5-fold CV on $(basename "$CSV") (label $LABEL)"
"$WB" "$here/preprocess.lua" cv "$CSV" "$LABEL" "$work/folds.txt" > "$work/cv.jsonl"
$PY -W ignore "$PEER" cv "$CSV" "$LABEL" "$work/folds.txt" >> "$work/cv.jsonl"

echo "== 2. gbdt with category splits vs HistGradientBoosting(categorical_features), $GROWS rows"
$PY "$here/peers/preprocess_data.py" "$work/cat.csv" "$GROWS"
NTR=$((GROWS * 8 / 10))
"$WB" "$here/preprocess.lua" gbdt "$work/cat.csv" y "$NTR" "$REPEATS" > "$work/gbdt.jsonl"
$PY -W ignore "$PEER" gbdt "$work/cat.csv" y "$NTR" "$REPEATS" >> "$work/gbdt.jsonl"
rm -f "$work/cat.csv"

echo "== 3. transform: impute + scaler + onehot of $ROWS rows (8 number, 4 text columns)"
$PY "$here/tables_data.py" "$work/t.csv" "$ROWS"
/usr/bin/time -v "$WB" "$here/preprocess.lua" transform "$work/t.csv" "$REPEATS" > "$work/tf.jsonl" 2> "$work/time_wb.txt" \
  || { cat "$work/time_wb.txt" >&2; exit 1; }
/usr/bin/time -v $PY -W ignore "$PEER" transform "$work/t.csv" "$REPEATS" >> "$work/tf.jsonl" 2> "$work/time_py.txt" \
  || { cat "$work/time_py.txt" >&2; exit 1; }
kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
echo "{\"mode\": \"peak\", \"wb\": $(kb "$work/time_wb.txt"), \"sklearn\": $(kb "$work/time_py.txt")}" >> "$work/tf.jsonl"

cat "$work/cv.jsonl" "$work/gbdt.jsonl" "$work/tf.jsonl" | $PY -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
get = lambda mode, side: next(r for r in rows if r["mode"] == mode and r.get("side") == side)
w, s = get("cv", "wb"), get("cv", "sklearn")
fmt = lambda v: " ".join("%.4f" % x for x in v)
print("\n1. 5-fold CV accuracy, %d rows x %d columns, the same folds" % (w["rows"], w["cols"]))
print("   pipeline  wb %.4f [%s]" % (w["pipeline_mean"], fmt(w["pipeline_folds"])))
print("             scikit-learn %.4f [%s]" % (s["pipeline_mean"], fmt(s["pipeline_folds"])))
d = abs(w["pipeline_mean"] - s["pipeline_mean"])
print("             difference %.4f (%s 0.01)" % (d, "within" if d <= 0.01 else "NOT within"))
print("   gbdt      wb %.4f [%s]" % (w["gbdt_mean"], fmt(w["gbdt_folds"])))
print("   HistGradientBoosting %.4f [%s]" % (s["gbdt_mean"], fmt(s["gbdt_folds"])))
w, s = get("gbdt", "wb"), get("gbdt", "sklearn")
print("\n2. gbdt, %d training rows (%d category columns), %d held out" % (w["train_rows"], w["categorical"], w["test_rows"]))
print("   %-22s accuracy %.4f  fit %.2f s wall, %.2f s CPU (%d threads)" % ("wb gbdt", w["accuracy"], w["fit_seconds"], w["fit_cpu"], w["threads"]))
print("   %-22s accuracy %.4f  fit %.2f s wall, %.2f s CPU" % ("HistGradientBoosting", s["accuracy"], s["fit_seconds"], s["fit_cpu"]))
print("   fit time: wb %.1fx faster (wall), %.1fx less CPU" % (s["fit_seconds"] / w["fit_seconds"], s["fit_cpu"] / w["fit_cpu"]))
w, s, p = get("transform", "wb"), get("transform", "sklearn"), next(r for r in rows if r["mode"] == "peak")
print("\n3. impute + scaler + onehot, %d rows, %d -> %d columns (scikit-learn: %d)" % (w["rows"], w["cols_in"], w["cols_out"], s["cols_out"]))
for k in ("fit", "transform", "total"):
    print("   %-9s wb %6.2f s  scikit-learn %6.2f s  %5.1fx" % (k, w[k + "_seconds"], s[k + "_seconds"], s[k + "_seconds"] / w[k + "_seconds"]))
print("   CPU       wb %6.2f s  scikit-learn %6.2f s  %5.1fx (fit + transform)" % (w["fit_cpu"] + w["transform_cpu"],
      s["fit_cpu"] + s["transform_cpu"], (s["fit_cpu"] + s["transform_cpu"]) / (w["fit_cpu"] + w["transform_cpu"])))
print("   first row sum: wb %.6f, scikit-learn %.6f (the same numbers)" % (w["row1_sum"], s["row1_sum"]))
print("   peak memory of the process (reading included): wb %.0f MB, scikit-learn %.0f MB" % (p["wb"] / 1024, p["sklearn"] / 1024))
'
