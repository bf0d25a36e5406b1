-- gbdt: every growth parameter is honoured by the trees it grows (depth,
-- leaves, rows and hessian per leaf, split gain, L2 term, row and column
-- sampling), read back from the model's tree table
package.path = (debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or ".") .. "/lib/?.lua;" .. package.path
local TL = require("testlib")
local check = TL.check
local d = wb.datagen.classification{n = 20000, features = 8, informative = 4, redundant = 2, seed = 21}

-- per tree: max leaf depth, leaf count, smallest leaf count and cover, the
-- features it splits on, the root's count
local function trees_of(m)
  local T, st, out = m.trees, m.tree_start, {}
  for t = 1, #st - 1 do
    local depth, info = {[st[t]] = 0}, {depth = 0, leaves = 0, min_count = math.huge, min_cover = math.huge,
                                        feats = {}, root = T[st[t]][8], values = {}}
    for i = st[t], st[t + 1] - 1 do
      local r = T[i]
      if r[1] > 0 then
        depth[r[4]], depth[r[5]] = depth[i] + 1, depth[i] + 1
        info.feats[r[1]] = true
      else
        info.leaves = info.leaves + 1
        info.depth = math.max(info.depth, depth[i])
        info.min_count = math.min(info.min_count, r[8])
        info.min_cover = math.min(info.min_cover, r[7])
        info.values[#info.values + 1] = r[6]
      end
    end
    out[t] = info
  end
  return out
end

-- max_depth and max_leaves, in wave mode (depth limit decides) and best-first
for _, P in ipairs{{max_depth = 3, max_leaves = 8}, {max_depth = 4, max_leaves = 9}, {max_depth = 0, max_leaves = 5}} do
  local m = wb.fit("gbdt", d, {n_trees = 5, max_depth = P.max_depth, max_leaves = P.max_leaves, min_samples_leaf = 1})
  local deepest, most = 0, 0
  for _, t in ipairs(trees_of(m)) do
    deepest, most = math.max(deepest, t.depth), math.max(most, t.leaves)
    if P.max_depth > 0 then check(t.depth <= P.max_depth, "max_depth " .. P.max_depth .. ": a leaf at depth " .. t.depth) end
    check(t.leaves <= P.max_leaves, "max_leaves " .. P.max_leaves .. ": " .. t.leaves .. " leaves")
  end
  -- the limits bind on this data (the trees are as big as allowed)
  check(most == P.max_leaves, "some tree reaches max_leaves " .. P.max_leaves .. ", got " .. most)
  if P.max_depth > 0 then check(deepest == P.max_depth, "some leaf at max_depth " .. P.max_depth) end
end

-- min_samples_leaf and min_child_weight
local m = wb.fit("gbdt", d, {n_trees = 5, max_leaves = 63, min_samples_leaf = 700})
for _, t in ipairs(trees_of(m)) do check(t.min_count >= 700, "min_samples_leaf 700: a leaf of " .. t.min_count) end
m = wb.fit("gbdt", d, {n_trees = 5, max_leaves = 63, min_samples_leaf = 1, min_child_weight = 150})
local smallest = math.huge
for _, t in ipairs(trees_of(m)) do
  check(t.min_cover >= 150, "min_child_weight 150: a leaf of hessian " .. t.min_cover)
  smallest = math.min(smallest, t.min_count)
end
check(smallest >= 600, "hessian <= 1/4 a row: at least 600 rows a leaf, got " .. smallest)

-- min_split_gain: a gain nothing reaches gives stumps
m = wb.fit("gbdt", d, {n_trees = 3, min_split_gain = 1e12})
for _, t in ipairs(trees_of(m)) do check(t.leaves == 1, "min_split_gain 1e12: stumps") end
check(m.feature_importance_split[1] == 0, "no splits counted")

-- lambda_l2: leaf value = -G / (H + lambda) * learning rate. The first
-- tree's two leaves hold all the rows, so G_left + G_right is the gradient
-- sum of every row whatever the split: recovered from both fits, it agrees
local function grad_sum(l2)
  local mm = wb.fit("gbdt", d, {n_trees = 1, max_depth = 1, max_leaves = 2, lambda_l2 = l2, min_samples_leaf = 1,
                                learning_rate = 0.5})
  local T = mm.trees
  check(T[1][1] > 0 and T[2][1] == 0 and T[3][1] == 0, "one split")
  return -(T[2][6] * (T[2][7] + l2) + T[3][6] * (T[3][7] + l2)) / 0.5, T[2][6]
end
local g0, v0 = grad_sum(0)
local g1, v1 = grad_sum(5000)
check(math.abs(g1 - g0) < 1e-6 * math.abs(g0), string.format("leaf values follow -G/(H+lambda): %.9g vs %.9g", g0, g1))
check(math.abs(v1) < math.abs(v0), "lambda shrinks the leaves")

-- subsample: each tree's root holds about that share of the rows, drawn anew
m = wb.fit("gbdt", d, {n_trees = 4, subsample = 0.3, seed = 7})
local roots = {}
for i, t in ipairs(trees_of(m)) do
  roots[i] = t.root
  check(math.abs(t.root - 6000) < 400, "subsample 0.3 of 20000 rows: root of " .. t.root)
end
check(roots[1] ~= roots[2] or roots[2] ~= roots[3], "a new draw every round")

-- colsample: a round's tree splits only on its share of the features
m = wb.fit("gbdt", d, {n_trees = 6, colsample = 0.25, max_leaves = 31, seed = 3})
local union = {}
for _, t in ipairs(trees_of(m)) do
  local n = 0
  for f in pairs(t.feats) do n = n + 1; union[f] = true end
  check(n <= 2, "colsample 0.25 of 8 features: a tree on " .. n .. " features")
end
local nu = 0
for _ in pairs(union) do nu = nu + 1 end
check(nu > 2, "other features in other rounds")
print("gbdt_params: ok")
