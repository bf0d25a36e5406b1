-- kmeans_ties.lua — a point equally far from two centres goes to the
-- earlier one (scikit-learn's argmin: KMeans(2, init=[[0], [2]], n_init=1)
-- on x = {0, 1, 2} gives centres 0.5 and 2, labels 0 0 1, inertia 0.5; in 9
-- columns, x_i = (i, ..., i), inertia 4.5), in the fit's Lloyd steps and in
-- predict, on both distance paths: the direct one (up to 8 columns) and the
-- BLAS one (more columns; there the tie is exact too: |c|^2 - 2 x.c is 0 for
-- both centres). Taking the later centre gives centres 0 and 1.5.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local eq, same = TL.eq, TL.same
TL.need_estimator("kmeans")

local function rep(v, d)
  local r = {}
  for j = 1, d do r[j] = v end
  return r
end

for _, d in ipairs{1, 9} do
  local what = d .. " column" .. (d > 1 and "s" or "")
  local x = wb.dataset({rep(0, d), rep(1, d), rep(2, d)})
  local km = wb.fit("kmeans", x, {k = 2, init = {rep(0, d), rep(2, d)}})
  same(km.centers, {rep(0.5, d), rep(2, d)}, what .. ": centres")
  eq(km.inertia, 0.5 * d, what .. ": inertia")
  same(km.sizes, {2, 1}, what .. ": sizes")
  same(wb.core.labels(km:predict(x)), {0, 0, 1}, what .. ": labels")
  -- predict: a model whose centres are 0 and 2, asked about the point between
  local m = wb.fit("kmeans", wb.dataset({rep(0, d), rep(0, d), rep(2, d), rep(2, d)}), {k = 2, init = {rep(0, d), rep(2, d)}})
  same(m.centers, {rep(0, d), rep(2, d)}, what .. ": centres 0 and 2")
  same(wb.core.labels(m:predict(wb.dataset({rep(1, d), rep(3, d), rep(-1, d)}))), {0, 1, 0}, what .. ": predict of a tie")
end
print("kmeans_ties: all checks passed")
