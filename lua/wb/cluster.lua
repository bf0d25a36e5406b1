-- wb.cluster: remote functions and futures over the executor's "lua.call"
-- kernel. Run once by the C part of the module (lcluster.c) with the wb table.
local wb = ...
local core = wb.core

local Future = {}
Future.__index = Future
Future.__name = "wb.Future"
debug.getregistry()["wb.Future"] = Future

-- the values the remote function returned (raises its error)
-- (found by tests/lua/api_sweep.lua: a wrong self raised "attempt to index")
local function check_future(f, fname)
  if getmetatable(f) ~= Future then
    error(string.format("bad argument #1 to '%s' (future expected, got %s)", fname, type(f)), 3)
  end
end

function Future:get()
  check_future(self, "get")
  return core.remote_decode(core.get(self.object))
end

-- true once finished (waits for it: a future is a handle, not a poll)
function Future:wait()
  check_future(self, "wait")
  core.wait({self.object})
  return self
end

Future.__tostring = function(f)
  check_future(f, "__tostring") -- found by tests/lua/api_sweep.lua: "attempt to index"
  return "Future(" .. tostring(f.object) .. ")"
end

local function is_future(f) return getmetatable(f) == Future end
wb.is_future = is_future

-- wb.remote(fn) -> a function that runs fn as a task and returns a future.
-- The function's bytecode and the values of its upvalues travel with it
-- (standard library functions by name); futures given as arguments are
-- inputs of the task: it runs once they are ready, with their first value.
function wb.remote(fn)
  if type(fn) ~= "function" then
    error(string.format("bad argument #1 to 'remote' (function expected, got %s)", type(fn)), 2)
  end
  return setmetatable({fn = fn}, {
    __name = "wb.RemoteFunction",
    __call = function(_, ...)
      local bytes, inputs = core.remote_encode(fn, ...)
      return setmetatable({object = core.submit("lua.call", inputs, bytes)}, Future)
    end,
    __tostring = function() return "RemoteFunction" end,
  })
end

local function futures_arg(fs, fname)
  if is_future(fs) then return {fs} end
  if type(fs) ~= "table" then
    error(string.format("bad argument #1 to '%s' (future or table of futures expected, got %s)", fname, type(fs)), 3)
  end
  for i, f in ipairs(fs) do
    if not is_future(f) then
      error(string.format("bad argument #1 to '%s' (element %d is not a future)", fname, i), 3)
    end
  end
  return fs
end

-- wb.wait(futures): until every one has finished; raises the first error; returns the futures
function wb.wait(fs)
  local list = futures_arg(fs, "wait")
  local objs = {}
  for i, f in ipairs(list) do objs[i] = f.object end
  if #objs > 0 then core.wait(objs) end
  return fs
end

-- wb.get(future) -> its values; wb.get{futures} -> a table of their first values
function wb.get(fs)
  if is_future(fs) then return fs:get() end
  local list = futures_arg(fs, "get")
  wb.wait(list)
  local out = {}
  for i, f in ipairs(list) do out[i] = (f:get()) end
  return out
end

-- ----------------------------------------------- data after a cluster
-- A cluster's datasets live on its workers: wb.disconnect() (or connecting
-- to another cluster) loses them. It names the ones still in use first;
-- wb.disconnect{collect = true} brings them to this process.
local DSMT = debug.getregistry()["wb.Dataset"]

local function count(n)
  local s = tostring(math.tointeger(n) or n)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- "d (1,000 rows x 2 columns)" for each dataset: the global (or a field of
-- a global table) that holds it
local function dataset_names(list)
  local names = {}
  local function look(t, prefix, depth)
    for k, v in next, t do
      if type(k) == "string" then
        if getmetatable(v) == DSMT then
          if not names[v] then names[v] = prefix .. k end
        elseif type(v) == "table" and depth < 2 and not rawequal(v, wb) and not rawequal(v, _G) and k ~= "package"
               and k ~= "_" and getmetatable(v) == nil then
          look(v, prefix .. k .. ".", depth + 1)
        end
      end
    end
  end
  look(_G, "", 0)
  local out = {}
  for i, d in ipairs(list) do
    local ok, shape = pcall(function()
      return string.format("%s rows x %s column%s", count(d:rows()), count(d:cols()), d:cols() == 1 and "" or "s")
    end)
    out[i] = string.format("%s (%s)", names[d] or "an unnamed dataset", ok and shape or "?")
  end
  return out
end

