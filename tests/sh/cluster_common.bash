# cluster_common.bash — helpers for the cluster's shell tests (sourced).
# Starts heads and workers on 127.0.0.1 with port 0 in a temp folder; every
# process started is stopped (by its pid) when the test exits.
set -u
WB=${1:?usage: $0 path/to/wb}
WB=$(readlink -f "$WB")
T=$(mktemp -d /tmp/wbclu.XXXXXX)
PIDS=()
# the kernels the tests drive the cluster with (cluster.sleep, cluster.fill,
# cluster.pid: tests/plugins/cluster_kernels.c): workers that run them start
# with --plugin "$KERNELS", drivers that submit them load it
# (wb.plugin.load('$KERNELS'))
KERNELS=${WB_TEST_PLUGIN_DIR:-$(dirname "$WB")/tests/plugins}/cluster_kernels.so
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  # a sanitizer report in any process's log fails the test (sanitizer builds)
  local bad=0 f
  for f in "$T"/*.log "$T"/*.out; do
    [ -f "$f" ] || continue
    if grep -q "Sanitizer\|runtime error:" "$f"; then echo "FAIL: sanitizer report in $f" >&2; cat "$f" >&2; bad=1; fi
  done
  rm -rf "$T"
  [ "$bad" = 0 ] || exit 1
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done; exit 1; }
pass() { echo "ok: $*"; }

# wait_for FILE PATTERN [SECONDS]: until grep finds PATTERN in FILE
wait_for() {
  local f=$1 pat=$2 secs=${3:-10} i
  for i in $(seq $((secs * 20))); do
    grep -q -- "$pat" "$f" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# wait_pid PID [SECONDS]: waits (30 s at most) for a child process to exit
# and sets RC to its exit status; fails the test when it is still running
wait_pid() {
  local pid=$1 secs=${2:-30} i
  for i in $(seq $((secs * 20))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && fail "process $pid still running after $secs s"
  wait "$pid"
  RC=$?
}

# start_head NAME [options...]: sets ADDR, DASH, HEAD_PID; log in $T/NAME.log
start_head() {
  local name=$1; shift
  rm -f "$T/$name.ready"
  "$WB" head --host 127.0.0.1 --port 0 --dashboard-port 0 --ready-file "$T/$name.ready" "$@" \
    >"$T/$name.out" 2>"$T/$name.log" &
  HEAD_PID=$!
  PIDS+=("$HEAD_PID")
  local i
  for i in $(seq 200); do [ -s "$T/$name.ready" ] && break; sleep 0.05; done
  [ -s "$T/$name.ready" ] || fail "head $name did not start"
  ADDR=$(sed -n 1p "$T/$name.ready")
  DASH=$(sed -n 2p "$T/$name.ready")
}

# start_worker NAME [options...]: sets WORKER_PID; log in $T/NAME.log
start_worker() {
  local name=$1; shift
  "$WB" worker "$@" >"$T/$name.out" 2>"$T/$name.log" &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
}

# the token file of a test
make_token() { printf '%s\n' "$2" >"$1"; chmod 600 "$1"; }
