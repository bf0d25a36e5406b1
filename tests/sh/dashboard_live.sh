#!/bin/bash
# dashboard_live.sh — the dashboard while work runs, as headless Chromium
# renders it: during gbdt fits on a local cluster of two workers (the head's
# dashboard) and during gbdt fits on the local executor (wb.dashboard()).
# On the rendered page: the running job with its progress (estimator,
# done/total, percent, ETA: the terminal's progress line), a task stream with
# bars on both workers' lanes coloured by kernel, memory and CPU over time (a
# line per worker), the objects each worker holds, log lines of the head and
# the workers, and consistent counters (the running card is the sum of the
# workers' running cells); no false failure (a gbdt fit on two workers used
# to count one FAILED task and list "the histograms of this wave are on
# several workers"). WB_DASHBOARD_SCREENSHOT_DIR=dir keeps
# dashboard-cluster.png and dashboard-local.png there. Skips (77) without
# chromium.
. "$(dirname "$0")/cluster_common.bash"
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then echo "SKIP: chromium is not installed (apt-get install -y chromium)"; exit 77; fi
SHOTS=${WB_DASHBOARD_SCREENSHOT_DIR:-$T}

run_chrome() {
  timeout 90 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --hide-scrollbars --user-data-dir="$T/profile" --window-size=1300,1900 "$@" 2>>"$T/chrome.log"
}
# a screenshot (chromium under a loaded machine sometimes dies: a few tries)
shoot() {
  local file=$1 i
  for i in 1 2 3; do
    rm -f "$file"
    run_chrome --virtual-time-budget=2500 --screenshot="$file" "$URL" >/dev/null
    [ -s "$file" ] && return 0
    sleep 1
  done
  return 1
}
api() { /usr/bin/python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "api/status", timeout=10).read().decode())' "$1"; }

# a driver fitting gbdt until $T/stop appears; it writes its dashboard's URL
# to $T/url (mode: cluster or local)
start_driver() {
  local mode=$1
  cat >"$T/driver.lua" <<LUA
wb.quiet(true)
local url
if "$mode" == "cluster" then
  url = wb.cluster{workers = 2, threads = 1, dashboard = true}.dashboard
else
  url = wb.dashboard()
end
local d = wb.datagen.classification{n = 60000, features = 12, informative = 5, redundant = 3, seed = 1}
d:names({"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"})
local f = io.open("$T/url.tmp", "w") f:write(url) f:close()
os.rename("$T/url.tmp", "$T/url")
local fits = 0
while not io.open("$T/stop") do
  local m = wb.fit("gbdt", d, {n_trees = 40, max_leaves = 15, seed = fits})
  fits = fits + 1
end
print("fits " .. fits)
LUA
  rm -f "$T/url" "$T/stop"
  "$WB" "$T/driver.lua" >"$T/driver.out" 2>"$T/driver.log" &
  DRIVER=$!
  PIDS+=("$DRIVER")
  for _ in $(seq 600); do [ -s "$T/url" ] && break; sleep 0.05; done
  [ -s "$T/url" ] || fail "the $mode driver wrote no dashboard URL: $(cat "$T/driver.log")"
  URL=$(cat "$T/url")
}

stop_driver() {
  touch "$T/stop"
  for _ in $(seq 600); do kill -0 "$DRIVER" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$DRIVER" 2>/dev/null && fail "the driver did not stop"
  wait "$DRIVER" || fail "the driver failed: $(cat "$T/driver.log")"
}

