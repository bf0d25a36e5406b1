-- bench/common.lua -- what the bench scripts share: where the peer scripts
-- and the test plugins are, medians, the load average. Loaded with
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

-- the path of a test plugin (tests/plugins/NAME.c, built into
-- build/tests/plugins): in $WB_TEST_PLUGIN_DIR, else in ./build of the
-- repository the benches are in
function B.test_plugin(name)
  local here = debug.getinfo(1, "S").source:match("^@(.*)/bench/[^/]*$") or "."
  local dir = os.getenv("WB_TEST_PLUGIN_DIR")
  if not dir or dir == "" then dir = here .. "/build/tests/plugins" end
  local path = dir .. "/" .. name .. ".so"
  local f = io.open(path)
  if not f then
    error("bench: no test plugin " .. path .. " (build the repository into ./build, or set WB_TEST_PLUGIN_DIR)", 0)
  end
  f:close()
  return path
end

-- the 1-minute load average as a string ("?" when unknown)
function B.loadavg()
  local f = io.open("/proc/loadavg")
  local l = f and f:read("l") or "?"
  if f then f:close() end
  return l:match("^(%S+)") or "?"
end

return B
