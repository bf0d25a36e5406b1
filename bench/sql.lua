-- bench/sql.lua MODE ... — wb's side of bench/sql.sh: one timed step, one
-- JSON line (peer, step, seconds, cpu_s, peak_mb, rows, nulls per column),
-- the same fields as bench/peers/sql_peer.py prints.
--   read URL TABLE PARTITION_COLUMN PARTITIONS   wb.sql.read in range partitions
--   write URL FROM TO                            wb.sql.write of FROM (read first, not timed)
--   cluster URL TABLE PARTITION_COLUMN PARTITIONS DIR
--                                                the read here and on 2 workers, both saved in DIR
-- cpu_s: the process's CPU time (every thread); peak_mb: its peak resident memory.
local mode, url = arg[1], arg[2]
wb.threads(tonumber(os.getenv("WB_BENCH_THREADS") or "2"))
wb.quiet(true)

local function json(t)
  local keys, parts = {}, {}
  if #t > 0 then -- a list
    for i, v in ipairs(t) do parts[i] = type(v) == "table" and json(v) or string.format("%.17g", v) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    local s
    if type(v) == "table" then s = json(v)
    elseif type(v) == "string" then s = string.format("%q", v)
    else s = string.format("%.17g", v) end
    parts[#parts + 1] = string.format("%q: %s", k, s)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function nulls(d)
  local out, names, cnt = {}, d:names(), d:describe_raw().count
  for j = 1, d:cols() do out[names[j]] = math.floor(d:rows() - cnt[j] + 0.5) end
  return out
end

if mode == "read" then
  local tbl, pc, np = arg[3], arg[4], tonumber(arg[5])
  local t0, c0 = wb.now(), os.clock()
  local d = wb.sql.read(url, tbl, {partition_column = pc, partitions = np})
  local r = {peer = "wb", step = "read", seconds = wb.now() - t0, cpu_s = os.clock() - c0,
             peak_mb = wb.core.peak_rss() / 2 ^ 20, rows = d:rows(), partitions = d:partitions()}
  r.nulls = nulls(d)
  print(json(r))
elseif mode == "write" then
  local from, to = arg[3], arg[4]
  local d = wb.sql.read(url, from, {partition_column = "id", partitions = 2})
  local t0, c0 = wb.now(), os.clock()
  local n = wb.sql.write(d, url, to, {if_exists = "replace"})
  print(json({peer = "wb", step = "write", seconds = wb.now() - t0, cpu_s = os.clock() - c0,
              peak_mb = wb.core.peak_rss() / 2 ^ 20, rows = n}))
elseif mode == "cluster" then
  -- the same read here (threads) and on a local cluster of 2 workers: the
  -- partitions' holders, the workers' process ids (the server's log names the
  -- process that ran each partition's query), both datasets saved as NPY
  local tbl, pc, np, dir = arg[3], arg[4], tonumber(arg[5]), arg[6]
  local d = wb.sql.read(url, tbl, {partition_column = pc, partitions = np})
  wb.save(d, dir .. "/local.npy")
  d = nil
  collectgarbage()
  local f = assert(io.open("/proc/self/stat"))
  local driver = f:read("n")
  f:close()
  wb.cluster{workers = 2, threads = 1}
  local workers = {}
  for _, w in ipairs(wb.executor().worker_list) do workers[#workers + 1] = {id = w.id, pid = w.pid} end
  local t0 = wb.now()
  d = wb.sql.read(url, tbl, {partition_column = pc, partitions = np})
  local secs = wb.now() - t0
  local holders = {}
  for _, o in ipairs(wb.core.parts(d)) do holders[#holders + 1] = wb.core.holder(o) end
  wb.save(d, dir .. "/cluster.npy")
  print(json({peer = "wb", step = "cluster read", seconds = secs, rows = d:rows(), partitions = d:partitions(),
              driver_pid = driver, workers = workers, holders = holders, nulls = nulls(d)}))
else
  error("usage: sql.lua read URL TABLE PARTITION_COLUMN PARTITIONS | write URL FROM TO | cluster URL TABLE PARTITION_COLUMN PARTITIONS DIR")
end
