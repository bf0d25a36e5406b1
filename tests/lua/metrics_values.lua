-- wb.metrics against hand-computed values, partition independence, and bad input
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error
local near = TL.closer(1e-12)
local M = wb.metrics

-- three classes: confusion rows 0: [2 1 0], 1: [1 3 0], 2: [0 1 2]
local t = {0, 0, 1, 1, 1, 2, 2, 0, 1, 2}
local p = {0, 1, 1, 1, 0, 2, 1, 0, 1, 2}
near(M.accuracy(t, p), 0.7, "accuracy")
local cm = M.confusion(t, p)
local want = {{2, 1, 0}, {1, 3, 0}, {0, 1, 2}}
for i = 1, 3 do for j = 1, 3 do check(cm.matrix[i][j] == want[i][j], "confusion " .. i .. "," .. j) end end
check(cm.classes[1] == 0 and cm.classes[3] == 2 and #cm == 3, "confusion classes and rows")
check(tostring(cm):find("truth", 1, true), "the confusion table prints")
near(M.precision(t, p, {average = "macro"}), (2 / 3 + 3 / 5 + 1) / 3, "macro precision")
near(M.recall(t, p, {average = "macro"}), (2 / 3 + 3 / 4 + 2 / 3) / 3, "macro recall")
near(M.f1(t, p, {average = "macro"}), (2 / 3 + 2 / 3 + 0.8) / 3, "macro f1")
near(M.f1(t, p, {average = "weighted"}), (3 * 2 / 3 + 4 * 2 / 3 + 3 * 0.8) / 10, "weighted f1")
near(M.f1(t, p, {average = "micro"}), 0.7, "micro f1 is the accuracy")
near(M.precision(t, p, {average = "weighted"}), (3 * 2 / 3 + 4 * 3 / 5 + 3 * 1) / 10, "weighted precision")
near(M.balanced_accuracy(t, p), (2 / 3 + 3 / 4 + 2 / 3) / 3, "balanced accuracy")
local rep = M.report(t, p)
near(rep[2].recall, 0.75, "report: recall of class 1")
check(rep[3].support == 3 and rep[4].class == "macro", "report rows")
expect_error([[f1: the targets have 3 classes (0, 1, 2): choose average = "macro", "weighted" or "micro"]], M.f1, t, p)
expect_error([[precision: average must be "binary", "macro", "weighted" or "micro", got mean]], M.precision, t, p, {average = "mean"})

-- two classes: tp 3, fn 1, fp 2, tn 2
local tb = {1, 0, 1, 1, 0, 0, 1, 0}
local pb = {1, 0, 0, 1, 1, 1, 1, 0}
near(M.accuracy(tb, pb), 5 / 8, "binary accuracy")
near(M.precision(tb, pb), 3 / 5, "binary precision")
near(M.recall(tb, pb), 3 / 4, "binary recall")
near(M.f1(tb, pb), 2 / 3, "binary f1")
near(M.precision(tb, pb, {pos_label = 0}), 2 / 3, "precision of class 0")
near(M.recall(tb, pb, {pos_label = 0}), 1 / 2, "recall of class 0")
expect_error("f1: pos_label 5 is not one of the classes (0, 1)", M.f1, tb, pb, {pos_label = 5})

-- ROC AUC: scikit-learn's example, ties count half, one-vs-rest macro
near(M.roc_auc({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}), 0.75, "roc_auc")
near(M.roc_auc({0, 1, 0, 1}, {0.5, 0.5, 0.2, 0.9}), 0.875, "roc_auc with a tie")
near(M.roc_auc({0, 0, 1, 1}, wb.dataset({{0.9, 0.1}, {0.6, 0.4}, {0.65, 0.35}, {0.2, 0.8}})), 0.75, "the second of two columns is the score")
local pr3 = wb.dataset({{0.7, 0.2, 0.1}, {0.2, 0.5, 0.3}, {0.1, 0.3, 0.6}, {0.3, 0.4, 0.3}, {0.4, 0.4, 0.2}, {0.2, 0.2, 0.6}})
near(M.roc_auc({0, 1, 2, 0, 1, 2}, pr3), (0.875 + 0.9375 + 1) / 3, "one-vs-rest macro AUC")
expect_error("roc_auc: only one class (1) is present in the truth: ROC AUC is not defined", M.roc_auc, {1, 1, 1}, {0.2, 0.4, 0.5})

-- log loss: mean -log p(true class), probabilities clipped and rows renormalised
near(M.log_loss({0, 1, 1}, wb.dataset({{0.9, 0.1}, {0.2, 0.8}, {0.4, 0.6}})), -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3, "log_loss")
near(M.log_loss({0, 1, 1}, {0.1, 0.8, 0.6}), -(math.log(0.9) + math.log(0.8) + math.log(0.6)) / 3, "log_loss from one column")
near(M.log_loss({0, 1}, {0, 1}), -math.log(1 - 2.220446049250313e-16), "clipped at machine epsilon")
near(M.log_loss({0, 1}, wb.dataset({{0.2, 0.2}, {0.1, 0.3}})), -(math.log(0.5) + math.log(0.75)) / 2, "rows renormalised")
expect_error("bad argument #2 to 'log_loss' (3 columns of probabilities for 2 classes)", M.log_loss, {0, 1}, wb.dataset({{0.2, 0.3, 0.5}, {0.1, 0.1, 0.8}}))
near(M.log_loss({1, 1}, {0.3, 0.9}, {labels = {0, 1}}), -(math.log(0.3) + math.log(0.9)) / 2, "labels given")

-- large data: a labelled dataset as truth, predictions from a model; the
-- same values whatever the partitions (log loss adds per-block sums in a fixed tree)
local d = wb.datagen.classification{n = 50000, features = 6, informative = 3, redundant = 1, seed = 4}
local m = wb.fit("logreg", d, {})
local pred, proba = m:predict(d), m:predict_proba(d)
local y, yp, pp = wb.core.labels(d), wb.core.labels(pred), proba:rows_table(1, d:rows())
local ok, ll = 0, 0
for i = 1, #y do
  if y[i] == yp[i] then ok = ok + 1 end
  ll = ll - math.log(pp[i][y[i] + 1])
end
near(M.accuracy(d, pred), ok / #y, "accuracy on partitions")
local l1 = M.log_loss(d, proba)
check(math.abs(l1 - ll / #y) < 1e-12, "log_loss on partitions")
local d2 = wb.repartition(d, 4096)
check(d2:partitions() > d:partitions(), "more partitions")
check(M.log_loss(d2, proba) == l1, "log_loss does not depend on partitions")
check(M.roc_auc(d2, proba) == M.roc_auc(d, proba), "roc_auc does not depend on partitions")
check(M.accuracy(d2, pred) == M.accuracy(d, pred), "truth and predictions may be partitioned differently")
check(M.accuracy(d:labels(), pred) == M.accuracy(d, pred), "a vector of labels as truth")

-- bad input
expect_error("bad argument #2 to 'accuracy' (2 predictions for 3 rows of truth)", M.accuracy, {0, 1, 1}, {0, 1})
expect_error("bad argument #1 to 'accuracy' (a labelled dataset, a vector or a table of numbers expected, got nil)", M.accuracy, nil, {1})
expect_error("bad argument #1 to 'f1' (a dataset without labels: the truth must be a labelled dataset or a vector)", M.f1, wb.dataset({{1, 2}, {3, 4}}), {0, 1})
expect_error("bad argument #2 to 'accuracy' (predicted labels expected: one column, got 2)", M.accuracy, d, proba)
local many = {}
for i = 1, 12000 do many[i] = i / 7 end
expect_error("more than 10000 distinct (truth, prediction) pairs: class labels expected", M.accuracy, many, many)
expect_error("accuracy: the truth has NaN at row 2", M.accuracy, {0, 0 / 0, 1}, {0, 1, 1})
expect_error("log_loss: the probabilities have NaN at row 2", M.log_loss, {0, 1}, {0.5, 0 / 0})
print("metrics_values: ok")
