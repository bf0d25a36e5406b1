-- bench/classify.lua DIR [REPEATS] [STEPS]: the classification workloads of the
-- scikit-learn peer on the same data (DIR/train.npy, DIR/test.npy written by
-- bench/classify_data.py): logistic regression (wb's default solver and
-- L-BFGS), SGD 5 epochs (hinge, as scikit-learn's SGDClassifier defaults),
-- grid search of logreg C x penalty with 3 folds. Prints one JSON line per
-- step (median seconds of REPEATS runs, held-out accuracy). STEPS: a comma
-- list of lr, sgd, grid (default all). Run by bench/classify.sh, which runs
-- the peer in the same invocation, alternating with wb.
local dir = arg[1] or error("usage: wb bench/classify.lua DIR [REPEATS] [lr,sgd,grid]")
local reps = tonumber(arg[2] or "3")
local steps = {}
for s in (arg[3] or "lr,sgd,grid"):gmatch("[^,]+") do steps[s] = true end
local T = require("wb.table")

local function median(t)
  table.sort(t)
  return t[(#t + 1) // 2]
end
local function out(rec)
  rec.tool = "wb"
  rec.threads = wb.threads()
  print(T.json_value(rec))
end

local t0 = wb.now()
local train = wb.load(dir .. "/train.npy")
local test = wb.load(dir .. "/test.npy")
out{step = "load", seconds = wb.now() - t0, rows = train:rows() + test:rows(), cols = train:cols()}

local function timed_fit(name, params)
  local times, m = {}, nil
  for i = 1, reps do
    collectgarbage()
    local t = wb.now()
    m = wb.fit(name, train, params)
    times[i] = wb.now() - t
  end
  return median(times), m
end

if steps.lr then
  local s, m = timed_fit("logreg", {})
  out{step = "lr_fit", solver = m.solver, seconds = s, iterations = m.n_iter, accuracy = m:score(test)}
  s, m = timed_fit("logreg", {solver = "lbfgs"})
  out{step = "lr_lbfgs_fit", solver = m.solver, seconds = s, iterations = m.n_iter, accuracy = m:score(test)}
end
if steps.sgd then
  local s, m = timed_fit("sgd", {epochs = 5, tol = false})
  out{step = "sgd_fit", seconds = s, epochs = m.n_iter, shards = m.shards_used, accuracy = m:score(test)}
end
if not steps.grid then return end

local t = wb.now()
local g = wb.gridsearch("logreg", train, {C = {0.01, 0.1, 1, 10}, penalty = {"l1", "l2"}}, {folds = 3, metric = "accuracy"})
out{step = "grid_fit", seconds = wb.now() - t, best = g.best_params, score = g.best_score, refit_seconds = g.refit_time}
io.stderr:write(tostring(g.results), "\n")
