-- pca: known covariances, scikit-learn's answers on a swiss roll, the
-- randomized solver against the exact one, fractions, whitening, transform
-- round trips, signs, score, save/load and printing
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, rel, near = TL.check, TL.rel, TL.near

-- exact: +-a_j along three orthogonal axes (a rotation R), so the sample
-- covariance is R diag(2a^2 / 5) R^T exactly
local R = {{2 / 3, 2 / 3, 1 / 3}, {-2 / 3, 1 / 3, 2 / 3}, {1 / 3, -2 / 3, 2 / 3}} -- rows: the axes
local amp = {3, 2, 1}
local pts = {}
for j = 1, 3 do
  for _, sgn in ipairs{1, -1} do
    local x = {}
    for t = 1, 3 do x[t] = sgn * amp[j] * R[j][t] end
    pts[#pts + 1] = x
  end
end
local p = wb.fit("pca", wb.dataset(pts), {components = 3})
for j = 1, 3 do
  check(near(p.explained_variance[j], 2 * amp[j] ^ 2 / 5, 1e-12), "explained variance " .. j)
  check(near(p.explained_variance_ratio[j], amp[j] ^ 2 / 14, 1e-12), "ratio " .. j)
  check(near(p.singular_values[j], math.sqrt(2) * amp[j], 1e-12), "singular value " .. j)
  -- the axis, with its largest entry made positive
  local big, sign = 1, 1
  for t = 2, 3 do if math.abs(R[j][t]) > math.abs(R[j][big]) then big = t end end
  if R[j][big] < 0 then sign = -1 end
  for t = 1, 3 do check(near(p.components[j][t], sign * R[j][t], 1e-12), "component " .. j) end
end
for t = 1, 3 do check(near(p.mean[t], 0, 1e-15), "mean 0") end

-- statistical: N(0, I) scaled by (3, 2, 1) then rotated: population covariance known
local z = wb.datagen.blobs{n = 40000, features = 3, centers = {{0, 0, 0}}, cluster_std = 1, seed = 8}
local rows = z:rows_table(1, z:rows())
local xs = {}
for i, r in ipairs(rows) do
  local x = {5, -1, 2} -- a mean far from 0
  for j = 1, 3 do for t = 1, 3 do x[t] = x[t] + amp[j] * r[j] * R[j][t] end end
  xs[i] = x
end
local xd = wb.dataset(xs)
p = wb.fit("pca", xd, {components = 2})
check(p.n_components == 2 and #p.components == 2, "two components")
for j = 1, 2 do
  check(rel(p.explained_variance[j], amp[j] ^ 2, 0.03), "variance " .. j .. ": " .. p.explained_variance[j])
  local dot = 0
  for t = 1, 3 do dot = dot + p.components[j][t] * R[j][t] end
  check(math.abs(dot) > 0.999, "component " .. j .. " along its axis: " .. dot)
end
check(rel(p.noise_variance, 1, 0.03), "noise variance = the last eigenvalue")
check(near(p.mean[1], 5, 0.05) and near(p.mean[2], -1, 0.05), "mean")

-- scikit-learn's PCA on the same swiss roll rows (values printed by scikit-learn 1.2)
local roll = wb.datagen.swiss_roll{n = 100000, noise = 0.2, seed = 0}
local want = {
  evr = {0.39719987871515955, 0.3185624280674249}, ev = {51.22336035800602, 41.08218286018396},
  sv = {2263.246520474569, 2026.863883894411}, mean = {2.0105924420326247, 10.494515068730863, 0.21505668939013303},
  comp = {{0.5167793266362348, -0.019116846346184935, 0.8559051780116627}, {0.8550789708837905, -0.03773010287236028, -0.517123189278492}},
  noise = 36.655624956635606, score = -9.88346914944929,
}
for _, solver in ipairs{"gram", "randomized", "auto"} do
  p = wb.fit("pca", roll, {components = 2, solver = solver})
  for j = 1, 2 do
    check(rel(p.explained_variance_ratio[j], want.evr[j], 1e-12), solver .. ": ratio " .. j)
    check(rel(p.explained_variance[j], want.ev[j], 1e-12), solver .. ": variance " .. j)
    check(rel(p.singular_values[j], want.sv[j], 1e-12), solver .. ": singular value " .. j)
    for t = 1, 3 do check(near(p.components[j][t], want.comp[j][t], 1e-10), solver .. ": component") end
  end
  for t = 1, 3 do check(rel(p.mean[t], want.mean[t], 1e-13), solver .. ": mean") end
  check(rel(p.noise_variance, want.noise, 1e-11), solver .. ": noise variance")
  check(rel(p:score(roll), want.score, 1e-12), solver .. ": score (mean log-likelihood)")
end
check(p.solver_used == "gram", "auto picks the one-pass solver for 3 columns")
-- uncentred (scikit-learn's TruncatedSVD)
p = wb.fit("pca", roll, {components = 2, center = false})
check(rel(p.explained_variance_ratio[1], 0.2860657748668386, 1e-12) and rel(p.explained_variance_ratio[2], 0.3958558637939923, 1e-12), "uncentred ratios")
check(rel(p.singular_values[1], 3887.035483414302, 1e-12) and rel(p.singular_values[2], 2259.894789417287, 1e-12), "uncentred singular values")
check(near(p.components[1][2], 0.9795815207874236, 1e-10) and near(p.components[2][3], 0.8603440036186655, 1e-10), "uncentred components")

-- randomized against the exact solver on wide data with a spectral gap
local wide = wb.datagen.classification{n = 6000, features = 120, informative = 6, redundant = 6, seed = 2}
local g = wb.fit("pca", wide, {components = 5, solver = "gram"})
local rz = wb.fit("pca", wide, {components = 5, solver = "randomized", seed = 1})
for j = 1, 5 do
  check(rel(rz.explained_variance[j], g.explained_variance[j], 1e-6), "randomized variance " .. j)
  local dot = 0
  for t = 1, 120 do dot = dot + rz.components[j][t] * g.components[j][t] end
  check(dot > 1 - 1e-5, "randomized component " .. j .. " (same sign rule): " .. dot)
end
-- more power iterations, closer
local rz15 = wb.fit("pca", wide, {components = 5, solver = "randomized", seed = 1, iterations = 15})
check(rel(rz15.explained_variance[5], g.explained_variance[5], 1e-11), "15 power iterations")
check(wb.fit("pca", wide, {components = 5}).solver_used == "gram", "auto: gram for 120 columns")

-- a variance fraction: the fewest components whose cumulative ratio exceeds it
local full = wb.fit("pca", wide, {})
check(full.n_components == 120, "default: min(rows, columns) components")
local cum, want_k = 0, nil
for j = 1, 120 do
  cum = cum + full.explained_variance_ratio[j]
  if not want_k and cum > 0.8 then want_k = j end
end
p = wb.fit("pca", wide, {components = 0.8})
check(p.n_components == want_k, "fraction 0.8 -> " .. want_k .. " components, got " .. p.n_components)

-- transform: (x - mean) V^T; whitening gives unit variance; inverse round trips
p = wb.fit("pca", roll, {components = 2})
local tr = p:transform(roll)
check(tr:rows() == 100000 and tr:cols() == 2, "transform shape")
local x1, z1 = roll:row(4321), tr:row(4321)
for j = 1, 2 do
  local v = 0
  for t = 1, 3 do v = v + (x1[t] - p.mean[t]) * p.components[j][t] end
  check(near(z1[j], v, 1e-12), "transform row")
end
local w = wb.fit("pca", roll, {components = 2, whiten = true})
local wrows = w:transform(roll):rows_table(1, 100000)
for j = 1, 2 do
  local m, v = 0, 0
  for _, r in ipairs(wrows) do m = m + r[j] end
  m = m / 100000
  for _, r in ipairs(wrows) do v = v + (r[j] - m) ^ 2 end
  check(near(v / 99999, 1, 1e-9), "whitened column has unit variance: " .. v / 99999)
  check(near(m, 0, 1e-9), "whitened column has mean 0")
end
local zw = w:transform(roll):row(4321)
check(near(zw[1], z1[1] / math.sqrt(p.explained_variance[1]), 1e-12), "whitened = scaled")
local back = w:inverse_transform(w:transform(roll)):row(4321)
local back2 = p:inverse_transform(tr):row(4321)
for t = 1, 3 do check(near(back[t], back2[t], 1e-9), "inverse of whitened data") end
local all = wb.fit("pca", roll, {components = 3})
local rt = all:inverse_transform(all:transform(roll))
for _, i in ipairs{1, 5000, 99999} do
  local a, bb = roll:row(i), rt:row(i)
  for t = 1, 3 do check(near(a[t], bb[t], 1e-9), "all components: exact round trip") end
end

-- score of the full model = Gaussian log-likelihood with the sample covariance
do
  local r2 = wb.datagen.blobs{n = 5000, features = 2, centers = {{1, 2}}, cluster_std = 1.5, seed = 4}
  local f = wb.fit("pca", r2, {components = 2})
  local rw = r2:rows_table(1, 5000)
  local m1, m2, n = 0, 0, 5000
  for _, x in ipairs(rw) do m1 = m1 + x[1]; m2 = m2 + x[2] end
  m1, m2 = m1 / n, m2 / n
  local s11, s12, s22 = 0, 0, 0
  for _, x in ipairs(rw) do
    s11 = s11 + (x[1] - m1) ^ 2; s12 = s12 + (x[1] - m1) * (x[2] - m2); s22 = s22 + (x[2] - m2) ^ 2
  end
  s11, s12, s22 = s11 / (n - 1), s12 / (n - 1), s22 / (n - 1)
  local det = s11 * s22 - s12 * s12
  local ll = -0.5 * 2 * (n - 1) / n - 0.5 * (2 * math.log(2 * math.pi) + math.log(det))
  check(rel(f:score(r2), ll, 1e-10), "score: " .. f:score(r2) .. " vs " .. ll)
end

-- save / load and print
local path = os.tmpname()
p:save(path)
local lp = wb.load_model(path)
os.remove(path)
for j = 1, 2 do
  check(lp.explained_variance_ratio[j] == p.explained_variance_ratio[j], "ratio survives save/load")
  for t = 1, 3 do check(lp.components[j][t] == p.components[j][t], "components survive save/load") end
end
check(lp:transform(roll):row(4321)[2] == z1[2], "loaded model transforms the same")
local s = tostring(p)
check(s:find("pca model", 1, true) and s:find("explained_variance_ratio", 1, true), "print: " .. s)
print("pca_basic: ok")
