-- cluster_fit_failover.lua — a worker killed with SIGKILL in the middle of a fit:
-- the fit completes on the remaining worker with the same model, bit for bit,
-- as on the local executor. The killed worker held half the data: partitions
-- made on workers are rebuilt from their lineage (the generating task), and
-- partitions the driver put are put again. A watcher process kills the worker
-- once the head (its dashboard's JSON) has counted a number of finished tasks
-- after the fit started, so the kill falls inside the fit.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local plugin = assert(os.getenv("WB_TEST_PLUGIN_DIR"), "WB_TEST_PLUGIN_DIR") .. "/cluster_testfit.so"
wb.plugin.load(plugin)
local fitp = {iterations = 30, lr = 0.05, delay_ms = 3}
local fitp_put = {iterations = 30, lr = 0.05, delay_ms = 1}
local gen = {n = 100000, features = 8, informative = 4, redundant = 4, classes = 2, seed = 3}
local rows, ys = {}, {}
for i = 1, 360000 do
  rows[i] = {math.sin(i * 0.001), math.cos(i * 0.37), (i % 17) / 17}
  ys[i] = 0.3 * rows[i][1] - 2 * rows[i][2] + rows[i][3] + 0.1 * math.sin(i)
end

local same = TL.same
local function same_model(a, b, what)
  same(a.coef, b.coef, what .. ": coef")
  same(a.intercept, b.intercept, what .. ": intercept")
  same(a.loss, b.loss, what .. ": loss")
end

-- kill pid once `count` more tasks finished on the head; writes flag when done
local function kill_after(dashboard, count, pid, flag)
  os.remove(flag)
  os.execute(string.format([[/usr/bin/python3 -c '
import json, os, signal, sys, time, urllib.request
url, k, pid, flag = sys.argv[1] + "api/status", int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
done = lambda: json.load(urllib.request.urlopen(url, timeout=5))["tasks"]["done"]
start = done()
open(flag + ".ready", "w").write("polling")
for _ in range(3000):
    d = done()
    if d >= start + k:
        os.kill(pid, signal.SIGKILL)
        open(flag, "w").write("%%d %%d" %% (start, d))
        break
    time.sleep(0.005)
' %s %d %d %s > /dev/null 2>&1 &]], dashboard, count, pid, flag))
  -- the fit starts once the watcher polls
  local t0 = wb.now()
  while not io.open(flag .. ".ready") do
    assert(wb.now() - t0 < 20, "the watcher did not start")
    os.execute("sleep 0.01")
  end
  os.remove(flag .. ".ready")
end

local function killed(flag)
  local f = io.open(flag)
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- the local answers
local L = wb.fit("cluster_test.gd", wb.datagen.classification(gen), fitp)
local LP = wb.fit("cluster_test.gd", wb.dataset(rows, ys), fitp_put)
local flag = os.tmpname()

for round, case in ipairs{"generated", "put"} do
  local info = wb.cluster{workers = 2, threads = 1, plugins = {plugin}}
  local data = case == "generated" and wb.datagen.classification(gen) or wb.dataset(rows, ys)
  assert(data:partitions() >= 2)
  local victim = wb.executor().worker_list[2]
  -- the victim holds part of the data
  local holds = false
  for _, o in ipairs(wb.core.parts(data)) do holds = holds or wb.core.holder(o) == victim.id end
  assert(holds, case .. ": the victim holds no partition")
  kill_after(info.dashboard, 12, victim.pid, flag)
  local t0 = wb.now()
  local C = wb.fit("cluster_test.gd", data, case == "generated" and fitp or fitp_put)
  local dt = wb.now() - t0
  local k = killed(flag)
  assert(k, case .. ": the worker was not killed during the fit")
  local ex = wb.executor()
  assert(ex.workers == 1, case .. ": the killed worker is still counted")
  same_model(case == "generated" and L or LP, C, case)
  -- the data is whole again after the rebuild
  local d1 = data:describe()
  assert(d1[1].count == data:rows())
  print(string.format("cluster_fit_failover: %s data: worker %d killed (tasks done at start/kill: %s), fit %.2f s, same model",
                      case, victim.id, k, dt))
  wb.disconnect()
end
-- a real estimator: k-means, the worker killed after 60 of its 360 tasks
TL.need_estimator("kmeans")
do
  local kp = {k = 16, max_iter = 60, tol = 0, seed = 1}
  local roll = {n = 1000000, noise = 0.2, seed = 4}
  local LK = wb.fit("kmeans", wb.datagen.swiss_roll(roll), kp)
  local info = wb.cluster{workers = 2, threads = 1}
  local r = wb.datagen.swiss_roll(roll)
  local victim = wb.executor().worker_list[1]
  kill_after(info.dashboard, 60, victim.pid, flag)
  local CK = wb.fit("kmeans", r, kp)
  local k = killed(flag)
  assert(k, "kmeans: the worker was not killed during the fit")
  assert(wb.executor().workers == 1, "kmeans: the killed worker is still counted")
  same(LK.centers, CK.centers, "kmeans centres")
  same(LK.inertia, CK.inertia, "kmeans inertia")
  assert(LK.iterations == CK.iterations)
  print(string.format("cluster_fit_failover: kmeans: worker %d killed (tasks done at start/kill: %s), same centres and inertia", victim.id, k))
  wb.disconnect()
end
os.remove(flag)
print("cluster_fit_failover: ok")
