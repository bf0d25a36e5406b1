-- clustering metrics: hand-computed values on tiny data, scikit-learn's
-- values on fixed data, a plain Lua reference implementation, sampling
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, rel = TL.check, TL.rel

-- four points, two clusters: centroids (0,1) and (4,1), every point 1 away
local sq = wb.dataset({{0, 0}, {0, 2}, {4, 0}, {4, 2}})
local lab = {0, 0, 1, 1}
check(wb.metrics.davies_bouldin(sq, lab) == 0.5, "DB = (1 + 1) / 4")
check(wb.metrics.calinski_harabasz(sq, lab) == 8, "CH = 16 * (4 - 2) / (4 * 1)")
-- a = 2, b = (4 + sqrt(20)) / 2 for every point
local b = (4 + math.sqrt(20)) / 2
check(rel(wb.metrics.silhouette(sq, lab), (b - 2) / b, 1e-15), "silhouette")
check(wb.metrics.inertia(sq, lab, {{0, 1}, {4, 1}}) == 4, "inertia = 4 * 1")
check(wb.metrics.inertia(sq, {1, 1, 0, 0}, {{0, 1}, {4, 1}}) == 4 * (16 + 1), "inertia with swapped labels")
-- identical clusters' centroids and a zero spread: DB is 0 as in scikit-learn
check(wb.metrics.davies_bouldin(wb.dataset({{1, 1}, {1, 1}, {3, 3}, {3, 3}}), lab) == 0, "DB of points on their centroids")
check(wb.metrics.calinski_harabasz(wb.dataset({{1, 1}, {1, 1}, {3, 3}, {3, 3}}), lab) == 1, "CH with no spread is 1")

