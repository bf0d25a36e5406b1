-- kmeans and the clustering metrics: every bad input gets a named error before work
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error

local rows = {}
for i = 1, 10 do rows[i] = {i, i % 3} end
local d = wb.dataset(rows)

-- parameters (schema and cross checks)
expect_error("kmeans: parameter 'k' must be an integer >= 1, got 0", wb.fit, "kmeans", d, {k = 0})
expect_error("kmeans: parameter 'k' must be an integer >= 1, got -3", wb.fit, "kmeans", d, {k = -3})
expect_error("kmeans: k = 11 is more than the 10 rows of the data", wb.fit, "kmeans", d, {k = 11})
expect_error([[kmeans: parameter 'init' must be "k-means++", "k-means||", "random" or a matrix of k rows (the centres), got "kmeans++"]],
             wb.fit, "kmeans", d, {k = 2, init = "kmeans++"})
expect_error("kmeans: parameter 'init' has 3 rows (centres), k is 2", wb.fit, "kmeans", d, {k = 2, init = {{1, 1}, {2, 2}, {3, 3}}})
expect_error("kmeans: parameter 'init' has 3 columns, the data has 2", wb.fit, "kmeans", d, {k = 2, init = {{1, 1, 1}, {2, 2, 2}}})
expect_error("kmeans: parameter 'init' has NaN at row 2, column 1", wb.fit, "kmeans", d, {k = 2, init = {{1, 1}, {0 / 0, 2}}})
expect_error("kmeans: parameter 'init' has Inf at row 1, column 2", wb.fit, "kmeans", d, {k = 2, init = {{1, math.huge}, {2, 2}}})
expect_error([[kmeans: parameter 'n_init' must be an integer >= 1 or "auto", got "many"]], wb.fit, "kmeans", d, {k = 2, n_init = "many"})
expect_error("kmeans: parameter 'n_init' must be an integer >= 1", wb.fit, "kmeans", d, {k = 2, n_init = 0})
expect_error("kmeans: parameter 'max_iter' must be an integer >= 1, got 0", wb.fit, "kmeans", d, {k = 2, max_iter = 0})
expect_error("kmeans: parameter 'tol' must be a number >= 0, got -1", wb.fit, "kmeans", d, {k = 2, tol = -1})
expect_error("kmeans: parameter 'oversampling' must be a number > 0, got 0", wb.fit, "kmeans", d, {k = 2, oversampling = 0})
expect_error("kmeans: parameter 'rounds' must be an integer in [1, 1000], got 0", wb.fit, "kmeans", d, {k = 2, rounds = 0})
expect_error([[kmeans: parameter 'score' must be one of "inertia", "davies_bouldin", "calinski_harabasz", "silhouette", got "db"]],
             wb.fit, "kmeans", d, {k = 2, score = "db"})
local one = wb.fit("kmeans", wb.dataset({{1, 1}, {1, 1}, {1, 1}, {9, 9}}), {k = 2, score = "davies_bouldin"})
expect_error("kmeans: the davies_bouldin score needs 2 to rows - 1 clusters in the data, found 1", one.score, one, wb.dataset({{1, 1}, {1, 2}, {2, 1}}))
expect_error("kmeans: unknown parameter 'clusters'", wb.fit, "kmeans", d, {clusters = 2})
-- the same checks without data (e.g. a grid search validating its grid)
expect_error("kmeans: parameter 'init' must be", wb.core.check_params, "kmeans", {init = "furthest"})

-- NaN / Inf in the data, named by row and column
rows[7][2] = 0 / 0
expect_error("kmeans: the data has NaN at row 7, column 2", wb.fit, "kmeans", wb.dataset(rows), {k = 2})
rows[7][2] = 1
rows[4][1] = -math.huge
expect_error("kmeans: the data has -Inf at row 4, column 1", wb.fit, "kmeans", wb.dataset(rows), {k = 2})
rows[4][1] = 4

