-- model files are untrusted input: a model whose arrays do not fit its own
-- shapes (crafted, damaged, or changed with m:set) is refused with a message
-- naming the field before predict, predict_proba, transform or score reads
-- it. Each case is saved to a file and loaded back (wb.load_model), as a
-- model shared by someone else would arrive.
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check, expect_error = TL.check, TL.expect_error

local dir = os.getenv("TMPDIR") or "/tmp"
local path = string.format("%s/wb_model_untrusted_%d.wbm", dir, math.random(1 << 30))
TL.on_failure(function() os.remove(path) end)

-- m with the given fields replaced, through a file
local function crafted(m, fields)
  local c = wb.core.model_decode(m:encode())
  for k, v in pairs(fields) do c:set(k, v) end
  c:save(path)
  return wb.load_model(path)
end

local d5 = wb.datagen.classification{n = 200, features = 4, classes = 5, informative = 3, redundant = 0,
                                       clusters_per_class = 1, seed = 1}

-- logreg: 5 classes, its classes array cut to 2 entries. predict_proba
-- wrote 5 probabilities into rows of 2 (a heap overflow), predict read
-- classes[4]
local lr = wb.fit("logreg", d5, {max_iter = 200})
check(#lr.classes == 5 and #lr.coef == 5, "a 5-class logreg model")
local bad = crafted(lr, {classes = {0, 1}})
local msg = "logreg: malformed model: 'coef' has 5 rows, but 2 classes need 1"
expect_error(msg, bad.predict, bad, d5)
expect_error(msg, bad.predict_proba, bad, d5)
expect_error(msg, bad.score, bad, d5)
-- the other direction: more classes than coefficient rows
bad = crafted(lr, {classes = {0, 1, 2, 3, 4, 5, 6}})
expect_error("logreg: malformed model: 'coef' has 5 rows, but 7 classes need 7", bad.predict_proba, bad, d5)
bad = crafted(lr, {intercept = {1, 2}})
expect_error("logreg: malformed model: 'intercept' holds 2 values, 'coef' has 5 rows", bad.predict, bad, d5)
bad = crafted(lr, {classes = {0, 2, 1, 3, 4}})
expect_error("logreg: malformed model: 'classes' must be finite and increasing (value 3 is 1)", bad.predict, bad, d5)
bad = crafted(lr, {classes = {1}})
expect_error("logreg: malformed model: 'classes' holds 1 values (2 or more expected)", bad.predict, bad, d5)
local coef = lr.coef
coef[2][3] = 0 / 0
bad = crafted(lr, {coef = coef})
expect_error("logreg: malformed model: 'coef' or 'intercept' holds NaN or Inf", bad.predict, bad, d5)
-- the untouched model still loads and predicts the same
lr:save(path)
local back = wb.load_model(path)
check(table.concat(wb.core.labels(back:predict(d5)), ",") == table.concat(wb.core.labels(lr:predict(d5)), ","),
      "a good model loads and predicts as before")

-- sgd shares the checks
local sg = wb.fit("sgd", d5, {loss = "log_loss", epochs = 5, tol = false})
bad = crafted(sg, {classes = {0, 1, 2}})
expect_error("sgd: malformed model: 'coef' has 5 rows, but 3 classes need 3", bad.predict_proba, bad, d5)

-- pca: a short mean or explained_variance was read past its end
local rows = {}
for i = 1, 40 do rows[i] = {i % 7, (i * i) % 11, (i * 3) % 5, i % 2} end
local x = wb.dataset(rows)
local p = wb.fit("pca", x, {components = 3, whiten = true})
bad = crafted(p, {mean = {1}})
msg = "pca: malformed model: 'mean' holds 1 values, 'components' has 4 columns"
expect_error(msg, bad.transform, bad, x)
expect_error(msg, bad.score, bad, x)
expect_error(msg, bad.inverse_transform, bad, p:transform(x))
bad = crafted(p, {explained_variance = {1}})
msg = "pca: malformed model: 'explained_variance' holds 1 values, 'components' has 3 rows"
expect_error(msg, bad.transform, bad, x)
expect_error(msg, bad.score, bad, x)
expect_error(msg, bad.inverse_transform, bad, p:transform(x))
bad = crafted(p, {explained_variance = {1, -2, 3}})
expect_error("pca: malformed model: 'explained_variance' 2 is negative (-2)", bad.transform, bad, x)
bad = crafted(p, {noise_variance = -1})
expect_error("pca: malformed model: 'noise_variance' must be a finite number >= 0, got -1", bad.score, bad, x)
bad = crafted(p, {components = {{1, 2, 3, 4}}})
expect_error("pca: malformed model: 'explained_variance' holds 3 values, 'components' has 1 rows", bad.transform, bad, x)

-- gbdt: a damaged tree_start reached a signed overflow after the check had
-- failed (-2^63 - 1)
local yb = {}
for i = 1, 40 do yb[i] = (rows[i][1] + rows[i][2]) % 2 end
local xb = wb.dataset(rows, yb)
local g = wb.fit("gbdt", xb, {n_trees = 3, min_samples_leaf = 2})
local ts = g.tree_start
ts[1] = -(2.0 ^ 63)
bad = crafted(g, {tree_start = ts})
expect_error("gbdt: the model's tree_start is malformed", bad.predict, bad, xb)
bad = crafted(g, {n_features = 1e300})
expect_error("gbdt: the model's fields do not fit together", bad.predict, bad, xb)
bad = crafted(g, {trees_per_round = 2.5})
expect_error("gbdt: the model's fields do not fit together", bad.predict, bad, xb)
bad = crafted(g, {base_score = {0 / 0}})
expect_error("gbdt: the model's base_score is not finite", bad.predict_proba, bad, xb)
-- two nodes naming the same children: not a tree
local t = g.trees
check(t[1][1] ~= 0 and t[2][1] ~= 0, "the first tree's root and its left child split")
t[2][4], t[2][5] = t[1][4], t[1][5]
bad = crafted(g, {trees = t})
expect_error("gbdt: the model's trees are malformed at row 2", bad.predict, bad, xb)
-- printing a model is a use too: its summary walked a node that leads back to
-- itself for ever (the stack grew until memory ran out). A count hook stops
-- a walk that does not end instead of hanging the test.
local function shown(model)
  debug.sethook(function() debug.sethook(); error("wb.show did not end", 2) end, "", 50000000)
  local ok, text = pcall(wb.show, model)
  debug.sethook()
  check(ok, "wb.show of a damaged model: " .. tostring(text))
  return text
end
local good = shown(g)
check(good:find("3 trees, ", 1, true) and not good:find("malformed", 1, true), "a good model's summary:\n" .. good)
-- a node leading back to itself; a child shared by two nodes after them (row
-- 3, the root's right child, also row 2's left); children in the next tree
-- (which starts at row 22): two leaves of it, so that only the tree's bounds
-- tell
local loop, shared, next_tree = g.trees, g.trees, g.trees
check(g.tree_start[2] == 22 and g.tree_start[3] == 47 and loop[1][4] == 2 and loop[1][5] == 3,
      "the first tree's rows 1 to 21, 1 -> 2, 3")
local leaves2
for q = 22, 46 do
  local r = next_tree[q]
  if r[1] ~= 0 and next_tree[r[4]][1] == 0 and next_tree[r[5]][1] == 0 then leaves2 = {r[4], r[5]} end
end
check(leaves2, "two sibling leaves in the second tree")
loop[1][4], loop[1][5] = 1, 2
shared[2][4], shared[2][5] = 3, 4
next_tree[2][4], next_tree[2][5] = leaves2[1], leaves2[2]
for _, tr in ipairs{loop, t, shared, next_tree} do
  bad = crafted(g, {trees = tr})
  local text = shown(bad)
  check(text:find("3 trees, malformed (a node's children are not after it in its tree, or shared)", 1, true),
        "a damaged gbdt model's summary says so:\n" .. text)
end

-- kmeans, the scaler and pipelines
local km = wb.fit("kmeans", x, {k = 3, seed = 1})
local c = km.centers
c[2][2] = math.huge
bad = crafted(km, {centers = c})
expect_error("kmeans: malformed model: 'centers' holds NaN or Inf (row 2)", bad.predict, bad, x)
bad = crafted(km, {centers = {{}}})
expect_error("kmeans: malformed model: 'centers' is 1 x 0", bad.transform, bad, x)
local sc = wb.fit("scaler", x, {})
bad = crafted(sc, {scale = {1, 2}})
expect_error("scaler: malformed model: 'mean' holds 4 values, 'scale' 2", bad.transform, bad, x)
bad = crafted(sc, {scale = {1, 0, 1, 1}})
expect_error("scaler: malformed model: column 2 has mean", bad.inverse_transform, bad, x)
local pipe = wb.fit(wb.pipeline{{"scaler"}, {"logreg", {max_iter = 50}}}, xb)
check(pipe:score(xb) > 0.4, "a working pipeline")
print("model_untrusted: ok")
os.remove(path)
