#!/bin/bash
# cluster_dashboard.sh — the head's dashboard: the JSON API (workers, task
# counts by state, throughput per second, recent errors), the page as
# headless Chromium renders it (the numbers of the API in the DOM, a row per
# worker, the chart), no external resources, and HTTP errors for requests it
# does not serve. WB_DASHBOARD_SCREENSHOT=path keeps a screenshot.
# Skips (77) when chromium is missing.
. "$(dirname "$0")/cluster_common.bash"
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then echo "SKIP: chromium is not installed (apt-get install -y chromium)"; exit 77; fi
make_token "$T/tok" "dash-token-0123456789abcdef"
start_head head --token-file "$T/tok"
start_worker w1 --address "$ADDR" --token-file "$T/tok" --threads 1 --plugin "$KERNELS"
start_worker w2 --address "$ADDR" --token-file "$T/tok" --threads 2 --memory-limit 64MB --plugin "$KERNELS"
"$WB" -e "wb.plugin.load('$KERNELS') wb.connect('$ADDR', {token_file = '$T/tok', workers = 2})
local fs = {}
for i = 1, 500 do fs[i] = wb.core.submit('cluster.noop', {}, '') end
wb.core.wait(fs)
local d = wb.datagen.classification{n = 50000, features = 4, informative = 2, redundant = 2, seed = 1}
d:describe()
print(pcall(wb.core.get, wb.core.submit('cluster.sleep', {}, 'x')))
_G.keep = d" >"$T/driver.out" 2>&1 || fail "driver: $(cat "$T/driver.out")"
URL="http://127.0.0.1:$DASH/"

# the JSON API
/usr/bin/python3 - "$URL" >"$T/api.out" 2>&1 <<'PY' || fail "api: $(cat "$T/api.out")"
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(sys.argv[1] + "api/status"))
w = s["workers"]
assert len(w) == 2 and all(x["alive"] for x in w), w
assert sorted(x["threads"] for x in w) == [1, 2], w
assert any(x["memory_limit"] == 64 << 20 for x in w), w
for x in w:
    for k in ("memory_used", "objects", "tasks_running", "tasks_queued", "tasks_done", "last_heartbeat", "plugins"):
        assert k in x, k
t = s["tasks"]
assert t["done"] >= 500 + 4 and t["failed"] >= 1 and t["submitted"] >= t["done"], t
assert sum(s["throughput"]) == t["done"], (sum(s["throughput"]), t["done"])
assert any("cluster.sleep: the argument is 8 bytes" in e["message"] for e in s["errors"]), s["errors"]
print("api", t["done"], "tasks done;", len(s["throughput"]), "seconds of throughput;", len(s["errors"]), "errors")
PY
pass "$(cat "$T/api.out")"
DONE=$(/usr/bin/python3 -c "import json,urllib.request; print(json.load(urllib.request.urlopen('${URL}api/status'))['tasks']['done'])")

# the page as a browser renders it
run_chrome() {
  timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --hide-scrollbars --user-data-dir="$T/profile" --window-size=1200,800 "$@" 2>"$T/chrome.log"
}
run_chrome --virtual-time-budget=3000 --dump-dom "$URL" >"$T/dom.html" || fail "chromium: $(tail -3 "$T/chrome.log")"
grep -q 'data-rendered="1"' "$T/dom.html" || fail "the page's script did not render"
grep -q '<div class="value" id="workers-alive">2</div>' "$T/dom.html" || fail "workers alive not shown"
grep -q '<span id="threads-total">3</span>' "$T/dom.html" || fail "threads not shown"
grep -q "<div class=\"value\" id=\"tasks-done\">$DONE</div>" "$T/dom.html" || fail "tasks done ($DONE) not shown"
[ "$(grep -o '<tr class="alive" data-worker="[0-9]*">' "$T/dom.html" | wc -l)" = 2 ] || fail "not one row per worker"
grep -q 'class="num w-threads">2</td>' "$T/dom.html" || fail "a worker's threads"
grep -q '64.0 MB' "$T/dom.html" || fail "the memory limit"
grep -q '<polyline points="' "$T/dom.html" || fail "no throughput chart"
grep -q 'cluster.sleep: the argument is 8 bytes' "$T/dom.html" || fail "the recent error is not listed"
pass "chromium renders: 2 workers, 3 threads, $DONE tasks done, chart, recent errors"
# no external resources: every script and stylesheet is served by the head
! grep -Eo '(src|href)="[^"]*"' "$T/dom.html" | grep -v '="app.js"\|="style.css"' | grep . || fail "external resources"
SHOT=${WB_DASHBOARD_SCREENSHOT:-$T/dashboard.png}
run_chrome --virtual-time-budget=3000 --screenshot="$SHOT" "$URL" >/dev/null || true
[ -s "$SHOT" ] || fail "no screenshot"
pass "screenshot $SHOT ($(stat -c %s "$SHOT") bytes)"

# HTTP: what it does not serve
/usr/bin/python3 - "$DASH" <<'PY' || fail "http errors"
import socket, sys
def ask(req):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(req); r = b""
    while True:
        c = s.recv(65536)
        if not c: break
        r += c
    return r.split(b"\r\n", 1)[0].decode()
assert ask(b"GET /nope HTTP/1.1\r\n\r\n") == "HTTP/1.1 404 Not Found"
assert ask(b"POST /api/status HTTP/1.1\r\n\r\n") == "HTTP/1.1 405 Method Not Allowed"
assert ask(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n") == "HTTP/1.1 431 Request Header Fields Too Large"
assert ask(b"\x00\x01garbage\r\n\r\n") == "HTTP/1.1 400 Bad Request"
assert ask(b"HEAD /app.js HTTP/1.1\r\n\r\n") == "HTTP/1.1 200 OK"
print("ok")
PY
kill -0 "$HEAD_PID" || fail "the head died"
pass "404, 405, 431, 400 for what the dashboard does not serve"
