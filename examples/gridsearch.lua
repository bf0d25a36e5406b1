-- gridsearch.lua: cross-validated grid search of logistic regression, as in
-- the studies (C x penalty, 3 folds), then the best model on held-out rows.
-- Run with: ./build/wb examples/gridsearch.lua [rows]    (default 500000)
local n = math.tointeger(tonumber(arg and arg[1] or "500000")) or error("rows must be a whole number", 0)
local d = wb.datagen.classification{n = n, features = 10, informative = 5, redundant = 5, seed = 1}
local train, test = wb.split(d, {test = 0.2, seed = 42, stratify = true})
local t0 = wb.now()
local g = wb.gridsearch("logreg", train, {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}},
                        {folds = 3, metric = "accuracy"})
print(string.format("8 combinations x 3 folds on %d rows in %.2f s", train:rows(), wb.now() - t0))
print(g.results)
print("best:", wb.show(g.best_params), g.best_score)
local best = wb.fit("logreg", train, g.best_params)
print(string.format("held-out accuracy of the best model: %.5f", best:score(test)))
g:export("grid.csv")
print("wrote grid.csv")
