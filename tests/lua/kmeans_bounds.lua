-- kmeans algorithm = "elkan" / "hamerly": exact accelerations of Lloyd's
-- iterations. (1) Against scikit-learn's KMeans (lloyd and elkan) from the same
-- starting centres (tests/data/kmeans_reference.py): the same labels and
-- iterations, centres and inertia within 1e-9 (scikit-learn sums in another
-- order). (2) The same model as algorithm = "lloyd", bit for bit, on the direct
-- distance path (<= 8 columns) and the BLAS one, with every start, an empty
-- cluster, max_iter reached and n_init > 1. (3) The same bits whatever the
-- threads and partitions. (4) A bad value names the parameter, the value and
-- the allowed values.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error
TL.need_estimator("kmeans")
local src = os.getenv("WB_SOURCE_DIR") or "."
local ref = dofile(src .. "/tests/data/kmeans_reference.lua")

local ALGOS = {"lloyd", "elkan", "hamerly"}

-- (1) scikit-learn
for _, name in ipairs{"blobs3", "blobs12", "empty"} do
  local r = ref[name]
  local x = wb.dataset(r.x)
  for _, algo in ipairs(ALGOS) do
    local km = wb.fit("kmeans", x, {k = #r.init, init = r.init, max_iter = 100, tol = 0, algorithm = algo})
    local lab = wb.core.labels(km:predict(x))
    for _, sk_algo in ipairs{"lloyd", "elkan"} do
      local s = r[sk_algo]
      local what = string.format("%s, wb %s vs scikit-learn %s", name, algo, sk_algo)
      check(km.iterations == s.iterations, what .. ": iterations " .. km.iterations .. " vs " .. s.iterations)
      check(TL.rel(km.inertia, s.inertia, 1e-9), string.format("%s: inertia %.17g vs %.17g", what, km.inertia, s.inertia))
      local worst = 0
      for j, c in ipairs(s.centers) do
        for t = 1, #c do worst = math.max(worst, math.abs(km.centers[j][t] - c[t]) / math.max(1, math.abs(c[t]))) end
      end
      check(worst < 1e-9, what .. ": centres differ by " .. worst)
      local diff = 0
      for i = 1, #s.labels do diff = diff + (lab[i] ~= s.labels[i] and 1 or 0) end
      check(diff == 0, what .. ": " .. diff .. " labels differ")
    end
  end
end
-- the far starting centre of `empty` really gave an empty cluster that was refilled
check(ref.empty.lloyd.centers[4][1] < 100, "the empty cluster moved to a point")

-- (2) bit for bit as Lloyd
local function same_model(a, b, what)
  check(a.inertia == b.inertia, string.format("%s: inertia %.17g vs %.17g", what, a.inertia, b.inertia))
  check(a.iterations == b.iterations and a.converged == b.converged, what .. ": iterations")
  for j, c in ipairs(a.centers) do
    for t = 1, #c do check(c[t] == b.centers[j][t], what .. ": centre " .. j) end
    check(a.sizes[j] == b.sizes[j], what .. ": sizes")
  end
end

local roll = wb.datagen.swiss_roll{n = 30000, noise = 0.2, seed = 4}
local wide = wb.datagen.blobs{n = 20000, features = 20, centers = 12, cluster_std = 4, seed = 9}
local cases = {
  {roll, {k = 12, seed = 1}},
  {roll, {k = 7, init = "random", seed = 2, n_init = 2}},
  {roll, {k = 40, seed = 3, max_iter = 15}},
  {roll, {k = 5, init = "k-means||", seed = 3, tol = 0}},
  {wide, {k = 12, seed = 1}},
  {wide, {k = 30, init = "random", seed = 5, max_iter = 25}},
  {wide, {k = 6, init = "k-means||", seed = 6, tol = 0}},
  -- an empty cluster after the first step (a starting centre far from the data)
  {wb.dataset(ref.empty.x), {k = 4, init = ref.empty.init, tol = 0}},
}
for ci, c in ipairs(cases) do
  local d, p = c[1], c[2]
  p.algorithm = "lloyd"
  local l = wb.fit("kmeans", d, p)
  check(l.iterations >= 3, "case " .. ci .. ": several iterations")
  for _, algo in ipairs{"elkan", "hamerly"} do
    p.algorithm = algo
    same_model(l, wb.fit("kmeans", d, p), string.format("case %d (%d columns), %s", ci, d:cols(), algo))
  end
end

-- algorithm = "lloyd" on the BLAS path (more than 8 columns, k >= 4) runs with
-- Hamerly's bounds: the same bits as the plain passes (WB_KMEANS_LLOYD=plain,
-- in a child wb), with the product in floats or doubles, also with k = 100 (the shape of bench/kmeans_speed.sh), an
-- empty cluster, n_init > 1 and max_iter reached
do
  local wbexe = (os.getenv("WB_BUILD_DIR") or ".") .. "/wb"
  local code = [[local wide = wb.datagen.blobs{n = 20000, features = 20, centers = 12, cluster_std = 4, seed = 9}
local b50 = wb.datagen.blobs{n = 30000, features = 50, centers = 100, cluster_std = 4, seed = 3}
local far = {}
for j = 1, 12 do far[j] = {} for t = 1, 20 do far[j][t] = (j == 12 and 1e3 or 0) + j * 0.5 + t * 0.01 end end
local out = {}
for _, c in ipairs{{wide, {k = 12, seed = 1}}, {wide, {k = 30, init = "random", seed = 5, n_init = 2, max_iter = 25}},
                   {wide, {k = 12, init = far, tol = 0}}, {b50, {k = 100, seed = 2, max_iter = 40, tol = 0}},
                   {wide, {k = 3, seed = 4}}} do
  local km = wb.fit("kmeans", c[1], c[2])
  local s = {string.format("%a %d %d", km.inertia, km.iterations, km.converged)}
  for j, cj in ipairs(km.centers) do
    for t = 1, #cj do s[#s + 1] = string.format("%a", cj[t]) end
    s[#s + 1] = string.format("%a", km.sizes[j])
  end
  out[#out + 1] = table.concat(s, ",")
end
io.write(table.concat(out, "\n"), "\n")]]
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(code)
  f:close()
  local function child(env)
    local h = assert(io.popen(string.format("%s %q %q", env, wbexe, script)))
    local out = h:read("a")
    check(h:close(), "child wb run (" .. env .. ")")
    return out
  end
  -- (WB_KMEANS_PRODUCT=double: the centres' candidates from the product in
  -- doubles instead of floats; the exact values decide either way)
  local plain = child("WB_KMEANS_LLOYD=plain WB_KMEANS_PRODUCT=double")
  local plainf, hamerly, default = child("WB_KMEANS_LLOYD=plain"), child("WB_KMEANS_LLOYD=hamerly"), child("")
  local hamerlyd = child("WB_KMEANS_LLOYD=hamerly WB_KMEANS_PRODUCT=double")
  os.remove(script)
  check(#plain > 10000 and select(2, plain:gsub("\n", "")) == 5, "five models from the child")
  check(plain == plainf, "plain lloyd, the product in floats = in doubles, bit for bit")
  check(plain == hamerly, "lloyd with Hamerly's bounds = plain lloyd, bit for bit")
  check(plain == hamerlyd, "lloyd with Hamerly's bounds, the product in doubles = plain lloyd, bit for bit")
  check(plain == default, "lloyd's default path = plain lloyd, bit for bit")
end

-- a row equally far from two centres goes to the earlier one (as in
-- kmeans_ties.lua), on both distance paths
for _, d in ipairs{1, 9} do
  local function rep(v) local r = {} for j = 1, d do r[j] = v end return r end
  for _, algo in ipairs{"elkan", "hamerly"} do
    local x = wb.dataset({rep(0), rep(1), rep(2), rep(0), rep(2), rep(1)})
    local km = wb.fit("kmeans", x, {k = 2, init = {rep(0), rep(2)}, algorithm = algo})
    check(km.centers[1][1] == 0.5 and km.centers[2][1] == 2 and km.inertia == d, algo .. ", ties: centres 0.5 and 2")
    check(km.sizes[1] == 4 and km.sizes[2] == 2, algo .. ", ties: sizes")
  end
end

-- a tie met in a later pass, by a row whose bounds are for the later centre:
-- x = 1 goes to the centre at 1.9 first; then the centres are 0 and 2 and
-- the tie sends it to the earlier one (Lloyd: centres 1/3 and 3, inertia 7/6)
do
  local x = wb.dataset({{-0.5}, {0.5}, {1}, {3}})
  for _, algo in ipairs(ALGOS) do
    local km = wb.fit("kmeans", x, {k = 2, init = {{0}, {1.9}}, algorithm = algo, tol = 0})
    check(km.centers[1][1] == 1 / 3 and km.centers[2][1] == 3, algo .. ", a later tie: centres 1/3 and 3, got " ..
          km.centers[1][1] .. " and " .. km.centers[2][1])
    check(TL.rel(km.inertia, 7 / 6, 1e-15) and km.iterations == 3, algo .. ", a later tie: inertia 7/6 after 3 iterations")
  end
end

-- (3) the same bits whatever the threads and partitions
local function repartition(d, P)
  local srcp, out = wb.core.parts(d), {}
  for row0 = 0, d:rows() - 1, P do
    local m = math.min(P, d:rows() - row0)
    out[#out + 1] = wb.core.submit("kmeans.rows", srcp, string.pack("<i8i8i8i8I8I8di8", 0, d:cols(), 0, m, 0, 0, 0, row0))
  end
  return wb.core.dataset(out)
end
for _, c in ipairs{{roll, {k = 9, seed = 2, max_iter = 30}}, {wide, {k = 14, seed = 2, max_iter = 30}}} do
  local base, p = c[1], c[2]
  wb.threads(1)
  p.algorithm = "lloyd"
  local l = wb.fit("kmeans", base, p)
  local layouts = {base, repartition(base, 4096), repartition(base, 12288)}
  for _, algo in ipairs{"elkan", "hamerly"} do
    p.algorithm = algo
    for threads = 1, 2 do
      wb.threads(threads)
      for li, d in ipairs(layouts) do
        same_model(l, wb.fit("kmeans", d, p), string.format("%d columns, %s, %d threads, layout %d", base:cols(), algo, threads, li))
      end
    end
  end
end
wb.threads(2)

-- (4) bad values
expect_error('kmeans: parameter \'algorithm\' must be one of "lloyd", "elkan", "hamerly", got "fast"',
             wb.fit, "kmeans", roll, {k = 3, algorithm = "fast"})
expect_error('kmeans: parameter \'algorithm\' must be one of "lloyd", "elkan", "hamerly", got 2',
             wb.fit, "kmeans", roll, {k = 3, algorithm = 2})
print("kmeans_bounds: ok")
