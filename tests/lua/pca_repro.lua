-- pca: the same model, bit for bit, with 1 or 2 threads and whatever the partition sizes
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check

local function repartition(d, P)
  local src, out = wb.core.parts(d), {}
  for row0 = 0, d:rows() - 1, P do
    local m = math.min(P, d:rows() - row0)
    out[#out + 1] = wb.core.submit("kmeans.rows", src, string.pack("<i8i8i8i8I8I8di8", 0, d:cols(), 0, m, 0, 0, 0, row0))
  end
  return wb.core.dataset(out)
end

local function same(a, b, what)
  for _, f in ipairs{"explained_variance", "explained_variance_ratio", "singular_values", "mean"} do
    for j, v in ipairs(a[f]) do check(v == b[f][j], what .. ": " .. f) end
  end
  for j, r in ipairs(a.components) do for t, v in ipairs(r) do check(v == b.components[j][t], what .. ": components") end end
  check(a.noise_variance == b.noise_variance, what .. ": noise variance")
end

local roll = wb.datagen.swiss_roll{n = 50000, noise = 0.2, seed = 9}
local wide = wb.datagen.classification{n = 20000, features = 40, informative = 5, redundant = 5, seed = 9}
for _, case in ipairs{{roll, {components = 2}}, {roll, {components = 2, solver = "randomized"}},
                      {wide, {components = 4}}, {wide, {components = 4, solver = "randomized", seed = 3}}} do
  local data, params = case[1], case[2]
  wb.threads(1)
  local ref = wb.fit("pca", data, params)
  for threads = 1, 2 do
    wb.threads(threads)
    for _, P in ipairs{4096, 12288, 20480} do
      local d = repartition(data, P)
      check(d:partitions() == (data:rows() + P - 1) // P, "re-partitioned")
      same(ref, wb.fit("pca", d, params), string.format("%s, %d threads, partitions of %d", params.solver or "auto", threads, P))
    end
  end
end
print("pca_repro: ok")
