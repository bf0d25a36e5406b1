#!/bin/bash
# cluster_limits.sh — the limits that protect a head (and a worker's data
# port), and that nobody can turn against its peers:
#   - connections that only open (port checks), or open and send nothing
#     until the head's handshake timeout, are not failed authentications:
#     they never lock an address out;
#   - wrong tokens are: an address that sent too many is refused for a
#     while with a clear reason (even with the right token), then served;
#   - 1000 idle connections do not keep a driver out: unauthenticated
#     connections never take the slots of authenticated ones, and past a
#     per-address cap a new one closes the oldest;
#   - authenticated peers past --max-connections are refused with a clear
#     reason, the head logs it and keeps serving; a worker's data port too;
#   - the dashboard frees its slots on every path: 64 connections that never
#     close (silent, or asking and never reading the end) keep it at 503 only
#     for a few seconds.
# A frame over the size limit drops the peer (cluster_badpeers.sh).
. "$(dirname "$0")/cluster_common.bash"
make_token "$T/tok" "limits-token-0123456789abcdef"

# a raw peer: opens N connections and keeps them open HOLD s, sending nothing;
# prints per connection what arrived first within READ s ("nothing",
# "closed", "reject CODE TEXT" for a REJECT in clear, "bytes" otherwise)
cat >"$T/raw.py" <<'PY'
import resource, socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
n, hold, rd = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
socks = []
for _ in range(n):
    socks.append(socket.create_connection((host, int(port)), timeout=5))
print("open", len(socks))
sys.stdout.flush()
if rd > 0:
    for s in socks[-3:]:
        s.settimeout(rd)
        try:
            h = s.recv(8)
        except socket.timeout:
            print("nothing")
            continue
        except ConnectionResetError:
            print("closed")
            continue
        if not h:
            print("closed")
        elif len(h) == 8 and struct.unpack("<IHH", h)[1] == 4:
            p = s.recv(struct.unpack("<IHH", h)[0])
            code, m = struct.unpack("<iI", p[:8])
            print("reject", code, p[8:8 + m].decode())
        else:
            print("bytes")
    sys.stdout.flush()
time.sleep(hold)
PY
RAW="/usr/bin/python3 $T/raw.py"
connect() { # connect ADDR [lua after connecting]: prints "connected cluster" or the error
  timeout 60 "$WB" -e "local ok, e = pcall(wb.connect, '$1', {token_file = '$T/tok', timeout = 10})
if not ok then print(e) return end
print('connected', wb.executor().kind) ${2:-}" 2>&1
}

# --- what does not count as a failed authentication (a 10 s window: the
# three wrong tokens come from one process, milliseconds apart; the checks
# made while the address is refused take well under a second; then the test
# waits for the head to serve again, polling, instead of sleeping through
# the window)
start_head head --token-file "$T/tok" --max-auth-failures 3 --auth-window-ms 10000 --handshake-timeout-ms 300
# connections closed without a byte (port checks)
/usr/bin/python3 - "$ADDR" <<'PY' || fail "port checks"
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
for _ in range(6):
    socket.create_connection((host, int(port)), timeout=5).close()
PY
# (each seen as closed during the handshake)
for _ in $(seq 600); do [ "$(grep -c "dropped peer" "$T/head.log")" -ge 6 ] && break; sleep 0.05; done
[ "$(grep -c "dropped peer" "$T/head.log")" -ge 6 ] || fail "the head did not see the 6 port checks"
# connections that send nothing until the head's handshake timeout (0.3 s here)
$RAW "$ADDR" 10 2 0 >/dev/null || fail "idle connections"
for _ in $(seq 600); do [ "$(grep -c "dropped peer 127.0.0.1:[0-9]*: no handshake within 0.3 s" "$T/head.log")" -ge 10 ] && break; sleep 0.05; done
[ "$(grep -c "dropped peer 127.0.0.1:[0-9]*: no handshake within 0.3 s" "$T/head.log")" -ge 10 ] ||
  fail "the head did not time out the 10 idle connections: $(cat "$T/head.log")"
out=$(connect "$ADDR")
[ "$out" = "connected	cluster" ] || fail "after 6 port checks and 10 timeouts: $out"
grep -q "refusing connections" "$T/head.log" && fail "port checks or timeouts blocked the address: $(cat "$T/head.log")"
pass "6 port checks and 10 handshakes timed out do not lock 127.0.0.1 out (limit 3)"

