#!/bin/bash
# cluster_auth.sh — the token handshake: a worker or driver with another
# token is refused with a clear message, the head logs the peer's address and
# keeps serving; the token never appears in what crosses the wire.
. "$(dirname "$0")/cluster_common.bash"

make_token "$T/good" "good-token-0123456789abcdef"
make_token "$T/bad" "bad-token-0123456789abcdef00"
start_head head --token-file "$T/good"

# a worker with the wrong token: refused, exits 1, says why; the head logs it
start_worker w_bad --address "$ADDR" --token-file "$T/bad" --connect-timeout 5
wait_pid "$WORKER_PID" 60
[ "$RC" = 1 ] || fail "worker with a wrong token exited $RC"
grep -q "refused the connection: authentication failed: wrong cluster token" "$T/w_bad.log" || fail "worker message"
wait_for "$T/head.log" "dropped peer 127.0.0.1:[0-9]*: authentication failed (wrong cluster token)" ||
  fail "head did not log the refused worker with its address"
pass "wrong-token worker refused and logged"

# a driver with the wrong token: an error naming the reason, within the timeout
out=$("$WB" -e "local ok, e = pcall(wb.connect, '$ADDR', {token = 'bad-token-0123456789abcdef00', timeout = 5})
print(ok, e)" 2>&1)
echo "$out" | grep -q "false.*refused the connection: authentication failed: wrong cluster token" ||
  fail "driver message: $out"
pass "wrong-token driver refused: $(echo "$out" | head -1)"

# a token too short to be one
out=$("$WB" -e "local ok, e = pcall(wb.connect, '$ADDR', {token = 'short'}) print(e)" 2>&1)
echo "$out" | grep -q "a token of 5 characters (16 to 1024 expected)" || fail "short token: $out"

# the head still serves: a worker and a driver with the right token work
start_worker w_good --address "$ADDR" --token-file "$T/good" --threads 1 --plugin "$KERNELS"
wait_for "$T/head.log" "worker 1 joined" || fail "good worker did not join"
out=$("$WB" -e "wb.plugin.load('$KERNELS') wb.connect('$ADDR', {token_file = '$T/good', workers = 1})
local o = wb.core.submit('cluster.pid', {}, '')
print('pid', string.unpack('<I4', wb.core.get(o)))" 2>&1)
echo "$out" | grep -q "^pid	$WORKER_PID" || fail "task did not run on the worker: $out"
pass "head keeps serving after refusals"

# the token file is private; the token is not in the head's output or logs
[ "$(stat -c %a "$T/good")" = 600 ] || fail "token file mode"
! grep -q "good-token" "$T/head.log" "$T/head.out" || fail "token printed by the head"

# the head makes a token file (mode 600) when the one named does not exist
start_head head2 --token-file "$T/new/token"
[ "$(stat -c %a "$T/new/token")" = 600 ] || fail "new token file mode"
[ "$(wc -c < "$T/new/token")" -ge 64 ] || fail "new token length"
grep -q "wrote a new cluster token to $T/new/token (mode 600)" "$T/head2.log" || fail "new token message"
pass "head writes a new token with mode 600"