-- warn about (or, with collect, bring back) the datasets of the current
-- cluster before `what` takes it away
local function before_leaving(what, collect)
  local ok, list = pcall(core.cluster_datasets)
  if not ok or #list == 0 then return end
  local names = dataset_names(list)
  local shown = {}
  for i = 1, math.min(#names, 8) do shown[i] = names[i] end
  if #names > 8 then shown[#shown + 1] = string.format("and %d more", #names - 8) end
  if collect then
    for _, d in ipairs(list) do core.collect_in_place(d) end
    io.stderr:write(string.format("wb: %s: brought %d dataset%s to this process: %s\n", what, #list,
                                  #list == 1 and "" or "s", table.concat(shown, ", ")))
    return
  end
  io.stderr:write(string.format("wb: warning: %s: %d dataset%s on the cluster %s lost with it: %s. " ..
                                "d:collect() brings one to this process first; wb.disconnect{collect = true} all of them\n",
                                what, #list, #list == 1 and "" or "s", #list == 1 and "is" or "are", table.concat(shown, ", ")))
end

-- (called through locals of their own names, not as tail calls: their
-- argument errors name them as before, "bad argument #1 to 'cluster'")
local disconnect, cluster, connect = wb.disconnect, wb.cluster, wb.connect

-- wb.disconnect([{collect = true}]) -> true if a cluster was connected
function wb.disconnect(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error(string.format("bad argument #1 to 'disconnect' (table of options expected, got %s)", type(opts)), 2)
  end
  for k in pairs(opts or {}) do
    if k ~= "collect" then
      error(string.format("bad argument #1 to 'disconnect' (unknown option '%s'; options: collect)", tostring(k)), 2)
    end
  end
  before_leaving("wb.disconnect()", opts and opts.collect)
  local r = disconnect()
  return r
end

-- a new cluster (or head) replaces the one connected: its data goes too
function wb.cluster(...)
  before_leaving("wb.cluster{} disconnects the cluster connected", false)
  local r = cluster(...)
  return r
end
function wb.connect(...)
  before_leaving("wb.connect() disconnects the cluster connected", false)
  local r = connect(...)
  return r
end

-- help texts: added to the help module when it loads (it loads after this file)
local docs = {
  ["wb.remote"] = "wb.remote(fn) -> f; f(args...) runs fn as a task (on a cluster worker, or on a local thread) and returns a future\n" ..
    "  fn's bytecode and the values of its upvalues travel (standard library functions by name); values: nil, booleans, numbers, strings, tables, Lua functions\n" ..
    "  futures given as arguments are inputs: the task runs once they are ready and gets their first value; errors come back with their message",
  ["wb.wait"] = "wb.wait(futures) -> futures -- until every one has finished; raises the first error",
  ["wb.get"] = "wb.get(future) -> its values; wb.get{futures} -> a table of their first values",
  ["future:get"] = "f:get() -> the values the remote function returned (raises its error)",
  ["wb.cluster"] = "wb.cluster{workers = 2, threads = 1, memory_limit = \"4GB\", dashboard = true, plugins = {paths}, timeout = 30, head_timeout = 30, worker_timeout = 120, insecure_no_tls = false} -> executor info\n" ..
    "  starts a head and worker processes of this program on 127.0.0.1 with a new token and connects; they stop on wb.disconnect() or when this process ends",
  ["wb.connect"] = "wb.connect(\"HOST:PORT\", {token = \"...\" | token_file = path, timeout = 10, workers = n, head_timeout = 30, worker_timeout = 120, tls_cert = f, tls_key = f, tls_ca = f | insecure_no_tls = true}) -> executor info\n" ..
    "  connects to a running head (`wb head`): new data and work go to its workers; the token defaults to $WB_TOKEN_FILE or ~/.wb/cluster_token; waits for n workers\n" ..
    "  TLS 1.3 keyed by the token (or the certificates given); a head silent for head_timeout s, or no live worker for worker_timeout s, ends a wait with an error",
  ["wb.executor"] = "wb.executor() -> {kind = \"local\"|\"cluster\", workers, threads, address, dashboard, worker_list = {{id, address, threads, pid, alive}, ...}}",
  ["wb.disconnect"] = "wb.disconnect([{collect = true}]) -- leave the cluster; work runs on local threads again\n" ..
    "  the cluster's datasets go with it: it names the ones still in use; collect = true brings them to this process first (d:collect() brings one)",
  ["dataset:collect"] = "d:collect() -> the dataset in this process's local store (a copy of a cluster's dataset; itself when it is local), so it outlives wb.disconnect()",
  ["wb.core.replicate"] = "wb.core.replicate(object, worker_id) -- copy an object to a worker (worker to worker); blocks until it is there",
  ["wb.core.holder"] = "wb.core.holder(object) -> the id of a worker holding it (0 on the local executor)",
}
local load_help = package.preload["wb.help"]
if load_help then
  package.preload["wb.help"] = function(...)
    local H = load_help(...)
    if type(H) == "table" and type(H.docs) == "table" then
      for k, v in pairs(docs) do H.docs[k] = v end
    end
    return H
  end
end

return wb
