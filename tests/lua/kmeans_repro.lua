-- kmeans and the clustering metrics: the same model, bit for bit, with 1 or
-- 2 threads and whatever the partition sizes
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check

-- the rows of d in partitions of P rows (a multiple of 4096)
local function repartition(d, P)
  local src, out = wb.core.parts(d), {}
  for row0 = 0, d:rows() - 1, P do
    local m = math.min(P, d:rows() - row0)
    out[#out + 1] = wb.core.submit("kmeans.rows", src, string.pack("<i8i8i8i8I8I8di8", 0, d:cols(), 0, m, 0, 0, 0, row0))
  end
  return wb.core.dataset(out)
end

local function same_model(a, b, what)
  check(a.inertia == b.inertia, what .. ": inertia " .. a.inertia .. " vs " .. b.inertia)
  check(a.iterations == b.iterations and a.converged == b.converged, what .. ": iterations")
  for j, c in ipairs(a.centers) do
    for t = 1, #c do check(c[t] == b.centers[j][t], what .. ": centre " .. j) end
    check(a.sizes[j] == b.sizes[j], what .. ": sizes")
  end
end

local n = 30000
local base = wb.datagen.swiss_roll{n = n, noise = 0.2, seed = 4}
check(base:partitions() == 1, "one partition by default at this size")
local layouts = {base, repartition(base, 4096), repartition(base, 8192), repartition(base, 12288)}
check(layouts[2]:partitions() == 8 and layouts[4]:partitions() == 3, "re-partitioned")
check(layouts[3]:row(12345)[2] == base:row(12345)[2], "same rows")

local params = {
  {k = 6, init = "k-means++", seed = 3},
  {k = 6, init = "k-means||", seed = 3, rounds = 3},
  {k = 6, init = "random", seed = 3, n_init = 2},
  {k = 40, init = "k-means++", seed = 5, max_iter = 20}, -- k > 32: distances stored between passes
  {k = 6, init = {{0, 0, 0}, {5, 5, 5}, {-5, 10, 5}, {10, 10, -10}, {-10, 20, 0}, {0, 15, 10}}, max_iter = 50},
}
for _, p in ipairs(params) do
  local what = type(p.init) == "string" and p.init or "given"
  wb.threads(1)
  local ref = wb.fit("kmeans", base, p)
  local refpred = wb.core.labels(ref:predict(base))
  for threads = 1, 2 do
    wb.threads(threads)
    for li, d in ipairs(layouts) do
      local m = wb.fit("kmeans", d, p)
      same_model(ref, m, string.format("%s, %d threads, layout %d", what, threads, li))
      if li == 2 then
        local pred = wb.core.labels(m:predict(d))
        for i = 1, n, 7 do check(pred[i] == refpred[i], what .. ": same predictions") end
      end
    end
  end
end

-- metrics: the same numbers whatever the split
wb.threads(1)
local km = wb.fit("kmeans", base, {k = 6, seed = 1})
local ref = {}
for li, d in ipairs(layouts) do
  for threads = 1, 2 do
    wb.threads(threads)
    local lab = km:predict(d)
    local got = {
      wb.metrics.davies_bouldin(d, lab), wb.metrics.calinski_harabasz(d, lab),
      wb.metrics.silhouette(d, lab, {sample = 2000, seed = 5}), wb.metrics.inertia(d, lab, km.centers),
    }
    for i, v in ipairs(got) do
      if li == 1 and threads == 1 then ref[i] = v end
      check(v == ref[i], string.format("metric %d, layout %d, %d threads: %.17g vs %.17g", i, li, threads, v, ref[i]))
    end
  end
end
-- labels given as a Lua table line up with any split of the data too
local tab = wb.core.labels(km:predict(base))
check(wb.metrics.davies_bouldin(layouts[4], tab) == ref[1], "labels from a table")

-- k-means++ with stored distances (k > 32) and with distances recomputed
-- from the centres (k <= 32) pick the same centres: compare both ways
local wbexe = (os.getenv("WB_BUILD_DIR") or ".") .. "/wb"
local code = [[local r = wb.datagen.swiss_roll{n = 30000, noise = 0.2, seed = 4}
for _, k in ipairs{5, 40} do
  local km = wb.fit("kmeans", r, {k = k, seed = 2, max_iter = 1})
  local s = {}
  for _, c in ipairs(km.centers) do s[#s + 1] = string.format("%a,%a,%a", c[1], c[2], c[3]) end
  io.write(string.format("%a ", km.inertia), table.concat(s, ";"), "\n")
end]]
local function child(mode)
  local h = assert(io.popen(string.format("WB_KMEANS_PP=%s %q -e %q", mode, wbexe, code)))
  local out = h:read("a")
  check(h:close(), "child wb run (" .. mode .. ")")
  return out
end
local stored, recomputed = child("stored"), child("recompute")
check(#stored > 100 and stored == recomputed, "stored and recomputed k-means++ agree:\n" .. stored .. "\n" .. recomputed)
print("kmeans_repro: ok")