-- (found by the fit's first pass over the data, not by a pass of its own:
-- whichever pass comes first -- the column moments (tol > 0), k-means++ with
-- D^2 recomputed or stored (k > 32), k-means||, random or given starts, Lloyd
-- -- in a later partition too, before the errors a later step would give, and
-- by predict, transform and score in their own pass)
local big = {}
for i = 1, 12000 do big[i] = {(i * 7) % 17 - 8, (i * 13) % 11 - 5.5, (i * 3) % 5 + 0.25} end
local km3 = wb.fit("kmeans", wb.dataset(big), {k = 3, seed = 1})
local kmdb = wb.fit("kmeans", wb.dataset(big), {k = 3, seed = 1, score = "davies_bouldin"})
local starts = {{k = 3}, {k = 3, tol = 0}, {k = 40, tol = 0}, {k = 40}, {k = 3, tol = 0, init = "k-means||"},
                {k = 3, tol = 0, init = "random"}, {k = 3, tol = 0, init = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}}},
                {k = 1, tol = 0}}
for _, at in ipairs{{9000, 2, 0 / 0, "NaN"}, {1, 1, -math.huge, "-Inf"}, {12000, 3, math.huge, "Inf"}} do
  big[at[1]][at[2]] = at[3]
  local bd = wb.dataset(big)
  local msg = string.format("kmeans: the data has %s at row %d, column %d", at[4], at[1], at[2])
  for _, p in ipairs(starts) do expect_error(msg, wb.fit, "kmeans", bd, p) end
  local parts = wb.repartition(bd, 4096)
  check(parts:partitions() == 3, "three partitions")
  expect_error(msg, wb.fit, "kmeans", parts, {k = 3, tol = 0})
  for _, f in ipairs{km3.predict, km3.transform, km3.score} do expect_error(msg, f, km3, bd) end
  expect_error(msg, kmdb.score, kmdb, bd)
  big[at[1]][at[2]] = 1
end
-- ten columns (distances by BLAS): the fit and predict
local wide = {}
for i = 1, 300 do
  wide[i] = {}
  for j = 1, 10 do wide[i][j] = (i * j) % 7 end
end
local kmw = wb.fit("kmeans", wb.dataset(wide), {k = 2, seed = 1})
wide[250][9] = 0 / 0
expect_error("kmeans: the data has NaN at row 250, column 9", wb.fit, "kmeans", wb.dataset(wide), {k = 2, tol = 0})
expect_error("kmeans: the data has NaN at row 250, column 9", kmw.predict, kmw, wb.dataset(wide))
expect_error("kmeans: the data has NaN at row 250, column 9", kmw.transform, kmw, wb.dataset(wide))
-- before the distinct-points check of the starts
local two = {}
for i = 1, 50 do two[i] = {i % 2, 1} end
two[30][2] = 0 / 0
for _, p in ipairs{{k = 5}, {k = 5, tol = 0}, {k = 5, tol = 0, init = "k-means||"}, {k = 40, tol = 0}} do
  expect_error("kmeans: the data has NaN at row 30, column 2", wb.fit, "kmeans", wb.dataset(two), p)
end
two[30][2] = 1
expect_error("kmeans: the data has only 2 distinct points, fewer than k = 5", wb.fit, "kmeans", wb.dataset(two), {k = 5, tol = 0})
-- finite values whose squares overflow: sums of Inf that are not NaN/Inf in
-- the data; the fit goes on as it always did
local huge = {}
for i = 1, 200 do huge[i] = {(i % 7) * 1e200, (i % 3) * 1e200 - 1e200, i} end
for _, p in ipairs{{k = 3, seed = 1}, {k = 3, tol = 0, seed = 1}, {k = 3, tol = 0, init = "random", seed = 2}} do
  local mh = wb.fit("kmeans", wb.dataset(huge), p)
  check(mh.inertia == math.huge, "the inertia overflows: " .. mh.inertia)
  check(mh:score(wb.dataset(huge)) == -math.huge, "score")
  check(mh:predict(wb.dataset(huge)):rows() == 200 and mh:transform(wb.dataset(huge)):rows() == 200, "predict, transform")
end