# wait until the API shows a gbdt job past its first rounds and a task
# stream on the lanes wanted, then render the page (again if the job ended
# between the two)
render() {
  local want_workers=$1 out=$2
  for _ in $(seq 120); do
    api "$URL" >"$T/api.json" 2>/dev/null && /usr/bin/python3 - "$T/api.json" "$want_workers" <<'PY' && break
import json, sys
s = json.load(open(sys.argv[1]))
jobs = [j for j in s["jobs"] if j["stages"] and j["stages"][0]["name"] == "gbdt" and j["stages"][0]["done"] >= 3]
lanes = {t[0] for t in s["stream"]["tasks"]}
hist = all(len(w["history"]["ago"]) >= 3 for w in s["workers"] if w["alive"])
sys.exit(0 if jobs and len(lanes) >= int(sys.argv[2]) and hist else 1)
PY
    sleep 0.5
  done
  local i
  # (the driver fits again and again: a rendering that caught the next fit
  # before its first round shows 0 done and no ETA, so it is made again)
  for i in 1 2 3 4 5 6; do
    run_chrome --virtual-time-budget=2500 --dump-dom "$URL" >"$out" || fail "chromium: $(tail -3 "$T/chrome.log")"
    grep -q 'data-estimator="gbdt"' "$out" && ! grep -q 'class="nums job-count">0/' "$out" && return 0
    sleep 0.3
  done
  fail "no gbdt job past its first round on the page in 6 renderings"
}

# the checks on a rendered page: kind, lanes of workers, what names the lanes
check_page() {
  local dom=$1 kind=$2 nworkers=$3
  /usr/bin/python3 - "$dom" "$kind" "$nworkers" <<'PY' || fail "the rendered $2 page: see above"
import re, sys, html
dom, kind, nw = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
errs = []
def need(cond, what):
    if not cond: errs.append(what)
def attr(name):  # the text of the element with this id
    m = re.search(r'id="%s"[^>]*>([^<]*)<' % name, dom)
    return m.group(1) if m else None
need('data-rendered="1"' in dom, "the page's script did not render")
need('data-kind="%s"' % kind in dom, "kind %s" % kind)
# the running job: estimator, done/total (percent), elapsed, ETA
jobs = re.findall(r'<div class="job" data-driver="[^"]*" data-estimator="([^"]*)">(.*?)</div></div>', dom, re.S)
need(jobs and jobs[0][0] == "gbdt", "a running gbdt job: %r" % [j[0] for j in jobs])
if jobs:
    m = re.search(r'class="nums job-count">(\d+)/(\d+) \((\d+)%\) [0-9.]+s( ETA [0-9.ms]+)?', jobs[0][1])
    need(m is not None, "the job's progress line: %r" % jobs[0][1][:300])
    if m:
        need(int(m.group(2)) == 40 and 0 < int(m.group(1)) < 40, "gbdt rounds done/total: %s/%s" % (m.group(1), m.group(2)))
        need(m.group(4) is not None, "an ETA")
# the task stream: bars on every worker's lanes, coloured by kernel, a legend
bars = re.findall(r'<rect [^>]*class="task" data-worker="(\d+)" data-kernel="([^"]+)"', dom)
need(len(bars) >= 30, "task bars: %d" % len(bars))
need(len({w for w, _ in bars}) == nw, "bars on %d workers: %r" % (nw, sorted({w for w, _ in bars})))
need(any(k == "gbdt.wave" for _, k in bars), "gbdt.wave bars")
fills = set(re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})" class="task"', dom))
need(len(fills) >= 2, "bars in several colours: %r" % fills)
need(re.search(r'id="stream-legend"[^>]*>.*data-kernel="gbdt.wave"', dom, re.S), "the legend names gbdt.wave")
# memory and CPU over time: a line per worker with several points
for chart in ("mem-chart", "cpu-chart"):
    sec = dom[dom.index('id="%s"' % chart):]
    sec = sec[:sec.index("</svg>")]
    lines = re.findall(r'<polyline [^>]*data-worker="(\d+)" data-points="(\d+)"', sec)
    need(len(lines) == nw and all(int(p) >= 2 for _, p in lines), "%s lines: %r" % (chart, lines))