-- a plain Lua reference (scikit-learn's definitions)
local function reference(rows, labels)
  local d, n = #rows[1], #rows
  local ids, idx = {}, {}
  for i = 1, n do if not idx[labels[i]] then ids[#ids + 1] = labels[i]; idx[labels[i]] = true end end
  table.sort(ids)
  local cen, cnt = {}, {}
  for _, c in ipairs(ids) do cen[c] = {}; cnt[c] = 0; for t = 1, d do cen[c][t] = 0 end end
  for i = 1, n do
    local c = labels[i]
    cnt[c] = cnt[c] + 1
    for t = 1, d do cen[c][t] = cen[c][t] + rows[i][t] end
  end
  for _, c in ipairs(ids) do for t = 1, d do cen[c][t] = cen[c][t] / cnt[c] end end
  local function dist(a, b2) local s = 0; for t = 1, d do s = s + (a[t] - b2[t]) ^ 2 end return math.sqrt(s) end
  local S, intra = {}, 0
  for _, c in ipairs(ids) do S[c] = 0 end
  for i = 1, n do
    local v = dist(rows[i], cen[labels[i]])
    S[labels[i]] = S[labels[i]] + v
    intra = intra + v * v
  end
  local db = 0
  for _, a in ipairs(ids) do
    local worst = 0
    for _, c in ipairs(ids) do
      if c ~= a then worst = math.max(worst, (S[a] / cnt[a] + S[c] / cnt[c]) / dist(cen[a], cen[c])) end
    end
    db = db + worst
  end
  db = db / #ids
  local mean = {}
  for t = 1, d do mean[t] = 0; for i = 1, n do mean[t] = mean[t] + rows[i][t] end; mean[t] = mean[t] / n end
  local extra = 0
  for _, c in ipairs(ids) do extra = extra + cnt[c] * dist(cen[c], mean) ^ 2 end
  local ch = extra * (n - #ids) / (intra * (#ids - 1))
  local sil = 0
  for i = 1, n do
    local sums = {}
    for _, c in ipairs(ids) do sums[c] = 0 end
    for j = 1, n do sums[labels[j]] = sums[labels[j]] + dist(rows[i], rows[j]) end
    local own = labels[i]
    if cnt[own] > 1 then
      local a = sums[own] / (cnt[own] - 1)
      local bb = math.huge
      for _, c in ipairs(ids) do if c ~= own then bb = math.min(bb, sums[c] / cnt[c]) end end
      sil = sil + (bb - a) / math.max(a, bb)
    end
  end
  return db, ch, sil / n
end

-- sparse labels and a cluster of one (silhouette 0 there); scikit-learn's values
local rows7 = {{0, 0}, {1, 0}, {0, 1}, {5, 5}, {6, 5}, {5, 7}, {9, 0}}
local lab7 = {2, 2, 2, 7, 7, 7, 9}
local d7 = wb.dataset(rows7)
local db, ch, sil = reference(rows7, lab7)
check(rel(wb.metrics.davies_bouldin(d7, lab7), 0.2031521330791739, 1e-14) and rel(db, 0.2031521330791739, 1e-14), "DB, 7 points")
check(rel(wb.metrics.calinski_harabasz(d7, lab7), 51.632653061224488, 1e-14) and rel(ch, 51.632653061224488, 1e-14), "CH, 7 points")
check(rel(wb.metrics.silhouette(d7, lab7), 0.6800878362396785, 1e-14) and rel(sil, 0.6800878362396785, 1e-14), "silhouette, 7 points")

-- overlapping blobs (3000 x 3) with their generating labels: scikit-learn's values
local blobs = wb.datagen.blobs{n = 3000, features = 3, centers = 4, cluster_std = 3, seed = 11}
check(rel(wb.metrics.davies_bouldin(blobs, blobs), 1.0440458595471833, 1e-12), "DB vs scikit-learn")
check(rel(wb.metrics.calinski_harabasz(blobs, blobs), 2966.8543950432377, 1e-12), "CH vs scikit-learn")
check(rel(wb.metrics.silhouette(blobs, blobs), 0.38123517010822167, 1e-12), "silhouette vs scikit-learn")
-- and the Lua reference on a part of them
local rows, y = blobs:rows_table(1, 400)
local part = wb.dataset(rows, y)
db, ch, sil = reference(rows, y)
check(rel(wb.metrics.davies_bouldin(part, part), db, 1e-12), "DB vs reference")
check(rel(wb.metrics.calinski_harabasz(part, part), ch, 1e-12), "CH vs reference")
check(rel(wb.metrics.silhouette(part, part), sil, 1e-12), "silhouette vs reference")

-- labels as a labelled dataset, a vector or a table give the same numbers
local v = blobs:labels()
local t = wb.core.labels(blobs)
check(wb.metrics.davies_bouldin(blobs, v) == wb.metrics.davies_bouldin(blobs, t), "vector and table labels")

-- sampled silhouette: reproducible, close to the exact value, seed-dependent
local exact = wb.metrics.silhouette(blobs, v)
check(exact == wb.metrics.silhouette(blobs, v, {sample = 3000}), "sample >= rows is exact")
local s1 = wb.metrics.silhouette(blobs, v, {sample = 1000, seed = 1})
check(s1 == wb.metrics.silhouette(blobs, v, {sample = 1000, seed = 1}), "sampled silhouette is reproducible")
check(s1 ~= wb.metrics.silhouette(blobs, v, {sample = 1000, seed = 2}), "another seed, another sample")
check(math.abs(s1 - exact) < 0.03, "sampled silhouette near the exact one: " .. s1 .. " vs " .. exact)
-- large data: 10000 rows sampled by default
local big = wb.datagen.blobs{n = 40000, features = 2, centers = 3, cluster_std = 1, seed = 2}
local sb = wb.metrics.silhouette(big, big)
check(sb == wb.metrics.silhouette(big, big, {sample = 10000, seed = 0}), "default sample of 10000 rows, seed 0")
check(sb > 0.5 and sb < 1, "separated blobs have a high silhouette")
print("clustering_metrics: ok")
