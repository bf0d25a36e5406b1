-- bench/cluster_pca.lua -- k-means, Davies-Bouldin and PCA against scikit-learn, in one run:
--   1. swiss roll N_KM x 3 (make_swiss_roll(noise=0.2, random_state=0), written to .npy by
--      bench/cluster_pca_data.py so both sides cluster the same numbers), k = 16, max_iter 100,
--      n_init 1, k-means++: time per Lloyd iteration (fit time / iterations, the start
--      included on both sides) for seeds 0..3; inertia (best of the seeds) against
--      scikit-learn's best of the same seeds; Davies-Bouldin time.
--   2. PCA N_PCA x 3 -> 2 components: fit time and explained_variance_ratio against
--      scikit-learn's PCA (relative difference).
--   3. peak memory (/usr/bin/time -v, whole process) of load + fit, wb and scikit-learn, next
--      to the size of the data.
--   4. PCA WIDE_N x WIDE_D -> 10 components, randomized, on make_low_rank_matrix data: time and
--      explained variance against scikit-learn's randomized solver and the exact eigenvalues.
-- scikit-learn runs through bench/peers/sklearn_peer.py (kmeans, pca: seed 0) and
-- bench/peers/cluster_pca_peer.py (the other seeds, the wide PCA, the memory runs), 2 threads;
-- wb runs with its default threads (one per core).
--
--   wb bench/cluster_pca.lua [N_KM [N_PCA [WIDE_N [WIDE_D [DIR]]]]]
--   defaults: 3000000 5000000 100000 1000 /tmp     (bench/cluster_pca.sh runs the build's wb)
local NK = math.tointeger(tonumber(arg[1] or "3000000"))
local NP = math.tointeger(tonumber(arg[2] or "5000000"))
local WN = math.tointeger(tonumber(arg[3] or "100000"))
local WD = math.tointeger(tonumber(arg[4] or "1000"))
local DIR = arg[5] or "/tmp"
assert(NK and NK >= 1000 and NP and NP >= 1000 and WN and WN >= 100 and WD and WD >= 20,
       "usage: wb bench/cluster_pca.lua [N_KM [N_PCA [WIDE_N [WIDE_D [DIR]]]]]")
local WB = arg[-1] or "wb"
local PY = "/usr/bin/python3"
local SEEDS = {0, 1, 2, 3}

local here = debug.getinfo(1, "S").source:match("^@(.*)/bench/[^/]*$") or "."
local B = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/common.lua")
local PEERS = B.peers_dir("sklearn_peer.py")
assert(PEERS, "cluster_pca: bench/peers/sklearn_peer.py not found")

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local function run(cmd)
  local h = assert(io.popen(cmd .. " 2>&1"))
  local out = h:read("a")
  local ok, _, code = h:close()
  if not ok then error(string.format("cluster_pca: %s failed (%s):\n%s", cmd, tostring(code), out), 0) end
  return out
end
local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end
local function minimum(t) local m = math.huge; for _, v in ipairs(t) do m = math.min(m, v) end return m end
-- the JSON lines of a peer: {step=, seconds=, iters=, inertia=, score=, evr={...}, ev={...}}
local function steps(out)
  local r = {}
  for line in out:gmatch("[^\n]+") do
    if line:match('^{"peer"') then
      local s = {step = line:match('"step":%s*"([^"]*)"')}
      for _, k in ipairs{"seconds", "cpu", "iters", "inertia", "score", "seed"} do
        s[k] = tonumber(line:match('"' .. k .. '":%s*([-%deE%.+]+)'))
      end
      for _, k in ipairs{"evr", "ev"} do
        local l = line:match('"' .. k .. '":%s*%[([^%]]*)%]')
        if l then
          s[k] = {}
          for v in l:gmatch("[^,%s]+") do s[k][#s[k] + 1] = tonumber(v) end
        end
      end
      r[#r + 1] = s
    end
  end
  return r
end
local function maxrss_mb(out)
  local kb = tonumber(out:match("Maximum resident set size %(kbytes%): (%d+)"))
  return kb and kb / 1024 or 0 / 0
end
local function f(fmt, ...) print(string.format(fmt, ...)) end

print(string.format("cluster_pca: wb %s, %d threads; peers %s; data in %s", wb.version(), wb.threads(), PEERS, DIR))

-- the data, written once by scikit-learn's generators (reused when present)
local function data(kind, n, d)
  local path = string.format("%s/wb_bench_%s_%d%s.npy", DIR, kind, n, d and ("x" .. d) or "")
  local fh = io.open(path, "rb")
  if fh then fh:close() return path end
  local t = wb.now()
  run(string.format("%s %s %s %d %s %s", PY, sh_quote(here .. "/bench/cluster_pca_data.py"), kind, n, sh_quote(path), d or ""))
  f("  wrote %s (%.1f s)", path, wb.now() - t)
  return path
end
local roll_km, roll_pca, wide = data("roll", NK), data("roll", NP), data("lowrank", WN, WD)

------------------------------------------------------------------ 1. k-means
print(string.format("\n== k-means: swiss roll %d x 3, k = 16, max_iter 100, n_init 1, k-means++", NK))
local r = wb.load(roll_km)
local wk = {}
for _, s in ipairs(SEEDS) do
  local t, c = wb.now(), os.clock()
  local km = wb.fit("kmeans", r, {k = 16, max_iter = 100, n_init = 1, seed = s})
  local el, cpu = wb.now() - t, os.clock() - c
  wk[#wk + 1] = {seed = s, seconds = el, cpu = cpu, iters = km.iterations, inertia = km.inertia, per = el / km.iterations,
                 cper = cpu / km.iterations, model = km}
  f("  wb      seed %d: fit %7.3f s (cpu %7.3f s), %3d iterations, %6.2f ms/iteration, inertia %.8g", s, el, cpu, km.iterations, el / km.iterations * 1e3, km.inertia)
end
do
  local t = wb.now()
  local km = wb.fit("kmeans", r, {k = 16, max_iter = 100, n_init = 1, seed = 0, init = "k-means||"})
  local el = wb.now() - t
  f("  wb      k-means|| seed 0: fit %.3f s, %d iterations, %.2f ms/iteration, inertia %.8g", el, km.iterations, el / km.iterations * 1e3, km.inertia)
end
local lab = wk[1].model:predict(r)
local wdb, wdbv = {}, nil
for i = 1, 3 do
  local t = wb.now()
  wdbv = wb.metrics.davies_bouldin(r, lab)
  wdb[i] = wb.now() - t
end
f("  wb      Davies-Bouldin (seed 0 labels): %.4f, %.3f s (median of 3)", wdbv, median(wdb))
lab, r = nil, nil
for _, w in ipairs(wk) do w.model = nil end
collectgarbage()

local sk = {}
local out = run(string.format("/usr/bin/time -v %s %s kmeans --n %d --k 16 --threads 2", PY, sh_quote(PEERS .. "/sklearn_peer.py"), NK))
local sk_rss_peer = maxrss_mb(out)
local skdb = {}
for _, s in ipairs(steps(out)) do
  if s.step == "fit" then sk[#sk + 1] = {seed = 0, seconds = s.seconds, iters = s.iters, inertia = s.inertia} end
  if s.step == "davies_bouldin" then skdb[#skdb + 1] = s.seconds; sk[#sk].db = s.score end
end
local extra = {}
for i = 2, #SEEDS do extra[#extra + 1] = tostring(SEEDS[i]) end
out = run(string.format("%s %s --threads 2 kmeans %s %s", PY, sh_quote(PEERS .. "/cluster_pca_peer.py"), sh_quote(roll_km), table.concat(extra, " ")))
for _, s in ipairs(steps(out)) do
  if s.step == "fit" then sk[#sk + 1] = {seed = s.seed, seconds = s.seconds, cpu = s.cpu, iters = s.iters, inertia = s.inertia} end
  if s.step == "davies_bouldin" then skdb[#skdb + 1] = s.seconds; sk[#sk].db = s.score end
end
local cper_wb, cper_sk = {}, {}
for i, s in ipairs(sk) do
  s.per = s.seconds / s.iters
  f("  sklearn seed %d: fit %7.3f s%s, %3d iterations, %6.2f ms/iteration, inertia %.8g, Davies-Bouldin %.4f", s.seed, s.seconds,
    s.cpu and string.format(" (cpu %7.3f s)", s.cpu) or " (sklearn_peer.py)", s.iters, s.per * 1e3, s.inertia, s.db or 0 / 0)
  if s.cpu then cper_sk[#cper_sk + 1] = s.cpu / s.iters; cper_wb[#cper_wb + 1] = wk[i].cper end
end
local function col(t, k) local c = {} for i, v in ipairs(t) do c[i] = v[k] end return c end
local per_ratio = median(col(wk, "per")) / median(col(sk, "per"))
local per_ratio0 = wk[1].per / sk[1].per
local wbest, skbest = minimum(col(wk, "inertia")), minimum(col(sk, "inertia"))
local inertia_rel = (wbest - skbest) / skbest
local db_ratio = median(wdb) / median(skdb)
f("  time per Lloyd iteration, wb / scikit-learn: %.3f (medians over seeds %d..%d), %.3f (seed 0)   target <= 0.33", per_ratio, SEEDS[1], SEEDS[#SEEDS], per_ratio0)
f("  CPU seconds per iteration (all threads), wb / scikit-learn: %.3f (medians over seeds %d..%d; the machine is shared)", median(cper_wb) / median(cper_sk), SEEDS[2], SEEDS[#SEEDS])
f("  best inertia: wb %.8g, scikit-learn %.8g: wb is %+.3f %% of scikit-learn's   target within 1 %%", wbest, skbest, 100 * inertia_rel)
f("  Davies-Bouldin time, wb / scikit-learn: %.3f (%.3f s vs %.3f s, medians)   target <= 0.25", db_ratio, median(wdb), median(skdb))

---------------------------------------------------------------------- 2. PCA
print(string.format("\n== PCA: swiss roll %d x 3 -> 2 components", NP))
local rp = wb.load(roll_pca)
local wpt, pm = {}, nil
for i = 1, 5 do
  local t = wb.now()
  pm = wb.fit("pca", rp, {components = 2})
  wpt[i] = wb.now() - t
end
local wevr = pm.explained_variance_ratio
f("  wb      fit %.4f s (median of 5, solver %s), explained_variance_ratio %.17g %.17g", median(wpt), pm.solver_used, wevr[1], wevr[2])
rp, pm = nil, nil
collectgarbage()
out = run(string.format("/usr/bin/time -v %s %s pca --n %d --threads 2", PY, sh_quote(PEERS .. "/sklearn_peer.py"), NP))
local sk_rss_pca_peer = maxrss_mb(out)
local skp
for _, s in ipairs(steps(out)) do if s.step == "fit" then skp = s end end
f("  sklearn fit %.4f s, explained_variance_ratio %.17g %.17g", skp.seconds, skp.evr[1], skp.evr[2])
local evr_rel = 0
for j = 1, 2 do evr_rel = math.max(evr_rel, math.abs(wevr[j] - skp.evr[j]) / math.abs(skp.evr[j])) end
local pca_ratio = median(wpt) / skp.seconds
f("  explained_variance_ratio: largest relative difference %.3g   target <= 1e-9", evr_rel)
f("  fit time, wb / scikit-learn: %.4f   target <= 0.05", pca_ratio)

------------------------------------------------------------------- 3. memory
print("\n== peak memory (whole process, /usr/bin/time -v): load the .npy + fit")
local function wb_child(code)
  return maxrss_mb(run(string.format("/usr/bin/time -v %s -e %s", sh_quote(WB), sh_quote(code))))
end
local function py_child(mode, path)
  return maxrss_mb(run(string.format("/usr/bin/time -v %s %s --threads 2 %s %s", PY, sh_quote(PEERS .. "/cluster_pca_peer.py"), mode, sh_quote(path))))
end
local mem = {
  {"k-means", NK * 24 / 2 ^ 20,
   wb_child(string.format("local r = wb.load(%q); io.write(wb.fit('kmeans', r, {k = 16, max_iter = 100, n_init = 1, seed = 0}).inertia)", roll_km)),
   py_child("memory_kmeans", roll_km), sk_rss_peer},
  {"PCA", NP * 24 / 2 ^ 20,
   wb_child(string.format("local r = wb.load(%q); io.write(wb.fit('pca', r, {components = 2}).n_components)", roll_pca)),
   py_child("memory_pca", roll_pca), sk_rss_pca_peer},
}
-- the process without data (interpreter, plugins, threads), for reference
local wb_empty = wb_child("io.write(1)")
f("  %-8s %10s %10s %14s %14s %22s", "", "data MB", "wb MB", "wb - data MB", "sklearn MB", "sklearn_peer.py MB")
for _, m in ipairs(mem) do
  f("  %-8s %10.1f %10.1f %14.1f %14.1f %22.1f", m[1], m[2], m[3], m[3] - m[2], m[4], m[5])
end
f("  (wb with no data: %.1f MB; sklearn_peer.py also holds its generator's temporaries)", wb_empty)

--------------------------------------------------------------- 4. wide PCA
print(string.format("\n== PCA: low-rank matrix %d x %d -> 10 components (randomized)", WN, WD))
local w = wb.load(wide)
local wrt, wrc, rz = {}, {}, nil
for i = 1, 3 do
  local t, c = wb.now(), os.clock()
  rz = wb.fit("pca", w, {components = 10, solver = "randomized", seed = 0})
  wrt[i], wrc[i] = wb.now() - t, os.clock() - c
end
local t = wb.now()
local ex = wb.fit("pca", w, {components = 10, solver = "gram"})
local gram_t = wb.now() - t
w = nil
collectgarbage()
out = run(string.format("%s %s --threads 2 wide %s 10", PY, sh_quote(PEERS .. "/cluster_pca_peer.py"), sh_quote(wide)))
local skw
for _, s in ipairs(steps(out)) do if s.step == "fit" then skw = s end end
f("  wb randomized %.3f s (median of 3); wb gram (exact) %.3f s; sklearn randomized %.3f s", median(wrt), gram_t, skw.seconds)
f("  time, wb randomized / sklearn randomized: %.3f; CPU seconds (all threads) %.3f s vs %.3f s: %.3f", median(wrt) / skw.seconds,
  median(wrc), skw.cpu, median(wrc) / skw.cpu)
f("  %4s %22s %22s %22s %12s %12s", "", "exact variance", "wb randomized", "sklearn randomized", "wb rel err", "sk rel err")
local werr, serr = 0, 0
for j = 1, 10 do
  local e, a, b = ex.explained_variance[j], rz.explained_variance[j], skw.ev[j]
  werr, serr = math.max(werr, math.abs(a - e) / e), math.max(serr, math.abs(b - e) / e)
  f("  %4d %22.15g %22.15g %22.15g %12.3g %12.3g", j, e, a, b, math.abs(a - e) / e, math.abs(b - e) / e)
end
local wsum, ssum = 0, 0
for j = 1, 10 do wsum, ssum = wsum + rz.explained_variance_ratio[j], ssum + skw.evr[j] end
f("  explained variance ratio of the 10: wb %.12g, sklearn %.12g", wsum, ssum)

-------------------------------------------------------------------- summary
print("\n== summary (this run)")
local rows = {
  {"k-means time per iteration, wb / sklearn", per_ratio, "<= 0.33", per_ratio <= 0.33},
  {"k-means best inertia, (wb - sklearn) / sklearn", inertia_rel, "<= 0.01", inertia_rel <= 0.01},
  {"Davies-Bouldin time, wb / sklearn", db_ratio, "<= 0.25", db_ratio <= 0.25},
  {"PCA explained_variance_ratio, max relative difference", evr_rel, "<= 1e-9", evr_rel <= 1e-9},
  {"PCA fit time, wb / sklearn", pca_ratio, "<= 0.05", pca_ratio <= 0.05},
  {"wide randomized PCA time, wb / sklearn", median(wrt) / skw.seconds, "(report)", true},
  {"wide randomized PCA CPU seconds, wb / sklearn", median(wrc) / skw.cpu, "(report)", true},
  {"wide randomized PCA variance, max relative error: wb", werr, "(report)", true},
  {"wide randomized PCA variance, max relative error: sklearn", serr, "(report)", true},
}
for _, r2 in ipairs(rows) do
  f("  %-56s %12.4g   %-9s %s", r2[1], r2[2], r2[3], r2[4] and "ok" or "MISSED")
end
