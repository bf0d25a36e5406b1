-- gbdt: every bad input gets a named error
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error
local d = wb.datagen.classification{n = 3000, features = 4, informative = 2, redundant = 2, seed = 1}
local function fit(p) return wb.fit("gbdt", d, p) end
expect_error("gbdt: parameter 'n_trees' must be an integer in [1, 1000000], got 0", fit, {n_trees = 0})
expect_error("gbdt: parameter 'n_trees' must be an integer in [1, 1000000], got -5", fit, {n_trees = -5})
expect_error("gbdt: parameter 'learning_rate' must be a number > 0, got 0", fit, {learning_rate = 0})
expect_error("gbdt: parameter 'learning_rate' must be a number > 0, got -0.1", fit, {learning_rate = -0.1})
expect_error("gbdt: parameter 'max_bins' must be an integer in [2, 255], got 256", fit, {max_bins = 256})
expect_error("gbdt: parameter 'max_bins' must be an integer in [2, 255], got 1", fit, {max_bins = 1})
expect_error("gbdt: parameter 'subsample' must be a number in (0, 1], got 0", fit, {subsample = 0})
expect_error("gbdt: parameter 'subsample' must be a number in (0, 1], got 1.5", fit, {subsample = 1.5})
expect_error("gbdt: parameter 'colsample' must be a number in (0, 1], got 0", fit, {colsample = 0})
expect_error("gbdt: parameter 'max_leaves' must be an integer in [2, 65536], got 1", fit, {max_leaves = 1})
expect_error("gbdt: parameter 'max_depth' must be an integer in [0, 64], got -1", fit, {max_depth = -1})
expect_error("gbdt: parameter 'min_samples_leaf' must be an integer >= 1, got 0", fit, {min_samples_leaf = 0})
expect_error("gbdt: parameter 'lambda_l2' must be a number >= 0, got -1", fit, {lambda_l2 = -1})
expect_error("gbdt: parameter 'validation_fraction' must be a number in (0, 1), got 1", fit, {validation_fraction = 1})
expect_error("gbdt: parameter 'objective' must be one of \"auto\", \"binary\", \"multiclass\", \"regression\", got \"poisson\"",
             fit, {objective = "poisson"})
expect_error("gbdt: unknown parameter 'trees'", fit, {trees = 10})
-- labels
local rows, y = {}, {}
for i = 1, 100 do rows[i] = {i, -i}; y[i] = i % 3 end
expect_error("gbdt: objective 'binary' needs 2 classes, the labels have 3 (use 'multiclass')", wb.fit, "gbdt",
             wb.dataset(rows, y), {objective = "binary"})
y[40] = 0.5
expect_error("gbdt: label 0.5 at row 40 is not an integer class", wb.fit, "gbdt", wb.dataset(rows, y), {})
y[40] = 0 / 0
expect_error("gbdt: the labels have NaN at row 40", wb.fit, "gbdt", wb.dataset(rows, y), {objective = "regression"})
y[40] = math.huge
expect_error("gbdt: the labels have Inf at row 40", wb.fit, "gbdt", wb.dataset(rows, y), {objective = "regression"})
expect_error("gbdt: the data has no labels", wb.fit, "gbdt", wb.dataset(rows), {})
y[40] = 1
local e = wb.dataset(rows, y):slice(1, 0)
check(e:rows() == 0, "an empty dataset")
expect_error("gbdt: the data has no rows", wb.fit, "gbdt", e, {})
-- early stopping with too few rows for a validation set
local tiny = wb.dataset({{1}, {2}, {3}}, {0, 1, 0})
expect_error("gbdt: early_stopping_rounds needs validation rows; validation_fraction 0.1 of 3 rows left none",
             wb.fit, "gbdt", tiny, {early_stopping_rounds = 2})
-- prediction
local m = fit({n_trees = 3})
expect_error("gbdt: the model was fitted on 4 features, the data has 2", m.predict, m, wb.dataset(rows, y))
local mr = wb.fit("gbdt", wb.dataset(rows, y), {objective = "regression", n_trees = 2})
expect_error("gbdt: predict_proba needs a classification model (this one is a regression)", mr.predict_proba, mr,
             wb.dataset(rows, y))
expect_error("gbdt: score needs data with labels", m.score, m, wb.dataset({{1, 2, 3, 4}}))
-- a damaged model is refused, not walked
local bad = wb.core.model_decode(m:encode())
local t = bad.trees
t[1][4] = 1 -- the root's left child pointing at itself
bad:set("trees", t)
expect_error("gbdt: the model's trees are malformed at row 1", bad.predict, bad, d)
bad:set("tree_start", {1, 5, 2, 9})
expect_error("gbdt: the model's tree_start is malformed", bad.predict, bad, d)
local nofield = wb.core.model_new("gbdt", {}, {})
expect_error("gbdt: the model has no 'trees' (not a gbdt model?)", nofield.predict, nofield, d)
-- the importance helper checks its arguments
expect_error("bad argument #1 to 'importance' (gbdt model expected)", wb.gbdt.importance, {})
expect_error("bad argument #2 to 'importance' (type must be 'gain' or 'split', got cover)", wb.gbdt.importance, m,
             {type = "cover"})
-- constant features: stumps, not a crash
local cr, cy = {}, {}
for i = 1, 200 do cr[i] = {1, 2}; cy[i] = i % 2 end
local mc = wb.fit("gbdt", wb.dataset(cr, cy), {n_trees = 4})
check(mc.rounds == 4 and #mc.trees == 4, "constant features give one-leaf trees")
check(mc:score(wb.dataset(cr, cy)) == 0.5, "and predict the majority")
print("gbdt_errors: ok")
