#!/bin/bash
# cluster_dashboard_http.sh — the dashboard's HTTP server as a web page
# elsewhere would meet it (no browser needed):
#   - it answers only for Host names it knows: loopback names, the address it
#     is bound to, and what --dashboard-allow-host adds ("*": any); another
#     Host (a DNS name an attacker points at the head: DNS rebinding) gets a
#     403 that says how to allow it; a repeated Host is a 400; no Host (no
#     browser sends that) is answered;
#   - the errors it lists show paths without their folders and no quoted
#     excerpt of a file's contents, while the driver still gets the whole
#     message;
#   - the local executor's dashboard (wb.dashboard()) does the same, with
#     allow_hosts for more names.
. "$(dirname "$0")/cluster_common.bash"
make_token "$T/tok" "dashhttp-token-0123456789abcdef"

# status line of a GET /api/status with the given header lines (\r\n-separated)
cat >"$T/ask.py" <<'PY'
import socket, sys
host, port, headers = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode().decode("unicode_escape")
s = socket.create_connection((host, port), timeout=5)
s.sendall(b"GET /api/status HTTP/1.1\r\n" + headers.encode() + b"\r\n")
r = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    r += c
head, _, body = r.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), "|", body.decode().strip()[:300])
PY
ask() { /usr/bin/python3 "$T/ask.py" "${3:-127.0.0.1}" "$1" "$2"; }

# the errors a dashboard (port $1) shows for bad.csv: each redacted (no
# secret value, folder or /tmp) and starting with $2 (equal to it with "exact")
cat >"$T/errors.py" <<'PY'
import json, sys, time, urllib.request
port, want, exact = sys.argv[1], sys.argv[2], len(sys.argv) > 3
# the head may record the worker's error a moment after the driver has it
for _ in range(100):
    s = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/status" % port, timeout=5))
    msgs = [e["message"] for e in s["errors"] if "bad.csv" in e["message"]]
    if msgs:
        break
    time.sleep(0.1)
assert msgs, s["errors"]
for m in msgs:
    assert "TOPSECRET42" not in m and "private-folder" not in m and "/tmp" not in m, m
    assert (m == want) if exact else m.startswith(want), m
print(msgs[0])
PY
dash_errors() { /usr/bin/python3 "$T/errors.py" "$@"; }

start_head head --token-file "$T/tok" --dashboard-allow-host wb-dash.example
for h in "127.0.0.1:$DASH" "127.0.0.1" "localhost:$DASH" "LOCALHOST" "127.1.2.3:$DASH" "[::1]:$DASH" "wb-dash.example:$DASH"; do
  out=$(ask "$DASH" "Host: $h\r\n")
  echo "$out" | grep -q "^HTTP/1.1 200 OK | {" || fail "Host $h: $out"
