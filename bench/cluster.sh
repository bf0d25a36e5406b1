#!/bin/bash
# bench/cluster.sh — the cluster benchmark and the Dask peer in one run:
#   bench/cluster.sh [path/to/wb] [tasks=10000]
# Dask: 2 worker processes x 1 thread (bench/peers/dask_tasks.py); wb: a
# 2-worker local cluster x 1 thread (bench/cluster.lua).
set -u
here=$(cd "$(dirname "$0")" && pwd)
WB=${1:-$here/../build/wb}
N=${2:-10000}
# the test plugin with cluster.fill: the one built with that wb
export WB_TEST_PLUGIN_DIR=${WB_TEST_PLUGIN_DIR:-$(dirname "$WB")/tests/plugins}
PEER=$here/peers
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
dask=$(/usr/bin/python3 "$PEER/dask_tasks.py" "$N" 2>/dev/null)
echo "$dask"
tps=$(echo "$dask" | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d.get("step") == "map_noop": print(d["tasks_per_s"])')
ms=$(echo "$dask" | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d.get("step") == "sync_roundtrip": print(d["ms_per_task"])')
"$WB" "$here/cluster.lua" "$N" "${tps:-}" "${ms:-}"