-- fewer rows than clusters after a split
local part = d:slice(1, 5)
expect_error("kmeans: k = 8 is more than the 5 rows of the data", wb.fit, "kmeans", part, {k = 8})
TL.check(wb.split, "wb.split (the select plugin) is missing")
do
  local _, test = wb.split(d, {test = 0.3, seed = 1})
  expect_error("kmeans: k = 4 is more than the 3 rows of the data", wb.fit, "kmeans", test, {k = 4})
end

-- fitted models refuse data of another width, and NaN
local km = wb.fit("kmeans", d, {k = 2, seed = 1})
local three = wb.dataset({{1, 2, 3}, {4, 5, 6}})
expect_error("kmeans: the data has 3 columns, the model was fitted on 2", km.predict, km, three)
expect_error("kmeans: the data has 3 columns, the model was fitted on 2", km.transform, km, three)
expect_error("kmeans: the data has 3 columns, the model was fitted on 2", km.score, km, three)
expect_error("kmeans: the data has NaN at row 2, column 1", km.predict, km, wb.dataset({{1, 2}, {0 / 0, 1}}))

-- metrics: arguments and labels
local lab = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1}
expect_error("bad argument #1 to 'davies_bouldin' (dataset expected, got table)", wb.metrics.davies_bouldin, rows, lab)
expect_error("bad argument #2 to 'davies_bouldin' (9 labels for 10 rows)", wb.metrics.davies_bouldin, d, {0, 1, 0, 1, 0, 1, 0, 1, 0})
expect_error("bad argument #2 to 'calinski_harabasz' (labels expected (a vector, a labelled dataset or a table), got string)",
             wb.metrics.calinski_harabasz, d, "labels")
expect_error("bad argument #2 to 'silhouette' (label 3 is a string, not a number)", wb.metrics.silhouette, d, {0, 1, "x", 1, 0, 1, 0, 1, 0, 1})
expect_error("davies_bouldin: label 0.5 at row 3 is not an integer", wb.metrics.davies_bouldin, d, {0, 1, 0.5, 1, 0, 1, 0, 1, 0, 1})
expect_error("davies_bouldin: 1 distinct labels; needs 2 to rows - 1 (9)", wb.metrics.davies_bouldin, d, {3, 3, 3, 3, 3, 3, 3, 3, 3, 3})
expect_error("calinski_harabasz: 10 distinct labels; needs 2 to rows - 1 (9)", wb.metrics.calinski_harabasz, d, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
expect_error("silhouette: 1 distinct labels; needs 2 to rows - 1 (9)", wb.metrics.silhouette, d, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1})
expect_error("davies_bouldin: the labels span 0..1000000; at most 100000 distinct cluster ids in a range",
             wb.metrics.davies_bouldin, d, {0, 1e6, 0, 1, 0, 1, 0, 1, 0, 1})
expect_error("bad argument #3 to 'silhouette' (sample must be an integer >= 2, got 1)", wb.metrics.silhouette, d, lab, {sample = 1})
expect_error("bad argument #3 to 'silhouette' (unknown option 'samples' (options: sample, seed))", wb.metrics.silhouette, d, lab, {samples = 5})
expect_error("bad argument #3 to 'silhouette' (seed must be an integer >= 0, got -1)", wb.metrics.silhouette, d, lab, {seed = -1})
expect_error("inertia: labels run 0..2; they must index the 2 centres (0..1)", wb.metrics.inertia, d, {0, 1, 2, 1, 0, 1, 0, 1, 0, 1}, {{1, 1}, {2, 2}})
expect_error("bad argument #3 to 'inertia' (centre 2 must be a row of 2 numbers)", wb.metrics.inertia, d, lab, {{1, 1}, {2}})
expect_error("bad argument #3 to 'inertia' (centres expected (a table of rows or a dataset), got nil)", wb.metrics.inertia, d, lab)
rows[2][1] = math.huge
expect_error("silhouette: the data has Inf at row 2, column 1", wb.metrics.silhouette, wb.dataset(rows), lab)
print("kmeans_errors: ok")
