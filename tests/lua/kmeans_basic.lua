-- kmeans: known answers (blobs recover their centres, hand-computed Lloyd
-- steps, empty-cluster relocation as scikit-learn does it), every start,
-- duplicates, predict/transform/score, save/load and printing
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error, near, rel = TL.check, TL.expect_error, TL.near, TL.rel

-- well-separated blobs: every start recovers the true centres
local truth = {{-10, -10}, {10, -10}, {-10, 10}, {10, 10}}
local b = wb.datagen.blobs{n = 20000, features = 2, centers = truth, cluster_std = 0.5, seed = 5}
for _, init in ipairs{"k-means++", "k-means||", "random"} do
  local km = wb.fit("kmeans", b, {k = 4, init = init, seed = 3})
  check(km.converged == 1 and km.iterations >= 1, init .. ": converged")
  local used = {}
  for _, t in ipairs(truth) do
    local best, bj = math.huge, nil
    for j, c in ipairs(km.centers) do
      local dd = (c[1] - t[1]) ^ 2 + (c[2] - t[2]) ^ 2
      if dd < best then best, bj = dd, j end
    end
    check(math.sqrt(best) < 0.05, string.format("%s: centre near (%g, %g) off by %g", init, t[1], t[2], math.sqrt(best)))
    check(not used[bj], init .. ": one centre per blob")
    used[bj] = true
  end
  -- inertia: n * d * std^2 for Gaussian blobs
  check(near(km.inertia, 20000 * 2 * 0.25, 300), init .. ": inertia " .. km.inertia)
  local sizes = km.sizes
  local total = 0
  for j = 1, 4 do total = total + sizes[j]; check(sizes[j] > 4500, "sizes") end
  check(total == 20000, "sizes add up to the rows")
  -- predict agrees with the blob labels (up to renaming), and with the metric
  local pred, y = wb.core.labels(km:predict(b)), wb.core.labels(b)
  local map, agree = {}, 0
  for i = 1, #y do
    map[y[i]] = map[y[i]] or pred[i]
    if map[y[i]] == pred[i] then agree = agree + 1 end
  end
  check(agree == #y, init .. ": predict recovers the blobs")
  check(rel(km.inertia, wb.metrics.inertia(b, km:predict(b), km.centers), 1e-12), init .. ": inertia equals the metric")
  check(km:score(b) == -km.inertia, init .. ": score is minus the inertia")
end

-- given centres (a table of rows, or a dataset): the hand-computed Lloyd run
local x = wb.dataset({{0}, {1}, {10}, {11}})
local km = wb.fit("kmeans", x, {k = 2, init = {{0}, {10}}})
check(km.centers[1][1] == 0.5 and km.centers[2][1] == 10.5, "centres 0.5 and 10.5 (rows of one)")
check(km.inertia == 1.0 and km.iterations == 2 and km.converged == 1, "inertia 1 after 2 iterations")
local km2 = wb.fit("kmeans", x, {k = 2, init = wb.dataset({{0}, {10}})})
check(km2.centers[1][1] == 0.5 and km2.centers[2][1] == 10.5, "centres given as a dataset")

-- an empty cluster takes the point farthest from its centre (scikit-learn's rule)
x = wb.dataset({{0}, {1}, {3}, {10}, {11}, {12}})
km = wb.fit("kmeans", x, {k = 3, init = {{1}, {11}, {100}}, max_iter = 1})
check(km.centers[1][1] == 0.5 and km.centers[2][1] == 11 and km.centers[3][1] == 3, "relocated to the farthest point")
km = wb.fit("kmeans", x, {k = 3, init = {{1}, {11}, {100}}})
check(km.centers[3][1] == 3 and km.inertia == 2.5 and km.iterations == 2, "then converges: inertia 2.5")
check(km.sizes[1] == 2 and km.sizes[2] == 3 and km.sizes[3] == 1, "sizes after relocation")

-- max_iter reached: not converged
local roll = wb.datagen.swiss_roll{n = 20000, noise = 0.2, seed = 1}
km = wb.fit("kmeans", roll, {k = 8, max_iter = 2, tol = 0, seed = 1})
check(km.iterations == 2 and km.converged == 0, "stops at max_iter without converging")

-- n_init: the first run is the n_init = 1 run, so the best of 4 is no worse
local one = wb.fit("kmeans", roll, {k = 8, init = "random", n_init = 1, seed = 7})
local four = wb.fit("kmeans", roll, {k = 8, init = "random", n_init = 4, seed = 7})
check(four.inertia <= one.inertia, "best of n_init runs")

-- duplicate points: k equal to the number of distinct points gives them back
local dup = wb.dataset({{1, 1}, {1, 1}, {2, 2}, {2, 2}, {2, 2}, {5, 5}, {1, 1}, {5, 5}})
for _, init in ipairs{"k-means++", "k-means||", "random"} do
  local m = wb.fit("kmeans", dup, {k = 3, init = init, seed = 2})
  check(m.inertia == 0, init .. ": inertia 0 with k = distinct points")
  local seen = {}
  for _, c in ipairs(m.centers) do seen[string.format("%g,%g", c[1], c[2])] = true end
  check(seen["1,1"] and seen["2,2"] and seen["5,5"], init .. ": the three points are the centres")
end
expect_error("kmeans: the data has only 3 distinct points, fewer than k = 4", wb.fit, "kmeans", dup, {k = 4})
expect_error("kmeans: the data has only 3 distinct points, fewer than k = 4", wb.fit, "kmeans", dup, {k = 4, init = "k-means||"})
expect_error("kmeans: the data has fewer distinct points than k = 4", wb.fit, "kmeans", dup, {k = 4, init = "random", n_init = 1})

-- transform: distances to every centre; their argmin is predict
km = wb.fit("kmeans", b, {k = 4, seed = 1})
local dist = km:transform(b)
check(dist:rows() == 20000 and dist:cols() == 4, "transform shape")
local p = wb.core.labels(km:predict(b))
for _, i in ipairs{1, 777, 4097, 20000} do
  local r, dr = b:row(i), dist:row(i)
  local bj, best = 0, math.huge
  for j, c in ipairs(km.centers) do
    local want = math.sqrt((r[1] - c[1]) ^ 2 + (r[2] - c[2]) ^ 2)
    check(near(dr[j], want, 1e-12), "distance to centre " .. j)
    if want < best then best, bj = want, j end
  end
  check(p[i] == bj - 1, "predict is the nearest centre (0-based)")
end

-- more columns: the BLAS distance path
local wide = wb.datagen.blobs{n = 12000, features = 12, centers = 3, cluster_std = 0.3, box = 20, seed = 9}
km = wb.fit("kmeans", wide, {k = 3, seed = 0})
check(near(km.inertia, 12000 * 12 * 0.09, 12000 * 12 * 0.09 * 0.05), "wide blobs inertia " .. km.inertia)
check(rel(km.inertia, wb.metrics.inertia(wide, km:predict(wide), km.centers), 1e-12), "wide: inertia equals the metric")
local wdist = km:transform(wide):row(5)
local wrow = wide:row(5)
for j, c in ipairs(km.centers) do
  local s = 0
  for t = 1, 12 do s = s + (wrow[t] - c[t]) ^ 2 end
  check(near(wdist[j], math.sqrt(s), 1e-9), "wide transform")
end

-- score by a chosen metric (what grid search maximises)
do
  local lab = wb.fit("kmeans", b, {k = 4, seed = 1}):predict(b)
  local m1 = wb.fit("kmeans", b, {k = 4, seed = 1, score = "davies_bouldin"})
  check(m1:score(b) == -wb.metrics.davies_bouldin(b, lab), "score = -Davies-Bouldin")
  m1 = wb.fit("kmeans", b, {k = 4, seed = 1, score = "calinski_harabasz"})
  check(m1:score(b) == wb.metrics.calinski_harabasz(b, lab), "score = Calinski-Harabasz")
  m1 = wb.fit("kmeans", b, {k = 4, seed = 1, score = "silhouette"})
  check(m1:score(b) == wb.metrics.silhouette(b, lab), "score = silhouette (10000-row sample)")
  TL.check(wb.gridsearch, "wb.gridsearch (the select plugin) is missing")
  do
    local g = wb.gridsearch("kmeans", b, {k = {2, 3, 4, 6}}, {folds = 3, params = {score = "calinski_harabasz"}})
    check(g.best_params.k == 4, "grid search by Calinski-Harabasz finds the 4 blobs, got " .. tostring(g.best_params.k))
    g = wb.gridsearch("kmeans", b, {k = {2, 4}}, {folds = 2})
    check(g.best_params.k == 4 and g.best_score < 0, "grid search by -inertia")
  end
end

-- save / load bit-identically, and a readable print
local path = os.tmpname()
km = wb.fit("kmeans", b, {k = 4, seed = 1})
km:save(path)
local back = wb.load_model(path)
os.remove(path)
for j = 1, 4 do for t = 1, 2 do check(back.centers[j][t] == km.centers[j][t], "centres survive save/load") end end
check(back.inertia == km.inertia and back.iterations == km.iterations, "fields survive save/load")
local pa, pb = wb.core.labels(km:predict(b)), wb.core.labels(back:predict(b))
for i = 1, #pa, 97 do check(pa[i] == pb[i], "loaded model predicts the same") end
local s = tostring(km)
check(s:find("kmeans model", 1, true) and s:find("centers", 1, true) and s:find("inertia", 1, true), "print: " .. s)
print("kmeans_basic: ok")
