#!/bin/sh
# bench/cluster_pca.sh [N_KM [N_PCA [WIDE_N [WIDE_D [DIR]]]]] -- k-means, Davies-Bouldin and
# PCA against scikit-learn in one run (bench/cluster_pca.lua), with the wb of the build
# folder (WB=path/to/wb to choose another).
here=$(cd "$(dirname "$0")/.." && pwd)
WB=${WB:-$here/build/wb}
[ -x "$WB" ] || { echo "cluster_pca.sh: no wb at $WB (build first, or set WB=)"; exit 1; }
[ -x /usr/bin/time ] || { echo "cluster_pca.sh: /usr/bin/time is needed (apt-get install time)"; exit 1; }
exec "$WB" "$here/bench/cluster_pca.lua" "$@"