# --- wrong tokens do (three in one process: quicker than three starts on a loaded machine)
out=$(timeout 60 "$WB" -e "for i = 1, 3 do print(pcall(wb.connect, '$ADDR', {token = 'wrong-token-0123456789abcdef', timeout = 5})) end" 2>&1)
[ "$(echo "$out" | grep -c "^false	cluster: the head at $ADDR refused the connection: authentication failed: wrong cluster token")" = 3 ] ||
  fail "three wrong tokens: $out"
wait_for "$T/head.log" "refusing connections from 127.0.0.1 for 10 s: 3 failed handshakes within 10 s" 30 ||
  fail "the head did not log the refused address"
# now even the right token is refused, with the reason (in clear, before TLS)
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5}))" 2>&1)
echo "$out" | grep -q "false	cluster: the head at $ADDR refused the connection: too many failed handshakes from 127.0.0.1 (3 within 10 s); refused for another \([1-9]\|10\) s" ||
  fail "blocked driver: $out"
pass "after 3 wrong tokens: $(echo "$out" | cut -c7-)"
# refused connections do not prolong the block: a driver trying every half
# second gets in once the window is over (60 s at most)
out=$($RAW "$ADDR" 1 0 2)
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

# --- idle connections never keep an authenticating peer out
start_head head2 --token-file "$T/tok" --max-connections 2
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"
wait_for "$T/head2.log" "worker 1 joined" || fail "the worker did not join"
# 1000 connections held open, sending nothing (a loaded machine may take seconds to open them)
$RAW "$ADDR" 1000 600 0 >"$T/idle.out" &
IDLE=$!
PIDS+=("$IDLE")
for _ in $(seq 600); do grep -q "^open 1000" "$T/idle.out" 2>/dev/null && break; sleep 0.05; done
grep -q "^open 1000" "$T/idle.out" || fail "1000 idle connections: $(cat "$T/idle.out")"
wait_for "$T/head2.log" "closed [0-9]* connections\\? that had not authenticated (the last for one from 127.0.0.1): at most 64 may authenticate at once from one address, 256 in all" ||
  fail "the head did not close the oldest idle connections: $(tail -3 "$T/head2.log")"
