#!/bin/bash
# cluster_limits.sh — the limits that protect a head (and a worker's data
# port): an address that failed the handshake too often is refused for a
# while with a clear reason, then served again; connections past the limit
# are refused with a clear reason, the head logs it and keeps serving; a frame
# over the size limit drops the peer (also in cluster_badpeers.sh).
. "$(dirname "$0")/cluster_common.bash"
make_token "$T/tok" "limits-token-0123456789abcdef"

# a raw peer: opens N connections, reads the first frame of each, prints
# "hello" or "reject CODE TEXT" per connection, keeps them open for HOLD s
cat >"$T/raw.py" <<'PY'
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
n, hold = int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.create_connection((host, int(port)), timeout=5)
    h = b""
    while len(h) < 8:
        c = s.recv(8 - len(h))
        if not c:
            break
        h += c
    if len(h) < 8:
        print("closed")
        continue
    ln, t, f = struct.unpack("<IHH", h)
    p = b""
    while len(p) < ln:
        c = s.recv(ln - len(p))
        if not c:
            break
        p += c
    if t == 1:
        print("hello")
    elif t == 4:
        code, m = struct.unpack("<iI", p[:8])
        print("reject", code, p[8:8 + m].decode())
    else:
        print("frame", t)
    sys.stdout.flush()
    socks.append(s)
time.sleep(hold)
PY
PEER="/usr/bin/python3 $(dirname "$0")/cluster_peer.py"

# --- failed handshakes from one address (a 10 s window: the three failures
# come from one process, milliseconds apart; the checks made while the
# address is refused take well under a second; then the test waits for the
# head to serve again, polling, instead of sleeping through the window)
start_head head --token-file "$T/tok" --max-auth-failures 3 --auth-window-ms 10000
# connections closed without a byte (port checks) are not failed handshakes
/usr/bin/python3 - "$ADDR" <<'PY' || fail "port checks"
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
for _ in range(6):
    socket.create_connection((host, int(port)), timeout=5).close()
PY
# (each seen as closed during the handshake, or reset when the head's HELLO was unread)
for _ in $(seq 600); do [ "$(grep -c "dropped peer" "$T/head.log")" -ge 6 ] && break; sleep 0.05; done
[ "$(grep -c "dropped peer" "$T/head.log")" -ge 6 ] || fail "the head did not see the 6 port checks"
out=$(timeout 30 "$WB" -e "wb.connect('$ADDR', {token_file = '$T/tok'}) print('connected', wb.executor().kind)" 2>&1)
[ "$out" = "connected	cluster" ] || fail "after 6 port checks: $out"
grep -q "refusing connections" "$T/head.log" && fail "port checks blocked the address: $(cat "$T/head.log")"
pass "6 port checks (no byte sent) do not count as failed handshakes"
out=$($PEER "$ADDR" wrongtoken3 x 2>&1)
[ "$(echo "$out" | grep -c "^reject -9 authentication failed: wrong cluster token$")" = 3 ] || fail "three wrong tokens: $out"
wait_for "$T/head.log" "refusing connections from 127.0.0.1 for 10 s: 3 failed handshakes within 10 s" 30 ||
  fail "the head did not log the refused address"
# now even the right token is refused, with the reason
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5}))" 2>&1)
echo "$out" | grep -q "false	cluster: the head at $ADDR refused the connection: too many failed handshakes from 127.0.0.1 (3 within 10 s); refused for another \([1-9]\|10\) s" ||
  fail "blocked driver: $out"
pass "after 3 failed handshakes: $(echo "$out" | cut -c7-)"
# refused connections do not prolong the block: a driver trying every half
# second gets in once the window is over (60 s at most)
out=$(/usr/bin/python3 "$T/raw.py" "$ADDR" 1 0)
echo "$out" | grep -q "^reject -11 too many failed handshakes" || fail "raw peer while blocked: $out"
tries=0
while :; do
  tries=$((tries + 1))
  out=$(timeout 30 "$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5}))" 2>&1)
  echo "$out" | grep -q "^true" && break
  echo "$out" | grep -q "refused for another" || fail "while waiting for the window to end: $out"
  [ "$tries" -ge 120 ] && fail "still refused after $tries tries: $out"
  sleep 0.5
