-- bench.lua: measure workloads at several sizes and thread counts, then chart them.
--
--   ./build/wb examples/bench.lua [ROWS ...] [--executors local:1,local:2,cluster:2] [--repeats N] [--out DIR]
--
-- ROWS: the sizes to measure (default 100000 400000 1600000); the executors
-- default to one thread and all of them. Writes bench-results.csv,
-- bench-time.svg and bench-speedup.svg in DIR (default: the current folder).
local threads = wb.threads()
local sizes, execs, repeats, out = {}, nil, 3, "."
local a = arg or {}
local i = 1
local function usage(msg)
  error((msg and (msg .. "\n") or "") ..
        "usage: wb examples/bench.lua [ROWS ...] [--executors local:1,cluster:2] [--repeats N] [--out DIR]", 0)
end
while i <= #a do
  local v = a[i]
  if v == "--executors" or v == "--repeats" or v == "--out" then
    local x = a[i + 1] or usage(v .. " needs a value")
    if v == "--executors" then
      execs = {}
      for e in x:gmatch("[^,]+") do execs[#execs + 1] = e end
    elseif v == "--repeats" then
      repeats = math.tointeger(tonumber(x)) or usage("--repeats must be a whole number, got " .. x)
    else
      out = x
    end
    i = i + 2
  elseif v == "--help" or v == "-h" then
    print("usage: wb examples/bench.lua [ROWS ...] [--executors local:1,cluster:2] [--repeats N] [--out DIR]")
    return
  else
    local n = math.tointeger(tonumber(v))
    if not n or n < 1 then usage("rows must be whole numbers >= 1, got '" .. v .. "'") end
    sizes[#sizes + 1] = n
    i = i + 1
  end
end
if #sizes == 0 then sizes = {1e5, 4e5, 1.6e6} end
if not execs then
  execs = {"local:1"}
  if threads > 1 then execs[#execs + 1] = "local:" .. threads end
end
os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")
local function path(f) return out .. "/" .. f end

-- the built-in workloads that this build can run (others are listed as skipped)
local r = wb.bench{
  workloads = {"generate", "describe", "logreg", "kmeans", "pca"},
  sizes = sizes,
  executors = execs,
  repeats = repeats,
  verbose = true,
}
print(r)
r:export(path("bench-results.csv"))
r:plot_time{workload = "generate", file = path("bench-time.svg")}
r:plot_speedup{file = path("bench-speedup.svg")}

-- a workload of your own: data recipe, untimed setup, timed run, quality figure
local mine = {
  name = "describe-twice",
  data = "classification",                     -- or function(n, opts) return a dataset end
  setup = function(ctx) return {} end,
  run = function(ctx, state) ctx.data:describe(); return ctx.data:describe() end,
  metric = "mean_x1",
  quality = function(ctx, state, result) return result[1].mean end,
}
print(wb.bench{workloads = {mine}, sizes = {sizes[1]}, executors = execs, repeats = repeats})
print("wrote " .. path("bench-results.csv") .. ", " .. path("bench-time.svg") .. ", " .. path("bench-speedup.svg"))
