-- local_cluster.lua: the same k-means on local threads and on a local
-- cluster of 2 worker processes; the models are the same bit for bit.
-- Run with: ./build/wb examples/local_cluster.lua [rows]   (default 1000000)
local n = math.tointeger(tonumber(arg and arg[1] or "1000000")) or error("rows must be a whole number", 0)
local function run()
  local r = wb.datagen.swiss_roll{n = n, noise = 0.2, seed = 1}
  local t0 = wb.now()
  local km = wb.fit("kmeans", r, {k = 16, seed = 0})
  return km, wb.now() - t0
end
local a, ta = run()
print(string.format("local (%d threads): %.2f s, inertia %.17g", wb.threads(), ta, a.inertia))
wb.cluster{workers = 2, threads = 1}
print("cluster: " .. wb.show(wb.executor()))
local b, tb = run()
print(string.format("cluster (2 workers): %.2f s, inertia %.17g", tb, b.inertia))
wb.disconnect()
print(a.inertia == b.inertia and "same model on both executors" or "the models differ")
