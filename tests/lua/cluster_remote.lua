-- cluster_remote.lua — wb.remote: a Lua function's bytecode and upvalues
-- travel and run as a task, on the local executor and on a cluster, with the
-- same results; futures as arguments; errors with their message; values that
-- cannot travel are refused naming the argument or upvalue.
local function check(where)
  local k = 10
  local sq = wb.remote(function(x, t) return x * x + k, t.a, {b = t.a .. "!", list = {1, 2, 3}} end)
  local a, b, c = sq(3, {a = "hi"}):get()
  assert(a == 19 and b == "hi" and c.b == "hi!" and #c.list == 3 and c.list[3] == 3, where .. ": values")
  -- standard library functions go by name, nested functions with their upvalues
  local floor = math.floor
  local function helper(v) return floor(v) * k end
  local g = wb.remote(function(v) return helper(v) + #string.rep("x", 3) end)
  assert(g(2.7):get() == 23, where .. ": upvalues")
  -- shared and cyclic tables keep their shape
  local t = {n = 1}
  t.self = t
  local same = wb.remote(function(a, b2) return a == b2, a.self == a end)
  local s1, s2 = same(t, t):get()
  assert(s1 and s2, where .. ": shared tables")
  -- futures as arguments: the task waits for them
  local add = wb.remote(function(x, y) return x + y end)
  assert(add(sq(2, {a = ""}), sq(1, {a = ""})):get() == 14 + 11, where .. ": futures as arguments")
  -- many at once
  local fs = {}
  for i = 1, 60 do fs[i] = sq(i, {a = ""}) end
  assert(wb.wait(fs) == fs)
  local vals = wb.get(fs)
  assert(#vals == 60 and vals[60] == 3610, where .. ": wb.get")
  -- errors: the message, the line, and (on a cluster) the worker
  local bad = wb.remote(function(x) if x > 1 then error("boom " .. x) end return x end)
  local ok, err = pcall(function() return bad(5):get() end)
  assert(not ok and err:find("remote function failed: .*cluster_remote%.lua:%d+: boom 5"), err)
  if where == "cluster" then assert(err:find("on worker %d+ at 127%.0%.0%.1"), err) end
  local ok2, err2 = pcall(wb.wait, {bad(1), bad(7)})
  assert(not ok2 and err2:find("boom 7"), err2)
  -- what cannot travel is named
  local f0 = wb.remote(function() return 1 end)
  local ok3, err3 = pcall(f0, io.stdout)
  assert(not ok3 and err3:find("cluster_remote%.lua:%d+: wb.remote: cannot send a userdata %(FILE%*%) %(argument 1%)"), err3)
  local file = io.stdout
  local ok4, err4 = pcall(wb.remote(function() return file end))
  assert(not ok4 and err4:find("cannot send a userdata %(FILE%*%) %(upvalue 'file'%)"), err4)
  local ok5, err5 = pcall(wb.remote, 42)
  assert(not ok5 and err5:find("bad argument #1 to 'remote' %(function expected, got number%)"), err5)
  local ok6, err6 = pcall(wb.wait, {1})
  assert(not ok6 and err6:find("element 1 is not a future"), err6)
  return vals
end

local lv = check("local")
wb.cluster{workers = 2, threads = 1}
local cv = check("cluster")
for i = 1, #lv do assert(lv[i] == cv[i]) end
-- the tasks ran in worker processes, spread over both
local pid = wb.remote(function() return tonumber(io.open("/proc/self/stat"):read("*l"):match("^(%d+)")) end)
local where = {}
local fs = {}
for i = 1, 40 do fs[i] = pid() end
for _, v in ipairs(wb.get(fs)) do where[v] = true end
local ex = wb.executor()
for v in pairs(where) do
  assert(v == ex.worker_list[1].pid or v == ex.worker_list[2].pid, "ran outside the workers")
end
print("cluster_remote: ok")
-- help knows the cluster's functions
local H = package.loaded["wb.help"]
for _, name in ipairs{"wb.remote", "wb.wait", "wb.get", "wb.cluster", "wb.connect", "wb.core.replicate"} do
  assert(H and H.docs[name], "no help for " .. name)
end
