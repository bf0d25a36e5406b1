-- bench.lua: measure workloads at several sizes and thread counts, then chart them.
-- Run with: ./build/wb -e examples/bench.lua   (writes bench-*.svg/csv in the current folder)
local threads = wb.threads()
local execs = {"local:1"}
if threads > 1 then execs[#execs + 1] = "local:" .. threads end

-- the built-in workloads that this build can run (others are listed as skipped)
local r = wb.bench{
  workloads = {"generate", "describe", "logreg", "kmeans", "pca"},
  sizes = {1e5, 4e5, 1.6e6},
  executors = execs,
  repeats = 3,
  verbose = true,
}
print(r)
r:export("bench-results.csv")
r:plot_time{workload = "generate", file = "bench-time.svg"}
r:plot_speedup{file = "bench-speedup.svg"}

-- a workload of your own: data recipe, untimed setup, timed run, quality figure
local mine = {
  name = "describe-twice",
  data = "classification",                     -- or function(n, opts) return a dataset end
  setup = function(ctx) return {} end,
  run = function(ctx, state) ctx.data:describe(); return ctx.data:describe() end,
  metric = "mean_x1",
  quality = function(ctx, state, result) return result[1].mean end,
}
print(wb.bench{workloads = {mine}, sizes = {2e5}, executors = execs, repeats = 3})
print("wrote bench-results.csv, bench-time.svg, bench-speedup.svg")
