-- bench/gbdt_shapes.lua DIR CONF [THREADS]: one gbdt fit on DIR/train.npy
-- (bench/gbdt_data.py) at XGBoost's settings (100 trees, learning rate 0.3,
-- lambda_l2 1, min_child_weight 1, one row a leaf allowed, 255 bins), held-out
-- accuracy on DIR/test.npy. CONF: "depth6" (max_depth 6, up to 64 leaves),
-- "depth8" (max_depth 8, up to 256 leaves) or "leaves255" (255 leaves
-- best-first, no depth limit). One JSON line: wall and CPU seconds of the
-- fit (all threads: os.clock), leaves grown per tree, accuracy, peak RSS.
local dir, conf, threads = arg[1], arg[2], tonumber(arg[3] or "2")
if not dir or not conf then error("usage: wb bench/gbdt_shapes.lua DIR depth6|depth8|leaves255 [THREADS]", 0) end
local base = {n_trees = 100, learning_rate = 0.3, lambda_l2 = 1, min_child_weight = 1, min_samples_leaf = 1,
              max_bins = 255}
local shapes = {depth6 = {max_depth = 6, max_leaves = 64}, depth8 = {max_depth = 8, max_leaves = 256},
                leaves255 = {max_depth = 0, max_leaves = 255}}
local P = assert(shapes[conf], "CONF must be depth6, depth8 or leaves255")
for k, v in pairs(base) do P[k] = v end
wb.threads(threads)
local tr, te = wb.load(dir .. "/train.npy"), wb.load(dir .. "/test.npy")
collectgarbage()
local t, c = wb.now(), os.clock()
local m = wb.fit("gbdt", tr, P)
local wall, cpu = wb.now() - t, os.clock() - c
local leaves, T = 0, m.trees
for i = 1, #T do if T[i][1] == 0 then leaves = leaves + 1 end end
print(require("wb.table").json_value{tool = "wb", conf = conf, threads = threads, seconds = wall, cpu_seconds = cpu,
                          leaves_per_tree = leaves / (#m.tree_start - 1), accuracy = m:score(te),
                          peak_mb = wb.core.peak_rss() / 2 ^ 20})