done
pass "served for loopback names and an allowed name"
out=$(ask "$DASH" "Host: evil.example:$DASH\r\n")
[ "$out" = "HTTP/1.1 403 Forbidden | 403 Forbidden
this dashboard answers only for its own address and loopback names, not for Host 'evil.example:$DASH' (to allow a name: wb head --dashboard-allow-host NAME)" ] ||
  fail "another Host: $out"
pass "another Host: $(echo "$out" | head -1)"
for h in "127.0.0.1.evil.example" "localhost.evil.example" "wb-dash.example.evil.example" "127.0.0.1@evil.example"; do
  out=$(ask "$DASH" "Host: $h\r\n")
  echo "$out" | grep -q "^HTTP/1.1 403 Forbidden" || fail "Host $h: $out"
done
out=$(ask "$DASH" "Host: 127.0.0.1\r\nHost: evil.example\r\n")
echo "$out" | grep -q "^HTTP/1.1 400 Bad Request" || fail "two Host headers: $out"
out=$(ask "$DASH" "")
echo "$out" | grep -q "^HTTP/1.1 200 OK" || fail "no Host: $out"
pass "names that only start like an allowed one: 403; two Host headers: 400; no Host: 200"
kill "$HEAD_PID"

# "*": any Host
start_head any --token-file "$T/tok" --dashboard-allow-host '*'
out=$(ask "$DASH" "Host: evil.example\r\n")
echo "$out" | grep -q "^HTTP/1.1 200 OK" || fail "--dashboard-allow-host '*': $out"
kill "$HEAD_PID"
pass "--dashboard-allow-host '*' answers any Host"

# the address the head is bound to (not a loopback one), when this machine has one
IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' | grep -v '^127\.' | head -1)
if [ -n "$IP" ]; then
  rm -f "$T/bound.ready"
  "$WB" head --host "$IP" --port 0 --dashboard-port 0 --ready-file "$T/bound.ready" --token-file "$T/tok" \
    >"$T/bound.out" 2>"$T/bound.log" &
  PIDS+=($!)
  for _ in $(seq 600); do [ -s "$T/bound.ready" ] && break; sleep 0.05; done
  BD=$(sed -n 2p "$T/bound.ready")
  out=$(ask "$BD" "Host: $IP:$BD\r\n" "$IP")
  echo "$out" | grep -q "^HTTP/1.1 200 OK" || fail "Host $IP (bound): $out"
  out=$(ask "$BD" "Host: other.example\r\n" "$IP")
  echo "$out" | grep -q "^HTTP/1.1 403 Forbidden" || fail "Host other.example on $IP: $out"
  pass "a head bound to $IP answers for Host $IP, not for another name"
fi

# errors: the driver gets the whole message, the dashboard no folder, no excerpt
start_head head2 --token-file "$T/tok"
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1
wait_for "$T/head2.log" "worker 1 joined" || fail "the worker did not join"
mkdir -p "$T/private-folder"
printf 'a,b,label\n1,2,0\n3,TOPSECRET42,1\n' >"$T/private-folder/bad.csv"
out=$("$WB" -e "wb.connect('$ADDR', {token_file = '$T/tok', workers = 1}) print(pcall(wb.load, '$T/private-folder/bad.csv', {dtype = {b = 'number'}}))" 2>&1)
echo "$out" | grep -q "^false	$T/private-folder/bad.csv:3: column \"b\": bad value \"TOPSECRET42\" (expected a number, as dtype says) (on worker 1 at " ||
  fail "the driver's message: $out"
dash_errors "$DASH" '.../bad.csv:3: column "...": bad value "..." (expected a number, as dtype says) (on worker 1 at 127.0.0.1:' >"$T/errors.out" 2>&1 ||
  fail "dashboard errors: $(cat "$T/errors.out")"
pass "the dashboard shows: $(cat "$T/errors.out")"

# the local executor's dashboard (wb.dashboard()) is the same server: the
# same Host check, with allow_hosts for more names (its 403 says so), and
# the same errors without folders or excerpts
cat >"$T/local.lua" <<LUA
local url = wb.dashboard{allow_hosts = {"wb-local.example"}}
print(pcall(wb.load, "$T/private-folder/bad.csv", {dtype = {b = "number"}}))
local f = io.open("$T/local.url.tmp", "w") f:write(url) f:close()
os.rename("$T/local.url.tmp", "$T/local.url")
while not io.open("$T/local.stop") do os.execute("sleep 0.1") end
LUA
rm -f "$T/local.url" "$T/local.stop"
"$WB" "$T/local.lua" >"$T/local.out" 2>"$T/local.log" &
LOCAL_PID=$!
PIDS+=("$LOCAL_PID")
for _ in $(seq 600); do [ -s "$T/local.url" ] && break; sleep 0.05; done
LP=$(sed -n 's|^http://127.0.0.1:\([0-9]*\)/$|\1|p' "$T/local.url")
[ -n "$LP" ] || fail "wb.dashboard() gave no URL: $(cat "$T/local.url" "$T/local.log" 2>&1)"
for h in "127.0.0.1:$LP" "localhost" "wb-local.example:$LP"; do
  out=$(ask "$LP" "Host: $h\r\n")
  echo "$out" | grep -q "^HTTP/1.1 200 OK | {" || fail "local dashboard, Host $h: $out"
done
out=$(ask "$LP" "Host: evil.example\r\n")
[ "$out" = "HTTP/1.1 403 Forbidden | 403 Forbidden
this dashboard answers only for its own address and loopback names, not for Host 'evil.example' (to allow a name: wb.dashboard{allow_hosts = \"NAME\"})" ] ||
  fail "local dashboard, another Host: $out"
pass "local dashboard: loopback names and allow_hosts served, another Host: $(echo "$out" | head -1)"
grep -q "^false	$T/private-folder/bad.csv:3: column \"b\": bad value \"TOPSECRET42\" (expected a number, as dtype says)$" "$T/local.out" ||
  fail "the local driver's message: $(cat "$T/local.out")"
dash_errors "$LP" '.../bad.csv:3: column "...": bad value "..." (expected a number, as dtype says)' exact >"$T/local_errors.out" 2>&1 ||
  fail "local dashboard errors: $(cat "$T/local_errors.out")"
pass "the local dashboard shows: $(cat "$T/local_errors.out")"
: >"$T/local.stop"
wait_pid "$LOCAL_PID" 60
[ "$RC" = 0 ] || fail "the local driver exited $RC: $(cat "$T/local.log")"
# allow_hosts takes names, one per string
out=$("$WB" -e "print(pcall(wb.dashboard, {allow_hosts = {'a,b'}}))" 2>&1)
echo "$out" | grep -q "allow_hosts takes host names (or \"\*\"), one per string" || fail "allow_hosts 'a,b': $out"
out=$("$WB" -e "print(pcall(wb.dashboard, {allow_hosts = 5}))" 2>&1)
echo "$out" | grep -q "allow_hosts must be a host name or a list of them, got number" || fail "allow_hosts = 5: $out"
pass "allow_hosts refuses 'a,b' and a number"
