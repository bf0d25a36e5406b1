#!/bin/bash
# preprocess_sklearn.sh WB -- issue "Real tables in", measured against
# scikit-learn in one run on a real-world CSV with text columns and NA
# (palmerpenguins' penguins.csv, Debian's r-cran-palmerpenguins): wb.load
# reads it, and on the same five stratified folds (wb's, written out for the
# peer) the 5-fold cross-validated accuracy of
#   - wb.pipeline{impute(median), onehot(ignore), scaler, logreg(C=1)} is
#     within 0.01 of ColumnTransformer(SimpleImputer, OneHotEncoder) +
#     StandardScaler + LogisticRegression, and
#   - gbdt with its category splits is within 0.01 of HistGradientBoosting
#     with categorical_features (the same trees' parameters).
# Both sides are bench/preprocess.sh's (bench/preprocess.lua cv and
# bench/peers/preprocess_peer.py cv, run with Debian's /usr/bin/python3).
set -uo pipefail
WB=$(realpath "${1:?usage: preprocess_sklearn.sh path/to/wb}")
src=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PY=/usr/bin/python3
CSV=/usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$CSV" ] || fail "$CSV is absent: install Debian's r-cran-palmerpenguins (scripts/setup.sh --test does)"
"$PY" -c "import sklearn, pandas" 2>/dev/null ||
  fail "$PY lacks scikit-learn or pandas (Debian's python3-sklearn, python3-pandas; scripts/setup.sh --test)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$WB" "$src/bench/preprocess.lua" cv "$CSV" species "$T/folds" > "$T/wb.json" 2> "$T/wb.err" ||
  fail "wb's side: $(cat "$T/wb.err")"
[ "$(wc -l < "$T/folds")" = 344 ] || fail "folds: $(wc -l < "$T/folds") lines for 344 rows"
# one OpenMP thread: HistGradientBoosting's threads spin on a loaded machine
# (90 s instead of 5 here); its trees do not depend on the thread count
OMP_NUM_THREADS=1 "$PY" "$src/bench/peers/preprocess_peer.py" cv "$CSV" species "$T/folds" > "$T/sk.json" 2> "$T/sk.err" ||
  fail "scikit-learn's side: $(cat "$T/sk.err")"
"$PY" - "$T/wb.json" "$T/sk.json" <<'EOF' || fail "wb and scikit-learn differ"
import json, sys
wb = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sk = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
ok = True
assert wb["rows"] == sk["rows"] == 344, (wb["rows"], sk["rows"])
assert wb["cols"] == sk["cols"] == 7, (wb["cols"], sk["cols"])
for what in ("pipeline", "gbdt"):
    a, b = wb[what + "_mean"], sk[what + "_mean"]
    good = abs(a - b) <= 0.01 and a > 0.9
    print("%s %s: 5-fold accuracy wb %.4f %s, scikit-learn %.4f %s, difference %.4f" % (
        "ok:" if good else "FAIL:", what, a, [round(v, 4) for v in wb[what + "_folds"]], b,
        [round(v, 4) for v in sk[what + "_folds"]], a - b))
    ok = ok and good
sys.exit(0 if ok else 1)
EOF
echo "PASS: preprocess_sklearn"
