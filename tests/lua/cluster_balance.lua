-- cluster_balance.lua — tasks whose inputs are spread over the workers (grid
-- search's fold fits take a fold of every partition) are shared among the
-- workers, not all queued on the one holding slightly more of the data.
-- Checked by counts, not times: the tasks each worker finished (the head's
-- dashboard, /api/status) during a grid search of 1 candidate and during one
-- of 12, on the same data and folds. Everything but the fold fits is the same
-- in both (each such task goes where its partition is), so the difference is
-- where the 44 extra fold fits ran: about half each (22 and 22 here); with
-- every fit on the worker holding more partitions, 41 and 3.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
TL.need_estimator("logreg")
wb.quiet(true)
local info = wb.cluster{workers = 2, threads = 1}
check(info.dashboard, "the cluster has no dashboard")

-- tasks finished by each worker so far, in worker order
local function done()
  local p = assert(io.popen("/usr/bin/python3 -c 'import json, sys, urllib.request\n" ..
    "j = json.load(urllib.request.urlopen(sys.argv[1] + \"api/status\", timeout=30))\n" ..
    "print(\" \".join(str(w[\"tasks_done\"]) for w in sorted(j[\"workers\"], key=lambda w: w[\"id\"])))' " .. info.dashboard))
  local s = p:read("a")
  p:close()
  local a, b = s:match("^(%d+) (%d+)%s*$")
  check(a, "the dashboard's task counts: " .. s)
  return {tonumber(a), tonumber(b)}
end

local d = wb.datagen.classification{n = 300000, features = 10, informative = 5, redundant = 5, seed = 7}
check(#wb.core.parts(d) >= 2, "the data should span several partitions")
local function run(grid)
  local a = done()
  local g = wb.gridsearch("logreg", d, grid, {folds = 4, refit = false})
  local b = done()
  return {b[1] - a[1], b[2] - a[2]}, g
end
local BIG = {C = {0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100, 300}, penalty = {"l2"}}
local ONE = {C = {1}, penalty = {"l2"}}
local one, g = run(ONE)
local twelve = run(BIG)
local extra = {twelve[1] - one[1], twelve[2] - one[2]}
print(string.format("tasks per worker: 1 candidate %d + %d, 12 candidates %d + %d: the 44 extra fold fits %d + %d",
                    one[1], one[2], twelve[1], twelve[2], extra[1], extra[2]))
check(extra[1] + extra[2] == 44, "11 more candidates x 4 folds should be 44 more tasks, got " .. extra[1] + extra[2])
check(math.min(extra[1], extra[2]) >= 11,
  string.format("the fold fits were not shared: %d on one worker, %d on the other", extra[1], extra[2]))
-- the answer is the local one (fold by fold)
wb.disconnect()
local g2 = wb.gridsearch("logreg", wb.datagen.classification{n = 300000, features = 10, informative = 5, redundant = 5, seed = 7},
  ONE, {folds = 4, refit = false})
for f = 1, 4 do
  check(g2.results[1]["fold" .. f] == g.results[1]["fold" .. f], "cluster and local grid searches differ in fold " .. f)
end
print("cluster_balance: all checks passed")
