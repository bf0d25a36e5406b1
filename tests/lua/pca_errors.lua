-- pca: every bad input gets a named error before work
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error

local rows = {}
for i = 1, 10 do rows[i] = {i, i * i % 7, (i * 3) % 5} end
local d = wb.dataset(rows)

expect_error("pca: parameter 'components' (4) must be <= min(rows, columns) = 3", wb.fit, "pca", d, {components = 4})
expect_error("pca: parameter 'components' (3) must be <= min(rows, columns) = 2", wb.fit, "pca", d:slice(1, 2), {components = 3})
expect_error("pca: parameter 'components' must be a number > 0, got 0", wb.fit, "pca", d, {components = 0})
expect_error("pca: parameter 'components' must be an integer >= 1 or a fraction in (0, 1), got 1.5", wb.fit, "pca", d, {components = 1.5})
expect_error([[pca: parameter 'solver' must be one of "auto", "gram", "randomized", got "svd"]], wb.fit, "pca", d, {solver = "svd"})
expect_error([[pca: a variance fraction (components = 0.9) needs solver "gram" or "auto", not "randomized"]],
             wb.fit, "pca", d, {components = 0.9, solver = "randomized"})
expect_error("pca: parameter 'whiten' must be a boolean, got 1", wb.fit, "pca", d, {whiten = 1})
expect_error("pca: parameter 'iterations' must be an integer in [0, 100], got 101", wb.fit, "pca", d, {iterations = 101})
expect_error("pca: unknown parameter 'n_components'", wb.fit, "pca", d, {n_components = 2})
expect_error("pca: the data has 1 rows; at least 2 are needed", wb.fit, "pca", d:slice(1, 1), {})
-- the same checks without data
expect_error([[pca: parameter 'solver' must be one of "auto", "gram", "randomized", got "eigh"]], wb.core.check_params, "pca", {solver = "eigh"})

rows[3][3] = 0 / 0
expect_error("pca: the data has NaN at row 3, column 3", wb.fit, "pca", wb.dataset(rows), {components = 2})
rows[3][3] = 1
rows[9][1] = math.huge
expect_error("pca: the data has Inf at row 9, column 1", wb.fit, "pca", wb.dataset(rows), {components = 2})
rows[9][1] = 9
-- (the check rides the fit's pass: the labels too, the first row (the shift),
-- the first of several in row order, labels before x as the check reads them)
local labels = {}
for i = 1, 10 do labels[i] = i % 3 end
labels[4] = 0 / 0
expect_error("pca: the labels have NaN at row 4", wb.fit, "pca", wb.dataset(rows, labels), {components = 2})
labels[4] = 1
rows[1][2] = -math.huge
expect_error("pca: the data has -Inf at row 1, column 2", wb.fit, "pca", wb.dataset(rows, labels), {components = 2})
rows[1][2], rows[7][3], labels[2] = 1, 0 / 0, 0 / 0
expect_error("pca: the labels have NaN at row 2", wb.fit, "pca", wb.dataset(rows, labels), {components = 2})
rows[7][3], labels[2] = 1, 1
local big = {}
for i = 1, 20000 do big[i] = {i % 13, i % 7, i % 5} end
big[15000][2] = 0 / 0
big[17000][1] = math.huge
expect_error("pca: the data has NaN at row 15000, column 2", wb.fit, "pca", wb.dataset(big), {components = 2})

local p = wb.fit("pca", d, {components = 2})
local two = wb.dataset({{1, 2}, {3, 4}})
expect_error("pca: the data has 2 columns, the model was fitted on 3", p.transform, p, two)
expect_error("pca: the data has 2 columns, the model was fitted on 3", p.score, p, two)
expect_error("pca: inverse_transform takes 2 columns (the components), got 3", p.inverse_transform, p, d)
expect_error("pca: the data has NaN at row 2, column 1", p.transform, p, wb.dataset({{1, 2, 3}, {0 / 0, 1, 1}}))
-- all components of rank-deficient data: no likelihood
local flat = wb.dataset({{1, 2, 0}, {2, 4, 0}, {3, 6, 0}, {4, 8, 0}})
local q = wb.fit("pca", flat, {components = 3})
expect_error("pca: the model's covariance is singular, so score is undefined", q.score, q, flat)
print("pca_errors: ok")
