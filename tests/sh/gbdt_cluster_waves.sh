#!/bin/bash
# gbdt_cluster_waves.sh WB — on a cluster of two workers, a gbdt wave is one
# round trip: the wave's tasks know each worker process's share (from where
# the round's gbdt.begin ran the partitions) and the last task of each
# process returns the process's histogram sum, instead of the driver fetching
# every token and then running a gbdt.collect per process. So is a round's
# gbdt.begin after the first round: its tasks go as the first round's plan
# says and return the root histograms. The fit's trace (WB_GBDT_TRACE)
# counts how each histogram sum came back: only the first gbdt.begin (and
# the rounds of a fit whose sums were refused) collect after the tokens.
# The partitions are spread over both workers, and the model is the local one.
set -uo pipefail
WB=$(realpath "${1:?usage: gbdt_cluster_waves.sh path/to/wb}")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$T/fit.lua" <<'LUA'
wb.quiet(true)
local P = {n_trees = 5, max_leaves = 7, seed = 3}
-- 4 partitions of 4096 rows (100 columns: 4096 rows a partition)
local d = wb.datagen.classification{n = 16384, features = 100, informative = 5, redundant = 5, seed = 2}
assert(d:partitions() == 4, "4 partitions expected, got " .. d:partitions())
local ml = wb.fit("gbdt", d, P)
wb.cluster{workers = 2, threads = 1}
local dc = wb.datagen.classification{n = 16384, features = 100, informative = 5, redundant = 5, seed = 2}
local mc = wb.fit("gbdt", dc, P)
assert(mc:encode() == ml:encode(), "cluster: not the local model")
print("same model")
wb.disconnect()
LUA
(cd "$T" && WB_GBDT_TRACE=1 "$WB" "$T/fit.lua") >"$T/log" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$T/log"; fail "wb exited $rc"; }
grep -q "^same model" "$T/log" || fail "no model comparison: $(tail -3 "$T/log")"
# the second fit is the cluster's: the last trace lines
line=$(grep "histogram sums:" "$T/log" | tail -1)
spread=$(grep "per worker process:" "$T/log" | tail -1)
[ -n "$line" ] || fail "no trace of the histogram sums: $(cat "$T/log")"
sums='s/.*histogram sums: \([0-9]*\) returned by the wave tasks, \([0-9]*\) by the begin tasks, \([0-9]*\) collected after the tokens.*/'
direct=$(sed -n "$sums\\1/p" <<<"$line")
begins=$(sed -n "$sums\\2/p" <<<"$line")
after=$(sed -n "$sums\\3/p" <<<"$line")
[ -n "$direct" ] && [ -n "$begins" ] && [ -n "$after" ] || fail "trace line: $line"
# 5 rounds of 7 leaves: one gbdt.begin each, and waves that split the best
# leaf and the two next best ahead (6 splits a tree: fewer than 6 waves a
# round, where one split a wave takes 6); every wave builds a histogram here
waves=$(grep "; [0-9]* waves$" "$T/log" | tail -1 | sed 's/.*; \([0-9]*\) waves$/\1/')
[ -n "$waves" ] || fail "no wave count in the trace: $(tail -3 "$T/log")"
[ "$after" -eq 1 ] || fail "expected the first gbdt.begin's sums after the tokens, got $after ($line)"
[ "$begins" -eq 4 ] || fail "expected the sums of the 4 later gbdt.begin returned by their tasks, got $begins ($line)"
[ "$direct" -eq "$waves" ] || fail "expected the sums of all $waves waves returned by their tasks, got $direct ($line)"
[ "$waves" -lt 30 ] && [ "$waves" -ge 10 ] || fail "expected 10 to 29 waves for 5 trees of 6 splits, got $waves"
[ "$spread" = "gbdt: 4 partitions, per worker process: 2 (8192 rows) 2 (8192 rows)" ] || fail "partitions not spread over the workers: '$spread'"
echo "gbdt_cluster_waves: ok ($waves waves; $line)"