done
[ "$tries" -ge 2 ] || fail "served at the first try: the address was not refused"
grep -q "dropped peer.*authentication failed" "$T/head.log" || fail "the failed handshakes were not logged"
pass "served again after the window ($tries tries)"
kill "$HEAD_PID"

# --- connections past the limit
start_head head2 --token-file "$T/tok" --max-connections 3
# held open until killed below (a loaded machine may take seconds for the checks)
/usr/bin/python3 "$T/raw.py" "$ADDR" 3 600 >"$T/idle.out" &
IDLE=$!
PIDS+=("$IDLE")
for _ in $(seq 400); do [ "$(cat "$T/idle.out" 2>/dev/null | wc -l)" = 3 ] && break; sleep 0.05; done
[ "$(grep -c '^hello' "$T/idle.out")" = 3 ] || fail "3 connections: $(cat "$T/idle.out")"
out=$(/usr/bin/python3 "$T/raw.py" "$ADDR" 1 0)
[ "$out" = "reject -11 too many connections to this head (limit 3)" ] || fail "4th connection: $out"
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5}))" 2>&1)
echo "$out" | grep -q "false	cluster: the head at $ADDR refused the connection: too many connections to this head (limit 3)" ||
  fail "driver past the limit: $out"
wait_for "$T/head2.log" "refused 1 connection (the last from 127.0.0.1:[0-9]*): 3 connections are open, the limit" ||
  fail "the head did not log the refusal"
pass "past the limit: $(echo "$out" | cut -c7-)"
# once the idle ones are gone, a worker and a driver get in and work
kill "$IDLE"
wait "$IDLE" 2>/dev/null
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"
wait_for "$T/head2.log" "worker 1 joined" || fail "the worker did not join"
out=$(timeout 30 "$WB" -e "wb.plugin.load('$KERNELS') wb.connect('$ADDR', {token_file = '$T/tok', workers = 1})
print(#wb.core.get(wb.core.submit('cluster.fill', {}, string.pack('<I8B', 100, 1))))" 2>&1)
[ "$out" = 100 ] || fail "the head stopped serving: $out"
pass "the head serves once connections are free"

# --- a worker's data port has the same limit
start_head head3 --token-file "$T/tok"
start_worker w2 --address "$ADDR" --token-file "$T/tok" --threads 1 --max-connections 2
wait_for "$T/head3.log" "worker 1 joined" || fail "the limited worker did not join"
DATA=$(sed -n 's/.*worker 1 joined from .*data port \(127.0.0.1:[0-9]*\)).*/\1/p' "$T/head3.log")
[ -n "$DATA" ] || fail "no data port in: $(cat "$T/head3.log")"
out=$(/usr/bin/python3 "$T/raw.py" "$DATA" 3 0)
[ "$(echo "$out" | sed -n 3p)" = "reject -11 too many connections to this worker (limit 2)" ] ||
  fail "worker data port: $out"
pass "worker data port past its limit: $(echo "$out" | sed -n 3p)"

# --- the dashboard: idle connections cannot use up the head's descriptors
/usr/bin/python3 - "$DASH" <<'PY' >"$T/dash.out" 2>&1 || fail "dashboard limit: $(cat "$T/dash.out")"
import socket, sys, time
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(64)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
ans = b""
while True:
    c = s.recv(4096)
    if not c:
        break
    ans += c
first = ans.split(b"\r\n")[0].decode()
body = ans.split(b"\r\n\r\n", 1)[1].decode()
assert first == "HTTP/1.1 503 Service Unavailable", ans
print(first, "|", body)
for i in idle:
    i.close()
# served again once the head has seen the closes (a loaded machine may take a while)
for _ in range(100):
    time.sleep(0.1)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /api/status HTTP/1.1\r\nHost: x\r\n\r\n")
    ans = s.recv(4096)
    s.close()
    if not ans.startswith(b"HTTP/1.1 503"):
        break
assert ans.startswith(b"HTTP/1.1 200"), ans[:100]
print("then", ans.split(b"\r\n")[0].decode())
PY
grep -q "503 Service Unavailable | too many connections to the dashboard (limit 64)" "$T/dash.out" || fail "dashboard: $(cat "$T/dash.out")"
grep -q "then HTTP/1.1 200" "$T/dash.out" || fail "dashboard after: $(cat "$T/dash.out")"
pass "dashboard past 64 connections: $(head -1 "$T/dash.out")"
