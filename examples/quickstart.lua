-- quickstart: a tour of wb in a few seconds: generate data, look at it,
-- classify (logistic regression, SGD, gradient-boosted trees), grid search
-- with cross-validation, k-means on a swiss roll with its Davies-Bouldin
-- score, PCA, and the results written out (CSV, JSON, SVG charts).
--
--   ./build/wb -e examples/quickstart.lua [OUTDIR]     (default: quickstart-out)
--
-- Everything runs on the local executor, one thread per core; the same lines
-- run on a cluster after wb.connect(address) or wb.cluster{workers = 2}.
local out = arg and arg[1] or "quickstart-out"
os.execute("mkdir -p '" .. out:gsub("'", "'\\''") .. "'")
local function step(what, t0) print(string.format("  %-52s %7.3f s", what, wb.now() - t0)) end

print(string.format("wb %s, %s executor, %d thread%s", wb.version(), wb.executor().kind, wb.threads(),
                    wb.threads() == 1 and "" or "s"))

-- data ----------------------------------------------------------------------
local t0 = wb.now()
local d = wb.datagen.classification{n = 200000, features = 10, informative = 5, redundant = 5,
                                    classes = 2, seed = 1}
step("generate " .. tostring(d), t0)
d:head(3)
print(d:describe())
local train, test = wb.split(d, {test = 0.2, seed = 42, stratify = true})

-- classification --------------------------------------------------------------
print("classification (held-out accuracy of 20 %):")
local acc = {}
for _, e in ipairs{{"logreg", {C = 1.0}}, {"sgd", {loss = "log_loss", epochs = 5, seed = 1}},
                   {"gbdt", {n_trees = 50, max_depth = 6, seed = 1}}} do
  t0 = wb.now()
  local m = wb.fit(e[1], train, e[2])
  local a = m:score(test)
  acc[#acc + 1] = {estimator = e[1], accuracy = a, fit_s = wb.now() - t0}
  step(string.format("%-7s accuracy %.4f", e[1], a), t0)
end
wb.export(acc, out .. "/classification.csv")

t0 = wb.now()
local g = wb.gridsearch("logreg", train, {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}},
                        {folds = 3, metric = "accuracy"})
step(string.format("grid search 8 x 3 folds: best C = %g, penalty = %s (%.4f)", g.best_params.C,
                   g.best_params.penalty, g.best_score), t0)
g:export(out .. "/grid.json")

-- clustering and PCA ----------------------------------------------------------
print("clustering and PCA (swiss roll, noise 0.2):")
local r = wb.datagen.swiss_roll{n = 300000, noise = 0.2, seed = 1}
t0 = wb.now()
local km = wb.fit("kmeans", r, {k = 16, init = "k-means++", max_iter = 100, seed = 0})
local labels = km:predict(r)
step(string.format("k-means k = 16: %d iterations, inertia %.5g", km.iterations, km.inertia), t0)
t0 = wb.now()
step(string.format("Davies-Bouldin %.4f", wb.metrics.davies_bouldin(r, labels)), t0)
t0 = wb.now()
local p = wb.fit("pca", r, {components = 2})
local evr = p.explained_variance_ratio
step(string.format("PCA to 2 components: explained variance %.3f + %.3f", evr[1], evr[2]), t0)

-- a picture: the first 5 000 points in the PCA plane, coloured by cluster
local sample = r:slice(1, 5000)
wb.plot.scatter(p:transform(sample), {color = km:predict(sample), file = out .. "/pca_clusters.svg",
                                      title = "swiss roll: PCA plane, k-means clusters",
                                      xlabel = "PC1", ylabel = "PC2"})
print("results in " .. out .. "/: classification.csv, grid.json, pca_clusters.svg")
