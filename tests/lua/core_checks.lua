-- shared data checks: NaN/Inf named by row and column; classes from labels
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error
local rows = {}
for i = 1, 10000 do rows[i] = {i, -i} end
local labels = {}
for i = 1, 10000 do labels[i] = i % 3 end
local d = wb.dataset(rows, labels)
check(wb.core.check_finite(d, "logreg"))
local c = wb.core.classes(d, "logreg")
check(#c == 3 and c[1] == 0 and c[2] == 1 and c[3] == 2, "classes 0, 1, 2")
rows[9000][2] = 0 / 0
expect_error("logreg: the data has NaN at row 9000, column 2", wb.core.check_finite, wb.dataset(rows, labels), "logreg")
rows[9000][2] = -9000
rows[5000][1] = math.huge
expect_error("kmeans: the data has Inf at row 5000, column 1", wb.core.check_finite, wb.dataset(rows, labels), "kmeans")
rows[5000][1] = 5000
labels[7777] = -math.huge
expect_error("sgd: the labels have -Inf at row 7777", wb.core.check_finite, wb.dataset(rows, labels), "sgd")
labels[7777] = 0.5
expect_error("logreg: label 0.5 at row 7777 is not an integer class", wb.core.classes, wb.dataset(rows, labels), "logreg")
labels[7777] = 1
expect_error("gbdt: more than 2 distinct labels (classes expected)", wb.core.classes, wb.dataset(rows, labels), "gbdt", 2)
expect_error("logreg: the data has no labels", wb.core.classes, wb.dataset(rows), "logreg")
print("core_checks: ok")
-- labels from a Lua table line up with a multi-partition dataset
do
  local g = wb.datagen.classification{n = 100000, features = 40, informative = 2, redundant = 0, seed = 1}
  check(g:partitions() > 1, "several partitions")
  local t = {}
  for i = 1, 100000 do t[i] = (i * 7) % 3 end
  local e = g:with_labels(t)
  for _, i in ipairs{1, 4096, 65536, 99999} do
    local _, y = e:row(i)
    check(y == (i * 7) % 3, "label of row " .. i)
  end
  local ok, err = pcall(g.with_labels, g, {1, 2, 3})
  check(not ok and tostring(err):find("3 labels for 100000 rows", 1, true), tostring(err))
end
print("core_checks (labels): ok")
