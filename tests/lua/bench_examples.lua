-- The example scripts run end to end at small sizes and leave what they
-- promise: examples/classify.lua, gridsearch.lua, clustering.lua,
-- local_cluster.lua, bench.lua-style charts, and examples/studies.lua with its
-- whole report folder; bad options of studies.lua get clear messages.
local src = assert(os.getenv("WB_SOURCE_DIR"), "WB_SOURCE_DIR")
local build = assert(os.getenv("WB_BUILD_DIR"), "WB_BUILD_DIR")
local WB = build .. "/wb"
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. q(dir)))

-- run wb with arguments in the temp folder; returns ok, output (stdout+stderr)
local function run(args)
  local h = io.popen("cd " .. q(dir) .. " && " .. q(WB) .. " " .. args .. " 2>&1; echo \"rc=$?\"")
  local out = h:read("a")
  h:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc == 0, out, rc
end
local function read(p)
  local f = io.open(dir .. "/" .. p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
local function lines(s) local t = {} for l in (s or ""):gmatch("[^\n]+") do t[#t + 1] = l end return t end
local function svg_ok(p)
  local s = read(p)
  assert(s, p .. " was not written")
  assert(s:match("^<%?xml") and s:match("</svg>%s*$") and s:find("<svg ", 1, true), p .. " is not a complete SVG")
  -- tags balance (a cheap well-formedness check; tests/lua/plot_svg.lua does the full one)
  local opens, closes = 0, 0
  for tag in s:gmatch("<(/?)[%a]") do if tag == "/" then closes = closes + 1 else opens = opens + 1 end end
  local selfc = select(2, s:gsub("/>", ""))
  assert(opens - selfc == closes, p .. ": unbalanced tags")
end

-- classify.lua
local ok, out = run(q(src .. "/examples/classify.lua") .. " 20000")
assert(ok, out)
local csv = lines(read("classify.csv"))
assert(csv[1] == "estimator,fit_s,accuracy,f1,roc_auc", tostring(csv[1]))
local seen = 0
for i = 2, #csv do
  local name, acc = csv[i]:match("^(%w+),[^,]+,([^,]+),")
  assert(tonumber(acc) > 0.8, csv[i])
  seen = seen + 1
end
for _, n in ipairs{"logreg", "sgd", "gbdt"} do assert(wb.core.estimator_info(n), "the estimator " .. n .. " is not registered") end
assert(seen == 3, "one row per classifier (logreg, sgd, gbdt): " .. seen)

-- gridsearch.lua
ok, out = run(q(src .. "/examples/gridsearch.lua") .. " 20000")
assert(ok, out)
assert(#lines(read("grid.csv")) == 9, "8 combinations and a header")
assert(out:find("held%-out accuracy of the best model: 0%.8"), out)

-- clustering.lua
ok, out = run(q(src .. "/examples/clustering.lua") .. " 30000")
assert(ok, out)
assert(out:find("Davies%-Bouldin %d"), out)
svg_ok("roll_clusters.svg")
svg_ok("pca.svg")

-- local_cluster.lua: the same model on threads and workers
do
  ok, out = run(q(src .. "/examples/local_cluster.lua") .. " 20000")
  assert(ok, out)
  assert(out:find("same model on both executors", 1, true), out)
end

-- studies.lua at a tiny scale: the whole report folder
ok, out = run(q(src .. "/examples/studies.lua") .. " --scale 0.002 --repeats 1 --out rep")
assert(ok, out)
for _, f in ipairs{"report.md", "report.csv", "report.json", "bench.csv", "bench.json", "bench.md"} do
  assert(read("rep/" .. f), "studies.lua did not write " .. f)
end
for _, f in ipairs{"speedup.svg", "pca.svg", "kmeans_roll.svg", "time_generate.svg", "time_load.svg",
                   "time_logreg.svg", "time_kmeans.svg", "time_pca.svg"} do
  svg_ok("rep/" .. f)
end
-- the tables are printed whole (no "... (N rows)"), with the load average beside them
assert(not out:find("%.%.%. %(%d+ rows%)"), "a table was cut short in the output")
assert(out:find("total: [%d.]+ s wall, [%d.]+ s CPU of this process; load average before: [%d.]+ [%d.]+ [%d.]+, after: [%d.]+ [%d.]+ [%d.]+"), "total time and load average")
-- a count is printed as a count in the experiments table (not 10000.000000)
assert(out:find("\nclassification  generate LIBSVM%+%.meta +10000 +local:%d+ +[%d.]+ +[%d.]+ +file_mb +[%d.]+\n"), out)
assert(out:find("load LIBSVM +10000 +local:%d+ +[%d.]+ +[%d.]+ +rows +10000\n"), out)
local rep = read("rep/report.csv")
assert(rep:match("^workload,step,n,executor,seconds,cpu_s,metric,value,note\n"), rep:sub(1, 80))
assert(rep:find("\nclassification,generate LIBSVM%+%.meta,10000,"), "generation to LIBSVM recorded")
assert(rep:find("\nclassification,load LIBSVM,10000,"), "loading recorded")
assert(rep:find("\nlogreg,fit,8000,local:%d+,[%d.e-]+,[%d.e-]+,accuracy,0%.8"), "logreg fit with its accuracy")
assert(rep:find("\nkmeans,Davies%-Bouldin,30000,"), "k-means quality")
assert(rep:find("\npca,fit 2 components,30000,local:%d+,[%d.e-]+,[%d.e-]+,explained_variance,0%.7"), "PCA explained variance")
local md = read("rep/report.md")
assert(md:find("## Experiments", 1, true) and md:find("## Scaling", 1, true) and md:find("![", 1, true))
assert(md:find("| logistic regression fit | 5 M | 14 s | 1260 s | [%d.e-]+ s %(other size%) |"), "published reference times")
-- and printed, wb's times beside them
assert(out:find("logistic regression fit  5 M x 10 +14 +1260  [%d.e-]+ s %(other size%)\n"), "published times printed")
assert(out:find("k%-means k=16 +15 M swiss roll +53 +720  [%d.e-]+ s %(other size%)\n"), "published times printed")
-- the data files are removed unless --keep-data
assert(not read("rep/data/classification.libsvm"), "data left behind")
-- the scaling table has a row per workload x size x thread count
local bcsv = lines(read("rep/bench.csv"))
assert(bcsv[1]:match("^workload,n,executor,median_s"), bcsv[1])
assert(#bcsv > 10, "bench rows: " .. #bcsv)

-- bad options
ok, out = run(q(src .. "/examples/studies.lua") .. " --scale -1")
assert(not ok and out:find("wb: studies.lua: --scale must be a number > 0, got -1", 1, true), out)
ok, out = run(q(src .. "/examples/studies.lua") .. " --frobnicate")
assert(not ok and out:find("studies.lua: unknown option '--frobnicate' (--help lists them)", 1, true), out)
ok, out = run(q(src .. "/examples/studies.lua") .. " --executor gpu:3")
assert(not ok and out:find("studies.lua: --executor must be local, local:N or cluster:N, got gpu:3", 1, true), out)

os.execute("rm -rf " .. q(dir))
print("bench_examples: ok")
