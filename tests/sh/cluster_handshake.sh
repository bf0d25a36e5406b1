#!/bin/bash
# cluster_handshake.sh — both sides of the token handshake must prove the
# token. A fake head (cluster_peer.py --fake-head, its MACs computed with
# Python's hmac, independently of wb) answers a driver and a worker with a
# proof that is wrong entirely, or in its last byte only: both refuse it with
# their message and hang up. With the right proof they get past the handshake
# (so the refusals are the proof's doing). A client MAC wrong in its last byte
# only is refused by a real head. The fake peer speaks without TLS (Python
# has no TLS 1.3 external PSK), so every wb process here runs with
# --insecure-no-tls / insecure_no_tls = true: the handshake inside is the
# same one TLS carries.
. "$(dirname "$0")/cluster_common.bash"
PEER="/usr/bin/python3 $(dirname "$0")/cluster_peer.py"
TOKEN="handshake-token-0123456789abcdef"
make_token "$T/tok" "$TOKEN"

# fake_head CASE: starts a fake head answering with proof CASE; sets FAKE (its address)
fake_head() {
  rm -f "$T/$1.port"
  $PEER --fake-head "$T/$1.port" "$1" "$TOKEN" >"$T/$1.peer.out" 2>"$T/$1.peer.log" &
  PIDS+=($!)
  local i
  for i in $(seq 400); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
  [ -s "$T/$1.port" ] || fail "the fake head ($1) did not start: $(cat "$T/$1.peer.log")"
  FAKE="127.0.0.1:$(cat "$T/$1.port")"
}

for case in wrongmac lastbyte; do
  fake_head "$case"
  # a driver
  out=$(timeout 120 "$WB" -e "print(pcall(wb.connect, '$FAKE', {token_file = '$T/tok', timeout = 60, insecure_no_tls = true}))" 2>&1)
  echo "$out" | grep -q "^false	cluster: the head at $FAKE could not prove it knows the cluster token$" ||
    fail "driver against a fake head ($case): $out"
  wait_for "$T/$case.peer.out" "client-closed" 30 || fail "the driver kept the connection ($case)"
  grep -q "^client-proved-token role 3" "$T/$case.peer.out" || fail "the driver's MAC ($case): $(cat "$T/$case.peer.out")"
  pass "driver refuses a head whose proof is wrong ($case): $(echo "$out" | cut -f2)"
  # a worker
  start_worker "w_$case" --address "$FAKE" --token-file "$T/tok" --threads 1 --connect-timeout 60 --insecure-no-tls
  wait_pid "$WORKER_PID" 120
  [ "$RC" = 1 ] || fail "worker against a fake head ($case) exited $RC: $(cat "$T/w_$case.log")"
  grep -q "the head at $FAKE could not prove it knows the cluster token" "$T/w_$case.log" ||
    fail "worker message ($case): $(cat "$T/w_$case.log")"
  grep -q "^client-proved-token role 2" "$T/$case.peer.out" || fail "the worker's MAC ($case): $(cat "$T/$case.peer.out")"
  # (the worker has exited; the fake head may see the close a moment later)
  for i in $(seq 600); do [ "$(grep -c '^client-closed' "$T/$case.peer.out")" = 2 ] && break; sleep 0.05; done
  [ "$(grep -c '^client-closed' "$T/$case.peer.out")" = 2 ] || fail "the worker kept the connection ($case)"
  pass "worker refuses a head whose proof is wrong ($case): $(grep "could not prove" "$T/w_$case.log")"
done

# the control: the right proof takes the driver past the handshake (the fake
# head then hangs up, which the driver reports otherwise)
fake_head good
out=$(timeout 120 "$WB" -e "print(pcall(wb.connect, '$FAKE', {token_file = '$T/tok', timeout = 60, insecure_no_tls = true}))" 2>&1)
echo "$out" | grep -q "^false	" || fail "driver against the good fake head: $out"
echo "$out" | grep -q "could not prove" && fail "the right proof was refused: $out"
grep -q "^client-proved-token role 3" "$T/good.peer.out" || fail "the driver's MAC (good): $(cat "$T/good.peer.out")"
pass "the right proof is accepted: $(echo "$out" | cut -f2)"

# a real head refuses a client MAC that differs in its last byte only
start_head head --token-file "$T/tok" --insecure-no-tls
out=$($PEER "$ADDR" lastbyte "$TOKEN" 2>&1)
[ "$out" = "reject -9 authentication failed: wrong cluster token" ] || fail "client MAC wrong in its last byte: $out"
wait_for "$T/head.log" "dropped peer 127.0.0.1:[0-9]*: authentication failed (wrong cluster token)" ||
  fail "the head did not log the refusal"
out=$($PEER "$ADDR" good "$TOKEN" 2>&1)
[ "$out" = "auth_ok head-proved-token token-absent" ] || fail "the right MAC: $out"
pass "head refuses a client MAC wrong in its last byte, accepts the right one"
