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
