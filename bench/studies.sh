#!/bin/sh
# bench/studies.sh [options of bench/studies.lua] -- the studies' workloads, wb
# next to scikit-learn / XGBoost / Dask in one run, with the build's wb
# (WB=path/to/wb to choose another).
here=$(cd "$(dirname "$0")/.." && pwd)
WB=${WB:-$here/build/wb}
[ -x "$WB" ] || { echo "studies.sh: no wb at $WB (build first, or set WB=)"; exit 1; }
exec "$WB" "$here/bench/studies.lua" "$@"
