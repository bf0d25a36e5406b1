#!/bin/bash
# cluster_soak.sh — the short version of the cluster soak (bench/soak.sh, a
# few minutes there): a head and 3 workers on 127.0.0.1 under a stream of
# mixed tasks for 40 s while workers are killed and restarted every 1-3 s
# (half of them by SIGTERM, so the workers' own shutdown runs often: a
# sanitizer build then checks it frees what it holds mid-task).
# It passes when every job gave exactly one result, the right one, the head
# counted exactly the tasks submitted and none failed, no object is lost or
# left, the head's descriptors are as before and its memory back near where
# it started (not checked in a sanitizer build: its allocator holds freed
# memory in a quarantine of 256 MB), and no process reported a sanitizer
# error (the head is stopped with SIGTERM, so leaks in it are reported).
WB=${1:?usage: $0 path/to/wb}
SRC=${WB_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
slack=4096
if ldd "$WB" 2>/dev/null | grep -q "libasan\|libtsan"; then
  slack=100000000
  echo "note: a sanitizer build: the head's memory is reported, not checked"
fi
out=$(SOAK_KILL_MIN=1 SOAK_KILL_MAX=3 SOAK_TERM_PERCENT=50 SOAK_RSS_SLACK_KB=$slack bash "$SRC/bench/soak.sh" "$WB" 40 3 7 2>&1)
rc=$?
echo "$out"
[ $rc = 0 ] || { echo "FAIL: the soak failed (exit $rc)"; exit 1; }
# the figures are there and say what the checks said
echo "$out" | grep -q "^soak: PASSED$" || { echo "FAIL: no PASSED line"; exit 1; }
echo "$out" | grep -q "results: [0-9]* right, 0 wrong, 0 failed, 0 lost$" || { echo "FAIL: results line"; exit 1; }
echo "$out" | grep -q "^soak: workers killed [1-9][0-9]* " || { echo "FAIL: no worker killed"; exit 1; }
echo "$out" | grep -q "^soak: objects left on the head 0, lost 0$" || { echo "FAIL: objects line"; exit 1; }
echo "ok: cluster soak (40 s)"
