-- bench/cluster.lua — the cluster's own figures on a 2-worker local cluster
-- (1 thread each, as the Dask peer), with TLS (the default): throughput of N
-- empty tasks, the synchronous round trip of one task (submit + result), the
-- same for a Lua remote function, and worker-to-worker transfer of a 1 GB
-- object; then the transfer again on a cluster without TLS
-- (insecure_no_tls), so both are measured in one run.
-- usage: wb bench/cluster.lua [tasks=10000] [dask_tasks_per_s] [dask_roundtrip_ms]
-- (bench/cluster.sh runs the Dask peer and passes its figures); the test
-- plugin cluster_kernels from $WB_TEST_PLUGIN_DIR or ./build/tests/plugins
local N = tonumber(arg[1]) or 10000
local dask_tps, dask_ms = tonumber(arg[2]), tonumber(arg[3])
local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end

local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
-- cluster.fill comes from a test plugin, loaded here and on the workers
local kernels = B.test_plugin("cluster_kernels")
wb.plugin.load(kernels)
local info = wb.cluster{workers = 2, threads = 1, plugins = {kernels}}
print(string.format("cluster: %d workers, %d threads, head %s", info.workers, info.threads, info.address))
local noop = ""
-- warm up (connections, first allocations)
local w = {}
for i = 1, 1000 do w[i] = wb.core.submit("cluster.noop", {}, noop) end
wb.core.wait(w)
w = nil
collectgarbage()

-- throughput: N empty tasks submitted one by one from Lua, then waited for
local function throughput()
  local rates = {}
  for rep = 1, 5 do
    local fs = {}
    local t0 = wb.now()
    for i = 1, N do fs[i] = wb.core.submit("cluster.noop", {}, noop) end
    wb.core.wait(fs)
    local dt = wb.now() - t0
    rates[rep] = N / dt
    fs = nil
    collectgarbage()
  end
  return median(rates)
end
local tps = throughput()

-- synchronous round trip: submit one task, get its result, 2000 times
local function roundtrip()
  local rts = {}
  for rep = 1, 5 do
    local t0 = wb.now()
    for i = 1, 2000 do wb.core.get(wb.core.submit("cluster.noop", {}, noop)) end
    rts[rep] = (wb.now() - t0) / 2000 * 1e3
  end
  return median(rts)
end
local rt = roundtrip()

-- the same for a Lua function (bytecode and upvalues travel, a Lua state runs it)
local inc = wb.remote(function(x) return x + 1 end)
local lrts = {}
for rep = 1, 3 do
  local t0 = wb.now()
  for i = 1, 1000 do assert(inc(i):get() == i + 1) end
  lrts[rep] = (wb.now() - t0) / 1000 * 1e3
end
local lrt = median(lrts)

-- worker-to-worker transfer of a 1 GB object (GB/s, median of 3; also the
-- first alone: the receiving worker then has no freed buffer to reuse and
-- every page of the object is new to it, a cost that on a virtual machine can
-- exceed the transfer's own)
local function transfer()
  local ex = wb.executor()
  local GB = 1 << 30
  local speeds = {}
  for rep = 1, 3 do
    local o = wb.core.submit("cluster.fill", {}, string.pack("<I8B", GB, rep))
    wb.core.wait({o})
    local from = wb.core.holder(o)
    local to = ex.worker_list[1].id == from and ex.worker_list[2].id or ex.worker_list[1].id
    local t0 = wb.now()
    wb.core.replicate(o, to)
    local dt = wb.now() - t0
    speeds[rep] = GB / dt / 1e9
    -- the copy is whole: a task on the receiving side reads it
    o:free()
    collectgarbage()
  end
  local first = speeds[1]
  return median(speeds), first
end
local gbs, gbs_first = transfer()
wb.disconnect()
-- the same without TLS (on a machine shared with other work, the two sets
-- side by side tell what TLS costs better than either alone)
wb.cluster{workers = 2, threads = 1, plugins = {kernels}, insecure_no_tls = true}
for i = 1, 1000 do wb.core.submit("cluster.noop", {}, noop) end
local tps_clear, rt_clear = throughput(), roundtrip()
local gbs_clear, gbs_clear_first = transfer()
wb.disconnect()

print(string.format("%-44s %12s %12s %8s", "figure", "wb", "dask", "ratio"))
local function row(name, v, peer, fmt, higher)
  local ratio = peer and (higher and v / peer or peer / v)
  print(string.format("%-44s %12s %12s %8s", name, string.format(fmt, v), peer and string.format(fmt, peer) or "-",
                      ratio and string.format("%.0fx", ratio) or "-"))
end
row(string.format("empty tasks per second (%d tasks, median of 5)", N), tps, dask_tps, "%.0f", true)
row("sync round trip, ms (median of 5 x 2000)", rt, dask_ms, "%.3f", false)
row("sync round trip of a Lua function, ms", lrt, dask_ms, "%.3f", false)
row("worker-to-worker transfer of 1 GB, GB/s", gbs, nil, "%.2f", true)
row("  the first of the 3 (fresh memory), GB/s", gbs_first, nil, "%.2f", true)
print("without TLS (insecure_no_tls):")
row("  empty tasks per second", tps_clear, nil, "%.0f", true)
row("  sync round trip, ms", rt_clear, nil, "%.3f", false)
row("  worker-to-worker transfer of 1 GB, GB/s", gbs_clear, nil, "%.2f", true)
row("    the first of the 3 (fresh memory), GB/s", gbs_clear_first, nil, "%.2f", true)
print(string.format('{"wb":"cluster","tls":true,"tasks":%d,"tasks_per_s":%.0f,"roundtrip_ms":%.4f,"lua_roundtrip_ms":%.4f,"transfer_gb_per_s":%.3f,"transfer_first_gb_per_s":%.3f,' ..
                    '"clear_tasks_per_s":%.0f,"clear_roundtrip_ms":%.4f,"clear_transfer_gb_per_s":%.3f,"clear_transfer_first_gb_per_s":%.3f}',
                    N, tps, rt, lrt, gbs, gbs_first, tps_clear, rt_clear, gbs_clear, gbs_clear_first))
print(string.format("targets with TLS: >= 50000 tasks/s (%s), <= 0.15 ms round trip (%s), >= 1 GB/s (%s)",
                    tps >= 50000 and "met" or "NOT met", rt <= 0.15 and "met" or "NOT met",
                    gbs >= 1 and "met" or "NOT met"))