# the workers: running cells sum to the running card; no failure anywhere
running = [int(x) for x in re.findall(r'class="num w-running">(\d+)<', dom)]
need(len(running) == nw, "a row per worker: %r" % running)
need(attr("tasks-running") == str(sum(running)), "running card %s = sum of the workers' %r" % (attr("tasks-running"), running))
need(attr("tasks-failed") == "0", "no failed task (card says %s)" % attr("tasks-failed"))
need(all(x == "0" for x in re.findall(r'class="num w-failed">(\d+)<', dom)), "no failed task on a worker")
need(re.search(r'<ul id="errors"><li class="empty">none</li></ul>', dom), "no recent error")
need("several workers" not in dom, "the false gbdt failure")
# the objects each worker holds
held = re.findall(r'<div class="held" data-worker="(\d+)">(.*?)</table>', dom, re.S)
need(len(held) == nw and all(h.count('<tr class="obj">') >= 1 for _, h in held), "objects per worker: %r" % [(w, h.count('<tr class="obj">')) for w, h in held])
need(all(re.search(r'<h3>[^<]*: \d+ objects?, [0-9.]+ [KMG]?B</h3>', h) for _, h in held), "each worker's object count and bytes")
# log lines
logs = re.findall(r'<div class="logline (\w+)"><span class="t">(\d\d:\d\d:\d\d) </span><span class="src">([^<]+) </span>([^<]*)</div>', dom)
need(len(logs) >= 1, "log lines")
if kind == "cluster":
    need(any(s == "head" and "worker 1 joined" in m for _, _, s, m in logs), "the head's log: %r" % logs[:4])
    need(any(s.startswith("worker ") for _, _, s, m in logs), "the workers' log lines")
else:
    need(any("the local executor's dashboard is at" in html.unescape(m) for _, _, s, m in logs), "the local log: %r" % logs[:4])
    need(any("gbdt: fitted on 60000 rows x 12 columns" in m for _, _, s, m in logs), "a fit in the log")
if errs:
    print("\n".join(errs))
    sys.exit(1)
print("page ok: %d bars, %d log lines" % (len(bars), len(logs)))
PY
}

# --------------------------------------------- a cluster of two workers
start_driver cluster
render 2 "$T/cluster.html"
check_page "$T/cluster.html" cluster 2
pass "cluster: $(grep -o 'class="nums job-count">[^<]*' "$T/cluster.html" | head -1 | cut -d'>' -f2)"
shoot "$SHOTS/dashboard-cluster.png" || fail "no screenshot of the cluster's dashboard"
# after several fits: still no failure counted, no error listed
api "$URL" >"$T/api.json" || fail "the head's API"
/usr/bin/python3 - "$T/api.json" <<'PY' || fail "the head's figures after the fits"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["tasks"]
assert t["failed"] == 0 and not s["errors"], (t, s["errors"])
assert t["done"] > 100 and t["submitted"] >= t["done"], t
assert t["running"] == sum(w["tasks_running"] for w in s["workers"] if w["alive"]), t
assert sum(w["tasks_done"] for w in s["workers"]) == t["done"], (t["done"], [w["tasks_done"] for w in s["workers"]])
print("api ok:", t)
PY
stop_driver
grep -q "^fits [1-9]" "$T/driver.out" || fail "the cluster driver's fits: $(cat "$T/driver.out")"
pass "cluster: no failure counted, counters consistent"

# ------------------------------------------------- the local executor
start_driver local
case "$URL" in http://127.0.0.1:[0-9]*/) ;; *) fail "wb.dashboard() returned '$URL'" ;; esac
render 1 "$T/local.html"
check_page "$T/local.html" local 1
grep -q '<h1 id="title">wb: local executor</h1>' "$T/local.html" || fail "the local page's title"
pass "local: $(grep -o 'class="nums job-count">[^<]*' "$T/local.html" | head -1 | cut -d'>' -f2)"
shoot "$SHOTS/dashboard-local.png" || fail "no screenshot of the local dashboard"
stop_driver
pass "screenshots in $SHOTS"
