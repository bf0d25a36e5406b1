-- datagen: shapes, the recipe's structure, reproducibility, and parameter errors
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, errmsg, expect_error = TL.check, TL.error_of, TL.expect_error

-- shapes and labels
local d = wb.datagen.classification{n = 50000, features = 10, informative = 5, redundant = 5, seed = 1}
check(d:rows() == 50000 and d:cols() == 10 and d:has_labels(), "shape")
local y = wb.core.labels(d)
local ones = 0
for i = 1, #y do check(y[i] == 0 or y[i] == 1, "labels 0/1"); ones = ones + y[i] end
check(math.abs(ones / #y - 0.5) < 0.02, "balanced classes: " .. ones / #y)

-- same seed, same bytes, whatever the thread count; another seed differs
wb.threads(1)
local d1 = wb.datagen.classification{n = 50000, features = 10, informative = 5, redundant = 5, seed = 1}
wb.threads(2)
local d2 = wb.datagen.classification{n = 50000, features = 10, informative = 5, redundant = 5, seed = 2}
for _, i in ipairs{1, 4096, 4097, 33333, 50000} do
  local a, la = d:row(i)
  local b, lb = d1:row(i)
  local c = d2:row(i)
  for j = 1, 10 do check(a[j] == b[j], "same seed same data at row " .. i) end
  check(la == lb, "same labels")
  check(a[1] ~= c[1], "another seed gives other data")
end
-- a slice of a bigger set equals the smaller set's rows (rows do not depend on n)
local big = wb.datagen.classification{n = 70000, features = 10, informative = 5, redundant = 5, seed = 1}
local r1, r2 = d:row(49999), big:row(49999)
for j = 1, 10 do check(r1[j] == r2[j], "row independent of n") end

-- the recipe: redundant features are linear combinations of the informative
-- ones (no shuffle so columns stay in order): least squares residual ~ 0
local s = wb.datagen.classification{n = 2000, features = 4, informative = 2, redundant = 1,
                                    repeated = 1, shuffle = false, flip_y = 0, seed = 7}
local rows = s:rows_table(1, 200)
-- solve [x1 x2] b = x3 by normal equations
local a11, a12, a22, c1, c2 = 0, 0, 0, 0, 0
for _, r in ipairs(rows) do
  a11 = a11 + r[1] * r[1]; a12 = a12 + r[1] * r[2]; a22 = a22 + r[2] * r[2]
  c1 = c1 + r[1] * r[3]; c2 = c2 + r[2] * r[3]
end
local det = a11 * a22 - a12 * a12
local b1, b2 = (c1 * a22 - c2 * a12) / det, (a11 * c2 - a12 * c1) / det
local res = 0
for _, r in ipairs(rows) do res = math.max(res, math.abs(r[1] * b1 + r[2] * b2 - r[3])) end
check(res < 1e-9, "redundant column is a linear combination: residual " .. res)
for _, r in ipairs(rows) do
  check(r[4] == r[1] or r[4] == r[2] or r[4] == r[3], "repeated column copies another")
end
-- clusters sit on hypercube vertices: with a large class_sep, class means are far apart
local sep = wb.datagen.classification{n = 20000, features = 2, informative = 2, redundant = 0,
                                      clusters_per_class = 1, class_sep = 10, flip_y = 0,
                                      shuffle = false, seed = 3}
local xs, ls = sep:rows_table(1, 20000)
local m = {[0] = {0, 0, 0}, [1] = {0, 0, 0}}
for i, r in ipairs(xs) do
  local k = ls[i]
  m[k][1] = m[k][1] + r[1]; m[k][2] = m[k][2] + r[2]; m[k][3] = m[k][3] + 1
end
for k = 0, 1 do
  for j = 1, 2 do
    local mean = m[k][j] / m[k][3]
    check(math.abs(math.abs(mean) - 10) < 1.5, "class mean near a vertex: " .. mean)
  end
end
-- flip_y: with one cluster per class far apart, about flip_y/2 of labels disagree with their cluster
local f = wb.datagen.classification{n = 40000, features = 2, informative = 2, redundant = 0,
                                    clusters_per_class = 1, class_sep = 20, flip_y = 0.2,
                                    shuffle = false, seed = 4}
local fx, fl = f:rows_table(1, 40000)
-- the cluster of a point is its nearest vertex; count labels that disagree with the majority of its quadrant
local quad = {}
for i, r in ipairs(fx) do
  local q = (r[1] > 0 and 1 or 0) + (r[2] > 0 and 2 or 0)
  quad[q] = quad[q] or {0, 0}
  quad[q][fl[i] + 1] = quad[q][fl[i] + 1] + 1
end
local wrong, total = 0, 0
for _, c in pairs(quad) do wrong = wrong + math.min(c[1], c[2]); total = total + c[1] + c[2] end
check(math.abs(wrong / total - 0.1) < 0.01, "flip_y 0.2 flips about 10% to the other class: " .. wrong / total)
-- more classes
local mc = wb.datagen.classification{n = 30000, features = 6, informative = 4, redundant = 1, classes = 5, seed = 5}
local cnt = {}
for _, v in ipairs(wb.core.labels(mc)) do cnt[v] = (cnt[v] or 0) + 1 end
for k = 0, 4 do check(cnt[k] and math.abs(cnt[k] / 30000 - 0.2) < 0.02, "class " .. k .. " share") end
-- weights
local wd = wb.datagen.classification{n = 30000, features = 4, informative = 2, redundant = 0,
                                     weights = {0.9}, flip_y = 0, seed = 6}
local w0 = 0
for _, v in ipairs(wb.core.labels(wd)) do if v == 0 then w0 = w0 + 1 end end
check(math.abs(w0 / 30000 - 0.9) < 0.01, "weights 0.9: " .. w0 / 30000)

-- swiss roll: the exact curve without noise; t as labels
local sr = wb.datagen.swiss_roll{n = 10000, seed = 1}
check(sr:cols() == 3 and sr:rows() == 10000, "roll shape")
local sx, st = sr:rows_table(1, 1000)
for i, r in ipairs(sx) do
  local t = st[i]
  check(t >= 1.5 * math.pi and t <= 4.5 * math.pi, "t range")
  check(math.abs(r[1] - t * math.cos(t)) < 1e-12 and math.abs(r[3] - t * math.sin(t)) < 1e-12, "on the roll")
  check(r[2] >= 0 and r[2] <= 21, "height")
end
local noisy = wb.datagen.swiss_roll{n = 10000, noise = 0.2, seed = 1}
local nx, nt = noisy:rows_table(1, 2000)
local ss = 0
for i, r in ipairs(nx) do ss = ss + (r[1] - nt[i] * math.cos(nt[i])) ^ 2 end
check(math.abs(math.sqrt(ss / 2000) - 0.2) < 0.02, "noise sd 0.2")

-- blobs around given centres
local bl = wb.datagen.blobs{n = 20000, features = 2, centers = {{0, 0}, {50, 50}, {-50, 20}}, cluster_std = 0.5, seed = 9}
local bx, bls = bl:rows_table(1, 20000)
local cen = {{0, 0}, {50, 50}, {-50, 20}}
for i = 1, 2000 do
  local c = cen[bls[i] + 1]
  check(math.abs(bx[i][1] - c[1]) < 4 and math.abs(bx[i][2] - c[2]) < 4, "blob point near its centre")
end
local b4 = wb.datagen.blobs{n = 1000, features = 3, centers = 4, seed = 1}
check(b4:cols() == 3, "blobs features")

-- bad parameters: named errors before any work
expect_error("datagen.classification: parameter 'n' must be an integer >= 1, got 0",
             wb.datagen.classification, {n = 0})
expect_error("datagen.classification: parameter 'n' must be an integer >= 1, got 2.5",
             wb.datagen.classification, {n = 2.5})
expect_error("datagen.classification: informative + redundant + repeated (12) must be <= features (10)",
             wb.datagen.classification, {n = 10, features = 10, informative = 6, redundant = 6})
expect_error("datagen.classification: parameter 'classes' must be an integer >= 2, got 1",
             wb.datagen.classification, {n = 10, classes = 1})
expect_error("datagen.classification: classes * clusters_per_class (8) must be <= 2^informative (4)",
             wb.datagen.classification, {n = 10, classes = 4, informative = 2})
expect_error("datagen.swiss_roll: parameter 'noise' must be a number >= 0, got -1",
             wb.datagen.swiss_roll, {n = 10, noise = -1})
expect_error("datagen.swiss_roll: parameter 'noise' must be a number >= 0, got string \"a\"",
             wb.datagen.swiss_roll, {n = 10, noise = "a"})
expect_error("datagen.classification: parameter 'flip_y' must be a number in [0, 1], got true",
             wb.datagen.classification, {n = 10, flip_y = true})
expect_error("datagen.classification: unknown parameter 'rows' (parameters: n, features",
             wb.datagen.classification, {rows = 10})
expect_error("datagen.classification: parameter 'n' is required", wb.datagen.classification, {})
expect_error("bad argument #1 to 'classification' (table of parameters expected, got number)",
             wb.datagen.classification, 5)
expect_error("datagen.blobs: parameter 'centers' must have 2 columns (features), got 2 x 3",
             wb.datagen.blobs, {n = 10, centers = {{1, 2, 3}, {4, 5, 6}}})
expect_error("datagen.classification: parameter 'weights' must hold 2 or 1 numbers, got 1 x 3",
             wb.datagen.classification, {n = 10, weights = {0.1, 0.2, 0.3}})
print("datagen: ok")
