-- cluster_bigframes.lua — messages larger than a socket takes at once, with
-- TLS (the default) and without (insecure_no_tls): a 16 MB argument of a
-- remote function (one frame, written partly at once and the rest queued),
-- a 64 MB object moved worker to worker and fetched by the driver, and a
-- 16 MB object put by the driver; every byte comes back as it left.
local kernels = assert(os.getenv("WB_TEST_PLUGIN_DIR"), "WB_TEST_PLUGIN_DIR is not set") .. "/cluster_kernels.so"
wb.plugin.load(kernels)
-- 16 MB whose every 16-byte block differs (a block sent twice or skipped shows)
local parts = {}
for i = 1, 1 << 20 do parts[i] = string.format("%015x|", i) end
local big = table.concat(parts)
parts = nil
for _, clear in ipairs {false, true} do
  local mode = clear and "without TLS" or "with TLS"
  wb.cluster{workers = 2, threads = 1, plugins = {kernels}, insecure_no_tls = clear}
  local echo = wb.remote(function(s) return s end)
  for i = 1, 2 do assert(echo(big):get() == big, mode .. ": a 16 MB argument and result") end
  local ex = wb.executor()
  local o = wb.core.submit("cluster.fill", {}, string.pack("<I8B", 64 << 20, 66))
  wb.core.wait({o})
  local from = wb.core.holder(o)
  wb.core.replicate(o, ex.worker_list[1].id == from and ex.worker_list[2].id or ex.worker_list[1].id)
  local n = string.unpack("<I8", wb.core.get(wb.core.submit("cluster.size", {o}, "")))
  assert(n == 64 << 20, mode .. ": size of the moved object " .. n)
  assert(wb.core.get(o) == string.rep("B", 64 << 20), mode .. ": a 64 MB object")
  local p = wb.core.put(big)
  assert(wb.core.get(p) == big, mode .. ": a 16 MB object put and got back")
  wb.disconnect()
end
print("ok")