out=$(connect "$ADDR" "wb.plugin.load('$KERNELS') print(#wb.core.get(wb.core.submit('cluster.fill', {}, string.pack('<I8B', 100, 1))))")
[ "$out" = "connected	cluster
100" ] || fail "a driver among 1000 idle connections: $out"
[ "$(ls /proc/"$HEAD_PID"/fd | wc -l)" -lt 400 ] || fail "the head holds $(ls /proc/"$HEAD_PID"/fd | wc -l) descriptors"
pass "a driver gets in and works among 1000 idle connections (the head holds $(ls /proc/"$HEAD_PID"/fd | wc -l) descriptors)"
kill "$IDLE"
wait "$IDLE" 2>/dev/null

# --- authenticated peers past the limit (2 here: the worker and one driver)
"$WB" -e "wb.connect('$ADDR', {token_file = '$T/tok'}) print('in') io.stdout:flush() os.execute('sleep 600')" >"$T/d1.out" 2>&1 &
D1=$!
PIDS+=("$D1")
for _ in $(seq 400); do grep -q "^in" "$T/d1.out" 2>/dev/null && break; sleep 0.05; done
grep -q "^in" "$T/d1.out" || fail "the first driver: $(cat "$T/d1.out")"
out=$("$WB" -e "print(pcall(wb.connect, '$ADDR', {token_file = '$T/tok', timeout = 5}))" 2>&1)
echo "$out" | grep -q "false	cluster: the head at $ADDR refused the connection: too many connections to this head (limit 2)" ||
  fail "driver past the limit: $out"
wait_for "$T/head2.log" "refused 1 connection (the last from 127.0.0.1:[0-9]*): 2 connections are open, the limit" ||
  fail "the head did not log the refusal"
pass "past the limit: $(echo "$out" | cut -c7-)"
# once one is gone, a driver gets in and works
kill "$D1"
wait "$D1" 2>/dev/null
out=$(connect "$ADDR" "wb.plugin.load('$KERNELS') print(#wb.core.get(wb.core.submit('cluster.fill', {}, string.pack('<I8B', 100, 1))))")
[ "$out" = "connected	cluster
100" ] || fail "the head stopped serving: $out"
pass "the head serves once a slot is free"

# --- a worker's data port has the same limit (1 here): a second driver
# fetching from it is refused, with the reason
start_head head3 --token-file "$T/tok"
start_worker w2 --address "$ADDR" --token-file "$T/tok" --threads 1 --max-connections 1 --plugin "$KERNELS"
wait_for "$T/head3.log" "worker 1 joined" || fail "the limited worker did not join"
big="wb.plugin.load('$KERNELS') wb.connect('$ADDR', {token_file = '$T/tok', workers = 1})
local o = wb.core.submit('cluster.fill', {}, string.pack('<I8B', 1 << 20, 1))"
"$WB" -e "$big print(#wb.core.get(o)) io.stdout:flush() os.execute('sleep 600')" >"$T/d2.out" 2>&1 &
D2=$!
PIDS+=("$D2")
for _ in $(seq 400); do grep -q "^1048576" "$T/d2.out" 2>/dev/null && break; sleep 0.05; done
grep -q "^1048576" "$T/d2.out" || fail "the first fetch: $(cat "$T/d2.out")"
out=$(timeout 60 "$WB" -e "$big print(pcall(wb.core.get, o))" 2>&1)
echo "$out" | grep -q "false	.*refused the connection: too many connections to this worker (limit 1)" ||
  fail "worker data port: $out"
pass "worker data port past its limit: $(echo "$out" | sed 's/.*refused/refused/')"
kill "$D2"

# --- the dashboard: connections that never close free their slots
/usr/bin/python3 - "$DASH" <<'PY' >"$T/dash.out" 2>&1 || fail "dashboard limit: $(cat "$T/dash.out")"
import socket, sys, time
port = int(sys.argv[1])
def ask(req=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    ans = b""
    try:
        if req:
            s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while True:
            c = s.recv(65536)
            if not c:
                break
            ans += c
    except ConnectionResetError:  # a 503 closes at once, the request unread
        pass
    s.close()
    return ans
# 64 connections that ask and never read the end or close, then 64 that never
# send a byte: each time all 64 stay open on this side until the end
held = []
for kind in ("asking", "silent"):
    for _ in range(64):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if kind == "asking":
            s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        held.append(s)
    time.sleep(0.3)
    ans = ask(False)
    first = ans.split(b"\r\n")[0].decode()
    body = ans.split(b"\r\n\r\n", 1)[1].decode()
    assert first == "HTTP/1.1 503 Service Unavailable", ans
    print(first, "|", body)
    # served again while the 64 are still open here: the head closed them (5 s
    # for a request, 2 s after an answer; a loaded machine may take longer)
    t0 = time.time()
    while time.time() - t0 < 30:
        time.sleep(0.2)
        ans = ask()
        if ans and not ans.startswith(b"HTTP/1.1 503"):
            break
    assert ans.startswith(b"HTTP/1.1 200"), ans[:100]
    print("%s: then %s after %.1f s, the 64 still open on this side" % (kind, ans.split(b"\r\n")[0].decode(), time.time() - t0))
    # the head closed each of them (an answer, then the end)
    for s in held:
        s.settimeout(30)
        got = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
        assert got.startswith(b"HTTP/1.1 " + (b"200" if kind == "asking" else b"408")), got[:60]
        s.close()
    held = []
    time.sleep(1)  # the head sees these closes before the next 64 come
PY
grep -q "503 Service Unavailable | too many connections to the dashboard (limit 64)" "$T/dash.out" || fail "dashboard: $(cat "$T/dash.out")"
grep -q "^asking: then HTTP/1.1 200" "$T/dash.out" || fail "dashboard after 64 asking: $(cat "$T/dash.out")"
grep -q "^silent: then HTTP/1.1 200" "$T/dash.out" || fail "dashboard after 64 silent: $(cat "$T/dash.out")"
pass "dashboard past 64 connections: $(head -1 "$T/dash.out"); $(grep then "$T/dash.out" | tr '\n' ';')"
