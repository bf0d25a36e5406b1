-- cluster_balance.lua — tasks whose inputs are spread over the workers (grid
-- search's fold fits take a fold of every partition) are shared among the
-- workers, not all queued on the one holding slightly more of the data.
-- Checked by the CPU time each worker process spends during a grid search
-- (/proc/PID/stat): with every fit on one worker the other got ~7 % of it.
wb.quiet(true)
wb.cluster{workers = 2, threads = 1}
local function cpu()
  local r = {}
  for _, w in ipairs(wb.executor().worker_list) do
    local f = assert(io.open("/proc/" .. w.pid .. "/stat"))
    local s = f:read("a")
    f:close()
    -- fields after the command name (which is in parentheses): utime is the
    -- 12th, stime the 13th
    local rest = s:match("%) (.*)$")
    local fields = {}
    for x in rest:gmatch("%S+") do fields[#fields + 1] = x end
    r[#r + 1] = (tonumber(fields[12]) + tonumber(fields[13])) / 100
  end
  return r
end
local d = wb.datagen.classification{n = 300000, features = 10, informative = 5, redundant = 5, seed = 7}
assert(#wb.core.parts(d) >= 2, "the data should span several partitions")
local a = cpu()
local g = wb.gridsearch("logreg", d, {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}}, {folds = 3, refit = false})
local b = cpu()
assert(#a == 2 and #b == 2, "two workers expected")
local w1, w2 = b[1] - a[1], b[2] - a[2]
local total = w1 + w2
print(string.format("grid search: worker 1 CPU %.2f s, worker 2 CPU %.2f s (best C = %s)", w1, w2, tostring(g.best_params.C)))
assert(total > 0.2, "the grid search took too little CPU to judge: " .. total)
assert(math.min(w1, w2) >= 0.25 * total,
  string.format("the fold fits were not shared: worker CPU %.2f s and %.2f s", w1, w2))
-- the answer is the local one
wb.disconnect()
local g2 = wb.gridsearch("logreg", wb.datagen.classification{n = 300000, features = 10, informative = 5, redundant = 5, seed = 7},
  {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}}, {folds = 3, refit = false})
assert(g2.best_params.C == g.best_params.C and g2.best_params.penalty == g.best_params.penalty and g2.best_score == g.best_score,
  "cluster and local grid searches differ")
print("cluster_balance: all checks passed")
