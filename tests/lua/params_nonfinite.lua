-- parameters that are numbers but not meaningful: +-Inf is refused wherever a
-- schema does not opt in (wb_param_spec's WB_P_NONFINITE), naming the
-- parameter, the value and what is allowed (core/src/params.c)
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local expect_error = TL.expect_error

local d = wb.datagen.classification{n = 100, features = 4, seed = 1}
-- logreg with C = inf returned an all-zero model reported as converged
expect_error("logreg: parameter 'C' must be a finite number > 0, got inf", wb.fit, "logreg", d, {C = math.huge})
expect_error("gbdt: parameter 'learning_rate' must be a finite number > 0, got inf", wb.fit, "gbdt", d,
             {learning_rate = math.huge})
expect_error("sgd: parameter 'alpha' must be a finite number >= 0, got inf", wb.fit, "sgd", d, {alpha = math.huge})
expect_error("kmeans: parameter 'tol' must be a finite number >= 0, got inf", wb.fit, "kmeans", d, {tol = math.huge})
expect_error("logreg: parameter 'class_weight' has Inf at row 1, column 2", wb.fit, "logreg", d,
             {class_weight = {1, math.huge}})
expect_error("datagen.classification: parameter 'shift' must be a finite number, got -inf", wb.datagen.classification,
             {n = 10, shift = -math.huge})
expect_error("datagen.blobs: parameter 'cluster_std' must be a finite number >= 0, got inf", wb.datagen.blobs,
             {n = 10, cluster_std = math.huge})
expect_error("datagen.blobs: parameter 'centers' has Inf at row 2, column 1", wb.datagen.blobs,
             {n = 10, features = 2, centers = {{1, 2}, {math.huge, 3}}})
-- the checks without data say the same
expect_error("gbdt: parameter 'lambda_l2' must be a finite number >= 0, got inf", wb.core.check_params, "gbdt",
             {lambda_l2 = math.huge})
-- the values below the bound keep their message
expect_error("logreg: parameter 'C' must be a number > 0, got -inf", wb.fit, "logreg", d, {C = -math.huge})
print("params_nonfinite: ok")
