-- bench/common.lua -- what the bench scripts share: where the peer scripts
-- are, medians, the load average. Loaded with
--   local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local B = {}

-- the folder of the peer scripts (bench/peers, found from this file's own
-- place, so a clone runs its benchmarks from anywhere) when it holds `file`
function B.peers_dir(file)
  local dir = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/peers"
  local f = io.open(dir .. "/" .. file)
  if not f then return nil end
  f:close()
  return dir
end

function B.median(t)
  local s = {table.unpack(t)}
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

function B.min(t)
  local m = math.huge
  for _, v in ipairs(t) do m = math.min(m, v) end
  return m
end

-- the 1-minute load average as a string ("?" when unknown)
function B.loadavg()
  local f = io.open("/proc/loadavg")
  local l = f and f:read("l") or "?"
  if f then f:close() end
  return l:match("^(%S+)") or "?"
end

return B
