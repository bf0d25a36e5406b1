-- cluster_basic.lua — a local cluster (a head and two workers on 127.0.0.1):
-- what the executor reports; generation, describe, rows, labels and map_sum
-- equal to the local executor's bit for bit; partitions spread over both
-- workers; tasks run in the worker processes; objects small (inline) and
-- large (fetched from a worker) in both directions; data put by the driver;
-- errors with their message and place; disconnect.
local gen = {n = 100000, features = 8, informative = 4, redundant = 4, classes = 2, seed = 7}
-- rows made in Lua: put by the driver (partitions of about 4 MB each)
local rows, labels = {}, {}
for i = 1, 180000 do
  rows[i] = {i * 0.5, math.sin(i), (i * 7) % 13}
  labels[i] = (i * 7) % 3
end

local function work()
  local d = wb.datagen.classification(gen)
  return {
    d = d,
    desc = d:describe(),
    sum = wb.core.map_sum("core.colsum", d, {}, "", 8),
    row = d:row(77777),
    put = wb.dataset(rows, labels),
    slice = d:slice(4000, 4200):describe(),
  }
end

local L = work()
-- files: read on the workers (NPY partitions are mapped there, CSV parsed there)
local tmp = os.tmpname()
wb.save(L.d, tmp .. ".npy")
wb.save(L.d, tmp .. ".csv")
-- the kernels the test drives the cluster with (cluster.sleep, cluster.fill, cluster.pid): here and on the workers
local kernels = assert(os.getenv("WB_TEST_PLUGIN_DIR"), "WB_TEST_PLUGIN_DIR is not set") .. "/cluster_kernels.so"
wb.plugin.load(kernels)
local info = wb.cluster{workers = 2, threads = 1, plugins = {kernels}}
assert(info.kind == "cluster" and info.workers == 2 and info.threads == 2, "executor info")
assert(info.address:match("^127%.0%.0%.1:%d+$"), info.address)
assert(info.dashboard:match("^http://127%.0%.0%.1:%d+/$"), tostring(info.dashboard))
local ex = wb.executor()
assert(ex.kind == "cluster" and #ex.worker_list == 2 and ex.worker_list[1].alive and ex.worker_list[2].alive)

local C = work()
assert(C.put:executor() == "cluster" and C.put:partitions() == 2, "put dataset")
local Lp, Cp = L.put:describe(), C.put:describe()
for j = 1, 3 do
  for _, k in ipairs{"count", "mean", "std", "min", "max"} do assert(Lp[j][k] == Cp[j][k], "put data describe") end
end
local cl = wb.core.labels(C.put)
for i = 1, #labels, 997 do assert(cl[i] == labels[i], "labels put from the driver") end
assert(C.d:executor() == "cluster")
for j = 1, 8 do
  for _, k in ipairs{"count", "mean", "std", "min", "max"} do
    assert(L.desc[j][k] == C.desc[j][k], string.format("describe column %d %s: %.17g vs %.17g", j, k, L.desc[j][k], C.desc[j][k]))
    assert(L.slice[j][k] == C.slice[j][k], "slice describe")
  end
  assert(L.sum[j] == C.sum[j], "map_sum column " .. j)
  assert(L.row[j] == C.row[j], "row")
end

for _, ext in ipairs{".npy", ".csv"} do
  local f = wb.load(tmp .. ext)
  assert(f:executor() == "cluster", ext)
  local fd = f:describe()
  for j = 1, 8 do assert(fd[j].mean == L.desc[j].mean and fd[j].max == L.desc[j].max, ext .. " read on the workers") end
end
for _, ext in ipairs{".npy", ".csv", ".labels.npy", ".npy.meta", ".csv.meta"} do os.remove(tmp .. ext) end
os.remove(tmp)

-- the partitions live on both workers
local seen = {}
for _, o in ipairs(wb.core.parts(C.d)) do seen[wb.core.holder(o)] = true end
assert(seen[ex.worker_list[1].id] and seen[ex.worker_list[2].id], "partitions on both workers")

-- tasks run in the worker processes
local pids = {[ex.worker_list[1].pid] = 0, [ex.worker_list[2].pid] = 0}
local fs = {}
for i = 1, 40 do fs[i] = wb.core.submit("cluster.sleep", {}, string.pack("<d", 0.005)) end
wb.core.wait(fs)
for i = 1, 20 do
  local pid = string.unpack("<I4", wb.core.get(wb.core.submit("cluster.pid", {}, "")))
  assert(pids[pid], "task ran in process " .. pid .. ", not a worker")
end

-- objects both ways: inline-sized and large (fetched from the worker's data port)
local small, big = "hello", string.rep("abcdefgh", 100000)
assert(wb.core.get(wb.core.put(small)) == small)
local bo = wb.core.put(big)
assert(wb.core.get(bo) == big)
local filled = wb.core.get(wb.core.submit("cluster.fill", {}, string.pack("<I8B", 300000, 65)))
assert(filled == string.rep("A", 300000), "large result")
-- a task whose input is on the other worker: moved worker to worker
local w1, w2 = ex.worker_list[1].id, ex.worker_list[2].id
local src = wb.core.submit("cluster.fill", {}, string.pack("<I8B", 1 << 20, 7))
wb.core.wait({src})
local other = wb.core.holder(src) == w1 and w2 or w1
wb.core.replicate(src, other)
local n = string.unpack("<I8", wb.core.get(wb.core.submit("cluster.size", {src}, "")))
assert(n == 1 << 20)

-- objects put and used at once: the worker's report may reach the head
-- before the driver's declaration does (the head keeps it until then)
local ts = {}
for i = 1, 300 do
  local p = wb.core.put(string.rep("z", i))
  ts[i] = wb.core.submit("cluster.size", {p}, "")
end
wb.core.wait(ts)
for i = 1, 300, 37 do assert(string.unpack("<I8", wb.core.get(ts[i])) == i, "put then used") end

-- errors come back with their message and where they ran
local ok, e = pcall(wb.core.get, wb.core.submit("cluster.sleep", {}, "bad"))
assert(not ok and e:find("cluster.sleep: the argument is 8 bytes (seconds)", 1, true) and e:find("on worker %d+ at 127%.0%.0%.1:%d+"), e)
local ok2, e2 = pcall(wb.core.submit, "no.such_kernel", {}, "")
assert(not ok2 and e2:find("no kernel named 'no.such_kernel'"), e2)

-- disconnect: new work is local again; a dataset of the cluster says it is gone
assert(wb.disconnect() == true)
assert(wb.executor().kind == "local")
assert(wb.disconnect() == false)
local ok3, e3 = pcall(function() return C.d:describe() end)
assert(not ok3 and e3:find("the executor is disconnected"), e3)
print("cluster_basic: ok")
