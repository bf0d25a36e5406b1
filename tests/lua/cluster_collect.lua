-- cluster_collect.lua — data after a cluster, on a local cluster of two
-- workers: d:collect() brings a dataset to the driver's local store (the
-- same rows, labels, names and partitions; a local dataset is returned as
-- it is); wb.disconnect() names the datasets still in use that it loses,
-- wb.disconnect{collect = true} brings them back first (every variable
-- holding one then holds the local copy); a lost dataset says what happened
-- and how to keep it; a new wb.cluster{} warns the same way.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, eq = TL.check, TL.eq
local expect_error = TL.expect_error_with{string = true}
wb.quiet(true)

-- what wb writes on stderr while fn runs
local function stderr_of(fn)
  local real = io.stderr
  local got = {}
  io.stderr = {write = function(_, ...) for _, s in ipairs({...}) do got[#got + 1] = tostring(s) end end}
  local ok, e = pcall(fn)
  io.stderr = real
  if not ok then error(e, 0) end
  return table.concat(got)
end

-- a local dataset: collect() is the dataset itself
local here = wb.datagen.blobs{n = 100, features = 2, centers = 2, seed = 1}
check(rawequal(here:collect(), here), "a local dataset is collected as itself")
eq(wb.disconnect(), false, "nothing to disconnect")

wb.cluster{workers = 2, threads = 1}
eq(wb.executor().kind, "cluster", "on the cluster")
d = wb.datagen.classification{n = 120000, features = 5, informative = 3, redundant = 2, seed = 3}
d:names({"a", "b", "c", "d", "e"})
eq(d:executor(), "cluster", "made on the cluster")
check(d:partitions() >= 2, "several partitions")
local loc = d:collect()
eq(loc:executor(), "local", "collected to the local store")
eq(loc:rows(), d:rows(), "rows")
eq(loc:cols(), d:cols(), "columns")
eq(loc:partitions(), d:partitions(), "partitions")
eq(table.concat(loc:names(), ","), "a,b,c,d,e", "names")
check(loc:has_labels(), "labels")
for _, i in ipairs{1, 4096, 4097, 104857, 104858, 120000} do
  local r1, y1 = d:row(i)
  local r2, y2 = loc:row(i)
  eq(table.concat(r1, ","), table.concat(r2, ","), "row " .. i)
  eq(y1, y2, "label " .. i)
end
-- a model fitted on the copy is the one fitted on the cluster's data
local mc = wb.fit("logreg", d, {C = 1})
local ml = wb.fit("logreg", loc, {C = 1})
eq(mc:encode(), ml:encode(), "the same model from the collected data")
-- a vector (predictions) too
local pv = mc:predict(d)
local pl = pv:collect()
check(pl:is_vector() and pl:executor() == "local", "a vector collected")
eq(wb.metrics.accuracy(loc, pl), wb.metrics.accuracy(d, pv), "the same predictions")

-- disconnect: the datasets in use are named, then lost
tr, te = wb.split(d, {test = 0.25, seed = 1})
holder = {train = tr}
local msg = stderr_of(function() eq(wb.disconnect(), true, "disconnected") end)
check(msg:find("wb: warning: wb.disconnect(): ", 1, true), "a warning: " .. msg)
check(msg:find("d (120,000 rows x 5 columns)", 1, true), "names d: " .. msg)
check(msg:find("te (30,000 rows x 5 columns)", 1, true), "names te: " .. msg)
check(msg:find("tr (90,000 rows x 5 columns)", 1, true) or msg:find("holder.train (90,000", 1, true), "names tr: " .. msg)
check(msg:find("wb.disconnect{collect = true}", 1, true), "says how to keep them: " .. msg)
check(not msg:find("local", 1, true), "the local copies are not lost: " .. msg)
local e = expect_error("the executor is disconnected: this data was on the cluster at 127.0.0.1:", function() return d:describe() end)
check(e:find("d:collect() before wb.disconnect()", 1, true) and e:find("wb.disconnect{collect = true}", 1, true),
      "how to avoid it: " .. e)
-- the copies live on
eq(loc:describe()[1].count, 120000, "the collected copy outlives the cluster")
eq(wb.fit("logreg", loc, {C = 1}):encode(), ml:encode(), "and fits as before")

-- disconnect{collect = true}: every dataset in use comes back first
wb.cluster{workers = 2, threads = 1}
e1 = wb.datagen.blobs{n = 9000, features = 3, centers = 2, seed = 5}
e2 = e1:slice(1, 5000)
local same = e1
local before = e1:row(7777)
msg = stderr_of(function() wb.disconnect{collect = true} end)
check(msg:find("brought 2 datasets to this process", 1, true), "says so: " .. msg)
eq(e1:executor(), "local", "e1 now local")
eq(e2:executor(), "local", "e2 now local")
eq(same:executor(), "local", "every variable holding it sees the copy")
eq(table.concat(e1:row(7777), ","), table.concat(before, ","), "the same rows")
eq(e2:rows(), 5000, "the slice")
expect_error("bad argument #1 to 'disconnect' (unknown option 'colect'; options: collect)", wb.disconnect, {colect = true})

-- a new cluster replaces the one connected: the same warning
wb.cluster{workers = 1, threads = 1}
g = wb.datagen.blobs{n = 1000, features = 2, centers = 2, seed = 6}
msg = stderr_of(function() wb.cluster{workers = 1, threads = 1} end)
check(msg:find("wb.cluster{} disconnects the cluster connected: 1 dataset on the cluster is lost with it: g (1,000 rows x 2 columns)", 1, true),
      "a new cluster warns: " .. msg)
g = nil
msg = stderr_of(function() wb.disconnect() end)
eq(msg, "", "nothing in use, nothing said")
print("cluster_collect: ok")
